/*
 * store/db.h — the PostgreSQL connection pool and the only way SQL is run.
 *
 * Contract:
 *   - sb_db_open validates the connection string (key=value pairs or a
 *     postgresql:// URI), opens one connection at once so a wrong URL fails
 *     at start-up with a clear message, and opens the others on demand up
 *     to pool_size. Messages and logs describe the server with
 *     sb_db_describe_conninfo, never with the string itself (it may hold a
 *     password).
 *   - sb_db_acquire hands one connection to one thread until sb_db_release;
 *     it waits at most timeout_ms for a free one (SB_DB_E_TIMEOUT). A
 *     connection found broken (server restarted, backend terminated) is
 *     re-established transparently before it is handed out; only if that
 *     fails does acquire return SB_DB_E_UNAVAILABLE. Releasing a connection
 *     left inside a transaction rolls it back; one still holding
 *     session-level advisory locks has them released (both are bugs in the
 *     caller and are logged).
 *   - Statements are parameterised (PQexecParams, text parameters; a NULL
 *     parameter is SQL NULL). SQL text is never built from values; the only
 *     unparameterised text is a compiled-in migration (sb_db_exec_script).
 *   - Failures map SQLSTATE to the SB_DB_E_* codes below, so callers can
 *     branch (409 on CONFLICT, retry on RETRY...). The message names the
 *     SQLSTATE and PostgreSQL's primary message, never its DETAIL (which
 *     may echo row values). The fields of the last failure on a connection
 *     (SQLSTATE, constraint, table, hint) are kept for callers that need
 *     to tell two conflicts apart (sb_db_last_error).
 *   - sb_db_transaction runs fn inside BEGIN/COMMIT and re-runs it (after
 *     a rollback and a short randomised back-off) when PostgreSQL reports
 *     a serialization failure or deadlock, up to SB_DB_TRANSACTION_RETRIES
 *     times. fn must therefore have no effect outside the database.
 *   - A READ COMMITTED transaction sends no BEGIN and no COMMIT: its
 *     statements go in libpq's pipeline mode with no Sync between them,
 *     which PostgreSQL runs as one implicit transaction, and the Sync that
 *     ends it commits (a failure before or at it rolls everything back).
 *     Each statement still waits for its own result. Stricter isolation
 *     levels send BEGIN ISOLATION LEVEL ... in the same round trip as the
 *     first statement, and COMMIT. A transaction that ran no statement
 *     sends nothing. Raw libpq use (sb_db_pgconn, sb_db_exec_script) turns
 *     the transaction into an explicit block first (BEGIN).
 *   - A listener owns a dedicated connection (never a pooled one), LISTENs
 *     on its channels and waits with poll() on the socket. If the
 *     connection is lost it reconnects, re-LISTENs and reports
 *     SB_DB_LISTEN_RECONNECTED: notifications sent meanwhile are lost, so
 *     the caller must re-check whatever it was waiting for.
 *
 * Thread-safety: the pool is thread-safe; a connection and a listener are
 * used by one thread at a time. Ownership: PGresults returned through
 * `out` belong to the caller (PQclear).
 */
#ifndef SB_STORE_DB_H
#define SB_STORE_DB_H

#include <libpq-fe.h>
#include <stddef.h>
#include <stdint.h>

#include "util/error.h"

enum sb_db_error_code {
    SB_DB_E_INVALID = 2001, /* bad arguments or connection string; a bug or a config error */
    SB_DB_E_UNAVAILABLE,    /* cannot connect, or the connection was lost (class 08, 57P0x, 53xxx) */
    SB_DB_E_TIMEOUT,        /* no free connection in time, statement or lock timeout (57014, 55P03) */
    SB_DB_E_CONFLICT,       /* unique or exclusion violation (23505, 23P01) */
    SB_DB_E_RETRY,          /* serialization failure or deadlock (40001, 40P01): run again */
    SB_DB_E_FK,             /* foreign key violation (23503) */
    SB_DB_E_CHECK,          /* CHECK or NOT NULL constraint violation (23514, 23502) */
    SB_DB_E_REFUSED,        /* a trigger or function raised an exception (P0001) */
    SB_DB_E_QUERY,          /* any other SQL error (syntax, types, permissions...) */
    SB_DB_E_NO_MEMORY,
};

#define SB_DB_TRANSACTION_RETRIES 5
/* PostgreSQL's limit on a NOTIFY payload (bytes, without the NUL). */
#define SB_DB_NOTIFY_PAYLOAD_MAX 7999
/* Channel names: [a-z0-9_], 1..63 characters. */
#define SB_DB_CHANNEL_MAX 63

