/* config/settings.c — see settings.h. The tables below are the single
 * source of truth for every role's keys, types, ranges and defaults. */
#include "config/settings.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "util/log.h"

#define MS_S 1000LL
#define MS_M (60 * MS_S)
#define MS_H (60 * MS_M)

#define ROW(k, t, st, fld, fl, def, lo, hi, en, help)                                              \
    {k, t, offsetof(st, fld), fl, def, lo, hi, en, help, NULL, 0, 0}
#define STR(k, st, fld, fl, def, help) ROW(k, SB_CFG_STRING, st, fld, fl, def, 1, 0, NULL, help)
#define INT(k, st, fld, def, lo, hi, help) ROW(k, SB_CFG_INT, st, fld, 0, def, lo, hi, NULL, help)
#define BOOL(k, st, fld, def, help) ROW(k, SB_CFG_BOOL, st, fld, 0, def, 1, 0, NULL, help)
#define DUR(k, st, fld, def, lo, hi, help) ROW(k, SB_CFG_DURATION, st, fld, 0, def, lo, hi, NULL, help)
#define ENUM(k, st, fld, fl, def, values, help) ROW(k, SB_CFG_ENUM, st, fld, fl, def, 1, 0, values, help)
#define SECTION(k, st, fld, sub, help)                                                             \
    {k, SB_SPEC_SECTION, offsetof(st, fld), 0, NULL, 1, 0, NULL, help, sub,                        \
     sizeof sub / sizeof sub[0], 0}
#define SECTION_REQ(k, st, fld, sub, help)                                                         \
    {k, SB_SPEC_SECTION, offsetof(st, fld), SB_CFG_REQUIRED, NULL, 1, 0, NULL, help, sub,          \
     sizeof sub / sizeof sub[0], 0}
#define LIST(k, st, fld, sub, elem, help)                                                          \
    {k, SB_SPEC_SECTION_LIST, offsetof(st, fld), 0, NULL, 1, 0, NULL, help, sub,                   \
     sizeof sub / sizeof sub[0], sizeof(elem)}

static const sb_spec log_spec[] = {
    ENUM("level", sb_log_settings, level, 0, "info", "debug|info|warn|error",
         "minimum level written (SBRIDGE_LOG_LEVEL overrides)"),
    ENUM("format", sb_log_settings, format, 0, "json", "json", "log line format"),
};

static const sb_spec plugin_load_spec[] = {
    STR("name", sb_plugin_load_settings, name, SB_CFG_REQUIRED, NULL,
        "the plugin's descriptor name, e.g. vault"),
    STR("file", sb_plugin_load_settings, file, SB_CFG_REQUIRED, NULL,
        "file name inside plugins.directory, e.g. vault.so"),
    STR("sha256", sb_plugin_load_settings, sha256, SB_SPEC_HEX64, NULL,
        "pin: refuse the file unless its SHA-256 matches"),
    ROW("capabilities", SB_CFG_STRING_LIST, sb_plugin_load_settings, capabilities, 0, NULL, 1, 0,
        NULL, "capabilities the plugin must provide: provider, kms, gitops, notifier"),
};

static const sb_spec plugins_spec[] = {
    STR("directory", sb_plugins_settings, directory, SB_CFG_PATH, NULL,
        "the only directory plugins load from (default: the installed plugin directory; "
        "SBRIDGE_PLUGIN_DIR overrides)"),
    LIST("load", sb_plugins_settings, load, plugin_load_spec, sb_plugin_load_settings,
         "plugins to load; nothing else is ever loaded"),
};

/* KMS and GitOps instances. */
static const sb_spec instance_spec[] = {
    STR("name", sb_instance_settings, name, SB_CFG_REQUIRED, NULL, "instance name"),
    STR("plugin", sb_instance_settings, plugin, SB_CFG_REQUIRED, NULL,
        "name of a plugin listed in plugins.load"),
    {"config", SB_SPEC_NODE, offsetof(sb_instance_settings, config), 0, NULL, 1, 0, NULL,
     "the plugin's own settings, checked against its schema", NULL, 0, 0},
};

/* Notifier instances (server): the channels notifications go out on, with
 * their pace and retry budget. */
