/*
 * plugins/vault/vault_auth.c — the Vault client token: obtaining, tracking
 * and renewing it.
 *
 * Contract (see vault_auth_ensure / vault_auth_after_denied in vault.h):
 *   - Lazy: instance_new makes no network call; the first operation logs in.
 *   - token auth: the configured token is adopted and looked up once
 *     (`GET auth/token/lookup-self`) to learn its TTL and renewability. It
 *     can never be replaced: once Vault says it is dead (403 on lookup-self
 *     or renew-self) or our clock says a non-renewable token expired, every
 *     call fails with SB_E_AUTH_EXPIRED until the operator configures a new
 *     token and restarts.
 *   - approle: `POST auth/{approle_mount}/login {"role_id","secret_id"}`.
 *   - kubernetes: `POST auth/{kubernetes_mount}/login {"role","jwt"}` with
 *     the service-account token read afresh from the pinned token_path on
 *     every login (projected tokens rotate).
 *   - Renewal: once 2/3 of the TTL has passed a renewable token is renewed
 *     (`POST auth/token/renew-self {}`); a renewal that no longer extends
 *     the lifetime (max TTL reached) marks the token non-renewable. A token
 *     that cannot be renewed is replaced by a fresh login when the method
 *     can log in, else used until it expires.
 *   - Lifetimes are measured with host->monotonic_ms from the moment Vault
 *     told us the TTL.
 * The token lives only in vi->tok.token (secure); login bodies (secret_id,
 * JWT) are built in secure buffers freed before returning. Messages name
 * the auth method and mount, never a credential.
 */
#include "vault.h"

#include <stdio.h>
#include <string.h>

static const char *method_name(const vault_instance *vi)
{
    switch (vi->auth) {
    case VAULT_AUTH_APPROLE: return "approle";
    case VAULT_AUTH_KUBERNETES: return "kubernetes";
    default: return "token";
    }
}

void vault_auth_forget(vault_instance *vi)
{
    if (vi->tok.token)
        vault_host->secure_clear(vi->tok.token);
    vi->tok.have = 0;
    vi->tok.renewable = 0;
    vi->tok.ttl_ms = 0;
    vi->tok.obtained_ms = 0;
}

/* Reads lease/ttl facts from an `auth` block (login, renew-self) or a
 * lookup-self `data` block. */
static void learn_lifetime(vault_instance *vi, const sb_json_node *block, const char *ttl_key)
{
    const sb_host_api *h = vault_host;
    int64_t ttl = 0;
    if (h->json_int(h->json_pointer(block, ttl_key), &ttl) != 0 || ttl < 0)
        ttl = 0;
    vi->tok.ttl_ms = ttl * 1000;
    vi->tok.renewable = h->json_type(h->json_pointer(block, "/renewable")) == SB_JSON_TRUE;
    vi->tok.obtained_ms = h->monotonic_ms();
}

/* A token goes into an HTTP header: printable ASCII without spaces only, so
 * neither a config file nor a hostile server can inject header lines. */
static int token_usable(const char *p, size_t len)
{
    if (len == 0 || len > 8192)
        return 0;
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)p[i] < 0x21 || (unsigned char)p[i] > 0x7e)
            return 0;
    return 1;
}

/* Stores `auth.client_token` of a login answer as the current token. */
static sb_status adopt_login(vault_instance *vi, const sb_json *doc, sb_result *res)
{
    const sb_host_api *h = vault_host;
    const sb_json_node *auth = h->json_pointer(h->json_root(doc), "/auth");
    size_t len = 0;
    const char *token = h->json_string(h->json_pointer(auth, "/client_token"), &len);
    if (token == NULL || !token_usable(token, len))
        return h->fail(res, SB_E_PROTOCOL, 0,
                       "%s login: Vault's answer has no usable auth.client_token",
                       method_name(vi));
    vault_auth_forget(vi);
    if (h->secure_append(vi->tok.token, token, len) != 0)
        return h->fail(res, SB_E_INTERNAL, 0, "%s login: out of secure memory", method_name(vi));
    vi->tok.have = 1;
    learn_lifetime(vi, auth, "/lease_duration");
    return SB_OK;
}

