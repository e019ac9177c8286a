/*
 * api/workflow_routes.c — sb_api_workflow_routes: approval workflows
 * (SPEC §8 "Workflows"; docs/workflows-policies.md).
 *
 * Contract:
 *   - Reads (GET /workflows, /workflows/{id}) are open to every signed-in
 *     user: a workflow says how requests are approved, which requesters and
 *     approvers need to know. Writes need workflow.edit from a global grant
 *     (the permission is platform-level); others get 403 and an
 *     access.denied event.
 *   - Bodies are strict (unknown field 400 naming the accepted ones, wrong
 *     type 400); values are checked by domain/workflow_rules (422 naming the
 *     field and the allowed range). Role ids (approver_role_ids and every
 *     group's role_ids) must name existing roles: 422 otherwise. Groups are
 *     stored normalised (permission, role_ids and owning_team_member filled
 *     in), so readers never see a shorthand.
 *   - is_default and is_system are not body fields. PUT /workflows/{id}/
 *     default moves the default flag (the previous default loses it in the
 *     same transaction); a disabled workflow cannot become the default and
 *     the default cannot be disabled (409 saying which to do first). A
 *     system workflow keeps its name (422).
 *   - DELETE refuses (409 refused) the system workflow, the default one, and
 *     one that policy rules still use (the message says how many).
 *   - One audit event per change, in its transaction: workflow.create,
 *     workflow.update, workflow.delete, workflow.default (resource
 *     "workflow:<id>"); create/update details carry the whole workflow.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/handler_kit.h"
#include "domain/domain_error.h"
#include "domain/workflow_rules.h"
#include "store/workflow_store.h"

typedef struct wf_input {
    sb_workflow_fields f;
    char *roles_json, *groups_json, *channels_json, *all_roles_json; /* owned */
    json_t *given;                                                  /* field names */
} wf_input;

static json_t *parsed_array(const char *text)
{
    json_t *v = json_loads(text, 0, NULL);
    return json_is_array(v) ? v : (json_decref(v), json_array());
}

static json_t *workflow_json(const sb_row_set *rows, size_t i)
{
    sb_workflow_row w;
    sb_workflow_store_at(rows, i, &w);
    return json_pack(
        "{s:s, s:s, s:s, s:i, s:o, s:o, s:b, s:b, s:i, s:i, s:i, s:i, s:i, s:o, s:b, s:b, s:b,"
        " s:b, s:I, s:s, s:s}",
        "id", w.id, "name", w.name, "description", w.description, "min_approvers",
        w.min_approvers, "approver_role_ids", parsed_array(w.approver_role_ids), "groups",
        parsed_array(w.groups), "allow_self_approval", w.allow_self_approval,
        "require_justification", w.require_justification, "request_ttl_s", w.request_ttl_s,
        "fill_ttl_s", w.fill_ttl_s, "wrap_ttl_created_s", w.wrap_ttl_created_s,
        "wrap_ttl_approved_s", w.wrap_ttl_approved_s, "wrap_ttl_claimed_s", w.wrap_ttl_claimed_s,
        "notification_channels", parsed_array(w.notification_channels), "enabled", w.enabled,
        "is_default", w.is_default, "is_system", w.is_system, "scoped_policy_authorable",
        w.scoped_policy_authorable, "policy_rules", (json_int_t)w.policy_rules, "created_at",
        w.created_at, "updated_at", w.updated_at);
}

static void input_free(wf_input *in)
{
    free(in->roles_json);
    free(in->groups_json);
    free(in->channels_json);
    free(in->all_roles_json);
    json_decref(in->given);
}

/* ---- input -------------------------------------------------------------------- */

static const char *const int_fields[] = {"min_approvers",      "request_ttl_s",
                                         "fill_ttl_s",         "wrap_ttl_created_s",
                                         "wrap_ttl_approved_s", "wrap_ttl_claimed_s"};
static const char *const bool_fields[] = {"allow_self_approval", "require_justification",
                                          "enabled", "scoped_policy_authorable"};

