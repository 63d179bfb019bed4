/*
 * rank.c - BM25 for the search, as an FTS5 auxiliary function that skips
 * the rows which cannot reach the top k.
 *
 *   askdocs_bm25(chunks_fts, K, SKIP, w0 .. w(ncol-1) [, df_SKIP .. df_last])
 *
 * scores the phrases of the MATCH expression from number SKIP on (the
 * ones before are only there to restrict the rows, see idx_bm25_plan).
 * With one weight per column and then one document frequency per scored
 * phrase, those frequencies are used for the IDF; otherwise each phrase's
 * rows are counted the way bm25() counts them (a walk of its whole
 * doclist, which for a common word is most of the cost of a query)
 * and returns exactly what FTS5's built-in bm25(chunks_fts, w0, w1, ...)
 * returns (same k1 = 1.2, b = 0.75, same IDF and its clamp, same column
 * weights; lower = better) for every row that can be among the K best rows
 * of the statement, and for the others a value that sorts after all of
 * those. A statement "... ORDER BY askdocs_bm25(...) LIMIT K" therefore
 * returns the same rows in the same order as with bm25().
 *
 * Why: for each matching row bm25() looks up the row's length in the
 * %_docsize table (a B-tree seek). A query with a common word matches a
 * large part of a big index, and those seeks were most of the BM25 time.
 * The length only lowers a row's score, so a row's score with the shortest
 * possible length (D = 0) is an upper bound that needs no seek. The
 * function keeps the K best scores seen so far in a min-heap; a row whose
 * bound is below the K-th best cannot enter the result and gets the bound
 * (negated) instead of its score. The heap only ever rises, so no row that
 * belongs in the final top K is skipped.
 *
 * The function is evaluated once per row that passes the statement's
 * WHERE clause, in rowid order; a repeated evaluation of the same row
 * (same rowid as the previous call) returns the previous value and does
 * not enter the heap twice.
 */
#include "idx_internal.h"

#include <math.h>
#include <string.h>

#include <sqlite3.h>

/* FTS5's bm25() constants; [search] bm25_k1 / bm25_b set ours */
#define RANK_K1 1.2
#define RANK_B 0.75
#define RANK_MAX_K 10000      /* K beyond this: no pruning */
#define RANK_MAX_PHRASES 4096 /* FTS5 has no cap; ours: refuse beyond */

typedef struct rank_data {
    int nphrase, skip, ncol;
    double avgdl;
    double *idf;  /* [nphrase] */
    double *freq; /* [nphrase] scratch */
    int k, nheap;
    double *heap; /* min-heap of the k best scores so far (higher = better) */
    int have_last;
    sqlite3_int64 last_rowid;
    double last_result;
} rank_data;

static void rank_data_free(void *p)
{
    rank_data *d = p;
    if (!d)
        return;
    sqlite3_free(d->idf);
    sqlite3_free(d->freq);
    sqlite3_free(d->heap);
    sqlite3_free(d);
}

static int count_cb(const Fts5ExtensionApi *api, Fts5Context *fts, void *u)
{
    (void)api;
    (void)fts;
    (*(sqlite3_int64 *)u)++;
    return SQLITE_OK;
}

/* The per-statement data: IDF of every phrase (as FTS5's bm25 computes
 * it, by counting the rows each phrase matches), the average row length,
 * the heap. */
