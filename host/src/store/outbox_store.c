/* store/outbox_store.c — see outbox_store.h. */
#include "store/outbox_store.h"

#include <jansson.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "util/log.h"

/* ---- routing ------------------------------------------------------------------ */

static pthread_rwlock_t routing_lock = PTHREAD_RWLOCK_INITIALIZER;
static char *routing_channels[SB_OUTBOX_MAX_CHANNELS];
static size_t routing_n;
static char *routing_url;

void sb_outbox_routing_set(const char *const *channels, size_t n, const char *public_url)
{
    pthread_rwlock_wrlock(&routing_lock);
    for (size_t i = 0; i < routing_n; i++)
        free(routing_channels[i]);
    routing_n = 0;
    for (size_t i = 0; i < n && routing_n < SB_OUTBOX_MAX_CHANNELS; i++)
        if (channels[i] && (routing_channels[routing_n] = strdup(channels[i])) != NULL)
            routing_n++;
    free(routing_url);
    routing_url = public_url ? strdup(public_url) : NULL;
    size_t len = routing_url ? strlen(routing_url) : 0;
    while (len > 0 && routing_url[len - 1] == '/')
        routing_url[--len] = '\0';
    pthread_rwlock_unlock(&routing_lock);
}

void sb_outbox_routing_from_settings(const sb_settings *s)
{
    const sb_instance_settings *list = s->notifiers.items;
    const char *names[SB_OUTBOX_MAX_CHANNELS];
    size_t n = 0;
    for (size_t i = 0; i < s->notifiers.n && n < SB_OUTBOX_MAX_CHANNELS; i++)
        names[n++] = list[i].name;
    sb_outbox_routing_set(names, n, s->http.public_url);
}

static bool configured(const char *name)
{
    for (size_t i = 0; i < routing_n; i++)
        if (strcmp(routing_channels[i], name) == 0)
            return true;
    return false;
}

/* The channels of e as a JSON array text (caller frees); "[]" for none.
 * Called with routing_lock held. */
static char *channels_of(const sb_outbox_event *e)
{
    json_t *named = e->channels_json ? json_loads(e->channels_json, 0, NULL) : NULL;
    json_t *out = json_array(), *c;
    size_t i;
    if (json_array_size(named) == 0) {
        for (i = 0; i < routing_n; i++)
            json_array_append_new(out, json_string(routing_channels[i]));
    } else {
        json_array_foreach(named, i, c)
        {
            const char *name = json_string_value(c);
            if (name && configured(name))
                json_array_append_new(out, json_string(name));
            else if (name)
                sb_warn("notify", "event %s names channel \"%s\", which no notifiers: instance "
                                  "of this server has; it is not sent there",
                        e->kind, name);
        }
    }
    json_decref(named);
    char *text = json_dumps(out, JSON_COMPACT);
    json_decref(out);
    return text;
}

int sb_outbox_store_add(sb_db_conn *conn, const sb_outbox_event *e, size_t *written,
                        sb_error *err)
{
    if (written)
        *written = 0;
    if (e->kind == NULL || e->title == NULL || e->dedupe_key == NULL)
        return sb_error_set(err, SB_DB_E_QUERY, "a notification needs a kind, a title and a "
                                                "dedupe key");
    pthread_rwlock_rdlock(&routing_lock);
    char *channels = routing_n ? channels_of(e) : NULL;
    char *link = NULL;
    if (routing_url && e->link_path) {
        size_t len = strlen(routing_url) + strlen(e->link_path) + 1;
        if ((link = malloc(len)) != NULL) {
            strcpy(link, routing_url);
            strcat(link, e->link_path);
        }
    }
    pthread_rwlock_unlock(&routing_lock);
    if (channels == NULL) {
        free(link);
        return routing_n ? sb_error_set(err, SB_DB_E_QUERY, "out of memory writing an event") : 0;
    }
    const char *p[] = {e->kind, e->severity ? e->severity : "info",
                       e->recipients_json ? e->recipients_json : "[]", e->title,
                       e->summary ? e->summary : "", e->fields_json ? e->fields_json : "[]",
                       link, e->dedupe_key, channels};
    int64_t n = 0;
    int rc = sb_db_exec_affected(
        conn,
        "INSERT INTO notification_outbox (kind, severity, recipients, title, summary, fields,"
        " link, dedupe_key, channel)"
        " SELECT $1, $2, $3::jsonb, left($4, 300), left($5, 2000), $6::jsonb, left($7, 2000),"
        " left($8, 300), ch FROM jsonb_array_elements_text($9::jsonb) AS ch"
        " ON CONFLICT (channel, dedupe_key) DO NOTHING",
        9, p, &n, err);
    free(channels);
    free(link);
    if (rc == 0 && written)
        *written = (size_t)n;
    return rc;
}