static int *int_slot(sb_workflow_fields *f, size_t i)
{
    int *slots[] = {&f->min_approvers,      &f->request_ttl_s,       &f->fill_ttl_s,
                    &f->wrap_ttl_created_s, &f->wrap_ttl_approved_s, &f->wrap_ttl_claimed_s};
    return slots[i];
}

static int *bool_slot(sb_workflow_fields *f, size_t i)
{
    int *slots[] = {&f->allow_self_approval, &f->require_justification, &f->enabled,
                    &f->scoped_policy_authorable};
    return slots[i];
}

/* A JSON array of strings into a C array (borrowed strings); NULL when empty. */
static const char **strings_of(json_t *arr, size_t *n)
{
    *n = json_array_size(arr);
    const char **out = calloc(*n + 1, sizeof *out);
    for (size_t i = 0; out && i < *n; i++)
        out[i] = json_string_value(json_array_get(arr, i));
    return out;
}

/* Lower-cased copies of checked UUIDs, appended to both arrays. */
static json_t *canonical_ids(json_t *arr, json_t *all)
{
    json_t *out = json_array();
    size_t i;
    json_t *v;
    json_array_foreach(arr, i, v)
    {
        char id[37];
        sb_rows_uuid(json_string_value(v), id);
        json_array_append_new(out, json_string(id));
        json_array_append_new(all, json_string(id));
    }
    return out;
}

static int group_type_error(sb_server_request *req, size_t i, const char *key, const char *want)
{
    return sb_http_respond_error(req, 400, "invalid_field", "field \"groups[%zu].%s\" must be %s", i,
                                 key, want),
           -1;
}

/* One group object: member types (400), then collected for the domain. */
static int read_group(sb_server_request *req, json_t *obj, size_t i, sb_workflow_group *g)
{
    if (!json_is_object(obj))
        return sb_http_respond_error(req, 400, "invalid_field",
                                     "field \"groups[%zu]\" must be an object", i),
               -1;
    const char *key;
    json_t *v;
    json_object_foreach(obj, key, v)
    {
        if (strcmp(key, "name") == 0 || strcmp(key, "permission") == 0) {
            if (!json_is_string(v))
                return group_type_error(req, i, key, "a string");
        } else if (strcmp(key, "required") == 0) {
            if (!json_is_integer(v))
                return group_type_error(req, i, key, "an integer");
        } else if (strcmp(key, "owning_team_member") == 0) {
            if (!json_is_boolean(v))
                return group_type_error(req, i, key, "true or false");
        } else if (strcmp(key, "role_ids") == 0) {
            size_t k;
            json_t *item;
            if (!json_is_array(v))
                return group_type_error(req, i, key, "an array of strings");
            json_array_foreach(v, k, item) if (!json_is_string(item)) return group_type_error(
                req, i, key, "an array of strings");
        } else {
            return sb_http_respond_error(req, 400, "unknown_field",
                                         "unknown field \"groups[%zu].%.64s\"; a group accepts: "
                                         "name, required, permission, role_ids, "
                                         "owning_team_member",
                                         i, key),
                   -1;
        }
    }
    static const char *const required[] = {"name", "required"};
    for (size_t k = 0; k < 2; k++)
        if (json_object_get(obj, required[k]) == NULL)
            return sb_http_respond_error(req, 400, "missing_field",
                                         "field \"groups[%zu].%s\" is required", i, required[k]),
                   -1;
    g->name = json_string_value(json_object_get(obj, "name"));
    g->required = json_integer_value(json_object_get(obj, "required"));
    g->permission = json_string_value(json_object_get(obj, "permission"));
    g->role_ids = strings_of(json_object_get(obj, "role_ids"), &g->n_role_ids);
    g->owning_team_member = json_is_true(json_object_get(obj, "owning_team_member"));
    return 0;
}

