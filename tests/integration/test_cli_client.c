/*
 * test_cli_client.c — the sbridge client commands (login, logout, request,
 * requests, approve, reject, reveal) as users run them: the real sbridge
 * binary, spawned without a shell, against the real control plane on
 * loopback (PostgreSQL + HTTP, api_harness.h), with agents played through
 * the agent API (agent_test_util.h).
 *
 * Proven here: login stores a 0600 token file in a 0700 directory and the
 * client refuses a wider file or directory; SBRIDGE_URL + SBRIDGE_TOKEN
 * replace it; logout revokes the token. read → approve (another user) →
 * the agent completes → reveal prints the value once, a second reveal says
 * it was revealed already; --out writes a new 0600 file and never
 * overwrites. patch from a value file: one box per live agent key, each
 * opens with that agent's secret key to the value, and the value never
 * appears in the CLI's argv, its stderr, or any row of the database. Bad
 * input: a clear error and exit status 2 (usage) or 1 (failure).
 */
#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "agent_test_util.h"
#include "cli_process.h"

static void cli_setup(void)
{
    tenancy_setup();
    cli_tmp_create();
}

static void cli_teardown(void)
{
    cli_tmp_remove();
    tenancy_teardown();
}

TestSuite(cli_client, .init = cli_setup, .fini = cli_teardown, .timeout = 240);

Test(cli_client, login_stores_a_private_token_and_refuses_wider_permissions)
{
    request_world();
    char dir[128], file[160];
    login_as("dev", dir);
    EXPECT_OUT("Logged in to http://127.0.0.1:");
    snprintf(file, sizeof file, "%s/credentials", dir);
    struct stat st;
    cr_assert_eq(stat(dir, &st), 0);
    cr_assert_eq(st.st_mode & 07777, 0700);
    cr_assert_eq(stat(file, &st), 0);
    cr_assert_eq(st.st_mode & 07777, 0600);
    char text[4096];
    slurp(file, text, sizeof text);
    json_t *cred = json_loads(text, 0, NULL);
    cr_assert_not_null(cred, "%s", text);
    const char *token = json_string_value(json_object_get(cred, "token"));
    cr_assert(token && strncmp(token, "sbp_", 4) == 0, "%s", text);
    cr_assert_eq(sql_int("SELECT count(*) FROM api_tokens WHERE name LIKE 'cli@%%' AND "
                         "revoked_at IS NULL AND user_id = '%s'",
                         dev_id),
                 1);
    cr_assert_eq(RUN(dir, NULL, "requests", "list"), 0, "%s", err);

    /* a file or directory others may read is refused, with the fix */
    cr_assert_eq(chmod(file, 0644), 0);
    cr_assert_eq(RUN(dir, NULL, "requests", "list"), 1);
    EXPECT_ERR("mode 0644");
    EXPECT_ERR("chmod 600");
    cr_assert_eq(chmod(file, 0600), 0);
    cr_assert_eq(chmod(dir, 0755), 0);
    cr_assert_eq(RUN(dir, NULL, "requests", "list"), 1);
    EXPECT_ERR("chmod 700");
    /* login refuses it too, before creating a token it could not keep */
    cr_assert_eq(RUN(dir, "user-password-1\n", "login", "--url", sb_api_harness_base_url(h),
                     "--username", "dev", "--password-stdin"),
                 1);
    EXPECT_ERR("chmod 700");
    cr_assert_eq(sql_int("SELECT count(*) FROM api_tokens"), 1);
    cr_assert_eq(chmod(dir, 0700), 0);

    /* a wrong password: the API's code, what to do, nothing stored */
    char wrong[128], wrong_file[160];
    snprintf(wrong, sizeof wrong, "%s/cfg-wrong", tmp);
    snprintf(wrong_file, sizeof wrong_file, "%s/credentials", wrong);
    cr_assert_eq(RUN(wrong, "not-the-password\n", "login", "--url", sb_api_harness_base_url(h),
                     "--username", "dev", "--password-stdin"),
                 1);
    EXPECT_ERR("401 invalid_credentials");
    cr_assert_neq(access(wrong_file, F_OK), 0, "nothing is stored after a failed login");
    cr_assert(strstr(err, "not-the-password") == NULL);

    /* SBRIDGE_URL + SBRIDGE_TOKEN replace the file (no config directory) */
    char url_env[160], token_env[160];
    snprintf(url_env, sizeof url_env, "SBRIDGE_URL=%s", sb_api_harness_base_url(h));
    snprintf(token_env, sizeof token_env, "SBRIDGE_TOKEN=%s", token);
    const char *both[] = {url_env, token_env, NULL}, *half[] = {url_env, NULL};
    const char *list_args[] = {"requests", "list", NULL};
    cr_assert_eq(run_env(wrong, both, NULL, list_args), 0, "%s", err);
    cr_assert_eq(run_env(wrong, half, NULL, list_args), 1);
    EXPECT_ERR("SBRIDGE_TOKEN is not");

    /* logout revokes the token and deletes the file */
    cr_assert_eq(RUN(dir, NULL, "logout"), 0, "%s%s", out, err);
    cr_assert_neq(access(file, F_OK), 0);
    cr_assert_eq(sql_int("SELECT count(*) FROM api_tokens WHERE name LIKE 'cli@%%' AND "
                         "revoked_at IS NOT NULL"),
                 1);
    cr_assert_eq(run_env(wrong, both, NULL, list_args), 1);
    EXPECT_ERR("HTTP 401");
    EXPECT_ERR("sbridge login");
    json_decref(cred);
}

