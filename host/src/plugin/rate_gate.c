/* plugin/rate_gate.c — see rate_gate.h. */
#include "plugin/rate_gate.h"

#include <sodium.h>

void sb_rate_gate_init(sb_rate_gate *g, int64_t rate_per_second)
{
    pthread_mutex_init(&g->mu, NULL);
    g->per_ms = rate_per_second > 0 ? (double)rate_per_second / 1000.0 : 0;
    g->burst = rate_per_second > 0 ? (double)rate_per_second : 0;
    g->tokens = g->burst;
    g->refilled_at = -1;
    g->paused_until = 0;
    g->throttles = 0;
}

void sb_rate_gate_destroy(sb_rate_gate *g) { pthread_mutex_destroy(&g->mu); }

int64_t sb_rate_gate_take(sb_rate_gate *g, int64_t now)
{
    pthread_mutex_lock(&g->mu);
    int64_t wait = g->paused_until > now ? g->paused_until - now : 0;
    if (wait == 0 && g->per_ms > 0) {
        if (g->refilled_at >= 0 && now > g->refilled_at) {
            g->tokens += (double)(now - g->refilled_at) * g->per_ms;
            if (g->tokens > g->burst)
                g->tokens = g->burst;
        }
        if (now > g->refilled_at)
            g->refilled_at = now;
        if (g->tokens >= 1.0)
            g->tokens -= 1.0;
        else
            wait = (int64_t)((1.0 - g->tokens) / g->per_ms) + 1;
    }
    pthread_mutex_unlock(&g->mu);
    return wait;
}

int64_t sb_rate_gate_throttled(sb_rate_gate *g, int64_t now, uint32_t retry_after_ms)
{
    pthread_mutex_lock(&g->mu);
    g->throttles++;
    int64_t pause = retry_after_ms;
    if (pause == 0) {
        int64_t full = 500;
        for (int i = 1; i < g->throttles && full < SB_RATE_GATE_PAUSE_MAX_MS; i++)
            full *= 2;
        if (full > SB_RATE_GATE_PAUSE_MAX_MS)
            full = SB_RATE_GATE_PAUSE_MAX_MS;
        pause = full / 2 + (int64_t)randombytes_uniform((uint32_t)(full / 2 + 1));
    }
    if (now + pause > g->paused_until)
        g->paused_until = now + pause;
    pthread_mutex_unlock(&g->mu);
    return pause;
}

void sb_rate_gate_passed(sb_rate_gate *g)
{
    pthread_mutex_lock(&g->mu);
    g->throttles = 0;
    pthread_mutex_unlock(&g->mu);
}
