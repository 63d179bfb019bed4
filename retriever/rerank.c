/*
 * rerank.c - optional second-stage scoring of (query, passage) pairs.
 *
 * Two back ends, chosen by the configuration:
 *   local   a cross-encoder GGUF run in process by llama.cpp with rank
 *           pooling (the model's classification head gives one score per
 *           pair). The pair is tokenized the way llama-server does for
 *           /v1/rerank: [BOS] query [EOS] [SEP] passage [EOS].
 *   remote  POST {"model", "query", "documents", "top_n"} to a /v1/rerank
 *           endpoint (llama-server, Infinity, vLLM, Jina, TEI's /rerank with
 *           "texts") through libcurl; the answer is {"results": [{"index",
 *           "relevance_score"}]} or TEI's [{"index", "score"}].
 * A reranker only ever sees passages the retriever already let through the
 * caller's access rule. If it fails, the retriever keeps its own order.
 */
#include "askdocs_retriever.h"

#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <curl/curl.h>
#include <jansson.h>
#include <llama.h>

#define MAX_RESPONSE (4 << 20)     /* bytes accepted from a remote reranker */
#define MAX_PAIRS 1000
#define DEFAULT_DOC_BYTES 4096

struct askdocs_reranker {
    askdocs_reranker_params p;
    char *model_path, *url, *api_key, *model_name;
    int tei;                       /* remote speaks TEI ("texts") */
    /* local */
    struct llama_model *model;
    struct llama_context *ctx;
    const struct llama_vocab *vocab;
    llama_token *tok;
    int n_ctx;
    struct llama_batch batch;
    /* remote */
    CURL *curl;
    askdocs_buf resp;
    char errmsg[1024];
};

askdocs_reranker_params askdocs_reranker_default_params(void)
{
    askdocs_reranker_params p;
    memset(&p, 0, sizeof(p));
    p.timeout_ms = 10000;
    p.max_tokens = 512;
    p.max_doc_bytes = DEFAULT_DOC_BYTES;
    return p;
}

static void set_err(askdocs_reranker *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void set_err(askdocs_reranker *r, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->errmsg, sizeof(r->errmsg), fmt, ap);
    va_end(ap);
}

const char *askdocs_reranker_errmsg(const askdocs_reranker *r)
{
    return r ? r->errmsg : "no reranker";
}

/* ---------------------------------------------------------------- local */
static askdocs_rc open_local(askdocs_reranker *r)
{
    struct llama_model_params mp = llama_model_default_params();
    struct llama_context_params cp;
    char arch[64], key[96], val[32];
    struct stat st;
    int n_threads = r->p.n_threads;

    if (stat(r->model_path, &st) != 0 || !S_ISREG(st.st_mode)) {
        set_err(r, "reranker model '%s' not found", r->model_path);
        return ASKDOCS_ERR_NOTFOUND;
    }
    idx_llama_init();
    mp.n_gpu_layers = 0;
    r->model = llama_model_load_from_file(r->model_path, mp);
    if (!r->model) {
        set_err(r, "llama.cpp could not load the reranker '%s'", r->model_path);
        return ASKDOCS_ERR_MODEL;
    }
    /* a cross-encoder declares rank pooling; anything else has no
     * classification head to score with */
    if (llama_model_meta_val_str(r->model, "general.architecture", arch,
                                 sizeof(arch)) < 0)
        arch[0] = '\0';
    snprintf(key, sizeof(key), "%s.pooling_type", arch);
    if (llama_model_meta_val_str(r->model, key, val, sizeof(val)) < 0 ||
        atoi(val) != LLAMA_POOLING_TYPE_RANK) {
        set_err(r,
                "'%s' is not a reranker: a cross-encoder GGUF declares rank "
                "pooling (%s = %d), this one %s",
                r->model_path, key, LLAMA_POOLING_TYPE_RANK,
                llama_model_meta_val_str(r->model, key, val, sizeof(val)) < 0
                    ? "declares none"
                    : "another");
        return ASKDOCS_ERR_MODEL;
    }
    r->vocab = llama_model_get_vocab(r->model);
    r->n_ctx = r->p.max_tokens;
    if (r->n_ctx > llama_model_n_ctx_train(r->model))
        r->n_ctx = llama_model_n_ctx_train(r->model);
    if (n_threads <= 0)
        n_threads = 2;
    cp = llama_context_default_params();
    cp.n_ctx = (uint32_t)r->n_ctx;
    cp.n_batch = (uint32_t)r->n_ctx;
    cp.n_ubatch = (uint32_t)r->n_ctx;
    cp.n_seq_max = 1;
    cp.n_threads = n_threads;
    cp.n_threads_batch = n_threads;
    cp.embeddings = true;
    cp.pooling_type = LLAMA_POOLING_TYPE_RANK;
    cp.no_perf = true;
    r->ctx = llama_init_from_model(r->model, cp);
    if (!r->ctx) {
        set_err(r, "llama.cpp could not create a context for '%s'",
                r->model_path);
        return ASKDOCS_ERR_MODEL;
    }
    r->tok = askdocs_malloc((size_t)r->n_ctx * sizeof(llama_token));
    r->batch = llama_batch_init(r->n_ctx, 0, 1);
    if (!r->tok || !r->batch.token)
        return ASKDOCS_ERR_NOMEM;
    return ASKDOCS_OK;
}

