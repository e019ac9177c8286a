/*
 * http/router.h — the route table: which handler answers which method and
 * path, and what authentication and permission it demands.
 *
 * Contract: a route is {method, path pattern, auth kind, permission,
 * handler, ctx, operation id, summary}. Patterns are absolute paths whose
 * segments are literals ([A-Za-z0-9._~-]) or whole-segment parameters
 * `{name}`; e.g. "/api/v1/teams/{id}/members/{user_id}". sb_router_add
 * validates each route and copies its strings; it refuses two routes with the
 * same method and shape, two spellings of the same template (`/a/{id}` and
 * `/a/{x}`), duplicate operation ids and a permission on a PUBLIC route.
 *
 * Matching is exact (no trailing-slash or case guessing) on the
 * percent-decoded segments of the raw path. Where several patterns match,
 * the one with a literal at the first segment where they differ wins, so
 * `/requests/inbox` beats `/requests/{id}` whatever the registration order.
 * The winning pattern decides the resource: if it has no route for the
 * method the answer is METHOD_NOT_ALLOWED with the methods it does have (a
 * GET route also answers HEAD). A path segment with malformed
 * percent-encoding, an encoded NUL or invalid UTF-8 is BAD_PATH.
 *
 * Lifetime: build the router completely, then hand it to the server; it is
 * read-only (and so safe to share between threads) from then on and must
 * outlive the server. Adding a route invalidates pointers previously
 * returned by sb_router_routes().
 */
#ifndef SB_HTTP_ROUTER_H
#define SB_HTTP_ROUTER_H

#include <stddef.h>

#include "util/error.h"

#define SB_ROUTER_MAX_SEGMENTS 16
#define SB_ROUTER_MAX_PARAMS 8

typedef enum sb_auth_kind {
    SB_AUTH_PUBLIC = 0,  /* anyone (login, health, enrollment with its own token) */
    SB_AUTH_SESSION = 1, /* a user: session cookie, JWT or personal API token */
    SB_AUTH_AGENT = 2    /* an enrolled agent's credentials */
} sb_auth_kind;

typedef struct sb_server_request sb_server_request;

/* Answers req with one of the sb_http_respond_* functions (or parks it, see
 * sb_http_suspend). The return value is only logged: negative means the
 * handler failed; if it also left the request unanswered the server answers
 * 500. */
typedef int (*sb_http_handler)(sb_server_request *req, void *ctx);

typedef struct sb_route {
    const char *method;       /* GET POST PUT PATCH DELETE */
    const char *pattern;      /* "/api/v1/teams/{id}" */
    sb_auth_kind auth;
    const char *permission;   /* e.g. "team.edit"; NULL = any authenticated caller */
    sb_http_handler handler;
    void *ctx;                /* passed to handler; not owned */
    const char *operation_id; /* OpenAPI operationId, unique; required */
    const char *summary;      /* OpenAPI summary; may be NULL */
} sb_route;

typedef struct sb_router sb_router;

sb_router *sb_router_new(void);
void sb_router_free(sb_router *router);

/* Validates and copies the route. Returns 0, or -1 with err saying what is
 * wrong with which route. */
int sb_router_add(sb_router *router, const sb_route *route, sb_error *err);
/* Adds n routes; stops at the first refused one. */
int sb_router_add_all(sb_router *router, const sb_route *routes, size_t n, sb_error *err);

/* Every route in registration order (tests, the OpenAPI check, RBAC
 * matrices enumerate them). *n receives the count. */
const sb_route *sb_router_routes(const sb_router *router, size_t *n);

typedef enum sb_route_result {
    SB_ROUTE_FOUND = 0,
    SB_ROUTE_NOT_FOUND,
    SB_ROUTE_METHOD_NOT_ALLOWED,
    SB_ROUTE_BAD_PATH
} sb_route_result;

typedef struct sb_route_match {
    const sb_route *route;                       /* FOUND */
    const sb_route *resource;                    /* FOUND / METHOD_NOT_ALLOWED: a route of the
                                                    winning pattern (for its pattern) */
    size_t n_params;
    const char *param_names[SB_ROUTER_MAX_PARAMS];
    const char *param_values[SB_ROUTER_MAX_PARAMS]; /* decoded, valid UTF-8, no NUL */
    char allow[64];                              /* METHOD_NOT_ALLOWED: "GET, HEAD, POST" */
    const char *problem;                         /* BAD_PATH: what is wrong (static text) */
    char *storage;                               /* decoded segments; sb_route_match_clear */
} sb_route_match;

/* Matches method + raw path (no query string, still percent-encoded).
 * Always call sb_route_match_clear(m) afterwards. */
sb_route_result sb_router_match(const sb_router *router, const char *method, const char *path,
                                sb_route_match *m);
void sb_route_match_clear(sb_route_match *m);

/* Percent-decodes src[0..len) into dst (at least len+1 bytes), refusing
 * malformed escapes, NUL and invalid UTF-8; plus_is_space for query strings.
 * Returns the decoded length or -1. */
long sb_http_percent_decode(const char *src, size_t len, char *dst, int plus_is_space);

#endif
