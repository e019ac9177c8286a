/*
 * tests/support/abi_outputs.h — test helpers for the plugin ABI's
 * host-owned outputs (sb_text, sb_result's message storage).
 *
 * SB_TEST_RESULT declares an sb_result released when it goes out of scope.
 * sb_test_text() returns a fresh host text that stays reachable (a static
 * pool) until the test process exits, so a test can hand texts to plugin
 * calls without a free on every path; SB_TEST_VERSION_INFO is an
 * sb_version_info with such a text. Tests only.
 */
#ifndef SB_TEST_ABI_OUTPUTS_H
#define SB_TEST_ABI_OUTPUTS_H

#include <sbridge/plugin.h>

#include "plugin/text.h"

#define SB_TEST_RESULT __attribute__((cleanup(sb_result_release))) sb_result

static inline sb_text *sb_test_text(void)
{
    static sb_text *pool[4096];
    static size_t n;
    sb_text *t = sb_text_new();
    if (n < sizeof pool / sizeof pool[0])
        pool[n++] = t;
    return t;
}

#define SB_TEST_VERSION_INFO {sizeof(sb_version_info), 0, sb_test_text(), 0}
#define SB_TEST_STR(t) sb_text_cstr(t)

#endif
