/*
 * agent/heartbeat.c — the heartbeat loop (docs/agent-protocol.md
 * "Heartbeat"): one beat at once, then every heartbeat_interval (or the
 * control plane's next_heartbeat_seconds when it asks for a shorter one),
 * with capped, jittered backoff while the control plane cannot be reached.
 * A beat carries the agent version, the loaded plugins and their versions
 * (capabilities) and local health: the provider instances it serves, the
 * jobs running and the worker count. A refusal (revoked, unknown
 * credential) stops the agent. The loop ends when the agent stops.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/agent_internal.h"
#include "util/log.h"

#define HEARTBEAT_TIMEOUT_MS 10000

static char *beat_body(sb_agent *a)
{
    json_t *caps = json_array();
    for (size_t i = 0; i < a->registry->n_plugins; i++) {
        const sb_plugin *d = a->registry->plugins[i].loaded.desc;
        if (d)
            json_array_append_new(caps, json_pack("{s:s, s:s}", "name", d->name ? d->name : "",
                                                  "version", d->version ? d->version : ""));
    }
    json_t *providers = json_object();
    for (size_t i = 0; i < a->registry->n_instances; i++)
        if (strcmp(a->registry->instances[i].kind, "provider") == 0)
            json_object_set_new(providers, a->registry->instances[i].name,
                                json_string(a->registry->instances[i].handle ? "ok" : "not_started"));
    json_t *health = json_pack("{s:o, s:i, s:i}", "providers", providers, "jobs_running",
                               atomic_load(&a->running_jobs), "workers", a->n_workers);
    json_t *body = json_pack("{s:s, s:o, s:o}", "version", SB_VERSION_STRING, "capabilities", caps,
                             "health", health);
    char *text = json_dumps(body, JSON_COMPACT);
    json_decref(body);
    return text;
}

/* The interval the control plane asks for, if shorter than ours. */
static int64_t next_interval(const sb_agent_reply *r, int64_t configured)
{
    int64_t s = 0;
    if (sb_json_int(sb_json_get(sb_json_root(r->json), "next_heartbeat_seconds"), &s) == 0 && s > 0 &&
        s * 1000 < configured)
        return s * 1000;
    return configured;
}

static void *heartbeat_main(void *p)
{
    sb_agent *a = p;
    char path[160];
    snprintf(path, sizeof path, "/api/v1/agents/%s/heartbeat", a->identity.agent_id);
    const int64_t configured = a->settings->control_plane.heartbeat_interval_ms;
    int failures = 0;
    int64_t wait = 0;
    int first = 1;
    while (!sb_agent_sleep(a, wait)) {
        char *body = beat_body(a);
        sb_agent_reply r;
        int reached = body ? sb_agent_cp_call(a, NULL, "POST", path, a->identity.credential, body,
                                              strlen(body), HEARTBEAT_TIMEOUT_MS, &r)
                           : -1;
        free(body);
        if (reached == 0 && r.status == 200) {
            if (first || failures)
                sb_info("agent", "heartbeat accepted by %s", a->base_url);
            first = 0;
            failures = 0;
            wait = next_interval(&r, configured);
        } else if (reached == 0 && sb_agent_reply_refused(&r)) {
            sb_agent_refused(a, "heartbeat", &r);
            sb_agent_reply_free(&r);
            break;
        } else if (reached != 0 && r.unusable && first) {
            sb_agent_unusable(a, &r); /* never reached: the settings are wrong, not the network */
            break;
        } else {
            failures++;
            wait = sb_agent_backoff_ms(failures);
            if (wait > configured)
                wait = configured;
            sb_metric_add(a->m_cp_errors, SB_LABELS("heartbeat"), 1);
            sb_warn("agent", "heartbeat failed (%s%ld %s); next try in %lld ms",
                    reached == 0 ? "HTTP " : "", reached == 0 ? r.status : 0L,
                    reached == 0 ? r.error_code : r.message, (long long)wait);
        }
        sb_agent_reply_free(&r);
    }
    return NULL;
}

int sb_agent_heartbeat_start(sb_agent *a, sb_error *err)
{
    if (pthread_create(&a->heartbeat_thread, NULL, heartbeat_main, a) != 0)
        return sb_error_set(err, 1, "cannot start the heartbeat thread");
    a->heartbeat_started = 1;
    return 0;
}

void sb_agent_heartbeat_join(sb_agent *a)
{
    if (a->heartbeat_started)
        pthread_join(a->heartbeat_thread, NULL);
    a->heartbeat_started = 0;
}
