/*
 * tokenize.c - the "askdocs" FTS5 tokenizer and the query analyser. One
 * analysis serves documents and queries, so BM25 compares like with like.
 *
 * A scanner walks the input once and cuts it by script; each kind has its
 * own rule, and every token's offsets point into the caller's bytes (FTS5
 * highlight() and snippet() cut the stored text with them):
 *   Hangul      spans of Hangul words plus the spaces between them (MeCab
 *               uses the context) -> MeCab + mecab-ko-dic; without a
 *               dictionary, overlapping character bigrams per word.
 *               Conjoining jamo (decomposed Hangul from PDFs, macOS) are
 *               composed first.
 *   digits      numbers: "1,234,000" -> 1234000 (commas only between groups
 *               of three), "3.50" -> 3.5, leading zeros dropped, three or
 *               more dotted groups ("2024.03.01", "1.2.3") -> one token per
 *               group. Fullwidth digits count; ①..⑳ and kin are numbers.
 *   letters     words of alphabetic scripts (digits inside a word stay, an
 *               apostrophe between letters too): NFKC + case folding, marks
 *               stripped for Latin/Greek/Cyrillic, then the English Snowball
 *               stem for a-z words of 3+ letters; apostrophes dropped last.
 *   ideographs  one token per character (NFKC: compatibility ideographs
 *               become unified ones); kana runs -> bigrams.
 * Punctuation, symbols, controls, NUL and invalid UTF-8 only separate.
 *
 * Statute numbering: the word "제" directly before a number is dropped, and
 * a unit counter (조 항 호 목 장 절 편 관) right after a number is split
 * off as its own term, so "제12조", "12조", "제 12 조" and "제12조의2" all
 * give 12, 조 (MeCab alone would read "조의" as one noun, 조의 = condolence).
 *
 * Korean term rules (mecab-ko-dic tags; kept morphemes are indexed by
 * their surface, verbs and adjectives by their dictionary form stem+다):
 *   kept     NNG NNP NR NNBC (nouns, numerals, unit nouns), XR (roots:
 *            깨끗 of 깨끗하다), VV VA (먹었다 -> 먹다, 아름다운 -> 아름답다;
 *            inflected forms through the dictionary's expression field),
 *            MAG (adverbs: 즉시, 반드시 matter in rules and contracts),
 *            SL SH SN (should MeCab produce them), UNKNOWN (names).
 *   kept     NNB (bound nouns 것 수 등 데) only right after a number, where
 *            they are counters.
 *   dropped  J* (particles), E* (endings), XSN XSV XSA (suffixes: 들, 하,
 *            되, 스럽 add no content of their own), XPN (prefixes: 비, 제;
 *            recall over the rare loss of a negation), VX (auxiliaries),
 *            VCP VCN (이다, 아니다), NP (pronouns), MM (determiners), MAJ
 *            (conjunctive adverbs), IC (interjections), S* punctuation, and
 *            the light verbs 하다 and 되다 (the same role as XSV).
 *   Compound nouns ("Compound" type) are indexed whole and by their parts:
 *            the parts at consecutive positions, so phrase queries of the
 *            parts match, and the compound FTS5_TOKEN_COLOCATED with the
 *            first part. The positions' offsets never overlap: SQLite
 *            3.40's highlight() garbles its output otherwise (so a hit on
 *            a compound marks its first part; bigrams likewise own only
 *            their second character, the first of a word both).
 *
 * Queries: idx_analyzer_match analyses the user's text the same way and
 * writes each distinct term as a quoted FTS5 string prefixed with U+E000.
 * In query mode the tokenizer passes a string that starts with U+E000
 * through verbatim as one token, so FTS5's re-tokenization of the quoted
 * term gives back exactly that term (re-analysing a stem or a morpheme is
 * not idempotent: 먹다 would become 먹다 -> 먹 + 다). U+E000 never starts a
 * token in documents: private-use characters are separators.
 *
 * Threads: the idx_analyzer holds only the MeCab model, which MeCab
 * documents as shareable (its parse path takes a read lock). Every FTS5
 * tokenizer instance owns a work area (tagger, lattice, Snowball stemmer,
 * scratch buffers); a re-entrant call on a busy instance and every
 * idx_analyzer_terms / idx_analyzer_match call use a private one. An FTS5
 * tokenizer instance belongs to one connection, which SQLite uses from one
 * thread at a time.
 *
 * Caps: TOK_MAX_INPUT bytes per call (the rest is not indexed: a
 * deterministic cut, so deletes re-tokenize alike), TOK_MAX_TOKENS tokens
 * per call, TOK_MAX_TERM bytes per term, SPAN_MAX bytes per MeCab call.
 */
#include "idx_internal.h"

#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include <libstemmer.h>
#include <mecab.h>
#include <sqlite3.h>
#include <utf8proc.h>

#define TOK_MAX_INPUT ((size_t)8 << 20) /* bytes analysed per call */
#define TOK_MAX_TOKENS 2000000L         /* tokens emitted per call */
#define TOK_MAX_TERM 128                /* bytes of one term */
#define SPAN_MAX 4000      /* bytes per MeCab call (node lengths are 16 bit) */
#define WORD_MAX_CPS 256   /* code points of one letter word */
#define NORM_CAP 1024      /* code points of one word after NFKC */
#define NUM_MAX 64         /* digits of one number group */
#define NUM_GROUPS 8       /* dotted groups of one number */
#define KANA_RUN 64        /* kana per run (longer runs continue) */
#define MATCH_MAX_INPUT ((size_t)64 << 10)
#define MATCH_MAX_TERMS 64

#define MARK "\xEE\x80\x80" /* U+E000: verbatim term in a query */
#define MARK_LEN 3

/* internal stop codes beside the SQLite ones (never returned outward) */
#define STOP_CAP (-1)  /* a cap was reached: stop, not an error */
#define STOP_FULL (-2) /* idx_analyzer_match has all the terms it takes */

struct idx_analyzer {
    mecab_model_t *model; /* NULL = bigram mode */
};

typedef int (*emit_fn)(void *user, int flags, const char *t, int n,
                       int start, int end);

enum { K_NONE = 0, K_NUMBER, K_HANGUL, K_OTHER }; /* previous segment */

typedef struct work {
    const idx_analyzer *a;
    mecab_t *tagger;
    mecab_lattice_t *lat;
    struct sb_stemmer *stem;
    /* the current call */
    const char *s;
    size_t n;
    emit_fn emit;
    void *user;
    long ntok;
    int rc;            /* sticky: non-zero stops the call */
    int prev;          /* K_* of the last segment, spaces not counted */
    size_t prev_end;   /* where it ended */
    int emitted;       /* a token was emitted (COLOCATED needs one) */
    /* scratch */
    char span[SPAN_MAX + 16];
    uint32_t smap0[SPAN_MAX + 16], smap1[SPAN_MAX + 16]; /* span byte ->
                                                   original char start/end */
    utf8proc_int32_t cps[NORM_CAP];
    char term[TOK_MAX_TERM + 16];
} work;

/* ------------------------------------------------------------ work areas */
static void work_free(work *w)
{
    if (!w)
        return;
    if (w->lat)
        mecab_lattice_destroy(w->lat);
    if (w->tagger)
        mecab_destroy(w->tagger);
    if (w->stem)
        sb_stemmer_delete(w->stem);
    askdocs_free(w);
}

