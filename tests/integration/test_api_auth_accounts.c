/*
 * test_api_auth_accounts.c — the caller's own account and the ways users
 * come to exist, against the real control plane (api_harness.h):
 *   - personal API tokens: shown once, listed without the secret, usable as
 *     Bearer, revoked -> 401, expired -> 401, other users' ids -> 404, a
 *     cap on live tokens;
 *   - bad input (malformed JSON, wrong types, unknown and missing fields,
 *     oversized strings and bodies) answered 4xx with error.code and no
 *     change in the database;
 *   - canaries: a password and the issued credentials never appear in a
 *     log line, an audit row, any auth table, or any response but the one
 *     that issues them;
 *   - GET /users/me: permissions by scope, teams, readable projects;
 *   - the bootstrap admin, the dev seed, `sbridge admin user …`.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api/bootstrap_admin.h"
#include "api_harness.h"
#include "pg_harness.h"
#include "util/log.h"

int sb_cmd_admin(int argc, char **argv);

ReportHook(PRE_ALL)(struct criterion_test_set *s)
{
    (void)s;
    sb_pg_harness_shared_start();
}
ReportHook(POST_ALL)(struct criterion_global_stats *s)
{
    (void)s;
    sb_pg_harness_shared_stop();
}

#define T0 INT64_C(1893456000000) /* 2030-01-01T00:00:00Z */
#define DAY (86400 * INT64_C(1000))
#define PW "correct horse battery staple"

static sb_api_harness *h;
static sb_app *app;

static void setup(void)
{
    cr_assert_eq(sb_api_harness_start(&h), 0, "the API harness did not start");
    app = sb_api_harness_app(h);
    app->fixed_now_ms = T0;
}
static void teardown(void) { sb_api_harness_stop(h); }
TestSuite(accounts, .init = setup, .fini = teardown, .timeout = 240);

/* ---- helpers ------------------------------------------------------------------ */

static const char *err_code(const sb_api_response *r)
{
    const char *c = json_string_value(json_object_get(json_object_get(r->json, "error"), "code"));
    return c ? c : "(none)";
}

static long sql_long(const char *sql)
{
    char cell[64] = "";
    cr_assert_geq(sb_api_harness_sql(h, sql, cell, sizeof cell), 0, "%s", sql);
    return atol(cell);
}

static void sql_text(const char *sql, char *out, size_t cap)
{
    cr_assert_eq(sb_api_harness_sql(h, sql, out, cap), 1, "%s", sql);
}

static void user(const char *name, const char *pw, char *id)
{
    char local[40];
    cr_assert_eq(sb_api_harness_user(h, name, pw, NULL, NULL, NULL, id ? id : local), 0);
}

static long login(const char *u, const char *pw, sb_api_response *r)
{
    json_t *b = json_pack("{s:s, s:s}", "username", u, "password", pw);
    char *text = json_dumps(b, JSON_COMPACT);
    json_decref(b);
    long st = sb_api_call(h, "POST", "/api/v1/auth/login", text, NULL, NULL, r);
    free(text);
    return st;
}

static long login_status(const char *u, const char *pw)
{
    sb_api_response r;
    long st = login(u, pw, &r);
    sb_api_response_free(&r);
    return st;
}

static long call(const char *method, const char *path, const char *body, const char *cookie,
                 const char *bearer, const char *want_code)
{
    sb_api_response r;
    long st = sb_api_call(h, method, path, body, cookie, bearer, &r);
    if (want_code)
        cr_assert_str_eq(err_code(&r), want_code, "%s %s %s: %s", method, path, body ? body : "",
                         r.body);
    sb_api_response_free(&r);
    return st;
}

/* Creates a token; fills its secret and id. */
static void new_token(const char *cookie, const char *body, char *secret, char *id)
{
    sb_api_response r;
    long st = sb_api_call(h, "POST", "/api/v1/users/me/tokens", body, cookie, NULL, &r);
    cr_assert_eq(st, 201, "%s", r.body);
    snprintf(secret, 128, "%s", json_string_value(json_object_get(r.json, "token")));
    snprintf(id, 40, "%s", json_string_value(json_object_get(r.json, "id")));
    sb_api_response_free(&r);
}

/* ---- API tokens ---------------------------------------------------------------- */

