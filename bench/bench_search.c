/*
 * bench_search.c - search latency per mode over an existing index.
 *
 *   bench_search DATA_DIR QUERIES.jsonl [N] [K]
 *
 * Reads up to N (default 200) {"query": ...} or {"question": ...} lines,
 * runs each once per mode (hybrid, bm25, dense, and hybrid on one thread;
 * query embedding included) after one warm-up pass, and prints p50 / p90 /
 * p99 / mean latency in ms.
 * The warm-up pass runs the next N lines of the file when it has them (so
 * the timed queries are not repeats), else the same N.
 *
 * The peer on the same run: plain FTS5 (unicode61 remove_diacritics 2,
 * FTS5's own bm25()) over the same chunk texts, copied into an in-memory
 * database; each query's words quoted and OR'ed, ORDER BY rank LIMIT K.
 * Set BENCH_NO_PEER=1 to skip it.
 */
#include <jansson.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "askdocs_conf.h"
#include "askdocs_retriever.h"

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double pct(const double *v, int n, double p)
{
    int i = (int)(p * (n - 1) + 0.5);
    return v[i < 0 ? 0 : i >= n ? n - 1 : i];
}

/* Plain FTS5 over the chunks of DATA_DIR/askdocs.db: the peer. */
static void bench_peer(const char *dir, char **queries, int n,
                       char **warm, int nwarm, int k)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    char path[4096], *sql = NULL;
    double *t = calloc((size_t)n + 1, sizeof(double)), sum = 0, t0;
    int i, pass;

    snprintf(path, sizeof(path), "file:%s/askdocs.db?mode=ro", dir);
    if (!t || sqlite3_open(":memory:", &db) != SQLITE_OK)
        goto out;
    sql = sqlite3_mprintf("ATTACH %Q AS src", path);
    t0 = askdocs_now_ms();
    if (sqlite3_exec(db, "PRAGMA temp_store=memory", NULL, NULL, NULL) ||
        sqlite3_db_config(db, SQLITE_DBCONFIG_ENABLE_LOAD_EXTENSION, 0, NULL) ||
        sqlite3_exec(db, sql, NULL, NULL, NULL) ||
        sqlite3_exec(db,
                     "CREATE VIRTUAL TABLE p USING fts5(text, tokenize="
                     "'unicode61 remove_diacritics 2');"
                     "INSERT INTO p(rowid, text) SELECT id, text FROM "
                     "src.chunks;",
                     NULL, NULL, NULL)) {
        fprintf(stderr, "peer: %s\n", sqlite3_errmsg(db));
        goto out;
    }
    printf("(peer: plain FTS5 table of the same chunks built in %.1f s)\n",
           (askdocs_now_ms() - t0) / 1000.0);
    if (sqlite3_prepare_v2(db,
                           "SELECT rowid FROM p WHERE p MATCH ?1"
                           " ORDER BY rank LIMIT ?2",
                           -1, &st, NULL) != SQLITE_OK)
        goto out;
    for (pass = 0; pass < 2; pass++)
        for (i = 0; i < (pass ? n : nwarm); i++) {
            /* the query's words, each quoted, OR'ed */
            char m[8192];
            size_t mn = 0;
            const char *q = pass ? queries[i] : warm[i];
            while (*q && mn + 8 < sizeof(m)) {
                while (*q && !((unsigned char)*q >= 0x80 ||
                               (*q >= '0' && *q <= '9') ||
                               ((*q | 0x20) >= 'a' && (*q | 0x20) <= 'z')))
                    q++;
                if (!*q)
                    break;
                if (mn)
                    mn += (size_t)snprintf(m + mn, sizeof(m) - mn, " OR ");
                m[mn++] = '"';
                while (*q && mn + 4 < sizeof(m) &&
                       ((unsigned char)*q >= 0x80 || (*q >= '0' && *q <= '9') ||
                        ((*q | 0x20) >= 'a' && (*q | 0x20) <= 'z')))
                    m[mn++] = *q++;
                m[mn++] = '"';
            }
            m[mn] = '\0';
            t0 = askdocs_now_ms();
            sqlite3_reset(st);
            sqlite3_bind_text(st, 1, m, -1, SQLITE_TRANSIENT);
            sqlite3_bind_int(st, 2, k);
            while (mn && sqlite3_step(st) == SQLITE_ROW)
                ;
            if (pass)
                t[i] = askdocs_now_ms() - t0;
        }
    for (i = 0; i < n; i++)
        sum += t[i];
    qsort(t, (size_t)n, sizeof(double), cmp_double);
    printf("%-7s %8.2f %8.2f %8.2f %8.2f\n", "fts5", pct(t, n, 0.5),
           pct(t, n, 0.9), pct(t, n, 0.99), n ? sum / n : 0);
out:
    sqlite3_finalize(st);
    sqlite3_free(sql);
    sqlite3_close(db);
    free(t);
}

