/*
 * api/connection_routes.c — sb_api_connection_routes: provider connections
 * and their bindings to projects (and optionally one environment).
 *
 * Contract:
 *   - Everything here needs integration.edit from a global grant (the
 *     permission is platform-level): others get 403 (reads) or 403 with an
 *     access.denied event (writes, through sb_handler_op_run).
 *   - A connection holds metadata only (I4). The scope is checked by
 *     domain/connection_rules BEFORE any transaction: a credential-shaped
 *     key or value is 422 credential_refused, stores nothing, and writes one
 *     audit event (connection.create|update, outcome denied) whose details
 *     name the key and the rule, never the value. Other scope problems are
 *     422 invalid_value. type is immutable (a PUT scope is checked against
 *     the stored type).
 *   - Deleting a connection that still has bindings or catalog rows is 409
 *     refused ("connection_in_use: ..."); disabling it is the alternative.
 *   - A binding names project_id and optionally environment_id (which must
 *     belong to the project: 422 otherwise); duplicates are 409.
 *   - One audit event per change, in its transaction: connection.create,
 *     connection.update, connection.delete, connection.binding.create,
 *     connection.binding.delete (resource "connection:<id>").
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/handler_kit.h"
#include "domain/connection_rules.h"
#include "domain/domain_error.h"
#include "store/connection_store.h"

typedef struct conn_input {
    sb_connection_fields f;
    char *scope_json; /* owned */
    json_t *scope_keys;
} conn_input;

static json_t *conn_json(const sb_row_set *rows, size_t i)
{
    sb_connection_row c;
    sb_connection_store_at(rows, i, &c);
    json_t *scope = json_loads(c.scope, 0, NULL);
    json_t *discovery =
        c.discovery_last_run_at
            ? json_pack("{s:s, s:s?, s:I, s:s?}", "last_run_at", c.discovery_last_run_at,
                        "outcome", c.discovery_last_outcome, "count",
                        (json_int_t)(c.discovery_last_count ? atoll(c.discovery_last_count) : 0),
                        "error", c.discovery_last_error)
            : json_null();
    return json_pack("{s:s, s:s, s:s, s:o, s:s, s:s, s:i, s:s?, s:s, s:s, s:o}", "id", c.id,
                     "name", c.name, "type", c.type, "scope", scope ? scope : json_object(),
                     "description", c.description, "status", c.status, "discovery_interval_s",
                     c.discovery_interval_s, "cluster", c.cluster, "created_at", c.created_at,
                     "updated_at", c.updated_at, "discovery", discovery);
}

static json_t *binding_json(const sb_row_set *rows, size_t i)
{
    sb_connection_binding_row b;
    sb_connection_store_binding_at(rows, i, &b);
    return json_pack("{s:s, s:s, s:s, s:s?, s:s?, s:s}", "id", b.id, "connection_id",
                     b.connection_id, "project_id", b.project_id, "environment_id",
                     b.environment_id, "created_by", b.created_by, "created_at", b.created_at);
}

/* Takes "scope" (an object) out of the cached body so the shared field
 * table can check the rest; *scope is a new reference or NULL. */
static int read_body(sb_server_request *req, const sb_field_spec *spec, size_t n, json_t **body,
                     json_t **scope)
{
    sb_error err;
    json_t *raw;
    *scope = NULL;
    if (sb_http_json_body(req, &raw, &err) != 0)
        return -1;
    json_t *s = json_is_object(raw) ? json_object_get(raw, "scope") : NULL;
    if (s != NULL) {
        if (!json_is_object(s))
            return sb_http_respond_error(req, 400, "invalid_field",
                                         "field \"scope\" must be an object"),
                   -1;
        *scope = json_incref(s);
        json_object_del(raw, "scope");
    }
    if (sb_handler_read_body(req, spec, n, body) != 0) {
        json_decref(*scope);
        *scope = NULL;
        return -1;
    }
    return 0;
}

/* The scope checked for type; a credential-shaped one is audited (without
 * its values) as action. -1 after answering. */
