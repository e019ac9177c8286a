/* crypto/totp.c — see totp.h. */
#include "crypto/totp.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <sodium.h>
#include <string.h>

int64_t sb_totp_step(int64_t unix_seconds)
{
    return unix_seconds < 0 ? 0 : unix_seconds / SB_TOTP_PERIOD_S;
}

int sb_totp_code(const unsigned char *secret, size_t len, int64_t step, char out[SB_TOTP_DIGITS + 1])
{
    unsigned char msg[8], mac[EVP_MAX_MD_SIZE];
    unsigned int mac_len = 0;
    if (secret == NULL || len == 0 || len > 64 || step < 0)
        return -1;
    for (int i = 7; i >= 0; i--) { /* big-endian counter (RFC 4226 §5.2) */
        msg[i] = (unsigned char)(step & 0xff);
        step >>= 8;
    }
    if (HMAC(EVP_sha1(), secret, (int)len, msg, sizeof msg, mac, &mac_len) == NULL || mac_len < 20) {
        sodium_memzero(mac, sizeof mac);
        return -1;
    }
    unsigned off = mac[mac_len - 1] & 0x0f; /* dynamic truncation */
    uint32_t bin = ((uint32_t)(mac[off] & 0x7f) << 24) | ((uint32_t)mac[off + 1] << 16) |
                   ((uint32_t)mac[off + 2] << 8) | (uint32_t)mac[off + 3];
    sodium_memzero(mac, sizeof mac);
    uint32_t v = bin % 1000000u;
    for (int i = SB_TOTP_DIGITS - 1; i >= 0; i--) {
        out[i] = (char)('0' + v % 10);
        v /= 10;
    }
    out[SB_TOTP_DIGITS] = '\0';
    return 0;
}

static int six_digits(const char *code)
{
    if (code == NULL)
        return 0;
    for (int i = 0; i < SB_TOTP_DIGITS; i++)
        if (code[i] < '0' || code[i] > '9')
            return 0;
    return code[SB_TOTP_DIGITS] == '\0';
}

int64_t sb_totp_match(const unsigned char *secret, size_t len, const char *code, int64_t now)
{
    if (!six_digits(code))
        return 0;
    int64_t center = sb_totp_step(now), found = 0;
    for (int64_t d = -SB_TOTP_SKEW_STEPS; d <= SB_TOTP_SKEW_STEPS; d++) {
        char want[SB_TOTP_DIGITS + 1];
        int64_t step = center + d;
        if (step < 1 || sb_totp_code(secret, len, step, want) != 0)
            continue;
        /* every candidate is compared; the result is selected without a branch on it */
        int64_t same = sodium_memcmp(want, code, SB_TOTP_DIGITS) == 0;
        found = same * step + (1 - same) * found;
        sodium_memzero(want, sizeof want);
    }
    return found;
}

int sb_totp_base32(const unsigned char *in, size_t len, char *out, size_t cap)
{
    static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    size_t need = (len * 8 + 4) / 5 + 1, o = 0;
    if (cap < need)
        return -1;
    uint32_t buf = 0;
    int bits = 0;
    for (size_t i = 0; i < len; i++) {
        buf = (buf << 8) | in[i];
        bits += 8;
        while (bits >= 5) {
            out[o++] = alphabet[(buf >> (bits - 5)) & 31];
            bits -= 5;
        }
    }
    if (bits > 0)
        out[o++] = alphabet[(buf << (5 - bits)) & 31];
    out[o] = '\0';
    buf = 0;
    return 0;
}
