/*
 * api/reveal_routes.c — sb_api_reveal_routes: a requester's read results
 * (value-free list), the single-use reveal, and reveal sessions.
 *
 * Contract (docs/requests.md, "Reveal"):
 *   - Only the requester (identity from the session, I6) sees or reveals a
 *     request's results; anyone else gets 404, as for a request they cannot
 *     see, and a refused reveal is audited.
 *   - POST /requests/{id}/wraps/{wrap_id}/reveal: in one transaction the
 *     wrap is consumed by a conditional UPDATE (I8), the request's read key
 *     is unwrapped through the KMS, the box opened and the reveal audited
 *     (secret.reveal with byte_length and a keyed hash, never the value);
 *     the value is sent only after that commit. Concurrent reveals: the
 *     loser waits on the row and then finds it consumed (410). A KMS
 *     failure rolls the consumption back, so the result stays revealable.
 *     Answers: 200 {wrap_id, key, kind, encoding: utf-8|base64, value},
 *     410 wrap_consumed | wrap_expired, 404, 409 not_executed.
 *   - Reveal sessions bound how long a reveal view stays open: POST
 *     /reveal-sessions {request_id} (TTL from the request's policy,
 *     reveal_ttl_s, 10-300 s), GET /reveal-sessions/me/active, POST
 *     /reveal-sessions/{id}/expire {reason: user_hide|unmount}. When a
 *     session ends (those reasons, or its TTL via the sweep) the request's
 *     unrevealed results expire with it.
 */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/read_api.h"
#include "api/request_api.h"
#include "api/step_up.h"
#include "crypto/secure_mem.h"
#include "domain/domain_error.h"
#include "store/rows.h"
#include "store/wrap_store.h"
#include "util/utf8.h"

static int is_read_kind(const char *kind)
{
    return strcmp(kind, "read") == 0 || strcmp(kind, "direct_reveal") == 0;
}

/* The request as its requester sees it: 0, or -1 with NOT_FOUND for
 * anyone else (no probing of other people's requests). */
static int own_request(sb_db_conn *conn, const sb_identity *who, const char *id, bool lock,
                       sb_row_set *rows, sb_request_row *r, sb_error *err)
{
    int rc = sb_request_store_get(conn, id, lock, rows, err);
    if (rc < 0)
        return -1;
    if (rc == 0)
        sb_request_store_at(rows, 0, r);
    if (rc != 0 || strcmp(r->requester_id, who->user_id) != 0) {
        sb_row_set_free(rows);
        return sb_error_set(err, SB_DOMAIN_E_NOT_FOUND, "no such request of yours");
    }
    return 0;
}

/* ---- list ------------------------------------------------------------------- */

typedef struct list_ctx {
    const sb_identity *who;
    const char *id;
    char *json;
} list_ctx;

static int list_txn(sb_db_conn *conn, void *p, sb_error *err)
{
    list_ctx *c = p;
    sb_row_set rows = {0};
    sb_request_row r;
    if (own_request(conn, c->who, c->id, false, &rows, &r, err) != 0)
        return -1;
    sb_row_set_free(&rows);
    free(c->json);
    c->json = NULL;
    return sb_wrap_store_list(conn, c->id, &c->json, err);
}

static int h_list(sb_server_request *req, void *ctx)
{
    sb_app *app = ctx;
    char id[37];
    if (sb_handler_path_id(req, "id", id) != 0)
        return -1;
    list_ctx c = {sb_api_identity(req), id, NULL};
    sb_error err = {0};
    if (sb_db_transaction(app->db, list_txn, &c, &err) != 0) {
        free(c.json);
        return sb_handler_respond_failure(req, &err);
    }
    int rc = sb_http_respond_raw(req, 200, "application/json", c.json, strlen(c.json));
    free(c.json);
    return rc;
}

/* ---- reveal ----------------------------------------------------------------- */

typedef struct reveal_ctx {
    sb_app *app;
    sb_server_request *req;
    const sb_identity *who;
    const char *id, *wrap_id;
    int status; /* 0: revealed; else the refusal's HTTP status */
    const char *code, *message;
    sb_wrap_taken taken;
    unsigned char *value; /* secure */
    size_t len;
} reveal_ctx;

static int refuse(reveal_ctx *c, int status, const char *code, const char *message)
{
    c->status = status;
    c->code = code;
    c->message = message;
    return 0;
}