/* The agent claims the request's job and completes it with sealed results. */

static void agent_executes(const test_agent *a, const char *req_id)
{
    char job[40];
    job_of(req_id, job);
    sb_api_response r;
    cr_assert_eq(agent_call(a, "/jobs/claim", NULL, &r), 200, "%s", r.body);
    sb_api_response_free(&r);
    cr_assert_eq(complete(a, job, "succeeded", &r), 200, "%s", r.body);
    sb_api_response_free(&r);
    expect_state(req_id, "executed");
}

Test(cli_client, read_approve_execute_then_reveal_once)
{
    request_world();
    test_agent a;
    enroll(conn_id, "vault-a", "agent-a", &a);
    char dev_dir[128], ap_dir[128], req_id[40];
    login_as("dev", dev_dir);
    login_as("ap1", ap_dir);
    cr_assert_eq(RUN(dev_dir, NULL, "request", "read", "--binding", bind_dev, "--key", "user",
                     "--justification", "INC-4711: check the DB user"),
                 0, "%s", err);
    id_state(req_id, "pending");
    EXPECT_ERR("sbridge approve");
    /* the requester (a developer) cannot approve: the API's status, code and reason */
    cr_assert_eq(RUN(dev_dir, NULL, "approve", req_id), 1);
    EXPECT_ERR("approving the request failed: HTTP 403 forbidden: voting needs secret.approve");
    EXPECT_ERR("ask an administrator for a grant");
    /* revealing before anything ran says what the request waits for */
    cr_assert_eq(RUN(dev_dir, NULL, "reveal", req_id), 1);
    EXPECT_ERR("waits for approval");
    cr_assert_eq(RUN(ap_dir, NULL, "requests", "list", "--queue"), 0, "%s", err);
    EXPECT_OUT(req_id);
    cr_assert_eq(RUN(ap_dir, NULL, "approve", req_id, "--comment", "ok"), 0, "%s", err);
    char line[64];
    snprintf(line, sizeof line, "%s approved\n", req_id);
    cr_assert_str_eq(out, line);
    agent_executes(&a, req_id);

    /* stdout is a file here, not a terminal: the value goes there, once */
    cr_assert_eq(RUN(dev_dir, NULL, "reveal", req_id), 0, "%s", err);
    cr_assert_str_eq(out, "user=value of user\n");
    cr_assert(strstr(err, "value of") == NULL, "%s", err);
    cr_assert_eq(RUN(dev_dir, NULL, "reveal", req_id), 1);
    EXPECT_ERR("user was revealed already");
    cr_assert_str_eq(out, "");
    cr_assert_eq(RUN(dev_dir, NULL, "requests", "list", "--state", "executed"), 0, "%s", err);
    EXPECT_OUT(req_id);

    /* --out: a new 0600 file, never over an existing one (nothing consumed) */
    char second[40], path[160];
    cr_assert_eq(RUN(dev_dir, NULL, "request", "read", "--binding", bind_dev, "--justification",
                     "INC-4712"),
                 0, "%s", err);
    id_state(second, "pending");
    cr_assert_eq(RUN(ap_dir, NULL, "approve", second), 0, "%s", err);
    agent_executes(&a, second);
    snprintf(path, sizeof path, "%s/existing.env", tmp);
    FILE *f = fopen(path, "w");
    fputs("keep\n", f);
    fclose(f);
    cr_assert_eq(RUN(dev_dir, NULL, "reveal", second, "--out", path), 1);
    EXPECT_ERR("never overwritten");
    cr_assert_eq(sql_int("SELECT count(*) FROM secret_wraps WHERE request_id = '%s' AND "
                         "consumed_at IS NULL",
                         second),
                 2, "a refused destination consumes nothing");
    snprintf(path, sizeof path, "%s/values.env", tmp);
    cr_assert_eq(RUN(dev_dir, NULL, "reveal", second, "--key", "password", "--out", path), 0, "%s", err);
    struct stat st;
    cr_assert_eq(stat(path, &st), 0);
    cr_assert_eq(st.st_mode & 07777, 0600);
    char text[256];
    slurp(path, text, sizeof text);
    cr_assert_str_eq(text, "password=value of password\n");
    cr_assert_str_eq(out, "");
    /* the other key is still there, once */
    cr_assert_eq(RUN(dev_dir, NULL, "reveal", second), 1);
    cr_assert_str_eq(out, "user=value of user\n");
    EXPECT_ERR("password was revealed already");
}

