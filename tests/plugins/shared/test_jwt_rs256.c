/*
 * tests/plugins/shared/test_jwt_rs256.c — plugins/shared/jwt_rs256: a token
 * signed with a fresh RSA key has the compact form with the exact base64url
 * header and claims, verifies with the public key (by the module and by
 * OpenSSL directly, over the exact signing input), and fails after any
 * tampering (claims, signature, other key, alg); bad keys are refused with a
 * reason; PKCS#1 keys and certificates work too; base64url has no padding.
 */
#include "jwt_rs256.h"

#include <criterion/criterion.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <stdlib.h>
#include <string.h>

typedef struct buf {
    char *p;
    size_t len;
    int fail_after; /* appends allowed before failing; 0: never fail */
    int calls;
} buf;

static int buf_append(void *ctx, const void *data, size_t len)
{
    buf *b = ctx;
    if (b->fail_after && ++b->calls > b->fail_after)
        return -1;
    b->p = realloc(b->p, b->len + len + 1);
    memcpy(b->p + b->len, data, len);
    b->len += len;
    b->p[b->len] = '\0';
    return 0;
}

static char *pem_of(EVP_PKEY *key, int private_key, int pkcs1)
{
    BIO *bio = BIO_new(BIO_s_mem());
    int ok = private_key ? (pkcs1 ? PEM_write_bio_PrivateKey_traditional(bio, key, NULL, NULL, 0,
                                                                       NULL, NULL)
                                  : PEM_write_bio_PrivateKey(bio, key, NULL, NULL, 0, NULL, NULL))
                         : PEM_write_bio_PUBKEY(bio, key);
    cr_assert_eq(ok, 1);
    char *data;
    long n = BIO_get_mem_data(bio, &data);
    char *out = strndup(data, (size_t)n);
    BIO_free(bio);
    return out;
}

static EVP_PKEY *key_a, *key_b;
static char *priv_a, *pub_a, *pub_b;

static void setup(void)
{
    key_a = EVP_RSA_gen(2048);
    key_b = EVP_RSA_gen(2048);
    cr_assert(key_a && key_b);
    priv_a = pem_of(key_a, 1, 0);
    pub_a = pem_of(key_a, 0, 0);
    pub_b = pem_of(key_b, 0, 0);
}

static void teardown(void)
{
    EVP_PKEY_free(key_a);
    EVP_PKEY_free(key_b);
    free(priv_a);
    free(pub_a);
    free(pub_b);
}

TestSuite(jwt_rs256, .init = setup, .fini = teardown, .timeout = 60);

static const char HEADER[] = "{\"alg\":\"RS256\",\"typ\":\"JWT\",\"kid\":\"k1\"}";
static const char CLAIMS[] = "{\"iss\":\"sa@p.iam.gserviceaccount.com\",\"aud\":\"https://"
                             "oauth2.googleapis.com/token\",\"iat\":1700000000,\"exp\":1700003600}";

static char *sign_with(const char *pem, const char **why)
{
    buf b = {0};
    int rc = sb_jwt_rs256_sign(HEADER, strlen(HEADER), CLAIMS, strlen(CLAIMS),
                               (const unsigned char *)pem, strlen(pem), buf_append, &b, why);
    if (rc != 0) {
        free(b.p);
        return NULL;
    }
    return b.p;
}

static char *b64url_text(const char *text)
{
    buf b = {0};
    cr_assert_eq(sb_jwt_b64url(text, strlen(text), buf_append, &b), 0);
    return b.p ? b.p : strdup("");
}

Test(jwt_rs256, signed_token_has_the_compact_form_and_verifies)
{
    const char *why = NULL;
    char *jwt = sign_with(priv_a, &why);
    cr_assert_not_null(jwt, "%s", why);
    char *h = b64url_text(HEADER), *c = b64url_text(CLAIMS);
    cr_assert_eq(strncmp(jwt, h, strlen(h)), 0, "header part");
    cr_assert_eq(jwt[strlen(h)], '.');
    cr_assert_eq(strncmp(jwt + strlen(h) + 1, c, strlen(c)), 0, "claims part");
    const char *sig = jwt + strlen(h) + 1 + strlen(c);
    cr_assert_eq(sig[0], '.');
    cr_assert_eq(strlen(sig + 1), 342, "a 2048-bit signature is 256 bytes = 342 base64url chars");
    cr_assert_null(strpbrk(jwt, "=+/"), "base64url has no padding, + or /");

    cr_assert_eq(sb_jwt_rs256_verify(jwt, strlen(jwt), (const unsigned char *)pub_a,
                                     strlen(pub_a), &why),
                 0, "%s", why);

    /* independent check: OpenSSL verifies the signature over the signing input */
    unsigned char raw[512];
    size_t siglen = strlen(sig + 1);
    char padded[400];
    snprintf(padded, sizeof padded, "%s", sig + 1);
    for (char *p = padded; *p; p++)
        *p = *p == '-' ? '+' : *p == '_' ? '/' : *p;
    strcat(padded, siglen % 4 == 2 ? "==" : siglen % 4 == 3 ? "=" : "");
    int n = EVP_DecodeBlock(raw, (const unsigned char *)padded, (int)strlen(padded));
    cr_assert_geq(n, 256);
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    cr_assert_eq(EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, key_a), 1);
    cr_assert_eq(EVP_DigestVerify(md, raw, 256, (const unsigned char *)jwt,
                                  (size_t)(sig - jwt)),
                 1);
    EVP_MD_CTX_free(md);
    free(h);
    free(c);
    free(jwt);
}

