/* api/handler_list.c — see handler_kit.h: the read side of the toolkit.
 * Pages rendered as {"items", "next_cursor"}, the list runner every list
 * handler goes through, and the children-of-a-parent list built on it. */
#include <ctype.h>
#include <stdlib.h>

#include "api/handler_kit.h"

/* Answers a page: {"items": [...], "next_cursor": ...}; frees rows. */
int sb_handler_respond_page(sb_server_request *req, sb_row_set *rows, sb_row_render render)
{
    return sb_handler_respond_page_kept(req, rows, render, NULL, NULL);
}

int sb_handler_respond_page_kept(sb_server_request *req, sb_row_set *rows, sb_row_render render,
                                     bool (*keep)(const sb_row_set *rows, size_t i, void *ctx),
                                     void *ctx)
{
    json_t *items = json_array();
    for (size_t i = 0; i < rows->n; i++)
        if (keep == NULL || keep(rows, i, ctx))
            json_array_append_new(items, render(rows, i));
    json_t *next = json_null();
    if (rows->more && rows->n > 0) {
        char cursor[200];
        sb_api_cursor_encode(sb_rows_last_key(rows), cursor, sizeof cursor);
        json_decref(next);
        next = json_string(cursor);
    }
    sb_row_set_free(rows);
    return sb_http_respond_json(req, 200,
                                json_pack("{s:o, s:o}", "items", items, "next_cursor", next));
}

/* The cursor's inside: a UUID, or the digits of a bigint id. */
static bool cursor_ok(sb_handler_cursor kind, const char *after)
{
    char canon[37];
    if (after[0] == '\0')
        return true;
    if (kind == SB_HANDLER_CURSOR_UUID)
        return sb_rows_uuid(after, canon);
    for (const char *c = after; *c; c++)
        if (!isdigit((unsigned char)*c))
            return false;
    return true;
}

int sb_handler_list_run(sb_handler_op *o, const sb_handler_list *spec, void *filter)
{
    sb_server_request *req = o->req;
    sb_api_page page;
    int rc = -2; /* answered before the store was asked */
    sb_error err = {0};
    if (spec->query && sb_handler_check_query(req, spec->query, spec->n_query) != 0)
        goto done;
    if (sb_api_page_parse(req, &page) != 0)
        goto done;
    if (!cursor_ok(spec->cursor, page.after)) {
        sb_http_respond_error(req, 400, "invalid_cursor",
                              "cursor does not belong to this list: pass the next_cursor of "
                              "the previous page unchanged");
        goto done;
    }
    if (spec->filters && spec->filters(o, filter) != 0)
        goto done;
    if (spec->visible != SB_HANDLER_SEE_ANY &&
        sb_handler_visible_filter(o->who, spec->visible == SB_HANDLER_SEE_TEAMS,
                                  spec->visible_mask ? spec->visible_mask
                                                     : sb_handler_tenant_mask(),
                                  &o->visible, &err) != 0) {
        rc = -1;
        goto done;
    }
    sb_db_conn *conn;
    if (sb_handler_op_acquire(o, &conn) != 0)
        goto done;
    sb_list_page lp = {page.limit, page.after};
    rc = spec->list(conn, o, filter, &lp, &o->rows, &err);
    sb_db_release(o->app->db, conn);
done:
    free((void *)o->visible.ids);
    o->visible = (sb_id_filter){0};
    if (spec->release)
        spec->release(filter);
    if (rc == 0)
        return sb_handler_respond_page(req, &o->rows, spec->render);
    sb_row_set_free(&o->rows);
    if (rc == 1)
        return sb_handler_not_found(req, spec->noun);
    return rc == -2 ? 0 : sb_api_respond_store_error(req, &err);
}

/* The parent exists (1 when not), then its children. */
static int children_list(sb_db_conn *conn, sb_handler_op *o, void *filter,
                         const sb_list_page *page, sb_row_set *out, sb_error *err)
{
    const sb_handler_children *spec = filter;
    sb_row_set parent;
    int rc = spec->get_parent(conn, o->id, false, &parent, err);
    if (rc != 0)
        return rc;
    sb_row_set_free(&parent);
    return spec->list(conn, o->id, page, out, err);
}

int sb_handler_list_children(sb_server_request *req, void *ctx, const sb_handler_children *spec)
{
    static const char *const known[] = {"limit", "cursor"};
    sb_handler_op o;
    sb_handler_op_init(&o, req, ctx);
    if (sb_handler_path_id(req, "id", o.id) != 0 || !spec->visible(o.who, o.id))
        return sb_handler_not_found(req, spec->noun);
    const sb_handler_list list = {.query = known, .n_query = 2, .list = children_list,
                                  .render = spec->render, .noun = spec->noun};
    return sb_handler_list_run(&o, &list, (void *)spec);
}
