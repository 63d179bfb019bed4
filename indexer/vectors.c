/*
 * vectors.c - the FAISS vector index, derived from the embeddings table.
 *
 * SQLite holds every embedding; the FAISS file vectors-<generation>.faiss
 * is a cache of them that is rebuilt whenever it is missing or stale, so a
 * crash can never leave the two disagreeing. The kind of index follows the
 * corpus size ([index] vector_index = auto):
 *
 *   flat   exact inner product; below hnsw_min_vectors (50k)
 *   hnsw   graph search (IDMap,HNSW<M>); up to ivfpq_min_vectors (1M)
 *   ivfpq  inverted lists of product-quantized codes, trained on a sample
 *          of the stored vectors when the index is built
 *
 * The approximate kinds fetch dense_refine x limit candidates. HNSW keeps
 * the full vectors, so its distances are exact and its candidates are only
 * checked against SQLite; IVF-PQ's are re-scored exactly from the stored
 * vectors. Either check drops candidates whose chunk is gone or hidden by
 * the filter. Removing from them is deferred:
 * the vector stays as a tombstone until idx_vectors_maintain rebuilds.
 * A selective filter (at most 1/8 of the chunks visible) is searched
 * exactly over the visible vectors instead, so an access rule never costs
 * a reader results.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "store.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <faiss/c_api/AutoTune_c.h>
#include <faiss/c_api/IndexFlat_c.h>
#include <faiss/c_api/IndexIVF_c.h>
#include <faiss/c_api/Index_c.h>
#include <faiss/c_api/MetaIndexes_c.h>
#include <faiss/c_api/error_c.h>
#include <faiss/c_api/impl/AuxIndexStructures_c.h>
#include <faiss/c_api/index_factory_c.h>
#include <faiss/c_api/index_io_c.h>

#define TRAIN_MAX 262144      /* vectors sampled to train IVF-PQ */
#define IVFPQ_MIN_TRAIN 1250 /* fewer cannot train 32 5-bit centroids */
#define DEAD_REBUILD_FRACTION 10 /* rebuild when tombstones > 1/10 */
#define HNSW_EF_CONSTRUCTION 200
#define SELECTIVE_FRACTION 8  /* filter keeps <= 1/8: exact over visible */

void idx_vector_params_from_conf(idx_vector_params *vp,
                                 const askdocs_config *conf)
{
    memset(vp, 0, sizeof(*vp));
    vp->kind = IDX_VEC_AUTO;
    vp->hnsw_min = 50000;
    vp->ivfpq_min = 1000000;
    vp->hnsw_m = 32;
    vp->ef_search = 512;
    vp->nprobe = 32;
    vp->refine = 4;
    if (!conf)
        return;
    if (conf->vector_index) {
        if (strcmp(conf->vector_index, "flat") == 0)
            vp->kind = IDX_VEC_FLAT;
        else if (strcmp(conf->vector_index, "hnsw") == 0)
            vp->kind = IDX_VEC_HNSW;
        else if (strcmp(conf->vector_index, "ivfpq") == 0)
            vp->kind = IDX_VEC_IVFPQ;
    }
    if (conf->hnsw_min_vectors > 0)
        vp->hnsw_min = conf->hnsw_min_vectors;
    if (conf->ivfpq_min_vectors > 0)
        vp->ivfpq_min = conf->ivfpq_min_vectors;
    if (conf->hnsw_m > 0)
        vp->hnsw_m = conf->hnsw_m;
    if (conf->hnsw_ef_search > 0)
        vp->ef_search = conf->hnsw_ef_search;
    if (conf->ivf_nprobe > 0)
        vp->nprobe = conf->ivf_nprobe;
    if (conf->dense_refine > 0)
        vp->refine = conf->dense_refine;
}

const char *idx_vec_kind_name(int kind)
{
    switch (kind) {
    case IDX_VEC_FLAT: return "flat";
    case IDX_VEC_HNSW: return "hnsw";
    case IDX_VEC_IVFPQ: return "ivfpq";
    default: return "auto";
    }
}

