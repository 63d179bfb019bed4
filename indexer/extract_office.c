/*
 * extract_office.c - text and structure of DOCX (WordprocessingML), XLSX
 * (SpreadsheetML), CSV/TSV (libcsv) and HTML (libxml2's HTML parser).
 *
 * Every extractor writes headings, paragraphs, list items and table rows
 * through the idx_docbuf of the context; none of them is paged. Big parts
 * (worksheets, shared strings) are read with libxml2's streaming reader so
 * a large workbook does not become a much larger DOM; document.xml and HTML
 * need the tree (styles, nesting) and are bounded by max_expand_bytes and
 * the file size.
 */
#include "idx_internal.h"

#include <csv.h>
#include <iconv.h>
#include <libxml/HTMLparser.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xmlreader.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <zip.h>

/* Deeper element nesting than this is flattened into plain text: real
 * documents never come close, hostile ones must not exhaust the stack. */
#define MAX_DEPTH 200
/* Cells kept per table row; further cells are merged into the last one. */
#define ROW_MAX_CELLS 512
/* Shared strings of one workbook. */
#define MAX_SHARED_STRINGS 4000000
/* Sheets read per workbook. */
#define MAX_SHEETS 1000

/* ------------------------------------------------------------ helpers */

static int name_is(const xmlNode *n, const char *local)
{
    return n && n->type == XML_ELEMENT_NODE &&
           strcmp((const char *)n->name, local) == 0;
}

/* Attribute by local name, ignoring the namespace prefix (w:val, r:id):
 * the OOXML namespaces come in strict and transitional variants. */
static const char *attr(const xmlNode *n, const char *local)
{
    const xmlAttr *a;
    for (a = n->properties; a; a = a->next)
        if (strcmp((const char *)a->name, local) == 0 && a->children &&
            a->children->type == XML_TEXT_NODE)
            return (const char *)a->children->content;
    return NULL;
}

static const xmlNode *child(const xmlNode *n, const char *local)
{
    const xmlNode *c;
    for (c = n ? n->children : NULL; c; c = c->next)
        if (name_is(c, local))
            return c;
    return NULL;
}

/* w:val of an on/off property: absent value or anything but 0/false/off
 * means on. */
static int onoff(const xmlNode *n)
{
    const char *v = n ? attr(n, "val") : NULL;
    if (!n)
        return 0;
    return !v || !(strcmp(v, "0") == 0 || strcmp(v, "false") == 0 ||
                   strcmp(v, "off") == 0);
}

static int parse_int(const char *s, int dflt)
{
    char *end;
    long v;
    if (!s)
        return dflt;
    v = strtol(s, &end, 10);
    if (end == s || v < -1000000 || v > 1000000)
        return dflt;
    return (int)v;
}

/* A table row being assembled: cell texts back to back in one capped
 * buffer, off[i] = start of cell i. */
typedef struct rowbuf {
    askdocs_buf text;
    size_t off[ROW_MAX_CELLS + 1];
    int n;
} rowbuf;

static void row_init(rowbuf *r, size_t max)
{
    askdocs_buf_init(&r->text, max);
    r->n = 0;
}

static void row_reset(rowbuf *r)
{
    askdocs_buf_reset(&r->text);
    r->n = 0;
}

/* Start a new cell; past ROW_MAX_CELLS the text joins the last cell. */
static askdocs_rc row_cell(rowbuf *r)
{
    if (r->n < ROW_MAX_CELLS) {
        r->off[r->n++] = r->text.len;
        return ASKDOCS_OK;
    }
    return askdocs_buf_append(&r->text, " ", 1);
}

static askdocs_rc row_put(rowbuf *r, const char *s, size_t n)
{
    if (r->n == 0) {
        askdocs_rc rc = row_cell(r);
        if (rc != ASKDOCS_OK)
            return rc;
    }
    return askdocs_buf_append(&r->text, s, n);
}

/* 1 if some cell holds more than whitespace. */
static int row_nonempty(const rowbuf *r)
{
    size_t i;
    for (i = 0; i < r->text.len; i++) {
        unsigned char c = (unsigned char)r->text.data[i];
        if (c != ' ' && c != '\t' && c != '\n' && c != '\r')
            return 1;
    }
    return 0;
}

static askdocs_rc row_emit(idx_docbuf *b, rowbuf *r, int is_header)
{
    const char *cells[ROW_MAX_CELLS];
    size_t lens[ROW_MAX_CELLS];
    int i;
    askdocs_rc rc;
    for (i = 0; i < r->n; i++) {
        size_t end = i + 1 < r->n ? r->off[i + 1] : r->text.len;
        cells[i] = r->text.data ? r->text.data + r->off[i] : "";
        lens[i] = end - r->off[i];
    }
    rc = r->n ? idx_docbuf_row(b, cells, lens, r->n, is_header) : b->rc;
    row_reset(r);
    return rc;
}

/* s[0..n) with whitespace runs collapsed to one space and the ends
 * trimmed, at most 500 bytes (caller frees with askdocs_free). *out is NULL
 * when nothing is left. */
static askdocs_rc dup_title(const char *s, size_t n, char **out)
{
    char *t;
    size_t i, o = 0;
    int space = 0;
    *out = NULL;
    n = askdocs_utf8_floor(s, ASKDOCS_MIN(n, 500));
    t = askdocs_malloc(n + 1);
    if (!t)
        return ASKDOCS_ERR_NOMEM;
    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' ||
            c == '\v') {
            space = o > 0;
            continue;
        }
        if (space)
            t[o++] = ' ';
        space = 0;
        t[o++] = (char)c;
    }
    t[o] = '\0';
    if (o && askdocs_utf8_valid(t, o))
        *out = t;
    else
        askdocs_free(t);
    return ASKDOCS_OK;
}

static askdocs_rc docbuf_rc(idx_extract_ctx *cx, askdocs_rc rc)
{
    if (rc == ASKDOCS_OK)
        rc = cx->out->rc;
    if (rc == ASKDOCS_ERR_NOMEM && !cx->err[0])
        askdocs_snprintf(cx->err, sizeof(cx->err), "out of memory");
    return rc;
}

/* ================================================================ DOCX */

/* Paragraph styles of word/styles.xml that matter here. */
typedef struct docx_style {
    char *id;      /* owned */
    char *based;   /* owned: w:basedOn */
    int heading;   /* 1..6, 0 = none (own, before inheritance) */
    int list;      /* the style carries numbering */
} docx_style;

