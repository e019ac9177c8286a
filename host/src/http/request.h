/*
 * http/request.h — what a handler sees of a request and how it answers.
 *
 * Contract (reading): everything a handler reads is valid until it answers
 * (or, for a parked request, until sb_http_resume). Path parameters and
 * query parameters are percent-decoded, valid UTF-8 and free of NUL (the
 * server answered 400 otherwise). Header lookups are case-insensitive.
 * The body is buffered up to the configured limit (larger bodies never
 * reach a handler: 413). Identity comes only from the auth gate
 * (sb_http_set_identity), never from the request itself.
 *
 * Contract (answering): exactly one of the sb_http_respond_* functions
 * answers; a second answer is refused (-1, logged). Nothing is sent until the
 * handler returns. Every response carries X-Request-Id, Content-Type (when
 * there is a body), Cache-Control: no-store and
 * X-Content-Type-Options: nosniff; a handler may override Cache-Control with
 * sb_http_set_header. Errors are always
 *   {"error":{"code":"snake_case","message":"…","request_id":"…"}}
 * with the message formatted by sb_redact_vformat. For status >= 500 the
 * body never carries the detail: the message is the generic phrase for the
 * status ("internal error" for 500) and the detail goes to the error log.
 * Response bodies are zeroed when released (a reveal response holds a value).
 *
 * Threads: a handler runs on one of the server's threads and may block
 * (database calls); long waits must park instead (sb_http_suspend).
 */
#ifndef SB_HTTP_REQUEST_H
#define SB_HTTP_REQUEST_H

#include <jansson.h>
#include <stdarg.h>
#include <stddef.h>

#include "http/router.h"
#include "util/error.h"

#define SB_HTTP_REQUEST_ID_MAX 128

/* ---- reading --------------------------------------------------------- */

const char *sb_http_method(const sb_server_request *req);
/* The raw path (still percent-encoded, no query string). Never log it for
 * routes whose parameters may be sensitive; log sb_http_route_pattern. */
const char *sb_http_path(const sb_server_request *req);
/* The matched route, or NULL for built-in endpoints and unmatched paths. */
const sb_route *sb_http_route(const sb_server_request *req);
/* The route pattern ("/api/v1/teams/{id}") used in logs and metrics. */
const char *sb_http_route_pattern(const sb_server_request *req);
/* A path parameter by name; NULL when the route has no such parameter. */
const char *sb_http_param(const sb_server_request *req, const char *name);

/* The first value of a query parameter (NULL when absent; "" for `?a` or
 * `?a=`). */
const char *sb_http_query(const sb_server_request *req, const char *name);
/* All values of a repeated query parameter in order: fills up to cap and
 * returns how many there are in total. */
size_t sb_http_query_all(const sb_server_request *req, const char *name, const char **values,
                         size_t cap);
/* Enumerates every query parameter in order: the count, then entry i
 * (0, or -1 past the end). */
size_t sb_http_query_count(const sb_server_request *req);
int sb_http_query_at(const sb_server_request *req, size_t i, const char **name, const char **value);

/* A request header (case-insensitive name); NULL when absent. */
const char *sb_http_header(const sb_server_request *req, const char *name);
/* A cookie from the Cookie header; NULL when absent. */
const char *sb_http_cookie(const sb_server_request *req, const char *name);
/* The peer address ("127.0.0.1", "::1"); proxies are not trusted. */
const char *sb_http_remote_ip(const sb_server_request *req);
/* The X-Request-Id of this request (echoed when valid, else generated). */
const char *sb_server_request_id(const sb_server_request *req);

/* The raw body (NULL with *len = 0 when there is none). */
const unsigned char *sb_http_body(const sb_server_request *req, size_t *len);
/* The body parsed as JSON, parsed once and owned by the request (borrowed
 * reference; do not decref). Duplicate object keys are refused. On failure
 * it has already answered — 400 invalid_json (empty body, or a syntax error
 * described by line/column, never quoting the body) or 415
 * unsupported_media_type (Content-Type is not application/json) — fills err
 * (code = the HTTP status) and returns -1; the handler just returns. */
int sb_http_json_body(sb_server_request *req, json_t **out, sb_error *err);

