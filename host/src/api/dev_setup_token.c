/* api/dev_setup_token.c — see dev_setup_token.h. */
#include "api/dev_setup_token.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "api/api.h"
#include "crypto/token.h"
#include "store/api_tokens_store.h"
#include "store/users_store.h"

typedef struct setup_txn {
    const char *username;
    sb_api_token_new create;
    sb_api_token_record record;
} setup_txn;

static int create_token(sb_db_conn *conn, void *ctx, sb_error *err)
{
    setup_txn *t = ctx;
    sb_user_record user;
    int rc = sb_users_store_find_by_username(conn, t->username, &user, err);
    if (rc != 0)
        return rc < 0 ? -1 : sb_error_set(err, 1, "user %s does not exist", t->username);
    t->create.user_id = user.id;
    if ((rc = sb_api_tokens_store_create(conn, &t->create, &t->record, err)) != 0)
        return rc < 0 ? -1 : sb_error_set(err, 1, "user %s has too many API tokens", t->username);
    char resource[64];
    snprintf(resource, sizeof resource, "api_token:%s", t->record.id);
    json_t *details = json_pack("{s:s, s:s, s:s}", "name", t->record.name, "user", t->username,
                                "reason", "dev demo setup");
    sb_api_audit_event ev = {"api_token.create", resource, "success", NULL, details};
    rc = sb_api_audit(conn, NULL, &ev, err);
    json_decref(details);
    return rc != 0 ? -1 : 0;
}

int sb_api_dev_setup_token(sb_app *app, const char *username, int64_t ttl_s, char *out, size_t cap,
                           char id_out[40], sb_error *err)
{
    if (!app->dev_mode)
        return sb_error_set(err, 1, "a setup token exists only in dev mode");
    if (ttl_s < 1 || ttl_s > 3600 || cap < SB_TOKEN_MAX)
        return sb_error_set(err, 1, "setup token: ttl must be 1..3600 s and the buffer %d bytes",
                            SB_TOKEN_MAX);
    unsigned char hash[SB_TOKEN_HASH_BYTES];
    if (sb_token_new(SB_TOKEN_PREFIX_PERSONAL, out, cap, err) != 0 ||
        sb_token_hash(out, strlen(out), app->token_pepper, SB_KEY_BYTES, hash, err) != 0)
        return -1;
    char hint[32];
    snprintf(hint, sizeof hint, "%.8s\xe2\x80\xa6", out);
    int64_t now = sb_app_now_ms(app) / 1000;
    setup_txn t = {.username = username,
                   .create = {NULL, "sbridge dev demo setup", hash, hint, now, now + ttl_s, NULL}};
    int rc = sb_db_transaction(app->db, create_token, &t, err);
    sodium_memzero(hash, sizeof hash);
    if (rc != 0) {
        sodium_memzero(out, cap);
        return -1;
    }
    snprintf(id_out, 40, "%s", t.record.id);
    return 0;
}
