/*
 * store/wrap_store.h — read keys, read results (secret wraps) and reveal
 * sessions (migrations/0018_read_results.sql).
 *
 * Contract: bytes cross this layer as standard base64 text (the columns
 * are bytea). Nothing here ever sees a plaintext value: a wrap's box is a
 * crypto_box_seal ciphertext for the request's read key, and the read
 * key's private half is stored only KMS-wrapped. sb_wrap_store_consume is
 * the single-use gate (I8): one conditional UPDATE that marks the wrap
 * consumed and drops its box, returning the box to the one caller that
 * won; everyone else learns why not (consumed, expired, missing).
 * JSON outputs are malloc'd and never hold a box or a key.
 */
#ifndef SB_STORE_WRAP_STORE_H
#define SB_STORE_WRAP_STORE_H

#include "store/db.h"

/* 0 found (both malloc'd), 1 none for this request, -1 error. */
int sb_wrap_store_read_key_get(sb_db_conn *conn, const char *request_id, char **wrapped_private_b64,
                               char **kms_key_id, sb_error *err);

/* One read result; expires ttl_s from now. */
int sb_wrap_store_insert(sb_db_conn *conn, const char *request_id, const char *key_name,
                         const char *value_kind, const char *box_b64, const char *agent_id,
                         int ttl_s, sb_error *err);
/* {"items":[{id, key, kind, state: live|consumed|expired, created_at,
 * expires_at, consumed_at}]} of a request, by key name. */
int sb_wrap_store_list(sb_db_conn *conn, const char *request_id, char **json, sb_error *err);

typedef enum sb_wrap_consume_result {
    SB_WRAP_CONSUMED = 0,   /* this caller won: box and key filled */
    SB_WRAP_MISSING = 1,    /* no such wrap on this request */
    SB_WRAP_GONE_USED = 2,  /* revealed already */
    SB_WRAP_GONE_EXPIRED = 3
} sb_wrap_consume_result;

typedef struct sb_wrap_taken {
    char *box_b64; /* malloc'd */
    char key_name[260];
    char value_kind[12];
} sb_wrap_taken;

/* The single-use gate; *result says who won. -1 on a database error. */
int sb_wrap_store_consume(sb_db_conn *conn, const char *request_id, const char *wrap_id,
                          const char *user_id, sb_wrap_consume_result *result,
                          sb_wrap_taken *taken, sb_error *err);
/* Every live wrap of the request expires now (reveal session ended). */
int sb_wrap_store_expire_request(sb_db_conn *conn, const char *request_id, sb_error *err);

/* Reveal sessions: JSON {id, request_id, ttl_seconds, opened_at,
 * expires_at, expired_at, expired_reason}. */
int sb_wrap_store_session_open(sb_db_conn *conn, const char *user_id, const char *request_id,
                               int ttl_s, char **json, sb_error *err);
int sb_wrap_store_session_list_active(sb_db_conn *conn, const char *user_id, char **json,
                                      sb_error *err);
/* Ends the user's session with reason, expiring its request's live wraps;
 * 0 ended now or before (json: the row), 1 no such session of this user. */
int sb_wrap_store_session_expire(sb_db_conn *conn, const char *session_id, const char *user_id,
                                 const char *reason, char **json, sb_error *err);
/* Up to limit sessions past their TTL end with reason ttl (their wraps
 * expire); *json (malloc'd) a JSON array of {id, request_id, user_id,
 * wraps_expired}, one per session ended. */
int sb_wrap_store_session_sweep(sb_db_conn *conn, long limit, char **json, sb_error *err);

#endif
