/*
 * test_audit_api.c — the audit trail through the real API and CLI:
 *   - GET /api/v1/audit-events: every filter, cursor pagination across
 *     pages with no duplicates or omissions, 401/403 (a team-scoped
 *     audit.read is not enough), malformed filters and cursors 400;
 *   - GET /api/v1/audit-events/verify before and after tampering;
 *   - sb_api_audit's fields (actor, correlation id, request id, remote ip)
 *     as written for a real request; the cursor format;
 *   - `sbridge audit verify` exit codes on a good and a tampered database.
 * Store-level tests are in test_audit.c.
 */
#include <criterion/criterion.h>
#include <criterion/hooks.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api/api.h"
#include "api/app_keys.h"
#include "api_harness.h"
#include "crypto/secure_mem.h"
#include "pg_harness.h"
#include "store/audit_store.h"
#include "util/log.h"

int sb_cmd_audit(int argc, char **argv);

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

static sb_api_harness *h;
static char admin_cookie[256];

static void setup(void)
{
    sb_log_set_level(SB_LEVEL_WARN);
    cr_assert_eq(sb_api_harness_start(&h), 0, "the API harness did not start");
    char id[64];
    cr_assert_eq(sb_api_harness_user(h, "auditor", "correct horse battery", "admin", "global", NULL, id), 0);
    cr_assert_eq(sb_api_harness_login(h, "auditor", "correct horse battery", admin_cookie,
                                      sizeof admin_cookie, NULL, 0), 0);
}
static void teardown(void) { sb_api_harness_stop(h); }
TestSuite(audit_api, .init = setup, .fini = teardown, .timeout = 120);

/* ---- helpers --------------------------------------------------------------- */

static long get(const char *path, const char *cookie, sb_api_response *r)
{
    return sb_api_call(h, "GET", path, NULL, cookie, NULL, r);
}

static long long sql_int(const char *q)
{
    char v[64];
    cr_assert_geq(sb_api_harness_sql(h, q, v, sizeof v), 0, "%s", q);
    return atoll(v);
}

/* An event with a chosen time (the INSERT path the table allows). */
static long long insert_event(const char *actor, const char *action, const char *resource,
                              const char *outcome, const char *corr, const char *at)
{
    char q[1024];
    snprintf(q, sizeof q,
             "INSERT INTO audit_events (occurred_at, actor, action, resource, outcome, correlation_id, "
             "details) VALUES ('%s', '%s', '%s', '%s', '%s', '%s', '{\"k\": [1, \"two\"]}') RETURNING id",
             at, actor, action, resource, outcome, corr);
    return sql_int(q);
}

/* An attacker with superuser access: triggers off, change, triggers on. */
static void tamper(const char *change)
{
    char script[512];
    snprintf(script, sizeof script, "ALTER TABLE audit_events DISABLE TRIGGER USER; %s; "
             "ALTER TABLE audit_events ENABLE TRIGGER USER;", change);
    sb_db_conn *conn;
    sb_error err = {0};
    cr_assert_eq(sb_db_acquire(sb_api_harness_owner_db(h), -1, &conn, &err), 0, "%s", err.message);
    cr_assert_eq(sb_db_exec_script(conn, script, &err), 0, "%s", err.message);
    sb_db_release(sb_api_harness_owner_db(h), conn);
}

static void seal_all(void)
{
    size_t n;
    sb_error err = {0};
    cr_assert_eq(sb_audit_seal(sb_api_harness_db(h), sb_api_harness_app(h)->audit_key, 10000, &n, &err), 0,
                 "%s", err.message);
}

/* The ids of a listing, in order, as "id,id,..." */
static void ids_of(const char *query, char *out, size_t cap)
{
    char path[512];
    snprintf(path, sizeof path, "/api/v1/audit-events?%s", query);
    sb_api_response r;
    cr_assert_eq(get(path, admin_cookie, &r), 200, "%s: %s", path, r.body);
    size_t len = 0, i;
    json_t *item;
    out[0] = '\0';
    json_array_foreach(json_object_get(r.json, "items"), i, item)
        len += (size_t)snprintf(out + len, cap - len, "%s%lld", i ? "," : "",
                                (long long)json_integer_value(json_object_get(item, "id")));
    sb_api_response_free(&r);
}

/* ---- listing ---------------------------------------------------------------- */

