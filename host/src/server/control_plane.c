/* server/control_plane.c — see control_plane.h. */
#include "server/control_plane.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "api/agent_api.h"
#include "api/api.h"
#include "api/app_keys.h"
#include "api/dev_setup_token.h"
#include "api/bootstrap_admin.h"
#include "api/read_api.h"
#include "api/seed_roles.h"
#include "http/server.h"
#include "http/static_files.h"
#include "plugin/kms_client.h"
#include "server/openapi_doc.h"
#include "worker/worker_tasks.h"
#include "store/database.h"
#include "store/migrate.h"
#include "store/outbox_store.h"
#include "util/log.h"

struct sb_control_plane {
    sb_database *database;
    sb_db *db;
    sb_app app;
    int app_ready;
    sb_worker *worker;
    sb_gitops_poller gitops; /* the poll_gitops task's context */
    sb_router *router;
    sb_static_site *ui;
    sb_http_server *http;
    char url[96];
};

/* The web UI's directory: http.ui_dir, else the source tree's build output
 * (SB_UI_BUILD_DIR, set by CMake) when it exists, else none (the UI paths
 * then say how to build it). */
static const char *ui_directory(const sb_settings *s)
{
    if (s->http.ui_dir != NULL)
        return s->http.ui_dir;
#ifdef SB_UI_BUILD_DIR
    struct stat st;
    if (stat(SB_UI_BUILD_DIR, &st) == 0 && S_ISDIR(st.st_mode))
        return SB_UI_BUILD_DIR;
#endif
    return NULL;
}

/* The configured database, or the embedded one in state_dir; migrated. */
static int open_database(const sb_settings *s, const char *state_dir, int serving, sb_database **out,
                         sb_error *err)
{
    if (s->database.url == NULL && state_dir != NULL && mkdir(state_dir, 0700) != 0 && errno != EEXIST)
        return sb_error_set(err, 1, "cannot create state_dir %s: %s", state_dir, strerror(errno));
    sb_database_options o = {
        .url = s->database.url,
        .migration_url = s->database.migration_url,
        .state_dir = state_dir,
        .pool_size = s->database.pool_size > 0 ? (int)s->database.pool_size : 8,
        .connect_timeout_ms = s->database.connect_timeout_ms > 0 ? s->database.connect_timeout_ms : 10000,
        .migrate = 1,
        .check_role = serving,
        .allow_privileged_role = s->database.allow_privileged_role,
    };
    sb_migrate_report report;
    if (sb_database_open(&o, out, &report, err) != 0)
        return -1;
    sb_info("server", "database schema at version %d (%zu migration%s applied now)", report.to_version,
            report.applied, report.applied == 1 ? "" : "s");
    return 0;
}

int sb_control_plane_migrate(const sb_settings *s, const char *state_dir, sb_error *err)
{
    sb_database *d = NULL;
    int rc = open_database(s, state_dir ? state_dir : s->state_dir, 0, &d, err);
    sb_database_close(d);
    return rc;
}

/* Ready when the database answers and its schema is exactly the one this
 * binary knows (no pending migration, nothing newer applied by another
 * release). */
static int database_ready(void *ctx, char *why, size_t cap)
{
    sb_db *db = ctx;
    size_t n;
    const sb_migration *list = sb_migrations_builtin(&n);
    sb_migrate_report report;
    sb_error err;
    if (sb_migrate_status(db, list, n, &report, &err) != 0) {
        snprintf(why, cap, err.code == SB_MIGRATE_E_NEWER ? "database schema is newer than this sbridge"
                                                          : "database unreachable or schema unreadable");
        return 1;
    }
    if (report.pending > 0) {
        snprintf(why, cap, "%zu migration%s pending", report.pending, report.pending == 1 ? "" : "s");
        return 1;
    }
    return 0;
}

static int serve_openapi(sb_server_request *req, void *ctx)
{
    (void)ctx;
    size_t len;
    const char *doc = sb_openapi_document(&len);
    return sb_http_respond_raw(req, 200, "application/json", doc, len);
}

int sb_control_plane_routes(sb_router *r, sb_app *app, sb_error *err)
{
    sb_route openapi = {"GET", "/api/v1/openapi.json", SB_AUTH_PUBLIC, NULL, serve_openapi, NULL,
                        "getOpenApi", "This API's OpenAPI 3 document"};
    if (sb_router_add(r, &openapi, err) != 0)
        return -1;
    return sb_api_routes_register(r, app, err);
}

