/*
 * tests/plugins/vault/test_vault_auth.c — every auth path of the Vault
 * plugin against the emulator: static token (lookup once, renewal past 2/3
 * of the TTL, expiry -> AUTH_EXPIRED, a policy denial -> DENIED), AppRole
 * (lazy login, re-login once on 403 after expiry, max-TTL renewal turning
 * into a fresh login, bad credentials, persistent denial), Kubernetes (JWT
 * read from the pinned file at every login, rotation, bad JWT, missing
 * file). No message may contain a credential.
 */
#include "abi_outputs.h"
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "vault_test_support.h"

static void setup(void)
{
    vt_emulator_start(NULL);
    es_admin_ok("POST", "policies",
                "{\"name\":\"kv-all\",\"paths\":{\"secret/*\":[\"read\",\"create\",\"update\","
                "\"list\"]}}");
    es_admin_ok("POST", "policies",
                "{\"name\":\"kv-narrow\",\"paths\":{\"secret/data/allowed/*\":[\"read\"]}}");
    es_admin_ok("POST", "kv/secret/allowed/db", "{\"data\":{\"k\":\"v\"}}");
    es_admin_ok("POST", "kv/secret/other/db", "{\"data\":{\"k\":\"v\"}}");
}
static void teardown(void) { es_emulator_stop(); }

TestSuite(vault_auth, .init = setup, .fini = teardown, .timeout = 120);

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static sb_status try_read(sb_harness *h, const char *path, sb_result *res)
{
    sb_secret_ref ref = {sizeof ref, 0, path, NULL};
    sb_version_info v = SB_TEST_VERSION_INFO;
    sb_bundle *out = NULL;
    sb_result_release(res);
    sb_status st = es_provider(h)->read(sb_harness_instance(h), sb_harness_call(h, 10000), &ref,
                                        &out, &v, res);
    if (st == SB_OK)
        es_host(h)->bundle_free(out);
    else
        cr_assert_null(out);
    return st;
}

static void read_ok(sb_harness *h, const char *path)
{
    SB_TEST_RESULT res = SB_RESULT_INIT;
    sb_status st = try_read(h, path, &res);
    cr_assert_eq(st, SB_OK, "read %s: %d %s", path, st, res.message);
}

/* ---- token ------------------------------------------------------------------ */

Test(vault_auth, token_is_looked_up_once_then_used)
{
    sb_harness *h = vt_open("token: root\n");
    long base = sb_harness_live_secure_allocations();
    read_ok(h, "allowed/db");
    read_ok(h, "other/db");
    cr_assert_eq(vt_count_requests(h, "GET", "/v1/auth/token/lookup-self"), 1);
    cr_assert_eq(vt_count_requests(h, "POST", "/v1/auth/token/renew-self"), 0,
                 "a root token never expires and is never renewed");
    cr_assert_eq(sb_harness_live_secure_allocations(), base);
    sb_harness_close(h);
}

Test(vault_auth, token_from_a_file_and_header_injection)
{
    /* ${file:} tokens usually end in a newline: it is not part of the token. */
    char *path = es_temp_file("vault-token", "root\n");
    char yaml[512];
    snprintf(yaml, sizeof yaml, "token: ${file:%s}\n", path);
    sb_harness *h = vt_open(yaml);
    read_ok(h, "allowed/db");
    sb_harness_close(h);
    free(path);
    /* A token that would smuggle a header line is refused before use. */
    h = vt_open("token: \"root\\r\\nX-Injected: 1\"\n");
    SB_TEST_RESULT res = SB_RESULT_INIT;
    cr_assert_eq(try_read(h, "allowed/db", &res), SB_E_CONFIG, "%s", res.message);
    cr_assert(strstr(res.message, "Injected") == NULL);
    cr_assert_eq(vt_count_requests(h, NULL, NULL), 2, "only the first harness's requests");
    sb_harness_close(h);
}

