/* agent/provider_call.c — see provider_call.h. */
#include "agent/provider_call.h"

#include <stdio.h>

#include "agent/agent_internal.h"
#include "plugin/bundle.h"
#include "plugin/status.h"
#include "plugin/text.h"
#include "util/log.h"

/* One provider operation under the rules of provider_call.h. */
typedef sb_status (*provider_op)(sb_instance *inst, const sb_call *call, void *ctx, sb_result *res);

static sb_status provider_call(const sb_agent_job *job, sb_instance *inst, provider_op op,
                               void *ctx, sb_result *res)
{
    const sb_plugin *d = inst->plugin->loaded.desc;
    sb_status st = SB_OK;
    for (int attempt = 1; attempt <= SB_AGENT_THROTTLE_ATTEMPTS; attempt++) {
        if (attempt > 1)
            sb_result_release(res);
        if (d->thread_model == SB_THREAD_SERIAL)
            pthread_mutex_lock(&inst->lock);
        st = op(inst, &job->call->call, ctx, res);
        if (d->thread_model == SB_THREAD_SERIAL)
            pthread_mutex_unlock(&inst->lock);
        if (st != SB_E_THROTTLED) {
            sb_rate_gate_passed(&job->agent->gate);
            return st;
        }
        int64_t pause =
            sb_rate_gate_throttled(&job->agent->gate, sb_clock_monotonic_ms(), res->retry_after_ms);
        sb_metric_add(job->agent->m_throttled, NULL, 1);
        sb_warn("agent", "job %s: provider instance %s throttled (%s); instance paused %lld ms%s",
                job->id, inst->name, res->retry_after_ms ? "Retry-After" : "no hint",
                (long long)pause,
                attempt < SB_AGENT_THROTTLE_ATTEMPTS ? ", then tried again" : "; giving the job back");
    }
    return st;
}

/* ---- the vtable calls ------------------------------------------------------ */

typedef struct read_args {
    const sb_secret_ref *ref;
    sb_bundle **out;
    sb_version_info *version;
} read_args;

static sb_status do_read(sb_instance *inst, const sb_call *call, void *ctx, sb_result *res)
{
    read_args *r = ctx;
    sb_bundle_free(*r->out); /* what a throttled attempt may have left */
    *r->out = NULL;
    return inst->plugin->loaded.desc->provider->read(inst->handle, call, r->ref, r->out,
                                                     r->version, res);
}

sb_status sb_agent_provider_read(const sb_agent_job *job, sb_instance *inst,
                                 const sb_secret_ref *ref, sb_bundle **out,
                                 sb_version_info *version, sb_result *res)
{
    read_args r = {ref, out, version};
    *out = NULL;
    return provider_call(job, inst, do_read, &r, res);
}

typedef struct write_args {
    const sb_secret_ref *ref;
    const sb_bundle *b;
    const char *expected;
    sb_version_info *written;
} write_args;

static sb_status do_write(sb_instance *inst, const sb_call *call, void *ctx, sb_result *res)
{
    write_args *w = ctx;
    return inst->plugin->loaded.desc->provider->write(inst->handle, call, w->ref, w->b,
                                                      w->expected, w->written, res);
}

sb_status sb_agent_provider_write(const sb_agent_job *job, sb_instance *inst,
                                  const sb_secret_ref *ref, const sb_bundle *b,
                                  const char *expected_version, sb_version_info *written,
                                  sb_result *res)
{
    write_args w = {ref, b, expected_version, written};
    return provider_call(job, inst, do_write, &w, res);
}

typedef struct list_args {
    const sb_list_query *q;
    sb_metadata_sink sink;
    void *sink_ctx;
    sb_text *next;
} list_args;

static sb_status do_list(sb_instance *inst, const sb_call *call, void *ctx, sb_result *res)
{
    list_args *l = ctx;
    return inst->plugin->loaded.desc->provider->list(inst->handle, call, l->q, l->sink,
                                                     l->sink_ctx, l->next, res);
}

sb_status sb_agent_provider_list(const sb_agent_job *job, sb_instance *inst,
                                 const sb_list_query *q, sb_metadata_sink sink, void *sink_ctx,
                                 sb_text *next_cursor, sb_result *res)
{
    list_args l = {q, sink, sink_ctx, next_cursor};
    job->call->lists_names_only = 1; /* its LIST answers skip secure memory */
    sb_status st = provider_call(job, inst, do_list, &l, res);
    job->call->lists_names_only = 0;
    return st;
}
