// header_strict.cpp — compiled by header_strict.sh with g++: the plugin
// header is usable from C++ (extern "C", no C-only constructs in it).
#include <sbridge/plugin.h>

static_assert(sizeof(sb_status) == 4, "sb_status is int32_t");
static_assert(sizeof(sb_gitops_evidence) == 4, "sb_gitops_evidence is int32_t");

extern "C" sb_status cxx_fail(const sb_host_api *host, sb_result *res);
extern "C" sb_status cxx_fail(const sb_host_api *host, sb_result *res)
{
    sb_result scratch = SB_RESULT_INIT;
    sb_status st = SB_E_INVALID;
    if (SB_HAS_FIELD(host, sb_host_api, result_release))
        host->result_release(&scratch);
    return host->fail(res, st, 0, "from C++: %d", static_cast<int>(SB_STATUS_IS_RETRYABLE(st)));
}
