/* test_cli.c — the sbridge binary as users run it: help for every command,
 * config check, plugin inspect/check (the conformance kit), dev. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli/cli.h"

#define SBRIDGE SB_BINARY_DIR "/sbridge"

/* Runs a shell command; returns its exit status and output (stdout+stderr). */
static int run(const char *cmd, char *out, size_t cap)
{
    char full[2048];
    snprintf(full, sizeof full, "%s 2>&1", cmd);
    FILE *p = popen(full, "r");
    cr_assert_not_null(p);
    size_t n = fread(out, 1, cap - 1, p);
    out[n] = '\0';
    int st = pclose(p);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

static char out[65536];
static char tmp[64];

static void setup(void)
{
    snprintf(tmp, sizeof tmp, "/tmp/sb-cli-test-XXXXXX");
    cr_assert_not_null(mkdtemp(tmp));
}
static void teardown(void)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp);
    if (system(cmd) != 0)
        cr_log_warn("could not remove %s", tmp);
}
TestSuite(cli, .init = setup, .fini = teardown);

#define EXPECT_OUT(text) cr_assert_not_null(strstr(out, text), "expected '%s' in:\n%s", text, out)

Test(cli, version_and_help)
{
    cr_assert_eq(run(SBRIDGE " version", out, sizeof out), 0);
    EXPECT_OUT("plugin ABI 1.0");
    cr_assert_eq(run(SBRIDGE " --help", out, sizeof out), 0);
    EXPECT_OUT("commands:");
    cr_assert_eq(run(SBRIDGE, out, sizeof out), 2, "no command is a usage error");
    cr_assert_eq(run(SBRIDGE " frobnicate", out, sizeof out), 2);
    EXPECT_OUT("'frobnicate' is not a command");
}

Test(cli, every_command_answers_help)
{
    unsigned n;
    const sb_command *cmds = sb_commands(&n);
    cr_assert_geq(n, 14);
    for (unsigned i = 0; i < n; i++) {
        char cmd[256];
        snprintf(cmd, sizeof cmd, SBRIDGE " %s --help", cmds[i].name);
        cr_assert_eq(run(cmd, out, sizeof out), 0, "%s --help", cmds[i].name);
        cr_assert_not_null(strstr(out, "usage: sbridge"), "%s --help prints usage:\n%s", cmds[i].name, out);
    }
}

Test(cli, roles_not_in_this_build_say_so)
{
    cr_assert_eq(run(SBRIDGE " worker", out, sizeof out), 2);
    EXPECT_OUT("not available in this build yet");
}

Test(cli, config_check_passes_on_the_example_configs)
{
    cr_assert_eq(run(SBRIDGE " config check --plugin-dir " SB_PLUGIN_OUT_DIR " " SB_SOURCE_DIR
                             "/config/agent.yaml",
                     out, sizeof out),
                 0, "%s", out);
    EXPECT_OUT("agent.yaml: ok (role agent, 1 plugin, 1 instance)");
    cr_assert_eq(run("SBRIDGE_ADMIN_PASSWORD=x-admin-pw " SBRIDGE " config check --plugin-dir " SB_PLUGIN_OUT_DIR
                     " " SB_SOURCE_DIR "/config/server.yaml",
                     out, sizeof out),
                 0, "%s", out);
    EXPECT_OUT("server.yaml: ok (role server");
}

Test(cli, config_check_reports_every_error_of_a_broken_copy)
{
    char broken[128];
    snprintf(broken, sizeof broken, "%s/sb-cli-broken-agent.yaml", tmp);
    char cmd[1024];
    snprintf(cmd, sizeof cmd,
             "sed -e 's#url: https://sbridge.example.com#url: sbridge.example.com#' "
             "-e 's#claim_wait: 25s#claim_wait: forever#' "
             "-e 's#auth: kubernetes #auth: ldap #' "
             "-e 's#^shutdown_grace: 20s#shutdown_grace: 20s\\nextra_key: 1#' %s/config/agent.yaml > %s",
             SB_SOURCE_DIR, broken);
    cr_assert_eq(system(cmd), 0);
    snprintf(cmd, sizeof cmd, SBRIDGE " config check --plugin-dir " SB_PLUGIN_OUT_DIR " %s", broken);
    cr_assert_eq(run(cmd, out, sizeof out), 1, "%s", out);
    EXPECT_OUT("sb-cli-broken-agent.yaml:13:8: control_plane.url: 'sbridge.example.com' is not an http:// or "
               "https:// URL");
    EXPECT_OUT("sb-cli-broken-agent.yaml:15:15: control_plane.claim_wait: expected a duration");
    EXPECT_OUT(": providers[0].config.auth: 'ldap' is not one of token|approle|kubernetes");
    EXPECT_OUT(": extra_key: unknown key");
    EXPECT_OUT("4 errors");
}

