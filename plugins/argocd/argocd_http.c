/*
 * plugins/argocd/argocd_http.c — the plugin's only door to the network.
 *
 * Contract: argocd_http_get and argocd_http_list (through send_get, the
 * single caller of host->http in this plugin) refuse every method but GET
 * before any I/O (SB_E_UNSUPPORTED): observing a GitOps application never
 * changes it, so not even a bug elsewhere in the plugin can send a sync, a
 * refresh-by-POST or a delete. (The plugin also never asks for
 * `?refresh=`: a refresh makes the server annotate the Application, a write
 * in disguise.) URLs are `{base_url}/api/v1/applications/{app}{suffix}`
 * plus `?project=` when the instance names a project, and
 * `{base_url}/api/v1/applications[?projects=]` for the listing; names are
 * validated, not encoded.
 * The Authorization header points into the instance's secure buffer.
 * Non-2xx answers are grpc-gateway JSON (`{"error","code","message"}`) and
 * are mapped by argocd_fail_http (see argocd.h).
 */
#include "argocd.h"

#include <stdio.h>
#include <string.h>

const char *argocd_check_app_name(const char *name)
{
    if (name == NULL || name[0] == '\0')
        return "an application name is required";
    size_t n = strlen(name);
    if (n > ARGOCD_MAX_APP_NAME)
        return "an application name has at most 253 characters";
    for (size_t i = 0; i < n; i++) {
        char c = name[i];
        int alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
        if (!alnum && c != '-' && c != '.')
            return "an application name may hold only a-z, 0-9, '-' and '.'";
        if (!alnum && (i == 0 || i == n - 1))
            return "an application name starts and ends with a letter or digit";
    }
    return NULL;
}

sb_status argocd_check_call(const sb_call *call, const char *what, sb_result *res)
{
    const sb_host_api *h = argocd_host;
    if (!h->call_expired(call))
        return SB_OK;
    if (h->call_remaining_ms(call) <= 0)
        return h->fail(res, SB_E_TIMEOUT, 0, "%s: the call's deadline passed", what);
    return h->fail(res, SB_E_CANCELLED, 0, "%s: the call was cancelled", what);
}

/* The one caller of host->http: GET `url` with the bearer token. */
static sb_status send_get(const argocd_instance *ai, const sb_call *call, const char *url,
                          const char *metric_op, sb_http_response *resp, sb_result *res)
{
    const sb_host_api *h = argocd_host;
    size_t auth_len = 0;
    sb_kv headers[2] = {
        {"Authorization", (const char *)h->secure_data(ai->authorization, &auth_len)},
        {"Accept", "application/json"},
    };
    sb_http_request req;
    memset(&req, 0, sizeof req);
    req.struct_size = (uint32_t)sizeof req;
    req.flags = SB_HTTP_RETRY; /* GET is idempotent */
    req.method = "GET";
    req.url = url;
    req.headers = headers;
    req.n_headers = sizeof headers / sizeof headers[0];
    req.timeout_ms = ai->timeout_ms;
    req.ca_file = ai->ca_file;
    req.metric_op = metric_op;
    req.tls_server_name = ai->tls_server_name;
    memset(resp, 0, sizeof *resp);
    resp->struct_size = (uint32_t)sizeof *resp;
    return h->http(call, &req, resp, res);
}

/* Refuses anything but GET and an expired call; SB_OK to go on. */
static sb_status may_send(const sb_call *call, const char *method, const char *metric_op,
                          sb_result *res)
{
    if (method == NULL || strcmp(method, "GET") != 0)
        return argocd_host->fail(
            res, SB_E_UNSUPPORTED, 0,
            "argocd: refusing %.16s %s: this plugin is read-only and sends GET only",
            method ? method : "(no method)", metric_op);
    return argocd_check_call(call, metric_op, res);
}

/* Sends the URL built in `url` (freed here). */
static sb_status send_built(const argocd_instance *ai, const sb_call *call, argocd_str *url,
                            const char *metric_op, sb_http_response *resp, sb_result *res)
{
    sb_status st;
    if (url->failed)
        st = argocd_host->fail(res, SB_E_INTERNAL, 0, "argocd %s: out of memory building the URL",
                               metric_op);
    else
        st = send_get(ai, call, url->p, metric_op, resp, res);
    argocd_str_free(url);
    return st;
}

sb_status argocd_http_get(const argocd_instance *ai, const sb_call *call, const char *method,
                          const char *app, const char *suffix, const char *metric_op,
                          sb_http_response *resp, sb_result *res)
{
    sb_status st = may_send(call, method, metric_op, res);
    if (st != SB_OK)
        return st;
    const char *why = argocd_check_app_name(app);
    if (why != NULL)
        return argocd_host->fail(res, SB_E_INVALID, 0, "argocd %s: %s", metric_op, why);
    argocd_str url = {0};
    argocd_str_add(&url, ai->base_url);
    argocd_str_add(&url, "/api/v1/applications/");
    argocd_str_add(&url, app);
    argocd_str_add(&url, suffix);
    if (ai->project) {
        argocd_str_add(&url, "?project=");
        argocd_str_add(&url, ai->project); /* validated: [a-z0-9.-] */
    }
    return send_built(ai, call, &url, metric_op, resp, res);
}

