/*
 * bench_gen.c - speed of the askdocs generator: time to first token with and
 * without the KV prefix cache, throughput with concurrent questions, and
 * plain decode / prompt speed against llama.cpp's own llama-bench on the
 * same model, thread count and environment.
 *
 *   bench_gen MODEL.gguf [THREADS] [RUNS] [LLAMA_BENCH]
 *
 * THREADS defaults to 2, RUNS (repetitions of every measurement) to 3.
 * LLAMA_BENCH is the path of the llama-bench binary (or $LLAMA_BENCH); without
 * it the comparison is skipped. llama-bench is started from this process, so
 * it runs with the same environment (GOMP_SPINCOUNT, OMP_WAIT_POLICY).
 * BENCH_GEN_PARTS=ttft,conc,speed (default all three) picks the parts.
 *
 * 1. ttft: evidence of about 500, 1,000 and 2,000 prompt tokens (synthetic
 *    contract and regulation sentences; n_ctx 4096, no evidence
 *    compression). Per run a fresh handle answers three questions, each over
 *    different evidence of that size:
 *      cold     the first question on the handle (nothing cached, first
 *               decode of the context);
 *      cached   the next one: the system prompt is in the KV cache;
 *      evicted  one more after a Korean question, whose system prompt
 *               replaced the English one in the cache (a warm context
 *               without the prefix).
 *    Generation stops at the first piece. Medians over RUNS, with the
 *    prompt tokens, the tokens reused from the cache and the rate of the
 *    prompt tokens decoded (new tokens / ttft).
 * 2. conc: 1, 2 and 4 threads call askdocs_generator_ask on one handle with
 *    n_parallel = that number, RUNS questions each (different questions,
 *    max_answer_tokens 64, evidence of about 500 tokens), after one warm-up
 *    question per thread. Twice: "shared" evidence (the same passages for
 *    every question: after a slot's first question only the question is
 *    decoded) and "distinct" evidence (other passages of the same size for
 *    every question: the evidence is decoded each time). Prints generated
 *    tokens / wall time, questions per minute, mean ttft and queue wait.
 * 3. speed, in 2 * RUNS pairs, llama-bench first in odd pairs and ours
 *    first in even ones, so that a change of load hits both sides alike
 *    (the ratios are taken within each pair):
 *    - llama-bench -p 512 -n 128 -d D -r 1 (D = our decode prompt's tokens);
 *    - ours decode: a short prompt (D = 262 tokens with the default model)
 *      and up to 128 generated tokens; tokens/s = (generated - 1) / (time
 *      from the first to the last streamed piece), i.e. n - 1 decodes and
 *      samplings; "to_ret" divides by the time from the first piece to the
 *      return of the call instead (the figure of earlier releases: it also
 *      holds the decode of the last token and the citation checks);
 *    - raw: a plain llama.cpp loop with the generator's context parameters
 *      and greedy sampling, 128 tokens at depth D: what the generator adds;
 *      smpl% = the share of its time spent in llama_sampler_sample;
 *    - ours prompt: about 500 new tokens after the cached system prompt,
 *      new tokens / ttft, against pp512.
 */
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "askdocs_generator.h"
#include "gen_internal.h"
#include "llama.h"

static const char *model_path;
static int n_threads = 2, runs = 3;
static const struct llama_vocab *vocab;   /* a vocab-only load, to size evidence */
static struct llama_model *vocab_model;
static int prompt_overhead = 150;         /* prompt tokens besides the evidence */

/* ------------------------------------------------ synthetic evidence */

static uint64_t rng_state;
static uint32_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (uint32_t)(rng_state >> 11);
}
#define PICK(a) (a[rnd() % (sizeof a / sizeof a[0])])