/* groups: types, domain check, normalised JSON text into in. -1 answered. */
static int read_groups(sb_server_request *req, json_t *arr, json_t *all_roles, wf_input *in)
{
    size_t n = json_array_size(arr);
    if (n > 4 * SB_WORKFLOW_MAX_GROUPS)
        return sb_handler_invalid(req, "groups may hold at most %d groups, got %zu",
                                      SB_WORKFLOW_MAX_GROUPS, n);
    sb_workflow_group *g = calloc(n + 1, sizeof *g);
    int rc = 0;
    size_t done = 0;
    for (; rc == 0 && done < n; done++)
        rc = read_group(req, json_array_get(arr, done), done, &g[done]);
    sb_error err = {0};
    if (rc == 0 && sb_workflow_check_groups(g, n, &err) != 0)
        rc = sb_handler_invalid(req, "%s", err.message);
    if (rc == 0) {
        json_t *norm = json_array();
        for (size_t i = 0; i < n; i++) {
            json_t *obj = json_array_get(arr, i);
            json_t *ids = canonical_ids(json_object_get(obj, "role_ids"), all_roles);
            json_array_append_new(
                norm, json_pack("{s:s, s:I, s:s, s:o, s:b}", "name", g[i].name, "required",
                                (json_int_t)g[i].required, "permission",
                                g[i].permission ? g[i].permission : SB_WORKFLOW_PERMISSION_DEFAULT,
                                "role_ids", ids, "owning_team_member", g[i].owning_team_member));
        }
        in->groups_json = json_dumps(norm, JSON_COMPACT);
        in->f.groups_json = in->groups_json;
        json_decref(norm);
    }
    for (size_t i = 0; i < done && i < n; i++)
        free((void *)g[i].role_ids);
    free(g);
    return rc;
}

/* Everything but groups: values checked, fields filled, given names listed. */
static int read_fields(sb_server_request *req, json_t *body, json_t *all_roles, wf_input *in)
{
    sb_error err = {0};
    sb_workflow_fields_init(&in->f);
    in->given = json_array();
    const char *key;
    json_t *v;
    json_object_foreach(body, key, v) json_array_append_new(in->given, json_string(key));
    in->f.name = sb_handler_string(body, "name");
    in->f.description = sb_handler_string(body, "description");
    if (in->f.name && !sb_workflow_name_ok(in->f.name))
        return sb_handler_invalid(req, "name must match ^[a-z0-9][a-z0-9-]{0,62}$");
    if (sb_handler_check_description(req, in->f.description) != 0)
        return -1;
    for (size_t i = 0; i < sizeof int_fields / sizeof int_fields[0]; i++) {
        json_t *n = json_object_get(body, int_fields[i]);
        if (n == NULL)
            continue;
        if (sb_workflow_check_number(int_fields[i], json_integer_value(n), &err) != 0)
            return sb_handler_invalid(req, "%s", err.message);
        *int_slot(&in->f, i) = (int)json_integer_value(n);
    }
    for (size_t i = 0; i < sizeof bool_fields / sizeof bool_fields[0]; i++) {
        json_t *b = json_object_get(body, bool_fields[i]);
        if (b)
            *bool_slot(&in->f, i) = json_is_true(b);
    }
    json_t *roles = json_object_get(body, "approver_role_ids");
    if (roles) {
        size_t n;
        const char **ids = strings_of(roles, &n);
        int bad = sb_workflow_check_role_ids("approver_role_ids", ids, n, &err);
        free(ids);
        if (bad)
            return sb_handler_invalid(req, "%s", err.message);
        json_t *canon = canonical_ids(roles, all_roles);
        in->roles_json = json_dumps(canon, JSON_COMPACT);
        in->f.approver_role_ids_json = in->roles_json;
        json_decref(canon);
    }
    json_t *channels = json_object_get(body, "notification_channels");
    if (channels) {
        size_t n;
        const char **ch = strings_of(channels, &n);
        int bad = sb_workflow_check_channels(ch, n, &err);
        free(ch);
        if (bad)
            return sb_handler_invalid(req, "%s", err.message);
        in->channels_json = json_dumps(channels, JSON_COMPACT);
        in->f.notification_channels_json = in->channels_json;
    }
    json_t *groups = json_object_get(body, "groups");
    return groups ? read_groups(req, groups, all_roles, in) : 0;
}

