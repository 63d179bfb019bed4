/*
 * askdocs_indexer.h - the index of one data directory and how documents get
 * into it.
 *
 * A data directory holds:
 *   askdocs.db           SQLite (WAL): documents, chunks, an FTS5 table over
 *                        chunks, the stored embeddings, meta (schema version,
 *                        embedding model, vector generation)
 *   vectors-<gen>.faiss  FAISS IndexIDMap over chunk ids, written atomically;
 *                        <gen> must equal meta.vector_generation, otherwise
 *                        the vectors are rebuilt from the stored embeddings.
 *
 * SQLite is the source of truth. Each document is replaced in one
 * transaction, so readers never see half a document, and a crash at any
 * moment leaves a database that opens; the FAISS file is derived data.
 */
#ifndef ASKDOCS_INDEXER_H
#define ASKDOCS_INDEXER_H

#include <signal.h>
#include <stdint.h>

#include "askdocs_common.h"
#include "askdocs_conf.h"
#include "embed.h"

#ifdef __cplusplus
extern "C" {
#endif

#define ASKDOCS_SCHEMA_VERSION 2

typedef struct askdocs_index askdocs_index;

/* Open (writable=1: create if missing) the index in data_dir. conf (may be
 * NULL = defaults; borrowed) gives the BM25 tokenizer and Korean dictionary
 * for a new index; an existing index keeps the tokenizer it was created
 * with. On failure err says what is wrong and what to do; *out is NULL.
 * The caller closes the handle with askdocs_index_close. A database of
 * another schema version gives ASKDOCS_ERR_SCHEMA. */
askdocs_rc askdocs_index_open(const char *data_dir, int writable,
                              const askdocs_config *conf,
                              askdocs_index **out, char *err, size_t errlen);
void askdocs_index_close(askdocs_index *ix); /* NULL is harmless */
/* Last error of ix; never NULL, valid until the next call on ix. */
const char *askdocs_index_errmsg(const askdocs_index *ix);

/* ---------------------------------------------------------- ingestion */
typedef enum askdocs_file_status {
    ASKDOCS_FILE_ADDED,
    ASKDOCS_FILE_UPDATED,
    ASKDOCS_FILE_UNCHANGED,
    ASKDOCS_FILE_REMOVED,
    ASKDOCS_FILE_FAILED,
    ASKDOCS_FILE_MOVED           /* same content found at a new path */
} askdocs_file_status;

typedef struct askdocs_ingest_event {
    const char *path;            /* file path as given/walked (borrowed) */
    askdocs_file_status status;
    int n_chunks;                /* chunks written for this file */
    const char *error;           /* FAILED: what went wrong (borrowed) */
    const char *warning;         /* ADDED/UPDATED: a note on the extraction,
                                    e.g. pages without text, or NULL */
    int files_done, files_total; /* progress */
    double bytes_done, bytes_total;
} askdocs_ingest_event;

typedef void (*askdocs_progress_cb)(const askdocs_ingest_event *ev,
                                    void *user);

typedef struct askdocs_ingest_stats {
    int files, added, updated, unchanged, removed, failed, moved;
    int64_t chunks_written; /* chunks of added/updated files */
    int64_t bytes;          /* bytes of files read */
    double seconds, embed_seconds;
} askdocs_ingest_stats;

/* Bring the index in line with paths (files or directories, walked
 * recursively): add new files, re-index changed ones (content hash), skip
 * unchanged ones, and remove documents under a given directory whose file
 * is gone. A file that fails is reported through cb and counted; the others
 * go on. emb embeds the chunks (borrowed). Returns ASKDOCS_OK unless the
 * index itself could not be written. */
askdocs_rc askdocs_index_sync(askdocs_index *ix, const askdocs_config *conf,
                              idx_embedder *emb, const char *const *paths,
                              int n_paths, askdocs_progress_cb cb, void *user,
                              askdocs_ingest_stats *stats);

/* Keep the index in sync with paths until *stop becomes non-zero (e.g.
 * set by a signal handler): one sync now, then another each time inotify
 * reports changes under the paths and they have been quiet for 1 s. New
 * sub-folders are watched as they appear. round_cb (may be NULL) gets the
 * stats of every round. */
typedef void (*askdocs_round_cb)(const askdocs_ingest_stats *st, void *user);
askdocs_rc askdocs_index_watch(askdocs_index *ix, const askdocs_config *conf,
                               idx_embedder *emb, const char *const *paths,
                               int n_paths, askdocs_progress_cb cb,
                               askdocs_round_cb round_cb, void *user,
                               volatile sig_atomic_t *stop);

/* ------------------------------------------------------------ reading */
typedef struct askdocs_chunk_info {
    int64_t id, doc_id;
    int ordinal;
    int page_start, page_end;  /* 0 = not paged */
    int char_start, char_end;  /* code point offsets in the document text */
    char *doc;                 /* path relative to the indexed folder */
    char *title, *heading, *text, *collection;
} askdocs_chunk_info;

/* Load chunk id into *out (strings owned by *out: release with
 * askdocs_chunk_info_clear). ASKDOCS_ERR_NOTFOUND if it does not exist. */
askdocs_rc askdocs_index_get_chunk(askdocs_index *ix, int64_t id,
                                   askdocs_chunk_info *out);
void askdocs_chunk_info_clear(askdocs_chunk_info *c);
/* The chunk delta places after c (before it if negative) in the same
 * document, into *out as askdocs_index_get_chunk does; ASKDOCS_ERR_NOTFOUND
 * past either end. */
askdocs_rc askdocs_index_get_neighbor(askdocs_index *ix,
                                      const askdocs_chunk_info *c, int delta,
                                      askdocs_chunk_info *out);
/* Estimated model tokens of s[0..n) (about one per short Latin word, more
 * for long words, numbers and Hangul): what token budgets are counted in. */
int askdocs_estimate_tokens(const char *s, size_t n);

/* Which documents a search may see. NULL or empty fields = everything;
 * all given conditions must hold. Strings are borrowed. */
typedef struct askdocs_filter {
    const char *const *collections; /* readable collections */
    int n_collections;
    const char *const *types;       /* document types: "pdf", "hwp", ... */
    int n_types;
    const char *lang;               /* "ko" or "en" */
    const char *date_from, *date_to; /* ISO dates: a date found in the
                                        document lies in [from, to] */
    const char *path_prefix;        /* the path relative to the indexed
                                       folder starts with it */
    /* The caller's access rule, on top of the conditions above: with
     * restricted = 1 only documents in one of the readable collections
     * exist for this search (none when n_readable = 0). It is applied in
     * the SQL of every list before its top-k cut. */
    int restricted;
    const char *const *readable;
    int n_readable;
} askdocs_filter;

/* Append to out (capped buffer of the caller) the safe FTS5 MATCH
 * expression for the user query q[0..n), analysed like the documents.
 * Empty when the query has no searchable terms. */
askdocs_rc askdocs_index_match(askdocs_index *ix, const char *q, size_t n,
                               askdocs_buf *out);
/* Append to out (space-separated) the analysed terms of query that text
 * holds, in query order, at most 64: what BM25 matched, for --explain. */
askdocs_rc askdocs_index_matched_terms(askdocs_index *ix, const char *query,
                                       const char *text, askdocs_buf *out);
/* "mecab-ko-dic" or "bigram": the BM25 tokenizer of the index. */
const char *askdocs_index_tokenizer(const askdocs_index *ix);

/* BM25 over the FTS5 table: match is a complete, already safe FTS5 query
 * expression (see the retriever's query builder). Writes at most limit ids
 * and scores (higher is better) into caller arrays; *n_out gets the count. */
askdocs_rc askdocs_index_bm25(askdocs_index *ix, const char *match,
                              const askdocs_filter *f, int limit,
                              int64_t *ids, double *scores, int *n_out);
/* Inner-product search of a unit vector of askdocs_index_dim() floats. */
askdocs_rc askdocs_index_dense(askdocs_index *ix, const float *q,
                               const askdocs_filter *f, int limit,
                               int64_t *ids, double *scores, int *n_out);
/* Dimension and model name of the stored vectors (0 / "" before the first
 * document); the model name is borrowed from ix. */
int askdocs_index_dim(const askdocs_index *ix);
const char *askdocs_index_embed_model(const askdocs_index *ix);
askdocs_rc askdocs_index_counts(askdocs_index *ix, int64_t *docs,
                                int64_t *chunks);

/* What the index holds; with check=1 also whether its parts agree (SQLite
 * quick_check, FTS5 integrity-check (waits for a busy writer), chunks per
 * document, embeddings per chunk, vectors per embedding). */
typedef struct askdocs_index_status_info {
    int64_t documents, chunks, embeddings, pages, bytes;
    int64_t vectors;            /* in the vector index; -1 = not loaded */
    char vector_index[16];      /* check: "flat", "hnsw" or "ivfpq" */
    int64_t generation;         /* meta.vector_generation */
    int vector_file_current;    /* vectors-<generation>.faiss exists */
    int dim;
    char tokenizer[32];
    char embed_model[256];
    int consistent;             /* check: 1 = every test passed */
    char problem[512];          /* check: the first failure */
} askdocs_index_status_info;

askdocs_rc askdocs_index_status(askdocs_index *ix, int check,
                                askdocs_index_status_info *out);

/* Check that the embedder emb matches the vectors stored in ix (same model
 * file name and dimension); a message in the index's errmsg otherwise. */
askdocs_rc askdocs_index_check_embedder(askdocs_index *ix,
                                        const char *model_path, int dim);

#ifdef __cplusplus
}
#endif
#endif /* ASKDOCS_INDEXER_H */
