/*
 * plugin/gitops_endpoint.h — an Argo CD endpoint stored at the control
 * plane, opened for one plugin call.
 *
 * Contract: sb_gitops_endpoint_open takes the endpoint's stored fields as
 * the store hands them to the worker and the health check
 * (store/gitops_store.h, sb_gitops_store_endpoint_secret: JSON text with
 * the base64 of the KMS-wrapped token and its key id), unwraps the token
 * with the control plane's KMS into secure memory and fills a
 * sb_gitops_target (plugin/gitops_client.h) that borrows from it.
 * sb_gitops_endpoint_close zeroes and frees the token. A row that is not
 * readable, a ciphertext that is not base64 or a refused unwrap fail with
 * SB_E_CONFIG and a message that never holds the token.
 *
 * sb_gitops_token_wrap is the other direction, for the API: the token (as
 * the caller received it) wrapped by the KMS, as base64 text and key id
 * (both malloc'd; neither secret).
 */
#ifndef SB_PLUGIN_GITOPS_ENDPOINT_H
#define SB_PLUGIN_GITOPS_ENDPOINT_H

#include <jansson.h>

#include "crypto/kms.h"
#include "plugin/gitops_client.h"

#define SB_GITOPS_TOKEN_MAX 8192

typedef struct sb_gitops_endpoint {
    sb_gitops_target target;
    json_t *row;  /* owns target's strings */
    char *token;  /* secure memory, NUL-terminated */
} sb_gitops_endpoint;

int sb_gitops_endpoint_open(const sb_kms *kms, const char *stored_json, sb_gitops_endpoint *out,
                            sb_error *err);
void sb_gitops_endpoint_close(sb_gitops_endpoint *e);

int sb_gitops_token_wrap(const sb_kms *kms, const char *token, char **ciphertext_b64,
                         char **key_id, sb_error *err);

#endif