static void value_hash(const sb_app *app, const unsigned char *v, size_t len, char hex[33])
{
    unsigned char h[16];
    crypto_generichash_state st;
    crypto_generichash_init(&st, app->audit_key, SB_KEY_BYTES, sizeof h);
    crypto_generichash_update(&st, (const unsigned char *)"sb-value-v1", 11);
    crypto_generichash_update(&st, v, len);
    crypto_generichash_final(&st, h, sizeof h);
    sodium_bin2hex(hex, 33, h, sizeof h);
}

static int reveal_txn(sb_db_conn *conn, void *p, sb_error *err)
{
    reveal_ctx *c = p;
    free(c->taken.box_b64);
    sb_secure_release(c->value);
    c->value = NULL;
    c->status = 0;
    sb_row_set rows = {0};
    sb_request_row r;
    if (own_request(conn, c->who, c->id, false, &rows, &r, err) != 0)
        return -1;
    int ok_kind = is_read_kind(r.kind), executed = strcmp(r.state, "executed") == 0;
    bool mfa_required = sb_step_up_policy_requires(r.policy);
    sb_row_set_free(&rows);
    if (sb_step_up_require(conn, c->app, c->req, c->who, mfa_required, "secret.reveal", err) != 0)
        return -1;
    if (!ok_kind)
        return refuse(c, 409, "not_a_read", "only read and direct-reveal requests have results");
    if (!executed)
        return refuse(c, 409, "not_executed",
                      "the request has no results yet (it must be executed by an agent first)");
    sb_wrap_consume_result won;
    if (sb_wrap_store_consume(conn, c->id, c->wrap_id, c->who->user_id, &won, &c->taken, err) != 0)
        return -1;
    if (won == SB_WRAP_MISSING)
        return refuse(c, 404, "not_found", "no such result on this request");
    if (won != SB_WRAP_CONSUMED)
        return won == SB_WRAP_GONE_USED
                   ? refuse(c, 410, "wrap_consumed", "this result was revealed already; a result "
                                                     "is shown once — submit a new read request")
                   : refuse(c, 410, "wrap_expired", "this result expired before it was revealed; "
                                                    "submit a new read request");
    if (sb_read_result_open(conn, c->app->kms, c->id, c->taken.box_b64, &c->value, &c->len, err) !=
        0)
        return -1; /* rolled back: the result stays revealable */
    char hash[33], resource[64];
    value_hash(c->app, c->value, c->len, hash);
    snprintf(resource, sizeof resource, "request:%s", c->id);
    json_t *d = json_pack("{s:s, s:s, s:I, s:s}", "wrap_id", c->wrap_id, "key",
                          c->taken.key_name, "byte_length", (json_int_t)c->len, "value_hash",
                          hash);
    sb_api_audit_event ev = {"secret.reveal", resource, "success", NULL, d};
    int rc = sb_api_audit(conn, c->req, &ev, err);
    json_decref(d);
    return rc;
}

/* {"wrap_id":…,"key":…,"kind":…,"encoding":…,"value":…} built in secure
 * memory; the HTTP layer zeroes its copy when the answer is sent. */
static int respond_value(sb_server_request *req, const reveal_ctx *c)
{
    int text = strcmp(c->taken.value_kind, "binary") != 0 && sb_utf8_valid(c->value, c->len);
    sb_secure_buf *b = sb_secure_new(c->len * 2 + 256);
    int ok = b != NULL;
    char head[512];
    snprintf(head, sizeof head, "{\"wrap_id\":\"%s\",\"kind\":\"%s\",\"encoding\":\"%s\",\"key\":",
             c->wrap_id, c->taken.value_kind, text ? "utf-8" : "base64");
    ok = ok && sb_secure_append(b, head, strlen(head)) == 0 &&
         sb_secure_append_json_string(b, c->taken.key_name, strlen(c->taken.key_name)) == 0 &&
         sb_secure_append(b, ",\"value\":", 9) == 0;
    if (ok && text) {
        ok = sb_secure_append_json_string(b, (const char *)c->value, c->len) == 0;
    } else if (ok) {
        size_t cap = sodium_base64_ENCODED_LEN(c->len, sodium_base64_VARIANT_ORIGINAL);
        char *enc = sb_secure_alloc(cap);
        ok = enc != NULL;
        if (ok) {
            sodium_bin2base64(enc, cap, c->value, c->len, sodium_base64_VARIANT_ORIGINAL);
            ok = sb_secure_append(b, "\"", 1) == 0 && sb_secure_append(b, enc, strlen(enc)) == 0 &&
                 sb_secure_append(b, "\"", 1) == 0;
        }
        sb_secure_release(enc);
    }
    ok = ok && sb_secure_append(b, "}", 1) == 0;
    int rc = sb_api_respond_secure_json(req, 200, b, ok, "the reveal");
    sb_secure_free(b);
    return rc;
}

