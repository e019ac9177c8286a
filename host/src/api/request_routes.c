/*
 * api/request_routes.c — sb_api_request_routes: the request routes' table
 * and the reads.
 *
 * Contract:
 *   GET /requests            the caller's own requests, newest first
 *                            (?state=, ?kind=, cursor pages). Identity from
 *                            the session only: there is no requester_id
 *                            parameter (I6).
 *   GET /requests/queue      requests the caller may vote on now: pending
 *                            (read/patch) or pending_verification
 *                            (cross_team) in projects where they hold
 *                            secret.approve or secret.security.approve, not
 *                            their own, not filled by them, not voted on
 *                            yet, and whose workflow admits them (approver
 *                            roles, a group: request_voter.c); oldest
 *                            first. A page may hold fewer than `limit`.
 *   GET /requests/inbox      cross-team requests waiting for values from a
 *                            team where the caller holds secret.value.provide
 *                            (team subtree), not their own; oldest first.
 *   GET /requests/{id}       the request with its votes (approver, decision,
 *                            comment) and, for sealed values, only counts;
 *                            404 unless sb_request_visible.
 * Writes live in request_submit.c and request_decide.c.
 */
#include <stdlib.h>
#include <string.h>

#include "api/request_api.h"
#include "domain/domain_error.h"
#include "util/log.h"

static json_t *parsed(const char *text)
{
    json_t *j = text ? json_loads(text, 0, NULL) : NULL;
    return j ? j : json_null();
}

json_t *sb_request_json(const sb_row_set *rows, size_t i)
{
    sb_request_row r;
    sb_request_store_at(rows, i, &r);
    json_t *wf = parsed(r.workflow);
    json_t *workflow = json_pack("{s:O?, s:O?, s:O?, s:O?, s:O?, s:O?}", "id",
                                 json_object_get(wf, "id"), "name", json_object_get(wf, "name"),
                                 "min_approvers", json_object_get(wf, "min_approvers"), "groups",
                                 json_object_get(wf, "groups"), "allow_self_approval",
                                 json_object_get(wf, "allow_self_approval"), "request_ttl_s",
                                 json_object_get(wf, "request_ttl_s"));
    json_decref(wf);
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s?, s:s, s:s, s:s, s:s, s:o, s:s, "
                     "s:s?, s:o, s:o, s:s, s:s?, s:s?, s:s?, s:s?, s:s?, s:s?, s:s, s:s, s:b}",
                     "id", r.id, "kind", r.kind, "state", r.state, "requester_id", r.requester_id,
                     "justification", r.justification, "project_id", r.project_id,
                     "environment_id", r.environment_id, "binding_id", r.binding_id,
                     "catalog_secret_id", r.catalog_secret_id, "connection_id", r.connection_id,
                     "provider_type", r.provider_type, "secret_ref", r.secret_ref, "keys",
                     parsed(r.keys), "operation", r.operation, "target_team_id", r.target_team_id,
                     "workflow", workflow ? workflow : json_null(), "policy", parsed(r.policy),
                     "expires_at", r.expires_at, "fill_expires_at", r.fill_expires_at,
                     "filled_by", r.filled_by, "filled_at", r.filled_at, "fill_comment",
                     r.fill_comment, "reason", r.reason, "decided_at", r.decided_at,
                     "created_at", r.created_at, "updated_at", r.updated_at, "job_recorded",
                     r.job_intent);
}

bool sb_request_visible(const sb_identity *who, const sb_request_row *r)
{
    if (strcmp(who->user_id, r->requester_id) == 0)
        return true;
    sb_permission_set p = sb_rbac_permissions_project(who->rbac, r->project_id);
    if (p & (SB_PERMISSION_BIT(SB_PERM_SECRET_APPROVE) |
             SB_PERMISSION_BIT(SB_PERM_SECRET_SECURITY_APPROVE) |
             SB_PERMISSION_BIT(SB_PERM_SECRET_LIST)))
        return true;
    return r->target_team_id &&
           sb_rbac_allows_team(who->rbac, SB_PERM_SECRET_VALUE_PROVIDE, r->target_team_id);
}

