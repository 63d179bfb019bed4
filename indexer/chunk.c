/*
 * chunk.c - structure-aware chunking of extracted document text.
 *
 * The text is cut into units (a heading line, a sentence, a list item, a
 * table row, or a word window of an over-long sentence). Units are packed
 * greedily into chunks of about target_words words. A heading always starts
 * a new chunk and updates the heading path; chunks of one section overlap by
 * whole trailing units of at most overlap_words words. Every chunk is a
 * verbatim slice [byte_start, byte_end) of the text, so its offsets can be
 * used to highlight it in the document.
 */
#include "idx_internal.h"

#include <ctype.h>
#include <string.h>

#define MAX_DEPTH 8
#define MAX_HEADING_BYTES 1024

typedef struct unit {
    size_t start, end; /* bytes */
    int words;
    int heading_level; /* 0 = body unit */
} unit;

typedef struct unit_list {
    unit *v;
    int n, cap, max;
} unit_list;

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
    l->v[l->n].heading_level = level;
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

/* Heading level of the line s[a..b), 0 if it is not a heading. Markdown
 * ATX headings (# .. ######) in markdown mode; in every mode, Korean
 * statute units (제N편/장/절/관 and 제N조) and English "Article N" /
 * "Chapter N" / "PART N" lines when the line is short. */
static int heading_level(const char *s, size_t a, size_t b, int markdown)
{
    size_t i = skip_blank(s, a, b);
    size_t len = b - i;
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
    /* 제 N 편|장|절|관|조 ; "제" is EC A0 9C */
    if (len >= 4 && (unsigned char)s[i] == 0xEC &&
        (unsigned char)s[i + 1] == 0xA0 && (unsigned char)s[i + 2] == 0x9C) {
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
                            (u == 4 && b - z >= 3 &&
                             memcmp(s + z, "\xEC\x9D\x98", 3) == 0))
                            return lv[u];
                        return 0;
                    }
            }
        }
        return 0;
    }
    if (len > 120)
        return 0;
    if (len < 80 && (strncmp(s + i, "Article ", 8) == 0 ||
                     strncmp(s + i, "ARTICLE ", 8) == 0) &&
        count_words(s, a, b) <= 12)
        return 3;
    if (len < 80 && (strncmp(s + i, "Chapter ", 8) == 0 ||
                     strncmp(s + i, "CHAPTER ", 8) == 0 ||
                     strncmp(s + i, "PART ", 5) == 0) &&
        count_words(s, a, b) <= 12)
        return 2;
    (void)starts_with_digits_then;
    return 0;
}

/* End of "제N조(title)" at the start of s[a..b), or b when the line is
 * not an article line with text after its title. */
