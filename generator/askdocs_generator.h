/*
 * askdocs_generator.h - answer a question from evidence passages, with every
 * statement cited to a passage, and the citations verified afterwards.
 *
 * Two modes:
 *   - model mode: a GGUF chat model (llama.cpp) writes a short answer with
 *     [n] markers; the answer is streamed through a callback as it is made,
 *     then split into sentences and every marker is checked against the
 *     passage it names (lexical overlap, see docs/generator.md);
 *   - extractive mode (no model): the 1-3 passage sentences that best match
 *     the question are returned verbatim with their [n] markers.
 *
 * The module does not depend on the retriever: the caller hands the evidence
 * in askdocs_passage structs, best-ranked first.
 *
 * Threads: a generator handle answers one question at a time; use one handle
 * per thread (each has its own llama context). Different handles may run at
 * the same time.
 */
#ifndef ASKDOCS_GENERATOR_H
#define ASKDOCS_GENERATOR_H

#include <stddef.h>
#include <stdint.h>

#include "askdocs_common.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Hard caps (inputs beyond them are truncated or rejected, see each use). */
#define ASKDOCS_GEN_MAX_PASSAGES 64          /* passages beyond are ignored */
#define ASKDOCS_GEN_MAX_PASSAGE_BYTES 65536  /* longer passage text is cut */
#define ASKDOCS_GEN_MAX_QUESTION_BYTES 4096  /* longer: ASKDOCS_ERR_TOOBIG */
#define ASKDOCS_GEN_MAX_PROMPT_BYTES (1024 * 1024)
#define ASKDOCS_GEN_MAX_ANSWER_BYTES 65536   /* generation stops there */
#define ASKDOCS_GEN_MAX_CTX 32768            /* n_ctx is capped there too */

/* The fixed refusal phrases (the answer text when refused = 1). */
#define ASKDOCS_GEN_REFUSAL_EN "The documents do not contain this information."
#define ASKDOCS_GEN_REFUSAL_KO \
    "\xEB\xAC\xB8\xEC\x84\x9C\xEC\x97\x90\xEC\x84\x9C \xED\x95\xB4\xEB\x8B\xB9 " \
    "\xEC\xA0\x95\xEB\xB3\xB4\xEB\xA5\xBC \xEC\xB0\xBE\xEC\x9D\x84 \xEC\x88\x98 " \
    "\xEC\x97\x86\xEC\x8A\xB5\xEB\x8B\x88\xEB\x8B\xA4." /* 문서에서 해당 정보를 찾을 수 없습니다. */

/* One evidence passage. Every pointer is borrowed: it must stay valid during
 * the askdocs_generator_answer() call only (the answer keeps copies). */
typedef struct askdocs_passage {
    const char *doc;       /* document path as shown to users; may be NULL */
    const char *title;     /* may be NULL (then doc is shown) */
    const char *heading;   /* heading path "Title > Chapter > Article", may be NULL */
    int page;              /* 1-based, 0 = not paged */
    int64_t chunk_id;
    const char *text;      /* UTF-8, NUL-terminated; NULL counts as "" */
} askdocs_passage;

/* One cited passage. Everything is owned by the answer. */
typedef struct askdocs_citation {
    int n;                 /* 1-based number of the passage in the evidence list */
    int64_t chunk_id;
    int page;              /* as given, 0 = not paged */
    char *doc;             /* copy of passage doc ("" when it was NULL) */
    char *heading;         /* copy of passage heading, NULL when it was NULL */
    char *text;            /* copy of the passage text (cut at
                              ASKDOCS_GEN_MAX_PASSAGE_BYTES) */
    int span_start, span_end; /* byte offsets into text of the supporting span
                                 (the passage sentence that overlaps most) */
} askdocs_citation;

