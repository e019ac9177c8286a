/*
 * store/sessions_store.h — server-side login sessions (SPEC §8).
 *
 * Contract:
 *   - A session row is keyed by the keyed hash of its token
 *     (crypto/token.h: sb_token_hash); the token itself never reaches the
 *     database. Each session also has a public id (a UUID) that the login
 *     JWT carries as `sid`.
 *   - Times are Unix seconds passed in by the caller (the app's clock).
 *     Expiry follows domain/session_policy.h: a session is live while
 *     now < absolute_expires_at and now < idle_expires_at, where the idle
 *     expiry is last use + idle, never beyond the absolute expiry.
 *   - sb_sessions_store_touch (by hash, for the cookie) and
 *     sb_sessions_store_touch_by_id (by sid, for a JWT) find a live session
 *     and slide its idle expiry in ONE statement (a CTE: find the live
 *     session, UPDATE … SET last_seen_at, idle_expires_at =
 *     least(now + idle, absolute) only when the last slide is at least
 *     SB_SESSION_SLIDE_EVERY_S old, return the row as it is afterwards), so
 *     most uses write nothing and a revoked, expired or disabled-user
 *     session is never returned and
 *     two concurrent uses cannot resurrect an expired one. A clock that
 *     went backwards never shortens a session (greatest(), as the domain
 *     rule says).
 *   - Revocation keeps the row (revoked_at set) for the audit trail;
 *     sb_sessions_store_sweep deletes rows long past their expiry.
 *   - Returns: 0 done / found, 1 not found (absent, revoked, expired), -1
 *     error with err filled (SB_DB_E_* codes).
 */
#ifndef SB_STORE_SESSIONS_STORE_H
#define SB_STORE_SESSIONS_STORE_H

#include <stdint.h>

#include "crypto/token.h"
#include "store/db.h"
#include "store/rbac_snapshot.h"

typedef struct sb_session_record {
    char id[40];
    char user_id[40];
    char username[130];
    unsigned char token_hash[SB_TOKEN_HASH_BYTES];
    int64_t created_at;
    int64_t last_seen_at;
    int64_t idle_expires_at;
    int64_t absolute_expires_at;
    int64_t last_mfa_at; /* 0: never */
} sb_session_record;

typedef struct sb_session_new {
    const unsigned char *token_hash; /* SB_TOKEN_HASH_BYTES */
    const char *user_id;
    int64_t now;
    int64_t idle_expires_at;     /* from sb_session_start */
    int64_t absolute_expires_at; /* from sb_session_start */
    const char *remote_ip;       /* may be NULL */
} sb_session_new;

int sb_sessions_store_create(sb_db_conn *conn, const sb_session_new *s, sb_session_record *out,
                             sb_error *err);
/* The live session with this token hash, slid to now (idle_seconds > 0).
 * With grants non-NULL the same statement also reads the user's grants and
 * the tenancy version into it (the gate's RBAC snapshot: one round trip
 * for both); free it with sb_grant_set_free. */
int sb_sessions_store_touch(sb_db_conn *conn, const unsigned char *token_hash, int64_t now,
                            int64_t idle_seconds, sb_session_record *out, sb_grant_set *grants,
                            sb_error *err);
/* The same by public id, and only if it belongs to user_id (a JWT's sub). */
int sb_sessions_store_touch_by_id(sb_db_conn *conn, const char *session_id, const char *user_id,
                                  int64_t now, int64_t idle_seconds, sb_session_record *out,
                                  sb_grant_set *grants, sb_error *err);
/* Records a successful MFA verification on the live session with this
 * token hash (last_mfa_at = now). 1: no such live session. */
int sb_sessions_store_stamp_mfa(sb_db_conn *conn, const unsigned char *token_hash, int64_t now,
                                sb_error *err);
/* Revokes one session (if not already revoked); its public id goes to
 * id_out (may be NULL). 1: none to revoke. */
int sb_sessions_store_revoke(sb_db_conn *conn, const unsigned char *token_hash, int64_t now,
                             char id_out[40], sb_error *err);
/* Revokes every live session of a user; *count (may be NULL) says how many. */
int sb_sessions_store_revoke_all(sb_db_conn *conn, const char *user_id, int64_t now, int64_t *count,
                                 sb_error *err);
/* Deletes sessions whose absolute expiry is before `before`; *count may be NULL. */
int sb_sessions_store_sweep(sb_db_conn *conn, int64_t before, int64_t *count, sb_error *err);

#endif
