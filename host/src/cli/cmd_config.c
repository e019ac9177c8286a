/* cli/cmd_config.c — `sbridge config check`: every error of a config file,
 * including each plugin instance's settings against its plugin's schema and
 * the start-time checks of oidc: (api/oidc_provider.h). */
#include <stdio.h>
#include <string.h>

#include "api/oidc_provider.h"
#include "cli/cli.h"
#include "config/settings.h"
#include "util/duration.h"
#include "plugin/registry.h"

/* What the server checks of oidc: at start beyond the schema (https issuer,
 * the callback path, openid in the scopes…), said here too. */
static void oidc_check(const sb_settings *s, sb_diags *d)
{
    sb_oidc_provider *p = NULL;
    sb_error err = {0};
    if (!s->oidc.pos.present || d->n_errors > 0)
        return; /* the schema's own errors first: they name the line */
    if (sb_oidc_provider_open(&s->oidc, &p, &err) != 0)
        sb_diags_error(d, s->oidc.pos.line, s->oidc.pos.col, "%s", err.message);
    sb_oidc_provider_free(p);
}

size_t sb_config_check_file(const char *file, const char *expected_role, const char *plugin_dir,
                            sb_settings *s, sb_registry *r, FILE *out)
{
    sb_diags d;
    sb_diags_init(&d, file);
    memset(r, 0, sizeof *r);
    sb_settings_load(file, expected_role, s, &d);
    /* Plugins are checked even when other keys are wrong, so one run shows
     * every problem; but not when the file could not be parsed at all. */
    if (s->role != 0 && s->tree != NULL) {
        sb_settings_apply_log_level(s);
        sb_registry_load(r, s, plugin_dir, &d);
        oidc_check(s, &d);
    }
    sb_diags_print(&d, out);
    size_t errors = d.n_errors;
    sb_diags_free(&d);
    if (errors) {
        sb_registry_free(r);
        sb_settings_free(s);
    }
    return errors;
}

static const char *kind_name(int type)
{
    switch (type) {
    case SB_CFG_STRING: return "string";
    case SB_CFG_INT: return "integer";
    case SB_CFG_BOOL: return "bool";
    case SB_CFG_DURATION: return "duration";
    case SB_CFG_ENUM: return "enum";
    case SB_CFG_STRING_LIST: return "list of strings";
    case SB_CFG_STRING_MAP: return "map of strings";
    case SB_SPEC_SECTION: return "section";
    case SB_SPEC_SECTION_LIST: return "list of sections";
    default: return "plugin settings";
    }
}

/* One markdown row per key, depth-first, with dotted paths. */
static void schema_rows(const sb_spec *fields, size_t n, const char *prefix, FILE *out)
{
    for (size_t i = 0; i < n; i++) {
        const sb_spec *f = &fields[i];
        char path[256], extra[160] = "";
        snprintf(path, sizeof path, "%s%s%s", prefix, prefix[0] ? "." : "", f->key);
        if (f->type == SB_CFG_ENUM) {
            /* '|' would end a markdown table cell */
            size_t len = (size_t)snprintf(extra, sizeof extra, " (one of ");
            for (const char *v = f->enum_values; *v && len + 4 < sizeof extra; v++)
                len += (size_t)snprintf(extra + len, sizeof extra - len, "%s", *v == '|' ? ", " : (char[]){*v, 0});
            snprintf(extra + len, sizeof extra - len, ")");
        }
        else if ((f->type == SB_CFG_INT || f->type == SB_CFG_DURATION) && f->min <= f->max) {
            if (f->type == SB_CFG_INT)
                snprintf(extra, sizeof extra, " (%lld to %lld)", (long long)f->min, (long long)f->max);
            else {
                char lo[32], hi[32];
                sb_duration_format(f->min, lo, sizeof lo);
                sb_duration_format(f->max, hi, sizeof hi);
                snprintf(extra, sizeof extra, " (%s to %s)", lo, hi);
            }
        }
        fprintf(out, "| `%s` | %s%s%s | %s | %s%s%s |\n", path, kind_name(f->type),
                (f->flags & SB_CFG_REQUIRED) ? ", required" : "", (f->flags & SB_CFG_SECRET) ? ", secret" : "",
                f->default_value ? f->default_value : "", f->help ? f->help : "", extra,
                (f->flags & SB_CFG_SECRET) ? "; write it as `${env:NAME}` or `${file:/path}`" : "");
        if (f->type == SB_SPEC_SECTION || f->type == SB_SPEC_SECTION_LIST) {
            char sub[260];
            snprintf(sub, sizeof sub, "%s%s", path, f->type == SB_SPEC_SECTION_LIST ? "[]" : "");
            schema_rows(f->fields, f->n_fields, sub, out);
        }
    }
}

static int config_schema(int argc, char **argv)
{
    static const sb_role roles[] = {SB_ROLE_SERVER, SB_ROLE_AGENT, SB_ROLE_DEV};
    if (argc != 3)
        return sb_cli_usage_error("config", "schema takes one role: server, agent or dev");
    for (size_t i = 0; i < 3; i++) {
        if (strcmp(argv[2], sb_role_name(roles[i])) != 0)
            continue;
        size_t n;
        const sb_spec *spec = sb_settings_schema(roles[i], &n);
        printf("| key | type | default | meaning |\n|---|---|---|---|\n");
        schema_rows(spec, n, "", stdout);
        return 0;
    }
    return sb_cli_usage_error("config", "'%s' is not server, agent or dev", argv[2]);
}

int sb_cmd_config(int argc, char **argv)
{
    const char *file = NULL, *plugin_dir = NULL;
    if (argc >= 2 && strcmp(argv[1], "schema") == 0)
        return config_schema(argc, argv);
    if (argc < 2)
        return sb_cli_usage_error("config", "expected 'check' or 'schema'");
    if (strcmp(argv[1], "check") != 0)
        return sb_cli_unknown_argument("config", argv[1]);
    for (int i = 2; i < argc; i++) {
        if (strcmp(argv[i], "--plugin-dir") == 0 && i + 1 < argc)
            plugin_dir = argv[++i];
        else if (argv[i][0] == '-')
            return sb_cli_unknown_argument("config", argv[i]);
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
