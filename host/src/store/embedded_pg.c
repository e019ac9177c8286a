/* store/embedded_pg.c — initdb, start, readiness and stop of the embedded
 * PostgreSQL. See embedded_pg.h; setup helpers are in embedded_pg_setup.c,
 * process plumbing in embedded_pg_proc.c. */
#include "store/embedded_pg.h"

#include <errno.h>
#include <fcntl.h>
#include <libpq-fe.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "store/db_internal.h"
#include "store/embedded_pg_internal.h"
#include "util/log.h"

#define SOCKET_NAME "/.s.PGSQL." SB_EMBEDDED_PG_PORT
#define SUN_PATH_MAX 107 /* sizeof(sockaddr_un.sun_path) - 1 */
#define INITDB_TIMEOUT_MS 300000
#define STOP_TIMEOUT_MS 60000
#define ORPHAN_WAIT_MS 15000
#define DEFAULT_START_TIMEOUT_MS 60000

static void pause_ms(long ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static int join_path(char *out, size_t cap, const char *dir, const char *name, sb_error *err)
{
    int n = snprintf(out, cap, "%s/%s", dir, name);
    if (n < 0 || (size_t)n >= cap)
        return sb_error_set(err, SB_EMBEDDED_PG_E_STATE_DIR, "state_dir %s is too long", dir);
    return 0;
}

static int fsync_dir(const char *path)
{
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    int rc = fsync(fd);
    close(fd);
    return rc;
}

/* ---- initdb -------------------------------------------------------------- */

static int check_existing_cluster(sb_embedded_pg *pg, FILE *version_file, sb_error *err)
{
    long have = -1, major = sb_embedded_pg_server_major(pg->bindir);
    if (fscanf(version_file, "%ld", &have) != 1)
        have = -1;
    fclose(version_file);
    struct stat st;
    if (pg->who.drop && stat(pg->data_dir, &st) == 0 && st.st_uid != pg->who.uid)
        return sb_error_set(err, SB_EMBEDDED_PG_E_STATE_DIR,
                            "the data directory %s is owned by uid %ld, but PostgreSQL must run as "
                            "its owner and never as root; give it to the server's user: chown -R "
                            "%s: %s",
                            pg->data_dir, (long)st.st_uid, pg->who.name, pg->data_dir);
    if (major > 0 && have != major)
        return sb_error_set(err, SB_EMBEDDED_PG_E_START,
                            "the data directory %s was created by PostgreSQL %ld, but the server "
                            "in %s is PostgreSQL %ld; upgrade the cluster with pg_upgrade, or "
                            "install PostgreSQL %ld's server package",
                            pg->data_dir, have, pg->bindir, major, have);
    return 0;
}

static int initdb_if_needed(sb_embedded_pg *pg, int ephemeral, sb_error *err)
{
    char version_path[PATH_MAX], tmp[PATH_MAX], exe[PATH_MAX];
    if (join_path(version_path, sizeof version_path, pg->data_dir, "PG_VERSION", err) != 0 ||
        join_path(tmp, sizeof tmp, pg->state_dir, "pgdata.initdb", err) != 0 ||
        join_path(exe, sizeof exe, pg->bindir, "initdb", err) != 0)
        return -1;
    FILE *f = fopen(version_path, "re");
    if (f)
        return check_existing_cluster(pg, f, err);
    struct stat st;
    if (stat(pg->data_dir, &st) == 0)
        return sb_error_set(err, SB_EMBEDDED_PG_E_STATE_DIR,
                            "%s exists but is not a PostgreSQL data directory (it has no "
                            "PG_VERSION); move it away so that a new cluster can be created",
                            pg->data_dir);
    /* initdb works in a scratch directory renamed into place when done, so
     * an interrupted initdb is redone rather than half-used. */
    if (sb_embedded_pg_remove_tree(tmp) != 0)
        return sb_error_set(err, SB_EMBEDDED_PG_E_STATE_DIR,
                            "cannot remove the leftover %s of an interrupted initdb: %s", tmp,
                            strerror(errno));
    if (sb_embedded_pg_own_dir(tmp, &pg->who, err) != 0)
        return -1;
    const char *argv[] = {exe, "-D", tmp, "-U", SB_EMBEDDED_PG_USER, "--auth-local=trust",
                          "--auth-host=reject", "-E", "UTF8", "--locale=C",
                          ephemeral ? "--no-sync" : NULL, NULL};
    sb_info("store", "creating the embedded PostgreSQL cluster in %s (first start)", pg->data_dir);
    pg->log_mark = lseek(pg->log_fd, 0, SEEK_END);
    int64_t t0 = sb_db_now_ms();
    if (sb_embedded_pg_run(argv, &pg->who, pg->log_fd, INITDB_TIMEOUT_MS, err) != 0) {
        char problem[600];
        sb_embedded_pg_last_log_problem(pg, problem, sizeof problem);
        char first[SB_ERROR_MESSAGE_MAX];
        snprintf(first, sizeof first, "%s", err ? err->message : "");
        sb_embedded_pg_remove_tree(tmp);
        return sb_error_set(err, SB_EMBEDDED_PG_E_INITDB, "initdb failed: %s: %s", first, problem);
    }
    if (rename(tmp, pg->data_dir) != 0)
        return sb_error_set(err, SB_EMBEDDED_PG_E_STATE_DIR, "cannot rename %s to %s: %s", tmp,
                            pg->data_dir, strerror(errno));
    if (!ephemeral)
        fsync_dir(pg->state_dir);
    sb_info("store", "initdb finished in %lld ms", (long long)(sb_db_now_ms() - t0));
    return 0;
}

/* ---- a postmaster.pid left behind ---------------------------------------- */

/* Is pid a process whose working directory is data_dir (a postmaster
 * chdirs into its data directory)? */
static int is_postmaster_of(long pid, const char *data_dir)
{
    char link[64], target[PATH_MAX];
    snprintf(link, sizeof link, "/proc/%ld/cwd", pid);
    ssize_t n = readlink(link, target, sizeof target - 1);
    if (n < 0)
        return 0; /* not ours to inspect: a postgres of data_dir would be */
    target[n] = '\0';
    return strcmp(target, data_dir) == 0;
}

static int clear_stale_pid_file(sb_embedded_pg *pg, sb_error *err)
{
    char path[PATH_MAX];
    if (join_path(path, sizeof path, pg->data_dir, "postmaster.pid", err) != 0)
        return -1;
    FILE *f = fopen(path, "re");
    if (f == NULL)
        return 0;
    long pid = 0;
    int parsed = fscanf(f, "%ld", &pid) == 1 && pid > 0;
    fclose(f);
    if (parsed && kill((pid_t)pid, 0) != 0 && errno == ESRCH)
        return 0; /* a dead pid: PostgreSQL removes the file itself */
    if (parsed && is_postmaster_of(pid, pg->data_dir)) {
        /* Most likely the server of a host process that was killed: it got
         * SIGINT on its parent's death and is shutting down. */
        sb_info("store", "PostgreSQL (pid %ld) from an earlier run is still using %s; waiting for "
                         "it to stop",
                pid, pg->data_dir);
        int64_t deadline = sb_db_now_ms() + ORPHAN_WAIT_MS;
        while (is_postmaster_of(pid, pg->data_dir)) { /* a zombie has no cwd: gone */
            if (sb_db_now_ms() > deadline)
                return sb_error_set(err, SB_EMBEDDED_PG_E_BUSY,
                                    "PostgreSQL (pid %ld) is already running on %s; is another "
                                    "sbridge using state_dir %s? Stop it first",
                                    pid, pg->data_dir, pg->state_dir);
            pause_ms(20);
        }
        return 0;
    }
    /* Unparseable, or the pid now belongs to an unrelated process (after a
     * reboot or in a new container): PostgreSQL would refuse to start. */
    sb_info("store", "removing the stale %s (pid %ld is not a PostgreSQL of this cluster)", path, pid);
    if (unlink(path) != 0 && errno != ENOENT)
        return sb_error_set(err, SB_EMBEDDED_PG_E_STATE_DIR, "cannot remove stale %s: %s", path,
                            strerror(errno));
    return 0;
}

/* ---- start --------------------------------------------------------------- */

static int launch(sb_embedded_pg *pg, int ephemeral, sb_error *err)
{
    char exe[PATH_MAX], data_opt[PATH_MAX + 32], socket_opt[PATH_MAX + 32];
    if (join_path(exe, sizeof exe, pg->bindir, "postgres", err) != 0)
        return -1;
    snprintf(data_opt, sizeof data_opt, "%s", pg->data_dir);
    snprintf(socket_opt, sizeof socket_opt, "unix_socket_directories=%s", pg->socket_dir);
    const char *argv[] = {exe, "-D", data_opt,
                          "-c", "listen_addresses=",
                          "-c", socket_opt,
                          "-c", "unix_socket_permissions=0700",
                          "-c", "port=" SB_EMBEDDED_PG_PORT,
                          "-c", "logging_collector=off",
                          "-c", "log_destination=stderr",
                          "-c", ephemeral ? "fsync=off" : "fsync=on",
                          "-c", ephemeral ? "synchronous_commit=off" : "synchronous_commit=on",
                          "-c", ephemeral ? "full_page_writes=off" : "full_page_writes=on",
                          NULL};
    pg->log_mark = lseek(pg->log_fd, 0, SEEK_END);
    pg->pid = sb_embedded_pg_spawn(argv, &pg->who, pg->log_fd,
                          SB_EMBEDDED_PG_SPAWN_NEW_SESSION | SB_EMBEDDED_PG_SPAWN_DIE_WITH_PARENT, err);
    if (pg->pid < 0) {
        pg->pid = 0;
        return -1;
    }
    return 0;
}

static int wait_ready(sb_embedded_pg *pg, int64_t timeout_ms, sb_error *err)
{
    char conninfo[PATH_MAX + 128];
    sb_embedded_pg_conninfo_for(pg, "postgres", conninfo, sizeof conninfo - 32);
    strcat(conninfo, " connect_timeout=2"); /* a ping never hangs past the deadline */
    int64_t deadline = sb_db_now_ms() + timeout_ms;
    for (;;) {
        int status;
        if (sb_embedded_pg_wait_exit(pg->pid, 0, &status)) {
            pg->pid = 0;
            char problem[600];
            sb_embedded_pg_last_log_problem(pg, problem, sizeof problem);
            return sb_error_set(err, SB_EMBEDDED_PG_E_START, "PostgreSQL exited during start-up: %s",
                                problem);
        }
        PGPing ping = PQping(conninfo);
        if (ping == PQPING_OK)
            return 0;
        if (sb_db_now_ms() > deadline) {
            char problem[600];
            sb_embedded_pg_last_log_problem(pg, problem, sizeof problem);
            return sb_error_set(err, SB_EMBEDDED_PG_E_START,
                                "PostgreSQL did not accept connections within %lld s: %s",
                                (long long)(timeout_ms / 1000), problem);
        }
        pause_ms(10); /* polling the socket with a deadline */
    }
}

/* The server's role: data rights only, granted by the migrations. */
static int ensure_app_role(PGconn *c, sb_error *err)
{
    const char *const params[] = {SB_EMBEDDED_PG_APP_USER};
    PGresult *res = PQexecParams(c, "SELECT 1 FROM pg_roles WHERE rolname = $1", 1, NULL, params,
                                 NULL, NULL, 0);
    int rc = 0;
    if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 0) {
        PQclear(res);
        res = PQexec(c, "CREATE ROLE " SB_EMBEDDED_PG_APP_USER " LOGIN NOSUPERUSER NOCREATEDB "
                        "NOCREATEROLE NOREPLICATION NOBYPASSRLS");
        const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
        if (PQresultStatus(res) != PGRES_COMMAND_OK && !(state && strcmp(state, "42710") == 0))
            rc = sb_error_set(err, SB_EMBEDDED_PG_E_START, "cannot create role %s: %s",
                              SB_EMBEDDED_PG_APP_USER, PQresultErrorMessage(res));
    } else if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        rc = sb_error_set(err, SB_EMBEDDED_PG_E_START, "cannot list roles: %s",
                          PQresultErrorMessage(res));
    }
    PQclear(res);
    return rc;
}

