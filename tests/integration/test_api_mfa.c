/*
 * test_api_mfa.c — TOTP MFA and step-up (SPEC §8) through the real control
 * plane (PostgreSQL + HTTP on loopback): enrollment shown once and stored
 * only KMS-wrapped, confirmation, verification, replay refused, the
 * per-user failure limit, and the step-up of every Tier-2 action (approve,
 * reject, reveal, fill, direct reveal) of a request whose policy says
 * mfa_required: 412 without a factor, 401 with WWW-Authenticate when the
 * verification is older than the window, 403 for an API token, success
 * after a verification. Every outcome is audited.
 *
 * The harness's settings are built in code, where step-up is off unless
 * set (api/app.c); the suite turns it on, as every server has it.
 */
#include "db_dump_util.h"
#include "mfa_test_util.h"
#include "request_test_util.h"
#include "server/control_plane.h"

static void mfa_setup(void)
{
    tenancy_setup();
    sb_settings *s = sb_api_harness_settings(h);
    s->mfa.require_step_up = 1;
    s->mfa.step_up_window_ms = 15 * 60 * 1000;
    cr_assert_eq(sb_api_harness_restart_http(h), 0);
}

TestSuite(mfa, .init = mfa_setup, .fini = tenancy_teardown, .timeout = 240);

static long verify(const char *cookie, test_totp *t, sb_api_response *r)
{
    char code[8];
    test_totp_next(t, code);
    return test_totp_post(h, cookie, "/api/v1/auth/mfa/verify", code, r);
}

/* Moves every session of user_id's last verification back by minutes. */
static void age_step_up(const char *user_id, int minutes)
{
    char q[256];
    snprintf(q, sizeof q,
             "UPDATE sessions SET last_mfa_at = last_mfa_at - interval '%d minutes' "
             "WHERE user_id = '%s' AND last_mfa_at IS NOT NULL",
             minutes, user_id);
    cr_assert_geq(sb_api_harness_sql(h, q, NULL, 0), 0);
}

static long long audits(const char *action, const char *outcome, const char *user_id)
{
    return sql_int("SELECT count(*) FROM audit_events WHERE action = '%s' AND outcome = '%s' "
                   "AND resource = 'user:%s'",
                   action, outcome, user_id);
}

/* A 401 step_up_required with the documented challenge. */
static void expect_step_up(long st, sb_api_response *r)
{
    char www[300];
    cr_assert_eq(sb_api_response_header(r, "WWW-Authenticate", www, sizeof www), 0, "%s",
                 r->headers);
    cr_assert(strstr(www, "SBridge-MFA realm=\"sbridge\"") && strstr(www, "error=\"step_up_required\"") &&
                  strstr(www, "max_age=\"900\"") &&
                  strstr(www, "verify_uri=\"/api/v1/auth/mfa/verify\""),
              "%s", www);
    expect_error(st, r, 401, "step_up_required");
}

static void api_token(const char *cookie, char *out, size_t cap)
{
    sb_api_response r;
    cr_assert_eq(callf(cookie, "POST", "/api/v1/users/me/tokens", &r, "{\"name\":\"ci\"}"), 201,
                 "%s", r.body);
    snprintf(out, cap, "%s", json_string_value(json_object_get(r.json, "token")));
    sb_api_response_free(&r);
}

