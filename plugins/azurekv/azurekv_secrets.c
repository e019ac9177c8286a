/*
 * plugins/azurekv/azurekv_secrets.c — PROVIDER read, write and describe.
 *
 * Contract:
 *   read      GET /secrets/{name}[/{version}]. A value that is a JSON object
 *             (and whose contentType, when set, mentions json) -> MAP bundle;
 *             anything else -> SINGLE "value" (STRING). The version info is
 *             the last segment of the id and attributes.created.
 *   write     compare-and-set as far as Key Vault allows (it has no
 *             conditional write; every PUT makes a new version):
 *               1. GET the current version: it must be `expected` (create:
 *                  the secret must not exist), else SB_E_CONFLICT;
 *               2. PUT the value with the current version's contentType and
 *                  tags (Key Vault keeps both per version: a PUT without them
 *                  would drop them). A create carries the tag fence as tags and
 *                  contentType application/json for a MAP;
 *               3. GET the current version again: it must be the one just
 *                  written, else SB_E_CONFLICT (another writer came after us).
 *             The race window: a write by another client that lands between
 *             1 and 2 (one round trip) is superseded by ours without this
 *             plugin noticing; another sbridge writer notices it at its own
 *             step 3. See docs/plugins/azurekv.md.
 *             The value keeps its form: a MAP is written as its JSON object
 *             text, a SINGLE as the raw string (binary values are refused: Key
 *             Vault stores text).
 *   describe  GET /secrets/{name}/versions (all pages): the newest version
 *             (by created, then updated) is the current one; its tags are the
 *             labels; created is the oldest version's. No value is fetched.
 *   With a tag fence, a secret whose current tags lack a fence pair is
 *   refused (SB_E_DENIED) by read, write and describe alike.
 */
#include "azurekv.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Appends a string literal (without its NUL) to a secure buffer. */
#define APPEND_LITERAL(buf, lit) akv_host->secure_append((buf), (lit), sizeof(lit) - 1)

sb_status akv_check_common(void *inst, const sb_call *call, sb_result *res, const char *op)
{
    const sb_host_api *h = akv_host;
    if (res == NULL || h == NULL)
        return SB_E_INVALID;
    if (inst == NULL || call == NULL)
        return h->fail(res, SB_E_INVALID, 0, "%s: instance and call must not be NULL", op);
    return SB_OK;
}

static sb_status check_ref(const sb_secret_ref *ref, const char *op, sb_result *res)
{
    const sb_host_api *h = akv_host;
    if (ref == NULL)
        return h->fail(res, SB_E_INVALID, 0, "%s: ref must not be NULL", op);
    const char *why = akv_check_name(ref->path);
    if (why == NULL && ref->version && ref->version[0])
        why = akv_check_version(ref->version);
    return why ? h->fail(res, SB_E_INVALID, 0, "%s: %s", op, why) : SB_OK;
}

/* GET /secrets/{name}[/{version}] into *doc. */
static sb_status get_secret(akv_instance *ai, const sb_call *call, const char *name,
                            const char *version, const char *op, sb_json **doc, sb_result *res)
{
    char *path = version && version[0] ? akv_format("/secrets/%s/%s", name, version)
                                       : akv_format("/secrets/%s", name);
    char *url = path ? akv_vault_url(ai, path, NULL) : NULL;
    free(path);
    if (url == NULL)
        return akv_host->fail(res, SB_E_INTERNAL, 0, "%s: out of memory", op);
    sb_status st = akv_vault_call(ai, call, "GET", url, NULL, op, doc, res);
    free(url);
    return st;
}

static sb_status check_fence(const akv_instance *ai, const sb_json *doc, const char *name,
                             sb_result *res)
{
    const sb_host_api *h = akv_host;
    if (akv_tags_match(h->json_pointer(h->json_root(doc), "/tags"), ai->fence, ai->n_fence))
        return SB_OK;
    return h->fail(res, SB_E_DENIED, 0,
                   "%s: the secret is outside this instance's tag fence (tag_fence)", name);
}

/* ---- read ------------------------------------------------------------------------ */

static int looks_like_json(const char *content_type)
{
    return content_type == NULL || content_type[0] == '\0' ||
           strcasestr(content_type, "json") != NULL;
}