static int read_input(sb_handler_op *o, wf_input *in)
{
    json_t *all_roles = json_array();
    int rc = read_fields(o->req, o->body, all_roles, in);
    if (rc == 0)
        in->all_roles_json = json_dumps(all_roles, JSON_COMPACT);
    json_decref(all_roles);
    return rc;
}

/* ---- writes ------------------------------------------------------------------- */

static int need_edit(const sb_handler_op *o, const char *doing, sb_error *err)
{
    return sb_handler_op_need_team(o, SB_PERM_WORKFLOW_EDIT, NULL, doing, err);
}

static int roles_exist(sb_db_conn *conn, const wf_input *in, sb_error *err)
{
    char missing[37];
    if (in->all_roles_json == NULL || strcmp(in->all_roles_json, "[]") == 0)
        return 0;
    if (sb_workflow_store_missing_role(conn, in->all_roles_json, missing, err) != 0)
        return -1;
    if (missing[0])
        return sb_error_set(err, SB_TENANCY_E_UNKNOWN_REF,
                            "approver_role_ids / groups[].role_ids: no role with id %s", missing);
    return 0;
}

static int create_txn(sb_db_conn *conn, sb_handler_op *o, sb_error *err)
{
    wf_input *in = o->extra;
    if (need_edit(o, "creating a workflow", err) != 0 || roles_exist(conn, in, err) != 0 ||
        sb_workflow_store_create(conn, &in->f, &o->rows, err) != 0)
        return -1;
    sb_workflow_row w;
    sb_workflow_store_at(&o->rows, 0, &w);
    return sb_handler_op_audit(conn, o, "workflow.create", "workflow", w.id,
                               json_pack("{s:o}", "workflow", workflow_json(&o->rows, 0)), err);
}

static int update_txn(sb_db_conn *conn, sb_handler_op *o, sb_error *err)
{
    wf_input *in = o->extra;
    sb_row_set cur;
    if (need_edit(o, "changing a workflow", err) != 0 ||
        sb_handler_op_lock_row(conn, sb_workflow_store_get, o->id, "workflow", &cur, err) != 0)
        return -1;
    sb_workflow_row w;
    sb_workflow_store_at(&cur, 0, &w);
    int rc = 0;
    if (in->f.enabled == 0 && w.is_default)
        rc = sb_error_set(err, SB_DB_E_REFUSED,
                          "default_workflow: workflow %s is the default and cannot be disabled; "
                          "make another workflow the default first "
                          "(PUT /api/v1/workflows/{id}/default)",
                          w.name);
    else if (w.is_system && in->f.name && strcmp(in->f.name, w.name) != 0)
        rc = sb_error_set(err, SB_TENANCY_E_IMMUTABLE,
                          "name: workflow %s is a system workflow and keeps its name", w.name);
    sb_row_set_free(&cur);
    if (rc != 0 || roles_exist(conn, in, err) != 0 ||
        sb_workflow_store_update(conn, o->id, &in->f, &o->rows, err) != 0)
        return -1;
    return sb_handler_op_audit(conn, o, "workflow.update", "workflow", o->id,
                               json_pack("{s:O, s:o}", "fields", in->given, "workflow",
                                         workflow_json(&o->rows, 0)),
                               err);
}

static int delete_txn(sb_db_conn *conn, sb_handler_op *o, sb_error *err)
{
    sb_row_set cur;
    if (need_edit(o, "deleting a workflow", err) != 0 ||
        sb_handler_op_lock_row(conn, sb_workflow_store_get, o->id, "workflow", &cur, err) != 0)
        return -1;
    sb_workflow_row w;
    sb_workflow_store_at(&cur, 0, &w);
    json_t *d = json_pack("{s:s}", "name", w.name);
    sb_row_set_free(&cur);
    int rc = sb_workflow_store_delete(conn, o->id, err);
    if (rc != 0) {
        json_decref(d);
        return rc == 1 ? sb_error_set(err, SB_DOMAIN_E_NOT_FOUND, "no workflow with that id") : -1;
    }
    return sb_handler_op_audit(conn, o, "workflow.delete", "workflow", o->id, d, err);
}