/* Builds the login body for AppRole or Kubernetes into `body` (secure). */
static sb_status login_body(vault_instance *vi, sb_secure_buf *body, sb_result *res)
{
    const sb_host_api *h = vault_host;
    int bad = 0;
    if (vi->auth == VAULT_AUTH_APPROLE) {
        if (vi->role_id == NULL || vi->secret_id == NULL)
            return h->fail(res, SB_E_CONFIG, 0, "approle login: role_id and secret_id are required");
        bad |= h->secure_append(body, "{\"role_id\":", 11);
        bad |= h->secure_append_json_string(body, vi->role_id, strlen(vi->role_id));
        bad |= h->secure_append(body, ",\"secret_id\":", 13);
        bad |= h->secure_append_json_string(body, vi->secret_id, strlen(vi->secret_id));
        bad |= h->secure_append(body, "}", 1);
        return bad ? h->fail(res, SB_E_INTERNAL, 0, "approle login: out of secure memory") : SB_OK;
    }
    /* kubernetes: the service-account JWT, read now (it rotates). */
    sb_secure_buf *jwt = NULL;
    sb_status st = h->read_file_secure(vi->token_path, VAULT_JWT_MAX_BYTES, &jwt, res);
    if (st != SB_OK)
        return st;
    size_t len = 0;
    const unsigned char *p = h->secure_data(jwt, &len);
    while (len > 0 && (p[len - 1] == '\n' || p[len - 1] == '\r' || p[len - 1] == ' ' ||
                       p[len - 1] == '\t'))
        len--;
    if (len == 0) {
        h->secure_free(jwt);
        return h->fail(res, SB_E_CONFIG, 0,
                       "kubernetes login: the service-account token file %s is empty",
                       vi->token_path);
    }
    bad |= h->secure_append(body, "{\"role\":", 8);
    bad |= h->secure_append_json_string(body, vi->kubernetes_role, strlen(vi->kubernetes_role));
    bad |= h->secure_append(body, ",\"jwt\":", 7);
    bad |= h->secure_append_json_string(body, (const char *)p, len);
    bad |= h->secure_append(body, "}", 1);
    h->secure_free(jwt);
    return bad ? h->fail(res, SB_E_INTERNAL, 0, "kubernetes login: out of secure memory") : SB_OK;
}

/* AppRole / Kubernetes login. */
static sb_status login(vault_instance *vi, const sb_call *call, sb_result *res)
{
    const sb_host_api *h = vault_host;
    const char *mount = vi->auth == VAULT_AUTH_APPROLE ? vi->approle_mount : vi->kubernetes_mount;
    char what[64];
    snprintf(what, sizeof what, "%s login", method_name(vi));

    vault_auth_forget(vi);
    sb_secure_buf *body = h->secure_new(256);
    if (body == NULL)
        return h->fail(res, SB_E_INTERNAL, 0, "%s: out of secure memory", what);
    sb_status st = login_body(vi, body, res);
    if (st != SB_OK) {
        h->secure_free(body);
        return st;
    }
    vault_str path = {0};
    vault_str_add(&path, "auth/");
    vault_str_add_path(&path, mount);
    vault_str_add(&path, "/login");
    if (path.failed) {
        h->secure_free(body);
        vault_str_free(&path);
        return h->fail(res, SB_E_INTERNAL, 0, "%s: out of memory", what);
    }
    vault_request rq = {.method = "POST", .path = path.p, .body = body, .body_secret = 1,
                        .anonymous = 1, .metric_op = "auth_login"};
    sb_http_response resp;
    st = vault_http_send(vi, call, &rq, &resp, res);
    h->secure_free(body);
    vault_str_free(&path);
    if (st != SB_OK)
        return st;

    if (resp.status == 400 || resp.status == 403) {
        /* Bad role, bad secret_id, rejected JWT: our credentials. */
        char text[VAULT_ERROR_TEXT_MAX + 8] = "";
        sb_json *err = NULL;
        sb_result ignored = SB_RESULT_INIT;
        size_t len = 0;
        const unsigned char *b = resp.body ? h->secure_data(resp.body, &len) : NULL;
        if (b && len && h->json_parse(b, len, &err, &ignored) == SB_OK)
            vault_error_text(err, text, sizeof text);
        h->json_free(err);
        h->result_release(&ignored);
        long code = resp.status;
        h->http_response_free(&resp);
        return h->fail(res, SB_E_DENIED, 0, "%s at auth/%s refused (HTTP %ld)%s%s", what, mount,
                       code, text[0] ? ": " : "", text);
    }
    if (resp.status < 200 || resp.status > 299) {
        st = vault_fail_http(&resp, what, res);
        h->http_response_free(&resp);
        return st;
    }
    sb_json *doc = NULL;
    st = vault_parse_body(&resp, &doc, what, res);
    h->http_response_free(&resp);
    if (st != SB_OK)
        return st;
    st = adopt_login(vi, doc, res);
    h->json_free(doc);
    if (st == SB_OK)
        h->log(SB_LOG_INFO, call, "vault: logged in with %s at auth/%s (ttl %lld s, %s)",
               method_name(vi), mount, (long long)(vi->tok.ttl_ms / 1000),
               vi->tok.renewable ? "renewable" : "not renewable");
    return st;
}

