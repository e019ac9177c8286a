/*
 * cli/client_seal.c — crypto_box_seal of one value to one agent key (see
 * client_seal.h).
 */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "cli/client_seal.h"

int sb_client_seal(const unsigned char *value, size_t len, const char *recipient_b64, char **box_b64,
                   sb_error *err)
{
    *box_b64 = NULL;
    unsigned char pk[crypto_box_PUBLICKEYBYTES];
    size_t pk_len = 0;
    if (recipient_b64 == NULL ||
        sodium_base642bin(pk, sizeof pk, recipient_b64, strlen(recipient_b64), NULL, &pk_len, NULL,
                          sodium_base64_VARIANT_ORIGINAL) != 0 ||
        pk_len != sizeof pk)
        return sb_error_set(err, 1, "the agent key '%s' is not a base64 X25519 public key "
                                    "(32 bytes)",
                            recipient_b64 ? recipient_b64 : "");
    if (len == 0)
        return sb_error_set(err, 1, "the value is empty");
    size_t box_len = len + crypto_box_SEALBYTES;
    unsigned char *box = malloc(box_len);
    size_t b64_cap = sodium_base64_ENCODED_LEN(box_len, sodium_base64_VARIANT_ORIGINAL);
    char *b64 = malloc(b64_cap);
    if (box == NULL || b64 == NULL || crypto_box_seal(box, value, len, pk) != 0) {
        free(box);
        free(b64);
        return sb_error_set(err, 1, "cannot seal the value (out of memory)");
    }
    sodium_bin2base64(b64, b64_cap, box, box_len, sodium_base64_VARIANT_ORIGINAL);
    free(box);
    *box_b64 = b64;
    return 0;
}
