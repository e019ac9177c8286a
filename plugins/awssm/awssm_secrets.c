/*
 * plugins/awssm/awssm_secrets.c — PROVIDER read, write and describe.
 *
 * Contract:
 *   read      GetSecretValue (ref->version: a VersionId when 32-64 characters,
 *             else a staging label; NULL: AWSCURRENT). SecretString holding a
 *             JSON object -> MAP bundle; any other SecretString -> SINGLE
 *             "value" (STRING); SecretBinary -> SINGLE "value" (BINARY). The
 *             version info is the VersionId and CreatedDate.
 *   write     compare-and-set through staging labels (AWS has no CAS on
 *             values): GetSecretValue(AWSCURRENT) must still be the expected
 *             VersionId, the new value goes in with PutSecretValue under a
 *             ClientRequestToken derived from (instance, path, expected
 *             version, the call's correlation id) and the label
 *             SBRIDGE_PENDING (so AWSCURRENT does not move yet), then
 *             UpdateSecretVersionStage moves AWSCURRENT with
 *             RemoveFromVersionId = expected, which AWS refuses when another
 *             writer moved it meanwhile -> SB_E_CONFLICT; finally (also after
 *             that conflict) the pending label is removed. A replay of the same write (same token) is
 *             recognised and succeeds. The value keeps the secret's form:
 *             SecretString stays SecretString (a MAP as its JSON text),
 *             SecretBinary stays binary (a MAP cannot become binary). Create
 *             (SB_CAS_CREATE) is CreateSecret with the tag fence as tags.
 *   describe  DescribeSecret: tags as labels, the AWSCURRENT version, dates.
 *   With a tag fence, a secret whose tags lack a fence pair is refused
 *   (SB_E_DENIED) by read, write and describe alike.
 */
#include "awssm.h"
#include "awssm_sigv4.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PENDING_LABEL "SBRIDGE_PENDING"

sb_status awssm_check_common(void *inst, const sb_call *call, sb_result *res, const char *op)
{
    const sb_host_api *h = awssm_host;
    if (res == NULL || h == NULL)
        return SB_E_INVALID;
    if (inst == NULL || call == NULL)
        return h->fail(res, SB_E_INVALID, 0, "%s: instance and call must not be NULL", op);
    return SB_OK;
}

int awssm_tags_match(const sb_json_node *tags, const sb_kv *want, size_t n_want)
{
    const sb_host_api *h = awssm_host;
    for (size_t i = 0; i < n_want; i++) {
        int hit = 0;
        for (size_t j = 0, n = h->json_count(tags); j < n && !hit; j++) {
            const sb_json_node *t = h->json_member(tags, j, NULL);
            const char *k = h->json_string(h->json_pointer(t, "/Key"), NULL);
            const char *v = h->json_string(h->json_pointer(t, "/Value"), NULL);
            hit = k && v && strcmp(k, want[i].key) == 0 && strcmp(v, want[i].value ? want[i].value : "") == 0;
        }
        if (!hit)
            return 0;
    }
    return 1;
}

int awssm_emit_entry(const sb_json_node *e, const char *versions_key, sb_metadata_sink emit,
                     void *sink, int *stopped, sb_result *res)
{
    const sb_host_api *h = awssm_host;
    const sb_json_node *tags = h->json_pointer(e, "/Tags");
    size_t nt = h->json_count(tags);
    sb_kv *labels = nt ? calloc(nt, sizeof *labels) : NULL;
    if (nt && labels == NULL) {
        h->fail(res, SB_E_INTERNAL, 0, "out of memory");
        return -1;
    }
    size_t nl = 0;
    for (size_t i = 0; i < nt; i++) {
        const sb_json_node *t = h->json_member(tags, i, NULL);
        const char *k = h->json_string(h->json_pointer(t, "/Key"), NULL);
        const char *v = h->json_string(h->json_pointer(t, "/Value"), NULL);
        if (k)
            labels[nl++] = (sb_kv){k, v ? v : ""};
    }
    const char *current = NULL;
    const sb_json_node *vmap = h->json_pointer(e, versions_key);
    for (size_t i = 0, n = h->json_count(vmap); i < n && !current; i++) {
        const char *vid = NULL;
        const sb_json_node *stages = h->json_member(vmap, i, &vid);
        for (size_t j = 0, m = h->json_count(stages); j < m; j++) {
            const char *s = h->json_string(h->json_member(stages, j, NULL), NULL);
            if (s && strcmp(s, "AWSCURRENT") == 0)
                current = vid;
        }
    }
    sb_metadata meta;
    memset(&meta, 0, sizeof meta);
    meta.struct_size = (uint32_t)sizeof meta;
    meta.path = h->json_string(h->json_pointer(e, "/Name"), NULL);
    meta.version = current;
    meta.created_unix_ms = awssm_json_epoch_ms(h->json_pointer(e, "/CreatedDate"));
    meta.updated_unix_ms = awssm_json_epoch_ms(h->json_pointer(e, "/LastChangedDate"));
    if (h->json_type(h->json_pointer(e, "/DeletedDate")) == SB_JSON_NUMBER)
        meta.flags |= SB_VERSION_DELETED;
    meta.labels = labels;
    meta.n_labels = nl;
    int rc = meta.path ? emit(sink, &meta) : 0;
    free(labels);
    if (rc != 0 && stopped)
        *stopped = 1;
    return 0;
}

