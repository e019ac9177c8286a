/*
 * bench/growth.c — SPEC §19: cost grows no worse than linearly with catalog
 * size and requests, and no hot-path query scans a table that grows without
 * bound.
 *
 *   build/gcc/bench/bench_growth [max catalog rows, default 1000000]
 *                                [max open requests, default 10000] [calls per figure, default 30]
 *   BENCH_SEQSCAN_OFF=1: plan the checked statements with enable_seqscan = off
 *   (a small database, where a Seq Scan is otherwise the planner's right choice)
 *
 * One real control plane (bench/bench_world.h). Step by step the catalog
 * grows 1k → 10k → 100k → 1M rows (one binding per 100 of them) and the
 * open requests 10 → 100 → 1k → 10k (pending reads of the requester, in the
 * approvers' queue), seeded by SQL and ANALYZEd; at each step every hot path
 * is called one at a time through the API (p50 and p99): the catalog page
 * and its searches, one catalog row, the bindings page, the requester's
 * requests, the approver's queue and the cross-team inbox, a create+approve
 * cycle, and an agent's claim of the job it made. At the largest step the
 * hot paths run again through a peer control plane with auto_explain on
 * (bench/plan_check.h): their plans are printed, and a Seq Scan of an
 * unbounded table in any of them fails the benchmark (exit status 1).
 */
#include <jansson.h>
#include <libpq-fe.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_world.h"
#include "plan_check.h"

#define MAX_STEPS 8
#define PLAN_CALLS 7 /* past the 5 custom plans of a prepared statement: its generic plan too */

typedef struct growth {
    bench_world w;
    PGconn *owner;
    char project[40], environment[40], secret[40], template_request[40];
    char agent[40], agent_cred[200];
    long catalog, requests; /* seeded so far (bench rows only) */
} growth;

enum { P_PAGE, P_PREFIX, P_LABEL, P_ROW, P_BINDINGS, P_MINE, P_QUEUE, P_INBOX, P_CYCLE, P_CLAIM, N_PATHS };
static const char *const path_names[N_PATHS] = {
    "GET /secrets page (developer, 50 rows)", "GET /secrets?ref_prefix= (100 matches)",
    "GET /secrets?label= (1 match)",          "GET /secrets/{id}",
    "GET /projects/{id}/secret-bindings page", "GET /requests (own, page of 50)",
    "GET /requests/queue (approver, page of 50)", "GET /requests/inbox (admin)",
    "create+approve cycle (2 POSTs)",         "agent claim of the approved job (wait=0)"};

static int sql(PGconn *c, const char *q, int n, const char *const *params)
{
    PGresult *r = PQexecParams(c, q, n, NULL, params, NULL, NULL, 0);
    int ok = PQresultStatus(r) == PGRES_COMMAND_OK || PQresultStatus(r) == PGRES_TUPLES_OK;
    if (!ok)
        fprintf(stderr, "seed: %s: %s", q, PQerrorMessage(c));
    PQclear(r);
    return ok ? 0 : -1;
}

/* Catalog rows bench/s<n> (labels team: t<n % 100>, owner: o<n>) up to `to`,
 * one secret binding per 100 of them. */
static int seed_catalog(growth *g, long to)
{
    char from_s[24], to_s[24];
    snprintf(from_s, sizeof from_s, "%ld", g->catalog + 1);
    snprintf(to_s, sizeof to_s, "%ld", to);
    const char *p[] = {g->w.connection, from_s, to_s};
    const char *pb[] = {g->w.connection, from_s, to_s, g->project, g->environment};
    if (sql(g->owner,
            "INSERT INTO catalog_secrets (connection_id, secret_ref, labels)"
            " SELECT $1::uuid, 'bench/s' || lpad(n::text, 7, '0'),"
            "        jsonb_build_object('team', 't' || (n % 100), 'owner', 'o' || n)"
            "   FROM generate_series($2::bigint, $3::bigint) n",
            3, p) != 0 ||
        sql(g->owner,
            "INSERT INTO secret_bindings (catalog_secret_id, project_id, environment_id,"
            "   allowed_keys, allowed_ops)"
            " SELECT c.id, $4::uuid, $5::uuid, '{user}', '{read}'"
            "   FROM generate_series($2::bigint, $3::bigint) n JOIN catalog_secrets c"
            "     ON c.connection_id = $1::uuid AND c.secret_ref = 'bench/s' || lpad(n::text, 7, '0')"
            "  WHERE n % 100 = 0",
            5, pb) != 0)
        return -1;
    g->catalog = to;
    return 0;
}

