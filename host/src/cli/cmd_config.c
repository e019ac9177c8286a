/* cli/cmd_config.c — `sbridge config check`: every error of a config file,
 * including each plugin instance's settings against its plugin's schema. */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "config/settings.h"
#include "plugin/registry.h"

/* Loads FILE and its plugins; prints diagnostics; returns the error count.
 * On success (0) the caller owns *s and *r. */
size_t sb_config_check_file(const char *file, const char *expected_role, const char *plugin_dir,
                            sb_settings *s, sb_registry *r, FILE *out);

size_t sb_config_check_file(const char *file, const char *expected_role, const char *plugin_dir,
                            sb_settings *s, sb_registry *r, FILE *out)
{
    sb_diags d;
    sb_diags_init(&d, file);
    memset(r, 0, sizeof *r);
    sb_settings_load(file, expected_role, s, &d);
    /* Plugins are checked even when other keys are wrong, so one run shows
     * every problem; but not when the file could not be parsed at all. */
    if (s->role != 0 && s->tree != NULL)
        sb_registry_load(r, s, plugin_dir, &d);
    sb_diags_print(&d, out);
    size_t errors = d.n_errors;
    sb_diags_free(&d);
    if (errors) {
        sb_registry_free(r);
        sb_settings_free(s);
    }
    return errors;
}

int sb_cmd_config(int argc, char **argv)
{
    const char *file = NULL, *plugin_dir = NULL;
    if (argc < 2 || strcmp(argv[1], "check") != 0)
        return sb_cli_usage_error("config", "expected 'check'");
    for (int i = 2; i < argc; i++) {
        if (strcmp(argv[i], "--plugin-dir") == 0 && i + 1 < argc)
            plugin_dir = argv[++i];
        else if (argv[i][0] == '-')
            return sb_cli_usage_error("config", "unknown option %s", argv[i]);
        else if (file == NULL)
            file = argv[i];
        else
            return sb_cli_usage_error("config", "only one FILE may be given");
    }
    if (file == NULL)
        return sb_cli_usage_error("config", "FILE is required");
    sb_settings s;
    sb_registry r;
    size_t errors = sb_config_check_file(file, NULL, plugin_dir, &s, &r, stderr);
    if (errors) {
        fprintf(stderr, "%s: %zu error%s\n", file, errors, errors == 1 ? "" : "s");
        return 1;
    }
    printf("%s: ok (role %s, %zu plugin%s, %zu instance%s)\n", file, sb_role_name(s.role), r.n_plugins,
           r.n_plugins == 1 ? "" : "s", r.n_instances, r.n_instances == 1 ? "" : "s");
    sb_registry_free(&r);
    sb_settings_free(&s);
    return 0;
}
