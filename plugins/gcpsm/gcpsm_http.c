/*
 * plugins/gcpsm/gcpsm_http.c — one authenticated Secret Manager REST call
 * through the host, and google.rpc.Status errors -> ABI statuses.
 *
 * Contract: requests go to `{endpoint}/v1/projects/{project}/{rel}` with
 * `Authorization: Bearer <token>` straight from the instance's secure cache
 * (header values are never logged by the host) and, with a body,
 * `Content-Type: application/json`. No SB_HTTP_RETRY: RESOURCE_EXHAUSTED and
 * UNAVAILABLE go back to the job layer as THROTTLED / UNAVAILABLE with the
 * Retry-After hint (or the service config's initial 2 s backoff), so the
 * agent's per-instance backoff sees them. A 401 forgets the cached token and
 * retries once with a fresh one; a second 401 is DENIED. Error texts are
 * Google's `error.message` (which names resources, never payloads), copied
 * out of secure memory as printable ASCII and truncated.
 */
#include "gcpsm.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *gcpsm_check_url(const char *v, int insecure_ok, int plain_ok)
{
    int plain = strncmp(v, "http://", 7) == 0;
    if (!plain && strncmp(v, "https://", 8) != 0)
        return "must start with https:// (or http://)";
    if (strpbrk(v, "?#") != NULL)
        return "must not contain a query or fragment";
    const char *host = v + (plain ? 7 : 8);
    size_t n = strcspn(host, ":/");
    int loopback = strncmp(host, "127.", 4) == 0 || strncmp(host, "[::1]", 5) == 0 ||
                   (n == 9 && strncmp(host, "localhost", 9) == 0);
    if (plain && !plain_ok && !insecure_ok && !loopback)
        return "plain http:// to a non-loopback host needs allow_insecure_http: true";
    return NULL;
}

sb_status gcpsm_check_call(const sb_call *call, const char *what, sb_result *res)
{
    const sb_host_api *h = gcpsm_host;
    if (!h->call_expired(call))
        return SB_OK;
    if (h->call_remaining_ms(call) <= 0)
        return h->fail(res, SB_E_TIMEOUT, 0, "%s: the call's deadline passed", what);
    return h->fail(res, SB_E_CANCELLED, 0, "%s: the call was cancelled", what);
}

sb_status gcpsm_send(gcpsm_instance *gi, const sb_call *call, const char *method,
                     const char *url, const sb_kv *headers, size_t n_headers,
                     const sb_secure_buf *body, uint32_t extra_flags, const char *metric_op,
                     sb_http_response *resp, sb_result *res)
{
    const sb_host_api *h = gcpsm_host;
    sb_status st = gcpsm_check_call(call, metric_op, res);
    if (st != SB_OK)
        return st;
    sb_http_request req;
    memset(&req, 0, sizeof req);
    req.struct_size = (uint32_t)sizeof req;
    req.flags = gi->http_flags | extra_flags;
    req.method = method;
    req.url = url;
    req.headers = headers;
    req.n_headers = n_headers;
    if (body) {
        size_t blen = 0;
        req.body = h->secure_data(body, &blen);
        req.body_len = blen;
    }
    req.timeout_ms = gi->timeout_ms;
    req.ca_file = gi->ca_file;
    req.metric_op = metric_op;
    memset(resp, 0, sizeof *resp);
    resp->struct_size = (uint32_t)sizeof *resp;
    return h->http(call, &req, resp, res);
}

sb_status gcpsm_parse_object(const sb_http_response *resp, const char *what, sb_json **doc,
                             sb_result *res)
{
    const sb_host_api *h = gcpsm_host;
    size_t len = 0;
    const unsigned char *text = resp->body ? h->secure_data(resp->body, &len) : NULL;
    sb_result inner = SB_RESULT_INIT;
    sb_status st = text && len ? h->json_parse(text, len, doc, &inner) : SB_E_PROTOCOL;
    h->result_release(&inner);
    if (st != SB_OK || h->json_type(h->json_root(*doc)) != SB_JSON_OBJECT) {
        h->json_free(*doc);
        *doc = NULL;
        return h->fail(res, SB_E_PROTOCOL, 0,
                       "%s: the answer (HTTP %ld) is not a JSON object", what, resp->status);
    }
    return SB_OK;
}

static int is(const char *s, const char *const *names)
{
    for (; *names; names++)
        if (strcmp(s, *names) == 0)
            return 1;
    return 0;
}

