/*
 * idx_internal.h - interfaces between the files of the indexer module
 * (chunking, text extraction, storage). Not for other modules.
 */
#ifndef IDX_INTERNAL_H
#define IDX_INTERNAL_H

#include <stddef.h>

#include "askdocs_indexer.h"

/* ------------------------------------------------------------ blocks */
typedef enum idx_block_kind {
    IDX_BLOCK_PARA = 0,  /* body text: split into sentences; statute units
                            (제N조, ①, 1., 가.) inside it are still found */
    IDX_BLOCK_HEADING,   /* level 1..6 */
    IDX_BLOCK_LIST,      /* one list item; level = nesting (0 = top) */
    IDX_BLOCK_TABLE_ROW  /* one row; never split */
} idx_block_kind;

typedef struct idx_block {
    size_t start, end; /* bytes of the block's text (no trailing newline) */
    int kind;          /* idx_block_kind */
    int level;
    int header;        /* TABLE_ROW: block index of its table's header row
                          (== own index for the header row), -1 = none */
    int table;         /* TABLE_ROW: table number within the document */
} idx_block;

/* ------------------------------------------------------------ chunk.c */
typedef struct idx_chunk {
    size_t byte_start, byte_end; /* verbatim slice of the document text */
    int char_start, char_end;    /* the same in code points */
    int page_start, page_end;    /* 1-based, 0 = not paged */
    char *heading;               /* owned: "Title > Section > Article" */
    int n_words, n_tokens;
    /* a table's header row repeated before a slice that continues the
     * table: [prefix_start, prefix_end) of the text, empty = none */
    size_t prefix_start, prefix_end;
} idx_chunk;

typedef struct idx_chunk_list {
    idx_chunk *v;
    int n, cap;
} idx_chunk_list;

/* Token count of s[0..n) (e.g. the embedding model's tokenizer). */
typedef int (*idx_token_count_fn)(void *user, const char *s, size_t n);

typedef struct idx_chunk_params {
    int target_tokens;         /* chunk size target; 0 = 300 */
    int overlap_tokens;        /* tokens of whole units repeated */
    int max_chunks;            /* hard cap per document */
    int markdown;              /* 1 = ATX headings, code fences */
    int pack_sections;         /* 1 = short sibling sections share a chunk */
    const char *title;         /* first element of every heading path */
    const size_t *page_starts; /* byte offset of each page, or NULL */
    int n_pages;
    const idx_block *blocks;   /* the extractor's blocks, or NULL (lines) */
    int n_blocks;
    idx_token_count_fn count_tokens; /* NULL = estimate from the text */
    void *count_user;
} idx_chunk_params;

idx_chunk_params idx_chunk_default_params(void);
/* Chunk s[0..n) (valid UTF-8). out is filled (caller frees with
 * idx_chunk_list_free, also after an error). */
askdocs_rc idx_chunk_text(const char *s, size_t n, const idx_chunk_params *p,
                          idx_chunk_list *out);
/* The estimate used without a tokenizer: about one token per short Latin
 * word, more for long words, numbers and Hangul. */
int idx_estimate_tokens(const char *s, size_t n);
void idx_chunk_list_free(idx_chunk_list *l);

/* ------------------------------------------------- docbuf.c: building
 * Every extractor writes its document through an idx_docbuf: a capped text
 * buffer plus a list of blocks (heading, paragraph, list item, table row)
 * and page starts. The text is what gets stored and cited: each block's
 * text followed by "\n" (paragraphs and headings by a blank line too), table
 * cells joined by " | ". The chunker uses the blocks to split along the
 * document's structure instead of guessing from lines. */
typedef struct idx_docbuf {
    askdocs_buf text;
    idx_block *blocks;
    int n_blocks, cap_blocks, max_blocks;
    size_t *page_starts;
    int n_pages, cap_pages, max_pages;
    int table, table_header, in_table; /* current table state */
    askdocs_rc rc;                       /* sticky: first error */
} idx_docbuf;

/* max_bytes caps the text (ASKDOCS_ERR_TOOBIG beyond it), max_pages the
 * pages. */