static sb_status value_bundle(const sb_json_node *root, sb_bundle **out, sb_result *res)
{
    const sb_host_api *h = akv_host;
    size_t len = 0;
    const char *value = h->json_string(h->json_pointer(root, "/value"), &len);
    if (value == NULL)
        return h->fail(res, SB_E_PROTOCOL, 0, "read: the SecretBundle has no string value");
    size_t i = strspn(value, " \t\r\n");
    if (i < len && value[i] == '{' &&
        looks_like_json(h->json_string(h->json_pointer(root, "/contentType"), NULL))) {
        sb_json *inner = NULL;
        sb_result ignored = SB_RESULT_INIT;
        sb_status st = SB_E_PROTOCOL;
        if (h->json_parse((const unsigned char *)value, len, &inner, &ignored) == SB_OK &&
            h->json_type(h->json_root(inner)) == SB_JSON_OBJECT)
            st = h->bundle_from_json(h->json_root(inner), out, res);
        h->json_free(inner);
        h->result_release(&ignored);
        if (st == SB_OK)
            return SB_OK;
    }
    *out = h->bundle_new(SB_SHAPE_SINGLE);
    if (*out == NULL ||
        h->bundle_put(*out, "value", SB_VALUE_STRING, (const unsigned char *)value, len) != 0) {
        h->bundle_free(*out);
        *out = NULL;
        return h->fail(res, SB_E_INTERNAL, 0, "read: out of secure memory");
    }
    return SB_OK;
}

/* Sets version->version (id's last segment) and created. */
static sb_status fill_version(const sb_json_node *root, sb_version_info *version,
                              const char *op, sb_result *res)
{
    const sb_host_api *h = akv_host;
    if (version == NULL || !SB_HAS_FIELD(version, sb_version_info, created_unix_ms))
        return SB_OK;
    char *id = akv_id_last_segment(h->json_string(h->json_pointer(root, "/id"), NULL));
    if (id == NULL)
        return h->fail(res, SB_E_PROTOCOL, 0, "%s: the SecretBundle has no id", op);
    version->created_unix_ms = akv_attr_ms(root, "created");
    int bad = version->version && h->text_set(version->version, id) != 0;
    free(id);
    return bad ? h->fail(res, SB_E_INTERNAL, 0, "%s: out of memory", op) : SB_OK;
}

static sb_status akv_read(void *inst, const sb_call *call, const sb_secret_ref *ref,
                          sb_bundle **out, sb_version_info *version, sb_result *res)
{
    sb_status st = akv_check_common(inst, call, res, "read");
    if (st != SB_OK)
        return st;
    const sb_host_api *h = akv_host;
    if (out == NULL)
        return h->fail(res, SB_E_INVALID, 0, "read: out must not be NULL");
    *out = NULL;
    if ((st = check_ref(ref, "read", res)) != SB_OK)
        return st;
    akv_instance *ai = inst;
    int versioned = ref->version && ref->version[0];
    sb_json *doc = NULL;
    if (ai->n_fence && versioned) { /* the fence is the current version's tags */
        if ((st = get_secret(ai, call, ref->path, NULL, "read", &doc, res)) != SB_OK)
            return st;
        st = check_fence(ai, doc, ref->path, res);
        h->json_free(doc);
        doc = NULL;
        if (st != SB_OK)
            return st;
    }
    if ((st = get_secret(ai, call, ref->path, ref->version, "read", &doc, res)) != SB_OK)
        return st;
    if (ai->n_fence && !versioned)
        st = check_fence(ai, doc, ref->path, res);
    const sb_json_node *root = h->json_root(doc);
    if (st == SB_OK)
        st = value_bundle(root, out, res);
    if (st == SB_OK)
        st = fill_version(root, version, "read", res);
    h->json_free(doc);
    if (st != SB_OK) {
        h->bundle_free(*out);
        *out = NULL;
    }
    return st;
}

/* ---- write ------------------------------------------------------------------------ */

/* {"value":…[,"contentType":…][,"tags":…]} in secure memory. `cur` is the
 * current version's document (NULL on create). */
