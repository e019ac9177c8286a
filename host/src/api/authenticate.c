/*
 * api/authenticate.c — who is calling: sb_api_authenticate (api.h).
 *
 * Contract: credentials come from two places only, never from a body or a
 * query parameter (I6):
 *   1. the sb_session cookie: "sbs_" + 43 base64url characters; its keyed
 *      hash (app->token_pepper) is looked up and the session's idle expiry
 *      slid in one UPDATE (store/sessions_store.h);
 *   2. Authorization: Bearer <credential>, which is either
 *      - a personal API token ("sbp_…"): hash lookup, not revoked, not
 *        expired, its user active (store/api_tokens_store.h); a scoped
 *        token narrows every grant to its scopes (out->token_scopes); or
 *      - the HS256 JWT login returned: verified strictly (crypto/jwt.h,
 *        app->jwt_secret, issuer "secrets-bridge", exp/iat against the app
 *        clock), then valid only while the session named by its `sid`
 *        claim is live for the user named by `sub` — so logout, idle
 *        expiry, a disabled user or a password reset end the JWT too. Using
 *        the JWT slides that session like the cookie does.
 * Safe requests (GET, HEAD) may be answered from the per-process auth cache
 * (api/auth_cache.h): the identity and grants a lookup read before, used
 * only while the cache's listener is up and — in the default mode — after
 * one tiny statement confirms the auth generation has not moved since
 * (store/auth_generation_store.h), so a revocation or grant change
 * committed before the request counts on this and every other replica.
 * Writes (approve, reject, reveal, fill, grant and role edits…) always
 * read the session and grants from the database.
 * A cookie that does not authenticate does not hide a valid Authorization
 * header (a browser may still hold a stale cookie); without either, or
 * when neither authenticates, the answer is 1 and nothing of the identity
 * is kept. Comparisons are on keyed hashes inside the database's unique
 * indexes (the presented token is never compared byte by byte), and the
 * JWT signature with sodium_memcmp.
 */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api/agent_api.h"
#include "api/api.h"
#include "api/auth_cache.h"
#include "crypto/jwt.h"
#include "crypto/token.h"
#include "domain/session_policy.h"
#include "store/api_tokens_store.h"
#include "store/auth_generation_store.h"
#include "store/sessions_store.h"

#define SB_JWT_ISSUER "secrets-bridge"
#define SESSION_COOKIE "sb_session"

static int64_t idle_seconds(const sb_app *app)
{
    int64_t s = app->session_idle_ms / 1000;
    return s > 0 ? s : 1;
}

/* One credential's use of the auth cache: its key, and the epoch the
 * lookup began in (0: the cache is not used for this request). */
_Static_assert(SB_TOKEN_HASH_BYTES == SB_AUTH_CACHE_KEY_BYTES - 1,
               "a cache key is a kind byte and a credential's keyed hash");
typedef struct cache_use {
    uint64_t epoch;
    unsigned char key[SB_AUTH_CACHE_KEY_BYTES];
} cache_use;

static void cache_begin(sb_app *app, int cacheable, char kind, const unsigned char *hash32,
                        cache_use *cu)
{
    cu->epoch = cacheable ? sb_auth_cache_begin(app->auth_cache) : 0;
    cu->key[0] = (unsigned char)kind;
    memcpy(cu->key + 1, hash32, SB_AUTH_CACHE_KEY_BYTES - 1);
}

/* 0 when the cache answered (out and *out->grants filled), 1 when the
 * database must be read, -1 on error. */
static int from_cache(sb_app *app, sb_db_conn *conn, const cache_use *cu, sb_identity *out,
                      sb_error *err)
{
    sb_grant_set g;
    int64_t generation = 0, current = 0;
    if (cu->epoch == 0 ||
        !sb_auth_cache_get(app->auth_cache, cu->key, sb_app_now_ms(app) / 1000, out, &g, &generation))
        return 1;
    if (app->auth_cache_mode == SB_AUTH_CACHE_VERIFIED) {
        if (sb_auth_generation_read(conn, &current, err) != 0) {
            sb_grant_set_free(&g);
            return -1;
        }
        if (current != generation) { /* something changed since: read it afresh */
            sb_auth_cache_drop(app->auth_cache, cu->key);
            sb_grant_set_free(&g);
            out->token_scoped = 0;
            out->token_scopes = 0;
            return 1;
        }
    }
    *out->grants = g;
    return 0;
}

