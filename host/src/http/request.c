/* http/request.c — the reading half of request.h, and the request's life
 * (creation, reference counting, release). */
#include "http/internal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>

#include "util/log.h"

uint64_t sb_http_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* The peer is a trusted proxy: the client is the nearest hop of
 * X-Forwarded-For (read right to left) that is not a trusted proxy too. A
 * malformed hop stops the walk: the request stays attributed to the last
 * address that could be trusted (never to a made-up one). */
static void resolve_forwarded(sb_server_request *req, const char *xff)
{
    if (xff == NULL)
        return;
    char list[1024];
    snprintf(list, sizeof list, "%s", xff);
    for (size_t end = strlen(list); end > 0;) {
        size_t start = end;
        while (start > 0 && list[start - 1] != ',')
            start--;
        list[end] = '\0';
        char *hop = list + start;
        while (*hop == ' ' || *hop == '\t')
            hop++;
        for (char *t = hop + strlen(hop); t > hop && (t[-1] == ' ' || t[-1] == '\t'); t--)
            t[-1] = '\0';
        sb_cidr one;
        if (strchr(hop, '/') || sb_cidr_parse(hop, &one, NULL) != 0)
            return; /* not an address */
        snprintf(req->remote_ip, sizeof req->remote_ip, "%s", hop);
        if (!sb_cidr_any(req->server->trusted, req->server->n_trusted, hop))
            return; /* the client */
        end = start > 0 ? start - 1 : 0;
    }
}

sb_server_request *sb_server_request_new(sb_http_server *server, struct MHD_Connection *conn,
                                     const char *target)
{
    sb_server_request *req = calloc(1, sizeof *req);
    if (req == NULL)
        return NULL;
    req->target = strdup(target ? target : "");
    if (req->target == NULL) {
        free(req);
        return NULL;
    }
    pthread_mutex_init(&req->mu, NULL);
    req->server = server;
    req->conn = conn;
    req->start_ns = sb_http_now_ns();
    req->refs = 1;
    req->route_label = "unmatched";
    const char *q = strchr(req->target, '?');
    req->path_len = q ? (size_t)(q - req->target) : strlen(req->target);
    snprintf(req->method, sizeof req->method, "OTHER");

    const union MHD_ConnectionInfo *info =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    const struct sockaddr *sa = info ? info->client_addr : NULL;
    if (sa != NULL && sa->sa_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr,
                  req->remote_ip, sizeof req->remote_ip);
    else if (sa != NULL && sa->sa_family == AF_INET6)
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr,
                  req->remote_ip, sizeof req->remote_ip);
    return req;
}

void sb_server_request_resolve_client(sb_server_request *req)
{
    sb_http_server *server = req->server;
    if (server->n_trusted && sb_cidr_any(server->trusted, server->n_trusted, req->remote_ip))
        resolve_forwarded(req, MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND,
                                                           "X-Forwarded-For"));
}

static void free_request(sb_server_request *req)
{
    sb_route_match_clear(&req->match);
    free(req->query);
    free(req->query_storage);
    if (req->body != NULL) {
        sodium_memzero(req->body, req->body_cap);
        free(req->body);
    }
    json_decref(req->json);
    if (req->identity_free != NULL && req->identity != NULL)
        req->identity_free(req->identity);
    if (req->response != NULL) {
        sodium_memzero(req->response->data, req->response->len);
        free(req->response);
    }
    for (size_t i = 0; i < req->n_headers; i++) {
        free(req->headers[i].name);
        free(req->headers[i].value);
    }
    free(req->headers);
    free(req->target);
    pthread_mutex_destroy(&req->mu);
    free(req);
}

void sb_server_request_release(sb_server_request *req)
{
    if (req == NULL)
        return;
    pthread_mutex_lock(&req->mu);
    int last = --req->refs == 0;
    pthread_mutex_unlock(&req->mu);
    if (last)
        free_request(req);
}

/* ---- request id ------------------------------------------------------ */

