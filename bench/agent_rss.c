/*
 * bench/agent_rss.c — SPEC §19: agent idle RSS < 8 MB.
 *
 *   build/gcc/bench/bench_agent_rss [seconds idle, default 5]
 *
 * One real control plane (bench/bench_world.h) and the real agent
 * executable (sbridge-agent, tests/integration/agent_process.h) enrolled
 * for its Vault connection with no plugin loaded, long-polling for jobs
 * (claim_wait 25s) with nothing queued. Reported: the agent's VmRSS after
 * it has enrolled and stayed idle for the given time, its peak (VmHWM),
 * and how much of it is anonymous memory and how much mapped files (the
 * shared libraries' resident pages).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent_process.h"
#include "bench_world.h"

int main(int argc, char **argv)
{
    double idle_s = argc > 1 ? atof(argv[1]) : 5;
    if (!(idle_s > 0))
        return fprintf(stderr, "usage: %s [seconds idle > 0]\n", argv[0]), 2;
    bench_world w = {0};
    char token[128];
    if (sb_api_harness_start(&w.h) != 0 || bench_world_build(&w) != 0 ||
        bench_world_enrollment_token(&w, token, sizeof token) != 0)
        return fprintf(stderr, "setup failed\n"), 1;
    agent_proc a;
    agent_proc_prepare(&a, sb_api_harness_base_url(w.h), "vault-bench", 0, "25s");
    agent_proc_start(&a, token);
    int64_t until = ap_now_ms() + 30000;
    while (access(a.id_file, F_OK) != 0 && ap_now_ms() < until && !agent_proc_wait(&a, 0))
        ap_pause();
    int enrolled = access(a.id_file, F_OK) == 0;
    bench_sleep_until(bench_now_s() + idle_s);
    long rss = bench_status_kb(a.pid, "VmRSS"), peak = bench_status_kb(a.pid, "VmHWM");
    long anon = bench_status_kb(a.pid, "RssAnon"), file = bench_status_kb(a.pid, "RssFile");
    if (!enrolled || rss < 0) {
        agent_proc_kill(&a);
        sb_api_harness_stop(w.h);
        fprintf(stderr, "the agent did not enrol or exited; its log: %s\n", a.log);
        return 1;
    }
    agent_proc_cleanup(&a);
    sb_api_harness_stop(w.h);
    printf("| benchmark | ours | target |\n|---|---|---|\n");
    printf("| agent idle RSS (enrolled, long-polling, no plugin; after %.1f s idle) | %.1f MB "
           "(peak %.1f MB; anonymous %.1f MB, file-backed %.1f MB) | < 8 MB |\n",
           idle_s, rss / 1024.0, peak / 1024.0, anon / 1024.0, file / 1024.0);
    return 0;
}
