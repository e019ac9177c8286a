/* api/handler_kit.c — see handler_kit.h: the input checks, answers,
 * visibility rules and the read and write runners every route module uses. */
#include "api/handler_kit.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "domain/domain_error.h"
#include "store/rbac_store.h"

/* ---- input ------------------------------------------------------------------ */

static const char *const type_words[] = {"a string", "a string or null", "an integer",
                                         "an array of strings", "true or false", "an object",
                                         "an array"};

static int type_ok(sb_field_type type, json_t *v)
{
    size_t i;
    json_t *item;
    switch (type) {
    case SB_FIELD_STRING:
        return json_is_string(v);
    case SB_FIELD_STRING_OR_NULL:
        return json_is_string(v) || json_is_null(v);
    case SB_FIELD_INTEGER:
        return json_is_integer(v);
    case SB_FIELD_STRING_ARRAY:
        if (!json_is_array(v))
            return 0;
        json_array_foreach(v, i, item)
        {
            if (!json_is_string(item))
                return 0;
        }
        return 1;
    case SB_FIELD_BOOLEAN:
        return json_is_boolean(v);
    case SB_FIELD_OBJECT:
        return json_is_object(v);
    case SB_FIELD_ARRAY:
        return json_is_array(v);
    }
    return 0;
}

int sb_handler_read_body(sb_server_request *req, const sb_field_spec *spec, size_t n,
                             json_t **out)
{
    sb_error err;
    if (sb_http_json_body(req, out, &err) != 0)
        return -1;
    if (!json_is_object(*out))
        return sb_http_respond_error(req, 400, "invalid_body", "the body must be a JSON object"),
               -1;
    const char *key;
    json_t *v;
    char names[400] = "";
    for (size_t i = 0; i < n; i++)
        snprintf(names + strlen(names), sizeof names - strlen(names), "%s%s", i ? ", " : "",
                 spec[i].name);
    json_object_foreach(*out, key, v)
    {
        size_t i = 0;
        while (i < n && strcmp(spec[i].name, key) != 0)
            i++;
        if (i == n)
            return sb_http_respond_error(req, 400, "unknown_field",
                                         "unknown field \"%.64s\"; this endpoint accepts: %s", key,
                                         names),
                   -1;
        if (!type_ok(spec[i].type, v))
            return sb_http_respond_error(req, 400, "invalid_field", "field \"%s\" must be %s", key,
                                         type_words[spec[i].type]),
                   -1;
    }
    for (size_t i = 0; i < n; i++)
        if (spec[i].required && json_object_get(*out, spec[i].name) == NULL)
            return sb_http_respond_error(req, 400, "missing_field", "field \"%s\" is required",
                                         spec[i].name),
                   -1;
    return 0;
}

const char *sb_handler_string(json_t *body, const char *name)
{
    return json_string_value(json_object_get(body, name));
}

int sb_handler_invalid(sb_server_request *req, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    sb_http_respond_verror(req, 422, "invalid_value", fmt, ap);
    va_end(ap);
    return -1;
}

/* Character counts (UTF-8 code points; jansson strings are valid UTF-8). */
size_t sb_handler_chars(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        n += ((unsigned char)*s & 0xC0) != 0x80;
    return n;
}

int sb_handler_check_description(sb_server_request *req, const char *d)
{
    return d && sb_handler_chars(d) > 500
               ? sb_handler_invalid(req, "%s must be at most 500 characters", "description")
               : 0;
}

/* first char from first_set, the rest from rest_set; 1..max bytes (ASCII). */
int sb_handler_name_ok(const char *s, size_t max, const char *first_set, const char *rest_set)
{
    size_t n = strlen(s);
    if (n == 0 || n > max || strchr(first_set, s[0]) == NULL)
        return 0;
    for (size_t i = 1; i < n; i++)
        if (strchr(rest_set, s[i]) == NULL)
            return 0;
    return 1;
}