static int check_scope(sb_handler_op *o, const char *type, json_t *scope, const char *action,
                       conn_input *in)
{
    size_t n = json_object_size(scope), i = 0;
    const char **keys = calloc(n + 1, sizeof *keys), **values = calloc(n + 1, sizeof *values);
    const char *k;
    json_t *v;
    sb_error err = {0};
    int rc = 0;
    json_object_foreach(scope, k, v)
    {
        keys[i] = k;
        values[i++] = json_is_string(v) ? json_string_value(v) : NULL;
    }
    if (sb_connection_check_scope(type, keys, values, n, &err) != 0) {
        if (err.code == SB_CONN_E_CREDENTIAL) {
            json_t *d = json_pack("{s:s, s:s, s:s}", "rule", "I4", "type", type, "reason",
                                  err.message);
            sb_api_audit_event ev = {action, "connection", "denied", "warning", d};
            sb_api_audit_now(o->app, o->req, &ev);
            json_decref(d);
            sb_http_respond_error(o->req, 422, "credential_refused", "%s", err.message);
        } else {
            sb_handler_invalid(o->req, "%s", err.message);
        }
        rc = -1;
    } else {
        in->scope_json = json_dumps(scope, JSON_COMPACT | JSON_SORT_KEYS);
        in->f.scope_json = in->scope_json;
        in->scope_keys = json_array();
        for (size_t j = 0; j < n; j++)
            json_array_append_new(in->scope_keys, json_string(keys[j]));
    }
    free(keys);
    free(values);
    return rc;
}

static int common_fields(sb_handler_op *o, conn_input *in)
{
    json_t *iv = json_object_get(o->body, "discovery_interval_s");
    in->f.name = sb_handler_string(o->body, "name");
    in->f.description = sb_handler_string(o->body, "description");
    in->f.status = sb_handler_string(o->body, "status");
    in->f.discovery_interval_s = iv ? (int)json_integer_value(iv) : -1;
    in->f.cluster_given = json_object_get(o->body, "cluster") != NULL;
    in->f.cluster = sb_handler_string(o->body, "cluster");
    if (in->f.cluster &&
        !sb_handler_name_ok(in->f.cluster, 63, SB_CHARS_LOWER SB_CHARS_DIGIT,
                                SB_CHARS_LOWER SB_CHARS_DIGIT "-"))
        return sb_handler_invalid(o->req, "cluster must match ^[a-z0-9][a-z0-9-]{0,62}$ (the "
                                              "name of the agents' network boundary), or be null");
    if (in->f.name && !sb_connection_name_ok(in->f.name))
        return sb_handler_invalid(o->req, "name must match ^[a-z0-9][a-z0-9-]{0,119}$");
    if (in->f.status && strcmp(in->f.status, "active") != 0 &&
        strcmp(in->f.status, "disabled") != 0)
        return sb_handler_invalid(o->req, "status must be \"active\" or \"disabled\"");
    if (iv && (json_integer_value(iv) < 60 || json_integer_value(iv) > 86400))
        return sb_handler_invalid(o->req, "discovery_interval_s must be 60..86400 seconds");
    return sb_handler_check_description(o->req, in->f.description);
}

static void input_free(conn_input *in)
{
    free(in->scope_json);
    json_decref(in->scope_keys);
}

static int need_edit(const sb_handler_op *o, const char *doing, sb_error *err)
{
    return sb_handler_op_need_team(o, SB_PERM_INTEGRATION_EDIT, NULL, doing, err);
}

/* ---- connections ------------------------------------------------------------- */

static int create_txn(sb_db_conn *conn, sb_handler_op *o, sb_error *err)
{
    conn_input *in = o->extra;
    if (need_edit(o, "creating a provider connection", err) != 0 ||
        sb_connection_store_create(conn, &in->f, &o->rows, err) != 0)
        return -1;
    sb_connection_row c;
    sb_connection_store_at(&o->rows, 0, &c);
    return sb_handler_op_audit(conn, o, "connection.create", "connection", c.id,
                               json_pack("{s:s, s:s, s:O}", "name", c.name, "type", c.type,
                                         "scope_keys", in->scope_keys),
                               err);
}

static int update_txn(sb_db_conn *conn, sb_handler_op *o, sb_error *err)
{
    conn_input *in = o->extra;
    sb_row_set cur;
    if (need_edit(o, "changing a provider connection", err) != 0 ||
        sb_handler_op_lock_row(conn, sb_connection_store_get, o->id, "provider connection", &cur,
                               err) != 0)
        return -1;
    sb_row_set_free(&cur);
    if (sb_connection_store_update(conn, o->id, &in->f, &o->rows, err) != 0)
        return -1;
    json_t *fields = json_array();
    const char *names[] = {"name",   "scope",                "description",
                           "status", "discovery_interval_s", "cluster"};
    bool given[] = {in->f.name != NULL,   in->f.scope_json != NULL,
                    in->f.description != NULL, in->f.status != NULL,
                    in->f.discovery_interval_s >= 0, in->f.cluster_given};
    for (size_t i = 0; i < 6; i++)
        if (given[i])
            json_array_append_new(fields, json_string(names[i]));
    json_t *d = json_pack("{s:o}", "fields", fields);
    if (in->scope_keys)
        json_object_set(d, "scope_keys", in->scope_keys);
    return sb_handler_op_audit(conn, o, "connection.update", "connection", o->id, d, err);
}