typedef struct sb_db sb_db;
typedef struct sb_db_conn sb_db_conn;
typedef struct sb_db_listener sb_db_listener;

typedef enum sb_db_isolation {
    SB_DB_READ_COMMITTED = 0,
    SB_DB_REPEATABLE_READ,
    SB_DB_SERIALIZABLE,
} sb_db_isolation;

/* Fields of the last failed statement on a connection ("" when absent). */
typedef struct sb_db_error_info {
    char sqlstate[6];
    char constraint_name[64];
    char table_name[64];
    char hint[256];
} sb_db_error_info;

/* ---- pool ---------------------------------------------------------------- */

/* pool_size 1..512; connect_timeout_ms > 0 bounds each connection attempt
 * and is also the default acquire timeout. */
int sb_db_open(const char *conninfo, int pool_size, int64_t connect_timeout_ms, sb_db **out,
               sb_error *err);
/* Every connection must have been released. NULL is a no-op. */
void sb_db_close(sb_db *db);
/* timeout_ms < 0: the pool's connect timeout. */
int sb_db_acquire(sb_db *db, int64_t timeout_ms, sb_db_conn **out, sb_error *err);
void sb_db_release(sb_db *db, sb_db_conn *conn);
/* Connections currently open (idle or in use), for metrics and tests. */
int sb_db_open_connections(sb_db *db);

/* "host=... port=... dbname=... user=..." for messages: never the password.
 * Writes "(unparseable connection string)" when conninfo is not valid. */
void sb_db_describe_conninfo(const char *conninfo, char *out, size_t cap);

/* ---- statements ---------------------------------------------------------- */

/* A write whose result nobody reads in its transaction (an audit event, a
 * key row): inside a transaction it is deferred and sent in the same round
 * trip as the commit (earlier only when SB_DB_DEFERRED_MAX are queued, or
 * before raw libpq use), in the order deferred; params are copied, so never
 * a secret value (they are wiped when freed); sql must be a literal. A
 * failure fails the commit, whose message names this statement. Outside a
 * transaction it runs at once. 0, or -1 with err. */
int sb_db_exec_deferred(sb_db_conn *conn, const char *sql, int nparams,
                        const char *const *params, sb_error *err);
/* The same for rows given as one non-empty JSON array (rows_json "[{...}]"),
 * which sql takes as its only parameter ($1::jsonb): rows deferred one after
 * the other for the same sql join into one array, so they are one statement
 * (two audit events of a transaction: one INSERT). */
int sb_db_exec_deferred_rows(sb_db_conn *conn, const char *sql, const char *rows_json,
                             sb_error *err);
/* Runs one parameterised statement. On success returns 0 and, if out is
 * not NULL, the result (PGRES_TUPLES_OK or PGRES_COMMAND_OK) in *out. */
int sb_db_exec(sb_db_conn *conn, const char *sql, int nparams, const char *const *params,
               PGresult **out, sb_error *err);
/* Runs a compiled-in script of several statements (simple query protocol,
 * no parameters). For migrations only. */
int sb_db_exec_script(sb_db_conn *conn, const char *sql, sb_error *err);
/* Rows changed by a command result (PQcmdTuples), 0 when none. */
int64_t sb_db_affected(const PGresult *res);
/* A cell as a 64-bit integer; NULL reads as 0. */
int64_t sb_db_cell_i64(const PGresult *res, int row, int col);
/* Integer query parameters. Every parameter is text, so an integer is
 * passed as its decimal form: sb_db_int_param writes v into buf and
 * returns it; SB_DB_INT(v) does the same into a compound literal that
 * lives until the end of the enclosing block, for parameter arrays:
 *     const char *params[] = {id, SB_DB_INT(limit + 1)};
 * (never return it or keep it past that block). */
#define SB_DB_INT_TEXT_MAX 21 /* "-9223372036854775808" and its NUL */
const char *sb_db_int_param(char buf[SB_DB_INT_TEXT_MAX], int64_t v);
#define SB_DB_INT(v) sb_db_int_param((char[SB_DB_INT_TEXT_MAX]){0}, (int64_t)(v))
/* Runs a statement expected to return at most one row: 0 with row(res, 0,
 * out) called when there is one, 1 when there is none, -1 on error. */
int sb_db_exec_one(sb_db_conn *conn, const char *sql, int nparams, const char *const *params,
                   void (*row)(const PGresult *res, int i, void *out), void *out, sb_error *err);
