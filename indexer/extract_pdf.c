/*
 * extract_pdf.c - PDF text per page with poppler-glib, and OCR of pages
 * without a text layer through Tesseract's C API.
 *
 * Every page starts a docbuf page, so each passage cites the page it came
 * from. poppler gives the text of a page in reading order, one line per
 * visual line; the lines are regrouped into paragraphs using the geometry
 * of the characters (blank lines, vertical gaps, changes of font size) so
 * a sentence wrapped over three lines stays one passage, and short lines
 * set in a clearly larger font than the page's body text become headings.
 */
#include "idx_internal.h"

#include <cairo.h>
#include <math.h>
#include <poppler.h>
#include <string.h>
#include <tesseract/capi.h>

/* Characters of one page for which font sizes are looked up; a page with
 * more text is still extracted, only without heading detection. */
#define PDF_MAX_PAGE_CHARS (4 << 20)
/* Pixels of one page rendered for OCR (a 300 dpi A3 page is ~17M). */
#define OCR_MAX_PIXELS (64 << 20)

typedef struct pdfx {
    idx_extract_ctx *cx;
    askdocs_buf para;     /* paragraph being assembled */
    double body_size;     /* body font size of the last page with text */
    TessBaseAPI *tess;    /* created on the first page that needs OCR */
    int ocr_failed;       /* Tesseract could not start: OCR is off */
} pdfx;

/* One visual line of a page's text. */
typedef struct pline {
    size_t b0, b1;        /* bytes in the page text, without the newline */
    double top, bottom, left, right;
    double size;          /* largest font size on the line, 0 = unknown */
    int blank;
} pline;

static int is_space_byte(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v';
}

/* Bytes of a bullet glyph at the start of s (after spaces), 0 if none. */
static size_t bullet_len(const char *s, size_t n)
{
    static const char *const bullets[] = {"\xE2\x80\xA2", /* • */
                                          "\xE2\x97\xA6", /* ◦ */
                                          "\xE2\x96\xAA", /* ▪ */
                                          "\xE2\x97\x8F", /* ● */
                                          "\xC2\xB7",     /* · */
                                          "\xEF\x82\xB7", /* Symbol font • */
                                          NULL};
    int i;
    for (i = 0; bullets[i]; i++) {
        size_t l = strlen(bullets[i]);
        if (n > l && memcmp(s, bullets[i], l) == 0 &&
            (s[l] == ' ' || s[l] == '\t'))
            return l;
    }
    return 0;
}

static askdocs_rc emit_para(pdfx *p, int lines, double size, int list)
{
    idx_docbuf *out = p->cx->out;
    askdocs_rc rc = ASKDOCS_OK;
    int kind = list ? IDX_BLOCK_LIST : IDX_BLOCK_PARA, level = 0;
    if (!p->para.len)
        return out->rc;
    /* a short run of a markedly larger font is a heading; the ratio to
     * the body text gives its rank */
    if (!list && p->body_size > 0 && size >= p->body_size * 1.2 &&
        lines <= 3 && p->para.len <= 300) {
        double r = size / p->body_size;
        kind = IDX_BLOCK_HEADING;
        level = r >= 1.6 ? 1 : r >= 1.35 ? 2 : 3;
    }
    rc = idx_docbuf_block(out, kind, level, p->para.data, p->para.len);
    askdocs_buf_reset(&p->para);
    return rc;
}

/* Most common font size of the page, weighted by characters (to 0.5 pt). */
static double page_body_size(const float *sizes, long n)
{
    /* sizes 0.5 .. 100 pt in half points */
    long hist[201];
    long i, best = 0;
    memset(hist, 0, sizeof(hist));
    for (i = 0; i < n; i++) {
        long k = lround(sizes[i] * 2.0);
        if (k > 0 && k <= 200)
            hist[k]++;
    }
    for (i = 1; i <= 200; i++)
        if (hist[i] > hist[best])
            best = i;
    return best ? (double)best / 2.0 : 0.0;
}