/* Tokens of s[0..n) appended at r->tok[at..cap), cut to fit; returns the
 * new end (at itself if tokenizing fails). */
static int add_tokens(askdocs_reranker *r, const char *s, size_t n, int at,
                      int cap)
{
    int32_t got;
    llama_token *all;
    if (at >= cap || n == 0)
        return at;
    got = llama_tokenize(r->vocab, s, (int32_t)n, r->tok + at, cap - at, false,
                         false);
    if (got >= 0)
        return at + got;
    /* more than fit: tokenize all of it aside, keep the head */
    all = askdocs_malloc((size_t)(-got) * sizeof(llama_token));
    if (!all)
        return at;
    got = llama_tokenize(r->vocab, s, (int32_t)n, all, -got, false, false);
    if (got > 0) {
        int keep = got < cap - at ? got : cap - at;
        memcpy(r->tok + at, all, (size_t)keep * sizeof(llama_token));
        at += keep;
    }
    askdocs_free(all);
    return at;
}

static askdocs_rc score_local(askdocs_reranker *r, const char *q,
                              const char *const *docs, int n, double *scores)
{
    llama_token bos = llama_vocab_bos(r->vocab), eos = llama_vocab_eos(r->vocab);
    llama_token sep = llama_vocab_sep(r->vocab);
    int i, j;
    for (i = 0; i < n; i++) {
        int t = 0, cap = r->n_ctx - 4, qcap = r->n_ctx / 2;
        const float *v;
        if (bos != LLAMA_TOKEN_NULL)
            r->tok[t++] = bos;
        t = add_tokens(r, q, strlen(q), t, qcap);
        if (eos != LLAMA_TOKEN_NULL)
            r->tok[t++] = eos;
        if (sep != LLAMA_TOKEN_NULL)
            r->tok[t++] = sep;
        t = add_tokens(r, docs[i] ? docs[i] : "", docs[i] ? strlen(docs[i]) : 0,
                       t, cap);
        if (eos != LLAMA_TOKEN_NULL)
            r->tok[t++] = eos;
        r->batch.n_tokens = t;
        for (j = 0; j < t; j++) {
            r->batch.token[j] = r->tok[j];
            r->batch.pos[j] = j;
            r->batch.n_seq_id[j] = 1;
            r->batch.seq_id[j][0] = 0;
            r->batch.logits[j] = 1;
        }
        llama_memory_clear(llama_get_memory(r->ctx), true);
        if (llama_decode(r->ctx, r->batch) != 0) {
            set_err(r, "llama_decode failed on a pair of %d tokens", t);
            return ASKDOCS_ERR_MODEL;
        }
        v = llama_get_embeddings_seq(r->ctx, 0);
        if (!v) {
            set_err(r, "the reranker gave no score");
            return ASKDOCS_ERR_MODEL;
        }
        scores[i] = v[0];
    }
    return ASKDOCS_OK;
}

/* --------------------------------------------------------------- remote */
static size_t on_body(char *data, size_t size, size_t nmemb, void *user)
{
    askdocs_reranker *r = user;
    size_t n = size * nmemb;
    if (r->resp.len + n > MAX_RESPONSE ||
        askdocs_buf_append(&r->resp, data, n) != ASKDOCS_OK)
        return 0; /* makes curl fail with CURLE_WRITE_ERROR */
    return n;
}

