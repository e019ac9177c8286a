/*
 * http/server.h — the HTTP server of every long-running role.
 *
 * Contract: sb_http_server_start binds the listen address and serves the
 * router with libmicrohttpd (epoll, a thread pool, suspend/resume). For each
 * request it: assigns the request id; serves the built-in endpoints
 * (/healthz, /readyz, /metrics when enabled — all PUBLIC, GET/HEAD);
 * matches the route (404 not_found, 405 method_not_allowed + Allow,
 * 400 invalid_path, 400 invalid_query); refuses a declared Content-Length
 * above the body limit (413 payload_too_large) before reading any of it;
 * runs the gate (or, without one, answers 401 unauthenticated to every route
 * that is not PUBLIC); receives the body (a chunked body that passes the
 * limit is discarded as it arrives, never buffered, and answered 413); calls
 * the handler; sends; then writes one access-log line and updates the
 * request metrics.
 *
 * The gate runs before the body is read, on the route and headers only. It
 * returns 0 to let the request through, or non-zero after answering it
 * (401/403/429…). If it returns non-zero without answering, the server
 * answers 403; if it lets a non-PUBLIC route through without attaching an
 * identity (sb_http_set_identity), the server answers 401. Default deny.
 *
 * Limits: connection_limit concurrent connections, at most
 * per_ip_connection_limit of them from one peer address (more are closed at
 * once); connection_timeout_s of inactivity closes a connection;
 * header_timeout_ms bounds the time from accepting a connection (or from the
 * end of its previous request, then at least the inactivity timeout) to a
 * complete request header — a client trickling bytes is closed at that
 * deadline, but a request whose header is complete is never cut by it (a
 * parked long-poll stays); request_timeout_ms bounds the time to receive a
 * whole request (headers + body; a slower upload is cut off) — handlers bound
 * their own work; the request line plus header fields may total
 * max_header_bytes (over it: 414 uri_too_long when the target alone is more
 * than half of it, else 431 headers_too_large, both JSON); body_limit bytes
 * of body. Each connection gets 2 × max_header_bytes + 4 KiB of
 * libmicrohttpd memory (MHD_OPTION_CONNECTION_MEMORY_LIMIT): room for a
 * header of the limit (the Cookie header is copied once) and the answer's
 * headers.
 *
 * Errors libmicrohttpd answers by itself, before any callback can: a request
 * line it cannot parse, a header line without a colon, an unparseable or
 * overflowing Content-Length, malformed chunked framing, an HTTP version
 * other than 1.0/1.1, and a header too big for the connection's memory
 * (which needs a header over twice max_header_bytes). libmicrohttpd 0.9
 * writes its own fixed HTML body for these and offers no hook to replace
 * it, so http/mhd_error_bodies.c replaces it at link time: every error is
 * the JSON shape. See header_too_large in
 * pipeline.c for the list and what is done instead.
 *
 * sb_http_server_stop(server, grace_ms): /readyz turns 503 at once, the
 * listening socket is closed (new connections are refused), parked requests
 * are woken, in-flight requests get up to grace_ms to finish (responses say
 * Connection: close), whatever is still parked then is answered 503, and the
 * server is freed. Call it exactly once, from a thread that is not a server
 * thread (e.g. the main thread after SIGTERM).
 *
 * TLS: with tls_cert_path and tls_key_path (PEM files) the server speaks
 * HTTPS only (GnuTLS through libmicrohttpd).
 */
#ifndef SB_HTTP_SERVER_H
#define SB_HTTP_SERVER_H

#include <stddef.h>

#include "http/request.h"
#include "http/router.h"
#include "util/error.h"

typedef struct sb_http_server sb_http_server;

/* The auth middleware: see the contract above. */
typedef int (*sb_http_gate)(const sb_route *route, sb_server_request *req, void *ctx);

/* A readiness check: 0 when ready, else non-zero with a short reason in why
 * (no secrets; it is published at /readyz). */
typedef int (*sb_http_readiness_fn)(void *ctx, char *why, size_t why_cap);

typedef struct sb_http_readiness {
    const char *name; /* key in /readyz failures, e.g. "database" */
    sb_http_readiness_fn check;
    void *ctx;
} sb_http_readiness;

typedef struct sb_http_config {
    const char *listen;            /* "host:port", "[::1]:port", ":port"; port 0 = ephemeral */
    unsigned threads;              /* thread pool size; 0 = 2 */
    unsigned connection_limit;     /* 0 = 1024 */
    /* 0 = 128, or no per-address limit when trusted_proxies is set (a proxy
     * carries many clients on its own address) */
    unsigned per_ip_connection_limit;
    unsigned connection_timeout_s; /* idle timeout; 0 = 60 */
    unsigned header_timeout_ms;    /* time to a complete request header; 0 = 10000 */
    size_t max_header_bytes;       /* request line + header fields; 0 = 8192 */
    unsigned request_timeout_ms;   /* time to receive one request; 0 = 30000 */
    size_t body_limit;             /* bytes; 0 = 1 MiB */
    const char *tls_cert_path;     /* both or neither */
    const char *tls_key_path;
    int enable_metrics;            /* serve /metrics */
    sb_http_gate gate;             /* NULL = only PUBLIC routes answer */
    /* GET/HEAD requests that no built-in endpoint or route matches and whose
     * path is outside /api/ go here, public, without the gate (the web UI's
     * files: static_files.h); NULL = the JSON 404. */
    sb_http_handler fallback;
    void *fallback_ctx;
    void *gate_ctx;
    const sb_http_readiness *readiness; /* checks run by /readyz, in order */
    size_t n_readiness;
    /* Peers (IP addresses or networks, util/cidr.h) whose X-Forwarded-For is
     * believed: the client address of a request from one of them is the
     * nearest untrusted hop of that header (sb_http_remote_ip); from any
     * other peer the header is ignored. Copied at start. */
    const char *const *trusted_proxies;
    size_t n_trusted_proxies;
} sb_http_config;

int sb_http_server_start(const sb_http_config *cfg, const sb_router *router,
                         sb_http_server **out, sb_error *err);
/* The bound port (the real one when the config asked for port 0). */
unsigned sb_http_server_port(const sb_http_server *server);
/* Adds a readiness check after start (names must be unique). */
int sb_http_server_add_readiness(sb_http_server *server, const sb_http_readiness *check,
                                 sb_error *err);
/* Requests received and not yet finished (including parked ones). */
size_t sb_http_server_in_flight(sb_http_server *server);
/* 1 once sb_http_server_stop has begun. */
int sb_http_server_is_stopping(const sb_http_server *server);
/* Graceful stop; frees the server. Returns 0 when everything finished
 * within the grace, 1 when requests had to be cut off. NULL is a no-op. */
int sb_http_server_stop(sb_http_server *server, unsigned grace_ms);

/* The built-in endpoints as routes (for documentation and the OpenAPI
 * check); their handlers belong to the server. */
const sb_route *sb_http_builtin_routes(size_t *n);

#endif
