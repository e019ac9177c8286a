/*
 * plugins/gcpsm/gcpsm_secrets.c — PROVIDER read, write and describe.
 *
 * Contract:
 *   read      `versions/{v}:access` (ref->version: a number, an alias or
 *             "latest"; NULL: the newest *enabled* version — `latest` first,
 *             and when the newest version is DISABLED or DESTROYED, the newest
 *             ENABLED one found with `filter=state:ENABLED`). The base64
 *             payload is decoded into secure memory and its dataCrc32c checked
 *             (a mismatch is SB_E_PROTOCOL: corrupted in transit). A payload
 *             holding a JSON object -> MAP bundle; any other payload -> SINGLE
 *             "value", STRING when it is UTF-8, else BINARY. The version info
 *             is the concrete version number from the answer's name. A version
 *             that is DISABLED or DESTROYED -> SB_E_GONE with version->flags
 *             SB_VERSION_DELETED (disabled: can be enabled again) or
 *             SB_VERSION_DESTROYED.
 *   write     compare-and-set as far as Secret Manager allows (addVersion
 *             takes no etag): the newest ENABLED version must still be
 *             `expected` (else SB_E_CONFLICT), then `:addVersion` with the
 *             payload and its CRC32C. The form is kept: a MAP bundle is
 *             written as its JSON object text, a SINGLE one as its raw bytes.
 *             The window between the check and the add is not closed: a
 *             writer that adds a version inside it is detected afterwards
 *             (our version is not newest-overall + 1) and logged as a warning
 *             naming the versions (docs/plugins/gcpsm.md, "Compare-and-set").
 *             SB_CAS_CREATE creates the secret (automatic replication, the
 *             label fence as its labels) and adds version 1; ALREADY_EXISTS is
 *             SB_E_CONFLICT unless the secret has no version at all (a create
 *             retried after the secret was made), which is then finished.
 *   describe  GET the secret (labels verbatim, createTime) and its newest
 *             enabled version.
 *   With a label fence, a secret whose labels lack a fence pair is refused
 *   (SB_E_DENIED) by read, write and describe alike.
 */
#include "gcpsm.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

sb_status gcpsm_check_common(void *inst, const sb_call *call, sb_result *res, const char *op)
{
    const sb_host_api *h = gcpsm_host;
    if (res == NULL || h == NULL)
        return SB_E_INVALID;
    if (inst == NULL || call == NULL)
        return h->fail(res, SB_E_INVALID, 0, "%s: instance and call must not be NULL", op);
    return SB_OK;
}

int gcpsm_labels_match(const sb_json_node *labels, const sb_kv *want, size_t n_want)
{
    const sb_host_api *h = gcpsm_host;
    for (size_t i = 0; i < n_want; i++) {
        char ptr[300];
        if (snprintf(ptr, sizeof ptr, "/%s", want[i].key) >= (int)sizeof ptr ||
            strpbrk(want[i].key, "/~"))
            return 0;
        const sb_json_node *v = h->json_pointer(labels, ptr);
        if (h->json_type(v) != SB_JSON_STRING)
            return 0;
        if (want[i].value && strcmp(h->json_string(v, NULL), want[i].value) != 0)
            return 0;
    }
    return 1;
}

int gcpsm_emit_secret(const sb_json_node *secret, const char *version, int64_t version_ms,
                      uint32_t flags, sb_metadata_sink emit, void *sink, int *stopped,
                      sb_result *res)
{
    const sb_host_api *h = gcpsm_host;
    const sb_json_node *labels = h->json_pointer(secret, "/labels");
    size_t nl = h->json_count(labels), n = 0;
    sb_kv *kv = nl ? calloc(nl, sizeof *kv) : NULL;
    if (nl && kv == NULL) {
        h->fail(res, SB_E_INTERNAL, 0, "out of memory");
        return -1;
    }
    for (size_t i = 0; i < nl; i++) {
        const char *k = NULL;
        const char *v = h->json_string(h->json_member(labels, i, &k), NULL);
        if (k && v)
            kv[n++] = (sb_kv){k, v};
    }
    sb_metadata meta;
    memset(&meta, 0, sizeof meta);
    meta.struct_size = (uint32_t)sizeof meta;
    meta.flags = flags;
    meta.path = gcpsm_last_segment(h->json_string(h->json_pointer(secret, "/name"), NULL));
    meta.version = version;
    meta.created_unix_ms = sbp_rfc3339_ms(h->json_string(h->json_pointer(secret, "/createTime"), NULL));
    meta.updated_unix_ms = version_ms ? version_ms : meta.created_unix_ms;
    meta.labels = kv;
    meta.n_labels = n;
    int rc = meta.path ? emit(sink, &meta) : 0;
    free(kv);
    if (rc != 0 && stopped)
        *stopped = 1;
    return 0;
}

