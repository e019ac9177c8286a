/*
 * api/gitops_routes.c — Argo CD endpoints and application mappings
 * (api/gitops_api.h), registered only when gitops_observation.enabled.
 *
 * Contract:
 *   - Every route needs integration.edit from a global grant (403
 *     forbidden otherwise; the gate already refuses callers who hold it
 *     nowhere). Every change is one transaction with one audit event:
 *     argocd_endpoint.create / .update / .delete / .health_check,
 *     gitops_mapping.create / .delete. No event and no response ever holds
 *     the token.
 *   - An endpoint is {name, base_url, token, project?, ca_file?,
 *     tls_server_name?}. The token is KMS-wrapped before it is stored
 *     (api/app.h kms; none configured: 409 kms_unavailable) and is
 *     write-once: PUT may replace it, nothing returns it (responses carry
 *     token_set_at only). When the GitOps plugin is loaded, the settings
 *     are first checked by the plugin's own schema (as a YAML instance
 *     would be) and its refusal is the 422 message.
 *   - POST /argocd-endpoints/{id}/health-check reads, through the plugin,
 *     `application` (body) or the endpoint's first mapped applications
 *     (baseline: GET only) and records the result on the endpoint (no
 *     plugin loaded, a token the KMS cannot unwrap: unhealthy, saying so).
 *   - A mapping ties one application of an endpoint to exactly one secret
 *     binding (binding_id) or provider connection (connection_id): every
 *     executed patch of that binding / connection is observed on it.
 */
#include <stdlib.h>
#include <string.h>

#include "api/agent_api.h"
#include "api/gitops_api.h"
#include "api/handler_kit.h"
#include "plugin/gitops_endpoint.h"
#include "store/gitops_store.h"
#include "store/rows.h"

#define HEALTH_APPS_MAX 5

static int allowed(sb_server_request *req)
{
    return sb_api_allowed_globally(req, SB_PERM_INTEGRATION_EDIT, "integration.edit");
}

/* ---- input ------------------------------------------------------------------ */

static int only(const char *s, const char *set)
{
    return s[0] != '\0' && strspn(s, set) == strlen(s);
}

#define DNS_CHARS "abcdefghijklmnopqrstuvwxyz0123456789.-"

/* 1 when s is 1..max printable ASCII without spaces and without '$' (no
 * ${...} reference may ever reach the plugin's config). */
static int plain_text(const char *s, size_t max)
{
    size_t n = strlen(s);
    if (n == 0 || n > max)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (s[i] <= ' ' || s[i] > '~' || s[i] == '$')
            return 0;
    return 1;
}

static int k8s_name(const char *s)
{
    size_t n = strlen(s);
    return n >= 1 && n <= 253 && only(s, DNS_CHARS) && s[0] != '-' && s[0] != '.' &&
           s[n - 1] != '-' && s[n - 1] != '.';
}

/* The string member `key` into *out: absent leaves *out NULL; JSON null
 * becomes "" when nullable (a clear), else an error. 0, or -1 answered. */
static int member(sb_server_request *req, json_t *body, const char *key, int nullable,
                  const char **out)
{
    json_t *v = json_object_get(body, key);
    *out = NULL;
    if (v == NULL)
        return 0;
    if (json_is_null(v) && nullable) {
        *out = "";
        return 0;
    }
    if (!json_is_string(v))
        return sb_http_respond_error(req, 400, "invalid_field", "%s must be a string%s", key,
                                     nullable ? " or null (to clear it)" : ""),
               -1;
    *out = json_string_value(v);
    return 0;
}

/* 422 invalid_value "<field>: <what is allowed>". Returns -1. */
static int invalid(sb_server_request *req, const char *field, const char *allowed_values)
{
    sb_http_respond_error(req, 422, "invalid_value", "%s: %s", field, allowed_values);
    return -1;
}