Test(vault_auth, expired_token_is_auth_expired)
{
    es_admin_ok("POST", "tokens",
                "{\"token\":\"hvs.expiring-token\",\"policies\":[\"kv-all\"],\"ttl_s\":3600}");
    sb_harness *h = vt_open("token: hvs.expiring-token\n");
    read_ok(h, "allowed/db");
    es_admin_ok("POST", "expire-token", "{\"token\":\"hvs.expiring-token\"}");
    SB_TEST_RESULT res = SB_RESULT_INIT;
    cr_assert_eq(try_read(h, "allowed/db", &res), SB_E_AUTH_EXPIRED, "%s", res.message);
    cr_assert(SB_STATUS_IS_RETRYABLE(res.status));
    cr_assert(strstr(res.message, "expiring-token") == NULL, "message leaks the token");
    cr_assert(strstr(res.message, "token"), "%s", res.message);
    /* Still expired on the next call (no retry storm, one lookup each). */
    cr_assert_eq(try_read(h, "allowed/db", &res), SB_E_AUTH_EXPIRED, "%s", res.message);
    cr_assert_eq(vt_count_requests(h, "GET", "/v1/auth/token/lookup-self"), 3);
    sb_harness_close(h);
}

Test(vault_auth, policy_denial_with_a_live_token_is_denied)
{
    es_admin_ok("POST", "tokens",
                "{\"token\":\"hvs.narrow-token\",\"policies\":[\"kv-narrow\"],\"ttl_s\":3600}");
    sb_harness *h = vt_open("token: hvs.narrow-token\n");
    long base = sb_harness_live_secure_allocations();
    read_ok(h, "allowed/db");
    SB_TEST_RESULT res = SB_RESULT_INIT;
    cr_assert_eq(try_read(h, "other/db", &res), SB_E_DENIED, "%s", res.message);
    cr_assert(strstr(res.message, "permission denied"), "%s", res.message);
    cr_assert(strstr(res.message, "narrow-token") == NULL);
    /* The 403 was checked against lookup-self (alive), and not retried. */
    cr_assert_eq(vt_count_requests(h, "GET", "/v1/auth/token/lookup-self"), 2);
    cr_assert_eq(vt_count_requests(h, "GET", "/v1/secret/data/other/db"), 1);
    cr_assert_eq(sb_harness_live_secure_allocations(), base);
    sb_harness_close(h);
}

Test(vault_auth, renewable_token_is_renewed_past_two_thirds_of_its_ttl)
{
    es_admin_ok("POST", "tokens",
                "{\"token\":\"hvs.short-lived\",\"policies\":[\"kv-all\"],\"ttl_s\":3,"
                "\"renewable\":true}");
    sb_harness *h = vt_open("token: hvs.short-lived\n");
    int64_t start = now_ms();
    read_ok(h, "allowed/db");
    cr_assert_eq(vt_count_requests(h, "POST", "/v1/auth/token/renew-self"), 0);
    /* Keep using it for longer than its original TTL: renewals keep it alive. */
    while (now_ms() - start < 4500) {
        read_ok(h, "allowed/db");
        sleep_ms(250);
    }
    size_t renewals = vt_count_requests(h, "POST", "/v1/auth/token/renew-self");
    cr_assert_geq(renewals, 1, "no renew-self within 4.5 s of a 3 s token");
    cr_assert_leq(renewals, 4, "renewed on every call: %zu", renewals);
    sb_harness_close(h);
}

Test(vault_auth, a_failed_renewal_keeps_the_live_token)
{
    /* Vault reports whole seconds left: a 4 s token looks up as ttl 3. */
    es_admin_ok("POST", "tokens",
                "{\"token\":\"hvs.renew-me\",\"policies\":[\"kv-all\"],\"ttl_s\":4,"
                "\"renewable\":true}");
    sb_harness *h = vt_open("token: hvs.renew-me\n");
    read_ok(h, "allowed/db");
    sleep_ms(2200); /* past 2/3 of the TTL, before expiry */
    es_admin_ok("POST", "faults",
                "{\"method\":\"POST\",\"path_regex\":\"renew-self\",\"status\":500}");
    read_ok(h, "allowed/db"); /* renewal failed: the token still lives */
    read_ok(h, "allowed/db"); /* renewal retried and succeeded */
    cr_assert_eq(vt_count_requests(h, "POST", "/v1/auth/token/renew-self"), 2);
    sleep_ms(2000); /* past the original expiry: the renewed token works */
    read_ok(h, "allowed/db");
    sb_harness_close(h);
}

