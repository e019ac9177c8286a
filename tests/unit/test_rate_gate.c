/* test_rate_gate.c — plugin/rate_gate.h with a synthetic clock: the token
 * bucket's burst and refill, a provider's Retry-After pausing everyone, the
 * backoff without a hint growing per consecutive throttle and reset by an
 * answer that passed. */
#include <criterion/criterion.h>
#include <sodium.h>

#include "plugin/rate_gate.h"

Test(rate_gate, bursts_one_second_then_refills_at_the_rate)
{
    sb_rate_gate g;
    sb_rate_gate_init(&g, 2);
    cr_assert_eq(sb_rate_gate_take(&g, 1000), 0);
    cr_assert_eq(sb_rate_gate_take(&g, 1000), 0);
    int64_t w = sb_rate_gate_take(&g, 1000);
    cr_assert(w >= 499 && w <= 501, "third request waits half a second, not %lld", (long long)w);
    cr_assert_eq(sb_rate_gate_take(&g, 1501), 0, "one token came back after 500 ms");
    cr_assert_gt(sb_rate_gate_take(&g, 1501), 0);
    /* a long idle time refills only to the burst */
    cr_assert_eq(sb_rate_gate_take(&g, 60000), 0);
    cr_assert_eq(sb_rate_gate_take(&g, 60000), 0);
    cr_assert_gt(sb_rate_gate_take(&g, 60000), 0);
    sb_rate_gate_destroy(&g);
}

Test(rate_gate, no_limit_unless_paused)
{
    sb_rate_gate g;
    sb_rate_gate_init(&g, 0);
    for (int i = 0; i < 1000; i++)
        cr_assert_eq(sb_rate_gate_take(&g, 5), 0);
    cr_assert_eq(sb_rate_gate_throttled(&g, 100, 1000), 1000, "Retry-After is the pause");
    cr_assert_eq(sb_rate_gate_take(&g, 200), 900);
    cr_assert_eq(sb_rate_gate_take(&g, 1100), 0);
    sb_rate_gate_destroy(&g);
}

Test(rate_gate, a_shorter_hint_never_shortens_a_pause)
{
    sb_rate_gate g;
    sb_rate_gate_init(&g, 10);
    sb_rate_gate_throttled(&g, 0, 5000);
    sb_rate_gate_throttled(&g, 0, 100);
    cr_assert_eq(sb_rate_gate_take(&g, 1000), 4000);
    sb_rate_gate_destroy(&g);
}

Test(rate_gate, without_a_hint_the_pause_doubles_per_throttle_until_one_passes)
{
    cr_assert_geq(sodium_init(), 0);
    sb_rate_gate g;
    sb_rate_gate_init(&g, 0);
    int64_t first = sb_rate_gate_throttled(&g, 0, 0);
    cr_assert(first >= 250 && first <= 500, "%lld", (long long)first);
    int64_t second = sb_rate_gate_throttled(&g, 0, 0);
    cr_assert(second >= 500 && second <= 1000, "%lld", (long long)second);
    for (int i = 0; i < 10; i++)
        cr_assert_leq(sb_rate_gate_throttled(&g, 0, 0), SB_RATE_GATE_PAUSE_MAX_MS);
    sb_rate_gate_passed(&g);
    int64_t again = sb_rate_gate_throttled(&g, 0, 0);
    cr_assert(again >= 250 && again <= 500, "the streak did not reset: %lld", (long long)again);
    sb_rate_gate_destroy(&g);
}