static askdocs_rc score_remote(askdocs_reranker *r, const char *q,
                               const char *const *docs, int n, double *scores)
{
    json_t *req = json_object(), *arr = json_array(), *res = NULL, *list;
    struct curl_slist *hdr = NULL;
    char *body = NULL, auth[600];
    long status = 0;
    CURLcode cc;
    askdocs_rc rc = ASKDOCS_ERR_NETWORK;
    int i, *seen = NULL;

    for (i = 0; i < n; i++) {
        const char *d = docs[i] ? docs[i] : "";
        size_t len = strlen(d);
        if (len > (size_t)r->p.max_doc_bytes) {
            len = (size_t)r->p.max_doc_bytes;
            while (len > 0 && ((unsigned char)d[len] & 0xC0) == 0x80)
                len--;
        }
        json_array_append_new(arr, json_stringn(d, len));
        scores[i] = -INFINITY;
    }
    json_object_set_new(req, "query", json_string(q));
    json_object_set_new(req, r->tei ? "texts" : "documents", arr);
    if (!r->tei) {
        json_object_set_new(req, "top_n", json_integer(n));
        if (r->model_name && *r->model_name)
            json_object_set_new(req, "model", json_string(r->model_name));
    }
    body = json_dumps(req, JSON_COMPACT);
    json_decref(req);
    if (!body)
        return ASKDOCS_ERR_NOMEM;
    r->resp.len = 0;
    hdr = curl_slist_append(hdr, "Content-Type: application/json");
    if (r->api_key && *r->api_key) {
        snprintf(auth, sizeof(auth), "Authorization: Bearer %s", r->api_key);
        hdr = curl_slist_append(hdr, auth);
    }
    curl_easy_setopt(r->curl, CURLOPT_HTTPHEADER, hdr);
    curl_easy_setopt(r->curl, CURLOPT_POSTFIELDS, body);
    cc = curl_easy_perform(r->curl);
    curl_easy_setopt(r->curl, CURLOPT_HTTPHEADER, NULL);
    curl_slist_free_all(hdr);
    free(body);
    if (cc != CURLE_OK) {
        set_err(r, "reranker at %s: %s", r->url, curl_easy_strerror(cc));
        return ASKDOCS_ERR_NETWORK;
    }
    curl_easy_getinfo(r->curl, CURLINFO_RESPONSE_CODE, &status);
    if (status != 200) {
        set_err(r, "reranker at %s answered HTTP %ld", r->url, status);
        return ASKDOCS_ERR_NETWORK;
    }
    res = json_loadb(r->resp.data ? r->resp.data : "", r->resp.len, 0, NULL);
    list = json_is_array(res) ? res : json_object_get(res, "results");
    seen = askdocs_calloc((size_t)n, sizeof(int));
    if (!json_is_array(list) || !seen) {
        set_err(r, "reranker at %s: no results in its answer", r->url);
        goto out;
    }
    for (i = 0; i < (int)json_array_size(list); i++) {
        json_t *e = json_array_get(list, (size_t)i);
        json_t *ix = json_object_get(e, "index");
        json_t *sc = json_object_get(e, "relevance_score");
        json_int_t k;
        if (!sc)
            sc = json_object_get(e, "score");
        if (!json_is_integer(ix) || !json_is_number(sc))
            continue;
        k = json_integer_value(ix);
        if (k < 0 || k >= n || seen[k] || !isfinite(json_number_value(sc)))
            continue;
        seen[k] = 1;
        scores[k] = json_number_value(sc);
    }
    rc = ASKDOCS_OK;
out:
    askdocs_free(seen);
    json_decref(res);
    return rc;
}

static pthread_once_t g_curl_once = PTHREAD_ONCE_INIT;
static void curl_init_once(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
}