/* A work area for a. Caller frees with work_free. */
static askdocs_rc work_new(const idx_analyzer *a, work **out)
{
    work *w = askdocs_calloc(1, sizeof(*w));
    *out = NULL;
    if (!w)
        return ASKDOCS_ERR_NOMEM;
    w->a = a;
    w->stem = sb_stemmer_new("english", "UTF_8");
    if (!w->stem)
        goto fail;
    if (a->model) {
        w->tagger = mecab_model_new_tagger(a->model);
        w->lat = mecab_model_new_lattice(a->model);
        if (!w->tagger || !w->lat)
            goto fail;
    }
    *out = w;
    return ASKDOCS_OK;
fail:
    work_free(w);
    return ASKDOCS_ERR_NOMEM;
}

/* ------------------------------------------------------------- emitting */
/* Emit one term t[0..len) covering the original bytes [start, end). */
static void put(work *w, int flags, const char *t, size_t len, size_t start,
                size_t end)
{
    if (w->rc || len == 0)
        return;
    if (len > TOK_MAX_TERM)
        len = askdocs_utf8_floor(t, TOK_MAX_TERM);
    if (len == 0)
        return;
    if (!w->emitted)
        flags &= ~FTS5_TOKEN_COLOCATED;
    if (w->ntok >= TOK_MAX_TOKENS) {
        w->rc = STOP_CAP;
        return;
    }
    w->ntok++;
    w->emitted = 1;
    w->rc = w->emit(w->user, flags, t, (int)len, (int)start, (int)end);
}

/* ------------------------------------------------------ character classes */
enum { C_OTHER = 0, C_SPACE, C_HANGUL, C_DIGIT, C_LETTER, C_MARK, C_IGN,
       C_HAN, C_KANA, C_NUMSYM };

/* The number of an enclosed / parenthesized digit character (①..⑳, ⑴..⒇,
 * ⒈..⒛, ⓵..⓾, ❶..❿, ➀..➉, ➊..➓), 0 if cp is none. */
static int enclosed_number(uint32_t cp)
{
    if (cp >= 0x2460 && cp <= 0x2473)
        return (int)(cp - 0x2460) + 1;
    if (cp >= 0x2474 && cp <= 0x2487)
        return (int)(cp - 0x2474) + 1;
    if (cp >= 0x2488 && cp <= 0x249B)
        return (int)(cp - 0x2488) + 1;
    if (cp >= 0x24F5 && cp <= 0x24FE)
        return (int)(cp - 0x24F5) + 1;
    if (cp >= 0x2776 && cp <= 0x277F)
        return (int)(cp - 0x2776) + 1;
    if (cp >= 0x2780 && cp <= 0x2789)
        return (int)(cp - 0x2780) + 1;
    if (cp >= 0x278A && cp <= 0x2793)
        return (int)(cp - 0x278A) + 1;
    return 0;
}

static int cp_class(uint32_t cp)
{
    if (cp < 0x80) {
        if (cp >= '0' && cp <= '9')
            return C_DIGIT;
        if ((cp | 0x20) >= 'a' && (cp | 0x20) <= 'z')
            return C_LETTER;
        if (cp == ' ' || (cp >= 9 && cp <= 13))
            return C_SPACE;
        return C_OTHER;
    }
    if (askdocs_is_hangul(cp))
        return C_HANGUL;
    if (cp >= 0xFF10 && cp <= 0xFF19)
        return C_DIGIT;
    if ((cp >= 0x4E00 && cp <= 0x9FFF) || (cp >= 0x3400 && cp <= 0x4DBF) ||
        (cp >= 0xF900 && cp <= 0xFAFF) || (cp >= 0x20000 && cp <= 0x323AF) ||
        cp == 0x3005 || cp == 0x3007)
        return C_HAN;
    if ((cp >= 0x3041 && cp <= 0x30FF && cp != 0x30FB) ||
        (cp >= 0x31F0 && cp <= 0x31FF) || (cp >= 0xFF66 && cp <= 0xFF9F))
        return C_KANA;
    if (enclosed_number(cp))
        return C_NUMSYM;
    /* soft hyphen, zero-width (non-)joiner, word joiner: inside a word
     * they are dropped by normalisation instead of splitting it */
    if (cp == 0xAD || cp == 0x200C || cp == 0x200D || cp == 0x2060)
        return C_IGN;
    if (cp >= 0xE000 && cp <= 0xF8FF)
        return C_OTHER; /* private use: never part of a token */
    switch (utf8proc_category((utf8proc_int32_t)cp)) {
    case UTF8PROC_CATEGORY_ZS: case UTF8PROC_CATEGORY_ZL:
    case UTF8PROC_CATEGORY_ZP:
        return C_SPACE;
    case UTF8PROC_CATEGORY_LU: case UTF8PROC_CATEGORY_LL:
    case UTF8PROC_CATEGORY_LT: case UTF8PROC_CATEGORY_LM:
    case UTF8PROC_CATEGORY_LO: case UTF8PROC_CATEGORY_ND:
    case UTF8PROC_CATEGORY_NL:
        return C_LETTER;
    case UTF8PROC_CATEGORY_MN: case UTF8PROC_CATEGORY_MC:
    case UTF8PROC_CATEGORY_ME:
        return C_MARK;
    default:
        return C_OTHER;
    }
}

/* Decode at w->s[i]; 0 when invalid or at the end. */
static int dec(const work *w, size_t i, uint32_t *cp)
{
    if (i >= w->n)
        return 0;
    return askdocs_utf8_decode((const unsigned char *)w->s + i, w->n - i, cp);
}

/* Class of the character at i (C_OTHER when invalid or at the end). */
static int class_at(const work *w, size_t i, int *len)
{
    uint32_t cp;
    int l = dec(w, i, &cp);
    if (len)
        *len = l > 0 ? l : 1;
    if (l <= 0 || cp == 0)
        return C_OTHER;
    return cp_class(cp);
}

/* First position >= i that is not whitespace. */
static size_t skip_space(const work *w, size_t i)
{
    int l;
    while (i < w->n && class_at(w, i, &l) == C_SPACE)
        i += (size_t)l;
    return i;
}

/* ---------------------------------------------------------- normalising */
/* NFKC + case folding (+ marks stripped when strip) of s[0..n) into
 * w->term; returns its length, 0 when it normalises to nothing or would be
 * longer than NORM_CAP code points. */
static size_t normalise(work *w, const char *s, size_t n, int strip)
{
    utf8proc_option_t o = UTF8PROC_STABLE | UTF8PROC_COMPOSE |
                          UTF8PROC_COMPAT | UTF8PROC_CASEFOLD |
                          UTF8PROC_IGNORE;
    utf8proc_ssize_t r;
    size_t len;
    if (strip)
        o |= UTF8PROC_STRIPMARK;
    r = utf8proc_decompose((const utf8proc_uint8_t *)s, (utf8proc_ssize_t)n,
                           w->cps, NORM_CAP, o);
    /* < NORM_CAP: utf8proc_reencode writes a NUL after the last byte */
    if (r <= 0 || r >= NORM_CAP)
        return 0;
    r = utf8proc_reencode(w->cps, r, o);
    if (r <= 0)
        return 0;
    len = (size_t)r;
    if (len > TOK_MAX_TERM)
        len = askdocs_utf8_floor((const char *)w->cps, TOK_MAX_TERM);
    memcpy(w->term, w->cps, len);
    w->term[len] = '\0';
    return len;
}

