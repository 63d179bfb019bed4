/*
 * askdocs_generator.c - the generator handle: model loading (llama.cpp C
 * API), prompt building within the context budget, KV-cache prefix reuse,
 * streaming generation, then citation verification (gen_verify.c).
 */
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <llama.h>

#include "askdocs_generator.h"
#include "askdocs_indexer.h" /* idx_llama_init (indexer module) */
#include "gen_internal.h"

#define GEN_DEFAULT_CTX 4096
#define GEN_DEFAULT_ANSWER_TOKENS 384
#define GEN_DEFAULT_MIN_SUPPORT 0.35
#define GEN_DEFAULT_QUEUE 16
#define GEN_MAX_PARALLEL 16
#define GEN_DEFAULT_COMPRESS 200  /* tokens of a passage shown whole */
#define GEN_DEFAULT_THOROUGH 4    /* passages read in thorough mode */
#define GEN_DEFAULT_REMOTE_CTX 8192
#define GEN_RATIONALE_TOKENS 160  /* answer cap of one rationale */
#define GEN_RATIONALE_MATCH 0.5   /* overlap of a rationale sentence with the
                                     passage sentence it copies */
#define GEN_N_BATCH 512          /* tokens per llama_decode of the prompt */
#define GEN_SLACK_TOKENS 16      /* margin for tokenisation at block joins */
#define GEN_MIN_PART_TOKENS 48   /* least room worth a truncated passage */
#define GEN_MAX_PIECE 256        /* bytes of one token's text */
#define GEN_MAX_LABEL 512        /* bytes of a title / heading in the prompt */
#define GEN_SENT_SYS "@@ASKDOCS_SYSTEM@@"
#define GEN_SENT_USER "@@ASKDOCS_USER@@"

enum { TMPL_ROLES = 0, TMPL_FOLD = 1, TMPL_PLAIN = 2 };

typedef struct askdocs_generator askdocs_generator;

/* One model slot: a llama context (or a remote client) that answers one
 * question at a time. Owned by the generator. */
typedef struct gen_slot {
    askdocs_generator *g;
    struct llama_context *ctx;      /* in process; NULL for remote */
    struct llama_sampler *smpl;
    gen_remote *remote;             /* remote back end; NULL in process */
    /* tokens held in the KV cache of sequence 0 at positions 0.. */
    llama_token *cached;
    int n_cached;
    llama_token *ptok;              /* prompt scratch, n_ctx tokens */
    int busy;                       /* under g->mu */
    int n_threads_set;
    const askdocs_ask_request *rq;  /* the request being answered */
} gen_slot;

/* A caller waiting for a slot (on its own stack), in arrival order. */
typedef struct gen_waiter {
    struct gen_waiter *next;
} gen_waiter;

struct askdocs_generator {
    askdocs_generator_params p;     /* resolved (no zeros); strings NULL */
    char *remote_url, *remote_key, *remote_model, *remote_ca; /* owned copies */
    char err[512];                  /* open-time error */
    struct llama_model *model;      /* NULL in extractive and remote mode */
    const struct llama_vocab *vocab;
    int n_ctx;
    /* the chat template split around the two sentinels */
    int tmpl_mode;
    char *t_pre, *t_mid, *t_post;
    gen_slot *slots;                /* n_slots, owned */
    int n_slots;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int sync_init;                  /* mu and cv initialised */
    gen_waiter *qhead, *qtail;      /* under mu */
    int n_waiting;                  /* under mu */
    atomic_int n_busy;
    atomic_int last_reused;
};

/* ------------------------------------------------------------ errors */

/* Errors of a call belong to the calling thread: several threads may ask
 * one handle at once. */
static _Thread_local const askdocs_generator *t_err_g;
static _Thread_local char t_err[512];

