/*
 * plugins/azurekv/azurekv_assertion.c — see azurekv_assertion.h.
 *
 * Contract: the certificate (public, PEM) is read and parsed with OpenSSL
 * only to compute its SHA-1 thumbprint (`x5t`, which is how Entra ID finds
 * the registered certificate); the private key file is read into a host
 * secure buffer and handed to the shared RS256 signer, which streams the
 * token into the secure form body: the key and the assertion never touch
 * ordinary heap. The signer is plugins/shared/jwt_rs256 (one RS256
 * implementation for every plugin).
 */
#include "azurekv_assertion.h"

#include "../shared/jwt_rs256.h"

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct text_sink {
    char buf[64];
    size_t len;
} text_sink;

static int to_text(void *ctx, const void *data, size_t len)
{
    text_sink *t = ctx;
    if (t->len + len >= sizeof t->buf)
        return -1;
    memcpy(t->buf + t->len, data, len);
    t->len += len;
    t->buf[t->len] = '\0';
    return 0;
}

static int to_secure(void *ctx, const void *data, size_t len)
{
    return akv_host->secure_append(ctx, data, len);
}

/* base64url(SHA-1(DER of the first certificate in the PEM file)). */
static sb_status thumbprint(akv_instance *ai, text_sink *out, sb_result *res)
{
    const sb_host_api *h = akv_host;
    sb_secure_buf *pem = NULL;
    sb_status st = h->read_file_secure(ai->certificate_file, AKV_MAX_FILE_BYTES, &pem, res);
    if (st != SB_OK)
        return st;
    size_t len = 0;
    const unsigned char *data = h->secure_data(pem, &len);
    BIO *bio = BIO_new_mem_buf(data, (int)len);
    X509 *cert = bio ? PEM_read_bio_X509(bio, NULL, NULL, NULL) : NULL;
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int dlen = 0;
    if (cert == NULL || X509_digest(cert, EVP_sha1(), digest, &dlen) != 1)
        st = h->fail(res, SB_E_CONFIG, 0,
                     "client_certificate: %s holds no PEM certificate OpenSSL can read",
                     ai->certificate_file);
    else if (sb_jwt_b64url(digest, dlen, to_text, out) != 0)
        st = h->fail(res, SB_E_INTERNAL, 0, "client_certificate: thumbprint too long");
    X509_free(cert);
    BIO_free(bio);
    h->secure_free(pem);
    return st;
}

sb_status akv_assertion_append(akv_instance *ai, const char *token_url, sb_secure_buf *form,
                               sb_result *res)
{
    const sb_host_api *h = akv_host;
    text_sink x5t = {{0}, 0};
    sb_status st = thumbprint(ai, &x5t, res);
    if (st != SB_OK)
        return st;
    unsigned char rnd[16];
    char jti[33];
    h->random_bytes(rnd, sizeof rnd);
    for (size_t i = 0; i < sizeof rnd; i++)
        snprintf(jti + 2 * i, 3, "%02x", rnd[i]);
    long long now = (long long)(h->now_unix_ms() / 1000);
    char *header = akv_format("{\"alg\":\"RS256\",\"typ\":\"JWT\",\"x5t\":\"%s\"}", x5t.buf);
    /* token_url and client_id are checked URL / id text (no quotes or
     * backslashes: instance_new refuses them), so they need no escaping */
    char *claims = akv_format("{\"aud\":\"%s\",\"iss\":\"%s\",\"sub\":\"%s\",\"jti\":\"%s\","
                              "\"nbf\":%lld,\"iat\":%lld,\"exp\":%lld}",
                              token_url, ai->client_id, ai->client_id, jti, now, now, now + 600);
    sb_secure_buf *key = NULL;
    if (header == NULL || claims == NULL)
        st = h->fail(res, SB_E_INTERNAL, 0, "client_certificate: out of memory");
    else
        st = h->read_file_secure(ai->private_key_file, AKV_MAX_FILE_BYTES, &key, res);
    if (st == SB_OK) {
        size_t klen = 0;
        const unsigned char *kdata = h->secure_data(key, &klen);
        const char *why = NULL;
        if (sb_jwt_rs256_sign(header, strlen(header), claims, strlen(claims), kdata, klen,
                              to_secure, form, &why) != 0)
            st = h->fail(res, SB_E_CONFIG, 0, "client_certificate: cannot sign with %s: %s",
                         ai->private_key_file, why ? why : "unknown error");
    }
    h->secure_free(key);
    free(header);
    free(claims);
    return st;
}
