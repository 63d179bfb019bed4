/* extract_hwp.c - HWPX (OWPML) and HWP 5.x.
 * PLACEHOLDER until the extractors land: refuse every file. */
#include "idx_internal.h"

static askdocs_rc no(idx_extract_ctx *cx)
{
    askdocs_snprintf(cx->err, sizeof(cx->err), "%s is not supported yet",
                     cx->type);
    return ASKDOCS_ERR_UNSUPPORTED;
}
askdocs_rc idx_extract_hwpx(idx_extract_ctx *cx) { return no(cx); }
askdocs_rc idx_extract_hwp(idx_extract_ctx *cx) { return no(cx); }
