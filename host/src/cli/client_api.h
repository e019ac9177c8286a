/*
 * cli/client_api.h — the CLI client's HTTP session with a control plane.
 *
 * Contract: one call = one request through the host's HTTP client
 * (plugin/http_client.h: TLS >= 1.2 with verification, plain http only to
 * loopback, no redirects), to <url><path> with `Authorization: Bearer
 * <token>` when the session has a token. Response bodies stay in secure
 * memory and are parsed by the secure JSON parser (a reveal's body holds a
 * value); nothing here logs a header or a body. sb_client_report prints
 * what failed on stderr — the API's error code and message, and what the
 * user can do about it — and never quotes a request body.
 *
 * Ownership: the session borrows its token (the caller's secure memory);
 * a response owns its body and parsed document until
 * sb_client_response_free, which zeroes both.
 */
#ifndef SB_CLI_CLIENT_API_H
#define SB_CLI_CLIENT_API_H

#include <stddef.h>

#include "plugin/secure_json.h"

#define SB_CLIENT_URL_MAX 512

typedef struct sb_client {
    const char *command; /* "login", "request", …: message prefix */
    char url[SB_CLIENT_URL_MAX]; /* base URL, no trailing '/' */
    const char *token;   /* API token or JWT (secure memory), NULL: none */
} sb_client;

typedef struct sb_client_response {
    long status;        /* 0: no HTTP exchange happened (transport failure) */
    sb_secure_buf *body;
    sb_json *json;      /* NULL unless the body is JSON */
    char transport_error[256];
} sb_client_response;

/* Checks url (absolute http:// or https://, no user information, no query)
 * and copies it without trailing '/' into c->url. 0, or -1 with err. */
int sb_client_set_url(sb_client *c, const char *url, sb_error *err);

/* method path (from "/api/v1/…") with an optional JSON body (body_secret:
 * the body holds a secret, e.g. a password). Returns the HTTP status, or 0
 * when no exchange happened (out->transport_error says why). */
long sb_client_call(const sb_client *c, const char *method, const char *path,
                    const unsigned char *body, size_t body_len, int body_secret,
                    sb_client_response *out);
void sb_client_response_free(sb_client_response *r);

/* The response's JSON root (NULL when the body was not JSON). */
const sb_json_node *sb_client_root(const sb_client_response *r);
/* A string member of an object, "" when absent or not a string. */
const char *sb_client_str(const sb_json_node *object, const char *key);
/* The API error code of a failed response ("" when none). */
const char *sb_client_error_code(const sb_client_response *r);

/* "sbridge CMD: DOING failed: <the API's status, code and message>" and a
 * hint on what to do, on stderr. Returns 1 (the failure exit status). */
int sb_client_report(const sb_client *c, const char *doing, const sb_client_response *r);

/* Every item of a paged list: GETs path (a list route with its query, e.g.
 * "/api/v1/requests?limit=100") and the pages its next_cursor names, at
 * most max_pages, calling fn for each item of "items". fn returning
 * non-zero stops the walk and is returned. 0 once every item was seen;
 * 1 when a call failed (reported with sb_client_report as `doing`); with
 * hidden_ok, SB_CLIENT_HIDDEN (not reported) when the answer was 403 or
 * 404 — a resource listed to us whose children we may not read. */
#define SB_CLIENT_HIDDEN 2
typedef int (*sb_client_item_fn)(const sb_json_node *item, void *ctx);
int sb_client_each_item(const sb_client *c, const char *path, const char *doing, int max_pages,
                        int hidden_ok, sb_client_item_fn fn, void *ctx);

/* True when s is a UUID in its canonical text form (ids of the API). */
int sb_client_uuid_ok(const char *s);

#endif
