/*
 * store/audit_store.h — the audit trail (I5): appending events, sealing
 * them into the keyed hash chain, verifying the chain, listing events.
 *
 * Tables (0004_audit.sql, 0016_audit_chain.sql): audit_events holds the
 * events and is strictly append-only; audit_unsealed is the sealer's queue
 * (one narrow row per event not yet sealed); audit_chain holds one
 * INSERT-only link per sealed event (position, prev_hash, hash, sealed_at).
 *
 * Contract:
 *   - sb_audit_append INSERTs one event (a statement trigger queues it for
 *     the sealer) on the caller's connection — inside the caller's transaction, so the
 *     event commits or rolls back with the change it records. It takes no
 *     lock and sends no NOTIFY (a NOTIFY serialises every notifying commit
 *     in PostgreSQL), so appends never wait for each other or for the
 *     sealer. The record is validated first (action format, outcome,
 *     severity, non-empty actor, resource and correlation id, details a
 *     JSON object) so callers get an error naming the field instead of a
 *     CHECK violation.
 *   - sb_audit_seal links committed, queued events into the chain, at most
 *     `batch` of them, in one transaction guarded by a transaction-level
 *     advisory lock (pg_try_advisory_xact_lock): if another sealer holds
 *     it, it returns 0 with *sealed = 0 at once. Events are taken in id
 *     order among those visible (uncommitted ones are invisible), so the
 *     chain order is the order events became visible — commit order, not id
 *     order. For each one it computes
 *         hash = sb_audit_chain_link(key, prev_hash, fields incl. chain_seq)
 *     and then, in one statement, deletes the batch's queue rows and
 *     inserts their links. Per event that is a small delete and a narrow
 *     insert (no rewrite of the event and its seven index entries), which
 *     is what lets one sealer keep up with many writers.
 *   - sb_audit_verify walks the chain by chain_seq in pages (keyset
 *     pagination in one read-only REPEATABLE READ transaction: bounded
 *     memory, a consistent snapshot while sealers keep appending) and
 *     reports the FIRST break: a chain that does not start at 1, a gap in
 *     chain_seq (links deleted), a link whose event was deleted, a prev_hash
 *     that is not the previous link's hash (an event inserted, or two
 *     reordered), a stored hash that does not match the event's contents
 *     (modified), a malformed link; then an event that is neither linked
 *     nor queued (its queue row removed) or a queue row without its event;
 *     and finally queued events older than stale_after_ms (the sealer is
 *     not running: those events are not yet protected). It seals nothing
 *     and writes nothing.
 *   - sb_audit_list returns events newest first (ORDER BY id DESC LIMIT),
 *     filtered by equality on actor/action/resource/correlation_id/outcome
 *     and a time range, after a keyset cursor (id < after_id); every value
 *     is a parameter. The indexes of 0004_audit.sql serve each filter.
 *
 * Canonical texts (what the chain covers) are read back from the database
 * with the same expressions when sealing and verifying: occurred_at as
 * to_char(occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')
 * and details as details::text (jsonb's normalised text).
 *
 * The key (SB_AUDIT_KEY_BYTES, the app's audit_key) is never stored in
 * the database: someone able to rewrite rows cannot recompute the chain.
 */
#ifndef SB_STORE_AUDIT_STORE_H
#define SB_STORE_AUDIT_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "crypto/audit_chain.h"
#include "store/db.h"
#include "util/error.h"

enum sb_audit_error_code {
    SB_AUDIT_E_INVALID = 2301, /* a record or argument that cannot be stored */
    SB_AUDIT_E_CHAIN,          /* the chain head is malformed: sealing refused */
};

/* Limits enforced before the INSERT (bytes). */
#define SB_AUDIT_TEXT_MAX 512      /* actor, resource, request id, remote ip */
#define SB_AUDIT_CORRELATION_MAX 128
#define SB_AUDIT_DETAILS_MAX 65536
/* A default for sb_audit_verify_options.stale_after_ms. */
#define SB_AUDIT_STALE_DEFAULT_MS 60000
/* Room for a canonical timestamp ("2026-11-28T13:45:00.123456Z") and more. */
#define SB_AUDIT_TIME_MAX 40

/* One event to append. Strings are borrowed. */
typedef struct sb_audit_record {
    const char *actor;          /* "user:<uuid>", "agent:<uuid>", "system", "anonymous" */
    const char *action;         /* ^[a-z][a-z0-9_.]{1,99}$, e.g. "team.create" */
    const char *resource;       /* "team:<uuid>", "session", ... */
    const char *outcome;        /* "success", "failure" or "denied" */
    const char *severity;       /* "info" (NULL), "warning" or "critical" */
    const char *correlation_id; /* 1..128 characters */
    const char *request_id;     /* NULL: none */
    const char *remote_ip;      /* NULL: none */
    const char *details;        /* a JSON object as text; NULL: "{}". Never a secret value. */
} sb_audit_record;

/* Appends r on conn (the caller's transaction, or autocommit). In a
 * transaction the INSERT is deferred (sb_db_exec_deferred_rows): it goes in
 * the round trip of the commit, and the transaction's events one after the
 * other are one INSERT. */
int sb_audit_append(sb_db_conn *conn, const sb_audit_record *r, sb_error *err);
/* The same, also returning the new event's id (id may be NULL). */
int sb_audit_append_id(sb_db_conn *conn, const sb_audit_record *r, int64_t *id, sb_error *err);

