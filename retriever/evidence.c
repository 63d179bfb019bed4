/*
 * evidence.c - from ranked hits to the passages a generator reads.
 *
 *   1. load the best `pool` hits;
 *   2. drop near-duplicates: a hit whose word set overlaps an earlier,
 *      better hit's by Jaccard >= near_duplicate (the same clause copied
 *      into two contracts, a page repeated in two filings);
 *   3. choose up to max_passages by maximal marginal relevance:
 *      lambda * relevance - (1 - lambda) * (highest similarity to a passage
 *      already chosen), so the second passage adds something new;
 *   4. join a short hit (fewer than join_below tokens: a definition, one
 *      clause) with the chunks before and after it in the same section,
 *      without repeating the chunk overlap, up to max_join tokens;
 *   5. keep the total within token_budget (the first passage always fits,
 *      cut at a sentence if it must be).
 *
 * Neighbours come from the hit's own document, so they pass the same
 * access rule as the hit.
 */
#include "askdocs_retriever.h"

#include <stdlib.h>
#include <string.h>

#define MAX_POOL 200
#define MAX_WORDS 1024       /* distinct words hashed per passage */
#define MAX_OVERLAP 4096     /* bytes searched for repeated chunk overlap */
#define MAX_PASSAGE_BYTES (256 * 1024)

askdocs_evidence_params askdocs_evidence_default_params(void)
{
    askdocs_evidence_params p;
    memset(&p, 0, sizeof(p));
    p.max_passages = 3;
    p.token_budget = 1500;
    p.mmr_lambda = 0.7;
    p.near_duplicate = 0.8;
    p.join_below = 80;
    p.max_join = 300;
    p.pool = 0;
    return p;
}

askdocs_evidence_params askdocs_evidence_params_from_conf(
    const askdocs_config *conf)
{
    askdocs_evidence_params p = askdocs_evidence_default_params();
    p.max_passages = conf->evidence;
    p.token_budget = conf->evidence_tokens;
    p.mmr_lambda = conf->evidence_mmr;
    p.near_duplicate = conf->near_duplicate;
    p.join_below = conf->join_below;
    return p;
}

/* ------------------------------------------------------------ word sets */
typedef struct word_set {
    uint64_t h[MAX_WORDS];
    int n;
} word_set;

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* Distinct words of s (ASCII letters and digits folded to lower case; any
 * byte >= 0x80 counts as a letter, so Hangul words stay whole). */