Test(accounts, api_tokens_are_shown_once_listed_without_secret_usable_and_revocable)
{
    user("tara", PW, NULL);
    char cookie[256], token[128], id[40];
    cr_assert_eq(sb_api_harness_login(h, "tara", PW, cookie, sizeof cookie, NULL, 0), 0);
    sb_api_response r;
    cr_assert_eq(sb_api_call(h, "POST", "/api/v1/users/me/tokens", "{\"name\":\"ci deploy\"}",
                             cookie, NULL, &r),
                 201, "%s", r.body);
    snprintf(token, sizeof token, "%s", json_string_value(json_object_get(r.json, "token")));
    snprintf(id, sizeof id, "%s", json_string_value(json_object_get(r.json, "id")));
    cr_assert(strncmp(token, "sbp_", 4) == 0 && strlen(token) == 47, "%s", token);
    cr_assert_str_eq(json_string_value(json_object_get(r.json, "expires_at")),
                     "2030-04-01T00:00:00Z", "90 days by default");
    const char *hint = json_string_value(json_object_get(r.json, "display_hint"));
    cr_assert(strncmp(hint, token, 8) == 0 && strlen(hint) < 16, "hint %s", hint);
    sb_api_response_free(&r);

    cr_assert_eq(sb_api_call(h, "GET", "/api/v1/users/me/tokens", NULL, cookie, NULL, &r), 200);
    cr_assert_null(strstr(r.body, token + 4), "the list never shows the token: %s", r.body);
    json_t *item = json_array_get(json_object_get(r.json, "items"), 0);
    cr_assert_str_eq(json_string_value(json_object_get(item, "name")), "ci deploy");
    cr_assert_str_eq(json_string_value(json_object_get(item, "status")), "active");
    sb_api_response_free(&r);

    cr_assert_eq(sb_api_call(h, "GET", "/api/v1/users/me", NULL, NULL, token, &r), 200);
    cr_assert_str_eq(json_string_value(json_object_get(r.json, "auth_method")), "api_token");
    sb_api_response_free(&r);
    cr_assert_eq(sql_long("SELECT count(*) FROM api_tokens WHERE last_used_at IS NOT NULL"), 1);
    cr_assert_eq(call("POST", "/api/v1/auth/logout", NULL, NULL, token, "no_session"), 400);
    /* another user cannot see or revoke it */
    user("uma", PW, NULL);
    char other[256], path[128];
    cr_assert_eq(sb_api_harness_login(h, "uma", PW, other, sizeof other, NULL, 0), 0);
    snprintf(path, sizeof path, "/api/v1/users/me/tokens/%s", id);
    cr_assert_eq(call("DELETE", path, NULL, other, NULL, "not_found"), 404);
    cr_assert_eq(call("GET", "/api/v1/users/me", NULL, NULL, token, NULL), 200, "still valid");
    cr_assert_eq(call("DELETE", path, NULL, cookie, NULL, NULL), 204);
    cr_assert_eq(call("GET", "/api/v1/users/me", NULL, NULL, token, "unauthenticated"), 401,
                 "revoked");
    cr_assert_eq(call("DELETE", path, NULL, cookie, NULL, NULL), 204, "idempotent");
    cr_assert_eq(
        call("DELETE", "/api/v1/users/me/tokens/not-a-uuid", NULL, cookie, NULL, "not_found"), 404);
    cr_assert_eq(sql_long("SELECT count(*) FROM audit_events WHERE action IN"
                          " ('api_token.create', 'api_token.revoke')"),
                 2);
    /* a token can be a session's equal only while it lives */
    new_token(cookie, "{\"name\":\"short\",\"expires_in_days\":1}", token, id);
    cr_assert_eq(call("GET", "/api/v1/users/me", NULL, NULL, token, NULL), 200);
    app->fixed_now_ms = T0 + DAY;
    cr_assert_eq(call("GET", "/api/v1/users/me", NULL, NULL, token, NULL), 401, "expired");
    /* a disabled user's tokens stop working */
    app->fixed_now_ms = T0;
    new_token(cookie, "{\"name\":\"third\"}", token, id);
    sb_api_harness_sql(h, "UPDATE users SET status = 'disabled' WHERE username = 'tara'", NULL, 0);
    cr_assert_eq(call("GET", "/api/v1/users/me", NULL, NULL, token, NULL), 401, "disabled user");
}