static const char *const party[] = {
    "the Supplier", "the Customer", "the Licensee", "the Licensor", "the Contractor",
    "the Processor", "the Controller", "the Lessee", "the Borrower", "the Service Provider",
    "each Member State", "the competent authority", "the operator", "the employer",
};
static const char *const duty[] = {
    "keep records of all processing activities",
    "notify the other party in writing",
    "maintain insurance cover with a reputable insurer",
    "deliver the goods to the agreed place of delivery",
    "provide a written report on the measures taken",
    "pay the fees set out in Schedule 2",
    "remedy any defect in the deliverables",
    "return or destroy all confidential information",
    "appoint a data protection officer",
    "carry out a risk assessment of the installation",
    "submit the annual accounts to the supervisory board",
    "grant access to the premises for inspection",
    "ensure that subcontractors are bound by equivalent obligations",
    "publish the information on its website",
};
static const char *const unit[] = { "days", "business days", "weeks", "months" };
static const char *const cond[] = {
    "Unless otherwise agreed in writing",
    "Subject to Article",
    "Where the breach is capable of remedy",
    "Without prejudice to any other right or remedy",
    "In the event of a material change of control",
    "Except as required by applicable law",
    "If the Customer disputes an invoice in good faith",
    "Where a personal data breach is likely to result in a risk",
    "During the term of this Agreement and for two years thereafter",
    "Notwithstanding clause",
};
static const char *const money[] = { "EUR", "USD", "GBP", "KRW" };
static const char *const thing[] = {
    "the liability cap", "the service credit", "the late payment interest",
    "the annual fee", "the security deposit", "the administrative fine",
    "the retention period", "the notice period", "the warranty period",
};
static const char *const titles[] = {
    "Master Services Agreement", "Data Processing Regulation", "Software Licence Terms",
    "Commercial Lease", "Supply Contract", "Loan Facility Agreement",
    "Employment Regulations", "Environmental Permit Conditions", "Consulting Agreement",
    "Procurement Directive", "Maintenance Agreement", "Shareholders' Agreement",
};

/* Append one sentence to b (size cap). */
static void sentence(char *b, size_t cap)
{
    size_t n = strlen(b);
    char s[512];
    switch (rnd() % 7) {
    case 0:
        snprintf(s, sizeof s, "%s, %s shall %s within %u %s of the request. ", PICK(cond),
                 PICK(party), PICK(duty), 5 + rnd() % 85, PICK(unit));
        break;
    case 1:
        snprintf(s, sizeof s,
                 "Article %u: %s may not exceed %u percent of the amounts paid in the "
                 "preceding %u months. ",
                 1 + rnd() % 60, PICK(thing), 1 + rnd() % 150, 3 + rnd() % 33);
        break;
    case 2:
        snprintf(s, sizeof s,
                 "%s shall %s and shall inform %s of any delay without undue delay. ",
                 PICK(party), PICK(duty), PICK(party));
        break;
    case 3:
        snprintf(s, sizeof s, "%s is set at %s %u,%03u and is reviewed every %u %s. ",
                 PICK(thing), PICK(money), 1 + rnd() % 900, rnd() % 1000, 1 + rnd() % 24,
                 PICK(unit));
        break;
    case 4:
        snprintf(s, sizeof s,
                 "Any notice under clause %u.%u must be given by registered mail or "
                 "electronic mail to the address stated in Schedule %u. ",
                 1 + rnd() % 30, 1 + rnd() % 9, 1 + rnd() % 6);
        break;
    case 5:
        snprintf(s, sizeof s,
                 "%s may terminate this Agreement with immediate effect if %s fails to %s "
                 "after a cure period of %u %s. ",
                 PICK(party), PICK(party), PICK(duty), 10 + rnd() % 80, PICK(unit));
        break;
    default:
        snprintf(s, sizeof s,
                 "For the purposes of paragraph %u, %s includes all costs reasonably "
                 "incurred by %s, excluding indirect or consequential loss. ",
                 1 + rnd() % 12, PICK(thing), PICK(party));
        break;
    }
    if (n + strlen(s) + 1 < cap)
        memcpy(b + n, s, strlen(s) + 1);
}

static int count_tokens(const char *s)
{
    int r;
    if (!vocab)
        return (int)(strlen(s) / 4);
    r = llama_tokenize(vocab, s, (int32_t)strlen(s), NULL, 0, false, false);
    return r < 0 ? -r : r;
}

/* Tokens of the block the generator makes of a passage with a title only:
 * "[n] title\ntext\n\n" (see put_block in generator/askdocs_generator.c). */
static int block_tokens(int num, const char *title, const char *text)
{
    size_t l = strlen(title) + strlen(text) + 32;
    char *b = malloc(l);
    int n;
    if (!b)
        return 0;
    snprintf(b, l, "[%d] %s\n%s\n\n", num, title, text);
    n = count_tokens(b);
    free(b);
    return n;
}

#define MAX_PASS 24
#define PASS_BYTES 1400
typedef struct evidence {
    askdocs_passage ps[MAX_PASS];
    char text[MAX_PASS][PASS_BYTES];
    int n;
    int est_tokens;   /* estimated prompt tokens (evidence + overhead) */
} evidence;

/* Passages of about target prompt tokens in all; variant v picks the
 * sentences and titles (different v: different first evidence tokens). */