Test(vault_auth, non_renewable_token_expires_into_auth_expired)
{
    es_admin_ok("POST", "tokens",
                "{\"token\":\"hvs.fixed\",\"policies\":[\"kv-all\"],\"ttl_s\":2,"
                "\"renewable\":false}");
    sb_harness *h = vt_open("token: hvs.fixed\n");
    read_ok(h, "allowed/db");
    sleep_ms(2300);
    SB_TEST_RESULT res = SB_RESULT_INIT;
    cr_assert_eq(try_read(h, "allowed/db", &res), SB_E_AUTH_EXPIRED, "%s", res.message);
    cr_assert_eq(vt_count_requests(h, "POST", "/v1/auth/token/renew-self"), 0);
    sb_harness_close(h);
}

/* ---- AppRole ----------------------------------------------------------------- */

#define APPROLE "auth: approle\nrole_id: role-123\nsecret_id: s3cret-id-456\n"

static void add_approle(int ttl, int max_ttl)
{
    char body[512];
    snprintf(body, sizeof body,
             "{\"role_id\":\"role-123\",\"secret_id\":\"s3cret-id-456\","
             "\"policies\":[\"kv-all\"],\"token_ttl_s\":%d,\"token_max_ttl_s\":%d}",
             ttl, max_ttl);
    es_admin_ok("POST", "approle", body);
}

Test(vault_auth, approle_logs_in_lazily_and_relogs_in_once_after_expiry)
{
    add_approle(3600, 0);
    sb_harness *h = vt_open(APPROLE);
    long base = sb_harness_live_secure_allocations();
    cr_assert_eq(vt_count_requests(h, NULL, NULL), 0, "no login before the first call");
    read_ok(h, "allowed/db");
    read_ok(h, "other/db");
    cr_assert_eq(vt_count_requests(h, "POST", "/v1/auth/approle/login"), 1);

    /* Vault's clock moves past the token's TTL: 403, one re-login, retry. */
    es_admin_ok("POST", "clock", "{\"advance_s\":7200}");
    read_ok(h, "allowed/db");
    cr_assert_eq(vt_count_requests(h, "POST", "/v1/auth/approle/login"), 2);
    cr_assert_eq(vt_count_requests(h, "GET", "/v1/secret/data/allowed/db"), 3);

    /* The login carried role_id and secret_id and no token. */
    char *log = vt_requests();
    cr_assert(strstr(log, "\"body\": {\"role_id\": \"role-123\", \"secret_id\": "
                          "\"s3cret-id-456\"}"),
              "%s", log);
    free(log);
    cr_assert_eq(sb_harness_live_secure_allocations(), base);
    sb_harness_close(h);
}

Test(vault_auth, approle_persistent_denial_relogs_in_once_then_denied)
{
    add_approle(3600, 0);
    es_admin_ok("POST", "approle",
                "{\"role_id\":\"narrow\",\"secret_id\":\"narrow-secret\","
                "\"policies\":[\"kv-narrow\"]}");
    sb_harness *h = vt_open("auth: approle\nrole_id: narrow\nsecret_id: narrow-secret\n");
    SB_TEST_RESULT res = SB_RESULT_INIT;
    cr_assert_eq(try_read(h, "other/db", &res), SB_E_DENIED, "%s", res.message);
    cr_assert_eq(vt_count_requests(h, "POST", "/v1/auth/approle/login"), 2,
                 "one login, one re-login on 403");
    cr_assert_eq(vt_count_requests(h, "GET", "/v1/secret/data/other/db"), 2,
                 "the request is retried once");
    cr_assert(strstr(res.message, "narrow-secret") == NULL);
    sb_harness_close(h);
}

Test(vault_auth, approle_bad_credentials_are_denied_without_leaking)
{
    add_approle(3600, 0);
    sb_harness *h = vt_open("auth: approle\nrole_id: role-123\nsecret_id: wrong-secret-789\n");
    long base = sb_harness_live_secure_allocations();
    SB_TEST_RESULT res = SB_RESULT_INIT;
    cr_assert_eq(try_read(h, "allowed/db", &res), SB_E_DENIED, "%s", res.message);
    cr_assert(strstr(res.message, "invalid role or secret ID"), "%s", res.message);
    cr_assert(strstr(res.message, "approle"), "%s", res.message);
    cr_assert(strstr(res.message, "wrong-secret-789") == NULL);
    cr_assert_eq(vt_count_requests(h, "GET", "/v1/secret/"), 0);
    cr_assert_eq(sb_harness_live_secure_allocations(), base);
    sb_harness_close(h);
}