Test(audit_api, every_filter_selects_exactly_its_events)
{
    long long a = insert_event("user:filter-a", "team.create", "team:1", "success", "c-1", "2026-01-01T00:00:00Z");
    long long b = insert_event("user:filter-a", "team.delete", "team:2", "failure", "c-2", "2026-01-02T00:00:00Z");
    long long c = insert_event("user:filter-b", "team.create", "team:2", "denied", "c-1", "2026-01-03T00:00:00Z");
    struct {
        const char *query;
        long long expect[3];
    } cases[] = {
        {"actor=user:filter-a", {b, a}},
        {"action=team.delete", {b}},
        {"resource=team:2", {c, b}},
        {"correlation_id=c-1", {c, a}},
        {"outcome=denied", {c}},
        {"since=2026-01-02T00:00:00Z&until=2026-01-03T00:00:00Z", {b}},
        {"since=2026-01-01T01:00:00%2B01:00&until=2026-01-01T00:00:00.000001z", {a}},
        {"until=2026-01-03T00:00:00.5Z&since=2025-12-31T19:00:00-05:00", {c, b, a}},
        {"actor=user:filter-a&outcome=success", {a}},
        {"actor=user:filter-b&action=team.create&resource=team:2&correlation_id=c-1&outcome=denied", {c}},
        {"actor=user:nobody", {0}},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char want[128] = "", got[512];
        size_t len = 0;
        for (int k = 0; k < 3 && cases[i].expect[k]; k++)
            len += (size_t)snprintf(want + len, sizeof want - len, "%s%lld", k ? "," : "", cases[i].expect[k]);
        ids_of(cases[i].query, got, sizeof got);
        cr_assert_str_eq(got, want, "%s", cases[i].query);
    }
}

Test(audit_api, items_carry_every_field_and_their_seal)
{
    long long a = insert_event("user:fields", "team.create", "team:9", "success", "c-9", "2026-02-03T04:05:06.789Z");
    sb_api_response r;
    cr_assert_eq(get("/api/v1/audit-events?actor=user:fields", admin_cookie, &r), 200, "%s", r.body);
    json_t *item = json_array_get(json_object_get(r.json, "items"), 0);
    cr_assert_eq(json_integer_value(json_object_get(item, "id")), a);
    cr_assert_str_eq(json_string_value(json_object_get(item, "occurred_at")), "2026-02-03T04:05:06.789000Z");
    cr_assert_str_eq(json_string_value(json_object_get(item, "actor")), "user:fields");
    cr_assert_str_eq(json_string_value(json_object_get(item, "action")), "team.create");
    cr_assert_str_eq(json_string_value(json_object_get(item, "resource")), "team:9");
    cr_assert_str_eq(json_string_value(json_object_get(item, "outcome")), "success");
    cr_assert_str_eq(json_string_value(json_object_get(item, "severity")), "info");
    cr_assert_str_eq(json_string_value(json_object_get(item, "correlation_id")), "c-9");
    cr_assert(json_is_null(json_object_get(item, "request_id")));
    cr_assert_str_eq(json_string_value(json_array_get(json_object_get(json_object_get(item, "details"), "k"), 1)),
                     "two");
    cr_assert(json_is_false(json_object_get(item, "sealed")));
    cr_assert(json_is_null(json_object_get(item, "chain_seq")));
    cr_assert(json_is_null(json_object_get(r.json, "next_cursor")));
    sb_api_response_free(&r);
    seal_all();
    cr_assert_eq(get("/api/v1/audit-events?actor=user:fields", admin_cookie, &r), 200);
    item = json_array_get(json_object_get(r.json, "items"), 0);
    cr_assert(json_is_true(json_object_get(item, "sealed")));
    cr_assert_gt(json_integer_value(json_object_get(item, "chain_seq")), 0);
    cr_assert(json_is_string(json_object_get(item, "sealed_at")));
    sb_api_response_free(&r);
}

