/*
 * api/auth_routes.c — sign in and out, the caller's own session, profile
 * and personal API tokens (sb_api_auth_routes, api.h).
 *
 *   POST   /api/v1/auth/login            PUBLIC  {username, password}
 *   POST   /api/v1/auth/logout           SESSION revokes the session (cookie or JWT)
 *   GET    /api/v1/auth/session          SESSION the session behind this request
 *   GET    /api/v1/users/me              SESSION identity, permissions, teams, projects
 *   GET    /api/v1/users/me/tokens       SESSION own API tokens (never the secret)
 *   POST   /api/v1/users/me/tokens       SESSION {name, expires_in_days?}: the token, once
 *   DELETE /api/v1/users/me/tokens/{id}  SESSION revoke an own token (404 otherwise)
 *
 * Login, in order: a per-IP fixed-window rate limit kept in PostgreSQL
 * (30 attempts a minute, every attempt counted; 429 rate_limited with
 * Retry-After); a strict body; then exactly one argon2id evaluation
 * whatever happens — the user's hash, or sb_password_verify_dummy for an
 * unknown, disabled, locked or password-less user — and the same 401
 * invalid_credentials body for all of them. A wrong password counts
 * towards the lockout (5 failures lock the account for 15 minutes,
 * domain/session_policy.h) atomically in the database; a success resets
 * it, opens the session and writes the audit event in one transaction.
 * Every outcome is audited (`auth.login`, `auth.login.locked` at warning,
 * `auth.login.rate_limited` once per window) with a reason and never the
 * password; the username is recorded only as the user id it resolved to.
 *
 * The password is copied into secure memory at once and jansson's copy is
 * wiped, so it lives nowhere else for the rest of the request.
 */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "api/auth_internal.h"
#include "crypto/jwt.h"
#include "crypto/password.h"
#include "crypto/secure_mem.h"
#include "crypto/token.h"
#include "domain/rate_limit.h"
#include "domain/session_policy.h"
#include "store/rate_limit_store.h"
#include "store/sessions_store.h"
#include "store/users_store.h"
#include "util/log.h"

#define LOGIN_RATE_LIMIT 30
#define LOGIN_RATE_WINDOW 60
#define JWT_ISSUER "secrets-bridge"
#define SESSION_COOKIE "sb_session"

static const sb_lockout_policy lockout = {SB_LOCKOUT_MAX_FAILURES_DEFAULT,
                                          SB_LOCKOUT_SECONDS_DEFAULT};

/* ---- small helpers ----------------------------------------------------------- */

static int unavailable(sb_server_request *req, const sb_error *err)
{
    return sb_api_respond_store_error(req, err);
}

static int respond_invalid_credentials(sb_server_request *req)
{
    sb_http_set_header(req, "WWW-Authenticate", "Bearer realm=\"sbridge\"");
    return sb_http_respond_error(req, 401, "invalid_credentials",
                                 "the username or password is incorrect, or this account cannot "
                                 "sign in at the moment");
}

static void audit_login(sb_app *app, sb_server_request *req, const char *action, const char *user_id,
                        const char *reason, const char *severity)
{
    char resource[64] = "auth:login";
    if (user_id)
        snprintf(resource, sizeof resource, "user:%s", user_id);
    json_t *details = json_pack("{s:s, s:b}", "reason", reason, "known_user", user_id != NULL);
    sb_api_audit_event ev = {action, resource, "failure", severity, details};
    sb_api_audit_now(app, req, &ev);
    json_decref(details);
}

/* ---- rate limit -------------------------------------------------------------- */

