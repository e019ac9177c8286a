/*
 * plugins/argocd/argocd_snapshot.c — an application and its resource tree,
 * reduced to what the evidence rules need.
 *
 * Contract: argocd_snapshot_take GETs /api/v1/applications/{app} (sync
 * status and revision, health, operationState phase/startedAt/finishedAt)
 * and then .../resource-tree, and keeps every Deployment (group apps) with
 * the ReplicaSets whose parentRefs name it (revision from info
 * "Revision"="Rev:N", pod-template-hash from the name after
 * "<deployment>-", createdAt) and, per ReplicaSet, the Pods whose
 * parentRefs name it (count, ready = health Healthy, degraded = health
 * Degraded, oldest and newest createdAt). Everything else in the tree is
 * ignored. Only names, hashes, revisions, statuses and times are copied out
 * of the parsed documents; an over-long name is a protocol error, never a
 * silent truncation that could make two objects look alike.
 */
#include "argocd.h"

#include <stdlib.h>
#include <string.h>

/* Copies a string member (JSON pointer `ptr` under `node`) into out;
 * "" when absent. -1 when it does not fit. */
static int copy_member(const sb_json_node *node, const char *ptr, char *out, size_t cap)
{
    const sb_host_api *h = argocd_host;
    size_t len = 0;
    const char *s = h->json_string(h->json_pointer(node, ptr), &len);
    out[0] = '\0';
    if (s == NULL)
        return 0;
    if (len >= cap || memchr(s, '\0', len) != NULL)
        return -1;
    memcpy(out, s, len + 1);
    return 0;
}

static sb_status get_json(const argocd_instance *ai, const sb_call *call, const char *app,
                          const char *suffix, const char *what, sb_json **doc, sb_result *res)
{
    sb_http_response resp;
    sb_status st = argocd_http_get(ai, call, "GET", app, suffix, what, &resp, res);
    if (st != SB_OK)
        return st;
    return argocd_json_answer(&resp, what, app, doc, res);
}

static sb_status read_application(const sb_json *doc, argocd_snapshot *snap, const char *app,
                                  sb_result *res)
{
    const sb_json_node *st = argocd_host->json_pointer(argocd_host->json_root(doc), "/status");
    if (copy_member(st, "/sync/status", snap->sync_status, sizeof snap->sync_status) ||
        copy_member(st, "/sync/revision", snap->sync_revision, sizeof snap->sync_revision) ||
        copy_member(st, "/health/status", snap->health, sizeof snap->health) ||
        copy_member(st, "/operationState/phase", snap->operation_phase,
                    sizeof snap->operation_phase) ||
        copy_member(st, "/operationState/startedAt", snap->operation_started,
                    sizeof snap->operation_started) ||
        copy_member(st, "/operationState/finishedAt", snap->operation_finished,
                    sizeof snap->operation_finished))
        return argocd_host->fail(res, SB_E_PROTOCOL, 0,
                                 "argocd application %s: a status field is implausibly long", app);
    return SB_OK;
}

/* The first parentRef of `kind`: its namespace and name. 0 found. */
static int parent_of_kind(const sb_json_node *node, const char *kind, char *ns, char *name)
{
    const sb_host_api *h = argocd_host;
    const sb_json_node *refs = h->json_pointer(node, "/parentRefs");
    for (size_t i = 0; i < h->json_count(refs); i++) {
        const sb_json_node *ref = h->json_member(refs, i, NULL);
        const char *k = h->json_string(h->json_pointer(ref, "/kind"), NULL);
        if (k && strcmp(k, kind) == 0 && copy_member(ref, "/namespace", ns, ARGOCD_SHORT_CAP) == 0 &&
            copy_member(ref, "/name", name, ARGOCD_NAME_CAP) == 0)
            return 0;
    }
    return -1;
}

static int is_kind(const sb_json_node *node, const char *group, const char *kind)
{
    const sb_host_api *h = argocd_host;
    const char *k = h->json_string(h->json_pointer(node, "/kind"), NULL);
    const char *g = h->json_string(h->json_pointer(node, "/group"), NULL);
    return k && strcmp(k, kind) == 0 && strcmp(g ? g : "", group) == 0;
}

