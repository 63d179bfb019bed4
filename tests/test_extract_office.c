/*
 * test_extract_office.c - the PDF, DOCX, XLSX, CSV and HTML extractors on
 * the fixtures of make_office_fixtures.sh (argv[1] = their directory):
 * text, block kinds and levels, table header rows, page numbers of known
 * strings, titles, and the errors for corrupt, truncated, encrypted and
 * oversized input. The scanned PDF and the zip bombs are built here.
 */
#include "idx_internal.h"

#include <cairo-pdf.h>
#include <cairo.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zip.h>

#include "check.h"

static const char *fixdir;

typedef struct file {
    char *data;
    size_t n;
} file;

static file load(const char *name)
{
    file f = {NULL, 0};
    char *path = askdocs_path_join(fixdir, name);
    char err[256];
    if (!path ||
        askdocs_read_file(path, (size_t)256 << 20, &f.data, &f.n, err,
                          sizeof(err)) != ASKDOCS_OK) {
        fprintf(stderr, "cannot read fixture %s\n", name);
        failures++;
        f.data = NULL;
        f.n = 0;
    }
    askdocs_free(path);
    return f;
}

/* Extract data as a file called name; err printed when it fails and
 * expect is OK. */
static askdocs_rc run(const char *name, const char *data, size_t n,
                      const idx_extract_limits *lim, idx_document *doc,
                      char *err, size_t errlen)
{
    askdocs_rc rc;
    err[0] = '\0';
    rc = idx_extract(name, data ? data : "", n, lim, doc, err, errlen);
    return rc;
}

/* Extract fixture name with limits lim (NULL = defaults). */
static askdocs_rc extract_fixture(const char *name,
                                  const idx_extract_limits *lim,
                                  idx_document *doc)
{
    char err[512];
    file f = load(name);
    askdocs_rc rc = run(name, f.data, f.n, lim, doc, err, sizeof(err));
    if (rc != ASKDOCS_OK)
        fprintf(stderr, "%s: rc %d: %s\n", name, (int)rc, err);
    askdocs_free(f.data);
    return rc;
}

static int str_is(const char *a, const char *b)
{
    return a && strcmp(a, b) == 0;
}

static long find(const idx_document *d, const char *s)
{
    const char *p;
    if (!d->text)
        return -1;
    p = strstr(d->text, s);
    return p ? (long)(p - d->text) : -1;
}

static int page_of(const idx_document *d, long off)
{
    int i, page = 0;
    if (off < 0)
        return -1;
    for (i = 0; i < d->n_pages; i++)
        if (d->page_starts[i] <= (size_t)off)
            page = i + 1;
    return page;
}

/* The block holding byte off, or NULL. */
static const idx_block *block_at(const idx_document *d, long off)
{
    int i;
    for (i = 0; off >= 0 && i < d->n_blocks; i++)
        if (d->blocks[i].start <= (size_t)off && (size_t)off < d->blocks[i].end)
            return &d->blocks[i];
    return NULL;
}

static const idx_block *block_of(const idx_document *d, const char *s)
{
    return block_at(d, find(d, s));
}

static int block_index(const idx_document *d, const idx_block *b)
{
    return b ? (int)(b - d->blocks) : -2;
}

/* 1 if block b's text is exactly s. */
static int block_is(const idx_document *d, const idx_block *b, const char *s)
{
    return b && b->end - b->start == strlen(s) &&
           memcmp(d->text + b->start, s, b->end - b->start) == 0;
}

static int kind_of(const idx_document *d, const char *s)
{
    const idx_block *b = block_of(d, s);
    return b ? b->kind : -1;
}

static int level_of(const idx_document *d, const char *s)
{
    const idx_block *b = block_of(d, s);
    return b ? b->level : -1;
}

/* Row s is a table row whose header row is exactly hdr. */
static int row_under(const idx_document *d, const char *s, const char *hdr)
{
    const idx_block *b = block_of(d, s);
    if (!b || b->kind != IDX_BLOCK_TABLE_ROW || b->header < 0 ||
        b->header >= d->n_blocks)
        return 0;
    return block_is(d, &d->blocks[b->header], hdr);
}

