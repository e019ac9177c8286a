/* store/db_exec.c — running statements, mapping SQLSTATE to error codes,
 * transactions with retry, advisory locks and NOTIFY. See db.h. */
#include <inttypes.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "store/db_internal.h"
#include "util/log.h"

/* ---- errors -------------------------------------------------------------- */

static int starts_with(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

static int code_for_sqlstate(const char *state)
{
    static const struct {
        const char *state;
        int code;
    } exact[] = {
        {"23505", SB_DB_E_CONFLICT}, {"23P01", SB_DB_E_CONFLICT}, {"40001", SB_DB_E_RETRY},
        {"40P01", SB_DB_E_RETRY},    {"23503", SB_DB_E_FK},       {"23514", SB_DB_E_CHECK},
        {"23502", SB_DB_E_CHECK},    {"P0001", SB_DB_E_REFUSED},  {"57014", SB_DB_E_TIMEOUT},
        {"55P03", SB_DB_E_TIMEOUT},  {"57P01", SB_DB_E_UNAVAILABLE}, {"57P02", SB_DB_E_UNAVAILABLE},
        {"57P03", SB_DB_E_UNAVAILABLE},
    };
    for (size_t i = 0; i < sizeof exact / sizeof exact[0]; i++)
        if (strcmp(state, exact[i].state) == 0)
            return exact[i].code;
    /* Class 08: connection exception; class 53: insufficient resources
     * (too many connections, disk full, out of memory) on the server. */
    if (starts_with(state, "08") || starts_with(state, "53"))
        return SB_DB_E_UNAVAILABLE;
    return SB_DB_E_QUERY;
}

/* The statement's first words on one line, for messages (SQL text is
 * constant in this code base, so it holds no values). */
static void summarize_sql(const char *sql, char *out, size_t cap)
{
    /* Whitespace folded; cut with "..." so the result always fits in cap
     * (one step writes at most 2 bytes; "..." and NUL need 4 more). */
    size_t o = 0;
    int space = 0;
    const char *p = sql;
    for (; *p && o + 6 <= cap; p++) {
        int ws = *p == ' ' || *p == '\n' || *p == '\t' || *p == '\r';
        if (ws) {
            space = o > 0;
            continue;
        }
        if (space)
            out[o++] = ' ';
        space = 0;
        out[o++] = *p;
    }
    if (*p && o + 4 <= cap)
        memcpy(out + o, "...", 3), o += 3;
    out[o] = '\0';
}

static void copy_field(char *dst, size_t cap, const PGresult *res, int field)
{
    const char *v = res ? PQresultErrorField(res, field) : NULL;
    snprintf(dst, cap, "%s", v ? v : "");
}

static void one_line(const char *in, char *out, size_t cap)
{
    size_t o = 0;
    for (; in && *in && o + 1 < cap; in++) {
        char ch = (*in == '\n' || *in == '\t') ? ' ' : *in;
        if (ch != ' ' || (o > 0 && out[o - 1] != ' '))
            out[o++] = ch;
    }
    while (o && out[o - 1] == ' ')
        o--;
    out[o] = '\0';
}

int sb_db_result_error(sb_db_conn *c, PGconn *pg, const PGresult *res, const char *sql,
                       const char *describe, sb_error *err)
{
    sb_db_error_info info;
    memset(&info, 0, sizeof info);
    copy_field(info.sqlstate, sizeof info.sqlstate, res, PG_DIAG_SQLSTATE);
    copy_field(info.constraint_name, sizeof info.constraint_name, res, PG_DIAG_CONSTRAINT_NAME);
    copy_field(info.table_name, sizeof info.table_name, res, PG_DIAG_TABLE_NAME);
    copy_field(info.hint, sizeof info.hint, res, PG_DIAG_MESSAGE_HINT);
    if (c)
        c->last = info;
    char stmt[100], msg[300];
    summarize_sql(sql, stmt, sizeof stmt);
    int code = info.sqlstate[0] ? code_for_sqlstate(info.sqlstate) : SB_DB_E_QUERY;
    if (PQstatus(pg) == CONNECTION_BAD || code == SB_DB_E_UNAVAILABLE) {
        one_line(PQerrorMessage(pg), msg, sizeof msg);
        return sb_error_set(err, SB_DB_E_UNAVAILABLE,
                            "lost the connection to PostgreSQL (%s) running \"%s\": %s; the "
                            "statement's outcome is unknown and the connection is re-established "
                            "on its next use",
                            describe, stmt, msg);
    }
    if (info.sqlstate[0] == '\0') {
        one_line(res ? PQresultErrorMessage(res) : PQerrorMessage(pg), msg, sizeof msg);
        return sb_error_set(err, SB_DB_E_QUERY, "libpq could not run \"%s\": %s", stmt,
                            msg[0] ? msg : "no result (out of memory?)");
    }
    one_line(PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY), msg, sizeof msg);
    return sb_error_set(err, code, "PostgreSQL refused \"%s\": %s (SQLSTATE %s)", stmt, msg,
                        info.sqlstate);
}

