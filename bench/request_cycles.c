/*
 * bench/request_cycles.c — SPEC §19: request create+approve cycles at
 * >= 30% of `pgbench -N` TPS measured in the same run; p99 under 10 ms at
 * half that load.
 *
 *   build/gcc/bench/bench_request_cycles [seconds per phase, default 5] [client threads, default 4]
 *
 * One real control plane (tests/support/api_harness.h) on its private
 * PostgreSQL cluster, HTTP on loopback. The world is the one of
 * tests/integration/request_test_util.h, reduced to what a read request
 * needs: a team, a project, a non_prod environment, a Vault connection bound
 * to the project, one catalog secret, a secret binding (keys user,
 * password; ops read, patch), a requester (developer) and approvers, all
 * signed in.
 *
 * One cycle = POST /api/v1/requests (read of key "user", 201 pending) by the
 * requester, then POST /api/v1/requests/{id}/approve (200 approved) by an
 * approver (the default workflow: one approver, no self-approval). Every
 * status and state is checked; any error fails the run (exit 1).
 *
 * Phases 1 and 2, interleaved in 1 s slices (pgbench, ours, pgbench, …) so
 *          the noise of a shared machine hits both:
 *          the machine limit: `pgbench -N` (simple-update TPC-B without the
 *          contended branch/teller updates) on the same cluster, into a
 *          database of its own (scale 1), same client count; and cycles/s
 *          with N keep-alive client threads (one libcurl handle each),
 *          unpaced; ratio to the pgbench TPS.
 * Phase 3: the same clients paced (open loop, a fixed schedule per thread)
 *          at 50% of the phase-2 rate; p50/p99 of the cycle and of submit
 *          and approve separately. Latencies are counted from the scheduled
 *          start of the cycle, so a client that falls behind is not hidden
 *          (no coordinated omission).
 * Then a diagnostic: 20 cycles one at a time with log_statement=all, and
 * the number of SQL statements (BEGIN/COMMIT included) each call made —
 * not its round trips: a deferred BEGIN and deferred writes travel with
 * the next statement (store/db.h); BENCH_SHOW_SQL=1 prints the first
 * cycle's statements to stderr.
 * Prints a markdown table; the server's access log goes to stderr.
 */
#include <curl/curl.h>
#include <jansson.h>
#include <libpq-fe.h>
#include <glob.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench_world.h"

#define MAX_THREADS 64

typedef bench_world world;

#define now_s bench_now_s
#define sleep_until bench_sleep_until
#define build_world bench_world_build
#define percentiles bench_percentiles

/* ---- phase 1: pgbench -N on the same cluster --------------------------------------- */

/* The pgbench of the newest PostgreSQL major installed (the embedded
 * cluster's own choice when pg_config is absent). */
static int pgbench_path(char *out, size_t cap)
{
    glob_t g;
    if (glob("/usr/lib/postgresql/*/bin/pgbench", 0, NULL, &g) != 0 || g.gl_pathc == 0)
        return -1;
    size_t best = 0;
    for (size_t i = 1; i < g.gl_pathc; i++) /* numerically: 15 after 9.6 */
        if (atof(g.gl_pathv[i] + strlen("/usr/lib/postgresql/")) >
            atof(g.gl_pathv[best] + strlen("/usr/lib/postgresql/")))
            best = i;
    snprintf(out, cap, "%s", g.gl_pathv[best]);
    globfree(&g);
    return 0;
}

/* Runs one shell command; copies the "tps = " figure when tps is given.
 * On failure the command's output is copied to stderr. */
static int run_cmd(const char *cmd, double *tps)
{
    FILE *f = popen(cmd, "r");
    if (f == NULL)
        return -1;
    char line[512], out[4096] = "";
    size_t n = 0;
    int found = 0;
    while (fgets(line, sizeof line, f)) {
        if (tps && strncmp(line, "tps = ", 6) == 0 && !found) {
            *tps = atof(line + 6);
            found = 1;
        }
        if (n + strlen(line) < sizeof out)
            n += (size_t)snprintf(out + n, sizeof out - n, "%s", line);
    }
    int st = pclose(f);
    int ok = st == 0 && (tps == NULL || found);
    if (!ok)
        fprintf(stderr, "%s\n%s", cmd, out);
    return ok ? 0 : -1;
}

/* pgbench -i -s 1 into database "pgbench_bench" of the harness's cluster;
 * fills cmd_prefix with the pgbench command that runs against it. */
