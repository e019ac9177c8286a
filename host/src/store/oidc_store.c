/* store/oidc_store.c — see oidc_store.h. */
#include "store/oidc_store.h"

#include <libpq-fe.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

static void hash_hex(const unsigned char *hash, char out[2 * SB_TOKEN_HASH_BYTES + 1])
{
    sodium_bin2hex(out, 2 * SB_TOKEN_HASH_BYTES + 1, hash, SB_TOKEN_HASH_BYTES);
}

int sb_oidc_store_state_put(sb_db_conn *conn, const sb_oidc_state_new *s, sb_error *err)
{
    const char *sweep[] = {SB_DB_INT(s->now)};
    if (sb_db_exec_affected(conn, "DELETE FROM oidc_login_states WHERE expires_at < to_timestamp($1::bigint)",
                            1, sweep, NULL, err) != 0)
        return -1;
    char state_hex[2 * SB_TOKEN_HASH_BYTES + 1], binding_hex[2 * SB_TOKEN_HASH_BYTES + 1];
    hash_hex(s->state_hash, state_hex);
    hash_hex(s->binding_hash, binding_hex);
    const char *params[] = {state_hex, binding_hex, s->nonce, s->return_to, SB_DB_INT(s->now),
                            SB_DB_INT(s->expires_at)};
    return sb_db_exec_affected(conn,
                               "INSERT INTO oidc_login_states (state_hash, binding_hash, nonce,"
                               " return_to, created_at, expires_at) VALUES (decode($1, 'hex'),"
                               " decode($2, 'hex'), $3, $4, to_timestamp($5::bigint),"
                               " to_timestamp($6::bigint))",
                               6, params, NULL, err) != 0
               ? -1
               : 0;
}

static void row_to_state(const PGresult *res, int row, void *out)
{
    sb_oidc_state_record *s = out;
    const char *hex = PQgetvalue(res, row, 0);
    size_t len = 0;
    if (sodium_hex2bin(s->binding_hash, sizeof s->binding_hash, hex, strlen(hex), NULL, &len,
                       NULL) != 0 ||
        len != sizeof s->binding_hash)
        memset(s->binding_hash, 0, sizeof s->binding_hash); /* matches no cookie */
    snprintf(s->nonce, sizeof s->nonce, "%s", PQgetvalue(res, row, 1));
    snprintf(s->return_to, sizeof s->return_to, "%s", PQgetvalue(res, row, 2));
    s->expires_at = sb_db_cell_i64(res, row, 3);
}

int sb_oidc_store_state_take(sb_db_conn *conn, const unsigned char *state_hash,
                             sb_oidc_state_record *out, sb_error *err)
{
    char state_hex[2 * SB_TOKEN_HASH_BYTES + 1];
    hash_hex(state_hash, state_hex);
    const char *params[] = {state_hex};
    memset(out, 0, sizeof *out);
    return sb_db_exec_one(conn,
                          "DELETE FROM oidc_login_states WHERE state_hash = decode($1, 'hex')"
                          " RETURNING encode(binding_hash, 'hex'), nonce, return_to,"
                          " floor(extract(epoch FROM expires_at))::bigint",
                          1, params, row_to_state, out, err);
}

static void row_to_user_id(const PGresult *res, int row, void *out)
{
    snprintf(out, 40, "%s", PQgetvalue(res, row, 0));
}

int sb_oidc_store_identity_touch(sb_db_conn *conn, const char *issuer, const char *subject,
                                 const char *email, int64_t now, char user_id[40], sb_error *err)
{
    const char *params[] = {issuer, subject, email, SB_DB_INT(now)};
    return sb_db_exec_one(conn,
                          "UPDATE oidc_identities SET last_login_at = to_timestamp($4::bigint),"
                          " email = coalesce($3, email) WHERE issuer = $1 AND subject = $2"
                          " RETURNING user_id::text",
                          4, params, row_to_user_id, user_id, err);
}

int sb_oidc_store_identity_link(sb_db_conn *conn, const char *issuer, const char *subject,
                                const char *user_id, const char *email, int64_t now,
                                sb_error *err)
{
    const char *params[] = {issuer, subject, user_id, email, SB_DB_INT(now)};
    return sb_db_exec_affected(conn,
                               "INSERT INTO oidc_identities (issuer, subject, user_id, email,"
                               " created_at, last_login_at) VALUES ($1, $2, $3::uuid, $4,"
                               " to_timestamp($5::bigint), to_timestamp($5::bigint))",
                               5, params, NULL, err) != 0
               ? -1
               : 0;
}
