/*
 * askdocs_retriever.h - BM25, dense and hybrid search over an index, with
 * the query handling that makes any user text safe for FTS5.
 */
#ifndef ASKDOCS_RETRIEVER_H
#define ASKDOCS_RETRIEVER_H

#include <stdint.h>

#include "askdocs_common.h"
#include "askdocs_conf.h"
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
    int rerank_rank;     /* 1-based rank given by the reranker, 0 = none */
    double rerank_score; /* the reranker's score */
} askdocs_hit;

/* ------------------------------------------------------------ reranking */
typedef struct askdocs_reranker askdocs_reranker; /* opaque, see rerank.c */

typedef struct askdocs_reranker_params {
    const char *model_path;  /* local cross-encoder GGUF (rank pooling) */
    const char *url;         /* or a remote /v1/rerank endpoint (wins) */
    const char *api_key;     /* bearer token for url; may be NULL */
    const char *model_name;  /* "model" sent to url; may be NULL */
    int tei;                 /* 1 = url speaks TEI ({"texts"}) */
    int timeout_ms;          /* remote; 0 = 10000 */
    int n_threads;           /* local; 0 = 2 */
    int max_tokens;          /* local, per pair; 0 = 512 */
    int max_doc_bytes;       /* remote, text per passage; 0 = 4096 */
} askdocs_reranker_params;

askdocs_reranker_params askdocs_reranker_default_params(void);
/* Open the reranker p describes; strings are copied. On error err says
 * why (a model that is not a cross-encoder, a bad url) and *out is NULL. */
askdocs_rc askdocs_reranker_open(const askdocs_reranker_params *p,
                                 askdocs_reranker **out, char *err,
                                 size_t errlen);
void askdocs_reranker_free(askdocs_reranker *r); /* NULL is harmless */
const char *askdocs_reranker_errmsg(const askdocs_reranker *r);
/* The reranker of the [rerank] section: *out stays NULL (and ASKDOCS_OK)
 * when neither model nor url is set. */
askdocs_rc askdocs_reranker_from_conf(const askdocs_config *conf,
                                      askdocs_reranker **out, char *err,
                                      size_t errlen);
/* "local", "remote" or "none" (NULL). */
const char *askdocs_reranker_kind(const askdocs_reranker *r);
/* Score (query, docs[i]) for i < n (at most 1000) into scores (higher is
 * more relevant; -inf for a passage a remote reranker left out). */
askdocs_rc askdocs_reranker_score(askdocs_reranker *r, const char *query,
                                  const char *const *docs, int n,
                                  double *scores);

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
    askdocs_reranker *reranker; /* borrowed; NULL = no second stage */
    int rerank_top;      /* fused hits rescored by the reranker; 0 = 20 */
    int parallel;        /* hybrid: 1 (default) = BM25 on a second thread
                            while the query is embedded; 0 = one thread */
} askdocs_retriever_params;

askdocs_retriever_params askdocs_retriever_default_params(void);
/* The defaults overridden by the [search] keys of conf (mode included). */
askdocs_retriever_params askdocs_retriever_params_from_conf(
    const askdocs_config *conf);

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

/* ------------------------------------------------- evidence selection */
typedef struct askdocs_evidence_params {
    int max_passages;      /* 0 = 3 */
    int token_budget;      /* estimated tokens of all passages; 0 = 1500 */
    double mmr_lambda;     /* relevance against novelty, (0, 1]; 1 = plain
                              ranking; 0 = 0.7 */
    double near_duplicate; /* word-set Jaccard from which a hit repeats a
                              better one and is dropped; 0 = 0.8 */
    int join_below;        /* a passage under this many tokens is joined with
                              its neighbours of the same section; -1 = never,
                              0 = joined only when empty */
    int max_join;          /* tokens a joined passage may grow to; 0 = 300 */
    int pool;              /* hits considered; 0 = 4 x max_passages */
} askdocs_evidence_params;

/* Defaults: 3 passages, 1500 tokens, lambda 0.7, near-duplicate 0.8, join
 * below 80 tokens up to 300. */
askdocs_evidence_params askdocs_evidence_default_params(void);
/* The defaults overridden by [generate] evidence, evidence_tokens,
 * evidence_mmr, near_duplicate and join_below. */
askdocs_evidence_params askdocs_evidence_params_from_conf(
    const askdocs_config *conf);

typedef struct askdocs_evidence_item {
    askdocs_chunk_info chunk;    /* the hit (owned) */
    char *text;                  /* what the generator reads: the hit's text,
                                    joined with neighbours (owned) */
    int64_t first_id, last_id;   /* chunks the text spans */
    int page_start, page_end;    /* of the joined text; 0 = not paged */
    int rank;                    /* 1-based rank of the hit in the search */
    double score;                /* the hit's search score */
    int tokens;                  /* estimated tokens of text */
} askdocs_evidence_item;

typedef struct askdocs_evidence {
    askdocs_evidence_item *items; /* owned; n of them, in reading order */
    int n;
    int tokens;                  /* total of the items */
    int dropped_duplicates;      /* hits dropped as near-duplicates */
} askdocs_evidence;

/* Choose the evidence for a question from hits[0..n_hits) (best first),
 * see evidence.c. params may be NULL (defaults). *out is filled and must be
 * released with askdocs_evidence_clear, also after an error. */
askdocs_rc askdocs_evidence_select(askdocs_index *ix, const askdocs_hit *hits,
                                   int n_hits,
                                   const askdocs_evidence_params *params,
                                   askdocs_evidence *out);
void askdocs_evidence_clear(askdocs_evidence *e); /* NULL is harmless */

/* Jaccard similarity of the word sets of a and b, in [0, 1]. */
double askdocs_text_similarity(const char *a, const char *b);

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