static void make_evidence(evidence *e, int target, unsigned v)
{
    int used = prompt_overhead, i;
    memset(e, 0, sizeof *e);
    rng_state = 0x9E3779B97F4A7C15ULL ^ ((uint64_t)(v + 1) * 0x100000001B3ULL) ^
                ((uint64_t)target << 32);
    for (i = 0; i < 8; i++)
        (void)rnd();
    for (i = 0; i < MAX_PASS && used < target; i++) {
        const char *title = titles[(v * 5 + (unsigned)i) % (sizeof titles / sizeof titles[0])];
        int sent = 5 + (int)(rnd() % 4), k, bt = 0;
        e->text[i][0] = '\0';
        for (k = 0; k < sent; k++) {
            sentence(e->text[i], PASS_BYTES);
            bt = block_tokens(i + 1, title, e->text[i]);
            if (used + bt >= target)
                break;
        }
        /* drop the trailing blank */
        if (e->text[i][0])
            e->text[i][strlen(e->text[i]) - 1] = '\0';
        e->ps[i].doc = "contracts.md";
        e->ps[i].title = title;
        e->ps[i].chunk_id = (int64_t)v * 100 + i + 1;
        e->ps[i].text = e->text[i];
        used += bt;
        e->n = i + 1;
    }
    e->est_tokens = used;
}

static const char *const questions[] = {
    "What is the notice period for termination and how must notice be given?",
    "Within how many days must the Supplier remedy a defect?",
    "How high is the liability cap and how is it calculated?",
    "Which obligations does the Processor have towards the Controller?",
    "When can the Customer terminate the Agreement with immediate effect?",
    "How often is the annual fee reviewed?",
    "What must the Contractor do with confidential information?",
    "Which costs are excluded from the service credit?",
    "By what means must notices be sent under this Agreement?",
    "What happens in the event of a material change of control?",
    "What is the late payment interest and when does it apply?",
    "Who must keep records of the processing activities?",
    "What insurance cover must the Lessee maintain?",
    "How long is the warranty period?",
    "What must the operator report to the competent authority?",
    "Which cure period applies before termination for breach?",
};
#define N_QUESTIONS (int)(sizeof questions / sizeof questions[0])

/* ----------------------------------------------------------- helpers */

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}
static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_d);
    return n == 0 ? 0 : n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}
static double dmin(const double *v, int n)
{
    double m = n ? v[0] : 0;
    for (int i = 1; i < n; i++)
        m = v[i] < m ? v[i] : m;
    return m;
}
static double dmax(const double *v, int n)
{
    double m = n ? v[0] : 0;
    for (int i = 1; i < n; i++)
        m = v[i] > m ? v[i] : m;
    return m;
}

static askdocs_generator *open_gen(int n_parallel, int max_answer)
{
    askdocs_generator_params p = askdocs_generator_default_params();
    askdocs_generator *g = NULL;
    char err[512];
    p.model_path = model_path;
    p.n_threads = n_threads;
    p.n_ctx = 4096;
    p.max_answer_tokens = max_answer;
    p.n_parallel = n_parallel;
    p.max_queue = 64;
    p.compress_tokens = -1;
    p.mode = ASKDOCS_ANSWER_MODEL;
    if (askdocs_generator_open(&p, &g, err, sizeof err) != ASKDOCS_OK) {
        fprintf(stderr, "bench_gen: %s\n", err);
        exit(1);
    }
    return g;
}

typedef struct cbstate {
    int stop_first;   /* stop generating at the first piece */
    double t_last;    /* time of the last piece */
} cbstate;

static int on_piece(const char *piece, size_t len, void *user)
{
    cbstate *c = user;
    (void)piece;
    (void)len;
    c->t_last = askdocs_now_ms();
    return c->stop_first;
}

/* One question; exits on failure. */
static askdocs_answer *ask(askdocs_generator *g, const char *q, const askdocs_passage *ps,
                           int n, int stop_first, int *reused, double *t_last)
{
    askdocs_ask_request rq;
    askdocs_answer *a = NULL;
    cbstate c = { stop_first, 0 };
    double t0 = askdocs_now_ms();
    memset(&rq, 0, sizeof rq);
    rq.question = q;
    rq.passages = ps;
    rq.n = n;
    rq.cb = on_piece;
    rq.user = &c;
    if (askdocs_generator_ask(g, &rq, &a) != ASKDOCS_OK) {
        fprintf(stderr, "bench_gen: %s\n", askdocs_generator_errmsg(g));
        exit(1);
    }
    if (reused)
        *reused = gen_last_reused_tokens(g);
    if (t_last)
        *t_last = c.t_last > 0 ? c.t_last - t0 : a->total_ms;
    return a;
}

/* A Korean question: its system prompt replaces the English one in the KV
 * cache of the slot. */