/* An agent of conn_id enrolled with a key pair we keep. */
static void enroll_with_keys(const char *name, test_agent *a, unsigned char pk[32], unsigned char sk[32])
{
    char token[128], key[64];
    mint(conn_id, token, sizeof token, NULL);
    crypto_box_keypair(pk, sk);
    sodium_bin2base64(key, sizeof key, pk, 32, sodium_base64_VARIANT_ORIGINAL);
    sb_api_response r;
    cr_assert_eq(enroll_raw(token, "vault-a", name, key, &r), 201, "enroll: %s", r.body);
    snprintf(a->id, sizeof a->id, "%s", json_string_value(json_object_get(r.json, "agent_id")));
    snprintf(a->cred, sizeof a->cred, "%s", json_string_value(json_object_get(r.json, "credential")));
    sb_api_response_free(&r);
}

/* Rows of every table of the database whose text holds needle. */
static long long rows_holding(const char *needle)
{
    return sql_int("SELECT count(*) FROM information_schema.tables t, LATERAL (SELECT "
                   "query_to_xml(format('SELECT * FROM %%I.%%I', t.table_schema, t.table_name), "
                   "true, false, '')::text AS x) q WHERE t.table_schema NOT IN ('pg_catalog', "
                   "'information_schema') AND t.table_type = 'BASE TABLE' AND position('%s' in q.x) > 0",
                   needle);
}