/* Row s is the header row of its table. */
static int is_header_row(const idx_document *d, const char *s)
{
    const idx_block *b = block_of(d, s);
    return b && b->kind == IDX_BLOCK_TABLE_ROW &&
           b->header == block_index(d, b);
}

/* ---------------------------------------------------------------- DOCX */

static void test_docx(void)
{
    idx_document d;
    const idx_block *b;
    CHECK(extract_fixture("contract.docx", NULL, &d) == ASKDOCS_OK);
    CHECK(d.title && strcmp(d.title, "Software License Agreement") == 0);
    CHECK(str_is(d.type, "docx"));
    CHECK(d.n_pages == 0);
    b = block_of(&d, "Software License Agreement");
    CHECK(b && b->kind == IDX_BLOCK_HEADING && b->level == 1);
    CHECK(block_is(&d, block_of(&d, "1. Definitions"), "1. Definitions"));
    CHECK(kind_of(&d, "1. Definitions") == IDX_BLOCK_HEADING);
    CHECK(level_of(&d, "1. Definitions") == 2);
    CHECK(level_of(&d, "3. Termination") == 2);
    CHECK(kind_of(&d, "Software means the licensed") == IDX_BLOCK_LIST);
    CHECK(level_of(&d, "Software means the licensed") == 0);
    CHECK(kind_of(&d, "Updates include patches") == IDX_BLOCK_LIST);
    CHECK(level_of(&d, "Updates include patches") == 1);
    CHECK(kind_of(&d, "This Agreement is made on") == IDX_BLOCK_PARA);
    CHECK(is_header_row(&d, "Item | Amount | Due date"));
    CHECK(row_under(&d, "License fee | USD 10,000 | 2024-04-01",
                    "Item | Amount | Due date"));
    CHECK(row_under(&d, "Support fee | USD 2,000", "Item | Amount | Due date"));
    CHECK(kind_of(&d, "thirty days written notice") == IDX_BLOCK_PARA);
    CHECK(strcmp(d.lang, "en") == 0);
    CHECK(d.dates && strstr(d.dates, "2024-03-01"));
    idx_document_free(&d);

    CHECK(extract_fixture("statute.docx", NULL, &d) == ASKDOCS_OK);
    CHECK(d.title && strcmp(d.title, "개인정보 보호법 시행령(예시)") == 0);
    CHECK(kind_of(&d, "제1장 총칙") == IDX_BLOCK_HEADING);
    CHECK(level_of(&d, "제1장 총칙") == 2);
    CHECK(kind_of(&d, "제1조(목적) 이 영은") == IDX_BLOCK_PARA);
    CHECK(find(&d, "② 제1항에도 불구하고") >= 0);
    CHECK(find(&d, "1. \"개인정보처리자\"란") >= 0);
    CHECK(strcmp(d.lang, "ko") == 0);
    idx_document_free(&d);

    /* DOCX has no reliable page layout: not paged */
    CHECK(extract_fixture("multipage.docx", NULL, &d) == ASKDOCS_OK);
    CHECK(find(&d, "Page Four Marker delta") >= 0);
    CHECK(d.n_pages == 0);
    idx_document_free(&d);
}

/* ----------------------------------------------------------------- PDF */

