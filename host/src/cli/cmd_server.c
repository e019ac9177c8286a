/*
 * cli/cmd_server.c — `sbridge server` (the control plane) and
 * `sbridge migrate`. The server runs until SIGTERM or SIGINT, then drains
 * for shutdown_grace; SIGHUP re-reads the log level from the config file.
 */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "config/settings.h"
#include "plugin/registry.h"
#include "server/control_plane.h"
#include "util/log.h"

/* --config FILE, or $SBRIDGE_CONFIG. */
static const char *config_arg(int argc, char **argv, const char *command, int *bad)
{
    const char *file = getenv("SBRIDGE_CONFIG");
    *bad = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--config") == 0 && i + 1 < argc) {
            file = argv[++i];
        } else if (strcmp(argv[i], "--no-worker") == 0 && strcmp(command, "server") == 0) {
            continue;
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
    const char *file = config_arg(argc, argv, "migrate", &bad);
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

int sb_cmd_server(int argc, char **argv)
{
    int bad;
    const char *file = config_arg(argc, argv, "server", &bad);
    if (bad)
        return 2;
    sb_settings s;
    if (load(file, "server", &s) != 0)
        return 1;
    /* the plugins the configuration lists (the KMS among them), loaded and
     * started before anything listens */
    sb_registry r;
    sb_diags d;
    sb_diags_init(&d, file);
    size_t errors = sb_registry_load(&r, &s, NULL, &d);
    sb_diags_print(&d, stderr);
    sb_diags_free(&d);
    sb_error err;
    if (errors || sb_registry_start(&r, &err) != 0) {
        if (!errors)
            fprintf(stderr, "sbridge server: %s\n", err.message);
        else
            fprintf(stderr, "%s: %zu plugin error%s; nothing was started\n", file, errors,
                    errors == 1 ? "" : "s");
        sb_registry_free(&r);
        sb_settings_free(&s);
        return 1;
    }
    sigset_t set;
    sb_cli_block_signals(&set);
    sb_control_plane_options opts = {
        .dev_mode = 0, .run_background = 1,
        .kms = s.kms.name ? sb_registry_instance(&r, "kms", s.kms.name) : NULL};
    sb_control_plane *cp;
    if (sb_control_plane_start(&s, &opts, &cp, &err) != 0) {
        fprintf(stderr, "sbridge server: %s\n", err.message);
        sb_registry_free(&r);
        sb_settings_free(&s);
        return 1;
    }
    for (;;) {
        int sig = 0;
        sigwait(&set, &sig);
        if (sig != SIGHUP)
            break;
        sb_settings fresh;
        if (load(file, "server", &fresh) == 0) { /* applies log.level */
            sb_info("server", "SIGHUP: log level is now %s", sb_log_level_name(sb_log_get_level()));
            sb_settings_free(&fresh);
        }
    }
    sb_info("server", "stopping: draining requests for up to %lld ms", (long long)s.shutdown_grace_ms);
    sb_control_plane_stop(cp, s.shutdown_grace_ms);
    sb_registry_free(&r);
    sb_settings_free(&s);
    return 0;
}
