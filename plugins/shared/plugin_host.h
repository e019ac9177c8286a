/*
 * plugins/shared/plugin_host.h — the checks every plugin makes against the
 * host API it is given: that init received a usable ABI 1.x host table, and
 * that the current call is not over before a network call starts. Plain C
 * over <sbridge/plugin.h>; messages never hold a value.
 */
#ifndef SB_PLUGINS_SHARED_PLUGIN_HOST_H
#define SB_PLUGINS_SHARED_PLUGIN_HOST_H

#include <sbridge/plugin.h>

/* SB_OK when `host` is an ABI 1 table holding every 1.0 function; else
 * SB_E_INVALID (NULL host) or SB_E_UNSUPPORTED with a message naming the
 * plugin and both versions. */
sb_status sbp_host_init_check(const sb_host_api *host, const char *plugin, sb_result *res);

/* SB_OK while the call runs; SB_E_TIMEOUT when its deadline passed and
 * SB_E_CANCELLED when the host cancelled it, with "<what>: ..." messages. */
sb_status sbp_call_check(const sb_host_api *host, const sb_call *call, const char *what,
                         sb_result *res);

#endif
