/*
 * crypto/oidc_id_token.h — an OpenID provider's signing keys (JWKS) and
 * the check of an ID token against them (OpenID Connect Core §3.1.3.7).
 *
 * Contract (pure: no I/O; the clock is passed in):
 *   - sb_oidc_jwks_parse keeps the RSA signing keys of a JWKS document
 *     (kty RSA, use absent or "sig", alg absent or RS256, >= 2048 bits);
 *     other keys are skipped, a document with none is refused.
 *   - sb_oidc_id_token_verify accepts a compact JWS of three base64url
 *     segments whose header says exactly alg RS256 (none, HS*, ES*… are
 *     refused before any key is looked at: no algorithm confusion), picks
 *     the key by kid (a token without kid only when the set has one key),
 *     verifies the signature before reading the payload, then requires:
 *     iss == the issuer, aud (string or array) containing the client id,
 *     azp == the client id when present or when aud names several parties,
 *     exp > now - skew, iat <= now + skew (and nbf when present), the nonce
 *     equal (constant time) to the one sent, and a sub of 1..255 bytes.
 *   - SB_OIDC_E_UNKNOWN_KID is its own code so the caller can fetch the
 *     keys again once (the provider rotated) before giving up.
 *   - Error messages say which check failed, never a token or claim value.
 */
#ifndef SB_CRYPTO_OIDC_ID_TOKEN_H
#define SB_CRYPTO_OIDC_ID_TOKEN_H

#include <stddef.h>
#include <stdint.h>

#include "util/error.h"

#define SB_OIDC_ID_TOKEN_MAX 16384
#define SB_OIDC_SUB_MAX 255
#define SB_OIDC_EMAIL_MAX 320
#define SB_OIDC_NAME_MAX 320

enum sb_oidc_token_error_code {
    SB_OIDC_E_MALFORMED = 2301, /* not a compact JWS / not JSON */
    SB_OIDC_E_ALGORITHM,        /* alg other than RS256 */
    SB_OIDC_E_UNKNOWN_KID,      /* no key with the token's kid */
    SB_OIDC_E_SIGNATURE,        /* the signature does not verify */
    SB_OIDC_E_ISSUER,           /* iss differs */
    SB_OIDC_E_AUDIENCE,         /* aud/azp do not name this client */
    SB_OIDC_E_EXPIRED,          /* exp passed */
    SB_OIDC_E_NOT_YET_VALID,    /* iat/nbf in the future */
    SB_OIDC_E_NONCE,            /* nonce missing or different */
    SB_OIDC_E_CLAIMS,           /* sub missing, claims of the wrong type */
    SB_OIDC_E_KEYS,             /* a JWKS document without usable keys */
};

typedef struct sb_oidc_jwks sb_oidc_jwks;

int sb_oidc_jwks_parse(const char *json, size_t len, sb_oidc_jwks **out, sb_error *err);
void sb_oidc_jwks_free(sb_oidc_jwks *keys);
size_t sb_oidc_jwks_count(const sb_oidc_jwks *keys);

typedef struct sb_oidc_expect {
    const char *issuer;
    const char *client_id;
    const char *nonce;
    int64_t now;  /* Unix seconds */
    int64_t skew; /* seconds */
    const char *username_claim; /* e.g. "preferred_username" */
} sb_oidc_expect;

typedef struct sb_oidc_claims {
    char sub[SB_OIDC_SUB_MAX + 1];
    char email[SB_OIDC_EMAIL_MAX + 1]; /* "" when absent */
    int email_verified;
    char username[SB_OIDC_NAME_MAX + 1]; /* username_claim, else email, else "" */
    char name[SB_OIDC_NAME_MAX + 1];     /* "" when absent */
} sb_oidc_claims;

int sb_oidc_id_token_verify(const sb_oidc_jwks *keys, const char *token, size_t len,
                            const sb_oidc_expect *x, sb_oidc_claims *out, sb_error *err);

#endif
