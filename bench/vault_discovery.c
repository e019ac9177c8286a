/*
 * bench/vault_discovery.c — a 10k-secret Vault discovery through the real
 * plugin (issue 11 item 4): the vault plugin loaded by the real loader and
 * host API table (tests/support/plugin_harness.h), listing a seeded KV v2
 * tree in the Vault emulator (tests/emulators/vault) page by page (500
 * leaves a call, cursors followed) on a call marked as a provider list, as
 * the agent's discovery makes it.
 *
 *   bench_vault_discovery [secrets] [rounds]
 *
 * Two modes, alternated round by round so a noisy neighbour hits both:
 * "one by one" hands the plugin a 1.0 host table (no http_batch: the walk
 * before this change), "http_batch" the real 1.1 table (sibling folders
 * and a folder's leaves together, host parallelism 8). Printed per mode
 * (median round): seconds, secrets/s, the bench's CPU (plugin + host
 * client) and the emulator's CPU, and the emulator's share of one core —
 * a Python server under the GIL: near 100% means the emulator, not the
 * client, sets the pace. The tree: t<T>/app<A>/s<S>, 20 secrets a folder.
 * BENCH_HTTP_PARALLELISM=n sets the host's bound for the batched walk;
 * BENCH_VAULT_LATENCY_MS=n makes the emulator wait n ms before answering each
 * request (a fault rule: a stand-in for the network round trip to a real
 * Vault, which loopback does not have).
 */
#include <curl/curl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "plugin/host_api.h"
#include "plugin/http_batch.h"
#include "plugin/text.h"
#include "plugin_harness.h"

#define PER_FOLDER 20
#define APPS 50
#define MAX_ROUNDS 16

static pid_t emulator;
static int port;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double self_cpu_s(void)
{
    struct rusage u;
    getrusage(RUSAGE_SELF, &u);
    return (double)u.ru_utime.tv_sec + (double)u.ru_utime.tv_usec / 1e6 + (double)u.ru_stime.tv_sec +
           (double)u.ru_stime.tv_usec / 1e6;
}

/* utime + stime of process pid, in seconds; -1 when unreadable. */
static double proc_cpu_s(pid_t pid)
{
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return -1;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    const char *p = strrchr(buf, ')');
    unsigned long ut = 0, st = 0;
    if (p == NULL || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st) != 2)
        return -1;
    return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

static int start_emulator(void)
{
    char dir[] = "/tmp/sb-bench-vault-XXXXXX", port_file[128];
    if (mkdtemp(dir) == NULL)
        return -1;
    snprintf(port_file, sizeof port_file, "%s/port", dir);
    emulator = fork();
    if (emulator == 0) {
        if (freopen("/dev/null", "w", stdout) == NULL) /* its banner stays out of the report */
            _exit(127);
        execlp("python3", "python3", SB_SOURCE_DIR "/tests/emulators/vault/vault_emulator.py", "--port", "0",
               "--port-file", port_file, (char *)NULL);
        _exit(127);
    }
    for (int i = 0; i < 1500 && port == 0; i++) {
        FILE *f = fopen(port_file, "r");
        if (f) {
            if (fscanf(f, "%d", &port) != 1)
                port = 0;
            fclose(f);
        }
        if (port == 0)
            usleep(10000);
    }
    unlink(port_file);
    rmdir(dir);
    return port ? 0 : -1;
}

static size_t discard(char *p, size_t s, size_t n, void *u)
{
    (void)p, (void)u;
    return s * n;
}

/* POST /_emulator/<name> with a JSON body; 0 when it answered 200. */
static int admin_post(const char *name, const char *json)
{
    char url[128];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/_emulator/%s", port, name);
    CURL *c = curl_easy_init();
    struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/json");
    h = curl_slist_append(h, "X-Emulator-Admin: 1");
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, json);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
    long code = 0;
    CURLcode rc = curl_easy_perform(c);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    return rc == CURLE_OK && code == 200 ? 0 : -1;
}

/* Seeds `secrets` leaves through the emulator's bulk loader. */
static int seed(int secrets)
{
    size_t cap = (size_t)secrets * 96 + 64, len = 0;
    char *json = malloc(cap);
    len += (size_t)snprintf(json, cap, "{\"mount\":\"secret\",\"items\":[");
    for (int i = 0; i < secrets; i++) {
        int folder = i / PER_FOLDER;
        len += (size_t)snprintf(json + len, cap - len,
                                "%s{\"path\":\"t%d/app%d/s%d\",\"data\":{\"v\":\"x\"},"
                                "\"custom_metadata\":{\"team\":\"t%d\"}}",
                                i ? "," : "", folder / APPS, folder % APPS, i % PER_FOLDER, folder / APPS);
    }
    len += (size_t)snprintf(json + len, cap - len, "]}");
    int rc = admin_post("kv-bulk", json);
    free(json);
    return rc;
}

static int count(void *sink, const sb_metadata *m)
{
    (void)m;
    (*(size_t *)sink)++;
    return 0;
}

typedef struct figure {
    double seconds, self_cpu, emulator_cpu;
    size_t found, pages;
} figure;

