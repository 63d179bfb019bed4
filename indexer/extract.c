/*
 * extract.c - text of plain-text and Markdown files: encoding detection
 * (UTF-8, UTF-16 with BOM, CP949/EUC-KR through iconv), cleanup of control
 * characters, binary-file rejection, title and language.
 */
#include "idx_internal.h"

#include <errno.h>
#include <iconv.h>
#include <string.h>
#include <strings.h>

static const char *ext_of(const char *path)
{
    const char *slash = strrchr(path, '/');
    const char *dot = strrchr(path, '.');
    if (!dot || (slash && dot < slash) || dot == path ||
        (slash && dot == slash + 1))
        return "";
    return dot;
}

int idx_extension_allowed(const char *path, const char *exts)
{
    const char *e = ext_of(path), *p = exts;
    size_t el = strlen(e);
    if (el == 0)
        return 0;
    while (p && *p) {
        const char *comma = strchr(p, ',');
        size_t l = comma ? (size_t)(comma - p) : strlen(p);
        while (l && *p == ' ') {
            p++;
            l--;
        }
        while (l && p[l - 1] == ' ')
            l--;
        if (l == el && strncasecmp(p, e, l) == 0)
            return 1;
        p = comma ? comma + 1 : NULL;
    }
    return 0;
}

/* Convert in[0..n) from encoding from to UTF-8 (caller frees *out). */
static askdocs_rc convert(const char *from, const char *in, size_t n,
                          char **out, size_t *out_len)
{
    iconv_t cd = iconv_open("UTF-8", from);
    size_t cap = n * 2 + 16, left_in = n, left_out;
    char *buf = NULL, *ip = (char *)in, *op;
    askdocs_rc rc = ASKDOCS_OK;
    if (cd == (iconv_t)-1)
        return ASKDOCS_ERR_UNSUPPORTED;
    buf = askdocs_malloc(cap + 1);
    if (!buf) {
        rc = ASKDOCS_ERR_NOMEM;
        goto out;
    }
    op = buf;
    left_out = cap;
    if (iconv(cd, &ip, &left_in, &op, &left_out) == (size_t)-1) {
        rc = ASKDOCS_ERR_INVALID;
        goto out;
    }
    *op = '\0';
    *out_len = (size_t)(op - buf);
    *out = buf;
    buf = NULL;
out:
    askdocs_free(buf);
    iconv_close(cd);
    return rc;
}

static void stem_title(const char *path, char *dst, size_t n)
{
    const char *base = strrchr(path, '/');
    const char *dot;
    size_t l, i;
    base = base ? base + 1 : path;
    dot = strrchr(base, '.');
    l = dot && dot != base ? (size_t)(dot - base) : strlen(base);
    if (l >= n)
        l = askdocs_utf8_floor(base, n - 1);
    memcpy(dst, base, l);
    dst[l] = '\0';
    for (i = 0; i < l; i++)
        if (dst[i] == '_')
            dst[i] = ' ';
}

/* Title from a leading "# " heading of a Markdown text, else the file name. */
static char *find_title(const char *path, const char *s, size_t n,
                        int markdown)
{
    char stem[256];
    if (markdown) {
        size_t i = 0;
        int lines = 0;
        while (i < n && lines < 20) {
            size_t eol = i;
            while (eol < n && s[eol] != '\n')
                eol++;
            if (eol - i > 2 && s[i] == '#' && s[i + 1] == ' ') {
                size_t a = i + 2, b = eol;
                while (a < b && s[a] == ' ')
                    a++;
                while (b > a && (s[b - 1] == ' ' || s[b - 1] == '#'))
                    b--;
                if (b > a)
                    return askdocs_strndup(
                        s + a, askdocs_utf8_floor(s + a, ASKDOCS_MIN(b - a, 200)));
            }
            i = eol + 1;
            lines++;
        }
    }
    stem_title(path, stem, sizeof(stem));
    return askdocs_strdup(stem);
}

askdocs_rc idx_extract(const char *path, const char *data, size_t n,
                       idx_document *doc, char *err, size_t errlen)
{
    char *conv = NULL;
    size_t conv_len = 0, i, nul = 0;
    const char *src = data;
    size_t src_len = n;
    const char *e = ext_of(path);
    askdocs_rc rc = ASKDOCS_OK;

    memset(doc, 0, sizeof(*doc));
    if (n >= 2 && (unsigned char)data[0] == 0xFF &&
        (unsigned char)data[1] == 0xFE) {
        rc = convert("UTF-16LE", data + 2, n - 2, &conv, &conv_len);
    } else if (n >= 2 && (unsigned char)data[0] == 0xFE &&
               (unsigned char)data[1] == 0xFF) {
        rc = convert("UTF-16BE", data + 2, n - 2, &conv, &conv_len);
    } else {
        for (i = 0; i < n; i++)
            nul += data[i] == '\0';
        if (nul > 0) {
            askdocs_snprintf(err, errlen,
                             "%s looks binary (%zu NUL bytes), not text; "
                             "skipped",
                             path, nul);
            rc = ASKDOCS_ERR_UNSUPPORTED;
            goto out;
        }
        if (!askdocs_utf8_valid(data, n)) {
            /* Korean documents still come in CP949 / EUC-KR */
            if (convert("CP949", data, n, &conv, &conv_len) != ASKDOCS_OK) {
                askdocs_free(conv);
                conv = NULL; /* keep it, replacing bad bytes */
            }
        }
    }
    if (rc != ASKDOCS_OK) {
        askdocs_snprintf(err, errlen, "%s: cannot decode UTF-16 text", path);
        goto out;
    }
    if (conv) {
        src = conv;
        src_len = conv_len;
    }
    doc->text = askdocs_utf8_clean(src, src_len, &doc->len);
    if (!doc->text) {
        rc = ASKDOCS_ERR_NOMEM;
        goto out;
    }
    doc->markdown = strcasecmp(e, ".md") == 0 ||
                    strcasecmp(e, ".markdown") == 0;
    doc->type = doc->markdown ? "markdown" : "text";
    doc->title = find_title(path, doc->text, doc->len, doc->markdown);
    if (!doc->title) {
        rc = ASKDOCS_ERR_NOMEM;
        goto out;
    }
    memcpy(doc->lang, askdocs_text_is_korean(doc->text, doc->len) ? "ko" : "en",
           3);
out:
    askdocs_free(conv);
    if (rc != ASKDOCS_OK)
        idx_document_free(doc);
    return rc;
}

void idx_document_free(idx_document *doc)
{
    if (!doc)
        return;
    askdocs_free(doc->text);
    askdocs_free(doc->title);
    askdocs_free(doc->page_starts);
    memset(doc, 0, sizeof(*doc));
}
