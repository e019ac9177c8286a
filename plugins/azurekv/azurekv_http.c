/*
 * plugins/azurekv/azurekv_http.c — one authenticated Key Vault call through
 * the host, and KeyVaultError mapping.
 *
 * Contract:
 *   - Challenge first, as the Azure SDKs do: while the instance has no
 *     cached challenge, the request goes out once without Authorization and
 *     without a body; the 401's WWW-Authenticate names the tenant and the
 *     resource (azurekv_challenge.c) and is cached for the instance. Any
 *     other answer to that probe is mapped as an error (a vault that serves
 *     without authentication is not one we trust).
 *   - Then the request with `Authorization: Bearer <token>` (the header value
 *     is built in secure memory). A 401 forgets the token, takes the new
 *     challenge when one came (tenant moves) and retries once; a second 401
 *     is SB_E_DENIED.
 *   - GETs may be retried by the host on 429/502/503/504 within the call's
 *     deadline (SB_HTTP_RETRY: exponential backoff, Retry-After honoured);
 *     PUTs are not (a retried PUT could make a second version). What is still
 *     throttled after that goes back as SB_E_THROTTLED with the Retry-After
 *     hint when Key Vault sent one (it often does not: the job layer then
 *     backs off on its own).
 *   - Key Vault's error messages name secrets, never values; they are copied
 *     out as printable ASCII and truncated.
 */
#include "azurekv.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

sb_status akv_check_call(const sb_call *call, const char *what, sb_result *res)
{
    const sb_host_api *h = akv_host;
    if (!h->call_expired(call))
        return SB_OK;
    if (h->call_remaining_ms(call) <= 0)
        return h->fail(res, SB_E_TIMEOUT, 0, "%s: the call's deadline passed", what);
    return h->fail(res, SB_E_CANCELLED, 0, "%s: the call was cancelled", what);
}

char *akv_vault_url(const akv_instance *ai, const char *path, const char *extra_query)
{
    return akv_format("%s%s?api-version=%s%s%s", ai->vault_url, path, ai->api_version,
                      extra_query ? "&" : "", extra_query ? extra_query : "");
}

sb_status akv_send(akv_instance *ai, const sb_call *call, const char *method, const char *url,
                   const sb_kv *headers, size_t n_headers, const sb_secure_buf *body,
                   uint32_t flags, const char *metric_op, sb_http_response *resp,
                   sb_result *res)
{
    const sb_host_api *h = akv_host;
    sb_status st = akv_check_call(call, metric_op, res);
    if (st != SB_OK)
        return st;
    size_t body_len = 0;
    const unsigned char *body_data = body ? h->secure_data(body, &body_len) : NULL;
    sb_http_request req = {.struct_size = (uint32_t)sizeof req, .flags = flags, .method = method,
                           .url = url, .headers = headers, .n_headers = n_headers,
                           .body = body_data, .body_len = body_len,
                           .timeout_ms = ai->timeout_ms, .ca_file = ai->ca_file,
                           .metric_op = metric_op};
    memset(resp, 0, sizeof *resp);
    resp->struct_size = (uint32_t)sizeof *resp;
    return h->http(call, &req, resp, res);
}

sb_json *akv_parse_response(const sb_http_response *resp)
{
    const sb_host_api *h = akv_host;
    size_t len = 0;
    const unsigned char *body = resp->body ? h->secure_data(resp->body, &len) : NULL;
    sb_json *doc = NULL;
    sb_result ignored = SB_RESULT_INIT;
    if (body == NULL || len == 0 || h->json_parse(body, len, &doc, &ignored) != SB_OK ||
        h->json_type(h->json_root(doc)) != SB_JSON_OBJECT) {
        h->json_free(doc);
        doc = NULL;
    }
    h->result_release(&ignored);
    return doc;
}

/* ---- errors ------------------------------------------------------------------------ */

sb_status akv_fail_keyvault(const sb_http_response *resp, const char *what, sb_result *res)
{
    const sb_host_api *h = akv_host;
    char code[64] = "", inner[64] = "", msg[AKV_ERROR_TEXT_MAX + 1] = "";
    sb_json *doc = akv_parse_response(resp);
    if (doc) {
        const sb_json_node *err = h->json_pointer(h->json_root(doc), "/error");
        size_t n = 0;
        const char *t = h->json_string(h->json_pointer(err, "/code"), &n);
        if (t)
            sbp_clean_copy(t, n, code, sizeof code);
        t = h->json_string(h->json_pointer(err, "/innererror/code"), &n);
        if (t)
            sbp_clean_copy(t, n, inner, sizeof inner);
        t = h->json_string(h->json_pointer(err, "/message"), &n);
        if (t)
            sbp_clean_copy(t, n, msg, sizeof msg);
        h->json_free(doc);
    }
    long status = resp->status;
    const char *sep = msg[0] ? ": " : "";
    const char *label = code[0] ? code : "no error code";
    if (status == 404)
        return h->fail(res, SB_E_NOT_FOUND, 0, "%s: not found (%s)%s%s", what, label, sep, msg);
    if (status == 401 || status == 403)
        return h->fail(res, SB_E_DENIED, 0,
                       "%s: Key Vault denied the request (HTTP %ld %s%s%s)%s%s; check the "
                       "identity's access policy or RBAC role on the vault",
                       what, status, label, inner[0] ? "/" : "", inner, sep, msg);
    if (status == 409 && strstr(msg, "deleted") != NULL)
        return h->fail(res, SB_E_GONE, 0,
                       "%s: the secret is deleted but recoverable; recover or purge it first "
                       "(%s)",
                       what, label);
    if (status == 409)
        return h->fail(res, SB_E_CONFLICT, 0, "%s: conflict (%s)%s%s", what, label, sep, msg);
    if (status == 429)
        return h->fail(res, SB_E_THROTTLED, resp->retry_after_ms,
                       "%s: throttled by Key Vault (%s)%s", what, label,
                       resp->retry_after_ms ? "" : "; no Retry-After, back off");
    if (status >= 500 && status <= 599)
        return h->fail(res, SB_E_UNAVAILABLE, resp->retry_after_ms,
                       "%s: Key Vault is unavailable (HTTP %ld %s)", what, status, label);
    if (status == 400 && (strstr(msg, "api-version") != NULL ||
                          strstr(msg, "specified version") != NULL))
        return h->fail(res, SB_E_CONFIG, 0, "%s: Key Vault refused the api-version (%s)%s%s",
                       what, label, sep, msg);
    if (status >= 400 && status < 500)
        return h->fail(res, SB_E_INVALID, 0, "%s: Key Vault rejected the request (HTTP %ld %s)%s%s",
                       what, status, label, sep, msg);
    return h->fail(res, SB_E_PROTOCOL, 0, "%s: unexpected answer from Key Vault (HTTP %ld)",
                   what, status);
}

