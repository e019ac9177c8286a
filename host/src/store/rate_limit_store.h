/*
 * store/rate_limit_store.h — rate-limit counters in PostgreSQL (no Redis,
 * SPEC §6): one row per (bucket, fixed window start), shared by every
 * server replica.
 *
 * Contract:
 *   - sb_rate_limit_store_hit counts one attempt with
 *       INSERT … ON CONFLICT (bucket, window_start)
 *       DO UPDATE SET hits = hits + 1 RETURNING hits
 *     — atomic under any concurrency; every attempt counts, denied ones
 *     included (a client hammering a closed window keeps it closed).
 *   - sb_rate_limit_store_check does that for the window containing now
 *     and decides with domain/rate_limit.h (fixed window): allowed while
 *     hits <= limit, else retry_after seconds until the window ends.
 *   - Buckets are short strings naming the limit and its key, e.g.
 *     "login:ip:203.0.113.9" (at most SB_RATE_BUCKET_MAX bytes).
 *   - sb_rate_limit_store_sweep deletes windows that started before
 *     `before` (the worker runs it; the login path never scans the table).
 *   - Times are Unix seconds passed in (the app's clock). Returns 0 or -1
 *     with err filled (SB_DB_E_* codes). On a database error the caller
 *     decides; the login route fails closed (503), unlike the earlier
 *     product's fail-open Redis limiter.
 */
#ifndef SB_STORE_RATE_LIMIT_STORE_H
#define SB_STORE_RATE_LIMIT_STORE_H

#include <stdint.h>

#include "domain/rate_limit.h"
#include "store/db.h"

#define SB_RATE_BUCKET_MAX 200

/* Counts one attempt in (bucket, window_start); *hits is the count
 * including it. */
int sb_rate_limit_store_hit(sb_db_conn *conn, const char *bucket, int64_t window_start,
                            int64_t *hits, sb_error *err);
/* The count of (bucket, window_start) without counting (0 when none):
 * for limits that count only failures (MFA verification). */
int sb_rate_limit_store_peek(sb_db_conn *conn, const char *bucket, int64_t window_start,
                             int64_t *hits, sb_error *err);
/* One attempt at now against limit; *out is the decision. */
int sb_rate_limit_store_check(sb_db_conn *conn, const char *bucket, const sb_rate_limit *limit,
                              int64_t now, sb_rate_decision *out, int64_t *hits, sb_error *err);
/* Deletes windows that started before `before`; *count may be NULL. */
int sb_rate_limit_store_sweep(sb_db_conn *conn, int64_t before, int64_t *count, sb_error *err);

#endif
