/*
 * store/api_tokens_store.h — personal API tokens (SPEC §8, §10).
 *
 * Contract:
 *   - A token row holds the keyed hash of the token (crypto/token.h), a
 *     display hint (the "sbp_" prefix and a few characters, enough to tell
 *     tokens apart, far too few to guess one), a name, and an expiry at
 *     most SB_API_TOKEN_MAX_LIFETIME after creation. The token is shown
 *     once by the API and never stored.
 *   - sb_api_tokens_store_create refuses (returns 1) when the user already
 *     has SB_API_TOKEN_MAX_ACTIVE live tokens; the count and the insert
 *     happen in one statement under a lock on the user's row, so two
 *     parallel creations cannot both pass the cap.
 *   - sb_api_tokens_store_authenticate finds a live token (not revoked,
 *     not expired at now, its user active) by hash and stamps last_used_at
 *     in the same statement (at most once a minute).
 *   - A token may be scoped to permission keys (checked against the catalog
 *     by the API): it then acts with its owner's grants narrowed to those
 *     permissions (the gate intersects them), never widened.
 *   - Lists and revocations are always confined to one user: another
 *     user's token id answers "not found", never "forbidden".
 *   - Times are Unix seconds passed in (the app's clock). Returns: 0 done /
 *     found, 1 not found / refused, -1 error (err filled, SB_DB_E_* codes).
 */
#ifndef SB_STORE_API_TOKENS_STORE_H
#define SB_STORE_API_TOKENS_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "crypto/token.h"
#include "store/db.h"
#include "store/rbac_snapshot.h"

#define SB_API_TOKEN_MAX_LIFETIME (365 * 24 * 60 * 60)
#define SB_API_TOKEN_MAX_ACTIVE 50
#define SB_API_TOKEN_NAME_MAX 100 /* characters (the column CHECK) */

typedef struct sb_api_token_record {
    char id[40];
    char user_id[40];
    char username[130];
    char name[4 * SB_API_TOKEN_NAME_MAX + 1];
    char display_hint[32];
    int64_t created_at;
    int64_t expires_at;
    int64_t last_used_at; /* 0: never */
    int64_t revoked_at;   /* 0: not revoked */
    char scopes[1024];    /* permission keys, comma-separated; "": the owner's grants, whole */
} sb_api_token_record;

typedef struct sb_api_token_new {
    const char *user_id;
    const char *name;
    const unsigned char *token_hash; /* SB_TOKEN_HASH_BYTES */
    const char *display_hint;
    int64_t now;
    int64_t expires_at; /* now < expires_at <= now + SB_API_TOKEN_MAX_LIFETIME */
    const char *scopes_literal; /* a text[] literal of permission keys checked by the caller;
                                   NULL or "{}": unscoped */
} sb_api_token_new;

/* 0 and *out; 1 when the user already has SB_API_TOKEN_MAX_ACTIVE live tokens. */
int sb_api_tokens_store_create(sb_db_conn *conn, const sb_api_token_new *t,
                               sb_api_token_record *out, sb_error *err);
/* The user's tokens, newest first, after the token `after_id` (NULL or "":
 * from the start), at most limit. *out is malloc'd (free it); *n rows. */
int sb_api_tokens_store_list(sb_db_conn *conn, const char *user_id, const char *after_id,
                             long limit, sb_api_token_record **out, size_t *n, sb_error *err);
/* Revokes the user's token id at now: 0 revoked now, 2 it was already
 * revoked (nothing changed), 1 not found (absent, or another user's). */
int sb_api_tokens_store_revoke(sb_db_conn *conn, const char *user_id, const char *id, int64_t now,
                               sb_api_token_record *out, sb_error *err);
/* Revokes every live token of a user; *count may be NULL. */
int sb_api_tokens_store_revoke_all(sb_db_conn *conn, const char *user_id, int64_t now,
                                   int64_t *count, sb_error *err);
/* The live token with this hash (stamps last_used_at = now, at most once
 * every SB_SESSION_SLIDE_EVERY_S). With grants non-NULL the same statement
 * reads the owner's grants and the tenancy version (the gate's RBAC
 * snapshot; sb_grant_set_free). 1: none. */
int sb_api_tokens_store_authenticate(sb_db_conn *conn, const unsigned char *token_hash, int64_t now,
                                     sb_api_token_record *out, sb_grant_set *grants,
                                     sb_error *err);

#endif