/* ---- the call ------------------------------------------------------------------------- */

static sb_status take_challenge(akv_instance *ai, const sb_http_response *resp, const char *op,
                                sb_result *res)
{
    const sb_host_api *h = akv_host;
    const char *why = NULL;
    akv_challenge c;
    if (akv_challenge_parse(h->http_header(resp, "WWW-Authenticate"),
                            ai->verify_challenge_resource ? ai->vault_host : NULL, &c,
                            &why) != 0)
        return h->fail(res, SB_E_PROTOCOL, 0, "%s: Key Vault's 401 challenge is unusable: %s",
                       op, why);
    if (ai->tenant_id && strcasecmp(ai->tenant_id, c.tenant) != 0)
        return h->fail(res, SB_E_CONFIG, 0,
                       "%s: the vault belongs to tenant %s but tenant_id is %s; fix tenant_id "
                       "(or leave it unset to follow the vault)",
                       op, c.tenant, ai->tenant_id);
    if (ai->have_challenge && (strcmp(c.tenant, ai->challenge.tenant) != 0 ||
                               strcmp(c.scope, ai->challenge.scope) != 0))
        akv_token_forget(ai); /* another tenant or scope: the cached token is useless */
    ai->challenge = c;
    ai->have_challenge = 1;
    return SB_OK;
}

static sb_status probe(akv_instance *ai, const sb_call *call, const char *method,
                       const char *url, const char *op, sb_result *res)
{
    const sb_host_api *h = akv_host;
    sb_http_response resp;
    sb_status st = akv_send(ai, call, method, url, NULL, 0, NULL, 0, op, &resp, res);
    if (st != SB_OK)
        return st;
    if (resp.status == 401)
        st = take_challenge(ai, &resp, op, res);
    else if (resp.status >= 200 && resp.status < 300)
        st = h->fail(res, SB_E_PROTOCOL, 0,
                     "%s: the vault answered without authentication; refusing to trust it", op);
    else
        st = akv_fail_keyvault(&resp, op, res);
    h->http_response_free(&resp);
    return st;
}

static sb_status parse_ok(const sb_http_response *resp, const char *op, sb_json **doc,
                          sb_result *res)
{
    if ((*doc = akv_parse_response(resp)) != NULL)
        return SB_OK;
    return akv_host->fail(res, SB_E_PROTOCOL, 0,
                          "%s: Key Vault answered HTTP %ld with a body that is not a JSON object",
                          op, resp->status);
}

sb_status akv_vault_call(akv_instance *ai, const sb_call *call, const char *method,
                         const char *url, const sb_secure_buf *body, const char *op,
                         sb_json **doc, sb_result *res)
{
    const sb_host_api *h = akv_host;
    *doc = NULL;
    sb_status st;
    if (!ai->have_challenge && (st = probe(ai, call, method, url, op, res)) != SB_OK)
        return st;
    int is_get = strcmp(method, "GET") == 0;
    uint32_t flags = (is_get ? SB_HTTP_RETRY : 0) | (body ? SB_HTTP_BODY_SECRET : 0);
    sb_kv headers[2] = {{"Authorization", NULL}, {"Content-Type", "application/json"}};
    for (int attempt = 0; attempt < 2; attempt++) {
        const char *token = NULL;
        if ((st = akv_token_get(ai, call, &token, res)) != SB_OK)
            return st;
        sb_secure_buf *auth = h->secure_new(strlen(token) + 8);
        if (auth == NULL || h->secure_append(auth, "Bearer ", 7) ||
            h->secure_append(auth, token, strlen(token))) {
            h->secure_free(auth);
            return h->fail(res, SB_E_INTERNAL, 0, "%s: out of secure memory", op);
        }
        headers[0].value = (const char *)h->secure_data(auth, NULL);
        sb_http_response resp;
        st = akv_send(ai, call, method, url, headers, body ? 2 : 1, body, flags, op, &resp, res);
        h->secure_free(auth);
        if (st != SB_OK)
            return st;
        if (resp.status >= 200 && resp.status < 300) {
            st = parse_ok(&resp, op, doc, res);
            h->http_response_free(&resp);
            return st;
        }
        if (resp.status == 401 && attempt == 0) {
            akv_token_forget(ai);
            st = h->http_header(&resp, "WWW-Authenticate") ? take_challenge(ai, &resp, op, res)
                                                           : SB_OK;
            h->http_response_free(&resp);
            if (st != SB_OK)
                return st;
            continue;
        }
        st = akv_fail_keyvault(&resp, op, res);
        h->http_response_free(&resp);
        return st;
    }
    return h->fail(res, SB_E_DENIED, 0, "%s: Key Vault refused a freshly issued token", op);
}
