/*
 * api/audit_routes.c — reading the audit trail.
 *
 *   GET /api/v1/audit-events         events newest first, filtered, paginated
 *   GET /api/v1/audit-events/verify  the chain's verification report
 *
 * Contract: both need audit.read from a GLOBAL grant (the catalog checks
 * it at platform level: the trail covers every team). The gate lets
 * through anyone holding audit.read somewhere; a caller whose grant is
 * only team- or project-scoped is refused here with 403 and an audited
 * denial. Filters: actor, action, resource, correlation_id, outcome
 * (exact match), since/until (RFC 3339; since <= occurred_at < until),
 * limit (1..500, default 50) and cursor (next_cursor of the previous
 * page). An unknown, repeated or malformed parameter is 400 invalid_field
 * naming it. The response is {"items":[event…],"next_cursor":text|null};
 * each event carries its fields, `sealed` and chain_seq (null until
 * sealed). Reading the trail is not itself audited.
 */
#include <errno.h>
#include <inttypes.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "store/audit_store.h"
#include "util/log.h"

#define FILTER_TEXT_MAX 512

/* ---- parameters ---------------------------------------------------------- */

static int digits(const char *s, int n)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

static int days_in_month(int y, int m)
{
    static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return m == 2 && leap ? 29 : days[m - 1];
}

/* RFC 3339 date-time: YYYY-MM-DDTHH:MM:SS[.fraction](Z|+HH:MM|-HH:MM). */
static int rfc3339_valid(const char *s)
{
    size_t n = strlen(s);
    if (n < 20 || n > 40 || s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != 't') ||
        s[13] != ':' || s[16] != ':')
        return 0;
    int y = digits(s, 4), mo = digits(s + 5, 2), d = digits(s + 8, 2);
    int h = digits(s + 11, 2), mi = digits(s + 14, 2), se = digits(s + 17, 2);
    if (y < 1 || mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo) || h < 0 || h > 23 ||
        mi < 0 || mi > 59 || se < 0 || se > 60)
        return 0;
    const char *p = s + 19;
    if (*p == '.') {
        int k = 0;
        while (p[1 + k] >= '0' && p[1 + k] <= '9')
            k++;
        if (k < 1 || k > 9)
            return 0;
        p += 1 + k;
    }
    if ((p[0] == 'Z' || p[0] == 'z') && p[1] == '\0')
        return 1;
    if ((p[0] != '+' && p[0] != '-') || strlen(p) != 6 || p[3] != ':')
        return 0;
    int oh = digits(p + 1, 2), om = digits(p + 4, 2);
    return oh >= 0 && oh <= 15 && om >= 0 && om <= 59; /* PostgreSQL: |offset| < 16 h */
}

static int bad_field(sb_server_request *req, const char *name, const char *why)
{
    sb_http_respond_error(req, 400, "invalid_field", "query parameter %s %s", name, why);
    return -1;
}

static const char *const known_params[] = {"actor", "action", "resource", "correlation_id", "outcome",
                                           "since", "until",  "limit",    "cursor"};
#define N_KNOWN (sizeof known_params / sizeof known_params[0])

/* Refuses unknown and repeated parameters, so a typo ("acter=") never
 * silently widens the listing. */
static int check_param_names(sb_server_request *req)
{
    size_t n = sb_http_query_count(req);
    for (size_t i = 0; i < n; i++) {
        const char *name, *value;
        if (sb_http_query_at(req, i, &name, &value) != 0)
            break;
        size_t k = 0;
        while (k < N_KNOWN && strcmp(name, known_params[k]) != 0)
            k++;
        if (k == N_KNOWN) {
            sb_http_respond_error(req, 400, "invalid_field",
                                  "unknown query parameter \"%.40s\" (expected actor, action, resource, "
                                  "correlation_id, outcome, since, until, limit, cursor)", name);
            return -1;
        }
        const char *values[2];
        if (sb_http_query_all(req, name, values, 2) > 1)
            return bad_field(req, name, "is given more than once");
    }
    return 0;
}

static int text_filter(sb_server_request *req, const char *name, const char **out)
{
    const char *v = sb_http_query(req, name);
    *out = NULL;
    if (v == NULL)
        return 0;
    if (v[0] == '\0')
        return bad_field(req, name, "is empty (omit it to not filter)");
    if (strlen(v) > FILTER_TEXT_MAX)
        return bad_field(req, name, "is longer than 512 characters");
    *out = v;
    return 0;
}

