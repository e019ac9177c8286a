/* store/db_connect.c — connecting to PostgreSQL with a deadline in
 * milliseconds, checking idle connections, and describing a server
 * without its password. See db.h and db_internal.h. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "store/db_internal.h"
#include "util/log.h"

int64_t sb_db_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void sb_db_describe_conninfo(const char *conninfo, char *out, size_t cap)
{
    static const char *const shown[] = {"host", "hostaddr", "port", "dbname", "user"};
    char *errmsg = NULL;
    PQconninfoOption *opts = conninfo ? PQconninfoParse(conninfo, &errmsg) : NULL;
    PQfreemem(errmsg);
    if (cap == 0)
        return;
    if (opts == NULL) {
        snprintf(out, cap, "(unparseable connection string)");
        return;
    }
    size_t len = 0;
    out[0] = '\0';
    for (size_t i = 0; i < sizeof shown / sizeof shown[0]; i++) {
        for (PQconninfoOption *o = opts; o->keyword; o++) {
            if (strcmp(o->keyword, shown[i]) != 0 || o->val == NULL || o->val[0] == '\0')
                continue;
            int n = snprintf(out + len, cap - len, "%s%s=%s", len ? " " : "", o->keyword, o->val);
            if (n < 0 || (size_t)n >= cap - len) {
                PQconninfoFree(opts);
                return; /* truncated but terminated */
            }
            len += (size_t)n;
        }
    }
    if (len == 0)
        snprintf(out, cap, "(libpq defaults)");
    PQconninfoFree(opts);
}

/* Is `word` a libpq connection keyword? Those may be shown; any other
 * quoted text in a parse error may be a fragment of a password. */
static int is_conninfo_keyword(const char *word, size_t len)
{
    PQconninfoOption *defs = PQconndefaults();
    int found = 0;
    for (PQconninfoOption *o = defs; o && o->keyword && !found; o++)
        found = strlen(o->keyword) == len && strncmp(o->keyword, word, len) == 0;
    PQconninfoFree(defs);
    return found;
}

static void mask_quoted_values(const char *in, char *out, size_t cap)
{
    size_t o = 0;
    for (const char *p = in; *p && o + 6 < cap; p++) {
        const char *close = *p == '"' ? strchr(p + 1, '"') : NULL;
        if (close && !is_conninfo_keyword(p + 1, (size_t)(close - p - 1))) {
            memcpy(out + o, "\"...\"", 5);
            o += 5;
            p = close;
            continue;
        }
        if (*p != '\n')
            out[o++] = *p;
    }
    out[o] = '\0';
}

int sb_db_check_conninfo(const char *conninfo, sb_error *err)
{
    if (conninfo == NULL || conninfo[0] == '\0')
        return sb_error_set(err, SB_DB_E_INVALID,
                            "no database connection string was given; set database.url (e.g. "
                            "postgresql://sbridge@db.example:5432/sbridge) or leave it out to use "
                            "the embedded PostgreSQL");
    char *errmsg = NULL;
    PQconninfoOption *opts = PQconninfoParse(conninfo, &errmsg);
    if (opts) {
        PQconninfoFree(opts);
        return 0;
    }
    char masked[256];
    mask_quoted_values(errmsg ? errmsg : "out of memory", masked, sizeof masked);
    PQfreemem(errmsg);
    return sb_error_set(err, SB_DB_E_INVALID,
                        "the database connection string is not valid: %s; use key=value pairs "
                        "(host=... dbname=... user=...) or a URI "
                        "postgresql://user[:password]@host[:port]/dbname",
                        masked);
}

static void on_notice(void *arg, const char *message)
{
    (void)arg;
    size_t len = strlen(message);
    while (len && (message[len - 1] == '\n' || message[len - 1] == ' '))
        len--;
    sb_debug("store", "PostgreSQL notice: %.*s", (int)len, message);
}

/* libpq's message, on one line, without the trailing newline. */
static void pq_message(PGconn *pg, char *out, size_t cap)
{
    const char *m = pg ? PQerrorMessage(pg) : "out of memory";
    size_t o = 0;
    for (; *m && o + 1 < cap; m++) {
        char ch = (*m == '\n' || *m == '\t') ? ' ' : *m;
        if (ch != ' ' || (o > 0 && out[o - 1] != ' '))
            out[o++] = ch; /* libpq's "\n\t" continuation lines become one space */
    }
    while (o && out[o - 1] == ' ')
        o--;
    out[o] = '\0';
}