static void ask_korean(askdocs_generator *g)
{
    /* 계약 해지 통지 기간은 얼마인가? / 어느 당사자든 90일 전에 서면으로
     * 통지하여 이 계약을 해지할 수 있다. */
    static const char q[] = "\xEA\xB3\x84\xEC\x95\xBD \xED\x95\xB4\xEC\xA7\x80 "
                            "\xED\x86\xB5\xEC\xA7\x80 \xEA\xB8\xB0\xEA\xB0\x84\xEC\x9D\x80 "
                            "\xEC\x96\xBC\xEB\xA7\x88\xEC\x9D\xB8\xEA\xB0\x80?";
    static const char t[] =
        "\xEC\x96\xB4\xEB\x8A\x90 \xEB\x8B\xB9\xEC\x82\xAC\xEC\x9E\x90\xEB\x93\xA0 90"
        "\xEC\x9D\xBC \xEC\xA0\x84\xEC\x97\x90 \xEC\x84\x9C\xEB\xA9\xB4\xEC\x9C\xBC\xEB\xA1\x9C "
        "\xED\x86\xB5\xEC\xA7\x80\xED\x95\x98\xEC\x97\xAC \xEC\x9D\xB4 "
        "\xEA\xB3\x84\xEC\x95\xBD\xEC\x9D\x84 \xED\x95\xB4\xEC\xA7\x80\xED\x95\xA0 "
        "\xEC\x88\x98 \xEC\x9E\x88\xEB\x8B\xA4.";
    askdocs_passage p;
    memset(&p, 0, sizeof p);
    p.doc = "contract-ko.md";
    p.text = t;
    p.chunk_id = 1;
    askdocs_answer_free(ask(g, q, &p, 1, 1, NULL, NULL));
}

/* Prompt tokens besides the evidence blocks: one question over one known
 * passage. Also pages the model in before anything is timed. quiet = do not
 * print (the first call, before the vocabulary is loaded). */
static void calibrate(int quiet)
{
    askdocs_generator *g = open_gen(1, 32);
    evidence *e = calloc(1, sizeof *e);
    askdocs_answer *a;
    int bt;
    if (!e)
        exit(1);
    prompt_overhead = 0;
    make_evidence(e, 60, 999);
    a = ask(g, questions[0], e->ps, 1, 1, NULL, NULL);
    bt = block_tokens(1, e->ps[0].title, e->ps[0].text);
    prompt_overhead = a->n_prompt_tokens - bt;
    if (!quiet)
        printf("calibration: %d prompt tokens, %d of them outside the evidence\n",
               a->n_prompt_tokens, prompt_overhead);
    askdocs_answer_free(a);
    askdocs_generator_free(g);
    free(e);
}

/* ---------------------------------------------------------- 1. ttft */

static void part_ttft(void)
{
    static const int sizes[] = { 500, 1000, 2000 };
    static const char *const kind[] = { "cold (1st question, fresh handle)",
                                        "cached (system prompt in KV cache)",
                                        "evicted (warm, prefix replaced)" };
    evidence *e = calloc(1, sizeof *e);
    if (!e)
        exit(1);
    printf("\n== 1. time to first token (n_ctx 4096, compress_tokens -1, %d threads, "
           "median of %d) ==\n",
           n_threads, runs);
    printf("%-6s %-36s %7s %7s %10s %10s %10s %9s\n", "target", "case", "prompt", "reused",
           "ttft_med", "ttft_min", "ttft_max", "new_tok/s");
    for (size_t si = 0; si < sizeof sizes / sizeof sizes[0]; si++) {
        double tt[3][16], rate[3][16];
        int np[3] = { 0 }, ru[3] = { 0 };
        for (int r = 0; r < runs && r < 16; r++) {
            askdocs_generator *g = open_gen(1, 32);
            for (int k = 0; k < 3; k++) {
                askdocs_answer *a;
                int reused = 0;
                unsigned v = (unsigned)(r * 3 + k + 1);
                if (k == 2)
                    ask_korean(g);
                make_evidence(e, sizes[si], v);
                a = ask(g, questions[(r * 3 + k) % N_QUESTIONS], e->ps, e->n, 1, &reused, NULL);
                tt[k][r] = a->ttft_ms;
                rate[k][r] = (a->n_prompt_tokens - reused) / (a->ttft_ms / 1000.0);
                np[k] = a->n_prompt_tokens;
                ru[k] = reused;
                askdocs_answer_free(a);
            }
            askdocs_generator_free(g);
        }
        for (int k = 0; k < 3; k++) {
            int n = runs < 16 ? runs : 16;
            double lo = dmin(tt[k], n), hi = dmax(tt[k], n), med = median(tt[k], n);
            printf("%-6d %-36s %7d %7d %10.1f %10.1f %10.1f %9.1f\n", sizes[si], kind[k], np[k],
                   ru[k], med, lo, hi, median(rate[k], n));
        }
        fflush(stdout);
    }
    free(e);
}

