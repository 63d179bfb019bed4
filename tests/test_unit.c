/*
 * test_unit.c - unit tests of the pure parts: buffers, UTF-8, hashing,
 * configuration parsing, chunking, FTS5 query building (run against a real
 * in-memory FTS5 table) and reciprocal-rank fusion.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "askdocs_common.h"
#include "askdocs_conf.h"
#include "askdocs_retriever.h"
#include "idx_internal.h"

static int failures, checks;

#define CHECK(cond, ...)                                                      \
    do {                                                                      \
        checks++;                                                             \
        if (!(cond)) {                                                        \
            failures++;                                                       \
            fprintf(stderr, "FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond);   \
            fprintf(stderr, __VA_ARGS__);                                     \
            fputc('\n', stderr);                                              \
        }                                                                     \
    } while (0)

static void test_buf(void)
{
    askdocs_buf b;
    char *s;
    askdocs_buf_init(&b, 10);
    CHECK(askdocs_buf_puts(&b, "hello") == ASKDOCS_OK, "append");
    CHECK(askdocs_buf_puts(&b, "world") == ASKDOCS_OK, "append to cap");
    CHECK(askdocs_buf_puts(&b, "!") == ASKDOCS_ERR_TOOBIG, "over cap");
    CHECK(b.len == 10 && strcmp(b.data, "helloworld") == 0,
          "failed append leaves content: %s", b.data);
    askdocs_buf_reset(&b);
    CHECK(askdocs_buf_printf(&b, "%d-%s", 42, "x") == ASKDOCS_OK, "printf");
    CHECK(strcmp(b.data, "42-x") == 0, "printf content %s", b.data);
    CHECK(askdocs_buf_printf(&b, "%s", "0123456789") == ASKDOCS_ERR_TOOBIG,
          "printf over cap");
    s = askdocs_buf_take(&b);
    CHECK(s && strcmp(s, "42-x") == 0, "take");
    askdocs_free(s);
    askdocs_buf_free(&b);

    /* allocation failure is reported, not fatal */
    askdocs_buf_init(&b, 1 << 20);
    askdocs_alloc_fail_after(0);
    CHECK(askdocs_buf_puts(&b, "x") == ASKDOCS_ERR_NOMEM, "OOM reported");
    askdocs_alloc_fail_after(-1);
    CHECK(askdocs_buf_puts(&b, "x") == ASKDOCS_OK, "after OOM");
    askdocs_buf_free(&b);
}

static void test_utf8_hash(void)
{
    char hex[65];
    const char *ko = "\xEA\xB3\x84\xEC\x95\xBD"; /* 계약 */
    size_t n;
    char *c;
    askdocs_sha256_hex("abc", 3, hex);
    CHECK(strcmp(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61"
                      "f20015ad") == 0,
          "sha256(abc) = %s", hex);
    CHECK(askdocs_utf8_valid(ko, 6), "valid Korean");
    CHECK(!askdocs_utf8_valid("\xC0\xAF", 2), "overlong rejected");
    CHECK(!askdocs_utf8_valid("\xED\xA0\x80", 3), "surrogate rejected");
    CHECK(askdocs_utf8_floor(ko, 5) == 3, "floor inside 2nd char: %zu",
          askdocs_utf8_floor(ko, 5));
    CHECK(askdocs_utf8_floor(ko, 6) == 6, "floor at end");
    CHECK(askdocs_utf8_floor(ko, 1) == 0, "floor inside 1st char");
    c = askdocs_utf8_clean("a\r\nb\x01\xFF" "c", 7, &n);
    CHECK(c && strcmp(c, "a\nb \xEF\xBF\xBD" "c") == 0, "clean: %s", c);
    askdocs_free(c);
    CHECK(askdocs_text_is_korean(ko, 6), "ko");
    CHECK(!askdocs_text_is_korean("contract", 8), "en");
    CHECK(askdocs_fnv1a64("a", 1) != askdocs_fnv1a64("b", 1), "fnv");
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    if (!f) {
        perror(path);
        exit(1);
    }
    fputs(text, f);
    fclose(f);
}