/* Reads and checks an endpoint body; create: name, base_url, token required. */
static int read_endpoint(sb_server_request *req, int create, sb_gitops_endpoint_fields *f,
                         const char **token)
{
    const sb_field_spec spec[] = {{"name", SB_FIELD_STRING, create},
                                  {"base_url", SB_FIELD_STRING, create},
                                  {"token", SB_FIELD_STRING, create},
                                  {"project", SB_FIELD_STRING_OR_NULL, 0},
                                  {"ca_file", SB_FIELD_STRING_OR_NULL, 0},
                                  {"tls_server_name", SB_FIELD_STRING_OR_NULL, 0}};
    json_t *body;
    if (sb_handler_read_body(req, spec, sizeof spec / sizeof spec[0], &body) != 0)
        return -1;
    memset(f, 0, sizeof *f);
    if (member(req, body, "name", 0, &f->name) || member(req, body, "base_url", 0, &f->base_url) ||
        member(req, body, "token", 0, token) || member(req, body, "project", 1, &f->project) ||
        member(req, body, "ca_file", 1, &f->ca_file) ||
        member(req, body, "tls_server_name", 1, &f->tls_server_name))
        return -1;
    if (f->name && (strlen(f->name) > 63 || !only(f->name, "abcdefghijklmnopqrstuvwxyz0123456789-") ||
                    f->name[0] == '-'))
        return invalid(req, "name", "1-63 of a-z, 0-9 and '-', not starting with '-'");
    if (f->base_url && (!plain_text(f->base_url, 2048) ||
                        (strncmp(f->base_url, "https://", 8) != 0 &&
                         strncmp(f->base_url, "http://", 7) != 0)))
        return invalid(req, "base_url", "an http(s) URL of the Argo CD server without /api, e.g. "
                            "https://argocd.example.com");
    if (*token && !plain_text(*token, SB_GITOPS_TOKEN_MAX))
        return invalid(req, "token", "the Argo CD API token as printable ASCII without spaces or '$' "
                            "(at most 8192 characters)");
    if (f->project && f->project[0] && !k8s_name(f->project))
        return invalid(req, "project", "an Argo CD project name (a-z, 0-9, '-', '.')");
    if (f->tls_server_name && f->tls_server_name[0] && !k8s_name(f->tls_server_name))
        return invalid(req, "tls_server_name", "a DNS name such as argocd.internal");
    if (f->ca_file && f->ca_file[0] && (f->ca_file[0] != '/' || !plain_text(f->ca_file, 4096)))
        return invalid(req, "ca_file", "an absolute path on the control plane's host to a PEM bundle");
    return 0;
}

/* The plugin's verdict on the settings (when it is loaded): 0, or -1
 * answered 422 with its message. */
static int plugin_accepts(sb_app *app, sb_server_request *req, const char *name,
                          const sb_gitops_endpoint_fields *f, const char *token)
{
    if (app->gitops_plugin == NULL)
        return 0;
    sb_gitops_target t = {name, f->base_url, f->project && f->project[0] ? f->project : NULL,
                          f->ca_file && f->ca_file[0] ? f->ca_file : NULL,
                          f->tls_server_name && f->tls_server_name[0] ? f->tls_server_name : NULL,
                          token};
    sb_error err = {0};
    if (sb_gitops_client_check(app->gitops_plugin, &t, &err) == 0)
        return 0;
    return sb_http_respond_error(req, 422, "invalid_value", "%s", err.message), -1;
}

/* ---- endpoints ---------------------------------------------------------------- */

typedef struct endpoint_ctx {
    sb_server_request *req;
    const char *id, *action, *user_id;
    sb_gitops_endpoint_fields f;
    json_t *details;
    char *json;
} endpoint_ctx;

