/*
 * store/db_prepared.c — statements prepared once per pooled connection.
 *
 * Contract: sb_db_exec runs a statement through sb_db_prepared_run. The
 * first time a connection sees an SQL text it runs it unprepared (a text
 * seen once, e.g. built for one test, costs no extra round trip) and
 * remembers its 64-bit keyed hash; from the second time on it is prepared
 * under a name of its own ("sb_<n>") and executed by name, so PostgreSQL
 * parses it once per connection and may reuse its plan (plan_cache_mode
 * auto: parameter-dependent statements keep custom plans). The full text is
 * kept and compared, so a hash collision only means "not prepared".
 * At most SB_DB_PREPARED_MAX texts per connection; beyond that the rest run
 * unprepared. A prepare that fails is answered like the statement failing
 * (same error, from the same parse). The cache belongs to the session:
 * sb_db_prepared_forget when the connection is closed or re-established.
 * Several statements (a transaction's deferred BEGIN and deferred writes,
 * then the one whose result is wanted: db_exec.c) go in one round trip
 * through libpq's pipeline mode; after a failure the rest are skipped.
 */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/db_internal.h"

static uint64_t text_hash(const char *sql)
{
    static const unsigned char key[crypto_shorthash_KEYBYTES] = "sbridge-stmt-key";
    unsigned char out[crypto_shorthash_BYTES];
    crypto_shorthash(out, (const unsigned char *)sql, strlen(sql), key);
    uint64_t h;
    memcpy(&h, out, sizeof h);
    return h;
}

/* The entry for sql, or NULL when this connection has not seen it. */
static sb_db_prepared *find(sb_db_conn *c, const char *sql, uint64_t h)
{
    for (size_t i = 0; i < c->n_prepared; i++)
        if (c->prepared[i].hash == h && strcmp(c->prepared[i].sql, sql) == 0)
            return &c->prepared[i];
    return NULL;
}

static int ok_status(const PGresult *r)
{
    ExecStatusType st = PQresultStatus(r);
    return st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK;
}

/* The cache entry of sql, added when there is room (NULL: run unprepared). */
static sb_db_prepared *entry(sb_db_conn *c, const char *sql, int *seen)
{
    uint64_t h = text_hash(sql);
    sb_db_prepared *e = find(c, sql, h);
    *seen = e != NULL;
    if (e != NULL)
        return e;
    if (c->prepared == NULL)
        c->prepared = calloc(SB_DB_PREPARED_MAX, sizeof *c->prepared);
    if (c->prepared && c->n_prepared < SB_DB_PREPARED_MAX) {
        char *copy = strdup(sql);
        if (copy) {
            e = &c->prepared[c->n_prepared++];
            *e = (sb_db_prepared){h, copy, 0};
        }
    }
    return e;
}

static void name_of(const sb_db_conn *c, const sb_db_prepared *e, char name[32])
{
    snprintf(name, 32, "sb_%zu", (size_t)(e - c->prepared));
}

/* One statement alone: the classic synchronous calls. */
static PGresult *run_one(sb_db_conn *c, const sb_db_stmt *s, PGresult **failed)
{
    int seen;
    sb_db_prepared *e = entry(c, s->sql, &seen);
    if (!seen || e == NULL)
        return PQexecParams(c->pg, s->sql, s->nparams, NULL, s->params, NULL, NULL, 0);
    char name[32];
    name_of(c, e, name);
    if (!e->prepared) {
        PGresult *p = PQprepare(c->pg, name, s->sql, s->nparams, NULL);
        if (PQresultStatus(p) != PGRES_COMMAND_OK) {
            *failed = p;
            return NULL;
        }
        PQclear(p);
        e->prepared = 1;
    }
    return PQexecPrepared(c->pg, name, s->nparams, s->params, NULL, NULL, 0);
}

/* What one sent protocol query was: statement `item`, or its PREPARE. */
typedef struct sent {
    size_t item;
    sb_db_prepared *prepare; /* not NULL: this query prepares it */
} sent;

static int send_one(sb_db_conn *c, const sb_db_stmt *s, size_t item, sent *q, size_t *nq)
{
    int seen;
    sb_db_prepared *e = entry(c, s->sql, &seen);
    if (!seen || e == NULL) {
        q[(*nq)++] = (sent){item, NULL};
        return PQsendQueryParams(c->pg, s->sql, s->nparams, NULL, s->params, NULL, NULL, 0);
    }
    char name[32];
    name_of(c, e, name);
    if (!e->prepared) { /* counted as prepared from now on, so once per pipeline */
        q[(*nq)++] = (sent){item, e};
        e->prepared = 1;
        if (!PQsendPrepare(c->pg, name, s->sql, s->nparams, NULL))
            return 0;
    }
    q[(*nq)++] = (sent){item, NULL};
    return PQsendQueryPrepared(c->pg, name, s->nparams, s->params, NULL, NULL, 0);
}