Test(mfa, enrollment_shows_the_secret_once_and_stores_it_only_wrapped)
{
    char uid[40], cookie[256], token[256];
    make_user("alice", NULL, NULL, NULL, uid, cookie);
    sb_api_response r;
    /* an API token enrols nothing */
    api_token(cookie, token, sizeof token);
    cr_assert_eq(sb_api_call(h, "POST", "/api/v1/auth/mfa/totp", "{}", NULL, token, &r), 403);
    cr_assert_str_eq(error_code(&r), "step_up_needs_session");
    sb_api_response_free(&r);
    /* a strict body */
    expect_error(callf(cookie, "POST", "/api/v1/auth/mfa/totp", &r, "{\"lable\":\"x\"}"), &r, 400,
                 "unknown_field");
    test_totp t;
    test_totp_enroll(h, cookie, "phone", &t);
    /* the same label twice (any case) is a conflict */
    expect_error(callf(cookie, "POST", "/api/v1/auth/mfa/totp", &r, "{\"label\":\"PHONE\"}"), &r,
                 409, "conflict");
    /* listed as pending, never with its secret */
    cr_assert_eq(callf(cookie, "GET", "/api/v1/auth/mfa/factors", &r, NULL), 200);
    json_t *items = json_object_get(r.json, "items");
    cr_assert_eq(json_array_size(items), 1, "%s", r.body);
    cr_assert_str_eq(json_string_value(json_object_get(json_array_get(items, 0), "status")),
                     "pending");
    cr_assert_null(strstr(r.body, t.base32), "the list shows no secret");
    cr_assert_null(strstr(r.body, "secret"), "%s", r.body);
    sb_api_response_free(&r);
    /* a wrong code does not confirm; the right one does */
    char path[128], code[8];
    snprintf(path, sizeof path, "/api/v1/auth/mfa/totp/%s/confirm", t.factor_id);
    test_totp_wrong(&t, code);
    expect_error(test_totp_post(h, cookie, path, code, &r), &r, 422, "invalid_code");
    test_totp_next(&t, code);
    cr_assert_eq(test_totp_post(h, cookie, path, code, &r), 200, "%s", r.body);
    sb_api_response_free(&r);
    /* confirming twice: no pending factor any more */
    test_totp_next(&t, code);
    expect_error(test_totp_post(h, cookie, path, code, &r), &r, 404, "not_found");
    cr_assert_eq(callf(cookie, "GET", "/api/v1/auth/mfa/factors", &r, NULL), 200);
    cr_assert_str_eq(json_string_value(json_object_get(
                         json_array_get(json_object_get(r.json, "items"), 0), "status")),
                     "active");
    sb_api_response_free(&r);
    /* the database holds the secret only wrapped by the KMS, with the key id */
    cr_assert_eq(sql_int("SELECT count(*) FROM mfa_factors WHERE id = '%s' AND secret_key_id "
                         "LIKE 'local:%%' AND confirmed_at IS NOT NULL",
                         t.factor_id),
                 1);
    char hex[2 * SB_TOTP_SECRET_BYTES + 1];
    sodium_bin2hex(hex, sizeof hex, t.secret, sizeof t.secret);
    char *dump = pg_dump_text(sb_api_harness_conninfo(h));
    cr_assert(strstr(dump, "mfa_factors") != NULL, "the dump has the table");
    cr_assert_null(strstr(dump, t.base32), "the base32 secret is in the database");
    cr_assert_null(strstr(dump, hex), "the raw secret (hex) is in the database");
    free(dump);
    cr_assert_eq(sql_int("SELECT count(*) FROM mfa_factors WHERE position(decode('%s', 'hex') IN "
                         "secret_ciphertext) > 0",
                         hex),
                 0, "the raw secret bytes are inside the stored ciphertext");
    /* audited: enrollment, a failed and a good confirmation; never the secret */
    cr_assert_eq(audits("auth.mfa.enroll", "success", uid), 1);
    cr_assert_eq(audits("auth.mfa.confirm", "failure", uid), 1);
    cr_assert_eq(audits("auth.mfa.confirm", "success", uid), 1);
    cr_assert_eq(sql_int("SELECT count(*) FROM audit_events WHERE details::text LIKE '%%%s%%'",
                         t.base32),
                 0);
}

