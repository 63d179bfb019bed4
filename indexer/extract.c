/*
 * extract.c - text of plain-text and Markdown files: encoding detection
 * (UTF-8, UTF-16 with BOM, CP949/EUC-KR through iconv), cleanup of control
 * characters, binary-file rejection, title and language.
 */
#include "idx_internal.h"

#include <errno.h>
#include <iconv.h>
#include <string.h>
#include <strings.h>

static const char *ext_of(const char *path)
{
    const char *slash = strrchr(path, '/');
    const char *dot = strrchr(path, '.');
    if (!dot || (slash && dot < slash) || dot == path ||
        (slash && dot == slash + 1))
        return "";
    return dot;
}

int idx_extension_allowed(const char *path, const char *exts)
{
    const char *e = ext_of(path), *p = exts;
    size_t el = strlen(e);
    if (el == 0)
        return 0;
    while (p && *p) {
        const char *comma = strchr(p, ',');
        size_t l = comma ? (size_t)(comma - p) : strlen(p);
        while (l && *p == ' ') {
            p++;
            l--;
        }
        while (l && p[l - 1] == ' ')
            l--;
        if (l == el && strncasecmp(p, e, l) == 0)
            return 1;
        p = comma ? comma + 1 : NULL;
    }
    return 0;
}

askdocs_rc idx_to_utf8(const char *from, const char *in, size_t n,
                       char **out, size_t *out_len)
{
    iconv_t cd = iconv_open("UTF-8", from);
    size_t cap = n * 2 + 16, left_in = n, left_out;
    char *buf = NULL, *ip = (char *)in, *op;
    askdocs_rc rc = ASKDOCS_OK;
    *out = NULL;
    if (cd == (iconv_t)-1)
        return ASKDOCS_ERR_UNSUPPORTED;
    buf = askdocs_malloc(cap + 1);
    if (!buf) {
        rc = ASKDOCS_ERR_NOMEM;
        goto out;
    }
    op = buf;
    left_out = cap;
    if (iconv(cd, &ip, &left_in, &op, &left_out) == (size_t)-1) {
        rc = ASKDOCS_ERR_INVALID;
        goto out;
    }
    *op = '\0';
    *out_len = (size_t)(op - buf);
    *out = buf;
    buf = NULL;
out:
    askdocs_free(buf);
    iconv_close(cd);
    return rc;
}

static void stem_title(const char *path, char *dst, size_t n)
{
    const char *base = strrchr(path, '/');
    const char *dot;
    size_t l, i;
    base = base ? base + 1 : path;
    dot = strrchr(base, '.');
    l = dot && dot != base ? (size_t)(dot - base) : strlen(base);
    if (l >= n)
        l = askdocs_utf8_floor(base, n - 1);
    memcpy(dst, base, l);
    dst[l] = '\0';
    for (i = 0; i < l; i++)
        if (dst[i] == '_')
            dst[i] = ' ';
}

/* Title from a leading "# " heading of a Markdown text, else the file name. */
static char *find_title(const char *path, const char *s, size_t n,
                        int markdown)
{
    char stem[256];
    if (markdown) {
        size_t i = 0;
        int lines = 0;
        while (i < n && lines < 20) {
            size_t eol = i;
            while (eol < n && s[eol] != '\n')
                eol++;
            if (eol - i > 2 && s[i] == '#' && s[i + 1] == ' ') {
                size_t a = i + 2, b = eol;
                while (a < b && s[a] == ' ')
                    a++;
                while (b > a && (s[b - 1] == ' ' || s[b - 1] == '#'))
                    b--;
                if (b > a)
                    return askdocs_strndup(
                        s + a, askdocs_utf8_floor(s + a, ASKDOCS_MIN(b - a, 200)));
            }
            i = eol + 1;
            lines++;
        }
    }
    stem_title(path, stem, sizeof(stem));
    return askdocs_strdup(stem);
}