static int delete_txn(sb_db_conn *conn, sb_handler_op *o, sb_error *err)
{
    if (need_edit(o, "deleting a provider connection", err) != 0)
        return -1;
    int rc = sb_connection_store_delete(conn, o->id, err);
    if (rc == 1)
        return sb_error_set(err, SB_DOMAIN_E_NOT_FOUND, "no provider connection with that id");
    if (rc != 0)
        return -1;
    return sb_handler_op_audit(conn, o, "connection.delete", "connection", o->id, NULL, err);
}

static const sb_field_spec create_spec[] = {{"name", SB_FIELD_STRING, 1},
                                            {"type", SB_FIELD_STRING, 1},
                                            {"description", SB_FIELD_STRING, 0},
                                            {"status", SB_FIELD_STRING, 0},
                                            {"discovery_interval_s", SB_FIELD_INTEGER, 0},
                                            {"cluster", SB_FIELD_STRING_OR_NULL, 0}};

static int conn_create(sb_server_request *req, void *ctx)
{
    sb_handler_op o;
    conn_input in = {0};
    json_t *scope;
    sb_handler_op_init(&o, req, ctx);
    if (read_body(req, create_spec, 6, &o.body, &scope) != 0)
        return 0;
    in.f.type = sb_handler_string(o.body, "type");
    int rc = 0;
    if (scope == NULL)
        sb_http_respond_error(req, 400, "missing_field", "field \"scope\" is required");
    else if (!sb_connection_type_known(in.f.type))
        sb_handler_invalid(req, "type must be one of vault, aws-sm, gcp-sm, azure-kv, "
                                    "kubernetes");
    else if (common_fields(&o, &in) == 0 &&
             check_scope(&o, in.f.type, scope, "connection.create", &in) == 0) {
        o.extra = &in;
        o.render = conn_json;
        o.ok_status = 201;
        rc = sb_handler_op_run(&o, create_txn);
    }
    json_decref(scope);
    input_free(&in);
    return rc;
}

static const sb_field_spec update_spec[] = {{"name", SB_FIELD_STRING, 0},
                                            {"description", SB_FIELD_STRING, 0},
                                            {"status", SB_FIELD_STRING, 0},
                                            {"discovery_interval_s", SB_FIELD_INTEGER, 0},
                                            {"cluster", SB_FIELD_STRING_OR_NULL, 0}};

static int conn_update(sb_server_request *req, void *ctx)
{
    sb_handler_op o;
    conn_input in = {0};
    json_t *scope;
    sb_handler_op_init(&o, req, ctx);
    if (sb_handler_path_id(req, "id", o.id) != 0)
        return sb_handler_not_found(req, "provider connection");
    if (read_body(req, update_spec, 5, &o.body, &scope) != 0)
        return 0;
    int rc = 0;
    if (common_fields(&o, &in) != 0)
        goto out;
    if (!scope && !in.f.name && !in.f.description && !in.f.status &&
        in.f.discovery_interval_s < 0 && !in.f.cluster_given) {
        sb_handler_op_nothing_given(&o, "name, scope, description, status, discovery_interval_s, "
                                        "cluster");
        goto out;
    }
    if (scope) { /* the type is immutable: check against the stored one */
        sb_db_conn *conn;
        sb_row_set cur;
        sb_error err = {0};
        if (sb_handler_op_acquire(&o, &conn) != 0)
            goto out;
        int got = sb_connection_store_get(conn, o.id, false, &cur, &err);
        sb_db_release(o.app->db, conn);
        if (got != 0) {
            got == 1 ? sb_handler_not_found(req, "provider connection")
                     : sb_api_respond_store_error(req, &err);
            goto out;
        }
        sb_connection_row c;
        sb_connection_store_at(&cur, 0, &c);
        int bad = check_scope(&o, c.type, scope, "connection.update", &in);
        sb_row_set_free(&cur);
        if (bad)
            goto out;
    }
    o.extra = &in;
    o.render = conn_json;
    rc = sb_handler_op_run(&o, update_txn);
out:
    json_decref(scope);
    input_free(&in);
    return rc;
}

