/*
 * plugin/http_client.h — outbound HTTP for plugins, through libcurl.
 *
 * Contract: one request per call, on a per-thread reusable curl handle.
 * Enforced whatever the plugin asks: TLS >= 1.2 with peer and host
 * verification, no redirects, only absolute http/https URLs without user
 * information, plain http only to loopback hosts (127.0.0.0/8, ::1,
 * "localhost"; judged on libcurl's own parse of the URL) unless
 * SB_HTTP_ALLOW_HTTP, a timeout capped by the call's deadline,
 * tls_server_name honoured through CURLOPT_CONNECT_TO (the name is used for
 * SNI, certificate verification and Host; the connection goes to the URL's
 * host),
 * a response size cap (default 32 MiB). The response body is collected
 * straight into a secure buffer — except a LIST request's answer while the
 * host runs a provider's list (sb_call_ctx.lists_names_only): names only,
 * so ordinary heap memory, one buffer reused per thread; headers are kept
 * for http_header();
 * Retry-After (seconds or HTTP date) is parsed. With SB_HTTP_RETRY, 429,
 * 502, 503, 504 and connection failures are retried up to 3 attempts with
 * exponential backoff and jitter, honouring Retry-After, within the
 * deadline. Header values and bodies are never logged.
 */
#ifndef SB_PLUGIN_HTTP_CLIENT_H
#define SB_PLUGIN_HTTP_CLIENT_H

#include <sbridge/plugin.h>

int sb_http_global_init(void);

sb_status sb_http_perform(const sb_call *call, const sb_http_request *req, sb_http_response *resp,
                          sb_result *res);
const char *sb_http_response_header(const sb_http_response *resp, const char *name);
void sb_http_response_release(sb_http_response *resp);

#endif