static int ensure_database(sb_embedded_pg *pg, sb_error *err)
{
    char conninfo[PATH_MAX + 96];
    sb_embedded_pg_conninfo_for(pg, "postgres", conninfo, sizeof conninfo);
    PGconn *c = sb_db_connect(conninfo, 10000, "embedded PostgreSQL", err);
    if (c == NULL)
        return -1;
    const char *const params[] = {SB_EMBEDDED_PG_DATABASE};
    PGresult *res = PQexecParams(c, "SELECT 1 FROM pg_database WHERE datname = $1", 1, NULL, params,
                                 NULL, NULL, 0);
    int rc = 0;
    if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 0) {
        PQclear(res);
        res = PQexec(c, "CREATE DATABASE " SB_EMBEDDED_PG_DATABASE);
        const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
        if (PQresultStatus(res) != PGRES_COMMAND_OK && !(state && strcmp(state, "42P04") == 0))
            rc = sb_error_set(err, SB_EMBEDDED_PG_E_START, "cannot create database %s: %s",
                              SB_EMBEDDED_PG_DATABASE, PQresultErrorMessage(res));
    } else if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        rc = sb_error_set(err, SB_EMBEDDED_PG_E_START, "cannot list databases: %s",
                          PQresultErrorMessage(res));
    }
    PQclear(res);
    if (rc == 0)
        rc = ensure_app_role(c, err);
    PQfinish(c);
    return rc;
}

