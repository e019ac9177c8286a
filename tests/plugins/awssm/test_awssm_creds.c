/*
 * tests/plugins/awssm/test_awssm_creds.c — where the awssm plugin's
 * credentials come from, against the AWS emulator (STS and IMDSv2
 * emulated, every request's SigV4 verified): environment, a shared
 * credentials file profile, web identity (cached; refreshed when it would
 * expire within five minutes), the container credentials endpoint, IMDSv2, role_arn on top (AssumeRole), a
 * missing source; and the KMS capability (key id, wrap/unwrap round trip,
 * a key id of another region refused).
 */
#include "abi_outputs.h"
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "awssm_test_support.h"

#define ROLE "arn:aws:iam::123456789012:role/sbridge"

static void clear_env(void)
{
    const char *vars[] = {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
                          "AWS_PROFILE", "AWS_ROLE_ARN", "AWS_WEB_IDENTITY_TOKEN_FILE",
                          "AWS_SHARED_CREDENTIALS_FILE", "AWS_CONFIG_FILE",
                          "AWS_CONTAINER_CREDENTIALS_FULL_URI",
                          "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
                          "AWS_CONTAINER_AUTHORIZATION_TOKEN",
                          "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"};
    for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++)
        unsetenv(vars[i]);
    setenv("HOME", "/nonexistent", 1);
}

static void setup(void)
{
    clear_env();
    aw_emulator_start(NULL);
    free(aw_seed("s", "\"string\":\"v\"", NULL));
}
static void teardown(void) { es_emulator_stop(); }

TestSuite(awssm_creds, .init = setup, .fini = teardown, .timeout = 120);

static sb_status read_s(sb_harness *h, sb_result *res)
{
    sb_bundle *b = NULL;
    sb_version_info v = SB_TEST_VERSION_INFO;
    sb_status st = aw_read(h, "s", NULL, &b, &v, res);
    es_host(h)->bundle_free(b);
    return st;
}

static size_t count_in_log(const char *what)
{
    char *log = aw_requests();
    size_t n = es_count(log, what);
    free(log);
    return n;
}

Test(awssm_creds, environment)
{
    setenv("AWS_ACCESS_KEY_ID", AW_AKID, 1);
    setenv("AWS_SECRET_ACCESS_KEY", AW_SECRET, 1);
    sb_harness *h = aw_open("credentials: env\n");
    SB_TEST_RESULT res = SB_RESULT_INIT;
    cr_assert_eq(read_s(h, &res), SB_OK, "%s", res.message);
    setenv("AWS_SECRET_ACCESS_KEY", "changed-but-cached", 1);
    cr_assert_eq(read_s(h, &res), SB_OK, "long-term credentials are cached: %s", res.message);
    sb_harness_close(h);
}

Test(awssm_creds, shared_credentials_file_profile)
{
    es_admin_ok("POST", "credentials",
                "{\"access_key_id\":\"AKIDPROFILE\",\"secret_access_key\":\"prof-secret\"}");
    char *file = es_temp_file("credentials", "[default]\naws_access_key_id = AKIDWRONG\n"
                                             "aws_secret_access_key = nope\n\n"
                                             "[team]\n aws_access_key_id = AKIDPROFILE\n"
                                             "aws_secret_access_key=prof-secret \n");
    char yaml[512];
    snprintf(yaml, sizeof yaml, "credentials: profile\nprofile: team\nshared_credentials_file: %s\n",
             file);
    sb_harness *h = aw_open(yaml);
    SB_TEST_RESULT res = SB_RESULT_INIT;
    cr_assert_eq(read_s(h, &res), SB_OK, "%s", res.message);
    sb_harness_close(h);
    /* the chain finds the default profile through AWS_SHARED_CREDENTIALS_FILE */
    setenv("AWS_SHARED_CREDENTIALS_FILE", file, 1);
    h = aw_open("");
    cr_assert_eq(read_s(h, &res), SB_E_DENIED, "the default profile's unknown key must be refused");
    cr_assert_not_null(strstr(res.message, "UnrecognizedClientException"), "%s", res.message);
    sb_harness_close(h);
    free(file);
}

