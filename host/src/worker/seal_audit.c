/* worker/seal_audit.c — see seal_audit.h. */
#include "worker/seal_audit.h"

#include "store/audit_store.h"
#include "worker/scheduler.h"

int sb_worker_seal_audit(sb_db *db, void *audit_key, size_t *done, sb_error *err)
{
    *done = 0;
    if (audit_key == NULL)
        return sb_error_set(err, SB_WORKER_E_INVALID, "seal_audit: no audit key");
    if (sb_audit_seal(db, audit_key, SB_SEAL_AUDIT_BATCH, done, err) != 0)
        return -1;
    return *done == SB_SEAL_AUDIT_BATCH ? SB_WORKER_MORE : 0;
}
