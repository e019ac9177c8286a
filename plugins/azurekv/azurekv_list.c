/*
 * plugins/azurekv/azurekv_list.c — paging through Key Vault lists, tags as
 * labels, and PROVIDER list.
 *
 * Contract:
 *   - akv_get_page fetches one page (GET /secrets or /secrets/{n}/versions)
 *     and hands back its nextLink. Key Vault's nextLink is an absolute URL
 *     that is followed unchanged (only the bearer token is added) — and only
 *     when it points at the configured vault: it must start with exactly
 *     `{vault_url}/secrets` (scheme, host and port as configured, no user
 *     information), else SB_E_PROTOCOL. A list never sends the vault's token
 *     anywhere else. A cursor handed back by the host is checked the same way.
 *   - list emits a secret when its name starts with query->prefix and its
 *     tags (the current version's, as Key Vault lists them) hold every pair
 *     of the instance's tag_fence AND every pair of the query's selector,
 *     exact key and value. Key Vault has no server-side tag filter, so all of
 *     it is decided here. Names are the last segment of each item's id;
 *     created/updated come from its attributes (Unix seconds); the version is
 *     unknown in a list (describe gives it).
 *   - Pages of maxresults 25 are followed until at least query->page_size
 *     (default 25) secrets were emitted; the nextLink to go on with is then
 *     the next_cursor. A sink that asks to stop -> SB_E_CANCELLED.
 */
#include "azurekv.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

int akv_tags_match(const sb_json_node *tags, const sb_kv *want, size_t n_want)
{
    const sb_host_api *h = akv_host;
    for (size_t i = 0; i < n_want; i++) {
        int hit = 0;
        for (size_t j = 0, n = h->json_count(tags); j < n && !hit; j++) {
            const char *key = NULL;
            const char *v = h->json_string(h->json_member(tags, j, &key), NULL);
            hit = key && v && strcmp(key, want[i].key) == 0 &&
                  strcmp(v, want[i].value ? want[i].value : "") == 0;
        }
        if (!hit)
            return 0;
    }
    return 1;
}

int64_t akv_attr_ms(const sb_json_node *item, const char *key)
{
    const sb_host_api *h = akv_host;
    const sb_json_node *attrs = h->json_pointer(item, "/attributes");
    for (size_t i = 0, n = h->json_count(attrs); i < n; i++) {
        const char *k = NULL;
        const sb_json_node *v = h->json_member(attrs, i, &k);
        int64_t secs = 0;
        if (k && strcmp(k, key) == 0 && h->json_int(v, &secs) == 0 && secs > 0)
            return secs * 1000;
    }
    return 0;
}

int akv_emit(const sb_json_node *item, const char *name, const char *version, int64_t created_ms,
             int64_t updated_ms, sb_metadata_sink emit, void *sink, int *nomem)
{
    const sb_host_api *h = akv_host;
    const sb_json_node *tags = h->json_pointer(item, "/tags");
    size_t nt = h->json_count(tags), nl = 0;
    sb_kv *labels = nt ? calloc(nt, sizeof *labels) : NULL;
    if (nt && labels == NULL) {
        *nomem = 1;
        return 1;
    }
    for (size_t i = 0; i < nt; i++) {
        const char *key = NULL;
        const char *v = h->json_string(h->json_member(tags, i, &key), NULL);
        if (key && v)
            labels[nl++] = (sb_kv){key, v};
    }
    sb_metadata meta = {.struct_size = (uint32_t)sizeof meta, .path = name, .version = version,
                        .created_unix_ms = created_ms, .updated_unix_ms = updated_ms,
                        .labels = labels, .n_labels = nl};
    int rc = emit(sink, &meta);
    free(labels);
    return rc;
}

int akv_next_link_ok(const akv_instance *ai, const char *link)
{
    size_t n = strlen(ai->vault_url);
    return link && strncasecmp(link, ai->vault_url, n) == 0 &&
           strncmp(link + n, "/secrets", 8) == 0 &&
           (link[n + 8] == '?' || link[n + 8] == '/');
}

