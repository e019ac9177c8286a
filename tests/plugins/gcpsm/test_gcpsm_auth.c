/*
 * tests/plugins/gcpsm/test_gcpsm_auth.c — the gcpsm plugin's OAuth2 against
 * the GCP emulator, which verifies the RS256 assertion with the public key it
 * registered for the service account and checks the bearer token on every
 * call: a key file's token is fetched once and reused; it is refreshed before
 * it expires and after the API refused it (401); a key the emulator no longer
 * trusts, a key file that is not one and a token endpoint that is down are
 * mapped to DENIED / CONFIG / UNAVAILABLE; metadata-server tokens (the
 * emulator requires Metadata-Flavor: Google); workload identity federation (a
 * subject token file exchanged at STS, with and without impersonation; a token
 * the pool does not accept is DENIED). No secure memory leaks.
 */
#include "abi_outputs.h"
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gcpsm_test_support.h"

static long live_before;
static void setup(void) { live_before = sb_harness_live_secure_allocations(); }
static void teardown(void) { es_emulator_stop(); }

TestSuite(gcpsm_auth, .init = setup, .fini = teardown, .timeout = 120);

static void close_checked(sb_harness *h)
{
    sb_harness_close(h);
    cr_assert_eq(sb_harness_live_secure_allocations(), live_before, "secure memory leaked");
}

static int token_calls(void)
{
    char *s = gc_stats();
    char *p = strstr(s, "\"token_calls\": ");
    cr_assert_not_null(p, "%s", s);
    int n = atoi(p + strlen("\"token_calls\": "));
    free(s);
    return n;
}

static sb_status read_one(sb_harness *h, sb_result *res)
{
    sb_version_info v = SB_TEST_VERSION_INFO;
    sb_bundle *b = NULL;
    sb_status st = gc_read(h, "s", NULL, &b, &v, res);
    es_host(h)->bundle_free(b);
    return st;
}

Test(gcpsm_auth, service_account_token_is_fetched_once_and_reused)
{
    gc_emulator_start(NULL);
    gc_seed("s", NULL, "[{\"data\":\"v\"}]");
    sb_harness *h = gc_open_sa(NULL);
    SB_TEST_RESULT res = SB_RESULT_INIT;
    for (int i = 0; i < 3; i++)
        cr_assert_eq(read_one(h, &res), SB_OK, "%s", res.message);
    cr_assert_eq(token_calls(), 1, "the token is cached between calls");
    char *log = gc_requests();
    cr_assert_eq(es_count(log, "\"auth\": \"jwt-bearer\""), 3, "%s", log);
    cr_assert_null(strstr(log, "ya29."), "no token in the emulator's log");
    free(log);
    close_checked(h);
}

Test(gcpsm_auth, a_refused_token_is_replaced_once)
{
    gc_emulator_start(NULL);
    gc_seed("s", NULL, "[{\"data\":\"v\"}]");
    sb_harness *h = gc_open_sa(NULL);
    SB_TEST_RESULT res = SB_RESULT_INIT;
    cr_assert_eq(read_one(h, &res), SB_OK, "%s", res.message);
    es_admin_ok("POST", "expire-tokens", "{}");
    cr_assert_eq(read_one(h, &res), SB_OK, "%s", res.message);
    cr_assert_eq(token_calls(), 2);
    char *log = gc_requests();
    cr_assert_eq(es_count(log, "\"status\": 401"), 1, "one 401, then the fresh token: %s", log);
    free(log);
    close_checked(h);
}

Test(gcpsm_auth, token_is_refreshed_before_it_expires)
{
    const char *args[] = {"--token-lifetime", "1", NULL};
    gc_emulator_start(args);
    gc_seed("s", NULL, "[{\"data\":\"v\"}]");
    sb_harness *h = gc_open_sa(NULL);
    SB_TEST_RESULT res = SB_RESULT_INIT;
    cr_assert_eq(read_one(h, &res), SB_OK, "%s", res.message);
    cr_assert_eq(token_calls(), 1);
    /* a 1 s token is refreshed after half its life, before the API sees it expired */
    struct timespec t0, now;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    int calls = 1;
    do {
        cr_assert_eq(read_one(h, &res), SB_OK, "%s", res.message);
        calls = token_calls();
        clock_gettime(CLOCK_MONOTONIC, &now);
    } while (calls < 2 && now.tv_sec - t0.tv_sec < 5);
    cr_assert_geq(calls, 2, "the token was never refreshed");
    char *log = gc_requests();
    cr_assert_eq(es_count(log, "\"status\": 401"), 0, "refreshed before expiry: %s", log);
    free(log);
    close_checked(h);
}

