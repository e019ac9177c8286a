/*
 * api/auth_self.c — the caller's own account: GET /api/v1/users/me and
 * personal API tokens (/api/v1/users/me/tokens).
 *
 * /users/me answers who the caller is (from the gate's identity, I6), what
 * they may do — permissions held globally, and per team / per project
 * only what a grant there adds to what is inherited (the team subtree
 * below a team grant is implied) — the teams they are a member of
 * (membership grants nothing; it is shown for orientation) and the
 * projects they can read: visible through secret.list ∪ secret.request
 * (domain/scope.h), active ones, at most 500 (projects_truncated says when
 * there are more).
 *
 * Tokens: "sbp_" + 256 random bits (crypto/token.h), stored as a keyed
 * hash; the creation response is the only place the token ever appears
 * (built in secure memory, never through jansson's heap). A token expires
 * after expires_in_days (1..365, default 90), at most 50 live per user.
 * Listing shows name, display hint, dates and status; revoking is confined
 * to the caller's own tokens (another user's id answers 404 not_found).
 * Creation and revocation are audited in the same transaction.
 */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "api/auth_internal.h"
#include "crypto/secure_mem.h"
#include "crypto/token.h"
#include "domain/scope.h"
#include "store/api_tokens_store.h"
#include "store/tenancy_store.h"
#include "store/users_store.h"

#define TOKEN_DAYS_DEFAULT 90
#define TOKEN_DAYS_MAX 365
#define PROJECTS_MAX 500

/* ---- /users/me ---------------------------------------------------------------- */

static json_t *perm_keys(sb_permission_set s)
{
    const char *keys[SB_PERM_COUNT];
    size_t n = sb_permission_set_keys(s, keys, SB_PERM_COUNT);
    json_t *a = json_array();
    for (size_t i = 0; i < n && i < SB_PERM_COUNT; i++)
        json_array_append_new(a, json_string(keys[i]));
    return a;
}

/* Teams where a grant adds to what the parent team (or global) gives. */
static json_t *team_permissions(const sb_identity *id, sb_permission_set global)
{
    json_t *out = json_array();
    const sb_team_tree *tree = id->tenancy ? sb_tenancy_teams(id->tenancy) : NULL;
    size_t n = tree ? sb_team_tree_count(tree) : 0;
    for (size_t i = 0; i < n; i++) {
        const char *tid = sb_team_tree_node_id(tree, i);
        long parent = sb_team_tree_node_parent(tree, i);
        sb_permission_set base =
            parent < 0
                ? global
                : sb_rbac_permissions_team(id->rbac, sb_team_tree_node_id(tree, (size_t)parent));
        sb_permission_set extra = sb_rbac_permissions_team(id->rbac, tid) & ~base;
        if (extra)
            json_array_append_new(
                out, json_pack("{s:s, s:o}", "team_id", tid, "permissions", perm_keys(extra)));
    }
    return out;
}

/* Projects where a project grant adds to what the owning team gives. */
static json_t *project_permissions(const sb_identity *id, sb_permission_set global)
{
    json_t *out = json_array(), *seen = json_object();
    for (int p = 0; p < SB_PERM_COUNT; p++) {
        if (sb_permission_set_has(global, (sb_permission)p))
            continue;
        sb_id_list list = {0};
        if (sb_rbac_visible_projects(id->rbac, (sb_permission)p, &list, NULL) != 0)
            continue;
        for (size_t i = 0; !list.all && i < list.count; i++) {
            const char *pid = list.ids[i];
            if (json_object_get(seen, pid))
                continue;
            json_object_set_new(seen, pid, json_true());
            const char *owner = sb_tenancy_project_team(id->tenancy, pid);
            sb_permission_set base = owner ? sb_rbac_permissions_team(id->rbac, owner) : global;
            sb_permission_set extra = sb_rbac_permissions_project(id->rbac, pid) & ~base;
            if (extra)
                json_array_append_new(out, json_pack("{s:s, s:o}", "project_id", pid, "permissions",
                                                     perm_keys(extra)));
        }
        sb_id_list_free(&list);
    }
    json_decref(seen);
    return out;
}

/* The ids visible through secret.list or secret.request (malloc'd array of
 * borrowed strings), or *all. */
