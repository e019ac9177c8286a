/* cli/dev_child.c — see dev_child.h. */
#include "cli/dev_child.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void pause_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* environ + extra, NULL-terminated (the strings are borrowed). */
static char **merged_env(char *const extra[])
{
    size_t n = 0, k = 0;
    while (environ[n])
        n++;
    while (extra && extra[k])
        k++;
    char **env = calloc(n + k + 1, sizeof *env);
    if (env == NULL)
        return NULL;
    memcpy(env, environ, n * sizeof *env);
    if (k)
        memcpy(env + n, extra, k * sizeof *env);
    return env;
}

int sb_dev_child_spawn(sb_dev_child *c, const char *name, char *const argv[],
                       char *const extra_env[], const char *log_path, sb_error *err)
{
    memset(c, 0, sizeof *c);
    snprintf(c->name, sizeof c->name, "%s", name);
    snprintf(c->log_path, sizeof c->log_path, "%s", log_path);
    int log = open(log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (log < 0)
        return sb_error_set(err, 1, "cannot open %s for the %s's log: %s", log_path, name,
                            strerror(errno));
    int devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
    char **env = merged_env(extra_env);
    if (devnull < 0 || env == NULL) {
        close(log);
        if (devnull >= 0)
            close(devnull);
        free(env);
        return sb_error_set(err, 1, "cannot start the %s: out of resources", name);
    }
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid == 0) { /* async-signal-safe calls only from here to exec */
        sigset_t none;
        sigemptyset(&none);
        signal(SIGINT, SIG_DFL);
        signal(SIGTERM, SIG_DFL);
        signal(SIGHUP, SIG_DFL);
        signal(SIGPIPE, SIG_DFL);
        sigprocmask(SIG_SETMASK, &none, NULL);
        setpgid(0, 0);
        prctl(PR_SET_PDEATHSIG, SIGTERM);
        if (getppid() != parent)
            _exit(127); /* dev died before we got here */
        dup2(devnull, STDIN_FILENO);
        dup2(log, STDOUT_FILENO);
        dup2(log, STDERR_FILENO);
        execvpe(argv[0], argv, env);
        static const char msg[] = "sbridge dev: cannot execute the program\n";
        (void)!write(STDERR_FILENO, msg, sizeof msg - 1);
        _exit(127);
    }
    int saved = errno;
    close(log);
    close(devnull);
    free(env);
    if (pid < 0)
        return sb_error_set(err, 1, "cannot start the %s: %s", name, strerror(saved));
    c->pid = pid;
    return 0;
}

int sb_dev_child_running(sb_dev_child *c)
{
    if (c->pid <= 0)
        return 0;
    pid_t r = waitpid(c->pid, &c->status, WNOHANG);
    if (r == 0)
        return 1;
    c->pid = 0;
    return 0;
}

void sb_dev_child_stop(sb_dev_child *c, int grace_ms)
{
    if (!sb_dev_child_running(c))
        return;
    kill(c->pid, SIGTERM);
    int64_t until = now_ms() + grace_ms;
    while (now_ms() < until) {
        if (!sb_dev_child_running(c))
            return;
        pause_ms(20);
    }
    kill(c->pid, SIGKILL);
    waitpid(c->pid, &c->status, 0);
    c->pid = 0;
}

static void describe_exit(const sb_dev_child *c, char *out, size_t cap)
{
    if (WIFEXITED(c->status))
        snprintf(out, cap, "exited with status %d", WEXITSTATUS(c->status));
    else if (WIFSIGNALED(c->status))
        snprintf(out, cap, "was killed by signal %d", WTERMSIG(c->status));
    else
        snprintf(out, cap, "stopped");
}

int sb_dev_child_wait_file(sb_dev_child *c, const char *path, int timeout_ms, sb_error *err)
{
    int64_t until = now_ms() + timeout_ms;
    struct stat st;
    for (;;) {
        if (stat(path, &st) == 0 && st.st_size > 0)
            return 0;
        if (!sb_dev_child_running(c)) {
            char how[64];
            describe_exit(c, how, sizeof how);
            return sb_error_set(err, 1, "the %s %s before it was ready; its log is %s", c->name, how,
                                c->log_path);
        }
        if (now_ms() >= until)
            return sb_error_set(err, 1, "the %s was not ready after %d s; its log is %s", c->name,
                                timeout_ms / 1000, c->log_path);
        pause_ms(50);
    }
}
