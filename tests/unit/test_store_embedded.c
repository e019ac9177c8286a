/* test_store_embedded.c — the embedded PostgreSQL (SPEC §6): start, stop
 * and restart keeping data; Unix socket only; an unprivileged owner when
 * run as root (and the non-root path too); restarts after a crash of the
 * server or of the host process; clear errors; and the test harness built
 * on it (its start-up time and its cleanup when a test process dies). */
#include <criterion/criterion.h>
#include <criterion/logging.h>
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "pg_harness.h"
#include "store/database.h"
#include "store/db.h"
#include "store/embedded_pg.h"

static char dir[64];

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void setup(void)
{
    snprintf(dir, sizeof dir, "/tmp/sb-emb-XXXXXX");
    cr_assert_not_null(mkdtemp(dir));
}
static void teardown(void)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        cr_log_warn("could not remove %s", dir);
}
TestSuite(store_embedded, .init = setup, .fini = teardown, .timeout = 180);

/* Most tests are about behaviour, not durability: they use the ephemeral
 * mode (initdb --no-sync, fsync off), which differs only in those flags
 * and saves seconds on a loaded machine. The first test uses the default. */
static const sb_embedded_pg_options quick = {.ephemeral = 1};

static sb_embedded_pg *start_with(const char *state_dir, const sb_embedded_pg_options *opts)
{
    sb_embedded_pg *pg = NULL;
    sb_error err = {0};
    cr_assert_eq(sb_embedded_pg_start_with(state_dir, opts, &pg, &err), 0, "%s", err.message);
    return pg;
}

static sb_embedded_pg *start(const char *state_dir) { return start_with(state_dir, &quick); }

static char *query1(sb_db *db, const char *sql)
{
    sb_db_conn *c;
    sb_error err = {0};
    PGresult *res;
    cr_assert_eq(sb_db_acquire(db, -1, &c, &err), 0, "%s", err.message);
    cr_assert_eq(sb_db_exec(c, sql, 0, NULL, &res, &err), 0, "%s: %s", sql, err.message);
    char *v = strdup(PQntuples(res) ? PQgetvalue(res, 0, 0) : "");
    PQclear(res);
    sb_db_release(db, c);
    return v;
}

static void expect_value(sb_db *db, const char *sql, const char *want)
{
    char *got = query1(db, sql);
    cr_expect_str_eq(got, want, "%s", sql);
    free(got);
}

static void path_in(char *out, size_t cap, const char *name)
{
    snprintf(out, cap, "%s/%s", dir, name);
}

Test(store_embedded, start_stop_restart_on_a_unix_socket_only)
{
    sb_embedded_pg *pg = start_with(dir, NULL);
    char expect[256];
    snprintf(expect, sizeof expect, "host='%s/run' port='5432' dbname='sbridge' user='sbridge'", dir);
    cr_expect_str_eq(sb_embedded_pg_conninfo(pg), expect);
    struct stat st;
    char p[256];
    path_in(p, sizeof p, "run");
    cr_assert_eq(stat(p, &st), 0);
    cr_expect_eq(st.st_mode & 0777, 0700, "socket directory mode %o", st.st_mode & 0777);
    path_in(p, sizeof p, "run/.s.PGSQL.5432");
    cr_expect_eq(stat(p, &st), 0, "the Unix socket exists");
    path_in(p, sizeof p, "pgdata/PG_VERSION");
    cr_assert_eq(stat(p, &st), 0);
    ino_t cluster_inode = st.st_ino;

    sb_db *db;
    sb_error err = {0};
    cr_assert_eq(sb_db_open(sb_embedded_pg_conninfo(pg), 2, 5000, &db, &err), 0, "%s", err.message);
    expect_value(db, "SHOW listen_addresses", ""); /* no TCP listener at all */
    expect_value(db, "SHOW fsync", "on");
    expect_value(db, "SHOW unix_socket_permissions", "0700");
    expect_value(db, "SELECT current_user || '@' || current_database()", "sbridge@sbridge");
    expect_value(db, "SHOW server_encoding", "UTF8");
    expect_value(db,
                 "SELECT count(*) FROM pg_hba_file_rules "
                 "WHERE type <> 'local' AND auth_method <> 'reject'",
                 "0");
    free(query1(db, "CREATE TABLE keep (x text)"));
    expect_value(db, "INSERT INTO keep VALUES ('kept') RETURNING x", "kept");

    pid_t first_pid = sb_embedded_pg_pid(pg);
    cr_expect_eq(sb_embedded_pg_stop(pg), 0, "clean fast shutdown");
    cr_expect_eq(kill(first_pid, 0), -1, "the server process is gone");
    path_in(p, sizeof p, "pgdata/postmaster.pid");
    cr_expect_eq(access(p, F_OK), -1, "a clean stop leaves no pid file");

    pg = start_with(dir, NULL);
    path_in(p, sizeof p, "pgdata/PG_VERSION");
    cr_assert_eq(stat(p, &st), 0);
    cr_expect_eq(st.st_ino, cluster_inode, "the cluster was reused, not re-created");
    /* The pool opened before the restart reconnects transparently. */
    expect_value(db, "SELECT x FROM keep", "kept");
    sb_db_close(db);
    cr_expect_eq(sb_embedded_pg_stop(pg), 0);
}

