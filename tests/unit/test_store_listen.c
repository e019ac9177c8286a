/* test_store_listen.c — LISTEN/NOTIFY across connections: a waiting
 * listener wakes within a deadline, notifications follow transactions,
 * timeouts are honoured, and a listener whose connection is killed
 * reconnects and says so. */
#include <criterion/criterion.h>
#include <criterion/hooks.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pg_harness.h"
#include "store/db.h"

ReportHook(PRE_ALL)(struct criterion_test_set *set)
{
    (void)set;
    sb_pg_harness_shared_start();
}
ReportHook(POST_ALL)(struct criterion_global_stats *stats)
{
    (void)stats;
    sb_pg_harness_shared_stop();
}

static char conninfo[1024];
static sb_db *db;

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void setup(void)
{
    cr_assert_eq(sb_pg_harness_fresh_database(conninfo, sizeof conninfo), 0,
                 "no test database (see stderr)");
    sb_error err = {0};
    cr_assert_eq(sb_db_open(conninfo, 2, 5000, &db, &err), 0, "%s", err.message);
}
static void teardown(void) { sb_db_close(db); }
TestSuite(store_listen, .init = setup, .fini = teardown, .timeout = 60);

static sb_db_listener *listener(const char *const *channels, size_t n)
{
    sb_db_listener *l;
    sb_error err = {0};
    cr_assert_eq(sb_db_listen_open(conninfo, channels, n, 5000, &l, &err), 0, "%s", err.message);
    return l;
}

static void notify(const char *channel, const char *payload)
{
    sb_db_conn *c;
    sb_error err = {0};
    cr_assert_eq(sb_db_acquire(db, -1, &c, &err), 0);
    cr_assert_eq(sb_db_notify(c, channel, payload, &err), 0, "%s", err.message);
    sb_db_release(db, c);
}

static void *notify_soon(void *arg)
{
    /* Gives the main thread time to block in poll(); the test passes
     * either way (a notification sent earlier is queued), so this is not
     * synchronisation, only a better chance of exercising the wake-up. */
    struct timespec ts = {0, 50 * 1000000L};
    nanosleep(&ts, NULL);
    notify("jobs_ready", arg);
    return NULL;
}

Test(store_listen, notify_wakes_a_waiting_listener)
{
    const char *const ch[] = {"jobs_ready"};
    sb_db_listener *l = listener(ch, 1);
    cr_expect_geq(sb_db_listen_socket(l), 0);
    pthread_t t;
    int64_t t0 = now_ms();
    pthread_create(&t, NULL, notify_soon, "conn-42");
    char channel[64], payload[SB_DB_NOTIFY_PAYLOAD_MAX + 1];
    sb_error err = {0};
    int rc = sb_db_listen_wait(l, 5000, channel, sizeof channel, payload, sizeof payload, &err);
    int64_t took = now_ms() - t0;
    pthread_join(t, NULL);
    cr_assert_eq(rc, SB_DB_LISTEN_NOTIFIED, "rc %d: %s", rc, err.message);
    cr_expect_str_eq(channel, "jobs_ready");
    cr_expect_str_eq(payload, "conn-42");
    cr_expect_lt(took, 1000, "woken in %lld ms, long before the 5 s deadline", (long long)took);
    sb_db_listen_close(l);
}

Test(store_listen, wait_times_out_without_notifications)
{
    const char *const ch[] = {"jobs_ready"};
    sb_db_listener *l = listener(ch, 1);
    notify("other_channel", "x"); /* not listened to */
    sb_error err = {0};
    char payload[64];
    int64_t t0 = now_ms();
    int rc = sb_db_listen_wait(l, 150, NULL, 0, payload, sizeof payload, &err);
    int64_t took = now_ms() - t0;
    cr_expect_eq(rc, SB_DB_LISTEN_TIMEOUT, "rc %d: %s", rc, err.message);
    cr_expect(took >= 140 && took < 2000, "took %lld ms", (long long)took);
    cr_expect_eq(sb_db_listen_wait(l, 0, NULL, 0, payload, sizeof payload, &err), SB_DB_LISTEN_TIMEOUT,
                 "0 only checks");
    sb_db_listen_close(l);
}