/* {"SecretId":"<path>"<extra>} as a secure body. */
static sb_secure_buf *id_body(const char *path, const char *extra)
{
    awssm_str s = {0};
    awssm_str_add(&s, "{\"SecretId\":");
    awssm_str_add_json(&s, path);
    awssm_str_add(&s, extra ? extra : "");
    awssm_str_add(&s, "}");
    sb_secure_buf *b = awssm_secure_from(&s);
    awssm_str_free(&s);
    return b;
}

static sb_status simple_call(awssm_instance *ai, const sb_call *call, const char *op,
                             const char *path, const char *extra, sb_json **doc, sb_result *res)
{
    awssm_service sm = awssm_sm(ai);
    sb_secure_buf *body = id_body(path, extra);
    if (body == NULL)
        return awssm_host->fail(res, SB_E_INTERNAL, 0, "%s: out of memory", op);
    sb_status st = awssm_call(ai, call, &sm, op, body, 0, 1, doc, res);
    awssm_host->secure_free(body);
    return st;
}

/* DescribeSecret and the fence check; *doc kept for the caller when asked. */
static sb_status fenced_describe(awssm_instance *ai, const sb_call *call, const char *path,
                                 sb_json **keep, sb_result *res)
{
    const sb_host_api *h = awssm_host;
    sb_json *doc = NULL;
    sb_status st = simple_call(ai, call, "DescribeSecret", path, NULL, &doc, res);
    if (st != SB_OK)
        return st;
    if (!awssm_tags_match(h->json_pointer(h->json_root(doc), "/Tags"), ai->fence, ai->n_fence)) {
        h->json_free(doc);
        return h->fail(res, SB_E_DENIED, 0,
                       "%s: the secret is outside this instance's tag fence (tag_fence)", path);
    }
    if (keep)
        *keep = doc;
    else
        h->json_free(doc);
    return SB_OK;
}

static sb_status check_path(const char *path, const char *op, sb_result *res)
{
    const char *why = awssm_check_secret_id(path);
    return why ? awssm_host->fail(res, SB_E_INVALID, 0, "%s: %s", op, why) : SB_OK;
}

/* ---- read ------------------------------------------------------------------------ */

/* The secret value of a GetSecretValue answer as a bundle. */
static sb_status value_bundle(const sb_json_node *root, sb_bundle **out, sb_result *res)
{
    const sb_host_api *h = awssm_host;
    size_t len = 0;
    const char *str = h->json_string(h->json_pointer(root, "/SecretString"), &len);
    if (str != NULL) {
        size_t i = 0;
        while (i < len && (str[i] == ' ' || str[i] == '\n' || str[i] == '\t' || str[i] == '\r'))
            i++;
        if (i < len && str[i] == '{') {
            sb_json *inner = NULL;
            sb_result ignored = SB_RESULT_INIT;
            if (h->json_parse((const unsigned char *)str, len, &inner, &ignored) == SB_OK &&
                h->json_type(h->json_root(inner)) == SB_JSON_OBJECT) {
                sb_status st = h->bundle_from_json(h->json_root(inner), out, res);
                h->json_free(inner);
                h->result_release(&ignored);
                return st;
            }
            h->json_free(inner);
            h->result_release(&ignored);
        }
        *out = h->bundle_new(SB_SHAPE_SINGLE);
        if (*out == NULL ||
            h->bundle_put(*out, "value", SB_VALUE_STRING, (const unsigned char *)str, len) != 0)
            goto nomem;
        return SB_OK;
    }
    const char *b64 = h->json_string(h->json_pointer(root, "/SecretBinary"), &len);
    if (b64 == NULL)
        return h->fail(res, SB_E_PROTOCOL, 0,
                       "GetSecretValue: the answer has neither SecretString nor SecretBinary");
    sb_secure_buf *raw = h->secure_new(len);
    if (raw == NULL)
        goto nomem;
    if (awssm_b64_decode_secure(raw, b64, len) != 0) {
        h->secure_free(raw);
        return h->fail(res, SB_E_PROTOCOL, 0, "GetSecretValue: SecretBinary is not valid base64");
    }
    size_t rl = 0;
    const unsigned char *rd = h->secure_data(raw, &rl);
    *out = h->bundle_new(SB_SHAPE_SINGLE);
    int bad = *out == NULL || h->bundle_put(*out, "value", SB_VALUE_BINARY, rd, rl) != 0;
    h->secure_free(raw);
    if (bad)
        goto nomem;
    return SB_OK;
nomem:
    h->bundle_free(*out);
    *out = NULL;
    return h->fail(res, SB_E_INTERNAL, 0, "GetSecretValue: out of secure memory");
}

