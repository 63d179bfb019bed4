/*
 * common.c - error strings, allocation wrappers, capped buffers, hashing,
 * UTF-8, file and logging helpers shared by every askdocs module.
 */
#include "askdocs_common.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <mbedtls/sha256.h>
#include <mbedtls/version.h>

static const char *const rc_text[ASKDOCS_RC_COUNT_] = {
    [ASKDOCS_OK] = "ok",
    [ASKDOCS_ERR_NOMEM] = "out of memory",
    [ASKDOCS_ERR_IO] = "input/output error",
    [ASKDOCS_ERR_INVALID] = "invalid argument or input",
    [ASKDOCS_ERR_TOOBIG] = "size limit exceeded",
    [ASKDOCS_ERR_DB] = "database error",
    [ASKDOCS_ERR_SCHEMA] = "index schema version mismatch",
    [ASKDOCS_ERR_MODEL] = "model error",
    [ASKDOCS_ERR_VECTOR] = "vector index error",
    [ASKDOCS_ERR_CONFIG] = "configuration error",
    [ASKDOCS_ERR_NOTFOUND] = "not found",
    [ASKDOCS_ERR_UNSUPPORTED] = "unsupported",
    [ASKDOCS_ERR_CORRUPT] = "data is corrupt or inconsistent",
    [ASKDOCS_ERR_ABORTED] = "aborted",
    [ASKDOCS_ERR_NETWORK] = "network error",
    [ASKDOCS_ERR_ENCRYPTED] = "encrypted document",
    [ASKDOCS_ERR_BUSY] = "busy: too many requests waiting",
};

const char *askdocs_strerror(askdocs_rc rc)
{
    if ((int)rc < 0 || rc >= ASKDOCS_RC_COUNT_ || !rc_text[rc])
        return "unknown error";
    return rc_text[rc];
}

/* ---------------------------------------------------------------- memory */
/* atomic: a search allocates on two threads at once (retriever.c) */
static atomic_long alloc_fail_countdown = -1;

void askdocs_alloc_fail_after(long n) { atomic_store(&alloc_fail_countdown, n); }

static int alloc_should_fail(void)
{
    long c = atomic_load(&alloc_fail_countdown);
    while (c > 0) {
        if (atomic_compare_exchange_weak(&alloc_fail_countdown, &c, c - 1))
            return 0;
    }
    return c == 0;
}

void *askdocs_malloc(size_t n)
{
    if (alloc_should_fail())
        return NULL;
    return malloc(n ? n : 1);
}

void *askdocs_calloc(size_t n, size_t size)
{
    if (alloc_should_fail())
        return NULL;
    if (n == 0 || size == 0)
        return calloc(1, 1);
    return calloc(n, size);
}

void *askdocs_realloc(void *p, size_t n)
{
    if (alloc_should_fail())
        return NULL;
    return realloc(p, n ? n : 1);
}

void askdocs_free(void *p) { free(p); }

char *askdocs_strndup(const char *s, size_t n)
{
    char *d;
    if (!s)
        return NULL;
    d = askdocs_malloc(n + 1);
    if (!d)
        return NULL;
    memcpy(d, s, n);
    d[n] = '\0';
    return d;
}

char *askdocs_strdup(const char *s)
{
    return s ? askdocs_strndup(s, strlen(s)) : NULL;
}

/* ------------------------------------------------------------- buffers */
void askdocs_buf_init(askdocs_buf *b, size_t max)
{
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
    b->max = max;
}

void askdocs_buf_free(askdocs_buf *b)
{
    askdocs_free(b->data);
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
}

void askdocs_buf_reset(askdocs_buf *b)
{
    b->len = 0;
    if (b->data)
        b->data[0] = '\0';
}

static askdocs_rc buf_reserve(askdocs_buf *b, size_t extra)
{
    size_t need, ncap;
    char *p;
    if (extra > b->max || b->len > b->max - extra)
        return ASKDOCS_ERR_TOOBIG;
    need = b->len + extra + 1;
    if (need <= b->cap)
        return ASKDOCS_OK;
    ncap = b->cap ? b->cap : 64;
    while (ncap < need)
        ncap = ncap > SIZE_MAX / 2 ? need : ncap * 2;
    if (ncap > b->max + 1)
        ncap = b->max + 1;
    p = askdocs_realloc(b->data, ncap);
    if (!p)
        return ASKDOCS_ERR_NOMEM;
    b->data = p;
    b->cap = ncap;
    return ASKDOCS_OK;
}

askdocs_rc askdocs_buf_append(askdocs_buf *b, const void *p, size_t n)
{
    askdocs_rc rc = buf_reserve(b, n);
    if (rc != ASKDOCS_OK)
        return rc;
    if (n)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
    return ASKDOCS_OK;
}

askdocs_rc askdocs_buf_puts(askdocs_buf *b, const char *s)
{
    return askdocs_buf_append(b, s, strlen(s));
}

