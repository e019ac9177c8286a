/* http/pipeline.c — what happens to each request, in order (see the
 * contract in server.h): the three libmicrohttpd callbacks, the gate, the
 * handler call, parking, and the access log + metrics at completion. */
#include "http/internal.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/log.h"

static sb_metric *requests_total, *request_duration;

static void register_metrics(void)
{
    requests_total = sb_metrics_counter("sb_http_requests_total",
                                        "HTTP requests answered, by route pattern, method and status.",
                                        "route", "method", "status", (const char *)NULL);
    request_duration = sb_metrics_histogram(
        "sb_server_request_duration_seconds",
        "Time from the request line to the last byte of the answer, by route pattern and method.",
        sb_metrics_latency_buckets, sb_metrics_latency_buckets_len, "route", "method",
        (const char *)NULL);
}

void sb_http_pipeline_init_metrics(void)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, register_metrics);
}

/* Bounded method label: unknown methods would otherwise grow the series. */
static const char *method_label(const char *method)
{
    static const char *const known[] = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"};
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
        if (strcmp(method, known[i]) == 0)
            return known[i];
    return "OTHER";
}

/* ---- request line ---------------------------------------------------- */

void *sb_http_on_uri(void *cls, const char *uri, struct MHD_Connection *conn)
{
    sb_http_server *server = cls;
    sb_http_deadline_request_line(conn);
    sb_server_request *req = sb_server_request_new(server, conn, uri);
    if (req != NULL) {
        pthread_mutex_lock(&server->mu);
        server->in_flight++;
        pthread_mutex_unlock(&server->mu);
    }
    return req;
}

/* ---- first call: everything decided before the body is read ---------- */

static int content_length_too_large(const sb_server_request *req, size_t limit)
{
    const char *cl = MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, "Content-Length");
    if (cl == NULL)
        return 0;
    char *end;
    unsigned long long n = strtoull(cl, &end, 10);
    return end != cl && n > limit;
}

/* The header limit, answered in our JSON before libmicrohttpd's own limit
 * (the connection's memory, twice as large) is reached. 1 when answered.
 *
 * What libmicrohttpd 0.9.75 answers by itself, before any callback of ours
 * runs, with a body compiled into the library (HTML, no Content-Type; made
 * JSON by http/mhd_error_bodies.c, since no option or callback can
 * replace it): 400 for a header line without a colon,
 * a malformed version token, an unparseable Content-Length or broken chunked
 * framing; 413 for a Content-Length or chunk size that overflows 64 bits;
 * 505 for HTTP/0.9 or 2+; 414/431 for a request line or header that does not
 * fit in the connection's memory. (A request line with no space at all is
 * just closed.) What we do instead: every limit we can see first is ours and
 * JSON (this one, the body limit, routing); the connection memory is sized
 * at twice max_header_bytes so libmicrohttpd's own 431 needs a header twice
 * over our limit; HTTP/1.1 without Host is let through (strict mode off) and
 * served; and account() logs what libmicrohttpd sent, with its status, as
 * outcome rejected_by_libmicrohttpd (when the request line had been parsed,
 * so the request is known to us). */
static int header_too_large(sb_http_server *server, sb_server_request *req)
{
    const union MHD_ConnectionInfo *info =
        MHD_get_connection_info(req->conn, MHD_CONNECTION_INFO_REQUEST_HEADER_SIZE);
    size_t limit = server->cfg.max_header_bytes;
    if (info == NULL || info->header_size <= limit)
        return 0;
    if (strlen(req->target) > limit / 2)
        sb_http_respond_error(req, 414, "uri_too_long",
                              "the request target is longer than %zu bytes; shorten the URL", limit / 2);
    else
        sb_http_respond_error(req, 431, "headers_too_large",
                              "the request line and headers total %zu bytes, more than the limit of "
                              "%zu (http.max_header_bytes); send fewer or smaller headers",
                              info->header_size, limit);
    return 1;
}

/* The fallback (the web UI) takes unmatched GET/HEAD outside /api/. */
static int fallback_applies(const sb_http_server *server, const sb_server_request *req)
{
    if (server->cfg.fallback == NULL)
        return 0;
    if (strcmp(req->method, "GET") != 0 && strcmp(req->method, "HEAD") != 0)
        return 0;
    return strcmp(req->target, "/api") != 0 && strncmp(req->target, "/api/", 5) != 0;
}

