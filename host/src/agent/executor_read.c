/*
 * agent/executor_read.c — the read executor (SPEC §9, §10; issue 10 item 7).
 *
 * Contract: payload {request_id, secret_ref, keys, operation:"read",
 * read_public_key}. The provider instance serving the connection reads the
 * secret (current version) through its vtable (the instance lock held for
 * SB_THREAD_SERIAL plugins); every requested key must be present — a
 * missing one fails the job permanently, never a partial success; each
 * selected value is sealed with crypto_box_seal to read_public_key and the
 * job succeeds with "results":[{"key","kind","box"}]. Values live only in
 * the plugin's bundle (secure memory), freed (zeroed) on every path.
 * Provider failures keep their class: retryable statuses complete
 * failed_retryable, the others failed_permanent; messages name the key or
 * the status, never a value.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/agent_internal.h"
#include "agent/dispatch.h"
#include "agent/sealing.h"
#include "crypto/sealed_box.h"
#include "plugin/bundle.h"
#include "plugin/status.h"
#include "plugin/text.h"

static const char *kind_name(sb_value_kind k)
{
    return k == SB_VALUE_BINARY ? "binary" : k == SB_VALUE_JSON ? "json" : "string";
}

/* Provider read of ref through inst; *out the bundle (caller frees). */
static sb_agent_outcome provider_read(const sb_agent_job *job, sb_instance *inst, const char *ref,
                                      sb_bundle **out, char *error, size_t cap)
{
    const sb_plugin *d = inst->plugin->loaded.desc;
    if (!(d->provider_features & SB_PROV_READ) || d->provider == NULL || d->provider->read == NULL) {
        snprintf(error, cap, "provider instance %s (plugin %s) cannot read", inst->name, d->name);
        return SB_AGENT_FAILED_PERMANENT;
    }
    sb_secret_ref r = {sizeof r, 0, ref, NULL};
    sb_version_info v = {sizeof v, 0, sb_text_new(), 0};
    sb_result res = SB_RESULT_INIT;
    sb_status st = sb_agent_provider_read(job, inst, &r, out, &v, &res);
    sb_text_free(v.version);
    if (st == SB_OK && *out == NULL)
        st = SB_E_PROTOCOL;
    if (st != SB_OK) {
        sb_bundle_free(*out);
        *out = NULL;
        snprintf(error, cap, "provider read of %.100s failed with %s: %.120s", ref,
                 sb_plugin_status_name(st), res.message && res.message[0] ? res.message : "no detail");
        sb_result_release(&res);
        return SB_STATUS_IS_RETRYABLE(st) ? SB_AGENT_FAILED_RETRYABLE : SB_AGENT_FAILED_PERMANENT;
    }
    sb_result_release(&res);
    return SB_AGENT_SUCCEEDED;
}

/* Seals each requested key of b into results; fails on the first missing key. */
static sb_agent_outcome seal_keys(const sb_bundle *b, const sb_json_node *keys, const char *pk,
                                  json_t *results, char *error, size_t cap)
{
    for (size_t i = 0; i < sb_json_count(keys); i++) {
        size_t klen;
        const char *key = sb_json_string(sb_json_member(keys, i, NULL), &klen);
        int at = key ? sb_bundle_find(b, key) : -1;
        if (at < 0) {
            snprintf(error, cap, "requested key %.100s is not in the secret; nothing was returned",
                     key ? key : "(not a string)");
            return SB_AGENT_FAILED_PERMANENT;
        }
        const char *k;
        sb_value_kind kind;
        const unsigned char *value;
        size_t len;
        sb_bundle_entry(b, (size_t)at, &k, &kind, &value, &len);
        char *box = NULL;
        sb_error err = {0};
        if (sb_sealed_box_seal(pk, value, len, &box, &err) != 0) {
            snprintf(error, cap, "cannot seal key %.100s: %.150s", key, err.message);
            return SB_AGENT_FAILED_PERMANENT;
        }
        json_array_append_new(results, json_pack("{s:s, s:s, s:s}", "key", key, "kind",
                                                 kind_name(kind), "box", box));
        free(box);
    }
    return SB_AGENT_SUCCEEDED;
}

sb_agent_outcome sb_agent_execute_read(const sb_agent_job *job, char *error, size_t cap)
{
    size_t len;
    const char *ref = sb_json_string(sb_json_get(job->payload, "secret_ref"), &len);
    const char *pk = sb_json_string(sb_json_get(job->payload, "read_public_key"), &len);
    const sb_json_node *keys = sb_json_get(job->payload, "keys");
    if (ref == NULL || *ref == '\0' || pk == NULL || sb_json_type_of(keys) != SB_JSON_ARRAY ||
        sb_json_count(keys) == 0) {
        snprintf(error, cap, "read payload needs secret_ref, a non-empty keys array and "
                             "read_public_key");
        return SB_AGENT_FAILED_PERMANENT;
    }
    sb_instance *inst = sb_agent_job_provider(job);
    if (inst == NULL || inst->handle == NULL) {
        snprintf(error, cap, "no started provider instance serves this connection on this agent");
        return SB_AGENT_FAILED_PERMANENT;
    }
    sb_bundle *b = NULL;
    sb_agent_outcome o = provider_read(job, inst, ref, &b, error, cap);
    if (o != SB_AGENT_SUCCEEDED)
        return o;
    json_t *results = json_array();
    o = seal_keys(b, keys, pk, results, error, cap);
    sb_bundle_free(b); /* zeroes every value */
    if (o == SB_AGENT_SUCCEEDED)
        json_object_set(job->completion, "results", results);
    json_decref(results);
    return o;
}