/* ---------------------------------------------------------- 2. conc */

typedef struct worker {
    askdocs_generator *g;
    pthread_barrier_t *bar;
    int id, n_q;
    const evidence *ev;   /* n_q of them, or one when shared */
    int shared;
    int gen_tokens, answered, reused;
    double ttft_sum, queue_sum;
} worker;

static void *work(void *arg)
{
    worker *w = arg;
    pthread_barrier_wait(w->bar);
    for (int i = 0; i < w->n_q; i++) {
        const evidence *ev = w->shared ? w->ev : &w->ev[i];
        int reused = 0;
        askdocs_answer *a = ask(w->g, questions[(w->id * 5 + i) % N_QUESTIONS], ev->ps, ev->n,
                                0, &reused, NULL);
        w->gen_tokens += a->n_gen_tokens;
        w->ttft_sum += a->ttft_ms;
        w->queue_sum += a->queue_ms;
        w->reused += reused;
        w->answered++;
        askdocs_answer_free(a);
    }
    return NULL;
}

/* n threads each asking n_q questions on g (thread i over ev[i * n_q ...],
 * or all over ev[0] when shared); returns the wall time in ms. */
static double run_workers(askdocs_generator *g, int n, int n_q, int shared, const evidence *ev,
                          int qoff, worker *w)
{
    pthread_t th[4];
    pthread_barrier_t bar;
    double t0;
    pthread_barrier_init(&bar, NULL, (unsigned)n + 1);
    for (int i = 0; i < n; i++) {
        memset(&w[i], 0, sizeof w[i]);
        w[i].g = g;
        w[i].bar = &bar;
        w[i].id = i + qoff;
        w[i].n_q = n_q;
        w[i].shared = shared;
        w[i].ev = shared ? ev : ev + (size_t)i * (size_t)n_q;
        if (pthread_create(&th[i], NULL, work, &w[i]) != 0)
            exit(1);
    }
    pthread_barrier_wait(&bar);
    t0 = askdocs_now_ms();
    for (int i = 0; i < n; i++)
        pthread_join(th[i], NULL);
    t0 = askdocs_now_ms() - t0;
    pthread_barrier_destroy(&bar);
    return t0;
}

static void part_conc(void)
{
    static const int conc[] = { 1, 2, 4 };
    int n_ev = 4 * runs;
    evidence *sev = calloc(1, sizeof *sev), *wev = calloc(1, sizeof *wev);
    evidence *dev = calloc((size_t)n_ev, sizeof *dev);
    if (!sev || !wev || !dev)
        exit(1);
    /* all evidence is made before anything is timed */
    make_evidence(sev, 500, 500);
    make_evidence(wev, 500, 501);
    for (int i = 0; i < n_ev; i++)
        make_evidence(&dev[i], 500, (unsigned)(1000 + i));
    printf("\n== 2. concurrent questions on one handle (n_parallel = threads asking, "
           "%d threads shared, max_answer_tokens 64, ~500-token evidence, %d questions "
           "per asking thread) ==\n",
           n_threads, runs);
    printf("%-8s %4s %5s %8s %8s %9s %8s %10s %10s %10s\n", "evidence", "conc", "q", "gen_tok",
           "wall_s", "gen_tok/s", "q/min", "ttft_mean", "queue_ms", "reused~");
    for (int shared = 1; shared >= 0; shared--) {
        for (size_t ci = 0; ci < sizeof conc / sizeof conc[0]; ci++) {
            int n = conc[ci], gen = 0, q = 0, reused = 0;
            double ttft = 0, queue = 0, wall;
            worker w[4];
            askdocs_generator *g = open_gen(n, 64);
            /* warm-up: one question per slot over other evidence */
            run_workers(g, n, 1, 1, wev, 8, w);
            wall = run_workers(g, n, runs, shared, shared ? sev : dev, 0, w);
            for (int i = 0; i < n; i++) {
                gen += w[i].gen_tokens;
                q += w[i].answered;
                ttft += w[i].ttft_sum;
                queue += w[i].queue_sum;
                reused += w[i].reused;
            }
            printf("%-8s %4d %5d %8d %8.2f %9.2f %8.2f %10.1f %10.1f %10.1f\n",
                   shared ? "shared" : "distinct", n, q, gen, wall / 1000.0,
                   gen / (wall / 1000.0), q / (wall / 60000.0), ttft / q, queue / q,
                   (double)reused / q);
            fflush(stdout);
            askdocs_generator_free(g);
        }
    }
    printf("(reused~: mean prompt tokens taken from the KV cache, read from the handle after "
           "each answer; approximate with concurrent questions, as the handle keeps the last "
           "question's count)\n");
    free(sev);
    free(wev);
    free(dev);
}