Test(vault_auth, approle_token_at_max_ttl_is_replaced_by_a_fresh_login, .timeout = 60)
{
    /* ttl 3 s, max 4 s: the first renewal is capped, so the plugin logs in
     * afresh when the capped token is due. */
    add_approle(3, 4);
    sb_harness *h = vt_open(APPROLE);
    int64_t start = now_ms();
    while (now_ms() - start < 6000) {
        read_ok(h, "allowed/db");
        sleep_ms(200);
    }
    size_t logins = vt_count_requests(h, "POST", "/v1/auth/approle/login");
    size_t renewals = vt_count_requests(h, "POST", "/v1/auth/token/renew-self");
    cr_assert_geq(renewals, 1, "renewed before the max TTL");
    cr_assert_geq(logins, 2, "logged in again after the max TTL (logins %zu)", logins);
    cr_assert_leq(logins, 5, "logged in on every call: %zu", logins);
    sb_harness_close(h);
}

/* ---- Kubernetes ---------------------------------------------------------------- */

Test(vault_auth, kubernetes_login_reads_the_pinned_token_file_each_time)
{
    es_admin_ok("POST", "kubernetes",
                "{\"role\":\"agent\",\"jwts\":[\"eyJhbGciOi.first.sig\",\"eyJhbGciOi.second.sig\"],"
                "\"policies\":[\"kv-all\"],\"token_ttl_s\":3600}");
    char *path = es_temp_file("sa-token", "eyJhbGciOi.first.sig\n");
    char yaml[1024];
    snprintf(yaml, sizeof yaml, "auth: kubernetes\nrole: agent\ntoken_path: %s\n", path);
    sb_harness *h = vt_open(yaml);
    long base = sb_harness_live_secure_allocations();
    read_ok(h, "allowed/db");
    char *log = vt_requests();
    cr_assert(strstr(log, "\"body\": {\"role\": \"agent\", \"jwt\": \"eyJhbGciOi.first.sig\"}"),
              "the JWT is sent without its trailing newline: %s", log);
    free(log);

    /* The projected token rotates; the Vault token expires; re-login uses
     * the new file contents. */
    free(es_temp_file("sa-token", "eyJhbGciOi.second.sig"));
    es_admin_ok("POST", "clock", "{\"advance_s\":7200}");
    read_ok(h, "allowed/db");
    log = vt_requests();
    cr_assert(strstr(log, "\"jwt\": \"eyJhbGciOi.second.sig\""), "%s", log);
    free(log);
    cr_assert_eq(vt_count_requests(h, "POST", "/v1/auth/kubernetes/login"), 2);
    cr_assert_eq(sb_harness_live_secure_allocations(), base);
    sb_harness_close(h);
    free(path);
}

Test(vault_auth, kubernetes_rejected_jwt_and_missing_file)
{
    es_admin_ok("POST", "kubernetes",
                "{\"role\":\"agent\",\"jwt\":\"eyJ.good.sig\",\"policies\":[\"kv-all\"]}");
    char *path = es_temp_file("sa-token", "eyJ.forged.sig");
    char yaml[1024];
    snprintf(yaml, sizeof yaml, "auth: kubernetes\nrole: agent\ntoken_path: %s\n", path);
    sb_harness *h = vt_open(yaml);
    long base = sb_harness_live_secure_allocations();
    SB_TEST_RESULT res = SB_RESULT_INIT;
    cr_assert_eq(try_read(h, "allowed/db", &res), SB_E_DENIED, "%s", res.message);
    cr_assert(strstr(res.message, "kubernetes"), "%s", res.message);
    cr_assert(strstr(res.message, "forged") == NULL, "message leaks the JWT");
    cr_assert_eq(sb_harness_live_secure_allocations(), base);
    sb_harness_close(h);

    snprintf(yaml, sizeof yaml,
             "auth: kubernetes\nrole: agent\ntoken_path: /nonexistent/sbridge/token\n");
    h = vt_open(yaml);
    cr_assert_neq(try_read(h, "allowed/db", &res), SB_OK);
    cr_assert(strstr(res.message, "/nonexistent/sbridge/token"), "%s", res.message);
    cr_assert_eq(vt_count_requests(h, "POST", "/v1/auth/kubernetes/login"), 1,
                 "only the forged attempt reached Vault");
    sb_harness_close(h);
    free(path);
}

