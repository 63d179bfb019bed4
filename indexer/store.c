/*
 * store.c - the data directory: SQLite schema and queries, the FAISS vector
 * index derived from the stored embeddings, and the writer lock.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "store.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>


static const char *const schema_sql =
    "CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);"
    "CREATE TABLE documents("
    " id INTEGER PRIMARY KEY AUTOINCREMENT,"
    " path TEXT NOT NULL UNIQUE,"      /* absolute path: the identity */
    " rel TEXT NOT NULL,"              /* relative to the indexed folder */
    " root TEXT NOT NULL,"             /* the indexed folder */
    " collection TEXT NOT NULL DEFAULT 'default',"
    " title TEXT, type TEXT NOT NULL, lang TEXT,"
    " sha256 TEXT NOT NULL, size INTEGER NOT NULL,"
    " mtime_ns INTEGER NOT NULL,"
    " n_chunks INTEGER NOT NULL DEFAULT 0, indexed_at INTEGER NOT NULL,"
    " n_pages INTEGER NOT NULL DEFAULT 0,"  /* 0 = not paged */
    " dates TEXT NOT NULL DEFAULT '',"      /* ISO dates found, comma-sep. */
    " warning TEXT);"                       /* extraction note, or NULL */
    "CREATE INDEX documents_sha ON documents(sha256);"
    "CREATE INDEX documents_type ON documents(type);"
    "CREATE TABLE doc_dates(doc_id INTEGER NOT NULL"
    " REFERENCES documents(id) ON DELETE CASCADE, date TEXT NOT NULL,"
    " PRIMARY KEY(doc_id, date)) WITHOUT ROWID;"
    "CREATE INDEX doc_dates_date ON doc_dates(date);"
    "CREATE INDEX documents_root ON documents(root);"
    "CREATE INDEX documents_collection ON documents(collection);"
    "CREATE TABLE doc_text(doc_id INTEGER PRIMARY KEY"
    " REFERENCES documents(id) ON DELETE CASCADE, text TEXT NOT NULL);"
    "CREATE TABLE chunks("
    " id INTEGER PRIMARY KEY AUTOINCREMENT,"
    " doc_id INTEGER NOT NULL REFERENCES documents(id) ON DELETE CASCADE,"
    " ordinal INTEGER NOT NULL, text TEXT NOT NULL, heading TEXT,"
    " page_start INTEGER, page_end INTEGER,"
    " char_start INTEGER NOT NULL, char_end INTEGER NOT NULL,"
    " byte_start INTEGER NOT NULL, byte_end INTEGER NOT NULL,"
    " n_words INTEGER NOT NULL, UNIQUE(doc_id, ordinal));"
    "CREATE VIRTUAL TABLE chunks_fts USING fts5(text, heading,"
    " content='chunks', content_rowid='id',"
    " tokenize='askdocs');"
    "CREATE TRIGGER chunks_ai AFTER INSERT ON chunks BEGIN"
    " INSERT INTO chunks_fts(rowid, text, heading)"
    " VALUES (new.id, new.text, new.heading); END;"
    "CREATE TRIGGER chunks_ad AFTER DELETE ON chunks BEGIN"
    " INSERT INTO chunks_fts(chunks_fts, rowid, text, heading)"
    " VALUES ('delete', old.id, old.text, old.heading); END;"
    "CREATE TABLE embeddings(chunk_id INTEGER PRIMARY KEY"
    " REFERENCES chunks(id) ON DELETE CASCADE, vec BLOB NOT NULL);";

void idx_set_error(askdocs_index *ix, askdocs_rc rc, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(ix->errmsg, sizeof(ix->errmsg), fmt, ap);
    va_end(ap);
    ix->rc = rc;
}

askdocs_rc idx_db_error(askdocs_index *ix, const char *what)
{
    idx_set_error(ix, ASKDOCS_ERR_DB, "%s: %s", what, sqlite3_errmsg(ix->db));
    return ASKDOCS_ERR_DB;
}

askdocs_rc idx_exec(askdocs_index *ix, const char *sql)
{
    char *msg = NULL;
    if (sqlite3_exec(ix->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        idx_set_error(ix, ASKDOCS_ERR_DB, "database: %s", msg ? msg : "?");
        sqlite3_free(msg);
        return ASKDOCS_ERR_DB;
    }
    return ASKDOCS_OK;
}

askdocs_rc idx_meta_get(askdocs_index *ix, const char *key, char *val,
                        size_t n)
{
    sqlite3_stmt *st = NULL;
    askdocs_rc rc = ASKDOCS_ERR_NOTFOUND;
    val[0] = '\0';
    if (sqlite3_prepare_v2(ix->db, "SELECT value FROM meta WHERE key=?", -1,
                           &st, NULL) != SQLITE_OK)
        return idx_db_error(ix, "reading meta");
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    if (sqlite3_step(st) == SQLITE_ROW) {
        const char *v = (const char *)sqlite3_column_text(st, 0);
        askdocs_snprintf(val, n, "%s", v ? v : "");
        rc = ASKDOCS_OK;
    }
    sqlite3_finalize(st);
    return rc;
}

askdocs_rc idx_meta_set(askdocs_index *ix, const char *key, const char *val)
{
    sqlite3_stmt *st = NULL;
    int r;
    if (sqlite3_prepare_v2(ix->db,
                           "INSERT INTO meta(key, value) VALUES (?, ?) "
                           "ON CONFLICT(key) DO UPDATE SET value=excluded.value",
                           -1, &st, NULL) != SQLITE_OK)
        return idx_db_error(ix, "writing meta");
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, val, -1, SQLITE_STATIC);
    r = sqlite3_step(st);
    sqlite3_finalize(st);
    return r == SQLITE_DONE ? ASKDOCS_OK : idx_db_error(ix, "writing meta");
}

