/* http/response.c — the answering half of request.h: response bodies,
 * headers, cookies, the JSON error shape, parking, and handing the finished
 * response to libmicrohttpd. */
#include "http/internal.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util/json_escape.h"
#include "util/log.h"
#include "util/redact.h"

#define ERROR_MESSAGE_MAX 512

static sb_http_payload *body_new(size_t len)
{
    sb_http_payload *b = malloc(sizeof *b + (len ? len : 1));
    if (b != NULL)
        b->len = len;
    return b;
}

static void body_free(void *cls)
{
    sb_http_payload *b = cls;
    if (b == NULL)
        return;
    sodium_memzero(b->data, b->len);
    free(b);
}

/* ---- headers --------------------------------------------------------- */

static int token_char(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           (c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

static int is_token(const char *s)
{
    if (s == NULL || *s == '\0')
        return 0;
    for (; *s; s++)
        if (!token_char((unsigned char)*s))
            return 0;
    return 1;
}

static int header_value_ok(const char *v)
{
    for (; v && *v; v++)
        if (*v == '\r' || *v == '\n')
            return 0;
    return v != NULL;
}

/* Under req->mu. replace: drop earlier values of the same name. */
static int put_header(sb_server_request *req, const char *name, const char *value, int replace)
{
    for (size_t i = 0; replace && i < req->n_headers; i++) {
        if (strcasecmp(req->headers[i].name, name) != 0)
            continue;
        char *v = strdup(value);
        if (v == NULL)
            return -1;
        free(req->headers[i].value);
        req->headers[i].value = v;
        return 0;
    }
    if (req->n_headers == req->cap_headers) {
        size_t cap = req->cap_headers ? req->cap_headers * 2 : 4;
        sb_http_kv *grown = realloc(req->headers, cap * sizeof *grown);
        if (grown == NULL)
            return -1;
        req->headers = grown;
        req->cap_headers = cap;
    }
    char *n = strdup(name), *v = strdup(value);
    if (n == NULL || v == NULL) {
        free(n);
        free(v);
        return -1;
    }
    req->headers[req->n_headers].name = n;
    req->headers[req->n_headers++].value = v;
    return 0;
}

static int has_header(const sb_server_request *req, const char *name)
{
    for (size_t i = 0; i < req->n_headers; i++)
        if (strcasecmp(req->headers[i].name, name) == 0)
            return 1;
    return 0;
}

int sb_http_set_header(sb_server_request *req, const char *name, const char *value)
{
    static const char *const reserved[] = {"X-Request-Id", "Content-Length", "Set-Cookie",
                                           "Transfer-Encoding", "Connection"};
    if (!is_token(name) || !header_value_ok(value))
        return -1;
    for (size_t i = 0; i < sizeof reserved / sizeof reserved[0]; i++)
        if (strcasecmp(name, reserved[i]) == 0)
            return -1;
    pthread_mutex_lock(&req->mu);
    int rc = put_header(req, name, value, 1);
    pthread_mutex_unlock(&req->mu);
    return rc;
}

static int cookie_octets(const char *s)
{
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c < 0x21 || c > 0x7e || c == '"' || c == ',' || c == ';' || c == '\\')
            return 0;
    }
    return 1;
}

static int attribute_ok(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == ';' || *s == 0x7f)
            return 0;
    return 1;
}

int sb_http_set_cookie(sb_server_request *req, const char *name, const char *value,
                       const sb_http_cookie_attrs *attrs)
{
    sb_http_cookie_attrs none = {.max_age = -1};
    const sb_http_cookie_attrs *a = attrs ? attrs : &none;
    const char *path = a->path ? a->path : "/";
    if (!is_token(name) || value == NULL || !cookie_octets(value) || !attribute_ok(path) ||
        (a->domain && (!attribute_ok(a->domain) || *a->domain == '\0')))
        return -1;
    if (a->same_site && strcmp(a->same_site, "Strict") != 0 && strcmp(a->same_site, "Lax") != 0 &&
        strcmp(a->same_site, "None") != 0)
        return -1;
    if (a->same_site && strcmp(a->same_site, "None") == 0 && !a->secure)
        return -1; /* browsers drop SameSite=None without Secure */
    char line[4096];
    int n = snprintf(line, sizeof line, "%s=%s; Path=%s", name, value, path);
    if (a->domain && n > 0 && (size_t)n < sizeof line)
        n += snprintf(line + n, sizeof line - (size_t)n, "; Domain=%s", a->domain);
    if (a->max_age >= 0 && n > 0 && (size_t)n < sizeof line)
        n += snprintf(line + n, sizeof line - (size_t)n, "; Max-Age=%ld", a->max_age);
    if (n > 0 && (size_t)n < sizeof line)
        n += snprintf(line + n, sizeof line - (size_t)n, "%s%s%s%s", a->http_only ? "; HttpOnly" : "",
                      a->secure ? "; Secure" : "", a->same_site ? "; SameSite=" : "",
                      a->same_site ? a->same_site : "");
    if (n < 0 || (size_t)n >= sizeof line)
        return -1;
    pthread_mutex_lock(&req->mu);
    int rc = put_header(req, "Set-Cookie", line, 0);
    pthread_mutex_unlock(&req->mu);
    sodium_memzero(line, sizeof line);
    return rc;
}

