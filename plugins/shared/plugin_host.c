/* plugins/shared/plugin_host.c — see plugin_host.h. */
#include "plugin_host.h"

sb_status sbp_host_init_check(const sb_host_api *host, const char *plugin, sb_result *res)
{
    if (host == NULL)
        return SB_E_INVALID;
    if (host->abi_major == SB_PLUGIN_ABI_MAJOR && SB_HAS_FIELD(host, sb_host_api, call_remaining_ms))
        return SB_OK;
    if (res && host->fail)
        return host->fail(res, SB_E_UNSUPPORTED, 0, "%s plugin needs host API %d.0 or later, got %u.%u",
                          plugin, SB_PLUGIN_ABI_MAJOR, (unsigned)host->abi_major,
                          (unsigned)host->abi_minor);
    return SB_E_UNSUPPORTED;
}

sb_status sbp_call_check(const sb_host_api *host, const sb_call *call, const char *what,
                         sb_result *res)
{
    if (!host->call_expired(call))
        return SB_OK;
    if (host->call_remaining_ms(call) <= 0)
        return host->fail(res, SB_E_TIMEOUT, 0, "%s: the call's deadline passed", what);
    return host->fail(res, SB_E_CANCELLED, 0, "%s: the call was cancelled", what);
}
