/*
 * server/openapi_doc.h — the OpenAPI 3 document of the API
 * (host/src/api/openapi.json, compiled in), served at
 * /api/v1/openapi.json. A test checks it against the router.
 */
#ifndef SB_SERVER_OPENAPI_DOC_H
#define SB_SERVER_OPENAPI_DOC_H

#include <stddef.h>

const char *sb_openapi_document(size_t *len);

#endif