/* lookup-self: *alive = 1 and lifetime learnt, or *alive = 0 on 403. */
static sb_status lookup_self(vault_instance *vi, const sb_call *call, int *alive, sb_result *res)
{
    const sb_host_api *h = vault_host;
    vault_request rq = {.method = "GET", .path = "auth/token/lookup-self", .idempotent = 1,
                        .metric_op = "auth_lookup"};
    sb_http_response resp;
    *alive = 0;
    sb_status st = vault_http_send(vi, call, &rq, &resp, res);
    if (st != SB_OK)
        return st;
    if (resp.status == 403) {
        h->http_response_free(&resp);
        return SB_OK;
    }
    if (resp.status < 200 || resp.status > 299) {
        st = vault_fail_http(&resp, "token lookup-self", res);
        h->http_response_free(&resp);
        return st;
    }
    sb_json *doc = NULL;
    st = vault_parse_body(&resp, &doc, "token lookup-self", res);
    h->http_response_free(&resp);
    if (st != SB_OK)
        return st;
    const sb_json_node *data = h->json_pointer(h->json_root(doc), "/data");
    if (h->json_type(data) != SB_JSON_OBJECT) {
        h->json_free(doc);
        return h->fail(res, SB_E_PROTOCOL, 0, "token lookup-self: Vault's answer has no data");
    }
    learn_lifetime(vi, data, "/ttl");
    h->json_free(doc);
    *alive = 1;
    return SB_OK;
}

static sb_status token_dead(vault_instance *vi, sb_result *res)
{
    vault_auth_forget(vi);
    return vault_host->fail(res, SB_E_AUTH_EXPIRED, 0,
                            "the configured Vault token is expired, revoked or unknown and cannot "
                            "be renewed; configure a new token");
}

/* Token auth: adopt the configured token and learn its lifetime. */
static sb_status adopt_static_token(vault_instance *vi, const sb_call *call, sb_result *res)
{
    const sb_host_api *h = vault_host;
    vault_auth_forget(vi);
    if (vi->static_token == NULL || vi->static_token[0] == '\0')
        return h->fail(res, SB_E_CONFIG, 0, "auth=token needs the secret config key 'token'");
    size_t len = strlen(vi->static_token); /* a ${file:} token may end in a newline */
    while (len > 0 && (vi->static_token[len - 1] == '\n' || vi->static_token[len - 1] == '\r' ||
                       vi->static_token[len - 1] == ' ' || vi->static_token[len - 1] == '\t'))
        len--;
    if (!token_usable(vi->static_token, len))
        return h->fail(res, SB_E_CONFIG, 0,
                       "the configured Vault token contains spaces or control characters");
    if (h->secure_append(vi->tok.token, vi->static_token, len) != 0)
        return h->fail(res, SB_E_INTERNAL, 0, "token auth: out of secure memory");
    vi->tok.have = 1;
    int alive = 0;
    sb_status st = lookup_self(vi, call, &alive, res);
    if (st != SB_OK) {
        vault_auth_forget(vi);
        return st;
    }
    return alive ? SB_OK : token_dead(vi, res);
}

static sb_status acquire(vault_instance *vi, const sb_call *call, sb_result *res)
{
    if (vi->auth == VAULT_AUTH_TOKEN)
        return adopt_static_token(vi, call, res);
    return login(vi, call, res);
}

typedef enum { RENEWED, RENEW_DEAD, RENEW_REFUSED } renew_outcome;