static int pgbench_setup(sb_api_harness *h, char *cmd_prefix, size_t cap)
{
    char bin[256];
    if (pgbench_path(bin, sizeof bin) != 0) {
        fprintf(stderr, "pgbench: not found under /usr/lib/postgresql/*/bin\n");
        return -1;
    }
    char *msg = NULL;
    PQconninfoOption *opts = PQconninfoParse(sb_api_harness_conninfo(h), &msg);
    if (opts == NULL) {
        fprintf(stderr, "pgbench: conninfo: %s\n", msg ? msg : "?");
        PQfreemem(msg);
        return -1;
    }
    char host[256] = "", port[16] = "5432", usr[64] = "";
    for (PQconninfoOption *o = opts; o->keyword; o++) {
        if (o->val == NULL)
            continue;
        if (strcmp(o->keyword, "host") == 0)
            snprintf(host, sizeof host, "%s", o->val);
        else if (strcmp(o->keyword, "port") == 0)
            snprintf(port, sizeof port, "%s", o->val);
        else if (strcmp(o->keyword, "user") == 0)
            snprintf(usr, sizeof usr, "%s", o->val);
    }
    PQconninfoFree(opts);
    PGconn *c = PQconnectdb(sb_api_harness_conninfo(h));
    PGresult *res = PQexec(c, "CREATE DATABASE pgbench_bench");
    int ok = PQresultStatus(res) == PGRES_COMMAND_OK;
    if (!ok)
        fprintf(stderr, "pgbench: CREATE DATABASE: %s", PQerrorMessage(c));
    PQclear(res);
    PQfinish(c);
    if (!ok)
        return -1;
    snprintf(cmd_prefix, cap, "'%s' -h '%s' -p %s -U '%s'", bin, host, port, usr);
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "%s -i -q -s 1 pgbench_bench 2>&1", cmd_prefix);
    if (run_cmd(cmd, NULL) != 0) {
        fprintf(stderr, "pgbench: initialisation failed\n");
        return -1;
    }
    return 0;
}

/* One slice of pgbench -N -c clients -j threads -T 1: its TPS. */
static int pgbench_slice(const char *cmd_prefix, int clients, int threads, double *tps)
{
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "%s -N -c %d -j %d -T 1 pgbench_bench 2>&1", cmd_prefix, clients,
             threads);
    if (run_cmd(cmd, tps) != 0) {
        fprintf(stderr, "pgbench: run failed\n");
        return -1;
    }
    return 0;
}

/* ---- phases 2 and 3: cycles over HTTP ----------------------------------------------- */

typedef struct buf {
    char *p;
    size_t n, cap;
} buf;

static size_t collect(char *d, size_t s, size_t n, void *u)
{
    buf *b = u;
    size_t len = s * n;
    if (b->n + len + 1 > b->cap) {
        size_t cap = (b->n + len + 1) * 2;
        char *p = realloc(b->p, cap);
        if (p == NULL)
            return 0;
        b->p = p, b->cap = cap;
    }
    memcpy(b->p + b->n, d, len);
    b->n += len;
    b->p[b->n] = '\0';
    return len;
}

typedef struct phase {
    const world *w;
    double seconds;
    double interval; /* per-thread seconds between cycle starts; 0: unpaced */
    atomic_long cycles;
    atomic_long errors;
    atomic_int reported;
    size_t cap; /* latencies per thread */
    double *cycle, *submit, *approve; /* per-thread slices of cap */
} phase;

typedef struct worker {
    phase *p;
    int index, nthreads;
    size_t n;
} worker;

/* One POST; status, and the response's state and id (may be NULL). */
static long post(CURL *c, buf *b, const char *url, const char *cookie, const char *body, char *state,
                 char *id)
{
    b->n = 0;
    if (b->p)
        b->p[0] = '\0';
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_COOKIE, cookie);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    long code = 0;
    if (curl_easy_perform(c) == CURLE_OK)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
    state[0] = '\0';
    json_t *j = b->p ? json_loads(b->p, 0, NULL) : NULL;
    const char *s = json_string_value(json_object_get(j, "state"));
    snprintf(state, 32, "%s", s ? s : "");
    if (id) {
        const char *v = json_string_value(json_object_get(j, "id"));
        snprintf(id, 40, "%s", v ? v : "");
    }
    json_decref(j);
    return code;
}

static void report_error(phase *p, const char *what, long code, const char *state, const buf *b)
{
    atomic_fetch_add(&p->errors, 1);
    if (atomic_fetch_add(&p->reported, 1) < 5)
        fprintf(stderr, "ERROR %s: HTTP %ld state \"%s\": %.300s\n", what, code, state,
                b->p ? b->p : "");
}

