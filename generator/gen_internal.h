/*
 * gen_internal.h - internals of the generator module, exposed for
 * tests/test_generator.c only. Not a public API: names and shapes may change.
 */
#ifndef ASKDOCS_GEN_INTERNAL_H
#define ASKDOCS_GEN_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "askdocs_common.h"
#include "askdocs_generator.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Caps of the text analysis. */
#define GEN_MAX_TOKENS (1 << 18)   /* content tokens kept from one text */
#define GEN_MAX_SENTENCES 8192     /* sentences kept from one text */
#define GEN_MAX_MARKS 8            /* [n] markers kept per sentence */
#define GEN_TOKEN_MAX_BYTES 64     /* longer words are cut for hashing */

/* -------------------------------------------------------- content tokens */
/* Called once per content token (normalised UTF-8 bytes, not NUL-terminated,
 * borrowed for the call only). */
typedef void (*gen_token_fn)(const char *tok, size_t len, void *user);

/* Emit the content tokens of s[0..n): Latin words lowercased, >= 2 letters,
 * minus a stopword list; numbers (digits, "," inside dropped, "." inside
 * kept); Hangul runs with a trailing particle/ending stripped, as syllable
 * bigrams (minus a few stopwords); CJK/kana runs as bigrams. [n] citation
 * markers are skipped. Never allocates. */
void gen_content_tokens(const char *s, size_t n, gen_token_fn fn, void *user);

/* Content tokens of s[0..n) as one space-separated string into out (for tests
 * and debugging). */
askdocs_rc gen_content_tokens_str(const char *s, size_t n, askdocs_buf *out);

/* A sorted set of distinct token hashes. */
typedef struct gen_tokset {
    uint64_t *h;   /* owned, askdocs_malloc'ed; NULL when n == 0 */
    int n;
} gen_tokset;

/* Build the token set of s[0..n). On success the caller frees *out with
 * gen_tokset_free(); on failure *out is empty. */
askdocs_rc gen_tokset_build(const char *s, size_t n, gen_tokset *out);
void gen_tokset_free(gen_tokset *t);   /* NULL or empty is harmless */

/* Share of a's tokens that are in b, 0..1; -1 when a has no tokens. */
double gen_overlap(const gen_tokset *a, const gen_tokset *b);

/* Hashes of number tokens have this bit set, those of words have it clear. */
#define GEN_NUMBER_BIT (1ULL << 63)

/* Support of a sentence (token set s) by a passage (p): gen_overlap(s, p),
 * but 0 when a number of s is not in p (a wrong figure is never supported).
 * -1 when s has no tokens. */
double gen_support_set(const gen_tokset *s, const gen_tokset *p);

/* gen_support_set(tokens(s), tokens(p)) of two UTF-8 strings. -1 when s has
 * no content token, -2 on OOM. Convenience for tests. */
double gen_support(const char *s, const char *p);

/* ------------------------------------------------------------- sentences */
typedef struct gen_sentence {
    int start, end;             /* byte range, trimmed of outer whitespace;
                                   includes the [n] markers that follow it */
    int marks[GEN_MAX_MARKS];   /* numbers in its [n] markers, in order */
    int n_marks;
} gen_sentence;

/* Split s[0..n) into sentences: after . ? ! (not inside numbers or after
 * short abbreviations), after 。？！, after a Korean ending 다/요/까 followed
 * by white space; at every newline when newline_breaks, else only at blank
 * lines. [n] markers after the end stay with their sentence. On success the
 * caller frees *out with askdocs_free (NULL when *n_out == 0). */
askdocs_rc gen_split_sentences(const char *s, size_t n, int newline_breaks,
                               gen_sentence **out, int *n_out);

/* Parse one marker "[3]" / "[1, 2]" / "[1; 2]" at s[0..n). Returns the bytes
 * it spans (0 = no marker); its numbers go to nums[0..*k), at most max. */
size_t gen_parse_marker(const char *s, size_t n, int *nums, int *k, int max);

