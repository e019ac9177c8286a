/*
 * test_api_reveal.c — read results and their single-use reveal through the
 * real control plane (PostgreSQL + HTTP on loopback): the approval makes a
 * per-request read key (private half KMS-wrapped), the job carries its
 * public half, the agent's sealed results become wraps in the completing
 * transaction, the requester reveals each once (concurrent reveals: one
 * winner), reveal sessions end with their wraps; no KMS means no read is
 * approved; patch jobs go only to the agents their values were sealed
 * for; discovery chunks fill the catalog with labels verbatim.
 */
#include "agent_test_util.h"
#include "api/read_api.h"
#include "db_dump_util.h"
#include "worker/tasks.h"

TestSuite(reveal, .init = tenancy_setup, .fini = tenancy_teardown, .timeout = 240);

/* A read by dev approved, claimed by a and completed with its results. */
static void executed_read(const test_agent *a, char *req_id, char *job)
{
    approved_read(req_id);
    job_of(req_id, job);
    sb_api_response r;
    cr_assert_eq(agent_call(a, "/jobs/claim", NULL, &r), 200, "%s", r.body);
    const char *key = json_string_value(
        json_object_get(json_object_get(r.json, "payload"), "read_public_key"));
    cr_assert(key && strlen(key) == 44, "the job carries a 32-byte public key: %s", r.body);
    sb_api_response_free(&r);
    cr_assert_eq(complete(a, job, "succeeded", &r), 200, "%s", r.body);
    sb_api_response_free(&r);
    expect_state(req_id, "executed");
}

static long reveal(const char *cookie, const char *req_id, const char *wrap, sb_api_response *r)
{
    char path[256];
    snprintf(path, sizeof path, "/api/v1/requests/%s/wraps/%s/reveal", req_id, wrap);
    return callf(cookie, "POST", path, r, "{}");
}

static void first_wrap(const char *req_id, char *wrap)
{
    char q[160];
    snprintf(q, sizeof q, "SELECT id FROM secret_wraps WHERE request_id = '%s'", req_id);
    cr_assert_eq(sb_api_harness_sql(h, q, wrap, 40), 1);
}

Test(reveal, a_read_result_is_revealed_once_to_its_requester_only)
{
    request_world();
    test_agent a;
    enroll(conn_id, "vault-a", "agent-a", &a);
    char req_id[40], job[40], wrap[40];
    executed_read(&a, req_id, job);
    /* the private key is stored only KMS-wrapped, with the key id */
    cr_assert_eq(sql_int("SELECT count(*) FROM request_read_keys WHERE request_id = '%s' AND "
                         "kms_key_id LIKE 'local:%%' AND octet_length(wrapped_private_key) = 72",
                         req_id),
                 1);
    sb_api_response r;
    char path[160];
    snprintf(path, sizeof path, "/api/v1/requests/%s/wraps", req_id);
    cr_assert_eq(callf(dev, "GET", path, &r, NULL), 200, "%s", r.body);
    json_t *item = json_array_get(json_object_get(r.json, "items"), 0);
    cr_assert_str_eq(json_string_value(json_object_get(item, "key")), "user");
    cr_assert_str_eq(json_string_value(json_object_get(item, "state")), "live");
    cr_assert(strstr(r.body, "value of") == NULL && strstr(r.body, "box") == NULL, "%s", r.body);
    snprintf(wrap, 40, "%s", json_string_value(json_object_get(item, "id")));
    sb_api_response_free(&r);
    /* an approver (who can see the request) may neither list nor reveal it */
    expect_error(callf(ap[0], "GET", path, &r, NULL), &r, 404, "not_found");
    expect_error(reveal(ap[0], req_id, wrap, &r), &r, 404, "not_found");
    cr_assert_eq(sql_int("SELECT count(*) FROM audit_events WHERE action = 'secret.reveal' AND "
                         "outcome = 'denied'"),
                 1);
    /* the requester reveals it once */
    cr_assert_eq(reveal(dev, req_id, wrap, &r), 200, "%s", r.body);
    cr_assert_str_eq(jstr(&r, "value"), "value of user");
    cr_assert_str_eq(jstr(&r, "encoding"), "utf-8");
    cr_assert_str_eq(jstr(&r, "key"), "user");
    sb_api_response_free(&r);
    expect_error(reveal(dev, req_id, wrap, &r), &r, 410, "wrap_consumed");
    /* the box is gone; the audit has the length and a keyed hash, never the value */
    cr_assert_eq(sql_int("SELECT count(*) FROM secret_wraps WHERE id = '%s' AND box IS NULL AND "
                         "consumed_by = '%s'",
                         wrap, dev_id),
                 1);
    cr_assert_eq(sql_int("SELECT count(*) FROM audit_events WHERE action = 'secret.reveal' AND "
                         "outcome = 'success' AND (details->>'byte_length')::int = 13 AND "
                         "length(details->>'value_hash') = 32"),
                 1);
    cr_assert_eq(sql_int("SELECT count(*) FROM audit_events WHERE details::text LIKE "
                         "'%%value of user%%'"),
                 0);
}

