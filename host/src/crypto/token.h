/*
 * crypto/token.h — opaque bearer tokens: session ids, personal API tokens,
 * agent enrollment tokens, agent secrets.
 *
 * Contract: a token is prefix + base64url-without-padding(32 random bytes)
 * (256 bits from libsodium's CSPRNG); the prefix names the kind ("sbp_" for a
 * personal API token...) so a leaked token is recognisable by secret
 * scanners and a token of one kind can never be used as another. Tokens are
 * shown once and stored only as sb_token_hash values; lookups hash the
 * presented token and compare hashes with sb_token_equal (constant time).
 *
 * The stored hash is BLAKE2b-256 keyed with a server-side pepper
 * (crypto_generichash with a 32..64-byte key), over the whole token string
 * including its prefix. Why keyed rather than plain SHA-256: the tokens
 * already carry 256 bits, so guessing from a leaked table is hopeless either
 * way; the key adds that someone who can write the table (an injection
 * elsewhere, a restored backup, a DBA) cannot mint a working credential by
 * inserting the hash of a token they made up, and that a dump cannot confirm
 * a token seen in some other leak. Why BLAKE2b over HMAC-SHA256: the same
 * strength, libsodium's native keyed mode in one call, faster. Hashing the
 * encoded string for every kind avoids the earlier product's split (raw
 * bytes for sessions, the string for agents). The pepper lives in secure
 * memory (server config); rotating it is the store's concern (key id column).
 *
 * Output buffers for new tokens should be secure memory (crypto/secure_mem.h);
 * everything on the stack here is zeroed before returning.
 */
#ifndef SB_CRYPTO_TOKEN_H
#define SB_CRYPTO_TOKEN_H

#include <stdbool.h>
#include <stddef.h>

#include "util/error.h"

#define SB_TOKEN_RANDOM_BYTES 32
#define SB_TOKEN_ENCODED_LEN 43 /* base64url without padding of 32 bytes */
#define SB_TOKEN_PREFIX_MAX 16
#define SB_TOKEN_MAX (SB_TOKEN_PREFIX_MAX + SB_TOKEN_ENCODED_LEN + 1) /* with NUL */
#define SB_TOKEN_HASH_BYTES 32
#define SB_TOKEN_PEPPER_MIN 32
#define SB_TOKEN_PEPPER_MAX 64
#define SB_TOKEN_HASH_INPUT_MAX 256 /* longer presented strings are refused */

/* The kinds of this product. */
#define SB_TOKEN_PREFIX_SESSION "sbs_"
#define SB_TOKEN_PREFIX_PERSONAL "sbp_"
#define SB_TOKEN_PREFIX_ENROLLMENT "sbe_"
#define SB_TOKEN_PREFIX_AGENT "sba_"

enum sb_token_error_code {
    SB_TOKEN_E_INVALID = 2101, /* bad prefix, short buffer, short pepper */
    SB_TOKEN_E_FORMAT,         /* a presented token of the wrong shape */
};

/* Writes a new token (NUL-terminated) into out; cap must be at least
 * strlen(prefix) + SB_TOKEN_ENCODED_LEN + 1. prefix: 0..16 characters of
 * [a-z0-9_]; NULL means none. */
int sb_token_new(const char *prefix, char *out, size_t cap, sb_error *err);
/* 0 when token (len bytes) is prefix followed by the base64url encoding of
 * exactly 32 bytes; else -1 with SB_TOKEN_E_FORMAT (the message never
 * repeats the token). Check before hashing to answer garbage cheaply. */
int sb_token_check_format(const char *token, size_t len, const char *prefix, sb_error *err);
/* The keyed hash to store or look up. */
int sb_token_hash(const char *token, size_t len, const unsigned char *pepper, size_t pepper_len,
                  unsigned char out[SB_TOKEN_HASH_BYTES], sb_error *err);
/* Constant-time equality of two len-byte buffers (sodium_memcmp). */
bool sb_token_equal(const void *a, const void *b, size_t len);

#endif