static const sb_spec notifier_instance_spec[] = {
    STR("name", sb_instance_settings, name, SB_CFG_REQUIRED, NULL,
        "instance name: the channel name workflows select (notification_channels)"),
    STR("plugin", sb_instance_settings, plugin, SB_CFG_REQUIRED, NULL,
        "name of a notifier plugin listed in plugins.load"),
    INT("rate_limit", sb_instance_settings, rate_limit, "1", 0, 1000,
        "deliveries per second on this channel, bursting to one second's worth (0: no limit); "
        "a Retry-After from the plugin pauses the channel either way"),
    INT("max_attempts", sb_instance_settings, max_attempts, "8", 1, 100,
        "delivery attempts of one event before it is dead (kept for admins: GET "
        "/api/v1/notifications?state=dead)"),
    DUR("retry_base", sb_instance_settings, retry_base_ms, "5s", 1, 1 * MS_H,
        "delay before the first retry; it doubles per attempt (capped at 1h) with up to 20 percent "
        "jitter, and is never shorter than the plugin's Retry-After"),
    {"config", SB_SPEC_NODE, offsetof(sb_instance_settings, config), 0, NULL, 1, 0, NULL,
     "the plugin's own settings, checked against its schema", NULL, 0, 0},
};

/* Provider instances (agent, dev): also the fence and the request pace. */
static const sb_spec provider_instance_spec[] = {
    STR("name", sb_instance_settings, name, SB_CFG_REQUIRED, NULL,
        "instance name: the provider connection it serves"),
    STR("plugin", sb_instance_settings, plugin, SB_CFG_REQUIRED, NULL,
        "name of a plugin listed in plugins.load"),
    ROW("fence", SB_CFG_STRING_MAP, sb_instance_settings, fence, 0, NULL, 1, 0, NULL,
        "labels every list is restricted to (ANDed with a job's selector)"),
    INT("rate_limit", sb_instance_settings, rate_limit, "20", 0, 100000,
        "HTTP requests per second sent to the provider by all workers "
        "together, retries included, bursting to one second's worth (0: no limit); a "
        "throttled answer pauses the instance for its Retry-After either way"),
    {"config", SB_SPEC_NODE, offsetof(sb_instance_settings, config), 0, NULL, 1, 0, NULL,
     "the plugin's own settings, checked against its schema", NULL, 0, 0},
};

static const sb_spec http_spec[] = {
    STR("listen", sb_http_settings, listen, SB_SPEC_LISTEN, "127.0.0.1:8080", "address to listen on"),
    STR("public_url", sb_http_settings, public_url, SB_CFG_URL, NULL,
        "URL users reach the UI at (links in notifications)"),
    INT("max_body_bytes", sb_http_settings, max_body_bytes, "1048576", 1024, 64LL << 20,
        "largest accepted request body"),
    DUR("request_timeout", sb_http_settings, request_timeout_ms, "30s", 1 * MS_S, 10 * MS_M,
        "time limit for one request"),
    INT("threads", sb_http_settings, threads, "8", 1, 256, "HTTP worker threads"),
    INT("max_connections", sb_http_settings, max_connections, "1024", 16, 65536,
        "connections held open at once (each may be a parked long-poll); more wait in the "
        "listen queue"),
    INT("max_connections_per_ip", sb_http_settings, max_connections_per_ip, NULL, 1, 65536,
        "connections from one client address; more are closed at once (absent: 128, or no "
        "limit when trusted_proxies is set, since a proxy carries many clients)"),
    DUR("header_timeout", sb_http_settings, header_timeout_ms, "10s", 1 * MS_S, 5 * MS_M,
        "time a connection gets to send a complete request header; a slower one is closed "
        "(a request whose header is in is never cut by it)"),
    INT("max_header_bytes", sb_http_settings, max_header_bytes, "8192", 1024, 65536,
        "largest request line plus headers (431 headers_too_large over it); each connection "
        "takes twice this plus 4 KiB of memory"),
    STR("tls_cert", sb_http_settings, tls_cert, SB_CFG_PATH, NULL, "PEM certificate for in-process TLS"),
    STR("tls_key", sb_http_settings, tls_key, SB_CFG_PATH, NULL, "PEM private key for in-process TLS"),
    ROW("trusted_proxies", SB_CFG_STRING_LIST, sb_http_settings, trusted_proxies, SB_SPEC_CIDR, NULL,
        1, 0, NULL,
        "reverse proxies (IP addresses or networks such as 10.0.0.0/8) whose X-Forwarded-For "
        "names the client; from anyone else the header is ignored"),
    STR("ui_dir", sb_http_settings, ui_dir, SB_CFG_PATH, NULL,
        "directory of the built web UI (ui/dist after `npm run build`); absent: the source "
        "tree's ui/dist when this sbridge was built from one and it is built"),
};

