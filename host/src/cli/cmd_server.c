/*
 * cli/cmd_server.c — `sbridge server` (the control plane), `sbridge worker`
 * (the worker's tasks alone, worker/worker_tasks.h) and `sbridge migrate`.
 * Both long-running roles run until SIGTERM or SIGINT; the server then
 * drains for shutdown_grace, the worker finishes the task in progress.
 * SIGHUP re-reads the log level from the config file.
 */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "config/settings.h"
#include "crypto/secure_mem.h"
#include "plugin/gitops_client.h"
#include "plugin/kms_client.h"
#include "plugin/registry.h"
#include "server/control_plane.h"
#include "worker/worker_tasks.h"
#include "store/database.h"
#include "util/log.h"
#include "worker/health.h"

/* --config FILE, or $SBRIDGE_CONFIG. */
static const char *config_arg(int argc, char **argv, const char *command, int *bad,
                              int *no_worker)
{
    const char *file = getenv("SBRIDGE_CONFIG");
    *bad = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--config") == 0 && i + 1 < argc) {
            file = argv[++i];
        } else if (strcmp(argv[i], "--no-worker") == 0 && no_worker) {
            *no_worker = 1;
        } else {
            sb_cli_unknown_argument(command, argv[i]);
            *bad = 1;
            return NULL;
        }
    }
    if (file == NULL || *file == '\0') {
        sb_cli_usage_error(command, "no configuration: pass --config FILE or set SBRIDGE_CONFIG");
        *bad = 1;
    }
    return file;
}

static int load(const char *file, const char *role, sb_settings *s)
{
    sb_diags d;
    sb_diags_init(&d, file);
    size_t errors = sb_settings_load(file, role, s, &d);
    sb_diags_print(&d, stderr);
    sb_diags_free(&d);
    if (errors) {
        fprintf(stderr, "%s: %zu error%s; nothing was started\n", file, errors, errors == 1 ? "" : "s");
        sb_settings_free(s);
        return -1;
    }
    sb_settings_apply_log_level(s);
    return 0;
}

int sb_cmd_migrate(int argc, char **argv)
{
    int bad;
    const char *file = config_arg(argc, argv, "migrate", &bad, NULL);
    if (bad)
        return 2;
    sb_settings s;
    if (load(file, "server", &s) != 0)
        return 1;
    sb_error err;
    int rc = sb_control_plane_migrate(&s, NULL, &err);
    if (rc != 0)
        fprintf(stderr, "sbridge migrate: %s\n", err.message);
    else
        printf("database schema is up to date\n");
    sb_settings_free(&s);
    return rc == 0 ? 0 : 1;
}

void sb_cli_block_signals(sigset_t *set)
{
    sigemptyset(set);
    sigaddset(set, SIGTERM);
    sigaddset(set, SIGINT);
    sigaddset(set, SIGHUP);
    pthread_sigmask(SIG_BLOCK, set, NULL);
}

/* Until SIGTERM/SIGINT; SIGHUP re-reads log.level from file. */
static void wait_for_stop(sigset_t *set, const char *file, const char *component)
{
    for (;;) {
        int sig = 0;
        sigwait(set, &sig);
        if (sig != SIGHUP)
            break;
        sb_settings fresh;
        if (load(file, "server", &fresh) == 0) { /* applies log.level */
            sb_info(component, "SIGHUP: log level is now %s", sb_log_level_name(sb_log_get_level()));
            sb_settings_free(&fresh);
        }
    }
}

/* The plugins the configuration lists (the KMS among them) loaded and
 * started, and the GitOps plugin when gitops_observation.enabled (which
 * then must be loaded). 0, or 1 said on stderr with nothing left started. */
static int start_plugins(const char *file, const char *who, sb_settings *s, sb_registry *r,
                         const sb_plugin_slot **gitops)
{
    sb_diags d;
    sb_diags_init(&d, file);
    size_t errors = sb_registry_load(r, s, NULL, &d);
    sb_diags_print(&d, stderr);
    sb_diags_free(&d);
    sb_error err;
    if (errors || sb_registry_start(r, &err) != 0) {
        if (!errors)
            fprintf(stderr, "sbridge %s: %s\n", who, err.message);
        else
            fprintf(stderr, "%s: %zu plugin error%s; nothing was started\n", file, errors,
                    errors == 1 ? "" : "s");
        sb_registry_free(r);
        return 1;
    }
    *gitops = NULL;
    if (s->gitops_observation.enabled &&
        (*gitops = sb_gitops_client_plugin(r, s->gitops_observation.plugin, &err)) == NULL) {
        fprintf(stderr, "sbridge %s: gitops_observation.enabled: %s\n", who, err.message);
        sb_registry_free(r);
        return 1;
    }
    return 0;
}

