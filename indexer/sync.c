/*
 * sync.c - bring the index in line with files on disk: walk the given
 * paths, skip unchanged files (content hash), extract, chunk and embed the
 * others, replace each document in one transaction, remove documents whose
 * file is gone, then write the vector file for the new generation.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "store.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define MAX_FILES 1000000
#define MAX_WALK_DEPTH 64

typedef struct file_ent {
    char *path;  /* absolute */
    char *rel;   /* relative to root */
    char *root;  /* borrowed from the roots list */
    int64_t size, mtime; /* mtime in nanoseconds */
} file_ent;

typedef struct file_list {
    file_ent *v;
    int n, cap;
} file_list;

/* a run that wrote at least 1/this of the chunks merges the BM25 index */
#define FTS_OPTIMIZE_FRACTION 8

static void file_list_free(file_list *l)
{
    int i;
    for (i = 0; i < l->n; i++) {
        askdocs_free(l->v[i].path);
        askdocs_free(l->v[i].rel);
    }
    askdocs_free(l->v);
    memset(l, 0, sizeof(*l));
}

static askdocs_rc file_list_add(file_list *l, const char *path,
                                const char *rel, char *root,
                                const struct stat *st)
{
    file_ent *e;
    if (l->n == l->cap) {
        int ncap = l->cap ? l->cap * 2 : 256;
        file_ent *nv;
        if (l->n >= MAX_FILES)
            return ASKDOCS_ERR_TOOBIG;
        nv = askdocs_realloc(l->v, (size_t)ncap * sizeof(*nv));
        if (!nv)
            return ASKDOCS_ERR_NOMEM;
        l->v = nv;
        l->cap = ncap;
    }
    e = &l->v[l->n];
    e->path = askdocs_strdup(path);
    e->rel = askdocs_strdup(rel);
    if (!e->path || !e->rel) {
        askdocs_free(e->path);
        askdocs_free(e->rel);
        return ASKDOCS_ERR_NOMEM;
    }
    e->root = root;
    e->size = st->st_size;
    e->mtime = (int64_t)st->st_mtim.tv_sec * 1000000000 + st->st_mtim.tv_nsec;
    l->n++;
    return ASKDOCS_OK;
}

static int cmp_file(const void *a, const void *b)
{
    return strcmp(((const file_ent *)a)->path, ((const file_ent *)b)->path);
}

static askdocs_rc walk(const char *dir, const char *root, char *root_store,
                       const char *exts, int depth, file_list *out)
{
    DIR *d;
    struct dirent *de;
    askdocs_rc rc = ASKDOCS_OK;
    size_t rootlen = strlen(root);
    if (depth > MAX_WALK_DEPTH)
        return ASKDOCS_OK;
    d = opendir(dir);
    if (!d) {
        askdocs_log(0, "warning: cannot read folder %s: %s", dir,
                    strerror(errno));
        return ASKDOCS_OK;
    }
    while (rc == ASKDOCS_OK && (de = readdir(d)) != NULL) {
        char *p;
        struct stat st;
        if (de->d_name[0] == '.') /* ., .., hidden files and folders */
            continue;
        p = askdocs_path_join(dir, de->d_name);
        if (!p) {
            rc = ASKDOCS_ERR_NOMEM;
            break;
        }
        if (lstat(p, &st) == 0) {
            if (S_ISDIR(st.st_mode))
                rc = walk(p, root, root_store, exts, depth + 1, out);
            else if (S_ISREG(st.st_mode) && idx_extension_allowed(p, exts))
                rc = file_list_add(out, p, p + rootlen + 1, root_store, &st);
            /* symlinks are not followed: no loops, no escaping the folder */
        }
        askdocs_free(p);
    }
    closedir(d);
    return rc;
}

/* ------------------------------------------------------------ writing */
static askdocs_rc db_err(askdocs_index *ix, const char *what)
{
    idx_set_error(ix, ASKDOCS_ERR_DB, "%s: %s", what, sqlite3_errmsg(ix->db));
    return ASKDOCS_ERR_DB;
}

/* Look up a document by path: *id = 0 when absent. */
static askdocs_rc find_doc(askdocs_index *ix, const char *path, int64_t *id,
                           char sha[65], int64_t *size, int64_t *mtime)
{
    sqlite3_stmt *st = NULL;
    askdocs_rc rc = ASKDOCS_OK;
    int r;
    *id = 0;
    sha[0] = '\0';
    *size = *mtime = -1;
    if (sqlite3_prepare_v2(ix->db, "SELECT id, sha256, size, mtime_ns FROM"
                                   " documents WHERE path=?",
                           -1, &st, NULL) != SQLITE_OK)
        return db_err(ix, "looking up a document");
    sqlite3_bind_text(st, 1, path, -1, SQLITE_STATIC);
    r = sqlite3_step(st);
    if (r == SQLITE_ROW) {
        *id = sqlite3_column_int64(st, 0);
        askdocs_snprintf(sha, 65, "%s",
                         (const char *)sqlite3_column_text(st, 1));
        *size = sqlite3_column_int64(st, 2);
        *mtime = sqlite3_column_int64(st, 3);
    } else if (r != SQLITE_DONE) {
        rc = db_err(ix, "looking up a document");
    }
    sqlite3_finalize(st);
    return rc;
}

