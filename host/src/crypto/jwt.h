/*
 * crypto/jwt.h — the short-lived HS256 JWT that login returns to API clients.
 *
 * Contract: deliberately small and strict, because a general JWT library is
 * where "alg":"none" and key-confusion bugs live.
 *   - The header is exactly {"alg":"HS256","typ":"JWT"}: verify compares the
 *     encoded header segment byte for byte, so alg none/RS256/anything else,
 *     extra header fields, other key order or whitespace are all refused.
 *   - Segments are base64url without padding; exactly three, none empty.
 *   - The signature is HMAC-SHA256 (libsodium crypto_auth_hmacsha256 with the
 *     whole secret as key) over "header.payload", compared in constant time
 *     (sodium_memcmp), and checked before the payload is parsed.
 *   - The payload is a flat JSON object: iss, sub, sid (strings), iat, exp
 *     (non-negative integers), plus caller-supplied string claims. Anything
 *     else (nesting, floats, booleans, duplicates, NUL in a string) is refused.
 *   - Refused: tokens over SB_JWT_MAX_LEN bytes, secrets under
 *     SB_JWT_SECRET_MIN bytes, a wrong issuer, exp <= now (expired), iat later
 *     than now + SB_JWT_IAT_SKEW (issued in the future), exp <= iat.
 * now is passed in (no clock here). The secret should live in secure memory.
 * Error messages never repeat any part of a token.
 */
#ifndef SB_CRYPTO_JWT_H
#define SB_CRYPTO_JWT_H

#include <stddef.h>
#include <stdint.h>

#include "util/error.h"

#define SB_JWT_MAX_LEN 4096
#define SB_JWT_SECRET_MIN 32
#define SB_JWT_IAT_SKEW 60
#define SB_JWT_MAX_EXTRA 8
#define SB_JWT_CLAIM_NAME_MAX 64

enum sb_jwt_error_code {
    SB_JWT_E_SECRET = 2201,  /* secret shorter than SB_JWT_SECRET_MIN */
    SB_JWT_E_INVALID,        /* bad issue arguments (claims, buffer) */
    SB_JWT_E_OVERSIZE,       /* token longer than SB_JWT_MAX_LEN */
    SB_JWT_E_MALFORMED,      /* not three base64url segments */
    SB_JWT_E_HEADER,         /* header other than {"alg":"HS256","typ":"JWT"} */
    SB_JWT_E_SIGNATURE,      /* signature does not verify */
    SB_JWT_E_CLAIMS,         /* payload not a flat object of the expected claims */
    SB_JWT_E_ISSUER,         /* iss differs from the expected issuer */
    SB_JWT_E_EXPIRED,        /* now >= exp */
    SB_JWT_E_NOT_YET_VALID,  /* iat > now + SB_JWT_IAT_SKEW */
};

typedef struct sb_jwt_claim {
    const char *name;  /* [a-z0-9_], 1..64 chars, not a reserved claim name */
    const char *value; /* UTF-8 */
} sb_jwt_claim;

typedef struct sb_jwt_claims {
    const char *iss; /* issuer, e.g. "secrets-bridge" */
    const char *sub; /* user id */
    const char *sid; /* session id (not the session token): ties the JWT to a
                        session so logout can revoke it */
    int64_t iat;     /* issued at, Unix seconds */
    int64_t exp;     /* expires at, Unix seconds, > iat */
    const sb_jwt_claim *extra;
    size_t extra_count; /* <= SB_JWT_MAX_EXTRA */
} sb_jwt_claims;

/* What verify returns: claims point into storage, so do not copy this struct
 * by value (pass it by pointer). */
typedef struct sb_jwt_verified {
    sb_jwt_claims claims;
    sb_jwt_claim extra[SB_JWT_MAX_EXTRA];
    char storage[SB_JWT_MAX_LEN];
} sb_jwt_verified;

/* Writes the token (NUL-terminated) into out; returns its length, or -1. */
int sb_jwt_issue(const unsigned char *secret, size_t secret_len, const sb_jwt_claims *claims,
                 char *out, size_t cap, sb_error *err);
/* 0 and *out filled when token verifies for issuer at now; else -1 with one
 * of the SB_JWT_E_* codes. */
int sb_jwt_verify(const unsigned char *secret, size_t secret_len, const char *token, size_t len,
                  const char *issuer, int64_t now, sb_jwt_verified *out, sb_error *err);

#endif
