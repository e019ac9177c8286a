/*
 * plugins/vault/vault_kv.c — PROVIDER operations on a KV version 2 mount:
 * read, write (compare-and-set) and describe; the recursive list is in
 * vault_list.c. Shared helpers for secret metadata live here too.
 *
 * Contract:
 *   - Paths given by the host are relative to the configured `prefix`; the
 *     Vault path is `{kv_mount}/{data|metadata}/{prefix}{path}`, checked by
 *     vault_check_path so it can never leave the prefix.
 *   - read: `GET data/{p}[?version=N]`. 200: `data.data` becomes the bundle
 *     (host->bundle_from_json: strings as STRING, other JSON verbatim),
 *     `data.metadata.version` the CAS token, `created_time` the version
 *     time. 404 `{"errors":[]}`: SB_E_NOT_FOUND. 404 with the envelope and
 *     `data.data` null: SB_E_GONE with SB_VERSION_DELETED/DESTROYED in
 *     version->flags (and its number and time).
 *   - write: `POST data/{p}` with `{"options":{"cas":N},"data":{…}}`, N = 0
 *     for SB_CAS_CREATE, the read's version otherwise; a missing token is
 *     refused (the plugin declares SB_PROV_CAS). Vault's 400 "check-and-set
 *     parameter did not match the current version" is SB_E_CONFLICT. Only
 *     data/ is written: custom_metadata and other key metadata stay as they
 *     are. A SINGLE bundle is written as the one-key map {"value": …}.
 *   - describe: `GET metadata/{p}`: custom_metadata verbatim as labels,
 *     current_version, created/updated time, the current version's
 *     deleted/destroyed flags. The single emit's stop request is moot.
 * Every op validates its arguments before any I/O; on failure out-params
 * are NULL/empty and everything allocated is freed.
 */
#include "vault.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

sb_status vault_check_common(void *inst, const sb_call *call, sb_result *res, const char *op)
{
    if (res == NULL)
        return SB_E_INVALID;
    if (vault_host == NULL)
        return SB_E_INTERNAL; /* not initialised: nothing can report */
    if (inst == NULL)
        return vault_host->fail(res, SB_E_INVALID, 0, "%s: the instance is NULL", op);
    if (call == NULL)
        return vault_host->fail(res, SB_E_INVALID, 0, "%s: the call context is NULL", op);
    return SB_OK;
}

char *vault_kv_path(const vault_instance *vi, const char *section, const char *rel)
{
    vault_str s = {0};
    vault_str_add_path(&s, vi->kv_mount);
    vault_str_add(&s, "/");
    vault_str_add(&s, section);
    vault_str_add(&s, "/");
    vault_str_add_path(&s, vi->prefix);
    vault_str_add_path(&s, rel);
    if (s.failed) {
        vault_str_free(&s);
        return NULL;
    }
    return s.p;
}

static sb_status check_ref(const sb_secret_ref *ref, const char *op, sb_result *res)
{
    const sb_host_api *h = vault_host;
    if (ref == NULL)
        return h->fail(res, SB_E_INVALID, 0, "%s: the secret reference is NULL", op);
    if (!SB_HAS_FIELD(ref, sb_secret_ref, version))
        return h->fail(res, SB_E_INVALID, 0, "%s: the secret reference has struct_size %u, "
                       "expected at least %zu", op, (unsigned)ref->struct_size,
                       sizeof(sb_secret_ref));
    const char *why = vault_check_path(ref->path);
    if (why)
        return h->fail(res, SB_E_INVALID, 0, "%s: invalid secret path: %s", op, why);
    return SB_OK;
}

static sb_status check_version_out(sb_version_info *v, const char *op, sb_result *res)
{
    if (v == NULL)
        return vault_host->fail(res, SB_E_INVALID, 0, "%s: the version out-parameter is NULL", op);
    if (v->struct_size < sizeof(sb_version_info))
        return vault_host->fail(res, SB_E_INVALID, 0,
                                "%s: sb_version_info has struct_size %u, expected at least %zu",
                                op, (unsigned)v->struct_size, sizeof(sb_version_info));
    v->flags = 0;
    vault_host->text_set(v->version, "");
    v->created_unix_ms = 0;
    return SB_OK;
}