Test(gcpsm_auth, a_failed_early_refresh_keeps_the_current_token)
{
    const char *args[] = {"--token-lifetime", "24", NULL};
    gc_emulator_start(args);
    gc_seed("s", NULL, "[{\"data\":\"v\"}]");
    sb_harness *h = gc_open_sa(NULL);
    SB_TEST_RESULT res = SB_RESULT_INIT;
    cr_assert_eq(read_one(h, &res), SB_OK, "%s", res.message);
    /* a 24 s token is refreshed after 12 s; at that point the token endpoint fails once */
    es_admin_ok("POST", "faults", "{\"target\":\"token\",\"status\":503,\"code\":\"UNAVAILABLE\"}");
    struct timespec t0, now;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    do { /* time has to pass: the refresh point is 12 s after the token was issued */
        struct timespec pause = {0, 200 * 1000 * 1000};
        nanosleep(&pause, NULL);
        clock_gettime(CLOCK_MONOTONIC, &now);
    } while (now.tv_sec - t0.tv_sec < 13);
    cr_assert_eq(read_one(h, &res), SB_OK, "the still-valid token is used: %s", res.message);
    char *log = gc_requests();
    cr_assert_eq(es_count(log, "\"op\": \"token\", \"path\": \"/token\", \"status\": 503"), 1,
                 "the refresh was tried: %s", log);
    free(log);
    cr_assert_eq(read_one(h, &res), SB_OK, "%s", res.message);
    cr_assert_eq(token_calls(), 2, "the refresh is tried again on the next call");
    close_checked(h);
}

Test(gcpsm_auth, a_key_the_emulator_no_longer_trusts_is_denied)
{
    gc_emulator_start(NULL);
    gc_seed("s", NULL, "[{\"data\":\"v\"}]");
    sb_harness *h = gc_open_sa(NULL);
    /* rotated: the emulator now verifies with a new key; the file keeps the old one */
    char *other = NULL;
    cr_assert_eq(es_admin("POST", "service-account-keys", "{\"client_email\":\"" GC_EMAIL "\"}",
                          &other),
                 200);
    free(other);
    SB_TEST_RESULT res = SB_RESULT_INIT;
    cr_assert_eq(read_one(h, &res), SB_E_DENIED, "%s", res.message);
    cr_assert_not_null(strstr(res.message, "invalid_grant: Invalid JWT Signature."), "%s",
                       res.message);
    cr_assert_null(strstr(res.message, "PRIVATE"), "no key material in the message");
    close_checked(h);
}

Test(gcpsm_auth, unusable_key_files_and_a_down_token_endpoint)
{
    gc_emulator_start(NULL);
    gc_seed("s", NULL, "[{\"data\":\"v\"}]");
    SB_TEST_RESULT res = SB_RESULT_INIT;
    char *bad = es_temp_file("not-a-key.json", "{\"type\":\"authorized_user\"}");
    char rest[1024];
    snprintf(rest, sizeof rest, "credentials: service_account\nservice_account_key_file: %s\n",
             bad);
    sb_harness *h = gc_open(rest);
    cr_assert_eq(read_one(h, &res), SB_E_CONFIG, "%s", res.message);
    cr_assert_not_null(strstr(res.message, "is not a service-account key"), "%s", res.message);
    sb_harness_close(h);
    free(bad);

    h = gc_open_sa(NULL);
    es_admin_ok("POST", "faults", "{\"target\":\"token\",\"status\":503,\"code\":\"UNAVAILABLE\"}");
    cr_assert_eq(read_one(h, &res), SB_E_UNAVAILABLE, "%s", res.message);
    cr_assert_eq(read_one(h, &res), SB_OK, "%s", res.message);
    close_checked(h);
}