static int endpoint_txn(sb_db_conn *conn, void *p, sb_error *err)
{
    endpoint_ctx *c = p;
    free(c->json);
    c->json = NULL;
    int rc = strcmp(c->action, "argocd_endpoint.create") == 0
                 ? sb_gitops_store_endpoint_create(conn, &c->f, c->user_id, &c->json, err)
             : strcmp(c->action, "argocd_endpoint.update") == 0
                 ? sb_gitops_store_endpoint_update(conn, c->id, &c->f, &c->json, err)
                 : sb_gitops_store_endpoint_delete(conn, c->id, &c->json, err);
    if (rc != 0)
        return rc;
    json_t *row = json_loads(c->json, 0, NULL);
    char resource[64];
    snprintf(resource, sizeof resource, "argocd_endpoint:%s",
             json_string_value(json_object_get(row, "id")));
    json_object_set(c->details, "name", json_object_get(row, "name"));
    json_decref(row);
    sb_api_audit_event ev = {c->action, resource, "success",
                             strcmp(c->action, "argocd_endpoint.delete") == 0 ? "warning" : NULL,
                             c->details};
    return sb_api_audit(conn, c->req, &ev, err);
}

static int run_endpoint(sb_app *app, endpoint_ctx *c, int ok_status)
{
    sb_error err = {0};
    int rc = sb_db_transaction(app->db, endpoint_txn, c, &err);
    json_decref(c->details);
    if (rc == 0)
        return sb_agent_api_respond_text(c->req, ok_status, c->json);
    free(c->json);
    if (rc == 1)
        return sb_http_respond_error(c->req, 404, "not_found", "no such Argo CD endpoint");
    if (err.code == SB_DB_E_CONFLICT)
        return sb_http_respond_error(c->req, 409, "name_taken",
                                     "another Argo CD endpoint is named %s; choose another name",
                                     c->f.name ? c->f.name : "so");
    if (err.code == SB_DB_E_REFUSED)
        return sb_http_respond_error(c->req, 409, "endpoint_in_use", "%s", err.message);
    return sb_api_respond_store_error(c->req, &err);
}

/* Wraps the token (when given) into c->f; 0, or -1 answered. */
static int wrap_token(sb_app *app, sb_server_request *req, const char *token,
                      sb_gitops_endpoint_fields *f, char **ct, char **key_id)
{
    *ct = *key_id = NULL;
    if (token == NULL)
        return 0;
    sb_error err = {0};
    if (sb_gitops_token_wrap(app->kms, token, ct, key_id, &err) != 0)
        return sb_http_respond_error(req, app->kms ? 503 : 409,
                                     app->kms ? "kms_unavailable" : "kms_missing", "%s",
                                     app->kms ? "the KMS did not wrap the token; try again"
                                              : err.message),
               -1;
    f->token_ciphertext = *ct;
    f->token_key_id = *key_id;
    return 0;
}

static int h_endpoint_create(sb_server_request *req, void *ctx)
{
    sb_app *app = ctx;
    sb_gitops_endpoint_fields f;
    const char *token = NULL;
    if (!allowed(req) || read_endpoint(req, 1, &f, &token) != 0 ||
        plugin_accepts(app, req, f.name, &f, token) != 0)
        return -1;
    char *ct, *key_id;
    if (wrap_token(app, req, token, &f, &ct, &key_id) != 0)
        return -1;
    endpoint_ctx c = {req, NULL, "argocd_endpoint.create", sb_api_identity(req)->user_id, f,
                      json_pack("{s:s, s:b}", "base_url", f.base_url, "token_set", 1), NULL};
    int rc = run_endpoint(app, &c, 201);
    free(ct);
    free(key_id);
    return rc;
}

/* The stored endpoint with f's changes, for the plugin's check. */
static int merged_check(sb_app *app, sb_server_request *req, const char *id,
                        const sb_gitops_endpoint_fields *f, const char *token)
{
    if (app->gitops_plugin == NULL)
        return 0;
    sb_db_conn *conn;
    sb_error err = {0};
    char *json = NULL;
    if (sb_db_acquire(app->db, 5000, &conn, &err) != 0)
        return sb_api_respond_store_error(req, &err), -1;
    int rc = sb_gitops_store_endpoint_get(conn, id, &json, &err);
    sb_db_release(app->db, conn);
    if (rc != 0) {
        free(json);
        return rc < 0 ? (sb_api_respond_store_error(req, &err), -1)
                      : (sb_http_respond_error(req, 404, "not_found", "no such Argo CD endpoint"),
                         -1);
    }
    json_t *row = json_loads(json, 0, NULL);
    free(json);
#define PICK(k) (f->k ? f->k : json_string_value(json_object_get(row, #k)))
    sb_gitops_endpoint_fields m = {PICK(name), PICK(base_url), PICK(project), PICK(ca_file),
                                   PICK(tls_server_name), NULL, NULL};
#undef PICK
    /* a check needs some token: the stored one stays unread here */
    rc = plugin_accepts(app, req, m.name, &m, token ? token : "unchanged-token");
    json_decref(row);
    return rc;
}

