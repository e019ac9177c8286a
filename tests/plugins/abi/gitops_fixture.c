/*
 * gitops_fixture.c — one minimal GITOPS plugin, compiled as three variants
 * for the ABI 1.1 compatibility of list_applications (test_abi_compat.c,
 * test_api_gitops_apps.c):
 *   FIXTURE_V1_0       "built for ABI 1.0": abi_minor 0 and a gitops
 *                      vtable whose struct_size ends after observe. The
 *                      slot past it holds a poison function that aborts,
 *                      so a host reading past struct_size crashes the test.
 *   FIXTURE_NULL_LIST  built for 1.1, list_applications left NULL.
 *   (neither)          built for 1.1 and requiring it
 *                      (SB_PLUGIN_REQUIRES_MINOR 1): lists three fixed
 *                      applications, honouring query->project.
 * Its config schema is the one the control plane gives a GitOps plugin
 * (base_url, token, project, ca_file, tls_server_name); baseline and
 * observe answer without I/O.
 */
#ifndef FIXTURE_V1_0
#ifndef FIXTURE_NULL_LIST
#define SB_PLUGIN_REQUIRES_MINOR 1
#endif
#endif
#include <sbridge/plugin.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fixture_lifecycle.h"

#ifndef FIXTURE_NAME
#define FIXTURE_NAME "gitops-fixture"
#endif

static const sb_host_api *host;

static const sb_config_field fields[] = {
    {.struct_size = sizeof(sb_config_field), .type = SB_CFG_STRING, .key = "base_url",
     .flags = SB_CFG_REQUIRED, .min = 1, .max = 0, .help = "Server URL."},
    {.struct_size = sizeof(sb_config_field), .type = SB_CFG_STRING, .key = "token",
     .flags = SB_CFG_REQUIRED | SB_CFG_SECRET, .min = 1, .max = 0, .help = "Token."},
    {.struct_size = sizeof(sb_config_field), .type = SB_CFG_STRING, .key = "project", .min = 1,
     .max = 0, .help = "Project."},
    {.struct_size = sizeof(sb_config_field), .type = SB_CFG_STRING, .key = "ca_file", .min = 1,
     .max = 0, .help = "CA bundle."},
    {.struct_size = sizeof(sb_config_field), .type = SB_CFG_STRING, .key = "tls_server_name",
     .min = 1, .max = 0, .help = "TLS name."},
};

static sb_status f_init(const sb_host_api *h, sb_result *res)
{
    (void)res;
    host = h;
    return SB_OK;
}


static sb_status f_baseline(void *inst, const sb_call *call, const char *app, sb_text *state,
                            sb_result *res)
{
    if (inst == NULL || call == NULL || app == NULL || state == NULL)
        return host->fail(res, SB_E_INVALID, 0, "fixture: invalid arguments");
    host->text_set(state, "{}");
    return SB_OK;
}

static sb_status f_observe(void *inst, const sb_call *call, const char *app, const char *baseline,
                           int64_t changed, sb_gitops_observation *out, sb_result *res)
{
    (void)baseline, (void)changed;
    if (inst == NULL || call == NULL || app == NULL || out == NULL)
        return host->fail(res, SB_E_INVALID, 0, "fixture: invalid arguments");
    out->evidence = SB_GITOPS_NO_EVIDENCE;
    host->text_set(out->detail, "fixture: nothing observed");
    return SB_OK;
}

#ifdef FIXTURE_V1_0
static sb_status poison_list(void *inst, const sb_call *call, const sb_gitops_app_query *q,
                             sb_gitops_app_sink emit, void *sink, sb_result *res)
{
    (void)inst, (void)call, (void)q, (void)emit, (void)sink, (void)res;
    fprintf(stderr, "gitops fixture: the host called a slot past the 1.0 struct_size\n");
    abort();
}
#elif !defined(FIXTURE_NULL_LIST)
static sb_status f_list(void *inst, const sb_call *call, const sb_gitops_app_query *q,
                        sb_gitops_app_sink emit, void *sink, sb_result *res)
{
    if (inst == NULL || call == NULL || emit == NULL)
        return host->fail(res, SB_E_INVALID, 0, "fixture: invalid arguments");
    static const char *const apps[][3] = {
        {"alpha", "team-a", "Synced"}, {"beta", "team-b", "OutOfSync"}, {"gamma", "team-a", "Synced"}};
    const char *project = q && q->project && q->project[0] ? q->project : NULL;
    for (size_t i = 0; i < sizeof apps / sizeof apps[0]; i++) {
        if (project && strcmp(project, apps[i][1]) != 0)
            continue;
        sb_gitops_app a = {sizeof a, 0, apps[i][0], apps[i][1], "default", "in-cluster",
                           apps[i][2], "Healthy"};
        if (emit(sink, &a) != 0)
            return host->fail(res, SB_E_CANCELLED, 0, "fixture: stopped by the caller");
    }
    return SB_OK;
}
#endif

static const sb_gitops_ops ops = {
#ifdef FIXTURE_V1_0
    .struct_size = (uint32_t)offsetof(sb_gitops_ops, list_applications),
    .list_applications = poison_list,
#elif defined(FIXTURE_NULL_LIST)
    .struct_size = sizeof(sb_gitops_ops),
    .list_applications = NULL,
#else
    .struct_size = sizeof(sb_gitops_ops),
    .list_applications = f_list,
#endif
    .baseline = f_baseline,
    .observe = f_observe,
};

SB_PLUGIN_EXPORT const sb_plugin *sbridge_plugin_v1(void);
SB_PLUGIN_EXPORT const sb_plugin *sbridge_plugin_v1(void)
{
    static sb_plugin d = {
        .magic = SB_PLUGIN_MAGIC,
        .abi_major = SB_PLUGIN_ABI_MAJOR,
        .abi_minor = SB_PLUGIN_ABI_MINOR,
        .struct_size = sizeof(sb_plugin),
        .requires_minor = SB_PLUGIN_REQUIRES_MINOR,
        .name = FIXTURE_NAME,
        .version = "0.3.0",
        .vendor = "Secrets Bridge tests",
        .license = "Apache-2.0",
        .description = "GitOps ABI test fixture",
        .capabilities = SB_CAP_GITOPS,
        .thread_model = SB_THREAD_SERIAL,
        SB_PLUGIN_CONFIG(fields),
        .init = f_init,
        .instance_new = f_new,
        .instance_free = f_free,
        .gitops = &ops,
    };
#ifdef FIXTURE_V1_0
    d.abi_minor = 0;
#endif
    return &d;
}