Test(gcpsm_auth, metadata_server_tokens)
{
    gc_emulator_start(NULL);
    gc_seed("s", NULL, "[{\"data\":\"v\"}]");
    char rest[256];
    snprintf(rest, sizeof rest, "credentials: metadata\nmetadata_endpoint: http://127.0.0.1:%d\n",
             es_port());
    sb_harness *h = gc_open(rest);
    SB_TEST_RESULT res = SB_RESULT_INIT;
    cr_assert_eq(read_one(h, &res), SB_OK, "%s", res.message);
    cr_assert_eq(read_one(h, &res), SB_OK, "%s", res.message);
    char *log = gc_requests();
    cr_assert_eq(es_count(log, "\"op\": \"metadata\""), 1, "fetched once: %s", log);
    cr_assert_eq(es_count(log, "\"auth\": \"metadata\""), 2, "%s", log);
    free(log);
    close_checked(h);
}

#define WIF_AUDIENCE "//iam.googleapis.com/projects/1/locations/global/workloadIdentityPools/p/providers/k8s"

/* Writes an external_account file whose subject token comes from `token_file`. */
static sb_harness *open_external(const char *token_file, const char *format_json,
                                 int impersonate)
{
    char json[2048], rest[1024], imp[256] = "";
    if (impersonate)
        snprintf(imp, sizeof imp,
                 ",\"service_account_impersonation_url\":\"http://127.0.0.1:%d/v1/projects/-/"
                 "serviceAccounts/" GC_EMAIL ":generateAccessToken\"",
                 es_port());
    snprintf(json, sizeof json,
             "{\"type\":\"external_account\",\"audience\":\"" WIF_AUDIENCE "\","
             "\"subject_token_type\":\"urn:ietf:params:oauth:token-type:jwt\","
             "\"token_url\":\"http://127.0.0.1:%d/v1/token\",\"credential_source\":{\"file\":"
             "\"%s\"%s}%s}",
             es_port(), token_file, format_json ? format_json : "", imp);
    char *path = es_temp_file("external-account.json", json);
    snprintf(rest, sizeof rest, "credentials: external_account\nexternal_account_file: %s\n", path);
    free(path);
    return gc_open(rest);
}

Test(gcpsm_auth, workload_identity_federation)
{
    gc_emulator_start(NULL);
    gc_seed("s", NULL, "[{\"data\":\"v\"}]");
    free(gc_key_file(GC_EMAIL)); /* the service account to impersonate exists */
    es_admin_ok("POST", "workload-identity",
                "{\"audience\":\"" WIF_AUDIENCE "\",\"subject_token\":\"k8s.oidc+token/1\"}");
    char *tok = es_temp_file("subject-token", "k8s.oidc+token/1\n");
    SB_TEST_RESULT res = SB_RESULT_INIT;

    /* the federated token itself */
    sb_harness *h = open_external(tok, NULL, 0);
    cr_assert_eq(read_one(h, &res), SB_OK, "%s", res.message);
    cr_assert_eq(read_one(h, &res), SB_OK, "%s", res.message);
    sb_harness_close(h);
    char *log = gc_requests();
    cr_assert_eq(es_count(log, "\"op\": \"sts\""), 1, "exchanged once: %s", log);
    cr_assert_eq(es_count(log, "\"auth\": \"sts\""), 2, "%s", log);
    cr_assert_null(strstr(log, "oidc"), "no subject token in the log");
    free(log);

    /* impersonating a service account with it, subject token in a JSON member */
    char *json_tok = es_temp_file("subject-token.json", "{\"id_token\":\"k8s.oidc+token/1\"}");
    h = open_external(json_tok, ",\"format\":{\"type\":\"json\",\"subject_token_field_name\":\"id_token\"}", 1);
    cr_assert_eq(read_one(h, &res), SB_OK, "%s", res.message);
    sb_harness_close(h);
    log = gc_requests();
    cr_assert_eq(es_count(log, "\"op\": \"generateAccessToken\""), 1, "%s", log);
    cr_assert_eq(es_count(log, "\"auth\": \"impersonated\""), 1, "%s", log);
    free(log);

    /* a subject token the pool does not accept */
    char *forged = es_temp_file("forged-token", "forged");
    h = open_external(forged, NULL, 0);
    cr_assert_eq(read_one(h, &res), SB_E_DENIED, "%s", res.message);
    cr_assert_not_null(strstr(res.message, "invalid_grant"), "%s", res.message);
    cr_assert_null(strstr(res.message, "forged"), "no subject token in the message");
    close_checked(h);
    free(tok);
    free(json_tok);
    free(forged);
}
