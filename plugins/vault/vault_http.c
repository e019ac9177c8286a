/*
 * plugins/vault/vault_http.c — talking HTTP to Vault through the host.
 *
 * Contract: builds URLs as `{address}/v1/{path}[?query]` with every path
 * segment percent-encoded, sends them through host->http with the headers
 * every Vault client sends (`X-Vault-Request: true`, `X-Vault-Token` unless
 * the request is a login, `X-Vault-Namespace` when configured), and maps
 * Vault's answers to ABI statuses (see vault_fail_http in vault.h). The
 * token header points into the token's secure buffer; request bodies stay
 * in the caller's secure buffers; nothing here copies a value.
 *
 * Also holds the small text helpers the other files share (a growable
 * string for URLs and paths, path validation, RFC 3339 parsing, Vault error
 * text extraction) because they serve request building.
 */
#include "vault.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------------- */
/* Growable strings (metadata only: URLs, paths, names)                      */
/* ------------------------------------------------------------------------- */

void vault_str_addn(vault_str *s, const char *text, size_t n)
{
    if (s->failed)
        return;
    if (s->len + n + 1 > s->cap) {
        size_t cap = s->cap ? s->cap : 64;
        while (cap < s->len + n + 1)
            cap *= 2;
        char *p = realloc(s->p, cap);
        if (p == NULL) {
            s->failed = 1;
            return;
        }
        s->p = p;
        s->cap = cap;
    }
    if (n)
        memcpy(s->p + s->len, text, n);
    s->len += n;
    s->p[s->len] = '\0';
}

void vault_str_add(vault_str *s, const char *text)
{
    vault_str_addn(s, text ? text : "", text ? strlen(text) : 0);
}

void vault_str_add_path(vault_str *s, const char *path)
{
    static const char hex[] = "0123456789ABCDEF";
    for (const unsigned char *p = (const unsigned char *)path; p && *p; p++) {
        unsigned char c = *p;
        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
            c == '-' || c == '.' || c == '_' || c == '~' || c == '/') {
            vault_str_addn(s, (const char *)p, 1);
        } else {
            char esc[3] = {'%', hex[c >> 4], hex[c & 15]};
            vault_str_addn(s, esc, 3);
        }
    }
}

void vault_str_free(vault_str *s)
{
    free(s->p);
    s->p = NULL;
    s->len = s->cap = 0;
    s->failed = 0;
}

char *vault_strdup(const char *s)
{
    if (s == NULL)
        return NULL;
    size_t n = strlen(s) + 1;
    char *p = malloc(n);
    if (p)
        memcpy(p, s, n);
    return p;
}

/* ------------------------------------------------------------------------- */
/* Path validation                                                           */
/* ------------------------------------------------------------------------- */

/* Shared by vault_check_path/prefix. curl squashes "/./" and "/../" in URL
 * paths, and an empty segment changes what Vault looks up, so none of them
 * may reach a URL: a path must never step outside the configured prefix. */
static const char *check_segments(const char *p, int allow_empty, int allow_trailing_slash)
{
    size_t n = strlen(p);
    if (n == 0)
        return allow_empty ? NULL : "the path is empty";
    if (n > VAULT_MAX_PATH)
        return "the path is longer than 1024 bytes";
    if (p[0] == '/')
        return "the path must not start with '/'";
    if (p[n - 1] == '/' && !allow_trailing_slash)
        return "the path must not end with '/'";
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)p[i];
        if (c < 0x20 || c == 0x7f)
            return "the path contains a control character";
    }
    const char *seg = p;
    while (*seg) {
        const char *end = strchr(seg, '/');
        size_t len = end ? (size_t)(end - seg) : strlen(seg);
        if (len == 0)
            return "the path contains an empty segment ('//')";
        if ((len == 1 && seg[0] == '.') || (len == 2 && seg[0] == '.' && seg[1] == '.'))
            return "the path contains a '.' or '..' segment";
        if (end == NULL)
            break;
        seg = end + 1;
    }
    return NULL;
}