static sb_status put_body(const akv_instance *ai, const sb_json *cur, const sb_bundle *values,
                          sb_secure_buf *body, sb_result *res)
{
    const sb_host_api *h = akv_host;
    int map = h->bundle_shape(values) == SB_SHAPE_MAP;
    sb_status st = SB_OK;
    int bad = APPEND_LITERAL(body, "{\"value\":");
    if (map) {
        sb_secure_buf *text = h->secure_new(256);
        st = text ? h->bundle_append_json(values, text, res)
                  : h->fail(res, SB_E_INTERNAL, 0, "write: out of secure memory");
        size_t len = 0;
        const unsigned char *d = text ? h->secure_data(text, &len) : NULL;
        if (st == SB_OK)
            bad |= h->secure_append_json_string(body, (const char *)d, len);
        h->secure_free(text);
    } else {
        const char *key;
        sb_value_kind kind;
        const unsigned char *v;
        size_t len;
        if (h->bundle_count(values) != 1 || h->bundle_entry(values, 0, &key, &kind, &v, &len) != 0)
            return h->fail(res, SB_E_INVALID, 0, "write: a single-value bundle needs one entry");
        if (kind == SB_VALUE_BINARY)
            return h->fail(res, SB_E_INVALID, 0,
                           "write: Key Vault secrets hold text; a binary value cannot be written");
        bad |= h->secure_append_json_string(body, (const char *)v, len);
    }
    if (st != SB_OK)
        return st;
    const sb_json_node *root = cur ? h->json_root(cur) : NULL;
    size_t n = 0;
    const char *ctype = h->json_string(h->json_pointer(root, "/contentType"), &n);
    if (ctype) {
        bad |= APPEND_LITERAL(body, ",\"contentType\":");
        bad |= h->secure_append_json_string(body, ctype, n);
    } else if (cur == NULL && map) {
        bad |= APPEND_LITERAL(body, ",\"contentType\":\"application/json\"");
    }
    const sb_json_node *tags = h->json_pointer(root, "/tags");
    if (h->json_type(tags) == SB_JSON_OBJECT) {
        const char *text = h->json_text(tags, &n);
        bad |= APPEND_LITERAL(body, ",\"tags\":") || h->secure_append(body, text, n);
    } else if (cur == NULL && ai->n_fence) {
        bad |= APPEND_LITERAL(body, ",\"tags\":{");
        for (size_t i = 0; i < ai->n_fence; i++) {
            const char *k = ai->fence[i].key, *v = ai->fence[i].value ? ai->fence[i].value : "";
            bad |= (i && APPEND_LITERAL(body, ",")) ||
                   h->secure_append_json_string(body, k, strlen(k)) ||
                   APPEND_LITERAL(body, ":") ||
                   h->secure_append_json_string(body, v, strlen(v));
        }
        bad |= APPEND_LITERAL(body, "}");
    }
    bad |= APPEND_LITERAL(body, "}");
    return bad ? h->fail(res, SB_E_INTERNAL, 0, "write: out of secure memory") : SB_OK;
}

/* The current version id (heap) of a SecretBundle document. */
static char *doc_version(const sb_json *doc)
{
    const sb_host_api *h = akv_host;
    return akv_id_last_segment(h->json_string(h->json_pointer(h->json_root(doc), "/id"), NULL));
}

/* Step 1: the current version must be `expected`; *cur keeps it (NULL on create). */
static sb_status check_current(akv_instance *ai, const sb_call *call, const char *name,
                               const char *expected, sb_json **cur, sb_result *res)
{
    const sb_host_api *h = akv_host;
    sb_result probe = SB_RESULT_INIT;
    sb_status st = get_secret(ai, call, name, NULL, "write", cur, &probe);
    if (expected[0] == '\0') {
        h->json_free(*cur);
        *cur = NULL;
        if (st == SB_OK)
            st = h->fail(res, SB_E_CONFLICT, 0, "write: %s already exists", name);
        else if (st == SB_E_NOT_FOUND)
            st = SB_OK;
        else
            h->fail(res, st, probe.retry_after_ms, "%s", probe.message);
        h->result_release(&probe);
        return st;
    }
    if (st != SB_OK) {
        h->fail(res, st, probe.retry_after_ms, "%s", probe.message);
        h->result_release(&probe);
        return st;
    }
    h->result_release(&probe);
    if (ai->n_fence && (st = check_fence(ai, *cur, name, res)) != SB_OK)
        return st;
    char *id = doc_version(*cur);
    int moved = id == NULL || strcasecmp(id, expected) != 0;
    free(id);
    if (moved)
        return h->fail(res, SB_E_CONFLICT, 0,
                       "write: %s changed since it was read (the current version is another "
                       "one); re-read and merge",
                       name);
    return SB_OK;
}