/* Bytes of a list marker ("1. ", "2) ", "(3) ", "- ", "* ", bullet) and
 * the blanks after it at the start of s[0..n); 0 when there is none. */
size_t gen_list_prefix(const char *s, size_t n);

/* Append s[0..n) to out without its [n] markers (and the blanks before
 * them), trimmed. */
askdocs_rc gen_strip_markers(const char *s, size_t n, askdocs_buf *out);

/* ---------------------------------------------------------------- refusal */
/* The fixed refusal phrase of the language (ko = 1 Korean). Static. */
const char *gen_refusal_phrase(int ko);
/* 1 if s[0..n) says that the documents do not hold the answer (the fixed
 * phrases or an equivalent wording, English or Korean). */
int gen_is_refusal(const char *s, size_t n);

/* ---------------------------------------------------------- verification */
typedef struct gen_verify_stats {
    int n_sentences;       /* sentences in the draft */
    int n_supported;       /* kept with at least one citation */
    int n_unsupported;     /* with content but no supporting passage */
    int n_marks_kept;      /* model markers that were verified */
    int n_marks_removed;   /* model markers that were not (or out of range) */
    int n_marks_added;     /* best passage attached to a sentence without one */
    int n_refusal;         /* refusal sentences seen */
    int n_dropped;         /* sentences left out of the text */
    int n_sim_supported;   /* supported through embedding similarity */
} gen_verify_stats;

/* Embedding similarity for the checks (see askdocs_generator_params). */
typedef struct gen_sim {
    askdocs_embed_fn fn;
    void *user;
    int dim;
    double min_similarity; /* <= 0 = 0.92 */
} gen_sim;

/* Verify the citations of draft[0..draft_len) against passages[0..n) and fill
 * a->text, a->citations, a->n_citations, a->refused, a->n_unsupported (other
 * fields are left alone; a must be zeroed or hold no text/citations yet).
 * plen[i] (plen may be NULL) = bytes of passage i the model saw, cut to
 * ASKDOCS_GEN_MAX_PASSAGE_BYTES. ko selects the refusal phrase. st may be
 * NULL. On failure a keeps nothing new. */
askdocs_rc gen_verify(const char *draft, size_t draft_len,
                      const askdocs_passage *passages, const size_t *plen,
                      int n, double min_support, int strict, int ko,
                      askdocs_answer *a, gen_verify_stats *st);

/* gen_verify with embedding similarity: a sentence sharing at least
 * min_support / 2 of its tokens with a passage (numbers all present) is also
 * supported when its cosine with that passage's closest sentence reaches
 * sim->min_similarity. sim NULL = lexical only. Also fills a->sentences. */
askdocs_rc gen_verify_ex(const char *draft, size_t draft_len,
                         const askdocs_passage *passages, const size_t *plen, int n,
                         double min_support, int strict, int ko, const gen_sim *sim,
                         askdocs_answer *a, gen_verify_stats *st);

/* Extractive draft: the 1-3 sentences of one passage (the one holding the
 * best sentence) with the highest share of the question's content tokens
 * (>= min_score and >= 0.6 * best), each with its [n] marker, into draft. *best gets the best share (0 when none). An empty
 * draft means nothing reached min_score. */
askdocs_rc gen_extractive_draft(const char *question,
                                const askdocs_passage *passages,
                                const size_t *plen, int n, double min_score,
                                askdocs_buf *draft, double *best);

/* Bytes of passage text to use: strlen cut at ASKDOCS_GEN_MAX_PASSAGE_BYTES
 * on a UTF-8 boundary. NULL text = 0. */
size_t gen_passage_len(const askdocs_passage *p);

/* ------------------------------------------------------------ generator */
/* Tokens of the last prompt that were reused from the KV cache (0 when none
 * or extractive). For tests. */
int gen_last_reused_tokens(const askdocs_generator *g);


/* ------------------------------------------------------- remote back end */
/* An OpenAI-compatible chat server (llama-server, vLLM, Ollama, TGI):
 * POST {url}/chat/completions with "stream": true, read as Server-Sent
 * Events (gen_remote.c, libcurl). url is the API base, e.g.
 * "http://127.0.0.1:8080/v1" (a trailing "/" or a full ".../chat/completions"
 * is accepted too). */