/* ---- statements ---------------------------------------------------------- */

static int check_conn(const sb_db_conn *c, const char *sql, sb_error *err)
{
    if (c == NULL || c->pg == NULL || sql == NULL)
        return sb_error_set(err, SB_DB_E_INVALID, "a statement was run without a connection or SQL");
    return 0;
}

static int finish(sb_db_conn *c, PGresult *res, const char *sql, PGresult **out, sb_error *err)
{
    ExecStatusType st = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
    if (st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK) {
        if (out)
            *out = res;
        else
            PQclear(res);
        return 0;
    }
    int rc;
    if (st == PGRES_FATAL_ERROR || st == PGRES_NONFATAL_ERROR || st == PGRES_BAD_RESPONSE)
        rc = sb_db_result_error(c, c->pg, res, sql, sb_db_describe(c->db), err);
    else
        rc = sb_error_set(err, SB_DB_E_INVALID, "statement \"%.60s\" returned %s, which this API does "
                          "not handle (empty query or COPY)", sql, PQresStatus(st));
    PQclear(res);
    return rc;
}

/* The deferred writes (when flush), then last (when not NULL): items[]
 * gets them in order; returns how many. */
static size_t pending_items(const sb_db_conn *c, const sb_db_stmt *last, int flush,
                            sb_db_stmt *items)
{
    size_t n = 0;
    for (size_t i = 0; flush && i < c->n_deferred; i++)
        items[n++] = c->deferred[i];
    if (last)
        items[n++] = *last;
    return n;
}

/* The deferred writes' copies, once sent (or dropped). */
static void free_deferred(sb_db_conn *c)
{
    for (size_t i = 0; i < c->n_deferred; i++) {
        char **params = (char **)c->deferred[i].params;
        for (int k = 0; k < c->deferred[i].nparams; k++) {
            if (params[k])
                sodium_memzero(params[k], strlen(params[k]));
            free(params[k]);
        }
        free(params);
    }
    c->n_deferred = 0;
}

/* The result of a pipeline run of items[0..n) through finish(): an error
 * names the statement that failed, deferred or not, or `at_sync` when it
 * came at the Sync. Sent deferred writes (flush) are gone either way. */
static int finish_run(sb_db_conn *c, PGresult *res, PGresult *failed, const sb_db_stmt *items,
                      size_t n, size_t at, const char *at_sync, int flush, PGresult **out,
                      sb_error *err)
{
    const char *sql = res ? (n ? items[n - 1].sql : at_sync) : at < n ? items[at].sql : at_sync;
    int rc = finish(c, res ? res : failed, sql, out, err);
    if (flush)
        free_deferred(c);
    return rc;
}

/* In an implicit transaction: last, after the deferred writes when flush,
 * in one round trip, and no Sync — the transaction goes on. */
static int run_implicit(sb_db_conn *c, const sb_db_stmt *last, int flush, PGresult **out,
                        sb_error *err)
{
    if (c->implicit_failed) {
        sb_db_drop_deferred(c);
        return sb_error_set(err, SB_DB_E_QUERY,
                            "\"%.60s\" was run in a transaction in which a statement had failed "
                            "(a bug: roll back after a failure; the earlier error is the one to fix)",
                            last ? last->sql : "COMMIT");
    }
    sb_db_stmt items[SB_DB_DEFERRED_MAX + 1];
    size_t n = pending_items(c, last, flush, items), at;
    if (n == 0)
        return 0;
    PGresult *failed;
    PGresult *res = sb_db_pipeline_run(c, items, n, SB_DB_PIPE_FLUSH, &failed, &at);
    c->implicit = SB_DB_IMPLICIT_OPEN;
    c->implicit_failed = res == NULL;
    return finish_run(c, res, failed, items, n, at, "the transaction's statements", flush, out,
                      err);
}

