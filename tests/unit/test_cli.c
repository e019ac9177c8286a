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

/* Runs cmd with stdout into out and stderr into err; returns its exit status. */
static int run_split(const char *cmd, char *o, char *e, size_t cap)
{
    char full[2048], errfile[128];
    snprintf(errfile, sizeof errfile, "%s/stderr.txt", tmp);
    snprintf(full, sizeof full, "%s 2>%s", cmd, errfile);
    FILE *p = popen(full, "r");
    cr_assert_not_null(p);
    size_t n = fread(o, 1, cap - 1, p);
    o[n] = '\0';
    int st = pclose(p);
    FILE *f = fopen(errfile, "r");
    cr_assert_not_null(f);
    n = fread(e, 1, cap - 1, f);
    e[n] = '\0';
    fclose(f);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

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
    EXPECT_OUT("plugin ABI 1.1");
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
    cr_assert_eq(run(SBRIDGE " controller", out, sizeof out), 2);
    EXPECT_OUT("not available in this build yet");
}

Test(cli, help_lists_only_what_this_build_has)
{
    cr_assert_eq(run(SBRIDGE " --help", out, sizeof out), 0);
    const char *planned = strstr(out, "not yet available in this build");
    cr_assert_not_null(planned, "help separates the planned commands:\n%s", out);
    unsigned n, available = 0;
    const sb_command *cmds = sb_commands(&n);
    for (unsigned i = 0; i < n; i++) {
        char line[64];
        snprintf(line, sizeof line, "\n  %-11s ", cmds[i].name);
        const char *at = strstr(out, line);
        cr_assert_not_null(at, "%s is listed:\n%s", cmds[i].name, out);
        if (cmds[i].run) {
            available++;
            cr_assert(at < planned, "%s is available, listed as planned:\n%s", cmds[i].name, out);
        } else {
            cr_assert(at > planned, "%s is planned, listed as available:\n%s", cmds[i].name, out);
        }
    }
    cr_assert_geq(available, 8);
    /* A planned command names what the build does have, from the same table. */
    static char err[65536];
    cr_assert_eq(run_split(SBRIDGE " controller", out, err, sizeof out), 2);
    cr_assert_null(strstr(err, "plugin host"), "the stale message is gone:\n%s", err);
    cr_assert_not_null(strstr(err, "This build has: server, worker, agent, dev, migrate, admin, config, plugin, audit"), "%s", err);
    cr_assert_eq(run(SBRIDGE " controller --help", out, sizeof out), 0);
    EXPECT_OUT("(not yet available in this build)");
    cr_assert_eq(run(SBRIDGE " agent --help", out, sizeof out), 0);
    cr_assert_null(strstr(out, "not yet available"), "%s", out);
    EXPECT_OUT("sbridge-agent [--config FILE]");
}

Test(cli, help_command_is_the_same_as_dash_dash_help)
{
    unsigned n;
    const sb_command *cmds = sb_commands(&n);
    static char a[65536], b[65536];
    for (unsigned i = 0; i < n; i++) {
        char cmd[256];
        snprintf(cmd, sizeof cmd, SBRIDGE " help %s", cmds[i].name);
        cr_assert_eq(run(cmd, a, sizeof a), 0, "%s: %s", cmd, a);
        snprintf(cmd, sizeof cmd, SBRIDGE " %s --help", cmds[i].name);
        cr_assert_eq(run(cmd, b, sizeof b), 0);
        cr_assert_str_eq(a, b, "help %s differs from %s --help", cmds[i].name, cmds[i].name);
    }
    cr_assert_eq(run(SBRIDGE " help", a, sizeof a), 0);
    cr_assert_eq(run(SBRIDGE " --help", b, sizeof b), 0);
    cr_assert_str_eq(a, b);
}

