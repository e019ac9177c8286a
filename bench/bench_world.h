/*
 * bench/bench_world.h — what the benchmarks share: one real control plane
 * (tests/support/api_harness.h) with the world a read request needs — a
 * team, a project, a non_prod environment, a Vault connection bound to the
 * project, one catalog secret, a secret binding (keys user, password; ops
 * read, patch), a requester (developer) and approvers, all signed in — and
 * an agent enrolled on demand, the clock and percentile helpers.
 */
#ifndef SB_BENCH_WORLD_H
#define SB_BENCH_WORLD_H

#include <stddef.h>

#include "api_harness.h"

#define N_APPROVERS 4

typedef struct bench_world {
    sb_api_harness *h;
    char admin[256];
    char binding[40];
    char connection[40]; /* the Vault connection's id */
    char requester[256];
    char approver[N_APPROVERS][256];
    int approvers; /* how many approvers to sign in (0: N_APPROVERS); each
                    * costs two argon2id hashes, seconds on a loaded machine */
} bench_world;

/* Builds the world on w->h; 0 ok, -1 after saying what failed on stderr. */
int bench_world_build(bench_world *w);

/* An agent enrollment token for w's Vault connection (>= 128). 0 or -1. */
int bench_world_enrollment_token(bench_world *w, char *token, size_t cap);
/* Enrolls an agent named `name` for w's Vault connection (a fresh key
 * pair); fills its id (>= 40) and credential. 0, or -1 after saying why. */
int bench_world_enroll_agent(bench_world *w, const char *name, char *id, char *cred,
                             size_t cred_cap);

/* The path of the harness cluster's postgres.log (the parent of the socket
 * directory of its conninfo). 0, or -1 when the conninfo has no host. */
int bench_world_pg_log(sb_api_harness *h, char *out, size_t cap);

/* A GET as the session `cookie`; the status, the time it took into *s. */
long bench_timed_get(sb_api_harness *h, const char *path, const char *cookie, double *s);

/* kB of a /proc/<pid>/status field ("VmRSS", "VmHWM", "RssAnon"…) of
 * process pid (0: this one); -1 when unknown. */
long bench_status_kb(int pid, const char *field);

double bench_now_s(void); /* monotonic seconds */
void bench_sleep_until(double t);
int bench_cmp_double(const void *a, const void *b);
/* Sorts v; p50 and p99 in milliseconds of seconds-valued samples. */
void bench_percentiles(double *v, size_t n, double *p50, double *p99);

#endif