static int parse_filters(sb_server_request *req, sb_audit_filter *f)
{
    memset(f, 0, sizeof *f);
    if (check_param_names(req) != 0 || text_filter(req, "actor", &f->actor) != 0 ||
        text_filter(req, "action", &f->action) != 0 || text_filter(req, "resource", &f->resource) != 0 ||
        text_filter(req, "correlation_id", &f->correlation_id) != 0 ||
        text_filter(req, "outcome", &f->outcome) != 0 || text_filter(req, "since", &f->since) != 0 ||
        text_filter(req, "until", &f->until) != 0)
        return -1;
    if (f->action && !sb_audit_action_valid(f->action))
        return bad_field(req, "action", "is not an action name (like team.create: lowercase letters, "
                         "digits, '_' and '.')");
    if (f->outcome && !sb_audit_outcome_valid(f->outcome))
        return bad_field(req, "outcome", "must be success, failure or denied");
    const char *times[] = {"since", "until"}, *values[] = {f->since, f->until};
    for (int i = 0; i < 2; i++)
        if (values[i] && !rfc3339_valid(values[i]))
            return bad_field(req, times[i], strchr(values[i], ' ')
                                                ? "is not an RFC 3339 time (a '+' in a query string "
                                                  "means a space: encode it as %2B)"
                                                : "is not an RFC 3339 time such as "
                                                  "2026-11-28T13:45:00Z or 2026-11-28T14:45:00+01:00");
    return 0;
}

/* ---- handlers ------------------------------------------------------------ */

/* 1 when the caller holds audit.read globally; else answers 403 (audited). */
static int allowed(sb_app *app, sb_server_request *req)
{
    const sb_identity *id = sb_api_identity(req);
    if (id && id->rbac && sb_rbac_allows_global(id->rbac, SB_PERM_AUDIT_READ))
        return 1;
    json_t *details = json_pack("{s:s, s:s, s:s, s:s}", "method", sb_http_method(req), "route",
                                sb_http_route_pattern(req), "permission", "audit.read", "scope",
                                "global");
    sb_api_audit_event ev = {"access.denied", sb_http_route_pattern(req), "denied", "warning", details};
    sb_api_audit_now(app, req, &ev);
    json_decref(details);
    sb_http_respond_error(req, 403, "forbidden",
                          "reading the audit trail needs the audit.read permission from a global "
                          "grant (a team or project grant does not reach platform-wide events)");
    return 0;
}

typedef struct list_ctx {
    json_t *items;
    long limit;
    int more;
    int64_t last_id;
} list_ctx;

static json_t *text_or_null(const char *s) { return s ? json_string(s) : json_null(); }

static int add_item(void *vctx, const sb_audit_event *e)
{
    list_ctx *l = vctx;
    if ((long)json_array_size(l->items) == l->limit) {
        l->more = 1; /* the extra row fetched only to know a next page exists */
        return 1;
    }
    json_t *details = json_loads(e->details, 0, NULL);
    json_t *item = json_object();
    json_object_set_new(item, "id", json_integer(e->id));
    json_object_set_new(item, "occurred_at", json_string(e->occurred_at));
    json_object_set_new(item, "actor", json_string(e->actor));
    json_object_set_new(item, "action", json_string(e->action));
    json_object_set_new(item, "resource", json_string(e->resource));
    json_object_set_new(item, "outcome", json_string(e->outcome));
    json_object_set_new(item, "severity", json_string(e->severity));
    json_object_set_new(item, "correlation_id", json_string(e->correlation_id));
    json_object_set_new(item, "request_id", text_or_null(e->request_id));
    json_object_set_new(item, "remote_ip", text_or_null(e->remote_ip));
    json_object_set_new(item, "details", details ? details : json_object());
    json_object_set_new(item, "sealed", json_boolean(e->sealed));
    json_object_set_new(item, "chain_seq", e->sealed ? json_integer(e->chain_seq) : json_null());
    json_object_set_new(item, "sealed_at", text_or_null(e->sealed_at));
    json_array_append_new(l->items, item);
    l->last_id = e->id;
    return 0;
}