typedef struct docx {
    idx_extract_ctx *cx;
    docx_style *styles;
    int n_styles;
    askdocs_buf para; /* text of the paragraph being read */
    rowbuf row;
} docx;

/* "heading 3" -> 3, "Title" -> 1, else 0. */
static int heading_of_name(const char *name)
{
    if (!name)
        return 0;
    if (strcasecmp(name, "title") == 0)
        return 1;
    if (strncasecmp(name, "heading ", 8) == 0) {
        int l = parse_int(name + 8, 0);
        return l >= 1 ? ASKDOCS_MIN(l, 6) : 0;
    }
    return 0;
}

static int outline_level(const xmlNode *ppr)
{
    const xmlNode *o = child(ppr, "outlineLvl");
    int v = o ? parse_int(attr(o, "val"), 9) : 9;
    /* 9 is "body text" */
    return v >= 0 && v < 9 ? ASKDOCS_MIN(v + 1, 6) : 0;
}

static askdocs_rc docx_load_styles(docx *d, zip_t *z)
{
    idx_extract_ctx *cx = d->cx;
    char *xml = NULL;
    size_t len;
    xmlDocPtr doc = NULL;
    const xmlNode *root, *s;
    int cap = 0;
    askdocs_rc rc = idx_zip_read(cx, z, "word/styles.xml", &xml, &len);
    if (rc == ASKDOCS_ERR_NOTFOUND)
        return ASKDOCS_OK; /* optional part */
    if (rc != ASKDOCS_OK)
        return rc;
    doc = idx_xml_parse(cx, xml, len, "word/styles.xml");
    if (!doc) {
        rc = ASKDOCS_ERR_CORRUPT;
        goto out;
    }
    root = xmlDocGetRootElement(doc);
    for (s = root ? root->children : NULL; s; s = s->next) {
        const char *id, *type;
        const xmlNode *ppr, *nm, *based;
        docx_style *st;
        if (!name_is(s, "style"))
            continue;
        type = attr(s, "type");
        id = attr(s, "styleId");
        if (!id || (type && strcmp(type, "paragraph") != 0))
            continue;
        if (d->n_styles == cap) {
            int ncap = cap ? cap * 2 : 64;
            docx_style *nv;
            if (ncap > 100000) {
                rc = ASKDOCS_ERR_TOOBIG;
                askdocs_snprintf(cx->err, sizeof(cx->err),
                                 "word/styles.xml has too many styles");
                goto out;
            }
            nv = askdocs_realloc(d->styles, (size_t)ncap * sizeof(*nv));
            if (!nv) {
                rc = ASKDOCS_ERR_NOMEM;
                goto out;
            }
            d->styles = nv;
            cap = ncap;
        }
        st = &d->styles[d->n_styles];
        memset(st, 0, sizeof(*st));
        st->id = askdocs_strdup(id);
        based = child(s, "basedOn");
        if (based && attr(based, "val"))
            st->based = askdocs_strdup(attr(based, "val"));
        d->n_styles++;
        if (!st->id || (based && attr(based, "val") && !st->based)) {
            rc = ASKDOCS_ERR_NOMEM;
            goto out;
        }
        nm = child(s, "name");
        ppr = child(s, "pPr");
        st->heading = heading_of_name(nm ? attr(nm, "val") : NULL);
        if (!st->heading)
            st->heading = outline_level(ppr);
        st->list = child(ppr, "numPr") != NULL;
    }
out:
    if (doc)
        xmlFreeDoc(doc);
    askdocs_free(xml);
    return rc;
}

static const docx_style *docx_style_by_id(const docx *d, const char *id)
{
    int i;
    for (i = 0; id && i < d->n_styles; i++)
        if (strcmp(d->styles[i].id, id) == 0)
            return &d->styles[i];
    return NULL;
}

/* Heading level and list flag of a style, following w:basedOn (a bounded
 * number of steps: a hostile file can make the chain a cycle). */
static void docx_style_props(const docx *d, const char *id, int *heading,
                             int *list)
{
    const docx_style *st = docx_style_by_id(d, id);
    int steps;
    *heading = 0;
    *list = 0;
    for (steps = 0; st && steps < 16; steps++) {
        if (!*heading)
            *heading = st->heading;
        if (st->list)
            *list = 1;
        st = docx_style_by_id(d, st->based);
    }
}

/* Append the text of the runs under n to buf: w:t, tabs and breaks as
 * spaces; deleted text, field instructions and the fallback copy of
 * alternate content are skipped. Paragraphs nested in text boxes and
 * nested table cells are separated by a space. */
static askdocs_rc docx_text(const xmlNode *n, askdocs_buf *buf, int depth)
{
    const xmlNode *c;
    askdocs_rc rc = ASKDOCS_OK;
    for (c = n->children; c && rc == ASKDOCS_OK; c = c->next) {
        const char *nm;
        if (c->type != XML_ELEMENT_NODE)
            continue;
        nm = (const char *)c->name;
        if (strcmp(nm, "t") == 0) {
            xmlChar *t = xmlNodeGetContent(c);
            if (t) {
                rc = askdocs_buf_puts(buf, (const char *)t);
                xmlFree(t);
            }
        } else if (strcmp(nm, "tab") == 0 || strcmp(nm, "br") == 0 ||
                   strcmp(nm, "cr") == 0) {
            rc = askdocs_buf_append(buf, " ", 1);
        } else if (strcmp(nm, "noBreakHyphen") == 0) {
            rc = askdocs_buf_append(buf, "-", 1);
        } else if (strcmp(nm, "del") == 0 || strcmp(nm, "pPr") == 0 ||
                   strcmp(nm, "rPr") == 0 || strcmp(nm, "Fallback") == 0 ||
                   strcmp(nm, "instrText") == 0 ||
                   strcmp(nm, "delText") == 0) {
            continue;
        } else if (depth < MAX_DEPTH) {
            int block = strcmp(nm, "p") == 0 || strcmp(nm, "tc") == 0;
            if (block && buf->len)
                rc = askdocs_buf_append(buf, " ", 1);
            if (rc == ASKDOCS_OK)
                rc = docx_text(c, buf, depth + 1);
        }
    }
    return rc;
}

