/* store/embedded_pg_setup.c — what the embedded PostgreSQL needs before
 * it can start: the binaries, the user it runs as, its directories; and
 * the small accessors. See embedded_pg.h and embedded_pg_internal.h. */
#include "store/embedded_pg.h"

#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <limits.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "store/embedded_pg_internal.h"
#include "util/log.h"

/* ---- finding the binaries ------------------------------------------------ */

int sb_embedded_pg_has_server(const char *dir)
{
    char p[PATH_MAX];
    snprintf(p, sizeof p, "%s/initdb", dir);
    if (access(p, X_OK) != 0)
        return 0;
    snprintf(p, sizeof p, "%s/postgres", dir);
    return access(p, X_OK) == 0;
}

static int newest_debian_bindir(char *out, size_t cap)
{
    glob_t g;
    long best = -1;
    if (glob("/usr/lib/postgresql/*/bin", 0, NULL, &g) != 0)
        return -1;
    for (size_t i = 0; i < g.gl_pathc; i++) {
        long major = strtol(g.gl_pathv[i] + strlen("/usr/lib/postgresql/"), NULL, 10);
        if (major > best && sb_embedded_pg_has_server(g.gl_pathv[i])) {
            best = major;
            snprintf(out, cap, "%s", g.gl_pathv[i]);
        }
    }
    globfree(&g);
    return best >= 0 ? 0 : -1;
}

static int path_bindir(char *out, size_t cap)
{
    const char *path = getenv("PATH");
    if (path == NULL)
        return -1;
    char *copy = strdup(path), *save = NULL;
    int found = -1;
    for (char *dir = strtok_r(copy, ":", &save); dir && found; dir = strtok_r(NULL, ":", &save))
        if (dir[0] == '/' && sb_embedded_pg_has_server(dir)) {
            snprintf(out, cap, "%s", dir);
            found = 0;
        }
    free(copy);
    return found;
}

int sb_embedded_pg_find_bindir(char *out, size_t cap, sb_error *err)
{
    const char *const pg_config[] = {"pg_config", "--bindir", NULL};
    if (sb_embedded_pg_capture_line(pg_config, out, cap) == 0 && sb_embedded_pg_has_server(out))
        return 0;
    if (newest_debian_bindir(out, cap) == 0 || path_bindir(out, cap) == 0)
        return 0;
    out[0] = '\0';
    return sb_error_set(err, SB_EMBEDDED_PG_E_NOT_INSTALLED,
                        "the PostgreSQL server programs (initdb, postgres) were not found in "
                        "`pg_config --bindir`, /usr/lib/postgresql/*/bin or PATH; install the "
                        "postgresql package (scripts/install-deps does), or set database.url to "
                        "use an existing server");
}

/* "postgres (PostgreSQL) 15.18 (Debian ...)" -> 15 */
long sb_embedded_pg_server_major(const char *bindir)
{
    char exe[PATH_MAX], line[256];
    snprintf(exe, sizeof exe, "%s/postgres", bindir);
    const char *const argv[] = {exe, "-V", NULL};
    if (sb_embedded_pg_capture_line(argv, line, sizeof line) != 0)
        return -1;
    const char *p = strstr(line, ") ");
    return p ? strtol(p + 2, NULL, 10) : -1;
}

/* ---- who runs it, and where ---------------------------------------------- */

int sb_embedded_pg_choose_identity(const char *data_dir, sb_embedded_pg_identity *who, sb_error *err)
{
    memset(who, 0, sizeof *who);
    if (geteuid() != 0)
        return 0;
    who->drop = 1;
    struct stat st;
    struct passwd *pw = NULL;
    if (stat(data_dir, &st) == 0 && st.st_uid != 0) {
        /* An existing cluster keeps its owner (postgres refuses any other). */
        pw = getpwuid(st.st_uid);
        who->uid = st.st_uid;
        who->gid = pw ? pw->pw_gid : st.st_gid;
        snprintf(who->name, sizeof who->name, "%s", pw ? pw->pw_name : "(uid)");
        return 0;
    }
    if ((pw = getpwnam("postgres")) == NULL && (pw = getpwnam("nobody")) == NULL)
        return sb_error_set(err, SB_EMBEDDED_PG_E_SYSTEM,
                            "running as root, but neither a 'postgres' nor a 'nobody' user exists "
                            "to run PostgreSQL as; create a 'postgres' system user");
    who->uid = pw->pw_uid;
    who->gid = pw->pw_gid;
    snprintf(who->name, sizeof who->name, "%s", pw->pw_name);
    return 0;
}

static int make_dir(const char *path, mode_t mode, sb_error *err)
{
    if (mkdir(path, mode) != 0 && errno != EEXIST)
        return sb_error_set(err, SB_EMBEDDED_PG_E_STATE_DIR, "cannot create directory %s: %s", path,
                            strerror(errno));
    return 0;
}

int sb_embedded_pg_make_dirs(const char *path, sb_error *err)
{
    char buf[PATH_MAX];
    snprintf(buf, sizeof buf, "%s", path);
    for (char *p = buf + 1; *p; p++)
        if (*p == '/') {
            *p = '\0';
            if (make_dir(buf, 0755, err) != 0)
                return -1;
            *p = '/';
        }
    return make_dir(buf, 0700, err);
}

int sb_embedded_pg_own_dir(const char *path, const sb_embedded_pg_identity *who, sb_error *err)
{
    if (make_dir(path, 0700, err) != 0)
        return -1;
    if (who->drop && chown(path, who->uid, who->gid) != 0)
        return sb_error_set(err, SB_EMBEDDED_PG_E_STATE_DIR, "cannot give %s to user %s: %s", path,
                            who->name, strerror(errno));
    if (chmod(path, 0700) != 0)
        return sb_error_set(err, SB_EMBEDDED_PG_E_STATE_DIR, "cannot chmod 0700 %s: %s", path,
                            strerror(errno));
    return 0;
}