typedef struct revealer {
    const char *req_id, *wrap;
    long status;
} revealer;

static void *reveal_thread(void *p)
{
    revealer *v = p;
    sb_api_response r;
    v->status = reveal(dev, v->req_id, v->wrap, &r);
    sb_api_response_free(&r);
    return NULL;
}

Test(reveal, two_concurrent_reveals_have_exactly_one_winner)
{
    request_world();
    test_agent a;
    enroll(conn_id, "vault-a", "agent-a", &a);
    for (int round = 0; round < 3; round++) {
        char req_id[40], job[40], wrap[40];
        executed_read(&a, req_id, job);
        first_wrap(req_id, wrap);
        revealer v[2] = {{req_id, wrap, 0}, {req_id, wrap, 0}};
        pthread_t t[2];
        for (int i = 0; i < 2; i++)
            pthread_create(&t[i], NULL, reveal_thread, &v[i]);
        for (int i = 0; i < 2; i++)
            pthread_join(t[i], NULL);
        cr_assert((v[0].status == 200 && v[1].status == 410) ||
                      (v[0].status == 410 && v[1].status == 200),
                  "round %d: %ld and %ld", round, v[0].status, v[1].status);
    }
    cr_assert_eq(sql_int("SELECT count(*) FROM audit_events WHERE action = 'secret.reveal' AND "
                         "outcome = 'success'"),
                 3);
}

Test(reveal, results_must_name_exactly_the_requested_keys_and_be_sealed_boxes)
{
    request_world();
    test_agent a;
    enroll(conn_id, "vault-a", "agent-a", &a);
    char req_id[40], job[40], suffix[128];
    approved_read(req_id);
    job_of(req_id, job);
    cr_assert_eq(agent_call(&a, "/jobs/claim", NULL, NULL), 200);
    snprintf(suffix, sizeof suffix, "/jobs/%s/complete", job);
    char good[4096], body[4400];
    read_results_for(job, good, sizeof good);
    const char *bad[] = {
        "{\"outcome\":\"succeeded\"}", /* no results */
        "{\"outcome\":\"succeeded\",\"results\":[]}",
        "{\"outcome\":\"succeeded\",\"results\":[{\"key\":\"password\",\"box\":"
        "\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\"}]}",
        "{\"outcome\":\"succeeded\",\"results\":[{\"key\":\"user\",\"box\":\"c2hvcnQ=\"}]}",
        "{\"outcome\":\"succeeded\",\"results\":[{\"key\":\"user\",\"value\":\"plain\",\"box\":"
        "\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\"}]}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        sb_api_response r;
        long st = agent_call(&a, suffix, bad[i], &r);
        cr_assert_eq(st, 422, "case %zu: %ld %s", i, st, r.body);
        cr_assert(strstr(r.body, "plain") == NULL);
        sb_api_response_free(&r);
    }
    snprintf(body, sizeof body, "{\"outcome\":\"failed_permanent\"%s}", good);
    sb_api_response r;
    expect_error(agent_call(&a, suffix, body, &r), &r, 422, "invalid_value");
    cr_assert_eq(sql_int("SELECT count(*) FROM secret_wraps"), 0);
    cr_assert_eq(sql_int("SELECT count(*) FROM jobs WHERE id = '%s' AND state = 'leased'", job), 1);
    expect_state(req_id, "approved");
    snprintf(body, sizeof body, "{\"outcome\":\"succeeded\"%s}", good);
    cr_assert_eq(agent_call(&a, suffix, body, &r), 200, "%s", r.body);
    sb_api_response_free(&r);
    cr_assert_eq(sql_int("SELECT count(*) FROM secret_wraps WHERE request_id = '%s'", req_id), 1);
}