/* Runs the fallback on the bare path; 1 (always answered). */
static int serve_fallback(sb_http_server *server, sb_server_request *req)
{
    req->route_label = "ui";
    server->cfg.fallback(req, server->cfg.fallback_ctx);
    if (!sb_http_responded(req))
        sb_http_respond_error(req, 404, "not_found", "no resource at this path");
    return 1;
}

/* 1 when the request has been answered. */
static int route_request(sb_http_server *server, sb_server_request *req)
{
    char saved = req->target[req->path_len];
    req->target[req->path_len] = '\0'; /* the path alone, for matching */
    int answered = sb_http_builtin_serve(server, req, req->target);
    sb_route_result r = SB_ROUTE_NOT_FOUND;
    if (!answered)
        r = sb_router_match(server->router, req->method, req->target, &req->match);
    if (r == SB_ROUTE_NOT_FOUND && !answered && fallback_applies(server, req))
        answered = serve_fallback(server, req);
    req->target[req->path_len] = saved;
    if (answered)
        return 1;
    switch (r) {
    case SB_ROUTE_FOUND:
        req->route = req->match.route;
        req->route_label = req->route->pattern;
        break;
    case SB_ROUTE_NOT_FOUND:
        sb_http_respond_error(req, 404, "not_found", "no resource at this path");
        return 1;
    case SB_ROUTE_METHOD_NOT_ALLOWED:
        req->route_label = req->match.resource->pattern;
        sb_http_set_header(req, "Allow", req->match.allow);
        sb_http_respond_error(req, 405, "method_not_allowed",
                              "this resource does not support %s (allowed: %s)", req->method,
                              req->match.allow);
        return 1;
    case SB_ROUTE_BAD_PATH:
        sb_http_respond_error(req, 400, "invalid_path", "%s", req->match.problem);
        return 1;
    }
    if (sb_server_request_parse_query(req) != 0) {
        sb_http_respond_error(req, 400, "invalid_query",
                              "the query string has malformed percent-encoding, an encoded NUL "
                              "or invalid UTF-8");
        return 1;
    }
    return 0;
}

/* Auth: the gate, or default deny. 1 when the request has been answered. */
static int run_gate(sb_http_server *server, sb_server_request *req)
{
    const sb_route *route = req->route;
    if (server->cfg.gate == NULL) {
        if (route->auth == SB_AUTH_PUBLIC)
            return 0;
        sb_http_respond_error(req, 401, "unauthenticated", "this resource needs authentication");
        return 1;
    }
    int verdict = server->cfg.gate(route, req, server->cfg.gate_ctx);
    if (verdict != 0) {
        if (!sb_http_responded(req))
            sb_http_respond_error(req, 403, "forbidden", "access denied");
        return 1;
    }
    if (route->auth != SB_AUTH_PUBLIC && req->identity == NULL && !sb_http_responded(req)) {
        sb_http_respond_error(req, 401, "unauthenticated", "this resource needs authentication");
        return 1;
    }
    return sb_http_responded(req);
}

/* An answer decided before the body. libmicrohttpd closes the connection
 * after a response queued on the first call (it will not read the body), so
 * that is done only when a body is coming; otherwise the answer waits for
 * the next call and the connection stays reusable. */
static enum MHD_Result answer_early(sb_server_request *req)
{
    const char *cl = MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, "Content-Length");
    const char *te = MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, "Transfer-Encoding");
    if (te != NULL || (cl != NULL && strcmp(cl, "0") != 0))
        return sb_http_response_queue(req);
    req->phase = SB_PHASE_DECIDED;
    return MHD_YES;
}

