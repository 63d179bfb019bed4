/*
 * test_extract_hwp.c - HWP 5.x and HWPX extraction on documents written
 * by gen_hwp from known text: order of articles and clauses, table rows
 * with their header, headings, page numbers, compressed vs raw HWP vs
 * HWPX, and a clear error (never a crash) for every damaged or protected
 * file, plus mutated copies of the good files.
 *
 * Usage: test_extract_hwp GEN_HWP OUTDIR
 */
#include "idx_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"

static const char *outdir;

static char *load(const char *name, size_t *n)
{
    char *path = askdocs_path_join(outdir, name), *data = NULL;
    char err[256];
    if (!path ||
        askdocs_read_file(path, (size_t)64 << 20, &data, n, err,
                          sizeof(err)) != ASKDOCS_OK) {
        fprintf(stderr, "cannot read %s: %s\n", name, path ? err : "oom");
        data = NULL;
    }
    askdocs_free(path);
    return data;
}

/* Extract outdir/name; returns the rc, err gets the message. */
static askdocs_rc extract(const char *name, size_t max_expand,
                          idx_document *doc, char *err, size_t errlen)
{
    idx_extract_limits lim = idx_extract_default_limits();
    size_t n = 0;
    char *data = load(name, &n);
    askdocs_rc rc;
    memset(doc, 0, sizeof(*doc));
    if (!data) {
        askdocs_snprintf(err, errlen, "missing fixture");
        return ASKDOCS_ERR_IO;
    }
    if (max_expand)
        lim.max_expand_bytes = max_expand;
    rc = idx_extract(name, data, n, &lim, doc, err, errlen);
    askdocs_free(data);
    return rc;
}

/* Byte offset of s in the text at or after from; -1 when absent. */
static long find(const idx_document *d, const char *s, long from)
{
    const char *p;
    if (!d->text || from < 0 || (size_t)from > d->len)
        return -1;
    p = strstr(d->text + from, s);
    return p ? (long)(p - d->text) : -1;
}

/* 1-based page of byte offset off; 0 when not paged. */
static int page_of(const idx_document *d, long off)
{
    int i, page = 0;
    for (i = 0; i < d->n_pages; i++)
        if ((long)d->page_starts[i] <= off)
            page = i + 1;
    return page;
}

/* Index of the block that starts with s; -1 when none. */
static int block_of(const idx_document *d, const char *s)
{
    int i;
    size_t l = strlen(s);
    for (i = 0; i < d->n_blocks; i++)
        if (d->blocks[i].end - d->blocks[i].start >= l &&
            memcmp(d->text + d->blocks[i].start, s, l) == 0)
            return i;
    return -1;
}

/* The statute, in order, as every good fixture must give it. */
static const char *const in_order[] = {
    "제1편 총칙",
    "제1장 일반 규정",
    "제1조(목적) 이 규칙은 개인정보의 처리 및 보호에 관한 사항을 정함을 "
    "목적으로 한다.",
    "제2조(정의) 이 규칙에서 사용하는 용어의 뜻은 다음과 같다.",
    "① \"개인정보\"란 살아 있는 개인에 관한 정보를 말한다.",
    /* a tab and a line break become spaces */
    "② \"처리\"란 개인정보의 수집, 생성, 기록 및 저장을 말하며 다음 각 "
    "호와 같다.",
    "1. 수집: 정보주체로부터 직접 받는 것",
    "가. 서면으로 받는 경우",
    "나. 전자적 방법(e-mail 등)으로 받는 경우",
    "2. 저장: 1,234,000건 이하의 기록을 보관하는 것 (담당 \xF0\xA0\x80\x80씨)",
    "구분 | 보존기간 | 수수료(원)",
    "일반 기록 | 3년 | 1,234,000",
    "민감 기록 | 10년 | 56,700",
    "제3조(적용 범위) This rule applies to every department & office;",
    "제2장 개인정보의 처리",
    "제1절 수집",
    "제4조(수집의 제한) ① 개인정보처리자는",
    "② 제1항에도 불구하고",
    "제5조(보칙)",
    "부칙 이 규칙은 2024년 3월 1일부터 시행한다.",
};
#define N_ORDER ((int)(sizeof(in_order) / sizeof(in_order[0])))