static void remember(sb_app *app, const cache_use *cu, const sb_identity *out,
                     int64_t valid_until_s, int64_t last_write_s)
{
    if (cu->epoch == 0)
        return;
    sb_auth_cache_limits limits = {valid_until_s, last_write_s + SB_SESSION_SLIDE_EVERY_S,
                                   out->grants->auth_generation};
    sb_auth_cache_put(app->auth_cache, cu->epoch, cu->key, out, out->grants, &limits);
}

static void remember_session(sb_app *app, const cache_use *cu, const sb_identity *out,
                             const sb_session_record *s)
{
    remember(app, cu, out,
             s->idle_expires_at < s->absolute_expires_at ? s->idle_expires_at
                                                         : s->absolute_expires_at,
             s->last_seen_at);
}

static void fill_from_session(sb_identity *out, const sb_session_record *s, sb_identity_method m)
{
    snprintf(out->user_id, sizeof out->user_id, "%s", s->user_id);
    snprintf(out->username, sizeof out->username, "%s", s->username);
    out->method = m;
    out->has_session = 1;
    memcpy(out->session_hash, s->token_hash, sizeof out->session_hash);
    out->last_mfa_ms = s->last_mfa_at * 1000;
}

/* 0 authenticated, 1 not, -1 error. */
static int by_cookie(sb_app *app, sb_db_conn *conn, int cacheable, const char *cookie,
                     sb_identity *out, sb_error *err)
{
    size_t len = strlen(cookie);
    unsigned char hash[SB_TOKEN_HASH_BYTES];
    if (sb_token_check_format(cookie, len, SB_TOKEN_PREFIX_SESSION, NULL) != 0 ||
        sb_token_hash(cookie, len, app->token_pepper, SB_KEY_BYTES, hash, NULL) != 0)
        return 1;
    cache_use cu;
    cache_begin(app, cacheable, 'S', hash, &cu);
    int rc = from_cache(app, conn, &cu, out, err);
    if (rc <= 0)
        return rc;
    sb_session_record s;
    rc = sb_sessions_store_touch(conn, hash, sb_app_now_ms(app) / 1000, idle_seconds(app), &s,
                                 out->grants, err);
    if (rc == 0) {
        fill_from_session(out, &s, SB_IDENTITY_SESSION);
        remember_session(app, &cu, out, &s);
    }
    return rc;
}

static int by_api_token(sb_app *app, sb_db_conn *conn, int cacheable, const char *token,
                        size_t len, sb_identity *out, sb_error *err)
{
    unsigned char hash[SB_TOKEN_HASH_BYTES];
    if (sb_token_check_format(token, len, SB_TOKEN_PREFIX_PERSONAL, NULL) != 0 ||
        sb_token_hash(token, len, app->token_pepper, SB_KEY_BYTES, hash, NULL) != 0)
        return 1;
    cache_use cu;
    cache_begin(app, cacheable, 'T', hash, &cu);
    int rc = from_cache(app, conn, &cu, out, err);
    if (rc <= 0)
        return rc;
    sb_api_token_record t;
    int64_t now = sb_app_now_ms(app) / 1000;
    rc = sb_api_tokens_store_authenticate(conn, hash, now, &t, out->grants, err);
    if (rc != 0)
        return rc;
    snprintf(out->user_id, sizeof out->user_id, "%s", t.user_id);
    snprintf(out->username, sizeof out->username, "%s", t.username);
    out->method = SB_IDENTITY_API_TOKEN;
    out->has_session = 0;
    if (t.scopes[0]) { /* narrowed to these; an unknown key grants nothing */
        char *save = NULL;
        out->token_scoped = 1;
        out->token_scopes = 0;
        for (char *k = strtok_r(t.scopes, ",", &save); k; k = strtok_r(NULL, ",", &save)) {
            sb_permission p;
            if (sb_permission_lookup(k, &p) == 0)
                out->token_scopes |= SB_PERMISSION_BIT(p);
        }
    }
    remember(app, &cu, out, t.expires_at, t.last_used_at ? t.last_used_at : now);
    return 0;
}

