/*
 * service/job_writer.h — the job queue's writes shared by the API and the
 * worker (job_writer.c); a job's outcome on its request is
 * sb_request_drive_job (request_writer.h).
 *
 *   sb_job_create_for_request  the job of an approved request, on the
 *       caller's connection (the approving transaction): payload
 *       {request_id, secret_ref, keys, operation} and, for a read,
 *       read_public_key (service/read_key.h, whose row the job's statement
 *       stores), NOTIFY at commit, one job.create audit event.
 *   sb_job_sweep_leases  re-queues (and notifies) or fails jobs whose lease
 *       expired, up to limit; failing a request's job fails the request in
 *       the same transaction (actor "system"). *n: how many it changed.
 *   sb_job_audit  one "job:<id>" audit event (details stolen, may be NULL).
 */
#ifndef SB_SERVICE_JOB_WRITER_H
#define SB_SERVICE_JOB_WRITER_H

#include <jansson.h>

#include "service/audit_write.h"
#include "service/read_key.h"
#include "store/request_store.h"

int sb_job_create_for_request(sb_db_conn *conn, const sb_actor *actor, const sb_request_row *r,
                              const char *type, const sb_read_key *read_key, sb_error *err);
int sb_job_sweep_leases(sb_db *db, long limit, size_t *n, sb_error *err);
int sb_job_audit(sb_db_conn *conn, const sb_actor *actor, const char *action, const char *job_id,
                 const char *outcome, json_t *details, sb_error *err);

#endif
