/*
 * crypto/sealed_box.h — sealing one value to one X25519 public key (SPEC
 * §10, I2): libsodium's crypto_box_seal, in the form the API carries.
 *
 * Contract: sb_sealed_box_seal reads value[0..len) (at most
 * SB_SEALED_BOX_VALUE_MAX bytes; the caller keeps it in secure memory) and
 * returns the box as standard padded base64 in *box_b64 (malloc'd; not a
 * secret: only the recipient's private key opens it). The recipient is the
 * standard base64 of a 32-byte public key; anything else is refused naming
 * it (a public key is not a secret). Shared by the agent (read results,
 * sealed to the request's key) and the CLI (patch values, sealed to each
 * agent's key). On failure nothing is allocated.
 */
#ifndef SB_CRYPTO_SEALED_BOX_H
#define SB_CRYPTO_SEALED_BOX_H

#include <stddef.h>

#include "util/error.h"

#define SB_SEALED_BOX_VALUE_MAX (1024 * 1024)

int sb_sealed_box_seal(const char *recipient_b64, const unsigned char *value, size_t len,
                       char **box_b64, sb_error *err);

#endif
