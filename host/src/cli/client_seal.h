/*
 * cli/client_seal.h — sealing patch values on the user's machine (SPEC
 * §10, invariant I2).
 *
 * Contract: sb_client_seal encrypts value[0..len) with libsodium's
 * crypto_box_seal to one agent's X25519 public key (base64, 32 bytes) and
 * returns the box as standard padded base64 — the form the API's
 * sealed_values take. The box is not a secret (only that agent's secret
 * key opens it); the value is only read, never copied outside the
 * caller's buffer.
 */
#ifndef SB_CLI_CLIENT_SEAL_H
#define SB_CLI_CLIENT_SEAL_H

#include <stddef.h>

#include "util/error.h"

/* 0 with *box_b64 (malloc'd; the caller frees), or -1 with err. */
int sb_client_seal(const unsigned char *value, size_t len, const char *recipient_b64, char **box_b64,
                   sb_error *err);

#endif