Test(awssm_creds, web_identity_cached_then_refreshed)
{
    es_admin_ok("POST", "roles", "{\"role_arn\":\"" ROLE "\",\"web_identity_token\":\"jwt-abc\"}");
    char *tok = es_temp_file("token", "jwt-abc\n");
    setenv("AWS_ROLE_ARN", ROLE, 1);
    setenv("AWS_WEB_IDENTITY_TOKEN_FILE", tok, 1);
    sb_harness *h = aw_open(""); /* the chain */
    SB_TEST_RESULT res = SB_RESULT_INIT;
    cr_assert_eq(read_s(h, &res), SB_OK, "%s", res.message);
    cr_assert_eq(read_s(h, &res), SB_OK, "%s", res.message);
    cr_assert_eq(count_in_log("\"STS\""), 1, "credentials valid for an hour are cached");
    char *log = aw_requests();
    cr_assert_not_null(strstr(log, "\"session_token\": true"), "temporary credentials sign");
    free(log);
    sb_harness_close(h);

    h = aw_open("credentials: web_identity\n");
    es_admin_ok("POST", "reset", "{}");
    es_admin_ok("POST", "roles", "{\"role_arn\":\"" ROLE "\",\"web_identity_token\":\"other\"}");
    free(aw_seed("s", "\"string\":\"v\"", NULL));
    cr_assert_eq(read_s(h, &res), SB_E_DENIED, "a token STS refuses: %s", res.message);
    cr_assert_not_null(strstr(res.message, "InvalidIdentityToken"), "%s", res.message);
    cr_assert_null(strstr(res.message, "jwt-abc"), "the token reached a message");
    sb_harness_close(h);
    free(tok);
}

Test(awssm_creds, short_lived_credentials_refresh_before_expiry)
{
    es_emulator_stop();
    const char *args[] = {"--sts-duration", "200", NULL}; /* < the 5-minute margin */
    aw_emulator_start(args);
    free(aw_seed("s", "\"string\":\"v\"", NULL));
    es_admin_ok("POST", "roles", "{\"role_arn\":\"" ROLE "\",\"web_identity_token\":\"jwt\"}");
    char *tok = es_temp_file("token", "jwt");
    char yaml[512];
    snprintf(yaml, sizeof yaml,
             "credentials: web_identity\nweb_identity_role_arn: " ROLE
             "\nweb_identity_token_file: %s\n",
             tok);
    sb_harness *h = aw_open(yaml);
    SB_TEST_RESULT res = SB_RESULT_INIT;
    cr_assert_eq(read_s(h, &res), SB_OK, "%s", res.message);
    cr_assert_eq(read_s(h, &res), SB_OK, "%s", res.message);
    cr_assert_eq(count_in_log("\"STS\""), 2, "credentials expiring within 5 minutes are renewed");
    sb_harness_close(h);
    free(tok);
}

Test(awssm_creds, imdsv2_and_assume_role)
{
    es_admin_ok("POST", "imds", "{\"role\":\"node\"}");
    sb_harness *h = aw_open("credentials: imds\n");
    SB_TEST_RESULT res = SB_RESULT_INIT;
    cr_assert_eq(read_s(h, &res), SB_OK, "%s", res.message);
    cr_assert_eq(count_in_log("/latest/api/token"), 1);
    sb_harness_close(h);

    es_admin_ok("POST", "roles", "{\"role_arn\":\"" ROLE "\"}");
    h = aw_open(AW_STATIC "role_arn: " ROLE "\n");
    cr_assert_eq(read_s(h, &res), SB_OK, "%s", res.message);
    char *stats = NULL;
    cr_assert_eq(es_admin("GET", "stats", NULL, &stats), 200);
    cr_assert_not_null(strstr(stats, "AssumeRole"), "%s", stats);
    free(stats);
    sb_harness_close(h);

    h = aw_open(AW_STATIC "role_arn: arn:aws:iam::123456789012:role/unknown\n");
    cr_assert_eq(read_s(h, &res), SB_E_DENIED, "%s", res.message);
    cr_assert_not_null(strstr(res.message, "AccessDenied"), "%s", res.message);
    sb_harness_close(h);
}

