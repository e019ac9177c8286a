/*
 * test_api_request_flows.c — the request flows beyond a single approval,
 * through the real control plane:
 *   - AND approval groups: one owning-team approver AND one security
 *     approver; two team approvals leave it pending, the security vote
 *     approves it;
 *   - concurrency: N parallel approvals produce exactly one transition and
 *     one job intent;
 *   - cross-team: submit -> inbox -> fill (sealed) -> verify, with
 *     requester != filler != approvers; refuse; fill window;
 *   - the expiry sweep (request TTL, fill window) and job outcomes, actor
 *     "system", every transition audited;
 *   - the requests table's CHECK keeps exactly the (kind, state) pairs the
 *     machine's table uses.
 */
#include <pthread.h>

#include "service/request_writer.h"
#include "domain/request_machine.h"
#include "request_test_util.h"

TestSuite(request_flows, .init = tenancy_setup, .fini = tenancy_teardown, .timeout = 240);

Test(request_flows, and_groups_need_team_and_security)
{
    request_world();
    char wf[40];
    workflow_with_rule("two-key", 2,
                       "[{\"name\":\"team\",\"required\":1,\"permission\":\"secret.approve\","
                       "\"owning_team_member\":true},{\"name\":\"security\",\"required\":1,"
                       "\"permission\":\"secret.security.approve\"}]",
                       500, NULL, NULL, wf);
    for (int i = 0; i < 2; i++)
        cr_assert_eq(callf(admin, "POST", path3("/api/v1/teams/", alpha, "/members"), NULL,
                           "{\"user_id\":\"%s\"}", ap_id[i]),
                     201);
    char id[40];
    submit_read(id);
    sb_api_response r;
    /* the queue lists it only for those the workflow admits */
    char ids[4096];
    list_ids(ap[0], "/api/v1/requests/queue", ids, sizeof ids);
    cr_assert(listed(ids, id), "a team approver's queue");
    list_ids(sec, "/api/v1/requests/queue", ids, sizeof ids);
    cr_assert(listed(ids, id), "the security approver's queue");
    list_ids(ap[2], "/api/v1/requests/queue", ids, sizeof ids);
    cr_assert(!listed(ids, id), "an approver in no group does not see it in the queue");
    cr_assert_eq(act(ap[0], id, "approve", NULL, &r), 200, "%s", r.body);
    cr_assert_str_eq(state_of(&r), "pending");
    sb_api_response_free(&r);
    cr_assert_eq(act(ap[1], id, "approve", NULL, &r), 200, "%s", r.body);
    cr_assert_str_eq(state_of(&r), "pending", "two team approvals must not satisfy security");
    sb_api_response_free(&r);
    /* an approver outside the owning team is in no group */
    expect_error(act(ap[2], id, "approve", NULL, &r), &r, 403, "forbidden");
    cr_assert_eq(sql_int("SELECT count(*) FROM job_intents"), 0);
    cr_assert_eq(act(sec, id, "approve", NULL, &r), 200, "%s", r.body);
    cr_assert_str_eq(state_of(&r), "approved");
    sb_api_response_free(&r);
    cr_assert_eq(sql_int("SELECT count(*) FROM job_intents WHERE request_id = '%s'", id), 1);
    cr_assert_eq(sql_int("SELECT count(*) FROM request_votes WHERE request_id = '%s' AND "
                         "groups = 2 AND approver_id = '%s'", id, sec_id), 1);
}

#define RACERS 8

typedef struct racer {
    const char *cookie, *id;
    long status;
} racer;

static pthread_barrier_t start_line;

static void *race(void *p)
{
    racer *r = p;
    pthread_barrier_wait(&start_line);
    r->status = act(r->cookie, r->id, "approve", NULL, NULL);
    return NULL;
}

