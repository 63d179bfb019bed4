/*
 * chunk.c - structure-aware chunking of extracted document text.
 *
 * The text is cut into units (a heading, a sentence, a list item or statute
 * clause, a table row, or a word window of an over-long sentence). With the
 * extractor's blocks (DOCX, HWP, PDF, ...) headings and table rows come from
 * the document; plain text and Markdown are read line by line. Statute units
 * (편 장 절 관, 제N조(제목); ① 항, 1. 호, 가. 목 as clause units) and English
 * numbering ("Article 5", "Section 3(a)", "1.2.3 Title", "3. Grant of Patent
 * License.") are recognised in both. Units are packed greedily into chunks
 * of about target_tokens tokens. A heading starts a new chunk and updates
 * the heading path, unless pack_sections is set and the whole section
 * (heading and body) still fits the chunk, at the same or a deeper level
 * than the heading the chunk began with: then short sections (the clauses
 * of a rulebook, short articles of a statute) share a chunk, which is
 * named after its first section. Chunks of one section overlap by whole trailing
 * units of at most overlap_tokens tokens. A table row is never split; a
 * chunk that continues a table repeats its header row (prefix). Every chunk
 * is a verbatim slice [byte_start, byte_end) of the text, so its offsets can
 * be used to highlight it in the document.
 */
#include "idx_internal.h"

#include <ctype.h>
#include <string.h>

#define MAX_DEPTH 8
#define MAX_HEADING_BYTES 1024

typedef struct unit {
    size_t start, end; /* bytes */
    int words;
    int tokens;
    int heading_level; /* 0 = body unit */
    int table;         /* table number of a row unit, -1 = not a row */
    int header;        /* row unit: index of its header's unit, -1 = none */
} unit;

typedef struct unit_list {
    unit *v;
    int n, cap, max;
    const char *s;
    const idx_chunk_params *p;
} unit_list;

static int unit_tokens(const unit_list *l, size_t a, size_t b)
{
    if (l->p && l->p->count_tokens) {
        int t = l->p->count_tokens(l->p->count_user, l->s + a, b - a);
        if (t >= 0)
            return t;
    }
    return idx_estimate_tokens(l->s + a, b - a);
}

static askdocs_rc units_push(unit_list *l, size_t s, size_t e, int words,
                             int level)
{
    if (l->n == l->cap) {
        int ncap = l->cap ? l->cap * 2 : 256;
        unit *nv;
        if (l->n >= l->max)
            return ASKDOCS_ERR_TOOBIG;
        if (ncap > l->max)
            ncap = l->max;
        nv = askdocs_realloc(l->v, (size_t)ncap * sizeof(unit));
        if (!nv)
            return ASKDOCS_ERR_NOMEM;
        l->v = nv;
        l->cap = ncap;
    }
    l->v[l->n].start = s;
    l->v[l->n].end = e;
    l->v[l->n].words = words;
    l->v[l->n].tokens = words > 0 ? unit_tokens(l, s, e) : 0;
    l->v[l->n].heading_level = level;
    l->v[l->n].table = -1;
    l->v[l->n].header = -1;
    l->n++;
    return ASKDOCS_OK;
}

static int is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' ||
           c == '\v';
}

/* Count whitespace-separated words in s[a..b). */
static int count_words(const char *s, size_t a, size_t b)
{
    int n = 0, in = 0;
    size_t i;
    for (i = a; i < b; i++) {
        if (is_space(s[i]))
            in = 0;
        else if (!in) {
            in = 1;
            n++;
        }
    }
    return n;
}

static size_t skip_blank(const char *s, size_t i, size_t e)
{
    while (i < e && (s[i] == ' ' || s[i] == '\t'))
        i++;
    return i;
}

static int starts_with_digits_then(const char *s, size_t i, size_t e,
                                   const char *after)
{
    size_t j = i;
    while (j < e && isdigit((unsigned char)s[j]))
        j++;
    if (j == i)
        return 0;
    return (size_t)(e - j) >= strlen(after) &&
           strncmp(s + j, after, strlen(after)) == 0;
}