/* --------------------------------------------------------------- numbers */
/* Digit value at s[i] (ASCII or fullwidth) and its length; -1 if none. */
static int digit_at(const work *w, size_t i, int *len)
{
    const unsigned char *u = (const unsigned char *)w->s;
    if (i < w->n && u[i] >= '0' && u[i] <= '9') {
        *len = 1;
        return u[i] - '0';
    }
    if (i + 2 < w->n && u[i] == 0xEF && u[i + 1] == 0xBC && u[i + 2] >= 0x90 &&
        u[i + 2] <= 0x99) {
        *len = 3;
        return u[i + 2] - 0x90;
    }
    return -1;
}

static int is_ascii_digit(const work *w, size_t i)
{
    return i < w->n && w->s[i] >= '0' && w->s[i] <= '9';
}

typedef struct num_group {
    size_t start, end;
    char d[NUM_MAX + 1];
    size_t n;
} num_group;

/* Emit digits d[0..n) without leading zeros (keeping one digit). */
static void put_int(work *w, const num_group *g)
{
    size_t k = 0;
    while (k + 1 < g->n && g->d[k] == '0')
        k++;
    put(w, 0, g->d + k, g->n - k, g->start, g->end);
}

/* A number starting at a digit at i; returns the position after it. */
static size_t number(work *w, size_t i)
{
    num_group g[NUM_GROUPS];
    int ng = 0, l;
    size_t p = i;
    for (;;) {
        num_group *c = &g[ng++];
        int v;
        c->start = p;
        c->n = 0;
        while ((v = digit_at(w, p, &l)) >= 0) {
            if (c->n < NUM_MAX)
                c->d[c->n++] = (char)('0' + v);
            p += (size_t)l;
            /* thousands separator: exactly three digits follow */
            if (p < w->n && w->s[p] == ',' && is_ascii_digit(w, p + 1) &&
                is_ascii_digit(w, p + 2) && is_ascii_digit(w, p + 3) &&
                !is_ascii_digit(w, p + 4))
                p++;
        }
        c->end = p;
        if (ng < NUM_GROUPS && p < w->n && w->s[p] == '.' &&
            digit_at(w, p + 1, &l) >= 0)
            p++;
        else
            break;
    }
    if (ng == 2) {
        /* a decimal: "3.50" = "3.5", "3.0" = "3" */
        char t[2 * NUM_MAX + 2];
        size_t k = 0, fl = g[1].n, il;
        while (k + 1 < g[0].n && g[0].d[k] == '0')
            k++;
        il = g[0].n - k;
        memcpy(t, g[0].d + k, il);
        while (fl > 0 && g[1].d[fl - 1] == '0')
            fl--;
        if (fl > 0) {
            t[il] = '.';
            memcpy(t + il + 1, g[1].d, fl);
            il += 1 + fl;
        }
        put(w, 0, t, il, g[0].start, g[1].end);
    } else {
        int k;
        for (k = 0; k < ng; k++)
            put_int(w, &g[k]);
    }
    w->prev = K_NUMBER;
    w->prev_end = p;
    return p;
}

/* ---------------------------------------------------- words (alphabetic) */
static int is_apostrophe(uint32_t cp) { return cp == '\'' || cp == 0x2019; }

static size_t word(work *w, size_t i)
{
    size_t j = i, len, k, o;
    int ncp = 0, ascii = 1, alpha = 1, strip;
    uint32_t first = 0;
    while (j < w->n && ncp < WORD_MAX_CPS) {
        uint32_t cp;
        int l = dec(w, j, &cp), c;
        if (l <= 0 || cp == 0)
            break;
        c = cp_class(cp);
        if (c == C_LETTER || (c == C_MARK && j > i) || (c == C_IGN && j > i)) {
            if (j == i)
                first = cp;
        } else if (c == C_DIGIT && j > i) {
            alpha = 0;
        } else if (is_apostrophe(cp) && j > i &&
                   class_at(w, j + (size_t)l, NULL) == C_LETTER) {
            /* "don't", "contract's": one word */
        } else {
            break;
        }
        if (cp >= 0x80)
            ascii = 0;
        j += (size_t)l;
        ncp++;
    }
    if (j == i)
        return i + 1; /* not reached: the scanner saw a letter */
    if (ascii) {
        len = ASKDOCS_MIN(j - i, (size_t)TOK_MAX_TERM);
        for (k = 0; k < len; k++) {
            char ch = w->s[i + k];
            w->term[k] = (ch >= 'A' && ch <= 'Z') ? (char)(ch + 32) : ch;
        }
        w->term[len] = '\0';
    } else {
        /* Latin, Greek, Cyrillic (and fullwidth Latin): accents are noise */
        strip = first < 0x530 || (first >= 0x1E00 && first <= 0x1FFF) ||
                (first >= 0xFF21 && first <= 0xFF5A);
        len = normalise(w, w->s + i, j - i, strip);
    }
    /* typographic apostrophe -> ASCII, then only a-z and ' stem */
    for (k = 0, o = 0; k < len; k++) {
        if (k + 2 < len && (unsigned char)w->term[k] == 0xE2 &&
            (unsigned char)w->term[k + 1] == 0x80 &&
            (unsigned char)w->term[k + 2] == 0x99) {
            w->term[o++] = '\'';
            k += 2;
        } else {
            w->term[o++] = w->term[k];
        }
    }
    len = o;
    for (k = 0; k < len && alpha; k++)
        if (!((w->term[k] >= 'a' && w->term[k] <= 'z') || w->term[k] == '\''))
            alpha = 0;
    if (alpha && len >= 5)
        len = idx_spelling_fold(w->term, len);
    if (alpha && len >= 3) {
        const sb_symbol *st = sb_stemmer_stem(w->stem,
                                              (const sb_symbol *)w->term,
                                              (int)len);
        int sl;
        if (!st) {
            w->rc = SQLITE_NOMEM;
            return j;
        }
        sl = sb_stemmer_length(w->stem);
        if (sl > 0 && (size_t)sl <= TOK_MAX_TERM) {
            memcpy(w->term, st, (size_t)sl);
            len = (size_t)sl;
        }
    }
    for (k = 0, o = 0; k < len; k++)
        if (w->term[k] != '\'')
            w->term[o++] = w->term[k];
    put(w, 0, w->term, o, i, j);
    w->prev = K_OTHER;
    w->prev_end = j;
    return j;
}

/* ----------------------------------------------- British / American
 * Legal English comes in both spellings ("Authorised Person" in the
 * rulebook, "authorized person" in the question). Both sides of the index
 * fold the regular differences to one form before stemming:
 *   -ize -izes -ized -izing -ization(s) -izer(s) -izable  -> -is...
 *   -yze -yzes -yzed -yzing                               -> -ys...
 *   -or -ors -ored -oring -orable (behavior, labor)       <- -our...
 *   -ter -ters (center, meter)                             <- -tre, -tres
 *   license defense offense pretense judgment program(s)   <- licence ...
 * Words are folded only when 6+ letters long (the -our rule: 6+ before the
 * ending), so "four", "hour", "your" and "size" stay. A fold that maps a
 * word onto a different real word would only merge the two in BM25; none
 * of these rules does for common English. */