int sb_request_get_visible(sb_db_conn *conn, const sb_identity *who, const char *id,
                           sb_row_set *rows, sb_error *err)
{
    int rc = sb_request_store_get(conn, id, false, rows, err);
    if (rc != 0)
        return rc;
    sb_request_row r;
    sb_request_store_at(rows, 0, &r);
    if (sb_request_visible(who, &r))
        return 0;
    sb_row_set_free(rows);
    *rows = (sb_row_set){0};
    return 1;
}

/* ---- lists ------------------------------------------------------------------ */

static int query_enum(sb_server_request *req, const char *name,
                      int (*parse)(const char *, int *, sb_error *), const char **out)
{
    *out = sb_http_query(req, name);
    if (*out == NULL)
        return 0;
    sb_error err = {0};
    int v;
    if (parse(*out, &v, &err) != 0)
        return sb_http_respond_error(req, 400, "invalid_field", "?%s: %s", name, err.message), -1;
    return 0;
}

static int parse_state(const char *s, int *v, sb_error *err)
{
    sb_request_state st;
    int rc = sb_request_state_parse(s, &st, err);
    *v = (int)st;
    return rc;
}

static int parse_kind(const char *s, int *v, sb_error *err)
{
    sb_request_kind k;
    int rc = sb_request_kind_parse(s, &k, err);
    *v = (int)k;
    return rc;
}

/* The queue shows only what its reader may vote on now: the approver roles
 * held and, when the workflow has groups, membership of one of them. */
typedef struct queue_ctx {
    sb_db_conn *conn;
    const sb_identity *who;
    int failed;
    sb_error first;
} queue_ctx;

static bool may_vote(const sb_row_set *rows, size_t i, void *ctx)
{
    queue_ctx *q = ctx;
    sb_request_row r;
    sb_request_groups g;
    sb_error err = {0};
    uint32_t bits = 0;
    sb_request_store_at(rows, i, &r);
    int rc = sb_request_groups_load(&r, &g, &err);
    if (rc == 0)
        rc = sb_request_voter(q->conn, q->who, &r, &g, &bits, &err);
    bool keep = rc == 0 && (g.n == 0 || bits != 0);
    sb_request_groups_free(&g);
    if (rc != 0 && err.code != SB_DOMAIN_E_DENIED && !q->failed++)
        q->first = err; /* a store error hides the row (fail closed) and is logged */
    return keep;
}

static int list(sb_server_request *req, void *ctx, sb_request_list_kind which)
{
    sb_app *app = ctx;
    const sb_identity *who = sb_api_identity(req);
    static const char *const known[] = {"state", "kind", "limit", "cursor"};
    sb_api_page page;
    sb_list_page lp;
    sb_request_filter f = {.list = which, .user_id = who->user_id};
    if (sb_handler_check_query(req, known, 4) != 0 ||
        query_enum(req, "state", parse_state, &f.state) != 0 ||
        query_enum(req, "kind", parse_kind, &f.kind) != 0 ||
        sb_handler_parse_page(req, &page, &lp) != 0)
        return 0;
    sb_error err = {0};
    sb_id_filter scope = {0};
    if (which == SB_REQUEST_LIST_QUEUE) {
        sb_permission_set mask = SB_PERMISSION_BIT(SB_PERM_SECRET_APPROVE) |
                                 SB_PERMISSION_BIT(SB_PERM_SECRET_SECURITY_APPROVE);
        if (sb_handler_visible_filter(who, false, mask, &scope, &err) != 0)
            return sb_api_respond_store_error(req, &err);
    } else if (which == SB_REQUEST_LIST_INBOX) {
        if (sb_handler_visible_filter(who, true,
                                          SB_PERMISSION_BIT(SB_PERM_SECRET_VALUE_PROVIDE), &scope,
                                          &err) != 0)
            return sb_api_respond_store_error(req, &err);
    } else {
        scope.all = true;
    }
    f.scope = scope;
    sb_row_set rows = {0};
    sb_db_conn *conn;
    int rc = sb_db_acquire(app->db, 5000, &conn, &err);
    if (rc == 0) {
        rc = sb_request_store_list(conn, &f, &lp, &rows, &err);
        if (rc == 0 && which == SB_REQUEST_LIST_QUEUE) {
            queue_ctx q = {conn, who, 0, {0}};
            free((void *)scope.ids);
            rc = sb_handler_respond_page_kept(req, &rows, sb_request_json, may_vote, &q);
            sb_db_release(app->db, conn);
            if (q.failed)
                sb_err("requests", "approver queue: %s", q.first.message);
            return rc;
        }
        sb_db_release(app->db, conn);
    }
    free((void *)scope.ids);
    if (rc != 0)
        return sb_api_respond_store_error(req, &err);
    return sb_handler_respond_page(req, &rows, sb_request_json);
}