static const sb_spec database_spec[] = {
    STR("url", sb_database_settings, url, SB_CFG_SECRET, NULL,
        "libpq connection URL the server connects as: a role with data rights only; absent: "
        "a private embedded PostgreSQL in state_dir"),
    STR("migration_url", sb_database_settings, migration_url, SB_CFG_SECRET, NULL,
        "libpq connection URL of the role that owns the tables, used only to run migrations and "
        "grant database.url's role its rights (docs/database.md); absent: migrations run as "
        "database.url's role"),
    BOOL("allow_privileged_role", sb_database_settings, allow_privileged_role, "false",
         "development only: start even when database.url's role is a superuser or owns the "
         "tables (it could switch the audit triggers off), with a warning"),
    INT("pool_size", sb_database_settings, pool_size, "8", 1, 512, "connections per process"),
    DUR("connect_timeout", sb_database_settings, connect_timeout_ms, "10s", 1 * MS_S, 5 * MS_M,
        "time allowed to connect"),
};

static const sb_spec session_spec[] = {
    DUR("idle_timeout", sb_session_settings, idle_timeout_ms, "30m", 1 * MS_M, 24 * MS_H,
        "sliding idle expiry of a session"),
    DUR("absolute_timeout", sb_session_settings, absolute_timeout_ms, "8h", 5 * MS_M, 7 * 24 * MS_H,
        "hard expiry of a session"),
    BOOL("cookie_secure", sb_session_settings, cookie_secure, "true",
         "mark the session cookie Secure (only dev may turn this off)"),
};

static const sb_spec mfa_spec[] = {
    BOOL("require_step_up", sb_mfa_settings, require_step_up, "true",
         "Tier-2 actions (approve, reject, reveal, fill, direct reveal) on a request whose policy "
         "says mfa_required need a recent MFA verification (only dev may turn this off; dev "
         "leaves it off unless its file has an mfa section)"),
    DUR("step_up_window", sb_mfa_settings, step_up_window_ms, "15m", 1 * MS_M, 12 * MS_H,
        "how long an MFA verification counts as fresh for step-up"),
};

static const sb_spec keys_spec[] = {
    STR("master_key", sb_keys_settings, master_key, SB_CFG_SECRET, NULL,
        "64 hex digits from which session, token, JWT and audit-chain keys are derived; every "
        "replica needs the same one (absent: state_dir/master.key, created on first start)"),
};

static const sb_spec admin_spec[] = {
    STR("username", sb_admin_settings, username, 0, NULL, "bootstrap administrator login"),
    STR("password", sb_admin_settings, password, SB_CFG_SECRET, NULL,
        "bootstrap administrator password (use ${env:...} or ${file:...})"),
};

static const sb_spec oidc_spec[] = {
    STR("issuer", sb_oidc_settings, issuer, SB_CFG_REQUIRED | SB_CFG_URL, NULL,
        "the OpenID provider's issuer URL, exactly as its ID tokens name it (iss); its "
        "/.well-known/openid-configuration is read at the first sign-in and hourly after; https (http "
        "only to a loopback host)"),
    STR("client_id", sb_oidc_settings, client_id, SB_CFG_REQUIRED, NULL,
        "the client id registered at the provider for sbridge"),
    STR("client_secret", sb_oidc_settings, client_secret, SB_CFG_REQUIRED | SB_CFG_SECRET, NULL,
        "the client's secret (use ${env:...} or ${file:...}); sent to the token endpoint only"),
    STR("redirect_uri", sb_oidc_settings, redirect_uri, SB_CFG_REQUIRED | SB_CFG_URL, NULL,
        "the callback URL registered at the provider: the URL users reach sbridge at followed "
        "by /api/v1/auth/oidc/callback"),
    STR("scopes", sb_oidc_settings, scopes, 0, "openid email profile",
        "scopes asked for, separated by spaces; must include openid"),
    STR("username_claim", sb_oidc_settings, username_claim, 0, "preferred_username",
        "ID token claim that names a new user (falls back to email when absent); the account "
        "itself is keyed by issuer and subject (sub), never by this name"),
    ROW("allowed_email_domains", SB_CFG_STRING_LIST, sb_oidc_settings, allowed_email_domains, 0,
        NULL, 1, 0, NULL,
        "when set, only users whose email claim is verified and in one of these domains may "
        "sign in (e.g. [example.com])"),
    STR("button_label", sb_oidc_settings, button_label, 0, "Sign in with SSO",
        "text of the sign-in button the web UI shows"),
    DUR("clock_skew", sb_oidc_settings, clock_skew_ms, "60s", 0, 5 * MS_M,
        "tolerance for the ID token's iat and exp against this server's clock"),
};