/* 1 if the line ends a sentence: ".", "다.", ":", ";", "?" or "!". */
static int ends_sentence(const char *s, size_t n)
{
    while (n && is_space_byte(s[n - 1]))
        n--;
    return n && (s[n - 1] == '.' || s[n - 1] == ':' || s[n - 1] == ';' ||
                 s[n - 1] == '?' || s[n - 1] == '!');
}

/* Split text[0..len) into lines with their geometry (caller frees *out
 * with askdocs_free). rects/sizes as for page_paragraphs. */
static askdocs_rc split_lines(const char *text, size_t len,
                              const PopplerRectangle *rects,
                              const float *sizes, long nchars, pline **out,
                              int *n_out)
{
    size_t i = 0, k, nl = 1;
    long ci = 0;
    int n = 0;
    pline *v;
    for (k = 0; k < len; k++)
        nl += text[k] == '\n';
    *out = NULL;
    *n_out = 0;
    v = askdocs_calloc(nl, sizeof(*v));
    if (!v)
        return ASKDOCS_ERR_NOMEM;
    while (i < len && (size_t)n < nl) {
        pline *ln = &v[n++];
        size_t j = i;
        int first = 1;
        ln->b0 = i;
        while (j < len && text[j] != '\n') {
            unsigned char c = (unsigned char)text[j];
            size_t l = c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
            if (rects && ci < nchars && !is_space_byte(text[j])) {
                const PopplerRectangle *r = &rects[ci];
                double top = ASKDOCS_MIN(r->y1, r->y2);
                double bot = ASKDOCS_MAX(r->y1, r->y2);
                double right = ASKDOCS_MAX(r->x1, r->x2);
                if (first || top < ln->top)
                    ln->top = top;
                if (first || bot > ln->bottom)
                    ln->bottom = bot;
                if (first)
                    ln->left = ASKDOCS_MIN(r->x1, r->x2);
                if (right > ln->right)
                    ln->right = right;
                if (sizes && sizes[ci] > ln->size)
                    ln->size = sizes[ci];
                first = 0;
            }
            j = ASKDOCS_MIN(j + l, len);
            ci++;
        }
        ln->b1 = j;
        ln->blank = 1;
        for (k = ln->b0; k < ln->b1; k++)
            if (!is_space_byte(text[k]))
                ln->blank = 0;
        i = j < len ? j + 1 : j;
        ci++; /* the newline has a rectangle of its own */
    }
    *out = v;
    *n_out = n;
    return ASKDOCS_OK;
}

/* Paragraphs of one page's text. rects/sizes are per character of text
 * (NULL when poppler's layout did not match the text: blank lines alone
 * then separate paragraphs). */
static askdocs_rc page_paragraphs(pdfx *p, const char *text, size_t len,
                                  const PopplerRectangle *rects,
                                  const float *sizes, long nchars)
{
    pline *v = NULL;
    int n = 0, li, lines = 0, list = 0;
    double psize = 0, right = 0, left = 1e9;
    askdocs_rc rc = split_lines(text, len, rects, sizes, nchars, &v, &n);

    /* the text column: lines that end well short of it end paragraphs */
    for (li = 0; li < n; li++)
        if (!v[li].blank) {
            right = ASKDOCS_MAX(right, v[li].right);
            left = ASKDOCS_MIN(left, v[li].left);
        }
    for (li = 0; li < n && rc == ASKDOCS_OK; li++) {
        const pline *ln = &v[li], *prev = li > 0 ? &v[li - 1] : NULL;
        const char *s = text + ln->b0;
        size_t sn = ln->b1 - ln->b0, bl;
        if (ln->blank) {
            rc = emit_para(p, lines, psize, list);
            lines = 0;
            continue;
        }
        while (sn && is_space_byte(*s)) {
            s++;
            sn--;
        }
        bl = bullet_len(s, sn);
        if (lines > 0 && prev) {
            double h = ln->bottom - ln->top, ph = prev->bottom - prev->top;
            int brk = bl > 0;
            if (rects) {
                /* a gap larger than most of a line, a jump back up (next
                 * column), a change of font size, or a previous line that
                 * ends a sentence well short of the column's edge */
                if (ln->top - prev->bottom > 0.7 * ASKDOCS_MAX(ph, h) ||
                    ln->bottom < prev->top)
                    brk = 1;
                if (sizes && psize > 0 && ln->size > 0 &&
                    fabs(ln->size - psize) > 0.12 * psize)
                    brk = 1;
                if (right > left &&
                    prev->right < right - 0.12 * (right - left) &&
                    ends_sentence(text + prev->b0, prev->b1 - prev->b0))
                    brk = 1;
            }
            if (brk) {
                rc = emit_para(p, lines, psize, list);
                lines = 0;
            }
        }
        if (rc != ASKDOCS_OK)
            break;
        if (lines == 0) {
            list = bl > 0;
            psize = ln->size;
            s += bl;
            sn -= bl;
        } else {
            rc = askdocs_buf_append(&p->para, " ", 1);
            if (ln->size > psize)
                psize = ln->size;
        }
        if (rc == ASKDOCS_OK)
            rc = askdocs_buf_append(&p->para, s, sn);
        lines++;
    }
    if (rc == ASKDOCS_OK)
        rc = emit_para(p, lines, psize, list);
    askdocs_free(v);
    return rc;
}

