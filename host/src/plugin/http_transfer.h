/*
 * plugin/http_transfer.h — the pieces of one outbound plugin HTTP request,
 * shared by the one-at-a-time client (http_client.c, host->http) and the
 * concurrent one (http_batch.c, host->http_batch), so both enforce the same
 * rules (see http_client.h) with the same code.
 *
 * Contract:
 *   - sb_http_check_request validates the request and the response struct,
 *     applies the URL policy (schemes, user information, plain http only to
 *     loopback unless SB_HTTP_ALLOW_HTTP), and empties *resp. Nothing is
 *     sent; a refusal is a failure in res.
 *   - sb_http_transfer_start prepares one attempt on the given easy handle
 *     (reset first): the call's cancellation and deadline are checked, the
 *     timeout is capped by the deadline, the body goes to secure memory or,
 *     for a provider list's LIST answer, to a reused plain buffer. The
 *     caller then performs the handle (curl_easy_perform, or a multi
 *     handle) and passes libcurl's result to sb_http_transfer_finish, which
 *     fills *resp (SB_OK, any HTTP status) or maps the transport failure,
 *     and always frees the transfer.
 *   - sb_http_retry_delay_ms: after attempt number `attempts` ended with
 *     `st` / `resp`, how long to wait before the next attempt (SB_HTTP_RETRY
 *     only: 429/502/503/504 and connection failures, at most 3 attempts,
 *     exponential backoff with jitter, at least Retry-After), or -1 when
 *     there is none (no retry wanted, attempts used up, or the wait would
 *     outlast the call).
 */
#ifndef SB_PLUGIN_HTTP_TRANSFER_H
#define SB_PLUGIN_HTTP_TRANSFER_H

#include <curl/curl.h>
#include <sbridge/plugin.h>

typedef struct sb_http_transfer sb_http_transfer;

sb_status sb_http_check_request(const sb_call *call, const sb_http_request *req, sb_http_response *resp,
                                sb_result *res);
sb_status sb_http_transfer_start(CURL *c, const sb_call *call, const sb_http_request *req,
                                 sb_http_transfer **out, sb_result *res);
sb_status sb_http_transfer_finish(sb_http_transfer *t, CURLcode rc, sb_http_response *resp, sb_result *res);
int64_t sb_http_retry_delay_ms(const sb_call *call, const sb_http_request *req, uint32_t attempts, sb_status st,
                               const sb_http_response *resp);

#endif