static askdocs_rc seterr(askdocs_generator *g, askdocs_rc rc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static askdocs_rc seterr(askdocs_generator *g, askdocs_rc rc, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(t_err, sizeof t_err, fmt, ap);
    va_end(ap);
    t_err_g = g;
    return rc;
}

static void clearerr_g(askdocs_generator *g)
{
    t_err_g = g;
    t_err[0] = '\0';
}

const char *askdocs_generator_errmsg(const askdocs_generator *g)
{
    if (!g)
        return "no generator";
    return t_err_g == g ? t_err : g->err;
}

int askdocs_generator_has_model(const askdocs_generator *g)
{
    return g && (g->model || g->remote_url);
}

int gen_last_reused_tokens(const askdocs_generator *g)
{
    return g ? atomic_load(&g->last_reused) : 0;
}

int gen_template_mode(const askdocs_generator *g)
{
    return g && g->model ? g->tmpl_mode : -1;
}

int askdocs_answer_mode_parse(const char *s)
{
    if (!s)
        return -1;
    if (strcmp(s, "model") == 0 || strcmp(s, "default") == 0)
        return ASKDOCS_ANSWER_MODEL;
    if (strcmp(s, "extractive") == 0)
        return ASKDOCS_ANSWER_EXTRACTIVE;
    if (strcmp(s, "thorough") == 0)
        return ASKDOCS_ANSWER_THOROUGH;
    return -1;
}

const char *askdocs_answer_mode_name(askdocs_answer_mode m)
{
    switch (m) {
    case ASKDOCS_ANSWER_MODEL: return "model";
    case ASKDOCS_ANSWER_EXTRACTIVE: return "extractive";
    case ASKDOCS_ANSWER_THOROUGH: return "thorough";
    default: return "default";
    }
}

/* ------------------------------------------------------------ params */

askdocs_generator_params askdocs_generator_default_params(void)
{
    askdocs_generator_params p;
    memset(&p, 0, sizeof p);
    p.model_path = NULL;
    p.n_threads = 0;
    p.n_ctx = GEN_DEFAULT_CTX;
    p.max_answer_tokens = GEN_DEFAULT_ANSWER_TOKENS;
    p.temperature = 0.0f;
    p.seed = 0;
    p.min_support = GEN_DEFAULT_MIN_SUPPORT;
    p.strict = 0;
    p.mode = ASKDOCS_ANSWER_DEFAULT;
    p.n_parallel = 1;
    p.max_queue = GEN_DEFAULT_QUEUE;
    p.compress_tokens = GEN_DEFAULT_COMPRESS;
    p.thorough_passages = GEN_DEFAULT_THOROUGH;
    p.min_similarity = 0.92;
    return p;
}

void askdocs_answer_free(askdocs_answer *a)
{
    if (!a)
        return;
    for (int i = 0; i < a->n_citations; i++) {
        askdocs_free(a->citations[i].doc);
        askdocs_free(a->citations[i].heading);
        askdocs_free(a->citations[i].text);
    }
    askdocs_free(a->citations);
    askdocs_free(a->sentences);
    askdocs_free(a->text);
    askdocs_free(a->draft);
    askdocs_free(a);
}

static void slot_clear(gen_slot *s)
{
    if (s->smpl)
        llama_sampler_free(s->smpl);
    if (s->ctx)
        llama_free(s->ctx);
    gen_remote_free(s->remote);
    askdocs_free(s->cached);
    askdocs_free(s->ptok);
    memset(s, 0, sizeof *s);
}

void askdocs_generator_free(askdocs_generator *g)
{
    if (!g)
        return;
    for (int i = 0; g->slots && i < g->n_slots; i++)
        slot_clear(&g->slots[i]);
    askdocs_free(g->slots);
    if (g->model)
        llama_model_free(g->model);
    if (g->sync_init) {
        pthread_mutex_destroy(&g->mu);
        pthread_cond_destroy(&g->cv);
    }
    askdocs_free(g->remote_url);
    askdocs_free(g->remote_key);
    askdocs_free(g->remote_model);
    askdocs_free(g->remote_ca);
    askdocs_free(g->t_pre);
    askdocs_free(g->t_mid);
    askdocs_free(g->t_post);
    if (t_err_g == g)
        t_err_g = NULL;
    askdocs_free(g);
}

/* Split the model's chat template around the sentinels (g->t_*). */
static askdocs_rc split_template(askdocs_generator *g)
{
    const char *tmpl = llama_model_chat_template(g->model, NULL);
    llama_chat_message msgs[2] = { { "system", GEN_SENT_SYS }, { "user", GEN_SENT_USER } };
    char *buf = NULL;
    int32_t cap = 4096, r = -1;
    askdocs_rc rc = ASKDOCS_OK;
    const char *ps, *pu;

    g->tmpl_mode = TMPL_PLAIN;
    if (!tmpl)
        goto cleanup;
    for (int pass = 0; pass < 2; pass++) {
        /* pass 0: system + user roles; pass 1: a single user turn */
        for (int tries = 0; tries < 2; tries++) {
            askdocs_free(buf);
            buf = askdocs_malloc((size_t)cap + 1);
            if (!buf) {
                rc = ASKDOCS_ERR_NOMEM;
                goto cleanup;
            }
            r = llama_chat_apply_template(tmpl, pass == 0 ? msgs : msgs + 1, pass == 0 ? 2 : 1,
                                          true, buf, cap);
            if (r < 0 || r <= cap)
                break;
            if (r > 1024 * 1024)
                goto cleanup;
            cap = r;
        }
        if (r < 0 || r > cap)
            goto cleanup; /* template not supported by llama.cpp: plain */
        buf[r] = '\0';
        ps = strstr(buf, GEN_SENT_SYS);
        pu = strstr(buf, GEN_SENT_USER);
        if (pass == 0 && ps && pu && ps < pu) {
            g->t_pre = askdocs_strndup(buf, (size_t)(ps - buf));
            g->t_mid = askdocs_strndup(ps + strlen(GEN_SENT_SYS),
                                       (size_t)(pu - ps) - strlen(GEN_SENT_SYS));
            g->t_post = askdocs_strdup(pu + strlen(GEN_SENT_USER));
            g->tmpl_mode = TMPL_ROLES;
            break;
        }
        if (pass == 1 && pu) {
            g->t_pre = askdocs_strndup(buf, (size_t)(pu - buf));
            g->t_mid = askdocs_strdup("");
            g->t_post = askdocs_strdup(pu + strlen(GEN_SENT_USER));
            g->tmpl_mode = TMPL_FOLD;
        }
    }
    if (g->tmpl_mode != TMPL_PLAIN && (!g->t_pre || !g->t_mid || !g->t_post))
        rc = ASKDOCS_ERR_NOMEM;
cleanup:
    askdocs_free(buf);
    return rc;
}

/* s with \n and \t shown as escapes, cut to fit dst (for the debug log). */
static void escape_for_log(const char *s, char *dst, size_t n)
{
    size_t o = 0;
    for (; s && *s && o + 3 < n; s++) {
        if (*s == '\n' || *s == '\t') {
            dst[o++] = '\\';
            dst[o++] = *s == '\n' ? 'n' : 't';
        } else {
            dst[o++] = *s;
        }
    }
    dst[o] = '\0';
}

/* Abort callback of the llama contexts: the client of the slot's request
 * has gone. */
static bool slot_abort_cb(void *data)
{
    const gen_slot *s = data;
    const askdocs_ask_request *rq = s->rq;
    return rq && rq->cancelled && rq->cancelled(rq->user);
}

/* Give the slot's context its share of the threads: n_threads divided among
 * the questions being answered at the moment. */
static void slot_threads(gen_slot *s)
{
    int busy = atomic_load(&s->g->n_busy), want;
    if (!s->ctx)
        return;
    want = s->g->p.n_threads / (busy > 0 ? busy : 1);
    if (want < 1)
        want = 1;
    if (want != s->n_threads_set) {
        llama_set_n_threads(s->ctx, want, want);
        s->n_threads_set = want;
    }
}

/* Set up slot s of g: a llama context + sampler, or a remote client. */
static askdocs_rc slot_init(askdocs_generator *g, gen_slot *s)
{
    s->g = g;
    if (g->remote_url) {
        gen_remote_params rp;
        char e[256];
        memset(&rp, 0, sizeof rp);
        rp.url = g->remote_url;
        rp.api_key = g->remote_key;
        rp.model = g->remote_model;
        rp.ca_file = g->remote_ca;
        rp.insecure = g->p.remote_insecure;
        rp.read_timeout_ms = g->p.remote_timeout_ms;
        rp.retries = g->p.remote_retries;
        if (gen_remote_create(&rp, &s->remote, e, sizeof e) != ASKDOCS_OK)
            return seterr(g, ASKDOCS_ERR_CONFIG, "remote back end: %s", e);
        return ASKDOCS_OK;
    }
    {
        struct llama_context_params cp = llama_context_default_params();
        struct llama_sampler_chain_params sp;
        cp.n_ctx = (uint32_t)g->n_ctx;
        cp.n_batch = (uint32_t)ASKDOCS_MIN(GEN_N_BATCH, g->n_ctx);
        cp.n_ubatch = cp.n_batch;
        cp.n_seq_max = 1;
        cp.n_threads = g->p.n_threads;
        cp.n_threads_batch = g->p.n_threads;
        cp.no_perf = true;
        cp.swa_full = true; /* so that the KV tail can be removed for prefix reuse */
        cp.abort_callback = slot_abort_cb;
        cp.abort_callback_data = s;
        s->ctx = llama_init_from_model(g->model, cp);
        if (!s->ctx)
            return seterr(g, ASKDOCS_ERR_MODEL, "cannot create a llama context (n_ctx %d)",
                          g->n_ctx);
        s->n_threads_set = g->p.n_threads;
        sp = llama_sampler_chain_default_params();
        sp.no_perf = true;
        s->smpl = llama_sampler_chain_init(sp);
        if (!s->smpl)
            return seterr(g, ASKDOCS_ERR_MODEL, "cannot create a sampler");
        if (g->p.temperature <= 0) {
            llama_sampler_chain_add(s->smpl, llama_sampler_init_greedy());
        } else {
            llama_sampler_chain_add(s->smpl, llama_sampler_init_top_k(40));
            llama_sampler_chain_add(s->smpl, llama_sampler_init_top_p(0.95f, 1));
            llama_sampler_chain_add(s->smpl, llama_sampler_init_temp(g->p.temperature));
            llama_sampler_chain_add(s->smpl, llama_sampler_init_dist(g->p.seed ? g->p.seed
                                                                               : LLAMA_DEFAULT_SEED));
        }
    }
    s->cached = askdocs_malloc((size_t)g->n_ctx * sizeof *s->cached);
    s->ptok = askdocs_malloc((size_t)g->n_ctx * sizeof *s->ptok);
    if (!s->cached || !s->ptok)
        return seterr(g, ASKDOCS_ERR_NOMEM, "out of memory");
    return ASKDOCS_OK;
}

/* strdup of a non-empty string into *dst (NULL/"" leaves NULL). */
static askdocs_rc dup_opt(const char *src, char **dst)
{
    *dst = NULL;
    if (!src || !*src)
        return ASKDOCS_OK;
    *dst = askdocs_strdup(src);
    return *dst ? ASKDOCS_OK : ASKDOCS_ERR_NOMEM;
}

askdocs_rc askdocs_generator_open(const askdocs_generator_params *pin, askdocs_generator **out,
                                  char *err, size_t errlen)
{
    askdocs_generator *g = NULL;
    askdocs_generator_params p = pin ? *pin : askdocs_generator_default_params();
    askdocs_rc rc = ASKDOCS_OK;
    const char *path = p.model_path;

    if (err && errlen)
        err[0] = '\0';
    if (!out) {
        if (err)
            askdocs_snprintf(err, errlen, "askdocs_generator_open: out is NULL");
        return ASKDOCS_ERR_INVALID;
    }
    *out = NULL;
    g = askdocs_calloc(1, sizeof *g);
    if (!g) {
        if (err)
            askdocs_snprintf(err, errlen, "out of memory");
        return ASKDOCS_ERR_NOMEM;
    }
    clearerr_g(g);
    atomic_init(&g->n_busy, 0);
    atomic_init(&g->last_reused, 0);
    if (pthread_mutex_init(&g->mu, NULL) != 0) {
        rc = seterr(g, ASKDOCS_ERR_NOMEM, "cannot create a mutex");
        goto cleanup;
    }
    if (pthread_cond_init(&g->cv, NULL) != 0) {
        pthread_mutex_destroy(&g->mu);
        rc = seterr(g, ASKDOCS_ERR_NOMEM, "cannot create a condition variable");
        goto cleanup;
    }
    g->sync_init = 1;
    /* resolve the zeros */
    if (p.n_threads <= 0) {
        long c = sysconf(_SC_NPROCESSORS_ONLN);
        p.n_threads = c > 0 ? (int)ASKDOCS_MIN(c, 64) : 1;
    }
    if (p.n_ctx <= 0)
        p.n_ctx = GEN_DEFAULT_CTX;
    if (p.n_ctx > ASKDOCS_GEN_MAX_CTX)
        p.n_ctx = ASKDOCS_GEN_MAX_CTX;
    if (p.n_ctx < 256)
        p.n_ctx = 256;
    if (p.max_answer_tokens <= 0)
        p.max_answer_tokens = GEN_DEFAULT_ANSWER_TOKENS;
    if (p.min_support <= 0)
        p.min_support = GEN_DEFAULT_MIN_SUPPORT;
    if (p.temperature < 0)
        p.temperature = 0;
    if (p.n_parallel <= 0)
        p.n_parallel = 1;
    if (p.n_parallel > GEN_MAX_PARALLEL)
        p.n_parallel = GEN_MAX_PARALLEL;
    if (p.max_queue <= 0)
        p.max_queue = GEN_DEFAULT_QUEUE;
    if (p.compress_tokens == 0)
        p.compress_tokens = GEN_DEFAULT_COMPRESS;
    if (p.thorough_passages <= 0)
        p.thorough_passages = GEN_DEFAULT_THOROUGH;
    if (p.thorough_passages > ASKDOCS_GEN_MAX_PASSAGES)
        p.thorough_passages = ASKDOCS_GEN_MAX_PASSAGES;
    if (p.min_similarity <= 0)
        p.min_similarity = 0.92;
    if (p.remote_ctx <= 0)
        p.remote_ctx = GEN_DEFAULT_REMOTE_CTX;
    if ((int)p.mode < 0 || p.mode > ASKDOCS_ANSWER_THOROUGH) {
        rc = seterr(g, ASKDOCS_ERR_INVALID, "unknown answer mode %d", (int)p.mode);
        goto cleanup;
    }
    if (dup_opt(p.remote_url, &g->remote_url) != ASKDOCS_OK ||
        dup_opt(p.remote_api_key, &g->remote_key) != ASKDOCS_OK ||
        dup_opt(p.remote_model, &g->remote_model) != ASKDOCS_OK ||
        dup_opt(p.remote_ca_file, &g->remote_ca) != ASKDOCS_OK) {
        rc = seterr(g, ASKDOCS_ERR_NOMEM, "out of memory");
        goto cleanup;
    }
    p.model_path = p.remote_url = p.remote_api_key = p.remote_model = p.remote_ca_file = NULL;
    g->p = p;
    g->n_ctx = p.n_ctx;

    if (g->remote_url) {
        g->n_ctx = ASKDOCS_MIN(p.remote_ctx, 1 << 20);
        g->p.n_ctx = g->n_ctx;
        if (g->p.max_answer_tokens > g->n_ctx / 2)
            g->p.max_answer_tokens = g->n_ctx / 2;
        g->tmpl_mode = TMPL_ROLES; /* the server applies its template */
    } else if (path && *path) {
        struct llama_model_params mp;
        int train;

        idx_llama_init(); /* process-wide backend init + log routing */
        mp = llama_model_default_params();
        g->model = llama_model_load_from_file(path, mp);
        if (!g->model) {
            rc = seterr(g, ASKDOCS_ERR_MODEL, "cannot load model %s", path);
            goto cleanup;
        }
        g->vocab = llama_model_get_vocab(g->model);
        train = llama_model_n_ctx_train(g->model);
        if (train > 0 && g->n_ctx > train)
            g->n_ctx = train;
        if (g->p.max_answer_tokens > g->n_ctx / 2)
            g->p.max_answer_tokens = g->n_ctx / 2;
        g->p.n_ctx = g->n_ctx;
        rc = split_template(g);
        if (rc != ASKDOCS_OK) {
            seterr(g, rc, "out of memory");
            goto cleanup;
        }
    }
    if (g->p.mode == ASKDOCS_ANSWER_DEFAULT)
        g->p.mode = askdocs_generator_has_model(g) ? ASKDOCS_ANSWER_MODEL
                                                   : ASKDOCS_ANSWER_EXTRACTIVE;
    if (askdocs_generator_has_model(g)) {
        g->slots = askdocs_calloc((size_t)g->p.n_parallel, sizeof *g->slots);
        if (!g->slots) {
            rc = seterr(g, ASKDOCS_ERR_NOMEM, "out of memory");
            goto cleanup;
        }
        g->n_slots = g->p.n_parallel;
        for (int i = 0; i < g->n_slots; i++) {
            rc = slot_init(g, &g->slots[i]);
            if (rc != ASKDOCS_OK)
                goto cleanup;
        }
        if (g->slots[0].ctx)
            g->n_ctx = (int)llama_n_ctx(g->slots[0].ctx);
    }
    if (g->model && askdocs_log_level >= 2) {
        char e[3][160];
        const char *src[3] = { g->t_pre, g->t_mid, g->t_post };
        for (int k = 0; k < 3; k++)
            escape_for_log(src[k], e[k], sizeof e[k]);
        askdocs_log(2, "generator: model %s, n_ctx %d, %d slot(s), template mode %d: \"%s\" "
                    "system \"%s\" user \"%s\"", path, g->n_ctx, g->n_slots, g->tmpl_mode, e[0],
                    e[1], e[2]);
    } else if (g->remote_url) {
        askdocs_log(2, "generator: remote %s, %d slot(s)", g->remote_url, g->n_slots);
    }
    *out = g;
    g = NULL;
cleanup:
    if (g) {
        if (err)
            askdocs_snprintf(err, errlen, "%s", askdocs_generator_errmsg(g));
        askdocs_generator_free(g);
    }
    return rc;
}

/* ------------------------------------------------------------ prompt */

static const char SYS_EN[] =
    "You answer questions using only the numbered evidence passages given below.\n"
    "Rules:\n"
    "1. Use only facts stated in the evidence. Do not use any other knowledge.\n"
    "2. After each sentence, cite the passage it comes from with its number in brackets, "
    "for example [1].\n"
    "3. If the evidence does not contain the answer, reply exactly: " ASKDOCS_GEN_REFUSAL_EN "\n"
    "4. Answer in English, in one to three short sentences.";

/* Korean instructions (UTF-8):
 * 아래에 번호가 붙은 근거 문단만 사용하여 질문에 답하십시오.
 * 규칙:
 * 1. 근거에 적힌 사실만 사용하십시오. 다른 지식은 사용하지 마십시오.
 * 2. 각 문장 끝에 그 내용이 나온 문단 번호를 대괄호로 표시하십시오. 예: [1]
 * 3. 근거에 답이 없으면 정확히 이렇게만 답하십시오: <refusal>
 * 4. 한국어로 한두 문장으로 짧게 답하십시오. */
static const char SYS_KO[] =
    "\xEC\x95\x84\xEB\x9E\x98\xEC\x97\x90 \xEB\xB2\x88\xED\x98\xB8\xEA\xB0\x80 "
    "\xEB\xB6\x99\xEC\x9D\x80 \xEA\xB7\xBC\xEA\xB1\xB0 \xEB\xAC\xB8\xEB\x8B\xA8\xEB\xA7\x8C "
    "\xEC\x82\xAC\xEC\x9A\xA9\xED\x95\x98\xEC\x97\xAC \xEC\xA7\x88\xEB\xAC\xB8\xEC\x97\x90 "
    "\xEB\x8B\xB5\xED\x95\x98\xEC\x8B\xAD\xEC\x8B\x9C\xEC\x98\xA4.\n"
    "\xEA\xB7\x9C\xEC\xB9\x99:\n"
    "1. \xEA\xB7\xBC\xEA\xB1\xB0\xEC\x97\x90 \xEC\xA0\x81\xED\x9E\x8C \xEC\x82\xAC\xEC\x8B\xA4"
    "\xEB\xA7\x8C \xEC\x82\xAC\xEC\x9A\xA9\xED\x95\x98\xEC\x8B\xAD\xEC\x8B\x9C\xEC\x98\xA4. "
    "\xEB\x8B\xA4\xEB\xA5\xB8 \xEC\xA7\x80\xEC\x8B\x9D\xEC\x9D\x80 \xEC\x82\xAC\xEC\x9A\xA9"
    "\xED\x95\x98\xEC\xA7\x80 \xEB\xA7\x88\xEC\x8B\xAD\xEC\x8B\x9C\xEC\x98\xA4.\n"
    "2. \xEA\xB0\x81 \xEB\xAC\xB8\xEC\x9E\xA5 \xEB\x81\x9D\xEC\x97\x90 \xEA\xB7\xB8 "
    "\xEB\x82\xB4\xEC\x9A\xA9\xEC\x9D\xB4 \xEB\x82\x98\xEC\x98\xA8 \xEB\xAC\xB8\xEB\x8B\xA8 "
    "\xEB\xB2\x88\xED\x98\xB8\xEB\xA5\xBC \xEB\x8C\x80\xEA\xB4\x84\xED\x98\xB8\xEB\xA1\x9C "
    "\xED\x91\x9C\xEC\x8B\x9C\xED\x95\x98\xEC\x8B\xAD\xEC\x8B\x9C\xEC\x98\xA4. "
    "\xEC\x98\x88: [1]\n"
    "3. \xEA\xB7\xBC\xEA\xB1\xB0\xEC\x97\x90 \xEB\x8B\xB5\xEC\x9D\xB4 \xEC\x97\x86\xEC\x9C\xBC"
    "\xEB\xA9\xB4 \xEC\xA0\x95\xED\x99\x95\xED\x9E\x88 \xEC\x9D\xB4\xEB\xA0\x87\xEA\xB2\x8C"
    "\xEB\xA7\x8C \xEB\x8B\xB5\xED\x95\x98\xEC\x8B\xAD\xEC\x8B\x9C\xEC\x98\xA4: "
    ASKDOCS_GEN_REFUSAL_KO "\n"
    "4. \xED\x95\x9C\xEA\xB5\xAD\xEC\x96\xB4\xEB\xA1\x9C \xED\x95\x9C\xEB\x91\x90 "
    "\xEB\xAC\xB8\xEC\x9E\xA5\xEC\x9C\xBC\xEB\xA1\x9C \xEC\xA7\xA7\xEA\xB2\x8C "
    "\xEB\x8B\xB5\xED\x95\x98\xEC\x8B\xAD\xEC\x8B\x9C\xEC\x98\xA4.";

/* 근거 / 질문 / 답변 */
#define KO_EVIDENCE "\xEA\xB7\xBC\xEA\xB1\xB0"
#define KO_QUESTION "\xEC\xA7\x88\xEB\xAC\xB8"
#define KO_ANSWER "\xEB\x8B\xB5\xEB\xB3\x80"
#define EM_DASH " \xE2\x80\x94 "

/* Bytes of a title / heading shown in the prompt: at most GEN_MAX_LABEL,
 * cut at a UTF-8 boundary. */
static int label_len(const char *s)
{
    size_t n = strnlen(s, GEN_MAX_LABEL + 1);
    if (n > GEN_MAX_LABEL)
        n = askdocs_utf8_floor(s, GEN_MAX_LABEL);
    return (int)n;
}

/* Rationale step of thorough mode (English / Korean):
 * 아래 문단에서 질문에 답하는 데 필요한 문장을 그대로 옮겨 적으십시오. 필요한
 * 문장이 없으면 NONE 이라고만 답하십시오. */
static const char RAT_EN[] =
    "Copy, word for word, the sentences of the passage below that are needed to answer the "
    "question. Copy nothing else. If the passage does not help to answer it, reply NONE.";
static const char RAT_KO[] =
    "\xEC\x95\x84\xEB\x9E\x98 \xEB\xAC\xB8\xEB\x8B\xA8\xEC\x97\x90\xEC\x84\x9C "
    "\xEC\xA7\x88\xEB\xAC\xB8\xEC\x97\x90 \xEB\x8B\xB5\xED\x95\x98\xEB\x8A\x94 "
    "\xEB\x8D\xB0 \xED\x95\x84\xEC\x9A\x94\xED\x95\x9C \xEB\xAC\xB8\xEC\x9E\xA5\xEC\x9D\x84 "
    "\xEA\xB7\xB8\xEB\x8C\x80\xEB\xA1\x9C \xEC\x98\xAE\xEA\xB2\xA8 \xEC\xA0\x81\xEC\x9C\xBC"
    "\xEC\x8B\xAD\xEC\x8B\x9C\xEC\x98\xA4. \xED\x95\x84\xEC\x9A\x94\xED\x95\x9C "
    "\xEB\xAC\xB8\xEC\x9E\xA5\xEC\x9D\xB4 \xEC\x97\x86\xEC\x9C\xBC\xEB\xA9\xB4 NONE "
    "\xEC\x9D\xB4\xEB\x9D\xBC\xEA\xB3\xA0\xEB\xA7\x8C \xEB\x8B\xB5\xED\x95\x98\xEC\x8B\xAD"
    "\xEC\x8B\x9C\xEC\x98\xA4.";

/* Append the evidence block of passage p numbered num (text cut to len). */
static askdocs_rc put_block(askdocs_buf *b, const askdocs_passage *p, int num, size_t len)
{
    const char *title = p->title && *p->title ? p->title : (p->doc ? p->doc : "");
    askdocs_rc rc = askdocs_buf_printf(b, "[%d] %.*s", num, label_len(title), title);
    if (rc == ASKDOCS_OK && p->heading && *p->heading)
        rc = askdocs_buf_printf(b, EM_DASH "%.*s", label_len(p->heading), p->heading);
    if (rc == ASKDOCS_OK && p->page > 0)
        rc = askdocs_buf_printf(b, EM_DASH "p. %d", p->page);
    if (rc == ASKDOCS_OK)
        rc = askdocs_buf_append(b, "\n", 1);
    if (rc == ASKDOCS_OK && len)
        rc = askdocs_buf_append(b, p->text, len);
    if (rc == ASKDOCS_OK)
        rc = askdocs_buf_append(b, "\n\n", 2);
    return rc;
}

/* Number shown for passage i: labels[i], or i + 1. */
static int label_of(const int *labels, int i)
{
    return labels ? labels[i] : i + 1;
}

/* The user turn: evidence blocks 0..n_use (the last cut to last_len bytes
 * when last_len != (size_t)-1), then the question. */
static askdocs_rc build_user(askdocs_buf *u, const char *question, const askdocs_passage *ps,
                             const int *labels, const size_t *full, int n_use, size_t last_len,
                             int ko)
{
    askdocs_rc rc;
    askdocs_buf_reset(u);
    rc = askdocs_buf_printf(u, "%s:\n\n", ko ? KO_EVIDENCE : "Evidence");
    for (int i = 0; i < n_use && rc == ASKDOCS_OK; i++)
        rc = put_block(u, &ps[i], label_of(labels, i),
                       (i == n_use - 1 && last_len != (size_t)-1) ? last_len : full[i]);
    if (rc == ASKDOCS_OK)
        rc = askdocs_buf_printf(u, "%s: %s", ko ? KO_QUESTION : "Question", question);
    return rc;
}

/* Tokenize text into dst[0..cap); returns the count, or -1 when it does not
 * fit / fails. */
static int tok_into(const askdocs_generator *g, const char *text, size_t len, bool add_special,
                    bool parse_special, llama_token *dst, int cap)
{
    int32_t r;
    if (len == 0 && !add_special)
        return 0;
    if (len > (size_t)INT32_MAX / 2)
        return -1;
    r = llama_tokenize(g->vocab, text, (int32_t)len, dst, cap, add_special, parse_special);
    return r < 0 ? -1 : (int)r;
}

/* Number of tokens of plain text (remote: an estimate, 3 bytes a token:
 * Hangul syllables are 3 bytes and rarely merge; English words run 4-5
 * bytes a token, so English is over-counted, never under). */
static int tok_count(const askdocs_generator *g, const char *text, size_t len)
{
    int32_t r;
    if (len == 0)
        return 0;
    if (len > (size_t)INT32_MAX / 2)
        return INT32_MAX / 2;
    if (!g->model)
        return (int)((len + 2) / 3);
    r = llama_tokenize(g->vocab, text, (int32_t)len, NULL, 0, false, false);
    return r < 0 ? -r : r;
}

/* Tokenize the whole chat prompt into s->ptok; *n_tok gets the count.
 * ASKDOCS_ERR_TOOBIG when it does not fit in n_ctx. Template text is parsed
 * for special tokens; system and user text never are (a passage cannot forge
 * a turn). Remote: the estimated count only. */
static askdocs_rc tok_prompt(gen_slot *s, const char *sys, const char *user, int ko, int *n_tok)
{
    const askdocs_generator *g = s->g;
    int n = 0, k;
    int cap = g->n_ctx;
    const char *pre = "", *mid = "\n\n", *post = ko ? "\n" KO_ANSWER ":" : "\nAnswer:";
    if (!g->model) {
        n = tok_count(g, sys, strlen(sys)) + tok_count(g, user, strlen(user)) + GEN_SLACK_TOKENS;
        if (n > cap)
            return ASKDOCS_ERR_TOOBIG;
        *n_tok = n;
        return ASKDOCS_OK;
    }
    if (g->tmpl_mode != TMPL_PLAIN) {
        pre = g->t_pre;
        mid = g->t_mid;
        post = g->t_post;
    }
    /* pre, with BOS if the model wants one */
    k = tok_into(g, pre, strlen(pre), true, true, s->ptok, cap);
    if (k < 0)
        return ASKDOCS_ERR_TOOBIG;
    if (k >= 2 && s->ptok[0] == s->ptok[1] && s->ptok[0] == llama_vocab_bos(g->vocab)) {
        memmove(s->ptok, s->ptok + 1, (size_t)(k - 1) * sizeof *s->ptok);
        k--; /* the template already had BOS */
    }
    n = k;
    if (g->tmpl_mode == TMPL_FOLD) {
        k = tok_into(g, sys, strlen(sys), false, false, s->ptok + n, cap - n);
        if (k < 0)
            return ASKDOCS_ERR_TOOBIG;
        n += k;
        k = tok_into(g, "\n\n", 2, false, false, s->ptok + n, cap - n);
    } else {
        k = tok_into(g, sys, strlen(sys), false, false, s->ptok + n, cap - n);
        if (k < 0)
            return ASKDOCS_ERR_TOOBIG;
        n += k;
        k = tok_into(g, mid, strlen(mid), false, true, s->ptok + n, cap - n);
    }
    if (k < 0)
        return ASKDOCS_ERR_TOOBIG;
    n += k;
    k = tok_into(g, user, strlen(user), false, false, s->ptok + n, cap - n);
    if (k < 0)
        return ASKDOCS_ERR_TOOBIG;
    n += k;
    k = tok_into(g, post, strlen(post), false, true, s->ptok + n, cap - n);
    if (k < 0)
        return ASKDOCS_ERR_TOOBIG;
    n += k;
    *n_tok = n;
    return ASKDOCS_OK;
}

/* Build (into u) and tokenize the prompt with as much evidence as fits with
 * max_tokens answer tokens in n_ctx: drop lowest-ranked passages, cut the
 * last one kept at a UTF-8 boundary. plen[i] gets the bytes of passage i
 * shown (0 = not shown); *n_use the passages shown; *n_tok the prompt
 * tokens. labels (may be NULL) numbers the blocks. */
static askdocs_rc build_prompt(gen_slot *s, const char *sys, const char *question,
                               const askdocs_passage *ps, const int *labels, int n, int ko,
                               int max_tokens, askdocs_buf *u, size_t *plen, int *n_use_out,
                               int *n_tok)
{
    askdocs_generator *g = s->g;
    askdocs_buf blk;
    askdocs_rc rc;
    int fixed = 0, avail, used = 0, n_use = 0;
    size_t last_len = (size_t)-1;
    size_t *full = NULL;

    askdocs_buf_init(&blk, ASKDOCS_GEN_MAX_PASSAGE_BYTES + 4096);
    full = askdocs_calloc((size_t)(n > 0 ? n : 1), sizeof *full);
    if (!full) {
        rc = seterr(g, ASKDOCS_ERR_NOMEM, "out of memory");
        goto cleanup;
    }
    for (int i = 0; i < n; i++)
        full[i] = gen_passage_len(&ps[i]);
    /* tokens without any evidence */
    rc = build_user(u, question, ps, labels, full, 0, last_len, ko);
    if (rc != ASKDOCS_OK)
        goto cleanup;
    rc = tok_prompt(s, sys, u->data, ko, &fixed);
    if (rc != ASKDOCS_OK) {
        seterr(g, rc, "the question does not fit in the context (n_ctx %d)", g->n_ctx);
        goto cleanup;
    }
    avail = g->n_ctx - max_tokens - fixed - GEN_SLACK_TOKENS;
    if (avail <= 0) {
        rc = seterr(g, ASKDOCS_ERR_TOOBIG,
                    "prompt of %d tokens + %d answer tokens do not fit in n_ctx %d", fixed,
                    max_tokens, g->n_ctx);
        goto cleanup;
    }
    for (int i = 0; i < n; i++) {
        int c, room;
        askdocs_buf_reset(&blk);
        rc = put_block(&blk, &ps[i], label_of(labels, i), full[i]);
        if (rc != ASKDOCS_OK)
            goto cleanup;
        c = tok_count(g, blk.data, blk.len);
        if (used + c <= avail) {
            used += c;
            n_use++;
            continue;
        }
        room = avail - used;
        if (room >= GEN_MIN_PART_TOKENS || n_use == 0) {
            /* largest cut of this passage that fits in room */
            size_t lo = 0, hi = full[i];
            while (lo < hi) {
                size_t mid = lo + (hi - lo + 1) / 2, m2 = askdocs_utf8_floor(ps[i].text, mid);
                if (m2 <= lo) { /* no boundary in (lo, mid] */
                    hi = mid - 1;
                    continue;
                }
                askdocs_buf_reset(&blk);
                rc = put_block(&blk, &ps[i], label_of(labels, i), m2);
                if (rc != ASKDOCS_OK)
                    goto cleanup;
                if (tok_count(g, blk.data, blk.len) <= room)
                    lo = m2;
                else
                    hi = mid - 1;
            }
            if (lo > 0) {
                last_len = lo;
                n_use++;
            }
        }
        break;
    }
    /* build for real; shrink while tokenisation at the joins overflows */
    for (;;) {
        int nt = 0;
        rc = build_user(u, question, ps, labels, full, n_use, last_len, ko);
        if (rc != ASKDOCS_OK)
            goto cleanup;
        rc = tok_prompt(s, sys, u->data, ko, &nt);
        if (rc == ASKDOCS_OK && nt + max_tokens <= g->n_ctx) {
            *n_tok = nt;
            break;
        }
        if (rc != ASKDOCS_OK && rc != ASKDOCS_ERR_TOOBIG)
            goto cleanup;
        if (n_use == 0) {
            rc = seterr(g, ASKDOCS_ERR_TOOBIG, "the prompt does not fit in n_ctx %d", g->n_ctx);
            goto cleanup;
        }
        if (last_len != (size_t)-1 && last_len > 256) {
            last_len = askdocs_utf8_floor(ps[n_use - 1].text, last_len * 3 / 4);
        } else {
            n_use--;
            last_len = (size_t)-1;
        }
    }
    for (int i = 0; i < n; i++)
        plen[i] = i < n_use ? ((i == n_use - 1 && last_len != (size_t)-1) ? last_len : full[i]) : 0;
    *n_use_out = n_use;
    rc = ASKDOCS_OK;
cleanup:
    if (rc == ASKDOCS_ERR_NOMEM)
        seterr(g, rc, "out of memory");
    askdocs_free(full);
    askdocs_buf_free(&blk);
    return rc;
}

/* Decode s->ptok[0..n_tok), reusing the cached prefix. ASKDOCS_ERR_ABORTED
 * when the request was cancelled meanwhile. */
static askdocs_rc decode_prompt(gen_slot *s, int n_tok)
{
    askdocs_generator *g = s->g;
    llama_memory_t mem = llama_get_memory(s->ctx);
    int common = 0;
    while (common < s->n_cached && common < n_tok && s->cached[common] == s->ptok[common])
        common++;
    if (common >= n_tok)
        common = n_tok - 1; /* the last token must be decoded for logits */
    if (!llama_memory_seq_rm(mem, 0, common, -1)) {
        llama_memory_clear(mem, true);
        common = 0;
    }
    s->n_cached = 0;
    atomic_store(&g->last_reused, common);
    for (int pos = common; pos < n_tok; pos += GEN_N_BATCH) {
        int cnt = ASKDOCS_MIN(GEN_N_BATCH, n_tok - pos);
        int32_t r;
        slot_threads(s);
        r = llama_decode(s->ctx, llama_batch_get_one(s->ptok + pos, cnt));
        if (r != 0) {
            llama_memory_clear(mem, true);
            if (slot_abort_cb(s))
                return ASKDOCS_ERR_ABORTED;
            return seterr(g, ASKDOCS_ERR_MODEL, "llama_decode of the prompt failed (%d)", (int)r);
        }
    }
    memcpy(s->cached, s->ptok, (size_t)n_tok * sizeof *s->cached);
    s->n_cached = n_tok;
    return ASKDOCS_OK;
}

/* ------------------------------------------------------------ answer */

typedef struct stream {
    askdocs_token_cb cb;     /* NULL = quiet (rationales) */
    void *user;
    const askdocs_ask_request *rq;
    int stop;                /* the callback asked to stop */
    double t0, ttft;
} stream;

/* Hand s[0..n) to the callback (if any); the first call sets ttft. */
static void emit(stream *st, const char *s, size_t n)
{
    if (n == 0)
        return;
    if (st->ttft <= 0) { /* with or without a callback (JSON answers) */
        st->ttft = askdocs_now_ms() - st->t0;
        if (st->ttft <= 0)
            st->ttft = 1e-3;
    }
    if (!st->cb)
        return;
    if (!st->stop && st->cb(s, n, st->user))
        st->stop = 1;
}

/* Text after which the model has left its answer (it starts a new
 * question, or another turn). Generation stops there; they are not part of
 * the draft. */
static const char *const stop_strs[] = {
    "\nQuestion:", "\nQ:", "\nEvidence:", "\nUser:", "\n" KO_QUESTION ":", "\n" KO_EVIDENCE ":",
    "<start_of_turn>", "<end_of_turn>", "<|im_start|>", "<|im_end|>", "<|eot_id|>",
};
#define STOP_MAX_LEN 16

/* Offset of the first stop string in s[from..n), or n. */
static size_t find_stop(const char *s, size_t n, size_t from)
{
    size_t best = n;
    for (size_t i = 0; i < sizeof stop_strs / sizeof stop_strs[0]; i++) {
        const char *p = memmem(s + from, n - from, stop_strs[i], strlen(stop_strs[i]));
        if (p && (size_t)(p - s) < best)
            best = (size_t)(p - s);
    }
    return best;
}

/* Length of the longest tail of s[0..n) that begins a stop string. */
static size_t stop_prefix_tail(const char *s, size_t n)
{
    size_t best = 0;
    for (size_t i = 0; i < sizeof stop_strs / sizeof stop_strs[0]; i++) {
        size_t l = strlen(stop_strs[i]);
        for (size_t k = ASKDOCS_MIN(l - 1, n); k > best; k--)
            if (memcmp(s + n - k, stop_strs[i], k) == 0) {
                best = k;
                break;
            }
    }
    return best;
}

/* s[0..*n) without trailing blanks. */
static void rtrim(const char *s, size_t *n)
{
    while (*n && (s[*n - 1] == ' ' || s[*n - 1] == '\t' || s[*n - 1] == '\r'))
        (*n)--;
}

/* 1 if the line of d that ends at d[e] (a '\n') repeats an earlier line,
 * list numbers ignored: the model is looping. */
static int line_repeats(const char *d, size_t e)
{
    size_t ls = e, lp, cl, p = 0;
    const char *core;
    while (ls > 0 && d[ls - 1] != '\n')
        ls--;
    lp = gen_list_prefix(d + ls, e - ls);
    core = d + ls + lp;
    cl = e - ls - lp;
    rtrim(core, &cl);
    if (cl < 8)
        return 0;
    while (p < ls) {
        size_t q = p, lp2, cl2;
        while (q < ls && d[q] != '\n')
            q++;
        lp2 = gen_list_prefix(d + p, q - p);
        cl2 = q - p - lp2;
        rtrim(d + p + lp2, &cl2);
        if (cl2 == cl && memcmp(d + p + lp2, core, cl) == 0)
            return 1;
        p = q + 1;
    }
    return 0;
}

/* One generation: the draft so far and how it ended. */
typedef struct gen_run {
    gen_slot *s;
    stream *st;
    askdocs_buf *draft;
    size_t sent;       /* draft bytes handed to the callback */
    int n_gen;
    int stopped;       /* a stop string, a loop or end of generation */
    int truncated;     /* cap reached or the callback said stop */
    int cancelled;     /* the client has gone */
} gen_run;

/* Take one generated piece: append it, cut at a stop string, stream whole
 * UTF-8 sequences (holding back a tail that might begin a stop string),
 * watch for loops and for a client that has gone. Returns 1 to stop. */
static int run_piece(gen_run *r, const char *piece, size_t pl)
{
    askdocs_buf *d = r->draft;
    size_t stop, upto, from;
    r->n_gen++;
    if (r->st->rq && r->st->rq->cancelled && r->st->rq->cancelled(r->st->rq->user)) {
        r->cancelled = 1;
        return 1;
    }
    if (pl == 0)
        return 0;
    if (d->len + pl > ASKDOCS_GEN_MAX_ANSWER_BYTES || askdocs_buf_append(d, piece, pl) != ASKDOCS_OK) {
        r->truncated = 1;
        return 1;
    }
    from = d->len > pl + STOP_MAX_LEN ? d->len - pl - STOP_MAX_LEN : 0;
    stop = find_stop(d->data, d->len, from);
    if (stop < d->len) {
        d->len = stop;
        d->data[stop] = '\0';
        r->stopped = 1;
        return 1;
    }
    upto = askdocs_utf8_floor(d->data, d->len - stop_prefix_tail(d->data, d->len));
    if (upto > r->sent) {
        /* a model may start a sequence and not finish it: the callback
         * gets valid UTF-8 only (U+FFFD in place of broken bytes) */
        if (askdocs_utf8_valid(d->data + r->sent, upto - r->sent)) {
            emit(r->st, d->data + r->sent, upto - r->sent);
        } else {
            size_t cl = 0;
            char *c = askdocs_utf8_clean(d->data + r->sent, upto - r->sent, &cl);
            if (c)
                emit(r->st, c, cl);
            askdocs_free(c);
        }
        r->sent = upto;
    }
    if (r->st->stop) {
        r->truncated = 1;
        r->cancelled = 1;
        return 1;
    }
    for (size_t e = d->len - pl; e < d->len; e++)
        if (d->data[e] == '\n' && line_repeats(d->data, e)) {
            r->stopped = 1;
            return 1;
        }
    return 0;
}

/* After the last piece: stream the held-back tail. */
static void run_finish(gen_run *r)
{
    askdocs_buf *d = r->draft;
    if (d->len > r->sent && !r->st->stop && !r->cancelled) {
        size_t cl = 0;
        char *c = askdocs_utf8_clean(d->data + r->sent, d->len - r->sent, &cl);
        if (c)
            emit(r->st, c, cl);
        askdocs_free(c);
    }
}

/* In process: decode the prompt in s->ptok[0..n_tok) and sample up to
 * max_tokens. */
static askdocs_rc generate_local(gen_run *r, int n_tok, int max_tokens)
{
    gen_slot *s = r->s;
    askdocs_generator *g = s->g;
    askdocs_rc rc;
    int i;

    rc = decode_prompt(s, n_tok);
    if (rc == ASKDOCS_ERR_ABORTED) {
        r->cancelled = 1;
        return ASKDOCS_OK;
    }
    if (rc != ASKDOCS_OK)
        return rc;
    llama_sampler_reset(s->smpl);
    for (i = 0; i < max_tokens; i++) {
        char piece[GEN_MAX_PIECE];
        llama_token t = llama_sampler_sample(s->smpl, s->ctx, -1);
        int32_t pl, dr;
        if (llama_vocab_is_eog(g->vocab, t)) {
            r->stopped = 1;
            break;
        }
        pl = llama_token_to_piece(g->vocab, t, piece, (int32_t)sizeof piece, 0, false);
        if (pl < 0)
            pl = 0; /* a piece over GEN_MAX_PIECE bytes: skipped */
        if (run_piece(r, piece, (size_t)pl))
            break;
        slot_threads(s);
        dr = llama_decode(s->ctx, llama_batch_get_one(&t, 1));
        if (dr != 0) {
            llama_memory_clear(llama_get_memory(s->ctx), true);
            s->n_cached = 0;
            if (slot_abort_cb(s)) {
                r->cancelled = 1;
                return ASKDOCS_OK;
            }
            return seterr(g, ASKDOCS_ERR_MODEL, "llama_decode failed while generating (%d)",
                          (int)dr);
        }
    }
    /* the KV cache now holds generated tokens past the prompt: they are
     * removed by the next decode_prompt (seq_rm from the common prefix) */
    if (!r->stopped && !r->cancelled && i == max_tokens)
        r->truncated = 1;
    run_finish(r);
    return ASKDOCS_OK;
}

static int remote_piece(const char *piece, size_t len, void *user)
{
    return run_piece(user, piece, len);
}

/* Remote: one streamed chat completion of [sys, user]. */
static askdocs_rc generate_remote(gen_run *r, const char *sys, const char *user, int max_tokens)
{
    static const char *const stops[] = { "\nQuestion:", "\n" KO_QUESTION ":", "\nEvidence:",
                                         "\n" KO_EVIDENCE ":" };
    gen_slot *s = r->s;
    gen_remote_stats rs;
    askdocs_rc rc;
    memset(&rs, 0, sizeof rs);
    rc = gen_remote_chat(s->remote, sys, user, max_tokens, s->g->p.temperature, stops, 4,
                         remote_piece, r, &rs);
    if (rc != ASKDOCS_OK)
        return seterr(s->g, rc, "%s", gen_remote_errmsg(s->remote));
    if (rs.n_gen_tokens > 0)
        r->n_gen = rs.n_gen_tokens;
    if (rs.finish_length && !r->stopped)
        r->truncated = 1;
    run_finish(r);
    return ASKDOCS_OK;
}

/* Build the prompt (sys + evidence + question) and generate into draft.
 * plen, n_use, n_tok as build_prompt. */
static askdocs_rc generate_on(gen_slot *s, stream *st, const char *sys, const char *question,
                              const askdocs_passage *ps, const int *labels, int n, int ko,
                              int max_tokens, askdocs_buf *draft, size_t *plen, int *n_use,
                              int *n_tok, gen_run *r)
{
    askdocs_buf u;
    askdocs_rc rc;
    askdocs_buf_init(&u, ASKDOCS_GEN_MAX_PROMPT_BYTES);
    memset(r, 0, sizeof *r);
    r->s = s;
    r->st = st;
    r->draft = draft;
    askdocs_buf_reset(draft);
    rc = build_prompt(s, sys, question, ps, labels, n, ko, max_tokens, &u, plen, n_use, n_tok);
    if (rc != ASKDOCS_OK || *n_use == 0)
        goto cleanup;
    if (s->ctx)
        rc = generate_local(r, *n_tok, max_tokens);
    else
        rc = generate_remote(r, sys, u.data, max_tokens);
cleanup:
    askdocs_buf_free(&u);
    return rc;
}

/* Skip white space and an "Answer:" label at the start of a draft. */
static size_t answer_label(const char *s, size_t n)
{
    static const char *const labels[] = { "Answer:", "A:", KO_ANSWER ":", "\xEB\x8B\xB5:" };
    size_t i = 0;
    while (i < n && (s[i] == ' ' || s[i] == '\n' || s[i] == '\t'))
        i++;
    for (size_t k = 0; k < sizeof labels / sizeof labels[0]; k++) {
        size_t l = strlen(labels[k]);
        if (n - i >= l && strncasecmp(s + i, labels[k], l) == 0)
            return i + l;
    }
    return i;
}

/* 1 if s[0..n) ends like a finished sentence: . ? ! 。 ？ ！ (maybe then a
 * closing quote) or a Korean ending 다 요 까. */
static int ends_sentence(const char *s, size_t n)
{
    while (n && (s[n - 1] == '"' || s[n - 1] == '\'' || s[n - 1] == ')' || s[n - 1] == '*'))
        n--;
    if (n == 0)
        return 0;
    if (s[n - 1] == '.' || s[n - 1] == '?' || s[n - 1] == '!')
        return 1;
    if (n >= 3) {
        static const char *const ends[] = { "\xE3\x80\x82", "\xEF\xBC\x9F", "\xEF\xBC\x81",
                                            "\xEB\x8B\xA4", "\xEC\x9A\x94", "\xEA\xB9\x8C" };
        for (size_t i = 0; i < sizeof ends / sizeof ends[0]; i++)
            if (memcmp(s + n - 3, ends[i], 3) == 0)
                return 1;
    }
    return 0;
}

/* Bytes of s[0..n) up to the end of its last complete sentence: an answer
 * cut by the token cap loses its unfinished last sentence (unless it is the
 * only one). */
static size_t complete_part(const char *s, size_t n)
{
    gen_sentence *ss = NULL;
    int nss = 0;
    size_t end = n;
    if (gen_split_sentences(s, n, 1, &ss, &nss) == ASKDOCS_OK && nss > 1) {
        const gen_sentence *last = &ss[nss - 1];
        askdocs_buf b;
        askdocs_buf_init(&b, (size_t)(last->end - last->start) + 1);
        if (gen_strip_markers(s + last->start, (size_t)(last->end - last->start), &b) ==
                ASKDOCS_OK &&
            !ends_sentence(b.data ? b.data : "", b.len))
            end = (size_t)last->start;
        askdocs_buf_free(&b);
    }
    askdocs_free(ss);
    return end;
}

/* ------------------------------------------------------ evidence compression */

/* Per-call copies of the passages as the model sees them. */
typedef struct evview {
    askdocs_passage *ps;  /* n views (text may point into owned) */
    char **owned;         /* n compressed texts or NULL */
    int *compressed;      /* 1 = ps[i].text is a selection of sentences */
    int n;
} evview;

static void evview_free(evview *v)
{
    for (int i = 0; v->owned && i < v->n; i++)
        askdocs_free(v->owned[i]);
    askdocs_free(v->owned);
    askdocs_free(v->ps);
    askdocs_free(v->compressed);
    memset(v, 0, sizeof *v);
}

typedef struct sent_score {
    double score;
    int idx;
} sent_score;

static int by_score_desc(const void *a, const void *b)
{
    const sent_score *x = a, *y = b;
    if (x->score != y->score)
        return x->score > y->score ? -1 : 1;
    return x->idx - y->idx;
}

static int by_idx(const void *a, const void *b)
{
    const sent_score *x = a, *y = b;
    return x->idx - y->idx;
}

/* The sentences of text[0..len) most related to the question (tokens Q),
 * in document order, within budget tokens, joined with " ... " where
 * sentences were left out. *out gets an askdocs_malloc'ed string, or NULL
 * when the whole text fits. */
static askdocs_rc compress_text(const askdocs_generator *g, const gen_tokset *Q, const char *text,
                                size_t len, int budget, char **out)
{
    gen_sentence *ss = NULL;
    sent_score *sc = NULL;
    int nss = 0, used = 0, k = 0;
    askdocs_buf b;
    askdocs_rc rc;

    *out = NULL;
    askdocs_buf_init(&b, len + 64);
    rc = gen_split_sentences(text, len, 0, &ss, &nss);
    if (rc != ASKDOCS_OK || nss <= 1)
        goto cleanup;
    sc = askdocs_calloc((size_t)nss, sizeof *sc);
    if (!sc) {
        rc = ASKDOCS_ERR_NOMEM;
        goto cleanup;
    }
    for (int i = 0; i < nss; i++) {
        gen_tokset T = { NULL, 0 };
        rc = gen_tokset_build(text + ss[i].start, (size_t)(ss[i].end - ss[i].start), &T);
        if (rc != ASKDOCS_OK)
            goto cleanup;
        sc[i].idx = i;
        /* share of the question in the sentence; ties: earlier first */
        sc[i].score = Q->n ? gen_overlap(Q, &T) : 0;
        gen_tokset_free(&T);
    }
    qsort(sc, (size_t)nss, sizeof *sc, by_score_desc);
    for (int i = 0; i < nss; i++) {
        int c = tok_count(g, text + ss[sc[i].idx].start,
                          (size_t)(ss[sc[i].idx].end - ss[sc[i].idx].start));
        if (used + c > budget && k > 0)
            continue;
        used += c;
        sc[k++] = sc[i];
        if (used >= budget)
            break;
    }
    qsort(sc, (size_t)k, sizeof *sc, by_idx);
    for (int i = 0; i < k && rc == ASKDOCS_OK; i++) {
        const gen_sentence *x = &ss[sc[i].idx];
        if (i > 0)
            rc = askdocs_buf_puts(&b, sc[i].idx == sc[i - 1].idx + 1 ? " " : " ... ");
        else if (sc[i].idx > 0)
            rc = askdocs_buf_puts(&b, "... ");
        if (rc == ASKDOCS_OK)
            rc = askdocs_buf_append(&b, text + x->start, (size_t)(x->end - x->start));
    }
    if (rc == ASKDOCS_OK && k > 0 && sc[k - 1].idx < nss - 1)
        rc = askdocs_buf_puts(&b, " ...");
    if (rc == ASKDOCS_OK && b.len) {
        *out = askdocs_buf_take(&b);
        if (!*out)
            rc = ASKDOCS_ERR_NOMEM;
    }
cleanup:
    askdocs_free(ss);
    askdocs_free(sc);
    askdocs_buf_free(&b);
    return rc;
}

/* Views of passages[0..n): passages over compress_tokens tokens are replaced
 * by their sentences most related to the question. */
static askdocs_rc evview_build(const askdocs_generator *g, const char *question,
                               const askdocs_passage *ps, int n, evview *v)
{
    gen_tokset Q = { NULL, 0 };
    askdocs_rc rc;
    memset(v, 0, sizeof *v);
    v->n = n;
    v->ps = askdocs_calloc((size_t)(n > 0 ? n : 1), sizeof *v->ps);
    v->owned = askdocs_calloc((size_t)(n > 0 ? n : 1), sizeof *v->owned);
    v->compressed = askdocs_calloc((size_t)(n > 0 ? n : 1), sizeof *v->compressed);
    if (!v->ps || !v->owned || !v->compressed) {
        rc = ASKDOCS_ERR_NOMEM;
        goto cleanup;
    }
    rc = gen_tokset_build(question, strlen(question), &Q);
    if (rc != ASKDOCS_OK)
        goto cleanup;
    for (int i = 0; i < n; i++) {
        size_t len = gen_passage_len(&ps[i]);
        v->ps[i] = ps[i];
        if (g->p.compress_tokens < 0 || !ps[i].text)
            continue;
        if (tok_count(g, ps[i].text, len) <= g->p.compress_tokens)
            continue;
        rc = compress_text(g, &Q, ps[i].text, len, g->p.compress_tokens, &v->owned[i]);
        if (rc != ASKDOCS_OK)
            goto cleanup;
        if (v->owned[i]) {
            v->ps[i].text = v->owned[i];
            v->compressed[i] = 1;
        }
    }
cleanup:
    gen_tokset_free(&Q);
    if (rc != ASKDOCS_OK)
        evview_free(v);
    return rc;
}

/* ------------------------------------------------------------ slots */

/* Wait for a free slot, first come first served. ASKDOCS_ERR_BUSY when
 * max_queue callers wait already; ASKDOCS_ERR_ABORTED when the request is
 * cancelled while waiting. */
static askdocs_rc slot_acquire(askdocs_generator *g, const askdocs_ask_request *rq,
                               gen_slot **out)
{
    gen_waiter w;
    gen_slot *s = NULL;
    askdocs_rc rc = ASKDOCS_OK;
    w.next = NULL;
    pthread_mutex_lock(&g->mu);
    if (!g->qhead) {
        for (int i = 0; i < g->n_slots && !s; i++)
            if (!g->slots[i].busy)
                s = &g->slots[i];
    }
    if (!s) {
        if (g->n_waiting >= g->p.max_queue) {
            pthread_mutex_unlock(&g->mu);
            return seterr(g, ASKDOCS_ERR_BUSY, "busy: %d questions are waiting already",
                          g->n_waiting);
        }
        if (g->qtail)
            g->qtail->next = &w;
        else
            g->qhead = &w;
        g->qtail = &w;
        g->n_waiting++;
        for (;;) {
            struct timespec ts;
            if (g->qhead == &w)
                for (int i = 0; i < g->n_slots && !s; i++)
                    if (!g->slots[i].busy)
                        s = &g->slots[i];
            if (s)
                break;
            if (rq->cancelled && rq->cancelled(rq->user)) {
                rc = ASKDOCS_ERR_ABORTED;
                break;
            }
            clock_gettime(CLOCK_REALTIME, &ts);
            ts.tv_nsec += 100 * 1000000L;
            if (ts.tv_nsec >= 1000000000L) {
                ts.tv_sec++;
                ts.tv_nsec -= 1000000000L;
            }
            pthread_cond_timedwait(&g->cv, &g->mu, &ts);
        }
        /* unlink w (the head when it got a slot; anywhere when cancelled) */
        {
            gen_waiter **pp = &g->qhead, *prev = NULL;
            while (*pp && *pp != &w) {
                prev = *pp;
                pp = &(*pp)->next;
            }
            if (*pp)
                *pp = w.next;
            if (g->qtail == &w)
                g->qtail = prev;
        }
        g->n_waiting--;
        pthread_cond_broadcast(&g->cv);
    }
    if (s) {
        s->busy = 1;
        s->rq = rq;
        atomic_fetch_add(&g->n_busy, 1);
    }
    pthread_mutex_unlock(&g->mu);
    if (rc != ASKDOCS_OK)
        return seterr(g, rc, "the question was cancelled while waiting");
    *out = s;
    return ASKDOCS_OK;
}

static void slot_release(gen_slot *s)
{
    askdocs_generator *g = s->g;
    pthread_mutex_lock(&g->mu);
    s->busy = 0;
    s->rq = NULL;
    atomic_fetch_sub(&g->n_busy, 1);
    pthread_cond_broadcast(&g->cv);
    pthread_mutex_unlock(&g->mu);
}

/* ------------------------------------------------------------ thorough */

/* Map a rationale the model wrote for passage p (text[0..len)) back to the
 * passage's own sentences: each rationale sentence that matches a passage
 * sentence (overlap >= GEN_RATIONALE_MATCH) selects it. out gets the
 * selected sentences in passage order ("" when none). */
static askdocs_rc rationale_of(const char *draft, size_t dlen, const char *text, size_t len,
                               askdocs_buf *out)
{
    gen_sentence *ds = NULL, *ps = NULL;
    int nds = 0, nps = 0;
    char *sel = NULL;
    askdocs_rc rc;
    askdocs_buf_reset(out);
    rc = gen_split_sentences(draft, dlen, 1, &ds, &nds);
    if (rc == ASKDOCS_OK)
        rc = gen_split_sentences(text, len, 0, &ps, &nps);
    if (rc != ASKDOCS_OK || nds == 0 || nps == 0)
        goto cleanup;
    sel = askdocs_calloc((size_t)nps, 1);
    if (!sel) {
        rc = ASKDOCS_ERR_NOMEM;
        goto cleanup;
    }
    for (int i = 0; i < nds; i++) {
        gen_tokset D = { NULL, 0 };
        int best = -1;
        double bo = 0;
        if (gen_is_refusal(draft + ds[i].start, (size_t)(ds[i].end - ds[i].start)))
            continue;
        rc = gen_tokset_build(draft + ds[i].start, (size_t)(ds[i].end - ds[i].start), &D);
        if (rc != ASKDOCS_OK)
            goto cleanup;
        for (int j = 0; j < nps && D.n; j++) {
            gen_tokset P = { NULL, 0 };
            double ov;
            rc = gen_tokset_build(text + ps[j].start, (size_t)(ps[j].end - ps[j].start), &P);
            if (rc != ASKDOCS_OK) {
                gen_tokset_free(&D);
                goto cleanup;
            }
            ov = gen_support_set(&D, &P);
            if (ov > bo) {
                bo = ov;
                best = j;
            }
            gen_tokset_free(&P);
        }
        gen_tokset_free(&D);
        if (best >= 0 && bo >= GEN_RATIONALE_MATCH)
            sel[best] = 1;
    }
    for (int j = 0; j < nps && rc == ASKDOCS_OK; j++) {
        if (!sel[j])
            continue;
        if (out->len)
            rc = askdocs_buf_puts(out, (j > 0 && sel[j - 1]) ? " " : " ... ");
        if (rc == ASKDOCS_OK)
            rc = askdocs_buf_append(out, text + ps[j].start, (size_t)(ps[j].end - ps[j].start));
    }
cleanup:
    askdocs_free(ds);
    askdocs_free(ps);
    askdocs_free(sel);
    return rc;
}

/* Thorough mode, steps 1-2: the first thorough_passages passages, each
 * read alone by the model, which copies what answers the question. rat
 * gets views of the passages that gave a rationale (text = the rationale,
 * owned by rat), labels their original numbers. */
static askdocs_rc thorough_rationales(gen_slot *s, stream *quiet, const char *question,
                                      const evview *v, int ko, evview *rat, int *labels,
                                      int *n_rat)
{
    askdocs_generator *g = s->g;
    askdocs_buf d, r;
    askdocs_rc rc = ASKDOCS_OK;
    int m = ASKDOCS_MIN(v->n, g->p.thorough_passages);
    *n_rat = 0;
    askdocs_buf_init(&d, ASKDOCS_GEN_MAX_ANSWER_BYTES + 1024);
    askdocs_buf_init(&r, ASKDOCS_GEN_MAX_PASSAGE_BYTES + 1024);
    memset(rat, 0, sizeof *rat);
    rat->ps = askdocs_calloc((size_t)(m > 0 ? m : 1), sizeof *rat->ps);
    rat->owned = askdocs_calloc((size_t)(m > 0 ? m : 1), sizeof *rat->owned);
    if (!rat->ps || !rat->owned) {
        rc = seterr(g, ASKDOCS_ERR_NOMEM, "out of memory");
        goto cleanup;
    }
    for (int i = 0; i < m; i++) {
        size_t pl = 0;
        int nu = 0, nt = 0, lab = i + 1;
        gen_run run;
        const char *text = v->ps[i].text ? v->ps[i].text : "";
        rc = generate_on(s, quiet, ko ? RAT_KO : RAT_EN, question, &v->ps[i], &lab, 1, ko,
                         GEN_RATIONALE_TOKENS, &d, &pl, &nu, &nt, &run);
        if (rc != ASKDOCS_OK)
            goto cleanup;
        if (run.cancelled) {
            rc = ASKDOCS_ERR_ABORTED;
            goto cleanup;
        }
        if (nu == 0 || d.len == 0)
            continue;
        rc = rationale_of(d.data, d.len, text, pl, &r);
        if (rc != ASKDOCS_OK) {
            seterr(g, rc, "out of memory");
            goto cleanup;
        }
        askdocs_log(3, "generator: rationale of [%d]: %zu of %zu bytes", i + 1, r.len, pl);
        if (r.len == 0)
            continue;
        rat->owned[*n_rat] = askdocs_buf_take(&r);
        askdocs_buf_init(&r, ASKDOCS_GEN_MAX_PASSAGE_BYTES + 1024);
        if (!rat->owned[*n_rat]) {
            rc = seterr(g, ASKDOCS_ERR_NOMEM, "out of memory");
            goto cleanup;
        }
        rat->ps[*n_rat] = v->ps[i];
        rat->ps[*n_rat].text = rat->owned[*n_rat];
        labels[*n_rat] = i + 1;
        (*n_rat)++;
        rat->n = *n_rat;
    }
cleanup:
    rat->n = *n_rat;
    askdocs_buf_free(&d);
    askdocs_buf_free(&r);
    return rc;
}

/* ------------------------------------------------------------ ask */

askdocs_rc askdocs_generator_answer(askdocs_generator *g, const char *question,
                                    const askdocs_passage *passages, int n, askdocs_token_cb cb,
                                    void *user, askdocs_answer **out)
{
    askdocs_ask_request rq;
    memset(&rq, 0, sizeof rq);
    rq.question = question;
    rq.passages = passages;
    rq.n = n;
    rq.cb = cb;
    rq.user = user;
    return askdocs_generator_ask(g, &rq, out);
}

askdocs_rc askdocs_generator_ask(askdocs_generator *g, const askdocs_ask_request *rq,
                                 askdocs_answer **out)
{
    askdocs_answer *a = NULL;
    askdocs_rc rc = ASKDOCS_OK;
    askdocs_buf draft;
    size_t *plen = NULL, qlen, dl = 0;
    char *clean = NULL;
    const char *question;
    const askdocs_passage *passages;
    int ko, n, n_use = 0, n_tok = 0, n_gen = 0, truncated = 0, cancelled = 0, n_rat = 0;
    int *labels = NULL;
    askdocs_answer_mode mode;
    gen_slot *slot = NULL;
    evview view, rat;
    gen_sim sim, *simp = NULL;
    stream st;
    double queue_ms = 0;

    askdocs_buf_init(&draft, ASKDOCS_GEN_MAX_ANSWER_BYTES + 1024);
    memset(&st, 0, sizeof st);
    memset(&view, 0, sizeof view);
    memset(&rat, 0, sizeof rat);
    st.t0 = askdocs_now_ms();
    if (!g)
        return ASKDOCS_ERR_INVALID;
    clearerr_g(g);
    if (!out || !rq || !rq->question || rq->n < 0 || (rq->n > 0 && !rq->passages) ||
        (int)rq->mode < 0 || rq->mode > ASKDOCS_ANSWER_THOROUGH) {
        rc = seterr(g, ASKDOCS_ERR_INVALID, "askdocs_generator_ask: bad arguments");
        goto cleanup;
    }
    *out = NULL;
    st.cb = rq->cb;
    st.user = rq->user;
    st.rq = rq;
    question = rq->question;
    passages = rq->passages;
    n = rq->n;
    qlen = strlen(question);
    if (qlen > ASKDOCS_GEN_MAX_QUESTION_BYTES) {
        rc = seterr(g, ASKDOCS_ERR_TOOBIG, "question of %zu bytes (max %d)", qlen,
                    ASKDOCS_GEN_MAX_QUESTION_BYTES);
        goto cleanup;
    }
    if (!askdocs_utf8_valid(question, qlen) || qlen == 0) {
        rc = seterr(g, ASKDOCS_ERR_INVALID, "the question is empty or not valid UTF-8");
        goto cleanup;
    }
    if (n > ASKDOCS_GEN_MAX_PASSAGES)
        n = ASKDOCS_GEN_MAX_PASSAGES;
    mode = rq->mode ? rq->mode : g->p.mode;
    if (!askdocs_generator_has_model(g))
        mode = ASKDOCS_ANSWER_EXTRACTIVE;
    ko = askdocs_text_is_korean(question, qlen);
    a = askdocs_calloc(1, sizeof *a);
    plen = askdocs_calloc((size_t)(n > 0 ? n : 1), sizeof *plen);
    labels = askdocs_calloc((size_t)(n > 0 ? n : 1), sizeof *labels);
    if (!a || !plen || !labels) {
        rc = seterr(g, ASKDOCS_ERR_NOMEM, "out of memory");
        goto cleanup;
    }
    if (g->p.embed && g->p.embed_dim > 0) {
        sim.fn = g->p.embed;
        sim.user = g->p.embed_user;
        sim.dim = g->p.embed_dim;
        sim.min_similarity = g->p.min_similarity;
        simp = &sim;
    }

    /* how well the best passage covers the question */
    {
        gen_tokset Q = { NULL, 0 };
        rc = gen_tokset_build(question, qlen, &Q);
        if (rc != ASKDOCS_OK) {
            seterr(g, rc, "out of memory");
            goto cleanup;
        }
        a->evidence_score = Q.n ? 0 : -1;
        for (int i = 0; i < n && Q.n; i++) {
            gen_tokset P = { NULL, 0 };
            rc = gen_tokset_build(passages[i].text ? passages[i].text : "",
                                  gen_passage_len(&passages[i]), &P);
            if (rc != ASKDOCS_OK) {
                gen_tokset_free(&Q);
                seterr(g, rc, "out of memory");
                goto cleanup;
            }
            a->evidence_score = ASKDOCS_MAX(a->evidence_score, gen_overlap(&Q, &P));
            gen_tokset_free(&P);
        }
        gen_tokset_free(&Q);
        if (n > 0 && g->p.min_evidence > 0 && a->evidence_score >= 0 &&
            a->evidence_score < g->p.min_evidence) {
            a->weak_evidence = 1;
            n = 0; /* refused below, without a model run */
        }
    }
    if (n > 0 && mode != ASKDOCS_ANSWER_EXTRACTIVE) {
        double tq = askdocs_now_ms();
        rc = slot_acquire(g, rq, &slot);
        queue_ms = askdocs_now_ms() - tq;
        if (rc != ASKDOCS_OK)
            goto cleanup;
        rc = evview_build(g, question, passages, n, &view);
        if (rc != ASKDOCS_OK) {
            seterr(g, rc, "out of memory");
            goto cleanup;
        }
        if (mode == ASKDOCS_ANSWER_THOROUGH) {
            stream quiet = st;
            quiet.cb = NULL;
            rc = thorough_rationales(slot, &quiet, question, &view, ko, &rat, labels, &n_rat);
            if (rc == ASKDOCS_ERR_ABORTED) {
                cancelled = 1;
                rc = ASKDOCS_OK;
            }
            if (rc != ASKDOCS_OK)
                goto cleanup;
        }
        if (!cancelled && (mode != ASKDOCS_ANSWER_THOROUGH || n_rat > 0)) {
            gen_run run;
            if (mode == ASKDOCS_ANSWER_THOROUGH)
                rc = generate_on(slot, &st, ko ? SYS_KO : SYS_EN, question, rat.ps, labels, n_rat,
                                 ko, g->p.max_answer_tokens, &draft, plen, &n_use, &n_tok, &run);
            else
                rc = generate_on(slot, &st, ko ? SYS_KO : SYS_EN, question, view.ps, NULL, n, ko,
                                 g->p.max_answer_tokens, &draft, plen, &n_use, &n_tok, &run);
            if (rc != ASKDOCS_OK)
                goto cleanup;
            n_gen = run.n_gen;
            truncated = run.truncated;
            cancelled = run.cancelled;
        }
        slot_release(slot);
        slot = NULL;
    }
    if (n_use > 0) {
        /* verify against the passages themselves: a compressed or
         * rationale view is a selection of their sentences */
        int nv = n;
        if (mode == ASKDOCS_ANSWER_THOROUGH) {
            nv = ASKDOCS_MIN(n, g->p.thorough_passages);
            for (int i = 0; i < nv; i++)
                plen[i] = gen_passage_len(&passages[i]);
        } else {
            for (int i = 0; i < n_use; i++)
                if (view.compressed[i])
                    plen[i] = gen_passage_len(&passages[i]);
        }
        clean = askdocs_utf8_clean(draft.data ? draft.data : "", draft.len, &dl);
        if (!clean) {
            rc = seterr(g, ASKDOCS_ERR_NOMEM, "out of memory");
            goto cleanup;
        }
        {
            size_t skip = answer_label(clean, dl);
            size_t end = truncated ? complete_part(clean, dl) : dl;
            rc = gen_verify_ex(end > skip ? clean + skip : "", end > skip ? end - skip : 0,
                               passages, plen, mode == ASKDOCS_ANSWER_THOROUGH ? nv : n_use,
                               g->p.min_support, g->p.strict, ko, simp, a, NULL);
        }
        if (rc != ASKDOCS_OK) {
            seterr(g, rc, "citation check failed: %s", askdocs_strerror(rc));
            goto cleanup;
        }
        a->draft = clean;
        clean = NULL;
    } else {
        /* extractive, or no evidence (none given, none fits, no rationale,
         * cancelled): no model run; the final text is streamed as one piece */
        if (n > 0 && mode == ASKDOCS_ANSWER_EXTRACTIVE) {
            double best = 0;
            for (int i = 0; i < n; i++)
                plen[i] = gen_passage_len(&passages[i]);
            n_use = n;
            rc = gen_extractive_draft(question, passages, plen, n, g->p.min_support, &draft,
                                      &best);
            if (rc == ASKDOCS_OK)
                rc = gen_verify_ex(draft.data ? draft.data : "", draft.len, passages, plen, n,
                                   g->p.min_support, g->p.strict, ko, NULL, a, NULL);
        } else {
            a->refused = 1;
            a->text = askdocs_strdup(gen_refusal_phrase(ko));
            rc = a->text ? ASKDOCS_OK : ASKDOCS_ERR_NOMEM;
        }
        if (rc != ASKDOCS_OK) {
            seterr(g, rc, "extractive answer failed: %s", askdocs_strerror(rc));
            goto cleanup;
        }
        a->draft = askdocs_strdup("");
        if (!a->draft) {
            rc = seterr(g, ASKDOCS_ERR_NOMEM, "out of memory");
            goto cleanup;
        }
        if (!cancelled)
            emit(&st, a->text, strlen(a->text));
        truncated = 0;
    }
    a->mode = mode;
    a->cancelled = cancelled;
    a->queue_ms = queue_ms;
    a->n_rationales = n_rat;
    a->n_prompt_tokens = n_tok;
    a->n_gen_tokens = n_gen;
    a->n_passages_used = n_use;
    a->truncated = truncated;
    a->ttft_ms = st.ttft;
    a->total_ms = askdocs_now_ms() - st.t0;
    if (a->ttft_ms <= 0)
        a->ttft_ms = a->total_ms;
    if (a->weak_evidence)
        askdocs_log(2, "generator: weak evidence (best passage holds %.2f of the question's "
                    "words, min_evidence %.2f): refused", a->evidence_score, g->p.min_evidence);
    askdocs_log(2, "generator: %s, %d prompt tokens (%d reused), %d passages, %d rationales, "
                "%d generated, queue %.0f ms, ttft %.0f ms, total %.0f ms%s",
                askdocs_answer_mode_name(mode), n_tok, gen_last_reused_tokens(g), n_use, n_rat,
                n_gen, queue_ms, a->ttft_ms, a->total_ms, cancelled ? ", cancelled" : "");
    *out = a;
    a = NULL;
cleanup:
    if (slot)
        slot_release(slot);
    if (rc != ASKDOCS_OK && !(t_err_g == g && t_err[0]))
        seterr(g, rc, "%s", askdocs_strerror(rc));
    askdocs_answer_free(a);
    askdocs_free(plen);
    askdocs_free(labels);
    askdocs_free(clean);
    evview_free(&view);
    evview_free(&rat);
    askdocs_buf_free(&draft);
    return rc;
}

char *gen_render_prompt(const askdocs_generator *g, const char *system, const char *user)
{
    askdocs_buf b;
    askdocs_rc rc;
    const char *pre = "", *mid = "\n\n", *post = "\nAnswer:";
    if (!g || !g->model || !system || !user)
        return NULL;
    if (g->tmpl_mode != TMPL_PLAIN) {
        pre = g->t_pre;
        mid = g->tmpl_mode == TMPL_FOLD ? "\n\n" : g->t_mid;
        post = g->t_post;
    }
    askdocs_buf_init(&b, ASKDOCS_GEN_MAX_PROMPT_BYTES);
    rc = askdocs_buf_printf(&b, "%s%s%s%s%s", pre, system, mid, user, post);
    if (rc != ASKDOCS_OK) {
        askdocs_buf_free(&b);
        return NULL;
    }
    return b.data; /* owned by the caller */
}
