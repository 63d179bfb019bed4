/*
 * retriever.c - query building, BM25 / dense search and reciprocal-rank
 * fusion.
 */
#include "askdocs_retriever.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <utf8proc.h>

#define MAX_QUERY_WORDS 64
#define MAX_CANDIDATES 10000
#define MAX_RERANK 200

struct askdocs_retriever {
    askdocs_index *ix;
    idx_embedder *emb;
    askdocs_retriever_params p;
    float *qvec;
    askdocs_hit *pool;   /* max(k, rerank_top) fused hits before the cut */
    int pool_cap;
    int rerank_warned;   /* a failing reranker is reported once */
    char errmsg[1024];
};

int askdocs_search_mode_parse(const char *s)
{
    if (!s)
        return -1;
    if (strcmp(s, "hybrid") == 0)
        return ASKDOCS_MODE_HYBRID;
    if (strcmp(s, "bm25") == 0)
        return ASKDOCS_MODE_BM25;
    if (strcmp(s, "dense") == 0)
        return ASKDOCS_MODE_DENSE;
    return -1;
}

askdocs_retriever_params askdocs_retriever_default_params(void)
{
    askdocs_retriever_params p;
    memset(&p, 0, sizeof(p));
    p.mode = ASKDOCS_MODE_HYBRID;
    p.k = 10;
    p.candidates = 50;
    p.rrf_k = 60;
    p.bm25_weight = 1.5;
    p.dense_weight = 1.0;
    p.max_query_bytes = 4096;
    p.fusion = ASKDOCS_FUSION_SCORE;
    p.query_weighting = 0;
    p.parallel = 1;
    return p;
}

askdocs_retriever_params askdocs_retriever_params_from_conf(
    const askdocs_config *conf)
{
    askdocs_retriever_params p = askdocs_retriever_default_params();
    int m = askdocs_search_mode_parse(conf->mode);
    if (m >= 0)
        p.mode = (askdocs_search_mode)m;
    p.k = conf->k;
    p.candidates = conf->candidates;
    p.rrf_k = conf->rrf_k;
    p.bm25_weight = conf->bm25_weight;
    p.dense_weight = conf->dense_weight;
    p.fusion = askdocs_fusion_parse(conf->fusion) == ASKDOCS_FUSION_RRF
                   ? ASKDOCS_FUSION_RRF
                   : ASKDOCS_FUSION_SCORE;
    p.query_weighting = conf->query_weighting;
    p.max_query_bytes = conf->max_query_bytes;
    p.rerank_top = conf->rerank_top;
    p.parallel = conf->search_parallel;
    return p;
}

/* ------------------------------------------------------------- fusion */
typedef struct fused {
    int64_t id;
    double score;
    int ra, rb;
    double sa, sb;
} fused;

static int cmp_fused(const void *x, const void *y)
{
    const fused *a = x, *b = y;
    if (a->score != b->score)
        return a->score < b->score ? 1 : -1;
    /* ties: the better best rank first, then the lower id */
    {
        int ba = a->ra && (!a->rb || a->ra < a->rb) ? a->ra : a->rb;
        int bb = b->ra && (!b->rb || b->ra < b->rb) ? b->ra : b->rb;
        if (ba != bb)
            return ba - bb;
    }
    return a->id < b->id ? -1 : a->id > b->id;
}

int askdocs_fusion_parse(const char *s)
{
    if (!s)
        return -1;
    if (strcmp(s, "rrf") == 0)
        return ASKDOCS_FUSION_RRF;
    if (strcmp(s, "score") == 0)
        return ASKDOCS_FUSION_SCORE;
    return -1;
}

/* Merge two ranked lists into f (caller frees); contribution of list x at
 * rank i with score s is contrib(x, i, s). */
static int merge_lists(const int64_t *a, const double *a_scores, int na,
                       const int64_t *b, const double *b_scores, int nb,
                       fused **out)
{
    fused *f;
    int n = 0, i, j;
    *out = NULL;
    if (na < 0)
        na = 0;
    if (nb < 0)
        nb = 0;
    f = askdocs_calloc((size_t)(na + nb) + 1, sizeof(fused));
    if (!f)
        return -1;
    for (i = 0; i < na; i++) {
        f[n].id = a[i];
        f[n].ra = i + 1;
        f[n].sa = a_scores ? a_scores[i] : 0;
        n++;
    }
    for (i = 0; i < nb; i++) {
        for (j = 0; j < na; j++)
            if (f[j].id == b[i])
                break;
        if (j == na) {
            j = n++;
            f[j].id = b[i];
        }
        f[j].rb = i + 1;
        f[j].sb = b_scores ? b_scores[i] : 0;
    }
    *out = f;
    return n;
}