static enum MHD_Result begin(sb_http_server *server, sb_server_request *req, const char *method)
{
    if (strlen(method) < sizeof req->method)
        snprintf(req->method, sizeof req->method, "%s", method);
    sb_http_deadline_headers_done(req->conn); /* the header is in: no more header deadline */
    sb_server_request_assign_id(req);
    sb_server_request_resolve_client(req);
    if (header_too_large(server, req))
        return sb_http_response_queue(req); /* and close: such a client is not kept */
    if (route_request(server, req))
        return answer_early(req);
    size_t limit = server->cfg.body_limit;
    if (content_length_too_large(req, limit)) {
        sb_http_respond_error(req, 413, "payload_too_large",
                              "the request body is larger than the limit of %zu bytes", limit);
        return sb_http_response_queue(req);
    }
    if (run_gate(server, req))
        return answer_early(req);
    req->phase = SB_PHASE_BODY;
    return MHD_YES;
}

/* ---- the handler and what follows ------------------------------------ */

/* Returns 1 when the connection is now suspended. */
static int park_request(sb_http_server *server, sb_server_request *req)
{
    int wake_now = 0, parked = 0, too_late = 0;
    pthread_mutex_lock(&server->mu);
    pthread_mutex_lock(&req->mu);
    if (req->park == SB_PARK_WANTED && server->forced) {
        too_late = 1; /* the server is past its grace period: no more waiting */
    } else if (req->park == SB_PARK_WANTED) {
        parked = 1;
        req->park = SB_PARK_PARKED;
        req->phase = SB_PHASE_PARKED;
        MHD_suspend_connection(req->conn);
        req->park_next = server->parked;
        if (server->parked != NULL)
            server->parked->park_prev = req;
        server->parked = req;
        req->in_park_list = 1;
        wake_now = server->woke_parked && !req->woken;
        req->woken |= wake_now;
    }
    pthread_mutex_unlock(&req->mu);
    pthread_mutex_unlock(&server->mu);
    if (too_late) {
        sb_http_respond_error(req, 503, "shutting_down", "the server is shutting down");
        pthread_mutex_lock(&req->mu);
        req->park = SB_PARK_FORCED; /* the owner's answer and resume are now no-ops */
        pthread_mutex_unlock(&req->mu);
    }
    if (wake_now && req->wake != NULL)
        req->wake(req, req->wake_ctx);
    return parked;
}

/* Under server->mu. */
static void unlink_parked(sb_http_server *server, sb_server_request *req)
{
    if (!req->in_park_list)
        return;
    if (req->park_prev != NULL)
        req->park_prev->park_next = req->park_next;
    else
        server->parked = req->park_next;
    if (req->park_next != NULL)
        req->park_next->park_prev = req->park_prev;
    req->park_prev = req->park_next = NULL;
    req->in_park_list = 0;
}

static enum MHD_Result finish(sb_http_server *server, sb_server_request *req)
{
    if (req->body_too_large) {
        sb_http_respond_error(req, 413, "payload_too_large",
                              "the request body is larger than the limit of %zu bytes",
                              server->cfg.body_limit);
        return sb_http_response_queue(req);
    }
    int rc = req->route->handler(req, req->route->ctx);
    if (rc < 0) {
        sb_log_ctx ctx = {.request_id = req->request_id};
        sb_log(SB_LEVEL_WARN, SB_HTTP_COMPONENT, &ctx, "handler of %s %s failed (%d)", req->method,
               req->route_label, rc);
    }
    pthread_mutex_lock(&req->mu);
    int wants_park = req->park == SB_PARK_WANTED;
    pthread_mutex_unlock(&req->mu);
    if (wants_park && park_request(server, req))
        return MHD_YES;
    return sb_http_response_queue(req);
}

enum MHD_Result sb_http_on_access(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload,
                                  size_t *upload_size, void **con_cls)
{
    (void)version;
    sb_http_server *server = cls;
    sb_server_request *req = *con_cls;
    if (req == NULL) {
        *con_cls = req = sb_http_on_uri(server, url, conn);
        if (req == NULL)
            return MHD_NO;
    }
    switch (req->phase) {
    case SB_PHASE_HEADERS:
        return begin(server, req, method);
    case SB_PHASE_DECIDED:
        *upload_size = 0; /* a body nobody announced: ignored */
        return sb_http_response_queue(req);
    case SB_PHASE_BODY:
        if (*upload_size == 0)
            return finish(server, req);
        if (sb_http_now_ns() - req->start_ns > (uint64_t)server->cfg.request_timeout_ms * 1000000u) {
            sb_log_ctx ctx = {.request_id = req->request_id};
            sb_log(SB_LEVEL_WARN, SB_HTTP_COMPONENT, &ctx,
                   "%s %s: the body took longer than %u ms to arrive; connection closed",
                   req->method, req->route_label, server->cfg.request_timeout_ms);
            return MHD_NO;
        }
        sb_server_request_take_body(req, upload, *upload_size);
        *upload_size = 0;
        return MHD_YES;
    case SB_PHASE_PARKED:
        /* called again after sb_http_resume (or the forced answer at shutdown) */
        pthread_mutex_lock(&server->mu);
        unlink_parked(server, req);
        pthread_mutex_unlock(&server->mu);
        return sb_http_response_queue(req);
    default:
        return MHD_YES;
    }
}

