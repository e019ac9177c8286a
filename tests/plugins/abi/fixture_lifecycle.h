/*
 * fixture_lifecycle.h — the do-nothing instance lifecycle the ABI test
 * fixtures share (abi_fixture.c, abi_newer_header.c, gitops_fixture.c):
 * instance_new hands back a static token, instance_free does nothing.
 * Each fixture keeps its own init (what it learns from the host differs).
 */
#ifndef SB_TESTS_FIXTURE_LIFECYCLE_H
#define SB_TESTS_FIXTURE_LIFECYCLE_H

#include <sbridge/plugin.h>

static sb_status f_new(const sb_config *cfg, void **inst, sb_result *res)
{
    (void)cfg, (void)res;
    static int token;
    *inst = &token;
    return SB_OK;
}

static void f_free(void *inst) { (void)inst; }

#endif
