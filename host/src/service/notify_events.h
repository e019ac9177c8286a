/*
 * service/notify_events.h — the notifications changes cause (SPEC §14),
 * written to the outbox (store/outbox_store.h) on the caller's connection,
 * so each commits or rolls back with the change it reports.
 *
 *   sb_request_notify  the notify_* actions of one request transition
 *       (domain/request_machine.h): notify_requester -> the requester
 *       ({"user": id}); notify_approvers -> the eligible approvers (each
 *       approver role of the workflow snapshot as {"role": id}, and
 *       {"permission": "secret.approve", "project_id": p}); notify_fillers
 *       -> the destination team's value providers ({"permission":
 *       "secret.value.provide", "team_id": t}). Kind "request.<outcome>"
 *       (created, approved, rejected, cancelled, expired, executed,
 *       failed, filled, refused); channels: the workflow snapshot's
 *       notification_channels, or every configured channel when it names
 *       none. The deep link is <public URL>/requests/<id>. Fields: the
 *       request, its kind, secret, key names, environment, requester,
 *       justification, who acted and any reason — never a value.
 *   sb_job_notify_failed  a job that failed for good -> admins
 *       ({"role": "admin"}), kind job.failed, severity warning.
 * Dedupe keys name the request (or job), the outcome and the audience,
 * so a retried transaction never doubles a notification.
 */
#ifndef SB_SERVICE_NOTIFY_EVENTS_H
#define SB_SERVICE_NOTIFY_EVENTS_H

#include <stdint.h>

#include "service/audit_write.h"
#include "domain/request_machine.h"
#include "store/request_store.h"

/* actor: who acted (NULL: the system, e.g. sweeps). */
int sb_request_notify(sb_db_conn *conn, const sb_actor *actor, const sb_request_row *r,
                      sb_request_event ev, uint32_t actions, sb_error *err);

typedef struct sb_job_failure {
    const char *job_id, *type, *connection_id;
    const char *request_id; /* NULL or "": no request */
    const char *reason;
} sb_job_failure;

int sb_job_notify_failed(sb_db_conn *conn, const sb_job_failure *f, sb_error *err);

#endif