static sb_status check_ref(const sb_secret_ref *ref, const char *op, sb_result *res)
{
    const char *why = gcpsm_check_secret_id(ref->path);
    if (why == NULL && ref->version && ref->version[0])
        why = gcpsm_check_version(ref->version);
    return why ? gcpsm_host->fail(res, SB_E_INVALID, 0, "%s: %s", op, why) : SB_OK;
}

/* GET the secret and apply the label fence; *keep (optional) gets the doc. */
static sb_status fenced_get(gcpsm_instance *gi, const sb_call *call, const char *id,
                            sb_json **keep, sb_result *res)
{
    const sb_host_api *h = gcpsm_host;
    sbp_str rel = {0};
    sbp_str_add(&rel, "secrets/");
    sbp_str_add(&rel, id);
    sb_json *doc = NULL;
    sb_status st = rel.failed ? h->fail(res, SB_E_INTERNAL, 0, "out of memory")
                              : gcpsm_call(gi, call, "GET", rel.p, NULL, 0, "get_secret", &doc,
                                           NULL, 0, res);
    sbp_str_free(&rel);
    if (st != SB_OK)
        return st;
    if (!gcpsm_labels_match(h->json_pointer(h->json_root(doc), "/labels"), gi->fence,
                            gi->n_fence)) {
        h->json_free(doc);
        return h->fail(res, SB_E_DENIED, 0,
                       "%s: the secret is outside this instance's label fence (label_fence)", id);
    }
    if (keep)
        *keep = doc;
    else
        h->json_free(doc);
    return SB_OK;
}

/* The newest version of `id` (enabled_only: the newest ENABLED one): its
 * number (heap; NULL when there is none) and createTime. */
static sb_status newest_version(gcpsm_instance *gi, const sb_call *call, const char *id,
                                int enabled_only, char **number, int64_t *created_ms,
                                sb_result *res)
{
    const sb_host_api *h = gcpsm_host;
    *number = NULL;
    sbp_str rel = {0};
    sbp_str_add(&rel, "secrets/");
    sbp_str_add(&rel, id);
    sbp_str_add(&rel, enabled_only ? "/versions?pageSize=1&filter=state%3AENABLED"
                                     : "/versions?pageSize=1");
    sb_json *doc = NULL;
    sb_status st = rel.failed ? h->fail(res, SB_E_INTERNAL, 0, "out of memory")
                              : gcpsm_call(gi, call, "GET", rel.p, NULL, 0, "list_versions",
                                           &doc, NULL, 0, res);
    sbp_str_free(&rel);
    if (st != SB_OK)
        return st;
    const sb_json_node *v = h->json_pointer(h->json_root(doc), "/versions/0");
    const char *name = h->json_string(h->json_pointer(v, "/name"), NULL);
    if (name) {
        *number = sbp_strdup(gcpsm_last_segment(name));
        if (created_ms)
            *created_ms = sbp_rfc3339_ms(h->json_string(h->json_pointer(v, "/createTime"), NULL));
        if (*number == NULL)
            st = h->fail(res, SB_E_INTERNAL, 0, "out of memory");
    }
    h->json_free(doc);
    return st;
}

/* ---- read ------------------------------------------------------------------------- */

