/* tests/support/pg_harness.c — see pg_harness.h. */
#include "pg_harness.h"

#include <errno.h>
#include <fcntl.h>
#include <libpq-fe.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util/error.h"

extern char **environ;

struct sb_pg_harness {
    char dir[64];
    sb_embedded_pg *pg;
    int watchdog_fd; /* write end of the watchdog's stdin; closing it wakes it */
    pid_t watchdog;
};

/* Runs in its own session so signals aimed at the test's process group do
 * not reach it; wakes when every copy of the pipe's write end is closed,
 * i.e. when the harness stops or the test process dies. */
static const char watchdog_script[] =
    "read ignored\n"
    "pid=$(head -n 1 \"$1/pgdata/postmaster.pid\" 2>/dev/null)\n"
    "if [ -n \"$pid\" ] && kill -INT \"$pid\" 2>/dev/null; then\n"
    "  i=0\n"
    "  while kill -0 \"$pid\" 2>/dev/null && [ $i -lt 600 ]; do sleep 0.05; i=$((i+1)); done\n"
    "fi\n"
    "rm -rf \"$1\"\n";

static int start_watchdog(sb_pg_harness *h)
{
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0)
        return -1;
    posix_spawn_file_actions_t actions;
    posix_spawnattr_t attr;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, fds[0], 0);
    posix_spawnattr_init(&attr);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSID);
    char *const argv[] = {"sh", "-c", (char *)watchdog_script, "sb-pg-harness-watchdog", h->dir, NULL};
    int rc = posix_spawn(&h->watchdog, "/bin/sh", &actions, &attr, argv, environ);
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
    close(fds[0]);
    if (rc != 0) {
        close(fds[1]);
        return -1;
    }
    h->watchdog_fd = fds[1];
    return 0;
}

static int run_quiet(char *const argv[])
{
    pid_t pid;
    if (posix_spawnp(&pid, argv[0], NULL, NULL, argv, environ) != 0)
        return -1;
    int status;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            return -1;
    return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

static int remove_dir(const char *path)
{
    char *const argv[] = {"rm", "-rf", (char *)path, NULL};
    return run_quiet(argv);
}

int sb_pg_harness_start(sb_pg_harness **out)
{
    *out = NULL;
    sb_pg_harness *h = calloc(1, sizeof *h);
    if (h == NULL)
        return -1;
    h->watchdog_fd = -1;
    snprintf(h->dir, sizeof h->dir, "/tmp/sb-pg-XXXXXX");
    if (mkdtemp(h->dir) == NULL) {
        fprintf(stderr, "pg_harness: cannot create a directory under /tmp: %s\n", strerror(errno));
        free(h);
        return -1;
    }
    if (start_watchdog(h) != 0)
        fprintf(stderr, "pg_harness: no watchdog (%s); %s is left behind if the test dies\n",
                strerror(errno), h->dir);
    sb_embedded_pg_options opts = {.ephemeral = 1};
    sb_error err = {0};
    int rc = sb_embedded_pg_start_with(h->dir, &opts, &h->pg, &err);
    if (rc != 0) {
        fprintf(stderr, "pg_harness: cannot start PostgreSQL in %s: %s\n", h->dir, err.message);
        sb_pg_harness_stop(h);
        return -1;
    }
    *out = h;
    return 0;
}

void sb_pg_harness_stop(sb_pg_harness *h)
{
    if (h == NULL)
        return;
    sb_embedded_pg_stop(h->pg);
    if (remove_dir(h->dir) != 0)
        fprintf(stderr, "pg_harness: could not remove %s\n", h->dir);
    if (h->watchdog_fd >= 0) {
        close(h->watchdog_fd);
        while (waitpid(h->watchdog, NULL, 0) < 0 && errno == EINTR)
            ;
    }
    free(h);
}

const char *sb_pg_harness_conninfo(const sb_pg_harness *h) { return sb_embedded_pg_conninfo(h->pg); }
const char *sb_pg_harness_dir(const sb_pg_harness *h) { return h->dir; }
sb_embedded_pg *sb_pg_harness_server(const sb_pg_harness *h) { return h->pg; }

int sb_pg_harness_as_app(const char *conninfo, char *out, size_t cap)
{
    /* In a conninfo string the last value of a repeated keyword wins. */
    int n = snprintf(out, cap, "%s user='%s'", conninfo, SB_EMBEDDED_PG_APP_USER);
    return n > 0 && (size_t)n < cap ? 0 : -1;
}

void sb_pg_harness_share(const sb_pg_harness *h)
{
    setenv(SB_PG_HARNESS_ENV, sb_pg_harness_conninfo(h), 1);
}

const char *sb_pg_harness_shared_conninfo(void) { return getenv(SB_PG_HARNESS_ENV); }

static sb_pg_harness *shared;

void sb_pg_harness_shared_start(void)
{
    if (shared == NULL && sb_pg_harness_start(&shared) == 0)
        sb_pg_harness_share(shared);
}

void sb_pg_harness_shared_stop(void)
{
    sb_pg_harness_stop(shared);
    shared = NULL;
    unsetenv(SB_PG_HARNESS_ENV);
}

int sb_pg_harness_fresh_database(char *out, size_t cap)
{
    static unsigned counter;
    const char *cluster = sb_pg_harness_shared_conninfo();
    if (cluster == NULL) {
        fprintf(stderr, "pg_harness: no shared cluster (did it fail to start? see above)\n");
        return -1;
    }
    PGconn *c = PQconnectdb(cluster);
    if (PQstatus(c) != CONNECTION_OK) {
        fprintf(stderr, "pg_harness: cannot connect to the shared cluster: %s", PQerrorMessage(c));
        PQfinish(c);
        return -1;
    }
    char name[64], sql[128];
    snprintf(name, sizeof name, "t_%ld_%u", (long)getpid(), counter++);
    snprintf(sql, sizeof sql, "CREATE DATABASE %s", name); /* digits and letters only */
    PGresult *res = PQexec(c, sql);
    int ok = PQresultStatus(res) == PGRES_COMMAND_OK;
    if (!ok)
        fprintf(stderr, "pg_harness: %s failed: %s", sql, PQresultErrorMessage(res));
    PQclear(res);
    PQfinish(c);
    /* In a conninfo string the last value of a repeated keyword wins. */
    int n = snprintf(out, cap, "%s dbname='%s'", cluster, name);
    return ok && n > 0 && (size_t)n < cap ? 0 : -1;
}
