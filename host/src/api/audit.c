/*
 * api/audit.c — the audit helpers every handler uses (api.h): writing an
 * event for a request, and the cursor pagination shared by list routes.
 *
 * Contract: sb_api_audit appends one event on the caller's connection, so
 * it commits with the change it records (I5). Its fields come from the
 * request, never from a body: the actor from the authenticated identity
 * ("anonymous" on public routes, "system" without a request), the
 * correlation id from a valid X-Correlation-Id header (1..128 of
 * [A-Za-z0-9._-]) or else the request id, the request id and the peer
 * address. details (borrowed) must be a JSON object; it is serialised
 * compactly and must never hold a secret value. sb_api_audit_now does the
 * same on its own connection (autocommit) and logs, rather than returns,
 * a failure detail.
 *
 * Pagination: `limit` 1..500 (default 50) and `cursor`, the opaque
 * base64url of "v1:<last id>"; anything else is answered 400
 * invalid_limit / invalid_cursor by sb_api_page_parse.
 */
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "store/audit_store.h"
#include "util/log.h"

#define PAGE_DEFAULT 50
#define PAGE_MAX 500
#define CURSOR_PREFIX "v1:"

/* ---- events ---------------------------------------------------------------- */

static int id_char(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_' || c == '-';
}

/* 1 when s is 1..max characters of [A-Za-z0-9._-]. */
static int valid_token(const char *s, size_t max)
{
    size_t n = s ? strlen(s) : 0;
    if (n == 0 || n > max)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!id_char(s[i]))
            return 0;
    return 1;
}

/* The correlation id of a request: the caller's X-Correlation-Id when it
 * is well formed (so a chain of calls shares it), else the request id. */
static const char *correlation_id(sb_server_request *req)
{
    const char *h = sb_http_header(req, "X-Correlation-Id");
    return valid_token(h, SB_AUDIT_CORRELATION_MAX) ? h : sb_server_request_id(req);
}

const sb_actor *sb_api_request_actor(sb_server_request *req, sb_actor *out)
{
    if (req == NULL)
        return NULL;
    const sb_identity *who = sb_api_identity(req);
    sb_api_actor(who, out->name, sizeof out->name);
    if (who == NULL)
        snprintf(out->display, sizeof out->display, "anonymous");
    else if (who->method == SB_IDENTITY_AGENT)
        snprintf(out->display, sizeof out->display, "agent %s", who->username);
    else
        snprintf(out->display, sizeof out->display, "%s", who->username);
    out->request_id = sb_server_request_id(req);
    out->correlation_id = correlation_id(req);
    out->remote_ip = sb_http_remote_ip(req);
    return out;
}

int sb_api_audit(sb_db_conn *conn, sb_server_request *req, const sb_api_audit_event *ev, sb_error *err)
{
    sb_actor actor;
    return sb_audit_write(conn, sb_api_request_actor(req, &actor), ev, err);
}

int sb_api_audit_now(sb_app *app, sb_server_request *req, const sb_api_audit_event *ev)
{
    sb_error err = {0};
    sb_db_conn *conn;
    int rc = sb_db_acquire(app->db, -1, &conn, &err);
    if (rc == 0) {
        rc = sb_api_audit(conn, req, ev, &err);
        sb_db_release(app->db, conn);
    }
    if (rc != 0) {
        sb_log_ctx lc = {req ? sb_server_request_id(req) : NULL, req ? correlation_id(req) : NULL,
                         NULL, 0};
        sb_log(SB_LEVEL_ERROR, "audit", &lc, "could not record audit event %s: %s",
               ev && ev->action ? ev->action : "(none)", err.message);
    }
    return rc;
}

/* ---- pagination ------------------------------------------------------------ */

static int parse_limit(const char *text, long *out)
{
    if (text == NULL) {
        *out = PAGE_DEFAULT;
        return 0;
    }
    size_t n = strlen(text);
    if (n == 0 || n > 3)
        return -1;
    long v = 0;
    for (size_t i = 0; i < n; i++) {
        if (text[i] < '0' || text[i] > '9')
            return -1;
        v = v * 10 + (text[i] - '0');
    }
    if (v < 1 || v > PAGE_MAX)
        return -1;
    *out = v;
    return 0;
}

/* Decodes base64url("v1:<id>") into after; -1 for anything else. */
static int parse_cursor(const char *text, char *after, size_t cap)
{
    size_t n = strlen(text);
    char raw[192];
    size_t len = 0;
    if (n == 0 || n > 4 * sizeof raw / 3 ||
        sodium_base642bin((unsigned char *)raw, sizeof raw - 1, text, n, NULL, &len, NULL,
                          sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0)
        return -1;
    raw[len] = '\0';
    size_t prefix = strlen(CURSOR_PREFIX);
    if (len <= prefix || memcmp(raw, CURSOR_PREFIX, prefix) != 0 || len - prefix >= cap ||
        !valid_token(raw + prefix, cap - 1))
        return -1;
    memcpy(after, raw + prefix, len - prefix + 1);
    return 0;
}

static int refuse(sb_server_request *req, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int refuse(sb_server_request *req, const char *code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    sb_http_respond_verror(req, 400, code, fmt, ap);
    va_end(ap);
    return -1;
}

int sb_api_page_parse(sb_server_request *req, sb_api_page *page)
{
    memset(page, 0, sizeof *page);
    const char *values[2];
    if (sb_http_query_all(req, "limit", values, 2) > 1)
        return refuse(req, "invalid_limit", "limit is given more than once");
    const char *limit = sb_http_query(req, "limit");
    if (parse_limit(limit, &page->limit) != 0)
        return refuse(req, "invalid_limit", "limit must be a whole number from 1 to %d (got \"%.20s\")",
                      PAGE_MAX, limit);
    if (sb_http_query_all(req, "cursor", values, 2) > 1)
        return refuse(req, "invalid_cursor", "cursor is given more than once");
    const char *cursor = sb_http_query(req, "cursor");
    if (cursor && cursor[0] && parse_cursor(cursor, page->after, sizeof page->after) != 0)
        return refuse(req, "invalid_cursor",
                      "cursor is not one this server issued: pass the next_cursor of the previous "
                      "page unchanged, or omit it for the first page");
    return 0;
}

void sb_api_cursor_encode(const char *last_id, char *out, size_t cap)
{
    char raw[160];
    int n = snprintf(raw, sizeof raw, CURSOR_PREFIX "%s", last_id ? last_id : "");
    if (cap == 0)
        return;
    out[0] = '\0';
    if (n <= 0 || (size_t)n >= sizeof raw ||
        sodium_base64_ENCODED_LEN((size_t)n, sodium_base64_VARIANT_URLSAFE_NO_PADDING) > cap)
        return;
    sodium_bin2base64(out, cap, (const unsigned char *)raw, (size_t)n,
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}