static void test_config(void)
{
    askdocs_config c;
    char err[512], path[] = "/tmp/askdocs-test-confXXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0, "mkstemp");
    close(fd);
    CHECK(askdocs_config_defaults(&c) == ASKDOCS_OK, "defaults");
    CHECK(c.k == 10 && strcmp(c.mode, "hybrid") == 0, "default values");
    CHECK(strcmp(c.query_prefix, "query: ") == 0, "default prefix '%s'",
          c.query_prefix);

    write_file(path, "[search]\nk = 25\nmode = bm25\n\n[embed]\n"
                     "query_prefix = \"q: \"\n");
    CHECK(askdocs_config_load_file(&c, path, err, sizeof(err)) == ASKDOCS_OK,
          "load: %s", err);
    CHECK(c.k == 25 && strcmp(c.mode, "bm25") == 0, "file values");
    CHECK(strcmp(c.query_prefix, "q: ") == 0, "quoted value '%s'",
          c.query_prefix);

    write_file(path, "[search]\nk = 5\nbogus = 1\n");
    CHECK(askdocs_config_load_file(&c, path, err, sizeof(err)) ==
              ASKDOCS_ERR_CONFIG,
          "unknown key rejected");
    CHECK(strstr(err, ":3:") && strstr(err, "bogus"),
          "message names line 3 and the key: %s", err);

    write_file(path, "[search]\nk = many\n");
    CHECK(askdocs_config_load_file(&c, path, err, sizeof(err)) ==
              ASKDOCS_ERR_CONFIG,
          "bad int rejected");
    CHECK(strstr(err, ":2:") && strstr(err, "k"), "bad value message: %s",
          err);

    write_file(path, "[search]\nmode = fuzzy\n");
    CHECK(askdocs_config_load_file(&c, path, err, sizeof(err)) ==
              ASKDOCS_ERR_CONFIG,
          "bad enum rejected");

    write_file(path, "[nosuch]\nk = 1\n");
    CHECK(askdocs_config_load_file(&c, path, err, sizeof(err)) ==
              ASKDOCS_ERR_CONFIG && strstr(err, "nosuch"),
          "unknown section: %s", err);

    write_file(path, "[search\nk = 1\n");
    CHECK(askdocs_config_load_file(&c, path, err, sizeof(err)) ==
              ASKDOCS_ERR_CONFIG && strstr(err, ":1:"),
          "syntax error line: %s", err);

    setenv("ASKDOCS_SEARCH_K", "7", 1);
    CHECK(askdocs_config_apply_env(&c, err, sizeof(err)) == ASKDOCS_OK,
          "env");
    CHECK(c.k == 7, "env override k=%d", c.k);
    setenv("ASKDOCS_SEARCH_K", "0", 1);
    CHECK(askdocs_config_apply_env(&c, err, sizeof(err)) == ASKDOCS_ERR_CONFIG &&
              strstr(err, "ASKDOCS_SEARCH_K"),
          "env out of range: %s", err);
    unsetenv("ASKDOCS_SEARCH_K");
    askdocs_config_free(&c);
    unlink(path);
}

static const char *md_doc =
    "# Master Agreement\n"
    "\n"
    "Intro paragraph about the parties. It has two sentences.\n"
    "\n"
    "## 1. Term\n"
    "\n"
    "This Agreement starts on the Effective Date. It runs for three years.\n"
    "\n"
    "## 2. Termination\n"
    "\n"
    "### 2.1 Notice\n"
    "\n"
    "Either party may terminate with ninety (90) days written notice.\n"
    "\n"
    "| Item | Fee |\n"
    "| --- | --- |\n"
    "| Support | 100 |\n";