static int readable_ids(const sb_identity *id, const char ***ids, size_t *n, int *all)
{
    sb_id_list a = {0}, b = {0};
    *ids = NULL;
    *n = 0;
    *all = 0;
    if (sb_rbac_visible_projects(id->rbac, SB_PERM_SECRET_LIST, &a, NULL) != 0 ||
        sb_rbac_visible_projects(id->rbac, SB_PERM_SECRET_REQUEST, &b, NULL) != 0) {
        sb_id_list_free(&a);
        return -1;
    }
    *all = a.all || b.all;
    *ids = calloc(a.count + b.count + 1, sizeof **ids);
    int rc = *ids ? 0 : -1;
    for (size_t i = 0; rc == 0 && !*all && i < a.count + b.count; i++) {
        const char *pid = i < a.count ? a.ids[i] : b.ids[i - a.count];
        size_t j = 0;
        while (j < *n && strcmp((*ids)[j], pid) != 0)
            j++;
        if (j == *n)
            (*ids)[(*n)++] = pid; /* ids point into the tenancy, which outlives this request */
    }
    sb_id_list_free(&a);
    sb_id_list_free(&b);
    return rc;
}

int sb_auth_me(sb_server_request *req, void *ctx)
{
    sb_app *app = ctx;
    const sb_identity *id = sb_api_identity(req);
    sb_error err = {0};
    sb_db_conn *conn;
    if (sb_db_acquire(app->db, 5000, &conn, &err) != 0)
        return sb_api_respond_store_error(req, &err);
    sb_user_record u;
    sb_user_team *teams = NULL;
    size_t n_teams = 0, n_ids = 0;
    const char **ids = NULL;
    int all = 0;
    sb_row_set rows = {0};
    int rc = sb_users_store_find_by_id(conn, id->user_id, &u, &err);
    if (rc == 0)
        rc = sb_users_store_teams(conn, id->user_id, &teams, &n_teams, &err);
    if (rc == 0 && readable_ids(id, &ids, &n_ids, &all) != 0)
        rc = sb_error_set(&err, SB_DB_E_NO_MEMORY, "out of memory resolving projects");
    if (rc == 0) {
        sb_project_filter f = {{all != 0, ids, n_ids}, "active", NULL};
        sb_list_page page = {PROJECTS_MAX, NULL};
        rc = sb_tenancy_store_project_list(conn, &f, &page, &rows, &err);
    }
    sb_db_release(app->db, conn);
    free(ids);
    if (rc != 0) {
        free(teams);
        sb_row_set_free(&rows);
        if (rc == 1) /* the user row vanished between the gate and here */
            return sb_http_respond_error(req, 401, "unauthenticated",
                                         "the account no longer exists");
        return sb_api_respond_store_error(req, &err);
    }
    json_t *team_list = json_array(), *project_list = json_array();
    for (size_t i = 0; i < n_teams; i++)
        json_array_append_new(
            team_list, json_pack("{s:s, s:s, s:s?}", "id", teams[i].id, "name", teams[i].name,
                                 "parent_id", teams[i].parent_id[0] ? teams[i].parent_id : NULL));
    free(teams);
    for (size_t i = 0; i < rows.n; i++) {
        sb_project_row p;
        sb_tenancy_store_project_at(&rows, i, &p);
        json_array_append_new(project_list, json_pack("{s:s, s:s, s:s?}", "id", p.id, "name",
                                                      p.name, "team_id", p.team_id));
    }
    int truncated = rows.more;
    sb_row_set_free(&rows);
    sb_permission_set global = id->rbac ? sb_rbac_permissions_global(id->rbac) : 0;
    json_t *perms = json_pack("{s:o, s:o, s:o}", "global", perm_keys(global), "teams",
                              id->rbac ? team_permissions(id, global) : json_array(), "projects",
                              id->rbac ? project_permissions(id, global) : json_array());
    json_t *body = json_pack("{s:{s:s, s:s, s:s, s:s, s:o}, s:s, s:o, s:o, s:o, s:b}", "user", "id",
                             u.id, "username", u.username, "display_name", u.display_name, "source",
                             u.source, "created_at", sb_auth_time_json(u.created_at), "auth_method",
                             sb_auth_method_name(id->method), "permissions", perms, "teams",
                             team_list, "projects", project_list, "projects_truncated", truncated);
    return sb_http_respond_json(req, 200, body);
}

/* ---- tokens --------------------------------------------------------------------- */

/* The scopes column ("a,b") as a JSON array ([] = unscoped). */
static json_t *scopes_json(const char *scopes)
{
    json_t *a = json_array();
    char copy[sizeof ((sb_api_token_record *)0)->scopes], *save = NULL;
    snprintf(copy, sizeof copy, "%s", scopes);
    for (char *k = strtok_r(copy, ",", &save); k; k = strtok_r(NULL, ",", &save))
        json_array_append_new(a, json_string(k));
    return a;
}

static json_t *token_json(const sb_api_token_record *t, int64_t now)
{
    const char *status = t->revoked_at ? "revoked" : t->expires_at <= now ? "expired" : "active";
    return json_pack(
        "{s:s, s:s, s:s, s:o, s:o, s:o, s:o, s:s, s:o}", "id", t->id, "name", t->name,
        "display_hint", t->display_hint, "created_at", sb_auth_time_json(t->created_at),
        "expires_at", sb_auth_time_json(t->expires_at), "last_used_at",
        sb_auth_time_json(t->last_used_at), "revoked_at", sb_auth_time_json(t->revoked_at),
        "status", status, "scopes", scopes_json(t->scopes));
}

