/* api/oidc_provider.c — see oidc_provider.h. */
#include "api/oidc_provider.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <jansson.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "crypto/secure_mem.h"
#include "plugin/host_api.h"
#include "plugin/http_client.h"
#include "plugin/secure_json.h"
#include "util/log.h"

#define CALL_TIMEOUT_MS 10000
#define DISCOVERY_TTL_S 3600
#define MAX_DOCUMENT (1u << 20)
#define CALLBACK_PATH "/api/v1/auth/oidc/callback"

struct sb_oidc_provider {
    const sb_oidc_settings *s;
    int issuer_is_http; /* a loopback http issuer (tests, local providers) */
    pthread_mutex_t lock;
    int64_t discovered_at; /* 0: not yet */
    char authorization_endpoint[SB_OIDC_URL_MAX];
    char token_endpoint[SB_OIDC_URL_MAX];
    char jwks_uri[SB_OIDC_URL_MAX];
    sb_oidc_jwks *keys;
    int64_t keys_at;
};

/* ---- settings checks ----------------------------------------------------------- */

static int loopback_http_url(const char *url)
{
    if (strncasecmp(url, "http://", 7) != 0)
        return 0;
    const char *h = url + 7;
    char host[256];
    size_t n;
    if (*h == '[') {
        const char *end = strchr(h, ']');
        if (end == NULL || (size_t)(end - h - 1) >= sizeof host)
            return 0;
        n = (size_t)(end - h - 1);
        memcpy(host, h + 1, n);
        host[n] = '\0';
        struct in6_addr v6;
        return inet_pton(AF_INET6, host, &v6) == 1 && IN6_IS_ADDR_LOOPBACK(&v6);
    }
    n = strcspn(h, ":/?#");
    if (n == 0 || n >= sizeof host)
        return 0;
    memcpy(host, h, n);
    host[n] = '\0';
    struct in_addr v4;
    if (inet_pton(AF_INET, host, &v4) == 1)
        return (ntohl(v4.s_addr) >> 24) == 127;
    return strcasecmp(host, "localhost") == 0;
}

static int has_word(const char *list, const char *word)
{
    size_t wl = strlen(word);
    for (const char *p = list; *p;) {
        p += strspn(p, " ");
        size_t l = strcspn(p, " ");
        if (l == wl && strncmp(p, word, l) == 0)
            return 1;
        p += l;
    }
    return 0;
}

static int printable_ascii(const char *s)
{
    for (; *s; s++)
        if (*s < 0x20 || *s > 0x7e)
            return 0;
    return 1;
}

static int check_settings(const sb_oidc_settings *s, sb_error *err)
{
    if (s->issuer == NULL || s->client_id == NULL || s->redirect_uri == NULL)
        return sb_error_set(err, 1, "oidc: issuer, client_id, client_secret and redirect_uri are "
                                    "required");
    const char *iss = s->issuer;
    if (strncasecmp(iss, "https://", 8) != 0 && !loopback_http_url(iss))
        return sb_error_set(err, 1, "oidc.issuer: %s must be an https:// URL (plain http is "
                                    "allowed only to a loopback host)", iss);
    if (strchr(iss, '?') || strchr(iss, '#'))
        return sb_error_set(err, 1, "oidc.issuer: an issuer URL has no query or fragment");
    size_t rl = strlen(s->redirect_uri), cl = strlen(CALLBACK_PATH);
    if (rl < cl || strcmp(s->redirect_uri + rl - cl, CALLBACK_PATH) != 0 ||
        strchr(s->redirect_uri, '?'))
        return sb_error_set(err, 1, "oidc.redirect_uri: must be the URL users reach sbridge at "
                                    "followed by %s (and registered so at the provider)",
                            CALLBACK_PATH);
    if (!printable_ascii(s->client_id) || s->client_id[0] == '\0')
        return sb_error_set(err, 1, "oidc.client_id: must be printable ASCII");
    const char *scopes = s->scopes ? s->scopes : "openid";
    if (!printable_ascii(scopes) || !has_word(scopes, "openid"))
        return sb_error_set(err, 1, "oidc.scopes: must be scope names separated by spaces and "
                                    "include openid (e.g. \"openid email profile\")");
    const char *claim = s->username_claim ? s->username_claim : "preferred_username";
    for (const char *c = claim; *c; c++)
        if (!isalnum((unsigned char)*c) && *c != '_' && *c != '.' && *c != '-')
            return sb_error_set(err, 1, "oidc.username_claim: '%s' is not a claim name", claim);
    for (size_t i = 0; i < s->allowed_email_domains.n; i++) {
        const char *d = s->allowed_email_domains.items[i];
        if (d[0] == '\0' || strchr(d, '@') || !printable_ascii(d) || strchr(d, ' '))
            return sb_error_set(err, 1, "oidc.allowed_email_domains: '%s' is not a domain name "
                                        "(write example.com, not user@example.com)", d);
    }
    if (s->client_secret == NULL || s->client_secret[0] == '\0')
        return sb_error_set(err, 1, "oidc.client_secret: is empty; set it with ${env:NAME} or "
                                    "${file:/path}");
    return 0;
}

