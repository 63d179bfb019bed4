/*
 * askdocs_generator.h - answer a question from evidence passages, with every
 * statement cited to a passage, and the citations verified afterwards.
 *
 * Answer modes (askdocs_answer_mode):
 *   - model: a chat model writes a short answer with [n] markers; the answer
 *     is streamed through a callback as it is made, then split into
 *     sentences and every marker is checked against the passage it names
 *     (lexical overlap with Korean-aware tokens, plus embedding similarity
 *     when an embedding callback is given; see docs/generator.md);
 *   - extractive (no model): the 1-3 passage sentences that best match the
 *     question are returned verbatim with their [n] markers;
 *   - thorough: select passages, extract a rationale from each with the
 *     model, then compose the answer from the rationales (verified against
 *     the passages like model mode).
 *
 * Back ends: llama.cpp in process (a GGUF file), or a remote
 * OpenAI-compatible server (llama-server, vLLM, Ollama, TGI) over libcurl.
 *
 * The module does not depend on the retriever: the caller hands the evidence
 * in askdocs_passage structs, best-ranked first.
 *
 * Threads: askdocs_generator_ask / _answer may be called from several
 * threads on one handle. One loaded model serves up to n_parallel questions
 * at once (a llama context each, threads shared among the running ones);
 * further callers wait in a first-come first-served queue of at most
 * max_queue, beyond which ASKDOCS_ERR_BUSY is returned at once.
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
    int span_char_start, span_char_end; /* the same span in Unicode code
                                           points (for highlighting in UIs) */
} askdocs_citation;

/* One sentence of the final answer text. */
typedef struct askdocs_answer_sentence {
    int start, end;        /* byte range in askdocs_answer.text, markers
                              included */
    int supported;         /* 1 = at least one passage supports it */
    int cites[8];          /* passage numbers (1-based) of its markers */
    int n_cites;
} askdocs_answer_sentence;

/* How an answer is made. */
typedef enum askdocs_answer_mode {
    ASKDOCS_ANSWER_DEFAULT = 0,    /* params.mode (a request field only) */
    ASKDOCS_ANSWER_MODEL = 1,      /* one generation pass over the evidence */
    ASKDOCS_ANSWER_EXTRACTIVE = 2, /* no model: best supporting sentences */
    ASKDOCS_ANSWER_THOROUGH = 3    /* select -> rationale -> compose */
} askdocs_answer_mode;

/* "model" / "extractive" / "thorough" -> mode; -1 when unknown. */
int askdocs_answer_mode_parse(const char *s);
const char *askdocs_answer_mode_name(askdocs_answer_mode m); /* static */

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
    askdocs_answer_sentence *sentences; /* sentences of text, in order; NULL
                                           when n_sentences == 0 (refusals) */
    int n_sentences;
    askdocs_answer_mode mode;  /* the mode that made it (extractive when no
                                  back end or the request asked for it) */
    int cancelled;         /* 1 = stopped because the caller went away */
    double queue_ms;       /* time spent waiting for a free model slot */
    int n_rationales;      /* thorough mode: passages that gave a rationale */
    double evidence_score; /* best share of the question's content words
                              held by one passage (-1 when the question has
                              none) */
    int weak_evidence;     /* 1 = refused because evidence_score <
                              min_evidence */
} askdocs_answer;

/* Free an answer and everything it owns. NULL is harmless. */
void askdocs_answer_free(askdocs_answer *a);

typedef struct askdocs_generator askdocs_generator;

/* Embedding function for citation checks: write n L2-normalised vectors of
 * dim floats for texts[0..n) into out. Returns 0 on success. Called from the
 * threads that call askdocs_generator_ask: it must be thread-safe when
 * n_parallel > 1. */
typedef int (*askdocs_embed_fn)(void *user, const char *const *texts, int n, float *out);