Test(audit_api, cursor_pagination_has_no_duplicates_or_omissions)
{
    sb_api_harness_sql(h, "INSERT INTO audit_events (actor, action, resource, outcome, correlation_id) "
                          "SELECT 'user:pager', 'page.test', 'x:' || g, 'success', 'c' "
                          "FROM generate_series(1, 120) g", NULL, 0);
    long long expected_max = sql_int("SELECT max(id) FROM audit_events WHERE actor = 'user:pager'");
    char path[512] = "/api/v1/audit-events?actor=user:pager&limit=50";
    long long seen = 0, previous = expected_max + 1;
    int pages = 0;
    size_t sizes[4] = {0};
    for (;;) {
        sb_api_response r;
        cr_assert_eq(get(path, admin_cookie, &r), 200, "%s", r.body);
        json_t *items = json_object_get(r.json, "items"), *item;
        size_t i;
        json_array_foreach(items, i, item) {
            long long id = json_integer_value(json_object_get(item, "id"));
            cr_assert_lt(id, previous, "ids must strictly decrease across pages (%lld after %lld)", id, previous);
            previous = id;
            seen++;
        }
        cr_assert_lt(pages, 4);
        sizes[pages++] = json_array_size(items);
        if (pages == 1) /* newer events appear meanwhile: later pages are not disturbed */
            sb_api_harness_sql(h, "INSERT INTO audit_events (actor, action, resource, outcome, correlation_id) "
                                  "SELECT 'user:pager', 'page.test', 'late', 'success', 'c' "
                                  "FROM generate_series(1, 5)", NULL, 0);
        const char *next = json_string_value(json_object_get(r.json, "next_cursor"));
        if (next == NULL) {
            cr_assert(json_is_null(json_object_get(r.json, "next_cursor")));
            sb_api_response_free(&r);
            break;
        }
        snprintf(path, sizeof path, "/api/v1/audit-events?actor=user:pager&limit=50&cursor=%s", next);
        sb_api_response_free(&r);
    }
    cr_assert_eq(pages, 3);
    cr_assert(sizes[0] == 50 && sizes[1] == 50 && sizes[2] == 20, "%zu %zu %zu", sizes[0], sizes[1], sizes[2]);
    cr_assert_eq(seen, 120);
    cr_assert_eq(previous, sql_int("SELECT min(id) FROM audit_events WHERE actor = 'user:pager'"));
    /* the default page is 50; an exact multiple ends with next_cursor null after one more page */
    char ids[4096];
    ids_of("actor=user:pager", ids, sizeof ids);
    cr_assert_eq(strlen(ids) > 0 && ids[0] != ',', 1);
    size_t commas = 0;
    for (char *p = ids; *p; p++)
        commas += *p == ',';
    cr_assert_eq(commas + 1, 50);
}

Test(audit_api, the_cursor_is_base64url_of_v1_and_the_last_id)
{
    char out[64];
    sb_api_cursor_encode("42", out, sizeof out);
    cr_assert_str_eq(out, "djE6NDI");
    sb_api_cursor_encode("42", out, 4);
    cr_assert_str_eq(out, "", "a cursor that does not fit is not truncated");
}

/* ---- permissions ---------------------------------------------------------------- */

Test(audit_api, reading_needs_a_global_audit_read)
{
    char none_id[64], team_id[64], scoped_id[64], cookie[256];
    cr_assert_eq(sb_api_harness_user(h, "nobody", "correct horse battery", NULL, NULL, NULL, none_id), 0);
    cr_assert_eq(sb_api_harness_sql(h, "INSERT INTO teams (name) VALUES ('payments') RETURNING id::text",
                                    team_id, sizeof team_id), 1);
    cr_assert_eq(sb_api_harness_user(h, "team-approver", "correct horse battery", "approver", "team", team_id,
                                     scoped_id), 0);
    const char *paths[] = {"/api/v1/audit-events", "/api/v1/audit-events/verify"};
    for (int i = 0; i < 2; i++) {
        sb_api_response r;
        cr_assert_eq(get(paths[i], NULL, &r), 401, "%s", paths[i]);
        sb_api_response_free(&r);
        cr_assert_eq(sb_api_harness_login(h, "nobody", "correct horse battery", cookie, sizeof cookie, NULL, 0), 0);
        cr_assert_eq(get(paths[i], cookie, &r), 403, "%s: %s", paths[i], r.body);
        sb_api_response_free(&r);
        cr_assert_eq(sb_api_harness_login(h, "team-approver", "correct horse battery", cookie, sizeof cookie,
                                          NULL, 0), 0);
        cr_assert_eq(get(paths[i], cookie, &r), 403, "a team-scoped audit.read reached %s", paths[i]);
        cr_assert_str_eq(json_string_value(json_object_get(json_object_get(r.json, "error"), "code")), "forbidden");
        cr_assert(strstr(r.body, "global grant"), "%s", r.body);
        sb_api_response_free(&r);
        cr_assert_eq(get(paths[i], admin_cookie, &r), 200, "%s", r.body);
        sb_api_response_free(&r);
    }
    char q[256];
    snprintf(q, sizeof q, "SELECT count(*) FROM audit_events WHERE action = 'access.denied' AND actor = 'user:%s' "
             "AND outcome = 'denied' AND resource = '/api/v1/audit-events'", scoped_id);
    cr_assert_eq(sql_int(q), 1, "the refusal in the handler is audited");
}

