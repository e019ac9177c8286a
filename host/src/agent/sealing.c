/* agent/sealing.c — see sealing.h. */
#include "agent/sealing.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/sealed_box.h"

int sb_agent_open(const sb_agent_identity *id, const char *box_b64, sb_secure_buf **out, sb_error *err)
{
    *out = NULL;
    size_t b64_len = box_b64 ? strlen(box_b64) : 0;
    if (b64_len == 0 || b64_len > 2 * SB_SEALED_BOX_VALUE_MAX)
        return sb_error_set(err, 1, "a sealed value is empty or too large");
    unsigned char *box = malloc(b64_len);
    size_t box_len = 0;
    if (box == NULL || sodium_base642bin(box, b64_len, box_b64, b64_len, NULL, &box_len, NULL,
                                         sodium_base64_VARIANT_ORIGINAL) != 0 ||
        box_len < crypto_box_SEALBYTES) {
        free(box);
        return sb_error_set(err, 1, "a sealed value is not standard base64 of a sealed box");
    }
    size_t plain_len = box_len - crypto_box_SEALBYTES;
    sb_secure_buf *plain = sb_secure_new(plain_len + 1);
    unsigned char *tmp = sb_secure_alloc(plain_len + 1);
    int opened = plain && tmp &&
                 crypto_box_seal_open(tmp, box, box_len, id->public_key, id->secret_key) == 0;
    free(box);
    if (!opened || sb_secure_append(plain, tmp, plain_len) != 0) {
        sb_secure_release(tmp);
        sb_secure_free(plain);
        return sb_error_set(err, 1, "a sealed value cannot be opened with this agent's key: it was "
                                    "sealed to another key (an agent enrolled again?) or altered");
    }
    sb_secure_release(tmp);
    *out = plain;
    return 0;
}
