/*
 * test_generator.c - tests of the generator module.
 *
 *   test_generator [MODEL_GGUF [EMBED_GGUF]] unit checks, then (with a model)
 *                                          checks against the real model
 *                                          (with EMBED_GGUF: similarity checks)
 *   test_generator MODEL_GGUF --bench [T]  prints ttft and generation tokens/s
 *                                          for a ~1000-token prompt (T threads,
 *                                          default 2)
 *
 * Without MODEL_GGUF only the unit checks run (the model checks are reported
 * as skipped). A model path that cannot be loaded is a failure. Exit status
 * is nonzero when any check fails.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "askdocs_generator.h"
#include "askdocs_indexer.h"
#include "gen_internal.h"

#include "check_ok.h"

/* ------------------------------------------------------------ fixtures */

/* Free what gen_verify put in a stack answer. */
static void free_fields(askdocs_answer *a)
{
    askdocs_free(a->text);
    for (int i = 0; i < a->n_citations; i++) {
        askdocs_free(a->citations[i].doc);
        askdocs_free(a->citations[i].heading);
        askdocs_free(a->citations[i].text);
    }
    askdocs_free(a->citations);
    askdocs_free(a->sentences);
    memset(a, 0, sizeof *a);
}


static const char P_NOTICE[] =
    "Either party may terminate this Agreement by written notice. "
    "The notice period for termination under this Agreement is ninety (90) days. "
    "Notice must be sent to the address in Schedule A.";
static const char P_PARKING[] =
    "Employees may park in lot B on weekdays. Visitors must register at the front desk "
    "and receive a parking permit.";
static const char P_HOLIDAY[] =
    "The office is closed on public holidays. Annual leave requests are approved by the "
    "line manager.";

/* 계약 해지: 본 계약의 해지 통지 기간은 90일입니다. 통지는 서면으로 하여야 합니다. */
static const char K_NOTICE[] =
    "\xEB\xB3\xB8 \xEA\xB3\x84\xEC\x95\xBD\xEC\x9D\x98 \xED\x95\xB4\xEC\xA7\x80 "
    "\xED\x86\xB5\xEC\xA7\x80 \xEA\xB8\xB0\xEA\xB0\x84\xEC\x9D\x80 90\xEC\x9D\xBC"
    "\xEC\x9E\x85\xEB\x8B\x88\xEB\x8B\xA4. \xED\x86\xB5\xEC\xA7\x80\xEB\x8A\x94 "
    "\xEC\x84\x9C\xEB\xA9\xB4\xEC\x9C\xBC\xEB\xA1\x9C \xED\x95\x98\xEC\x97\xAC\xEC\x95\xBC "
    "\xED\x95\xA9\xEB\x8B\x88\xEB\x8B\xA4.";
/* 직원은 평일에 B 주차장에 주차할 수 있습니다. 방문객은 안내 데스크에서 등록해야 합니다. */
static const char K_PARKING[] =
    "\xEC\xA7\x81\xEC\x9B\x90\xEC\x9D\x80 \xED\x8F\x89\xEC\x9D\xBC\xEC\x97\x90 B "
    "\xEC\xA3\xBC\xEC\xB0\xA8\xEC\x9E\xA5\xEC\x97\x90 \xEC\xA3\xBC\xEC\xB0\xA8\xED\x95\xA0 "
    "\xEC\x88\x98 \xEC\x9E\x88\xEC\x8A\xB5\xEB\x8B\x88\xEB\x8B\xA4. "
    "\xEB\xB0\xA9\xEB\xAC\xB8\xEA\xB0\x9D\xEC\x9D\x80 \xEC\x95\x88\xEB\x82\xB4 "
    "\xEB\x8D\xB0\xEC\x8A\xA4\xED\x81\xAC\xEC\x97\x90\xEC\x84\x9C \xEB\x93\xB1\xEB\xA1\x9D"
    "\xED\x95\xB4\xEC\x95\xBC \xED\x95\xA9\xEB\x8B\x88\xEB\x8B\xA4.";
/* 해지 통지 기간은 얼마입니까? */
static const char K_QUESTION[] =
    "\xED\x95\xB4\xEC\xA7\x80 \xED\x86\xB5\xEC\xA7\x80 \xEA\xB8\xB0\xEA\xB0\x84\xEC\x9D\x80 "
    "\xEC\x96\xBC\xEB\xA7\x88\xEC\x9E\x85\xEB\x8B\x88\xEA\xB9\x8C?";

static void set_passage(askdocs_passage *p, const char *doc, const char *heading, int page,
                        int64_t id, const char *text)
{
    memset(p, 0, sizeof *p);
    p->doc = doc;
    p->title = NULL;
    p->heading = heading;
    p->page = page;
    p->chunk_id = id;
    p->text = text;
}

static void en_passages(askdocs_passage ps[3])
{
    /* the answer is in passage 2 */
    set_passage(&ps[0], "hr/parking.pdf", "Facilities > Parking", 3, 11, P_PARKING);
    set_passage(&ps[1], "legal/msa.pdf", "Master Agreement > 12. Termination", 7, 22, P_NOTICE);
    set_passage(&ps[2], "hr/handbook.pdf", NULL, 0, 33, P_HOLIDAY);
}

static char *tokstr(const char *s)
{
    askdocs_buf b;
    askdocs_buf_init(&b, 4096);
    if (gen_content_tokens_str(s, strlen(s), &b) != ASKDOCS_OK) {
        askdocs_buf_free(&b);
        return NULL;
    }
    return askdocs_buf_take(&b);
}

/* Every [n] in the final text must name a passage that supports the
 * sentence it ends (a leading list number ignored, as the verification
 * does). Returns the number of bad markers (-1 on error). */
static int bad_markers(const char *text, const askdocs_passage *ps, int n, double min)
{
    gen_sentence *ss = NULL;
    int nss = 0, bad = 0;
    askdocs_buf body;
    if (gen_split_sentences(text, strlen(text), 1, &ss, &nss) != ASKDOCS_OK)
        return -1;
    askdocs_buf_init(&body, 1 << 16);
    for (int i = 0; i < nss; i++) {
        askdocs_buf_reset(&body);
        if (gen_strip_markers(text + ss[i].start, (size_t)(ss[i].end - ss[i].start), &body) !=
            ASKDOCS_OK) {
            bad = -1;
            break;
        }
        for (int m = 0; m < ss[i].n_marks; m++) {
            int p = ss[i].marks[m];
            const char *core = body.data ? body.data + gen_list_prefix(body.data, body.len) : "";
            double sup = (p >= 1 && p <= n) ? gen_support(core, ps[p - 1].text) : -1;
            if (sup < min) {
                printf("     marker [%d] on \"%s\" has support %.2f\n", p,
                       body.data ? body.data : "", sup);
                bad++;
            }
        }
    }
    askdocs_buf_free(&body);
    askdocs_free(ss);
    return bad;
}

/* ------------------------------------------------------------ unit checks */