static void test_pdf(void)
{
    idx_document d;
    idx_extract_limits lim = idx_extract_default_limits();
    long a, z;
    int want_page = 0, want_pages = 0;
    file f;

    CHECK(extract_fixture("contract.pdf", NULL, &d) == ASKDOCS_OK);
    CHECK(str_is(d.type, "pdf"));
    CHECK(d.n_pages == 1);
    CHECK(d.title && strcmp(d.title, "Software License Agreement") == 0);
    CHECK(kind_of(&d, "Software License Agreement") == IDX_BLOCK_HEADING);
    CHECK(level_of(&d, "Software License Agreement") == 1);
    CHECK(kind_of(&d, "2. Fees") == IDX_BLOCK_HEADING);
    CHECK(level_of(&d, "2. Fees") == 2);
    /* the wrapped sentence is one paragraph, its lines joined by spaces */
    a = find(&d, "This Agreement is made on");
    z = find(&d, "when the page is laid out.");
    CHECK(a >= 0 && z > a && block_at(&d, a) == block_at(&d, z));
    CHECK(kind_of(&d, "This Agreement is made on") == IDX_BLOCK_PARA);
    CHECK(find(&d, "Acme Corporation (the Licensor) and Beta Trading LLC") >= 0);
    CHECK(kind_of(&d, "Software means the licensed") == IDX_BLOCK_LIST);
    CHECK(block_is(&d, block_of(&d, "Software means the licensed"),
                   "Software means the licensed program in object code "
                   "form."));
    CHECK(page_of(&d, find(&d, "thirty days written notice")) == 1);
    CHECK(d.n_textless_pages == 0 && d.warning[0] == '\0');
    idx_document_free(&d);

    CHECK(extract_fixture("statute.pdf", NULL, &d) == ASKDOCS_OK);
    CHECK(find(&d, "제1조(목적)") >= 0);
    CHECK(kind_of(&d, "제2장 개인정보의 처리") == IDX_BLOCK_HEADING);
    /* evenly spaced lines: a sentence ending short of the margin ends the
     * paragraph, so articles are separate blocks */
    CHECK(block_of(&d, "제1조(목적)") && block_of(&d, "제2조(정의)") &&
          block_of(&d, "제1조(목적)") != block_of(&d, "제2조(정의)"));
    CHECK(block_is(&d, block_of(&d, "제2조(정의)"),
                   "제2조(정의) ① 이 영에서 사용하는 용어의 뜻은 다음과 "
                   "같다."));
    CHECK(strcmp(d.lang, "ko") == 0);
    idx_document_free(&d);

    /* explicit page breaks; page 3 is empty and still counted */
    CHECK(extract_fixture("multipage.pdf", NULL, &d) == ASKDOCS_OK);
    CHECK(d.n_pages == 4);
    CHECK(page_of(&d, find(&d, "Page One Marker alpha")) == 1);
    CHECK(page_of(&d, find(&d, "Page Two Marker bravo")) == 2);
    CHECK(page_of(&d, find(&d, "두 번째 쪽")) == 2);
    CHECK(page_of(&d, find(&d, "Page Four Marker delta")) == 4);
    CHECK(d.n_textless_pages == 1);
    CHECK(strstr(d.warning, "1 of 4 pages") != NULL);
    CHECK(d.n_pages == 4 && d.page_starts[2] == d.page_starts[3]);
    idx_document_free(&d);

    lim.max_pages = 2;
    f = load("multipage.pdf");
    {
        char err[512];
        CHECK(run("multipage.pdf", f.data, f.n, &lim, &d, err, sizeof(err)) ==
              ASKDOCS_ERR_TOOBIG);
        CHECK(strstr(err, "4 pages") != NULL);
    }
    askdocs_free(f.data);

    /* a real document: the page poppler's pdftotext puts the clause on */
    f = load("apache2.expect");
    CHECK(f.data && sscanf(f.data, "%d %d", &want_page, &want_pages) == 2);
    askdocs_free(f.data);
    CHECK(extract_fixture("apache2.pdf", NULL, &d) == ASKDOCS_OK);
    CHECK(d.n_pages == want_pages);
    CHECK(want_page > 1 && page_of(&d, find(&d, "Grant of Patent License")) ==
                               want_page);
    CHECK(page_of(&d, find(&d, "TERMS AND CONDITIONS FOR USE")) == 1);
    idx_document_free(&d);
}