int sb_auth_rate_limit(sb_app *app, sb_server_request *req, const char *scope, int64_t now)
{
    char bucket[SB_RATE_BUCKET_MAX + 1], resource[64];
    const char *ip = sb_http_remote_ip(req);
    snprintf(bucket, sizeof bucket, "%s:ip:%s", scope, ip ? ip : "unknown");
    snprintf(resource, sizeof resource, "auth:%s", scope);
    sb_rate_limit limit = {LOGIN_RATE_LIMIT, LOGIN_RATE_WINDOW};
    sb_rate_decision d;
    int64_t hits = 0;
    sb_error err = {0};
    sb_db_conn *conn;
    if (sb_db_acquire(app->db, 5000, &conn, &err) != 0) {
        unavailable(req, &err);
        return 1;
    }
    int rc = sb_rate_limit_store_check(conn, bucket, &limit, now, &d, &hits, &err);
    sb_db_release(app->db, conn);
    if (rc != 0) {
        /* fail closed: a login limiter that cannot count does not let guesses through */
        sb_err("auth", "login rate limit unavailable: %s", err.message);
        sb_http_respond_error(req, 503, "unavailable", "try again shortly");
        return 1;
    }
    if (d.allowed)
        return 0;
    if (hits == LOGIN_RATE_LIMIT + 1) { /* audit the first refusal of a window only */
        json_t *details = json_pack("{s:I, s:I}", "limit", (json_int_t)LOGIN_RATE_LIMIT,
                                    "window_seconds", (json_int_t)LOGIN_RATE_WINDOW);
        sb_api_audit_event ev = {"auth.login.rate_limited", resource, "denied", "warning",
                                 details};
        sb_api_audit_now(app, req, &ev);
        json_decref(details);
    }
    char retry[24];
    snprintf(retry, sizeof retry, "%lld", (long long)d.retry_after);
    sb_http_set_header(req, "Retry-After", retry);
    sb_http_respond_error(req, 429, "rate_limited",
                          "too many sign-in attempts from this address; retry in %lld s",
                          (long long)d.retry_after);
    return 1;
}

/* ---- login ------------------------------------------------------------------- */

typedef struct login_txn {
    sb_server_request *req;
    const sb_user_record *user;
    int64_t now;
    const char *method;   /* "password", "oidc": the audit event's method */
    const char *new_hash; /* a rehash to store, or NULL */
    const unsigned char *token_hash;
    sb_session_decision decision;
    sb_session_record session; /* out */
    /* failure path */
    sb_lockout_state state;
    int locked_now, was_locked;
} login_txn;

static void login_identity_free(void *p) { free(p); }

static int login_success_txn(sb_db_conn *conn, void *ctx, sb_error *err)
{
    login_txn *t = ctx;
    int rc = sb_users_store_record_success(conn, t->user->id, t->now, err);
    if (rc != 0)
        return rc < 0 ? -1 : 1; /* 1: locked or disabled meanwhile; nothing written */
    if (t->new_hash && sb_users_store_set_password(conn, t->user->id, t->new_hash, err) < 0)
        return -1;
    sb_session_new s = {t->token_hash,
                        t->user->id,
                        t->now,
                        t->decision.idle_expires_at,
                        t->decision.absolute_expires_at,
                        sb_http_remote_ip(t->req)};
    if (sb_sessions_store_create(conn, &s, &t->session, err) != 0)
        return -1;
    char resource[64];
    snprintf(resource, sizeof resource, "user:%s", t->user->id);
    json_t *details = json_pack("{s:s, s:s}", "session_id", t->session.id, "method", t->method);
    sb_api_audit_event ev = {"auth.login", resource, "success", NULL, details};
    rc = sb_api_audit(conn, t->req, &ev, err);
    json_decref(details);
    return rc < 0 ? -1 : 0;
}

static int login_failure_txn(sb_db_conn *conn, void *ctx, sb_error *err)
{
    login_txn *t = ctx;
    int rc = sb_users_store_record_failure(conn, t->user->id, &lockout, t->now, &t->state,
                                           &t->locked_now, &t->was_locked, err);
    if (rc != 0)
        return rc < 0 ? -1 : 0;
    char resource[64], until[32];
    snprintf(resource, sizeof resource, "user:%s", t->user->id);
    sb_auth_time_text(t->state.locked_until, until, sizeof until);
    json_t *details =
        t->locked_now ? json_pack("{s:s, s:s, s:i}", "reason", "too_many_failures", "locked_until",
                                  until, "max_failures", lockout.max_failures)
                      : json_pack("{s:s, s:i}", "reason", t->was_locked ? "locked" : "bad_password",
                                  "failed_logins", t->state.failed_count);
    sb_api_audit_event ev = {t->locked_now ? "auth.login.locked" : "auth.login", resource,
                             "failure", t->locked_now || t->was_locked ? "warning" : NULL, details};
    rc = sb_api_audit(conn, t->req, &ev, err);
    json_decref(details);
    return rc < 0 ? -1 : 0;
}