static sb_status awssm_read(void *inst, const sb_call *call, const sb_secret_ref *ref,
                            sb_bundle **out, sb_version_info *version, sb_result *res)
{
    sb_status st = awssm_check_common(inst, call, res, "read");
    if (st != SB_OK)
        return st;
    const sb_host_api *h = awssm_host;
    if (out == NULL || ref == NULL)
        return h->fail(res, SB_E_INVALID, 0, "read: ref and out must not be NULL");
    *out = NULL;
    awssm_instance *ai = inst;
    if ((st = check_path(ref->path, "read", res)) != SB_OK)
        return st;
    if (ai->n_fence && (st = fenced_describe(ai, call, ref->path, NULL, res)) != SB_OK)
        return st;
    awssm_str extra = {0};
    if (ref->version && ref->version[0]) {
        size_t n = strlen(ref->version);
        awssm_str_add(&extra, n >= 32 && n <= 64 ? ",\"VersionId\":" : ",\"VersionStage\":");
        awssm_str_add_json(&extra, ref->version);
    }
    sb_json *doc = NULL;
    st = extra.failed ? h->fail(res, SB_E_INTERNAL, 0, "read: out of memory")
                      : simple_call(ai, call, "GetSecretValue", ref->path, extra.p, &doc, res);
    awssm_str_free(&extra);
    if (st != SB_OK)
        return st;
    const sb_json_node *root = h->json_root(doc);
    st = value_bundle(root, out, res);
    if (st == SB_OK && version && SB_HAS_FIELD(version, sb_version_info, created_unix_ms)) {
        const char *vid = h->json_string(h->json_pointer(root, "/VersionId"), NULL);
        version->created_unix_ms = awssm_json_epoch_ms(h->json_pointer(root, "/CreatedDate"));
        if (version->version && h->text_set(version->version, vid ? vid : "") != 0)
            st = h->fail(res, SB_E_INTERNAL, 0, "read: out of memory");
    }
    h->json_free(doc);
    if (st != SB_OK) {
        h->bundle_free(*out);
        *out = NULL;
    }
    return st;
}

/* ---- write ------------------------------------------------------------------------ */

/* A deterministic ClientRequestToken (UUID form): replays of one job's
 * write reuse it, so AWS treats them as the same version. */
static void derive_token(const awssm_instance *ai, const sb_call *call, const char *path,
                         const char *expected, char out[37])
{
    char hex[65];
    awssm_str s = {0};
    if (call->correlation_id && call->correlation_id[0]) {
        awssm_str_add(&s, "sbridge-awssm-write\n");
        awssm_str_add(&s, ai->name ? ai->name : "");
        awssm_str_add(&s, "\n");
        awssm_str_add(&s, path);
        awssm_str_add(&s, "\n");
        awssm_str_add(&s, expected);
        awssm_str_add(&s, "\n");
        awssm_str_add(&s, call->correlation_id);
    }
    if (s.failed || s.len == 0 || awssm_sha256_hex(s.p, s.len, hex) != 0) {
        unsigned char rnd[16];
        awssm_host->random_bytes(rnd, sizeof rnd);
        for (int i = 0; i < 16; i++)
            snprintf(hex + 2 * i, 3, "%02x", rnd[i]);
    }
    awssm_str_free(&s);
    snprintf(out, 37, "%.8s-%.4s-%.4s-%.4s-%.12s", hex, hex + 8, hex + 12, hex + 16, hex + 20);
}