/* ---- delivery -------------------------------------------------------------------- */

#define OUTBOX_COLS                                                                                \
    "id::text, kind, severity, channel, recipients::text, title, summary, fields::text, link,"     \
    " dedupe_key, state, attempts, " SB_ROWS_TS("next_attempt_at") ", last_error, "                \
    SB_ROWS_TS("created_at") ", " SB_ROWS_TS("updated_at") ", " SB_ROWS_TS("delivered_at")

int sb_outbox_store_claim(sb_db_conn *conn, const char *channel, long limit, sb_row_set *out,
                          sb_error *err)
{
    const char *p[] = {channel};
    /* the page's extra row is locked too and left pending: `more` says so */
    return sb_rows_query_page(conn,
                              "SELECT " OUTBOX_COLS " FROM notification_outbox"
                              " WHERE channel = $1 AND state = 'pending' AND next_attempt_at <= now()"
                              " ORDER BY next_attempt_at, id LIMIT $2::bigint FOR UPDATE SKIP LOCKED",
                              1, p, limit, out, err);
}

static int set_outcome(sb_db_conn *conn, const char *id, const char *state, int64_t delay_ms,
                       const char *error, sb_error *err)
{
    const char *p[] = {id, state, SB_DB_INT(delay_ms), error};
    int64_t n = 0;
    if (sb_db_exec_affected(conn,
                            "UPDATE notification_outbox SET state = $2, attempts = attempts + 1,"
                            " next_attempt_at = now() + make_interval(secs => $3::bigint / 1000.0),"
                            " last_error = left($4, 500), updated_at = now(),"
                            " delivered_at = CASE WHEN $2 = 'delivered' THEN now() END"
                            " WHERE id = $1::bigint AND state = 'pending'",
                            4, p, &n, err) != 0)
        return -1;
    return n == 1 ? 0
                  : sb_error_set(err, SB_DB_E_QUERY, "notification %s is no longer pending", id);
}

int sb_outbox_store_delivered(sb_db_conn *conn, const char *id, sb_error *err)
{
    return set_outcome(conn, id, "delivered", 0, NULL, err);
}

int sb_outbox_store_retry(sb_db_conn *conn, const char *id, int64_t delay_ms, const char *error,
                          sb_error *err)
{
    return set_outcome(conn, id, "pending", delay_ms, error, err);
}

int sb_outbox_store_dead(sb_db_conn *conn, const char *id, const char *error, sb_error *err)
{
    return set_outcome(conn, id, "dead", 0, error, err);
}

/* ---- reading ---------------------------------------------------------------------- */

int sb_outbox_store_list(sb_db_conn *conn, const char *state, const char *channel,
                         const sb_list_page *page, sb_row_set *out, sb_error *err)
{
    const char *p[] = {page->after && page->after[0] ? page->after : NULL, state, channel};
    return sb_rows_query_page(conn,
                              "SELECT " OUTBOX_COLS " FROM notification_outbox"
                              " WHERE ($1::bigint IS NULL OR id < $1::bigint)"
                              "   AND ($2::text IS NULL OR state = $2::text)"
                              "   AND ($3::text IS NULL OR channel = $3::text)"
                              " ORDER BY id DESC LIMIT $4::bigint",
                              3, p, page->limit, out, err);
}