static void parallel_approvals(int min_approvers, int *ok, int *conflicts)
{
    char cookies[RACERS][256], ids[RACERS][40], q[128], id[40];
    snprintf(q, sizeof q, "UPDATE workflows SET min_approvers = %d WHERE is_default",
             min_approvers);
    cr_assert_eq(sb_api_harness_sql(h, q, NULL, 0), 0);
    submit_read(id);
    racer rs[RACERS];
    pthread_t t[RACERS];
    for (int i = 0; i < RACERS; i++) {
        char name[16];
        snprintf(name, sizeof name, "racer%d-%d", min_approvers, i);
        make_user(name, "approver", "project", proj, ids[i], cookies[i]);
        rs[i] = (racer){cookies[i], id, 0};
    }
    pthread_barrier_init(&start_line, NULL, RACERS);
    for (int i = 0; i < RACERS; i++)
        pthread_create(&t[i], NULL, race, &rs[i]);
    *ok = *conflicts = 0;
    for (int i = 0; i < RACERS; i++) {
        pthread_join(t[i], NULL);
        *ok += rs[i].status == 200;
        *conflicts += rs[i].status == 409;
    }
    pthread_barrier_destroy(&start_line);
    expect_state(id, "approved");
    cr_assert_eq(sql_int("SELECT count(*) FROM job_intents WHERE request_id = '%s'", id), 1);
    cr_assert_eq(audit_rows("request.approve", "request", id), 1, "exactly one transition");
    cr_assert_eq(sql_int("SELECT count(*) FROM request_votes WHERE request_id = '%s'", id),
                 min_approvers);
}

Test(request_flows, parallel_approvals_transition_once)
{
    request_world();
    int ok, conflicts;
    parallel_approvals(1, &ok, &conflicts);
    cr_assert_eq(ok, 1, "one approval wins");
    cr_assert_eq(conflicts, RACERS - 1);
    parallel_approvals(3, &ok, &conflicts);
    cr_assert_eq(ok, 3, "three votes are needed and counted");
    cr_assert_eq(conflicts, RACERS - 3);
}

/* A cross-team request by dev asking Beta for "password"; id into out. */
static void submit_cross(char *out)
{
    sb_api_response r;
    long st = callf(dev, "POST", "/api/v1/requests/cross-team", &r,
                    "{\"binding_id\":\"%s\",\"target_team_id\":\"%s\",\"keys\":[\"password\"],"
                    "\"justification\":\"new integration\"}",
                    bind_dev, beta);
    cr_assert_eq(st, 201, "%s", r.body);
    cr_assert_str_eq(state_of(&r), "pending_values");
    cr_assert(json_string_value(json_object_get(r.json, "fill_expires_at")) != NULL);
    id_of(&r, out);
}

