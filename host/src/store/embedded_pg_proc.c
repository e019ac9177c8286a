/* store/embedded_pg_proc.c — forking, exec'ing and reaping the PostgreSQL
 * programs, as another user when running as root. See
 * embedded_pg_internal.h. */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "store/db_internal.h"
#include "store/embedded_pg.h"
#include "store/embedded_pg_internal.h"

static void pause_ms(long ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* Child side, between fork and exec: async-signal-safe calls only. */
struct child_failure {
    int step; /* which call failed (index into step_names) */
    int err;  /* its errno */
};
static const char *const step_names[] = {"setsid", "setgroups", "setgid", "setuid",
                                         "prctl(PR_SET_PDEATHSIG)", "dup2", "exec", "chdir"};

static void child_fail(int pipe_fd, int step)
{
    struct child_failure f = {step, errno};
    ssize_t w = write(pipe_fd, &f, sizeof f);
    (void)w;
    _exit(127);
}

static void child_close_others(int keep, long max_fd)
{
    if (syscall(SYS_close_range, 3u, ~0u, 4u /* CLOSE_RANGE_CLOEXEC */) == 0)
        return; /* everything above stderr is closed by the exec itself */
    for (long fd = 3; fd < max_fd; fd++)
        if (fd != keep)
            close((int)fd);
}

static void child_setup(const sb_embedded_pg_identity *who, int log_fd, int null_fd, int pipe_fd,
                        int flags, pid_t parent, long max_fd)
{
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    struct sigaction dfl;
    memset(&dfl, 0, sizeof dfl);
    dfl.sa_handler = SIG_DFL;
    for (int s = 1; s < NSIG; s++)
        if (s != SIGKILL && s != SIGSTOP)
            sigaction(s, &dfl, NULL); /* fails harmlessly for the reserved ones */
    if ((flags & SB_EMBEDDED_PG_SPAWN_NEW_SESSION) && setsid() < 0)
        child_fail(pipe_fd, 0);
    if (who && who->drop) {
        if (setgroups(1, &who->gid) != 0)
            child_fail(pipe_fd, 1);
        if (setgid(who->gid) != 0)
            child_fail(pipe_fd, 2);
        if (setuid(who->uid) != 0 || setuid(0) == 0)
            child_fail(pipe_fd, 3);
    }
    if (flags & SB_EMBEDDED_PG_SPAWN_DIE_WITH_PARENT) {
        /* After setuid: a change of credentials clears this setting. */
        if (prctl(PR_SET_PDEATHSIG, SIGINT) != 0)
            child_fail(pipe_fd, 4);
        if (getppid() != parent)
            _exit(0); /* the parent is already gone */
    }
    if (dup2(null_fd, 0) < 0 || dup2(log_fd, 1) < 0 || dup2(log_fd, 2) < 0)
        child_fail(pipe_fd, 5);
    /* The parent's working directory may be closed to the new user. */
    if (chdir("/") != 0)
        child_fail(pipe_fd, 7);
    child_close_others(pipe_fd, max_fd);
}

pid_t sb_embedded_pg_spawn(const char *const *argv, const sb_embedded_pg_identity *who,
                           int log_fd, int flags, sb_error *err)
{
    int fds[2];
    int null_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
    if (null_fd < 0 || pipe2(fds, O_CLOEXEC) != 0) {
        int e = errno;
        if (null_fd >= 0)
            close(null_fd);
        return sb_error_set(err, SB_EMBEDDED_PG_E_SYSTEM, "cannot start %s: %s", argv[0], strerror(e));
    }
    long max_fd = sysconf(_SC_OPEN_MAX);
    if (max_fd < 0 || max_fd > 65536)
        max_fd = 65536;
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid == 0) {
        close(fds[0]);
        child_setup(who, log_fd, null_fd, fds[1], flags, parent, max_fd);
        execv(argv[0], (char *const *)argv);
        child_fail(fds[1], 6);
    }
    int fork_errno = errno;
    close(fds[1]);
    close(null_fd);
    if (pid < 0) {
        close(fds[0]);
        return sb_error_set(err, SB_EMBEDDED_PG_E_SYSTEM, "cannot fork to run %s: %s", argv[0],
                            strerror(fork_errno));
    }
    struct child_failure f;
    ssize_t n;
    do
        n = read(fds[0], &f, sizeof f);
    while (n < 0 && errno == EINTR);
    close(fds[0]);
    if (n == (ssize_t)sizeof f) {
        int status;
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
            ;
        const char *step = f.step >= 0 && f.step < (int)(sizeof step_names / sizeof step_names[0])
                               ? step_names[f.step]
                               : "?";
        if (f.step == 6)
            return sb_error_set(err, SB_EMBEDDED_PG_E_NOT_INSTALLED,
                                "cannot run %s: %s; install the postgresql package "
                                "(scripts/install-deps does)",
                                argv[0], strerror(f.err));
        return sb_error_set(err, SB_EMBEDDED_PG_E_SYSTEM, "cannot run %s as user %s: %s failed: %s",
                            argv[0], who && who->drop ? who->name : "(self)", step, strerror(f.err));
    }
    return pid;
}

