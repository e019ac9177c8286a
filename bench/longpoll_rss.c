/*
 * bench/longpoll_rss.c — SPEC §19: server RSS < 64 MB at 1,000 concurrent
 * long-polls.
 *
 *   build/gcc/bench/bench_longpoll_rss [long-polls, default 1000]
 *
 * One real control plane (bench/bench_world.h) in this process, one
 * enrolled agent. A child process (this program re-executed with
 * --clients, so no client memory is counted) opens N keep-alive
 * connections and parks `POST /agents/{id}/jobs/claim?wait=25s` on each
 * (source addresses 127.0.0.2… so the server's per-IP limit of 128 holds).
 * Reported: this process's RSS idle (world built, one GET served) and with
 * the N claims parked (VmRSS after 4 s), each with the peak so far (VmHWM:
 * the world's argon2id password hashes set it before any long-poll), and
 * how many connections the server held. Nothing is queued, so every claim
 * stays parked until the child is stopped.
 */
#include <curl/curl.h>
#include <dirent.h>
#include <jansson.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench_world.h"

#define PER_SOURCE 100

/* Open file descriptors of this process (the server's connections among them). */
static int open_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    int n = 0;
    while (d && readdir(d))
        n++;
    if (d)
        closedir(d);
    return n;
}

static size_t discard(char *d, size_t s, size_t n, void *u)
{
    (void)d, (void)u;
    return s * n;
}

/* The child: n parked claims, until killed. */
static int clients(const char *url, const char *cred, int n)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    CURLM *m = curl_multi_init();
    char auth[256];
    snprintf(auth, sizeof auth, "Authorization: Bearer %s", cred);
    struct curl_slist *hd = curl_slist_append(NULL, auth);
    hd = curl_slist_append(hd, "Content-Type: application/json");
    for (int i = 0; i < n; i++) {
        CURL *c = curl_easy_init();
        char source[64];
        snprintf(source, sizeof source, "host!127.0.0.%d", 2 + i / PER_SOURCE);
        curl_easy_setopt(c, CURLOPT_URL, url);
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, hd);
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, "{}");
        curl_easy_setopt(c, CURLOPT_INTERFACE, source);
        curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
        curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 60000L);
        curl_multi_add_handle(m, c);
    }
    int running = 1;
    while (running) {
        curl_multi_perform(m, &running);
        curl_multi_poll(m, NULL, 0, 1000, NULL);
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 5 && strcmp(argv[1], "--clients") == 0)
        return clients(argv[2], argv[3], atoi(argv[4]));
    int n = argc > 1 ? atoi(argv[1]) : 1000;
    if (n < 1 || n > 20 * PER_SOURCE)
        return fprintf(stderr, "usage: %s [long-polls 1..%d]\n", argv[0], 20 * PER_SOURCE), 2;
    if (sodium_init() < 0 || curl_global_init(CURL_GLOBAL_DEFAULT) != 0)
        return 1;
    bench_world w = {0};
    char id[40], cred[200];
    if (sb_api_harness_start(&w.h) != 0 || bench_world_build(&w) != 0 ||
        bench_world_enroll_agent(&w, "rss-agent", id, cred, sizeof cred) != 0)
        return fprintf(stderr, "setup failed\n"), 1;
    sb_api_response r;
    sb_api_call(w.h, "GET", "/api/v1/teams", NULL, w.admin, NULL, &r);
    sb_api_response_free(&r);
    sleep(1);
    long idle = bench_status_kb(0, "VmRSS"), idle_peak = bench_status_kb(0, "VmHWM");
    int fds_idle = open_fds();
    char url[512], count[16];
    snprintf(url, sizeof url, "%s/api/v1/agents/%s/jobs/claim?wait=25s",
             sb_api_harness_base_url(w.h), id);
    snprintf(count, sizeof count, "%d", n);
    pid_t child = fork();
    if (child == 0) {
        execl("/proc/self/exe", argv[0], "--clients", url, cred, count, (char *)NULL);
        _exit(127);
    }
    sleep(4); /* every claim is parked well before */
    long parked = bench_status_kb(0, "VmRSS"), peak = bench_status_kb(0, "VmHWM");
    int held = open_fds() - fds_idle; /* the connections the server holds */
    kill(child, SIGTERM);
    waitpid(child, NULL, 0);
    sb_api_harness_stop(w.h);
    printf("| benchmark | ours | target |\n|---|---|---|\n");
    printf("| server RSS idle (control plane in the benchmark's process, world built; peak so far) | "
           "%.1f MB (%.1f MB) | |\n",
           idle / 1024.0, idle_peak / 1024.0);
    printf("| server RSS with %d long-polls parked (peak) | %.1f MB (%.1f MB) | < 64 MB at 1,000 |\n",
           n, parked / 1024.0, peak / 1024.0);
    printf("\n%d connections held by the server while parked\n", held);
    if (held < n * 9 / 10) {
        printf("**FAILED**: fewer than 90%% of the %d long-polls were held\n", n);
        return 1;
    }
    return 0;
}
