/*
 * plugins/vault/vault_list.c — PROVIDER list: a recursive walk of a KV v2
 * mount's metadata tree.
 *
 * Contract:
 *   - `query->prefix` is relative to the configured `prefix` (it can never
 *     reach outside it: '.'/'..'/empty segments are refused). It is a string
 *     prefix: "app/" lists the folder app/, "app/d" lists the entries of
 *     app/ whose names start with "d" (and everything below matching
 *     folders).
 *   - Each folder is read with `LIST {kv_mount}/metadata/{prefix}{folder}`
 *     (keys ending in '/' are folders); a 404 is an empty folder, as Vault
 *     cannot tell the two apart. Each leaf is described with
 *     `GET …/metadata/…`, its custom_metadata becomes the labels verbatim,
 *     and it is emitted when every selector pair equals one of them (a
 *     selector pair with a NULL value only requires the key). A leaf that
 *     vanished between LIST and GET (404) is skipped.
 *   - Order and paging: keys of a folder are sorted bytewise, and because a
 *     folder key ends in '/', depth-first order is exactly the bytewise
 *     order of the full paths. A call examines at most `page_size` leaves
 *     (default 500, at most 5000), then returns SB_OK with next_cursor
 *     "after:<last path examined>" when another leaf exists; the next call
 *     re-lists only the folders on the way to that path and skips every
 *     folder that sorts wholly before it. next_cursor "" means done.
 *   - The emit callback's stop request ends the call with SB_E_CANCELLED;
 *     a call past its deadline ends with SB_E_TIMEOUT (SB_E_CANCELLED when
 *     the host cancelled it). Items already emitted stay emitted; the host
 *     resumes from its last cursor.
 *   - Emitted paths are relative to the configured prefix, so they can be
 *     passed back to read/write/describe as they are.
 */
#include "vault.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CURSOR_TAG "after:"

typedef struct list_level {
    char *folder; /* "" or "a/b/" relative to the configured prefix */
    char **keys;  /* sorted; folder keys end in '/' */
    size_t n, next;
} list_level;

typedef struct list_walk {
    vault_instance *vi;
    const sb_call *call;
    const sb_list_query *q;
    const char *cursor; /* resume strictly after this path; NULL: start */
    list_level levels[VAULT_LIST_MAX_DEPTH];
    size_t depth;
    char *last; /* last leaf examined (heap) */
    size_t examined, page;
} list_walk;

static int compare_keys(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void level_free(list_level *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->keys[i]);
    free(l->keys);
    free(l->folder);
    memset(l, 0, sizeof *l);
}

/* A LIST key is one path segment, optionally followed by '/'. */
static int key_usable(const char *k, size_t len)
{
    size_t body = len && k[len - 1] == '/' ? len - 1 : len;
    if (body == 0 || memchr(k, '/', body) != NULL)
        return 0;
    if ((body == 1 && k[0] == '.') || (body == 2 && k[0] == '.' && k[1] == '.'))
        return 0;
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)k[i] < 0x20 || k[i] == 0x7f)
            return 0;
    return 1;
}

