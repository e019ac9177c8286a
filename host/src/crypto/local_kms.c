/* crypto/local_kms.c — see local_kms.h. */
#include "crypto/local_kms.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define KEY_ID_LEN (6 + 16) /* "local:" + 16 hex digits */

typedef struct local_kms {
    sb_kms kms;
    unsigned char *key; /* secure */
    char key_id[KEY_ID_LEN + 1];
} local_kms;

void sb_kms_close(sb_kms *k)
{
    if (k && k->close)
        k->close(k);
}

static int local_wrap(const sb_kms *k, const unsigned char *pt, size_t len, unsigned char **ct,
                      size_t *ct_len, char **key_id, sb_error *err)
{
    const local_kms *l = k->ctx;
    *ct = NULL;
    *key_id = NULL;
    size_t n = crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES + len;
    unsigned char *out = malloc(n);
    char *id = strdup(l->key_id);
    if (out == NULL || id == NULL) {
        free(out);
        free(id);
        return sb_error_set(err, SB_KMS_E_UNAVAILABLE, "local KMS: out of memory");
    }
    randombytes_buf(out, crypto_secretbox_NONCEBYTES);
    crypto_secretbox_easy(out + crypto_secretbox_NONCEBYTES, pt, len, out, l->key);
    *ct = out;
    *ct_len = n;
    *key_id = id;
    return 0;
}

static int local_unwrap(const sb_kms *k, const unsigned char *ct, size_t len, const char *key_id,
                        unsigned char *out, size_t cap, size_t *out_len, sb_error *err)
{
    const local_kms *l = k->ctx;
    if (key_id == NULL || strcmp(key_id, l->key_id) != 0)
        return sb_error_set(err, SB_KMS_E_REFUSED,
                            "local KMS: the ciphertext was wrapped under key '%.80s', but this "
                            "control plane holds '%s' (was the master key replaced?)",
                            key_id ? key_id : "", l->key_id);
    if (len < crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES ||
        len - crypto_secretbox_NONCEBYTES - crypto_secretbox_MACBYTES > cap)
        return sb_error_set(err, SB_KMS_E_REFUSED, "local KMS: ciphertext of %zu bytes is malformed",
                            len);
    size_t n = len - crypto_secretbox_NONCEBYTES - crypto_secretbox_MACBYTES;
    if (crypto_secretbox_open_easy(out, ct + crypto_secretbox_NONCEBYTES,
                                   len - crypto_secretbox_NONCEBYTES, ct, l->key) != 0) {
        sodium_memzero(out, cap);
        return sb_error_set(err, SB_KMS_E_REFUSED,
                            "local KMS: the ciphertext does not authenticate (tampered or corrupt)");
    }
    *out_len = n;
    return 0;
}

static void local_close(sb_kms *k)
{
    local_kms *l = k->ctx;
    sodium_free(l->key);
    free(l);
}

sb_kms *sb_local_kms_open(const unsigned char master[32])
{
    local_kms *l = calloc(1, sizeof *l);
    unsigned char *key = sodium_malloc(crypto_secretbox_KEYBYTES);
    if (l == NULL || key == NULL) {
        free(l);
        sodium_free(key);
        return NULL;
    }
    crypto_kdf_derive_from_key(key, crypto_secretbox_KEYBYTES, 7, "sbkmsloc", master);
    unsigned char fp[8];
    crypto_generichash(fp, sizeof fp, key, crypto_secretbox_KEYBYTES, NULL, 0);
    memcpy(l->key_id, "local:", 6);
    sodium_bin2hex(l->key_id + 6, sizeof l->key_id - 6, fp, sizeof fp);
    l->key = key;
    l->kms = (sb_kms){"local", local_wrap, local_unwrap, local_close, l};
    return &l->kms;
}
