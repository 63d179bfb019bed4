/*
 * retriever.c - query building, BM25 / dense search and reciprocal-rank
 * fusion.
 */
#include "askdocs_retriever.h"

#include <stdlib.h>
#include <string.h>

#include <utf8proc.h>

#define MAX_QUERY_WORDS 64
#define MAX_CANDIDATES 10000

struct askdocs_retriever {
    askdocs_index *ix;
    idx_embedder *emb;
    askdocs_retriever_params p;
    float *qvec;
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
    p.bm25_weight = 1.0;
    p.dense_weight = 1.0;
    p.max_query_bytes = 4096;
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

int askdocs_rrf_fuse(const int64_t *a, const double *a_scores, int na,
                     double wa, const int64_t *b, const double *b_scores,
                     int nb, double wb, int rrf_k, askdocs_hit *hits, int k)
{
    fused *f;
    int n = 0, i, j, out;
    if (na < 0)
        na = 0;
    if (nb < 0)
        nb = 0;
    f = askdocs_calloc((size_t)(na + nb) + 1, sizeof(fused));
    if (!f)
        return 0;
    for (i = 0; i < na; i++) {
        f[n].id = a[i];
        f[n].ra = i + 1;
        f[n].sa = a_scores ? a_scores[i] : 0;
        f[n].score = wa / (double)(rrf_k + i + 1);
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
        f[j].score += wb / (double)(rrf_k + i + 1);
    }
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
    askdocs_free(f);
    return out;
}

/* ------------------------------------------------------------ search */
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
    if (emb) {
        r->qvec = askdocs_malloc((size_t)idx_embedder_dim(emb) * sizeof(float));
        if (!r->qvec) {
            askdocs_free(r);
            return ASKDOCS_ERR_NOMEM;
        }
    }
    *out = r;
    return ASKDOCS_OK;
}

void askdocs_retriever_free(askdocs_retriever *r)
{
    if (!r)
        return;
    askdocs_free(r->qvec);
    askdocs_free(r);
}

const char *askdocs_retriever_errmsg(const askdocs_retriever *r)
{
    return r && r->errmsg[0] ? r->errmsg : "no error";
}

askdocs_rc askdocs_retriever_search(askdocs_retriever *r, const char *query,
                                    const askdocs_filter *f,
                                    askdocs_hit *hits, int *n_hits)
{
    int c = r->p.candidates, nb = 0, nd = 0, i;
    int64_t *bid = NULL, *did = NULL;
    double *bsc = NULL, *dsc = NULL;
    char *clean = NULL;
    size_t qlen;
    askdocs_buf match;
    askdocs_rc rc = ASKDOCS_OK;
    int want_bm25 = r->p.mode != ASKDOCS_MODE_DENSE;
    int want_dense = r->p.mode != ASKDOCS_MODE_BM25;

    *n_hits = 0;
    r->errmsg[0] = '\0';
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
    if (want_bm25) {
        rc = askdocs_index_match(r->ix, clean, qlen, &match);
        if (rc == ASKDOCS_OK && match.len > 0)
            rc = askdocs_index_bm25(r->ix, match.data, f, c, bid, bsc, &nb);
        if (rc != ASKDOCS_OK) {
            askdocs_snprintf(r->errmsg, sizeof(r->errmsg), "BM25: %s",
                             askdocs_index_errmsg(r->ix));
            goto out;
        }
    }
    if (want_dense) {
        int blank = 1;
        for (i = 0; i < (int)qlen; i++)
            if (clean[i] != ' ' && clean[i] != '\n' && clean[i] != '\t')
                blank = 0;
        if (!r->emb && askdocs_index_dim(r->ix) > 0) {
            askdocs_snprintf(r->errmsg, sizeof(r->errmsg),
                             "dense search needs an embedding model");
            rc = ASKDOCS_ERR_MODEL;
            goto out;
        }
        /* an index without vectors ([embed] model = none): BM25 only */
        if (!blank && r->emb && askdocs_index_dim(r->ix) > 0) {
            const char *t = clean;
            rc = idx_embedder_embed(r->emb, &t, 1, 1, r->qvec);
            if (rc != ASKDOCS_OK) {
                askdocs_snprintf(r->errmsg, sizeof(r->errmsg),
                                 "embedding the query: %s",
                                 idx_embedder_errmsg(r->emb));
                goto out;
            }
            rc = askdocs_index_dense(r->ix, r->qvec, f, c, did, dsc, &nd);
            if (rc != ASKDOCS_OK) {
                askdocs_snprintf(r->errmsg, sizeof(r->errmsg), "dense: %s",
                                 askdocs_index_errmsg(r->ix));
                goto out;
            }
        }
    }
    switch (r->p.mode) {
    case ASKDOCS_MODE_BM25:
        for (i = 0; i < nb && i < r->p.k; i++) {
            memset(&hits[i], 0, sizeof(hits[i]));
            hits[i].chunk_id = bid[i];
            hits[i].score = bsc[i];
            hits[i].bm25_rank = i + 1;
            hits[i].bm25_score = bsc[i];
        }
        *n_hits = i;
        break;
    case ASKDOCS_MODE_DENSE:
        for (i = 0; i < nd && i < r->p.k; i++) {
            memset(&hits[i], 0, sizeof(hits[i]));
            hits[i].chunk_id = did[i];
            hits[i].score = dsc[i];
            hits[i].dense_rank = i + 1;
            hits[i].dense_score = dsc[i];
        }
        *n_hits = i;
        break;
    default:
        *n_hits = askdocs_rrf_fuse(bid, bsc, nb, r->p.bm25_weight, did, dsc,
                                   nd, r->p.dense_weight, r->p.rrf_k, hits,
                                   r->p.k);
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
