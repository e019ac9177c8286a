/* bench/bench_world.c — see bench_world.h. */
#include "bench_world.h"

#include <jansson.h>
#include <libpq-fe.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "store/catalog_store.h"

double bench_now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void bench_sleep_until(double t)
{
    double d = t - bench_now_s();
    if (d <= 0)
        return;
    struct timespec ts = {(time_t)d, (long)((d - (double)(time_t)d) * 1e9)};
    nanosleep(&ts, NULL);
}

int bench_cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* POST body as admin; the new id into out (may be NULL). 0 when status is want. */
static int post_id(bench_world *w, const char *path, const char *body, long want, char *out)
{
    sb_api_response r;
    long st = sb_api_call(w->h, "POST", path, body, w->admin, NULL, &r);
    int rc = st == want ? 0 : -1;
    if (rc != 0)
        fprintf(stderr, "setup: POST %s -> %ld %s\n", path, st, r.body ? r.body : "");
    else if (out)
        snprintf(out, 40, "%s", json_string_value(json_object_get(r.json, "id")));
    sb_api_response_free(&r);
    return rc;
}

static int user(bench_world *w, const char *name, const char *role, const char *project, char *cookie)
{
    char id[40];
    if (sb_api_harness_user(w->h, name, "bench-password-1", role, "project", project, id) != 0 ||
        sb_api_harness_login(w->h, name, "bench-password-1", cookie, 256, NULL, 0) != 0) {
        fprintf(stderr, "setup: user %s\n", name);
        return -1;
    }
    return 0;
}

int bench_world_build(bench_world *w)
{
    char uid[40], team[40], proj[40], env[40], conn_id[40], secret[40], path[256], body[512];
    if (sb_api_harness_user(w->h, "bench-admin", "bench-password-1", "admin", "global", NULL, uid) != 0 ||
        sb_api_harness_login(w->h, "bench-admin", "bench-password-1", w->admin, sizeof w->admin, NULL, 0) != 0)
        return -1;
    if (post_id(w, "/api/v1/teams", "{\"name\":\"bench-team\"}", 201, team) != 0)
        return -1;
    snprintf(body, sizeof body, "{\"name\":\"bench-app\",\"team_id\":\"%s\"}", team);
    if (post_id(w, "/api/v1/projects", body, 201, proj) != 0)
        return -1;
    snprintf(body, sizeof body, "{\"project_id\":\"%s\",\"name\":\"dev\",\"kind\":\"non_prod\"}", proj);
    if (post_id(w, "/api/v1/environments", body, 201, env) != 0)
        return -1;
    if (post_id(w, "/api/v1/provider-connections",
                "{\"name\":\"vault-bench\",\"type\":\"vault\",\"scope\":{\"address\":"
                "\"https://vault.internal:8200\",\"mount\":\"kv\"}}",
                201, conn_id) != 0)
        return -1;
    snprintf(path, sizeof path, "/api/v1/provider-connections/%s/bindings", conn_id);
    snprintf(body, sizeof body, "{\"project_id\":\"%s\"}", proj);
    if (post_id(w, path, body, 201, NULL) != 0)
        return -1;
    sb_db_conn *conn;
    sb_error err = {0};
    int64_t n = 0;
    if (sb_db_acquire(sb_api_harness_db(w->h), -1, &conn, &err) != 0)
        return -1;
    int rc = sb_catalog_store_upsert_batch(conn, conn_id, "[{\"secret_ref\":\"app/db\"}]", false, &n, &err);
    sb_db_release(sb_api_harness_db(w->h), conn);
    if (rc != 0) {
        fprintf(stderr, "setup: catalog: %s\n", err.message);
        return -1;
    }
    char q[256];
    snprintf(w->connection, sizeof w->connection, "%s", conn_id);
    snprintf(q, sizeof q, "SELECT id FROM catalog_secrets WHERE connection_id = '%s'", conn_id);
    if (sb_api_harness_sql(w->h, q, secret, sizeof secret) != 1)
        return -1;
    snprintf(path, sizeof path, "/api/v1/projects/%s/secret-bindings", proj);
    snprintf(body, sizeof body,
             "{\"catalog_secret_id\":\"%s\",\"environment_id\":\"%s\","
             "\"allowed_keys\":[\"user\",\"password\"],\"allowed_ops\":[\"read\",\"patch\"]}",
             secret, env);
    if (post_id(w, path, body, 201, w->binding) != 0)
        return -1;
    if (user(w, "bench-dev", "developer", proj, w->requester) != 0)
        return -1;
    int approvers = w->approvers > 0 && w->approvers < N_APPROVERS ? w->approvers : N_APPROVERS;
    for (int i = 0; i < approvers; i++) {
        char name[32];
        snprintf(name, sizeof name, "bench-ap%d", i + 1);
        if (user(w, name, "approver", proj, w->approver[i]) != 0)
            return -1;
    }
    return 0;
}

