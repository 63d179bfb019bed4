/*
 * conf.c - the configuration table, INI loading through inih, environment
 * overrides and validation.
 */
#include "askdocs_conf.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <ini.h>

typedef enum { K_INT, K_DOUBLE, K_STRING, K_ENUM } key_type;

typedef struct conf_key {
    const char *section;
    const char *key;
    key_type type;
    size_t offset;
    double min, max;      /* K_INT / K_DOUBLE range */
    const char *def;      /* default as text */
    const char *choices;  /* K_ENUM: "a|b|c" */
    const char *help;
} conf_key;

#define OFF(f) offsetof(askdocs_config, f)

static const conf_key keys[] = {
    {"index", "chunk_tokens", K_INT, OFF(chunk_tokens), 20, 4000, "300", NULL,
     "target chunk size in tokens of the embedding model"},
    {"index", "chunk_overlap", K_INT, OFF(chunk_overlap), 0, 2000, "45", NULL,
     "tokens of whole sentences repeated from the previous chunk"},
    {"index", "pack_sections", K_INT, OFF(pack_sections), 0, 1, "0", NULL,
     "1 = short sections that fit together share a chunk (a heading no "
     "longer always starts one)"},
    {"index", "max_file_mb", K_INT, OFF(max_file_mb), 1, 4096, "64", NULL,
     "files larger than this are refused"},
    {"index", "max_text_mb", K_INT, OFF(max_text_mb), 1, 4096, "64", NULL,
     "a document whose extracted text is larger is refused"},
    {"index", "max_expand_mb", K_INT, OFF(max_expand_mb), 1, 65536, "256",
     NULL, "bytes a document may inflate to from zip/zlib (zip-bomb guard)"},
    {"index", "max_pages", K_INT, OFF(max_pages), 1, 1000000, "20000", NULL,
     "documents with more pages are refused"},
    {"index", "ocr", K_INT, OFF(ocr), 0, 1, "0", NULL,
     "1 = OCR PDF pages that have no text layer (Tesseract)"},
    {"index", "ocr_langs", K_STRING, OFF(ocr_langs), 0, 0, "kor+eng", NULL,
     "Tesseract languages for OCR"},
    {"index", "ocr_dpi", K_INT, OFF(ocr_dpi), 72, 1200, "300", NULL,
     "resolution pages are rendered at for OCR"},
    {"index", "tokenizer", K_ENUM, OFF(tokenizer), 0, 0, "mecab", "mecab|bigram",
     "Korean BM25 terms: mecab = morphemes (mecab-ko-dic), bigram = Hangul "
     "character pairs; fixed when the index is created"},
    {"index", "mecab_dict", K_STRING, OFF(mecab_dict), 0, 0, "", NULL,
     "compiled mecab-ko-dic directory; empty = the one setup installs"},
    {"index", "extensions", K_STRING, OFF(extensions), 0, 0,
     ".txt,.md,.markdown,.pdf,.docx,.xlsx,.csv,.tsv,.html,.htm,.hwp,.hwpx",
     NULL, "comma-separated extensions that are indexed"},
    {"index", "collection", K_STRING, OFF(collection), 0, 0, "default", NULL,
     "collection new documents belong to"},
    {"index", "embed_batch", K_INT, OFF(embed_batch), 1, 1024, "16", NULL,
     "chunks per embedding call"},
    {"index", "vector_index", K_ENUM, OFF(vector_index), 0, 0, "auto",
     "auto|flat|hnsw|ivfpq",
     "FAISS index of the vectors: flat = exact, hnsw = graph, ivfpq = "
     "trained inverted lists of compressed codes; auto chooses by size"},
    {"index", "hnsw_min_vectors", K_INT, OFF(hnsw_min_vectors), 1000,
     1000000000, "50000", NULL, "auto: HNSW from this many vectors"},
    {"index", "ivfpq_min_vectors", K_INT, OFF(ivfpq_min_vectors), 10000,
     2000000000, "1000000", NULL, "auto: IVF-PQ from this many vectors"},
    {"index", "hnsw_m", K_INT, OFF(hnsw_m), 4, 128, "32", NULL,
     "HNSW links per node (more = better recall, more memory)"},

    {"embed", "model", K_STRING, OFF(embed_model), 0, 0, "", NULL,
     "GGUF embedding model; empty = the one setup installs; none = no "
     "vectors (BM25 only)"},
    {"embed", "threads", K_INT, OFF(embed_threads), 0, 256, "0", NULL,
     "0 = all online CPUs"},
    {"embed", "max_tokens", K_INT, OFF(embed_max_tokens), 0, 8192, "512", NULL,
     "tokens per text; 0 = the model's training context"},
    {"embed", "query_prefix", K_STRING, OFF(query_prefix), 0, 0, "query: ",
     NULL, "prepended to queries (E5 models expect \"query: \")"},
    {"embed", "passage_prefix", K_STRING, OFF(passage_prefix), 0, 0,
     "passage: ", NULL, "prepended to passages"},

    {"search", "k", K_INT, OFF(k), 1, 1000, "10", NULL, "hits returned"},
    {"search", "mode", K_ENUM, OFF(mode), 0, 0, "hybrid", "hybrid|bm25|dense",
     "hybrid, bm25 or dense"},
    {"search", "candidates", K_INT, OFF(candidates), 1, 10000, "50", NULL,
     "hits taken from each list before fusion"},
    {"search", "rrf_k", K_INT, OFF(rrf_k), 1, 10000, "60", NULL,
     "reciprocal-rank-fusion constant"},
    {"search", "bm25_weight", K_DOUBLE, OFF(bm25_weight), 0, 100, "1.5", NULL,
     "weight of the BM25 list in fusion"},
    {"search", "dense_weight", K_DOUBLE, OFF(dense_weight), 0, 100, "1.0", NULL,
     "weight of the dense list in fusion"},
    {"search", "fusion", K_ENUM, OFF(fusion), 0, 0, "score", "rrf|score",
     "hybrid fusion: rrf = weighted reciprocal ranks, score = weighted sum "
     "of min-max normalised scores"},
    {"search", "query_weighting", K_INT, OFF(query_weighting), 0, 1, "0",
     NULL, "1 = double the BM25 weight for queries with exact handles "
     "(quotes, article numbers, figures, codes, capitals)"},
    {"search", "max_query_bytes", K_INT, OFF(max_query_bytes), 16, 1 << 20,
     "4096", NULL, "longer queries are cut at a character boundary"},
    {"search", "heading_weight", K_DOUBLE, OFF(heading_weight), 0, 10, "0.5",
     NULL, "BM25 weight of a chunk's heading path against its text (1)"},
    {"search", "bm25_prune", K_INT, OFF(bm25_prune), 0, 1, "1", NULL,
     "1 = BM25 reads only the rows that can reach the top k (MaxScore; "
     "the same results, faster); 0 = FTS5's own bm25() over every match"},
    {"search", "bm25_k1", K_DOUBLE, OFF(bm25_k1), 0, 10, "1.2", NULL,
     "BM25 term-frequency saturation k1 (with bm25_prune = 1)"},
    {"search", "bm25_b", K_DOUBLE, OFF(bm25_b), 0, 1, "0.75", NULL,
     "BM25 length normalisation b, 0 = none, 1 = full (with bm25_prune = 1)"},
    {"search", "parallel", K_INT, OFF(search_parallel), 0, 1, "1", NULL,
     "1 = hybrid search runs BM25 on a second thread while the query is "
     "embedded; 0 = one after the other"},
    {"search", "hnsw_ef_search", K_INT, OFF(hnsw_ef_search), 8, 4096, "512",
     NULL, "HNSW search breadth (more = better recall, slower)"},
    {"search", "ivf_nprobe", K_INT, OFF(ivf_nprobe), 1, 65536, "32", NULL,
     "IVF-PQ inverted lists visited per query"},
    {"search", "dense_refine", K_INT, OFF(dense_refine), 1, 64, "4", NULL,
     "approximate indexes: candidates per wanted hit, re-scored exactly "
     "from the stored vectors"},

    {"rerank", "model", K_STRING, OFF(rerank_model), 0, 0, "", NULL,
     "cross-encoder GGUF (rank pooling) run in process; empty = no "
     "reranking"},
    {"rerank", "url", K_STRING, OFF(rerank_url), 0, 0, "", NULL,
     "remote reranker, e.g. http://host:8080/v1/rerank (llama-server, "
     "Infinity, vLLM, TEI); wins over model"},
    {"rerank", "api_key", K_STRING, OFF(rerank_api_key), 0, 0, "", NULL,
     "bearer token for url (better: ASKDOCS_RERANK_API_KEY)"},
    {"rerank", "name", K_STRING, OFF(rerank_name), 0, 0, "", NULL,
     "model name sent to url"},
    {"rerank", "format", K_ENUM, OFF(rerank_format), 0, 0, "jina", "jina|tei",
     "jina = {query, documents} -> results[].relevance_score (llama-server, "
     "Infinity, vLLM); tei = {query, texts} -> [].score"},
    {"rerank", "top", K_INT, OFF(rerank_top), 2, 200, "20", NULL,
     "fused hits the reranker rescores"},
    {"rerank", "timeout_ms", K_INT, OFF(rerank_timeout_ms), 100, 600000,
     "10000", NULL, "remote reranker time limit; past it the fused order "
     "stays"},

    {"generate", "model", K_STRING, OFF(gen_model), 0, 0, "", NULL,
     "GGUF chat model; empty = the one setup installs; none = extractive"},
    {"generate", "threads", K_INT, OFF(gen_threads), 0, 256, "0", NULL,
     "0 = all online CPUs"},
    {"generate", "ctx", K_INT, OFF(gen_ctx), 256, 131072, "4096", NULL,
     "context window in tokens"},
    {"generate", "max_tokens", K_INT, OFF(gen_max_tokens), 8, 8192, "256",
     NULL, "answer length cap in tokens"},
    {"generate", "temperature", K_DOUBLE, OFF(temperature), 0, 2, "0", NULL,
     "0 = greedy decoding"},
    {"generate", "evidence", K_INT, OFF(evidence), 1, 50, "2", NULL,
     "passages given to the model"},
    {"generate", "evidence_tokens", K_INT, OFF(evidence_tokens), 50, 100000,
     "1500", NULL, "token budget of all passages together"},
    {"generate", "evidence_mmr", K_DOUBLE, OFF(evidence_mmr), 0.01, 1, "0.7",
     NULL, "MMR: relevance against novelty (1 = plain ranking)"},
    {"generate", "near_duplicate", K_DOUBLE, OFF(near_duplicate), 0.01, 1,
     "0.8", NULL, "word overlap (Jaccard) from which a hit repeating a "
     "better one is dropped"},
    {"generate", "join_below", K_INT, OFF(join_below), -1, 10000, "80", NULL,
     "passages under this many tokens get their same-section neighbours; "
     "-1 = never"},
    {"generate", "min_support", K_DOUBLE, OFF(min_support), 0, 1, "0.35",
     NULL, "share of a sentence's words a passage must hold to support it"},
    {"generate", "strict", K_INT, OFF(strict), 0, 1, "0", NULL,
     "1 = drop sentences no passage supports"},
    {"generate", "mode", K_ENUM, OFF(answer_mode), 0, 0, "model",
     "model|extractive|thorough",
     "model = one pass; extractive = the best supporting sentences, no "
     "model; thorough = a rationale from each passage, then the answer"},
    {"generate", "min_similarity", K_DOUBLE, OFF(min_similarity), 0, 1, "0.92",
     NULL, "embedding cosine that also makes a sentence supported when it "
     "shares half of min_support with a passage sentence; 0 = words only"},
    {"generate", "compress_tokens", K_INT, OFF(compress_tokens), -1, 100000,
     "200", NULL, "a longer passage is shown as its sentences nearest the "
     "question, within this many tokens; -1 = never"},
    {"generate", "min_evidence", K_DOUBLE, OFF(min_evidence), 0, 1, "0.4",
     NULL, "refuse without running the model when no passage holds this "
     "share of the question's words; 0 = never"},
    {"generate", "thorough_passages", K_INT, OFF(thorough_passages), 1, 16,
     "4", NULL, "passages read one by one in thorough mode"},
    {"generate", "parallel", K_INT, OFF(gen_parallel), 1, 16, "1", NULL,
     "questions answered at once by one loaded model (a context each)"},
    {"generate", "queue", K_INT, OFF(gen_queue), 1, 4096, "16", NULL,
     "questions allowed to wait for the model; more are refused as busy"},
    {"generate", "url", K_STRING, OFF(gen_url), 0, 0, "", NULL,
     "OpenAI-compatible server (llama-server, vLLM, Ollama, TGI), e.g. "
     "http://host:8080/v1; wins over model"},
    {"generate", "api_key", K_STRING, OFF(gen_api_key), 0, 0, "", NULL,
     "bearer token for url (better: ASKDOCS_API_KEY)"},
    {"generate", "remote_model", K_STRING, OFF(gen_remote_model), 0, 0, "",
     NULL, "model name sent to url"},
    {"generate", "ca_file", K_STRING, OFF(gen_ca_file), 0, 0, "", NULL,
     "PEM bundle that verifies url's certificate; empty = the system's"},
    {"generate", "insecure", K_INT, OFF(gen_insecure), 0, 1, "0", NULL,
     "1 = do not verify url's TLS certificate"},
    {"generate", "remote_ctx", K_INT, OFF(gen_remote_ctx), 256, 1048576,
     "8192", NULL, "context of the remote model in tokens"},
    {"generate", "timeout_ms", K_INT, OFF(gen_timeout_ms), 100, 3600000,
     "60000", NULL, "longest silence from url"},
    {"generate", "retries", K_INT, OFF(gen_retries), 0, 10, "3", NULL,
     "retries on 429/5xx/connect errors before the answer starts"},
};

