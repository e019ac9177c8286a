/*
 * bench/api_gets.c — SPEC §19: authenticated, RBAC-checked GETs against
 * the rate of a trivial libmicrohttpd handler measured in the same run.
 *
 *   build/gcc/bench/bench_api_gets [seconds per figure, default 5] [client threads, default 4]
 *
 * The figures are measured in interleaved slices of 1 s (the trivial
 * handler, then the API with each auth cache mode, round after round), so
 * the noise of a shared machine hits them alike.
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

#include "api/auth_cache.h"
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

/* One kind of request measured over several slices: what they add up to. */
typedef struct tally {
    long done, failed;
    double elapsed;
    double *lat;
    size_t n, cap;
} tally;

/* One slice of `seconds` with `threads` clients, added to t. */
static void measure_slice(const char *url, const char *cookie, double seconds, int threads, tally *t)
{
    phase p = {url, cookie, seconds, 0, 0, NULL, 2000000};
    p.latencies = calloc((size_t)threads * p.per_thread_cap, sizeof(double));
    pthread_t th[64];
    worker w[64];
    double t0 = now_s();
    for (int i = 0; i < threads; i++) {
        w[i] = (worker){&p, i, 0};
        pthread_create(&th[i], NULL, run, &w[i]);
    }
    for (int i = 0; i < threads; i++) {
        pthread_join(th[i], NULL);
        if (t->n + w[i].n_lat > t->cap) {
            t->cap = (t->n + w[i].n_lat) * 2;
            t->lat = realloc(t->lat, t->cap * sizeof(double));
        }
        memcpy(t->lat + t->n, p.latencies + (size_t)i * p.per_thread_cap, w[i].n_lat * sizeof(double));
        t->n += w[i].n_lat;
    }
    t->elapsed += now_s() - t0;
    t->done += atomic_load(&p.done);
    t->failed += atomic_load(&p.failed);
    free(p.latencies);
}

/* requests/s over every slice; fills p99 (ms). */
static double tally_rate(tally *t, double *p99)
{
    qsort(t->lat, t->n, sizeof(double), cmp);
    *p99 = t->n ? t->lat[(size_t)((double)t->n * 0.99)] * 1000 : 0;
    return t->elapsed > 0 ? (double)t->done / t->elapsed : 0;
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
    if (threads < 1 || threads > 64 || !(seconds > 0)) {
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
    char api[256];
    snprintf(api, sizeof api, "%s/api/v1/teams?limit=20", sb_api_harness_base_url(h));
    /* Interleaved 1 s slices (shorter in a smoke run): the trivial handler,
     * then the API in each auth cache mode, round after round, so the
     * machine's noise hits every figure alike. */
    static const struct {
        sb_auth_cache_mode mode;
        const char *what;
    } modes[] = {
        {SB_AUTH_CACHE_VERIFIED, "auth cache, generation checked (default)"},
        {SB_AUTH_CACHE_NOTIFIED, "auth cache, NOTIFY only (bounded lag; not offered)"},
        {SB_AUTH_CACHE_OFF, "no auth cache (session + grants statement)"},
    };
    enum { N_MODES = sizeof modes / sizeof modes[0] };
    tally base = {0}, ours[N_MODES] = {{0}};
    int slices = seconds >= 1 ? (int)(seconds + 0.5) : 1;
    double slice = seconds / slices;
    sb_app *app = sb_api_harness_app(h);
    for (int i = 0; i < slices; i++) {
        measure_slice(url, NULL, slice, threads, &base);
        for (int m = 0; m < N_MODES; m++) {
            app->auth_cache_mode = modes[m].mode;
            measure_slice(api, cookie, slice, threads, &ours[m]);
        }
    }
    app->auth_cache_mode = SB_AUTH_CACHE_VERIFIED;
    sb_http_server_stop(srv, 1000);
    sb_router_free(router);
    double p99_t, rate_t = tally_rate(&base, &p99_t);
    long failed = base.failed;
    printf("| benchmark | ours | machine limit (same run) | ratio | target |\n|---|---|---|---|---|\n");
    for (int m = 0; m < N_MODES; m++) {
        double p99_a, rate_a = tally_rate(&ours[m], &p99_a);
        failed += ours[m].failed;
        printf("| authenticated RBAC-checked GET /api/v1/teams, %s | %.0f req/s (p99 %.1f ms) | "
               "trivial libmicrohttpd handler %.0f req/s (p99 %.1f ms) | %.0f%% | >= 50%% |\n",
               modes[m].what, rate_a, p99_a, rate_t, p99_t, rate_t > 0 ? 100 * rate_a / rate_t : 0);
        free(ours[m].lat);
    }
    free(base.lat);
    printf("\n%d interleaved slices of %.2f s, %d client threads\n", slices, slice, threads);
    sb_api_harness_stop(h);
    if (failed) {
        printf("**FAILED**: %ld non-200 answers\n", failed);
        return 1;
    }
    return 0;
}
