/*
 * api/tenancy_projects.c — the project and environment routes of
 * sb_api_tenancy_routes (registered through sb_tenancy_project_routes).
 * The rules — scope, visibility, one transaction and one audit event per
 * write — are those of api/tenancy_routes.c and api/handler_kit.h:
 *   project writes   project.edit on the project (reached by grants on its
 *                    owning team's subtree); creating: project.edit on the
 *                    owning team; moving: on the project and the new team;
 *   environments     environment.edit on the project; kind (non_prod|prod)
 *                    and name never change (422 immutable_field; the
 *                    database refuses it too); risk_level 0..4, defaulting
 *                    to 4 for prod and 1 for non_prod.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/handler_kit.h"
#include "domain/domain_error.h"

static const sb_field_spec status_spec[] = {{"status", SB_FIELD_STRING, 1}};

/* ---- rendering -------------------------------------------------------------- */

static json_t *project_json(const sb_row_set *rows, size_t i)
{
    sb_project_row p;
    sb_tenancy_store_project_at(rows, i, &p);
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "id", p.id, "name", p.name,
                     "description", p.description, "team_id", p.team_id, "status", p.status,
                     "created_at", p.created_at, "updated_at", p.updated_at);
}

static json_t *environment_json(const sb_row_set *rows, size_t i)
{
    sb_environment_row e;
    sb_tenancy_store_environment_at(rows, i, &e);
    return json_pack("{s:s, s:s, s:s, s:s, s:i, s:s, s:s, s:s}", "id", e.id, "project_id",
                     e.project_id, "name", e.name, "kind", e.kind, "risk_level", e.risk_level,
                     "description", e.description, "created_at", e.created_at, "updated_at",
                     e.updated_at);
}

/* ---- projects --------------------------------------------------------------- */

static const sb_field_spec project_spec[] = {{"name", SB_FIELD_STRING, 1},
                                             {"description", SB_FIELD_STRING, 0},
                                             {"team_id", SB_FIELD_STRING, 1}};
static const sb_field_spec project_update_spec[] = {{"description", SB_FIELD_STRING, 0},
                                                    {"team_id", SB_FIELD_STRING, 0}};

static int slug_ok(sb_handler_op *o, const char *what)
{
    if (o->name && !sb_handler_name_ok(o->name, 63, SB_CHARS_LOWER SB_CHARS_DIGIT,
                                           SB_CHARS_LOWER SB_CHARS_DIGIT "-"))
        return sb_handler_invalid(
            o->req,
            "%s must be 1-63 characters of lowercase letters, digits and '-', starting "
            "with a letter or digit",
            what);
    return 0;
}

static int project_fields(sb_handler_op *o)
{
    o->name = sb_handler_string(o->body, "name");
    o->description = sb_handler_string(o->body, "description");
    if (slug_ok(o, "name") != 0 || sb_handler_check_description(o->req, o->description) != 0)
        return -1;
    return sb_handler_op_body_ref(o, "team_id", o->ref, &o->has_ref);
}

static int project_create_txn(sb_db_conn *conn, sb_handler_op *o, sb_error *err)
{
    if (sb_handler_op_lock_ref_team(conn, o, o->ref, "team_id", err) != 0 ||
        sb_handler_op_need_team(o, SB_PERM_PROJECT_EDIT, o->ref, "creating a project", err) != 0 ||
        sb_tenancy_store_project_create(conn, o->name, o->description, o->ref, &o->rows, err) != 0)
        return -1;
    sb_project_row p;
    sb_tenancy_store_project_at(&o->rows, 0, &p);
    o->tenancy_changed = true;
    return sb_handler_op_audit(conn, o, "project.create", "project", p.id,
                               json_pack("{s:s, s:s}", "name", p.name, "team_id", p.team_id), err);
}

