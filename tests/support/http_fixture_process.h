/*
 * tests/support/http_fixture_process.h — starts and stops
 * tests/support/http_fixture.py (a stdlib HTTP server on 127.0.0.1, a port
 * of its choosing) for the host HTTP client's tests, after initialising
 * what the client needs (libsodium's secure memory, libcurl). Start fails
 * the test when the server does not report its port within 5 s. Tests only.
 */
#ifndef SB_TEST_HTTP_FIXTURE_PROCESS_H
#define SB_TEST_HTTP_FIXTURE_PROCESS_H

#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "crypto/secure_mem.h"
#include "plugin/http_client.h"

typedef struct sb_test_http_fixture {
    pid_t pid;
    int port;
    char dir[64];
} sb_test_http_fixture;

static inline void sb_test_http_fixture_start(sb_test_http_fixture *f)
{
    cr_assert_eq(sb_crypto_init(), 0);
    cr_assert_eq(sb_http_global_init(), 0);
    snprintf(f->dir, sizeof f->dir, "/tmp/sb-http-test-XXXXXX");
    cr_assert_not_null(mkdtemp(f->dir));
    char port_file[128];
    snprintf(port_file, sizeof port_file, "%s/port", f->dir);
    f->port = 0;
    f->pid = fork();
    if (f->pid == 0) {
        execlp("python3", "python3", SB_SOURCE_DIR "/tests/support/http_fixture.py", port_file, (char *)NULL);
        _exit(127);
    }
    for (int i = 0; i < 500 && f->port == 0; i++) { /* poll with a 5 s deadline */
        FILE *pf = fopen(port_file, "r");
        if (pf) {
            if (fscanf(pf, "%d", &f->port) != 1)
                f->port = 0;
            fclose(pf);
        }
        if (f->port == 0)
            usleep(10000);
    }
    cr_assert_neq(f->port, 0, "the HTTP fixture did not start");
}

static inline void sb_test_http_fixture_stop(sb_test_http_fixture *f)
{
    kill(f->pid, SIGTERM);
    waitpid(f->pid, NULL, 0);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->dir);
    if (system(cmd) != 0)
        cr_log_warn("cannot remove %s", f->dir);
}

#endif