static void *run(void *arg)
{
    worker *wk = arg;
    phase *p = wk->p;
    const world *w = p->w;
    CURL *c = curl_easy_init();
    struct curl_slist *hdr = curl_slist_append(NULL, "Content-Type: application/json");
    buf b = {0};
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdr);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
    char req_cookie[300], ap_cookie[300], submit_url[256], approve_url[256], body[256];
    snprintf(req_cookie, sizeof req_cookie, "sb_session=%s", w->requester);
    snprintf(ap_cookie, sizeof ap_cookie, "sb_session=%s", w->approver[wk->index % N_APPROVERS]);
    snprintf(submit_url, sizeof submit_url, "%s/api/v1/requests", sb_api_harness_base_url(w->h));
    snprintf(body, sizeof body,
             "{\"kind\":\"read\",\"binding_id\":\"%s\",\"keys\":[\"user\"],\"justification\":\"bench\"}",
             w->binding);
    double start = now_s();
    /* paced threads start staggered over one interval */
    double next = start + (p->interval > 0 ? p->interval * wk->index / wk->nthreads : 0);
    double end = start + p->seconds;
    size_t base = (size_t)wk->index * p->cap;
    while (1) {
        double t0;
        if (p->interval > 0) {
            if (next >= end)
                break;
            sleep_until(next);
            t0 = next; /* latency from the scheduled start */
            next += p->interval;
        } else {
            t0 = now_s();
            if (t0 >= end)
                break;
        }
        char state[32], id[40];
        long code = post(c, &b, submit_url, req_cookie, body, state, id);
        double t1 = now_s();
        if (code != 201 || strcmp(state, "pending") != 0 || id[0] == '\0') {
            report_error(p, "submit", code, state, &b);
            continue;
        }
        snprintf(approve_url, sizeof approve_url, "%s/api/v1/requests/%s/approve",
                 sb_api_harness_base_url(w->h), id);
        code = post(c, &b, approve_url, ap_cookie, "{}", state, NULL);
        double t2 = now_s();
        if (code != 200 || strcmp(state, "approved") != 0) {
            report_error(p, "approve", code, state, &b);
            continue;
        }
        atomic_fetch_add(&p->cycles, 1);
        if (wk->n < p->cap) {
            p->cycle[base + wk->n] = t2 - t0;
            p->submit[base + wk->n] = t1 - t0;
            p->approve[base + wk->n] = t2 - t1;
            wk->n++;
        }
    }
    free(b.p);
    curl_slist_free_all(hdr);
    curl_easy_cleanup(c);
    return NULL;
}

typedef struct result {
    double rate; /* cycles/s */
    long cycles, errors;
    double p50[3], p99[3]; /* ms: cycle, submit, approve */
} result;

/* What one or more measured slices add up to. */
typedef struct samples {
    double *lat[3]; /* cycle, submit, approve (seconds) */
    size_t n, cap;
    long cycles, errors;
    double elapsed;
} samples;

static void measure_into(const world *w, double seconds, int threads, double rate, samples *acc)
{
    phase p = {.w = w, .seconds = seconds, .interval = rate > 0 ? threads / rate : 0, .cap = 1000000};
    p.cycle = calloc((size_t)threads * p.cap, sizeof(double));
    p.submit = calloc((size_t)threads * p.cap, sizeof(double));
    p.approve = calloc((size_t)threads * p.cap, sizeof(double));
    double *from[3] = {p.cycle, p.submit, p.approve};
    pthread_t t[MAX_THREADS];
    worker wk[MAX_THREADS];
    double t0 = now_s();
    for (int i = 0; i < threads; i++) {
        wk[i] = (worker){&p, i, threads, 0};
        pthread_create(&t[i], NULL, run, &wk[i]);
    }
    for (int i = 0; i < threads; i++) {
        pthread_join(t[i], NULL);
        if (acc->n + wk[i].n > acc->cap) {
            acc->cap = (acc->n + wk[i].n) * 2;
            for (int k = 0; k < 3; k++)
                acc->lat[k] = realloc(acc->lat[k], acc->cap * sizeof(double));
        }
        for (int k = 0; k < 3; k++)
            memcpy(acc->lat[k] + acc->n, from[k] + (size_t)i * p.cap, wk[i].n * sizeof(double));
        acc->n += wk[i].n;
    }
    acc->elapsed += now_s() - t0;
    acc->cycles += atomic_load(&p.cycles);
    acc->errors += atomic_load(&p.errors);
    free(p.cycle);
    free(p.submit);
    free(p.approve);
}