static askdocs_rc docx_paragraph(docx *d, const xmlNode *p)
{
    const xmlNode *ppr = child(p, "pPr"), *num, *ps;
    int heading = 0, list = 0, level = 0;
    askdocs_rc rc;
    askdocs_buf_reset(&d->para);
    rc = docx_text(p, &d->para, 0);
    if (rc != ASKDOCS_OK)
        return rc;
    ps = child(ppr, "pStyle");
    if (ps)
        docx_style_props(d, attr(ps, "val"), &heading, &list);
    if (outline_level(ppr))
        heading = outline_level(ppr);
    num = child(ppr, "numPr");
    if (num) {
        const xmlNode *id = child(num, "numId"), *lvl = child(num, "ilvl");
        /* numId 0 switches numbering off */
        list = !id || parse_int(attr(id, "val"), 1) != 0;
        level = lvl ? parse_int(attr(lvl, "val"), 0) : 0;
        if (level < 0 || level > 8)
            level = 0;
    }
    if (heading)
        return idx_docbuf_block(d->cx->out, IDX_BLOCK_HEADING, heading,
                                d->para.data, d->para.len);
    return idx_docbuf_block(d->cx->out, list ? IDX_BLOCK_LIST : IDX_BLOCK_PARA,
                            level, d->para.data, d->para.len);
}

/* A top-level table: one row block per w:tr; a nested table's text is
 * flattened into the cell that holds it. */
static askdocs_rc docx_table(docx *d, const xmlNode *tbl)
{
    const xmlNode *tr, *tc;
    int first = 1;
    askdocs_rc rc = ASKDOCS_OK;
    idx_docbuf_table_end(d->cx->out);
    for (tr = tbl->children; tr && rc == ASKDOCS_OK; tr = tr->next) {
        int header;
        if (!name_is(tr, "tr"))
            continue;
        header = first || onoff(child(child(tr, "trPr"), "tblHeader"));
        row_reset(&d->row);
        for (tc = tr->children; tc && rc == ASKDOCS_OK; tc = tc->next) {
            const xmlNode *cell = tc;
            if (name_is(tc, "sdt")) /* content control around a cell */
                cell = child(child(tc, "sdtContent"), "tc");
            if (!name_is(cell, "tc"))
                continue;
            rc = row_cell(&d->row);
            if (rc == ASKDOCS_OK)
                rc = docx_text(cell, &d->row.text, 1);
        }
        if (rc == ASKDOCS_OK && row_nonempty(&d->row)) {
            rc = row_emit(d->cx->out, &d->row, header);
            first = 0;
        }
    }
    idx_docbuf_table_end(d->cx->out);
    return rc;
}

static askdocs_rc docx_body(docx *d, const xmlNode *n, int depth)
{
    const xmlNode *c;
    askdocs_rc rc = ASKDOCS_OK;
    for (c = n->children; c && rc == ASKDOCS_OK; c = c->next) {
        if (name_is(c, "p"))
            rc = docx_paragraph(d, c);
        else if (name_is(c, "tbl"))
            rc = docx_table(d, c);
        else if ((name_is(c, "sdt") || name_is(c, "sdtContent") ||
                  name_is(c, "customXml") || name_is(c, "ins") ||
                  name_is(c, "smartTag")) &&
                 depth < MAX_DEPTH)
        {
            const xmlNode *inner = name_is(c, "sdt") ? child(c, "sdtContent")
                                                      : c;
            if (inner)
                rc = docx_body(d, inner, depth + 1);
        }
        if (rc == ASKDOCS_OK)
            rc = d->cx->out->rc;
    }
    return rc;
}

/* dc:title of docProps/core.xml into cx->title (absent is fine). */
static askdocs_rc ooxml_title(idx_extract_ctx *cx, zip_t *z)
{
    char *xml = NULL;
    size_t len;
    xmlDocPtr doc = NULL;
    const xmlNode *t;
    askdocs_rc rc = idx_zip_read(cx, z, "docProps/core.xml", &xml, &len);
    if (rc == ASKDOCS_ERR_NOTFOUND)
        return ASKDOCS_OK;
    if (rc != ASKDOCS_OK)
        return rc;
    doc = idx_xml_parse(cx, xml, len, "docProps/core.xml");
    if (!doc) {
        /* metadata only: a broken core.xml does not lose the document */
        cx->err[0] = '\0';
        goto out;
    }
    t = child(xmlDocGetRootElement(doc), "title");
    if (t) {
        xmlChar *s = xmlNodeGetContent(t);
        if (s) {
            rc = dup_title((const char *)s, strlen((const char *)s),
                           &cx->title);
            xmlFree(s);
        }
    }
out:
    if (doc)
        xmlFreeDoc(doc);
    askdocs_free(xml);
    return rc;
}

askdocs_rc idx_extract_docx(idx_extract_ctx *cx)
{
    docx d;
    zip_t *z = NULL;
    char *xml = NULL;
    size_t len;
    xmlDocPtr doc = NULL;
    const xmlNode *body;
    askdocs_rc rc;
    int i;

    memset(&d, 0, sizeof(d));
    d.cx = cx;
    askdocs_buf_init(&d.para, cx->lim.max_text_bytes);
    row_init(&d.row, cx->lim.max_text_bytes);
    rc = idx_zip_open(cx, &z);
    if (rc != ASKDOCS_OK)
        goto out;
    rc = idx_zip_read(cx, z, "word/document.xml", &xml, &len);
    if (rc == ASKDOCS_ERR_NOTFOUND) {
        askdocs_snprintf(cx->err, sizeof(cx->err),
                         "not a Word document: word/document.xml is missing");
        rc = ASKDOCS_ERR_CORRUPT;
    }
    if (rc != ASKDOCS_OK)
        goto out;
    rc = docx_load_styles(&d, z);
    if (rc == ASKDOCS_OK)
        rc = ooxml_title(cx, z);
    if (rc != ASKDOCS_OK)
        goto out;
    doc = idx_xml_parse(cx, xml, len, "word/document.xml");
    if (!doc) {
        rc = ASKDOCS_ERR_CORRUPT;
        goto out;
    }
    body = child(xmlDocGetRootElement(doc), "body");
    if (!body) {
        askdocs_snprintf(cx->err, sizeof(cx->err),
                         "word/document.xml has no w:body");
        rc = ASKDOCS_ERR_CORRUPT;
        goto out;
    }
    rc = docx_body(&d, body, 0);
out:
    rc = docbuf_rc(cx, rc);
    if (doc)
        xmlFreeDoc(doc);
    askdocs_free(xml);
    idx_zip_close(z);
    for (i = 0; i < d.n_styles; i++) {
        askdocs_free(d.styles[i].id);
        askdocs_free(d.styles[i].based);
    }
    askdocs_free(d.styles);
    askdocs_buf_free(&d.para);
    askdocs_buf_free(&d.row.text);
    return rc;
}

/* ================================================================ XLSX */

