/*
 * api/tenancy_routes.c — sb_api_tenancy_routes: teams (a tree) and their
 * members here; projects and environments in api/tenancy_projects.c; the
 * shared input, visibility and write machinery in api/handler_kit.h.
 *
 * Contract:
 *   - Every decision is domain/scope.h on the caller's grants
 *     (identity->rbac). A route row names the permission the gate checks
 *     ("held somewhere"); the handler checks it at the exact target:
 *       rename, describe, archive, members   team.edit on the team;
 *       create, delete, move                 team.edit on the parent (old
 *                                            and new when moving), a root
 *                                            team's parent being "global".
 *     Where a team sits in the tree is decided by whoever controls the
 *     parent: a team admin can reshape their subtree but cannot lift a team
 *     out of it, nor delete the team their own grant hangs on.
 *   - Visibility (handler_kit.h): out-of-scope detail reads and writes
 *     answer 404 not_found exactly as for a missing row; lists hold only
 *     visible rows; a body reference to an invisible team reads "no team".
 *   - Tree changes are serialised (sb_tenancy_store_lock_tree) and checked
 *     on the fresh tree by domain/team_tree (cycle: 409 team_cycle, depth:
 *     409 team_too_deep); the database's cycle trigger is the backstop.
 *     Deleting needs no child teams and no projects (409 team_not_empty);
 *     archiving is the reversible alternative. Creating under an archived
 *     team is 409 archived.
 *   - One audit event per change: team.create, team.update, team.move (a
 *     PUT that moves; it may also rename), team.archive, team.unarchive,
 *     team.delete, team.member.add, team.member.remove. A PUT that changes
 *     nothing writes nothing.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/handler_kit.h"
#include "domain/domain_error.h"
#include "domain/team_tree.h"
#include "store/rbac_snapshot.h"

static const sb_field_spec status_spec[] = {{"status", SB_FIELD_STRING, 1}};

/* ---- rendering -------------------------------------------------------------- */

static json_t *team_json(const sb_row_set *rows, size_t i)
{
    sb_team_row t;
    sb_tenancy_store_team_at(rows, i, &t);
    return json_pack("{s:s, s:s, s:s, s:s?, s:s, s:s, s:s}", "id", t.id, "name", t.name,
                     "description", t.description, "parent_id", t.parent_id, "status", t.status,
                     "created_at", t.created_at, "updated_at", t.updated_at);
}

static json_t *member_json(const sb_row_set *rows, size_t i)
{
    sb_member_row m;
    sb_tenancy_store_member_at(rows, i, &m);
    return json_pack("{s:s, s:s, s:s, s:s}", "user_id", m.user_id, "username", m.username,
                     "display_name", m.display_name, "added_at", m.added_at);
}

/* The fresh tree (under the tree lock) checked by domain/team_tree. */
static int check_tree(sb_db_conn *conn, const char *team, const char *new_parent, sb_error *err)
{
    sb_tenancy *t = NULL;
    if (sb_store_tenancy_load(conn, &t, NULL, err) != 0)
        return -1;
    const sb_team_tree *tree = sb_tenancy_teams(t);
    int rc = team ? sb_team_tree_check_reparent(tree, team, new_parent, err)
                  : sb_team_tree_check_create(tree, new_parent, err);
    sb_tenancy_free(t);
    return rc;
}

/* ---- teams ------------------------------------------------------------------ */

static const sb_field_spec team_spec[] = {{"name", SB_FIELD_STRING, 1},
                                          {"description", SB_FIELD_STRING, 0},
                                          {"parent_id", SB_FIELD_STRING_OR_NULL, 0}};
static const sb_field_spec team_update_spec[] = {{"name", SB_FIELD_STRING, 0},
                                                 {"description", SB_FIELD_STRING, 0},
                                                 {"parent_id", SB_FIELD_STRING_OR_NULL, 0}};

static int team_fields(sb_handler_op *o)
{
    o->name = sb_handler_string(o->body, "name");
    o->description = sb_handler_string(o->body, "description");
    if (o->name &&
        !sb_handler_name_ok(o->name, 100, SB_CHARS_UPPER SB_CHARS_LOWER SB_CHARS_DIGIT,
                                SB_CHARS_UPPER SB_CHARS_LOWER SB_CHARS_DIGIT " ._-"))
        return sb_handler_invalid(
            o->req,
            "%s must be 1-100 characters of letters, digits, space, '.', '_' or '-', "
            "starting with a letter or digit",
            "name");
    if (sb_handler_check_description(o->req, o->description) != 0)
        return -1;
    return sb_handler_op_body_ref(o, "parent_id", o->ref, &o->has_ref);
}