static int rank_data_get(const Fts5ExtensionApi *api, Fts5Context *fts,
                         int k, int skip, int nval, sqlite3_value **val,
                         rank_data **out)
{
    rank_data *d = api->xGetAuxdata(fts, 0);
    sqlite3_int64 nrow = 0, ntok = 0;
    int rc = SQLITE_OK, i, given;
    *out = d;
    if (d)
        return SQLITE_OK;
    d = sqlite3_malloc(sizeof(*d));
    if (!d)
        return SQLITE_NOMEM;
    memset(d, 0, sizeof(*d));
    d->nphrase = api->xPhraseCount(fts);
    if (d->nphrase > RANK_MAX_PHRASES) {
        rank_data_free(d);
        return SQLITE_TOOBIG;
    }
    d->k = k > 0 && k <= RANK_MAX_K ? k : 0;
    d->skip = skip > 0 && skip < d->nphrase ? skip : 0;
    d->idf = sqlite3_malloc64(sizeof(double) * (size_t)(d->nphrase + 1));
    d->freq = sqlite3_malloc64(sizeof(double) * (size_t)(d->nphrase + 1));
    d->heap = sqlite3_malloc64(sizeof(double) * (size_t)(d->k + 1));
    if (!d->idf || !d->freq || !d->heap) {
        rc = SQLITE_NOMEM;
        goto out;
    }
    rc = api->xRowCount(fts, &nrow);
    if (rc == SQLITE_OK)
        rc = api->xColumnTotalSize(fts, -1, &ntok);
    if (rc != SQLITE_OK)
        goto out;
    d->avgdl = nrow > 0 ? (double)ntok / (double)nrow : 0;
    d->ncol = api->xColumnCount(fts);
    /* the document frequencies given by the caller, if all are */
    given = nval == 2 + d->ncol + (d->nphrase - d->skip);
    for (i = d->skip; rc == SQLITE_OK && i < d->nphrase; i++) {
        sqlite3_int64 nhit = 0;
        if (given) {
            nhit = sqlite3_value_int64(val[2 + d->ncol + (i - d->skip)]);
            if (nhit < 0 || nhit > nrow)
                nhit = nrow;
        } else {
            rc = api->xQueryPhrase(fts, i, &nhit, count_cb);
        }
        if (rc == SQLITE_OK) {
            double idf = log((nrow - nhit + 0.5) / (nhit + 0.5));
            d->idf[i] = idf <= 0.0 ? 1e-6 : idf; /* as bm25() does */
        }
    }
    if (rc == SQLITE_OK)
        rc = api->xSetAuxdata(fts, d, rank_data_free);
    if (rc == SQLITE_OK) {
        *out = d;
        return SQLITE_OK;
    }
    /* xSetAuxdata calls the destructor itself when it fails */
    return rc;
out:
    rank_data_free(d);
    return rc;
}

static void heap_push(rank_data *d, double v)
{
    int i, c;
    double t;
    if (d->nheap < d->k) {
        i = d->nheap++;
        d->heap[i] = v;
        while (i > 0 && d->heap[(i - 1) / 2] > d->heap[i]) {
            t = d->heap[i];
            d->heap[i] = d->heap[(i - 1) / 2];
            d->heap[(i - 1) / 2] = t;
            i = (i - 1) / 2;
        }
        return;
    }
    if (v <= d->heap[0])
        return;
    d->heap[0] = v;
    i = 0;
    for (;;) {
        c = 2 * i + 1;
        if (c >= d->nheap)
            break;
        if (c + 1 < d->nheap && d->heap[c + 1] < d->heap[c])
            c++;
        if (d->heap[i] <= d->heap[c])
            break;
        t = d->heap[i];
        d->heap[i] = d->heap[c];
        d->heap[c] = t;
        i = c;
    }
}

static void rank_fn(const Fts5ExtensionApi *api, Fts5Context *fts,
                    sqlite3_context *ctx, int nval, sqlite3_value **val)
{
    rank_data *d = NULL;
    int rc, i, k = nval > 0 ? sqlite3_value_int(val[0]) : 0;
    int skip = nval > 1 ? sqlite3_value_int(val[1]) : 0;
    sqlite3_int64 rowid = api->xRowid(fts);
    const idx_rank_params *rp = api->xUserData(fts);
    double k1 = rp ? rp->k1 : RANK_K1, b = rp ? rp->b : RANK_B;
    double ub = 0, score = 0, base;
    int ntok = 0;

    rc = rank_data_get(api, fts, k, skip, nval, val, &d);
    if (rc != SQLITE_OK) {
        sqlite3_result_error_code(ctx, rc);
        return;
    }
    if (d->have_last && d->last_rowid == rowid) {
        sqlite3_result_double(ctx, d->last_result);
        return;
    }
    /* term frequency per phrase, weighted by column: a walk of each
     * phrase's position list (xInstCount would merge all of them into
     * one ordered list first, which costs more) */
    for (i = d->skip; i < d->nphrase; i++) {
        Fts5PhraseIter it;
        int ic = -1, io = 0;
        double fr = 0;
        rc = api->xPhraseFirst(fts, i, &it, &ic, &io);
        while (rc == SQLITE_OK && ic >= 0) {
            fr += (ic < d->ncol && nval > ic + 2)
                      ? sqlite3_value_double(val[ic + 2])
                      : 1.0;
            api->xPhraseNext(fts, &it, &ic, &io);
        }
        if (rc != SQLITE_OK)
            break;
        d->freq[i] = fr;
    }
    if (rc != SQLITE_OK) {
        sqlite3_result_error_code(ctx, rc);
        return;
    }
    /* the bound: the score of this row if it had length 0 */
    base = k1 * (1 - b);
    for (i = d->skip; i < d->nphrase; i++)
        if (d->freq[i] != 0)
            ub += d->idf[i] * (d->freq[i] * (k1 + 1.0)) / (d->freq[i] + base);
    if (d->k > 0 && d->nheap == d->k && ub < d->heap[0]) {
        score = ub; /* cannot reach the top k: no length lookup */
    } else {
        rc = api->xColumnSize(fts, -1, &ntok);
        if (rc != SQLITE_OK) {
            sqlite3_result_error_code(ctx, rc);
            return;
        }
        for (i = d->skip; i < d->nphrase; i++)
            score += d->idf[i] *
                     ((d->freq[i] * (k1 + 1.0)) /
                      (d->freq[i] +
                       k1 * (1 - b +
                             b * (double)ntok /
                                 (d->avgdl > 0 ? d->avgdl : 1))));
        if (d->k > 0)
            heap_push(d, score);
    }
    d->have_last = 1;
    d->last_rowid = rowid;
    d->last_result = -1.0 * score;
    sqlite3_result_double(ctx, d->last_result);
}

