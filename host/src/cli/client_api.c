/*
 * cli/client_api.c — the CLI client's HTTP session (see client_api.h).
 *
 * Every call goes through sb_http_perform, so the client inherits the
 * host's transport rules instead of growing its own libcurl wrapper. The
 * bearer header is assembled in secure memory; the response is parsed into
 * the secure JSON arena and the raw body is zeroed with it.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "cli/client_api.h"
#include "crypto/secure_mem.h"
#include "plugin/host_api.h"
#include "plugin/http_client.h"

#define CALL_TIMEOUT_MS 60000
#define MAX_RESPONSE (4u * 1024 * 1024)

int sb_client_set_url(sb_client *c, const char *url, sb_error *err)
{
    if (url == NULL || url[0] == '\0')
        return sb_error_set(err, 1, "no control-plane URL: pass --url https://sbridge.example.com");
    size_t len = strlen(url);
    while (len > 0 && url[len - 1] == '/')
        len--;
    int https = strncmp(url, "https://", 8) == 0, http = strncmp(url, "http://", 7) == 0;
    if (!https && !http)
        return sb_error_set(err, 1, "URL '%s' must start with https:// (or http:// for a server on "
                                    "this machine, e.g. http://127.0.0.1:8080)",
                            url);
    const char *host = url + (https ? 8 : 7);
    if (len >= SB_CLIENT_URL_MAX || (size_t)(host - url) >= len)
        return sb_error_set(err, 1, "URL '%s' has no host (or is longer than %d bytes)", url,
                            SB_CLIENT_URL_MAX - 1);
    if (memchr(host, '@', len - (size_t)(host - url)) || memchr(url, '?', len) || memchr(url, '#', len))
        return sb_error_set(err, 1, "URL '%s' must be the server's base URL: no user name, query "
                                    "or fragment",
                            url);
    for (size_t i = 0; i < len; i++)
        if (isspace((unsigned char)url[i]) || iscntrl((unsigned char)url[i]))
            return sb_error_set(err, 1, "URL contains a space or a control character");
    memcpy(c->url, url, len);
    c->url[len] = '\0';
    return 0;
}

int sb_client_uuid_ok(const char *s)
{
    if (s == NULL || strlen(s) != 36)
        return 0;
    for (int i = 0; i < 36; i++) {
        int dash = i == 8 || i == 13 || i == 18 || i == 23;
        if (dash ? s[i] != '-' : !isxdigit((unsigned char)s[i]))
            return 0;
    }
    return 1;
}

long sb_client_call(const sb_client *c, const char *method, const char *path,
                    const unsigned char *body, size_t body_len, int body_secret,
                    sb_client_response *out)
{
    memset(out, 0, sizeof *out);
    char url[SB_CLIENT_URL_MAX + 1024];
    if ((size_t)snprintf(url, sizeof url, "%s%s", c->url, path) >= sizeof url) {
        snprintf(out->transport_error, sizeof out->transport_error, "the request path is too long");
        return 0;
    }
    char *auth = NULL;
    sb_kv headers[3];
    size_t n = 0;
    headers[n++] = (sb_kv){"Accept", "application/json"};
    if (body)
        headers[n++] = (sb_kv){"Content-Type", "application/json"};
    if (c->token) {
        size_t cap = strlen(c->token) + 8;
        auth = sb_secure_alloc(cap);
        if (auth == NULL) {
            snprintf(out->transport_error, sizeof out->transport_error, "out of secure memory");
            return 0;
        }
        snprintf(auth, cap, "Bearer %s", c->token);
        headers[n++] = (sb_kv){"Authorization", auth};
    }
    sb_http_request req = {sizeof req, body_secret ? SB_HTTP_BODY_SECRET : 0u, method, url, headers, n,
                           body, body_len, 0, MAX_RESPONSE, NULL, "cli", NULL};
    sb_http_response resp = {sizeof resp, 0, 0, 0, 0, NULL, NULL};
    sb_result res = SB_RESULT_INIT;
    sb_call_ctx ctx;
    sb_call_begin(&ctx, "sbridge-cli", NULL, NULL, CALL_TIMEOUT_MS);
    sb_status st = sb_http_perform(&ctx.call, &req, &resp, &res);
    sb_secure_release(auth);
    if (st != SB_OK) {
        snprintf(out->transport_error, sizeof out->transport_error, "%s",
                 res.message[0] ? res.message : "the request failed");
        sb_http_response_release(&resp);
        return 0;
    }
    out->status = resp.status;
    out->body = resp.body; /* ours now */
    resp.body = NULL;
    sb_http_response_release(&resp);
    size_t len = 0;
    const unsigned char *data = out->body ? sb_secure_data(out->body, &len) : NULL;
    sb_error err = {0};
    if (data && len > 0 && sb_json_parse(data, len, &out->json, &err) != 0)
        out->json = NULL;
    return out->status;
}

