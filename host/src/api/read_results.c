/* api/read_results.c — read keys and read results (see read_api.h). */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/read_api.h"
#include "api/request_api.h"
#include "crypto/secure_mem.h"
#include "domain/domain_error.h"
#include "store/wrap_store.h"

#define RESULTS_MAX 256
#define BOX_B64_MAX 1398200 /* base64 of the largest box the table takes */

static int no_kms(sb_error *err)
{
    return sb_error_set(err, SB_KMS_E_UNAVAILABLE,
                        "this control plane has no KMS configured, so a read result could never "
                        "be revealed; configure `kms:` in the server configuration");
}

static char *b64(const unsigned char *bin, size_t len)
{
    size_t cap = sodium_base64_ENCODED_LEN(len, sodium_base64_VARIANT_ORIGINAL);
    char *out = malloc(cap);
    if (out)
        sodium_bin2base64(out, cap, bin, len, sodium_base64_VARIANT_ORIGINAL);
    return out;
}

int sb_read_key_create(sb_db_conn *conn, const sb_kms *kms, const char *request_id,
                       char public_b64[SB_READ_KEY_B64_MAX], sb_error *err)
{
    if (kms == NULL)
        return no_kms(err);
    unsigned char pk[crypto_box_PUBLICKEYBYTES];
    unsigned char *sk = sb_secure_alloc(crypto_box_SECRETKEYBYTES);
    if (sk == NULL)
        return sb_error_set(err, SB_DOMAIN_E_NO_MEMORY, "out of secure memory for a read key");
    crypto_box_keypair(pk, sk);
    unsigned char *wrapped = NULL;
    size_t wrapped_len = 0;
    char *key_id = NULL;
    int rc = kms->wrap(kms, sk, crypto_box_SECRETKEYBYTES, &wrapped, &wrapped_len, &key_id, err);
    sb_secure_release(sk);
    if (rc != 0)
        return -1;
    char *wrapped_b64 = b64(wrapped, wrapped_len);
    sodium_bin2base64(public_b64, SB_READ_KEY_B64_MAX, pk, sizeof pk,
                      sodium_base64_VARIANT_ORIGINAL);
    rc = wrapped_b64 ? sb_wrap_store_read_key_insert(conn, request_id, public_b64, wrapped_b64,
                                                     key_id, err)
                     : sb_error_set(err, SB_DOMAIN_E_NO_MEMORY, "out of memory");
    free(wrapped);
    free(wrapped_b64);
    free(key_id);
    return rc;
}

/* 0 when list is exactly the request's keys, each named once. */
static int check_keys(const sb_request_row *r, const json_t *results, sb_error *err)
{
    json_t *want = json_loads(r->keys ? r->keys : "[]", 0, NULL);
    size_t i, j, n = json_array_size(results);
    json_t *item;
    int rc = 0;
    if (want == NULL)
        return sb_error_set(err, SB_DOMAIN_E_NO_MEMORY, "out of memory");
    if (json_array_size(want) > 0 && json_array_size(want) != n)
        rc = sb_error_set(err, SB_DOMAIN_E_INVALID,
                          "results must hold exactly the %zu requested keys, one result each; "
                          "got %zu (a missing key fails the job, it is never a partial success)",
                          json_array_size(want), n);
    json_array_foreach((json_t *)results, i, item)
    {
        const char *k = json_string_value(json_object_get(item, "key"));
        for (j = 0; rc == 0 && j < i; j++)
            if (strcmp(k, json_string_value(json_object_get(json_array_get(results, j), "key"))) == 0)
                rc = sb_error_set(err, SB_DOMAIN_E_INVALID, "results[%zu]: key '%.100s' twice", i, k);
        int found = json_array_size(want) == 0;
        for (j = 0; !found && j < json_array_size(want); j++)
            found = strcmp(k, json_string_value(json_array_get(want, j))) == 0;
        if (rc == 0 && !found)
            rc = sb_error_set(err, SB_DOMAIN_E_INVALID,
                              "results[%zu]: key '%.100s' was not requested", i, k);
    }
    json_decref(want);
    return rc;
}

