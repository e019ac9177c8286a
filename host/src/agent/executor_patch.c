/*
 * agent/executor_patch.c — the patch executor (SPEC §9, I2, I3, I10; issue
 * 10 item 7).
 *
 * Contract: the claim answer carries "sealed_values":[{"key","box"}], each
 * box sealed to this agent's public key; every box must open (else the job
 * fails permanently: sealed for another key, or altered). Then GET–merge–PUT
 * with compare-and-set: the provider reads the secret (not found: a new
 * secret, written with SB_CAS_CREATE), the opened values replace their
 * keys — an existing key keeps its value kind (string, binary, json), new
 * keys are strings, untouched keys stay as they are — and the provider
 * writes with the version it read as expected_version. SB_E_CONFLICT (a
 * writer in between) re-reads and re-merges, at most MERGE_ATTEMPTS times.
 * Labels/tags are the plugin's to keep (ABI: write leaves metadata it does
 * not own untouched). Opened values and bundles live only in secure memory
 * and are zeroed on every path.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/agent_internal.h"
#include "agent/dispatch.h"
#include "agent/sealing.h"
#include "plugin/bundle.h"
#include "plugin/status.h"
#include "plugin/text.h"

#define MERGE_ATTEMPTS 5
#define VALUES_MAX 64

typedef struct opened {
    const char *key; /* borrowed from the claim answer */
    sb_secure_buf *value;
} opened;

static sb_agent_outcome from_status(sb_status st)
{
    return SB_STATUS_IS_RETRYABLE(st) ? SB_AGENT_FAILED_RETRYABLE : SB_AGENT_FAILED_PERMANENT;
}

/* Opens every sealed value; 0, or -1 with error set. */
static int open_all(const sb_agent_job *job, opened *v, size_t *n, char *error, size_t cap)
{
    const sb_json_node *list = sb_json_get(job->job, "sealed_values");
    *n = 0;
    if (sb_json_type_of(list) != SB_JSON_ARRAY || sb_json_count(list) == 0 ||
        sb_json_count(list) > VALUES_MAX)
        return snprintf(error, cap, "patch job without sealed_values (1 to %d)", VALUES_MAX), -1;
    for (size_t i = 0; i < sb_json_count(list); i++) {
        const sb_json_node *e = sb_json_member(list, i, NULL);
        size_t len;
        const char *key = sb_json_string(sb_json_get(e, "key"), &len);
        const char *box = sb_json_string(sb_json_get(e, "box"), &len);
        sb_error err = {0};
        if (key == NULL || *key == '\0' || box == NULL)
            return snprintf(error, cap, "sealed value %zu has no key or box", i), -1;
        if (sb_agent_open(&job->agent->identity, box, &v[*n].value, &err) != 0)
            return snprintf(error, cap, "key %.100s: %.180s", key, err.message), -1;
        v[(*n)++].key = key;
    }
    return 0;
}

/* The current bundle (a new MAP one when the secret does not exist) and its version. */
static sb_status read_current(const sb_agent_job *job, sb_instance *inst, const sb_secret_ref *ref,
                              sb_bundle **b, sb_text *version, int *created, sb_result *res)
{
    sb_version_info vi = {sizeof vi, 0, version, 0};
    *b = NULL;
    *created = 0;
    sb_status st = sb_agent_provider_read(job, inst, ref, b, &vi, res);
    if (st == SB_E_NOT_FOUND) {
        sb_result_release(res);
        *b = sb_bundle_new(SB_SHAPE_MAP);
        *created = 1;
        return *b ? SB_OK : SB_E_INTERNAL;
    }
    if (st == SB_OK && *b == NULL)
        st = SB_E_PROTOCOL;
    return st;
}

