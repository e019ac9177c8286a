/* worker/tasks.c — see tasks.h. Each sweep: one transaction that changes
 * a batch of rows through the store and audits every row it changed. */
#include "worker/tasks.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "store/agent_store.h"
#include "store/worker_store.h"
#include "store/wrap_store.h"
#include "worker/scheduler.h"
#include "worker/task_audit.h"

/* A store sweep that returns what it changed as JSON text. */
typedef int (*store_sweep)(sb_db_conn *conn, long limit, char **json, sb_error *err);
/* Audits what one sweep changed; *n how many things. */
typedef int (*sweep_audit)(sb_db_conn *conn, json_t *changed, size_t *n, sb_error *err);

typedef struct sweep {
    store_sweep change;
    sweep_audit audit;
    size_t n;
} sweep;

static int sweep_txn(sb_db_conn *conn, void *p, sb_error *err)
{
    sweep *s = p;
    char *text = NULL;
    s->n = 0;
    if (s->change(conn, SB_WORKER_BATCH, &text, err) != 0) {
        free(text);
        return -1;
    }
    json_t *changed = json_loads(text ? text : "", 0, NULL);
    free(text);
    if (changed == NULL)
        return sb_error_set(err, SB_DB_E_QUERY, "the store answered a sweep with unreadable JSON");
    int rc = s->audit(conn, changed, &s->n, err);
    json_decref(changed);
    return rc;
}

static int run_sweep(sb_db *db, store_sweep change, sweep_audit audit, size_t *done,
                     sb_error *err)
{
    sweep s = {change, audit, 0};
    *done = 0;
    if (sb_db_transaction(db, sweep_txn, &s, err) < 0)
        return -1;
    *done = s.n;
    return s.n >= SB_WORKER_BATCH ? SB_WORKER_MORE : 0;
}

static const char *str(const json_t *o, const char *k)
{
    const char *v = json_string_value(json_object_get(o, k));
    return v ? v : "";
}

/* ---- reveal sessions ------------------------------------------------------ */

static int audit_sessions(sb_db_conn *conn, json_t *ended, size_t *n, sb_error *err)
{
    size_t i;
    json_t *s;
    json_array_foreach(ended, i, s)
    {
        json_t *d = json_pack("{s:s, s:s, s:s, s:O?}", "reveal_session_id", str(s, "id"),
                              "user_id", str(s, "user_id"), "reason", "ttl", "wraps_expired",
                              json_object_get(s, "wraps_expired"));
        if (sb_worker_audit(conn, "reveal_session.expire", "request", str(s, "request_id"), NULL,
                            d, err) != 0)
            return -1;
    }
    *n = json_array_size(ended);
    return 0;
}

int sb_worker_expire_reveal_sessions(sb_db *db, void *ctx, size_t *done, sb_error *err)
{
    (void)ctx;
    return run_sweep(db, sb_wrap_store_session_sweep, audit_sessions, done, err);
}

/* ---- wraps ---------------------------------------------------------------- */

static int audit_purge(sb_db_conn *conn, json_t *purged, size_t *n, sb_error *err)
{
    size_t i;
    json_t *w;
    json_t *wraps = json_object_get(purged, "wraps"), *sealed = json_object_get(purged, "sealed");
    *n = 0;
    json_array_foreach(wraps, i, w)
    {
        if (sb_worker_audit(conn, "wrap.purge", "request", str(w, "request_id"), NULL,
                            json_pack("{s:s}", "wrap_id", str(w, "id")), err) != 0)
            return -1;
        (*n)++;
    }
    json_array_foreach(sealed, i, w)
    {
        json_int_t k = json_integer_value(json_object_get(w, "n"));
        if (sb_worker_audit(conn, "request.sealed_values_purge", "request", str(w, "request_id"),
                            NULL, json_pack("{s:I}", "boxes", k), err) != 0)
            return -1;
        *n += (size_t)k;
    }
    return 0;
}

int sb_worker_purge_wraps(sb_db *db, void *ctx, size_t *done, sb_error *err)
{
    (void)ctx;
    return run_sweep(db, sb_worker_store_purge_wraps, audit_purge, done, err);
}

/* ---- stale agents --------------------------------------------------------- */

static int mark_stale(sb_db_conn *conn, long limit, char **json, sb_error *err)
{
    return sb_worker_store_mark_stale_agents(conn, SB_AGENT_STALE_S, limit, json, err);
}

static int audit_stale(sb_db_conn *conn, json_t *stale, size_t *n, sb_error *err)
{
    size_t i;
    json_t *a;
    json_array_foreach(stale, i, a)
    {
        json_t *d = json_pack("{s:s, s:O?, s:i}", "connection_id", str(a, "connection_id"),
                              "last_heartbeat_at", json_object_get(a, "last_heartbeat_at"),
                              "stale_after_s", SB_AGENT_STALE_S);
        if (sb_worker_audit(conn, "agent.stale", "agent", str(a, "id"), "warning", d, err) != 0)
            return -1;
    }
    *n = json_array_size(stale);
    return 0;
}

int sb_worker_mark_stale_agents(sb_db *db, void *ctx, size_t *done, sb_error *err)
{
    (void)ctx;
    return run_sweep(db, mark_stale, audit_stale, done, err);
}
