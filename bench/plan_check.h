/*
 * bench/plan_check.h — the EXPLAIN (ANALYZE, BUFFERS) plans of the
 * statements the server really runs on a hot path (its own SQL, its own
 * parameters, its prepared statements' custom and generic plans), taken
 * from auto_explain in the harness cluster's log, and the check that none
 * of them reads a table that grows without bound with a Seq Scan (SPEC §19).
 *
 * auto_explain is switched on for the harness database with ALTER DATABASE
 * SET, which new connections read: start a peer control plane
 * (sb_api_harness_start_peer) after bench_plans_begin and drive the hot
 * paths through it. With seqscan_off the same connections plan with
 * enable_seqscan = off: on a small database the planner then takes an
 * index wherever one can serve the query, so a Seq Scan left in a plan
 * means no index can (the smoke mode's check). Without it, a Seq Scan of an
 * unbounded table of fewer than 1,000 rows (pg_class.reltuples) is taken
 * for the planner's right choice on a table that small, and not reported.
 */
#ifndef SB_BENCH_PLAN_CHECK_H
#define SB_BENCH_PLAN_CHECK_H

#include <stdio.h>

#include "api_harness.h"

typedef struct bench_plans bench_plans;

/* NULL after saying why on stderr. */
bench_plans *bench_plans_begin(sb_api_harness *h, int seqscan_off);
/* Everything logged from now on belongs to hot path `name` (until the next mark). */
void bench_plans_mark(bench_plans *p, const char *name);
/* Turns auto_explain off again, reads the log and writes, for each hot
 * path, the last plan of each distinct statement to out (markdown), then
 * every Seq Scan of an unbounded table found in any plan. Frees p.
 * Returns the number of those scans, or -1 when the log could not be read. */
int bench_plans_end(bench_plans *p, FILE *out);

#endif
