/*
 * test_audit.c — the audit trail (I5) against a real PostgreSQL, at the
 * store level (store/audit_store.h) and with the background sealer:
 *   - UPDATE, DELETE and TRUNCATE are refused by the database, also for the
 *     table's owner; the one-time seal is allowed, a second one refused;
 *   - sealing in batches links events in commit order and verifies;
 *   - tampering (triggers disabled as a superuser, as an attacker with
 *     database access would) is caught at the right event: a modified
 *     field, a deleted row, a forged sealed row, swapped hashes, reordered
 *     rows, a deleted chain start; old unsealed events are reported;
 *   - 8 threads appending in their own transactions while sealers run:
 *     every event sealed exactly once, the chain verifies;
 *   - throughput with and without a sealer running (printed, not asserted).
 * API and CLI tests are in test_audit_api.c.
 */
#include <criterion/criterion.h>
#include <criterion/hooks.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api/audit_sealer.h"
#include "pg_harness.h"
#include "store/audit_store.h"
#include "store/migrate.h"
#include "util/log.h"

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
static unsigned char key[SB_AUDIT_KEY_BYTES];

static void setup(void)
{
    sb_log_set_level(SB_LEVEL_WARN);
    cr_assert_eq(sb_pg_harness_fresh_database(conninfo, sizeof conninfo), 0, "no test database");
    sb_error err = {0};
    cr_assert_eq(sb_db_open(conninfo, 16, 5000, &db, &err), 0, "%s", err.message);
    size_t n;
    const sb_migration *list = sb_migrations_builtin(&n);
    cr_assert_eq(sb_migrate_apply(db, list, n, NULL, &err), 0, "%s", err.message);
    for (size_t i = 0; i < sizeof key; i++)
        key[i] = (unsigned char)(0xA0 + i);
}
static void teardown(void) { sb_db_close(db); }
TestSuite(audit_store, .init = setup, .fini = teardown, .timeout = 120);

/* ---- helpers --------------------------------------------------------------- */

static sb_db_conn *acquire(void)
{
    sb_db_conn *c;
    sb_error err = {0};
    cr_assert_eq(sb_db_acquire(db, -1, &c, &err), 0, "%s", err.message);
    return c;
}

/* Runs SQL; returns the sb_db_exec status and the first cell in first. */
static int sql(const char *text, char *first, size_t cap, sb_error *err)
{
    sb_db_conn *c = acquire();
    PGresult *res;
    int rc = sb_db_exec(c, text, 0, NULL, &res, err);
    if (rc == 0) {
        if (first)
            snprintf(first, cap, "%s", PQntuples(res) > 0 && PQnfields(res) > 0 ? PQgetvalue(res, 0, 0) : "");
        PQclear(res);
    }
    sb_db_release(db, c);
    return rc;
}

static long long sql_int(const char *text)
{
    char v[64];
    sb_error err = {0};
    cr_assert_eq(sql(text, v, sizeof v, &err), 0, "%s: %s", text, err.message);
    return atoll(v);
}

/* What an attacker with superuser access does: triggers off, change, on. */
static void tamper(const char *change)
{
    sb_db_conn *c = acquire();
    sb_error err = {0};
    char script[2048];
    snprintf(script, sizeof script,
             "ALTER TABLE audit_events DISABLE TRIGGER USER; %s; "
             "ALTER TABLE audit_events ENABLE TRIGGER USER;", change);
    cr_assert_eq(sb_db_exec_script(c, script, &err), 0, "%s", err.message);
    sb_db_release(db, c);
}

static int64_t append_on(sb_db_conn *c, const char *actor, const char *action, const char *outcome)
{
    sb_audit_record r = {actor, action, "team:42", outcome, NULL, "corr-1", "req-1", "127.0.0.1",
                         "{\"n\": 1, \"why\": \"test\"}"};
    int64_t id = 0;
    sb_error err = {0};
    cr_assert_eq(sb_audit_append_id(c, &r, &id, &err), 0, "%s", err.message);
    return id;
}

static void append_n(int n)
{
    sb_db_conn *c = acquire();
    for (int i = 0; i < n; i++)
        append_on(c, i % 2 ? "user:alice" : "user:bob", "team.create", "success");
    sb_db_release(db, c);
}

static size_t seal(size_t batch)
{
    size_t n = 0;
    sb_error err = {0};
    cr_assert_eq(sb_audit_seal(db, key, batch, &n, &err), 0, "%s", err.message);
    return n;
}

