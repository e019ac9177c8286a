/*
 * agent/executor_discover.c — the discover executor (SPEC §9; issue 10
 * item 7; docs/agent-protocol.md "Discovery upload").
 *
 * Contract: payload {prefix?, selector?}. The provider instance serving the
 * connection lists metadata (never values) page by page (next_cursor),
 * restricted by the instance's configured fence ANDed with the job's
 * selector — a selector can narrow what the agent sees, never widen or
 * replace the fence (a selector key that contradicts the fence lists
 * nothing). Items {path, version, labels (native, verbatim),
 * created_at_ms, updated_at_ms} are uploaded in chunks of at most
 * CHUNK_MAX with POST …/jobs/{job_id}/discovery, then the job succeeds.
 * Retryable provider or upload failures complete failed_retryable.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/agent_internal.h"
#include "agent/dispatch.h"
#include "plugin/status.h"
#include "plugin/text.h"

#define CHUNK_MAX 500
#define UPLOAD_TIMEOUT_MS 30000
#define SELECTOR_MAX 64

typedef struct discovery {
    const sb_agent_job *job;
    json_t *pending;
    size_t uploaded;
    sb_agent_outcome failed; /* SB_AGENT_SUCCEEDED while all is well */
    char error[SB_AGENT_ERROR_MAX + 1];
} discovery;

static int upload(discovery *d)
{
    if (json_array_size(d->pending) == 0)
        return 0;
    sb_agent *a = d->job->agent;
    char path[200];
    snprintf(path, sizeof path, "/api/v1/agents/%s/jobs/%s/discovery", a->identity.agent_id,
             d->job->id);
    json_t *body = json_pack("{s:O}", "items", d->pending);
    char *text = json_dumps(body, JSON_COMPACT);
    json_decref(body);
    sb_agent_reply r;
    int reached = text ? sb_agent_cp_call(a, NULL, "POST", path, a->identity.credential, text,
                                          strlen(text), UPLOAD_TIMEOUT_MS, &r)
                       : -1;
    free(text);
    int rc = 0;
    if (reached == 0 && r.status == 200) {
        d->uploaded += json_array_size(d->pending);
        json_array_clear(d->pending);
    } else {
        int retry = reached != 0 || r.status >= 500 || r.status == 429;
        d->failed = retry ? SB_AGENT_FAILED_RETRYABLE : SB_AGENT_FAILED_PERMANENT;
        snprintf(d->error, sizeof d->error, "discovery upload after %zu items failed (%s%ld %.60s)",
                 d->uploaded, reached == 0 ? "HTTP " : "", reached == 0 ? r.status : 0L,
                 reached == 0 ? r.error_code : r.message);
        rc = -1;
    }
    sb_agent_reply_free(&r);
    return rc;
}

static int on_item(void *sink, const sb_metadata *m)
{
    discovery *d = sink;
    if (m == NULL || m->path == NULL)
        return 0;
    json_t *labels = json_object();
    for (size_t i = 0; i < m->n_labels; i++)
        if (m->labels[i].key && m->labels[i].value)
            json_object_set_new(labels, m->labels[i].key, json_string(m->labels[i].value));
    json_t *item = json_pack("{s:s, s:o}", "path", m->path, "labels", labels);
    if (m->version)
        json_object_set_new(item, "version", json_string(m->version));
    if (m->created_unix_ms > 0)
        json_object_set_new(item, "created_at_ms", json_integer(m->created_unix_ms));
    if (m->updated_unix_ms > 0)
        json_object_set_new(item, "updated_at_ms", json_integer(m->updated_unix_ms));
    json_array_append_new(d->pending, item);
    if (json_array_size(d->pending) >= CHUNK_MAX)
        return upload(d) == 0 ? 0 : 1;
    return 0;
}