void bench_percentiles(double *v, size_t n, double *p50, double *p99)
{
    qsort(v, n, sizeof(double), bench_cmp_double);
    *p50 = n ? v[(size_t)((double)n * 0.50)] * 1000 : 0;
    *p99 = n ? v[(size_t)((double)n * 0.99)] * 1000 : 0;
}

int bench_world_enrollment_token(bench_world *w, char *token, size_t cap)
{
    sb_api_response r;
    char path[256];
    snprintf(path, sizeof path, "/api/v1/provider-connections/%s/agent-enrollment-tokens",
             w->connection);
    if (sb_api_call(w->h, "POST", path, "{}", w->admin, NULL, &r) != 201)
        return fprintf(stderr, "mint: %s\n", r.body), sb_api_response_free(&r), -1;
    snprintf(token, cap, "%s", json_string_value(json_object_get(r.json, "token")));
    sb_api_response_free(&r);
    return 0;
}

int bench_world_enroll_agent(bench_world *w, const char *name, char *id, char *cred,
                             size_t cred_cap)
{
    sb_api_response r;
    char body[512], token[128];
    if (bench_world_enrollment_token(w, token, sizeof token) != 0)
        return -1;
    unsigned char pk[32], sk[32];
    char pk64[64];
    crypto_box_keypair(pk, sk);
    sodium_bin2base64(pk64, sizeof pk64, pk, sizeof pk, sodium_base64_VARIANT_ORIGINAL);
    snprintf(body, sizeof body,
             "{\"connection\":\"vault-bench\",\"name\":\"%s\",\"public_key\":\"%s\"}", name, pk64);
    if (sb_api_call(w->h, "POST", "/api/v1/agents/enroll", body, NULL, token, &r) != 201)
        return fprintf(stderr, "enroll: %s\n", r.body), sb_api_response_free(&r), -1;
    snprintf(id, 40, "%s", json_string_value(json_object_get(r.json, "agent_id")));
    snprintf(cred, cred_cap, "%s", json_string_value(json_object_get(r.json, "credential")));
    sb_api_response_free(&r);
    return 0;
}

long bench_status_kb(int pid, const char *field)
{
    char path[64], line[256];
    if (pid > 0)
        snprintf(path, sizeof path, "/proc/%d/status", pid);
    else
        snprintf(path, sizeof path, "/proc/self/status");
    FILE *f = fopen(path, "r");
    long kb = -1;
    size_t n = strlen(field);
    while (f && fgets(line, sizeof line, f))
        if (strncmp(line, field, n) == 0 && line[n] == ':')
            kb = atol(line + n + 1);
    if (f)
        fclose(f);
    return kb;
}

int bench_world_pg_log(sb_api_harness *h, char *out, size_t cap)
{
    char *msg = NULL, run_dir[256] = "";
    PQconninfoOption *opts = PQconninfoParse(sb_api_harness_conninfo(h), &msg);
    if (opts == NULL) {
        PQfreemem(msg);
        return -1;
    }
    for (PQconninfoOption *o = opts; o->keyword; o++)
        if (o->val && strcmp(o->keyword, "host") == 0)
            snprintf(run_dir, sizeof run_dir, "%s", o->val);
    PQconninfoFree(opts);
    char *slash = strrchr(run_dir, '/');
    if (slash == NULL)
        return -1;
    *slash = '\0';
    snprintf(out, cap, "%s/postgres.log", run_dir);
    return 0;
}

long bench_timed_get(sb_api_harness *h, const char *path, const char *cookie, double *s)
{
    sb_api_response r;
    double t0 = bench_now_s();
    long st = sb_api_call(h, "GET", path, NULL, cookie, NULL, &r);
    *s = bench_now_s() - t0;
    if (st != 200)
        fprintf(stderr, "GET %s -> %ld %s\n", path, st, r.body ? r.body : "");
    sb_api_response_free(&r);
    return st;
}
