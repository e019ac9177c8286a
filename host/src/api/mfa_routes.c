/*
 * api/mfa_routes.c — TOTP factors (SPEC §8; WebAuthn is not built):
 *
 *   POST   /api/v1/auth/mfa/totp               {label?}  start enrolling:
 *          201 {id, kind, label, secret, otpauth_uri, confirm_before} —
 *          the base32 secret and the otpauth:// URI are shown this once
 *   POST   /api/v1/auth/mfa/totp/{id}/confirm  {code}    (mfa_verify.c)
 *   POST   /api/v1/auth/mfa/verify             {code}    (mfa_verify.c)
 *   GET    /api/v1/auth/mfa/factors            own factors, never a secret
 *   DELETE /api/v1/auth/mfa/factors/{id}       removes one; a confirmed
 *          factor only after a fresh step-up (api/step_up.h)
 *
 * Contract: the secret is 160 bits from libsodium's randombytes, made in
 * secure memory, wrapped by the app's KMS (crypto/kms.h, the wrap the
 * per-request read keys use) before it is stored, and zeroed; the answer
 * that shows it is assembled in secure memory (the HTTP layer zeroes its
 * copy). No KMS configured: 409 kms_missing. Enrolling needs a session.
 * Every enrollment, confirmation, verification, failure and removal is
 * audited (auth.mfa.*) with the factor id, never the secret or a code.
 */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/auth_internal.h"
#include "api/handler_kit.h"
#include "api/mfa_internal.h"
#include "api/step_up.h"
#include "crypto/kms.h"
#include "crypto/secure_mem.h"
#include "crypto/totp.h"
#include "store/rows.h"

#define ISSUER "Secrets Bridge"
#define DEFAULT_LABEL "Authenticator app"
#define LABEL_MAX 100

/* ---- enroll -------------------------------------------------------------------- */

typedef struct enroll_txn {
    sb_server_request *req;
    const sb_identity *who;
    sb_mfa_new n;
    char id[37];
    int full; /* the user holds the most factors allowed */
} enroll_txn;

static int enroll_fn(sb_db_conn *conn, void *p, sb_error *err)
{
    enroll_txn *t = p;
    int rc = sb_mfa_store_create(conn, &t->n, t->id, err);
    if (rc != 0) {
        t->full = rc == 1;
        return rc < 0 ? -1 : 0;
    }
    char resource[64];
    sb_mfa_resource(t->who, resource, sizeof resource);
    json_t *d = json_pack("{s:s, s:s, s:s}", "factor_id", t->id, "kind", "totp", "label",
                          t->n.label);
    sb_api_audit_event ev = {"auth.mfa.enroll", resource, "success", NULL, d};
    rc = sb_api_audit(conn, t->req, &ev, err);
    json_decref(d);
    return rc < 0 ? -1 : 0;
}

/* Appends s percent-encoded (RFC 3986 unreserved characters kept). */
static int append_pct(sb_secure_buf *b, const char *s)
{
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        char enc[4];
        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
            c == '-' || c == '.' || c == '_' || c == '~') {
            if (sb_secure_append(b, s, 1) != 0)
                return -1;
            continue;
        }
        snprintf(enc, sizeof enc, "%%%02X", c);
        if (sb_secure_append(b, enc, 3) != 0)
            return -1;
    }
    return 0;
}

/* otpauth://totp/<issuer>:<user>?secret=…&issuer=…&algorithm=SHA1&digits=6&period=30 */
static sb_secure_buf *otpauth_uri(const char *username, const char *b32)
{
    sb_secure_buf *u = sb_secure_new(256);
    static const char tail[] = "&algorithm=SHA1&digits=6&period=30";
    int ok = u != NULL && sb_secure_append(u, "otpauth://totp/", 15) == 0 &&
             append_pct(u, ISSUER) == 0 && sb_secure_append(u, ":", 1) == 0 &&
             append_pct(u, username) == 0 && sb_secure_append(u, "?secret=", 8) == 0 &&
             sb_secure_append(u, b32, strlen(b32)) == 0 &&
             sb_secure_append(u, "&issuer=", 8) == 0 && append_pct(u, ISSUER) == 0 &&
             sb_secure_append(u, tail, sizeof tail - 1) == 0;
    if (!ok) {
        sb_secure_free(u);
        return NULL;
    }
    return u;
}