static void test_tokens(void)
{
    char *t;
    double s;
    printf("-- content tokens and overlap\n");
    t = tokstr("The notice period is Ninety (90) days, per Section 12.3 [2].");
    CHECK(t && strcmp(t, "notice period ninety 90 days section 12.3") == 0,
          "English tokens: \"%s\"", t ? t : "(null)");
    askdocs_free(t);
    t = tokstr("$1,000 fee; a I x");
    CHECK(t && strcmp(t, "1000 fee") == 0, "numbers joined, 1-letter words dropped: \"%s\"",
          t ? t : "(null)");
    askdocs_free(t);
    /* 해지 통지 기간은 90일입니다. -> 해지 통지 기간 90 */
    t = tokstr("\xED\x95\xB4\xEC\xA7\x80 \xED\x86\xB5\xEC\xA7\x80 \xEA\xB8\xB0\xEA\xB0\x84"
               "\xEC\x9D\x80 90\xEC\x9D\xBC\xEC\x9E\x85\xEB\x8B\x88\xEB\x8B\xA4.");
    CHECK(t && strcmp(t, "\xED\x95\xB4\xEC\xA7\x80 \xED\x86\xB5\xEC\xA7\x80 "
                         "\xEA\xB8\xB0\xEA\xB0\x84 90") == 0,
          "Korean tokens (particles stripped, bigrams): \"%s\"", t ? t : "(null)");
    askdocs_free(t);
    /* 계약서 -> bigrams 계약 약서 */
    t = tokstr("\xEA\xB3\x84\xEC\x95\xBD\xEC\x84\x9C\xEB\xA5\xBC");
    CHECK(t && strcmp(t, "\xEA\xB3\x84\xEC\x95\xBD \xEC\x95\xBD\xEC\x84\x9C") == 0,
          "Hangul run as character bigrams: \"%s\"", t ? t : "(null)");
    askdocs_free(t);

    s = gen_support("The notice period is 90 days.", P_NOTICE);
    CHECK(s > 0.99, "paraphrase supported by its passage: %.2f", s);
    s = gen_support("The notice period is 90 days.", P_PARKING);
    CHECK(s >= 0 && s < 0.35, "not supported by a distractor: %.2f", s);
    s = gen_support("Employees may park in lot C on weekends.", P_PARKING);
    CHECK(s > 0.3 && s < 0.9, "partial overlap is partial: %.2f", s);
    s = gen_support("The notice period is 12 weeks.", P_NOTICE);
    CHECK(s == 0.0, "a number missing from the passage means no support: %.2f", s);
    s = gen_support("It is.", P_PARKING);
    CHECK(s == -1.0, "no content tokens gives -1: %.2f", s);
    s = gen_support("\xED\x95\xB4\xEC\xA7\x80 \xED\x86\xB5\xEC\xA7\x80 \xEA\xB8\xB0\xEA\xB0\x84"
                    "\xEC\x9D\x80 90\xEC\x9D\xBC\xEC\x9D\xB4\xEB\x8B\xA4.", K_NOTICE);
    CHECK(s > 0.99, "Korean paraphrase supported: %.2f", s);
    s = gen_support("\xED\x95\xB4\xEC\xA7\x80 \xED\x86\xB5\xEC\xA7\x80 \xEA\xB8\xB0\xEA\xB0\x84"
                    "\xEC\x9D\x80 90\xEC\x9D\xBC\xEC\x9D\xB4\xEB\x8B\xA4.", K_PARKING);
    CHECK(s >= 0 && s < 0.35, "Korean distractor not supporting: %.2f", s);
}

static void test_sentences(void)
{
    gen_sentence *ss = NULL;
    int n = 0, nums[GEN_MAX_MARKS], k = 0;
    size_t ml;
    const char *a = "The period is 90 days [1]. It starts on notice. [2][3] Is it 3.5 days? "
                    "See e.g. p. 4 of the plan! Last one";
    printf("-- sentence splitting and markers\n");
    CHECK(gen_split_sentences(a, strlen(a), 1, &ss, &n) == ASKDOCS_OK && n == 5,
          "English split into 5 sentences (got %d)", n);
    if (n == 5) {
        CHECK(ss[0].n_marks == 1 && ss[0].marks[0] == 1, "sentence 1 keeps its [1]");
        CHECK(ss[1].n_marks == 2 && ss[1].marks[0] == 2 && ss[1].marks[1] == 3,
              "markers after the period stay with sentence 2");
        CHECK(strncmp(a + ss[2].start, "Is it 3.5 days?", (size_t)(ss[2].end - ss[2].start)) == 0,
              "no split inside 3.5");
        CHECK(strncmp(a + ss[3].start, "See e.g. p. 4 of the plan!",
                      (size_t)(ss[3].end - ss[3].start)) == 0,
              "no split after e.g. and p.");
    }
    askdocs_free(ss);
    ss = NULL;
    /* 기간은 90일입니다 [1] 통지는 서면으로 합니다。 끝 */
    {
        const char *k1 = "\xEA\xB8\xB0\xEA\xB0\x84\xEC\x9D\x80 90\xEC\x9D\xBC\xEC\x9E\x85"
                         "\xEB\x8B\x88\xEB\x8B\xA4 [1] \xED\x86\xB5\xEC\xA7\x80\xEB\x8A\x94 "
                         "\xEC\x84\x9C\xEB\xA9\xB4\xEC\x9C\xBC\xEB\xA1\x9C "
                         "\xED\x95\xA9\xEB\x8B\x88\xEB\x8B\xA4\xE3\x80\x82 \xEB\x81\x9D";
        CHECK(gen_split_sentences(k1, strlen(k1), 1, &ss, &n) == ASKDOCS_OK && n == 3,
              "Korean split at -da + space and at U+3002 (got %d)", n);
        if (n == 3)
            CHECK(ss[0].n_marks == 1 && ss[0].marks[0] == 1, "Korean sentence keeps its [1]");
        askdocs_free(ss);
        ss = NULL;
    }
    {
        const char *l = "- First item [1]\n- Second item\n\nNext paragraph";
        CHECK(gen_split_sentences(l, strlen(l), 1, &ss, &n) == ASKDOCS_OK && n == 3,
              "newlines split answers (got %d)", n);
        askdocs_free(ss);
        ss = NULL;
        CHECK(gen_split_sentences(l, strlen(l), 0, &ss, &n) == ASKDOCS_OK && n == 2,
              "only blank lines split passages (got %d)", n);
        askdocs_free(ss);
        ss = NULL;
    }
    {
        const char *l = "1. First item. 2. Second item.";
        CHECK(gen_split_sentences(l, strlen(l), 1, &ss, &n) == ASKDOCS_OK && n == 2,
              "no split after a list number \"1.\" (got %d)", n);
        askdocs_free(ss);
        ss = NULL;
        CHECK(gen_list_prefix("12) x", 5) == 4 && gen_list_prefix("- x", 3) == 2 &&
                  gen_list_prefix("12.5 x", 6) == 0 && gen_list_prefix("x", 1) == 0,
              "list prefixes recognised");
    }
    ml = gen_parse_marker("[1, 2]x", 7, nums, &k, GEN_MAX_MARKS);
    CHECK(ml == 6 && k == 2 && nums[0] == 1 && nums[1] == 2, "marker [1, 2] parsed");
    ml = gen_parse_marker("[x]", 3, nums, &k, GEN_MAX_MARKS);
    CHECK(ml == 0, "[x] is not a marker");
    ml = gen_parse_marker("[12345]", 7, nums, &k, GEN_MAX_MARKS);
    CHECK(ml == 0, "[12345] is not a marker");
    {
        askdocs_buf b;
        askdocs_buf_init(&b, 256);
        CHECK(gen_strip_markers(" 90 days [1][2]. ", 17, &b) == ASKDOCS_OK && b.data &&
                  strcmp(b.data, "90 days.") == 0,
              "markers stripped: \"%s\"", b.data ? b.data : "");
        askdocs_buf_free(&b);
    }
}