static size_t article_title_end(const char *s, size_t a, size_t b)
{
    size_t i = skip_blank(s, a, b), j;
    const char *jo = "\xEC\xA1\xB0"; /* 조 */
    if (b - i < 4 || memcmp(s + i, "\xEC\xA0\x9C", 3) != 0) /* 제 */
        return b;
    j = skip_blank(s, i + 3, b);
    while (j < b && isdigit((unsigned char)s[j]))
        j++;
    j = skip_blank(s, j, b);
    if (b - j < 3 || memcmp(s + j, jo, 3) != 0)
        return b;
    j += 3;
    /* 제N조의2 */
    if (b - j >= 3 && memcmp(s + j, "\xEC\x9D\x98", 3) == 0) {
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
    if (starts_with_digits_then(s, i, b, ". ") ||
        starts_with_digits_then(s, i, b, ") "))
        return 1;
    /* circled numbers ① .. ⑳ (E2 91 A0 .. E2 91 B3) start a Korean clause */
    if (b - i >= 3 && (unsigned char)s[i] == 0xE2 &&
        (unsigned char)s[i + 1] == 0x91 && (unsigned char)s[i + 2] >= 0xA0 &&
        (unsigned char)s[i + 2] <= 0xB3)
        return 1;
    return 0;
}

/* Split s[a..b) (one paragraph or line) into sentence units, and sentences
 * longer than max_words into word windows. */
static askdocs_rc split_sentences(const char *s, size_t a, size_t b,
                                  int max_words, unit_list *out)
{
    size_t i = a, start = a;
    askdocs_rc rc = ASKDOCS_OK;
    while (i < b && rc == ASKDOCS_OK) {
        char c = s[i];
        int end_here = 0;
        if ((c == '.' || c == '!' || c == '?') && i + 1 < b &&
            is_space(s[i + 1])) {
            /* not after a single digit or capital (e.g. "1.", "U.S.") */
            end_here = !(i > a && i - start < 3);
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
            int w;
            while (start < e && is_space(s[start]))
                start++;
            if (start >= e) {
                start = i;
                continue;
            }
            w = count_words(s, start, e);
            if (w > max_words) {
                /* window over words */
                size_t p = start;
                while (p < e && rc == ASKDOCS_OK) {
                    size_t q = p;
                    int nw = 0, in = 0;
                    while (q < e) {
                        if (is_space(s[q]))
                            in = 0;
                        else if (!in) {
                            if (nw == max_words)
                                break;
                            in = 1;
                            nw++;
                        }
                        q++;
                    }
                    rc = units_push(out, p, q, nw, 0);
                    p = q;
                    while (p < e && is_space(s[p]))
                        p++;
                }
            } else {
                rc = units_push(out, start, e, w, 0);
            }
            start = i;
        }
    }
    return rc;
}

static askdocs_rc make_units(const char *s, size_t n, int markdown,
                             int max_words, unit_list *out)
{
    size_t i = 0, para_start = 0;
    int in_para = 0, in_fence = 0;
    askdocs_rc rc = ASKDOCS_OK;
    while (i <= n && rc == ASKDOCS_OK) {
        size_t eol = i;
        int blank, lvl;
        while (eol < n && s[eol] != '\n')
            eol++;
        blank = skip_blank(s, i, eol) == eol;
        lvl = in_fence ? 0 : heading_level(s, i, eol, markdown);
        if (markdown && eol - i >= 3 && strncmp(s + skip_blank(s, i, eol),
                                                "```", 3) == 0)
            in_fence = !in_fence;
        if (blank || lvl > 0 || (!in_fence && is_list_or_table_line(s, i, eol))) {
            if (in_para) {
                size_t pe = i;
                while (pe > para_start && is_space(s[pe - 1]))
                    pe--;
                rc = split_sentences(s, para_start, pe, max_words, out);
                in_para = 0;
            }
            if (rc == ASKDOCS_OK && lvl > 0) {
                /* "제3조(목적) 이 법은 ..." : the article title is the
                 * heading, the rest of the line is body text */
                size_t he = article_title_end(s, i, eol);
                rc = units_push(out, i, he, count_words(s, i, he), lvl);
                if (rc == ASKDOCS_OK && skip_blank(s, he, eol) < eol)
                    rc = split_sentences(s, skip_blank(s, he, eol), eol,
                                         max_words, out);
            }
            else if (rc == ASKDOCS_OK && !blank) /* list item / table row */
                rc = split_sentences(s, i, eol, max_words, out);
        } else if (!in_para) {
            in_para = 1;
            para_start = i;
        }
        if (eol >= n)
            break;
        i = eol + 1;
    }
    if (rc == ASKDOCS_OK && in_para) {
        size_t pe = n;
        while (pe > para_start && is_space(s[pe - 1]))
            pe--;
        rc = split_sentences(s, para_start, pe, max_words, out);
    }
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
    int i, words = 0;
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
    for (i = from; i < to; i++)
        words += u[i].words;
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
    c->n_words = words;
    out->n++;
    return ASKDOCS_OK;
}

idx_chunk_params idx_chunk_default_params(void)
{
    idx_chunk_params p;
    memset(&p, 0, sizeof(p));
    p.target_words = 200;
    p.overlap_words = 30;
    p.max_chunks = 200000;
    p.markdown = 0;
    return p;
}

askdocs_rc idx_chunk_text(const char *s, size_t n, const idx_chunk_params *p,
                          idx_chunk_list *out)
{
    unit_list ul = {NULL, 0, 0, 0};
    const unit *stack[MAX_DEPTH] = {0};
    char *heading = NULL;
    cp_cursor cur = {0, 0};
    int i, from = 0, words = 0, body_words = 0;
    int target = p->target_words > 0 ? p->target_words : 200;
    int overlap = p->overlap_words >= 0 ? p->overlap_words : 0;
    askdocs_rc rc;

    memset(out, 0, sizeof(*out));
    if (overlap >= target / 2)
        overlap = target / 2;
    ul.max = p->max_chunks > 0 ? p->max_chunks * 8 : 1600000;
    rc = make_units(s, n, p->markdown, target, &ul);
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
            int lvl = u->heading_level - 1, d;
            if (body_words > 0) {
                rc = emit(out, s, p, ul.v, from, i, heading, &cur);
                if (rc != ASKDOCS_OK)
                    goto out;
                from = i;
                words = 0;
                body_words = 0;
            }
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
            words += u->words;
            continue;
        }
        if (body_words > 0 && words + u->words > target) {
            int back = i, ow = 0;
            rc = emit(out, s, p, ul.v, from, i, heading, &cur);
            if (rc != ASKDOCS_OK)
                goto out;
            /* overlap: whole trailing body units of the same section */
            while (back > from + 1 && ul.v[back - 1].heading_level == 0 &&
                   ow + ul.v[back - 1].words <= overlap) {
                ow += ul.v[back - 1].words;
                back--;
            }
            from = back;
            words = ow;
            body_words = ow;
        }
        words += u->words;
        body_words += u->words;
    }
    if (from < ul.n && (body_words > 0 || out->n == 0))
        rc = emit(out, s, p, ul.v, from, ul.n, heading, &cur);
out:
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