static sb_audit_verify_report verify(int64_t stale_after_ms)
{
    sb_audit_verify_report r;
    sb_audit_verify_options o = {stale_after_ms, 7}; /* small pages: the walk crosses many */
    sb_error err = {0};
    cr_assert_eq(sb_audit_verify_with(db, key, &o, &r, &err), 0, "%s", err.message);
    return r;
}

static void expect_break(sb_audit_break_kind kind, int64_t id, int64_t seq)
{
    sb_audit_verify_report r = verify(-1);
    cr_assert_eq(r.ok, 0, "tampering went unnoticed: %s", r.message);
    cr_assert_eq(r.kind, kind, "expected a %s break, got %s: %s", sb_audit_break_name(kind),
                 sb_audit_break_name(r.kind), r.message);
    cr_assert_eq(r.event_id, id, "break reported at event %" PRId64 ", expected %" PRId64 ": %s",
                 r.event_id, id, r.message);
    cr_assert_eq(r.chain_seq, seq, "break at chain position %" PRId64 ", expected %" PRId64, r.chain_seq,
                 seq);
    char want[64];
    snprintf(want, sizeof want, "event id %" PRId64 " ", id);
    cr_assert(strstr(r.message, want), "the message does not name the event: %s", r.message);
}

/* ---- append-only ------------------------------------------------------------ */

Test(audit_store, append_validates_before_the_insert)
{
    sb_db_conn *c = acquire();
    sb_error err = {0};
    sb_audit_record bad[] = {
        {"user:a", "Team.Create", "team:1", "success", NULL, "c", NULL, NULL, NULL},
        {"user:a", "x", "team:1", "success", NULL, "c", NULL, NULL, NULL},
        {"user:a", "team.create", "team:1", "maybe", NULL, "c", NULL, NULL, NULL},
        {"user:a", "team.create", "team:1", "success", "loud", "c", NULL, NULL, NULL},
        {"", "team.create", "team:1", "success", NULL, "c", NULL, NULL, NULL},
        {"user:a", "team.create", NULL, "success", NULL, "c", NULL, NULL, NULL},
        {"user:a", "team.create", "team:1", "success", NULL, "", NULL, NULL, NULL},
        {"user:a", "team.create", "team:1", "success", NULL, "c", NULL, NULL, "[1,2]"},
        {"user:a", "team.create", "team:1", "success", NULL, "c", NULL, NULL, "{not json"},
    };
    const char *expect[] = {"area.verb", "area.verb", "outcome", "severity", "empty actor",
                            "without resource", "empty correlation", "JSON object", "refused"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        cr_assert_neq(sb_audit_append(c, &bad[i], &err), 0, "record %zu was accepted", i);
        cr_assert(strstr(err.message, expect[i]), "record %zu: unexpected message: %s", i, err.message);
    }
    sb_db_release(db, c);
    cr_assert_eq(sql_int("SELECT count(*) FROM audit_events"), 0);
}

Test(audit_store, update_delete_truncate_are_refused_but_the_one_time_seal_is_allowed)
{
    append_n(3);
    sb_error err = {0};
    /* the last one: a seal that also changes the event */
    static const char seal_and_change[] = "UPDATE audit_events SET chain_seq = 1, hash = '\\x00', "
                                          "prev_hash = '\\x00', sealed_at = now(), outcome = 'failure' "
                                          "WHERE id = 1";
    const char *refused[] = {"UPDATE audit_events SET actor = 'user:mallory' WHERE id = 1",
                             "DELETE FROM audit_events WHERE id = 2", "TRUNCATE audit_events",
                             seal_and_change};
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        cr_assert_neq(sql(refused[i], NULL, 0, &err), 0, "accepted: %s", refused[i]);
        cr_assert_eq(err.code, SB_DB_E_REFUSED, "%s: %s", refused[i], err.message);
        cr_assert(strstr(err.message, "append-only"), "%s", err.message);
    }
    /* The owner is refused too: the table handed to a non-superuser owner. */
    sb_db_conn *c = acquire();
    cr_assert_eq(sb_db_exec_script(c, "CREATE ROLE audit_owner; ALTER TABLE audit_events OWNER TO "
                                      "audit_owner; SET ROLE audit_owner;", &err), 0, "%s", err.message);
    cr_assert_neq(sb_db_exec(c, "DELETE FROM audit_events", 0, NULL, NULL, &err), 0);
    cr_assert_eq(err.code, SB_DB_E_REFUSED, "%s", err.message);
    cr_assert_neq(sb_db_exec(c, "UPDATE audit_events SET details = '{}'", 0, NULL, NULL, &err), 0);
    cr_assert_eq(err.code, SB_DB_E_REFUSED, "%s", err.message);
    cr_assert_eq(sb_db_exec_script(c, "RESET ROLE;", &err), 0, "%s", err.message);
    sb_db_release(db, c);
    /* The sealer's UPDATE is the one the trigger lets through, once. */
    cr_assert_eq(seal(100), 3);
    cr_assert_eq(sql_int("SELECT count(*) FROM audit_events WHERE chain_seq IS NOT NULL"), 3);
    cr_assert_neq(sql("UPDATE audit_events SET chain_seq = 99, sealed_at = now() WHERE id = 1", NULL, 0, &err), 0);
    cr_assert_eq(err.code, SB_DB_E_REFUSED, "a second seal was accepted: %s", err.message);
    cr_assert_eq(seal(100), 0, "sealed events were sealed again");
    cr_assert_eq(sql_int("SELECT count(*) FROM audit_events"), 3);
    cr_assert(verify(-1).ok);
}