Test(request_flows, cross_team_fill_then_verify_with_separation_of_duties)
{
    request_world();
    sb_api_response r;
    expect_error(callf(dev, "POST", "/api/v1/requests/cross-team", &r,
                       "{\"binding_id\":\"%s\",\"target_team_id\":\"%s\",\"keys\":[\"password\"],"
                       "\"justification\":\"x\"}",
                       bind_dev, alpha),
                 &r, 422, "invalid_value");
    char id[40];
    submit_cross(id);
    char ids[4096];
    list_ids(vp, "/api/v1/requests/inbox", ids, sizeof ids);
    cr_assert(listed(ids, id), "the value provider's inbox lists it");
    cr_assert_eq(callf(vp, "GET", path3("/api/v1/requests/", id, ""), NULL, NULL), 200);
    /* approvers cannot vote before the values are there */
    expect_error(act(ap[0], id, "verify", "{\"decision\":\"approve\"}", &r), &r, 409,
                 "illegal_transition");
    /* the wrong keys are refused */
    char sealed[2048], body[2300];
    sealed_values("user", "v", sealed, sizeof sealed);
    snprintf(body, sizeof body, "{%s}", sealed);
    expect_error(act(vp, id, "fill", body, &r), &r, 422, "invalid_value");
    /* the requester cannot fill (no secret.value.provide on Beta) */
    sealed_values("password", "canary-fill-31", sealed, sizeof sealed);
    snprintf(body, sizeof body, "{%s,\"comment\":\"rotated today\"}", sealed);
    expect_error(act(dev, id, "fill", body, &r), &r, 403, "forbidden");
    cr_assert_eq(act(vp, id, "fill", body, &r), 200, "%s", r.body);
    cr_assert_str_eq(state_of(&r), "pending_verification");
    cr_assert_str_eq(json_string_value(json_object_get(r.json, "filled_by")), vp_id);
    sb_api_response_free(&r);
    expect_error(act(vp, id, "fill", body, &r), &r, 409, "illegal_transition");
    /* the filler cannot verify (even as an approver); the requester neither */
    cr_assert_eq(sb_api_harness_grant(h, vp_id, "approver", "project", proj), 0);
    cr_assert_eq(sb_api_harness_grant(h, dev_id, "approver", "project", proj), 0);
    expect_error(act(vp, id, "verify", "{\"decision\":\"approve\"}", &r), &r, 403, "forbidden");
    expect_error(act(dev, id, "verify", "{\"decision\":\"approve\"}", &r), &r, 403, "forbidden");
    expect_error(act(ap[0], id, "verify", "{\"decision\":\"maybe\"}", &r), &r, 422,
                 "invalid_value");
    cr_assert_eq(act(ap[0], id, "verify", "{\"decision\":\"approve\"}", &r), 200, "%s", r.body);
    cr_assert_str_eq(state_of(&r), "approved");
    sb_api_response_free(&r);
    cr_assert_eq(sql_int("SELECT count(*) FROM job_intents WHERE request_id = '%s' AND job_type = "
                         "'patch'", id), 1);
    cr_assert_eq(audit_rows("request.fill", "request", id), 1);
    cr_assert_eq(sql_int("SELECT count(*) FROM audit_events WHERE details::text LIKE "
                         "'%%canary-fill%%'"), 0);
}

Test(request_flows, cross_team_refuse_and_reject_and_allowlist_recheck)
{
    request_world();
    sb_api_response r;
    char a[40], b[40], c[40];
    submit_cross(a);
    expect_error(act(vp, a, "refuse", "{\"reason\":\"short\"}", &r), &r, 422, "invalid_value");
    cr_assert_eq(act(vp, a, "refuse", "{\"reason\":\"we do not own that credential\"}", &r), 200,
                 "%s", r.body);
    cr_assert_str_eq(state_of(&r), "refused");
    sb_api_response_free(&r);
    expect_error(act(dev, a, "cancel", NULL, &r), &r, 409, "illegal_transition");

    char sealed[2048], body[2300];
    sealed_values("password", "v", sealed, sizeof sealed);
    snprintf(body, sizeof body, "{%s}", sealed);
    submit_cross(b);
    cr_assert_eq(act(vp, b, "fill", body, &r), 200, "%s", r.body);
    sb_api_response_free(&r);
    cr_assert_eq(act(ap[0], b, "verify", "{\"decision\":\"reject\",\"reason\":\"wrong value\"}",
                     &r),
                 200, "%s", r.body);
    cr_assert_str_eq(state_of(&r), "rejected");
    sb_api_response_free(&r);
    /* the rejected request's boxes now expire within 5 minutes */
    cr_assert_eq(sql_int("SELECT count(*) FROM request_sealed_values WHERE request_id = '%s' AND "
                         "expires_at <= now() + interval '5 minutes'", b), 1);

    /* the destination allowlist shrinks after the fill: approval fails the request */
    submit_cross(c);
    cr_assert_eq(act(vp, c, "fill", body, &r), 200, "%s", r.body);
    sb_api_response_free(&r);
    char path[256];
    snprintf(path, sizeof path, "/api/v1/projects/%s/secret-bindings/%s", proj, bind_dev);
    cr_assert_eq(callf(admin, "PUT", path, &r, "{\"allowed_keys\":[\"user\"]}"), 200, "%s", r.body);
    sb_api_response_free(&r);
    cr_assert_eq(act(ap[0], c, "verify", "{\"decision\":\"approve\"}", &r), 200, "%s", r.body);
    cr_assert_str_eq(state_of(&r), "failed");
    sb_api_response_free(&r);
    cr_assert_eq(sql_int("SELECT count(*) FROM job_intents WHERE request_id = '%s'", c), 0);
    cr_assert_eq(audit_rows("request.fail", "request", c), 1);
}