static const sb_spec worker_spec[] = {
    BOOL("enabled", sb_worker_settings, enabled, "true", "run worker loops in this process"),
    STR("listen", sb_worker_settings, listen, SB_SPEC_LISTEN, "127.0.0.1:9466",
        "sbridge worker: address of /healthz, /readyz and /metrics (port 0: any free port)"),
    DUR("expire_wraps", sb_worker_settings, expire_wraps_ms, "30s", 1 * MS_S, 1 * MS_H, "interval"),
    DUR("expire_requests", sb_worker_settings, expire_requests_ms, "1m", 1 * MS_S, 1 * MS_H, "interval"),
    DUR("expire_reveal_sessions", sb_worker_settings, expire_reveal_sessions_ms, "30s", 1 * MS_S,
        1 * MS_H, "interval"),
    DUR("mark_stale_agents", sb_worker_settings, mark_stale_agents_ms, "30s", 1 * MS_S, 1 * MS_H,
        "interval"),
    DUR("recover_leases", sb_worker_settings, recover_leases_ms, "10s", 1 * MS_S, 1 * MS_H, "interval"),
    DUR("schedule_discovery", sb_worker_settings, schedule_discovery_ms, "1m", 1 * MS_S, 24 * MS_H,
        "interval"),
    DUR("mark_catalog_missing", sb_worker_settings, mark_catalog_missing_ms, "10m", 1 * MS_S,
        24 * MS_H, "interval"),
    DUR("catalog_missing_after", sb_worker_settings, catalog_missing_after_ms, "24h", 1 * MS_S,
        90 * 24 * MS_H,
        "a catalog row not seen by a successful discovery for this long becomes missing"),
    DUR("poll_gitops", sb_worker_settings, poll_gitops_ms, "3s", 1 * MS_S, 1 * MS_H, "interval"),
    DUR("dispatch_notifications", sb_worker_settings, dispatch_notifications_ms, "5s", 1 * MS_S,
        1 * MS_H, "interval"),
};

static const sb_spec gitops_observation_spec[] = {
    BOOL("enabled", sb_gitops_observation_settings, enabled, "false",
         "serve the Argo CD endpoint, mapping and observation routes and observe every executed "
         "patch of a mapped secret (off: those routes do not exist)"),
    STR("plugin", sb_gitops_observation_settings, plugin, 0, "argocd",
        "the loaded plugin (plugins.load, capability gitops) that reads Argo CD"),
    DUR("timeout", sb_gitops_observation_settings, timeout_ms, "30m", 1 * MS_M, 24 * MS_H,
        "how long an observation waits for evidence before it ends applied_unverified"),
};

static const sb_spec control_plane_spec[] = {
    STR("url", sb_control_plane_settings, url, SB_CFG_REQUIRED | SB_CFG_URL, NULL,
        "base URL of the control plane API"),
    STR("ca_file", sb_control_plane_settings, ca_file, SB_CFG_PATH, NULL, "extra CA bundle (PEM)"),
    STR("identity_file", sb_control_plane_settings, identity_file, SB_CFG_REQUIRED | SB_CFG_PATH, NULL,
        "where the agent keeps its enrolled identity (mode 0600)"),
    STR("connection", sb_control_plane_settings, connection, 0, NULL,
        "the provider connection this agent enrolls for (default: the name of the only "
        "provider instance)"),
    STR("name", sb_control_plane_settings, name, 0, NULL,
        "this agent's name at the control plane (default: the host name)"),
    STR("enrollment_token", sb_control_plane_settings, enrollment_token, SB_CFG_SECRET, NULL,
        "one-time token for the first start (use ${env:...} or ${file:...}); when absent, "
        "SBRIDGE_ENROLLMENT_TOKEN; unused once the identity file exists"),
    DUR("claim_wait", sb_control_plane_settings, claim_wait_ms, "25s", 1 * MS_S, 25 * MS_S,
        "long-poll wait for a job (the control plane holds a claim at most 25 s)"),
    DUR("heartbeat_interval", sb_control_plane_settings, heartbeat_interval_ms, "15s", 1 * MS_S,
        5 * MS_M, "heartbeat period"),
};

static const sb_spec health_spec[] = {
    STR("listen", sb_health_settings, listen, SB_SPEC_LISTEN, "127.0.0.1:9465",
        "loopback address for /healthz, /readyz and /metrics"),
};