static int respond_enrolled(sb_server_request *req, const enroll_txn *t, const char *b32,
                            int64_t confirm_before)
{
    sb_secure_buf *uri = otpauth_uri(t->who->username, b32);
    sb_secure_buf *b = sb_secure_new(512);
    char head[128], until[32];
    sb_auth_time_text(confirm_before, until, sizeof until);
    snprintf(head, sizeof head, "{\"id\":\"%s\",\"kind\":\"totp\",\"label\":", t->id);
    size_t uri_len = 0;
    const unsigned char *uri_data = uri ? sb_secure_data(uri, &uri_len) : NULL;
    int ok = uri && b && sb_secure_append(b, head, strlen(head)) == 0 &&
             sb_secure_append_json_string(b, t->n.label, strlen(t->n.label)) == 0 &&
             sb_secure_append(b, ",\"secret\":", 10) == 0 &&
             sb_secure_append_json_string(b, b32, strlen(b32)) == 0 &&
             sb_secure_append(b, ",\"otpauth_uri\":", 15) == 0 &&
             sb_secure_append_json_string(b, (const char *)uri_data, uri_len) == 0 &&
             sb_secure_append(b, ",\"confirm_before\":\"", 19) == 0 &&
             sb_secure_append(b, until, strlen(until)) == 0 && sb_secure_append(b, "\"}", 2) == 0;
    int rc = sb_api_respond_secure_json(req, 201, b, ok, "the enrollment");
    sb_secure_free(uri);
    sb_secure_free(b);
    return rc;
}

static int enroll(sb_server_request *req, void *ctx)
{
    sb_app *app = ctx;
    const sb_identity *who = sb_api_identity(req);
    if (sb_mfa_need_session(req, "MFA factors are enrolled from a signed-in session") != 0)
        return 0;
    static const sb_auth_field spec[] = {{"label", SB_AUTH_FIELD_STRING, 0, LABEL_MAX}};
    json_t *values[1];
    if (sb_auth_body_fields(req, spec, 1, values) != 0)
        return 0;
    const char *label = values[0] ? json_string_value(values[0]) : DEFAULT_LABEL;
    if (*label == '\0')
        return sb_http_respond_error(req, 422, "invalid_value",
                                     "label must not be empty (omit it for \"" DEFAULT_LABEL "\")");
    if (app->kms == NULL)
        return sb_http_respond_error(req, 409, "kms_missing",
                                     "no KMS is configured (kms: in the server configuration): "
                                     "MFA secrets are stored only KMS-wrapped");
    unsigned char *secret = sb_secure_alloc(SB_TOTP_SECRET_BYTES);
    char *b32 = sb_secure_alloc(SB_TOTP_BASE32_MAX);
    unsigned char *ct = NULL;
    size_t ct_len = 0;
    char *key_id = NULL;
    sb_error err = {0};
    int rc = secret && b32 ? 0 : sb_error_set(&err, SB_KMS_E_UNAVAILABLE, "out of secure memory");
    if (rc == 0) {
        randombytes_buf(secret, SB_TOTP_SECRET_BYTES);
        sb_totp_base32(secret, SB_TOTP_SECRET_BYTES, b32, SB_TOTP_BASE32_MAX);
        rc = app->kms->wrap(app->kms, secret, SB_TOTP_SECRET_BYTES, &ct, &ct_len, &key_id, &err);
    }
    sb_secure_release(secret); /* only the wrapped secret and its base32 text remain */
    int64_t now = sb_app_now_ms(app) / 1000;
    enroll_txn t = {.req = req,
                    .who = who,
                    .n = {who->user_id, label, ct, ct_len, key_id, now}};
    if (rc == 0)
        rc = sb_db_transaction(app->db, enroll_fn, &t, &err);
    free(ct);
    free(key_id);
    if (rc != 0) {
        sb_secure_release(b32);
        return sb_api_respond_store_error(req, &err);
    }
    if (t.full) {
        sb_secure_release(b32);
        return sb_http_respond_error(req, 409, "too_many_factors",
                                     "you hold %d factors already; remove one first",
                                     SB_MFA_MAX_FACTORS);
    }
    rc = respond_enrolled(req, &t, b32, now + SB_MFA_PENDING_TTL_S);
    sb_secure_release(b32);
    return rc;
}

/* ---- list ---------------------------------------------------------------------- */

