/* worker/gitops_notify.c — see gitops_notify.h. */
#include "worker/gitops_notify.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/outbox_store.h"
#include "store/request_store.h"

static const char *str(const json_t *o, const char *k)
{
    const char *v = json_string_value(json_object_get(o, k));
    return v ? v : "";
}

static void field(json_t *fields, const char *key, const char *value)
{
    if (value && value[0])
        json_array_append_new(fields, json_pack("{s:s, s:s}", "key", key, "value", value));
}

/* What each bad ending tells (kind, verb). */
static const char *kind_of(const char *state, const char **verb)
{
    if (strcmp(state, "failed") == 0) {
        *verb = "failed to apply";
        return "gitops.failed";
    }
    if (strcmp(state, "applied_unverified") == 0) {
        *verb = "was synced but could not be verified";
        return "gitops.unverified";
    }
    return NULL;
}

static int write_event(sb_db_conn *conn, const json_t *row, const char *kind, const char *verb,
                       const char *state, const char *detail, const sb_request_row *r,
                       sb_error *err)
{
    const char *app = str(row, "application"), *endpoint = str(row, "endpoint_name");
    const char *secret = r ? r->secret_ref : "";
    char title[400], summary[1400], dedupe[200], link[64];
    snprintf(title, sizeof title, "GitOps: %s on %s %s", app, endpoint, verb);
    snprintf(summary, sizeof summary, "The change of %s (request %s) %s in Argo CD application %s "
                                      "(endpoint %s)%s%s",
             secret[0] ? secret : "a secret", str(row, "request_id"), verb, app, endpoint,
             detail && detail[0] ? ": " : ".", detail && detail[0] ? detail : "");
    snprintf(dedupe, sizeof dedupe, "gitops:%s:%s", str(row, "id"), state);
    snprintf(link, sizeof link, "/requests/%s", str(row, "request_id"));
    json_t *fields = json_array(), *recipients = json_array();
    field(fields, "request_id", str(row, "request_id"));
    field(fields, "secret", secret);
    field(fields, "endpoint", endpoint);
    field(fields, "application", app);
    field(fields, "state", state);
    field(fields, "detail", detail);
    if (r && r->requester_id)
        json_array_append_new(recipients, json_pack("{s:s}", "user", r->requester_id));
    json_array_append_new(recipients, json_pack("{s:s}", "role", "admin"));
    json_t *workflow = json_loads(r && r->workflow ? r->workflow : "{}", 0, NULL);
    char *fl = json_dumps(fields, JSON_COMPACT), *rec = json_dumps(recipients, JSON_COMPACT);
    char *channels = json_dumps(json_object_get(workflow, "notification_channels"), JSON_COMPACT);
    int rc = fl && rec ? 0 : sb_error_set(err, SB_DB_E_QUERY, "out of memory writing a notification");
    if (rc == 0) {
        sb_outbox_event e = {.kind = kind, .severity = "warning", .title = title,
                             .summary = summary, .recipients_json = rec, .fields_json = fl,
                             .link_path = link, .dedupe_key = dedupe, .channels_json = channels};
        rc = sb_outbox_store_add(conn, &e, NULL, err);
    }
    free(fl);
    free(rec);
    free(channels);
    json_decref(workflow);
    json_decref(fields);
    json_decref(recipients);
    return rc;
}

int sb_gitops_notify(sb_db_conn *conn, const json_t *row, const char *state, const char *detail,
                     sb_error *err)
{
    const char *verb = NULL, *kind = kind_of(state, &verb);
    if (kind == NULL)
        return 0;
    sb_row_set rows = {0};
    int found = sb_request_store_get(conn, str(row, "request_id"), false, &rows, err);
    if (found < 0)
        return -1;
    sb_request_row r;
    if (found == 0)
        sb_request_store_at(&rows, 0, &r);
    int rc = write_event(conn, row, kind, verb, state, detail, found == 0 ? &r : NULL, err);
    sb_row_set_free(&rows);
    return rc;
}