static int conn_delete(sb_server_request *req, void *ctx)
{
    sb_handler_op o;
    sb_handler_op_init(&o, req, ctx);
    if (sb_handler_path_id(req, "id", o.id) != 0)
        return sb_handler_not_found(req, "provider connection");
    return sb_handler_op_run(&o, delete_txn);
}

/* Reads need the global grant too; 403 otherwise. */
static int reader(sb_server_request *req, void *ctx, sb_handler_op *o)
{
    sb_handler_op_init(o, req, ctx);
    if (sb_rbac_allows_global(o->who->rbac, SB_PERM_INTEGRATION_EDIT))
        return 0;
    sb_http_respond_error(req, 403, "forbidden",
                          "provider connections need integration.edit from a global grant");
    return -1;
}

static int conn_get(sb_server_request *req, void *ctx)
{
    sb_handler_op o;
    if (reader(req, ctx, &o) != 0)
        return 0;
    if (sb_handler_path_id(req, "id", o.id) != 0)
        return sb_handler_not_found(req, "provider connection");
    return sb_handler_op_respond_one(&o, sb_connection_store_get, conn_json, "provider connection");
}

static int conn_filters(sb_handler_op *o, void *filter)
{
    (void)filter;
    o->kind = sb_http_query(o->req, "type");
    o->status = sb_http_query(o->req, "status");
    if (o->kind && !sb_connection_type_known(o->kind))
        return sb_http_respond_error(o->req, 400, "invalid_field",
                                     "query parameter type is unknown"),
               -1;
    if (o->status && strcmp(o->status, "active") != 0 && strcmp(o->status, "disabled") != 0)
        return sb_http_respond_error(o->req, 400, "invalid_field",
                                     "query parameter status must be active or disabled"),
               -1;
    return 0;
}

static int conn_rows(sb_db_conn *conn, sb_handler_op *o, void *filter, const sb_list_page *page,
                     sb_row_set *out, sb_error *err)
{
    (void)filter;
    return sb_connection_store_list(conn, o->kind, o->status, page, out, err);
}

static int conn_list(sb_server_request *req, void *ctx)
{
    static const char *const known[] = {"limit", "cursor", "type", "status"};
    static const sb_handler_list spec = {.query = known, .n_query = 4, .filters = conn_filters,
                                         .list = conn_rows, .render = conn_json};
    sb_handler_op o;
    if (reader(req, ctx, &o) != 0)
        return 0;
    return sb_handler_list_run(&o, &spec, NULL);
}

/* ---- bindings ---------------------------------------------------------------- */

static int bind_txn(sb_db_conn *conn, sb_handler_op *o, sb_error *err)
{
    sb_row_set cur;
    if (need_edit(o, "binding a provider connection", err) != 0 ||
        sb_handler_op_lock_row(conn, sb_connection_store_get, o->id, "provider connection", &cur,
                               err) != 0)
        return -1;
    sb_row_set_free(&cur);
    if (o->id2[0]) { /* the environment belongs to the project */
        int rc = sb_tenancy_store_environment_get(conn, o->id2, false, &cur, err);
        if (rc < 0)
            return -1;
        sb_environment_row e;
        if (rc == 0)
            sb_tenancy_store_environment_at(&cur, 0, &e);
        bool ok = rc == 0 && strcmp(e.project_id, o->ref) == 0;
        if (rc == 0)
            sb_row_set_free(&cur);
        if (!ok)
            return sb_error_set(err, SB_TENANCY_E_UNKNOWN_REF,
                                "environment_id: no environment with that id in project %s",
                                o->ref);
    }
    if (sb_connection_store_binding_create(conn, o->id, o->ref, o->id2, o->who->user_id, &o->rows,
                                           err) != 0)
        return -1;
    sb_connection_binding_row b;
    sb_connection_store_binding_at(&o->rows, 0, &b);
    return sb_handler_op_audit(conn, o, "connection.binding.create", "connection", o->id,
                               json_pack("{s:s, s:s, s:s?}", "binding_id", b.id, "project_id",
                                         b.project_id, "environment_id", b.environment_id),
                               err);
}

