/*
 * plugins/shared/jwt_rs256.c — RS256 compact JWS signing and verification
 * (see jwt_rs256.h for the contract).
 *
 * The signing input `b64url(header) "." b64url(claims)` is streamed twice
 * in step: into the EVP digest-sign context and out through the caller's
 * append callback, so nothing but small stack scratch holds token text here.
 */
#include "jwt_rs256.h"

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <string.h>

#define MIN_RSA_BITS 2048
#define MAX_SIGNATURE 1024 /* bytes: RSA up to 8192 bits */

static const char b64url_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

int sb_jwt_b64url(const void *data, size_t len, sb_jwt_append_fn append, void *ctx)
{
    const unsigned char *in = data;
    char chunk[64];
    size_t used = 0;
    int rc = 0;
    for (size_t i = 0; i < len && rc == 0; i += 3) {
        unsigned v = (unsigned)in[i] << 16;
        if (i + 1 < len)
            v |= (unsigned)in[i + 1] << 8;
        if (i + 2 < len)
            v |= in[i + 2];
        chunk[used++] = b64url_alphabet[(v >> 18) & 63];
        chunk[used++] = b64url_alphabet[(v >> 12) & 63];
        if (i + 1 < len)
            chunk[used++] = b64url_alphabet[(v >> 6) & 63];
        if (i + 2 < len)
            chunk[used++] = b64url_alphabet[v & 63];
        if (used + 4 > sizeof chunk) {
            rc = append(ctx, chunk, used);
            used = 0;
        }
    }
    if (rc == 0 && used)
        rc = append(ctx, chunk, used);
    OPENSSL_cleanse(chunk, sizeof chunk);
    return rc;
}

/* Feeds every piece both to the digest and to the caller. */
typedef struct tee {
    EVP_MD_CTX *md;
    sb_jwt_append_fn append;
    void *ctx;
} tee;

static int tee_append(void *p, const void *data, size_t len)
{
    tee *t = p;
    if (EVP_DigestSignUpdate(t->md, data, len) != 1)
        return -1;
    return t->append(t->ctx, data, len);
}

static EVP_PKEY *load_private(const unsigned char *pem, size_t len, const char **why)
{
    if (pem == NULL || len == 0 || len > 64 * 1024) {
        *why = "the private key is empty or too large";
        return NULL;
    }
    BIO *bio = BIO_new_mem_buf(pem, (int)len);
    EVP_PKEY *key = bio ? PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL) : NULL;
    BIO_free(bio);
    if (key == NULL) {
        *why = "the private key is not a PEM RSA private key (PKCS#8 or PKCS#1)";
        return NULL;
    }
    if (EVP_PKEY_get_base_id(key) != EVP_PKEY_RSA) {
        EVP_PKEY_free(key);
        *why = "the private key is not an RSA key (RS256 needs RSA)";
        return NULL;
    }
    if (EVP_PKEY_get_bits(key) < MIN_RSA_BITS) {
        EVP_PKEY_free(key);
        *why = "the RSA key is shorter than 2048 bits";
        return NULL;
    }
    return key;
}

int sb_jwt_rs256_sign(const char *header_json, size_t header_len, const char *claims_json,
                      size_t claims_len, const unsigned char *key_pem, size_t key_pem_len,
                      sb_jwt_append_fn append, void *ctx, const char **why)
{
    const char *ignored;
    if (why == NULL)
        why = &ignored;
    if (header_json == NULL || claims_json == NULL || append == NULL) {
        *why = "header, claims and append must be given";
        return -1;
    }
    EVP_PKEY *key = load_private(key_pem, key_pem_len, why);
    if (key == NULL)
        return -1;
    int rc = -1;
    unsigned char sig[MAX_SIGNATURE];
    size_t sig_len = sizeof sig;
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    tee t = {md, append, ctx};
    if (md == NULL || EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, key) != 1) {
        *why = "OpenSSL could not start an RS256 signature";
    } else if (sb_jwt_b64url(header_json, header_len, tee_append, &t) != 0 ||
               tee_append(&t, ".", 1) != 0 ||
               sb_jwt_b64url(claims_json, claims_len, tee_append, &t) != 0) {
        *why = "could not append the token (out of memory?)";
    } else if (EVP_PKEY_get_size(key) > (int)sizeof sig ||
               EVP_DigestSignFinal(md, sig, &sig_len) != 1) {
        *why = "OpenSSL could not compute the RS256 signature";
    } else if (append(ctx, ".", 1) != 0 || sb_jwt_b64url(sig, sig_len, append, ctx) != 0) {
        *why = "could not append the token (out of memory?)";
    } else {
        rc = 0;
    }
    OPENSSL_cleanse(sig, sizeof sig);
    EVP_MD_CTX_free(md);
    EVP_PKEY_free(key);
    return rc;
}