/* "제" is EC A0 9C, "조" EC A1 B0, "의" EC 9D 98 */
#define JE "\xEC\xA0\x9C"
#define JO "\xEC\xA1\xB0"
#define UI "\xEC\x9D\x98"

static int is_upper_word(const char *s, size_t i, size_t b)
{
    /* ASCII only: a Korean "1. ..." item is a clause (호), not a title */
    return i < b && (isupper((unsigned char)s[i]) || s[i] == '"' ||
                     s[i] == '(');
}

/* Words that may stay lower-case inside an English title. */
static int is_small_word(const char *s, size_t i, size_t e)
{
    static const char *const w[] = {"of",  "and", "the", "to", "for", "in",
                                    "on",  "a",   "an",  "or", "by",  "with",
                                    "its", "as",  "at",  "from"};
    size_t k, l = e - i;
    for (k = 0; k < sizeof(w) / sizeof(w[0]); k++)
        if (strlen(w[k]) == l && strncmp(s + i, w[k], l) == 0)
            return 1;
    return 0;
}

/* Depth of an English section number at s[i..b) ("3", "1.2", "1.2.3",
 * optionally "3(a)") and the offset after it (and after a dot that ends
 * it); 0 if there is none. */
static int section_number(const char *s, size_t i, size_t b, size_t *after)
{
    int depth = 0;
    size_t j = i;
    for (;;) {
        size_t k = j;
        while (k < b && isdigit((unsigned char)s[k]))
            k++;
        if (k == j || k - j > 3)
            return 0;
        depth++;
        j = k;
        if (j + 1 < b && s[j] == '.' && isdigit((unsigned char)s[j + 1]) &&
            depth < 6) {
            j++;
            continue;
        }
        break;
    }
    /* "3(a)" */
    if (j + 2 < b && s[j] == '(' && isalnum((unsigned char)s[j + 1])) {
        size_t k = j + 1;
        while (k < b && k - j < 5 && isalnum((unsigned char)s[k]))
            k++;
        if (k < b && s[k] == ')') {
            j = k + 1;
            depth++;
        }
    }
    if (j < b && s[j] == '.')
        j++;
    if (j >= b || (s[j] != ' ' && s[j] != '\t'))
        return 0;
    *after = j;
    return depth;
}

/* End of a short title written at the start of a paragraph: "Grant of
 * Patent License." in "3. Grant of Patent License. Subject to ..." (at most
 * 10 words, title case, ends with a period), or 0. */
static size_t inline_title_end(const char *s, size_t i, size_t b)
{
    int words = 0;
    size_t j = i;
    while (j < b && words <= 10) {
        size_t ws = j, we;
        while (j < b && s[j] != ' ' && s[j] != '\t')
            j++;
        we = j;
        words++;
        if (!is_upper_word(s, ws, we) && !is_small_word(s, ws, we) &&
            !isdigit((unsigned char)s[ws]))
            return 0;
        if (we > ws && s[we - 1] == '.' && we - ws > 2)
            return words <= 10 ? we : 0;
        if (we > ws && (s[we - 1] == ',' || s[we - 1] == ';'))
            return 0;
        while (j < b && (s[j] == ' ' || s[j] == '\t'))
            j++;
    }
    return 0;
}

/* Heading level of the line s[a..b), 0 if it is not a heading. Markdown
 * ATX headings (# .. ######) in markdown mode; in every mode, Korean
 * statute units (제N편/장/절/관 and 제N조) and English "Article N",
 * "Section N", "Chapter N", "PART N" and short "1.2.3 Title" lines. */
