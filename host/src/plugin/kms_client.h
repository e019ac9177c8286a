/*
 * plugin/kms_client.h — how the control plane calls a KMS plugin instance.
 *
 * Contract: each function calls the instance's kms vtable once, with a
 * fresh call context whose deadline is SB_KMS_CLIENT_TIMEOUT_MS away,
 * holding the instance lock around the call when the plugin declared
 * SB_THREAD_SERIAL. Plaintext goes in and comes out only through secure
 * memory: wrap copies the caller's bytes into a secure buffer before the
 * plugin sees them, unwrap hands back a secure buffer the caller frees with
 * sb_secure_free. Ciphertext and key ids are not secret and come back
 * malloc'd (the caller frees them).
 *
 * On failure the functions return -1, leave every out-parameter NULL/0 and
 * fill err: code is the plugin's sb_status (SB_E_INVALID for a bad argument
 * or an instance that is not a KMS), and the message names the instance,
 * the plugin, the operation, the status (and whether it is retryable) and
 * the plugin's own redacted explanation. No message ever holds plaintext.
 */
#ifndef SB_PLUGIN_KMS_CLIENT_H
#define SB_PLUGIN_KMS_CLIENT_H

#include <sbridge/plugin.h>
#include <stddef.h>

#include "crypto/kms.h"
#include "plugin/registry.h"
#include "util/error.h"

#define SB_KMS_CLIENT_TIMEOUT_MS 15000

/* The key id new wraps will use; *key_id is malloc'd. */
int sb_kms_client_key_id(sb_instance *inst, char **key_id, sb_error *err);

/* Wraps `len` plaintext bytes. *ciphertext (malloc'd, *ciphertext_len
 * bytes) and *key_id (malloc'd string) belong to the caller. */
int sb_kms_client_wrap(sb_instance *inst, const unsigned char *plaintext, size_t len,
                       unsigned char **ciphertext, size_t *ciphertext_len, char **key_id,
                       sb_error *err);

/* Unwraps a ciphertext produced by wrap under `key_id`; *plaintext is a new
 * secure buffer the caller releases with sb_secure_free. */
int sb_kms_client_unwrap(sb_instance *inst, const unsigned char *ciphertext, size_t len,
                         const char *key_id, sb_secure_buf **plaintext, sb_error *err);

/* The instance as the control plane's KMS interface (crypto/kms.h;
 * plugin/kms_adapter.c); NULL unless it is a KMS instance. The instance
 * must outlive it. */
sb_kms *sb_kms_plugin_open(sb_instance *inst);

#endif
