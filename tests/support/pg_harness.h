/*
 * tests/support/pg_harness.h — a private, throwaway PostgreSQL for tests.
 *
 * sb_pg_harness_start creates a fresh directory under /tmp and starts a
 * cluster in it through the product's own embedded PostgreSQL code
 * (store/embedded_pg.h: same initdb, same socket-only server, same
 * privilege drop as root), in its "ephemeral" mode (fsync off). The
 * cluster and its directory are removed by sb_pg_harness_stop — and also
 * when the test process dies without stopping it: PostgreSQL is told to
 * shut down when its parent dies, and a small watchdog (/bin/sh waiting on
 * a pipe) removes the directory. Works as root and as any other user.
 *
 * Criterion runs every Test in its own process, so a suite that wants one
 * cluster for all its tests starts it once in the runner process and the
 * tests, in their worker processes, then
 * read its conninfo from the environment and take a fresh empty database
 * each (about 70 ms) with sb_pg_harness_fresh_database. Criterion's
 * ReportHook(PRE_ALL/POST_ALL) run in that runner process (see below).
 *
 * Not part of sbridge.
 */
#ifndef SB_TESTS_PG_HARNESS_H
#define SB_TESTS_PG_HARNESS_H

#include <stddef.h>

#include "store/embedded_pg.h"

typedef struct sb_pg_harness sb_pg_harness;

/* 0 on success; -1 with the reason on stderr. */
int sb_pg_harness_start(sb_pg_harness **out);
/* Stops the server and removes its directory. NULL is a no-op. */
void sb_pg_harness_stop(sb_pg_harness *h);

/* Connection string of database "sbridge" of the cluster, as the
 * superuser that owns the tables (migrations, tests that play an attacker). */
const char *sb_pg_harness_conninfo(const sb_pg_harness *h);
/* The same database as the server's role (SB_EMBEDDED_PG_APP_USER, which
 * has data rights only once migrations granted them): conninfo with the
 * user replaced. 0 on success. */
int sb_pg_harness_as_app(const char *conninfo, char *out, size_t cap);
/* The cluster's state directory (pgdata, run, postgres.log). */
const char *sb_pg_harness_dir(const sb_pg_harness *h);
sb_embedded_pg *sb_pg_harness_server(const sb_pg_harness *h);

/* ---- one cluster shared by every test of a criterion binary ---- */

#define SB_PG_HARNESS_ENV "SB_PG_HARNESS_CONNINFO"

/* Exports h's conninfo in SB_PG_HARNESS_ENV (inherited by test workers). */
void sb_pg_harness_share(const sb_pg_harness *h);
/* The shared cluster's conninfo (database "sbridge"); NULL if none. */
const char *sb_pg_harness_shared_conninfo(void);
/* Creates a new empty database in the shared cluster and writes its
 * conninfo to out. 0 on success; -1 with the reason on stderr. */
int sb_pg_harness_fresh_database(char *out, size_t cap);

/* Start and stop the shared cluster; call them from the criterion hooks
 * that run in the runner process, before the first and after the last
 * test:
 *   ReportHook(PRE_ALL)(struct criterion_test_set *s) { (void)s; sb_pg_harness_shared_start(); }
 *   ReportHook(POST_ALL)(struct criterion_global_stats *s) { (void)s; sb_pg_harness_shared_stop(); }
 * A failed start is reported on stderr; the tests then fail in
 * sb_pg_harness_fresh_database. */
void sb_pg_harness_shared_start(void);
void sb_pg_harness_shared_stop(void);

#endif