/* --------------------------------------------------------- 3. speed */

typedef struct lb_res {
    int ok;
    double pp512, tg128;   /* t/s at depth `depth` */
} lb_res;

/* One llama-bench run: pp512 and tg128 at depth, one repetition (plus its
 * own warm-up), same threads; stderr dropped. */
static lb_res llama_bench(const char *bin, int depth, int verbose)
{
    lb_res r;
    char cmd[4096];
    char *out = NULL;
    size_t len = 0, cap = 0;
    FILE *f;
    json_t *root;
    json_error_t jerr;
    memset(&r, 0, sizeof r);
    snprintf(cmd, sizeof cmd, "'%s' -m '%s' -t %d -p 512 -n 128 -d %d -r 1 -o json 2>/dev/null",
             bin, model_path, n_threads, depth);
    if (verbose)
        printf("llama-bench: llama-bench -m MODEL -t %d -p 512 -n 128 -d %d -r 1 -o json\n",
               n_threads, depth);
    fflush(stdout);
    f = popen(cmd, "r");
    if (!f)
        return r;
    for (;;) {
        size_t k;
        if (len + 4096 > cap) {
            char *nb = realloc(out, cap = cap * 2 + 8192);
            if (!nb)
                break;
            out = nb;
        }
        k = fread(out + len, 1, cap - len - 1, f);
        if (k == 0)
            break;
        len += k;
    }
    pclose(f);
    if (!out)
        return r;
    out[len] = '\0';
    root = json_loads(out, 0, &jerr);
    free(out);
    if (!json_is_array(root)) {
        fprintf(stderr, "bench_gen: cannot parse llama-bench output\n");
        json_decref(root);
        return r;
    }
    for (size_t i = 0; i < json_array_size(root); i++) {
        json_t *t = json_array_get(root, i);
        int np = (int)json_integer_value(json_object_get(t, "n_prompt"));
        double ts = json_number_value(json_object_get(t, "avg_ts"));
        if (np)
            r.pp512 = ts;
        else
            r.tg128 = ts;
    }
    json_decref(root);
    r.ok = r.tg128 > 0 && r.pp512 > 0;
    return r;
}

static const char *const short_texts[] = {
    "Either party may terminate this Agreement for convenience by giving the "
    "other party ninety (90) days' prior written notice. On termination the "
    "Client shall pay all fees accrued up to the date of termination.",
    "The Provider invoices monthly in arrears. Invoices are payable within "
    "thirty (30) days of receipt. Overdue amounts bear interest at one "
    "percent (1%) per month from the due date until paid in full.",
    "The total liability of either party under this Agreement in any contract "
    "year is limited to the fees paid by the Client in the twelve (12) months "
    "before the event giving rise to the claim.",
};

/* The generator's decode loop without the generator: a llama context with
 * the same parameters as generator/askdocs_generator.c (n_ctx 4096, batch
 * 512, swa_full), the same kind of prompt depth, greedy sampling, 128
 * tokens. *with_smpl = tokens/s of decode + sampling, *no_smpl = the same
 * without the time spent in llama_sampler_sample. */
static void raw_decode(struct llama_model *m, int depth, double *with_smpl, double *no_smpl)
{
    struct llama_context_params cp = llama_context_default_params();
    struct llama_sampler_chain_params sp = llama_sampler_chain_default_params();
    struct llama_context *ctx;
    struct llama_sampler *smpl;
    llama_token *tok = malloc(4096 * sizeof *tok);
    char *text = malloc(8192);
    double t0, samp = 0, el;
    llama_token t;
    int n;
    *with_smpl = *no_smpl = 0;
    if (!tok || !text)
        exit(1);
    text[0] = '\0';
    for (int i = 0; i < 9; i++)
        strcat(text, short_texts[i % 3]);
    n = llama_tokenize(vocab, text, (int32_t)strlen(text), tok, 4096, true, false);
    if (n > depth)
        n = depth;
    cp.n_ctx = 4096;
    cp.n_batch = 512;
    cp.n_ubatch = 512;
    cp.n_seq_max = 1;
    cp.n_threads = n_threads;
    cp.n_threads_batch = n_threads;
    cp.no_perf = true;
    cp.swa_full = true;
    ctx = llama_init_from_model(m, cp);
    sp.no_perf = true;
    smpl = llama_sampler_chain_init(sp);
    if (!ctx || !smpl || n <= 0)
        exit(1);
    llama_sampler_chain_add(smpl, llama_sampler_init_greedy());
    if (llama_decode(ctx, llama_batch_get_one(tok, n)) != 0)
        exit(1);
    t = llama_sampler_sample(smpl, ctx, -1);
    t0 = askdocs_now_ms();
    for (int i = 0; i < 128; i++) {
        double s0;
        if (llama_decode(ctx, llama_batch_get_one(&t, 1)) != 0)
            exit(1);
        s0 = askdocs_now_ms();
        t = llama_sampler_sample(smpl, ctx, -1);
        samp += askdocs_now_ms() - s0;
    }
    el = askdocs_now_ms() - t0;
    *with_smpl = 128 / (el / 1000.0);
    *no_smpl = 128 / ((el - samp) / 1000.0);
    llama_sampler_free(smpl);
    llama_free(ctx);
    free(tok);
    free(text);
}