static int parse_after(const char *text, int64_t *out)
{
    if (text[0] == '\0') {
        *out = 0;
        return 0;
    }
    char *end;
    errno = 0;
    long long v = strtoll(text, &end, 10);
    if (errno || *end || v < 1 || text[0] < '1' || text[0] > '9')
        return -1;
    *out = v;
    return 0;
}

static int list_events(sb_server_request *req, void *ctx)
{
    sb_app *app = ctx;
    if (!allowed(app, req))
        return 0;
    sb_audit_filter f;
    sb_api_page page;
    int64_t after;
    if (parse_filters(req, &f) != 0 || sb_api_page_parse(req, &page) != 0)
        return 0;
    if (parse_after(page.after, &after) != 0)
        return sb_http_respond_error(req, 400, "invalid_cursor",
                                     "cursor does not belong to this list: pass the next_cursor of "
                                     "the previous audit-events page unchanged");
    list_ctx l = {json_array(), page.limit, 0, 0};
    sb_error err = {0};
    sb_db_conn *conn;
    int rc = sb_db_acquire(app->db, -1, &conn, &err);
    if (rc == 0) {
        rc = sb_audit_list(conn, &f, page.limit + 1, after, add_item, &l, NULL, &err);
        sb_db_release(app->db, conn);
    }
    if (rc < 0) {
        json_decref(l.items);
        return sb_api_respond_store_error(req, &err);
    }
    json_t *next = json_null();
    if (l.more) {
        char id[24], cursor[64];
        snprintf(id, sizeof id, "%" PRId64, l.last_id);
        sb_api_cursor_encode(id, cursor, sizeof cursor);
        json_decref(next);
        next = json_string(cursor);
    }
    return sb_http_respond_json(req, 200, json_pack("{s:o, s:o}", "items", l.items, "next_cursor", next));
}

static int verify_chain(sb_server_request *req, void *ctx)
{
    sb_app *app = ctx;
    if (!allowed(app, req))
        return 0;
    if (sb_http_query_count(req) != 0)
        return sb_http_respond_error(req, 400, "invalid_field", "this route takes no query parameters");
    sb_audit_verify_report r;
    sb_error err = {0};
    if (sb_audit_verify(app->db, app->audit_key, &r, &err) != 0)
        return sb_api_respond_store_error(req, &err);
    char head[2 * SB_AUDIT_HASH_BYTES + 1];
    sodium_bin2hex(head, sizeof head, r.head_hash, sizeof r.head_hash);
    json_t *brk = json_null();
    if (!r.ok) {
        json_decref(brk);
        brk = json_pack("{s:s, s:I, s:o, s:s}", "kind", sb_audit_break_name(r.kind), "event_id",
                        (json_int_t)r.event_id, "chain_seq",
                        r.chain_seq ? json_integer(r.chain_seq) : json_null(), "message", r.message);
    }
    json_t *body = json_pack("{s:b, s:I, s:I, s:o, s:o, s:{s:I, s:s}, s:o, s:s}", "ok", r.ok,
                             "sealed", (json_int_t)r.sealed, "unsealed", (json_int_t)r.unsealed,
                             "newest_sealed_at", text_or_null(r.newest_sealed_at[0] ? r.newest_sealed_at : NULL),
                             "oldest_unsealed_at",
                             text_or_null(r.oldest_unsealed_at[0] ? r.oldest_unsealed_at : NULL), "head",
                             "chain_seq", (json_int_t)r.head_seq, "hash", head, "break", brk,
                             "message", r.message);
    return sb_http_respond_json(req, 200, body);
}

int sb_api_audit_routes(sb_router *r, sb_app *app, sb_error *err)
{
    const sb_route routes[] = {
        {"GET", "/api/v1/audit-events", SB_AUTH_SESSION, "audit.read", list_events, app,
         "listAuditEvents", "List audit events, newest first, with filters and cursor pagination"},
        {"GET", "/api/v1/audit-events/verify", SB_AUTH_SESSION, "audit.read", verify_chain, app,
         "verifyAuditChain", "Recompute the audit hash chain and report the first break"},
    };
    return sb_router_add_all(r, routes, sizeof routes / sizeof routes[0], err);
}
