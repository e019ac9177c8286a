/*
 * api/app.h — the control plane's application context, shared by every
 * API handler, and the identity the auth gate attaches to a request.
 *
 * Contract: one sb_app per server process, built by sb_app_open from the
 * role's settings and an open database; read-only after start except for
 * the tenancy cache, which is internally locked. Keys are derived from one
 * master key (settings keys.master_key, or <state_dir>/master.key created
 * mode 0600 on first start) with libsodium's KDF, one subkey per purpose,
 * all in secure memory.
 *
 * Handlers find the app in their route ctx (every route of the API is
 * registered with ctx = the sb_app) and the caller in sb_api_identity(req).
 * Identity comes only from the gate: a session cookie, a JWT or a personal
 * API token — never from a body or query parameter (I6).
 */
#ifndef SB_API_APP_H
#define SB_API_APP_H

#include <pthread.h>
#include <stdint.h>

#include "config/settings.h"
#include "domain/scope.h"
#include "http/request.h"
#include "store/db.h"

#define SB_KEY_BYTES 32

/* How an authenticated read may use the per-process auth cache. */
typedef enum sb_auth_cache_mode {
    /* default: a cached identity is used only after one tiny statement
     * confirms the auth generation has not moved since it was read — every
     * change committed before the request counts, on every replica */
    SB_AUTH_CACHE_VERIFIED = 0,
    /* trusts the NOTIFY alone (no statement): a change counts once this
     * process has received its notification (bounded lag, typically < 1 ms
     * on a LAN). Only the benchmark uses it, to measure the difference. */
    SB_AUTH_CACHE_NOTIFIED,
    SB_AUTH_CACHE_OFF /* every request reads the database */
} sb_auth_cache_mode;

typedef struct sb_app {
    const sb_settings *settings;
    sb_db *db;
    int dev_mode;            /* role dev: Secure cookies off, seed users */
    int64_t session_idle_ms; /* from settings.session (defaults in dev) */
    int64_t session_absolute_ms;
    int cookie_secure;
    /* step-up (api/step_up.h): enforced on Tier-2 actions of mfa_required
     * requests, and how long a verification stays fresh (seconds) */
    int step_up_enforced;
    int64_t step_up_window_s;
    unsigned char *token_pepper; /* keyed hashes of session/API tokens (secure) */
    unsigned char *jwt_secret;   /* HS256 (secure) */
    unsigned char *audit_key;    /* audit chain HMAC (secure) */
    /* tenancy snapshot, rebuilt when teams/projects change (their triggers
     * bump tenancy_version in the database) */
    pthread_mutex_t tenancy_lock;
    struct sb_tenancy_ref *tenancy_ref;
    int64_t tenancy_version;
    /* the notification hub (api/job_waiters.c): agent long-polls and the
     * auth cache's invalidations; started on first use */
    pthread_mutex_t job_hub_lock;
    struct sb_job_hub *job_hub;
    /* sessions/API tokens and their grants (api/auth_cache.h) */
    struct sb_auth_cache *auth_cache;
    sb_auth_cache_mode auth_cache_mode;
    /* wraps per-request read keys (crypto/kms.h); NULL: reads cannot be
     * approved. kms_owned: closed by sb_app_close. */
    const struct sb_kms *kms;
    struct sb_kms *kms_owned;
    /* the GITOPS plugin (settings gitops_observation.plugin) the Argo CD
     * routes check settings and health with; NULL: none is loaded (the
     * routes still store endpoints and mappings, health answers 409) */
    const struct sb_plugin_slot *gitops_plugin;
    /* single sign-on (api/oidc_provider.h); NULL when oidc: is absent */
    struct sb_oidc_provider *oidc;
    /* test hook: a fixed clock (ms since the epoch); 0 = real time */
    int64_t fixed_now_ms;
} sb_app;

typedef enum sb_identity_method {
    SB_IDENTITY_SESSION = 1, /* sb_session cookie */
    SB_IDENTITY_JWT = 2,     /* Authorization: Bearer <JWT from login> */
    SB_IDENTITY_API_TOKEN = 3, /* Authorization: Bearer sbp_… */
    SB_IDENTITY_AGENT = 4      /* Authorization: Bearer <agent id>.<sba_ secret> (agent_api.h);
                                  user_id is "", username the agent id */
} sb_identity_method;

typedef struct sb_identity {
    char user_id[40];
    char username[130];
    sb_identity_method method;
    int has_session;                         /* session cookie or a JWT naming a live session */
    unsigned char session_hash[SB_KEY_BYTES]; /* which session (logout, step-up) */
    int64_t last_mfa_ms;                     /* 0: never */
    struct sb_tenancy_ref *tenancy_ref;      /* held for this request */
    const sb_tenancy *tenancy;               /* tenancy_ref's snapshot */
    sb_rbac_ctx *rbac;                       /* this user's grants against it */
    struct sb_grant_set *grants;             /* read with the session (authenticate);
                                                the gate consumes it; NULL: read them */
    sb_permission_set anywhere;              /* every permission some grant holds */
    int token_scoped;                        /* an API token scoped to token_scopes: every
                                                grant is narrowed to them (never widened) */
    sb_permission_set token_scopes;
} sb_identity;

/* The identity of the request (NULL on PUBLIC routes). */
const sb_identity *sb_api_identity(const sb_server_request *req);
/* "user:<uuid>" for audit events. */
void sb_api_actor(const sb_identity *id, char *out, size_t cap);
/* Now, in milliseconds since the epoch (the app's clock). */
int64_t sb_app_now_ms(const sb_app *app);

/* Handlers that change teams or projects may call this to drop the cached
 * tenancy at once (the version trigger makes it optional). */
void sb_api_tenancy_changed(sb_app *app);

#endif
