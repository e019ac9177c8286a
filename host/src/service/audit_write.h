/*
 * service/audit_write.h — appending one audit event on the caller's
 * connection, so it commits with the change it records (I5), for whoever
 * acted: a user or agent through the API, or the system (sweeps, the
 * worker).
 *
 * Contract: the actor's fields are filled by the code that authenticated
 * the caller (api/audit.c builds them from the session, never from a
 * body); a NULL actor is the system, with a fresh random correlation id.
 * details (borrowed) must be a JSON object; it is serialised compactly and
 * must never hold a secret value.
 */
#ifndef SB_SERVICE_AUDIT_WRITE_H
#define SB_SERVICE_AUDIT_WRITE_H

#include <jansson.h>

#include "store/db.h"

/* Who acted. NULL everywhere an actor is taken: the system. */
typedef struct sb_actor {
    char name[64];              /* as audited: "user:<id>", "agent:<id>", "anonymous" */
    char display[160];          /* as people read it: a login, "agent <id>" */
    const char *request_id;     /* the HTTP request (borrowed), NULL: none */
    const char *correlation_id; /* borrowed; NULL: the request id, or a fresh one */
    const char *remote_ip;      /* borrowed; NULL: none */
} sb_actor;

/* One audit event. outcome: "success", "failure" or "denied". */
typedef struct sb_audit_entry {
    const char *action;   /* "team.create" */
    const char *resource; /* "team:<uuid>" */
    const char *outcome;
    const char *severity; /* NULL = "info" */
    json_t *details;      /* never a secret value; may be NULL */
} sb_audit_entry;

int sb_audit_write(sb_db_conn *conn, const sb_actor *actor, const sb_audit_entry *ev, sb_error *err);

/* The actor's display name, "system" for NULL. */
const char *sb_actor_display(const sb_actor *actor);

#endif