static void test_refusal(void)
{
    printf("-- refusal phrase detection\n");
    CHECK(gen_is_refusal(ASKDOCS_GEN_REFUSAL_EN, strlen(ASKDOCS_GEN_REFUSAL_EN)),
          "fixed English phrase");
    CHECK(gen_is_refusal(ASKDOCS_GEN_REFUSAL_KO, strlen(ASKDOCS_GEN_REFUSAL_KO)),
          "fixed Korean phrase");
    CHECK(gen_is_refusal("I could not find this in the documents.", 39), "equivalent wording");
    CHECK(gen_is_refusal("THE DOCUMENTS DO NOT CONTAIN\nTHIS INFORMATION", 45),
          "case and line breaks ignored");
    CHECK(!gen_is_refusal("The notice period is 90 days [2].", 33), "an answer is no refusal");
    CHECK(strcmp(gen_refusal_phrase(1), ASKDOCS_GEN_REFUSAL_KO) == 0 &&
              strcmp(gen_refusal_phrase(0), ASKDOCS_GEN_REFUSAL_EN) == 0,
          "refusal phrase per language");
}

static void test_verify(void)
{
    askdocs_passage ps[3];
    askdocs_answer a;
    gen_verify_stats st;
    const char *d = "The notice period is ninety days [1]. Employees may park in lot B. "
                    "The moon is made of green cheese [2].";
    const char *want = "The notice period is ninety days [2]. Employees may park in lot B [1]. "
                       "The moon is made of green cheese.";
    askdocs_rc rc;
    en_passages(ps);
    printf("-- citation verification\n");
    memset(&a, 0, sizeof a);
    rc = gen_verify(d, strlen(d), ps, NULL, 3, 0.35, 0, 0, &a, &st);
    CHECK(rc == ASKDOCS_OK, "gen_verify ok");
    printf("     draft: %s\n     final: %s\n", d, a.text ? a.text : "(null)");
    CHECK(a.text && strcmp(a.text, want) == 0, "wrong [1] replaced by [2], missing [1] added, "
                                               "unsupported left unmarked");
    CHECK(st.n_marks_removed == 2 && st.n_marks_added == 2 && st.n_marks_kept == 0,
          "stats: removed %d, added %d, kept %d", st.n_marks_removed, st.n_marks_added,
          st.n_marks_kept);
    CHECK(a.n_unsupported == 1 && !a.refused, "one unsupported sentence, not refused");
    CHECK(a.n_citations == 2 && a.citations[0].n == 2 && a.citations[1].n == 1,
          "citations in order of first use");
    if (a.n_citations == 2) {
        const askdocs_citation *c = &a.citations[0];
        CHECK(c->chunk_id == 22 && c->page == 7 && strcmp(c->doc, "legal/msa.pdf") == 0 &&
                  c->heading && strcmp(c->text, P_NOTICE) == 0,
              "citation copies doc, page, chunk, heading, text");
        CHECK(c->span_start >= 0 && c->span_end <= (int)strlen(c->text) &&
                  strncmp(c->text + c->span_start, "The notice period for termination",
                          33) == 0 &&
                  c->text[c->span_end - 1] == '.',
              "span = the supporting sentence: \"%.*s\"", c->span_end - c->span_start,
              c->text + c->span_start);
    }
    free_fields(&a);

    /* strict drops the unsupported sentence; a correct marker is kept */
    {
        askdocs_answer *b = askdocs_calloc(1, sizeof *b);
        const char *d2 = "The notice period is ninety days [2]. The moon is cheese.";
        if (b) {
            rc = gen_verify(d2, strlen(d2), ps, NULL, 3, 0.35, 1, 0, b, &st);
            CHECK(rc == ASKDOCS_OK && b->text &&
                      strcmp(b->text, "The notice period is ninety days [2].") == 0 &&
                      st.n_marks_kept == 1 && b->n_unsupported == 1,
                  "strict: \"%s\"", b->text ? b->text : "(null)");
            askdocs_answer_free(b);
        }
    }
    /* numbered list: a one-item list loses its number, repeats go */
    {
        askdocs_answer *b = askdocs_calloc(1, sizeof *b);
        const char *d7 = "1. The notice period is ninety days.\n2. The notice period is ninety days.";
        if (b) {
            rc = gen_verify(d7, strlen(d7), ps, NULL, 3, 0.35, 0, 0, b, &st);
            CHECK(rc == ASKDOCS_OK && b->text &&
                      strcmp(b->text, "The notice period is ninety days [2].") == 0,
                  "list item repeated: \"%s\"", b->text ? b->text : "(null)");
            askdocs_answer_free(b);
        }
    }
    /* a restated question is no answer */
    {
        askdocs_answer *b = askdocs_calloc(1, sizeof *b);
        const char *d8 = "What is the notice period for termination [2]?";
        if (b) {
            rc = gen_verify(d8, strlen(d8), ps, NULL, 3, 0.35, 0, 0, b, &st);
            CHECK(rc == ASKDOCS_OK && b->refused && st.n_dropped == 1,
                  "the question echoed back is dropped -> refused");
            askdocs_answer_free(b);
        }
    }
    /* out-of-range marker, repeated sentence */
    {
        askdocs_answer *b = askdocs_calloc(1, sizeof *b);
        const char *d3 = "Visitors must register at the front desk [9]. "
                         "Visitors must register at the front desk [9].";
        if (b) {
            rc = gen_verify(d3, strlen(d3), ps, NULL, 3, 0.35, 0, 0, b, &st);
            CHECK(rc == ASKDOCS_OK && b->text &&
                      strcmp(b->text, "Visitors must register at the front desk [1].") == 0,
                  "[9] out of range removed, repeat dropped: \"%s\"",
                  b->text ? b->text : "(null)");
            askdocs_answer_free(b);
        }
    }
    /* refusals */
    {
        askdocs_answer *b = askdocs_calloc(1, sizeof *b);
        const char *d4 = "The documents do not contain this information. The fee is 5 euros [1].";
        if (b) {
            rc = gen_verify(d4, strlen(d4), ps, NULL, 3, 0.35, 0, 0, b, &st);
            CHECK(rc == ASKDOCS_OK && b->refused && b->n_citations == 0 && b->text &&
                      strcmp(b->text, ASKDOCS_GEN_REFUSAL_EN) == 0,
                  "model refusal -> refused, fixed phrase, no citations");
            askdocs_answer_free(b);
        }
        b = askdocs_calloc(1, sizeof *b);
        if (b) {
            const char *d5 = "Penguins live in Antarctica [1].";
            rc = gen_verify(d5, strlen(d5), ps, NULL, 3, 0.35, 0, 1, b, &st);
            CHECK(rc == ASKDOCS_OK && b->refused && b->n_unsupported == 1 && b->text &&
                      strcmp(b->text, ASKDOCS_GEN_REFUSAL_KO) == 0,
                  "nothing supported -> refused (Korean phrase when ko)");
            askdocs_answer_free(b);
        }
        b = askdocs_calloc(1, sizeof *b);
        if (b) {
            rc = gen_verify("", 0, ps, NULL, 3, 0.35, 0, 0, b, &st);
            CHECK(rc == ASKDOCS_OK && b->refused, "empty draft -> refused");
            askdocs_answer_free(b);
        }
    }
    /* plen: the model saw only the first sentence of passage 2 */
    {
        askdocs_answer *b = askdocs_calloc(1, sizeof *b);
        size_t plen[3] = { strlen(P_PARKING), 60, strlen(P_HOLIDAY) };
        const char *d6 = "Notice must be sent to the address in Schedule A [2].";
        if (b) {
            rc = gen_verify(d6, strlen(d6), ps, plen, 3, 0.35, 0, 0, b, &st);
            CHECK(rc == ASKDOCS_OK && b->refused,
                  "support only from the part of a passage that was shown");
            askdocs_answer_free(b);
        }
    }
}