static int default_txn(sb_db_conn *conn, sb_handler_op *o, sb_error *err)
{
    char previous[37];
    if (need_edit(o, "changing the default workflow", err) != 0)
        return -1;
    int rc = sb_workflow_store_set_default(conn, o->id, &o->rows, previous, err);
    if (rc == 1)
        return sb_error_set(err, SB_DOMAIN_E_NOT_FOUND, "no workflow with that id");
    if (rc != 0)
        return -1;
    sb_workflow_row w;
    sb_workflow_store_at(&o->rows, 0, &w);
    return sb_handler_op_audit(conn, o, "workflow.default", "workflow", o->id,
                               json_pack("{s:s, s:s?}", "name", w.name, "previous_default_id",
                                         previous[0] ? previous : NULL),
                               err);
}

#define WF_SPEC(name_required)                                                                     \
    {{"name", SB_FIELD_STRING, name_required},                                                     \
     {"description", SB_FIELD_STRING, 0},                                                          \
     {"min_approvers", SB_FIELD_INTEGER, 0},                                                       \
     {"approver_role_ids", SB_FIELD_STRING_ARRAY, 0},                                              \
     {"groups", SB_FIELD_ARRAY, 0},                                                                \
     {"allow_self_approval", SB_FIELD_BOOLEAN, 0},                                                 \
     {"require_justification", SB_FIELD_BOOLEAN, 0},                                               \
     {"request_ttl_s", SB_FIELD_INTEGER, 0},                                                       \
     {"fill_ttl_s", SB_FIELD_INTEGER, 0},                                                          \
     {"wrap_ttl_created_s", SB_FIELD_INTEGER, 0},                                                  \
     {"wrap_ttl_approved_s", SB_FIELD_INTEGER, 0},                                                 \
     {"wrap_ttl_claimed_s", SB_FIELD_INTEGER, 0},                                                  \
     {"notification_channels", SB_FIELD_STRING_ARRAY, 0},                                          \
     {"enabled", SB_FIELD_BOOLEAN, 0},                                                             \
     {"scoped_policy_authorable", SB_FIELD_BOOLEAN, 0}}
static const sb_field_spec create_spec[] = WF_SPEC(1);
static const sb_field_spec update_spec[] = WF_SPEC(0);
#define N_SPEC (sizeof create_spec / sizeof create_spec[0])

static int wf_create(sb_server_request *req, void *ctx)
{
    sb_handler_op o;
    wf_input in = {0};
    sb_handler_op_init(&o, req, ctx);
    int rc = 0;
    if (sb_handler_read_body(req, create_spec, N_SPEC, &o.body) == 0 &&
        read_input(&o, &in) == 0) {
        o.extra = &in;
        o.render = workflow_json;
        o.ok_status = 201;
        rc = sb_handler_op_run(&o, create_txn);
    }
    input_free(&in);
    return rc;
}

static int wf_update(sb_server_request *req, void *ctx)
{
    sb_handler_op o;
    wf_input in = {0};
    sb_handler_op_init(&o, req, ctx);
    if (sb_handler_path_id(req, "id", o.id) != 0)
        return sb_handler_not_found(req, "workflow");
    int rc = 0;
    if (sb_handler_read_body(req, update_spec, N_SPEC, &o.body) == 0 &&
        read_input(&o, &in) == 0) {
        if (json_array_size(in.given) == 0) {
            sb_handler_op_nothing_given(&o, "name, description, min_approvers, approver_role_ids, "
                                            "groups, allow_self_approval, require_justification, "
                                            "the TTLs, notification_channels, enabled, "
                                            "scoped_policy_authorable");
        } else {
            o.extra = &in;
            o.render = workflow_json;
            rc = sb_handler_op_run(&o, update_txn);
        }
    }
    input_free(&in);
    return rc;
}