/* Root: the unprivileged user must traverse state_dir to reach pgdata and
 * run/. Grant its group search permission (never read) on state_dir when
 * needed; parent directories are the operator's to fix. */
int sb_embedded_pg_let_identity_reach(sb_embedded_pg *pg, sb_error *err)
{
    if (!pg->who.drop || sb_embedded_pg_can_reach(&pg->who, pg->state_dir))
        return 0;
    struct stat st;
    if (stat(pg->state_dir, &st) == 0 && st.st_uid == 0 &&
        chown(pg->state_dir, (uid_t)-1, pg->who.gid) == 0 &&
        chmod(pg->state_dir, (st.st_mode & 07777) | S_IXGRP) == 0 &&
        sb_embedded_pg_can_reach(&pg->who, pg->state_dir)) {
        sb_info("store", "gave group of user %s search permission on %s (PostgreSQL runs as %s)",
                pg->who.name, pg->state_dir, pg->who.name);
        return 0;
    }
    return sb_error_set(err, SB_EMBEDDED_PG_E_STATE_DIR,
                        "PostgreSQL runs as user %s, which cannot reach %s; make every parent "
                        "directory searchable by it (chmod o+x) or choose another state_dir",
                        pg->who.name, pg->state_dir);
}

/* ---- messages ------------------------------------------------------------ */

/* What went wrong, from the log written since the last launch
 * (log_mark): its last FATAL/PANIC/ERROR line, else its last line (some
 * start-up failures print a bare "postgres: could not access ..."). The
 * "starting up" refusals of our own readiness pings are not the problem. */
void sb_embedded_pg_last_log_problem(const sb_embedded_pg *pg, char *out, size_t cap)
{
    snprintf(out, cap, "see %s", pg->log_path);
    int fd = open(pg->log_path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return;
    char buf[8192];
    off_t size = lseek(fd, 0, SEEK_END);
    off_t from = size > (off_t)sizeof buf - 1 ? size - (off_t)sizeof buf + 1 : 0;
    if (from < pg->log_mark)
        from = pg->log_mark;
    ssize_t n = size > from ? pread(fd, buf, sizeof buf - 1, from) : 0;
    close(fd);
    if (n <= 0)
        return;
    buf[n] = '\0';
    const char *best = NULL, *before_best = NULL, *last = NULL;
    for (char *line = buf, *next; line && *line; line = next) {
        next = strchr(line, '\n');
        if (next)
            *next++ = '\0';
        char *bracket = line[0] >= '0' && line[0] <= '9' ? strstr(line, "] ") : NULL;
        if (bracket)
            line = bracket + 2; /* drop "2026-01-01 00:00:00.000 UTC [123] " */
        if (line[0] == '\0' || strstr(line, "the database system is starting up"))
            continue;
        if (strstr(line, "FATAL:") || strstr(line, "PANIC:") || strstr(line, "ERROR:") ||
            strstr(line, "initdb: error:")) {
            before_best = last;
            best = line;
        }
        last = line;
    }
    /* A FATAL often only sums up the LOG line before it ("configuration
     * file contains errors" after "invalid value for parameter ..."). */
    if (best && before_best && strstr(before_best, "LOG:"))
        snprintf(out, cap, "%s; %s (full log: %s)", before_best, best, pg->log_path);
    else if (best || last)
        snprintf(out, cap, "%s (full log: %s)", best ? best : last, pg->log_path);
}

/* ---- conninfo ------------------------------------------------------------ */

/* key='value' with ' and \ escaped, as libpq's conninfo syntax wants. */
static size_t append_kv(char *out, size_t cap, size_t len, const char *key, const char *value)
{
    int n = snprintf(out + len, cap - len, "%s%s='", len ? " " : "", key);
    len += n > 0 ? (size_t)n : 0;
    for (const char *v = value; *v && len + 3 < cap; v++) {
        if (*v == '\'' || *v == '\\')
            out[len++] = '\\';
        out[len++] = *v;
    }
    if (len + 1 < cap)
        out[len++] = '\'';
    out[len < cap ? len : cap - 1] = '\0';
    return len;
}

int sb_embedded_pg_conninfo_as(const sb_embedded_pg *pg, const char *dbname, const char *user,
                               char *out, size_t cap)
{
    size_t len = append_kv(out, cap, 0, "host", pg->socket_dir);
    len = append_kv(out, cap, len, "port", SB_EMBEDDED_PG_PORT);
    len = append_kv(out, cap, len, "dbname", dbname);
    len = append_kv(out, cap, len, "user", user);
    return len + 1 < cap ? 0 : -1;
}

int sb_embedded_pg_conninfo_for(const sb_embedded_pg *pg, const char *dbname, char *out, size_t cap)
{
    return sb_embedded_pg_conninfo_as(pg, dbname, SB_EMBEDDED_PG_USER, out, cap);
}

const char *sb_embedded_pg_conninfo(const sb_embedded_pg *pg) { return pg->conninfo; }
const char *sb_embedded_pg_app_conninfo(const sb_embedded_pg *pg) { return pg->app_conninfo; }
const char *sb_embedded_pg_data_dir(const sb_embedded_pg *pg) { return pg->data_dir; }
const char *sb_embedded_pg_socket_dir(const sb_embedded_pg *pg) { return pg->socket_dir; }
pid_t sb_embedded_pg_pid(const sb_embedded_pg *pg) { return pg->pid; }
uid_t sb_embedded_pg_uid(const sb_embedded_pg *pg) { return pg->who.drop ? pg->who.uid : geteuid(); }