static askdocs_rc load_meta(askdocs_index *ix)
{
    char v[512];
    askdocs_rc rc = idx_meta_get(ix, "schema_version", v, sizeof(v));
    if (rc == ASKDOCS_ERR_NOTFOUND) {
        idx_set_error(ix, ASKDOCS_ERR_CORRUPT,
                      "%s has no schema version: not an askdocs index",
                      ix->db_path);
        return ASKDOCS_ERR_CORRUPT;
    }
    if (rc != ASKDOCS_OK)
        return rc;
    if (atoi(v) != ASKDOCS_SCHEMA_VERSION) {
        idx_set_error(ix, ASKDOCS_ERR_SCHEMA,
                      "%s was written with index schema version %s; this "
                      "askdocs reads version %d. Re-index into a new data "
                      "directory (askdocs index --data NEWDIR ...)",
                      ix->db_path, v, ASKDOCS_SCHEMA_VERSION);
        return ASKDOCS_ERR_SCHEMA;
    }
    if (idx_meta_get(ix, "embed_model", v, sizeof(v)) == ASKDOCS_OK)
        askdocs_snprintf(ix->embed_model, sizeof(ix->embed_model), "%s", v);
    if (idx_meta_get(ix, "embed_dim", v, sizeof(v)) == ASKDOCS_OK)
        ix->dim = atoi(v);
    return ASKDOCS_OK;
}

int64_t idx_generation(askdocs_index *ix)
{
    char v[64];
    if (idx_meta_get(ix, "vector_generation", v, sizeof(v)) != ASKDOCS_OK)
        return 0;
    return strtoll(v, NULL, 10);
}

static askdocs_rc create_schema(askdocs_index *ix)
{
    char v[32];
    askdocs_rc rc = idx_exec(ix, "BEGIN IMMEDIATE");
    if (rc != ASKDOCS_OK)
        return rc;
    /* another writer may have created it meanwhile */
    if (sqlite3_table_column_metadata(ix->db, NULL, "meta", "key", NULL, NULL,
                                      NULL, NULL, NULL) == SQLITE_OK)
        return idx_exec(ix, "COMMIT");
    rc = idx_exec(ix, schema_sql);
    askdocs_snprintf(v, sizeof(v), "%d", ASKDOCS_SCHEMA_VERSION);
    if (rc == ASKDOCS_OK)
        rc = idx_meta_set(ix, "schema_version", v);
    if (rc == ASKDOCS_OK)
        rc = idx_meta_set(ix, "vector_generation", "0");
    if (rc == ASKDOCS_OK)
        rc = idx_meta_set(ix, "tokenizer", idx_analyzer_name(ix->analyzer));
    askdocs_snprintf(v, sizeof(v), "%d", IDX_ANALYZER_VERSION);
    if (rc == ASKDOCS_OK)
        rc = idx_meta_set(ix, "analyzer_version", v);
    if (rc == ASKDOCS_OK)
        rc = idx_exec(ix, "COMMIT");
    if (rc != ASKDOCS_OK)
        sqlite3_exec(ix->db, "ROLLBACK", NULL, NULL, NULL);
    return rc;
}

static int dict_present(const char *dir)
{
    char p[4200];
    struct stat st;
    if (!dir || !*dir)
        return 0;
    askdocs_snprintf(p, sizeof(p), "%s/sys.dic", dir);
    return stat(p, &st) == 0 && S_ISREG(st.st_mode);
}

