/*
 * tests/unit/test_crypto_auth.c — authentication crypto: argon2id passwords
 * (host/src/crypto/password.c), opaque tokens (token.c) and the HS256 JWT
 * (jwt.c). Round trips; every JWT refusal (tampered header, payload and
 * signature, alg none, expired, future iat, wrong issuer or secret, short
 * secret, malformed and oversize tokens, non-flat payloads under a valid
 * signature); token format, uniqueness and keyed-hash stability; passwords
 * only from secure memory; the dummy verify's cost within 2x of a real one;
 * and a source check that secret comparisons are constant time.
 */
#include <criterion/criterion.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "crypto/jwt.h"
#include "crypto/password.h"
#include "crypto/secure_mem.h"
#include "crypto/token.h"

static void suite_init(void) { cr_assert_eq(sb_crypto_init(), 0); }

TestSuite(password, .init = suite_init, .timeout = 120);
TestSuite(token, .init = suite_init);
TestSuite(jwt, .init = suite_init);

/* ---- passwords -------------------------------------------------------- */

/* Cheap parameters for behaviour tests; the timing test uses the defaults. */
static const sb_password_params quick = {1, 1u << 20};

static char *secure_copy(const char *s) { return sb_secure_strdup(s, strlen(s)); }

Test(password, hash_and_verify_round_trip)
{
    char *pw = secure_copy("correct horse battery staple");
    char *wrong = secure_copy("correct horse battery stapler");
    char hash[SB_PASSWORD_HASH_MAX], hash2[SB_PASSWORD_HASH_MAX];
    sb_error err = {0};
    cr_assert_eq(sb_password_hash(&quick, pw, strlen(pw), hash, &err), 0, "%s", err.message);
    cr_assert_eq(strncmp(hash, "$argon2id$v=19$m=1024,t=1,p=1$", 30), 0, "hash: %s", hash);
    cr_assert_null(strstr(hash, "horse"));
    cr_assert_eq(sb_password_verify(hash, pw, strlen(pw), &err), 1);
    cr_assert_eq(sb_password_verify(hash, wrong, strlen(wrong), &err), 0);
    cr_assert_eq(sb_password_verify(hash, pw, strlen(pw) - 1, &err), 0, "a prefix is not it");
    cr_assert_eq(sb_password_verify(hash, pw, 0, &err), 0, "empty never matches");
    /* Salted: two hashes of one password differ, both verify. */
    cr_assert_eq(sb_password_hash(&quick, pw, strlen(pw), hash2, &err), 0);
    cr_assert_str_neq(hash, hash2);
    cr_assert_eq(sb_password_verify(hash2, pw, strlen(pw), &err), 1);
    /* Embedded NULs and non-ASCII are just bytes. */
    char *odd = sb_secure_strdup("p\0w\xc3\xa9", 5);
    cr_assert_eq(sb_password_hash(&quick, odd, 5, hash, &err), 0);
    cr_assert_eq(sb_password_verify(hash, odd, 5, &err), 1);
    cr_assert_eq(sb_password_verify(hash, odd, 1, &err), 0);
    sb_secure_release(odd);
    sb_secure_release(pw);
    sb_secure_release(wrong);
}

Test(password, needs_rehash_and_parameters)
{
    char *pw = secure_copy("hunter2hunter2");
    char hash[SB_PASSWORD_HASH_MAX];
    cr_assert_eq(sb_password_hash(&quick, pw, strlen(pw), hash, NULL), 0);
    cr_assert_eq(sb_password_needs_rehash(hash, &quick), 0);
    sb_password_params dflt = sb_password_params_default();
    cr_assert_eq(dflt.opslimit, crypto_pwhash_argon2id_OPSLIMIT_INTERACTIVE);
    cr_assert_eq(dflt.memlimit, crypto_pwhash_argon2id_MEMLIMIT_INTERACTIVE);
    cr_assert_eq(sb_password_needs_rehash(hash, &dflt), 1);
    sb_password_params more_ops = {2, 1u << 20};
    cr_assert_eq(sb_password_needs_rehash(hash, &more_ops), 1);
    cr_assert_eq(sb_password_needs_rehash("$2b$12$abcdefghijklmnopqrstuv", &quick), -1);
    cr_assert_eq(sb_password_needs_rehash("", &quick), -1);
    cr_assert_eq(sb_password_needs_rehash(NULL, &quick), -1);
    /* An argon2i (not id) hash is not ours. */
    char argon2i[crypto_pwhash_argon2i_STRBYTES];
    cr_assert_eq(crypto_pwhash_argon2i_str(argon2i, pw, strlen(pw), 3, 1u << 20), 0);
    cr_assert_eq(sb_password_needs_rehash(argon2i, &quick), -1);

    sb_error err = {0};
    sb_password_params zero_ops = {0, 1u << 20};
    cr_assert_eq(sb_password_params_check(&zero_ops, &err), -1);
    cr_assert_eq(err.code, SB_PASSWORD_E_INVALID);
    cr_assert(strstr(err.message, "ops limit must be between 1 and"), "%s", err.message);
    sb_password_params tiny_mem = {2, 1024};
    cr_assert_eq(sb_password_params_check(&tiny_mem, &err), -1);
    cr_assert(strstr(err.message, "memory limit must be between 8192 and"), "%s", err.message);
    cr_assert_eq(sb_password_hash(&tiny_mem, pw, strlen(pw), hash, &err), -1);
    cr_assert_eq(hash[0], '\0', "no partial output");
    cr_assert_eq(sb_password_params_check(&dflt, NULL), 0);
    sb_secure_release(pw);
}