static int project_update_txn(sb_db_conn *conn, sb_handler_op *o, sb_error *err)
{
    if (!sb_handler_project_visible(o->who, o->id))
        return sb_handler_op_hidden(err, "project");
    sb_row_set cur;
    if (sb_handler_op_lock_row(conn, sb_tenancy_store_project_get, o->id, "project", &cur, err) !=
        0)
        return -1;
    sb_project_row p;
    sb_tenancy_store_project_at(&cur, 0, &p);
    char old_team[37];
    snprintf(old_team, sizeof old_team, "%s", p.team_id);
    sb_row_set_free(&cur);
    bool moving = o->has_ref && strcmp(old_team, o->ref) != 0;
    if (sb_handler_op_need_project(o, SB_PERM_PROJECT_EDIT, o->id, "changing a project", err) !=
            0 ||
        (moving && (sb_handler_op_lock_ref_team(conn, o, o->ref, "team_id", err) != 0 ||
                    sb_handler_op_need_team(o, SB_PERM_PROJECT_EDIT, o->ref,
                                            "moving a project to a team", err) != 0)) ||
        (moving || o->description
             ? sb_tenancy_store_project_update(conn, o->id, o->description, moving ? o->ref : NULL,
                                               &o->rows, err)
             : sb_tenancy_store_project_get(conn, o->id, false, &o->rows, err)) != 0)
        return -1;
    if (!moving && !o->description)
        return 0; /* nothing changed: nothing to audit */
    json_t *d = json_pack("{s:o}", "fields", sb_handler_op_changed_fields(o));
    if (moving) {
        json_object_set_new(d, "from_team_id", json_string(old_team));
        json_object_set_new(d, "to_team_id", json_string(o->ref));
        o->tenancy_changed = true;
    }
    return sb_handler_op_audit(conn, o, moving ? "project.move" : "project.update", "project",
                               o->id, d, err);
}

static int project_status_txn(sb_db_conn *conn, sb_handler_op *o, sb_error *err)
{
    if (!sb_handler_project_visible(o->who, o->id))
        return sb_handler_op_hidden(err, "project");
    if (sb_handler_op_need_project(o, SB_PERM_PROJECT_EDIT, o->id, "archiving a project", err) !=
            0 ||
        sb_handler_op_lock_row(conn, sb_tenancy_store_project_get, o->id, "project", &o->rows,
                               err) != 0)
        return -1;
    sb_project_row p;
    sb_tenancy_store_project_at(&o->rows, 0, &p);
    if (strcmp(p.status, o->status) == 0)
        return 0;
    sb_row_set_free(&o->rows);
    if (sb_tenancy_store_project_set_status(conn, o->id, o->status, &o->rows, err) != 0)
        return -1;
    bool archive = strcmp(o->status, "archived") == 0;
    return sb_handler_op_audit(conn, o, archive ? "project.archive" : "project.unarchive",
                               "project", o->id, json_pack("{s:s}", "status", o->status), err);
}

static int project_create(sb_server_request *req, void *ctx)
{
    sb_handler_op o;
    sb_handler_op_init(&o, req, ctx);
    if (sb_handler_read_body(req, project_spec, 3, &o.body) != 0 || project_fields(&o) != 0)
        return 0;
    o.render = project_json;
    o.ok_status = 201;
    return sb_handler_op_run(&o, project_create_txn);
}

static int project_update(sb_server_request *req, void *ctx)
{
    sb_handler_op o;
    sb_handler_op_init(&o, req, ctx);
    if (sb_handler_path_id(req, "id", o.id) != 0)
        return sb_handler_not_found(req, "project");
    if (sb_handler_read_body(req, project_update_spec, 2, &o.body) != 0 ||
        project_fields(&o) != 0)
        return 0;
    if (!o.description && !o.has_ref) {
        sb_handler_op_nothing_given(&o, "description, team_id");
        return 0;
    }
    o.render = project_json;
    return sb_handler_op_run(&o, project_update_txn);
}