/* A deferred BEGIN, the deferred writes when flush, then last (when not
 * NULL), in one round trip; *out the last statement's result. */
static int run_with_pending(sb_db_conn *c, const sb_db_stmt *last, int flush, PGresult **out,
                            sb_error *err)
{
    if (c->implicit != SB_DB_IMPLICIT_NONE)
        return run_implicit(c, last, flush, out, err);
    sb_db_stmt items[SB_DB_DEFERRED_MAX + 2];
    size_t n = 0;
    if (c->begin_pending)
        items[n++] = (sb_db_stmt){c->begin_pending, 0, NULL, 0};
    n += pending_items(c, last, flush, items + n);
    if (n == 0)
        return 0;
    c->begin_pending = NULL;
    PGresult *failed;
    size_t at;
    PGresult *res = sb_db_prepared_run(c, items, n, &failed, &at);
    return finish_run(c, res, failed, items, n, at, items[n - 1].sql, flush, out, err);
}

int sb_db_exec(sb_db_conn *c, const char *sql, int nparams, const char *const *params,
               PGresult **out, sb_error *err)
{
    if (out)
        *out = NULL;
    if (check_conn(c, sql, err) != 0)
        return -1;
    if (nparams < 0 || (nparams > 0 && params == NULL))
        return sb_error_set(err, SB_DB_E_INVALID, "statement \"%.60s\": %d parameters but no values",
                            sql, nparams);
    sb_db_stmt s = {sql, nparams, params, 0};
    return run_with_pending(c, &s, 0, out, err);
}

/* Raw libpq use needs a real transaction block: BEGIN turns an implicit
 * transaction into one (with the statements it ran so far), and the Sync
 * after it leaves pipeline mode without ending the block. The deferred
 * writes go first. */
int sb_db_flush_begin(sb_db_conn *c, sb_error *err)
{
    if (c->implicit == SB_DB_IMPLICIT_BEGUN) {
        c->implicit = SB_DB_IMPLICIT_NONE;
        c->begin_pending = "BEGIN";
    }
    if (c->implicit == SB_DB_IMPLICIT_NONE)
        return run_with_pending(c, NULL, 1, NULL, err);
    if (c->implicit_failed) {
        sb_db_drop_deferred(c);
        return sb_error_set(err, SB_DB_E_QUERY, "raw use of a connection whose transaction had "
                                                "failed (a bug: roll back after a failure)");
    }
    sb_db_stmt items[SB_DB_DEFERRED_MAX + 1];
    size_t n = pending_items(c, &(sb_db_stmt){"BEGIN", 0, NULL, 0}, 1, items), at;
    PGresult *failed;
    PGresult *res = sb_db_pipeline_run(c, items, n, SB_DB_PIPE_SYNC, &failed, &at);
    if (res == NULL) { /* the Sync ended the transaction: nothing may run as if inside it */
        c->implicit_failed = 1;
        c->discard = 1;
    } else {
        c->implicit = SB_DB_IMPLICIT_NONE;
    }
    return finish_run(c, res, failed, items, n, at, "BEGIN", 1, NULL, err);
}

size_t sb_db_drop_deferred(sb_db_conn *c)
{
    size_t n = c->n_deferred;
    free_deferred(c);
    c->begin_pending = NULL;
    return n;
}

/* Sends the deferred writes now (the queue is full), in the transaction. */
static int send_deferred(sb_db_conn *c, sb_error *err)
{
    return run_with_pending(c, NULL, 1, NULL, err);
}

/* A copy of params[0..nparams) (NULL stays NULL), or NULL out of memory. */
static char **copy_params(int nparams, const char *const *params)
{
    char **copy = calloc((size_t)nparams + 1, sizeof *copy);
    for (int k = 0; copy && k < nparams; k++)
        if (params[k] && (copy[k] = strdup(params[k])) == NULL) {
            for (int j = 0; j < k; j++)
                free(copy[j]);
            free(copy);
            copy = NULL;
        }
    return copy;
}

