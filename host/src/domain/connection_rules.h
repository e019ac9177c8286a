/*
 * domain/connection_rules.h — what a provider connection may say about
 * itself: the control plane holds metadata only, never a provider
 * credential (SPEC I4).
 *
 * Contract (pure: no I/O, no allocation):
 *   - Types: vault, aws-sm, gcp-sm, azure-kv, kubernetes. Scope keys per
 *     type (required, then optional):
 *       vault       address, mount        [namespace, kv_prefix]
 *       aws-sm      region                [role_arn, endpoint]
 *       gcp-sm      project_id            [endpoint]
 *       azure-kv    vault_name            [tenant_id]
 *       kubernetes  context               [namespace]
 *     Every scope value is a non-empty string of at most 1024 bytes.
 *   - Credential-shaped KEYS are refused (SB_CONN_E_CREDENTIAL): a key that
 *     is not one of the type's names and contains, case-insensitively,
 *     token, secret, passw, passphrase, key, credential, private, auth,
 *     cert, bearer, session or cookie. The type's own names are exempt by
 *     exact match (so the exemption is precise, not a substring rule).
 *   - Secret-shaped VALUES are refused (SB_CONN_E_CREDENTIAL) whatever the
 *     key: AWS access key ids (AKIA/ASIA + 16 upper-case letters or
 *     digits), Vault tokens (hvs./hvb./hvr. anywhere, or a whole value
 *     s.<24+ alnum>), JWTs (three base64url parts, the first "eyJ..."),
 *     Google OAuth tokens (ya29.), PEM blocks (-----BEGIN), and runs of
 *     more than 40 base64-alphabet characters mixing upper case, lower case
 *     and digits with high entropy.
 *   - URLs (address, endpoint): http:// or https:// with a host, no
 *     userinfo, no credential-shaped query keys (token, auth, secret...).
 *     role_arn: arn:aws[-partition]:iam::<12 digits>:role/<name>.
 *   - Any other key is SB_CONN_E_INVALID ("not a scope key of ...");
 *     a missing required key too.
 *   - Messages name the key ("scope.token: ...") and the rule and NEVER
 *     contain the value. A key that is itself secret-shaped or not made of
 *     [A-Za-z0-9_.-]{1,64} is named by position ("scope key #2").
 */
#ifndef SB_DOMAIN_CONNECTION_RULES_H
#define SB_DOMAIN_CONNECTION_RULES_H

#include <stdbool.h>
#include <stddef.h>

#include "util/error.h"

enum {
    SB_CONN_E_INVALID = 1201, /* a scope that breaks a rule -> 422 invalid_value */
    SB_CONN_E_CREDENTIAL,     /* credential-shaped key or value -> 422 credential_refused */
};

/* True for one of the five connection types. */
bool sb_connection_type_known(const char *type);
/* True for a name matching ^[a-z0-9][a-z0-9-]{0,119}$. */
bool sb_connection_name_ok(const char *name);
/* Checks a connection's scope: n (key, value) pairs of type. 0, or -1 with
 * SB_CONN_E_INVALID / SB_CONN_E_CREDENTIAL (messages never hold a value). */
int sb_connection_check_scope(const char *type, const char *const *keys, const char *const *values,
                              size_t n, sb_error *err);
/* True when s contains a secret-shaped value (see the contract). */
bool sb_connection_value_secret_shaped(const char *s);
/* True when key (not one of an allowed list) looks like a credential name. */
bool sb_connection_key_credential_shaped(const char *key);

#endif
