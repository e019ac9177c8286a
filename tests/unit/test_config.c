/* test_config.c — config validation: every error class reported as
 * file:line:col: message, all errors at once, references, secrets, and
 * plugin instance configs checked against the plugin's schema. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config/settings.h"
#include "crypto/secure_mem.h"
#include "plugin/registry.h"
#include "util/duration.h"
#include "util/redact.h"

static char dir[64];

static void setup(void)
{
    cr_assert_eq(sb_crypto_init(), 0);
    snprintf(dir, sizeof dir, "/tmp/sb-config-test-XXXXXX");
    cr_assert_not_null(mkdtemp(dir));
}
static void teardown(void)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        cr_log_warn("could not remove %s", dir);
}
TestSuite(config, .init = setup, .fini = teardown);

static const char *write_file(const char *name, const char *text)
{
    static char path[128];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    fputs(text, f);
    fclose(f);
    return path;
}

/* Loads text as FILE (and its plugins when with_plugins); returns all
 * diagnostics joined by newlines (caller frees). */
static char *check(const char *text, int with_plugins, size_t *errors)
{
    const char *path = write_file("c.yaml", text);
    sb_diags d;
    sb_diags_init(&d, "c.yaml");
    sb_settings s;
    sb_settings_load(path, NULL, &s, &d);
    sb_registry r = {0};
    if (with_plugins && s.role)
        sb_registry_load(&r, &s, SB_PLUGIN_OUT_DIR, &d);
    size_t cap = 16384, len = 0;
    char *out = calloc(1, cap);
    for (size_t i = 0; i < d.n; i++) {
        char line[1400];
        sb_diags_format(&d, i, line, sizeof line);
        len += (size_t)snprintf(out + len, cap - len, "%s\n", line);
    }
    *errors = d.n_errors;
    sb_registry_free(&r);
    sb_settings_free(&s);
    sb_diags_free(&d);
    return out;
}

#define EXPECT_LINE(out, text) cr_assert_not_null(strstr(out, text), "missing: %s\nin:\n%s", text, out)

static const char agent_head[] = "role: agent\n"
                                 "control_plane:\n"
                                 "  url: https://cp.example.com\n"
                                 "  identity_file: /var/lib/sbridge/id.json\n"
                                 "plugins:\n"
                                 "  load:\n"
                                 "    - name: example\n"
                                 "      file: example.so\n";

Test(config, a_valid_agent_file_has_no_diagnostics)
{
    size_t errors;
    char *out = check(agent_head, 1, &errors);
    cr_assert_eq(errors, 0, "%s", out);
    free(out);
}

Test(config, the_agents_http_batch_width_is_bounded_by_what_the_host_can_run)
{
    size_t errors;
    char text[1024];
    snprintf(text, sizeof text, "%shttp_batch_width: 64\n", agent_head);
    char *out = check(text, 0, &errors);
    EXPECT_LINE(out, "http_batch_width: 64 is out of range (1 to 32)");
    cr_assert_eq(errors, 1, "%s", out);
    free(out);
    snprintf(text, sizeof text, "%shttp_batch_width: 3\n", agent_head);
    out = check(text, 1, &errors);
    cr_assert_eq(errors, 0, "%s", out);
    free(out);
}

Test(config, every_error_is_reported_with_line_and_column)
{
    size_t errors;
    char *out = check("role: agent\n"                        /* 1 */
                      "log:\n"                               /* 2 */
                      "  levle: debug\n"                     /* 3 unknown key, hint */
                      "control_plane:\n"                     /* 4 */
                      "  url: ftp://cp\n"                    /* 5 bad url */
                      "  identity_file: relative.json\n"     /* 6 not absolute */
                      "  claim_wait: 5 minutes\n"            /* 7 bad duration */
                      "  heartbeat_interval: 2h\n"           /* 8 out of range */
                      "health:\n"                            /* 9 */
                      "  listen: nowhere\n"                  /* 10 bad listen */
                      "plugins:\n"                           /* 11 */
                      "  load:\n"                            /* 12 */
                      "    - file: example.so\n"             /* 13 missing name */
                      "shutdown_grace: \"20s\"\n"            /* 14 ok (quoted duration is fine) */
                      "bogus: 1\n",                          /* 15 unknown top-level key */
                      0, &errors);
    EXPECT_LINE(out, "c.yaml:3:3: log.levle: unknown key; did you mean 'level'?");
    EXPECT_LINE(out, "c.yaml:5:8: control_plane.url: 'ftp://cp' is not an http:// or https:// URL with a host");
    EXPECT_LINE(out, "c.yaml:6:18: control_plane.identity_file: 'relative.json' must be an absolute path");
    EXPECT_LINE(out, "c.yaml:7:15: control_plane.claim_wait: expected a duration such as 30s, 15m or 8h, "
                     "found '5 minutes'");
    EXPECT_LINE(out, "c.yaml:8:23: control_plane.heartbeat_interval: 2h is out of range (1s to 5m)");
    EXPECT_LINE(out, "c.yaml:10:11: health.listen: 'nowhere' is not a listen address of the form host:port");
    EXPECT_LINE(out, "c.yaml:13:7: plugins.load[0].name: required key is missing");
    EXPECT_LINE(out, "c.yaml:15:1: bogus: unknown key");
    cr_assert_eq(errors, 8, "%s", out);
    free(out);
}