static int project_status(sb_server_request *req, void *ctx)
{
    sb_handler_op o;
    sb_handler_op_init(&o, req, ctx);
    if (sb_handler_path_id(req, "id", o.id) != 0)
        return sb_handler_not_found(req, "project");
    if (sb_handler_read_body(req, status_spec, 1, &o.body) != 0 ||
        sb_handler_op_status_field(&o) != 0)
        return 0;
    o.render = project_json;
    return sb_handler_op_run(&o, project_status_txn);
}

static int project_get(sb_server_request *req, void *ctx)
{
    sb_handler_op o;
    sb_handler_op_init(&o, req, ctx);
    if (sb_handler_path_id(req, "id", o.id) != 0 ||
        !sb_handler_project_visible(o.who, o.id))
        return sb_handler_not_found(req, "project");
    return sb_handler_op_respond_one(&o, sb_tenancy_store_project_get, project_json, "project");
}

typedef struct project_query {
    sb_project_filter f;
    char team[37];
} project_query;

static int project_filters(sb_handler_op *o, void *filter)
{
    project_query *q = filter;
    return sb_handler_query_status(o->req, &q->f.status) != 0 ||
                   sb_handler_query_uuid(o->req, "team_id", q->team, &q->f.team_id) != 0
               ? -1
               : 0;
}

static int project_rows(sb_db_conn *conn, sb_handler_op *o, void *filter,
                        const sb_list_page *page, sb_row_set *out, sb_error *err)
{
    project_query *q = filter;
    q->f.visible = o->visible;
    return sb_tenancy_store_project_list(conn, &q->f, page, out, err);
}

static int project_list(sb_server_request *req, void *ctx)
{
    static const char *const known[] = {"limit", "cursor", "status", "team_id"};
    static const sb_handler_list spec = {
        .query = known, .n_query = 4, .visible = SB_HANDLER_SEE_PROJECTS,
        .filters = project_filters, .list = project_rows, .render = project_json,
        .noun = "project"};
    sb_handler_op o;
    project_query q = {0};
    sb_handler_op_init(&o, req, ctx);
    return sb_handler_list_run(&o, &spec, &q);
}

/* ---- environments ----------------------------------------------------------- */

static const sb_field_spec env_spec[] = {{"project_id", SB_FIELD_STRING, 1},
                                         {"name", SB_FIELD_STRING, 1},
                                         {"kind", SB_FIELD_STRING, 1},
                                         {"risk_level", SB_FIELD_INTEGER, 0},
                                         {"description", SB_FIELD_STRING, 0}};
/* kind, name and project_id are accepted only to be refused by name. */
static const sb_field_spec env_update_spec[] = {{"description", SB_FIELD_STRING, 0},
                                                {"risk_level", SB_FIELD_INTEGER, 0},
                                                {"kind", SB_FIELD_STRING, 0},
                                                {"name", SB_FIELD_STRING, 0},
                                                {"project_id", SB_FIELD_STRING, 0}};

static int env_fields(sb_handler_op *o)
{
    o->name = sb_handler_string(o->body, "name");
    o->kind = sb_handler_string(o->body, "kind");
    o->description = sb_handler_string(o->body, "description");
    json_t *risk = json_object_get(o->body, "risk_level");
    if (slug_ok(o, "name") != 0 || sb_handler_check_description(o->req, o->description) != 0)
        return -1;
    if (o->kind && strcmp(o->kind, "prod") != 0 && strcmp(o->kind, "non_prod") != 0)
        return sb_handler_invalid(o->req, "%s must be \"non_prod\" or \"prod\"", "kind");
    if (risk) {
        json_int_t r = json_integer_value(risk);
        if (r < 0 || r > 4)
            return sb_handler_invalid(o->req, "%s must be an integer from 0 to 4",
                                          "risk_level");
        o->risk_level = (int)r;
    }
    return 0;
}

