/*
 * bench/read_flow.c — SPEC §19: full read flow (create → approve → agent
 * executes against the emulator → reveal) < 100 ms median.
 *
 *   build/gcc/bench/bench_read_flow [reads, default 50]
 *
 * One real control plane (bench/bench_world.h), the real agent executable
 * (sbridge-agent, tests/integration/agent_process.h) loading the Vault
 * plugin, long-polling (claim_wait 25s), and the strict Vault emulator
 * (tests/emulators/vault, tests/support/emulator_proc.h) holding
 * secret/app/db {user, password}. Each read, one at a time, as a user's
 * client takes it: the requester submits a read of both keys, an approver
 * approves, the client polls GET /requests/{id} every 2 ms until the
 * request is executed, lists its results and reveals both values (each
 * checked). Reported: p50/p99 of the whole flow and of its parts.
 */
#include <curl/curl.h>
#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent_process.h"
#include "bench_world.h"
#include "emulator_proc.h"

#define SECRET_PASSWORD "bench-read-flow-pw"

enum { T_SUBMIT, T_APPROVE, T_EXECUTED, T_REVEAL, T_TOTAL, N_TIMES };
static const char *const time_names[N_TIMES] = {
    "submit (POST /requests)", "approve (POST /requests/{id}/approve)",
    "approved → executed (claim, Vault read, seal, upload; seen by polling)",
    "list the results and reveal both keys", "**full read flow**"};

/* The emulator's control API: seeds secret/app/db. 0 on 200. */
static int seed_vault(int port)
{
    char url[160];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/_emulator/kv/secret/app/db", port);
    CURL *c = curl_easy_init();
    struct curl_slist *hd = curl_slist_append(NULL, "X-Vault-Token: root");
    hd = curl_slist_append(hd, "X-Emulator-Admin: 1");
    hd = curl_slist_append(hd, "Content-Type: application/json");
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hd);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS,
                     "{\"data\":{\"user\":\"app\",\"password\":\"" SECRET_PASSWORD "\"}}");
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, fwrite);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, stderr);
    long code = 0;
    if (curl_easy_perform(c) == CURLE_OK)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
    curl_slist_free_all(hd);
    curl_easy_cleanup(c);
    return code == 200 ? 0 : -1;
}

static long call(bench_world *w, const char *method, const char *path, const char *body,
                 const char *cookie, sb_api_response *r)
{
    long st = sb_api_call(w->h, method, path, body, cookie, NULL, r);
    if (st < 200 || st > 299)
        fprintf(stderr, "%s %s -> %ld %s\n", method, path, st, r->body ? r->body : "");
    return st;
}

/* One read, start to end; its times (seconds). 0 or -1. */
static int read_once(bench_world *w, double t[N_TIMES])
{
    sb_api_response r;
    char body[256], path[256], id[40];
    double t0 = bench_now_s(), at = t0;
    snprintf(body, sizeof body,
             "{\"kind\":\"read\",\"binding_id\":\"%s\",\"keys\":[\"user\",\"password\"],"
             "\"justification\":\"bench\"}",
             w->binding);
    if (call(w, "POST", "/api/v1/requests", body, w->requester, &r) != 201)
        return sb_api_response_free(&r), -1;
    snprintf(id, sizeof id, "%s", json_string_value(json_object_get(r.json, "id")));
    sb_api_response_free(&r);
    t[T_SUBMIT] = bench_now_s() - at, at = bench_now_s();
    snprintf(path, sizeof path, "/api/v1/requests/%s/approve", id);
    long st = call(w, "POST", path, "{}", w->approver[0], &r);
    sb_api_response_free(&r);
    if (st != 200)
        return -1;
    t[T_APPROVE] = bench_now_s() - at, at = bench_now_s();
    snprintf(path, sizeof path, "/api/v1/requests/%s", id);
    for (;;) {
        if (call(w, "GET", path, NULL, w->requester, &r) != 200)
            return sb_api_response_free(&r), -1;
        const char *state = json_string_value(json_object_get(r.json, "state"));
        int done = state && strcmp(state, "executed") == 0, bad = !state || strcmp(state, "failed") == 0;
        if (bad)
            fprintf(stderr, "request %s: %s\n", id, r.body);
        sb_api_response_free(&r);
        if (bad || bench_now_s() - at > 30)
            return -1;
        if (done)
            break;
        bench_sleep_until(bench_now_s() + 0.002);
    }
    t[T_EXECUTED] = bench_now_s() - at, at = bench_now_s();
    snprintf(path, sizeof path, "/api/v1/requests/%s/wraps", id);
    if (call(w, "GET", path, NULL, w->requester, &r) != 200)
        return sb_api_response_free(&r), -1;
    json_t *items = json_incref(json_object_get(r.json, "items")), *item;
    sb_api_response_free(&r);
    size_t i;
    int revealed = 0;
    json_array_foreach(items, i, item)
    {
        snprintf(path, sizeof path, "/api/v1/requests/%s/wraps/%s/reveal", id,
                 json_string_value(json_object_get(item, "id")));
        if (call(w, "POST", path, "{}", w->requester, &r) == 200) {
            const char *key = json_string_value(json_object_get(r.json, "key"));
            const char *value = json_string_value(json_object_get(r.json, "value"));
            const char *want = key && strcmp(key, "password") == 0 ? SECRET_PASSWORD : "app";
            revealed += value && strcmp(value, want) == 0;
        }
        sb_api_response_free(&r);
    }
    json_decref(items);
    t[T_REVEAL] = bench_now_s() - at;
    t[T_TOTAL] = bench_now_s() - t0;
    if (revealed != 2)
        return fprintf(stderr, "request %s: %d of 2 values revealed as seeded\n", id, revealed), -1;
    return 0;
}

