/*
 * docbuf.c - the document builder every extractor writes through: capped
 * text, blocks (headings, paragraphs, list items, table rows) and pages.
 */
#include "idx_internal.h"

#include <string.h>

#define DOCBUF_MAX_BLOCKS 2000000

void idx_docbuf_init(idx_docbuf *b, size_t max_bytes, int max_pages)
{
    memset(b, 0, sizeof(*b));
    askdocs_buf_init(&b->text, max_bytes ? max_bytes : (size_t)64 << 20);
    b->max_blocks = DOCBUF_MAX_BLOCKS;
    b->max_pages = max_pages > 0 ? max_pages : 100000;
    b->table_header = -1;
}

void idx_docbuf_free(idx_docbuf *b)
{
    if (!b)
        return;
    askdocs_buf_free(&b->text);
    askdocs_free(b->blocks);
    askdocs_free(b->page_starts);
    memset(b, 0, sizeof(*b));
}

size_t idx_docbuf_len(const idx_docbuf *b) { return b->text.len; }

static void truncate_to(idx_docbuf *b, size_t len)
{
    b->text.len = len;
    if (b->text.data)
        b->text.data[len] = '\0';
}

static int is_ws_cp(uint32_t cp)
{
    return cp == ' ' || cp == '\t' || cp == '\n' || cp == '\r' ||
           cp == '\f' || cp == '\v' || cp == 0xA0 || cp == 0x3000 ||
           cp == 0x2028 || cp == 0x2029 || (cp >= 0x2000 && cp <= 0x200A) ||
           cp == 0x202F || cp == 0x205F || cp == 0xFEFF || cp == 0x200B;
}

/* Append s[0..n) cleaned: invalid bytes -> U+FFFD, controls and any
 * whitespace run -> one space, trimmed. Returns bytes appended. */
static size_t put_clean(idx_docbuf *b, const char *s, size_t n)
{
    size_t i = 0, start = b->text.len;
    int pending_space = 0;
    while (i < n && b->rc == ASKDOCS_OK) {
        uint32_t cp;
        int l = askdocs_utf8_decode((const unsigned char *)s + i, n - i, &cp);
        if (l <= 0) {
            cp = 0xFFFD;
            l = 1;
        }
        if (cp == 0 || is_ws_cp(cp) || cp < 0x20 || (cp >= 0x7F && cp < 0xA0)) {
            pending_space = 1;
        } else {
            if (pending_space && b->text.len > start)
                b->rc = askdocs_buf_append(&b->text, " ", 1);
            pending_space = 0;
            if (b->rc == ASKDOCS_OK) {
                if (cp == 0xFFFD && l == 1)
                    b->rc = askdocs_buf_append(&b->text, "\xEF\xBF\xBD", 3);
                else
                    b->rc = askdocs_buf_append(&b->text, s + i, (size_t)l);
            }
        }
        i += (size_t)l;
    }
    return b->text.len - start;
}

static askdocs_rc push_block(idx_docbuf *b, size_t start, int kind,
                             int level, int header)
{
    idx_block *blk;
    if (b->n_blocks == b->cap_blocks) {
        int ncap = b->cap_blocks ? b->cap_blocks * 2 : 256;
        idx_block *nv;
        if (b->n_blocks >= b->max_blocks)
            return b->rc = ASKDOCS_ERR_TOOBIG;
        if (ncap > b->max_blocks)
            ncap = b->max_blocks;
        nv = askdocs_realloc(b->blocks, (size_t)ncap * sizeof(*nv));
        if (!nv)
            return b->rc = ASKDOCS_ERR_NOMEM;
        b->blocks = nv;
        b->cap_blocks = ncap;
    }
    blk = &b->blocks[b->n_blocks++];
    blk->start = start;
    blk->end = b->text.len;
    blk->kind = kind;
    blk->level = level;
    blk->header = header;
    blk->table = kind == IDX_BLOCK_TABLE_ROW ? b->table : -1;
    return ASKDOCS_OK;
}

