/*
 * test_oidc_id_token.c — crypto/oidc_id_token.h and crypto/rs256.h without a
 * network: keys made here with OpenSSL, tokens signed here, every check
 * the verifier promises tried on its own (shape, algorithm, key choice,
 * signature, iss, aud/azp, exp/iat/nbf with skew, nonce, sub), and JWKS
 * documents with weak, foreign or broken keys.
 */
#include <criterion/criterion.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/oidc_id_token.h"

#define NOW 1900000000
#define ISS "https://id.example.com"

static EVP_PKEY *key_a, *key_b, *key_small;

static void b64url(const unsigned char *in, size_t len, char *out, size_t cap)
{
    sodium_bin2base64(out, cap, in, len, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

static void jwk(EVP_PKEY *k, const char *kid, const char *extra, char *out, size_t cap)
{
    BIGNUM *n = NULL, *e = NULL;
    EVP_PKEY_get_bn_param(k, OSSL_PKEY_PARAM_RSA_N, &n);
    EVP_PKEY_get_bn_param(k, OSSL_PKEY_PARAM_RSA_E, &e);
    unsigned char nb[1024], eb[16];
    int nl = BN_bn2bin(n, nb), el = BN_bn2bin(e, eb);
    char ns[1400], es[32];
    b64url(nb, (size_t)nl, ns, sizeof ns);
    b64url(eb, (size_t)el, es, sizeof es);
    snprintf(out, cap, "{\"kty\":\"RSA\"%s%s%s,\"n\":\"%s\",\"e\":\"%s\"%s}", kid ? ",\"kid\":\"" : "",
             kid ? kid : "", kid ? "\"" : "", ns, es, extra ? extra : "");
    BN_free(n);
    BN_free(e);
}

static sb_oidc_jwks *jwks_of(const char *keys_json)
{
    char doc[8192];
    snprintf(doc, sizeof doc, "{\"keys\":[%s]}", keys_json);
    sb_oidc_jwks *set = NULL;
    sb_error err = {0};
    cr_assert_eq(sb_oidc_jwks_parse(doc, strlen(doc), &set, &err), 0, "%s", err.message);
    return set;
}

/* header.payload.signature with k (NULL: an empty signature). */
static char *sign(EVP_PKEY *k, const char *header, const char *payload)
{
    char h[1024], p[4096];
    b64url((const unsigned char *)header, strlen(header), h, sizeof h);
    b64url((const unsigned char *)payload, strlen(payload), p, sizeof p);
    char *token = malloc(8192);
    int n = snprintf(token, 8192, "%s.%s.", h, p);
    if (k) {
        unsigned char sig[512];
        size_t sl = sizeof sig;
        EVP_MD_CTX *md = EVP_MD_CTX_new();
        cr_assert(EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, k) == 1);
        cr_assert(EVP_DigestSign(md, sig, &sl, (unsigned char *)token, (size_t)n - 1) == 1);
        EVP_MD_CTX_free(md);
        b64url(sig, sl, token + n, 8192 - (size_t)n);
    }
    return token;
}

static const char *claims(const char *over)
{
    static char buf[2048];
    snprintf(buf, sizeof buf,
             "{\"iss\":\"" ISS "\",\"aud\":\"sbridge\",\"sub\":\"u-1\",\"iat\":%d,\"exp\":%d,"
             "\"nonce\":\"n-1\",\"email\":\"ada@example.com\",\"email_verified\":true%s}",
             NOW, NOW + 300, over ? over : "");
    return buf;
}

static int verify(const sb_oidc_jwks *set, const char *token, sb_oidc_claims *c, sb_error *err)
{
    sb_oidc_expect x = {ISS, "sbridge", "n-1", NOW, 60, "preferred_username"};
    return sb_oidc_id_token_verify(set, token, strlen(token), &x, c, err);
}

static void setup(void)
{
    if (key_a == NULL) {
        key_a = EVP_RSA_gen(2048);
        key_b = EVP_RSA_gen(2048);
        key_small = EVP_RSA_gen(1024);
    }
}
TestSuite(oidc_id_token, .init = setup, .timeout = 60);

static const char *H = "{\"alg\":\"RS256\",\"typ\":\"JWT\",\"kid\":\"a\"}";

static int code_of(const sb_oidc_jwks *set, const char *header, const char *payload, EVP_PKEY *k)
{
    char *t = sign(k, header, payload);
    sb_oidc_claims c;
    sb_error err = {0};
    int rc = verify(set, t, &c, &err);
    free(t);
    return rc == 0 ? 0 : err.code;
}

Test(oidc_id_token, a_good_token_verifies_and_names_the_user)
{
    char ka[2048];
    jwk(key_a, "a", NULL, ka, sizeof ka);
    sb_oidc_jwks *set = jwks_of(ka);
    char *t = sign(key_a, H, claims(",\"preferred_username\":\"ada\",\"name\":\"Ada\""));
    sb_oidc_claims c;
    sb_error err = {0};
    cr_assert_eq(verify(set, t, &c, &err), 0, "%s", err.message);
    cr_assert_str_eq(c.sub, "u-1");
    cr_assert_str_eq(c.username, "ada");
    cr_assert_str_eq(c.name, "Ada");
    cr_assert(c.email_verified);
    free(t);
    cr_assert_eq(code_of(set, H, claims(NULL), key_a), 0);
    t = sign(key_a, H, claims(NULL));
    verify(set, t, &c, &err);
    cr_assert_str_eq(c.username, "ada@example.com", "without the claim, the email names the user");
    free(t);
    sb_oidc_jwks_free(set);
}

Test(oidc_id_token, algorithms_other_than_rs256_are_refused_first)
{
    char ka[2048];
    jwk(key_a, "a", NULL, ka, sizeof ka);
    sb_oidc_jwks *set = jwks_of(ka);
    cr_assert_eq(code_of(set, "{\"alg\":\"none\"}", claims(NULL), NULL), SB_OIDC_E_ALGORITHM);
    cr_assert_eq(code_of(set, "{\"alg\":\"HS256\",\"kid\":\"a\"}", claims(NULL), key_a), SB_OIDC_E_ALGORITHM);
    cr_assert_eq(code_of(set, "{\"alg\":\"RS512\",\"kid\":\"a\"}", claims(NULL), key_a), SB_OIDC_E_ALGORITHM);
    cr_assert_eq(code_of(set, "{\"alg\":\"RS256\",\"kid\":\"a\",\"crit\":[\"x\"]}", claims(NULL), key_a),
                 SB_OIDC_E_ALGORITHM);
    cr_assert_eq(code_of(set, "{\"kid\":\"a\"}", claims(NULL), key_a), SB_OIDC_E_ALGORITHM);
    sb_oidc_jwks_free(set);
}

Test(oidc_id_token, the_key_is_chosen_by_kid)
{
    char ka[2048], kb[2048], both[4200];
    jwk(key_a, "a", NULL, ka, sizeof ka);
    jwk(key_b, "b", NULL, kb, sizeof kb);
    snprintf(both, sizeof both, "%s,%s", ka, kb);
    sb_oidc_jwks *set = jwks_of(both);
    cr_assert_eq(sb_oidc_jwks_count(set), 2);
    cr_assert_eq(code_of(set, "{\"alg\":\"RS256\",\"kid\":\"b\"}", claims(NULL), key_b), 0);
    cr_assert_eq(code_of(set, "{\"alg\":\"RS256\",\"kid\":\"b\"}", claims(NULL), key_a), SB_OIDC_E_SIGNATURE);
    cr_assert_eq(code_of(set, "{\"alg\":\"RS256\",\"kid\":\"c\"}", claims(NULL), key_a), SB_OIDC_E_UNKNOWN_KID);
    cr_assert_eq(code_of(set, "{\"alg\":\"RS256\"}", claims(NULL), key_a), SB_OIDC_E_UNKNOWN_KID,
                 "no kid is ambiguous among two keys");
    cr_assert_eq(code_of(set, "{\"alg\":\"RS256\",\"kid\":7}", claims(NULL), key_a), SB_OIDC_E_MALFORMED);
    sb_oidc_jwks_free(set);
    set = jwks_of(ka);
    cr_assert_eq(code_of(set, "{\"alg\":\"RS256\"}", claims(NULL), key_a), 0, "no kid: the only key");
    sb_oidc_jwks_free(set);
}

Test(oidc_id_token, claims_are_checked_one_by_one)
{
    char ka[2048];
    jwk(key_a, "a", NULL, ka, sizeof ka);
    sb_oidc_jwks *set = jwks_of(ka);
    char p[1024];
#define PAYLOAD(...) (snprintf(p, sizeof p, __VA_ARGS__), p)
    cr_assert_eq(code_of(set, H, PAYLOAD("{\"iss\":\"https://other\",\"aud\":\"sbridge\",\"sub\":\"u\",\"iat\":%d,\"exp\":%d,\"nonce\":\"n-1\"}", NOW, NOW + 60), key_a), SB_OIDC_E_ISSUER);
    cr_assert_eq(code_of(set, H, PAYLOAD("{\"iss\":\"" ISS "\",\"aud\":[\"x\",\"sbridge\"],\"sub\":\"u\",\"iat\":%d,\"exp\":%d,\"nonce\":\"n-1\"}", NOW, NOW + 60), key_a), SB_OIDC_E_AUDIENCE, "several audiences need azp");
    cr_assert_eq(code_of(set, H, PAYLOAD("{\"iss\":\"" ISS "\",\"aud\":[\"x\",\"sbridge\"],\"azp\":\"sbridge\",\"sub\":\"u\",\"iat\":%d,\"exp\":%d,\"nonce\":\"n-1\"}", NOW, NOW + 60), key_a), 0);
    cr_assert_eq(code_of(set, H, PAYLOAD("{\"iss\":\"" ISS "\",\"aud\":\"sbridge\",\"azp\":\"x\",\"sub\":\"u\",\"iat\":%d,\"exp\":%d,\"nonce\":\"n-1\"}", NOW, NOW + 60), key_a), SB_OIDC_E_AUDIENCE);
    cr_assert_eq(code_of(set, H, PAYLOAD("{\"iss\":\"" ISS "\",\"aud\":\"sbridge\",\"sub\":\"u\",\"iat\":%d,\"exp\":%d,\"nonce\":\"n-1\"}", NOW - 600, NOW - 30), key_a), 0, "expired within the skew");
    cr_assert_eq(code_of(set, H, PAYLOAD("{\"iss\":\"" ISS "\",\"aud\":\"sbridge\",\"sub\":\"u\",\"iat\":%d,\"exp\":%d,\"nonce\":\"n-1\"}", NOW - 600, NOW - 61), key_a), SB_OIDC_E_EXPIRED);
    cr_assert_eq(code_of(set, H, PAYLOAD("{\"iss\":\"" ISS "\",\"aud\":\"sbridge\",\"sub\":\"u\",\"iat\":%d,\"exp\":%d,\"nonce\":\"n-1\"}", NOW + 61, NOW + 600), key_a), SB_OIDC_E_NOT_YET_VALID);
    cr_assert_eq(code_of(set, H, PAYLOAD("{\"iss\":\"" ISS "\",\"aud\":\"sbridge\",\"sub\":\"u\",\"iat\":%d,\"exp\":%d,\"nbf\":%d,\"nonce\":\"n-1\"}", NOW, NOW + 600, NOW + 120), key_a), SB_OIDC_E_NOT_YET_VALID);
    cr_assert_eq(code_of(set, H, PAYLOAD("{\"iss\":\"" ISS "\",\"aud\":\"sbridge\",\"sub\":\"u\",\"exp\":%d,\"nonce\":\"n-1\"}", NOW + 60), key_a), SB_OIDC_E_CLAIMS, "iat is required");
    cr_assert_eq(code_of(set, H, PAYLOAD("{\"iss\":\"" ISS "\",\"aud\":\"sbridge\",\"sub\":\"u\",\"iat\":%d,\"exp\":%d}", NOW, NOW + 60), key_a), SB_OIDC_E_NONCE);
    cr_assert_eq(code_of(set, H, PAYLOAD("{\"iss\":\"" ISS "\",\"aud\":\"sbridge\",\"sub\":\"u\",\"iat\":%d,\"exp\":%d,\"nonce\":\"n-10\"}", NOW, NOW + 60), key_a), SB_OIDC_E_NONCE);
    cr_assert_eq(code_of(set, H, PAYLOAD("{\"iss\":\"" ISS "\",\"aud\":\"sbridge\",\"sub\":\"\",\"iat\":%d,\"exp\":%d,\"nonce\":\"n-1\"}", NOW, NOW + 60), key_a), SB_OIDC_E_CLAIMS);
    cr_assert_eq(code_of(set, H, PAYLOAD("{\"iss\":\"" ISS "\",\"aud\":\"sbridge\",\"iat\":%d,\"exp\":%d,\"nonce\":\"n-1\"}", NOW, NOW + 60), key_a), SB_OIDC_E_CLAIMS);
    cr_assert_eq(code_of(set, H, "{\"iss\":1,\"iss\":2}", key_a), SB_OIDC_E_MALFORMED, "duplicate keys");
#undef PAYLOAD
    sb_oidc_jwks_free(set);
}

Test(oidc_id_token, malformed_tokens_are_refused)
{
    char ka[2048];
    jwk(key_a, "a", NULL, ka, sizeof ka);
    sb_oidc_jwks *set = jwks_of(ka);
    const char *bad[] = {"", "abc", "a.b", "a.b.c.d", ".b.c", "a..c", "!!!.e30.c", "W10.e30.c" /* [] */};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        sb_oidc_claims c;
        sb_error err = {0};
        cr_assert_eq(verify(set, bad[i], &c, &err), -1, "accepted '%s'", bad[i]);
        cr_assert_eq(err.code, SB_OIDC_E_MALFORMED, "'%s': %s", bad[i], err.message);
    }
    char *t = sign(key_a, H, claims(NULL));
    char *dot = strrchr(t, '.');
    dot[-2] = dot[-2] == 'A' ? 'B' : 'A'; /* the payload changed after signing */
    sb_oidc_claims c;
    sb_error err = {0};
    cr_assert_eq(verify(set, t, &c, &err), -1);
    cr_assert_eq(err.code, SB_OIDC_E_SIGNATURE);
    free(t);
    sb_oidc_jwks_free(set);
}