static int ends_with(const char *t, size_t n, const char *suf, size_t *at)
{
    size_t l = strlen(suf);
    if (n < l || memcmp(t + n - l, suf, l) != 0)
        return 0;
    *at = n - l;
    return 1;
}

size_t idx_spelling_fold(char *t, size_t n)
{
    static const char *const iz[] = {"izations", "ization", "izable", "izers",
                                     "izing", "izer", "izes", "ized", "ize"};
    static const char *const yz[] = {"yzing", "yzes", "yzed", "yze"};
    static const char *const our[] = {"ourable", "ouring", "oured", "ours",
                                      "our"};
    static const struct { const char *from, *to; } words[] = {
        {"licence", "license"}, {"licences", "licenses"},
        {"defence", "defense"}, {"defences", "defenses"},
        {"offence", "offense"}, {"offences", "offenses"},
        {"pretence", "pretense"}, {"judgement", "judgment"},
        {"judgements", "judgments"}, {"programme", "program"},
        {"programmes", "programs"}, {"acknowledgement", "acknowledgment"},
        {"acknowledgements", "acknowledgments"}};
    size_t i, at;
    if (n < 6)
        return n;
    for (i = 0; i < sizeof(words) / sizeof(words[0]); i++)
        if (strlen(words[i].from) == n && memcmp(t, words[i].from, n) == 0) {
            memcpy(t, words[i].to, strlen(words[i].to));
            return strlen(words[i].to);
        }
    for (i = 0; i < sizeof(iz) / sizeof(iz[0]); i++)
        if (ends_with(t, n, iz[i], &at) && at >= 2) {
            t[at + 1] = 's';
            return n;
        }
    for (i = 0; i < sizeof(yz) / sizeof(yz[0]); i++)
        if (ends_with(t, n, yz[i], &at) && at >= 2) {
            t[at + 1] = 's';
            return n;
        }
    for (i = 0; i < sizeof(our) / sizeof(our[0]); i++)
        if (ends_with(t, n, our[i], &at) && at >= 3) {
            /* drop the u: behaviour -> behavior */
            memmove(t + at + 1, t + at + 2, n - at - 2);
            return n - 1;
        }
    if ((ends_with(t, n, "tre", &at) || ends_with(t, n, "tres", &at)) &&
        at >= 3 && !strchr("aeiou", t[at - 1])) {
        t[at + 1] = 'e';
        t[at + 2] = 'r';
        return n;
    }
    return n;
}

/* ------------------------------------------------------- ideographs, kana */
static size_t ideograph(work *w, size_t i, int l)
{
    size_t len = normalise(w, w->s + i, (size_t)l, 0);
    put(w, 0, w->term, len, i, i + (size_t)l);
    w->prev = K_OTHER;
    w->prev_end = i + (size_t)l;
    return i + (size_t)l;
}

static size_t kana(work *w, size_t i)
{
    char nk[KANA_RUN][16];
    size_t nl[KANA_RUN], at[KANA_RUN + 1];
    int m = 0, k, l;
    size_t j = i;
    while (m < KANA_RUN && class_at(w, j, &l) == C_KANA) {
        size_t len = normalise(w, w->s + j, (size_t)l, 0);
        if (len > sizeof(nk[0]))
            len = 0;
        memcpy(nk[m], w->term, len);
        nl[m] = len;
        at[m++] = j;
        j += (size_t)l;
    }
    at[m] = j;
    for (k = 0; k < m && !w->rc; k++) {
        char t[32];
        size_t tl = nl[k];
        if (m == 1) {
            put(w, 0, nk[0], nl[0], at[0], at[1]);
            break;
        }
        if (k + 1 >= m)
            break;
        memcpy(t, nk[k], nl[k]);
        memcpy(t + tl, nk[k + 1], nl[k + 1]);
        tl += nl[k + 1];
        put(w, 0, t, tl, at[k], at[k + 2]);
    }
    w->prev = K_OTHER;
    w->prev_end = j;
    return j;
}

/* ---------------------------------------------------------------- Hangul */
/* Word separator in the text given to MeCab. Debian's MeCab ignores the
 * space penalty that mecab-ko-dic's dicrc asks for (a mecab-ko patch), so
 * across a plain space it reads "중앙 도서" as 중앙 + 도/JX + 서다. A comma
 * between words (and after the last) keeps every word a word: particles
 * and endings do not start after one, and a word-final 의 stays JKG where
 * the end of the sentence would make it a noun. */
#define SEP ','

/* Build w->span for the Hangul span s[b..e): prefix (context MeCab reads
 * but that is never emitted; "" for none), then the span with whitespace
 * runs as one SEP and conjoining jamo L V [T] composed into the
 * precomposed syllable, then SEP. smap0/smap1 give for each span byte the
 * original start/end of its character(s). Returns the length. */
static size_t span_build(work *w, size_t b, size_t e, const char *prefix)
{
    size_t i = b, o = 0, pl = strlen(prefix);
    for (; o < pl; o++) {
        w->span[o] = prefix[o];
        w->smap0[o] = w->smap1[o] = (uint32_t)b;
    }
    while (i < e && o + 6 <= sizeof(w->span)) {
        uint32_t cp, v = 0, t = 0;
        int l = dec(w, i, &cp), lv = 0, lt = 0, k, nb;
        size_t end;
        char buf[4];
        if (l <= 0) {
            i++;
            continue;
        }
        end = i + (size_t)l;
        if (cp >= 0x1100 && cp <= 0x1112 && end < e &&
            (lv = dec(w, end, &v)) > 0 && v >= 0x1161 && v <= 0x1175) {
            end += (size_t)lv;
            if (end < e && (lt = dec(w, end, &t)) > 0 && t >= 0x11A8 &&
                t <= 0x11C2)
                end += (size_t)lt;
            else
                t = 0x11A7;
            cp = 0xAC00 + ((cp - 0x1100) * 21 + (v - 0x1161)) * 28 +
                 (t - 0x11A7);
        }
        if (cp_class(cp) == C_SPACE) {
            i = end;
            if (o > pl && w->span[o - 1] == SEP)
                continue;
            buf[0] = SEP;
            nb = 1;
        } else {
            nb = (int)utf8proc_encode_char((utf8proc_int32_t)cp,
                                           (utf8proc_uint8_t *)buf);
        }
        for (k = 0; k < nb; k++) {
            w->span[o] = buf[k];
            w->smap0[o] = (uint32_t)i;
            w->smap1[o] = (uint32_t)end;
            o++;
        }
        i = end;
    }
    w->span[o] = SEP;
    w->smap0[o] = w->smap1[o] = (uint32_t)e;
    o++;
    w->span[o] = '\0';
    return o;
}

/* Emit span bytes [a, b) as a term (text from the span, offsets mapped). */
static void put_span(work *w, int flags, size_t a, size_t b)
{
    if (b > a)
        put(w, flags, w->span + a, b - a, w->smap0[a], w->smap1[b - 1]);
}

/* Bigrams of each SEP-separated word of span[a..b); a one-syllable word is
 * a unigram. */