int sb_auth_session_open(sb_app *app, sb_server_request *req, const sb_user_record *u, int64_t now,
                         const char *method, const char *new_hash, sb_session_record *session_out)
{
    sb_error err = {0};
    sb_session_limits limits = {app->session_idle_ms / 1000, app->session_absolute_ms / 1000};
    if (sb_session_limits_check(&limits, &err) != 0) {
        sb_err("auth", "session limits: %s", err.message);
        sb_http_respond_error(req, 500, "internal", "session configuration");
        return -1;
    }
    char *token = sb_secure_alloc(SB_TOKEN_MAX);
    unsigned char hash[SB_TOKEN_HASH_BYTES];
    login_txn t = {.req = req,
                   .user = u,
                   .now = now,
                   .method = method,
                   .new_hash = new_hash,
                   .token_hash = hash,
                   .decision = sb_session_start(&limits, now)};
    /* the identity the audit event names as its actor */
    sb_identity *id = calloc(1, sizeof *id);
    if (token == NULL || id == NULL ||
        sb_token_new(SB_TOKEN_PREFIX_SESSION, token, SB_TOKEN_MAX, &err) != 0 ||
        sb_token_hash(token, strlen(token), app->token_pepper, SB_KEY_BYTES, hash, &err) != 0) {
        sb_secure_release(token);
        free(id);
        sb_http_respond_error(req, 500, "internal", "cannot create a session");
        return -1;
    }
    snprintf(id->user_id, sizeof id->user_id, "%s", u->id);
    snprintf(id->username, sizeof id->username, "%s", u->username);
    id->method = SB_IDENTITY_SESSION;
    id->has_session = 1;
    memcpy(id->session_hash, hash, sizeof hash);
    sb_http_set_identity(req, id, login_identity_free);
    int rc = sb_db_transaction(app->db, login_success_txn, &t, &err);
    if (rc != 0) {
        sb_secure_release(token);
        sb_http_set_identity(req, NULL, NULL);
        if (rc > 0)
            return 1;
        unavailable(req, &err);
        return -1;
    }
    sb_http_cookie_attrs attrs = {.path = "/",
                                  .max_age = (long)t.decision.cookie_max_age,
                                  .http_only = 1,
                                  .secure = app->cookie_secure,
                                  .same_site = "Strict"};
    int cookie_rc = sb_http_set_cookie(req, SESSION_COOKIE, token, &attrs);
    sb_secure_release(token);
    if (cookie_rc != 0) {
        sb_http_respond_error(req, 500, "internal", "cannot set the session cookie");
        return -1;
    }
    *session_out = t.session;
    return 0;
}

/* Opens the session, sets the cookie and answers 200 with the JWT; 1 when
 * the account turned out to be locked or disabled at the last moment. */
static int login_succeed(sb_app *app, sb_server_request *req, const sb_user_record *u, int64_t now,
                         const char *new_hash)
{
    sb_session_record session;
    int rc = sb_auth_session_open(app, req, u, now, "password", new_hash, &session);
    if (rc != 0)
        return rc > 0 ? 1 : 0;
    sb_error err = {0};
    char jwt[SB_JWT_MAX_LEN];
    sb_jwt_claim extra[] = {{"username", u->username}};
    sb_jwt_claims claims = {JWT_ISSUER, u->id, session.id, now, session.absolute_expires_at,
                            extra,      1};
    if (sb_jwt_issue(app->jwt_secret, SB_KEY_BYTES, &claims, jwt, sizeof jwt, &err) < 0) {
        sb_err("auth", "cannot issue a JWT: %s", err.message);
        return sb_http_respond_error(req, 500, "internal", "cannot issue a token");
    }
    json_t *rest =
        json_pack("{s:{s:s, s:s, s:s}, s:s, s:o, s:{s:s, s:o, s:o}}", "user", "id", u->id,
                  "username", u->username, "display_name", u->display_name, "token_type", "Bearer",
                  "expires_at", sb_auth_time_json(session.absolute_expires_at), "session", "id",
                  session.id, "idle_expires_at", sb_auth_time_json(session.idle_expires_at),
                  "absolute_expires_at", sb_auth_time_json(session.absolute_expires_at));
    rc = sb_auth_respond_with_token(req, 200, jwt, rest);
    sodium_memzero(jwt, sizeof jwt);
    return rc;
}