static int with_path_id(sb_server_request *req, void *ctx, sb_handler_op_fn fn, bool render)
{
    sb_handler_op o;
    sb_handler_op_init(&o, req, ctx);
    if (sb_handler_path_id(req, "id", o.id) != 0)
        return sb_handler_not_found(req, "workflow");
    o.render = render ? workflow_json : NULL;
    return sb_handler_op_run(&o, fn);
}

static int wf_delete(sb_server_request *req, void *ctx)
{
    return with_path_id(req, ctx, delete_txn, false);
}

static int wf_set_default(sb_server_request *req, void *ctx)
{
    return with_path_id(req, ctx, default_txn, true);
}

/* ---- reads -------------------------------------------------------------------- */

static int wf_get(sb_server_request *req, void *ctx)
{
    sb_handler_op o;
    sb_handler_op_init(&o, req, ctx);
    if (sb_handler_path_id(req, "id", o.id) != 0)
        return sb_handler_not_found(req, "workflow");
    return sb_handler_op_respond_one(&o, sb_workflow_store_get, workflow_json, "workflow");
}

/* ?name=true|false into -1/0/1; -1 (answered) when malformed. */
static int query_flag(sb_server_request *req, const char *name, int *out)
{
    const char *v = sb_http_query(req, name);
    *out = -1;
    if (v == NULL)
        return 0;
    if (strcmp(v, "true") == 0 || strcmp(v, "false") == 0) {
        *out = v[0] == 't';
        return 0;
    }
    return sb_http_respond_error(req, 400, "invalid_field",
                                 "query parameter %s must be true or false", name),
           -1;
}

static int wf_filters(sb_handler_op *o, void *filter)
{
    int *flags = filter; /* enabled, authorable */
    return query_flag(o->req, "enabled", &flags[0]) != 0 ||
                   query_flag(o->req, "scoped_policy_authorable", &flags[1]) != 0
               ? -1
               : 0;
}

static int wf_rows(sb_db_conn *conn, sb_handler_op *o, void *filter, const sb_list_page *page,
                   sb_row_set *out, sb_error *err)
{
    (void)o;
    const int *flags = filter;
    return sb_workflow_store_list(conn, flags[0], flags[1], page, out, err);
}

static int wf_list(sb_server_request *req, void *ctx)
{
    static const char *const known[] = {"limit", "cursor", "enabled", "scoped_policy_authorable"};
    static const sb_handler_list spec = {.query = known, .n_query = 4, .filters = wf_filters,
                                         .list = wf_rows, .render = workflow_json};
    sb_handler_op o;
    int flags[2];
    sb_handler_op_init(&o, req, ctx);
    return sb_handler_list_run(&o, &spec, flags);
}

/* ---- the route table ---------------------------------------------------------- */

int sb_api_workflow_routes(sb_router *r, sb_app *app, sb_error *err)
{
#define W "/api/v1/workflows"
#define E "workflow.edit"
    const sb_route routes[] = {
        {"GET", W, SB_AUTH_SESSION, NULL, wf_list, app, "listWorkflows",
         "List approval workflows (filters enabled, scoped_policy_authorable; cursor pagination)"},
        {"POST", W, SB_AUTH_SESSION, E, wf_create, app, "createWorkflow",
         "Create an approval workflow"},
        {"GET", W "/{id}", SB_AUTH_SESSION, NULL, wf_get, app, "getWorkflow",
         "Get an approval workflow"},
        {"PUT", W "/{id}", SB_AUTH_SESSION, E, wf_update, app, "updateWorkflow",
         "Change an approval workflow (partial; not is_default or is_system)"},
        {"DELETE", W "/{id}", SB_AUTH_SESSION, E, wf_delete, app, "deleteWorkflow",
         "Delete a workflow that is neither system, default nor used by policy rules"},
        {"PUT", W "/{id}/default", SB_AUTH_SESSION, E, wf_set_default, app,
         "setDefaultWorkflow", "Make an enabled workflow the default (the engine's fallback)"},
    };
#undef W
#undef E
    return sb_router_add_all(r, routes, sizeof routes / sizeof routes[0], err);
}