askdocs_rc idx_fts5_api(struct sqlite3 *db, fts5_api **out)
{
    fts5_api *api = NULL;
    sqlite3_stmt *st = NULL;
    *out = NULL;
    if (!db)
        return ASKDOCS_ERR_INVALID;
    if (sqlite3_prepare_v2(db, "SELECT fts5(?1)", -1, &st, NULL) != SQLITE_OK)
        return ASKDOCS_ERR_UNSUPPORTED; /* SQLite without FTS5 */
    sqlite3_bind_pointer(st, 1, (void *)&api, "fts5_api_ptr", NULL);
    sqlite3_step(st);
    sqlite3_finalize(st);
    if (!api || api->iVersion < 2)
        return ASKDOCS_ERR_UNSUPPORTED;
    *out = api;
    return ASKDOCS_OK;
}

askdocs_rc idx_rank_register(struct sqlite3 *db, const idx_rank_params *rp)
{
    fts5_api *api = NULL;
    askdocs_rc rc = idx_fts5_api(db, &api);
    if (rc != ASKDOCS_OK)
        return rc;
    if (api->xCreateFunction(api, "askdocs_bm25", (void *)rp, rank_fn, NULL) !=
        SQLITE_OK)
        return ASKDOCS_ERR_DB;
    return ASKDOCS_OK;
}

/* ------------------------------------------------ essential and common
 * A query of eight words usually holds a few words that nearly every
 * chunk has; FTS5 visits every row that matches any word of an OR query,
 * so those words set the cost. Following MaxScore (Turtle and Flood, 1995),
 * idx_bm25_plan divides the terms into common ones (in at least 1/64 of
 * the rows) and essential ones (the rest, and every phrase) and writes
 *
 *   (E1 OR E2 ...) AND (E1 OR E2 ... OR C1 OR C2 ...)
 *
 * FTS5 drives an AND by its first operand, so only rows with an essential
 * term are visited; the second operand brings the common terms' positions
 * for scoring (askdocs_bm25 with SKIP = the number of essential phrases
 * scores the second operand only: exactly the original query's score).
 * A row with only common terms is missed, but its score is below
 * common_bound = sum over common terms of idf * (k1 + 1) (a term's part
 * of BM25 stays below idf * (k1 + 1) at any frequency). The caller keeps
 * the result when its K-th score is above that bound, and otherwise runs
 * the original query. Either way the top K are those of the full query. */
#define SPLIT_MAX_PARTS 256
#define SPLIT_COMMON_DIV 64 /* common: df >= rows / 64 */

typedef struct split_part {
    size_t start, end; /* bytes of the match string */
    int single;        /* one quoted term, not a phrase */
    double idf;
    sqlite3_int64 df;  /* rows holding the term; -1 = not looked up */
    int common;
} split_part;

/* ------------------------------------------------ document frequencies
 * Counting the rows of a term walks its doclist: cheap for a rare term,
 * milliseconds for a common one. The common terms (the same few hundred
 * words in every query) are kept here, keyed by the database's state: any
 * commit, by this connection or another, empties the cache. */
#define DFC_MAX 2048
#define DFC_TERM_MAX 128

struct idx_df_cache {
    sqlite3_int64 data_version, changes;
    int n;
    struct {
        char term[DFC_TERM_MAX];
        sqlite3_int64 df;
    } e[DFC_MAX];
};

void idx_df_cache_free(idx_df_cache *c) { askdocs_free(c); }

