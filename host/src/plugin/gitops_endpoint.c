/* plugin/gitops_endpoint.c — see gitops_endpoint.h. */
#include "plugin/gitops_endpoint.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/secure_mem.h"

static const char *field(json_t *row, const char *key)
{
    return json_string_value(json_object_get(row, key)); /* NULL for JSON null */
}

int sb_gitops_endpoint_open(const sb_kms *kms, const char *stored_json, sb_gitops_endpoint *out,
                            sb_error *err)
{
    memset(out, 0, sizeof *out);
    out->row = stored_json ? json_loads(stored_json, 0, NULL) : NULL;
    const char *name = field(out->row, "name"), *ct64 = field(out->row, "token_ciphertext"),
               *key_id = field(out->row, "token_key_id");
    if (name == NULL || field(out->row, "base_url") == NULL || ct64 == NULL || key_id == NULL) {
        sb_gitops_endpoint_close(out);
        return sb_error_set(err, SB_E_CONFIG, "the stored Argo CD endpoint is unreadable");
    }
    if (kms == NULL) {
        sb_gitops_endpoint_close(out);
        return sb_error_set(err, SB_E_CONFIG,
                            "argocd endpoint %s: no KMS is configured to unwrap its token", name);
    }
    size_t ct_len = 0, cap = strlen(ct64);
    unsigned char *ct = malloc(cap + 1);
    if (ct == NULL || sodium_base642bin(ct, cap + 1, ct64, cap, NULL, &ct_len, NULL,
                                        sodium_base64_VARIANT_ORIGINAL) != 0 || ct_len == 0) {
        free(ct);
        sb_gitops_endpoint_close(out);
        return sb_error_set(err, SB_E_CONFIG, "argocd endpoint %s: the stored token is damaged",
                            name);
    }
    out->token = sb_secure_alloc(SB_GITOPS_TOKEN_MAX + 1);
    size_t len = 0;
    int rc = out->token ? kms->unwrap(kms, ct, ct_len, key_id, (unsigned char *)out->token,
                                      SB_GITOPS_TOKEN_MAX, &len, err)
                        : sb_error_set(err, SB_E_INTERNAL, "out of secure memory");
    free(ct);
    if (rc != 0) {
        char why[sizeof err->message];
        snprintf(why, sizeof why, "%s", err->message);
        sb_gitops_endpoint_close(out);
        return sb_error_set(err, SB_E_CONFIG, "argocd endpoint %.100s: its token cannot be unwrapped: %.300s",
                            name, why);
    }
    out->token[len] = '\0';
    out->target = (sb_gitops_target){name,
                                     field(out->row, "base_url"),
                                     field(out->row, "project"),
                                     field(out->row, "ca_file"),
                                     field(out->row, "tls_server_name"),
                                     out->token};
    return 0;
}

void sb_gitops_endpoint_close(sb_gitops_endpoint *e)
{
    sb_secure_release(e->token);
    json_decref(e->row);
    memset(e, 0, sizeof *e);
}

int sb_gitops_token_wrap(const sb_kms *kms, const char *token, char **ciphertext_b64,
                         char **key_id, sb_error *err)
{
    *ciphertext_b64 = NULL;
    *key_id = NULL;
    if (kms == NULL)
        return sb_error_set(err, SB_E_CONFIG,
                            "no KMS is configured (kms: in the server configuration): an Argo CD "
                            "token is stored only KMS-wrapped");
    unsigned char *ct = NULL;
    size_t ct_len = 0;
    if (kms->wrap(kms, (const unsigned char *)token, strlen(token), &ct, &ct_len, key_id, err) != 0)
        return -1;
    size_t cap = sodium_base64_ENCODED_LEN(ct_len, sodium_base64_VARIANT_ORIGINAL);
    *ciphertext_b64 = malloc(cap);
    if (*ciphertext_b64 == NULL) {
        free(ct);
        free(*key_id);
        *key_id = NULL;
        return sb_error_set(err, SB_E_INTERNAL, "out of memory");
    }
    sodium_bin2base64(*ciphertext_b64, cap, ct, ct_len, sodium_base64_VARIANT_ORIGINAL);
    free(ct);
    return 0;
}