Test(audit_api, malformed_filters_and_cursors_are_400)
{
    struct {
        const char *query, *code, *mentions;
    } cases[] = {
        {"outcome=maybe", "invalid_field", "outcome"},
        {"action=Team.Create", "invalid_field", "action"},
        {"since=yesterday", "invalid_field", "since"},
        {"until=2026-02-30T00:00:00Z", "invalid_field", "until"},
        {"since=2026-01-01T00:00:00+01:00", "invalid_field", "%2B"},
        {"since=2026-01-01%2000:00:00Z", "invalid_field", "since"},
        {"until=2026-01-01T24:00:00Z", "invalid_field", "until"},
        {"until=2026-01-01T00:00:00%2B16:00", "invalid_field", "until"},
        {"until=2026-01-01T00:00:00.Z", "invalid_field", "until"},
        {"actor=", "invalid_field", "actor"},
        {"actor=a&actor=b", "invalid_field", "more than once"},
        {"acter=user:x", "invalid_field", "acter"},
        {"limit=0", "invalid_limit", "1 to 500"},
        {"limit=501", "invalid_limit", "1 to 500"},
        {"limit=ten", "invalid_limit", "1 to 500"},
        {"limit=-1", "invalid_limit", "1 to 500"},
        {"cursor=%%%", NULL, NULL}, /* malformed percent-encoding: the server's 400 */
        {"cursor=not-a-cursor", "invalid_cursor", "cursor"},
        {"cursor=djE6", "invalid_cursor", "cursor"},         /* "v1:" */
        {"cursor=djI6NDI", "invalid_cursor", "cursor"},      /* "v2:42" */
        {"cursor=djE6YWJj", "invalid_cursor", "cursor"},     /* "v1:abc": not an audit id */
        {"cursor=djE6LTU", "invalid_cursor", "cursor"},      /* "v1:-5" */
        {"cursor=djE6NDI=", "invalid_cursor", "cursor"},     /* padding is not ours */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char path[256];
        snprintf(path, sizeof path, "/api/v1/audit-events?%s", cases[i].query);
        sb_api_response r;
        cr_assert_eq(get(path, admin_cookie, &r), 400, "%s: %s", cases[i].query, r.body);
        if (cases[i].code) {
            json_t *e = json_object_get(r.json, "error");
            cr_assert_str_eq(json_string_value(json_object_get(e, "code")), cases[i].code, "%s", cases[i].query);
            cr_assert(strstr(json_string_value(json_object_get(e, "message")), cases[i].mentions),
                      "%s: %s", cases[i].query, r.body);
        }
        sb_api_response_free(&r);
    }
    sb_api_response r;
    cr_assert_eq(get("/api/v1/audit-events/verify?x=1", admin_cookie, &r), 400);
    sb_api_response_free(&r);
}

/* ---- verification and the helper ----------------------------------------------- */

Test(audit_api, the_verify_route_reports_the_first_break)
{
    for (int i = 0; i < 5; i++)
        insert_event("user:v", "team.create", "team:1", "success", "c", "2026-01-01T00:00:00Z");
    seal_all();
    sb_api_response r;
    cr_assert_eq(get("/api/v1/audit-events/verify", admin_cookie, &r), 200, "%s", r.body);
    cr_assert(json_is_true(json_object_get(r.json, "ok")), "%s", r.body);
    cr_assert(json_is_null(json_object_get(r.json, "break")));
    cr_assert_geq(json_integer_value(json_object_get(r.json, "sealed")), 5);
    sb_api_response_free(&r);
    long long victim = sql_int("SELECT id FROM audit_events WHERE actor = 'user:v' ORDER BY id LIMIT 1 OFFSET 2");
    char q[256];
    snprintf(q, sizeof q, "UPDATE audit_events SET outcome = 'failure' WHERE id = %lld", victim);
    tamper(q);
    cr_assert_eq(get("/api/v1/audit-events/verify", admin_cookie, &r), 200, "%s", r.body);
    cr_assert(json_is_false(json_object_get(r.json, "ok")), "%s", r.body);
    json_t *brk = json_object_get(r.json, "break");
    cr_assert_str_eq(json_string_value(json_object_get(brk, "kind")), "modified");
    cr_assert_eq(json_integer_value(json_object_get(brk, "event_id")), victim);
    sb_api_response_free(&r);
}