static int h_reveal(sb_server_request *req, void *ctx)
{
    sb_app *app = ctx;
    char id[37], wrap_id[37];
    if (sb_handler_path_id(req, "id", id) != 0 || sb_handler_path_id(req, "wrap_id", wrap_id) != 0)
        return -1;
    reveal_ctx c = {.app = app, .req = req, .who = sb_api_identity(req), .id = id,
                    .wrap_id = wrap_id};
    sb_error err = {0};
    int rc = sb_db_transaction(app->db, reveal_txn, &c, &err);
    if (rc != 0 || c.status != 0) {
        char resource[64];
        snprintf(resource, sizeof resource, "request:%s", id);
        json_t *d = json_pack("{s:s, s:s}", "wrap_id", wrap_id, "reason",
                              rc != 0 ? err.message : c.code);
        sb_api_audit_event ev = {"secret.reveal", resource, "denied", "warning", d};
        sb_api_audit_now(app, req, &ev);
        json_decref(d);
    }
    if (rc != 0)
        rc = sb_handler_respond_failure(req, &err);
    else if (c.status != 0)
        rc = sb_http_respond_error(req, c.status, c.code, "%s", c.message);
    else
        rc = respond_value(req, &c);
    free(c.taken.box_b64);
    sb_secure_release(c.value);
    return rc;
}

/* ---- reveal sessions -------------------------------------------------------- */

typedef struct session_ctx {
    const sb_identity *who;
    sb_server_request *req;
    const char *id, *reason;
    int status;
    const char *code, *message;
    char *json;
} session_ctx;

static int session_refuse(session_ctx *c, int status, const char *code, const char *message)
{
    c->status = status;
    c->code = code;
    c->message = message;
    return 0;
}

static int open_txn(sb_db_conn *conn, void *p, sb_error *err)
{
    session_ctx *c = p;
    free(c->json);
    c->json = NULL;
    c->status = 0;
    sb_row_set rows = {0};
    sb_request_row r;
    if (own_request(conn, c->who, c->id, false, &rows, &r, err) != 0)
        return -1;
    int ok = is_read_kind(r.kind) && strcmp(r.state, "executed") == 0;
    json_t *policy = json_loads(r.policy ? r.policy : "{}", 0, NULL);
    json_t *t = json_object_get(policy, "reveal_ttl_s");
    int ttl = json_is_integer(t) ? (int)json_integer_value(t) : 60;
    json_decref(policy);
    sb_row_set_free(&rows);
    if (!ok)
        return session_refuse(c, 409, "not_executed",
                              "a reveal session opens on an executed read request");
    if (ttl < 10 || ttl > 300)
        ttl = ttl < 10 ? 10 : 300;
    char *wraps = NULL;
    if (sb_wrap_store_list(conn, c->id, &wraps, err) != 0)
        return -1;
    json_t *list = json_loads(wraps, 0, NULL), *w;
    free(wraps);
    size_t i, live = 0;
    json_array_foreach(json_object_get(list, "items"), i, w) live +=
        strcmp(json_string_value(json_object_get(w, "state")), "live") == 0;
    if (live == 0) {
        json_decref(list);
        return session_refuse(c, 410, "nothing_to_reveal",
                              "every result of this request was revealed or has expired");
    }
    int rc = sb_wrap_store_session_open(conn, c->who->user_id, c->id, ttl, &c->json, err);
    json_t *s = rc == 0 ? json_loads(c->json, 0, NULL) : NULL;
    if (s) {
        json_object_set(s, "wraps", json_object_get(list, "items"));
        free(c->json);
        c->json = json_dumps(s, JSON_COMPACT);
        char resource[64];
        snprintf(resource, sizeof resource, "reveal_session:%s",
                 json_string_value(json_object_get(s, "id")));
        json_t *d = json_pack("{s:s, s:i}", "request_id", c->id, "ttl_seconds", ttl);
        sb_api_audit_event ev = {"reveal_session.open", resource, "success", NULL, d};
        rc = sb_api_audit(conn, c->req, &ev, err);
        json_decref(d);
        json_decref(s);
    }
    json_decref(list);
    return rc;
}

