/*
 * plugins/argocd/argocd_apps.c — list_applications (ABI 1.1): the
 * applications an endpoint's token can see, for the operator who maps one.
 *
 * Contract: one GET /api/v1/applications (Argo CD answers the whole list
 * in one page, sorted by name), with `?projects=` when a project applies:
 * the query's, else the instance's configured project. Both given and
 * different is SB_E_INVALID (the endpoint is limited to its project), so a
 * listing never shows an application the observer could not then read.
 * Each item is emitted with metadata.name, spec.project,
 * spec.destination.namespace, spec.destination.server (or .name),
 * status.sync.status and status.health.status — plain metadata; an item
 * without a name is a protocol error. `"items": null` (what Argo CD's
 * gateway sends for an empty list) and an absent items are an empty list.
 * emit returning non-zero stops the listing with SB_E_CANCELLED.
 */
#include "argocd.h"

#include <stdio.h>
#include <string.h>

static const char *member(const sb_json_node *item, const char *pointer)
{
    const sb_host_api *h = argocd_host;
    const char *s = h->json_string(h->json_pointer(item, pointer), NULL);
    return s != NULL && s[0] != '\0' ? s : NULL;
}

static sb_status emit_items(const sb_json *doc, const char *scope, sb_gitops_app_sink emit,
                            void *sink, sb_result *res)
{
    const sb_host_api *h = argocd_host;
    const sb_json_node *items = h->json_pointer(h->json_root(doc), "/items");
    sb_json_type type = h->json_type(items);
    if (type == SB_JSON_MISSING || type == SB_JSON_NULL)
        return SB_OK;
    if (type != SB_JSON_ARRAY)
        return h->fail(res, SB_E_PROTOCOL, 0,
                       "argocd list_applications %s: items is not an array", scope);
    size_t n = h->json_count(items);
    for (size_t i = 0; i < n; i++) {
        const sb_json_node *item = h->json_member(items, i, NULL);
        sb_gitops_app app = {
            .struct_size = (uint32_t)sizeof app,
            .name = member(item, "/metadata/name"),
            .project = member(item, "/spec/project"),
            .dest_namespace = member(item, "/spec/destination/namespace"),
            .dest_server = member(item, "/spec/destination/server"),
            .sync_status = member(item, "/status/sync/status"),
            .health_status = member(item, "/status/health/status"),
        };
        if (app.dest_server == NULL)
            app.dest_server = member(item, "/spec/destination/name");
        if (app.name == NULL)
            return h->fail(res, SB_E_PROTOCOL, 0,
                           "argocd list_applications %s: item %zu has no metadata.name", scope, i);
        if (emit(sink, &app) != 0)
            return h->fail(res, SB_E_CANCELLED, 0,
                           "argocd list_applications %s: stopped by the caller after %zu", scope,
                           i + 1);
    }
    return SB_OK;
}

sb_status argocd_list_applications(void *inst, const sb_call *call,
                                   const sb_gitops_app_query *query, sb_gitops_app_sink emit,
                                   void *sink, sb_result *res)
{
    const sb_host_api *h = argocd_host;
    if (res == NULL || h == NULL)
        return SB_E_INVALID;
    if (inst == NULL || call == NULL || emit == NULL)
        return h->fail(res, SB_E_INVALID, 0,
                       "argocd list_applications: instance, call and emit are required");
    const argocd_instance *ai = inst;
    const char *wanted = SB_HAS_FIELD(query, sb_gitops_app_query, project) &&
                                 query->project != NULL && query->project[0] != '\0'
                             ? query->project
                             : NULL;
    if (wanted && ai->project && strcmp(wanted, ai->project) != 0)
        return h->fail(res, SB_E_INVALID, 0,
                       "argocd list_applications: this endpoint is limited to project %s; ask for "
                       "that project or none",
                       ai->project);
    const char *project = wanted ? wanted : ai->project;
    char scope[ARGOCD_NAME_CAP + 16] = "of every project";
    if (project)
        snprintf(scope, sizeof scope, "of project %.253s", project);

    sb_http_response resp;
    sb_status st = argocd_http_list(ai, call, "GET", project, &resp, res);
    if (st != SB_OK)
        return st;
    sb_json *doc = NULL;
    st = argocd_json_answer(&resp, "list_applications", scope, &doc, res);
    if (st == SB_OK)
        st = emit_items(doc, scope, emit, sink, res);
    h->json_free(doc);
    return st;
}
