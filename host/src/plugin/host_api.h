/*
 * plugin/host_api.h — the host API table handed to plugins, and the call
 * contexts the host creates for each plugin operation.
 *
 * Contract: sb_host_api_table() returns the process-wide, immutable table
 * (ABI 1.1) backed by the host's real services: redacting log/fail, secure
 * memory, the secure JSON parser, bundles, validated instance configs, the
 * libcurl HTTP client (one request, or a concurrent batch), clock,
 * randomness and cancellation. Every function
 * tolerates NULL arguments (returns an error/NULL, never crashes).
 *
 * sb_call_ctx wraps the ABI's sb_call with what the host tracks per call
 * (plugin and instance names for log lines, a cancel flag, the instance's
 * rate gate). It lives on the caller's stack for the duration of one
 * operation.
 *
 * Pacing: when the caller sets ctx->gate (an agent does, for the provider
 * instance it serves), every HTTP request of the call — retries included —
 * first waits its turn at the gate (plugin/rate_gate.h) through
 * sb_call_pace. The wait ends early only when the call is cancelled or its
 * deadline would pass first; the request then fails SB_E_CANCELLED /
 * SB_E_TIMEOUT without being sent. ctx->paced_ms adds up the waits.
 *
 * sb_call_lists_names_only() is 1 when the host marked the call as a
 * provider list (ctx->lists_names_only); any other call, or a NULL or
 * foreign sb_call, is 0.
 */
#ifndef SB_PLUGIN_HOST_API_H
#define SB_PLUGIN_HOST_API_H

#include <sbridge/plugin.h>
#include <stdatomic.h>

#include "plugin/rate_gate.h"

typedef struct sb_call_ctx {
    sb_call call;
    const char *plugin;
    const char *instance;
    atomic_int cancelled;
    sb_rate_gate *gate; /* NULL: requests are not paced */
    int64_t paced_ms;   /* time requests of this call waited at the gate */
    /* Set by the host while the call runs a provider's list: its HTTP LIST
     * requests answer names, never values (see plugin/http_client.h). */
    int lists_names_only;
} sb_call_ctx;

const sb_host_api *sb_host_api_table(void);

void sb_call_begin(sb_call_ctx *ctx, const char *plugin, const char *instance,
                   const char *correlation_id, int64_t timeout_ms);
void sb_call_cancel(sb_call_ctx *ctx);
/* True when the host cancelled the call (as opposed to its deadline passing). */
int sb_call_was_cancelled(const sb_call *call);
/* Waits for the call's gate (see Pacing); SB_OK, or a failure set in res. */
sb_status sb_call_pace(const sb_call *call, sb_result *res);
int sb_call_lists_names_only(const sb_call *call);

int64_t sb_clock_now_unix_ms(void);
int64_t sb_clock_monotonic_ms(void);

#endif