static int set_paths(sb_embedded_pg *pg, const char *state_dir, sb_error *err)
{
    if (state_dir == NULL || state_dir[0] == '\0')
        return sb_error_set(err, SB_EMBEDDED_PG_E_STATE_DIR,
                            "no state_dir for the embedded PostgreSQL; set state_dir (or "
                            "database.url to use an existing server)");
    if (sb_embedded_pg_make_dirs(state_dir, err) != 0)
        return -1;
    if (realpath(state_dir, pg->state_dir) == NULL)
        return sb_error_set(err, SB_EMBEDDED_PG_E_STATE_DIR, "cannot resolve state_dir %s: %s",
                            state_dir, strerror(errno));
    if (strpbrk(pg->state_dir, ",\"'\\"))
        return sb_error_set(err, SB_EMBEDDED_PG_E_STATE_DIR,
                            "state_dir %s contains a comma, quote or backslash, which PostgreSQL's "
                            "socket directory setting cannot hold; choose another state_dir",
                            pg->state_dir);
    if (join_path(pg->data_dir, sizeof pg->data_dir, pg->state_dir, "pgdata", err) != 0 ||
        join_path(pg->socket_dir, sizeof pg->socket_dir, pg->state_dir, "run", err) != 0 ||
        join_path(pg->log_path, sizeof pg->log_path, pg->state_dir, "postgres.log", err) != 0)
        return -1;
    size_t socket_len = strlen(pg->socket_dir) + strlen(SOCKET_NAME);
    if (socket_len > SUN_PATH_MAX)
        return sb_error_set(err, SB_EMBEDDED_PG_E_STATE_DIR,
                            "state_dir %s is too long for PostgreSQL's Unix socket (%s%s is %zu "
                            "bytes; at most %d); choose a shorter state_dir",
                            pg->state_dir, pg->socket_dir, SOCKET_NAME, socket_len, SUN_PATH_MAX);
    return 0;
}