Test(cli_client, patch_seals_a_file_value_to_every_live_agent_and_nowhere_else)
{
    request_world();
    test_agent a, b;
    unsigned char pk_a[32], sk_a[32], pk_b[32], sk_b[32];
    enroll_with_keys("agent-a", &a, pk_a, sk_a);
    enroll_with_keys("agent-b", &b, pk_b, sk_b);
    static const char canary[] = "canary-cli-patch-7f3e9a1c";
    char value_file[160], arg[200], dev_dir[128], req_id[40];
    snprintf(value_file, sizeof value_file, "%s/password.txt", tmp);
    int fd = open(value_file, O_WRONLY | O_CREAT | O_EXCL, 0600);
    cr_assert_geq(fd, 0);
    cr_assert_eq(write(fd, canary, strlen(canary)), (ssize_t)strlen(canary));
    close(fd);
    snprintf(arg, sizeof arg, "password=%s", value_file);
    login_as("dev", dev_dir);
    const char *args[] = {"request", "patch", "--binding", bind_dev, "--key", "password",
                          "--value-file", arg, "--justification", "rotate the DB password", NULL};
    for (const char *const *p = args; *p; p++)
        cr_assert(strstr(*p, canary) == NULL, "the value is not in argv");
    cr_assert_eq(run_env(dev_dir, NULL, NULL, args), 0, "%s", err);
    id_state(req_id, "pending");
    cr_assert(strstr(err, canary) == NULL, "stderr: %s", err);

    /* one box per live agent key; the request shows counts only */
    sb_api_response r;
    cr_assert_eq(callf(dev, "GET", path3("/api/v1/requests/", req_id, ""), &r, NULL), 200);
    json_t *sv = json_object_get(r.json, "sealed_values");
    cr_assert_eq(json_integer_value(json_object_get(sv, "boxes")), 2, "%s", r.body);
    cr_assert_eq(json_integer_value(json_object_get(sv, "recipients")), 2, "%s", r.body);
    cr_assert(strstr(r.body, canary) == NULL);
    sb_api_response_free(&r);

    /* each box opens with its agent's secret key to the value: agent a's
     * through its claim, agent b's (the job is leased to a) from its row */
    cr_assert_eq(act(ap[0], req_id, "approve", "{}", &r), 200, "%s", r.body);
    sb_api_response_free(&r);
    cr_assert_eq(agent_call(&a, "/jobs/claim", NULL, &r), 200, "%s", r.body);
    json_t *boxes = json_object_get(r.json, "sealed_values");
    cr_assert_eq(json_array_size(boxes), 1, "%s", r.body);
    char box_a[256], box_b[256], pk64_b[64], q[256];
    snprintf(box_a, sizeof box_a, "%s",
             json_string_value(json_object_get(json_array_get(boxes, 0), "box")));
    sb_api_response_free(&r);
    sodium_bin2base64(pk64_b, sizeof pk64_b, pk_b, 32, sodium_base64_VARIANT_ORIGINAL);
    snprintf(q, sizeof q,
             "SELECT translate(encode(box, 'base64'), E'\\n', '') FROM request_sealed_values "
             "WHERE request_id = '%s' AND recipient = '%s'",
             req_id, pk64_b);
    cr_assert_eq(sb_api_harness_sql(h, q, box_b, sizeof box_b), 1);
    const char *box64s[2] = {box_a, box_b};
    const unsigned char *pks[2] = {pk_a, pk_b}, *sks[2] = {sk_a, sk_b};
    for (int i = 0; i < 2; i++) {
        unsigned char box[256], plain[256];
        size_t box_len = 0;
        cr_assert_eq(sodium_base642bin(box, sizeof box, box64s[i], strlen(box64s[i]), NULL, &box_len,
                                       NULL, sodium_base64_VARIANT_ORIGINAL),
                     0);
        cr_assert_eq(crypto_box_seal_open(plain, box, box_len, pks[i], sks[i]), 0,
                     "agent %d's box opens with its key", i);
        cr_assert_eq(box_len - crypto_box_SEALBYTES, strlen(canary));
        cr_assert_eq(memcmp(plain, canary, strlen(canary)), 0);
        cr_assert_neq(crypto_box_seal_open(plain, box, box_len, pks[1 - i], sks[1 - i]), 0,
                      "and not with the other agent's");
    }

    /* the value is in no row of any table, in any encoding */
    char b64[64], hex[64];
    sodium_bin2base64(b64, sizeof b64, (const unsigned char *)canary, strlen(canary),
                      sodium_base64_VARIANT_ORIGINAL);
    sodium_bin2hex(hex, sizeof hex, (const unsigned char *)canary, strlen(canary));
    cr_assert_eq(rows_holding("canary-cli"), 0);
    cr_assert_eq(rows_holding(b64), 0);
    cr_assert_eq(rows_holding(hex), 0);
    cr_assert_gt(rows_holding(bind_dev), 0, "the scan sees the request rows");
}

Test(cli_client, bad_input_gets_a_clear_error_and_exit_status)
{
    request_world();
    char dir[128];
    login_as("dev", dir);
    static const char unknown[] = "00000000-0000-4000-8000-000000000000";
    cr_assert_eq(RUN(dir, NULL, "request", "read", "--binding", unknown, "--justification", "x"), 1);
    EXPECT_ERR("HTTP 404 not_found");
    cr_assert_eq(RUN(dir, NULL, "request", "patch", "--binding", unknown, "--key", "password",
                     "--justification", "x"),
                 1);
    EXPECT_ERR("unknown binding");
    cr_assert_eq(RUN(dir, NULL, "request", "read", "--binding", bind_dev), 2);
    EXPECT_ERR("--justification TEXT is required");
    cr_assert_eq(RUN(dir, NULL, "request", "patch", "--binding", bind_dev, "--key", "password",
                     "--value=hunter2-secret", "--justification", "x"),
                 2);
    EXPECT_ERR("never taken from the command line");
    cr_assert(strstr(err, "hunter2") == NULL, "%s", err);
    cr_assert_eq(RUN(dir, NULL, "request", "patch", "--binding", bind_dev, "--key",
                     "password=hunter2-secret", "--justification", "x"),
                 2);
    EXPECT_ERR("never taken from the command line");
    cr_assert(strstr(err, "hunter2") == NULL, "%s", err);
    cr_assert_eq(RUN(dir, NULL, "request", "patch", "--binding", bind_dev, "--key", "password",
                     "--value", "hunter2-secret", "--justification", "x"),
                 2);
    cr_assert(strstr(err, "hunter2") == NULL, "%s", err);
    /* no agent to seal to, a key the binding does not allow, no terminal to prompt on */
    cr_assert_eq(RUN(dir, NULL, "request", "patch", "--binding", bind_dev, "--key", "password",
                     "--justification", "x"),
                 1);
    EXPECT_ERR("no live agent");
    test_agent a;
    enroll(conn_id, "vault-a", "agent-a", &a);
    cr_assert_eq(RUN(dir, NULL, "request", "patch", "--binding", bind_dev, "--key", "nope",
                     "--justification", "x"),
                 1);
    EXPECT_ERR("does not allow key 'nope'");
    cr_assert_eq(RUN(dir, NULL, "request", "patch", "--binding", bind_dev, "--key", "password",
                     "--justification", "x"),
                 1);
    EXPECT_ERR("no terminal to prompt on");
    cr_assert_eq(RUN(dir, NULL, "approve", "not-an-id"), 2);
    cr_assert_eq(RUN(dir, NULL, "reject", unknown), 2);
    EXPECT_ERR("--reason TEXT is required");
    cr_assert_eq(RUN(dir, NULL, "reveal"), 2);
    cr_assert_eq(RUN(dir, NULL, "request", "raed"), 2);
    EXPECT_ERR("Did you mean 'read'?");
    cr_assert_eq(sql_int("SELECT count(*) FROM requests"), 0, "no bad input created a request");
}

