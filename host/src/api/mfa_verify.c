/*
 * api/mfa_verify.c — checking a TOTP code (mfa_internal.h) and the two
 * routes that do it:
 *
 *   POST /api/v1/auth/mfa/verify              {code}  step-up: stamps the
 *        session's last_mfa_at; 200 {verified_at, fresh_until}
 *   POST /api/v1/auth/mfa/totp/{id}/confirm   {code}  activates a pending
 *        factor (and counts as a verification of this session)
 *
 * Both need a session (an API token cannot step up: 403
 * step_up_needs_session). Refusals: 412 mfa_enrollment_required (verify
 * with no confirmed factor), 404 (confirm of no pending factor of yours,
 * or one older than 10 minutes), 422 invalid_code / code_replayed, 429
 * rate_limited. Every outcome is audited.
 */
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "api/auth_internal.h"
#include "api/handler_kit.h"
#include "api/mfa_internal.h"
#include "crypto/kms.h"
#include "crypto/secure_mem.h"
#include "crypto/totp.h"
#include "domain/domain_error.h"
#include "domain/rate_limit.h"
#include "store/rate_limit_store.h"
#include "store/sessions_store.h"

void sb_mfa_resource(const sb_identity *who, char *out, size_t cap)
{
    snprintf(out, cap, "user:%s", who->user_id);
}

static void bucket_of(const sb_identity *who, char *out, size_t cap)
{
    snprintf(out, cap, "mfa:user:%s", who->user_id);
}

static int audit(sb_db_conn *conn, const sb_mfa_attempt *a, const char *outcome, json_t *details,
                 sb_error *err)
{
    char resource[64];
    sb_mfa_resource(a->who, resource, sizeof resource);
    sb_api_audit_event ev = {a->action, resource, outcome,
                             strcmp(outcome, "success") == 0 ? NULL : "warning", details};
    int rc = sb_api_audit(conn, a->req, &ev, err);
    json_decref(details);
    return rc < 0 ? -1 : 0;
}

static int refused(sb_mfa_outcome *out, int status, const char *code, const char *message)
{
    out->status = status;
    out->code = code;
    out->message = message;
    return 0;
}

/* The step a factor accepts the code at (0: none). */
static int match_factor(const sb_app *app, const sb_mfa_factor *f, const char *code, int64_t now,
                        int64_t *step, sb_error *err)
{
    *step = 0;
    if (app->kms == NULL)
        return sb_error_set(err, SB_KMS_E_UNAVAILABLE,
                            "no KMS is configured: MFA secrets are stored only KMS-wrapped");
    unsigned char *secret = sb_secure_alloc(64);
    size_t len = 0;
    if (secret == NULL)
        return sb_error_set(err, SB_KMS_E_UNAVAILABLE, "out of secure memory");
    int rc = app->kms->unwrap(app->kms, f->ciphertext, f->ciphertext_len, f->key_id, secret, 64,
                              &len, err);
    if (rc == 0)
        *step = sb_totp_match(secret, len, code, now);
    sb_secure_release(secret);
    return rc == 0 ? 0 : -1;
}

int sb_mfa_check_code(sb_db_conn *conn, const sb_mfa_attempt *a, const sb_mfa_factor *factors,
                      size_t n, sb_mfa_outcome *out, sb_error *err)
{
    memset(out, 0, sizeof *out);
    char bucket[SB_RATE_BUCKET_MAX + 1];
    bucket_of(a->who, bucket, sizeof bucket);
    int64_t window = sb_rate_window_start(a->now, SB_MFA_FAILURE_WINDOW_S), failures = 0;
    if (sb_rate_limit_store_peek(conn, bucket, window, &failures, err) != 0)
        return -1;
    if (failures >= SB_MFA_FAILURE_LIMIT) {
        out->retry_after = window + SB_MFA_FAILURE_WINDOW_S - a->now;
        if (out->retry_after < 1)
            out->retry_after = 1;
        if (audit(conn, a, "denied",
                  json_pack("{s:s, s:I, s:I}", "reason", "rate_limited", "limit",
                            (json_int_t)SB_MFA_FAILURE_LIMIT, "window_seconds",
                            (json_int_t)SB_MFA_FAILURE_WINDOW_S),
                  err) != 0)
            return -1;
        return refused(out, 429, "rate_limited",
                       "too many wrong codes; wait before trying again (Retry-After)");
    }
    const sb_mfa_factor *hit = NULL;
    int64_t step = 0;
    for (size_t i = 0; i < n; i++) {
        int64_t s = 0;
        if (match_factor(a->app, &factors[i], a->code, a->now, &s, err) != 0)
            return -1;
        if (s > 0 && hit == NULL) {
            hit = &factors[i];
            step = s;
        }
    }
    const char *reason = "wrong_code";
    if (hit) {
        int rc = sb_mfa_store_accept_step(conn, hit->id, step, a->now, a->confirm, err);
        if (rc < 0)
            return -1;
        if (rc == 0) {
            snprintf(out->factor_id, sizeof out->factor_id, "%s", hit->id);
            return audit(conn, a, "success",
                         json_pack("{s:s, s:s}", "factor_id", hit->id, "kind", "totp"), err);
        }
        reason = "replayed";
    }
    int64_t hits = 0;
    if (sb_rate_limit_store_hit(conn, bucket, window, &hits, err) != 0)
        return -1;
    json_t *d = json_pack("{s:s, s:I, s:I}", "reason", reason, "failures", (json_int_t)hits,
                          "limit", (json_int_t)SB_MFA_FAILURE_LIMIT);
    if (hit)
        json_object_set_new(d, "factor_id", json_string(hit->id));
    if (audit(conn, a, "failure", d, err) != 0)
        return -1;
    return hit ? refused(out, 422, "code_replayed",
                         "this code was already used; wait for the next code from your "
                         "authenticator app")
               : refused(out, 422, "invalid_code",
                         "the code is not valid now: enter the current 6-digit code from your "
                         "authenticator app (check its clock)");
}