Test(jwt_rs256, tampered_tokens_fail)
{
    const char *why = NULL;
    char *jwt = sign_with(priv_a, &why);
    cr_assert_not_null(jwt);
    size_t len = strlen(jwt);
    char *dot1 = strchr(jwt, '.');

    /* another public key */
    cr_assert_eq(sb_jwt_rs256_verify(jwt, len, (const unsigned char *)pub_b, strlen(pub_b), &why),
                 -1);
    cr_assert_str_eq(why, "the RS256 signature does not verify with this public key");

    /* one character of the claims changed */
    char *t = strdup(jwt);
    t[dot1 - jwt + 5] = t[dot1 - jwt + 5] == 'A' ? 'B' : 'A';
    cr_assert_eq(sb_jwt_rs256_verify(t, len, (const unsigned char *)pub_a, strlen(pub_a), &why),
                 -1);
    free(t);

    /* one character of the signature changed */
    t = strdup(jwt);
    t[len - 10] = t[len - 10] == 'A' ? 'B' : 'A';
    cr_assert_eq(sb_jwt_rs256_verify(t, len, (const unsigned char *)pub_a, strlen(pub_a), &why),
                 -1);
    free(t);

    /* the header swapped for alg none, a part missing, a part too many */
    char *none = b64url_text("{\"alg\":\"none\"}");
    char swapped[2048];
    snprintf(swapped, sizeof swapped, "%s%s", none, dot1);
    cr_assert_eq(sb_jwt_rs256_verify(swapped, strlen(swapped), (const unsigned char *)pub_a,
                                     strlen(pub_a), &why),
                 -1);
    cr_assert_str_eq(why, "the JWT header does not say alg RS256");
    free(none);
    cr_assert_eq(sb_jwt_rs256_verify(jwt, (size_t)(strrchr(jwt, '.') - jwt),
                                     (const unsigned char *)pub_a, strlen(pub_a), &why),
                 -1);
    snprintf(swapped, sizeof swapped, "%s.x", jwt);
    cr_assert_eq(sb_jwt_rs256_verify(swapped, strlen(swapped), (const unsigned char *)pub_a,
                                     strlen(pub_a), &why),
                 -1);
    free(jwt);
}

Test(jwt_rs256, bad_keys_are_refused_with_a_reason)
{
    const char *why = NULL;
    cr_assert_null(sign_with("not a key", &why));
    cr_assert_not_null(strstr(why, "not a PEM RSA private key"), "%s", why);
    EVP_PKEY *small = EVP_RSA_gen(1024);
    char *small_pem = pem_of(small, 1, 0);
    cr_assert_null(sign_with(small_pem, &why));
    cr_assert_str_eq(why, "the RSA key is shorter than 2048 bits");
    free(small_pem);
    EVP_PKEY_free(small);
    EVP_PKEY *ec = EVP_EC_gen("P-256");
    char *ec_pem = pem_of(ec, 1, 0);
    cr_assert_null(sign_with(ec_pem, &why));
    cr_assert_str_eq(why, "the private key is not an RSA key (RS256 needs RSA)");
    free(ec_pem);
    EVP_PKEY_free(ec);
    /* an append failure is reported, not ignored */
    buf b = {.fail_after = 1};
    cr_assert_eq(sb_jwt_rs256_sign(HEADER, strlen(HEADER), CLAIMS, strlen(CLAIMS),
                                   (const unsigned char *)priv_a, strlen(priv_a), buf_append, &b,
                                   &why),
                 -1);
    free(b.p);
}

Test(jwt_rs256, pkcs1_keys_and_certificates)
{
    const char *why = NULL;
    char *pkcs1 = pem_of(key_a, 1, 1);
    cr_assert_not_null(strstr(pkcs1, "BEGIN RSA PRIVATE KEY"));
    char *jwt = sign_with(pkcs1, &why);
    cr_assert_not_null(jwt, "%s", why);
    /* a self-signed certificate of key_a verifies it (azurekv's case) */
    X509 *cert = X509_new();
    X509_set_version(cert, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(cert), 1);
    X509_gmtime_adj(X509_getm_notBefore(cert), 0);
    X509_gmtime_adj(X509_getm_notAfter(cert), 3600);
    X509_set_pubkey(cert, key_a);
    X509_NAME_add_entry_by_txt(X509_get_subject_name(cert), "CN", MBSTRING_ASC,
                               (const unsigned char *)"t", -1, -1, 0);
    X509_set_issuer_name(cert, X509_get_subject_name(cert));
    cr_assert_gt(X509_sign(cert, key_a, EVP_sha256()), 0);
    BIO *bio = BIO_new(BIO_s_mem());
    PEM_write_bio_X509(bio, cert);
    char *data;
    long n = BIO_get_mem_data(bio, &data);
    cr_assert_eq(sb_jwt_rs256_verify(jwt, strlen(jwt), (const unsigned char *)data, (size_t)n,
                                     &why),
                 0, "%s", why);
    BIO_free(bio);
    X509_free(cert);
    free(jwt);
    free(pkcs1);
}

Test(jwt_rs256, b64url_has_no_padding)
{
    const struct {
        const char *in, *out;
    } v[] = {{"", ""}, {"f", "Zg"}, {"fo", "Zm8"}, {"foo", "Zm9v"}, {"foob", "Zm9vYg"},
             {"\xfb\xff", "-_8"}};
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        char *o = b64url_text(v[i].in);
        cr_assert_str_eq(o, v[i].out);
        free(o);
    }
}
