/* worker/health.c — see health.h. */
#include "worker/health.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/log.h"

struct sb_worker_health {
    sb_router *router;
    sb_http_server *server;
};

static int ready(void *ctx, char *why, size_t cap)
{
    const sb_worker *w = ctx;
    if (sb_worker_stopping(w))
        return snprintf(why, cap, "stopping"), 1;
    if (!sb_worker_database_ok(w))
        return snprintf(why, cap, "the database did not answer the latest tick"), 1;
    return 0;
}

static int loopback(const char *listen)
{
    return strncmp(listen, "127.", 4) == 0 || strncmp(listen, "[::1]:", 6) == 0 ||
           strncmp(listen, "localhost:", 10) == 0;
}

int sb_worker_health_start(sb_worker *w, const char *listen, sb_worker_health **out,
                           sb_error *err)
{
    *out = NULL;
    sb_worker_health *h = calloc(1, sizeof *h);
    if (h == NULL)
        return sb_error_set(err, SB_WORKER_E_INVALID, "out of memory starting the health endpoint");
    if (!loopback(listen))
        sb_warn("worker", "worker.listen %s is not a loopback address: /metrics and /readyz are "
                          "reachable from the network",
                listen);
    h->router = sb_router_new(); /* no routes: only the built-in endpoints answer */
    sb_http_readiness check = {"database", ready, w};
    sb_http_config cfg = {.listen = listen, .threads = 1, .connection_limit = 16,
                          .enable_metrics = 1, .readiness = &check, .n_readiness = 1};
    if (h->router == NULL || sb_http_server_start(&cfg, h->router, &h->server, err) != 0) {
        sb_router_free(h->router);
        free(h);
        return -1;
    }
    sb_info("worker", "health endpoint on http://%.*s:%u (/healthz, /readyz, /metrics)",
            (int)(strrchr(listen, ':') ? strrchr(listen, ':') - listen : 0), listen,
            sb_http_server_port(h->server));
    *out = h;
    return 0;
}

unsigned sb_worker_health_port(const sb_worker_health *h)
{
    return h ? sb_http_server_port(h->server) : 0;
}

void sb_worker_health_stop(sb_worker_health *h)
{
    if (h == NULL)
        return;
    sb_http_server_stop(h->server, 1000);
    sb_router_free(h->router);
    free(h);
}
