/*
 * agent/worker.c — the claim loop of each worker thread (docs/agent.md
 * "Workers"; docs/agent-protocol.md "Claim", "Complete").
 *
 * Contract: a worker long-polls POST …/jobs/claim?wait=<claim_wait>; a 200
 * is executed at once (dispatch.h) with its lease renewed every lease/3
 * (lease.c), then completed with its outcome — the completion is retried on
 * transport errors and 5xx (the control plane answers an exact repeat
 * idempotently), also while draining. A 204 claims again at once, unless it
 * came back much sooner than the wait asked for (a control plane stopping,
 * a proxy cutting long-polls), when it counts as a failure. Failures (no
 * answer, 5xx, 429, unexpected codes) back off with jitter, capped at 30 s
 * (Retry-After honoured): never a busy loop. A control plane that restarts
 * during a long-poll is a transport failure: the worker backs off briefly
 * and reconnects. A refusal of the agent stops the agent. When the agent
 * stops, a parked claim is cancelled and the worker ends after its current
 * job.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "agent/agent_internal.h"
#include "agent/dispatch.h"
#include "crypto/secure_mem.h"
#include "util/log.h"

#define COMPLETE_TIMEOUT_MS 10000
#define COMPLETE_ATTEMPTS 6
#define EXECUTION_LIMIT_MS (10 * 60 * 1000)
#define CLAIM_SLACK_MS 15000

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static char *complete_body(sb_agent_outcome o, const char *error, json_t *extra)
{
    json_t *j = json_pack("{s:s}", "outcome", sb_agent_outcome_name(o));
    if (o == SB_AGENT_SUCCEEDED && extra)
        json_object_update_missing(j, extra);
    if (o != SB_AGENT_SUCCEEDED && error && *error)
        json_object_set_new(j, "error", json_string(error));
    char *text = json_dumps(j, JSON_COMPACT);
    json_decref(j);
    return text;
}

static void complete(sb_agent *a, const char *job_id, sb_agent_outcome o, const char *error,
                     json_t *extra)
{
    char path[200];
    snprintf(path, sizeof path, "/api/v1/agents/%s/jobs/%s/complete", a->identity.agent_id, job_id);
    char *body = complete_body(o, error, extra);
    for (int attempt = 1; body && attempt <= COMPLETE_ATTEMPTS; attempt++) {
        sb_agent_reply r;
        int reached = sb_agent_cp_call(a, NULL, "POST", path, a->identity.credential, body,
                                       strlen(body), COMPLETE_TIMEOUT_MS, &r);
        long status = reached == 0 ? r.status : 0;
        if (status == 200) {
            sb_info("agent", "job %s completed: %s", job_id, sb_agent_outcome_name(o));
        } else if (reached == 0 && sb_agent_reply_refused(&r)) {
            sb_agent_refused(a, "job completion", &r);
        } else if (status == 409 || status == 404) {
            sb_warn("agent", "job %s: completion refused (%ld %s): the lease was lost; the "
                             "control plane hands the job out again",
                    job_id, status, r.error_code);
        } else if (status >= 400 && status < 500 && status != 429) {
            sb_err("agent", "job %s: completion refused (%ld %s: %s)", job_id, status, r.error_code,
                   r.message);
        } else {
            sb_metric_add(a->m_cp_errors, SB_LABELS("complete"), 1);
            int64_t wait = sb_agent_backoff_ms(attempt);
            sb_warn("agent", "job %s: completion not delivered (%s); retrying in %lld ms", job_id,
                    reached == 0 ? r.error_code : r.message, (long long)wait);
            sb_agent_reply_free(&r);
            struct timespec ts = {wait / 1000, (wait % 1000) * 1000000L};
            nanosleep(&ts, NULL); /* also while draining: the outcome must reach the CP */
            continue;
        }
        sb_agent_reply_free(&r);
        break;
    }
    free(body);
}

static void run_job(sb_agent *a, const sb_agent_reply *r)
{
    const sb_json_node *job = sb_json_root(r->json);
    size_t len;
    const char *id_s = sb_json_string(sb_json_get(job, "id"), &len);
    size_t type_len;
    const char *type_s = sb_json_string(sb_json_get(job, "type"), &type_len);
    char id[SB_AGENT_ID_MAX], type[64];
    if (id_s == NULL || len == 0 || len >= sizeof id || strspn(id_s, "0123456789abcdefABCDEF-") != len) {
        sb_err("agent", "the control plane handed out a job without a usable id (a UUID); "
                        "ignored, its lease expires");
        return;
    }
    snprintf(id, sizeof id, "%s", id_s);
    snprintf(type, sizeof type, "%s", type_s ? type_s : "");
    int64_t lease_s = 0;
    if (sb_json_int(sb_json_get(job, "lease_seconds"), &lease_s) != 0 || lease_s <= 0)
        lease_s = 30;
    sb_info("agent", "job %s (%s) claimed", id, type);
    atomic_fetch_add(&a->running_jobs, 1);
    sb_metric_add(a->m_running, NULL, 1);

    sb_call_ctx exec;
    sb_call_begin(&exec, "agent", a->connection, id, EXECUTION_LIMIT_MS);
    exec.gate = &a->gate; /* every provider request of the job is paced */
    sb_agent_lease lease;
    int leased = sb_agent_lease_start(&lease, a, id, lease_s * 1000, &exec) == 0;
    sb_agent_job j = {a, id, type, job, sb_json_get(job, "payload"), &exec, json_object()};
    char error[SB_AGENT_ERROR_MAX + 1] = "";
    sb_agent_outcome o = sb_agent_dispatch(&j, error, sizeof error);
    if (leased)
        sb_agent_lease_stop(&lease);
    if (o != SB_AGENT_SUCCEEDED)
        sb_warn("agent", "job %s (%s): %s: %s", id, type, sb_agent_outcome_name(o), error);
    if (leased && atomic_load(&lease.lost))
        sb_warn("agent", "job %s: lease lost while executing; reporting the outcome anyway", id);
    if (exec.paced_ms > 0)
        sb_metric_add(a->m_gate_wait, NULL, (double)exec.paced_ms / 1000.0);
    complete(a, id, o, error, j.completion);
    json_decref(j.completion);
    sb_metric_add(a->m_jobs, SB_LABELS(type, sb_agent_outcome_name(o)), 1);
    sb_metric_add(a->m_running, NULL, -1);
    atomic_fetch_sub(&a->running_jobs, 1);
}

