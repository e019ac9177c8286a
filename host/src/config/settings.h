/*
 * config/settings.h — the typed configuration of each role (server, agent,
 * dev) and the loader that fills it from YAML.
 *
 * Contract: sb_settings_load reads FILE, requires `role:` to be one of
 * server|agent|dev (and to match `expected_role` unless that is NULL),
 * validates every key against the role's schema (schema.h) and returns 0
 * with *out filled, or the number of errors (all of them in `d`). Plugin
 * instance configs are kept as YAML nodes here and validated against each
 * plugin's own schema by the plugin registry (plugin/registry.h), which
 * needs the loaded plugins. `sb_settings_free` releases everything,
 * zeroing secrets.
 */
#ifndef SB_CONFIG_SETTINGS_H
#define SB_CONFIG_SETTINGS_H

#include "config/diag.h"
#include "config/schema.h"
#include "config/yaml_doc.h"

typedef struct sb_log_settings {
    sb_cfg_pos pos;
    char *level;
    char *format;
} sb_log_settings;

typedef struct sb_plugin_load_settings {
    sb_cfg_pos pos;
    char *name;
    char *file;
    char *sha256;
    sb_strlist capabilities;
} sb_plugin_load_settings;

typedef struct sb_plugins_settings {
    sb_cfg_pos pos;
    char *directory;
    sb_section_list load; /* sb_plugin_load_settings */
} sb_plugins_settings;

/* One configured plugin instance: a provider connection, a notifier, a
 * GitOps observer or the KMS. */
typedef struct sb_instance_settings {
    sb_cfg_pos pos;
    char *name;
    char *plugin;
    sb_strmap fence; /* providers: labels every list is restricted to */
    int64_t rate_limit; /* providers on an agent: operations per second; notifiers:
                           deliveries per second; 0 = none */
    int64_t max_attempts;  /* notifiers: attempts before an event is dead */
    int64_t retry_base_ms; /* notifiers: first retry delay (doubling, with jitter) */
    const sb_ynode *config;
} sb_instance_settings;

typedef struct sb_http_settings {
    sb_cfg_pos pos;
    char *listen;
    char *public_url;
    int64_t max_body_bytes;
    int64_t request_timeout_ms;
    int64_t threads;
    int64_t max_connections;
    int64_t max_connections_per_ip; /* 0: absent (the server's default) */
    int64_t header_timeout_ms;
    int64_t max_header_bytes;
    char *tls_cert;
    char *tls_key;
    sb_strlist trusted_proxies; /* IP addresses / networks (SB_SPEC_CIDR) */
    char *ui_dir; /* the built web UI (ui/dist); NULL: the build tree's, when built */
} sb_http_settings;

typedef struct sb_database_settings {
    sb_cfg_pos pos;
    char *url; /* secret: may hold a password; NULL: embedded PostgreSQL */
    char *migration_url; /* secret: the tables' owner, for migrations; NULL: url's role */
    int allow_privileged_role; /* dev only: serve as a superuser/owner role with a warning */
    int64_t pool_size;
    int64_t connect_timeout_ms;
} sb_database_settings;

typedef struct sb_session_settings {
    sb_cfg_pos pos;
    int64_t idle_timeout_ms;
    int64_t absolute_timeout_ms;
    int cookie_secure;
} sb_session_settings;

typedef struct sb_mfa_settings {
    sb_cfg_pos pos;
    int require_step_up;        /* Tier-2 actions on mfa_required requests ask for a fresh step-up */
    int64_t step_up_window_ms;  /* how long a verification stays fresh */
} sb_mfa_settings;

typedef struct sb_admin_settings {
    sb_cfg_pos pos;
    char *username;
    char *password;
} sb_admin_settings;

/* Single sign-on through an OpenID Connect provider (api/oidc_*.c); off
 * when the section is absent (pos.present == 0). */
typedef struct sb_oidc_settings {
    sb_cfg_pos pos;
    char *issuer;        /* https URL (http only to a loopback host) */
    char *client_id;
    char *client_secret; /* secret: ${env:NAME} or ${file:/path} */
    char *redirect_uri;  /* <public URL>/api/v1/auth/oidc/callback */
    char *scopes;        /* space-separated; must include openid */
    char *username_claim;
    sb_strlist allowed_email_domains; /* empty: any */
    char *button_label;
    int64_t clock_skew_ms;
} sb_oidc_settings;