Test(password, refuses_passwords_outside_secure_memory)
{
    char heap_pw[] = "in-the-normal-heap";
    char hash[SB_PASSWORD_HASH_MAX];
    sb_error err = {0};
    cr_assert_eq(sb_password_hash(&quick, heap_pw, strlen(heap_pw), hash, &err), -1);
    cr_assert_eq(err.code, SB_PASSWORD_E_INSECURE_MEMORY);
    cr_assert_str_eq(err.message, "internal error: a password outside secure memory was passed "
                                  "to the password hasher");
    char *pw = secure_copy("in-secure-memory");
    cr_assert_eq(sb_password_hash(&quick, pw, strlen(pw), hash, &err), 0);
    cr_assert_eq(sb_password_verify(hash, heap_pw, strlen(heap_pw), &err), -1);
    cr_assert_eq(err.code, SB_PASSWORD_E_INSECURE_MEMORY);
    cr_assert_eq(sb_password_verify_dummy(&quick, heap_pw, strlen(heap_pw)), -1);
    /* A length that runs past the secure region is refused too. */
    cr_assert_eq(sb_password_verify(hash, pw, 1000, &err), -1);
    sb_secure_release(pw);
}

Test(password, empty_oversize_and_malformed)
{
    char hash[SB_PASSWORD_HASH_MAX];
    sb_error err = {0};
    char *pw = secure_copy("x");
    cr_assert_eq(sb_password_hash(&quick, pw, 0, hash, &err), -1);
    cr_assert_str_eq(err.message, "the password is empty");
    char *big = sb_secure_alloc(SB_PASSWORD_MAX_LEN + 1);
    memset(big, 'a', SB_PASSWORD_MAX_LEN + 1);
    cr_assert_eq(sb_password_hash(&quick, big, SB_PASSWORD_MAX_LEN + 1, hash, &err), -1);
    cr_assert_str_eq(err.message, "the password is longer than 1024 bytes");
    cr_assert_eq(sb_password_hash(&quick, big, SB_PASSWORD_MAX_LEN, hash, &err), 0,
                 "1024 bytes are fine");
    cr_assert_eq(sb_password_verify(hash, big, SB_PASSWORD_MAX_LEN, &err), 1);
    /* A malformed stored hash: no match, and the row is reported. */
    err.code = 0;
    cr_assert_eq(sb_password_verify("$argon2id$garbage", pw, 1, &err), 0);
    cr_assert_eq(err.code, SB_PASSWORD_E_HASH_FORMAT);
    cr_assert_str_eq(err.message,
                     "the stored password hash is not an argon2id hash; reset the password");
    cr_assert_eq(sb_password_verify(NULL, pw, 1, NULL), 0);
    cr_assert_eq(sb_password_verify_dummy(&quick, pw, 1), 0);
    sb_password_params bad = {0, 0};
    cr_assert_eq(sb_password_verify_dummy(&bad, pw, 1), -1);
    sb_secure_release(big);
    sb_secure_release(pw);
}