static void bigrams(work *w, size_t a, size_t b)
{
    size_t i = a;
    while (i < b && !w->rc) {
        size_t c0, c1;
        int l0, l1;
        uint32_t cp;
        if (w->span[i] == SEP) {
            i++;
            continue;
        }
        c0 = i;
        l0 = askdocs_utf8_decode((const unsigned char *)w->span + c0, b - c0,
                                 &cp);
        if (l0 <= 0) {
            i++;
            continue;
        }
        c1 = c0 + (size_t)l0;
        if (c1 >= b || w->span[c1] == SEP) {
            put_span(w, 0, c0, c1); /* a one-syllable word */
            i = c1;
            continue;
        }
        /* all bigrams of this word. Offsets: the first bigram covers its
         * two characters, each later one only its second, so that the
         * positions' offsets never overlap (FTS5 3.40's highlight() garbles
         * overlapping ones) and a hit on a word's start marks both */
        while (c1 < b && w->span[c1] != SEP && !w->rc) {
            size_t os;
            l1 = askdocs_utf8_decode((const unsigned char *)w->span + c1,
                                     b - c1, &cp);
            if (l1 <= 0)
                break;
            os = (c0 == i) ? w->smap0[c0] : w->smap0[c1];
            put(w, 0, w->span + c0, c1 + (size_t)l1 - c0, os,
                w->smap1[c1 + (size_t)l1 - 1]);
            c0 = c1;
            c1 += (size_t)l1;
        }
        i = c1;
        while (i < b && w->span[i] != SEP)
            i++;
    }
}

/* mecab-ko-dic feature: POS,semantic,jongseong,reading,type,first POS,
 * last POS,expression. */
typedef struct feat {
    const char *f[8];
    size_t l[8];
} feat;

static void feat_parse(const char *s, feat *ft)
{
    int k;
    for (k = 0; k < 8; k++) {
        const char *c = k < 7 ? strchr(s, ',') : NULL;
        ft->f[k] = s;
        ft->l[k] = c ? (size_t)(c - s) : strlen(s);
        if (!c) {
            for (k++; k < 8; k++) {
                ft->f[k] = "*";
                ft->l[k] = 1;
            }
            return;
        }
        s = c + 1;
    }
}

static int eq(const char *s, size_t n, const char *lit)
{
    return strlen(lit) == n && memcmp(s, lit, n) == 0;
}

enum { P_DROP = 0, P_KEEP, P_BOUND, P_VERB };

/* What to do with a morpheme of POS p[0..n) (the first tag of "VV+EP"). */
static int pos_kind(const char *p, size_t n)
{
    const char *plus = memchr(p, '+', n);
    if (plus)
        n = (size_t)(plus - p);
    if (eq(p, n, "NNG") || eq(p, n, "NNP") || eq(p, n, "NR") ||
        eq(p, n, "NNBC") || eq(p, n, "XR") || eq(p, n, "MAG") ||
        eq(p, n, "SL") || eq(p, n, "SH") || eq(p, n, "SN") ||
        eq(p, n, "UNKNOWN"))
        return P_KEEP;
    if (eq(p, n, "NNB"))
        return P_BOUND;
    if (eq(p, n, "VV") || eq(p, n, "VA"))
        return P_VERB;
    return P_DROP;
}

/* Emit a verb/adjective stem m[0..n) in dictionary form (stem + 다); the
 * light verbs 하 and 되 carry no content. */
static void put_verb(work *w, int flags, const char *m, size_t n,
                     size_t start, size_t end)
{
    char t[TOK_MAX_TERM + 8];
    if (n == 0 || n > TOK_MAX_TERM || eq(m, n, "하") || eq(m, n, "되"))
        return;
    memcpy(t, m, n);
    memcpy(t + n, "다", 3);
    put(w, flags, t, n + 3, start, end);
}

/* One part of an expression such as 국립/NNG/(semantic)+중앙/NNG/(semantic):
 * morph and POS. */
typedef struct part {
    const char *m, *p;
    size_t ml, pl;
} part;

/* Split the expression e[0..n) into at most max parts; returns the count
 * (0 when malformed). */
static int expr_parts(const char *e, size_t n, part *pt, int max)
{
    int np = 0;
    size_t i = 0;
    while (i < n && np < max) {
        size_t j = i, s1, s2;
        /* morph/POS/semantic, parts joined by '+' */
        while (j < n && e[j] != '+')
            j++;
        s1 = i;
        while (s1 < j && e[s1] != '/')
            s1++;
        if (s1 == j || s1 == i)
            return 0;
        s2 = s1 + 1;
        while (s2 < j && e[s2] != '/')
            s2++;
        pt[np].m = e + i;
        pt[np].ml = s1 - i;
        pt[np].p = e + s1 + 1;
        pt[np].pl = s2 - s1 - 1;
        np++;
        i = j + 1;
    }
    return np;
}

/* Analyse one MeCab node: surface span[off..off+len), its feature;
 * bound_ok: a bound noun here is a counter. */
static void morpheme(work *w, const char *feature, size_t off, size_t len,
                     int bound_ok)
{
    feat ft;
    int kind;
    size_t start = w->smap0[off], end = w->smap1[off + len - 1];
    feat_parse(feature, &ft);
    kind = pos_kind(ft.f[0], ft.l[0]);
    if (eq(ft.f[4], ft.l[4], "Compound")) {
        part pt[16];
        size_t ps[16], pe[16], cur = 0;
        int np = expr_parts(ft.f[7], ft.l[7], pt, 16), k, found = 1, done = 0;
        if (np <= 1) {
            if (kind == P_KEEP)
                put_span(w, 0, off, off + len);
            return;
        }
        /* locate the parts in the surface: every position gets offsets of
         * its own (FTS5 3.40's highlight() garbles overlapping ones) */
        for (k = 0; k < np; k++) {
            size_t q;
            for (q = cur; q + pt[k].ml <= len; q++)
                if (memcmp(w->span + off + q, pt[k].m, pt[k].ml) == 0)
                    break;
            if (pt[k].ml == 0 || q + pt[k].ml > len) {
                found = 0;
                break;
            }
            ps[k] = w->smap0[off + q];
            pe[k] = w->smap1[off + q + pt[k].ml - 1];
            cur = q + pt[k].ml;
        }
        if (!found) {
            /* parts not spelled in the surface: all at one position */
            if (kind == P_KEEP)
                put_span(w, 0, off, off + len);
            for (k = 0; k < np && !w->rc; k++)
                if (pos_kind(pt[k].p, pt[k].pl) == P_KEEP)
                    put(w, FTS5_TOKEN_COLOCATED, pt[k].m, pt[k].ml, start,
                        end);
            return;
        }
        for (k = 0; k < np && !w->rc; k++) {
            int pk = pos_kind(pt[k].p, pt[k].pl);
            if (pk == P_VERB)
                put_verb(w, 0, pt[k].m, pt[k].ml, ps[k], pe[k]);
            else if (pk == P_KEEP)
                put(w, 0, pt[k].m, pt[k].ml, ps[k], pe[k]);
            else
                continue;
            if (!done && kind == P_KEEP) /* the whole word, same position */
                put_span(w, FTS5_TOKEN_COLOCATED, off, off + len);
            done = 1;
        }
        if (!done && kind == P_KEEP)
            put_span(w, 0, off, off + len);
        return;
    }
    if ((eq(ft.f[4], ft.l[4], "Inflect") ||
         eq(ft.f[4], ft.l[4], "Preanalysis")) && !eq(ft.f[7], ft.l[7], "*")) {
        /* several content parts of one surface share its position */
        part pt[16];
        int np = expr_parts(ft.f[7], ft.l[7], pt, 16), k, fl = 0;
        for (k = 0; k < np && !w->rc; k++) {
            int pk = pos_kind(pt[k].p, pt[k].pl);
            long before = w->ntok;
            if (pk == P_VERB)
                put_verb(w, fl, pt[k].m, pt[k].ml, start, end);
            else if (pk == P_KEEP || (pk == P_BOUND && bound_ok && k == 0))
                put(w, fl, pt[k].m, pt[k].ml, start, end);
            if (w->ntok > before)
                fl = FTS5_TOKEN_COLOCATED;
        }
        return;
    }
    if (kind == P_VERB)
        put_verb(w, 0, w->span + off, len, start, end);
    else if (kind == P_KEEP || (kind == P_BOUND && bound_ok))
        put_span(w, 0, off, off + len);
}

