/* tokenize.c - the "askdocs" FTS5 tokenizer and query analyser.
 * PLACEHOLDER until the analyser lands. */
#include "idx_internal.h"

askdocs_rc idx_analyzer_create(const char *dicdir, idx_analyzer **out,
                               char *err, size_t errlen)
{
    (void)dicdir;
    *out = NULL;
    askdocs_snprintf(err, errlen, "analyser not built yet");
    return ASKDOCS_ERR_UNSUPPORTED;
}
void idx_analyzer_free(idx_analyzer *a) { (void)a; }
