/*
 * plugins/gcpsm/gcpsm_auth.c — OAuth2 access tokens for Secret Manager.
 *
 * Contract:
 *   - service_account: the key file (read afresh for each new token, at most
 *     64 KiB, into secure memory) must be a `"type": "service_account"` JSON
 *     with client_email, private_key, private_key_id and token_uri. An RS256
 *     JWT {"alg":"RS256","typ":"JWT","kid":private_key_id} /
 *     {"iss":client_email,"scope":cloud-platform,"aud":token_uri,"iat":now,
 *     "exp":now+3600} is signed (plugins/shared/jwt_rs256) straight into the
 *     secure form body `grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer
 *     &assertion=<JWT>`, POSTed to token_uri (the config's token_uri when set,
 *     else the file's; https, or http to loopback). The private key and the
 *     assertion never leave secure memory (OpenSSL holds the parsed key for
 *     the duration of the signature only).
 *   - metadata: GET {metadata_endpoint}/computeMetadata/v1/instance/
 *     service-accounts/default/token with `Metadata-Flavor: Google`; the
 *     answer must carry `Metadata-Flavor: Google` too (anything else is not a
 *     metadata server and is refused).
 *   - Both answer {"access_token","expires_in","token_type":"Bearer"}. The
 *     token is cached per instance as the whole "Bearer <token>" header value
 *     in a secure buffer and fetched again 5 minutes before it expires (half
 *     its lifetime when that is shorter), or after the API answered 401. When
 *     an early refresh fails while the cached token has more than 10 s left,
 *     that token is used (a warning is logged) and the refresh is tried again
 *     on the next call.
 *   - Token endpoint errors ({"error","error_description"}): invalid_grant,
 *     invalid_scope, invalid_client, unauthorized_client, access_denied and
 *     other 4xx -> DENIED with Google's description; 429 -> THROTTLED; 5xx ->
 *     UNAVAILABLE.
 */
#include "../shared/jwt_rs256.h"
#include "gcpsm.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define JWT_GRANT_FORM "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer&assertion="

void gcpsm_token_forget(gcpsm_instance *gi)
{
    gcpsm_host->secure_clear(gi->bearer);
    gi->bearer_expires_ms = 0;
    gi->bearer_refresh_ms = 0;
}

static int secure_sink(void *ctx, const void *data, size_t len)
{
    return gcpsm_host->secure_append(ctx, data, len);
}

/* A string member of the key file as a heap copy (non-secret members only). */
static char *key_member(const sb_json_node *root, const char *pointer)
{
    size_t n = 0;
    const char *s = gcpsm_host->json_string(gcpsm_host->json_pointer(root, pointer), &n);
    if (s == NULL || n == 0 || strlen(s) != n)
        return NULL;
    return sbp_strdup(s);
}

/* Builds the token request body (secure) from the key file; *token_uri
 * (heap) is where to send it. */
static sb_status assertion_body(gcpsm_instance *gi, sb_secure_buf **body, char **token_uri,
                                sb_result *res)
{
    const sb_host_api *h = gcpsm_host;
    sb_secure_buf *file = NULL;
    sb_status st = h->read_file_secure(gi->key_file, GCPSM_MAX_KEY_FILE, &file, res);
    if (st != SB_OK)
        return st;
    size_t flen = 0;
    const unsigned char *text = h->secure_data(file, &flen);
    sb_json *doc = NULL;
    sb_result inner = SB_RESULT_INIT;
    st = h->json_parse(text, flen, &doc, &inner);
    h->result_release(&inner);
    h->secure_free(file);
    if (st != SB_OK)
        return h->fail(res, SB_E_CONFIG, 0,
                       "service_account_key_file %s is not JSON (download the key as JSON from "
                       "the Google Cloud console)",
                       gi->key_file);
    const sb_json_node *root = h->json_root(doc);
    char *type = key_member(root, "/type"), *email = key_member(root, "/client_email");
    char *kid = key_member(root, "/private_key_id"), *uri = key_member(root, "/token_uri");
    size_t klen = 0;
    const char *pem = h->json_string(h->json_pointer(root, "/private_key"), &klen);
    sbp_str header = {0}, claims = {0};
    const char *why = NULL;
    if (type == NULL || strcmp(type, "service_account") != 0)
        why = "is not a service-account key (\"type\" must be \"service_account\"; a workload "
              "identity federation file goes with credentials: external_account)";
    else if (email == NULL || pem == NULL || klen == 0)
        why = "lacks client_email or private_key";
    else if (gi->token_uri == NULL && uri == NULL)
        why = "lacks token_uri (set token_uri in the config)";
    if (why == NULL) {
        char *chosen = sbp_strdup(gi->token_uri ? gi->token_uri : uri);
        free(uri);
        uri = chosen;
        why = uri == NULL ? "out of memory" : gcpsm_check_url(uri, gi->insecure_ok, 0);
    }
    if (why == NULL) {
        int64_t now = h->now_unix_ms() / 1000;
        sbp_str_add(&header, "{\"alg\":\"RS256\",\"typ\":\"JWT\"");
        if (kid) {
            sbp_str_add(&header, ",\"kid\":");
            sbp_str_add_json(&header, kid);
        }
        sbp_str_add(&header, "}");
        sbp_str_add(&claims, "{\"iss\":");
        sbp_str_add_json(&claims, email);
        sbp_str_add(&claims, ",\"scope\":\"" GCPSM_SCOPE "\",\"aud\":");
        sbp_str_add_json(&claims, uri);
        sbp_str_addf(&claims, ",\"iat\":%lld,\"exp\":%lld}", (long long)now,
                       (long long)(now + GCPSM_ASSERTION_LIFETIME_S));
        *body = h->secure_new(2048);
        if (header.failed || claims.failed || *body == NULL ||
            h->secure_append(*body, JWT_GRANT_FORM, strlen(JWT_GRANT_FORM)) != 0)
            why = "out of memory";
        else if (sb_jwt_rs256_sign(header.p, header.len, claims.p, claims.len,
                                   (const unsigned char *)pem, klen, secure_sink, *body,
                                   &why) == 0)
            why = NULL; /* signed; on failure the signer said why */
    }
    h->json_free(doc);
    sbp_str_free(&header);
    sbp_str_free(&claims);
    free(type);
    free(email);
    free(kid);
    if (why != NULL) {
        h->secure_free(*body);
        *body = NULL;
        free(uri);
        return h->fail(res, SB_E_CONFIG, 0, "service_account_key_file %s: %s", gi->key_file, why);
    }
    *token_uri = uri;
    return SB_OK;
}