static askdocs_rc faiss_error(askdocs_index *ix, const char *what)
{
    const char *e = faiss_get_last_error();
    idx_set_error(ix, ASKDOCS_ERR_VECTOR, "%s: %s", what, e ? e : "FAISS error");
    return ASKDOCS_ERR_VECTOR;
}

void idx_vector_path(const askdocs_index *ix, int64_t gen, char *dst,
                     size_t n)
{
    askdocs_snprintf(dst, n, "%s/vectors-%lld.faiss", ix->dir, (long long)gen);
}

/* The kind a corpus of n vectors should get. */
static int wanted_kind(const askdocs_index *ix, int64_t n)
{
    int k = ix->vp.kind;
    if (k == IDX_VEC_AUTO)
        k = n >= ix->vp.ivfpq_min ? IDX_VEC_IVFPQ
            : n >= ix->vp.hnsw_min ? IDX_VEC_HNSW
                                   : IDX_VEC_FLAT;
    if (k == IDX_VEC_IVFPQ && n < IVFPQ_MIN_TRAIN)
        k = IDX_VEC_FLAT; /* too few vectors to train on */
    return k;
}

/* What a loaded FAISS index is. */
static int kind_of(FaissIndex *fi)
{
    FaissIndexIDMap *m = faiss_IndexIDMap_cast(fi);
    if (faiss_IndexIVF_cast(fi))
        return IDX_VEC_IVFPQ;
    if (m) {
        FaissIndex *sub = faiss_IndexIDMap_sub_index(m);
        if (sub && faiss_IndexFlat_cast(sub))
            return IDX_VEC_FLAT;
        return IDX_VEC_HNSW;
    }
    return IDX_VEC_FLAT;
}

/* Search-time parameters of the approximate kinds. */
static void set_search_params(askdocs_index *ix)
{
    FaissParameterSpace *ps = NULL;
    if (!ix->vectors || ix->vec_kind == IDX_VEC_FLAT)
        return;
    if (faiss_ParameterSpace_new(&ps) != 0)
        return;
    if (ix->vec_kind == IDX_VEC_HNSW)
        faiss_ParameterSpace_set_index_parameter(ps, ix->vectors, "efSearch",
                                                 ix->vp.ef_search);
    else
        faiss_ParameterSpace_set_index_parameter(ps, ix->vectors, "nprobe",
                                                 ix->vp.nprobe);
    faiss_ParameterSpace_free(ps);
}

static askdocs_rc new_index(askdocs_index *ix, int kind, int64_t n,
                            FaissIndex **out)
{
    char desc[96];
    if (kind == IDX_VEC_HNSW) {
        askdocs_snprintf(desc, sizeof(desc), "IDMap,HNSW%d", ix->vp.hnsw_m);
    } else if (kind == IDX_VEC_IVFPQ) {
        /* about 4 sqrt(n) lists, a power of two; codes of dim/4 sub-vectors
         * (fewer when the dimension is not a multiple of 4); 6- or
         * 5-bit codes below 9,984 vectors, too few for 256 centroids */
        int64_t nlist = 16;
        int m = 8, bits = n >= 256 * 39 ? 8 : n >= 64 * 39 ? 6 : 5;
        int c;
        /* k-means wants 39+ training points per centroid */
        while (nlist * nlist < 16 * n && nlist < 65536 && nlist * 2 * 39 <= n)
            nlist *= 2;
        for (c = ix->dim / 4; c >= 4; c--)
            if (ix->dim % c == 0) {
                m = c;
                break;
            }
        if (ix->dim % m != 0)
            m = 1;
        askdocs_snprintf(desc, sizeof(desc), "IVF%lld,PQ%dx%d",
                         (long long)nlist, m, bits);
    } else {
        askdocs_snprintf(desc, sizeof(desc), "IDMap,Flat");
    }
    *out = NULL;
    if (faiss_index_factory(out, ix->dim, desc, METRIC_INNER_PRODUCT) != 0)
        return faiss_error(ix, "creating the vector index");
    if (kind == IDX_VEC_HNSW) {
        /* FAISS builds with efConstruction 40, too few for repetitive
         * text; ParameterSpace reaches it through the IDMap */
        FaissParameterSpace *ps = NULL;
        if (faiss_ParameterSpace_new(&ps) == 0) {
            if (faiss_ParameterSpace_set_index_parameter(
                    ps, *out, "efConstruction", HNSW_EF_CONSTRUCTION) != 0)
                askdocs_log(2, "HNSW efConstruction not settable: %s",
                            faiss_get_last_error());
            faiss_ParameterSpace_free(ps);
        }
    }
    return ASKDOCS_OK;
}