static int login(sb_server_request *req, void *ctx)
{
    sb_app *app = ctx;
    int64_t now = sb_app_now_ms(app) / 1000;
    if (sb_auth_rate_limit(app, req, "login", now) != 0)
        return 0;
    static const sb_auth_field spec[] = {
        {"username", SB_AUTH_FIELD_STRING, 1, SB_USERNAME_MAX},
        {"password", SB_AUTH_FIELD_SECRET, 1, SB_PASSWORD_MAX_LEN},
    };
    json_t *values[2];
    if (sb_auth_body_fields(req, spec, 2, values) != 0)
        return 0;
    const char *username = json_string_value(values[0]);
    size_t pw_len = json_string_length(values[1]);
    char *pw = sb_secure_strdup(json_string_value(values[1]), pw_len);
    sb_auth_body_wipe(values[1]);
    if (pw == NULL)
        return sb_http_respond_error(req, 503, "unavailable", "out of secure memory");

    sb_error err = {0};
    sb_db_conn *conn;
    sb_user_record u;
    int found = -1;
    if (sb_db_acquire(app->db, 5000, &conn, &err) == 0) {
        found = sb_users_store_find_by_username(conn, username, &u, &err);
        sb_db_release(app->db, conn);
    }
    if (found < 0) {
        sb_secure_release(pw);
        return unavailable(req, &err);
    }
    sb_password_params params = sb_password_params_default();
    const char *reason = NULL;
    if (found == 1)
        reason = "unknown_user";
    else if (u.disabled)
        reason = "disabled";
    else if (u.locked_until > now)
        reason = "locked";
    else if (!u.has_password)
        reason = "no_password";
    if (reason) {
        sb_password_verify_dummy(&params, pw, pw_len);
        sb_secure_release(pw);
        audit_login(app, req, "auth.login", found == 0 ? u.id : NULL, reason,
                    strcmp(reason, "locked") == 0 ? "warning" : NULL);
        return respond_invalid_credentials(req);
    }
    int ok = sb_password_verify(u.password_hash, pw, pw_len, &err);
    char new_hash[SB_PASSWORD_HASH_MAX];
    int rehash = ok == 1 && sb_password_needs_rehash(u.password_hash, &params) == 1 &&
                 sb_password_hash(&params, pw, pw_len, new_hash, NULL) == 0;
    sb_secure_release(pw);
    if (ok == 1) {
        int rc = login_succeed(app, req, &u, now, rehash ? new_hash : NULL);
        if (rc != 1)
            return rc;
        audit_login(app, req, "auth.login", u.id, "locked", "warning");
        return respond_invalid_credentials(req);
    }
    login_txn t = {.req = req, .user = &u, .now = now};
    if (sb_db_transaction(app->db, login_failure_txn, &t, &err) < 0)
        return unavailable(req, &err);
    return respond_invalid_credentials(req);
}

/* ---- logout and session ------------------------------------------------------ */

typedef struct logout_txn {
    sb_server_request *req;
    const sb_identity *id;
    int64_t now;
} logout_txn;

static int logout_txn_fn(sb_db_conn *conn, void *ctx, sb_error *err)
{
    logout_txn *t = ctx;
    char session_id[40] = "", resource[64] = "session";
    int rc = sb_sessions_store_revoke(conn, t->id->session_hash, t->now, session_id, err);
    if (rc < 0)
        return -1;
    if (session_id[0])
        snprintf(resource, sizeof resource, "session:%s", session_id);
    json_t *details = json_pack("{s:s}", "method", sb_auth_method_name(t->id->method));
    sb_api_audit_event ev = {"auth.logout", resource, "success", NULL, details};
    rc = sb_api_audit(conn, t->req, &ev, err);
    json_decref(details);
    return rc < 0 ? -1 : 0;
}