static int expire_txn(sb_db_conn *conn, void *p, sb_error *err)
{
    session_ctx *c = p;
    free(c->json);
    c->json = NULL;
    c->status = 0;
    int rc = sb_wrap_store_session_expire(conn, c->id, c->who->user_id, c->reason, &c->json, err);
    if (rc != 0)
        return rc < 0 ? -1 : session_refuse(c, 404, "not_found", "no such reveal session of yours");
    char resource[64];
    snprintf(resource, sizeof resource, "reveal_session:%s", c->id);
    json_t *d = json_pack("{s:s}", "reason", c->reason);
    sb_api_audit_event ev = {"reveal_session.expire", resource, "success", NULL, d};
    rc = sb_api_audit(conn, c->req, &ev, err);
    json_decref(d);
    return rc;
}

static int active_txn(sb_db_conn *conn, void *p, sb_error *err)
{
    session_ctx *c = p;
    free(c->json);
    c->json = NULL;
    return sb_wrap_store_session_list_active(conn, c->who->user_id, &c->json, err);
}

static int run_session(sb_app *app, sb_server_request *req, session_ctx *c, sb_db_txn_fn fn,
                       int ok_status)
{
    sb_error err = {0};
    int rc = sb_db_transaction(app->db, fn, c, &err);
    if (rc != 0)
        rc = sb_handler_respond_failure(req, &err);
    else if (c->status != 0)
        rc = sb_http_respond_error(req, c->status, c->code, "%s", c->message);
    else
        rc = sb_http_respond_raw(req, ok_status, "application/json", c->json, strlen(c->json));
    free(c->json);
    return rc;
}

static int h_session_open(sb_server_request *req, void *ctx)
{
    static const sb_field_spec spec[] = {{"request_id", SB_FIELD_STRING, 1}};
    json_t *body;
    if (sb_handler_read_body(req, spec, 1, &body) != 0)
        return -1;
    char id[37];
    if (!sb_rows_uuid(sb_handler_string(body, "request_id"), id))
        return sb_handler_invalid(req, "request_id must be the id of one of your read requests");
    session_ctx c = {.who = sb_api_identity(req), .req = req, .id = id};
    return run_session(ctx, req, &c, open_txn, 201);
}

static int h_session_active(sb_server_request *req, void *ctx)
{
    session_ctx c = {.who = sb_api_identity(req), .req = req};
    return run_session(ctx, req, &c, active_txn, 200);
}

static int h_session_expire(sb_server_request *req, void *ctx)
{
    static const sb_field_spec spec[] = {{"reason", SB_FIELD_STRING, 1}};
    char id[37];
    json_t *body;
    if (sb_handler_path_id(req, "id", id) != 0 || sb_handler_read_body(req, spec, 1, &body) != 0)
        return -1;
    const char *reason = sb_handler_string(body, "reason");
    if (strcmp(reason, "user_hide") != 0 && strcmp(reason, "unmount") != 0)
        return sb_handler_invalid(req, "reason must be user_hide or unmount");
    session_ctx c = {.who = sb_api_identity(req), .req = req, .id = id, .reason = reason};
    return run_session(ctx, req, &c, expire_txn, 200);
}

int sb_api_reveal_routes(sb_router *r, sb_app *app, sb_error *err)
{
    const sb_route routes[] = {
        {"GET", "/api/v1/requests/{id}/wraps", SB_AUTH_SESSION, NULL, h_list, app,
         "listRequestResults", "Your read request's results, without values (requester only)"},
        {"POST", "/api/v1/requests/{id}/wraps/{wrap_id}/reveal", SB_AUTH_SESSION, NULL, h_reveal,
         app, "revealResult", "Reveal one read result, once (requester only)"},
        {"POST", "/api/v1/reveal-sessions", SB_AUTH_SESSION, NULL, h_session_open, app,
         "openRevealSession", "Open a reveal session on your executed read request"},
        {"GET", "/api/v1/reveal-sessions/me/active", SB_AUTH_SESSION, NULL, h_session_active, app,
         "listMyRevealSessions", "Your reveal sessions that are still open"},
        {"POST", "/api/v1/reveal-sessions/{id}/expire", SB_AUTH_SESSION, NULL, h_session_expire,
         app, "expireRevealSession", "End your reveal session now (user_hide or unmount)"},
    };
    return sb_router_add_all(r, routes, sizeof routes / sizeof routes[0], err);
}