typedef struct askdocs_generator_params {
    const char *model_path;   /* GGUF; NULL or "" (and no remote_url) =
                                 extractive mode (no model). Borrowed during
                                 askdocs_generator_open only (as are all the
                                 strings below; the handle keeps copies). */
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
    askdocs_answer_mode mode; /* 0 = model when there is a back end, else
                                 extractive */
    int n_parallel;           /* questions answered at once; 0 = 1, max 16 */
    int max_queue;            /* callers allowed to wait; 0 = 16 */
    int compress_tokens;      /* a passage over this many tokens is shown to
                                 the model as its sentences most related to
                                 the question, within this budget; 0 = 200,
                                 < 0 = never */
    int thorough_passages;    /* passages read in thorough mode; 0 = 4 */
    double min_evidence;      /* weak evidence: when no passage holds this
                                 share of the question's content words, the
                                 answer is a refusal without running the
                                 model; 0 = never */
    /* remote back end (used instead of model_path when remote_url is set) */
    const char *remote_url;   /* OpenAI-compatible API base, e.g.
                                 http://host:8080/v1 */
    const char *remote_api_key; /* NULL/"" = $ASKDOCS_API_KEY */
    const char *remote_model; /* "model" field; NULL/"" = "default" */
    const char *remote_ca_file; /* PEM bundle; NULL/"" = the system's */
    int remote_insecure;      /* 1 = skip TLS verification */
    int remote_ctx;           /* context of the remote model in tokens; 0 =
                                 8192 (evidence is budgeted with ~3 bytes a
                                 token, no tokenizer) */
    long remote_timeout_ms;   /* read timeout; 0 = 60000 */
    int remote_retries;       /* 0 = 3, < 0 = none */
    /* embedding similarity in citation checks (optional) */
    askdocs_embed_fn embed;   /* NULL = lexical checks only */
    void *embed_user;
    int embed_dim;            /* dimension of embed's vectors */
    double min_similarity;    /* cosine at which a sentence that shares at
                                 least half of min_support with a passage
                                 sentence is supported by it; 0 = 0.92 */
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

/* Message of the calling thread's last failed call on g (static "" if
 * none); valid until that thread's next call on g. NULL g gives a static
 * message. Never NULL. */
const char *askdocs_generator_errmsg(const askdocs_generator *g);

/* 1 when g has a back end (a model in process or a remote server), 0 in
 * extractive mode (or g NULL). */
int askdocs_generator_has_model(const askdocs_generator *g);

/* Called with each piece of generated text as it is produced (UTF-8, not
 * NUL-terminated; pieces never split a UTF-8 sequence). The pieces are the
 * raw draft: markers in it are not yet verified; the final text is in the
 * answer. In extractive mode it is called once with the final text. piece is
 * borrowed for the call only. Return nonzero to stop generating (the answer
 * is then built from what was generated, truncated = 1). */
typedef int (*askdocs_token_cb)(const char *piece, size_t len, void *user);

/* One question. Everything is borrowed for the call only. */
typedef struct askdocs_ask_request {
    const char *question;
    const askdocs_passage *passages; /* best-ranked first; NULL when n == 0 */
    int n;
    askdocs_answer_mode mode;        /* 0 = params.mode */
    askdocs_token_cb cb;             /* may be NULL */
    void *user;                      /* for cb and cancelled */
    /* polled while waiting, while reading the prompt and between tokens;
     * nonzero = the client has gone: stop at once (the answer is built from
     * what was made, cancelled = 1; while still waiting: ASKDOCS_ERR_ABORTED).
     * May be NULL. */
    int (*cancelled)(void *user);
} askdocs_ask_request;

/* Answer rq. On ASKDOCS_OK *out gets an answer the caller frees with
 * askdocs_answer_free(); on failure *out is NULL and
 * askdocs_generator_errmsg(g) (in the same thread) tells why:
 * ASKDOCS_ERR_BUSY when max_queue callers already wait. */
askdocs_rc askdocs_generator_ask(askdocs_generator *g, const askdocs_ask_request *rq,
                                 askdocs_answer **out);

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