sb_status gcpsm_token_failure(const sb_http_response *resp, const char *what, sb_result *res)
{
    const sb_host_api *h = gcpsm_host;
    char err[64] = "", desc[GCPSM_ERROR_TEXT_MAX + 1] = "";
    size_t len = 0;
    const unsigned char *body = resp->body ? h->secure_data(resp->body, &len) : NULL;
    sb_json *doc = NULL;
    sb_result ignored = SB_RESULT_INIT;
    if (body && len && body[0] == '{' && h->json_parse(body, len, &doc, &ignored) == SB_OK) {
        size_t n = 0;
        const sb_json_node *root = h->json_root(doc);
        const char *e = h->json_string(h->json_pointer(root, "/error"), &n);
        if (e)
            sbp_clean_copy(e, n, err, sizeof err);
        const char *d = h->json_string(h->json_pointer(root, "/error_description"), &n);
        if (d)
            sbp_clean_copy(d, n, desc, sizeof desc);
    }
    h->json_free(doc);
    h->result_release(&ignored);
    long code = resp->status;
    if (code == 429)
        return h->fail(res, SB_E_THROTTLED,
                       resp->retry_after_ms ? resp->retry_after_ms : GCPSM_THROTTLE_BACKOFF_MS,
                       "%s: rate limited (HTTP 429)", what);
    if (code >= 500)
        return h->fail(res, SB_E_UNAVAILABLE, resp->retry_after_ms,
                       "%s: the token service is unavailable (HTTP %ld)", what, code);
    return h->fail(res, SB_E_DENIED, 0, "%s: no access token (HTTP %ld%s%s%s%s)", what, code,
                   err[0] ? ", " : "", err, desc[0] ? ": " : "", desc);
}

sb_status gcpsm_token_store(gcpsm_instance *gi, const char *tok, size_t tlen, int64_t life_ms,
                            const char *what, sb_result *res)
{
    const sb_host_api *h = gcpsm_host;
    if (tok == NULL || tlen == 0 || strlen(tok) != tlen || strpbrk(tok, "\r\n ") || life_ms <= 0)
        return h->fail(res, SB_E_PROTOCOL, 0,
                       "%s: the answer lacks a usable access token with a future expiry", what);
    h->secure_clear(gi->bearer);
    if (h->secure_append(gi->bearer, "Bearer ", 7) != 0 ||
        h->secure_append(gi->bearer, tok, tlen) != 0) {
        gcpsm_token_forget(gi);
        return h->fail(res, SB_E_INTERNAL, 0, "%s: out of secure memory", what);
    }
    int64_t now = h->now_unix_ms();
    gi->bearer_expires_ms = now + life_ms;
    gi->bearer_refresh_ms = now + life_ms - (life_ms / 2 < GCPSM_REFRESH_BEFORE_MS
                                                 ? life_ms / 2
                                                 : GCPSM_REFRESH_BEFORE_MS);
    return SB_OK;
}

