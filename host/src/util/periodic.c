/* util/periodic.c — see periodic.h. */
#include "util/periodic.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util/log.h"

struct sb_periodic {
    sb_periodic_spec spec;
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t cond; /* CLOCK_MONOTONIC */
    int stopping, woken;
    sb_periodic_stats stats;
    char last_error[SB_ERROR_MESSAGE_MAX];
};

/* Runs one pass; returns the pass's result (0, SB_PERIODIC_MORE or -1). */
static int64_t monotonic_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int run_pass(sb_periodic *p)
{
    size_t done = 0;
    sb_error err = {0};
    int64_t started = monotonic_ms();
    int result = p->spec.pass(p, p->spec.ctx, &done, &err);
    int64_t took = monotonic_ms() - started;
    int rc = result < 0 ? -1 : 0;
    pthread_mutex_lock(&p->lock);
    if (took > p->stats.max_pass_ms)
        p->stats.max_pass_ms = took;
    p->stats.passes++;
    p->stats.done += done;
    int was_failing = p->stats.failing;
    p->stats.failing = rc != 0;
    if (rc != 0)
        p->stats.failures++;
    int new_error = rc != 0 && (!was_failing || strcmp(p->last_error, err.message) != 0);
    if (rc != 0)
        memcpy(p->last_error, err.message, sizeof p->last_error);
    pthread_mutex_unlock(&p->lock);
    if (new_error)
        sb_err(p->spec.component, "%s failed (retrying every %lld ms): %s", p->spec.what,
               (long long)p->spec.interval_ms, err.message);
    else if (rc == 0 && was_failing)
        sb_info(p->spec.component, "%s works again (%zu done)", p->spec.what, done);
    else if (done > 0)
        sb_debug(p->spec.component, "%s: %zu done", p->spec.what, done);
    return result;
}

static void *periodic_main(void *arg)
{
    sb_periodic *p = arg;
    for (;;) {
        if (run_pass(p) == SB_PERIODIC_MORE && !sb_periodic_stopping(p))
            continue; /* a backlog: the next batch at once */
        struct timespec deadline;
        clock_gettime(CLOCK_MONOTONIC, &deadline);
        deadline.tv_sec += (time_t)(p->spec.interval_ms / 1000);
        deadline.tv_nsec += (long)(p->spec.interval_ms % 1000) * 1000000L;
        if (deadline.tv_nsec >= 1000000000L)
            deadline.tv_sec++, deadline.tv_nsec -= 1000000000L;
        pthread_mutex_lock(&p->lock);
        while (!p->stopping && !p->woken)
            if (pthread_cond_timedwait(&p->cond, &p->lock, &deadline) != 0)
                break; /* ETIMEDOUT: the next round */
        int stopping = p->stopping;
        p->woken = 0;
        pthread_mutex_unlock(&p->lock);
        if (stopping)
            break;
    }
    if (p->spec.final_pass)
        for (int i = 0; i < SB_PERIODIC_FINAL_PASSES && run_pass(p) == SB_PERIODIC_MORE; i++)
            ;
    return NULL;
}

int sb_periodic_start(const sb_periodic_spec *spec, sb_periodic **out, sb_error *err)
{
    *out = NULL;
    if (spec == NULL || spec->pass == NULL || spec->component == NULL || spec->what == NULL ||
        spec->interval_ms < 10 || spec->interval_ms > 3600000)
        return sb_error_set(err, SB_PERIODIC_E_INVALID,
                            "a periodic task needs a pass, a name and an interval of 10 ms..1 h "
                            "(got %lld ms)",
                            spec ? (long long)spec->interval_ms : 0LL);
    sb_periodic *p = calloc(1, sizeof *p);
    if (p == NULL)
        return sb_error_set(err, SB_PERIODIC_E_INVALID, "out of memory starting %s", spec->what);
    p->spec = *spec;
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&p->cond, &attr);
    pthread_condattr_destroy(&attr);
    pthread_mutex_init(&p->lock, NULL);
    if (pthread_create(&p->thread, NULL, periodic_main, p) != 0) {
        pthread_cond_destroy(&p->cond);
        pthread_mutex_destroy(&p->lock);
        free(p);
        return sb_error_set(err, SB_PERIODIC_E_INVALID, "cannot start the thread for %s",
                            spec->what);
    }
    *out = p;
    return 0;
}

void sb_periodic_wake(sb_periodic *p)
{
    if (p == NULL)
        return;
    pthread_mutex_lock(&p->lock);
    p->woken = 1;
    pthread_cond_signal(&p->cond);
    pthread_mutex_unlock(&p->lock);
}

bool sb_periodic_stopping(sb_periodic *p)
{
    pthread_mutex_lock(&p->lock);
    bool stopping = p->stopping != 0;
    pthread_mutex_unlock(&p->lock);
    return stopping;
}

void sb_periodic_stats_get(sb_periodic *p, sb_periodic_stats *out)
{
    memset(out, 0, sizeof *out);
    if (p == NULL)
        return;
    pthread_mutex_lock(&p->lock);
    *out = p->stats;
    pthread_mutex_unlock(&p->lock);
}

void sb_periodic_stop(sb_periodic *p)
{
    if (p == NULL)
        return;
    pthread_mutex_lock(&p->lock);
    p->stopping = 1;
    pthread_cond_signal(&p->cond);
    pthread_mutex_unlock(&p->lock);
    pthread_join(p->thread, NULL);
    pthread_cond_destroy(&p->cond);
    pthread_mutex_destroy(&p->lock);
    free(p);
}