void idx_docbuf_init(idx_docbuf *b, size_t max_bytes, int max_pages);
void idx_docbuf_free(idx_docbuf *b);
/* Append one block of s[0..n) (any UTF-8; invalid bytes and control
 * characters are replaced, runs of whitespace incl. newlines become one
 * space, ends are trimmed; an empty block is dropped). Ends a table that is
 * open. Returns the sticky rc. */
askdocs_rc idx_docbuf_block(idx_docbuf *b, idx_block_kind kind, int level,
                            const char *s, size_t n);
/* Append one table row of n cells (each cleaned as above, joined by
 * " | "). The first row of a table is its header when is_header is set
 * (typically the first row); later rows point to it. A row whose cells
 * are all empty is dropped. */
askdocs_rc idx_docbuf_row(idx_docbuf *b, const char *const *cells,
                          const size_t *lens, int n, int is_header);
void idx_docbuf_table_end(idx_docbuf *b);
/* Start a new page at the current end of the text: call it before the
 * first block of every page (page numbers are 1-based in order of calls). */
askdocs_rc idx_docbuf_page(idx_docbuf *b);
/* Bytes of text so far. */
size_t idx_docbuf_len(const idx_docbuf *b);

/* ------------------------------------------------ extract*.c: formats */
typedef struct idx_extract_limits {
    size_t max_text_bytes;   /* extracted text per document */
    size_t max_expand_bytes; /* decompressed bytes read from zip / zlib
                                streams per document (zip-bomb guard) */
    int max_pages;           /* pages per document */
    int ocr;                 /* 1 = OCR PDF pages without a text layer */
    const char *ocr_langs;   /* Tesseract languages, e.g. "kor+eng" */
    const char *ocr_datadir; /* tessdata dir; NULL = Tesseract's default */
    int ocr_dpi;             /* render resolution for OCR */
} idx_extract_limits;

idx_extract_limits idx_extract_default_limits(void);

/* What an extractor gets and fills. data[0..n) is the whole file. */
typedef struct idx_extract_ctx {
    const char *path;
    const char *data;
    size_t n;
    idx_extract_limits lim;
    idx_docbuf *out;       /* blocks and pages go here */
    char *title;           /* owned (askdocs_malloc): set when the file
                              carries one; NULL = first heading / file name */
    const char *type;      /* static, set by the dispatcher: "pdf", ... */
    size_t expanded;       /* decompressed bytes so far (for the limit) */
    int n_textless_pages;  /* PDF pages without text (after OCR if on) */
    int n_ocr_pages;       /* pages whose text came from OCR */
    char warning[256];     /* non-fatal note for the user, "" = none */
    char err[256];         /* on failure: what is wrong with the file */
} idx_extract_ctx;

/* Each returns ASKDOCS_OK, or an error with cx->err set:
 * ASKDOCS_ERR_CORRUPT (malformed/truncated), ASKDOCS_ERR_ENCRYPTED,
 * ASKDOCS_ERR_TOOBIG (a limit), ASKDOCS_ERR_UNSUPPORTED (e.g. a variant of
 * the format that is not handled), ASKDOCS_ERR_NOMEM. */
askdocs_rc idx_extract_pdf(idx_extract_ctx *cx);   /* extract_pdf.c */
askdocs_rc idx_extract_docx(idx_extract_ctx *cx);  /* extract_office.c */
askdocs_rc idx_extract_xlsx(idx_extract_ctx *cx);
askdocs_rc idx_extract_csv(idx_extract_ctx *cx);
askdocs_rc idx_extract_html(idx_extract_ctx *cx);
askdocs_rc idx_extract_hwpx(idx_extract_ctx *cx);  /* extract_hwp.c */
askdocs_rc idx_extract_hwp(idx_extract_ctx *cx);

/* zipxml.c: reading zip members (DOCX, XLSX, HWPX) and parsing XML with
 * the limits and safe options every extractor needs. */