/* ---- sealing and verifying --------------------------------------------------- */

Test(audit_store, sealing_in_batches_builds_a_chain_that_verifies)
{
    sb_audit_verify_report r = verify(-1);
    cr_assert(r.ok, "an empty chain is intact: %s", r.message);
    cr_assert_eq(r.sealed + r.unsealed, 0);
    append_n(25);
    cr_assert_eq(seal(10), 10);
    cr_assert_eq(seal(10), 10);
    cr_assert_eq(seal(10), 5);
    cr_assert_eq(seal(10), 0);
    append_n(3); /* not yet sealed: fine while recent */
    r = verify(SB_AUDIT_STALE_DEFAULT_MS);
    cr_assert(r.ok, "%s", r.message);
    cr_assert_eq(r.sealed, 25);
    cr_assert_eq(r.unsealed, 3);
    cr_assert_eq(r.head_seq, 25);
    cr_assert(r.newest_sealed_at[0] && r.oldest_unsealed_at[0]);
    cr_assert(strstr(r.message, "audit chain ok: 28 events (3 unsealed, newest sealed at "), "%s", r.message);
    /* positions 1..25 in id order (one writer), each linked to the one before */
    cr_assert_eq(sql_int("SELECT count(*) FROM audit_events WHERE chain_seq = id"), 25);
    cr_assert_eq(sql_int("SELECT count(*) FROM audit_events a JOIN audit_events b ON b.chain_seq = "
                         "a.chain_seq + 1 WHERE b.prev_hash = a.hash"), 24);
    cr_assert_eq(sql_int("SELECT count(*) FROM audit_events WHERE chain_seq = 1 AND prev_hash = "
                         "decode(repeat('00', 32), 'hex')"), 1);
    int64_t length, waiting;
    sb_error err = {0};
    sb_db_conn *c = acquire();
    cr_assert_eq(sb_audit_counts(c, &length, &waiting, &err), 0, "%s", err.message);
    cr_assert(length == 25 && waiting == 3, "%" PRId64 " %" PRId64, length, waiting);
    sb_db_release(db, c);
    cr_assert_eq(seal(1000), 3);
    r = verify(0);
    cr_assert(r.ok && r.sealed == 28 && r.unsealed == 0, "%s", r.message);
}

Test(audit_store, the_chain_follows_commit_order_not_id_order)
{
    sb_db_conn *a = acquire(), *b = acquire();
    sb_error err = {0};
    cr_assert_eq(sb_db_begin(a, &err), 0, "%s", err.message);
    int64_t first = append_on(a, "user:a", "slow.write", "success"); /* lower id, commits last */
    cr_assert_eq(sb_db_begin(b, &err), 0, "%s", err.message);
    int64_t second = append_on(b, "user:b", "fast.write", "success");
    cr_assert_lt(first, second);
    cr_assert_eq(sb_db_commit(b, &err), 0, "%s", err.message);
    cr_assert_eq(seal(100), 1, "only the committed event is visible to the sealer");
    cr_assert_eq(sb_db_commit(a, &err), 0, "%s", err.message);
    cr_assert_eq(seal(100), 1);
    sb_db_release(db, a);
    sb_db_release(db, b);
    char q[128];
    snprintf(q, sizeof q, "SELECT chain_seq FROM audit_events WHERE id = %" PRId64, second);
    cr_assert_eq(sql_int(q), 1);
    snprintf(q, sizeof q, "SELECT chain_seq FROM audit_events WHERE id = %" PRId64, first);
    cr_assert_eq(sql_int(q), 2);
    cr_assert(verify(0).ok);
}

