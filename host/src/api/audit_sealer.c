/* api/audit_sealer.c — see audit_sealer.h. */
#include "api/audit_sealer.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "store/audit_store.h"
#include "util/log.h"

#define SEAL_BATCH 1000
/* A pass stops after this many full batches, so stop is never starved by a
 * flood of events (the next round continues). */
#define SEAL_MAX_BATCHES_PER_PASS 100

struct sb_audit_sealer {
    sb_app *app;
    int64_t interval_ms;
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t cond; /* CLOCK_MONOTONIC */
    int stopping, woken;
    sb_audit_sealer_stats stats;
    char last_error[SB_ERROR_MESSAGE_MAX];
};

/* One pass: full batches until the backlog is empty. */
static void seal_pass(sb_audit_sealer *s)
{
    size_t total = 0, n = 0;
    sb_error err = {0};
    int rc = 0;
    for (int i = 0; i < SEAL_MAX_BATCHES_PER_PASS; i++) {
        rc = sb_audit_seal(s->app->db, s->app->audit_key, SEAL_BATCH, &n, &err);
        if (rc != 0)
            break;
        total += n;
        if (n < SEAL_BATCH)
            break;
        pthread_mutex_lock(&s->lock);
        int stopping = s->stopping;
        pthread_mutex_unlock(&s->lock);
        if (stopping)
            break;
    }
    pthread_mutex_lock(&s->lock);
    s->stats.passes++;
    s->stats.sealed += total;
    int was_failing = s->stats.failing;
    s->stats.failing = rc != 0;
    if (rc != 0)
        s->stats.failures++;
    int new_error = rc != 0 && (!was_failing || strcmp(s->last_error, err.message) != 0);
    if (rc != 0)
        memcpy(s->last_error, err.message, sizeof s->last_error);
    pthread_mutex_unlock(&s->lock);
    if (new_error)
        sb_err("audit", "sealing audit events failed (retrying every %lld ms; events stay unsealed "
                        "meanwhile): %s", (long long)s->interval_ms, err.message);
    else if (rc == 0 && was_failing)
        sb_info("audit", "sealing audit events works again (%zu sealed)", total);
    else if (total > 0)
        sb_debug("audit", "sealed %zu audit events", total);
}

static void *sealer_main(void *arg)
{
    sb_audit_sealer *s = arg;
    for (;;) {
        seal_pass(s);
        struct timespec deadline;
        clock_gettime(CLOCK_MONOTONIC, &deadline);
        deadline.tv_sec += (time_t)(s->interval_ms / 1000);
        deadline.tv_nsec += (long)(s->interval_ms % 1000) * 1000000L;
        if (deadline.tv_nsec >= 1000000000L)
            deadline.tv_sec++, deadline.tv_nsec -= 1000000000L;
        pthread_mutex_lock(&s->lock);
        while (!s->stopping && !s->woken)
            if (pthread_cond_timedwait(&s->cond, &s->lock, &deadline) != 0)
                break; /* ETIMEDOUT: the next round */
        int stopping = s->stopping;
        s->woken = 0;
        pthread_mutex_unlock(&s->lock);
        if (stopping)
            break;
    }
    seal_pass(s); /* the events written while the server drained */
    return NULL;
}

int sb_audit_sealer_start(sb_app *app, int64_t interval_ms, sb_audit_sealer **out, sb_error *err)
{
    *out = NULL;
    if (interval_ms == 0)
        interval_ms = 1000;
    if (app == NULL || app->db == NULL || app->audit_key == NULL || interval_ms < 10 ||
        interval_ms > 3600000)
        return sb_error_set(err, SB_AUDIT_E_INVALID, "the audit sealer needs an app with a database "
                            "and an audit key, and an interval of 10 ms..1 h (got %lld ms)",
                            (long long)interval_ms);
    sb_audit_sealer *s = calloc(1, sizeof *s);
    if (s == NULL)
        return sb_error_set(err, SB_AUDIT_E_INVALID, "out of memory starting the audit sealer");
    s->app = app;
    s->interval_ms = interval_ms;
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&s->cond, &attr);
    pthread_condattr_destroy(&attr);
    pthread_mutex_init(&s->lock, NULL);
    if (pthread_create(&s->thread, NULL, sealer_main, s) != 0) {
        pthread_cond_destroy(&s->cond);
        pthread_mutex_destroy(&s->lock);
        free(s);
        return sb_error_set(err, SB_AUDIT_E_INVALID, "cannot start the audit sealer thread");
    }
    *out = s;
    return 0;
}

void sb_audit_sealer_wake(sb_audit_sealer *s)
{
    if (s == NULL)
        return;
    pthread_mutex_lock(&s->lock);
    s->woken = 1;
    pthread_cond_signal(&s->cond);
    pthread_mutex_unlock(&s->lock);
}

void sb_audit_sealer_stats_get(sb_audit_sealer *s, sb_audit_sealer_stats *out)
{
    memset(out, 0, sizeof *out);
    if (s == NULL)
        return;
    pthread_mutex_lock(&s->lock);
    *out = s->stats;
    pthread_mutex_unlock(&s->lock);
}

void sb_audit_sealer_stop(sb_audit_sealer *s)
{
    if (s == NULL)
        return;
    pthread_mutex_lock(&s->lock);
    s->stopping = 1;
    pthread_cond_signal(&s->cond);
    pthread_mutex_unlock(&s->lock);
    pthread_join(s->thread, NULL);
    pthread_cond_destroy(&s->cond);
    pthread_mutex_destroy(&s->lock);
    free(s);
}