int main(int argc, char **argv)
{
    int reads = argc > 1 ? atoi(argv[1]) : 50;
    if (reads < 1)
        return fprintf(stderr, "usage: %s [reads > 0]\n", argv[0]), 2;
    if (sodium_init() < 0 || curl_global_init(CURL_GLOBAL_DEFAULT) != 0)
        return 1;
    bench_world w = {.approvers = 1};
    es_proc emu = {.pid = -1};
    agent_proc a = {0};
    char token[128], why[300], cfg[512];
    if (sb_api_harness_start(&w.h) != 0 || bench_world_build(&w) != 0 ||
        bench_world_enrollment_token(&w, token, sizeof token) != 0)
        return fprintf(stderr, "setup failed\n"), 1;
    int rc = 0;
    if (es_proc_spawn(&emu, SB_SOURCE_DIR, "tests/emulators/vault/vault_emulator.py", NULL, why,
                      sizeof why) != 0 || seed_vault(emu.port) != 0) {
        fprintf(stderr, "vault emulator: %s\n", emu.pid > 0 ? "seeding failed" : why);
        rc = -1;
    }
    if (rc == 0) {
        snprintf(cfg, sizeof cfg,
                 "      address: http://127.0.0.1:%d\n      auth: token\n      token: root\n"
                 "      allow_insecure_http: true\n",
                 emu.port);
        agent_proc_prepare(&a, sb_api_harness_base_url(w.h), "vault-bench", 0, "25s");
        rc = agent_proc_use_plugin(&a, SB_PLUGIN_OUT_DIR, "vault", NULL, cfg);
        if (rc == 0) {
            agent_proc_start(&a, token);
            if (!agent_proc_health_is(&a, "/readyz", 200, 20000))
                rc = -1, fprintf(stderr, "the agent never became ready; its log: %s\n", a.log);
        }
    }
    double *t[N_TIMES];
    for (int k = 0; k < N_TIMES; k++)
        t[k] = calloc((size_t)reads, sizeof(double));
    for (int i = 0; i < reads && rc == 0; i++) {
        double one[N_TIMES];
        if ((rc = read_once(&w, one)) != 0)
            fprintf(stderr, "read %d failed; the agent's log: %s\n", i + 1, a.log);
        for (int k = 0; k < N_TIMES && rc == 0; k++)
            t[k][i] = one[k];
    }
    if (rc == 0) {
        printf("| full read flow (%d reads, one at a time; real agent + Vault plugin + emulator) "
               "| p50 | p99 | target |\n|---|---|---|---|\n", reads);
        for (int k = T_TOTAL; k >= 0; k--) {
            double p50, p99;
            bench_percentiles(t[k], (size_t)reads, &p50, &p99);
            printf("| %s%s | %.1f ms | %.1f ms | %s |\n", k == T_TOTAL ? "" : "&nbsp;&nbsp;",
                   time_names[k], p50, p99, k == T_TOTAL ? "< 100 ms median" : "");
        }
    }
    for (int k = 0; k < N_TIMES; k++)
        free(t[k]);
    if (a.dir[0]) {
        if (rc != 0) { /* the agent's log, for the reason */
            char *log = agent_proc_log(&a);
            fprintf(stderr, "---- agent log (tail):\n%s\n", strlen(log) > 3000 ? log + strlen(log) - 3000 : log);
            free(log);
        }
        agent_proc_cleanup(&a);
    }
    es_proc_stop(&emu);
    sb_api_harness_stop(w.h);
    return rc == 0 ? 0 : 1;
}
