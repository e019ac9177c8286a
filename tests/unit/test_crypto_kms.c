/* test_crypto_kms.c — the built-in local KMS: round trip, key ids that
 * name the master key, refusal of another key's or a tampered ciphertext,
 * and nothing of the plaintext in the ciphertext. */
#include <criterion/criterion.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/local_kms.h"
#include "crypto/secure_mem.h"

static const unsigned char master_a[32] = "master key A for the KMS tests.";
static const unsigned char master_b[32] = "master key B for the KMS tests.";

static void wrap(const sb_kms *k, const char *pt, unsigned char **ct, size_t *len, char **id)
{
    sb_error err = {0};
    cr_assert_eq(k->wrap(k, (const unsigned char *)pt, strlen(pt), ct, len, id, &err), 0, "%s",
                 err.message);
}

Test(local_kms, wraps_and_unwraps_under_its_own_key_id_only)
{
    cr_assert_eq(sodium_init() >= 0, 1);
    sb_kms *a = sb_local_kms_open(master_a), *b = sb_local_kms_open(master_b);
    cr_assert(a && b);
    unsigned char *ct;
    size_t len;
    char *id;
    wrap(a, "private-key-material-0123456789", &ct, &len, &id);
    cr_assert(strncmp(id, "local:", 6) == 0 && strlen(id) == 22, "%s", id);
    cr_assert_null(memmem(ct, len, "private-key", 11), "the plaintext shows in the ciphertext");
    unsigned char *out = sb_secure_alloc(64);
    size_t n = 0;
    sb_error err = {0};
    cr_assert_eq(a->unwrap(a, ct, len, id, out, 64, &n, &err), 0, "%s", err.message);
    cr_assert_eq(n, 31);
    cr_assert_eq(memcmp(out, "private-key-material-0123456789", 31), 0);
    /* two wraps of the same plaintext differ (fresh nonce) */
    unsigned char *ct2;
    size_t len2;
    char *id2;
    wrap(a, "private-key-material-0123456789", &ct2, &len2, &id2);
    cr_assert_str_eq(id, id2);
    cr_assert_neq(memcmp(ct, ct2, len), 0);
    /* another master key: refused by id, even when the id is forged */
    cr_assert_eq(b->unwrap(b, ct, len, id, out, 64, &n, &err), -1);
    cr_assert_eq(err.code, SB_KMS_E_REFUSED);
    cr_assert(strstr(err.message, "master key") != NULL, "%s", err.message);
    unsigned char *ctb;
    size_t lenb;
    char *idb;
    wrap(b, "x", &ctb, &lenb, &idb);
    cr_assert_str_neq(id, idb);
    cr_assert_eq(a->unwrap(a, ctb, lenb, id, out, 64, &n, &err), -1, "forged key id accepted");
    /* one flipped bit: refused, nothing written out */
    ct[len - 1] ^= 1;
    cr_assert_eq(a->unwrap(a, ct, len, id, out, 64, &n, &err), -1);
    cr_assert(strstr(err.message, "authenticate") != NULL, "%s", err.message);
    cr_assert_eq(a->unwrap(a, ct, 10, id, out, 64, &n, &err), -1, "a short ciphertext");
    sb_secure_release(out);
    free(ct), free(ct2), free(ctb), free(id), free(id2), free(idb);
    sb_kms_close(a);
    sb_kms_close(b);
}
