/* header_strict.c — compiled by header_strict.sh as strict C99 and C11: a
 * whole (tiny) plugin through SB_PLUGIN_DEFINE, and the layout facts the
 * ABI promises checked at compile time. */
#include <sbridge/plugin.h>

/* Fixed-width named-constant types: enum sizing can never move a field. */
typedef char status_is_32_bits[sizeof(sb_status) == 4 ? 1 : -1];
typedef char thread_model_is_32_bits[sizeof(sb_thread_model) == 4 ? 1 : -1];
typedef char header_is_16_bytes[offsetof(sb_plugin, name) == 16 ? 1 : -1];

static sb_status s_init(const sb_host_api *h, sb_result *res)
{
    (void)res;
    return SB_HAS_FIELD(h, sb_host_api, vfail) ? SB_OK : SB_E_UNSUPPORTED;
}
static sb_status s_new(const sb_config *c, void **inst, sb_result *res)
{
    (void)c, (void)res;
    *inst = NULL;
    return SB_OK;
}
static void s_free(void *inst) { (void)inst; }
static sb_status s_deliver(void *inst, const sb_call *call, const sb_notify_event *ev, sb_result *res)
{
    (void)inst, (void)call, (void)ev, (void)res;
    return SB_OK;
}
static const sb_notifier_ops s_notifier = {sizeof(sb_notifier_ops), 0, s_deliver};

SB_PLUGIN_DEFINE(.name = "strict", .version = "1.0.0", .vendor = "t", .license = "MIT",
                 .description = "strict", .capabilities = SB_CAP_NOTIFIER,
                 .thread_model = SB_THREAD_SERIAL, .init = s_init, .instance_new = s_new,
                 .instance_free = s_free, .notifier = &s_notifier)