/* Drives PQconnectPoll or PQresetPoll to completion or the deadline. */
static int poll_until_connected(PGconn *pg, int reset, int64_t deadline, const char *describe,
                                sb_error *err)
{
    PostgresPollingStatusType st = PGRES_POLLING_WRITING;
    for (;;) {
        if (st == PGRES_POLLING_OK)
            return 0;
        if (st == PGRES_POLLING_FAILED)
            break;
        int64_t left = deadline - sb_db_now_ms();
        if (left <= 0)
            return sb_error_set(err, SB_DB_E_UNAVAILABLE,
                                "could not connect to PostgreSQL (%s) in time; check that the "
                                "server is running and reachable, or raise "
                                "database.connect_timeout",
                                describe);
        struct pollfd p = {.fd = PQsocket(pg),
                           .events = st == PGRES_POLLING_READING ? POLLIN : POLLOUT};
        if (p.fd < 0)
            break;
        int r = poll(&p, 1, left > 1000 ? 1000 : (int)left);
        if (r < 0 && errno != EINTR)
            break;
        if (r > 0)
            st = reset ? PQresetPoll(pg) : PQconnectPoll(pg);
    }
    char msg[300];
    pq_message(pg, msg, sizeof msg);
    return sb_error_set(err, SB_DB_E_UNAVAILABLE,
                        "could not connect to PostgreSQL (%s): %s; check database.url and that the "
                        "server is running",
                        describe, msg);
}

PGconn *sb_db_connect(const char *conninfo, int64_t timeout_ms, const char *describe, sb_error *err)
{
    /* dbname is expanded as a full connection string; the keywords after it
     * override it (client_encoding) or only fill gaps (fallback_...). */
    const char *const keys[] = {"dbname", "client_encoding", "fallback_application_name", NULL};
    const char *const vals[] = {conninfo, "UTF8", "sbridge", NULL};
    int64_t deadline = sb_db_now_ms() + (timeout_ms > 0 ? timeout_ms : 10000);
    PGconn *pg = PQconnectStartParams(keys, vals, 1);
    if (pg == NULL) {
        sb_error_set(err, SB_DB_E_NO_MEMORY, "out of memory while connecting to PostgreSQL");
        return NULL;
    }
    if (PQstatus(pg) == CONNECTION_BAD) {
        char msg[300];
        pq_message(pg, msg, sizeof msg);
        sb_error_set(err, SB_DB_E_UNAVAILABLE,
                     "could not connect to PostgreSQL (%s): %s; check database.url and that the "
                     "server is running",
                     describe, msg);
        PQfinish(pg);
        return NULL;
    }
    if (poll_until_connected(pg, 0, deadline, describe, err) != 0) {
        PQfinish(pg);
        return NULL;
    }
    PQsetNoticeProcessor(pg, on_notice, NULL);
    return pg;
}

int sb_db_reset(PGconn *pg, int64_t timeout_ms, const char *describe, sb_error *err)
{
    int64_t deadline = sb_db_now_ms() + (timeout_ms > 0 ? timeout_ms : 10000);
    if (!PQresetStart(pg)) {
        char msg[300];
        pq_message(pg, msg, sizeof msg);
        return sb_error_set(err, SB_DB_E_UNAVAILABLE,
                            "lost the connection to PostgreSQL (%s) and could not reconnect: %s",
                            describe, msg);
    }
    return poll_until_connected(pg, 1, deadline, describe, err);
}

int sb_db_idle_healthy(PGconn *pg)
{
    for (int rounds = 0; rounds < 8; rounds++) {
        if (PQstatus(pg) != CONNECTION_OK || PQtransactionStatus(pg) != PQTRANS_IDLE)
            return 0;
        struct pollfd p = {.fd = PQsocket(pg), .events = POLLIN};
        if (p.fd < 0)
            return 0;
        int r = poll(&p, 1, 0);
        if (r == 0)
            return 1; /* nothing pending: the usual case */
        if (r < 0)
            return errno == EINTR ? 1 : 0;
        /* The server spoke while we were idle: a notice, a notification, or
         * (typically) a termination message followed by end of file. */
        if (!PQconsumeInput(pg))
            return 0;
        for (PGnotify *n = PQnotifies(pg); n; n = PQnotifies(pg))
            PQfreemem(n);
    }
    return PQstatus(pg) == CONNECTION_OK;
}
