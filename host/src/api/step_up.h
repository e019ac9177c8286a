/*
 * api/step_up.h — the MFA step-up gate of Tier-2 actions (SPEC §8):
 * approve, reject (and the cross-team verify vote), reveal, fill and
 * direct reveal, on a request whose policy decision says mfa_required.
 *
 * Contract: sb_step_up_require runs inside the action's transaction and
 * decides on rows read there (store/mfa_store.h: the caller's session row
 * and whether the user has a confirmed factor), never on the identity the
 * gate attached or the auth cache, so a verification or a factor removal
 * committed before the action counts. In order:
 *   - not required (mfa_required false, or app->step_up_enforced off): 0;
 *   - an API token (no session): SB_STEP_UP_E_SESSION (403
 *     step_up_needs_session: sign in and use a session);
 *   - no confirmed factor: SB_STEP_UP_E_ENROLL (412
 *     mfa_enrollment_required: enrol one on the profile page);
 *   - last_mfa_at older than app->step_up_window_s (or never):
 *     SB_STEP_UP_E_REQUIRED (401 step_up_required) and the response
 *     carries
 *       WWW-Authenticate: SBridge-MFA realm="sbridge", error="step_up_required",
 *                         factors="totp", max_age="<window s>",
 *                         verify_uri="/api/v1/auth/mfa/verify"
 * Each refusal is audited (auth.step_up, outcome denied, the action and the
 * reason) in its own transaction, so the action's rollback keeps it.
 */
#ifndef SB_API_STEP_UP_H
#define SB_API_STEP_UP_H

#include <stdbool.h>

#include "api/app.h"
#include "store/db.h"

enum {
    SB_STEP_UP_E_REQUIRED = 1750,
    SB_STEP_UP_E_ENROLL = 1751,
    SB_STEP_UP_E_SESSION = 1752,
};

/* 0 when the action may go on; -1 with err set (codes above, or a store
 * error). action names it in the audit event ("request.approve"). */
int sb_step_up_require(sb_db_conn *conn, sb_app *app, sb_server_request *req,
                       const sb_identity *who, bool mfa_required, const char *action,
                       sb_error *err);
/* The freshness check alone, whatever the policy and app->step_up_enforced
 * say (removing a factor): session, factor, window, refusals and audit as
 * above. */
int sb_step_up_require_fresh(sb_db_conn *conn, sb_app *app, sb_server_request *req,
                             const sb_identity *who, const char *action, sb_error *err);
/* mfa_required of a request's stored policy decision (JSON text); a
 * decision that cannot be read counts as required (fail closed). */
bool sb_step_up_policy_requires(const char *policy_json);

#endif