#define N_KEYS (sizeof(keys) / sizeof(keys[0]))

static const conf_key *find_key(const char *section, const char *key)
{
    size_t i;
    for (i = 0; i < N_KEYS; i++)
        if (strcmp(keys[i].section, section) == 0 &&
            strcmp(keys[i].key, key) == 0)
            return &keys[i];
    return NULL;
}

static int known_section(const char *section)
{
    size_t i;
    for (i = 0; i < N_KEYS; i++)
        if (strcmp(keys[i].section, section) == 0)
            return 1;
    return 0;
}

static askdocs_rc set_value(askdocs_config *c, const conf_key *k,
                            const char *value, char *err, size_t errlen)
{
    char *base = (char *)c;
    char *end = NULL;
    switch (k->type) {
    case K_INT: {
        long v;
        errno = 0;
        v = strtol(value, &end, 10);
        while (end && isspace((unsigned char)*end))
            end++;
        if (errno || end == value || *end != '\0' || v < (long)k->min ||
            v > (long)k->max) {
            askdocs_snprintf(err, errlen,
                             "bad value '%s' for %s.%s: need an integer "
                             "from %.0f to %.0f",
                             value, k->section, k->key, k->min, k->max);
            return ASKDOCS_ERR_CONFIG;
        }
        *(int *)(base + k->offset) = (int)v;
        return ASKDOCS_OK;
    }
    case K_DOUBLE: {
        double v;
        errno = 0;
        v = strtod(value, &end);
        while (end && isspace((unsigned char)*end))
            end++;
        if (errno || end == value || *end != '\0' || !isfinite(v) ||
            v < k->min || v > k->max) {
            askdocs_snprintf(err, errlen,
                             "bad value '%s' for %s.%s: need a number from "
                             "%g to %g",
                             value, k->section, k->key, k->min, k->max);
            return ASKDOCS_ERR_CONFIG;
        }
        *(double *)(base + k->offset) = v;
        return ASKDOCS_OK;
    }
    case K_ENUM: {
        const char *p = k->choices;
        size_t vl = strlen(value);
        int ok = 0;
        while (*p) {
            const char *bar = strchr(p, '|');
            size_t l = bar ? (size_t)(bar - p) : strlen(p);
            if (l == vl && strncmp(p, value, l) == 0)
                ok = 1;
            p += l + (bar ? 1 : 0);
        }
        if (!ok) {
            askdocs_snprintf(err, errlen,
                             "bad value '%s' for %s.%s: choose one of %s",
                             value, k->section, k->key, k->choices);
            return ASKDOCS_ERR_CONFIG;
        }
    }
        /* fall through */
    case K_STRING: {
        char **slot = (char **)(base + k->offset);
        char *copy;
        if (strlen(value) > 4096) {
            askdocs_snprintf(err, errlen, "value for %s.%s is too long",
                             k->section, k->key);
            return ASKDOCS_ERR_CONFIG;
        }
        copy = askdocs_strdup(value);
        if (!copy)
            return ASKDOCS_ERR_NOMEM;
        askdocs_free(*slot);
        *slot = copy;
        return ASKDOCS_OK;
    }
    }
    return ASKDOCS_ERR_CONFIG;
}