static int emit_fused(fused *f, int n, askdocs_hit *hits, int k)
{
    int i, out;
    qsort(f, (size_t)n, sizeof(fused), cmp_fused);
    out = n < k ? n : k;
    for (i = 0; i < out; i++) {
        hits[i].chunk_id = f[i].id;
        hits[i].score = f[i].score;
        hits[i].bm25_rank = f[i].ra;
        hits[i].dense_rank = f[i].rb;
        hits[i].bm25_score = f[i].sa;
        hits[i].dense_score = f[i].sb;
    }
    return out;
}

int askdocs_score_fuse(const int64_t *a, const double *a_scores, int na,
                       double wa, const int64_t *b, const double *b_scores,
                       int nb, double wb, askdocs_hit *hits, int k)
{
    fused *f;
    double amin = 0, amax = 0, bmin = 0, bmax = 0;
    int n, i, out;
    n = merge_lists(a, a_scores, na, b, b_scores, nb, &f);
    if (n < 0)
        return 0;
    for (i = 0; i < na; i++) {
        double v = a_scores ? a_scores[i] : 0;
        if (i == 0 || v < amin)
            amin = v;
        if (i == 0 || v > amax)
            amax = v;
    }
    for (i = 0; i < nb; i++) {
        double v = b_scores ? b_scores[i] : 0;
        if (i == 0 || v < bmin)
            bmin = v;
        if (i == 0 || v > bmax)
            bmax = v;
    }
    for (i = 0; i < n; i++) {
        double s = 0;
        if (f[i].ra)
            s += wa * (amax > amin ? (f[i].sa - amin) / (amax - amin) : 1.0);
        if (f[i].rb)
            s += wb * (bmax > bmin ? (f[i].sb - bmin) / (bmax - bmin) : 1.0);
        f[i].score = s;
    }
    out = emit_fused(f, n, hits, k);
    askdocs_free(f);
    return out;
}

static int is_digit_c(char c) { return c >= '0' && c <= '9'; }
static int is_upper_c(char c) { return c >= 'A' && c <= 'Z'; }
static int is_alpha_c(char c) { return is_upper_c(c) || (c >= 'a' && c <= 'z'); }

int askdocs_query_weights(const char *q, size_t n, double *bm25_mult,
                          double *dense_mult)
{
    int found = 0;
    size_t i = 0;
    *bm25_mult = 1.0;
    *dense_mult = 1.0;
    while (i < n) {
        size_t s, e, k;
        int digits = 0, alphas = 0, uppers = 0, hangul = 0;
        if (q[i] == '"' || (n - i >= 3 && (memcmp(q + i, "\xE2\x80\x9C", 3) == 0 ||
                                           memcmp(q + i, "\xE3\x80\x8C", 3) == 0))) {
            /* a quoted phrase: "..." “...” 「...」 */
            size_t j = i + (q[i] == '"' ? 1 : 3);
            while (j < n && q[j] != '"' &&
                   !(n - j >= 3 && (memcmp(q + j, "\xE2\x80\x9D", 3) == 0 ||
                                    memcmp(q + j, "\xE3\x80\x8D", 3) == 0)))
                j++;
            if (j < n && j > i + 2)
                found |= 1;
        }
        /* one whitespace-separated word */
        while (i < n && (q[i] == ' ' || q[i] == '\t' || q[i] == '\n'))
            i++;
        s = i;
        while (i < n && q[i] != ' ' && q[i] != '\t' && q[i] != '\n')
            i++;
        e = i;
        for (k = s; k < e; k++) {
            digits += is_digit_c(q[k]);
            alphas += is_alpha_c(q[k]);
            uppers += is_upper_c(q[k]);
            hangul += (unsigned char)q[k] >= 0xEA && (unsigned char)q[k] <= 0xED;
        }
        if (e == s)
            continue;
        /* 제12조, 12조, 제3항: a number next to a statute unit */
        if (digits && hangul) {
            const char *units[] = {"조", "항", "호", "장", "절", "편", "관"};
            size_t u;
            for (u = 0; u < sizeof(units) / sizeof(units[0]); u++)
                if (memmem(q + s, e - s, units[u], 3)) {
                    const char *p = memmem(q + s, e - s, units[u], 3);
                    if (p > q + s && is_digit_c(p[-1]))
                        found |= 2;
                }
        }
        /* Section 4.2, Article 5, § 3, Rule 2.1: the word before a number */
        if (digits && !alphas && s > 0) {
            static const char *const kw[] = {"section", "article", "rule",
                                             "clause", "chapter", "part",
                                             "schedule", "paragraph", "§"};
            size_t b = s, w;
            while (b > 0 && q[b - 1] == ' ')
                b--;
            w = b;
            while (w > 0 && q[w - 1] != ' ')
                w--;
            for (k = 0; k < sizeof(kw) / sizeof(kw[0]); k++)
                if (b - w == strlen(kw[k]) &&
                    strncasecmp(q + w, kw[k], b - w) == 0)
                    found |= 2;
            if (memchr(q + s, '.', e - s) && digits >= 2)
                found |= 2; /* 4.2, 1.2.3 */
        }
        if (q[s] == '\xC2' && e - s >= 2 && (unsigned char)q[s + 1] == 0xA7)
            found |= 2; /* § */
        /* figures: 1,234 / 12% / $5 / 3.5m */
        if (digits >= 2 && (memchr(q + s, ',', e - s) || memchr(q + s, '%', e - s) ||
                            memchr(q + s, '$', e - s) || digits >= 4))
            found |= 4;
        /* codes: letters and digits mixed (ISO27001, AB-123, Rule 9A) */
        if (digits && alphas && !hangul)
            found |= 8;
        /* defined terms and acronyms in capitals (GDPR, FSRA, "Client") */
        if (uppers >= 2 && uppers == alphas && alphas >= 2)
            found |= 16;
    }
    if (found) {
        *bm25_mult = 2.0;
    } else {
        *dense_mult = 1.0;
    }
    return found;
}