typedef struct xlsx {
    idx_extract_ctx *cx;
    askdocs_buf sst;   /* shared strings back to back */
    size_t *sst_off;   /* n_sst + 1 offsets into sst */
    int n_sst, cap_sst;
    rowbuf row;
    askdocs_buf val;   /* <v> of the cell being read */
} xlsx;

static xmlTextReaderPtr reader_open(idx_extract_ctx *cx, const char *buf,
                                    size_t len, const char *what)
{
    xmlTextReaderPtr r;
    if (len > (size_t)0x7fffffff) {
        askdocs_snprintf(cx->err, sizeof(cx->err), "%s is too large", what);
        return NULL;
    }
    r = xmlReaderForMemory(buf, (int)len, what, NULL,
                           XML_PARSE_NONET | XML_PARSE_NOERROR |
                               XML_PARSE_NOWARNING | XML_PARSE_COMPACT);
    if (!r)
        askdocs_snprintf(cx->err, sizeof(cx->err), "%s cannot be parsed",
                         what);
    return r;
}

static askdocs_rc reader_failed(idx_extract_ctx *cx, const char *what)
{
    askdocs_snprintf(cx->err, sizeof(cx->err),
                     "%s is not well-formed XML: corrupt or truncated file",
                     what);
    return ASKDOCS_ERR_CORRUPT;
}

static askdocs_rc sst_push(xlsx *x)
{
    if (x->n_sst + 1 >= x->cap_sst) {
        int ncap = x->cap_sst ? x->cap_sst * 2 : 1024;
        size_t *nv;
        if (x->n_sst + 1 >= MAX_SHARED_STRINGS) {
            askdocs_snprintf(x->cx->err, sizeof(x->cx->err),
                             "workbook has more than %d shared strings",
                             MAX_SHARED_STRINGS);
            return ASKDOCS_ERR_TOOBIG;
        }
        if (ncap > MAX_SHARED_STRINGS)
            ncap = MAX_SHARED_STRINGS;
        nv = askdocs_realloc(x->sst_off, (size_t)ncap * sizeof(*nv));
        if (!nv)
            return ASKDOCS_ERR_NOMEM;
        x->sst_off = nv;
        x->cap_sst = ncap;
    }
    x->sst_off[x->n_sst++] = x->sst.len;
    x->sst_off[x->n_sst] = x->sst.len;
    return ASKDOCS_OK;
}

/* xl/sharedStrings.xml: each <si> is the concatenation of its <t> runs,
 * without the phonetic guide runs (<rPh>). */
static askdocs_rc xlsx_shared_strings(xlsx *x, const char *buf, size_t len,
                                      const char *what)
{
    xmlTextReaderPtr r = reader_open(x->cx, buf, len, what);
    int ret = 0, in_t = 0, in_rph = 0, in_si = 0;
    askdocs_rc rc = ASKDOCS_OK;
    if (!r)
        return ASKDOCS_ERR_CORRUPT;
    while (rc == ASKDOCS_OK && (ret = xmlTextReaderRead(r)) == 1) {
        int type = xmlTextReaderNodeType(r);
        const char *nm = (const char *)xmlTextReaderConstLocalName(r);
        if (type == XML_READER_TYPE_ELEMENT && nm) {
            int empty = xmlTextReaderIsEmptyElement(r);
            if (strcmp(nm, "si") == 0) {
                rc = sst_push(x);
                in_si = !empty;
            } else if (strcmp(nm, "rPh") == 0) {
                in_rph = !empty;
            } else if (strcmp(nm, "t") == 0) {
                in_t = !empty;
            }
        } else if (type == XML_READER_TYPE_END_ELEMENT && nm) {
            if (strcmp(nm, "si") == 0)
                in_si = 0;
            else if (strcmp(nm, "rPh") == 0)
                in_rph = 0;
            else if (strcmp(nm, "t") == 0)
                in_t = 0;
        } else if ((type == XML_READER_TYPE_TEXT ||
                    type == XML_READER_TYPE_CDATA ||
                    type == XML_READER_TYPE_SIGNIFICANT_WHITESPACE) &&
                   in_si && in_t && !in_rph) {
            const char *v = (const char *)xmlTextReaderConstValue(r);
            if (v) {
                rc = askdocs_buf_puts(&x->sst, v);
                if (rc == ASKDOCS_ERR_TOOBIG)
                    askdocs_snprintf(x->cx->err, sizeof(x->cx->err),
                                     "shared strings are over the text "
                                     "limit");
                x->sst_off[x->n_sst] = x->sst.len;
            }
        }
    }
    if (rc == ASKDOCS_OK && ret < 0)
        rc = reader_failed(x->cx, what);
    xmlFreeTextReader(r);
    return rc;
}

/* Column number (0-based) of a cell reference like "BC12"; -1 if none. */
static int column_of(const char *ref)
{
    int col = 0, n = 0;
    for (; ref && *ref >= 'A' && *ref <= 'Z' && n < 4; ref++, n++)
        col = col * 26 + (*ref - 'A' + 1);
    return n ? col - 1 : -1;
}

static askdocs_rc xlsx_cell_done(xlsx *x, const char *t)
{
    const char *v = x->val.data ? x->val.data : "";
    if (t && strcmp(t, "s") == 0) {
        char *end;
        long i = strtol(v, &end, 10);
        if (end != v && i >= 0 && i < x->n_sst)
            return row_put(&x->row, x->sst.data + x->sst_off[i],
                           x->sst_off[i + 1] - x->sst_off[i]);
        return ASKDOCS_OK; /* dangling index: an empty cell */
    }
    if (t && strcmp(t, "b") == 0)
        return row_put(&x->row, strcmp(v, "1") == 0 ? "TRUE" : "FALSE",
                       strcmp(v, "1") == 0 ? 4 : 5);
    /* numbers, dates (serials) and formula results as written */
    return row_put(&x->row, v, x->val.len);
}

/* One worksheet: each <row> a table row, the first non-empty one its
 * header; cells left out of the XML (sparse rows) become empty cells. */
