/* api/bootstrap_admin.c — see bootstrap_admin.h. */
#include "api/bootstrap_admin.h"

#include <sodium.h>
#include <string.h>

#include "api/api.h"
#include "crypto/password.h"
#include "crypto/secure_mem.h"
#include "store/users_store.h"
#include "util/log.h"

#define SEED_PASSWORD_BYTES 24
#define SEED_PASSWORD_TEXT 33 /* base64url without padding of 24 bytes, + NUL */

typedef struct new_user {
    const char *username;
    const char *role;
    const char *source; /* "bootstrap" or "local" */
    const char *why;    /* audit detail: "bootstrap_admin" or "dev_seed" */
    char hash[SB_PASSWORD_HASH_MAX];
    sb_user_record created;
} new_user;

typedef struct bootstrap_txn {
    new_user *users;
    size_t n;
    int64_t now;
    int only_if_empty; /* dev seed: no users at all */
} bootstrap_txn;

/* Creates every user with its global grant and audit event; returns 1 (and
 * writes nothing) when the precondition no longer holds. */
static int create_users(sb_db_conn *conn, void *ctx, sb_error *err)
{
    bootstrap_txn *t = ctx;
    if (t->only_if_empty) {
        int64_t count = 0;
        if (sb_users_store_count(conn, &count, err) != 0)
            return -1;
        if (count > 0)
            return 1;
    }
    for (size_t i = 0; i < t->n; i++) {
        new_user *u = &t->users[i];
        sb_user_record existing;
        int rc = sb_users_store_find_by_username(conn, u->username, &existing, err);
        if (rc < 0)
            return -1;
        if (rc == 0)
            return 1;
        sb_user_new nu = {u->username, NULL, u->hash, u->source, t->now};
        if (sb_users_store_create(conn, &nu, &u->created, err) != 0)
            return -1;
        rc = sb_users_store_grant_role(conn, u->created.id, u->role, "global", NULL, NULL, NULL,
                                       err);
        if (rc < 0)
            return -1;
        if (rc == 1)
            return sb_error_set(err, SB_DB_E_INVALID,
                                "role %s does not exist: the system roles must be seeded first",
                                u->role);
        char resource[64];
        snprintf(resource, sizeof resource, "user:%s", u->created.id);
        json_t *details = json_pack("{s:s, s:s, s:s}", "username", u->username, "role", u->role,
                                    "reason", u->why);
        sb_api_audit_event ev = {"user.bootstrap", resource, "success", "warning", details};
        rc = sb_api_audit(conn, NULL, &ev, err);
        json_decref(details);
        if (rc != 0)
            return -1;
    }
    return 0;
}

/* Runs the transaction; a unique violation means another replica won. */
static int run(sb_app *app, bootstrap_txn *t, sb_error *err)
{
    int rc = sb_db_transaction(app->db, create_users, t, err);
    if (rc < 0 && err->code == SB_DB_E_CONFLICT)
        return 1;
    return rc;
}

int sb_api_bootstrap_admin(sb_app *app, sb_error *err)
{
    const sb_admin_settings *a = &app->settings->bootstrap_admin;
    if (a->username == NULL || a->username[0] == '\0' || a->password == NULL ||
        a->password[0] == '\0')
        return 0;
    size_t len = strlen(a->password);
    if (len > SB_PASSWORD_MAX_LEN)
        return sb_error_set(err, SB_DB_E_INVALID,
                            "bootstrap_admin.password is longer than %d bytes",
                            SB_PASSWORD_MAX_LEN);
    sb_db_conn *conn;
    sb_user_record existing;
    if (sb_db_acquire(app->db, -1, &conn, err) != 0)
        return -1;
    int rc = sb_users_store_find_by_username(conn, a->username, &existing, err);
    sb_db_release(app->db, conn);
    if (rc <= 0)
        return rc; /* exists (0) or error (-1) */
    new_user u = {
        .username = a->username, .role = "admin", .source = "bootstrap", .why = "bootstrap_admin"};
    char *pw = sb_secure_strdup(a->password, len);
    sb_password_params params = sb_password_params_default();
    rc = pw ? sb_password_hash(&params, pw, len, u.hash, err)
            : sb_error_set(err, 1, "out of secure memory");
    sb_secure_release(pw);
    if (rc != 0)
        return -1;
    bootstrap_txn t = {&u, 1, sb_app_now_ms(app) / 1000, 0};
    rc = run(app, &t, err);
    sodium_memzero(u.hash, sizeof u.hash);
    if (rc == 0)
        sb_info("auth", "created the bootstrap administrator %s (global admin)", a->username);
    return rc < 0 ? -1 : 0;
}

int sb_api_bootstrap_dev_seed(sb_app *app, FILE *out, sb_error *err)
{
    if (!app->dev_mode)
        return 0;
    sb_db_conn *conn;
    int64_t count = 0;
    if (sb_db_acquire(app->db, -1, &conn, err) != 0)
        return -1;
    int rc = sb_users_store_count(conn, &count, err);
    sb_db_release(app->db, conn);
    if (rc != 0)
        return -1;
    if (count > 0)
        return 0;
    static const char *const names[] = {"admin", "approver", "developer"};
    new_user users[3];
    char *pw = sb_secure_alloc(3 * SEED_PASSWORD_TEXT);
    unsigned char *raw = sb_secure_alloc(SEED_PASSWORD_BYTES);
    if (pw == NULL || raw == NULL) {
        sb_secure_release(pw);
        sb_secure_release(raw);
        return sb_error_set(err, 1, "out of secure memory");
    }
    sb_password_params params = sb_password_params_default();
    rc = 0;
    for (size_t i = 0; i < 3 && rc == 0; i++) {
        memset(&users[i], 0, sizeof users[i]);
        users[i].username = names[i];
        users[i].role = names[i];
        users[i].source = "local";
        users[i].why = "dev_seed";
        char *p = pw + i * SEED_PASSWORD_TEXT;
        randombytes_buf(raw, SEED_PASSWORD_BYTES);
        sodium_bin2base64(p, SEED_PASSWORD_TEXT, raw, SEED_PASSWORD_BYTES,
                          sodium_base64_VARIANT_URLSAFE_NO_PADDING);
        rc = sb_password_hash(&params, p, strlen(p), users[i].hash, err);
    }
    sb_secure_release(raw);
    bootstrap_txn t = {users, 3, sb_app_now_ms(app) / 1000, 1};
    if (rc == 0)
        rc = run(app, &t, err);
    if (rc == 0 && out) {
        /* Plain text on purpose: the one place these passwords are shown. */
        fprintf(out, "\nsbridge dev: seeded users (passwords shown once; not logged or stored):\n");
        for (size_t i = 0; i < 3; i++)
            fprintf(out, "  %-10s %s   (role %s, global)\n", names[i], pw + i * SEED_PASSWORD_TEXT,
                    names[i]);
        fprintf(out, "\n");
        fflush(out);
    }
    for (size_t i = 0; i < 3; i++)
        sodium_memzero(users[i].hash, sizeof users[i].hash);
    sb_secure_release(pw);
    if (rc == 0)
        sb_info("auth", "dev mode: seeded users admin, approver and developer");
    return rc < 0 ? -1 : 0;
}

int sb_api_bootstrap_users(sb_app *app, sb_error *err)
{
    if (sb_api_bootstrap_admin(app, err) != 0)
        return -1;
    return sb_api_bootstrap_dev_seed(app, stderr, err);
}
