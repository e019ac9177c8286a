/*
 * plugins/awssm/awssm_kms.c — KMS capability through AWS KMS.
 *
 * Contract:
 *   - Key ids are "aws-kms:<region>:<key ARN>". key_id answers the configured
 *     kms_key_arn (SB_E_CONFIG when unset); wrap is KMS Encrypt with that key
 *     and sets the key id to the ARN KMS answered; unwrap is KMS Decrypt with
 *     the ARN of the given key id, whose region must be the instance's
 *     (region and endpoint come from the configuration only).
 *   - Both bind the encryption context {"sbridge":"kms-wrap"}, so a blob made
 *     for another purpose with the same key does not decrypt here.
 *   - Plaintext travels base64-encoded inside secure buffers only; the
 *     ciphertext is decoded straight into the caller's buffer.
 */
#include "awssm.h"

#include <stdio.h>
#include <string.h>

#define KMS_CONTEXT ",\"EncryptionContext\":{\"sbridge\":\"kms-wrap\"}"

static sb_status need_key(awssm_instance *ai, sb_result *res)
{
    if (ai->kms_key_arn == NULL)
        return awssm_host->fail(res, SB_E_CONFIG, 0,
                                "kms: set kms_key_arn in the instance config to use AWS KMS");
    return SB_OK;
}

static sb_status awssm_kms_key_id(void *inst, const sb_call *call, sb_text *key_id,
                                  sb_result *res)
{
    sb_status st = awssm_check_common(inst, call, res, "key_id");
    if (st != SB_OK)
        return st;
    awssm_instance *ai = inst;
    if (key_id == NULL)
        return awssm_host->fail(res, SB_E_INVALID, 0, "key_id: key_id must not be NULL");
    if ((st = need_key(ai, res)) != SB_OK)
        return st;
    if (awssm_host->text_printf(key_id, "aws-kms:%s:%s", ai->region, ai->kms_key_arn) != 0)
        return awssm_host->fail(res, SB_E_INTERNAL, 0, "key_id: out of memory");
    return SB_OK;
}

/* `{"KeyId":"<arn>","<field>":"` + base64(data) + `"` + context + `}`. */
static sb_secure_buf *kms_body(const char *arn, const char *field, const unsigned char *data,
                               size_t len)
{
    const sb_host_api *h = awssm_host;
    awssm_str s = {0};
    awssm_str_add(&s, "{\"KeyId\":");
    awssm_str_add_json(&s, arn);
    awssm_str_add(&s, ",\"");
    awssm_str_add(&s, field);
    awssm_str_add(&s, "\":\"");
    sb_secure_buf *b = awssm_secure_from(&s);
    awssm_str_free(&s);
    if (b && (awssm_b64_encode_secure(b, data, len) != 0 ||
              h->secure_append(b, "\"" KMS_CONTEXT "}", strlen("\"" KMS_CONTEXT "}")) != 0)) {
        h->secure_free(b);
        b = NULL;
    }
    return b;
}

/* Decodes the base64 string member `field` of the answer into out. */
static sb_status take_b64(const sb_json *doc, const char *field, sb_secure_buf *out,
                          const char *op, sb_result *res)
{
    const sb_host_api *h = awssm_host;
    size_t len = 0;
    const char *b64 = h->json_string(h->json_pointer(h->json_root(doc), field), &len);
    if (b64 == NULL || len == 0 || awssm_b64_decode_secure(out, b64, len) != 0)
        return h->fail(res, SB_E_PROTOCOL, 0, "%s: the answer lacks a valid %s", op, field + 1);
    return SB_OK;
}