/* ---- on a terminal ------------------------------------------------------------ */

/* Reads the pty master into out (appending) until want appears (NULL: until
 * the child closes it), for at most 20 s. 1 when seen. */
static int pty_read_until(int master, size_t *len, const char *want)
{
    for (int64_t end = mono_ms() + 20000; mono_ms() < end;) {
        if (want && strstr(out, want))
            return 1;
        struct pollfd p = {master, POLLIN, 0};
        if (poll(&p, 1, 200) <= 0)
            continue;
        ssize_t r = read(master, out + *len, sizeof out - 1 - *len);
        if (r <= 0)
            return want == NULL; /* EIO: the child closed the terminal */
        *len += (size_t)r;
        out[*len] = '\0';
    }
    return 0;
}

/* Runs sbridge on a new pseudo-terminal (stdin, stdout and stderr; it is
 * also the child's /dev/tty), answering each prompt[i] with answer[i] once
 * it shows. The transcript (everything the terminal displayed) into out.
 * Returns the exit status. */
static int run_pty(const char *config_dir, const char *const *args, const char *const *prompts,
                   const char *const *answers)
{
    char *argv[32], cfg[256], home[96];
    int n = 0;
    argv[n++] = (char *)SBRIDGE;
    for (const char *const *a = args; *a; a++)
        argv[n++] = (char *)*a;
    argv[n] = NULL;
    snprintf(cfg, sizeof cfg, "SBRIDGE_CONFIG_DIR=%s", config_dir);
    snprintf(home, sizeof home, "HOME=%s", tmp);
    char *envp[] = {(char *)"PATH=/usr/bin:/bin", home, cfg, (char *)"SBRIDGE_LOG_LEVEL=error", NULL};
    int master;
    pid_t pid = forkpty(&master, NULL, NULL, NULL);
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        execve(SBRIDGE, argv, envp);
        _exit(127);
    }
    size_t len = 0;
    out[0] = '\0';
    for (size_t i = 0; prompts && prompts[i]; i++) {
        cr_assert(pty_read_until(master, &len, prompts[i]), "no prompt '%s'; the terminal shows:\n%s",
                  prompts[i], out);
        char *seen = strstr(out, prompts[i]);
        memset(seen, '#', strlen(prompts[i])); /* the next identical prompt is a new one */
        cr_assert_eq(write(master, answers[i], strlen(answers[i])), (ssize_t)strlen(answers[i]));
    }
    pty_read_until(master, &len, NULL);
    close(master);
    int st;
    cr_assert_eq(waitpid(pid, &st, 0), pid);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

