/*
 * bench/cluster.c — one PostgreSQL cluster for a whole `bench/run --smoke`:
 * started by the test harness (tests/support/pg_harness.h), its conninfo
 * printed on one line of stdout, kept until stdin closes, then stopped and
 * removed. bench/run exports that conninfo as SB_PG_HARNESS_CONNINFO, so
 * each benchmark takes a fresh database in it (≈ 70 ms) instead of an
 * initdb of its own (seconds each on a loaded machine).
 */
#include <stdio.h>

#include "pg_harness.h"

int main(void)
{
    sb_pg_harness *pg;
    if (sb_pg_harness_start(&pg) != 0)
        return 1;
    printf("%s\n", sb_pg_harness_conninfo(pg));
    fflush(stdout);
    char buf[256];
    while (fread(buf, 1, sizeof buf, stdin) > 0)
        ;
    sb_pg_harness_stop(pg);
    return 0;
}