Test(config, wrong_types_are_named)
{
    size_t errors;
    char *out = check("role: server\n"
                      "http:\n"
                      "  threads: many\n"
                      "  max_body_bytes: \"1024\"\n"
                      "session:\n"
                      "  cookie_secure: yes\n"
                      "worker: [a, b]\n"
                      "plugins:\n"
                      "  load: {name: x}\n",
                      0, &errors);
    EXPECT_LINE(out, "c.yaml:3:12: http.threads: expected an integer, found 'many'");
    EXPECT_LINE(out, "c.yaml:4:19: http.max_body_bytes: expected an integer, found \"1024\"");
    EXPECT_LINE(out, "c.yaml:6:18: session.cookie_secure: expected true or false, found 'yes'");
    EXPECT_LINE(out, "c.yaml:7:9: worker: expected a mapping, found a list");
    EXPECT_LINE(out, "c.yaml:9:9: plugins.load: expected a list of mappings, found a mapping");
    cr_assert_eq(errors, 5, "%s", out);
    free(out);
}

Test(config, integer_ranges)
{
    size_t errors;
    char *out = check("role: server\nhttp:\n  threads: 0\n  max_body_bytes: 99999999999\n", 0, &errors);
    EXPECT_LINE(out, "c.yaml:3:12: http.threads: 0 is out of range (1 to 256)");
    EXPECT_LINE(out, "c.yaml:4:19: http.max_body_bytes: 99999999999 is out of range (1024 to 67108864)");
    free(out);
}

Test(config, http_connection_limits)
{
    size_t errors;
    char *out = check("role: server\nhttp:\n  max_connections: 8\n  max_connections_per_ip: 0\n"
                      "  header_timeout: 500ms\n  max_header_bytes: 1000000\n",
                      0, &errors);
    EXPECT_LINE(out, "c.yaml:3:20: http.max_connections: 8 is out of range (16 to 65536)");
    EXPECT_LINE(out, "c.yaml:4:27: http.max_connections_per_ip: 0 is out of range (1 to 65536)");
    EXPECT_LINE(out, "c.yaml:5:19: http.header_timeout: 500ms is out of range (1s to 5m)");
    EXPECT_LINE(out, "c.yaml:6:21: http.max_header_bytes: 1000000 is out of range (1024 to 65536)");
    cr_assert_eq(errors, 4, "%s", out);
    free(out);
    out = check("role: server\nhttp:\n  max_connections: 4096\n  max_connections_per_ip: 64\n"
                "  header_timeout: 5s\n  max_header_bytes: 16384\n",
                0, &errors);
    cr_assert_eq(errors, 0, "%s", out);
    free(out);
}

Test(config, role_is_required_and_checked)
{
    size_t errors;
    char *out = check("log:\n  level: info\n", 0, &errors);
    EXPECT_LINE(out, "c.yaml:1:1: role: required key is missing");
    free(out);
    out = check("role: proxy\n", 0, &errors);
    EXPECT_LINE(out, "c.yaml:1:7: role: 'proxy' is not one of server|agent|dev");
    free(out);
}