static void *worker_main(void *p)
{
    sb_agent_worker *w = p;
    sb_agent *a = w->agent;
    const int64_t wait_ms = a->settings->control_plane.claim_wait_ms;
    char path[200];
    snprintf(path, sizeof path, "/api/v1/agents/%s/jobs/claim?wait=%lldms", a->identity.agent_id,
             (long long)wait_ms);
    int failures = 0;
    while (!atomic_load(&a->stopping)) {
        sb_call_begin(&w->claim_call, "agent", "control_plane", NULL, wait_ms + CLAIM_SLACK_MS);
        if (atomic_load(&a->stopping)) /* sb_agent_stop may have cancelled before begin */
            break;
        int64_t started = now_ms();
        sb_agent_reply r;
        int reached = sb_agent_cp_call(a, &w->claim_call, "POST", path, a->identity.credential,
                                       NULL, 0, wait_ms + CLAIM_SLACK_MS, &r);
        if (atomic_load(&a->stopping)) {
            if (reached == 0 && r.status == 200) /* claimed as the stop began: still run it */
                run_job(a, &r);
            sb_agent_reply_free(&r);
            break;
        }
        int64_t delay = 0;
        if (reached == 0 && r.status == 200) {
            failures = 0;
            run_job(a, &r);
        } else if (reached == 0 && r.status == 204) {
            if (now_ms() - started >= wait_ms / 2)
                failures = 0;
            else {
                delay = sb_agent_backoff_ms(++failures); /* an early 204: do not spin */
                sb_info("agent", "worker %d: claim answered 204 after %lld ms of a %lld ms wait "
                                 "(control plane stopping?); next claim in %lld ms",
                        w->index, (long long)(now_ms() - started), (long long)wait_ms,
                        (long long)delay);
            }
        } else if (reached == 0 && sb_agent_reply_refused(&r)) {
            sb_agent_refused(a, "claim", &r);
        } else {
            delay = sb_agent_backoff_ms(++failures);
            if (reached == 0 && r.retry_after_ms > delay)
                delay = r.retry_after_ms;
            sb_metric_add(a->m_cp_errors, SB_LABELS("claim"), 1);
            if (failures == 1 || failures % 10 == 0)
                sb_warn("agent", "worker %d: claim failed (%s%s); retrying in %lld ms", w->index,
                        reached == 0 ? "HTTP " : "",
                        reached == 0 ? (r.error_code[0] ? r.error_code : "error") : r.message,
                        (long long)delay);
        }
        sb_agent_reply_free(&r);
        if (delay > 0)
            sb_agent_sleep(a, delay);
    }
    return NULL;
}

int sb_agent_workers_start(sb_agent *a, sb_error *err)
{
    int n = (int)a->settings->concurrency;
    if (n < 1)
        n = 1;
    if (n > SB_AGENT_MAX_WORKERS)
        n = SB_AGENT_MAX_WORKERS;
    for (int i = 0; i < n; i++) {
        sb_agent_worker *w = &a->workers[i];
        w->agent = a;
        w->index = i;
        if (pthread_create(&w->thread, NULL, worker_main, w) != 0)
            return sb_error_set(err, 1, "cannot start worker thread %d of %d", i + 1, n);
        w->started = 1;
        a->n_workers = i + 1;
    }
    return 0;
}

int sb_agent_workers_join(sb_agent *a, int64_t deadline_ms)
{
    int left = 0;
    for (int i = 0; i < a->n_workers; i++) {
        sb_agent_worker *w = &a->workers[i];
        if (!w->started)
            continue;
        int64_t remaining = deadline_ms - now_ms();
        if (remaining < 0)
            remaining = 0;
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += remaining / 1000;
        until.tv_nsec += (remaining % 1000) * 1000000L;
        if (until.tv_nsec >= 1000000000L)
            until.tv_sec++, until.tv_nsec -= 1000000000L;
        if (pthread_timedjoin_np(w->thread, NULL, &until) == 0)
            w->started = 0;
        else
            left++;
    }
    return left ? 1 : 0;
}