static const sb_spec demo_spec[] = {
    BOOL("seed", sb_demo_settings, seed, "true",
         "seed demo users; with a Vault emulator, also the demo tenancy, secrets and agent"),
    STR("vault_emulator", sb_demo_settings, vault_emulator, SB_CFG_PATH, NULL,
        "the Vault emulator the demo runs (absent: this source tree's "
        "tests/emulators/vault/vault_emulator.py, when there is one)"),
};

#define ROLE_ROW ENUM("role", sb_settings, role_name, SB_CFG_REQUIRED, NULL, "server|agent|dev", \
                      "which sbridge role this file configures")
#define GRACE_ROW DUR("shutdown_grace", sb_settings, shutdown_grace_ms, "20s", 0, 10 * MS_M, \
                      "time to drain on SIGTERM")

static const sb_spec server_spec[] = {
    ROLE_ROW,
    SECTION("log", sb_settings, log, log_spec, "logging"),
    SECTION("http", sb_settings, http, http_spec, "the API and UI listener"),
    SECTION("database", sb_settings, database, database_spec, "PostgreSQL"),
    STR("state_dir", sb_settings, state_dir, SB_CFG_PATH, "/var/lib/sbridge",
        "private state (embedded PostgreSQL, local keys)"),
    SECTION("session", sb_settings, session, session_spec, "login sessions"),
    SECTION("mfa", sb_settings, mfa, mfa_spec, "multi-factor authentication (TOTP) and step-up"),
    SECTION("keys", sb_settings, keys, keys_spec, "key material"),
    SECTION("bootstrap_admin", sb_settings, bootstrap_admin, admin_spec, "first administrator"),
    SECTION("oidc", sb_settings, oidc, oidc_spec,
            "single sign-on through an OpenID Connect provider (docs/sso.md); absent: off"),
    SECTION("plugins", sb_settings, plugins, plugins_spec, "plugins to load"),
    SECTION("kms", sb_settings, kms, instance_spec, "the KMS instance that wraps per-request keys"),
    LIST("notifiers", sb_settings, notifiers, notifier_instance_spec, sb_instance_settings,
         "notifier instances: the channels notifications are delivered on (docs/notifications.md)"),
    LIST("gitops", sb_settings, gitops, instance_spec, sb_instance_settings, "GitOps observers"),
    SECTION("gitops_observation", sb_settings, gitops_observation, gitops_observation_spec,
            "Argo CD endpoints managed through the API and the observation of executed patches"),
    SECTION("worker", sb_settings, worker, worker_spec, "background loops"),
    GRACE_ROW,
};

static const sb_spec agent_spec[] = {
    ROLE_ROW,
    SECTION("log", sb_settings, log, log_spec, "logging"),
    SECTION_REQ("control_plane", sb_settings, control_plane, control_plane_spec,
                "how the agent reaches the control plane"),
    SECTION("health", sb_settings, health, health_spec, "local health endpoint"),
    SECTION_REQ("plugins", sb_settings, plugins, plugins_spec, "plugins to load"),
    LIST("providers", sb_settings, providers, provider_instance_spec, sb_instance_settings,
         "provider instances this agent serves"),
    INT("concurrency", sb_settings, concurrency, "4", 1, 64, "jobs executed at once (worker threads)"),
    INT("http_batch_width", sb_settings, http_batch_width, "8", 1, 32,
        "HTTP requests one plugin call may have in flight at once (host->http_batch, e.g. a Vault "
        "recursive list); the provider instance's rate_limit still paces them"),
    GRACE_ROW,
};

static const sb_spec dev_spec[] = {
    ROLE_ROW,
    SECTION("log", sb_settings, log, log_spec, "logging"),
    SECTION("http", sb_settings, http, http_spec, "the API and UI listener"),
    STR("state_dir", sb_settings, state_dir, SB_CFG_PATH, NULL,
        "private state (default: a fresh temporary directory)"),
    SECTION("plugins", sb_settings, plugins, plugins_spec, "plugins to load"),
    SECTION("kms", sb_settings, kms, instance_spec, "the KMS instance"),
    SECTION("mfa", sb_settings, mfa, mfa_spec,
            "multi-factor authentication (TOTP) and step-up (absent: step-up is off in dev)"),
    LIST("providers", sb_settings, providers, provider_instance_spec, sb_instance_settings,
         "provider instances sbridge dev starts and lists at start-up (no agent serves them "
         "from dev yet: enroll one with sbridge agent)"),
    LIST("notifiers", sb_settings, notifiers, notifier_instance_spec, sb_instance_settings,
         "notifier instances: the channels notifications are delivered on (docs/notifications.md)"),
    SECTION("gitops_observation", sb_settings, gitops_observation, gitops_observation_spec,
            "Argo CD endpoints managed through the API and the observation of executed patches"),
    SECTION("oidc", sb_settings, oidc, oidc_spec,
            "single sign-on through an OpenID Connect provider (docs/sso.md); absent: off"),
    SECTION("demo", sb_settings, demo, demo_spec, "demo data"),
    GRACE_ROW,
};