/* Font size of every character of the page text, from poppler's text
 * attributes (ranges of characters). Caller frees with askdocs_free. */
static float *char_sizes(PopplerPage *page, long nchars)
{
    GList *attrs, *a;
    float *sizes;
    if (nchars <= 0 || nchars > PDF_MAX_PAGE_CHARS)
        return NULL;
    sizes = askdocs_calloc((size_t)nchars, sizeof(*sizes));
    if (!sizes)
        return NULL;
    attrs = poppler_page_get_text_attributes(page);
    for (a = attrs; a; a = a->next) {
        const PopplerTextAttributes *t = a->data;
        long s = t->start_index, e = t->end_index, c;
        if (s < 0)
            s = 0;
        for (c = s; c <= e && c < nchars; c++)
            sizes[c] = (float)t->font_size;
    }
    poppler_page_free_text_attributes(attrs);
    return sizes;
}

static askdocs_rc page_text(pdfx *p, PopplerPage *page, const char *text)
{
    PopplerRectangle *rects = NULL;
    guint nr = 0;
    float *sizes = NULL;
    long nchars = g_utf8_strlen(text, -1);
    askdocs_rc rc;
    int layout_ok = poppler_page_get_text_layout(page, &rects, &nr) &&
                    (long)nr >= nchars;
    if (layout_ok) {
        sizes = char_sizes(page, nchars);
        if (sizes) {
            double body = page_body_size(sizes, nchars);
            /* a nearly empty page (a title page, a chart) says little
             * about the body size: keep the previous page's */
            if (body > 0 && (nchars >= 200 || p->body_size == 0))
                p->body_size = body;
        }
    }
    rc = page_paragraphs(p, text, strlen(text), layout_ok ? rects : NULL,
                         sizes, nchars);
    g_free(rects);
    askdocs_free(sizes);
    return rc;
}

/* Paragraphs of OCR output: Tesseract separates blocks by blank lines. */
static askdocs_rc ocr_paragraphs(pdfx *p, const char *t)
{
    return page_paragraphs(p, t, strlen(t), NULL, NULL, 0);
}

