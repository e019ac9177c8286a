/*
 * cli/cli_database.c — how offline commands (`sbridge admin`, `sbridge
 * audit verify`) reach the control plane's database: database.url; else
 * the embedded cluster's socket in state_dir when a server is running it;
 * else they start that cluster themselves for the duration of the command
 * (creating it only when asked to — verifying an empty cluster proves
 * nothing).
 */
#include <stdio.h>
#include <sys/stat.h>

#include "cli/cli.h"

int sb_cli_open_database(const sb_settings *s, int create_if_missing, sb_embedded_pg **pg, sb_db **db,
                         sb_error *err)
{
    *pg = NULL;
    int64_t timeout = s->database.connect_timeout_ms > 0 ? s->database.connect_timeout_ms : 10000;
    if (s->database.url)
        return sb_db_open(s->database.url, 2, timeout, db, err);
    if (s->state_dir == NULL)
        return sb_error_set(err, 1, "no database.url and no state_dir: where is the database?");
    char conninfo[4200];
    snprintf(conninfo, sizeof conninfo, "host=%s/run port=5432 dbname=%s user=%s", s->state_dir,
             SB_EMBEDDED_PG_DATABASE, SB_EMBEDDED_PG_USER);
    sb_error ignored;
    if (sb_db_open(conninfo, 2, 2000, db, &ignored) == 0)
        return 0; /* a server is running the embedded cluster */
    if (!create_if_missing) {
        char pgdata[4200];
        struct stat st;
        snprintf(pgdata, sizeof pgdata, "%s/pgdata", s->state_dir);
        if (stat(pgdata, &st) != 0)
            return sb_error_set(err, 1, "no database.url and no embedded PostgreSQL in %s: nothing to use",
                                pgdata);
    }
    if (sb_embedded_pg_start(s->state_dir, pg, err) != 0)
        return -1;
    return sb_db_open(sb_embedded_pg_conninfo(*pg), 2, timeout, db, err);
}
