/*
 * api/catalog_routes.c — sb_api_catalog_routes: the secret catalog
 * (GET /secrets, read-only: rows are written by agents' discovery through
 * sb_catalog_store_upsert_batch) and the bindings of catalog secrets to a
 * project's environments.
 *
 * Contract:
 *   - Catalog reads are scope-filtered: a row is visible when it is bound
 *     (secret binding, or its connection's binding) to a project where the
 *     caller holds secret.list; a global secret.list grant sees every row.
 *     GET /secrets/{id} outside that is 404 exactly like a missing row; a
 *     project_id filter on a project without secret.list is 404 too.
 *   - Filters: connection_id, ref_prefix (literal prefix), status
 *     present|missing, project_id, and label=key:value repeated and ANDed
 *     (split on the FIRST ':' so values may contain ':'); limit + cursor.
 *   - Secret bindings: integration.bind on the project (writes: 403 with an
 *     access.denied event; a project the caller cannot see is 404). Reads
 *     need secret.list or integration.bind on it. The environment must
 *     belong to the project and the secret's connection must be bound to
 *     the project (project-wide or that environment): 422 otherwise.
 *     allowed_keys: 1..100 distinct names of [A-Za-z0-9_.-]{1,128};
 *     allowed_ops: non-empty, distinct, ⊆ {read, patch, reveal}.
 *   - One audit event per change, in its transaction: secret_binding.create,
 *     secret_binding.update, secret_binding.delete (resource
 *     "secret_binding:<id>").
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/handler_kit.h"
#include "domain/domain_error.h"
#include "store/catalog_store.h"

static json_t *parsed(const char *text)
{
    json_t *v = text ? json_loads(text, 0, NULL) : NULL;
    return v ? v : json_null();
}

static json_t *secret_json(const sb_row_set *rows, size_t i)
{
    sb_catalog_row c;
    sb_catalog_store_at(rows, i, &c);
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:o, s:s?, s:s?, s:s?, s:s, s:s, s:s}", "id", c.id,
                     "connection_id", c.connection_id, "connection_name", c.connection_name,
                     "provider_type", c.provider_type, "secret_ref", c.secret_ref, "labels",
                     parsed(c.labels), "version", c.version, "created_at_source",
                     c.created_at_source, "updated_at_source", c.updated_at_source,
                     "first_seen_at", c.first_seen_at, "last_seen_at", c.last_seen_at, "status",
                     c.status);
}

static json_t *binding_json(const sb_row_set *rows, size_t i)
{
    sb_secret_binding_row b;
    sb_catalog_store_binding_at(rows, i, &b);
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:o, s:o, s:s?, s:s, s:s}", "id", b.id,
                     "catalog_secret_id", b.catalog_secret_id, "secret_ref", b.secret_ref,
                     "project_id", b.project_id, "environment_id", b.environment_id,
                     "allowed_keys", parsed(b.allowed_keys), "allowed_ops", parsed(b.allowed_ops),
                     "created_by", b.created_by, "created_at", b.created_at, "updated_at",
                     b.updated_at);
}

/* ---- the catalog --------------------------------------------------------------- */

static int visible_projects(sb_server_request *req, const sb_identity *who, sb_id_filter *f)
{
    sb_error err = {0};
    if (sb_handler_visible_filter(who, false, SB_PERMISSION_BIT(SB_PERM_SECRET_LIST), f,
                                      &err) == 0)
        return 0;
    sb_api_respond_store_error(req, &err);
    return -1;
}

/* label=key:value (repeated) into one JSON object; 1 when two filters ask
 * different values of one key (nothing can match). */