/* Collect the chunk ids of a document (caller frees *ids). */
static askdocs_rc doc_chunk_ids(askdocs_index *ix, int64_t doc, int64_t **ids,
                                int *n)
{
    sqlite3_stmt *st = NULL;
    askdocs_rc rc = ASKDOCS_OK;
    int cap = 0, r;
    *ids = NULL;
    *n = 0;
    if (sqlite3_prepare_v2(ix->db, "SELECT id FROM chunks WHERE doc_id=?", -1,
                           &st, NULL) != SQLITE_OK)
        return db_err(ix, "listing chunks");
    sqlite3_bind_int64(st, 1, doc);
    while ((r = sqlite3_step(st)) == SQLITE_ROW) {
        if (*n == cap) {
            int ncap = cap ? cap * 2 : 64;
            int64_t *nv = askdocs_realloc(*ids, (size_t)ncap * sizeof(int64_t));
            if (!nv) {
                rc = ASKDOCS_ERR_NOMEM;
                break;
            }
            *ids = nv;
            cap = ncap;
        }
        (*ids)[(*n)++] = sqlite3_column_int64(st, 0);
    }
    if (rc == ASKDOCS_OK && r != SQLITE_DONE)
        rc = db_err(ix, "listing chunks");
    sqlite3_finalize(st);
    if (rc != ASKDOCS_OK) {
        askdocs_free(*ids);
        *ids = NULL;
        *n = 0;
    }
    return rc;
}

static askdocs_rc delete_doc(askdocs_index *ix, int64_t doc)
{
    static const char *const sqls[] = {
        "DELETE FROM embeddings WHERE chunk_id IN "
        "(SELECT id FROM chunks WHERE doc_id=?1)",
        "DELETE FROM chunks WHERE doc_id=?1",
        "DELETE FROM doc_text WHERE doc_id=?1",
        "DELETE FROM documents WHERE id=?1",
    };
    size_t i;
    for (i = 0; i < sizeof(sqls) / sizeof(sqls[0]); i++) {
        sqlite3_stmt *st = NULL;
        int r;
        if (sqlite3_prepare_v2(ix->db, sqls[i], -1, &st, NULL) != SQLITE_OK)
            return db_err(ix, "deleting a document");
        sqlite3_bind_int64(st, 1, doc);
        r = sqlite3_step(st);
        sqlite3_finalize(st);
        if (r != SQLITE_DONE)
            return db_err(ix, "deleting a document");
    }
    return ASKDOCS_OK;
}

static askdocs_rc bump_generation(askdocs_index *ix, int64_t *gen)
{
    char v[32];
    *gen = idx_generation(ix) + 1;
    askdocs_snprintf(v, sizeof(v), "%lld", (long long)*gen);
    return idx_meta_set(ix, "vector_generation", v);
}

typedef struct prepared_doc {
    idx_document doc;
    idx_chunk_list chunks;
    float *vecs; /* chunks.n * dim */
    char sha[65];
} prepared_doc;

static void prepared_free(prepared_doc *p)
{
    idx_document_free(&p->doc);
    idx_chunk_list_free(&p->chunks);
    askdocs_free(p->vecs);
    p->vecs = NULL;
}

/* Text given to the embedder for a chunk: heading path, then the text. */
static int count_tokens_cb(void *user, const char *s, size_t n)
{
    return idx_embedder_count_tokens((idx_embedder *)user, s, n);
}

/* The stored text of a chunk: its slice, after the repeated table header
 * when it continues a table. Caller frees. */
static char *chunk_text(const prepared_doc *p, const idx_chunk *c)
{
    askdocs_buf b;
    askdocs_buf_init(&b, (c->byte_end - c->byte_start) +
                             (c->prefix_end - c->prefix_start) + 16);
    if (c->prefix_end > c->prefix_start) {
        askdocs_buf_append(&b, p->doc.text + c->prefix_start,
                           c->prefix_end - c->prefix_start);
        askdocs_buf_puts(&b, "\n");
    }
    askdocs_buf_append(&b, p->doc.text + c->byte_start,
                       c->byte_end - c->byte_start);
    return askdocs_buf_take(&b);
}

static char *embed_text(const prepared_doc *p, const idx_chunk *c)
{
    askdocs_buf b;
    char *t = chunk_text(p, c);
    if (!t)
        return NULL;
    askdocs_buf_init(&b, strlen(t) + 2048);
    if (c->heading && *c->heading) {
        askdocs_buf_puts(&b, c->heading);
        askdocs_buf_puts(&b, "\n");
    }
    askdocs_buf_puts(&b, t);
    askdocs_free(t);
    return askdocs_buf_take(&b);
}