static void test_pdf_errors(void)
{
    idx_document d;
    char err[512];
    file f = load("encrypted.pdf");
    static const char garbage[] = "%PDF-1.7\n\x01\x02 this is not a PDF";

    CHECK(run("encrypted.pdf", f.data, f.n, NULL, &d, err, sizeof(err)) ==
          ASKDOCS_ERR_ENCRYPTED);
    CHECK(strstr(err, "password-protected") != NULL);
    askdocs_free(f.data);

    CHECK(run("garbage.pdf", garbage, sizeof(garbage) - 1, NULL, &d, err,
              sizeof(err)) == ASKDOCS_ERR_CORRUPT);
    CHECK(strstr(err, "corrupt") != NULL);
    CHECK(run("empty.pdf", "", 0, NULL, &d, err, sizeof(err)) ==
          ASKDOCS_ERR_CORRUPT);

    f = load("contract.pdf");
    if (f.data) {
        askdocs_rc rc;
        CHECK(run("cut.pdf", f.data, 300, NULL, &d, err, sizeof(err)) ==
              ASKDOCS_ERR_CORRUPT);
        /* cut in the middle: poppler may rebuild the cross-reference
         * table and recover what is left; either way a clean result */
        rc = run("half.pdf", f.data, f.n / 2, NULL, &d, err, sizeof(err));
        CHECK(rc == ASKDOCS_OK || rc == ASKDOCS_ERR_CORRUPT);
        if (rc == ASKDOCS_OK)
            idx_document_free(&d);
    }
    askdocs_free(f.data);
}

typedef struct membuf {
    char *data;
    size_t n, cap;
} membuf;

static cairo_status_t mem_write(void *closure, const unsigned char *p,
                                unsigned int len)
{
    membuf *m = closure;
    if (m->n + len > m->cap) {
        size_t ncap = (m->n + len) * 2;
        char *nd = askdocs_realloc(m->data, ncap);
        if (!nd)
            return CAIRO_STATUS_NO_MEMORY;
        m->data = nd;
        m->cap = ncap;
    }
    memcpy(m->data + m->n, p, len);
    m->n += len;
    return CAIRO_STATUS_SUCCESS;
}

/* A one-page PDF whose only content is a bitmap of some text: what a
 * scanner produces. */
static membuf scanned_pdf(void)
{
    membuf m = {NULL, 0, 0};
    cairo_surface_t *img = cairo_image_surface_create(CAIRO_FORMAT_RGB24,
                                                      1275, 1650);
    cairo_t *cr = cairo_create(img);
    cairo_surface_t *pdf;
    cairo_set_source_rgb(cr, 1, 1, 1);
    cairo_paint(cr);
    cairo_set_source_rgb(cr, 0, 0, 0);
    cairo_select_font_face(cr, "DejaVu Sans", CAIRO_FONT_SLANT_NORMAL,
                           CAIRO_FONT_WEIGHT_NORMAL);
    cairo_set_font_size(cr, 48);
    cairo_move_to(cr, 120, 300);
    cairo_show_text(cr, "NOTICE OF TERMINATION");
    cairo_set_font_size(cr, 36);
    cairo_move_to(cr, 120, 420);
    cairo_show_text(cr, "The agreement ends on 30 June 2024.");
    cairo_destroy(cr);
    cairo_surface_flush(img);

    pdf = cairo_pdf_surface_create_for_stream(mem_write, &m, 612, 792);
    cr = cairo_create(pdf);
    cairo_scale(cr, 612.0 / 1275.0, 792.0 / 1650.0);
    cairo_set_source_surface(cr, img, 0, 0);
    cairo_paint(cr);
    cairo_destroy(cr);
    cairo_surface_finish(pdf);
    cairo_surface_destroy(pdf);
    cairo_surface_destroy(img);
    return m;
}

static void test_pdf_ocr(void)
{
    idx_document d;
    idx_extract_limits lim = idx_extract_default_limits();
    char err[512];
    membuf m = scanned_pdf();
    CHECK(m.n > 0);

    CHECK(run("scan.pdf", m.data, m.n, &lim, &d, err, sizeof(err)) ==
          ASKDOCS_OK);
    CHECK(d.n_pages == 1 && d.n_textless_pages == 1 && d.n_ocr_pages == 0);
    CHECK(strstr(d.warning, "1 of 1 pages have no text layer") != NULL);
    CHECK(strstr(d.warning, "ocr = 1") != NULL);
    idx_document_free(&d);

    lim.ocr = 1;
    lim.ocr_dpi = 200;
    CHECK(run("scan.pdf", m.data, m.n, &lim, &d, err, sizeof(err)) ==
          ASKDOCS_OK);
    CHECK(d.n_ocr_pages == 1 && d.n_textless_pages == 0);
    CHECK(find(&d, "NOTICE OF TERMINATION") >= 0);
    CHECK(find(&d, "30 June 2024") >= 0);
    CHECK(d.dates && strstr(d.dates, "2024-06-30"));
    CHECK(page_of(&d, find(&d, "TERMINATION")) == 1);
    CHECK(d.warning[0] == '\0');
    if (find(&d, "TERMINATION") < 0)
        fprintf(stderr, "OCR text: %s\n", d.text ? d.text : "(null)");
    idx_document_free(&d);

    /* languages Tesseract does not have: a warning, not a failure */
    lim.ocr_langs = "xxx";
    CHECK(run("scan.pdf", m.data, m.n, &lim, &d, err, sizeof(err)) ==
          ASKDOCS_OK);
    CHECK(d.n_textless_pages == 1 && strstr(d.warning, "OCR") != NULL);
    idx_document_free(&d);
    askdocs_free(m.data);
}

