/*
 * tests/plugins/azurekv/test_azurekv_auth.c — the azurekv credential kinds
 * against the emulator's Entra ID token endpoint and IMDS: a refused client
 * secret, managed identity (system- and user-assigned), workload identity
 * with the federated token file read afresh, and the RS256 certificate
 * assertion (signed by plugins/shared/jwt_rs256, verified by the emulator
 * with python3-cryptography against the registered certificate), including
 * a key that does not belong to the certificate.
 */
#include "abi_outputs.h"
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "azurekv_test_support.h"

static long live_before;
static void setup(void)
{
    kv_emulator_start();
    free(kv_seed("app-db", "\"x\"", NULL));
    live_before = sb_harness_live_secure_allocations();
}
static void teardown(void) { es_emulator_stop(); }

TestSuite(azurekv_auth, .init = setup, .fini = teardown, .timeout = 120);

static void close_checked(sb_harness *h)
{
    sb_harness_close(h);
    cr_assert_eq(sb_harness_live_secure_allocations(), live_before, "secure memory leaked");
}

/* The plugin with auth: client_certificate and the two files. */
static sb_harness *open_certificate(const char *cert_file, const char *key_file)
{
    char yaml[2048];
    snprintf(yaml, sizeof yaml,
             "auth: client_certificate\nclient_id: app-c\ncertificate_file: %s\n"
             "private_key_file: %s\n",
             cert_file, key_file);
    return kv_open(yaml);
}

/* How many token requests the emulator saw that contain `needle`. */
static size_t token_requests_with(const char *needle)
{
    char *tokens = kv_token_requests();
    size_t n = es_count(tokens, needle);
    free(tokens);
    return n;
}

static sb_status read_once(sb_harness *h, sb_result *res)
{
    sb_version_info v = SB_TEST_VERSION_INFO;
    sb_bundle *b = NULL;
    sb_status st = kv_read(h, "app-db", NULL, &b, &v, res);
    es_host(h)->bundle_free(b);
    return st;
}

Test(azurekv_auth, wrong_client_secret_is_denied_without_echo)
{
    sb_harness *h = kv_open("auth: client_secret\nclient_id: " KV_CLIENT
                            "\nclient_secret: not-the-secret-xyz\n");
    SB_TEST_RESULT res = SB_RESULT_INIT;
    cr_assert_eq(read_once(h, &res), SB_E_DENIED);
    cr_assert(strstr(res.message, "AADSTS7000215") != NULL, "%s", res.message);
    cr_assert(strstr(res.message, "not-the-secret-xyz") == NULL, "%s", res.message);
    close_checked(h);
}

Test(azurekv_auth, managed_identity_through_imds)
{
    es_admin_ok("POST", "managed-identity", "{\"client_id\":\"mi-1\"}");
    char yaml[512];
    snprintf(yaml, sizeof yaml, "auth: managed_identity\nimds_endpoint: http://127.0.0.1:%d\n",
             es_port());
    sb_harness *h = kv_open(yaml);
    SB_TEST_RESULT res = SB_RESULT_INIT;
    cr_assert_eq(read_once(h, &res), SB_OK, "%s", res.message);
    cr_assert_eq(token_requests_with("\"scope\": \"https://vault.azure.net\", \"method\": \"imds\""), 1);
    close_checked(h);

    /* a user-assigned identity this machine does not have */
    snprintf(yaml, sizeof yaml,
             "auth: managed_identity\nclient_id: mi-2\nimds_endpoint: http://127.0.0.1:%d\n",
             es_port());
    h = kv_open(yaml);
    cr_assert_eq(read_once(h, &res), SB_E_CONFIG);
    cr_assert(strstr(res.message, "Identity not found") != NULL, "%s", res.message);
    close_checked(h);
}

Test(azurekv_auth, workload_identity_reads_the_token_file_afresh)
{
    es_admin_ok("POST", "apps", "{\"client_id\":\"app-w\",\"federated_token\":\"fed-token-1\"}");
    char *file = es_temp_file("federated-token", "fed-token-1\n");
    char yaml[1024];
    snprintf(yaml, sizeof yaml,
             "auth: workload_identity\nclient_id: app-w\nfederated_token_file: %s\n", file);
    sb_harness *h = kv_open(yaml);
    SB_TEST_RESULT res = SB_RESULT_INIT;
    cr_assert_eq(read_once(h, &res), SB_OK, "%s", res.message);
    /* the kubelet rotates the file; the next token uses the new content */
    free(es_temp_file("federated-token", "fed-token-2\n"));
    es_admin_ok("POST", "expire-tokens", "{}");
    cr_assert_eq(read_once(h, &res), SB_E_DENIED, "the old token was reused");
    es_admin_ok("POST", "apps", "{\"client_id\":\"app-w\",\"federated_token\":\"fed-token-2\"}");
    cr_assert_eq(read_once(h, &res), SB_OK, "%s", res.message);
    cr_assert_eq(token_requests_with("\"method\": \"assertion\""), 3);
    free(file);
    close_checked(h);
}

static char *make_cert(const char *dir_name, const char *client, int register_it)
{
    char *marker = es_temp_file(dir_name, "");
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "rm -f '%s' && mkdir -p '%s' && python3 '%s/tests/plugins/azurekv/make_app_cert.py' '%s' %d %s %s",
             marker, marker, SB_SOURCE_DIR, marker, es_port(), client,
             register_it ? "" : "--no-register");
    cr_assert_eq(system(cmd), 0, "%s", cmd);
    return marker;
}

Test(azurekv_auth, certificate_assertion_rs256)
{
    char *dir = make_cert("app-c", "app-c", 1), *other = make_cert("other", "app-c", 0);
    char cert[600], key[600], other_key[600];
    snprintf(cert, sizeof cert, "%s/cert.pem", dir);
    snprintf(key, sizeof key, "%s/key.pem", dir);
    snprintf(other_key, sizeof other_key, "%s/key.pem", other);
    sb_harness *h = open_certificate(cert, key);
    SB_TEST_RESULT res = SB_RESULT_INIT;
    cr_assert_eq(read_once(h, &res), SB_OK, "%s", res.message);
    es_admin_ok("POST", "expire-tokens", "{}");
    cr_assert_eq(read_once(h, &res), SB_OK, "a second assertion (new jti): %s", res.message);
    cr_assert_eq(token_requests_with("\"method\": \"assertion\""), 2);
    close_checked(h);

    /* the registered certificate with another key: the signature fails */
    h = open_certificate(cert, other_key);
    cr_assert_eq(read_once(h, &res), SB_E_DENIED);
    cr_assert(strstr(res.message, "AADSTS700027") != NULL, "%s", res.message);
    close_checked(h);

    /* a key file that is not a key */
    char *junk = es_temp_file("junk.pem", "not a key\n");
    h = open_certificate(cert, junk);
    cr_assert_eq(read_once(h, &res), SB_E_CONFIG);
    close_checked(h);
    free(junk);
    free(other);
    free(dir);
}
