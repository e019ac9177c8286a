/* store/db.c — the connection pool. See db.h.
 *
 * A fixed array of slots guarded by one mutex; a condition variable (on
 * the monotonic clock) wakes waiters when a slot is released. Connecting
 * and health checks happen outside the mutex, on a slot the caller
 * already owns, so one slow server never blocks the other threads'
 * releases. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "crypto/secure_mem.h"
#include "store/db_internal.h"
#include "util/log.h"

struct sb_db {
    char *conninfo; /* secure memory: it may hold a password */
    char describe[SB_DB_DESCRIBE_MAX];
    int size;
    int64_t connect_timeout_ms;
    pthread_mutex_t mu;
    pthread_cond_t freed;
    sb_db_conn *conns;
};

const char *sb_db_describe(const sb_db *db) { return db->describe; }

int sb_db_listen_open_pool(sb_db *db, const char *const *channels, size_t n_channels,
                           sb_db_listener **out, sb_error *err)
{
    return sb_db_listen_open(db->conninfo, channels, n_channels, db->connect_timeout_ms, out, err);
}

int sb_db_open(const char *conninfo, int pool_size, int64_t connect_timeout_ms, sb_db **out,
               sb_error *err)
{
    *out = NULL;
    if (pool_size < 1 || pool_size > 512)
        return sb_error_set(err, SB_DB_E_INVALID,
                            "database.pool_size is %d; it must be between 1 and 512", pool_size);
    if (connect_timeout_ms <= 0)
        return sb_error_set(err, SB_DB_E_INVALID,
                            "database.connect_timeout must be positive (got %lld ms)",
                            (long long)connect_timeout_ms);
    if (sb_db_check_conninfo(conninfo, err) != 0)
        return -1;
    if (sb_crypto_init() != 0)
        return sb_error_set(err, SB_DB_E_NO_MEMORY, "libsodium could not be initialised");
    sb_db *db = calloc(1, sizeof *db);
    if (db)
        db->conns = calloc((size_t)pool_size, sizeof *db->conns);
    if (db)
        db->conninfo = sb_secure_strdup(conninfo, strlen(conninfo));
    if (db == NULL || db->conns == NULL || db->conninfo == NULL) {
        if (db) {
            free(db->conns);
            sb_secure_release(db->conninfo);
        }
        free(db);
        return sb_error_set(err, SB_DB_E_NO_MEMORY, "out of memory opening the database pool");
    }
    sb_db_describe_conninfo(conninfo, db->describe, sizeof db->describe);
    db->size = pool_size;
    db->connect_timeout_ms = connect_timeout_ms;
    pthread_mutex_init(&db->mu, NULL);
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&db->freed, &attr);
    pthread_condattr_destroy(&attr);
    for (int i = 0; i < pool_size; i++)
        db->conns[i].db = db;
    /* One connection now, so a wrong URL or a down server fails at start-up. */
    db->conns[0].pg = sb_db_connect(db->conninfo, connect_timeout_ms, db->describe, err);
    if (db->conns[0].pg == NULL) {
        sb_db_close(db);
        return -1;
    }
    sb_info("store", "connected to PostgreSQL (%s), pool of %d", db->describe, pool_size);
    *out = db;
    return 0;
}

void sb_db_close(sb_db *db)
{
    if (db == NULL)
        return;
    for (int i = 0; i < db->size; i++) {
        if (db->conns[i].in_use)
            sb_warn("store", "closing the pool while connection %d is still in use (a bug)", i);
        if (db->conns[i].pg)
            PQfinish(db->conns[i].pg);
        sb_db_prepared_forget(&db->conns[i]);
    }
    pthread_cond_destroy(&db->freed);
    pthread_mutex_destroy(&db->mu);
    sb_secure_release(db->conninfo);
    free(db->conns);
    free(db);
}

int sb_db_open_connections(sb_db *db)
{
    int n = 0;
    pthread_mutex_lock(&db->mu);
    for (int i = 0; i < db->size; i++)
        n += db->conns[i].pg != NULL;
    pthread_mutex_unlock(&db->mu);
    return n;
}

/* A free slot, preferring one that is already connected. Caller holds mu. */
static sb_db_conn *take_free_slot(sb_db *db)
{
    sb_db_conn *unconnected = NULL;
    for (int i = 0; i < db->size; i++) {
        sb_db_conn *c = &db->conns[i];
        if (c->in_use)
            continue;
        if (c->pg) {
            c->in_use = 1;
            return c;
        }
        if (unconnected == NULL)
            unconnected = c;
    }
    if (unconnected)
        unconnected->in_use = 1;
    return unconnected;
}

static void give_back(sb_db *db, sb_db_conn *c)
{
    pthread_mutex_lock(&db->mu);
    c->in_use = 0;
    pthread_cond_signal(&db->freed);
    pthread_mutex_unlock(&db->mu);
}