static int h_endpoint_update(sb_server_request *req, void *ctx)
{
    sb_app *app = ctx;
    char id[37];
    sb_gitops_endpoint_fields f;
    const char *token = NULL;
    if (!allowed(req) || sb_api_path_uuid(req, "Argo CD endpoint", id) != 0 ||
        read_endpoint(req, 0, &f, &token) != 0 || merged_check(app, req, id, &f, token) != 0)
        return -1;
    char *ct, *key_id;
    if (wrap_token(app, req, token, &f, &ct, &key_id) != 0)
        return -1;
    json_t *changed = json_array();
    const char *names[] = {"name", "base_url", "project", "ca_file", "tls_server_name"};
    const char *values[] = {f.name, f.base_url, f.project, f.ca_file, f.tls_server_name};
    for (size_t i = 0; i < 5; i++)
        if (values[i])
            json_array_append_new(changed, json_string(names[i]));
    endpoint_ctx c = {req, id, "argocd_endpoint.update", NULL, f,
                      json_pack("{s:o, s:b}", "changed", changed, "token_replaced", token != NULL),
                      NULL};
    int rc = run_endpoint(app, &c, 200);
    free(ct);
    free(key_id);
    return rc;
}

static int h_endpoint_delete(sb_server_request *req, void *ctx)
{
    char id[37];
    if (!allowed(req) || sb_api_path_uuid(req, "Argo CD endpoint", id) != 0)
        return -1;
    endpoint_ctx c = {req, id, "argocd_endpoint.delete", NULL, {0}, json_object(), NULL};
    return run_endpoint(ctx, &c, 200);
}

static int h_endpoint_get(sb_server_request *req, void *ctx)
{
    char id[37];
    if (!allowed(req) || sb_api_path_uuid(req, "Argo CD endpoint", id) != 0)
        return -1;
    return sb_api_respond_read(ctx, req, id, "Argo CD endpoint", sb_gitops_store_endpoint_get);
}

static int list_endpoints(sb_db_conn *conn, const char *unused, char **json, sb_error *err)
{
    (void)unused;
    return sb_gitops_store_endpoint_list(conn, json, err);
}

static int h_endpoint_list(sb_server_request *req, void *ctx)
{
    if (!allowed(req) || sb_handler_check_query(req, NULL, 0) != 0)
        return -1;
    return sb_api_respond_read(ctx, req, NULL, "list", list_endpoints);
}

/* ---- health ------------------------------------------------------------------- */

typedef struct health_ctx {
    sb_server_request *req;
    const char *id;
    const char *error; /* NULL: healthy */
    json_t *details;
} health_ctx;

static int health_txn(sb_db_conn *conn, void *p, sb_error *err)
{
    health_ctx *c = p;
    int rc = sb_gitops_store_endpoint_health(conn, c->id, c->error, err);
    if (rc != 0)
        return rc;
    char resource[64];
    snprintf(resource, sizeof resource, "argocd_endpoint:%s", c->id);
    sb_api_audit_event ev = {"argocd_endpoint.health_check", resource,
                             c->error ? "failure" : "success", c->error ? "warning" : NULL,
                             c->details};
    return sb_api_audit(conn, c->req, &ev, err);
}