int sb_oidc_provider_open(const sb_oidc_settings *s, sb_oidc_provider **out, sb_error *err)
{
    *out = NULL;
    if (s == NULL || !s->pos.present)
        return 0;
    if (check_settings(s, err) != 0)
        return -1;
    sb_oidc_provider *p = calloc(1, sizeof *p);
    if (p == NULL)
        return sb_error_set(err, 1, "out of memory");
    p->s = s;
    p->issuer_is_http = loopback_http_url(s->issuer);
    pthread_mutex_init(&p->lock, NULL);
    *out = p;
    return 0;
}

void sb_oidc_provider_free(sb_oidc_provider *p)
{
    if (p == NULL)
        return;
    sb_oidc_jwks_free(p->keys);
    pthread_mutex_destroy(&p->lock);
    free(p);
}

const sb_oidc_settings *sb_oidc_provider_settings(const sb_oidc_provider *p) { return p ? p->s : NULL; }

int sb_oidc_form_escape(const char *s, char *out, size_t cap)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t o = 0;
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
            if (o + 1 >= cap)
                return -1;
            out[o++] = (char)c;
        } else {
            if (o + 3 >= cap)
                return -1;
            out[o++] = '%';
            out[o++] = hex[c >> 4];
            out[o++] = hex[c & 15];
        }
    }
    if (o >= cap)
        return -1;
    out[o] = '\0';
    return 0;
}

/* ---- fetching ------------------------------------------------------------------ */

/* One request; 0 with *status and *body (secure; the caller frees), or -1. */
static int fetch(const char *method, const char *url, const sb_kv *headers, size_t n_headers,
                 const char *body, long *status, sb_secure_buf **out, sb_error *err)
{
    sb_http_request req = {sizeof req,
                           body ? SB_HTTP_BODY_SECRET : 0u,
                           method,
                           url,
                           headers,
                           n_headers,
                           (const unsigned char *)body,
                           body ? strlen(body) : 0,
                           0,
                           MAX_DOCUMENT,
                           NULL,
                           "oidc",
                           NULL};
    sb_http_response resp = {sizeof resp, 0, 0, 0, 0, NULL, NULL};
    sb_result res = SB_RESULT_INIT;
    sb_call_ctx ctx;
    sb_call_begin(&ctx, "oidc", NULL, NULL, CALL_TIMEOUT_MS);
    if (sb_http_perform(&ctx.call, &req, &resp, &res) != SB_OK) {
        sb_http_response_release(&resp);
        return sb_error_set(err, SB_OIDC_PROVIDER_UNAVAILABLE, "the OpenID provider did not answer: %s",
                            res.message[0] ? res.message : "request failed");
    }
    *status = resp.status;
    *out = resp.body;
    resp.body = NULL;
    sb_http_response_release(&resp);
    return 0;
}

