/*
 * agent/sealing.h — the agent's two envelope operations (SPEC §10), with
 * libsodium sealed boxes (X25519 + XSalsa20-Poly1305, crypto_box_seal):
 *
 *   - sealing a value to a read's read_public_key is crypto/sealed_box.h
 *     (shared with the CLI);
 *   - sb_agent_open: a box (standard base64) sealed to this agent's public
 *     key (a patch's sealed_values) opened into a new secure buffer.
 *
 * Plaintext exists only in sb_secure_buf memory (zeroed on free); every
 * failure leaves nothing allocated and says what was wrong without quoting
 * the box or the key.
 */
#ifndef SB_AGENT_SEALING_H
#define SB_AGENT_SEALING_H

#include <stddef.h>

#include "agent/identity.h"
#include "crypto/secure_mem.h"
#include "util/error.h"

/* *out: a new secure buffer holding the plaintext (caller sb_secure_free). */
int sb_agent_open(const sb_agent_identity *id, const char *box_b64, sb_secure_buf **out, sb_error *err);

#endif
