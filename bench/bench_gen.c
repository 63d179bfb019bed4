/*
 * bench_gen.c - generation speed of the askdocs generator, to compare with
 * llama-bench on the same model and thread count.
 *
 *   bench_gen MODEL.gguf [THREADS] [RUNS]
 *
 * Answers a fixed question over fixed evidence RUNS times (default 3) and
 * prints prompt tokens, ttft and generation tokens/s (generated tokens after
 * the first one, over the time after the first one).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "askdocs_generator.h"

static const char *const texts[] = {
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

int main(int argc, char **argv)
{
    askdocs_generator_params p = askdocs_generator_default_params();
    askdocs_generator *g = NULL;
    askdocs_passage ps[3];
    char err[512];
    int runs = argc > 3 ? atoi(argv[3]) : 3, i;
    double best_tps = 0;
    if (argc < 2) {
        fprintf(stderr, "usage: bench_gen MODEL.gguf [THREADS] [RUNS]\n");
        return 2;
    }
    askdocs_log_level = 0;
    p.model_path = argv[1];
    p.n_threads = argc > 2 ? atoi(argv[2]) : 0;
    p.max_answer_tokens = 128;
    if (askdocs_generator_open(&p, &g, err, sizeof(err)) != ASKDOCS_OK) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    memset(ps, 0, sizeof(ps));
    for (i = 0; i < 3; i++) {
        ps[i].doc = "msa.md";
        ps[i].title = "Master Services Agreement";
        ps[i].chunk_id = i + 1;
        ps[i].text = texts[i];
    }
    printf("%4s %8s %9s %8s %10s\n", "run", "prompt", "ttft_ms", "gen_tok",
           "gen_tok/s");
    for (i = 0; i < runs; i++) {
        askdocs_answer *a = NULL;
        double tps;
        if (askdocs_generator_answer(g, "Explain every payment, liability and "
                                        "termination rule in detail.",
                                     ps, 3, NULL, NULL, &a) != ASKDOCS_OK) {
            fprintf(stderr, "%s\n", askdocs_generator_errmsg(g));
            askdocs_generator_free(g);
            return 1;
        }
        tps = a->n_gen_tokens > 1 && a->total_ms > a->ttft_ms
                  ? (a->n_gen_tokens - 1) / ((a->total_ms - a->ttft_ms) / 1000.0)
                  : 0;
        if (tps > best_tps)
            best_tps = tps;
        printf("%4d %8d %9.1f %8d %10.2f\n", i + 1, a->n_prompt_tokens,
               a->ttft_ms, a->n_gen_tokens, tps);
        askdocs_answer_free(a);
    }
    printf("best generation speed: %.2f tokens/s\n", best_tps);
    askdocs_generator_free(g);
    return 0;
}
