/*
 * store.h - internals of the data directory shared by store.c and sync.c.
 */
#ifndef IDX_STORE_H
#define IDX_STORE_H

#include <sqlite3.h>

#include "idx_internal.h"

typedef struct FaissIndex_H FaissIndex;

/* Kinds of vector index (vectors.c). Flat is exact and removes in place;
 * HNSW and IVF-PQ are approximate: their hits are re-scored exactly from
 * the embeddings table, and removed vectors stay in them as tombstones
 * (ids without an embedding row) until the next rebuild. */
enum { IDX_VEC_AUTO = -1, IDX_VEC_FLAT = 0, IDX_VEC_HNSW = 1,
       IDX_VEC_IVFPQ = 2 };

typedef struct idx_vector_params {
    int kind;                /* IDX_VEC_AUTO or a fixed kind */
    int64_t hnsw_min, ivfpq_min; /* auto thresholds in vectors */
    int hnsw_m, ef_search, nprobe, refine;
} idx_vector_params;

/* Defaults, then the [index]/[search] keys of conf (may be NULL). */
void idx_vector_params_from_conf(idx_vector_params *vp,
                                 const askdocs_config *conf);
/* "flat", "hnsw", "ivfpq" (or "auto"). */
const char *idx_vec_kind_name(int kind);

struct askdocs_index {
    sqlite3 *db;
    idx_analyzer *analyzer; /* BM25 analysis; outlives db */
    FaissIndex *vectors;   /* NULL until first needed */
    int vec_kind;          /* IDX_VEC_* of ix->vectors */
    idx_vector_params vp;  /* from the configuration at open */
    double heading_weight; /* BM25 weight of the heading path column */
    int bm25_prune;        /* 1 = askdocs_bm25(), 0 = FTS5's bm25() */
    idx_df_cache *dfc;     /* common terms' document frequencies (rank.c) */
    idx_rank_params rank;  /* BM25 k1 and b of askdocs_bm25 */
    int64_t vectors_gen;   /* generation the in-memory vectors match */
    int dim;               /* 0 = no vectors yet */
    int writable;
    int lock_fd;           /* writer lock (flock), -1 for readers */
    askdocs_rc rc;
    char embed_model[256];
    char dir[4096];
    char db_path[4200];
    char errmsg[1024];
};

void idx_set_error(askdocs_index *ix, askdocs_rc rc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
askdocs_rc idx_exec(askdocs_index *ix, const char *sql);
askdocs_rc idx_meta_get(askdocs_index *ix, const char *key, char *val,
                        size_t n);
askdocs_rc idx_meta_set(askdocs_index *ix, const char *key, const char *val);
int64_t idx_generation(askdocs_index *ix);
/* Record (first document) or check the embedding model of the index. */
askdocs_rc idx_record_embedder(askdocs_index *ix, const char *model_path,
                               int dim);
/* Make ix->vectors match the database (load the file or rebuild). */
askdocs_rc idx_vectors_ready(askdocs_index *ix);
/* Write ix->vectors as vectors-<vectors_gen>.faiss atomically. */
askdocs_rc idx_vectors_save(askdocs_index *ix);
askdocs_rc idx_vectors_add(askdocs_index *ix, int n, const float *vecs,
                           const int64_t *ids);
askdocs_rc idx_vectors_remove(askdocs_index *ix, int n, const int64_t *ids);
/* Writers, after a sync: rebuild the vector index if its kind no longer
 * suits its size, or tombstones exceed a tenth of it. */
askdocs_rc idx_vectors_maintain(askdocs_index *ix);
/* Vectors held (tombstones included) or -1 if not loaded; the kind. */
int64_t idx_vectors_total(const askdocs_index *ix);
void idx_vectors_free(askdocs_index *ix);
/* DIR/vectors-<gen>.faiss */
void idx_vector_path(const askdocs_index *ix, int64_t gen, char *dst,
                     size_t n);

/* shared helpers of store.c */
askdocs_rc idx_db_error(askdocs_index *ix, const char *what);
const char *idx_base_name(const char *p);
/* Filters: idx_filter_sql appends " AND ..." conditions on documents d
 * with parameters numbered from param on; idx_filter_bind binds them in
 * the same order. */
int idx_filter_active(const askdocs_filter *f);
askdocs_rc idx_check_filter(askdocs_index *ix, const askdocs_filter *f);
askdocs_rc idx_filter_sql(const askdocs_filter *f, askdocs_buf *sql,
                          int param);
void idx_filter_bind(sqlite3_stmt *st, const askdocs_filter *f, int param);

#endif /* IDX_STORE_H */
