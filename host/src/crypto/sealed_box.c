/* crypto/sealed_box.c — see sealed_box.h. */
#include "crypto/sealed_box.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

int sb_sealed_box_seal(const char *recipient_b64, const unsigned char *value, size_t len,
                       char **box_b64, sb_error *err)
{
    *box_b64 = NULL;
    unsigned char pk[crypto_box_PUBLICKEYBYTES];
    size_t pk_len = 0;
    if (recipient_b64 == NULL ||
        sodium_base642bin(pk, sizeof pk, recipient_b64, strlen(recipient_b64), NULL, &pk_len, NULL,
                          sodium_base64_VARIANT_ORIGINAL) != 0 ||
        pk_len != sizeof pk)
        return sb_error_set(err, 1,
                            "the recipient key '%.60s' is not the standard base64 of a 32-byte "
                            "X25519 public key",
                            recipient_b64 ? recipient_b64 : "");
    if (len > SB_SEALED_BOX_VALUE_MAX)
        return sb_error_set(err, 1, "a value of %zu bytes is larger than the %d bytes a box may hold",
                            len, SB_SEALED_BOX_VALUE_MAX);
    size_t box_len = len + crypto_box_SEALBYTES;
    unsigned char *box = malloc(box_len);
    size_t b64_cap = sodium_base64_ENCODED_LEN(box_len, sodium_base64_VARIANT_ORIGINAL);
    char *b64 = malloc(b64_cap);
    if (box == NULL || b64 == NULL || crypto_box_seal(box, value, len, pk) != 0) {
        free(box);
        free(b64);
        return sb_error_set(err, 1, "cannot seal the value (out of memory or a bad key)");
    }
    sodium_bin2base64(b64, b64_cap, box, box_len, sodium_base64_VARIANT_ORIGINAL);
    free(box);
    *box_b64 = b64;
    return 0;
}