Test(cli, duplicate_plugins_are_refused)
{
    char f[128], cmd[512];
    snprintf(f, sizeof f, "%s/sb-cli-dup.yaml", tmp);
    FILE *fp = fopen(f, "w");
    fputs("role: agent\ncontrol_plane:\n  url: https://cp\n  identity_file: /x\n"
          "plugins:\n  load:\n    - {name: abi-ok, file: abi_ok.so}\n    - {name: abi-ok, file: abi_dup.so}\n",
          fp);
    fclose(fp);
    snprintf(cmd, sizeof cmd, SBRIDGE " config check --plugin-dir " SB_TEST_PLUGIN_DIR " %s", f);
    cr_assert_eq(run(cmd, out, sizeof out), 1);
    EXPECT_OUT("sb-cli-dup.yaml:8:7: plugins.load[1]: plugin 'abi-ok' is listed twice");
}

Test(cli, plugin_inspect_text_and_json)
{
    cr_assert_eq(run(SBRIDGE " plugin inspect " SB_PLUGIN_OUT_DIR "/example.so", out, sizeof out), 0, "%s", out);
    EXPECT_OUT("example 1.0.0");
    EXPECT_OUT("capabilities:  provider,kms,gitops,notifier");
    EXPECT_OUT("webhook_token          string, SECRET");
    EXPECT_OUT("sha256:");
    cr_assert_eq(run(SBRIDGE " plugin inspect --json " SB_PLUGIN_OUT_DIR "/example.so", out, sizeof out), 0);
    EXPECT_OUT("\"name\": \"example\"");
    EXPECT_OUT("\"abi\": \"1.0\"");
    EXPECT_OUT("\"secret\": true");
    cr_assert_eq(run(SBRIDGE " plugin inspect " SB_TEST_PLUGIN_DIR "/abi_major.so", out, sizeof out), 1);
    EXPECT_OUT("a different major version is never compatible");
}

Test(cli, plugin_check_passes_on_the_example_plugin)
{
    cr_assert_eq(run(SBRIDGE " plugin check " SB_PLUGIN_OUT_DIR "/example.so", out, sizeof out), 0, "%s", out);
    EXPECT_OUT("ok    provider: invalid arguments are refused cleanly");
    EXPECT_OUT("ok    kms: wrap/unwrap round trip, no leaks");
    EXPECT_OUT("ok    gitops: baseline/observe");
    EXPECT_OUT("ok    notifier: deliver");
    EXPECT_OUT(", 0 failed");
}

Test(cli, plugin_check_reports_crashes_and_bad_descriptors)
{
    cr_assert_eq(run(SBRIDGE " plugin check " SB_TEST_PLUGIN_DIR "/abi_crashy.so", out, sizeof out), 1, "%s", out);
    /* a SIGSEGV normally; a sanitizer's report and exit under ASan/UBSan */
    EXPECT_OUT("FAIL  provider: invalid arguments are refused cleanly: crashed");
    cr_assert_eq(run(SBRIDGE " plugin check " SB_TEST_PLUGIN_DIR "/abi_short.so", out, sizeof out), 1);
    EXPECT_OUT("FAIL  load:");
    EXPECT_OUT("is smaller than ABI 1.0's");
}

Test(cli, log_level_comes_from_config_unless_the_environment_says_otherwise)
{
    char cfg[128], cmd[512];
    snprintf(cfg, sizeof cfg, "%s/dev-warn.yaml", tmp);
    snprintf(cmd, sizeof cmd, "sed 's/level: info/level: warn/' " SB_SOURCE_DIR "/config/dev.yaml > %s", cfg);
    cr_assert_eq(system(cmd), 0);
    snprintf(cmd, sizeof cmd, "env -u SBRIDGE_LOG_LEVEL " SBRIDGE " dev --once --config %s --plugin-dir " SB_PLUGIN_OUT_DIR,
             cfg);
    cr_assert_eq(run(cmd, out, sizeof out), 0, "%s", out);
    cr_assert_null(strstr(out, "\"level\":\"info\""), "info lines hidden at level warn:\n%s", out);
    snprintf(cmd, sizeof cmd, "SBRIDGE_LOG_LEVEL=debug " SBRIDGE " dev --once --config %s --plugin-dir " SB_PLUGIN_OUT_DIR,
             cfg);
    cr_assert_eq(run(cmd, out, sizeof out), 0, "%s", out);
    EXPECT_OUT("started provider instance demo");
}

Test(cli, dev_runs_on_the_embedded_defaults_and_shows_no_values)
{
    cr_assert_eq(run(SBRIDGE " dev --once --plugin-dir " SB_PLUGIN_OUT_DIR, out, sizeof out), 0, "%s", out);
    EXPECT_OUT("1 plugin loaded");
    EXPECT_OUT("provider demo (plugin example 1.0.0)");
    EXPECT_OUT("payments/db");
    EXPECT_OUT("team=payments");
    cr_assert_null(strstr(out, "checkout/stripe"), "the fence team=payments was not applied:\n%s", out);
    EXPECT_OUT("kms dev-kms (plugin example): wrap/unwrap round trip ok");
    cr_assert_null(strstr(out, "demo-db-password"), "a value was printed:\n%s", out);
    cr_assert_null(strstr(out, "demo-api-token"), "a value was printed:\n%s", out);
}