static int list(sb_server_request *req, void *ctx)
{
    sb_app *app = ctx;
    const sb_identity *who = sb_api_identity(req);
    sb_error err = {0};
    sb_db_conn *conn;
    sb_row_set rows = {0};
    int rc = sb_db_acquire(app->db, 5000, &conn, &err);
    if (rc == 0) {
        rc = sb_mfa_store_list(conn, who->user_id, &rows, &err);
        sb_db_release(app->db, conn);
    }
    if (rc != 0)
        return sb_api_respond_store_error(req, &err);
    json_t *items = json_array();
    for (size_t i = 0; i < rows.n; i++) {
        bool confirmed = !sb_rows_is_null(&rows, i, 4);
        json_array_append_new(
            items, json_pack("{s:s, s:s, s:s, s:s, s:s, s:s?, s:s?}", "id",
                             sb_rows_text(&rows, i, 0), "kind", sb_rows_text(&rows, i, 1), "label",
                             sb_rows_text(&rows, i, 2), "status",
                             confirmed ? "active" : "pending", "created_at",
                             sb_rows_text(&rows, i, 3), "confirmed_at",
                             sb_rows_text_or_null(&rows, i, 4), "last_used_at",
                             sb_rows_text_or_null(&rows, i, 5)));
    }
    sb_row_set_free(&rows);
    return sb_http_respond_json(req, 200, json_pack("{s:o}", "items", items));
}

/* ---- remove -------------------------------------------------------------------- */

typedef struct remove_txn {
    sb_app *app;
    sb_server_request *req;
    const sb_identity *who;
    const char *id;
    int missing;
} remove_txn;

static int remove_fn(sb_db_conn *conn, void *p, sb_error *err)
{
    remove_txn *t = p;
    sb_mfa_factor f;
    int rc = sb_mfa_store_lock(conn, t->who->user_id, t->id, false, 0, &f, err);
    if (rc != 0) {
        t->missing = rc == 1;
        return rc < 0 ? -1 : 0;
    }
    bool confirmed = f.confirmed;
    sb_mfa_factor_clear(&f);
    if (confirmed && sb_step_up_require_fresh(conn, t->app, t->req, t->who, "auth.mfa.remove",
                                              err) != 0)
        return -1;
    if (sb_mfa_store_delete(conn, t->who->user_id, t->id, err) < 0)
        return -1;
    char resource[64];
    sb_mfa_resource(t->who, resource, sizeof resource);
    json_t *d = json_pack("{s:s, s:s, s:b}", "factor_id", t->id, "kind", "totp", "confirmed",
                          confirmed);
    sb_api_audit_event ev = {"auth.mfa.remove", resource, "success", NULL, d};
    rc = sb_api_audit(conn, t->req, &ev, err);
    json_decref(d);
    return rc < 0 ? -1 : 0;
}

static int remove_factor(sb_server_request *req, void *ctx)
{
    char id[37];
    if (sb_handler_path_id(req, "id", id) != 0)
        return sb_http_respond_error(req, 404, "not_found", "no factor of yours with this id");
    remove_txn t = {ctx, req, sb_api_identity(req), id, 0};
    sb_error err = {0};
    if (sb_db_transaction(((sb_app *)ctx)->db, remove_fn, &t, &err) != 0)
        return sb_api_respond_store_error(req, &err);
    if (t.missing)
        return sb_http_respond_error(req, 404, "not_found", "no factor of yours with this id");
    return sb_http_respond_empty(req, 204);
}

/* ---- registration -------------------------------------------------------------- */

int sb_api_mfa_routes(sb_router *r, sb_app *app, sb_error *err)
{
    const sb_route routes[] = {
        {"POST", "/api/v1/auth/mfa/totp", SB_AUTH_SESSION, NULL, enroll, app, "enrollTotp",
         "Start enrolling a TOTP factor: the secret and otpauth:// URI, shown once"},
        {"POST", "/api/v1/auth/mfa/totp/{id}/confirm", SB_AUTH_SESSION, NULL, sb_mfa_confirm, app,
         "confirmTotp", "Activate a pending TOTP factor with a current code"},
        {"POST", "/api/v1/auth/mfa/verify", SB_AUTH_SESSION, NULL, sb_mfa_verify, app,
         "verifyMfa", "Step up: verify a TOTP code for this session (Tier-2 actions need it)"},
        {"GET", "/api/v1/auth/mfa/factors", SB_AUTH_SESSION, NULL, list, app, "listMfaFactors",
         "My MFA factors (never a secret)"},
        {"DELETE", "/api/v1/auth/mfa/factors/{id}", SB_AUTH_SESSION, NULL, remove_factor, app,
         "removeMfaFactor", "Remove one of my MFA factors (a confirmed one needs a fresh step-up)"},
    };
    return sb_router_add_all(r, routes, sizeof routes / sizeof routes[0], err);
}