/* Reads the results of the nq protocol queries sent for items[0..n): the
 * last item's result in *out, the first failure in *bad (statement
 * *failed_at); the ones after a failure come back "pipeline aborted". 0, or
 * -1 when libpq gave up (the connection is lost). */
static int collect(sb_db_conn *c, size_t n, const sent *q, size_t nq, PGresult **out,
                   PGresult **bad, size_t *failed_at)
{
    for (size_t k = 0; k < nq; k++) {
        PGresult *r;
        int got = 0;
        while ((r = PQgetResult(c->pg)) != NULL) {
            got = 1;
            if (q[k].prepare != NULL) /* an aborted or failed PREPARE made nothing */
                q[k].prepare->prepared = ok_status(r);
            if (ok_status(r) && q[k].prepare == NULL && q[k].item == n - 1 && *out == NULL) {
                *out = r;
                continue;
            }
            if (!ok_status(r) && PQresultStatus(r) != PGRES_PIPELINE_ABORTED && *bad == NULL) {
                *bad = r;
                *failed_at = q[k].item;
                continue;
            }
            PQclear(r);
        }
        if (!got && PQstatus(c->pg) == CONNECTION_BAD)
            return -1;
    }
    return 0;
}

/* Reads up to the Sync's result: an error before it (a failure at the
 * end of an implicit transaction: its commit) goes to *bad. 1 when the
 * pipeline ended cleanly. */
static int read_sync(sb_db_conn *c, size_t n, PGresult **bad, size_t *failed_at)
{
    for (int guard = 0; guard < 8; guard++) {
        PGresult *r = PQgetResult(c->pg);
        if (r == NULL) {
            if (PQstatus(c->pg) == CONNECTION_BAD)
                return 0;
            continue;
        }
        ExecStatusType st = PQresultStatus(r);
        if (st == PGRES_PIPELINE_SYNC) {
            PQclear(r);
            return 1;
        }
        if (!ok_status(r) && st != PGRES_PIPELINE_ABORTED && *bad == NULL) {
            *bad = r;
            *failed_at = n;
            continue;
        }
        PQclear(r);
    }
    return 0;
}

PGresult *sb_db_pipeline_run(sb_db_conn *c, const sb_db_stmt *items, size_t n, sb_db_pipe_end end,
                             PGresult **failed, size_t *failed_at)
{
    PGconn *pg = c->pg;
    *failed = NULL;
    *failed_at = n;
    sent *q = calloc(2 * n + 1, sizeof *q);
    size_t nq = 0;
    int ok = q != NULL &&
             (PQpipelineStatus(pg) == PQ_PIPELINE_ON || PQenterPipelineMode(pg) == 1);
    for (size_t i = 0; ok && i < n; i++)
        ok = send_one(c, &items[i], i, q, &nq);
    if (ok)
        ok = end == SB_DB_PIPE_SYNC ? PQpipelineSync(pg) : PQsendFlushRequest(pg) && PQflush(pg) == 0;
    PGresult *out = NULL, *bad = NULL;
    ok = ok && collect(c, n, q, nq, &out, &bad, failed_at) == 0;
    if (end == SB_DB_PIPE_SYNC)
        ok = ok && read_sync(c, n, &bad, failed_at) && PQexitPipelineMode(pg) == 1;
    if (!ok)
        c->discard = 1;
    free(q);
    if (bad == NULL && out == NULL && n > 0) {
        bad = PQmakeEmptyPGresult(pg, PGRES_FATAL_ERROR);
        *failed_at = n - 1;
    }
    if (bad == NULL && !ok) {
        bad = PQmakeEmptyPGresult(pg, PGRES_FATAL_ERROR);
        *failed_at = n;
    }
    if (bad != NULL) {
        PQclear(out);
        *failed = bad;
        return NULL;
    }
    return out ? out : PQmakeEmptyPGresult(pg, PGRES_COMMAND_OK);
}

PGresult *sb_db_prepared_run(sb_db_conn *c, const sb_db_stmt *items, size_t n, PGresult **failed,
                             size_t *failed_at)
{
    if (n == 1) {
        *failed = NULL;
        *failed_at = 0;
        return run_one(c, items, failed);
    }
    PGresult *res = sb_db_pipeline_run(c, items, n, SB_DB_PIPE_SYNC, failed, failed_at);
    if (res == NULL && *failed_at == n)
        *failed_at = n - 1;
    return res;
}

void sb_db_prepared_forget(sb_db_conn *c)
{
    for (size_t i = 0; i < c->n_prepared; i++)
        free(c->prepared[i].sql);
    free(c->prepared);
    c->prepared = NULL;
    c->n_prepared = 0;
}