static askdocs_rc xlsx_sheet(xlsx *x, const char *buf, size_t len,
                             const char *what)
{
    xmlTextReaderPtr r = reader_open(x->cx, buf, len, what);
    int ret = 0, in_row = 0, in_cell = 0, in_v = 0, in_is = 0, in_t = 0;
    int in_rph = 0, col = 0, header_done = 0;
    char type[16] = "";
    askdocs_rc rc = ASKDOCS_OK;
    if (!r)
        return ASKDOCS_ERR_CORRUPT;
    row_reset(&x->row);
    while (rc == ASKDOCS_OK && (ret = xmlTextReaderRead(r)) == 1) {
        int nt = xmlTextReaderNodeType(r);
        const char *nm = (const char *)xmlTextReaderConstLocalName(r);
        int end_row = 0, end_cell = 0;
        if (nt == XML_READER_TYPE_ELEMENT && nm) {
            int empty = xmlTextReaderIsEmptyElement(r);
            if (strcmp(nm, "row") == 0) {
                row_reset(&x->row);
                in_row = 1;
                col = 0;
                end_row = empty;
            } else if (strcmp(nm, "c") == 0 && in_row) {
                xmlChar *ref = xmlTextReaderGetAttribute(r, BAD_CAST "r");
                xmlChar *t = xmlTextReaderGetAttribute(r, BAD_CAST "t");
                int want = column_of((const char *)ref);
                askdocs_snprintf(type, sizeof(type), "%s",
                                 t ? (const char *)t : "");
                xmlFree(ref);
                xmlFree(t);
                /* empty cells for the columns skipped (bounded) */
                while (rc == ASKDOCS_OK && want > col &&
                       x->row.n < ROW_MAX_CELLS) {
                    rc = row_cell(&x->row);
                    col++;
                }
                if (rc == ASKDOCS_OK)
                    rc = row_cell(&x->row);
                col++;
                askdocs_buf_reset(&x->val);
                in_cell = 1;
                end_cell = empty;
            } else if (in_cell && strcmp(nm, "v") == 0) {
                in_v = !empty;
            } else if (in_cell && strcmp(nm, "is") == 0) {
                in_is = !empty;
            } else if (in_is && strcmp(nm, "rPh") == 0) {
                in_rph = !empty;
            } else if (in_is && strcmp(nm, "t") == 0) {
                in_t = !empty;
            }
        } else if (nt == XML_READER_TYPE_END_ELEMENT && nm) {
            if (strcmp(nm, "row") == 0)
                end_row = 1;
            else if (strcmp(nm, "c") == 0)
                end_cell = 1;
            else if (strcmp(nm, "v") == 0)
                in_v = 0;
            else if (strcmp(nm, "is") == 0)
                in_is = 0;
            else if (strcmp(nm, "rPh") == 0)
                in_rph = 0;
            else if (strcmp(nm, "t") == 0)
                in_t = 0;
        } else if (nt == XML_READER_TYPE_TEXT ||
                   nt == XML_READER_TYPE_CDATA ||
                   nt == XML_READER_TYPE_SIGNIFICANT_WHITESPACE) {
            const char *v = (const char *)xmlTextReaderConstValue(r);
            if (v && in_v)
                rc = askdocs_buf_puts(&x->val, v);
            else if (v && in_is && in_t && !in_rph)
                rc = row_put(&x->row, v, strlen(v));
        }
        if (rc == ASKDOCS_OK && end_cell && in_cell) {
            in_cell = in_v = in_is = in_t = in_rph = 0;
            if (strcmp(type, "inlineStr") != 0)
                rc = xlsx_cell_done(x, type);
        }
        if (rc == ASKDOCS_OK && end_row && in_row) {
            in_row = 0;
            if (row_nonempty(&x->row)) {
                rc = row_emit(x->cx->out, &x->row, !header_done);
                header_done = 1;
            } else {
                row_reset(&x->row);
            }
            if (rc == ASKDOCS_OK)
                rc = x->cx->out->rc;
        }
    }
    if (rc == ASKDOCS_OK && ret < 0)
        rc = reader_failed(x->cx, what);
    xmlFreeTextReader(r);
    idx_docbuf_table_end(x->cx->out);
    return rc;
}

/* Target of relationship id in a .rels part, as a zip member name
 * relative to base ("xl/"). Caller frees with askdocs_free; NULL if absent
 * (or OOM). */
static char *rel_target(const xmlNode *rels, const char *id,
                        const char *type_suffix, const char *base)
{
    const xmlNode *r;
    for (r = rels ? rels->children : NULL; r; r = r->next) {
        const char *rid = attr(r, "Id"), *tg = attr(r, "Target");
        const char *ty = attr(r, "Type");
        size_t tl, sl;
        if (!name_is(r, "Relationship") || !tg)
            continue;
        if (id && (!rid || strcmp(rid, id) != 0))
            continue;
        if (type_suffix) {
            tl = ty ? strlen(ty) : 0;
            sl = strlen(type_suffix);
            if (tl < sl || strcmp(ty + tl - sl, type_suffix) != 0)
                continue;
        }
        if (tg[0] == '/')
            return askdocs_strdup(tg + 1);
        {
            size_t bl = strlen(base), gl = strlen(tg);
            char *s = askdocs_malloc(bl + gl + 1);
            if (s) {
                memcpy(s, base, bl);
                memcpy(s + bl, tg, gl + 1);
            }
            return s;
        }
    }
    return NULL;
}