Test(accounts, token_lists_paginate_and_live_tokens_are_capped)
{
    user("vera", PW, NULL);
    char cookie[256], token[128], id[40];
    cr_assert_eq(sb_api_harness_login(h, "vera", PW, cookie, sizeof cookie, NULL, 0), 0);
    for (int i = 0; i < 50; i++) {
        char body[64];
        snprintf(body, sizeof body, "{\"name\":\"t%d\"}", i);
        app->fixed_now_ms = T0 + i * 1000;
        new_token(cookie, body, token, id);
    }
    cr_assert_eq(call("POST", "/api/v1/users/me/tokens", "{\"name\":\"one more\"}", cookie, NULL,
                      "too_many_tokens"),
                 409);
    sb_api_response r;
    cr_assert_eq(sb_api_call(h, "GET", "/api/v1/users/me/tokens?limit=20", NULL, cookie, NULL, &r),
                 200);
    cr_assert_eq(json_array_size(json_object_get(r.json, "items")), 20);
    cr_assert_str_eq(json_string_value(json_object_get(
                         json_array_get(json_object_get(r.json, "items"), 0), "name")),
                     "t49", "newest first");
    char next[512], path[600];
    snprintf(next, sizeof next, "%s", json_string_value(json_object_get(r.json, "next_cursor")));
    sb_api_response_free(&r);
    size_t seen = 20;
    while (next[0]) {
        snprintf(path, sizeof path, "/api/v1/users/me/tokens?limit=20&cursor=%s", next);
        cr_assert_eq(sb_api_call(h, "GET", path, NULL, cookie, NULL, &r), 200, "%s", r.body);
        seen += json_array_size(json_object_get(r.json, "items"));
        const char *c = json_string_value(json_object_get(r.json, "next_cursor"));
        snprintf(next, sizeof next, "%s", c ? c : "");
        sb_api_response_free(&r);
    }
    cr_assert_eq(seen, 50);
    cr_assert_eq(
        call("GET", "/api/v1/users/me/tokens?cursor=garbage", NULL, cookie, NULL, "invalid_cursor"),
        400);
}

/* ---- bad input ------------------------------------------------------------------ */