askdocs_rc askdocs_config_set(askdocs_config *c, const char *section,
                              const char *key, const char *value, char *err,
                              size_t errlen)
{
    const conf_key *k;
    size_t vl;
    if (!known_section(section)) {
        askdocs_snprintf(err, errlen, "unknown section [%s]", section);
        return ASKDOCS_ERR_CONFIG;
    }
    k = find_key(section, key);
    if (!k) {
        askdocs_snprintf(err, errlen, "unknown key '%s' in [%s]", key,
                         section);
        return ASKDOCS_ERR_CONFIG;
    }
    /* "quoted" string values keep their surrounding blanks */
    vl = strlen(value);
    if ((k->type == K_STRING || k->type == K_ENUM) && vl >= 2 &&
        value[0] == '"' && value[vl - 1] == '"') {
        char *unq = askdocs_strndup(value + 1, vl - 2);
        askdocs_rc rc;
        if (!unq)
            return ASKDOCS_ERR_NOMEM;
        rc = set_value(c, k, unq, err, errlen);
        askdocs_free(unq);
        return rc;
    }
    return set_value(c, k, value, err, errlen);
}

askdocs_rc askdocs_config_defaults(askdocs_config *c)
{
    size_t i;
    char err[256];
    memset(c, 0, sizeof(*c));
    for (i = 0; i < N_KEYS; i++) {
        askdocs_rc rc = set_value(c, &keys[i], keys[i].def, err, sizeof(err));
        if (rc != ASKDOCS_OK) {
            askdocs_config_free(c);
            return rc;
        }
    }
    return ASKDOCS_OK;
}

