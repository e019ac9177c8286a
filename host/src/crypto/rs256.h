/*
 * crypto/rs256.h — RSASSA-PKCS1-v1_5 with SHA-256 (JWS "RS256")
 * signature verification against an RSA public key given as a JWK's
 * modulus and exponent (RFC 7518 §6.3.1), through OpenSSL EVP.
 *
 * Contract: keys under 2048 bits are refused at creation; verification
 * returns 1 only for a valid signature, 0 for any invalid one (wrong key,
 * wrong length, tampered message). No clock, no I/O. Used by the OIDC ID
 * token check (crypto/oidc_id_token.h); libsodium has no RSA.
 */
#ifndef SB_CRYPTO_RS256_H
#define SB_CRYPTO_RS256_H

#include <stddef.h>

#include "util/error.h"

#define SB_RS256_MIN_BITS 2048

typedef struct sb_rs256_key sb_rs256_key;

/* A key from the big-endian modulus and exponent bytes; NULL with err
 * filled when they do not make an RSA key of at least 2048 bits. */
sb_rs256_key *sb_rs256_key_new(const unsigned char *n, size_t n_len, const unsigned char *e,
                               size_t e_len, sb_error *err);
void sb_rs256_key_free(sb_rs256_key *key);
/* 1 valid, 0 invalid. */
int sb_rs256_verify(const sb_rs256_key *key, const unsigned char *msg, size_t msg_len,
                    const unsigned char *sig, size_t sig_len);

#endif
