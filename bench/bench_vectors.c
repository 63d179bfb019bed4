/*
 * bench_vectors.c - the approximate vector indexes against exact search.
 *
 *   bench_vectors DATA_DIR QUERIES.jsonl [N] [K] [KINDS]
 *
 * Embeds up to N (default 300) {"query"|"question": ...} lines once, then
 * for each kind in KINDS (default "flat,hnsw,ivfpq") opens the index with
 * [index] vector_index = kind (an index file of another kind is rebuilt in
 * memory: the build time is printed), runs every query through
 * askdocs_index_dense with limit K (default 10), and prints latency
 * percentiles and recall@K against the exact (flat) results: by id, and
 * counting a hit whose similarity ties the exact K-th (repeated text).
 * Other settings come from ASKDOCS_* variables, e.g.
 * ASKDOCS_SEARCH_HNSW_EF_SEARCH=32 or ASKDOCS_SEARCH_DENSE_REFINE=1.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "askdocs_conf.h"
#include "askdocs_indexer.h"

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
    idx_embedder *emb = NULL;
    idx_embedder_params ep = idx_embedder_default_params();
    char err[1024], *line = NULL, **queries = NULL, *model = NULL;
    char kinds[256], *save = NULL, *kind;
    size_t cap = 0;
    int n = 0, max_q = argc > 3 ? atoi(argv[3]) : 300;
    int k = argc > 4 ? atoi(argv[4]) : 10, dim = 0, i, rc = 1;
    float *qv = NULL;
    int64_t *truth = NULL, *ids = NULL;
    double *truth_s = NULL;
    double *scores = NULL, *t = NULL, embed_ms = 0;
    FILE *f;

    if (argc < 3 || k <= 0 || max_q <= 0) {
        fprintf(stderr,
                "usage: bench_vectors DATA_DIR QUERIES.jsonl [N] [K] [KINDS]\n");
        return 2;
    }
    snprintf(kinds, sizeof(kinds), "%s", argc > 5 ? argv[5] : "flat,hnsw,ivfpq");
    askdocs_log_level = 1;
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
    while (queries && n < max_q && getline(&line, &cap, f) > 0) {
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
    if (n == 0) {
        fprintf(stderr, "no queries in %s\n", argv[2]);
        goto out;
    }
    model = askdocs_resolve_model(conf.embed_model, ASKDOCS_DEFAULT_EMBED_MODEL);
    ep.model_path = model;
    ep.n_threads = conf.embed_threads;
    ep.query_prefix = conf.query_prefix;
    ep.passage_prefix = conf.passage_prefix;
    if (idx_embedder_open(&ep, &emb, err, sizeof(err)) != ASKDOCS_OK) {
        fprintf(stderr, "%s\n", err);
        goto out;
    }
    dim = idx_embedder_dim(emb);
    qv = calloc((size_t)n * (size_t)dim, sizeof(float));
    truth = calloc((size_t)n * (size_t)k, sizeof(int64_t));
    truth_s = calloc((size_t)n, sizeof(double));
    ids = calloc((size_t)k, sizeof(int64_t));
    scores = calloc((size_t)k, sizeof(double));
    t = calloc((size_t)n, sizeof(double));
    if (!qv || !truth || !truth_s || !ids || !scores || !t)
        goto out;
    for (i = 0; i < n; i++) {
        double t0 = askdocs_now_ms();
        const char *one = queries[i];
        if (idx_embedder_embed(emb, &one, 1, 1,
                               qv + (size_t)i * (size_t)dim) != ASKDOCS_OK) {
            fprintf(stderr, "embedding failed: %s\n", idx_embedder_errmsg(emb));
            goto out;
        }
        embed_ms += askdocs_now_ms() - t0;
    }
    printf("%d queries, k=%d, query embedding %.2f ms mean\n", n, k,
           embed_ms / n);
    printf("%-6s %9s %10s %8s %8s %8s %10s %10s\n", "index", "vectors",
           "build_s", "p50_ms", "p99_ms", "mean_ms", "recall@k", "with_ties");
    for (kind = strtok_r(kinds, ",", &save); kind;
         kind = strtok_r(NULL, ",", &save)) {
        askdocs_index *ix = NULL;
        askdocs_index_status_info st;
        double t0, build, sum = 0, hit = 0, want = 0, tied = 0;
        char e2[512];
        int pass, q;
        if (askdocs_config_set(&conf, "index", "vector_index", kind, e2,
                               sizeof(e2)) != ASKDOCS_OK) {
            fprintf(stderr, "%s\n", e2);
            goto out;
        }
        t0 = askdocs_now_ms();
        if (askdocs_index_open(argv[1], 0, &conf, &ix, err, sizeof(err)) !=
            ASKDOCS_OK) {
            fprintf(stderr, "%s\n", err);
            goto out;
        }
        /* the first search loads (or builds) the vector index */
        {
            int nh = 0;
            askdocs_index_dense(ix, qv, NULL, k, ids, scores, &nh);
        }
        build = (askdocs_now_ms() - t0) / 1000.0;
        askdocs_index_status(ix, 1, &st);
        for (pass = 0; pass < 2; pass++) /* pass 0 warms caches */
            for (q = 0; q < n; q++) {
                int nh = 0, a, b;
                double t1 = askdocs_now_ms();
                if (askdocs_index_dense(ix, qv + (size_t)q * (size_t)dim, NULL,
                                        k, ids, scores, &nh) != ASKDOCS_OK) {
                    fprintf(stderr, "%s\n", askdocs_index_errmsg(ix));
                    askdocs_index_close(ix);
                    goto out;
                }
                t[q] = askdocs_now_ms() - t1;
                if (pass == 0)
                    continue;
                if (strcmp(kind, "flat") == 0) {
                    for (a = 0; a < k; a++)
                        truth[(size_t)q * k + a] = a < nh ? ids[a] : -1;
                    truth_s[q] = nh > 0 ? scores[nh - 1] : 0;
                    continue;
                }
                /* ties: a hit as similar as the exact 10th counts too */
                for (b = 0; b < nh; b++) {
                    int in = 0;
                    for (a = 0; a < k; a++)
                        if (truth[(size_t)q * k + a] == ids[b])
                            in = 1;
                    if (in || scores[b] >= truth_s[q] - 1e-5)
                        tied++;
                }
                for (a = 0; a < k; a++) {
                    int64_t g = truth[(size_t)q * k + a];
                    if (g < 0)
                        continue;
                    want++;
                    for (b = 0; b < nh; b++)
                        if (ids[b] == g) {
                            hit++;
                            break;
                        }
                }
            }
        for (q = 0; q < n; q++)
            sum += t[q];
        qsort(t, (size_t)n, sizeof(double), cmp_double);
        printf("%-6s %9lld %10.1f %8.3f %8.3f %8.3f", st.vector_index,
               (long long)st.vectors, build, pct(t, n, 0.5), pct(t, n, 0.99),
               sum / n);
        if (strcmp(kind, "flat") == 0)
            printf(" %10s\n", "(exact)");
        else
            printf(" %10.4f %10.4f\n", want > 0 ? hit / want : 0.0,
                   want > 0 ? tied / want : 0.0);
        askdocs_index_close(ix);
    }
    rc = 0;
out:
    for (i = 0; queries && i < n; i++)
        free(queries[i]);
    free(queries);
    free(line);
    free(qv);
    free(truth);
    free(truth_s);
    free(ids);
    free(scores);
    free(t);
    askdocs_free(model);
    idx_embedder_free(emb);
    askdocs_config_free(&conf);
    return rc;
}
