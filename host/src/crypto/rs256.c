/* crypto/rs256.c — see rs256.h. */
#include "crypto/rs256.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <stdlib.h>

struct sb_rs256_key {
    EVP_PKEY *pkey;
};

sb_rs256_key *sb_rs256_key_new(const unsigned char *n, size_t n_len, const unsigned char *e,
                               size_t e_len, sb_error *err)
{
    BIGNUM *bn_n = BN_bin2bn(n, (int)n_len, NULL), *bn_e = BN_bin2bn(e, (int)e_len, NULL);
    OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
    OSSL_PARAM *params = NULL;
    EVP_PKEY_CTX *ctx = NULL;
    EVP_PKEY *pkey = NULL;
    sb_rs256_key *key = NULL;
    if (bn_n == NULL || bn_e == NULL || bld == NULL || n_len == 0 || e_len == 0 || e_len > 8 ||
        !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn_n) ||
        !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, bn_e) ||
        (params = OSSL_PARAM_BLD_to_param(bld)) == NULL ||
        (ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL)) == NULL ||
        EVP_PKEY_fromdata_init(ctx) <= 0 ||
        EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) <= 0) {
        sb_error_set(err, 1, "the key's modulus and exponent do not make an RSA public key");
    } else if (EVP_PKEY_get_bits(pkey) < SB_RS256_MIN_BITS) {
        sb_error_set(err, 1, "RSA keys under %d bits are refused (this one has %d)",
                     SB_RS256_MIN_BITS, EVP_PKEY_get_bits(pkey));
    } else if ((key = malloc(sizeof *key)) == NULL) {
        sb_error_set(err, 1, "out of memory");
    } else {
        key->pkey = pkey;
        pkey = NULL;
    }
    EVP_PKEY_free(pkey);
    EVP_PKEY_CTX_free(ctx);
    OSSL_PARAM_free(params);
    OSSL_PARAM_BLD_free(bld);
    BN_free(bn_n);
    BN_free(bn_e);
    return key;
}

void sb_rs256_key_free(sb_rs256_key *key)
{
    if (key == NULL)
        return;
    EVP_PKEY_free(key->pkey);
    free(key);
}

int sb_rs256_verify(const sb_rs256_key *key, const unsigned char *msg, size_t msg_len,
                    const unsigned char *sig, size_t sig_len)
{
    if (key == NULL || sig_len != (size_t)EVP_PKEY_get_size(key->pkey))
        return 0;
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    int ok = md != NULL && EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, key->pkey) == 1 &&
             EVP_DigestVerify(md, sig, sig_len, msg, msg_len) == 1;
    EVP_MD_CTX_free(md);
    return ok ? 1 : 0;
}