/* The payload of an :access answer (checked against dataCrc32c) as a bundle. */
static sb_status payload_bundle(const sb_json_node *root, sb_bundle **out, sb_result *res)
{
    const sb_host_api *h = gcpsm_host;
    size_t len = 0;
    const char *b64 = h->json_string(h->json_pointer(root, "/payload/data"), &len);
    if (b64 == NULL) /* proto3 JSON omits empty bytes */
        b64 = "", len = 0;
    sb_secure_buf *raw = h->secure_new(len);
    if (raw == NULL)
        return h->fail(res, SB_E_INTERNAL, 0, "access: out of secure memory");
    if (sbp_b64_decode_secure(gcpsm_host, raw, b64, len) != 0) {
        h->secure_free(raw);
        return h->fail(res, SB_E_PROTOCOL, 0, "access: payload.data is not valid base64");
    }
    size_t rl = 0;
    const unsigned char *rd = h->secure_data(raw, &rl);
    const sb_json_node *crc = h->json_pointer(root, "/payload/dataCrc32c");
    int64_t want = 0;
    if (h->json_type(crc) != SB_JSON_MISSING &&
        (h->json_int(crc, &want) != 0 || want != (int64_t)gcpsm_crc32c(rd, rl))) {
        h->secure_free(raw);
        return h->fail(res, SB_E_PROTOCOL, 0,
                       "access: the payload does not match its dataCrc32c (corrupted in "
                       "transit); retry the read");
    }
    sb_status st = SB_OK;
    size_t i = 0;
    while (i < rl && (rd[i] == ' ' || rd[i] == '\n' || rd[i] == '\t' || rd[i] == '\r'))
        i++;
    if (i < rl && rd[i] == '{') {
        sb_json *inner = NULL;
        sb_result ignored = SB_RESULT_INIT;
        if (h->json_parse(rd, rl, &inner, &ignored) == SB_OK &&
            h->json_type(h->json_root(inner)) == SB_JSON_OBJECT) {
            st = h->bundle_from_json(h->json_root(inner), out, res);
            h->json_free(inner);
            h->result_release(&ignored);
            h->secure_free(raw);
            return st;
        }
        h->json_free(inner);
        h->result_release(&ignored);
    }
    *out = h->bundle_new(SB_SHAPE_SINGLE);
    if (*out == NULL || h->bundle_put(*out, "value",
                                      sbp_valid_utf8(rd, rl) ? SB_VALUE_STRING : SB_VALUE_BINARY,
                                      rd, rl) != 0) {
        h->bundle_free(*out);
        *out = NULL;
        st = h->fail(res, SB_E_INTERNAL, 0, "access: out of secure memory");
    }
    h->secure_free(raw);
    return st;
}

static sb_status access_version(gcpsm_instance *gi, const sb_call *call, const char *id,
                                const char *version, sb_json **doc, sb_result *res)
{
    sbp_str rel = {0};
    sbp_str_add(&rel, "secrets/");
    sbp_str_add(&rel, id);
    sbp_str_add(&rel, "/versions/");
    sbp_str_add(&rel, version);
    sbp_str_add(&rel, ":access");
    sb_status st = rel.failed ? gcpsm_host->fail(res, SB_E_INTERNAL, 0, "out of memory")
                              : gcpsm_call(gi, call, "GET", rel.p, NULL, 0, "access", doc, NULL,
                                           0, res);
    sbp_str_free(&rel);
    return st;
}

