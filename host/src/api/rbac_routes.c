/*
 * api/rbac_routes.c — sb_api_rbac_routes: the permission catalog, roles,
 * grants and the user directory.
 *
 * Contract:
 *   - GET /permissions and the role reads are open to every signed-in user:
 *     they describe what a role means (keys, descriptions), nothing about
 *     who holds what — the same information the docs publish.
 *   - Role writes need role.edit from a global grant, and a role may only
 *     carry permissions its editor holds globally (so role.edit cannot be
 *     turned into a way of granting oneself more through an existing
 *     grant). Permission keys are validated by domain/permissions: an
 *     unknown or repeated key is 422 naming it. System roles are read-only
 *     (409 system_role); a granted role cannot be deleted (409 role_in_use).
 *   - Grants: creating is sb_rbac_can_grant (user_role.edit at the scope
 *     and every permission of the role held there too: a team admin grants
 *     within their subtree only, and never more than they hold); revoking
 *     is sb_rbac_can_revoke. A grant is visible to — and listed for — the
 *     callers who may manage it (user_role.edit at its scope); others get
 *     404 for it exactly as for a missing one. The last global admin grant
 *     of an active user cannot be revoked (409 last_admin). granted_by is
 *     the authenticated caller (I6).
 *   - Users (directory): user.manage from a global grant. Never a password
 *     hash or any other credential.
 *   - One audit event per change: role.create|update|delete,
 *     grant.create|revoke, in the change's transaction.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/handler_kit.h"
#include "domain/domain_error.h"
#include "store/rbac_store.h"

/* ---- rendering -------------------------------------------------------------- */

static json_t *permission_keys(sb_permission_set set)
{
    const char *keys[SB_PERM_COUNT];
    size_t n = sb_permission_set_keys(set, keys, SB_PERM_COUNT);
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(a, json_string(keys[i]));
    return a;
}

static json_t *role_json(const sb_row_set *rows, size_t i)
{
    sb_role_row r;
    sb_rbac_store_role_at(rows, i, &r);
    return json_pack("{s:s, s:s, s:s, s:b, s:o, s:I, s:s, s:s}", "id", r.id, "name", r.name,
                     "description", r.description, "is_system", r.is_system, "permissions",
                     permission_keys(r.permissions), "grant_count", (json_int_t)r.grant_count,
                     "created_at", r.created_at, "updated_at", r.updated_at);
}

static json_t *grant_json(const sb_row_set *rows, size_t i)
{
    sb_grant_row g;
    sb_rbac_store_grant_at(rows, i, &g);
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s?, s:o, s:s?, s:s}", "id", g.id, "user_id",
                     g.user_id, "username", g.username, "role_id", g.role_id, "role_name",
                     g.role_name, "scope_type", g.scope_type, "scope_id", g.scope_id, "permissions",
                     permission_keys(g.permissions), "granted_by", g.granted_by, "created_at",
                     g.created_at);
}

static json_t *user_json(const sb_row_set *rows, size_t i)
{
    sb_user_entry u;
    sb_rbac_store_user_at(rows, i, &u);
    return json_pack("{s:s, s:s, s:s, s:s?, s:s, s:s, s:b, s:s, s:s}", "id", u.id, "username",
                     u.username, "display_name", u.display_name, "email", u.email, "source",
                     u.source, "status", u.status, "locked", u.locked, "created_at", u.created_at,
                     "updated_at", u.updated_at);
}

/* ---- permissions ------------------------------------------------------------ */

static int permission_list(sb_server_request *req, void *ctx)
{
    (void)ctx;
    if (sb_handler_check_query(req, NULL, 0) != 0)
        return 0;
    size_t n;
    const sb_permission_info *cat = sb_permission_catalog(&n);
    json_t *items = json_array();
    for (size_t i = 0; i < n; i++) {
        json_t *at = json_array();
        if (cat[i].checked_at & SB_PERM_AT_PLATFORM)
            json_array_append_new(at, json_string("platform"));
        if (cat[i].checked_at & SB_PERM_AT_TEAM)
            json_array_append_new(at, json_string("team"));
        if (cat[i].checked_at & SB_PERM_AT_PROJECT)
            json_array_append_new(at, json_string("project"));
        json_array_append_new(items, json_pack("{s:s, s:s, s:s, s:o}", "key", cat[i].key, "group",
                                               cat[i].group, "description", cat[i].description,
                                               "checked_at", at));
    }
    return sb_http_respond_json(req, 200, json_pack("{s:o}", "items", items));
}

