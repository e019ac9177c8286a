/*
 * plugin/gitops_client.h — how the control plane calls a GITOPS plugin for
 * one Argo CD endpoint stored at the control plane.
 *
 * Contract: the plugin ABI gives a GITOPS plugin its endpoint and token
 * only through an instance config. Endpoints live in the database, their
 * token KMS-wrapped, so each call here makes a short-lived instance: the
 * endpoint's fields and the token (unwrapped by the caller into secure
 * memory just for this call) become the instance's config (validated by
 * the plugin's own schema, exactly as a YAML instance; the token is a
 * SECRET field and so stays in secure memory and is registered for
 * redaction), instance_new, one baseline, observe or (ABI 1.1)
 * list_applications call with a deadline of SB_GITOPS_CLIENT_TIMEOUT_MS,
 * instance_free, and the config (whose text is zeroed) is freed. Nothing
 * of the token outlives the call.
 *
 * On failure the functions return -1 and fill err: code is the plugin's
 * sb_status (SB_E_CONFIG for a config its schema refused, SB_E_INVALID for
 * a bad argument or a plugin that is not an initialised GITOPS plugin);
 * the message names the endpoint, the operation and the status and quotes
 * the plugin's redacted explanation, never the token.
 */
#ifndef SB_PLUGIN_GITOPS_CLIENT_H
#define SB_PLUGIN_GITOPS_CLIENT_H

#include <jansson.h>
#include <sbridge/plugin.h>
#include <stdint.h>

#include "plugin/registry.h"
#include "util/error.h"

#define SB_GITOPS_CLIENT_TIMEOUT_MS 30000

/* One endpoint as the plugin's config sees it. Optional fields may be
 * NULL; token is NUL-terminated in secure memory. */
typedef struct sb_gitops_target {
    const char *endpoint_name; /* the instance name in messages */
    const char *base_url, *project, *ca_file, *tls_server_name;
    const char *token;
} sb_gitops_target;

/* The loaded, initialised plugin `name` of r if it has the GITOPS
 * capability; NULL otherwise (err says which). */
const sb_plugin_slot *sb_gitops_client_plugin(const sb_registry *r, const char *name,
                                              sb_error *err);

/* Builds the instance for t and frees it again, calling nothing: the
 * plugin's own verdict on the endpoint's settings (SB_E_CONFIG, or its
 * instance_new status, with its message). */
int sb_gitops_client_check(const sb_plugin_slot *plugin, const sb_gitops_target *t, sb_error *err);

/* baseline(application): *state (malloc'd) is the plugin's opaque text. */
int sb_gitops_client_baseline(const sb_plugin_slot *plugin, const sb_gitops_target *t,
                              const char *application, char **state, sb_error *err);

/* observe(application, baseline, changed_unix_ms): *detail malloc'd. */
int sb_gitops_client_observe(const sb_plugin_slot *plugin, const sb_gitops_target *t,
                             const char *application, const char *baseline,
                             int64_t changed_unix_ms, sb_gitops_evidence *evidence, char **detail,
                             sb_error *err);

/* 1 when the plugin can list applications (ABI 1.1's list_applications:
 * its gitops vtable's struct_size covers the slot and the slot is set);
 * else 0 and err (SB_E_UNSUPPORTED) says which plugin, what ABI it was
 * built for and to upgrade it. */
int sb_gitops_client_can_list(const sb_plugin_slot *plugin, sb_error *err);

/* list_applications(project; NULL: all the endpoint may see): at most
 * `max` applications into *items (a new JSON array of objects {name,
 * project, namespace, destination, sync_status, health_status}, null for
 * what the plugin did not report; strings over 512 bytes or not UTF-8
 * are null too), in the plugin's order; *truncated is 1 when there were
 * more. A plugin that cannot list fails as sb_gitops_client_can_list. */
int sb_gitops_client_list(const sb_plugin_slot *plugin, const sb_gitops_target *t,
                          const char *project, size_t max, json_t **items, int *truncated,
                          sb_error *err);

/* "none", "rolling", "applied", "failed" (NULL for anything else). */
const char *sb_gitops_evidence_name(sb_gitops_evidence e);

#endif