int sb_embedded_pg_start_with(const char *state_dir, const sb_embedded_pg_options *opts,
                              sb_embedded_pg **out, sb_error *err)
{
    static const sb_embedded_pg_options defaults = {NULL, 0, 0};
    if (opts == NULL)
        opts = &defaults;
    *out = NULL;
    int64_t t0 = sb_db_now_ms();
    sb_embedded_pg *pg = calloc(1, sizeof *pg);
    if (pg == NULL)
        return sb_error_set(err, SB_EMBEDDED_PG_E_SYSTEM, "out of memory");
    pg->log_fd = -1;
    int rc = set_paths(pg, state_dir, err);
    if (rc == 0 && opts->bindir) {
        snprintf(pg->bindir, sizeof pg->bindir, "%s", opts->bindir);
        if (!sb_embedded_pg_has_server(pg->bindir))
            rc = sb_error_set(err, SB_EMBEDDED_PG_E_NOT_INSTALLED,
                              "%s has no initdb and postgres programs; install the postgresql "
                              "package (scripts/install-deps does)",
                              pg->bindir);
    } else if (rc == 0) {
        rc = sb_embedded_pg_find_bindir(pg->bindir, sizeof pg->bindir, err);
    }
    if (rc == 0)
        rc = sb_embedded_pg_choose_identity(pg->data_dir, &pg->who, err);
    if (rc == 0)
        rc = sb_embedded_pg_let_identity_reach(pg, err);
    if (rc == 0)
        rc = sb_embedded_pg_own_dir(pg->socket_dir, &pg->who, err);
    if (rc == 0) {
        pg->log_fd = open(pg->log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
        if (pg->log_fd < 0)
            rc = sb_error_set(err, SB_EMBEDDED_PG_E_STATE_DIR, "cannot open %s: %s", pg->log_path,
                              strerror(errno));
    }
    if (rc == 0)
        rc = initdb_if_needed(pg, opts->ephemeral, err);
    if (rc == 0)
        rc = clear_stale_pid_file(pg, err);
    if (rc == 0)
        rc = launch(pg, opts->ephemeral, err);
    if (rc == 0)
        rc = wait_ready(pg, opts->start_timeout_ms > 0 ? opts->start_timeout_ms
                                                       : DEFAULT_START_TIMEOUT_MS, err);
    if (rc == 0)
        rc = ensure_database(pg, err);
    if (rc == 0 && (sb_embedded_pg_conninfo_for(pg, SB_EMBEDDED_PG_DATABASE, pg->conninfo,
                                                sizeof pg->conninfo) != 0 ||
                    sb_embedded_pg_conninfo_as(pg, SB_EMBEDDED_PG_DATABASE, SB_EMBEDDED_PG_APP_USER,
                                               pg->app_conninfo, sizeof pg->app_conninfo) != 0))
        rc = sb_error_set(err, SB_EMBEDDED_PG_E_STATE_DIR, "state_dir %s is too long", pg->state_dir);
    if (rc != 0) {
        sb_embedded_pg_stop(pg);
        return -1;
    }
    sb_info("store", "embedded PostgreSQL ready in %lld ms (pid %ld, data %s, socket %s, user %s)",
            (long long)(sb_db_now_ms() - t0), (long)pg->pid, pg->data_dir, pg->socket_dir,
            pg->who.drop ? pg->who.name : "(this user)");
    *out = pg;
    return 0;
}

int sb_embedded_pg_start(const char *state_dir, sb_embedded_pg **out, sb_error *err)
{
    return sb_embedded_pg_start_with(state_dir, NULL, out, err);
}

/* ---- stop ---------------------------------------------------------------- */

int sb_embedded_pg_stop(sb_embedded_pg *pg)
{
    if (pg == NULL)
        return 0;
    int rc = 0;
    if (pg->pid > 0) {
        int status;
        kill(pg->pid, SIGINT); /* fast shutdown: roll back sessions, checkpoint */
        if (!sb_embedded_pg_wait_exit(pg->pid, STOP_TIMEOUT_MS, &status)) {
            sb_warn("store", "PostgreSQL (pid %ld) ignored a fast shutdown for %d s; stopping it "
                             "immediately (it will recover on the next start)",
                    (long)pg->pid, STOP_TIMEOUT_MS / 1000);
            kill(pg->pid, SIGQUIT);
            if (!sb_embedded_pg_wait_exit(pg->pid, 10000, &status)) {
                kill(pg->pid, SIGKILL);
                sb_embedded_pg_wait_exit(pg->pid, 5000, &status);
            }
            rc = -1;
        } else if (status != -1 && !(WIFEXITED(status) && WEXITSTATUS(status) == 0)) {
            rc = -1;
        }
    }
    if (pg->log_fd >= 0)
        close(pg->log_fd);
    free(pg);
    return rc;
}