void sb_client_response_free(sb_client_response *r)
{
    if (r == NULL)
        return;
    sb_json_free(r->json);
    sb_secure_free(r->body);
    memset(r, 0, sizeof *r);
}

const sb_json_node *sb_client_root(const sb_client_response *r)
{
    return r && r->json ? sb_json_root(r->json) : NULL;
}

const char *sb_client_str(const sb_json_node *object, const char *key)
{
    size_t len = 0;
    const char *s = sb_json_string(sb_json_get(object, key), &len);
    return s ? s : "";
}

const char *sb_client_error_code(const sb_client_response *r)
{
    return sb_client_str(sb_json_get(sb_client_root(r), "error"), "code");
}

/* What the user can do about a failure with this status. */
static const char *hint(const sb_client *c, long status, const char *code)
{
    if (strcmp(c->command, "login") == 0 && status == 401)
        return "check the user name and password (5 wrong passwords lock the account for 15 "
               "minutes)";
    switch (status) {
    case 0:
        return "check the URL and that the control plane is running and reachable from here";
    case 401:
        return "your API token is missing, expired or revoked: run 'sbridge login --url URL' "
               "again (or set SBRIDGE_URL and SBRIDGE_TOKEN)";
    case 403:
        return "the control plane refused this for you (the message says why); when a permission "
               "is missing, ask an administrator for a grant on that project";
    case 404:
        return "check the id: it does not exist or you cannot see it ('sbridge requests list' "
               "shows your requests)";
    case 409:
        return strcmp(code, "illegal_transition") == 0
                   ? "the request is not in a state that allows this ('sbridge requests list' "
                     "shows its state)"
                   : "the current state does not allow this; see the message";
    case 410:
        return "a result is revealed once and expires; submit a new read request";
    case 429:
        return "too many attempts: wait a minute and try again";
    default:
        return status >= 500 ? "the control plane failed; try again, and tell its operator if it "
                               "persists"
                             : "correct the input named in the message and try again";
    }
}

int sb_client_report(const sb_client *c, const char *doing, const sb_client_response *r)
{
    if (r->status == 0) {
        fprintf(stderr, "sbridge %s: %s failed: cannot reach %s: %s\n  %s\n", c->command, doing,
                c->url, r->transport_error, hint(c, 0, ""));
        return 1;
    }
    const sb_json_node *e = sb_json_get(sb_client_root(r), "error");
    const char *code = sb_client_str(e, "code"), *msg = sb_client_str(e, "message");
    const char *rid = sb_client_str(e, "request_id");
    if (code[0])
        fprintf(stderr, "sbridge %s: %s failed: HTTP %ld %s: %s%s%s%s\n", c->command, doing,
                r->status, code, msg, rid[0] ? " (request id " : "", rid, rid[0] ? ")" : "");
    else
        fprintf(stderr, "sbridge %s: %s failed: HTTP %ld (no error document; is %s a Secrets "
                        "Bridge control plane?)\n",
                c->command, doing, r->status, c->url);
    fprintf(stderr, "  %s\n", hint(c, r->status, code));
    return 1;
}

int sb_client_each_item(const sb_client *c, const char *path, const char *doing, int max_pages,
                        int hidden_ok, sb_client_item_fn fn, void *ctx)
{
    static const char url_safe[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.~";
    char cursor[256] = "";
    for (int page = 0; page < max_pages; page++) {
        char url[1024];
        snprintf(url, sizeof url, "%s%s%s", path, cursor[0] ? "&cursor=" : "", cursor);
        sb_client_response r;
        long st = sb_client_call(c, "GET", url, NULL, 0, 0, &r);
        if (hidden_ok && (st == 403 || st == 404)) {
            sb_client_response_free(&r);
            return SB_CLIENT_HIDDEN;
        }
        if (st != 200) {
            int rc = sb_client_report(c, doing, &r);
            sb_client_response_free(&r);
            return rc;
        }
        const sb_json_node *items = sb_json_get(sb_client_root(&r), "items");
        for (size_t i = 0; i < sb_json_count(items); i++) {
            int rc = fn(sb_json_member(items, i, NULL), ctx);
            if (rc != 0) {
                sb_client_response_free(&r);
                return rc;
            }
        }
        const char *next = sb_client_str(sb_client_root(&r), "next_cursor");
        size_t n = strlen(next);
        int more = n > 0 && n < sizeof cursor && strspn(next, url_safe) == n;
        if (more)
            memcpy(cursor, next, n + 1);
        sb_client_response_free(&r);
        if (!more)
            break;
    }
    return 0;
}