static askdocs_rc embed_chunks(askdocs_index *ix, idx_embedder *emb,
                               int batch, prepared_doc *p, double *secs)
{
    int dim = idx_embedder_dim(emb), i, j;
    char **texts = NULL;
    askdocs_rc rc = ASKDOCS_OK;
    double t0 = askdocs_now_ms();
    if (p->chunks.n == 0)
        return ASKDOCS_OK;
    p->vecs = askdocs_malloc((size_t)p->chunks.n * (size_t)dim * sizeof(float));
    texts = askdocs_calloc((size_t)batch, sizeof(char *));
    if (!p->vecs || !texts) {
        rc = ASKDOCS_ERR_NOMEM;
        goto out;
    }
    for (i = 0; i < p->chunks.n && rc == ASKDOCS_OK; i += batch) {
        int nb = ASKDOCS_MIN(batch, p->chunks.n - i);
        for (j = 0; j < nb; j++) {
            texts[j] = embed_text(p, &p->chunks.v[i + j]);
            if (!texts[j])
                rc = ASKDOCS_ERR_NOMEM;
        }
        if (rc == ASKDOCS_OK) {
            rc = idx_embedder_embed(emb, (const char *const *)texts, nb, 0,
                                    p->vecs + (size_t)i * (size_t)dim);
            if (rc != ASKDOCS_OK)
                idx_set_error(ix, rc, "embedding: %s",
                              idx_embedder_errmsg(emb));
        }
        for (j = 0; j < nb; j++) {
            askdocs_free(texts[j]);
            texts[j] = NULL;
        }
    }
out:
    askdocs_free(texts);
    *secs += (askdocs_now_ms() - t0) / 1000.0;
    return rc;
}

/* The dates of a document, one row each, for date filters. */
static askdocs_rc insert_dates(askdocs_index *ix, int64_t doc_id,
                               const char *dates)
{
    sqlite3_stmt *st = NULL;
    const char *p = dates;
    askdocs_rc rc = ASKDOCS_OK;
    if (!dates || !*dates)
        return ASKDOCS_OK;
    if (sqlite3_prepare_v2(ix->db,
                           "INSERT OR IGNORE INTO doc_dates(doc_id, date)"
                           " VALUES (?,?)",
                           -1, &st, NULL) != SQLITE_OK)
        return db_err(ix, "preparing dates");
    while (*p && rc == ASKDOCS_OK) {
        const char *comma = strchr(p, ',');
        size_t l = comma ? (size_t)(comma - p) : strlen(p);
        sqlite3_reset(st);
        sqlite3_bind_int64(st, 1, doc_id);
        sqlite3_bind_text(st, 2, p, (int)l, SQLITE_TRANSIENT);
        if (sqlite3_step(st) != SQLITE_DONE)
            rc = db_err(ix, "inserting dates");
        p = comma ? comma + 1 : p + l;
    }
    sqlite3_finalize(st);
    return rc;
}

/* A document with this content whose file is gone: the file was moved or
 * renamed. *id = 0 when there is none. */
static askdocs_rc find_moved(askdocs_index *ix, const char *sha, int64_t *id)
{
    sqlite3_stmt *st = NULL;
    int r;
    *id = 0;
    if (sqlite3_prepare_v2(ix->db,
                           "SELECT id, path FROM documents WHERE sha256=?", -1,
                           &st, NULL) != SQLITE_OK)
        return db_err(ix, "looking up moved files");
    sqlite3_bind_text(st, 1, sha, -1, SQLITE_STATIC);
    while ((r = sqlite3_step(st)) == SQLITE_ROW) {
        const char *path = (const char *)sqlite3_column_text(st, 1);
        if (path && access(path, F_OK) != 0 && errno == ENOENT) {
            *id = sqlite3_column_int64(st, 0);
            break;
        }
    }
    sqlite3_finalize(st);
    return r == SQLITE_ROW || r == SQLITE_DONE
               ? ASKDOCS_OK
               : db_err(ix, "looking up moved files");
}

/* Point document id at its new path (no re-extraction, no re-embedding). */
static askdocs_rc move_doc(askdocs_index *ix, int64_t id, const file_ent *f)
{
    sqlite3_stmt *st = NULL;
    int r;
    if (sqlite3_prepare_v2(ix->db,
                           "UPDATE documents SET path=?, rel=?, root=?, mtime_ns=?"
                           " WHERE id=?",
                           -1, &st, NULL) != SQLITE_OK)
        return db_err(ix, "moving a document");
    sqlite3_bind_text(st, 1, f->path, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, f->rel, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, f->root, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, f->mtime);
    sqlite3_bind_int64(st, 5, id);
    r = sqlite3_step(st);
    sqlite3_finalize(st);
    return r == SQLITE_DONE ? ASKDOCS_OK : db_err(ix, "moving a document");
}

/* Replace (or insert) one document with its chunks and embeddings in one
 * transaction; then mirror the change in the in-memory vectors. */
