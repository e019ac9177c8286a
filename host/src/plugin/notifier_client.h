/*
 * plugin/notifier_client.h — how the control plane calls a notifier plugin
 * instance (the same way kms_client.h calls a KMS).
 *
 * Contract: sb_notifier_client_deliver calls the instance's notifier
 * vtable once, with a fresh call context whose deadline is
 * SB_NOTIFIER_CLIENT_TIMEOUT_MS away and the event's dedupe key as its
 * correlation id, holding the instance lock when the plugin declared
 * SB_THREAD_SERIAL. On failure it returns -1 and fills err: code is the
 * plugin's sb_status (SB_E_INVALID for an instance that is not a
 * notifier), the message names the instance, the plugin, the status (and
 * whether it is retryable) and the plugin's own redacted explanation;
 * *retry_after_ms (may be NULL) is the plugin's Retry-After hint, 0 when
 * it gave none.
 */
#ifndef SB_PLUGIN_NOTIFIER_CLIENT_H
#define SB_PLUGIN_NOTIFIER_CLIENT_H

#include <sbridge/plugin.h>
#include <stdint.h>

#include "plugin/registry.h"
#include "util/error.h"

#define SB_NOTIFIER_CLIENT_TIMEOUT_MS 10000

int sb_notifier_client_deliver(sb_instance *inst, const sb_notify_event *event,
                               uint32_t *retry_after_ms, sb_error *err);

#endif