/* Queues a write in the open transaction: 1 when queued, 0 when it must
 * run at once (outside a transaction, or invalid), -1 with err. */
static int queue_deferred(sb_db_conn *c, const char *sql, int nparams, const char *const *params,
                          int rows, sb_error *err)
{
    int valid = nparams == 0 || (nparams > 0 && params != NULL);
    if (!sb_db_in_transaction(c) || !valid)
        return 0;
    if (c->n_deferred == SB_DB_DEFERRED_MAX && send_deferred(c, err) != 0)
        return -1;
    char **copy = copy_params(nparams, params);
    if (copy == NULL)
        return sb_error_set(err, SB_DB_E_INVALID, "out of memory deferring a statement");
    c->deferred[c->n_deferred++] = (sb_db_stmt){sql, nparams, (const char *const *)copy, rows};
    return 1;
}

int sb_db_exec_deferred(sb_db_conn *c, const char *sql, int nparams, const char *const *params,
                        sb_error *err)
{
    if (check_conn(c, sql, err) != 0)
        return -1;
    int q = queue_deferred(c, sql, nparams, params, 0, err);
    return q != 0 ? (q < 0 ? -1 : 0) : sb_db_exec(c, sql, nparams, params, NULL, err);
}

/* "[a]" and "[b]" as "[a,b]" in a new string (NULL out of memory). */
static char *join_arrays(const char *left, const char *right)
{
    size_t l = strlen(left), r = strlen(right);
    char *out = malloc(l + r);
    if (out == NULL)
        return NULL;
    memcpy(out, left, l - 1);
    out[l - 1] = ',';
    memcpy(out + l, right + 1, r); /* right's NUL included */
    return out;
}

static int is_array_text(const char *s) /* "[...]", not "[]" */
{
    size_t n = s ? strlen(s) : 0;
    return n > 2 && s[0] == '[' && s[n - 1] == ']';
}

int sb_db_exec_deferred_rows(sb_db_conn *c, const char *sql, const char *rows_json, sb_error *err)
{
    if (check_conn(c, sql, err) != 0)
        return -1;
    if (!is_array_text(rows_json))
        return sb_error_set(err, SB_DB_E_INVALID,
                            "statement \"%.60s\": the rows must be a non-empty JSON array", sql);
    const char *const p[] = {rows_json};
    sb_db_stmt *last = c->n_deferred ? &c->deferred[c->n_deferred - 1] : NULL;
    if (last && last->rows && strcmp(last->sql, sql) == 0 && sb_db_in_transaction(c)) {
        char **params = (char **)last->params;
        char *joined = join_arrays(params[0], rows_json);
        if (joined == NULL)
            return sb_error_set(err, SB_DB_E_INVALID, "out of memory deferring a statement");
        sodium_memzero(params[0], strlen(params[0]));
        free(params[0]);
        params[0] = joined;
        return 0;
    }
    int q = queue_deferred(c, sql, 1, p, 1, err);
    return q != 0 ? (q < 0 ? -1 : 0) : sb_db_exec(c, sql, 1, p, NULL, err);
}

int sb_db_exec_script(sb_db_conn *c, const char *sql, sb_error *err)
{
    if (check_conn(c, sql, err) != 0 || sb_db_flush_begin(c, err) != 0)
        return -1;
    return finish(c, PQexec(c->pg, sql), sql, NULL, err);
}

int64_t sb_db_affected(const PGresult *res)
{
    const char *n = res ? PQcmdTuples((PGresult *)res) : "";
    return n[0] ? strtoll(n, NULL, 10) : 0;
}

int64_t sb_db_cell_i64(const PGresult *res, int row, int col)
{
    return PQgetisnull(res, row, col) ? 0 : strtoll(PQgetvalue(res, row, col), NULL, 10);
}

const char *sb_db_int_param(char buf[SB_DB_INT_TEXT_MAX], int64_t v)
{
    snprintf(buf, SB_DB_INT_TEXT_MAX, "%" PRId64, v);
    return buf;
}

