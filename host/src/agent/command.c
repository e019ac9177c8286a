/*
 * agent/command.c — the agent's command line, shared by `sbridge agent` and
 * the `sbridge-agent` executable: options, config and plugin loading (every
 * problem printed as FILE:LINE:COL), and the values the agent derives from
 * the config (connection, name, control-plane URL) — then run.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent/agent.h"
#include "agent/run.h"
#include "util/log.h"

const char sb_agent_usage[] =
    "usage: sbridge agent [--config FILE] [--plugin-dir DIR]\n"
    "       sbridge-agent [--config FILE] [--plugin-dir DIR]\n"
    "\n"
    "Runs an outbound agent described by FILE (role: agent; default $SBRIDGE_CONFIG): loads the\n"
    "plugins and provider instances it lists, enrolls on first start with a one-time token\n"
    "(control_plane.enrollment_token or SBRIDGE_ENROLLMENT_TOKEN) and keeps its identity in\n"
    "control_plane.identity_file (mode 0600, directory 0700), then heartbeats and executes the\n"
    "jobs of its provider connection with `concurrency` workers. /healthz, /readyz and /metrics\n"
    "answer on health.listen (loopback). SIGTERM/SIGINT drain for shutdown_grace; SIGHUP re-reads\n"
    "log.level. Exit: 0 drained, 1 failure, 2 usage, 3 revoked or unknown to the control plane,\n"
    "4 jobs still running when shutdown_grace ran out. See docs/agent.md.\n";

static int usage_error(const char *prog, const char *message)
{
    fprintf(stderr, "%s: %s\nRun '%s --help' for usage.\n", prog, message, prog);
    return SB_AGENT_EXIT_USAGE;
}

/* The connection: control_plane.connection, else the only provider instance. */
static int resolve_connection(const sb_settings *s, const char *file, const char **out)
{
    const sb_instance_settings *p = s->providers.items;
    const char *want = s->control_plane.connection;
    if (want == NULL && s->providers.n == 1)
        want = p[0].name;
    if (want == NULL) {
        fprintf(stderr,
                "%s: control_plane.connection is required when the config has %zu provider "
                "instances: name the provider connection this agent enrolls for\n",
                file, s->providers.n);
        return -1;
    }
    int found = 0;
    for (size_t i = 0; i < s->providers.n; i++)
        found |= strcmp(p[i].name, want) == 0;
    if (!found && s->providers.n > 0) {
        fprintf(stderr,
                "%s: control_plane.connection \"%s\" is not one of the provider instances under "
                "providers; the agent executes a connection's jobs with the instance of that name\n",
                file, want);
        return -1;
    }
    if (!found)
        sb_warn("agent", "no provider instance named %s: every job of this connection will fail "
                         "until one is configured",
                want);
    *out = want;
    return 0;
}

static int load(const char *file, const char *plugin_dir, sb_settings *s, sb_registry *r)
{
    sb_diags d;
    sb_diags_init(&d, file);
    memset(r, 0, sizeof *r);
    sb_settings_load(file, "agent", s, &d);
    if (s->role != 0 && s->tree != NULL) {
        sb_settings_apply_log_level(s);
        sb_registry_load(r, s, plugin_dir, &d);
    }
    sb_diags_print(&d, stderr);
    size_t errors = d.n_errors;
    sb_diags_free(&d);
    if (errors) {
        sb_registry_free(r);
        sb_settings_free(s);
        return -1;
    }
    return 0;
}

int sb_agent_command(const char *prog, int argc, char **argv)
{
    const char *file = getenv("SBRIDGE_CONFIG"), *plugin_dir = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            fputs(sb_agent_usage, stdout);
            return SB_AGENT_EXIT_OK;
        } else if (strcmp(argv[i], "--config") == 0 && i + 1 < argc) {
            file = argv[++i];
        } else if (strcmp(argv[i], "--plugin-dir") == 0 && i + 1 < argc) {
            plugin_dir = argv[++i];
        } else {
            char m[300];
            snprintf(m, sizeof m, "unknown option %.200s (the options are --config FILE and --plugin-dir DIR)",
                     argv[i]);
            return usage_error(prog, m);
        }
    }
    if (file == NULL || *file == '\0')
        return usage_error(prog, "no configuration: pass --config FILE or set SBRIDGE_CONFIG");
    sb_settings s;
    sb_registry r;
    if (load(file, plugin_dir, &s, &r) != 0)
        return SB_AGENT_EXIT_FAILURE;
    int code = SB_AGENT_EXIT_FAILURE;
    const char *connection;
    char base[1024], host[128] = "";
    snprintf(base, sizeof base, "%s", s.control_plane.url);
    for (size_t n = strlen(base); n > 0 && base[n - 1] == '/'; n--)
        base[n - 1] = '\0';
    if (resolve_connection(&s, file, &connection) != 0)
        goto out;
    const char *name = s.control_plane.name;
    if (name == NULL) {
        if (gethostname(host, sizeof host - 1) != 0 || host[0] == '\0')
            snprintf(host, sizeof host, "agent");
        name = host;
    }
    sb_error err = {0};
    if (sb_registry_start(&r, &err) != 0) {
        fprintf(stderr, "%s: %s\n", prog, err.message);
        goto out;
    }
    sb_agent_setup setup = {&s, &r, file, base, connection, name};
    code = sb_agent_run(&setup);
    if (code != SB_AGENT_EXIT_DRAIN_TIMEOUT) /* else workers may still be inside plugins */
        sb_registry_stop(&r);
out:
    if (code != SB_AGENT_EXIT_DRAIN_TIMEOUT) {
        sb_registry_free(&r);
        sb_settings_free(&s);
    }
    return code;
}