/* GET url as a JSON object (public documents: discovery, JWKS). */
static json_t *fetch_json(const char *url, const char *what, sb_error *err)
{
    static const sb_kv accept[] = {{"Accept", "application/json"}};
    long status = 0;
    sb_secure_buf *body = NULL;
    if (fetch("GET", url, accept, 1, NULL, &status, &body, err) != 0)
        return NULL;
    size_t len = 0;
    const unsigned char *data = body ? sb_secure_data(body, &len) : NULL;
    json_t *doc = status == 200 && data ? json_loadb((const char *)data, len, JSON_REJECT_DUPLICATES, NULL) : NULL;
    sb_secure_free(body);
    if (!json_is_object(doc)) {
        json_decref(doc);
        sb_error_set(err, SB_OIDC_PROVIDER_UNAVAILABLE,
                     "the OpenID provider's %s answered %ld, not a JSON object", what, status);
        return NULL;
    }
    return doc;
}

static int endpoint_ok(const sb_oidc_provider *p, const char *url)
{
    return url && strlen(url) < SB_OIDC_URL_MAX && printable_ascii(url) &&
           (strncasecmp(url, "https://", 8) == 0 || (p->issuer_is_http && loopback_http_url(url)));
}

static int load_keys(sb_oidc_provider *p, int64_t now, sb_error *err)
{
    json_t *doc = fetch_json(p->jwks_uri, "JWKS (jwks_uri)", err);
    if (doc == NULL)
        return -1;
    char *text = json_dumps(doc, JSON_COMPACT);
    json_decref(doc);
    sb_oidc_jwks *keys = NULL;
    int rc = text ? sb_oidc_jwks_parse(text, strlen(text), &keys, err) : sb_error_set(err, 1, "out of memory");
    free(text);
    if (rc != 0)
        return -1;
    sb_oidc_jwks_free(p->keys);
    p->keys = keys;
    p->keys_at = now;
    return 0;
}

/* With the lock held: discovery (and keys) fresh enough. */
static int discover(sb_oidc_provider *p, int64_t now, sb_error *err)
{
    if (p->discovered_at && now - p->discovered_at < DISCOVERY_TTL_S && p->keys)
        return 0;
    char url[SB_OIDC_URL_MAX];
    size_t il = strlen(p->s->issuer);
    int trailing = il > 0 && p->s->issuer[il - 1] == '/';
    snprintf(url, sizeof url, "%s%s.well-known/openid-configuration", p->s->issuer, trailing ? "" : "/");
    json_t *doc = fetch_json(url, "discovery document", err);
    if (doc == NULL)
        return -1;
    const char *iss = json_string_value(json_object_get(doc, "issuer"));
    const char *authz = json_string_value(json_object_get(doc, "authorization_endpoint"));
    const char *token = json_string_value(json_object_get(doc, "token_endpoint"));
    const char *jwks = json_string_value(json_object_get(doc, "jwks_uri"));
    int rc = 0;
    if (iss == NULL || strcmp(iss, p->s->issuer) != 0)
        rc = sb_error_set(err, SB_OIDC_PROVIDER_UNAVAILABLE,
                          "the discovery document names another issuer than oidc.issuer; set "
                          "oidc.issuer exactly as the provider spells it");
    else if (!endpoint_ok(p, authz) || !endpoint_ok(p, token) || !endpoint_ok(p, jwks))
        rc = sb_error_set(err, SB_OIDC_PROVIDER_UNAVAILABLE,
                          "the discovery document lacks an https authorization_endpoint, "
                          "token_endpoint or jwks_uri");
    if (rc == 0) {
        snprintf(p->authorization_endpoint, sizeof p->authorization_endpoint, "%s", authz);
        snprintf(p->token_endpoint, sizeof p->token_endpoint, "%s", token);
        snprintf(p->jwks_uri, sizeof p->jwks_uri, "%s", jwks);
    }
    json_decref(doc);
    if (rc != 0 || load_keys(p, now, err) != 0)
        return -1;
    p->discovered_at = now;
    return 0;
}