static sb_status gcpsm_read(void *inst, const sb_call *call, const sb_secret_ref *ref,
                            sb_bundle **out, sb_version_info *version, sb_result *res)
{
    sb_status st = gcpsm_check_common(inst, call, res, "read");
    if (st != SB_OK)
        return st;
    const sb_host_api *h = gcpsm_host;
    if (out == NULL || ref == NULL)
        return h->fail(res, SB_E_INVALID, 0, "read: ref and out must not be NULL");
    *out = NULL;
    gcpsm_instance *gi = inst;
    if ((st = check_ref(ref, "read", res)) != SB_OK)
        return st;
    if (gi->n_fence && (st = fenced_get(gi, call, ref->path, NULL, res)) != SB_OK)
        return st;
    int current = ref->version == NULL || ref->version[0] == '\0';
    sb_json *doc = NULL;
    sb_result first = SB_RESULT_INIT;
    st = access_version(gi, call, ref->path, current ? "latest" : ref->version, &doc, &first);
    uint32_t gone = st == SB_E_GONE ? (strstr(first.message, "destroyed") ? SB_VERSION_DESTROYED
                                                                          : SB_VERSION_DELETED)
                                    : 0;
    int recorded = 0; /* the fallback access wrote its own outcome into res */
    if (st == SB_E_GONE && current) {
        /* `latest` is the newest version whatever its state: fall back to
         * the newest enabled one */
        char *enabled = NULL;
        sb_result inner = SB_RESULT_INIT;
        if (newest_version(gi, call, ref->path, 1, &enabled, NULL, &inner) == SB_OK && enabled) {
            st = access_version(gi, call, ref->path, enabled, &doc, res);
            recorded = 1;
            gone = 0;
        }
        h->result_release(&inner);
        free(enabled);
    }
    if (st != SB_OK && !recorded)
        h->fail(res, st, first.retry_after_ms, "%s", first.message);
    h->result_release(&first);
    if (st == SB_E_GONE && version && SB_HAS_FIELD(version, sb_version_info, flags))
        version->flags = gone;
    if (st != SB_OK)
        return st;
    const sb_json_node *root = h->json_root(doc);
    st = payload_bundle(root, out, res);
    if (st == SB_OK && version && SB_HAS_FIELD(version, sb_version_info, created_unix_ms)) {
        const char *name = h->json_string(h->json_pointer(root, "/name"), NULL);
        version->flags = 0;
        version->created_unix_ms = 0; /* :access does not say; describe does */
        if (version->version && h->text_set(version->version, gcpsm_last_segment(name ? name : "")) != 0)
            st = h->fail(res, SB_E_INTERNAL, 0, "read: out of memory");
    }
    h->json_free(doc);
    if (st != SB_OK) {
        h->bundle_free(*out);
        *out = NULL;
    }
    return st;
}

/* ---- write -------------------------------------------------------------------------- */

/* {"payload":{"data":"<b64>","dataCrc32c":"<crc>"}} for the bundle, secure. */
static sb_status version_body(const sb_bundle *values, sb_secure_buf **body, sb_result *res)
{
    const sb_host_api *h = gcpsm_host;
    sb_secure_buf *raw = h->secure_new(256);
    *body = h->secure_new(512);
    sb_status st = raw && *body ? SB_OK : h->fail(res, SB_E_INTERNAL, 0, "write: out of secure memory");
    if (st == SB_OK && h->bundle_shape(values) == SB_SHAPE_MAP) {
        st = h->bundle_append_json(values, raw, res);
    } else if (st == SB_OK) {
        const char *key;
        sb_value_kind kind;
        const unsigned char *v;
        size_t len;
        if (h->bundle_count(values) != 1 || h->bundle_entry(values, 0, &key, &kind, &v, &len) != 0)
            st = h->fail(res, SB_E_INVALID, 0, "write: a single-value bundle needs exactly one entry");
        else if (h->secure_append(raw, v, len) != 0)
            st = h->fail(res, SB_E_INTERNAL, 0, "write: out of secure memory");
    }
    size_t rl = 0;
    const unsigned char *rd = st == SB_OK ? h->secure_data(raw, &rl) : NULL;
    if (st == SB_OK && rl > GCPSM_MAX_PAYLOAD)
        st = h->fail(res, SB_E_TOO_LARGE, 0,
                     "write: the payload is %zu bytes; Secret Manager takes at most 65536", rl);
    if (st == SB_OK) {
        char crc[48];
        snprintf(crc, sizeof crc, "\",\"dataCrc32c\":\"%lu\"}}",
                 (unsigned long)gcpsm_crc32c(rd, rl));
        if (h->secure_append(*body, "{\"payload\":{\"data\":\"", 20) != 0 ||
            sbp_b64_encode_secure(gcpsm_host, *body, rd, rl) != 0 ||
            h->secure_append(*body, crc, strlen(crc)) != 0)
            st = h->fail(res, SB_E_INTERNAL, 0, "write: out of secure memory");
    }
    h->secure_free(raw);
    if (st != SB_OK) {
        h->secure_free(*body);
        *body = NULL;
    }
    return st;
}

