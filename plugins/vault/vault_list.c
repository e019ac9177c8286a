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
 *   - Concurrency (a host with http_batch, ABI 1.1): when the walk reaches
 *     a folder it lists it together with up to FOLDER_WINDOW - 1 of the
 *     sibling folders it will enter next (breadth-first within a level),
 *     keeping their listings until it reaches them; when it reaches a leaf
 *     it describes it together with the leaves that follow in the same
 *     folder (LEAF_WINDOW at most, never past the page). Outcomes are used
 *     in the walk's order, so what is emitted, the cursor, and which
 *     failure ends a call are exactly those of the one-by-one walk, which
 *     runs on a 1.0 host (windows of one). A page that ends early leaves
 *     at most FOLDER_WINDOW - 1 listings per level unused.
 */
#include "vault.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CURSOR_TAG "after:"
#define FOLDER_WINDOW 8 /* sibling folders listed together (ABI 1.1 host) */
/* Leaves described together (ABI 1.1 host): their answers are alive at once
 * in secure memory, and the host's secure pool keeps 16 released regions of a
 * size, so a wider window would map and unmap regions on every batch. */
#define LEAF_WINDOW 16

struct list_level;

/* A folder listed before the walk reached it. */
typedef struct listed_folder {
    size_t key;               /* its index in the parent level's keys */
    struct list_level *level; /* SB_OK: its listing (heap) */
    sb_status status;         /* else the failure to report on reaching it */
    uint32_t retry_after_ms;
    char *message;            /* heap copy of the failure's message */
} listed_folder;

typedef struct list_level {
    char *folder; /* "" or "a/b/" relative to the configured prefix */
    char **keys;  /* sorted; folder keys end in '/' */
    size_t n, next;
    listed_folder ahead[FOLDER_WINDOW]; /* listed, not yet walked into */
    size_t n_ahead;
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
    sb_metadata_sink emit;
    void *sink;
    int stop; /* the receiver asked to stop */
} list_walk;