static int team_create_txn(sb_db_conn *conn, sb_handler_op *o, sb_error *err)
{
    const char *parent = o->ref[0] ? o->ref : NULL;
    if (sb_tenancy_store_lock_tree(conn, err) != 0 ||
        (parent && sb_handler_op_lock_ref_team(conn, o, parent, "parent_id", err) != 0) ||
        sb_handler_op_need_team(o, SB_PERM_TEAM_EDIT, parent,
                                parent ? "creating a team under another" : "creating a root team",
                                err) != 0 ||
        check_tree(conn, NULL, parent, err) != 0 ||
        sb_tenancy_store_team_create(conn, o->name, o->description, parent, &o->rows, err) != 0)
        return -1;
    sb_team_row t;
    sb_tenancy_store_team_at(&o->rows, 0, &t);
    o->tenancy_changed = true;
    return sb_handler_op_audit(conn, o, "team.create", "team", t.id,
                               json_pack("{s:s, s:s?}", "name", t.name, "parent_id", t.parent_id),
                               err);
}

static int team_update_txn(sb_db_conn *conn, sb_handler_op *o, sb_error *err)
{
    if (!sb_handler_team_visible(o->who, o->id))
        return sb_handler_op_hidden(err, "team");
    if (o->has_ref && sb_tenancy_store_lock_tree(conn, err) != 0)
        return -1;
    sb_row_set cur;
    if (sb_handler_op_lock_row(conn, sb_tenancy_store_team_get, o->id, "team", &cur, err) != 0)
        return -1;
    sb_team_row t;
    sb_tenancy_store_team_at(&cur, 0, &t);
    char old_parent[37];
    snprintf(old_parent, sizeof old_parent, "%s", t.parent_id ? t.parent_id : "");
    sb_row_set_free(&cur);
    const char *new_parent = o->ref[0] ? o->ref : NULL;
    bool moving = o->has_ref && strcmp(old_parent, o->ref) != 0;
    if (sb_handler_op_need_team(o, SB_PERM_TEAM_EDIT, o->id, "changing a team", err) != 0)
        return -1;
    if (moving) {
        if ((new_parent &&
             sb_handler_op_lock_ref_team(conn, o, new_parent, "parent_id", err) != 0) ||
            sb_handler_op_need_team(o, SB_PERM_TEAM_EDIT, old_parent[0] ? old_parent : NULL,
                                    "moving a team away from its current parent", err) != 0 ||
            sb_handler_op_need_team(o, SB_PERM_TEAM_EDIT, new_parent,
                                    "moving a team under a new parent", err) != 0 ||
            check_tree(conn, o->id, new_parent, err) != 0 ||
            sb_tenancy_store_team_move(conn, o->id, new_parent, NULL, err) < 0)
            return -1;
        o->tenancy_changed = true;
    }
    int rc = o->name || o->description
                 ? sb_tenancy_store_team_update(conn, o->id, o->name, o->description, &o->rows, err)
                 : sb_tenancy_store_team_get(conn, o->id, false, &o->rows, err);
    if (rc != 0)
        return -1;
    if (!moving && !o->name && !o->description)
        return 0; /* nothing changed: nothing to audit */
    json_t *d = json_pack("{s:o}", "fields", sb_handler_op_changed_fields(o));
    if (moving) {
        json_object_set_new(d, "from_parent_id",
                            old_parent[0] ? json_string(old_parent) : json_null());
        json_object_set_new(d, "to_parent_id", new_parent ? json_string(new_parent) : json_null());
    }
    return sb_handler_op_audit(conn, o, moving ? "team.move" : "team.update", "team", o->id, d,
                               err);
}

static int team_status_txn(sb_db_conn *conn, sb_handler_op *o, sb_error *err)
{
    if (!sb_handler_team_visible(o->who, o->id))
        return sb_handler_op_hidden(err, "team");
    if (sb_handler_op_need_team(o, SB_PERM_TEAM_EDIT, o->id, "archiving a team", err) != 0 ||
        sb_handler_op_lock_row(conn, sb_tenancy_store_team_get, o->id, "team", &o->rows, err) != 0)
        return -1;
    sb_team_row t;
    sb_tenancy_store_team_at(&o->rows, 0, &t);
    if (strcmp(t.status, o->status) == 0)
        return 0; /* already so */
    sb_row_set_free(&o->rows);
    if (sb_tenancy_store_team_set_status(conn, o->id, o->status, &o->rows, err) != 0)
        return -1;
    bool archive = strcmp(o->status, "archived") == 0;
    return sb_handler_op_audit(conn, o, archive ? "team.archive" : "team.unarchive", "team", o->id,
                               json_pack("{s:s}", "status", o->status), err);
}