/* ---------------------------------------------------------------- XLSX */

static void test_xlsx(void)
{
    idx_document d;
    const idx_block *a, *b;
    CHECK(extract_fixture("book.xlsx", NULL, &d) == ASKDOCS_OK);
    CHECK(str_is(d.type, "xlsx"));
    CHECK(block_is(&d, block_of(&d, "Revenue"), "Revenue"));
    CHECK(kind_of(&d, "Revenue") == IDX_BLOCK_HEADING);
    CHECK(kind_of(&d, "직원") == IDX_BLOCK_HEADING);
    CHECK(find(&d, "Revenue") < find(&d, "직원"));
    CHECK(is_header_row(&d, "Quarter | Revenue | Note"));
    CHECK(row_under(&d, "Q1 | 1200 | 매출 증가", "Quarter | Revenue | Note"));
    CHECK(row_under(&d, "Q2 | 1350.5 | flat", "Quarter | Revenue | Note"));
    /* the second sheet starts with an empty row: the next one is header */
    CHECK(is_header_row(&d, "이름 | 부서 | 입사연도"));
    CHECK(row_under(&d, "홍길동 | 법무팀 | 2019", "이름 | 부서 | 입사연도"));
    CHECK(row_under(&d, "김영희 | 재무팀 | 2021", "이름 | 부서 | 입사연도"));
    a = block_of(&d, "Q1 | 1200");
    b = block_of(&d, "홍길동");
    CHECK(a && b && a->table != b->table);
    idx_document_free(&d);
}

/* ----------------------------------------------------------------- CSV */

static void test_csv(void)
{
    idx_document d;
    char err[512];
    static const char nul[] = "a,b\n\0\0\0binary";

    CHECK(extract_fixture("utf8.csv", NULL, &d) == ASKDOCS_OK);
    CHECK(str_is(d.type, "csv"));
    CHECK(is_header_row(&d, "Name | Address | Note"));
    CHECK(row_under(&d, "Kim, Minsu | Seoul, Korea | line one line two",
                    "Name | Address | Note"));
    CHECK(row_under(&d, "Lee | Busan | He said \"hi\"",
                    "Name | Address | Note"));
    idx_document_free(&d);

    CHECK(extract_fixture("bom.csv", NULL, &d) == ASKDOCS_OK);
    CHECK(find(&d, "이름 | 주소") == 0);
    CHECK(row_under(&d, "홍길동 | 서울특별시 종로구", "이름 | 주소"));
    idx_document_free(&d);

    CHECK(extract_fixture("cp949.csv", NULL, &d) == ASKDOCS_OK);
    CHECK(is_header_row(&d, "이름 | 주소 | 금액"));
    CHECK(row_under(&d, "홍길동 | 서울특별시 종로구, 1층 | 1000",
                    "이름 | 주소 | 금액"));
    CHECK(strcmp(d.lang, "ko") == 0);
    idx_document_free(&d);

    CHECK(extract_fixture("utf16.csv", NULL, &d) == ASKDOCS_OK);
    CHECK(row_under(&d, "UTF16 widget | 42", "Item | Price"));
    idx_document_free(&d);

    CHECK(extract_fixture("data.tsv", NULL, &d) == ASKDOCS_OK);
    CHECK(row_under(&d, "A-1 | Bolts, steel | 100",
                    "Code | Description | Qty"));
    idx_document_free(&d);

    CHECK(extract_fixture("semicolon.csv", NULL, &d) == ASKDOCS_OK);
    CHECK(row_under(&d, "2024 | 1200 | 150", "Year | Revenue | Profit"));
    idx_document_free(&d);

    CHECK(run("bin.csv", nul, sizeof(nul) - 1, NULL, &d, err, sizeof(err)) ==
          ASKDOCS_ERR_UNSUPPORTED);
    /* an unterminated quote is taken as running to the end */
    CHECK(run("q.csv", "a,b\n\"open,x\n", 12, NULL, &d, err, sizeof(err)) ==
          ASKDOCS_OK);
    idx_document_free(&d);
}