const char *vault_check_path(const char *path)
{
    if (path == NULL)
        return "the path is missing";
    return check_segments(path, 0, 0);
}

const char *vault_check_prefix(const char *prefix)
{
    if (prefix == NULL)
        return NULL;
    return check_segments(prefix, 1, 1);
}

int vault_parse_version(const char *text, int64_t *out)
{
    if (text == NULL || *text == '\0' || *text == '0' || strlen(text) > 18)
        return -1;
    int64_t v = 0;
    for (const char *p = text; *p; p++) {
        if (*p < '0' || *p > '9')
            return -1;
        v = v * 10 + (*p - '0');
    }
    *out = v;
    return 0;
}

/* ------------------------------------------------------------------------- */
/* RFC 3339 times                                                            */
/* ------------------------------------------------------------------------- */

static int digits(const char *p, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (p[i] < '0' || p[i] > '9')
            return -1;
        v = v * 10 + (p[i] - '0');
    }
    *out = v;
    return 0;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant). */
static int64_t days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

int64_t vault_parse_time_ms(const char *t)
{
    int y, mo, d, h, mi, s;
    if (t == NULL || strlen(t) < 20)
        return 0;
    if (digits(t, 4, &y) || t[4] != '-' || digits(t + 5, 2, &mo) || t[7] != '-' ||
        digits(t + 8, 2, &d) || (t[10] != 'T' && t[10] != 't') || digits(t + 11, 2, &h) ||
        t[13] != ':' || digits(t + 14, 2, &mi) || t[16] != ':' || digits(t + 17, 2, &s))
        return 0;
    if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60)
        return 0;
    const char *p = t + 19;
    int ms = 0, scale = 100;
    if (*p == '.') {
        p++;
        if (*p < '0' || *p > '9')
            return 0;
        while (*p >= '0' && *p <= '9') {
            ms += (*p - '0') * scale;
            scale /= 10;
            p++;
        }
    }
    int64_t offset_s = 0;
    if (*p == 'Z' || *p == 'z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        int oh, om;
        if (digits(p + 1, 2, &oh) || p[3] != ':' || digits(p + 4, 2, &om))
            return 0;
        offset_s = (int64_t)(oh * 3600 + om * 60) * (*p == '-' ? -1 : 1);
        p += 6;
    } else {
        return 0;
    }
    if (*p != '\0')
        return 0;
    int64_t secs = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s - offset_s;
    return secs * 1000 + ms;
}

/* ------------------------------------------------------------------------- */
/* Vault error text                                                          */
/* ------------------------------------------------------------------------- */

void vault_error_text(const sb_json *doc, char *out, size_t cap)
{
    const sb_host_api *h = vault_host;
    if (cap == 0)
        return;
    out[0] = '\0';
    if (doc == NULL)
        return;
    const sb_json_node *e = h->json_pointer(h->json_root(doc), "/errors/0");
    size_t len = 0;
    const char *text = h->json_string(e, &len);
    if (text == NULL)
        return;
    /* go-multierror: "1 error occurred:\n\t* permission denied\n\n" */
    const char *star = strstr(text, "occurred:");
    if (star && (star = strstr(star, "* ")) != NULL) {
        len -= (size_t)(star + 2 - text);
        text = star + 2;
    }
    size_t o = 0, limit = cap - 1 < VAULT_ERROR_TEXT_MAX ? cap - 1 : VAULT_ERROR_TEXT_MAX;
    int space = 0;
    for (size_t i = 0; i < len && o < limit; i++) {
        unsigned char c = (unsigned char)text[i];
        if (c <= 0x20 || c >= 0x7f) {
            space = o > 0;
            continue;
        }
        if (space && o + 1 < limit)
            out[o++] = ' ';
        space = 0;
        out[o++] = (char)c;
    }
    if (o == limit && limit >= 3 && len > limit)
        memcpy(out + limit - 3, "...", 3);
    out[o] = '\0';
}