/* Lists `folder` into a new level (keys filtered by `name_prefix`). */
static sb_status push_folder(list_walk *w, const char *folder, const char *name_prefix,
                             sb_result *res)
{
    const sb_host_api *h = vault_host;
    if (w->depth == VAULT_LIST_MAX_DEPTH)
        return h->fail(res, SB_E_UNSUPPORTED, 0,
                       "list: folders nest deeper than %d levels under %s", VAULT_LIST_MAX_DEPTH,
                       folder);
    char *path = vault_kv_path(w->vi, "metadata", folder);
    if (path == NULL)
        return h->fail(res, SB_E_INTERNAL, 0, "list: out of memory");
    vault_request rq = {.method = "LIST", .path = path, .idempotent = 1, .metric_op = "kv_list"};
    sb_http_response resp;
    sb_status st = vault_call(w->vi, w->call, &rq, &resp, res);
    free(path);
    if (st != SB_OK)
        return st;

    list_level *l = &w->levels[w->depth];
    memset(l, 0, sizeof *l);
    l->folder = vault_strdup(folder);
    if (l->folder == NULL) {
        h->http_response_free(&resp);
        return h->fail(res, SB_E_INTERNAL, 0, "list: out of memory");
    }
    if (resp.status == 404) { /* empty or absent folder: Vault cannot tell */
        h->http_response_free(&resp);
        w->depth++;
        return SB_OK;
    }
    if (resp.status != 200) {
        st = vault_fail_http(&resp, "list", res);
        h->http_response_free(&resp);
        level_free(l);
        return st;
    }
    sb_json *doc = NULL;
    st = vault_parse_body(&resp, &doc, "list", res);
    h->http_response_free(&resp);
    if (st != SB_OK) {
        level_free(l);
        return st;
    }
    const sb_json_node *keys = h->json_pointer(h->json_root(doc), "/data/keys");
    if (h->json_type(keys) != SB_JSON_ARRAY) {
        h->json_free(doc);
        level_free(l);
        return h->fail(res, SB_E_PROTOCOL, 0, "list %s: Vault's answer has no data.keys array",
                       folder[0] ? folder : "(root)");
    }
    size_t n = h->json_count(keys), plen = name_prefix ? strlen(name_prefix) : 0;
    l->keys = calloc(n ? n : 1, sizeof *l->keys);
    if (l->keys == NULL) {
        h->json_free(doc);
        level_free(l);
        return h->fail(res, SB_E_INTERNAL, 0, "list: out of memory");
    }
    for (size_t i = 0; i < n; i++) {
        size_t len = 0;
        const char *k = h->json_string(h->json_member(keys, i, NULL), &len);
        if (k == NULL || strlen(k) != len || !key_usable(k, len)) {
            h->log(SB_LOG_WARN, w->call, "vault: list %s: skipping an unusable key",
                   folder[0] ? folder : "(root)");
            continue;
        }
        if (plen && strncmp(k, name_prefix, plen) != 0)
            continue;
        if ((l->keys[l->n] = vault_strdup(k)) == NULL) {
            h->json_free(doc);
            level_free(l);
            return h->fail(res, SB_E_INTERNAL, 0, "list: out of memory");
        }
        l->n++;
    }
    h->json_free(doc);
    qsort(l->keys, l->n, sizeof *l->keys, compare_keys);
    w->depth++;
    return SB_OK;
}

static int selector_matches(const sb_list_query *q, const sb_metadata *m)
{
    for (size_t i = 0; i < q->n_selector; i++) {
        const sb_kv *want = &q->selector[i];
        int found = 0;
        for (size_t j = 0; j < m->n_labels && !found; j++)
            found = strcmp(m->labels[j].key, want->key) == 0 &&
                    (want->value == NULL || strcmp(m->labels[j].value, want->value) == 0);
        if (!found)
            return 0;
    }
    return 1;
}

/* Describes one leaf and emits it when it matches. *stop on a stop request. */
static sb_status visit_leaf(list_walk *w, const sb_metadata_sink emit, void *sink, const char *rel,
                            int *stop, sb_result *res)
{
    const sb_host_api *h = vault_host;
    sb_json *doc = NULL;
    sb_result scratch = SB_RESULT_INIT;
    sb_status st = vault_kv_get_metadata(w->vi, w->call, rel, &doc, &scratch);
    if (st == SB_E_NOT_FOUND)
        return SB_OK; /* deleted since the LIST */
    if (st != SB_OK) { /* scratch.message is ordinary memory: safe to copy */
        st = h->fail(res, st, scratch.retry_after_ms, "%s", scratch.message);
        h->result_release(&scratch);
        return st;
    }
    h->result_release(&scratch);
    vault_metadata_view view;
    st = vault_kv_metadata_view(doc, rel, &view, res);
    if (st == SB_OK) {
        if (selector_matches(w->q, &view.meta) && emit(sink, &view.meta) != 0)
            *stop = 1;
        vault_kv_metadata_view_free(&view);
    }
    h->json_free(doc);
    return st;
}

static sb_status check_query(const sb_list_query *q, sb_metadata_sink emit,
                             sb_text *next_cursor, sb_result *res)
{
    const sb_host_api *h = vault_host;
    if (next_cursor == NULL)
        return h->fail(res, SB_E_INVALID, 0, "list: the next_cursor out-parameter is NULL");
    h->text_set(next_cursor, "");
    if (q == NULL)
        return h->fail(res, SB_E_INVALID, 0, "list: the query is NULL");
    if (!SB_HAS_FIELD(q, sb_list_query, cursor))
        return h->fail(res, SB_E_INVALID, 0,
                       "list: the query has struct_size %u, expected at least %zu",
                       (unsigned)q->struct_size, sizeof(sb_list_query));
    if (emit == NULL)
        return h->fail(res, SB_E_INVALID, 0, "list: the emit callback is NULL");
    const char *why = vault_check_prefix(q->prefix);
    if (why)
        return h->fail(res, SB_E_INVALID, 0, "list: invalid prefix: %s", why);
    if (q->n_selector > 0 && q->selector == NULL)
        return h->fail(res, SB_E_INVALID, 0, "list: n_selector is %zu but selector is NULL",
                       q->n_selector);
    for (size_t i = 0; i < q->n_selector; i++)
        if (q->selector[i].key == NULL || q->selector[i].key[0] == '\0')
            return h->fail(res, SB_E_INVALID, 0, "list: selector %zu has no key", i);
    if (q->cursor && q->cursor[0]) {
        const char *after = q->cursor + strlen(CURSOR_TAG);
        const char *prefix = q->prefix ? q->prefix : "";
        if (strncmp(q->cursor, CURSOR_TAG, strlen(CURSOR_TAG)) != 0 || vault_check_path(after) ||
            strncmp(after, prefix, strlen(prefix)) != 0)
            return h->fail(res, SB_E_INVALID, 0,
                           "list: the cursor was not produced by this plugin for this prefix");
    }
    return SB_OK;
}