static sb_status akv_write(void *inst, const sb_call *call, const sb_secret_ref *ref,
                           const sb_bundle *values, const char *expected,
                           sb_version_info *new_version, sb_result *res)
{
    sb_status st = akv_check_common(inst, call, res, "write");
    if (st != SB_OK)
        return st;
    const sb_host_api *h = akv_host;
    akv_instance *ai = inst;
    if (values == NULL)
        return h->fail(res, SB_E_INVALID, 0, "write: values must not be NULL");
    if ((st = check_ref(ref, "write", res)) != SB_OK)
        return st;
    if (expected == NULL)
        return h->fail(res, SB_E_INVALID, 0,
                       "write: azurekv writes are compare-and-set; pass the version a read "
                       "returned (or SB_CAS_CREATE)");
    sb_json *cur = NULL, *doc = NULL;
    if ((st = check_current(ai, call, ref->path, expected, &cur, res)) != SB_OK) {
        h->json_free(cur);
        return st;
    }
    sb_secure_buf *body = h->secure_new(512);
    char *path = akv_format("/secrets/%s", ref->path);
    char *url = path ? akv_vault_url(ai, path, NULL) : NULL;
    if (body == NULL || url == NULL)
        st = h->fail(res, SB_E_INTERNAL, 0, "write: out of memory");
    else
        st = put_body(ai, cur, values, body, res);
    h->json_free(cur);
    if (st == SB_OK)
        st = akv_vault_call(ai, call, "PUT", url, body, "write", &doc, res);
    h->secure_free(body);
    free(path);
    free(url);
    if (st != SB_OK)
        return st;
    char *written = doc_version(doc);
    int64_t created = akv_attr_ms(h->json_root(doc), "created");
    h->json_free(doc);
    doc = NULL;
    /* step 3: ours must still be the current version */
    if (written == NULL)
        st = h->fail(res, SB_E_PROTOCOL, 0, "write: the answer to the PUT has no id");
    else
        st = get_secret(ai, call, ref->path, NULL, "write (re-check)", &doc, res);
    char *now_current = st == SB_OK ? doc_version(doc) : NULL;
    h->json_free(doc);
    if (st == SB_OK && (now_current == NULL || strcmp(now_current, written) != 0))
        st = h->fail(res, SB_E_CONFLICT, 0,
                     "write: another writer changed %s right after this write (version %s is "
                     "not current); re-read and merge",
                     ref->path, written);
    free(now_current);
    if (st == SB_OK && new_version && SB_HAS_FIELD(new_version, sb_version_info, created_unix_ms)) {
        new_version->created_unix_ms = created;
        if (new_version->version && h->text_set(new_version->version, written) != 0)
            st = h->fail(res, SB_E_INTERNAL, 0, "write: out of memory");
    }
    free(written);
    return st;
}

/* ---- describe ------------------------------------------------------------------------ */

typedef struct newest {
    sb_json *doc;               /* the page holding `item` */
    const sb_json_node *item;
    int64_t created, updated, oldest;
} newest;

static void consider_page(newest *best, sb_json *doc)
{
    const sb_host_api *h = akv_host;
    const sb_json_node *items = h->json_pointer(h->json_root(doc), "/value");
    int took = 0;
    for (size_t i = 0, n = h->json_count(items); i < n; i++) {
        const sb_json_node *item = h->json_member(items, i, NULL);
        int64_t c = akv_attr_ms(item, "created"), u = akv_attr_ms(item, "updated");
        if (c && (best->oldest == 0 || c < best->oldest))
            best->oldest = c;
        if (best->item == NULL || c > best->created || (c == best->created && u >= best->updated)) {
            best->item = item;
            best->created = c;
            best->updated = u;
            took = 1;
        }
    }
    if (took) {
        if (best->doc != doc)
            h->json_free(best->doc);
        best->doc = doc;
    } else {
        h->json_free(doc);
    }
}

static sb_status akv_describe(void *inst, const sb_call *call, const sb_secret_ref *ref,
                              sb_metadata_sink emit, void *sink, sb_result *res)
{
    sb_status st = akv_check_common(inst, call, res, "describe");
    if (st != SB_OK)
        return st;
    const sb_host_api *h = akv_host;
    if (emit == NULL)
        return h->fail(res, SB_E_INVALID, 0, "describe: emit must not be NULL");
    if ((st = check_ref(ref, "describe", res)) != SB_OK)
        return st;
    akv_instance *ai = inst;
    char *path = akv_format("/secrets/%s/versions", ref->path);
    char *url = path ? akv_vault_url(ai, path, "maxresults=25") : NULL;
    free(path);
    if (url == NULL)
        return h->fail(res, SB_E_INTERNAL, 0, "describe: out of memory");
    newest best = {0};
    while (url != NULL && st == SB_OK) {
        sb_json *doc = NULL;
        char *next = NULL;
        st = akv_get_page(ai, call, url, "describe", &doc, &next, res);
        free(url);
        url = next;
        if (st == SB_OK)
            consider_page(&best, doc);
    }
    free(url);
    if (st == SB_OK && best.item == NULL)
        st = h->fail(res, SB_E_NOT_FOUND, 0, "describe: %s has no versions", ref->path);
    if (st == SB_OK && !akv_tags_match(h->json_pointer(best.item, "/tags"), ai->fence, ai->n_fence))
        st = h->fail(res, SB_E_DENIED, 0,
                     "%s: the secret is outside this instance's tag fence (tag_fence)", ref->path);
    if (st == SB_OK) {
        char *version = akv_id_last_segment(h->json_string(h->json_pointer(best.item, "/id"), NULL));
        int nomem = 0;
        akv_emit(best.item, ref->path, version, best.oldest, best.updated, emit, sink, &nomem);
        free(version);
        if (nomem)
            st = h->fail(res, SB_E_INTERNAL, 0, "describe: out of memory");
    }
    h->json_free(best.doc);
    return st;
}

const sb_provider_ops akv_provider_ops = {
    .struct_size = (uint32_t)sizeof(sb_provider_ops),
    .read = akv_read,
    .write = akv_write,
    .describe = akv_describe,
    .list = akv_list,
};