static int compare_keys(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void level_free(list_level *l);

static void ahead_free(list_level *l)
{
    for (size_t i = 0; i < l->n_ahead; i++) {
        if (l->ahead[i].level) {
            level_free(l->ahead[i].level);
            free(l->ahead[i].level);
        }
        free(l->ahead[i].message);
    }
    l->n_ahead = 0;
}

static void level_free(list_level *l)
{
    ahead_free(l);
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

/* Fills l (zeroed) from Vault's answer to `LIST folder`, keeping the keys
 * that start with name_prefix (NULL: all). A 404 is an empty folder. */
static sb_status level_from_answer(list_walk *w, const char *folder, const char *name_prefix,
                                   const sb_http_response *resp, list_level *l, sb_result *res)
{
    const sb_host_api *h = vault_host;
    l->folder = vault_strdup(folder);
    if (l->folder == NULL)
        return h->fail(res, SB_E_INTERNAL, 0, "list: out of memory");
    if (resp->status == 404) /* empty or absent folder: Vault cannot tell */
        return SB_OK;
    if (resp->status != 200) {
        sb_status st = vault_fail_http(resp, "list", res);
        level_free(l);
        return st;
    }
    sb_json *doc = NULL;
    sb_status st = vault_parse_body(resp, &doc, "list", res);
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
    return SB_OK;
}

/* Folders listed together: parent->ahead receives one entry per folder. */
typedef struct folder_window {
    list_walk *w;
    list_level *parent;
    const char *name_prefix; /* the query's name filter (the first folder only) */
    char *rels[FOLDER_WINDOW];
    size_t keys[FOLDER_WINDOW];
} folder_window;

/* Keeps a folder's listing, or its failure for when the walk reaches it. */
static sb_status on_folder(void *ctx, size_t i, const sb_result *outcome,
                           const sb_http_response *resp, sb_result *res)
{
    (void)res;
    const sb_host_api *h = vault_host;
    folder_window *fw = ctx;
    listed_folder *lf = &fw->parent->ahead[fw->parent->n_ahead++];
    memset(lf, 0, sizeof *lf);
    lf->key = fw->keys[i];
    sb_result scratch = SB_RESULT_INIT;
    const sb_result *why = outcome;
    lf->status = outcome->status;
    if (lf->status == SB_OK) {
        lf->level = calloc(1, sizeof *lf->level);
        lf->status = lf->level ? level_from_answer(fw->w, fw->rels[i], fw->name_prefix, resp,
                                                   lf->level, &scratch)
                               : h->fail(&scratch, SB_E_INTERNAL, 0, "list: out of memory");
        why = &scratch;
    }
    if (lf->status != SB_OK) {
        free(lf->level);
        lf->level = NULL;
        lf->retry_after_ms = why->retry_after_ms;
        lf->message = vault_strdup(why->message); /* ordinary memory: Vault's sanitised text */
    }
    h->result_release(&scratch);
    return SB_OK;
}

/* LISTs the window's folders (one request each, together when the host
 * can) into fw->parent->ahead. */
static sb_status list_window(folder_window *fw, size_t n, sb_result *res)
{
    const sb_host_api *h = vault_host;
    vault_request rqs[FOLDER_WINDOW];
    char *paths[FOLDER_WINDOW] = {0};
    sb_status st = SB_OK;
    for (size_t i = 0; i < n && st == SB_OK; i++) {
        if ((paths[i] = vault_kv_path(fw->w->vi, "metadata", fw->rels[i])) == NULL)
            st = h->fail(res, SB_E_INTERNAL, 0, "list: out of memory");
        rqs[i] = (vault_request){.method = "LIST", .path = paths[i], .idempotent = 1,
                                 .metric_op = "kv_list"};
    }
    if (st == SB_OK)
        st = vault_call_each(fw->w->vi, fw->w->call, rqs, n, on_folder, fw, res);
    for (size_t i = 0; i < n; i++)
        free(paths[i]);
    return st;
}

/* Walks into a listed folder: its listing becomes the deepest level. */
static sb_status push_listed(list_walk *w, listed_folder *lf, const char *folder, sb_result *res)
{
    const sb_host_api *h = vault_host;
    if (lf->status != SB_OK)
        return h->fail(res, lf->status, lf->retry_after_ms, "%s",
                       lf->message ? lf->message : "list: out of memory");
    if (w->depth == VAULT_LIST_MAX_DEPTH)
        return h->fail(res, SB_E_UNSUPPORTED, 0,
                       "list: folders nest deeper than %d levels under %s", VAULT_LIST_MAX_DEPTH,
                       folder);
    w->levels[w->depth++] = *lf->level;
    free(lf->level);
    lf->level = NULL;
    return SB_OK;
}

/* 1 when the walk goes into folder `rel` (it does not sort wholly before
 * the cursor). */
static int folder_entered(const list_walk *w, const char *rel, size_t len)
{
    return !w->cursor || strcmp(rel, w->cursor) > 0 || strncmp(w->cursor, rel, len) == 0;
}

/* `folder` + `key` on the heap; NULL on no memory. */
static char *join(const char *folder, const char *key)
{
    vault_str s = {0};
    vault_str_add(&s, folder);
    vault_str_add(&s, key);
    if (s.failed)
        vault_str_free(&s);
    return s.p;
}

/* Enters the folder at key index k of level l (the deepest), listing it
 * now together with the next sibling folders the walk will enter, unless
 * an earlier window already did. */
static sb_status enter_folder(list_walk *w, list_level *l, size_t k, const char *rel,
                              sb_result *res)
{
    const sb_host_api *h = vault_host;
    if (w->depth == VAULT_LIST_MAX_DEPTH)
        return h->fail(res, SB_E_UNSUPPORTED, 0,
                       "list: folders nest deeper than %d levels under %s", VAULT_LIST_MAX_DEPTH,
                       rel);
    for (size_t i = 0; i < l->n_ahead; i++)
        if (l->ahead[i].key == k)
            return push_listed(w, &l->ahead[i], rel, res);
    ahead_free(l); /* what an earlier window listed was walked already */
    folder_window fw = {.w = w, .parent = l};
    size_t n = 0, width = vault_host_has_batch() ? FOLDER_WINDOW : 1;
    sb_status st = SB_OK;
    for (size_t j = k; j < l->n && n < width && st == SB_OK; j++) {
        size_t klen = strlen(l->keys[j]);
        if (l->keys[j][klen - 1] != '/')
            continue;
        char *r = join(l->folder, l->keys[j]);
        if (r == NULL)
            st = h->fail(res, SB_E_INTERNAL, 0, "list: out of memory");
        else if (strlen(r) <= VAULT_MAX_PATH && folder_entered(w, r, strlen(r))) {
            fw.rels[n] = r;
            fw.keys[n++] = j;
        } else
            free(r);
    }
    if (st == SB_OK)
        st = list_window(&fw, n, res);
    for (size_t i = 0; i < n; i++)
        free(fw.rels[i]);
    if (st != SB_OK)
        return st;
    return push_listed(w, &l->ahead[0], rel, res); /* the window starts at k */
}

/* Lists the walk's first folder (keys filtered by name_prefix). */
static sb_status push_first_folder(list_walk *w, const char *folder, const char *name_prefix,
                                   sb_result *res)
{
    list_level parent = {0};
    folder_window fw = {.w = w, .parent = &parent, .name_prefix = name_prefix};
    fw.rels[0] = (char *)folder;
    sb_status st = list_window(&fw, 1, res);
    if (st == SB_OK)
        st = push_listed(w, &parent.ahead[0], folder, res);
    ahead_free(&parent);
    return st;
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

/* Leaves described together. */
typedef struct leaf_window {
    list_walk *w;
    char *rels[LEAF_WINDOW];
} leaf_window;

/* Emits one described leaf when it matches; it counts as examined. A leaf
 * gone since the LIST (404) is skipped. Stops (SB_E_CANCELLED, w->stop)
 * when the receiver asks to. */
static sb_status on_leaf(void *ctx, size_t i, const sb_result *outcome,
                         const sb_http_response *resp, sb_result *res)
{
    const sb_host_api *h = vault_host;
    leaf_window *lw = ctx;
    list_walk *w = lw->w;
    const char *rel = lw->rels[i];
    sb_json *doc = NULL;
    sb_result scratch = SB_RESULT_INIT;
    sb_status st = outcome->status;
    const sb_result *why = outcome;
    if (st == SB_OK) {
        st = vault_kv_metadata_from_answer(rel, resp, &doc, &scratch);
        why = &scratch;
    }
    if (st == SB_E_NOT_FOUND) {
        h->result_release(&scratch);
        return SB_OK; /* deleted since the LIST */
    }
    if (st != SB_OK) { /* the message is ordinary memory: safe to copy */
        st = h->fail(res, st, why->retry_after_ms, "%s", why->message);
        h->result_release(&scratch);
        return st;
    }
    h->result_release(&scratch);
    vault_metadata_view view;
    st = vault_kv_metadata_view(doc, rel, &view, res);
    if (st == SB_OK) {
        if (selector_matches(w->q, &view.meta) && w->emit(w->sink, &view.meta) != 0)
            w->stop = 1;
        vault_kv_metadata_view_free(&view);
        free(w->last);
        w->last = lw->rels[i]; /* take ownership */
        lw->rels[i] = NULL;
        w->examined++;
    }
    h->json_free(doc);
    if (st == SB_OK && w->stop)
        return SB_E_CANCELLED;
    return st;
}

/* Describes the leaf at key index k of level l (the deepest) together with
 * the leaves after it in the same folder, up to the page's remaining
 * budget, and moves l->next past them. */
static sb_status describe_leaves(list_walk *w, list_level *l, size_t k, sb_result *res)
{
    const sb_host_api *h = vault_host;
    leaf_window lw = {.w = w};
    vault_request rqs[LEAF_WINDOW];
    char *paths[LEAF_WINDOW] = {0};
    size_t n = 0, budget = w->page - w->examined;
    size_t width = vault_host_has_batch() ? LEAF_WINDOW : 1;
    if (budget < width)
        width = budget;
    sb_status st = SB_OK;
    size_t j = k;
    for (; j < l->n && n < width && st == SB_OK; j++) {
        size_t klen = strlen(l->keys[j]);
        if (l->keys[j][klen - 1] == '/')
            break; /* a folder: the walk goes into it first */
        char *r = join(l->folder, l->keys[j]);
        if (r == NULL) {
            st = h->fail(res, SB_E_INTERNAL, 0, "list: out of memory");
        } else if (strlen(r) > VAULT_MAX_PATH) {
            h->log(SB_LOG_WARN, w->call, "vault: list: skipping a path longer than %d bytes",
                   VAULT_MAX_PATH);
            free(r);
        } else if (w->cursor && strcmp(r, w->cursor) <= 0) {
            free(r);
        } else {
            lw.rels[n] = r;
            paths[n] = vault_kv_path(w->vi, "metadata", r);
            rqs[n] = vault_kv_metadata_request(paths[n]);
            if (paths[n++] == NULL)
                st = h->fail(res, SB_E_INTERNAL, 0, "list: out of memory");
        }
    }
    l->next = j;
    if (st == SB_OK && n > 0)
        st = vault_call_each(w->vi, w->call, rqs, n, on_leaf, &lw, res);
    for (size_t i = 0; i < n; i++) {
        free(lw.rels[i]);
        free(paths[i]);
    }
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
    w->emit = emit;
    w->sink = sink;

    /* "app/d" -> folder "app/", names starting with "d". */
    const char *prefix = query->prefix ? query->prefix : "";
    const char *slash = strrchr(prefix, '/');
    size_t folder_len = slash ? (size_t)(slash - prefix) + 1 : 0;
    vault_str folder = {0};
    vault_str_addn(&folder, prefix, folder_len);
    if (folder.failed)
        st = h->fail(res, SB_E_INTERNAL, 0, "list: out of memory");
    else
        st = push_first_folder(w, folder.p ? folder.p : "", prefix + folder_len, res);
    vault_str_free(&folder);

    while (st == SB_OK && w->depth > 0 && !w->stop) {
        list_level *l = &w->levels[w->depth - 1];
        if (l->next == l->n) {
            level_free(l);
            w->depth--;
            continue;
        }
        size_t k = l->next;
        char *rel = join(l->folder, l->keys[k]);
        if (rel == NULL) {
            st = h->fail(res, SB_E_INTERNAL, 0, "list: out of memory");
            break;
        }
        size_t len = strlen(rel);
        int is_folder = rel[len - 1] == '/';
        if (len > VAULT_MAX_PATH) {
            h->log(SB_LOG_WARN, call, "vault: list: skipping a path longer than %d bytes",
                   VAULT_MAX_PATH);
            l->next++;
        } else if (is_folder) {
            l->next++;
            if (folder_entered(w, rel, len)) /* else it sorts wholly before the cursor */
                st = enter_folder(w, l, k, rel, res);
        } else if (!w->cursor || strcmp(rel, w->cursor) > 0) {
            if (w->examined >= w->page && w->last) {
                /* Another leaf exists: end the page before examining it. */
                if (h->text_printf(next_cursor, "%s%s", CURSOR_TAG, w->last) != 0)
                    st = h->fail(res, SB_E_INTERNAL, 0, "list: out of memory");
                free(rel);
                break;
            }
            st = describe_leaves(w, l, k, res);
        } else {
            l->next++;
        }
        free(rel);
    }
    if (w->stop)
        st = h->fail(res, SB_E_CANCELLED, 0, "list: stopped by the receiver");
    if (st != SB_OK)
        h->text_set(next_cursor, "");
    while (w->depth > 0)
        level_free(&w->levels[--w->depth]);
    free(w->last);
    free(w);
    return st;
}