/* The figures of acc (whose samples it frees). */
static void summarise(samples *acc, result *out)
{
    out->cycles = acc->cycles;
    out->errors = acc->errors;
    out->rate = acc->elapsed > 0 ? (double)acc->cycles / acc->elapsed : 0;
    for (int k = 0; k < 3; k++) {
        percentiles(acc->lat[k], acc->n, &out->p50[k], &out->p99[k]);
        free(acc->lat[k]);
    }
    memset(acc, 0, sizeof *acc);
}

/* ---- diagnostics: SQL statements per submit and per approve -------------------------- */

static int sql(PGconn *c, const char *q)
{
    PGresult *res = PQexec(c, q);
    int ok = PQresultStatus(res) == PGRES_COMMAND_OK || PQresultStatus(res) == PGRES_TUPLES_OK;
    if (!ok)
        fprintf(stderr, "diagnostics: %s: %s", q, PQerrorMessage(c));
    PQclear(res);
    return ok ? 0 : -1;
}

/* Turns log_statement=all on for the cluster (ALTER SYSTEM + reload: every
 * pooled backend picks it up), runs n cycles one at a time with marker
 * statements between the calls, and counts the statements PostgreSQL logged
 * between the markers (each one a round trip: simple or extended protocol,
 * BEGIN and COMMIT included). The log is <state dir>/postgres.log, the state
 * dir being the parent of the socket directory. */
static int statements_per_call(const world *w, int n, double *per_submit, double *per_approve)
{
    char log_path[300];
    if (bench_world_pg_log(w->h, log_path, sizeof log_path) != 0)
        return -1;
    PGconn *c = PQconnectdb(sb_api_harness_conninfo(w->h));
    if (PQstatus(c) != CONNECTION_OK || sql(c, "ALTER SYSTEM SET log_statement = 'all'") != 0 ||
        sql(c, "SELECT pg_reload_conf()") != 0) {
        PQfinish(c);
        return -1;
    }
    struct timespec settle = {0, 300000000}; /* backends read the reload between statements */
    nanosleep(&settle, NULL);
    phase p = {.w = w, .seconds = 1e9, .cap = 0};
    CURL *h = curl_easy_init();
    struct curl_slist *hdr = curl_slist_append(NULL, "Content-Type: application/json");
    buf b = {0};
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdr);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &b);
    char req_cookie[300], ac[300], url[256], body[256], state[32], id[40];
    snprintf(req_cookie, sizeof req_cookie, "sb_session=%s", w->requester);
    snprintf(ac, sizeof ac, "sb_session=%s", w->approver[0]);
    snprintf(body, sizeof body,
             "{\"kind\":\"read\",\"binding_id\":\"%s\",\"keys\":[\"user\"],\"justification\":\"bench\"}",
             w->binding);
    int rc = 0;
    for (int i = 0; i < n && rc == 0; i++) {
        sql(c, "SELECT 'bench-marker-submit'");
        snprintf(url, sizeof url, "%s/api/v1/requests", sb_api_harness_base_url(w->h));
        if (post(h, &b, url, req_cookie, body, state, id) != 201) {
            report_error(&p, "diagnostic submit", 0, state, &b);
            rc = -1;
            break;
        }
        sql(c, "SELECT 'bench-marker-approve'");
        snprintf(url, sizeof url, "%s/api/v1/requests/%s/approve", sb_api_harness_base_url(w->h), id);
        if (post(h, &b, url, ac, "{}", state, NULL) != 200) {
            report_error(&p, "diagnostic approve", 0, state, &b);
            rc = -1;
        }
    }
    sql(c, "SELECT 'bench-marker-end'");
    sql(c, "ALTER SYSTEM RESET log_statement");
    sql(c, "SELECT pg_reload_conf()");
    PQfinish(c);
    free(b.p);
    curl_slist_free_all(hdr);
    curl_easy_cleanup(h);
    nanosleep(&settle, NULL);
    FILE *f = fopen(log_path, "r");
    if (f == NULL || rc != 0) {
        if (f)
            fclose(f);
        return -1;
    }
    char line[8192];
    long counts[2] = {0, 0};
    int in = -1, markers = 0; /* in: 0 submit, 1 approve */
    const char *show = getenv("BENCH_SHOW_SQL"); /* set: print the first cycle's statements */
    while (fgets(line, sizeof line, f)) {
        if (strstr(line, "bench-marker-")) {
            in = strstr(line, "bench-marker-submit") ? 0 : strstr(line, "bench-marker-approve") ? 1 : -1;
            markers++;
            if (show && markers <= 2)
                fprintf(stderr, "---- %s\n", in == 0 ? "submit" : "approve");
            continue;
        }
        if (in >= 0 && (strstr(line, "LOG:  statement: ") || strstr(line, "LOG:  execute "))) {
            counts[in]++;
            if (show && markers <= 2)
                fprintf(stderr, "%s", line);
        }
    }
    fclose(f);
    *per_submit = (double)counts[0] / n;
    *per_approve = (double)counts[1] / n;
    return 0;
}