/* Every allocation failure point of gen_verify and of an extractive answer
 * gives ASKDOCS_ERR_NOMEM and leaks nothing (run under ASan / valgrind). */
static void test_oom(void)
{
    askdocs_passage ps[3];
    const char *d = "The notice period is ninety days [1]. Employees may park in lot B.";
    int ok_at = -1, bad = 0;
    en_passages(ps);
    printf("-- allocation failures\n");
    for (long k = 0; k < 2000 && ok_at < 0; k++) {
        askdocs_answer a;
        askdocs_rc rc;
        memset(&a, 0, sizeof a);
        askdocs_alloc_fail_after(k);
        rc = gen_verify(d, strlen(d), ps, NULL, 3, 0.35, 0, 0, &a, NULL);
        askdocs_alloc_fail_after(-1);
        if (rc == ASKDOCS_OK) {
            ok_at = (int)k;
            free_fields(&a);
        } else if (rc != ASKDOCS_ERR_NOMEM || a.text || a.citations) {
            bad++;
        }
    }
    CHECK(ok_at > 0 && bad == 0, "gen_verify: NOMEM at each of the first %d allocations", ok_at);
    ok_at = -1;
    bad = 0;
    for (long k = 0; k < 2000 && ok_at < 0; k++) {
        askdocs_generator *g = NULL;
        askdocs_answer *a = NULL;
        askdocs_rc rc;
        askdocs_alloc_fail_after(k);
        rc = askdocs_generator_open(NULL, &g, NULL, 0);
        if (rc == ASKDOCS_OK)
            rc = askdocs_generator_answer(g, "What is the notice period for termination?", ps, 3,
                                          NULL, NULL, &a);
        askdocs_alloc_fail_after(-1);
        if (rc == ASKDOCS_OK)
            ok_at = (int)k;
        else if (rc != ASKDOCS_ERR_NOMEM || a)
            bad++;
        askdocs_answer_free(a);
        askdocs_generator_free(g);
    }
    CHECK(ok_at > 0 && bad == 0, "extractive answer: NOMEM at each of the first %d allocations",
          ok_at);
}

static int count_cb(const char *piece, size_t len, void *user)
{
    int *c = user;
    if (!askdocs_utf8_valid(piece, len))
        c[1]++;
    c[0]++;
    return 0;
}

static void test_extractive(void)
{
    askdocs_generator *g = NULL;
    askdocs_generator_params p = askdocs_generator_default_params();
    askdocs_passage ps[3], kp[2];
    askdocs_answer *a = NULL;
    char err[256];
    int calls[2] = { 0, 0 };
    askdocs_rc rc;

    printf("-- extractive mode (no model)\n");
    p.model_path = "";
    rc = askdocs_generator_open(&p, &g, err, sizeof err);
    CHECK(rc == ASKDOCS_OK && g && !askdocs_generator_has_model(g), "open extractive: %s",
          rc == ASKDOCS_OK ? "ok" : err);
    if (!g)
        return;
    en_passages(ps);
    rc = askdocs_generator_answer(g, "What is the notice period for termination?", ps, 3, count_cb,
                                  calls, &a);
    CHECK(rc == ASKDOCS_OK && a, "answer: %s", rc == ASKDOCS_OK ? "ok" : askdocs_generator_errmsg(g));
    if (a) {
        printf("     answer: %s\n", a->text);
        CHECK(!a->refused && a->n_citations >= 1 && a->citations[0].n == 2 &&
                  strstr(a->text, "ninety (90) days [2].") != NULL,
              "English: the termination sentence cited as [2]");
        CHECK(calls[0] == 1 && calls[1] == 0, "callback got the text once (%d calls)", calls[0]);
        CHECK(bad_markers(a->text, ps, 3, 0.35) == 0, "every marker verified");
        askdocs_answer_free(a);
        a = NULL;
    }
    set_passage(&kp[0], "hr/parking-ko.pdf", NULL, 1, 5, K_PARKING);
    set_passage(&kp[1], "legal/contract-ko.pdf", NULL, 2, 6, K_NOTICE);
    rc = askdocs_generator_answer(g, K_QUESTION, kp, 2, NULL, NULL, &a);
    CHECK(rc == ASKDOCS_OK && a, "Korean answer");
    if (a) {
        printf("     answer: %s\n", a->text);
        CHECK(!a->refused && a->n_citations >= 1 && a->citations[0].n == 2 &&
                  strstr(a->text, "90") != NULL,
              "Korean: the notice sentence cited as [2]");
        askdocs_answer_free(a);
        a = NULL;
    }
    rc = askdocs_generator_answer(g, "What is the capital of France?", ps, 3, NULL, NULL, &a);
    CHECK(rc == ASKDOCS_OK && a && a->refused && a->n_citations == 0 &&
              strcmp(a->text, ASKDOCS_GEN_REFUSAL_EN) == 0,
          "unrelated question refused");
    askdocs_answer_free(a);
    a = NULL;
    rc = askdocs_generator_answer(g, K_QUESTION, NULL, 0, NULL, NULL, &a);
    CHECK(rc == ASKDOCS_OK && a && a->refused && strcmp(a->text, ASKDOCS_GEN_REFUSAL_KO) == 0,
          "no passages refused in Korean");
    askdocs_answer_free(a);
    a = NULL;
    rc = askdocs_generator_answer(g, "", ps, 3, NULL, NULL, &a);
    CHECK(rc == ASKDOCS_ERR_INVALID && a == NULL && askdocs_generator_errmsg(g)[0],
          "empty question rejected: %s", askdocs_generator_errmsg(g));
    askdocs_generator_free(g);
    askdocs_generator_free(NULL);
    askdocs_answer_free(NULL);
}

/* ------------------------------------------------------------ model checks */

typedef struct stream_rec {
    int pieces, bad_utf8, stop_after;
    double t_first, t_last;
    askdocs_buf text;
} stream_rec;

static int rec_cb(const char *piece, size_t len, void *user)
{
    stream_rec *r = user;
    double now = askdocs_now_ms();
    if (r->pieces == 0)
        r->t_first = now;
    r->t_last = now;
    r->pieces++;
    if (!askdocs_utf8_valid(piece, len))
        r->bad_utf8++;
    askdocs_buf_append(&r->text, piece, len);
    return r->stop_after > 0 && r->pieces >= r->stop_after;
}

static void print_answer(const askdocs_answer *a)
{
    printf("     draft : %s\n", a->draft ? a->draft : "");
    printf("     final : %s\n", a->text);
    printf("     refused %d, citations %d, unsupported %d, prompt %d tok, gen %d tok, "
           "ttft %.0f ms, total %.0f ms\n",
           a->refused, a->n_citations, a->n_unsupported, a->n_prompt_tokens, a->n_gen_tokens,
           a->ttft_ms, a->total_ms);
    for (int i = 0; i < a->n_citations; i++)
        printf("     [%d] %s p.%d \"%.*s\"\n", a->citations[i].n, a->citations[i].doc,
               a->citations[i].page, a->citations[i].span_end - a->citations[i].span_start,
               a->citations[i].text + a->citations[i].span_start);
}