struct zip;
struct _xmlDoc;
/* Open the zip in cx->data. ASKDOCS_ERR_CORRUPT if it is not one. */
askdocs_rc idx_zip_open(idx_extract_ctx *cx, struct zip **out);
/* Read member name (exact) into *out (NUL-terminated, askdocs_free),
 * counting its size against cx->lim.max_expand_bytes. ASKDOCS_ERR_NOTFOUND
 * when absent (cx->err not set), TOOBIG past the limit, CORRUPT when the
 * member cannot be inflated, ENCRYPTED for encrypted members. */
askdocs_rc idx_zip_read(idx_extract_ctx *cx, struct zip *z, const char *name,
                        char **out, size_t *len);
void idx_zip_close(struct zip *z);
/* Parse XML with no network, no DTD loading and no entity expansion
 * beyond libxml2's own limits. NULL with cx->err set on failure; the
 * caller frees with xmlFreeDoc. */
struct _xmlDoc *idx_xml_parse(idx_extract_ctx *cx, const char *buf,
                              size_t len, const char *what);

/* ---------------------------------------------------------- extract.c */
typedef struct idx_document {
    char *text;        /* owned, valid UTF-8, NUL-terminated */
    size_t len;
    char *title;       /* owned */
    const char *type;  /* static: "text", "markdown", "pdf", "docx", ... */
    int markdown;
    char lang[3];      /* "ko" or "en" */
    size_t *page_starts; /* owned, NULL when not paged */
    int n_pages;
    idx_block *blocks; /* owned, NULL for plain text and Markdown */
    int n_blocks;
    char *dates;       /* owned: dates found in the text, ISO "YYYY-MM-DD"
                          comma-separated, first 16 distinct; "" = none */
    int n_textless_pages, n_ocr_pages;
    char warning[256];
} idx_document;

/* Extract the text of the file data[0..n) named path, choosing the format
 * by extension and content. err gets a message for the user on failure.
 * doc is filled on success (free with idx_document_free). */
askdocs_rc idx_extract(const char *path, const char *data, size_t n,
                       const idx_extract_limits *lim, idx_document *doc,
                       char *err, size_t errlen);
void idx_document_free(idx_document *doc);

/* meta.c: dates written in s[0..n) ("2024-03-01", "2024. 3. 1.",
 * "2024년 3월 1일", "March 1, 2024", "1 March 2024"), as distinct ISO
 * dates in order of appearance, comma-separated, at most max. Caller frees;
 * NULL on OOM. */
char *idx_find_dates(const char *s, size_t n, int max);
/* Convert in[0..n) from encoding from (an iconv name: "CP949",
 * "UTF-16LE", ...) to UTF-8 into *out (NUL-terminated; caller frees with
 * askdocs_free). UTF-8 needs at most twice the bytes of the encodings we
 * convert from. ASKDOCS_ERR_INVALID when the input is not in that
 * encoding, ASKDOCS_ERR_UNSUPPORTED when iconv does not know it. */
askdocs_rc idx_to_utf8(const char *from, const char *in, size_t n,
                       char **out, size_t *out_len);
/* 1 if path's extension is in the comma-separated list exts. */
int idx_extension_allowed(const char *path, const char *exts);

/* --------------------------------------------- tokenize.c: BM25 analysis
 * The analyser behind the FTS5 tokenizer "askdocs" and behind the query
 * builder, so documents and queries are analysed alike. Korean: MeCab with
 * mecab-ko-dic (content morphemes kept, particles and endings dropped,
 * compound nouns indexed whole and by parts); without a dictionary, Hangul
 * runs become character bigrams. Latin: NFKC, case folding, English
 * (Snowball) stemming. Numbers: "1,234,000" = "1234000"; "제12조" = "12조" =
 * "제 12 조". Thread-safe: one analyser may serve many connections. */
typedef struct idx_analyzer idx_analyzer;
struct sqlite3;

/* dicdir: a compiled mecab-ko-dic directory (with dicrc, sys.dic); NULL or
 * "" = none (bigram mode). An unusable dicdir is an error with err set.
 * Free with idx_analyzer_free. */