static int valid_utf8(const unsigned char *s, size_t n)
{
    for (size_t i = 0; i < n;) {
        unsigned char c = s[i];
        size_t k = c < 0x80 ? 0 : (c >> 5) == 6 ? 1 : (c >> 4) == 14 ? 2 : (c >> 3) == 30 ? 3 : 9;
        if (k == 9 || i + k >= n + (k == 0 ? 1 : 0))
            return 0;
        for (size_t j = 1; j <= k; j++)
            if ((s[i + j] & 0xC0) != 0x80)
                return 0;
        i += k + 1;
    }
    return 1;
}

/* Appends `,"SecretString":...` or `,"SecretBinary":...` for `values` in
 * the given form to the secure body. */
static sb_status append_value(sb_secure_buf *body, const sb_bundle *values, int binary,
                              const char *op, sb_result *res)
{
    const sb_host_api *h = awssm_host;
    if (h->bundle_shape(values) == SB_SHAPE_MAP) {
        if (binary)
            return h->fail(res, SB_E_INVALID, 0,
                           "%s: the secret is SecretBinary; a key/value map cannot be written "
                           "to it (write a single value)",
                           op);
        sb_secure_buf *text = h->secure_new(256);
        if (text == NULL)
            return h->fail(res, SB_E_INTERNAL, 0, "%s: out of secure memory", op);
        sb_status st = h->bundle_append_json(values, text, res);
        size_t len = 0;
        const unsigned char *d = h->secure_data(text, &len);
        if (st == SB_OK && (h->secure_append(body, ",\"SecretString\":", 16) ||
                            h->secure_append_json_string(body, (const char *)d, len)))
            st = h->fail(res, SB_E_INTERNAL, 0, "%s: out of secure memory", op);
        h->secure_free(text);
        return st;
    }
    const char *key;
    sb_value_kind kind;
    const unsigned char *v;
    size_t len;
    if (h->bundle_count(values) != 1 || h->bundle_entry(values, 0, &key, &kind, &v, &len) != 0)
        return h->fail(res, SB_E_INVALID, 0, "%s: a single-value bundle needs exactly one entry",
                       op);
    if (binary) {
        if (h->secure_append(body, ",\"SecretBinary\":\"", 17) ||
            awssm_b64_encode_secure(body, v, len) || h->secure_append(body, "\"", 1))
            return h->fail(res, SB_E_INTERNAL, 0, "%s: out of secure memory", op);
        return SB_OK;
    }
    if (!valid_utf8(v, len))
        return h->fail(res, SB_E_INVALID, 0,
                       "%s: the secret is a SecretString and the value is not UTF-8 text", op);
    if (h->secure_append(body, ",\"SecretString\":", 16) ||
        h->secure_append_json_string(body, (const char *)v, len))
        return h->fail(res, SB_E_INTERNAL, 0, "%s: out of secure memory", op);
    return SB_OK;
}

/* `{<prefix>` + value + `}` -> awssm_call(op). */
static sb_status value_call(awssm_instance *ai, const sb_call *call, const char *op,
                            const awssm_str *prefix, const sb_bundle *values, int binary,
                            sb_json **doc, sb_result *res)
{
    const sb_host_api *h = awssm_host;
    sb_secure_buf *body = awssm_secure_from(prefix);
    if (body == NULL)
        return h->fail(res, SB_E_INTERNAL, 0, "%s: out of memory", op);
    sb_status st = append_value(body, values, binary, op, res);
    if (st == SB_OK && h->secure_append(body, "}", 1) != 0)
        st = h->fail(res, SB_E_INTERNAL, 0, "%s: out of secure memory", op);
    awssm_service sm = awssm_sm(ai);
    if (st == SB_OK)
        st = awssm_call(ai, call, &sm, op, body, 1, 1, doc, res);
    h->secure_free(body);
    return st;
}