typedef struct sb_keys_settings {
    sb_cfg_pos pos;
    char *master_key; /* secret: 64 hex digits; NULL: <state_dir>/master.key */
} sb_keys_settings;

typedef struct sb_worker_settings {
    sb_cfg_pos pos;
    int enabled;
    char *listen; /* `sbridge worker`'s /healthz, /readyz, /metrics */
    int64_t expire_wraps_ms;
    int64_t expire_requests_ms;
    int64_t expire_reveal_sessions_ms;
    int64_t mark_stale_agents_ms;
    int64_t recover_leases_ms;
    int64_t schedule_discovery_ms;
    int64_t mark_catalog_missing_ms;
    int64_t catalog_missing_after_ms; /* an age, not an interval */
    int64_t poll_gitops_ms;
    int64_t dispatch_notifications_ms;
} sb_worker_settings;

typedef struct sb_gitops_observation_settings {
    sb_cfg_pos pos;
    int enabled;
    char *plugin;       /* the loaded GITOPS plugin; default "argocd" */
    int64_t timeout_ms; /* an observation's wait for evidence */
} sb_gitops_observation_settings;

typedef struct sb_control_plane_settings {
    sb_cfg_pos pos;
    char *url;
    char *ca_file;
    char *identity_file;
    char *connection;       /* NULL: the only provider instance's name */
    char *name;             /* NULL: the host name */
    char *enrollment_token; /* secret; NULL: SBRIDGE_ENROLLMENT_TOKEN */
    int64_t claim_wait_ms;
    int64_t heartbeat_interval_ms;
} sb_control_plane_settings;

typedef struct sb_health_settings {
    sb_cfg_pos pos;
    char *listen;
} sb_health_settings;

typedef struct sb_demo_settings {
    sb_cfg_pos pos;
    int seed;
    char *vault_emulator;
} sb_demo_settings;

typedef enum sb_role { SB_ROLE_SERVER = 1, SB_ROLE_AGENT, SB_ROLE_DEV } sb_role;

/* One struct for all roles; each role's schema fills only its keys. */
typedef struct sb_settings {
    sb_cfg_pos pos;
    sb_role role;
    char *role_name;
    sb_log_settings log;
    sb_plugins_settings plugins;
    int64_t shutdown_grace_ms;
    /* server and dev */
    sb_http_settings http;
    sb_database_settings database;
    char *state_dir;
    sb_session_settings session;
    sb_mfa_settings mfa;
    sb_keys_settings keys;
    sb_admin_settings bootstrap_admin;
    sb_oidc_settings oidc;
    sb_instance_settings kms;
    sb_section_list notifiers; /* sb_instance_settings */
    sb_section_list gitops;    /* sb_instance_settings */
    sb_gitops_observation_settings gitops_observation;
    sb_worker_settings worker;
    sb_demo_settings demo;
    /* agent and dev */
    sb_control_plane_settings control_plane;
    sb_health_settings health;
    sb_section_list providers; /* sb_instance_settings */
    int64_t concurrency;       /* agent: worker threads */
    int64_t http_batch_width;  /* agent: host->http_batch transfers at once */
    /* the parsed file, kept for plugin instance configs */
    sb_ynode *tree;
} sb_settings;

size_t sb_settings_load(const char *path, const char *expected_role, sb_settings *out, sb_diags *d);
/* The same for a config held in memory (e.g. the embedded dev config). */
size_t sb_settings_load_text(const char *text, size_t len, const char *expected_role, sb_settings *out,
                             sb_diags *d);
void sb_settings_free(sb_settings *s);
/* Applies log.level unless SBRIDGE_LOG_LEVEL is set (the environment wins). */
void sb_settings_apply_log_level(const sb_settings *s);

/* The schema of a role, for documentation (`sbridge config schema`). */
const sb_spec *sb_settings_schema(sb_role role, size_t *n);
const char *sb_role_name(sb_role role);

#endif
