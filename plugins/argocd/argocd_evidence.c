/*
 * plugins/argocd/argocd_evidence.c — what an application proves about a
 * change. Pure: no I/O, no clock.
 *
 * "Healthy and Synced" is never evidence: an application that was healthy
 * before the change and never rolled out is exactly as healthy after it. The
 * evidence is a rollout of a workload that began after the change. Times from
 * the cluster have one-second precision, so "after the change" means created
 * in the change's second or later.
 *
 * Per Deployment of the application now (matched to the baseline by
 * namespace and name):
 *   - its newest ReplicaSet is a *post-change rollout* when it was created at
 *     or after the change AND it is not what the baseline recorded: a higher
 *     revision with a different pod-template-hash (a Deployment absent from
 *     the baseline only needs the creation time). A rollout that raced the
 *     baseline, or began before the change, is therefore not evidence — the
 *     observation then ends unverified, never wrongly applied;
 *   - no post-change rollout: NONE;
 *   - the Deployment is Degraded (e.g. progress deadline exceeded): FAILED;
 *   - the Deployment is Healthy, the new ReplicaSet has pods, all of them
 *     ready and created at or after the change (and no earlier than the
 *     newest pod the baseline saw), and no pod of an older ReplicaSet is
 *     left: APPLIED;
 *   - otherwise: ROLLING.
 * For the application:
 *   - a sync operation that is not the baseline's (another startedAt or
 *     finishedAt) and ended Failed or Error: FAILED;
 *   - health Degraded now but not in the baseline: FAILED.
 * Combined: any FAILED > any ROLLING > any APPLIED (which also needs the
 * application Healthy, else ROLLING) > NONE. The detail names the deciding
 * Deployment, its ReplicaSet, revision and times — never Argo CD's free-text
 * messages.
 */
#include "argocd.h"

#include <stdio.h>
#include <string.h>

typedef struct workload_verdict {
    sb_gitops_evidence evidence;
    char why[1400];
} workload_verdict;

static const argocd_baseline_workload *baseline_of(const argocd_baseline *base,
                                                   const argocd_deployment *d)
{
    for (size_t i = 0; i < base->n_workloads; i++)
        if (strcmp(base->workloads[i].namespace_, d->namespace_) == 0 &&
            strcmp(base->workloads[i].name, d->name) == 0)
            return &base->workloads[i];
    return NULL;
}

static int is_post_change(const argocd_replicaset *rs, const argocd_baseline_workload *bw,
                          int64_t change_second_ms)
{
    if (rs == NULL || rs->created_ms <= 0 || rs->created_ms < change_second_ms)
        return 0;
    if (bw == NULL)
        return 1;
    return rs->revision > bw->revision && strcmp(rs->hash, bw->hash) != 0;
}

static void judge_workload(const argocd_deployment *d, const argocd_baseline_workload *bw,
                           int64_t change_second_ms, workload_verdict *v)
{
    const argocd_replicaset *rs = argocd_newest_replicaset(d);
    char created[ARGOCD_TIME_CAP];
    argocd_format_time(rs ? rs->created_ms : 0, created, sizeof created);
    if (!is_post_change(rs, bw, change_second_ms)) {
        v->evidence = SB_GITOPS_NO_EVIDENCE;
        if (rs == NULL)
            snprintf(v->why, sizeof v->why, "Deployment %s/%s has no ReplicaSet", d->namespace_,
                     d->name);
        else
            snprintf(v->why, sizeof v->why,
                     "Deployment %s/%s: no rollout since the change (newest ReplicaSet %s, "
                     "Rev:%lld, created %s%s)",
                     d->namespace_, d->name, rs->name, (long long)rs->revision, created,
                     bw && strcmp(bw->replicaset, rs->name) == 0 ? ", as in the baseline" : "");
        return;
    }
    size_t old_pods = 0;
    for (size_t i = 0; i < d->n_replicasets; i++)
        if (&d->replicasets[i] != rs)
            old_pods += d->replicasets[i].pods;
    int healthy = strcmp(d->health, "Healthy") == 0;
    if (strcmp(d->health, "Degraded") == 0) {
        v->evidence = SB_GITOPS_FAILED;
        snprintf(v->why, sizeof v->why,
                 "Deployment %s/%s: the rollout of ReplicaSet %s (Rev:%lld, created %s) is "
                 "Degraded (%zu of %zu new pods degraded)",
                 d->namespace_, d->name, rs->name, (long long)rs->revision, created,
                 rs->pods_degraded, rs->pods);
    } else if (healthy && rs->pods > 0 && rs->pods_ready == rs->pods && old_pods == 0 &&
               rs->oldest_pod_ms >= change_second_ms &&
               (bw == NULL || rs->oldest_pod_ms >= bw->newest_pod_ms)) {
        char first_pod[ARGOCD_TIME_CAP];
        argocd_format_time(rs->oldest_pod_ms, first_pod, sizeof first_pod);
        v->evidence = SB_GITOPS_APPLIED;
        snprintf(v->why, sizeof v->why,
                 "Deployment %s/%s rolled out ReplicaSet %s (Rev:%lld, pod-template-hash %s, "
                 "created %s): %zu/%zu pods ready, all started after the change (first at %s), "
                 "no old pods left",
                 d->namespace_, d->name, rs->name, (long long)rs->revision, rs->hash, created,
                 rs->pods_ready, rs->pods, first_pod);
    } else {
        v->evidence = SB_GITOPS_ROLLING;
        snprintf(v->why, sizeof v->why,
                 "Deployment %s/%s is rolling out ReplicaSet %s (Rev:%lld, created %s): "
                 "%zu/%zu new pods ready, %zu old pods left, Deployment %s",
                 d->namespace_, d->name, rs->name, (long long)rs->revision, created,
                 rs->pods_ready, rs->pods, old_pods, d->health[0] ? d->health : "(no health)");
    }
}

