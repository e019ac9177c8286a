/*
 * plugins/shared/jwt_rs256.h — RS256 JSON Web Tokens (RFC 7515 compact JWS,
 * RSASSA-PKCS1-v1_5 with SHA-256) with OpenSSL libcrypto, for the plugins
 * that authenticate with a signed assertion: gcpsm (service-account key ->
 * OAuth2 JWT-bearer grant) and azurekv (certificate client assertion).
 *
 * Contract:
 *   - The module is plain C + libcrypto: it includes neither the host nor
 *     the plugin ABI, so a plugin links it as one more source file and a
 *     unit test calls it without a host.
 *   - sign: the caller gives the header and claims as JSON text (never
 *     secret: names, audiences, times) and the private key as PEM text
 *     (PKCS#8 "PRIVATE KEY" or PKCS#1 "RSA PRIVATE KEY", at least 2048
 *     bits). The token `b64url(header).b64url(claims).b64url(signature)`
 *     is handed to the caller's `append` callback piece by piece, so it can
 *     go straight into secure memory; it is never assembled in ordinary
 *     heap by this module. The key is parsed into an OpenSSL EVP_PKEY for
 *     the duration of the call only (OpenSSL clears it on free).
 *   - verify: checks the structure (three base64url parts, header
 *     alg == "RS256") and the signature with a PEM public key (SPKI
 *     "PUBLIC KEY" or a certificate). It does not read any claim: checking
 *     iss/aud/exp is the caller's business.
 *   - Errors: -1 and *why set to a static sentence (never key material).
 */
#ifndef SB_PLUGINS_SHARED_JWT_RS256_H
#define SB_PLUGINS_SHARED_JWT_RS256_H

#include <stddef.h>

/* Receives the next piece of the token; returns 0, or non-zero to abort. */
typedef int (*sb_jwt_append_fn)(void *ctx, const void *data, size_t len);

/* Signs header_json.claims_json with the RSA private key `key_pem`
 * (key_pem_len bytes, need not be NUL-terminated) and appends the compact
 * token to `append`. Returns 0, or -1 with *why set. */
int sb_jwt_rs256_sign(const char *header_json, size_t header_len, const char *claims_json,
                      size_t claims_len, const unsigned char *key_pem, size_t key_pem_len,
                      sb_jwt_append_fn append, void *ctx, const char **why);

/* Verifies the RS256 signature of the compact token `jwt` (len bytes) with
 * `pub_pem`. Returns 0 when it is valid, -1 with *why set otherwise. */
int sb_jwt_rs256_verify(const char *jwt, size_t len, const unsigned char *pub_pem,
                        size_t pub_pem_len, const char **why);

/* Base64url without padding (RFC 4648 §5) of `len` bytes, handed to
 * `append` in small pieces. Returns 0, or the callback's non-zero. */
int sb_jwt_b64url(const void *data, size_t len, sb_jwt_append_fn append, void *ctx);

#endif