/* fence AND selector into sel; -1 (error set) on a bad selector, 1 when they contradict. */
static int combine(const sb_strmap *fence, const sb_json_node *selector, sb_kv *sel, size_t *n,
                   char *error, size_t cap)
{
    *n = 0;
    for (size_t i = 0; fence && i < fence->n && *n < SELECTOR_MAX; i++)
        sel[(*n)++] = fence->items[i];
    sb_json_type t = sb_json_type_of(selector);
    if (t == SB_JSON_MISSING || t == SB_JSON_NULL)
        return 0;
    if (t != SB_JSON_OBJECT)
        return snprintf(error, cap, "discover payload: selector must be an object of labels"), -1;
    for (size_t i = 0; i < sb_json_count(selector); i++) {
        const char *key;
        size_t len;
        const char *value = sb_json_string(sb_json_member(selector, i, &key), &len);
        if (value == NULL)
            return snprintf(error, cap, "discover payload: selector label %.60s is not a string",
                            key),
                   -1;
        int in_fence = 0;
        for (size_t j = 0; fence && j < fence->n; j++)
            if (strcmp(fence->items[j].key, key) == 0) {
                if (strcmp(fence->items[j].value, value) != 0)
                    return 1; /* outside this agent's fence: nothing to list */
                in_fence = 1;
            }
        if (!in_fence && *n < SELECTOR_MAX)
            sel[(*n)++] = (sb_kv){key, value};
    }
    return 0;
}

sb_agent_outcome sb_agent_execute_discover(const sb_agent_job *job, char *error, size_t cap)
{
    sb_instance *inst = sb_agent_job_provider(job);
    if (inst == NULL || inst->handle == NULL) {
        snprintf(error, cap, "no started provider instance serves this connection on this agent");
        return SB_AGENT_FAILED_PERMANENT;
    }
    const sb_plugin *p = inst->plugin->loaded.desc;
    if (!(p->provider_features & SB_PROV_LIST) || p->provider == NULL || p->provider->list == NULL) {
        snprintf(error, cap, "provider instance %s (plugin %s) cannot list", inst->name, p->name);
        return SB_AGENT_FAILED_PERMANENT;
    }
    size_t len;
    const char *prefix = sb_json_string(sb_json_get(job->payload, "prefix"), &len);
    sb_kv sel[SELECTOR_MAX];
    size_t n_sel;
    int c = combine(inst->fence, sb_json_get(job->payload, "selector"), sel, &n_sel, error, cap);
    if (c < 0)
        return SB_AGENT_FAILED_PERMANENT;
    discovery d = {.job = job, .pending = json_array(), .failed = SB_AGENT_SUCCEEDED};
    sb_text *cursor = sb_text_new(), *next = sb_text_new();
    sb_agent_outcome o = SB_AGENT_SUCCEEDED;
    for (int page = 0; c == 0 && o == SB_AGENT_SUCCEEDED; page++) {
        sb_list_query q = {sizeof q, 0, prefix, sel, n_sel, page ? sb_text_str(cursor, NULL) : NULL};
        sb_text_set(next, "");
        sb_result res = SB_RESULT_INIT;
        sb_status st = sb_agent_provider_list(job, inst, &q, on_item, &d, next, &res);
        if (d.failed != SB_AGENT_SUCCEEDED) {
            o = d.failed;
            snprintf(error, cap, "%s", d.error);
        } else if (st != SB_OK) {
            o = SB_STATUS_IS_RETRYABLE(st) ? SB_AGENT_FAILED_RETRYABLE : SB_AGENT_FAILED_PERMANENT;
            snprintf(error, cap, "provider list failed with %s: %.150s", sb_plugin_status_name(st),
                     res.message && res.message[0] ? res.message : "no detail");
        }
        sb_result_release(&res);
        if (o != SB_AGENT_SUCCEEDED || sb_text_str(next, NULL)[0] == '\0')
            break;
        sb_text_set(cursor, sb_text_str(next, NULL));
    }
    if (o == SB_AGENT_SUCCEEDED && upload(&d) != 0) {
        o = d.failed;
        snprintf(error, cap, "%s", d.error);
    }
    sb_text_free(cursor);
    sb_text_free(next);
    json_decref(d.pending);
    return o;
}
