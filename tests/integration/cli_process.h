/*
 * cli_process.h — the sbridge client commands run as a user runs them, for
 * integration tests: the real sbridge binary spawned without a shell, in an
 * environment of only PATH, HOME (the test's temporary directory), the
 * client's config directory and what the test adds; stdin from a text,
 * stdout and stderr captured whole into `out` and `err`.
 *
 * Header-only (static inline). Include it after the other test utilities
 * (its globals tmp, out and err would shadow their parameters). The
 * including test creates `tmp` (cli_tmp_create) before the first run and
 * removes it after (cli_tmp_remove).
 * Used by test_cli_client.c and the end-to-end tests (test_e2e_vault.c).
 */
#ifndef SB_TESTS_CLI_PROCESS_H
#define SB_TESTS_CLI_PROCESS_H

#include <criterion/criterion.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>

#define SBRIDGE SB_BINARY_DIR "/sbridge"

static char tmp[64];
static char out[65536], err[65536];

static inline void cli_tmp_create(void)
{
    snprintf(tmp, sizeof tmp, "/tmp/sb-cli-client-XXXXXX");
    cr_assert_not_null(mkdtemp(tmp));
}

static inline void cli_tmp_remove(void)
{
    if (!tmp[0])
        return;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp);
    if (system(cmd) != 0)
        cr_log_warn("could not remove %s", tmp);
    tmp[0] = '\0';
}

static inline void slurp(const char *path, char *buf, size_t cap)
{
    FILE *f = fopen(path, "r");
    size_t n = f ? fread(buf, 1, cap - 1, f) : 0;
    buf[n] = '\0';
    if (f)
        fclose(f);
}

/* Runs sbridge with argv (NULL-terminated, argv[0] excluded) in an
 * environment of only PATH, HOME=tmp, the config dir and extra ("K=V",
 * NULL-terminated, may be NULL); stdin from the text `in` (NULL: /dev/null).
 * stdout into out, stderr into err. Returns the exit status. */
static inline int run_env(const char *config_dir, const char *const *extra, const char *in,
                   const char *const *args)
{
    char in_path[128], out_path[128], err_path[128];
    snprintf(in_path, sizeof in_path, "%s/stdin", tmp);
    snprintf(out_path, sizeof out_path, "%s/stdout", tmp);
    snprintf(err_path, sizeof err_path, "%s/stderr", tmp);
    FILE *f = fopen(in_path, "w");
    cr_assert_not_null(f);
    if (in)
        fputs(in, f);
    fclose(f);
    char *argv[32];
    int n = 0;
    argv[n++] = (char *)SBRIDGE;
    for (const char *const *a = args; *a; a++)
        argv[n++] = (char *)*a;
    argv[n] = NULL;
    char home[96], cfg[256];
    snprintf(home, sizeof home, "HOME=%s", tmp);
    snprintf(cfg, sizeof cfg, "SBRIDGE_CONFIG_DIR=%s", config_dir ? config_dir : "");
    char *envp[16];
    int e = 0;
    envp[e++] = (char *)"PATH=/usr/bin:/bin";
    envp[e++] = home;
    envp[e++] = (char *)"SBRIDGE_LOG_LEVEL=error";
    if (config_dir)
        envp[e++] = cfg;
    for (const char *const *x = extra; x && *x; x++)
        envp[e++] = (char *)*x;
    envp[e] = NULL;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, in_path, O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, out_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    posix_spawn_file_actions_addopen(&fa, 2, err_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    pid_t pid;
    cr_assert_eq(posix_spawn(&pid, SBRIDGE, &fa, NULL, argv, envp), 0);
    posix_spawn_file_actions_destroy(&fa);
    int st;
    cr_assert_eq(waitpid(pid, &st, 0), pid);
    slurp(out_path, out, sizeof out);
    slurp(err_path, err, sizeof err);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

#define RUN(dir, in, ...) run_env(dir, NULL, in, (const char *const[]){__VA_ARGS__, NULL})
#define EXPECT_ERR(text) cr_assert_not_null(strstr(err, text), "expected '%s' in stderr:\n%s", text, err)
#define EXPECT_OUT(text) cr_assert_not_null(strstr(out, text), "expected '%s' in stdout:\n%s", text, out)

/* A config directory under tmp for user name, logged in. */
static inline void login_as(const char *name, char *dir)
{
    snprintf(dir, 128, "%s/cfg-%s", tmp, name);
    int rc = RUN(dir, "user-password-1\n", "login", "--url", sb_api_harness_base_url(h), "--username",
                 name, "--password-stdin");
    cr_assert_eq(rc, 0, "login %s: %s%s", name, out, err);
}

/* "<id> <state>" on stdout: the id into id, the state checked. */
static inline void id_state(char *id, const char *want_state)
{
    char state[32] = "";
    cr_assert_eq(sscanf(out, "%39s %31s", id, state), 2, "stdout: %s", out);
    cr_assert_str_eq(state, want_state, "stdout: %s", out);
}

#endif