/* ---- the policy documented in docs/plugins/vault.md is enough -------------------- */

static int count_sink(void *sink, const sb_metadata *m)
{
    (void)m;
    (*(size_t *)sink)++;
    return 0;
}

Test(vault_auth, documented_minimal_policy_allows_every_operation)
{
    es_admin_ok("POST", "policies",
                "{\"name\":\"sbridge-agent\",\"paths\":{"
                "\"secret/data/apps/*\":[\"read\",\"create\",\"update\"],"
                "\"secret/metadata/apps/*\":[\"read\",\"list\"],"
                "\"transit/encrypt/sbridge\":[\"update\"],"
                "\"transit/decrypt/sbridge\":[\"update\"]}}");
    es_admin_ok("POST", "approle",
                "{\"role_id\":\"agent\",\"secret_id\":\"agent-secret\","
                "\"policies\":[\"sbridge-agent\"],\"token_ttl_s\":3600}");
    cr_assert_eq(vt_vault("POST", "transit/keys/sbridge", "root", NULL, "{}", NULL, NULL), 200);
    es_admin_ok("POST", "kv/secret/apps/team/db",
                "{\"data\":{\"k\":\"v\"},\"custom_metadata\":{\"team\":\"x\"}}");
    sb_harness *h = vt_open("auth: approle\nrole_id: agent\nsecret_id: agent-secret\n"
                            "prefix: apps\n");
    const sb_host_api *host = es_host(h);
    void *inst = sb_harness_instance(h);
    long base = sb_harness_live_secure_allocations();

    read_ok(h, "team/db");
    sb_secret_ref ref = {sizeof ref, 0, "team/db", NULL};
    sb_bundle *b = es_bundle(h, "k", "v2", NULL);
    sb_version_info v = SB_TEST_VERSION_INFO;
    SB_TEST_RESULT res = SB_RESULT_INIT;
    cr_assert_eq(es_provider(h)->write(inst, sb_harness_call(h, 5000), &ref, b, "1", &v, &res),
                 SB_OK, "%s", res.message);
    sb_secret_ref fresh = {sizeof fresh, 0, "team/new", NULL};
    cr_assert_eq(es_provider(h)->write(inst, sb_harness_call(h, 5000), &fresh, b, SB_CAS_CREATE,
                                       &v, &res),
                 SB_OK, "%s", res.message);
    host->bundle_free(b);
    size_t n = 0;
    cr_assert_eq(es_provider(h)->describe(inst, sb_harness_call(h, 5000), &ref, count_sink, &n,
                                          &res),
                 SB_OK, "%s", res.message);
    sb_list_query q = {sizeof q, 0, NULL, NULL, 0, NULL};
    sb_text *next = sb_test_text();
    cr_assert_eq(es_provider(h)->list(inst, sb_harness_call(h, 5000), &q, count_sink, &n, next,
                                      &res),
                 SB_OK, "%s", res.message);
    cr_assert_eq(n, 3);

    sb_secure_buf *pt = host->secure_new(0), *ct = host->secure_new(0), *back = host->secure_new(0);
    cr_assert_eq(host->secure_append(pt, "key-material", 12), 0);
    sb_text *key_id = sb_test_text();
    cr_assert_eq(es_kms(h)->wrap(inst, sb_harness_call(h, 5000), pt, ct, key_id, &res), SB_OK,
                 "%s", res.message);
    size_t clen = 0;
    const unsigned char *c = host->secure_data(ct, &clen);
    cr_assert_eq(es_kms(h)->unwrap(inst, sb_harness_call(h, 5000), c, clen, SB_TEST_STR(key_id), back, &res),
                 SB_OK, "%s", res.message);
    host->secure_free(pt);
    host->secure_free(ct);
    host->secure_free(back);

    /* ...and nothing outside the prefix. */
    cr_assert_eq(vt_count_requests(h, "POST", "/v1/auth/approle/login"), 1, "no 403 anywhere");
    cr_assert_eq(sb_harness_live_secure_allocations(), base);
    sb_harness_close(h);
}