Test(reveal, sessions_end_with_their_wraps_by_hand_or_by_ttl)
{
    request_world();
    test_agent a;
    enroll(conn_id, "vault-a", "agent-a", &a);
    char req_id[40], job[40], wrap[40], body[128], session[40];
    executed_read(&a, req_id, job);
    first_wrap(req_id, wrap);
    sb_api_response r;
    snprintf(body, sizeof body, "{\"request_id\":\"%s\"}", req_id);
    expect_error(callf(ap[0], "POST", "/api/v1/reveal-sessions", &r, "%s", body), &r, 404,
                 "not_found");
    cr_assert_eq(callf(dev, "POST", "/api/v1/reveal-sessions", &r, "%s", body), 201, "%s", r.body);
    cr_assert_eq(json_integer_value(json_object_get(r.json, "ttl_seconds")), 60);
    cr_assert_eq(json_array_size(json_object_get(r.json, "wraps")), 1);
    id_of(&r, session);
    cr_assert_eq(callf(dev, "GET", "/api/v1/reveal-sessions/me/active", &r, NULL), 200);
    cr_assert_eq(json_array_size(json_object_get(r.json, "items")), 1);
    sb_api_response_free(&r);
    char path[160];
    snprintf(path, sizeof path, "/api/v1/reveal-sessions/%s/expire", session);
    expect_error(callf(dev, "POST", path, &r, "{\"reason\":\"bored\"}"), &r, 422, "invalid_value");
    expect_error(callf(ap[0], "POST", path, &r, "{\"reason\":\"user_hide\"}"), &r, 404,
                 "not_found");
    cr_assert_eq(callf(dev, "POST", path, &r, "{\"reason\":\"user_hide\"}"), 200, "%s", r.body);
    cr_assert_str_eq(jstr(&r, "expired_reason"), "user_hide");
    sb_api_response_free(&r);
    expect_error(reveal(dev, req_id, wrap, &r), &r, 410, "wrap_expired");
    expect_error(callf(dev, "POST", "/api/v1/reveal-sessions", &r, "%s", body), &r, 410,
                 "nothing_to_reveal");

    /* a second read: its session passes its TTL and the sweep ends it */
    char req2[40], job2[40], wrap2[40];
    executed_read(&a, req2, job2);
    first_wrap(req2, wrap2);
    snprintf(body, sizeof body, "{\"request_id\":\"%s\"}", req2);
    cr_assert_eq(callf(dev, "POST", "/api/v1/reveal-sessions", &r, "%s", body), 201, "%s", r.body);
    sb_api_response_free(&r);
    sb_api_harness_sql(h, "UPDATE reveal_sessions SET expires_at = now() - interval '1 second' "
                          "WHERE expired_at IS NULL", NULL, 0);
    size_t n = 0;
    sb_error err = {0};
    cr_assert_eq(sb_worker_expire_reveal_sessions(sb_api_harness_db(h), NULL, &n, &err), 0, "%s",
                 err.message);
    cr_assert_eq(n, 1);
    cr_assert_eq(sql_int("SELECT count(*) FROM reveal_sessions WHERE expired_reason = 'ttl'"), 1);
    /* audited in the same transaction, with the request and how many wraps went */
    cr_assert_eq(sql_int("SELECT count(*) FROM audit_events WHERE action = 'reveal_session.expire'"
                         " AND actor = 'system' AND details->>'wraps_expired' = '1'"),
                 1);
    expect_error(reveal(dev, req2, wrap2, &r), &r, 410, "wrap_expired");
}

/* The worker's expire_wraps task (worker/tasks.h): an expired read result
 * loses its ciphertext for good and says so in the audit trail; a live
 * one is untouched. */