static int label_filter(sb_server_request *req, json_t **out)
{
    const char *values[32];
    size_t n = sb_http_query_all(req, "label", values, 32);
    *out = NULL;
    if (n > 32)
        return sb_http_respond_error(req, 400, "invalid_field", "at most 32 label filters"), -1;
    int impossible = 0;
    for (size_t i = 0; i < n; i++) {
        const char *colon = strchr(values[i], ':');
        if (colon == NULL || colon == values[i]) {
            json_decref(*out);
            *out = NULL;
            return sb_http_respond_error(req, 400, "invalid_field",
                                         "label filters look like label=key:value"),
                   -1;
        }
        if (*out == NULL)
            *out = json_object();
        char key[256];
        snprintf(key, sizeof key, "%.*s", (int)(colon - values[i] < 255 ? colon - values[i] : 255),
                 values[i]);
        json_t *had = json_object_get(*out, key);
        if (had && strcmp(json_string_value(had), colon + 1) != 0)
            impossible = 1;
        json_object_set_new(*out, key, json_string(colon + 1));
    }
    return impossible;
}

typedef struct secret_query {
    sb_catalog_filter f;
    char conn_id[37], project[37];
    char *labels_text;
} secret_query;

static int secret_filters(sb_handler_op *o, void *filter)
{
    secret_query *q = filter;
    sb_catalog_filter *f = &q->f;
    sb_server_request *req = o->req;
    if (sb_handler_query_uuid(req, "connection_id", q->conn_id, &f->connection_id) != 0 ||
        sb_handler_query_uuid(req, "project_id", q->project, &f->project_id) != 0)
        return -1;
    f->ref_prefix = sb_http_query(req, "ref_prefix");
    f->status = sb_http_query(req, "status");
    if (f->status && strcmp(f->status, "present") != 0 && strcmp(f->status, "missing") != 0)
        return sb_http_respond_error(req, 400, "invalid_field",
                                     "query parameter status must be present or missing"),
               -1;
    if (f->project_id && !sb_rbac_allows_project(o->who->rbac, SB_PERM_SECRET_LIST, f->project_id))
        return sb_handler_not_found(req, "project"), -1;
    json_t *labels;
    int impossible = label_filter(req, &labels);
    if (impossible < 0)
        return -1;
    if (impossible) {
        json_decref(labels);
        return sb_http_respond_json(req, 200, json_pack("{s:[], s:n}", "items", "next_cursor")),
               -1;
    }
    q->labels_text = labels ? json_dumps(labels, JSON_COMPACT) : NULL;
    json_decref(labels);
    f->labels_json = q->labels_text;
    return visible_projects(req, o->who, &f->visible);
}

static int secret_rows(sb_db_conn *conn, sb_handler_op *o, void *filter, const sb_list_page *page,
                       sb_row_set *out, sb_error *err)
{
    (void)o;
    return sb_catalog_store_list(conn, &((secret_query *)filter)->f, page, out, err);
}

static void secret_release(void *filter)
{
    secret_query *q = filter;
    free((void *)q->f.visible.ids);
    free(q->labels_text);
}

static int secret_list(sb_server_request *req, void *ctx)
{
    static const char *const known[] = {"limit", "cursor", "connection_id", "ref_prefix",
                                        "status", "project_id"};
    static const sb_handler_list spec = {.filters = secret_filters, .list = secret_rows,
                                         .release = secret_release, .render = secret_json};
    sb_handler_op o;
    sb_handler_op_init(&o, req, ctx);
    /* label repeats (ANDed); every other parameter is checked once */
    for (size_t i = 0; i < sb_http_query_count(req); i++) {
        const char *name, *value;
        if (sb_http_query_at(req, i, &name, &value) == 0 && strcmp(name, "label") != 0) {
            size_t k = 0;
            while (k < 6 && strcmp(known[k], name) != 0)
                k++;
            const char *two[2];
            if (k == 6 || sb_http_query_all(req, name, two, 2) > 1)
                return sb_http_respond_error(req, 400, "invalid_field",
                                             "unknown or repeated query parameter \"%.40s\"", name);
        }
    }
    secret_query q = {0};
    return sb_handler_list_run(&o, &spec, &q);
}