int sb_db_exec_one(sb_db_conn *conn, const char *sql, int nparams, const char *const *params,
                   void (*row)(const PGresult *res, int i, void *out), void *out, sb_error *err)
{
    PGresult *res;
    if (sb_db_exec(conn, sql, nparams, params, &res, err) != 0)
        return -1;
    int found = PQntuples(res) == 1;
    if (found && out && row)
        row(res, 0, out);
    PQclear(res);
    return found ? 0 : 1;
}

int sb_db_exec_affected(sb_db_conn *conn, const char *sql, int nparams, const char *const *params,
                        int64_t *affected, sb_error *err)
{
    PGresult *res;
    if (affected)
        *affected = 0;
    if (sb_db_exec(conn, sql, nparams, params, &res, err) != 0)
        return -1;
    if (affected)
        *affected = sb_db_affected(res);
    PQclear(res);
    return 0;
}

/* ---- transactions -------------------------------------------------------- */

int sb_db_in_transaction(const sb_db_conn *c)
{
    return c->begin_pending || c->implicit != SB_DB_IMPLICIT_NONE ||
           (c->pg && PQtransactionStatus(c->pg) != PQTRANS_IDLE);
}

int sb_db_begin(sb_db_conn *c, sb_error *err) { return sb_db_begin_isolated(c, SB_DB_READ_COMMITTED, err); }

int sb_db_begin_isolated(sb_db_conn *c, sb_db_isolation iso, sb_error *err)
{
    static const char *const begin[] = {"BEGIN", "BEGIN ISOLATION LEVEL REPEATABLE READ",
                                        "BEGIN ISOLATION LEVEL SERIALIZABLE"};
    if ((unsigned)iso > SB_DB_SERIALIZABLE)
        return sb_error_set(err, SB_DB_E_INVALID, "unknown isolation level %d", (int)iso);
    if (check_conn(c, "BEGIN", err) != 0)
        return -1;
    if (sb_db_in_transaction(c))
        return sb_error_set(err, SB_DB_E_INVALID,
                            "BEGIN on a connection that is already in a transaction (a bug: "
                            "transactions do not nest)");
    if (iso == SB_DB_READ_COMMITTED) { /* no BEGIN at all: see db_internal.h */
        c->implicit = SB_DB_IMPLICIT_BEGUN;
        c->implicit_failed = 0;
        return 0;
    }
    /* sent with the first statement: one round trip fewer per transaction */
    c->begin_pending = begin[iso];
    return 0;
}

/* The Sync commits: the deferred writes go before it, in the same round
 * trip; a failure of theirs or of the commit itself rolls back. */
static int commit_implicit(sb_db_conn *c, sb_error *err)
{
    if (c->implicit_failed) {
        sb_db_rollback(c);
        return sb_error_set(err, SB_DB_E_QUERY,
                            "COMMIT of a transaction in which a statement had failed: it was "
                            "rolled back (the earlier error is the one to fix)");
    }
    if (c->implicit == SB_DB_IMPLICIT_BEGUN && c->n_deferred == 0) { /* nothing ran */
        c->implicit = SB_DB_IMPLICIT_NONE;
        return 0;
    }
    sb_db_stmt items[SB_DB_DEFERRED_MAX] = {{0}};
    size_t n = pending_items(c, NULL, 1, items), at;
    PGresult *failed;
    PGresult *res = sb_db_pipeline_run(c, items, n, SB_DB_PIPE_SYNC, &failed, &at);
    c->implicit = SB_DB_IMPLICIT_NONE;
    return finish_run(c, res, failed, items, n, at, "COMMIT", 1, NULL, err);
}