/* Copies of the template pending read up to `to` open requests. */
static int seed_requests(growth *g, long to)
{
    char n_s[24];
    snprintf(n_s, sizeof n_s, "%ld", to - g->requests);
    const char *p[] = {g->template_request, n_s};
    if (to > g->requests &&
        sql(g->owner,
            "INSERT INTO requests SELECT (jsonb_populate_record(NULL::requests, to_jsonb(r)"
            "   || jsonb_build_object('id', gen_random_uuid(), 'created_at',"
            "        now() - make_interval(secs => n / 1000.0), 'updated_at', now()))).*"
            "   FROM requests r, generate_series(1, $2::bigint) n WHERE r.id = $1::uuid",
            2, p) != 0)
        return -1;
    g->requests = to > g->requests ? to : g->requests;
    return 0;
}

static int submit(sb_api_harness *h, growth *g, char *id)
{
    sb_api_response r;
    char body[256];
    snprintf(body, sizeof body,
             "{\"kind\":\"read\",\"binding_id\":\"%s\",\"keys\":[\"user\"],\"justification\":\"bench\"}",
             g->w.binding);
    long st = sb_api_call(h, "POST", "/api/v1/requests", body, g->w.requester, NULL, &r);
    if (st == 201)
        snprintf(id, 40, "%s", json_string_value(json_object_get(r.json, "id")));
    else
        fprintf(stderr, "submit -> %ld %s\n", st, r.body ? r.body : "");
    sb_api_response_free(&r);
    return st == 201 ? 0 : -1;
}

/* A create+approve cycle, then the agent claims its job (wait=0) and
 * completes it failed_permanent: the two times. 0 or -1. */
static int cycle_and_claim(sb_api_harness *h, growth *g, double *cycle_s, double *claim_s)
{
    char id[40], path[200];
    sb_api_response r;
    double t0 = bench_now_s();
    if (submit(h, g, id) != 0)
        return -1;
    snprintf(path, sizeof path, "/api/v1/requests/%s/approve", id);
    long st = sb_api_call(h, "POST", path, "{}", g->w.approver[0], NULL, &r);
    *cycle_s = bench_now_s() - t0;
    sb_api_response_free(&r);
    if (st != 200)
        return fprintf(stderr, "approve -> %ld\n", st), -1;
    snprintf(path, sizeof path, "/api/v1/agents/%s/jobs/claim?wait=0", g->agent);
    t0 = bench_now_s();
    st = sb_api_call(h, "POST", path, "{}", NULL, g->agent_cred, &r);
    *claim_s = bench_now_s() - t0;
    char job[40] = "";
    if (st == 200)
        snprintf(job, sizeof job, "%s", json_string_value(json_object_get(r.json, "id")));
    sb_api_response_free(&r);
    if (st != 200)
        return fprintf(stderr, "claim -> %ld (no job)\n", st), -1;
    snprintf(path, sizeof path, "/api/v1/agents/%s/jobs/%s/complete", g->agent, job);
    st = sb_api_call(h, "POST", path, "{\"outcome\":\"failed_permanent\",\"error\":\"bench\"}", NULL,
                     g->agent_cred, &r);
    sb_api_response_free(&r);
    return st == 200 ? 0 : (fprintf(stderr, "complete -> %ld\n", st), -1);
}

