/*
 * plugins/awssm/awssm_list.c — PROVIDER list: ListSecrets with NextToken
 * paging and the instance's tag fence.
 *
 * Contract:
 *   - A secret is emitted only when its Name starts with query->prefix, its
 *     Tags hold every pair of the instance's tag_fence AND every pair of the
 *     query's selector (exact key and value). The fence is checked here, on
 *     the client side, for every entry: ListSecrets filters are prefix
 *     matches and match tag keys and values independently, so they can
 *     only narrow what AWS sends, never decide. A selector never replaces
 *     the fence.
 *   - Server-side narrowing (an optimisation): a `name` filter for the
 *     prefix and a `tag-key` filter for the first fence key (or else the
 *     first selector key), only when the value is plain text AWS filters
 *     accept and does not start with '!' (which AWS reads as negation).
 *   - Pages of MaxResults (query->page_size, default and cap 100) are
 *     followed through NextToken until at least page_size secrets were
 *     emitted; the NextToken to go on with is then set as next_cursor (the
 *     host passes it back as query->cursor). Planned deletions are skipped.
 *   - A sink that asks to stop -> SB_E_CANCELLED.
 */
#include "awssm.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LIST_MAX_PAGE 100u

/* Characters AWS accepts in a filter value (and no leading '!'). */
static int filter_safe(const char *v)
{
    if (v == NULL || v[0] == '\0' || v[0] == '!' || strlen(v) > 512)
        return 0;
    for (const char *p = v; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              strchr(" :_@/+=.-", *p)))
            return 0;
    return 1;
}

static void add_filter(awssm_str *s, int *n, const char *key, const char *value)
{
    awssm_str_add(s, *n ? ",{\"Key\":\"" : "{\"Key\":\"");
    awssm_str_add(s, key);
    awssm_str_add(s, "\",\"Values\":[");
    awssm_str_add_json(s, value);
    awssm_str_add(s, "]}");
    (*n)++;
}

static sb_secure_buf *list_body(const awssm_instance *ai, const sb_list_query *q,
                                uint32_t page, const char *token)
{
    awssm_str s = {0};
    char num[32];
    snprintf(num, sizeof num, "{\"MaxResults\":%u", page);
    awssm_str_add(&s, num);
    if (token) {
        awssm_str_add(&s, ",\"NextToken\":");
        awssm_str_add_json(&s, token);
    }
    int n = 0;
    awssm_str filters = {0};
    if (q->prefix && filter_safe(q->prefix))
        add_filter(&filters, &n, "name", q->prefix);
    const char *tag_key = ai->n_fence ? ai->fence[0].key : (q->n_selector ? q->selector[0].key : NULL);
    if (tag_key && filter_safe(tag_key))
        add_filter(&filters, &n, "tag-key", tag_key);
    if (n) {
        awssm_str_add(&s, ",\"Filters\":[");
        awssm_str_addn(&s, filters.p, filters.len);
        awssm_str_add(&s, "]");
    }
    awssm_str_add(&s, "}");
    sb_secure_buf *b = filters.failed ? NULL : awssm_secure_from(&s);
    awssm_str_free(&filters);
    awssm_str_free(&s);
    return b;
}

static int entry_matches(const awssm_instance *ai, const sb_list_query *q, const sb_json_node *e)
{
    const sb_host_api *h = awssm_host;
    const char *name = h->json_string(h->json_pointer(e, "/Name"), NULL);
    if (name == NULL)
        return 0;
    if (q->prefix && strncmp(name, q->prefix, strlen(q->prefix)) != 0)
        return 0;
    if (h->json_type(h->json_pointer(e, "/DeletedDate")) == SB_JSON_NUMBER)
        return 0;
    const sb_json_node *tags = h->json_pointer(e, "/Tags");
    return awssm_tags_match(tags, ai->fence, ai->n_fence) &&
           awssm_tags_match(tags, q->selector, q->n_selector);
}

sb_status awssm_list(void *inst, const sb_call *call, const sb_list_query *query,
                     sb_metadata_sink emit, void *sink, sb_text *next_cursor, sb_result *res)
{
    sb_status st = awssm_check_common(inst, call, res, "list");
    if (st != SB_OK)
        return st;
    const sb_host_api *h = awssm_host;
    if (query == NULL || emit == NULL || next_cursor == NULL)
        return h->fail(res, SB_E_INVALID, 0, "list: query, emit and next_cursor must be given");
    if (query->n_selector && query->selector == NULL)
        return h->fail(res, SB_E_INVALID, 0, "list: selector is NULL with n_selector > 0");
    awssm_instance *ai = inst;
    h->text_set(next_cursor, "");
    uint32_t want = query->page_size ? query->page_size : LIST_MAX_PAGE;
    uint32_t page = want < LIST_MAX_PAGE ? want : LIST_MAX_PAGE;
    char *token = query->cursor && query->cursor[0] ? awssm_strdup(query->cursor) : NULL;
    uint32_t emitted = 0;
    awssm_service sm = awssm_sm(ai);
    for (;;) {
        sb_secure_buf *body = list_body(ai, query, page, token);
        if (body == NULL) {
            st = h->fail(res, SB_E_INTERNAL, 0, "list: out of memory");
            break;
        }
        sb_json *doc = NULL;
        st = awssm_call(ai, call, &sm, "ListSecrets", body, 0, 1, &doc, res);
        h->secure_free(body);
        if (st != SB_OK)
            break;
        const sb_json_node *root = h->json_root(doc);
        const sb_json_node *list = h->json_pointer(root, "/SecretList");
        int stopped = 0;
        for (size_t i = 0, n = h->json_count(list); i < n && !stopped && st == SB_OK; i++) {
            const sb_json_node *e = h->json_member(list, i, NULL);
            if (!entry_matches(ai, query, e))
                continue;
            if (awssm_emit_entry(e, "/SecretVersionsToStages", emit, sink, &stopped, res) != 0)
                st = SB_E_INTERNAL;
            emitted++;
        }
        free(token);
        token = awssm_json_strdup(h->json_pointer(root, "/NextToken"));
        h->json_free(doc);
        if (st != SB_OK)
            break;
        if (stopped) {
            st = h->fail(res, SB_E_CANCELLED, 0, "list: stopped by the caller");
            break;
        }
        if (token == NULL)
            break;
        if (emitted >= want) {
            if (h->text_set(next_cursor, token) != 0)
                st = h->fail(res, SB_E_INTERNAL, 0, "list: out of memory");
            break;
        }
        st = awssm_check_call(call, "list", res);
        if (st != SB_OK)
            break;
    }
    free(token);
    return st;
}
