/*
 * agent/run.c — the agent's lifecycle: start, wait, drain (docs/agent.md).
 *
 * Contract: sb_agent_run starts, in order, the plugins (registry), the
 * signal thread, the health endpoint, the identity (load or enroll), the
 * heartbeat and the workers; then waits until SIGTERM/SIGINT or a fatal
 * refusal starts the stop. Draining: no new claims (parked long-polls are
 * cancelled), running jobs get shutdown_grace to finish and complete, then
 * everything is stopped in reverse order. Returns the exit status of
 * agent.h. SIGHUP re-reads log.level from the config file.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "agent/agent.h"
#include "agent/agent_internal.h"
#include "agent/run.h"
#include "http/server.h"
#include "plugin/http_batch.h"
#include "util/log.h"

void sb_agent_stop(sb_agent *a)
{
    if (atomic_exchange(&a->stopping, 1))
        return;
    pthread_mutex_lock(&a->mu);
    pthread_cond_broadcast(&a->cv);
    pthread_mutex_unlock(&a->mu);
    for (int i = 0; i < a->n_workers; i++)
        sb_call_cancel(&a->workers[i].claim_call);
}

int sb_agent_sleep(sb_agent *a, int64_t ms)
{
    if (ms <= 0)
        return atomic_load(&a->stopping);
    struct timespec until;
    clock_gettime(CLOCK_MONOTONIC, &until);
    until.tv_sec += ms / 1000;
    until.tv_nsec += (ms % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L)
        until.tv_sec++, until.tv_nsec -= 1000000000L;
    pthread_mutex_lock(&a->mu);
    while (!atomic_load(&a->stopping))
        if (pthread_cond_timedwait(&a->cv, &a->mu, &until) != 0)
            break;
    pthread_mutex_unlock(&a->mu);
    return atomic_load(&a->stopping);
}

int64_t sb_agent_backoff_ms(int attempt)
{
    int64_t delay = 500;
    for (int i = 1; i < attempt && delay < 30000; i++)
        delay *= 2;
    if (delay > 30000)
        delay = 30000;
    return delay / 2 + (int64_t)randombytes_uniform((uint32_t)(delay / 2 + 1));
}

void sb_agent_contact(sb_agent *a, int ok)
{
    atomic_store(&a->contact_ok, ok);
    sb_metric_set(a->m_up, NULL, ok ? 1 : 0);
}

/* ---- signals ------------------------------------------------------------- */

typedef struct signal_thread {
    sb_agent *agent;
    sigset_t set;
    const char *config_file;
    atomic_int quit;
    pthread_t thread;
} signal_thread;

static void *signal_main(void *p)
{
    signal_thread *t = p;
    for (;;) {
        int sig = 0;
        if (sigwait(&t->set, &sig) != 0 || atomic_load(&t->quit))
            return NULL;
        if (sig == SIGHUP) {
            sb_settings fresh;
            sb_diags d;
            sb_diags_init(&d, t->config_file);
            if (sb_settings_load(t->config_file, "agent", &fresh, &d) == 0) {
                sb_settings_apply_log_level(&fresh);
                sb_info("agent", "SIGHUP: log level is now %s", sb_log_level_name(sb_log_get_level()));
                sb_settings_free(&fresh);
            } else {
                sb_warn("agent", "SIGHUP: %s has errors; log level unchanged", t->config_file);
            }
            sb_diags_free(&d);
            continue;
        }
        sb_info("agent", "%s: draining (no new jobs; running jobs get up to %lld ms)",
                sig == SIGINT ? "SIGINT" : "SIGTERM",
                (long long)t->agent->settings->shutdown_grace_ms);
        sb_agent_stop(t->agent);
        return NULL;
    }
}

/* ---- start and stop ------------------------------------------------------ */

static void metrics_register(sb_agent *a)
{
    a->m_jobs = sb_metrics_counter("sbridge_agent_jobs_total", "jobs finished by this agent",
                                   "type", "outcome", NULL);
    a->m_cp_errors = sb_metrics_counter("sbridge_agent_control_plane_errors_total",
                                        "failed calls to the control plane", "call", NULL);
    a->m_running = sb_metrics_gauge("sbridge_agent_jobs_running", "jobs executing now", NULL);
    a->m_throttled = sb_metrics_counter("sbridge_agent_provider_throttled_total",
                                        "throttled answers of the provider (each pauses the "
                                        "provider instance)",
                                        NULL);
    a->m_gate_wait = sb_metrics_counter("sbridge_agent_provider_wait_seconds_total",
                                        "time operations waited for the provider instance's "
                                        "rate limit or throttle pause",
                                        NULL);
    a->m_up = sb_metrics_gauge("sbridge_agent_control_plane_up",
                               "1 when the last call to the control plane got an answer", NULL);
}