sb_status akv_get_page(akv_instance *ai, const sb_call *call, const char *url, const char *op,
                       sb_json **doc, char **next, sb_result *res)
{
    const sb_host_api *h = akv_host;
    *next = NULL;
    sb_status st = akv_vault_call(ai, call, "GET", url, NULL, op, doc, res);
    if (st != SB_OK)
        return st;
    const sb_json_node *root = h->json_root(*doc);
    const sb_json_node *link = h->json_pointer(root, "/nextLink");
    if (h->json_type(h->json_pointer(root, "/value")) != SB_JSON_ARRAY)
        st = h->fail(res, SB_E_PROTOCOL, 0, "%s: the answer has no value array", op);
    else if (h->json_type(link) == SB_JSON_STRING) {
        const char *l = h->json_string(link, NULL);
        if (!akv_next_link_ok(ai, l))
            st = h->fail(res, SB_E_PROTOCOL, 0,
                         "%s: Key Vault's nextLink points outside the configured vault (%s); "
                         "not followed",
                         op, ai->vault_url);
        else if ((*next = sbp_strdup(l)) == NULL)
            st = h->fail(res, SB_E_INTERNAL, 0, "%s: out of memory", op);
    }
    if (st != SB_OK) {
        h->json_free(*doc);
        *doc = NULL;
    }
    return st;
}

static int item_matches(const akv_instance *ai, const sb_list_query *q, const sb_json_node *item,
                        const char *name)
{
    const sb_json_node *tags = akv_host->json_pointer(item, "/tags");
    return name && (q->prefix == NULL || strncmp(name, q->prefix, strlen(q->prefix)) == 0) &&
           akv_tags_match(tags, ai->fence, ai->n_fence) &&
           akv_tags_match(tags, q->selector, q->n_selector);
}

/* Emits the matching items of one page; *emitted counts them. */
static sb_status emit_page(akv_instance *ai, const sb_list_query *q, const sb_json_node *items,
                           sb_metadata_sink emit, void *sink, uint32_t *emitted, sb_result *res)
{
    const sb_host_api *h = akv_host;
    for (size_t i = 0, n = h->json_count(items); i < n; i++) {
        const sb_json_node *item = h->json_member(items, i, NULL);
        char *name = akv_id_last_segment(h->json_string(h->json_pointer(item, "/id"), NULL));
        int nomem = 0, stop = 0;
        if (item_matches(ai, q, item, name)) {
            stop = akv_emit(item, name, NULL, akv_attr_ms(item, "created"),
                            akv_attr_ms(item, "updated"), emit, sink, &nomem);
            (*emitted)++;
        }
        free(name);
        if (nomem)
            return h->fail(res, SB_E_INTERNAL, 0, "list: out of memory");
        if (stop)
            return h->fail(res, SB_E_CANCELLED, 0, "list: stopped by the caller");
    }
    return SB_OK;
}

sb_status akv_list(void *inst, const sb_call *call, const sb_list_query *query,
                   sb_metadata_sink emit, void *sink, sb_text *next_cursor, sb_result *res)
{
    sb_status st = akv_check_common(inst, call, res, "list");
    if (st != SB_OK)
        return st;
    const sb_host_api *h = akv_host;
    if (query == NULL || emit == NULL || next_cursor == NULL)
        return h->fail(res, SB_E_INVALID, 0, "list: query, emit and next_cursor must be given");
    if (query->n_selector && query->selector == NULL)
        return h->fail(res, SB_E_INVALID, 0, "list: selector is NULL with n_selector > 0");
    akv_instance *ai = inst;
    h->text_set(next_cursor, "");
    char *url;
    if (query->cursor && query->cursor[0]) {
        if (!akv_next_link_ok(ai, query->cursor))
            return h->fail(res, SB_E_INVALID, 0,
                           "list: the cursor is not a page of the configured vault");
        url = sbp_strdup(query->cursor);
    } else {
        url = akv_vault_url(ai, "/secrets", "maxresults=25");
    }
    if (url == NULL)
        return h->fail(res, SB_E_INTERNAL, 0, "list: out of memory");
    uint32_t want = query->page_size ? query->page_size : AKV_LIST_PAGE, emitted = 0;
    while (url != NULL) {
        sb_json *doc = NULL;
        char *next = NULL;
        st = akv_get_page(ai, call, url, "list", &doc, &next, res);
        free(url);
        url = NULL;
        if (st == SB_OK)
            st = emit_page(ai, query, h->json_pointer(h->json_root(doc), "/value"), emit, sink,
                           &emitted, res);
        h->json_free(doc);
        if (st == SB_OK && next && emitted >= want) {
            if (h->text_set(next_cursor, next) != 0)
                st = h->fail(res, SB_E_INTERNAL, 0, "list: out of memory");
            free(next);
            next = NULL;
        }
        if (st == SB_OK && next)
            st = akv_check_call(call, "list", res);
        if (st != SB_OK) {
            free(next);
            return st;
        }
        url = next;
    }
    return SB_OK;
}
