/*
 * agent/health.c — the agent's local health endpoint (SPEC §2): /healthz
 * (the process is alive), /readyz (ready once enrolled and the last
 * control-plane call got an answer; 503 with the reason otherwise and while
 * draining) and /metrics (Prometheus: jobs by type and outcome, jobs
 * running, control-plane errors by call, control-plane reachability), served
 * by the host's HTTP server library (http/server.h) with one thread and no
 * other route. health.listen defaults to 127.0.0.1:9465; a non-loopback
 * address is allowed (container probes) with a warning.
 */
#include <stdio.h>
#include <string.h>

#include "agent/agent_internal.h"
#include "http/server.h"
#include "util/log.h"

static int ready(void *ctx, char *why, size_t cap)
{
    sb_agent *a = ctx;
    if (!atomic_load(&a->enrolled))
        return snprintf(why, cap, "not enrolled yet"), 1;
    if (atomic_load(&a->stopping))
        return snprintf(why, cap, "draining"), 1;
    if (!atomic_load(&a->contact_ok))
        return snprintf(why, cap, "the last call to the control plane failed"), 1;
    return 0;
}

static int loopback(const char *listen)
{
    return strncmp(listen, "127.", 4) == 0 || strncmp(listen, "[::1]:", 6) == 0 ||
           strncmp(listen, "localhost:", 10) == 0;
}

int sb_agent_health_start(sb_agent *a, sb_http_server **out, sb_error *err)
{
    const char *listen = a->settings->health.listen ? a->settings->health.listen : "127.0.0.1:9465";
    if (!loopback(listen))
        sb_warn("agent", "health.listen %s is not a loopback address: /metrics and /readyz are "
                         "reachable from the network",
                listen);
    a->health_router = sb_router_new(); /* no routes: only the built-in endpoints answer */
    sb_router *router = a->health_router;
    sb_http_readiness check = {"control_plane", ready, a};
    sb_http_config cfg = {.listen = listen, .threads = 1, .connection_limit = 16,
                          .enable_metrics = 1, .readiness = &check, .n_readiness = 1};
    if (sb_http_server_start(&cfg, router, out, err) != 0)
        return -1;
    sb_info("agent", "health endpoint on http://%s (/healthz, /readyz, /metrics)", listen);
    return 0;
}

void sb_agent_health_stop(sb_agent *a, sb_http_server *server)
{
    sb_http_server_stop(server, 1000);
    sb_router_free(a->health_router);
    a->health_router = NULL;
}
