/*
 * service/job_writer.c — the job queue's writes shared by the API and the
 * worker (job_writer.h, request_writer.h): a request's job, a job outcome
 * on its request, and the expired-lease sweep. Each writes its audit
 * events in the transaction of the change (I5).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "domain/domain_error.h"
#include "service/job_writer.h"
#include "service/notify_events.h"
#include "service/request_writer.h"
#include "store/job_store.h"

int sb_job_audit(sb_db_conn *conn, const sb_actor *actor, const char *action,
                 const char *job_id, const char *outcome, json_t *details, sb_error *err)
{
    char resource[64];
    snprintf(resource, sizeof resource, "job:%s", job_id);
    sb_audit_entry ev = {action, resource, outcome, NULL, details};
    int rc = sb_audit_write(conn, actor, &ev, err);
    json_decref(details);
    return rc;
}

int sb_request_drive_job(sb_db_conn *conn, const sb_actor *actor, const char *request_id,
                         bool succeeded, const char *reason, int *applied, sb_row_set *executed,
                         sb_error *err)
{
    *applied = 0;
    sb_row_set cur = {0}, after = {0};
    int rc = sb_request_store_get(conn, request_id, true, &cur, err);
    if (rc != 0)
        return rc < 0 ? -1 : 0; /* the request is gone: nothing to drive */
    sb_request_row r;
    sb_request_store_at(&cur, 0, &r);
    if (strcmp(r.state, "approved") != 0) {
        sb_row_set_free(&cur);
        return 0; /* decided otherwise already (a repeat, an expiry): left alone */
    }
    sb_request_step step = {.event = succeeded ? SB_REQ_EV_JOB_SUCCEEDED : SB_REQ_EV_JOB_FAILED,
                            .change = {.reason = succeeded ? NULL : reason}};
    rc = sb_request_apply(conn, actor, &cur, &step, &after, err);
    sb_row_set_free(&cur);
    *applied = rc == 0;
    if (rc == 0 && executed != NULL)
        *executed = after;
    else
        sb_row_set_free(&after);
    return rc;
}

int sb_job_create_for_request(sb_db_conn *conn, const sb_actor *actor,
                              const struct sb_request_row *r, const char *type,
                              const sb_read_key *read_key, sb_error *err)
{
    const char *read_public_key = read_key ? read_key->public_b64 : NULL;
    json_t *keys = json_loads(r->keys ? r->keys : "[]", 0, NULL);
    json_t *payload = json_pack("{s:s, s:s, s:o, s:s, s:s*}", "request_id", r->id, "secret_ref",
                                r->secret_ref, "keys", keys ? keys : json_array(), "operation",
                                r->operation, "read_public_key", read_public_key);
    char *text = payload ? json_dumps(payload, JSON_COMPACT) : NULL;
    json_decref(payload);
    if (text == NULL)
        return sb_error_set(err, SB_DOMAIN_E_NO_MEMORY, "out of memory building a job");
    char *json = NULL;
    sb_job_read_key key_row = {read_public_key, read_key ? read_key->wrapped_b64 : NULL,
                               read_key ? read_key->kms_key_id : NULL};
    int rc = sb_job_store_create(conn, type, r->connection_id, r->id, text, 5,
                                 read_key ? &key_row : NULL, &json, err);
    free(text);
    if (rc != 0) {
        free(json);
        return rc < 0 ? -1 : sb_error_set(err, SB_DB_E_QUERY, "the job was not created");
    }
    json_t *row = json_loads(json, 0, NULL);
    free(json);
    const char *id = json_string_value(json_object_get(row, "id"));
    char job_id[40];
    snprintf(job_id, sizeof job_id, "%s", id ? id : "");
    json_decref(row);
    return sb_job_audit(conn, actor, "job.create", job_id, "success",
                     json_pack("{s:s, s:s, s:s}", "type", type, "request_id", r->id,
                               "connection_id", r->connection_id),
                     err);
}

typedef struct sweep_ctx {
    long limit;
    size_t n;
} sweep_ctx;

static int sweep_txn(sb_db_conn *conn, void *p, sb_error *err)
{
    sweep_ctx *s = p;
    char *json = NULL;
    s->n = 0;
    if (sb_job_store_expire_leases(conn, s->limit, &json, err) != 0)
        return -1;
    json_t *list = json_loads(json, 0, NULL), *j;
    free(json);
    size_t i;
    int rc = 0;
    json_array_foreach(list, i, j)
    {
        const char *id = json_string_value(json_object_get(j, "id"));
        const char *state = json_string_value(json_object_get(j, "state"));
        const char *rid = json_string_value(json_object_get(j, "request_id"));
        const char *cid = json_string_value(json_object_get(j, "connection_id"));
        int failed = state && strcmp(state, "failed") == 0, applied;
        if (rc == 0 && failed && rid)
            rc = sb_request_drive_job(conn, NULL, rid, false,
                                      "the job's lease expired and no attempts are left",
                                      &applied, NULL, err);
        if (rc == 0 && !failed)
            rc = sb_job_store_notify(conn, cid, err);
        if (rc == 0)
            rc = sb_job_audit(conn, NULL, "job.lease_expired", id, failed ? "failure" : "success",
                           json_pack("{s:s}", "state", state ? state : ""), err);
        sb_job_failure f = {id, json_string_value(json_object_get(j, "type")), cid, rid,
                            "the job's lease expired and no attempts are left"};
        if (rc == 0 && failed)
            rc = sb_job_notify_failed(conn, &f, err);
        s->n++;
    }
    json_decref(list);
    return rc;
}

int sb_job_sweep_leases(sb_db *db, long limit, size_t *n, sb_error *err)
{
    sweep_ctx s = {limit > 0 ? limit : 100, 0};
    int rc = sb_db_transaction(db, sweep_txn, &s, err);
    if (n)
        *n = rc == 0 ? s.n : 0;
    return rc < 0 ? -1 : 0;
}
