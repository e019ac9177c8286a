/*
 * plugins/azurekv/azurekv_token.c — Entra ID access tokens for the vault.
 *
 * Contract:
 *   - One cached token per instance, in secure memory, renewed 5 minutes
 *     before it expires (at half its life when it lives under 10 minutes),
 *     and forgotten after a 401 (akv_token_forget). When a renewal fails
 *     while the current token has more than 10 s left, the current token is
 *     used (a warning is logged) and the renewal is tried again next call.
 *   - The tenant and scope come from the vault's 401 challenge (the tenant
 *     may be pinned with tenant_id; a mismatch is refused where the
 *     challenge is taken). The token endpoint is always
 *     `{authority_host}/{tenant}/oauth2/v2.0/token` from the config, https.
 *   - client_secret: client credentials grant with client_id and
 *     client_secret (form body in secure memory, SB_HTTP_BODY_SECRET).
 *   - workload_identity: the same grant with the federated token file
 *     (read afresh for every token: the kubelet rotates it) as a
 *     jwt-bearer client_assertion.
 *   - client_certificate: the same grant with an RS256 client assertion
 *     (azurekv_assertion.c).
 *   - managed_identity: IMDS `GET {imds_endpoint}/metadata/identity/oauth2/token
 *     ?api-version=2018-02-01&resource=<challenge resource>[&client_id=]`
 *     with `Metadata: true` (plain http to the link-local endpoint, the only
 *     plain http the plugin sends).
 *   - Token endpoint errors (AAD's `error`, `error_description`) are mapped:
 *     invalid_client / unauthorized_client -> DENIED; invalid_scope,
 *     invalid_request, unsupported_grant_type and IMDS's "Identity not found"
 *     -> CONFIG; 429 -> THROTTLED; 5xx / temporarily_unavailable ->
 *     UNAVAILABLE. The first line of error_description (AADSTS code and
 *     sentence: never a credential) is quoted.
 */
#include "azurekv.h"
#include "azurekv_assertion.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

void akv_token_forget(akv_instance *ai)
{
    if (ai->token)
        akv_host->secure_clear(ai->token);
    ai->token_refresh_ms = ai->token_expires_ms = 0;
}

static sb_status fail_token_endpoint(const sb_http_response *resp, const char *what,
                                     sb_result *res)
{
    const sb_host_api *h = akv_host;
    char error[64] = "", desc[AKV_ERROR_TEXT_MAX + 1] = "";
    sb_json *doc = akv_parse_response(resp);
    if (doc) {
        const sb_json_node *root = h->json_root(doc);
        size_t n = 0;
        const char *t = h->json_string(h->json_pointer(root, "/error"), &n);
        if (t)
            sbp_clean_copy(t, n, error, sizeof error);
        t = h->json_string(h->json_pointer(root, "/error_description"), &n);
        if (t)
            sbp_clean_copy(t, strcspn(t, "\r\n") < n ? strcspn(t, "\r\n") : n, desc, sizeof desc);
        h->json_free(doc);
    }
    long status = resp->status;
    const char *sep = desc[0] ? ": " : "";
    if (status == 429)
        return h->fail(res, SB_E_THROTTLED, resp->retry_after_ms, "%s: throttled (HTTP 429)",
                       what);
    if ((status >= 500 && status <= 599) || strcmp(error, "temporarily_unavailable") == 0)
        return h->fail(res, SB_E_UNAVAILABLE, resp->retry_after_ms,
                       "%s: the token service is unavailable (HTTP %ld)", what, status);
    if (strcmp(error, "invalid_client") == 0 || strcmp(error, "unauthorized_client") == 0)
        return h->fail(res, SB_E_DENIED, 0, "%s: Entra ID refused the client credentials (%s)%s%s",
                       what, error, sep, desc);
    if (error[0])
        return h->fail(res, SB_E_CONFIG, 0, "%s: the token request was refused (%s)%s%s", what,
                       error, sep, desc);
    return h->fail(res, SB_E_PROTOCOL, 0, "%s: unexpected answer (HTTP %ld)", what, status);
}

