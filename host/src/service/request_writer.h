/*
 * service/request_writer.h — the single writer of request states, and the
 * transitions no user makes (SPEC §8). Shared by the API (submit, votes,
 * fills, job completion) and the worker (the expiry sweep, lease recovery).
 *
 *   request_transition.c  sb_request_apply / sb_request_after_submit: the
 *                         ONLY code that changes a request's state
 *                         (domain/request_machine decides, the store
 *                         applies a compare-and-set, the actions of the
 *                         table row run in the same transaction, one audit
 *                         event).
 *   request_sweep.c       sb_request_sweep: the TTL and fill-window expiry.
 *   job_writer.c          sb_request_drive_job: a job's outcome on its
 *                         approved request.
 */
#ifndef SB_SERVICE_REQUEST_WRITER_H
#define SB_SERVICE_REQUEST_WRITER_H

#include <jansson.h>
#include <stdbool.h>

#include "crypto/kms.h"
#include "domain/request_machine.h"
#include "service/audit_write.h"
#include "store/request_store.h"

/* Sealed values of a patch submit or a cross-team fill (already checked). */
typedef struct sb_sealed_value {
    const char *key, *recipient, *box; /* box: base64 of a crypto_box_seal output */
} sb_sealed_value;

/* sb_request_vote_in: store/request_store.h (recorded with the state). */

/* One step of the machine on a locked request row. */
typedef struct sb_request_step {
    sb_request_event event;
    sb_request_ctx ctx;             /* only the direct-reveal submit gate reads it */
    sb_request_change change;       /* reason, filler, decided */
    const sb_request_vote_in *vote; /* required exactly when the row records a vote */
    const sb_sealed_value *sealed;  /* required exactly when the row stores values */
    size_t n_sealed;
    json_t *details;   /* extra audit details (borrowed), may be NULL */
    const sb_kms *kms; /* the app's KMS: needed where the row creates a read key */
} sb_request_step;

/* Applies step to the request in cur (row 0, locked FOR UPDATE by the
 * caller): asks the machine, writes the new state with a compare-and-set,
 * performs the row's actions (vote, sealed values, wrap TTLs, job intent
 * with the cross-team allowlist re-check) and writes the audit event
 * "request.<action>". actor NULL: the system. The new row in out.
 * Errors: SB_DOMAIN_E_ILLEGAL_TRANSITION (409, message naming the current
 * state), SB_DOMAIN_E_INVALID (a step that does not fit its row), store
 * errors. */
int sb_request_apply(sb_db_conn *conn, const sb_actor *actor, const sb_row_set *cur,
                     const sb_request_step *step, sb_row_set *out, sb_error *err);

/* The submit transition: the state a new request of kind starts in and the
 * actions; the caller inserts the row with that state, then calls
 * sb_request_after_submit for the actions and the audit event. */
int sb_request_submit_state(sb_request_kind kind, const sb_request_ctx *ctx, sb_request_state *to,
                            uint32_t *actions, sb_error *err);
int sb_request_after_submit(sb_db_conn *conn, const sb_actor *actor, const sb_row_set *row,
                            uint32_t actions, const sb_request_step *step, sb_error *err);

/* The workflow snapshot's integer field name, or fallback. */
int sb_request_workflow_int(const sb_request_row *r, const char *name, int fallback);

/* Expires, in one transaction, up to `limit` open requests whose TTL (or,
 * for pending_values, fill window) has passed (events expire /
 * fill_window_expired), each audited with actor "system". Rows are taken
 * FOR UPDATE SKIP LOCKED, so concurrent sweepers (replicas, the worker)
 * never expire one request twice and never wait on a request a user is
 * deciding. *expired: how many; call it again while that equals limit.
 * A request that cannot be expired is rolled back alone (a savepoint
 * each) and the sweep answers -1 naming it once the others are
 * committed, so one bad row never blocks the rest. */
int sb_request_sweep(sb_db *db, long limit, size_t *expired, sb_error *err);

/* A job's outcome on its request (job_succeeded / job_failed), inside the
 * caller's transaction: the request is locked and moved only while it is
 * approved; anything else (gone, decided otherwise, a repeat) is left
 * alone and answers 0 with *applied 0. With executed non-NULL the new row
 * is returned there when the step applied (caller frees). */
int sb_request_drive_job(sb_db_conn *conn, const sb_actor *actor, const char *request_id,
                         bool succeeded, const char *reason, int *applied, sb_row_set *executed,
                         sb_error *err);

#endif
