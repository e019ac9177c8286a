/*
 * api/auth_internal.h — what the authentication route files share
 * (auth_routes.c: login/logout/session and the route table; auth_self.c:
 * /users/me and personal API tokens; auth_body.c: strict request bodies and
 * time text). Not a public interface of the API.
 *
 * Strict bodies (sb_auth_body_fields): the body must be a JSON object
 * (sb_http_json_body answers 400 invalid_json / 415 first); a key not in
 * the spec is 400 unknown_field naming it (only when the name is a short
 * identifier — anything else is "an unrecognised field", so a value pasted
 * as a key is never echoed); a required key that is absent or null is 400
 * missing_field; a value of the wrong JSON type is 400 invalid_field;
 * a string longer than max (characters; bytes for SECRET fields) is 422
 * field_too_long. Messages name the field and what was expected, never the
 * value.
 */
#ifndef SB_API_AUTH_INTERNAL_H
#define SB_API_AUTH_INTERNAL_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "api/app.h"
#include "http/request.h"
#include "store/sessions_store.h"
#include "store/users_store.h"

typedef enum sb_auth_field_type {
    SB_AUTH_FIELD_STRING,  /* max = characters */
    SB_AUTH_FIELD_SECRET,  /* a string never echoed; max = bytes */
    SB_AUTH_FIELD_INTEGER, /* max unused */
    SB_AUTH_FIELD_STRING_ARRAY, /* strings; max = items */
} sb_auth_field_type;

typedef struct sb_auth_field {
    const char *name;
    sb_auth_field_type type;
    int required;
    size_t max;
} sb_auth_field;

/* Fills values[i] (borrowed; NULL when an optional field is absent) for
 * spec[i]. 0, or -1 after answering the request. */
int sb_auth_body_fields(sb_server_request *req, const sb_auth_field *spec, size_t n, json_t **values);
/* Overwrites a JSON string's bytes in place (a password, once copied into
 * secure memory). */
void sb_auth_body_wipe(json_t *string);

/* Answers {"token":"<token>", ...rest} (rest: a JSON object, stolen)
 * without the token passing through jansson's heap: the body is assembled
 * in secure memory and copied into the response, which the server zeroes
 * when it is released. */
int sb_auth_respond_with_token(sb_server_request *req, int status, const char *token, json_t *rest);

/* RFC 3339 UTC ("2026-11-28T14:00:00Z") of Unix seconds; "" for t <= 0. */
void sb_auth_time_text(int64_t t, char *out, size_t cap);
/* The same as a JSON string, or null for t <= 0. */
json_t *sb_auth_time_json(int64_t t);
/* "session", "jwt" or "api_token". */
const char *sb_auth_method_name(sb_identity_method m);

/* Signs u in (auth_routes.c; local login and OIDC share it): one
 * transaction resets the user's failure count (refused when the user is
 * disabled or locked at now), stores new_hash when given, creates the
 * session and writes `auth.login` {session_id, method}; then attaches the
 * identity and sets the sb_session cookie. 0 with *session_out filled
 * (the caller answers); 1 refused (nothing answered); -1 answered (5xx). */
int sb_auth_session_open(sb_app *app, sb_server_request *req, const sb_user_record *u,
                         int64_t now, const char *method, const char *new_hash,
                         sb_session_record *session_out);

/* The per-IP sign-in rate limit (auth_routes.c): 30 attempts a minute per
 * scope ("login", "oidc_login", "oidc_callback"), counted in PostgreSQL,
 * failing closed; the first refusal of a window is audited
 * (`auth.login.rate_limited`, resource auth:<scope>). 0 to go on; 1 when
 * answered (429 rate_limited with Retry-After, or 503). */
int sb_auth_rate_limit(sb_app *app, sb_server_request *req, const char *scope, int64_t now);

/* Handlers of auth_self.c (ctx = the sb_app). */
int sb_auth_me(sb_server_request *req, void *ctx);
int sb_auth_tokens_list(sb_server_request *req, void *ctx);
int sb_auth_tokens_create(sb_server_request *req, void *ctx);
int sb_auth_tokens_revoke(sb_server_request *req, void *ctx);

#endif
