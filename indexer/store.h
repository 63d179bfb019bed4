/*
 * store.h - internals of the data directory shared by store.c and sync.c.
 */
#ifndef IDX_STORE_H
#define IDX_STORE_H

#include <sqlite3.h>

#include "idx_internal.h"

typedef struct FaissIndex_H FaissIndex;

struct askdocs_index {
    sqlite3 *db;
    idx_analyzer *analyzer; /* BM25 analysis; outlives db */
    FaissIndex *vectors;   /* NULL until first needed */
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

#endif /* IDX_STORE_H */
