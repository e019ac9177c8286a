/*
 * bench/discovery_ingest.c — SPEC §19: discovery of 100,000 secrets into
 * the catalog < 10 s; the control plane's share of it.
 *
 *   build/gcc/bench/bench_discovery [items per discovery …, default 10000 100000]
 *
 * One real control plane (bench/bench_world.h). For each size an admin
 * queues a discover job on the world's Vault connection (POST
 * /provider-connections/{id}/discover-jobs), an enrolled agent claims it
 * and uploads the catalog in chunks of 1,000 items through the real route
 * (POST /agents/{id}/jobs/{job}/discovery: path, version, native labels,
 * source timestamps), renewing its lease on the way, and completes it; the
 * largest size is then discovered a second time (every item known: the
 * refresh every later scan makes). Timed: from the queueing to the
 * completion (the API calls only). The baseline, interleaved chunk by chunk
 * (so noise hits both): the same chunk written straight through the
 * catalog store's upsert (store/catalog_store.h, one statement on a pooled
 * connection, no HTTP, no checks, no audit) under another name — the
 * database's own rate for this write. The plugin's listing of the provider is not included
 * (measured by the plugin HTTP client benchmark and the Vault plugin's
 * own). Server RSS: the process's VmRSS before and after, and the most
 * seen after any chunk (the client's share of this process is one chunk's
 * buffer, ≈ 150 KB).
 */
#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_world.h"
#include "store/catalog_store.h"

#define CHUNK 1000

typedef struct run {
    double seconds, store_seconds;
    long rss_before, rss_after, rss_max; /* kB */
} run;

static long agent_post(bench_world *w, const char *agent, const char *cred, const char *suffix,
                       const char *body, sb_api_response *r)
{
    char path[256];
    snprintf(path, sizeof path, "/api/v1/agents/%s%s", agent, suffix);
    return sb_api_call(w->h, "POST", path, body, NULL, cred, r);
}

/* Items [from, to) of discovery `tag` (caller frees): the upload route's
 * chunk body, or (store_shape) the same items in the catalog store's batch
 * shape. */
static char *chunk(const char *tag, long from, long to, int store_shape)
{
    size_t cap = (size_t)(to - from) * 220 + 64, n = 0;
    char *b = malloc(cap);
    n += (size_t)snprintf(b + n, cap - n, "%s", store_shape ? "[" : "{\"items\":[");
    for (long i = from; i < to; i++)
        n += (size_t)snprintf(
            b + n, cap - n,
            store_shape ? "%s{\"secret_ref\":\"%s/team-%ld/svc-%07ld\",\"version\":\"3\","
                          "\"labels\":{\"team\":\"t%ld\",\"env\":\"prod\",\"owner\":\"svc %ld\"},"
                          "\"created_at\":\"2025-11-24T16:00:00.000Z\","
                          "\"updated_at\":\"2025-12-06T05:46:40.000Z\"}"
                        : "%s{\"path\":\"%s/team-%ld/svc-%07ld\",\"version\":\"3\","
                          "\"labels\":{\"team\":\"t%ld\",\"env\":\"prod\",\"owner\":\"svc %ld\"},"
                          "\"created_at_ms\":1764000000000,\"updated_at_ms\":1765000000000}",
            i > from ? "," : "", tag, i % 50, i, i % 50, i);
    snprintf(b + n, cap - n, "%s", store_shape ? "]" : "]}");
    return b;
}

/* The baseline: items [from, to) under `tag` straight through the store; seconds, or -1. */
static double store_upsert(bench_world *w, const char *tag, long from, long to)
{
    char *items = chunk(tag, from, to, 1);
    sb_db_conn *conn;
    sb_error err = {0};
    int64_t n = 0;
    double t0 = bench_now_s();
    int rc = sb_db_acquire(sb_api_harness_db(w->h), -1, &conn, &err);
    if (rc == 0) {
        rc = sb_catalog_store_upsert_batch(conn, w->connection, items, false, &n, &err);
        sb_db_release(sb_api_harness_db(w->h), conn);
    }
    double s = bench_now_s() - t0;
    free(items);
    if (rc != 0 || n != to - from)
        return fprintf(stderr, "store upsert: %s\n", err.message), -1;
    return s;
}

/* One discovery of `items` items named under tag, each chunk followed by
 * the same chunk through the store under base_tag. 0 or -1. */