static void test_chunk(void)
{
    idx_chunk_params p = idx_chunk_default_params();
    idx_chunk_list l;
    int i, found = 0;
    askdocs_rc rc;
    p.markdown = 1;
    p.title = "Master Agreement";
    p.target_tokens = 60;
    p.overlap_tokens = 5;
    rc = idx_chunk_text(md_doc, strlen(md_doc), &p, &l);
    CHECK(rc == ASKDOCS_OK, "chunk rc %d", rc);
    /* intro, "1. Term", and "2. Termination" which has no body of its own
     * and so shares its chunk with "2.1 Notice" */
    CHECK(l.n == 3, "one chunk per section: %d", l.n);
    for (i = 0; i < l.n; i++) {
        const idx_chunk *c = &l.v[i];
        CHECK(c->byte_end > c->byte_start && c->byte_end <= strlen(md_doc),
              "bounds");
        if (strstr(c->heading, "2.1 Notice")) {
            found = 1;
            CHECK(strcmp(c->heading,
                         "Master Agreement > 2. Termination > 2.1 Notice") == 0,
                  "heading path: %s", c->heading);
            CHECK(memmem(md_doc + c->byte_start, c->byte_end - c->byte_start,
                         "ninety (90)", 11) != NULL,
                  "text is a verbatim slice");
            CHECK(memmem(md_doc + c->byte_start, c->byte_end - c->byte_start,
                         "| Support | 100 |", 17) != NULL,
                  "table rows kept whole");
        }
        CHECK(c->page_start == 0, "not paged");
    }
    CHECK(found, "notice section found");
    idx_chunk_list_free(&l);

    /* long text: sizes near the target, overlap, offsets monotonic */
    {
        askdocs_buf b;
        int words = 0, prev_start = -1;
        askdocs_buf_init(&b, 1 << 20);
        for (i = 0; i < 300; i++)
            askdocs_buf_printf(&b, "Sentence number %d has five words. ", i);
        p.markdown = 0;
        p.title = "Long";
        p.target_tokens = 100;
        p.overlap_tokens = 10;
        rc = idx_chunk_text(b.data, b.len, &p, &l);
        /* about 9 estimated tokens per sentence: 11 sentences per chunk */
        CHECK(rc == ASKDOCS_OK && l.n >= 25 && l.n <= 40, "long: %d chunks",
              l.n);
        for (i = 0; i < l.n; i++) {
            CHECK(l.v[i].n_tokens <= 100, "chunk %d has %d tokens", i,
                  l.v[i].n_tokens);
            CHECK((int)l.v[i].byte_start > prev_start, "monotonic");
            if (i > 0)
                CHECK(l.v[i].byte_start < l.v[i - 1].byte_end,
                      "overlap with previous chunk");
            prev_start = (int)l.v[i].byte_start;
            words += l.v[i].n_words;
        }
        CHECK(words >= 1500, "all words covered: %d", words);
        idx_chunk_list_free(&l);
        askdocs_buf_free(&b);
    }

    /* Korean statute: articles start chunks; code point offsets */
    {
        const char *ko =
            "제1장 총칙\n"
            "제1조(목적) 이 법은 개인정보의 처리에 관한 사항을 정한다.\n"
            "\n"
            "제2조(정의)\n"
            "이 법에서 사용하는 용어의 뜻은 다음과 같다.\n"
            "1. \"개인정보\"란 살아 있는 개인에 관한 정보를 말한다.\n";
        p.title = "개인정보 보호법";
        p.target_tokens = 200;
        rc = idx_chunk_text(ko, strlen(ko), &p, &l);
        CHECK(rc == ASKDOCS_OK && l.n >= 1, "ko rc");
        found = 0;
        for (i = 0; i < l.n; i++)
            if (strstr(l.v[i].heading, "제2조(정의)")) {
                found = 1;
                CHECK(strstr(l.v[i].heading, "제1장 총칙") != NULL,
                      "chapter in path: %s", l.v[i].heading);
                CHECK(l.v[i].char_start > 0 &&
                          l.v[i].char_start < (int)l.v[i].byte_start,
                      "code point offsets differ from bytes");
            }
        CHECK(found, "article 2 chunk");
        idx_chunk_list_free(&l);
    }

    /* empty and whitespace-only text */
    rc = idx_chunk_text("", 0, &p, &l);
    CHECK(rc == ASKDOCS_OK && l.n == 0, "empty text: %d", l.n);
    idx_chunk_list_free(&l);
    rc = idx_chunk_text(" \n\n \t\n", 6, &p, &l);
    CHECK(rc == ASKDOCS_OK && l.n == 0, "blank text: %d", l.n);
    idx_chunk_list_free(&l);
}

