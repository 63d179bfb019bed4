/*
 * bench_search.c - search latency per mode over an existing index.
 *
 *   bench_search DATA_DIR QUERIES.jsonl [N] [K]
 *
 * Reads up to N (default 200) {"query": ...} or {"question": ...} lines,
 * runs each once per mode (bm25, dense, hybrid; query embedding included)
 * after one warm-up pass, and prints p50 / p90 / p99 / mean latency in ms.
 */
#include <jansson.h>
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

int main(int argc, char **argv)
{
    askdocs_config conf;
    askdocs_index *ix = NULL;
    idx_embedder *emb = NULL;
    idx_embedder_params ep = idx_embedder_default_params();
    char err[1024], *line = NULL, **queries = NULL;
    size_t cap = 0;
    int n = 0, max_q = argc > 3 ? atoi(argv[3]) : 200, k = argc > 4 ? atoi(argv[4]) : 10;
    int m, i, rc = 1;
    char *model = NULL;
    FILE *f;
    static const char *const names[] = {"hybrid", "bm25", "dense"};

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
    queries = calloc((size_t)max_q, sizeof(char *));
    while (n < max_q && getline(&line, &cap, f) > 0) {
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
    if (askdocs_index_open(argv[1], 0, &conf, &ix, err, sizeof(err)) != ASKDOCS_OK) {
        fprintf(stderr, "%s\n", err);
        goto out;
    }
    model = askdocs_resolve_model(conf.embed_model, ASKDOCS_DEFAULT_EMBED_MODEL);
    ep.model_path = model;
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
    for (m = 0; m < 3; m++) {
        askdocs_retriever_params rp = askdocs_retriever_params_from_conf(&conf);
        askdocs_retriever *r = NULL;
        askdocs_hit *hits = calloc((size_t)k, sizeof(*hits));
        double *t = calloc((size_t)n + 1, sizeof(double)), sum = 0;
        int nh, pass;
        rp.mode = (askdocs_search_mode)m;
        rp.k = k;
        if (askdocs_retriever_create(ix, emb, &rp, &r) != ASKDOCS_OK)
            goto out;
        for (pass = 0; pass < 2; pass++) /* pass 0 warms caches */
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
    rc = 0;
out:
    for (i = 0; i < n; i++)
        free(queries[i]);
    free(queries);
    free(line);
    askdocs_free(model);
    idx_embedder_free(emb);
    askdocs_index_close(ix);
    askdocs_config_free(&conf);
    return rc;
}