Test(store_listen, notifications_follow_the_transaction)
{
    const char *const ch[] = {"a", "b"};
    sb_db_listener *l = listener(ch, 2);
    sb_db_conn *c;
    sb_error err = {0};
    char channel[64], payload[64];
    cr_assert_eq(sb_db_acquire(db, -1, &c, &err), 0);
    cr_assert_eq(sb_db_begin(c, &err), 0);
    cr_assert_eq(sb_db_notify(c, "a", "rolled-back", &err), 0);
    sb_db_rollback(c);
    cr_expect_eq(sb_db_listen_wait(l, 200, channel, sizeof channel, payload, sizeof payload, &err),
                 SB_DB_LISTEN_TIMEOUT, "a rolled-back NOTIFY is never delivered");
    cr_assert_eq(sb_db_begin(c, &err), 0);
    cr_assert_eq(sb_db_notify(c, "b", "committed", &err), 0);
    cr_expect_eq(sb_db_listen_wait(l, 0, channel, sizeof channel, payload, sizeof payload, &err),
                 SB_DB_LISTEN_TIMEOUT, "not before COMMIT");
    cr_assert_eq(sb_db_commit(c, &err), 0);
    sb_db_release(db, c);
    cr_assert_eq(sb_db_listen_wait(l, 5000, channel, sizeof channel, payload, sizeof payload, &err),
                 SB_DB_LISTEN_NOTIFIED, "%s", err.message);
    cr_expect_str_eq(channel, "b");
    cr_expect_str_eq(payload, "committed");
    sb_db_listen_close(l);
}

Test(store_listen, channel_names_and_payloads_are_checked)
{
    static const char *const bad[] = {"", "Jobs", "a-b", "a;LISTEN x", NULL,
                                      "a123456789012345678901234567890123456789012345678901234567890123"};
    sb_db_conn *c;
    sb_error err = {0};
    cr_assert_eq(sb_db_acquire(db, -1, &c, &err), 0);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        cr_expect_eq(sb_db_notify(c, bad[i], "x", &err), -1, "%s", bad[i] ? bad[i] : "NULL");
        cr_expect_eq(err.code, SB_DB_E_INVALID);
        sb_db_listener *l = NULL;
        const char *const ch[] = {bad[i]};
        cr_expect_eq(sb_db_listen_open(conninfo, ch, 1, 1000, &l, &err), -1);
        cr_expect_null(l);
    }
    char big[SB_DB_NOTIFY_PAYLOAD_MAX + 2];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    cr_expect_eq(sb_db_notify(c, "ok", big, &err), -1);
    cr_expect_not_null(strstr(err.message, "send an id"), "%s", err.message);
    big[SB_DB_NOTIFY_PAYLOAD_MAX] = '\0';
    cr_expect_eq(sb_db_notify(c, "ok", big, &err), 0, "the largest payload passes: %s", err.message);
    sb_db_release(db, c);
}

Test(store_listen, listener_reconnects_after_its_backend_is_terminated)
{
    const char *const ch[] = {"jobs_ready"};
    sb_db_listener *l = listener(ch, 1);
    sb_db_conn *c;
    sb_error err = {0};
    PGresult *res;
    cr_assert_eq(sb_db_acquire(db, -1, &c, &err), 0);
    cr_assert_eq(sb_db_exec(c,
                            "SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity "
                            "WHERE datname = current_database() AND pid <> pg_backend_pid() "
                            "AND query LIKE 'LISTEN%'",
                            0, NULL, &res, &err),
                 0, "%s", err.message);
    cr_assert_eq(PQntuples(res), 1, "the listener's backend");
    PQclear(res);
    sb_db_release(db, c);
    char payload[64];
    int rc = sb_db_listen_wait(l, 5000, NULL, 0, payload, sizeof payload, &err);
    cr_assert_eq(rc, SB_DB_LISTEN_RECONNECTED, "rc %d: %s", rc, err.message);
    notify("jobs_ready", "after-reconnect");
    rc = sb_db_listen_wait(l, 5000, NULL, 0, payload, sizeof payload, &err);
    cr_assert_eq(rc, SB_DB_LISTEN_NOTIFIED, "rc %d: %s", rc, err.message);
    cr_expect_str_eq(payload, "after-reconnect");
    sb_db_listen_close(l);
}