static int logout(sb_server_request *req, void *ctx)
{
    sb_app *app = ctx;
    const sb_identity *id = sb_api_identity(req);
    if (!id->has_session)
        return sb_http_respond_error(
            req, 400, "no_session",
            "this request is authenticated by an API token, not a session; "
            "revoke the token with DELETE /api/v1/users/me/tokens/{id}");
    logout_txn t = {req, id, sb_app_now_ms(app) / 1000};
    sb_error err = {0};
    if (sb_db_transaction(app->db, logout_txn_fn, &t, &err) < 0)
        return unavailable(req, &err);
    sb_http_cookie_attrs attrs = {.path = "/",
                                  .max_age = 0,
                                  .http_only = 1,
                                  .secure = app->cookie_secure,
                                  .same_site = "Strict"};
    sb_http_set_cookie(req, SESSION_COOKIE, "", &attrs);
    return sb_http_respond_empty(req, 204);
}

static int session_info(sb_server_request *req, void *ctx)
{
    sb_app *app = ctx;
    const sb_identity *id = sb_api_identity(req);
    json_t *session = json_null();
    if (id->has_session) {
        sb_error err = {0};
        sb_db_conn *conn;
        sb_session_record s;
        int rc = sb_db_acquire(app->db, 5000, &conn, &err);
        if (rc == 0) {
            rc = sb_sessions_store_touch(
                conn, id->session_hash, sb_app_now_ms(app) / 1000,
                app->session_idle_ms / 1000 > 0 ? app->session_idle_ms / 1000 : 1, &s, NULL,
                &err);
            sb_db_release(app->db, conn);
        }
        if (rc < 0)
            return unavailable(req, &err);
        if (rc == 1) /* ended between the gate and here */
            return sb_http_respond_error(req, 401, "unauthenticated", "the session has ended");
        session = json_pack("{s:s, s:o, s:o, s:o, s:o, s:o, s:I, s:I}", "id", s.id, "created_at",
                            sb_auth_time_json(s.created_at), "last_seen_at",
                            sb_auth_time_json(s.last_seen_at), "idle_expires_at",
                            sb_auth_time_json(s.idle_expires_at), "absolute_expires_at",
                            sb_auth_time_json(s.absolute_expires_at), "last_mfa_at",
                            sb_auth_time_json(s.last_mfa_at), "idle_timeout_seconds",
                            (json_int_t)(app->session_idle_ms / 1000), "absolute_timeout_seconds",
                            (json_int_t)(app->session_absolute_ms / 1000));
    }
    json_t *body =
        json_pack("{s:s, s:{s:s, s:s}, s:o}", "method", sb_auth_method_name(id->method), "user",
                  "id", id->user_id, "username", id->username, "session", session);
    return sb_http_respond_json(req, 200, body);
}

/* ---- registration ------------------------------------------------------------ */

int sb_api_auth_routes(sb_router *r, sb_app *app, sb_error *err)
{
    const sb_route routes[] = {
        {"POST", "/api/v1/auth/login", SB_AUTH_PUBLIC, NULL, login, app, "authLogin",
         "Sign in with a username and password: session cookie + JWT"},
        {"POST", "/api/v1/auth/logout", SB_AUTH_SESSION, NULL, logout, app, "authLogout",
         "Revoke the current session and clear its cookie"},
        {"GET", "/api/v1/auth/session", SB_AUTH_SESSION, NULL, session_info, app, "authSession",
         "The session behind this request: created, idle and absolute expiry, method"},
        {"GET", "/api/v1/users/me", SB_AUTH_SESSION, NULL, sb_auth_me, app, "getCurrentUser",
         "Who am I: identity, permissions by scope, teams, readable projects"},
        {"GET", "/api/v1/users/me/tokens", SB_AUTH_SESSION, NULL, sb_auth_tokens_list, app,
         "listApiTokens", "My personal API tokens (never the secret)"},
        {"POST", "/api/v1/users/me/tokens", SB_AUTH_SESSION, NULL, sb_auth_tokens_create, app,
         "createApiToken", "Create a personal API token; the token is shown once"},
        {"DELETE", "/api/v1/users/me/tokens/{id}", SB_AUTH_SESSION, NULL, sb_auth_tokens_revoke,
         app, "revokeApiToken", "Revoke one of my personal API tokens"},
    };
    return sb_router_add_all(r, routes, sizeof routes / sizeof routes[0], err);
}