/* ------------------------------------------------------------------------- */
/* Requests                                                                  */
/* ------------------------------------------------------------------------- */

sb_status vault_check_call(const sb_call *call, const char *what, sb_result *res)
{
    const sb_host_api *h = vault_host;
    if (!h->call_expired(call))
        return SB_OK;
    if (h->call_remaining_ms(call) <= 0)
        return h->fail(res, SB_E_TIMEOUT, 0, "%s: the call's deadline passed", what);
    return h->fail(res, SB_E_CANCELLED, 0, "%s: the call was cancelled", what);
}

/* One request as host->http takes it, and the storage it points into. */
typedef struct vault_wire {
    vault_str url;
    sb_kv headers[4];
    sb_http_request req;
} vault_wire;

static sb_status wire_build(vault_instance *vi, const vault_request *rq, vault_wire *w, sb_result *res)
{
    const sb_host_api *h = vault_host;
    memset(w, 0, sizeof *w);
    vault_str_add(&w->url, vi->address);
    vault_str_add(&w->url, "/v1/");
    vault_str_add(&w->url, rq->path);
    if (rq->query) {
        vault_str_add(&w->url, "?");
        vault_str_add(&w->url, rq->query);
    }
    if (w->url.failed) {
        vault_str_free(&w->url);
        return h->fail(res, SB_E_INTERNAL, 0, "%s: out of memory building the URL",
                       rq->metric_op);
    }

    size_t nh = 0;
    w->headers[nh++] = (sb_kv){"X-Vault-Request", "true"};
    if (!rq->anonymous && vi->tok.have) {
        size_t tlen = 0;
        const unsigned char *tok = h->secure_data(vi->tok.token, &tlen);
        w->headers[nh++] = (sb_kv){"X-Vault-Token", (const char *)tok};
    }
    if (vi->vault_namespace)
        w->headers[nh++] = (sb_kv){"X-Vault-Namespace", vi->vault_namespace};
    if (rq->body)
        w->headers[nh++] = (sb_kv){"Content-Type", "application/json"};

    sb_http_request *req = &w->req;
    req->struct_size = (uint32_t)sizeof *req;
    req->flags = vi->http_flags | (rq->idempotent ? SB_HTTP_RETRY : 0) |
                 (rq->body_secret ? SB_HTTP_BODY_SECRET : 0);
    req->method = rq->method;
    req->url = w->url.p;
    req->headers = w->headers;
    req->n_headers = nh;
    if (rq->body) {
        size_t blen = 0;
        req->body = h->secure_data(rq->body, &blen);
        req->body_len = blen;
    }
    req->timeout_ms = vi->timeout_ms;
    req->ca_file = vi->ca_file;
    req->metric_op = rq->metric_op;
    req->tls_server_name = vi->tls_server_name;
    return SB_OK;
}

sb_status vault_http_send(vault_instance *vi, const sb_call *call, const vault_request *rq,
                          sb_http_response *resp, sb_result *res)
{
    const sb_host_api *h = vault_host;
    sb_status st = vault_check_call(call, rq->metric_op, res);
    if (st != SB_OK)
        return st;
    vault_wire w;
    if ((st = wire_build(vi, rq, &w, res)) != SB_OK)
        return st;
    memset(resp, 0, sizeof *resp);
    resp->struct_size = (uint32_t)sizeof *resp;
    st = h->http(call, &w.req, resp, res);
    vault_str_free(&w.url);
    return st;
}