int sb_db_commit(sb_db_conn *c, sb_error *err)
{
    if (check_conn(c, "COMMIT", err) != 0)
        return -1;
    if (c->implicit != SB_DB_IMPLICIT_NONE)
        return commit_implicit(c, err);
    if (c->begin_pending && c->n_deferred == 0) { /* no statement ran: nothing to commit */
        c->begin_pending = NULL;
        return 0;
    }
    PGTransactionStatusType ts = PQtransactionStatus(c->pg);
    if (!c->begin_pending && ts == PQTRANS_INERROR) {
        sb_db_rollback(c);
        return sb_error_set(err, SB_DB_E_QUERY,
                            "COMMIT of a transaction in which a statement had failed: it was "
                            "rolled back (the earlier error is the one to fix)");
    }
    if (!c->begin_pending && ts == PQTRANS_IDLE)
        return sb_error_set(err, SB_DB_E_INVALID, "COMMIT without BEGIN (a bug)");
    PGresult *res; /* the deferred writes go with it */
    if (run_with_pending(c, &(sb_db_stmt){"COMMIT", 0, NULL, 0}, 1, &res, err) != 0) {
        sb_db_rollback(c); /* a deferred write failed: the transaction is aborted */
        return -1;
    }
    int rolled_back = strcmp(PQcmdStatus(res), "ROLLBACK") == 0;
    PQclear(res);
    if (rolled_back)
        return sb_error_set(err, SB_DB_E_QUERY, "PostgreSQL rolled the transaction back at COMMIT");
    return 0;
}

/* Ends an implicit transaction without committing: after a failure the
 * Sync does it; otherwise BEGIN makes what ran a transaction block that
 * ROLLBACK then ends (a bare ROLLBACK would work too, with a warning in
 * PostgreSQL's log). */
static void rollback_implicit(sb_db_conn *c)
{
    int open = c->implicit == SB_DB_IMPLICIT_OPEN && c->pg && PQstatus(c->pg) == CONNECTION_OK &&
               PQpipelineStatus(c->pg) != PQ_PIPELINE_OFF;
    c->implicit = SB_DB_IMPLICIT_NONE;
    if (!open)
        return;
    static const sb_db_stmt end[] = {{"BEGIN", 0, NULL, 0}, {"ROLLBACK", 0, NULL, 0}};
    PGresult *failed;
    size_t at;
    PQclear(sb_db_pipeline_run(c, end, c->implicit_failed ? 0 : 2, SB_DB_PIPE_SYNC, &failed, &at));
    PQclear(failed);
}

void sb_db_rollback(sb_db_conn *c)
{
    if (c)
        sb_db_drop_deferred(c);
    if (c && c->implicit != SB_DB_IMPLICIT_NONE) {
        rollback_implicit(c);
        return;
    }
    if (c && c->pg && PQstatus(c->pg) == CONNECTION_OK && PQtransactionStatus(c->pg) != PQTRANS_IDLE)
        PQclear(PQexec(c->pg, "ROLLBACK"));
}

static void backoff(int attempt)
{
    /* 1..5 ms, then up to 10, 20, 40, 80: enough to let the other
     * transaction finish, randomised so two retriers do not collide again. */
    uint32_t ms = 1 + randombytes_uniform(5u << attempt);
    struct timespec ts = {.tv_sec = 0, .tv_nsec = (long)ms * 1000000L};
    nanosleep(&ts, NULL);
}

int sb_db_transaction_isolated(sb_db *db, sb_db_isolation iso, sb_db_txn_fn fn, void *ctx,
                               sb_error *err)
{
    sb_error local;
    if (err == NULL)
        err = &local;
    sb_db_conn *c;
    if (sb_db_acquire(db, -1, &c, err) != 0)
        return -1;
    int rc = -1;
    for (int attempt = 0;; attempt++) {
        err->code = 0;
        err->message[0] = '\0';
        rc = sb_db_begin_isolated(c, iso, err);
        if (rc == 0) {
            rc = fn(c, ctx, err);
            if (rc >= 0) {
                int result = rc;
                rc = sb_db_commit(c, err) == 0 ? result : -1;
            } else {
                rc = -1;
                if (err->code == 0)
                    sb_error_set(err, SB_DB_E_QUERY, "a transaction function failed without saying why");
                sb_db_rollback(c);
            }
        }
        if (rc >= 0 || err->code != SB_DB_E_RETRY || attempt == SB_DB_TRANSACTION_RETRIES)
            break;
        sb_debug("store", "retrying a transaction (attempt %d of %d): %s", attempt + 2,
                 SB_DB_TRANSACTION_RETRIES + 1, err->message);
        backoff(attempt);
    }
    sb_db_release(db, c);
    return rc;
}

int sb_db_transaction(sb_db *db, sb_db_txn_fn fn, void *ctx, sb_error *err)
{
    return sb_db_transaction_isolated(db, SB_DB_READ_COMMITTED, fn, ctx, err);
}