Test(mfa, verification_refuses_replays_and_is_rate_limited)
{
    char uid[40], cookie[256];
    make_user("bob", NULL, NULL, NULL, uid, cookie);
    sb_api_response r;
    expect_error(callf(cookie, "POST", "/api/v1/auth/mfa/verify", &r, "{\"code\":\"123456\"}"), &r,
                 412, "mfa_enrollment_required");
    test_totp t;
    test_totp_active(h, cookie, &t);
    /* the confirmation's code cannot be used again */
    char code[8];
    cr_assert_eq(sb_totp_code(t.secret, sizeof t.secret, t.last_step, code), 0);
    expect_error(test_totp_post(h, cookie, "/api/v1/auth/mfa/verify", code, &r), &r, 422,
                 "code_replayed");
    /* a fresh code verifies and stamps the session */
    age_step_up(uid, 60);
    cr_assert_eq(verify(cookie, &t, &r), 200, "%s", r.body);
    cr_assert(json_string_value(json_object_get(r.json, "fresh_until")) != NULL, "%s", r.body);
    sb_api_response_free(&r);
    cr_assert_eq(sql_int("SELECT count(*) FROM sessions WHERE user_id = '%s' AND last_mfa_at > "
                         "now() - interval '1 minute'",
                         uid),
                 1);
    /* ... and is spent: the same code again is a replay */
    cr_assert_eq(sb_totp_code(t.secret, sizeof t.secret, t.last_step, code), 0);
    expect_error(test_totp_post(h, cookie, "/api/v1/auth/mfa/verify", code, &r), &r, 422,
                 "code_replayed");
    cr_assert_eq(sql_int("SELECT last_used_step FROM mfa_factors WHERE id = '%s'", t.factor_id),
                 t.last_step);
    /* two failures so far; three more wrong codes make five */
    for (int i = 0; i < 3; i++) {
        test_totp_wrong(&t, code);
        expect_error(test_totp_post(h, cookie, "/api/v1/auth/mfa/verify", code, &r), &r, 422,
                     "invalid_code");
    }
    /* the sixth attempt is refused before any code is looked at, a good one too */
    int64_t spent = t.last_step, newest = sb_totp_step((int64_t)time(NULL)) + 1;
    cr_assert_eq(sb_totp_code(t.secret, sizeof t.secret, newest, code), 0);
    long st = test_totp_post(h, cookie, "/api/v1/auth/mfa/verify", code, &r);
    char retry[32];
    cr_assert_eq(sb_api_response_header(&r, "Retry-After", retry, sizeof retry), 0, "%s",
                 r.headers);
    cr_assert(atoi(retry) >= 1 && atoi(retry) <= 300, "Retry-After %s", retry);
    expect_error(st, &r, 429, "rate_limited");
    cr_assert_eq(sql_int("SELECT last_used_step FROM mfa_factors WHERE id = '%s'", t.factor_id),
                 spent, "the refused code was not consumed");
    /* another user is not limited by bob's failures */
    char uid2[40], cookie2[256];
    make_user("carol", NULL, NULL, NULL, uid2, cookie2);
    test_totp t2;
    test_totp_active(h, cookie2, &t2);
    cr_assert_eq(verify(cookie2, &t2, &r), 200, "%s", r.body);
    sb_api_response_free(&r);
    /* audited: failures with their reason, the limit, successes */
    cr_assert_eq(audits("auth.mfa.verify", "failure", uid), 5);
    cr_assert_eq(sql_int("SELECT count(*) FROM audit_events WHERE action = 'auth.mfa.verify' AND "
                         "resource = 'user:%s' AND details->>'reason' = 'replayed'",
                         uid),
                 2);
    cr_assert_eq(audits("auth.mfa.verify", "denied", uid), 1);
    cr_assert_eq(audits("auth.mfa.verify", "success", uid), 1);
    /* an API token cannot verify */
    char token[256];
    api_token(cookie2, token, sizeof token);
    cr_assert_eq(sb_api_call(h, "POST", "/api/v1/auth/mfa/verify", "{\"code\":\"123456\"}", NULL,
                             token, &r),
                 403);
    cr_assert_str_eq(error_code(&r), "step_up_needs_session");
    sb_api_response_free(&r);
}

/* The cross-team request dev submits to team Beta (vp fills it). */
static void submit_cross(char *out)
{
    sb_api_response r;
    cr_assert_eq(callf(dev, "POST", "/api/v1/requests/cross-team", &r,
                       "{\"binding_id\":\"%s\",\"target_team_id\":\"%s\",\"keys\":[\"password\"],"
                       "\"justification\":\"new integration\"}",
                       bind_dev, beta),
                 201, "%s", r.body);
    id_of(&r, out);
}

static long reveal(const char *cookie, const char *bearer, const char *id, sb_api_response *r)
{
    char path[200];
    snprintf(path, sizeof path, "/api/v1/requests/%s/wraps/%s/reveal", id,
             "00000000-0000-4000-8000-000000000001");
    return sb_api_call(h, "POST", path, "{}", bearer ? NULL : cookie, bearer, r);
}