/* ---------------------------------------------------------------- HTML */

static void test_html(void)
{
    idx_document d;
    char err[512];
    CHECK(extract_fixture("page.html", NULL, &d) == ASKDOCS_OK);
    CHECK(str_is(d.type, "html"));
    CHECK(d.title && strcmp(d.title, "Data Processing Addendum") == 0);
    CHECK(d.text && strstr(d.text, "NOISE") == NULL);
    CHECK(find(&d, "written") < 0 || find(&d, "written notice") >= 0);
    CHECK(kind_of(&d, "Data Processing Addendum") == IDX_BLOCK_HEADING);
    CHECK(level_of(&d, "Data Processing Addendum") == 1);
    CHECK(level_of(&d, "Obligations of the Processor") == 2);
    CHECK(level_of(&d, "Sub-processors") == 3);
    CHECK(block_is(&d, block_of(&d, "This Addendum forms part"),
                   "This Addendum forms part of the Agreement between the "
                   "parties and applies from 1 March 2024."));
    CHECK(kind_of(&d, "This Addendum forms part") == IDX_BLOCK_PARA);
    CHECK(kind_of(&d, "Process personal data") == IDX_BLOCK_LIST);
    CHECK(level_of(&d, "Process personal data") == 0);
    CHECK(block_is(&d, block_of(&d, "Ensure confidentiality"),
                   "Ensure confidentiality of authorised persons."));
    CHECK(kind_of(&d, "Including contractors.") == IDX_BLOCK_LIST);
    CHECK(level_of(&d, "Including contractors.") == 1);
    CHECK(is_header_row(&d, "Name | Country | Purpose"));
    CHECK(row_under(&d, "CloudCo | Ireland | Hosting", "Name | Country | Purpose"));
    CHECK(row_under(&d, "MailCo | Korea | Email delivery",
                    "Name | Country | Purpose"));
    CHECK(kind_of(&d, "Quoted clause text.") == IDX_BLOCK_PARA);
    CHECK(find(&d, "Code block text") >= 0);
    CHECK(block_is(&d, block_of(&d, "Loose div text"),
                   "Loose div text with a span"));
    CHECK(d.dates && strstr(d.dates, "2024-03-01"));
    idx_document_free(&d);

    CHECK(extract_fixture("euckr.html", NULL, &d) == ASKDOCS_OK);
    CHECK(d.title && strcmp(d.title, "공지사항") == 0);
    CHECK(kind_of(&d, "개인정보 처리방침 변경 안내") == IDX_BLOCK_HEADING);
    CHECK(find(&d, "제1조(목적) 이 방침은") >= 0);
    idx_document_free(&d);

    CHECK(extract_fixture("plain.html", NULL, &d) == ASKDOCS_OK);
    CHECK(find(&d, "Body paragraph without a main element.") >= 0);
    CHECK(find(&d, "NAV NOISE") < 0);
    CHECK(kind_of(&d, "Plain Body Heading") == IDX_BLOCK_HEADING);
    CHECK(is_header_row(&d, "k1 | v1"));
    CHECK(row_under(&d, "k2 | v2", "k1 | v1"));
    idx_document_free(&d);

    /* a page of nothing but markup is an empty document, not an error */
    CHECK(run("e.html", "<html><script>x</script></html>", 32, NULL, &d, err,
              sizeof(err)) == ASKDOCS_OK);
    CHECK(d.len == 0);
    idx_document_free(&d);
}