static int secret_get(sb_server_request *req, void *ctx)
{
    sb_handler_op o;
    sb_handler_op_init(&o, req, ctx);
    sb_id_filter vis;
    if (sb_handler_path_id(req, "id", o.id) != 0)
        return sb_handler_not_found(req, "catalog secret");
    if (visible_projects(req, o.who, &vis) != 0)
        return 0;
    sb_db_conn *conn;
    int rc = -1;
    sb_error err = {0};
    if (sb_handler_op_acquire(&o, &conn) == 0) {
        rc = sb_catalog_store_get(conn, o.id, &vis, &o.rows, &err);
        sb_db_release(o.app->db, conn);
        if (rc < 0)
            sb_api_respond_store_error(req, &err);
        else if (rc == 1)
            sb_handler_not_found(req, "catalog secret");
        else
            sb_http_respond_json(req, 200, secret_json(&o.rows, 0));
        sb_row_set_free(&o.rows);
    }
    free((void *)vis.ids);
    return 0;
}

/* ---- secret bindings ------------------------------------------------------------ */

typedef struct binding_input {
    char *keys, *ops; /* JSON arrays (owned), NULL when not given */
} binding_input;

static int check_keys(sb_handler_op *o, json_t *a, char **out)
{
    size_t n = json_array_size(a), i;
    json_t *v;
    if (n == 0 || n > 100)
        return sb_handler_invalid(o->req, "allowed_keys must list 1 to 100 key names");
    json_array_foreach(a, i, v)
    {
        const char *k = json_string_value(v);
        if (!sb_handler_name_ok(k, 128, SB_CHARS_UPPER SB_CHARS_LOWER SB_CHARS_DIGIT "_.-",
                                    SB_CHARS_UPPER SB_CHARS_LOWER SB_CHARS_DIGIT "_.-"))
            return sb_handler_invalid(o->req,
                                          "allowed_keys[%zu] must be 1-128 characters of letters, "
                                          "digits, '_', '.' or '-'",
                                          i);
        for (size_t j = 0; j < i; j++)
            if (strcmp(json_string_value(json_array_get(a, j)), k) == 0)
                return sb_handler_invalid(o->req, "allowed_keys[%zu] repeats a key", i);
    }
    *out = json_dumps(a, JSON_COMPACT);
    return 0;
}

static int check_ops(sb_handler_op *o, json_t *a, char **out)
{
    size_t i;
    json_t *v;
    unsigned seen = 0;
    static const char *const ops[] = {"read", "patch", "reveal"};
    if (json_array_size(a) == 0)
        return sb_handler_invalid(o->req, "allowed_ops must list at least one of read, "
                                              "patch, reveal");
    json_array_foreach(a, i, v)
    {
        size_t k = 0;
        while (k < 3 && strcmp(ops[k], json_string_value(v)) != 0)
            k++;
        if (k == 3)
            return sb_handler_invalid(o->req, "allowed_ops[%zu] must be read, patch or reveal",
                                          i);
        if (seen & (1u << k))
            return sb_handler_invalid(o->req, "allowed_ops[%zu] repeats an operation", i);
        seen |= 1u << k;
    }
    *out = json_dumps(a, JSON_COMPACT);
    return 0;
}

static int lists(sb_handler_op *o, binding_input *in)
{
    json_t *k = json_object_get(o->body, "allowed_keys"), *p = json_object_get(o->body,
                                                                               "allowed_ops");
    return (k && check_keys(o, k, &in->keys) != 0) || (p && check_ops(o, p, &in->ops) != 0) ? -1
                                                                                           : 0;
}

static int need_bind(sb_handler_op *o, const char *doing, sb_error *err)
{
    if (!sb_handler_project_visible(o->who, o->id))
        return sb_handler_op_hidden(err, "project");
    return sb_handler_op_need_project(o, SB_PERM_INTEGRATION_BIND, o->id, doing, err);
}

