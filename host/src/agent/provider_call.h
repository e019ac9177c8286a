/*
 * agent/provider_call.h — every provider operation an executor makes
 * (read, write, one list call) passes through here: the instance's serial
 * lock and the provider's "slow down".
 *
 * Contract:
 * - Rate limit: the provider instance's `rate_limit` (requests per second;
 *   0 = none) is the agent's one rate gate (plugin/rate_gate.h: an agent
 *   serves one connection, hence one instance), shared by all its workers.
 *   Each job's call carries it, so every HTTP request a plugin makes for
 *   the job, retries included, waits its turn (plugin/host_api.h, Pacing).
 * - Throttling: an SB_E_THROTTLED answer pauses the gate — every worker's
 *   requests — until its Retry-After (retry_after_ms) has passed, or,
 *   without a hint, for an exponential backoff with jitter; the operation
 *   is then tried again, up to SB_AGENT_THROTTLE_ATTEMPTS in all. The last
 *   throttled answer is returned as is (retryable: the control plane
 *   queues the job again with its own backoff). Any other answer ends the
 *   throttle streak.
 * - SB_THREAD_SERIAL plugins: the instance lock is held around each
 *   attempt only, never across a pause.
 */
#ifndef SB_AGENT_PROVIDER_CALL_H
#define SB_AGENT_PROVIDER_CALL_H

#include "agent/dispatch.h"

#define SB_AGENT_THROTTLE_ATTEMPTS 4

/* The provider vtable calls of the executors, under the rules above (the
 * arguments as in sbridge/plugin.h; the instance's handle and the job's
 * call are supplied). A read that is retried after a throttle starts with
 * *out NULL again. */
sb_status sb_agent_provider_read(const sb_agent_job *job, sb_instance *inst,
                                 const sb_secret_ref *ref, sb_bundle **out,
                                 sb_version_info *version, sb_result *res);
sb_status sb_agent_provider_write(const sb_agent_job *job, sb_instance *inst,
                                  const sb_secret_ref *ref, const sb_bundle *b,
                                  const char *expected_version, sb_version_info *written,
                                  sb_result *res);
sb_status sb_agent_provider_list(const sb_agent_job *job, sb_instance *inst,
                                 const sb_list_query *q, sb_metadata_sink sink, void *sink_ctx,
                                 sb_text *next_cursor, sb_result *res);

#endif