static int heading_level(const char *s, size_t a, size_t b, int markdown)
{
    size_t i = skip_blank(s, a, b);
    size_t len = b - i, after;
    int depth;
    if (markdown && i < b && s[i] == '#') {
        int lvl = 0;
        while (i < b && s[i] == '#' && lvl < 7) {
            i++;
            lvl++;
        }
        if (lvl <= 6 && (i == b || s[i] == ' ' || s[i] == '\t'))
            return lvl;
        return 0;
    }
    /* 제 N 편|장|절|관|조 */
    if (len >= 4 && memcmp(s + i, JE, 3) == 0) {
        size_t j = skip_blank(s, i + 3, b), k = j;
        while (k < b && isdigit((unsigned char)s[k]))
            k++;
        if (k > j) {
            k = skip_blank(s, k, b);
            if (b - k >= 3) {
                static const char *const units[] = {"편", "장", "절", "관",
                                                    "조"};
                static const int lv[] = {2, 3, 4, 5, 6};
                int u;
                for (u = 0; u < 5; u++)
                    if (strncmp(s + k, units[u], 3) == 0) {
                        size_t z = k + 3;
                        /* "제3조에 따라 ..." is a sentence, not a heading */
                        if (z == b || s[z] == ' ' || s[z] == '\t' ||
                            s[z] == '(' ||
                            (u == 4 && b - z >= 3 && memcmp(s + z, UI, 3) == 0))
                            return lv[u];
                        return 0;
                    }
            }
        }
        return 0;
    }
    if (len > 120)
        return 0;
    if (len < 80 && count_words(s, a, b) <= 12) {
        if (strncmp(s + i, "Article ", 8) == 0 ||
            strncmp(s + i, "ARTICLE ", 8) == 0)
            return 3;
        if (strncmp(s + i, "Section ", 8) == 0 ||
            strncmp(s + i, "SECTION ", 8) == 0)
            return 3;
        if (strncmp(s + i, "Chapter ", 8) == 0 ||
            strncmp(s + i, "CHAPTER ", 8) == 0 ||
            strncmp(s + i, "PART ", 5) == 0 || strncmp(s + i, "Part ", 5) == 0)
            return 2;
    }
    /* "1.2.3 Title" alone on a short line, not ending like a sentence */
    depth = section_number(s, i, b, &after);
    if (depth > 0 && len < 90 && count_words(s, a, b) <= 10 &&
        s[b - 1] != ',' && s[b - 1] != ';' && s[b - 1] != ':') {
        size_t t = skip_blank(s, after, b);
        if (t < b && is_upper_word(s, t, b) &&
            !(s[b - 1] == '.' && count_words(s, t, b) > 6))
            return ASKDOCS_MIN(2 + depth, 6);
    }
    return 0;
}

/* End of "제N조(title)" at the start of s[a..b), or b when the line is
 * not an article line with text after its title. */
static size_t article_title_end(const char *s, size_t a, size_t b)
{
    size_t i = skip_blank(s, a, b), j;
    if (b - i < 4 || memcmp(s + i, JE, 3) != 0)
        return b;
    j = skip_blank(s, i + 3, b);
    while (j < b && isdigit((unsigned char)s[j]))
        j++;
    j = skip_blank(s, j, b);
    if (b - j < 3 || memcmp(s + j, JO, 3) != 0)
        return b;
    j += 3;
    /* 제N조의2 */
    if (b - j >= 3 && memcmp(s + j, UI, 3) == 0) {
        j += 3;
        while (j < b && isdigit((unsigned char)s[j]))
            j++;
    }
    if (j < b && s[j] == '(') {
        size_t k = j;
        while (k < b && s[k] != ')')
            k++;
        if (k < b)
            j = k + 1;
    }
    return skip_blank(s, j, b) < b ? j : b;
}

/* A paragraph opening with a numbered title, "3. Grant of Patent License.
 * Subject to ...": *title_end gets the end of "3. Grant of Patent License"
 * and the heading level is returned (0 = not such a paragraph). */
static int numbered_title(const char *s, size_t a, size_t b,
                          size_t *title_end)
{
    size_t i = skip_blank(s, a, b), after, e;
    int depth = section_number(s, i, b, &after);
    if (depth == 0)
        return 0;
    e = inline_title_end(s, skip_blank(s, after, b), b);
    if (e == 0 || skip_blank(s, e, b) >= b)
        return 0;
    *title_end = e - 1; /* without the period */
    return ASKDOCS_MIN(2 + depth, 6);
}