Test(mfa, every_tier2_action_of_an_mfa_required_request_needs_a_fresh_step_up)
{
    request_world();
    char read1[40], read2[40], cross[40], token[256];
    submit_read(read1);
    submit_read(read2);
    submit_cross(cross);
    /* the default policy (no rule matched) requires MFA */
    cr_assert_eq(sql_int("SELECT count(*) FROM requests WHERE id = '%s' AND "
                         "(policy->>'mfa_required')::boolean",
                         read1),
                 1);
    sb_api_response r;
    /* no factor: 412 on each action, nothing happens */
    expect_error(act(ap[0], read1, "approve", "{}", &r), &r, 412, "mfa_enrollment_required");
    expect_error(act(ap[0], read1, "reject", "{\"reason\":\"no\"}", &r), &r, 412,
                 "mfa_enrollment_required");
    expect_error(reveal(dev, NULL, read1, &r), &r, 412, "mfa_enrollment_required");
    char sealed[2048], body[2300];
    sealed_values("password", "canary-mfa-fill", sealed, sizeof sealed);
    snprintf(body, sizeof body, "{%s}", sealed);
    expect_error(act(vp, cross, "fill", body, &r), &r, 412, "mfa_enrollment_required");
    expect_state(read1, "pending");
    expect_state(cross, "pending_values");
    cr_assert_eq(audits("auth.step_up", "denied", ap_id[0]), 2);

    /* a factor, but the verification is older than the window: 401 with the challenge */
    test_totp t_ap, t_dev, t_vp;
    test_totp_active(h, ap[0], &t_ap);
    test_totp_active(h, dev, &t_dev);
    test_totp_active(h, vp, &t_vp);
    age_step_up(ap_id[0], 16);
    age_step_up(dev_id, 16);
    age_step_up(vp_id, 16);
    expect_step_up(act(ap[0], read1, "approve", "{}", &r), &r);
    expect_step_up(act(ap[0], read1, "reject", "{\"reason\":\"no\"}", &r), &r);
    expect_step_up(reveal(dev, NULL, read1, &r), &r);
    expect_step_up(act(vp, cross, "fill", body, &r), &r);
    expect_state(read1, "pending");
    cr_assert_eq(sql_int("SELECT count(*) FROM audit_events WHERE action = 'auth.step_up' AND "
                         "details->>'reason' = 'stale' AND details->>'action' = 'request.approve'"),
                 1);

    /* an API token cannot step up */
    api_token(ap[0], token, sizeof token);
    char path[128];
    snprintf(path, sizeof path, "/api/v1/requests/%s/approve", read1);
    cr_assert_eq(sb_api_call(h, "POST", path, "{}", NULL, token, &r), 403);
    cr_assert_str_eq(error_code(&r), "step_up_needs_session");
    cr_assert(strstr(r.body, "session") != NULL, "%s", r.body);
    sb_api_response_free(&r);

    /* verified: each action goes through */
    cr_assert_eq(verify(ap[0], &t_ap, NULL), 200);
    cr_assert_eq(act(ap[0], read1, "approve", "{}", &r), 200, "%s", r.body);
    sb_api_response_free(&r);
    expect_state(read1, "approved");
    cr_assert_eq(verify(dev, &t_dev, NULL), 200);
    /* past the gate: the next check answers (no results yet) */
    expect_error(reveal(dev, NULL, read1, &r), &r, 409, "not_executed");
    cr_assert_eq(verify(vp, &t_vp, NULL), 200);
    cr_assert_eq(act(vp, cross, "fill", body, &r), 200, "%s", r.body);
    sb_api_response_free(&r);
    expect_state(cross, "pending_verification");

    /* the window: 14 minutes old still counts, 16 minutes does not */
    age_step_up(ap_id[0], 14);
    cr_assert_eq(act(ap[0], read2, "reject", "{\"reason\":\"not needed\"}", &r), 200, "%s", r.body);
    sb_api_response_free(&r);
    expect_state(read2, "rejected");
    char read3[40];
    submit_read(read3);
    age_step_up(ap_id[0], 2);
    expect_step_up(act(ap[0], read3, "approve", "{}", &r), &r);
    cr_assert_eq(audits("auth.mfa.verify", "success", ap_id[0]), 1);
}

