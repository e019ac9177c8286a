/* plugin/notifier_client.c — see notifier_client.h. */
#include "plugin/notifier_client.h"

#include <string.h>

#include "plugin/host_api.h"
#include "plugin/status.h"
#include "plugin/text.h"

int sb_notifier_client_deliver(sb_instance *inst, const sb_notify_event *event,
                               uint32_t *retry_after_ms, sb_error *err)
{
    if (retry_after_ms)
        *retry_after_ms = 0;
    if (inst == NULL || inst->handle == NULL || inst->plugin == NULL || event == NULL)
        return sb_error_set(err, SB_E_INVALID, "notify: the notifier instance is not started");
    const sb_plugin *d = inst->plugin->loaded.desc;
    if (!(d->capabilities & SB_CAP_NOTIFIER) || d->notifier == NULL)
        return sb_error_set(err, SB_E_INVALID, "notify: instance %s (plugin %s) is not a notifier",
                            inst->name, d->name);
    sb_call_ctx ctx;
    sb_result res = SB_RESULT_INIT;
    sb_call_begin(&ctx, d->name, inst->name, event->dedupe_key, SB_NOTIFIER_CLIENT_TIMEOUT_MS);
    int serial = d->thread_model == SB_THREAD_SERIAL;
    if (serial)
        pthread_mutex_lock(&inst->lock);
    sb_status st = d->notifier->deliver(inst->handle, &ctx.call, event, &res);
    if (serial)
        pthread_mutex_unlock(&inst->lock);
    int rc = 0;
    if (st != SB_OK) {
        const char *msg = res.status == st && res.message[0] ? res.message : "(no message)";
        if (retry_after_ms && res.status == st)
            *retry_after_ms = res.retry_after_ms;
        rc = sb_error_set(err, st, "notifier %s (plugin %s): deliver failed with %s (%s): %s",
                          inst->name, d->name, sb_plugin_status_name(st),
                          SB_STATUS_IS_RETRYABLE(st) ? "retryable" : "permanent", msg);
    }
    sb_result_release(&res);
    return rc;
}