askdocs_rc askdocs_buf_vprintf(askdocs_buf *b, const char *fmt, va_list ap)
{
    va_list ap2;
    int n;
    askdocs_rc rc;
    va_copy(ap2, ap);
    n = vsnprintf(NULL, 0, fmt, ap2);
    va_end(ap2);
    if (n < 0)
        return ASKDOCS_ERR_INVALID;
    rc = buf_reserve(b, (size_t)n);
    if (rc != ASKDOCS_OK)
        return rc;
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    b->len += (size_t)n;
    return ASKDOCS_OK;
}

askdocs_rc askdocs_buf_printf(askdocs_buf *b, const char *fmt, ...)
{
    va_list ap;
    askdocs_rc rc;
    va_start(ap, fmt);
    rc = askdocs_buf_vprintf(b, fmt, ap);
    va_end(ap);
    return rc;
}

char *askdocs_buf_take(askdocs_buf *b)
{
    char *p = b->data;
    if (!p) {
        p = askdocs_malloc(1);
        if (p)
            p[0] = '\0';
    }
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
    return p;
}

/* ------------------------------------------------------------- hashing */
void askdocs_sha256_hex(const void *data, size_t n, char hex[65])
{
    unsigned char d[32];
    static const char digits[] = "0123456789abcdef";
    int i;
#if MBEDTLS_VERSION_NUMBER >= 0x03000000
    mbedtls_sha256(data, n, d, 0);
#else
    mbedtls_sha256_ret(data, n, d, 0);
#endif
    for (i = 0; i < 32; i++) {
        hex[2 * i] = digits[d[i] >> 4];
        hex[2 * i + 1] = digits[d[i] & 15];
    }
    hex[64] = '\0';
}

uint64_t askdocs_fnv1a64(const void *data, size_t n)
{
    const unsigned char *p = data;
    uint64_t h = 1469598103934665603ULL;
    size_t i;
    for (i = 0; i < n; i++) {
        h ^= p[i];
        h *= 1099511628211ULL;
    }
    return h;
}

/* ---------------------------------------------------------------- UTF-8 */
int askdocs_utf8_decode(const unsigned char *s, size_t n, uint32_t *cp)
{
    uint32_t c;
    int len, i;
    if (n == 0)
        return 0;
    c = s[0];
    if (c < 0x80) {
        *cp = c;
        return 1;
    } else if ((c & 0xE0) == 0xC0) {
        len = 2;
        c &= 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
        len = 3;
        c &= 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
        len = 4;
        c &= 0x07;
    } else {
        return 0;
    }
    if ((size_t)len > n)
        return 0;
    for (i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        c = (c << 6) | (s[i] & 0x3F);
    }
    /* reject overlongs, surrogates, out of range */
    if ((len == 2 && c < 0x80) || (len == 3 && c < 0x800) ||
        (len == 4 && c < 0x10000) || c > 0x10FFFF ||
        (c >= 0xD800 && c <= 0xDFFF))
        return 0;
    *cp = c;
    return len;
}

int askdocs_utf8_seqlen(const unsigned char *s, size_t n)
{
    uint32_t cp;
    return askdocs_utf8_decode(s, n, &cp);
}

int askdocs_utf8_valid(const char *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        int l;
        if (s[i] == '\0')
            return 0;
        l = askdocs_utf8_seqlen((const unsigned char *)s + i, n - i);
        if (l == 0)
            return 0;
        i += (size_t)l;
    }
    return 1;
}

size_t askdocs_utf8_floor(const char *s, size_t n)
{
    size_t k = n, want;
    unsigned char lead;
    /* find the lead byte of the last sequence (at most 3 continuations) */
    while (k > 0 && n - k < 3 && ((unsigned char)s[k - 1] & 0xC0) == 0x80)
        k--;
    if (k == 0)
        return 0;
    lead = (unsigned char)s[k - 1];
    if (lead < 0x80)
        return n;
    want = (lead & 0xE0) == 0xC0 ? 2 : (lead & 0xF0) == 0xE0 ? 3
         : (lead & 0xF8) == 0xF0 ? 4 : 1;
    return n - (k - 1) >= want ? n : k - 1;
}

char *askdocs_utf8_clean(const char *s, size_t n, size_t *out_len)
{
    askdocs_buf b;
    size_t i = 0;
    askdocs_buf_init(&b, n * 3 + 16);
    if (askdocs_buf_append(&b, "", 0) != ASKDOCS_OK)
        return NULL;
    /* skip a UTF-8 byte order mark */
    if (n >= 3 && (unsigned char)s[0] == 0xEF && (unsigned char)s[1] == 0xBB &&
        (unsigned char)s[2] == 0xBF)
        i = 3;
    while (i < n) {
        unsigned char c = (unsigned char)s[i];
        int l;
        askdocs_rc rc;
        if (c == '\r') {
            rc = askdocs_buf_append(&b, "\n", 1);
            i += (i + 1 < n && s[i + 1] == '\n') ? 2 : 1;
        } else if (c < 0x20 && c != '\n' && c != '\t') {
            rc = askdocs_buf_append(&b, c == '\f' ? "\n" : " ", 1);
            i++;
        } else if (c == 0x7F) {
            rc = askdocs_buf_append(&b, " ", 1);
            i++;
        } else {
            l = askdocs_utf8_seqlen((const unsigned char *)s + i, n - i);
            if (l == 0) {
                rc = askdocs_buf_append(&b, "\xEF\xBF\xBD", 3);
                i++;
            } else {
                rc = askdocs_buf_append(&b, s + i, (size_t)l);
                i += (size_t)l;
            }
        }
        if (rc != ASKDOCS_OK) {
            askdocs_buf_free(&b);
            return NULL;
        }
    }
    if (out_len)
        *out_len = b.len;
    return askdocs_buf_take(&b);
}

