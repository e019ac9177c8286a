/* crypto/token.c — see token.h. */
#include "crypto/token.h"

#include <sodium.h>
#include <string.h>

_Static_assert(SB_TOKEN_HASH_BYTES == crypto_generichash_BYTES, "BLAKE2b-256 output");
_Static_assert(SB_TOKEN_PEPPER_MIN >= crypto_generichash_KEYBYTES_MIN &&
                   SB_TOKEN_PEPPER_MAX <= crypto_generichash_KEYBYTES_MAX,
               "pepper sizes within BLAKE2b key sizes");

static int check_prefix(const char *prefix, size_t *len, sb_error *err)
{
    size_t n = prefix ? strnlen(prefix, SB_TOKEN_PREFIX_MAX + 1) : 0;
    if (n > SB_TOKEN_PREFIX_MAX)
        return sb_error_set(err, SB_TOKEN_E_INVALID, "token prefix is longer than %d characters",
                            SB_TOKEN_PREFIX_MAX);
    for (size_t i = 0; i < n; i++) {
        char c = prefix[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'))
            return sb_error_set(err, SB_TOKEN_E_INVALID,
                                "token prefix '%s' may hold only a-z, 0-9 and '_'", prefix);
    }
    *len = n;
    return 0;
}

int sb_token_new(const char *prefix, char *out, size_t cap, sb_error *err)
{
    size_t plen = 0;
    if (check_prefix(prefix, &plen, err) != 0)
        return -1;
    if (out == NULL || cap < plen + SB_TOKEN_ENCODED_LEN + 1)
        return sb_error_set(err, SB_TOKEN_E_INVALID,
                            "token buffer too small: need %zu bytes, got %zu",
                            plen + SB_TOKEN_ENCODED_LEN + 1, out ? cap : 0);
    unsigned char raw[SB_TOKEN_RANDOM_BYTES];
    randombytes_buf(raw, sizeof raw);
    memcpy(out, prefix ? prefix : "", plen);
    sodium_bin2base64(out + plen, cap - plen, raw, sizeof raw,
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    sodium_memzero(raw, sizeof raw);
    return 0;
}

int sb_token_check_format(const char *token, size_t len, const char *prefix, sb_error *err)
{
    size_t plen = 0;
    if (check_prefix(prefix, &plen, err) != 0)
        return -1;
    if (token == NULL || len != plen + SB_TOKEN_ENCODED_LEN)
        return sb_error_set(err, SB_TOKEN_E_FORMAT, "the token is not %zu characters long",
                            plen + SB_TOKEN_ENCODED_LEN);
    if (plen > 0 && strncmp(token, prefix, plen) != 0)
        return sb_error_set(err, SB_TOKEN_E_FORMAT, "the token does not start with '%s'",
                            prefix);
    unsigned char raw[SB_TOKEN_RANDOM_BYTES + 1];
    size_t raw_len = 0;
    const char *end = NULL;
    int rc = sodium_base642bin(raw, sizeof raw, token + plen, SB_TOKEN_ENCODED_LEN, NULL,
                               &raw_len, &end, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    sodium_memzero(raw, sizeof raw);
    if (rc != 0 || raw_len != SB_TOKEN_RANDOM_BYTES || end != token + len)
        return sb_error_set(err, SB_TOKEN_E_FORMAT,
                            "the token is not base64url of %d bytes after its prefix",
                            SB_TOKEN_RANDOM_BYTES);
    return 0;
}

int sb_token_hash(const char *token, size_t len, const unsigned char *pepper, size_t pepper_len,
                  unsigned char out[SB_TOKEN_HASH_BYTES], sb_error *err)
{
    if (out == NULL)
        return sb_error_set(err, SB_TOKEN_E_INVALID, "token hash: no output buffer");
    if (pepper == NULL || pepper_len < SB_TOKEN_PEPPER_MIN || pepper_len > SB_TOKEN_PEPPER_MAX)
        return sb_error_set(err, SB_TOKEN_E_INVALID,
                            "token hash: the pepper must be %d to %d bytes, got %zu",
                            SB_TOKEN_PEPPER_MIN, SB_TOKEN_PEPPER_MAX, pepper ? pepper_len : 0);
    if (token == NULL || len == 0 || len > SB_TOKEN_HASH_INPUT_MAX)
        return sb_error_set(err, SB_TOKEN_E_FORMAT, "the token must be 1 to %d bytes",
                            SB_TOKEN_HASH_INPUT_MAX);
    crypto_generichash(out, SB_TOKEN_HASH_BYTES, (const unsigned char *)token, len, pepper,
                       pepper_len);
    return 0;
}

bool sb_token_equal(const void *a, const void *b, size_t len)
{
    if (a == NULL || b == NULL)
        return false;
    return sodium_memcmp(a, b, len) == 0;
}
