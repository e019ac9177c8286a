/*
 * test_totp.c — crypto/totp.h against RFC 6238 appendix B (the SHA-1
 * vectors, truncated to 6 digits as RFC 4226 does) and RFC 4648 base32.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "crypto/totp.h"

static const unsigned char rfc_secret[] = "12345678901234567890";

Test(totp, rfc6238_sha1_vectors)
{
    static const struct {
        int64_t t;
        const char *code;
    } v[] = {{59, "287082"},         {1111111109, "081804"}, {1111111111, "050471"},
             {1234567890, "005924"}, {2000000000, "279037"}, {20000000000LL, "353130"}};
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        char code[7];
        cr_assert_eq(sb_totp_code(rfc_secret, 20, sb_totp_step(v[i].t), code), 0);
        cr_assert_str_eq(code, v[i].code, "T=%lld", (long long)v[i].t);
    }
}

Test(totp, match_accepts_one_step_of_skew_and_nothing_else)
{
    int64_t now = 1111111111, step = sb_totp_step(now);
    char code[7];
    for (int d = -1; d <= 1; d++) {
        cr_assert_eq(sb_totp_code(rfc_secret, 20, step + d, code), 0);
        cr_assert_eq(sb_totp_match(rfc_secret, 20, code, now), step + d, "skew %d", d);
    }
    for (int d = -3; d <= 3; d += 6) {
        cr_assert_eq(sb_totp_code(rfc_secret, 20, step + d, code), 0);
        cr_assert_eq(sb_totp_match(rfc_secret, 20, code, now), 0, "skew %d is refused", d);
    }
    cr_assert_eq(sb_totp_code(rfc_secret, 20, step, code), 0);
    char longer[8];
    snprintf(longer, sizeof longer, "%s0", code);
    cr_assert_eq(sb_totp_match(rfc_secret, 20, longer, now), 0, "7 digits");
    code[5] = '\0';
    cr_assert_eq(sb_totp_match(rfc_secret, 20, code, now), 0, "5 digits");
    cr_assert_eq(sb_totp_match(rfc_secret, 20, "05047a", now), 0, "not digits");
    cr_assert_eq(sb_totp_match(rfc_secret, 20, NULL, now), 0);
}

Test(totp, base32_is_rfc4648_without_padding)
{
    char out[SB_TOTP_BASE32_MAX];
    cr_assert_eq(sb_totp_base32(rfc_secret, 20, out, sizeof out), 0);
    cr_assert_str_eq(out, "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
    cr_assert_eq(sb_totp_base32((const unsigned char *)"foobar", 6, out, sizeof out), 0);
    cr_assert_str_eq(out, "MZXW6YTBOI"); /* RFC 4648 §10, padding dropped */
    cr_assert_eq(sb_totp_base32(rfc_secret, 20, out, 32), -1, "no room for the NUL");
}