static askdocs_rc extract_plain(const char *path, const char *data, size_t n,
                               idx_document *doc, char *err, size_t errlen)
{
    char *conv = NULL;
    size_t conv_len = 0, i, nul = 0;
    const char *src = data;
    size_t src_len = n;
    const char *e = ext_of(path);
    askdocs_rc rc = ASKDOCS_OK;

    if (n >= 2 && (unsigned char)data[0] == 0xFF &&
        (unsigned char)data[1] == 0xFE) {
        rc = idx_to_utf8("UTF-16LE", data + 2, n - 2, &conv, &conv_len);
    } else if (n >= 2 && (unsigned char)data[0] == 0xFE &&
               (unsigned char)data[1] == 0xFF) {
        rc = idx_to_utf8("UTF-16BE", data + 2, n - 2, &conv, &conv_len);
    } else {
        for (i = 0; i < n; i++)
            nul += data[i] == '\0';
        if (nul > 0) {
            askdocs_snprintf(err, errlen,
                             "%s looks binary (%zu NUL bytes), not text; "
                             "skipped",
                             path, nul);
            rc = ASKDOCS_ERR_UNSUPPORTED;
            goto out;
        }
        if (!askdocs_utf8_valid(data, n)) {
            /* Korean documents still come in CP949 / EUC-KR */
            if (idx_to_utf8("CP949", data, n, &conv, &conv_len) != ASKDOCS_OK) {
                askdocs_free(conv);
                conv = NULL; /* keep it, replacing bad bytes */
            }
        }
    }
    if (rc != ASKDOCS_OK) {
        askdocs_snprintf(err, errlen, "%s: cannot decode UTF-16 text", path);
        goto out;
    }
    if (conv) {
        src = conv;
        src_len = conv_len;
    }
    doc->text = askdocs_utf8_clean(src, src_len, &doc->len);
    if (!doc->text) {
        rc = ASKDOCS_ERR_NOMEM;
        goto out;
    }
    doc->markdown = strcasecmp(e, ".md") == 0 ||
                    strcasecmp(e, ".markdown") == 0;
    doc->type = doc->markdown ? "markdown" : "text";
    doc->title = find_title(path, doc->text, doc->len, doc->markdown);
    if (!doc->title) {
        rc = ASKDOCS_ERR_NOMEM;
        goto out;
    }
    memcpy(doc->lang, askdocs_text_is_korean(doc->text, doc->len) ? "ko" : "en",
           3);
out:
    askdocs_free(conv);
    return rc;
}


idx_extract_limits idx_extract_default_limits(void)
{
    idx_extract_limits l;
    memset(&l, 0, sizeof(l));
    l.max_text_bytes = (size_t)64 << 20;
    l.max_expand_bytes = (size_t)256 << 20;
    l.max_pages = 20000;
    l.ocr = 0;
    l.ocr_langs = "kor+eng";
    l.ocr_dpi = 300;
    return l;
}

typedef struct format {
    const char *ext;   /* comma-separated, with dots */
    const char *type;
    askdocs_rc (*fn)(idx_extract_ctx *cx);
} format;

static const format formats[] = {
    {".pdf", "pdf", idx_extract_pdf},
    {".docx,.docm", "docx", idx_extract_docx},
    {".xlsx,.xlsm", "xlsx", idx_extract_xlsx},
    {".csv,.tsv", "csv", idx_extract_csv},
    {".html,.htm,.xhtml", "html", idx_extract_html},
    {".hwpx", "hwpx", idx_extract_hwpx},
    {".hwp", "hwp", idx_extract_hwp},
};

/* The format of a file: by content where it is unambiguous (PDF, OLE, zip
 * containers carry magic numbers), by extension otherwise. */
static const format *format_of(const char *path, const char *data, size_t n)
{
    size_t i;
    for (i = 0; i < sizeof(formats) / sizeof(formats[0]); i++)
        if (idx_extension_allowed(path, formats[i].ext))
            return &formats[i];
    if (n >= 5 && memcmp(data, "%PDF-", 5) == 0)
        return &formats[0];
    return NULL;
}

/* First heading block as the title, when the format gave none. */
static char *title_from_blocks(const idx_docbuf *b)
{
    int i;
    for (i = 0; i < b->n_blocks && i < 40; i++)
        if (b->blocks[i].kind == IDX_BLOCK_HEADING) {
            size_t l = b->blocks[i].end - b->blocks[i].start;
            const char *p = b->text.data + b->blocks[i].start;
            return askdocs_strndup(p, askdocs_utf8_floor(p, ASKDOCS_MIN(l, 200)));
        }
    return NULL;
}

