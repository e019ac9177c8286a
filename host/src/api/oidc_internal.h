/*
 * api/oidc_internal.h — what the single sign-on files share
 * (oidc_routes.c: the routes; oidc_user.c: the JIT user; oidc_return.c:
 * the return path check). Not a public interface of the API.
 */
#ifndef SB_API_OIDC_INTERNAL_H
#define SB_API_OIDC_INTERNAL_H

#include <stdint.h>

#include "api/app.h"
#include "api/oidc_provider.h"
#include "http/request.h"
#include "store/users_store.h"

/* The user linked to the claims' (issuer, sub), created (no grants) on the
 * first sign-in; *created says which. 0, or -1 with err. */
int sb_oidc_user_resolve(sb_app *app, sb_server_request *req, const sb_oidc_claims *claims,
                         int64_t now, sb_user_record *user, int *created, sb_error *err);

/* 1 when s is a same-origin relative path safe to redirect to: it starts
 * with exactly one '/' (not "//", not "/\"), holds only printable ASCII
 * without backslashes or spaces, and is at most 2048 bytes. Anything else
 * (absolute URLs, scheme-relative //host, javascript:, control
 * characters) is 0: the caller lands on "/". */
int sb_oidc_return_to_ok(const char *s);

#endif