static sb_status create_secret(awssm_instance *ai, const sb_call *call, const char *path,
                               const sb_bundle *values, const char *token, sb_result *res)
{
    const sb_host_api *h = awssm_host;
    awssm_str p = {0};
    awssm_str_add(&p, "{\"Name\":");
    awssm_str_add_json(&p, path);
    awssm_str_add(&p, ",\"ClientRequestToken\":");
    awssm_str_add_json(&p, token);
    if (ai->n_fence) {
        awssm_str_add(&p, ",\"Tags\":[");
        for (size_t i = 0; i < ai->n_fence; i++) {
            awssm_str_add(&p, i ? ",{\"Key\":" : "{\"Key\":");
            awssm_str_add_json(&p, ai->fence[i].key);
            awssm_str_add(&p, ",\"Value\":");
            awssm_str_add_json(&p, ai->fence[i].value ? ai->fence[i].value : "");
            awssm_str_add(&p, "}");
        }
        awssm_str_add(&p, "]");
    }
    const char *key;
    sb_value_kind kind = SB_VALUE_STRING;
    const unsigned char *v;
    size_t len;
    int binary = h->bundle_shape(values) == SB_SHAPE_SINGLE &&
                 h->bundle_entry(values, 0, &key, &kind, &v, &len) == 0 &&
                 kind == SB_VALUE_BINARY;
    sb_json *doc = NULL;
    sb_status st = value_call(ai, call, "CreateSecret", &p, values, binary, &doc, res);
    awssm_str_free(&p);
    h->json_free(doc);
    if (st == SB_E_CONFLICT) {
        /* a replay of this very create succeeded before: same token current */
        sb_json *cur = NULL;
        sb_result scratch = SB_RESULT_INIT;
        if (simple_call(ai, call, "DescribeSecret", path, NULL, &cur, &scratch) == SB_OK) {
            char ptr[80];
            snprintf(ptr, sizeof ptr, "/VersionIdsToStages/%s/0", token);
            const char *s = h->json_string(h->json_pointer(h->json_root(cur), ptr), NULL);
            if (s && strcmp(s, "AWSCURRENT") == 0)
                st = SB_OK;
        }
        h->json_free(cur);
        h->result_release(&scratch);
        if (st != SB_OK)
            st = h->fail(res, SB_E_CONFLICT, 0, "write: %s already exists", path);
    }
    return st;
}

/* Moves (or removes) a staging label; returns the AWS error type in type. */
static sb_status move_stage(awssm_instance *ai, const sb_call *call, const char *path,
                            const char *stage, const char *to, const char *from, char *type,
                            size_t type_cap, sb_result *res)
{
    awssm_str e = {0};
    awssm_str_add(&e, ",\"VersionStage\":");
    awssm_str_add_json(&e, stage);
    if (to) {
        awssm_str_add(&e, ",\"MoveToVersionId\":");
        awssm_str_add_json(&e, to);
    }
    if (from) {
        awssm_str_add(&e, ",\"RemoveFromVersionId\":");
        awssm_str_add_json(&e, from);
    }
    sb_json *doc = NULL;
    sb_result inner = SB_RESULT_INIT;
    sb_status st = e.failed ? SB_E_INTERNAL
                            : simple_call(ai, call, "UpdateSecretVersionStage", path, e.p, &doc,
                                          &inner);
    awssm_str_free(&e);
    awssm_host->json_free(doc);
    if (st != SB_OK && type)
        snprintf(type, type_cap, "%s", strstr(inner.message, "InvalidParameterException") ||
                                               strstr(inner.message, "InvalidRequestException")
                                           ? "InvalidParameterException"
                                           : "");
    if (st != SB_OK)
        awssm_host->fail(res, st, inner.retry_after_ms, "%s", inner.message);
    awssm_host->result_release(&inner);
    return st;
}

