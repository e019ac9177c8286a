/*
 * store/oidc_store.h — OpenID Connect sign-ins in flight and the identities
 * a provider vouches for (migration 0025_oidc.sql).
 *
 * Contract:
 *   - A login state is stored by the keyed hashes of its `state` value and
 *     of its browser-binding cookie (crypto/token.h sb_token_hash; the
 *     caller hashes), with its nonce and return path. sb_oidc_store_state_take
 *     consumes it in ONE statement (DELETE … RETURNING): of two callbacks
 *     with the same state exactly one gets the row; the caller then checks
 *     expiry and binding. Putting a state also deletes expired rows.
 *   - An identity maps (issuer, subject) to one user, for good; it is
 *     never looked up by name or email.
 *   - Times are Unix seconds passed in by the caller.
 *   - Returns: 0 done / found, 1 not found, -1 error (err filled).
 */
#ifndef SB_STORE_OIDC_STORE_H
#define SB_STORE_OIDC_STORE_H

#include <stdint.h>

#include "crypto/token.h"
#include "store/db.h"

#define SB_OIDC_NONCE_MAX 128
#define SB_OIDC_RETURN_TO_MAX 2048

typedef struct sb_oidc_state_new {
    const unsigned char *state_hash;   /* SB_TOKEN_HASH_BYTES */
    const unsigned char *binding_hash; /* SB_TOKEN_HASH_BYTES */
    const char *nonce;
    const char *return_to;
    int64_t now;
    int64_t expires_at;
} sb_oidc_state_new;

typedef struct sb_oidc_state_record {
    unsigned char binding_hash[SB_TOKEN_HASH_BYTES];
    char nonce[SB_OIDC_NONCE_MAX + 1];
    char return_to[SB_OIDC_RETURN_TO_MAX + 1];
    int64_t expires_at;
} sb_oidc_state_record;

int sb_oidc_store_state_put(sb_db_conn *conn, const sb_oidc_state_new *s, sb_error *err);
/* Deletes and returns the state with this hash (expired or not). 1: none. */
int sb_oidc_store_state_take(sb_db_conn *conn, const unsigned char *state_hash,
                             sb_oidc_state_record *out, sb_error *err);

/* The user linked to (issuer, subject), and stamps its last sign-in.
 * 1: no such identity. */
int sb_oidc_store_identity_touch(sb_db_conn *conn, const char *issuer, const char *subject,
                                 const char *email, int64_t now, char user_id[40], sb_error *err);
/* Links (issuer, subject) to a new user. SB_DB_E_CONFLICT when the
 * identity exists already (a concurrent first sign-in). */
int sb_oidc_store_identity_link(sb_db_conn *conn, const char *issuer, const char *subject,
                                const char *user_id, const char *email, int64_t now,
                                sb_error *err);

#endif
