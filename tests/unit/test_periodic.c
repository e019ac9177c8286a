/*
 * test_periodic.c — util/periodic: the first pass runs at once, wake runs
 * another without waiting for the interval, a long pass sees stopping, the
 * final pass runs on stop only when asked, and failures are counted and
 * cleared.
 */
#include <criterion/criterion.h>
#include <stdatomic.h>
#include <time.h>

#include "util/log.h"
#include "util/periodic.h"

typedef struct counter {
    atomic_int passes;
    atomic_int fail_until; /* passes before this one fail */
    atomic_int saw_stopping;
} counter;

static int pass(sb_periodic *p, void *ctx, size_t *done, sb_error *err)
{
    counter *c = ctx;
    int n = atomic_fetch_add(&c->passes, 1) + 1;
    if (sb_periodic_stopping(p))
        atomic_store(&c->saw_stopping, 1);
    if (n <= atomic_load(&c->fail_until))
        return sb_error_set(err, 1, "pass %d fails", n);
    *done = 2;
    return 0;
}

static void wait_passes(counter *c, int n)
{
    for (int i = 0; i < 2000 && atomic_load(&c->passes) < n; i++)
        nanosleep(&(struct timespec){0, 1000000}, NULL);
}

Test(periodic, runs_at_once_on_wake_and_a_final_pass_on_stop)
{
    sb_log_set_level(SB_LEVEL_ERROR);
    counter c = {0};
    sb_periodic *p;
    sb_error err = {0};
    sb_periodic_spec spec = {"test", "counting", 3600000, pass, &c, true};
    cr_assert_eq(sb_periodic_start(&spec, &p, &err), 0, "%s", err.message);
    wait_passes(&c, 1);
    cr_assert_eq(atomic_load(&c.passes), 1, "the first pass runs at once");
    sb_periodic_wake(p);
    wait_passes(&c, 2);
    cr_assert_eq(atomic_load(&c.passes), 2, "wake runs a pass without waiting an hour");
    for (int i = 0; i < 2000; i++) { /* the second pass's stats land after it returns */
        sb_periodic_stats now;
        sb_periodic_stats_get(p, &now);
        if (now.passes == 2)
            break;
        nanosleep(&(struct timespec){0, 1000000}, NULL);
    }
    sb_periodic_stats st;
    sb_periodic_stats_get(p, &st);
    cr_assert_eq(st.done, 4);
    cr_assert_eq(st.passes, 2);
    sb_periodic_stop(p);
    cr_assert_eq(atomic_load(&c.passes), 3, "one final pass");
    cr_assert_eq(atomic_load(&c.saw_stopping), 1, "the final pass sees stopping");
}

Test(periodic, failures_are_counted_and_clear)
{
    sb_log_set_level(SB_LEVEL_ERROR);
    counter c = {0};
    atomic_store(&c.fail_until, 2);
    sb_periodic *p;
    sb_error err = {0};
    sb_periodic_spec spec = {"test", "counting", 10, pass, &c, false};
    cr_assert_eq(sb_periodic_start(&spec, &p, &err), 0, "%s", err.message);
    wait_passes(&c, 5); /* the 4th pass has finished once the 5th starts */
    sb_periodic_stats st;
    sb_periodic_stats_get(p, &st);
    sb_periodic_stop(p);
    cr_assert_geq(st.passes, 4, "the interval keeps it running after failures");
    cr_assert_eq(st.failures, 2);
    cr_assert_eq(st.failing, 0, "the failure cleared");
}

Test(periodic, refuses_bad_specs)
{
    counter c = {0};
    sb_periodic *p;
    sb_error err = {0};
    sb_periodic_spec spec = {"test", "counting", 5, pass, &c, false};
    cr_assert_eq(sb_periodic_start(&spec, &p, &err), -1);
    cr_assert_eq(err.code, SB_PERIODIC_E_INVALID);
    spec.interval_ms = 1000;
    spec.pass = NULL;
    cr_assert_eq(sb_periodic_start(&spec, &p, &err), -1);
    cr_assert_null(p);
}

/* A pass with a backlog of `backlog` units, worked off `batch` at a time. */
typedef struct backlog {
    atomic_int left, passes, stats_lagged;
    sb_periodic *_Atomic self;
} backlog;

static int backlog_pass(sb_periodic *p, void *ctx, size_t *done, sb_error *err)
{
    (void)p, (void)err;
    backlog *b = ctx;
    int n = atomic_fetch_add(&b->passes, 1);
    sb_periodic *self = atomic_load(&b->self);
    if (n > 0 && self) { /* the previous batch is already counted */
        sb_periodic_stats st;
        sb_periodic_stats_get(self, &st);
        if (st.passes != (uint64_t)n || st.done != (uint64_t)n * 10)
            atomic_store(&b->stats_lagged, 1);
    }
    if (atomic_load(&b->left) < 10) {
        *done = 0;
        return 0;
    }
    atomic_fetch_sub(&b->left, 10);
    *done = 10;
    return SB_PERIODIC_MORE;
}

Test(periodic, a_backlog_is_worked_off_batch_by_batch_without_waiting_the_interval)
{
    sb_log_set_level(SB_LEVEL_ERROR);
    backlog b = {0};
    atomic_store(&b.left, 500);
    sb_periodic *p;
    sb_error err = {0};
    /* an hour between rounds: only MORE can make the 50 batches run now */
    sb_periodic_spec spec = {"test", "draining", 3600000, backlog_pass, &b, false};
    cr_assert_eq(sb_periodic_start(&spec, &p, &err), 0, "%s", err.message);
    atomic_store(&b.self, p);
    for (int i = 0; i < 5000 && atomic_load(&b.passes) < 51; i++)
        nanosleep(&(struct timespec){0, 1000000}, NULL);
    sb_periodic_stop(p);
    cr_assert_eq(atomic_load(&b.left), 0, "the backlog was not worked off");
    cr_assert_eq(atomic_load(&b.passes), 51, "50 full batches, then one that found nothing");
    cr_assert_eq(atomic_load(&b.stats_lagged), 0, "stats are current after every batch");
}