sb_status gcpsm_token_keep(gcpsm_instance *gi, const sb_http_response *resp, const char *what,
                           sb_result *res)
{
    const sb_host_api *h = gcpsm_host;
    sb_json *doc = NULL;
    sb_status st = gcpsm_parse_object(resp, what, &doc, res);
    if (st != SB_OK)
        return st;
    const sb_json_node *root = h->json_root(doc);
    size_t tlen = 0;
    const char *tok = h->json_string(h->json_pointer(root, "/access_token"), &tlen);
    const char *type = h->json_string(h->json_pointer(root, "/token_type"), NULL);
    int64_t expires_in = 0;
    if (h->json_int(h->json_pointer(root, "/expires_in"), &expires_in) != 0 ||
        (type && strcmp(type, "Bearer") != 0))
        expires_in = 0; /* refused by the store below */
    st = gcpsm_token_store(gi, tok, tlen, expires_in * 1000, what, res);
    h->json_free(doc);
    return st;
}

static sb_status fetch_service_account(gcpsm_instance *gi, const sb_call *call, sb_result *res)
{
    const sb_host_api *h = gcpsm_host;
    sb_secure_buf *body = NULL;
    char *uri = NULL;
    sb_status st = assertion_body(gi, &body, &uri, res);
    if (st != SB_OK)
        return st;
    sb_kv headers[1] = {{"Content-Type", "application/x-www-form-urlencoded"}};
    sb_http_response resp;
    st = gcpsm_send(gi, call, "POST", uri, headers, 1, body, SB_HTTP_BODY_SECRET, "oauth2_token",
                    &resp, res);
    h->secure_free(body);
    free(uri);
    if (st != SB_OK)
        return st;
    st = resp.status == 200 ? gcpsm_token_keep(gi, &resp, "oauth2 token", res)
                            : gcpsm_token_failure(&resp, "oauth2 token (service account)", res);
    h->http_response_free(&resp);
    return st;
}

static sb_status fetch_metadata(gcpsm_instance *gi, const sb_call *call, sb_result *res)
{
    const sb_host_api *h = gcpsm_host;
    sbp_str url = {0};
    sbp_str_add(&url, gi->metadata_endpoint);
    sbp_str_add(&url, "/computeMetadata/v1/instance/service-accounts/default/token");
    if (url.failed)
        return h->fail(res, SB_E_INTERNAL, 0, "metadata token: out of memory");
    sb_kv headers[1] = {{"Metadata-Flavor", "Google"}};
    sb_http_response resp;
    sb_status st = gcpsm_send(gi, call, "GET", url.p, headers, 1, NULL, SB_HTTP_ALLOW_HTTP,
                              "metadata_token", &resp, res);
    sbp_str_free(&url);
    if (st != SB_OK)
        return st;
    const char *flavor = h->http_header(&resp, "Metadata-Flavor");
    if (resp.status == 200 && (flavor == NULL || strcmp(flavor, "Google") != 0))
        st = h->fail(res, SB_E_PROTOCOL, 0,
                     "metadata token: the answer lacks \"Metadata-Flavor: Google\"; "
                     "metadata_endpoint is not a GCE metadata server");
    else
        st = resp.status == 200 ? gcpsm_token_keep(gi, &resp, "metadata token", res)
                                : gcpsm_token_failure(&resp, "metadata token", res);
    h->http_response_free(&resp);
    return st;
}

sb_status gcpsm_token_get(gcpsm_instance *gi, const sb_call *call, const char **bearer,
                          sb_result *res)
{
    const sb_host_api *h = gcpsm_host;
    *bearer = NULL;
    int64_t now = h->now_unix_ms();
    if (gi->bearer_expires_ms == 0 || now >= gi->bearer_refresh_ms) {
        sb_result inner = SB_RESULT_INIT;
        sb_status st = gi->mode == GCPSM_CREDS_METADATA   ? fetch_metadata(gi, call, &inner)
                       : gi->mode == GCPSM_CREDS_EXTERNAL ? gcpsm_fetch_external(gi, call, &inner)
                                                          : fetch_service_account(gi, call, &inner);
        if (st != SB_OK && gi->bearer_expires_ms > now + 10000) {
            /* an early refresh failed: the cached token still has a while to live */
            h->log(SB_LOG_WARN, call,
                   "gcpsm: refreshing the access token failed (%s); the current one is used "
                   "until it expires in %lld s",
                   inner.message, (long long)((gi->bearer_expires_ms - now) / 1000));
            st = SB_OK;
        } else if (st != SB_OK) {
            gcpsm_token_forget(gi);
            h->fail(res, st, inner.retry_after_ms, "%s", inner.message);
        }
        h->result_release(&inner);
        if (st != SB_OK)
            return st;
    }
    *bearer = (const char *)h->secure_data(gi->bearer, NULL);
    return SB_OK;
}