static int sb_create_txn(sb_db_conn *conn, sb_handler_op *o, sb_error *err)
{
    binding_input *in = o->extra;
    sb_row_set rows;
    if (need_bind(o, "binding a secret", err) != 0 ||
        sb_handler_op_lock_row(conn, sb_tenancy_store_project_get, o->id, "project", &rows, err))
        return -1;
    sb_row_set_free(&rows);
    int rc = sb_tenancy_store_environment_get(conn, o->id2, false, &rows, err);
    if (rc < 0)
        return -1;
    bool env_ok = false;
    if (rc == 0) {
        sb_environment_row e;
        sb_tenancy_store_environment_at(&rows, 0, &e);
        env_ok = strcmp(e.project_id, o->id) == 0;
        sb_row_set_free(&rows);
    }
    if (!env_ok)
        return sb_error_set(err, SB_TENANCY_E_UNKNOWN_REF,
                            "environment_id: no environment with that id in this project");
    rc = sb_catalog_store_available(conn, o->ref, o->id, o->id2, err);
    if (rc < 0)
        return -1;
    if (rc == 0)
        return sb_error_set(err, SB_TENANCY_E_UNKNOWN_REF,
                            "catalog_secret_id: no catalog secret with that id whose provider "
                            "connection is bound to this project (bind the connection first)");
    if (sb_catalog_store_binding_create(conn, o->ref, o->id, o->id2, in->keys, in->ops,
                                        o->who->user_id, &o->rows, err) != 0)
        return -1;
    sb_secret_binding_row b;
    sb_catalog_store_binding_at(&o->rows, 0, &b);
    return sb_handler_op_audit(
        conn, o, "secret_binding.create", "secret_binding", b.id,
        json_pack("{s:s, s:s, s:s, s:o, s:o}", "catalog_secret_id", b.catalog_secret_id,
                  "project_id", b.project_id, "environment_id", b.environment_id, "allowed_keys",
                  parsed(b.allowed_keys), "allowed_ops", parsed(b.allowed_ops)),
        err);
}

static int lock_binding(sb_db_conn *conn, sb_handler_op *o, const char *doing, sb_error *err)
{
    sb_row_set rows;
    if (need_bind(o, doing, err) != 0)
        return -1;
    int rc = sb_catalog_store_binding_get(conn, o->id, o->id2, true, &rows, err);
    if (rc == 1)
        return sb_error_set(err, SB_DOMAIN_E_NOT_FOUND, "no secret binding with that id");
    if (rc == 0)
        sb_row_set_free(&rows);
    return rc;
}

static int sb_update_txn(sb_db_conn *conn, sb_handler_op *o, sb_error *err)
{
    binding_input *in = o->extra;
    if (lock_binding(conn, o, "changing a secret binding", err) != 0 ||
        sb_catalog_store_binding_update(conn, o->id2, in->keys, in->ops, &o->rows, err) != 0)
        return -1;
    sb_secret_binding_row b;
    sb_catalog_store_binding_at(&o->rows, 0, &b);
    return sb_handler_op_audit(conn, o, "secret_binding.update", "secret_binding", o->id2,
                               json_pack("{s:s, s:o, s:o}", "project_id", o->id, "allowed_keys",
                                         parsed(b.allowed_keys), "allowed_ops",
                                         parsed(b.allowed_ops)),
                               err);
}

static int sb_delete_txn(sb_db_conn *conn, sb_handler_op *o, sb_error *err)
{
    if (lock_binding(conn, o, "removing a secret binding", err) != 0 ||
        sb_catalog_store_binding_delete(conn, o->id2, err) != 0)
        return -1;
    return sb_handler_op_audit(conn, o, "secret_binding.delete", "secret_binding", o->id2,
                               json_pack("{s:s}", "project_id", o->id), err);
}

static const sb_field_spec create_spec[] = {{"catalog_secret_id", SB_FIELD_STRING, 1},
                                            {"environment_id", SB_FIELD_STRING, 1},
                                            {"allowed_keys", SB_FIELD_STRING_ARRAY, 1},
                                            {"allowed_ops", SB_FIELD_STRING_ARRAY, 1}};
static const sb_field_spec update_spec[] = {{"allowed_keys", SB_FIELD_STRING_ARRAY, 0},
                                            {"allowed_ops", SB_FIELD_STRING_ARRAY, 0}};

static int run_binding(sb_handler_op *o, binding_input *in, sb_handler_op_fn fn)
{
    o->extra = in;
    o->render = binding_json;
    int rc = sb_handler_op_run(o, fn);
    free(in->keys);
    free(in->ops);
    return rc;
}

