/*
 * gen_text.c - text analysis of the generator: content tokens, token sets
 * and overlap, sentence splitting, [n] markers, refusal detection.
 */
#include <stdlib.h>
#include <string.h>

#include "gen_internal.h"

/* ------------------------------------------------------------ helpers */

static int is_ascii_alpha(unsigned c) { return (c | 32u) >= 'a' && (c | 32u) <= 'z'; }
static int is_digit(unsigned c) { return c >= '0' && c <= '9'; }
static int is_space(unsigned c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

/* Latin letters beyond ASCII: Latin-1 supplement and Latin Extended-A/B. */
static int is_latin_ext(uint32_t cp)
{
    return cp >= 0xC0 && cp <= 0x24F && cp != 0xD7 && cp != 0xF7;
}
static int is_syllable(uint32_t cp) { return cp >= 0xAC00 && cp <= 0xD7A3; }
static int is_cjk(uint32_t cp)
{
    return (cp >= 0x3040 && cp <= 0x30FF) || (cp >= 0x4E00 && cp <= 0x9FFF) ||
           (cp >= 0x3400 && cp <= 0x4DBF);
}

/* Decode one code point; invalid bytes decode as U+FFFD of length 1. */
static int dec(const char *s, size_t n, size_t i, uint32_t *cp)
{
    int k = askdocs_utf8_decode((const unsigned char *)s + i, n - i, cp);
    if (k <= 0) {
        *cp = 0xFFFD;
        return 1;
    }
    return k;
}

static size_t put_utf8(uint32_t cp, char *o)
{
    if (cp < 0x80) { o[0] = (char)cp; return 1; }
    if (cp < 0x800) { o[0] = (char)(0xC0 | (cp >> 6)); o[1] = (char)(0x80 | (cp & 0x3F)); return 2; }
    if (cp < 0x10000) {
        o[0] = (char)(0xE0 | (cp >> 12)); o[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        o[2] = (char)(0x80 | (cp & 0x3F)); return 3;
    }
    o[0] = (char)(0xF0 | (cp >> 18)); o[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    o[2] = (char)(0x80 | ((cp >> 6) & 0x3F)); o[3] = (char)(0x80 | (cp & 0x3F)); return 4;
}

/* ------------------------------------------------------------ stopwords */

static const char *const en_stop[] = {
    "a", "about", "above", "after", "again", "all", "also", "am", "an", "and", "any", "are",
    "as", "at", "be", "because", "been", "before", "being", "below", "between", "both", "but",
    "by", "can", "could", "did", "do", "does", "doing", "during", "each", "either", "etc", "for",
    "from", "further", "had", "has", "have", "having", "he", "her", "here", "hers", "him", "his",
    "how", "if", "in", "into", "is", "it", "its", "itself", "just", "may", "me", "might", "more",
    "most", "must", "my", "no", "nor", "not", "of", "on", "once", "only", "or", "other", "our",
    "ours", "out", "over", "own", "per", "please", "same", "shall", "she", "should", "so",
    "some", "such", "than", "that", "the", "their", "theirs", "them", "then", "there", "these",
    "they", "this", "those", "through", "to", "too", "under", "until", "up", "upon", "very",
    "via", "was", "we", "were", "what", "when", "where", "whether", "which", "while", "who",
    "whom", "whose", "why", "will", "with", "within", "would", "you", "your", "yours",
    /* words of the answer format itself */
    "according", "answer", "document", "documents", "evidence", "passage", "passages",
    "source", "sources", "based", "stated", "states", "say", "says", "tell", "information",
    "provided", "mentioned", "context",
};

static int is_en_stop(const char *w, size_t n)
{
    for (size_t i = 0; i < sizeof en_stop / sizeof en_stop[0]; i++)
        if (strlen(en_stop[i]) == n && memcmp(en_stop[i], w, n) == 0)
            return 1;
    return 0;
}

/* Korean particles and endings stripped from the end of a Hangul run, longest
 * first. min = syllables that must remain (1 for endings that never end a
 * noun, 2 for one-syllable particles that also end ordinary words). */
static const struct { const char *s; int min; } ko_suffix[] = {
    { "\xEC\x9E\x85\xEB\x8B\x88\xEA\xB9\x8C", 1 },  /* 입니까 */
    { "\xEC\x8A\xB5\xEB\x8B\x88\xEA\xB9\x8C", 1 },  /* 습니까 */
    { "\xEC\x9E\x85\xEB\x8B\x88\xEB\x8B\xA4", 1 },  /* 입니다 */
    { "\xEC\x8A\xB5\xEB\x8B\x88\xEB\x8B\xA4", 1 },  /* 습니다 */
    { "\xED\x95\xA9\xEB\x8B\x88\xEB\x8B\xA4", 1 },  /* 합니다 */
    { "\xEB\x90\xA9\xEB\x8B\x88\xEB\x8B\xA4", 1 },  /* 됩니다 */
    { "\xEC\x9D\xB8\xEA\xB0\x80\xEC\x9A\x94", 1 },  /* 인가요 */
    { "\xEC\x9D\xB8\xEA\xB0\x80", 1 },              /* 인가 */
    { "\xEC\x9D\xB8\xEC\xA7\x80", 1 },              /* 인지 */
    { "\xEB\x8B\x88\xEB\x8B\xA4", 1 },              /* 니다 */
    { "\xEB\x82\x98\xEC\x9A\x94", 1 },              /* 나요 */
    { "\xEA\xB9\x8C\xEC\x9A\x94", 1 },              /* 까요 */
    { "\xEC\x97\x90\xEC\x84\x9C\xEB\x8A\x94", 2 },  /* 에서는 */
    { "\xEC\x9C\xBC\xEB\xA1\x9C\xEB\x8A\x94", 2 },  /* 으로는 */
    { "\xEC\x97\x90\xEA\xB2\x8C\xEB\x8A\x94", 2 },  /* 에게는 */
    { "\xEC\x9D\xB4\xEB\x9D\xBC\xEA\xB3\xA0", 2 },  /* 이라고 */
    { "\xEA\xB9\x8C\xEC\xA7\x80", 2 },              /* 까지 */
    { "\xEB\xB6\x80\xED\x84\xB0", 2 },              /* 부터 */
    { "\xEC\x97\x90\xEC\x84\x9C", 2 },              /* 에서 */
    { "\xEC\x9C\xBC\xEB\xA1\x9C", 2 },              /* 으로 */
    { "\xEC\x97\x90\xEA\xB2\x8C", 2 },              /* 에게 */
    { "\xEC\x9D\xB4\xEB\xA9\xB0", 1 },              /* 이며 */
    { "\xEC\x9D\xB4\xEA\xB3\xA0", 1 },              /* 이고 */
    { "\xEC\x9D\xB4\xEB\x8B\xA4", 1 },              /* 이다 */
    { "\xEC\x9D\xB4\xEB\x82\x98", 2 },              /* 이나 */
    { "\xEC\x97\x90\xEB\x8A\x94", 2 },              /* 에는 */
    { "\xEC\x97\x90\xEB\x8F\x84", 2 },              /* 에도 */
    { "\xEB\xA1\x9C\xEB\x8A\x94", 2 },              /* 로는 */
    { "\xEA\xB3\xBC\xEC\x9D\x98", 2 },              /* 과의 */
    { "\xEC\x99\x80\xEC\x9D\x98", 2 },              /* 와의 */
    { "\xEC\x9D\x80", 2 }, { "\xEB\x8A\x94", 2 },   /* 은 는 */
    { "\xEC\x9D\xB4", 2 }, { "\xEA\xB0\x80", 2 },   /* 이 가 */
    { "\xEC\x9D\x84", 2 }, { "\xEB\xA5\xBC", 2 },   /* 을 를 */
    { "\xEC\x9D\x98", 2 }, { "\xEC\x97\x90", 2 },   /* 의 에 */
    { "\xEB\x8F\x84", 2 }, { "\xEB\xA1\x9C", 2 },   /* 도 로 */
    { "\xEC\x99\x80", 2 }, { "\xEA\xB3\xBC", 2 },   /* 와 과 */
    { "\xEB\xA7\x8C", 2 }, { "\xEB\x8B\xA4", 2 },   /* 만 다 */
    { "\xEC\x9A\x94", 2 },                          /* 요 */
};

/* Whole (stripped) Hangul runs that carry no content. */
static const char *const ko_stop[] = {
    "\xEA\xB7\xB8\xEB\xA6\xAC\xEA\xB3\xA0", /* 그리고 */
    "\xEA\xB7\xB8\xEB\x9F\xAC\xEB\x82\x98", /* 그러나 */
    "\xED\x95\x98\xEC\xA7\x80\xEB\xA7\x8C", /* 하지만 */
    "\xEB\x98\x90\xEB\x8A\x94",             /* 또는 */
    "\xEB\x98\x90\xED\x95\x9C",             /* 또한 */
    "\xED\x95\xB4\xEB\x8B\xB9",             /* 해당 */
    "\xEB\x8C\x80\xED\x95\x9C",             /* 대한 */
    "\xEA\xB4\x80\xED\x95\x9C",             /* 관한 */
    "\xEC\x9C\x84\xED\x95\x9C",             /* 위한 */
    "\xEB\x94\xB0\xEB\x9D\xBC",             /* 따라 */
    "\xEB\x94\xB0\xEB\xA5\xB8",             /* 따른 */
    "\xEB\xAC\xB4\xEC\x97\x87",             /* 무엇 */
    "\xEC\x96\xBC\xEB\xA7\x88",             /* 얼마 */
    "\xEC\x96\xBC\xEB\xA7\x88\xEB\x82\x98", /* 얼마나 */
    "\xEC\x96\xB4\xEB\x96\xBB\xEA\xB2\x8C", /* 어떻게 */
    "\xEC\x96\xB8\xEC\xA0\x9C",             /* 언제 */
    "\xEC\x96\xB4\xEB\x94\x94",             /* 어디 */
    "\xEB\x88\x84\xEA\xB5\xAC",             /* 누구 */
    "\xEC\x96\xB4\xEB\x96\xA4",             /* 어떤 */
    "\xEB\xAC\xB4\xEC\x8A\xA8",             /* 무슨 */
    "\xEB\xAC\xB8\xEC\x84\x9C",             /* 문서 */
    "\xEA\xB7\xBC\xEA\xB1\xB0",             /* 근거 */
    "\xEC\x9E\x88\xEB\x8A\x94",             /* 있는 */
    "\xEC\x97\x86\xEB\x8A\x94",             /* 없는 */
    "\xED\x95\x98\xEB\x8A\x94",             /* 하는 */
};

static int is_ko_stop(const char *w, size_t n)
{
    for (size_t i = 0; i < sizeof ko_stop / sizeof ko_stop[0]; i++)
        if (strlen(ko_stop[i]) == n && memcmp(ko_stop[i], w, n) == 0)
            return 1;
    return 0;
}

/* ------------------------------------------------------------ tokens */

#define RUN_MAX 128  /* syllables handled per run; longer runs are split */

/* Emit bigrams of a Hangul run (3-byte syllables in buf, m of them). */
static void emit_hangul(const char *buf, int m, gen_token_fn fn, void *user)
{
    /* strip one trailing particle / ending */
    for (size_t i = 0; i < sizeof ko_suffix / sizeof ko_suffix[0]; i++) {
        size_t sl = strlen(ko_suffix[i].s);
        int ss = (int)(sl / 3);
        if (m - ss >= ko_suffix[i].min &&
            memcmp(buf + (size_t)(m - ss) * 3, ko_suffix[i].s, sl) == 0) {
            m -= ss;
            break;
        }
    }
    if (m < 2 || is_ko_stop(buf, (size_t)m * 3))
        return;
    for (int j = 0; j + 1 < m; j++)
        fn(buf + (size_t)j * 3, 6, user);
}

void gen_content_tokens(const char *s, size_t n, gen_token_fn fn, void *user)
{
    size_t i = 0;
    char w[GEN_TOKEN_MAX_BYTES + 4];
    char run[RUN_MAX * 4];
    if (!s)
        return;
    while (i < n) {
        unsigned c = (unsigned char)s[i];
        uint32_t cp;
        int k;
        if (c == '[') { /* skip citation markers */
            int nums[GEN_MAX_MARKS], kk = 0;
            size_t ml = gen_parse_marker(s + i, n - i, nums, &kk, GEN_MAX_MARKS);
            if (ml) {
                i += ml;
                continue;
            }
        }
        if (is_digit(c)) {
            size_t wl = 0;
            while (i < n) {
                c = (unsigned char)s[i];
                if (is_digit(c)) {
                    if (wl < GEN_TOKEN_MAX_BYTES)
                        w[wl++] = (char)c;
                    i++;
                } else if ((c == ',' || c == '.') && i + 1 < n &&
                           is_digit((unsigned char)s[i + 1])) {
                    if (c == '.' && wl < GEN_TOKEN_MAX_BYTES)
                        w[wl++] = '.';
                    i++;
                } else {
                    break;
                }
            }
            fn(w, wl, user);
            continue;
        }
        k = dec(s, n, i, &cp);
        if (is_ascii_alpha(c) || is_latin_ext(cp)) {
            size_t wl = 0, letters = 0;
            while (i < n) {
                k = dec(s, n, i, &cp);
                if (cp < 0x80 && is_ascii_alpha(cp)) {
                    if (wl < GEN_TOKEN_MAX_BYTES)
                        w[wl++] = (char)(cp | 32u);
                } else if (is_latin_ext(cp)) {
                    if (cp >= 0xC0 && cp <= 0xDE)
                        cp += 0x20; /* Latin-1 upper to lower */
                    if (wl + 4 <= GEN_TOKEN_MAX_BYTES)
                        wl += put_utf8(cp, w + wl);
                } else {
                    break;
                }
                letters++;
                i += (size_t)k;
            }
            if (letters >= 2 && !is_en_stop(w, wl))
                fn(w, wl, user);
            continue;
        }
        if (is_syllable(cp) || is_cjk(cp)) {
            int hangul = is_syllable(cp), m = 0;
            size_t rl = 0;
            while (i < n && m < RUN_MAX) {
                k = dec(s, n, i, &cp);
                if (hangul ? !is_syllable(cp) : !is_cjk(cp))
                    break;
                rl += put_utf8(cp, run + rl);
                m++;
                i += (size_t)k;
            }
            if (hangul) {
                emit_hangul(run, m, fn, user);
            } else {
                /* CJK: code points of 3 bytes; bigrams over bytes of
                 * adjacent characters */
                size_t off[RUN_MAX + 1], p = 0;
                int cnt = 0;
                while (p < rl) {
                    uint32_t c2;
                    off[cnt++] = p;
                    p += (size_t)dec(run, rl, p, &c2);
                }
                off[cnt] = rl;
                for (int j = 0; j + 1 < cnt; j++)
                    fn(run + off[j], off[j + 2] - off[j], user);
            }
            continue;
        }
        i += (size_t)k;
    }
}

struct str_ctx { askdocs_buf *b; askdocs_rc rc; };

static void str_cb(const char *t, size_t n, void *u)
{
    struct str_ctx *c = u;
    if (c->rc != ASKDOCS_OK)
        return;
    if (c->b->len)
        c->rc = askdocs_buf_append(c->b, " ", 1);
    if (c->rc == ASKDOCS_OK)
        c->rc = askdocs_buf_append(c->b, t, n);
}

askdocs_rc gen_content_tokens_str(const char *s, size_t n, askdocs_buf *out)
{
    struct str_ctx c = { out, ASKDOCS_OK };
    if (!out)
        return ASKDOCS_ERR_INVALID;
    gen_content_tokens(s, n, str_cb, &c);
    return c.rc;
}

struct set_ctx { uint64_t *h; int n, cap; askdocs_rc rc; };

static void set_cb(const char *t, size_t n, void *u)
{
    struct set_ctx *c = u;
    if (c->rc != ASKDOCS_OK || c->n >= GEN_MAX_TOKENS)
        return;
    if (c->n == c->cap) {
        int nc = c->cap ? c->cap * 2 : 64;
        uint64_t *nh;
        if (nc > GEN_MAX_TOKENS)
            nc = GEN_MAX_TOKENS;
        nh = askdocs_realloc(c->h, (size_t)nc * sizeof *nh);
        if (!nh) {
            c->rc = ASKDOCS_ERR_NOMEM;
            return;
        }
        c->h = nh;
        c->cap = nc;
    }
    /* the top bit tells numbers (which a supporting passage must contain)
     * from words */
    c->h[c->n++] = (n && is_digit((unsigned char)t[0]))
                       ? askdocs_fnv1a64(t, n) | GEN_NUMBER_BIT
                       : askdocs_fnv1a64(t, n) & ~GEN_NUMBER_BIT;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

askdocs_rc gen_tokset_build(const char *s, size_t n, gen_tokset *out)
{
    struct set_ctx c = { NULL, 0, 0, ASKDOCS_OK };
    int j = 0;
    if (!out)
        return ASKDOCS_ERR_INVALID;
    out->h = NULL;
    out->n = 0;
    gen_content_tokens(s, n, set_cb, &c);
    if (c.rc != ASKDOCS_OK) {
        askdocs_free(c.h);
        return c.rc;
    }
    if (c.n) {
        qsort(c.h, (size_t)c.n, sizeof *c.h, cmp_u64);
        for (int i = 0; i < c.n; i++)
            if (i == 0 || c.h[i] != c.h[j - 1])
                c.h[j++] = c.h[i];
    }
    out->h = c.h;
    out->n = j;
    return ASKDOCS_OK;
}

void gen_tokset_free(gen_tokset *t)
{
    if (!t)
        return;
    askdocs_free(t->h);
    t->h = NULL;
    t->n = 0;
}

static int tokset_has(const gen_tokset *t, uint64_t h)
{
    int lo = 0, hi = t->n - 1;
    while (lo <= hi) {
        int mid = lo + (hi - lo) / 2;
        if (t->h[mid] == h)
            return 1;
        if (t->h[mid] < h)
            lo = mid + 1;
        else
            hi = mid - 1;
    }
    return 0;
}

double gen_overlap(const gen_tokset *a, const gen_tokset *b)
{
    int hit = 0;
    if (!a || a->n == 0)
        return -1.0;
    if (!b || b->n == 0)
        return 0.0;
    for (int i = 0; i < a->n; i++)
        hit += tokset_has(b, a->h[i]);
    return (double)hit / (double)a->n;
}

double gen_support_set(const gen_tokset *s, const gen_tokset *p)
{
    int hit = 0;
    if (!s || s->n == 0)
        return -1.0;
    for (int i = 0; i < s->n; i++) {
        int has = p && p->n && tokset_has(p, s->h[i]);
        if (!has && (s->h[i] & GEN_NUMBER_BIT))
            return 0.0; /* a number the passage does not have */
        hit += has;
    }
    return (double)hit / (double)s->n;
}

double gen_support(const char *s, const char *p)
{
    gen_tokset a, b;
    double r;
    if (gen_tokset_build(s, s ? strlen(s) : 0, &a) != ASKDOCS_OK)
        return -2.0;
    if (gen_tokset_build(p, p ? strlen(p) : 0, &b) != ASKDOCS_OK) {
        gen_tokset_free(&a);
        return -2.0;
    }
    r = gen_support_set(&a, &b);
    gen_tokset_free(&a);
    gen_tokset_free(&b);
    return r;
}

/* ------------------------------------------------------------ markers */

size_t gen_parse_marker(const char *s, size_t n, int *nums, int *k, int max)
{
    size_t i = 1;
    int cnt = 0;
    *k = 0;
    if (n < 3 || s[0] != '[')
        return 0;
    for (;;) {
        int v = 0, digits = 0;
        while (i < n && s[i] == ' ')
            i++;
        while (i < n && is_digit((unsigned char)s[i]) && digits < 4) {
            v = v * 10 + (s[i] - '0');
            digits++;
            i++;
        }
        if (digits == 0 || digits > 3 || (i < n && is_digit((unsigned char)s[i])))
            return 0;
        if (cnt < max)
            nums[cnt++] = v;
        while (i < n && s[i] == ' ')
            i++;
        if (i >= n)
            return 0;
        if (s[i] == ']') {
            *k = cnt;
            return i + 1;
        }
        if (s[i] != ',' && s[i] != ';')
            return 0;
        i++;
    }
}

askdocs_rc gen_strip_markers(const char *s, size_t n, askdocs_buf *out)
{
    size_t i = 0, start = out->len;
    askdocs_rc rc = ASKDOCS_OK;
    while (i < n && rc == ASKDOCS_OK) {
        if (s[i] == '[') {
            int nums[GEN_MAX_MARKS], k;
            size_t ml = gen_parse_marker(s + i, n - i, nums, &k, GEN_MAX_MARKS);
            if (ml) {
                /* drop blanks already copied before the marker */
                while (out->len > start &&
                       (out->data[out->len - 1] == ' ' || out->data[out->len - 1] == '\t'))
                    out->data[--out->len] = '\0';
                i += ml;
                continue;
            }
        }
        rc = askdocs_buf_append(out, s + i, 1);
        i++;
    }
    if (rc != ASKDOCS_OK)
        return rc;
    /* trim both ends of what was appended */
    while (out->len > start && is_space((unsigned char)out->data[out->len - 1]))
        out->data[--out->len] = '\0';
    {
        size_t lead = start;
        while (lead < out->len && is_space((unsigned char)out->data[lead]))
            lead++;
        if (lead > start) {
            memmove(out->data + start, out->data + lead, out->len - lead + 1);
            out->len -= lead - start;
        }
    }
    return ASKDOCS_OK;
}

/* ------------------------------------------------------------ sentences */

static const char *const abbrev[] = {
    "e.g", "i.e", "eg", "ie", "no", "nos", "art", "arts", "sec", "secs", "vs", "etc", "mr",
    "mrs", "ms", "dr", "prof", "fig", "figs", "approx", "incl", "cf", "pp", "vol", "ch",
    "para", "st", "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct",
    "nov", "dec", "inc", "ltd", "co", "corp", "jr", "sr",
};

/* 1 if the '.' at s[i] ends an abbreviation or a one-letter word. */
static int dot_is_abbrev(const char *s, size_t i)
{
    size_t b = i;
    char w[8];
    size_t wl;
    while (b > 0 && (is_ascii_alpha((unsigned char)s[b - 1]) || s[b - 1] == '.') && i - b < 7)
        b--;
    if (b > 0 && (is_ascii_alpha((unsigned char)s[b - 1]) || s[b - 1] == '.'))
        return 0; /* long word */
    wl = i - b;
    if (wl == 0)
        return 0;
    if (wl == 1) /* "p." "s." abbreviate; "lot B." ends a sentence */
        return s[b] >= 'a' && s[b] <= 'z';
    for (size_t j = 0; j < wl; j++)
        w[j] = (char)((unsigned char)s[b + j] | 32u);
    for (size_t j = 0; j < sizeof abbrev / sizeof abbrev[0]; j++)
        if (strlen(abbrev[j]) == wl && memcmp(abbrev[j], w, wl) == 0)
            return 1;
    return 0;
}

/* 1 if s[start..i) is white space then 1-3 digits: "2." of a numbered list. */
static int is_enumerator(const char *s, size_t start, size_t i)
{
    size_t j = start, d;
    while (j < i && is_space((unsigned char)s[j]))
        j++;
    d = j;
    while (j < i && is_digit((unsigned char)s[j]))
        j++;
    return j == i && i > d && i - d <= 3;
}

size_t gen_list_prefix(const char *s, size_t n)
{
    size_t j = 0, d;
    while (j < n && is_space((unsigned char)s[j]))
        j++;
    d = j;
    if (j < n && (s[j] == '-' || s[j] == '*' || s[j] == '+')) {
        j++;
    } else if (j + 2 < n && memcmp(s + j, "\xE2\x80\xA2", 3) == 0) { /* bullet */
        j += 3;
    } else {
        if (j < n && s[j] == '(')
            j++;
        while (j < n && is_digit((unsigned char)s[j]) && j - d < 4)
            j++;
        if (j == d || j >= n || (s[j] != '.' && s[j] != ')'))
            return 0;
        j++;
    }
    if (j < n && !is_space((unsigned char)s[j]))
        return 0;
    while (j < n && is_space((unsigned char)s[j]))
        j++;
    return j;
}

static int is_term_punct(uint32_t cp)
{
    return cp == '.' || cp == '?' || cp == '!' || cp == 0x3002 || cp == 0xFF1F || cp == 0xFF01 ||
           cp == 0x2026;
}
static int is_close_quote(uint32_t cp)
{
    return cp == '"' || cp == '\'' || cp == ')' || cp == 0x201D || cp == 0x2019 || cp == 0x300D ||
           cp == 0x300F || cp == '*';
}

/* From e (just after an ending), take trailing punctuation, closing quotes,
 * blanks + markers. Returns the new end (not including blanks after the last
 * taken item). */
static size_t absorb_tail(const char *s, size_t n, size_t e)
{
    for (;;) {
        size_t j = e;
        uint32_t cp;
        int nums[GEN_MAX_MARKS], k;
        size_t ml;
        if (j < n) {
            int l = dec(s, n, j, &cp);
            if (is_term_punct(cp) || is_close_quote(cp)) {
                e = j + (size_t)l;
                continue;
            }
        }
        while (j < n && (s[j] == ' ' || s[j] == '\t'))
            j++;
        ml = j < n ? gen_parse_marker(s + j, n - j, nums, &k, GEN_MAX_MARKS) : 0;
        if (ml) {
            e = j + ml;
            continue;
        }
        return e;
    }
}

static askdocs_rc add_sentence(const char *s, size_t a, size_t b, gen_sentence **v, int *n,
                               int *cap)
{
    gen_sentence *st;
    while (a < b && is_space((unsigned char)s[a]))
        a++;
    while (b > a && is_space((unsigned char)s[b - 1]))
        b--;
    if (a >= b)
        return ASKDOCS_OK;
    if (*n >= GEN_MAX_SENTENCES)
        return ASKDOCS_ERR_TOOBIG;
    if (*n == *cap) {
        int nc = *cap ? *cap * 2 : 16;
        gen_sentence *nv = askdocs_realloc(*v, (size_t)nc * sizeof *nv);
        if (!nv)
            return ASKDOCS_ERR_NOMEM;
        *v = nv;
        *cap = nc;
    }
    st = &(*v)[(*n)++];
    st->start = (int)a;
    st->end = (int)b;
    st->n_marks = 0;
    for (size_t i = a; i < b;) {
        int nums[GEN_MAX_MARKS], k;
        size_t ml = s[i] == '[' ? gen_parse_marker(s + i, b - i, nums, &k, GEN_MAX_MARKS) : 0;
        if (ml) {
            for (int j = 0; j < k && st->n_marks < GEN_MAX_MARKS; j++)
                st->marks[st->n_marks++] = nums[j];
            i += ml;
        } else {
            i++;
        }
    }
    return ASKDOCS_OK;
}

askdocs_rc gen_split_sentences(const char *s, size_t n, int newline_breaks, gen_sentence **out,
                               int *n_out)
{
    gen_sentence *v = NULL;
    int cnt = 0, cap = 0;
    size_t i = 0, start = 0;
    askdocs_rc rc = ASKDOCS_OK;
    uint32_t prev = 0;

    if (!out || !n_out)
        return ASKDOCS_ERR_INVALID;
    *out = NULL;
    *n_out = 0;
    if (n > (size_t)INT32_MAX / 2)
        return ASKDOCS_ERR_TOOBIG;
    while (i < n) {
        uint32_t cp;
        int l = dec(s, n, i, &cp);
        size_t e = 0; /* end of sentence when nonzero */
        if (cp == '\n') {
            int brk = newline_breaks;
            if (!brk) {
                size_t j = i + 1;
                while (j < n && (s[j] == ' ' || s[j] == '\t' || s[j] == '\r'))
                    j++;
                brk = j >= n || s[j] == '\n';
            }
            if (brk) {
                rc = add_sentence(s, start, i, &v, &cnt, &cap);
                if (rc != ASKDOCS_OK)
                    goto cleanup;
                start = i + 1;
            }
            prev = cp;
            i += (size_t)l;
            continue;
        }
        if (cp == '.' || cp == '?' || cp == '!') {
            size_t after = i + 1;
            int ok = 1;
            if (cp == '.' && ((i > 0 && is_digit((unsigned char)s[i - 1]) && after < n &&
                               is_digit((unsigned char)s[after])) ||
                              dot_is_abbrev(s, i) || is_enumerator(s, start, i)))
                ok = 0;
            if (ok) {
                e = absorb_tail(s, n, after);
                if (e < n && !is_space((unsigned char)s[e]))
                    e = 0; /* "example.com", "3.5" */
            }
        } else if (cp == 0x3002 || cp == 0xFF1F || cp == 0xFF01) {
            e = absorb_tail(s, n, i + (size_t)l);
        } else if ((cp == 0xB2E4 || cp == 0xC694 || cp == 0xAE4C) && is_syllable(prev)) {
            /* 다 요 까 ending a word: a sentence end when white space or a
             * marker / punctuation + white space follows */
            size_t after = i + (size_t)l;
            e = absorb_tail(s, n, after);
            if (e < n && !is_space((unsigned char)s[e]))
                e = 0;
        }
        if (e) {
            rc = add_sentence(s, start, e, &v, &cnt, &cap);
            if (rc != ASKDOCS_OK)
                goto cleanup;
            start = e;
            i = e;
            prev = 0;
            continue;
        }
        prev = cp;
        i += (size_t)l;
    }
    rc = add_sentence(s, start, n, &v, &cnt, &cap);
    if (rc != ASKDOCS_OK)
        goto cleanup;
    *out = v;
    *n_out = cnt;
    v = NULL;
cleanup:
    askdocs_free(v);
    return rc;
}

/* ------------------------------------------------------------ refusal */

const char *gen_refusal_phrase(int ko)
{
    return ko ? ASKDOCS_GEN_REFUSAL_KO : ASKDOCS_GEN_REFUSAL_EN;
}

static const char *const refusal_en[] = {
    "do not contain this information", "does not contain this information",
    "do not contain the information", "does not contain the information",
    "do not contain any information", "does not contain any information",
    "do not contain information", "does not contain information",
    "do not contain the answer", "does not contain the answer",
    "not found in the document", "no information about", "no information on",
    "no information regarding", "no information in the", "cannot find", "can't find",
    "can\xE2\x80\x99t find", "could not find", "couldn't find", "unable to find",
    "not mentioned in the", "not provided in the", "not stated in the",
    "there is no mention", "i don't know", "i do not know",
    "does not provide information", "do not provide information",
    "does not mention", "do not mention",
};

static const char *const refusal_ko[] = {
    "\xEC\xB0\xBE\xEC\x9D\x84 \xEC\x88\x98 \xEC\x97\x86",                 /* 찾을 수 없 */
    "\xEC\xA0\x95\xEB\xB3\xB4\xEA\xB0\x80 \xEC\x97\x86",                 /* 정보가 없 */
    "\xEC\xA0\x95\xEB\xB3\xB4\xEB\x8A\x94 \xEC\x97\x86",                 /* 정보는 없 */
    "\xED\x8F\xAC\xED\x95\xA8\xEB\x90\x98\xEC\x96\xB4 \xEC\x9E\x88\xEC\xA7\x80 \xEC\x95\x8A", /* 포함되어 있지 않 */
    "\xEC\x96\xB8\xEA\xB8\x89\xEB\x90\x98\xEC\x96\xB4 \xEC\x9E\x88\xEC\xA7\x80 \xEC\x95\x8A", /* 언급되어 있지 않 */
    "\xEB\x82\x98\xEC\x99\x80 \xEC\x9E\x88\xEC\xA7\x80 \xEC\x95\x8A",     /* 나와 있지 않 */
    "\xEC\x95\x8C \xEC\x88\x98 \xEC\x97\x86\xEC\x8A\xB5\xEB\x8B\x88\xEB\x8B\xA4", /* 알 수 없습니다 */
    "\xEB\xAA\x85\xEC\x8B\x9C\xEB\x90\x98\xEC\x96\xB4 \xEC\x9E\x88\xEC\xA7\x80 \xEC\x95\x8A", /* 명시되어 있지 않 */
    "\xEC\xA0\x9C\xEA\xB3\xB5\xEB\x90\x98\xEC\xA7\x80 \xEC\x95\x8A",     /* 제공되지 않 */
};

int gen_is_refusal(const char *s, size_t n)
{
    char low[1024];
    size_t m = 0;
    if (!s)
        return 0;
    /* lowercase ASCII, fold runs of white space; long texts: look at the
     * first 1 KiB only (a refusal is short and comes first) */
    for (size_t i = 0; i < n && m + 1 < sizeof low; i++) {
        unsigned c = (unsigned char)s[i];
        if (is_space(c)) {
            if (m && low[m - 1] == ' ')
                continue;
            c = ' ';
        } else if (c < 0x80 && is_ascii_alpha(c)) {
            c |= 32u;
        }
        low[m++] = (char)c;
    }
    low[m] = '\0';
    if (strstr(low, "the documents do not contain this information") ||
        strstr(low, ASKDOCS_GEN_REFUSAL_KO))
        return 1;
    for (size_t i = 0; i < sizeof refusal_en / sizeof refusal_en[0]; i++)
        if (strstr(low, refusal_en[i]))
            return 1;
    for (size_t i = 0; i < sizeof refusal_ko / sizeof refusal_ko[0]; i++)
        if (strstr(low, refusal_ko[i]))
            return 1;
    return 0;
}