/* Unknown or repeated query parameters: 400 (a typo never widens a list). */
int sb_handler_check_query(sb_server_request *req, const char *const *known, size_t n)
{
    for (size_t i = 0; i < sb_http_query_count(req); i++) {
        const char *name, *value, *values[2];
        if (sb_http_query_at(req, i, &name, &value) != 0)
            break;
        size_t k = 0;
        while (k < n && strcmp(known[k], name) != 0)
            k++;
        if (k == n)
            return sb_http_respond_error(req, 400, "invalid_field",
                                         "unknown query parameter \"%.40s\"", name),
                   -1;
        if (sb_http_query_all(req, name, values, 2) > 1)
            return sb_http_respond_error(req, 400, "invalid_field",
                                         "query parameter %s is given more than once", name),
                   -1;
    }
    return 0;
}

/* A UUID query filter (NULL when absent); -1 after answering. */
int sb_handler_query_uuid(sb_server_request *req, const char *name, char out[37],
                              const char **value)
{
    const char *v = sb_http_query(req, name);
    *value = NULL;
    if (v == NULL)
        return 0;
    if (!sb_rows_uuid(v, out))
        return sb_http_respond_error(req, 400, "invalid_field", "query parameter %s must be a UUID",
                                     name),
               -1;
    *value = out;
    return 0;
}

int sb_handler_query_status(sb_server_request *req, const char **value)
{
    *value = sb_http_query(req, "status");
    if (*value && strcmp(*value, "active") != 0 && strcmp(*value, "archived") != 0)
        return sb_http_respond_error(req, 400, "invalid_field",
                                     "query parameter status must be active or archived"),
               -1;
    return 0;
}

int sb_handler_parse_page(sb_server_request *req, sb_api_page *page, sb_list_page *out)
{
    if (sb_api_page_parse(req, page) != 0)
        return -1;
    char canon[37];
    if (page->after[0] && !sb_rows_uuid(page->after, canon))
        return sb_http_respond_error(req, 400, "invalid_cursor",
                                     "cursor does not belong to this list: pass the next_cursor of "
                                     "the previous page unchanged"),
               -1;
    out->limit = page->limit;
    out->after = page->after;
    return 0;
}

int sb_handler_not_found(sb_server_request *req, const char *what)
{
    return sb_http_respond_error(req, 404, "not_found", "no %s with that id", what);
}

/* Answers a refusal from the store, the domain or a check in this file
 * (the one registry: api/errors.c). */
int sb_handler_respond_failure(sb_server_request *req, const sb_error *err)
{
    return sb_api_respond_store_error(req, err);
}

/* ---- visibility ------------------------------------------------------------ */

/* Permissions checked at team or project level: holding any of them at a
 * target makes it visible. */
sb_permission_set sb_handler_tenant_mask(void)
{
    size_t n;
    const sb_permission_info *cat = sb_permission_catalog(&n);
    sb_permission_set m = 0;
    for (size_t i = 0; i < n; i++)
        if (cat[i].checked_at & (SB_PERM_AT_TEAM | SB_PERM_AT_PROJECT))
            m |= SB_PERMISSION_BIT(cat[i].id);
    return m;
}

bool sb_handler_team_visible(const sb_identity *who, const char *team_id)
{
    return (sb_rbac_permissions_team(who->rbac, team_id) & sb_handler_tenant_mask()) != 0;
}

bool sb_handler_project_visible(const sb_identity *who, const char *project_id)
{
    return (sb_rbac_permissions_project(who->rbac, project_id) & sb_handler_tenant_mask()) != 0;
}