static int unbind_txn(sb_db_conn *conn, sb_handler_op *o, sb_error *err)
{
    sb_row_set gone;
    if (need_edit(o, "unbinding a provider connection", err) != 0)
        return -1;
    int rc = sb_connection_store_binding_delete(conn, o->id, o->id2, &gone, err);
    if (rc == 1)
        return sb_error_set(err, SB_DOMAIN_E_NOT_FOUND, "no binding with that id");
    if (rc != 0)
        return -1;
    sb_connection_binding_row b;
    sb_connection_store_binding_at(&gone, 0, &b);
    json_t *d = json_pack("{s:s, s:s, s:s?}", "binding_id", b.id, "project_id", b.project_id,
                          "environment_id", b.environment_id);
    sb_row_set_free(&gone);
    return sb_handler_op_audit(conn, o, "connection.binding.delete", "connection", o->id, d, err);
}

static const sb_field_spec bind_spec[] = {{"project_id", SB_FIELD_STRING, 1},
                                          {"environment_id", SB_FIELD_STRING_OR_NULL, 0}};

static int bind_create(sb_server_request *req, void *ctx)
{
    sb_handler_op o;
    bool has;
    sb_handler_op_init(&o, req, ctx);
    if (sb_handler_path_id(req, "id", o.id) != 0)
        return sb_handler_not_found(req, "provider connection");
    if (sb_handler_read_body(req, bind_spec, 2, &o.body) != 0 ||
        sb_handler_op_body_ref(&o, "project_id", o.ref, &has) != 0 ||
        sb_handler_op_body_ref(&o, "environment_id", o.id2, &has) != 0)
        return 0;
    o.render = binding_json;
    o.ok_status = 201;
    return sb_handler_op_run(&o, bind_txn);
}

static int bind_delete(sb_server_request *req, void *ctx)
{
    sb_handler_op o;
    sb_handler_op_init(&o, req, ctx);
    if (sb_handler_path_id(req, "id", o.id) != 0 ||
        sb_handler_path_id(req, "binding_id", o.id2) != 0)
        return sb_handler_not_found(req, "binding");
    return sb_handler_op_run(&o, unbind_txn);
}

static bool edit_visible(const sb_identity *who, const char *id)
{
    (void)id;
    return sb_rbac_allows_global(who->rbac, SB_PERM_INTEGRATION_EDIT);
}

static int bind_list(sb_server_request *req, void *ctx)
{
    static const sb_handler_children spec = {"provider connection", edit_visible,
                                             sb_connection_store_get,
                                             sb_connection_store_binding_list, binding_json};
    return sb_handler_list_children(req, ctx, &spec);
}

/* ---- the route table ---------------------------------------------------------- */

int sb_api_connection_routes(sb_router *r, sb_app *app, sb_error *err)
{
#define C "/api/v1/provider-connections"
#define E "integration.edit"
    const sb_route routes[] = {
        {"GET", C, SB_AUTH_SESSION, E, conn_list, app, "listProviderConnections",
         "List provider connections (filters type, status; cursor pagination)"},
        {"POST", C, SB_AUTH_SESSION, E, conn_create, app, "createProviderConnection",
         "Create a provider connection (metadata-only scope; credentials are refused)"},
        {"GET", C "/{id}", SB_AUTH_SESSION, E, conn_get, app, "getProviderConnection",
         "Get a provider connection"},
        {"PUT", C "/{id}", SB_AUTH_SESSION, E, conn_update, app, "updateProviderConnection",
         "Change a provider connection's name, scope, description, status or interval"},
        {"DELETE", C "/{id}", SB_AUTH_SESSION, E, conn_delete, app, "deleteProviderConnection",
         "Delete a provider connection with no bindings and no catalog rows"},
        {"GET", C "/{id}/bindings", SB_AUTH_SESSION, E, bind_list, app,
         "listProviderConnectionBindings", "List a connection's project bindings"},
        {"POST", C "/{id}/bindings", SB_AUTH_SESSION, E, bind_create, app,
         "createProviderConnectionBinding", "Bind a connection to a project (and environment)"},
        {"DELETE", C "/{id}/bindings/{binding_id}", SB_AUTH_SESSION, E, bind_delete, app,
         "deleteProviderConnectionBinding", "Remove a connection binding"},
    };
#undef C
#undef E
    return sb_router_add_all(r, routes, sizeof routes / sizeof routes[0], err);
}