/* MeCab over span[0..len), whose first pre bytes are context only; falls
 * back to bigrams if MeCab fails. */
static void mecab_span(work *w, size_t pre, size_t len, int bound_ok)
{
    const mecab_node_t *node;
    const char *sent;
    int first = 1;
    mecab_lattice_set_sentence2(w->lat, w->span, len);
    if (!mecab_parse_lattice(w->tagger, w->lat)) {
        bigrams(w, pre, len);
        return;
    }
    sent = mecab_lattice_get_sentence(w->lat);
    for (node = mecab_lattice_get_bos_node(w->lat); node && !w->rc;
         node = node->next) {
        size_t off;
        if (node->stat == MECAB_BOS_NODE)
            continue;
        if (node->stat == MECAB_EOS_NODE)
            break;
        if (!node->surface || !node->feature || node->surface < sent ||
            node->length == 0)
            continue;
        off = (size_t)(node->surface - sent);
        if (off >= len || node->length > len - off || off < pre)
            continue; /* (a node inside the context prefix) */
        morpheme(w, node->feature, off, node->length, first && bound_ok);
        first = 0;
    }
}

static int is_counter(const char *s)
{
    static const char *const counters[] = { "조", "항", "호", "목",
                                            "장", "절", "편", "관" };
    size_t k;
    for (k = 0; k < sizeof(counters) / sizeof(*counters); k++)
        if (memcmp(s, counters[k], 3) == 0)
            return 1;
    return 0;
}

/* A Hangul span starting at i: Hangul words and the whitespace between
 * them. Returns the position after it. */
static size_t hangul(work *w, size_t i)
{
    size_t j = i, wstart = i, pend = i, len;
    int l, after_number = w->prev == K_NUMBER, adjacent;
    adjacent = after_number && w->prev_end == i;
    for (;;) {
        /* one word */
        while (j - i < SPAN_MAX && class_at(w, j, &l) == C_HANGUL &&
               j + (size_t)l - i <= SPAN_MAX)
            j += (size_t)l;
        if (j - i >= SPAN_MAX / 2 || class_at(w, j, &l) != C_SPACE)
            break;
        {
            size_t k = skip_space(w, j);
            if (class_at(w, k, &l) != C_HANGUL)
                break;
            pend = j;
            wstart = k;
            j = k;
        }
    }
    if (j == i)
        return i + 1; /* not reached: the scanner saw Hangul */
    w->prev = K_HANGUL;
    w->prev_end = j;
    /* ordinal 제 before a number: "제12조", "제 12 조" */
    {
        size_t k = skip_space(w, j);
        if (j - wstart == 3 && memcmp(w->s + wstart, "제", 3) == 0 &&
            digit_at(w, k, &l) >= 0) {
            if (wstart == i)
                return j;
            len = pend; /* the span without the last word */
        } else {
            len = j;
        }
    }
    /* a unit counter right after a number is a term of its own */
    {
        size_t b = i;
        uint32_t cp;
        if (after_number && dec(w, i, &cp) == 3 && cp >= 0xAC00 &&
            cp <= 0xD7A3 && is_counter(w->s + i)) {
            put(w, 0, w->s + i, 3, i, i + 3);
            b = i + 3;
            adjacent = 0;
        }
        if (b < len) {
            /* after a number MeCab reads counters and particles right
             * when it sees one ("1호의" = 호 + 의, alone 호의 = goodwill) */
            const char *pre = b > i ? "1조" : adjacent ? "1" : "";
            size_t sl, pl = strlen(pre);
            if (w->a->model) {
                sl = span_build(w, b, len, pre);
                mecab_span(w, pl, sl, adjacent);
            } else {
                sl = span_build(w, b, len, "");
                bigrams(w, 0, sl);
            }
        }
    }
    return j;
}

/* ------------------------------------------------------------ the driver */
#define A_PASSTHRU 1 /* a query string starting with U+E000 is one term */

/* Analyse s[0..n) and emit every term; returns 0 or the first non-zero
 * code of emit (or SQLITE_NOMEM). */
static int analyse(work *w, const char *s, size_t n, int flags, emit_fn emit,
                   void *user)
{
    size_t i = 0;
    if (n > TOK_MAX_INPUT)
        n = askdocs_utf8_floor(s, TOK_MAX_INPUT);
    w->s = s;
    w->n = n;
    w->emit = emit;
    w->user = user;
    w->ntok = 0;
    w->rc = 0;
    w->prev = K_NONE;
    w->prev_end = 0;
    w->emitted = 0;
    if ((flags & A_PASSTHRU) && n >= MARK_LEN &&
        memcmp(s, MARK, MARK_LEN) == 0) {
        put(w, 0, s + MARK_LEN, n - MARK_LEN, 0, n);
        return w->rc == STOP_CAP ? 0 : w->rc;
    }
    while (i < n && !w->rc) {
        uint32_t cp;
        int l = askdocs_utf8_decode((const unsigned char *)s + i, n - i, &cp);
        if (l <= 0 || cp == 0) {
            i++;
            w->prev = K_NONE;
            continue;
        }
        switch (cp_class(cp)) {
        case C_SPACE:
            i += (size_t)l;
            break;
        case C_HANGUL:
            i = hangul(w, i);
            break;
        case C_DIGIT:
            i = number(w, i);
            break;
        case C_LETTER:
            i = word(w, i);
            break;
        case C_HAN:
            i = ideograph(w, i, l);
            break;
        case C_KANA:
            i = kana(w, i);
            break;
        case C_NUMSYM: {
            char t[4];
            int v = enclosed_number(cp), tl = 0;
            if (v >= 10)
                t[tl++] = (char)('0' + v / 10);
            t[tl++] = (char)('0' + v % 10);
            put(w, 0, t, (size_t)tl, i, i + (size_t)l);
            i += (size_t)l;
            w->prev = K_NUMBER;
            w->prev_end = i;
            break;
        }
        default:
            i += (size_t)l;
            w->prev = K_NONE;
            break;
        }
    }
    return w->rc == STOP_CAP ? 0 : w->rc;
}

static askdocs_rc rc_of(int rc)
{
    switch (rc) {
    case 0: case STOP_CAP: case STOP_FULL:
        return ASKDOCS_OK;
    case SQLITE_NOMEM:
        return ASKDOCS_ERR_NOMEM;
    case SQLITE_ABORT:
        return ASKDOCS_ERR_ABORTED;
    default:
        return ASKDOCS_ERR_DB;
    }
}