/* Fills version info from a KV version metadata object (read's
 * data.metadata, write's data). */
static void fill_version(const sb_json_node *meta, sb_version_info *v)
{
    const sb_host_api *h = vault_host;
    int64_t number = 0;
    if (h->json_int(h->json_pointer(meta, "/version"), &number) == 0 && number > 0)
        h->text_printf(v->version, "%lld", (long long)number);
    v->created_unix_ms =
        vault_parse_time_ms(h->json_string(h->json_pointer(meta, "/created_time"), NULL));
    const char *deleted = h->json_string(h->json_pointer(meta, "/deletion_time"), NULL);
    if (deleted && deleted[0])
        v->flags |= SB_VERSION_DELETED;
    if (h->json_type(h->json_pointer(meta, "/destroyed")) == SB_JSON_TRUE)
        v->flags |= SB_VERSION_DESTROYED;
}

static const char *version_or_latest(const sb_version_info *v)
{
    const char *s = vault_host->text_str(v->version, NULL);
    return s[0] ? s : "(latest)";
}

/* A 404 body: `{"errors":[]}` (never existed) or the full envelope of a
 * deleted/destroyed version. */
static sb_status read_not_found(const sb_http_response *resp, const sb_secret_ref *ref,
                                sb_version_info *v, sb_result *res)
{
    const sb_host_api *h = vault_host;
    sb_json *doc = NULL;
    sb_result ignored = SB_RESULT_INIT;
    size_t len = 0;
    const unsigned char *body = resp->body ? h->secure_data(resp->body, &len) : NULL;
    int parsed = body && len && h->json_parse(body, len, &doc, &ignored) == SB_OK;
    h->result_release(&ignored);
    if (parsed) {
        const sb_json_node *root = h->json_root(doc);
        const sb_json_node *meta = h->json_pointer(root, "/data/metadata");
        if (h->json_type(meta) == SB_JSON_OBJECT &&
            h->json_type(h->json_pointer(root, "/data/data")) == SB_JSON_NULL) {
            fill_version(meta, v);
            uint32_t flags = v->flags;
            h->json_free(doc);
            if (flags & SB_VERSION_DESTROYED)
                return h->fail(res, SB_E_GONE, 0, "read %s: version %s is destroyed", ref->path,
                               version_or_latest(v));
            if (flags & SB_VERSION_DELETED)
                return h->fail(res, SB_E_GONE, 0,
                               "read %s: version %s is deleted (it can be undeleted)", ref->path,
                               version_or_latest(v));
            v->flags = 0;
            h->text_set(v->version, "");
            v->created_unix_ms = 0;
            return h->fail(res, SB_E_PROTOCOL, 0,
                           "read %s: Vault answered 404 with metadata but no deletion", ref->path);
        }
    }
    h->json_free(doc);
    if (ref->version)
        return h->fail(res, SB_E_NOT_FOUND, 0, "read %s: version %s does not exist", ref->path,
                       ref->version);
    return h->fail(res, SB_E_NOT_FOUND, 0, "read %s: the secret does not exist", ref->path);
}

