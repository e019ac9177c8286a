/*
 * plugin/kms_adapter.c — a KMS plugin instance as the control plane's KMS
 * (crypto/kms.h), through plugin/kms_client.h.
 *
 * Contract: sb_kms_plugin_open wraps a started instance with the KMS
 * capability; the instance (and its registry) must outlive the returned
 * sb_kms. A failure the plugin calls retryable (unavailable, throttled,
 * timeout, expired credentials) becomes SB_KMS_E_UNAVAILABLE; any other,
 * SB_KMS_E_REFUSED — both keep the client's message, which names the
 * instance, plugin, operation and status and never holds key material.
 */
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/secure_mem.h"
#include "plugin/kms_client.h"

static int translate(sb_error *err)
{
    err->code = SB_STATUS_IS_RETRYABLE(err->code) ? SB_KMS_E_UNAVAILABLE : SB_KMS_E_REFUSED;
    return -1;
}

static int plugin_wrap(const sb_kms *k, const unsigned char *pt, size_t len, unsigned char **ct,
                       size_t *ct_len, char **key_id, sb_error *err)
{
    if (sb_kms_client_wrap(k->ctx, pt, len, ct, ct_len, key_id, err) != 0)
        return translate(err);
    return 0;
}

static int plugin_unwrap(const sb_kms *k, const unsigned char *ct, size_t len, const char *key_id,
                         unsigned char *out, size_t cap, size_t *out_len, sb_error *err)
{
    sb_secure_buf *pt = NULL;
    if (sb_kms_client_unwrap(k->ctx, ct, len, key_id, &pt, err) != 0)
        return translate(err);
    size_t n;
    const unsigned char *data = sb_secure_data(pt, &n);
    int rc = 0;
    if (n > cap)
        rc = sb_error_set(err, SB_KMS_E_REFUSED,
                          "KMS %s: unwrap returned %zu bytes where at most %zu were expected",
                          k->name, n, cap);
    else {
        memcpy(out, data, n);
        *out_len = n;
    }
    sb_secure_free(pt);
    return rc;
}

static void plugin_close(sb_kms *k)
{
    free(k);
}

sb_kms *sb_kms_plugin_open(sb_instance *inst)
{
    if (inst == NULL || inst->capability != SB_CAP_KMS)
        return NULL;
    sb_kms *k = calloc(1, sizeof *k);
    if (k)
        *k = (sb_kms){inst->name, plugin_wrap, plugin_unwrap, plugin_close, inst};
    return k;
}
