/*
 * extract_hwp.c - text of HWP 5.x (an OLE2 compound file of binary
 * records, Hancom's "HWP 5.0 revision 1.3") and HWPX (OWPML, KS X 6101: a
 * zip of XML parts) with paragraphs, outline headings, table rows and page
 * starts.
 *
 * Both formats share the emission rules below (cells, rows, headings,
 * pages), so an HWP file and the same document saved as HWPX give the same
 * text.
 *
 * Pages: neither format stores page numbers. Hangul saves its layout, and
 * each line segment of a paragraph carries a "first line of a page" flag;
 * where the first line of the document carries it, the layout is taken as
 * present and pages start where the flag says. Files written without that
 * layout (by other programs) leave only explicit page breaks and section
 * starts, which are then used alone: pages that start because text flowed
 * over are not counted there. Without either, no pages are emitted. A page
 * that starts inside a paragraph is counted from the next paragraph: a
 * block is cited by the page it begins on. Pages inside a table that spans
 * pages are not seen (the table's paragraph is one line).
 */
#include "idx_internal.h"

#include <gsf/gsf-infile-msole.h>
#include <gsf/gsf-infile.h>
#include <gsf/gsf-input-memory.h>
#include <gsf/gsf-utils.h>
#include <libxml/tree.h>
#include <pthread.h>
#include <string.h>
#include <strings.h>
#include <zip.h>
#include <zlib.h>

#define HWP_MAX_DEPTH 16     /* nested tables / boxes / notes followed */
#define HWP_ROW_CELLS 512    /* cells kept apart in one row (more: merged) */
#define HWP_MAX_NOTES 64     /* footnotes / text boxes per paragraph */
#define HWP_MAX_SECTIONS 4096
#define HWP_MAX_SHAPES 65536 /* paragraph shape / style ids */
#define HWP_HEADING_MAX 300  /* longer "headings" are body text */

/* ================================================== shared emission */

typedef struct pager {
    int enabled; /* the document gives page information */
    int started; /* page 1 opened */
    int pending; /* pages that start after the last paragraph */
} pager;

/* Before a top-level paragraph; brk = a page starts at it. */
static askdocs_rc pager_para(idx_docbuf *d, pager *pg, int brk)
{
    if (!pg->enabled)
        return ASKDOCS_OK;
    if (!pg->started) {
        pg->started = 1;
        pg->pending = 0;
        return idx_docbuf_page(d);
    }
    while (pg->pending > 0 && d->rc == ASKDOCS_OK) {
        pg->pending--;
        idx_docbuf_page(d);
    }
    if (brk)
        idx_docbuf_page(d);
    return d->rc;
}

static int utf8_at(const char *s, size_t n, size_t i, const char *lit)
{
    size_t l = strlen(lit);
    return i + l <= n && memcmp(s + i, lit, l) == 0;
}

/* "제12조", "제12조의2": an article line stays a paragraph (the chunker
 * finds statute units in paragraphs) even when styled as an outline. */
static int is_article(const char *s, size_t n)
{
    size_t i = 0, d;
    while (i < n && (s[i] == ' ' || s[i] == '\t'))
        i++;
    if (!utf8_at(s, n, i, "\xEC\xA0\x9C")) /* 제 */
        return 0;
    i += 3;
    while (i < n && s[i] == ' ')
        i++;
    d = i;
    while (i < n && s[i] >= '0' && s[i] <= '9')
        i++;
    if (i == d)
        return 0;
    while (i < n && s[i] == ' ')
        i++;
    return utf8_at(s, n, i, "\xEC\xA1\xB0"); /* 조 */
}

/* One paragraph's text: to the open table cell, or as a block. */
static askdocs_rc emit_para(idx_docbuf *d, askdocs_buf *cell, const char *s,
                            size_t n, int heading)
{
    if (cell) {
        askdocs_rc rc = ASKDOCS_OK;
        if (n == 0)
            return ASKDOCS_OK;
        if (cell->len)
            rc = askdocs_buf_append(cell, " ", 1);
        return rc ? rc : askdocs_buf_append(cell, s, n);
    }
    if (heading > 0 && n <= HWP_HEADING_MAX && !is_article(s, n))
        return idx_docbuf_block(d, IDX_BLOCK_HEADING,
                                heading > 6 ? 6 : heading, s, n);
    return idx_docbuf_block(d, IDX_BLOCK_PARA, 0, s, n);
}

/* The cells of one table row as they are read. */
typedef struct row_acc {
    askdocs_buf text;              /* cells back to back */
    size_t off[HWP_ROW_CELLS + 1]; /* start of each cell in text */
    int n;
    int rows;       /* rows emitted so far */
    int cur;        /* row number of the cells held (HWP addresses) */
    askdocs_buf *parent; /* nested table: cells go to this cell */
} row_acc;

static row_acc *row_new(size_t max, askdocs_buf *parent)
{
    row_acc *r = askdocs_calloc(1, sizeof(*r));
    if (!r)
        return NULL;
    askdocs_buf_init(&r->text, max);
    r->parent = parent;
    r->cur = -1;
    return r;
}

static void row_free(row_acc *r)
{
    if (!r)
        return;
    askdocs_buf_free(&r->text);
    askdocs_free(r);
}

static askdocs_rc row_add(row_acc *r, const askdocs_buf *cell)
{
    if (r->n == HWP_ROW_CELLS) { /* past the cap: into the last cell */
        askdocs_rc rc = askdocs_buf_append(&r->text, " ", 1);
        return rc ? rc : askdocs_buf_append(&r->text, cell->data, cell->len);
    }
    r->off[r->n++] = r->text.len;
    return cell->len ? askdocs_buf_append(&r->text, cell->data, cell->len)
                     : ASKDOCS_OK;
}

/* Emit the held cells as one row; the first row of a table is its header.
 * A nested table's rows become text of the enclosing cell. */
static askdocs_rc row_flush(idx_docbuf *d, row_acc *r)
{
    const char *cells[HWP_ROW_CELLS];
    size_t lens[HWP_ROW_CELLS];
    askdocs_rc rc = ASKDOCS_OK;
    int i;
    if (r->n == 0)
        return ASKDOCS_OK;
    r->off[r->n] = r->text.len;
    for (i = 0; i < r->n; i++) {
        cells[i] = r->text.data ? r->text.data + r->off[i] : "";
        lens[i] = r->off[i + 1] - r->off[i];
    }
    if (r->parent) {
        for (i = 0; i < r->n && rc == ASKDOCS_OK; i++)
            rc = emit_para(d, r->parent, cells[i], lens[i], 0);
    } else {
        rc = idx_docbuf_row(d, cells, lens, r->n, r->rows == 0);
    }
    r->rows++;
    r->n = 0;
    askdocs_buf_reset(&r->text);
    return rc;
}