/* sb_db_exec for statements whose only result is how many rows they
 * changed (affected may be NULL). */
int sb_db_exec_affected(sb_db_conn *conn, const char *sql, int nparams, const char *const *params,
                        int64_t *affected, sb_error *err);
const sb_db_error_info *sb_db_last_error(const sb_db_conn *conn);
/* The libpq connection, for what this API does not cover (escaping, COPY). */
PGconn *sb_db_pgconn(sb_db_conn *conn);

/* ---- transactions -------------------------------------------------------- */

int sb_db_begin(sb_db_conn *conn, sb_error *err); /* READ COMMITTED */
/* 1 inside a transaction (begun, even if nothing was sent yet). */
int sb_db_in_transaction(const sb_db_conn *conn);
int sb_db_begin_isolated(sb_db_conn *conn, sb_db_isolation iso, sb_error *err);
int sb_db_commit(sb_db_conn *conn, sb_error *err);
/* Never fails the caller: a rollback on a broken connection is moot. */
void sb_db_rollback(sb_db_conn *conn);

/* Returns < 0 (err filled) to roll back; >= 0 to commit. Pass the error
 * of a failed sb_db_exec through unchanged: its code (SB_DB_E_RETRY) is
 * what makes sb_db_transaction run fn again. */
typedef int (*sb_db_txn_fn)(sb_db_conn *conn, void *ctx, sb_error *err);
/* Acquires a connection, runs fn in a transaction, commits; retries on
 * SB_DB_E_RETRY. Returns fn's non-negative result, or -1. */
int sb_db_transaction(sb_db *db, sb_db_txn_fn fn, void *ctx, sb_error *err);
int sb_db_transaction_isolated(sb_db *db, sb_db_isolation iso, sb_db_txn_fn fn, void *ctx,
                               sb_error *err);

/* ---- advisory locks ------------------------------------------------------ */

/* A stable lock key for a name (first 8 bytes of its BLAKE2b hash). */
int64_t sb_db_advisory_key(const char *name);
/* Session-level: held until unlocked (or the connection is released). */
int sb_db_advisory_lock(sb_db_conn *conn, int64_t key, sb_error *err);
int sb_db_advisory_try_lock(sb_db_conn *conn, int64_t key, int *acquired, sb_error *err);
int sb_db_advisory_unlock(sb_db_conn *conn, int64_t key, sb_error *err);
/* Transaction-level: must be inside a transaction; released at its end. */
int sb_db_advisory_try_lock_xact(sb_db_conn *conn, int64_t key, int *acquired, sb_error *err);

/* ---- LISTEN / NOTIFY ----------------------------------------------------- */

/* Sends a notification (pg_notify); inside a transaction it is delivered
 * at commit, and not at all on rollback. payload may be NULL (""). */
int sb_db_notify(sb_db_conn *conn, const char *channel, const char *payload, sb_error *err);

#define SB_DB_LISTEN_TIMEOUT 0
#define SB_DB_LISTEN_NOTIFIED 1
#define SB_DB_LISTEN_RECONNECTED 2

int sb_db_listen_open(const char *conninfo, const char *const *channels, size_t n_channels,
                      int64_t connect_timeout_ms, sb_db_listener **out, sb_error *err);
/* The same on the pool's server and credentials (db.c). */
int sb_db_listen_open_pool(sb_db *db, const char *const *channels, size_t n_channels,
                           sb_db_listener **out, sb_error *err);
/* Waits up to timeout_ms (0: just check) for a notification on any of the
 * listener's channels. Returns SB_DB_LISTEN_NOTIFIED with the channel and
 * payload copied out (truncated to the capacities; channel_out may be
 * NULL), SB_DB_LISTEN_TIMEOUT, SB_DB_LISTEN_RECONNECTED (see the contract
 * above), or -1 when the server cannot be reached (call again to retry). */
int sb_db_listen_wait(sb_db_listener *l, int64_t timeout_ms, char *channel_out, size_t channel_cap,
                      char *payload_out, size_t payload_cap, sb_error *err);
/* fn(ctx) is called (on the waiting thread) as soon as sb_db_listen_wait
 * finds the connection lost, before it tries to reconnect: whoever relies
 * on the notifications can stop trusting them until RECONNECTED. */
void sb_db_listen_on_lost(sb_db_listener *l, void (*fn)(void *ctx), void *ctx);
/* The socket to include in an external poll loop (-1 when disconnected). */
int sb_db_listen_socket(const sb_db_listener *l);
void sb_db_listen_close(sb_db_listener *l);

#endif
