/*
 * worker/health.h — `sbridge worker`'s local endpoint (SPEC §2): /healthz
 * (alive), /readyz (503 with the reason until a tick reached the database,
 * when one no longer does, and while stopping) and /metrics (the
 * sb_worker_task_* families of worker/scheduler.h), served by http/server.h
 * with one thread and no other route. A non-loopback listen address is
 * allowed (container probes) with a warning.
 */
#ifndef SB_WORKER_HEALTH_H
#define SB_WORKER_HEALTH_H

#include "http/server.h"
#include "worker/scheduler.h"

typedef struct sb_worker_health sb_worker_health;

/* listen "host:port" (port 0: any free one). w must outlive the endpoint. */
int sb_worker_health_start(sb_worker *w, const char *listen, sb_worker_health **out,
                           sb_error *err);
/* The bound port. */
unsigned sb_worker_health_port(const sb_worker_health *h);
void sb_worker_health_stop(sb_worker_health *h); /* NULL is a no-op */

#endif