askdocs_rc idx_extract_xlsx(idx_extract_ctx *cx)
{
    xlsx x;
    zip_t *z = NULL;
    char *wb = NULL, *rels = NULL, *part = NULL, *name = NULL;
    size_t wb_len, rels_len = 0, part_len;
    xmlDocPtr wbdoc = NULL, relsdoc = NULL;
    const xmlNode *rels_root = NULL, *sheets, *s;
    askdocs_rc rc;
    int n_sheets = 0;

    memset(&x, 0, sizeof(x));
    x.cx = cx;
    askdocs_buf_init(&x.sst, cx->lim.max_text_bytes);
    askdocs_buf_init(&x.val, 1 << 20);
    row_init(&x.row, cx->lim.max_text_bytes);
    rc = idx_zip_open(cx, &z);
    if (rc != ASKDOCS_OK)
        goto out;
    rc = idx_zip_read(cx, z, "xl/workbook.xml", &wb, &wb_len);
    if (rc == ASKDOCS_ERR_NOTFOUND) {
        askdocs_snprintf(cx->err, sizeof(cx->err),
                         "not an Excel workbook: xl/workbook.xml is missing");
        rc = ASKDOCS_ERR_CORRUPT;
    }
    if (rc != ASKDOCS_OK)
        goto out;
    wbdoc = idx_xml_parse(cx, wb, wb_len, "xl/workbook.xml");
    if (!wbdoc) {
        rc = ASKDOCS_ERR_CORRUPT;
        goto out;
    }
    rc = idx_zip_read(cx, z, "xl/_rels/workbook.xml.rels", &rels, &rels_len);
    if (rc == ASKDOCS_OK) {
        relsdoc = idx_xml_parse(cx, rels, rels_len,
                                "xl/_rels/workbook.xml.rels");
        if (!relsdoc) {
            rc = ASKDOCS_ERR_CORRUPT;
            goto out;
        }
        rels_root = xmlDocGetRootElement(relsdoc);
    } else if (rc != ASKDOCS_ERR_NOTFOUND) {
        goto out;
    }
    rc = ooxml_title(cx, z);
    if (rc != ASKDOCS_OK)
        goto out;

    name = rel_target(rels_root, NULL, "/sharedStrings", "xl/");
    rc = idx_zip_read(cx, z, name ? name : "xl/sharedStrings.xml", &part,
                      &part_len);
    if (rc == ASKDOCS_OK)
        rc = xlsx_shared_strings(&x, part, part_len, "xl/sharedStrings.xml");
    else if (rc == ASKDOCS_ERR_NOTFOUND)
        rc = ASKDOCS_OK; /* a workbook of numbers only */
    askdocs_free(part);
    askdocs_free(name);
    part = name = NULL;
    if (rc != ASKDOCS_OK)
        goto out;

    sheets = child(xmlDocGetRootElement(wbdoc), "sheets");
    for (s = sheets ? sheets->children : NULL; s && rc == ASKDOCS_OK;
         s = s->next) {
        const char *sname = attr(s, "name"), *rid = attr(s, "id");
        char fallback[64];
        if (!name_is(s, "sheet"))
            continue;
        if (++n_sheets > MAX_SHEETS) {
            askdocs_snprintf(cx->err, sizeof(cx->err),
                             "workbook has more than %d sheets", MAX_SHEETS);
            rc = ASKDOCS_ERR_TOOBIG;
            break;
        }
        name = rid ? rel_target(rels_root, rid, NULL, "xl/") : NULL;
        askdocs_snprintf(fallback, sizeof(fallback),
                         "xl/worksheets/sheet%d.xml", n_sheets);
        rc = idx_zip_read(cx, z, name ? name : fallback, &part, &part_len);
        if (rc == ASKDOCS_ERR_NOTFOUND) {
            /* a chart sheet or a dangling entry: nothing to index */
            rc = ASKDOCS_OK;
        } else if (rc == ASKDOCS_OK) {
            rc = idx_docbuf_block(cx->out, IDX_BLOCK_HEADING, 1,
                                  sname ? sname : fallback,
                                  strlen(sname ? sname : fallback));
            if (rc == ASKDOCS_OK)
                rc = xlsx_sheet(&x, part, part_len, name ? name : fallback);
        }
        askdocs_free(part);
        askdocs_free(name);
        part = name = NULL;
    }
out:
    rc = docbuf_rc(cx, rc);
    if (wbdoc)
        xmlFreeDoc(wbdoc);
    if (relsdoc)
        xmlFreeDoc(relsdoc);
    askdocs_free(wb);
    askdocs_free(rels);
    askdocs_free(part);
    askdocs_free(name);
    idx_zip_close(z);
    askdocs_buf_free(&x.sst);
    askdocs_free(x.sst_off);
    askdocs_buf_free(&x.val);
    askdocs_buf_free(&x.row.text);
    return rc;
}

/* ================================================================= CSV */

typedef struct csvrd {
    idx_docbuf *out;
    rowbuf row;
    int header_done;
    askdocs_rc rc;
} csvrd;

static void csv_on_field(void *s, size_t len, void *user)
{
    csvrd *c = user;
    if (c->rc == ASKDOCS_OK)
        c->rc = row_cell(&c->row);
    if (c->rc == ASKDOCS_OK && s && len)
        c->rc = askdocs_buf_append(&c->row.text, s, len);
}

static void csv_on_row(int term, void *user)
{
    csvrd *c = user;
    (void)term;
    if (c->rc != ASKDOCS_OK)
        return;
    if (row_nonempty(&c->row)) {
        c->rc = row_emit(c->out, &c->row, !c->header_done);
        c->header_done = 1;
    } else {
        row_reset(&c->row);
    }
}

/* The delimiter that occurs most often outside quotes in the first lines;
 * ',' unless another one is clearly used. */
static unsigned char sniff_delim(const char *s, size_t n)
{
    static const char cand[] = {',', '\t', ';', '|'};
    size_t count[4] = {0, 0, 0, 0}, i;
    int quoted = 0, lines = 0, k, best = 0;
    for (i = 0; i < n && i < 16384 && lines < 20; i++) {
        if (s[i] == '"')
            quoted = !quoted;
        else if (!quoted && s[i] == '\n')
            lines++;
        else if (!quoted)
            for (k = 0; k < 4; k++)
                if (s[i] == cand[k])
                    count[k]++;
    }
    for (k = 1; k < 4; k++)
        if (count[k] > count[best])
            best = k;
    return (unsigned char)cand[best];
}

static askdocs_rc decode_text(idx_extract_ctx *cx, const char **s, size_t *n,
                              char **conv)
{
    const unsigned char *u = (const unsigned char *)cx->data;
    size_t conv_len = 0, i;
    askdocs_rc rc = ASKDOCS_OK;
    *s = cx->data;
    *n = cx->n;
    *conv = NULL;
    if (cx->n >= 2 && ((u[0] == 0xFF && u[1] == 0xFE) ||
                       (u[0] == 0xFE && u[1] == 0xFF))) {
        rc = idx_to_utf8(u[0] == 0xFF ? "UTF-16LE" : "UTF-16BE", cx->data + 2,
                     cx->n - 2, conv, &conv_len);
        if (rc != ASKDOCS_OK) {
            askdocs_snprintf(cx->err, sizeof(cx->err),
                             "cannot decode UTF-16 text");
            return rc == ASKDOCS_ERR_NOMEM ? rc : ASKDOCS_ERR_CORRUPT;
        }
        *s = *conv;
        *n = conv_len;
        return ASKDOCS_OK;
    }
    if (cx->n >= 3 && u[0] == 0xEF && u[1] == 0xBB && u[2] == 0xBF) {
        *s = cx->data + 3;
        *n = cx->n - 3;
        return ASKDOCS_OK;
    }
    for (i = 0; i < cx->n; i++)
        if (cx->data[i] == '\0') {
            askdocs_snprintf(cx->err, sizeof(cx->err),
                             "looks binary (NUL bytes), not text");
            return ASKDOCS_ERR_UNSUPPORTED;
        }
    /* Korean spreadsheets are still exported in CP949; when that fails
     * too, the bytes stay as they are and the builder replaces bad ones */
    if (!askdocs_utf8_valid(cx->data, cx->n)) {
        rc = idx_to_utf8("CP949", cx->data, cx->n, conv, &conv_len);
        if (rc == ASKDOCS_OK) {
            *s = *conv;
            *n = conv_len;
        } else if (rc == ASKDOCS_ERR_NOMEM) {
            return rc;
        }
    }
    return ASKDOCS_OK;
}

