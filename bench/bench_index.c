/*
 * bench_index.c - indexing throughput, stage by stage, over a folder of
 * documents: extraction (pages/s, MB/s), chunking, BM25 (FTS5 inserts with
 * the askdocs tokenizer, and with plain unicode61 on the same chunks for
 * comparison), embedding (chunks/s over a sample), and peak memory.
 *
 *   bench_index DIR [DICT_DIR|-] [EMBED_MODEL|-] [EMBED_SAMPLE]
 *
 * Prints one line per stage. Not a test: figures depend on the machine.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include <sqlite3.h>

#include "askdocs_common.h"
#include "idx_internal.h"

#define MAX_BENCH_FILES 100000

typedef struct corpus {
    char **paths;
    int n, cap;
} corpus;

static void add_files(corpus *c, const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    if (!d)
        return;
    while ((de = readdir(d)) != NULL && c->n < MAX_BENCH_FILES) {
        char *p;
        struct stat st;
        if (de->d_name[0] == '.')
            continue;
        p = askdocs_path_join(dir, de->d_name);
        if (!p)
            break;
        if (stat(p, &st) == 0 && S_ISDIR(st.st_mode)) {
            add_files(c, p);
            askdocs_free(p);
        } else if (stat(p, &st) == 0 && S_ISREG(st.st_mode)) {
            if (c->n == c->cap) {
                int ncap = c->cap ? c->cap * 2 : 64;
                char **nv = askdocs_realloc(c->paths, (size_t)ncap * sizeof(*nv));
                if (!nv) {
                    askdocs_free(p);
                    break;
                }
                c->paths = nv;
                c->cap = ncap;
            }
            c->paths[c->n++] = p;
        } else {
            askdocs_free(p);
        }
    }
    closedir(d);
}

typedef struct chunk_text {
    char *text, *heading;
} chunk_text;

static double fts_insert(const char *ddl, idx_analyzer *an,
                         const chunk_text *ch, int n)
{
    sqlite3 *db;
    sqlite3_stmt *st;
    double t0;
    int i;
    if (sqlite3_open(":memory:", &db) != SQLITE_OK)
        return -1;
    if (an && idx_analyzer_register(an, db) != ASKDOCS_OK) {
        sqlite3_close(db);
        return -1;
    }
    if (sqlite3_exec(db, ddl, NULL, NULL, NULL) != SQLITE_OK) {
        fprintf(stderr, "%s: %s\n", ddl, sqlite3_errmsg(db));
        sqlite3_close(db);
        return -1;
    }
    sqlite3_prepare_v2(db, "INSERT INTO t(text, heading) VALUES (?,?)", -1,
                       &st, NULL);
    t0 = askdocs_now_ms();
    sqlite3_exec(db, "BEGIN", NULL, NULL, NULL);
    for (i = 0; i < n; i++) {
        sqlite3_reset(st);
        sqlite3_bind_text(st, 1, ch[i].text, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, ch[i].heading, -1, SQLITE_STATIC);
        sqlite3_step(st);
    }
    sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
    t0 = askdocs_now_ms() - t0;
    sqlite3_finalize(st);
    sqlite3_close(db);
    return t0 / 1000.0;
}

int main(int argc, char **argv)
{
    corpus c = {NULL, 0, 0};
    idx_extract_limits lim = idx_extract_default_limits();
    chunk_text *ch = NULL;
    int n_ch = 0, cap_ch = 0, i, j, pages = 0, failed = 0, sample;
    double bytes = 0, t_ext = 0, t_chunk = 0;
    idx_analyzer *an = NULL;
    char err[1024];
    struct rusage ru;
    if (argc < 2) {
        fprintf(stderr,
                "usage: bench_index DIR [DICT_DIR|-] [EMBED_MODEL|-] "
                "[EMBED_SAMPLE]\n");
        return 2;
    }
    sample = argc > 4 ? atoi(argv[4]) : 256;
    add_files(&c, argv[1]);
    for (i = 0; i < c.n; i++) {
        char *data = NULL;
        size_t len = 0;
        idx_document doc;
        idx_chunk_params cp = idx_chunk_default_params();
        idx_chunk_list l;
        double t0;
        if (askdocs_read_file(c.paths[i], (size_t)256 << 20, &data, &len, err,
                              sizeof(err)) != ASKDOCS_OK)
            continue;
        t0 = askdocs_now_ms();
        if (idx_extract(c.paths[i], data, len, &lim, &doc, err, sizeof(err)) !=
            ASKDOCS_OK) {
            failed++;
            askdocs_free(data);
            continue;
        }
        t_ext += askdocs_now_ms() - t0;
        bytes += (double)len;
        pages += doc.n_pages;
        cp.title = doc.title;
        cp.markdown = doc.markdown;
        cp.blocks = doc.blocks;
        cp.n_blocks = doc.n_blocks;
        cp.page_starts = doc.page_starts;
        cp.n_pages = doc.n_pages;
        t0 = askdocs_now_ms();
        if (idx_chunk_text(doc.text, doc.len, &cp, &l) == ASKDOCS_OK) {
            t_chunk += askdocs_now_ms() - t0;
            for (j = 0; j < l.n; j++) {
                if (n_ch == cap_ch) {
                    int ncap = cap_ch ? cap_ch * 2 : 1024;
                    chunk_text *nv =
                        askdocs_realloc(ch, (size_t)ncap * sizeof(*nv));
                    if (!nv)
                        break;
                    ch = nv;
                    cap_ch = ncap;
                }
                ch[n_ch].text = askdocs_strndup(doc.text + l.v[j].byte_start,
                                                l.v[j].byte_end -
                                                    l.v[j].byte_start);
                ch[n_ch].heading = askdocs_strdup(l.v[j].heading);
                n_ch++;
            }
            idx_chunk_list_free(&l);
        }
        idx_document_free(&doc);
        askdocs_free(data);
    }
    printf("corpus: %d files (%d failed), %.1f MB, %d pages, %d chunks\n",
           c.n, failed, bytes / 1e6, pages, n_ch);
    printf("extract: %.2f s, %.1f pages/s, %.2f MB/s\n", t_ext / 1000.0,
           t_ext > 0 ? pages / (t_ext / 1000.0) : 0.0,
           t_ext > 0 ? bytes / 1e6 / (t_ext / 1000.0) : 0.0);
    printf("chunk: %.2f s, %.0f chunks/s\n", t_chunk / 1000.0,
           t_chunk > 0 ? n_ch / (t_chunk / 1000.0) : 0.0);
    {
        double plain = fts_insert("CREATE VIRTUAL TABLE t USING fts5(text, "
                                  "heading, tokenize='unicode61 "
                                  "remove_diacritics 2')",
                                  NULL, ch, n_ch);
        const char *dict = argc > 2 && strcmp(argv[2], "-") != 0 ? argv[2] : NULL;
        if (idx_analyzer_create(dict, &an, err, sizeof(err)) == ASKDOCS_OK) {
            double ours = fts_insert("CREATE VIRTUAL TABLE t USING fts5(text, "
                                     "heading, tokenize='askdocs')",
                                     an, ch, n_ch);
            printf("bm25 (FTS5, askdocs tokenizer %s): %.2f s, %.0f chunks/s\n",
                   idx_analyzer_name(an), ours, ours > 0 ? n_ch / ours : 0.0);
            printf("bm25 (FTS5, plain unicode61): %.2f s, %.0f chunks/s; "
                   "ratio askdocs/plain time %.2f\n",
                   plain, plain > 0 ? n_ch / plain : 0.0,
                   plain > 0 ? ours / plain : 0.0);
        } else {
            printf("analyser: %s\n", err);
        }
    }
    if (argc > 3 && strcmp(argv[3], "-") != 0 && n_ch > 0) {
        idx_embedder_params ep = idx_embedder_default_params();
        idx_embedder *e = NULL;
        ep.model_path = argv[3];
        if (idx_embedder_open(&ep, &e, err, sizeof(err)) == ASKDOCS_OK) {
            int n = n_ch < sample ? n_ch : sample, dim = idx_embedder_dim(e);
            float *v = askdocs_malloc((size_t)16 * (size_t)dim * sizeof(float));
            double t0 = askdocs_now_ms();
            for (i = 0; v && i < n; i += 16) {
                const char *t[16];
                int nb = n - i < 16 ? n - i : 16;
                for (j = 0; j < nb; j++)
                    t[j] = ch[i + j].text;
                idx_embedder_embed(e, t, nb, 0, v);
            }
            t0 = (askdocs_now_ms() - t0) / 1000.0;
            printf("embed: %d chunks in %.2f s, %.1f chunks/s\n", n, t0,
                   t0 > 0 ? n / t0 : 0.0);
            askdocs_free(v);
            idx_embedder_free(e);
        } else {
            printf("embedder: %s\n", err);
        }
    }
    getrusage(RUSAGE_SELF, &ru);
    printf("peak RSS: %.1f MB\n", ru.ru_maxrss / 1024.0);
    for (i = 0; i < n_ch; i++) {
        askdocs_free(ch[i].text);
        askdocs_free(ch[i].heading);
    }
    askdocs_free(ch);
    for (i = 0; i < c.n; i++)
        askdocs_free(c.paths[i]);
    askdocs_free(c.paths);
    idx_analyzer_free(an);
    return 0;
}