/* ---- completion: access log and metrics ------------------------------ */

static const char *outcome_name(enum MHD_RequestTerminationCode toe)
{
    switch (toe) {
    case MHD_REQUEST_TERMINATED_COMPLETED_OK: return NULL;
    case MHD_REQUEST_TERMINATED_TIMEOUT_REACHED: return "timeout";
    case MHD_REQUEST_TERMINATED_DAEMON_SHUTDOWN: return "shutdown";
    case MHD_REQUEST_TERMINATED_CLIENT_ABORT: return "client_closed";
    case MHD_REQUEST_TERMINATED_READ_ERROR: return "read_error";
    default: return "error";
    }
}

static void account(sb_server_request *req, enum MHD_RequestTerminationCode toe)
{
    double seconds = (double)(sb_http_now_ns() - req->start_ns) / 1e9;
    pthread_mutex_lock(&req->mu);
    int status = req->status;
    size_t bytes = req->bytes_out;
    pthread_mutex_unlock(&req->mu);
    const char *outcome = outcome_name(toe);
    if (status == 0) {
        /* libmicrohttpd answered it itself (a malformed request or a header
         * too big for the connection's memory: see server.h), with the body
         * of http/mhd_error_bodies.c; record the status it sent */
        const union MHD_ConnectionInfo *sent =
            MHD_get_connection_info(req->conn, MHD_CONNECTION_INFO_HTTP_STATUS);
        if (sent != NULL && sent->http_status != 0) {
            status = (int)sent->http_status;
            outcome = "rejected_by_libmicrohttpd";
        }
    }
    if (req->request_id[0] == '\0')
        sb_server_request_assign_id(req);
    char status_s[16], duration_s[32], bytes_s[32];
    snprintf(status_s, sizeof status_s, "%d", status);
    snprintf(duration_s, sizeof duration_s, "%.3f", seconds * 1000.0);
    snprintf(bytes_s, sizeof bytes_s, "%zu", bytes);
    sb_log_field fields[] = {
        {"method", req->method},   {"route", req->route_label}, {"status", status_s},
        {"duration_ms", duration_s}, {"bytes", bytes_s},        {"remote_ip", req->remote_ip},
        {"outcome", outcome},
    };
    sb_log_ctx ctx = {.request_id = req->request_id, .fields = fields,
                      .n_fields = sizeof fields / sizeof fields[0] - (outcome == NULL)};
    sb_log(SB_LEVEL_INFO, SB_HTTP_COMPONENT, &ctx, "request");
    if (status == 0)
        return; /* never answered: nothing to count */
    const char *method = method_label(req->method);
    sb_metric_add(requests_total, SB_LABELS(req->route_label, method, status_s), 1);
    sb_metric_observe(request_duration, SB_LABELS(req->route_label, method), seconds);
}

void sb_http_on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                          enum MHD_RequestTerminationCode toe)
{
    sb_http_server *server = cls;
    sb_server_request *req = *con_cls;
    if (req == NULL)
        return;
    *con_cls = NULL;
    sb_http_deadline_request_done(conn); /* the next request on it gets a deadline */
    account(req, toe);
    pthread_mutex_lock(&server->mu);
    unlink_parked(server, req);
    server->in_flight--;
    if (server->in_flight == 0)
        pthread_cond_broadcast(&server->idle);
    pthread_mutex_unlock(&server->mu);
    sb_server_request_release(req);
}
