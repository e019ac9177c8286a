/*
 * test_api_requests.c — read, patch and direct-reveal requests through the
 * real control plane (PostgreSQL + HTTP on loopback):
 *   - submit: identity from the session, keys within the binding's
 *     allowlist, operation allowed by the binding, policy snapshotted,
 *     justification required, plaintext values refused without echo;
 *   - approve / reject / cancel with their permissions and separation of
 *     duties; illegal transitions answer 409 naming the current state;
 *   - job intents recorded in the approving transaction;
 *   - direct reveal: refused on prod before any policy lookup and audited
 *     (I9), refused without a policy allowing it, created approved with one;
 *     policy.invariant.violated audited for a rule asking for reveal on prod;
 *   - scope isolation: outside their grants users get 404 and see nothing.
 */
#include "request_test_util.h"

TestSuite(requests, .init = tenancy_setup, .fini = tenancy_teardown, .timeout = 240);

Test(requests, read_request_lifecycle_approve_records_one_job_intent)
{
    request_world();
    char id[40];
    submit_read(id);
    sb_api_response r;
    cr_assert_eq(callf(dev, "GET", path3("/api/v1/requests/", id, ""), &r, NULL), 200);
    cr_assert_str_eq(json_string_value(json_object_get(r.json, "requester_id")), dev_id);
    json_t *policy = json_object_get(r.json, "policy");
    cr_assert(json_is_null(json_object_get(policy, "rule_id")), "default fallback: no rule");
    cr_assert_str_eq(json_string_value(json_object_get(
                         json_object_get(r.json, "workflow"), "name")),
                     "standard");
    sb_api_response_free(&r);
    cr_assert_eq(audit_rows("request.submit", "request", id), 1);

    /* the requester cannot approve their own request (standard: no self-approval) */
    cr_assert_eq(sb_api_harness_grant(h, dev_id, "approver", "project", proj), 0);
    expect_error(act(dev, id, "approve", NULL, &r), &r, 403, "forbidden");
    cr_assert_eq(sql_int("SELECT count(*) FROM request_votes WHERE request_id = '%s'", id), 0);

    cr_assert_eq(act(ap[0], id, "approve", "{\"comment\":\"ok\"}", &r), 200, "%s", r.body);
    cr_assert_str_eq(state_of(&r), "approved");
    cr_assert(json_is_true(json_object_get(r.json, "job_recorded")));
    sb_api_response_free(&r);
    cr_assert_eq(sql_int("SELECT count(*) FROM job_intents WHERE request_id = '%s' AND job_type = "
                         "'read'", id), 1);
    cr_assert_eq(audit_rows("request.approve", "request", id), 1);

    /* a second approver is too late: 409 naming the current state */
    long st = act(ap[1], id, "approve", NULL, &r);
    cr_assert_eq(st, 409, "%s", r.body);
    cr_assert(strstr(r.body, "approved") != NULL, "the 409 names the state: %s", r.body);
    sb_api_response_free(&r);
    expect_error(act(dev, id, "cancel", NULL, &r), &r, 409, "illegal_transition");
    cr_assert_eq(sql_int("SELECT count(*) FROM request_votes WHERE request_id = '%s'", id), 1);
}

Test(requests, reject_needs_a_reason_and_ends_the_request)
{
    request_world();
    char id[40];
    submit_read(id);
    sb_api_response r;
    expect_error(act(ap[0], id, "reject", "{}", &r), &r, 400, "missing_field");
    expect_error(act(ap[0], id, "reject", "{\"reason\":\"\"}", &r), &r, 422, "invalid_value");
    expect_state(id, "pending");
    cr_assert_eq(act(ap[0], id, "reject", "{\"reason\":\"not needed\"}", &r), 200, "%s", r.body);
    cr_assert_str_eq(state_of(&r), "rejected");
    cr_assert_str_eq(json_string_value(json_object_get(r.json, "reason")), "not needed");
    sb_api_response_free(&r);
    cr_assert_eq(act(ap[1], id, "approve", NULL, &r), 409, "%s", r.body);
    cr_assert(strstr(r.body, "rejected") != NULL, "%s", r.body);
    sb_api_response_free(&r);
    cr_assert_eq(sql_int("SELECT count(*) FROM job_intents WHERE request_id = '%s'", id), 0);
    cr_assert_eq(audit_rows("request.reject", "request", id), 1);
}