/* "scopes": permission keys of the catalog that the caller holds somewhere,
 * into a text[] literal ("{}" when absent or empty: unscoped — except for a
 * caller who is itself a scoped token, whose new token inherits its
 * scopes). -1 after answering 422 naming the key. */
static int read_scopes(sb_server_request *req, const sb_identity *id, json_t *list, char *out,
                       size_t cap)
{
    size_t i, len = 0;
    json_t *v;
    sb_permission_set seen = 0, held = id->anywhere;
    len += (size_t)snprintf(out + len, cap - len, "{");
    json_array_foreach(list, i, v)
    {
        sb_permission p;
        const char *key = json_string_value(v);
        if (sb_permission_lookup(key, &p) != 0)
            return sb_http_respond_error(req, 422, "invalid_value",
                                         "scopes[%zu] is not a permission (GET /api/v1/permissions "
                                         "lists them)", i), -1;
        if (!sb_permission_set_has(held, p))
            return sb_http_respond_error(req, 422, "invalid_value",
                                         "scopes[%zu]: you hold no grant with %s, so a token "
                                         "cannot have it either", i, key), -1;
        if (sb_permission_set_has(seen, p))
            continue;
        seen |= SB_PERMISSION_BIT(p);
        len += (size_t)snprintf(out + len, cap - len, "%s%s", len > 1 ? "," : "", key);
    }
    if (seen == 0 && id->token_scoped) /* a scoped token mints no wider token */
        for (int p = 0; p < SB_PERM_COUNT; p++)
            if (sb_permission_set_has(id->token_scopes, (sb_permission)p))
                len += (size_t)snprintf(out + len, cap - len, "%s%s", len > 1 ? "," : "",
                                        sb_permission_key((sb_permission)p));
    snprintf(out + len, cap - len, "}");
    return 0;
}

int sb_auth_tokens_list(sb_server_request *req, void *ctx)
{
    sb_app *app = ctx;
    const sb_identity *id = sb_api_identity(req);
    sb_api_page page;
    if (sb_api_page_parse(req, &page) != 0)
        return 0;
    sb_error err = {0};
    sb_db_conn *conn;
    sb_api_token_record *items = NULL;
    size_t n = 0;
    int rc = sb_db_acquire(app->db, 5000, &conn, &err);
    if (rc == 0) {
        rc = sb_api_tokens_store_list(conn, id->user_id, page.after, page.limit + 1, &items, &n,
                                      &err);
        sb_db_release(app->db, conn);
    }
    if (rc != 0) {
        if (err.code == SB_DB_E_INVALID)
            return sb_http_respond_error(req, 400, "invalid_cursor",
                                         "the cursor does not name a token");
        return sb_api_respond_store_error(req, &err);
    }
    int64_t now = sb_app_now_ms(app) / 1000;
    json_t *list = json_array();
    size_t shown = n > (size_t)page.limit ? (size_t)page.limit : n;
    for (size_t i = 0; i < shown; i++)
        json_array_append_new(list, token_json(&items[i], now));
    char cursor[160] = "";
    if (n > shown)
        sb_api_cursor_encode(items[shown - 1].id, cursor, sizeof cursor);
    free(items);
    return sb_http_respond_json(
        req, 200,
        json_pack("{s:o, s:s?}", "items", list, "next_cursor", cursor[0] ? cursor : NULL));
}

typedef struct token_txn {
    sb_server_request *req;
    const sb_api_token_new *create; /* create */
    const char *id;                 /* revoke */
    const char *user_id;
    int64_t now;
    sb_api_token_record record;
} token_txn;

static int token_audit(sb_db_conn *conn, token_txn *t, const char *action, sb_error *err)
{
    char resource[64], expires[32];
    snprintf(resource, sizeof resource, "api_token:%s", t->record.id);
    sb_auth_time_text(t->record.expires_at, expires, sizeof expires);
    json_t *details = json_pack("{s:s, s:s, s:s}", "name", t->record.name, "display_hint",
                                t->record.display_hint, "expires_at", expires);
    sb_api_audit_event ev = {action, resource, "success", NULL, details};
    int rc = sb_api_audit(conn, t->req, &ev, err);
    json_decref(details);
    return rc;
}

static int token_create_txn(sb_db_conn *conn, void *ctx, sb_error *err)
{
    token_txn *t = ctx;
    int rc = sb_api_tokens_store_create(conn, t->create, &t->record, err);
    if (rc != 0)
        return rc;
    return token_audit(conn, t, "api_token.create", err) < 0 ? -1 : 0;
}