/* ---- roles ------------------------------------------------------------------ */

typedef struct role_input {
    bool has_permissions;
    sb_permission_set permissions;
} role_input;

static const sb_field_spec role_spec[] = {{"name", SB_FIELD_STRING, 1},
                                          {"description", SB_FIELD_STRING, 0},
                                          {"permissions", SB_FIELD_STRING_ARRAY, 1}};
static const sb_field_spec role_update_spec[] = {{"name", SB_FIELD_STRING, 0},
                                                 {"description", SB_FIELD_STRING, 0},
                                                 {"permissions", SB_FIELD_STRING_ARRAY, 0}};

static int role_fields(sb_handler_op *o, role_input *in)
{
    o->name = sb_handler_string(o->body, "name");
    o->description = sb_handler_string(o->body, "description");
    if (o->name &&
        !sb_handler_name_ok(o->name, 63, SB_CHARS_LOWER, SB_CHARS_LOWER SB_CHARS_DIGIT "_"))
        return sb_handler_invalid(o->req,
                                      "name must be 1-63 characters of lowercase letters, digits "
                                      "and '_', starting with a letter");
    if (sb_handler_check_description(o->req, o->description) != 0)
        return -1;
    json_t *list = json_object_get(o->body, "permissions");
    in->has_permissions = list != NULL;
    if (list == NULL)
        return 0;
    size_t n = json_array_size(list);
    if (n > 64)
        return sb_handler_invalid(o->req, "permissions lists at most 64 keys");
    const char *keys[64];
    for (size_t i = 0; i < n; i++)
        keys[i] = json_string_value(json_array_get(list, i));
    sb_error err = {0};
    if (sb_permission_set_from_keys(keys, n, &in->permissions, &err) != 0)
        return sb_handler_invalid(o->req, "%s", err.message);
    return 0;
}

/* role.edit globally, and every permission of the role held globally. */
static int need_role_edit(const sb_handler_op *o, const role_input *in, sb_error *err)
{
    if (!sb_rbac_allows_global(o->who->rbac, SB_PERM_ROLE_EDIT))
        return sb_error_set(err, SB_DOMAIN_E_DENIED,
                            "editing roles needs role.edit from a global grant");
    sb_permission_set missing =
        in && in->has_permissions ? in->permissions & ~sb_rbac_permissions_global(o->who->rbac) : 0;
    if (missing == 0)
        return 0;
    const char *keys[SB_PERM_COUNT];
    size_t n = sb_permission_set_keys(missing, keys, SB_PERM_COUNT);
    char names[400] = "";
    for (size_t i = 0; i < n; i++)
        snprintf(names + strlen(names), sizeof names - strlen(names), "%s%s", i ? ", " : "",
                 keys[i]);
    return sb_error_set(err, SB_DOMAIN_E_DENIED,
                        "a role can only carry permissions you hold globally; you lack: %s", names);
}

static int role_create_txn(sb_db_conn *conn, sb_handler_op *o, sb_error *err)
{
    role_input *in = o->extra;
    if (need_role_edit(o, in, err) != 0 ||
        sb_rbac_store_role_create(conn, o->name, o->description, in->permissions, &o->rows, err) !=
            0)
        return -1;
    sb_role_row r;
    sb_rbac_store_role_at(&o->rows, 0, &r);
    return sb_handler_op_audit(
        conn, o, "role.create", "role", r.id,
        json_pack("{s:s, s:o}", "name", r.name, "permissions", permission_keys(r.permissions)),
        err);
}

static int role_update_txn(sb_db_conn *conn, sb_handler_op *o, sb_error *err)
{
    role_input *in = o->extra;
    sb_row_set cur;
    if (need_role_edit(o, in, err) != 0 ||
        sb_handler_op_lock_row(conn, sb_rbac_store_role_get, o->id, "role", &cur, err) != 0)
        return -1;
    sb_role_row r;
    sb_rbac_store_role_at(&cur, 0, &r);
    sb_permission_set before = r.permissions;
    sb_row_set_free(&cur);
    if (sb_rbac_store_role_update(conn, o->id, o->name, o->description,
                                  in->has_permissions ? &in->permissions : NULL, &o->rows,
                                  err) != 0)
        return -1;
    json_t *fields = sb_handler_op_changed_fields(o);
    json_t *d = json_pack("{s:o}", "fields", fields);
    if (in->has_permissions) {
        json_array_append_new(fields, json_string("permissions"));
        json_object_set_new(d, "added", permission_keys(in->permissions & ~before));
        json_object_set_new(d, "removed", permission_keys(before & ~in->permissions));
    }
    return sb_handler_op_audit(conn, o, "role.update", "role", o->id, d, err);
}