Test(requests, one_vote_per_approver)
{
    request_world();
    char id[40];
    cr_assert_eq(sb_api_harness_sql(h, "UPDATE workflows SET min_approvers = 2 WHERE is_default",
                                     NULL, 0),
                 0);
    submit_read(id);
    sb_api_response r;
    cr_assert_eq(act(ap[0], id, "approve", NULL, &r), 200, "%s", r.body);
    cr_assert_str_eq(state_of(&r), "pending");
    sb_api_response_free(&r);
    cr_assert_eq(audit_rows("request.vote", "request", id), 1);
    expect_error(act(ap[0], id, "approve", NULL, &r), &r, 409, "conflict");
    expect_error(act(ap[0], id, "reject", "{\"reason\":\"changed my mind\"}", &r), &r, 409,
                 "conflict");
    expect_state(id, "pending");
    cr_assert_eq(act(ap[1], id, "approve", NULL, &r), 200, "%s", r.body);
    cr_assert_str_eq(state_of(&r), "approved");
    sb_api_response_free(&r);
}

Test(requests, cancel_is_for_the_requester_only)
{
    request_world();
    char id[40];
    submit_read(id);
    sb_api_response r;
    expect_error(act(ap[0], id, "cancel", NULL, &r), &r, 403, "forbidden");
    expect_error(act(other, id, "cancel", NULL, &r), &r, 404, "not_found");
    cr_assert_eq(act(dev, id, "cancel", NULL, &r), 200, "%s", r.body);
    cr_assert_str_eq(state_of(&r), "cancelled");
    sb_api_response_free(&r);
    expect_error(act(dev, id, "cancel", NULL, &r), &r, 409, "illegal_transition");
    cr_assert_eq(audit_rows("request.cancel", "request", id), 1);
}

Test(requests, submit_checks_binding_keys_operation_and_justification)
{
    request_world();
    sb_api_response r;
    /* a key outside the allowlist */
    expect_error(submit(dev, "read", bind_dev, "\"keys\":[\"api_key\"]", &r), &r, 403,
                 "forbidden");
    /* an operation the binding does not allow */
    char ro[40];
    sb_api_harness_sql(h, "DELETE FROM secret_bindings WHERE environment_id IN "
                          "(SELECT id FROM environments WHERE name = 'prod')", NULL, 0);
    make_binding(env_prod, "[\"user\"]", "[\"read\"]", ro);
    char sealed[2048];
    sealed_values("user", "s3cret-value", sealed, sizeof sealed);
    expect_error(submit(dev, "patch", ro, sealed, &r), &r, 403, "forbidden");
    /* justification required by the default workflow */
    long st = callf(dev, "POST", "/api/v1/requests", &r,
                    "{\"kind\":\"read\",\"binding_id\":\"%s\",\"justification\":\"  \"}", bind_dev);
    expect_error(st, &r, 422, "invalid_value");
    /* unknown binding, kind and fields */
    expect_error(submit(dev, "read", "00000000-0000-4000-8000-000000000000", NULL, &r), &r, 404,
                 "not_found");
    expect_error(submit(dev, "cross_team", bind_dev, NULL, &r), &r, 422, "invalid_value");
    expect_error(submit(dev, "read", bind_dev, "\"requester_id\":\"x\"", &r), &r, 400,
                 "unknown_field");
    /* no secret.request on the project */
    expect_error(submit(ap[0], "read", bind_dev, NULL, &r), &r, 403, "forbidden");
    /* a read without keys asks for every allowed key */
    cr_assert_eq(callf(dev, "POST", "/api/v1/requests", &r,
                       "{\"kind\":\"read\",\"binding_id\":\"%s\",\"justification\":\"why\"}",
                       bind_dev),
                 201, "%s", r.body);
    cr_assert_eq(json_array_size(json_object_get(r.json, "keys")), 2);
    sb_api_response_free(&r);
    cr_assert_eq(sql_int("SELECT count(*) FROM requests"), 1, "only the last submit stored a row");
}