/* ---- verification ------------------------------------------------------------------ */

static int b64url_value(char c)
{
    const char *p = c ? strchr(b64url_alphabet, c) : NULL;
    return p ? (int)(p - b64url_alphabet) : -1;
}

/* Decodes unpadded base64url into out (cap bytes); returns the length or -1. */
static long b64url_decode(const char *in, size_t len, unsigned char *out, size_t cap)
{
    unsigned v = 0;
    int bits = 0;
    size_t n = 0;
    if (len % 4 == 1)
        return -1;
    for (size_t i = 0; i < len; i++) {
        int d = b64url_value(in[i]);
        if (d < 0)
            return -1;
        v = (v << 6) | (unsigned)d;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            if (n == cap)
                return -1;
            out[n++] = (unsigned char)(v >> bits);
            v &= (1u << bits) - 1;
        }
    }
    return v == 0 ? (long)n : -1; /* leftover bits must be zero (canonical) */
}

static EVP_PKEY *load_public(const unsigned char *pem, size_t len)
{
    if (pem == NULL || len == 0 || len > 64 * 1024)
        return NULL;
    BIO *bio = BIO_new_mem_buf(pem, (int)len);
    EVP_PKEY *key = bio ? PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL) : NULL;
    if (key == NULL && bio && BIO_reset(bio) == 1) {
        X509 *cert = PEM_read_bio_X509(bio, NULL, NULL, NULL);
        key = cert ? X509_get_pubkey(cert) : NULL;
        X509_free(cert);
    }
    BIO_free(bio);
    return key;
}

int sb_jwt_rs256_verify(const char *jwt, size_t len, const unsigned char *pub_pem,
                        size_t pub_pem_len, const char **why)
{
    const char *ignored;
    if (why == NULL)
        why = &ignored;
    const char *dot1 = jwt ? memchr(jwt, '.', len) : NULL;
    const char *dot2 = dot1 ? memchr(dot1 + 1, '.', len - (size_t)(dot1 + 1 - jwt)) : NULL;
    if (dot2 == NULL || memchr(dot2 + 1, '.', len - (size_t)(dot2 + 1 - jwt)) != NULL) {
        *why = "a JWT has exactly three dot-separated parts";
        return -1;
    }
    unsigned char header[512], sig[MAX_SIGNATURE];
    long hl = b64url_decode(jwt, (size_t)(dot1 - jwt), header, sizeof header - 1);
    long sl = b64url_decode(dot2 + 1, len - (size_t)(dot2 + 1 - jwt), sig, sizeof sig);
    if (hl < 0 || sl <= 0) {
        *why = "the JWT header or signature is not base64url";
        return -1;
    }
    header[hl] = '\0';
    /* the header must name RS256 (whitespace-tolerant, without a JSON parser) */
    const char *alg = strstr((const char *)header, "\"alg\"");
    const char *colon = alg ? strchr(alg + 5, ':') : NULL;
    while (colon && (colon[1] == ' ' || colon[1] == '\t'))
        colon++;
    if (colon == NULL || strncmp(colon + 1, "\"RS256\"", 7) != 0) {
        *why = "the JWT header does not say alg RS256";
        return -1;
    }
    EVP_PKEY *key = load_public(pub_pem, pub_pem_len);
    if (key == NULL || EVP_PKEY_get_base_id(key) != EVP_PKEY_RSA) {
        EVP_PKEY_free(key);
        *why = "the public key is not a PEM RSA public key or certificate";
        return -1;
    }
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    int ok = md && EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, key) == 1 &&
             EVP_DigestVerify(md, sig, (size_t)sl, (const unsigned char *)jwt,
                              (size_t)(dot2 - jwt)) == 1;
    EVP_MD_CTX_free(md);
    EVP_PKEY_free(key);
    if (!ok) {
        *why = "the RS256 signature does not verify with this public key";
        return -1;
    }
    return 0;
}