static sb_status create_secret(gcpsm_instance *gi, const sb_call *call, const char *id,
                               sb_result *res)
{
    const sb_host_api *h = gcpsm_host;
    sbp_str rel = {0}, body = {0};
    sbp_str_add(&rel, "secrets?secretId=");
    sbp_str_add_query(&rel, id);
    sbp_str_add(&body, "{\"replication\":{\"automatic\":{}}");
    if (gi->n_fence) {
        sbp_str_add(&body, ",\"labels\":{");
        for (size_t i = 0; i < gi->n_fence; i++) {
            sbp_str_add(&body, i ? "," : "");
            sbp_str_add_json(&body, gi->fence[i].key);
            sbp_str_add(&body, ":");
            sbp_str_add_json(&body, gi->fence[i].value ? gi->fence[i].value : "");
        }
        sbp_str_add(&body, "}");
    }
    sbp_str_add(&body, "}");
    sb_secure_buf *b = NULL;
    if (!body.failed && (b = h->secure_new(body.len + 1)) != NULL &&
        h->secure_append(b, body.p, body.len) != 0) {
        h->secure_free(b);
        b = NULL;
    }
    sb_json *doc = NULL;
    char status[48] = "";
    sb_status st = rel.failed || b == NULL
                       ? h->fail(res, SB_E_INTERNAL, 0, "write: out of memory")
                       : gcpsm_call(gi, call, "POST", rel.p, b, 0, "create_secret", &doc, status,
                                    sizeof status, res);
    if (st == SB_E_CONFLICT && strcmp(status, "ALREADY_EXISTS") == 0) {
        st = h->fail(res, SB_E_CONFLICT, 0, "write: %s already exists (create refused)", id);
    }
    h->json_free(doc);
    h->secure_free(b);
    sbp_str_free(&rel);
    sbp_str_free(&body);
    return st;
}

static sb_status add_version(gcpsm_instance *gi, const sb_call *call, const char *id,
                             const sb_bundle *values, char **number, int64_t *created_ms,
                             sb_result *res)
{
    const sb_host_api *h = gcpsm_host;
    sb_secure_buf *body = NULL;
    sb_status st = version_body(values, &body, res);
    if (st != SB_OK)
        return st;
    sbp_str rel = {0};
    sbp_str_add(&rel, "secrets/");
    sbp_str_add(&rel, id);
    sbp_str_add(&rel, ":addVersion");
    sb_json *doc = NULL;
    st = rel.failed ? h->fail(res, SB_E_INTERNAL, 0, "write: out of memory")
                    : gcpsm_call(gi, call, "POST", rel.p, body, 1, "add_version", &doc, NULL, 0,
                                 res);
    sbp_str_free(&rel);
    h->secure_free(body);
    if (st != SB_OK)
        return st;
    const sb_json_node *root = h->json_root(doc);
    const char *name = h->json_string(h->json_pointer(root, "/name"), NULL);
    *number = name ? sbp_strdup(gcpsm_last_segment(name)) : NULL;
    *created_ms = sbp_rfc3339_ms(h->json_string(h->json_pointer(root, "/createTime"), NULL));
    h->json_free(doc);
    if (*number == NULL)
        return h->fail(res, SB_E_PROTOCOL, 0, "addVersion: the answer names no version");
    return SB_OK;
}