/* Hangul syllable + "." or ")" (가. 나. / 가) 나)): a 목 item. */
static int hangul_item(const char *s, size_t i, size_t b)
{
    uint32_t cp;
    int l;
    if (b - i < 5)
        return 0;
    l = askdocs_utf8_decode((const unsigned char *)s + i, b - i, &cp);
    if (l != 3 || cp < 0xAC00 || cp > 0xD7A3)
        return 0;
    return (s[i + 3] == '.' || s[i + 3] == ')') && s[i + 4] == ' ';
}

static int is_list_or_table_line(const char *s, size_t a, size_t b)
{
    size_t i = skip_blank(s, a, b);
    if (i >= b)
        return 0;
    if (s[i] == '|')
        return 1;
    if ((s[i] == '-' || s[i] == '*' || s[i] == '+') && i + 1 < b &&
        s[i + 1] == ' ')
        return 1;
    /* U+2022 bullet, U+25CB/U+25A1 (○ □) used in Korean documents */
    if (b - i >= 3 &&
        (memcmp(s + i, "\xE2\x80\xA2", 3) == 0 ||
         memcmp(s + i, "\xE2\x97\x8B", 3) == 0 ||
         memcmp(s + i, "\xE2\x96\xA1", 3) == 0))
        return 1;
    if (starts_with_digits_then(s, i, b, ". ") ||
        starts_with_digits_then(s, i, b, ") "))
        return 1;
    /* (a) (b) / (1) (2) clauses */
    if (s[i] == '(' && i + 3 < b && isalnum((unsigned char)s[i + 1]) &&
        (s[i + 2] == ')' || (i + 4 < b && s[i + 3] == ')')))
        return 1;
    /* circled numbers ① .. ⑳ (E2 91 A0 .. E2 91 B3) start a Korean clause */
    if (b - i >= 3 && (unsigned char)s[i] == 0xE2 &&
        (unsigned char)s[i + 1] == 0x91 && (unsigned char)s[i + 2] >= 0xA0 &&
        (unsigned char)s[i + 2] <= 0xB3)
        return 1;
    return hangul_item(s, i, b);
}

/* Split s[a..b) (one paragraph or line) into sentence units, and sentences
 * longer than max_tokens into word windows. */
static askdocs_rc split_sentences(const char *s, size_t a, size_t b,
                                  int max_tokens, unit_list *out)
{
    size_t i = a, start = a;
    askdocs_rc rc = ASKDOCS_OK;
    while (i < b && rc == ASKDOCS_OK) {
        char c = s[i];
        int end_here = 0;
        if ((c == '.' || c == '!' || c == '?') && i + 1 < b &&
            is_space(s[i + 1])) {
            /* not after one or two characters ("1.", "가.", "U.S.") */
            size_t k, cps = 0;
            for (k = start; k < i; k++)
                cps += ((unsigned char)s[k] & 0xC0) != 0x80 && !is_space(s[k]);
            end_here = cps > 2;
        } else if (c == '.' && i + 1 == b) {
            end_here = 1;
        } else if ((unsigned char)c == 0xE3 && i + 2 < b &&
                   (unsigned char)s[i + 1] == 0x80 &&
                   (unsigned char)s[i + 2] == 0x82) { /* 。 */
            i += 2;
            end_here = 1;
        }
        i++;
        if (end_here || i >= b) {
            size_t e = i;
            int w, t;
            while (start < e && is_space(s[start]))
                start++;
            if (start >= e) {
                start = i;
                continue;
            }
            w = count_words(s, start, e);
            t = idx_estimate_tokens(s + start, e - start);
            if (t > max_tokens && w > 1) {
                /* windows of about max_tokens tokens over words */
                int per = (int)((long)w * max_tokens / t);
                size_t p0 = start;
                if (per < 1)
                    per = 1;
                while (p0 < e && rc == ASKDOCS_OK) {
                    size_t q = p0;
                    int nw = 0, in = 0;
                    while (q < e) {
                        if (is_space(s[q]))
                            in = 0;
                        else if (!in) {
                            if (nw == per)
                                break;
                            in = 1;
                            nw++;
                        }
                        q++;
                    }
                    while (q > p0 && is_space(s[q - 1]))
                        q--;
                    rc = units_push(out, p0, q, nw, 0);
                    p0 = q;
                    while (p0 < e && is_space(s[p0]))
                        p0++;
                }
            } else {
                rc = units_push(out, start, e, w, 0);
            }
            start = i;
        }
    }
    return rc;
}

