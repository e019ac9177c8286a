/* plugin/gitops_client.c — see gitops_client.h. */
#include "plugin/gitops_client.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/diag.h"
#include "config/yaml_doc.h"
#include "plugin/host_api.h"
#include "plugin/instance_config.h"
#include "plugin/status.h"
#include "plugin/text.h"

const sb_plugin_slot *sb_gitops_client_plugin(const sb_registry *r, const char *name,
                                              sb_error *err)
{
    for (size_t i = 0; r && name && i < r->n_plugins; i++) {
        const sb_plugin_slot *s = &r->plugins[i];
        if (strcmp(s->loaded.desc->name, name) != 0)
            continue;
        if (!(s->loaded.desc->capabilities & SB_CAP_GITOPS) || s->loaded.desc->gitops == NULL) {
            sb_error_set(err, SB_E_INVALID, "plugin %s has no gitops capability", name);
            return NULL;
        }
        if (!s->initialized) {
            sb_error_set(err, SB_E_INVALID, "plugin %s is not started", name);
            return NULL;
        }
        return s;
    }
    sb_error_set(err, SB_E_INVALID,
                 "plugin %s is not loaded: list it under plugins.load with capabilities [gitops]",
                 name ? name : "(none)");
    return NULL;
}

const char *sb_gitops_evidence_name(sb_gitops_evidence e)
{
    switch (e) {
    case SB_GITOPS_NO_EVIDENCE:
        return "none";
    case SB_GITOPS_ROLLING:
        return "rolling";
    case SB_GITOPS_APPLIED:
        return "applied";
    case SB_GITOPS_FAILED:
        return "failed";
    default:
        return NULL;
    }
}

/* ---- the per-call instance --------------------------------------------------- */

static sb_ynode *scalar(const char *text)
{
    sb_ynode *n = calloc(1, sizeof *n);
    if (n == NULL || (n->text = strdup(text)) == NULL) {
        free(n);
        return NULL;
    }
    n->kind = SB_YNODE_SCALAR;
    n->text_len = strlen(text);
    n->quoted = 1;
    return n;
}

static int put(sb_ynode *map, const char *key, const char *value)
{
    if (value == NULL)
        return 0;
    sb_ynode **k = realloc(map->keys, (map->n + 1) * sizeof *k);
    if (k == NULL)
        return -1;
    map->keys = k;
    sb_ynode **v = realloc(map->values, (map->n + 1) * sizeof *v);
    if (v == NULL)
        return -1;
    map->values = v;
    sb_ynode *kn = scalar(key), *vn = scalar(value);
    if (kn == NULL || vn == NULL) {
        sb_yaml_free(kn);
        sb_yaml_free(vn);
        return -1;
    }
    map->keys[map->n] = kn;
    map->values[map->n++] = vn;
    return 0;
}

/* The endpoint as the config mapping an operator would write in YAML;
 * freed with sb_yaml_free, which zeroes the token's copy. */
static sb_ynode *target_config(const sb_gitops_target *t)
{
    sb_ynode *map = calloc(1, sizeof *map);
    if (map == NULL)
        return NULL;
    map->kind = SB_YNODE_MAP;
    if (put(map, "base_url", t->base_url) != 0 || put(map, "token", t->token) != 0 ||
        put(map, "project", t->project) != 0 || put(map, "ca_file", t->ca_file) != 0 ||
        put(map, "tls_server_name", t->tls_server_name) != 0) {
        sb_yaml_free(map);
        return NULL;
    }
    return map;
}

typedef struct gitops_call {
    const sb_plugin *d;
    const sb_gitops_target *t;
    const char *op;
    sb_config *cfg;
    void *inst;
    sb_call_ctx ctx;
    sb_result res;
} gitops_call;