sb_status vault_call(vault_instance *vi, const sb_call *call, const vault_request *rq,
                     sb_http_response *resp, sb_result *res)
{
    const sb_host_api *h = vault_host;
    sb_status st;
    if (!rq->anonymous) {
        st = vault_auth_ensure(vi, call, res);
        if (st != SB_OK)
            return st;
    }
    st = vault_http_send(vi, call, rq, resp, res);
    if (st != SB_OK || rq->anonymous || resp->status != 403)
        return st;

    /* 403: an expired or revoked token answers exactly like a policy
     * denial. Let the auth method find out which, once. */
    int retry = 0;
    st = vault_auth_after_denied(vi, call, &retry, res);
    if (st != SB_OK) {
        h->http_response_free(resp);
        return st;
    }
    if (!retry)
        return SB_OK; /* the 403 stands: the caller reports DENIED */
    h->http_response_free(resp);
    return vault_http_send(vi, call, rq, resp, res);
}

/* ---- several independent requests ------------------------------------ */

/* One request through vault_call, its outcome handed to fn. */
static sb_status call_one(vault_instance *vi, const sb_call *call, const vault_request *rq, size_t i,
                          vault_response_fn fn, void *ctx, sb_result *res)
{
    const sb_host_api *h = vault_host;
    sb_result outcome = SB_RESULT_INIT;
    sb_http_response resp;
    sb_status st = vault_call(vi, call, rq, &resp, &outcome);
    outcome.status = st;
    sb_status cb = fn(ctx, i, &outcome, st == SB_OK ? &resp : NULL, res);
    if (st == SB_OK)
        h->http_response_free(&resp);
    h->result_release(&outcome);
    return cb;
}

/* Requests first..first+n through one host->http_batch. */
static sb_status call_batch(vault_instance *vi, const sb_call *call, const vault_request *rqs,
                            size_t first, size_t n, vault_response_fn fn, void *ctx, sb_result *res)
{
    const sb_host_api *h = vault_host;
    vault_wire *wires = calloc(n, sizeof *wires);
    const sb_http_request **reqs = calloc(n, sizeof *reqs);
    sb_status st = wires && reqs ? SB_OK : h->fail(res, SB_E_INTERNAL, 0, "out of memory");
    size_t built = 0;
    for (; st == SB_OK && built < n; built++) {
        st = wire_build(vi, &rqs[first + built], &wires[built], res);
        reqs[built] = &wires[built].req;
    }
    sb_http_batch *batch = NULL;
    if (st == SB_OK)
        st = vault_check_call(call, rqs[first].metric_op, res);
    if (st == SB_OK)
        st = h->http_batch(call, reqs, n, &batch, res);
    for (size_t i = 0; st == SB_OK && i < n; i++) {
        const sb_http_response *resp = NULL;
        const sb_result *outcome = h->http_batch_result(batch, i, &resp);
        if (resp && resp->status == 403 && !rqs[first + i].anonymous)
            /* as for one request: the auth method reacts, once */
            st = call_one(vi, call, &rqs[first + i], first + i, fn, ctx, res);
        else
            st = fn(ctx, first + i, outcome, resp, res);
    }
    h->http_batch_free(batch);
    for (size_t i = 0; wires && i < built; i++)
        vault_str_free(&wires[i].url);
    free(wires);
    free(reqs);
    return st;
}

sb_status vault_call_each(vault_instance *vi, const sb_call *call, const vault_request *rqs,
                          size_t n, vault_response_fn fn, void *ctx, sb_result *res)
{
    sb_status st = SB_OK;
    if (!vault_host_has_batch()) {
        for (size_t i = 0; st == SB_OK && i < n; i++)
            st = call_one(vi, call, &rqs[i], i, fn, ctx, res);
        return st;
    }
    for (size_t first = 0; st == SB_OK && first < n; first += SB_HTTP_BATCH_MAX) {
        size_t k = n - first < SB_HTTP_BATCH_MAX ? n - first : SB_HTTP_BATCH_MAX;
        int authenticated = 0;
        for (size_t i = first; i < first + k; i++)
            authenticated |= !rqs[i].anonymous;
        if (authenticated && (st = vault_auth_ensure(vi, call, res)) != SB_OK)
            break;
        st = call_batch(vi, call, rqs, first, k, fn, ctx, res);
    }
    return st;
}

