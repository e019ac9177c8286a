/*
 * store/request_store.h — secret requests, their votes and sealed values:
 * the SQL behind api/request_*.c (job intents: store/job_store.h).
 *
 * Contract: the conventions of store/tenancy_store.h (parameterised SQL on
 * the caller's connection and transaction, sb_row_set results read through
 * typed accessors, 0 found / 1 none / -1 error, UUID text ids checked by
 * the caller, RFC 3339 UTC timestamps).
 *
 * The state column is written in exactly two places, both driven by
 * domain/request_machine through service/request_transition.c:
 * sb_request_store_insert (the submit transition's target state) and
 * sb_request_store_set_state, a compare-and-set on (id, state) that
 * returns 1 when the row is no longer in the expected state. Nothing here
 * decides whether a change is legal.
 *
 * Values: sealed boxes only (crypto_box_seal ciphertexts, base64 on the
 * wire, bytea here); the store never sees a plaintext value (I1, I2) and
 * never returns a box in a row set meant for a response.
 */
#ifndef SB_STORE_REQUEST_STORE_H
#define SB_STORE_REQUEST_STORE_H

#include "store/rows.h"

typedef struct sb_request_row {
    const char *id, *kind, *state, *requester_id, *justification;
    const char *project_id, *environment_id;
    const char *binding_id; /* NULL once the binding is deleted */
    const char *catalog_secret_id, *connection_id, *provider_type, *secret_ref;
    const char *keys; /* JSON array of key names */
    const char *operation;
    const char *target_team_id; /* cross_team only */
    const char *workflow_id;    /* NULL once the workflow is deleted */
    const char *workflow;       /* JSON snapshot taken at submit */
    const char *policy;         /* JSON decision taken at submit */
    const char *expires_at, *fill_expires_at, *filled_by, *filled_at, *fill_comment;
    const char *reason, *decided_at, *created_at, *updated_at;
    bool job_intent;         /* a job intent exists */
    bool ttl_passed;         /* expires_at <= the database's now() when read */
    bool fill_window_passed; /* fill_expires_at <= now() (false without one) */
} sb_request_row;

void sb_request_store_at(const sb_row_set *rows, size_t i, sb_request_row *out);

/* What a submit inserts. The workflow snapshot is copied from the
 * workflows row in the same statement; expires_at = now() + request_ttl_s
 * of that row, fill_expires_at = now() + fill_ttl_s for cross_team. */
typedef struct sb_request_new {
    const char *kind, *state, *requester_id, *justification;
    const char *project_id, *environment_id, *binding_id;
    const char *catalog_secret_id, *connection_id, *provider_type, *secret_ref;
    const char *keys_json, *operation, *target_team_id, *workflow_id, *policy_json;
} sb_request_new;

int sb_request_store_insert(sb_db_conn *conn, const sb_request_new *n, sb_row_set *out,
                            sb_error *err);
int sb_request_store_get(sb_db_conn *conn, const char *id, bool for_update, sb_row_set *out,
                         sb_error *err);
/* sb_request_store_get(for_update) that also reads the request's votes, in
 * one statement: they include those of a transaction the lock waited for
 * (migrations/0028_request_votes_now.sql — which holds because every vote
 * is recorded by the statement that updates the request row). The votes
 * are sb_request_store_locked_votes(out): a JSON array of
 * [approver_id, decision, groups] in the order they were cast. */
int sb_request_store_lock_with_votes(sb_db_conn *conn, const char *id, sb_row_set *out,
                                     sb_error *err);
const char *sb_request_store_locked_votes(const sb_row_set *rows);

/* A vote to record with a transition. */
typedef struct sb_request_vote_in {
    const char *approver_id;
    const char *decision; /* "approve" | "reject" */
    int64_t groups;
    const char *comment;
} sb_request_vote_in;

/* Fields a transition may set besides the state (NULL/false: unchanged). */
typedef struct sb_request_change {
    const char *reason;       /* reject / refuse / failure */
    const char *filled_by;    /* fill */
    const char *fill_comment; /* fill */
    bool decided;             /* decided_at = now() */
    const sb_request_vote_in *vote; /* a request_votes row, in the same statement */
} sb_request_change;

/* UPDATE ... SET state = to WHERE id AND state = from: 0 and the new row
 * in out, 1 when the request is missing or not in from any more (a vote
 * in c is then not recorded either: the caller rolls back). */
