/*
 * test_tokenizer.c - the BM25 analyser: the FTS5 tokenizer "askdocs" with
 * mecab-ko-dic and in bigram mode, the query builder against hostile input,
 * highlight() offsets, errors for a bad dictionary, and a throughput figure
 * (printed, not asserted).
 *
 * Usage: test_tokenizer MECAB_KO_DIC_DIR
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "idx_internal.h"

#include "check.h"

/* ------------------------------------------------------------- helpers */
typedef struct terms_acc {
    char s[4096];
    size_t len, text_len;
    int n, bad_offsets;
    const char *text;
} terms_acc;

static int acc_cb(void *user, const char *term, size_t len, size_t start,
                  size_t end)
{
    terms_acc *a = user;
    if (end <= start || end > a->text_len ||
        ((unsigned char)a->text[start] & 0xC0) == 0x80 ||
        (end < a->text_len && ((unsigned char)a->text[end] & 0xC0) == 0x80))
        a->bad_offsets++;
    if (a->len + len + 2 < sizeof(a->s)) {
        if (a->len)
            a->s[a->len++] = ' ';
        memcpy(a->s + a->len, term, len);
        a->len += len;
        a->s[a->len] = '\0';
    }
    a->n++;
    return 0;
}

/* The terms of text, space-separated (static buffer: one use at a time). */
static const char *terms_of(idx_analyzer *a, const char *text, size_t n)
{
    static terms_acc acc;
    memset(&acc, 0, sizeof(acc));
    acc.text = text;
    acc.text_len = n;
    if (idx_analyzer_terms(a, text, n, 0, acc_cb, &acc) != ASKDOCS_OK)
        return "(error)";
    if (acc.bad_offsets)
        return "(bad offsets)";
    return acc.s;
}
#define TERMS(a, s) terms_of((a), (s), strlen(s))

/* 1 if term is one of the space-separated words of list */
static int has_word(const char *list, const char *term)
{
    size_t n = strlen(term);
    const char *p = list;
    while ((p = strstr(p, term)) != NULL) {
        if ((p == list || p[-1] == ' ') && (p[n] == ' ' || p[n] == '\0'))
            return 1;
        p += n;
    }
    return 0;
}

static sqlite3 *db_open(idx_analyzer *a)
{
    sqlite3 *db = NULL;
    if (sqlite3_open(":memory:", &db) != SQLITE_OK)
        return NULL;
    if (idx_analyzer_register(a, db) != ASKDOCS_OK ||
        sqlite3_exec(db, "CREATE VIRTUAL TABLE t USING fts5(x, tokenize='askdocs')",
                     NULL, NULL, NULL) != SQLITE_OK) {
        fprintf(stderr, "db_open: %s\n", sqlite3_errmsg(db));
        sqlite3_close(db);
        return NULL;
    }
    return db;
}

static int insert(sqlite3 *db, int id, const char *text, size_t n)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db, "INSERT INTO t(rowid, x) VALUES (?1, ?2)",
                                -1, &st, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_bind_int(st, 1, id);
        sqlite3_bind_text(st, 2, text, (int)n, SQLITE_STATIC);
        rc = sqlite3_step(st) == SQLITE_DONE ? SQLITE_OK : SQLITE_ERROR;
    }
    if (rc != SQLITE_OK)
        fprintf(stderr, "insert %d: %s\n", id, sqlite3_errmsg(db));
    sqlite3_finalize(st);
    return rc;
}

/* Bit mask of the rowids (< 63) a raw MATCH expression finds; -1 on an SQL
 * error, 0 when expr is empty. */
static long long run_match(sqlite3 *db, const char *expr)
{
    sqlite3_stmt *st = NULL;
    long long mask = 0;
    int rc;
    if (!expr[0])
        return 0;
    if (sqlite3_prepare_v2(db, "SELECT rowid FROM t WHERE t MATCH ?1", -1,
                           &st, NULL) != SQLITE_OK)
        return -1;
    sqlite3_bind_text(st, 1, expr, -1, SQLITE_TRANSIENT);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        long long id = sqlite3_column_int64(st, 0);
        if (id >= 0 && id < 63)
            mask |= 1LL << id;
    }
    if (rc != SQLITE_DONE) {
        fprintf(stderr, "MATCH %.200s: %s\n", expr, sqlite3_errmsg(db));
        mask = -1;
    }
    sqlite3_finalize(st);
    return mask;
}