int main(int argc, char **argv)
{
    double seconds = argc > 1 ? atof(argv[1]) : 5;
    int threads = argc > 2 ? atoi(argv[2]) : 4;
    if (threads < 1 || threads > MAX_THREADS || !(seconds > 0)) {
        fprintf(stderr, "usage: %s [seconds>0] [threads 1..%d]\n", argv[0], MAX_THREADS);
        return 2;
    }
    world w = {0};
    if (sb_api_harness_start(&w.h) != 0)
        return 1;
    if (build_world(&w) != 0) {
        fprintf(stderr, "setup failed\n");
        sb_api_harness_stop(w.h);
        return 1;
    }
    /* Phases 1 and 2, interleaved: 1 s slices of pgbench -N and of our
     * cycles at full speed, alternating, so the machine's noise hits both. */
    char pgprefix[600], pgcmd[128];
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    int pg_threads = cores > 0 && cores < threads ? (int)cores : threads; /* -j: a thread per core */
    if (pgbench_setup(w.h, pgprefix, sizeof pgprefix) != 0) {
        sb_api_harness_stop(w.h);
        return 1;
    }
    int slices = seconds >= 1 ? (int)(seconds + 0.5) : 1;
    double tps_sum = 0;
    samples acc = {0};
    for (int i = 0; i < slices; i++) {
        double tps = 0;
        if (pgbench_slice(pgprefix, threads, pg_threads, &tps) != 0 || tps <= 0) {
            sb_api_harness_stop(w.h);
            return 1;
        }
        tps_sum += tps;
        measure_into(&w, seconds / slices, threads, 0, &acc);
    }
    double tps = tps_sum / slices;
    snprintf(pgcmd, sizeof pgcmd, "pgbench -N -c %d -j %d, %d x 1 s", threads, pg_threads, slices);
    result full, half;
    summarise(&acc, &full);
    /* Phase 3: half of it, paced. */
    double target = full.rate / 2;
    if (full.errors == 0 && target > 0) {
        measure_into(&w, seconds, threads, target, &acc);
        summarise(&acc, &half);
    } else {
        memset(&half, 0, sizeof half);
    }
    printf("| benchmark | ours | machine limit (same run) | ratio | target |\n|---|---|---|---|---|\n");
    printf("| request create+approve cycles, %d clients | %.0f cycles/s (p50 %.1f ms, p99 %.1f ms) | "
           "`%s` %.0f TPS | %.0f%% | >= 30%% |\n",
           threads, full.rate, full.p50[0], full.p99[0], pgcmd, tps, 100 * full.rate / tps);
    printf("| cycle latency at half load (%.0f cycles/s paced, %.0f achieved) | p50 %.1f ms, p99 %.1f ms | | | p99 < 10 ms |\n",
           target, half.rate, half.p50[0], half.p99[0]);
    printf("| &nbsp;&nbsp;submit (POST /requests) at half load | p50 %.1f ms, p99 %.1f ms | | | |\n",
           half.p50[1], half.p99[1]);
    printf("| &nbsp;&nbsp;approve (POST /requests/{id}/approve) at half load | p50 %.1f ms, p99 %.1f ms | | | |\n",
           half.p50[2], half.p99[2]);
    double st_submit = 0, st_approve = 0;
    int diag = full.errors == 0 ? statements_per_call(&w, 20, &st_submit, &st_approve) : -1;
    if (diag == 0)
        printf("| SQL statements per call (not round trips), log_statement=all, 20 cycles | submit %.1f, approve %.1f, cycle %.1f | | | |\n",
               st_submit, st_approve, st_submit + st_approve);
    else
        printf("(SQL statement count unavailable: see stderr)\n");
    printf("\ncycles: full %ld, half %ld; errors: full %ld, half %ld\n", full.cycles, half.cycles,
           full.errors, half.errors);
    sb_api_harness_stop(w.h);
    if (full.errors || half.errors || full.cycles == 0 || half.cycles == 0) {
        printf("**FAILED**: %ld errors at full load, %ld at half load (details on stderr)\n", full.errors,
               half.errors);
        fprintf(stderr, "FAILED: %ld errors at full load, %ld at half load\n", full.errors, half.errors);
        return 1;
    }
    return 0;
}
