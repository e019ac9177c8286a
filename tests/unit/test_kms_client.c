/* test_kms_client.c — the control plane's KMS call layer (plugin/
 * kms_client.c) against the example plugin's demonstration KMS: a round
 * trip, a wrong key id and a tampered ciphertext refused with messages that
 * name the status and never the plaintext, argument checks, and the
 * instance lock honoured for SB_THREAD_SERIAL. */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "config/diag.h"
#include "config/yaml_doc.h"
#include "crypto/secure_mem.h"
#include "plugin/host_api.h"
#include "plugin/instance_config.h"
#include "plugin/kms_client.h"
#include "plugin/loader.h"

static sb_plugin_slot slot;
static sb_instance inst;

static void setup(void)
{
    cr_assert_eq(sb_crypto_init(), 0);
    sb_error err;
    cr_assert_eq(sb_plugin_load_file(SB_PLUGIN_OUT_DIR, "example.so", NULL, NULL, &slot.loaded, &err), 0,
                 "%s", err.message);
    const sb_plugin *d = slot.loaded.desc;
    sb_diags diags;
    sb_diags_init(&diags, "test");
    sb_ynode *tree = sb_yaml_load_buffer("seed_demo: false\n", 17, &diags);
    memset(&inst, 0, sizeof inst);
    cr_assert_eq(sb_instance_config_build(d, "vault-kms", tree, "kms.config", &diags, &inst.config), 0);
    sb_yaml_free(tree);
    sb_diags_free(&diags);
    sb_result res = SB_RESULT_INIT;
    cr_assert_eq(d->init(sb_host_api_table(), &res), SB_OK);
    cr_assert_eq(d->instance_new(inst.config, &inst.handle, &res), SB_OK);
    slot.initialized = 1;
    inst.name = "dev-kms";
    inst.kind = "kms";
    inst.capability = SB_CAP_KMS;
    inst.plugin = &slot;
    pthread_mutex_init(&inst.lock, NULL);
}

static void teardown(void)
{
    slot.loaded.desc->instance_free(inst.handle);
    slot.loaded.desc->fini();
    sb_instance_config_free(inst.config);
    pthread_mutex_destroy(&inst.lock);
    sb_plugin_unload(&slot.loaded);
}
TestSuite(kms_client, .init = setup, .fini = teardown);

static const char plaintext[] = "kms-client-plaintext-0123456789ab";

Test(kms_client, key_id_wrap_and_unwrap_round_trip)
{
    sb_error err;
    char *key_id = NULL;
    cr_assert_eq(sb_kms_client_key_id(&inst, &key_id, &err), 0, "%s", err.message);
    cr_assert_str_eq(key_id, "example:pad-v1");
    free(key_id);

    unsigned char *ct = NULL;
    size_t ct_len = 0;
    cr_assert_eq(sb_kms_client_wrap(&inst, (const unsigned char *)plaintext, strlen(plaintext), &ct,
                                    &ct_len, &key_id, &err),
                 0, "%s", err.message);
    cr_assert_str_eq(key_id, "example:pad-v1");
    cr_assert_eq(ct_len, strlen(plaintext) + 1, "the demo KMS appends a checksum byte");
    cr_assert_neq(memcmp(ct, plaintext, strlen(plaintext)), 0, "the ciphertext is not the plaintext");

    sb_secure_buf *back = NULL;
    cr_assert_eq(sb_kms_client_unwrap(&inst, ct, ct_len, key_id, &back, &err), 0, "%s", err.message);
    cr_assert_not_null(back);
    cr_assert_eq(back->len, strlen(plaintext));
    cr_assert_eq(memcmp(back->data, plaintext, back->len), 0);
    sb_secure_free(back);
    free(ct);
    free(key_id);
}

Test(kms_client, a_wrong_key_id_is_refused)
{
    sb_error err;
    unsigned char *ct = NULL;
    size_t ct_len = 0;
    char *key_id = NULL;
    cr_assert_eq(sb_kms_client_wrap(&inst, (const unsigned char *)plaintext, strlen(plaintext), &ct, &ct_len,
                                    &key_id, &err),
                 0, "%s", err.message);
    sb_secure_buf *back = (sb_secure_buf *)&err; /* must be reset to NULL */
    cr_assert_eq(sb_kms_client_unwrap(&inst, ct, ct_len, "example:pad-v2", &back, &err), -1);
    cr_assert_null(back, "the out-parameter is left NULL on failure");
    cr_assert_eq(err.code, SB_E_INVALID);
    cr_assert_not_null(strstr(err.message, "kms dev-kms (plugin example): unwrap failed with SB_E_INVALID "
                                           "(permanent): example: unknown key id"),
                       "%s", err.message);
    cr_assert_null(strstr(err.message, plaintext));
    free(ct);
    free(key_id);
}