/* A finished answer. Owned by the caller: free with askdocs_answer_free(). */
typedef struct askdocs_answer {
    char *text;            /* final answer, with only the [n] markers that were
                              verified; the refusal phrase when refused */
    askdocs_citation *citations; /* distinct cited passages in order of first
                                    use; NULL when n_citations == 0 */
    int n_citations;
    int refused;           /* 1 = "not found in the documents" */
    double ttft_ms;        /* call start to first generated piece */
    double total_ms;       /* call start to return */
    int n_prompt_tokens;   /* 0 in extractive mode */
    int n_gen_tokens;      /* 0 in extractive mode */
    int n_unsupported;     /* sentences no passage supports */
    int n_passages_used;   /* passages that fit in the prompt (all in
                              extractive mode, up to ASKDOCS_GEN_MAX_PASSAGES) */
    int truncated;         /* 1 = generation stopped by max_answer_tokens, the
                              answer byte cap or the callback */
    char *draft;           /* the raw model text as streamed (before
                              verification); "" in extractive mode */
} askdocs_answer;

/* Free an answer and everything it owns. NULL is harmless. */
void askdocs_answer_free(askdocs_answer *a);

typedef struct askdocs_generator askdocs_generator;

typedef struct askdocs_generator_params {
    const char *model_path;   /* GGUF; NULL or "" = extractive mode (no model).
                                 Borrowed during askdocs_generator_open only. */
    int n_threads;            /* 0 = online CPUs */
    int n_ctx;                /* 0 = 4096 (capped at the model's n_ctx_train
                                 and ASKDOCS_GEN_MAX_CTX) */
    int max_answer_tokens;    /* 0 = 384 (capped at n_ctx / 2) */
    float temperature;        /* 0 = greedy */
    uint32_t seed;            /* sampling seed when temperature > 0;
                                 0 = a random seed */
    double min_support;       /* share of a sentence's content tokens that must
                                 occur in a passage for that passage to support
                                 it; also the extractive-mode threshold on the
                                 question's tokens. <= 0 = 0.35 */
    int strict;               /* 1 = drop unsupported sentences;
                                 0 = keep them without a marker */
} askdocs_generator_params;

/* Defaults: every field as its "0 means" comment says, min_support 0.35. */
askdocs_generator_params askdocs_generator_default_params(void);

/* Open a generator (loads the model unless in extractive mode). p NULL =
 * defaults (extractive). On success *out gets a handle the caller frees with
 * askdocs_generator_free(); on failure *out is NULL and err (may be NULL)
 * gets a message of at most errlen bytes. */
askdocs_rc askdocs_generator_open(const askdocs_generator_params *p,
                                  askdocs_generator **out,
                                  char *err, size_t errlen);

/* Free a generator and its model. NULL is harmless. */
void askdocs_generator_free(askdocs_generator *g);

/* Last error message of g (static "" if none); valid until the next call on
 * g. NULL g gives a static message. Never NULL. */
const char *askdocs_generator_errmsg(const askdocs_generator *g);

/* 1 when g runs a model, 0 in extractive mode (or g NULL). */
int askdocs_generator_has_model(const askdocs_generator *g);

/* Called with each piece of generated text as it is produced (UTF-8, not
 * NUL-terminated; pieces never split a UTF-8 sequence). The pieces are the
 * raw draft: markers in it are not yet verified; the final text is in the
 * answer. In extractive mode it is called once with the final text. piece is
 * borrowed for the call only. Return nonzero to stop generating (the answer
 * is then built from what was generated, truncated = 1). */
typedef int (*askdocs_token_cb)(const char *piece, size_t len, void *user);

/* Answer question from passages[0..n), best-ranked first (n = 0 refuses
 * without running the model; passages may then be NULL). cb may be NULL.
 * All inputs are borrowed for the call only. On ASKDOCS_OK *out gets an
 * answer the caller frees with askdocs_answer_free(); on failure *out is
 * NULL and askdocs_generator_errmsg(g) tells why. */
askdocs_rc askdocs_generator_answer(askdocs_generator *g, const char *question,
                                    const askdocs_passage *passages, int n,
                                    askdocs_token_cb cb, void *user,
                                    askdocs_answer **out);

#ifdef __cplusplus
}
#endif
#endif /* ASKDOCS_GENERATOR_H */