static void check_statute(const char *name, const idx_document *d)
{
    long pos = 0;
    int i, b;
    fprintf(stderr, "-- %s: %zu bytes, %d blocks, %d pages, title \"%s\"\n",
            name, d->len, d->n_blocks, d->n_pages,
            d->title ? d->title : "");
    for (i = 0; i < N_ORDER; i++) {
        long at = find(d, in_order[i], pos);
        if (at < 0)
            fprintf(stderr, "%s: missing or out of order: %s\n", name,
                    in_order[i]);
        CHECK(at >= 0);
        if (at >= 0)
            pos = at + 1;
    }
    CHECK(strcmp(d->lang, "ko") == 0);

    /* headings by outline level; the article in an outline style stays
     * a paragraph */
    b = block_of(d, "제1편 총칙");
    CHECK(b >= 0 && d->blocks[b].kind == IDX_BLOCK_HEADING &&
          d->blocks[b].level == 1);
    b = block_of(d, "제1장 일반 규정");
    CHECK(b >= 0 && d->blocks[b].kind == IDX_BLOCK_HEADING &&
          d->blocks[b].level == 2);
    b = block_of(d, "제1절 수집");
    CHECK(b >= 0 && d->blocks[b].kind == IDX_BLOCK_HEADING &&
          d->blocks[b].level == 3);
    b = block_of(d, "제5조(보칙)");
    CHECK(b >= 0 && d->blocks[b].kind == IDX_BLOCK_PARA);
    b = block_of(d, "제1조(목적)");
    CHECK(b >= 0 && d->blocks[b].kind == IDX_BLOCK_PARA);

    /* table rows point to their header row */
    {
        int h = block_of(d, "구분 | 보존기간");
        int r1 = block_of(d, "일반 기록 |");
        int r2 = block_of(d, "민감 기록 |");
        CHECK(h >= 0 && d->blocks[h].kind == IDX_BLOCK_TABLE_ROW &&
              d->blocks[h].header == h);
        CHECK(r1 >= 0 && d->blocks[r1].kind == IDX_BLOCK_TABLE_ROW &&
              d->blocks[r1].header == h);
        CHECK(r2 >= 0 && d->blocks[r2].kind == IDX_BLOCK_TABLE_ROW &&
              d->blocks[r2].header == h &&
              d->blocks[r2].table == d->blocks[h].table);
    }

    /* two pages, split by the explicit break before 제2장 */
    CHECK(d->n_pages == 2);
    CHECK(d->n_pages >= 1 && d->page_starts[0] == 0);
    CHECK(page_of(d, find(d, "제1조(목적)", 0)) == 1);
    CHECK(page_of(d, find(d, "민감 기록", 0)) == 1);
    CHECK(page_of(d, find(d, "제3조(적용 범위)", 0)) == 1);
    CHECK(page_of(d, find(d, "제2장 개인정보의 처리", 0)) == 2);
    CHECK(page_of(d, find(d, "부칙", 0)) == 2);
}

static int same_doc(const idx_document *a, const idx_document *b)
{
    int i;
    if (a->len != b->len || memcmp(a->text, b->text, a->len) != 0 ||
        a->n_pages != b->n_pages || a->n_blocks != b->n_blocks)
        return 0;
    for (i = 0; i < a->n_pages; i++)
        if (a->page_starts[i] != b->page_starts[i])
            return 0;
    for (i = 0; i < a->n_blocks; i++)
        if (a->blocks[i].kind != b->blocks[i].kind ||
            a->blocks[i].level != b->blocks[i].level ||
            a->blocks[i].start != b->blocks[i].start ||
            a->blocks[i].header != b->blocks[i].header)
            return 0;
    return 1;
}

static void expect_error(const char *name, size_t max_expand,
                         askdocs_rc want, const char *word)
{
    idx_document d;
    char err[512] = "";
    askdocs_rc rc = extract(name, max_expand, &d, err, sizeof(err));
    fprintf(stderr, "-- %s: rc %d (%s): %s\n", name, (int)rc,
            askdocs_strerror(rc), err);
    CHECK(rc == want);
    CHECK(err[0] != '\0');
    CHECK(!word || strstr(err, word) != NULL);
    idx_document_free(&d);
}

/* Mutated copies of a good file: truncations and flipped bytes must give
 * text or an error, never a crash, a hang or a leak (under ASan). */