static sb_status renew_self(vault_instance *vi, const sb_call *call, renew_outcome *out,
                            sb_result *res)
{
    const sb_host_api *h = vault_host;
    sb_secure_buf *body = h->secure_new(4);
    if (body == NULL || h->secure_append(body, "{}", 2) != 0) {
        h->secure_free(body);
        return h->fail(res, SB_E_INTERNAL, 0, "token renew-self: out of secure memory");
    }
    int64_t remaining = vi->tok.ttl_ms - (h->monotonic_ms() - vi->tok.obtained_ms);
    vault_request rq = {.method = "POST", .path = "auth/token/renew-self", .body = body,
                        .metric_op = "auth_renew"};
    sb_http_response resp;
    sb_status st = vault_http_send(vi, call, &rq, &resp, res);
    h->secure_free(body);
    if (st != SB_OK)
        return st;
    if (resp.status == 403 || resp.status == 400) {
        *out = resp.status == 403 ? RENEW_DEAD : RENEW_REFUSED;
        h->http_response_free(&resp);
        return SB_OK;
    }
    if (resp.status < 200 || resp.status > 299) {
        st = vault_fail_http(&resp, "token renew-self", res);
        h->http_response_free(&resp);
        return st;
    }
    sb_json *doc = NULL;
    st = vault_parse_body(&resp, &doc, "token renew-self", res);
    h->http_response_free(&resp);
    if (st != SB_OK)
        return st;
    const sb_json_node *auth = h->json_pointer(h->json_root(doc), "/auth");
    if (h->json_type(auth) != SB_JSON_OBJECT) {
        h->json_free(doc);
        return h->fail(res, SB_E_PROTOCOL, 0, "token renew-self: Vault's answer has no auth block");
    }
    int64_t lease = 0;
    if (h->json_int(h->json_pointer(auth, "/lease_duration"), &lease) != 0 || lease <= 0) {
        /* Nothing left to extend (max TTL reached): not "never expires". */
        h->json_free(doc);
        *out = RENEW_REFUSED;
        return SB_OK;
    }
    learn_lifetime(vi, auth, "/lease_duration");
    h->json_free(doc);
    /* A renewal that does not extend the lifetime hit the max TTL: stop
     * renewing; a login method logs in afresh when it is due again. */
    if (vi->tok.ttl_ms > 0 && vi->tok.ttl_ms <= remaining + 1000)
        vi->tok.renewable = 0;
    *out = RENEWED;
    h->log(SB_LOG_DEBUG, call, "vault: token renewed (ttl %lld s)",
           (long long)(vi->tok.ttl_ms / 1000));
    return SB_OK;
}

sb_status vault_auth_ensure(vault_instance *vi, const sb_call *call, sb_result *res)
{
    const sb_host_api *h = vault_host;
    if (!vi->tok.have)
        return acquire(vi, call, res);
    if (vi->tok.ttl_ms <= 0)
        return SB_OK; /* never expires (root or periodic-less token) */
    int64_t elapsed = h->monotonic_ms() - vi->tok.obtained_ms;
    if (elapsed * 3 < vi->tok.ttl_ms * 2)
        return SB_OK;
    int expired = elapsed >= vi->tok.ttl_ms;
    int can_login = vi->auth != VAULT_AUTH_TOKEN;

    if (vi->tok.renewable) {
        renew_outcome outcome = RENEW_REFUSED;
        sb_result scratch = SB_RESULT_INIT;
        sb_status st = renew_self(vi, call, &outcome, &scratch);
        if (st != SB_OK && expired && !can_login) /* scratch.message is ordinary memory */
            st = h->fail(res, st, scratch.retry_after_ms, "%s", scratch.message);
        h->result_release(&scratch);
        if (st != SB_OK) {
            /* Vault unreachable or busy: keep the token while it lives. */
            if (!expired)
                return SB_OK;
            if (!can_login)
                return st;
            return login(vi, call, res);
        }
        if (outcome == RENEWED)
            return SB_OK;
        if (outcome == RENEW_DEAD)
            return can_login ? login(vi, call, res) : token_dead(vi, res);
        vi->tok.renewable = 0; /* refused: not renewable after all */
    }
    if (can_login)
        return login(vi, call, res);
    if (expired)
        return token_dead(vi, res);
    return SB_OK;
}

sb_status vault_auth_after_denied(vault_instance *vi, const sb_call *call, int *retry,
                                  sb_result *res)
{
    *retry = 0;
    if (vi->auth != VAULT_AUTH_TOKEN) {
        sb_status st = login(vi, call, res);
        if (st == SB_OK)
            *retry = 1;
        return st;
    }
    int alive = 0;
    sb_result scratch = SB_RESULT_INIT;
    sb_status st = lookup_self(vi, call, &alive, &scratch);
    vault_host->result_release(&scratch);
    if (st != SB_OK)
        return SB_OK; /* cannot tell: the original 403 stands */
    return alive ? SB_OK : token_dead(vi, res);
}