static int team_delete_txn(sb_db_conn *conn, sb_handler_op *o, sb_error *err)
{
    if (!sb_handler_team_visible(o->who, o->id))
        return sb_handler_op_hidden(err, "team");
    sb_row_set cur;
    if (sb_tenancy_store_lock_tree(conn, err) != 0 ||
        sb_handler_op_lock_row(conn, sb_tenancy_store_team_get, o->id, "team", &cur, err) != 0)
        return -1;
    sb_team_row t;
    sb_tenancy_store_team_at(&cur, 0, &t);
    json_t *d = json_pack("{s:s, s:s?}", "name", t.name, "parent_id", t.parent_id);
    int rc = sb_handler_op_need_team(o, SB_PERM_TEAM_EDIT, t.parent_id, "deleting a team", err);
    sb_row_set_free(&cur);
    if (rc != 0 || sb_tenancy_store_team_delete(conn, o->id, err) != 0) {
        json_decref(d);
        return -1;
    }
    o->tenancy_changed = true;
    return sb_handler_op_audit(conn, o, "team.delete", "team", o->id, d, err);
}

static int team_create(sb_server_request *req, void *ctx)
{
    sb_handler_op o;
    sb_handler_op_init(&o, req, ctx);
    if (sb_handler_read_body(req, team_spec, 3, &o.body) != 0 || team_fields(&o) != 0)
        return 0;
    o.render = team_json;
    o.ok_status = 201;
    return sb_handler_op_run(&o, team_create_txn);
}

static int team_update(sb_server_request *req, void *ctx)
{
    sb_handler_op o;
    sb_handler_op_init(&o, req, ctx);
    if (sb_handler_path_id(req, "id", o.id) != 0)
        return sb_handler_not_found(req, "team");
    if (sb_handler_read_body(req, team_update_spec, 3, &o.body) != 0 || team_fields(&o) != 0)
        return 0;
    if (!o.name && !o.description && !o.has_ref) {
        sb_handler_op_nothing_given(&o, "name, description, parent_id");
        return 0;
    }
    o.render = team_json;
    return sb_handler_op_run(&o, team_update_txn);
}

static int team_status(sb_server_request *req, void *ctx)
{
    sb_handler_op o;
    sb_handler_op_init(&o, req, ctx);
    if (sb_handler_path_id(req, "id", o.id) != 0)
        return sb_handler_not_found(req, "team");
    if (sb_handler_read_body(req, status_spec, 1, &o.body) != 0 ||
        sb_handler_op_status_field(&o) != 0)
        return 0;
    o.render = team_json;
    return sb_handler_op_run(&o, team_status_txn);
}

static int team_delete(sb_server_request *req, void *ctx)
{
    sb_handler_op o;
    sb_handler_op_init(&o, req, ctx);
    if (sb_handler_path_id(req, "id", o.id) != 0)
        return sb_handler_not_found(req, "team");
    return sb_handler_op_run(&o, team_delete_txn);
}

static int team_get(sb_server_request *req, void *ctx)
{
    sb_handler_op o;
    sb_handler_op_init(&o, req, ctx);
    if (sb_handler_path_id(req, "id", o.id) != 0 || !sb_handler_team_visible(o.who, o.id))
        return sb_handler_not_found(req, "team");
    return sb_handler_op_respond_one(&o, sb_tenancy_store_team_get, team_json, "team");
}

typedef struct team_query {
    sb_team_filter f;
    char parent[37];
} team_query;

static int team_filters(sb_handler_op *o, void *filter)
{
    team_query *q = filter;
    return sb_handler_query_status(o->req, &q->f.status) != 0 ||
                   sb_handler_query_uuid(o->req, "parent_id", q->parent, &q->f.parent_id) != 0
               ? -1
               : 0;
}

static int team_rows(sb_db_conn *conn, sb_handler_op *o, void *filter, const sb_list_page *page,
                     sb_row_set *out, sb_error *err)
{
    team_query *q = filter;
    q->f.visible = o->visible;
    return sb_tenancy_store_team_list(conn, &q->f, page, out, err);
}

static int team_list(sb_server_request *req, void *ctx)
{
    static const char *const known[] = {"limit", "cursor", "status", "parent_id"};
    static const sb_handler_list spec = {
        .query = known, .n_query = 4, .visible = SB_HANDLER_SEE_TEAMS, .filters = team_filters,
        .list = team_rows, .render = team_json, .noun = "team"};
    sb_handler_op o;
    team_query q = {0};
    sb_handler_op_init(&o, req, ctx);
    return sb_handler_list_run(&o, &spec, &q);
}

/* ---- members ---------------------------------------------------------------- */

static const sb_field_spec member_spec[] = {{"user_id", SB_FIELD_STRING, 1}};