int sb_embedded_pg_wait_exit(pid_t pid, int64_t timeout_ms, int *status)
{
    int64_t deadline = sb_db_now_ms() + timeout_ms;
    *status = -1;
    for (;;) {
        pid_t r = waitpid(pid, status, WNOHANG);
        if (r == pid)
            return 1;
        if (r < 0 && errno == ECHILD && kill(pid, 0) != 0 && errno == ESRCH) {
            *status = -1; /* reaped by someone else (a SIGCHLD handler) */
            return 1;
        }
        if (sb_db_now_ms() >= deadline)
            return 0;
        pause_ms(5); /* polling a child with a deadline: no event to wait on */
    }
}

int sb_embedded_pg_run(const char *const *argv, const sb_embedded_pg_identity *who, int log_fd,
                       int64_t timeout_ms, sb_error *err)
{
    pid_t pid = sb_embedded_pg_spawn(argv, who, log_fd, SB_EMBEDDED_PG_SPAWN_DIE_WITH_PARENT, err);
    if (pid < 0)
        return -1;
    int status;
    if (!sb_embedded_pg_wait_exit(pid, timeout_ms, &status)) {
        kill(pid, SIGKILL);
        sb_embedded_pg_wait_exit(pid, 5000, &status);
        return sb_error_set(err, SB_EMBEDDED_PG_E_SYSTEM, "%s did not finish within %lld s; killed it",
                            argv[0], (long long)(timeout_ms / 1000));
    }
    if (status != -1 && !(WIFEXITED(status) && WEXITSTATUS(status) == 0))
        return sb_error_set(err, SB_EMBEDDED_PG_E_SYSTEM, "%s failed (%s %d)", argv[0],
                            WIFEXITED(status) ? "exit status" : "signal",
                            WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
    return 0;
}

int sb_embedded_pg_capture_line(const char *const *argv, char *out, size_t cap)
{
    int fds[2];
    out[0] = '\0';
    if (pipe2(fds, O_CLOEXEC) != 0)
        return -1;
    int null_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
    pid_t pid = null_fd < 0 ? -1 : fork();
    if (pid == 0) {
        if (dup2(null_fd, 0) < 0 || dup2(fds[1], 1) < 0 || dup2(null_fd, 2) < 0)
            _exit(127);
        execvp(argv[0], (char *const *)argv);
        _exit(127);
    }
    close(fds[1]);
    if (null_fd >= 0)
        close(null_fd);
    if (pid < 0) {
        close(fds[0]);
        return -1;
    }
    size_t len = 0;
    for (;;) {
        ssize_t n = read(fds[0], out + len, cap - 1 - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        len += (size_t)n;
        if (len == cap - 1)
            break;
    }
    close(fds[0]);
    out[len] = '\0';
    out[strcspn(out, "\r\n")] = '\0';
    int status;
    sb_embedded_pg_wait_exit(pid, 10000, &status);
    return status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == 0 && out[0] ? 0 : -1;
}

int sb_embedded_pg_can_reach(const sb_embedded_pg_identity *who, const char *path)
{
    if (!who->drop)
        return access(path, X_OK) == 0;
    pid_t pid = fork();
    if (pid == 0) {
        if (setgroups(1, &who->gid) != 0 || setgid(who->gid) != 0 || setuid(who->uid) != 0)
            _exit(2);
        _exit(access(path, X_OK) == 0 ? 0 : 1);
    }
    if (pid < 0)
        return 0;
    int status;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            return 0;
    return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

static int remove_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
    (void)st;
    (void)type;
    (void)ftw;
    return remove(path) != 0 && errno != ENOENT ? -1 : 0;
}

int sb_embedded_pg_remove_tree(const char *path)
{
    struct stat st;
    if (lstat(path, &st) != 0)
        return errno == ENOENT ? 0 : -1;
    nftw(path, remove_entry, 16, FTW_DEPTH | FTW_PHYS | FTW_MOUNT);
    return lstat(path, &st) != 0 && errno == ENOENT ? 0 : -1;
}
