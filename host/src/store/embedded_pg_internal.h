/*
 * store/embedded_pg_internal.h — what the files of the embedded PostgreSQL
 * share: embedded_pg.c (initdb, start, stop), embedded_pg_setup.c
 * (binaries, user, directories) and embedded_pg_proc.c (processes).
 *
 * Process plumbing:
 * Every child is forked and exec'd with nothing but async-signal-safe
 * calls in between (the host is multi-threaded): signal mask and
 * dispositions reset, stdin from /dev/null, stdout and stderr to a log
 * descriptor, every other descriptor closed, privileges dropped when
 * `who->drop`. An exec failure is reported through a close-on-exec pipe,
 * so "binary missing" is an error here rather than a child exit code.
 */
#ifndef SB_STORE_EMBEDDED_PG_INTERNAL_H
#define SB_STORE_EMBEDDED_PG_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <limits.h>

#include "store/embedded_pg.h"
#include "util/error.h"

#define SB_EMBEDDED_PG_PORT "5432"

typedef struct sb_embedded_pg_identity {
    int drop; /* 1: running as root, switch to uid/gid in the child */
    uid_t uid;
    gid_t gid;
    char name[64];
} sb_embedded_pg_identity;

struct sb_embedded_pg {
    char state_dir[PATH_MAX]; /* absolute, symlinks resolved */
    char data_dir[PATH_MAX];
    char socket_dir[PATH_MAX];
    char log_path[PATH_MAX];
    char bindir[PATH_MAX];
    char conninfo[PATH_MAX + 96];
    char app_conninfo[PATH_MAX + 96];
    sb_embedded_pg_identity who;
    pid_t pid; /* the postmaster; 0 when not running */
    int log_fd;
    off_t log_mark; /* log size when initdb or postgres was last launched */
};

/* ---- setup (embedded_pg_setup.c) ---- */
int sb_embedded_pg_has_server(const char *bindir);
/* The major version of bindir/postgres; -1 when unknown. */
long sb_embedded_pg_server_major(const char *bindir);
/* Root: the owner of an existing data_dir, else postgres, else nobody. */
int sb_embedded_pg_choose_identity(const char *data_dir, sb_embedded_pg_identity *who, sb_error *err);
/* mkdir -p; the last component 0700. */
int sb_embedded_pg_make_dirs(const char *path, sb_error *err);
/* A directory only `who` may use: created if needed, owned by it, 0700. */
int sb_embedded_pg_own_dir(const char *path, const sb_embedded_pg_identity *who, sb_error *err);
int sb_embedded_pg_let_identity_reach(sb_embedded_pg *pg, sb_error *err);
void sb_embedded_pg_last_log_problem(const sb_embedded_pg *pg, char *out, size_t cap);

/* ---- processes (embedded_pg_proc.c) ---- */

enum {
    SB_EMBEDDED_PG_SPAWN_NEW_SESSION = 1,     /* setsid(): terminal signals do not reach it */
    SB_EMBEDDED_PG_SPAWN_DIE_WITH_PARENT = 2, /* SIGINT (fast shutdown) when this thread dies */
};

/* Forks and execs argv[0] (an absolute path). Returns the pid, or -1. */
pid_t sb_embedded_pg_spawn(const char *const *argv, const sb_embedded_pg_identity *who,
                           int log_fd, int flags, sb_error *err);
/* Waits up to timeout_ms for pid to exit. 1: exited (*status filled when
 * it could be reaped, else -1), 0: still running. */
int sb_embedded_pg_wait_exit(pid_t pid, int64_t timeout_ms, int *status);
/* Spawns, waits (up to timeout_ms), and fails unless the exit status is 0. */
int sb_embedded_pg_run(const char *const *argv, const sb_embedded_pg_identity *who, int log_fd,
                       int64_t timeout_ms, sb_error *err);
/* Runs argv (argv[0] looked up in PATH) as this user and captures the
 * first line of its standard output. */
int sb_embedded_pg_capture_line(const char *const *argv, char *out, size_t cap);
/* 1 when `who` can search (traverse) every directory of path. */
int sb_embedded_pg_can_reach(const sb_embedded_pg_identity *who, const char *path);
/* rm -rf; 0 when path is gone afterwards. */
int sb_embedded_pg_remove_tree(const char *path);

#endif