/* ---- answers --------------------------------------------------------- */

/* Takes body in every case. */
static int answer(sb_server_request *req, int status, const char *content_type, sb_http_payload *body)
{
    if (status < 100 || status > 599)
        status = 500;
    pthread_mutex_lock(&req->mu);
    int taken = req->status != 0 || req->park == SB_PARK_FORCED;
    if (!taken) {
        req->status = status;
        req->response = body;
        if (content_type != NULL && put_header(req, "Content-Type", content_type, 1) != 0) {
            req->status = 500;
            req->response = NULL;
            body_free(body);
        }
    }
    pthread_mutex_unlock(&req->mu);
    if (taken) {
        body_free(body);
        sb_log_ctx ctx = {.request_id = req->request_id};
        sb_log(SB_LEVEL_WARN, SB_HTTP_COMPONENT, &ctx,
               "a second answer (%d) to %s %s was ignored", status, req->method, req->route_label);
        return -1;
    }
    return 0;
}

int sb_http_respond_raw(sb_server_request *req, int status, const char *content_type,
                        const void *data, size_t len)
{
    sb_http_payload *b = len ? body_new(len) : NULL;
    if (len && b == NULL)
        return answer(req, 500, NULL, NULL);
    if (b != NULL)
        memcpy(b->data, data, len);
    return answer(req, status, b ? content_type : NULL, b);
}

int sb_http_respond_empty(sb_server_request *req, int status)
{
    return answer(req, status, NULL, NULL);
}

/* A payload that grows while jansson serialises into it. Growth copies
 * into a new block and zeroes the old one (never realloc, which could
 * leave a copy of a revealed value behind in freed memory). */
typedef struct growing {
    sb_http_payload *b;
    size_t cap;
} growing;

static int grow_append(const char *data, size_t n, void *p)
{
    growing *g = p;
    size_t len = g->b ? g->b->len : 0;
    if (g->b == NULL || len + n > g->cap) {
        size_t cap = g->cap ? g->cap : 1024;
        while (cap < len + n)
            cap *= 2;
        sb_http_payload *nb = body_new(cap);
        if (nb == NULL)
            return -1;
        if (g->b)
            memcpy(nb->data, g->b->data, len);
        nb->len = len;
        body_free(g->b);
        g->b = nb;
        g->cap = cap;
    }
    memcpy(g->b->data + len, data, n);
    g->b->len = len + n;
    return 0;
}

int sb_http_respond_json(sb_server_request *req, int status, json_t *json)
{
    if (json == NULL)
        return sb_http_respond_error(req, 500, "internal_error", "handler answered a NULL JSON body");
    /* serialised once, into a payload that grows without leaving copies */
    growing g = {0};
    int rc = json_dump_callback(json, grow_append, &g, JSON_COMPACT | JSON_ENCODE_ANY);
    json_decref(json);
    if (rc != 0 || g.b == NULL) {
        body_free(g.b);
        return sb_http_respond_error(req, 500, "internal_error", "cannot serialise the JSON answer");
    }
    return answer(req, status, "application/json", g.b);
}

/* {"error":{"code":…,"message":…,"request_id":…}}; NULL when out of memory. */
static sb_http_payload *error_body(const char *code, const char *message, const char *request_id)
{
    char json[ERROR_MESSAGE_MAX * 2 + SB_HTTP_REQUEST_ID_MAX * 2 + 256];
    size_t len = (size_t)snprintf(json, sizeof json, "{\"error\":{\"code\":");
    sb_json_escape_append(json, sizeof json, &len, code);
    len += (size_t)snprintf(json + len, sizeof json - len, ",\"message\":");
    sb_json_escape_append(json, sizeof json, &len, message);
    len += (size_t)snprintf(json + len, sizeof json - len, ",\"request_id\":");
    sb_json_escape_append(json, sizeof json, &len, request_id);
    len += (size_t)snprintf(json + len, sizeof json - len, "}}");
    sb_http_payload *b = body_new(len);
    if (b != NULL)
        memcpy(b->data, json, len);
    return b;
}

static const char *generic_message(int status)
{
    switch (status) {
    case 501: return "not implemented";
    case 502: return "bad gateway";
    case 503: return "service unavailable";
    case 504: return "gateway timeout";
    default: return "internal error";
    }
}

static int snake_case(const char *s)
{
    if (s == NULL || !(*s >= 'a' && *s <= 'z'))
        return 0;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '_'))
            return 0;
    return 1;
}