static int binding_create(sb_server_request *req, void *ctx)
{
    sb_handler_op o;
    binding_input in = {0};
    bool has;
    sb_handler_op_init(&o, req, ctx);
    if (sb_handler_path_id(req, "id", o.id) != 0)
        return sb_handler_not_found(req, "project");
    if (sb_handler_read_body(req, create_spec, 4, &o.body) != 0 ||
        sb_handler_op_body_ref(&o, "catalog_secret_id", o.ref, &has) != 0 ||
        sb_handler_op_body_ref(&o, "environment_id", o.id2, &has) != 0 || lists(&o, &in) != 0) {
        free(in.keys);
        free(in.ops);
        return 0;
    }
    o.ok_status = 201;
    return run_binding(&o, &in, sb_create_txn);
}

static int binding_update(sb_server_request *req, void *ctx)
{
    sb_handler_op o;
    binding_input in = {0};
    sb_handler_op_init(&o, req, ctx);
    if (sb_handler_path_id(req, "id", o.id) != 0 ||
        sb_handler_path_id(req, "binding_id", o.id2) != 0)
        return sb_handler_not_found(req, "secret binding");
    if (sb_handler_read_body(req, update_spec, 2, &o.body) != 0 || lists(&o, &in) != 0) {
        free(in.keys);
        free(in.ops);
        return 0;
    }
    if (!in.keys && !in.ops)
        return sb_handler_op_nothing_given(&o, "allowed_keys, allowed_ops"), 0;
    return run_binding(&o, &in, sb_update_txn);
}

static int binding_delete(sb_server_request *req, void *ctx)
{
    sb_handler_op o;
    sb_handler_op_init(&o, req, ctx);
    if (sb_handler_path_id(req, "id", o.id) != 0 ||
        sb_handler_path_id(req, "binding_id", o.id2) != 0)
        return sb_handler_not_found(req, "secret binding");
    return sb_handler_op_run(&o, sb_delete_txn);
}

static bool bindings_visible(const sb_identity *who, const char *project)
{
    return sb_rbac_allows_project(who->rbac, SB_PERM_SECRET_LIST, project) ||
           sb_rbac_allows_project(who->rbac, SB_PERM_INTEGRATION_BIND, project);
}

static int binding_list(sb_server_request *req, void *ctx)
{
    static const sb_handler_children spec = {"project", bindings_visible,
                                             sb_tenancy_store_project_get,
                                             sb_catalog_store_binding_list, binding_json};
    return sb_handler_list_children(req, ctx, &spec);
}

/* ---- the route table ---------------------------------------------------------- */

int sb_api_catalog_routes(sb_router *r, sb_app *app, sb_error *err)
{
#define B "/api/v1/projects/{id}/secret-bindings"
    const sb_route routes[] = {
        {"GET", "/api/v1/secrets", SB_AUTH_SESSION, "secret.list", secret_list, app,
         "listCatalogSecrets",
         "Search the catalog (connection_id, ref_prefix, status, project_id, label=key:value "
         "ANDed; cursor pagination; scope-filtered)"},
        {"GET", "/api/v1/secrets/{id}", SB_AUTH_SESSION, "secret.list", secret_get, app,
         "getCatalogSecret", "Get a catalog secret (404 outside your scope)"},
        {"GET", B, SB_AUTH_SESSION, NULL, binding_list, app, "listSecretBindings",
         "List a project's secret bindings (secret.list or integration.bind on it)"},
        {"POST", B, SB_AUTH_SESSION, "integration.bind", binding_create, app,
         "createSecretBinding", "Bind a catalog secret to a project environment"},
        {"PUT", B "/{binding_id}", SB_AUTH_SESSION, "integration.bind", binding_update, app,
         "updateSecretBinding", "Change a secret binding's allowed keys or operations"},
        {"DELETE", B "/{binding_id}", SB_AUTH_SESSION, "integration.bind", binding_delete, app,
         "deleteSecretBinding", "Remove a secret binding"},
    };
#undef B
    return sb_router_add_all(r, routes, sizeof routes / sizeof routes[0], err);
}