/* Statute clauses (항 호 목) and English numbering as units and headings. */
static void test_chunk_structure(void)
{
    idx_chunk_params p = idx_chunk_default_params();
    idx_chunk_list l;
    int i, found = 0;
    askdocs_rc rc;
    const char *ko =
        "제3조(정보주체의 권리) ① 정보주체는 자신의 개인정보 처리와 관련하여 "
        "다음 각 호의 권리를 가진다.\n"
        "1. 개인정보의 처리에 관한 정보를 제공받을 권리\n"
        "2. 개인정보의 처리 정지, 정정·삭제 및 파기를 요구할 권리\n"
        "가. 정정을 요구하는 경우에는 그 사유를 적을 것\n"
        "나. 삭제를 요구하는 경우에는 그 범위를 적을 것\n"
        "② 제1항에 따른 권리의 행사 방법은 대통령령으로 정한다.\n"
        "③ 정보주체는 언제든지 동의를 철회할 수 있다.\n";
    const char *en =
        "TERMS AND CONDITIONS\n"
        "\n"
        "   3. Grant of Patent License. Subject to the terms and conditions "
        "of this License, each Contributor hereby grants to You a perpetual "
        "patent license.\n"
        "\n"
        "Section 4(a) Redistribution\n"
        "You may reproduce and distribute copies of the Work.\n"
        "\n"
        "1.2.3 Scope of Services\n"
        "The Supplier provides the services listed in Schedule 1.\n";
    p.title = "법";
    p.target_tokens = 30;
    p.overlap_tokens = 0;
    rc = idx_chunk_text(ko, strlen(ko), &p, &l);
    CHECK(rc == ASKDOCS_OK && l.n >= 3, "clauses: %d chunks", l.n);
    for (i = 0; i < l.n; i++) {
        const char *t = ko + l.v[i].byte_start;
        /* every chunk starts at a clause, item or sub-item, never inside */
        CHECK(strncmp(t, "제3조", 7) == 0 || strncmp(t, "\xE2\x91", 2) == 0 ||
                  (t[0] >= '1' && t[0] <= '9' && t[1] == '.') ||
                  strncmp(t, "가.", 4) == 0 || strncmp(t, "나.", 4) == 0 ||
                  strncmp(t, "정보주체는", 15) == 0,
              "chunk %d starts at a unit: %.20s", i, t);
        CHECK(strstr(l.v[i].heading, "제3조(정보주체의 권리)") != NULL,
              "article in heading: %s", l.v[i].heading);
    }
    idx_chunk_list_free(&l);

    p.title = "Apache-2.0";
    p.target_tokens = 200;
    rc = idx_chunk_text(en, strlen(en), &p, &l);
    CHECK(rc == ASKDOCS_OK, "en rc");
    for (i = 0; i < l.n; i++) {
        const char *h = l.v[i].heading;
        if (strstr(h, "3. Grant of Patent License") && !strstr(h, "Section")) {
            found |= 1;
            CHECK(strcmp(h, "Apache-2.0 > 3. Grant of Patent License") == 0,
                  "inline numbered title: %s", h);
        }
        if (strstr(h, "Section 4(a) Redistribution")) {
            found |= 2;
            CHECK(strstr(h, "3. Grant") == NULL, "same level replaces: %s", h);
        }
        if (strstr(h, "1.2.3 Scope of Services"))
            found |= 4;
    }
    CHECK(found == 7, "numbered headings found: %d", found);
    idx_chunk_list_free(&l);
}

/* Blocks from an extractor: headings, and a long table split by rows with
 * its header repeated. */