/* ------------------------------------------------------- hostile input */

/* A zip of n members built in memory (caller frees *out). */
static int make_zip(const char *const *names, const char *const *datas,
                    const size_t *lens, int n, char **out, size_t *out_len)
{
    zip_error_t ze;
    zip_source_t *src;
    zip_t *z;
    zip_stat_t st;
    int i, ok = 0;
    *out = NULL;
    zip_error_init(&ze);
    src = zip_source_buffer_create(NULL, 0, 0, &ze);
    z = src ? zip_open_from_source(src, ZIP_TRUNCATE, &ze) : NULL;
    if (!z)
        goto out;
    zip_source_keep(src);
    for (i = 0; i < n; i++) {
        zip_source_t *m = zip_source_buffer(z, datas[i], lens[i], 0);
        if (!m || zip_file_add(z, names[i], m, ZIP_FL_OVERWRITE) < 0) {
            zip_source_free(m);
            zip_discard(z);
            goto out;
        }
    }
    if (zip_close(z) != 0) {
        zip_discard(z);
        goto out;
    }
    if (zip_source_open(src) == 0) {
        zip_stat_init(&st);
        if (zip_source_stat(src, &st) == 0) {
            *out = askdocs_malloc(st.size + 1);
            if (*out && zip_source_read(src, *out, st.size) ==
                            (zip_int64_t)st.size) {
                *out_len = st.size;
                ok = 1;
            }
        }
        zip_source_close(src);
    }
out:
    if (src)
        zip_source_free(src);
    zip_error_fini(&ze);
    if (!ok) {
        askdocs_free(*out);
        *out = NULL;
    }
    return ok;
}