sb_status gcpsm_fail_status(const sb_http_response *resp, const char *what, char *status_out,
                            size_t cap, sb_result *res)
{
    const sb_host_api *h = gcpsm_host;
    char status[48] = "", msg[GCPSM_ERROR_TEXT_MAX + 1] = "";
    size_t len = 0;
    const unsigned char *body = resp->body ? h->secure_data(resp->body, &len) : NULL;
    if (body && len && body[0] == '{') {
        sb_json *doc = NULL;
        sb_result ignored = SB_RESULT_INIT;
        if (h->json_parse(body, len, &doc, &ignored) == SB_OK) {
            const sb_json_node *err = h->json_pointer(h->json_root(doc), "/error");
            size_t n = 0;
            const char *s = h->json_string(h->json_pointer(err, "/status"), &n);
            if (s)
                sbp_clean_copy(s, n, status, sizeof status);
            const char *m = h->json_string(h->json_pointer(err, "/message"), &n);
            if (m)
                sbp_clean_copy(m, n, msg, sizeof msg);
        }
        h->json_free(doc);
        h->result_release(&ignored);
    }
    if (status_out && cap)
        snprintf(status_out, cap, "%s", status);
    long code = resp->status;
    uint32_t after = resp->retry_after_ms;
    const char *sep = msg[0] ? ": " : "";
    static const char *const denied[] = {"PERMISSION_DENIED", "UNAUTHENTICATED", NULL};
    static const char *const conflict[] = {"ABORTED", "ALREADY_EXISTS", NULL};
    static const char *const unavailable[] = {"UNAVAILABLE", "INTERNAL", "DEADLINE_EXCEEDED",
                                              "UNKNOWN", NULL};
    static const char *const invalid[] = {"INVALID_ARGUMENT", "OUT_OF_RANGE", NULL};

    if (strcmp(status, "NOT_FOUND") == 0 || (status[0] == '\0' && code == 404))
        return h->fail(res, SB_E_NOT_FOUND, 0, "%s: not found (NOT_FOUND)%s%s", what, sep, msg);
    if (is(status, denied) || (status[0] == '\0' && (code == 401 || code == 403)))
        return h->fail(res, SB_E_DENIED, 0,
                       "%s: Google refused the request (%s)%s%s; check the service account's "
                       "IAM roles on the secret and the project (see docs/plugins/gcpsm.md)",
                       what, status[0] ? status : "HTTP 401/403", sep, msg);
    if (strcmp(status, "FAILED_PRECONDITION") == 0 &&
        (strstr(msg, "DESTROYED state") || strstr(msg, "DISABLED state")))
        return h->fail(res, SB_E_GONE, 0, "%s: the version is %s (FAILED_PRECONDITION)", what,
                       strstr(msg, "DESTROYED") ? "destroyed" : "disabled");
    if (strcmp(status, "FAILED_PRECONDITION") == 0 || is(status, conflict) || code == 409)
        return h->fail(res, SB_E_CONFLICT, 0, "%s: %s%s%s", what,
                       status[0] ? status : "HTTP 409", sep, msg);
    if (strcmp(status, "RESOURCE_EXHAUSTED") == 0 || code == 429)
        return h->fail(res, SB_E_THROTTLED, after ? after : GCPSM_THROTTLE_BACKOFF_MS,
                       "%s: rate limited by Google (%s)", what,
                       status[0] ? status : "HTTP 429");
    if (is(status, unavailable) || (code >= 500 && code <= 599))
        return h->fail(res, SB_E_UNAVAILABLE, after, "%s: Secret Manager is unavailable (HTTP %ld%s%s)",
                       what, code, status[0] ? ", " : "", status);
    if (is(status, invalid) || (status[0] == '\0' && code == 400))
        return h->fail(res, SB_E_INVALID, 0, "%s: Google rejected the request (%s)%s%s", what,
                       status[0] ? status : "HTTP 400", sep, msg);
    if (strcmp(status, "UNIMPLEMENTED") == 0)
        return h->fail(res, SB_E_UNSUPPORTED, 0,
                       "%s: the endpoint does not implement this method; is the endpoint right?",
                       what);
    return h->fail(res, SB_E_PROTOCOL, 0, "%s: unexpected answer from Google (HTTP %ld)%s%s", what,
                   code, status[0] ? ", " : "", status);
}

sb_status gcpsm_call(gcpsm_instance *gi, const sb_call *call, const char *method,
                     const char *rel, const sb_secure_buf *body, int body_secret,
                     const char *metric_op, sb_json **doc, char *rpc_status, size_t cap,
                     sb_result *res)
{
    const sb_host_api *h = gcpsm_host;
    *doc = NULL;
    if (rpc_status && cap)
        rpc_status[0] = '\0';
    sbp_str url = {0};
    sbp_str_add(&url, gi->endpoint);
    sbp_str_add(&url, "/v1/projects/");
    sbp_str_add(&url, gi->project);
    sbp_str_add(&url, "/");
    sbp_str_add(&url, rel);
    if (url.failed) {
        sbp_str_free(&url);
        return h->fail(res, SB_E_INTERNAL, 0, "%s: out of memory", metric_op);
    }
    sb_status st = SB_OK;
    for (int attempt = 0; attempt < 2; attempt++) {
        const char *bearer = NULL;
        if ((st = gcpsm_token_get(gi, call, &bearer, res)) != SB_OK)
            break;
        sb_kv headers[2] = {{"Authorization", bearer}, {"Content-Type", "application/json"}};
        sb_http_response resp;
        st = gcpsm_send(gi, call, method, url.p, headers, body ? 2 : 1, body,
                        body_secret ? SB_HTTP_BODY_SECRET : 0, metric_op, &resp, res);
        if (st != SB_OK)
            break;
        if (resp.status == 200) {
            st = gcpsm_parse_object(&resp, metric_op, doc, res);
            h->http_response_free(&resp);
            break;
        }
        if (resp.status == 401 && attempt == 0) {
            h->http_response_free(&resp);
            gcpsm_token_forget(gi); /* expired or revoked: fetch a fresh one, once */
            continue;
        }
        st = gcpsm_fail_status(&resp, metric_op, rpc_status, cap, res);
        h->http_response_free(&resp);
        break;
    }
    sbp_str_free(&url);
    return st;
}