static void test_model(const char *model)
{
    askdocs_generator *g = NULL;
    askdocs_generator_params p = askdocs_generator_default_params();
    askdocs_passage ps[3], kp[2];
    askdocs_answer *a = NULL;
    stream_rec r;
    char err[512];
    askdocs_rc rc;
    int found = 0;

    printf("-- real model: %s\n", model);
    p.model_path = model;
    p.n_threads = 2;
    p.max_answer_tokens = 96;
    rc = askdocs_generator_open(&p, &g, err, sizeof err);
    CHECK(rc == ASKDOCS_OK && g && askdocs_generator_has_model(g), "open model: %s",
          rc == ASKDOCS_OK ? "ok" : err);
    if (!g)
        return;
    en_passages(ps);

    memset(&r, 0, sizeof r);
    askdocs_buf_init(&r.text, 1 << 20);
    rc = askdocs_generator_answer(g, "What is the notice period for termination?", ps, 3, rec_cb,
                                  &r, &a);
    CHECK(rc == ASKDOCS_OK && a, "English answer: %s",
          rc == ASKDOCS_OK ? "ok" : askdocs_generator_errmsg(g));
    if (a) {
        print_answer(a);
        CHECK(a->n_citations >= 1, "at least one citation (%d)", a->n_citations);
        for (int i = 0; i < a->n_citations; i++)
            found |= a->citations[i].n == 2;
        CHECK(found, "a citation points at passage 2 (the one with the answer)");
        CHECK(r.pieces > 0 && r.bad_utf8 == 0, "streamed %d pieces, %d not valid UTF-8",
              r.pieces, r.bad_utf8);
        CHECK(r.text.data && a->draft && strcmp(r.text.data, a->draft) == 0,
              "streamed text == draft");
        CHECK(a->ttft_ms > 0 && a->total_ms >= a->ttft_ms, "ttft %.1f ms > 0", a->ttft_ms);
        CHECK(a->n_prompt_tokens > 0 && a->n_gen_tokens > 0 && a->n_passages_used == 3,
              "token counts %d/%d, %d passages", a->n_prompt_tokens, a->n_gen_tokens,
              a->n_passages_used);
        CHECK(bad_markers(a->text, ps, 3, 0.35) == 0, "every marker in the final text verified");
        askdocs_answer_free(a);
        a = NULL;
    }
    askdocs_buf_free(&r.text);

    /* the next question reuses the system-prompt prefix of the KV cache */
    rc = askdocs_generator_answer(g, "Where may employees park?", ps, 3, NULL, NULL, &a);
    CHECK(rc == ASKDOCS_OK && a, "second English answer");
    if (a) {
        print_answer(a);
        CHECK(gen_last_reused_tokens(g) > 20, "KV prefix reused: %d tokens",
              gen_last_reused_tokens(g));
        CHECK(bad_markers(a->text, ps, 3, 0.35) == 0, "every marker verified");
        askdocs_answer_free(a);
        a = NULL;
    }

    /* Korean */
    set_passage(&kp[0], "hr/parking-ko.pdf", NULL, 1, 5, K_PARKING);
    set_passage(&kp[1], "legal/contract-ko.pdf", NULL, 2, 6, K_NOTICE);
    memset(&r, 0, sizeof r);
    askdocs_buf_init(&r.text, 1 << 20);
    rc = askdocs_generator_answer(g, K_QUESTION, kp, 2, rec_cb, &r, &a);
    CHECK(rc == ASKDOCS_OK && a, "Korean answer: %s",
          rc == ASKDOCS_OK ? "ok" : askdocs_generator_errmsg(g));
    if (a) {
        print_answer(a);
        CHECK(r.bad_utf8 == 0, "Korean pieces are whole UTF-8 (%d pieces)", r.pieces);
        CHECK(bad_markers(a->text, kp, 2, 0.35) == 0, "Korean markers verified");
        CHECK(!a->refused || strcmp(a->text, ASKDOCS_GEN_REFUSAL_KO) == 0,
              "a Korean refusal uses the Korean phrase");
        askdocs_answer_free(a);
        a = NULL;
    }
    askdocs_buf_free(&r.text);

    /* empty evidence: refused without running the model */
    rc = askdocs_generator_answer(g, "What is the notice period for termination?", NULL, 0, NULL,
                                  NULL, &a);
    CHECK(rc == ASKDOCS_OK && a && a->refused && a->n_gen_tokens == 0 && a->n_citations == 0 &&
              strcmp(a->text, ASKDOCS_GEN_REFUSAL_EN) == 0,
          "empty evidence refused without generation");
    askdocs_answer_free(a);
    a = NULL;

    /* the callback stops generation */
    memset(&r, 0, sizeof r);
    askdocs_buf_init(&r.text, 1 << 20);
    r.stop_after = 1;
    rc = askdocs_generator_answer(g, "What is the notice period for termination?", ps, 3, rec_cb,
                                  &r, &a);
    CHECK(rc == ASKDOCS_OK && a && a->truncated && r.pieces == 1 && a->n_gen_tokens <= 2,
          "callback stop: %d pieces, %d tokens, truncated %d", r.pieces,
          a ? a->n_gen_tokens : -1, a ? a->truncated : -1);
    askdocs_answer_free(a);
    a = NULL;
    askdocs_buf_free(&r.text);
    askdocs_generator_free(g);
    g = NULL;

    /* budget: a small context cannot hold all the evidence */
    {
        static char big[3][6000];
        askdocs_passage bp[3];
        for (int i = 0; i < 3; i++) {
            size_t o = 0;
            while (o + 80 < sizeof big[i])
                o += (size_t)snprintf(big[i] + o, sizeof big[i] - o,
                                      "Clause %d.%zu says the notice period is ninety days. ",
                                      i + 1, o / 50);
            set_passage(&bp[i], "big.pdf", NULL, i + 1, 100 + i, big[i]);
        }
        p.n_ctx = 768;
        p.max_answer_tokens = 32;
        p.compress_tokens = -1; /* whole passages: the budget must cut */
        rc = askdocs_generator_open(&p, &g, err, sizeof err);
        CHECK(rc == ASKDOCS_OK, "open with n_ctx 768");
        if (g) {
            rc = askdocs_generator_answer(g, "What is the notice period?", bp, 3, NULL, NULL, &a);
            CHECK(rc == ASKDOCS_OK && a && a->n_passages_used >= 1 && a->n_passages_used < 3 &&
                      a->n_prompt_tokens + 32 <= 768,
                  "evidence trimmed to fit: %d passages, %d prompt tokens",
                  a ? a->n_passages_used : -1, a ? a->n_prompt_tokens : -1);
            if (a)
                CHECK(bad_markers(a->text, bp, 3, 0.35) == 0, "markers verified after trimming");
            askdocs_answer_free(a);
            a = NULL;
            askdocs_generator_free(g);
        }
    }
}


/* ------------------------------------------------- sentences, spans, similarity */

static int cos_embed(void *user, const char *const *texts, int n, float *out)
{
    return idx_embedder_embed(user, texts, n, 1, out) == ASKDOCS_OK ? 0 : 1;
}

