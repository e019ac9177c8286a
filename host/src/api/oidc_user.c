/*
 * api/oidc_user.c — the local user behind an OpenID identity, created just
 * in time (SPEC §8 "OIDC users (JIT)"); see oidc_internal.h.
 *
 * The identity (issuer, sub) is the key, for good: a later sign-in finds
 * the same user whatever the provider now says the name or email is. A new
 * user gets a name from the username claim (or the email), made to fit the
 * users.username rule, with -2, -3… appended when a local account already
 * has it — never linked to that account (a provider account named like an
 * administrator must not become the administrator). No grants: an
 * administrator grants roles as for any user. The creation is audited
 * (`user.create`, source oidc) in the transaction that makes it.
 */
#include <ctype.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "api/api.h"
#include "api/oidc_internal.h"
#include "store/oidc_store.h"
#include "store/users_store.h"

#define NAME_BASE_MAX 100
#define NAME_TRIES 20

typedef struct resolve_txn {
    sb_server_request *req;
    const char *issuer;
    const sb_oidc_claims *claims;
    int64_t now;
    sb_user_record *user;
    int created;
} resolve_txn;

/* The claim made to fit [A-Za-z0-9][A-Za-z0-9._@+-]*. */
static void name_base(const char *claim, char out[NAME_BASE_MAX + 1])
{
    size_t o = 0;
    for (const char *c = claim; *c && o < NAME_BASE_MAX; c++) {
        unsigned char ch = (unsigned char)*c;
        int ok = isalnum(ch) || (o > 0 && (ch == '.' || ch == '_' || ch == '@' || ch == '+' || ch == '-'));
        if (ok)
            out[o++] = (char)ch;
        else if (o > 0 && ch >= 0x20)
            out[o++] = '-';
    }
    out[o] = '\0';
    if (o == 0)
        snprintf(out, NAME_BASE_MAX + 1, "user");
}

static int create_user(sb_db_conn *conn, resolve_txn *t, sb_error *err)
{
    char base[NAME_BASE_MAX + 1], candidate[SB_USERNAME_MAX + 1];
    name_base(t->claims->username, base);
    sb_user_record existing;
    int free_name = 0;
    for (int i = 1; i <= NAME_TRIES + 1 && !free_name; i++) {
        if (i == 1)
            snprintf(candidate, sizeof candidate, "%s", base);
        else if (i <= NAME_TRIES)
            snprintf(candidate, sizeof candidate, "%s-%d", base, i);
        else
            snprintf(candidate, sizeof candidate, "%s-%08x", base, randombytes_random());
        int rc = sb_users_store_find_by_username(conn, candidate, &existing, err);
        if (rc < 0)
            return -1;
        free_name = rc == 1;
    }
    const char *display = strlen(t->claims->name) <= SB_DISPLAY_NAME_MAX && t->claims->name[0]
                              ? t->claims->name
                              : candidate;
    sb_user_new u = {candidate, display, NULL, "oidc", t->now};
    if (sb_users_store_create(conn, &u, t->user, err) != 0)
        return -1;
    if (sb_oidc_store_identity_link(conn, t->issuer, t->claims->sub, t->user->id,
                                    t->claims->email[0] ? t->claims->email : NULL, t->now, err) != 0)
        return -1;
    char resource[64];
    snprintf(resource, sizeof resource, "user:%s", t->user->id);
    json_t *details = json_pack("{s:s, s:s, s:s}", "source", "oidc", "issuer", t->issuer,
                                "username", t->user->username);
    sb_api_audit_event ev = {"user.create", resource, "success", NULL, details};
    int rc = sb_api_audit(conn, t->req, &ev, err);
    json_decref(details);
    t->created = 1;
    return rc < 0 ? -1 : 0;
}

static int resolve_txn_fn(sb_db_conn *conn, void *ctx, sb_error *err)
{
    resolve_txn *t = ctx;
    char user_id[40];
    t->created = 0;
    int rc = sb_oidc_store_identity_touch(conn, t->issuer, t->claims->sub,
                                          t->claims->email[0] ? t->claims->email : NULL, t->now,
                                          user_id, err);
    if (rc < 0)
        return -1;
    if (rc == 1)
        return create_user(conn, t, err);
    rc = sb_users_store_find_by_id(conn, user_id, t->user, err);
    if (rc == 1)
        return sb_error_set(err, 1, "the linked user is gone");
    return rc;
}

int sb_oidc_user_resolve(sb_app *app, sb_server_request *req, const sb_oidc_claims *claims,
                         int64_t now, sb_user_record *user, int *created, sb_error *err)
{
    resolve_txn t = {req, sb_oidc_provider_settings(app->oidc)->issuer, claims, now, user, 0};
    int rc = sb_db_transaction(app->db, resolve_txn_fn, &t, err);
    *created = t.created;
    return rc;
}
