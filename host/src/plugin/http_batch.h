/*
 * plugin/http_batch.h — host->http_batch (ABI 1.1): independent plugin HTTP
 * requests performed concurrently through a libcurl multi handle.
 *
 * Contract: every request gets exactly what host->http gives one request
 * (plugin/http_transfer.h: the same checks, URL policy, timeouts capped by
 * the call's deadline, size cap, secure or names-only bodies, retries,
 * pacing at the call's rate gate before each attempt). At most
 * sb_http_batch_parallelism() transfers run at once (default 8; a process
 * setting), started in request order; outcomes are kept in request order,
 * and one request's failure is only that request's outcome. Each thread
 * keeps its multi handle and easy handles (and so its open connections)
 * for its next batch; they are freed when the thread ends. The batch and
 * everything http_batch_result hands out belong to the host until
 * sb_http_batch_free, which zeroes secure bodies.
 */
#ifndef SB_PLUGIN_HTTP_BATCH_H
#define SB_PLUGIN_HTTP_BATCH_H

#include <sbridge/plugin.h>

#define SB_HTTP_BATCH_DEFAULT_PARALLELISM 8u
#define SB_HTTP_BATCH_MAX_PARALLELISM 32u

sb_status sb_http_batch_perform(const sb_call *call, const sb_http_request *const *requests, size_t n,
                                sb_http_batch **out, sb_result *res);
const sb_result *sb_http_batch_result(const sb_http_batch *batch, size_t i, const sb_http_response **resp);
void sb_http_batch_free(sb_http_batch *batch);

/* How many transfers of one batch run at once: 1..SB_HTTP_BATCH_MAX_PARALLELISM
 * (other values are clamped). Applies to batches started afterwards. */
void sb_http_batch_set_parallelism(unsigned n);
unsigned sb_http_batch_parallelism(void);

#endif