Test(config, yaml_syntax_duplicates_and_aliases)
{
    size_t errors;
    char *out = check("role: agent\nlog: [unclosed\n", 0, &errors);
    EXPECT_LINE(out, "c.yaml:3:1: YAML syntax error");
    free(out);
    out = check("role: agent\nrole: server\n", 0, &errors);
    EXPECT_LINE(out, "c.yaml:2:1: duplicate key 'role' (first defined at line 1)");
    free(out);
    out = check("role: agent\nlog: &l {level: info}\nhealth: *l\n", 0, &errors);
    EXPECT_LINE(out, "c.yaml:2:6: YAML anchors (&name) are not supported");
    free(out);
    out = check("role: agent\n? [a, b]\n: 1\nlog: {}\n", 0, &errors);
    EXPECT_LINE(out, "c.yaml:2:3: mapping keys must be plain strings");
    free(out);
    out = check("role: agent\n---\nrole: agent\n", 0, &errors);
    EXPECT_LINE(out, "only one YAML document per file is allowed");
    free(out);
}

Test(config, enum_values_are_listed)
{
    size_t errors;
    char *out = check("role: server\nlog:\n  level: loud\n", 0, &errors);
    EXPECT_LINE(out, "c.yaml:3:10: log.level: 'loud' is not one of debug|info|warn|error");
    free(out);
}

Test(config, env_and_file_references)
{
    const char *secret_path = write_file("pw", "file-secret-value\n");
    setenv("SB_TEST_DB_URL", "postgres://u:env-secret-value@db/sb", 1);
    char text[512];
    snprintf(text, sizeof text,
             "role: server\ndatabase:\n  url: ${env:SB_TEST_DB_URL}\n"
             "bootstrap_admin:\n  username: admin\n  password: ${file:%s}\n",
             secret_path);
    const char *path = write_file("refs.yaml", text);
    sb_diags d;
    sb_diags_init(&d, "refs.yaml");
    sb_settings s;
    cr_assert_eq(sb_settings_load(path, "server", &s, &d), 0);
    cr_assert_eq(d.n, 0, "no warning for referenced secrets");
    cr_assert_str_eq(s.database.url, "postgres://u:env-secret-value@db/sb");
    cr_assert_str_eq(s.bootstrap_admin.password, "file-secret-value"); /* newline dropped */
    cr_assert(sb_redact_in_region(s.bootstrap_admin.password), "secrets live in secure memory");
    char msg[128];
    char copy[] = "file-secret-value";
    sb_redact_format(msg, sizeof msg, "pw=%s", copy);
    cr_assert_str_eq(msg, "pw=[REDACTED]", "configured secrets are scrubbed from messages");
    sb_settings_free(&s);
    sb_diags_free(&d);
}

Test(config, reference_errors)
{
    size_t errors;
    unsetenv("SB_TEST_MISSING");
    char *out = check("role: server\n"
                      "database:\n  url: ${env:SB_TEST_MISSING}\n"
                      "bootstrap_admin:\n  password: ${file:relative/pw}\n"
                      "state_dir: ${vault:secret/x}\n",
                      0, &errors);
    EXPECT_LINE(out, "c.yaml:3:8: database.url: environment variable SB_TEST_MISSING is not set "
                     "(referenced as ${env:SB_TEST_MISSING})");
    EXPECT_LINE(out, "c.yaml:5:13: bootstrap_admin.password: ${file:relative/pw}: the path must be absolute");
    EXPECT_LINE(out, "c.yaml:6:12: state_dir: unknown reference kind 'vault': use ${env:NAME} or ${file:/path}");
    cr_assert_null(strstr(out, "secret/x"), "the rest of an unknown reference is not echoed");
    free(out);
}

Test(config, inline_secrets_warn_and_are_never_echoed)
{
    size_t errors;
    char *out = check("role: server\nbootstrap_admin:\n  password: inline-pw-999\n", 0, &errors);
    cr_assert_eq(errors, 0, "%s", out);
    EXPECT_LINE(out, "c.yaml:3:13: warning: bootstrap_admin.password: secret written inline");
    cr_assert_null(strstr(out, "inline-pw-999"));
    free(out);
}

Test(config, plugin_instance_config_is_checked_against_the_plugin_schema)
{
    size_t errors;
    char text[1024];
    snprintf(text, sizeof text,
             "%s"
             "providers:\n"
             "  - name: one\n"
             "    plugin: example\n"
             "    config:\n"
             "      seed_demo: maybe\n"
             "      gitops_evidence: perhaps\n"
             "      seed_dmo: true\n"
             "  - name: two\n"
             "    plugin: missing\n"
             "  - name: one\n"
             "    plugin: example\n",
             agent_head);
    char *out = check(text, 1, &errors);
    EXPECT_LINE(out, "c.yaml:13:18: providers[0].config.seed_demo: expected true or false, found 'maybe'");
    EXPECT_LINE(out, "c.yaml:14:24: providers[0].config.gitops_evidence: 'perhaps' is not one of "
                     "none|rolling|applied|failed");
    EXPECT_LINE(out, "c.yaml:15:7: providers[0].config.seed_dmo: unknown key for plugin example; did you mean "
                     "'seed_demo'?");
    EXPECT_LINE(out, "c.yaml:16:5: providers[1]: plugin 'missing' is not loaded; list it under plugins.load");
    EXPECT_LINE(out, "c.yaml:18:5: providers[2]: a provider named 'one' is already configured (line 10)");
    cr_assert_eq(errors, 5, "%s", out);
    free(out);
}