Test(requests, patch_takes_sealed_values_only_and_never_echoes_plaintext)
{
    request_world();
    sb_api_response r;
    long st = submit(dev, "patch", bind_dev, "\"values\":{\"user\":\"canary-plain-9f3\"}", &r);
    cr_assert_eq(st, 400);
    cr_assert_str_eq(error_code(&r), "plaintext_refused");
    cr_assert(strstr(r.body, "canary-plain-9f3") == NULL, "the value is echoed: %s", r.body);
    sb_api_response_free(&r);
    expect_error(submit(dev, "patch", bind_dev,
                        "\"sealed_values\":[{\"key\":\"user\",\"recipient\":\"AAAA\","
                        "\"box\":\"canary-plain-9f3\"}]",
                        &r),
                 &r, 422, "invalid_value");
    expect_error(submit(dev, "patch", bind_dev, NULL, &r), &r, 400, "missing_field");
    cr_assert_eq(sql_int("SELECT count(*) FROM requests"), 0);
    cr_assert_eq(sql_int("SELECT count(*) FROM audit_events WHERE details::text LIKE "
                         "'%%canary-plain%%'"), 0);

    /* boxes for a key that is no live agent of the connection: refused */
    unsigned char stray_pk[crypto_box_PUBLICKEYBYTES], stray_sk[crypto_box_SECRETKEYBYTES];
    crypto_box_keypair(stray_pk, stray_sk);
    char stray64[64], stray_box64[256], stray_body[512];
    unsigned char stray_box[64];
    crypto_box_seal(stray_box, (const unsigned char *)"v", 1, stray_pk);
    sodium_bin2base64(stray64, sizeof stray64, stray_pk, sizeof stray_pk,
                      sodium_base64_VARIANT_ORIGINAL);
    sodium_bin2base64(stray_box64, sizeof stray_box64, stray_box, 1 + crypto_box_SEALBYTES,
                      sodium_base64_VARIANT_ORIGINAL);
    snprintf(stray_body, sizeof stray_body,
             "\"sealed_values\":[{\"key\":\"user\",\"recipient\":\"%s\",\"box\":\"%s\"}]",
             stray64, stray_box64);
    st = submit(dev, "patch", bind_dev, stray_body, &r);
    cr_assert_eq(st, 422, "%s", r.body);
    cr_assert(strstr(r.body, "agent-keys") != NULL, "the refusal says where the keys are: %s",
              r.body);
    sb_api_response_free(&r);
    cr_assert_eq(sql_int("SELECT count(*) FROM requests"), 0);

    char sealed[2048];
    sealed_values("user,password", "canary-sealed-77", sealed, sizeof sealed);
    st = submit(dev, "patch", bind_dev, sealed, &r);
    cr_assert_eq(st, 201, "%s", r.body);
    cr_assert_str_eq(state_of(&r), "pending");
    char id[40];
    id_of(&r, id);
    cr_assert_eq(sql_int("SELECT count(*) FROM request_sealed_values WHERE request_id = '%s'", id),
                 2);
    cr_assert_eq(sql_int("SELECT count(*) FROM request_sealed_values WHERE position("
                         "'canary-sealed-77'::bytea in box) > 0"), 0);
    cr_assert_eq(callf(dev, "GET", path3("/api/v1/requests/", id, ""), &r, NULL), 200);
    cr_assert(strstr(r.body, "\"box\"") == NULL, "boxes are never returned: %s", r.body);
    cr_assert_eq(json_integer_value(json_object_get(json_object_get(r.json, "sealed_values"),
                                                    "boxes")),
                 2);
    sb_api_response_free(&r);
    cr_assert_eq(act(ap[0], id, "approve", NULL, &r), 200, "%s", r.body);
    sb_api_response_free(&r);
    cr_assert_eq(sql_int("SELECT count(*) FROM job_intents WHERE request_id = '%s' AND job_type = "
                         "'patch'", id), 1);
    /* approval refreshed the boxes to the approved TTL (1 h) */
    cr_assert_eq(sql_int("SELECT count(*) FROM request_sealed_values WHERE request_id = '%s' AND "
                         "expires_at < now() + interval '2 hours'", id), 2);
}

Test(requests, direct_reveal_prod_refused_before_policy_and_audited)
{
    request_world();
    char wf[40];
    /* a rule that would allow direct reveal everywhere */
    workflow_with_rule("fast", 1, "[]", 500, ", direct_reveal_allowed", ", true", wf);
    sb_api_response r;
    expect_error(submit(dev, "direct_reveal", bind_prod, "\"keys\":[\"user\"]", &r), &r, 403,
                 "forbidden");
    cr_assert_eq(sql_int("SELECT count(*) FROM audit_events WHERE action = "
                         "'request.direct_reveal.refused_prod' AND outcome = 'denied'"), 1);
    cr_assert_eq(sql_int("SELECT count(*) FROM requests"), 0);
    /* someone who cannot see the project learns nothing: 404, no prod refusal */
    expect_error(submit(other, "direct_reveal", bind_prod, "\"keys\":[\"user\"]", &r), &r, 404,
                 "not_found");
    cr_assert_eq(sql_int("SELECT count(*) FROM audit_events WHERE action = "
                         "'request.direct_reveal.refused_prod'"), 1);

    /* non-prod with the rule: created approved, job intent recorded */
    long st = submit(dev, "direct_reveal", bind_dev, "\"keys\":[\"user\"]", &r);
    cr_assert_eq(st, 201, "%s", r.body);
    cr_assert_str_eq(state_of(&r), "approved");
    cr_assert(json_is_true(json_object_get(r.json, "job_recorded")));
    sb_api_response_free(&r);

    /* a read on prod under that rule: the engine zeroes the flag and audits */
    st = submit(dev, "read", bind_prod, "\"keys\":[\"user\"]", &r);
    cr_assert_eq(st, 201, "%s", r.body);
    json_t *policy = json_object_get(r.json, "policy");
    cr_assert(json_is_false(json_object_get(policy, "direct_reveal_allowed")));
    cr_assert(json_is_true(json_object_get(policy, "invariant_violated")));
    sb_api_response_free(&r);
    cr_assert_eq(sql_int("SELECT count(*) FROM audit_events WHERE action = "
                         "'policy.invariant.violated'"), 1);
}