/* One call of hot path i (the cycle and the claim come together: i ==
 * P_CYCLE fills both). 0 or -1. */
static int call_path(sb_api_harness *h, growth *g, int i, double *s, double *claim_s)
{
    char path[256];
    const char *cookie = g->w.requester;
    switch (i) {
    case P_PAGE: snprintf(path, sizeof path, "/api/v1/secrets?limit=50"); break;
    case P_PREFIX: snprintf(path, sizeof path, "/api/v1/secrets?ref_prefix=bench/s00005&limit=50"); break;
    case P_LABEL: snprintf(path, sizeof path, "/api/v1/secrets?label=owner:o500&limit=50"); break;
    case P_ROW: snprintf(path, sizeof path, "/api/v1/secrets/%s", g->secret); break;
    case P_BINDINGS:
        snprintf(path, sizeof path, "/api/v1/projects/%s/secret-bindings?limit=50", g->project);
        cookie = g->w.admin;
        break;
    case P_MINE: snprintf(path, sizeof path, "/api/v1/requests?limit=50"); break;
    case P_QUEUE:
        snprintf(path, sizeof path, "/api/v1/requests/queue?limit=50");
        cookie = g->w.approver[1];
        break;
    case P_INBOX: /* needs secret.value.provide: the admin's */
        snprintf(path, sizeof path, "/api/v1/requests/inbox?limit=50");
        cookie = g->w.admin;
        break;
    default: return cycle_and_claim(h, g, s, claim_s);
    }
    return bench_timed_get(h, path, cookie, s) == 200 ? 0 : -1;
}

/* calls of every hot path through h; p50/p99 (ms) into row[path][0..1]. */
static int measure(sb_api_harness *h, growth *g, int calls, double row[N_PATHS][2])
{
    double *v = calloc((size_t)calls, sizeof(double)), *claim = calloc((size_t)calls, sizeof(double));
    int rc = 0;
    for (int i = 0; i < P_CLAIM && rc == 0; i++) {
        for (int k = 0; k < calls && rc == 0; k++)
            rc = call_path(h, g, i, &v[k], &claim[k]);
        bench_percentiles(v, (size_t)calls, &row[i][0], &row[i][1]);
        if (i == P_CYCLE)
            bench_percentiles(claim, (size_t)calls, &row[P_CLAIM][0], &row[P_CLAIM][1]);
    }
    free(v);
    free(claim);
    return rc;
}

/* The hot paths once more through a peer control plane with auto_explain
 * on; prints the plans. The number of Seq Scans of unbounded tables, -1 on
 * an error. */
static int plans(growth *g)
{
    bench_plans *p = bench_plans_begin(g->w.h, getenv("BENCH_SEQSCAN_OFF") != NULL);
    sb_api_harness *peer = NULL;
    if (p == NULL || sb_api_harness_start_peer(g->w.h, &peer) != 0)
        return -1;
    int rc = 0;
    double s, claim;
    for (int i = 0; i < P_CLAIM && rc == 0; i++) {
        bench_plans_mark(p, path_names[i]);
        for (int k = 0; k < PLAN_CALLS && rc == 0; k++)
            rc = call_path(peer, g, i, &s, &claim);
    }
    sb_api_harness_stop(peer);
    int scans = bench_plans_end(p, stdout);
    return rc != 0 ? -1 : scans;
}

static int setup(growth *g)
{
    g->w.approvers = 2; /* one approves the cycles, one reads the queue */
    if (sb_api_harness_start(&g->w.h) != 0 || bench_world_build(&g->w) != 0)
        return -1;
    g->owner = PQconnectdb(sb_api_harness_conninfo(g->w.h));
    char q[300];
    snprintf(q, sizeof q,
             "SELECT project_id::text || ' ' || environment_id::text || ' ' || catalog_secret_id::text"
             " FROM secret_bindings WHERE id = '%s'",
             g->w.binding);
    char row[160];
    if (PQstatus(g->owner) != CONNECTION_OK || sb_api_harness_sql(g->w.h, q, row, sizeof row) != 1 ||
        sscanf(row, "%39s %39s %39s", g->project, g->environment, g->secret) != 3 ||
        submit(g->w.h, g, g->template_request) != 0 ||
        bench_world_enroll_agent(&g->w, "bench-growth", g->agent, g->agent_cred,
                                 sizeof g->agent_cred) != 0)
        return -1;
    g->requests = 1;
    return 0;
}