/* Append code point cp as UTF-8. */
static askdocs_rc put_cp(askdocs_buf *b, uint32_t cp)
{
    char u[4];
    size_t n;
    if (cp >= 0xD800 && cp <= 0xDFFF)
        cp = 0xFFFD;
    if (cp < 0x80) {
        u[0] = (char)cp;
        n = 1;
    } else if (cp < 0x800) {
        u[0] = (char)(0xC0 | (cp >> 6));
        u[1] = (char)(0x80 | (cp & 0x3F));
        n = 2;
    } else if (cp < 0x10000) {
        u[0] = (char)(0xE0 | (cp >> 12));
        u[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        u[2] = (char)(0x80 | (cp & 0x3F));
        n = 3;
    } else {
        u[0] = (char)(0xF0 | (cp >> 18));
        u[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
        u[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
        u[3] = (char)(0x80 | (cp & 0x3F));
        n = 4;
    }
    return askdocs_buf_append(b, u, n);
}

static int outline_name_level(const char *name)
{
    /* "개요 3" (Hangul's outline styles) or "Outline 3" */
    const char *p = NULL;
    if (strncmp(name, "\xEA\xB0\x9C\xEC\x9A\x94", 6) == 0)
        p = name + 6;
    else if (strncasecmp(name, "Outline", 7) == 0)
        p = name + 7;
    if (!p)
        return 0;
    while (*p == ' ')
        p++;
    if (p[0] >= '1' && p[0] <= '9' && (p[1] == '\0' || p[1] == ' '))
        return p[0] - '0';
    return 0;
}

/* ======================================================== HWP 5.x */

#define HWPTAG_BEGIN 0x10
#define HWPTAG_PARA_SHAPE (HWPTAG_BEGIN + 9)
#define HWPTAG_STYLE (HWPTAG_BEGIN + 10)
#define HWPTAG_PARA_HEADER (HWPTAG_BEGIN + 50)
#define HWPTAG_PARA_TEXT (HWPTAG_BEGIN + 51)
#define HWPTAG_PARA_LINE_SEG (HWPTAG_BEGIN + 53)
#define HWPTAG_CTRL_HEADER (HWPTAG_BEGIN + 55)
#define HWPTAG_LIST_HEADER (HWPTAG_BEGIN + 56)
#define HWPTAG_TABLE (HWPTAG_BEGIN + 61)

#define CHID(a, b, c, d)                                                    \
    (((uint32_t)(a) << 24) | ((uint32_t)(b) << 16) | ((uint32_t)(c) << 8) | \
     (uint32_t)(d))
#define CTRL_TABLE CHID('t', 'b', 'l', ' ')
#define CTRL_GSO CHID('g', 's', 'o', ' ')
#define CTRL_FOOTNOTE CHID('f', 'n', ' ', ' ')
#define CTRL_ENDNOTE CHID('e', 'n', ' ', ' ')

/* FileHeader property bits */
#define HWP_F_COMPRESSED 0x01u
#define HWP_F_PASSWORD 0x02u
#define HWP_F_DISTRIBUTION 0x04u
#define HWP_F_DRM 0x10u

static uint16_t rd16(const unsigned char *p)
{
    return (uint16_t)(p[0] | (p[1] << 8));
}

static uint32_t rd32(const unsigned char *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) |
           ((uint32_t)p[3] << 24);
}

typedef struct hrec {
    const unsigned char *p;
    uint32_t size;
    uint16_t tag, level;
} hrec;

typedef struct hsec {
    unsigned char *data;
    size_t len;
    hrec *r;
    size_t n;
} hsec;

typedef struct hwp_doc {
    idx_extract_ctx *cx;
    unsigned char *shape_level; /* by paragraph shape id: outline level+1 */
    size_t n_shapes;
    unsigned char style_level[256]; /* by style id */
    const hrec *r;                  /* the section being emitted */
    size_t n;
    pager pg;
    int sec_first; /* the next top-level paragraph opens a section */
    int deep_skipped;
} hwp_doc;

/* libgsf reports damaged OLE2 files through g_warning: they are
 * answered with an error here, so its messages are only debug output. */
static void gsf_log(const gchar *domain, GLogLevelFlags level,
                    const gchar *msg, gpointer user)
{
    (void)level;
    (void)user;
    askdocs_log(2, "%s: %s", domain ? domain : "gsf", msg ? msg : "");
}

static pthread_once_t gsf_once = PTHREAD_ONCE_INIT;
static void gsf_init_once(void)
{
    static const char *const domains[] = {"libgsf", "libgsf:msole"};
    size_t i;
    gsf_init();
    for (i = 0; i < sizeof(domains) / sizeof(domains[0]); i++)
        g_log_set_handler(domains[i],
                          G_LOG_LEVEL_WARNING | G_LOG_LEVEL_CRITICAL |
                              G_LOG_LEVEL_MESSAGE | G_LOG_LEVEL_INFO |
                              G_LOG_LEVEL_DEBUG,
                          gsf_log, NULL);
}

/* Raw deflate (HWP streams carry no zlib header; a few writers add one,
 * which is tried when raw inflation fails at once). Every byte counts
 * against the expansion limit. */
static askdocs_rc inflate_stream(idx_extract_ctx *cx, const unsigned char *in,
                                 size_t n, const char *what,
                                 unsigned char **out, size_t *out_len)
{
    z_stream zs;
    unsigned char *buf = NULL;
    size_t cap, got = 0, room;
    int r, zinit = 0, wbits = -15;
    askdocs_rc rc = ASKDOCS_OK;

    *out = NULL;
    *out_len = 0;
    room = cx->lim.max_expand_bytes > cx->expanded
               ? cx->lim.max_expand_bytes - cx->expanded
               : 0;
    cap = n < ((size_t)1 << 28) ? n * 4 + 4096 : ((size_t)1 << 30);
    if (cap > room + 1)
        cap = room + 1; /* one byte past the limit detects a bomb */
retry:
    memset(&zs, 0, sizeof(zs));
    if (inflateInit2(&zs, wbits) != Z_OK) {
        rc = ASKDOCS_ERR_NOMEM;
        goto out;
    }
    zinit = 1;
    if (!buf) {
        buf = askdocs_malloc(cap + 1);
        if (!buf) {
            rc = ASKDOCS_ERR_NOMEM;
            goto out;
        }
    }
    got = 0;
    zs.next_in = (Bytef *)in;
    zs.avail_in = (uInt)ASKDOCS_MIN(n, (size_t)UINT32_MAX);
    for (;;) {
        if (got == cap) {
            size_t ncap;
            unsigned char *nb;
            if (got > room) {
                askdocs_snprintf(cx->err, sizeof(cx->err),
                                 "%s expands past the limit of %zu bytes "
                                 "(index.max_expand_mb): refused as a "
                                 "possible compression bomb",
                                 what, cx->lim.max_expand_bytes);
                rc = ASKDOCS_ERR_TOOBIG;
                goto out;
            }
            ncap = cap * 2;
            if (ncap > room + 1)
                ncap = room + 1;
            nb = askdocs_realloc(buf, ncap + 1);
            if (!nb) {
                rc = ASKDOCS_ERR_NOMEM;
                goto out;
            }
            buf = nb;
            cap = ncap;
        }
        zs.next_out = buf + got;
        zs.avail_out = (uInt)ASKDOCS_MIN(cap - got, (size_t)UINT32_MAX);
        r = inflate(&zs, Z_NO_FLUSH);
        got = (size_t)(zs.next_out - buf);
        if (r == Z_STREAM_END)
            break;
        if (r == Z_OK)
            continue;
        if (r == Z_BUF_ERROR && zs.avail_in == 0) {
            /* input ended without the final block: keep what came out;
             * the record parser judges whether it is whole */
            askdocs_snprintf(cx->warning, sizeof(cx->warning),
                             "%s: compressed stream ends early", what);
            break;
        }
        if (r == Z_DATA_ERROR && wbits < 0 && got == 0 &&
            zs.total_in < 4) {
            inflateEnd(&zs);
            zinit = 0;
            wbits = 15 + 32; /* zlib or gzip header */
            goto retry;
        }
        if (r == Z_MEM_ERROR) {
            rc = ASKDOCS_ERR_NOMEM;
            goto out;
        }
        askdocs_snprintf(cx->err, sizeof(cx->err),
                         "%s: compressed data is damaged (%s)", what,
                         zs.msg ? zs.msg : "inflate failed");
        rc = ASKDOCS_ERR_CORRUPT;
        goto out;
    }
    if (got > room) {
        askdocs_snprintf(cx->err, sizeof(cx->err),
                         "%s expands past the limit of %zu bytes "
                         "(index.max_expand_mb): refused as a possible "
                         "compression bomb",
                         what, cx->lim.max_expand_bytes);
        rc = ASKDOCS_ERR_TOOBIG;
        goto out;
    }
    cx->expanded += got;
    buf[got] = 0;
    *out = buf;
    *out_len = got;
    buf = NULL;
out:
    if (zinit)
        inflateEnd(&zs);
    askdocs_free(buf);
    return rc;
}

/* The whole of an OLE stream, inflated when the document is compressed. */
static askdocs_rc read_stream(idx_extract_ctx *cx, GsfInput *in,
                              const char *what, int compressed,
                              unsigned char **out, size_t *len)
{
    gsf_off_t size = gsf_input_size(in);
    unsigned char *raw = NULL;
    askdocs_rc rc = ASKDOCS_OK;

    *out = NULL;
    *len = 0;
    if (size < 0 || (uint64_t)size > (uint64_t)cx->n) {
        askdocs_snprintf(cx->err, sizeof(cx->err),
                         "%s: stream size %lld does not fit the file", what,
                         (long long)size);
        return ASKDOCS_ERR_CORRUPT;
    }
    raw = askdocs_malloc((size_t)size + 1);
    if (!raw)
        return ASKDOCS_ERR_NOMEM;
    if (size > 0 && !gsf_input_read(in, (size_t)size, raw)) {
        askdocs_snprintf(cx->err, sizeof(cx->err),
                         "%s cannot be read: truncated or damaged file", what);
        rc = ASKDOCS_ERR_CORRUPT;
        goto out;
    }
    raw[size] = 0;
    if (compressed) {
        rc = inflate_stream(cx, raw, (size_t)size, what, out, len);
        goto out;
    }
    *out = raw;
    *len = (size_t)size;
    raw = NULL;
out:
    askdocs_free(raw);
    return rc;
}

/* Split a record stream into headers (tag 10 bits, level 10 bits, size 12
 * bits, 0xFFF = a 32-bit size follows). Every size is checked against the
 * bytes left. */
static askdocs_rc parse_records(idx_extract_ctx *cx, const unsigned char *p,
                                size_t n, const char *what, hrec **out,
                                size_t *nout)
{
    hrec *v = NULL;
    size_t nv = 0, cap = 0, i = 0;
    askdocs_rc rc = ASKDOCS_OK;

    *out = NULL;
    *nout = 0;
    while (i < n) {
        uint32_t h, size;
        if (n - i < 4) {
            askdocs_snprintf(cx->err, sizeof(cx->err),
                             "%s: record header cut off at byte %zu "
                             "(truncated file)",
                             what, i);
            rc = ASKDOCS_ERR_CORRUPT;
            goto out;
        }
        h = rd32(p + i);
        i += 4;
        size = h >> 20;
        if (size == 0xFFF) {
            if (n - i < 4) {
                askdocs_snprintf(cx->err, sizeof(cx->err),
                                 "%s: record size cut off at byte %zu "
                                 "(truncated file)",
                                 what, i);
                rc = ASKDOCS_ERR_CORRUPT;
                goto out;
            }
            size = rd32(p + i);
            i += 4;
        }
        if (size > n - i) {
            askdocs_snprintf(cx->err, sizeof(cx->err),
                             "%s: record of %u bytes at byte %zu runs past "
                             "the end of the stream (%zu bytes left): "
                             "truncated or damaged file",
                             what, size, i, n - i);
            rc = ASKDOCS_ERR_CORRUPT;
            goto out;
        }
        if (nv == cap) {
            /* every record takes at least 4 bytes: n/4 + 1 bounds it */
            size_t ncap = cap ? cap * 2 : 256;
            hrec *nvv;
            if (ncap > n / 4 + 1)
                ncap = n / 4 + 1;
            nvv = askdocs_realloc(v, ncap * sizeof(*v));
            if (!nvv) {
                rc = ASKDOCS_ERR_NOMEM;
                goto out;
            }
            v = nvv;
            cap = ncap;
        }
        v[nv].p = p + i;
        v[nv].size = size;
        v[nv].tag = (uint16_t)(h & 0x3FF);
        v[nv].level = (uint16_t)((h >> 10) & 0x3FF);
        nv++;
        i += size;
    }
    *out = v;
    *nout = nv;
    v = NULL;
out:
    askdocs_free(v);
    return rc;
}

/* First record after i that is not inside i's subtree. */
static size_t subtree_end(const hwp_doc *h, size_t i, size_t end)
{
    size_t j = i + 1;
    while (j < end && h->r[j].level > h->r[i].level)
        j++;
    return j;
}

/* DocInfo: outline levels of paragraph shapes and styles, for headings.
 * A DocInfo that cannot be read only costs the headings. */
static void hwp_docinfo(hwp_doc *h, const hrec *r, size_t n)
{
    size_t i, shapes = 0, styles = 0;
    for (i = 0; i < n; i++)
        if (r[i].tag == HWPTAG_PARA_SHAPE)
            shapes++;
    if (shapes > HWP_MAX_SHAPES)
        shapes = HWP_MAX_SHAPES;
    h->shape_level = shapes ? askdocs_calloc(shapes, 1) : NULL;
    h->n_shapes = h->shape_level ? shapes : 0;
    shapes = 0;
    for (i = 0; i < n; i++) {
        if (r[i].tag == HWPTAG_PARA_SHAPE && shapes < h->n_shapes) {
            if (r[i].size >= 4) {
                uint32_t a = rd32(r[i].p);
                /* bits 23-24 heading kind (1 = outline), 25-27 level */
                if (((a >> 23) & 3) == 1)
                    h->shape_level[shapes] = (unsigned char)(((a >> 25) & 7) + 1);
            }
            shapes++;
        } else if (r[i].tag == HWPTAG_STYLE && styles < 256) {
            /* local name then English name, each UINT16 length + WCHARs */
            char name[64];
            size_t off = 0, k, nl = 0;
            int pass, lv = 0;
            for (pass = 0; pass < 2 && !lv; pass++) {
                size_t len;
                if (r[i].size < off + 2)
                    break;
                len = rd16(r[i].p + off);
                off += 2;
                if (r[i].size < off + 2 * len)
                    break;
                nl = 0;
                for (k = 0; k < len && nl + 4 < sizeof(name); k++) {
                    uint16_t c = rd16(r[i].p + off + 2 * k);
                    if (c < 0x80) {
                        name[nl++] = (char)c;
                    } else if (c < 0x800) {
                        name[nl++] = (char)(0xC0 | (c >> 6));
                        name[nl++] = (char)(0x80 | (c & 0x3F));
                    } else {
                        name[nl++] = (char)(0xE0 | (c >> 12));
                        name[nl++] = (char)(0x80 | ((c >> 6) & 0x3F));
                        name[nl++] = (char)(0x80 | (c & 0x3F));
                    }
                }
                name[nl] = '\0';
                off += 2 * len;
                lv = outline_name_level(name);
            }
            h->style_level[styles++] = (unsigned char)lv;
        }
    }
}

static askdocs_rc hwp_walk(hwp_doc *h, size_t from, size_t to,
                           askdocs_buf *cell, int depth);

/* A table: CTRL_HEADER 'tbl ' at index ci; its children are the TABLE
 * record, a caption's LIST_HEADER before it and one LIST_HEADER per cell
 * after it, each followed by the cell's paragraphs at the same level. */
static askdocs_rc hwp_table(hwp_doc *h, size_t ci, size_t end,
                            askdocs_buf *cell, int depth)
{
    idx_docbuf *d = h->cx->out;
    const unsigned lc = h->r[ci].level;
    row_acc *row = NULL;
    askdocs_buf cb;
    size_t k = ci + 1;
    int seen_table = 0;
    askdocs_rc rc = ASKDOCS_OK;

    askdocs_buf_init(&cb, h->cx->lim.max_text_bytes);
    row = row_new(h->cx->lim.max_text_bytes, cell);
    if (!row) {
        rc = ASKDOCS_ERR_NOMEM;
        goto out;
    }
    while (k < end && rc == ASKDOCS_OK) {
        const hrec *x = &h->r[k];
        size_t j;
        if (x->level != lc + 1) {
            k++;
            continue;
        }
        if (x->tag == HWPTAG_TABLE) {
            seen_table = 1;
            k = subtree_end(h, k, end);
            continue;
        }
        if (x->tag != HWPTAG_LIST_HEADER) {
            k = subtree_end(h, k, end);
            continue;
        }
        j = k + 1;
        while (j < end && (h->r[j].level > lc + 1 ||
                           (h->r[j].level == lc + 1 &&
                            h->r[j].tag == HWPTAG_PARA_HEADER)))
            j++;
        if (!seen_table) { /* caption: text beside the table */
            rc = hwp_walk(h, k + 1, j, cell, depth);
        } else {
            int r_addr = x->size >= 12 ? rd16(x->p + 10) : row->cur;
            if (row->n > 0 && r_addr != row->cur)
                rc = row_flush(d, row);
            row->cur = r_addr;
            askdocs_buf_reset(&cb);
            if (rc == ASKDOCS_OK)
                rc = hwp_walk(h, k + 1, j, &cb, depth);
            if (rc == ASKDOCS_OK)
                rc = row_add(row, &cb);
        }
        k = j;
    }
    if (rc == ASKDOCS_OK)
        rc = row_flush(d, row);
    if (!cell)
        idx_docbuf_table_end(d);
out:
    row_free(row);
    askdocs_buf_free(&cb);
    return rc ? rc : d->rc;
}

/* Control characters of PARA_TEXT: "char" controls take one code unit,
 * "inline" and "extended" ones eight (the code, six units of data or the
 * control id, the code again). Extended ones own a CTRL_HEADER. */
static int ctrl_kind(uint16_t c)
{
    switch (c) {
    case 0: case 10: case 13: case 24: case 25: case 26: case 27: case 28:
    case 29: case 30: case 31:
        return 1; /* char */
    case 4: case 5: case 6: case 7: case 8: case 9: case 19: case 20:
        return 2; /* inline */
    default:
        return 3; /* extended: 1-3, 11, 12, 14-18, 21-23 */
    }
}

/* A paragraph: PARA_HEADER at index i, children up to end. */
static askdocs_rc hwp_para(hwp_doc *h, size_t i, size_t end,
                           askdocs_buf *cell, int depth)
{
    idx_extract_ctx *cx = h->cx;
    idx_docbuf *d = cx->out;
    const hrec *ph = &h->r[i];
    const hrec *text = NULL, *segs = NULL;
    size_t notes[HWP_MAX_NOTES];
    int n_notes = 0, heading = 0, top = !cell && depth == 0;
    size_t k, cursor = i + 1, nu, u;
    askdocs_buf t;
    askdocs_rc rc = ASKDOCS_OK;

    askdocs_buf_init(&t, cx->lim.max_text_bytes);
    if (ph->size < 12) {
        askdocs_snprintf(cx->err, sizeof(cx->err),
                         "paragraph header of %u bytes is too short "
                         "(damaged file)",
                         ph->size);
        rc = ASKDOCS_ERR_CORRUPT;
        goto out;
    }
    for (k = i + 1; k < end; k++) {
        if (h->r[k].level != ph->level + 1)
            continue;
        if (h->r[k].tag == HWPTAG_PARA_TEXT && !text)
            text = &h->r[k];
        else if (h->r[k].tag == HWPTAG_PARA_LINE_SEG && !segs)
            segs = &h->r[k];
    }
    {
        unsigned shape = rd16(ph->p + 8), style = ph->p[10];
        if (shape < h->n_shapes)
            heading = h->shape_level[shape];
        if (!heading)
            heading = h->style_level[style];
    }
    if (top) {
        /* a section or page break, or a new section (a new page) */
        int brk = (ph->p[11] & 0x05) != 0 || h->sec_first;
        if (h->pg.enabled == 2) /* the layout's flags instead */
            brk = segs && segs->size >= 36 && (rd32(segs->p + 32) & 1);
        h->sec_first = 0;
        rc = pager_para(d, &h->pg, brk);
        if (rc)
            goto out;
    }

    nu = text ? text->size / 2 : 0;
    for (u = 0; u < nu && rc == ASKDOCS_OK;) {
        uint16_t c = rd16(text->p + 2 * u);
        int kind;
        uint32_t id;
        if (c >= 32) {
            uint32_t cp = c;
            if (c >= 0xD800 && c <= 0xDBFF && u + 1 < nu) {
                uint16_t c2 = rd16(text->p + 2 * (u + 1));
                if (c2 >= 0xDC00 && c2 <= 0xDFFF) {
                    cp = 0x10000 + (((uint32_t)c - 0xD800) << 10) +
                         (c2 - 0xDC00);
                    u++;
                }
            }
            rc = put_cp(&t, cp);
            u++;
            continue;
        }
        kind = ctrl_kind(c);
        if (kind == 1) {
            if (c == 13)
                break; /* paragraph end */
            if (c == 10 || c == 30 || c == 31)
                rc = askdocs_buf_append(&t, " ", 1);
            else if (c == 24)
                rc = askdocs_buf_append(&t, "-", 1);
            u++;
            continue;
        }
        if (nu - u < 8) {
            askdocs_snprintf(cx->err, sizeof(cx->err),
                             "paragraph text ends inside control 0x%02x "
                             "(damaged file)",
                             c);
            rc = ASKDOCS_ERR_CORRUPT;
            goto out;
        }
        if (kind == 2) {
            if (c == 9)
                rc = askdocs_buf_append(&t, " ", 1);
            u += 8;
            continue;
        }
        /* extended: the id is in units 1-2; find its CTRL_HEADER */
        id = (uint32_t)rd16(text->p + 2 * (u + 1)) |
             ((uint32_t)rd16(text->p + 2 * (u + 2)) << 16);
        u += 8;
        for (k = cursor; k < end; k++)
            if (h->r[k].level == ph->level + 1 &&
                h->r[k].tag == HWPTAG_CTRL_HEADER && h->r[k].size >= 4 &&
                rd32(h->r[k].p) == id)
                break;
        if (k >= end)
            continue; /* no header: nothing to read for it */
        cursor = k + 1;
        if (depth >= HWP_MAX_DEPTH) {
            h->deep_skipped = 1;
            continue;
        }
        if (id == CTRL_TABLE) {
            /* a table is a block of its own: text before it goes first */
            rc = emit_para(d, cell, t.data ? t.data : "", t.len, heading);
            askdocs_buf_reset(&t);
            if (rc == ASKDOCS_OK)
                rc = hwp_table(h, k, subtree_end(h, k, end), cell, depth + 1);
        } else if ((id == CTRL_GSO || id == CTRL_FOOTNOTE ||
                    id == CTRL_ENDNOTE) &&
                   n_notes < HWP_MAX_NOTES) {
            notes[n_notes++] = k; /* after the paragraph it is in */
        }
        /* headers, footers, hidden comments, fields...: no body text */
    }
    if (rc == ASKDOCS_OK)
        rc = emit_para(d, cell, t.data ? t.data : "", t.len, heading);
    for (k = 0; k < (size_t)n_notes && rc == ASKDOCS_OK; k++)
        rc = hwp_walk(h, notes[k] + 1, subtree_end(h, notes[k], end), cell,
                      depth + 1);
    if (top && h->pg.enabled == 2 && segs) {
        /* pages starting inside the paragraph start after it */
        size_t s;
        for (s = 1; s < segs->size / 36; s++)
            if (rd32(segs->p + 36 * s + 32) & 1)
                h->pg.pending++;
    }
out:
    askdocs_buf_free(&t);
    return rc ? rc : d->rc;
}

/* Every paragraph in records [from, to), at whatever level it sits. */
static askdocs_rc hwp_walk(hwp_doc *h, size_t from, size_t to,
                           askdocs_buf *cell, int depth)
{
    size_t i = from;
    askdocs_rc rc = ASKDOCS_OK;
    while (i < to && rc == ASKDOCS_OK) {
        if (h->r[i].tag == HWPTAG_PARA_HEADER) {
            size_t e = subtree_end(h, i, to);
            rc = hwp_para(h, i, e, cell, depth);
            i = e;
        } else {
            i++;
        }
    }
    return rc;
}

/* Title from \005HwpSummaryInformation (an OLE property set: PIDSI_TITLE,
 * mostly VT_LPWSTR). NULL when absent or unreadable. */
static char *summary_title(const unsigned char *p, size_t n)
{
    size_t sec, np, i;
    askdocs_buf b;
    char *res = NULL;
    if (n < 48 || rd16(p) != 0xFFFE)
        return NULL;
    sec = rd32(p + 44);
    if (sec > n || n - sec < 8)
        return NULL;
    np = rd32(p + sec + 4);
    if (np > (n - sec - 8) / 8)
        np = (n - sec - 8) / 8;
    askdocs_buf_init(&b, 4096);
    for (i = 0; i < np; i++) {
        size_t off = sec + rd32(p + sec + 8 + 8 * i + 4), len, k;
        uint32_t type;
        if (rd32(p + sec + 8 + 8 * i) != 2) /* PIDSI_TITLE */
            continue;
        if (off > n || n - off < 8)
            break;
        type = rd32(p + off);
        len = rd32(p + off + 4);
        off += 8;
        if (type == 0x1F) { /* VT_LPWSTR: len code units incl. NUL */
            if (len > (n - off) / 2)
                break;
            for (k = 0; k < len; k++) {
                uint16_t c = rd16(p + off + 2 * k);
                if (c == 0)
                    break;
                if (put_cp(&b, c < 0x20 ? ' ' : c) != ASKDOCS_OK)
                    break;
            }
        } else if (type == 0x1E) { /* VT_LPSTR: kept when UTF-8 */
            if (len > n - off)
                break;
            k = 0;
            while (k < len && p[off + k])
                k++;
            if (askdocs_utf8_valid((const char *)p + off, k))
                askdocs_buf_append(&b, p + off, k);
        }
        break;
    }
    if (b.len) {
        size_t a = 0, e = b.len;
        while (a < e && b.data[a] == ' ')
            a++;
        while (e > a && b.data[e - 1] == ' ')
            e--;
        if (e > a && askdocs_utf8_valid(b.data + a, e - a))
            res = askdocs_strndup(b.data + a, e - a);
    }
    askdocs_buf_free(&b);
    return res;
}

askdocs_rc idx_extract_hwp(idx_extract_ctx *cx)
{
    GsfInput *mem = NULL, *in = NULL;
    GsfInfile *ole = NULL, *body = NULL;
    GError *gerr = NULL;
    hsec *secs = NULL;
    size_t n_secs = 0, s;
    unsigned char *buf = NULL;
    size_t len = 0;
    hrec *recs = NULL;
    size_t n_recs = 0;
    hwp_doc h;
    uint32_t version, flags;
    int compressed, any_break = 0;
    askdocs_rc rc = ASKDOCS_OK;

    memset(&h, 0, sizeof(h));
    h.cx = cx;
    if (cx->n >= 4 && memcmp(cx->data, "PK\003\004", 4) == 0)
        return idx_extract_hwpx(cx); /* an HWPX named .hwp */
    if (cx->n >= 23 && memcmp(cx->data, "HWP Document File V3", 20) == 0) {
        askdocs_snprintf(cx->err, sizeof(cx->err),
                         "HWP 3.x document: only HWP 5.x and HWPX are "
                         "supported; save it again in a newer Hangul");
        return ASKDOCS_ERR_UNSUPPORTED;
    }
    pthread_once(&gsf_once, gsf_init_once);
    mem = gsf_input_memory_new((const guint8 *)cx->data, (gsf_off_t)cx->n,
                               FALSE);
    if (!mem)
        return ASKDOCS_ERR_NOMEM;
    ole = gsf_infile_msole_new(mem, &gerr);
    if (!ole) {
        askdocs_snprintf(cx->err, sizeof(cx->err),
                         "not an HWP 5 document (no OLE2 compound file: %s)",
                         gerr && gerr->message ? gerr->message : "unknown");
        rc = ASKDOCS_ERR_CORRUPT;
        goto out;
    }

    /* FileHeader: signature, version, property flags */
    in = gsf_infile_child_by_name(ole, "FileHeader");
    if (!in) {
        askdocs_snprintf(cx->err, sizeof(cx->err),
                         "OLE2 file without a FileHeader stream: not an HWP "
                         "document");
        rc = ASKDOCS_ERR_CORRUPT;
        goto out;
    }
    rc = read_stream(cx, in, "FileHeader", 0, &buf, &len);
    g_object_unref(in);
    in = NULL;
    if (rc)
        goto out;
    if (len < 40 || memcmp(buf, "HWP Document File", 17) != 0) {
        askdocs_snprintf(cx->err, sizeof(cx->err),
                         "FileHeader has no HWP signature: not an HWP "
                         "document");
        rc = ASKDOCS_ERR_CORRUPT;
        goto out;
    }
    version = rd32(buf + 32);
    flags = rd32(buf + 36);
    askdocs_free(buf);
    buf = NULL;
    if ((version >> 24) != 5) {
        askdocs_snprintf(cx->err, sizeof(cx->err),
                         "HWP version %u.%u.%u.%u is not supported (only "
                         "5.x)",
                         version >> 24, (version >> 16) & 0xFF,
                         (version >> 8) & 0xFF, version & 0xFF);
        rc = ASKDOCS_ERR_UNSUPPORTED;
        goto out;
    }
    if (flags & HWP_F_PASSWORD) {
        askdocs_snprintf(cx->err, sizeof(cx->err),
                         "password-protected HWP document: its text is "
                         "encrypted; save it without a password to index "
                         "it");
        rc = ASKDOCS_ERR_ENCRYPTED;
        goto out;
    }
    if (flags & HWP_F_DRM) {
        askdocs_snprintf(cx->err, sizeof(cx->err),
                         "DRM-protected HWP document: its text is "
                         "encrypted");
        rc = ASKDOCS_ERR_ENCRYPTED;
        goto out;
    }
    if (flags & HWP_F_DISTRIBUTION) {
        askdocs_snprintf(cx->err, sizeof(cx->err),
                         "HWP distribution document (배포용 문서): its body "
                         "is stored encrypted for viewing only (ViewText), "
                         "which is not supported; index the original "
                         "document instead");
        rc = ASKDOCS_ERR_UNSUPPORTED;
        goto out;
    }
    compressed = (flags & HWP_F_COMPRESSED) != 0;

    /* DocInfo: only the outline levels matter here */
    in = gsf_infile_child_by_name(ole, "DocInfo");
    if (in) {
        rc = read_stream(cx, in, "DocInfo", compressed, &buf, &len);
        g_object_unref(in);
        in = NULL;
        if (rc == ASKDOCS_ERR_TOOBIG || rc == ASKDOCS_ERR_NOMEM)
            goto out;
        if (rc == ASKDOCS_OK &&
            parse_records(cx, buf, len, "DocInfo", &recs, &n_recs) ==
                ASKDOCS_OK)
            hwp_docinfo(&h, recs, n_recs);
        rc = ASKDOCS_OK;
        cx->err[0] = '\0';
        askdocs_free(recs);
        recs = NULL;
        askdocs_free(buf);
        buf = NULL;
    }

    /* BodyText/Section0..N, all read first: the page mode depends on
     * the whole document */
    in = gsf_infile_child_by_name(ole, "BodyText");
    if (!in || !GSF_IS_INFILE(in)) {
        askdocs_snprintf(cx->err, sizeof(cx->err),
                         "no BodyText storage: damaged HWP document");
        rc = ASKDOCS_ERR_CORRUPT;
        goto out;
    }
    body = GSF_INFILE(in);
    in = NULL;
    secs = askdocs_calloc(HWP_MAX_SECTIONS, sizeof(*secs));
    if (!secs) {
        rc = ASKDOCS_ERR_NOMEM;
        goto out;
    }
    for (s = 0; s < HWP_MAX_SECTIONS; s++) {
        char name[32], what[48];
        askdocs_snprintf(name, sizeof(name), "Section%zu", s);
        askdocs_snprintf(what, sizeof(what), "BodyText/%s", name);
        in = gsf_infile_child_by_name(body, name);
        if (!in)
            break;
        rc = read_stream(cx, in, what, compressed, &secs[s].data,
                         &secs[s].len);
        g_object_unref(in);
        in = NULL;
        n_secs = s + 1;
        if (rc == ASKDOCS_OK)
            rc = parse_records(cx, secs[s].data, secs[s].len, what,
                               &secs[s].r, &secs[s].n);
        if (rc)
            goto out;
    }
    {
        /* a listed section that cannot be opened is damage, not the end */
        int k, listed = 0, nc = gsf_infile_num_children(body);
        for (k = 0; k < nc; k++) {
            const char *nm = gsf_infile_name_by_index(body, k);
            if (nm && strncmp(nm, "Section", 7) == 0)
                listed++;
        }
        if (n_secs == 0 || (size_t)listed > n_secs) {
            askdocs_snprintf(cx->err, sizeof(cx->err),
                             "BodyText/Section%zu cannot be read: damaged "
                             "or truncated HWP document",
                             n_secs);
            rc = ASKDOCS_ERR_CORRUPT;
            goto out;
        }
    }

    /* Page mode: the saved layout when the first line of the document is
     * marked as the first of a page, else explicit breaks and sections */
    for (s = 0; s < n_secs; s++) {
        size_t i;
        for (i = 0; i < secs[s].n; i++) {
            const hrec *x = &secs[s].r[i];
            if (x->tag == HWPTAG_PARA_HEADER && x->level == 0 &&
                x->size >= 12 && (x->p[11] & 0x05) && (s > 0 || i > 0))
                any_break = 1;
        }
    }
    if (secs[0].n > 0 && secs[0].r[0].tag == HWPTAG_PARA_HEADER) {
        size_t i;
        for (i = 1; i < secs[0].n && secs[0].r[i].level > 0; i++)
            if (secs[0].r[i].tag == HWPTAG_PARA_LINE_SEG &&
                secs[0].r[i].level == 1) {
                if (secs[0].r[i].size >= 36 &&
                    (rd32(secs[0].r[i].p + 32) & 1))
                    h.pg.enabled = 2;
                break;
            }
    }
    if (!h.pg.enabled && (any_break || n_secs > 1))
        h.pg.enabled = 1;

    for (s = 0; s < n_secs && rc == ASKDOCS_OK; s++) {
        h.r = secs[s].r;
        h.n = secs[s].n;
        h.sec_first = s > 0;
        rc = hwp_walk(&h, 0, h.n, NULL, 0);
    }
    if (rc)
        goto out;
    if (h.deep_skipped)
        askdocs_snprintf(cx->warning, sizeof(cx->warning),
                         "objects nested more than %d deep were skipped",
                         HWP_MAX_DEPTH);

    in = gsf_infile_child_by_name(ole, "\005HwpSummaryInformation");
    if (in) {
        if (read_stream(cx, in, "HwpSummaryInformation", 0, &buf, &len) ==
            ASKDOCS_OK)
            cx->title = summary_title(buf, len);
        cx->err[0] = '\0';
        askdocs_free(buf);
        buf = NULL;
    }
out:
    if (in)
        g_object_unref(in);
    if (secs) {
        for (s = 0; s < n_secs; s++) {
            askdocs_free(secs[s].data);
            askdocs_free(secs[s].r);
        }
        askdocs_free(secs);
    }
    askdocs_free(recs);
    askdocs_free(buf);
    askdocs_free(h.shape_level);
    if (body)
        g_object_unref(body);
    if (ole)
        g_object_unref(ole);
    if (mem)
        g_object_unref(mem);
    if (gerr)
        g_error_free(gerr);
    return rc;
}

/* ============================================================ HWPX */

typedef struct hx_doc {
    idx_extract_ctx *cx;
    unsigned char *para_level; /* by paraPr id: outline level+1 */
    size_t n_para;
    unsigned char *style_level; /* by style id */
    size_t n_style;
    pager pg;
    int sec_first; /* the next top-level paragraph opens a section */
    int deep_skipped;
} hx_doc;

static int is_el(const xmlNode *n, const char *local)
{
    return n && n->type == XML_ELEMENT_NODE &&
           strcmp((const char *)n->name, local) == 0;
}

/* Attribute by local name (any namespace) as a long; def when absent. */
static long attr_long(const xmlNode *n, const char *name, long def)
{
    const xmlAttr *a;
    for (a = n->properties; a; a = a->next)
        if (strcmp((const char *)a->name, name) == 0 && a->children &&
            a->children->content) {
            const char *s = (const char *)a->children->content;
            char *e;
            long v = strtol(s, &e, 10);
            return e != s ? v : def;
        }
    return def;
}

static const char *attr_str(const xmlNode *n, const char *name)
{
    const xmlAttr *a;
    for (a = n->properties; a; a = a->next)
        if (strcmp((const char *)a->name, name) == 0 && a->children &&
            a->children->content)
            return (const char *)a->children->content;
    return NULL;
}

static const xmlNode *first_el(const xmlNode *n, const char *local, int deep)
{
    const xmlNode *c;
    for (c = n ? n->children : NULL; c; c = c->next) {
        const xmlNode *f;
        if (is_el(c, local))
            return c;
        if (deep && c->type == XML_ELEMENT_NODE &&
            (f = first_el(c, local, deep - 1)))
            return f;
    }
    return NULL;
}

static int has_el(const xmlNode *n, const char *local, int deep)
{
    return first_el(n, local, deep) != NULL;
}

static unsigned char *level_slot(unsigned char **v, size_t *n, long id)
{
    if (id < 0 || id >= HWP_MAX_SHAPES)
        return NULL;
    if ((size_t)id >= *n) {
        size_t nn = (size_t)id + 1 > *n * 2 ? (size_t)id + 1 : *n * 2;
        unsigned char *nv;
        if (nn > HWP_MAX_SHAPES)
            nn = HWP_MAX_SHAPES;
        nv = askdocs_realloc(*v, nn);
        if (!nv)
            return NULL;
        memset(nv + *n, 0, nn - *n);
        *v = nv;
        *n = nn;
    }
    return &(*v)[id];
}

/* header.xml: paraPr with <heading type="OUTLINE" level="n"/> and styles
 * named "개요 N" give outline levels. */
static void hx_header_walk(hx_doc *h, const xmlNode *n, int depth)
{
    const xmlNode *c;
    if (depth > 64)
        return;
    for (c = n->children; c; c = c->next) {
        if (c->type != XML_ELEMENT_NODE)
            continue;
        if (is_el(c, "paraPr")) {
            const xmlNode *hd = first_el(c, "heading", 3);
            const char *type = hd ? attr_str(hd, "type") : NULL;
            if (type && strcmp(type, "OUTLINE") == 0) {
                unsigned char *slot =
                    level_slot(&h->para_level, &h->n_para,
                               attr_long(c, "id", -1));
                long lv = attr_long(hd, "level", 0);
                if (slot && lv >= 0 && lv < 10)
                    *slot = (unsigned char)(lv + 1);
            }
        } else if (is_el(c, "style")) {
            const char *nm = attr_str(c, "name");
            const char *en = attr_str(c, "engName");
            int lv = nm ? outline_name_level(nm) : 0;
            if (!lv && en)
                lv = outline_name_level(en);
            if (lv) {
                unsigned char *slot = level_slot(
                    &h->style_level, &h->n_style, attr_long(c, "id", -1));
                if (slot)
                    *slot = (unsigned char)lv;
            }
        } else {
            hx_header_walk(h, c, depth + 1);
        }
    }
}

static askdocs_rc hx_para(hx_doc *h, const xmlNode *p, askdocs_buf *cell,
                          int depth);

/* Paragraphs of every subList below n (cells, notes, text boxes). */
static askdocs_rc hx_sublists(hx_doc *h, const xmlNode *n, askdocs_buf *cell,
                              int depth)
{
    const xmlNode *c;
    askdocs_rc rc = ASKDOCS_OK;
    for (c = n->children; c && rc == ASKDOCS_OK; c = c->next) {
        if (c->type != XML_ELEMENT_NODE)
            continue;
        if (is_el(c, "subList")) {
            const xmlNode *q;
            for (q = c->children; q && rc == ASKDOCS_OK; q = q->next)
                if (is_el(q, "p"))
                    rc = hx_para(h, q, cell, depth);
        } else if (!is_el(c, "p") && depth < HWP_MAX_DEPTH + 8) {
            rc = hx_sublists(h, c, cell, depth + 1);
        }
    }
    return rc;
}

static askdocs_rc hx_table(hx_doc *h, const xmlNode *tbl, askdocs_buf *cell,
                           int depth)
{
    idx_docbuf *d = h->cx->out;
    row_acc *row = NULL;
    askdocs_buf cb;
    const xmlNode *tr, *tc;
    askdocs_rc rc = ASKDOCS_OK;

    askdocs_buf_init(&cb, h->cx->lim.max_text_bytes);
    row = row_new(h->cx->lim.max_text_bytes, cell);
    if (!row) {
        rc = ASKDOCS_ERR_NOMEM;
        goto out;
    }
    for (tr = tbl->children; tr && rc == ASKDOCS_OK; tr = tr->next) {
        if (is_el(tr, "caption")) {
            rc = hx_sublists(h, tr, cell, depth);
            continue;
        }
        if (!is_el(tr, "tr"))
            continue;
        for (tc = tr->children; tc && rc == ASKDOCS_OK; tc = tc->next) {
            if (!is_el(tc, "tc"))
                continue;
            askdocs_buf_reset(&cb);
            rc = hx_sublists(h, tc, &cb, depth);
            if (rc == ASKDOCS_OK)
                rc = row_add(row, &cb);
        }
        if (rc == ASKDOCS_OK)
            rc = row_flush(d, row);
    }
    if (!cell)
        idx_docbuf_table_end(d);
out:
    row_free(row);
    askdocs_buf_free(&cb);
    return rc ? rc : d->rc;
}

/* Text of <t>: text nodes, tab and line break as spaces. */
static askdocs_rc hx_text(const xmlNode *t, askdocs_buf *b, int depth)
{
    const xmlNode *c;
    askdocs_rc rc = ASKDOCS_OK;
    for (c = t->children; c && rc == ASKDOCS_OK; c = c->next) {
        if (c->type == XML_TEXT_NODE || c->type == XML_CDATA_SECTION_NODE) {
            if (c->content)
                rc = askdocs_buf_puts(b, (const char *)c->content);
        } else if (is_el(c, "tab") || is_el(c, "lineBreak") ||
                   is_el(c, "nbSpace") || is_el(c, "fwSpace")) {
            rc = askdocs_buf_append(b, " ", 1);
        } else if (is_el(c, "hyphen")) {
            rc = askdocs_buf_append(b, "-", 1);
        } else if (c->type == XML_ELEMENT_NODE && depth < 32) {
            rc = hx_text(c, b, depth + 1);
        }
    }
    return rc;
}

static int hx_heading(const hx_doc *h, const xmlNode *p)
{
    long pp = attr_long(p, "paraPrIDRef", -1);
    long st = attr_long(p, "styleIDRef", -1);
    if (pp >= 0 && (size_t)pp < h->n_para && h->para_level[pp])
        return h->para_level[pp];
    if (st >= 0 && (size_t)st < h->n_style)
        return h->style_level[st];
    return 0;
}

static const char *const hx_drawings[] = {
    "rect", "ellipse", "arc", "polygon", "curve", "connectLine",
    "container", "textart", NULL};

static int is_drawing(const xmlNode *n)
{
    int i;
    for (i = 0; hx_drawings[i]; i++)
        if (is_el(n, hx_drawings[i]))
            return 1;
    return 0;
}

static askdocs_rc hx_para(hx_doc *h, const xmlNode *p, askdocs_buf *cell,
                          int depth)
{
    idx_docbuf *d = h->cx->out;
    const xmlNode *c, *x, *segs;
    const xmlNode *notes[HWP_MAX_NOTES];
    int n_notes = 0, k, top = !cell && depth == 0;
    int heading = hx_heading(h, p);
    askdocs_buf t;
    askdocs_rc rc = ASKDOCS_OK;

    askdocs_buf_init(&t, h->cx->lim.max_text_bytes);
    segs = first_el(p, "linesegarray", 0);
    if (top) {
        int brk = attr_long(p, "pageBreak", 0) == 1 || h->sec_first;
        h->sec_first = 0;
        if (h->pg.enabled == 2) {
            const xmlNode *s0 = first_el(segs, "lineseg", 0);
            brk = s0 && (attr_long(s0, "flags", 0) & 1);
        }
        rc = pager_para(d, &h->pg, brk);
        if (rc)
            goto out;
    }
    for (c = p->children; c && rc == ASKDOCS_OK; c = c->next) {
        if (!is_el(c, "run"))
            continue;
        for (x = c->children; x && rc == ASKDOCS_OK; x = x->next) {
            if (is_el(x, "t")) {
                rc = hx_text(x, &t, 0);
            } else if (depth >= HWP_MAX_DEPTH &&
                       (is_el(x, "tbl") || is_el(x, "ctrl") ||
                        is_drawing(x))) {
                h->deep_skipped = 1;
            } else if (is_el(x, "tbl")) {
                rc = emit_para(d, cell, t.data ? t.data : "", t.len,
                               heading);
                askdocs_buf_reset(&t);
                if (rc == ASKDOCS_OK)
                    rc = hx_table(h, x, cell, depth + 1);
            } else if (is_el(x, "ctrl")) {
                const xmlNode *y;
                for (y = x->children; y; y = y->next)
                    if ((is_el(y, "footNote") || is_el(y, "endNote")) &&
                        n_notes < HWP_MAX_NOTES)
                        notes[n_notes++] = y;
            } else if (is_drawing(x) && n_notes < HWP_MAX_NOTES) {
                notes[n_notes++] = x;
            }
        }
    }
    if (rc == ASKDOCS_OK)
        rc = emit_para(d, cell, t.data ? t.data : "", t.len, heading);
    for (k = 0; k < n_notes && rc == ASKDOCS_OK; k++)
        rc = hx_sublists(h, notes[k], cell, depth + 1);
    if (top && h->pg.enabled == 2 && segs) {
        int first = 1;
        for (x = segs->children; x; x = x->next)
            if (is_el(x, "lineseg")) {
                if (!first && (attr_long(x, "flags", 0) & 1))
                    h->pg.pending++;
                first = 0;
            }
    }
out:
    askdocs_buf_free(&t);
    return rc ? rc : d->rc;
}

/* content.hpf: title and the section parts in spine order. names gets
 * up to max member names (askdocs_free each). */
static void hx_package(idx_extract_ctx *cx, struct zip *z,
                       const xmlNode *root, char **names, int *n_names,
                       int max)
{
    const xmlNode *meta = first_el(root, "metadata", 0);
    const xmlNode *man = first_el(root, "manifest", 0);
    const xmlNode *spine = first_el(root, "spine", 0);
    const xmlNode *t, *ir, *it;

    t = first_el(meta, "title", 0);
    if (t && !cx->title) {
        xmlChar *s = xmlNodeGetContent(t);
        if (s) {
            size_t a = 0, e = strlen((const char *)s);
            while (a < e && ((const char *)s)[a] == ' ')
                a++;
            while (e > a && ((const char *)s)[e - 1] == ' ')
                e--;
            if (e > a)
                cx->title = askdocs_strndup((const char *)s + a, e - a);
            xmlFree(s);
        }
    }
    for (ir = spine ? spine->children : NULL; ir && *n_names < max;
         ir = ir->next) {
        const char *idref = is_el(ir, "itemref") ? attr_str(ir, "idref") : NULL;
        if (!idref)
            continue;
        for (it = man ? man->children : NULL; it; it = it->next) {
            const char *id = is_el(it, "item") ? attr_str(it, "id") : NULL;
            const char *href = id ? attr_str(it, "href") : NULL;
            const char *base;
            char full[512];
            if (!href || strcmp(id, idref) != 0)
                continue;
            base = strrchr(href, '/');
            base = base ? base + 1 : href;
            if (strncasecmp(base, "section", 7) != 0)
                break;
            /* hrefs are from the package root in Hangul's files; relative
             * to Contents/ per OPF: try both */
            askdocs_snprintf(full, sizeof(full), "%s", href);
            if (zip_name_locate(z, full, 0) < 0)
                askdocs_snprintf(full, sizeof(full), "Contents/%s", href);
            if (zip_name_locate(z, full, 0) >= 0 &&
                (names[*n_names] = askdocs_strdup(full)))
                (*n_names)++;
            break;
        }
    }
}

askdocs_rc idx_extract_hwpx(idx_extract_ctx *cx)
{
    struct zip *z = NULL;
    char *buf = NULL;
    size_t len = 0;
    xmlDocPtr x = NULL;
    xmlDocPtr *secs = NULL;
    char **names = NULL;
    int n_names = 0, n_secs = 0, i, any_break = 0;
    hx_doc h;
    askdocs_rc rc;

    memset(&h, 0, sizeof(h));
    h.cx = cx;
    rc = idx_zip_open(cx, &z);
    if (rc)
        return rc;
    names = askdocs_calloc(HWP_MAX_SECTIONS, sizeof(*names));
    secs = askdocs_calloc(HWP_MAX_SECTIONS, sizeof(*secs));
    if (!names || !secs) {
        rc = ASKDOCS_ERR_NOMEM;
        goto out;
    }

    /* password-protected HWPX: ODF-style manifest with encryption-data */
    rc = idx_zip_read(cx, z, "META-INF/manifest.xml", &buf, &len);
    if (rc == ASKDOCS_OK) {
        x = idx_xml_parse(cx, buf, len, "META-INF/manifest.xml");
        if (x && has_el(xmlDocGetRootElement(x), "encryption-data", 3)) {
            askdocs_snprintf(cx->err, sizeof(cx->err),
                             "password-protected HWPX document: its parts "
                             "are encrypted; save it without a password to "
                             "index it");
            rc = ASKDOCS_ERR_ENCRYPTED;
            goto out;
        }
        cx->err[0] = '\0';
    } else if (rc != ASKDOCS_ERR_NOTFOUND) {
        goto out;
    }
    rc = ASKDOCS_OK;
    if (x)
        xmlFreeDoc(x);
    x = NULL;
    askdocs_free(buf);
    buf = NULL;

    rc = idx_zip_read(cx, z, "Contents/content.hpf", &buf, &len);
    if (rc == ASKDOCS_OK) {
        x = idx_xml_parse(cx, buf, len, "Contents/content.hpf");
        if (!x) {
            rc = ASKDOCS_ERR_CORRUPT;
            goto out;
        }
        hx_package(cx, z, xmlDocGetRootElement(x), names, &n_names,
                   HWP_MAX_SECTIONS);
        xmlFreeDoc(x);
        x = NULL;
    } else if (rc != ASKDOCS_ERR_NOTFOUND) {
        goto out;
    }
    rc = ASKDOCS_OK;
    askdocs_free(buf);
    buf = NULL;
    if (n_names == 0) { /* no usable manifest: section0.xml, section1.xml.. */
        for (i = 0; i < HWP_MAX_SECTIONS; i++) {
            char nm[64];
            askdocs_snprintf(nm, sizeof(nm), "Contents/section%d.xml", i);
            if (zip_name_locate(z, nm, 0) < 0)
                break;
            if (!(names[n_names] = askdocs_strdup(nm))) {
                rc = ASKDOCS_ERR_NOMEM;
                goto out;
            }
            n_names++;
        }
    }
    if (n_names == 0) {
        askdocs_snprintf(cx->err, sizeof(cx->err),
                         "no Contents/section0.xml: not an HWPX document "
                         "or a damaged one");
        rc = ASKDOCS_ERR_CORRUPT;
        goto out;
    }

    rc = idx_zip_read(cx, z, "Contents/header.xml", &buf, &len);
    if (rc == ASKDOCS_OK) {
        x = idx_xml_parse(cx, buf, len, "Contents/header.xml");
        if (x)
            hx_header_walk(&h, xmlDocGetRootElement(x), 0);
        cx->err[0] = '\0'; /* only headings depend on it */
        if (x)
            xmlFreeDoc(x);
        x = NULL;
    } else if (rc != ASKDOCS_ERR_NOTFOUND) {
        goto out;
    }
    rc = ASKDOCS_OK;
    askdocs_free(buf);
    buf = NULL;

    for (i = 0; i < n_names; i++) {
        rc = idx_zip_read(cx, z, names[i], &buf, &len);
        if (rc == ASKDOCS_ERR_NOTFOUND) {
            askdocs_snprintf(cx->err, sizeof(cx->err), "%s is missing",
                             names[i]);
            rc = ASKDOCS_ERR_CORRUPT;
        }
        if (rc)
            goto out;
        secs[i] = idx_xml_parse(cx, buf, len, names[i]);
        askdocs_free(buf);
        buf = NULL;
        if (!secs[i]) {
            rc = ASKDOCS_ERR_CORRUPT;
            goto out;
        }
        n_secs = i + 1;
    }

    /* page mode, as for HWP */
    for (i = 0; i < n_secs; i++) {
        const xmlNode *root = xmlDocGetRootElement(secs[i]), *p;
        for (p = root ? root->children : NULL; p; p = p->next)
            if (is_el(p, "p") && attr_long(p, "pageBreak", 0) == 1 &&
                (i > 0 || p != first_el(root, "p", 0)))
                any_break = 1;
    }
    {
        const xmlNode *p0 = first_el(xmlDocGetRootElement(secs[0]), "p", 0);
        const xmlNode *s0 =
            first_el(first_el(p0, "linesegarray", 0), "lineseg", 0);
        if (s0 && (attr_long(s0, "flags", 0) & 1))
            h.pg.enabled = 2;
    }
    if (!h.pg.enabled && (any_break || n_secs > 1))
        h.pg.enabled = 1;

    for (i = 0; i < n_secs && rc == ASKDOCS_OK; i++) {
        const xmlNode *root = xmlDocGetRootElement(secs[i]), *p;
        h.sec_first = i > 0;
        for (p = root ? root->children : NULL; p && rc == ASKDOCS_OK;
             p = p->next)
            if (is_el(p, "p"))
                rc = hx_para(&h, p, NULL, 0);
    }
    if (rc == ASKDOCS_OK && h.deep_skipped)
        askdocs_snprintf(cx->warning, sizeof(cx->warning),
                         "objects nested more than %d deep were skipped",
                         HWP_MAX_DEPTH);
out:
    if (x)
        xmlFreeDoc(x);
    if (secs) {
        for (i = 0; i < n_secs; i++)
            xmlFreeDoc(secs[i]);
        askdocs_free(secs);
    }
    if (names) {
        for (i = 0; i < n_names; i++)
            askdocs_free(names[i]);
        askdocs_free(names);
    }
    askdocs_free(buf);
    askdocs_free(h.para_level);
    askdocs_free(h.style_level);
    idx_zip_close(z);
    return rc;
}
