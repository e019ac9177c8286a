/*
 * tenancy_test_util.h — what the tenancy and RBAC API tests share: the
 * suite hooks (one PostgreSQL cluster per binary, a fresh database and a
 * signed-in global admin per test), a compact HTTP client on top of
 * api_harness.h, and readers of the database for assertions.
 *
 * Included once by each test binary (test_api_tenancy.c,
 * test_api_tenancy_scope.c, test_api_rbac.c); every helper is static inline
 * so a file uses what it needs.
 */
#ifndef SB_TESTS_TENANCY_TEST_UTIL_H
#define SB_TESTS_TENANCY_TEST_UTIL_H

#include <criterion/criterion.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "api_harness.h"
#include "pg_harness.h"
#include "util/log.h"

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
static char admin[256], admin_id[40]; /* a signed-in global admin */

static inline void tenancy_setup(void)
{
    sb_log_set_level(SB_LEVEL_WARN);
    cr_assert_eq(sb_api_harness_start(&h), 0, "the API harness did not start");
    cr_assert_eq(
        sb_api_harness_user(h, "root", "root-password-1", "admin", "global", NULL, admin_id), 0);
    cr_assert_eq(sb_api_harness_login(h, "root", "root-password-1", admin, sizeof admin, NULL, 0),
                 0);
}
static inline void tenancy_teardown(void) { sb_api_harness_stop(h); }

/* One call with a printf-formatted body (NULL: none). The response is
 * freed unless out is given. */
static inline long callf(const char *cookie, const char *method, const char *path,
                         sb_api_response *out, const char *body_fmt, ...)
    __attribute__((format(printf, 5, 6)));
static inline long callf(const char *cookie, const char *method, const char *path,
                         sb_api_response *out, const char *body_fmt, ...)
{
    char body[4096];
    if (body_fmt) {
        va_list ap;
        va_start(ap, body_fmt);
        vsnprintf(body, sizeof body, body_fmt, ap);
        va_end(ap);
    }
    sb_api_response r;
    long st = sb_api_call(h, method, path, body_fmt ? body : NULL, cookie, NULL, &r);
    if (out)
        *out = r;
    else
        sb_api_response_free(&r);
    return st;
}

static inline long get(const char *cookie, const char *path)
{
    return callf(cookie, "GET", path, NULL, NULL);
}

/* prefix + id + suffix, in one of four rotating buffers. */
static inline const char *path3(const char *prefix, const char *id, const char *suffix)
{
    static char buf[4][256];
    static int k;
    k = (k + 1) % 4;
    snprintf(buf[k], sizeof buf[k], "%s%s%s", prefix, id, suffix);
    return buf[k];
}

static inline const char *error_code(const sb_api_response *r)
{
    const char *c = json_string_value(json_object_get(json_object_get(r->json, "error"), "code"));
    return c ? c : "";
}

/* Asserts the status and error code of a call, then frees it. */
static inline void expect_error(long st, sb_api_response *r, long want, const char *code)
{
    cr_assert_eq(st, want, "expected %ld %s, got %ld: %s", want, code, st, r->body);
    cr_assert_str_eq(error_code(r), code, "%s", r->body);
    sb_api_response_free(r);
}

static inline long long sql_int(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static inline long long sql_int(const char *fmt, ...)
{
    char q[2048], v[64];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(q, sizeof q, fmt, ap);
    va_end(ap);
    cr_assert_geq(sb_api_harness_sql(h, q, v, sizeof v), 0, "%s", q);
    return atoll(v);
}

/* Audit rows with this action on "<kind>:<id>". */
static inline long long audit_rows(const char *action, const char *kind, const char *id)
{
    return sql_int("SELECT count(*) FROM audit_events WHERE action = '%s' AND resource = '%s:%s'",
                   action, kind, id);
}

static inline void id_of(sb_api_response *r, char *out)
{
    snprintf(out, 40, "%s", json_string_value(json_object_get(r->json, "id")));
    sb_api_response_free(r);
}

static inline void make_team(const char *cookie, const char *name, const char *parent, char *out)
{
    sb_api_response r;
    long st = parent ? callf(cookie, "POST", "/api/v1/teams", &r,
                             "{\"name\":\"%s\",\"parent_id\":\"%s\"}", name, parent)
                     : callf(cookie, "POST", "/api/v1/teams", &r, "{\"name\":\"%s\"}", name);
    cr_assert_eq(st, 201, "create team %s: %ld %s", name, st, r.body);
    id_of(&r, out);
}

static inline void make_project(const char *cookie, const char *name, const char *team, char *out)
{
    sb_api_response r;
    long st = callf(cookie, "POST", "/api/v1/projects", &r, "{\"name\":\"%s\",\"team_id\":\"%s\"}",
                    name, team);
    cr_assert_eq(st, 201, "create project %s: %ld %s", name, st, r.body);
    id_of(&r, out);
}

static inline void make_env(const char *cookie, const char *project, const char *name,
                            const char *kind, char *out)
{
    sb_api_response r;
    long st = callf(cookie, "POST", "/api/v1/environments", &r,
                    "{\"project_id\":\"%s\",\"name\":\"%s\",\"kind\":\"%s\"}", project, name, kind);
    cr_assert_eq(st, 201, "create environment %s: %ld %s", name, st, r.body);
    id_of(&r, out);
}

/* A user holding role at scope (role NULL: no grant); signed in when
 * cookie is not NULL (256 bytes). */
static inline void make_user(const char *name, const char *role, const char *kind,
                             const char *scope, char *id, char *cookie)
{
    cr_assert_eq(sb_api_harness_user(h, name, "user-password-1", role, kind, scope, id), 0);
    if (cookie)
        cr_assert_eq(sb_api_harness_login(h, name, "user-password-1", cookie, 256, NULL, 0), 0);
}

/* The ids of a list response as "id,id,". */
static inline void list_ids(const char *cookie, const char *path, char *out, size_t cap)
{
    sb_api_response r;
    cr_assert_eq(callf(cookie, "GET", path, &r, NULL), 200, "%s: %s", path, r.body);
    size_t i, len = 0;
    json_t *item;
    out[0] = '\0';
    json_array_foreach(json_object_get(r.json, "items"), i, item) len += (size_t)snprintf(
        out + len, cap - len, "%s,", json_string_value(json_object_get(item, "id")));
    sb_api_response_free(&r);
}

static inline int listed(const char *ids, const char *id) { return strstr(ids, id) != NULL; }

#endif
