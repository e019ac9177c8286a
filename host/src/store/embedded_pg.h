/*
 * store/embedded_pg.h — the embedded default (SPEC §6): a private
 * PostgreSQL that the host runs itself when no database URL is configured
 * (`sbridge dev`, small installs) and that the tests use.
 *
 * Contract: sb_embedded_pg_start(state_dir) finds the PostgreSQL server
 * binaries (`pg_config --bindir`, else the newest
 * /usr/lib/postgresql/<major>/bin, else PATH), and
 *   - the first time, runs initdb into <state_dir>/pgdata (UTF8, C locale,
 *     superuser "sbridge", trust for the local socket only, TCP rejected);
 *     initdb works in a temporary directory renamed into place, so a crash
 *     mid-initdb never leaves a half-made cluster;
 *   - starts `postgres` listening on a Unix socket only
 *     (listen_addresses='', socket in <state_dir>/run, mode 0700; fsync
 *     on), in its own session, told to shut down fast if this process dies;
 *   - waits, polling with a deadline, until it accepts connections, and
 *     creates database "sbridge" and the server's role "sbridge_app"
 *     (LOGIN, no superuser, no CREATEROLE/CREATEDB, owns nothing) if
 *     missing. Migrations run as the superuser, which owns the tables; the
 *     server's pool connects as sbridge_app (sb_embedded_pg_app_conninfo),
 *     which the migrations grant data rights only (store/db_roles.h). Both
 *     authenticate by trust over the private socket, which only the
 *     cluster's own OS user can open.
 * When the process runs as root, postgres (and initdb) run as an
 * unprivileged user — the owner of an existing data directory, else
 * `postgres`, else `nobody` — which owns pgdata and run/; privileges are
 * dropped (setgroups, setgid, setuid) in the forked child before exec. If
 * that user cannot reach state_dir, state_dir is given to its group with
 * search (g+x) permission only.
 * A postmaster.pid left by a crash does not block a restart: a dead pid is
 * handled by PostgreSQL itself, a pid reused by an unrelated process is
 * removed, and a postgres of this data directory still shutting down
 * (after this host was killed) is waited for.
 * sb_embedded_pg_stop requests a fast shutdown and waits for it.
 * Start/stop from the main thread: the "die with parent" signal is tied to
 * the thread that forked the server.
 * Postgres' own output goes to <state_dir>/postgres.log; a failed start
 * quotes its last FATAL line.
 */
#ifndef SB_STORE_EMBEDDED_PG_H
#define SB_STORE_EMBEDDED_PG_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "util/error.h"

enum sb_embedded_pg_error_code {
    SB_EMBEDDED_PG_E_NOT_INSTALLED = 2201, /* no initdb/postgres binaries found */
    SB_EMBEDDED_PG_E_STATE_DIR,            /* state_dir unusable (permissions, path length...) */
    SB_EMBEDDED_PG_E_INITDB,               /* initdb failed */
    SB_EMBEDDED_PG_E_START,                /* postgres failed to start or to become ready */
    SB_EMBEDDED_PG_E_BUSY,                 /* another postgres is running on this data directory */
    SB_EMBEDDED_PG_E_SYSTEM,               /* fork, exec, setuid... failed */
};

/* The superuser (owner of the tables), the server's role and the
 * database of an embedded cluster. */
#define SB_EMBEDDED_PG_USER "sbridge"
#define SB_EMBEDDED_PG_APP_USER "sbridge_app"
#define SB_EMBEDDED_PG_DATABASE "sbridge"

typedef struct sb_embedded_pg sb_embedded_pg;

typedef struct sb_embedded_pg_options {
    const char *bindir;       /* NULL: discover */
    int ephemeral;            /* throwaway clusters (tests): fsync off. Never for real data. */
    int64_t start_timeout_ms; /* 0: 60 s (a restart after a crash replays WAL) */
} sb_embedded_pg_options;

int sb_embedded_pg_start(const char *state_dir, sb_embedded_pg **out, sb_error *err);
/* opts may be NULL (the defaults above). */
int sb_embedded_pg_start_with(const char *state_dir, const sb_embedded_pg_options *opts,
                              sb_embedded_pg **out, sb_error *err);
/* Fast shutdown, wait, free. Returns 0 when the server stopped cleanly.
 * NULL is a no-op. */
int sb_embedded_pg_stop(sb_embedded_pg *pg);

/* "host=<state_dir>/run port=5432 dbname=sbridge user=sbridge": the owner. */
const char *sb_embedded_pg_conninfo(const sb_embedded_pg *pg);
/* The same as the server's role: "... user=sbridge_app". */
const char *sb_embedded_pg_app_conninfo(const sb_embedded_pg *pg);
/* The owner's conninfo for another database of the cluster (e.g. "postgres"). */
int sb_embedded_pg_conninfo_for(const sb_embedded_pg *pg, const char *dbname, char *out, size_t cap);
/* Any database, any role of the cluster. */
int sb_embedded_pg_conninfo_as(const sb_embedded_pg *pg, const char *dbname, const char *user,
                               char *out, size_t cap);
const char *sb_embedded_pg_data_dir(const sb_embedded_pg *pg);
const char *sb_embedded_pg_socket_dir(const sb_embedded_pg *pg);
pid_t sb_embedded_pg_pid(const sb_embedded_pg *pg);
/* The user postgres runs as (uid of this process when not root). */
uid_t sb_embedded_pg_uid(const sb_embedded_pg *pg);

/* Where the server binaries are; for `sbridge doctor`-style checks. */
int sb_embedded_pg_find_bindir(char *out, size_t cap, sb_error *err);

#endif
