/*
 * store/job_store.h — the job queue (SPEC §9, I10): rows of `jobs`, the
 * claim, leases, completion and the expired-lease sweep.
 *
 * Contract: parameterised SQL on the caller's connection and transaction;
 * nothing here decides whether a change is legal (domain/job_rules.h does,
 * api/job_*.c applies it). Job rows come back as JSON object text
 * (malloc'd, the caller frees) in the shape of docs/agent-protocol.md.
 *   - The claim takes the oldest due queued job of ONE connection whose
 *     type is in `types`, FOR UPDATE SKIP LOCKED (concurrent claimers never
 *     wait on each other and never get the same job), and leases it to the
 *     agent for lease_s seconds, counting an attempt.
 *   - Every write that makes a job claimable now is followed by a NOTIFY
 *     on SB_JOB_CHANNEL with the connection id as payload, delivered at
 *     commit: create sends it in its own statement; after a re-queue by the
 *     sweep the caller sends it (sb_job_store_notify).
 *   - Create, for a request's job (request_id not NULL), records the
 *     request's job intent (job_intents, job_type = type) and, for a read,
 *     its read key in the same statement; SB_TENANCY_E_EXISTS when the
 *     request has a job already.
 * Returns 0 done / found, 1 none, -1 error.
 */
#ifndef SB_STORE_JOB_STORE_H
#define SB_STORE_JOB_STORE_H

#include <stdbool.h>
#include <stdint.h>

#include "store/db.h"

#define SB_JOB_CHANNEL "sb_jobs"

/* A read request's key row (request_read_keys), stored by its job's
 * statement: standard base64 of the public key and of the KMS-wrapped
 * private key, and the KMS key id. */
typedef struct sb_job_read_key {
    const char *public_b64, *wrapped_private_b64, *kms_key_id;
} sb_job_read_key;

/* read_key (may be NULL) needs request_id. */
int sb_job_store_create(sb_db_conn *conn, const char *type, const char *connection_id,
                        const char *request_id, const char *payload_json, int max_attempts,
                        const sb_job_read_key *read_key, char **json, sb_error *err);
int sb_job_store_notify(sb_db_conn *conn, const char *connection_id, sb_error *err);

/* Fails the queued jobs of the connection whose type is not in types (a
 * text[] literal); *json a JSON array of {id, type, request_id}. */
int sb_job_store_fail_unknown(sb_db_conn *conn, const char *connection_id, const char *types,
                              char **json, sb_error *err);
int sb_job_store_claim(sb_db_conn *conn, const char *agent_id, const char *connection_id,
                       const char *types, int lease_s, char **json, sb_error *err);

/* A job locked FOR UPDATE, with what completion and renewal check. */
typedef struct sb_job_lock_row {
    char id[40], type[16], state[16], connection_id[40], request_id[40];
    char lease_owner[40], last_outcome[24], last_completed_by[40];
    bool lease_live; /* lease_expires_at > now() */
    int attempts, max_attempts;
} sb_job_lock_row;
int sb_job_store_lock(sb_db_conn *conn, const char *job_id, sb_job_lock_row *out, sb_error *err);

int sb_job_store_renew(sb_db_conn *conn, const char *job_id, int lease_s, char **json,
                       sb_error *err);
/* Ends the lease with `state` (queued: run again after delay_ms; succeeded
 * or failed: finished), recording outcome, error and who reported it. */
int sb_job_store_complete(sb_db_conn *conn, const char *job_id, const char *agent_id,
                          const char *state, const char *outcome, const char *error,
                          int64_t delay_ms, char **json, sb_error *err);
/* Up to limit jobs whose lease expired: re-queued (due now) while attempts
 * remain, else failed; *json a JSON array of {id, type, state,
 * connection_id, request_id}. */
int sb_job_store_expire_leases(sb_db_conn *conn, long limit, char **json, sb_error *err);

int sb_job_store_get(sb_db_conn *conn, const char *job_id, char **json, sb_error *err);

/* A discover job's uploaded chunk: adds n to its items_uploaded. */
int sb_job_store_add_uploaded(sb_db_conn *conn, const char *job_id, int64_t n, sb_error *err);
/* A discover job ended (outcome, error may be NULL): the connection's
 * discovery status takes the job's count. */
int sb_job_store_discovery_ended(sb_db_conn *conn, const char *job_id, const char *outcome,
                                 const char *error, sb_error *err);

#endif