/* Train fi on an evenly spread sample of the stored vectors. */
static askdocs_rc train_index(askdocs_index *ix, FaissIndex *fi, int64_t n)
{
    sqlite3_stmt *st = NULL;
    int64_t want = n < TRAIN_MAX ? n : TRAIN_MAX, got = 0;
    int64_t step = n / (want > 0 ? want : 1);
    float *buf;
    askdocs_rc rc = ASKDOCS_OK;
    if (step < 1)
        step = 1;
    buf = askdocs_malloc((size_t)want * (size_t)ix->dim * sizeof(float));
    if (!buf)
        return ASKDOCS_ERR_NOMEM;
    if (sqlite3_prepare_v2(ix->db,
                           "SELECT vec FROM embeddings WHERE chunk_id % ?1 = 0"
                           " LIMIT ?2",
                           -1, &st, NULL) != SQLITE_OK) {
        rc = idx_db_error(ix, "sampling embeddings");
        goto out;
    }
    /* ids are not dense after deletions: fall back to every row */
    sqlite3_bind_int64(st, 1, step);
    sqlite3_bind_int64(st, 2, want);
    while (got < want && sqlite3_step(st) == SQLITE_ROW) {
        if (sqlite3_column_bytes(st, 0) != ix->dim * (int)sizeof(float))
            continue;
        memcpy(buf + (size_t)got * (size_t)ix->dim, sqlite3_column_blob(st, 0),
               (size_t)ix->dim * sizeof(float));
        got++;
    }
    if (got < want / 2 && step > 1) {
        sqlite3_reset(st);
        sqlite3_bind_int64(st, 1, 1);
        got = 0;
        while (got < want && sqlite3_step(st) == SQLITE_ROW) {
            if (sqlite3_column_bytes(st, 0) != ix->dim * (int)sizeof(float))
                continue;
            memcpy(buf + (size_t)got * (size_t)ix->dim,
                   sqlite3_column_blob(st, 0), (size_t)ix->dim * sizeof(float));
            got++;
        }
    }
    askdocs_log(2, "training the IVF-PQ index on %lld of %lld vectors",
                (long long)got, (long long)n);
    if (faiss_Index_train(fi, got, buf) != 0)
        rc = faiss_error(ix, "training the vector index");
out:
    sqlite3_finalize(st);
    askdocs_free(buf);
    return rc;
}