int sb_cmd_server(int argc, char **argv)
{
    int bad, no_worker = 0;
    const char *file = config_arg(argc, argv, "server", &bad, &no_worker);
    if (bad)
        return 2;
    sb_settings s;
    if (load(file, "server", &s) != 0)
        return 1;
    if (no_worker) /* dedicated `sbridge worker` processes run the tasks */
        s.worker.enabled = 0;
    if (!s.worker.enabled)
        sb_warn("server", "the worker is off (--no-worker or worker.enabled: false): this server "
                          "neither seals the audit chain nor runs the background tasks; run "
                          "`sbridge worker` with the same database and master key");
    /* the plugins the configuration lists (the KMS among them), loaded and
     * started before anything listens */
    sb_registry r;
    const sb_plugin_slot *gitops = NULL;
    if (start_plugins(file, "server", &s, &r, &gitops) != 0) {
        sb_settings_free(&s);
        return 1;
    }
    sb_error err;
    sigset_t set;
    sb_cli_block_signals(&set);
    sb_control_plane_options opts = {
        .dev_mode = 0, .run_background = 1, .plugins = &r,
        .kms = s.kms.name ? sb_registry_instance(&r, "kms", s.kms.name) : NULL,
        .gitops_plugin = gitops};
    sb_control_plane *cp;
    if (sb_control_plane_start(&s, &opts, &cp, &err) != 0) {
        fprintf(stderr, "sbridge server: %s\n", err.message);
        sb_registry_free(&r);
        sb_settings_free(&s);
        return 1;
    }
    wait_for_stop(&set, file, "server");
    sb_info("server", "stopping: draining requests for up to %lld ms", (long long)s.shutdown_grace_ms);
    sb_control_plane_stop(cp, s.shutdown_grace_ms);
    sb_registry_free(&r);
    sb_settings_free(&s);
    return 0;
}

/* The worker shares the server's external database; it never migrates
 * (a pending migration is refused: the server or `sbridge migrate` does
 * that) and serves no API. */
int sb_cmd_worker(int argc, char **argv)
{
    int bad;
    const char *file = config_arg(argc, argv, "worker", &bad, NULL);
    if (bad)
        return 2;
    sb_settings s;
    if (load(file, "server", &s) != 0)
        return 1;
    if (s.database.url == NULL || *s.database.url == '\0') {
        fprintf(stderr, "sbridge worker: %s has no database.url; a worker works on the server's "
                        "external PostgreSQL (the embedded one is private to one server, whose "
                        "own worker loops run unless --no-worker)\n", file);
        sb_settings_free(&s);
        return 1;
    }
    sb_database_options o = {
        .url = s.database.url,
        .pool_size = s.database.pool_size > 0 ? (int)s.database.pool_size : 8,
        .connect_timeout_ms = s.database.connect_timeout_ms > 0 ? s.database.connect_timeout_ms
                                                                : 10000,
        .migrate = 0,
        .check_role = 1,
        .allow_privileged_role = s.database.allow_privileged_role,
    };
    sb_database *d = NULL;
    sb_worker *w = NULL;
    sb_worker_health *health = NULL;
    sb_error err;
    /* the GitOps poller needs the plugin and the KMS that wraps endpoint tokens;
     * dispatch_notifications, the notifier instances */
    sb_registry r;
    sb_gitops_poller poller = {0};
    if (start_plugins(file, "worker", &s, &r, &poller.plugin) != 0) {
        sb_settings_free(&s);
        return 1;
    }
    sb_kms *kms = s.kms.name ? sb_kms_plugin_open(sb_registry_instance(&r, "kms", s.kms.name)) : NULL;
    poller.kms = kms;
    /* the seal_audit task seals with the server's key; without one this
     * worker leaves sealing to the server's own worker or another */
    unsigned char *audit_key = NULL;
    if (sb_cli_audit_key(&s, &audit_key, &err) != 0)
        sb_warn("worker", "this worker does not seal the audit chain: %s", err.message);
    sigset_t set;
    sb_cli_block_signals(&set);
    int failed =
        sb_database_open(&o, &d, NULL, &err) != 0 ||
        sb_worker_tasks_start(&s, SB_WORKER_MODE_ALONE, sb_database_pool(d),
                              s.gitops_observation.enabled ? &poller : NULL, &r, audit_key, &w,
                              &err) != 0 ||
        sb_worker_health_start(w, s.worker.listen ? s.worker.listen : "127.0.0.1:9466", &health,
                               &err) != 0;
    if (failed) {
        fprintf(stderr, "sbridge worker: %s\n", err.message);
    } else {
        sb_info("worker", "worker started (pid %ld)", (long)getpid());
        wait_for_stop(&set, file, "worker");
        sb_info("worker", "stopping: finishing the task in progress");
    }
    sb_worker_health_stop(health);
    sb_worker_stop(w);
    sb_secure_release(audit_key);
    sb_database_close(d);
    sb_kms_close(kms);
    sb_registry_free(&r);
    sb_settings_free(&s);
    return failed ? 1 : 0;
}