Test(audit_store, rolled_back_events_leave_no_trace_and_no_gap)
{
    sb_db_conn *c = acquire();
    sb_error err = {0};
    cr_assert_eq(sb_db_begin(c, &err), 0, "%s", err.message);
    append_on(c, "user:a", "team.create", "success");
    sb_db_rollback(c);
    sb_db_release(db, c);
    append_n(2);
    cr_assert_eq(seal(100), 2);
    sb_audit_verify_report r = verify(0);
    cr_assert(r.ok && r.sealed == 2, "%s", r.message);
}

Test(audit_store, unsealed_events_older_than_the_threshold_are_reported)
{
    append_n(2);
    cr_assert_eq(seal(100), 2);
    append_n(3);
    sb_audit_verify_report r = verify(0);
    cr_assert_eq(r.ok, 0);
    cr_assert_eq(r.kind, SB_AUDIT_BREAK_STALE, "%s", r.message);
    cr_assert_eq(r.stale_count, 3);
    cr_assert_eq(r.event_id, 3, "the oldest unsealed event is named: %s", r.message);
    cr_assert(strstr(r.message, "no sealer is running"), "%s", r.message);
    cr_assert(verify(-1).ok, "the threshold can be turned off");
    cr_assert(verify(60000).ok, "events of a moment ago are not stale");
}

/* ---- tampering ----------------------------------------------------------------- */

static void sealed_chain(int n)
{
    append_n(n);
    cr_assert_eq(seal(1000), (size_t)n);
    cr_assert(verify(0).ok);
}

Test(audit_store, a_modified_field_is_reported_at_that_event)
{
    sealed_chain(20);
    tamper("UPDATE audit_events SET actor = 'user:someone-else' WHERE id = 13");
    expect_break(SB_AUDIT_BREAK_MODIFIED, 13, 13);
    sb_audit_verify_report r = verify(-1);
    cr_assert(strstr(r.message, "stored hash does not match its contents — the row was modified "
                                "after sealing"), "%s", r.message);
    cr_assert_eq(r.sealed, 12, "the 12 events before it were checked");
}

Test(audit_store, any_covered_field_counts_as_a_modification)
{
    const char *changes[] = {
        "UPDATE audit_events SET details = '{\"n\": 2, \"why\": \"test\"}' WHERE id = 4",
        "UPDATE audit_events SET occurred_at = occurred_at + interval '1 microsecond' WHERE id = 4",
        "UPDATE audit_events SET outcome = 'failure' WHERE id = 4",
        "UPDATE audit_events SET remote_ip = NULL WHERE id = 4",
        "UPDATE audit_events SET correlation_id = 'corr-2' WHERE id = 4",
    };
    sealed_chain(6);
    for (size_t i = 0; i < sizeof changes / sizeof changes[0]; i++) {
        sb_error err = {0};
        char saved[2048];
        cr_assert_eq(sql("SELECT row_to_json(e)::text FROM audit_events e WHERE id = 4", saved, sizeof saved,
                         &err), 0, "%s", err.message);
        tamper(changes[i]);
        expect_break(SB_AUDIT_BREAK_MODIFIED, 4, 4);
        char restore[2600];
        snprintf(restore, sizeof restore, "DELETE FROM audit_events WHERE id = 4; INSERT INTO audit_events "
                 "SELECT * FROM json_populate_record(NULL::audit_events, '%s')", saved);
        tamper(restore);
        cr_assert(verify(0).ok, "restoring the row restores the chain (%zu)", i);
    }
}

Test(audit_store, a_deleted_event_shows_as_a_gap)
{
    sealed_chain(15);
    tamper("DELETE FROM audit_events WHERE id IN (9, 10)");
    expect_break(SB_AUDIT_BREAK_GAP, 11, 11);
    sb_audit_verify_report r = verify(-1);
    cr_assert_eq(r.expected_seq, 9);
    cr_assert(strstr(r.message, "positions 9..10 are missing — events were deleted"), "%s", r.message);
}

Test(audit_store, deleting_the_start_of_the_chain_is_reported)
{
    sealed_chain(5);
    tamper("DELETE FROM audit_events WHERE id = 1");
    expect_break(SB_AUDIT_BREAK_START, 2, 2);
}