/* Empty *c when the database changed since it was filled. */
static void dfc_sync(idx_df_cache *c, sqlite3 *db)
{
    sqlite3_stmt *st = NULL;
    sqlite3_int64 v = -1, ch = sqlite3_total_changes64(db);
    if (sqlite3_prepare_v2(db, "PRAGMA data_version", -1, &st, NULL) ==
            SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    if (v < 0 || v != c->data_version || ch != c->changes) {
        c->n = 0;
        c->data_version = v;
        c->changes = ch;
    }
}

static sqlite3_int64 dfc_get(const idx_df_cache *c, const char *t)
{
    int i;
    for (i = 0; c && i < c->n; i++)
        if (strcmp(c->e[i].term, t) == 0)
            return c->e[i].df;
    return -1;
}

static void dfc_put(idx_df_cache *c, const char *t, size_t tn,
                    sqlite3_int64 df)
{
    if (!c || c->n >= DFC_MAX || tn >= DFC_TERM_MAX)
        return;
    memcpy(c->e[c->n].term, t, tn + 1);
    c->e[c->n].df = df;
    c->n++;
}

/* Parse `"t1" OR "t2" OR "a" + "b"` into parts; 0 = not that shape. */
static int split_parse(const char *m, split_part *p, int *np)
{
    size_t i = 0, len = strlen(m);
    int n = 0;
    while (i < len) {
        int strings = 0;
        if (n >= SPLIT_MAX_PARTS)
            return 0;
        p[n].start = i;
        for (;;) {
            if (m[i] != '"')
                return 0;
            for (i++;; i++) {
                if (i >= len)
                    return 0;
                if (m[i] == '"') {
                    if (m[i + 1] == '"') {
                        i++;
                        continue;
                    }
                    break;
                }
            }
            i++; /* past the closing quote */
            strings++;
            if (strncmp(m + i, " + ", 3) == 0) {
                i += 3;
                continue;
            }
            break;
        }
        p[n].end = i;
        p[n].single = strings == 1;
        n++;
        if (i == len)
            break;
        if (strncmp(m + i, " OR ", 4) != 0)
            return 0;
        i += 4;
    }
    *np = n;
    return n > 0;
}

/* The term of a single part: the quoted text without U+E000 and with ""
 * unescaped, into t (cap bytes). */
static size_t split_term(const char *m, const split_part *p, char *t,
                         size_t cap)
{
    size_t i = p->start + 1, n = 0;
    if (strncmp(m + i, "\xEE\x80\x80", 3) == 0)
        i += 3;
    for (; i + 1 < p->end && n + 1 < cap; i++) {
        t[n++] = m[i];
        if (m[i] == '"')
            i++;
    }
    t[n] = '\0';
    return n;
}

struct idx_bm25_plan {
    char *match; /* owned copy */
    split_part *p;
    int np, ncommon;
    int all_df; /* every part is a single term with its df known */
};

void idx_bm25_plan_free(idx_bm25_plan *pl)
{
    if (!pl)
        return;
    askdocs_free(pl->match);
    askdocs_free(pl->p);
    askdocs_free(pl);
}

askdocs_rc idx_bm25_plan_create(struct sqlite3 *db, const char *match,
                                idx_df_cache **cache, idx_bm25_plan **out)
{
    idx_bm25_plan *pl = NULL;
    sqlite3_stmt *st = NULL;
    askdocs_rc rc = ASKDOCS_OK;
    sqlite3_int64 nrow = 0;
    int i;
    char term[512];

    *out = NULL;
    pl = askdocs_calloc(1, sizeof(*pl));
    if (pl)
        pl->p = askdocs_calloc(SPLIT_MAX_PARTS, sizeof(*pl->p));
    if (pl)
        pl->match = askdocs_strdup(match);
    if (!pl || !pl->p || !pl->match) {
        rc = ASKDOCS_ERR_NOMEM;
        goto out;
    }
    if (!split_parse(match, pl->p, &pl->np) || pl->np < 2)
        goto out;
    /* an upper bound of the row count (ids are positive and unique): a
     * larger count only raises the bound */
    if (sqlite3_prepare_v2(db, "SELECT max(id) FROM chunks", -1, &st, NULL) !=
            SQLITE_OK ||
        sqlite3_step(st) != SQLITE_ROW)
        goto out; /* no plan: the caller runs the query as it is */
    nrow = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    st = NULL;
    if (nrow < SPLIT_COMMON_DIV * 4)
        goto out;
    if (sqlite3_exec(db,
                     "CREATE VIRTUAL TABLE IF NOT EXISTS temp.askdocs_vocab"
                     " USING fts5vocab(main, 'chunks_fts', 'row')",
                     NULL, NULL, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(db,
                           "SELECT doc FROM temp.askdocs_vocab WHERE term = ?1",
                           -1, &st, NULL) != SQLITE_OK)
        goto out;
    if (cache && !*cache) {
        *cache = askdocs_calloc(1, sizeof(**cache));
        if (*cache)
            (*cache)->data_version = -1;
    }
    if (cache && *cache)
        dfc_sync(*cache, db);
    pl->all_df = 1;
    for (i = 0; i < pl->np; i++) {
        sqlite3_int64 df = 0;
        double idf;
        size_t tn;
        pl->p[i].df = -1;
        if (!pl->p[i].single) {
            pl->all_df = 0;
            continue;
        }
        tn = split_term(match, &pl->p[i], term, sizeof(term));
        df = dfc_get(cache ? *cache : NULL, term);
        if (df < 0) {
            df = 0;
            sqlite3_reset(st);
            sqlite3_bind_text(st, 1, term, (int)tn, SQLITE_STATIC);
            if (sqlite3_step(st) == SQLITE_ROW)
                df = sqlite3_column_int64(st, 0);
            if (df * SPLIT_COMMON_DIV >= nrow)
                dfc_put(cache ? *cache : NULL, term, tn, df);
        }
        pl->p[i].df = df;
        if (df * SPLIT_COMMON_DIV < nrow)
            continue;
        idf = log((nrow - df + 0.5) / (df + 0.5));
        pl->p[i].idf = idf <= 0.0 ? 1e-6 : idf;
        pl->p[i].common = 1;
        pl->ncommon++;
    }
    if (pl->ncommon == pl->np) {
        /* every term is common: the rarest one still drives the rows */
        int rare = 0;
        for (i = 1; i < pl->np; i++)
            if (pl->p[i].idf > pl->p[rare].idf)
                rare = i;
        pl->p[rare].common = 0;
        pl->ncommon--;
    }
    if (pl->ncommon == 0)
        goto out;
    *out = pl;
    pl = NULL;
out:
    sqlite3_finalize(st);
    idx_bm25_plan_free(pl);
    return rc;
}

int idx_bm25_plan_dfs(const idx_bm25_plan *pl, askdocs_buf *out)
{
    int i;
    if (!pl || !pl->all_df)
        return 0;
    for (i = 0; i < pl->np; i++)
        if (askdocs_buf_printf(out, ", %lld", (long long)pl->p[i].df) !=
            ASKDOCS_OK)
            return 0;
    return 1;
}

askdocs_rc idx_bm25_plan_expr(const idx_bm25_plan *pl, double theta,
                              double k1, askdocs_buf *expr, int *n_essential,
                              double *common_bound)
{
    unsigned char in_c[SPLIT_MAX_PARTS];
    double bound = 0;
    int i, nc = 0, pass, first;
    askdocs_rc rc;

    *n_essential = 0;
    *common_bound = 0;
    memset(in_c, 0, sizeof(in_c));
    /* the commonest terms first, while their bound stays below theta */
    for (;;) {
        int best = -1;
        for (i = 0; i < pl->np; i++)
            if (pl->p[i].common && !in_c[i] &&
                (best < 0 || pl->p[i].idf < pl->p[best].idf))
                best = i;
        if (best < 0 || bound + pl->p[best].idf * (k1 + 1.0) >= theta)
            break;
        bound += pl->p[best].idf * (k1 + 1.0);
        in_c[best] = 1;
        nc++;
    }
    if (nc == 0)
        return ASKDOCS_OK;
    /* (E...) AND (E... OR C...) */
    rc = askdocs_buf_puts(expr, "(");
    for (pass = 0; pass < 2 && rc == ASKDOCS_OK; pass++) {
        first = 1;
        if (pass == 1)
            rc = askdocs_buf_puts(expr, ") AND (");
        for (i = 0; i < pl->np && rc == ASKDOCS_OK; i++) {
            if (pass == 0 && in_c[i])
                continue;
            if (!first)
                rc = askdocs_buf_puts(expr, " OR ");
            if (rc == ASKDOCS_OK)
                rc = askdocs_buf_append(expr, pl->match + pl->p[i].start,
                                        pl->p[i].end - pl->p[i].start);
            first = 0;
        }
    }
    if (rc == ASKDOCS_OK)
        rc = askdocs_buf_puts(expr, ")");
    if (rc == ASKDOCS_OK) {
        *n_essential = pl->np - nc;
        *common_bound = bound * (1 + 1e-9);
    }
    return rc;
}
