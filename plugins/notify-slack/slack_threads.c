/*
 * plugins/notify-slack/slack_threads.c — the bounded thread map of a Web API
 * instance: thread key -> (channel, parent ts).
 *
 * Contract: at most `cap` entries; a put into a full map replaces the least
 * recently used entry (get and put both count as use). Linear scans: the
 * map is small (default 1000) and one post to Slack costs far more. Holds
 * metadata only (request ids, channel ids, timestamps). The instance is
 * SB_THREAD_SERIAL, so there is no lock. In memory only: after a restart
 * the first event of an old request starts a new top-level message.
 */
#include "slack.h"

#include <stdlib.h>
#include <string.h>

int slack_threads_init(slack_thread_map *m, size_t cap)
{
    memset(m, 0, sizeof *m);
    m->entries = calloc(cap ? cap : 1, sizeof *m->entries);
    m->cap = cap ? cap : 1;
    return m->entries ? 0 : -1;
}

static void entry_clear(slack_thread_entry *e)
{
    free(e->key);
    free(e->channel);
    free(e->ts);
    memset(e, 0, sizeof *e);
}

void slack_threads_free(slack_thread_map *m)
{
    for (size_t i = 0; i < m->n; i++)
        entry_clear(&m->entries[i]);
    free(m->entries);
    memset(m, 0, sizeof *m);
}

static slack_thread_entry *find(slack_thread_map *m, const char *key)
{
    for (size_t i = 0; i < m->n; i++)
        if (strcmp(m->entries[i].key, key) == 0)
            return &m->entries[i];
    return NULL;
}

const char *slack_threads_get(slack_thread_map *m, const char *key, const char **channel)
{
    slack_thread_entry *e = find(m, key);
    if (e == NULL)
        return NULL;
    e->used = ++m->clock;
    if (channel)
        *channel = e->channel;
    return e->ts;
}

int slack_threads_put(slack_thread_map *m, const char *key, const char *channel, const char *ts)
{
    slack_thread_entry fresh = {sbp_strdup(key), sbp_strdup(channel), sbp_strdup(ts),
                                ++m->clock};
    if (fresh.key == NULL || fresh.channel == NULL || fresh.ts == NULL) {
        entry_clear(&fresh);
        return -1;
    }
    slack_thread_entry *slot = find(m, key);
    if (slot == NULL && m->n < m->cap)
        slot = &m->entries[m->n++];
    else if (slot == NULL) {
        slot = &m->entries[0];
        for (size_t i = 1; i < m->n; i++)
            if (m->entries[i].used < slot->used)
                slot = &m->entries[i];
    }
    entry_clear(slot);
    *slot = fresh;
    return 0;
}

void slack_threads_forget(slack_thread_map *m, const char *key)
{
    slack_thread_entry *e = find(m, key);
    if (e == NULL)
        return;
    entry_clear(e);
    *e = m->entries[--m->n];
    memset(&m->entries[m->n], 0, sizeof m->entries[m->n]);
}