static int begin(gitops_call *c, const sb_plugin_slot *plugin, const sb_gitops_target *t,
                 const char *application, const char *op, sb_error *err)
{
    memset(c, 0, sizeof *c);
    c->res = (sb_result)SB_RESULT_INIT;
    c->t = t;
    c->op = op;
    if (plugin == NULL || !plugin->initialized || plugin->loaded.desc->gitops == NULL || t == NULL ||
        t->base_url == NULL || t->token == NULL || application == NULL)
        return sb_error_set(err, SB_E_INVALID,
                            "gitops %s: a started GitOps plugin, an endpoint with a URL and a "
                            "token, and an application are required",
                            op);
    c->d = plugin->loaded.desc;
    sb_ynode *node = target_config(t);
    if (node == NULL)
        return sb_error_set(err, SB_E_INTERNAL, "gitops %s: out of memory", op);
    sb_diags diags;
    sb_diags_init(&diags, "argocd endpoint");
    size_t errors = sb_instance_config_build(c->d, t->endpoint_name, node, "endpoint", &diags,
                                             &c->cfg);
    sb_yaml_free(node);
    if (errors != 0 || c->cfg == NULL) {
        char first[300] = "";
        for (size_t i = 0; i < diags.n; i++) {
            if (diags.items[i].severity == SB_DIAG_ERROR) {
                sb_diags_format(&diags, i, first, sizeof first);
                break;
            }
        }
        sb_diags_free(&diags);
        sb_instance_config_free(c->cfg);
        c->cfg = NULL;
        return sb_error_set(err, SB_E_CONFIG, "argocd endpoint %s: plugin %s refused its settings: %s",
                            t->endpoint_name, c->d->name, first);
    }
    sb_diags_free(&diags);
    sb_status st = c->d->instance_new(c->cfg, &c->inst, &c->res);
    if (st != SB_OK) {
        c->inst = NULL;
        sb_error_set(err, st, "argocd endpoint %s: plugin %s refused its settings (%s): %s",
                     t->endpoint_name, c->d->name, sb_plugin_status_name(st),
                     c->res.message[0] ? c->res.message : "(no message)");
        sb_result_release(&c->res);
        sb_instance_config_free(c->cfg);
        c->cfg = NULL;
        return -1;
    }
    sb_result_release(&c->res);
    c->res = (sb_result)SB_RESULT_INIT;
    sb_call_begin(&c->ctx, c->d->name, t->endpoint_name, NULL, SB_GITOPS_CLIENT_TIMEOUT_MS);
    return 0;
}

static void end(gitops_call *c)
{
    if (c->inst)
        c->d->instance_free(c->inst);
    c->inst = NULL;
    sb_instance_config_free(c->cfg);
    c->cfg = NULL;
    sb_result_release(&c->res);
}

static int failed(gitops_call *c, const char *application, sb_status st, sb_error *err)
{
    const char *msg = c->res.status == st && c->res.message[0] ? c->res.message : "(no message)";
    sb_error_set(err, st, "argocd endpoint %s: %s of %s failed with %s (%s): %s",
                 c->t->endpoint_name, c->op, application, sb_plugin_status_name(st),
                 SB_STATUS_IS_RETRYABLE(st) ? "retryable" : "permanent", msg);
    end(c);
    return -1;
}

int sb_gitops_client_baseline(const sb_plugin_slot *plugin, const sb_gitops_target *t,
                              const char *application, char **state, sb_error *err)
{
    *state = NULL;
    gitops_call c;
    if (begin(&c, plugin, t, application, "baseline", err) != 0)
        return -1;
    sb_text *text = sb_text_new();
    if (text == NULL) {
        end(&c);
        return sb_error_set(err, SB_E_INTERNAL, "gitops baseline: out of memory");
    }
    sb_status st = c.d->gitops->baseline(c.inst, &c.ctx.call, application, text, &c.res);
    if (st != SB_OK) {
        sb_text_free(text);
        return failed(&c, application, st, err);
    }
    end(&c);
    if (sb_text_cstr(text)[0] == '\0') {
        sb_text_free(text);
        return sb_error_set(err, SB_E_PROTOCOL, "argocd endpoint %s: baseline of %s was empty",
                            t->endpoint_name, application);
    }
    *state = sb_text_take(text);
    sb_text_free(text);
    return *state ? 0 : sb_error_set(err, SB_E_INTERNAL, "gitops baseline: out of memory");
}

int sb_gitops_client_observe(const sb_plugin_slot *plugin, const sb_gitops_target *t,
                             const char *application, const char *baseline,
                             int64_t changed_unix_ms, sb_gitops_evidence *evidence, char **detail,
                             sb_error *err)
{
    *detail = NULL;
    *evidence = SB_GITOPS_NO_EVIDENCE;
    gitops_call c;
    if (begin(&c, plugin, t, application, "observe", err) != 0)
        return -1;
    sb_gitops_observation out = {.struct_size = sizeof out, .detail = sb_text_new()};
    if (out.detail == NULL) {
        end(&c);
        return sb_error_set(err, SB_E_INTERNAL, "gitops observe: out of memory");
    }
    sb_status st = c.d->gitops->observe(c.inst, &c.ctx.call, application, baseline,
                                        changed_unix_ms, &out, &c.res);
    if (st != SB_OK) {
        sb_text_free(out.detail);
        return failed(&c, application, st, err);
    }
    end(&c);
    if (sb_gitops_evidence_name(out.evidence) == NULL) {
        sb_text_free(out.detail);
        return sb_error_set(err, SB_E_PROTOCOL,
                            "argocd endpoint %s: observe of %s answered an unknown evidence %d",
                            t->endpoint_name, application, (int)out.evidence);
    }
    *evidence = out.evidence;
    *detail = sb_text_take(out.detail);
    sb_text_free(out.detail);
    return *detail ? 0 : sb_error_set(err, SB_E_INTERNAL, "gitops observe: out of memory");
}

