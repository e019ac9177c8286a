/* agent/dispatch.c — see dispatch.h. */
#include "agent/dispatch.h"

#include <stdio.h>
#include <string.h>

#include "agent/agent_internal.h"
#include "domain/job_rules.h"

/* The executors of this build; any other type (sync, verify…) fails loudly
 * rather than succeeding. */
static const sb_agent_executor executors[] = {
    {"read", sb_agent_execute_read},
    {"patch", sb_agent_execute_patch},
    {"discover", sb_agent_execute_discover},
    {NULL, NULL},
};

const char *sb_agent_outcome_name(sb_agent_outcome o)
{
    switch (o) {
    case SB_AGENT_SUCCEEDED: return "succeeded";
    case SB_AGENT_FAILED_RETRYABLE: return "failed_retryable";
    default: return "failed_permanent";
    }
}

const sb_agent_executor *sb_agent_executor_find(const char *type)
{
    if (type == NULL)
        return NULL;
    for (size_t i = 0; executors[i].type; i++)
        if (strcmp(executors[i].type, type) == 0)
            return &executors[i];
    return NULL;
}

sb_instance *sb_agent_job_provider(const sb_agent_job *job)
{
    if (job == NULL || job->agent == NULL)
        return NULL;
    return sb_registry_instance(job->agent->registry, "provider", job->agent->connection);
}

static int walk(const sb_json_node *node, char *path, size_t len, size_t cap, int depth)
{
    sb_json_type t = sb_json_type_of(node);
    if ((t != SB_JSON_OBJECT && t != SB_JSON_ARRAY) || depth > SB_JSON_MAX_DEPTH)
        return 0;
    size_t n = sb_json_count(node);
    for (size_t i = 0; i < n; i++) {
        const char *key = NULL;
        const sb_json_node *child = sb_json_member(node, i, &key);
        int w = t == SB_JSON_OBJECT ? snprintf(path + len, cap - len, "/%.60s", key ? key : "")
                                    : snprintf(path + len, cap - len, "/%zu", i);
        size_t next = len + (w > 0 ? (size_t)w : 0);
        if (next >= cap)
            next = cap - 1;
        if (t == SB_JSON_OBJECT && sb_job_key_steers(key))
            return 1;
        if (walk(child, path, next, cap, depth + 1))
            return 1;
        path[len] = '\0';
    }
    return 0;
}

int sb_agent_payload_steers(const sb_json_node *payload, char *path, size_t cap)
{
    if (cap == 0)
        return 0;
    path[0] = '\0';
    return walk(payload, path, 0, cap, 0);
}

sb_agent_outcome sb_agent_dispatch(const sb_agent_job *job, char *error, size_t cap)
{
    char path[160];
    if (sb_agent_payload_steers(job->payload, path, sizeof path)) {
        snprintf(error, cap,
                 "refused: payload field %.120s would steer the connection; an agent takes its "
                 "connection settings only from its own YAML (I4)",
                 path);
        return SB_AGENT_FAILED_PERMANENT;
    }
    const sb_agent_executor *e = sb_agent_executor_find(job->type);
    if (e == NULL) {
        snprintf(error, cap, "unknown job type %.64s: agent %s has no executor for it",
                 job->type ? job->type : "(none)", SB_VERSION_STRING);
        return SB_AGENT_FAILED_PERMANENT;
    }
    error[0] = '\0';
    return e->run(job, error, cap);
}
