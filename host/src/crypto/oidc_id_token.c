/* crypto/oidc_id_token.c — see oidc_id_token.h. */
#include "crypto/oidc_id_token.h"

#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/rs256.h"

#define KID_MAX 256
#define MAX_KEYS 32

typedef struct jwk {
    char kid[KID_MAX + 1];
    int has_kid;
    sb_rs256_key *key;
} jwk;

struct sb_oidc_jwks {
    jwk keys[MAX_KEYS];
    size_t n;
};

/* base64url without padding (padding tolerated) into a new buffer. */
static unsigned char *b64url_decode(const char *s, size_t len, size_t *out_len)
{
    unsigned char *buf = malloc(len + 1);
    if (buf == NULL)
        return NULL;
    if (sodium_base642bin(buf, len + 1, s, len, "=", out_len, NULL,
                          sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0) {
        free(buf);
        return NULL;
    }
    return buf;
}

static sb_rs256_key *key_from_jwk(const json_t *k)
{
    const char *n = json_string_value(json_object_get(k, "n"));
    const char *e = json_string_value(json_object_get(k, "e"));
    if (n == NULL || e == NULL)
        return NULL;
    size_t nl = 0, el = 0;
    unsigned char *nb = b64url_decode(n, strlen(n), &nl), *eb = b64url_decode(e, strlen(e), &el);
    sb_error ignored = {0};
    sb_rs256_key *key = nb && eb ? sb_rs256_key_new(nb, nl, eb, el, &ignored) : NULL;
    free(nb);
    free(eb);
    return key;
}

static int usable(const json_t *k)
{
    const char *kty = json_string_value(json_object_get(k, "kty"));
    const json_t *use = json_object_get(k, "use"), *alg = json_object_get(k, "alg");
    return kty && strcmp(kty, "RSA") == 0 &&
           (use == NULL || (json_is_string(use) && strcmp(json_string_value(use), "sig") == 0)) &&
           (alg == NULL || (json_is_string(alg) && strcmp(json_string_value(alg), "RS256") == 0));
}

int sb_oidc_jwks_parse(const char *json, size_t len, sb_oidc_jwks **out, sb_error *err)
{
    *out = NULL;
    json_t *doc = json_loadb(json, len, JSON_REJECT_DUPLICATES, NULL);
    const json_t *arr = json_object_get(doc, "keys");
    if (!json_is_array(arr)) {
        json_decref(doc);
        return sb_error_set(err, SB_OIDC_E_KEYS, "the JWKS document is not an object with a keys array");
    }
    sb_oidc_jwks *set = calloc(1, sizeof *set);
    if (set == NULL) {
        json_decref(doc);
        return sb_error_set(err, SB_OIDC_E_KEYS, "out of memory");
    }
    size_t i;
    const json_t *k;
    json_array_foreach(arr, i, k)
    {
        if (set->n == MAX_KEYS || !json_is_object(k) || !usable(k))
            continue;
        const json_t *kid = json_object_get(k, "kid");
        if (kid && (!json_is_string(kid) || json_string_length(kid) > KID_MAX))
            continue;
        sb_rs256_key *key = key_from_jwk(k);
        if (key == NULL)
            continue;
        jwk *slot = &set->keys[set->n++];
        slot->key = key;
        slot->has_kid = kid != NULL;
        snprintf(slot->kid, sizeof slot->kid, "%s", kid ? json_string_value(kid) : "");
    }
    json_decref(doc);
    if (set->n == 0) {
        free(set);
        return sb_error_set(err, SB_OIDC_E_KEYS,
                            "the JWKS document holds no RSA signing key of at least 2048 bits");
    }
    *out = set;
    return 0;
}

void sb_oidc_jwks_free(sb_oidc_jwks *keys)
{
    if (keys == NULL)
        return;
    for (size_t i = 0; i < keys->n; i++)
        sb_rs256_key_free(keys->keys[i].key);
    free(keys);
}

size_t sb_oidc_jwks_count(const sb_oidc_jwks *keys) { return keys ? keys->n : 0; }

static const sb_rs256_key *find_key(const sb_oidc_jwks *keys, const char *kid)
{
    if (kid == NULL)
        return keys->n == 1 ? keys->keys[0].key : NULL;
    for (size_t i = 0; i < keys->n; i++)
        if (keys->keys[i].has_kid && strcmp(keys->keys[i].kid, kid) == 0)
            return keys->keys[i].key;
    return NULL;
}

static json_t *decode_json(const char *seg, size_t len)
{
    size_t n = 0;
    unsigned char *raw = b64url_decode(seg, len, &n);
    json_t *doc = raw ? json_loadb((const char *)raw, n, JSON_REJECT_DUPLICATES, NULL) : NULL;
    free(raw);
    if (doc && !json_is_object(doc)) {
        json_decref(doc);
        doc = NULL;
    }
    return doc;
}

static int equal_text(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    return la == lb && sodium_memcmp(a, b, la) == 0;
}

static int audience_ok(const json_t *payload, const char *client_id)
{
    const json_t *aud = json_object_get(payload, "aud");
    const json_t *azp = json_object_get(payload, "azp");
    size_t parties = 0;
    int named = 0;
    if (json_is_string(aud)) {
        parties = 1;
        named = strcmp(json_string_value(aud), client_id) == 0;
    } else if (json_is_array(aud)) {
        size_t i;
        const json_t *a;
        json_array_foreach(aud, i, a)
        {
            if (!json_is_string(a))
                return 0;
            parties++;
            named |= strcmp(json_string_value(a), client_id) == 0;
        }
    }
    if (!named)
        return 0;
    if (azp != NULL)
        return json_is_string(azp) && strcmp(json_string_value(azp), client_id) == 0;
    return parties == 1;
}

static int time_claim(const json_t *payload, const char *name, int required, int64_t *out)
{
    const json_t *v = json_object_get(payload, name);
    if (v == NULL) {
        *out = 0;
        return !required;
    }
    if (!json_is_integer(v) && !json_is_real(v))
        return 0;
    *out = json_is_integer(v) ? (int64_t)json_integer_value(v) : (int64_t)json_real_value(v);
    return 1;
}

static void copy_claim(const json_t *payload, const char *name, char *out, size_t cap)
{
    const char *v = json_string_value(json_object_get(payload, name));
    out[0] = '\0';
    if (v && strlen(v) < cap)
        snprintf(out, cap, "%s", v);
}

static int check_claims(const json_t *p, const sb_oidc_expect *x, sb_oidc_claims *out,
                        sb_error *err)
{
    const char *iss = json_string_value(json_object_get(p, "iss"));
    if (iss == NULL || strcmp(iss, x->issuer) != 0)
        return sb_error_set(err, SB_OIDC_E_ISSUER, "the ID token's issuer (iss) is not the configured issuer");
    if (!audience_ok(p, x->client_id))
        return sb_error_set(err, SB_OIDC_E_AUDIENCE,
                            "the ID token is not meant for this client (aud/azp)");
    int64_t exp, iat, nbf;
    if (!time_claim(p, "exp", 1, &exp) || !time_claim(p, "iat", 1, &iat) ||
        !time_claim(p, "nbf", 0, &nbf))
        return sb_error_set(err, SB_OIDC_E_CLAIMS, "the ID token lacks exp or iat, or they are not numbers");
    if (exp <= x->now - x->skew)
        return sb_error_set(err, SB_OIDC_E_EXPIRED, "the ID token has expired (exp)");
    if (iat > x->now + x->skew || (nbf && nbf > x->now + x->skew))
        return sb_error_set(err, SB_OIDC_E_NOT_YET_VALID,
                            "the ID token is issued in the future (iat/nbf); check the clocks");
    const char *nonce = json_string_value(json_object_get(p, "nonce"));
    if (nonce == NULL || x->nonce == NULL || !equal_text(nonce, x->nonce))
        return sb_error_set(err, SB_OIDC_E_NONCE, "the ID token's nonce is not the one this sign-in sent");
    const char *sub = json_string_value(json_object_get(p, "sub"));
    if (sub == NULL || sub[0] == '\0' || strlen(sub) > SB_OIDC_SUB_MAX)
        return sb_error_set(err, SB_OIDC_E_CLAIMS, "the ID token has no usable subject (sub)");
    snprintf(out->sub, sizeof out->sub, "%s", sub);
    copy_claim(p, "email", out->email, sizeof out->email);
    out->email_verified = json_is_true(json_object_get(p, "email_verified"));
    copy_claim(p, "name", out->name, sizeof out->name);
    copy_claim(p, x->username_claim ? x->username_claim : "preferred_username", out->username,
               sizeof out->username);
    if (out->username[0] == '\0')
        snprintf(out->username, sizeof out->username, "%s", out->email);
    return 0;
}

int sb_oidc_id_token_verify(const sb_oidc_jwks *keys, const char *token, size_t len,
                            const sb_oidc_expect *x, sb_oidc_claims *out, sb_error *err)
{
    memset(out, 0, sizeof *out);
    if (token == NULL || len == 0 || len > SB_OIDC_ID_TOKEN_MAX)
        return sb_error_set(err, SB_OIDC_E_MALFORMED, "the ID token is missing or too long");
    const char *dot1 = memchr(token, '.', len);
    const char *dot2 = dot1 ? memchr(dot1 + 1, '.', len - (size_t)(dot1 + 1 - token)) : NULL;
    /* an empty signature segment passes this shape check so that an alg
     * "none" token is refused for what it is, by the header check below */
    if (dot1 == NULL || dot2 == NULL || dot1 == token || dot2 == dot1 + 1 ||
        memchr(dot2 + 1, '.', len - (size_t)(dot2 + 1 - token)))
        return sb_error_set(err, SB_OIDC_E_MALFORMED,
                            "the ID token is not three base64url segments (a signed JWT)");
    json_t *header = decode_json(token, (size_t)(dot1 - token));
    if (header == NULL)
        return sb_error_set(err, SB_OIDC_E_MALFORMED, "the ID token's header is not a JSON object");
    const char *alg = json_string_value(json_object_get(header, "alg"));
    const json_t *kid_node = json_object_get(header, "kid");
    int rc = 0;
    if (alg == NULL || strcmp(alg, "RS256") != 0 || json_object_get(header, "crit")) {
        rc = sb_error_set(err, SB_OIDC_E_ALGORITHM,
                          "the ID token is not signed with RS256 (alg none, HS* and others are refused)");
    } else if (kid_node && !json_is_string(kid_node)) {
        rc = sb_error_set(err, SB_OIDC_E_MALFORMED, "the ID token's kid is not a string");
    }
    const sb_rs256_key *key = NULL;
    if (rc == 0 && (key = find_key(keys, json_string_value(kid_node))) == NULL)
        rc = sb_error_set(err, SB_OIDC_E_UNKNOWN_KID,
                          "no key of the provider's JWKS matches the ID token's kid");
    json_decref(header);
    if (rc != 0)
        return rc;
    size_t sig_len = 0;
    unsigned char *sig = b64url_decode(dot2 + 1, len - (size_t)(dot2 + 1 - token), &sig_len);
    int valid = sig && sb_rs256_verify(key, (const unsigned char *)token, (size_t)(dot2 - token),
                                       sig, sig_len) == 1;
    free(sig);
    if (!valid)
        return sb_error_set(err, SB_OIDC_E_SIGNATURE, "the ID token's signature does not verify");
    json_t *payload = decode_json(dot1 + 1, (size_t)(dot2 - dot1 - 1));
    if (payload == NULL)
        return sb_error_set(err, SB_OIDC_E_MALFORMED, "the ID token's payload is not a JSON object");
    rc = check_claims(payload, x, out, err);
    json_decref(payload);
    return rc;
}