static double now_seconds(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static int compare_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Unknown users cost what a wrong password costs (measured, at the defaults). */
Test(password, dummy_verify_costs_as_much_as_a_real_one)
{
    sb_password_params dflt = sb_password_params_default();
    char *pw = secure_copy("the real password");
    char *guess = secure_copy("a wrong guess!!!!");
    char hash[SB_PASSWORD_HASH_MAX];
    cr_assert_eq(sb_password_hash(&dflt, pw, strlen(pw), hash, NULL), 0);
    /* Warm both paths (the dummy hash is made on first use). */
    cr_assert_eq(sb_password_verify_dummy(&dflt, guess, strlen(guess)), 0);
    cr_assert_eq(sb_password_verify(hash, guess, strlen(guess), NULL), 0);
    enum { RUNS = 5 };
    double real[RUNS], dummy[RUNS];
    for (int i = 0; i < RUNS; i++) {
        double t0 = now_seconds();
        cr_assert_eq(sb_password_verify(hash, guess, strlen(guess), NULL), 0);
        double t1 = now_seconds();
        cr_assert_eq(sb_password_verify_dummy(&dflt, guess, strlen(guess)), 0);
        double t2 = now_seconds();
        real[i] = t1 - t0;
        dummy[i] = t2 - t1;
    }
    qsort(real, RUNS, sizeof real[0], compare_double);
    qsort(dummy, RUNS, sizeof dummy[0], compare_double);
    double r = real[RUNS / 2], d = dummy[RUNS / 2];
    cr_log_info("median verify %.1f ms, dummy %.1f ms", r * 1e3, d * 1e3);
    cr_assert_gt(r, 0.005, "a real verify at the defaults takes milliseconds (%.4f s)", r);
    cr_assert(d <= 2 * r && r <= 2 * d, "dummy %.1f ms vs real %.1f ms: not within 2x", d * 1e3,
              r * 1e3);
    sb_secure_release(pw);
    sb_secure_release(guess);
}

/* ---- tokens ----------------------------------------------------------- */

static bool is_b64url(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
           c == '-' || c == '_';
}

Test(token, format_prefix_and_uniqueness)
{
    enum { N = 2000 };
    char(*seen)[SB_TOKEN_MAX] = calloc(N, SB_TOKEN_MAX);
    cr_assert_not_null(seen);
    for (int i = 0; i < N; i++) {
        sb_error err = {0};
        cr_assert_eq(sb_token_new(SB_TOKEN_PREFIX_PERSONAL, seen[i], SB_TOKEN_MAX, &err), 0, "%s",
                     err.message);
        cr_assert_eq(strlen(seen[i]), 4u + SB_TOKEN_ENCODED_LEN);
        cr_assert_eq(strncmp(seen[i], "sbp_", 4), 0);
        for (size_t k = 4; k < strlen(seen[i]); k++)
            cr_assert(is_b64url(seen[i][k]), "char %c", seen[i][k]);
        cr_assert_eq(sb_token_check_format(seen[i], strlen(seen[i]), "sbp_", &err), 0, "%s",
                     err.message);
        for (int j = 0; j < i; j++)
            cr_assert_str_neq(seen[i], seen[j], "duplicate token");
    }
    free(seen);
    char t[SB_TOKEN_MAX];
    cr_assert_eq(sb_token_new(NULL, t, SB_TOKEN_MAX, NULL), 0);
    cr_assert_eq(strlen(t), (size_t)SB_TOKEN_ENCODED_LEN);
    cr_assert_eq(sb_token_check_format(t, strlen(t), NULL, NULL), 0);
    const char *prefixes[] = {SB_TOKEN_PREFIX_SESSION, SB_TOKEN_PREFIX_ENROLLMENT,
                              SB_TOKEN_PREFIX_AGENT, "a_0123456789abcd"};
    for (size_t i = 0; i < 4; i++) {
        cr_assert_eq(sb_token_new(prefixes[i], t, SB_TOKEN_MAX, NULL), 0, "%s", prefixes[i]);
        cr_assert_eq(strncmp(t, prefixes[i], strlen(prefixes[i])), 0);
    }
}

Test(token, bad_prefixes_and_buffers)
{
    char t[SB_TOKEN_MAX];
    sb_error err = {0};
    cr_assert_eq(sb_token_new("SBP_", t, sizeof t, &err), -1);
    cr_assert_str_eq(err.message, "token prefix 'SBP_' may hold only a-z, 0-9 and '_'");
    cr_assert_eq(sb_token_new("a-b", t, sizeof t, &err), -1);
    cr_assert_eq(sb_token_new("a_0123456789abcde", t, sizeof t, &err), -1);
    cr_assert_str_eq(err.message, "token prefix is longer than 16 characters");
    cr_assert_eq(sb_token_new("sbp_", t, 4 + SB_TOKEN_ENCODED_LEN, &err), -1);
    cr_assert_str_eq(err.message, "token buffer too small: need 48 bytes, got 47");
    cr_assert_eq(sb_token_new("sbp_", t, 4 + SB_TOKEN_ENCODED_LEN + 1, &err), 0);
    cr_assert_eq(sb_token_new("sbp_", NULL, 100, &err), -1);
}

Test(token, presented_tokens_of_the_wrong_shape_are_refused_without_echo)
{
    char good[SB_TOKEN_MAX];
    cr_assert_eq(sb_token_new("sbp_", good, sizeof good, NULL), 0);
    char bad[8][SB_TOKEN_MAX + 8];
    snprintf(bad[0], sizeof bad[0], "sbs_%s", good + 4);   /* other kind */
    snprintf(bad[1], sizeof bad[1], "%s", good);
    bad[1][10] = '+';                                      /* standard base64 char */
    snprintf(bad[2], sizeof bad[2], "%s=", good);          /* padding */
    snprintf(bad[3], sizeof bad[3], "%.*s", 46, good);     /* short */
    snprintf(bad[4], sizeof bad[4], "%sA", good);          /* long */
    snprintf(bad[5], sizeof bad[5], "%s", good);
    bad[5][4 + SB_TOKEN_ENCODED_LEN - 1] = 'B';            /* non-canonical final char */
    snprintf(bad[6], sizeof bad[6], "%s", good);
    bad[6][20] = '\0';                                     /* NUL inside (len still 47) */
    snprintf(bad[7], sizeof bad[7], "%s", good);
    bad[7][4 + 5] = '.';
    static const int lens[8] = {-1, -1, -1, -1, -1, -1, 47, -1};
    for (int i = 0; i < 8; i++) {
        size_t len = lens[i] < 0 ? strlen(bad[i]) : (size_t)lens[i];
        sb_error err = {0};
        cr_assert_eq(sb_token_check_format(bad[i], len, "sbp_", &err), -1, "case %d accepted", i);
        cr_assert_eq(err.code, SB_TOKEN_E_FORMAT, "case %d", i);
        cr_assert_null(strstr(err.message, good + 8), "case %d echoes the token", i);
    }
    cr_assert_eq(sb_token_check_format(NULL, 0, "sbp_", NULL), -1);
}

static const unsigned char pepper[32] = "0123456789abcdef0123456789abcdef";

Test(token, keyed_hash_is_stable_keyed_and_covers_the_prefix)
{
    const char *tok = "sbp_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
    unsigned char h1[SB_TOKEN_HASH_BYTES], h2[SB_TOKEN_HASH_BYTES], want[SB_TOKEN_HASH_BYTES];
    cr_assert_eq(sb_token_hash(tok, strlen(tok), pepper, sizeof pepper, h1, NULL), 0);
    cr_assert_eq(sb_token_hash(tok, strlen(tok), pepper, sizeof pepper, h2, NULL), 0);
    cr_assert(sb_token_equal(h1, h2, sizeof h1), "stable");
    /* It is keyed BLAKE2b-256 of the whole string. */
    crypto_generichash(want, sizeof want, (const unsigned char *)tok, strlen(tok), pepper,
                       sizeof pepper);
    cr_assert_eq(memcmp(h1, want, sizeof want), 0);
    unsigned char plain[32];
    crypto_generichash(plain, sizeof plain, (const unsigned char *)tok, strlen(tok), NULL, 0);
    cr_assert(!sb_token_equal(h1, plain, sizeof plain), "the pepper matters");
    unsigned char other_pepper[32];
    memcpy(other_pepper, pepper, 32);
    other_pepper[31] ^= 1;
    cr_assert_eq(sb_token_hash(tok, strlen(tok), other_pepper, 32, h2, NULL), 0);
    cr_assert(!sb_token_equal(h1, h2, sizeof h1));
    const char *other_kind = "sbs_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
    cr_assert_eq(sb_token_hash(other_kind, strlen(other_kind), pepper, 32, h2, NULL), 0);
    cr_assert(!sb_token_equal(h1, h2, sizeof h1), "same random part, other kind: other hash");

    sb_error err = {0};
    cr_assert_eq(sb_token_hash(tok, strlen(tok), pepper, 31, h2, &err), -1);
    cr_assert_str_eq(err.message, "token hash: the pepper must be 32 to 64 bytes, got 31");
    cr_assert_eq(sb_token_hash(tok, 0, pepper, 32, h2, &err), -1);
    char longtok[300];
    memset(longtok, 'a', sizeof longtok);
    cr_assert_eq(sb_token_hash(longtok, sizeof longtok, pepper, 32, h2, &err), -1);
    cr_assert_eq(err.code, SB_TOKEN_E_FORMAT);
}

Test(token, constant_time_equal)
{
    unsigned char a[32], b[32];
    randombytes_buf(a, sizeof a);
    memcpy(b, a, sizeof a);
    cr_assert(sb_token_equal(a, b, sizeof a));
    b[0] ^= 0x80;
    cr_assert(!sb_token_equal(a, b, sizeof a), "first byte");
    b[0] ^= 0x80;
    b[31] ^= 0x01;
    cr_assert(!sb_token_equal(a, b, sizeof a), "last byte");
    cr_assert(!sb_token_equal(NULL, b, sizeof b));
    cr_assert(sb_token_equal(a, b, 0), "zero bytes are equal");
}

/* Secret comparisons go through sodium_memcmp: no plain memcmp in these files. */
Test(token, source_uses_constant_time_comparisons)
{
    const char *files[] = {"token.c", "jwt.c", "password.c"};
    for (size_t i = 0; i < 3; i++) {
        char path[512];
        snprintf(path, sizeof path, "%s/host/src/crypto/%s", SB_SOURCE_DIR, files[i]);
        FILE *f = fopen(path, "r");
        cr_assert_not_null(f, "%s", path);
        static char text[65536];
        size_t n = fread(text, 1, sizeof text - 1, f);
        fclose(f);
        text[n] = '\0';
        for (const char *p = strstr(text, "memcmp("); p; p = strstr(p + 1, "memcmp("))
            cr_assert(p - text >= 7 && strncmp(p - 7, "sodium_", 7) == 0,
                      "%s: a plain memcmp( at offset %td", files[i], p - text);
        if (i < 2)
            cr_assert_not_null(strstr(text, "sodium_memcmp("), "%s", files[i]);
    }
}

/* ---- JWT -------------------------------------------------------------- */

static const unsigned char secret[] = "an-hs256-secret-of-at-least-32-bytes!!";
#define SECRET_LEN (sizeof secret - 1)
#define ISS "secrets-bridge"
#define T0 1700000000

static int issue(const sb_jwt_claims *c, char *out, size_t cap)
{
    sb_error err = {0};
    int n = sb_jwt_issue(secret, SECRET_LEN, c, out, cap, &err);
    cr_assert_gt(n, 0, "issue: %s", err.message);
    return n;
}

static void verify_fails(const char *tok, size_t len, int64_t now, int code)
{
    static sb_jwt_verified v;
    sb_error err = {0};
    cr_assert_eq(sb_jwt_verify(secret, SECRET_LEN, tok, len, ISS, now, &v, &err), -1,
                 "accepted (want code %d)", code);
    cr_assert_eq(err.code, code, "code %d (%s), want %d", err.code, err.message, code);
    cr_assert_null(v.claims.sub, "claims left behind on failure");
    /* No part of the token in the message. */
    const char *dot = tok != NULL ? memchr(tok, '.', len) : NULL;
    if (dot != NULL && len - (size_t)(dot - tok) > 12) {
        char piece[12];
        memcpy(piece, dot + 1, 11);
        piece[11] = '\0';
        cr_assert_null(strstr(err.message, piece), "message echoes the token: %s", err.message);
    }
}

static const sb_jwt_claim extras[] = {{"email", "ana@example.com"},
                                      {"name", "Ana \"Quote\" \\ \xc3\xa9\n\t\x01"}};
static const sb_jwt_claims base = {ISS, "user-1234", "session-5678", T0, T0 + 3600, extras, 2};

Test(jwt, round_trip)
{
    char tok[SB_JWT_MAX_LEN + 1];
    int n = issue(&base, tok, sizeof tok);
    cr_assert_eq((size_t)n, strlen(tok));
    cr_assert_eq(strncmp(tok, "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.", 37), 0);
    cr_assert_null(strchr(tok, '='), "no padding");
    sb_jwt_verified *v = malloc(sizeof *v);
    sb_error err = {0};
    cr_assert_eq(sb_jwt_verify(secret, SECRET_LEN, tok, (size_t)n, ISS, T0 + 10, v, &err), 0,
                 "%s", err.message);
    cr_assert_str_eq(v->claims.iss, ISS);
    cr_assert_str_eq(v->claims.sub, "user-1234");
    cr_assert_str_eq(v->claims.sid, "session-5678");
    cr_assert_eq(v->claims.iat, T0);
    cr_assert_eq(v->claims.exp, T0 + 3600);
    cr_assert_eq(v->claims.extra_count, 2u);
    cr_assert_str_eq(v->claims.extra[0].name, "email");
    cr_assert_str_eq(v->claims.extra[0].value, "ana@example.com");
    cr_assert_str_eq(v->claims.extra[1].value, extras[1].value, "escapes survive");
    /* The payload is the JSON we expect (compact, fixed member order). */
    const char *p = strchr(tok, '.') + 1;
    unsigned char json[1024];
    size_t jlen = 0;
    cr_assert_eq(sodium_base642bin(json, sizeof json, p, (size_t)(strchr(p, '.') - p), NULL,
                                   &jlen, NULL, sodium_base64_VARIANT_URLSAFE_NO_PADDING),
                 0);
    json[jlen] = '\0';
    const char *want_json = "{\"iss\":\"secrets-bridge\",\"sub\":\"user-1234\",\"iat\":"
                            "1700000000,\"exp\":1700003600,\"sid\":\"session-5678\",";
    cr_assert_eq(strncmp((char *)json, want_json, strlen(want_json)), 0, "%s", json);
    /* Boundaries: valid one second before exp, expired exactly at exp. */
    cr_assert_eq(sb_jwt_verify(secret, SECRET_LEN, tok, (size_t)n, ISS, T0 + 3599, v, NULL), 0);
    verify_fails(tok, (size_t)n, T0 + 3600, SB_JWT_E_EXPIRED);
    /* iat up to 60 s in the future is tolerated (clock skew), 61 s is not. */
    cr_assert_eq(sb_jwt_verify(secret, SECRET_LEN, tok, (size_t)n, ISS, T0 - 60, v, NULL), 0);
    verify_fails(tok, (size_t)n, T0 - 61, SB_JWT_E_NOT_YET_VALID);
    free(v);
}

Test(jwt, wrong_issuer_secret_and_short_secret)
{
    char tok[SB_JWT_MAX_LEN + 1];
    int n = issue(&base, tok, sizeof tok);
    sb_jwt_verified *v = malloc(sizeof *v);
    sb_error err = {0};
    cr_assert_eq(sb_jwt_verify(secret, SECRET_LEN, tok, (size_t)n, "someone-else", T0, v, &err),
                 -1);
    cr_assert_eq(err.code, SB_JWT_E_ISSUER);
    cr_assert_str_eq(err.message, "the JWT was not issued by someone-else");
    unsigned char other[SECRET_LEN];
    memcpy(other, secret, SECRET_LEN);
    other[0] ^= 1;
    cr_assert_eq(sb_jwt_verify(other, SECRET_LEN, tok, (size_t)n, ISS, T0, v, &err), -1);
    cr_assert_eq(err.code, SB_JWT_E_SIGNATURE);
    /* The secret plus one byte: a different HMAC key. (Not a zero byte: HMAC
     * pads short keys with zeros, so K and K||0x00 are the same key.) */
    unsigned char longer[SECRET_LEN + 1];
    memcpy(longer, secret, SECRET_LEN);
    longer[SECRET_LEN] = 'x';
    cr_assert_eq(sb_jwt_verify(longer, SECRET_LEN + 1, tok, (size_t)n, ISS, T0, v, &err), -1);
    cr_assert_eq(err.code, SB_JWT_E_SIGNATURE);
    cr_assert_eq(sb_jwt_verify(secret, 31, tok, (size_t)n, ISS, T0, v, &err), -1);
    cr_assert_eq(err.code, SB_JWT_E_SECRET);
    cr_assert_str_eq(err.message, "the JWT secret must be at least 32 bytes, got 31; generate one "
                                  "with `openssl rand -base64 48`");
    cr_assert_eq(sb_jwt_issue(secret, 31, &base, tok, sizeof tok, &err), -1);
    cr_assert_eq(err.code, SB_JWT_E_SECRET);
    cr_assert_eq(sb_jwt_issue(NULL, 0, &base, tok, sizeof tok, &err), -1);
    cr_assert_eq(sb_jwt_verify(secret, 32, tok, (size_t)n, ISS, T0, v, &err), -1,
                 "exactly 32 bytes is allowed, but it is another key");
    cr_assert_eq(err.code, SB_JWT_E_SIGNATURE);
    free(v);
}

/* Signs header.payload (both given as raw JSON) with the test secret. */
static void forge(const char *header_json, const char *payload_json, char *out, size_t cap)
{
    size_t n = 0;
    sodium_bin2base64(out, cap, (const unsigned char *)header_json, strlen(header_json),
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    n = strlen(out);
    out[n++] = '.';
    sodium_bin2base64(out + n, cap - n, (const unsigned char *)payload_json, strlen(payload_json),
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    n = strlen(out);
    unsigned char mac[32];
    crypto_auth_hmacsha256_state st;
    crypto_auth_hmacsha256_init(&st, secret, SECRET_LEN);
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)out, n);
    crypto_auth_hmacsha256_final(&st, mac);
    out[n++] = '.';
    sodium_bin2base64(out + n, cap - n, mac, sizeof mac, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

#define GOOD_HEADER "{\"alg\":\"HS256\",\"typ\":\"JWT\"}"
#define GOOD_CLAIMS "\"iss\":\"secrets-bridge\",\"sub\":\"u\",\"sid\":\"s\",\"iat\":1700000000," \
                    "\"exp\":1700003600"

Test(jwt, header_must_be_exact_even_when_signed)
{
    static const char *headers[] = {
        "{\"alg\":\"none\",\"typ\":\"JWT\"}",
        "{\"alg\":\"HS512\",\"typ\":\"JWT\"}",
        "{\"alg\":\"RS256\",\"typ\":\"JWT\"}",
        "{\"typ\":\"JWT\",\"alg\":\"HS256\"}",
        "{\"alg\": \"HS256\",\"typ\":\"JWT\"}",
        "{\"alg\":\"HS256\",\"typ\":\"JWT\",\"kid\":\"x\"}",
        "{\"alg\":\"HS256\"}",
        "{\"alg\":\"hs256\",\"typ\":\"JWT\"}",
    };
    char tok[2048];
    for (size_t i = 0; i < sizeof headers / sizeof headers[0]; i++) {
        forge(headers[i], "{" GOOD_CLAIMS "}", tok, sizeof tok);
        verify_fails(tok, strlen(tok), T0, SB_JWT_E_HEADER);
    }
    /* alg:none with an empty signature, the classic. */
    char none[1024];
    forge("{\"alg\":\"none\",\"typ\":\"JWT\"}", "{" GOOD_CLAIMS "}", none, sizeof none);
    *(strrchr(none, '.') + 1) = '\0';
    verify_fails(none, strlen(none), T0, SB_JWT_E_MALFORMED);
    /* The forged token with the good header does verify (the helper is right). */
    forge(GOOD_HEADER, "{" GOOD_CLAIMS "}", tok, sizeof tok);
    sb_jwt_verified *v = malloc(sizeof *v);
    sb_error err = {0};
    cr_assert_eq(sb_jwt_verify(secret, SECRET_LEN, tok, strlen(tok), ISS, T0, v, &err), 0, "%s",
                 err.message);
    free(v);
}

Test(jwt, tampering_is_detected)
{
    char tok[SB_JWT_MAX_LEN + 1], t2[SB_JWT_MAX_LEN + 1];
    int n = issue(&base, tok, sizeof tok);
    char *payload = strchr(tok, '.') + 1;
    char *sig = strrchr(tok, '.') + 1;
    /* Flip one character of the payload. */
    memcpy(t2, tok, (size_t)n + 1);
    t2[payload - tok + 5] = t2[payload - tok + 5] == 'A' ? 'B' : 'A';
    verify_fails(t2, (size_t)n, T0, SB_JWT_E_SIGNATURE);
    /* Flip the first character of the signature. */
    memcpy(t2, tok, (size_t)n + 1);
    t2[sig - tok] = t2[sig - tok] == 'A' ? 'B' : 'A';
    verify_fails(t2, (size_t)n, T0, SB_JWT_E_SIGNATURE);
    /* A whole other payload (sub: admin) with the old signature. */
    sb_jwt_claims evil = base;
    evil.sub = "admin";
    char other[SB_JWT_MAX_LEN + 1];
    issue(&evil, other, sizeof other);
    snprintf(t2, sizeof t2, "%.*s%s", (int)(strrchr(other, '.') + 1 - other), other, sig);
    verify_fails(t2, strlen(t2), T0, SB_JWT_E_SIGNATURE);
    /* Signature of another token spliced in. */
    snprintf(t2, sizeof t2, "%.*s%s", (int)(sig - tok), tok, strrchr(other, '.') + 1);
    verify_fails(t2, strlen(t2), T0, SB_JWT_E_SIGNATURE);
    /* Header tampered (one character). */
    memcpy(t2, tok, (size_t)n + 1);
    t2[3] = 'X';
    verify_fails(t2, (size_t)n, T0, SB_JWT_E_HEADER);
}

Test(jwt, malformed_and_oversize)
{
    char tok[SB_JWT_MAX_LEN + 1];
    int n = issue(&base, tok, sizeof tok);
    const char *hdr = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9";
    char buf[SB_JWT_MAX_LEN * 2];
    static const struct {
        const char *fmt;
        int code;
    } cases[] = {
        {"", SB_JWT_E_MALFORMED},
        {"abc", SB_JWT_E_MALFORMED},
        {"%s.abc", SB_JWT_E_MALFORMED},
        {"%s..", SB_JWT_E_MALFORMED},
        {"..", SB_JWT_E_MALFORMED},
        {"%s.e30.sig.extra", SB_JWT_E_MALFORMED},
        {"%s.e30.", SB_JWT_E_MALFORMED},
        {"%s.e30.AAAA", SB_JWT_E_MALFORMED},                                      /* short sig */
        {"%s.e30.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", SB_JWT_E_MALFORMED}, /* padding */
        {"%s.e30.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA+", SB_JWT_E_MALFORMED}, /* std b64 */
        {"%s.e30.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", SB_JWT_E_SIGNATURE},
        {".e30.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", SB_JWT_E_MALFORMED},
        {" %s.e30.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", SB_JWT_E_HEADER},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *at = strstr(cases[i].fmt, "%s"); /* the header placeholder */
        if (at != NULL)
            snprintf(buf, sizeof buf, "%.*s%s%s", (int)(at - cases[i].fmt), cases[i].fmt, hdr,
                     at + 2);
        else
            snprintf(buf, sizeof buf, "%s", cases[i].fmt);
        verify_fails(buf, strlen(buf), T0, cases[i].code);
    }
    /* Oversize: 4097 bytes refused before anything else. */
    memset(buf, 'A', SB_JWT_MAX_LEN + 1);
    memcpy(buf, tok, (size_t)n);
    verify_fails(buf, SB_JWT_MAX_LEN + 1, T0, SB_JWT_E_OVERSIZE);
    /* A token with bytes after a NUL: len is what counts. */
    memcpy(buf, tok, (size_t)n);
    buf[n] = '\0';
    buf[n + 1] = 'x';
    verify_fails(buf, (size_t)n + 2, T0, SB_JWT_E_MALFORMED);
    verify_fails(NULL, 0, T0, SB_JWT_E_MALFORMED);
}

Test(jwt, payloads_that_are_not_flat_claims_are_refused_even_when_signed)
{
    static const char *payloads[] = {
        "{\"iss\":\"secrets-bridge\",\"sub\":\"u\",\"iat\":1700000000,\"exp\":1700003600}",
        "{" GOOD_CLAIMS ",\"roles\":[\"admin\"]}",
        "{" GOOD_CLAIMS ",\"x\":{\"a\":1}}",
        "{" GOOD_CLAIMS ",\"admin\":true}",
        "{" GOOD_CLAIMS ",\"n\":null}",
        "{" GOOD_CLAIMS ",\"n\":5}",
        "{" GOOD_CLAIMS ",\"sub\":\"admin\"}",
        "{" GOOD_CLAIMS ",\"x\":\"1\",\"x\":\"2\"}",
        "{" GOOD_CLAIMS ",\"aud\":\"x\"}",
        "{\"iss\":\"secrets-bridge\",\"sub\":\"u\",\"sid\":\"s\",\"iat\":1.7e9,\"exp\":1700003600}",
        "{\"iss\":\"secrets-bridge\",\"sub\":\"u\",\"sid\":\"s\",\"iat\":-1,\"exp\":1700003600}",
        "{\"iss\":\"secrets-bridge\",\"sub\":\"u\",\"sid\":\"s\",\"iat\":01700000000,\"exp\":1}",
        "{\"iss\":\"secrets-bridge\",\"sub\":\"u\",\"sid\":\"s\",\"iat\":\"1700000000\",\"exp\":1}",
        "{\"iss\":\"secrets-bridge\",\"sub\":\"u\",\"sid\":\"s\",\"iat\":1700000000,"
        "\"exp\":99999999999999999999}",
        "{\"iss\":\"secrets-bridge\",\"sub\":\"u\\u0000x\",\"sid\":\"s\",\"iat\":1700000000,"
        "\"exp\":1700003600}",
        "{\"iss\":\"secrets-bridge\",\"sub\":\"\\ud800\",\"sid\":\"s\",\"iat\":1700000000,"
        "\"exp\":1700003600}",
        "{\"iss\":\"secrets-bridge\",\"sub\":\"\xff\",\"sid\":\"s\",\"iat\":1700000000,"
        "\"exp\":1700003600}",
        "{\"iss\":\"secrets-bridge\",\"sub\":\"a\nb\",\"sid\":\"s\",\"iat\":1700000000,"
        "\"exp\":1700003600}",
        "{" GOOD_CLAIMS "} ",
        "{" GOOD_CLAIMS "}{}",
        "{" GOOD_CLAIMS ",}",
        "[" GOOD_CLAIMS "]",
        "{" GOOD_CLAIMS ",\"e\":\"\\x\"}",
        "{" GOOD_CLAIMS ",\"a\":\"1\",\"b\":\"2\",\"c\":\"3\",\"d\":\"4\",\"e\":\"5\",\"f\":\"6\","
        "\"g\":\"7\",\"h\":\"8\",\"i\":\"9\"}",
        "{\"iss\":\"secrets-bridge\",\"sub\":\"u\",\"sid\":\"s\",\"iat\":1700000000,"
        "\"exp\":1700000000}",
    };
    char tok[4096];
    for (size_t i = 0; i < sizeof payloads / sizeof payloads[0]; i++) {
        forge(GOOD_HEADER, payloads[i], tok, sizeof tok);
        sb_jwt_verified *v = malloc(sizeof *v);
        sb_error err = {0};
        int rc = sb_jwt_verify(secret, SECRET_LEN, tok, strlen(tok), ISS, T0, v, &err);
        /* " {..} " trailing whitespace is JSON-legal: accept that one only. */
        if (i == 18) {
            cr_assert_eq(rc, 0, "payload %zu: %s", i, err.message);
        } else {
            cr_assert_eq(rc, -1, "payload %zu accepted: %s", i, payloads[i]);
            cr_assert_eq(err.code, SB_JWT_E_CLAIMS, "payload %zu: code %d (%s)", i, err.code,
                         err.message);
        }
        free(v);
    }
}

Test(jwt, json_escapes_in_signed_payloads_decode)
{
    char tok[2048];
    forge(GOOD_HEADER,
          "{ \"iss\" : \"secrets-bridge\", \"sub\":\"caf\\u00e9 \\ud83d\\ude00 \\\"q\\\" \\/\","
          "\"sid\":\"s\",\"iat\":1700000000,\"exp\":1700003600,\"team\":\"\\t\"}",
          tok, sizeof tok);
    sb_jwt_verified *v = malloc(sizeof *v);
    sb_error err = {0};
    cr_assert_eq(sb_jwt_verify(secret, SECRET_LEN, tok, strlen(tok), ISS, T0, v, &err), 0, "%s",
                 err.message);
    cr_assert_str_eq(v->claims.sub, "caf\xc3\xa9 \xf0\x9f\x98\x80 \"q\" /");
    cr_assert_eq(v->claims.extra_count, 1u);
    cr_assert_str_eq(v->claims.extra[0].name, "team");
    cr_assert_str_eq(v->claims.extra[0].value, "\t");
    free(v);
}

Test(jwt, issue_refuses_bad_claims)
{
    char tok[SB_JWT_MAX_LEN + 1];
    static char big[5000];
    memset(big, 'v', sizeof big - 1);
    sb_jwt_claim too_big[] = {{"blob", big}};
    sb_jwt_claim reserved[] = {{"exp", "x"}};
    sb_jwt_claim dup[] = {{"a", "1"}, {"a", "2"}};
    sb_jwt_claim bad_name[] = {{"A-B", "1"}};
    sb_jwt_claim bad_utf8[] = {{"a", "\xc3"}};
    sb_jwt_claim nine[9] = {{"a", ""}, {"b", ""}, {"c", ""}, {"d", ""}, {"e", ""},
                            {"f", ""}, {"g", ""}, {"h", ""}, {"i", ""}};
    struct {
        sb_jwt_claims c;
        int code;
        const char *message;
    } cases[] = {
        {{ISS, "u", "s", T0, T0 + 1, too_big, 1}, SB_JWT_E_OVERSIZE, NULL},
        {{ISS, "u", "s", T0, T0 + 1, reserved, 1}, SB_JWT_E_INVALID,
         "JWT extra claim 'exp' is a reserved name"},
        {{ISS, "u", "s", T0, T0 + 1, dup, 2}, SB_JWT_E_INVALID,
         "JWT extra claim 'a' is given twice"},
        {{ISS, "u", "s", T0, T0 + 1, bad_name, 1}, SB_JWT_E_INVALID,
         "JWT extra claim 0: name may hold only a-z, 0-9 and '_'"},
        {{ISS, "u", "s", T0, T0 + 1, bad_utf8, 1}, SB_JWT_E_INVALID,
         "JWT extra claim 'a': value missing or not valid UTF-8"},
        {{ISS, "u", "s", T0, T0 + 1, nine, 9}, SB_JWT_E_INVALID, "at most 8 extra JWT claims"},
        {{ISS, NULL, "s", T0, T0 + 1, NULL, 0}, SB_JWT_E_INVALID, "JWT claim sub is missing"},
        {{ISS, "u", "", T0, T0 + 1, NULL, 0}, SB_JWT_E_INVALID, "JWT claim sid is missing"},
        {{"", "u", "s", T0, T0 + 1, NULL, 0}, SB_JWT_E_INVALID, "JWT claim iss is missing"},
        {{ISS, "u", "s", T0, T0, NULL, 0}, SB_JWT_E_INVALID,
         "JWT times: iat must be >= 0 and exp later than iat"},
        {{ISS, "u", "s", -1, T0, NULL, 0}, SB_JWT_E_INVALID,
         "JWT times: iat must be >= 0 and exp later than iat"},
        {{ISS, "u\xff", "s", T0, T0 + 1, NULL, 0}, SB_JWT_E_INVALID,
         "JWT claim sub is not valid UTF-8"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        sb_error err = {0};
        cr_assert_eq(sb_jwt_issue(secret, SECRET_LEN, &cases[i].c, tok, sizeof tok, &err), -1,
                     "case %zu issued", i);
        cr_assert_eq(err.code, cases[i].code, "case %zu: %s", i, err.message);
        if (cases[i].message)
            cr_assert_str_eq(err.message, cases[i].message, "case %zu", i);
    }
    /* A buffer one byte short. */
    char small[SB_JWT_MAX_LEN + 1];
    int n = issue(&base, small, sizeof small);
    sb_error err = {0};
    cr_assert_eq(sb_jwt_issue(secret, SECRET_LEN, &base, small, (size_t)n, &err), -1);
    cr_assert_eq(err.code, SB_JWT_E_INVALID);
    cr_assert_eq(sb_jwt_issue(secret, SECRET_LEN, &base, small, (size_t)n + 1, &err), n);
    /* The largest token that issues also verifies (4096 bytes at most). */
    static char fill[3200];
    memset(fill, 'x', sizeof fill - 1);
    size_t lo = 0, hi = sizeof fill - 1;
    while (lo < hi) { /* longest claim value that still issues */
        size_t mid = (lo + hi + 1) / 2;
        fill[mid] = '\0';
        sb_jwt_claim one[] = {{"pad", fill}};
        sb_jwt_claims c = {ISS, "u", "s", T0, T0 + 10, one, 1};
        if (sb_jwt_issue(secret, SECRET_LEN, &c, tok, sizeof tok, NULL) > 0)
            lo = mid;
        else
            hi = mid - 1;
        fill[mid] = 'x';
    }
    fill[lo] = '\0';
    sb_jwt_claim one[] = {{"pad", fill}};
    sb_jwt_claims c = {ISS, "u", "s", T0, T0 + 10, one, 1};
    n = sb_jwt_issue(secret, SECRET_LEN, &c, tok, sizeof tok, NULL);
    cr_assert_gt(n, SB_JWT_MAX_LEN - 8);
    cr_assert_leq(n, SB_JWT_MAX_LEN);
    sb_jwt_verified *v = malloc(sizeof *v);
    cr_assert_eq(sb_jwt_verify(secret, SECRET_LEN, tok, (size_t)n, ISS, T0, v, &err), 0, "%s",
                 err.message);
    cr_assert_eq(strlen(v->claims.extra[0].value), lo);
    free(v);
}