/* A typo gets a suggestion on stderr, nothing on stdout, and exit 2. */
static void expect_suggestion(const char *args, const char *suggestion)
{
    static char o[65536], e[65536];
    char cmd[512];
    snprintf(cmd, sizeof cmd, SBRIDGE " %s", args);
    cr_assert_eq(run_split(cmd, o, e, sizeof o), 2, "%s exits 2", args);
    cr_assert_str_empty(o, "%s: nothing on stdout, got:\n%s", args, o);
    cr_assert_not_null(strstr(e, suggestion), "%s: expected '%s' on stderr, got:\n%s", args, suggestion, e);
}

Test(cli, typos_get_a_did_you_mean)
{
    expect_suggestion("sever", "'sever' is not a command. Did you mean 'server'?");
    expect_suggestion("wroker", "Did you mean 'worker'?");
    expect_suggestion("help confg", "Did you mean 'config'?");
    expect_suggestion("--verison", "unknown option --verison. Did you mean --version?");
    expect_suggestion("config chek x.yaml", "unknown subcommand 'chek'. Did you mean 'check'?");
    expect_suggestion("config check --plugn-dir d x.yaml", "unknown option --plugn-dir. Did you mean --plugin-dir?");
    expect_suggestion("plugin inspct x.so", "Did you mean 'inspect'?");
    expect_suggestion("plugin inspect --jsno x.so", "Did you mean --json?");
    expect_suggestion("audit verfy", "Did you mean 'verify'?");
    expect_suggestion("audit verify --stale-afer 5", "Did you mean --stale-after?");
    expect_suggestion("server --confg x", "Did you mean --config?");
    expect_suggestion("admin usr create bob", "Did you mean 'user'?");
    expect_suggestion("dev --onse", "Did you mean --once?");
    expect_suggestion("dev --lisen 127.0.0.1:0", "Did you mean --listen?");
    expect_suggestion("audit verify --state-dri d", "Did you mean --state-dir?");
    expect_suggestion("frobnicate", "Run 'sbridge --help' for the list.");
    cr_assert_eq(run(SBRIDGE " frobnicate", out, sizeof out), 2);
    cr_assert_null(strstr(out, "Did you mean"), "nothing is close to frobnicate:\n%s", out);
}

Test(cli, edit_distance_counts_swaps_as_one_edit)
{
    cr_assert_eq(sb_cli_edit_distance("kitten", "sitting"), 3);
    cr_assert_eq(sb_cli_edit_distance("wroker", "worker"), 1);
    cr_assert_eq(sb_cli_edit_distance("", "dev"), 3);
    cr_assert_eq(sb_cli_edit_distance("same", "same"), 0);
    static const char *const names[] = {"server", "dev", "migrate"};
    cr_assert_str_eq(sb_cli_nearest("migrat", names, 3), "migrate");
    cr_assert_str_eq(sb_cli_nearest("mig", names, 3), "migrate", "a unique prefix");
    cr_assert_null(sb_cli_nearest("dev", names, 3), "an exact match is no typo");
    cr_assert_null(sb_cli_nearest("xyzzy", names, 3));
}

Test(cli, dev_refuses_a_malformed_listen_address)
{
    static char err[65536];
    cr_assert_eq(run_split(SBRIDGE " dev --listen 8081", out, err, sizeof out), 2);
    cr_assert_not_null(strstr(err, "--listen takes ADDR:PORT, e.g. 127.0.0.1:8081"), "%s", err);
    cr_assert_eq(run_split("SBRIDGE_DEV_LISTEN=localhost " SBRIDGE " dev", out, err, sizeof out), 2);
    cr_assert_not_null(strstr(err, "SBRIDGE_DEV_LISTEN takes ADDR:PORT"), "%s", err);
}

