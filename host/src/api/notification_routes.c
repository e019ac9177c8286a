/*
 * api/notification_routes.c — the notification outbox for admins (SPEC
 * §14): GET /api/v1/notifications lists outbox rows, newest first, with
 * optional filters state (pending | delivered | dead) and channel; paged
 * by cursor (the last id). Needs notification.edit from a global grant
 * (an admin): the rows name requests and users across every tenant. Dead
 * rows are the ones the worker gave up on (worker/notify_dispatch.h).
 */
#include <string.h>

#include "api/api.h"
#include "api/handler_kit.h"
#include "store/outbox_store.h"

static json_t *parsed(const char *text)
{
    json_t *j = json_loads(text ? text : "", 0, NULL);
    return j ? j : json_array();
}

static json_t *notification_json(const sb_row_set *rows, size_t i)
{
    return json_pack(
        "{s:I, s:s, s:s, s:s, s:o, s:s, s:s, s:o, s:s?, s:s, s:s, s:i, s:s, s:s?, s:s, s:s, s:s?}",
        "id", (json_int_t)sb_rows_int64(rows, i, SB_OUTBOX_COL_ID), "kind",
        sb_rows_text(rows, i, SB_OUTBOX_COL_KIND), "severity",
        sb_rows_text(rows, i, SB_OUTBOX_COL_SEVERITY), "channel",
        sb_rows_text(rows, i, SB_OUTBOX_COL_CHANNEL), "recipients",
        parsed(sb_rows_text(rows, i, SB_OUTBOX_COL_RECIPIENTS)), "title",
        sb_rows_text(rows, i, SB_OUTBOX_COL_TITLE), "summary",
        sb_rows_text(rows, i, SB_OUTBOX_COL_SUMMARY), "fields",
        parsed(sb_rows_text(rows, i, SB_OUTBOX_COL_FIELDS)), "link",
        sb_rows_text_or_null(rows, i, SB_OUTBOX_COL_LINK), "dedupe_key",
        sb_rows_text(rows, i, SB_OUTBOX_COL_DEDUPE_KEY), "state",
        sb_rows_text(rows, i, SB_OUTBOX_COL_STATE), "attempts",
        sb_rows_int(rows, i, SB_OUTBOX_COL_ATTEMPTS), "next_attempt_at",
        sb_rows_text(rows, i, SB_OUTBOX_COL_NEXT_ATTEMPT_AT), "last_error",
        sb_rows_text_or_null(rows, i, SB_OUTBOX_COL_LAST_ERROR), "created_at",
        sb_rows_text(rows, i, SB_OUTBOX_COL_CREATED_AT), "updated_at",
        sb_rows_text(rows, i, SB_OUTBOX_COL_UPDATED_AT), "delivered_at",
        sb_rows_text_or_null(rows, i, SB_OUTBOX_COL_DELIVERED_AT));
}

static int filters(sb_handler_op *o, void *filter)
{
    (void)filter;
    o->status = sb_http_query(o->req, "state");
    o->name = sb_http_query(o->req, "channel");
    if (o->status && strcmp(o->status, "pending") != 0 && strcmp(o->status, "delivered") != 0 &&
        strcmp(o->status, "dead") != 0)
        return sb_http_respond_error(o->req, 400, "invalid_field",
                                     "query parameter state must be pending, delivered or dead"),
               -1;
    return 0;
}

static int list_rows(sb_db_conn *conn, sb_handler_op *o, void *filter, const sb_list_page *page,
                     sb_row_set *out, sb_error *err)
{
    (void)filter;
    return sb_outbox_store_list(conn, o->status, o->name, page, out, err);
}

static int notification_list(sb_server_request *req, void *ctx)
{
    static const char *const known[] = {"limit", "cursor", "state", "channel"};
    static const sb_handler_list spec = {.query = known, .n_query = 4,
                                         .cursor = SB_HANDLER_CURSOR_DIGITS, .filters = filters,
                                         .list = list_rows, .render = notification_json};
    sb_handler_op o;
    sb_handler_op_init(&o, req, ctx);
    if (!sb_rbac_allows_global(o.who->rbac, SB_PERM_NOTIFICATION_EDIT))
        return sb_http_respond_error(req, 403, "forbidden",
                                     "notifications need notification.edit from a global grant");
    return sb_handler_list_run(&o, &spec, NULL);
}

int sb_api_notification_routes(sb_router *r, sb_app *app, sb_error *err)
{
    const sb_route routes[] = {
        {"GET", "/api/v1/notifications", SB_AUTH_SESSION, "notification.edit", notification_list,
         app, "listNotifications",
         "List notification outbox rows, newest first (filters state=pending|delivered|dead, "
         "channel; cursor pagination); admins only"},
    };
    return sb_router_add_all(r, routes, sizeof routes / sizeof routes[0], err);
}
