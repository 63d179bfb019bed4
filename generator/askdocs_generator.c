/*
 * askdocs_generator.c - the generator handle: model loading (llama.cpp C
 * API), prompt building within the context budget, KV-cache prefix reuse,
 * streaming generation, then citation verification (gen_verify.c).
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <llama.h>

#include "askdocs_generator.h"
#include "askdocs_indexer.h" /* idx_llama_init (indexer module) */
#include "gen_internal.h"

#define GEN_DEFAULT_CTX 4096
#define GEN_DEFAULT_ANSWER_TOKENS 384
#define GEN_DEFAULT_MIN_SUPPORT 0.35
#define GEN_N_BATCH 512          /* tokens per llama_decode of the prompt */
#define GEN_SLACK_TOKENS 16      /* margin for tokenisation at block joins */
#define GEN_MIN_PART_TOKENS 48   /* least room worth a truncated passage */
#define GEN_MAX_PIECE 256        /* bytes of one token's text */
#define GEN_MAX_LABEL 512        /* bytes of a title / heading in the prompt */
#define GEN_SENT_SYS "@@ASKDOCS_SYSTEM@@"
#define GEN_SENT_USER "@@ASKDOCS_USER@@"

enum { TMPL_ROLES = 0, TMPL_FOLD = 1, TMPL_PLAIN = 2 };

struct askdocs_generator {
    askdocs_generator_params p;     /* resolved (no zeros); model_path NULL */
    char err[512];
    struct llama_model *model;      /* NULL in extractive mode */
    struct llama_context *ctx;
    const struct llama_vocab *vocab;
    struct llama_sampler *smpl;
    int n_ctx;
    /* the chat template split around the two sentinels */
    int tmpl_mode;
    char *t_pre, *t_mid, *t_post;
    /* tokens held in the KV cache of sequence 0 at positions 0.. */
    llama_token *cached;
    int n_cached;
    int last_reused;
    llama_token *ptok;              /* prompt scratch, n_ctx tokens */
};

/* ------------------------------------------------------------ errors */