static askdocs_rc extract_structured(const format *f, const char *path,
                                     const char *data, size_t n,
                                     const idx_extract_limits *lim,
                                     idx_document *doc, char *err,
                                     size_t errlen)
{
    idx_docbuf b;
    idx_extract_ctx cx;
    askdocs_rc rc;
    char stem[256];

    memset(&cx, 0, sizeof(cx));
    if (n == 0) {
        askdocs_snprintf(err, errlen, "%s: empty file, not a %s document", path,
                         f->type);
        return ASKDOCS_ERR_CORRUPT;
    }
    idx_docbuf_init(&b, lim->max_text_bytes, lim->max_pages);
    cx.path = path;
    cx.data = data;
    cx.n = n;
    cx.lim = *lim;
    cx.out = &b;
    cx.type = f->type;
    rc = f->fn(&cx);
    if (rc == ASKDOCS_OK && b.rc != ASKDOCS_OK)
        rc = b.rc;
    if (rc != ASKDOCS_OK) {
        if (cx.err[0])
            askdocs_snprintf(err, errlen, "%s: %s", path, cx.err);
        else if (rc == ASKDOCS_ERR_TOOBIG)
            askdocs_snprintf(err, errlen,
                             "%s: extracted text is over the limit of %zu "
                             "bytes or %d pages (index.max_text_mb, "
                             "index.max_pages)",
                             path, lim->max_text_bytes, lim->max_pages);
        else
            askdocs_snprintf(err, errlen, "%s: cannot extract %s text: %s",
                             path, f->type, askdocs_strerror(rc));
        goto out;
    }
    doc->type = f->type;
    doc->n_textless_pages = cx.n_textless_pages;
    doc->n_ocr_pages = cx.n_ocr_pages;
    memcpy(doc->warning, cx.warning, sizeof(doc->warning));
    if (cx.title && *cx.title) {
        doc->title = cx.title;
        cx.title = NULL;
    } else {
        /* a workbook's first heading is a sheet name, not its title */
        doc->title = strcmp(f->type, "xlsx") != 0 && strcmp(f->type, "csv") != 0
                         ? title_from_blocks(&b)
                         : NULL;
        if (!doc->title) {
            stem_title(path, stem, sizeof(stem));
            doc->title = askdocs_strdup(stem);
        }
    }
    doc->len = b.text.len;
    doc->text = askdocs_buf_take(&b.text);
    if (!doc->title || !doc->text) {
        rc = ASKDOCS_ERR_NOMEM;
        goto out;
    }
    doc->blocks = b.blocks;
    doc->n_blocks = b.n_blocks;
    b.blocks = NULL;
    doc->page_starts = b.page_starts;
    doc->n_pages = b.n_pages;
    b.page_starts = NULL;
out:
    askdocs_free(cx.title);
    idx_docbuf_free(&b);
    return rc;
}

askdocs_rc idx_extract(const char *path, const char *data, size_t n,
                       const idx_extract_limits *lim, idx_document *doc,
                       char *err, size_t errlen)
{
    idx_extract_limits dl = idx_extract_default_limits();
    const format *f;
    askdocs_rc rc;

    memset(doc, 0, sizeof(*doc));
    if (!lim)
        lim = &dl;
    f = format_of(path, data, n);
    rc = f ? extract_structured(f, path, data, n, lim, doc, err, errlen)
           : extract_plain(path, data, n, doc, err, errlen);
    if (rc == ASKDOCS_OK && !f && doc->len > lim->max_text_bytes) {
        askdocs_snprintf(err, errlen,
                         "%s: text is over the limit of %zu bytes "
                         "(index.max_text_mb)",
                         path, lim->max_text_bytes);
        rc = ASKDOCS_ERR_TOOBIG;
    }
    if (rc == ASKDOCS_OK) {
        memcpy(doc->lang,
               askdocs_text_is_korean(doc->text, doc->len) ? "ko" : "en", 3);
        doc->dates = idx_find_dates(doc->text, doc->len, 16);
        if (!doc->dates)
            rc = ASKDOCS_ERR_NOMEM;
    }
    if (rc != ASKDOCS_OK)
        idx_document_free(doc);
    return rc;
}

void idx_document_free(idx_document *doc)
{
    if (!doc)
        return;
    askdocs_free(doc->text);
    askdocs_free(doc->title);
    askdocs_free(doc->page_starts);
    askdocs_free(doc->blocks);
    askdocs_free(doc->dates);
    memset(doc, 0, sizeof(*doc));
}