static int list_mine(sb_server_request *req, void *ctx) { return list(req, ctx, SB_REQUEST_LIST_MINE); }
static int list_queue(sb_server_request *req, void *ctx) { return list(req, ctx, SB_REQUEST_LIST_QUEUE); }
static int list_inbox(sb_server_request *req, void *ctx) { return list(req, ctx, SB_REQUEST_LIST_INBOX); }

/* ---- detail ----------------------------------------------------------------- */

static json_t *votes_json(const sb_row_set *votes)
{
    json_t *a = json_array();
    for (size_t i = 0; i < votes->n; i++) {
        sb_request_vote_row v;
        sb_request_store_vote_at(votes, i, &v);
        json_array_append_new(a, json_pack("{s:s, s:s, s:s, s:s, s:s, s:I}", "approver_id",
                                           v.approver_id, "username", v.username, "decision",
                                           v.decision, "comment", v.comment, "created_at",
                                           v.created_at, "groups", (json_int_t)v.groups));
    }
    return a;
}

static int detail(sb_server_request *req, void *ctx)
{
    sb_app *app = ctx;
    char id[37];
    if (sb_handler_path_id(req, "id", id) != 0)
        return sb_handler_not_found(req, "request");
    sb_error err = {0};
    sb_db_conn *conn;
    if (sb_db_acquire(app->db, 5000, &conn, &err) != 0)
        return sb_api_respond_store_error(req, &err);
    sb_row_set rows = {0}, votes = {0};
    int64_t boxes = 0, recipients = 0;
    int rc = sb_request_get_visible(conn, sb_api_identity(req), id, &rows, &err);
    if (rc == 0 && (sb_request_store_votes(conn, id, &votes, &err) != 0 ||
                    sb_request_store_sealed_counts(conn, id, &boxes, &recipients, &err) != 0))
        rc = -1;
    sb_db_release(app->db, conn);
    if (rc != 0) {
        sb_row_set_free(&rows);
        sb_row_set_free(&votes);
        return rc > 0 ? sb_handler_not_found(req, "request")
                      : sb_api_respond_store_error(req, &err);
    }
    json_t *out = sb_request_json(&rows, 0);
    json_object_set_new(out, "votes", votes_json(&votes));
    json_object_set_new(out, "sealed_values",
                        json_pack("{s:I, s:I}", "boxes", (json_int_t)boxes, "recipients",
                                  (json_int_t)recipients));
    sb_row_set_free(&rows);
    sb_row_set_free(&votes);
    return sb_http_respond_json(req, 200, out);
}

/* ---- the route table ---------------------------------------------------------- */

int sb_api_request_routes(sb_router *r, sb_app *app, sb_error *err)
{
    const sb_route routes[] = {
        {"GET", "/api/v1/requests", SB_AUTH_SESSION, NULL, list_mine, app, "listMyRequests",
         "Your own requests, newest first (?state, ?kind, cursor pages)"},
        {"GET", "/api/v1/requests/queue", SB_AUTH_SESSION, NULL, list_queue, app,
         "listApprovalQueue",
         "Requests you may approve or verify now (not yours, not voted on), oldest first"},
        {"GET", "/api/v1/requests/inbox", SB_AUTH_SESSION, "secret.value.provide", list_inbox, app,
         "listFillInbox", "Cross-team requests waiting for values from your teams, oldest first"},
        {"GET", "/api/v1/requests/{id}", SB_AUTH_SESSION, NULL, detail, app, "getRequest",
         "A request with its votes (404 outside your scope)"},
    };
    if (sb_router_add_all(r, routes, sizeof routes / sizeof routes[0], err) != 0)
        return -1;
    return sb_request_submit_routes(r, app, err) != 0 ? -1 : sb_request_decide_routes(r, app, err);
}
