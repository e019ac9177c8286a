/*
 * agent/sealing.h — the agent's two envelope operations (SPEC §10), with
 * libsodium sealed boxes (X25519 + XSalsa20-Poly1305, crypto_box_seal):
 *
 *   - sb_agent_seal: a value (secure memory) sealed to a recipient's public
 *     key given as standard base64 of 32 bytes (a read's read_public_key);
 *     the result is the box as standard base64 — not secret, it can only be
 *     opened with the recipient's private key.
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

/* *out_b64: malloc'd base64 of the box (caller frees). */
int sb_agent_seal(const char *recipient_b64, const unsigned char *value, size_t len, char **out_b64,
                  sb_error *err);
/* *out: a new secure buffer holding the plaintext (caller sb_secure_free). */
int sb_agent_open(const sb_agent_identity *id, const char *box_b64, sb_secure_buf **out, sb_error *err);

#endif