Test(request_flows, sweep_expires_by_ttl_and_fill_window)
{
    request_world();
    char read_id[40], cross_id[40], fresh[40];
    submit_read(read_id);
    submit_cross(cross_id);
    submit_read(fresh);
    sb_api_response r;
    char q[256];
    snprintf(q, sizeof q, "UPDATE requests SET expires_at = now() - interval '1 second' "
                          "WHERE id = '%s'", read_id);
    cr_assert_eq(sb_api_harness_sql(h, q, NULL, 0), 0);
    /* an action after the TTL is refused even before the sweep runs */
    cr_assert_eq(act(ap[0], read_id, "approve", NULL, &r), 409, "%s", r.body);
    sb_api_response_free(&r);
    snprintf(q, sizeof q, "UPDATE requests SET fill_expires_at = now() - interval '1 second' "
                          "WHERE id = '%s'", cross_id);
    cr_assert_eq(sb_api_harness_sql(h, q, NULL, 0), 0);
    char sealed[2048], body[2300];
    sealed_values("password", "v", sealed, sizeof sealed);
    snprintf(body, sizeof body, "{%s}", sealed);
    expect_error(act(vp, cross_id, "fill", body, &r), &r, 409, "illegal_transition");

    size_t n = 0;
    sb_error err = {0};
    cr_assert_eq(sb_request_sweep(sb_api_harness_db(h), 1, &n, &err), 0, "%s", err.message);
    cr_assert_eq(n, 1, "limit respected");
    cr_assert_eq(sb_request_sweep(sb_api_harness_db(h), 10, &n, &err), 0, "%s", err.message);
    cr_assert_eq(n, 1);
    cr_assert_eq(sb_request_sweep(sb_api_harness_db(h), 10, &n, &err), 0, "%s", err.message);
    cr_assert_eq(n, 0, "nothing left to expire");
    expect_state(read_id, "expired");
    expect_state(cross_id, "expired");
    expect_state(fresh, "pending");
    cr_assert_eq(sql_int("SELECT count(*) FROM audit_events WHERE action = 'request.expire' AND "
                         "actor = 'system'"), 2);
    cr_assert_eq(sql_int("SELECT count(*) FROM audit_events WHERE action = 'request.expire' AND "
                         "details->>'event' = 'fill_window_expired'"), 1);
}

/* A request that cannot be expired is rolled back alone and named; the
 * others are expired and committed. */
Test(request_flows, sweep_isolates_a_request_it_cannot_expire)
{
    request_world();
    char bad[40], good[40], q[512];
    submit_read(bad);
    submit_read(good);
    cr_assert_eq(sb_api_harness_sql(h, "UPDATE requests SET expires_at = now() - interval '1 s'",
                                     NULL, 0),
                 0);
    snprintf(q, sizeof q,
             "CREATE FUNCTION poison() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
             "IF NEW.id = '%s' THEN RAISE EXCEPTION 'poisoned row'; END IF; RETURN NEW; END $$",
             bad);
    cr_assert_geq(sb_api_harness_sql(h, q, NULL, 0), 0);
    cr_assert_geq(sb_api_harness_sql(h, "CREATE TRIGGER poison BEFORE UPDATE ON requests FOR EACH "
                                        "ROW EXECUTE FUNCTION poison()",
                                     NULL, 0),
                  0);
    size_t n = 0;
    sb_error err = {0};
    cr_assert_eq(sb_request_sweep(sb_api_harness_db(h), 10, &n, &err), -1);
    cr_assert_eq(n, 1, "the other request was expired");
    cr_assert(strstr(err.message, bad) && strstr(err.message, "poisoned row"), "%s", err.message);
    expect_state(good, "expired");
    expect_state(bad, "pending");
    cr_assert_eq(audit_rows("request.expire", "request", bad), 0, "its audit event rolled back");
    cr_assert_geq(sb_api_harness_sql(h, "DROP TRIGGER poison ON requests", NULL, 0), 0);
    cr_assert_eq(sb_request_sweep(sb_api_harness_db(h), 10, &n, &err), 0, "%s", err.message);
    cr_assert_eq(n, 1);
    expect_state(bad, "expired");
}