static void test_chunk_blocks(void)
{
    idx_docbuf b;
    idx_chunk_params p = idx_chunk_default_params();
    idx_chunk_list l;
    char row[3][64];
    const char *cells[3];
    size_t lens[3];
    int i, j, with_prefix = 0;
    askdocs_rc rc;
    idx_docbuf_init(&b, 1 << 20, 10);
    CHECK(idx_docbuf_page(&b) == ASKDOCS_OK, "page 1");
    {
        static const char *const h = "Fee   Schedule\n", *para =
            "Fees\tare due\x01 monthly.", *blank = " \n\t ";
        idx_docbuf_block(&b, IDX_BLOCK_HEADING, 1, h, strlen(h));
        idx_docbuf_block(&b, IDX_BLOCK_PARA, 0, para, strlen(para));
        idx_docbuf_block(&b, IDX_BLOCK_PARA, 0, blank, strlen(blank)); /* dropped */
    }
    for (i = 0; i < 40; i++) {
        if (i == 20)
            idx_docbuf_page(&b);
        snprintf(row[0], sizeof(row[0]), i ? "Service %d" : "Service", i);
        snprintf(row[1], sizeof(row[1]), i ? "%d00 EUR" : "Fee", i);
        snprintf(row[2], sizeof(row[2]), i ? "net %d days" : "Terms", 30 + i);
        for (j = 0; j < 3; j++) {
            cells[j] = row[j];
            lens[j] = strlen(row[j]);
        }
        idx_docbuf_row(&b, cells, lens, 3, i == 0);
    }
    idx_docbuf_table_end(&b);
    CHECK(b.rc == ASKDOCS_OK && b.n_pages == 2, "docbuf rc %d pages %d", b.rc,
          b.n_pages);
    CHECK(strncmp(b.text.data, "Fee Schedule\n\nFees are due monthly.", 35) ==
              0,
          "cleaned text: %.40s", b.text.data);
    CHECK(b.n_blocks == 42 && b.blocks[2].kind == IDX_BLOCK_TABLE_ROW &&
              b.blocks[3].header == 2,
          "blocks %d", b.n_blocks);
    p.title = "Fees";
    p.target_tokens = 40;
    p.overlap_tokens = 10;
    p.blocks = b.blocks;
    p.n_blocks = b.n_blocks;
    p.page_starts = b.page_starts;
    p.n_pages = b.n_pages;
    rc = idx_chunk_text(b.text.data, b.text.len, &p, &l);
    CHECK(rc == ASKDOCS_OK && l.n >= 5, "table chunks: %d", l.n);
    for (i = 0; i < l.n; i++) {
        const idx_chunk *c = &l.v[i];
        const char *t = b.text.data + c->byte_start;
        const char *e = b.text.data + c->byte_end;
        CHECK(strcmp(c->heading, "Fees > Fee Schedule") == 0 ||
                  strcmp(c->heading, "Fees") == 0,
              "heading %s", c->heading);
        /* rows are whole: a slice starts at a line start, ends at a line end */
        CHECK(c->byte_start == 0 || t[-1] == '\n', "chunk %d starts a line", i);
        CHECK(*e == '\n' || *e == '\0', "chunk %d ends a line", i);
        if (c->prefix_end > c->prefix_start) {
            with_prefix++;
            CHECK(strncmp(b.text.data + c->prefix_start, "Service | Fee | Terms",
                          21) == 0,
                  "header repeated");
            CHECK(strncmp(t, "Service ", 8) == 0, "continues the table");
        }
        CHECK(c->page_start >= 1 && c->page_end <= 2 &&
                  c->page_start <= c->page_end,
              "pages %d-%d", c->page_start, c->page_end);
    }
    CHECK(with_prefix >= 3, "continued table chunks repeat the header: %d",
          with_prefix);
    CHECK(l.v[l.n - 1].page_end == 2, "last chunk on page 2");
    idx_chunk_list_free(&l);
    idx_docbuf_free(&b);
}

static void test_dates(void)
{
    const char *t = "Signed on March 1, 2024 and 2024-03-01; 효력 발생일 "
                    "2025년 1월 15일, 시행 2025. 2. 3., amended 7 July 2023. "
                    "Not dates: 2024-13-01, 12345-01-01, v1.2.3, 31 Foo 2020.";
    char *d = idx_find_dates(t, strlen(t), 16);
    CHECK(d && strcmp(d, "2024-03-01,2025-01-15,2025-02-03,2023-07-07") == 0,
          "dates: %s", d ? d : "(null)");
    askdocs_free(d);
    d = idx_find_dates("", 0, 16);
    CHECK(d && *d == '\0', "no dates");
    askdocs_free(d);
}

static void test_rrf(void)
{
    int64_t a[] = {1, 2, 3}, b[] = {3, 4, 1};
    double as[] = {9, 8, 7}, bs[] = {0.9, 0.8, 0.7};
    askdocs_hit h[10];
    int n = askdocs_rrf_fuse(a, as, 3, 1.0, b, bs, 3, 1.0, 60, h, 10);
    CHECK(n == 4, "4 distinct ids: %d", n);
    /* 1: 1/61 + 1/63; 3: 1/63 + 1/61 -> tie, broken by best rank (both 1),
     * then id; 2: 1/62; 4: 1/62 */
    CHECK((h[0].chunk_id == 1 && h[1].chunk_id == 3) ||
              (h[0].chunk_id == 3 && h[1].chunk_id == 1),
          "fused first two: %lld %lld", (long long)h[0].chunk_id,
          (long long)h[1].chunk_id);
    CHECK(h[0].bm25_rank > 0 && h[0].dense_rank > 0, "ranks kept");
    CHECK(h[3].chunk_id == 4 || h[3].chunk_id == 2, "last");
    n = askdocs_rrf_fuse(a, as, 3, 1.0, b, bs, 3, 0.0, 60, h, 2);
    CHECK(n == 2 && h[0].chunk_id == 1 && h[1].chunk_id == 2,
          "dense weight 0 keeps BM25 order");
    n = askdocs_rrf_fuse(a, as, 0, 1.0, b, bs, 3, 1.0, 60, h, 10);
    CHECK(n == 3 && h[0].chunk_id == 3 && h[0].bm25_rank == 0,
          "one empty list");
    CHECK(askdocs_search_mode_parse("dense") == ASKDOCS_MODE_DENSE &&
              askdocs_search_mode_parse("x") == -1,
          "mode parse");
}