/* One whole discovery on a host of ABI 1.<minor>. */
static int discover(int minor, figure *f)
{
    char yaml[256], err[2048];
    snprintf(yaml, sizeof yaml, "address: http://127.0.0.1:%d\nauth: token\ntoken: root\n", port);
    sb_harness *h = sb_harness_open_minor(SB_VAULT_PLUGIN_PATH, yaml, minor, err, sizeof err);
    if (h == NULL) {
        fprintf(stderr, "cannot open the vault plugin: %s\n", err);
        return -1;
    }
    const sb_provider_ops *ops = sb_harness_descriptor(h)->provider;
    sb_text *cursor = sb_text_new(), *next = sb_text_new();
    memset(f, 0, sizeof *f);
    double t0 = now_s(), c0 = self_cpu_s(), e0 = proc_cpu_s(emulator);
    sb_status st = SB_OK;
    do {
        const sb_call *call = sb_harness_call(h, 600000);
        ((sb_call_ctx *)call->host_private)->lists_names_only = 1; /* as the agent marks a list */
        const char *from = sb_text_str(cursor, NULL);
        sb_list_query q = {sizeof q, 0, "", NULL, 0, from[0] ? from : NULL};
        sb_result res = SB_RESULT_INIT;
        st = ops->list(sb_harness_instance(h), call, &q, count, &f->found, next, &res);
        if (st != SB_OK)
            fprintf(stderr, "list page %zu: %d %s\n", f->pages, st, res.message);
        sb_result_release(&res);
        f->pages++;
        sb_text_set(cursor, sb_text_str(next, NULL));
    } while (st == SB_OK && sb_text_str(cursor, NULL)[0]);
    f->seconds = now_s() - t0;
    f->self_cpu = self_cpu_s() - c0;
    f->emulator_cpu = proc_cpu_s(emulator) - e0;
    sb_text_free(cursor);
    sb_text_free(next);
    sb_harness_close(h);
    return st == SB_OK ? 0 : -1;
}

static int by_seconds(const void *a, const void *b)
{
    double x = ((const figure *)a)->seconds, y = ((const figure *)b)->seconds;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
    int secrets = argc > 1 ? atoi(argv[1]) : 10000;
    int rounds = argc > 2 ? atoi(argv[2]) : 3;
    if (secrets < 1 || rounds < 1 || rounds > MAX_ROUNDS) {
        fprintf(stderr, "usage: bench_vault_discovery [secrets >= 1] [rounds 1..%d]\n", MAX_ROUNDS);
        return 2;
    }
    curl_global_init(CURL_GLOBAL_DEFAULT);
    const char *width = getenv("BENCH_HTTP_PARALLELISM");
    if (width && *width)
        sb_http_batch_set_parallelism((unsigned)atoi(width));
    char batched_name[96];
    snprintf(batched_name, sizeof batched_name, "http_batch (1.1 host table, parallelism %u)",
             sb_http_batch_parallelism());
    const char *latency = getenv("BENCH_VAULT_LATENCY_MS");
    char fault[160] = "";
    if (latency && atoi(latency) > 0)
        snprintf(fault, sizeof fault,
                 "{\"path_regex\":\"^/v1/secret/metadata/\",\"delay_ms\":%d,\"count\":100000000}",
                 atoi(latency));
    if (start_emulator() != 0 || seed(secrets) != 0 || (fault[0] && admin_post("faults", fault) != 0)) {
        fprintf(stderr, "cannot start or seed the Vault emulator\n");
        if (emulator > 0)
            kill(emulator, SIGTERM);
        return 1;
    }
    const char *const names[2] = {"one by one (1.0 host table, the walk before)", batched_name};
    static const int minors[2] = {0, SB_PLUGIN_ABI_MINOR};
    figure figs[2][MAX_ROUNDS];
    int failed = 0;
    for (int r = 0; r < rounds && !failed; r++)
        for (int m = 0; m < 2 && !failed; m++) {
            failed = discover(minors[m], &figs[m][r]) != 0;
            if (!failed && figs[m][r].found != (size_t)secrets) {
                fprintf(stderr, "%s found %zu of %d secrets\n", names[m], figs[m][r].found, secrets);
                failed = 1;
            }
        }
    kill(emulator, SIGTERM);
    waitpid(emulator, NULL, 0);
    if (failed)
        return 1;
    int folders = (secrets + PER_FOLDER - 1) / PER_FOLDER;
    char added[64] = "no added latency";
    if (fault[0])
        snprintf(added, sizeof added, "%d ms added per metadata request", atoi(latency));
    printf("%d secrets in %d folders (at least %d LIST + %d GET requests a discovery), %d rounds alternated, "
           "%s; median round:\n\n",
           secrets, folders, folders + (folders + APPS - 1) / APPS + 1, secrets, rounds, added);
    printf("| walk | seconds | secrets/s | pages | bench CPU (plugin + client) | emulator CPU | emulator, share of one core |\n");
    printf("|---|---|---|---|---|---|---|\n");
    double median[2];
    for (int m = 0; m < 2; m++) {
        qsort(figs[m], (size_t)rounds, sizeof figs[m][0], by_seconds);
        const figure *f = &figs[m][rounds / 2];
        median[m] = f->seconds;
        printf("| %s | %.2f | %.0f | %zu | %.2f s | %.2f s | %.0f%% |\n", names[m], f->seconds,
               (double)f->found / f->seconds, f->pages, f->self_cpu, f->emulator_cpu,
               100.0 * f->emulator_cpu / f->seconds);
    }
    printf("\nspeed-up: %.2fx\n", median[0] / median[1]);
    return 0;
}
