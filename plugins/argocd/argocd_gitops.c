/*
 * plugins/argocd/argocd_gitops.c — the GITOPS vtable.
 *
 * Contract:
 *   baseline(app): GETs the application and its resource tree and stores
 *     (argocd_baseline.c) the sync revision, health, operation phase and
 *     times, and for every Deployment its newest ReplicaSet (name, revision,
 *     pod-template-hash) and its newest pod's start, with the host's clock as
 *     taken_at_ms. The worker takes it when the patch executes.
 *   observe(app, baseline, changed_unix_ms): GETs both again and decides
 *     (argocd_evidence.c) NONE / ROLLING / APPLIED / FAILED, with a detail.
 *     changed_unix_ms must be positive: without the time of the change
 *     nothing can be proved.
 *   list_applications: see argocd_apps.c (ABI 1.1).
 * Arguments are checked first (SB_E_INVALID, nothing sent); HTTP failures
 * are mapped by argocd_http.c. Both operations are GET-only by construction.
 */
#include "argocd.h"

#include <stdlib.h>

static sb_status check_args(void *inst, const sb_call *call, const char *app, const void *out,
                            const char *op, sb_result *res)
{
    const sb_host_api *h = argocd_host;
    if (res == NULL || h == NULL)
        return SB_E_INVALID;
    if (inst == NULL || call == NULL || app == NULL || out == NULL)
        return h->fail(res, SB_E_INVALID, 0,
                       "argocd %s: instance, call, application and output are required", op);
    const char *why = argocd_check_app_name(app);
    if (why != NULL)
        return h->fail(res, SB_E_INVALID, 0, "argocd %s: %s", op, why);
    return SB_OK;
}

static sb_status argocd_take_baseline(void *inst, const sb_call *call, const char *application,
                                 sb_text *state, sb_result *res)
{
    sb_status st = check_args(inst, call, application, state, "baseline", res);
    if (st != SB_OK)
        return st;
    argocd_snapshot snap;
    st = argocd_snapshot_take(inst, call, application, &snap, res);
    if (st == SB_OK)
        st = argocd_baseline_encode(&snap, argocd_host->now_unix_ms(), state, res);
    argocd_snapshot_free(&snap);
    return st;
}

static sb_status argocd_observe(void *inst, const sb_call *call, const char *application,
                                const char *baseline, int64_t changed_unix_ms,
                                sb_gitops_observation *out, sb_result *res)
{
    const sb_host_api *h = argocd_host;
    sb_status st = check_args(inst, call, application, out, "observe", res);
    if (st != SB_OK)
        return st;
    if (baseline == NULL || out->detail == NULL || changed_unix_ms <= 0)
        return h->fail(res, SB_E_INVALID, 0,
                       "argocd observe: a baseline, a detail text and the time of the change "
                       "are required");
    argocd_baseline base;
    st = argocd_baseline_decode(baseline, &base, res);
    if (st != SB_OK) {
        argocd_baseline_free(&base);
        return st;
    }
    argocd_snapshot snap;
    st = argocd_snapshot_take(inst, call, application, &snap, res);
    if (st == SB_OK) {
        char *detail = NULL;
        sb_gitops_evidence ev = argocd_evidence_decide(&base, &snap, changed_unix_ms, &detail);
        if (detail == NULL || h->text_set(out->detail, detail) != 0) {
            st = h->fail(res, SB_E_INTERNAL, 0, "argocd observe: out of memory");
        } else {
            out->evidence = ev;
        }
        free(detail);
    }
    argocd_snapshot_free(&snap);
    argocd_baseline_free(&base);
    return st;
}

const sb_gitops_ops argocd_gitops_ops = {
    .struct_size = (uint32_t)sizeof(sb_gitops_ops),
    .baseline = argocd_take_baseline,
    .observe = argocd_observe,
    .list_applications = argocd_list_applications,
};
