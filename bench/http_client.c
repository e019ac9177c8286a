/*
 * bench/http_client.c — the plugin HTTP client's own cost on a provider
 * listing (issue 11 item 4): Vault-style LIST requests through the host's
 * client (plugin/http_client.c, the table plugins call) against a local
 * libmicrohttpd server answering a fixed `{"data":{"keys":[…]}}` page.
 *
 *   bench_http_client [seconds] [keys per answer]
 *
 * Two modes, measured in interleaved slices (1 s each, shorter in a smoke
 * run) so a noisy neighbour hits both: a LIST answered while the host runs
 * a provider's list (names only: ordinary heap memory, one buffer reused
 * per thread), and the same LIST in any other call (secure memory, as every
 * answer was before). Printed: requests/s and the client thread's CPU per
 * request (getrusage RUSAGE_THREAD). The memory system calls per request are
 * counted outside the program (strace; see bench/RESULTS.md).
 * Environment: BENCH_HTTP_MODE=names|secure runs one mode only (for strace).
 */
#include <microhttpd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "bench_world.h"
#include "crypto/secure_mem.h"
#include "plugin/host_api.h"
#include "plugin/http_client.h"

static char *page;
static size_t page_len;

static enum MHD_Result answer(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                              const char *version, const char *upload, size_t *upload_len, void **state)
{
    (void)cls, (void)url, (void)method, (void)version, (void)upload, (void)upload_len, (void)state;
    struct MHD_Response *r = MHD_create_response_from_buffer(page_len, page, MHD_RESPMEM_PERSISTENT);
    enum MHD_Result rc = MHD_queue_response(c, 200, r);
    MHD_destroy_response(r);
    return rc;
}

/* A Vault LIST answer of n secret names. */
static void build_page(int n)
{
    size_t cap = 64 + (size_t)n * 32;
    page = malloc(cap);
    size_t o = (size_t)snprintf(page, cap, "{\"data\":{\"keys\":[");
    for (int i = 0; i < n; i++)
        o += (size_t)snprintf(page + o, cap - o, "%s\"service-%06d/\"", i ? "," : "", i);
    o += (size_t)snprintf(page + o, cap - o, "]}}");
    page_len = o;
}

static double thread_cpu_s(void)
{
    struct rusage u;
    getrusage(RUSAGE_THREAD, &u);
    return (double)u.ru_utime.tv_sec + (double)u.ru_utime.tv_usec / 1e6 + (double)u.ru_stime.tv_sec +
           (double)u.ru_stime.tv_usec / 1e6;
}

typedef struct tally {
    long done, errors;
    double elapsed, cpu;
} tally;

/* LIST requests for `seconds`, in a provider list (names_only) or not. */
static void measure(const char *url, int names_only, double seconds, tally *t)
{
    const sb_host_api *host = sb_host_api_table();
    sb_http_request req = {.struct_size = sizeof req, .method = "LIST", .url = url, .metric_op = "kv_list"};
    double start = bench_now_s(), cpu = thread_cpu_s(), now = start;
    while ((now = bench_now_s()) - start < seconds) {
        sb_call_ctx call;
        sb_call_begin(&call, "bench", "bench", NULL, 5000);
        call.lists_names_only = names_only;
        sb_http_response resp = {.struct_size = sizeof resp};
        sb_result res = SB_RESULT_INIT;
        size_t len = 0;
        if (host->http(&call.call, &req, &resp, &res) == SB_OK && resp.status == 200 &&
            host->secure_data(resp.body, &len) && len == page_len)
            t->done++;
        else
            t->errors++;
        host->http_response_free(&resp);
        host->result_release(&res);
    }
    t->elapsed += now - start;
    t->cpu += thread_cpu_s() - cpu;
}

static void row(const char *what, const tally *t)
{
    printf("| %s | %.0f req/s (%ld requests) | %.1f µs | %ld |\n", what,
           t->elapsed > 0 ? (double)t->done / t->elapsed : 0, t->done, t->done ? t->cpu / (double)t->done * 1e6 : 0,
           t->errors);
}

int main(int argc, char **argv)
{
    double seconds = argc > 1 ? atof(argv[1]) : 5;
    int keys = argc > 2 ? atoi(argv[2]) : 100;
    const char *only = getenv("BENCH_HTTP_MODE");
    if (!(seconds > 0) || keys < 1 || keys > 1000000) {
        fprintf(stderr, "usage: %s [seconds>0] [keys per answer 1..1000000]\n", argv[0]);
        return 2;
    }
    if (sb_crypto_init() != 0 || sb_http_global_init() != 0) {
        fprintf(stderr, "cannot initialise libsodium or libcurl\n");
        return 1;
    }
    build_page(keys);
    struct MHD_Daemon *d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG, 0, NULL, NULL,
                                            answer, NULL, MHD_OPTION_END);
    if (d == NULL) {
        fprintf(stderr, "cannot start the local HTTP server\n");
        return 1;
    }
    char url[128];
    snprintf(url, sizeof url, "http://127.0.0.1:%u/v1/secret/metadata/",
             (unsigned)MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT)->port);
    tally names = {0}, secure = {0};
    int slices = seconds >= 1 ? (int)(seconds + 0.5) : 1;
    double slice = seconds / slices;
    for (int i = 0; i < slices; i++) {
        if (only == NULL || strcmp(only, "names") == 0)
            measure(url, 1, slice, &names);
        if (only == NULL || strcmp(only, "secure") == 0)
            measure(url, 0, slice, &secure);
    }
    printf("| LIST answer of %d names (%zu bytes), one client thread | requests/s | client CPU per request | errors |\n",
           keys, page_len);
    printf("|---|---|---|---|\n");
    if (only == NULL || strcmp(only, "names") == 0)
        row("in a provider list: names only, heap buffer reused", &names);
    if (only == NULL || strcmp(only, "secure") == 0)
        row("any other call: secure memory (every answer before)", &secure);
    printf("\n%d interleaved slices of %.2f s\n", slices, slice);
    MHD_stop_daemon(d);
    free(page);
    return names.errors || secure.errors ? 1 : 0;
}
