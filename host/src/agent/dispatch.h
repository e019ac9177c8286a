/*
 * agent/dispatch.h — from a claimed job to an outcome: the executor table
 * (job type → executor) and the checks every job passes first.
 *
 * Contract: sb_agent_dispatch never reports success for a job it did not
 * execute. A payload with a connection-steering key at any depth (the
 * control plane's own rule, domain/job_rules.h sb_job_key_steers) is
 * refused as failed_permanent without calling any executor (I4); a type
 * with no executor (read, patch, discover exist: executor_<type>.c)
 * completes failed_permanent with "unknown job type X" (the earlier agent
 * reported such jobs as successes). The
 * error text names types, keys and paths only, never a value, and fits the
 * protocol's 300 characters.
 */
#ifndef SB_AGENT_DISPATCH_H
#define SB_AGENT_DISPATCH_H

#include <jansson.h>
#include <stddef.h>

#include "plugin/host_api.h"
#include "plugin/registry.h"
#include "plugin/secure_json.h"

#define SB_AGENT_ERROR_MAX 300

typedef enum sb_agent_outcome {
    SB_AGENT_SUCCEEDED = 0,
    SB_AGENT_FAILED_RETRYABLE,
    SB_AGENT_FAILED_PERMANENT
} sb_agent_outcome;

/* The protocol's outcome string: succeeded | failed_retryable | failed_permanent. */
const char *sb_agent_outcome_name(sb_agent_outcome o);

typedef struct sb_agent sb_agent;

/* One claimed job, as the executors see it (all borrowed for the call). */
typedef struct sb_agent_job {
    sb_agent *agent;
    const char *id;
    const char *type;
    const sb_json_node *job;     /* the whole claim answer */
    const sb_json_node *payload; /* job.payload */
    sb_call_ctx *call;           /* deadline and cancellation of the execution */
    /* Fields an executor adds to the completion body next to outcome/error
     * (e.g. a read's sealed "results"); never a plaintext value. Owned by the
     * worker. */
    json_t *completion;
} sb_agent_job;

/* The provider instance that serves the agent's connection (the instance
 * of that name in the agent's YAML), or NULL when none is configured. */
sb_instance *sb_agent_job_provider(const sb_agent_job *job);

/* An executor fills error (NUL-terminated, < SB_AGENT_ERROR_MAX) unless it succeeds. */
typedef sb_agent_outcome (*sb_agent_executor_fn)(const sb_agent_job *job, char *error, size_t cap);

typedef struct sb_agent_executor {
    const char *type;
    sb_agent_executor_fn run;
} sb_agent_executor;

/* The executor for type, or NULL. */
const sb_agent_executor *sb_agent_executor_find(const char *type);
/* The path ("/a/b") of the first steering key in payload, into path; 1 when
 * one was found, 0 when the payload is clean. */
int sb_agent_payload_steers(const sb_json_node *payload, char *path, size_t cap);
sb_agent_outcome sb_agent_dispatch(const sb_agent_job *job, char *error, size_t cap);

/* The executors (executor_<type>.c). */
sb_agent_outcome sb_agent_execute_read(const sb_agent_job *job, char *error, size_t cap);
sb_agent_outcome sb_agent_execute_discover(const sb_agent_job *job, char *error, size_t cap);
sb_agent_outcome sb_agent_execute_patch(const sb_agent_job *job, char *error, size_t cap);

#endif
