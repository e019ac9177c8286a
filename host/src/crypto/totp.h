/*
 * crypto/totp.h — time-based one-time passwords (RFC 6238 over RFC 4226):
 * HMAC-SHA-1, 6 digits, 30-second steps, and the RFC 4648 base32 text an
 * authenticator app is given the secret in.
 *
 * Contract:
 *   - A secret is SB_TOTP_SECRET_BYTES (160 bits) of libsodium randomness;
 *     callers keep it in secure memory (crypto/secure_mem.h) and zero it
 *     after use. Nothing here logs or copies it elsewhere; the HMAC state
 *     lives on the stack and is wiped.
 *   - The time step of Unix time t is floor(t / 30).
 *   - sb_totp_match accepts the steps now-1, now, now+1 (one step of clock
 *     skew either way), compares the code against all three candidates in
 *     constant time (sodium_memcmp, no early exit) and returns the matching
 *     step, or 0 when none matches or the code is not exactly 6 ASCII
 *     digits. Replay protection is the caller's: a step at or below the
 *     factor's last accepted step must be refused (store/mfa_store.h).
 */
#ifndef SB_CRYPTO_TOTP_H
#define SB_CRYPTO_TOTP_H

#include <stddef.h>
#include <stdint.h>

#define SB_TOTP_SECRET_BYTES 20
#define SB_TOTP_DIGITS 6
#define SB_TOTP_PERIOD_S 30
#define SB_TOTP_SKEW_STEPS 1
/* base32 of 20 bytes: 32 characters, no padding, and the NUL */
#define SB_TOTP_BASE32_MAX 33

int64_t sb_totp_step(int64_t unix_seconds);
/* The code of one step into out (6 digits + NUL). 0, or -1 on a bad secret. */
int sb_totp_code(const unsigned char *secret, size_t len, int64_t step, char out[SB_TOTP_DIGITS + 1]);
/* The step (>= 1) in [step(now) - 1, step(now) + 1] whose code is `code`; 0: none. */
int64_t sb_totp_match(const unsigned char *secret, size_t len, const char *code, int64_t now);
/* RFC 4648 base32 (A-Z2-7), no padding; 0, or -1 when cap is too small. */
int sb_totp_base32(const unsigned char *in, size_t len, char *out, size_t cap);

#endif