static int64_t count_embeddings(askdocs_index *ix)
{
    sqlite3_stmt *st = NULL;
    int64_t n = -1;
    if (sqlite3_prepare_v2(ix->db, "SELECT count(*) FROM embeddings", -1, &st,
                           NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW)
        n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return n;
}

/* Build a vector index of the given kind (IDX_VEC_AUTO = by size) from
 * the embeddings table, in one read snapshot. */
static askdocs_rc rebuild_vectors(askdocs_index *ix, int kind,
                                  int64_t *gen_out)
{
    FaissIndex *fi = NULL;
    sqlite3_stmt *st = NULL;
    float *buf = NULL;
    idx_t *ids = NULL;
    const int batch = 4096;
    int nb = 0, r;
    int64_t n;
    askdocs_rc rc = ASKDOCS_OK;
    int began = 0;

    if (ix->dim <= 0) {
        idx_set_error(ix, ASKDOCS_ERR_NOTFOUND, "the index holds no vectors");
        return ASKDOCS_ERR_NOTFOUND;
    }
    if (sqlite3_get_autocommit(ix->db)) {
        rc = idx_exec(ix, "BEGIN");
        if (rc != ASKDOCS_OK)
            return rc;
        began = 1;
    }
    *gen_out = idx_generation(ix);
    n = count_embeddings(ix);
    if (n < 0) {
        rc = idx_db_error(ix, "counting embeddings");
        goto out;
    }
    if (kind == IDX_VEC_AUTO)
        kind = wanted_kind(ix, n);
    rc = new_index(ix, kind, n, &fi);
    if (rc == ASKDOCS_OK && kind == IDX_VEC_IVFPQ)
        rc = train_index(ix, fi, n);
    if (rc != ASKDOCS_OK)
        goto out;
    buf = askdocs_malloc((size_t)batch * (size_t)ix->dim * sizeof(float));
    ids = askdocs_malloc((size_t)batch * sizeof(idx_t));
    if (!buf || !ids) {
        rc = ASKDOCS_ERR_NOMEM;
        goto out;
    }
    if (sqlite3_prepare_v2(ix->db, "SELECT chunk_id, vec FROM embeddings",
                           -1, &st, NULL) != SQLITE_OK) {
        rc = idx_db_error(ix, "reading embeddings");
        goto out;
    }
    while ((r = sqlite3_step(st)) == SQLITE_ROW) {
        const void *v = sqlite3_column_blob(st, 1);
        int bytes = sqlite3_column_bytes(st, 1);
        if (bytes != ix->dim * (int)sizeof(float) || !v) {
            idx_set_error(ix, ASKDOCS_ERR_CORRUPT,
                          "embedding of chunk %lld has %d bytes, expected %d",
                          (long long)sqlite3_column_int64(st, 0), bytes,
                          ix->dim * (int)sizeof(float));
            rc = ASKDOCS_ERR_CORRUPT;
            goto out;
        }
        ids[nb] = sqlite3_column_int64(st, 0);
        memcpy(buf + (size_t)nb * (size_t)ix->dim, v, (size_t)bytes);
        if (++nb == batch) {
            if (faiss_Index_add_with_ids(fi, nb, buf, ids) != 0) {
                rc = faiss_error(ix, "adding vectors");
                goto out;
            }
            nb = 0;
        }
    }
    if (r != SQLITE_DONE) {
        rc = idx_db_error(ix, "reading embeddings");
        goto out;
    }
    if (nb > 0 && faiss_Index_add_with_ids(fi, nb, buf, ids) != 0) {
        rc = faiss_error(ix, "adding vectors");
        goto out;
    }
    if (ix->vectors)
        faiss_Index_free(ix->vectors);
    ix->vectors = fi;
    ix->vec_kind = kind;
    fi = NULL;
    set_search_params(ix);
out:
    sqlite3_finalize(st);
    if (began)
        sqlite3_exec(ix->db, "COMMIT", NULL, NULL, NULL);
    if (fi)
        faiss_Index_free(fi);
    askdocs_free(buf);
    askdocs_free(ids);
    return rc;
}

askdocs_rc idx_vectors_ready(askdocs_index *ix)
{
    char path[4200];
    int64_t gen, n;
    FaissIndex *fi = NULL;
    askdocs_rc rc;
    if (ix->vectors)
        return ASKDOCS_OK;
    if (ix->dim <= 0) {
        /* nothing embedded yet: an empty index of unknown dimension */
        return ASKDOCS_OK;
    }
    gen = idx_generation(ix);
    idx_vector_path(ix, gen, path, sizeof(path));
    if (access(path, R_OK) == 0 &&
        faiss_read_index_fname(path, 0, &fi) == 0 && fi &&
        faiss_Index_d(fi) == ix->dim) {
        ix->vectors = fi;
        ix->vectors_gen = gen;
        ix->vec_kind = kind_of(fi);
        set_search_params(ix);
        if (ix->vp.kind == IDX_VEC_AUTO)
            return ASKDOCS_OK;
        /* a kind set in the configuration wins over the file's */
        n = count_embeddings(ix);
        if (n < 0 || wanted_kind(ix, n) == ix->vec_kind)
            return ASKDOCS_OK;
        askdocs_log(2, "the vector file is %s; [index] vector_index wants %s: "
                       "rebuilding", idx_vec_kind_name(ix->vec_kind),
                    idx_vec_kind_name(wanted_kind(ix, n)));
        fi = NULL;
    }
    if (fi)
        faiss_Index_free(fi);
    /* missing, stale or unreadable: derive it again from SQLite */
    askdocs_log(2, "vector file for generation %lld missing or stale: "
                   "rebuilding from stored embeddings", (long long)gen);
    rc = rebuild_vectors(ix, IDX_VEC_AUTO, &gen);
    if (rc == ASKDOCS_OK) {
        ix->vectors_gen = gen;
        if (ix->writable)
            rc = idx_vectors_save(ix);
    }
    return rc;
}

askdocs_rc idx_vectors_maintain(askdocs_index *ix)
{
    int64_t n, total, gen;
    int want;
    askdocs_rc rc;
    if (!ix->vectors || ix->dim <= 0)
        return ASKDOCS_OK;
    n = count_embeddings(ix);
    if (n < 0)
        return idx_db_error(ix, "counting embeddings");
    total = faiss_Index_ntotal(ix->vectors);
    want = wanted_kind(ix, n);
    if (want == ix->vec_kind &&
        (ix->vec_kind == IDX_VEC_FLAT ||
         (total - n) * DEAD_REBUILD_FRACTION <= total))
        return ASKDOCS_OK;
    askdocs_log(2, "rebuilding the vector index as %s (%lld vectors, %lld "
                   "removed)", idx_vec_kind_name(want), (long long)n,
                (long long)(total - n));
    rc = rebuild_vectors(ix, want, &gen);
    if (rc == ASKDOCS_OK)
        ix->vectors_gen = gen;
    return rc;
}

int64_t idx_vectors_total(const askdocs_index *ix)
{
    return ix->vectors ? (int64_t)faiss_Index_ntotal(ix->vectors) : -1;
}

void idx_vectors_free(askdocs_index *ix)
{
    if (ix->vectors)
        faiss_Index_free(ix->vectors);
    ix->vectors = NULL;
}

static void fsync_path(const char *path, int dir)
{
    int fd = open(path, (dir ? O_RDONLY | O_DIRECTORY : O_RDONLY) | O_CLOEXEC);
    if (fd >= 0) {
        fsync(fd);
        close(fd);
    }
}

askdocs_rc idx_vectors_save(askdocs_index *ix)
{
    char path[4200], tmp[4300];
    DIR *d;
    struct dirent *de;
    if (!ix->vectors)
        return ASKDOCS_OK;
    idx_vector_path(ix, ix->vectors_gen, path, sizeof(path));
    askdocs_snprintf(tmp, sizeof(tmp), "%s.tmp-%ld", path, (long)getpid());
    if (faiss_write_index_fname(ix->vectors, tmp) != 0) {
        unlink(tmp);
        return faiss_error(ix, "writing the vector index");
    }
    fsync_path(tmp, 0);
    if (rename(tmp, path) != 0) {
        idx_set_error(ix, ASKDOCS_ERR_IO, "cannot rename %s: %s", tmp,
                      strerror(errno));
        unlink(tmp);
        return ASKDOCS_ERR_IO;
    }
    fsync_path(ix->dir, 1);
    /* drop the files of other generations */
    d = opendir(ix->dir);
    if (d) {
        const char *base = idx_base_name(path);
        while ((de = readdir(d)) != NULL) {
            if (strncmp(de->d_name, "vectors-", 8) == 0 &&
                strcmp(de->d_name, base) != 0 && strstr(de->d_name, ".faiss")) {
                char old[4200];
                askdocs_snprintf(old, sizeof(old), "%s/%s", ix->dir,
                                 de->d_name);
                unlink(old);
            }
        }
        closedir(d);
    }
    return ASKDOCS_OK;
}

askdocs_rc idx_vectors_add(askdocs_index *ix, int n, const float *vecs,
                           const int64_t *ids)
{
    idx_t *fids;
    int i;
    if (n <= 0)
        return ASKDOCS_OK;
    if (!ix->vectors) {
        /* a new index starts exact; idx_vectors_maintain converts it */
        askdocs_rc rc = new_index(ix, IDX_VEC_FLAT, n, &ix->vectors);
        if (rc != ASKDOCS_OK)
            return rc;
        ix->vec_kind = IDX_VEC_FLAT;
    }
    fids = askdocs_malloc((size_t)n * sizeof(idx_t));
    if (!fids)
        return ASKDOCS_ERR_NOMEM;
    for (i = 0; i < n; i++)
        fids[i] = ids[i];
    if (faiss_Index_add_with_ids(ix->vectors, n, vecs, fids) != 0) {
        askdocs_free(fids);
        return faiss_error(ix, "adding vectors");
    }
    askdocs_free(fids);
    return ASKDOCS_OK;
}

askdocs_rc idx_vectors_remove(askdocs_index *ix, int n, const int64_t *ids)
{
    FaissIDSelectorBatch *sel = NULL;
    idx_t *fids;
    size_t removed = 0;
    int i;
    if (n <= 0 || !ix->vectors)
        return ASKDOCS_OK;
    if (ix->vec_kind != IDX_VEC_FLAT)
        return ASKDOCS_OK; /* tombstones: search skips ids without a row */
    fids = askdocs_malloc((size_t)n * sizeof(idx_t));
    if (!fids)
        return ASKDOCS_ERR_NOMEM;
    for (i = 0; i < n; i++)
        fids[i] = ids[i];
    if (faiss_IDSelectorBatch_new(&sel, (size_t)n, fids) != 0) {
        askdocs_free(fids);
        return faiss_error(ix, "removing vectors");
    }
    askdocs_free(fids);
    if (faiss_Index_remove_ids(ix->vectors, (FaissIDSelector *)sel,
                               &removed) != 0) {
        faiss_IDSelector_free((FaissIDSelector *)sel);
        return faiss_error(ix, "removing vectors");
    }
    faiss_IDSelector_free((FaissIDSelector *)sel);
    return ASKDOCS_OK;
}

/* ----------------------------------------------------------- searching */
/* The best `cap` (id, score) pairs seen, as a min-heap on score. */
typedef struct top_list {
    int64_t *ids;
    double *scores;
    int n, cap;
} top_list;

static void top_swap(top_list *t, int a, int b)
{
    int64_t i = t->ids[a];
    double s = t->scores[a];
    t->ids[a] = t->ids[b];
    t->scores[a] = t->scores[b];
    t->ids[b] = i;
    t->scores[b] = s;
}

static void top_push(top_list *t, int64_t id, double score)
{
    int i;
    if (t->n < t->cap) {
        i = t->n++;
        t->ids[i] = id;
        t->scores[i] = score;
        while (i > 0 && t->scores[(i - 1) / 2] > t->scores[i]) {
            top_swap(t, i, (i - 1) / 2);
            i = (i - 1) / 2;
        }
        return;
    }
    if (t->cap == 0 || score <= t->scores[0])
        return;
    t->ids[0] = id;
    t->scores[0] = score;
    i = 0;
    for (;;) {
        int l = 2 * i + 1, r = l + 1, m = i;
        if (l < t->n && t->scores[l] < t->scores[m])
            m = l;
        if (r < t->n && t->scores[r] < t->scores[m])
            m = r;
        if (m == i)
            break;
        top_swap(t, i, m);
        i = m;
    }
}

/* Write the heap out best first; returns the count. */
static int top_drain(top_list *t, int64_t *ids, double *scores)
{
    int n = t->n, i;
    for (i = n - 1; i >= 0; i--) {
        ids[i] = t->ids[0];
        scores[i] = t->scores[0];
        t->n--;
        if (t->n > 0) {
            t->ids[0] = t->ids[t->n];
            t->scores[0] = t->scores[t->n];
            /* sift down */
            int j = 0;
            for (;;) {
                int l = 2 * j + 1, r = l + 1, m = j;
                if (l < t->n && t->scores[l] < t->scores[m])
                    m = l;
                if (r < t->n && t->scores[r] < t->scores[m])
                    m = r;
                if (m == j)
                    break;
                top_swap(t, j, m);
                j = m;
            }
        }
    }
    return n;
}

static double dot(const float *a, const float *b, int d)
{
    double s = 0;
    int i;
    for (i = 0; i < d; i++)
        s += (double)a[i] * (double)b[i];
    return s;
}

/* "SELECT ... FROM documents d JOIN chunks c ... WHERE <cond> <filter>". */
static askdocs_rc prepare_filtered(askdocs_index *ix, const char *head,
                                   const askdocs_filter *f, int first_param,
                                   sqlite3_stmt **st)
{
    askdocs_buf sql;
    askdocs_rc rc;
    askdocs_buf_init(&sql, 16384);
    rc = askdocs_buf_puts(&sql, head);
    if (rc == ASKDOCS_OK)
        rc = idx_filter_sql(f, &sql, first_param);
    if (rc == ASKDOCS_OK &&
        sqlite3_prepare_v2(ix->db, sql.data, -1, st, NULL) != SQLITE_OK)
        rc = idx_db_error(ix, "preparing the dense search");
    askdocs_buf_free(&sql);
    if (rc == ASKDOCS_OK)
        idx_filter_bind(*st, f, first_param);
    return rc;
}

/* Exact search over the vectors of the chunks f lets through. */
static askdocs_rc dense_scan(askdocs_index *ix, const float *q,
                             const askdocs_filter *f, top_list *top)
{
    sqlite3_stmt *st = NULL;
    askdocs_rc rc;
    int r;
    rc = prepare_filtered(ix,
                          "SELECT e.chunk_id, e.vec FROM documents d"
                          " JOIN chunks c ON c.doc_id = d.id"
                          " JOIN embeddings e ON e.chunk_id = c.id WHERE 1",
                          f, 1, &st);
    if (rc != ASKDOCS_OK)
        return rc;
    while ((r = sqlite3_step(st)) == SQLITE_ROW) {
        if (sqlite3_column_bytes(st, 1) != ix->dim * (int)sizeof(float))
            continue;
        top_push(top, sqlite3_column_int64(st, 0),
                 dot(q, sqlite3_column_blob(st, 1), ix->dim));
    }
    if (r != SQLITE_DONE)
        rc = idx_db_error(ix, "dense search");
    sqlite3_finalize(st);
    return rc;
}

/* Chunks the filter lets through (an estimate from documents.n_chunks). */
static int64_t visible_chunks(askdocs_index *ix, const askdocs_filter *f)
{
    sqlite3_stmt *st = NULL;
    int64_t n = -1;
    if (prepare_filtered(ix,
                         "SELECT coalesce(sum(d.n_chunks), 0) FROM documents d"
                         " WHERE 1",
                         f, 1, &st) != ASKDOCS_OK)
        return -1;
    if (sqlite3_step(st) == SQLITE_ROW)
        n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return n;
}

askdocs_rc askdocs_index_dense(askdocs_index *ix, const float *q,
                               const askdocs_filter *f, int limit,
                               int64_t *ids, double *scores, int *n_out)
{
    float *dist = NULL;
    idx_t *lab = NULL;
    sqlite3_stmt *row = NULL;
    top_list top = {0};
    idx_t total, k;
    askdocs_rc rc;
    int filtered = idx_filter_active(f);
    int exact = 0;

    *n_out = 0;
    if (limit <= 0)
        return ASKDOCS_OK;
    rc = idx_check_filter(ix, f);
    if (rc == ASKDOCS_OK)
        rc = idx_vectors_ready(ix);
    if (rc != ASKDOCS_OK || !ix->vectors)
        return rc;
    total = faiss_Index_ntotal(ix->vectors);
    top.cap = limit;
    top.ids = askdocs_malloc((size_t)limit * sizeof(int64_t));
    top.scores = askdocs_malloc((size_t)limit * sizeof(double));
    if (!top.ids || !top.scores) {
        rc = ASKDOCS_ERR_NOMEM;
        goto out;
    }
    if (filtered) {
        int64_t vis = visible_chunks(ix, f);
        if (vis >= 0 && vis * SELECTIVE_FRACTION <= (int64_t)total) {
            rc = dense_scan(ix, q, f, &top);
            goto done;
        }
    }
    /* flat and HNSW (which keeps the full vectors) return exact inner
     * products in order: their candidates are only checked (tombstones,
     * filter) until limit are found. IVF-PQ's distances come from coarse
     * codes, so its candidates are re-scored from the stored vectors */
    exact = ix->vec_kind == IDX_VEC_FLAT || ix->vec_kind == IDX_VEC_HNSW;
    if (!exact || filtered || ix->vec_kind == IDX_VEC_HNSW) {
        rc = prepare_filtered(ix,
                              exact ? "SELECT 1 FROM embeddings e"
                                      " JOIN chunks c ON c.id = e.chunk_id"
                                      " JOIN documents d ON d.id = c.doc_id"
                                      " WHERE e.chunk_id = ?1"
                                    : "SELECT e.vec FROM embeddings e"
                                      " JOIN chunks c ON c.id = e.chunk_id"
                                      " JOIN documents d ON d.id = c.doc_id"
                                      " WHERE e.chunk_id = ?1",
                              f, 2, &row);
        if (rc != ASKDOCS_OK)
            goto out;
    }
    /* PQ distances are coarse: IVF-PQ re-scores four times as many;
     * HNSW asks for refine x limit so tombstones rarely force a second
     * round */
    k = ix->vec_kind == IDX_VEC_FLAT
            ? (idx_t)limit * (filtered ? 4 : 1)
            : (idx_t)limit * ix->vp.refine *
                  (ix->vec_kind == IDX_VEC_IVFPQ ? 4 : 1);
    for (;;) {
        idx_t i, kk = k < total ? k : total;
        if (kk <= 0)
            break;
        askdocs_free(dist);
        askdocs_free(lab);
        dist = askdocs_malloc((size_t)kk * sizeof(float));
        lab = askdocs_malloc((size_t)kk * sizeof(idx_t));
        if (!dist || !lab) {
            rc = ASKDOCS_ERR_NOMEM;
            goto out;
        }
        if (faiss_Index_search(ix->vectors, 1, q, kk, dist, lab) != 0) {
            rc = faiss_error(ix, "dense search");
            goto out;
        }
        top.n = 0;
        for (i = 0; i < kk; i++) {
            double s = dist[i];
            if (lab[i] < 0)
                continue;
            if (row) {
                sqlite3_reset(row);
                sqlite3_bind_int64(row, 1, lab[i]);
                if (sqlite3_step(row) != SQLITE_ROW)
                    continue; /* removed, or not visible */
                if (!exact) {
                    if (sqlite3_column_bytes(row, 0) !=
                        ix->dim * (int)sizeof(float))
                        continue;
                    s = dot(q, sqlite3_column_blob(row, 0), ix->dim);
                }
            }
            top_push(&top, lab[i], s);
            if (exact && top.n >= limit)
                break; /* exact lists are already in order */
        }
        if (top.n >= limit || kk >= total)
            break;
        k *= 4;
    }
done:
    *n_out = top_drain(&top, ids, scores);
out:
    sqlite3_finalize(row);
    askdocs_free(dist);
    askdocs_free(lab);
    askdocs_free(top.ids);
    askdocs_free(top.scores);
    return rc;
}
