/* server/openapi_doc.c — see openapi_doc.h. */
#include "server/openapi_doc.h"

extern const char sb_embedded_openapi_json[];
extern const unsigned long sb_embedded_openapi_json_len;

const char *sb_openapi_document(size_t *len)
{
    if (len)
        *len = sb_embedded_openapi_json_len;
    return sb_embedded_openapi_json;
}
