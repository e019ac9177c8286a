/*
 * store/agent_store.h — agents and their enrollment tokens (SPEC §9, §10).
 *
 * Contract: parameterised SQL on the caller's connection and transaction.
 * Credentials arrive as keyed hashes (crypto/token.h) and only hashes are
 * stored; nothing here ever returns a hash in a row meant for a response.
 * Rows for responses come back as JSON object text (malloc'd, the caller
 * frees) with the fields documented in docs/agent-protocol.md. The status
 * shown is 'stale' for an active agent whose last heartbeat is older than
 * SB_AGENT_STALE_S even before the worker's mark_stale_agents task stores
 * it (worker/tasks.h); the stored status is enrolled, active, stale or
 * revoked.
 * Returns 0 done / found, 1 not found, other positive values as named,
 * -1 error (err filled).
 */
#ifndef SB_STORE_AGENT_STORE_H
#define SB_STORE_AGENT_STORE_H

#include <stdbool.h>
#include <stdint.h>

#include "crypto/token.h"

#include "store/db.h"

#define SB_AGENT_STALE_S 90 /* three missed 30 s heartbeats */

/* A new enrollment token for an active connection, valid ttl_s seconds.
 * 1 when the connection does not exist, 2 when it is not active. */
int sb_agent_store_token_create(sb_db_conn *conn, const char *connection_id,
                                const unsigned char hash[SB_TOKEN_HASH_BYTES],
                                const char *display_hint, const char *created_by, int ttl_s,
                                char **json, sb_error *err);
/* Revokes an unused token: 0 revoked, 1 none, 2 already consumed or revoked. */
int sb_agent_store_token_revoke(sb_db_conn *conn, const char *token_id, char **json,
                                sb_error *err);

typedef enum sb_enroll_result {
    SB_ENROLL_OK = 0,
    SB_ENROLL_TOKEN_UNKNOWN = 1,
    SB_ENROLL_TOKEN_EXPIRED,
    SB_ENROLL_TOKEN_USED,
    SB_ENROLL_TOKEN_REVOKED,
    SB_ENROLL_CONNECTION_MISMATCH,
    SB_ENROLL_CONNECTION_UNAVAILABLE,
} sb_enroll_result;

typedef struct sb_enroll_new {
    const unsigned char *token_hash;  /* SB_TOKEN_HASH_BYTES */
    const unsigned char *secret_hash; /* SB_TOKEN_HASH_BYTES */
    const char *connection;           /* the connection the agent says it serves: name or id */
    const char *name, *version;
    const unsigned char *public_key;  /* 32 bytes */
} sb_enroll_new;

/* Consumes the token (locked FOR UPDATE: one winner) and inserts the agent,
 * in the caller's transaction. *result says why it was refused; on
 * SB_ENROLL_OK agent_id and connection_id (>= 37 bytes each) are filled
 * and token_id too (for the audit). */
int sb_agent_store_enroll(sb_db_conn *conn, const sb_enroll_new *e, sb_enroll_result *result,
                          char *agent_id, char *connection_id, char *token_id, sb_error *err);

/* What the gate needs: the secret hash, stored status and connection. */
typedef struct sb_agent_auth_row {
    unsigned char secret_hash[SB_TOKEN_HASH_BYTES];
    char status[16];
    char connection_id[40];
    char name[128];
} sb_agent_auth_row;
int sb_agent_store_auth(sb_db_conn *conn, const char *agent_id, sb_agent_auth_row *out,
                        sb_error *err);

/* Records a heartbeat; enrolled or stale -> active. *activated when it
 * changed the status. 1 when the agent is missing or revoked. */
int sb_agent_store_heartbeat(sb_db_conn *conn, const char *agent_id, const char *version,
                             const char *capabilities_json, const char *health_json,
                             int *activated, char **json, sb_error *err);

int sb_agent_store_get(sb_db_conn *conn, const char *agent_id, char **json, sb_error *err);
/* A JSON array of agents ordered by id after after_id ("" = start), at most
 * limit; connection_id / status filter when not NULL. */
int sb_agent_store_list(sb_db_conn *conn, const char *connection_id, const char *status,
                        const char *after_id, long limit, char **json, sb_error *err);
/* The public keys (standard base64) clients seal patch values to: the
 * agents of the connection that are not revoked. JSON {"connection_id",
 * "items":[{agent_id, name, status, public_key}]}. */
int sb_agent_store_recipients(sb_db_conn *conn, const char *connection_id, char **json,
                              sb_error *err);
/* *live: recipient (base64 of a 32-byte key) is the key of an agent of
 * the connection that is not revoked. */
int sb_agent_store_recipient_live(sb_db_conn *conn, const char *connection_id,
                                  const char *recipient, bool *live, sb_error *err);
/* 0 revoked, 1 none, 2 already revoked. */
int sb_agent_store_revoke(sb_db_conn *conn, const char *agent_id, const char *by_user,
                          char **json, sb_error *err);

#endif
