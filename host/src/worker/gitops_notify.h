/*
 * worker/gitops_notify.h — the notification of a GitOps observation that
 * ended badly (docs/gitops.md, docs/notifications.md).
 *
 * Contract:
 *   sb_gitops_notify  writes one outbox event (store/outbox_store.h) on the
 *       caller's connection, so it commits or rolls back with the state
 *       change it reports. `row` is the observation (id, request_id,
 *       endpoint_name, application); `state` is `failed` (kind
 *       gitops.failed) or `applied_unverified` (kind gitops.unverified),
 *       severity warning; any other state writes nothing. Recipients: the
 *       request's requester ({"user": id}) and admins ({"role": "admin"});
 *       channels: the request's workflow snapshot (every configured channel
 *       when it names none). Fields name the request (request_id, so a
 *       notifier threads it under the request), secret, endpoint,
 *       application, state and detail — never a value. Dedupe key
 *       gitops:<observation id>:<state>. A request that no longer exists
 *       notifies admins only. 0 or -1 with err set.
 */
#ifndef SB_WORKER_GITOPS_NOTIFY_H
#define SB_WORKER_GITOPS_NOTIFY_H

#include <jansson.h>

#include "store/db.h"
#include "util/error.h"

int sb_gitops_notify(sb_db_conn *conn, const json_t *row, const char *state, const char *detail,
                     sb_error *err);

#endif