int main(int argc, char **argv)
{
    askdocs_config conf;
    askdocs_index *ix = NULL;
    idx_embedder *emb = NULL;
    idx_embedder_params ep = idx_embedder_default_params();
    char err[1024], *line = NULL, **queries = NULL;
    size_t cap = 0;
    int n = 0, max_q = argc > 3 ? atoi(argv[3]) : 200, k = argc > 4 ? atoi(argv[4]) : 10;
    int m, i, rc = 1, nwarm = 0, total;
    char **warm = NULL;
    char *model = NULL;
    FILE *f;
    /* "hybrid1": hybrid on one thread ([search] parallel = 0) */
    static const char *const names[] = {"hybrid", "bm25", "dense", "hybrid1"};

    if (argc < 3) {
        fprintf(stderr, "usage: bench_search DATA_DIR QUERIES.jsonl [N] [K]\n");
        return 2;
    }
    askdocs_log_level = 0;
    if (askdocs_config_defaults(&conf) != ASKDOCS_OK ||
        askdocs_config_apply_env(&conf, err, sizeof(err)) != ASKDOCS_OK) {
        fprintf(stderr, "configuration: %s\n", err);
        return 1;
    }
    f = fopen(argv[2], "r");
    if (!f) {
        perror(argv[2]);
        goto out;
    }
    queries = calloc((size_t)max_q * 2, sizeof(char *));
    while (n < max_q * 2 && getline(&line, &cap, f) > 0) {
        json_t *j = json_loads(line, 0, NULL), *q;
        if (!j)
            continue;
        q = json_object_get(j, "query");
        if (!q)
            q = json_object_get(j, "question");
        if (json_is_string(q))
            queries[n++] = strdup(json_string_value(q));
        json_decref(j);
    }
    fclose(f);
    if (n > max_q) {
        nwarm = n - max_q;
        warm = queries + max_q;
        n = max_q;
    } else {
        nwarm = n;
        warm = queries;
    }
    if (askdocs_index_open(argv[1], 0, &conf, &ix, err, sizeof(err)) != ASKDOCS_OK) {
        fprintf(stderr, "%s\n", err);
        goto out;
    }
    model = askdocs_resolve_model(conf.embed_model, ASKDOCS_DEFAULT_EMBED_MODEL);
    ep.model_path = model;
    ep.n_threads = conf.embed_threads;
    if (idx_embedder_open(&ep, &emb, err, sizeof(err)) != ASKDOCS_OK) {
        fprintf(stderr, "%s\n", err);
        goto out;
    }
    {
        int64_t docs = 0, chunks = 0;
        askdocs_index_counts(ix, &docs, &chunks);
        printf("index: %lld documents, %lld chunks; %d queries, k=%d\n",
               (long long)docs, (long long)chunks, n, k);
    }
    printf("%-7s %8s %8s %8s %8s\n", "mode", "p50_ms", "p90_ms", "p99_ms",
           "mean_ms");
    for (m = 0; m < 4; m++) {
        askdocs_retriever_params rp = askdocs_retriever_params_from_conf(&conf);
        askdocs_retriever *r = NULL;
        askdocs_hit *hits = calloc((size_t)k, sizeof(*hits));
        double *t = calloc((size_t)n + 1, sizeof(double)), sum = 0;
        int nh;
        rp.mode = m == 3 ? ASKDOCS_MODE_HYBRID : (askdocs_search_mode)m;
        if (m == 3)
            rp.parallel = 0;
        rp.k = k;
        if (askdocs_retriever_create(ix, emb, &rp, &r) != ASKDOCS_OK)
            goto out;
        for (i = 0; i < nwarm; i++) /* warms caches */
            askdocs_retriever_search(r, warm[i], NULL, hits, &nh);
        for (i = 0; i < n; i++) {
            double t0 = askdocs_now_ms();
            askdocs_retriever_search(r, queries[i], NULL, hits, &nh);
            t[i] = askdocs_now_ms() - t0;
        }
        for (i = 0; i < n; i++)
            sum += t[i];
        qsort(t, (size_t)n, sizeof(double), cmp_double);
        printf("%-7s %8.2f %8.2f %8.2f %8.2f\n", names[m], pct(t, n, 0.5),
               pct(t, n, 0.9), pct(t, n, 0.99), n ? sum / n : 0);
        askdocs_retriever_free(r);
        free(hits);
        free(t);
    }
    if (!getenv("BENCH_NO_PEER"))
        bench_peer(argv[1], queries, n, warm, nwarm, k);
    rc = 0;
out:
    total = n + (warm == queries + max_q ? nwarm : 0);
    for (i = 0; i < total; i++)
        free(queries[i]);
    free(queries);
    free(line);
    askdocs_free(model);
    idx_embedder_free(emb);
    askdocs_index_close(ix);
    askdocs_config_free(&conf);
    return rc;
}
