/* api/step_up.c — see step_up.h. */
#include "api/step_up.h"

#include <jansson.h>
#include <stdio.h>

#include "api/api.h"
#include "domain/session_policy.h"
#include "store/mfa_store.h"

bool sb_step_up_policy_requires(const char *policy_json)
{
    json_t *doc = policy_json ? json_loads(policy_json, 0, NULL) : NULL;
    json_t *flag = json_object_get(doc, "mfa_required");
    bool required = !json_is_boolean(flag) || json_is_true(flag);
    json_decref(doc);
    return required;
}

static int refuse(sb_app *app, sb_server_request *req, const sb_identity *who, const char *action,
                  const char *reason, sb_error *err, int code, const char *fmt)
{
    char resource[64];
    snprintf(resource, sizeof resource, "user:%s", who->user_id);
    json_t *d = json_pack("{s:s, s:s}", "action", action, "reason", reason);
    sb_api_audit_event ev = {"auth.step_up", resource, "denied", NULL, d};
    sb_api_audit_now(app, req, &ev);
    json_decref(d);
    return sb_error_set(err, code, "%s", fmt);
}

int sb_step_up_require(sb_db_conn *conn, sb_app *app, sb_server_request *req,
                       const sb_identity *who, bool mfa_required, const char *action,
                       sb_error *err)
{
    if (!mfa_required || !app->step_up_enforced)
        return 0;
    return sb_step_up_require_fresh(conn, app, req, who, action, err);
}

int sb_step_up_require_fresh(sb_db_conn *conn, sb_app *app, sb_server_request *req,
                             const sb_identity *who, const char *action, sb_error *err)
{
    if (!who->has_session)
        return refuse(app, req, who, action, "api_token", err, SB_STEP_UP_E_SESSION,
                      "this action needs an MFA step-up, which an API token cannot give: sign in "
                      "(session cookie or the login JWT), verify a code at "
                      "POST /api/v1/auth/mfa/verify, then retry");
    int64_t last_mfa_at = 0;
    bool has_factor = false;
    int rc = sb_mfa_store_step_up_state(conn, who->session_hash, who->user_id, &last_mfa_at,
                                        &has_factor, err);
    if (rc < 0)
        return -1;
    if (rc == 0 && !has_factor)
        return refuse(app, req, who, action, "no_factor", err, SB_STEP_UP_E_ENROLL,
                      "this action needs an MFA step-up and you have no confirmed factor: enrol "
                      "an authenticator app on your profile page (POST /api/v1/auth/mfa/totp), "
                      "then retry");
    if (rc == 0 && sb_session_step_up_fresh(last_mfa_at, sb_app_now_ms(app) / 1000,
                                            app->step_up_window_s))
        return 0;
    char header[256];
    snprintf(header, sizeof header,
             "SBridge-MFA realm=\"sbridge\", error=\"step_up_required\", factors=\"totp\", "
             "max_age=\"%lld\", verify_uri=\"/api/v1/auth/mfa/verify\"",
             (long long)app->step_up_window_s);
    sb_http_set_header(req, "WWW-Authenticate", header);
    return refuse(app, req, who, action, last_mfa_at > 0 ? "stale" : "never", err,
                  SB_STEP_UP_E_REQUIRED,
                  "this action needs a recent MFA verification: POST a code from your "
                  "authenticator to /api/v1/auth/mfa/verify, then retry");
}