int sb_request_store_set_state(sb_db_conn *conn, const char *id, const char *from,
                               const char *to, const sb_request_change *c, sb_row_set *out,
                               sb_error *err);

/* ---- the binding a request targets --------------------------------------- */

typedef struct sb_request_target {
    const char *binding_id, *project_id, *project_status, *team_id;
    const char *environment_id, *environment_kind;
    const char *catalog_secret_id, *secret_ref, *catalog_status;
    const char *connection_id, *provider_type, *connection_status;
    const char *allowed_keys, *allowed_ops; /* JSON arrays */
} sb_request_target;

/* The secret binding id with its project, environment, catalog secret and
 * connection, the binding row locked FOR SHARE. 1 when missing. */
int sb_request_store_target(sb_db_conn *conn, const char *binding_id, sb_row_set *out,
                            sb_error *err);
void sb_request_store_target_at(const sb_row_set *rows, sb_request_target *out);

/* ---- votes ------------------------------------------------------------------ */

typedef struct sb_request_vote_row {
    const char *approver_id, *username, *decision, *comment, *created_at;
    int64_t groups;
} sb_request_vote_row;

int sb_request_store_votes(sb_db_conn *conn, const char *request_id, sb_row_set *out,
                           sb_error *err);
/* (Not read with the row locked FOR UPDATE: a statement that waits for the
 * lock keeps the snapshot it started with, so it would miss the votes of
 * the transaction it waited for. Read them after the lock, in a statement
 * of its own.) */
void sb_request_store_vote_at(const sb_row_set *rows, size_t i, sb_request_vote_row *out);

/* 1 when user holds one of role_ids (a PostgreSQL uuid[] literal) through a
 * grant that covers the project: global, on the project, or on one of
 * team_ids (the project's team and its ancestors, a uuid[] literal); else 0;
 * -1 on error. */
int sb_request_store_holds_role(sb_db_conn *conn, const char *user_id, const char *role_ids,
                                const char *project_id, const char *team_ids, sb_error *err);
/* 1 when user is a member of team, 0 when not, -1 on error. */
int sb_request_store_team_member(sb_db_conn *conn, const char *team_id, const char *user_id,
                                 sb_error *err);

/* ---- sealed values ------------------------------------------------------------ */

/* One box (base64 text, decoded by PostgreSQL) for key and recipient,
 * expiring ttl_s seconds from now. */
int sb_request_store_sealed_insert(sb_db_conn *conn, const char *request_id, const char *key,
                                   const char *recipient, const char *box_b64, int ttl_s,
                                   sb_error *err);
/* Every box of the request expires ttl_s from now (approval), or at the
 * latest ttl_s from now when shorten_only (reject, cancel, expiry). */
int sb_request_store_sealed_retime(sb_db_conn *conn, const char *request_id, int ttl_s,
                                   bool shorten_only, sb_error *err);
/* Boxes and distinct recipients of a request (counts only: never a box). */
int sb_request_store_sealed_counts(sb_db_conn *conn, const char *request_id, int64_t *boxes,
                                   int64_t *recipients, sb_error *err);

/* ---- lists ------------------------------------------------------------------ */

typedef enum sb_request_list_kind {
    SB_REQUEST_LIST_MINE,  /* requester_id = user */
    SB_REQUEST_LIST_QUEUE, /* open requests in `scope` the user may vote on, not theirs,
                              not yet voted by them */
    SB_REQUEST_LIST_INBOX, /* cross_team pending_values for teams in `scope`, not theirs */
} sb_request_list_kind;

typedef struct sb_request_filter {
    sb_request_list_kind list;
    const char *user_id;
    sb_id_filter scope; /* QUEUE: projects; INBOX: teams */
    const char *state;  /* NULL = any (MINE only) */
    const char *kind;   /* NULL = any */
} sb_request_filter;

/* Newest first for MINE, oldest first (FIFO) for QUEUE and INBOX; keyset
 * paged by (created_at, id) encoded in page->after as "<id>". */
int sb_request_store_list(sb_db_conn *conn, const sb_request_filter *f, const sb_list_page *page,
                          sb_row_set *out, sb_error *err);

/* Up to limit open requests whose request TTL or fill window has passed,
 * locked FOR UPDATE SKIP LOCKED (so two sweepers never take the same one). */
int sb_request_store_due(sb_db_conn *conn, long limit, sb_row_set *out, sb_error *err);

#endif