static int role_delete_txn(sb_db_conn *conn, sb_handler_op *o, sb_error *err)
{
    sb_row_set cur;
    if (need_role_edit(o, NULL, err) != 0 ||
        sb_handler_op_lock_row(conn, sb_rbac_store_role_get, o->id, "role", &cur, err) != 0)
        return -1;
    sb_role_row r;
    sb_rbac_store_role_at(&cur, 0, &r);
    json_t *d =
        json_pack("{s:s, s:o}", "name", r.name, "permissions", permission_keys(r.permissions));
    sb_row_set_free(&cur);
    if (sb_rbac_store_role_delete(conn, o->id, err) != 0) {
        json_decref(d);
        return -1;
    }
    return sb_handler_op_audit(conn, o, "role.delete", "role", o->id, d, err);
}

static int role_create(sb_server_request *req, void *ctx)
{
    sb_handler_op o;
    role_input in = {0};
    sb_handler_op_init(&o, req, ctx);
    if (sb_handler_read_body(req, role_spec, 3, &o.body) != 0 || role_fields(&o, &in) != 0)
        return 0;
    o.extra = &in;
    o.render = role_json;
    o.ok_status = 201;
    return sb_handler_op_run(&o, role_create_txn);
}

static int role_update(sb_server_request *req, void *ctx)
{
    sb_handler_op o;
    role_input in = {0};
    sb_handler_op_init(&o, req, ctx);
    if (sb_handler_path_id(req, "id", o.id) != 0)
        return sb_handler_not_found(req, "role");
    if (sb_handler_read_body(req, role_update_spec, 3, &o.body) != 0 ||
        role_fields(&o, &in) != 0)
        return 0;
    if (!o.name && !o.description && !in.has_permissions) {
        sb_handler_op_nothing_given(&o, "name, description, permissions");
        return 0;
    }
    o.extra = &in;
    o.render = role_json;
    return sb_handler_op_run(&o, role_update_txn);
}

static int role_delete(sb_server_request *req, void *ctx)
{
    sb_handler_op o;
    sb_handler_op_init(&o, req, ctx);
    if (sb_handler_path_id(req, "id", o.id) != 0)
        return sb_handler_not_found(req, "role");
    return sb_handler_op_run(&o, role_delete_txn);
}

static int role_get(sb_server_request *req, void *ctx)
{
    sb_handler_op o;
    sb_handler_op_init(&o, req, ctx);
    if (sb_handler_path_id(req, "id", o.id) != 0)
        return sb_handler_not_found(req, "role");
    return sb_handler_op_respond_one(&o, sb_rbac_store_role_get, role_json, "role");
}

static const char *const page_only[] = {"limit", "cursor"};

static int role_rows(sb_db_conn *conn, sb_handler_op *o, void *filter, const sb_list_page *page,
                     sb_row_set *out, sb_error *err)
{
    (void)o, (void)filter;
    return sb_rbac_store_role_list(conn, page, out, err);
}

static int role_list(sb_server_request *req, void *ctx)
{
    static const sb_handler_list spec = {.query = page_only, .n_query = 2, .list = role_rows,
                                         .render = role_json};
    sb_handler_op o;
    sb_handler_op_init(&o, req, ctx);
    return sb_handler_list_run(&o, &spec, NULL);
}

/* ---- grants ----------------------------------------------------------------- */

static const sb_field_spec grant_spec[] = {{"user_id", SB_FIELD_STRING, 1},
                                           {"role_id", SB_FIELD_STRING, 1},
                                           {"scope_type", SB_FIELD_STRING, 1},
                                           {"scope_id", SB_FIELD_STRING_OR_NULL, 0}};

static sb_scope scope_of(const char *type, const char *id)
{
    sb_scope s = {SB_SCOPE_GLOBAL, NULL};
    if (strcmp(type, "team") == 0)
        s = (sb_scope){SB_SCOPE_TEAM, id};
    else if (strcmp(type, "project") == 0)
        s = (sb_scope){SB_SCOPE_PROJECT, id};
    return s;
}

/* The grant's target (team/project) is one the caller can see at all
 * (global: always, can_grant then decides). */
