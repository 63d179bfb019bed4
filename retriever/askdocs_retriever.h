/*
 * askdocs_retriever.h - BM25, dense and hybrid search over an index, with
 * the query handling that makes any user text safe for FTS5.
 */
#ifndef ASKDOCS_RETRIEVER_H
#define ASKDOCS_RETRIEVER_H

#include <stdint.h>

#include "askdocs_common.h"
#include "askdocs_indexer.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum askdocs_search_mode {
    ASKDOCS_MODE_HYBRID = 0,
    ASKDOCS_MODE_BM25 = 1,
    ASKDOCS_MODE_DENSE = 2
} askdocs_search_mode;

/* "hybrid" / "bm25" / "dense" to a mode; -1 for anything else. */
int askdocs_search_mode_parse(const char *s);

typedef enum askdocs_fusion {
    ASKDOCS_FUSION_RRF = 0,  /* weighted reciprocal-rank fusion */
    ASKDOCS_FUSION_SCORE = 1 /* weighted sum of min-max normalised scores */
} askdocs_fusion;

/* "rrf" / "score" to a fusion; -1 for anything else. */
int askdocs_fusion_parse(const char *s);

typedef struct askdocs_hit {
    int64_t chunk_id;
    double score;        /* fused score (hybrid) or the list's own score */
    int bm25_rank;       /* 1-based, 0 = not in the BM25 list */
    int dense_rank;      /* 1-based, 0 = not in the dense list */
    double bm25_score;   /* -bm25(): higher is better */
    double dense_score;  /* cosine similarity */
} askdocs_hit;

typedef struct askdocs_retriever_params {
    askdocs_search_mode mode;
    int k;               /* hits returned; 0 = 10 */
    int candidates;      /* hits taken from each list; 0 = max(50, k) */
    int rrf_k;           /* fusion constant; 0 = 60 */
    double bm25_weight;  /* weights of the lists in fusion (1.5 and 1) */
    double dense_weight;
    int fusion;          /* ASKDOCS_FUSION_SCORE (default) or _RRF */
    int query_weighting; /* 1 = adapt the weights to the query (see
                            askdocs_query_weights) */
    int max_query_bytes; /* longer queries are cut; 0 = 4096 */
} askdocs_retriever_params;

askdocs_retriever_params askdocs_retriever_default_params(void);

typedef struct askdocs_retriever askdocs_retriever;

/* ix and emb are borrowed and must outlive the retriever; emb may be NULL
 * for BM25-only search. *out is freed with askdocs_retriever_free. */
askdocs_rc askdocs_retriever_create(askdocs_index *ix, idx_embedder *emb,
                                    const askdocs_retriever_params *p,
                                    askdocs_retriever **out);
void askdocs_retriever_free(askdocs_retriever *r);
const char *askdocs_retriever_errmsg(const askdocs_retriever *r);

/* Search for query (any bytes; invalid UTF-8 is repaired). hits must hold
 * p->k entries; *n_hits gets the number written, best first. f may be NULL.
 * An empty or punctuation-only query gives no hits and ASKDOCS_OK. */
askdocs_rc askdocs_retriever_search(askdocs_retriever *r, const char *query,
                                    const askdocs_filter *f,
                                    askdocs_hit *hits, int *n_hits);

/* ---------------------------------------------- pure helpers (tested) */
/* Multipliers of the BM25 and dense weights for query q[0..n): queries
 * with exact handles - quoted phrases, article or section numbers (제12조,
 * Section 4.2, Article 5, §), figures, codes mixing letters and digits,
 * defined terms in capitals - lean on BM25; plain questions without any
 * lean on dense. Returns a bit mask of what was found (for --explain):
 * 1 quote, 2 article/section number, 4 figure, 8 code, 16 capitals. */
int askdocs_query_weights(const char *q, size_t n, double *bm25_mult,
                          double *dense_mult);

/* Normalised-score fusion: each list's scores min-max scaled to [0, 1]
 * (a hit absent from a list gets 0 from it), weighted and summed. */
int askdocs_score_fuse(const int64_t *a, const double *a_scores, int na,
                       double wa, const int64_t *b, const double *b_scores,
                       int nb, double wb, askdocs_hit *hits, int k);

/* Reciprocal-rank fusion of two ranked id lists into hits (at most k),
 * weight w/(rrf_k + rank) per list. Returns the number of hits written. */
int askdocs_rrf_fuse(const int64_t *a, const double *a_scores, int na,
                     double wa, const int64_t *b, const double *b_scores,
                     int nb, double wb, int rrf_k, askdocs_hit *hits, int k);

#ifdef __cplusplus
}
#endif
#endif /* ASKDOCS_RETRIEVER_H */