/* Stores the access token of a 200 answer; expires_in may be a string (IMDS). */
static sb_status keep_token(akv_instance *ai, const sb_http_response *resp, const char *what,
                            sb_result *res)
{
    const sb_host_api *h = akv_host;
    sb_json *doc = akv_parse_response(resp);
    const sb_json_node *root = doc ? h->json_root(doc) : NULL;
    size_t tlen = 0;
    const char *token = h->json_string(h->json_pointer(root, "/access_token"), &tlen);
    const char *type = h->json_string(h->json_pointer(root, "/token_type"), NULL);
    int64_t expires_in = 0;
    if (h->json_int(h->json_pointer(root, "/expires_in"), &expires_in) != 0)
        expires_in = 0;
    if (token == NULL || tlen == 0 || tlen > 16384 || memchr(token, '\n', tlen) ||
        memchr(token, '\r', tlen) || (type && strcasecmp(type, "Bearer") != 0) ||
        expires_in <= 0) {
        h->json_free(doc);
        return h->fail(res, SB_E_PROTOCOL, 0,
                       "%s: the answer lacks a bearer access_token with expires_in", what);
    }
    h->secure_clear(ai->token);
    if (h->secure_append(ai->token, token, tlen) != 0) {
        h->json_free(doc);
        return h->fail(res, SB_E_INTERNAL, 0, "%s: out of secure memory", what);
    }
    h->json_free(doc);
    if (expires_in > 24 * 3600)
        expires_in = 24 * 3600; /* Entra ID tokens live about an hour; never trust more */
    int64_t now = h->now_unix_ms(), life = expires_in * 1000;
    ai->token_expires_ms = now + life;
    ai->token_refresh_ms = now + (life > 2 * AKV_REFRESH_BEFORE_MS ? life - AKV_REFRESH_BEFORE_MS
                                                                    : life / 2);
    return SB_OK;
}

/* The client credentials form for the instance's kind, in secure memory. */
static sb_status client_form(akv_instance *ai, const char *token_url, sb_secure_buf *form,
                             sb_result *res)
{
    const sb_host_api *h = akv_host;
    const char *scope = ai->challenge.scope;
    if (akv_append_form(form, "grant_type", "client_credentials", 18) ||
        akv_append_form(form, "client_id", ai->client_id, strlen(ai->client_id)) ||
        akv_append_form(form, "scope", scope, strlen(scope)))
        return h->fail(res, SB_E_INTERNAL, 0, "token: out of secure memory");
    if (ai->mode == AKV_AUTH_CLIENT_SECRET) {
        if (akv_append_form(form, "client_secret", ai->client_secret, strlen(ai->client_secret)))
            return h->fail(res, SB_E_INTERNAL, 0, "token: out of secure memory");
        return SB_OK;
    }
    if (akv_append_form(form, "client_assertion_type",
                        "urn:ietf:params:oauth:client-assertion-type:jwt-bearer", 54) ||
        akv_append_form(form, "client_assertion", "", 0))
        return h->fail(res, SB_E_INTERNAL, 0, "token: out of secure memory");
    if (ai->mode == AKV_AUTH_CLIENT_CERTIFICATE)
        return akv_assertion_append(ai, token_url, form, res);
    sb_secure_buf *file = NULL;
    sb_status st = h->read_file_secure(ai->federated_token_file, AKV_MAX_FILE_BYTES, &file, res);
    if (st != SB_OK)
        return st;
    size_t n = 0;
    const char *t = (const char *)h->secure_data(file, &n);
    while (n > 0 && (t[n - 1] == '\n' || t[n - 1] == '\r' || t[n - 1] == ' '))
        n--;
    if (n == 0)
        st = h->fail(res, SB_E_CONFIG, 0, "token: the federated token file %s is empty",
                     ai->federated_token_file);
    else if (akv_append_urlencoded(form, t, n) != 0)
        st = h->fail(res, SB_E_INTERNAL, 0, "token: out of secure memory");
    h->secure_free(file);
    return st;
}

