/*
 * mfa_test_util.h — an authenticator app for the API tests: enrols a TOTP
 * factor through the API, keeps its secret (decoded from the base32 the
 * enrollment shows once) and produces codes with crypto/totp.h (checked
 * against the RFC 6238 vectors in tests/unit/test_totp.c), each at a later
 * time step than the last, as a real app would after a code was used.
 * Header-only, static inline; needs the harness `h` and sb_api_call.
 */
#ifndef SB_TESTS_MFA_TEST_UTIL_H
#define SB_TESTS_MFA_TEST_UTIL_H

#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "api_harness.h"
#include "crypto/totp.h"

typedef struct test_totp {
    unsigned char secret[SB_TOTP_SECRET_BYTES];
    char base32[SB_TOTP_BASE32_MAX];
    char factor_id[40];
    int64_t last_step;
} test_totp;

/* RFC 4648 base32 (no padding) into out; the byte count. */
static inline size_t test_base32_decode(const char *in, unsigned char *out, size_t cap)
{
    static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    unsigned buf = 0;
    int bits = 0;
    size_t n = 0;
    for (; *in; in++) {
        const char *p = strchr(alphabet, *in);
        cr_assert(p != NULL && *in != '\0', "not base32: %c", *in);
        buf = (buf << 5) | (unsigned)(p - alphabet);
        bits += 5;
        if (bits >= 8) {
            cr_assert_lt(n, cap);
            out[n++] = (unsigned char)((buf >> (bits - 8)) & 0xff);
            bits -= 8;
        }
    }
    return n;
}

/* POST /auth/mfa/totp as cookie: 201, the secret and URI shown; fills t. */
static inline void test_totp_enroll(sb_api_harness *hh, const char *cookie, const char *label,
                                    test_totp *t)
{
    memset(t, 0, sizeof *t);
    char body[160];
    snprintf(body, sizeof body, "{\"label\":\"%s\"}", label);
    sb_api_response r;
    long st = sb_api_call(hh, "POST", "/api/v1/auth/mfa/totp", body, cookie, NULL, &r);
    cr_assert_eq(st, 201, "enroll: %s", r.body);
    const char *secret = json_string_value(json_object_get(r.json, "secret"));
    const char *uri = json_string_value(json_object_get(r.json, "otpauth_uri"));
    const char *id = json_string_value(json_object_get(r.json, "id"));
    cr_assert(secret && uri && id, "%s", r.body);
    cr_assert_eq(strlen(secret), 32, "160 bits in base32: %s", secret);
    char want[80];
    snprintf(want, sizeof want, "?secret=%s&", secret);
    cr_assert(strncmp(uri, "otpauth://totp/Secrets%20Bridge:", 32) == 0, "%s", uri);
    cr_assert(strstr(uri, want) && strstr(uri, "&issuer=Secrets%20Bridge") &&
                  strstr(uri, "algorithm=SHA1&digits=6&period=30"),
              "%s", uri);
    snprintf(t->base32, sizeof t->base32, "%s", secret);
    snprintf(t->factor_id, sizeof t->factor_id, "%s", id);
    cr_assert_eq(test_base32_decode(secret, t->secret, sizeof t->secret), SB_TOTP_SECRET_BYTES);
    sb_api_response_free(&r);
}

/* The code of the next unused step at the current time (within the ±1
 * step the server accepts). */
static inline void test_totp_next(test_totp *t, char code[SB_TOTP_DIGITS + 1])
{
    int64_t step = sb_totp_step((int64_t)time(NULL));
    if (step <= t->last_step)
        step = t->last_step + 1;
    cr_assert_leq(step, sb_totp_step((int64_t)time(NULL)) + 1, "codes used up for now");
    cr_assert_eq(sb_totp_code(t->secret, sizeof t->secret, step, code), 0);
    t->last_step = step;
}

/* A code that is none of the accepted steps' codes. */
static inline void test_totp_wrong(const test_totp *t, char code[SB_TOTP_DIGITS + 1])
{
    int64_t now = (int64_t)time(NULL);
    for (unsigned v = 0;; v++) {
        snprintf(code, SB_TOTP_DIGITS + 1, "%06u", (v * 7919u + 123457u) % 1000000u);
        if (sb_totp_match(t->secret, sizeof t->secret, code, now) == 0 &&
            sb_totp_match(t->secret, sizeof t->secret, code, now + SB_TOTP_PERIOD_S) == 0)
            return;
    }
}

/* POST path {code} as cookie; the status (r kept when given). */
static inline long test_totp_post(sb_api_harness *hh, const char *cookie, const char *path,
                                  const char *code, sb_api_response *r)
{
    char body[64];
    snprintf(body, sizeof body, "{\"code\":\"%s\"}", code);
    sb_api_response tmp;
    long st = sb_api_call(hh, "POST", path, body, cookie, NULL, r ? r : &tmp);
    if (!r)
        sb_api_response_free(&tmp);
    return st;
}

/* Enrol and confirm: an active factor (the confirmation also counts as a
 * verification of this session). */
static inline void test_totp_active(sb_api_harness *hh, const char *cookie, test_totp *t)
{
    test_totp_enroll(hh, cookie, "phone", t);
    char path[128], code[8];
    snprintf(path, sizeof path, "/api/v1/auth/mfa/totp/%s/confirm", t->factor_id);
    test_totp_next(t, code);
    sb_api_response r;
    cr_assert_eq(test_totp_post(hh, cookie, path, code, &r), 200, "confirm: %s", r.body);
    sb_api_response_free(&r);
}

#endif