sb_status argocd_http_list(const argocd_instance *ai, const sb_call *call, const char *method,
                           const char *project, sb_http_response *resp, sb_result *res)
{
    sb_status st = may_send(call, method, "list_applications", res);
    if (st != SB_OK)
        return st;
    if (project != NULL && argocd_check_app_name(project) != NULL)
        return argocd_host->fail(res, SB_E_INVALID, 0,
                                 "argocd list_applications: project must be an Argo CD project "
                                 "name (a-z, 0-9, '-', '.')");
    argocd_str url = {0};
    argocd_str_add(&url, ai->base_url);
    argocd_str_add(&url, "/api/v1/applications");
    if (project) {
        argocd_str_add(&url, "?projects=");
        argocd_str_add(&url, project); /* validated: [a-z0-9.-] */
    }
    return send_built(ai, call, &url, "list_applications", resp, res);
}

/* Argo CD's `message` (or `error`) as short printable ASCII; "" if none. */
static void error_text(const sb_http_response *resp, char *out, size_t cap)
{
    const sb_host_api *h = argocd_host;
    out[0] = '\0';
    size_t len = 0;
    const unsigned char *body = resp->body ? h->secure_data(resp->body, &len) : NULL;
    sb_json *doc = NULL;
    sb_result scratch = SB_RESULT_INIT;
    if (body == NULL || len == 0 || h->json_parse(body, len, &doc, &scratch) != SB_OK) {
        h->result_release(&scratch);
        return;
    }
    const sb_json_node *root = h->json_root(doc);
    size_t n = 0;
    const char *text = h->json_string(h->json_pointer(root, "/message"), &n);
    if (text == NULL || n == 0)
        text = h->json_string(h->json_pointer(root, "/error"), &n);
    size_t limit = cap < ARGOCD_ERROR_TEXT_MAX + 1 ? cap : ARGOCD_ERROR_TEXT_MAX + 1;
    argocd_printable_copy(text, text ? n : 0, out, limit);
    h->json_free(doc);
    h->result_release(&scratch);
}

sb_status argocd_fail_http(const sb_http_response *resp, const char *what, const char *app,
                           sb_result *res)
{
    const sb_host_api *h = argocd_host;
    char text[ARGOCD_ERROR_TEXT_MAX + 1];
    error_text(resp, text, sizeof text);
    long code = resp->status;
    uint32_t after = resp->retry_after_ms;
    if (code == 401 && strstr(text, "expired") != NULL)
        return h->fail(res, SB_E_AUTH_EXPIRED, 0,
                       "argocd %s %s: 401 the token has expired (%s); issue a new one", what, app,
                       text);
    if (code == 401)
        return h->fail(res, SB_E_DENIED, 0,
                       "argocd %s %s: 401 the token was not accepted (%s); check the token", what,
                       app, text);
    if (code == 403)
        return h->fail(res, SB_E_DENIED, 0,
                       "argocd %s %s: 403 %s: the application does not exist or the token may not "
                       "read it (Argo CD answers 403 for both; configure project to tell them "
                       "apart)",
                       what, app, text[0] ? text : "permission denied");
    if (code == 404)
        return h->fail(res, SB_E_NOT_FOUND, 0, "argocd %s %s: 404 %s", what, app, text);
    if (code == 400)
        return h->fail(res, SB_E_INVALID, 0, "argocd %s %s: 400 %s", what, app, text);
    if (code == 429)
        return h->fail(res, SB_E_THROTTLED, after, "argocd %s %s: 429 throttled (%s)", what, app,
                       text);
    if (code >= 500 && code <= 599)
        return h->fail(res, SB_E_UNAVAILABLE, after, "argocd %s %s: %ld unavailable (%s)", what,
                       app, code, text);
    return h->fail(res, SB_E_PROTOCOL, 0, "argocd %s %s: unexpected HTTP %ld (%s)", what, app,
                   code, text);
}

sb_status argocd_json_answer(sb_http_response *resp, const char *what, const char *app,
                             sb_json **doc, sb_result *res)
{
    const sb_host_api *h = argocd_host;
    sb_status st;
    *doc = NULL;
    if (resp->status != 200) {
        st = argocd_fail_http(resp, what, app, res);
        h->http_response_free(resp);
        return st;
    }
    size_t len = 0;
    const unsigned char *body = resp->body ? h->secure_data(resp->body, &len) : NULL;
    st = body ? h->json_parse(body, len, doc, res) : SB_E_PROTOCOL;
    h->http_response_free(resp);
    if (st != SB_OK || h->json_type(h->json_root(*doc)) != SB_JSON_OBJECT) {
        h->json_free(*doc);
        *doc = NULL;
        h->result_release(res);
        return h->fail(res, SB_E_PROTOCOL, 0, "argocd %s %s: the answer is not a JSON object",
                       what, app);
    }
    return SB_OK;
}