/* Shape of one result: {key, kind?, box}. */
static int check_item(size_t i, const json_t *item, sb_error *err)
{
    static const char *const fields[] = {"key", "kind", "box"};
    const char *f;
    json_t *v;
    if (!json_is_object(item))
        return sb_error_set(err, SB_DOMAIN_E_INVALID, "results[%zu] must be an object", i);
    json_object_foreach((json_t *)item, f, v)
    {
        int known = 0;
        for (size_t k = 0; k < 3; k++)
            known |= strcmp(f, fields[k]) == 0;
        if (!known)
            return sb_error_set(err, SB_DOMAIN_E_INVALID,
                                "results[%zu]: unknown field '%.60s' (key, kind, box)", i, f);
    }
    const char *key = json_string_value(json_object_get(item, "key"));
    const char *kind = json_string_value(json_object_get(item, "kind"));
    const char *box = json_string_value(json_object_get(item, "box"));
    if (key == NULL || *key == '\0' || strlen(key) > 256)
        return sb_error_set(err, SB_DOMAIN_E_INVALID, "results[%zu].key must be 1-256 characters", i);
    if (json_object_get(item, "kind") &&
        (kind == NULL || (strcmp(kind, "string") && strcmp(kind, "binary") && strcmp(kind, "json"))))
        return sb_error_set(err, SB_DOMAIN_E_INVALID,
                            "results[%zu].kind must be string, binary or json", i);
    if (box == NULL || strlen(box) > BOX_B64_MAX)
        return sb_error_set(err, SB_DOMAIN_E_INVALID,
                            "results[%zu].box must be the base64 of a crypto_box_seal box", i);
    /* decoded length without keeping the bytes: standard base64, padded */
    size_t n = strlen(box);
    size_t bin_len = n / 4 * 3 - (n >= 1 && box[n - 1] == '=') - (n >= 2 && box[n - 2] == '=');
    if (n % 4 != 0 || bin_len < crypto_box_SEALBYTES ||
        strspn(box, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=") != n)
        return sb_error_set(err, SB_DOMAIN_E_INVALID,
                            "results[%zu].box must be standard base64 of a crypto_box_seal box "
                            "(at least %d bytes) sealed to the job's read_public_key",
                            i, crypto_box_SEALBYTES);
    return 0;
}

int sb_read_results_store(sb_db_conn *conn, const sb_request_row *r, const char *agent_id,
                          const json_t *results, sb_error *err)
{
    if (!json_is_array(results) || json_array_size(results) == 0 ||
        json_array_size(results) > RESULTS_MAX)
        return sb_error_set(err, SB_DOMAIN_E_INVALID,
                            "a succeeded read job needs results: a list of 1 to %d "
                            "{key, kind, box} sealed to the job's read_public_key",
                            RESULTS_MAX);
    size_t i;
    json_t *item;
    json_array_foreach((json_t *)results, i, item) if (check_item(i, item, err) != 0) return -1;
    if (check_keys(r, results, err) != 0)
        return -1;
    int ttl = sb_request_workflow_int(r, "wrap_ttl_approved_s", 3600);
    json_array_foreach((json_t *)results, i, item)
    {
        const char *kind = json_string_value(json_object_get(item, "kind"));
        if (sb_wrap_store_insert(conn, r->id, json_string_value(json_object_get(item, "key")),
                                 kind ? kind : "string",
                                 json_string_value(json_object_get(item, "box")), agent_id, ttl,
                                 err) != 0)
            return -1;
    }
    return 0;
}

/* Decodes standard base64 into a new buffer of *len bytes (malloc). */
static unsigned char *unb64(const char *text, size_t *len)
{
    size_t cap = strlen(text) / 4 * 3 + 3;
    unsigned char *out = malloc(cap ? cap : 1);
    if (out && sodium_base642bin(out, cap, text, strlen(text), NULL, len, NULL,
                                 sodium_base64_VARIANT_ORIGINAL) != 0) {
        free(out);
        return NULL;
    }
    return out;
}

int sb_read_result_open(sb_db_conn *conn, const sb_kms *kms, const char *request_id,
                        const char *box_b64, unsigned char **value, size_t *len, sb_error *err)
{
    *value = NULL;
    *len = 0;
    if (kms == NULL)
        return no_kms(err);
    char *wrapped_b64 = NULL, *key_id = NULL;
    int rc = sb_wrap_store_read_key_get(conn, request_id, &wrapped_b64, &key_id, err);
    if (rc != 0) {
        free(wrapped_b64);
        free(key_id);
        return rc < 0 ? -1 : sb_error_set(err, SB_DOMAIN_E_NOT_FOUND,
                                          "this request has no read key; nothing can be revealed");
    }
    size_t wrapped_len = 0, box_len = 0, sk_len = 0;
    unsigned char *wrapped = unb64(wrapped_b64, &wrapped_len), *box = unb64(box_b64, &box_len);
    unsigned char *sk = sb_secure_alloc(crypto_box_SECRETKEYBYTES);
    rc = -1;
    if (wrapped == NULL || box == NULL || sk == NULL || box_len < crypto_box_SEALBYTES) {
        sb_error_set(err, SB_DOMAIN_E_NO_MEMORY, "cannot decode the stored read result");
    } else if (kms->unwrap(kms, wrapped, wrapped_len, key_id, sk, crypto_box_SECRETKEYBYTES,
                           &sk_len, err) == 0) {
        unsigned char pk[crypto_box_PUBLICKEYBYTES];
        size_t n = box_len - crypto_box_SEALBYTES;
        unsigned char *out = sb_secure_alloc(n ? n : 1);
        crypto_scalarmult_base(pk, sk);
        if (sk_len != crypto_box_SECRETKEYBYTES || out == NULL ||
            crypto_box_seal_open(out, box, box_len, pk, sk) != 0) {
            sb_secure_release(out);
            sb_error_set(err, SB_DOMAIN_E_INVALID,
                         "the read result does not open with this request's key (the agent "
                         "sealed it to another key, or it was altered)");
        } else {
            *value = out;
            *len = n;
            rc = 0;
        }
    }
    sb_secure_release(sk);
    free(wrapped);
    free(box);
    free(wrapped_b64);
    free(key_id);
    return rc;
}