static void test_sentences_spans(const char *embed_model)
{
    askdocs_passage kp[2];
    askdocs_answer a;
    gen_verify_stats st;
    askdocs_rc rc;
    /* 본 계약의 해지 통지 기간은 90일입니다. [2] */
    const char *d = "\xEB\xB3\xB8 \xEA\xB3\x84\xEC\x95\xBD\xEC\x9D\x98 \xED\x95\xB4\xEC\xA7\x80 "
                    "\xED\x86\xB5\xEC\xA7\x80 \xEA\xB8\xB0\xEA\xB0\x84\xEC\x9D\x80 90\xEC\x9D\xBC"
                    "\xEC\x9E\x85\xEB\x8B\x88\xEB\x8B\xA4. [2] The moon is made of cheese.";
    set_passage(&kp[0], "hr/parking-ko.pdf", NULL, 1, 5, K_PARKING);
    set_passage(&kp[1], "legal/contract-ko.pdf", "Contract > Termination", 2, 6, K_NOTICE);
    memset(&a, 0, sizeof a);
    rc = gen_verify_ex(d, strlen(d), kp, NULL, 2, 0.35, 0, 1, NULL, &a, &st);
    CHECK(rc == ASKDOCS_OK && a.n_sentences == 2, "answer sentences recorded (%d)",
          a.n_sentences);
    if (rc == ASKDOCS_OK && a.n_sentences == 2) {
        CHECK(a.sentences[0].supported && a.sentences[0].n_cites == 1 &&
                  a.sentences[0].cites[0] == 2 && a.sentences[0].start == 0,
              "first sentence supported by [2]");
        CHECK(!a.sentences[1].supported && a.sentences[1].n_cites == 0 &&
                  strncmp(a.text + a.sentences[1].start, "The moon", 8) == 0 &&
                  a.sentences[1].end == (int)strlen(a.text),
              "second sentence marked unsupported, offsets right: \"%.*s\"",
              a.sentences[1].end - a.sentences[1].start, a.text + a.sentences[1].start);
    }
    if (rc == ASKDOCS_OK && a.n_citations == 1) {
        const askdocs_citation *c = &a.citations[0];
        int chars = 0;
        for (int i = 0; i < c->span_start; i++)
            chars += ((unsigned char)c->text[i] & 0xC0) != 0x80;
        CHECK(c->span_char_start == chars && c->span_char_end > c->span_char_start &&
                  c->span_char_end - c->span_char_start < c->span_end - c->span_start,
              "character offsets of the span: %d..%d (bytes %d..%d)", c->span_char_start,
              c->span_char_end, c->span_start, c->span_end);
    } else {
        CHECK(0, "one citation expected, got %d", a.n_citations);
    }
    free_fields(&a);

    if (!embed_model || !*embed_model) {
        printf("-- similarity checks SKIPPED (no embedding model given)\n");
        return;
    }
    {
        idx_embedder_params ep = idx_embedder_default_params();
        idx_embedder *e = NULL;
        char err[256];
        gen_sim sim;
        askdocs_passage ps[3];
        /* a paraphrase of passage 1 sharing few of its words, and a sentence
         * on the same topic that contradicts it, sharing as many (cosines
         * with the passage sentence: 0.944 and 0.902 with e5-small) */
        const char *para = "Guests must sign in at reception and get a permit to park.";
        const char *wrong = "Visitors may park anywhere at weekends without registering.";
        ep.model_path = embed_model;
        ep.n_threads = 2;
        rc = idx_embedder_open(&ep, &e, err, sizeof err);
        CHECK(rc == ASKDOCS_OK, "embedding model: %s", rc == ASKDOCS_OK ? "ok" : err);
        if (!e)
            return;
        en_passages(ps);
        sim.fn = cos_embed;
        sim.user = e;
        sim.dim = idx_embedder_dim(e);
        sim.min_similarity = 0; /* the default */
        for (int k = 0; k < 2; k++) {
            const char *sent = k == 0 ? para : wrong;
            askdocs_answer b, c;
            double lex = gen_support(sent, ps[0].text);
            memset(&b, 0, sizeof b);
            memset(&c, 0, sizeof c);
            rc = gen_verify_ex(sent, strlen(sent), ps, NULL, 3, 0.35, 0, 0, NULL, &b, NULL);
            if (rc == ASKDOCS_OK)
                rc = gen_verify_ex(sent, strlen(sent), ps, NULL, 3, 0.35, 0, 0, &sim, &c, &st);
            if (k == 0) {
                CHECK(rc == ASKDOCS_OK && b.refused && !c.refused && c.n_citations == 1 &&
                          c.citations[0].n == 1 && st.n_sim_supported == 1,
                      "a paraphrase (word share %.2f) is supported through similarity only "
                      "(refused %d/%d, citations %d, by similarity %d)", lex, b.refused, c.refused,
                      c.n_citations, st.n_sim_supported);
            } else {
                CHECK(rc == ASKDOCS_OK && b.refused && c.refused,
                      "a sentence contradicting its topic passage (word share %.2f) stays "
                      "unsupported with similarity", lex);
            }
            for (int z = 0; z < 2; z++) {
                askdocs_answer *x = z ? &c : &b;
                free_fields(x);
            }
        }
        idx_embedder_free(e);
    }
}

/* ------------------------------------------------- concurrency, cancel, modes */

typedef struct ask_job {
    askdocs_generator *g;
    const char *q;
    const askdocs_passage *ps;
    int n;
    int hold_ms;            /* sleep in the callback: hold the slot */
    int cancel_after;       /* cancelled() says yes after this many pieces */
    int always_cancel;
    int pieces;
    askdocs_rc rc;
    askdocs_answer *a;
    char err[256];
} ask_job;

static int job_cb(const char *piece, size_t len, void *user)
{
    ask_job *j = user;
    (void)piece;
    (void)len;
    j->pieces++;
    if (j->hold_ms)
        usleep((useconds_t)j->hold_ms * 1000);
    return 0;
}

static int job_cancelled(void *user)
{
    ask_job *j = user;
    return j->always_cancel || (j->cancel_after > 0 && j->pieces >= j->cancel_after);
}

static void *job_run(void *arg)
{
    ask_job *j = arg;
    askdocs_ask_request rq;
    memset(&rq, 0, sizeof rq);
    rq.question = j->q;
    rq.passages = j->ps;
    rq.n = j->n;
    rq.cb = job_cb;
    rq.user = j;
    rq.cancelled = job_cancelled;
    j->rc = askdocs_generator_ask(j->g, &rq, &j->a);
    if (j->rc != ASKDOCS_OK)
        snprintf(j->err, sizeof j->err, "%s", askdocs_generator_errmsg(j->g));
    return NULL;
}

