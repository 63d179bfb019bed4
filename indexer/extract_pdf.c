/* extract_pdf.c - PDF text per page (poppler-glib), OCR (Tesseract).
 * PLACEHOLDER until the PDF extractor lands: refuses every file. */
#include "idx_internal.h"

askdocs_rc idx_extract_pdf(idx_extract_ctx *cx)
{
    askdocs_snprintf(cx->err, sizeof(cx->err), "PDF is not supported yet");
    return ASKDOCS_ERR_UNSUPPORTED;
}