static int64_t revision_of(const sb_json_node *node)
{
    const sb_host_api *h = argocd_host;
    const sb_json_node *info = h->json_pointer(node, "/info");
    for (size_t i = 0; i < h->json_count(info); i++) {
        const sb_json_node *item = h->json_member(info, i, NULL);
        const char *n = h->json_string(h->json_pointer(item, "/name"), NULL);
        const char *v = h->json_string(h->json_pointer(item, "/value"), NULL);
        if (n && v && strcmp(n, "Revision") == 0 && strncmp(v, "Rev:", 4) == 0) {
            char *end = NULL;
            long long r = strtoll(v + 4, &end, 10);
            return end && *end == '\0' && r > 0 ? (int64_t)r : 0;
        }
    }
    return 0;
}

static argocd_deployment *find_deployment(argocd_snapshot *snap, const char *ns, const char *name)
{
    for (size_t i = 0; i < snap->n_deployments; i++)
        if (strcmp(snap->deployments[i].namespace_, ns) == 0 &&
            strcmp(snap->deployments[i].name, name) == 0)
            return &snap->deployments[i];
    return NULL;
}

static argocd_replicaset *find_replicaset(argocd_snapshot *snap, const char *ns, const char *name)
{
    for (size_t i = 0; i < snap->n_deployments; i++) {
        argocd_deployment *d = &snap->deployments[i];
        for (size_t j = 0; strcmp(d->namespace_, ns) == 0 && j < d->n_replicasets; j++)
            if (strcmp(d->replicasets[j].name, name) == 0)
                return &d->replicasets[j];
    }
    return NULL;
}

static int add_deployment(argocd_snapshot *snap, const sb_json_node *node)
{
    if (snap->n_deployments == ARGOCD_MAX_DEPLOYMENTS)
        return -1;
    argocd_deployment *grown =
        realloc(snap->deployments, (snap->n_deployments + 1) * sizeof *snap->deployments);
    if (grown == NULL)
        return -1;
    snap->deployments = grown;
    argocd_deployment *d = &grown[snap->n_deployments];
    memset(d, 0, sizeof *d);
    if (copy_member(node, "/namespace", d->namespace_, sizeof d->namespace_) ||
        copy_member(node, "/name", d->name, sizeof d->name) ||
        copy_member(node, "/health/status", d->health, sizeof d->health) || d->name[0] == '\0')
        return -1;
    snap->n_deployments++;
    return 0;
}

static int add_replicaset(argocd_snapshot *snap, const sb_json_node *node)
{
    char ns[ARGOCD_SHORT_CAP], parent[ARGOCD_NAME_CAP];
    if (parent_of_kind(node, "Deployment", ns, parent) != 0)
        return 0; /* a bare ReplicaSet is no Deployment's rollout */
    argocd_deployment *d = find_deployment(snap, ns, parent);
    if (d == NULL)
        return 0;
    argocd_replicaset *grown =
        realloc(d->replicasets, (d->n_replicasets + 1) * sizeof *d->replicasets);
    if (grown == NULL)
        return -1;
    d->replicasets = grown;
    argocd_replicaset *rs = &grown[d->n_replicasets];
    memset(rs, 0, sizeof *rs);
    char created[ARGOCD_TIME_CAP];
    if (copy_member(node, "/name", rs->name, sizeof rs->name) ||
        copy_member(node, "/createdAt", created, sizeof created) || rs->name[0] == '\0')
        return -1;
    size_t plen = strlen(d->name);
    const char *hash = strncmp(rs->name, d->name, plen) == 0 && rs->name[plen] == '-'
                           ? rs->name + plen + 1
                           : rs->name;
    if (strlen(hash) >= sizeof rs->hash)
        return -1;
    strcpy(rs->hash, hash);
    rs->revision = revision_of(node);
    rs->created_ms = argocd_parse_time_ms(created);
    d->n_replicasets++;
    return 0;
}

