/*
 * api/oidc_routes.c — single sign-on through an OpenID provider:
 * authorization code flow with PKCE (S256), state and nonce (SPEC §8).
 *
 *   GET /api/v1/auth/providers      PUBLIC which sign-in methods exist (the
 *                                   UI shows the SSO button from it)
 *   GET /api/v1/auth/oidc/login     PUBLIC ?return_to=/path → 302 to the provider
 *   GET /api/v1/auth/oidc/callback  PUBLIC ?code&state (or ?error) from the
 *                                   provider → session cookie, 302 to return_to
 *
 * Where the sign-in's secrets live, and why: `state` and `nonce` are
 * random 256-bit values; the row for the sign-in (store/oidc_store.h,
 * single use, 10 minutes) is keyed by the keyed hash of state and holds
 * the nonce and return path. The PKCE code verifier is a third random
 * value that lives only in the browser, in an HttpOnly cookie (sb_oidc,
 * SameSite=Lax so the provider's redirect back carries it, Secure outside
 * dev, path /api/v1/auth/oidc/); the row keeps only its keyed hash. So the
 * callback needs both the row (server side: single use, replay refused,
 * nothing a browser can forge) and the cookie (the same browser that
 * started the sign-in: a stolen callback URL, or a login-CSRF link carrying
 * an attacker's code, fails), and the database alone never holds enough to
 * redeem a code. An encrypted cookie alone would be replayable until it
 * expires; a row alone would not be bound to the browser.
 *
 * The callback consumes the state first (DELETE … RETURNING: of two
 * callbacks exactly one proceeds), then exchanges the code, verifies the
 * ID token (crypto/oidc_id_token.h: RS256 only, kid, iss, aud/azp,
 * exp/iat with oidc.clock_skew, nonce), applies allowed_email_domains,
 * finds or creates the user (oidc_user.c) and signs in exactly as a
 * password login does (sb_auth_session_open: same session, cookie and
 * `auth.login` audit event, method oidc). It then redirects to return_to
 * when that is a same-origin path (oidc_return.c), else to "/".
 *
 * Every failure — the provider's own ?error=, a missing, unknown, expired,
 * replayed or foreign state, a refused code, any ID token check, a domain
 * not allowed, a disabled account — is audited (`auth.login`, failure,
 * {method: oidc, reason}) and answered with a redirect to the UI's sign-in
 * page, /login?sso_error=<code>, which the page explains. The codes:
 * idp_error, invalid_state, token_exchange_failed, invalid_id_token,
 * email_domain_not_allowed, account_disabled, sso_unavailable. When SSO is
 * not configured, login and callback answer 404 sso_not_configured. Both
 * are rate limited per client address like password login (30 a minute
 * each; 429 rate_limited with Retry-After): a sign-in start writes a row.
 */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api/api.h"
#include "api/auth_internal.h"
#include "api/oidc_internal.h"
#include "crypto/secure_mem.h"
#include "crypto/token.h"
#include "store/oidc_store.h"
#include "store/sessions_store.h"
#include "util/log.h"

#define STATE_TTL_S 600
#define BINDING_COOKIE "sb_oidc"
#define BINDING_PATH "/api/v1/auth/oidc/"
#define LOGIN_PAGE "/login?sso_error="

/* ---- helpers ------------------------------------------------------------------- */

static int not_configured(sb_server_request *req)
{
    return sb_http_respond_error(req, 404, "sso_not_configured",
                                 "single sign-on is not configured on this server (oidc: in the "
                                 "server configuration); sign in with a username and password");
}

/* What login and callback do first: 404 without oidc, the per-address
 * rate limit. 0 to go on (*now set); 1 when answered. */
static int sso_route_begin(sb_app *app, sb_server_request *req, const char *scope, int64_t *now)
{
    if (app->oidc == NULL) {
        not_configured(req);
        return 1;
    }
    *now = sb_app_now_ms(app) / 1000;
    return sb_auth_rate_limit(app, req, scope, *now) != 0 ? 1 : 0;
}

static void binding_cookie(sb_app *app, sb_server_request *req, const char *value, long max_age)
{
    sb_http_cookie_attrs attrs = {.path = BINDING_PATH,
                                  .max_age = max_age,
                                  .http_only = 1,
                                  .secure = app->cookie_secure,
                                  .same_site = "Lax"};
    sb_http_set_cookie(req, BINDING_COOKIE, value, &attrs);
}