int askdocs_rrf_fuse(const int64_t *a, const double *a_scores, int na,
                     double wa, const int64_t *b, const double *b_scores,
                     int nb, double wb, int rrf_k, askdocs_hit *hits, int k)
{
    fused *f;
    int n, i, out;
    n = merge_lists(a, a_scores, na, b, b_scores, nb, &f);
    if (n < 0)
        return 0;
    for (i = 0; i < n; i++)
        f[i].score = (f[i].ra ? wa / (double)(rrf_k + f[i].ra) : 0) +
                     (f[i].rb ? wb / (double)(rrf_k + f[i].rb) : 0);
    out = emit_fused(f, n, hits, k);
    askdocs_free(f);
    return out;
}

/* ------------------------------------------------------------ search */
/* The BM25 half of a search. In hybrid mode it runs on a thread of its
 * own while the caller embeds the query: SQLite's work and llama.cpp's
 * then overlap on two cores. The index handle is used by this half only
 * until it is joined (the dense half touches it after the join). */
typedef struct bm25_job {
    askdocs_index *ix;
    const char *q;
    size_t qlen;
    const askdocs_filter *f;
    int limit;
    int64_t *ids;
    double *scores;
    askdocs_buf *match;
    int n;
    askdocs_rc rc;
} bm25_job;

static void *bm25_job_run(void *arg)
{
    bm25_job *j = arg;
    j->n = 0;
    j->rc = askdocs_index_match(j->ix, j->q, j->qlen, j->match);
    if (j->rc == ASKDOCS_OK && j->match->len > 0)
        j->rc = askdocs_index_bm25(j->ix, j->match->data, j->f, j->limit,
                                   j->ids, j->scores, &j->n);
    return NULL;
}

askdocs_rc askdocs_retriever_create(askdocs_index *ix, idx_embedder *emb,
                                    const askdocs_retriever_params *p,
                                    askdocs_retriever **out)
{
    askdocs_retriever *r;
    *out = NULL;
    r = askdocs_calloc(1, sizeof(*r));
    if (!r)
        return ASKDOCS_ERR_NOMEM;
    r->ix = ix;
    r->emb = emb;
    r->p = p ? *p : askdocs_retriever_default_params();
    if (r->p.k <= 0)
        r->p.k = 10;
    if (r->p.candidates <= 0)
        r->p.candidates = 50;
    if (r->p.candidates < r->p.k)
        r->p.candidates = r->p.k;
    if (r->p.candidates > MAX_CANDIDATES)
        r->p.candidates = MAX_CANDIDATES;
    if (r->p.rrf_k <= 0)
        r->p.rrf_k = 60;
    if (r->p.max_query_bytes <= 0)
        r->p.max_query_bytes = 4096;
    if (r->p.rerank_top <= 0)
        r->p.rerank_top = 20;
    if (r->p.rerank_top > MAX_RERANK)
        r->p.rerank_top = MAX_RERANK;
    r->pool_cap = r->p.k;
    if (r->p.reranker && r->p.rerank_top > r->pool_cap)
        r->pool_cap = r->p.rerank_top;
    if (r->pool_cap > r->p.candidates)
        r->p.candidates = r->pool_cap;
    r->pool = askdocs_calloc((size_t)r->pool_cap, sizeof(askdocs_hit));
    if (emb)
        r->qvec = askdocs_malloc((size_t)idx_embedder_dim(emb) * sizeof(float));
    if (!r->pool || (emb && !r->qvec)) {
        askdocs_retriever_free(r);
        return ASKDOCS_ERR_NOMEM;
    }
    *out = r;
    return ASKDOCS_OK;
}

