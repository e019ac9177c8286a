/*
 * agent/agent_internal.h — the state the agent's threads share, and the
 * functions each file gives the others. Not a public face: only the files in agent/
 * include it.
 *
 * Threads: main (signals, start, drain), one heartbeat thread, N workers
 * (claim → execute → complete), one lease renewer per running job, and the
 * health endpoint's server thread. Shared fields are atomics or sit under
 * `mu`; `cv` wakes every sleeper when the agent starts to stop.
 */
#ifndef SB_AGENT_INTERNAL_H
#define SB_AGENT_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "agent/identity.h"
#include "agent/provider_call.h"
#include "config/settings.h"
#include "http/metrics.h"
#include "http/router.h"
#include "plugin/host_api.h"
#include "plugin/registry.h"
#include "plugin/secure_json.h"

#define SB_AGENT_MAX_WORKERS 64
#define SB_AGENT_E_STOPPED 2 /* sb_error code: the agent stopped before the step finished */

typedef struct sb_agent sb_agent;

typedef struct sb_agent_worker {
    sb_agent *agent;
    int index;
    pthread_t thread;
    int started;
    sb_call_ctx claim_call; /* the parked long-poll, cancelled at drain */
} sb_agent_worker;

struct sb_agent {
    const sb_settings *settings;
    sb_registry *registry;
    sb_agent_identity identity;
    char base_url[1024]; /* control_plane.url without a trailing '/' */
    char connection[128];
    char name[128];

    atomic_int stopping;       /* drain: claim nothing new */
    atomic_int exit_code;      /* set by a loop that hit a fatal refusal */
    atomic_int enrolled;
    atomic_int contact_ok;     /* the last control-plane call got an answer */
    atomic_int running_jobs;
    int64_t lease_ms;          /* from the claim response; default 30 s */

    pthread_mutex_t mu;
    pthread_cond_t cv;

    sb_agent_worker workers[SB_AGENT_MAX_WORKERS];
    int n_workers;
    pthread_t heartbeat_thread;
    int heartbeat_started;

    sb_router *health_router;
    sb_rate_gate gate;         /* the provider instance's rate limit and throttle pause */

    sb_metric *m_jobs;       /* sbridge_agent_jobs_total{type,outcome} */
    sb_metric *m_cp_errors;  /* sbridge_agent_cp_errors_total{call} */
    sb_metric *m_running;    /* sbridge_agent_jobs_running */
    sb_metric *m_up;         /* sbridge_agent_control_plane_up */
    sb_metric *m_throttled;  /* sbridge_agent_provider_throttled_total */
    sb_metric *m_gate_wait;  /* sbridge_agent_provider_wait_seconds_total */
};

/* ---- cp_client.c: calls to the control plane ---------------------------- */

typedef struct sb_agent_reply {
    long status;               /* 0: no HTTP answer (see message) */
    sb_json *json;             /* parsed body (secure memory); NULL when empty or not JSON */
    uint32_t retry_after_ms;
    char error_code[64];       /* error.code of an error body, else "" */
    char message[256];         /* transport failure or error.message (never a value) */
    int unusable;              /* no answer because of our settings: the URL is refused or
                                  TLS verification failed — retrying will not help */
} sb_agent_reply;

/* One call. path starts with "/api/v1/". bearer: the credential or the
 * enrollment token (secure memory; never logged). call: a context the
 * caller may cancel from another thread, or NULL. Returns 0 when the
 * control plane answered (any status), -1 when it could not be reached. */
int sb_agent_cp_call(sb_agent *a, sb_call_ctx *call, const char *method, const char *path,
                     const char *bearer, const void *body, size_t body_len, int64_t timeout_ms,
                     sb_agent_reply *out);
void sb_agent_reply_free(sb_agent_reply *r);
/* 1 when the reply says this agent may not go on (401, 403 agent_revoked or
 * agent_mismatch): the caller records it with sb_agent_refused. */
int sb_agent_reply_refused(const sb_agent_reply *r);
/* Records a fatal refusal once (logged with the fix) and starts the stop. */
void sb_agent_refused(sb_agent *a, const char *during, const sb_agent_reply *r);
/* Records that the control-plane settings are unusable (exit 1) and starts the stop. */
void sb_agent_unusable(sb_agent *a, const sb_agent_reply *r);

/* ---- run.c: shared helpers --------------------------------------------- */

/* Starts the stop (idempotent): no new claims, sleepers wake, parked
 * claims are cancelled. */
void sb_agent_stop(sb_agent *a);
/* Sleeps up to ms; returns early (1) when the agent is stopping. */
int sb_agent_sleep(sb_agent *a, int64_t ms);
/* Delay before retry number attempt (>= 1) after a failed contact: 500 ms
 * doubling, capped at 30 s, equal jitter (half to all of it). */
int64_t sb_agent_backoff_ms(int attempt);
void sb_agent_contact(sb_agent *a, int ok);

/* ---- enroll.c ------------------------------------------------------------ */

/* Loads the identity file or, on first boot, enrolls and writes it. */
int sb_agent_identity_ensure(sb_agent *a, sb_error *err);

/* ---- lease.c: renewal while a job runs --------------------------------- */

typedef struct sb_agent_lease {
    sb_agent *agent;
    char job_id[SB_AGENT_ID_MAX];
    int64_t every_ms;         /* lease / 3 */
    sb_call_ctx *execution;   /* cancelled when the lease is lost */
    pthread_t thread;
    int started;
    int done;                 /* under agent->mu */
    atomic_int lost;          /* the control plane said the lease is gone */
} sb_agent_lease;

/* Renews the job's lease every lease_ms/3 until sb_agent_lease_stop. */
int sb_agent_lease_start(sb_agent_lease *l, sb_agent *a, const char *job_id, int64_t lease_ms,
                         sb_call_ctx *execution);
void sb_agent_lease_stop(sb_agent_lease *l);

/* ---- heartbeat.c / worker.c / health.c ---------------------------------- */

int sb_agent_heartbeat_start(sb_agent *a, sb_error *err);
void sb_agent_heartbeat_join(sb_agent *a);
int sb_agent_workers_start(sb_agent *a, sb_error *err);
/* Waits for the workers until deadline_ms (monotonic); 0 all joined, 1 some
 * still running. */
int sb_agent_workers_join(sb_agent *a, int64_t deadline_ms);

typedef struct sb_http_server sb_http_server;
int sb_agent_health_start(sb_agent *a, sb_http_server **out, sb_error *err);
void sb_agent_health_stop(sb_agent *a, sb_http_server *server);

#endif