static void test_score_fusion(void)
{
    /* BM25 10, 5, 0 -> 1, 0.5, 0 ; dense 0.9, 0.8 -> 1, 0 */
    int64_t a[] = {1, 2, 3}, b[] = {2, 4};
    double as[] = {10, 5, 0}, bs[] = {0.9, 0.8};
    askdocs_hit h[10];
    double mb, md;
    int n = askdocs_score_fuse(a, as, 3, 1.0, b, bs, 2, 1.0, h, 10);
    CHECK(n == 4, "4 distinct ids: %d", n);
    /* 2: 0.5 + 1 = 1.5; 1: 1; 4: 0; 3: 0 */
    CHECK(h[0].chunk_id == 2 && h[0].score > 1.49 && h[0].score < 1.51 &&
              h[1].chunk_id == 1 && h[1].score > 0.99,
          "normalised sum: %lld %.3f %lld %.3f", (long long)h[0].chunk_id,
          h[0].score, (long long)h[1].chunk_id, h[1].score);
    CHECK(h[0].bm25_rank == 2 && h[0].dense_rank == 1, "ranks kept");
    n = askdocs_score_fuse(a, as, 3, 3.0, b, bs, 2, 1.0, h, 2);
    CHECK(n == 2 && h[0].chunk_id == 1, "BM25 weight 3 puts 1 first: %lld",
          (long long)h[0].chunk_id);
    n = askdocs_score_fuse(NULL, NULL, 0, 1.0, b, bs, 1, 1.0, h, 10);
    CHECK(n == 1 && h[0].score == 1.0, "a single hit scores its weight");
    CHECK(askdocs_fusion_parse("score") == ASKDOCS_FUSION_SCORE &&
              askdocs_fusion_parse("rrf") == ASKDOCS_FUSION_RRF &&
              askdocs_fusion_parse("x") == -1,
          "fusion parse");

    /* query-aware weights */
    {
        static const struct {
            const char *q;
            int bit;
        } cases[] = {
            {"\"force majeure\" clause", 1},
            {"제12조의 내용은?", 2},
            {"What does Section 4.2 require?", 2},
            {"Article 5 obligations", 2},
            {"revenue of 1,234,000 in 2024", 4},
            {"ISO27001 certification", 8},
            {"duties of the FSRA", 16},
        };
        size_t i;
        for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
            int f = askdocs_query_weights(cases[i].q, strlen(cases[i].q), &mb,
                                          &md);
            CHECK((f & cases[i].bit) && mb > 1.0, "'%s' leans on BM25: %d",
                  cases[i].q, f);
        }
        CHECK(askdocs_query_weights("how can a tenant end the lease early",
                                    36, &mb, &md) == 0 &&
                  mb == 1.0,
              "a plain question keeps the weights");
    }
}

