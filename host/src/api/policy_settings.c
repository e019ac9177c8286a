/*
 * api/policy_settings.c — a policy rule's history, and the platform
 * setting policy.reserved_priority (registered by sb_api_policy_routes).
 *
 * Contract:
 *   - GET /policy-rules/{id}/history lists the rule's policy.rule.create,
 *     .update and .delete audit events (successes), newest first, each with
 *     the whole rule after the change. It survives the rule's deletion: the
 *     anchor that decides visibility (api/policy_api.h) is the live rule's,
 *     or after deletion the one in its newest event. Unseen or unknown: 404.
 *     Paged by audit event id (limit + opaque cursor).
 *   - GET /platform-settings/{key} is open to every signed-in user (the
 *     band is what scoped authors must stay below; it is not a secret).
 *     PUT needs policy.edit from a global grant; the value is an integer
 *     1..10000; the change is audited (platform_setting.update, resource
 *     "platform_setting:<key>", previous and new value) and never rewrites
 *     existing rules: rules already in the band stay, and the band applies
 *     to the next write. The only key is policy.reserved_priority; others
 *     are 404.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/policy_api.h"
#include "domain/domain_error.h"

/* ---- history ------------------------------------------------------------------ */

static json_t *history_json(const sb_row_set *rows, size_t i)
{
    json_t *d = json_loads(sb_rows_text(rows, i, 4), 0, NULL);
    json_t *out = json_pack("{s:s, s:s, s:s, s:s, s:O?, s:O?}", "id", sb_rows_text(rows, i, 0),
                            "occurred_at", sb_rows_text(rows, i, 1), "actor",
                            sb_rows_text(rows, i, 2), "action", sb_rows_text(rows, i, 3), "rule",
                            json_object_get(d, "rule"), "fields", json_object_get(d, "fields"));
    json_decref(d);
    return out;
}

/* The anchor deciding who sees the history: the live rule's, else the one
 * of its newest event. 0 visible, 1 not (unknown or unseen), -1 error. */
static int history_visible(sb_db_conn *conn, const sb_identity *who, const char *id,
                           sb_error *err)
{
    sb_row_set rows;
    int rc = sb_policy_store_get(conn, id, false, &rows, err);
    if (rc < 0)
        return -1;
    if (rc == 0) {
        sb_policy_rule_row r;
        sb_policy_store_at(&rows, 0, &r);
        bool seen = sb_policy_api_rule_visible(who, r.anchor_type, r.anchor_id);
        sb_row_set_free(&rows);
        return seen ? 0 : 1;
    }
    sb_list_page newest = {1, NULL};
    if (sb_policy_store_history(conn, id, &newest, &rows, err) != 0)
        return -1;
    bool seen = false;
    if (rows.n > 0) {
        json_t *d = json_loads(sb_rows_text(&rows, 0, 4), 0, NULL);
        json_t *anchor = json_object_get(json_object_get(d, "rule"), "anchor");
        const char *type = json_string_value(json_object_get(anchor, "type"));
        seen = type && sb_policy_api_rule_visible(
                           who, type, json_string_value(json_object_get(anchor, "id")));
        json_decref(d);
    }
    sb_row_set_free(&rows);
    return seen ? 0 : 1;
}

static int history_rows(sb_db_conn *conn, sb_handler_op *o, void *filter,
                        const sb_list_page *page, sb_row_set *out, sb_error *err)
{
    (void)filter;
    int rc = history_visible(conn, o->who, o->id, err);
    return rc == 0 ? sb_policy_store_history(conn, o->id, page, out, err) : rc;
}

int sb_policy_api_history(sb_server_request *req, void *ctx)
{
    static const char *const known[] = {"limit", "cursor"};
    static const sb_handler_list spec = {.query = known, .n_query = 2,
                                         .cursor = SB_HANDLER_CURSOR_DIGITS, .list = history_rows,
                                         .render = history_json, .noun = "policy rule"};
    sb_handler_op o;
    sb_handler_op_init(&o, req, ctx);
    if (sb_handler_path_id(req, "id", o.id) != 0)
        return sb_handler_not_found(req, "policy rule");
    return sb_handler_list_run(&o, &spec, NULL);
}