Test(awssm_creds, container_credentials_endpoint)
{
    es_admin_ok("POST", "container", "{\"path\":\"/v2/credentials/task\",\"token\":\"auth-tok\"}");
    char uri[128];
    snprintf(uri, sizeof uri, "http://127.0.0.1:%d/v2/credentials/task", es_port());
    setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", uri, 1);
    char *tokfile = es_temp_file("auth", "auth-tok\n");
    setenv("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", tokfile, 1);
    sb_harness *h = aw_open(""); /* the chain reaches the container endpoint */
    SB_TEST_RESULT res = SB_RESULT_INIT;
    cr_assert_eq(read_s(h, &res), SB_OK, "%s", res.message);
    cr_assert_eq(count_in_log("\"CONTAINER\""), 1);
    sb_harness_close(h);
    unsetenv("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE");
    setenv("AWS_CONTAINER_AUTHORIZATION_TOKEN", "wrong", 1);
    h = aw_open("credentials: container\n");
    cr_assert_eq(read_s(h, &res), SB_E_DENIED, "%s", res.message);
    sb_harness_close(h);
    setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://10.0.0.1/creds", 1);
    h = aw_open("credentials: container\n");
    cr_assert_eq(read_s(h, &res), SB_E_CONFIG, "%s", res.message);
    sb_harness_close(h);
    free(tokfile);
}

Test(awssm_creds, no_source_is_a_config_error)
{
    sb_harness *h = aw_open("credentials: env\n");
    SB_TEST_RESULT res = SB_RESULT_INIT;
    cr_assert_eq(read_s(h, &res), SB_E_CONFIG, "%s", res.message);
    sb_harness_close(h);
}

Test(awssm_creds, kms_wrap_unwrap)
{
    char *arn_body = NULL;
    cr_assert_eq(es_admin("POST", "kms-keys", "{\"key_id\":\"k1\"}", &arn_body), 200);
    char *a = strstr(arn_body, "arn:aws:kms");
    cr_assert_not_null(a);
    char arn[128];
    snprintf(arn, sizeof arn, "%.*s", (int)strcspn(a, "\""), a);
    free(arn_body);
    char yaml[512];
    snprintf(yaml, sizeof yaml, AW_STATIC "kms_key_arn: %s\n", arn);
    sb_harness *h = aw_open(yaml);
    const sb_host_api *host = es_host(h);
    const sb_kms_ops *kms = es_kms(h);
    void *inst = sb_harness_instance(h);
    SB_TEST_RESULT res = SB_RESULT_INIT;
    sb_text *kid = sb_test_text(), *used = sb_test_text();
    cr_assert_eq(kms->key_id(inst, sb_harness_call(h, 10000), kid, &res), SB_OK, "%s", res.message);
    char want[200];
    snprintf(want, sizeof want, "aws-kms:us-east-1:%s", arn);
    cr_assert_str_eq(host->text_str(kid, NULL), want);
    sb_secure_buf *pt = host->secure_new(32), *ct = host->secure_new(256), *back = host->secure_new(32);
    host->secure_append(pt, "read-key-private-half", 21);
    cr_assert_eq(kms->wrap(inst, sb_harness_call(h, 10000), pt, ct, used, &res), SB_OK, "%s", res.message);
    cr_assert_str_eq(host->text_str(used, NULL), want);
    size_t clen = 0;
    const unsigned char *c = host->secure_data(ct, &clen);
    cr_assert_gt(clen, 21);
    cr_assert_null(memmem(c, clen, "read-key", 8), "the ciphertext holds the plaintext");
    cr_assert_eq(kms->unwrap(inst, sb_harness_call(h, 10000), c, clen, want, back, &res), SB_OK,
                 "%s", res.message);
    size_t blen = 0;
    const unsigned char *bd = host->secure_data(back, &blen);
    cr_assert(blen == 21 && memcmp(bd, "read-key-private-half", 21) == 0);
    char other[220];
    snprintf(other, sizeof other, "aws-kms:eu-west-1:%s", arn);
    cr_assert_eq(kms->unwrap(inst, sb_harness_call(h, 10000), c, clen, other, back, &res),
                 SB_E_INVALID);
    unsigned char bad[512];
    memcpy(bad, c, clen);
    bad[clen - 5] ^= 1;
    host->secure_clear(back);
    cr_assert_eq(kms->unwrap(inst, sb_harness_call(h, 10000), bad, clen, want, back, &res),
                 SB_E_INVALID, "%s", res.message);
    host->secure_free(pt);
    host->secure_free(ct);
    host->secure_free(back);
    sb_harness_close(h);
}
