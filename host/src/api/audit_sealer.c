/* api/audit_sealer.c — see audit_sealer.h; the thread is util/periodic. */
#include "api/audit_sealer.h"

#include <stdlib.h>

#include "store/audit_store.h"
#include "util/periodic.h"

/* Large enough that per-statement costs vanish, small enough that a batch
 * stays far below the 5 s statement_timeout of a sealing transaction. */
#define SEAL_BATCH 4000

struct sb_audit_sealer {
    sb_app *app;
    sb_periodic *thread;
};

/* One pass seals one batch; a full batch means more is waiting, and
 * util/periodic runs the next one at once (stats stay current per batch). */
static int seal_pass(sb_periodic *p, void *ctx, size_t *done, sb_error *err)
{
    (void)p;
    sb_audit_sealer *s = ctx;
    if (sb_audit_seal(s->app->db, s->app->audit_key, SEAL_BATCH, done, err) != 0)
        return -1;
    return *done == SEAL_BATCH ? SB_PERIODIC_MORE : 0;
}

int sb_audit_sealer_start(sb_app *app, int64_t interval_ms, sb_audit_sealer **out, sb_error *err)
{
    *out = NULL;
    if (interval_ms == 0)
        interval_ms = 1000;
    if (app == NULL || app->db == NULL || app->audit_key == NULL || interval_ms < 10 ||
        interval_ms > 3600000)
        return sb_error_set(err, SB_AUDIT_E_INVALID, "the audit sealer needs an app with a database "
                            "and an audit key, and an interval of 10 ms..1 h (got %lld ms)",
                            (long long)interval_ms);
    sb_audit_sealer *s = calloc(1, sizeof *s);
    if (s == NULL)
        return sb_error_set(err, SB_AUDIT_E_INVALID, "out of memory starting the audit sealer");
    s->app = app;
    sb_periodic_spec spec = {"audit", "sealing audit events (they stay unsealed meanwhile)",
                             interval_ms, seal_pass, s, true};
    if (sb_periodic_start(&spec, &s->thread, err) != 0) {
        free(s);
        return sb_error_set(err, SB_AUDIT_E_INVALID, "cannot start the audit sealer thread");
    }
    *out = s;
    return 0;
}

void sb_audit_sealer_wake(sb_audit_sealer *s)
{
    if (s)
        sb_periodic_wake(s->thread);
}

void sb_audit_sealer_stats_get(sb_audit_sealer *s, sb_audit_sealer_stats *out)
{
    sb_periodic_stats st;
    sb_periodic_stats_get(s ? s->thread : NULL, &st);
    *out = (sb_audit_sealer_stats){st.done, st.passes, st.failures, st.failing, st.max_pass_ms};
}

void sb_audit_sealer_stop(sb_audit_sealer *s)
{
    if (s == NULL)
        return;
    sb_periodic_stop(s->thread);
    free(s);
}
