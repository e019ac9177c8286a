/* service/read_key.c — the per-request read key (see read_key.h). */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/secure_mem.h"
#include "domain/domain_error.h"
#include "service/read_key.h"
#include "store/wrap_store.h"

static int no_kms(sb_error *err)
{
    return sb_error_set(err, SB_KMS_E_UNAVAILABLE,
                        "this control plane has no KMS configured, so a read result could never "
                        "be revealed; configure `kms:` in the server configuration");
}

static char *b64(const unsigned char *bin, size_t len)
{
    size_t cap = sodium_base64_ENCODED_LEN(len, sodium_base64_VARIANT_ORIGINAL);
    char *out = malloc(cap);
    if (out)
        sodium_bin2base64(out, cap, bin, len, sodium_base64_VARIANT_ORIGINAL);
    return out;
}

int sb_read_key_make(const sb_kms *kms, sb_read_key *out, sb_error *err)
{
    memset(out, 0, sizeof *out);
    if (kms == NULL)
        return no_kms(err);
    unsigned char pk[crypto_box_PUBLICKEYBYTES];
    unsigned char *sk = sb_secure_alloc(crypto_box_SECRETKEYBYTES);
    if (sk == NULL)
        return sb_error_set(err, SB_DOMAIN_E_NO_MEMORY, "out of secure memory for a read key");
    crypto_box_keypair(pk, sk);
    unsigned char *wrapped = NULL;
    size_t wrapped_len = 0;
    int rc = kms->wrap(kms, sk, crypto_box_SECRETKEYBYTES, &wrapped, &wrapped_len,
                       &out->kms_key_id, err);
    sb_secure_release(sk);
    if (rc != 0) {
        sb_read_key_free(out);
        return -1;
    }
    out->wrapped_b64 = b64(wrapped, wrapped_len);
    free(wrapped);
    sodium_bin2base64(out->public_b64, SB_READ_KEY_B64_MAX, pk, sizeof pk,
                      sodium_base64_VARIANT_ORIGINAL);
    if (out->wrapped_b64 == NULL) {
        sb_read_key_free(out);
        return sb_error_set(err, SB_DOMAIN_E_NO_MEMORY, "out of memory");
    }
    return 0;
}

void sb_read_key_free(sb_read_key *k)
{
    free(k->wrapped_b64);
    free(k->kms_key_id);
    k->wrapped_b64 = k->kms_key_id = NULL;
}

static unsigned char *unb64(const char *text, size_t *len)
{
    size_t cap = strlen(text) / 4 * 3 + 3;
    unsigned char *out = malloc(cap ? cap : 1);
    if (out && sodium_base642bin(out, cap, text, strlen(text), NULL, len, NULL,
                                 sodium_base64_VARIANT_ORIGINAL) != 0) {
        free(out);
        return NULL;
    }
    return out;
}

int sb_read_result_open(sb_db_conn *conn, const sb_kms *kms, const char *request_id,
                        const char *box_b64, unsigned char **value, size_t *len, sb_error *err)
{
    *value = NULL;
    *len = 0;
    if (kms == NULL)
        return no_kms(err);
    char *wrapped_b64 = NULL, *key_id = NULL;
    int rc = sb_wrap_store_read_key_get(conn, request_id, &wrapped_b64, &key_id, err);
    if (rc != 0) {
        free(wrapped_b64);
        free(key_id);
        return rc < 0 ? -1 : sb_error_set(err, SB_DOMAIN_E_NOT_FOUND,
                                          "this request has no read key; nothing can be revealed");
    }
    size_t wrapped_len = 0, box_len = 0, sk_len = 0;
    unsigned char *wrapped = unb64(wrapped_b64, &wrapped_len), *box = unb64(box_b64, &box_len);
    unsigned char *sk = sb_secure_alloc(crypto_box_SECRETKEYBYTES);
    rc = -1;
    if (wrapped == NULL || box == NULL || sk == NULL || box_len < crypto_box_SEALBYTES) {
        sb_error_set(err, SB_DOMAIN_E_NO_MEMORY, "cannot decode the stored read result");
    } else if (kms->unwrap(kms, wrapped, wrapped_len, key_id, sk, crypto_box_SECRETKEYBYTES,
                           &sk_len, err) == 0) {
        unsigned char pk[crypto_box_PUBLICKEYBYTES];
        size_t n = box_len - crypto_box_SEALBYTES;
        unsigned char *out = sb_secure_alloc(n ? n : 1);
        crypto_scalarmult_base(pk, sk);
        if (sk_len != crypto_box_SECRETKEYBYTES || out == NULL ||
            crypto_box_seal_open(out, box, box_len, pk, sk) != 0) {
            sb_secure_release(out);
            sb_error_set(err, SB_DOMAIN_E_INVALID,
                         "the read result does not open with this request's key (the agent "
                         "sealed it to another key, or it was altered)");
        } else {
            *value = out;
            *len = n;
            rc = 0;
        }
    }
    sb_secure_release(sk);
    free(wrapped);
    free(box);
    free(wrapped_b64);
    free(key_id);
    return rc;
}