/* The applications to read: the body's, else the first mapped ones. */
static json_t *health_apps(sb_server_request *req, sb_db_conn *conn, const char *id,
                           sb_error *err)
{
    static const sb_field_spec spec[] = {{"application", SB_FIELD_STRING, 0}};
    json_t *body;
    if (sb_handler_read_body(req, spec, 1, &body) != 0)
        return NULL;
    json_t *app = json_object_get(body, "application");
    if (app && (!json_is_string(app) || !k8s_name(json_string_value(app)))) {
        invalid(req, "application", "an Argo CD application name (a Kubernetes name: a-z, 0-9, '-', '.')");
        return NULL;
    }
    json_t *apps = json_array();
    if (app) {
        json_array_append(apps, app);
        return apps;
    }
    char *json = NULL;
    if (sb_gitops_store_mapping_list(conn, id, &json, err) != 0) {
        sb_api_respond_store_error(req, err);
        json_decref(apps);
        return NULL;
    }
    json_t *list = json_loads(json, 0, NULL), *m;
    free(json);
    size_t i;
    json_array_foreach(json_object_get(list, "items"), i, m)
    {
        if (json_array_size(apps) < HEALTH_APPS_MAX)
            json_array_append(apps, json_object_get(m, "application"));
    }
    json_decref(list);
    return apps;
}

static int h_health(sb_server_request *req, void *ctx)
{
    sb_app *app = ctx;
    char id[37];
    if (!allowed(req) || sb_api_path_uuid(req, "Argo CD endpoint", id) != 0)
        return -1;
    sb_db_conn *conn;
    sb_error err = {0};
    char *stored = NULL;
    if (sb_db_acquire(app->db, 5000, &conn, &err) != 0)
        return sb_api_respond_store_error(req, &err);
    int rc = sb_gitops_store_endpoint_secret(conn, id, &stored, &err);
    json_t *apps = rc == 0 ? health_apps(req, conn, id, &err) : NULL;
    sb_db_release(app->db, conn);
    if (rc != 0) {
        free(stored);
        return rc < 0 ? sb_api_respond_store_error(req, &err)
                      : sb_http_respond_error(req, 404, "not_found", "no such Argo CD endpoint");
    }
    if (apps == NULL) {
        free(stored);
        return -1;
    }
    if (json_array_size(apps) == 0) {
        free(stored);
        json_decref(apps);
        return sb_http_respond_error(req, 409, "nothing_to_check",
                                     "the endpoint has no mapped application: give one as "
                                     "{\"application\": \"name\"}");
    }
    sb_gitops_endpoint ep;
    json_t *results = json_array();
    char first_error[512] = "";
    int opened = 0;
    if (app->gitops_plugin == NULL)
        snprintf(first_error, sizeof first_error,
                 "no GitOps plugin is loaded: list %.100s under plugins.load with capabilities "
                 "[gitops]",
                 app->settings->gitops_observation.plugin ? app->settings->gitops_observation.plugin
                                                          : "argocd");
    else if (!(opened = sb_gitops_endpoint_open(app->kms, stored, &ep, &err) == 0))
        snprintf(first_error, sizeof first_error, "%s", err.message);
    free(stored);
    size_t i;
    json_t *a;
    json_array_foreach(apps, i, a)
    {
        const char *name = json_string_value(a);
        char *state = NULL;
        sb_error e = {0};
        int ok = opened &&
                 sb_gitops_client_baseline(app->gitops_plugin, &ep.target, name, &state, &e) == 0;
        free(state);
        json_t *r = json_pack("{s:s, s:b}", "application", name, "ok", ok);
        if (!ok) {
            json_object_set_new(r, "error", json_string(opened ? e.message : first_error));
            if (first_error[0] == '\0')
                snprintf(first_error, sizeof first_error, "%s", e.message);
        }
        json_array_append_new(results, r);
    }
    if (opened)
        sb_gitops_endpoint_close(&ep);
    json_decref(apps);
    int healthy = first_error[0] == '\0';
    health_ctx c = {req, id, healthy ? NULL : first_error,
                    json_pack("{s:b, s:O}", "healthy", healthy, "applications", results)};
    rc = sb_db_transaction(app->db, health_txn, &c, &err);
    json_decref(c.details);
    if (rc != 0) {
        json_decref(results);
        return rc < 0 ? sb_api_respond_store_error(req, &err)
                      : sb_http_respond_error(req, 404, "not_found", "no such Argo CD endpoint");
    }
    return sb_http_respond_json(req, 200,
                                json_pack("{s:b, s:o}", "healthy", healthy, "applications", results));
}

