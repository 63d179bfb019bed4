/*
 * test_remote.c - one call of the remote generation back end
 * (generator/gen_remote.c), driven by tests/test_remote.py.
 *
 *   test_remote URL [--key K] [--model M] [--ca FILE] [--insecure]
 *               [--retries N] [--backoff MS] [--connect-timeout MS]
 *               [--read-timeout MS] [--total-timeout MS] [--max-tokens N]
 *               [--temperature T] [--stop S]... [--stop-after N]
 *               [--no-system] [--user TEXT] [--piece-delay MS]
 *               [--fail-alloc N]
 *
 * Asks "What is the capital of France?" (or --user TEXT) with the system
 * prompt "Reply with one short sentence." (none with --no-system), prints each piece to stdout as it arrives, then one
 * JSON line on stderr:
 *   {"rc", "rc_name", "error", "attempts", "http_status", "n_prompt_tokens",
 *    "n_gen_tokens", "ttft_ms", "finish_length", "n_pieces", "bytes",
 *    "pieces_utf8" (every piece valid UTF-8 on its own), "first_piece_ms",
 *    "last_piece_ms", "elapsed_ms", "stage" ("create" or "chat")}
 * --retries 0 means no retry (the library's 0 means its default).
 * --stop-after N returns nonzero from the piece callback at the N-th piece.
 * --piece-delay MS sleeps in the piece callback (a slow reader).
 * --fail-alloc N makes the (N+1)-th askdocs allocation fail.
 * Exit status 0 whatever the call returned (the JSON says), 2 on bad usage.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "askdocs_common.h"
#include "gen_internal.h"

#define MAX_STOP 8

typedef struct piece_state {
    int n_pieces;
    int stop_after;       /* 0 = never */
    long delay_ms;        /* a slow reader: sleep in each piece */
    int all_utf8;
    size_t bytes;
    double t0, first_ms, last_ms;
} piece_state;

static int on_piece(const char *s, size_t n, void *user)
{
    piece_state *ps = user;
    double now = askdocs_now_ms() - ps->t0;
    if (ps->n_pieces == 0)
        ps->first_ms = now;
    ps->last_ms = now;
    ps->n_pieces++;
    ps->bytes += n;
    if (!askdocs_utf8_valid(s, n))
        ps->all_utf8 = 0;
    fwrite(s, 1, n, stdout);
    fflush(stdout);
    if (ps->delay_ms > 0) {
        struct timespec ts = {ps->delay_ms / 1000, (ps->delay_ms % 1000) * 1000000L};
        nanosleep(&ts, NULL);
    }
    return ps->stop_after > 0 && ps->n_pieces >= ps->stop_after;
}

static void usage(void)
{
    fprintf(stderr,
            "usage: test_remote URL [--key K] [--model M] [--ca FILE] "
            "[--insecure] [--retries N] [--backoff MS] [--connect-timeout MS] "
            "[--read-timeout MS] [--total-timeout MS] [--max-tokens N] "
            "[--temperature T] [--stop S]... [--stop-after N] [--no-system] "
            "[--user TEXT] [--piece-delay MS] [--fail-alloc N]\n");
}

int main(int argc, char **argv)
{
    gen_remote_params p;
    gen_remote_stats st;
    gen_remote *r = NULL;
    piece_state ps;
    const char *stop[MAX_STOP];
    const char *system = "Reply with one short sentence.";
    const char *question = "What is the capital of France?";
    int n_stop = 0, max_tokens = 48, i, retries = -2;
    long fail_alloc = -1;
    float temperature = 0.0f;
    char err[1024] = "";
    askdocs_rc rc;
    const char *stage = "create";
    json_t *res;
    char *line;

    if (argc < 2 || argv[1][0] == '-') {
        usage();
        return 2;
    }
    memset(&p, 0, sizeof(p));
    memset(&st, 0, sizeof(st));
    memset(&ps, 0, sizeof(ps));
    ps.all_utf8 = 1;
    p.url = argv[1];
    for (i = 2; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--insecure") == 0) {
            p.insecure = 1;
            continue;
        }
        if (strcmp(a, "--no-system") == 0) {
            system = NULL;
            continue;
        }
        if (!v) {
            usage();
            return 2;
        }
        i++;
        if (strcmp(a, "--key") == 0)
            p.api_key = v;
        else if (strcmp(a, "--user") == 0)
            question = v;
        else if (strcmp(a, "--model") == 0)
            p.model = v;
        else if (strcmp(a, "--ca") == 0)
            p.ca_file = v;
        else if (strcmp(a, "--retries") == 0)
            retries = atoi(v);
        else if (strcmp(a, "--backoff") == 0)
            p.backoff_ms = atol(v);
        else if (strcmp(a, "--connect-timeout") == 0)
            p.connect_timeout_ms = atol(v);
        else if (strcmp(a, "--read-timeout") == 0)
            p.read_timeout_ms = atol(v);
        else if (strcmp(a, "--total-timeout") == 0)
            p.total_timeout_ms = atol(v);
        else if (strcmp(a, "--max-tokens") == 0)
            max_tokens = atoi(v);
        else if (strcmp(a, "--temperature") == 0)
            temperature = (float)atof(v);
        else if (strcmp(a, "--stop") == 0 && n_stop < MAX_STOP)
            stop[n_stop++] = v;
        else if (strcmp(a, "--stop-after") == 0)
            ps.stop_after = atoi(v);
        else if (strcmp(a, "--piece-delay") == 0)
            ps.delay_ms = atol(v);
        else if (strcmp(a, "--fail-alloc") == 0)
            fail_alloc = atol(v);
        else {
            usage();
            return 2;
        }
    }
    /* ours: 0 = no retry; the library's: < 0 = none, 0 = its default */
    p.retries = retries == -2 ? 0 : retries <= 0 ? -1 : retries;

    ps.t0 = askdocs_now_ms();
    if (fail_alloc >= 0)
        askdocs_alloc_fail_after(fail_alloc);
    rc = gen_remote_create(&p, &r, err, sizeof(err));
    if (rc == ASKDOCS_OK) {
        stage = "chat";
        rc = gen_remote_chat(r, system, question, max_tokens, temperature,
                             stop, n_stop, on_piece, &ps, &st);
        askdocs_snprintf(err, sizeof(err), "%s", gen_remote_errmsg(r));
    }
    askdocs_alloc_fail_after(-1);
    gen_remote_free(r);
    printf("\n");
    fflush(stdout);

    res = json_pack("{s:i, s:s, s:s, s:s, s:i, s:i, s:i, s:i, s:f, s:i, s:i, "
                    "s:I, s:b, s:f, s:f, s:f}",
                    "rc", (int)rc, "rc_name", askdocs_strerror(rc), "error",
                    err, "stage", stage, "attempts", st.attempts, "http_status",
                    st.http_status, "n_prompt_tokens", st.n_prompt_tokens,
                    "n_gen_tokens", st.n_gen_tokens, "ttft_ms", st.ttft_ms,
                    "finish_length", st.finish_length, "n_pieces", ps.n_pieces,
                    "bytes", (json_int_t)ps.bytes, "pieces_utf8", ps.all_utf8,
                    "first_piece_ms", ps.first_ms, "last_piece_ms", ps.last_ms,
                    "elapsed_ms", askdocs_now_ms() - ps.t0);
    line = res ? json_dumps(res, JSON_COMPACT) : NULL;
    fprintf(stderr, "%s\n", line ? line : "{\"rc\": -1}");
    free(line);
    json_decref(res);
    return 0;
}