Test(reveal, the_worker_purges_expired_read_results_and_audits_it)
{
    request_world();
    test_agent a;
    enroll(conn_id, "vault-a", "agent-a", &a);
    char old_req[40], old_job[40], old_wrap[40], live_req[40], live_job[40];
    executed_read(&a, old_req, old_job);
    executed_read(&a, live_req, live_job);
    first_wrap(old_req, old_wrap);
    char q[256];
    snprintf(q, sizeof q, "UPDATE secret_wraps SET expires_at = now() - interval '1 second' "
                          "WHERE request_id = '%s'", old_req);
    sb_api_harness_sql(h, q, NULL, 0);
    long long old_n = sql_int("SELECT count(*) FROM secret_wraps WHERE request_id = '%s'", old_req);
    size_t n = 0;
    sb_error err = {0};
    cr_assert_eq(sb_worker_purge_wraps(sb_api_harness_db(h), NULL, &n, &err), 0, "%s", err.message);
    cr_assert_eq((long long)n, old_n);
    cr_assert_eq(sql_int("SELECT count(*) FROM secret_wraps WHERE request_id = '%s' AND box IS NULL "
                         "AND purged_at IS NOT NULL", old_req), old_n);
    cr_assert_eq(sql_int("SELECT count(*) FROM secret_wraps WHERE request_id = '%s' AND box IS NOT "
                         "NULL AND purged_at IS NULL", live_req),
                 sql_int("SELECT count(*) FROM secret_wraps WHERE request_id = '%s'", live_req));
    cr_assert_eq(audit_rows("wrap.purge", "request", old_req), old_n);
    cr_assert_eq(audit_rows("wrap.purge", "request", live_req), 0);
    sb_api_response r;
    expect_error(reveal(dev, old_req, old_wrap, &r), &r, 410, "wrap_expired");
    /* nothing left to purge: a second sweep does nothing */
    cr_assert_eq(sb_worker_purge_wraps(sb_api_harness_db(h), NULL, &n, &err), 0, "%s", err.message);
    cr_assert_eq(n, 0);
}

Test(reveal, without_a_kms_no_read_is_approved)
{
    request_world();
    sb_app *app = sb_api_harness_app(h);
    const struct sb_kms *kms = app->kms;
    app->kms = NULL;
    char req_id[40];
    submit_read(req_id);
    sb_api_response r;
    long st = act(ap[0], req_id, "approve", "{}", &r);
    app->kms = kms;
    cr_assert_eq(st, 503, "%s", r.body);
    cr_assert_str_eq(error_code(&r), "kms_unavailable");
    sb_api_response_free(&r);
    expect_state(req_id, "pending");
    cr_assert_eq(sql_int("SELECT count(*) FROM jobs"), 0);
    cr_assert_eq(sql_int("SELECT count(*) FROM request_votes"), 0);
}

Test(reveal, a_patch_job_goes_only_to_the_agents_its_values_were_sealed_for)
{
    request_world();
    test_agent a, b;
    enroll(conn_id, "vault-a", "agent-a", &a);
    enroll(conn_id, "vault-a", "agent-b", &b);
    /* dev seals to a's key, as listed by the agent-keys route */
    sb_api_response r;
    char path[160], pk64[64] = "";
    snprintf(path, sizeof path, "/api/v1/provider-connections/%s/agent-keys", conn_id);
    cr_assert_eq(callf(dev, "GET", path, &r, NULL), 200, "%s", r.body);
    json_t *item;
    size_t i;
    json_array_foreach(json_object_get(r.json, "items"), i, item)
    {
        if (strcmp(json_string_value(json_object_get(item, "agent_id")), a.id) == 0)
            snprintf(pk64, sizeof pk64, "%s", json_string_value(json_object_get(item, "public_key")));
    }
    cr_assert_eq(json_array_size(json_object_get(r.json, "items")), 2);
    sb_api_response_free(&r);
    cr_assert_neq(pk64[0], '\0');
    unsigned char pk[crypto_box_PUBLICKEYBYTES], box[64];
    size_t pk_len;
    cr_assert_eq(sodium_base642bin(pk, sizeof pk, pk64, strlen(pk64), NULL, &pk_len, NULL,
                                   sodium_base64_VARIANT_ORIGINAL), 0);
    crypto_box_seal(box, (const unsigned char *)"new-pass", 8, pk);
    char box64[128], sealed[512], req_id[40];
    sodium_bin2base64(box64, sizeof box64, box, 8 + crypto_box_SEALBYTES,
                      sodium_base64_VARIANT_ORIGINAL);
    snprintf(sealed, sizeof sealed,
             "\"sealed_values\":[{\"key\":\"password\",\"recipient\":\"%s\",\"box\":\"%s\"}]", pk64,
             box64);
    cr_assert_eq(submit(dev, "patch", bind_dev, sealed, &r), 201, "%s", r.body);
    id_of(&r, req_id);
    cr_assert_eq(act(ap[0], req_id, "approve", "{}", &r), 200, "%s", r.body);
    sb_api_response_free(&r);
    cr_assert_eq(agent_call(&b, "/jobs/claim", NULL, NULL), 204, "b holds no box: never offered");
    cr_assert_eq(agent_call(&a, "/jobs/claim", NULL, &r), 200, "%s", r.body);
    json_t *sv = json_object_get(r.json, "sealed_values");
    cr_assert_eq(json_array_size(sv), 1, "%s", r.body);
    cr_assert_str_eq(json_string_value(json_object_get(json_array_get(sv, 0), "box")), box64);
    sb_api_response_free(&r);
}