/* Makes an owned slot usable: connects it, or re-establishes it when the
 * server dropped it while idle. */
static int make_usable(sb_db *db, sb_db_conn *c, int64_t deadline, sb_error *err)
{
    /* The caller's deadline bounds connecting too (a readiness probe asks
     * for a quick answer), but never below 100 ms nor above the pool's
     * connect timeout. */
    int64_t left = deadline - sb_db_now_ms();
    int64_t budget = left < 100 ? 100 : left;
    if (budget > db->connect_timeout_ms)
        budget = db->connect_timeout_ms;
    if (c->pg == NULL) {
        PGconn *pg = sb_db_connect(db->conninfo, budget, db->describe, err);
        pthread_mutex_lock(&db->mu); /* sb_db_open_connections reads it */
        c->pg = pg;
        pthread_mutex_unlock(&db->mu);
        return pg ? 0 : -1;
    }
    if (sb_db_idle_healthy(c->pg))
        return 0;
    sb_info("store", "a pooled connection to PostgreSQL (%s) was broken; reconnecting", db->describe);
    sb_db_prepared_forget(c); /* statements die with the session */
    if (sb_db_reset(c->pg, budget, db->describe, err) != 0)
        return -1;
    c->advisory_locks = 0; /* a new session holds none */
    return 0;
}

int sb_db_acquire(sb_db *db, int64_t timeout_ms, sb_db_conn **out, sb_error *err)
{
    *out = NULL;
    if (timeout_ms < 0)
        timeout_ms = db->connect_timeout_ms;
    int64_t deadline = sb_db_now_ms() + timeout_ms;
    struct timespec abs;
    clock_gettime(CLOCK_MONOTONIC, &abs);
    abs.tv_sec += timeout_ms / 1000;
    abs.tv_nsec += (timeout_ms % 1000) * 1000000;
    if (abs.tv_nsec >= 1000000000) {
        abs.tv_sec++;
        abs.tv_nsec -= 1000000000;
    }
    pthread_mutex_lock(&db->mu);
    sb_db_conn *c;
    while ((c = take_free_slot(db)) == NULL) {
        int rc = pthread_cond_timedwait(&db->freed, &db->mu, &abs);
        if (rc == ETIMEDOUT && (c = take_free_slot(db)) == NULL) {
            pthread_mutex_unlock(&db->mu);
            return sb_error_set(err, SB_DB_E_TIMEOUT,
                                "all %d database connections stayed busy for %lld ms; raise "
                                "database.pool_size or look for slow queries",
                                db->size, (long long)timeout_ms);
        }
        if (c)
            break;
    }
    pthread_mutex_unlock(&db->mu);
    if (make_usable(db, c, deadline, err) != 0) {
        give_back(db, c);
        return -1;
    }
    memset(&c->last, 0, sizeof c->last);
    *out = c;
    return 0;
}

void sb_db_release(sb_db *db, sb_db_conn *c)
{
    if (c == NULL)
        return;
    PGconn *pg = c->pg;
    if (c->begin_pending || c->n_deferred || c->implicit != SB_DB_IMPLICIT_NONE) {
        sb_warn("store", "a connection was released inside a transaction (a bug); "
                         "%zu deferred write(s) dropped, rolling it back",
                c->n_deferred);
        sb_db_rollback(c);
    }
    if (pg && (PQstatus(pg) == CONNECTION_OK || c->discard)) {
        PGTransactionStatusType ts = PQtransactionStatus(pg);
        if (ts == PQTRANS_ACTIVE || c->discard) {
            /* A statement still running or results unread: start afresh. */
            sb_warn("store", "a connection was released with a statement still active or an "
                             "unfinished pipeline; closing it");
            PQfinish(pg);
            sb_db_prepared_forget(c);
            pthread_mutex_lock(&db->mu);
            c->pg = NULL;
            pthread_mutex_unlock(&db->mu);
        } else {
            if (ts == PQTRANS_INTRANS || ts == PQTRANS_INERROR) {
                sb_warn("store", "a connection was released inside a transaction (a bug); "
                                 "rolling it back");
                sb_db_rollback(c);
            }
            if (c->advisory_locks > 0) {
                sb_warn("store", "a connection was released holding %d advisory lock(s) (a bug); "
                                 "releasing them",
                        c->advisory_locks);
                PQclear(PQexec(pg, "SELECT pg_advisory_unlock_all()"));
            }
        }
    }
    c->advisory_locks = 0;
    c->discard = 0;
    give_back(db, c);
}

PGconn *sb_db_pgconn(sb_db_conn *conn)
{
    /* raw use sees the real transaction: a deferred BEGIN is sent first */
    sb_error err = {0};
    if (conn->pg && sb_db_flush_begin(conn, &err) != 0)
        sb_warn("store", "%s", err.message);
    return conn->pg;
}

const sb_db_error_info *sb_db_last_error(const sb_db_conn *conn) { return &conn->last; }