static bool scope_visible(const sb_handler_op *o, const sb_scope *s)
{
    if (s->kind == SB_SCOPE_TEAM)
        return sb_handler_team_visible(o->who, s->id);
    if (s->kind == SB_SCOPE_PROJECT)
        return sb_handler_project_visible(o->who, s->id);
    return true;
}

/* o->id = user, o->id2 = role, o->kind = scope type, o->ref = scope id. */
static int grant_create_txn(sb_db_conn *conn, sb_handler_op *o, sb_error *err)
{
    sb_scope scope = scope_of(o->kind, o->ref);
    /* A delegate learns nothing about teams and projects outside their
     * reach: missing and invisible targets get the same refusal. */
    if (!sb_rbac_allows_global(o->who->rbac, SB_PERM_USER_ROLE_EDIT) && !scope_visible(o, &scope))
        return sb_error_set(err, SB_DOMAIN_E_DENIED, "granting at %s %s needs user_role.edit there",
                            o->kind, o->ref);
    sb_row_set rows;
    int rc = sb_rbac_store_role_get(conn, o->id2, false, &rows, err);
    if (rc != 0)
        return rc < 0 ? -1
                      : sb_error_set(err, SB_TENANCY_E_UNKNOWN_REF, "role_id: no role with id %s",
                                     o->id2);
    sb_role_row role;
    sb_rbac_store_role_at(&rows, 0, &role);
    sb_permission_set perms = role.permissions;
    sb_row_set_free(&rows);
    rc = sb_rbac_store_user_get(conn, o->id, &rows, err);
    if (rc != 0)
        return rc < 0 ? -1
                      : sb_error_set(err, SB_TENANCY_E_UNKNOWN_REF, "user_id: no user with id %s",
                                     o->id);
    sb_row_set_free(&rows);
    if (sb_rbac_can_grant(o->who->rbac, perms, &scope, err) != 0) {
        if (err->code == SB_DOMAIN_E_NOT_FOUND)
            err->code = SB_TENANCY_E_UNKNOWN_REF;
        return -1;
    }
    if (sb_rbac_store_grant_create(conn, o->id, o->id2, o->kind, scope.id, o->who->user_id,
                                   &o->rows, err) != 0)
        return -1;
    sb_grant_row g;
    sb_rbac_store_grant_at(&o->rows, 0, &g);
    return sb_handler_op_audit(conn, o, "grant.create", "grant", g.id,
                               json_pack("{s:s, s:s, s:s, s:s, s:s?}", "user_id", g.user_id,
                                         "role_id", g.role_id, "role", g.role_name, "scope_type",
                                         g.scope_type, "scope_id", g.scope_id),
                               err);
}

static int grant_revoke_txn(sb_db_conn *conn, sb_handler_op *o, sb_error *err)
{
    sb_row_set cur;
    int rc = sb_rbac_store_grant_get(conn, o->id, &cur, err);
    if (rc != 0)
        return rc < 0 ? -1 : sb_error_set(err, SB_DOMAIN_E_NOT_FOUND, "no grant with that id");
    sb_grant_row g;
    sb_rbac_store_grant_at(&cur, 0, &g);
    sb_scope scope = scope_of(g.scope_type, g.scope_id);
    sb_error why = {0};
    if (sb_rbac_can_revoke(o->who->rbac, &scope, &why) != 0) {
        sb_row_set_free(&cur);
        return sb_handler_op_hidden(err, "grant"); /* not one the caller may see */
    }
    json_t *d = json_pack("{s:s, s:s, s:s, s:s, s:s?}", "user_id", g.user_id, "role_id", g.role_id,
                          "role", g.role_name, "scope_type", g.scope_type, "scope_id", g.scope_id);
    sb_row_set_free(&cur);
    rc = sb_rbac_store_grant_delete(conn, o->id, err);
    if (rc != 0) {
        json_decref(d);
        return rc < 0 ? -1 : sb_error_set(err, SB_DOMAIN_E_NOT_FOUND, "no grant with that id");
    }
    return sb_handler_op_audit(conn, o, "grant.revoke", "grant", o->id, d, err);
}