askdocs_rc idx_extract_csv(idx_extract_ctx *cx)
{
    struct csv_parser p;
    int p_ok = 0;
    csvrd c;
    char *conv = NULL;
    const char *s;
    size_t n;
    askdocs_rc rc;
    const char *dot = strrchr(cx->path ? cx->path : "", '.');

    memset(&c, 0, sizeof(c));
    c.out = cx->out;
    row_init(&c.row, cx->lim.max_text_bytes);
    rc = decode_text(cx, &s, &n, &conv);
    if (rc != ASKDOCS_OK)
        goto out;
    if (csv_init(&p, 0) != 0) {
        rc = ASKDOCS_ERR_NOMEM;
        goto out;
    }
    p_ok = 1;
    csv_set_realloc_func(&p, askdocs_realloc);
    csv_set_free_func(&p, askdocs_free);
    csv_set_delim(&p, dot && strcasecmp(dot, ".tsv") == 0 ? '\t'
                                                           : sniff_delim(s, n));
    if (csv_parse(&p, s, n, csv_on_field, csv_on_row, &c) != n) {
        askdocs_snprintf(cx->err, sizeof(cx->err), "cannot parse CSV: %s",
                         csv_strerror(csv_error(&p)));
        rc = csv_error(&p) == CSV_ENOMEM ? ASKDOCS_ERR_NOMEM
                                         : ASKDOCS_ERR_CORRUPT;
        goto out;
    }
    if (csv_fini(&p, csv_on_field, csv_on_row, &c) != 0) {
        askdocs_snprintf(cx->err, sizeof(cx->err), "cannot parse CSV: %s",
                         csv_strerror(csv_error(&p)));
        rc = ASKDOCS_ERR_CORRUPT;
        goto out;
    }
    rc = c.rc;
    idx_docbuf_table_end(cx->out);
out:
    rc = docbuf_rc(cx, rc);
    if (p_ok)
        csv_free(&p);
    askdocs_free(conv);
    askdocs_buf_free(&c.row.text);
    return rc;
}

/* ================================================================ HTML */

typedef struct html {
    idx_extract_ctx *cx;
    askdocs_buf para;  /* inline text of the block being read */
    int kind, level;   /* what para becomes: PARA, or LIST inside <li> */
    int list_depth;
    rowbuf row;
    askdocs_rc rc;
} html;

static int html_is(const xmlNode *n, const char *const *names)
{
    int i;
    if (!n || n->type != XML_ELEMENT_NODE)
        return 0;
    for (i = 0; names[i]; i++)
        if (strcasecmp((const char *)n->name, names[i]) == 0)
            return 1;
    return 0;
}

/* Page furniture and non-content: never indexed. */
static const char *const html_skip[] = {
    "script", "style", "noscript", "nav", "header", "footer", "aside",
    "template", "form", "head", "iframe", "svg", "canvas", "button",
    "select", "object", "embed", "audio", "video", "map", NULL};
/* Elements that end the running paragraph before and after them. */
static const char *const html_blocks[] = {
    "p", "div", "blockquote", "pre", "section", "article", "main", "body",
    "html", "dl", "dt", "dd", "figure", "figcaption", "address", "center",
    "hr", "details", "summary", "caption", "fieldset", "legend", "ul", "ol",
    "menu", NULL};
static const char *const html_lists[] = {"ul", "ol", "menu", NULL};
static const char *const html_cells[] = {"td", "th", NULL};

static int html_heading(const xmlNode *n)
{
    const char *nm = (const char *)n->name;
    if (n->type == XML_ELEMENT_NODE && (nm[0] == 'h' || nm[0] == 'H') &&
        nm[1] >= '1' && nm[1] <= '6' && nm[2] == '\0')
        return nm[1] - '0';
    return 0;
}

/* Plain text of n's subtree (content elements only) onto buf, a space
 * between block elements. */
static askdocs_rc html_gather(const xmlNode *n, askdocs_buf *buf, int depth)
{
    const xmlNode *c;
    askdocs_rc rc = ASKDOCS_OK;
    for (c = n->children; c && rc == ASKDOCS_OK; c = c->next) {
        if (c->type == XML_TEXT_NODE || c->type == XML_CDATA_SECTION_NODE) {
            if (c->content)
                rc = askdocs_buf_puts(buf, (const char *)c->content);
        } else if (c->type == XML_ELEMENT_NODE && !html_is(c, html_skip)) {
            int block = html_is(c, html_blocks) || html_is(c, html_cells) ||
                        html_heading(c) || strcasecmp((const char *)c->name,
                                                      "li") == 0;
            if (block)
                rc = askdocs_buf_append(buf, " ", 1);
            if (rc == ASKDOCS_OK && depth < MAX_DEPTH)
                rc = html_gather(c, buf, depth + 1);
            if (rc == ASKDOCS_OK && block)
                rc = askdocs_buf_append(buf, " ", 1);
        }
    }
    return rc;
}

static void html_flush(html *h)
{
    if (h->rc == ASKDOCS_OK && h->para.len)
        h->rc = idx_docbuf_block(h->cx->out, h->kind, h->level, h->para.data,
                                 h->para.len);
    askdocs_buf_reset(&h->para);
}

/* Rows of a table (direct tr children and those of thead/tbody/tfoot;
 * tables nested in cells are flattened into the cell text). */