static void test_concurrency(const char *model)
{
    static const char *const qs[3] = { "What is the notice period for termination?",
                                       "Where may employees park?",
                                       "Who approves annual leave requests?" };
    askdocs_generator_params p = askdocs_generator_default_params();
    askdocs_generator *g1 = NULL, *g2 = NULL;
    askdocs_passage ps[3];
    char *serial[3] = { NULL, NULL, NULL };
    ask_job jobs[3];
    pthread_t th[3];
    char err[256];
    askdocs_rc rc;

    printf("-- concurrency: one model, several questions\n");
    en_passages(ps);
    p.model_path = model;
    p.n_threads = 2;
    p.max_answer_tokens = 40;
    rc = askdocs_generator_open(&p, &g1, err, sizeof err);
    CHECK(rc == ASKDOCS_OK, "open one slot: %s", rc == ASKDOCS_OK ? "ok" : err);
    p.n_parallel = 2;
    rc = askdocs_generator_open(&p, &g2, err, sizeof err);
    CHECK(rc == ASKDOCS_OK, "open two slots: %s", rc == ASKDOCS_OK ? "ok" : err);
    if (!g1 || !g2)
        goto cleanup;
    for (int i = 0; i < 3; i++) {
        askdocs_answer *a = NULL;
        rc = askdocs_generator_answer(g1, qs[i], ps, 3, NULL, NULL, &a);
        if (rc == ASKDOCS_OK)
            serial[i] = askdocs_strdup(a->text);
        askdocs_answer_free(a);
    }
    memset(jobs, 0, sizeof jobs);
    for (int i = 0; i < 3; i++) {
        jobs[i].g = g2;
        jobs[i].q = qs[i];
        jobs[i].ps = ps;
        jobs[i].n = 3;
        pthread_create(&th[i], NULL, job_run, &jobs[i]);
    }
    for (int i = 0; i < 3; i++)
        pthread_join(th[i], NULL);
    for (int i = 0; i < 3; i++) {
        CHECK(jobs[i].rc == ASKDOCS_OK && jobs[i].a && serial[i] &&
                  strcmp(jobs[i].a->text, serial[i]) == 0,
              "concurrent question %d answered as when alone (queue %.0f ms): %s", i + 1,
              jobs[i].a ? jobs[i].a->queue_ms : -1.0,
              jobs[i].rc == ASKDOCS_OK ? jobs[i].a->text : jobs[i].err);
    }
    {
        int waited = 0;
        for (int i = 0; i < 3; i++)
            waited += jobs[i].a && jobs[i].a->queue_ms > 1;
        CHECK(waited >= 1, "with 2 slots and 3 questions, %d waited for a slot", waited);
    }
    for (int i = 0; i < 3; i++) {
        askdocs_answer_free(jobs[i].a);
        jobs[i].a = NULL;
    }

    /* a bounded queue: 1 slot busy, 1 waiting (max_queue 1): the next is
     * refused at once; cancelling a waiting question frees its place */
    askdocs_generator_free(g2);
    g2 = NULL;
    p.n_parallel = 1;
    p.max_queue = 1;
    p.max_answer_tokens = 8;
    rc = askdocs_generator_open(&p, &g2, err, sizeof err);
    if (rc == ASKDOCS_OK) {
        askdocs_answer *a = NULL;
        double t0;
        memset(jobs, 0, sizeof jobs);
        for (int i = 0; i < 3; i++) {
            jobs[i].g = g2;
            jobs[i].q = qs[i];
            jobs[i].ps = ps;
            jobs[i].n = 3;
        }
        jobs[0].hold_ms = 250; /* about 2 s in the slot */
        jobs[1].always_cancel = 0;
        pthread_create(&th[0], NULL, job_run, &jobs[0]);
        while (jobs[0].pieces == 0)
            usleep(10000);
        pthread_create(&th[1], NULL, job_run, &jobs[1]);
        usleep(200000);
        rc = askdocs_generator_answer(g2, qs[2], ps, 3, NULL, NULL, &a);
        CHECK(rc == ASKDOCS_ERR_BUSY && !a &&
                  strstr(askdocs_generator_errmsg(g2), "busy") != NULL,
              "queue full: refused as busy (%s)", askdocs_generator_errmsg(g2));
        askdocs_answer_free(a);
        pthread_join(th[0], NULL);
        pthread_join(th[1], NULL);
        CHECK(jobs[0].rc == ASKDOCS_OK && jobs[1].rc == ASKDOCS_OK && jobs[1].a &&
                  jobs[1].a->queue_ms > 100,
              "the slot holder and the waiting question both answered (waited %.0f ms)",
              jobs[1].a ? jobs[1].a->queue_ms : -1.0);
        for (int i = 0; i < 2; i++) {
            askdocs_answer_free(jobs[i].a);
            jobs[i].a = NULL;
        }
        /* cancelled while waiting */
        memset(jobs, 0, sizeof jobs);
        for (int i = 0; i < 2; i++) {
            jobs[i].g = g2;
            jobs[i].q = qs[i];
            jobs[i].ps = ps;
            jobs[i].n = 3;
        }
        jobs[0].hold_ms = 250;
        jobs[1].always_cancel = 1;
        pthread_create(&th[0], NULL, job_run, &jobs[0]);
        while (jobs[0].pieces == 0)
            usleep(10000);
        t0 = askdocs_now_ms();
        job_run(&jobs[1]);
        CHECK(jobs[1].rc == ASKDOCS_ERR_ABORTED && askdocs_now_ms() - t0 < 1000,
              "a question cancelled while waiting returns at once: %s", jobs[1].err);
        pthread_join(th[0], NULL);
        askdocs_answer_free(jobs[0].a);
        askdocs_answer_free(jobs[1].a);

        /* cancelled while generating: the client goes after 2 pieces */
        memset(jobs, 0, sizeof jobs);
        jobs[0].g = g1;
        jobs[0].q = qs[0];
        jobs[0].ps = ps;
        jobs[0].n = 3;
        jobs[0].cancel_after = 2;
        job_run(&jobs[0]);
        CHECK(jobs[0].rc == ASKDOCS_OK && jobs[0].a && jobs[0].a->cancelled &&
                  jobs[0].a->n_gen_tokens <= 3,
              "client gone after 2 pieces: stopped (cancelled %d, %d tokens)",
              jobs[0].a ? jobs[0].a->cancelled : -1, jobs[0].a ? jobs[0].a->n_gen_tokens : -1);
        askdocs_answer_free(jobs[0].a);
    }
cleanup:
    for (int i = 0; i < 3; i++)
        askdocs_free(serial[i]);
    askdocs_generator_free(g1);
    askdocs_generator_free(g2);
}