/* ---- advisory locks ------------------------------------------------------ */

int64_t sb_db_advisory_key(const char *name)
{
    unsigned char h[8];
    int ready = sodium_init(); /* hashing needs no randomness: it only picks the fastest code */
    (void)ready;
    crypto_generichash(h, sizeof h, (const unsigned char *)name, strlen(name), NULL, 0);
    uint64_t v = 0;
    for (size_t i = 0; i < sizeof h; i++)
        v = (v << 8) | h[i];
    int64_t key;
    memcpy(&key, &v, sizeof key);
    return key;
}

static int lock_call(sb_db_conn *c, const char *sql, int64_t key, int *value, sb_error *err)
{
    const char *const params[] = {SB_DB_INT(key)};
    PGresult *res;
    if (sb_db_exec(c, sql, 1, params, &res, err) != 0)
        return -1;
    if (value)
        *value = PQntuples(res) == 1 && strcmp(PQgetvalue(res, 0, 0), "t") == 0;
    PQclear(res);
    return 0;
}

int sb_db_advisory_lock(sb_db_conn *c, int64_t key, sb_error *err)
{
    if (lock_call(c, "SELECT pg_advisory_lock($1::bigint)", key, NULL, err) != 0)
        return -1;
    c->advisory_locks++;
    return 0;
}

int sb_db_advisory_try_lock(sb_db_conn *c, int64_t key, int *acquired, sb_error *err)
{
    *acquired = 0;
    if (lock_call(c, "SELECT pg_try_advisory_lock($1::bigint)", key, acquired, err) != 0)
        return -1;
    c->advisory_locks += *acquired;
    return 0;
}

int sb_db_advisory_unlock(sb_db_conn *c, int64_t key, sb_error *err)
{
    int released;
    if (lock_call(c, "SELECT pg_advisory_unlock($1::bigint)", key, &released, err) != 0)
        return -1;
    if (!released)
        return sb_error_set(err, SB_DB_E_INVALID,
                            "advisory lock %lld was not held by this connection (a bug: unlock "
                            "without lock)",
                            (long long)key);
    c->advisory_locks--;
    return 0;
}

int sb_db_advisory_try_lock_xact(sb_db_conn *c, int64_t key, int *acquired, sb_error *err)
{
    *acquired = 0;
    if (check_conn(c, "pg_try_advisory_xact_lock", err) != 0)
        return -1;
    if (!sb_db_in_transaction(c))
        return sb_error_set(err, SB_DB_E_INVALID,
                            "a transaction-level advisory lock was requested outside a "
                            "transaction; it would be released at once (call sb_db_begin first)");
    return lock_call(c, "SELECT pg_try_advisory_xact_lock($1::bigint)", key, acquired, err);
}

/* ---- NOTIFY -------------------------------------------------------------- */

int sb_db_valid_channel(const char *channel)
{
    size_t n = channel ? strlen(channel) : 0;
    if (n == 0 || n > SB_DB_CHANNEL_MAX)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!((channel[i] >= 'a' && channel[i] <= 'z') || (channel[i] >= '0' && channel[i] <= '9') ||
              channel[i] == '_'))
            return 0;
    return 1;
}

int sb_db_notify(sb_db_conn *c, const char *channel, const char *payload, sb_error *err)
{
    if (!sb_db_valid_channel(channel))
        return sb_error_set(err, SB_DB_E_INVALID,
                            "notification channel '%.80s' is not valid: use 1 to %d characters "
                            "from a-z, 0-9 and _",
                            channel ? channel : "(null)", SB_DB_CHANNEL_MAX);
    if (payload && strlen(payload) > SB_DB_NOTIFY_PAYLOAD_MAX)
        return sb_error_set(err, SB_DB_E_INVALID,
                            "notification payload of %zu bytes is over PostgreSQL's limit of %d; "
                            "send an id and let listeners read the rest",
                            strlen(payload), SB_DB_NOTIFY_PAYLOAD_MAX);
    const char *const params[] = {channel, payload ? payload : ""};
    return sb_db_exec(c, "SELECT pg_notify($1, $2)", 2, params, NULL, err);
}
