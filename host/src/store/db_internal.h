/*
 * store/db_internal.h — what the files of the db module share (db.c: the
 * pool; db_connect.c: connecting with a deadline; db_exec.c: statements,
 * transactions and locks; db_prepared.c: statements prepared per
 * connection; db_listen.c: LISTEN/NOTIFY). Not for other
 * modules: they use db.h.
 */
#ifndef SB_STORE_DB_INTERNAL_H
#define SB_STORE_DB_INTERNAL_H

#include "store/db.h"

/* An SQL text this connection has seen (db_prepared.c). */
typedef struct sb_db_prepared {
    uint64_t hash;
    char *sql;    /* owned copy */
    int prepared; /* 1 once PREPAREd in this session */
} sb_db_prepared;

#define SB_DB_PREPARED_MAX 512
#define SB_DB_DEFERRED_MAX 16

/* One statement to run: sql is a literal; params as for sb_db_exec. */
typedef struct sb_db_stmt {
    const char *sql;
    int nparams;
    const char *const *params;
    int rows; /* deferred rows (sb_db_exec_deferred_rows): the next ones of sql join it */
} sb_db_stmt;

typedef enum sb_db_implicit {
    SB_DB_IMPLICIT_NONE = 0, /* no implicit transaction */
    SB_DB_IMPLICIT_BEGUN,    /* begun, nothing sent yet */
    SB_DB_IMPLICIT_OPEN,     /* statements sent: the connection is in pipeline mode */
} sb_db_implicit;

struct sb_db_conn {
    sb_db *db;
    PGconn *pg;          /* NULL until first needed */
    int in_use;
    int advisory_locks;  /* session-level advisory locks held */
    sb_db_error_info last;
    sb_db_prepared *prepared; /* SB_DB_PREPARED_MAX slots, allocated on first use */
    size_t n_prepared;
    /* the BEGIN of an open transaction not sent yet (stricter isolation
     * levels: sent with the first statement), and the writes deferred
     * (sb_db_exec_deferred): they go in the same round trip as the commit
     * (db_exec.c) */
    const char *begin_pending;
    sb_db_stmt deferred[SB_DB_DEFERRED_MAX];
    size_t n_deferred;
    /* a READ COMMITTED transaction runs without BEGIN and COMMIT: its
     * statements are sent in pipeline mode with no Sync between them, which
     * PostgreSQL runs as one implicit transaction, committed by the Sync
     * (db_exec.c) */
    sb_db_implicit implicit;
    int implicit_failed; /* a statement of it failed: it can only roll back */
    int discard; /* the session's state is unknown: closed on release */
};

#define SB_DB_DESCRIBE_MAX 256

int64_t sb_db_now_ms(void);

/* Refuses a connection string libpq cannot parse, with libpq's reason
 * (quoted values masked: they may be parts of a password). */
int sb_db_check_conninfo(const char *conninfo, sb_error *err);

/* Opens a connection, giving up at the deadline. `describe` names the
 * server in messages. */
PGconn *sb_db_connect(const char *conninfo, int64_t timeout_ms, const char *describe, sb_error *err);
/* Re-establishes a broken connection in place (same parameters). */
int sb_db_reset(PGconn *pg, int64_t timeout_ms, const char *describe, sb_error *err);
/* 1 when an idle connection is usable: reads whatever the server sent
 * while idle (a termination notice, EOF) without blocking. */
int sb_db_idle_healthy(PGconn *pg);

/* Fills err and the connection's last-error info from a failed result
 * (res may be NULL when libpq could not even produce one). */
int sb_db_result_error(sb_db_conn *c, PGconn *pg, const PGresult *res, const char *sql,
                       const char *describe, sb_error *err);
const char *sb_db_describe(const sb_db *db);

/* Runs the n statements in order, each prepared once it is seen a second
 * time on c (db_prepared.c); more than one go in one round trip (libpq
 * pipeline mode). The last one's result; or NULL with *failed set (that
 * result carries the error) and *failed_at the index of the statement that
 * failed, the ones after it skipped. */
PGresult *sb_db_prepared_run(sb_db_conn *c, const sb_db_stmt *items, size_t n, PGresult **failed,
                             size_t *failed_at);
/* How sb_db_pipeline_run ends what it sends: a flush request (the
 * connection stays in pipeline mode, an implicit transaction goes on) or a
 * Sync (which commits an implicit transaction; pipeline mode is left). */
typedef enum sb_db_pipe_end { SB_DB_PIPE_FLUSH, SB_DB_PIPE_SYNC } sb_db_pipe_end;
/* Sends the n statements (n may be 0) in pipeline mode, entering it if
 * needed, and reads their results: the last one's (an empty COMMAND_OK
 * result when n is 0), or NULL with *failed the first failure and
 * *failed_at its index — n when it came at the Sync (the implicit
 * transaction's commit failed). A pipeline that does not end cleanly
 * leaves c->discard. */
PGresult *sb_db_pipeline_run(sb_db_conn *c, const sb_db_stmt *items, size_t n, sb_db_pipe_end end,
                             PGresult **failed, size_t *failed_at);
/* Sends a deferred BEGIN and deferred writes on their own (before raw
 * libpq use of the connection); 0, or -1 with err. */
int sb_db_flush_begin(sb_db_conn *c, sb_error *err);
/* Forgets a deferred BEGIN and the deferred writes (rollback, release);
 * returns how many writes were dropped. */
size_t sb_db_drop_deferred(sb_db_conn *c);
/* Drops the cache: the session it was prepared in has ended. */
void sb_db_prepared_forget(sb_db_conn *c);
/* 1 when channel is 1..SB_DB_CHANNEL_MAX characters of [a-z0-9_]. */
int sb_db_valid_channel(const char *channel);

#endif