/* ---- mappings ----------------------------------------------------------------- */

typedef struct mapping_ctx {
    sb_server_request *req;
    const char *id, *endpoint_id, *application, *binding_id, *connection_id, *user_id;
    char *json;
} mapping_ctx;

static int mapping_txn(sb_db_conn *conn, void *p, sb_error *err)
{
    mapping_ctx *c = p;
    free(c->json);
    c->json = NULL;
    int create = c->id == NULL;
    int rc = create ? sb_gitops_store_mapping_create(conn, c->endpoint_id, c->application,
                                                     c->binding_id, c->connection_id, c->user_id,
                                                     &c->json, err)
                    : sb_gitops_store_mapping_delete(conn, c->id, &c->json, err);
    if (rc != 0)
        return rc;
    json_t *row = json_loads(c->json, 0, NULL);
    char resource[64];
    snprintf(resource, sizeof resource, "gitops_mapping:%s",
             json_string_value(json_object_get(row, "id")));
    json_t *d = json_pack("{s:O, s:O, s:O, s:O}", "endpoint_id", json_object_get(row, "endpoint_id"),
                          "application", json_object_get(row, "application"), "binding_id",
                          json_object_get(row, "binding_id"), "connection_id",
                          json_object_get(row, "connection_id"));
    json_decref(row);
    sb_api_audit_event ev = {create ? "gitops_mapping.create" : "gitops_mapping.delete", resource,
                             "success", NULL, d};
    rc = sb_api_audit(conn, c->req, &ev, err);
    json_decref(d);
    return rc;
}

static int run_mapping(sb_app *app, mapping_ctx *c, int ok_status)
{
    sb_error err = {0};
    int rc = sb_db_transaction(app->db, mapping_txn, c, &err);
    if (rc == 0)
        return sb_agent_api_respond_text(c->req, ok_status, c->json);
    free(c->json);
    if (rc == 1)
        return c->id ? sb_http_respond_error(c->req, 404, "not_found", "no such GitOps mapping")
                     : sb_http_respond_error(c->req, 422, "invalid_value",
                                             "endpoint_id: no such Argo CD endpoint");
    if (err.code == SB_DB_E_CONFLICT)
        return sb_http_respond_error(c->req, 409, "mapping_exists",
                                     "that application is already mapped to this binding or "
                                     "connection on this endpoint");
    if (err.code == SB_DB_E_FK)
        return sb_http_respond_error(c->req, 422, "invalid_value",
                                     "%s: no such %s", c->binding_id ? "binding_id" : "connection_id",
                                     c->binding_id ? "secret binding" : "provider connection");
    return sb_api_respond_store_error(c->req, &err);
}

static int uuid_member(sb_server_request *req, json_t *body, const char *key, char out[37],
                       const char **value)
{
    const char *s;
    if (member(req, body, key, 0, &s) != 0)
        return -1;
    *value = NULL;
    if (s == NULL)
        return 0;
    if (!sb_rows_uuid(s, out))
        return invalid(req, key, "a UUID");
    *value = out;
    return 0;
}