/* Render the page and OCR it. *got = 1 when text came out. */
static askdocs_rc ocr_page(pdfx *p, PopplerPage *page, int *got)
{
    idx_extract_ctx *cx = p->cx;
    cairo_surface_t *surf = NULL;
    cairo_t *cr = NULL;
    unsigned char *gray = NULL;
    char *txt = NULL;
    double wpt = 0, hpt = 0, scale;
    int dpi = cx->lim.ocr_dpi > 0 ? cx->lim.ocr_dpi : 300, w, h, x, y, stride;
    const unsigned char *px;
    askdocs_rc rc = ASKDOCS_OK;
    size_t k;

    *got = 0;
    if (p->ocr_failed)
        return ASKDOCS_OK;
    if (!p->tess) {
        const char *langs = cx->lim.ocr_langs && *cx->lim.ocr_langs
                                ? cx->lim.ocr_langs
                                : "eng";
        p->tess = TessBaseAPICreate();
        if (!p->tess ||
            TessBaseAPIInit3(p->tess, cx->lim.ocr_datadir, langs) != 0) {
            p->ocr_failed = 1;
            return ASKDOCS_OK; /* reported in the warning */
        }
    }
    poppler_page_get_size(page, &wpt, &hpt);
    if (!(wpt > 0 && hpt > 0 && wpt < 20000 && hpt < 20000))
        return ASKDOCS_OK;
    scale = dpi / 72.0;
    if (wpt * scale * hpt * scale > OCR_MAX_PIXELS)
        scale = sqrt(OCR_MAX_PIXELS / (wpt * hpt));
    w = (int)ceil(wpt * scale);
    h = (int)ceil(hpt * scale);
    surf = cairo_image_surface_create(CAIRO_FORMAT_RGB24, w, h);
    if (cairo_surface_status(surf) != CAIRO_STATUS_SUCCESS) {
        rc = ASKDOCS_ERR_NOMEM;
        goto out;
    }
    cr = cairo_create(surf);
    cairo_set_source_rgb(cr, 1, 1, 1);
    cairo_paint(cr);
    cairo_scale(cr, scale, scale);
    poppler_page_render(page, cr);
    cairo_surface_flush(surf);
    px = cairo_image_surface_get_data(surf);
    stride = cairo_image_surface_get_stride(surf);
    gray = askdocs_malloc((size_t)w * (size_t)h);
    if (!px || !gray) {
        rc = ASKDOCS_ERR_NOMEM;
        goto out;
    }
    /* 8-bit grey: Tesseract binarises anyway, and cairo's native-endian
     * xRGB is not an order Tesseract reads */
    for (y = 0, k = 0; y < h; y++) {
        const uint32_t *row = (const uint32_t *)(const void *)(px +
                                                               (size_t)y *
                                                                   (size_t)stride);
        for (x = 0; x < w; x++, k++) {
            uint32_t v = row[x];
            unsigned r = (v >> 16) & 0xFF, g = (v >> 8) & 0xFF, b = v & 0xFF;
            gray[k] = (unsigned char)((r * 299 + g * 587 + b * 114) / 1000);
        }
    }
    TessBaseAPISetImage(p->tess, gray, w, h, 1, w);
    TessBaseAPISetSourceResolution(p->tess, (int)lround(72.0 * scale));
    txt = TessBaseAPIGetUTF8Text(p->tess);
    if (txt) {
        size_t before = idx_docbuf_len(cx->out);
        rc = ocr_paragraphs(p, txt);
        *got = idx_docbuf_len(cx->out) > before;
    }
out:
    if (txt)
        TessDeleteText(txt);
    if (p->tess)
        TessBaseAPIClear(p->tess);
    askdocs_free(gray);
    if (cr)
        cairo_destroy(cr);
    if (surf)
        cairo_surface_destroy(surf);
    return rc;
}

static int has_text(const char *s)
{
    for (; s && *s; s++)
        if (!is_space_byte(*s) && *s != '\n')
            return 1;
    return 0;
}

static void set_title(idx_extract_ctx *cx, PopplerDocument *doc)
{
    gchar *t = poppler_document_get_title(doc);
    const char *s = t;
    size_t n;
    if (!t)
        return;
    while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
        s++;
    n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\n' ||
                 s[n - 1] == '\r'))
        n--;
    if (n && askdocs_utf8_valid(s, n))
        cx->title = askdocs_strndup(s, askdocs_utf8_floor(s, ASKDOCS_MIN(n, 500)));
    g_free(t);
}