static void wait_for_stop(sb_agent *a)
{
    pthread_mutex_lock(&a->mu);
    while (!atomic_load(&a->stopping))
        pthread_cond_wait(&a->cv, &a->mu);
    pthread_mutex_unlock(&a->mu);
}

/* The rate_limit of the provider instance serving connection (0: none configured). */
static int64_t instance_rate_limit(const sb_settings *s, const char *connection)
{
    const sb_instance_settings *p = s->providers.items;
    for (size_t i = 0; i < s->providers.n; i++)
        if (strcmp(p[i].name, connection) == 0)
            return p[i].rate_limit;
    return 0;
}

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int sb_agent_run(const sb_agent_setup *setup)
{
    sb_agent *a = calloc(1, sizeof *a);
    if (a == NULL)
        return SB_AGENT_EXIT_FAILURE;
    a->settings = setup->settings;
    a->registry = setup->registry;
    snprintf(a->base_url, sizeof a->base_url, "%s", setup->base_url);
    snprintf(a->connection, sizeof a->connection, "%s", setup->connection);
    snprintf(a->name, sizeof a->name, "%s", setup->name);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&a->cv, &ca);
    pthread_condattr_destroy(&ca);
    pthread_mutex_init(&a->mu, NULL);
    sb_rate_gate_init(&a->gate, instance_rate_limit(a->settings, a->connection));
    if (a->settings->http_batch_width > 0)
        sb_http_batch_set_parallelism((unsigned)a->settings->http_batch_width);
    metrics_register(a);

    signal_thread sig = {.agent = a, .config_file = setup->config_file};
    sigemptyset(&sig.set);
    sigaddset(&sig.set, SIGTERM);
    sigaddset(&sig.set, SIGINT);
    sigaddset(&sig.set, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &sig.set, NULL); /* every thread started below inherits it */
    int sig_started = pthread_create(&sig.thread, NULL, signal_main, &sig) == 0;

    int code = SB_AGENT_EXIT_OK;
    sb_error err = {0};
    sb_http_server *health = NULL;
    if (sb_agent_health_start(a, &health, &err) != 0 || sb_agent_identity_ensure(a, &err) != 0) {
        if (err.code == SB_AGENT_E_STOPPED) { /* SIGTERM while enrolling */
            code = SB_AGENT_EXIT_OK;
        } else {
            sb_err("agent", "%s", err.message);
            code = SB_AGENT_EXIT_FAILURE;
        }
        sb_agent_stop(a);
    } else if (sb_agent_heartbeat_start(a, &err) != 0 || sb_agent_workers_start(a, &err) != 0) {
        sb_err("agent", "%s", err.message);
        code = SB_AGENT_EXIT_FAILURE;
        sb_agent_stop(a);
    } else {
        sb_info("agent", "agent %s serving connection %s with %d workers (claim wait %lld ms)",
                a->identity.agent_id, a->connection, a->n_workers,
                (long long)a->settings->control_plane.claim_wait_ms);
    }
    wait_for_stop(a);
    sb_agent_stop(a); /* cancels claims parked after a refusal, too */
    int64_t deadline = mono_ms() + a->settings->shutdown_grace_ms;
    int left = sb_agent_workers_join(a, deadline);
    sb_agent_heartbeat_join(a);
    if (code == SB_AGENT_EXIT_OK && atomic_load(&a->exit_code))
        code = atomic_load(&a->exit_code);
    if (left) {
        sb_err("agent", "shutdown_grace (%lld ms) ran out with %d job(s) still running; their "
                        "leases expire and the control plane hands them out again",
               (long long)a->settings->shutdown_grace_ms, atomic_load(&a->running_jobs));
        if (code == SB_AGENT_EXIT_OK)
            code = SB_AGENT_EXIT_DRAIN_TIMEOUT;
    }
    if (health)
        sb_agent_health_stop(a, health);
    if (sig_started) {
        atomic_store(&sig.quit, 1);
        pthread_kill(sig.thread, SIGTERM);
        pthread_join(sig.thread, NULL);
    }
    if (code == SB_AGENT_EXIT_OK)
        sb_info("agent", "stopped");
    if (left)
        return code; /* workers still run: leave the shared state to the process exit */
    sb_agent_identity_free(&a->identity);
    pthread_cond_destroy(&a->cv);
    pthread_mutex_destroy(&a->mu);
    sb_rate_gate_destroy(&a->gate);
    free(a);
    return code;
}