static int redirect(sb_server_request *req, const char *location)
{
    if (sb_http_set_header(req, "Location", location) != 0)
        return sb_http_respond_error(req, 500, "internal", "cannot redirect");
    return sb_http_respond_empty(req, 302);
}

/* Audits the refusal, forgets the browser binding and sends the browser to
 * the sign-in page with the code. */
static int refuse(sb_app *app, sb_server_request *req, const char *code, const char *reason,
                  const char *user_id, const char *idp_error)
{
    char resource[64] = "auth:oidc";
    if (user_id)
        snprintf(resource, sizeof resource, "user:%s", user_id);
    json_t *details = json_pack("{s:s, s:s}", "method", "oidc", "reason", reason);
    if (idp_error)
        json_object_set_new(details, "idp_error", json_string(idp_error));
    sb_api_audit_event ev = {"auth.login", resource, "failure", "warning", details};
    sb_api_audit_now(app, req, &ev);
    json_decref(details);
    sb_info("oidc", "single sign-on refused: %s (%s)", code, reason);
    binding_cookie(app, req, "", 0);
    char location[128];
    snprintf(location, sizeof location, "%s%s", LOGIN_PAGE, code);
    return redirect(req, location);
}

/* base64url(SHA-256(verifier)): the PKCE S256 challenge. */
static void pkce_challenge(const char *verifier, char out[SB_TOKEN_ENCODED_LEN + 1])
{
    unsigned char digest[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(digest, (const unsigned char *)verifier, strlen(verifier));
    sodium_bin2base64(out, SB_TOKEN_ENCODED_LEN + 1, digest, sizeof digest,
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

/* ---- GET /auth/providers ------------------------------------------------------- */

static int providers(sb_server_request *req, void *ctx)
{
    sb_app *app = ctx;
    const sb_oidc_settings *s = sb_oidc_provider_settings(app->oidc);
    json_t *sso = s ? json_pack("{s:s, s:s}", "label", s->button_label ? s->button_label : "Sign in with SSO",
                                "login_url", "/api/v1/auth/oidc/login")
                    : json_null();
    return sb_http_respond_json(req, 200, json_pack("{s:b, s:o}", "password", 1, "sso", sso));
}

/* ---- GET /auth/oidc/login ------------------------------------------------------ */

typedef struct login_secrets {
    char state[SB_TOKEN_MAX], nonce[SB_TOKEN_MAX], verifier[SB_TOKEN_MAX];
} login_secrets;

static int login_start(sb_server_request *req, void *ctx)
{
    sb_app *app = ctx;
    int64_t now;
    if (sso_route_begin(app, req, "oidc_login", &now) != 0)
        return 0;
    const char *return_to = sb_http_query(req, "return_to");
    if (!sb_oidc_return_to_ok(return_to))
        return_to = "/";
    login_secrets *ls = sb_secure_alloc(sizeof *ls);
    sb_error err = {0};
    unsigned char state_hash[SB_TOKEN_HASH_BYTES], binding_hash[SB_TOKEN_HASH_BYTES];
    if (ls == NULL || sb_token_new(NULL, ls->state, sizeof ls->state, &err) != 0 ||
        sb_token_new(NULL, ls->nonce, sizeof ls->nonce, &err) != 0 ||
        sb_token_new(NULL, ls->verifier, sizeof ls->verifier, &err) != 0 ||
        sb_token_hash(ls->state, strlen(ls->state), app->token_pepper, SB_KEY_BYTES, state_hash, &err) != 0 ||
        sb_token_hash(ls->verifier, strlen(ls->verifier), app->token_pepper, SB_KEY_BYTES, binding_hash,
                      &err) != 0) {
        sb_secure_release(ls);
        return sb_http_respond_error(req, 500, "internal", "cannot start a sign-in");
    }
    char challenge[SB_TOKEN_ENCODED_LEN + 1], *url = malloc(2 * SB_OIDC_URL_MAX);
    pkce_challenge(ls->verifier, challenge);
    int rc = url ? sb_oidc_provider_authorize_url(app->oidc, now, ls->state, ls->nonce, challenge, url,
                                                  2 * SB_OIDC_URL_MAX, &err)
                 : -1;
    if (rc != 0) {
        sb_err("oidc", "cannot start a sign-in: %s", url ? err.message : "out of memory");
        sb_secure_release(ls);
        free(url);
        return refuse(app, req, "sso_unavailable", "discovery_failed", NULL, NULL);
    }
    sb_oidc_state_new row = {state_hash, binding_hash, ls->nonce, return_to, now, now + STATE_TTL_S};
    sb_db_conn *conn;
    rc = sb_db_acquire(app->db, 5000, &conn, &err);
    if (rc == 0) {
        rc = sb_oidc_store_state_put(conn, &row, &err);
        sb_db_release(app->db, conn);
    }
    if (rc != 0) {
        sb_secure_release(ls);
        free(url);
        return sb_api_respond_store_error(req, &err);
    }
    binding_cookie(app, req, ls->verifier, STATE_TTL_S);
    sb_secure_release(ls);
    rc = redirect(req, url);
    free(url);
    return rc;
}

/* ---- GET /auth/oidc/callback --------------------------------------------------- */

/* The provider's error code, kept only when it is a plain token. */
static const char *idp_error_code(const char *e, char out[65])
{
    size_t i = 0;
    for (; e && e[i] && i < 64; i++) {
        char c = e[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_'))
            break;
        out[i] = c;
    }
    out[i] = '\0';
    return e && e[i] == '\0' && i > 0 ? out : "unrecognised";
}

static const char *token_reason(int code)
{
    switch (code) {
    case SB_OIDC_E_MALFORMED: return "malformed_id_token";
    case SB_OIDC_E_ALGORITHM: return "algorithm_refused";
    case SB_OIDC_E_UNKNOWN_KID: return "unknown_key";
    case SB_OIDC_E_SIGNATURE: return "bad_signature";
    case SB_OIDC_E_ISSUER: return "wrong_issuer";
    case SB_OIDC_E_AUDIENCE: return "wrong_audience";
    case SB_OIDC_E_EXPIRED: return "expired";
    case SB_OIDC_E_NOT_YET_VALID: return "not_yet_valid";
    case SB_OIDC_E_NONCE: return "nonce_mismatch";
    case SB_OIDC_E_CLAIMS: return "bad_claims";
    default: return "unverifiable";
    }
}

static int domain_allowed(const sb_oidc_settings *s, const sb_oidc_claims *c)
{
    if (s->allowed_email_domains.n == 0)
        return 1;
    const char *at = strrchr(c->email, '@');
    if (!c->email_verified || at == NULL)
        return 0;
    for (size_t i = 0; i < s->allowed_email_domains.n; i++)
        if (strcasecmp(at + 1, s->allowed_email_domains.items[i]) == 0)
            return 1;
    return 0;
}

/* The state row of this callback, checked against the browser's cookie.
 * 0 with *row, or a refusal reason. */
static const char *take_state(sb_app *app, sb_server_request *req, int64_t now,
                              sb_oidc_state_record *row, sb_error *err)
{
    const char *state = sb_http_query(req, "state");
    if (state == NULL || state[0] == '\0' || strlen(state) > SB_TOKEN_HASH_INPUT_MAX)
        return "missing_state";
    unsigned char hash[SB_TOKEN_HASH_BYTES];
    if (sb_token_hash(state, strlen(state), app->token_pepper, SB_KEY_BYTES, hash, err) != 0)
        return "missing_state";
    sb_db_conn *conn;
    int rc = sb_db_acquire(app->db, 5000, &conn, err);
    if (rc == 0) {
        rc = sb_oidc_store_state_take(conn, hash, row, err);
        sb_db_release(app->db, conn);
    }
    if (rc < 0)
        return "store_unavailable";
    if (rc == 1)
        return "unknown_or_used_state";
    if (row->expires_at <= now)
        return "expired_state";
    const char *cookie = sb_http_cookie(req, BINDING_COOKIE);
    unsigned char binding[SB_TOKEN_HASH_BYTES];
    if (cookie == NULL || strlen(cookie) > SB_TOKEN_HASH_INPUT_MAX ||
        sb_token_hash(cookie, strlen(cookie), app->token_pepper, SB_KEY_BYTES, binding, err) != 0 ||
        !sb_token_equal(binding, row->binding_hash, SB_TOKEN_HASH_BYTES))
        return "browser_mismatch";
    return NULL;
}

static int callback(sb_server_request *req, void *ctx)
{
    sb_app *app = ctx;
    int64_t now;
    if (sso_route_begin(app, req, "oidc_callback", &now) != 0)
        return 0;
    sb_error err = {0};
    sb_oidc_state_record *row = malloc(sizeof *row);
    if (row == NULL)
        return sb_http_respond_error(req, 500, "internal", "out of memory");
    const char *why = take_state(app, req, now, row, &err);
    const char *idp_error = sb_http_query(req, "error");
    if (idp_error) { /* the state is consumed either way: single use */
        char code[65];
        free(row);
        return refuse(app, req, "idp_error", "idp_error", NULL, idp_error_code(idp_error, code));
    }
    if (why) {
        free(row);
        return refuse(app, req, strcmp(why, "store_unavailable") == 0 ? "sso_unavailable" : "invalid_state",
                      why, NULL, NULL);
    }
    const char *code = sb_http_query(req, "code");
    const char *verifier = sb_http_cookie(req, BINDING_COOKIE);
    char *id_token = NULL;
    if (code == NULL || code[0] == '\0' || strlen(code) > 2048) {
        free(row);
        return refuse(app, req, "token_exchange_failed", "missing_code", NULL, NULL);
    }
    if (sb_oidc_provider_exchange(app->oidc, now, code, verifier, &id_token, &err) != 0) {
        sb_warn("oidc", "code exchange failed: %s", err.message);
        free(row);
        return refuse(app, req,
                      err.code == SB_OIDC_PROVIDER_REFUSED ? "token_exchange_failed" : "sso_unavailable",
                      err.code == SB_OIDC_PROVIDER_REFUSED ? "code_refused" : "token_endpoint_unavailable",
                      NULL, NULL);
    }
    sb_oidc_claims *claims = malloc(sizeof *claims);
    int rc = claims ? sb_oidc_provider_verify(app->oidc, now, id_token, row->nonce, claims, &err) : -1;
    sb_secure_release(id_token);
    char return_to[SB_OIDC_RETURN_TO_MAX + 1];
    snprintf(return_to, sizeof return_to, "%s", sb_oidc_return_to_ok(row->return_to) ? row->return_to : "/");
    free(row);
    if (rc != 0) {
        sb_warn("oidc", "ID token refused: %s", claims ? err.message : "out of memory");
        int unavailable = err.code == SB_OIDC_PROVIDER_UNAVAILABLE;
        free(claims);
        return refuse(app, req, unavailable ? "sso_unavailable" : "invalid_id_token",
                      unavailable ? "keys_unavailable" : token_reason(err.code), NULL, NULL);
    }
    if (!domain_allowed(sb_oidc_provider_settings(app->oidc), claims)) {
        free(claims);
        return refuse(app, req, "email_domain_not_allowed", "email_domain_not_allowed", NULL, NULL);
    }
    sb_user_record *user = malloc(sizeof *user);
    int created = 0;
    rc = user ? sb_oidc_user_resolve(app, req, claims, now, user, &created, &err) : -1;
    free(claims);
    if (rc != 0) {
        free(user);
        return sb_api_respond_store_error(req, &err);
    }
    if (user->disabled) {
        rc = refuse(app, req, "account_disabled", "disabled", user->id, NULL);
        free(user);
        return rc;
    }
    sb_session_record session;
    rc = sb_auth_session_open(app, req, user, now, "oidc", NULL, &session);
    if (rc == 1)
        rc = refuse(app, req, "account_disabled", "disabled", user->id, NULL);
    free(user);
    if (rc != 0)
        return rc < 0 ? 0 : rc;
    binding_cookie(app, req, "", 0);
    return redirect(req, return_to);
}

/* ---- registration -------------------------------------------------------------- */

int sb_api_oidc_routes(sb_router *r, sb_app *app, sb_error *err)
{
    const sb_route routes[] = {
        {"GET", "/api/v1/auth/providers", SB_AUTH_PUBLIC, NULL, providers, app, "authProviders",
         "How users may sign in here: password, and single sign-on when configured"},
        {"GET", "/api/v1/auth/oidc/login", SB_AUTH_PUBLIC, NULL, login_start, app, "authOidcLogin",
         "Start single sign-on: redirects to the OpenID provider"},
        {"GET", "/api/v1/auth/oidc/callback", SB_AUTH_PUBLIC, NULL, callback, app,
         "authOidcCallback",
         "Where the OpenID provider sends the browser back: signs in and redirects"},
    };
    return sb_router_add_all(r, routes, sizeof routes / sizeof routes[0], err);
}