int askdocs_is_hangul(uint32_t cp)
{
    return (cp >= 0xAC00 && cp <= 0xD7A3) || (cp >= 0x1100 && cp <= 0x11FF) ||
           (cp >= 0x3130 && cp <= 0x318F) || (cp >= 0xA960 && cp <= 0xA97F) ||
           (cp >= 0xD7B0 && cp <= 0xD7FF);
}

int askdocs_text_is_korean(const char *s, size_t n)
{
    size_t i = 0, hangul = 0, latin = 0;
    while (i < n) {
        uint32_t cp;
        int l = askdocs_utf8_decode((const unsigned char *)s + i, n - i, &cp);
        if (l == 0) {
            i++;
            continue;
        }
        if (askdocs_is_hangul(cp))
            hangul++;
        else if ((cp | 0x20) >= 'a' && (cp | 0x20) <= 'z')
            latin++;
        i += (size_t)l;
    }
    /* a Hangul syllable carries about as much as 2-3 Latin letters */
    return hangul > 0 && hangul * 3 >= latin;
}

/* ---------------------------------------------------------------- files */
askdocs_rc askdocs_read_file(const char *path, size_t max, char **out,
                             size_t *out_len, char *err, size_t errlen)
{
    FILE *f = NULL;
    char *data = NULL;
    struct stat st;
    size_t n = 0, got;
    askdocs_rc rc = ASKDOCS_OK;

    *out = NULL;
    f = fopen(path, "rb");
    if (!f) {
        if (err)
            askdocs_snprintf(err, errlen, "cannot open %s: %s", path,
                             strerror(errno));
        rc = errno == ENOENT ? ASKDOCS_ERR_NOTFOUND : ASKDOCS_ERR_IO;
        goto out;
    }
    if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
        if (err)
            askdocs_snprintf(err, errlen, "%s is not a regular file", path);
        rc = ASKDOCS_ERR_IO;
        goto out;
    }
    if ((uint64_t)st.st_size > max) {
        if (err)
            askdocs_snprintf(err, errlen,
                             "%s is %lld bytes, over the limit of %zu bytes",
                             path, (long long)st.st_size, max);
        rc = ASKDOCS_ERR_TOOBIG;
        goto out;
    }
    data = askdocs_malloc((size_t)st.st_size + 1);
    if (!data) {
        rc = ASKDOCS_ERR_NOMEM;
        goto out;
    }
    while ((got = fread(data + n, 1, (size_t)st.st_size - n, f)) > 0)
        n += got;
    if (ferror(f)) {
        if (err)
            askdocs_snprintf(err, errlen, "error reading %s: %s", path,
                             strerror(errno));
        rc = ASKDOCS_ERR_IO;
        goto out;
    }
    data[n] = '\0';
    *out = data;
    data = NULL;
    if (out_len)
        *out_len = n;
out:
    askdocs_free(data);
    if (f)
        fclose(f);
    return rc;
}

askdocs_rc askdocs_mkdirs(const char *path, char *err, size_t errlen)
{
    char *p = askdocs_strdup(path);
    size_t i, n;
    askdocs_rc rc = ASKDOCS_OK;
    if (!p)
        return ASKDOCS_ERR_NOMEM;
    n = strlen(p);
    for (i = 1; i <= n; i++) {
        if (p[i] == '/' || p[i] == '\0') {
            char save = p[i];
            p[i] = '\0';
            if (mkdir(p, 0700) != 0 && errno != EEXIST) {
                if (err)
                    askdocs_snprintf(err, errlen, "cannot create %s: %s", p,
                                     strerror(errno));
                rc = ASKDOCS_ERR_IO;
                goto out;
            }
            p[i] = save;
        }
    }
out:
    askdocs_free(p);
    return rc;
}

char *askdocs_path_join(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    char *p;
    while (la > 1 && a[la - 1] == '/')
        la--;
    p = askdocs_malloc(la + lb + 2);
    if (!p)
        return NULL;
    memcpy(p, a, la);
    p[la] = '/';
    memcpy(p + la + 1, b, lb + 1);
    return p;
}

/* ---------------------------------------------------------------- misc */
double askdocs_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

void askdocs_snprintf(char *dst, size_t n, const char *fmt, ...)
{
    va_list ap;
    if (!dst || n == 0)
        return;
    va_start(ap, fmt);
    vsnprintf(dst, n, fmt, ap);
    va_end(ap);
}

int askdocs_log_level = 1;

void askdocs_log(int level, const char *fmt, ...)
{
    va_list ap;
    if (level > askdocs_log_level)
        return;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}
