/* api/auth_body.c — strict request bodies and time text for the
 * authentication routes (see auth_internal.h). */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api/api.h"
#include "api/auth_internal.h"
#include "crypto/secure_mem.h"

void sb_auth_time_text(int64_t t, char *out, size_t cap)
{
    time_t tt = (time_t)t;
    struct tm tm;
    if (cap == 0)
        return;
    out[0] = '\0';
    if (t <= 0 || gmtime_r(&tt, &tm) == NULL || strftime(out, cap, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
        out[0] = '\0';
}

json_t *sb_auth_time_json(int64_t t)
{
    char text[32];
    sb_auth_time_text(t, text, sizeof text);
    return t > 0 && text[0] ? json_string(text) : json_null();
}

const char *sb_auth_method_name(sb_identity_method m)
{
    return m == SB_IDENTITY_SESSION ? "session" : m == SB_IDENTITY_JWT ? "jwt" : "api_token";
}

void sb_auth_body_wipe(json_t *string)
{
    if (json_is_string(string))
        sodium_memzero((char *)json_string_value(string), json_string_length(string));
}

/* A key we may repeat in a message: 1..64 of [A-Za-z0-9_.-]. */
static int printable_key(const char *k)
{
    size_t n = strlen(k);
    if (n == 0 || n > 64)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = k[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '.' || c == '-'))
            return 0;
    }
    return 1;
}

/* Characters (code points) of a valid UTF-8 string. */
static size_t utf8_chars(const char *s, size_t bytes)
{
    size_t n = 0;
    for (size_t i = 0; i < bytes; i++)
        if (((unsigned char)s[i] & 0xC0) != 0x80)
            n++;
    return n;
}

static const char *type_name(sb_auth_field_type t)
{
    return t == SB_AUTH_FIELD_INTEGER        ? "an integer"
           : t == SB_AUTH_FIELD_STRING_ARRAY ? "an array of strings"
                                             : "a string";
}

static int all_strings(json_t *a)
{
    size_t i;
    json_t *v;
    json_array_foreach(a, i, v) if (!json_is_string(v)) return 0;
    return 1;
}

int sb_auth_body_fields(sb_server_request *req, const sb_auth_field *spec, size_t n, json_t **values)
{
    json_t *body;
    sb_error err = {0};
    if (sb_http_json_body(req, &body, &err) != 0)
        return -1;
    if (!json_is_object(body)) {
        sb_http_respond_error(req, 400, "invalid_body", "the body must be a JSON object");
        return -1;
    }
    const char *key;
    json_t *v;
    json_object_foreach(body, key, v)
    {
        size_t i = 0;
        while (i < n && strcmp(spec[i].name, key) != 0)
            i++;
        if (i < n)
            continue;
        if (printable_key(key))
            sb_http_respond_error(req, 400, "unknown_field", "unknown field \"%s\" in the body",
                                  key);
        else
            sb_http_respond_error(req, 400, "unknown_field", "the body has an unrecognised field");
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        v = json_object_get(body, spec[i].name);
        values[i] = json_is_null(v) ? NULL : v;
        if (values[i] == NULL) {
            if (spec[i].required) {
                sb_http_respond_error(req, 400, "missing_field", "field \"%s\" is required",
                                      spec[i].name);
                return -1;
            }
            continue;
        }
        int ok = spec[i].type == SB_AUTH_FIELD_INTEGER        ? json_is_integer(v)
                 : spec[i].type == SB_AUTH_FIELD_STRING_ARRAY ? json_is_array(v) && all_strings(v)
                                                              : json_is_string(v);
        if (!ok) {
            sb_http_respond_error(req, 400, "invalid_field", "field \"%s\" must be %s",
                                  spec[i].name, type_name(spec[i].type));
            return -1;
        }
        if (spec[i].type == SB_AUTH_FIELD_INTEGER)
            continue;
        if (spec[i].type == SB_AUTH_FIELD_STRING_ARRAY) {
            if (json_array_size(v) > spec[i].max) {
                sb_http_respond_error(req, 422, "invalid_value",
                                      "field \"%s\" may list at most %zu items", spec[i].name,
                                      spec[i].max);
                return -1;
            }
            continue;
        }
        size_t bytes = json_string_length(v);
        size_t len =
            spec[i].type == SB_AUTH_FIELD_SECRET ? bytes : utf8_chars(json_string_value(v), bytes);
        if (len > spec[i].max) {
            sb_http_respond_error(req, 422, "field_too_long", "field \"%s\" is longer than %zu %s",
                                  spec[i].name, spec[i].max,
                                  spec[i].type == SB_AUTH_FIELD_SECRET ? "bytes" : "characters");
            return -1;
        }
    }
    return 0;
}

/* Answers {"token":"<secret>", ...rest} without the secret passing through
 * jansson: rest is serialised first, the whole body is assembled in secure
 * memory and copied into the response (zeroed when released). */
int sb_auth_respond_with_token(sb_server_request *req, int status, const char *token, json_t *rest)
{
    char *tail = json_dumps(rest, JSON_COMPACT);
    json_decref(rest);
    sb_secure_buf *b = sb_secure_new(512);
    int ok = tail && b && tail[0] == '{' && sb_secure_append(b, "{\"token\":", 9) == 0 &&
             sb_secure_append_json_string(b, token, strlen(token)) == 0 &&
             (tail[1] == '}' || sb_secure_append(b, ",", 1) == 0) &&
             sb_secure_append(b, tail + 1, strlen(tail + 1)) == 0;
    free(tail);
    int rc = sb_api_respond_secure_json(req, status, b, ok, "the response");
    sb_secure_free(b);
    return rc;
}

int sb_api_respond_secure_json(sb_server_request *req, int status, const sb_secure_buf *b, int ok,
                               const char *what)
{
    if (!ok || b == NULL)
        return sb_http_respond_error(req, 500, "internal", "out of memory building %s", what);
    size_t len = 0;
    const unsigned char *data = sb_secure_data(b, &len);
    return sb_http_respond_raw(req, status, "application/json", data, len);
}
