/*
 * api/request_system.h — request transitions without a user (see
 * request_system.c): the expiry sweep the worker (and the control plane's
 * background loop) calls, and job outcomes from the agent protocol.
 */
#ifndef SB_API_REQUEST_SYSTEM_H
#define SB_API_REQUEST_SYSTEM_H

#include <stdbool.h>
#include <stddef.h>

#include "store/db.h"
#include "util/error.h"

/* Expires up to limit overdue requests (<= 0: 100) in one transaction;
 * *expired says how many. -1 (after committing the others) when some
 * could not be expired: err names the first. */
int sb_request_sweep(sb_db *db, long limit, size_t *expired, sb_error *err);
/* approved -> executed (succeeded) or failed (reason recorded). */
int sb_request_job_outcome(sb_db *db, const char *request_id, bool succeeded, const char *reason,
                           sb_error *err);

#endif