static sb_status kv_read(void *inst, const sb_call *call, const sb_secret_ref *ref,
                         sb_bundle **out, sb_version_info *version, sb_result *res)
{
    sb_status st = vault_check_common(inst, call, res, "read");
    if (st != SB_OK)
        return st;
    const sb_host_api *h = vault_host;
    if (out == NULL)
        return h->fail(res, SB_E_INVALID, 0, "read: the bundle out-parameter is NULL");
    *out = NULL;
    if ((st = check_version_out(version, "read", res)) != SB_OK ||
        (st = check_ref(ref, "read", res)) != SB_OK)
        return st;
    char query[40] = "";
    if (ref->version) {
        int64_t n = 0;
        if (vault_parse_version(ref->version, &n) != 0)
            return h->fail(res, SB_E_INVALID, 0,
                           "read %s: version must be a positive decimal number", ref->path);
        snprintf(query, sizeof query, "version=%lld", (long long)n);
    }
    vault_instance *vi = inst;
    char *path = vault_kv_path(vi, "data", ref->path);
    if (path == NULL)
        return h->fail(res, SB_E_INTERNAL, 0, "read: out of memory");
    vault_request rq = {.method = "GET", .path = path, .query = query[0] ? query : NULL,
                        .idempotent = 1, .metric_op = "kv_read"};
    sb_http_response resp;
    st = vault_call(vi, call, &rq, &resp, res);
    free(path);
    if (st != SB_OK)
        return st;
    if (resp.status == 404) {
        st = read_not_found(&resp, ref, version, res);
        h->http_response_free(&resp);
        return st;
    }
    if (resp.status != 200) {
        st = vault_fail_http(&resp, "read", res);
        h->http_response_free(&resp);
        return st;
    }
    sb_json *doc = NULL;
    st = vault_parse_body(&resp, &doc, "read", res);
    h->http_response_free(&resp);
    if (st != SB_OK)
        return st;
    const sb_json_node *root = h->json_root(doc);
    const sb_json_node *data = h->json_pointer(root, "/data/data");
    const sb_json_node *meta = h->json_pointer(root, "/data/metadata");
    if (h->json_type(data) != SB_JSON_OBJECT || h->json_type(meta) != SB_JSON_OBJECT) {
        h->json_free(doc);
        return h->fail(res, SB_E_PROTOCOL, 0,
                       "read %s: Vault's answer lacks data.data/data.metadata objects; is "
                       "kv_mount a KV version 2 mount?",
                       ref->path);
    }
    sb_bundle *bundle = NULL;
    st = h->bundle_from_json(data, &bundle, res);
    if (st != SB_OK) {
        h->json_free(doc);
        return st;
    }
    fill_version(meta, version);
    version->flags = 0;
    h->json_free(doc);
    if (h->text_str(version->version, NULL)[0] == '\0') {
        h->bundle_free(bundle);
        version->created_unix_ms = 0;
        return h->fail(res, SB_E_PROTOCOL, 0, "read %s: Vault's answer has no version number",
                       ref->path);
    }
    *out = bundle;
    return SB_OK;
}

/* Appends the bundle as the JSON object Vault stores under data. */
static sb_status append_data(const sb_bundle *values, sb_secure_buf *body, sb_result *res)
{
    const sb_host_api *h = vault_host;
    if (h->bundle_shape(values) != SB_SHAPE_SINGLE)
        return h->bundle_append_json(values, body, res);
    /* A raw single value is stored as {"value": ...}. */
    const char *key = NULL;
    sb_value_kind kind = SB_VALUE_STRING;
    const unsigned char *value = NULL;
    size_t len = 0;
    sb_bundle *map = h->bundle_new(SB_SHAPE_MAP);
    if (map == NULL)
        return h->fail(res, SB_E_INTERNAL, 0, "write: out of secure memory");
    if (h->bundle_count(values) == 1 &&
        (h->bundle_entry(values, 0, &key, &kind, &value, &len) != 0 ||
         h->bundle_put(map, key, kind, value, len) != 0)) {
        h->bundle_free(map);
        return h->fail(res, SB_E_INTERNAL, 0, "write: out of secure memory");
    }
    sb_status st = h->bundle_append_json(map, body, res);
    h->bundle_free(map);
    return st;
}