int sb_mfa_need_session(sb_server_request *req, const char *what)
{
    if (sb_api_identity(req)->has_session)
        return 0;
    sb_http_respond_error(req, 403, "step_up_needs_session",
                          "%s; an API token cannot step up: sign in and use the session cookie "
                          "or the login JWT",
                          what);
    return -1;
}

int sb_mfa_respond_refusal(sb_server_request *req, const sb_mfa_outcome *out)
{
    if (out->status == 429) {
        char retry[24];
        snprintf(retry, sizeof retry, "%lld", (long long)out->retry_after);
        sb_http_set_header(req, "Retry-After", retry);
    }
    return sb_http_respond_error(req, out->status, out->code, "%s", out->message);
}

/* ---- the two routes ------------------------------------------------------------ */

typedef struct verify_txn {
    sb_mfa_attempt a;
    const char *factor_id; /* confirm: the pending factor */
    sb_mfa_outcome out;
} verify_txn;

static int verify_fn(sb_db_conn *conn, void *p, sb_error *err)
{
    verify_txn *t = p;
    sb_mfa_factor *factors = NULL, one = {0};
    size_t n = 0;
    int rc;
    if (t->a.confirm) {
        rc = sb_mfa_store_lock(conn, t->a.who->user_id, t->factor_id, true, t->a.now, &one, err);
        if (rc < 0)
            return -1;
        if (rc == 1) {
            memset(&t->out, 0, sizeof t->out);
            return refused(&t->out, 404, "not_found",
                           "no pending factor of yours with this id (a factor must be confirmed "
                           "within 10 minutes of enrolling; start again)");
        }
        factors = &one;
        n = 1;
    } else {
        if (sb_mfa_store_lock_confirmed(conn, t->a.who->user_id, &factors, &n, err) != 0)
            return -1;
        if (n == 0) {
            sb_mfa_factors_free(factors, 0);
            memset(&t->out, 0, sizeof t->out);
            return refused(&t->out, 412, "mfa_enrollment_required",
                           "you have no confirmed MFA factor: enrol one on your profile page "
                           "(POST /api/v1/auth/mfa/totp)");
        }
    }
    rc = sb_mfa_check_code(conn, &t->a, factors, n, &t->out, err);
    if (t->a.confirm)
        sb_mfa_factor_clear(&one);
    else
        sb_mfa_factors_free(factors, n);
    if (rc != 0 || t->out.status != 0)
        return rc;
    rc = sb_sessions_store_stamp_mfa(conn, t->a.who->session_hash, t->a.now, err);
    if (rc == 1) /* the session ended meanwhile: nothing is kept, the code stays unused */
        return sb_error_set(err, SB_DOMAIN_E_NOT_FOUND, "the session has ended; sign in again");
    return rc;
}

static int run(sb_server_request *req, sb_app *app, const char *action, const char *factor_id)
{
    const sb_identity *who = sb_api_identity(req);
    if (sb_mfa_need_session(req, "MFA codes are verified for a session") != 0)
        return 0;
    static const sb_auth_field spec[] = {{"code", SB_AUTH_FIELD_SECRET, 1, SB_MFA_CODE_MAX}};
    json_t *values[1];
    if (sb_auth_body_fields(req, spec, 1, values) != 0)
        return 0;
    char code[SB_MFA_CODE_MAX + 1];
    snprintf(code, sizeof code, "%s", json_string_value(values[0]));
    sb_auth_body_wipe(values[0]);
    verify_txn t = {.a = {app, req, who, code, action, sb_app_now_ms(app) / 1000,
                          factor_id != NULL},
                    .factor_id = factor_id};
    sb_error err = {0};
    int rc = sb_db_transaction(app->db, verify_fn, &t, &err);
    sodium_memzero(code, sizeof code);
    if (rc != 0)
        return sb_api_respond_store_error(req, &err);
    if (t.out.status != 0)
        return sb_mfa_respond_refusal(req, &t.out);
    json_t *body = json_pack("{s:s, s:o, s:o}", "factor_id", t.out.factor_id, "verified_at",
                             sb_auth_time_json(t.a.now), "fresh_until",
                             sb_auth_time_json(t.a.now + app->step_up_window_s));
    return sb_http_respond_json(req, 200, body);
}

int sb_mfa_verify(sb_server_request *req, void *ctx)
{
    return run(req, ctx, "auth.mfa.verify", NULL);
}

int sb_mfa_confirm(sb_server_request *req, void *ctx)
{
    char id[37];
    if (sb_handler_path_id(req, "id", id) != 0)
        return sb_http_respond_error(req, 404, "not_found", "no factor with this id");
    return run(req, ctx, "auth.mfa.confirm", id);
}