static askdocs_rc seterr(askdocs_generator *g, askdocs_rc rc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static askdocs_rc seterr(askdocs_generator *g, askdocs_rc rc, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(g->err, sizeof g->err, fmt, ap);
    va_end(ap);
    return rc;
}

const char *askdocs_generator_errmsg(const askdocs_generator *g)
{
    return g ? g->err : "no generator";
}

int askdocs_generator_has_model(const askdocs_generator *g)
{
    return g && g->model;
}

int gen_last_reused_tokens(const askdocs_generator *g)
{
    return g ? g->last_reused : 0;
}

int gen_template_mode(const askdocs_generator *g)
{
    return g && g->model ? g->tmpl_mode : -1;
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
    askdocs_free(a->text);
    askdocs_free(a->draft);
    askdocs_free(a);
}

void askdocs_generator_free(askdocs_generator *g)
{
    if (!g)
        return;
    if (g->smpl)
        llama_sampler_free(g->smpl);
    if (g->ctx)
        llama_free(g->ctx);
    if (g->model)
        llama_model_free(g->model);
    askdocs_free(g->t_pre);
    askdocs_free(g->t_mid);
    askdocs_free(g->t_post);
    askdocs_free(g->cached);
    askdocs_free(g->ptok);
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
    p.model_path = NULL;
    g->p = p;
    g->n_ctx = p.n_ctx;

    if (path && *path) {
        struct llama_model_params mp;
        struct llama_context_params cp;
        struct llama_sampler_chain_params sp;
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

        cp = llama_context_default_params();
        cp.n_ctx = (uint32_t)g->n_ctx;
        cp.n_batch = (uint32_t)ASKDOCS_MIN(GEN_N_BATCH, g->n_ctx);
        cp.n_ubatch = cp.n_batch;
        cp.n_seq_max = 1;
        cp.n_threads = p.n_threads;
        cp.n_threads_batch = p.n_threads;
        cp.no_perf = true;
        cp.swa_full = true; /* so that the KV tail can be removed for prefix reuse */
        g->ctx = llama_init_from_model(g->model, cp);
        if (!g->ctx) {
            rc = seterr(g, ASKDOCS_ERR_MODEL, "cannot create a llama context (n_ctx %d)", g->n_ctx);
            goto cleanup;
        }
        g->n_ctx = (int)llama_n_ctx(g->ctx);

        sp = llama_sampler_chain_default_params();
        sp.no_perf = true;
        g->smpl = llama_sampler_chain_init(sp);
        if (!g->smpl) {
            rc = seterr(g, ASKDOCS_ERR_MODEL, "cannot create a sampler");
            goto cleanup;
        }
        if (p.temperature <= 0) {
            llama_sampler_chain_add(g->smpl, llama_sampler_init_greedy());
        } else {
            llama_sampler_chain_add(g->smpl, llama_sampler_init_top_k(40));
            llama_sampler_chain_add(g->smpl, llama_sampler_init_top_p(0.95f, 1));
            llama_sampler_chain_add(g->smpl, llama_sampler_init_temp(p.temperature));
            llama_sampler_chain_add(g->smpl,
                                    llama_sampler_init_dist(p.seed ? p.seed : LLAMA_DEFAULT_SEED));
        }
        rc = split_template(g);
        if (rc != ASKDOCS_OK) {
            seterr(g, rc, "out of memory");
            goto cleanup;
        }
        g->cached = askdocs_malloc((size_t)g->n_ctx * sizeof *g->cached);
        g->ptok = askdocs_malloc((size_t)g->n_ctx * sizeof *g->ptok);
        if (!g->cached || !g->ptok) {
            rc = seterr(g, ASKDOCS_ERR_NOMEM, "out of memory");
            goto cleanup;
        }
        if (askdocs_log_level >= 2) {
            char e[3][160];
            const char *src[3] = { g->t_pre, g->t_mid, g->t_post };
            for (int k = 0; k < 3; k++)
                escape_for_log(src[k], e[k], sizeof e[k]);
            askdocs_log(2, "generator: model %s, n_ctx %d, template mode %d: \"%s\" system \"%s\" "
                        "user \"%s\"", path, g->n_ctx, g->tmpl_mode, e[0], e[1], e[2]);
        }
    }
    *out = g;
    g = NULL;
cleanup:
    if (g) {
        if (err)
            askdocs_snprintf(err, errlen, "%s", g->err);
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

/* Append the evidence block of passage i (text cut to len bytes). */
static askdocs_rc put_block(askdocs_buf *b, const askdocs_passage *p, int i, size_t len)
{
    const char *title = p->title && *p->title ? p->title : (p->doc ? p->doc : "");
    askdocs_rc rc = askdocs_buf_printf(b, "[%d] %.*s", i + 1, label_len(title), title);
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

/* The user turn: evidence blocks 0..n_use (the last cut to last_len bytes
 * when last_len != (size_t)-1), then the question. */
static askdocs_rc build_user(askdocs_buf *u, const char *question, const askdocs_passage *ps,
                             const size_t *full, int n_use, size_t last_len, int ko)
{
    askdocs_rc rc;
    askdocs_buf_reset(u);
    rc = askdocs_buf_printf(u, "%s:\n\n", ko ? KO_EVIDENCE : "Evidence");
    for (int i = 0; i < n_use && rc == ASKDOCS_OK; i++)
        rc = put_block(u, &ps[i], i, (i == n_use - 1 && last_len != (size_t)-1) ? last_len : full[i]);
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

/* Number of tokens of plain text. */
static int tok_count(const askdocs_generator *g, const char *text, size_t len)
{
    int32_t r;
    if (len == 0)
        return 0;
    if (len > (size_t)INT32_MAX / 2)
        return INT32_MAX / 2;
    r = llama_tokenize(g->vocab, text, (int32_t)len, NULL, 0, false, false);
    return r < 0 ? -r : r;
}

/* Tokenize the whole chat prompt into g->ptok; *n_tok gets the count.
 * ASKDOCS_ERR_TOOBIG when it does not fit in n_ctx. Template text is parsed
 * for special tokens; system and user text never are (a passage cannot forge
 * a turn). */
static askdocs_rc tok_prompt(askdocs_generator *g, const char *sys, const char *user, int ko,
                             int *n_tok)
{
    int n = 0, k;
    int cap = g->n_ctx;
    const char *pre = "", *mid = "\n\n", *post = ko ? "\n" KO_ANSWER ":" : "\nAnswer:";
    if (g->tmpl_mode != TMPL_PLAIN) {
        pre = g->t_pre;
        mid = g->t_mid;
        post = g->t_post;
    }
    /* pre, with BOS if the model wants one */
    k = tok_into(g, pre, strlen(pre), true, true, g->ptok, cap);
    if (k < 0)
        return ASKDOCS_ERR_TOOBIG;
    if (k >= 2 && g->ptok[0] == g->ptok[1] && g->ptok[0] == llama_vocab_bos(g->vocab)) {
        memmove(g->ptok, g->ptok + 1, (size_t)(k - 1) * sizeof *g->ptok);
        k--; /* the template already had BOS */
    }
    n = k;
    if (g->tmpl_mode == TMPL_FOLD) {
        k = tok_into(g, sys, strlen(sys), false, false, g->ptok + n, cap - n);
        if (k < 0)
            return ASKDOCS_ERR_TOOBIG;
        n += k;
        k = tok_into(g, "\n\n", 2, false, false, g->ptok + n, cap - n);
    } else {
        k = tok_into(g, sys, strlen(sys), false, false, g->ptok + n, cap - n);
        if (k < 0)
            return ASKDOCS_ERR_TOOBIG;
        n += k;
        k = tok_into(g, mid, strlen(mid), false, true, g->ptok + n, cap - n);
    }
    if (k < 0)
        return ASKDOCS_ERR_TOOBIG;
    n += k;
    k = tok_into(g, user, strlen(user), false, false, g->ptok + n, cap - n);
    if (k < 0)
        return ASKDOCS_ERR_TOOBIG;
    n += k;
    k = tok_into(g, post, strlen(post), false, true, g->ptok + n, cap - n);
    if (k < 0)
        return ASKDOCS_ERR_TOOBIG;
    n += k;
    *n_tok = n;
    return ASKDOCS_OK;
}

/* Build and tokenize the prompt with as much evidence as fits with
 * max_answer_tokens in n_ctx: drop lowest-ranked passages, cut the last one
 * kept at a UTF-8 boundary. plen[i] gets the bytes of passage i shown (0 =
 * not shown); *n_use the passages shown; *n_tok the prompt tokens. */
static askdocs_rc build_prompt(askdocs_generator *g, const char *question,
                               const askdocs_passage *ps, int n, int ko, size_t *plen,
                               int *n_use_out, int *n_tok)
{
    askdocs_buf u, blk;
    askdocs_rc rc;
    const char *sys = ko ? SYS_KO : SYS_EN;
    int fixed = 0, avail, used = 0, n_use = 0;
    size_t last_len = (size_t)-1;
    size_t *full = NULL;

    askdocs_buf_init(&u, ASKDOCS_GEN_MAX_PROMPT_BYTES);
    askdocs_buf_init(&blk, ASKDOCS_GEN_MAX_PASSAGE_BYTES + 4096);
    full = askdocs_calloc((size_t)(n > 0 ? n : 1), sizeof *full);
    if (!full) {
        rc = ASKDOCS_ERR_NOMEM;
        goto cleanup;
    }
    for (int i = 0; i < n; i++)
        full[i] = gen_passage_len(&ps[i]);
    /* tokens without any evidence */
    rc = build_user(&u, question, ps, full, 0, last_len, ko);
    if (rc != ASKDOCS_OK)
        goto cleanup;
    rc = tok_prompt(g, sys, u.data, ko, &fixed);
    if (rc != ASKDOCS_OK) {
        seterr(g, rc, "the question does not fit in the context (n_ctx %d)", g->n_ctx);
        goto cleanup;
    }
    avail = g->n_ctx - g->p.max_answer_tokens - fixed - GEN_SLACK_TOKENS;
    if (avail <= 0) {
        rc = seterr(g, ASKDOCS_ERR_TOOBIG,
                    "prompt of %d tokens + %d answer tokens do not fit in n_ctx %d", fixed,
                    g->p.max_answer_tokens, g->n_ctx);
        goto cleanup;
    }
    for (int i = 0; i < n; i++) {
        int c, room;
        askdocs_buf_reset(&blk);
        rc = put_block(&blk, &ps[i], i, full[i]);
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
                rc = put_block(&blk, &ps[i], i, m2);
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
        rc = build_user(&u, question, ps, full, n_use, last_len, ko);
        if (rc != ASKDOCS_OK)
            goto cleanup;
        rc = tok_prompt(g, sys, u.data, ko, &nt);
        if (rc == ASKDOCS_OK && nt + g->p.max_answer_tokens <= g->n_ctx) {
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
    askdocs_free(full);
    askdocs_buf_free(&u);
    askdocs_buf_free(&blk);
    return rc;
}

/* Decode g->ptok[0..n_tok), reusing the cached prefix. */
static askdocs_rc decode_prompt(askdocs_generator *g, int n_tok)
{
    llama_memory_t mem = llama_get_memory(g->ctx);
    int common = 0;
    while (common < g->n_cached && common < n_tok && g->cached[common] == g->ptok[common])
        common++;
    if (common >= n_tok)
        common = n_tok - 1; /* the last token must be decoded for logits */
    if (!llama_memory_seq_rm(mem, 0, common, -1)) {
        llama_memory_clear(mem, true);
        common = 0;
    }
    g->n_cached = 0;
    g->last_reused = common;
    for (int pos = common; pos < n_tok; pos += GEN_N_BATCH) {
        int cnt = ASKDOCS_MIN(GEN_N_BATCH, n_tok - pos);
        int32_t r = llama_decode(g->ctx, llama_batch_get_one(g->ptok + pos, cnt));
        if (r != 0) {
            llama_memory_clear(mem, true);
            return seterr(g, ASKDOCS_ERR_MODEL, "llama_decode of the prompt failed (%d)", (int)r);
        }
    }
    memcpy(g->cached, g->ptok, (size_t)n_tok * sizeof *g->cached);
    g->n_cached = n_tok;
    return ASKDOCS_OK;
}

/* ------------------------------------------------------------ answer */

typedef struct stream {
    askdocs_token_cb cb;
    void *user;
    int stop;
    double t0, ttft;
} stream;

/* Hand s[0..n) to the callback; first call sets ttft. */
static void emit(stream *st, const char *s, size_t n)
{
    if (n == 0)
        return;
    if (st->ttft <= 0) {
        st->ttft = askdocs_now_ms() - st->t0;
        if (st->ttft <= 0)
            st->ttft = 1e-3;
    }
    if (st->cb && !st->stop && st->cb(s, n, st->user))
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

/* Run the model over the prompt in g->ptok and collect the draft. Pieces
 * are streamed as whole UTF-8 sequences, holding back a tail that might
 * begin a stop string. */
static askdocs_rc generate(askdocs_generator *g, int n_tok, stream *st, askdocs_buf *draft,
                           int *n_gen, int *truncated)
{
    askdocs_rc rc;
    size_t sent = 0; /* draft bytes handed to the callback */
    int i, stopped = 0;

    rc = decode_prompt(g, n_tok);
    if (rc != ASKDOCS_OK)
        return rc;
    llama_sampler_reset(g->smpl);
    *n_gen = 0;
    *truncated = 0;
    for (i = 0; i < g->p.max_answer_tokens; i++) {
        char piece[GEN_MAX_PIECE];
        llama_token t = llama_sampler_sample(g->smpl, g->ctx, -1);
        int32_t pl, r;
        size_t stop, upto, from;
        if (llama_vocab_is_eog(g->vocab, t)) {
            stopped = 1;
            break;
        }
        (*n_gen)++;
        pl = llama_token_to_piece(g->vocab, t, piece, (int32_t)sizeof piece, 0, false);
        if (pl < 0)
            pl = 0; /* a piece over GEN_MAX_PIECE bytes: skipped */
        if (draft->len + (size_t)pl > ASKDOCS_GEN_MAX_ANSWER_BYTES ||
            askdocs_buf_append(draft, piece, (size_t)pl) != ASKDOCS_OK) {
            *truncated = 1;
            break;
        }
        if (pl > 0) {
            from = draft->len > (size_t)pl + STOP_MAX_LEN ? draft->len - (size_t)pl - STOP_MAX_LEN
                                                          : 0;
            stop = find_stop(draft->data, draft->len, from);
            if (stop < draft->len) {
                draft->len = stop;
                draft->data[stop] = '\0';
                stopped = 1;
                break;
            }
            upto = askdocs_utf8_floor(draft->data,
                                      draft->len - stop_prefix_tail(draft->data, draft->len));
            if (upto > sent) {
                emit(st, draft->data + sent, upto - sent);
                sent = upto;
            }
            if (st->stop) {
                *truncated = 1;
                break;
            }
            for (size_t e = draft->len - (size_t)pl; e < draft->len && !stopped; e++)
                if (draft->data[e] == '\n' && line_repeats(draft->data, e))
                    stopped = 1;
            if (stopped)
                break;
        }
        r = llama_decode(g->ctx, llama_batch_get_one(&t, 1));
        if (r != 0) {
            llama_memory_clear(llama_get_memory(g->ctx), true);
            g->n_cached = 0;
            return seterr(g, ASKDOCS_ERR_MODEL, "llama_decode failed while generating (%d)",
                          (int)r);
        }
    }
    if (!stopped && i == g->p.max_answer_tokens)
        *truncated = 1;
    if (draft->len > sent && !st->stop) { /* the held-back tail */
        size_t cl = 0;
        char *c = askdocs_utf8_clean(draft->data + sent, draft->len - sent, &cl);
        if (c)
            emit(st, c, cl);
        askdocs_free(c);
    }
    return ASKDOCS_OK;
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

askdocs_rc askdocs_generator_answer(askdocs_generator *g, const char *question,
                                    const askdocs_passage *passages, int n, askdocs_token_cb cb,
                                    void *user, askdocs_answer **out)
{
    askdocs_answer *a = NULL;
    askdocs_rc rc = ASKDOCS_OK;
    askdocs_buf draft;
    size_t *plen = NULL, qlen, dl = 0;
    char *clean = NULL;
    int ko, n_use = 0, n_tok = 0, n_gen = 0, truncated = 0;
    stream st;

    askdocs_buf_init(&draft, ASKDOCS_GEN_MAX_ANSWER_BYTES + 1024);
    memset(&st, 0, sizeof st);
    st.t0 = askdocs_now_ms();
    st.cb = cb;
    st.user = user;
    if (!g)
        return ASKDOCS_ERR_INVALID;
    g->err[0] = '\0';
    if (!out || !question || n < 0 || (n > 0 && !passages)) {
        rc = seterr(g, ASKDOCS_ERR_INVALID, "askdocs_generator_answer: bad arguments");
        goto cleanup;
    }
    *out = NULL;
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
    ko = askdocs_text_is_korean(question, qlen);
    a = askdocs_calloc(1, sizeof *a);
    plen = askdocs_calloc((size_t)(n > 0 ? n : 1), sizeof *plen);
    if (!a || !plen) {
        rc = seterr(g, ASKDOCS_ERR_NOMEM, "out of memory");
        goto cleanup;
    }

    if (n > 0 && g->model) {
        rc = build_prompt(g, question, passages, n, ko, plen, &n_use, &n_tok);
        if (rc != ASKDOCS_OK)
            goto cleanup;
    }
    if (n_use > 0) {
        rc = generate(g, n_tok, &st, &draft, &n_gen, &truncated);
        if (rc != ASKDOCS_OK)
            goto cleanup;
        clean = askdocs_utf8_clean(draft.data ? draft.data : "", draft.len, &dl);
        if (!clean) {
            rc = seterr(g, ASKDOCS_ERR_NOMEM, "out of memory");
            goto cleanup;
        }
        {
            size_t skip = answer_label(clean, dl);
            size_t end = truncated ? complete_part(clean, dl) : dl;
            rc = end > skip ? gen_verify(clean + skip, end - skip, passages, plen, n_use,
                                         g->p.min_support, g->p.strict, ko, a, NULL)
                            : gen_verify("", 0, passages, plen, n_use, g->p.min_support,
                                         g->p.strict, ko, a, NULL);
        }
        if (rc != ASKDOCS_OK) {
            seterr(g, rc, "citation check failed: %s", askdocs_strerror(rc));
            goto cleanup;
        }
        a->draft = clean;
        clean = NULL;
    } else {
        /* extractive, or no evidence (none given or none fits): no model
         * run; the final text is streamed as one piece */
        if (n > 0 && !g->model) {
            double best = 0;
            for (int i = 0; i < n; i++)
                plen[i] = gen_passage_len(&passages[i]);
            n_use = n;
            rc = gen_extractive_draft(question, passages, plen, n, g->p.min_support, &draft,
                                      &best);
            if (rc == ASKDOCS_OK)
                rc = gen_verify(draft.data ? draft.data : "", draft.len, passages, plen, n,
                                g->p.min_support, g->p.strict, ko, a, NULL);
        } else {
            n_tok = 0;
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
        emit(&st, a->text, strlen(a->text));
        truncated = 0;
    }
    a->n_prompt_tokens = n_tok;
    a->n_gen_tokens = n_gen;
    a->n_passages_used = n_use;
    a->truncated = truncated;
    a->ttft_ms = st.ttft;
    a->total_ms = askdocs_now_ms() - st.t0;
    if (a->ttft_ms <= 0)
        a->ttft_ms = a->total_ms;
    askdocs_log(2, "generator: %d prompt tokens (%d reused), %d passages, %d generated, "
                "ttft %.0f ms, total %.0f ms", n_tok, g->last_reused, n_use, n_gen, a->ttft_ms,
                a->total_ms);
    *out = a;
    a = NULL;
cleanup:
    if (rc != ASKDOCS_OK && !g->err[0])
        seterr(g, rc, "%s", askdocs_strerror(rc));
    askdocs_answer_free(a);
    askdocs_free(plen);
    askdocs_free(clean);
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
