/*
 * service/request_sweep.c — the expiry sweep (request TTL and cross-team
 * fill window; see request_writer.h). Each due request is expired through
 * request_transition.c with actor "system", behind its own savepoint. The
 * worker runs it as its expire_requests task (worker/worker_tasks.c).
 */
#include <string.h>

#include "domain/domain_error.h"
#include "service/request_writer.h"
#include "store/rows.h"

typedef struct sweep_ctx {
    long limit;
    size_t expired, failed;
    sb_error first_failure;
} sweep_ctx;

/* Expires one locked, due request. */
static int expire_one(sb_db_conn *conn, const sb_request_row *r, sb_error *err)
{
    sb_row_set one = {0}, after = {0};
    int rc = sb_request_store_get(conn, r->id, true, &one, err);
    if (rc == 0) {
        /* the request TTL wins over the fill window when both passed */
        sb_request_step step = {.event = r->ttl_passed ? SB_REQ_EV_EXPIRE
                                                       : SB_REQ_EV_FILL_WINDOW_EXPIRED,
                                .change = {.decided = true}};
        rc = sb_request_apply(conn, NULL, &one, &step, &after, err);
    } else if (rc == 1) {
        rc = sb_error_set(err, SB_DOMAIN_E_NOT_FOUND, "request %s vanished", r->id);
    }
    sb_row_set_free(&one);
    sb_row_set_free(&after);
    return rc;
}

/* Each request behind its own savepoint: one that cannot be expired (a bug,
 * a trigger, a deadlock) is rolled back alone, counted and reported, and
 * never holds back the others. */
static int sweep_txn(sb_db_conn *conn, void *p, sb_error *err)
{
    sweep_ctx *s = p;
    sb_row_set due = {0};
    s->expired = s->failed = 0;
    if (sb_request_store_due(conn, s->limit, &due, err) != 0)
        return -1;
    int rc = 0;
    for (size_t i = 0; i < due.n && rc == 0; i++) {
        sb_request_row r;
        sb_error one = {0};
        sb_request_store_at(&due, i, &r);
        if ((rc = sb_db_exec_script(conn, "SAVEPOINT sb_sweep_one", err)) != 0)
            break;
        if (expire_one(conn, &r, &one) == 0) {
            rc = sb_db_exec_script(conn, "RELEASE SAVEPOINT sb_sweep_one", err);
            s->expired++;
            continue;
        }
        rc = sb_db_exec_script(conn, "ROLLBACK TO SAVEPOINT sb_sweep_one", err);
        if (s->failed++ == 0)
            sb_error_set(&s->first_failure, one.code, "could not expire request %s: %s", r.id,
                         one.message);
    }
    sb_row_set_free(&due);
    return rc;
}

int sb_request_sweep(sb_db *db, long limit, size_t *expired, sb_error *err)
{
    sweep_ctx s = {limit > 0 ? limit : 100, 0, 0, {0}};
    int rc = sb_db_transaction(db, sweep_txn, &s, err);
    if (expired)
        *expired = rc == 0 ? s.expired : 0;
    if (rc == 0 && s.failed > 0) {
        *err = s.first_failure;
        if (s.failed > 1)
            sb_error_set(err, s.first_failure.code, "%.400s (and %zu more)",
                         s.first_failure.message, s.failed - 1);
        return -1;
    }
    return rc;
}