typedef struct gen_remote gen_remote;

typedef struct gen_remote_params {
    const char *url;         /* required; http:// or https:// */
    const char *api_key;     /* NULL/"" = $ASKDOCS_API_KEY, else none; sent as
                                "Authorization: Bearer KEY" */
    const char *model;       /* "model" field; NULL/"" = "default" */
    const char *ca_file;     /* PEM bundle to verify the server; NULL/"" =
                                the system's */
    int insecure;            /* 1 = do not verify TLS peer/host (off by default) */
    long connect_timeout_ms; /* 0 = 5000 */
    long read_timeout_ms;    /* longest silence between two bytes; 0 = 60000 */
    long total_timeout_ms;   /* whole request incl. streaming; 0 = 600000 */
    int retries;             /* extra attempts on connect errors, 429, 5xx,
                                before the first streamed byte; < 0 = 0,
                                0 = default 3 */
    long backoff_ms;         /* first retry delay, doubled each time (with
                                jitter; Retry-After is honoured, capped at
                                30 s); 0 = 500 */
} gen_remote_params;

/* Statistics of one gen_remote_chat call. */
typedef struct gen_remote_stats {
    int attempts;            /* HTTP requests made (1 + retries used) */
    int http_status;         /* status of the last attempt, 0 = none */
    int n_prompt_tokens;     /* from the "usage" object when sent, else 0 */
    int n_gen_tokens;        /* from "usage", else the content deltas seen */
    int finish_length;       /* 1 = finish_reason "length" */
    double ttft_ms;          /* call start to first content delta */
} gen_remote_stats;

/* Called with each content delta (UTF-8, not NUL-terminated, borrowed for
 * the call). Return nonzero to stop: the transfer is aborted, the call
 * returns ASKDOCS_OK with what came so far. */
typedef int (*gen_piece_fn)(const char *piece, size_t len, void *user);

/* Create a client. Copies every string of p. On failure *out is NULL and err
 * gets a message. Free with gen_remote_free. */
askdocs_rc gen_remote_create(const gen_remote_params *p, gen_remote **out,
                             char *err, size_t errlen);
void gen_remote_free(gen_remote *r);  /* NULL is harmless */

/* One streamed chat completion of [system, user] (system may be NULL or "").
 * max_tokens > 0 is sent as "max_tokens"; temperature as "temperature"
 * (0 = greedy). stop[0..n_stop) are sent as "stop". Thread-safe on distinct
 * handles only (one handle = one curl easy handle). Errors:
 * ASKDOCS_ERR_NETWORK (connect/TLS/timeout/HTTP status after retries, or a
 * malformed stream; message names url and status), ASKDOCS_ERR_INVALID,
 * ASKDOCS_ERR_NOMEM; ASKDOCS_ERR_TOOBIG when the reply passes
 * ASKDOCS_GEN_MAX_ANSWER_BYTES. st may be NULL. The message of the last
 * failure is gen_remote_errmsg(r). */
askdocs_rc gen_remote_chat(gen_remote *r, const char *system, const char *user,
                           int max_tokens, float temperature,
                           const char *const *stop, int n_stop,
                           gen_piece_fn on_piece, void *user_data,
                           gen_remote_stats *st);
const char *gen_remote_errmsg(const gen_remote *r); /* never NULL */

/* ---------------------------------------------------- template inspection */
/* How the chat template was applied: 0 = system and user roles, 1 = system
 * folded into the user turn, 2 = plain text (no usable template); -1 when
 * g runs no in-process model. For tests. */
int gen_template_mode(const askdocs_generator *g);
/* The prompt text (template applied) of a system + user pair, as the model
 * would see it; caller frees with askdocs_free. NULL on OOM or without an
 * in-process model. For tests. */
char *gen_render_prompt(const askdocs_generator *g, const char *system, const char *user);

#ifdef __cplusplus
}
#endif
#endif /* ASKDOCS_GEN_INTERNAL_H */
