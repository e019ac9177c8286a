/* worker/task_audit.c — see task_audit.h. */
#include "worker/task_audit.h"

#include <stdio.h>
#include <stdlib.h>

#include "store/audit_store.h"

int sb_worker_audit(sb_db_conn *conn, const char *action, const char *resource_kind,
                    const char *id, const char *severity, json_t *details, sb_error *err)
{
    char resource[96], correlation[128];
    snprintf(resource, sizeof resource, "%s:%s", resource_kind, id ? id : "");
    snprintf(correlation, sizeof correlation, "worker.%s", action);
    if (details == NULL)
        details = json_object();
    char *text = details ? json_dumps(details, JSON_COMPACT) : NULL;
    if (text == NULL) {
        json_decref(details);
        free(text);
        return sb_error_set(err, SB_AUDIT_E_INVALID, "out of memory writing the audit event %s",
                            action);
    }
    sb_audit_record r = {.actor = "system", .action = action, .resource = resource,
                         .outcome = "success", .severity = severity,
                         .correlation_id = correlation, .details = text};
    int rc = sb_audit_append(conn, &r, err);
    free(text);
    json_decref(details);
    return rc;
}