/* A paragraph s[a..b): an opening numbered title becomes a heading unit,
 * the rest sentences. */
static askdocs_rc paragraph_units(const char *s, size_t a, size_t b,
                                  int max_tokens, unit_list *out)
{
    size_t te;
    int lvl;
    while (a < b && is_space(s[a]))
        a++;
    while (b > a && is_space(s[b - 1]))
        b--;
    if (a >= b)
        return ASKDOCS_OK;
    lvl = numbered_title(s, a, b, &te);
    if (lvl > 0) {
        askdocs_rc rc = units_push(out, a, te, count_words(s, a, te), lvl);
        if (rc != ASKDOCS_OK)
            return rc;
        a = skip_blank(s, te + 1, b);
    }
    return split_sentences(s, a, b, max_tokens, out);
}

/* Units of the lines of s[a..b). */
static askdocs_rc line_units(const char *s, size_t a, size_t n, int markdown,
                             int max_tokens, unit_list *out)
{
    size_t i = a, para_start = a;
    int in_para = 0, in_fence = 0;
    askdocs_rc rc = ASKDOCS_OK;
    while (i <= n && rc == ASKDOCS_OK) {
        size_t eol = i;
        int blank, lvl, listy;
        while (eol < n && s[eol] != '\n')
            eol++;
        blank = skip_blank(s, i, eol) == eol;
        lvl = in_fence ? 0 : heading_level(s, i, eol, markdown);
        if (markdown && eol - i >= 3 && strncmp(s + skip_blank(s, i, eol),
                                                "```", 3) == 0)
            in_fence = !in_fence;
        listy = !in_fence && is_list_or_table_line(s, i, eol);
        if (blank || lvl > 0 || listy) {
            if (in_para) {
                rc = paragraph_units(s, para_start, i, max_tokens, out);
                in_para = 0;
            }
            if (rc == ASKDOCS_OK && lvl > 0) {
                /* "제3조(목적) 이 법은 ..." : the article title is the
                 * heading, the rest of the line is body text */
                size_t he = article_title_end(s, i, eol);
                rc = units_push(out, i, he, count_words(s, i, he), lvl);
                if (rc == ASKDOCS_OK && skip_blank(s, he, eol) < eol)
                    rc = split_sentences(s, skip_blank(s, he, eol), eol,
                                         max_tokens, out);
            } else if (rc == ASKDOCS_OK && !blank) {
                /* a list item or clause: its wrapped lines belong to it */
                in_para = 1;
                para_start = i;
                if (s[skip_blank(s, i, eol)] == '|') { /* table line */
                    rc = split_sentences(s, i, eol, max_tokens, out);
                    in_para = 0;
                }
            }
        } else if (!in_para) {
            in_para = 1;
            para_start = i;
        }
        if (eol >= n)
            break;
        i = eol + 1;
    }
    if (rc == ASKDOCS_OK && in_para)
        rc = paragraph_units(s, para_start, n, max_tokens, out);
    return rc;
}