/* ------------------------------------------------------------- analyser */
askdocs_rc idx_analyzer_create(const char *dicdir, idx_analyzer **out,
                               char *err, size_t errlen)
{
    idx_analyzer *a = NULL;
    char *rcfile = NULL, *sysdic = NULL;
    askdocs_rc rc = ASKDOCS_OK;
    if (err && errlen)
        err[0] = '\0';
    if (!out)
        return ASKDOCS_ERR_INVALID;
    *out = NULL;
    a = askdocs_calloc(1, sizeof(*a));
    if (!a) {
        rc = ASKDOCS_ERR_NOMEM;
        askdocs_snprintf(err, errlen, "out of memory");
        goto done;
    }
    if (dicdir && *dicdir) {
        char a0[] = "askdocs", a1[] = "-r", a3[] = "-d";
        char *argv[5];
        rcfile = askdocs_path_join(dicdir, "dicrc");
        sysdic = askdocs_path_join(dicdir, "sys.dic");
        if (!rcfile || !sysdic) {
            rc = ASKDOCS_ERR_NOMEM;
            askdocs_snprintf(err, errlen, "out of memory");
            goto done;
        }
        if (access(rcfile, R_OK) != 0 || access(sysdic, R_OK) != 0) {
            rc = ASKDOCS_ERR_NOTFOUND;
            askdocs_snprintf(err, errlen,
                             "no readable mecab-ko-dic in %s (dicrc and "
                             "sys.dic needed; scripts/setup.sh mecab "
                             "installs it)", dicdir);
            goto done;
        }
        /* the dictionary's own dicrc as rc file: neither /etc/mecabrc nor
         * ~/.mecabrc (output formats, user dictionaries) apply */
        argv[0] = a0;
        argv[1] = a1;
        argv[2] = rcfile;
        argv[3] = a3;
        argv[4] = (char *)dicdir;
        a->model = mecab_model_new(5, argv);
        if (!a->model) {
            const char *m = mecab_strerror(NULL);
            rc = ASKDOCS_ERR_MODEL;
            askdocs_snprintf(err, errlen, "MeCab cannot load %s: %s", dicdir,
                             m && *m ? m : "unknown error");
            goto done;
        }
        /* a Japanese or broken dictionary loads too: check the tags */
        {
            mecab_t *tg = mecab_model_new_tagger(a->model);
            mecab_lattice_t *lat = mecab_model_new_lattice(a->model);
            const mecab_node_t *nd;
            int ok = 0;
            if (tg && lat) {
                mecab_lattice_set_sentence(lat, "서울");
                if (mecab_parse_lattice(tg, lat))
                    for (nd = mecab_lattice_get_bos_node(lat); nd;
                         nd = nd->next)
                        if (nd->stat != MECAB_BOS_NODE &&
                            nd->stat != MECAB_EOS_NODE && nd->feature &&
                            strncmp(nd->feature, "NNP,", 4) == 0)
                            ok = 1;
            }
            if (lat)
                mecab_lattice_destroy(lat);
            if (tg)
                mecab_destroy(tg);
            if (!ok) {
                rc = ASKDOCS_ERR_MODEL;
                askdocs_snprintf(err, errlen,
                                 "%s is not a mecab-ko-dic dictionary "
                                 "(서울 is not tagged NNP)", dicdir);
                goto done;
            }
        }
    }
    *out = a;
    a = NULL;
done:
    idx_analyzer_free(a);
    askdocs_free(rcfile);
    askdocs_free(sysdic);
    return rc;
}

void idx_analyzer_free(idx_analyzer *a)
{
    if (!a)
        return;
    if (a->model)
        mecab_model_destroy(a->model);
    askdocs_free(a);
}

const char *idx_analyzer_name(const idx_analyzer *a)
{
    return a && a->model ? "mecab-ko-dic" : "bigram";
}

/* ------------------------------------------------------- FTS5 tokenizer */
typedef struct tok_inst {
    idx_analyzer *a;
    work *w;
    int busy;
} tok_inst;

static int fts_create(void *ctx, const char **azArg, int nArg,
                      Fts5Tokenizer **ppOut)
{
    tok_inst *t;
    (void)azArg;
    *ppOut = NULL;
    if (nArg > 0)
        return SQLITE_ERROR; /* "askdocs" takes no options */
    t = askdocs_calloc(1, sizeof(*t));
    if (!t)
        return SQLITE_NOMEM;
    t->a = ctx;
    if (work_new(t->a, &t->w) != ASKDOCS_OK) {
        askdocs_free(t);
        return SQLITE_NOMEM;
    }
    *ppOut = (Fts5Tokenizer *)t;
    return SQLITE_OK;
}

static void fts_delete(Fts5Tokenizer *p)
{
    tok_inst *t = (tok_inst *)p;
    if (!t)
        return;
    work_free(t->w);
    askdocs_free(t);
}

static int fts_tokenize(Fts5Tokenizer *p, void *ctx, int flags,
                        const char *text, int n,
                        int (*xToken)(void *, int, const char *, int, int,
                                      int))
{
    tok_inst *t = (tok_inst *)p;
    work *w = t->w, *tmp = NULL;
    int rc;
    if (!text || n <= 0)
        return SQLITE_OK;
    if (t->busy) {
        /* called again from inside a callback: a private work area */
        if (work_new(t->a, &tmp) != ASKDOCS_OK)
            return SQLITE_NOMEM;
        w = tmp;
    }
    t->busy++;
    rc = analyse(w, text, (size_t)n,
                 (flags & FTS5_TOKENIZE_QUERY) ? A_PASSTHRU : 0, xToken, ctx);
    t->busy--;
    work_free(tmp);
    return rc < 0 ? SQLITE_OK : rc;
}

askdocs_rc idx_analyzer_register(idx_analyzer *a, struct sqlite3 *db)
{
    fts5_api *api = NULL;
    fts5_tokenizer tk;
    askdocs_rc rc;
    if (!a || !db)
        return ASKDOCS_ERR_INVALID;
    tk.xCreate = fts_create;
    tk.xDelete = fts_delete;
    tk.xTokenize = fts_tokenize;
    rc = idx_fts5_api(db, &api);
    if (rc != ASKDOCS_OK)
        return rc;
    if (api->xCreateTokenizer(api, "askdocs", a, &tk, NULL) != SQLITE_OK)
        return ASKDOCS_ERR_DB;
    return ASKDOCS_OK;
}

/* ---------------------------------------------------- terms and queries */
typedef struct terms_ctx {
    int (*cb)(void *user, const char *term, size_t len, size_t start,
              size_t end);
    void *user;
} terms_ctx;

static int terms_emit(void *u, int flags, const char *t, int n, int start,
                      int end)
{
    terms_ctx *c = u;
    (void)flags;
    return c->cb(c->user, t, (size_t)n, (size_t)start, (size_t)end)
               ? SQLITE_ABORT : 0;
}

askdocs_rc idx_analyzer_terms(idx_analyzer *a, const char *s, size_t n,
                              int query,
                              int (*cb)(void *user, const char *term,
                                        size_t len, size_t start, size_t end),
                              void *user)
{
    work *w = NULL;
    terms_ctx c;
    askdocs_rc rc;
    (void)query; /* queries and documents are analysed alike */
    if (!a || !cb || (!s && n))
        return ASKDOCS_ERR_INVALID;
    if (n == 0)
        return ASKDOCS_OK;
    rc = work_new(a, &w);
    if (rc != ASKDOCS_OK)
        return rc;
    c.cb = cb;
    c.user = user;
    rc = rc_of(analyse(w, s, n, 0, terms_emit, &c));
    work_free(w);
    return rc;
}