/* Only an approved request moves on a job outcome, once; anything else (a
 * pending request, a repeat) is left alone. */
Test(request_flows, job_outcomes_execute_or_fail_once)
{
    request_world();
    char a[40], b[40];
    sb_api_response r;
    int applied;
    submit_read(a);
    submit_read(b);
    cr_assert_eq(drive_job(a, true, NULL, &applied), 0);
    cr_assert_eq(applied, 0, "a pending request has no job");
    expect_state(a, "pending");
    for (int i = 0; i < 2; i++) {
        cr_assert_eq(act(ap[0], i ? b : a, "approve", NULL, &r), 200, "%s", r.body);
        sb_api_response_free(&r);
    }
    cr_assert_eq(drive_job(a, true, NULL, &applied), 0);
    cr_assert_eq(applied, 1);
    cr_assert_eq(drive_job(b, false, "provider said 403", &applied), 0);
    cr_assert_eq(applied, 1);
    expect_state(a, "executed");
    expect_state(b, "failed");
    cr_assert_eq(drive_job(a, false, NULL, &applied), 0);
    cr_assert_eq(applied, 0, "an executed request is never failed afterwards");
    expect_state(a, "executed");
    cr_assert_eq(audit_rows("request.execute", "request", a), 1);
    cr_assert_eq(audit_rows("request.fail", "request", b), 1);
    cr_assert_eq(sql_int("SELECT count(*) FROM requests WHERE id = '%s' AND reason = "
                         "'provider said 403'", b), 1);
}

/* The CHECK on requests admits exactly the machine's (kind, state) pairs. */
Test(request_flows, table_check_matches_the_machine)
{
    request_world();
    char ids[SB_REQ_KIND_COUNT][40];
    sb_api_response r;
    submit_read(ids[SB_REQ_KIND_READ]);
    char sealed[2048];
    sealed_values("user", "v", sealed, sizeof sealed);
    cr_assert_eq(submit(dev, "patch", bind_dev, sealed, &r), 201, "%s", r.body);
    id_of(&r, ids[SB_REQ_KIND_PATCH]);
    char wf[40];
    workflow_with_rule("fast", 1, "[]", 500, ", direct_reveal_allowed", ", true", wf);
    cr_assert_eq(submit(dev, "direct_reveal", bind_dev, "\"keys\":[\"user\"]", &r), 201, "%s",
                 r.body);
    id_of(&r, ids[SB_REQ_KIND_DIRECT_REVEAL]);
    submit_cross(ids[SB_REQ_KIND_CROSS_TEAM]);
    for (int k = 0; k < SB_REQ_KIND_COUNT; k++)
        for (int s = SB_REQ_STATE_PENDING; s < SB_REQ_STATE_COUNT; s++) {
            char q[512];
            snprintf(q, sizeof q,
                     "DO $$ BEGIN UPDATE requests SET state = '%s' WHERE id = '%s'; "
                     "RAISE EXCEPTION 'undo' USING ERRCODE = 'P0002'; "
                     "EXCEPTION WHEN SQLSTATE 'P0002' THEN NULL; END $$",
                     sb_request_state_name((sb_request_state)s), ids[k]);
            long rc = sb_api_harness_sql(h, q, NULL, 0);
            bool uses = sb_request_kind_uses_state((sb_request_kind)k, (sb_request_state)s);
            cr_assert_eq(rc >= 0, uses, "kind %s state %s: the CHECK %s it",
                         sb_request_kind_name((sb_request_kind)k),
                         sb_request_state_name((sb_request_state)s),
                         rc >= 0 ? "admits" : "refuses");
        }
}