static int h_mapping_create(sb_server_request *req, void *ctx)
{
    static const sb_field_spec spec[] = {{"endpoint_id", SB_FIELD_STRING, 1},
                                         {"application", SB_FIELD_STRING, 1},
                                         {"binding_id", SB_FIELD_STRING, 0},
                                         {"connection_id", SB_FIELD_STRING, 0}};
    json_t *body;
    if (!allowed(req) || sb_handler_read_body(req, spec, 4, &body) != 0)
        return -1;
    char ep[37], b[37], cn[37];
    mapping_ctx c = {.req = req, .user_id = sb_api_identity(req)->user_id};
    if (uuid_member(req, body, "endpoint_id", ep, &c.endpoint_id) != 0 ||
        member(req, body, "application", 0, &c.application) != 0 ||
        uuid_member(req, body, "binding_id", b, &c.binding_id) != 0 ||
        uuid_member(req, body, "connection_id", cn, &c.connection_id) != 0)
        return -1;
    if ((c.binding_id == NULL) == (c.connection_id == NULL))
        return sb_http_respond_error(req, 400, "missing_field",
                                     "give exactly one of binding_id (a secret binding) or "
                                     "connection_id (a provider connection)");
    if (!k8s_name(c.application))
        return invalid(req, "application", "an Argo CD application name (a Kubernetes name: a-z, 0-9, '-', "
                            "'.', at most 253)");
    return run_mapping(ctx, &c, 201);
}

static int h_mapping_delete(sb_server_request *req, void *ctx)
{
    char id[37];
    if (!allowed(req) || sb_api_path_uuid(req, "GitOps mapping", id) != 0)
        return -1;
    mapping_ctx c = {.req = req, .id = id};
    return run_mapping(ctx, &c, 200);
}

static int h_mapping_list(sb_server_request *req, void *ctx)
{
    static const char *const known[] = {"endpoint_id"};
    char ep[37];
    const char *endpoint = NULL;
    if (!allowed(req) || sb_handler_check_query(req, known, 1) != 0 ||
        sb_handler_query_uuid(req, "endpoint_id", ep, &endpoint) != 0)
        return -1;
    return sb_api_respond_read(ctx, req, endpoint, "list", sb_gitops_store_mapping_list);
}

int sb_api_gitops_routes(sb_router *r, sb_app *app, sb_error *err)
{
    if (!app->settings->gitops_observation.enabled)
        return 0;
    static const char perm[] = "integration.edit";
    const sb_route routes[] = {
        {"POST", "/api/v1/argocd-endpoints", SB_AUTH_SESSION, perm, h_endpoint_create, app,
         "createArgocdEndpoint", "Add an Argo CD endpoint (its token is stored KMS-wrapped)"},
        {"GET", "/api/v1/argocd-endpoints", SB_AUTH_SESSION, perm, h_endpoint_list, app,
         "listArgocdEndpoints", "Argo CD endpoints (never their tokens)"},
        {"GET", "/api/v1/argocd-endpoints/{id}", SB_AUTH_SESSION, perm, h_endpoint_get, app,
         "getArgocdEndpoint", "One Argo CD endpoint (never its token)"},
        {"PUT", "/api/v1/argocd-endpoints/{id}", SB_AUTH_SESSION, perm, h_endpoint_update, app,
         "updateArgocdEndpoint", "Change an Argo CD endpoint or replace its token"},
        {"DELETE", "/api/v1/argocd-endpoints/{id}", SB_AUTH_SESSION, perm, h_endpoint_delete, app,
         "deleteArgocdEndpoint", "Delete an Argo CD endpoint without mappings"},
        {"POST", "/api/v1/argocd-endpoints/{id}/health-check", SB_AUTH_SESSION, perm, h_health, app,
         "checkArgocdEndpoint", "Read applications through the plugin and record the result"},
        {"GET", "/api/v1/gitops-mappings", SB_AUTH_SESSION, perm, h_mapping_list, app,
         "listGitopsMappings", "Application mappings"},
        {"POST", "/api/v1/gitops-mappings", SB_AUTH_SESSION, perm, h_mapping_create, app,
         "createGitopsMapping", "Map a secret binding or provider connection to an application"},
        {"DELETE", "/api/v1/gitops-mappings/{id}", SB_AUTH_SESSION, perm, h_mapping_delete, app,
         "deleteGitopsMapping", "Delete an application mapping"},
    };
    return sb_router_add_all(r, routes, sizeof routes / sizeof routes[0], err);
}