/* ---- the platform setting ------------------------------------------------------- */

static json_t *setting_json(const sb_row_set *rows, size_t i)
{
    return json_pack("{s:s, s:i, s:s?}", "key", sb_rows_text(rows, i, 0), "value",
                     sb_rows_int(rows, i, 1), "updated_at",
                     sb_rows_text_or_null(rows, i, 2));
}

/* The path key: 0 known, -1 answered 404. */
static int setting_key(sb_server_request *req)
{
    const char *key = sb_http_param(req, "key");
    if (key && strcmp(key, SB_POLICY_SETTING_RESERVED) == 0)
        return 0;
    return sb_http_respond_error(req, 404, "not_found",
                                 "no platform setting with that key; the settings are: %s",
                                 SB_POLICY_SETTING_RESERVED),
           -1;
}

static int setting_get(sb_server_request *req, void *ctx)
{
    sb_handler_op o;
    sb_handler_op_init(&o, req, ctx);
    if (setting_key(req) != 0)
        return 0;
    sb_db_conn *conn;
    if (sb_handler_op_acquire(&o, &conn) != 0)
        return 0;
    sb_error err = {0};
    int rc = sb_policy_store_reserved_row(conn, &o.rows, &err);
    sb_db_release(o.app->db, conn);
    if (rc != 0)
        return sb_api_respond_store_error(req, &err);
    json_t *out = setting_json(&o.rows, 0);
    sb_row_set_free(&o.rows);
    return sb_http_respond_json(req, 200, out);
}

static int setting_txn(sb_db_conn *conn, sb_handler_op *o, sb_error *err)
{
    int previous;
    if (sb_handler_op_need_team(o, SB_PERM_POLICY_EDIT, NULL, "changing a platform setting",
                                err) != 0 ||
        sb_policy_store_set_reserved_priority(conn, o->risk_level, &previous, &o->rows, err) != 0)
        return -1;
    return sb_handler_op_audit(conn, o, "platform_setting.update", "platform_setting",
                               SB_POLICY_SETTING_RESERVED,
                               json_pack("{s:s, s:i, s:i}", "key", SB_POLICY_SETTING_RESERVED,
                                         "previous", previous, "value", o->risk_level),
                               err);
}

static const sb_field_spec setting_spec[] = {{"value", SB_FIELD_INTEGER, 1}};

static int setting_put(sb_server_request *req, void *ctx)
{
    sb_handler_op o;
    sb_handler_op_init(&o, req, ctx);
    if (setting_key(req) != 0 || sb_handler_read_body(req, setting_spec, 1, &o.body) != 0)
        return 0;
    json_int_t v = json_integer_value(json_object_get(o.body, "value"));
    if (v < SB_POLICY_RESERVED_MIN || v > SB_POLICY_RESERVED_MAX)
        return sb_handler_invalid(req, "%s value must be an integer between %d and %d",
                                      SB_POLICY_SETTING_RESERVED, SB_POLICY_RESERVED_MIN,
                                      SB_POLICY_RESERVED_MAX),
               0;
    o.risk_level = (int)v; /* the op's integer slot carries the value */
    o.render = setting_json;
    return sb_handler_op_run(&o, setting_txn);
}

int sb_policy_settings_routes(sb_router *r, sb_app *app, sb_error *err)
{
    const sb_route routes[] = {
        {"GET", "/api/v1/platform-settings/{key}", SB_AUTH_SESSION, NULL, setting_get, app,
         "getPlatformSetting", "Read a platform setting (policy.reserved_priority)"},
        {"PUT", "/api/v1/platform-settings/{key}", SB_AUTH_SESSION, "policy.edit", setting_put,
         app, "setPlatformSetting",
         "Change a platform setting (policy.reserved_priority: 1..10000; never rewrites rules)"},
    };
    return sb_router_add_all(r, routes, sizeof routes / sizeof routes[0], err);
}
