/*
 * agent/lease.c — keeps a running job's lease alive (docs/agent-protocol.md
 * "Lease"): POST …/jobs/{id}/renew every lease/3 while the executor works.
 * A 409 (not_lease_holder, lease_expired) means the control plane has given
 * the job up: the execution is cancelled so the executor stops at its next
 * check (the provider write it may be doing uses compare-and-set, I10). A
 * failed renewal for another reason is retried at the next tick; a refusal
 * of the agent itself stops the agent.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "agent/agent_internal.h"
#include "util/log.h"

#define RENEW_TIMEOUT_MS 5000

/* Waits up to ms or until the lease is stopped; 1 when stopped. */
static int wait_or_done(sb_agent_lease *l, int64_t ms)
{
    struct timespec until;
    clock_gettime(CLOCK_MONOTONIC, &until);
    until.tv_sec += ms / 1000;
    until.tv_nsec += (ms % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L)
        until.tv_sec++, until.tv_nsec -= 1000000000L;
    pthread_mutex_lock(&l->agent->mu);
    while (!l->done)
        if (pthread_cond_timedwait(&l->agent->cv, &l->agent->mu, &until) != 0)
            break;
    int done = l->done;
    pthread_mutex_unlock(&l->agent->mu);
    return done;
}

static void *renew_main(void *p)
{
    sb_agent_lease *l = p;
    sb_agent *a = l->agent;
    char path[200];
    snprintf(path, sizeof path, "/api/v1/agents/%s/jobs/%s/renew", a->identity.agent_id, l->job_id);
    while (!wait_or_done(l, l->every_ms)) {
        sb_agent_reply r;
        int reached = sb_agent_cp_call(a, NULL, "POST", path, a->identity.credential, NULL, 0,
                                       RENEW_TIMEOUT_MS, &r);
        if (reached == 0 && r.status == 200) {
            sb_agent_reply_free(&r);
            continue;
        }
        if (reached == 0 && sb_agent_reply_refused(&r)) {
            sb_agent_refused(a, "lease renewal", &r);
        } else if (reached == 0 && (r.status == 409 || r.status == 404)) {
            sb_warn("agent", "job %s: the control plane took the lease back (%ld %s); abandoning "
                             "the job, which it will hand out again",
                    l->job_id, r.status, r.error_code);
            atomic_store(&l->lost, 1);
            if (l->execution)
                sb_call_cancel(l->execution);
            sb_agent_reply_free(&r);
            break;
        } else {
            sb_metric_add(a->m_cp_errors, SB_LABELS("renew"), 1);
            sb_warn("agent", "job %s: lease renewal failed (%s); retrying", l->job_id,
                    reached == 0 ? r.error_code : r.message);
        }
        sb_agent_reply_free(&r);
    }
    return NULL;
}

int sb_agent_lease_start(sb_agent_lease *l, sb_agent *a, const char *job_id, int64_t lease_ms,
                         sb_call_ctx *execution)
{
    memset(l, 0, sizeof *l);
    l->agent = a;
    snprintf(l->job_id, sizeof l->job_id, "%s", job_id);
    l->every_ms = lease_ms / 3 > 500 ? lease_ms / 3 : 500;
    l->execution = execution;
    atomic_store(&l->lost, 0);
    if (pthread_create(&l->thread, NULL, renew_main, l) != 0)
        return -1;
    l->started = 1;
    return 0;
}

void sb_agent_lease_stop(sb_agent_lease *l)
{
    if (!l->started)
        return;
    pthread_mutex_lock(&l->agent->mu);
    l->done = 1;
    pthread_cond_broadcast(&l->agent->cv);
    pthread_mutex_unlock(&l->agent->mu);
    pthread_join(l->thread, NULL);
    l->started = 0;
}