static uid_t proc_uid(pid_t pid)
{
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%ld/status", (long)pid);
    FILE *f = fopen(path, "r");
    cr_assert_not_null(f);
    long uid = -1;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "Uid: %ld", &uid) == 1)
            break;
    fclose(f);
    return (uid_t)uid;
}

Test(store_embedded, server_and_data_belong_to_an_unprivileged_user)
{
    sb_embedded_pg *pg = start(dir);
    uid_t owner = sb_embedded_pg_uid(pg);
    struct stat st;
    cr_assert_eq(stat(sb_embedded_pg_data_dir(pg), &st), 0);
    cr_expect_eq(st.st_uid, owner);
    cr_expect_eq(st.st_mode & 0777, 0700);
    cr_assert_eq(stat(sb_embedded_pg_socket_dir(pg), &st), 0);
    cr_expect_eq(st.st_uid, owner);
    cr_expect_eq(proc_uid(sb_embedded_pg_pid(pg)), owner, "postgres runs as the data's owner");
    if (geteuid() == 0) {
        cr_expect_neq(owner, 0, "never root");
        struct passwd *pw = getpwnam("postgres");
        if (pw == NULL)
            pw = getpwnam("nobody");
        cr_assert_not_null(pw);
        cr_expect_eq(owner, pw->pw_uid, "postgres if it exists, else nobody");
    } else {
        cr_expect_eq(owner, geteuid(), "not root: this user");
    }
    cr_expect_eq(sb_embedded_pg_stop(pg), 0);
    if (geteuid() == 0) {
        /* A cluster that root took over cannot be started: say how to fix it. */
        char p[256];
        path_in(p, sizeof p, "pgdata");
        cr_assert_eq(chown(p, 0, 0), 0);
        sb_error err = {0};
        cr_expect_eq(sb_embedded_pg_start_with(dir, &quick, &pg, &err), -1);
        cr_expect_not_null(strstr(err.message, "chown -R"), "%s", err.message);
    }
}

Test(store_embedded, a_failed_start_quotes_the_server_log)
{
    sb_embedded_pg_stop(start(dir));
    char p[256];
    path_in(p, sizeof p, "pgdata/postgresql.auto.conf");
    FILE *f = fopen(p, "a");
    cr_assert_not_null(f);
    fputs("shared_buffers = 'lots'\n", f);
    fclose(f);
    sb_embedded_pg *pg = NULL;
    sb_error err = {0};
    cr_assert_eq(sb_embedded_pg_start_with(dir, &quick, &pg, &err), -1);
    cr_expect_eq(err.code, SB_EMBEDDED_PG_E_START);
    cr_expect_not_null(strstr(err.message, "PostgreSQL exited during start-up"), "%s", err.message);
    cr_expect_not_null(strstr(err.message, "shared_buffers"), "quotes the server's reason: %s",
                       err.message);
    cr_expect_not_null(strstr(err.message, "postgres.log"), "%s", err.message);
}

/* When running as root, also prove the non-root path: a child that is an
 * ordinary user starts its own cluster in a directory of its own. */