static int grant_create(sb_server_request *req, void *ctx)
{
    sb_handler_op o;
    sb_handler_op_init(&o, req, ctx);
    if (sb_handler_read_body(req, grant_spec, 4, &o.body) != 0)
        return 0;
    o.kind = sb_handler_string(o.body, "scope_type");
    const char *scope_id = sb_handler_string(o.body, "scope_id");
    if (!sb_rows_uuid(sb_handler_string(o.body, "user_id"), o.id)) {
        sb_handler_invalid(req, "user_id must be a UUID");
        return 0;
    }
    if (!sb_rows_uuid(sb_handler_string(o.body, "role_id"), o.id2)) {
        sb_handler_invalid(req, "role_id must be a UUID");
        return 0;
    }
    if (strcmp(o.kind, "global") != 0 && strcmp(o.kind, "team") != 0 &&
        strcmp(o.kind, "project") != 0) {
        sb_handler_invalid(req, "scope_type must be \"global\", \"team\" or \"project\"");
        return 0;
    }
    if (strcmp(o.kind, "global") == 0 && scope_id != NULL) {
        sb_handler_invalid(req, "scope_id must be absent or null for a global grant");
        return 0;
    }
    if (strcmp(o.kind, "global") != 0 && !sb_rows_uuid(scope_id, o.ref)) {
        sb_handler_invalid(req, "scope_id must be the UUID of the %s", o.kind);
        return 0;
    }
    o.render = grant_json;
    o.ok_status = 201;
    return sb_handler_op_run(&o, grant_create_txn);
}

static int grant_revoke(sb_server_request *req, void *ctx)
{
    sb_handler_op o;
    sb_handler_op_init(&o, req, ctx);
    if (sb_handler_path_id(req, "id", o.id) != 0)
        return sb_handler_not_found(req, "grant");
    return sb_handler_op_run(&o, grant_revoke_txn);
}

typedef struct grant_query {
    const char *user_id; /* NULL: every user */
    bool global;
    sb_id_filter teams, projects;
} grant_query;

static int grant_filters(sb_handler_op *o, void *filter)
{
    grant_query *q = filter;
    sb_permission_set mask = SB_PERMISSION_BIT(SB_PERM_USER_ROLE_EDIT);
    sb_error err = {0};
    q->global = sb_rbac_allows_global(o->who->rbac, SB_PERM_USER_ROLE_EDIT);
    if (!q->global && (sb_handler_visible_filter(o->who, true, mask, &q->teams, &err) != 0 ||
                       sb_handler_visible_filter(o->who, false, mask, &q->projects, &err) != 0))
        return sb_api_respond_store_error(o->req, &err), -1;
    return 0;
}

/* The grants; a user with none is told apart from no such user (404). */
static int grant_rows(sb_db_conn *conn, sb_handler_op *o, void *filter, const sb_list_page *page,
                      sb_row_set *out, sb_error *err)
{
    (void)o;
    grant_query *q = filter;
    sb_grant_filter f = {q->user_id,       q->global, q->teams.ids, q->teams.n, q->projects.ids,
                         q->projects.n};
    int rc = sb_rbac_store_grant_list(conn, &f, page, out, err);
    if (rc == 0 && q->user_id && q->global && out->n == 0) {
        sb_row_set user;
        rc = sb_rbac_store_user_get(conn, q->user_id, &user, err);
        sb_row_set_free(&user);
    }
    return rc;
}

static void grant_release(void *filter)
{
    grant_query *q = filter;
    free((void *)q->teams.ids);
    free((void *)q->projects.ids);
}

/* Grants the caller may manage, optionally of one user (query checked). */
static int list_grants(sb_handler_op *o, const char *user_id)
{
    static const sb_handler_list spec = {.filters = grant_filters, .list = grant_rows,
                                         .release = grant_release, .render = grant_json,
                                         .noun = "user"};
    grant_query q = {.user_id = user_id};
    return sb_handler_list_run(o, &spec, &q);
}

static int grant_list(sb_server_request *req, void *ctx)
{
    sb_handler_op o;
    sb_handler_op_init(&o, req, ctx);
    static const char *const known[] = {"limit", "cursor", "user_id"};
    char user[37];
    const char *user_id;
    if (sb_handler_check_query(req, known, 3) != 0 ||
        sb_handler_query_uuid(req, "user_id", user, &user_id) != 0)
        return 0;
    return list_grants(&o, user_id);
}

static int user_grant_list(sb_server_request *req, void *ctx)
{
    sb_handler_op o;
    sb_handler_op_init(&o, req, ctx);
    static const char *const known[] = {"limit", "cursor"};
    if (sb_handler_path_id(req, "id", o.id) != 0)
        return sb_handler_not_found(req, "user");
    if (sb_handler_check_query(req, known, 2) != 0)
        return 0;
    return list_grants(&o, o.id);
}

/* ---- users ------------------------------------------------------------------ */