int vault_host_has_batch(void)
{
    return SB_HAS_FIELD(vault_host, sb_host_api, http_batch_free);
}

sb_status vault_parse_body(const sb_http_response *resp, sb_json **doc, const char *what,
                           sb_result *res)
{
    const sb_host_api *h = vault_host;
    size_t len = 0;
    const unsigned char *body = resp->body ? h->secure_data(resp->body, &len) : NULL;
    *doc = NULL;
    if (body == NULL || len == 0)
        return h->fail(res, SB_E_PROTOCOL, 0, "%s: Vault answered HTTP %ld with an empty body",
                       what, resp->status);
    sb_result inner = SB_RESULT_INIT;
    sb_status parsed = h->json_parse(body, len, doc, &inner);
    h->result_release(&inner);
    if (parsed != SB_OK) {
        *doc = NULL;
        return h->fail(res, SB_E_PROTOCOL, 0,
                       "%s: Vault answered HTTP %ld with a body that is not valid JSON "
                       "(truncated or not from Vault?)",
                       what, resp->status);
    }
    return SB_OK;
}

static int is_cas_mismatch(const char *text)
{
    return strstr(text, "check-and-set parameter did not match the current version") != NULL;
}

sb_status vault_fail_http(const sb_http_response *resp, const char *what, sb_result *res)
{
    const sb_host_api *h = vault_host;
    char text[VAULT_ERROR_TEXT_MAX + 8] = "";
    sb_json *doc = NULL;
    size_t len = 0;
    if (resp->body && h->secure_data(resp->body, &len) && len > 0) {
        sb_result ignored = SB_RESULT_INIT;
        if (h->json_parse(h->secure_data(resp->body, &len), len, &doc, &ignored) == SB_OK)
            vault_error_text(doc, text, sizeof text);
        h->json_free(doc);
        h->result_release(&ignored);
    }
    const char *sep = text[0] ? ": " : "";
    long code = resp->status;
    uint32_t after = resp->retry_after_ms;
    switch (code) {
    case 400:
        if (is_cas_mismatch(text))
            return h->fail(res, SB_E_CONFLICT, 0,
                           "%s: the secret changed since it was read (compare-and-set "
                           "mismatch); re-read and merge",
                           what);
        return h->fail(res, SB_E_INVALID, 0, "%s: Vault rejected the request (HTTP 400)%s%s",
                       what, sep, text);
    case 403:
        return h->fail(res, SB_E_DENIED, 0,
                       "%s: permission denied by Vault (HTTP 403); check the policy of the "
                       "configured identity",
                       what);
    case 404:
        return h->fail(res, SB_E_NOT_FOUND, 0, "%s: not found (HTTP 404)", what);
    case 405:
        return h->fail(res, SB_E_UNSUPPORTED, 0,
                       "%s: Vault does not support this operation here (HTTP 405)%s%s; is the "
                       "mount a KV version 2 / Transit engine?",
                       what, sep, text);
    case 413:
        return h->fail(res, SB_E_TOO_LARGE, 0, "%s: the request is too large for Vault (HTTP 413)",
                       what);
    case 429:
        return h->fail(res, SB_E_THROTTLED, after, "%s: rate limited by Vault (HTTP 429)%s%s", what,
                       sep, text);
    default:
        break;
    }
    if (code == 412 || (code >= 500 && code <= 599))
        return h->fail(res, SB_E_UNAVAILABLE, after, "%s: Vault is unavailable (HTTP %ld)%s%s",
                       what, code, sep, text);
    return h->fail(res, SB_E_PROTOCOL, 0, "%s: unexpected HTTP status %ld from Vault%s%s", what,
                   code, sep, text);
}
