/* worker/gitops_poller.c — see gitops_poller.h. */
#include "worker/gitops_poller.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plugin/gitops_endpoint.h"
#include "store/gitops_store.h"
#include "util/log.h"
#include "worker/gitops_notify.h"
#include "worker/scheduler.h"
#include "worker/task_audit.h"

static const char *str(const json_t *o, const char *k)
{
    const char *v = json_string_value(json_object_get(o, k));
    return v ? v : "";
}

static int audit_change(sb_db_conn *conn, const json_t *row, const char *from, const char *to,
                        const char *evidence, const char *detail, sb_error *err)
{
    static const struct {
        const char *state, *action, *severity;
    } actions[] = {{"observing", "gitops_observation.baseline", NULL},
                   {"applied", "gitops_observation.applied", NULL},
                   {"failed", "gitops_observation.failed", "warning"},
                   {"applied_unverified", "gitops_observation.unverified", "warning"}};
    for (size_t i = 0; i < sizeof actions / sizeof actions[0]; i++) {
        if (strcmp(actions[i].state, to) != 0)
            continue;
        json_t *d = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s*, s:s*}", "observation_id",
                              str(row, "id"), "endpoint", str(row, "endpoint_name"), "application",
                              str(row, "application"), "from", from, "to", to, "evidence",
                              evidence, "detail", detail);
        if (sb_worker_audit(conn, actions[i].action, "request", str(row, "request_id"),
                            actions[i].severity, d, err) != 0)
            return -1;
        return actions[i].severity ? sb_gitops_notify(conn, row, to, detail, err) : 0;
    }
    return 0;
}

/* ---- 1. claim --------------------------------------------------------------- */

typedef struct claim {
    int64_t lease_ms;
    json_t *claimed;
    size_t timed_out;
} claim;

static int claim_txn(sb_db_conn *conn, void *p, sb_error *err)
{
    claim *c = p;
    json_decref(c->claimed);
    c->claimed = NULL;
    c->timed_out = 0;
    char *text = NULL;
    if (sb_gitops_store_claim(conn, SB_GITOPS_POLL_BATCH, c->lease_ms, &text, err) != 0) {
        free(text);
        return -1;
    }
    json_t *all = json_loads(text ? text : "", 0, NULL), *row;
    free(text);
    if (all == NULL)
        return sb_error_set(err, SB_DB_E_QUERY, "the store answered a claim with unreadable JSON");
    size_t i;
    json_array_foreach(json_object_get(all, "timed_out"), i, row)
    {
        if (audit_change(conn, row, str(row, "state"), "applied_unverified", NULL,
                         "no evidence before the timeout", err) != 0) {
            json_decref(all);
            return -1;
        }
        c->timed_out++;
    }
    c->claimed = json_incref(json_object_get(all, "claimed"));
    json_decref(all);
    return 0;
}

/* ---- 2. one poll -------------------------------------------------------------- */

typedef struct poll_outcome {
    const json_t *row;
    sb_gitops_poll_result r;
    char *baseline, *detail;
    char error[600];
} poll_outcome;

static int64_t backoff(const sb_gitops_poller *p, json_int_t polls)
{
    int64_t min = p->min_backoff_ms > 0 ? p->min_backoff_ms : 5000;
    int64_t max = p->max_backoff_ms > 0 ? p->max_backoff_ms : 120000;
    int64_t d = min;
    for (json_int_t i = 0; i < polls && d < max; i++)
        d *= 2;
    return d < max ? d : max;
}

static void poll_one(sb_db *db, const sb_gitops_poller *p, poll_outcome *o)
{
    const json_t *row = o->row;
    const char *state = str(row, "state");
    json_int_t polls = json_integer_value(json_object_get(row, "polls"));
    o->r.state = state;
    o->r.next_poll_ms = backoff(p, polls);
    sb_error err = {0};
    char *stored = NULL;
    sb_db_conn *conn = NULL;
    int rc = -1;
    if (p->plugin == NULL) {
        sb_error_set(&err, 0, "no GitOps plugin is loaded (gitops_observation.plugin)");
    } else if (json_string_value(json_object_get(row, "endpoint_id")) == NULL) {
        sb_error_set(&err, 0, "the Argo CD endpoint %s was deleted", str(row, "endpoint_name"));
    } else if (sb_db_acquire(db, 5000, &conn, &err) == 0) {
        rc = sb_gitops_store_endpoint_secret(conn, str(row, "endpoint_id"), &stored, &err);
        sb_db_release(db, conn);
        if (rc == 1)
            sb_error_set(&err, 0, "the Argo CD endpoint %s was deleted", str(row, "endpoint_name"));
    }
    sb_gitops_endpoint ep;
    if (rc == 0 && (rc = sb_gitops_endpoint_open(p->kms, stored, &ep, &err)) == 0) {
        const char *app = str(row, "application");
        if (strcmp(state, "pending") == 0) {
            rc = sb_gitops_client_baseline(p->plugin, &ep.target, app, &o->baseline, &err);
            if (rc == 0) {
                o->r.state = "observing";
                o->r.baseline = o->baseline;
                o->r.next_poll_ms = backoff(p, 0);
            }
        } else {
            sb_gitops_evidence ev;
            int64_t changed = json_integer_value(json_object_get(row, "changed_unix_ms"));
            rc = sb_gitops_client_observe(p->plugin, &ep.target, app, str(row, "baseline"),
                                          changed, &ev, &o->detail, &err);
            if (rc == 0) {
                o->r.evidence = sb_gitops_evidence_name(ev);
                o->r.detail = o->detail;
                o->r.state = ev == SB_GITOPS_APPLIED ? "applied"
                             : ev == SB_GITOPS_FAILED ? "failed"
                                                      : "observing";
            }
        }
        sb_gitops_endpoint_close(&ep);
    }
    free(stored);
    if (rc != 0) {
        snprintf(o->error, sizeof o->error, "%s", err.message);
        o->r.last_error = o->error;
        sb_warn("worker", "gitops observation %s: %s", str(row, "id"), o->error);
    }
}

/* ---- 3. record ---------------------------------------------------------------- */

static int record_txn(sb_db_conn *conn, void *p, sb_error *err)
{
    poll_outcome *o = p;
    int rc = sb_gitops_store_record_poll(conn, str(o->row, "id"), &o->r, err);
    if (rc != 0)
        return rc < 0 ? -1 : 0; /* ended by another writer meanwhile: nothing to record */
    const char *from = str(o->row, "state");
    if (strcmp(from, o->r.state) == 0)
        return 0;
    return audit_change(conn, o->row, from, o->r.state, o->r.evidence, o->r.detail, err);
}

int sb_worker_poll_gitops(sb_db *db, void *ctx, size_t *done, sb_error *err)
{
    const sb_gitops_poller *p = ctx;
    *done = 0;
    claim c = {p->lease_ms > 0 ? p->lease_ms : 120000, NULL, 0};
    if (sb_db_transaction(db, claim_txn, &c, err) < 0) {
        json_decref(c.claimed);
        return -1;
    }
    size_t i, n = c.timed_out;
    json_t *row;
    int rc = 0;
    json_array_foreach(c.claimed, i, row)
    {
        poll_outcome o = {.row = row};
        poll_one(db, p, &o);
        if (sb_db_transaction(db, record_txn, &o, err) < 0)
            rc = -1;
        free(o.baseline);
        free(o.detail);
        if (rc != 0)
            break;
        n++;
    }
    json_decref(c.claimed);
    *done = n;
    if (rc != 0)
        return -1;
    return c.timed_out + i >= SB_GITOPS_POLL_BATCH ? SB_WORKER_MORE : 0;
}