Test(audit_api, events_of_a_request_carry_its_actor_ids_and_address)
{
    char id[64], cookie[256];
    cr_assert_eq(sb_api_harness_user(h, "plain", "correct horse battery", NULL, NULL, NULL, id), 0);
    cr_assert_eq(sb_api_harness_login(h, "plain", "correct horse battery", cookie, sizeof cookie, NULL, 0), 0);
    char long_corr[200];
    memset(long_corr, 'c', 129);
    snprintf(long_corr + 129, sizeof long_corr - 129, "%s", "");
    struct {
        const char *corr_header;
        int echoed;
    } cases[] = {{"X-Correlation-Id: flow-7.step_2-a", 1}, {"X-Correlation-Id: has space", 0},
                 {NULL, 0}, {long_corr, 0}};
    char header[256];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        if (cases[i].corr_header == long_corr)
            snprintf(header, sizeof header, "X-Correlation-Id: %s", long_corr);
        const char *headers[] = {cases[i].corr_header == long_corr ? header : cases[i].corr_header, NULL};
        sb_api_response r;
        cr_assert_eq(sb_api_call_with(h, "GET", "/api/v1/audit-events", NULL, cookie, NULL, headers, &r), 403);
        char request_id[160];
        cr_assert_eq(sb_api_response_header(&r, "X-Request-Id", request_id, sizeof request_id), 0);
        sb_api_response_free(&r);
        char q[512], got[200];
        snprintf(q, sizeof q, "SELECT correlation_id || '|' || request_id || '|' || remote_ip || '|' || actor FROM "
                 "audit_events WHERE action = 'access.denied' AND request_id = '%s'", request_id);
        cr_assert_eq(sb_api_harness_sql(h, q, got, sizeof got), 1, "no event for request %s", request_id);
        char want[400];
        snprintf(want, sizeof want, "%s|%s|127.0.0.1|user:%s", cases[i].echoed ? "flow-7.step_2-a" : request_id,
                 request_id, id);
        cr_assert_str_eq(got, want, "case %zu", i);
    }
    /* Outside a request: actor "system", a fresh correlation id; details must be an object. */
    sb_db_conn *conn;
    sb_error err = {0};
    cr_assert_eq(sb_db_acquire(sb_api_harness_db(h), -1, &conn, &err), 0);
    json_t *details = json_pack("{s:s}", "job", "sweep");
    sb_api_audit_event ev = {"worker.sweep", "jobs", "success", NULL, details};
    cr_assert_eq(sb_api_audit(conn, NULL, &ev, &err), 0, "%s", err.message);
    json_t *array = json_array();
    sb_api_audit_event bad = {"worker.sweep", "jobs", "success", NULL, array};
    cr_assert_neq(sb_api_audit(conn, NULL, &bad, &err), 0);
    cr_assert(strstr(err.message, "JSON object"), "%s", err.message);
    json_decref(details);
    json_decref(array);
    sb_db_release(sb_api_harness_db(h), conn);
    cr_assert_eq(sql_int("SELECT count(*) FROM audit_events WHERE action = 'worker.sweep' AND actor = 'system' "
                         "AND length(correlation_id) = 32 AND details = '{\"job\": \"sweep\"}'"), 1);
}

/* ---- sbridge audit verify --------------------------------------------------------- */

/* The master key the API harness configures (tests/support/api_harness.c). */
#define HARNESS_MASTER_KEY "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"

/* Runs `sbridge audit ARGS...` in-process; returns the exit status and the
 * standard output in out. */
static int run_cli(char **argv, int argc, char *out, size_t cap)
{
    char path[] = "/tmp/sb-audit-cli-XXXXXX";
    int fd = mkstemp(path);
    cr_assert_geq(fd, 0);
    fflush(stdout);
    int saved = dup(1);
    dup2(fd, 1);
    int rc = sb_cmd_audit(argc, argv);
    fflush(stdout);
    dup2(saved, 1);
    close(saved);
    ssize_t n = pread(fd, out, cap - 1, 0);
    out[n > 0 ? n : 0] = '\0';
    close(fd);
    unlink(path);
    return rc;
}

