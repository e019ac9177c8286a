/*
 * plugins/gcpsm/gcpsm_list.c — PROVIDER list: `GET secrets?filter=&pageSize=
 * &pageToken=` with the instance's label fence.
 *
 * Contract:
 *   - A secret is emitted only when its id starts with query->prefix, its
 *     labels hold every pair of the instance's label_fence AND every pair of
 *     the query's selector (exact value; a NULL selector value only requires
 *     the key). The fence is checked here, on the client side, for every
 *     secret, whatever the server-side filter did: a selector never replaces
 *     the fence.
 *   - Server-side narrowing (an optimisation): the same pairs as a filter
 *     `labels.k="v" AND ... AND name:prefix`, each term only when its text is
 *     plain ([A-Za-z0-9_-]) so the filter language cannot be steered by it.
 *   - Pages of pageSize (query->page_size, default 100, at most 1000) are
 *     followed through nextPageToken until at least page_size secrets were
 *     emitted; the nextPageToken to go on with is then set as next_cursor
 *     (the host passes it back as query->cursor; Google binds it to the same
 *     filter, which is rebuilt identically). Labels are emitted verbatim; the
 *     version is left unknown (listing versions per secret would cost a call
 *     each — describe gives it).
 *   - A sink that asks to stop -> SB_E_CANCELLED.
 */
#include "gcpsm.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LIST_DEFAULT_PAGE 100u
#define LIST_MAX_PAGE 1000u

static int filter_safe(const char *v)
{
    if (v == NULL || v[0] == '\0' || strlen(v) > 255)
        return 0;
    for (const char *p = v; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '_' || *p == '-'))
            return 0;
    return 1;
}

static void add_term(sbp_str *f, const char *key, const char *value)
{
    if (!filter_safe(key) || (value && value[0] && !filter_safe(value)))
        return;
    sbp_str_add(f, f->len ? " AND labels." : "labels.");
    sbp_str_add(f, key);
    if (value == NULL) {
        sbp_str_add(f, ":*");
    } else {
        sbp_str_add(f, "=\"");
        sbp_str_add(f, value);
        sbp_str_add(f, "\"");
    }
}

static char *page_rel(const gcpsm_instance *gi, const sb_list_query *q, uint32_t page,
                      const char *token)
{
    sbp_str f = {0}, rel = {0};
    for (size_t i = 0; i < gi->n_fence; i++)
        add_term(&f, gi->fence[i].key, gi->fence[i].value ? gi->fence[i].value : "");
    for (size_t i = 0; i < q->n_selector; i++)
        add_term(&f, q->selector[i].key, q->selector[i].value);
    if (q->prefix && filter_safe(q->prefix)) {
        sbp_str_add(&f, f.len ? " AND name:" : "name:");
        sbp_str_add(&f, q->prefix);
    }
    sbp_str_addf(&rel, "secrets?pageSize=%u", page);
    if (f.len) {
        sbp_str_add(&rel, "&filter=");
        sbp_str_add_query(&rel, f.p);
    }
    if (token) {
        sbp_str_add(&rel, "&pageToken=");
        sbp_str_add_query(&rel, token);
    }
    char *out = f.failed || rel.failed ? NULL : sbp_strdup(rel.p);
    sbp_str_free(&f);
    sbp_str_free(&rel);
    return out;
}

static int secret_matches(const gcpsm_instance *gi, const sb_list_query *q, const sb_json_node *s)
{
    const sb_host_api *h = gcpsm_host;
    const char *id = gcpsm_last_segment(h->json_string(h->json_pointer(s, "/name"), NULL));
    if (id == NULL)
        return 0;
    if (q->prefix && strncmp(id, q->prefix, strlen(q->prefix)) != 0)
        return 0;
    const sb_json_node *labels = h->json_pointer(s, "/labels");
    return gcpsm_labels_match(labels, gi->fence, gi->n_fence) &&
           gcpsm_labels_match(labels, q->selector, q->n_selector);
}

sb_status gcpsm_list(void *inst, const sb_call *call, const sb_list_query *query,
                     sb_metadata_sink emit, void *sink, sb_text *next_cursor, sb_result *res)
{
    sb_status st = gcpsm_check_common(inst, call, res, "list");
    if (st != SB_OK)
        return st;
    const sb_host_api *h = gcpsm_host;
    if (query == NULL || emit == NULL || next_cursor == NULL)
        return h->fail(res, SB_E_INVALID, 0, "list: query, emit and next_cursor must be given");
    if (query->n_selector && query->selector == NULL)
        return h->fail(res, SB_E_INVALID, 0, "list: selector is NULL with n_selector > 0");
    for (size_t i = 0; i < query->n_selector; i++)
        if (query->selector[i].key == NULL || query->selector[i].key[0] == '\0')
            return h->fail(res, SB_E_INVALID, 0, "list: a selector key is empty");
    gcpsm_instance *gi = inst;
    h->text_set(next_cursor, "");
    uint32_t want = query->page_size ? query->page_size : LIST_DEFAULT_PAGE;
    uint32_t page = want < LIST_MAX_PAGE ? want : LIST_MAX_PAGE;
    char *token = query->cursor && query->cursor[0] ? sbp_strdup(query->cursor) : NULL;
    uint32_t emitted = 0;
    for (;;) {
        char *rel = page_rel(gi, query, page, token);
        if (rel == NULL) {
            st = h->fail(res, SB_E_INTERNAL, 0, "list: out of memory");
            break;
        }
        sb_json *doc = NULL;
        st = gcpsm_call(gi, call, "GET", rel, NULL, 0, "list_secrets", &doc, NULL, 0, res);
        free(rel);
        if (st != SB_OK)
            break;
        const sb_json_node *root = h->json_root(doc);
        const sb_json_node *list = h->json_pointer(root, "/secrets");
        int stopped = 0;
        for (size_t i = 0, n = h->json_count(list); i < n && !stopped && st == SB_OK; i++) {
            const sb_json_node *s = h->json_member(list, i, NULL);
            if (!secret_matches(gi, query, s))
                continue;
            if (gcpsm_emit_secret(s, NULL, 0, 0, emit, sink, &stopped, res) != 0)
                st = SB_E_INTERNAL;
            emitted++;
        }
        free(token);
        size_t tl = 0;
        const char *next = h->json_string(h->json_pointer(root, "/nextPageToken"), &tl);
        token = next && tl ? sbp_strdup(next) : NULL;
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
        if ((st = gcpsm_check_call(call, "list", res)) != SB_OK)
            break;
    }
    free(token);
    return st;
}