static void words_of(const char *s, word_set *w)
{
    const unsigned char *p = (const unsigned char *)(s ? s : "");
    int i, j;
    w->n = 0;
    while (*p && w->n < MAX_WORDS) {
        uint64_t h = 1469598103934665603ULL;
        int len = 0;
        while (*p && !(*p >= 0x80 || (*p >= '0' && *p <= '9') ||
                       (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z')))
            p++;
        while (*p >= 0x80 || (*p >= '0' && *p <= '9') ||
               (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z')) {
            unsigned char c = *p++;
            if (c >= 'A' && c <= 'Z')
                c = (unsigned char)(c - 'A' + 'a');
            h = (h ^ c) * 1099511628211ULL;
            len++;
        }
        if (len > 0)
            w->h[w->n++] = h;
    }
    qsort(w->h, (size_t)w->n, sizeof(uint64_t), cmp_u64);
    for (i = 0, j = 0; i < w->n; i++)
        if (j == 0 || w->h[i] != w->h[j - 1])
            w->h[j++] = w->h[i];
    w->n = j;
}

double askdocs_text_similarity(const char *a, const char *b)
{
    word_set *x = malloc(sizeof(word_set)), *y = malloc(sizeof(word_set));
    double s = 0;
    if (x && y) {
        int i = 0, j = 0, both = 0;
        words_of(a, x);
        words_of(b, y);
        while (i < x->n && j < y->n) {
            if (x->h[i] == y->h[j]) {
                both++;
                i++;
                j++;
            } else if (x->h[i] < y->h[j]) {
                i++;
            } else {
                j++;
            }
        }
        if (x->n + y->n - both > 0)
            s = (double)both / (double)(x->n + y->n - both);
    }
    free(x);
    free(y);
    return s;
}

static double jaccard(const word_set *x, const word_set *y)
{
    int i = 0, j = 0, both = 0;
    while (i < x->n && j < y->n) {
        if (x->h[i] == y->h[j]) {
            both++;
            i++;
            j++;
        } else if (x->h[i] < y->h[j]) {
            i++;
        } else {
            j++;
        }
    }
    return x->n + y->n - both > 0
               ? (double)both / (double)(x->n + y->n - both)
               : 0;
}

/* ------------------------------------------------------------- joining */
static int same_section(const askdocs_chunk_info *a, const askdocs_chunk_info *b)
{
    const char *x = a->heading ? a->heading : "";
    const char *y = b->heading ? b->heading : "";
    return strcmp(x, y) == 0;
}

/* a followed by b without the text they share (chunks repeat the last
 * sentences of the previous one). Returns a new string or NULL. */
static char *join_text(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b), l, max, ov = 0;
    char *r;
    max = la < lb ? la : lb;
    if (max > MAX_OVERLAP)
        max = MAX_OVERLAP;
    for (l = max; l >= 8; l--)
        if (a[la - l] == b[0] && memcmp(a + la - l, b, l) == 0) {
            ov = l;
            break;
        }
    if (la + lb + 2 > MAX_PASSAGE_BYTES)
        return NULL;
    r = askdocs_malloc(la + lb + 2);
    if (!r)
        return NULL;
    memcpy(r, a, la);
    if (ov == 0) {
        r[la] = '\n';
        memcpy(r + la + 1, b, lb + 1);
    } else {
        memcpy(r + la, b + ov, lb - ov + 1);
    }
    return r;
}

static int tokens_of(const char *s)
{
    return s ? askdocs_estimate_tokens(s, strlen(s)) : 0;
}

/* Cut s in place to about max tokens, at a sentence end if one is near. */
static void cut_to_tokens(char *s, int max)
{
    size_t lo = 0, hi = strlen(s), mid, i;
    if (tokens_of(s) <= max)
        return;
    while (lo + 1 < hi) { /* longest prefix within max tokens */
        mid = (lo + hi) / 2;
        if (askdocs_estimate_tokens(s, mid) <= max)
            lo = mid;
        else
            hi = mid;
    }
    while (lo > 0 && ((unsigned char)s[lo] & 0xC0) == 0x80)
        lo--; /* a character boundary */
    for (i = lo; i > lo / 2; i--)
        if (s[i - 1] == '.' || s[i - 1] == '\n' || s[i - 1] == '?' ||
            s[i - 1] == '!') {
            lo = i;
            break;
        }
    s[lo] = '\0';
}

static int was_chosen(const askdocs_evidence *e, int64_t id)
{
    int i;
    for (i = 0; i < e->n; i++)
        if (e->items[i].chunk.id == id || e->items[i].first_id == id ||
            e->items[i].last_id == id)
            return 1;
    return 0;
}

static int in_ids(const int64_t *ids, int n, int64_t id)
{
    int i;
    for (i = 0; i < n; i++)
        if (ids[i] == id)
            return 1;
    return 0;
}

/* Grow item it with same-section neighbours (after it, then before it)
 * while it stays within max tokens. */
static askdocs_rc join_neighbours(askdocs_index *ix, askdocs_evidence *e,
                                  askdocs_evidence_item *it,
                                  const int64_t *chosen, int n_chosen,
                                  int max)
{
    int dir, ahead = 0, behind = 0;
    for (dir = 1; dir >= -1; dir -= 2) {
        while (it->tokens < max && (dir > 0 ? ahead : behind) < 2) {
            askdocs_chunk_info nb;
            char *t;
            int off = dir > 0 ? ahead + 1 : -(behind + 1);
            askdocs_rc rc = askdocs_index_get_neighbor(ix, &it->chunk, off, &nb);
            if (rc == ASKDOCS_ERR_NOTFOUND)
                break;
            if (rc != ASKDOCS_OK)
                return rc;
            t = NULL;
            if (same_section(&it->chunk, &nb) && !was_chosen(e, nb.id) &&
                !in_ids(chosen, n_chosen, nb.id) &&
                it->tokens + tokens_of(nb.text) <= max)
                t = dir > 0 ? join_text(it->text, nb.text)
                            : join_text(nb.text, it->text);
            if (!t) {
                askdocs_chunk_info_clear(&nb);
                break;
            }
            askdocs_free(it->text);
            it->text = t;
            it->tokens = tokens_of(t);
            if (dir > 0) {
                it->last_id = nb.id;
                ahead++;
                if (nb.page_end > it->page_end)
                    it->page_end = nb.page_end;
            } else {
                it->first_id = nb.id;
                behind++;
                if (nb.page_start > 0 &&
                    (it->page_start == 0 || nb.page_start < it->page_start))
                    it->page_start = nb.page_start;
            }
            askdocs_chunk_info_clear(&nb);
        }
    }
    return ASKDOCS_OK;
}

/* ------------------------------------------------------------ selection */
askdocs_rc askdocs_evidence_select(askdocs_index *ix, const askdocs_hit *hits,
                                   int n_hits,
                                   const askdocs_evidence_params *params,
                                   askdocs_evidence *out)
{
    askdocs_evidence_params p = params ? *params
                                       : askdocs_evidence_default_params();
    askdocs_chunk_info *cand = NULL;
    word_set *ws = NULL;
    double *rel = NULL, lo = 0, hi = 0;
    int *state = NULL; /* 0 open, 1 chosen, 2 dropped */
    int *hit_of = NULL; /* candidate -> index in hits */
    int64_t *chosen_ids = NULL;
    int pool, n = 0, i, j, used = 0;
    askdocs_rc rc = ASKDOCS_OK;

    memset(out, 0, sizeof(*out));
    if (p.max_passages <= 0)
        p.max_passages = 3;
    if (p.token_budget <= 0)
        p.token_budget = 1500;
    if (p.mmr_lambda <= 0 || p.mmr_lambda > 1)
        p.mmr_lambda = 0.7;
    if (p.near_duplicate <= 0)
        p.near_duplicate = 0.8;
    if (p.max_join <= 0)
        p.max_join = 300;
    pool = p.pool > 0 ? p.pool : 4 * p.max_passages;
    if (pool > n_hits)
        pool = n_hits;
    if (pool > MAX_POOL)
        pool = MAX_POOL;
    if (pool <= 0)
        return ASKDOCS_OK;
    cand = askdocs_calloc((size_t)pool, sizeof(*cand));
    ws = askdocs_malloc((size_t)pool * sizeof(*ws));
    rel = askdocs_calloc((size_t)pool, sizeof(double));
    state = askdocs_calloc((size_t)pool, sizeof(int));
    hit_of = askdocs_calloc((size_t)pool, sizeof(int));
    chosen_ids = askdocs_calloc((size_t)pool, sizeof(int64_t));
    out->items = askdocs_calloc((size_t)p.max_passages, sizeof(*out->items));
    if (!cand || !ws || !rel || !state || !hit_of || !chosen_ids ||
        !out->items) {
        rc = ASKDOCS_ERR_NOMEM;
        goto out;
    }
    for (i = 0; i < pool; i++) {
        askdocs_rc r = askdocs_index_get_chunk(ix, hits[i].chunk_id, &cand[n]);
        if (r == ASKDOCS_ERR_NOTFOUND)
            continue; /* removed since the search */
        if (r != ASKDOCS_OK) {
            rc = r;
            goto out;
        }
        words_of(cand[n].text, &ws[n]);
        hit_of[n] = i;
        rel[n] = hits[i].score;
        if (n == 0 || rel[n] < lo)
            lo = rel[n];
        if (n == 0 || rel[n] > hi)
            hi = rel[n];
        state[n] = 0;
        /* near-duplicate of a better hit: drop */
        for (j = 0; j < n; j++)
            if (state[j] != 2 && jaccard(&ws[j], &ws[n]) >= p.near_duplicate) {
                state[n] = 2;
                out->dropped_duplicates++;
                break;
            }
        n++;
    }
    /* relevance in [0, 1]: min-max of the scores, rank order if all tie */
    for (i = 0; i < n; i++)
        rel[i] = hi > lo ? (rel[i] - lo) / (hi - lo)
                         : 1.0 - (double)i / (double)(n > 1 ? n : 1);
    while (out->n < p.max_passages) {
        int best = -1;
        double best_v = 0;
        for (i = 0; i < n; i++) {
            double sim = 0, v;
            if (state[i] != 0)
                continue;
            for (j = 0; j < n; j++)
                if (state[j] == 1) {
                    double s = jaccard(&ws[i], &ws[j]);
                    if (s > sim)
                        sim = s;
                }
            v = p.mmr_lambda * rel[i] - (1 - p.mmr_lambda) * sim;
            if (best < 0 || v > best_v) {
                best = i;
                best_v = v;
            }
        }
        if (best < 0)
            break;
        state[best] = 1;
        chosen_ids[used++] = cand[best].id;
        {
            askdocs_evidence_item *it = &out->items[out->n];
            int t = tokens_of(cand[best].text);
            if (out->n > 0 && out->tokens + t > p.token_budget) {
                state[best] = 2; /* does not fit; a shorter one may */
                continue;
            }
            it->chunk = cand[best];
            memset(&cand[best], 0, sizeof(cand[best]));
            it->text = askdocs_strdup(it->chunk.text ? it->chunk.text : "");
            if (!it->text) {
                askdocs_chunk_info_clear(&it->chunk);
                rc = ASKDOCS_ERR_NOMEM;
                goto out;
            }
            it->first_id = it->last_id = it->chunk.id;
            it->page_start = it->chunk.page_start;
            it->page_end = it->chunk.page_end;
            it->rank = hit_of[best] + 1;
            it->score = hits[hit_of[best]].score;
            it->tokens = t;
            out->n++;
            if (it->tokens > p.token_budget) {
                cut_to_tokens(it->text, p.token_budget);
                it->tokens = tokens_of(it->text);
            }
            out->tokens += it->tokens;
        }
    }
    /* join short passages with their section neighbours, in budget */
    for (i = 0; i < out->n && p.join_below >= 0; i++) {
        askdocs_evidence_item *it = &out->items[i];
        int room, before = it->tokens;
        if (it->tokens >= p.join_below)
            continue;
        room = p.token_budget - out->tokens + it->tokens;
        rc = join_neighbours(ix, out, it, chosen_ids, used,
                             room < p.max_join ? room : p.max_join);
        if (rc != ASKDOCS_OK)
            goto out;
        out->tokens += it->tokens - before;
    }
out:
    for (i = 0; cand && i < pool; i++)
        askdocs_chunk_info_clear(&cand[i]);
    askdocs_free(cand);
    askdocs_free(ws);
    askdocs_free(rel);
    askdocs_free(state);
    askdocs_free(hit_of);
    askdocs_free(chosen_ids);
    if (rc != ASKDOCS_OK)
        askdocs_evidence_clear(out);
    return rc;
}

void askdocs_evidence_clear(askdocs_evidence *e)
{
    int i;
    if (!e)
        return;
    for (i = 0; i < e->n; i++) {
        askdocs_chunk_info_clear(&e->items[i].chunk);
        askdocs_free(e->items[i].text);
    }
    askdocs_free(e->items);
    memset(e, 0, sizeof(*e));
}