/* A copy of one of p's endpoints (field: &p->…), discovered if need be. */
static int endpoint_copy(sb_oidc_provider *p, int64_t now, const char *field,
                         char out[SB_OIDC_URL_MAX], sb_error *err)
{
    pthread_mutex_lock(&p->lock);
    int rc = discover(p, now, err);
    snprintf(out, SB_OIDC_URL_MAX, "%s", field);
    pthread_mutex_unlock(&p->lock);
    return rc;
}

int sb_oidc_provider_authorize_url(sb_oidc_provider *p, int64_t now, const char *state,
                                   const char *nonce, const char *code_challenge, char *out,
                                   size_t cap, sb_error *err)
{
    char endpoint[SB_OIDC_URL_MAX];
    if (endpoint_copy(p, now, p->authorization_endpoint, endpoint, err) != 0)
        return -1;
    char client[512], redirect[1024], scope[512];
    if (sb_oidc_form_escape(p->s->client_id, client, sizeof client) != 0 ||
        sb_oidc_form_escape(p->s->redirect_uri, redirect, sizeof redirect) != 0 ||
        sb_oidc_form_escape(p->s->scopes ? p->s->scopes : "openid", scope, sizeof scope) != 0)
        return sb_error_set(err, 1, "oidc settings too long for a URL");
    int n = snprintf(out, cap,
                     "%s%sresponse_type=code&client_id=%s&redirect_uri=%s&scope=%s&state=%s"
                     "&nonce=%s&code_challenge=%s&code_challenge_method=S256",
                     endpoint, strchr(endpoint, '?') ? "&" : "?", client, redirect, scope, state,
                     nonce, code_challenge);
    if (n < 0 || (size_t)n >= cap)
        return sb_error_set(err, 1, "the authorization URL is too long");
    return 0;
}

/* "Basic base64(urlenc(id):urlenc(secret))" (RFC 6749 §2.3.1), secure. */
static char *basic_auth(const sb_oidc_settings *s)
{
    size_t sl = strlen(s->client_secret);
    size_t pair_cap = 3 * (strlen(s->client_id) + sl) + 2;
    char *pair = sb_secure_alloc(pair_cap);
    char *secret = sb_secure_alloc(3 * sl + 1);
    char *out = NULL;
    if (pair && secret && sb_oidc_form_escape(s->client_id, pair, pair_cap) == 0 &&
        sb_oidc_form_escape(s->client_secret, secret, 3 * sl + 1) == 0) {
        strcat(pair, ":");
        strcat(pair, secret);
        size_t b64 = sodium_base64_ENCODED_LEN(strlen(pair), sodium_base64_VARIANT_ORIGINAL);
        if ((out = sb_secure_alloc(b64 + 6)) != NULL) {
            memcpy(out, "Basic ", 6);
            sodium_bin2base64(out + 6, b64, (const unsigned char *)pair, strlen(pair),
                              sodium_base64_VARIANT_ORIGINAL);
        }
    }
    sb_secure_release(pair);
    sb_secure_release(secret);
    return out;
}

