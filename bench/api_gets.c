/*
 * bench/api_gets.c — SPEC §19: authenticated, RBAC-checked GETs against
 * the rate of a trivial libmicrohttpd handler measured in the same run.
 *
 *   build/gcc/bench/bench_api_gets [seconds per phase, default 5] [client threads, default 4]
 *
 * Both servers are this repository's HTTP layer on loopback; the trivial
 * one answers a PUBLIC route with {} and touches nothing else. The API
 * phase calls GET /api/v1/teams with a session cookie: session lookup +
 * idle slide, grants + tenancy, RBAC filter, one page of teams from
 * PostgreSQL. Clients use keep-alive libcurl handles. Prints a table.
 */
#include <curl/curl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api_harness.h"
#include "http/server.h"

typedef struct phase {
    const char *url;
    const char *cookie;
    double seconds;
    atomic_long done;
    atomic_long failed;
    double *latencies; /* per thread slices */
    size_t per_thread_cap;
} phase;

typedef struct worker {
    phase *p;
    int index;
    size_t n_lat;
} worker;

static size_t discard(char *d, size_t s, size_t n, void *u)
{
    (void)d, (void)u;
    return s * n;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void *run(void *arg)
{
    worker *w = arg;
    phase *p = w->p;
    CURL *c = curl_easy_init();
    char cookie[512] = "";
    if (p->cookie)
        snprintf(cookie, sizeof cookie, "sb_session=%s", p->cookie);
    curl_easy_setopt(c, CURLOPT_URL, p->url);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
    if (cookie[0])
        curl_easy_setopt(c, CURLOPT_COOKIE, cookie);
    double end = now_s() + p->seconds;
    double *lat = p->latencies + (size_t)w->index * p->per_thread_cap;
    while (now_s() < end) {
        double t0 = now_s();
        long code = 0;
        if (curl_easy_perform(c) == CURLE_OK)
            curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
        if (code != 200)
            atomic_fetch_add(&p->failed, 1);
        atomic_fetch_add(&p->done, 1);
        if (w->n_lat < p->per_thread_cap)
            lat[w->n_lat++] = now_s() - t0;
    }
    curl_easy_cleanup(c);
    return NULL;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Returns requests/s; fills p99 (ms). */
static double measure(const char *url, const char *cookie, double seconds, int threads, double *p99, long *failed)
{
    phase p = {url, cookie, seconds, 0, 0, NULL, 2000000};
    p.latencies = calloc((size_t)threads * p.per_thread_cap, sizeof(double));
    pthread_t t[64];
    worker w[64];
    double t0 = now_s();
    for (int i = 0; i < threads; i++) {
        w[i] = (worker){&p, i, 0};
        pthread_create(&t[i], NULL, run, &w[i]);
    }
    size_t total = 0;
    for (int i = 0; i < threads; i++) {
        pthread_join(t[i], NULL);
        memmove(p.latencies + total, p.latencies + (size_t)i * p.per_thread_cap, w[i].n_lat * sizeof(double));
        total += w[i].n_lat;
    }
    double elapsed = now_s() - t0;
    qsort(p.latencies, total, sizeof(double), cmp);
    *p99 = total ? p.latencies[(size_t)((double)total * 0.99)] * 1000 : 0;
    *failed = atomic_load(&p.failed);
    free(p.latencies);
    return (double)atomic_load(&p.done) / elapsed;
}

static int trivial(sb_server_request *req, void *ctx)
{
    (void)ctx;
    return sb_http_respond_raw(req, 200, "application/json", "{}", 2);
}

int main(int argc, char **argv)
{
    double seconds = argc > 1 ? atof(argv[1]) : 5;
    int threads = argc > 2 ? atoi(argv[2]) : 4;
    if (threads < 1 || threads > 64 || seconds <= 0) {
        fprintf(stderr, "usage: %s [seconds>0] [threads 1..64]\n", argv[0]);
        return 2;
    }
    sb_api_harness *h;
    if (sb_api_harness_start(&h) != 0)
        return 1;
    char uid[40], cookie[256], url[256];
    if (sb_api_harness_user(h, "bench-admin", "bench-password-1", "admin", "global", NULL, uid) != 0 ||
        sb_api_harness_login(h, "bench-admin", "bench-password-1", cookie, sizeof cookie, NULL, 0) != 0)
        return 1;
    /* some teams to list */
    for (int i = 0; i < 20; i++) {
        char body[64];
        snprintf(body, sizeof body, "{\"name\":\"bench-team-%02d\"}", i);
        sb_api_response r;
        sb_api_call(h, "POST", "/api/v1/teams", body, cookie, NULL, &r);
        sb_api_response_free(&r);
    }
    sb_router *router = sb_router_new();
    sb_route route = {"GET", "/trivial", SB_AUTH_PUBLIC, NULL, trivial, NULL, "trivial", NULL};
    sb_error err;
    sb_http_server *srv;
    sb_http_config cfg = {.listen = "127.0.0.1:0", .threads = 4};
    if (sb_router_add(router, &route, &err) != 0 || sb_http_server_start(&cfg, router, &srv, &err) != 0) {
        fprintf(stderr, "%s\n", err.message);
        return 1;
    }
    snprintf(url, sizeof url, "http://127.0.0.1:%u/trivial", sb_http_server_port(srv));
    double p99_t, p99_a;
    long fail_t, fail_a;
    double base = measure(url, NULL, seconds, threads, &p99_t, &fail_t);
    sb_http_server_stop(srv, 1000);
    sb_router_free(router);
    char api[256];
    snprintf(api, sizeof api, "%s/api/v1/teams?limit=20", sb_api_harness_base_url(h));
    double ours = measure(api, cookie, seconds, threads, &p99_a, &fail_a);
    printf("| benchmark | ours | machine limit (same run) | ratio | target |\n|---|---|---|---|---|\n");
    printf("| authenticated RBAC-checked GET /api/v1/teams | %.0f req/s (p99 %.1f ms) | trivial libmicrohttpd handler %.0f req/s (p99 %.1f ms) | %.0f%% | >= 50%% |\n",
           ours, p99_a, base, p99_t, 100 * ours / base);
    if (fail_a || fail_t)
        printf("(non-200 answers: api %ld, trivial %ld)\n", fail_a, fail_t);
    sb_api_harness_stop(h);
    return 0;
}