static int add_pod(argocd_snapshot *snap, const sb_json_node *node)
{
    const sb_host_api *h = argocd_host;
    char ns[ARGOCD_SHORT_CAP], parent[ARGOCD_NAME_CAP], created[ARGOCD_TIME_CAP];
    if (parent_of_kind(node, "ReplicaSet", ns, parent) != 0)
        return 0;
    argocd_replicaset *rs = find_replicaset(snap, ns, parent);
    if (rs == NULL)
        return 0;
    if (copy_member(node, "/createdAt", created, sizeof created))
        return -1;
    int64_t at = argocd_parse_time_ms(created);
    const char *health = h->json_string(h->json_pointer(node, "/health/status"), NULL);
    rs->pods++;
    rs->pods_ready += health && strcmp(health, "Healthy") == 0;
    rs->pods_degraded += health && strcmp(health, "Degraded") == 0;
    if (rs->oldest_pod_ms == 0 || at < rs->oldest_pod_ms)
        rs->oldest_pod_ms = at;
    if (at > rs->newest_pod_ms)
        rs->newest_pod_ms = at;
    return 0;
}

static sb_status read_tree(const sb_json *doc, argocd_snapshot *snap, const char *app,
                           sb_result *res)
{
    const sb_host_api *h = argocd_host;
    const sb_json_node *nodes = h->json_pointer(h->json_root(doc), "/nodes");
    if (h->json_type(nodes) != SB_JSON_ARRAY)
        return h->fail(res, SB_E_PROTOCOL, 0, "argocd resource tree of %s: no nodes array", app);
    size_t n = h->json_count(nodes);
    /* three passes: parents first, whatever order the server lists them in */
    for (int pass = 0; pass < 3; pass++) {
        for (size_t i = 0; i < n; i++) {
            const sb_json_node *node = h->json_member(nodes, i, NULL);
            int rc = 0;
            if (pass == 0 && is_kind(node, "apps", "Deployment"))
                rc = add_deployment(snap, node);
            else if (pass == 1 && is_kind(node, "apps", "ReplicaSet"))
                rc = add_replicaset(snap, node);
            else if (pass == 2 && is_kind(node, "", "Pod"))
                rc = add_pod(snap, node);
            if (rc != 0)
                return h->fail(res, SB_E_PROTOCOL, 0,
                               "argocd resource tree of %s: a workload node is malformed, too "
                               "long, or there are more than %d Deployments",
                               app, ARGOCD_MAX_DEPLOYMENTS);
        }
    }
    return SB_OK;
}

sb_status argocd_snapshot_take(const argocd_instance *ai, const sb_call *call, const char *app,
                               argocd_snapshot *snap, sb_result *res)
{
    const sb_host_api *h = argocd_host;
    memset(snap, 0, sizeof *snap);
    sb_json *doc = NULL;
    sb_status st = get_json(ai, call, app, "", "application", &doc, res);
    if (st == SB_OK)
        st = read_application(doc, snap, app, res);
    h->json_free(doc);
    doc = NULL;
    if (st == SB_OK)
        st = get_json(ai, call, app, "/resource-tree", "resource-tree", &doc, res);
    if (st == SB_OK)
        st = read_tree(doc, snap, app, res);
    h->json_free(doc);
    return st;
}

void argocd_snapshot_free(argocd_snapshot *snap)
{
    for (size_t i = 0; snap && i < snap->n_deployments; i++)
        free(snap->deployments[i].replicasets);
    if (snap) {
        free(snap->deployments);
        memset(snap, 0, sizeof *snap);
    }
}

const argocd_replicaset *argocd_newest_replicaset(const argocd_deployment *d)
{
    const argocd_replicaset *best = NULL;
    for (size_t i = 0; i < d->n_replicasets; i++) {
        const argocd_replicaset *rs = &d->replicasets[i];
        if (best == NULL || rs->revision > best->revision ||
            (rs->revision == best->revision && rs->created_ms > best->created_ms))
            best = rs;
    }
    return best;
}