static sb_status awssm_kms_wrap(void *inst, const sb_call *call, const sb_secure_buf *plaintext,
                                sb_secure_buf *ciphertext, sb_text *key_id, sb_result *res)
{
    sb_status st = awssm_check_common(inst, call, res, "wrap");
    if (st != SB_OK)
        return st;
    const sb_host_api *h = awssm_host;
    awssm_instance *ai = inst;
    if (plaintext == NULL || ciphertext == NULL || key_id == NULL)
        return h->fail(res, SB_E_INVALID, 0, "wrap: plaintext, ciphertext and key_id are needed");
    if ((st = need_key(ai, res)) != SB_OK)
        return st;
    size_t len = 0;
    const unsigned char *pt = h->secure_data(plaintext, &len);
    if (len == 0 || len > 4096)
        return h->fail(res, SB_E_INVALID, 0, "wrap: AWS KMS encrypts 1 to 4096 bytes, got %zu",
                       len);
    sb_secure_buf *body = kms_body(ai->kms_key_arn, "Plaintext", pt, len);
    if (body == NULL)
        return h->fail(res, SB_E_INTERNAL, 0, "wrap: out of secure memory");
    awssm_service kms = awssm_kms_service(ai);
    sb_json *doc = NULL;
    st = awssm_call(ai, call, &kms, "Encrypt", body, 1, 0, &doc, res);
    h->secure_free(body);
    if (st != SB_OK)
        return st;
    size_t before = 0;
    h->secure_data(ciphertext, &before);
    st = before ? h->fail(res, SB_E_INVALID, 0, "wrap: the ciphertext buffer must be empty")
                : take_b64(doc, "/CiphertextBlob", ciphertext, "wrap", res);
    const char *arn = h->json_string(h->json_pointer(h->json_root(doc), "/KeyId"), NULL);
    if (st == SB_OK &&
        h->text_printf(key_id, "aws-kms:%s:%s", ai->region, arn ? arn : ai->kms_key_arn) != 0)
        st = h->fail(res, SB_E_INTERNAL, 0, "wrap: out of memory");
    if (st != SB_OK)
        h->secure_clear(ciphertext);
    h->json_free(doc);
    return st;
}

static sb_status awssm_kms_unwrap(void *inst, const sb_call *call, const unsigned char *ct,
                                  size_t ct_len, const char *key_id, sb_secure_buf *plaintext,
                                  sb_result *res)
{
    sb_status st = awssm_check_common(inst, call, res, "unwrap");
    if (st != SB_OK)
        return st;
    const sb_host_api *h = awssm_host;
    awssm_instance *ai = inst;
    if (ct == NULL || ct_len == 0 || key_id == NULL || plaintext == NULL)
        return h->fail(res, SB_E_INVALID, 0, "unwrap: ciphertext, key_id and plaintext are needed");
    size_t rl = strlen(ai->region);
    if (strncmp(key_id, "aws-kms:", 8) != 0 || strncmp(key_id + 8, ai->region, rl) != 0 ||
        key_id[8 + rl] != ':' || strncmp(key_id + 9 + rl, "arn:", 4) != 0)
        return h->fail(res, SB_E_INVALID, 0,
                       "unwrap: key id '%.200s' is not aws-kms:%s:<key ARN> (this instance's "
                       "region)",
                       key_id, ai->region);
    sb_secure_buf *body = kms_body(key_id + 9 + rl, "CiphertextBlob", ct, ct_len);
    if (body == NULL)
        return h->fail(res, SB_E_INTERNAL, 0, "unwrap: out of secure memory");
    awssm_service kms = awssm_kms_service(ai);
    sb_json *doc = NULL;
    st = awssm_call(ai, call, &kms, "Decrypt", body, 0, 1, &doc, res);
    h->secure_free(body);
    if (st != SB_OK)
        return st;
    st = take_b64(doc, "/Plaintext", plaintext, "unwrap", res);
    h->json_free(doc);
    return st;
}

const sb_kms_ops awssm_kms_ops = {
    .struct_size = (uint32_t)sizeof(sb_kms_ops),
    .key_id = awssm_kms_key_id,
    .wrap = awssm_kms_wrap,
    .unwrap = awssm_kms_unwrap,
};