/* The identity the auth gate attached, NULL for none. set replaces (and
 * destroys) a previous one; destroy (may be NULL) runs when the request is
 * released. */
void sb_http_set_identity(sb_server_request *req, void *identity, void (*destroy)(void *));
void *sb_http_identity(const sb_server_request *req);

/* ---- answering ------------------------------------------------------- */

/* Serialises body (compact) and answers; steals the reference even on
 * failure. Returns 0, or -1 when the request was already answered. */
int sb_http_respond_json(sb_server_request *req, int status, json_t *body);
int sb_http_respond_error(sb_server_request *req, int status, const char *code, const char *fmt,
                          ...) __attribute__((format(printf, 4, 5)));
int sb_http_respond_verror(sb_server_request *req, int status, const char *code, const char *fmt,
                           va_list ap) __attribute__((format(printf, 4, 0)));
/* No body (204, 304, or any status with an empty body). */
int sb_http_respond_empty(sb_server_request *req, int status);
/* Any body with its content type (copied); for /metrics, the OpenAPI
 * document, static UI files. */
int sb_http_respond_raw(sb_server_request *req, int status, const char *content_type,
                        const void *data, size_t len);
int sb_http_responded(const sb_server_request *req);
/* 1 when the client has closed its connection (or it broke): a parked
 * request whose client died must not be handed work it can never receive.
 * Reads nothing (MSG_PEEK); 0 while the connection looks alive. */
int sb_http_client_gone(const sb_server_request *req);
/* The answered status (0 while unanswered). */
int sb_http_response_status(const sb_server_request *req);

/* Sets a response header, replacing an earlier value of the same name
 * (case-insensitive). Refuses (-1) names that are not tokens, values with
 * CR, LF or NUL, and the headers the server owns (X-Request-Id,
 * Content-Length, Set-Cookie: use sb_http_set_cookie). */
int sb_http_set_header(sb_server_request *req, const char *name, const char *value);

typedef struct sb_http_cookie_attrs {
    const char *path;      /* default "/" */
    const char *domain;    /* NULL = host-only */
    long max_age;          /* seconds; < 0 = session cookie (no Max-Age); 0 deletes */
    int http_only;
    int secure;
    const char *same_site; /* "Strict", "Lax", "None" or NULL */
} sb_http_cookie_attrs;

/* Adds a Set-Cookie header. The name must be a token and the value cookie
 * octets (RFC 6265: no space, quote, comma, semicolon, backslash or
 * control); attributes are validated the same way. -1 when refused. */
int sb_http_set_cookie(sb_server_request *req, const char *name, const char *value,
                       const sb_http_cookie_attrs *attrs);

/* ---- parking (long-poll) ---------------------------------------------
 *
 * A handler that must wait (agent job claim: up to 25 s for a job) parks
 * the request instead of blocking a server thread:
 *
 *   handler: register req with the waiter, sb_http_suspend(req, wake, w);
 *            return 0;
 *   later, on any thread: sb_http_respond_json(req, 200, job) (or
 *            sb_http_respond_empty(req, 204) at the deadline); then
 *            sb_http_resume(req);  -- req must not be touched afterwards.
 *
 * The answer may come before the handler has even returned; the server
 * handles that order. While parked the connection counts as in flight but
 * no timeouts apply: the owner enforces its own deadline and must resume
 * every parked request exactly once. When the server begins to stop, it
 * calls wake(req, ctx) once for each parked request on the stopping thread
 * (it must not block or call server functions: answer + resume, or signal
 * the waiter). Requests still parked when the grace period ends are answered
 * 503 by the server; the owner's later answer is then ignored, and its
 * sb_http_resume only releases its reference — so it stays safe.
 * sb_http_suspend answers -1 (nothing parked, nothing kept) when the
 * request is answered, parked, not in its handler, or the server is
 * stopping: the handler then answers at once (sb_http_stopping
 * tells the last case apart). */
typedef void (*sb_http_wake_fn)(sb_server_request *req, void *ctx);
int sb_http_suspend(sb_server_request *req, sb_http_wake_fn wake, void *ctx);
void sb_http_resume(sb_server_request *req);
/* 1 once the server serving req has begun to stop. */
int sb_http_stopping(const sb_server_request *req);

#endif