static sb_status from_entra(akv_instance *ai, const sb_call *call, sb_result *res)
{
    const sb_host_api *h = akv_host;
    const char *tenant = ai->tenant_id ? ai->tenant_id : ai->challenge.tenant;
    char *url = akv_format("%s/%s/oauth2/v2.0/token", ai->authority_host, tenant);
    sb_secure_buf *form = h->secure_new(1024);
    if (url == NULL || form == NULL) {
        free(url);
        h->secure_free(form);
        return h->fail(res, SB_E_INTERNAL, 0, "token: out of memory");
    }
    sb_status st = client_form(ai, url, form, res);
    if (st == SB_OK) {
        sb_kv headers[] = {{"Content-Type", "application/x-www-form-urlencoded"},
                           {"Accept", "application/json"}};
        sb_http_response resp;
        st = akv_send(ai, call, "POST", url, headers, 2, form,
                      SB_HTTP_BODY_SECRET | SB_HTTP_RETRY, "entra_token", &resp, res);
        if (st == SB_OK) {
            st = resp.status == 200 ? keep_token(ai, &resp, "Entra ID token", res)
                                    : fail_token_endpoint(&resp, "Entra ID token", res);
            h->http_response_free(&resp);
        }
    }
    h->secure_free(form);
    free(url);
    return st;
}

static sb_status from_imds(akv_instance *ai, const sb_call *call, sb_result *res)
{
    const sb_host_api *h = akv_host;
    sbp_str url = {0};
    sbp_str_add(&url, ai->imds_endpoint);
    sbp_str_add(&url, "/metadata/identity/oauth2/token?api-version=2018-02-01&resource=");
    sbp_str_add_query(&url, ai->challenge.resource);
    if (ai->client_id) {
        sbp_str_add(&url, "&client_id=");
        sbp_str_add_query(&url, ai->client_id);
    }
    if (url.failed) {
        sbp_str_free(&url);
        return h->fail(res, SB_E_INTERNAL, 0, "token: out of memory");
    }
    sb_kv headers[] = {{"Metadata", "true"}};
    sb_http_response resp;
    sb_status st = akv_send(ai, call, "GET", url.p, headers, 1, NULL,
                            SB_HTTP_ALLOW_HTTP | SB_HTTP_RETRY, "imds_token", &resp, res);
    sbp_str_free(&url);
    if (st != SB_OK)
        return st;
    st = resp.status == 200 ? keep_token(ai, &resp, "managed identity (IMDS) token", res)
                            : fail_token_endpoint(&resp, "managed identity (IMDS) token", res);
    h->http_response_free(&resp);
    return st;
}

sb_status akv_token_get(akv_instance *ai, const sb_call *call, const char **token,
                        sb_result *res)
{
    const sb_host_api *h = akv_host;
    size_t len = 0;
    h->secure_data(ai->token, &len);
    int64_t now = h->now_unix_ms();
    if (len > 0 && now < ai->token_refresh_ms) {
        *token = (const char *)h->secure_data(ai->token, NULL);
        return SB_OK;
    }
    if (!ai->have_challenge)
        return h->fail(res, SB_E_INTERNAL, 0, "token: no challenge from the vault yet");
    /* the current token stays usable while a renewal fails, if it has at
     * least AKV_KEEP_OLD_TOKEN_MS left (a token endpoint hiccup must not
     * fail calls a valid token can still make) */
    int keep_old = len > 0 && now + AKV_KEEP_OLD_TOKEN_MS < ai->token_expires_ms;
    if (!keep_old)
        akv_token_forget(ai);
    sb_result fresh = SB_RESULT_INIT;
    sb_status st = ai->mode == AKV_AUTH_MANAGED_IDENTITY ? from_imds(ai, call, &fresh)
                                                         : from_entra(ai, call, &fresh);
    if (st != SB_OK && keep_old && (h->secure_data(ai->token, &len), len > 0)) {
        h->log(SB_LOG_WARN, call, "azurekv: renewing the access token failed (%s); the current "
               "token is used until it expires", fresh.message);
        st = SB_OK;
    } else if (st != SB_OK) {
        h->fail(res, st, fresh.retry_after_ms, "%s", fresh.message);
    }
    h->result_release(&fresh);
    if (st == SB_OK)
        *token = (const char *)h->secure_data(ai->token, NULL);
    return st;
}