sb_status vault_kv_list(void *inst, const sb_call *call, const sb_list_query *query,
                        sb_metadata_sink emit, void *sink, sb_text *next_cursor, sb_result *res)
{
    sb_status st = vault_check_common(inst, call, res, "list");
    if (st != SB_OK) {
        if (next_cursor)
            vault_host->text_set(next_cursor, "");
        return st;
    }
    if ((st = check_query(query, emit, next_cursor, res)) != SB_OK)
        return st;
    const sb_host_api *h = vault_host;

    list_walk *w = calloc(1, sizeof *w);
    if (w == NULL)
        return h->fail(res, SB_E_INTERNAL, 0, "list: out of memory");
    w->vi = inst;
    w->call = call;
    w->q = query;
    w->cursor = query->cursor && query->cursor[0] ? query->cursor + strlen(CURSOR_TAG) : NULL;
    w->page = query->page_size ? query->page_size : VAULT_LIST_DEFAULT_PAGE;
    if (w->page > VAULT_LIST_MAX_PAGE)
        w->page = VAULT_LIST_MAX_PAGE;

    /* "app/d" -> folder "app/", names starting with "d". */
    const char *prefix = query->prefix ? query->prefix : "";
    const char *slash = strrchr(prefix, '/');
    size_t folder_len = slash ? (size_t)(slash - prefix) + 1 : 0;
    vault_str folder = {0};
    vault_str_addn(&folder, prefix, folder_len);
    if (folder.failed)
        st = h->fail(res, SB_E_INTERNAL, 0, "list: out of memory");
    else
        st = push_folder(w, folder.p ? folder.p : "", prefix + folder_len, res);
    vault_str_free(&folder);

    int stop = 0;
    while (st == SB_OK && w->depth > 0 && !stop) {
        list_level *l = &w->levels[w->depth - 1];
        if (l->next == l->n) {
            level_free(l);
            w->depth--;
            continue;
        }
        const char *key = l->keys[l->next++];
        vault_str rel = {0};
        vault_str_add(&rel, l->folder);
        vault_str_add(&rel, key);
        if (rel.failed) {
            vault_str_free(&rel);
            st = h->fail(res, SB_E_INTERNAL, 0, "list: out of memory");
            break;
        }
        int is_folder = rel.p[rel.len - 1] == '/';
        if (rel.len > VAULT_MAX_PATH) {
            h->log(SB_LOG_WARN, call, "vault: list: skipping a path longer than %d bytes",
                   VAULT_MAX_PATH);
        } else if (is_folder) {
            /* Skip folders that sort wholly before the cursor. */
            if (!w->cursor || strcmp(rel.p, w->cursor) > 0 ||
                strncmp(w->cursor, rel.p, rel.len) == 0)
                st = push_folder(w, rel.p, NULL, res);
        } else if (!w->cursor || strcmp(rel.p, w->cursor) > 0) {
            if (w->examined >= w->page && w->last) {
                /* Another leaf exists: end the page before examining it. */
                if (h->text_printf(next_cursor, "%s%s", CURSOR_TAG, w->last) != 0)
                    st = h->fail(res, SB_E_INTERNAL, 0, "list: out of memory");
                vault_str_free(&rel);
                break;
            }
            st = visit_leaf(w, emit, sink, rel.p, &stop, res);
            if (st == SB_OK) {
                free(w->last);
                w->last = rel.p; /* take ownership */
                rel.p = NULL;
                w->examined++;
            }
        }
        vault_str_free(&rel);
    }
    if (st == SB_OK && stop)
        st = h->fail(res, SB_E_CANCELLED, 0, "list: stopped by the receiver");
    if (st != SB_OK)
        h->text_set(next_cursor, "");
    while (w->depth > 0)
        level_free(&w->levels[--w->depth]);
    free(w->last);
    free(w);
    return st;
}