static void write_config(const char *path, const char *state_dir, int with_db, int with_key)
{
    FILE *f = fopen(path, "w");
    cr_assert(f);
    fprintf(f, "role: server\n%sstate_dir: %s\n%s", with_db ? "database:\n  url: ${env:SB_AUDIT_TEST_DB}\n" : "",
            state_dir, with_key ? "keys:\n  master_key: ${env:SB_AUDIT_TEST_KEY}\n" : "");
    fclose(f);
}

Test(audit_api, sbridge_audit_verify_exit_codes)
{
    /* the CLI derives the same audit key as the server */
    unsigned char *pepper, *jwt, *audit;
    sb_error err = {0};
    cr_assert_eq(sb_app_derive_keys(HARNESS_MASTER_KEY, NULL, &pepper, &jwt, &audit, &err), 0, "%s", err.message);
    cr_assert_eq(memcmp(audit, sb_api_harness_app(h)->audit_key, SB_AUDIT_KEY_BYTES), 0,
                 "the harness's master key changed: update HARNESS_MASTER_KEY");
    sb_secure_release(pepper), sb_secure_release(jwt), sb_secure_release(audit);

    char dir[] = "/tmp/sb-audit-cfg-XXXXXX", config[128], nokey[128], nodb[128], out[4096];
    cr_assert(mkdtemp(dir));
    snprintf(config, sizeof config, "%s/server.yaml", dir);
    snprintf(nokey, sizeof nokey, "%s/nokey.yaml", dir);
    snprintf(nodb, sizeof nodb, "%s/nodb.yaml", dir);
    write_config(config, dir, 1, 1);
    write_config(nokey, dir, 1, 0);
    write_config(nodb, dir, 0, 1);
    setenv("SB_AUDIT_TEST_DB", sb_api_harness_conninfo(h), 1);
    setenv("SB_AUDIT_TEST_KEY", HARNESS_MASTER_KEY, 1);
    for (int i = 0; i < 30; i++)
        insert_event("user:cli", "team.create", "team:1", "success", "c", "2026-01-01T00:00:00Z");
    seal_all();
    char *good[] = {"audit", "verify", "--config", config, NULL};
    cr_assert_eq(run_cli(good, 4, out, sizeof out), 0, "%s", out);
    cr_assert(strstr(out, "audit chain ok: ") && strstr(out, " unsealed, newest sealed at "), "%s", out);
    cr_assert(strstr(out, "chain head: position "), "%s", out);

    long long victim = sql_int("SELECT id FROM audit_events WHERE actor = 'user:cli' ORDER BY id LIMIT 1 OFFSET 10");
    long long seq = 0;
    char q[256];
    snprintf(q, sizeof q, "SELECT chain_seq FROM audit_chain WHERE event_id = %lld", victim);
    seq = sql_int(q);
    snprintf(q, sizeof q, "UPDATE audit_events SET resource = 'team:2' WHERE id = %lld", victim);
    tamper(q);
    cr_assert_eq(run_cli(good, 4, out, sizeof out), 1, "%s", out);
    char want[160];
    snprintf(want, sizeof want, "audit chain broken at event id %lld (chain position %lld): stored hash does not "
             "match its contents — the row was modified after sealing", victim, seq);
    cr_assert(strstr(out, want), "%s", out);

    char *usage[] = {"audit", NULL};
    cr_assert_eq(run_cli(usage, 1, out, sizeof out), 2);
    char *unknown[] = {"audit", "repair", NULL};
    cr_assert_eq(run_cli(unknown, 2, out, sizeof out), 2);
    char *stale[] = {"audit", "verify", "--config", config, "--stale-after", "soon", NULL};
    cr_assert_eq(run_cli(stale, 6, out, sizeof out), 2);
    char *missing_key[] = {"audit", "verify", "--config", nokey, NULL};
    cr_assert_eq(run_cli(missing_key, 4, out, sizeof out), 1, "no master key must not mean a new one");
    char master[200];
    snprintf(master, sizeof master, "%s/master.key", dir);
    cr_assert_neq(access(master, F_OK), 0, "verify created a master key");
    char *no_database[] = {"audit", "verify", "--config", nodb, NULL};
    cr_assert_eq(run_cli(no_database, 4, out, sizeof out), 1, "no database must not mean a new one");
    snprintf(master, sizeof master, "%s/pgdata", dir);
    cr_assert_neq(access(master, F_OK), 0, "verify created an embedded cluster");
    unlink(config), unlink(nokey), unlink(nodb), rmdir(dir);
}