void askdocs_config_free(askdocs_config *c)
{
    size_t i;
    if (!c)
        return;
    for (i = 0; i < N_KEYS; i++) {
        if (keys[i].type == K_STRING || keys[i].type == K_ENUM) {
            char **slot = (char **)((char *)c + keys[i].offset);
            askdocs_free(*slot);
            *slot = NULL;
        }
    }
}

typedef struct ini_state {
    askdocs_config *c;
    askdocs_rc rc;
    char msg[256];
} ini_state;

static int conf_ini_line(void *user, const char *section, const char *name,
                       const char *value)
{
    ini_state *st = user;
    char err[256];
    askdocs_rc rc;
    if (!name) /* section start (INI_CALL_HANDLER_ON_NEW_SECTION) */
        return 1;
    rc = askdocs_config_set(st->c, section, name, value, err, sizeof(err));
    if (rc != ASKDOCS_OK) {
        if (st->rc == ASKDOCS_OK) {
            st->rc = rc;
            askdocs_snprintf(st->msg, sizeof(st->msg), "%s", err);
        }
        return 0;
    }
    return 1;
}

askdocs_rc askdocs_config_load_file(askdocs_config *c, const char *path,
                                    char *err, size_t errlen)
{
    ini_state st;
    FILE *f;
    int line;
    st.c = c;
    st.rc = ASKDOCS_OK;
    st.msg[0] = '\0';
    f = fopen(path, "r");
    if (!f) {
        askdocs_snprintf(err, errlen, "%s: cannot open: %s", path,
                         strerror(errno));
        return ASKDOCS_ERR_CONFIG;
    }
    line = ini_parse_file(f, conf_ini_line, &st);
    fclose(f);
    if (line != 0) {
        if (st.rc == ASKDOCS_OK)
            askdocs_snprintf(err, errlen,
                             "%s:%d: syntax error (expected [section] or "
                             "key = value)",
                             path, line);
        else
            askdocs_snprintf(err, errlen, "%s:%d: %s", path, line, st.msg);
        return st.rc == ASKDOCS_OK ? ASKDOCS_ERR_CONFIG : st.rc;
    }
    return ASKDOCS_OK;
}

