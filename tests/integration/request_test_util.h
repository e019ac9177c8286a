/*
 * request_test_util.h — the world the request tests share (on top of
 * tenancy_test_util.h): two teams, a project of team Alpha with a dev
 * (non_prod) and a prod environment, a Vault connection with one catalog
 * secret bound to both environments (keys user, password; ops read, patch,
 * reveal), a project of team Beta, and signed-in users:
 *   dev      developer on the project (the requester)
 *   ap1..3   approver on the project
 *   sec      security_approver on the project
 *   vp       value_provider on team Beta (cross-team filler)
 *   other    developer + approver on Beta's project only
 * plus helpers to submit, vote and seal values with libsodium.
 */
#ifndef SB_TESTS_REQUEST_TEST_UTIL_H
#define SB_TESTS_REQUEST_TEST_UTIL_H

#include <sodium.h>

#include "service/request_writer.h"
#include "store/catalog_store.h"
#include "tenancy_test_util.h"

static char alpha[40], beta[40], proj[40], proj_b[40], env_dev[40], env_prod[40], conn_id[40],
    secret_id[40], bind_dev[40], bind_prod[40];
static char dev[256], dev_id[40], ap[3][256], ap_id[3][40], sec[256], sec_id[40], vp[256],
    vp_id[40], other[256], other_id[40];

static inline void make_binding(const char *env, const char *keys, const char *ops, char *out)
{
    sb_api_response r;
    long st = callf(admin, "POST", path3("/api/v1/projects/", proj, "/secret-bindings"), &r,
                    "{\"catalog_secret_id\":\"%s\",\"environment_id\":\"%s\","
                    "\"allowed_keys\":%s,\"allowed_ops\":%s}",
                    secret_id, env, keys, ops);
    cr_assert_eq(st, 201, "binding: %s", r.body);
    id_of(&r, out);
}

static inline void request_world(void)
{
    cr_assert_eq(sodium_init() >= 0, 1);
    make_team(admin, "Alpha", NULL, alpha);
    make_team(admin, "Beta", NULL, beta);
    make_project(admin, "alpha-app", alpha, proj);
    make_project(admin, "beta-app", beta, proj_b);
    make_env(admin, proj, "dev", "non_prod", env_dev);
    make_env(admin, proj, "prod", "prod", env_prod);
    sb_api_response r;
    cr_assert_eq(callf(admin, "POST", "/api/v1/provider-connections", &r,
                       "{\"name\":\"vault-a\",\"type\":\"vault\",\"scope\":{\"address\":\"https://vault.internal:8200\",\"mount\":\"kv\"}}"),
                 201, "%s", r.body);
    id_of(&r, conn_id);
    cr_assert_eq(callf(admin, "POST", path3("/api/v1/provider-connections/", conn_id, "/bindings"),
                       NULL, "{\"project_id\":\"%s\"}", proj),
                 201);
    sb_db_conn *conn;
    sb_error err = {0};
    int64_t n = 0;
    cr_assert_eq(sb_db_acquire(sb_api_harness_db(h), -1, &conn, &err), 0);
    cr_assert_eq(sb_catalog_store_upsert_batch(conn, conn_id, "[{\"secret_ref\":\"app/db\"}]", false,
                                               &n, &err),
                 0, "%s", err.message);
    sb_db_release(sb_api_harness_db(h), conn);
    char q[256];
    snprintf(q, sizeof q, "SELECT id FROM catalog_secrets WHERE connection_id = '%s'", conn_id);
    cr_assert_eq(sb_api_harness_sql(h, q, secret_id, sizeof secret_id), 1);
    make_binding(env_dev, "[\"user\",\"password\"]", "[\"read\",\"patch\",\"reveal\"]", bind_dev);
    make_binding(env_prod, "[\"user\",\"password\"]", "[\"read\",\"patch\",\"reveal\"]", bind_prod);
    make_user("dev", "developer", "project", proj, dev_id, dev);
    for (int i = 0; i < 3; i++) {
        char name[16];
        snprintf(name, sizeof name, "ap%d", i + 1);
        make_user(name, "approver", "project", proj, ap_id[i], ap[i]);
    }
    make_user("sec", "security_approver", "project", proj, sec_id, sec);
    make_user("vp", "value_provider", "team", beta, vp_id, vp);
    make_user("other", "developer", "project", proj_b, other_id, other);
    cr_assert_eq(sb_api_harness_grant(h, other_id, "approver", "project", proj_b), 0);
}

/* POST /requests; *out the response (caller frees) when given. */
static inline long submit(const char *cookie, const char *kind, const char *binding,
                          const char *extra, sb_api_response *out)
{
    return callf(cookie, "POST", "/api/v1/requests", out,
                 "{\"kind\":\"%s\",\"binding_id\":\"%s\",\"justification\":\"incident 42\"%s%s}",
                 kind, binding, extra ? "," : "", extra ? extra : "");
}

/* A read request by dev on the dev binding; its id into out. */
static inline void submit_read(char *out)
{
    sb_api_response r;
    long st = submit(dev, "read", bind_dev, "\"keys\":[\"user\"]", &r);
    cr_assert_eq(st, 201, "%s", r.body);
    cr_assert_str_eq(json_string_value(json_object_get(r.json, "state")), "pending");
    id_of(&r, out);
}