Test(requests, direct_reveal_needs_a_policy_allowing_it)
{
    request_world();
    sb_api_response r;
    /* default fallback grants no direct reveal */
    expect_error(submit(dev, "direct_reveal", bind_dev, "\"keys\":[\"user\"]", &r), &r, 403,
                 "forbidden");
    /* a rule allowing it only for another prefix does not apply */
    char wf[40];
    workflow_with_rule("narrow", 1, "[]", 500, ", direct_reveal_allowed, sel_secret_ref_prefix",
                       ", true, 'other/'", wf);
    expect_error(submit(dev, "direct_reveal", bind_dev, "\"keys\":[\"user\"]", &r), &r, 403,
                 "forbidden");
    /* secret.request without secret.reveal.direct, under a rule that allows it */
    char wide[40], asker[256], asker_id[40];
    workflow_with_rule("wide", 1, "[]", 600, ", direct_reveal_allowed", ", true", wide);
    make_user("asker", "approver", "project", proj, asker_id, asker);
    cr_assert_geq(sb_api_harness_sql(h,
                                     "INSERT INTO roles (name, permissions) VALUES "
                                     "('requester_only', ARRAY['secret.request'])",
                                     NULL, 0),
                  0);
    cr_assert_eq(sb_api_harness_grant(h, asker_id, "requester_only", "project", proj), 0);
    expect_error(submit(asker, "direct_reveal", bind_dev, "\"keys\":[\"user\"]", &r), &r, 403,
                 "forbidden");
    /* the developer can, under that rule */
    cr_assert_eq(submit(dev, "direct_reveal", bind_dev, "\"keys\":[\"user\"]", &r), 201, "%s",
                 r.body);
    sb_api_response_free(&r);
    cr_assert_eq(sql_int("SELECT count(*) FROM requests"), 1);
}

Test(requests, scope_isolation_404_outside_grants)
{
    request_world();
    char id[40];
    submit_read(id);
    sb_api_response r;
    expect_error(callf(other, "GET", path3("/api/v1/requests/", id, ""), &r, NULL), &r, 404,
                 "not_found");
    expect_error(act(other, id, "approve", NULL, &r), &r, 404, "not_found");
    expect_error(act(other, id, "reject", "{\"reason\":\"no\"}", &r), &r, 404, "not_found");
    expect_error(submit(other, "read", bind_dev, NULL, &r), &r, 404, "not_found");
    char ids[4096];
    list_ids(other, "/api/v1/requests/queue", ids, sizeof ids);
    cr_assert(!listed(ids, id), "an approver of another project sees it in their queue");
    list_ids(ap[0], "/api/v1/requests/queue", ids, sizeof ids);
    cr_assert(listed(ids, id), "the project's approver does not see it in the queue");
    list_ids(dev, "/api/v1/requests/queue", ids, sizeof ids);
    cr_assert(!listed(ids, id), "the requester's own request is in their queue");
    list_ids(dev, "/api/v1/requests", ids, sizeof ids);
    cr_assert(listed(ids, id));
    list_ids(ap[0], "/api/v1/requests", ids, sizeof ids);
    cr_assert(!listed(ids, id), "GET /requests lists only the caller's own requests");
    /* after voting it leaves the voter's queue */
    cr_assert_eq(sb_api_harness_sql(h, "UPDATE workflows SET min_approvers = 2 WHERE is_default",
                                     NULL, 0),
                 0);
    char id2[40];
    submit_read(id2);
    cr_assert_eq(act(ap[0], id2, "approve", NULL, &r), 200, "%s", r.body);
    sb_api_response_free(&r);
    list_ids(ap[0], "/api/v1/requests/queue", ids, sizeof ids);
    cr_assert(!listed(ids, id2));
    list_ids(ap[1], "/api/v1/requests/queue", ids, sizeof ids);
    cr_assert(listed(ids, id2));
    expect_error(callf(dev, "GET", "/api/v1/requests?state=new", &r, NULL), &r, 400,
                 "invalid_field");
}