static const struct {
    sb_role role;
    const char *name;
    const sb_spec *spec;
    size_t n;
} roles[] = {
    {SB_ROLE_SERVER, "server", server_spec, sizeof server_spec / sizeof server_spec[0]},
    {SB_ROLE_AGENT, "agent", agent_spec, sizeof agent_spec / sizeof agent_spec[0]},
    {SB_ROLE_DEV, "dev", dev_spec, sizeof dev_spec / sizeof dev_spec[0]},
};

const char *sb_role_name(sb_role role)
{
    for (size_t i = 0; i < sizeof roles / sizeof roles[0]; i++)
        if (roles[i].role == role)
            return roles[i].name;
    return "unknown";
}

const sb_spec *sb_settings_schema(sb_role role, size_t *n)
{
    for (size_t i = 0; i < sizeof roles / sizeof roles[0]; i++)
        if (roles[i].role == role) {
            *n = roles[i].n;
            return roles[i].spec;
        }
    *n = 0;
    return NULL;
}

static size_t apply_tree(const char *expected_role, sb_settings *out, sb_diags *d);

size_t sb_settings_load(const char *path, const char *expected_role, sb_settings *out, sb_diags *d)
{
    memset(out, 0, sizeof *out);
    out->tree = sb_yaml_load_file(path, d);
    return apply_tree(expected_role, out, d);
}

size_t sb_settings_load_text(const char *text, size_t len, const char *expected_role, sb_settings *out,
                             sb_diags *d)
{
    memset(out, 0, sizeof *out);
    out->tree = sb_yaml_load_buffer(text, len, d);
    return apply_tree(expected_role, out, d);
}

static size_t apply_tree(const char *expected_role, sb_settings *out, sb_diags *d)
{
    if (out->tree == NULL)
        return d->n_errors ? d->n_errors : 1;
    const sb_ynode *role = sb_yaml_get(out->tree, "role");
    if (out->tree->kind != SB_YNODE_MAP) {
        sb_diags_error(d, out->tree->line, out->tree->col,
                       "expected a mapping of settings at the top level, found %s",
                       sb_yaml_kind_name(out->tree));
        return d->n_errors;
    }
    if (role == NULL || role->kind != SB_YNODE_SCALAR) {
        sb_diags_error(d, out->tree->line, out->tree->col,
                       "role: required key is missing; start the file with 'role: server', "
                       "'role: agent' or 'role: dev'");
        return d->n_errors;
    }
    for (size_t i = 0; i < sizeof roles / sizeof roles[0]; i++) {
        if (strcmp(role->text, roles[i].name) != 0)
            continue;
        if (expected_role && strcmp(expected_role, roles[i].name) != 0) {
            sb_diags_error(d, role->line, role->col,
                           "role: this file configures '%s', but it was given to 'sbridge %s'",
                           roles[i].name, expected_role);
            return d->n_errors;
        }
        out->role = roles[i].role;
        sb_schema_apply(roles[i].spec, roles[i].n, out->tree, out, d);
        return d->n_errors;
    }
    sb_diags_error(d, role->line, role->col, "role: '%s' is not one of server|agent|dev", role->text);
    return d->n_errors;
}

void sb_settings_free(sb_settings *s)
{
    size_t n;
    const sb_spec *spec = s->role ? sb_settings_schema(s->role, &n) : NULL;
    if (spec)
        sb_schema_free(spec, n, s);
    sb_yaml_free(s->tree);
    memset(s, 0, sizeof *s);
}

void sb_settings_apply_log_level(const sb_settings *s)
{
    const char *env = getenv("SBRIDGE_LOG_LEVEL");
    if ((env && *env) || s->log.level == NULL)
        return;
    int level = sb_log_parse_level(s->log.level);
    if (level >= 0)
        sb_log_set_level((sb_level)level);
}