static askdocs_rc write_doc(askdocs_index *ix, const askdocs_config *conf,
                            const file_ent *f, int64_t old_id,
                            prepared_doc *p, int dim)
{
    sqlite3_stmt *ins_doc = NULL, *ins_chunk = NULL, *ins_vec = NULL,
                 *ins_text = NULL;
    int64_t *old_chunks = NULL, *new_ids = NULL, doc_id, gen = 0;
    int n_old = 0, i;
    askdocs_rc rc;

    rc = idx_exec(ix, "BEGIN IMMEDIATE");
    if (rc != ASKDOCS_OK)
        return rc;
    if (old_id) {
        rc = doc_chunk_ids(ix, old_id, &old_chunks, &n_old);
        if (rc == ASKDOCS_OK)
            rc = delete_doc(ix, old_id);
        if (rc != ASKDOCS_OK)
            goto fail;
    }
    if (sqlite3_prepare_v2(
            ix->db,
            "INSERT INTO documents(path, rel, root, collection, title, type,"
            " lang, sha256, size, mtime_ns, n_chunks, indexed_at, n_pages,"
            " dates, warning)"
            " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            -1, &ins_doc, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(ix->db,
                           "INSERT INTO doc_text(doc_id, text) VALUES (?,?)",
                           -1, &ins_text, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(
            ix->db,
            "INSERT INTO chunks(doc_id, ordinal, text, heading, page_start,"
            " page_end, char_start, char_end, byte_start, byte_end, n_words)"
            " VALUES (?,?,?,?,?,?,?,?,?,?,?)",
            -1, &ins_chunk, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(ix->db,
                           "INSERT INTO embeddings(chunk_id, vec) VALUES (?,?)",
                           -1, &ins_vec, NULL) != SQLITE_OK) {
        rc = db_err(ix, "preparing inserts");
        goto fail;
    }
    sqlite3_bind_text(ins_doc, 1, f->path, -1, SQLITE_STATIC);
    sqlite3_bind_text(ins_doc, 2, f->rel, -1, SQLITE_STATIC);
    sqlite3_bind_text(ins_doc, 3, f->root, -1, SQLITE_STATIC);
    sqlite3_bind_text(ins_doc, 4, conf->collection, -1, SQLITE_STATIC);
    sqlite3_bind_text(ins_doc, 5, p->doc.title, -1, SQLITE_STATIC);
    sqlite3_bind_text(ins_doc, 6, p->doc.type, -1, SQLITE_STATIC);
    sqlite3_bind_text(ins_doc, 7, p->doc.lang, -1, SQLITE_STATIC);
    sqlite3_bind_text(ins_doc, 8, p->sha, -1, SQLITE_STATIC);
    sqlite3_bind_int64(ins_doc, 9, f->size);
    sqlite3_bind_int64(ins_doc, 10, f->mtime);
    sqlite3_bind_int(ins_doc, 11, p->chunks.n);
    sqlite3_bind_int64(ins_doc, 12, (int64_t)time(NULL));
    sqlite3_bind_int(ins_doc, 13, p->doc.n_pages);
    sqlite3_bind_text(ins_doc, 14, p->doc.dates ? p->doc.dates : "", -1,
                      SQLITE_STATIC);
    if (p->doc.warning[0])
        sqlite3_bind_text(ins_doc, 15, p->doc.warning, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(ins_doc, 15);
    if (sqlite3_step(ins_doc) != SQLITE_DONE) {
        rc = db_err(ix, "inserting a document");
        goto fail;
    }
    doc_id = sqlite3_last_insert_rowid(ix->db);
    rc = insert_dates(ix, doc_id, p->doc.dates);
    if (rc != ASKDOCS_OK)
        goto fail;
    sqlite3_bind_int64(ins_text, 1, doc_id);
    sqlite3_bind_text(ins_text, 2, p->doc.text, (int)p->doc.len,
                      SQLITE_STATIC);
    if (sqlite3_step(ins_text) != SQLITE_DONE) {
        rc = db_err(ix, "inserting document text");
        goto fail;
    }
    new_ids = askdocs_malloc((size_t)(p->chunks.n + 1) * sizeof(int64_t));
    if (!new_ids) {
        rc = ASKDOCS_ERR_NOMEM;
        goto fail;
    }
    for (i = 0; i < p->chunks.n; i++) {
        const idx_chunk *c = &p->chunks.v[i];
        char *text = chunk_text(p, c);
        if (!text) {
            rc = ASKDOCS_ERR_NOMEM;
            goto fail;
        }
        sqlite3_reset(ins_chunk);
        sqlite3_bind_int64(ins_chunk, 1, doc_id);
        sqlite3_bind_int(ins_chunk, 2, i);
        sqlite3_bind_text(ins_chunk, 3, text, -1, askdocs_free);
        sqlite3_bind_text(ins_chunk, 4, c->heading, -1, SQLITE_STATIC);
        if (c->page_start > 0) {
            sqlite3_bind_int(ins_chunk, 5, c->page_start);
            sqlite3_bind_int(ins_chunk, 6, c->page_end);
        } else {
            sqlite3_bind_null(ins_chunk, 5);
            sqlite3_bind_null(ins_chunk, 6);
        }
        sqlite3_bind_int(ins_chunk, 7, c->char_start);
        sqlite3_bind_int(ins_chunk, 8, c->char_end);
        sqlite3_bind_int64(ins_chunk, 9, (int64_t)c->byte_start);
        sqlite3_bind_int64(ins_chunk, 10, (int64_t)c->byte_end);
        sqlite3_bind_int(ins_chunk, 11, c->n_words);
        if (sqlite3_step(ins_chunk) != SQLITE_DONE) {
            rc = db_err(ix, "inserting a chunk");
            goto fail;
        }
        new_ids[i] = sqlite3_last_insert_rowid(ix->db);
        if (!p->vecs)
            continue; /* BM25-only index */
        sqlite3_reset(ins_vec);
        sqlite3_bind_int64(ins_vec, 1, new_ids[i]);
        sqlite3_bind_blob(ins_vec, 2, p->vecs + (size_t)i * (size_t)dim,
                          dim * (int)sizeof(float), SQLITE_STATIC);
        if (sqlite3_step(ins_vec) != SQLITE_DONE) {
            rc = db_err(ix, "inserting an embedding");
            goto fail;
        }
    }
    rc = bump_generation(ix, &gen);
    if (rc != ASKDOCS_OK)
        goto fail;
    rc = idx_exec(ix, "COMMIT");
    if (rc != ASKDOCS_OK)
        goto fail;
    /* committed: the in-memory vectors follow (the file is written later;
     * if we die first, the next open rebuilds it from SQLite) */
    rc = idx_vectors_remove(ix, n_old, old_chunks);
    if (rc == ASKDOCS_OK && p->vecs)
        rc = idx_vectors_add(ix, p->chunks.n, p->vecs, new_ids);
    if (rc == ASKDOCS_OK)
        ix->vectors_gen = gen;
    goto out;
fail:
    sqlite3_exec(ix->db, "ROLLBACK", NULL, NULL, NULL);
out:
    sqlite3_finalize(ins_doc);
    sqlite3_finalize(ins_text);
    sqlite3_finalize(ins_chunk);
    sqlite3_finalize(ins_vec);
    askdocs_free(old_chunks);
    askdocs_free(new_ids);
    return rc;
}

static askdocs_rc remove_doc(askdocs_index *ix, int64_t doc)
{
    int64_t *ids = NULL, gen;
    int n = 0;
    askdocs_rc rc = idx_exec(ix, "BEGIN IMMEDIATE");
    if (rc != ASKDOCS_OK)
        return rc;
    rc = doc_chunk_ids(ix, doc, &ids, &n);
    if (rc == ASKDOCS_OK)
        rc = delete_doc(ix, doc);
    if (rc == ASKDOCS_OK)
        rc = bump_generation(ix, &gen);
    if (rc == ASKDOCS_OK)
        rc = idx_exec(ix, "COMMIT");
    if (rc != ASKDOCS_OK) {
        sqlite3_exec(ix->db, "ROLLBACK", NULL, NULL, NULL);
    } else {
        rc = idx_vectors_remove(ix, n, ids);
        if (rc == ASKDOCS_OK)
            ix->vectors_gen = gen;
    }
    askdocs_free(ids);
    return rc;
}

/* Remove documents stored under root whose path was not walked. */
static askdocs_rc remove_missing(askdocs_index *ix, const char *root,
                                 const file_list *files,
                                 askdocs_progress_cb cb, void *user,
                                 askdocs_ingest_stats *stats)
{
    sqlite3_stmt *st = NULL;
    int64_t *gone = NULL;
    char **gone_path = NULL;
    int n = 0, cap = 0, r, i;
    askdocs_rc rc = ASKDOCS_OK;
    if (sqlite3_prepare_v2(ix->db,
                           "SELECT id, path FROM documents WHERE root=?", -1,
                           &st, NULL) != SQLITE_OK)
        return db_err(ix, "listing documents");
    sqlite3_bind_text(st, 1, root, -1, SQLITE_STATIC);
    while ((r = sqlite3_step(st)) == SQLITE_ROW) {
        const char *path = (const char *)sqlite3_column_text(st, 1);
        file_ent key;
        key.path = (char *)path;
        if (files->n &&
            bsearch(&key, files->v, (size_t)files->n, sizeof(file_ent),
                    cmp_file))
            continue;
        if (n == cap) {
            int ncap = cap ? cap * 2 : 32;
            int64_t *nv = askdocs_realloc(gone, (size_t)ncap * sizeof(*nv));
            char **np;
            if (!nv) {
                rc = ASKDOCS_ERR_NOMEM;
                break;
            }
            gone = nv;
            np = askdocs_realloc(gone_path, (size_t)ncap * sizeof(*np));
            if (!np) {
                rc = ASKDOCS_ERR_NOMEM;
                break;
            }
            gone_path = np;
            cap = ncap;
        }
        gone[n] = sqlite3_column_int64(st, 0);
        gone_path[n] = askdocs_strdup(path);
        n++;
    }
    sqlite3_finalize(st);
    for (i = 0; i < n && rc == ASKDOCS_OK; i++) {
        rc = remove_doc(ix, gone[i]);
        if (rc == ASKDOCS_OK) {
            askdocs_ingest_event ev;
            memset(&ev, 0, sizeof(ev));
            ev.path = gone_path[i] ? gone_path[i] : "?";
            ev.status = ASKDOCS_FILE_REMOVED;
            stats->removed++;
            if (cb)
                cb(&ev, user);
        }
    }
    for (i = 0; i < n; i++)
        askdocs_free(gone_path[i]);
    askdocs_free(gone_path);
    askdocs_free(gone);
    return rc;
}

/* An unchanged file may have been reached through another folder. */
static askdocs_rc touch_doc(askdocs_index *ix, int64_t id, const file_ent *f)
{
    sqlite3_stmt *st = NULL;
    int r;
    if (sqlite3_prepare_v2(ix->db,
                           "UPDATE documents SET rel=?, root=?, mtime_ns=? "
                           "WHERE id=? AND (rel IS NOT ? OR root IS NOT ? "
                           "OR mtime_ns IS NOT ?)",
                           -1, &st, NULL) != SQLITE_OK)
        return db_err(ix, "updating a document");
    sqlite3_bind_text(st, 1, f->rel, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, f->root, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, f->mtime);
    sqlite3_bind_int64(st, 4, id);
    sqlite3_bind_text(st, 5, f->rel, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 6, f->root, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 7, f->mtime);
    r = sqlite3_step(st);
    sqlite3_finalize(st);
    return r == SQLITE_DONE ? ASKDOCS_OK : db_err(ix, "updating a document");
}

/* Process one file: returns ASKDOCS_OK with *status set, or a fatal rc for
 * the index (the file's own problems are reported in err and status). */
static askdocs_rc sync_file(askdocs_index *ix, const askdocs_config *conf,
                            idx_embedder *emb, const file_ent *f,
                            askdocs_file_status *status, int *n_chunks,
                            char *err, size_t errlen, char *warn,
                            size_t warnlen, askdocs_ingest_stats *stats)
{
    prepared_doc p;
    char *data = NULL, old_sha[65];
    size_t len = 0;
    int64_t old_id = 0, old_size, old_mtime;
    idx_chunk_params cp = idx_chunk_default_params();
    idx_extract_limits lim;
    askdocs_rc rc, frc;

    memset(&p, 0, sizeof(p));
    *n_chunks = 0;
    *status = ASKDOCS_FILE_FAILED;
    rc = find_doc(ix, f->path, &old_id, old_sha, &old_size, &old_mtime);
    if (rc != ASKDOCS_OK)
        return rc;
    /* same size and modification time (ns): unchanged without reading it */
    if (old_id && old_size == f->size && old_mtime == f->mtime) {
        *status = ASKDOCS_FILE_UNCHANGED;
        return touch_doc(ix, old_id, f);
    }
    frc = askdocs_read_file(f->path, (size_t)conf->max_file_mb << 20, &data,
                            &len, err, errlen);
    if (frc == ASKDOCS_ERR_TOOBIG) {
        size_t l = strlen(err);
        askdocs_snprintf(err + l, errlen - l, " (index.max_file_mb = %d)",
                         conf->max_file_mb);
    }
    if (frc != ASKDOCS_OK)
        goto out; /* the file's problem, not the index's */
    stats->bytes += (int64_t)len;
    askdocs_sha256_hex(data, len, p.sha);
    if (old_id && strcmp(old_sha, p.sha) == 0) {
        *status = ASKDOCS_FILE_UNCHANGED;
        rc = touch_doc(ix, old_id, f);
        goto out;
    }
    if (!old_id) {
        int64_t moved;
        rc = find_moved(ix, p.sha, &moved);
        if (rc == ASKDOCS_OK && moved)
            rc = move_doc(ix, moved, f);
        if (rc != ASKDOCS_OK || moved) {
            if (rc == ASKDOCS_OK)
                *status = ASKDOCS_FILE_MOVED;
            goto out;
        }
    }
    lim = idx_extract_default_limits();
    lim.max_text_bytes = (size_t)conf->max_text_mb << 20;
    lim.max_expand_bytes = (size_t)conf->max_expand_mb << 20;
    lim.max_pages = conf->max_pages;
    lim.ocr = conf->ocr;
    lim.ocr_langs = conf->ocr_langs;
    lim.ocr_dpi = conf->ocr_dpi;
    frc = idx_extract(f->path, data, len, &lim, &p.doc, err, errlen);
    if (frc != ASKDOCS_OK)
        goto out;
    cp.target_tokens = conf->chunk_tokens;
    cp.overlap_tokens = conf->chunk_overlap;
    cp.pack_sections = conf->pack_sections;
    cp.blocks = p.doc.blocks;
    cp.n_blocks = p.doc.n_blocks;
    if (emb) {
        cp.count_tokens = count_tokens_cb;
        cp.count_user = emb;
    }
    cp.markdown = p.doc.markdown;
    cp.title = p.doc.title;
    cp.page_starts = p.doc.page_starts;
    cp.n_pages = p.doc.n_pages;
    frc = idx_chunk_text(p.doc.text, p.doc.len, &cp, &p.chunks);
    if (frc != ASKDOCS_OK) {
        askdocs_snprintf(err, errlen, "%s: chunking failed: %s", f->path,
                         askdocs_strerror(frc));
        goto out;
    }
    if (emb) {
        rc = embed_chunks(ix, emb, conf->embed_batch, &p,
                          &stats->embed_seconds);
        if (rc != ASKDOCS_OK)
            goto out;
    }
    rc = write_doc(ix, conf, f, old_id, &p, emb ? idx_embedder_dim(emb) : 0);
    if (rc != ASKDOCS_OK)
        goto out;
    *status = old_id ? ASKDOCS_FILE_UPDATED : ASKDOCS_FILE_ADDED;
    *n_chunks = p.chunks.n;
    askdocs_snprintf(warn, warnlen, "%s", p.doc.warning);
out:
    askdocs_free(data);
    prepared_free(&p);
    return rc;
}

/* Once the chunks written since the last merge reach 1/8 of the index,
 * merge FTS5's segments into one b-tree ('optimize'): a query then reads
 * one doclist per term instead of merging several (measured: about 20%
 * less BM25 time at 84k chunks). Until then FTS5's automerge keeps the
 * segments few. The count lives in meta (fts_written); an index without
 * it is merged by its next writer. A kill during the merge loses only the
 * merge: the statement and the count are one transaction. */
static askdocs_rc fts_tidy(askdocs_index *ix, const askdocs_ingest_stats *st)
{
    int64_t docs = 0, chunks = 0, written = -1;
    double t0 = askdocs_now_ms();
    char v[32];
    askdocs_rc rc;

    if (idx_meta_get(ix, "fts_written", v, sizeof(v)) == ASKDOCS_OK)
        written = strtoll(v, NULL, 10);
    if (written >= 0)
        written += st->chunks_written;
    rc = askdocs_index_counts(ix, &docs, &chunks);
    if (rc != ASKDOCS_OK)
        return rc;
    if (written >= 0 && written * FTS_OPTIMIZE_FRACTION < chunks) {
        if (st->chunks_written == 0)
            return ASKDOCS_OK;
        askdocs_snprintf(v, sizeof(v), "%lld", (long long)written);
        return idx_meta_set(ix, "fts_written", v);
    }
    if (sqlite3_exec(ix->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
        return idx_db_error(ix, "merging the BM25 index");
    if (sqlite3_exec(ix->db,
                     "INSERT INTO chunks_fts(chunks_fts) VALUES('optimize')",
                     NULL, NULL, NULL) != SQLITE_OK) {
        rc = idx_db_error(ix, "merging the BM25 index");
        sqlite3_exec(ix->db, "ROLLBACK", NULL, NULL, NULL);
        return rc;
    }
    rc = idx_meta_set(ix, "fts_written", "0");
    if (rc == ASKDOCS_OK &&
        sqlite3_exec(ix->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
        rc = idx_db_error(ix, "merging the BM25 index");
    if (rc != ASKDOCS_OK) {
        sqlite3_exec(ix->db, "ROLLBACK", NULL, NULL, NULL);
        return rc;
    }
    askdocs_log(2, "BM25 index merged into one segment in %.0f ms",
                askdocs_now_ms() - t0);
    return ASKDOCS_OK;
}

askdocs_rc askdocs_index_sync(askdocs_index *ix, const askdocs_config *conf,
                              idx_embedder *emb, const char *const *paths,
                              int n_paths, askdocs_progress_cb cb, void *user,
                              askdocs_ingest_stats *stats)
{
    file_list files = {NULL, 0, 0};
    char **roots = NULL;
    int *root_is_dir = NULL;
    double t0 = askdocs_now_ms(), bytes_total = 0, bytes_done = 0;
    double last_save = t0;
    askdocs_rc rc = ASKDOCS_OK;
    int i;

    memset(stats, 0, sizeof(*stats));
    if (!ix->writable) {
        idx_set_error(ix, ASKDOCS_ERR_INVALID, "index opened read-only");
        return ASKDOCS_ERR_INVALID;
    }
    if (emb) {
        rc = idx_record_embedder(ix, conf->embed_model, idx_embedder_dim(emb));
        if (rc != ASKDOCS_OK)
            return rc;
    } else if (ix->dim > 0) {
        idx_set_error(ix, ASKDOCS_ERR_CONFIG,
                      "the index in %s has vectors of %s: configure that "
                      "embedding model to add documents",
                      ix->dir, ix->embed_model);
        return ASKDOCS_ERR_CONFIG;
    }
    rc = idx_vectors_ready(ix);
    if (rc != ASKDOCS_OK)
        return rc;
    roots = askdocs_calloc((size_t)n_paths + 1, sizeof(char *));
    root_is_dir = askdocs_calloc((size_t)n_paths + 1, sizeof(int));
    if (!roots || !root_is_dir) {
        rc = ASKDOCS_ERR_NOMEM;
        goto out;
    }
    for (i = 0; i < n_paths; i++) {
        char *real = realpath(paths[i], NULL);
        struct stat st;
        if (!real || stat(real, &st) != 0) {
            idx_set_error(ix, ASKDOCS_ERR_NOTFOUND, "%s: %s", paths[i],
                          strerror(errno));
            free(real);
            rc = ASKDOCS_ERR_NOTFOUND;
            goto out;
        }
        if (S_ISDIR(st.st_mode)) {
            roots[i] = askdocs_strdup(real);
            root_is_dir[i] = 1;
            if (roots[i])
                rc = walk(real, real, roots[i], conf->extensions, 0, &files);
        } else {
            /* a single file: its folder is the root, nothing is removed */
            char *slash = strrchr(real, '/');
            roots[i] = askdocs_strndup(real, slash && slash != real
                                                 ? (size_t)(slash - real)
                                                 : 1);
            if (roots[i])
                rc = file_list_add(&files, real,
                                   slash ? slash + 1 : real, roots[i], &st);
        }
        free(real);
        if (!roots[i])
            rc = ASKDOCS_ERR_NOMEM;
        if (rc != ASKDOCS_OK) {
            idx_set_error(ix, rc, "listing %s: %s", paths[i],
                          askdocs_strerror(rc));
            goto out;
        }
    }
    if (files.n > 1)
        qsort(files.v, (size_t)files.n, sizeof(file_ent), cmp_file);
    /* the same file given twice (or through two roots) counts once */
    for (i = 1; i < files.n; i++) {
        if (strcmp(files.v[i].path, files.v[i - 1].path) == 0) {
            askdocs_free(files.v[i].path);
            askdocs_free(files.v[i].rel);
            memmove(&files.v[i], &files.v[i + 1],
                    (size_t)(files.n - i - 1) * sizeof(file_ent));
            files.n--;
            i--;
        }
    }
    for (i = 0; i < files.n; i++)
        bytes_total += (double)files.v[i].size;
    stats->files = files.n;
    for (i = 0; i < files.n; i++) {
        askdocs_ingest_event ev;
        char err[1024] = "", warn[256] = "";
        askdocs_file_status status;
        int n_chunks = 0;
        rc = sync_file(ix, conf, emb, &files.v[i], &status, &n_chunks, err,
                       sizeof(err), warn, sizeof(warn), stats);
        if (rc != ASKDOCS_OK)
            goto out;
        bytes_done += (double)files.v[i].size;
        /* readers opening meanwhile load this file instead of rebuilding
         * the vectors from SQLite: keep it at most 30 s behind */
        if (ix->vectors && askdocs_now_ms() - last_save > 30000) {
            rc = idx_vectors_save(ix);
            if (rc != ASKDOCS_OK)
                goto out;
            last_save = askdocs_now_ms();
        }
        switch (status) {
        case ASKDOCS_FILE_ADDED: stats->added++; break;
        case ASKDOCS_FILE_UPDATED: stats->updated++; break;
        case ASKDOCS_FILE_UNCHANGED: stats->unchanged++; break;
        case ASKDOCS_FILE_MOVED: stats->moved++; break;
        default: stats->failed++; break;
        }
        stats->chunks_written += n_chunks;
        memset(&ev, 0, sizeof(ev));
        ev.path = files.v[i].path;
        ev.status = status;
        ev.n_chunks = n_chunks;
        ev.error = status == ASKDOCS_FILE_FAILED ? err : NULL;
        ev.warning = warn[0] ? warn : NULL;
        ev.files_done = i + 1;
        ev.files_total = files.n;
        ev.bytes_done = bytes_done;
        ev.bytes_total = bytes_total;
        if (cb)
            cb(&ev, user);
    }
    for (i = 0; i < n_paths && rc == ASKDOCS_OK; i++)
        if (root_is_dir[i])
            rc = remove_missing(ix, roots[i], &files, cb, user, stats);
    if (rc == ASKDOCS_OK && ix->vectors)
        rc = idx_vectors_maintain(ix);
    if (rc == ASKDOCS_OK && ix->vectors)
        rc = idx_vectors_save(ix);
    if (rc == ASKDOCS_OK)
        rc = fts_tidy(ix, stats);
out:
    if (roots)
        for (i = 0; i < n_paths; i++)
            askdocs_free(roots[i]);
    askdocs_free(roots);
    askdocs_free(root_is_dir);
    file_list_free(&files);
    stats->seconds = (askdocs_now_ms() - t0) / 1000.0;
    return rc;
}