static sb_status awssm_write(void *inst, const sb_call *call, const sb_secret_ref *ref,
                             const sb_bundle *values, const char *expected,
                             sb_version_info *new_version, sb_result *res)
{
    sb_status st = awssm_check_common(inst, call, res, "write");
    if (st != SB_OK)
        return st;
    const sb_host_api *h = awssm_host;
    awssm_instance *ai = inst;
    if (ref == NULL || values == NULL)
        return h->fail(res, SB_E_INVALID, 0, "write: ref and values must not be NULL");
    if ((st = check_path(ref->path, "write", res)) != SB_OK)
        return st;
    if (expected == NULL)
        return h->fail(res, SB_E_INVALID, 0,
                       "write: awssm writes are compare-and-set; pass the version a read "
                       "returned (or SB_CAS_CREATE)");
    char token[37];
    derive_token(ai, call, ref->path, expected, token);
    if (expected[0] == '\0') {
        st = create_secret(ai, call, ref->path, values, token, res);
    } else {
        if (ai->n_fence && (st = fenced_describe(ai, call, ref->path, NULL, res)) != SB_OK)
            return st;
        /* 1. the current version must still be the one read */
        sb_json *cur = NULL;
        st = simple_call(ai, call, "GetSecretValue", ref->path, ",\"VersionStage\":\"AWSCURRENT\"",
                         &cur, res);
        if (st != SB_OK)
            return st;
        const sb_json_node *root = h->json_root(cur);
        const char *vid = h->json_string(h->json_pointer(root, "/VersionId"), NULL);
        int binary = h->json_type(h->json_pointer(root, "/SecretBinary")) == SB_JSON_STRING;
        int replay = vid && strcmp(vid, token) == 0;
        int moved = !replay && (vid == NULL || strcmp(vid, expected) != 0);
        h->json_free(cur);
        if (moved)
            return h->fail(res, SB_E_CONFLICT, 0,
                           "write: %s changed since it was read (AWSCURRENT is another "
                           "version); re-read and merge",
                           ref->path);
        if (!replay) {
            /* 2. the new version, not yet current */
            awssm_str p = {0};
            awssm_str_add(&p, "{\"SecretId\":");
            awssm_str_add_json(&p, ref->path);
            awssm_str_add(&p, ",\"ClientRequestToken\":");
            awssm_str_add_json(&p, token);
            awssm_str_add(&p, ",\"VersionStages\":[\"" PENDING_LABEL "\"]");
            sb_json *doc = NULL;
            st = value_call(ai, call, "PutSecretValue", &p, values, binary, &doc, res);
            awssm_str_free(&p);
            h->json_free(doc);
            if (st != SB_OK)
                return st;
            /* 3. compare-and-set: AWS moves AWSCURRENT only from `expected` */
            char type[64] = "";
            sb_result inner = SB_RESULT_INIT;
            st = move_stage(ai, call, ref->path, "AWSCURRENT", token, expected, type,
                            sizeof type, &inner);
            if (st != SB_OK && strcmp(type, "InvalidParameterException") == 0)
                st = h->fail(res, SB_E_CONFLICT, 0,
                             "write: %s changed while it was written (AWSCURRENT moved); "
                             "re-read and merge",
                             ref->path);
            else if (st != SB_OK)
                h->fail(res, st, inner.retry_after_ms, "%s", inner.message);
            h->result_release(&inner);
        }
        if (!replay && (st == SB_OK || st == SB_E_CONFLICT)) {
            /* 4. tidy up (also after a conflict: the orphaned version then
             * carries no label); a leftover label is harmless, so only log */
            sb_result scratch = SB_RESULT_INIT;
            if (move_stage(ai, call, ref->path, PENDING_LABEL, NULL, token, NULL, 0, &scratch) !=
                SB_OK)
                h->log(SB_LOG_WARN, call, "awssm: could not remove the %s label: %s",
                       PENDING_LABEL, scratch.message);
            h->result_release(&scratch);
        }
    }
    if (st == SB_OK && new_version) {
        new_version->created_unix_ms = h->now_unix_ms();
        if (new_version->version && h->text_set(new_version->version, token) != 0)
            st = h->fail(res, SB_E_INTERNAL, 0, "write: out of memory");
    }
    return st;
}

/* ---- describe ----------------------------------------------------------------------- */

static sb_status awssm_describe(void *inst, const sb_call *call, const sb_secret_ref *ref,
                                sb_metadata_sink emit, void *sink, sb_result *res)
{
    sb_status st = awssm_check_common(inst, call, res, "describe");
    if (st != SB_OK)
        return st;
    const sb_host_api *h = awssm_host;
    if (ref == NULL || emit == NULL)
        return h->fail(res, SB_E_INVALID, 0, "describe: ref and emit must not be NULL");
    if ((st = check_path(ref->path, "describe", res)) != SB_OK)
        return st;
    sb_json *doc = NULL;
    st = fenced_describe(inst, call, ref->path, &doc, res);
    if (st != SB_OK)
        return st;
    if (awssm_emit_entry(h->json_root(doc), "/VersionIdsToStages", emit, sink, NULL, res) != 0)
        st = SB_E_INTERNAL;
    h->json_free(doc);
    return st;
}

const sb_provider_ops awssm_provider_ops = {
    .struct_size = (uint32_t)sizeof(sb_provider_ops),
    .read = awssm_read,
    .write = awssm_write,
    .describe = awssm_describe,
    .list = awssm_list,
};