/* Units from the extractor's blocks. */
static askdocs_rc block_units(const char *s, const idx_chunk_params *p,
                              int max_tokens, unit_list *out)
{
    int b, *header_unit = NULL;
    askdocs_rc rc = ASKDOCS_OK;
    header_unit = askdocs_malloc((size_t)p->n_blocks * sizeof(int));
    if (!header_unit)
        return ASKDOCS_ERR_NOMEM;
    for (b = 0; b < p->n_blocks && rc == ASKDOCS_OK; b++) {
        const idx_block *blk = &p->blocks[b];
        header_unit[b] = -1;
        switch (blk->kind) {
        case IDX_BLOCK_HEADING:
            rc = units_push(out, blk->start, blk->end,
                            count_words(s, blk->start, blk->end),
                            blk->level < 1 ? 1 : ASKDOCS_MIN(blk->level, 6));
            break;
        case IDX_BLOCK_TABLE_ROW:
            rc = units_push(out, blk->start, blk->end,
                            count_words(s, blk->start, blk->end), 0);
            if (rc == ASKDOCS_OK) {
                unit *u = &out->v[out->n - 1];
                header_unit[b] = out->n - 1;
                u->table = blk->table;
                if (blk->header >= 0 && blk->header < b)
                    u->header = header_unit[blk->header];
                else if (blk->header == b)
                    u->header = out->n - 1;
            }
            break;
        case IDX_BLOCK_LIST:
            rc = split_sentences(s, blk->start, blk->end, max_tokens, out);
            break;
        default:
            /* a paragraph may hold statute lines or numbered titles */
            rc = line_units(s, blk->start, blk->end, 0, max_tokens, out);
            break;
        }
    }
    askdocs_free(header_unit);
    return rc;
}

/* Heading text of a heading unit: without '#' marks and blanks. */
static void heading_text(const char *s, const unit *u, const char **p,
                         size_t *len)
{
    size_t a = u->start, b = u->end;
    while (a < b && (s[a] == '#' || s[a] == ' ' || s[a] == '\t'))
        a++;
    while (b > a && (s[b - 1] == ' ' || s[b - 1] == '\t' || s[b - 1] == '#' ||
                     s[b - 1] == '\r'))
        b--;
    *p = s + a;
    *len = b - a;
}

static char *build_path(const char *title, const char *s,
                        const unit *const stack[MAX_DEPTH])
{
    askdocs_buf b;
    int d, first = 1;
    askdocs_buf_init(&b, MAX_HEADING_BYTES);
    if (title && *title) {
        askdocs_buf_puts(&b, title);
        first = 0;
    }
    for (d = 0; d < MAX_DEPTH; d++) {
        const char *p;
        size_t l;
        if (!stack[d])
            continue;
        heading_text(s, stack[d], &p, &l);
        if (l == 0)
            continue;
        /* a top heading equal to the title is not repeated */
        if (!first && title && strlen(title) == l && memcmp(title, p, l) == 0)
            continue;
        if (!first)
            askdocs_buf_puts(&b, " > ");
        if (askdocs_buf_append(&b, p, askdocs_utf8_floor(p, ASKDOCS_MIN(l, 200))) !=
            ASKDOCS_OK)
            break;
        first = 0;
    }
    return askdocs_buf_take(&b);
}

static int page_of(const idx_chunk_params *p, size_t byte)
{
    int lo = 0, hi;
    if (!p->page_starts || p->n_pages <= 0)
        return 0;
    hi = p->n_pages - 1;
    while (lo < hi) {
        int mid = (lo + hi + 1) / 2;
        if (p->page_starts[mid] <= byte)
            lo = mid;
        else
            hi = mid - 1;
    }
    return lo + 1;
}

/* code point offset of byte b, scanning from a cached position */
typedef struct cp_cursor {
    size_t byte;
    int cp;
} cp_cursor;

static int cp_at(const char *s, cp_cursor *c, size_t b)
{
    if (b < c->byte) {
        c->byte = 0;
        c->cp = 0;
    }
    while (c->byte < b) {
        if (((unsigned char)s[c->byte] & 0xC0) != 0x80)
            c->cp++;
        c->byte++;
    }
    return c->cp;
}