static int env_create_txn(sb_db_conn *conn, sb_handler_op *o, sb_error *err)
{
    sb_row_set proj;
    int rc = sb_handler_project_visible(o->who, o->ref)
                 ? sb_tenancy_store_project_get(conn, o->ref, true, &proj, err)
                 : 1;
    if (rc == 1)
        return sb_error_set(err, SB_TENANCY_E_UNKNOWN_REF, "project_id: no project with id %s",
                            o->ref);
    if (rc < 0)
        return -1;
    sb_project_row p;
    sb_tenancy_store_project_at(&proj, 0, &p);
    bool archived = strcmp(p.status, "archived") == 0;
    sb_row_set_free(&proj);
    if (sb_handler_op_need_project(o, SB_PERM_ENVIRONMENT_EDIT, o->ref, "creating an environment",
                                   err) != 0)
        return -1;
    if (archived)
        return sb_error_set(err, SB_HANDLER_E_ARCHIVED,
                            "project %s is archived; unarchive it first", o->ref);
    if (o->risk_level < 0)
        o->risk_level = strcmp(o->kind, "prod") == 0 ? 4 : 1;
    if (sb_tenancy_store_environment_create(conn, o->ref, o->name, o->kind, o->risk_level,
                                            o->description, &o->rows, err) != 0)
        return -1;
    sb_environment_row e;
    sb_tenancy_store_environment_at(&o->rows, 0, &e);
    return sb_handler_op_audit(conn, o, "environment.create", "environment", e.id,
                               json_pack("{s:s, s:s, s:s, s:i}", "project_id", e.project_id, "name",
                                         e.name, "kind", e.kind, "risk_level", e.risk_level),
                               err);
}

static int env_update_txn(sb_db_conn *conn, sb_handler_op *o, sb_error *err)
{
    sb_row_set cur;
    if (sb_handler_op_lock_row(conn, sb_tenancy_store_environment_get, o->id, "environment", &cur,
                               err) != 0)
        return -1;
    sb_environment_row e;
    sb_tenancy_store_environment_at(&cur, 0, &e);
    char project[37];
    snprintf(project, sizeof project, "%s", e.project_id);
    int old_risk = e.risk_level;
    sb_row_set_free(&cur);
    if (!sb_handler_project_visible(o->who, project))
        return sb_handler_op_hidden(err, "environment");
    if (sb_handler_op_need_project(o, SB_PERM_ENVIRONMENT_EDIT, project, "changing an environment",
                                   err) != 0 ||
        sb_tenancy_store_environment_update(conn, o->id, o->description, o->risk_level, &o->rows,
                                            err) != 0)
        return -1;
    json_t *d =
        json_pack("{s:o, s:s}", "fields", sb_handler_op_changed_fields(o), "project_id", project);
    if (o->risk_level >= 0)
        json_object_set_new(d, "risk_level",
                            json_pack("{s:i, s:i}", "from", old_risk, "to", o->risk_level));
    return sb_handler_op_audit(conn, o, "environment.update", "environment", o->id, d, err);
}

static int env_create(sb_server_request *req, void *ctx)
{
    sb_handler_op o;
    sb_handler_op_init(&o, req, ctx);
    if (sb_handler_read_body(req, env_spec, 5, &o.body) != 0 || env_fields(&o) != 0)
        return 0;
    if (!sb_rows_uuid(sb_handler_string(o.body, "project_id"), o.ref)) {
        sb_handler_invalid(req, "%s must be a UUID", "project_id");
        return 0;
    }
    o.render = environment_json;
    o.ok_status = 201;
    return sb_handler_op_run(&o, env_create_txn);
}