Test(oidc_id_token, jwks_keeps_only_strong_rsa_signing_keys)
{
    char small[2048], enc[2048], es256[64], doc[8192];
    jwk(key_small, "s", NULL, small, sizeof small);
    jwk(key_a, "e", ",\"use\":\"enc\"", enc, sizeof enc);
    snprintf(es256, sizeof es256, "{\"kty\":\"EC\",\"kid\":\"ec\",\"crv\":\"P-256\"}");
    snprintf(doc, sizeof doc, "{\"keys\":[%s,%s,%s]}", small, enc, es256);
    sb_oidc_jwks *set = NULL;
    sb_error err = {0};
    cr_assert_eq(sb_oidc_jwks_parse(doc, strlen(doc), &set, &err), -1);
    cr_assert_eq(err.code, SB_OIDC_E_KEYS);
    cr_assert_null(set);
    cr_assert(strstr(err.message, "2048"), "%s", err.message);
    const char *broken[] = {"", "[]", "{\"keys\":{}}", "{\"keys\":[{\"kty\":\"RSA\",\"n\":\"!!\",\"e\":\"AQAB\"}]}"};
    for (size_t i = 0; i < sizeof broken / sizeof broken[0]; i++) {
        err.code = 0;
        cr_assert_eq(sb_oidc_jwks_parse(broken[i], strlen(broken[i]), &set, &err), -1, "%s", broken[i]);
        cr_assert_eq(err.code, SB_OIDC_E_KEYS, "%s", broken[i]);
    }
}