int sb_server_request_id_valid(const char *id)
{
    size_t n = id ? strlen(id) : 0;
    if (n == 0 || n > SB_HTTP_REQUEST_ID_MAX)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = id[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-'))
            return 0;
    }
    return 1;
}

void sb_server_request_assign_id(sb_server_request *req)
{
    if (req->request_id[0] != '\0')
        return;
    const char *given = MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, "X-Request-Id");
    if (sb_server_request_id_valid(given)) {
        snprintf(req->request_id, sizeof req->request_id, "%s", given);
        return;
    }
    unsigned char raw[16];
    randombytes_buf(raw, sizeof raw);
    sodium_bin2hex(req->request_id, sizeof req->request_id, raw, sizeof raw);
}

/* ---- query string ---------------------------------------------------- */

int sb_server_request_parse_query(sb_server_request *req)
{
    const char *q = req->target[req->path_len] == '?' ? req->target + req->path_len + 1 : NULL;
    if (q == NULL || *q == '\0')
        return 0;
    size_t len = strlen(q), count = 1;
    for (size_t i = 0; i < len; i++)
        count += q[i] == '&';
    req->query = calloc(count, sizeof *req->query);
    req->query_storage = malloc(len + 2 * count + 2);
    if (req->query == NULL || req->query_storage == NULL)
        return -1;
    char *out = req->query_storage;
    for (const char *p = q; p <= q + len;) {
        const char *end = strchr(p, '&');
        if (end == NULL)
            end = q + len;
        const char *eq = memchr(p, '=', (size_t)(end - p));
        const char *key_end = eq ? eq : end;
        if (end > p) {
            long klen = sb_http_percent_decode(p, (size_t)(key_end - p), out, 1);
            if (klen < 0)
                return -1;
            req->query[req->n_query].name = out;
            out += klen + 1;
            long vlen = eq ? sb_http_percent_decode(eq + 1, (size_t)(end - eq - 1), out, 1) : 0;
            if (vlen < 0)
                return -1;
            if (!eq)
                *out = '\0';
            req->query[req->n_query++].value = out;
            out += vlen + 1;
        }
        p = end + 1;
    }
    return 0;
}

const char *sb_http_query(const sb_server_request *req, const char *name)
{
    for (size_t i = 0; i < req->n_query; i++)
        if (strcmp(req->query[i].name, name) == 0)
            return req->query[i].value;
    return NULL;
}

size_t sb_http_query_all(const sb_server_request *req, const char *name, const char **values,
                         size_t cap)
{
    size_t n = 0;
    for (size_t i = 0; i < req->n_query; i++) {
        if (strcmp(req->query[i].name, name) != 0)
            continue;
        if (n < cap)
            values[n] = req->query[i].value;
        n++;
    }
    return n;
}

size_t sb_http_query_count(const sb_server_request *req) { return req->n_query; }

int sb_http_query_at(const sb_server_request *req, size_t i, const char **name, const char **value)
{
    if (i >= req->n_query)
        return -1;
    *name = req->query[i].name;
    *value = req->query[i].value;
    return 0;
}

/* ---- accessors ------------------------------------------------------- */

const char *sb_http_method(const sb_server_request *req) { return req->method; }
const char *sb_http_path(const sb_server_request *req) { return req->target; }
const sb_route *sb_http_route(const sb_server_request *req) { return req->route; }
const char *sb_http_route_pattern(const sb_server_request *req) { return req->route_label; }
const char *sb_http_remote_ip(const sb_server_request *req) { return req->remote_ip; }
const char *sb_server_request_id(const sb_server_request *req) { return req->request_id; }

const char *sb_http_param(const sb_server_request *req, const char *name)
{
    for (size_t i = 0; i < req->match.n_params; i++)
        if (strcmp(req->match.param_names[i], name) == 0)
            return req->match.param_values[i];
    return NULL;
}

const char *sb_http_header(const sb_server_request *req, const char *name)
{
    return MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, name);
}

const char *sb_http_cookie(const sb_server_request *req, const char *name)
{
    return MHD_lookup_connection_value(req->conn, MHD_COOKIE_KIND, name);
}

