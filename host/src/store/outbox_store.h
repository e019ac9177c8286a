/*
 * store/outbox_store.h — the notification outbox (0021_notification_outbox.sql,
 * SPEC §14): events written in the transaction of the change they report,
 * read back by the worker's dispatch task and by admins.
 *
 * Contract:
 *   - Routing is the process's notifier channels (the names of the
 *     `notifiers:` instances of the server configuration) and the public
 *     UI URL deep links start with. sb_outbox_routing_set copies them; it
 *     is called once at start, before any writer runs (and by tests).
 *     Without channels no event is written (there is nobody to tell).
 *   - sb_outbox_store_add writes one row per channel: the channels the
 *     event names (a workflow's notification_channels) that are
 *     configured, or every configured channel when it names none. A name
 *     that no notifier instance has is skipped with a warning (the
 *     workflow API accepts any name; a row nobody can deliver would only
 *     turn dead). A dedupe key seen before on a channel writes nothing
 *     there (the same event twice is one notification). *written (may be
 *     NULL): rows written. The event must hold no value: names, ids, key
 *     names, the justification and who decided only.
 *   - sb_outbox_store_claim locks up to limit due pending rows of one
 *     channel FOR UPDATE SKIP LOCKED, oldest first (columns below): the
 *     caller delivers them and records each outcome in the same
 *     transaction, so a process that dies mid-delivery leaves the rows
 *     pending (delivered again later: the dedupe key is for that).
 *   - sb_outbox_store_retry counts an attempt and sets next_attempt_at to
 *     now() + delay_ms; sb_outbox_store_dead counts it and makes the row
 *     dead; sb_outbox_store_delivered counts it and makes it delivered.
 *     Error texts are cut to 500 characters.
 *   - sb_outbox_store_list pages rows (newest first, keyset by id) with
 *     optional state and channel filters.
 * Returns 0 done, -1 error (err filled).
 */
#ifndef SB_STORE_OUTBOX_STORE_H
#define SB_STORE_OUTBOX_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "config/settings.h"
#include "store/db.h"
#include "store/rows.h"
#include "util/error.h"

#define SB_OUTBOX_MAX_CHANNELS 32

/* channels NULL/0: none (no event is written); public_url NULL: no links. */
void sb_outbox_routing_set(const char *const *channels, size_t n, const char *public_url);
/* The same from a server's settings (notifiers[].name, http.public_url). */
void sb_outbox_routing_from_settings(const sb_settings *s);

typedef struct sb_outbox_event {
    const char *kind;            /* "request.created", "agent.stale", ... */
    const char *severity;        /* info | warning | critical; NULL: info */
    const char *title, *summary; /* summary NULL: "" */
    const char *recipients_json; /* JSON array of {"user": id} / {"role": name} / ... */
    const char *fields_json;     /* JSON array of {"key": k, "value": v}; NULL: [] */
    const char *link_path;       /* "/requests/<id>", appended to the public URL; NULL: none */
    const char *dedupe_key;
    const char *channels_json;   /* JSON array of channel names; NULL or []: every channel */
} sb_outbox_event;

int sb_outbox_store_add(sb_db_conn *conn, const sb_outbox_event *e, size_t *written,
                        sb_error *err);

/* Columns of claimed and listed rows. */
enum {
    SB_OUTBOX_COL_ID, SB_OUTBOX_COL_KIND, SB_OUTBOX_COL_SEVERITY, SB_OUTBOX_COL_CHANNEL,
    SB_OUTBOX_COL_RECIPIENTS, SB_OUTBOX_COL_TITLE, SB_OUTBOX_COL_SUMMARY, SB_OUTBOX_COL_FIELDS,
    SB_OUTBOX_COL_LINK, SB_OUTBOX_COL_DEDUPE_KEY, SB_OUTBOX_COL_STATE, SB_OUTBOX_COL_ATTEMPTS,
    SB_OUTBOX_COL_NEXT_ATTEMPT_AT, SB_OUTBOX_COL_LAST_ERROR, SB_OUTBOX_COL_CREATED_AT,
    SB_OUTBOX_COL_UPDATED_AT, SB_OUTBOX_COL_DELIVERED_AT
};

int sb_outbox_store_claim(sb_db_conn *conn, const char *channel, long limit, sb_row_set *out,
                          sb_error *err);
int sb_outbox_store_delivered(sb_db_conn *conn, const char *id, sb_error *err);
int sb_outbox_store_retry(sb_db_conn *conn, const char *id, int64_t delay_ms, const char *error,
                          sb_error *err);
int sb_outbox_store_dead(sb_db_conn *conn, const char *id, const char *error, sb_error *err);

/* state, channel: NULL for any. */
int sb_outbox_store_list(sb_db_conn *conn, const char *state, const char *channel,
                         const sb_list_page *page, sb_row_set *out, sb_error *err);

#endif