static void part_speed(const char *lb_bin)
{
    askdocs_passage ps[3];
    evidence *e = calloc(1, sizeof *e);
    askdocs_generator *g = open_gen(1, 128);
    int depth = 0, pairs = 2 * runs, np = 0;
    const char *q = "Explain every payment, liability and termination rule in detail.";
    struct llama_model *raw_model = llama_model_load_from_file(model_path,
                                                               llama_model_default_params());
    double *v = calloc((size_t)pairs * 10, sizeof *v);
    double *lb_tg = v, *lb_pp = v + pairs, *tg = v + 2 * pairs, *tg_ret = v + 3 * pairs;
    double *pp = v + 4 * pairs, *raw = v + 5 * pairs, *r_tg = v + 6 * pairs;
    double *r_pp = v + 7 * pairs, *r_raw = v + 8 * pairs, *smpl = v + 9 * pairs;
    if (!e || !v)
        exit(1);
    memset(ps, 0, sizeof ps);
    for (int i = 0; i < 3; i++) {
        ps[i].doc = "msa.md";
        ps[i].title = "Master Services Agreement";
        ps[i].chunk_id = i + 1;
        ps[i].text = short_texts[i];
    }
    /* warm-up, and the depth of our prompt */
    {
        askdocs_answer *a = ask(g, q, ps, 3, 0, NULL, NULL);
        depth = a->n_prompt_tokens;
        askdocs_answer_free(a);
    }
    printf("\n== 3. decode and prompt speed vs llama-bench (%d threads, GOMP_SPINCOUNT=%s, "
           "OMP_WAIT_POLICY=%s; %d pairs, llama-bench first in odd pairs, ours first in even "
           "ones) ==\n",
           n_threads, getenv("GOMP_SPINCOUNT") ? getenv("GOMP_SPINCOUNT") : "(unset)",
           getenv("OMP_WAIT_POLICY") ? getenv("OMP_WAIT_POLICY") : "(unset)", pairs);
    printf("ours decode: %d-token prompt, up to 128 tokens; ours prompt: ~500 new tokens after "
           "the cached system prompt; raw: llama.cpp loop with the generator's context "
           "parameters and greedy sampling, 128 tokens at depth %d; smpl%%: share of the raw "
           "loop's time spent in llama_sampler_sample\n",
           depth, depth);
    printf("%4s %9s %9s %9s %7s %9s %7s %6s | %9s %9s %7s %5s\n", "pair", "lb_tg128",
           "ours_tg", "to_ret", "ratio", "raw_tg", "raw/lb", "smpl%", "lb_pp512", "ours_pp",
           "ratio", "new");
    for (int i = 0; i < pairs; i++) {
        lb_res lb;
        int ngen = 0, nnew = 0;
        memset(&lb, 0, sizeof lb);
        for (int step = 0; step < 2; step++) {
            int lb_now = (i % 2 == 0) == (step == 0);
            if (lb_now && lb_bin) {
                lb = llama_bench(lb_bin, depth, i == 0);
                continue;
            }
            if (lb_now)
                continue;
            {
                double t_last = 0;
                askdocs_answer *a = ask(g, q, ps, 3, 0, NULL, &t_last);
                /* first to last streamed piece: n - 1 decodes and samplings */
                tg[i] = a->n_gen_tokens > 1 && t_last > a->ttft_ms
                            ? (a->n_gen_tokens - 1) / ((t_last - a->ttft_ms) / 1000.0)
                            : 0;
                tg_ret[i] = a->n_gen_tokens > 1 && a->total_ms > a->ttft_ms
                                ? (a->n_gen_tokens - 1) / ((a->total_ms - a->ttft_ms) / 1000.0)
                                : 0;
                ngen = a->n_gen_tokens;
                askdocs_answer_free(a);
            }
            if (raw_model) {
                double ns = 0;
                raw_decode(raw_model, depth, &raw[i], &ns);
                smpl[i] = ns > 0 ? 100.0 * (1.0 - raw[i] / ns) : 0;
            }
            {
                int reused = 0;
                askdocs_answer *a;
                make_evidence(e, 500 + 100, (unsigned)(2000 + i));
                a = ask(g, questions[i % N_QUESTIONS], e->ps, e->n, 1, &reused, NULL);
                nnew = a->n_prompt_tokens - reused;
                pp[i] = nnew / (a->ttft_ms / 1000.0);
                askdocs_answer_free(a);
            }
        }
        lb_tg[i] = lb.tg128;
        lb_pp[i] = lb.pp512;
        r_tg[i] = lb.ok ? tg[i] / lb.tg128 : 0;
        r_raw[i] = lb.ok ? raw[i] / lb.tg128 : 0;
        r_pp[i] = lb.ok ? pp[i] / lb.pp512 : 0;
        printf("%4d %9.2f %9.2f %9.2f %7.3f %9.2f %7.3f %6.2f | %9.2f %9.2f %7.3f %5d%s\n",
               i + 1, lb.tg128, tg[i], tg_ret[i], r_tg[i], raw[i], r_raw[i], smpl[i], lb.pp512,
               pp[i], r_pp[i], nnew, ngen < 128 ? " (fewer than 128 tokens)" : "");
        fflush(stdout);
        np++;
    }
    printf("median (range): llama-bench tg128 %.2f (%.2f-%.2f), ours %.2f (%.2f-%.2f), "
           "raw %.2f (%.2f-%.2f) t/s; llama-bench pp512 %.2f (%.2f-%.2f), ours %.2f "
           "(%.2f-%.2f) t/s\n",
           median(lb_tg, np), dmin(lb_tg, np), dmax(lb_tg, np), median(tg, np), dmin(tg, np),
           dmax(tg, np), median(raw, np), dmin(raw, np), dmax(raw, np), median(lb_pp, np),
           dmin(lb_pp, np), dmax(lb_pp, np), median(pp, np), dmin(pp, np), dmax(pp, np));
    printf("greedy sampling: %.2f%% of the raw loop's time (median; range %.2f-%.2f)\n",
           median(smpl, np), dmin(smpl, np), dmax(smpl, np));
    if (lb_bin)
        printf("ratio ours/llama-bench, median of the pairs (range): decode %.3f (%.3f-%.3f), "
               "raw loop %.3f (%.3f-%.3f), prompt %.3f (%.3f-%.3f)\n",
               median(r_tg, np), dmin(r_tg, np), dmax(r_tg, np), median(r_raw, np),
               dmin(r_raw, np), dmax(r_raw, np), median(r_pp, np), dmin(r_pp, np),
               dmax(r_pp, np));
    if (raw_model)
        llama_model_free(raw_model);
    askdocs_generator_free(g);
    free(e);
    free(v);
}