static sb_status kv_write(void *inst, const sb_call *call, const sb_secret_ref *ref,
                          const sb_bundle *values, const char *expected_version,
                          sb_version_info *new_version, sb_result *res)
{
    sb_status st = vault_check_common(inst, call, res, "write");
    if (st != SB_OK)
        return st;
    const sb_host_api *h = vault_host;
    if ((st = check_version_out(new_version, "write", res)) != SB_OK ||
        (st = check_ref(ref, "write", res)) != SB_OK)
        return st;
    if (values == NULL)
        return h->fail(res, SB_E_INVALID, 0, "write %s: the values bundle is NULL", ref->path);
    if (expected_version == NULL)
        return h->fail(res, SB_E_INVALID, 0,
                       "write %s: compare-and-set token required (the version from a read, "
                       "or SB_CAS_CREATE to create)",
                       ref->path);
    int64_t cas = 0;
    if (expected_version[0] != '\0' && vault_parse_version(expected_version, &cas) != 0)
        return h->fail(res, SB_E_INVALID, 0,
                       "write %s: compare-and-set token must be a version number from a read",
                       ref->path);

    vault_instance *vi = inst;
    sb_secure_buf *body = h->secure_new(256);
    if (body == NULL)
        return h->fail(res, SB_E_INTERNAL, 0, "write: out of secure memory");
    char head[64];
    int n = snprintf(head, sizeof head, "{\"options\":{\"cas\":%lld},\"data\":", (long long)cas);
    if (h->secure_append(body, head, (size_t)n) != 0) {
        h->secure_free(body);
        return h->fail(res, SB_E_INTERNAL, 0, "write: out of secure memory");
    }
    st = append_data(values, body, res);
    if (st == SB_OK && h->secure_append(body, "}", 1) != 0)
        st = h->fail(res, SB_E_INTERNAL, 0, "write: out of secure memory");
    char *path = st == SB_OK ? vault_kv_path(vi, "data", ref->path) : NULL;
    if (st == SB_OK && path == NULL)
        st = h->fail(res, SB_E_INTERNAL, 0, "write: out of memory");
    if (st != SB_OK) {
        h->secure_free(body);
        return st;
    }
    vault_request rq = {.method = "POST", .path = path, .body = body, .body_secret = 1,
                        .metric_op = "kv_write"};
    sb_http_response resp;
    st = vault_call(vi, call, &rq, &resp, res);
    h->secure_free(body);
    free(path);
    if (st != SB_OK)
        return st;
    if (resp.status != 200) {
        char what[VAULT_MAX_PATH + 16];
        snprintf(what, sizeof what, "write %s", ref->path);
        st = vault_fail_http(&resp, what, res);
        h->http_response_free(&resp);
        return st;
    }
    sb_json *doc = NULL;
    st = vault_parse_body(&resp, &doc, "write", res);
    h->http_response_free(&resp);
    if (st != SB_OK)
        return st;
    const sb_json_node *data = h->json_pointer(h->json_root(doc), "/data");
    fill_version(data, new_version);
    new_version->flags = 0;
    h->json_free(doc);
    if (h->text_str(new_version->version, NULL)[0] == '\0') {
        new_version->created_unix_ms = 0;
        return h->fail(res, SB_E_PROTOCOL, 0,
                       "write %s: Vault accepted the write but its answer has no version",
                       ref->path);
    }
    return SB_OK;
}

/* ---- metadata ------------------------------------------------------------ */

sb_status vault_kv_metadata_from_answer(const char *rel, const sb_http_response *resp, sb_json **doc,
                                       sb_result *res)
{
    const sb_host_api *h = vault_host;
    *doc = NULL;
    if (resp->status != 200) {
        char what[VAULT_MAX_PATH + 16];
        snprintf(what, sizeof what, "metadata %s", rel);
        return vault_fail_http(resp, what, res);
    }
    sb_status st = vault_parse_body(resp, doc, "metadata", res);
    if (st == SB_OK &&
        h->json_type(h->json_pointer(h->json_root(*doc), "/data")) != SB_JSON_OBJECT) {
        h->json_free(*doc);
        *doc = NULL;
        return h->fail(res, SB_E_PROTOCOL, 0, "metadata %s: Vault's answer has no data object",
                       rel);
    }
    return st;
}

sb_status vault_kv_get_metadata(vault_instance *vi, const sb_call *call, const char *rel,
                                sb_json **doc, sb_result *res)
{
    const sb_host_api *h = vault_host;
    *doc = NULL;
    char *path = vault_kv_path(vi, "metadata", rel);
    if (path == NULL)
        return h->fail(res, SB_E_INTERNAL, 0, "metadata: out of memory");
    vault_request rq = vault_kv_metadata_request(path);
    sb_http_response resp;
    sb_status st = vault_call(vi, call, &rq, &resp, res);
    free(path);
    if (st != SB_OK)
        return st;
    st = vault_kv_metadata_from_answer(rel, &resp, doc, res);
    h->http_response_free(&resp);
    return st;
}

vault_request vault_kv_metadata_request(const char *path)
{
    return (vault_request){.method = "GET", .path = path, .idempotent = 1, .metric_op = "kv_metadata"};
}