Test(accounts, bad_input_is_refused_with_a_code_and_changes_nothing)
{
    user("walt", PW, NULL);
    static const struct {
        const char *body;
        long status;
        const char *code;
    } cases[] = {
        {"not json", 400, "invalid_json"},
        {"{\"username\":\"walt\",", 400, "invalid_json"},
        {"[]", 400, "invalid_body"},
        {"{\"username\":1,\"password\":\"x\"}", 400, "invalid_field"},
        {"{\"username\":\"walt\",\"password\":[\"x\"]}", 400, "invalid_field"},
        {"{\"username\":\"walt\"}", 400, "missing_field"},
        {"{\"username\":\"walt\",\"password\":null}", 400, "missing_field"},
        {"{\"username\":\"walt\",\"password\":\"x\",\"remember\":true}", 400, "unknown_field"},
        {"{\"username\":\"walt\",\"password\":\"x\",\"user_id\":\"admin\"}", 400, "unknown_field"},
        {"{\"username\":\"walt\",\"username\":\"root\",\"password\":\"x\"}", 400, "invalid_json"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        cr_assert_eq(call("POST", "/api/v1/auth/login", cases[i].body, NULL, NULL, cases[i].code),
                     cases[i].status, "%s", cases[i].body);
    sb_api_response r;
    sb_api_call(h, "POST", "/api/v1/auth/login",
                "{\"username\":\"walt\",\"password\":\"x\",\"remember\":1}", NULL, NULL, &r);
    cr_assert_not_null(strstr(r.body, "remember"), "the unknown field is named: %s", r.body);
    sb_api_response_free(&r);
    /* oversized strings and bodies */
    char *big = malloc(3 << 20);
    snprintf(big, 3 << 20, "{\"username\":\"%0200d\",\"password\":\"x\"}", 0);
    cr_assert_eq(call("POST", "/api/v1/auth/login", big, NULL, NULL, "field_too_long"), 422);
    memset(big, 'p', 1100);
    snprintf(big, 3 << 20, "{\"username\":\"walt\",\"password\":\"%01100d\"}", 0);
    cr_assert_eq(call("POST", "/api/v1/auth/login", big, NULL, NULL, "field_too_long"), 422);
    size_t n = (size_t)(2 << 20);
    memcpy(big, "{\"username\":\"", 13);
    memset(big + 13, 'a', n);
    strcpy(big + 13 + n, "\",\"password\":\"x\"}");
    long st = call("POST", "/api/v1/auth/login", big, NULL, NULL, NULL);
    cr_assert_eq(st, 413, "a 2 MiB body: %ld", st);
    free(big);
    cr_assert_eq(sql_long("SELECT failed_logins FROM users WHERE username = 'walt'"), 0);
    cr_assert_eq(sql_long("SELECT count(*) FROM sessions"), 0);
    cr_assert_eq(sql_long("SELECT count(*) FROM audit_events WHERE action LIKE 'auth.%'"), 0);

    /* the token routes */
    char cookie[256];
    cr_assert_eq(sb_api_harness_login(h, "walt", PW, cookie, sizeof cookie, NULL, 0), 0);
    static const struct {
        const char *body;
        long status;
        const char *code;
    } tok[] = {
        {"{}", 400, "missing_field"},
        {"{\"name\":5}", 400, "invalid_field"},
        {"{\"name\":\"x\",\"expires_in_days\":\"5\"}", 400, "invalid_field"},
        {"{\"name\":\"x\",\"expires_in_days\":1.5}", 400, "invalid_field"},
        {"{\"name\":\"x\",\"owner\":\"someone\"}", 400, "unknown_field"},
        {"{\"name\":\"x\",\"expires_in_days\":0}", 422, "invalid_value"},
        {"{\"name\":\"x\",\"expires_in_days\":366}", 422, "invalid_value"},
        {"{\"name\":\"   \"}", 422, "invalid_value"},
        {"{\"name\":\"a\\u0001b\"}", 422, "invalid_value"},
        {"{\"name\":"
         "\"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
         "xxxxxxxxxxxxxxxxxxxxxx\"}",
         422, "field_too_long"},
        {"{\"name\":\"x\\u0000y\"}", 400, "invalid_json"},
    };
    for (size_t i = 0; i < sizeof tok / sizeof tok[0]; i++)
        cr_assert_eq(
            call("POST", "/api/v1/users/me/tokens", tok[i].body, cookie, NULL, tok[i].code),
            tok[i].status, "%s", tok[i].body);
    cr_assert_eq(sql_long("SELECT count(*) FROM api_tokens"), 0);
    cr_assert_eq(sql_long("SELECT count(*) FROM audit_events WHERE action LIKE 'api_token.%'"), 0);
}

/* ---- canaries ------------------------------------------------------------------- */

static char *slurp(FILE *f)
{
    fflush(f);
    long n = ftell(f);
    char *s = calloc(1, (size_t)n + 1);
    rewind(f);
    if (fread(s, 1, (size_t)n, f) != (size_t)n)
        s[0] = '\0';
    return s;
}

/* How many rows of the auth tables and the audit trail contain needle. */
static long rows_containing(const char *needle)
{
    char sql[1024];
    snprintf(sql, sizeof sql,
             "SELECT count(*) FROM (SELECT t::text AS j FROM users t UNION ALL SELECT t::text FROM"
             " sessions t UNION ALL SELECT t::text FROM api_tokens t UNION ALL SELECT t::text FROM"
             " audit_events t UNION ALL SELECT t::text FROM rate_limit_windows t) x"
             " WHERE position('%s' in j) > 0",
             needle);
    return sql_long(sql);
}

Test(accounts, no_password_or_credential_leaks_into_logs_audit_tables_or_responses)
{
    FILE *log = tmpfile();
    sb_log_set_stream(log);
    sb_log_set_level(SB_LEVEL_DEBUG);
    const char *canary = "CanaryPw-9f8e7d6c5b4a";
    user("xena", canary, NULL);
    user("yuri", PW, NULL);
    char responses[65536] = "";
    sb_api_response r;
    /* wrong password, password in the username field, unknown user, success */
    const char *attempts[][2] = {
        {"yuri", canary}, {canary, PW}, {"nobody", canary}, {"xena", canary}};
    char cookie[256] = "", jwt[2048] = "";
    for (size_t i = 0; i < 4; i++) {
        login(attempts[i][0], attempts[i][1], &r);
        cr_assert_null(strstr(r.body, canary), "the password was echoed: %s", r.body);
        if (i < 3) {
            strncat(responses, r.headers, sizeof responses - strlen(responses) - 1);
            strncat(responses, r.body, sizeof responses - strlen(responses) - 1);
        } else {
            snprintf(jwt, sizeof jwt, "%s", json_string_value(json_object_get(r.json, "token")));
            char set[512];
            sb_api_response_header(&r, "Set-Cookie", set, sizeof set);
            snprintf(cookie, sizeof cookie, "%.*s", (int)strcspn(set + 11, ";"), set + 11);
        }
        sb_api_response_free(&r);
    }
    cr_assert(strlen(jwt) > 20 && strlen(cookie) == 47, "signed in: %s", cookie);
    char token[128], id[40];
    new_token(cookie, "{\"name\":\"canary\"}", token, id);
    const char *paths[] = {"/api/v1/users/me", "/api/v1/users/me/tokens", "/api/v1/auth/session"};
    for (size_t i = 0; i < 3; i++) {
        sb_api_call(h, "GET", paths[i], NULL, i == 1 ? NULL : cookie, i == 1 ? token : NULL, &r);
        strncat(responses, r.headers, sizeof responses - strlen(responses) - 1);
        strncat(responses, r.body, sizeof responses - strlen(responses) - 1);
        sb_api_response_free(&r);
    }
    sb_api_call(h, "POST", "/api/v1/auth/logout", NULL, NULL, jwt, &r);
    strncat(responses, r.headers, sizeof responses - strlen(responses) - 1);
    sb_api_response_free(&r);
    /* the harness logs in (a canary password) a second way too */
    sb_api_harness_login(h, "xena", canary, NULL, 0, NULL, 0);
    char *logs = slurp(log);
    sb_log_set_stream(stderr);
    cr_assert_gt(strlen(logs), 100, "the server logged something");
    const char *secrets[] = {canary, token, token + 4, cookie, cookie + 4, jwt};
    for (size_t i = 0; i < 6; i++) {
        cr_assert_null(strstr(logs, secrets[i]), "secret %zu in the logs", i);
        cr_assert_eq(rows_containing(secrets[i]), 0, "secret %zu stored in a table", i);
        if (i > 0)
            cr_assert_null(strstr(responses, secrets[i]), "credential %zu echoed after issue", i);
    }
    cr_assert_null(strstr(responses, canary), "the password was echoed");
    cr_assert_gt(sql_long("SELECT count(*) FROM audit_events WHERE action LIKE 'auth.login%'"), 3);
    free(logs);
    fclose(log);
}

/* ---- /users/me ----------------------------------------------------------------- */

static int has_key(json_t *array, const char *key)
{
    size_t i;
    json_t *v;
    json_array_foreach(array, i, v)
    {
        if (strcmp(json_string_value(v), key) == 0)
            return 1;
    }
    return 0;
}

/* The element of array whose field equals value, or NULL. */
static json_t *find(json_t *array, const char *field, const char *value)
{
    size_t i;
    json_t *v;
    json_array_foreach(array, i, v)
    {
        if (strcmp(json_string_value(json_object_get(v, field)), value) == 0)
            return v;
    }
    return NULL;
}

Test(accounts, users_me_shows_permissions_by_scope_teams_and_readable_projects)
{
    char uid[40], top[64], sub[64], other[64], p_sub[64], p_other[64], p_hidden[64], sql[512];
    user("zoe", PW, uid);
    sql_text("INSERT INTO teams (name) VALUES ('platform') RETURNING id", top, sizeof top);
    snprintf(sql, sizeof sql,
             "INSERT INTO teams (name, parent_id) VALUES ('payments', '%s') RETURNING id", top);
    sql_text(sql, sub, sizeof sub);
    sql_text("INSERT INTO teams (name) VALUES ('marketing') RETURNING id", other, sizeof other);
    snprintf(sql, sizeof sql,
             "INSERT INTO projects (name, team_id) VALUES ('billing', '%s') RETURNING id", sub);
    sql_text(sql, p_sub, sizeof p_sub);
    snprintf(sql, sizeof sql,
             "INSERT INTO projects (name, team_id) VALUES ('site', '%s') RETURNING id", other);
    sql_text(sql, p_other, sizeof p_other);
    snprintf(sql, sizeof sql,
             "INSERT INTO projects (name, team_id) VALUES ('ads', '%s') RETURNING id", other);
    sql_text(sql, p_hidden, sizeof p_hidden);
    cr_assert_eq(sb_api_harness_grant(h, uid, "developer", "team", top), 0);
    cr_assert_eq(sb_api_harness_grant(h, uid, "approver", "project", p_other), 0);
    snprintf(sql, sizeof sql,
             "INSERT INTO team_members (team_id, user_id) VALUES ('%s', '%s') RETURNING 1", sub,
             uid);
    sql_text(sql, p_hidden + 40, 8);
    char cookie[256];
    cr_assert_eq(sb_api_harness_login(h, "zoe", PW, cookie, sizeof cookie, NULL, 0), 0);
    sb_api_response r;
    cr_assert_eq(sb_api_call(h, "GET", "/api/v1/users/me", NULL, cookie, NULL, &r), 200, "%s",
                 r.body);
    json_t *perms = json_object_get(r.json, "permissions");
    cr_assert_eq(json_array_size(json_object_get(perms, "global")), 0);
    json_t *t = find(json_object_get(perms, "teams"), "team_id", top);
    cr_assert_not_null(t, "the team grant: %s", r.body);
    cr_assert(has_key(json_object_get(t, "permissions"), "secret.request"));
    cr_assert_null(find(json_object_get(perms, "teams"), "team_id", sub), "the subtree is implied");
    json_t *p = find(json_object_get(perms, "projects"), "project_id", p_other);
    cr_assert_not_null(p, "the project grant: %s", r.body);
    cr_assert(has_key(json_object_get(p, "permissions"), "secret.approve"));
    json_t *teams = json_object_get(r.json, "teams");
    cr_assert_eq(json_array_size(teams), 1);
    cr_assert_str_eq(json_string_value(json_object_get(json_array_get(teams, 0), "name")),
                     "payments");
    json_t *projects = json_object_get(r.json, "projects");
    cr_assert_not_null(find(projects, "id", p_sub), "readable through the team grant");
    cr_assert_not_null(find(projects, "id", p_other), "readable through the project grant");
    cr_assert_null(find(projects, "id", p_hidden), "not readable: %s", r.body);
    cr_assert_str_eq(
        json_string_value(json_object_get(json_object_get(r.json, "user"), "username")), "zoe");
    cr_assert_null(strstr(r.body, "password"), "no credential material: %s", r.body);
    sb_api_response_free(&r);
}

/* ---- bootstrap users ------------------------------------------------------------- */

Test(accounts, the_bootstrap_admin_is_created_once_with_a_global_admin_grant)
{
    sb_settings s = *app->settings;
    const sb_settings *saved = app->settings;
    s.bootstrap_admin.username = (char *)"Root";
    s.bootstrap_admin.password = (char *)"bootstrap-password-1";
    app->settings = &s;
    sb_error err = {0};
    cr_assert_eq(sb_api_bootstrap_users(app, &err), 0, "%s", err.message);
    cr_assert_eq(sb_api_bootstrap_users(app, &err), 0, "%s", err.message);
    app->settings = saved;
    cr_assert_eq(
        sql_long("SELECT count(*) FROM users WHERE username = 'Root' AND source = 'bootstrap'"), 1);
    cr_assert_eq(
        sql_long("SELECT count(*) FROM grants g JOIN roles r ON r.id = g.role_id JOIN users u"
                 " ON u.id = g.user_id WHERE u.username = 'Root' AND r.name = 'admin'"
                 " AND g.scope_type = 'global'"),
        1);
    cr_assert_eq(sql_long("SELECT count(*) FROM audit_events WHERE action = 'user.bootstrap'"), 1);
    cr_assert_eq(sql_long("SELECT count(*) FROM users"), 1, "no dev seed outside dev mode");
    cr_assert_eq(login_status("root", "bootstrap-password-1"), 200);
    cr_assert_eq(rows_containing("bootstrap-password-1"), 0);
}

Test(accounts, dev_mode_seeds_three_users_and_shows_their_passwords_once)
{
    app->dev_mode = 1;
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    sb_error err = {0};
    cr_assert_eq(sb_api_bootstrap_dev_seed(app, out, &err), 0, "%s", err.message);
    cr_assert_eq(sb_api_bootstrap_dev_seed(app, out, &err), 0, "%s", err.message);
    fclose(out);
    const char *names[] = {"admin", "approver", "developer"};
    for (size_t i = 0; i < 3; i++) {
        char pattern[32], pw[64] = "";
        snprintf(pattern, sizeof pattern, "\n  %s ", names[i]);
        const char *line = strstr(text, pattern);
        cr_assert_not_null(line, "%s listed: %s", names[i], text);
        cr_assert_null(strstr(line + 1, pattern), "shown once");
        cr_assert_eq(sscanf(line + strlen(pattern), "%63s", pw), 1);
        cr_assert_eq(strlen(pw), 32, "24 random bytes, base64url: %s", pw);
        cr_assert_eq(login_status(names[i], pw), 200, "%s can sign in", names[i]);
        cr_assert_eq(rows_containing(pw), 0, "the password is not stored");
        char sql[256];
        snprintf(sql, sizeof sql,
                 "SELECT count(*) FROM grants g JOIN roles r ON r.id = g.role_id JOIN users u"
                 " ON u.id = g.user_id WHERE u.username = '%s' AND r.name = '%s'",
                 names[i], names[i]);
        cr_assert_eq(sql_long(sql), 1);
    }
    cr_assert_eq(sql_long("SELECT count(*) FROM audit_events WHERE action = 'user.bootstrap'"), 3);
    free(text);
}

/* ---- sbridge admin user ------------------------------------------------------------ */

static char config_path[64];

static void write_config(void)
{
    snprintf(config_path, sizeof config_path, "/tmp/sb-admin-cfg-XXXXXX");
    int fd = mkstemp(config_path);
    cr_assert_geq(fd, 0);
    FILE *f = fdopen(fd, "w");
    fprintf(f, "role: server\ndatabase:\n  url: \"%s\"\nstate_dir: /tmp\n",
            sb_api_harness_conninfo(h));
    fclose(f);
}

/* Runs `sbridge admin user ARGS… --config FILE`, with stdin_text on stdin. */
static int admin(const char *stdin_text, const char *a1, const char *a2, const char *a3,
                 const char *a4, const char *a5)
{
    int p[2];
    cr_assert_eq(pipe(p), 0);
    if (stdin_text && write(p[1], stdin_text, strlen(stdin_text)) < 0)
        cr_assert_fail("pipe");
    close(p[1]);
    dup2(p[0], 0);
    close(p[0]);
    char *argv[10] = {"admin", "user"};
    int argc = 2;
    const char *args[] = {a1, a2, a3, a4, a5};
    for (size_t i = 0; i < 5 && args[i]; i++)
        argv[argc++] = (char *)args[i];
    argv[argc++] = "--config";
    argv[argc++] = config_path;
    return sb_cmd_admin(argc, argv);
}

Test(accounts, the_admin_cli_creates_resets_disables_enables_and_grants)
{
    write_config();
    cr_assert_eq(
        admin("cli-password-123\n", "create", "zed", "--role", "developer", "--password-stdin"), 0);
    cr_assert_eq(admin("cli-password-123\n", "create", "ZED", "--password-stdin", NULL, NULL), 1,
                 "exists");
    cr_assert_eq(admin(NULL, "create", "x", "--password", "hunter2hunter2", NULL), 2,
                 "never from argv");
    cr_assert_eq(admin("short\n", "create", "yan", "--password-stdin", NULL, NULL), 1, "too short");
    cr_assert_eq(admin(NULL, "create", "yan", NULL, NULL, NULL), 1,
                 "no terminal, no --password-stdin");
    cr_assert_eq(admin(NULL, "frobnicate", "zed", NULL, NULL, NULL), 2);
    cr_assert_eq(login_status("zed", "cli-password-123"), 200);
    char cookie[256];
    cr_assert_eq(sb_api_harness_login(h, "zed", "cli-password-123", cookie, sizeof cookie, NULL, 0),
                 0);
    cr_assert_eq(
        admin("another-password-456\r\n", "set-password", "zed", "--password-stdin", NULL, NULL),
        0);
    cr_assert_eq(call("GET", "/api/v1/users/me", NULL, cookie, NULL, NULL), 401, "sessions ended");
    cr_assert_eq(login_status("zed", "cli-password-123"), 401);
    cr_assert_eq(
        sb_api_harness_login(h, "zed", "another-password-456", cookie, sizeof cookie, NULL, 0), 0);
    cr_assert_eq(admin(NULL, "disable", "zed", NULL, NULL, NULL), 0);
    cr_assert_eq(call("GET", "/api/v1/users/me", NULL, cookie, NULL, NULL), 401);
    cr_assert_eq(login_status("zed", "another-password-456"), 401);
    cr_assert_eq(admin(NULL, "enable", "zed", NULL, NULL, NULL), 0);
    cr_assert_eq(login_status("zed", "another-password-456"), 200);
    char project[64];
    sql_text("WITH t AS (INSERT INTO teams (name) VALUES ('ops') RETURNING id)"
             " INSERT INTO projects (name, team_id) SELECT 'infra', id FROM t RETURNING id",
             project, sizeof project);
    cr_assert_eq(admin(NULL, "grant", "zed", "approver", "--project", project), 0);
    cr_assert_eq(admin(NULL, "grant", "zed", "no_such_role", NULL, NULL), 1);
    cr_assert_eq(admin(NULL, "grant", "zed", "approver", "--team", "not-a-uuid"), 1);
    cr_assert_eq(sql_long("SELECT count(*) FROM grants g JOIN users u ON u.id = g.user_id"
                          " WHERE u.username = 'zed'"),
                 2);
    cr_assert_eq(sql_long("SELECT count(*) FROM audit_events WHERE actor = 'system:cli'"), 5,
                 "create, set-password, disable, enable, grant");
    cr_assert_eq(rows_containing("cli-password-123"), 0);
    cr_assert_eq(rows_containing("another-password-456"), 0);
    unlink(config_path);
}

/* A token scoped to permissions acts with its owner's grants narrowed to
 * them: never more, whatever the owner holds, and it cannot mint a wider
 * token. */
Test(accounts, scoped_api_tokens_are_narrowed_to_their_scopes)
{
    char id[40], cookie[256], token[128], tid[128];
    cr_assert_eq(sb_api_harness_user(h, "ops", PW, "admin", "global", NULL, id), 0);
    cr_assert_eq(sb_api_harness_login(h, "ops", PW, cookie, sizeof cookie, NULL, 0), 0);
    cr_assert_eq(call("POST", "/api/v1/users/me/tokens",
                      "{\"name\":\"x\",\"scopes\":[\"no.such\"]}", cookie, NULL, "invalid_value"),
                 422);
    cr_assert_eq(call("POST", "/api/v1/users/me/tokens", "{\"name\":\"x\",\"scopes\":\"audit.read\"}",
                      cookie, NULL, "invalid_field"),
                 400);
    cr_assert_eq(sql_long("SELECT count(*) FROM api_tokens"), 0, "refusals store nothing");
    sb_api_response r;
    cr_assert_eq(sb_api_call(h, "POST", "/api/v1/users/me/tokens",
                             "{\"name\":\"auditor\",\"scopes\":[\"audit.read\",\"audit.read\"]}",
                             cookie, NULL, &r),
                 201, "%s", r.body);
    snprintf(token, sizeof token, "%s", json_string_value(json_object_get(r.json, "token")));
    json_t *scopes = json_object_get(r.json, "scopes");
    cr_assert_eq(json_array_size(scopes), 1);
    cr_assert_str_eq(json_string_value(json_array_get(scopes, 0)), "audit.read");
    sb_api_response_free(&r);
    /* the owner is a global admin; the token is not */
    cr_assert_eq(call("GET", "/api/v1/audit-events", NULL, NULL, token, NULL), 200);
    cr_assert_eq(call("POST", "/api/v1/teams", "{\"name\":\"nope\"}", NULL, token, "forbidden"),
                 403);
    cr_assert_eq(call("GET", "/api/v1/users", NULL, NULL, token, "forbidden"), 403);
    cr_assert_eq(sql_long("SELECT count(*) FROM teams"), 0);
    cr_assert_eq(sb_api_call(h, "GET", "/api/v1/users/me", NULL, NULL, token, &r), 200);
    cr_assert(strstr(r.body, "team.edit") == NULL, "/users/me shows the narrowed set: %s", r.body);
    cr_assert(strstr(r.body, "audit.read") != NULL, "%s", r.body);
    sb_api_response_free(&r);
    /* a scoped token mints only tokens within its scopes */
    cr_assert_eq(call("POST", "/api/v1/users/me/tokens",
                      "{\"name\":\"wider\",\"scopes\":[\"team.edit\"]}", NULL, token,
                      "invalid_value"),
                 422);
    cr_assert_eq(sb_api_call(h, "POST", "/api/v1/users/me/tokens", "{\"name\":\"child\"}", NULL,
                             token, &r),
                 201, "%s", r.body);
    cr_assert_eq(json_array_size(json_object_get(r.json, "scopes")), 1, "inherits: %s", r.body);
    snprintf(tid, sizeof tid, "%s", json_string_value(json_object_get(r.json, "token")));
    sb_api_response_free(&r);
    cr_assert_eq(call("POST", "/api/v1/teams", "{\"name\":\"nope\"}", NULL, tid, "forbidden"),
                 403);
    /* the list shows each token's scopes; an unscoped token has [] */
    char plain[128], pid[40];
    new_token(cookie, "{\"name\":\"full\"}", plain, pid);
    cr_assert_eq(call("POST", "/api/v1/teams", "{\"name\":\"yes\"}", NULL, plain, NULL), 201);
    cr_assert_eq(sb_api_call(h, "GET", "/api/v1/users/me/tokens", NULL, cookie, NULL, &r), 200);
    size_t i, scoped = 0;
    json_t *item;
    json_array_foreach(json_object_get(r.json, "items"), i, item) scoped +=
        json_array_size(json_object_get(item, "scopes")) > 0;
    cr_assert_eq(scoped, 2);
    sb_api_response_free(&r);
}

/* last_used_at is stamped at most once a minute: most token uses write
 * nothing (the same rule as the session slide). */
Test(accounts, token_use_is_stamped_at_most_once_a_minute)
{
    user("stamp", PW, NULL);
    char cookie[256], token[128], id[40];
    cr_assert_eq(sb_api_harness_login(h, "stamp", PW, cookie, sizeof cookie, NULL, 0), 0);
    new_token(cookie, "{\"name\":\"ci\"}", token, id);
    app->fixed_now_ms = T0 + 10 * 1000;
    cr_assert_eq(call("GET", "/api/v1/users/me", NULL, NULL, token, NULL), 200);
    char q[160];
    snprintf(q, sizeof q, "SELECT xmin::text::bigint FROM api_tokens WHERE id = '%s'", id);
    long long xmin = sql_long(q);
    app->fixed_now_ms = T0 + 69 * 1000;
    cr_assert_eq(call("GET", "/api/v1/users/me", NULL, NULL, token, NULL), 200);
    cr_assert_eq(sql_long(q), xmin, "used again within the minute: not rewritten");
    app->fixed_now_ms = T0 + 71 * 1000;
    cr_assert_eq(call("GET", "/api/v1/users/me", NULL, NULL, token, NULL), 200);
    cr_assert_neq(sql_long(q), xmin, "a minute later: stamped");
    snprintf(q, sizeof q,
             "SELECT extract(epoch FROM last_used_at)::bigint FROM api_tokens WHERE id = '%s'", id);
    cr_assert_eq(sql_long(q), (T0 + 71 * 1000) / 1000);
}