askdocs_rc idx_analyzer_create(const char *dicdir, idx_analyzer **out,
                               char *err, size_t errlen);
void idx_analyzer_free(idx_analyzer *a); /* NULL is harmless */
/* "mecab-ko-dic" or "bigram" (static): recorded in the index's meta. */
const char *idx_analyzer_name(const idx_analyzer *a);
/* Register the FTS5 tokenizer "askdocs" on db; a is borrowed and must
 * outlive db. */
askdocs_rc idx_analyzer_register(idx_analyzer *a, struct sqlite3 *db);
/* rank.c: registers the FTS5 function askdocs_bm25(tbl, K, w0, w1, ...):
 * bm25()'s value for every row that can be among the K best, a value that
 * sorts after them for the others. */
typedef struct idx_rank_params {
    double k1, b; /* BM25's term-frequency saturation and length weight */
} idx_rank_params;
/* FTS5's API object of db (borrowed from SQLite); ERR_UNSUPPORTED when
 * SQLite was built without FTS5. */
struct fts5_api;
askdocs_rc idx_fts5_api(struct sqlite3 *db, struct fts5_api **out);
/* rp is borrowed and must outlive db. */
askdocs_rc idx_rank_register(struct sqlite3 *db, const idx_rank_params *rp);
/* The MaxScore form of an OR match string (see rank.c). plan_create
 * looks up how many rows hold each term; *out stays NULL when the query
 * has no common term (or is not a plain OR of terms). plan_expr writes
 * "(E...) AND (E... OR C...)" into expr, C = the commonest terms whose
 * bound stays below theta (HUGE_VAL: all common terms), *n_essential =
 * the number of E parts (askdocs_bm25's SKIP), *common_bound = the score
 * a row with only C terms stays below; expr stays empty when C is. */
typedef struct idx_bm25_plan idx_bm25_plan;
/* Document frequencies of common terms, valid while the database does not
 * change; created by the first plan (*cache NULL), freed by its owner. */
typedef struct idx_df_cache idx_df_cache;
void idx_df_cache_free(idx_df_cache *c);
askdocs_rc idx_bm25_plan_create(struct sqlite3 *db, const char *match,
                                idx_df_cache **cache, idx_bm25_plan **out);
/* Append ", df0, df1, ..." (one per part of the match string, the extra
 * arguments of askdocs_bm25 with SKIP 0 or that of plan_expr) to out;
 * returns 0 and appends nothing useful when some part is a phrase. */
int idx_bm25_plan_dfs(const idx_bm25_plan *pl, askdocs_buf *out);
askdocs_rc idx_bm25_plan_expr(const idx_bm25_plan *pl, double theta,
                              double k1, askdocs_buf *expr, int *n_essential,
                              double *common_bound);
void idx_bm25_plan_free(idx_bm25_plan *pl);
/* Append to out a safe FTS5 MATCH expression for the user query q[0..n)
 * (any bytes): its analysed terms, each quoted, OR'ed, at most 64 terms.
 * Empty output when the query has no terms. */
askdocs_rc idx_analyzer_match(idx_analyzer *a, const char *q, size_t n,
                              askdocs_buf *out);
/* Call cb for every term of s[0..n) as the index would store it (for
 * tests and --explain). query=1 analyses as a query. */
askdocs_rc idx_analyzer_terms(idx_analyzer *a, const char *s, size_t n,
                              int query,
                              int (*cb)(void *user, const char *term,
                                        size_t len, size_t start, size_t end),
                              void *user);

/* Fold the British and American spellings of t[0..n) (lower-case a-z) to
 * one form in place: -ize -> -ise, -our -> -or, -tre -> -ter, licence ->
 * license ... (see tokenize.c); returns the new length (never longer). */
size_t idx_spelling_fold(char *t, size_t n);

/* Version of the analysis the FTS5 index was tokenized with; an index of
 * an older version is re-tokenized when a writer opens it. 2 = British /
 * American spelling folded. */
#define IDX_ANALYZER_VERSION 2

#endif /* IDX_INTERNAL_H */