/* Query-only stop words: kept in the index (phrases, --explain), but as
 * OR'ed query terms they only add cost and noise. Stems, as analysed. */
static const char *const stop_words[] = {
    "a", "an", "and", "are", "as", "at", "be", "by", "for", "from", "has",
    "have", "in", "is", "it", "of", "on", "or", "that", "the", "this", "to",
    "was", "were", "will", "with", "what", "which", "how", "do", "doe",
    "있다", "수", "때", "위하다", "대하다", "의하다", "관하다", "통하다",
    "따르다",
};

typedef struct match_ctx {
    /* a term, or a number and its counter ("3" PAIR_SEP "조") searched as
     * a phrase: "제3조" must not match every 3 and every 조 */
    char t[2 * MATCH_MAX_TERMS][2 * TOK_MAX_TERM + 2];
    unsigned short len[2 * MATCH_MAX_TERMS];
    unsigned char stop[2 * MATCH_MAX_TERMS];
    int n, nstop, ncontent;
    const char *q;            /* the query, for the gap between terms */
    int prev_number;          /* index of the last term if a number, -1 */
    int prev_end;             /* its end offset in q */
} match_ctx;

#define PAIR_SEP '\x01'

static int is_number_term(const char *t, int n)
{
    int i, digit = 0;
    for (i = 0; i < n; i++) {
        if (t[i] >= '0' && t[i] <= '9')
            digit = 1;
        else if (t[i] != '.')
            return 0;
    }
    return digit;
}

/* The legal counters the analyser splits from a number (조 항 호 목 장 절
 * 편 관). */
static int is_counter_term(const char *t, int n)
{
    static const char *const c[] = {"조", "항", "호", "목",
                                    "장", "절", "편", "관"};
    size_t k;
    for (k = 0; k < sizeof(c) / sizeof(*c); k++)
        if (eq(t, (size_t)n, c[k]))
            return 1;
    return 0;
}

static int is_stop(const char *t, size_t n)
{
    size_t k;
    for (k = 0; k < sizeof(stop_words) / sizeof(*stop_words); k++)
        if (eq(t, n, stop_words[k]))
            return 1;
    return 0;
}

static int match_emit(void *u, int flags, const char *t, int n, int start,
                      int end)
{
    match_ctx *m = u;
    int k, st, prev = m->prev_number, prev_end = m->prev_end;
    (void)flags;
    m->prev_number = -1;
    if (n <= 0 || n > TOK_MAX_TERM)
        return 0;
    if (prev >= 0 && prev == m->n - 1 && is_counter_term(t, n) &&
        start >= prev_end) {
        /* "12조", "제 12 조": only blanks between number and counter */
        int g, blank = 1;
        for (g = prev_end; g < start; g++)
            if (m->q[g] != ' ' && m->q[g] != '\t')
                blank = 0;
        /* the pair as a phrase, next to the bare number (which stays:
         * "1047호" may be a room number written without 호 elsewhere) */
        if (blank && m->len[prev] + 1 + n <= 2 * TOK_MAX_TERM + 1 &&
            m->n < 2 * MATCH_MAX_TERMS && m->ncontent < MATCH_MAX_TERMS) {
            char *d = m->t[m->n];
            memcpy(d, m->t[prev], m->len[prev]);
            d[m->len[prev]] = PAIR_SEP;
            memcpy(d + m->len[prev] + 1, t, (size_t)n);
            m->len[m->n] = (unsigned short)(m->len[prev] + 1 + n);
            m->stop[m->n] = 0;
            /* the same pair twice counts once */
            for (k = 0; k < m->n; k++)
                if (m->len[k] == m->len[m->n] &&
                    memcmp(m->t[k], m->t[m->n], m->len[k]) == 0)
                    return 0;
            m->n++;
            if (++m->ncontent >= MATCH_MAX_TERMS)
                return STOP_FULL;
            return 0;
        }
    }
    for (k = 0; k < m->n; k++)
        if (m->len[k] == n && memcmp(m->t[k], t, (size_t)n) == 0)
            return 0;
    st = is_stop(t, (size_t)n);
    if (st ? m->nstop >= MATCH_MAX_TERMS : m->ncontent >= MATCH_MAX_TERMS)
        return 0;
    memcpy(m->t[m->n], t, (size_t)n);
    m->len[m->n] = (unsigned short)n;
    m->stop[m->n] = (unsigned char)st;
    if (!st && is_number_term(t, n)) {
        m->prev_number = m->n;
        m->prev_end = end;
    }
    m->n++;
    if (st)
        m->nstop++;
    else if (++m->ncontent >= MATCH_MAX_TERMS)
        return STOP_FULL;
    return 0;
}

askdocs_rc idx_analyzer_match(idx_analyzer *a, const char *q, size_t n,
                              askdocs_buf *out)
{
    work *w = NULL;
    match_ctx *m = NULL;
    askdocs_rc rc;
    size_t before;
    int k, first = 1, want_stop;
    if (!a || !out || (!q && n))
        return ASKDOCS_ERR_INVALID;
    before = out->len;
    rc = askdocs_buf_append(out, "", 0);
    if (rc != ASKDOCS_OK || n == 0)
        return rc;
    if (n > MATCH_MAX_INPUT)
        n = askdocs_utf8_floor(q, MATCH_MAX_INPUT);
    m = askdocs_calloc(1, sizeof(*m));
    if (!m) {
        rc = ASKDOCS_ERR_NOMEM;
        goto done;
    }
    m->q = q;
    m->prev_number = -1;
    rc = work_new(a, &w);
    if (rc != ASKDOCS_OK)
        goto done;
    rc = rc_of(analyse(w, q, n, 0, match_emit, m));
    if (rc != ASKDOCS_OK)
        goto done;
    /* stop words only count when the query has nothing else */
    want_stop = m->ncontent == 0;
    for (k = 0; k < m->n && rc == ASKDOCS_OK; k++) {
        size_t i;
        if (m->stop[k] != want_stop)
            continue;
        rc = askdocs_buf_puts(out, first ? "\"" MARK : " OR \"" MARK);
        /* a term never holds '"', but FTS5 escaping is cheap insurance;
         * a number-counter pair is the phrase "3" + "조" */
        for (i = 0; i < m->len[k] && rc == ASKDOCS_OK; i++)
            rc = m->t[k][i] == PAIR_SEP
                     ? askdocs_buf_puts(out, "\" + \"" MARK)
                     : askdocs_buf_append(out,
                                          m->t[k][i] == '"' ? "\"\""
                                                            : &m->t[k][i],
                                          m->t[k][i] == '"' ? 2 : 1);
        if (rc == ASKDOCS_OK)
            rc = askdocs_buf_append(out, "\"", 1);
        first = 0;
    }
done:
    if (rc != ASKDOCS_OK && out->data) {
        /* all or nothing: never leave half an expression */
        out->len = before;
        out->data[before] = '\0';
    }
    work_free(w);
    askdocs_free(m);
    return rc;
}