static void html_table(html *h, const xmlNode *tbl)
{
    const xmlNode *sec, *tr, *td;
    int first = 1;
    idx_docbuf_table_end(h->cx->out);
    for (sec = tbl->children; sec && h->rc == ASKDOCS_OK; sec = sec->next) {
        const xmlNode *rows = sec, *start;
        if (sec->type != XML_ELEMENT_NODE)
            continue;
        if (strcasecmp((const char *)sec->name, "tr") == 0)
            start = sec;
        else if (strcasecmp((const char *)sec->name, "thead") == 0 ||
                 strcasecmp((const char *)sec->name, "tbody") == 0 ||
                 strcasecmp((const char *)sec->name, "tfoot") == 0)
            start = rows->children;
        else
            continue;
        for (tr = start; tr && h->rc == ASKDOCS_OK;
             tr = start == sec ? NULL : tr->next) {
            int all_th = 1, cells = 0;
            if (tr->type != XML_ELEMENT_NODE ||
                strcasecmp((const char *)tr->name, "tr") != 0)
                continue;
            row_reset(&h->row);
            for (td = tr->children; td && h->rc == ASKDOCS_OK; td = td->next) {
                if (!html_is(td, html_cells))
                    continue;
                cells++;
                all_th &= strcasecmp((const char *)td->name, "th") == 0;
                h->rc = row_cell(&h->row);
                if (h->rc == ASKDOCS_OK)
                    h->rc = html_gather(td, &h->row.text, 1);
            }
            if (h->rc == ASKDOCS_OK && cells && row_nonempty(&h->row)) {
                h->rc = row_emit(h->cx->out, &h->row,
                                 first || (all_th && cells));
                first = 0;
            }
        }
    }
    idx_docbuf_table_end(h->cx->out);
}

static void html_walk(html *h, const xmlNode *n, int depth)
{
    const xmlNode *c;
    for (c = n->children; c && h->rc == ASKDOCS_OK; c = c->next) {
        int hl;
        if (c->type == XML_TEXT_NODE || c->type == XML_CDATA_SECTION_NODE) {
            if (c->content)
                h->rc = askdocs_buf_puts(&h->para, (const char *)c->content);
            continue;
        }
        if (c->type != XML_ELEMENT_NODE || html_is(c, html_skip))
            continue;
        if (strcasecmp((const char *)c->name, "br") == 0) {
            /* a line break inside a paragraph, not a new paragraph */
            h->rc = askdocs_buf_append(&h->para, " ", 1);
            continue;
        }
        if (depth >= MAX_DEPTH) {
            h->rc = html_gather(c, &h->para, depth);
            continue;
        }
        hl = html_heading(c);
        if (hl) {
            int kind = h->kind, level = h->level;
            html_flush(h);
            if (h->rc == ASKDOCS_OK)
                h->rc = html_gather(c, &h->para, depth + 1);
            h->kind = IDX_BLOCK_HEADING;
            h->level = hl;
            html_flush(h);
            h->kind = kind;
            h->level = level;
        } else if (strcasecmp((const char *)c->name, "table") == 0) {
            html_flush(h);
            if (h->rc == ASKDOCS_OK)
                html_table(h, c);
        } else if (strcasecmp((const char *)c->name, "li") == 0) {
            int kind = h->kind, level = h->level;
            html_flush(h);
            h->kind = IDX_BLOCK_LIST;
            h->level = h->list_depth > 0 ? h->list_depth - 1 : 0;
            html_walk(h, c, depth + 1);
            html_flush(h);
            h->kind = kind;
            h->level = level;
        } else if (html_is(c, html_lists)) {
            html_flush(h);
            h->list_depth++;
            html_walk(h, c, depth + 1);
            h->list_depth--;
            html_flush(h);
        } else if (html_is(c, html_blocks)) {
            html_flush(h);
            html_walk(h, c, depth + 1);
            html_flush(h);
        } else {
            html_walk(h, c, depth + 1); /* inline: text runs on */
        }
    }
}

/* First element named name in document order (iterative: no recursion
 * on hostile nesting). */
static const xmlNode *html_find(const xmlNode *root, const char *name)
{
    const xmlNode *n = root;
    while (n) {
        if (n->type == XML_ELEMENT_NODE &&
            strcasecmp((const char *)n->name, name) == 0)
            return n;
        if (n->children && n->type == XML_ELEMENT_NODE) {
            n = n->children;
            continue;
        }
        while (n && n != root && !n->next)
            n = n->parent;
        if (!n || n == root)
            break;
        n = n->next;
    }
    return NULL;
}

/* Charset to hand the parser: libxml2 honours <meta charset> itself; a
 * page that declares nothing and is not UTF-8 is taken as CP949, the
 * legacy encoding of Korean sites. */
static const char *html_encoding(const char *s, size_t n)
{
    size_t i, lim = ASKDOCS_MIN(n, 4096);
    for (i = 0; i + 7 <= lim; i++)
        if (strncasecmp(s + i, "charset", 7) == 0)
            return NULL;
    return askdocs_utf8_valid(s, n) ? "UTF-8" : "CP949";
}

askdocs_rc idx_extract_html(idx_extract_ctx *cx)
{
    html h;
    htmlDocPtr doc = NULL;
    const xmlNode *root, *content, *title;
    askdocs_rc rc = ASKDOCS_OK;

    memset(&h, 0, sizeof(h));
    h.cx = cx;
    h.kind = IDX_BLOCK_PARA;
    askdocs_buf_init(&h.para, cx->lim.max_text_bytes);
    row_init(&h.row, cx->lim.max_text_bytes);
    if (cx->n > (size_t)0x7fffffff) {
        askdocs_snprintf(cx->err, sizeof(cx->err), "HTML file is too large");
        rc = ASKDOCS_ERR_TOOBIG;
        goto out;
    }
    doc = htmlReadMemory(cx->data, (int)cx->n, NULL,
                         html_encoding(cx->data, cx->n),
                         HTML_PARSE_NONET | HTML_PARSE_NOERROR |
                             HTML_PARSE_NOWARNING | HTML_PARSE_RECOVER |
                             HTML_PARSE_COMPACT);
    root = doc ? xmlDocGetRootElement(doc) : NULL;
    if (!root) {
        askdocs_snprintf(cx->err, sizeof(cx->err),
                         "cannot parse HTML: corrupt or empty file");
        rc = ASKDOCS_ERR_CORRUPT;
        goto out;
    }
    title = html_find(root, "title");
    if (title) {
        askdocs_buf t;
        askdocs_buf_init(&t, 4096);
        /* a title longer than the buffer is cut (TOOBIG is fine here) */
        if (html_gather(title, &t, MAX_DEPTH) != ASKDOCS_ERR_NOMEM && t.len)
            rc = dup_title(t.data, t.len, &cx->title);
        askdocs_buf_free(&t);
        if (rc != ASKDOCS_OK)
            goto out;
    }
    content = html_find(root, "main");
    if (!content)
        content = html_find(root, "article");
    if (!content)
        content = html_find(root, "body");
    if (!content)
        content = root;
    html_walk(&h, content, 0);
    html_flush(&h);
    rc = h.rc;
out:
    rc = docbuf_rc(cx, rc);
    if (doc)
        xmlFreeDoc(doc);
    askdocs_buf_free(&h.para);
    askdocs_buf_free(&h.row.text);
    return rc;
}
