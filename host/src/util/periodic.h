/*
 * util/periodic.h — a background thread that runs one pass of some chore
 * every interval (the worker's scheduler).
 *
 * Contract: sb_periodic_start starts one thread that runs spec->pass at
 * once, then every interval_ms, and at once after sb_periodic_wake. A pass
 * does one bounded batch of work and reports how much it did; it returns
 * SB_PERIODIC_MORE when a full batch suggests more is waiting, and the
 * thread runs the next pass at once (not after the interval) unless it is
 * stopping. A backlog is therefore worked off batch by batch, with the
 * stats (done, passes) current after every batch and stop honoured between
 * batches. A failing pass is logged once when failures start and once when
 * they clear (not every round) and retried next round: it never stops the
 * thread. sb_periodic_stop asks the thread to finish, runs last passes when
 * spec->final_pass (work that arrived while the process drained; at most
 * SB_PERIODIC_FINAL_PASSES while they report more), joins it and frees
 * everything.
 */
#ifndef SB_UTIL_PERIODIC_H
#define SB_UTIL_PERIODIC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/error.h"

typedef struct sb_periodic sb_periodic;

/* One pass: 0 with *done units of work, SB_PERIODIC_MORE when more work is
 * waiting, or -1 with err. */
#define SB_PERIODIC_MORE 1
#define SB_PERIODIC_FINAL_PASSES 100
typedef int (*sb_periodic_pass)(sb_periodic *p, void *ctx, size_t *done, sb_error *err);

typedef struct sb_periodic_spec {
    const char *component; /* log component, e.g. "audit" */
    const char *what;      /* "sealing audit events": for log lines */
    int64_t interval_ms;   /* 10 .. 3600000 */
    sb_periodic_pass pass;
    void *ctx;
    bool final_pass;
} sb_periodic_spec;

typedef struct sb_periodic_stats {
    uint64_t done;     /* units of work since start */
    uint64_t passes;   /* passes run */
    uint64_t failures; /* passes that failed */
    int failing;       /* 1 while the latest pass failed */
    int64_t max_pass_ms; /* the longest pass so far */
} sb_periodic_stats;

/* The spec's strings must outlive the thread. Errors: SB_PERIODIC_E_INVALID. */
enum { SB_PERIODIC_E_INVALID = 190 };
int sb_periodic_start(const sb_periodic_spec *spec, sb_periodic **out, sb_error *err);
void sb_periodic_wake(sb_periodic *p); /* never blocks; NULL is a no-op */
bool sb_periodic_stopping(sb_periodic *p);
void sb_periodic_stats_get(sb_periodic *p, sb_periodic_stats *out);
void sb_periodic_stop(sb_periodic *p); /* NULL is a no-op */

#endif