Test(config, capabilities_the_plugin_lacks_are_refused)
{
    const char *path = write_file("caps.yaml",
                                  "role: agent\n"
                                  "control_plane:\n  url: https://cp\n  identity_file: /x\n"
                                  "plugins:\n  load:\n    - name: abi-ok\n      file: abi_ok.so\n"
                                  "      capabilities: [provider, kms, telepathy]\n");
    sb_diags d;
    sb_diags_init(&d, "caps.yaml");
    sb_settings s;
    sb_settings_load(path, NULL, &s, &d);
    sb_registry r;
    sb_registry_load(&r, &s, SB_TEST_PLUGIN_DIR, &d);
    char all[4096] = "";
    for (size_t i = 0; i < d.n; i++) {
        char line[1400];
        sb_diags_format(&d, i, line, sizeof line);
        strcat(all, line);
        strcat(all, "\n");
    }
    EXPECT_LINE(all, "caps.yaml:7:7: plugins.load[0]: the config asks plugin 'abi-ok' for the kms "
                     "capability, but it only provides: provider");
    EXPECT_LINE(all, "plugins.load[0].capabilities: 'telepathy' is not one of provider, kms, gitops, notifier");
    cr_assert_eq(r.n_plugins, 0, "a plugin that fails its capability check is not kept");
    sb_registry_free(&r);
    sb_settings_free(&s);
    sb_diags_free(&d);
}

Test(config, example_configs_in_the_repo_pass)
{
    const char *files[] = {SB_SOURCE_DIR "/config/agent.yaml", SB_SOURCE_DIR "/config/server.yaml",
                           SB_SOURCE_DIR "/config/dev.yaml"};
    setenv("SBRIDGE_ADMIN_PASSWORD", "example-admin-password", 1);
    for (size_t i = 0; i < 3; i++) {
        sb_diags d;
        sb_diags_init(&d, files[i]);
        sb_settings s;
        sb_settings_load(files[i], NULL, &s, &d);
        sb_registry r;
        sb_registry_load(&r, &s, SB_PLUGIN_OUT_DIR, &d);
        char first[1400] = "";
        if (d.n_errors)
            sb_diags_format(&d, 0, first, sizeof first);
        cr_assert_eq(d.n_errors, 0, "%s: %s", files[i], first);
        sb_registry_free(&r);
        sb_settings_free(&s);
        sb_diags_free(&d);
    }
}

Test(config, durations_parse_and_refuse)
{
    int64_t ms;
    cr_assert_eq(sb_duration_parse("1h30m", &ms), 0);
    cr_assert_eq(ms, 5400000);
    cr_assert_eq(sb_duration_parse("1500ms", &ms), 0);
    cr_assert_eq(ms, 1500);
    cr_assert_eq(sb_duration_parse("30", &ms), -1);
    cr_assert_eq(sb_duration_parse("-5s", &ms), -1);
    cr_assert_eq(sb_duration_parse("5 s", &ms), -1);
    cr_assert_eq(sb_duration_parse("99999999999999999999s", &ms), -1);
}

Test(config, trusted_proxies_are_addresses_or_networks)
{
    size_t errors;
    char *out = check("role: server\nhttp:\n  trusted_proxies: [10.0.0.0/8, \"::1\", 192.0.2.9]\n", 0,
                      &errors);
    cr_assert_eq(errors, 0, "%s", out);
    free(out);
    out = check("role: server\nhttp:\n  trusted_proxies:\n    - 10.0.0.1/8\n    - proxy.local\n", 0,
                &errors);
    cr_assert_eq(errors, 2, "%s", out);
    EXPECT_LINE(out, "c.yaml:4:7: http.trusted_proxies[0]: '10.0.0.1/8': host bits are set");
    EXPECT_LINE(out, "c.yaml:5:7: http.trusted_proxies[1]: 'proxy.local': not an IPv4 or IPv6");
    free(out);
}