Test(kms_client, a_tampered_ciphertext_is_refused)
{
    sb_error err;
    unsigned char *ct = NULL;
    size_t ct_len = 0;
    char *key_id = NULL;
    cr_assert_eq(sb_kms_client_wrap(&inst, (const unsigned char *)plaintext, strlen(plaintext), &ct, &ct_len,
                                    &key_id, &err),
                 0, "%s", err.message);
    ct[3] ^= 0x01;
    sb_secure_buf *back = NULL;
    long live = sb_secure_live_allocations();
    cr_assert_eq(sb_kms_client_unwrap(&inst, ct, ct_len, key_id, &back, &err), -1, "a tampered ciphertext unwrapped");
    cr_assert_null(back);
    cr_assert_eq(sb_secure_live_allocations(), live, "the refused plaintext buffer was freed");
    cr_assert_not_null(strstr(err.message, "unwrap failed with SB_E_INVALID (permanent): example: ciphertext "
                                           "does not verify"),
                       "%s", err.message);
    cr_assert_null(strstr(err.message, "kms-client-plaintext"), "the message holds no value: %s", err.message);
    free(ct);
    free(key_id);
}

Test(kms_client, arguments_and_non_kms_instances_are_refused)
{
    sb_error err;
    char *key_id = NULL;
    sb_secure_buf *back = NULL;
    cr_assert_eq(sb_kms_client_unwrap(&inst, (const unsigned char *)"x", 0, "example:pad-v1", &back, &err), -1);
    cr_assert_not_null(strstr(err.message, "a non-empty ciphertext"), "%s", err.message);
    sb_instance stopped = inst;
    stopped.handle = NULL;
    cr_assert_eq(sb_kms_client_key_id(&stopped, &key_id, &err), -1);
    cr_assert_not_null(strstr(err.message, "the KMS instance is not started"), "%s", err.message);
}

static void *try_key_id(void *arg)
{
    sb_error err;
    char *key_id = NULL;
    int rc = sb_kms_client_key_id(arg, &key_id, &err);
    free(key_id);
    return (void *)(long)rc;
}

Test(kms_client, serial_plugins_are_called_under_the_instance_lock)
{
    cr_assert_eq(slot.loaded.desc->thread_model, SB_THREAD_SERIAL);
    pthread_mutex_lock(&inst.lock); /* someone else is inside the plugin */
    pthread_t t;
    cr_assert_eq(pthread_create(&t, NULL, try_key_id, &inst), 0);
    struct timespec pause = {0, 50 * 1000 * 1000};
    nanosleep(&pause, NULL);
    void *rc = (void *)1;
    cr_assert_neq(pthread_tryjoin_np(t, &rc), 0, "the call ran although the instance lock was held");
    pthread_mutex_unlock(&inst.lock);
    cr_assert_eq(pthread_join(t, &rc), 0);
    cr_assert_eq((long)rc, 0, "the call completes once the lock is free");
}

/* The same instance as the control plane's KMS (crypto/kms.h): what the
 * read keys go through; a refusal keeps the client's message and becomes
 * SB_KMS_E_REFUSED (permanent) for the API's error registry. */
Test(kms_client, the_instance_serves_as_the_control_planes_kms)
{
    sb_kms *k = sb_kms_plugin_open(&inst);
    cr_assert_not_null(k);
    cr_assert_str_eq(k->name, "dev-kms");
    unsigned char *ct = NULL;
    size_t ct_len = 0;
    char *key_id = NULL;
    sb_error err = {0};
    cr_assert_eq(k->wrap(k, (const unsigned char *)plaintext, sizeof plaintext - 1, &ct, &ct_len,
                         &key_id, &err),
                 0, "%s", err.message);
    unsigned char *out = sb_secure_alloc(64);
    size_t n = 0;
    cr_assert_eq(k->unwrap(k, ct, ct_len, key_id, out, 64, &n, &err), 0, "%s", err.message);
    cr_assert_eq(n, sizeof plaintext - 1);
    cr_assert_eq(memcmp(out, plaintext, n), 0);
    cr_assert_eq(k->unwrap(k, ct, ct_len, key_id, out, 4, &n, &err), -1, "a too small buffer");
    cr_assert_eq(err.code, SB_KMS_E_REFUSED);
    cr_assert_eq(k->unwrap(k, ct, ct_len, "some-other-key", out, 64, &n, &err), -1);
    cr_assert_eq(err.code, SB_KMS_E_REFUSED, "a wrong key id is permanent");
    cr_assert_null(strstr(err.message, plaintext));
    cr_assert_null(sb_kms_plugin_open(NULL));
    sb_secure_release(out);
    free(ct);
    free(key_id);
    sb_kms_close(k);
}
