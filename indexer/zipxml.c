/*
 * zipxml.c - zip members and XML for the OOXML / OWPML extractors, with
 * the expansion limit (zip bombs) and safe parser options (no network, no
 * DTD loading, no external entities) applied in one place.
 */
#include "idx_internal.h"

#include <libxml/parser.h>
#include <string.h>
#include <zip.h>

askdocs_rc idx_zip_open(idx_extract_ctx *cx, struct zip **out)
{
    zip_error_t ze;
    zip_source_t *src;
    zip_t *z;
    *out = NULL;
    zip_error_init(&ze);
    src = zip_source_buffer_create(cx->data, cx->n, 0, &ze);
    if (!src) {
        askdocs_snprintf(cx->err, sizeof(cx->err), "cannot read zip: %s",
                         zip_error_strerror(&ze));
        zip_error_fini(&ze);
        return ASKDOCS_ERR_NOMEM;
    }
    z = zip_open_from_source(src, ZIP_RDONLY | ZIP_CHECKCONS, &ze);
    if (!z) {
        askdocs_snprintf(cx->err, sizeof(cx->err),
                         "not a valid zip container (%s): corrupt or "
                         "truncated file",
                         zip_error_strerror(&ze));
        zip_source_free(src);
        zip_error_fini(&ze);
        return ASKDOCS_ERR_CORRUPT;
    }
    zip_error_fini(&ze);
    *out = z;
    return ASKDOCS_OK;
}

void idx_zip_close(struct zip *z)
{
    if (z)
        zip_discard(z);
}

askdocs_rc idx_zip_read(idx_extract_ctx *cx, struct zip *z, const char *name,
                        char **out, size_t *len)
{
    zip_stat_t st;
    zip_file_t *f = NULL;
    char *buf = NULL;
    size_t cap, got = 0, room;
    askdocs_rc rc = ASKDOCS_OK;
    zip_int64_t idx;

    *out = NULL;
    *len = 0;
    idx = zip_name_locate(z, name, 0);
    if (idx < 0)
        return ASKDOCS_ERR_NOTFOUND;
    zip_stat_init(&st);
    if (zip_stat_index(z, (zip_uint64_t)idx, 0, &st) != 0) {
        askdocs_snprintf(cx->err, sizeof(cx->err), "zip member %s: %s", name,
                         zip_strerror(z));
        return ASKDOCS_ERR_CORRUPT;
    }
    if ((st.valid & ZIP_STAT_ENCRYPTION_METHOD) &&
        st.encryption_method != ZIP_EM_NONE) {
        askdocs_snprintf(cx->err, sizeof(cx->err),
                         "%s is encrypted (password-protected document)",
                         name);
        return ASKDOCS_ERR_ENCRYPTED;
    }
    room = cx->lim.max_expand_bytes > cx->expanded
               ? cx->lim.max_expand_bytes - cx->expanded
               : 0;
    /* the declared size may lie: read at most room + 1 bytes regardless */
    if ((st.valid & ZIP_STAT_SIZE) && st.size > room) {
        askdocs_snprintf(cx->err, sizeof(cx->err),
                         "%s expands to %llu bytes, over the limit of %zu "
                         "(index.max_expand_mb): refused as a possible zip "
                         "bomb",
                         name, (unsigned long long)st.size,
                         cx->lim.max_expand_bytes);
        return ASKDOCS_ERR_TOOBIG;
    }
    cap = (st.valid & ZIP_STAT_SIZE) ? (size_t)st.size : 65536;
    if (cap > room)
        cap = room;
    buf = askdocs_malloc(cap + 1);
    if (!buf)
        return ASKDOCS_ERR_NOMEM;
    f = zip_fopen_index(z, (zip_uint64_t)idx, 0);
    if (!f) {
        askdocs_snprintf(cx->err, sizeof(cx->err), "zip member %s: %s", name,
                         zip_strerror(z));
        rc = ASKDOCS_ERR_CORRUPT;
        goto out;
    }
    for (;;) {
        zip_int64_t r;
        if (got == cap) {
            size_t ncap = cap ? cap * 2 : 65536;
            char *nb;
            if (got >= room) {
                char probe;
                if (zip_fread(f, &probe, 1) == 0)
                    break;
                askdocs_snprintf(cx->err, sizeof(cx->err),
                                 "%s expands past the limit of %zu bytes "
                                 "(index.max_expand_mb): refused as a "
                                 "possible zip bomb",
                                 name, cx->lim.max_expand_bytes);
                rc = ASKDOCS_ERR_TOOBIG;
                goto out;
            }
            if (ncap > room)
                ncap = room;
            nb = askdocs_realloc(buf, ncap + 1);
            if (!nb) {
                rc = ASKDOCS_ERR_NOMEM;
                goto out;
            }
            buf = nb;
            cap = ncap;
        }
        r = zip_fread(f, buf + got, cap - got);
        if (r < 0) {
            askdocs_snprintf(cx->err, sizeof(cx->err),
                             "zip member %s cannot be inflated: %s", name,
                             zip_file_strerror(f));
            rc = ASKDOCS_ERR_CORRUPT;
            goto out;
        }
        if (r == 0)
            break;
        got += (size_t)r;
    }
    buf[got] = '\0';
    cx->expanded += got;
    *out = buf;
    *len = got;
    buf = NULL;
out:
    if (f)
        zip_fclose(f);
    askdocs_free(buf);
    return rc;
}

struct _xmlDoc *idx_xml_parse(idx_extract_ctx *cx, const char *buf,
                              size_t len, const char *what)
{
    xmlDocPtr d;
    if (len > (size_t)0x7fffffff) {
        askdocs_snprintf(cx->err, sizeof(cx->err), "%s is too large", what);
        return NULL;
    }
    d = xmlReadMemory(buf, (int)len, what, NULL,
                      XML_PARSE_NONET | XML_PARSE_NOERROR |
                          XML_PARSE_NOWARNING | XML_PARSE_COMPACT);
    if (!d) {
        const xmlError *e = xmlGetLastError();
        askdocs_snprintf(cx->err, sizeof(cx->err),
                         "%s is not well-formed XML%s%s", what,
                         e && e->message ? ": " : "",
                         e && e->message ? e->message : "");
        /* libxml2 messages end in a newline */
        len = strlen(cx->err);
        while (len && (cx->err[len - 1] == '\n' || cx->err[len - 1] == ' '))
            cx->err[--len] = '\0';
    }
    return d;
}
