/*
 * askdocs_common.h - shared utilities of every askdocs module: the one
 * error enum, capped growable buffers, hashing, small UTF-8 and file helpers,
 * logging and the allocation wrappers.
 *
 * Conventions used across askdocs (see README "Design"):
 *   - public functions are askdocs_*, module internals idx_/ret_/gen_/conf_,
 *     everything else is static;
 *   - functions that can fail return askdocs_rc; ASKDOCS_OK is 0;
 *   - "caller frees with X" in a prototype's comment states ownership;
 *     a borrowed pointer is valid for as long as the comment says.
 */
#ifndef ASKDOCS_COMMON_H
#define ASKDOCS_COMMON_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* One error enum for the whole program. Append only: never renumber. */
typedef enum askdocs_rc {
    ASKDOCS_OK = 0,
    ASKDOCS_ERR_NOMEM = 1,     /* an allocation failed */
    ASKDOCS_ERR_IO = 2,        /* reading or writing a file failed */
    ASKDOCS_ERR_INVALID = 3,   /* bad argument or bad input data */
    ASKDOCS_ERR_TOOBIG = 4,    /* a hard size cap was reached */
    ASKDOCS_ERR_DB = 5,        /* SQLite reported an error */
    ASKDOCS_ERR_SCHEMA = 6,    /* index written by another schema version */
    ASKDOCS_ERR_MODEL = 7,     /* loading or running a model failed */
    ASKDOCS_ERR_VECTOR = 8,    /* the FAISS index reported an error */
    ASKDOCS_ERR_CONFIG = 9,    /* bad configuration */
    ASKDOCS_ERR_NOTFOUND = 10, /* a file, key or record does not exist */
    ASKDOCS_ERR_UNSUPPORTED = 11, /* format or feature not supported */
    ASKDOCS_ERR_CORRUPT = 12,  /* stored data is inconsistent */
    ASKDOCS_ERR_ABORTED = 13,  /* stopped on request (callback said so) */
    ASKDOCS_ERR_NETWORK = 14,  /* a remote server could not be used */
    ASKDOCS_ERR_ENCRYPTED = 15, /* a document is password-protected */
    ASKDOCS_ERR_BUSY = 16,     /* too many requests wait already */
    ASKDOCS_RC_COUNT_          /* keep last */
} askdocs_rc;

/* Static English text for an rc; never NULL. */
const char *askdocs_strerror(askdocs_rc rc);

/* ---------------------------------------------------------------- memory */
/* All heap use of askdocs goes through these so tests can fail the Nth
 * allocation (askdocs_alloc_fail_after). They never abort: they return NULL. */
void *askdocs_malloc(size_t n);
void *askdocs_calloc(size_t n, size_t size);
void *askdocs_realloc(void *p, size_t n);
void askdocs_free(void *p);
/* Duplicate a string (caller frees with askdocs_free); NULL on NULL or OOM. */
char *askdocs_strdup(const char *s);
char *askdocs_strndup(const char *s, size_t n);
/* Test hook: make the allocation after n more succeed fail (n<0: never). */
void askdocs_alloc_fail_after(long n);

/* ------------------------------------------------------------- buffers */
/* A growable byte buffer with a hard cap (like curl's dynbuf). The content
 * is always NUL-terminated. A failed append leaves the buffer as it was and
 * returns ASKDOCS_ERR_TOOBIG or ASKDOCS_ERR_NOMEM. */
typedef struct askdocs_buf {
    char *data;   /* owned; NULL until the first append */
    size_t len;
    size_t cap;   /* allocated bytes */
    size_t max;   /* hard cap on len */
} askdocs_buf;

void askdocs_buf_init(askdocs_buf *b, size_t max);
void askdocs_buf_free(askdocs_buf *b);    /* frees data; b can be re-inited */
void askdocs_buf_reset(askdocs_buf *b);   /* len = 0, keeps memory */
askdocs_rc askdocs_buf_append(askdocs_buf *b, const void *p, size_t n);
askdocs_rc askdocs_buf_puts(askdocs_buf *b, const char *s);
askdocs_rc askdocs_buf_printf(askdocs_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
askdocs_rc askdocs_buf_vprintf(askdocs_buf *b, const char *fmt, va_list ap);
/* Hand the data to the caller (caller frees with askdocs_free) and reset b.
 * Returns an empty string, not NULL, for an empty buffer (NULL on OOM). */
char *askdocs_buf_take(askdocs_buf *b);

/* ------------------------------------------------------------- hashing */
/* SHA-256 of data as 64 lowercase hex chars + NUL into hex[65]. */
void askdocs_sha256_hex(const void *data, size_t n, char hex[65]);
/* 64-bit FNV-1a (stable across runs, used for cheap fingerprints). */
uint64_t askdocs_fnv1a64(const void *data, size_t n);

/* ---------------------------------------------------------------- UTF-8 */
/* Length of the valid UTF-8 sequence at s (1..4), or 0 if invalid/truncated.
 * n is the number of bytes available. */
int askdocs_utf8_seqlen(const unsigned char *s, size_t n);
/* 1 if s[0..n) is valid UTF-8 without NUL bytes. */
int askdocs_utf8_valid(const char *s, size_t n);
/* Largest k <= n such that s[0..k) does not end inside a UTF-8 sequence. */
size_t askdocs_utf8_floor(const char *s, size_t n);
/* Copy s[0..n) replacing invalid sequences and control characters other
 * than \n and \t by U+FFFD / space; \r\n and \r become \n. Caller frees with
 * askdocs_free. NULL on OOM. *out_len gets the length if not NULL. */
char *askdocs_utf8_clean(const char *s, size_t n, size_t *out_len);
/* Decode one code point at s (n bytes available) into *cp; returns the
 * number of bytes used, or 0 if invalid. */
int askdocs_utf8_decode(const unsigned char *s, size_t n, uint32_t *cp);
/* 1 if the code point is a Hangul syllable or jamo. */
int askdocs_is_hangul(uint32_t cp);
/* 1 if the text's letters are mostly Hangul ("ko"), else 0 ("en"). */
int askdocs_text_is_korean(const char *s, size_t n);

/* ---------------------------------------------------------------- files */
/* Read a whole file of at most max bytes. Caller frees *out with
 * askdocs_free. ASKDOCS_ERR_TOOBIG when larger; the file is NUL-terminated in
 * memory. err (may be NULL) gets a message of errlen bytes at most. */
askdocs_rc askdocs_read_file(const char *path, size_t max, char **out,
                             size_t *out_len, char *err, size_t errlen);
/* mkdir -p with mode 0700 for new directories. */
askdocs_rc askdocs_mkdirs(const char *path, char *err, size_t errlen);
/* Join a and b with one '/'. Caller frees with askdocs_free. */
char *askdocs_path_join(const char *a, const char *b);

/* ---------------------------------------------------------------- misc */
/* Monotonic milliseconds. */
double askdocs_now_ms(void);
/* Safe formatted copy into a fixed buffer; always NUL-terminates. */
void askdocs_snprintf(char *dst, size_t n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Logging to stderr. Level 0 = errors only, 1 = info (default), 2 = debug. */
extern int askdocs_log_level;
void askdocs_log(int level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#define ASKDOCS_MIN(a, b) ((a) < (b) ? (a) : (b))
#define ASKDOCS_MAX(a, b) ((a) > (b) ? (a) : (b))

#ifdef __cplusplus
}
#endif
#endif /* ASKDOCS_COMMON_H */
