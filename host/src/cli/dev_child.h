/*
 * cli/dev_child.h — the helper processes `sbridge dev` runs beside its
 * control plane (the demo Vault emulator, the demo agent).
 *
 * Contract: sb_dev_child_spawn starts argv[0] (a path, or a name looked up
 * in PATH) with the environment of this process plus `extra_env` (NULL or
 * "NAME=value" strings, NULL-terminated), stdin from /dev/null, stdout and
 * stderr appended to log_path (created 0600). The child runs in a process
 * group of its own, with the default signal mask and dispositions, and is
 * sent SIGTERM by the kernel if `sbridge dev` dies (PR_SET_PDEATHSIG), so
 * nothing is left running behind a killed dev. Between fork and exec only
 * async-signal-safe calls are made (the control plane's threads may be
 * running). sb_dev_child_running says whether it still runs (and reaps it
 * when not); sb_dev_child_stop sends SIGTERM, waits up to grace_ms, then
 * SIGKILL, and reaps it; it is a no-op for a child that never started.
 * sb_dev_child_wait_file waits until `path` exists and is non-empty, the
 * child exits (-1, err says so and names the log) or timeout_ms pass.
 */
#ifndef SB_CLI_DEV_CHILD_H
#define SB_CLI_DEV_CHILD_H

#include <sys/types.h>

#include "util/error.h"

typedef struct sb_dev_child {
    pid_t pid; /* 0: not running */
    int status; /* wait status once reaped */
    char name[32];
    char log_path[4096];
} sb_dev_child;

int sb_dev_child_spawn(sb_dev_child *c, const char *name, char *const argv[],
                       char *const extra_env[], const char *log_path, sb_error *err);
int sb_dev_child_running(sb_dev_child *c);
void sb_dev_child_stop(sb_dev_child *c, int grace_ms);
int sb_dev_child_wait_file(sb_dev_child *c, const char *path, int timeout_ms, sb_error *err);

#endif