static int env_update(sb_server_request *req, void *ctx)
{
    sb_handler_op o;
    sb_handler_op_init(&o, req, ctx);
    if (sb_handler_path_id(req, "id", o.id) != 0)
        return sb_handler_not_found(req, "environment");
    if (sb_handler_read_body(req, env_update_spec, 5, &o.body) != 0)
        return 0;
    static const char *const fixed[] = {"kind", "name", "project_id"};
    for (size_t i = 0; i < 3; i++)
        if (json_object_get(o.body, fixed[i]))
            return sb_http_respond_error(req, 422, "immutable_field",
                                         "%s cannot change once an environment exists (the "
                                         "production boundary hangs on it); create a new "
                                         "environment instead",
                                         fixed[i]);
    if (env_fields(&o) != 0)
        return 0;
    if (!o.description && o.risk_level < 0) {
        sb_handler_op_nothing_given(&o, "description, risk_level");
        return 0;
    }
    o.render = environment_json;
    return sb_handler_op_run(&o, env_update_txn);
}

static int env_get(sb_server_request *req, void *ctx)
{
    sb_handler_op o;
    sb_handler_op_init(&o, req, ctx);
    if (sb_handler_path_id(req, "id", o.id) != 0)
        return sb_handler_not_found(req, "environment");
    sb_db_conn *conn;
    if (sb_handler_op_acquire(&o, &conn) != 0)
        return 0;
    sb_error err = {0};
    int rc = sb_tenancy_store_environment_get(conn, o.id, false, &o.rows, &err);
    sb_db_release(o.app->db, conn);
    if (rc < 0)
        return sb_api_respond_store_error(req, &err);
    if (rc == 1)
        return sb_handler_not_found(req, "environment");
    sb_environment_row e;
    sb_tenancy_store_environment_at(&o.rows, 0, &e);
    if (!sb_handler_project_visible(o.who, e.project_id)) {
        sb_row_set_free(&o.rows);
        return sb_handler_not_found(req, "environment");
    }
    json_t *out = environment_json(&o.rows, 0);
    sb_row_set_free(&o.rows);
    return sb_http_respond_json(req, 200, out);
}

static int env_list(sb_server_request *req, void *ctx)
{
    static const sb_handler_children environments = {"project", sb_handler_project_visible,
                                                     sb_tenancy_store_project_get,
                                                     sb_tenancy_store_environment_list, environment_json};
    return sb_handler_list_children(req, ctx, &environments);
}

/* ---- the route table ---------------------------------------------------------- */

int sb_tenancy_project_routes(sb_router *r, sb_app *app, sb_error *err)
{
#define P "/api/v1/projects"
#define E "/api/v1/environments"
    const sb_route routes[] = {
        {"GET", P, SB_AUTH_SESSION, NULL, project_list, app, "listProjects",
         "List the projects you can see (cursor pagination; filters status, team_id)"},
        {"POST", P, SB_AUTH_SESSION, "project.edit", project_create, app, "createProject",
         "Create a project owned by a team"},
        {"GET", P "/{id}", SB_AUTH_SESSION, NULL, project_get, app, "getProject", "Get a project"},
        {"PUT", P "/{id}", SB_AUTH_SESSION, "project.edit", project_update, app, "updateProject",
         "Change a project's description or move it to another team"},
        {"PUT", P "/{id}/status", SB_AUTH_SESSION, "project.edit", project_status, app,
         "setProjectStatus", "Archive or unarchive a project"},
        {"GET", P "/{id}/environments", SB_AUTH_SESSION, NULL, env_list, app,
         "listProjectEnvironments", "List a project's environments"},
        {"POST", E, SB_AUTH_SESSION, "environment.edit", env_create, app, "createEnvironment",
         "Create an environment (kind non_prod|prod and name are fixed for its lifetime)"},
        {"GET", E "/{id}", SB_AUTH_SESSION, NULL, env_get, app, "getEnvironment",
         "Get an environment"},
        {"PUT", E "/{id}", SB_AUTH_SESSION, "environment.edit", env_update, app,
         "updateEnvironment", "Change an environment's description or risk level"},
    };
#undef P
#undef E
    return sb_router_add_all(r, routes, sizeof routes / sizeof routes[0], err);
}
