/*
 * askdocs_conf.h - configuration: built-in defaults, an INI file, environment
 * variables and command-line flags, applied in that order (later wins).
 *
 *   defaults (compiled in, same values as conf/askdocs.conf)
 *   < INI file (--config FILE, else $ASKDOCS_CONFIG, else none)
 *   < environment ASKDOCS_<SECTION>_<KEY>, e.g. ASKDOCS_SEARCH_K=20
 *   < command-line flags of each subcommand
 *
 * Every key is declared once in a table in conf.c with its type and range;
 * unknown sections or keys and bad values are errors naming file and line.
 */
#ifndef ASKDOCS_CONF_H
#define ASKDOCS_CONF_H

#include <stdio.h>

#include "askdocs_common.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct askdocs_config {
    /* [index] */
    int chunk_tokens;     /* target chunk size in words (Hangul: ~2 chars) */
    int chunk_overlap;    /* words repeated from the previous chunk */
    int pack_sections;    /* 1 = short sibling sections share a chunk */
    int max_file_mb;      /* files larger than this are refused */
    int max_text_mb;      /* extracted text per document */
    int max_expand_mb;    /* zip/zlib inflation per document */
    int max_pages;        /* pages per document */
    int ocr;              /* 1 = OCR text-less PDF pages */
    char *ocr_langs;      /* Tesseract languages */
    int ocr_dpi;
    char *tokenizer;      /* mecab | bigram */
    char *mecab_dict;     /* "" = CACHE/dict/mecab-ko-dic */
    char *extensions;     /* comma-separated list of file extensions */
    char *collection;     /* collection new documents belong to */
    int embed_batch;      /* chunks per embedding call */
    char *vector_index;   /* auto | flat | hnsw | ivfpq */
    int hnsw_min_vectors; /* auto: HNSW from this many vectors */
    int ivfpq_min_vectors;/* auto: IVF-PQ from this many vectors */
    int hnsw_m;           /* HNSW links per node */

    /* [embed] */
    char *embed_model;    /* GGUF embedding model; "" = resolve default */
    int embed_threads;    /* 0 = all online CPUs */
    int embed_max_tokens; /* per text; 0 = model's */
    char *query_prefix;
    char *passage_prefix;

    /* [search] */
    int k;                /* hits returned */
    char *mode;           /* hybrid | bm25 | dense */
    int candidates;       /* hits taken from each list before fusion */
    int rrf_k;            /* reciprocal-rank-fusion constant */
    double bm25_weight;
    double dense_weight;
    char *fusion;         /* rrf | score */
    int query_weighting;  /* 1 = query-aware weights */
    int max_query_bytes;  /* longer queries are truncated */
    double heading_weight;/* BM25 weight of heading paths (text = 1) */
    int bm25_prune;       /* 1 = askdocs_bm25 (top-k pruning), 0 = bm25() */
    double bm25_k1;       /* BM25 term-frequency saturation (askdocs_bm25) */
    double bm25_b;        /* BM25 length normalisation (askdocs_bm25) */
    int search_parallel;  /* 1 = hybrid runs BM25 beside the query embedding */
    int hnsw_ef_search;   /* HNSW search breadth */
    int ivf_nprobe;       /* IVF lists probed per query */
    int dense_refine;     /* approximate candidates per hit, re-scored exactly */

    /* [rerank] */
    char *rerank_model;   /* local cross-encoder GGUF; "" = off */
    char *rerank_url;     /* remote /v1/rerank endpoint; "" = off */
    char *rerank_api_key; /* bearer token for rerank_url */
    char *rerank_name;    /* "model" field sent to rerank_url */
    char *rerank_format;  /* jina (results/relevance_score) | tei */
    int rerank_top;       /* fused hits rescored */
    int rerank_timeout_ms;

    /* [generate] */
    char *gen_model;      /* GGUF chat model; "" = resolve default,
                             "none" = extractive answers only */
    int gen_threads;      /* 0 = all online CPUs */
    int gen_ctx;          /* context size in tokens */
    int gen_max_tokens;   /* answer length cap in tokens */
    double temperature;   /* 0 = greedy */
    int evidence;         /* passages given to the model */
    int evidence_tokens;  /* token budget of the passages */
    double evidence_mmr;  /* MMR lambda */
    double near_duplicate;/* Jaccard from which a hit is a duplicate */
    int join_below;       /* short passages get neighbours; -1 = never */
    double min_support;   /* overlap needed for a sentence to be supported */
    int strict;           /* 1 = drop unsupported sentences */
    char *answer_mode;    /* model | extractive | thorough */
    double min_similarity;/* 0 = lexical checks only */
    int compress_tokens;  /* -1 = never */
    int thorough_passages;
    double min_evidence;  /* weak-evidence refusal threshold; 0 = never */
    int gen_parallel;     /* questions at once */
    int gen_queue;        /* waiting questions */
    char *gen_url;        /* remote OpenAI-compatible server; "" = none */
    char *gen_api_key;
    char *gen_remote_model;
    char *gen_ca_file;
    int gen_insecure;
    int gen_remote_ctx;
    int gen_timeout_ms;
    int gen_retries;
} askdocs_config;

/* Fill c with the built-in defaults. Strings are owned by c: release them with
 * askdocs_config_free. Returns ASKDOCS_ERR_NOMEM on allocation failure. */
askdocs_rc askdocs_config_defaults(askdocs_config *c);
void askdocs_config_free(askdocs_config *c);

/* Apply an INI file. On error err gets "FILE:LINE: what is wrong". */
askdocs_rc askdocs_config_load_file(askdocs_config *c, const char *path,
                                    char *err, size_t errlen);
/* Apply ASKDOCS_<SECTION>_<KEY> variables from the environment. */
askdocs_rc askdocs_config_apply_env(askdocs_config *c, char *err,
                                    size_t errlen);
/* Set one key from text (as the INI file and env do). value is copied. */
askdocs_rc askdocs_config_set(askdocs_config *c, const char *section,
                              const char *key, const char *value, char *err,
                              size_t errlen);
/* Print the effective configuration as an INI file. */
void askdocs_config_write(const askdocs_config *c, FILE *f);

/* The dependency/model cache: $ASKDOCS_CACHE, else $HOME/.cache/askdocs.
 * Caller frees with askdocs_free. */
char *askdocs_cache_dir(void);
/* The model path to use for a configured value: "" resolves to
 * CACHE/models/DEFAULT_FILE. Caller frees with askdocs_free. */
char *askdocs_resolve_model(const char *configured, const char *default_file);

/* The mecab-ko-dic directory for a configured value: "" resolves to
 * CACHE/dict/mecab-ko-dic. Caller frees with askdocs_free. */
char *askdocs_resolve_dict(const char *configured);

#define ASKDOCS_DEFAULT_EMBED_MODEL "multilingual-e5-small-q4_0.gguf"
#define ASKDOCS_DEFAULT_GEN_MODEL "qwen2.5-coder-0.5b-instruct-q4_k_m.gguf"

#ifdef __cplusplus
}
#endif
#endif /* ASKDOCS_CONF_H */
