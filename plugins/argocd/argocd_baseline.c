/*
 * plugins/argocd/argocd_baseline.c — the baseline text the host stores.
 *
 * Contract: a baseline is a small JSON object, versioned by "v":
 *   {"v":1,"taken_at_ms":N,"sync_revision":"…","health":"…",
 *    "operation":{"phase":"…","started_at":"…","finished_at":"…"},
 *    "workloads":[{"namespace":"…","name":"…","replicaset":"…",
 *                  "pod_template_hash":"…","revision":N,"newest_pod_ms":N}]}
 * one workload per Deployment, describing its newest ReplicaSet when the
 * baseline was taken. It holds names, hashes, revisions and times only.
 * decode accepts exactly what encode writes (version 1, every member with
 * its type; unknown members are ignored so a later minor can add some) and
 * refuses anything else with SB_E_INVALID: a baseline that cannot be
 * trusted must never be read as "nothing was there before".
 */
#include "argocd.h"

#include <stdlib.h>
#include <string.h>

sb_status argocd_baseline_encode(const argocd_snapshot *snap, int64_t taken_ms, sb_text *state,
                                 sb_result *res)
{
    const sb_host_api *h = argocd_host;
    argocd_str s = {0};
    argocd_str_addf(&s, "{\"v\":%d,\"taken_at_ms\":%lld,\"sync_revision\":",
                    ARGOCD_BASELINE_VERSION, (long long)taken_ms);
    argocd_str_add_json(&s, snap->sync_revision);
    argocd_str_add(&s, ",\"health\":");
    argocd_str_add_json(&s, snap->health);
    argocd_str_add(&s, ",\"operation\":{\"phase\":");
    argocd_str_add_json(&s, snap->operation_phase);
    argocd_str_add(&s, ",\"started_at\":");
    argocd_str_add_json(&s, snap->operation_started);
    argocd_str_add(&s, ",\"finished_at\":");
    argocd_str_add_json(&s, snap->operation_finished);
    argocd_str_add(&s, "},\"workloads\":[");
    for (size_t i = 0; i < snap->n_deployments; i++) {
        const argocd_deployment *d = &snap->deployments[i];
        const argocd_replicaset *rs = argocd_newest_replicaset(d);
        argocd_str_add(&s, i ? ",{\"namespace\":" : "{\"namespace\":");
        argocd_str_add_json(&s, d->namespace_);
        argocd_str_add(&s, ",\"name\":");
        argocd_str_add_json(&s, d->name);
        argocd_str_add(&s, ",\"replicaset\":");
        argocd_str_add_json(&s, rs ? rs->name : "");
        argocd_str_add(&s, ",\"pod_template_hash\":");
        argocd_str_add_json(&s, rs ? rs->hash : "");
        argocd_str_addf(&s, ",\"revision\":%lld,\"newest_pod_ms\":%lld}",
                        (long long)(rs ? rs->revision : 0), (long long)(rs ? rs->newest_pod_ms : 0));
    }
    argocd_str_add(&s, "]}");
    sb_status st = SB_OK;
    if (s.failed || h->text_set(state, s.p) != 0)
        st = h->fail(res, SB_E_INTERNAL, 0, "argocd baseline: out of memory");
    argocd_str_free(&s);
    return st;
}

static int string_at(const sb_json_node *node, const char *ptr, char *out, size_t cap)
{
    const sb_host_api *h = argocd_host;
    size_t len = 0;
    const char *s = h->json_string(h->json_pointer(node, ptr), &len);
    if (s == NULL || len >= cap || memchr(s, '\0', len) != NULL)
        return -1;
    memcpy(out, s, len + 1);
    return 0;
}

static int int_at(const sb_json_node *node, const char *ptr, int64_t *out)
{
    const sb_host_api *h = argocd_host;
    const sb_json_node *n = h->json_pointer(node, ptr);
    return h->json_type(n) == SB_JSON_NUMBER && h->json_int(n, out) == 0 && *out >= 0 ? 0 : -1;
}

static int read_workload(const sb_json_node *w, argocd_baseline_workload *out)
{
    return string_at(w, "/namespace", out->namespace_, sizeof out->namespace_) ||
           string_at(w, "/name", out->name, sizeof out->name) ||
           string_at(w, "/replicaset", out->replicaset, sizeof out->replicaset) ||
           string_at(w, "/pod_template_hash", out->hash, sizeof out->hash) ||
           int_at(w, "/revision", &out->revision) ||
           int_at(w, "/newest_pod_ms", &out->newest_pod_ms);
}

static int read_baseline(const sb_json_node *root, argocd_baseline *out)
{
    const sb_host_api *h = argocd_host;
    int64_t version = 0;
    if (int_at(root, "/v", &version) || version != ARGOCD_BASELINE_VERSION ||
        int_at(root, "/taken_at_ms", &out->taken_ms) ||
        string_at(root, "/sync_revision", out->sync_revision, sizeof out->sync_revision) ||
        string_at(root, "/health", out->health, sizeof out->health) ||
        string_at(root, "/operation/phase", out->operation_phase, sizeof out->operation_phase) ||
        string_at(root, "/operation/started_at", out->operation_started,
                  sizeof out->operation_started) ||
        string_at(root, "/operation/finished_at", out->operation_finished,
                  sizeof out->operation_finished))
        return -1;
    const sb_json_node *list = h->json_pointer(root, "/workloads");
    size_t n = h->json_count(list);
    if (h->json_type(list) != SB_JSON_ARRAY || n > ARGOCD_MAX_DEPLOYMENTS)
        return -1;
    if (n == 0)
        return 0;
    out->workloads = calloc(n, sizeof *out->workloads);
    if (out->workloads == NULL)
        return -1;
    for (; out->n_workloads < n; out->n_workloads++)
        if (read_workload(h->json_member(list, out->n_workloads, NULL),
                          &out->workloads[out->n_workloads]) != 0)
            return -1;
    return 0;
}

sb_status argocd_baseline_decode(const char *text, argocd_baseline *out, sb_result *res)
{
    const sb_host_api *h = argocd_host;
    memset(out, 0, sizeof *out);
    sb_json *doc = NULL;
    sb_result scratch = SB_RESULT_INIT;
    int ok = text && h->json_parse((const unsigned char *)text, strlen(text), &doc, &scratch) ==
                         SB_OK;
    h->result_release(&scratch);
    ok = ok && h->json_type(h->json_root(doc)) == SB_JSON_OBJECT &&
         read_baseline(h->json_root(doc), out) == 0;
    h->json_free(doc);
    if (!ok)
        return h->fail(res, SB_E_INVALID, 0,
                       "argocd observe: the baseline is not one this plugin wrote (version %d); "
                       "take a new baseline",
                       ARGOCD_BASELINE_VERSION);
    return SB_OK;
}

void argocd_baseline_free(argocd_baseline *b)
{
    if (b == NULL)
        return;
    free(b->workloads);
    memset(b, 0, sizeof *b);
}