int sb_oidc_provider_exchange(sb_oidc_provider *p, int64_t now, const char *code,
                              const char *code_verifier, char **id_token, sb_error *err)
{
    *id_token = NULL;
    char endpoint[SB_OIDC_URL_MAX];
    if (endpoint_copy(p, now, p->token_endpoint, endpoint, err) != 0)
        return -1;
    int rc;
    size_t cap = 3 * (strlen(code) + strlen(code_verifier) + strlen(p->s->redirect_uri)) + 128;
    char *body = sb_secure_alloc(cap);
    char *auth = basic_auth(p->s);
    char *part = sb_secure_alloc(cap);
    int built = body && auth && part;
    if (built) {
        snprintf(body, cap, "grant_type=authorization_code&code=");
        built = sb_oidc_form_escape(code, part, cap) == 0 && strlen(body) + strlen(part) < cap;
        if (built)
            strcat(body, part);
        built = built && sb_oidc_form_escape(p->s->redirect_uri, part, cap) == 0;
        if (built && strlen(body) + strlen(part) + 64 < cap) {
            strcat(body, "&redirect_uri=");
            strcat(body, part);
        }
        built = built && sb_oidc_form_escape(code_verifier, part, cap) == 0;
        if (built && strlen(body) + strlen(part) + 64 < cap) {
            strcat(body, "&code_verifier=");
            strcat(body, part);
        }
    }
    sb_secure_release(part);
    if (!built) {
        sb_secure_release(body);
        sb_secure_release(auth);
        return sb_error_set(err, 1, "cannot build the token request");
    }
    sb_kv headers[] = {{"Accept", "application/json"},
                       {"Content-Type", "application/x-www-form-urlencoded"},
                       {"Authorization", auth}};
    long status = 0;
    sb_secure_buf *answer = NULL;
    rc = fetch("POST", endpoint, headers, 3, body, &status, &answer, err);
    sb_secure_release(body);
    sb_secure_release(auth);
    if (rc != 0)
        return -1;
    size_t len = 0;
    const unsigned char *data = answer ? sb_secure_data(answer, &len) : NULL;
    sb_json *doc = NULL;
    sb_error ignored = {0};
    if (data == NULL || sb_json_parse(data, len, &doc, &ignored) != 0)
        doc = NULL;
    const sb_json_node *root = doc ? sb_json_root(doc) : NULL;
    size_t tl = 0;
    const char *token = sb_json_string(sb_json_get(root, "id_token"), &tl);
    if (status == 200 && token && tl > 0) {
        *id_token = sb_secure_strdup(token, tl);
        rc = *id_token ? 0 : sb_error_set(err, 1, "out of secure memory");
    } else {
        size_t el = 0;
        const char *e = sb_json_string(sb_json_get(root, "error"), &el);
        char code_text[65] = "";
        for (size_t i = 0; e && i < el && i < 64 && (isalnum((unsigned char)e[i]) || e[i] == '_'); i++)
            code_text[i] = e[i], code_text[i + 1] = '\0';
        rc = sb_error_set(err, status >= 400 && status < 500 ? SB_OIDC_PROVIDER_REFUSED : SB_OIDC_PROVIDER_UNAVAILABLE,
                          "the token endpoint answered %ld%s%s without an id_token", status,
                          code_text[0] ? " " : "", code_text);
    }
    sb_json_free(doc);
    sb_secure_free(answer);
    return rc;
}

int sb_oidc_provider_verify(sb_oidc_provider *p, int64_t now, const char *id_token,
                            const char *nonce, sb_oidc_claims *out, sb_error *err)
{
    sb_oidc_expect x = {p->s->issuer, p->s->client_id, nonce, now, p->s->clock_skew_ms / 1000,
                        p->s->username_claim ? p->s->username_claim : "preferred_username"};
    pthread_mutex_lock(&p->lock);
    int rc = discover(p, now, err);
    if (rc == 0)
        rc = sb_oidc_id_token_verify(p->keys, id_token, strlen(id_token), &x, out, err);
    if (rc != 0 && err->code == SB_OIDC_E_UNKNOWN_KID) {
        sb_info("oidc", "an ID token names a key the provider's JWKS did not hold; fetching it again");
        rc = load_keys(p, now, err);
        if (rc == 0)
            rc = sb_oidc_id_token_verify(p->keys, id_token, strlen(id_token), &x, out, err);
    }
    pthread_mutex_unlock(&p->lock);
    return rc;
}
