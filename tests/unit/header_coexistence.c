/*
 * header_coexistence.c — compiled, never run: the public plugin ABI header
 * and the host's HTTP server headers can be included in one file (the host's
 * incoming request is sb_server_request; the plugin's outgoing one is
 * sb_http_request). Before the rename both were `sb_http_request`, and the
 * control plane could not call a plugin from a handler.
 */
#include <sbridge/plugin.h>

#include "http/internal.h"
#include "http/router.h"

size_t sb_header_coexistence_sizes(void);
size_t sb_header_coexistence_sizes(void)
{
    return sizeof(sb_http_request) + sizeof(struct sb_server_request);
}