/* Rowids found for the user query q[0..n) through idx_analyzer_match. */
static long long query_n(sqlite3 *db, idx_analyzer *a, const char *q, size_t n)
{
    askdocs_buf b;
    long long m;
    askdocs_buf_init(&b, 1 << 20);
    if (idx_analyzer_match(a, q, n, &b) != ASKDOCS_OK) {
        askdocs_buf_free(&b);
        return -2;
    }
    m = run_match(db, b.data ? b.data : "");
    askdocs_buf_free(&b);
    return m;
}
#define QUERY(db, a, q) query_n((db), (a), (q), strlen(q))
#define BIT(i) (1LL << (i))

/* highlight() of rowid id for user query q, into out. */
static void highlight(sqlite3 *db, idx_analyzer *a, const char *q, int id,
                      char *out, size_t cap)
{
    askdocs_buf b;
    sqlite3_stmt *st = NULL;
    out[0] = '\0';
    askdocs_buf_init(&b, 1 << 16);
    if (idx_analyzer_match(a, q, strlen(q), &b) == ASKDOCS_OK && b.data &&
        sqlite3_prepare_v2(db,
                           "SELECT highlight(t, 0, '[', ']') FROM t "
                           "WHERE t MATCH ?1 AND rowid = ?2",
                           -1, &st, NULL) == SQLITE_OK) {
        sqlite3_bind_text(st, 1, b.data, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int(st, 2, id);
        if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
            askdocs_snprintf(out, cap, "%s",
                             (const char *)sqlite3_column_text(st, 0));
    }
    sqlite3_finalize(st);
    askdocs_buf_free(&b);
}

/* 1 if every document's highlight() for q, brackets removed, is the
 * document again: the offsets cut the text at character boundaries, in
 * order, without overlaps. */
static int highlight_intact(sqlite3 *db, idx_analyzer *a, const char *q,
                            const char *const *texts, int n)
{
    int i, ok = 1;
    for (i = 1; i < n; i++) {
        char hl[1024], plain[1024];
        size_t k, o = 0;
        if (!texts[i])
            continue;
        highlight(db, a, q, i, hl, sizeof(hl));
        if (!hl[0])
            continue; /* not found */
        for (k = 0; hl[k] && o + 1 < sizeof(plain); k++)
            if (hl[k] != '[' && hl[k] != ']')
                plain[o++] = hl[k];
        plain[o] = '\0';
        if (strcmp(plain, texts[i]) != 0) {
            fprintf(stderr, "highlight(%s) of %d: %s\n", q, i, hl);
            ok = 0;
        }
    }
    return ok;
}

/* Number of quoted terms in an expression built by idx_analyzer_match. */
static int count_terms(const char *e)
{
    int q = 0;
    for (; *e; e++)
        if (*e == '"')
            q++;
    return q / 2;
}

/* ------------------------------------------------------------ fixtures */
/* "서울" written as conjoining jamo (decomposed, as some PDFs carry it) */
#define NFD_SEOUL "\xE1\x84\x89\xE1\x85\xA5\xE1\x84\x8B\xE1\x85\xAE\xE1\x86\xAF"

static const char *const docs[] = {
    [1] = "대한민국의 수도는 서울이다.",
    [2] = "국립중앙도서관에서 책을 빌렸다.",
    [3] = "근로기준법 제12조에 따라 해고할 수 없다.",
    [4] = "총 1,234,000원을 지급한다.",
    [5] = "The contracts were terminated yesterday.",
    [6] = "ＡＢＣ 주식회사의 보고서",
    [7] = "제 3 항 및 제2호를 적용한다.",
    [8] = "이율은 연 3.5퍼센트이다.",
    [9] = "부산에서 " NFD_SEOUL "까지 기차로 갔다.",
    [10] = "아름다운 꽃이 피었다.",
    [11] = "12조 위반의 경우",
    [12] = "제 12 조 위반의 경우",
    [13] = "Café naïve résumé",
};
#define NDOCS ((int)(sizeof(docs) / sizeof(*docs)))

static sqlite3 *db_with_docs(idx_analyzer *a)
{
    sqlite3 *db = db_open(a);
    int i;
    if (!db)
        return NULL;
    for (i = 1; i < NDOCS; i++)
        if (docs[i] && insert(db, i, docs[i], strlen(docs[i])) != SQLITE_OK) {
            sqlite3_close(db);
            return NULL;
        }
    return db;
}

/* ---------------------------------------------------------------- tests */
static void test_terms_mecab(idx_analyzer *a)
{
    const char *t;
    t = TERMS(a, "학교에서");
    CHECK(has_word(t, "학교"));
    CHECK(!has_word(t, "에서"));
    t = TERMS(a, "대한민국의 수도는 서울이다");
    printf("terms(대한민국의 수도는 서울이다) = %s\n", t);
    CHECK(has_word(t, "대한민국") && has_word(t, "대한") &&
          has_word(t, "민국") && has_word(t, "수도") && has_word(t, "서울"));
    CHECK(!has_word(t, "의") && !has_word(t, "는") && !has_word(t, "이") &&
          !has_word(t, "다"));
    t = TERMS(a, "국립중앙도서관에서");
    printf("terms(국립중앙도서관에서) = %s\n", t);
    CHECK(has_word(t, "국립중앙도서관") && has_word(t, "국립") &&
          has_word(t, "중앙") && has_word(t, "도서"));
    CHECK(strcmp(TERMS(a, "제12조"), "12 조") == 0);
    CHECK(strcmp(TERMS(a, "12조"), "12 조") == 0);
    CHECK(strcmp(TERMS(a, "제 12 조"), "12 조") == 0);
    CHECK(strcmp(TERMS(a, "제12조의2"), "12 조 2") == 0);
    CHECK(strcmp(TERMS(a, "제3항"), "3 항") == 0);
    CHECK(strcmp(TERMS(a, "제2호"), "2 호") == 0);
    CHECK(strcmp(TERMS(a, "1,234,000"), "1234000") == 0);
    CHECK(strcmp(TERMS(a, "1234000"), "1234000") == 0);
    CHECK(strcmp(TERMS(a, "3.5"), "3.5") == 0);
    CHECK(strcmp(TERMS(a, "3.50"), "3.5") == 0);
    CHECK(strcmp(TERMS(a, "2024.03.01"), "2024 3 1") == 0);
    CHECK(strcmp(TERMS(a, "1,23"), "1 23") == 0);
    CHECK(strcmp(TERMS(a, "①"), "1") == 0);
    t = TERMS(a, "아름다운 꽃이 피었다");
    printf("terms(아름다운 꽃이 피었다) = %s\n", t);
    CHECK(has_word(t, "아름답다") && has_word(t, "꽃") && has_word(t, "피다"));
    t = TERMS(a, "먹었습니다");
    CHECK(strcmp(t, "먹다") == 0);
    t = TERMS(a, "공부하였습니다");
    CHECK(strcmp(t, "공부") == 0); /* 하 (XSV) dropped */
    t = TERMS(a, "깨끗하다");
    CHECK(strcmp(t, "깨끗") == 0); /* XR root */
    t = TERMS(a, "contracts terminated termination");
    printf("terms(contracts terminated termination) = %s\n", t);
    CHECK(strcmp(t, "contract termin termin") == 0);
    CHECK(strcmp(TERMS(a, "ＡＢＣ"), "abc") == 0);
    CHECK(strcmp(TERMS(a, "Don't"), "dont") == 0);
    CHECK(strcmp(TERMS(a, "Café"), "cafe") == 0);
    CHECK(strcmp(TERMS(a, "大韓民國"), "大 韓 民 國") == 0);
    CHECK(strcmp(TERMS(a, "カタカナ"), "カタ タカ カナ") == 0);
    CHECK(strcmp(TERMS(a, "mp3 x86"), "mp3 x86") == 0);
    t = TERMS(a, NFD_SEOUL "에");
    CHECK(strcmp(t, "서울") == 0);
    /* offsets of every term lie on character boundaries of the input */
    t = TERMS(a, "근로기준법 제12조에 따라, ＡＢＣ 1,234,000원과 大韓民國 "
                 NFD_SEOUL "까지 café");
    CHECK(t[0] != '(');
    CHECK(strcmp(TERMS(a, ""), "") == 0);
    CHECK(strcmp(TERMS(a, "!!! ... ,,, ???"), "") == 0);
}

/* British and American spellings give the same terms */
static void test_spelling(idx_analyzer *a)
{
    static const char *const pairs[][2] = {
        {"Authorised Persons", "authorized persons"},
        {"organisation", "organization"}, {"recognised", "recognized"},
        {"analyse", "analyze"}, {"behaviour", "behavior"},
        {"labour", "labor"}, {"centre", "center"}, {"licence", "license"},
        {"defences", "defenses"}, {"judgement", "judgment"},
        {"programme", "program"}, {"utilisation", "utilization"}};
    char a1[4096], a2[4096];
    size_t i;
    for (i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++) {
        snprintf(a1, sizeof(a1), "%s", TERMS(a, pairs[i][0]));
        snprintf(a2, sizeof(a2), "%s", TERMS(a, pairs[i][1]));
        CHECK(strcmp(a1, a2) == 0 && a1[0]);
        if (strcmp(a1, a2) != 0)
            printf("  %s -> %s, %s -> %s\n", pairs[i][0], a1, pairs[i][1], a2);
    }
    /* short words and words that only look alike stay apart */
    snprintf(a1, sizeof(a1), "%s", TERMS(a, "four hours"));
    snprintf(a2, sizeof(a2), "%s", TERMS(a, "for hors"));
    CHECK(strcmp(a1, a2) != 0);
    snprintf(a1, sizeof(a1), "%s", TERMS(a, "size"));
    snprintf(a2, sizeof(a2), "%s", TERMS(a, "sise"));
    CHECK(strcmp(a1, a2) != 0);
}

static void test_fts(idx_analyzer *a)
{
    sqlite3 *db = db_with_docs(a);
    char hl[512];
    CHECK(db != NULL);
    if (!db)
        return;
    CHECK(QUERY(db, a, "서울") == (BIT(1) | BIT(9)));
    CHECK(QUERY(db, a, "대한민국은") == BIT(1));
    CHECK(QUERY(db, a, "수도") == BIT(1));
    /* compound: whole, parts, and phrases of the parts */
    CHECK(QUERY(db, a, "국립중앙도서관") == BIT(2));
    CHECK(QUERY(db, a, "도서관") == BIT(2));
    CHECK(QUERY(db, a, "중앙") == BIT(2));
    CHECK(run_match(db, "\"국립 중앙\"") == BIT(2));
    CHECK(run_match(db, "\"중앙 도서\"") == BIT(2));
    CHECK(run_match(db, "\"중앙 도서관\"") == BIT(2));
    /* statute numbering, all ways round */
    CHECK((QUERY(db, a, "제12조") & (BIT(3) | BIT(11) | BIT(12))) ==
          (BIT(3) | BIT(11) | BIT(12)));
    CHECK((QUERY(db, a, "12조") & (BIT(3) | BIT(11) | BIT(12))) ==
          (BIT(3) | BIT(11) | BIT(12)));
    CHECK((QUERY(db, a, "제 12 조") & (BIT(3) | BIT(11) | BIT(12))) ==
          (BIT(3) | BIT(11) | BIT(12)));
    CHECK(run_match(db, "\"12 조\"") == (BIT(3) | BIT(11) | BIT(12)));
    CHECK((QUERY(db, a, "제3항") & BIT(7)) != 0);
    CHECK((QUERY(db, a, "2호") & BIT(7)) != 0);
    CHECK(QUERY(db, a, "1234000") == BIT(4));
    CHECK(QUERY(db, a, "1,234,000원") == BIT(4));
    CHECK(QUERY(db, a, "3.5") == BIT(8));
    CHECK(QUERY(db, a, "contract termination") == BIT(5));
    CHECK(QUERY(db, a, "abc") == BIT(6));
    CHECK(QUERY(db, a, "ＡＢＣ") == BIT(6));
    CHECK(QUERY(db, a, "아름답다") == BIT(10));
    CHECK(QUERY(db, a, "아름다운") == BIT(10));
    CHECK(QUERY(db, a, "resume NAIVE") == BIT(13));
    /* particles and endings alone find nothing */
    CHECK(QUERY(db, a, "에서") == 0);
    /* highlight(): offsets into the original text */
    highlight(db, a, "서울", 1, hl, sizeof(hl));
    printf("highlight(서울) = %s\n", hl);
    CHECK(strcmp(hl, "대한민국의 수도는 [서울]이다.") == 0);
    highlight(db, a, "대한민국", 1, hl, sizeof(hl));
    printf("highlight(대한민국) = %s\n", hl);
    CHECK(strcmp(hl, "[대한][민국]의 수도는 서울이다.") == 0);
    highlight(db, a, "도서관", 2, hl, sizeof(hl));
    printf("highlight(도서관) = %s\n", hl);
    CHECK(strcmp(hl, "국립중앙[도서][관]에서 책을 빌렸다.") == 0);
    highlight(db, a, "서울", 9, hl, sizeof(hl));
    CHECK(strcmp(hl, "부산에서 [" NFD_SEOUL "]까지 기차로 갔다.") == 0);
    highlight(db, a, "1234000", 4, hl, sizeof(hl));
    CHECK(strcmp(hl, "총 [1,234,000]원을 지급한다.") == 0);
    highlight(db, a, "terminate", 5, hl, sizeof(hl));
    CHECK(strcmp(hl, "The contracts were [terminated] yesterday.") == 0);
    {
        static const char *const qs[] = {
            "대한민국은 서울", "국립중앙도서관 책", "12조 위반", "제3항 2호",
            "1,234,000원", "contracts terminated yesterday", "abc 보고서",
            "부산 서울 기차", "아름다운 꽃", "3.5퍼센트", "café résumé",
        };
        size_t k;
        for (k = 0; k < sizeof(qs) / sizeof(*qs); k++)
            CHECK(highlight_intact(db, a, qs[k], docs, NDOCS));
    }
    /* options are refused */
    CHECK(sqlite3_exec(db,
                       "CREATE VIRTUAL TABLE u USING fts5(x, tokenize='askdocs x')",
                       NULL, NULL, NULL) != SQLITE_OK);
    sqlite3_close(db);
}

static void test_match_expr(idx_analyzer *a)
{
    askdocs_buf b;
    sqlite3 *db = db_with_docs(a);
    static const char *const hostile[] = {
        "\"", "\"\"", "NEAR(", "NEAR(서울 대한민국, 2)", "text:secret",
        "x:secret", "*", ") OR (", "(", ")", "AND", "OR", "NOT", "서울 NOT 부산",
        "^서울", "서울*", "\"서울\" OR", "{x}: 서울", "- + ^ * : ( ) \" '",
        "\xEE\x80\x80", "\xEE\x80\x80\" OR x:*", "\xFF\xFE\xC3", "\xE2\x80",
    };
    size_t k;
    char *garbage;
    CHECK(db != NULL);
    if (!db)
        return;
    askdocs_buf_init(&b, 1 << 20);
    for (k = 0; k < sizeof(hostile) / sizeof(*hostile); k++) {
        long long m = QUERY(db, a, hostile[k]);
        if (m < 0)
            fprintf(stderr, "hostile query %zu failed\n", k);
        CHECK(m >= 0);
    }
    CHECK((QUERY(db, a, "NEAR(서울 대한민국, 2)") & BIT(1)) != 0);
    /* embedded NUL: both sides of it are analysed, nothing breaks */
    CHECK(query_n(db, a, "서울\0secret", 12) == (BIT(1) | BIT(9)));
    /* 100 KB of garbage bytes (fixed seed) */
    garbage = malloc(100 << 10);
    CHECK(garbage != NULL);
    if (garbage) {
        unsigned x = 12345;
        size_t i;
        for (i = 0; i < (100 << 10); i++) {
            x = x * 1103515245u + 12345u;
            garbage[i] = (char)(x >> 16);
        }
        CHECK(query_n(db, a, garbage, 100 << 10) >= 0);
        askdocs_buf_reset(&b);
        CHECK(idx_analyzer_match(a, garbage, 100 << 10, &b) == ASKDOCS_OK);
        CHECK(count_terms(b.data) <= 64);
        free(garbage);
    }
    /* at most 64 distinct terms, duplicates removed */
    {
        char q[4096];
        size_t len = 0;
        int i;
        for (i = 0; i < 200; i++)
            len += (size_t)snprintf(q + len, sizeof(q) - len, "w%d ", i);
        askdocs_buf_reset(&b);
        CHECK(idx_analyzer_match(a, q, len, &b) == ASKDOCS_OK);
        CHECK(count_terms(b.data) == 64);
        CHECK(run_match(db, b.data) >= 0);
    }
    askdocs_buf_reset(&b);
    CHECK(idx_analyzer_match(a, "서울 서울 서울에 서울은", 31, &b) == ASKDOCS_OK);
    CHECK(strcmp(b.data, "\"\xEE\x80\x80서울\"") == 0);
    askdocs_buf_reset(&b);
    CHECK(idx_analyzer_match(a, "the contract of the", 19, &b) == ASKDOCS_OK);
    CHECK(strcmp(b.data, "\"\xEE\x80\x80" "contract\"") == 0);
    askdocs_buf_reset(&b);
    CHECK(idx_analyzer_match(a, "the", 3, &b) == ASKDOCS_OK);
    CHECK(strcmp(b.data, "\"\xEE\x80\x80the\"") == 0); /* only stop words */
    askdocs_buf_reset(&b);
    CHECK(idx_analyzer_match(a, "!!! ???", 7, &b) == ASKDOCS_OK);
    CHECK(b.len == 0);
    /* the marker re-tokenizes to exactly the term (no re-analysis) */
    CHECK(run_match(db, "\"\xEE\x80\x80" "contract\"") == BIT(5));
    CHECK(run_match(db, "\"\xEE\x80\x80먹다\"") == 0);
    /* a capped output buffer: an error and no half expression */
    {
        askdocs_buf small;
        askdocs_buf_init(&small, 10);
        CHECK(idx_analyzer_match(a, "서울 대한민국 부산", 24, &small) ==
              ASKDOCS_ERR_TOOBIG);
        CHECK(small.len == 0);
        askdocs_buf_free(&small);
    }
    /* failed allocations: an error, never a crash or a leak */
    {
        long n;
        for (n = 0; n < 4; n++) {
            askdocs_rc rc;
            askdocs_buf_reset(&b);
            askdocs_alloc_fail_after(n);
            rc = idx_analyzer_match(a, "서울 대한민국", 19, &b);
            askdocs_alloc_fail_after(-1);
            CHECK(rc == ASKDOCS_OK || rc == ASKDOCS_ERR_NOMEM);
        }
    }
    askdocs_buf_free(&b);
    sqlite3_close(db);
}

static void test_bigram(void)
{
    idx_analyzer *a = NULL;
    char err[256];
    sqlite3 *db;
    const char *t;
    CHECK(idx_analyzer_create("", &a, err, sizeof(err)) == ASKDOCS_OK);
    if (!a)
        return;
    CHECK(strcmp(idx_analyzer_name(a), "bigram") == 0);
    t = TERMS(a, "대한민국의 수도는 서울이다");
    printf("bigram terms = %s\n", t);
    CHECK(strcmp(t, "대한 한민 민국 국의 수도 도는 서울 울이 이다") == 0);
    CHECK(strcmp(TERMS(a, "제12조"), "12 조") == 0);
    CHECK(strcmp(TERMS(a, "제 12 조"), "12 조") == 0);
    CHECK(strcmp(TERMS(a, "집"), "집") == 0);
    db = db_with_docs(a);
    CHECK(db != NULL);
    if (db) {
        char hl[256];
        CHECK((QUERY(db, a, "서울") & BIT(1)) != 0);
        CHECK((QUERY(db, a, "대한민국은") & BIT(1)) != 0);
        CHECK((QUERY(db, a, "12조") & (BIT(3) | BIT(11) | BIT(12))) ==
              (BIT(3) | BIT(11) | BIT(12)));
        CHECK(QUERY(db, a, "1234000") == BIT(4));
        CHECK(QUERY(db, a, ") OR (") == 0);
        highlight(db, a, "서울", 1, hl, sizeof(hl));
        CHECK(strcmp(hl, "대한민국의 수도는 [서울]이다.") == 0);
        CHECK(highlight_intact(db, a, "대한민국은 서울 국립중앙도서관",
                               docs, NDOCS));
        CHECK(highlight_intact(db, a, "한민국 도서관에서 12조", docs, NDOCS));
        sqlite3_close(db);
    }
    idx_analyzer_free(a);
    a = NULL;
    CHECK(idx_analyzer_create(NULL, &a, err, sizeof(err)) == ASKDOCS_OK);
    CHECK(a && strcmp(idx_analyzer_name(a), "bigram") == 0);
    idx_analyzer_free(a);
}

static void test_bad_dict(void)
{
    idx_analyzer *a = NULL;
    char err[512], dir[] = "tok-dict-XXXXXX", path[600];
    FILE *f;
    askdocs_rc rc;
    rc = idx_analyzer_create("no-such-dir/mecab-ko-dic", &a, err,
                             sizeof(err));
    CHECK(rc != ASKDOCS_OK && a == NULL && err[0]);
    printf("missing dictionary: %s\n", err);
    if (!mkdtemp(dir)) {
        CHECK(0);
        return;
    }
    snprintf(path, sizeof(path), "%s/dicrc", dir);
    f = fopen(path, "w");
    if (f) {
        fputs("cost-factor = 800\n", f);
        fclose(f);
    }
    snprintf(path, sizeof(path), "%s/sys.dic", dir);
    f = fopen(path, "w");
    if (f) {
        fputs("this is not a dictionary", f);
        fclose(f);
    }
    rc = idx_analyzer_create(dir, &a, err, sizeof(err));
    CHECK(rc != ASKDOCS_OK && a == NULL && err[0]);
    printf("incomplete dictionary: %s\n", err);
    /* every file present, all of them garbage */
    {
        static const char *const files[] = { "unk.dic", "matrix.bin",
                                             "char.bin" };
        size_t k;
        for (k = 0; k < 3; k++) {
            snprintf(path, sizeof(path), "%s/%s", dir, files[k]);
            f = fopen(path, "w");
            if (f) {
                fputs("garbage garbage garbage garbage", f);
                fclose(f);
            }
        }
        rc = idx_analyzer_create(dir, &a, err, sizeof(err));
        CHECK(rc != ASKDOCS_OK && a == NULL && err[0]);
        printf("broken dictionary: %s\n", err);
        for (k = 0; k < 3; k++) {
            snprintf(path, sizeof(path), "%s/%s", dir, files[k]);
            unlink(path);
        }
    }
    snprintf(path, sizeof(path), "%s/sys.dic", dir);
    unlink(path);
    snprintf(path, sizeof(path), "%s/dicrc", dir);
    unlink(path);
    rmdir(dir);
    idx_analyzer_free(NULL);
    CHECK(strcmp(idx_analyzer_name(NULL), "bigram") == 0);
}

/* Random mixes of every character class (and invalid bytes), long runs of
 * one class: terms stay inside the input on character boundaries, FTS5
 * takes them, highlight() stays intact. */
static void test_fuzz(idx_analyzer *a)
{
    static const char *const pieces[] = {
        "가", "힣", "제", "조", "의", " ", "  ", "\n", "\t", "1", "0", ",",
        ".", "1,234", "3.5", "a", "Z", "'", "\xE2\x80\x99", "é", "e\xCC\x81",
        "Ａ", "１", "，", "カ", "ｶ", "大", "\xE1\x84\x80", "\xE1\x85\xA1",
        "\xE1\x86\xA8", "ㄱ", "①", "\xEE\x80\x80", "\xC2\xAD", "\"",
        "*", "(", ":", "\xFF", "\xE2\x80", "\0", "ß", "ﬁ", "Ⅻ", "\xF0\x9F\x98\x80",
    };
    const size_t np = sizeof(pieces) / sizeof(*pieces);
    sqlite3 *db = db_open(a);
    unsigned x = 777;
    int round;
    askdocs_buf text;
    CHECK(db != NULL);
    if (!db)
        return;
    askdocs_buf_init(&text, 1 << 22);
    for (round = 0; round < 300; round++) {
        int len = 1 + (int)((x >> 8) % 200), k;
        const char *const *one = NULL;
        askdocs_buf_reset(&text);
        for (k = 0; k < len; k++) {
            x = x * 1103515245u + 12345u;
            one = &pieces[(x >> 16) % np];
            /* "\0" is one NUL byte */
            (void)askdocs_buf_append(&text, *one, (*one)[0] ? strlen(*one) : 1);
        }
        {
            const char *t = terms_of(a, text.data, text.len);
            CHECK(t[0] != '(');
        }
        CHECK(insert(db, round + 1, text.data, text.len) == SQLITE_OK);
        CHECK(query_n(db, a, text.data, text.len) >= 0);
    }
    /* long runs of one class (beyond the span, word and number caps) */
    {
        static const char *const runs[] = { "가", "1", "a", "é", "カ", "大",
                                            "가 ", "1,000", "1.", "①" };
        size_t k;
        for (k = 0; k < sizeof(runs) / sizeof(*runs); k++) {
            askdocs_buf_reset(&text);
            while (text.len < (1 << 20) &&
                   askdocs_buf_puts(&text, runs[k]) == ASKDOCS_OK)
                ;
            CHECK(terms_of(a, text.data, text.len)[0] != '(');
            CHECK(insert(db, 1000 + (int)k, text.data, text.len) == SQLITE_OK);
        }
    }
    CHECK(run_match(db, "\"\xEE\x80\x80\xEA\xB0\x80\"") >= 0);
    askdocs_buf_free(&text);
    sqlite3_close(db);
}

/* ------------------------------------------------- threads, throughput */
static const char *const corpus_lines[] = {
    "근로자는 사용자와 대등한 지위에서 자유의사에 따라 근로조건을 결정하여야 한다.",
    "제%d조(목적) 이 법은 헌법에 따라 근로조건의 기준을 정함으로써 근로자의 기본적 생활을 보장한다.",
    "사용자는 근로자에게 정당한 이유 없이 해고, 휴직, 정직, 전직, 감봉을 하지 못한다.",
    "국립중앙도서관은 %d년 %d월에 새로운 디지털 자료실을 열었으며 이용자는 1,%03d명이었다.",
    "The contractor shall deliver the goods within %d days of the order date.",
    "임대차 계약의 갱신을 요구할 수 있으며 보증금은 %d.%d퍼센트를 넘지 못한다.",
};

typedef struct count_acc {
    long n;
    unsigned long long h;
} count_acc;

static int count_cb(void *user, const char *term, size_t len, size_t start,
                    size_t end)
{
    count_acc *c = user;
    size_t i;
    c->n++;
    for (i = 0; i < len; i++)
        c->h = (c->h ^ (unsigned char)term[i]) * 1099511628211ULL;
    c->h = (c->h ^ start ^ (end << 20)) * 1099511628211ULL;
    return 0;
}

/* About `bytes` of Korean text (caller frees); sentences vary by number. */
static char *make_corpus(size_t bytes, size_t *out_len)
{
    askdocs_buf b;
    int i = 0;
    askdocs_buf_init(&b, bytes + 4096);
    while (b.len < bytes) {
        const char *fmt = corpus_lines[i % 6];
        if (askdocs_buf_printf(&b, fmt, i % 97 + 1, 2000 + i % 25, i % 12 + 1,
                               i % 1000) != ASKDOCS_OK ||
            askdocs_buf_puts(&b, i % 5 == 4 ? "\n" : " ") != ASKDOCS_OK)
            break;
        i++;
    }
    *out_len = b.len;
    return askdocs_buf_take(&b);
}

typedef struct thread_arg {
    idx_analyzer *a;
    const char *text;
    size_t n;
    int rounds;
    count_acc acc;
    askdocs_rc rc;
} thread_arg;

static void *thread_main(void *p)
{
    thread_arg *t = p;
    int r;
    for (r = 0; r < t->rounds && t->rc == ASKDOCS_OK; r++) {
        memset(&t->acc, 0, sizeof(t->acc));
        t->rc = idx_analyzer_terms(t->a, t->text, t->n, 0, count_cb, &t->acc);
    }
    return NULL;
}

static void test_threads(idx_analyzer *a)
{
    size_t n;
    char *text = make_corpus(64 << 10, &n);
    thread_arg one, two[2];
    pthread_t th[2];
    int k;
    CHECK(text != NULL);
    if (!text)
        return;
    memset(&one, 0, sizeof(one));
    one.a = a;
    one.text = text;
    one.n = n;
    one.rounds = 1;
    thread_main(&one);
    CHECK(one.rc == ASKDOCS_OK && one.acc.n > 1000);
    for (k = 0; k < 2; k++) {
        two[k] = one;
        two[k].rounds = 3;
        CHECK(pthread_create(&th[k], NULL, thread_main, &two[k]) == 0);
    }
    for (k = 0; k < 2; k++) {
        pthread_join(th[k], NULL);
        CHECK(two[k].rc == ASKDOCS_OK);
        CHECK(two[k].acc.n == one.acc.n && two[k].acc.h == one.acc.h);
    }
    askdocs_free(text);
}

static void throughput(idx_analyzer *a, size_t bytes)
{
    size_t n, off = 0;
    char *text = make_corpus(bytes, &n);
    count_acc acc;
    double t0, ms;
    if (!text)
        return;
    memset(&acc, 0, sizeof(acc));
    t0 = askdocs_now_ms();
    /* chunk-sized calls, as the indexer makes them */
    while (off < n) {
        size_t len = askdocs_utf8_floor(text + off, ASKDOCS_MIN(n - off, 4096));
        if (len == 0)
            break;
        CHECK(idx_analyzer_terms(a, text + off, len, 0, count_cb, &acc) ==
              ASKDOCS_OK);
        off += len;
    }
    ms = askdocs_now_ms() - t0;
    if (ms < 0.001)
        ms = 0.001;
    printf("analyser throughput (%s): %.2f MB in %.0f ms = %.2f MB/s, "
           "%.0f tokens/s (%ld tokens)\n",
           idx_analyzer_name(a), (double)n / 1e6, ms, (double)n / 1e3 / ms,
           (double)acc.n * 1e3 / ms, acc.n);
    askdocs_free(text);
}

int main(int argc, char **argv)
{
    idx_analyzer *a = NULL;
    char err[512];
    askdocs_rc rc;
    if (argc < 2) {
        fprintf(stderr, "usage: %s MECAB_KO_DIC_DIR\n", argv[0]);
        return 2;
    }
    rc = idx_analyzer_create(argv[1], &a, err, sizeof(err));
    if (rc != ASKDOCS_OK) {
        fprintf(stderr, "idx_analyzer_create(%s): %s\n", argv[1], err);
        return 1;
    }
    CHECK(strcmp(idx_analyzer_name(a), "mecab-ko-dic") == 0);
    test_terms_mecab(a);
    test_spelling(a);
    test_fts(a);
    test_match_expr(a);
    test_threads(a);
    test_fuzz(a);
    test_bigram();
    test_bad_dict();
    throughput(a, 3 << 20);
    {
        idx_analyzer *bg = NULL;
        if (idx_analyzer_create("", &bg, err, sizeof(err)) == ASKDOCS_OK)
            throughput(bg, 3 << 20);
        idx_analyzer_free(bg);
    }
    idx_analyzer_free(a);
    if (failures) {
        fprintf(stderr, "test_tokenizer: %d failure(s)\n", failures);
        return 1;
    }
    printf("test_tokenizer: all checks passed\n");
    return 0;
}