static int compare_ids(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

int sb_handler_visible_filter(const sb_identity *who, bool teams, sb_permission_set mask,
                                  sb_id_filter *f, sb_error *err)
{
    memset(f, 0, sizeof *f);
    const char **ids = NULL;
    size_t n = 0;
    for (size_t p = 0; p < SB_PERM_COUNT && !f->all; p++) {
        if (!sb_permission_set_has(mask, (sb_permission)p))
            continue;
        sb_id_list l;
        if ((teams ? sb_rbac_visible_teams(who->rbac, (sb_permission)p, &l, err)
                   : sb_rbac_visible_projects(who->rbac, (sb_permission)p, &l, err)) != 0) {
            free(ids);
            return -1;
        }
        f->all = l.all;
        if (l.count > 0 && !l.all) {
            const char **grown = realloc(ids, (n + l.count) * sizeof *ids);
            if (grown == NULL) {
                sb_id_list_free(&l);
                free(ids);
                return sb_error_set(err, SB_DOMAIN_E_NO_MEMORY, "out of memory");
            }
            ids = grown;
            memcpy(ids + n, l.ids, l.count * sizeof *ids);
            n += l.count;
        }
        sb_id_list_free(&l);
    }
    if (n > 1) { /* drop duplicates */
        qsort(ids, n, sizeof *ids, compare_ids);
        size_t w = 1;
        for (size_t r = 1; r < n; r++)
            if (strcmp(ids[r], ids[w - 1]) != 0)
                ids[w++] = ids[r];
        n = w;
    }
    f->ids = ids;
    f->n = n;
    return 0;
}

/* ---- the write machinery ---------------------------------------------------- */

typedef struct txn {
    sb_handler_op *o;
    sb_handler_op_fn fn;
} txn;

static int run_txn(sb_db_conn *conn, void *ctx, sb_error *err)
{
    txn *t = ctx;
    sb_row_set_free(&t->o->rows); /* a retried attempt starts clean */
    return t->fn(conn, t->o, err);
}

/* An access.denied event of its own (the refused change rolls back). */
static void audit_denial(sb_handler_op *o, const sb_error *err)
{
    json_t *d = json_pack("{s:s, s:s, s:s}", "method", sb_http_method(o->req), "route",
                          sb_http_route_pattern(o->req), "reason", err->message);
    sb_api_audit_event ev = {"access.denied", sb_http_route_pattern(o->req), "denied", "warning",
                             d};
    sb_api_audit_now(o->app, o->req, &ev);
    json_decref(d);
}

/* Runs fn in a transaction and answers: the rendered row with ok_status,
 * 204 when there is none, or the refusal. */
int sb_handler_op_run(sb_handler_op *o, sb_handler_op_fn fn)
{
    txn t = {o, fn};
    sb_error err = {0};
    int rc = sb_db_transaction(o->app->db, run_txn, &t, &err);
    if (rc < 0) {
        sb_row_set_free(&o->rows);
        if (err.code == SB_DOMAIN_E_DENIED || err.code == SB_HANDLER_E_HIDDEN)
            audit_denial(o, &err);
        return sb_handler_respond_failure(o->req, &err);
    }
    if (o->tenancy_changed)
        sb_api_tenancy_changed(o->app);
    if (o->rows.n == 0 || o->render == NULL) {
        sb_row_set_free(&o->rows);
        return sb_http_respond_empty(o->req, 204);
    }
    json_t *out = o->render(&o->rows, 0);
    sb_row_set_free(&o->rows);
    return sb_http_respond_json(o->req, o->ok_status, out);
}

int sb_handler_op_audit(sb_db_conn *conn, sb_handler_op *o, const char *action, const char *kind,
                        const char *id, json_t *details, sb_error *err)
{
    char resource[64];
    snprintf(resource, sizeof resource, "%s:%s", kind, id);
    sb_api_audit_event ev = {action, resource, "success", NULL, details};
    int rc = sb_api_audit(conn, o->req, &ev, err);
    json_decref(details);
    return rc;
}

/* The caller holds perm on team (NULL: globally), or -1 DENIED saying so. */
int sb_handler_op_need_team(const sb_handler_op *o, sb_permission perm, const char *team,
                            const char *doing, sb_error *err)
{
    bool ok = team ? sb_rbac_allows_team(o->who->rbac, perm, team)
                   : sb_rbac_allows_global(o->who->rbac, perm);
    if (ok)
        return 0;
    if (team)
        return sb_error_set(err, SB_DOMAIN_E_DENIED, "%s needs %s on team %s", doing,
                            sb_permission_key(perm), team);
    return sb_error_set(err, SB_DOMAIN_E_DENIED, "%s needs %s from a global grant", doing,
                        sb_permission_key(perm));
}

int sb_handler_op_need_project(const sb_handler_op *o, sb_permission perm, const char *project,
                               const char *doing, sb_error *err)
{
    if (sb_rbac_allows_project(o->who->rbac, perm, project))
        return 0;
    return sb_error_set(err, SB_DOMAIN_E_DENIED, "%s needs %s on project %s", doing,
                        sb_permission_key(perm), project);
}

int sb_handler_op_lock_row(sb_db_conn *conn, sb_row_get get, const char *id, const char *what,
                           sb_row_set *rows, sb_error *err)
{
    int rc = get(conn, id, true, rows, err);
    if (rc == 1)
        return sb_error_set(err, SB_DOMAIN_E_NOT_FOUND, "no %s with that id", what);
    return rc;
}

/* A referenced team (body parent_id/team_id): exists, visible and active. */
int sb_handler_op_lock_ref_team(sb_db_conn *conn, const sb_handler_op *o, const char *id,
                                const char *field_name, sb_error *err)
{
    sb_row_set rows;
    int rc = sb_handler_team_visible(o->who, id)
                 ? sb_tenancy_store_team_get(conn, id, true, &rows, err)
                 : 1;
    if (rc == 1)
        return sb_error_set(err, SB_TENANCY_E_UNKNOWN_REF, "%s: no team with id %s", field_name,
                            id);
    if (rc < 0)
        return -1;
    sb_team_row t;
    sb_tenancy_store_team_at(&rows, 0, &t);
    bool archived = strcmp(t.status, "archived") == 0;
    sb_row_set_free(&rows);
    if (archived)
        return sb_error_set(err, SB_HANDLER_E_ARCHIVED,
                            "team %s is archived; unarchive it first", id);
    return 0;
}

/* Path id -> o->id (404 when not a UUID or not visible by check). */
int sb_handler_path_id(sb_server_request *req, const char *name, char out[37])
{
    return sb_rows_uuid(sb_http_param(req, name), out) ? 0 : -1;
}

void sb_handler_op_init(sb_handler_op *o, sb_server_request *req, void *app)
{
    memset(o, 0, sizeof *o);
    o->app = app;
    o->req = req;
    o->who = sb_api_identity(req);
    o->risk_level = -1;
    o->ok_status = 200;
}

/* Reads body field name as a UUID into out (has_ref); null allowed when
 * nullable. -1 after answering. */
int sb_handler_op_body_ref(sb_handler_op *o, const char *name, char out[37], bool *has)
{
    json_t *v = json_object_get(o->body, name);
    *has = v != NULL;
    out[0] = '\0';
    if (v == NULL || json_is_null(v))
        return 0;
    if (!sb_rows_uuid(json_string_value(v), out))
        return sb_handler_invalid(o->req, "%s must be a UUID", name);
    return 0;
}

int sb_handler_op_hidden(sb_error *err, const char *what)
{
    return sb_error_set(err, SB_HANDLER_E_HIDDEN, "no %s with that id", what);
}

int sb_handler_op_acquire(sb_handler_op *o, sb_db_conn **conn)
{
    sb_error err = {0};
    if (sb_db_acquire(o->app->db, -1, conn, &err) == 0)
        return 0;
    sb_api_respond_store_error(o->req, &err);
    return -1;
}

/* GET of one row by path id, visible() deciding; 404 alike for both. */
int sb_handler_op_respond_one(sb_handler_op *o, sb_row_get get, sb_row_render render,
                              const char *what)
{
    sb_db_conn *conn;
    if (sb_handler_op_acquire(o, &conn) != 0)
        return 0;
    sb_error err = {0};
    int rc = get(conn, o->id, false, &o->rows, &err);
    sb_db_release(o->app->db, conn);
    if (rc < 0)
        return sb_api_respond_store_error(o->req, &err);
    if (rc == 1)
        return sb_handler_not_found(o->req, what);
    json_t *out = render(&o->rows, 0);
    sb_row_set_free(&o->rows);
    return sb_http_respond_json(o->req, 200, out);
}

int sb_handler_op_status_field(sb_handler_op *o)
{
    o->status = sb_handler_string(o->body, "status");
    if (strcmp(o->status, "active") != 0 && strcmp(o->status, "archived") != 0)
        return sb_handler_invalid(o->req, "%s must be \"active\" or \"archived\"", "status");
    return 0;
}

int sb_handler_op_nothing_given(sb_handler_op *o, const char *fields)
{
    return sb_http_respond_error(o->req, 400, "missing_field", "give at least one of: %s", fields),
           -1;
}

json_t *sb_handler_op_changed_fields(const sb_handler_op *o)
{
    json_t *f = json_array();
    if (o->name)
        json_array_append_new(f, json_string("name"));
    if (o->description)
        json_array_append_new(f, json_string("description"));
    if (o->risk_level >= 0)
        json_array_append_new(f, json_string("risk_level"));
    return f;
}