static void test_modes(const char *model)
{
    askdocs_generator_params p = askdocs_generator_default_params();
    askdocs_generator *g = NULL;
    askdocs_passage ps[3], lp[1];
    askdocs_ask_request rq;
    askdocs_answer *a = NULL, *b = NULL;
    static char longp[9000];
    char err[256];
    askdocs_rc rc;
    size_t o = 0;
    int found = 0;

    printf("-- answer modes and evidence compression\n");
    p.model_path = model;
    p.n_threads = 2;
    p.max_answer_tokens = 64;
    rc = askdocs_generator_open(&p, &g, err, sizeof err);
    CHECK(rc == ASKDOCS_OK, "open: %s", rc == ASKDOCS_OK ? "ok" : err);
    if (!g)
        return;
    en_passages(ps);
    memset(&rq, 0, sizeof rq);
    rq.question = "What is the notice period for termination?";
    rq.passages = ps;
    rq.n = 3;
    rq.mode = ASKDOCS_ANSWER_THOROUGH;
    rc = askdocs_generator_ask(g, &rq, &a);
    CHECK(rc == ASKDOCS_OK && a && a->mode == ASKDOCS_ANSWER_THOROUGH,
          "thorough answer: %s", rc == ASKDOCS_OK ? "ok" : askdocs_generator_errmsg(g));
    if (a) {
        print_answer(a);
        for (int i = 0; i < a->n_citations; i++)
            found |= a->citations[i].n == 2;
        CHECK(!a->refused && a->n_rationales >= 1 && found && bad_markers(a->text, ps, 3, 0.35) == 0,
              "thorough: %d rationale(s), cites passage 2, every marker verified",
              a->n_rationales);
    }
    askdocs_answer_free(a);
    a = NULL;
    rq.mode = ASKDOCS_ANSWER_EXTRACTIVE;
    rc = askdocs_generator_ask(g, &rq, &a);
    CHECK(rc == ASKDOCS_OK && a && a->mode == ASKDOCS_ANSWER_EXTRACTIVE &&
              a->n_gen_tokens == 0 && a->n_citations >= 1 && a->citations[0].n == 2,
          "extractive on request with a model loaded: no generation, cites [2]");
    askdocs_answer_free(a);
    a = NULL;

    /* weak evidence: no passage holds enough of the question's words */
    {
        askdocs_generator *gw = NULL;
        askdocs_generator_params pw = p;
        pw.min_evidence = 0.5;
        rc = askdocs_generator_open(&pw, &gw, err, sizeof err);
        if (rc == ASKDOCS_OK) {
            askdocs_ask_request wq = rq;
            wq.question = "Which vaccine schedule applies to laboratory rabbits?";
            wq.mode = ASKDOCS_ANSWER_MODEL;
            rc = askdocs_generator_ask(gw, &wq, &a);
            CHECK(rc == ASKDOCS_OK && a && a->refused && a->weak_evidence &&
                      a->n_gen_tokens == 0 && a->evidence_score < 0.5,
                  "weak evidence (score %.2f) refused without running the model",
                  a ? a->evidence_score : -1.0);
            askdocs_answer_free(a);
            a = NULL;
            wq.question = "What is the notice period for termination?";
            rc = askdocs_generator_ask(gw, &wq, &a);
            CHECK(rc == ASKDOCS_OK && a && !a->weak_evidence && a->evidence_score >= 0.5,
                  "a covered question passes the evidence threshold (score %.2f)",
                  a ? a->evidence_score : -1.0);
            askdocs_answer_free(a);
            a = NULL;
        }
        askdocs_generator_free(gw);
    }

    /* compression: the answer sits in the middle of a long passage */
    while (o + 200 < sizeof longp / 2)
        o += (size_t)snprintf(longp + o, sizeof longp - o,
                              "Section %zu describes the invoicing schedule of the supplier. ",
                              o / 60);
    o += (size_t)snprintf(longp + o, sizeof longp - o, "%s ", P_NOTICE);
    while (o + 200 < sizeof longp)
        o += (size_t)snprintf(longp + o, sizeof longp - o,
                              "Clause %zu sets out the reporting duties of the auditor. ", o / 60);
    set_passage(&lp[0], "legal/long.pdf", "Agreement", 4, 77, longp);
    rq.passages = lp;
    rq.n = 1;
    rq.mode = ASKDOCS_ANSWER_MODEL;
    rc = askdocs_generator_ask(g, &rq, &a);
    askdocs_generator_free(g);
    g = NULL;
    p.compress_tokens = -1;
    if (askdocs_generator_open(&p, &g, err, sizeof err) == ASKDOCS_OK)
        askdocs_generator_ask(g, &rq, &b);
    CHECK(rc == ASKDOCS_OK && a && b && a->n_prompt_tokens < b->n_prompt_tokens / 3 &&
              a->n_prompt_tokens < 600,
          "a long passage is compressed: %d prompt tokens instead of %d",
          a ? a->n_prompt_tokens : -1, b ? b->n_prompt_tokens : -1);
    if (a) {
        print_answer(a);
        CHECK(!a->refused && a->n_citations == 1 && a->citations[0].chunk_id == 77 &&
                  strstr(a->citations[0].text + a->citations[0].span_start, "ninety") != NULL,
              "answer from the compressed passage cites the notice sentence");
    }
    askdocs_answer_free(a);
    askdocs_answer_free(b);
    askdocs_generator_free(g);
}

/* ------------------------------------------------------------ bench */

static int bench(const char *model, int threads)
{
    askdocs_generator *g = NULL;
    askdocs_generator_params p = askdocs_generator_default_params();
    static char text[6][720];
    askdocs_passage ps[6];
    char err[512];
    const char *topics[6] = { "termination", "payment", "liability", "confidentiality",
                              "warranty", "audit" };
    p.model_path = model;
    p.n_threads = threads > 0 ? threads : 2;
    p.max_answer_tokens = 128;
    p.temperature = 0;
    if (askdocs_generator_open(&p, &g, err, sizeof err) != ASKDOCS_OK) {
        fprintf(stderr, "open: %s\n", err);
        return 1;
    }
    for (int i = 0; i < 6; i++) {
        size_t o = 0;
        int k = 0;
        while (o + 160 < sizeof text[i] && ++k)
            o += (size_t)snprintf(text[i] + o, sizeof text[i] - o,
                                  "Section %d.%d: the %s terms require the supplier to inform "
                                  "the customer within %d business days. ",
                                  i + 1, k, topics[i], 10 + k);
        set_passage(&ps[i], "bench.pdf", "Agreement", i + 1, i, text[i]);
    }
    for (int run = 0; run < 3; run++) {
        askdocs_answer *a = NULL;
        stream_rec r;
        /* run 0: cold; run 1: other evidence order (only the system prefix
         * is reused); run 2: same prompt as run 1 (whole prefix reused) */
        askdocs_passage order[6];
        for (int i = 0; i < 6; i++)
            order[i] = ps[run == 0 ? i : 5 - i];
        memset(&r, 0, sizeof r);
        askdocs_buf_init(&r.text, 1 << 20);
        if (askdocs_generator_answer(g, "Within how many days must the supplier inform the "
                                        "customer about termination?",
                                     order, 6, rec_cb, &r, &a) != ASKDOCS_OK) {
            fprintf(stderr, "answer: %s\n", askdocs_generator_errmsg(g));
            askdocs_buf_free(&r.text);
            askdocs_generator_free(g);
            return 1;
        }
        printf("run %d: prompt %d tokens (%d reused), %d passages, ttft %.0f ms, "
               "%d generated tokens, generation %.1f tokens/s, total %.0f ms\n",
               run, a->n_prompt_tokens, gen_last_reused_tokens(g), a->n_passages_used,
               a->ttft_ms, a->n_gen_tokens,
               (r.pieces > 1 && r.t_last > r.t_first)
                   ? (a->n_gen_tokens - 1) * 1000.0 / (r.t_last - r.t_first)
                   : 0.0,
               a->total_ms);
        printf("       answer: %s\n", a->text);
        askdocs_answer_free(a);
        askdocs_buf_free(&r.text);
    }
    askdocs_generator_free(g);
    return 0;
}

int main(int argc, char **argv)
{
    const char *model = argc > 1 ? argv[1] : NULL;
    if (model && argc > 2 && strcmp(argv[2], "--bench") == 0)
        return bench(model, argc > 3 ? atoi(argv[3]) : 2);
    askdocs_log_level = 0;
    test_tokens();
    test_sentences();
    test_refusal();
    test_verify();
    test_extractive();
    test_oom();
    test_sentences_spans(argc > 2 && strcmp(argv[2], "--bench") != 0 ? argv[2] : NULL);
    if (model && *model) {
        test_model(model);
        test_concurrency(model);
        test_modes(model);
    }
    else
        printf("-- real model checks SKIPPED (no model path given)\n");
    printf("%d checks passed, %d failed\n", n_ok, n_fail);
    return n_fail ? 1 : 0;
}