void askdocs_retriever_free(askdocs_retriever *r)
{
    if (!r)
        return;
    askdocs_free(r->qvec);
    askdocs_free(r->pool);
    askdocs_free(r);
}

const char *askdocs_retriever_errmsg(const askdocs_retriever *r)
{
    return r && r->errmsg[0] ? r->errmsg : "no error";
}

static int cmp_rerank(const void *a, const void *b)
{
    const askdocs_hit *x = a, *y = b;
    if (x->rerank_score != y->rerank_score)
        return x->rerank_score < y->rerank_score ? 1 : -1;
    return x->score < y->score ? 1 : x->score > y->score ? -1 : 0;
}

/* Reorder hits[0..n) by the reranker's scores. On any failure the fused
 * order stays (the reranker is never required) and a warning is logged
 * once per retriever. */
static void rerank(askdocs_retriever *r, const char *query, askdocs_hit *hits,
                   int n)
{
    askdocs_chunk_info *info = askdocs_calloc((size_t)n, sizeof(*info));
    const char **texts = askdocs_calloc((size_t)n, sizeof(char *));
    double *sc = askdocs_calloc((size_t)n, sizeof(double));
    askdocs_rc rc = (!info || !texts || !sc) ? ASKDOCS_ERR_NOMEM : ASKDOCS_OK;
    int i;
    for (i = 0; rc == ASKDOCS_OK && i < n; i++) {
        if (askdocs_index_get_chunk(r->ix, hits[i].chunk_id, &info[i]) !=
            ASKDOCS_OK)
            memset(&info[i], 0, sizeof(info[i]));
        texts[i] = info[i].text ? info[i].text : "";
    }
    if (rc == ASKDOCS_OK)
        rc = askdocs_reranker_score(r->p.reranker, query, texts, n, sc);
    if (rc == ASKDOCS_OK) {
        for (i = 0; i < n; i++)
            hits[i].rerank_score = sc[i];
        qsort(hits, (size_t)n, sizeof(askdocs_hit), cmp_rerank);
        for (i = 0; i < n; i++)
            hits[i].rerank_rank = i + 1;
    } else if (!r->rerank_warned) {
        askdocs_log(1, "reranking skipped, keeping the fused order: %s",
                    rc == ASKDOCS_ERR_NOMEM
                        ? "out of memory"
                        : askdocs_reranker_errmsg(r->p.reranker));
        r->rerank_warned = 1;
    }
    for (i = 0; info && i < n; i++)
        askdocs_chunk_info_clear(&info[i]);
    askdocs_free(info);
    askdocs_free(texts);
    askdocs_free(sc);
}

