/* worker/tasks.c — see tasks.h. Each sweep: one transaction that changes
 * a batch of rows through the store and audits every row it changed. */
#include "worker/tasks.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "store/agent_store.h"
#include "store/job_store.h"
#include "store/outbox_store.h"
#include "store/worker_store.h"
#include "store/wrap_store.h"
#include "worker/scheduler.h"
#include "worker/task_audit.h"

/* A store sweep that returns what it changed (or found due) as JSON text. */
typedef int (*store_sweep)(sb_db_conn *conn, void *ctx, long limit, char **json, sb_error *err);
/* Audits what one sweep changed (and does what follows from it); *n how
 * many things. */
typedef int (*sweep_audit)(sb_db_conn *conn, json_t *changed, size_t *n, sb_error *err);

typedef struct sweep {
    store_sweep change;
    sweep_audit audit;
    void *ctx;
    size_t n;
} sweep;

static int sweep_txn(sb_db_conn *conn, void *p, sb_error *err)
{
    sweep *s = p;
    char *text = NULL;
    s->n = 0;
    if (s->change(conn, s->ctx, SB_WORKER_BATCH, &text, err) != 0) {
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

static int run_sweep(sb_db *db, store_sweep change, sweep_audit audit, void *ctx, size_t *done,
                     sb_error *err)
{
    sweep s = {change, audit, ctx, 0};
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

static int end_sessions(sb_db_conn *conn, void *ctx, long limit, char **json, sb_error *err)
{
    (void)ctx;
    return sb_wrap_store_session_sweep(conn, limit, json, err);
}

int sb_worker_expire_reveal_sessions(sb_db *db, void *ctx, size_t *done, sb_error *err)
{
    (void)ctx;
    return run_sweep(db, end_sessions, audit_sessions, NULL, done, err);
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

static int purge(sb_db_conn *conn, void *ctx, long limit, char **json, sb_error *err)
{
    (void)ctx;
    return sb_worker_store_purge_wraps(conn, limit, json, err);
}

int sb_worker_purge_wraps(sb_db *db, void *ctx, size_t *done, sb_error *err)
{
    (void)ctx;
    return run_sweep(db, purge, audit_purge, NULL, done, err);
}

/* ---- stale agents --------------------------------------------------------- */

static int mark_stale(sb_db_conn *conn, void *ctx, long limit, char **json, sb_error *err)
{
    (void)ctx;
    return sb_worker_store_mark_stale_agents(conn, SB_AGENT_STALE_S, limit, json, err);
}

/* Admins hear of each agent that went stale (once per silence: the key
 * names its last heartbeat). */
static int notify_stale(sb_db_conn *conn, const json_t *a, sb_error *err)
{
    char title[160], summary[400], dedupe[200];
    const char *seen = json_string_value(json_object_get(a, "last_heartbeat_at"));
    snprintf(title, sizeof title, "Agent %s is stale", str(a, "id"));
    snprintf(summary, sizeof summary, "Agent %s of provider connection %s has sent no heartbeat "
                                      "for %d s (last: %s); its jobs wait until it is back.",
             str(a, "id"), str(a, "connection_id"), SB_AGENT_STALE_S, seen ? seen : "never");
    snprintf(dedupe, sizeof dedupe, "agent:%s:stale:%s", str(a, "id"), seen ? seen : "never");
    json_t *fields = json_pack("[{s:s, s:s}, {s:s, s:s}, {s:s, s:s}]", "key", "agent", "value",
                               str(a, "id"), "key", "connection", "value", str(a, "connection_id"),
                               "key", "last heartbeat", "value", seen ? seen : "never");
    char *text = json_dumps(fields, JSON_COMPACT);
    json_decref(fields);
    sb_outbox_event e = {.kind = "agent.stale", .severity = "warning", .title = title,
                         .summary = summary, .recipients_json = "[{\"role\":\"admin\"}]",
                         .fields_json = text, .link_path = "/agents", .dedupe_key = dedupe};
    int rc = text ? sb_outbox_store_add(conn, &e, NULL, err)
                  : sb_error_set(err, SB_DB_E_QUERY, "out of memory writing a notification");
    free(text);
    return rc;
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
        if (sb_worker_audit(conn, "agent.stale", "agent", str(a, "id"), "warning", d, err) != 0 ||
            notify_stale(conn, a, err) != 0)
            return -1;
    }
    *n = json_array_size(stale);
    return 0;
}

int sb_worker_mark_stale_agents(sb_db *db, void *ctx, size_t *done, sb_error *err)
{
    (void)ctx;
    return run_sweep(db, mark_stale, audit_stale, NULL, done, err);
}

/* ---- discovery ------------------------------------------------------------ */

static int due_discoveries(sb_db_conn *conn, void *ctx, long limit, char **json, sb_error *err)
{
    (void)ctx;
    return sb_worker_store_due_discoveries(conn, limit, json, err);
}

/* One discover job per due connection (the agents' claim is woken by the
 * store's NOTIFY at commit), each audited. */
static int queue_discoveries(sb_db_conn *conn, json_t *due, size_t *n, sb_error *err)
{
    size_t i;
    json_t *c;
    json_array_foreach(due, i, c)
    {
        char *job = NULL;
        if (sb_job_store_create(conn, "discover", str(c, "id"), NULL, "{}", 3, NULL, &job, err) != 0) {
            free(job);
            return -1;
        }
        json_t *row = json_loads(job ? job : "", 0, NULL);
        free(job);
        json_t *d = json_pack("{s:s, s:s, s:b}", "type", "discover", "connection_id", str(c, "id"),
                              "scheduled", 1);
        int rc = sb_worker_audit(conn, "job.create", "job", str(row, "id"), NULL, d, err);
        json_decref(row);
        if (rc != 0)
            return -1;
    }
    *n = json_array_size(due);
    return 0;
}

int sb_worker_schedule_discovery(sb_db *db, void *ctx, size_t *done, sb_error *err)
{
    (void)ctx;
    return run_sweep(db, due_discoveries, queue_discoveries, NULL, done, err);
}

/* ---- catalog -------------------------------------------------------------- */

static int mark_missing(sb_db_conn *conn, void *ctx, long limit, char **json, sb_error *err)
{
    return sb_worker_store_mark_catalog_missing(conn, *(const int64_t *)ctx / 1000, limit, json,
                                                err);
}

static int audit_missing(sb_db_conn *conn, json_t *missing, size_t *n, sb_error *err)
{
    size_t i;
    json_t *m;
    json_array_foreach(missing, i, m)
    {
        json_t *d = json_pack("{s:s, s:s}", "connection_id", str(m, "connection_id"), "secret_ref",
                              str(m, "secret_ref"));
        if (sb_worker_audit(conn, "catalog_secret.missing", "catalog_secret", str(m, "id"), NULL,
                            d, err) != 0)
            return -1;
    }
    *n = json_array_size(missing);
    return 0;
}

int sb_worker_mark_catalog_missing(sb_db *db, void *ctx, size_t *done, sb_error *err)
{
    if (ctx == NULL)
        return sb_error_set(err, SB_DB_E_QUERY, "mark_catalog_missing needs its age (ctx)");
    return run_sweep(db, mark_missing, audit_missing, ctx, done, err);
}