void idx_docbuf_table_end(idx_docbuf *b)
{
    if (b->in_table) {
        b->in_table = 0;
        b->table++;
        b->table_header = -1;
        if (b->rc == ASKDOCS_OK)
            b->rc = askdocs_buf_append(&b->text, "\n", 1);
    }
}

askdocs_rc idx_docbuf_block(idx_docbuf *b, idx_block_kind kind, int level,
                            const char *s, size_t n)
{
    size_t start, got;
    if (b->rc != ASKDOCS_OK)
        return b->rc;
    if (kind == IDX_BLOCK_TABLE_ROW) {
        const char *cells[1] = {s};
        size_t lens[1] = {n};
        return idx_docbuf_row(b, cells, lens, 1, 0);
    }
    idx_docbuf_table_end(b);
    if (kind == IDX_BLOCK_HEADING && (level < 1 || level > 6))
        level = level < 1 ? 1 : 6;
    start = b->text.len;
    got = put_clean(b, s, n);
    if (b->rc != ASKDOCS_OK)
        return b->rc;
    if (got == 0)
        return ASKDOCS_OK;
    if (push_block(b, start, (int)kind, level, -1) != ASKDOCS_OK)
        return b->rc;
    b->rc = askdocs_buf_append(&b->text, kind == IDX_BLOCK_LIST ? "\n" : "\n\n",
                               kind == IDX_BLOCK_LIST ? 1 : 2);
    return b->rc;
}

askdocs_rc idx_docbuf_row(idx_docbuf *b, const char *const *cells,
                          const size_t *lens, int n, int is_header)
{
    size_t start;
    int i, nonempty = 0;
    if (b->rc != ASKDOCS_OK)
        return b->rc;
    start = b->text.len;
    for (i = 0; i < n && b->rc == ASKDOCS_OK; i++) {
        size_t before = b->text.len;
        if (i > 0)
            b->rc = askdocs_buf_append(&b->text, " | ", 3);
        if (b->rc == ASKDOCS_OK) {
            if (put_clean(b, cells[i], lens[i]) > 0)
                nonempty++;
            else if (i == n - 1)
                truncate_to(b, before); /* no trailing empty cells */
        }
    }
    if (b->rc != ASKDOCS_OK)
        return b->rc;
    /* drop trailing " | " runs left by empty trailing cells */
    while (b->text.len >= start + 3 &&
           memcmp(b->text.data + b->text.len - 3, " | ", 3) == 0)
        truncate_to(b, b->text.len - 3);
    if (nonempty == 0) {
        truncate_to(b, start);
        return ASKDOCS_OK;
    }
    b->in_table = 1;
    if (is_header && b->table_header < 0)
        b->table_header = b->n_blocks;
    if (push_block(b, start, IDX_BLOCK_TABLE_ROW, 0, b->table_header) !=
        ASKDOCS_OK)
        return b->rc;
    b->rc = askdocs_buf_append(&b->text, "\n", 1);
    return b->rc;
}

askdocs_rc idx_docbuf_page(idx_docbuf *b)
{
    if (b->rc != ASKDOCS_OK)
        return b->rc;
    idx_docbuf_table_end(b);
    if (b->n_pages == b->cap_pages) {
        int ncap = b->cap_pages ? b->cap_pages * 2 : 64;
        size_t *nv;
        if (b->n_pages >= b->max_pages)
            return b->rc = ASKDOCS_ERR_TOOBIG;
        if (ncap > b->max_pages)
            ncap = b->max_pages;
        nv = askdocs_realloc(b->page_starts, (size_t)ncap * sizeof(*nv));
        if (!nv)
            return b->rc = ASKDOCS_ERR_NOMEM;
        b->page_starts = nv;
        b->cap_pages = ncap;
    }
    b->page_starts[b->n_pages++] = b->text.len;
    return ASKDOCS_OK;
}