static int discover(bench_world *w, const char *agent, const char *cred, const char *tag,
                    const char *base_tag, long items, run *out)
{
    sb_api_response r;
    char path[256], job[40], suffix[128];
    out->rss_before = out->rss_max = bench_status_kb(0, "VmRSS");
    double t0 = bench_now_s(), renewed = t0;
    snprintf(path, sizeof path, "/api/v1/provider-connections/%s/discover-jobs", w->connection);
    long st = sb_api_call(w->h, "POST", path, "{}", w->admin, NULL, &r);
    sb_api_response_free(&r);
    if (st != 201)
        return fprintf(stderr, "discover-jobs -> %ld\n", st), -1;
    st = agent_post(w, agent, cred, "/jobs/claim?wait=5s", "{}", &r);
    snprintf(job, sizeof job, "%s", st == 200 ? json_string_value(json_object_get(r.json, "id")) : "");
    sb_api_response_free(&r);
    if (st != 200)
        return fprintf(stderr, "claim -> %ld\n", st), -1;
    out->store_seconds = 0;
    double paused = 0; /* the baseline's time, taken out of ours */
    for (long from = 0; from < items; from += CHUNK) {
        long to = from + CHUNK < items ? from + CHUNK : items;
        char *body = chunk(tag, from, to, 0);
        snprintf(suffix, sizeof suffix, "/jobs/%s/discovery", job);
        st = agent_post(w, agent, cred, suffix, body, &r);
        free(body);
        double b = store_upsert(w, base_tag, from, to);
        if (b < 0)
            return sb_api_response_free(&r), -1;
        out->store_seconds += b;
        paused += b;
        if (st != 200) {
            fprintf(stderr, "upload at item %ld -> %ld %s\n", from, st, r.body ? r.body : "");
            sb_api_response_free(&r);
            return -1;
        }
        sb_api_response_free(&r);
        long rss = bench_status_kb(0, "VmRSS");
        out->rss_max = rss > out->rss_max ? rss : out->rss_max;
        if (bench_now_s() - renewed > 10) { /* the lease is 30 s */
            snprintf(suffix, sizeof suffix, "/jobs/%s/renew", job);
            st = agent_post(w, agent, cred, suffix, "{}", &r);
            sb_api_response_free(&r);
            if (st != 200)
                return fprintf(stderr, "renew -> %ld\n", st), -1;
            renewed = bench_now_s();
        }
    }
    snprintf(suffix, sizeof suffix, "/jobs/%s/complete", job);
    st = agent_post(w, agent, cred, suffix, "{\"outcome\":\"succeeded\"}", &r);
    sb_api_response_free(&r);
    out->seconds = bench_now_s() - t0 - paused;
    out->rss_after = bench_status_kb(0, "VmRSS");
    if (st != 200)
        return fprintf(stderr, "complete -> %ld\n", st), -1;
    char q[300], count[32];
    snprintf(q, sizeof q,
             "SELECT count(*) FROM catalog_secrets WHERE connection_id = '%s' AND secret_ref LIKE '%s/%%'",
             w->connection, tag);
    if (sb_api_harness_sql(w->h, q, count, sizeof count) != 1 || atol(count) != items)
        return fprintf(stderr, "the catalog holds %s rows of %s, not %ld\n", count, tag, items), -1;
    return 0;
}

static void row(const char *what, long items, const run *r)
{
    printf("| %s | %ld | %.2f s, %.0f rows/s | %.2f s, %.0f rows/s | %.0f%% | %.1f → %.1f MB (at most %.1f) "
           "| %s |\n",
           what, items, r->seconds, (double)items / r->seconds, r->store_seconds,
           (double)items / r->store_seconds, 100 * r->store_seconds / r->seconds,
           r->rss_before / 1024.0, r->rss_after / 1024.0, r->rss_max / 1024.0,
           items >= 100000 ? "< 10 s (whole discovery)" : "");
}

int main(int argc, char **argv)
{
    long sizes[8] = {10000, 100000};
    int n = 2;
    if (argc > 1)
        for (n = 0; n < argc - 1 && n < 8; n++)
            if ((sizes[n] = atol(argv[n + 1])) < 1)
                return fprintf(stderr, "usage: %s [items per discovery …]\n", argv[0]), 2;
    if (sodium_init() < 0)
        return 1;
    bench_world w = {.approvers = 1};
    char agent[40], cred[200];
    if (sb_api_harness_start(&w.h) != 0 || bench_world_build(&w) != 0 ||
        bench_world_enroll_agent(&w, "bench-discovery", agent, cred, sizeof cred) != 0)
        return fprintf(stderr, "setup failed\n"), 1;
    printf("| discovery upload (chunks of %d, one agent) | items | ours: the upload route | "
           "baseline: the store's upsert alone (interleaved) | ratio | server RSS | target |\n"
           "|---|---|---|---|---|---|---|\n", CHUNK);
    int rc = 0;
    long largest = 0;
    char tag[32], base[32], what[64];
    for (int i = 0; i < n && rc == 0; i++) {
        run r;
        snprintf(tag, sizeof tag, "d%d", i);
        snprintf(base, sizeof base, "b%d", i);
        largest = sizes[i] > largest ? sizes[i] : largest;
        if ((rc = discover(&w, agent, cred, tag, base, sizes[i], &r)) == 0)
            row("new secrets", sizes[i], &r);
    }
    for (int i = 0; i < n && rc == 0; i++)
        if (sizes[i] == largest) { /* the same scan again: every item known */
            run r;
            snprintf(tag, sizeof tag, "d%d", i);
            snprintf(base, sizeof base, "b%d", i);
            snprintf(what, sizeof what, "the same %ld again (refresh)", largest);
            if ((rc = discover(&w, agent, cred, tag, base, largest, &r)) == 0)
                row(what, largest, &r);
            break;
        }
    sb_api_harness_stop(w.h);
    return rc == 0 ? 0 : 1;
}