static int by_jwt(sb_app *app, sb_db_conn *conn, int cacheable, const char *token, size_t len,
                  sb_identity *out, sb_error *err)
{
    sb_jwt_verified *v = malloc(sizeof *v);
    if (v == NULL)
        return sb_error_set(err, SB_DB_E_NO_MEMORY, "out of memory verifying a token");
    int64_t now = sb_app_now_ms(app) / 1000;
    int rc = 1;
    if (sb_jwt_verify(app->jwt_secret, SB_KEY_BYTES, token, len, SB_JWT_ISSUER, now, v, NULL) ==
            0 &&
        v->claims.sid != NULL && v->claims.sub != NULL) {
        /* the key: a hash of the verified session and user */
        unsigned char named[SB_AUTH_CACHE_KEY_BYTES - 1];
        crypto_generichash_state st;
        crypto_generichash_init(&st, NULL, 0, sizeof named);
        crypto_generichash_update(&st, (const unsigned char *)v->claims.sid,
                                  strlen(v->claims.sid) + 1);
        crypto_generichash_update(&st, (const unsigned char *)v->claims.sub,
                                  strlen(v->claims.sub) + 1);
        crypto_generichash_final(&st, named, sizeof named);
        cache_use cu;
        cache_begin(app, cacheable, 'J', named, &cu);
        rc = from_cache(app, conn, &cu, out, err);
        if (rc > 0) {
            sb_session_record s;
            rc = sb_sessions_store_touch_by_id(conn, v->claims.sid, v->claims.sub, now,
                                               idle_seconds(app), &s, out->grants, err);
            if (rc == 0) {
                fill_from_session(out, &s, SB_IDENTITY_JWT);
                remember_session(app, &cu, out, &s);
            }
        }
    }
    sodium_memzero(v, sizeof *v);
    free(v);
    return rc;
}

/* The credential of "Authorization: Bearer <credential>", or NULL. */
static const char *bearer_credential(const sb_server_request *req, size_t *len)
{
    const char *h = sb_http_header(req, "Authorization");
    if (h == NULL || strncasecmp(h, "Bearer ", 7) != 0)
        return NULL;
    h += 7;
    while (*h == ' ')
        h++;
    size_t n = strlen(h);
    while (n > 0 && h[n - 1] == ' ')
        n--;
    if (n == 0 || n > SB_JWT_MAX_LEN || memchr(h, ' ', n) != NULL)
        return NULL;
    *len = n;
    return h;
}

/* Reads may use the auth cache, once its listener runs; writes never do. */
static int cacheable_request(sb_app *app, const sb_server_request *req)
{
    const char *m = sb_http_method(req);
    if (app->auth_cache_mode == SB_AUTH_CACHE_OFF || m == NULL ||
        (strcmp(m, "GET") != 0 && strcmp(m, "HEAD") != 0))
        return 0;
    sb_error ignored = {0};
    return sb_job_hub_ensure(app, &ignored) == 0; /* no listener: fail closed */
}

int sb_api_authenticate(sb_app *app, sb_server_request *req, sb_identity *out, sb_error *err)
{
    const char *cookie = sb_http_cookie(req, SESSION_COOKIE);
    size_t len = 0;
    const char *bearer = bearer_credential(req, &len);
    if ((cookie == NULL || *cookie == '\0') && bearer == NULL)
        return 1;
    sb_db_conn *conn;
    /* the session (or token) lookup also reads the grants the gate needs:
     * one round trip for both */
    out->grants = calloc(1, sizeof *out->grants);
    if (out->grants == NULL)
        return sb_error_set(err, SB_DB_E_NO_MEMORY, "out of memory reading credentials");
    int cacheable = cacheable_request(app, req);
    if (sb_db_acquire(app->db, 5000, &conn, err) != 0) {
        free(out->grants);
        out->grants = NULL;
        return -1;
    }
    int rc = 1;
    if (cookie && *cookie)
        rc = by_cookie(app, conn, cacheable, cookie, out, err);
    if (rc == 1 && bearer) {
        /* a copy ending at the credential (the header may carry trailing blanks) */
        char *cred = strndup(bearer, len);
        if (cred == NULL)
            rc = sb_error_set(err, SB_DB_E_NO_MEMORY, "out of memory reading credentials");
        else if (strncmp(cred, SB_TOKEN_PREFIX_PERSONAL, strlen(SB_TOKEN_PREFIX_PERSONAL)) == 0)
            rc = by_api_token(app, conn, cacheable, cred, len, out, err);
        else
            rc = by_jwt(app, conn, cacheable, cred, len, out, err);
        if (cred) {
            sodium_memzero(cred, len);
            free(cred);
        }
    }
    sb_db_release(app->db, conn);
    if (rc != 0) {
        sb_grant_set_free(out->grants); /* a failed lookup's partial set */
        free(out->grants);
        out->grants = NULL;
    }
    if (rc != 0) {
        /* never a partial identity */
        out->user_id[0] = out->username[0] = '\0';
        out->has_session = 0;
        out->token_scoped = 0;
        out->token_scopes = 0;
        memset(out->session_hash, 0, sizeof out->session_hash);
    }
    return rc;
}
