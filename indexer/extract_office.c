/* extract_office.c - DOCX, XLSX, CSV, HTML.
 * PLACEHOLDER until the extractors land: refuse every file. */
#include "idx_internal.h"

static askdocs_rc no(idx_extract_ctx *cx)
{
    askdocs_snprintf(cx->err, sizeof(cx->err), "%s is not supported yet",
                     cx->type);
    return ASKDOCS_ERR_UNSUPPORTED;
}
askdocs_rc idx_extract_docx(idx_extract_ctx *cx) { return no(cx); }
askdocs_rc idx_extract_xlsx(idx_extract_ctx *cx) { return no(cx); }
askdocs_rc idx_extract_csv(idx_extract_ctx *cx) { return no(cx); }
askdocs_rc idx_extract_html(idx_extract_ctx *cx) { return no(cx); }