static askdocs_rc emit(idx_chunk_list *out, const char *s,
                       const idx_chunk_params *p, const unit *u, int from,
                       int to, const char *heading, cp_cursor *cur)
{
    idx_chunk *c;
    int i, words = 0, tokens = 0;
    if (out->n == out->cap) {
        int ncap = out->cap ? out->cap * 2 : 64;
        idx_chunk *nv;
        if (out->n >= p->max_chunks)
            return ASKDOCS_ERR_TOOBIG;
        nv = askdocs_realloc(out->v, (size_t)ncap * sizeof(idx_chunk));
        if (!nv)
            return ASKDOCS_ERR_NOMEM;
        out->v = nv;
        out->cap = ncap;
    }
    for (i = from; i < to; i++) {
        words += u[i].words;
        tokens += u[i].tokens;
    }
    c = &out->v[out->n];
    memset(c, 0, sizeof(*c));
    c->heading = askdocs_strdup(heading ? heading : "");
    if (!c->heading)
        return ASKDOCS_ERR_NOMEM;
    c->byte_start = u[from].start;
    c->byte_end = u[to - 1].end;
    c->char_start = cp_at(s, cur, c->byte_start);
    c->char_end = cp_at(s, cur, c->byte_end);
    c->page_start = page_of(p, c->byte_start);
    c->page_end = page_of(p, c->byte_end ? c->byte_end - 1 : 0);
    /* a slice that starts inside a table after its header repeats it */
    if (u[from].table >= 0 && u[from].header >= 0 && u[from].header < from) {
        const unit *h = &u[u[from].header];
        c->prefix_start = h->start;
        c->prefix_end = h->end;
        words += h->words;
        tokens += h->tokens;
    }
    c->n_words = words;
    c->n_tokens = tokens;
    out->n++;
    return ASKDOCS_OK;
}

idx_chunk_params idx_chunk_default_params(void)
{
    idx_chunk_params p;
    memset(&p, 0, sizeof(p));
    p.target_tokens = 300;
    p.overlap_tokens = 45;
    p.max_chunks = 200000;
    p.markdown = 0;
    return p;
}

int idx_estimate_tokens(const char *s, size_t n)
{
    size_t i = 0;
    int tokens = 0;
    while (i < n) {
        size_t ws;
        int latin = 0, hangul = 0, other = 0;
        while (i < n && is_space(s[i]))
            i++;
        if (i >= n)
            break;
        ws = i;
        while (i < n && !is_space(s[i])) {
            uint32_t cp;
            int l = askdocs_utf8_decode((const unsigned char *)s + i, n - i, &cp);
            if (l <= 0)
                l = 1, cp = 0xFFFD;
            if (cp < 0x80)
                latin++;
            else if (askdocs_is_hangul(cp))
                hangul++;
            else
                other++;
            i += (size_t)l;
        }
        (void)ws;
        /* about 5 Latin letters, 1.5 Hangul syllables per token */
        tokens += 1 + latin / 6 + (hangul * 2) / 3 + other;
    }
    return tokens;
}