static int token_revoke_txn(sb_db_conn *conn, void *ctx, sb_error *err)
{
    token_txn *t = ctx;
    int rc = sb_api_tokens_store_revoke(conn, t->user_id, t->id, t->now, &t->record, err);
    if (rc != 0)
        return rc;
    return token_audit(conn, t, "api_token.revoke", err) < 0 ? -1 : 0;
}

static int name_ok(const char *s)
{
    int visible = 0;
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c < 0x20 || c == 0x7f)
            return 0;
        if (c != ' ')
            visible = 1;
    }
    return visible;
}

int sb_auth_tokens_create(sb_server_request *req, void *ctx)
{
    sb_app *app = ctx;
    const sb_identity *id = sb_api_identity(req);
    static const sb_auth_field spec[] = {
        {"name", SB_AUTH_FIELD_STRING, 1, SB_API_TOKEN_NAME_MAX},
        {"expires_in_days", SB_AUTH_FIELD_INTEGER, 0, 0},
        {"scopes", SB_AUTH_FIELD_STRING_ARRAY, 0, SB_PERM_COUNT},
    };
    json_t *v[3];
    char scopes[1024];
    if (sb_auth_body_fields(req, spec, 3, v) != 0 ||
        read_scopes(req, id, v[2], scopes, sizeof scopes) != 0)
        return 0;
    const char *name = json_string_value(v[0]);
    if (!name_ok(name))
        return sb_http_respond_error(req, 422, "invalid_value",
                                     "field \"name\" must have visible characters and no control "
                                     "characters");
    json_int_t days = v[1] ? json_integer_value(v[1]) : TOKEN_DAYS_DEFAULT;
    if (days < 1 || days > TOKEN_DAYS_MAX)
        return sb_http_respond_error(req, 422, "invalid_value",
                                     "field \"expires_in_days\" must be from 1 to %d",
                                     TOKEN_DAYS_MAX);
    int64_t now = sb_app_now_ms(app) / 1000;
    char *token = sb_secure_alloc(SB_TOKEN_MAX);
    unsigned char hash[SB_TOKEN_HASH_BYTES];
    sb_error err = {0};
    if (token == NULL || sb_token_new(SB_TOKEN_PREFIX_PERSONAL, token, SB_TOKEN_MAX, &err) != 0 ||
        sb_token_hash(token, strlen(token), app->token_pepper, SB_KEY_BYTES, hash, &err) != 0) {
        sb_secure_release(token);
        return sb_http_respond_error(req, 500, "internal", "cannot create a token");
    }
    /* "sbp_" and 4 of the 43 random characters: enough to tell tokens apart */
    char hint[32];
    snprintf(hint, sizeof hint, "%.8s\xe2\x80\xa6", token);
    sb_api_token_new t = {id->user_id, name, hash, hint, now, now + (int64_t)days * 86400, scopes};
    token_txn txn = {.req = req, .create = &t, .user_id = id->user_id, .now = now};
    int rc = sb_db_transaction(app->db, token_create_txn, &txn, &err);
    if (rc != 0) {
        sb_secure_release(token);
        if (rc > 0)
            return sb_http_respond_error(req, 409, "too_many_tokens",
                                         "you already have %d live API tokens; revoke one first",
                                         SB_API_TOKEN_MAX_ACTIVE);
        return sb_api_respond_store_error(req, &err);
    }
    json_t *rest = json_pack("{s:s, s:s, s:s, s:o, s:o, s:o}", "id", txn.record.id, "name",
                             txn.record.name, "display_hint", txn.record.display_hint, "created_at",
                             sb_auth_time_json(txn.record.created_at), "expires_at",
                             sb_auth_time_json(txn.record.expires_at), "scopes",
                             scopes_json(txn.record.scopes));
    rc = sb_auth_respond_with_token(req, 201, token, rest);
    sb_secure_release(token);
    return rc;
}

int sb_auth_tokens_revoke(sb_server_request *req, void *ctx)
{
    sb_app *app = ctx;
    const sb_identity *id = sb_api_identity(req);
    const char *token_id = sb_http_param(req, "id");
    if (!sb_users_store_uuid_ok(token_id))
        return sb_http_respond_error(req, 404, "not_found", "no such API token");
    token_txn txn = {
        .req = req, .id = token_id, .user_id = id->user_id, .now = sb_app_now_ms(app) / 1000};
    sb_error err = {0};
    int rc = sb_db_transaction(app->db, token_revoke_txn, &txn, &err);
    if (rc < 0)
        return sb_api_respond_store_error(req, &err);
    if (rc == 1)
        return sb_http_respond_error(req, 404, "not_found", "no such API token");
    return sb_http_respond_empty(req, 204); /* revoked now, or already (2) */
}