Test(audit_store, a_forged_sealed_row_is_reported)
{
    sealed_chain(10);
    /* appended after the head, linked to it, with a made-up hash */
    tamper("INSERT INTO audit_events (actor, action, resource, outcome, correlation_id, chain_seq, "
           "prev_hash, hash, sealed_at) SELECT 'user:mallory', 'grant.create', 'grant:x', 'success', "
           "'c', 11, hash, sha256(hash), now() FROM audit_events WHERE chain_seq = 10");
    int64_t forged = sql_int("SELECT id FROM audit_events WHERE actor = 'user:mallory'");
    expect_break(SB_AUDIT_BREAK_MODIFIED, forged, 11);
}

Test(audit_store, a_forged_row_carrying_a_real_events_hashes_is_reported)
{
    sealed_chain(10);
    /* event 5 replaced by a forgery that copies its position and hashes */
    tamper("CREATE TEMP TABLE victim AS SELECT * FROM audit_events WHERE id = 5; "
           "DELETE FROM audit_events WHERE id = 5; "
           "INSERT INTO audit_events (occurred_at, actor, action, resource, outcome, correlation_id, "
           "chain_seq, prev_hash, hash, sealed_at) SELECT occurred_at, 'user:mallory', action, resource, "
           "outcome, correlation_id, chain_seq, prev_hash, hash, sealed_at FROM victim");
    int64_t forged = sql_int("SELECT id FROM audit_events WHERE actor = 'user:mallory'");
    expect_break(SB_AUDIT_BREAK_MODIFIED, forged, 5);
}

Test(audit_store, swapped_hashes_are_reported)
{
    sealed_chain(10);
    tamper("UPDATE audit_events a SET hash = b.hash FROM audit_events b "
           "WHERE (a.id, b.id) IN ((6, 7), (7, 6))");
    expect_break(SB_AUDIT_BREAK_MODIFIED, 6, 6);
}

Test(audit_store, reordered_events_break_the_link)
{
    sealed_chain(10);
    tamper("UPDATE audit_events SET chain_seq = -6 WHERE id = 6; "
           "UPDATE audit_events SET chain_seq = 6 WHERE id = 7; "
           "UPDATE audit_events SET chain_seq = 7 WHERE id = 6");
    expect_break(SB_AUDIT_BREAK_LINK, 7, 6);
}

Test(audit_store, a_wrong_key_fails_at_the_first_event)
{
    sealed_chain(3);
    key[0] ^= 1;
    expect_break(SB_AUDIT_BREAK_MODIFIED, 1, 1);
}

Test(audit_store, a_malformed_head_stops_the_sealer_instead_of_extending_it)
{
    sealed_chain(3);
    tamper("UPDATE audit_events SET hash = '\\x0102' WHERE id = 3");
    append_n(1);
    size_t n = 7;
    sb_error err = {0};
    cr_assert_neq(sb_audit_seal(db, key, 10, &n, &err), 0);
    cr_assert_eq(err.code, SB_AUDIT_E_CHAIN, "%s", err.message);
    cr_assert_eq(n, 0);
    expect_break(SB_AUDIT_BREAK_MALFORMED, 3, 3);
}

/* ---- concurrency and throughput --------------------------------------------- */

#define WRITERS 8
#define PER_WRITER 200

typedef struct writer_arg {
    int index, count;
    int failures;
} writer_arg;

static int append_txn(sb_db_conn *c, void *ctx, sb_error *err)
{
    writer_arg *w = ctx;
    char actor[32];
    snprintf(actor, sizeof actor, "user:writer-%d", w->index);
    sb_audit_record r = {actor, "load.write", "load:1", "success", NULL, actor, NULL, NULL, "{}"};
    return sb_audit_append(c, &r, err);
}