/* ----------------------------------------------------------------- API */
askdocs_rc askdocs_reranker_open(const askdocs_reranker_params *p,
                                 askdocs_reranker **out, char *err,
                                 size_t errlen)
{
    askdocs_reranker *r;
    askdocs_rc rc = ASKDOCS_OK;
    *out = NULL;
    r = askdocs_calloc(1, sizeof(*r));
    if (!r)
        return ASKDOCS_ERR_NOMEM;
    r->p = p ? *p : askdocs_reranker_default_params();
    if (r->p.timeout_ms <= 0)
        r->p.timeout_ms = 10000;
    if (r->p.max_tokens <= 0)
        r->p.max_tokens = 512;
    if (r->p.max_doc_bytes <= 0)
        r->p.max_doc_bytes = DEFAULT_DOC_BYTES;
    askdocs_buf_init(&r->resp, MAX_RESPONSE);
    if (p && p->url && *p->url) {
        r->url = askdocs_strdup(p->url);
        r->api_key = p->api_key ? askdocs_strdup(p->api_key) : NULL;
        r->model_name = p->model_name ? askdocs_strdup(p->model_name) : NULL;
        r->tei = p->tei;
        pthread_once(&g_curl_once, curl_init_once);
        r->curl = curl_easy_init();
        if (!r->url || !r->curl) {
            rc = ASKDOCS_ERR_NOMEM;
            goto out;
        }
        if (strncmp(r->url, "http://", 7) != 0 &&
            strncmp(r->url, "https://", 8) != 0) {
            set_err(r, "reranker url must start with http:// or https://");
            rc = ASKDOCS_ERR_CONFIG;
            goto out;
        }
        curl_easy_setopt(r->curl, CURLOPT_URL, r->url);
        curl_easy_setopt(r->curl, CURLOPT_PROTOCOLS_STR, "http,https");
        curl_easy_setopt(r->curl, CURLOPT_FOLLOWLOCATION, 0L);
        curl_easy_setopt(r->curl, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(r->curl, CURLOPT_TIMEOUT_MS, (long)r->p.timeout_ms);
        curl_easy_setopt(r->curl, CURLOPT_CONNECTTIMEOUT_MS,
                         (long)r->p.timeout_ms);
        curl_easy_setopt(r->curl, CURLOPT_WRITEFUNCTION, on_body);
        curl_easy_setopt(r->curl, CURLOPT_WRITEDATA, r);
        curl_easy_setopt(r->curl, CURLOPT_USERAGENT, "askdocs");
    } else if (p && p->model_path && *p->model_path) {
        r->model_path = askdocs_strdup(p->model_path);
        if (!r->model_path) {
            rc = ASKDOCS_ERR_NOMEM;
            goto out;
        }
        rc = open_local(r);
    } else {
        set_err(r, "no reranker configured ([rerank] model or url)");
        rc = ASKDOCS_ERR_CONFIG;
    }
out:
    if (rc != ASKDOCS_OK) {
        askdocs_snprintf(err, errlen, "%s",
                         r->errmsg[0] ? r->errmsg : askdocs_strerror(rc));
        askdocs_reranker_free(r);
        return rc;
    }
    *out = r;
    return ASKDOCS_OK;
}

void askdocs_reranker_free(askdocs_reranker *r)
{
    if (!r)
        return;
    if (r->ctx)
        llama_free(r->ctx);
    if (r->model)
        llama_model_free(r->model);
    if (r->batch.token)
        llama_batch_free(r->batch);
    if (r->curl)
        curl_easy_cleanup(r->curl);
    askdocs_free(r->tok);
    askdocs_buf_free(&r->resp);
    askdocs_free(r->model_path);
    askdocs_free(r->url);
    askdocs_free(r->api_key);
    askdocs_free(r->model_name);
    askdocs_free(r);
}

askdocs_rc askdocs_reranker_score(askdocs_reranker *r, const char *query,
                                  const char *const *docs, int n,
                                  double *scores)
{
    if (!r || n < 0 || n > MAX_PAIRS)
        return ASKDOCS_ERR_INVALID;
    if (n == 0)
        return ASKDOCS_OK;
    return r->curl ? score_remote(r, query, docs, n, scores)
                   : score_local(r, query, docs, n, scores);
}

const char *askdocs_reranker_kind(const askdocs_reranker *r)
{
    return !r ? "none" : r->curl ? "remote" : "local";
}

askdocs_rc askdocs_reranker_from_conf(const askdocs_config *conf,
                                      askdocs_reranker **out, char *err,
                                      size_t errlen)
{
    askdocs_reranker_params p = askdocs_reranker_default_params();
    *out = NULL;
    if ((!conf->rerank_url || !*conf->rerank_url) &&
        (!conf->rerank_model || !*conf->rerank_model ||
         strcmp(conf->rerank_model, "none") == 0))
        return ASKDOCS_OK;
    p.url = conf->rerank_url;
    p.model_path = conf->rerank_model;
    p.api_key = conf->rerank_api_key;
    p.model_name = conf->rerank_name;
    p.tei = conf->rerank_format && strcmp(conf->rerank_format, "tei") == 0;
    p.timeout_ms = conf->rerank_timeout_ms;
    return askdocs_reranker_open(&p, out, err, errlen);
}