askdocs_rc idx_extract_pdf(idx_extract_ctx *cx)
{
    pdfx p;
    GBytes *bytes = NULL;
    GError *gerr = NULL;
    PopplerDocument *doc = NULL;
    askdocs_rc rc = ASKDOCS_OK;
    int n_pages, i;

    memset(&p, 0, sizeof(p));
    p.cx = cx;
    askdocs_buf_init(&p.para, cx->lim.max_text_bytes);
    bytes = g_bytes_new_static(cx->data, cx->n);
    doc = poppler_document_new_from_bytes(bytes, NULL, &gerr);
    if (!doc) {
        if (gerr && gerr->domain == POPPLER_ERROR &&
            gerr->code == POPPLER_ERROR_ENCRYPTED) {
            askdocs_snprintf(cx->err, sizeof(cx->err),
                             "PDF is password-protected; remove the "
                             "password to index it");
            rc = ASKDOCS_ERR_ENCRYPTED;
        } else {
            askdocs_snprintf(cx->err, sizeof(cx->err),
                             "not a readable PDF (%s): corrupt or truncated "
                             "file",
                             gerr && gerr->message ? gerr->message
                                                   : "unknown error");
            rc = ASKDOCS_ERR_CORRUPT;
        }
        goto out;
    }
    n_pages = poppler_document_get_n_pages(doc);
    if (n_pages > cx->lim.max_pages && cx->lim.max_pages > 0) {
        askdocs_snprintf(cx->err, sizeof(cx->err),
                         "PDF has %d pages, over the limit of %d "
                         "(index.max_pages)",
                         n_pages, cx->lim.max_pages);
        rc = ASKDOCS_ERR_TOOBIG;
        goto out;
    }
    set_title(cx, doc);
    for (i = 0; i < n_pages && rc == ASKDOCS_OK; i++) {
        PopplerPage *page = poppler_document_get_page(doc, i);
        char *text;
        rc = idx_docbuf_page(cx->out);
        if (rc != ASKDOCS_OK || !page) {
            if (page)
                g_object_unref(page);
            if (rc == ASKDOCS_OK)
                cx->n_textless_pages++; /* an unreadable page */
            continue;
        }
        text = poppler_page_get_text(page);
        if (has_text(text)) {
            rc = page_text(&p, page, text);
        } else {
            int got = 0;
            if (cx->lim.ocr)
                rc = ocr_page(&p, page, &got);
            if (got)
                cx->n_ocr_pages++;
            else
                cx->n_textless_pages++;
        }
        g_free(text);
        g_object_unref(page);
        if (rc == ASKDOCS_OK)
            rc = cx->out->rc;
    }
    if (rc == ASKDOCS_OK && cx->n_textless_pages > 0) {
        if (!cx->lim.ocr)
            askdocs_snprintf(cx->warning, sizeof(cx->warning),
                             "%d of %d pages have no text layer (scanned?); "
                             "set [index] ocr = 1 to OCR them",
                             cx->n_textless_pages, n_pages);
        else if (p.ocr_failed)
            askdocs_snprintf(cx->warning, sizeof(cx->warning),
                             "%d of %d pages have no text layer and OCR is "
                             "unavailable: Tesseract cannot load the "
                             "languages \"%s\" (index.ocr_langs)",
                             cx->n_textless_pages, n_pages,
                             cx->lim.ocr_langs ? cx->lim.ocr_langs : "");
        else
            askdocs_snprintf(cx->warning, sizeof(cx->warning),
                             "%d of %d pages have no text, even after OCR",
                             cx->n_textless_pages, n_pages);
    }
out:
    if (rc == ASKDOCS_ERR_NOMEM && !cx->err[0])
        askdocs_snprintf(cx->err, sizeof(cx->err), "out of memory");
    if (p.tess) {
        TessBaseAPIEnd(p.tess);
        TessBaseAPIDelete(p.tess);
    }
    if (gerr)
        g_error_free(gerr);
    if (doc)
        g_object_unref(doc);
    if (bytes)
        g_bytes_unref(bytes);
    askdocs_buf_free(&p.para);
    return rc;
}
