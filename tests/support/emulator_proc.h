/*
 * tests/support/emulator_proc.h — an emulator (a Python script under the
 * source tree) as a child process: started with `--port 0 --port-file F`,
 * its port read from F under a deadline, stopped with SIGTERM (SIGKILL
 * after 5 s) and its directory removed. Header-only and free of criterion,
 * so that the benchmarks (bench/) start the same emulators as the tests;
 * tests use emulator_support.h, whose es_proc_start fails the test when
 * es_proc_spawn does.
 */
#ifndef SB_TESTS_EMULATOR_PROC_H
#define SB_TESTS_EMULATOR_PROC_H

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

typedef struct es_proc {
    pid_t pid; /* -1: not running */
    int port;
    char dir[256];
} es_proc;

static inline int64_t es_proc_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static inline void es_proc_sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* Starts `python3 <source_dir>/<script_rel> --port 0 --port-file F` plus
 * extra arguments (NULL-terminated; may be NULL) and waits up to 15 s for
 * its port. 0, or -1 with the reason in why (the process stopped). */
static inline int es_proc_spawn(es_proc *e, const char *source_dir, const char *script_rel,
                                const char *const *extra_args, char *why, size_t why_cap)
{
    e->pid = -1;
    snprintf(e->dir, sizeof e->dir, "/tmp/sb-emulator-test-XXXXXX");
    if (mkdtemp(e->dir) == NULL) {
        snprintf(why, why_cap, "mkdtemp: %s", strerror(errno));
        e->dir[0] = '\0';
        return -1;
    }
    char port_file[300], script[600];
    snprintf(port_file, sizeof port_file, "%s/port", e->dir);
    snprintf(script, sizeof script, "%s/%s", source_dir, script_rel);
    const char *argv[24] = {"python3", script, "--port", "0", "--port-file", port_file};
    size_t argc = 6;
    for (size_t i = 0; extra_args && extra_args[i] && argc < 23; i++)
        argv[argc++] = extra_args[i];
    argv[argc] = NULL;
    e->pid = fork();
    if (e->pid < 0) {
        snprintf(why, why_cap, "fork: %s", strerror(errno));
        return -1;
    }
    if (e->pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGTERM); /* never outlive a crashed parent */
        int null = open("/dev/null", O_WRONLY);
        if (null >= 0)
            dup2(null, STDOUT_FILENO);
        execvp("python3", (char *const *)argv);
        _exit(127);
    }
    int64_t deadline = es_proc_now_ms() + 15000;
    while (es_proc_now_ms() < deadline) {
        FILE *f = fopen(port_file, "r");
        if (f) {
            int ok = fscanf(f, "%d", &e->port) == 1;
            fclose(f);
            if (ok && e->port > 0)
                return 0;
        }
        int status;
        if (waitpid(e->pid, &status, WNOHANG) == e->pid) {
            e->pid = -1;
            snprintf(why, why_cap, "the emulator exited during start-up (status %d)", status);
            return -1;
        }
        es_proc_sleep_ms(20);
    }
    snprintf(why, why_cap, "the emulator did not write its port within 15 s");
    return -1;
}

static inline void es_proc_stop(es_proc *e)
{
    if (e->pid > 0) {
        kill(e->pid, SIGTERM);
        int status;
        int64_t deadline = es_proc_now_ms() + 5000;
        while (waitpid(e->pid, &status, WNOHANG) == 0 && es_proc_now_ms() < deadline)
            es_proc_sleep_ms(10);
        if (es_proc_now_ms() >= deadline) {
            kill(e->pid, SIGKILL);
            waitpid(e->pid, &status, 0);
        }
        e->pid = -1;
    }
    if (e->dir[0]) {
        char cmd[400];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", e->dir);
        if (system(cmd) != 0)
            fprintf(stderr, "could not remove %s\n", e->dir);
        e->dir[0] = '\0';
    }
}

#endif