static inline long act(const char *cookie, const char *id, const char *what, const char *body,
                       sb_api_response *out)
{
    char path[128];
    snprintf(path, sizeof path, "/api/v1/requests/%s/%s", id, what);
    return callf(cookie, "POST", path, out, "%s", body ? body : "{}");
}

static inline const char *state_of(sb_api_response *r)
{
    const char *s = json_string_value(json_object_get(r->json, "state"));
    return s ? s : "";
}

/* The state in the database. */
static inline void db_state(const char *id, char *out, size_t cap)
{
    char q[128];
    snprintf(q, sizeof q, "SELECT state FROM requests WHERE id = '%s'", id);
    cr_assert_eq(sb_api_harness_sql(h, q, out, cap), 1);
}

static inline void expect_state(const char *id, const char *want)
{
    char s[32];
    db_state(id, s, sizeof s);
    cr_assert_str_eq(s, want, "request %s", id);
}

/* A fresh agent key (base64 public key into pk64) registered as a live
 * agent of every provider connection, so boxes sealed to it are accepted
 * (the API takes boxes only for live agents of the request's connection). */
static inline void agent_key_everywhere(const unsigned char pk[crypto_box_PUBLICKEYBYTES],
                                        char pk64[64])
{
    char q[512];
    sodium_bin2base64(pk64, 64, pk, crypto_box_PUBLICKEYBYTES, sodium_base64_VARIANT_ORIGINAL);
    snprintf(q, sizeof q,
             "INSERT INTO agents (connection_id, name, public_key, secret_hash) SELECT id, "
             "'test-agent', decode('%s', 'base64'), decode(md5(random()::text) || "
             "md5(random()::text), 'hex') FROM provider_connections",
             pk64);
    cr_assert_geq(sb_api_harness_sql(h, q, NULL, 0), 0);
}

/* sealed_values JSON for keys (comma-separated) to one fresh recipient (a
 * live agent of every connection); the plaintext of every key is `plain`. */
static inline void sealed_values(const char *keys, const char *plain, char *out, size_t cap)
{
    unsigned char pk[crypto_box_PUBLICKEYBYTES], sk[crypto_box_SECRETKEYBYTES];
    crypto_box_keypair(pk, sk);
    char pk64[64], box64[512], list[256];
    agent_key_everywhere(pk, pk64);
    size_t len = strlen(plain), n = 0;
    unsigned char box[256];
    crypto_box_seal(box, (const unsigned char *)plain, len, pk);
    sodium_bin2base64(box64, sizeof box64, box, len + crypto_box_SEALBYTES,
                      sodium_base64_VARIANT_ORIGINAL);
    snprintf(list, sizeof list, "%s", keys);
    n += (size_t)snprintf(out + n, cap - n, "\"sealed_values\":[");
    int first = 1;
    for (char *save = NULL, *k = strtok_r(list, ",", &save); k; k = strtok_r(NULL, ",", &save)) {
        n += (size_t)snprintf(out + n, cap - n, "%s{\"key\":\"%s\",\"recipient\":\"%s\",\"box\":\"%s\"}",
                              first ? "" : ",", k, pk64, box64);
        first = 0;
    }
    snprintf(out + n, cap - n, "]");
}

/* A workflow row inserted directly, with a platform rule choosing it at
 * priority prio; the workflow id into out. */
static inline void workflow_with_rule(const char *name, int min, const char *groups, int prio,
                                      const char *rule_extra_cols, const char *rule_extra_vals,
                                      char *out)
{
    char q[2048];
    snprintf(q, sizeof q,
             "INSERT INTO workflows (name, min_approvers, groups) VALUES ('%s', %d, '%s') "
             "RETURNING id",
             name, min, groups);
    cr_assert_eq(sb_api_harness_sql(h, q, out, 40), 1);
    snprintf(q, sizeof q,
             "INSERT INTO policy_rules (name, anchor_type, priority, workflow_id%s) "
             "VALUES ('%s rule', 'platform', %d, '%s'%s)",
             rule_extra_cols ? rule_extra_cols : "", name, prio, out,
             rule_extra_vals ? rule_extra_vals : "");
    cr_assert_geq(sb_api_harness_sql(h, q, NULL, 0), 0);
}

typedef struct drive_ctx {
    const char *id, *reason;
    bool succeeded;
    int applied;
} drive_ctx;

static inline int drive_txn(sb_db_conn *conn, void *p, sb_error *err)
{
    drive_ctx *c = p;
    return sb_request_drive_job(conn, NULL, c->id, c->succeeded, c->reason, &c->applied, NULL,
                                err);
}

/* A job outcome through the request writer (what job completion and the
 * lease sweep call) in its own transaction: 0 and *applied, or -1. */
static inline int drive_job(const char *id, bool succeeded, const char *reason, int *applied)
{
    drive_ctx c = {id, reason, succeeded, -1};
    sb_error err = {0};
    int rc = sb_db_transaction(sb_api_harness_db(h), drive_txn, &c, &err);
    *applied = rc == 0 ? c.applied : 0;
    return rc;
}

#endif