int sb_http_respond_verror(sb_server_request *req, int status, const char *code, const char *fmt,
                           va_list ap)
{
    char detail[ERROR_MESSAGE_MAX];
    sb_redact_vformat(detail, sizeof detail, fmt, ap);
    if (!snake_case(code))
        code = status >= 500 ? "internal_error" : "error";
    const char *message = detail;
    if (status >= 500) {
        sb_log_field fields[] = {{"code", code}, {"route", req->route_label}};
        sb_log_ctx ctx = {.request_id = req->request_id, .fields = fields, .n_fields = 2};
        sb_log(SB_LEVEL_ERROR, SB_HTTP_COMPONENT, &ctx, "%s %s answered %d: %s", req->method,
               req->route_label, status, detail);
        message = generic_message(status);
    }
    return answer(req, status, "application/json", error_body(code, message, req->request_id));
}

int sb_http_respond_error(sb_server_request *req, int status, const char *code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = sb_http_respond_verror(req, status, code, fmt, ap);
    va_end(ap);
    return rc;
}

int sb_http_responded(const sb_server_request *req)
{
    return sb_http_response_status(req) != 0;
}

int sb_http_response_status(const sb_server_request *req)
{
    pthread_mutex_lock((pthread_mutex_t *)&req->mu);
    int status = req->status;
    pthread_mutex_unlock((pthread_mutex_t *)&req->mu);
    return status;
}

/* ---- parking --------------------------------------------------------- */

int sb_http_suspend(sb_server_request *req, sb_http_wake_fn wake, void *ctx)
{
    pthread_mutex_lock(&req->mu);
    /* once the server stops, nothing parks: libmicrohttpd must not be
     * stopped with a suspended connection (a long-poll arriving on a kept-
     * alive connection after the parked ones were woken would be one) */
    int ok = req->park == SB_PARK_NONE && req->status == 0 && req->phase == SB_PHASE_BODY &&
             !atomic_load(&req->server->stopping);
    if (ok) {
        req->park = SB_PARK_WANTED;
        req->wake = wake;
        req->wake_ctx = ctx;
        req->refs++; /* the owner's reference, dropped by sb_http_resume */
    }
    pthread_mutex_unlock(&req->mu);
    return ok ? 0 : -1;
}

int sb_http_stopping(const sb_server_request *req)
{
    return atomic_load(&req->server->stopping) != 0;
}

void sb_http_resume(sb_server_request *req)
{
    pthread_mutex_lock(&req->mu);
    if (req->park == SB_PARK_WANTED) {
        req->park = SB_PARK_RESUMED; /* the handler has not returned yet */
    } else if (req->park == SB_PARK_PARKED) {
        req->park = SB_PARK_RESUMED;
        MHD_resume_connection(req->conn);
    }
    pthread_mutex_unlock(&req->mu);
    sb_server_request_release(req);
}

void sb_http_response_force(sb_server_request *req)
{
    pthread_mutex_lock(&req->mu);
    if (req->park == SB_PARK_PARKED) {
        req->park = SB_PARK_FORCED;
        if (req->status == 0) {
            sb_http_payload *b = error_body("shutting_down", "service unavailable", req->request_id);
            req->status = 503;
            req->response = b;
            if (b != NULL)
                put_header(req, "Content-Type", "application/json", 1);
        }
        MHD_resume_connection(req->conn);
    }
    pthread_mutex_unlock(&req->mu);
}

/* ---- handing over ---------------------------------------------------- */

enum MHD_Result sb_http_response_queue(sb_server_request *req)
{
    pthread_mutex_lock(&req->mu);
    if (req->status == 0) {
        pthread_mutex_unlock(&req->mu);
        sb_http_respond_error(req, 500, "internal_error", "the handler of %s %s sent no answer",
                              req->method, req->route_label);
        pthread_mutex_lock(&req->mu);
    }
    sb_http_payload *b = req->response;
    req->response = NULL;
    struct MHD_Response *r =
        b ? MHD_create_response_from_buffer_with_free_callback_cls(b->len, b->data, body_free, b)
          : MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
    if (r == NULL) {
        body_free(b);
        pthread_mutex_unlock(&req->mu);
        return MHD_NO;
    }
    int ok = 1;
    for (size_t i = 0; i < req->n_headers; i++)
        ok &= MHD_add_response_header(r, req->headers[i].name, req->headers[i].value) == MHD_YES;
    if (!has_header(req, "Cache-Control"))
        ok &= MHD_add_response_header(r, "Cache-Control", "no-store") == MHD_YES;
    if (!has_header(req, "X-Content-Type-Options"))
        ok &= MHD_add_response_header(r, "X-Content-Type-Options", "nosniff") == MHD_YES;
    ok &= MHD_add_response_header(r, "X-Request-Id", req->request_id) == MHD_YES;
    if (atomic_load(&req->server->stopping))
        ok &= MHD_add_response_header(r, "Connection", "close") == MHD_YES;
    int status = req->status;
    req->bytes_out = b && strcmp(req->method, "HEAD") != 0 ? b->len : 0;
    req->phase = SB_PHASE_QUEUED;
    pthread_mutex_unlock(&req->mu);
    enum MHD_Result rc = ok ? MHD_queue_response(req->conn, (unsigned)status, r) : MHD_NO;
    MHD_destroy_response(r);
    return rc;
}
