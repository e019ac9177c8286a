/*
 * crypto/kms.h — the control plane's key-management interface (SPEC §10).
 *
 * Contract: a KMS wraps small secrets (the private halves of per-request
 * read keys) so the database holds them only encrypted under a key the
 * database never sees. wrap returns the ciphertext and the key id it used
 * (recorded beside every wrapped key, so keys can rotate); unwrap takes both
 * back and refuses a key id it does not hold. The plaintext of unwrap is
 * written into a caller-provided buffer, which must be secure memory
 * (crypto/secure_mem.h). Errors say what failed and never carry key
 * material. Backends: the built-in local one (crypto/local_kms.h; dev only)
 * and any plugin with the KMS capability (plugin/kms_client.h adapts one).
 * Implementations are thread-safe.
 */
#ifndef SB_CRYPTO_KMS_H
#define SB_CRYPTO_KMS_H

#include <stddef.h>

#include "util/error.h"

enum { SB_KMS_E_UNAVAILABLE = 1600, SB_KMS_E_REFUSED = 1601 };

typedef struct sb_kms sb_kms;

struct sb_kms {
    const char *name; /* for messages: "local", the plugin instance's name */
    /* *ciphertext (malloc) and *key_id (malloc) on success. */
    int (*wrap)(const sb_kms *k, const unsigned char *plaintext, size_t len,
                unsigned char **ciphertext, size_t *ciphertext_len, char **key_id, sb_error *err);
    /* Writes at most cap bytes of plaintext into out (secure memory). */
    int (*unwrap)(const sb_kms *k, const unsigned char *ciphertext, size_t len, const char *key_id,
                  unsigned char *out, size_t cap, size_t *out_len, sb_error *err);
    void (*close)(sb_kms *k);
    void *ctx;
};

/* Closes and frees a KMS; NULL ok. */
void sb_kms_close(sb_kms *k);

#endif