static sb_status gcpsm_write(void *inst, const sb_call *call, const sb_secret_ref *ref,
                             const sb_bundle *values, const char *expected,
                             sb_version_info *new_version, sb_result *res)
{
    sb_status st = gcpsm_check_common(inst, call, res, "write");
    if (st != SB_OK)
        return st;
    const sb_host_api *h = gcpsm_host;
    gcpsm_instance *gi = inst;
    if (ref == NULL || values == NULL)
        return h->fail(res, SB_E_INVALID, 0, "write: ref and values must not be NULL");
    if ((st = check_ref(ref, "write", res)) != SB_OK)
        return st;
    if (expected == NULL)
        return h->fail(res, SB_E_INVALID, 0,
                       "write: gcpsm writes are compare-and-set; pass the version a read "
                       "returned (or SB_CAS_CREATE)");
    char *number = NULL, *newest = NULL;
    int64_t created = 0;
    if (expected[0] == '\0') {
        st = create_secret(gi, call, ref->path, res);
        if (st == SB_E_CONFLICT) {
            /* a create that stopped between the secret and its first version
             * (a retried job) left a secret with no version: finish it */
            sb_result inner = SB_RESULT_INIT;
            char *any = NULL;
            if ((!gi->n_fence || fenced_get(gi, call, ref->path, NULL, &inner) == SB_OK) &&
                newest_version(gi, call, ref->path, 0, &any, NULL, &inner) == SB_OK &&
                any == NULL)
                st = SB_OK;
            free(any);
            h->result_release(&inner);
        }
    } else {
        if (gi->n_fence && (st = fenced_get(gi, call, ref->path, NULL, res)) != SB_OK)
            return st;
        char *enabled = NULL;
        st = newest_version(gi, call, ref->path, 1, &enabled, NULL, res);
        if (st == SB_OK && (enabled == NULL || strcmp(enabled, expected) != 0))
            st = h->fail(res, SB_E_CONFLICT, 0,
                         "write: %s changed since it was read (the newest enabled version is "
                         "%s, not %s); re-read and merge",
                         ref->path, enabled ? enabled : "none", expected);
        free(enabled);
        if (st == SB_OK)
            st = newest_version(gi, call, ref->path, 0, &newest, NULL, res);
    }
    if (st == SB_OK)
        st = add_version(gi, call, ref->path, values, &number, &created, res);
    if (st == SB_OK && newest && strtoll(number, NULL, 10) != strtoll(newest, NULL, 10) + 1)
        h->log(SB_LOG_WARN, call,
               "gcpsm: another writer added a version to %s between the compare (newest "
               "version %s) and the add (ours is %s); ours was merged from version %s",
               ref->path, newest, number, expected);
    if (st == SB_OK && new_version) {
        new_version->created_unix_ms = created ? created : h->now_unix_ms();
        if (new_version->version && h->text_set(new_version->version, number) != 0)
            st = h->fail(res, SB_E_INTERNAL, 0, "write: out of memory");
    }
    free(number);
    free(newest);
    return st;
}

/* ---- describe ----------------------------------------------------------------------- */

static sb_status gcpsm_describe(void *inst, const sb_call *call, const sb_secret_ref *ref,
                                sb_metadata_sink emit, void *sink, sb_result *res)
{
    sb_status st = gcpsm_check_common(inst, call, res, "describe");
    if (st != SB_OK)
        return st;
    const sb_host_api *h = gcpsm_host;
    if (ref == NULL || emit == NULL)
        return h->fail(res, SB_E_INVALID, 0, "describe: ref and emit must not be NULL");
    if ((st = check_ref(ref, "describe", res)) != SB_OK)
        return st;
    sb_json *doc = NULL;
    if ((st = fenced_get(inst, call, ref->path, &doc, res)) != SB_OK)
        return st;
    char *enabled = NULL;
    int64_t when = 0;
    st = newest_version(inst, call, ref->path, 1, &enabled, &when, res);
    if (st == SB_OK &&
        gcpsm_emit_secret(h->json_root(doc), enabled, when, 0, emit, sink, NULL, res) != 0)
        st = SB_E_INTERNAL;
    free(enabled);
    h->json_free(doc);
    return st;
}

const sb_provider_ops gcpsm_provider_ops = {
    .struct_size = (uint32_t)sizeof(sb_provider_ops),
    .read = gcpsm_read,
    .write = gcpsm_write,
    .describe = gcpsm_describe,
    .list = gcpsm_list,
};