/* user.manage from a global grant, else 403 (audited). */
static int need_user_manage(sb_server_request *req, void *ctx)
{
    const sb_identity *who = sb_api_identity(req);
    if (sb_rbac_allows_global(who->rbac, SB_PERM_USER_MANAGE))
        return 0;
    json_t *d =
        json_pack("{s:s, s:s, s:s, s:s}", "method", sb_http_method(req), "route",
                  sb_http_route_pattern(req), "permission", "user.manage", "scope", "global");
    sb_api_audit_event ev = {"access.denied", sb_http_route_pattern(req), "denied", "warning", d};
    sb_api_audit_now(ctx, req, &ev);
    json_decref(d);
    sb_http_respond_error(req, 403, "forbidden",
                          "the user directory needs user.manage from a global grant");
    return -1;
}

static int user_rows(sb_db_conn *conn, sb_handler_op *o, void *filter, const sb_list_page *page,
                     sb_row_set *out, sb_error *err)
{
    (void)o, (void)filter;
    return sb_rbac_store_user_list(conn, page, out, err);
}

static int user_list(sb_server_request *req, void *ctx)
{
    static const sb_handler_list spec = {.query = page_only, .n_query = 2, .list = user_rows,
                                         .render = user_json};
    sb_handler_op o;
    if (need_user_manage(req, ctx) != 0)
        return 0;
    sb_handler_op_init(&o, req, ctx);
    return sb_handler_list_run(&o, &spec, NULL);
}

static int user_get_by_id(sb_db_conn *conn, const char *id, bool for_update, sb_row_set *out,
                          sb_error *err)
{
    (void)for_update;
    return sb_rbac_store_user_get(conn, id, out, err);
}

static int user_get(sb_server_request *req, void *ctx)
{
    sb_handler_op o;
    sb_handler_op_init(&o, req, ctx);
    if (need_user_manage(req, ctx) != 0)
        return 0;
    if (sb_handler_path_id(req, "id", o.id) != 0)
        return sb_handler_not_found(req, "user");
    return sb_handler_op_respond_one(&o, user_get_by_id, user_json, "user");
}

/* ---- the route table -------------------------------------------------------- */

int sb_api_rbac_routes(sb_router *r, sb_app *app, sb_error *err)
{
    const sb_route routes[] = {
        {"GET", "/api/v1/permissions", SB_AUTH_SESSION, NULL, permission_list, app,
         "listPermissions", "The permission catalog: keys, groups, descriptions, scope levels"},
        {"GET", "/api/v1/roles", SB_AUTH_SESSION, NULL, role_list, app, "listRoles",
         "List system and custom roles with their permissions"},
        {"POST", "/api/v1/roles", SB_AUTH_SESSION, "role.edit", role_create, app, "createRole",
         "Create a custom role (role.edit, global)"},
        {"GET", "/api/v1/roles/{id}", SB_AUTH_SESSION, NULL, role_get, app, "getRole",
         "Get a role"},
        {"PUT", "/api/v1/roles/{id}", SB_AUTH_SESSION, "role.edit", role_update, app, "updateRole",
         "Rename a custom role or change its description or permissions"},
        {"DELETE", "/api/v1/roles/{id}", SB_AUTH_SESSION, "role.edit", role_delete, app,
         "deleteRole", "Delete a custom role that is granted to nobody"},
        {"GET", "/api/v1/grants", SB_AUTH_SESSION, "user_role.edit", grant_list, app, "listGrants",
         "List the grants you may manage (filter user_id; cursor pagination)"},
        {"POST", "/api/v1/grants", SB_AUTH_SESSION, "user_role.edit", grant_create, app,
         "createGrant", "Grant a role to a user globally, on a team subtree or on a project"},
        {"DELETE", "/api/v1/grants/{id}", SB_AUTH_SESSION, "user_role.edit", grant_revoke, app,
         "revokeGrant", "Revoke a grant"},
        {"GET", "/api/v1/users", SB_AUTH_SESSION, "user.manage", user_list, app, "listUsers",
         "List users (user.manage, global; never credentials)"},
        {"GET", "/api/v1/users/{id}", SB_AUTH_SESSION, "user.manage", user_get, app, "getUser",
         "Get a user"},
        {"GET", "/api/v1/users/{id}/grants", SB_AUTH_SESSION, "user_role.edit", user_grant_list,
         app, "listUserGrants", "List a user's grants that you may manage"},
    };
    return sb_router_add_all(r, routes, sizeof routes / sizeof routes[0], err);
}