int main(int argc, char **argv)
{
    const char *parts = getenv("BENCH_GEN_PARTS");
    const char *lb_bin = argc > 4 ? argv[4] : getenv("LLAMA_BENCH");
    struct llama_model_params mp;
    if (argc < 2) {
        fprintf(stderr, "usage: bench_gen MODEL.gguf [THREADS] [RUNS] [LLAMA_BENCH]\n");
        return 2;
    }
    if (lb_bin && !*lb_bin)
        lb_bin = NULL;
    askdocs_log_level = 0;
    model_path = argv[1];
    if (argc > 2)
        n_threads = atoi(argv[2]) > 0 ? atoi(argv[2]) : 2;
    if (argc > 3)
        runs = atoi(argv[3]) > 0 ? atoi(argv[3]) : 3;
    if (!parts || !*parts)
        parts = "ttft,conc,speed";
    printf("bench_gen: %s, %d threads, %d runs, GOMP_SPINCOUNT=%s\n", model_path, n_threads, runs,
           getenv("GOMP_SPINCOUNT") ? getenv("GOMP_SPINCOUNT") : "(unset)");
    calibrate(1); /* initialises llama.cpp, pages the model in */
    mp = llama_model_default_params();
    mp.vocab_only = true;
    vocab_model = llama_model_load_from_file(model_path, mp);
    vocab = vocab_model ? llama_model_get_vocab(vocab_model) : NULL;
    if (!vocab) {
        fprintf(stderr, "bench_gen: cannot load the vocabulary\n");
        return 1;
    }
    calibrate(0); /* again, with exact token counts */
    if (strstr(parts, "ttft"))
        part_ttft();
    if (strstr(parts, "conc"))
        part_conc();
    if (strstr(parts, "speed"))
        part_speed(lb_bin);
    llama_model_free(vocab_model);
    return 0;
}