Test(reveal, discovery_chunks_fill_the_catalog_and_the_connection_status)
{
    request_world();
    test_agent a;
    enroll(conn_id, "vault-a", "agent-a", &a);
    sb_api_response r;
    char path[160], job[40], suffix[160];
    snprintf(path, sizeof path, "/api/v1/provider-connections/%s/discover-jobs", conn_id);
    cr_assert_eq(callf(admin, "POST", path, &r, "{}"), 201, "%s", r.body);
    id_of(&r, job);
    cr_assert_eq(agent_call(&a, "/jobs/claim", NULL, NULL), 200);
    snprintf(suffix, sizeof suffix, "/jobs/%s/discovery", job);
    expect_error(agent_call(&a, suffix,
                            "{\"items\":[{\"path\":\"app/x\",\"value\":\"canary-disc-1\"}]}", &r),
                 &r, 422, "invalid_value");
    cr_assert_eq(agent_call(&a, suffix,
                            "{\"items\":[{\"path\":\"app/new\",\"version\":\"3\",\"labels\":"
                            "{\"team\":\"payments\",\"Owner Name\":\"Ada L.\"},\"updated_at_ms\":"
                            "1767225600123},{\"path\":\"app/db\"}]}",
                            &r),
                 200, "%s", r.body);
    cr_assert_eq(json_integer_value(json_object_get(r.json, "accepted")), 2);
    sb_api_response_free(&r);
    cr_assert_eq(sql_int("SELECT count(*) FROM catalog_secrets WHERE secret_ref = 'app/new' AND "
                         "version = '3' AND labels = '{\"team\":\"payments\",\"Owner Name\":"
                         "\"Ada L.\"}'::jsonb AND updated_at_source = "
                         "'2026-01-01T00:00:00.123Z'"),
                 1);
    snprintf(suffix, sizeof suffix, "/jobs/%s/complete", job);
    cr_assert_eq(agent_call(&a, suffix, "{\"outcome\":\"succeeded\"}", NULL), 200);
    cr_assert_eq(callf(admin, "GET", path3("/api/v1/provider-connections/", conn_id, ""), &r, NULL),
                 200, "%s", r.body);
    json_t *d = json_object_get(r.json, "discovery");
    cr_assert_str_eq(json_string_value(json_object_get(d, "outcome")), "succeeded", "%s", r.body);
    cr_assert_eq(json_integer_value(json_object_get(d, "count")), 2);
    sb_api_response_free(&r);
    cr_assert_eq(sql_int("SELECT count(*) FROM audit_events WHERE details::text LIKE "
                         "'%%canary-disc%%'"),
                 0);
}

/* I1: a read value exists at the control plane only sealed; after it is
 * revealed nothing of it is left anywhere in the database. */
Test(reveal, a_revealed_value_leaves_no_trace_in_a_dump_of_the_database)
{
    request_world();
    test_agent a;
    enroll(conn_id, "vault-a", "agent-a", &a);
    char req_id[40], job[40], wrap[40];
    executed_read(&a, req_id, job); /* the value is "value of user" */
    first_wrap(req_id, wrap);
    sb_api_response r;
    cr_assert_eq(reveal(dev, req_id, wrap, &r), 200, "%s", r.body);
    cr_assert_str_eq(jstr(&r, "value"), "value of user");
    sb_api_response_free(&r);
    char *dump = pg_dump_text(sb_api_harness_conninfo(h));
    cr_assert_gt(strlen(dump), 10000, "the dump looks empty");
    cr_assert_not_null(strstr(dump, "secret.reveal"), "the dump holds the audit events");
    cr_assert_null(strstr(dump, "value of user"), "the revealed value is in the database");
    free(dump);
}