Test(cli_client, on_a_terminal_secrets_are_asked_without_echo_and_reveal_needs_a_choice)
{
    request_world();
    test_agent a;
    unsigned char pk[32], sk[32];
    enroll_with_keys("agent-a", &a, pk, sk);
    static const char password[] = "user-password-1";
    static const char canary[] = "canary-typed-4c1d8e";
    char dir[128], req_id[40];
    snprintf(dir, sizeof dir, "%s/cfg-tty", tmp);

    /* login: the password prompt does not echo */
    const char *login[] = {"login", "--url", sb_api_harness_base_url(h), "--username", "dev", NULL};
    const char *pw_prompt[] = {"Password: ", NULL}, *pw_answer[] = {"user-password-1\n", NULL};
    cr_assert_eq(run_pty(dir, login, pw_prompt, pw_answer), 0, "%s", out);
    cr_assert_not_null(strstr(out, "Logged in to"), "%s", out);
    cr_assert(strstr(out, password) == NULL, "the password was echoed:\n%s", out);

    /* patch: each value asked twice, never echoed; the two must match */
    const char *patch[] = {"request", "patch", "--binding", bind_dev, "--key", "password",
                           "--justification", "rotate", NULL};
    const char *prompts[] = {"Value for password (input hidden): ", "Again, to confirm: ", NULL};
    const char *differ[] = {"canary-typed-4c1d8e\n", "canary-typed-other\n", NULL};
    cr_assert_eq(run_pty(dir, patch, prompts, differ), 1, "%s", out);
    cr_assert_not_null(strstr(out, "the two entries differ"), "%s", out);
    cr_assert(strstr(out, "canary-typed") == NULL, "a value was echoed:\n%s", out);
    cr_assert_eq(sql_int("SELECT count(*) FROM requests"), 0);
    const char *same[] = {"canary-typed-4c1d8e\n", "canary-typed-4c1d8e\n", NULL};
    cr_assert_eq(run_pty(dir, patch, prompts, same), 0, "%s", out);
    cr_assert(strstr(out, "canary-typed") == NULL, "a value was echoed:\n%s", out);
    char *state = strstr(out, " pending\r\n"); /* "<id> pending" on stdout */
    cr_assert(state && state - out >= 36, "%s", out);
    memcpy(req_id, state - 36, 36);
    req_id[36] = '\0';
    char pk64[64], q[256], box64[256];
    sodium_bin2base64(pk64, sizeof pk64, pk, 32, sodium_base64_VARIANT_ORIGINAL);
    snprintf(q, sizeof q,
             "SELECT translate(encode(box, 'base64'), E'\\n', '') FROM request_sealed_values "
             "WHERE request_id = '%s' AND recipient = '%s'",
             req_id, pk64);
    cr_assert_eq(sb_api_harness_sql(h, q, box64, sizeof box64), 1, "%s", out);
    unsigned char box[128], plain[128];
    size_t box_len = 0;
    cr_assert_eq(sodium_base642bin(box, sizeof box, box64, strlen(box64), NULL, &box_len, NULL,
                                   sodium_base64_VARIANT_ORIGINAL),
                 0);
    cr_assert_eq(crypto_box_seal_open(plain, box, box_len, pk, sk), 0);
    cr_assert_eq(box_len - crypto_box_SEALBYTES, strlen(canary), "no newline in the value");
    cr_assert_eq(memcmp(plain, canary, strlen(canary)), 0);

    /* reveal onto a terminal: nothing is revealed without --show */
    char read_id[40], ap_dir[128];
    login_as("ap1", ap_dir);
    cr_assert_eq(RUN(dir, NULL, "request", "read", "--binding", bind_dev, "--key", "user",
                     "--justification", "INC-1"),
                 0, "%s", err);
    id_state(read_id, "pending");
    cr_assert_eq(RUN(ap_dir, NULL, "approve", read_id), 0, "%s", err);
    char job[40];
    job_of(read_id, job);
    sb_api_response r;
    cr_assert_eq(agent_call(&a, "/jobs/claim", NULL, &r), 200, "%s", r.body);
    sb_api_response_free(&r);
    cr_assert_eq(complete(&a, job, "succeeded", &r), 200, "%s", r.body);
    sb_api_response_free(&r);
    const char *reveal[] = {"reveal", read_id, NULL};
    cr_assert_eq(run_pty(dir, reveal, NULL, NULL), 2, "%s", out);
    cr_assert_not_null(strstr(out, "not revealing onto a terminal"), "%s", out);
    cr_assert(strstr(out, "value of") == NULL, "%s", out);
    cr_assert_eq(sql_int("SELECT count(*) FROM secret_wraps WHERE request_id = '%s' AND "
                         "consumed_at IS NULL",
                         read_id),
                 1, "nothing consumed");
    const char *show[] = {"reveal", read_id, "--show", NULL};
    cr_assert_eq(run_pty(dir, show, NULL, NULL), 0, "%s", out);
    cr_assert_not_null(strstr(out, "user=value of user"), "%s", out);
}
