/*
 * store/db_prepared.c — statements prepared once per pooled connection.
 *
 * Contract: sb_db_exec runs a statement through sb_db_prepared_exec. The
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
 * A statement may carry a parameterless one to run before it in the same
 * round trip (the transaction's deferred BEGIN, db_exec.c), through libpq's
 * pipeline mode.
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

/* before, then (prepared under name when prepare) the statement, in one
 * round trip: the statement's result, or NULL with *failed the first
 * failure. A pipeline that does not end cleanly leaves c->discard. */
static PGresult *pipelined(sb_db_conn *c, const char *before, const char *name, int prepare,
                           const char *sql, int nparams, const char *const *params,
                           PGresult **failed, int *prepared)
{
    PGconn *pg = c->pg;
    if (PQenterPipelineMode(pg) != 1) {
        *failed = PQmakeEmptyPGresult(pg, PGRES_FATAL_ERROR);
        return NULL;
    }
    int sent = PQsendQueryParams(pg, before, 0, NULL, NULL, NULL, NULL, 0) &&
               (!prepare || PQsendPrepare(pg, name, sql, nparams, NULL)) &&
               (name ? PQsendQueryPrepared(pg, name, nparams, params, NULL, NULL, 0)
                     : PQsendQueryParams(pg, sql, nparams, NULL, params, NULL, NULL, 0)) &&
               PQpipelineSync(pg);
    PGresult *out = NULL, *bad = NULL;
    int queries = 2 + (prepare != 0);
    for (int q = 0; sent && q < queries; q++) {
        PGresult *r;
        while ((r = PQgetResult(pg)) != NULL) {
            ExecStatusType st = PQresultStatus(r);
            if (ok_status(r) && q == queries - 1 && out == NULL) {
                out = r;
                continue;
            }
            if (ok_status(r) && prepare && q == 1)
                *prepared = 1;
            if (!ok_status(r) && st != PGRES_PIPELINE_ABORTED && bad == NULL) {
                bad = r;
                continue;
            }
            PQclear(r);
        }
    }
    PGresult *sync = sent ? PQgetResult(pg) : NULL;
    int clean = sync && PQresultStatus(sync) == PGRES_PIPELINE_SYNC;
    PQclear(sync);
    if (!clean || PQexitPipelineMode(pg) != 1)
        c->discard = 1;
    if (bad == NULL && out == NULL)
        bad = PQmakeEmptyPGresult(pg, PGRES_FATAL_ERROR);
    if (bad != NULL) {
        PQclear(out);
        *failed = bad;
        return NULL;
    }
    return out;
}

PGresult *sb_db_prepared_exec(sb_db_conn *c, const char *before, const char *sql, int nparams,
                              const char *const *params, PGresult **failed)
{
    *failed = NULL;
    uint64_t h = text_hash(sql);
    sb_db_prepared *e = find(c, sql, h);
    if (e == NULL) {
        if (c->prepared == NULL)
            c->prepared = calloc(SB_DB_PREPARED_MAX, sizeof *c->prepared);
        if (c->prepared && c->n_prepared < SB_DB_PREPARED_MAX) {
            char *copy = strdup(sql);
            if (copy) {
                e = &c->prepared[c->n_prepared++];
                *e = (sb_db_prepared){h, copy, 0};
            }
        }
        if (before != NULL)
            return pipelined(c, before, NULL, 0, sql, nparams, params, failed, &(int){0});
        return PQexecParams(c->pg, sql, nparams, NULL, params, NULL, NULL, 0);
    }
    char name[32];
    snprintf(name, sizeof name, "sb_%zu", (size_t)(e - c->prepared));
    if (before != NULL)
        return pipelined(c, before, name, !e->prepared, sql, nparams, params, failed,
                         &e->prepared);
    if (!e->prepared) {
        PGresult *p = PQprepare(c->pg, name, sql, nparams, NULL);
        if (PQresultStatus(p) != PGRES_COMMAND_OK) {
            *failed = p;
            return NULL;
        }
        PQclear(p);
        e->prepared = 1;
    }
    return PQexecPrepared(c->pg, name, nparams, params, NULL, NULL, 0);
}

void sb_db_prepared_forget(sb_db_conn *c)
{
    for (size_t i = 0; i < c->n_prepared; i++)
        free(c->prepared[i].sql);
    free(c->prepared);
    c->prepared = NULL;
    c->n_prepared = 0;
}