/* Why the application itself failed after the change, or NULL. */
static const char *application_failure(const argocd_baseline *base, const argocd_snapshot *now,
                                       char *why, size_t cap)
{
    int new_operation = strcmp(now->operation_started, base->operation_started) != 0 ||
                        strcmp(now->operation_finished, base->operation_finished) != 0;
    if (new_operation && (strcmp(now->operation_phase, "Failed") == 0 ||
                          strcmp(now->operation_phase, "Error") == 0)) {
        snprintf(why, cap, "the sync operation started %s ended %s at %s",
                 now->operation_started[0] ? now->operation_started : "(unknown)",
                 now->operation_phase,
                 now->operation_finished[0] ? now->operation_finished : "(unknown)");
        return why;
    }
    if (strcmp(now->health, "Degraded") == 0 && strcmp(base->health, "Degraded") != 0) {
        snprintf(why, cap, "the application became Degraded after the change (it was %s)",
                 base->health[0] ? base->health : "(unknown)");
        return why;
    }
    return NULL;
}

sb_gitops_evidence argocd_evidence_decide(const argocd_baseline *base, const argocd_snapshot *now,
                                          int64_t changed_ms, char **detail)
{
    int64_t change_second_ms = changed_ms - (changed_ms % 1000);
    char change_at[ARGOCD_TIME_CAP], app_why[300];
    argocd_format_time(changed_ms, change_at, sizeof change_at);
    sb_gitops_evidence result = SB_GITOPS_NO_EVIDENCE;
    size_t counts[4] = {0};
    workload_verdict decisive = {SB_GITOPS_NO_EVIDENCE, ""};
    const char *app_failure = application_failure(base, now, app_why, sizeof app_why);
    static const int rank[4] = {[SB_GITOPS_NO_EVIDENCE] = 0, [SB_GITOPS_APPLIED] = 1,
                                [SB_GITOPS_ROLLING] = 2, [SB_GITOPS_FAILED] = 3};
    for (size_t i = 0; i < now->n_deployments; i++) {
        workload_verdict v;
        judge_workload(&now->deployments[i], baseline_of(base, &now->deployments[i]),
                       change_second_ms, &v);
        counts[v.evidence]++;
        if (i == 0 || rank[v.evidence] > rank[decisive.evidence])
            decisive = v;
    }
    result = decisive.evidence;
    int app_unhealthy = result == SB_GITOPS_APPLIED && strcmp(now->health, "Healthy") != 0;
    if (app_failure)
        result = SB_GITOPS_FAILED;
    else if (app_unhealthy)
        result = SB_GITOPS_ROLLING;

    argocd_str s = {0};
    static const char *names[4] = {"no evidence", "rolling", "applied", "failed"};
    argocd_str_addf(&s, "%s (change at %s): ", names[result], change_at);
    if (app_failure)
        argocd_str_add(&s, app_failure);
    else if (now->n_deployments == 0)
        argocd_str_add(&s, "the application has no Deployment whose rollout could show the change");
    else
        argocd_str_add(&s, decisive.why);
    if (app_unhealthy)
        argocd_str_addf(&s, ", but the application is %s", now->health[0] ? now->health : "(unknown)");
    if (now->n_deployments > 1)
        argocd_str_addf(&s, "; Deployments: %zu applied, %zu rolling, %zu failed, %zu unchanged",
                        counts[SB_GITOPS_APPLIED], counts[SB_GITOPS_ROLLING],
                        counts[SB_GITOPS_FAILED], counts[SB_GITOPS_NO_EVIDENCE]);
    argocd_str_addf(&s, "; application %s, %s at %.12s",
                    now->health[0] ? now->health : "(no health)",
                    now->sync_status[0] ? now->sync_status : "(no sync status)",
                    now->sync_revision[0] ? now->sync_revision : "(none)");
    if (strcmp(base->sync_revision, now->sync_revision) != 0)
        argocd_str_addf(&s, " (was %.12s at the baseline)",
                        base->sync_revision[0] ? base->sync_revision : "(none)");
    if (result == SB_GITOPS_NO_EVIDENCE)
        argocd_str_add(&s, " (Healthy and Synced alone is not evidence)");
    if (s.failed) {
        argocd_str_free(&s);
        *detail = NULL;
    } else {
        *detail = s.p;
    }
    return result;
}
