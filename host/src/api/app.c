/* api/app.c — see app.h: keys, clock, identity accessors and the tenancy
 * cache shared by every request. */
#include "api/app.h"
#include "crypto/local_kms.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "api/agent_api.h"
#include "api/app_keys.h"
#include "api/auth_cache.h"
#include "api/oidc_provider.h"
#include "crypto/secure_mem.h"
#include "store/rbac_snapshot.h"
#include "util/log.h"

int64_t sb_app_now_ms(const sb_app *app)
{
    if (app && app->fixed_now_ms)
        return app->fixed_now_ms;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

const sb_identity *sb_api_identity(const sb_server_request *req) { return sb_http_identity(req); }

void sb_api_actor(const sb_identity *id, char *out, size_t cap)
{
    if (id != NULL && id->method == SB_IDENTITY_AGENT)
        snprintf(out, cap, "agent:%s", id->username);
    else if (id == NULL || id->user_id[0] == '\0')
        snprintf(out, cap, "anonymous");
    else
        snprintf(out, cap, "user:%s", id->user_id);
}

/* ---- keys ------------------------------------------------------------------ */

/* Reads (or creates, 0600) <state_dir>/master.key: 32 random bytes, hex. */
static int master_from_state_dir(const char *state_dir, unsigned char *master, sb_error *err)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/master.key", state_dir);
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0 && errno == ENOENT) {
        unsigned char fresh[SB_KEY_BYTES];
        char hex[2 * SB_KEY_BYTES + 2];
        randombytes_buf(fresh, sizeof fresh);
        sodium_bin2hex(hex, sizeof hex - 1, fresh, sizeof fresh);
        strcat(hex, "\n");
        sodium_memzero(fresh, sizeof fresh);
        fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (fd < 0)
            return sb_error_set(err, 1, "cannot create %s: %s", path, strerror(errno));
        ssize_t w = write(fd, hex, strlen(hex));
        sodium_memzero(hex, sizeof hex);
        if (w < 0 || fsync(fd) != 0) {
            close(fd);
            return sb_error_set(err, 1, "cannot write %s: %s", path, strerror(errno));
        }
        close(fd);
        sb_warn("app", "created a new master key in %s; back it up (sessions, tokens and the audit "
                       "chain depend on it)", path);
        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    }
    if (fd < 0)
        return sb_error_set(err, 1, "cannot read %s: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0 || (st.st_mode & 077) != 0) {
        close(fd);
        return sb_error_set(err, 1, "%s must be readable by its owner only (chmod 600 %s)", path, path);
    }
    char hex[2 * SB_KEY_BYTES + 8] = {0};
    ssize_t r = read(fd, hex, sizeof hex - 1);
    close(fd);
    size_t bin_len = 0;
    int rc = r > 0 && sodium_hex2bin(master, SB_KEY_BYTES, hex, (size_t)r, "\n", &bin_len, NULL) == 0 &&
                     bin_len == SB_KEY_BYTES
                 ? 0
                 : sb_error_set(err, 1, "%s does not hold 64 hexadecimal digits", path);
    sodium_memzero(hex, sizeof hex);
    return rc;
}

/* One subkey per context from the master key, into secure memory. */
static int derive_subkeys(const char *master_text, const char *state_dir,
                          const char *const contexts[], unsigned char **const outs[], size_t n,
                          sb_error *err)
{
    unsigned char *master = sb_secure_alloc(SB_KEY_BYTES);
    if (master == NULL)
        return sb_error_set(err, 1, "out of secure memory");
    int rc = 0;
    if (master_text && *master_text) {
        size_t len = 0;
        if (sodium_hex2bin(master, SB_KEY_BYTES, master_text, strlen(master_text), " \n", &len, NULL) != 0 ||
            len != SB_KEY_BYTES)
            rc = sb_error_set(err, 1, "keys.master_key must be 64 hexadecimal digits (32 bytes); "
                                      "generate one with: openssl rand -hex 32");
    } else if (state_dir && *state_dir) {
        rc = master_from_state_dir(state_dir, master, err);
    } else {
        rc = sb_error_set(err, 1, "no master key: set keys.master_key or state_dir");
    }
    for (size_t i = 0; i < n && rc == 0; i++) {
        *outs[i] = sb_secure_alloc(SB_KEY_BYTES);
        if (*outs[i] == NULL ||
            crypto_kdf_derive_from_key(*outs[i], SB_KEY_BYTES, 1, contexts[i], master) != 0)
            rc = sb_error_set(err, 1, "cannot derive keys");
    }
    sb_secure_release(master);
    return rc;
}

int sb_app_derive_keys(const char *master_text, const char *state_dir, unsigned char **token_pepper,
                       unsigned char **jwt_secret, unsigned char **audit_key, sb_error *err)
{
    static const char *const contexts[] = {"sbtoken_", "sbjwt___", "sbaudit_"};
    unsigned char **const outs[] = {token_pepper, jwt_secret, audit_key};
    return derive_subkeys(master_text, state_dir, contexts, outs, 3, err);
}

/* ---- tenancy cache ---------------------------------------------------------- */