static void mutate(const char *name, int rounds)
{
    size_t n = 0, i;
    char *orig = load(name, &n), *buf;
    uint32_t x = 2024;
    int r, ok = 0, bad = 0;
    idx_extract_limits lim = idx_extract_default_limits();
    lim.max_expand_bytes = (size_t)4 << 20;
    CHECK(orig != NULL);
    if (!orig)
        return;
    buf = askdocs_malloc(n);
    CHECK(buf != NULL);
    for (r = 0; buf && r < rounds; r++) {
        idx_document d;
        char err[256];
        size_t len = n;
        memcpy(buf, orig, n);
        x = x * 1103515245u + 12345u;
        if (r % 3 == 0) {
            len = (size_t)(x >> 8) % n;
        } else {
            int k, flips = 1 + (int)((x >> 4) % 8);
            for (k = 0; k < flips; k++) {
                x = x * 1103515245u + 12345u;
                i = (size_t)(x >> 8) % n;
                buf[i] = (char)(buf[i] ^ (char)(1u << ((x >> 3) & 7)));
            }
        }
        if (idx_extract(name, buf, len, &lim, &d, err, sizeof(err)) ==
            ASKDOCS_OK)
            ok++;
        else {
            bad++;
            CHECK(err[0] != '\0');
        }
        idx_document_free(&d);
    }
    fprintf(stderr, "-- %s mutated %d times: %d extracted, %d refused\n",
            name, rounds, ok, bad);
    askdocs_free(buf);
    askdocs_free(orig);
}

int main(int argc, char **argv);
int main(int argc, char **argv)
{
    idx_document hwp, raw, hwpx;
    char err[512], cmd[2048];
    askdocs_rc rc;

    if (argc != 3) {
        fprintf(stderr, "usage: test_extract_hwp GEN_HWP OUTDIR\n");
        return 2;
    }
    outdir = argv[2];
    if (strchr(argv[1], '\'') || strchr(argv[2], '\'')) {
        fprintf(stderr, "paths with quotes are not supported\n");
        return 2;
    }
    askdocs_snprintf(cmd, sizeof(cmd), "'%s' '%s'", argv[1], argv[2]);
    if (system(cmd) != 0) {
        fprintf(stderr, "%s failed\n", cmd);
        return 1;
    }

    rc = extract("statute.hwp", 0, &hwp, err, sizeof(err));
    if (rc)
        fprintf(stderr, "statute.hwp: %s\n", err);
    CHECK(rc == ASKDOCS_OK);
    if (rc == ASKDOCS_OK) {
        check_statute("statute.hwp", &hwp);
        CHECK(strcmp(hwp.type, "hwp") == 0);
        CHECK(hwp.title &&
              strcmp(hwp.title, "개인정보 보호 시행 규칙 (시험용)") == 0);
        CHECK(strstr(hwp.dates, "2024-03-01") != NULL);
    }

    rc = extract("statute-raw.hwp", 0, &raw, err, sizeof(err));
    if (rc)
        fprintf(stderr, "statute-raw.hwp: %s\n", err);
    CHECK(rc == ASKDOCS_OK);
    if (rc == ASKDOCS_OK) {
        check_statute("statute-raw.hwp", &raw);
        /* layout flags (compressed file) and explicit break (raw file)
         * agree */
        CHECK(hwp.text && same_doc(&hwp, &raw));
    }

    rc = extract("statute.hwpx", 0, &hwpx, err, sizeof(err));
    if (rc)
        fprintf(stderr, "statute.hwpx: %s\n", err);
    CHECK(rc == ASKDOCS_OK);
    if (rc == ASKDOCS_OK) {
        check_statute("statute.hwpx", &hwpx);
        CHECK(strcmp(hwpx.type, "hwpx") == 0);
        CHECK(hwp.text && same_doc(&hwp, &hwpx));
        CHECK(hwpx.title &&
              strcmp(hwpx.title, "개인정보 보호 시행 규칙 (시험용)") == 0);
    }
    idx_document_free(&hwp);
    idx_document_free(&raw);
    idx_document_free(&hwpx);

    expect_error("encrypted.hwp", 0, ASKDOCS_ERR_ENCRYPTED, "password");
    expect_error("distribution.hwp", 0, ASKDOCS_ERR_UNSUPPORTED,
                 "distribution");
    expect_error("truncated.hwp", 0, ASKDOCS_ERR_CORRUPT, "truncated");
    expect_error("bomb.hwp", (size_t)1 << 20, ASKDOCS_ERR_TOOBIG, "limit");
    expect_error("garbage.hwp", 0, ASKDOCS_ERR_CORRUPT, "HWP");
    expect_error("encrypted.hwpx", 0, ASKDOCS_ERR_ENCRYPTED, "password");
    {
        /* under the default limit the same file is only big */
        idx_document d;
        rc = extract("bomb.hwp", 0, &d, err, sizeof(err));
        CHECK(rc == ASKDOCS_OK);
        CHECK(rc != ASKDOCS_OK || d.len >= ((size_t)4 << 20));
        idx_document_free(&d);
    }

    mutate("statute-raw.hwp", 300);
    mutate("statute.hwp", 300);
    mutate("statute.hwpx", 200);

    fprintf(stderr, "%d checks, %d failed\n", checks, failures);
    return failures ? 1 : 0;
}