askdocs_rc askdocs_config_apply_env(askdocs_config *c, char *err,
                                    size_t errlen)
{
    size_t i;
    for (i = 0; i < N_KEYS; i++) {
        char name[96];
        const char *v;
        size_t j;
        askdocs_snprintf(name, sizeof(name), "ASKDOCS_%s_%s", keys[i].section,
                         keys[i].key);
        for (j = 0; name[j]; j++)
            name[j] = (char)toupper((unsigned char)name[j]);
        v = getenv(name);
        if (v) {
            char e2[256];
            askdocs_rc rc = set_value(c, &keys[i], v, e2, sizeof(e2));
            if (rc != ASKDOCS_OK) {
                askdocs_snprintf(err, errlen, "environment %s: %s", name, e2);
                return rc;
            }
        }
    }
    return ASKDOCS_OK;
}

void askdocs_config_write(const askdocs_config *c, FILE *f)
{
    size_t i;
    const char *sec = "";
    const char *base = (const char *)c;
    for (i = 0; i < N_KEYS; i++) {
        const conf_key *k = &keys[i];
        if (strcmp(sec, k->section) != 0) {
            fprintf(f, "%s[%s]\n", i ? "\n" : "", k->section);
            sec = k->section;
        }
        fprintf(f, "; %s\n", k->help);
        switch (k->type) {
        case K_INT:
            fprintf(f, "%s = %d\n", k->key, *(const int *)(base + k->offset));
            break;
        case K_DOUBLE:
            fprintf(f, "%s = %g\n", k->key,
                    *(const double *)(base + k->offset));
            break;
        default: {
            const char *s = *(char *const *)(base + k->offset);
            size_t l = s ? strlen(s) : 0;
            /* inih strips surrounding blanks: quote values that need them */
            if (l && (s[l - 1] == ' ' || s[0] == ' '))
                fprintf(f, "%s = \"%s\"\n", k->key, s);
            else
                fprintf(f, "%s = %s\n", k->key, s ? s : "");
        }
        }
    }
}

char *askdocs_cache_dir(void)
{
    const char *v = getenv("ASKDOCS_CACHE");
    const char *home;
    if (v && *v)
        return askdocs_strdup(v);
    home = getenv("HOME");
    if (!home || !*home)
        home = "/root";
    return askdocs_path_join(home, ".cache/askdocs");
}

char *askdocs_resolve_model(const char *configured, const char *default_file)
{
    char *cache, *models, *p;
    if (configured && *configured)
        return askdocs_strdup(configured);
    cache = askdocs_cache_dir();
    if (!cache)
        return NULL;
    models = askdocs_path_join(cache, "models");
    askdocs_free(cache);
    if (!models)
        return NULL;
    p = askdocs_path_join(models, default_file);
    askdocs_free(models);
    return p;
}

char *askdocs_resolve_dict(const char *configured)
{
    char *cache, *p;
    if (configured && *configured)
        return askdocs_strdup(configured);
    cache = askdocs_cache_dir();
    if (!cache)
        return NULL;
    p = askdocs_path_join(cache, "dict/mecab-ko-dic");
    askdocs_free(cache);
    return p;
}