static void test_hostile(void)
{
    idx_document d;
    idx_extract_limits lim = idx_extract_default_limits();
    char err[512], *zipped = NULL, *big;
    size_t zlen = 0, biglen = (size_t)8 << 20, i;
    file f;
    static const char head[] =
        "<?xml version=\"1.0\"?><w:document xmlns:w=\"http://schemas."
        "openxmlformats.org/wordprocessingml/2006/main\"><w:body><w:p><w:r>"
        "<w:t>";
    static const char tail[] = "</w:t></w:r></w:p></w:body></w:document>";
    const char *names[1] = {"word/document.xml"};
    const char *datas[1];
    size_t lens[1];

    /* zip bomb: 8 MiB of document.xml, compressing to a few KiB */
    big = askdocs_malloc(biglen);
    CHECK(big != NULL);
    if (!big)
        return;
    memset(big, ' ', biglen);
    memcpy(big, head, sizeof(head) - 1);
    memcpy(big + biglen - (sizeof(tail) - 1), tail, sizeof(tail) - 1);
    datas[0] = big;
    lens[0] = biglen;
    CHECK(make_zip(names, datas, lens, 1, &zipped, &zlen));
    CHECK(zlen < biglen / 100);
    lim.max_expand_bytes = (size_t)1 << 20;
    CHECK(run("bomb.docx", zipped, zlen, &lim, &d, err, sizeof(err)) ==
          ASKDOCS_ERR_TOOBIG);
    CHECK(strstr(err, "zip bomb") != NULL);
    /* the same file within the limit is fine */
    CHECK(run("bomb.docx", zipped, zlen, NULL, &d, err, sizeof(err)) ==
          ASKDOCS_OK);
    idx_document_free(&d);
    askdocs_free(zipped);

    /* nesting far deeper than any document: refused, not a stack crash */
    {
        size_t o = 0;
        memcpy(big, head, sizeof(head) - 1);
        o = sizeof(head) - 1 - strlen("<w:p><w:r><w:t>");
        for (i = 0; i < 100000 && o + 40 < biglen; i++) {
            memcpy(big + o, "<w:sdt>", 7);
            o += 7;
        }
        datas[0] = big;
        lens[0] = o;
        CHECK(make_zip(names, datas, lens, 1, &zipped, &zlen));
        CHECK(run("deep.docx", zipped, zlen, NULL, &d, err, sizeof(err)) ==
              ASKDOCS_ERR_CORRUPT);
        askdocs_free(zipped);

        o = 0;
        for (i = 0; i < 100000; i++) {
            memcpy(big + o, "<div>", 5);
            o += 5;
        }
        memcpy(big + o, "deep text", 9);
        o += 9;
        CHECK(run("deep.html", big, o, NULL, &d, err, sizeof(err)) ==
                  ASKDOCS_OK ||
              d.text == NULL);
        idx_document_free(&d);
    }

    /* a zip that is not a Word document */
    names[0] = "hello.txt";
    datas[0] = "hello";
    lens[0] = 5;
    CHECK(make_zip(names, datas, lens, 1, &zipped, &zlen));
    CHECK(run("nodoc.docx", zipped, zlen, NULL, &d, err, sizeof(err)) ==
          ASKDOCS_ERR_CORRUPT);
    CHECK(strstr(err, "word/document.xml") != NULL);
    CHECK(run("nodoc.xlsx", zipped, zlen, NULL, &d, err, sizeof(err)) ==
          ASKDOCS_ERR_CORRUPT);
    askdocs_free(zipped);

    /* malformed XML inside a valid zip */
    names[0] = "word/document.xml";
    datas[0] = "<w:document><w:body><w:p>";
    lens[0] = strlen(datas[0]);
    CHECK(make_zip(names, datas, lens, 1, &zipped, &zlen));
    CHECK(run("bad.docx", zipped, zlen, NULL, &d, err, sizeof(err)) ==
          ASKDOCS_ERR_CORRUPT);
    CHECK(strstr(err, "not well-formed") != NULL);
    askdocs_free(zipped);

    /* binary garbage and truncated containers */
    for (i = 0; i < biglen; i++)
        big[i] = (char)((i * 2654435761u) >> 13);
    CHECK(run("junk.docx", big, 65536, NULL, &d, err, sizeof(err)) ==
          ASKDOCS_ERR_CORRUPT);
    CHECK(run("junk.xlsx", big, 65536, NULL, &d, err, sizeof(err)) ==
          ASKDOCS_ERR_CORRUPT);
    CHECK(run("junk.pdf", big, 65536, NULL, &d, err, sizeof(err)) ==
          ASKDOCS_ERR_CORRUPT);
    {
        askdocs_rc rc = run("junk.html", big, 65536, NULL, &d, err,
                            sizeof(err));
        CHECK(rc == ASKDOCS_OK || rc == ASKDOCS_ERR_CORRUPT);
        if (rc == ASKDOCS_OK)
            idx_document_free(&d);
    }
    askdocs_free(big);

    f = load("contract.docx");
    CHECK(run("cut.docx", f.data, f.n / 2, NULL, &d, err, sizeof(err)) ==
          ASKDOCS_ERR_CORRUPT);
    CHECK(strstr(err, "corrupt or truncated") != NULL);
    lim = idx_extract_default_limits();
    lim.max_text_bytes = 100;
    CHECK(run("contract.docx", f.data, f.n, &lim, &d, err, sizeof(err)) ==
          ASKDOCS_ERR_TOOBIG);
    askdocs_free(f.data);

    f = load("book.xlsx");
    CHECK(run("cut.xlsx", f.data, f.n - 100, NULL, &d, err, sizeof(err)) ==
          ASKDOCS_ERR_CORRUPT);
    askdocs_free(f.data);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s FIXTURE_DIR\n", argv[0]);
        return 2;
    }
    fixdir = argv[1];
    {
        /* no fixtures at all: one clear failure, not hundreds */
        file probe = load("contract.docx");
        if (!probe.data) {
            fprintf(stderr, "no fixtures in %s (run "
                            "make_office_fixtures.sh)\n", fixdir);
            return 1;
        }
        askdocs_free(probe.data);
    }
    test_docx();
    test_pdf();
    test_pdf_errors();
    test_pdf_ocr();
    test_xlsx();
    test_csv();
    test_html();
    test_hostile();
    printf("%d checks, %d failed\n", checks, failures);
    return failures ? 1 : 0;
}