Test(cli, audit_verify_wants_a_config_or_a_state_dir)
{
    static char err[65536];
    cr_assert_eq(run_split("env -u SBRIDGE_CONFIG " SBRIDGE " audit verify", out, err, sizeof out), 2);
    cr_assert_not_null(strstr(err, "pass --config FILE, --state-dir DIR"), "%s", err);
    char cmd[512];
    snprintf(cmd, sizeof cmd, SBRIDGE " audit verify --state-dir %s/none", tmp);
    cr_assert_eq(run_split(cmd, out, err, sizeof out), 1);
    cr_assert_not_null(strstr(err, "master.key does not exist"), "%s", err);
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

Test(cli, a_worker_needs_the_servers_external_database)
{
    char f[128], cmd[512];
    snprintf(f, sizeof f, "%s/sb-cli-worker.yaml", tmp);
    FILE *fp = fopen(f, "w");
    fputs("role: server\nstate_dir: /nonexistent\n", fp);
    fclose(fp);
    snprintf(cmd, sizeof cmd, SBRIDGE " worker --config %s", f);
    cr_assert_eq(run(cmd, out, sizeof out), 1);
    EXPECT_OUT("has no database.url");
    snprintf(cmd, sizeof cmd, SBRIDGE " worker --no-worker --config %s", f);
    cr_assert_eq(run(cmd, out, sizeof out), 2);
    EXPECT_OUT("--no-worker");
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
    EXPECT_OUT("\"abi\": \"1.1\""); /* the header's minor it was built with */
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
    /* the example leaves ABI 1.1's list_applications NULL, as it may */
    EXPECT_OUT("skip  gitops: list_applications (ABI 1.1): not provided");
    EXPECT_OUT("ok    notifier: deliver");
    EXPECT_OUT("ok    provider: writes read back; a stale compare-and-set write conflicts");
    EXPECT_OUT(", 0 failed");
    /* ABI 1.1's list_applications is exercised when a GitOps plugin has it */
    cr_assert_eq(run(SBRIDGE " plugin check " SB_TEST_PLUGIN_DIR "/gitops_requires_1_1.so", out, sizeof out),
                 0, "%s", out);
    EXPECT_OUT("ok    gitops: list_applications (ABI 1.1)");
    cr_assert_eq(run(SBRIDGE " plugin check " SB_TEST_PLUGIN_DIR "/gitops_v1_0.so", out, sizeof out), 0,
                 "%s", out);
    EXPECT_OUT("skip  gitops: list_applications (ABI 1.1): not provided (built for ABI 1.0");
}

Test(cli, plugin_check_catches_a_plugin_that_declares_write_but_never_writes)
{
    cr_assert_eq(run(SBRIDGE " plugin check " SB_TEST_PLUGIN_DIR "/abi_lazy_write.so", out, sizeof out), 1,
                 "a write that stores nothing passed the conformance kit:\n%s", out);
    EXPECT_OUT("FAIL  provider: writes read back; a stale compare-and-set write conflicts: read after a "
               "successful write: expected 0 (SB_OK), got 2 (SB_E_NOT_FOUND)");
    EXPECT_OUT("the write did not store the secret");
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

/* config/dev.yaml plus a provider instance `demo` of the example plugin
 * (seeded secrets, fenced to team payments), with `sed_expr` applied; the
 * file's path into cfg. */
static void dev_config_with_provider(const char *sed_expr, char *cfg, size_t cap)
{
    char cmd[1024];
    snprintf(cfg, cap, "%s/dev-provider.yaml", tmp);
    snprintf(cmd, sizeof cmd,
             "sed '%s' " SB_SOURCE_DIR "/config/dev.yaml > %s && printf 'providers:\\n  - name: demo\\n"
             "    plugin: example\\n    fence:\\n      team: payments\\n    config:\\n"
             "      seed_demo: true\\n' >> %s",
             sed_expr, cfg, cfg);
    cr_assert_eq(system(cmd), 0);
}

Test(cli, log_level_comes_from_config_unless_the_environment_says_otherwise)
{
    char cfg[128], cmd[512];
    dev_config_with_provider("s/level: info/level: warn/", cfg, sizeof cfg);
    snprintf(cmd, sizeof cmd, "env -u SBRIDGE_LOG_LEVEL " SBRIDGE " dev --once --config %s --plugin-dir " SB_PLUGIN_OUT_DIR,
             cfg);
    cr_assert_eq(run(cmd, out, sizeof out), 0, "%s", out);
    cr_assert_null(strstr(out, "\"level\":\"info\""), "info lines hidden at level warn:\n%s", out);
    snprintf(cmd, sizeof cmd, "SBRIDGE_LOG_LEVEL=debug " SBRIDGE " dev --once --config %s --plugin-dir " SB_PLUGIN_OUT_DIR,
             cfg);
    cr_assert_eq(run(cmd, out, sizeof out), 0, "%s", out);
    EXPECT_OUT("started provider instance demo");
}

Test(cli, dev_runs_on_the_embedded_defaults)
{
    cr_assert_eq(run(SBRIDGE " dev --once --plugin-dir " SB_PLUGIN_OUT_DIR, out, sizeof out), 0, "%s", out);
    EXPECT_OUT("1 plugin loaded");
    EXPECT_OUT("kms: the built-in local KMS (development only)");
    cr_assert_null(strstr(out, "  demo: no "), "the demo would not run from this build:\n%s", out);
}

Test(cli, dev_lists_its_provider_instances_fenced_and_shows_no_values)
{
    char cfg[128], cmd[512];
    dev_config_with_provider("", cfg, sizeof cfg);
    snprintf(cmd, sizeof cmd, SBRIDGE " dev --once --config %s --plugin-dir " SB_PLUGIN_OUT_DIR, cfg);
    cr_assert_eq(run(cmd, out, sizeof out), 0, "%s", out);
    EXPECT_OUT("provider demo (plugin example 1.0.0)");
    EXPECT_OUT("payments/db");
    EXPECT_OUT("team=payments");
    cr_assert_null(strstr(out, "checkout/stripe"), "the fence team=payments was not applied:\n%s", out);
    cr_assert_null(strstr(out, "demo-db-password"), "a value was printed:\n%s", out);
    cr_assert_null(strstr(out, "demo-api-token"), "a value was printed:\n%s", out);
}

Test(cli, dev_without_a_vault_emulator_says_the_demo_is_off)
{
    char cfg[128], cmd[512];
    snprintf(cfg, sizeof cfg, "%s/dev-noemu.yaml", tmp);
    snprintf(cmd, sizeof cmd,
             "sed 's|  seed: true|  seed: true\\n  vault_emulator: /nonexistent/emulator.py|' " SB_SOURCE_DIR
             "/config/dev.yaml > %s",
             cfg);
    cr_assert_eq(system(cmd), 0);
    snprintf(cmd, sizeof cmd, SBRIDGE " dev --once --config %s --plugin-dir " SB_PLUGIN_OUT_DIR, cfg);
    cr_assert_eq(run(cmd, out, sizeof out), 0, "%s", out);
    EXPECT_OUT("demo: no Vault emulator at /nonexistent/emulator.py, so no demo secrets or agent");
}

Test(cli, dev_with_a_kms_plugin_instance_shows_its_round_trip)
{
    char cfg[128], cmd[768];
    snprintf(cfg, sizeof cfg, "%s/dev-kms.yaml", tmp);
    snprintf(cmd, sizeof cmd,
             "sed 's/capabilities: \\[provider\\]/capabilities: [provider, kms]/' " SB_SOURCE_DIR
             "/config/dev.yaml > %s && printf 'kms:\\n  name: dev-kms\\n  plugin: example\\n' >> %s",
             cfg, cfg);
    cr_assert_eq(system(cmd), 0);
    snprintf(cmd, sizeof cmd, SBRIDGE " dev --once --config %s --plugin-dir " SB_PLUGIN_OUT_DIR, cfg);
    cr_assert_eq(run(cmd, out, sizeof out), 0, "%s", out);
    EXPECT_OUT("kms dev-kms (plugin example): wrap/unwrap round trip ok");
    cr_assert_null(strstr(out, "built-in local KMS"), "%s", out);
}
