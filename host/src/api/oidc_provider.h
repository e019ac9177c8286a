/*
 * api/oidc_provider.h — the configured OpenID provider as the control
 * plane talks to it: settings checked at start, discovery and signing keys
 * fetched and cached, the authorization code exchanged, the ID token
 * verified.
 *
 * Contract:
 *   - sb_oidc_provider_open checks oidc: beyond the schema (issuer https,
 *     or http to a loopback host only; redirect_uri ending in
 *     /api/v1/auth/oidc/callback; scopes including openid; the username
 *     claim and email domains well-formed) and answers every problem as
 *     "oidc.<key>: what is wrong; how to fix it". It fetches nothing: the
 *     provider may be down while sbridge starts.
 *   - Discovery (<issuer>/.well-known/openid-configuration) is fetched on
 *     first use and kept for an hour; its issuer must equal the configured
 *     one exactly and its endpoints must be https (http only when the issuer
 *     itself is a loopback http URL). The JWKS is fetched with it, and again
 *     once per verification when an ID token names a kid it does not
 *     hold (the provider rotated its keys). ID tokens come only from the
 *     token endpoint over the same client, never from the browser, so a
 *     caller cannot make sbridge fetch the keys at will.
 *   - All outbound calls go through the host HTTP client
 *     (plugin/http_client.h: TLS >= 1.2, verification on, no redirects,
 *     plain http to loopback only), 10 s each.
 *   - The code exchange authenticates with client_secret_basic and sends
 *     the PKCE code_verifier; the answer's id_token is returned in secure
 *     memory. Nothing here logs a code, token, verifier or the secret.
 *   - Thread-safe (one mutex around the cache).
 * Errors: SB_OIDC_E_* (crypto/oidc_id_token.h) from verification, and
 * SB_OIDC_PROVIDER_UNAVAILABLE / SB_OIDC_PROVIDER_REFUSED for the network.
 */
#ifndef SB_API_OIDC_PROVIDER_H
#define SB_API_OIDC_PROVIDER_H

#include <stddef.h>
#include <stdint.h>

#include "config/settings.h"
#include "crypto/oidc_id_token.h"
#include "util/error.h"

#define SB_OIDC_URL_MAX 4096

enum sb_oidc_provider_error_code {
    SB_OIDC_PROVIDER_UNAVAILABLE = 2351, /* discovery/JWKS/token endpoint unreachable or broken */
    SB_OIDC_PROVIDER_REFUSED,            /* the token endpoint refused the code */
};

typedef struct sb_oidc_provider sb_oidc_provider;

/* NULL with *out when oidc: is absent (SSO off). */
int sb_oidc_provider_open(const sb_oidc_settings *s, sb_oidc_provider **out, sb_error *err);
void sb_oidc_provider_free(sb_oidc_provider *p);
const sb_oidc_settings *sb_oidc_provider_settings(const sb_oidc_provider *p);

/* The authorization endpoint URL with the sign-in's parameters. */
int sb_oidc_provider_authorize_url(sb_oidc_provider *p, int64_t now, const char *state,
                                   const char *nonce, const char *code_challenge, char *out,
                                   size_t cap, sb_error *err);
/* Exchanges code for an ID token (*id_token: secure memory, the caller
 * releases with sb_secure_release). */
int sb_oidc_provider_exchange(sb_oidc_provider *p, int64_t now, const char *code,
                              const char *code_verifier, char **id_token, sb_error *err);
/* Verifies id_token (fetching the keys again once on an unknown kid). */
int sb_oidc_provider_verify(sb_oidc_provider *p, int64_t now, const char *id_token,
                            const char *nonce, sb_oidc_claims *out, sb_error *err);

/* Percent-encodes s for a query string or form body (unreserved characters
 * kept). 0, or -1 when it does not fit. */
int sb_oidc_form_escape(const char *s, char *out, size_t cap);

#endif