sb_status vault_kv_metadata_view(const sb_json *doc, const char *rel, vault_metadata_view *view,
                                 sb_result *res)
{
    const sb_host_api *h = vault_host;
    const sb_json_node *data = h->json_pointer(h->json_root(doc), "/data");
    memset(view, 0, sizeof *view);
    view->meta.struct_size = (uint32_t)sizeof view->meta;
    view->meta.path = rel;
    int64_t current = 0;
    if (h->json_int(h->json_pointer(data, "/current_version"), &current) == 0 && current > 0) {
        snprintf(view->version, sizeof view->version, "%lld", (long long)current);
        view->meta.version = view->version;
        char pointer[48];
        snprintf(pointer, sizeof pointer, "/versions/%lld", (long long)current);
        const sb_json_node *cur = h->json_pointer(data, pointer);
        const char *deleted = h->json_string(h->json_pointer(cur, "/deletion_time"), NULL);
        if (deleted && deleted[0]) {
            int64_t when = vault_parse_time_ms(deleted);
            if (when == 0 || when <= h->now_unix_ms())
                view->meta.flags |= SB_VERSION_DELETED;
        }
        if (h->json_type(h->json_pointer(cur, "/destroyed")) == SB_JSON_TRUE)
            view->meta.flags |= SB_VERSION_DESTROYED;
    }
    view->meta.created_unix_ms =
        vault_parse_time_ms(h->json_string(h->json_pointer(data, "/created_time"), NULL));
    view->meta.updated_unix_ms =
        vault_parse_time_ms(h->json_string(h->json_pointer(data, "/updated_time"), NULL));

    const sb_json_node *custom = h->json_pointer(data, "/custom_metadata");
    sb_json_type type = h->json_type(custom);
    if (type == SB_JSON_NULL || type == SB_JSON_MISSING)
        return SB_OK;
    if (type != SB_JSON_OBJECT)
        return h->fail(res, SB_E_PROTOCOL, 0, "metadata %s: custom_metadata is not an object",
                       rel);
    size_t n = h->json_count(custom);
    if (n == 0)
        return SB_OK;
    view->labels = calloc(n, sizeof *view->labels);
    if (view->labels == NULL)
        return h->fail(res, SB_E_INTERNAL, 0, "metadata: out of memory");
    for (size_t i = 0; i < n; i++) {
        const char *key = NULL;
        const char *value = h->json_string(h->json_member(custom, i, &key), NULL);
        if (key == NULL || value == NULL) {
            vault_kv_metadata_view_free(view);
            return h->fail(res, SB_E_PROTOCOL, 0,
                           "metadata %s: a custom_metadata value is not a string", rel);
        }
        view->labels[i].key = key;
        view->labels[i].value = value;
    }
    view->meta.labels = view->labels;
    view->meta.n_labels = n;
    return SB_OK;
}

void vault_kv_metadata_view_free(vault_metadata_view *view)
{
    free(view->labels);
    view->labels = NULL;
    view->meta.labels = NULL;
    view->meta.n_labels = 0;
}

static sb_status kv_describe(void *inst, const sb_call *call, const sb_secret_ref *ref,
                             sb_metadata_sink emit, void *sink, sb_result *res)
{
    sb_status st = vault_check_common(inst, call, res, "describe");
    if (st != SB_OK)
        return st;
    const sb_host_api *h = vault_host;
    if ((st = check_ref(ref, "describe", res)) != SB_OK)
        return st;
    if (emit == NULL)
        return h->fail(res, SB_E_INVALID, 0, "describe: the emit callback is NULL");
    sb_json *doc = NULL;
    st = vault_kv_get_metadata(inst, call, ref->path, &doc, res);
    if (st != SB_OK)
        return st;
    vault_metadata_view view;
    st = vault_kv_metadata_view(doc, ref->path, &view, res);
    if (st == SB_OK) {
        (void)emit(sink, &view.meta); /* one item: a stop request changes nothing */
        vault_kv_metadata_view_free(&view);
    }
    h->json_free(doc);
    return st;
}

/* vault_list.c */
sb_status vault_kv_list(void *inst, const sb_call *call, const sb_list_query *query,
                        sb_metadata_sink emit, void *sink, sb_text *next_cursor, sb_result *res);

const sb_provider_ops vault_provider_ops = {
    .struct_size = (uint32_t)sizeof(sb_provider_ops),
    .read = kv_read,
    .write = kv_write,
    .describe = kv_describe,
    .list = vault_kv_list,
};