int sb_control_plane_start(const sb_settings *s, const sb_control_plane_options *opts,
                           sb_control_plane **out, sb_error *err)
{
    *out = NULL;
    sb_control_plane *cp = calloc(1, sizeof *cp);
    if (cp == NULL)
        return sb_error_set(err, 1, "out of memory");
    const char *state_dir = opts && opts->state_dir ? opts->state_dir : s->state_dir;
    int dev = opts && opts->dev_mode;
    if (!dev && s->session.pos.present && !s->session.cookie_secure) {
        sb_control_plane_stop(cp, 0);
        return sb_error_set(err, 1, "session.cookie_secure: false is only allowed in dev mode; "
                                    "terminate TLS in front of sbridge and keep cookies Secure");
    }
    if (!dev && s->mfa.pos.present && !s->mfa.require_step_up) {
        sb_control_plane_stop(cp, 0);
        return sb_error_set(err, 1, "mfa.require_step_up: false is only allowed in dev mode; "
                                    "Tier-2 actions on requests whose policy requires MFA always "
                                    "need a fresh step-up on a server");
    }
    if (open_database(s, state_dir, 1, &cp->database, err) != 0)
        goto fail;
    cp->db = sb_database_pool(cp->database);
    if (sb_api_seed_roles(cp->db, err) != 0)
        goto fail;
    if (sb_app_init(&cp->app, s, cp->db, dev, state_dir, err) != 0)
        goto fail;
    cp->app_ready = 1;
    if (opts && opts->kms) {
        sb_kms_close(cp->app.kms_owned);
        cp->app.kms = cp->app.kms_owned = sb_kms_plugin_open(opts->kms);
        if (cp->app.kms == NULL) {
            sb_error_set(err, 1, "kms instance %s is not a KMS", opts->kms->name);
            goto fail;
        }
        sb_info("server", "read keys are wrapped by KMS instance %s (plugin %s)", opts->kms->name,
                opts->kms->plugin->loaded.desc->name);
    } else if (!dev) {
        sb_warn("server", "no KMS is configured (kms: in the configuration): read requests "
                          "cannot be approved until one is");
    }
    sb_outbox_routing_from_settings(s); /* the API's notifications (even without a worker) */
    if (sb_api_bootstrap_admin(&cp->app, err) != 0 ||
        sb_api_bootstrap_dev_seed(&cp->app, opts && opts->seed_out ? opts->seed_out : stdout, err) != 0)
        goto fail;
    cp->app.gitops_plugin = opts ? opts->gitops_plugin : NULL;
    cp->gitops = (sb_gitops_poller){.plugin = cp->app.gitops_plugin, .kms = cp->app.kms};
    if (opts && opts->run_background &&
        sb_worker_tasks_start(s, s->role == SB_ROLE_SERVER ? SB_WORKER_MODE_SERVER : SB_WORKER_MODE_DEV, cp->db,
                              s->gitops_observation.enabled ? &cp->gitops : NULL,
                              opts->plugins, cp->app.audit_key, &cp->worker, err) != 0)
        goto fail;
    cp->router = sb_router_new();
    if (sb_control_plane_routes(cp->router, &cp->app, err) != 0)
        goto fail;
    if (sb_static_site_open(ui_directory(s), &cp->ui, err) != 0)
        goto fail;
    sb_http_readiness ready = {"database", database_ready, cp->db};
    sb_http_config cfg = {
        .listen = s->http.listen ? s->http.listen : "127.0.0.1:8080",
        .threads = s->http.threads > 0 ? (unsigned)s->http.threads : 8,
        .request_timeout_ms = s->http.request_timeout_ms > 0 ? (unsigned)s->http.request_timeout_ms : 30000,
        .body_limit = s->http.max_body_bytes > 0 ? (size_t)s->http.max_body_bytes : 1 << 20,
        .connection_limit = s->http.max_connections > 0 ? (unsigned)s->http.max_connections : 0,
        .per_ip_connection_limit =
            s->http.max_connections_per_ip > 0 ? (unsigned)s->http.max_connections_per_ip : 0,
        .header_timeout_ms = s->http.header_timeout_ms > 0 ? (unsigned)s->http.header_timeout_ms : 0,
        .max_header_bytes = s->http.max_header_bytes > 0 ? (size_t)s->http.max_header_bytes : 0,
        .tls_cert_path = s->http.tls_cert,
        .tls_key_path = s->http.tls_key,
        .enable_metrics = 1,
        .gate = sb_api_gate,
        .gate_ctx = &cp->app,
        .fallback = sb_static_site_serve,
        .fallback_ctx = cp->ui,
        .readiness = &ready,
        .n_readiness = 1,
        .trusted_proxies = (const char *const *)s->http.trusted_proxies.items,
        .n_trusted_proxies = s->http.trusted_proxies.n,
    };
    if (sb_http_server_start(&cfg, cp->router, &cp->http, err) != 0)
        goto fail;
    const char *host = cfg.listen;
    const char *colon = strrchr(host, ':');
    int host_len = colon ? (int)(colon - host) : 0;
    if (host_len == 0 || (host_len == 7 && strncmp(host, "0.0.0.0", 7) == 0))
        host = "127.0.0.1", host_len = 9;
    snprintf(cp->url, sizeof cp->url, "%s://%.*s:%u", s->http.tls_cert ? "https" : "http", host_len, host,
             sb_http_server_port(cp->http));
    sb_info("server", "control plane listening on %s", cp->url);
    *out = cp;
    return 0;
fail:
    sb_control_plane_stop(cp, 0);
    return -1;
}

const char *sb_control_plane_url(const sb_control_plane *cp) { return cp->url; }

void sb_control_plane_stop(sb_control_plane *cp, int64_t grace_ms)
{
    if (cp == NULL)
        return;
    if (cp->http && sb_http_server_stop(cp->http, grace_ms > 0 ? grace_ms : 0) == 1)
        sb_warn("server", "some requests were cut off after the %lld ms grace", (long long)grace_ms);
    sb_static_site_close(cp->ui);
    sb_worker_stop(cp->worker);
    if (cp->app_ready)
        sb_app_close(&cp->app); /* before the router: requests it still holds name their routes */
    sb_router_free(cp->router);
    sb_database_close(cp->database);
    free(cp);
}

int sb_control_plane_dev_setup_token(sb_control_plane *cp, const char *username, int64_t ttl_s,
                                     char *out, size_t cap, char id_out[40], sb_error *err)
{
    return sb_api_dev_setup_token(&cp->app, username, ttl_s, out, cap, id_out, err);
}