Test(store_embedded, works_for_an_ordinary_user)
{
    if (geteuid() != 0) {
        sb_embedded_pg_stop(start(dir)); /* this process is the ordinary user */
        return;
    }
    struct passwd *pw = getpwnam("nobody");
    cr_assert_not_null(pw);
    cr_assert_eq(chown(dir, pw->pw_uid, pw->pw_gid), 0);
    pid_t kid = fork();
    cr_assert_geq(kid, 0);
    if (kid == 0) {
        if (setgid(pw->pw_gid) != 0 || setuid(pw->pw_uid) != 0)
            _exit(10);
        sb_embedded_pg *pg = NULL;
        sb_error err = {0};
        if (sb_embedded_pg_start_with(dir, &quick, &pg, &err) != 0) {
            fprintf(stderr, "as nobody: %s\n", err.message);
            _exit(11);
        }
        struct stat st;
        int ok = stat(sb_embedded_pg_data_dir(pg), &st) == 0 && st.st_uid == pw->pw_uid &&
                 proc_uid(sb_embedded_pg_pid(pg)) == pw->pw_uid;
        sb_db *db;
        ok = ok && sb_db_open(sb_embedded_pg_conninfo(pg), 1, 5000, &db, &err) == 0;
        if (ok)
            sb_db_close(db);
        _exit(sb_embedded_pg_stop(pg) == 0 && ok ? 0 : 12);
    }
    int status;
    cr_assert_eq(waitpid(kid, &status, 0), kid);
    cr_expect(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child status %d (see stderr)", status);
}

Test(store_embedded, restarts_after_the_server_was_killed)
{
    sb_embedded_pg *pg = start(dir);
    pid_t pid = sb_embedded_pg_pid(pg);
    cr_assert_eq(kill(pid, SIGKILL), 0);
    int status;
    cr_assert_eq(waitpid(pid, &status, 0), pid);
    sb_embedded_pg_stop(pg); /* frees; the server is already gone */
    char p[256];
    path_in(p, sizeof p, "pgdata/postmaster.pid");
    cr_assert_eq(access(p, F_OK), 0, "the crash left postmaster.pid behind");
    int64_t t0 = now_ms();
    pg = start(dir);
    cr_log_info("restart after kill -9 took %lld ms", (long long)(now_ms() - t0));
    cr_expect_eq(sb_embedded_pg_stop(pg), 0);
}

Test(store_embedded, a_pid_file_naming_an_unrelated_process_is_ignored)
{
    sb_embedded_pg_stop(start(dir));
    char p[256], content[128];
    path_in(p, sizeof p, "pgdata/postmaster.pid");
    /* After a reboot or in a new container the old pid may belong to
     * anyone — here, to this very test process, which is alive. */
    snprintf(content, sizeof content, "%ld\n%s/pgdata\n", (long)getpid(), dir);
    FILE *f = fopen(p, "w");
    cr_assert_not_null(f);
    fputs(content, f);
    fclose(f);
    sb_embedded_pg_stop(start(dir));
}

Test(store_embedded, restarts_after_the_host_process_was_killed)
{
    int pipefd[2];
    cr_assert_eq(pipe(pipefd), 0);
    pid_t kid = fork();
    cr_assert_geq(kid, 0);
    if (kid == 0) {
        sb_embedded_pg *pg = NULL;
        sb_error err = {0};
        if (sb_embedded_pg_start_with(dir, &quick, &pg, &err) != 0)
            _exit(1);
        long pid = sb_embedded_pg_pid(pg);
        if (write(pipefd[1], &pid, sizeof pid) != sizeof pid)
            _exit(2);
        raise(SIGKILL); /* the host dies without stopping its server */
    }
    close(pipefd[1]);
    long orphan = 0;
    cr_assert_eq(read(pipefd[0], &orphan, sizeof orphan), (ssize_t)sizeof orphan, "child failed");
    close(pipefd[0]);
    int status;
    cr_assert_eq(waitpid(kid, &status, 0), kid);
    /* Start again at once: the orphan got SIGINT from its parent's death
     * and is shutting down; start waits for it instead of failing. */
    sb_embedded_pg *pg = start(dir);
    cr_expect_neq(sb_embedded_pg_pid(pg), orphan);
    char path[64];
    snprintf(path, sizeof path, "/proc/%ld/cwd", orphan);
    char target[256] = "";
    ssize_t n = readlink(path, target, sizeof target - 1);
    cr_expect_lt(n, 0, "the orphaned server is gone");
    cr_expect_eq(sb_embedded_pg_stop(pg), 0);
}

Test(store_embedded, database_open_without_a_url_runs_the_embedded_server)
{
    sb_database_options o = {.url = NULL, .state_dir = dir, .pool_size = 2,
                             .connect_timeout_ms = 5000, .migrate = 1};
    sb_database *d;
    sb_migrate_report r;
    sb_error err = {0};
    cr_assert_eq(sb_database_open(&o, &d, &r, &err), 0, "%s", err.message);
    cr_assert_not_null(sb_database_embedded(d));
    cr_expect_gt(r.applied, 0);
    expect_value(sb_database_pool(d),
                 "SELECT value::text FROM platform_settings WHERE key = 'policy.reserved_priority'",
                 "9000");
    pid_t pid = sb_embedded_pg_pid(sb_database_embedded(d));
    sb_database_close(d);
    cr_expect_eq(kill(pid, 0), -1, "closing stops the embedded server");
    o.migrate = 0;
    cr_assert_eq(sb_database_open(&o, &d, &r, &err), 0, "%s", err.message);
    cr_expect_eq(r.pending, 0);
    sb_database_close(d);
}

Test(store_embedded, clear_errors)
{
    sb_embedded_pg *pg = NULL;
    sb_error err = {0};
    sb_embedded_pg_options opts = {.bindir = "/nonexistent/bin"};
    cr_expect_eq(sb_embedded_pg_start_with(dir, &opts, &pg, &err), -1);
    cr_expect_eq(err.code, SB_EMBEDDED_PG_E_NOT_INSTALLED);
    cr_expect_not_null(strstr(err.message, "install the postgresql package (scripts/install-deps does)"),
                       "%s", err.message);

    char longdir[200];
    snprintf(longdir, sizeof longdir, "%s/%0120d", dir, 7);
    cr_expect_eq(sb_embedded_pg_start(longdir, &pg, &err), -1);
    cr_expect_eq(err.code, SB_EMBEDDED_PG_E_STATE_DIR);
    cr_expect_not_null(strstr(err.message, "choose a shorter state_dir"), "%s", err.message);

    cr_expect_eq(sb_embedded_pg_start("", &pg, &err), -1);
    cr_expect_eq(err.code, SB_EMBEDDED_PG_E_STATE_DIR);

    char p[256];
    path_in(p, sizeof p, "pgdata");
    cr_assert_eq(mkdir(p, 0700), 0);
    path_in(p, sizeof p, "pgdata/precious.txt");
    int fd = open(p, O_CREAT | O_WRONLY, 0600);
    cr_assert_geq(fd, 0);
    close(fd);
    cr_expect_eq(sb_embedded_pg_start(dir, &pg, &err), -1);
    cr_expect_not_null(strstr(err.message, "is not a PostgreSQL data directory"), "%s", err.message);
    cr_expect_eq(access(p, F_OK), 0, "nothing of the user's was touched");
    cr_expect_null(pg);
}

Test(store_embedded, an_interrupted_initdb_is_redone)
{
    char p[256];
    path_in(p, sizeof p, "pgdata.initdb");
    cr_assert_eq(mkdir(p, 0700), 0);
    path_in(p, sizeof p, "pgdata.initdb/PG_VERSION");
    FILE *f = fopen(p, "w");
    cr_assert_not_null(f);
    fputs("15\n", f);
    fclose(f);
    sb_embedded_pg *pg = start(dir);
    path_in(p, sizeof p, "pgdata.initdb");
    cr_expect_eq(access(p, F_OK), -1, "the scratch directory was consumed");
    cr_expect_eq(sb_embedded_pg_stop(pg), 0);
}

Test(store_embedded, harness_starts_quickly_and_cleans_up)
{
    sb_pg_harness *h;
    int64_t t0 = now_ms();
    cr_assert_eq(sb_pg_harness_start(&h), 0);
    int64_t took = now_ms() - t0;
    fprintf(stderr, "pg_harness: a fresh cluster (initdb + start) took %lld ms\n", (long long)took);
    char hdir[64];
    snprintf(hdir, sizeof hdir, "%s", sb_pg_harness_dir(h));
    sb_db *db;
    sb_error err = {0};
    cr_assert_eq(sb_db_open(sb_pg_harness_conninfo(h), 1, 5000, &db, &err), 0, "%s", err.message);
    expect_value(db, "SHOW fsync", "off"); /* ephemeral: tests only */
    sb_db_close(db);
    sb_pg_harness_stop(h);
    cr_expect_eq(access(hdir, F_OK), -1, "%s removed", hdir);
}

Test(store_embedded, harness_cleans_up_after_a_test_process_that_died)
{
    int pipefd[2];
    cr_assert_eq(pipe(pipefd), 0);
    pid_t kid = fork();
    cr_assert_geq(kid, 0);
    if (kid == 0) {
        sb_pg_harness *h;
        if (sb_pg_harness_start(&h) != 0)
            _exit(1);
        char hdir[64];
        snprintf(hdir, sizeof hdir, "%s", sb_pg_harness_dir(h));
        if (write(pipefd[1], hdir, sizeof hdir) != sizeof hdir)
            _exit(2);
        raise(SIGKILL);
    }
    close(pipefd[1]);
    char hdir[64] = "";
    cr_assert_eq(read(pipefd[0], hdir, sizeof hdir), (ssize_t)sizeof hdir, "child failed");
    close(pipefd[0]);
    int status;
    cr_assert_eq(waitpid(kid, &status, 0), kid);
    int64_t deadline = now_ms() + 30000;
    while (access(hdir, F_OK) == 0 && now_ms() < deadline) {
        struct timespec ts = {0, 20 * 1000000L};
        nanosleep(&ts, NULL); /* polling the watchdog's work with a deadline */
    }
    cr_expect_eq(access(hdir, F_OK), -1, "the watchdog removed %s", hdir);
}