askdocs_rc askdocs_retriever_search(askdocs_retriever *r, const char *query,
                                    const askdocs_filter *f,
                                    askdocs_hit *hits, int *n_hits)
{
    /* a single list needs only what it returns; fusion needs candidates */
    int c = r->p.mode == ASKDOCS_MODE_HYBRID ? r->p.candidates : r->pool_cap;
    int nb = 0, nd = 0, i;
    int64_t *bid = NULL, *did = NULL;
    double *bsc = NULL, *dsc = NULL;
    char *clean = NULL;
    size_t qlen;
    askdocs_buf match;
    askdocs_rc rc = ASKDOCS_OK;
    int want_bm25 = r->p.mode != ASKDOCS_MODE_DENSE;
    int want_dense = r->p.mode != ASKDOCS_MODE_BM25;
    int blank = 1, threaded = 0;
    bm25_job job;
    pthread_t th;

    *n_hits = 0;
    r->errmsg[0] = '\0';
    memset(&job, 0, sizeof(job));
    askdocs_buf_init(&match, 64 * 1024);
    if (!query)
        query = "";
    qlen = strlen(query);
    if (qlen > (size_t)r->p.max_query_bytes)
        qlen = askdocs_utf8_floor(query, (size_t)r->p.max_query_bytes);
    clean = askdocs_utf8_clean(query, qlen, &qlen);
    bid = askdocs_malloc((size_t)c * sizeof(int64_t));
    did = askdocs_malloc((size_t)c * sizeof(int64_t));
    bsc = askdocs_malloc((size_t)c * sizeof(double));
    dsc = askdocs_malloc((size_t)c * sizeof(double));
    if (!clean || !bid || !did || !bsc || !dsc) {
        rc = ASKDOCS_ERR_NOMEM;
        goto out;
    }
    for (i = 0; i < (int)qlen; i++)
        if (clean[i] != ' ' && clean[i] != '\n' && clean[i] != '\t')
            blank = 0;
    if (want_dense && !r->emb && askdocs_index_dim(r->ix) > 0) {
        askdocs_snprintf(r->errmsg, sizeof(r->errmsg),
                         "dense search needs an embedding model");
        rc = ASKDOCS_ERR_MODEL;
        goto out;
    }
    /* an index without vectors ([embed] model = none): BM25 only */
    if (want_dense && (blank || !r->emb || askdocs_index_dim(r->ix) <= 0))
        want_dense = 0;
    job.ix = r->ix;
    job.q = clean;
    job.qlen = qlen;
    job.f = f;
    job.limit = c;
    job.ids = bid;
    job.scores = bsc;
    job.match = &match;
    if (want_bm25 && want_dense && r->p.parallel &&
        pthread_create(&th, NULL, bm25_job_run, &job) == 0)
        threaded = 1;
    else if (want_bm25)
        bm25_job_run(&job);
    if (want_dense) {
        const char *t = clean;
        rc = idx_embedder_embed(r->emb, &t, 1, 1, r->qvec);
        if (rc != ASKDOCS_OK)
            askdocs_snprintf(r->errmsg, sizeof(r->errmsg),
                             "embedding the query: %s",
                             idx_embedder_errmsg(r->emb));
    }
    if (threaded)
        pthread_join(th, NULL);
    if (want_bm25 && job.rc != ASKDOCS_OK) {
        rc = job.rc;
        askdocs_snprintf(r->errmsg, sizeof(r->errmsg), "BM25: %s",
                         askdocs_index_errmsg(r->ix));
        goto out;
    }
    nb = job.n;
    if (rc != ASKDOCS_OK)
        goto out;
    if (want_dense) {
        rc = askdocs_index_dense(r->ix, r->qvec, f, c, did, dsc, &nd);
        if (rc != ASKDOCS_OK) {
            askdocs_snprintf(r->errmsg, sizeof(r->errmsg), "dense: %s",
                             askdocs_index_errmsg(r->ix));
            goto out;
        }
    }
    {
        askdocs_hit *pool = r->pool;
        int cap = r->pool_cap, n = 0;
        switch (r->p.mode) {
        case ASKDOCS_MODE_BM25:
            for (i = 0; i < nb && i < cap; i++) {
                memset(&pool[i], 0, sizeof(pool[i]));
                pool[i].chunk_id = bid[i];
                pool[i].score = bsc[i];
                pool[i].bm25_rank = i + 1;
                pool[i].bm25_score = bsc[i];
            }
            n = i;
            break;
        case ASKDOCS_MODE_DENSE:
            for (i = 0; i < nd && i < cap; i++) {
                memset(&pool[i], 0, sizeof(pool[i]));
                pool[i].chunk_id = did[i];
                pool[i].score = dsc[i];
                pool[i].dense_rank = i + 1;
                pool[i].dense_score = dsc[i];
            }
            n = i;
            break;
        default: {
            double wb = r->p.bm25_weight, wd = r->p.dense_weight, mb = 1,
                   md = 1;
            if (r->p.query_weighting)
                askdocs_query_weights(clean, qlen, &mb, &md);
            wb *= mb;
            wd *= md;
            if (r->p.fusion == ASKDOCS_FUSION_SCORE)
                n = askdocs_score_fuse(bid, bsc, nb, wb, did, dsc, nd, wd, pool,
                                       cap);
            else
                n = askdocs_rrf_fuse(bid, bsc, nb, wb, did, dsc, nd, wd,
                                     r->p.rrf_k, pool, cap);
        }
        }
        if (r->p.reranker && n > 1)
            rerank(r, clean, pool, n < r->p.rerank_top ? n : r->p.rerank_top);
        for (i = 0; i < n && i < r->p.k; i++)
            hits[i] = pool[i];
        *n_hits = i;
    }
out:
    askdocs_buf_free(&match);
    askdocs_free(clean);
    askdocs_free(bid);
    askdocs_free(did);
    askdocs_free(bsc);
    askdocs_free(dsc);
    return rc;
}