/* Puts each opened value into b, keeping an existing key's kind. */
static int merge(sb_bundle *b, const opened *v, size_t n, char *error, size_t cap)
{
    for (size_t i = 0; i < n; i++) {
        sb_value_kind kind = SB_VALUE_STRING;
        int at = sb_bundle_find(b, v[i].key);
        if (at >= 0) {
            const char *k;
            const unsigned char *old;
            size_t old_len;
            sb_bundle_entry(b, (size_t)at, &k, &kind, &old, &old_len);
        }
        size_t len;
        const unsigned char *data = sb_secure_data(v[i].value, &len);
        if (sb_bundle_put(b, v[i].key, kind, data, len) != 0)
            return snprintf(error, cap,
                            "the new value of key %.100s does not fit the secret (its kind, or a "
                            "single-value secret whose only key is 'value')",
                            v[i].key),
                   -1;
    }
    return 0;
}

static sb_agent_outcome get_merge_put(const sb_agent_job *job, sb_instance *inst, const char *path,
                                      const opened *v, size_t n, char *error, size_t cap)
{
    sb_secret_ref ref = {sizeof ref, 0, path, NULL};
    for (int attempt = 1; attempt <= MERGE_ATTEMPTS; attempt++) {
        sb_text *version = sb_text_new(), *written = sb_text_new();
        sb_result res = SB_RESULT_INIT;
        sb_bundle *b = NULL;
        int created = 0;
        sb_status st = read_current(job, inst, &ref, &b, version, &created, &res);
        const char *op = "read";
        if (st == SB_OK && merge(b, v, n, error, cap) != 0) {
            sb_bundle_free(b);
            sb_text_free(version);
            sb_text_free(written);
            sb_result_release(&res);
            return SB_AGENT_FAILED_PERMANENT;
        }
        if (st == SB_OK) {
            op = "write";
            const char *expected = created ? SB_CAS_CREATE : sb_text_str(version, NULL);
            sb_version_info nv = {sizeof nv, 0, written, 0};
            st = sb_agent_provider_write(job, inst, &ref, b, expected, &nv, &res);
        }
        sb_bundle_free(b); /* zeroes every value */
        sb_text_free(version);
        sb_text_free(written);
        if (st == SB_OK) {
            sb_result_release(&res);
            return SB_AGENT_SUCCEEDED;
        }
        if (st != SB_E_CONFLICT || attempt == MERGE_ATTEMPTS) {
            snprintf(error, cap, "provider %s of %.100s failed with %s%s: %.120s", op, path,
                     sb_plugin_status_name(st),
                     st == SB_E_CONFLICT ? " on every merge attempt" : "",
                     res.message && res.message[0] ? res.message : "no detail");
            sb_result_release(&res);
            return st == SB_E_CONFLICT ? SB_AGENT_FAILED_RETRYABLE : from_status(st);
        }
        sb_result_release(&res); /* a writer in between: read and merge again */
    }
    return SB_AGENT_FAILED_RETRYABLE;
}

sb_agent_outcome sb_agent_execute_patch(const sb_agent_job *job, char *error, size_t cap)
{
    size_t len;
    const char *path = sb_json_string(sb_json_get(job->payload, "secret_ref"), &len);
    if (path == NULL || *path == '\0') {
        snprintf(error, cap, "patch payload needs secret_ref");
        return SB_AGENT_FAILED_PERMANENT;
    }
    sb_instance *inst = sb_agent_job_provider(job);
    if (inst == NULL || inst->handle == NULL) {
        snprintf(error, cap, "no started provider instance serves this connection on this agent");
        return SB_AGENT_FAILED_PERMANENT;
    }
    const sb_plugin *d = inst->plugin->loaded.desc;
    uint64_t need = SB_PROV_READ | SB_PROV_WRITE | SB_PROV_CAS;
    if ((d->provider_features & need) != need || d->provider == NULL || d->provider->read == NULL ||
        d->provider->write == NULL) {
        snprintf(error, cap, "provider instance %s (plugin %s) cannot read, write and compare-and-set",
                 inst->name, d->name);
        return SB_AGENT_FAILED_PERMANENT;
    }
    opened v[VALUES_MAX];
    size_t n = 0;
    sb_agent_outcome o = SB_AGENT_FAILED_PERMANENT;
    if (open_all(job, v, &n, error, cap) == 0)
        o = get_merge_put(job, inst, path, v, n, error, cap);
    for (size_t i = 0; i < n; i++)
        sb_secure_free(v[i].value);
    return o;
}
