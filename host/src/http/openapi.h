/*
 * http/openapi.h — keeping the hand-written OpenAPI document and the router
 * in agreement.
 *
 * Contract: sb_openapi_check reads an OpenAPI 3 document (JSON) and compares
 * its `paths` with the router: every route must appear as the same path
 * template (character for character, e.g. "/api/v1/teams/{id}") with its
 * method, and every documented path + method must have a route. When both
 * name an operationId, they must be equal. The server's built-in endpoints
 * (/healthz, /readyz, /metrics) may be documented but need not be.
 *
 * Returns the number of disagreements (0 = in agreement) and writes one line
 * per disagreement into problems (NUL-terminated, truncated to cap), or -1
 * when the document is not JSON or has no `paths` object (the reason is in
 * problems).
 */
#ifndef SB_HTTP_OPENAPI_H
#define SB_HTTP_OPENAPI_H

#include <stddef.h>

#include "http/router.h"

int sb_openapi_check(const sb_router *router, const char *openapi_json, size_t len,
                     char *problems, size_t cap);

#endif