static void test_similarity_and_params(void)
{
    askdocs_config c;
    askdocs_evidence_params ep;
    askdocs_retriever_params rp;
    double same = askdocs_text_similarity("The supplier shall keep records",
                                          "the SUPPLIER shall keep records.");
    double half = askdocs_text_similarity("a b c d", "a b e f");
    double none = askdocs_text_similarity("alpha beta", "gamma delta");
    CHECK(same > 0.999, "similarity: case and punctuation do not count");
    CHECK(half > 0.32 && half < 0.34, "similarity: Jaccard 2/6 = %.3f", half);
    CHECK(none == 0.0, "similarity: disjoint texts");
    CHECK(askdocs_text_similarity("", "") == 0.0, "similarity: empty texts");
    CHECK(askdocs_text_similarity("연차 유급휴가", "연차 유급휴가") > 0.999,
          "similarity: Hangul words");
    CHECK(askdocs_config_defaults(&c) == ASKDOCS_OK, "config defaults");
    ep = askdocs_evidence_params_from_conf(&c);
    CHECK(ep.max_passages == c.evidence && ep.token_budget == 1500 &&
              ep.join_below == 80 && ep.near_duplicate > 0.79,
          "evidence params follow [generate]");
    rp = askdocs_retriever_params_from_conf(&c);
    CHECK(rp.fusion == ASKDOCS_FUSION_SCORE && rp.k == 10 &&
              rp.rerank_top == 20 && rp.reranker == NULL,
          "retriever params follow [search] and [rerank]");
    {
        askdocs_reranker *rr = (askdocs_reranker *)1;
        char err[256];
        CHECK(askdocs_reranker_from_conf(&c, &rr, err, sizeof(err)) ==
                      ASKDOCS_OK && rr == NULL,
              "no reranker unless one is configured");
    }
    askdocs_config_free(&c);
}

/* pack_sections: short sibling sections share a chunk, a parent-level
 * heading still starts one, a section that does not fit starts its own */
static void test_chunk_pack(void)
{
    static const char doc[] =
        "# Rulebook\n"
        "\n"
        "## Chapter 1\n"
        "\n"
        "### 1.1\n"
        "\n"
        "An Authorised Person must keep records.\n"
        "\n"
        "### 1.2\n"
        "\n"
        "The records must be kept for six years.\n"
        "\n"
        "### 1.3\n"
        "\n"
        "Records may be kept in electronic form.\n"
        "\n"
        "## Chapter 2\n"
        "\n"
        "### 2.1\n"
        "\n"
        "A Client must be told of any fee before a Regulated Activity.\n";
    idx_chunk_params p = idx_chunk_default_params();
    idx_chunk_list l;
    askdocs_rc rc;
    int i;
    p.markdown = 1;
    p.title = "Rulebook";
    p.target_tokens = 200;
    p.overlap_tokens = 0;
    rc = idx_chunk_text(doc, strlen(doc), &p, &l);
    CHECK(rc == ASKDOCS_OK && l.n == 4, "unpacked: %d chunks", l.n);
    idx_chunk_list_free(&l);

    p.pack_sections = 1;
    rc = idx_chunk_text(doc, strlen(doc), &p, &l);
    CHECK(rc == ASKDOCS_OK && l.n == 2, "packed: %d chunks", l.n);
    if (l.n == 2) {
        const idx_chunk *a = &l.v[0], *b = &l.v[1];
        CHECK(memmem(doc + a->byte_start, a->byte_end - a->byte_start,
                     "six years", 9) &&
                  memmem(doc + a->byte_start, a->byte_end - a->byte_start,
                         "electronic form", 15),
              "1.1-1.3 in one chunk");
        CHECK(!memmem(doc + a->byte_start, a->byte_end - a->byte_start,
                      "Chapter 2", 9),
              "a parent-level heading starts a chunk");
        CHECK(strcmp(a->heading, "Rulebook > Chapter 1 > 1.1") == 0,
              "named after its first section: %s", a->heading);
        CHECK(strcmp(b->heading, "Rulebook > Chapter 2 > 2.1") == 0,
              "second: %s", b->heading);
    }
    idx_chunk_list_free(&l);

    /* a small target: 1.2 does not fit beside 1.1 */
    p.target_tokens = 20;
    rc = idx_chunk_text(doc, strlen(doc), &p, &l);
    CHECK(rc == ASKDOCS_OK && l.n >= 3, "small target: %d chunks", l.n);
    for (i = 0; i < l.n; i++)
        CHECK(l.v[i].n_tokens <= 20 || !strstr(l.v[i].heading, "1."),
              "chunk %d: %d tokens", i, l.v[i].n_tokens);
    idx_chunk_list_free(&l);
}

int main(void)
{
    test_buf();
    test_utf8_hash();
    test_config();
    test_chunk();
    test_chunk_pack();
    test_chunk_structure();
    test_chunk_blocks();
    test_dates();
    test_rrf();
    test_score_fusion();
    test_similarity_and_params();
    printf("%d checks, %d failed\n", checks, failures);
    return failures ? 1 : 0;
}