static int member_add_txn(sb_db_conn *conn, sb_handler_op *o, sb_error *err)
{
    sb_row_set team;
    if (!sb_handler_team_visible(o->who, o->id))
        return sb_handler_op_hidden(err, "team");
    if (sb_handler_op_need_team(o, SB_PERM_TEAM_EDIT, o->id, "adding a team member", err) != 0 ||
        sb_handler_op_lock_row(conn, sb_tenancy_store_team_get, o->id, "team", &team, err) != 0)
        return -1;
    sb_row_set_free(&team);
    if (sb_tenancy_store_member_add(conn, o->id, o->id2, &o->rows, err) != 0)
        return -1;
    return sb_handler_op_audit(conn, o, "team.member.add", "team", o->id,
                               json_pack("{s:s}", "user_id", o->id2), err);
}

static int member_remove_txn(sb_db_conn *conn, sb_handler_op *o, sb_error *err)
{
    sb_row_set team;
    if (!sb_handler_team_visible(o->who, o->id))
        return sb_handler_op_hidden(err, "team");
    if (sb_handler_op_need_team(o, SB_PERM_TEAM_EDIT, o->id, "removing a team member", err) != 0 ||
        sb_handler_op_lock_row(conn, sb_tenancy_store_team_get, o->id, "team", &team, err) != 0)
        return -1;
    sb_row_set_free(&team);
    int rc = sb_tenancy_store_member_remove(conn, o->id, o->id2, err);
    if (rc == 1)
        return sb_error_set(err, SB_DOMAIN_E_NOT_FOUND, "user %s is not a member of this team",
                            o->id2);
    if (rc != 0)
        return -1;
    return sb_handler_op_audit(conn, o, "team.member.remove", "team", o->id,
                               json_pack("{s:s}", "user_id", o->id2), err);
}

static int member_add(sb_server_request *req, void *ctx)
{
    sb_handler_op o;
    sb_handler_op_init(&o, req, ctx);
    if (sb_handler_path_id(req, "id", o.id) != 0)
        return sb_handler_not_found(req, "team");
    if (sb_handler_read_body(req, member_spec, 1, &o.body) != 0)
        return 0;
    if (!sb_rows_uuid(sb_handler_string(o.body, "user_id"), o.id2)) {
        sb_handler_invalid(req, "%s must be a UUID", "user_id");
        return 0;
    }
    o.render = member_json;
    o.ok_status = 201;
    return sb_handler_op_run(&o, member_add_txn);
}

static int member_remove(sb_server_request *req, void *ctx)
{
    sb_handler_op o;
    sb_handler_op_init(&o, req, ctx);
    if (sb_handler_path_id(req, "id", o.id) != 0)
        return sb_handler_not_found(req, "team");
    if (sb_handler_path_id(req, "user_id", o.id2) != 0)
        return sb_http_respond_error(req, 404, "not_found", "no member with that id");
    return sb_handler_op_run(&o, member_remove_txn);
}

static int member_list(sb_server_request *req, void *ctx)
{
    static const sb_handler_children members = {"team", sb_handler_team_visible, sb_tenancy_store_team_get,
                                                sb_tenancy_store_member_list, member_json};
    return sb_handler_list_children(req, ctx, &members);
}

/* ---- the route table ---------------------------------------------------------- */

int sb_api_tenancy_routes(sb_router *r, sb_app *app, sb_error *err)
{
#define T "/api/v1/teams"
    const sb_route routes[] = {
        {"GET", T, SB_AUTH_SESSION, NULL, team_list, app, "listTeams",
         "List the teams you can see (cursor pagination; filters status, parent_id)"},
        {"POST", T, SB_AUTH_SESSION, "team.edit", team_create, app, "createTeam",
         "Create a team (team.edit on the parent; a root team needs a global grant)"},
        {"GET", T "/{id}", SB_AUTH_SESSION, NULL, team_get, app, "getTeam", "Get a team"},
        {"PUT", T "/{id}", SB_AUTH_SESSION, "team.edit", team_update, app, "updateTeam",
         "Rename, describe or move (parent_id) a team"},
        {"DELETE", T "/{id}", SB_AUTH_SESSION, "team.edit", team_delete, app, "deleteTeam",
         "Delete a team that has no child teams and no projects"},
        {"PUT", T "/{id}/status", SB_AUTH_SESSION, "team.edit", team_status, app, "setTeamStatus",
         "Archive or unarchive a team"},
        {"GET", T "/{id}/members", SB_AUTH_SESSION, NULL, member_list, app, "listTeamMembers",
         "List a team's members"},
        {"POST", T "/{id}/members", SB_AUTH_SESSION, "team.edit", member_add, app, "addTeamMember",
         "Add a user to a team (membership grants no permission)"},
        {"DELETE", T "/{id}/members/{user_id}", SB_AUTH_SESSION, "team.edit", member_remove, app,
         "removeTeamMember", "Remove a user from a team"},
    };
#undef T
    if (sb_router_add_all(r, routes, sizeof routes / sizeof routes[0], err) != 0)
        return -1;
    return sb_tenancy_project_routes(r, app, err);
}