static void *writer(void *p)
{
    writer_arg *w = p;
    for (int i = 0; i < w->count; i++) {
        sb_error err = {0};
        if (sb_db_transaction(db, append_txn, w, &err) < 0)
            w->failures++;
    }
    return NULL;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Runs WRITERS threads appending `each` events; returns events per second. */
static double run_writers(int each)
{
    pthread_t t[WRITERS];
    writer_arg args[WRITERS];
    double start = now_s();
    for (int i = 0; i < WRITERS; i++) {
        args[i] = (writer_arg){i, each, 0};
        cr_assert_eq(pthread_create(&t[i], NULL, writer, &args[i]), 0);
    }
    for (int i = 0; i < WRITERS; i++) {
        pthread_join(t[i], NULL);
        cr_assert_eq(args[i].failures, 0, "writer %d failed %d appends", i, args[i].failures);
    }
    return WRITERS * each / (now_s() - start);
}

static sb_app sealer_app(void)
{
    sb_app app;
    memset(&app, 0, sizeof app);
    app.db = db;
    app.audit_key = key;
    return app;
}

Test(audit_store, concurrent_writers_and_two_sealers_seal_every_event_exactly_once)
{
    sb_app app = sealer_app();
    sb_audit_sealer *s1, *s2;
    sb_error err = {0};
    cr_assert_eq(sb_audit_sealer_start(&app, 10, &s1, &err), 0, "%s", err.message);
    cr_assert_eq(sb_audit_sealer_start(&app, 15, &s2, &err), 0, "%s", err.message);
    run_writers(PER_WRITER);
    sb_audit_sealer_stop(s1); /* each makes a last pass */
    sb_audit_sealer_stop(s2);
    seal(1000); /* whatever committed after the last pass */
    const long long total = WRITERS * PER_WRITER;
    cr_assert_eq(sql_int("SELECT count(*) FROM audit_events"), total);
    cr_assert_eq(sql_int("SELECT count(chain_seq) FROM audit_events"), total, "unsealed events remain");
    cr_assert_eq(sql_int("SELECT count(DISTINCT chain_seq) FROM audit_events"), total);
    cr_assert_eq(sql_int("SELECT min(chain_seq) FROM audit_events"), 1);
    cr_assert_eq(sql_int("SELECT max(chain_seq) FROM audit_events"), total);
    for (int i = 0; i < WRITERS; i++) {
        char q[128];
        snprintf(q, sizeof q, "SELECT count(*) FROM audit_events WHERE actor = 'user:writer-%d'", i);
        cr_assert_eq(sql_int(q), PER_WRITER);
    }
    sb_audit_verify_report r = verify(0);
    cr_assert(r.ok, "%s", r.message);
    cr_assert_eq(r.sealed, total);
}

#define THROUGHPUT_EACH 1000

Test(audit_store, the_sealer_does_not_serialise_appends, .timeout = 240)
{
    double without = run_writers(THROUGHPUT_EACH);
    cr_assert_eq(seal(10000), (size_t)(WRITERS * THROUGHPUT_EACH));
    sb_app app = sealer_app();
    sb_audit_sealer *s;
    sb_error err = {0};
    cr_assert_eq(sb_audit_sealer_start(&app, 10, &s, &err), 0, "%s", err.message);
    double with = run_writers(THROUGHPUT_EACH);
    sb_audit_sealer_stats st;
    sb_audit_sealer_stats_get(s, &st);
    sb_audit_sealer_stop(s);
    seal(10000);
    fprintf(stderr,
            "audit throughput (%d writers x %d appends, one transaction each): %.0f events/s without a "
            "sealer, %.0f events/s with a sealer every 10 ms (ratio %.2f; %" PRIu64 " sealed in %" PRIu64
            " passes while writing)\n",
            WRITERS, THROUGHPUT_EACH, without, with, with / without, st.sealed, st.passes);
    cr_assert_gt(st.sealed, 0, "the sealer ran while the writers wrote");
    sb_audit_verify_report r = verify(0);
    cr_assert(r.ok && r.sealed == 2 * WRITERS * THROUGHPUT_EACH, "%s", r.message);
}

Test(audit_store, a_failing_sealer_keeps_running_and_stops_promptly)
{
    sb_app app = sealer_app();
    sealed_chain(2);
    tamper("UPDATE audit_events SET hash = NULL WHERE id = 2");
    append_n(1);
    sb_audit_sealer *s;
    sb_error err = {0};
    cr_assert_eq(sb_audit_sealer_start(&app, 10, &s, &err), 0, "%s", err.message);
    sb_audit_sealer_stats st = {0};
    double deadline = now_s() + 10;
    while (st.failures < 3 && now_s() < deadline) {
        sb_audit_sealer_wake(s);
        struct timespec pause = {0, 5000000};
        nanosleep(&pause, NULL);
        sb_audit_sealer_stats_get(s, &st);
    }
    cr_assert_geq(st.failures, 3, "the sealer stopped retrying");
    cr_assert(st.failing);
    double before = now_s();
    sb_audit_sealer_stop(s);
    cr_assert_lt(now_s() - before, 5.0, "stop took too long");
    cr_assert_eq(sql_int("SELECT count(*) FROM audit_events WHERE chain_seq IS NULL"), 1);
}
