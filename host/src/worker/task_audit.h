/*
 * worker/task_audit.h — the audit event of a worker sweep: actor
 * "system", correlation id "worker.<action>", on the caller's connection
 * (so it commits with the change it records).
 */
#ifndef SB_WORKER_TASK_AUDIT_H
#define SB_WORKER_TASK_AUDIT_H

#include <jansson.h>

#include "store/db.h"
#include "util/error.h"

/* resource_kind:id names the resource ("agent", id -> "agent:<id>");
 * severity NULL is info; details (may be NULL) is consumed. */
int sb_worker_audit(sb_db_conn *conn, const char *action, const char *resource_kind,
                    const char *id, const char *severity, json_t *details, sb_error *err);

#endif