/* 1k, 10k, … (first, ×10) up to max: the list's length. */
static int sizes(long first, long max, long *out)
{
    int n = 0;
    for (long s = first < max ? first : max; s <= max && n < MAX_STEPS; s *= 10)
        out[n++] = s;
    return n;
}

int main(int argc, char **argv)
{
    long max_catalog = argc > 1 ? atol(argv[1]) : 1000000, max_open = argc > 2 ? atol(argv[2]) : 10000;
    int calls = argc > 3 ? atoi(argv[3]) : 30;
    if (max_catalog < 1 || max_open < 1 || calls < 1)
        return fprintf(stderr, "usage: %s [max catalog rows] [max open requests] [calls]\n", argv[0]), 2;
    if (sodium_init() < 0)
        return 1;
    growth g = {0};
    if (setup(&g) != 0)
        return fprintf(stderr, "setup failed\n"), 1;
    long cat[MAX_STEPS], open[MAX_STEPS];
    int nc = sizes(1000, max_catalog, cat), no = sizes(10, max_open, open);
    int steps = nc > no ? nc : no;
    static double fig[MAX_STEPS][N_PATHS][2];
    double seed_s[MAX_STEPS];
    int rc = 0;
    for (int s = 0; s < steps && rc == 0; s++) {
        double t0 = bench_now_s();
        rc = seed_catalog(&g, cat[s < nc ? s : nc - 1]) || seed_requests(&g, open[s < no ? s : no - 1]) ||
             sql(g.owner, "ANALYZE", 0, NULL);
        seed_s[s] = bench_now_s() - t0;
        if (rc == 0)
            rc = measure(g.w.h, &g, calls, fig[s]);
        fprintf(stderr, "step %d: %ld catalog rows, %ld open requests, seeded in %.1f s\n", s + 1,
                g.catalog, g.requests, seed_s[s]);
    }
    if (rc != 0) {
        PQfinish(g.owner);
        sb_api_harness_stop(g.w.h);
        return fprintf(stderr, "a hot path failed (above)\n"), 1;
    }
    printf("| hot path (p50 / p99 ms, %d calls) |", calls);
    for (int s = 0; s < steps; s++)
        printf(" %ld rows, %ld open |", cat[s < nc ? s : nc - 1], open[s < no ? s : no - 1]);
    printf(" last / first (p50) |\n|---|");
    for (int s = 0; s <= steps; s++)
        printf("---|");
    printf("\n");
    for (int i = 0; i < N_PATHS; i++) {
        printf("| %s |", path_names[i]);
        for (int s = 0; s < steps; s++)
            printf(" %.1f / %.1f |", fig[s][i][0], fig[s][i][1]);
        printf(" %.1f× |\n", fig[0][i][0] > 0 ? fig[steps - 1][i][0] / fig[0][i][0] : 0);
    }
    printf("| (seeding the step by SQL, then ANALYZE) |");
    for (int s = 0; s < steps; s++)
        printf(" %.1f s |", seed_s[s]);
    printf(" |\n");
    int scans = plans(&g);
    PQfinish(g.owner);
    sb_api_harness_stop(g.w.h);
    if (scans != 0)
        fprintf(stderr, scans < 0 ? "the plans could not be collected\n"
                                  : "%d Seq Scans of unbounded tables on hot paths (above)\n",
                scans);
    return scans == 0 ? 0 : 1;
}