struct sb_tenancy_ref {
    sb_tenancy *tenancy;
    atomic_int refs;
};

const sb_tenancy *sb_tenancy_ref_get(const sb_tenancy_ref *ref) { return ref ? ref->tenancy : NULL; }

void sb_app_tenancy_release(sb_tenancy_ref *ref)
{
    if (ref && atomic_fetch_sub(&ref->refs, 1) == 1) {
        sb_tenancy_free(ref->tenancy);
        free(ref);
    }
}

int sb_app_tenancy_acquire(sb_app *app, sb_db_conn *conn, int64_t version, sb_tenancy_ref **out,
                           sb_error *err)
{
    *out = NULL;
    pthread_mutex_lock(&app->tenancy_lock);
    if (app->tenancy_ref == NULL || app->tenancy_version != version) {
        sb_tenancy *fresh = NULL;
        int64_t loaded = 0;
        sb_tenancy_ref *ref = calloc(1, sizeof *ref);
        if (ref == NULL || sb_store_tenancy_load(conn, &fresh, &loaded, err) != 0) {
            pthread_mutex_unlock(&app->tenancy_lock);
            free(ref);
            return ref ? -1 : sb_error_set(err, 1, "out of memory");
        }
        ref->tenancy = fresh;
        atomic_store(&ref->refs, 1); /* the cache's own reference */
        sb_app_tenancy_release(app->tenancy_ref);
        app->tenancy_ref = ref;
        app->tenancy_version = loaded;
    }
    atomic_fetch_add(&app->tenancy_ref->refs, 1);
    *out = app->tenancy_ref;
    pthread_mutex_unlock(&app->tenancy_lock);
    return 0;
}

void sb_api_tenancy_changed(sb_app *app)
{
    pthread_mutex_lock(&app->tenancy_lock);
    app->tenancy_version = -1; /* never a real version: the next request reloads */
    pthread_mutex_unlock(&app->tenancy_lock);
}

/* ---- building the app ------------------------------------------------------- */

int sb_app_init(sb_app *app, const sb_settings *s, sb_db *db, int dev_mode, const char *state_dir,
                sb_error *err)
{
    memset(app, 0, sizeof *app);
    app->settings = s;
    app->db = db;
    app->dev_mode = dev_mode;
    app->session_idle_ms = s->session.idle_timeout_ms ? s->session.idle_timeout_ms : 30 * 60000LL;
    app->session_absolute_ms = s->session.absolute_timeout_ms ? s->session.absolute_timeout_ms : 8 * 3600000LL;
    /* Secure outside dev, whatever the file says (the server role refuses
     * cookie_secure: false at start). */
    app->cookie_secure = dev_mode ? 0 : 1;
    /* A server always enforces step-up (it refuses mfa.require_step_up:
     * false at start); dev only when its file has an mfa section, so the
     * demo works without an authenticator. Settings built in code (tests)
     * enforce it only when they set require_step_up. */
    app->step_up_enforced = s->mfa.require_step_up && (!dev_mode || s->mfa.pos.present);
    app->step_up_window_s = s->mfa.step_up_window_ms >= 1000 ? s->mfa.step_up_window_ms / 1000 : 900;
    pthread_mutex_init(&app->tenancy_lock, NULL);
    pthread_mutex_init(&app->job_hub_lock, NULL);
    if ((app->auth_cache = sb_auth_cache_new(SB_AUTH_CACHE_MAX_AGE_MS)) == NULL)
        return sb_error_set(err, 1, "out of memory creating the auth cache");
    if (sb_app_derive_keys(s->keys.master_key, state_dir, &app->token_pepper, &app->jwt_secret,
                           &app->audit_key, err) != 0)
        return -1;
    if (sb_oidc_provider_open(&s->oidc, &app->oidc, err) != 0)
        return -1;
    if (!dev_mode)
        return 0; /* a server's KMS is a plugin instance (server/control_plane.c) */
    /* dev: the built-in local KMS, keyed from the same master key */
    static const char *const contexts[] = {"sbkmsloc"};
    unsigned char *kms_key = NULL;
    unsigned char **const outs[] = {&kms_key};
    int rc = derive_subkeys(s->keys.master_key, state_dir, contexts, outs, 1, err);
    if (rc == 0 && (app->kms_owned = sb_local_kms_open(kms_key)) == NULL)
        rc = sb_error_set(err, 1, "out of secure memory opening the local KMS");
    app->kms = app->kms_owned;
    sb_secure_release(kms_key);
    return rc;
}

void sb_app_close(sb_app *app)
{
    sb_job_hub_stop(app);
    sb_auth_cache_free(app->auth_cache);
    sb_oidc_provider_free(app->oidc);
    sb_kms_close(app->kms_owned);
    pthread_mutex_destroy(&app->job_hub_lock);
    sb_secure_release(app->token_pepper);
    sb_secure_release(app->jwt_secret);
    sb_secure_release(app->audit_key);
    sb_app_tenancy_release(app->tenancy_ref);
    pthread_mutex_destroy(&app->tenancy_lock);
    memset(app, 0, sizeof *app);
}