/* 1 when action matches ^[a-z][a-z0-9_.]{1,99}$ (the table's CHECK). */
int sb_audit_action_valid(const char *action);
/* 1 for "success", "failure", "denied". */
int sb_audit_outcome_valid(const char *outcome);

/* Seals up to batch (1..10000) committed unsealed events. *sealed (may be
 * NULL) receives how many; 0 also when another sealer is running. */
int sb_audit_seal(sb_db *db, const unsigned char key[SB_AUDIT_KEY_BYTES], size_t batch,
                  size_t *sealed, sb_error *err);

/* For /metrics (SPEC §18 "audit chain length"): the highest chain position
 * and how many events wait for the sealer. Index-only work, no walk. */
int sb_audit_counts(sb_db_conn *conn, int64_t *chain_length, int64_t *unsealed, sb_error *err);

/* ---- verification ------------------------------------------------------- */

typedef enum sb_audit_break_kind {
    SB_AUDIT_INTACT = 0,
    SB_AUDIT_BREAK_START,     /* the first sealed event is not at chain position 1 */
    SB_AUDIT_BREAK_GAP,       /* a chain position is missing: events were deleted */
    SB_AUDIT_BREAK_LINK,      /* prev_hash != the previous event's hash: inserted or reordered */
    SB_AUDIT_BREAK_MODIFIED,  /* the stored hash does not match the event's contents */
    SB_AUDIT_BREAK_MALFORMED, /* a sealed event without a valid prev_hash/hash */
    SB_AUDIT_BREAK_STALE,     /* unsealed events older than the threshold */
    SB_AUDIT_BREAK_MISSING,   /* a link or a queue entry names an event that was deleted */
    SB_AUDIT_BREAK_UNTRACKED, /* an event neither in the chain nor queued: never to be sealed */
} sb_audit_break_kind;

typedef struct sb_audit_verify_options {
    int64_t stale_after_ms; /* < 0: never report unsealed events; 0: any unsealed is stale */
    size_t page_size;       /* rows per page, 0: 1000 */
} sb_audit_verify_options;

typedef struct sb_audit_verify_report {
    int ok;                 /* 1 when kind == SB_AUDIT_INTACT */
    int64_t sealed;         /* sealed events checked (up to the break) */
    int64_t unsealed;       /* events not yet sealed */
    char newest_sealed_at[SB_AUDIT_TIME_MAX]; /* "" when nothing is sealed */
    char oldest_unsealed_at[SB_AUDIT_TIME_MAX]; /* "" when nothing is unsealed */
    int64_t head_seq;       /* last verified chain position (0: none) */
    unsigned char head_hash[SB_AUDIT_HASH_BYTES];
    /* the first break */
    sb_audit_break_kind kind;
    int64_t event_id;       /* the event where the break shows (0: none) */
    int64_t chain_seq;      /* its chain position (0: unsealed or none) */
    int64_t expected_seq;   /* GAP/START: the position that was expected */
    int64_t stale_count;    /* STALE: how many unsealed events are too old */
    char message[SB_ERROR_MESSAGE_MAX]; /* one sentence for people */
} sb_audit_verify_report;

/* "modified", "gap", ... ("ok" for SB_AUDIT_INTACT). */
const char *sb_audit_break_name(sb_audit_break_kind kind);

/* Returns 0 when the walk completed (out->ok says whether the chain is
 * intact), -1 when it could not be done (database error). */
int sb_audit_verify(sb_db *db, const unsigned char key[SB_AUDIT_KEY_BYTES],
                    sb_audit_verify_report *out, sb_error *err);
/* opts may be NULL: stale after SB_AUDIT_STALE_DEFAULT_MS, pages of 1000. */
int sb_audit_verify_with(sb_db *db, const unsigned char key[SB_AUDIT_KEY_BYTES],
                         const sb_audit_verify_options *opts, sb_audit_verify_report *out,
                         sb_error *err);

/* ---- listing ------------------------------------------------------------ */

/* NULL fields do not filter. since/until are timestamptz text (RFC 3339):
 * since <= occurred_at < until. */
typedef struct sb_audit_filter {
    const char *actor, *action, *resource, *correlation_id, *outcome;
    const char *since, *until;
} sb_audit_filter;

/* One listed event; strings valid only during the callback. */
typedef struct sb_audit_event {
    int64_t id;
    const char *occurred_at; /* canonical text */
    const char *actor, *action, *resource, *outcome, *severity, *correlation_id;
    const char *request_id, *remote_ip; /* NULL when absent */
    const char *details;                /* JSON object text */
    int sealed;
    int64_t chain_seq;     /* 0 when unsealed */
    const char *sealed_at; /* NULL when unsealed */
} sb_audit_event;

/* Returns 0 to continue, non-zero to stop the listing (that value is
 * returned by sb_audit_list, after err is filled by the callback if it
 * wants to). */
typedef int (*sb_audit_event_fn)(void *ctx, const sb_audit_event *event);

/* Lists up to limit (1..1001) events with id < after_id (after_id <= 0:
 * from the newest), newest first. *count (may be NULL) receives how many
 * were passed to fn. */
int sb_audit_list(sb_db_conn *conn, const sb_audit_filter *filter, int64_t limit, int64_t after_id,
                  sb_audit_event_fn fn, void *ctx, size_t *count, sb_error *err);

#endif