Test(mfa, direct_reveal_needs_a_step_up_when_its_policy_requires_mfa)
{
    request_world();
    char wf[40];
    workflow_with_rule("direct", 1, "[]", 500, ", direct_reveal_allowed, mfa_required",
                       ", true, true", wf);
    sb_api_response r;
    expect_error(submit(dev, "direct_reveal", bind_dev, "\"keys\":[\"user\"]", &r), &r, 412,
                 "mfa_enrollment_required");
    test_totp t;
    test_totp_active(h, dev, &t);
    age_step_up(dev_id, 20);
    expect_step_up(submit(dev, "direct_reveal", bind_dev, "\"keys\":[\"user\"]", &r), &r);
    cr_assert_eq(sql_int("SELECT count(*) FROM requests WHERE kind = 'direct_reveal'"), 0);
    cr_assert_eq(verify(dev, &t, NULL), 200);
    cr_assert_eq(submit(dev, "direct_reveal", bind_dev, "\"keys\":[\"user\"]", &r), 201, "%s",
                 r.body);
    cr_assert_str_eq(state_of(&r), "approved");
    sb_api_response_free(&r);
}

Test(mfa, a_request_whose_policy_does_not_require_mfa_needs_no_step_up)
{
    request_world();
    char wf[40];
    workflow_with_rule("no-mfa", 1, "[]", 500, ", mfa_required", ", false", wf);
    char id[40];
    submit_read(id);
    sb_api_response r;
    /* ap1 has no factor at all, as before MFA existed */
    cr_assert_eq(act(ap[0], id, "approve", "{}", &r), 200, "%s", r.body);
    sb_api_response_free(&r);
    expect_state(id, "approved");
    cr_assert_eq(audits("auth.step_up", "denied", ap_id[0]), 0);
}

Test(mfa, removing_a_confirmed_factor_needs_a_fresh_step_up)
{
    char uid[40], cookie[256];
    make_user("dave", NULL, NULL, NULL, uid, cookie);
    test_totp t;
    test_totp_active(h, cookie, &t);
    char path[128];
    snprintf(path, sizeof path, "/api/v1/auth/mfa/factors/%s", t.factor_id);
    sb_api_response r;
    age_step_up(uid, 30);
    expect_step_up(callf(cookie, "DELETE", path, &r, NULL), &r);
    cr_assert_eq(sql_int("SELECT count(*) FROM mfa_factors WHERE user_id = '%s'", uid), 1);
    /* someone else's factor is not found */
    char uid2[40], cookie2[256];
    make_user("erin", NULL, NULL, NULL, uid2, cookie2);
    expect_error(callf(cookie2, "DELETE", path, &r, NULL), &r, 404, "not_found");
    cr_assert_eq(verify(cookie, &t, NULL), 200);
    cr_assert_eq(callf(cookie, "DELETE", path, &r, NULL), 204, "%s", r.body);
    sb_api_response_free(&r);
    cr_assert_eq(sql_int("SELECT count(*) FROM mfa_factors WHERE user_id = '%s'", uid), 0);
    cr_assert_eq(audits("auth.mfa.remove", "success", uid), 1);
    /* a pending factor goes without a step-up */
    test_totp p;
    test_totp_enroll(h, cookie, "spare", &p);
    age_step_up(uid, 30);
    snprintf(path, sizeof path, "/api/v1/auth/mfa/factors/%s", p.factor_id);
    cr_assert_eq(callf(cookie, "DELETE", path, &r, NULL), 204, "%s", r.body);
    sb_api_response_free(&r);
}

Test(mfa, a_server_refuses_to_start_with_step_up_turned_off)
{
    sb_settings s = {0};
    s.mfa.pos.present = 1;
    s.mfa.require_step_up = 0;
    sb_control_plane *cp = NULL;
    sb_error err = {0};
    cr_assert_eq(sb_control_plane_start(&s, NULL, &cp, &err), -1);
    cr_assert_null(cp);
    cr_assert(strstr(err.message, "mfa.require_step_up: false is only allowed in dev mode") != NULL,
              "%s", err.message);
}