askdocs_rc idx_chunk_text(const char *s, size_t n, const idx_chunk_params *p,
                          idx_chunk_list *out)
{
    unit_list ul;
    const unit *stack[MAX_DEPTH] = {0};
    char *heading = NULL, *chunk_heading = NULL;
    cp_cursor cur = {0, 0};
    int i, from = 0, size = 0, body = 0, base_level = 0;
    int target = p->target_tokens > 0 ? p->target_tokens : 300;
    int overlap = p->overlap_tokens >= 0 ? p->overlap_tokens : 0;
    askdocs_rc rc;

    memset(out, 0, sizeof(*out));
    memset(&ul, 0, sizeof(ul));
    ul.s = s;
    ul.p = p;
    if (overlap >= target / 2)
        overlap = target / 2;
    ul.max = p->max_chunks > 0 ? p->max_chunks * 8 : 1600000;
    if (p->blocks && p->n_blocks > 0)
        rc = block_units(s, p, target, &ul);
    else
        rc = line_units(s, 0, n, p->markdown, target, &ul);
    if (rc != ASKDOCS_OK)
        goto out;
    heading = build_path(p->title, s, stack);
    if (!heading) {
        rc = ASKDOCS_ERR_NOMEM;
        goto out;
    }
    for (i = 0; i < ul.n; i++) {
        const unit *u = &ul.v[i];
        if (u->heading_level > 0) {
            int lvl = u->heading_level - 1, d, fresh = body == 0;
            if (body > 0) {
                /* pack_sections: a section that fits whole goes into the
                 * chunk of its previous sibling (or of its parent) */
                int fits = 0;
                if (p->pack_sections && u->heading_level >= base_level) {
                    int j, next = u->tokens;
                    for (j = i + 1; j < ul.n && ul.v[j].heading_level == 0 &&
                                    size + next <= target;
                         j++)
                        next += ul.v[j].tokens;
                    fits = size + next <= target;
                }
                if (!fits) {
                    rc = emit(out, s, p, ul.v, from, i,
                              chunk_heading ? chunk_heading : heading, &cur);
                    if (rc != ASKDOCS_OK)
                        goto out;
                    from = i;
                    size = 0;
                    body = 0;
                    fresh = 1;
                }
            }
            /* the level of the chunk: that of the last heading before
             * its first body unit */
            if (body == 0)
                base_level = u->heading_level;
            if (lvl >= MAX_DEPTH)
                lvl = MAX_DEPTH - 1;
            stack[lvl] = u;
            for (d = lvl + 1; d < MAX_DEPTH; d++)
                stack[d] = NULL;
            askdocs_free(heading);
            heading = build_path(p->title, s, stack);
            if (!heading) {
                rc = ASKDOCS_ERR_NOMEM;
                goto out;
            }
            /* a chunk is named after the first section it holds */
            if (fresh) {
                askdocs_free(chunk_heading);
                chunk_heading = NULL;
            }
            size += u->tokens;
            continue;
        }
        if (body == 0 && !chunk_heading) {
            chunk_heading = askdocs_strdup(heading);
            if (!chunk_heading) {
                rc = ASKDOCS_ERR_NOMEM;
                goto out;
            }
        }
        if (body > 0 && size + u->tokens > target) {
            int back = i, ow = 0;
            rc = emit(out, s, p, ul.v, from, i,
                      chunk_heading ? chunk_heading : heading, &cur);
            if (rc != ASKDOCS_OK)
                goto out;
            /* the next chunk continues the current section */
            askdocs_free(chunk_heading);
            chunk_heading = askdocs_strdup(heading);
            if (!chunk_heading) {
                rc = ASKDOCS_ERR_NOMEM;
                goto out;
            }
            /* overlap: whole trailing body units of the same section (not
             * table rows: the header is repeated instead) */
            while (back > from + 1 && ul.v[back - 1].heading_level == 0 &&
                   ul.v[back - 1].table < 0 && u->table < 0 &&
                   ow + ul.v[back - 1].tokens <= overlap) {
                ow += ul.v[back - 1].tokens;
                back--;
            }
            from = back;
            size = ow;
            body = ow;
            if (u->table >= 0 && u->header >= 0 && u->header < i)
                size += ul.v[u->header].tokens;
        }
        size += u->tokens;
        body += u->tokens > 0 ? u->tokens : 1;
    }
    if (from < ul.n && (body > 0 || out->n == 0))
        rc = emit(out, s, p, ul.v, from, ul.n,
                  chunk_heading ? chunk_heading : heading, &cur);
out:
    askdocs_free(chunk_heading);
    askdocs_free(heading);
    askdocs_free(ul.v);
    if (rc != ASKDOCS_OK)
        idx_chunk_list_free(out);
    return rc;
}

void idx_chunk_list_free(idx_chunk_list *l)
{
    int i;
    if (!l)
        return;
    for (i = 0; i < l->n; i++)
        askdocs_free(l->v[i].heading);
    askdocs_free(l->v);
    l->v = NULL;
    l->n = l->cap = 0;
}