/* The tokenizer an existing index was created with ("" = new index). */
static void stored_tokenizer(sqlite3 *db, char *out, size_t n)
{
    sqlite3_stmt *st = NULL;
    out[0] = '\0';
    if (sqlite3_prepare_v2(db, "SELECT value FROM meta WHERE key='tokenizer'",
                           -1, &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW)
        askdocs_snprintf(out, n, "%s",
                         (const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
}

/* Create ix->analyzer: the index's recorded tokenizer, or for a new index
 * the configured one (mecab falls back to bigrams without a dictionary),
 * and register it on the connection. */
static askdocs_rc open_analyzer(askdocs_index *ix, const askdocs_config *conf,
                                char *err, size_t errlen)
{
    char stored[64], *dict = NULL;
    const char *want;
    askdocs_rc rc;
    stored_tokenizer(ix->db, stored, sizeof(stored));
    dict = askdocs_resolve_dict(conf ? conf->mecab_dict : "");
    if (!dict)
        return ASKDOCS_ERR_NOMEM;
    if (stored[0])
        want = strcmp(stored, "bigram") == 0 ? "bigram" : "mecab";
    else
        want = conf && conf->tokenizer ? conf->tokenizer : "mecab";
    if (strcmp(want, "mecab") == 0 && !dict_present(dict)) {
        if (stored[0]) {
            askdocs_snprintf(err, errlen,
                             "the index in %s was built with the Korean "
                             "dictionary mecab-ko-dic, which is missing at "
                             "%s; install it (scripts/setup.sh mecab) or set "
                             "[index] mecab_dict",
                             ix->dir, dict);
            askdocs_free(dict);
            return ASKDOCS_ERR_CONFIG;
        }
        askdocs_log(0,
                    "warning: Korean dictionary not found at %s: this new "
                    "index uses Hangul bigrams for BM25 (install it with "
                    "scripts/setup.sh mecab for morpheme analysis)",
                    dict);
        want = "bigram";
    }
    rc = idx_analyzer_create(strcmp(want, "mecab") == 0 ? dict : NULL,
                             &ix->analyzer, err, errlen);
    askdocs_free(dict);
    if (rc != ASKDOCS_OK)
        return rc;
    rc = idx_analyzer_register(ix->analyzer, ix->db);
    if (rc != ASKDOCS_OK) {
        askdocs_snprintf(err, errlen, "cannot register the FTS5 tokenizer: %s",
                         sqlite3_errmsg(ix->db));
        return rc;
    }
    rc = idx_rank_register(ix->db, &ix->rank);
    if (rc != ASKDOCS_OK)
        askdocs_snprintf(err, errlen,
                         "cannot register the BM25 ranking function: %s",
                         sqlite3_errmsg(ix->db));
    return rc;
}

/* An index tokenized by an older analyser: a writer re-tokenizes the FTS5
 * table from the stored chunk text (one transaction; tens of thousands of
 * chunks a second), a reader warns. */
static askdocs_rc check_analyzer_version(askdocs_index *ix)
{
    char v[32], want[32];
    askdocs_rc rc;
    if (idx_meta_get(ix, "analyzer_version", v, sizeof(v)) != ASKDOCS_OK)
        askdocs_snprintf(v, sizeof(v), "1");
    if (atoi(v) >= IDX_ANALYZER_VERSION)
        return ASKDOCS_OK;
    if (!ix->writable) {
        askdocs_log(1, "the index in %s was tokenized by an older analyser "
                       "(version %s); run askdocs index on it to update",
                    ix->dir, v);
        return ASKDOCS_OK;
    }
    askdocs_log(1, "re-tokenizing the BM25 index of %s for analyser version %d",
                ix->dir, IDX_ANALYZER_VERSION);
    askdocs_snprintf(want, sizeof(want), "%d", IDX_ANALYZER_VERSION);
    rc = idx_exec(ix, "BEGIN IMMEDIATE");
    if (rc != ASKDOCS_OK)
        return rc;
    rc = idx_exec(ix, "INSERT INTO chunks_fts(chunks_fts) VALUES('rebuild')");
    if (rc == ASKDOCS_OK)
        rc = idx_meta_set(ix, "analyzer_version", want);
    if (rc == ASKDOCS_OK)
        rc = idx_exec(ix, "COMMIT");
    if (rc != ASKDOCS_OK)
        sqlite3_exec(ix->db, "ROLLBACK", NULL, NULL, NULL);
    return rc;
}

askdocs_rc askdocs_index_open(const char *data_dir, int writable,
                              const askdocs_config *conf,
                              askdocs_index **out, char *err, size_t errlen)
{
    askdocs_index *ix = NULL;
    struct stat st;
    askdocs_rc rc = ASKDOCS_OK;
    int flags;

    *out = NULL;
    if (!data_dir || !*data_dir) {
        askdocs_snprintf(err, errlen, "no data directory given (--data DIR)");
        return ASKDOCS_ERR_INVALID;
    }
    ix = askdocs_calloc(1, sizeof(*ix));
    if (!ix)
        return ASKDOCS_ERR_NOMEM;
    ix->lock_fd = -1;
    ix->writable = writable;
    idx_vector_params_from_conf(&ix->vp, conf);
    ix->heading_weight = conf ? conf->heading_weight : 0.5;
    ix->bm25_prune = conf ? conf->bm25_prune : 1;
    ix->rank.k1 = conf ? conf->bm25_k1 : 1.2;
    ix->rank.b = conf ? conf->bm25_b : 0.75;
    askdocs_snprintf(ix->dir, sizeof(ix->dir), "%s", data_dir);
    askdocs_snprintf(ix->db_path, sizeof(ix->db_path), "%s/askdocs.db",
                     data_dir);
    if (writable) {
        char lock[4200];
        rc = askdocs_mkdirs(data_dir, err, errlen);
        if (rc != ASKDOCS_OK)
            goto fail;
        askdocs_snprintf(lock, sizeof(lock), "%s/writer.lock", data_dir);
        ix->lock_fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
        if (ix->lock_fd < 0) {
            askdocs_snprintf(err, errlen, "cannot create %s: %s", lock,
                             strerror(errno));
            rc = ASKDOCS_ERR_IO;
            goto fail;
        }
        if (flock(ix->lock_fd, LOCK_EX | LOCK_NB) != 0) {
            askdocs_snprintf(err, errlen,
                             "%s is being written by another askdocs "
                             "process; wait for it to finish",
                             data_dir);
            rc = ASKDOCS_ERR_IO;
            goto fail;
        }
    } else if (stat(ix->db_path, &st) != 0) {
        askdocs_snprintf(err, errlen,
                         "no index in %s (missing askdocs.db); create one "
                         "with: askdocs index --data %s FOLDER",
                         data_dir, data_dir);
        rc = ASKDOCS_ERR_NOTFOUND;
        goto fail;
    }
    flags = SQLITE_OPEN_READWRITE | (writable ? SQLITE_OPEN_CREATE : 0) |
            SQLITE_OPEN_NOMUTEX;
    if (sqlite3_open_v2(ix->db_path, &ix->db, flags, NULL) != SQLITE_OK) {
        askdocs_snprintf(err, errlen, "cannot open %s: %s", ix->db_path,
                         ix->db ? sqlite3_errmsg(ix->db) : "out of memory");
        rc = ASKDOCS_ERR_DB;
        goto fail;
    }
    sqlite3_busy_timeout(ix->db, 10000);
    rc = open_analyzer(ix, conf, err, errlen);
    if (rc != ASKDOCS_OK)
        goto fail;
    rc = idx_exec(ix, "PRAGMA foreign_keys=ON");
    if (rc == ASKDOCS_OK && writable)
        rc = idx_exec(ix, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL");
    if (rc == ASKDOCS_OK && writable &&
        sqlite3_table_column_metadata(ix->db, NULL, "meta", "key", NULL, NULL,
                                      NULL, NULL, NULL) != SQLITE_OK)
        rc = create_schema(ix);
    if (rc == ASKDOCS_OK)
        rc = load_meta(ix);
    if (rc == ASKDOCS_OK)
        rc = check_analyzer_version(ix);
    if (rc != ASKDOCS_OK) {
        askdocs_snprintf(err, errlen, "%s", ix->errmsg);
        goto fail;
    }
    *out = ix;
    return ASKDOCS_OK;
fail:
    askdocs_index_close(ix);
    return rc;
}

void askdocs_index_close(askdocs_index *ix)
{
    if (!ix)
        return;
    idx_vectors_free(ix);
    idx_df_cache_free(ix->dfc);
    if (ix->db)
        sqlite3_close(ix->db);
    idx_analyzer_free(ix->analyzer); /* after the connection that uses it */
    if (ix->lock_fd >= 0)
        close(ix->lock_fd);
    askdocs_free(ix);
}

const char *askdocs_index_errmsg(const askdocs_index *ix)
{
    if (!ix)
        return "no index";
    return ix->errmsg[0] ? ix->errmsg : askdocs_strerror(ix->rc);
}

int askdocs_index_dim(const askdocs_index *ix) { return ix->dim; }

const char *askdocs_index_embed_model(const askdocs_index *ix)
{
    return ix->embed_model;
}

const char *idx_base_name(const char *p)
{
    const char *s = strrchr(p, '/');
    return s ? s + 1 : p;
}

askdocs_rc askdocs_index_check_embedder(askdocs_index *ix,
                                        const char *model_path, int dim)
{
    const char *name = idx_base_name(model_path);
    if (!ix->embed_model[0])
        return ASKDOCS_OK; /* empty index: any model */
    if (strcmp(ix->embed_model, name) != 0 || ix->dim != dim) {
        idx_set_error(ix, ASKDOCS_ERR_CONFIG,
                      "the index in %s was built with embedding model %s "
                      "(%d dimensions) but %s (%d dimensions) is configured; "
                      "configure [embed] model to the same file or re-index "
                      "into a new data directory",
                      ix->dir, ix->embed_model, ix->dim, name, dim);
        return ASKDOCS_ERR_CONFIG;
    }
    return ASKDOCS_OK;
}

askdocs_rc idx_record_embedder(askdocs_index *ix, const char *model_path,
                               int dim)
{
    char v[32];
    askdocs_rc rc;
    if (ix->embed_model[0])
        return askdocs_index_check_embedder(ix, model_path, dim);
    askdocs_snprintf(v, sizeof(v), "%d", dim);
    rc = idx_meta_set(ix, "embed_model", idx_base_name(model_path));
    if (rc == ASKDOCS_OK)
        rc = idx_meta_set(ix, "embed_dim", v);
    if (rc == ASKDOCS_OK) {
        askdocs_snprintf(ix->embed_model, sizeof(ix->embed_model), "%s",
                         idx_base_name(model_path));
        ix->dim = dim;
    }
    return rc;
}

/* --------------------------------------------------------------- reading */
/* One chunk by id (ordinal < 0) or by document and ordinal. */
static askdocs_rc get_chunk(askdocs_index *ix, int64_t id, int ordinal,
                            askdocs_chunk_info *c)
{
    sqlite3_stmt *st = NULL;
    askdocs_rc rc = ASKDOCS_OK;
    int r;
    memset(c, 0, sizeof(*c));
    if (sqlite3_prepare_v2(
            ix->db,
            ordinal < 0
                ? "SELECT c.id, c.doc_id, c.ordinal, c.page_start, c.page_end,"
                  " c.char_start, c.char_end, d.rel, d.title, c.heading,"
                  " c.text, d.collection FROM chunks c"
                  " JOIN documents d ON d.id=c.doc_id WHERE c.id=?1"
                : "SELECT c.id, c.doc_id, c.ordinal, c.page_start, c.page_end,"
                  " c.char_start, c.char_end, d.rel, d.title, c.heading,"
                  " c.text, d.collection FROM chunks c"
                  " JOIN documents d ON d.id=c.doc_id"
                  " WHERE c.doc_id=?1 AND c.ordinal=?2",
            -1, &st, NULL) != SQLITE_OK)
        return idx_db_error(ix, "reading a chunk");
    sqlite3_bind_int64(st, 1, id);
    if (ordinal >= 0)
        sqlite3_bind_int(st, 2, ordinal);
    r = sqlite3_step(st);
    if (r == SQLITE_ROW) {
        c->id = sqlite3_column_int64(st, 0);
        c->doc_id = sqlite3_column_int64(st, 1);
        c->ordinal = sqlite3_column_int(st, 2);
        c->page_start = sqlite3_column_int(st, 3);
        c->page_end = sqlite3_column_int(st, 4);
        c->char_start = sqlite3_column_int(st, 5);
        c->char_end = sqlite3_column_int(st, 6);
        c->doc = askdocs_strdup((const char *)sqlite3_column_text(st, 7));
        c->title = askdocs_strdup((const char *)sqlite3_column_text(st, 8));
        c->heading = askdocs_strdup((const char *)sqlite3_column_text(st, 9));
        c->text = askdocs_strdup((const char *)sqlite3_column_text(st, 10));
        c->collection =
            askdocs_strdup((const char *)sqlite3_column_text(st, 11));
        if (!c->doc || !c->text || !c->collection) {
            askdocs_chunk_info_clear(c);
            rc = ASKDOCS_ERR_NOMEM;
        }
    } else if (r == SQLITE_DONE) {
        rc = ASKDOCS_ERR_NOTFOUND;
    } else {
        rc = idx_db_error(ix, "reading a chunk");
    }
    sqlite3_finalize(st);
    return rc;
}

askdocs_rc askdocs_index_get_chunk(askdocs_index *ix, int64_t id,
                                   askdocs_chunk_info *c)
{
    return get_chunk(ix, id, -1, c);
}

askdocs_rc askdocs_index_get_neighbor(askdocs_index *ix,
                                      const askdocs_chunk_info *c, int delta,
                                      askdocs_chunk_info *out)
{
    int o = c->ordinal + delta;
    if (o < 0) {
        memset(out, 0, sizeof(*out));
        return ASKDOCS_ERR_NOTFOUND;
    }
    return get_chunk(ix, c->doc_id, o, out);
}

int askdocs_estimate_tokens(const char *s, size_t n)
{
    return idx_estimate_tokens(s, n);
}

void askdocs_chunk_info_clear(askdocs_chunk_info *c)
{
    if (!c)
        return;
    askdocs_free(c->doc);
    askdocs_free(c->title);
    askdocs_free(c->heading);
    askdocs_free(c->text);
    askdocs_free(c->collection);
    memset(c, 0, sizeof(*c));
}

#define MAX_FILTER_VALUES 64

int idx_filter_active(const askdocs_filter *f)
{
    return f && (f->restricted || f->n_collections > 0 || f->n_types > 0 ||
                 (f->lang && *f->lang) || (f->date_from && *f->date_from) ||
                 (f->date_to && *f->date_to) ||
                 (f->path_prefix && *f->path_prefix));
}

askdocs_rc idx_check_filter(askdocs_index *ix, const askdocs_filter *f)
{
    if (f && (f->n_collections > MAX_FILTER_VALUES ||
              f->n_types > MAX_FILTER_VALUES || f->n_collections < 0 ||
              f->n_types < 0 || f->n_readable < 0 ||
              f->n_readable > MAX_FILTER_VALUES)) {
        idx_set_error(ix, ASKDOCS_ERR_INVALID,
                      "at most %d collections and %d types per search",
                      MAX_FILTER_VALUES, MAX_FILTER_VALUES);
        return ASKDOCS_ERR_INVALID;
    }
    return ASKDOCS_OK;
}

/* Append " AND ..." conditions on documents d for f, with parameters
 * numbered from *param on; filter_bind binds them in the same order. */
askdocs_rc idx_filter_sql(const askdocs_filter *f, askdocs_buf *sql,
                             int param)
{
    askdocs_rc rc = ASKDOCS_OK;
    int i;
    if (!idx_filter_active(f))
        return ASKDOCS_OK;
    if (f->restricted) {
        if (f->n_readable <= 0) {
            rc = askdocs_buf_puts(sql, " AND 0");
        } else {
            rc = askdocs_buf_puts(sql, " AND d.collection IN (");
            for (i = 0; rc == ASKDOCS_OK && i < f->n_readable; i++)
                rc = askdocs_buf_printf(sql, "%s?%d", i ? "," : "", param++);
            if (rc == ASKDOCS_OK)
                rc = askdocs_buf_puts(sql, ")");
        }
    }
    if (rc == ASKDOCS_OK && f->n_collections > 0) {
        rc = askdocs_buf_puts(sql, " AND d.collection IN (");
        for (i = 0; rc == ASKDOCS_OK && i < f->n_collections; i++)
            rc = askdocs_buf_printf(sql, "%s?%d", i ? "," : "", param++);
        if (rc == ASKDOCS_OK)
            rc = askdocs_buf_puts(sql, ")");
    }
    if (rc == ASKDOCS_OK && f->n_types > 0) {
        rc = askdocs_buf_puts(sql, " AND d.type IN (");
        for (i = 0; rc == ASKDOCS_OK && i < f->n_types; i++)
            rc = askdocs_buf_printf(sql, "%s?%d", i ? "," : "", param++);
        if (rc == ASKDOCS_OK)
            rc = askdocs_buf_puts(sql, ")");
    }
    if (rc == ASKDOCS_OK && f->lang && *f->lang)
        rc = askdocs_buf_printf(sql, " AND d.lang = ?%d", param++);
    if (rc == ASKDOCS_OK && f->path_prefix && *f->path_prefix) {
        /* a prefix compare, not LIKE: no wildcard in a path can widen it */
        int pp = param++;
        rc = askdocs_buf_printf(sql, " AND substr(d.rel, 1, length(?%d)) = ?%d",
                                pp, pp);
    }
    if (rc == ASKDOCS_OK && ((f->date_from && *f->date_from) ||
                             (f->date_to && *f->date_to))) {
        int a = param++, b = param++;
        rc = askdocs_buf_printf(sql,
                                " AND EXISTS (SELECT 1 FROM doc_dates x"
                                " WHERE x.doc_id = d.id AND x.date >= ?%d"
                                " AND x.date <= ?%d)",
                                a, b);
    }
    return rc;
}

void idx_filter_bind(sqlite3_stmt *st, const askdocs_filter *f, int param)
{
    int i;
    if (!idx_filter_active(f))
        return;
    if (f->restricted)
        for (i = 0; i < f->n_readable; i++)
            sqlite3_bind_text(st, param++, f->readable[i], -1, SQLITE_STATIC);
    for (i = 0; i < f->n_collections; i++)
        sqlite3_bind_text(st, param++, f->collections[i], -1, SQLITE_STATIC);
    for (i = 0; i < f->n_types; i++)
        sqlite3_bind_text(st, param++, f->types[i], -1, SQLITE_STATIC);
    if (f->lang && *f->lang)
        sqlite3_bind_text(st, param++, f->lang, -1, SQLITE_STATIC);
    if (f->path_prefix && *f->path_prefix)
        sqlite3_bind_text(st, param++, f->path_prefix, -1, SQLITE_STATIC);
    if ((f->date_from && *f->date_from) || (f->date_to && *f->date_to)) {
        sqlite3_bind_text(st, param++,
                          f->date_from && *f->date_from ? f->date_from
                                                        : "0000-00-00",
                          -1, SQLITE_STATIC);
        sqlite3_bind_text(st, param++,
                          f->date_to && *f->date_to ? f->date_to
                                                    : "9999-99-99",
                          -1, SQLITE_STATIC);
    }
}

askdocs_rc askdocs_index_match(askdocs_index *ix, const char *q, size_t n,
                               askdocs_buf *out)
{
    askdocs_rc rc = idx_analyzer_match(ix->analyzer, q, n, out);
    if (rc != ASKDOCS_OK)
        idx_set_error(ix, rc, "analysing the query: %s", askdocs_strerror(rc));
    return rc;
}

const char *askdocs_index_tokenizer(const askdocs_index *ix)
{
    return idx_analyzer_name(ix->analyzer);
}

/* One BM25 statement: match as is; skip >= 0 ranks with askdocs_bm25
 * (skip = phrases only restricting rows), -1 with FTS5's bm25(). */
static askdocs_rc bm25_run(askdocs_index *ix, const char *match, int skip,
                           const char *dfs, const askdocs_filter *f,
                           int limit, int64_t *ids, double *scores,
                           int *n_out)
{
    askdocs_buf sql;
    sqlite3_stmt *st = NULL;
    askdocs_rc rc;
    int r = SQLITE_DONE, n = 0;

    *n_out = 0;
    askdocs_buf_init(&sql, 8192);
    /* heading paths (title, section) weigh less than the body text
     * ([search] heading_weight, 0.5); askdocs_bm25 (rank.c) gives bm25()'s
     * order for the top ?2 rows without every row's length lookup */
    if (skip >= 0)
        rc = askdocs_buf_printf(&sql,
                                "SELECT f.rowid, askdocs_bm25(chunks_fts, ?2,"
                                " %d, 1.0, %.3f%s) AS s FROM chunks_fts f",
                                skip, ix->heading_weight, dfs ? dfs : "");
    else
        rc = askdocs_buf_printf(&sql,
                                "SELECT f.rowid, bm25(chunks_fts, 1.0, %.3f)"
                                " AS s FROM chunks_fts f",
                                ix->heading_weight);
    if (rc == ASKDOCS_OK && idx_filter_active(f)) {
        rc = askdocs_buf_puts(&sql, " JOIN chunks c ON c.id=f.rowid"
                                    " JOIN documents d ON d.id=c.doc_id");
    }
    if (rc == ASKDOCS_OK)
        rc = askdocs_buf_puts(&sql, " WHERE chunks_fts MATCH ?1");
    if (rc == ASKDOCS_OK)
        rc = idx_filter_sql(f, &sql, 3);
    if (rc == ASKDOCS_OK)
        rc = askdocs_buf_puts(&sql, " ORDER BY s LIMIT ?2");
    if (rc != ASKDOCS_OK)
        goto out;
    if (sqlite3_prepare_v2(ix->db, sql.data, -1, &st, NULL) != SQLITE_OK) {
        rc = idx_db_error(ix, "preparing the BM25 query");
        goto out;
    }
    sqlite3_bind_text(st, 1, match, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 2, limit);
    idx_filter_bind(st, f, 3);
    while (n < limit && (r = sqlite3_step(st)) == SQLITE_ROW) {
        ids[n] = sqlite3_column_int64(st, 0);
        scores[n] = -sqlite3_column_double(st, 1); /* bm25(): lower = better */
        n++;
    }
    if (n < limit && r != SQLITE_DONE) {
        rc = idx_db_error(ix, "BM25 search");
        goto out;
    }
    *n_out = n;
out:
    sqlite3_finalize(st);
    askdocs_buf_free(&sql);
    return rc;
}

askdocs_rc askdocs_index_bm25(askdocs_index *ix, const char *match,
                              const askdocs_filter *f, int limit,
                              int64_t *ids, double *scores, int *n_out)
{
    askdocs_buf split, dfs;
    idx_bm25_plan *plan = NULL;
    askdocs_rc rc;
    int ne = 0, txn = 0;
    double bound = 0, theta, t0 = askdocs_now_ms();

    *n_out = 0;
    if (!match || !*match || limit <= 0)
        return ASKDOCS_OK;
    rc = idx_check_filter(ix, f);
    if (rc != ASKDOCS_OK)
        return rc;
    if (!ix->bm25_prune)
        return bm25_run(ix, match, -1, NULL, f, limit, ids, scores, n_out);
    askdocs_buf_init(&split, 256 * 1024);
    askdocs_buf_init(&dfs, 16 * 1024);
    /* one read snapshot for the plan and every run (rank.c, MaxScore) */
    if (sqlite3_get_autocommit(ix->db) &&
        sqlite3_exec(ix->db, "BEGIN", NULL, NULL, NULL) == SQLITE_OK)
        txn = 1;
    rc = idx_bm25_plan_create(ix->db, match, &ix->dfc, &plan);
    if (rc != ASKDOCS_OK || !plan)
        goto full;
    /* the terms' frequencies, so askdocs_bm25 need not count them */
    if (!idx_bm25_plan_dfs(plan, &dfs))
        askdocs_buf_reset(&dfs);
    /* 1: rows with a rare term only. Exact when the K-th score found beats
     * the bound of the rows left out */
    rc = idx_bm25_plan_expr(plan, HUGE_VAL, ix->rank.k1, &split, &ne, &bound);
    if (rc != ASKDOCS_OK || split.len == 0)
        goto full;
    rc = bm25_run(ix, split.data, ne, dfs.len ? dfs.data : NULL, f, limit,
                  ids, scores, n_out);
    if (rc != ASKDOCS_OK || *n_out < limit)
        goto full;
    if (scores[limit - 1] > bound) {
        askdocs_log(2, "bm25: rare terms only (%d of them) decided the top %d",
                    ne, limit);
        goto out;
    }
    /* 2: the K-th score found is a floor of the true K-th: leave out only
     * the common terms whose bound stays below it (exact by itself) */
    theta = scores[limit - 1];
    askdocs_buf_reset(&split);
    rc = idx_bm25_plan_expr(plan, theta, ix->rank.k1, &split, &ne, &bound);
    if (rc != ASKDOCS_OK || split.len == 0)
        goto full;
    rc = bm25_run(ix, split.data, ne, dfs.len ? dfs.data : NULL, f, limit,
                  ids, scores, n_out);
    if (rc == ASKDOCS_OK) {
        askdocs_log(2, "bm25: second pass with %d required terms", ne);
        goto out;
    }
full:
    if (rc == ASKDOCS_OK || rc == ASKDOCS_ERR_DB) {
        rc = bm25_run(ix, match, 0, dfs.len ? dfs.data : NULL, f, limit,
                      ids, scores, n_out);
        askdocs_log(2, "bm25: every row of every term (%s)",
                    plan ? "the split could not decide" : "no common term");
    }
out:
    askdocs_log(2, "bm25: %.2f ms", askdocs_now_ms() - t0);
    if (txn)
        sqlite3_exec(ix->db, "COMMIT", NULL, NULL, NULL);
    idx_bm25_plan_free(plan);
    askdocs_buf_free(&split);
    askdocs_buf_free(&dfs);
    return rc;
}

askdocs_rc askdocs_index_counts(askdocs_index *ix, int64_t *docs,
                                int64_t *chunks)
{
    sqlite3_stmt *st = NULL;
    askdocs_rc rc = ASKDOCS_OK;
    if (sqlite3_prepare_v2(ix->db,
                           "SELECT (SELECT count(*) FROM documents),"
                           " (SELECT count(*) FROM chunks)",
                           -1, &st, NULL) != SQLITE_OK)
        return idx_db_error(ix, "counting");
    if (sqlite3_step(st) == SQLITE_ROW) {
        *docs = sqlite3_column_int64(st, 0);
        *chunks = sqlite3_column_int64(st, 1);
    } else {
        rc = idx_db_error(ix, "counting");
    }
    sqlite3_finalize(st);
    return rc;
}

/* --------------------------------------------------------------- status */
static int64_t count_of(askdocs_index *ix, const char *sql, int *ok)
{
    sqlite3_stmt *st = NULL;
    int64_t v = -1;
    if (sqlite3_prepare_v2(ix->db, sql, -1, &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_int64(st, 0);
    else
        *ok = 0;
    sqlite3_finalize(st);
    return v;
}

askdocs_rc askdocs_index_status(askdocs_index *ix, int check,
                                askdocs_index_status_info *out)
{
    int ok = 1;
    char path[4200];
    memset(out, 0, sizeof(*out));
    out->consistent = 1;
    out->documents = count_of(ix, "SELECT count(*) FROM documents", &ok);
    out->chunks = count_of(ix, "SELECT count(*) FROM chunks", &ok);
    out->embeddings = count_of(ix, "SELECT count(*) FROM embeddings", &ok);
    out->pages = count_of(ix, "SELECT coalesce(sum(n_pages),0) FROM documents",
                          &ok);
    out->bytes = count_of(ix, "SELECT coalesce(sum(size),0) FROM documents",
                          &ok);
    out->generation = idx_generation(ix);
    out->dim = ix->dim;
    out->vectors = -1;
    askdocs_snprintf(out->tokenizer, sizeof(out->tokenizer), "%s",
                     idx_analyzer_name(ix->analyzer));
    askdocs_snprintf(out->embed_model, sizeof(out->embed_model), "%s",
                     ix->embed_model);
    idx_vector_path(ix, out->generation, path, sizeof(path));
    out->vector_file_current = access(path, R_OK) == 0;
    if (!ok)
        return idx_db_error(ix, "reading index status");
    if (!check)
        return ASKDOCS_OK;
#define PROBLEM(...)                                                         \
    do {                                                                     \
        if (out->consistent)                                                 \
            askdocs_snprintf(out->problem, sizeof(out->problem), __VA_ARGS__); \
        out->consistent = 0;                                                 \
    } while (0)
    {
        sqlite3_stmt *st = NULL;
        if (sqlite3_prepare_v2(ix->db, "PRAGMA quick_check", -1, &st, NULL) ==
                SQLITE_OK &&
            sqlite3_step(st) == SQLITE_ROW) {
            const char *r = (const char *)sqlite3_column_text(st, 0);
            if (!r || strcmp(r, "ok") != 0)
                PROBLEM("SQLite quick_check: %s", r ? r : "?");
        } else {
            PROBLEM("SQLite quick_check failed: %s", sqlite3_errmsg(ix->db));
        }
        sqlite3_finalize(st);
    }
    /* a write statement that changes nothing: needs no writer to be busy */
    if (sqlite3_exec(ix->db,
                     "INSERT INTO chunks_fts(chunks_fts, rank) "
                     "VALUES('integrity-check', 1)",
                     NULL, NULL, NULL) != SQLITE_OK)
        PROBLEM("the full-text index does not match the chunks: %s",
                sqlite3_errmsg(ix->db));
    {
        int64_t bad = count_of(ix,
                               "SELECT count(*) FROM documents d WHERE"
                               " d.n_chunks != (SELECT count(*) FROM chunks c"
                               " WHERE c.doc_id = d.id)",
                               &ok);
        if (bad != 0)
            PROBLEM("%lld documents are missing chunks", (long long)bad);
    }
    if (ix->dim > 0 && out->embeddings != out->chunks)
        PROBLEM("%lld chunks but %lld embeddings", (long long)out->chunks,
                (long long)out->embeddings);
    if (idx_vectors_ready(ix) != ASKDOCS_OK)
        PROBLEM("vectors: %s", ix->errmsg);
    else if (ix->vectors) {
        out->vectors = idx_vectors_total(ix);
        askdocs_snprintf(out->vector_index, sizeof(out->vector_index), "%s",
                         idx_vec_kind_name(ix->vec_kind));
        /* approximate kinds keep removed vectors as tombstones */
        if (ix->vec_kind == IDX_VEC_FLAT ? out->vectors != out->embeddings
                                         : out->vectors < out->embeddings)
            PROBLEM("the vector index holds %lld vectors for %lld embeddings",
                    (long long)out->vectors, (long long)out->embeddings);
    } else if (out->embeddings > 0) {
        PROBLEM("%lld embeddings but no vector index",
                (long long)out->embeddings);
    }
#undef PROBLEM
    return ok ? ASKDOCS_OK : idx_db_error(ix, "checking the index");
}

/* ------------------------------------------------------- matched terms */
#define MAX_EXPLAIN_TERMS 64
#define MAX_EXPLAIN_TERM 128

typedef struct term_set {
    char t[MAX_EXPLAIN_TERMS][MAX_EXPLAIN_TERM + 1];
    unsigned char hit[MAX_EXPLAIN_TERMS];
    int n;
} term_set;

static int add_query_term(void *user, const char *term, size_t len,
                          size_t start, size_t end)
{
    term_set *ts = user;
    int i;
    (void)start;
    (void)end;
    if (len == 0 || len > MAX_EXPLAIN_TERM)
        return 0;
    for (i = 0; i < ts->n; i++)
        if (strlen(ts->t[i]) == len && memcmp(ts->t[i], term, len) == 0)
            return 0;
    if (ts->n >= MAX_EXPLAIN_TERMS)
        return 1; /* enough */
    memcpy(ts->t[ts->n], term, len);
    ts->t[ts->n][len] = '\0';
    ts->n++;
    return 0;
}

static int mark_text_term(void *user, const char *term, size_t len,
                          size_t start, size_t end)
{
    term_set *ts = user;
    int i;
    (void)start;
    (void)end;
    for (i = 0; i < ts->n; i++)
        if (!ts->hit[i] && strlen(ts->t[i]) == len &&
            memcmp(ts->t[i], term, len) == 0)
            ts->hit[i] = 1;
    return 0;
}

askdocs_rc askdocs_index_matched_terms(askdocs_index *ix, const char *query,
                                       const char *text, askdocs_buf *out)
{
    term_set *ts = askdocs_calloc(1, sizeof(*ts));
    askdocs_rc rc;
    int i, first = 1;
    if (!ts)
        return ASKDOCS_ERR_NOMEM;
    rc = idx_analyzer_terms(ix->analyzer, query, strlen(query), 1,
                            add_query_term, ts);
    if (rc == ASKDOCS_OK || rc == ASKDOCS_ERR_ABORTED)
        rc = idx_analyzer_terms(ix->analyzer, text, strlen(text), 0,
                                mark_text_term, ts);
    for (i = 0; rc == ASKDOCS_OK && i < ts->n; i++)
        if (ts->hit[i]) {
            if (!first)
                rc = askdocs_buf_append(out, " ", 1);
            if (rc == ASKDOCS_OK)
                rc = askdocs_buf_puts(out, ts->t[i]);
            first = 0;
        }
    askdocs_free(ts);
    return rc;
}