void sb_http_set_identity(sb_server_request *req, void *identity, void (*destroy)(void *))
{
    if (req->identity_free != NULL && req->identity != NULL && req->identity != identity)
        req->identity_free(req->identity);
    req->identity = identity;
    req->identity_free = destroy;
}

void *sb_http_identity(const sb_server_request *req) { return req->identity; }

/* ---- body ------------------------------------------------------------ */

void sb_server_request_take_body(sb_server_request *req, const char *data, size_t len)
{
    size_t limit = req->server->cfg.body_limit;
    req->body_seen += len;
    if (req->body_too_large)
        return;
    if (req->body_seen > limit) {
        /* over the limit: drop what we have and only count from now on */
        req->body_too_large = 1;
        if (req->body != NULL)
            sodium_memzero(req->body, req->body_cap);
        free(req->body);
        req->body = NULL;
        req->body_len = req->body_cap = 0;
        return;
    }
    if (req->body_len + len > req->body_cap) {
        size_t cap = req->body_cap ? req->body_cap : 4096;
        while (cap < req->body_len + len)
            cap *= 2;
        if (cap > limit)
            cap = limit;
        /* grow by copy so no stale copy of the body is left unzeroed */
        unsigned char *grown = malloc(cap);
        if (grown == NULL) {
            req->body_too_large = 1;
            return;
        }
        if (req->body != NULL) {
            memcpy(grown, req->body, req->body_len);
            sodium_memzero(req->body, req->body_cap);
            free(req->body);
        }
        req->body = grown;
        req->body_cap = cap;
    }
    memcpy(req->body + req->body_len, data, len);
    req->body_len += len;
}

const unsigned char *sb_http_body(const sb_server_request *req, size_t *len)
{
    *len = req->body_len;
    return req->body_len ? req->body : NULL;
}

static int is_json_media_type(const char *ct)
{
    if (ct == NULL)
        return 0;
    while (*ct == ' ' || *ct == '\t')
        ct++;
    size_t n = strcspn(ct, "; \t");
    return n == strlen("application/json") && strncasecmp(ct, "application/json", n) == 0;
}

int sb_http_json_body(sb_server_request *req, json_t **out, sb_error *err)
{
    *out = NULL;
    if (req->json != NULL) {
        *out = req->json;
        return 0;
    }
    if (req->body_len == 0) {
        sb_error_set(err, 400, "the request needs a JSON body and none was sent");
        sb_http_respond_error(req, 400, "invalid_json",
                              "the request needs a JSON body and none was sent");
        return -1;
    }
    if (!is_json_media_type(sb_http_header(req, "Content-Type"))) {
        sb_error_set(err, 415, "the body must be sent with Content-Type: application/json");
        sb_http_respond_error(req, 415, "unsupported_media_type",
                              "the body must be sent with Content-Type: application/json");
        return -1;
    }
    json_error_t jerr;
    req->json = json_loadb((const char *)req->body, req->body_len, JSON_REJECT_DUPLICATES, &jerr);
    if (req->json == NULL) {
        /* jerr.text may quote the input; only the position is reported */
        sb_error_set(err, 400, "the request body is not valid JSON (line %d, column %d)",
                     jerr.line, jerr.column);
        sb_http_respond_error(req, 400, "invalid_json",
                              "the request body is not valid JSON (line %d, column %d)",
                              jerr.line, jerr.column);
        return -1;
    }
    *out = req->json;
    return 0;
}

int sb_http_client_gone(const sb_server_request *req)
{
    const union MHD_ConnectionInfo *i =
        MHD_get_connection_info(req->conn, MHD_CONNECTION_INFO_CONNECTION_FD);
    if (i == NULL)
        return 0;
    char c;
    ssize_t n = recv(i->connect_fd, &c, 1, MSG_PEEK | MSG_DONTWAIT);
    if (n > 0)
        return 0; /* a pipelined request waits: alive */
    if (n == 0)
        return 1; /* orderly close: the client is gone */
    return !(errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR);
}