int sb_gitops_client_check(const sb_plugin_slot *plugin, const sb_gitops_target *t, sb_error *err)
{
    gitops_call c;
    if (begin(&c, plugin, t, "(none)", "settings check", err) != 0)
        return -1;
    end(&c);
    return 0;
}

/* ---- list_applications (ABI 1.1) ------------------------------------------------ */

#define APP_TEXT_MAX 512

int sb_gitops_client_can_list(const sb_plugin_slot *plugin, sb_error *err)
{
    if (plugin == NULL || plugin->loaded.desc->gitops == NULL)
        return sb_error_set(err, SB_E_INVALID, "no GitOps plugin is started"), 0;
    const sb_plugin *d = plugin->loaded.desc;
    if (!SB_HAS_FIELD(d->gitops, sb_gitops_ops, list_applications))
        return sb_error_set(err, SB_E_UNSUPPORTED,
                            "this GitOps plugin (%s %s, built for ABI %u.%u) cannot list "
                            "applications: listing was added in ABI 1.1; upgrade it to a version "
                            "built for ABI 1.1 or later (type the application's name meanwhile)",
                            d->name, d->version, d->abi_major, d->abi_minor),
               0;
    if (d->gitops->list_applications == NULL)
        return sb_error_set(err, SB_E_UNSUPPORTED,
                            "this GitOps plugin (%s %s, built for ABI %u.%u) does not implement "
                            "application listing (its list_applications is NULL); upgrade it to "
                            "a version that does (type the application's name meanwhile)",
                            d->name, d->version, d->abi_major, d->abi_minor),
               0;
    return 1;
}

typedef struct app_sink {
    json_t *items;
    size_t max;
    int truncated;
} app_sink;

/* A JSON string of a reported field, or null (absent, too long, not UTF-8). */
static json_t *app_text(const char *s)
{
    if (s == NULL)
        return json_null();
    size_t n = strnlen(s, APP_TEXT_MAX + 1);
    json_t *v = n <= APP_TEXT_MAX ? json_stringn(s, n) : NULL;
    return v ? v : json_null();
}

static int collect_app(void *p, const sb_gitops_app *a)
{
    app_sink *s = p;
    if (json_array_size(s->items) >= s->max) {
        s->truncated = 1;
        return 1; /* stop: the plugin returns SB_E_CANCELLED */
    }
    if (a == NULL || !SB_HAS_FIELD(a, sb_gitops_app, health_status) || a->name == NULL)
        return 0; /* not an application this host can show */
    json_t *name = app_text(a->name);
    if (json_is_null(name))
        return 0;
    json_array_append_new(s->items,
                          json_pack("{s:o, s:o, s:o, s:o, s:o, s:o}", "name", name, "project",
                                    app_text(a->project), "namespace", app_text(a->dest_namespace),
                                    "destination", app_text(a->dest_server), "sync_status",
                                    app_text(a->sync_status), "health_status",
                                    app_text(a->health_status)));
    return 0;
}

int sb_gitops_client_list(const sb_plugin_slot *plugin, const sb_gitops_target *t,
                          const char *project, size_t max, json_t **items, int *truncated,
                          sb_error *err)
{
    *items = NULL;
    *truncated = 0;
    if (!sb_gitops_client_can_list(plugin, err))
        return -1;
    char scope[300];
    snprintf(scope, sizeof scope, "the applications of %.200s", project ? project : "every project");
    gitops_call c;
    if (begin(&c, plugin, t, scope, "listing", err) != 0)
        return -1;
    app_sink sink = {json_array(), max, 0};
    sb_gitops_app_query query = {sizeof query, 0, project};
    sb_status st = c.d->gitops->list_applications(c.inst, &c.ctx.call, &query, collect_app, &sink,
                                                  &c.res);
    if (st != SB_OK && !(st == SB_E_CANCELLED && sink.truncated)) {
        json_decref(sink.items);
        return failed(&c, scope, st, err);
    }
    end(&c);
    *items = sink.items;
    *truncated = sink.truncated;
    return 0;
}
