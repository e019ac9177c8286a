/* service/audit_write.c — see audit_write.h. */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>

#include "service/audit_write.h"
#include "store/audit_store.h"

const char *sb_actor_display(const sb_actor *actor) { return actor ? actor->display : "system"; }

int sb_audit_write(sb_db_conn *conn, const sb_actor *actor, const sb_audit_entry *ev, sb_error *err)
{
    if (ev == NULL)
        return sb_error_set(err, SB_AUDIT_E_INVALID, "no audit event to write");
    if (ev->details && !json_is_object(ev->details))
        return sb_error_set(err, SB_AUDIT_E_INVALID, "audit details for %s must be a JSON object",
                            ev->action ? ev->action : "(no action)");
    char generated[40];
    sb_audit_record r = {0};
    if (actor) {
        r.actor = actor->name;
        r.request_id = actor->request_id;
        r.remote_ip = actor->remote_ip;
        r.correlation_id = actor->correlation_id ? actor->correlation_id : actor->request_id;
    } else {
        r.actor = "system";
    }
    if (r.correlation_id == NULL) {
        unsigned char raw[16];
        randombytes_buf(raw, sizeof raw);
        sodium_bin2hex(generated, sizeof generated, raw, sizeof raw);
        r.correlation_id = generated;
    }
    r.action = ev->action;
    r.resource = ev->resource;
    r.outcome = ev->outcome;
    r.severity = ev->severity;
    char *details = ev->details ? json_dumps(ev->details, JSON_COMPACT) : NULL;
    if (ev->details && details == NULL)
        return sb_error_set(err, SB_AUDIT_E_INVALID, "audit details for %s cannot be serialised",
                            ev->action ? ev->action : "(no action)");
    r.details = details;
    int rc = sb_audit_append(conn, &r, err);
    free(details);
    return rc;
}
