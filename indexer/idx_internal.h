/*
 * idx_internal.h - interfaces between the files of the indexer module
 * (chunking, text extraction, storage). Not for other modules.
 */
#ifndef IDX_INTERNAL_H
#define IDX_INTERNAL_H

#include <stddef.h>

#include "askdocs_indexer.h"

/* ------------------------------------------------------------ chunk.c */
typedef struct idx_chunk {
    size_t byte_start, byte_end; /* verbatim slice of the document text */
    int char_start, char_end;    /* the same in code points */
    int page_start, page_end;    /* 1-based, 0 = not paged */
    char *heading;               /* owned: "Title > Section > Article" */
    int n_words;
} idx_chunk;

typedef struct idx_chunk_list {
    idx_chunk *v;
    int n, cap;
} idx_chunk_list;

typedef struct idx_chunk_params {
    int target_words;          /* 0 = 200 */
    int overlap_words;         /* words of whole units repeated */
    int max_chunks;            /* hard cap per document */
    int markdown;              /* 1 = ATX headings, code fences */
    const char *title;         /* first element of every heading path */
    const size_t *page_starts; /* byte offset of each page, or NULL */
    int n_pages;
} idx_chunk_params;

idx_chunk_params idx_chunk_default_params(void);
/* Chunk s[0..n) (valid UTF-8). out is filled (caller frees with
 * idx_chunk_list_free, also after an error). */
askdocs_rc idx_chunk_text(const char *s, size_t n, const idx_chunk_params *p,
                          idx_chunk_list *out);
void idx_chunk_list_free(idx_chunk_list *l);

/* ---------------------------------------------------------- extract.c */
typedef struct idx_document {
    char *text;        /* owned, valid UTF-8, NUL-terminated */
    size_t len;
    char *title;       /* owned */
    const char *type;  /* static: "text", "markdown" */
    int markdown;
    char lang[3];      /* "ko" or "en" */
    size_t *page_starts; /* owned, NULL when not paged */
    int n_pages;
} idx_document;

/* Extract the text of the file data[0..n) named path. err gets a message
 * for the user on failure. doc is filled on success (free with
 * idx_document_free). */
askdocs_rc idx_extract(const char *path, const char *data, size_t n,
                       idx_document *doc, char *err, size_t errlen);
void idx_document_free(idx_document *doc);
/* 1 if path's extension is in the comma-separated list exts. */
int idx_extension_allowed(const char *path, const char *exts);

#endif /* IDX_INTERNAL_H */
