/* store/mfa_store.c — see mfa_store.h. */
#include "store/mfa_store.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/users_store.h"

#define FACTOR_COLUMNS                                                                             \
    "id::text, confirmed_at IS NOT NULL, last_used_step, encode(secret_ciphertext, 'hex'), "       \
    "secret_key_id"

static int factor_at(const PGresult *res, int i, sb_mfa_factor *f, sb_error *err)
{
    memset(f, 0, sizeof *f);
    snprintf(f->id, sizeof f->id, "%s", PQgetvalue(res, i, 0));
    f->confirmed = strcmp(PQgetvalue(res, i, 1), "t") == 0;
    f->last_used_step = strtoll(PQgetvalue(res, i, 2), NULL, 10);
    const char *hex = PQgetvalue(res, i, 3);
    size_t cap = strlen(hex) / 2 + 1;
    if ((f->ciphertext = malloc(cap)) == NULL ||
        sodium_hex2bin(f->ciphertext, cap, hex, strlen(hex), NULL, &f->ciphertext_len, NULL) != 0) {
        sb_mfa_factor_clear(f);
        return sb_error_set(err, SB_DB_E_NO_MEMORY, "cannot read a factor's wrapped secret");
    }
    snprintf(f->key_id, sizeof f->key_id, "%s", PQgetvalue(res, i, 4));
    return 0;
}

void sb_mfa_factor_clear(sb_mfa_factor *f)
{
    if (f == NULL)
        return;
    free(f->ciphertext);
    memset(f, 0, sizeof *f);
}

void sb_mfa_factors_free(sb_mfa_factor *f, size_t n)
{
    for (size_t i = 0; f && i < n; i++)
        sb_mfa_factor_clear(&f[i]);
    free(f);
}

int sb_mfa_store_create(sb_db_conn *conn, const sb_mfa_new *n, char id_out[37], sb_error *err)
{
    id_out[0] = '\0';
    if (!sb_users_store_uuid_ok(n->user_id) || n->label == NULL || n->ciphertext == NULL ||
        n->ciphertext_len == 0 || n->key_id == NULL)
        return sb_error_set(err, SB_DB_E_INVALID, "a factor needs a user, a label and a wrapped secret");
    size_t hex_cap = n->ciphertext_len * 2 + 1;
    char *hex = malloc(hex_cap);
    if (hex == NULL)
        return sb_error_set(err, SB_DB_E_NO_MEMORY, "out of memory storing a factor");
    sodium_bin2hex(hex, hex_cap, n->ciphertext, n->ciphertext_len);
    const char *params[] = {n->user_id, n->label, hex, n->key_id, SB_DB_INT(n->now),
                            SB_DB_INT(SB_MFA_PENDING_TTL_S), SB_DB_INT(SB_MFA_MAX_FACTORS)};
    PGresult *res;
    int rc = sb_db_exec(
        conn,
        "WITH expired AS (DELETE FROM mfa_factors WHERE user_id = $1::uuid"
        "                   AND confirmed_at IS NULL"
        "                   AND created_at <= to_timestamp($5::bigint - $6::bigint)"
        "                 RETURNING id),"
        " held AS (SELECT count(*) AS n FROM mfa_factors f WHERE f.user_id = $1::uuid"
        "            AND f.id NOT IN (SELECT id FROM expired))"
        " INSERT INTO mfa_factors (user_id, label, secret_ciphertext, secret_key_id, created_at)"
        " SELECT $1::uuid, $2, decode($3, 'hex'), $4, to_timestamp($5::bigint)"
        "   FROM held WHERE held.n < $7::integer"
        " RETURNING id::text",
        7, params, &res, err);
    free(hex);
    if (rc != 0)
        return -1;
    int made = PQntuples(res) == 1;
    if (made)
        snprintf(id_out, 37, "%s", PQgetvalue(res, 0, 0));
    PQclear(res);
    return made ? 0 : 1;
}

int sb_mfa_store_lock(sb_db_conn *conn, const char *user_id, const char *id, bool pending_only,
                      int64_t now, sb_mfa_factor *out, sb_error *err)
{
    memset(out, 0, sizeof *out);
    if (!sb_users_store_uuid_ok(user_id) || !sb_users_store_uuid_ok(id))
        return 1;
    const char *params[] = {user_id, id, pending_only ? "t" : "f", SB_DB_INT(now),
                            SB_DB_INT(SB_MFA_PENDING_TTL_S)};
    PGresult *res;
    if (sb_db_exec(conn,
                   "SELECT " FACTOR_COLUMNS " FROM mfa_factors"
                   " WHERE user_id = $1::uuid AND id = $2::uuid"
                   "   AND (NOT $3::boolean OR (confirmed_at IS NULL"
                   "        AND created_at > to_timestamp($4::bigint - $5::bigint)))"
                   " FOR UPDATE",
                   5, params, &res, err) != 0)
        return -1;
    int rc = PQntuples(res) == 1 ? factor_at(res, 0, out, err) : 1;
    PQclear(res);
    return rc;
}

int sb_mfa_store_lock_confirmed(sb_db_conn *conn, const char *user_id, sb_mfa_factor **out,
                                size_t *n, sb_error *err)
{
    *out = NULL;
    *n = 0;
    if (!sb_users_store_uuid_ok(user_id))
        return 0;
    const char *params[] = {user_id};
    PGresult *res;
    if (sb_db_exec(conn,
                   "SELECT " FACTOR_COLUMNS " FROM mfa_factors"
                   " WHERE user_id = $1::uuid AND confirmed_at IS NOT NULL"
                   " ORDER BY created_at, id FOR UPDATE",
                   1, params, &res, err) != 0)
        return -1;
    int rows = PQntuples(res);
    *out = calloc((size_t)rows + 1, sizeof **out);
    int rc = *out ? 0 : sb_error_set(err, SB_DB_E_NO_MEMORY, "out of memory reading factors");
    for (int i = 0; rc == 0 && i < rows; i++)
        if ((rc = factor_at(res, i, &(*out)[i], err)) == 0)
            *n = (size_t)i + 1;
    PQclear(res);
    if (rc != 0) {
        sb_mfa_factors_free(*out, *n);
        *out = NULL;
        *n = 0;
    }
    return rc;
}

int sb_mfa_store_accept_step(sb_db_conn *conn, const char *id, int64_t step, int64_t now,
                             bool confirm, sb_error *err)
{
    if (!sb_users_store_uuid_ok(id) || step < 1)
        return 1;
    const char *params[] = {id, SB_DB_INT(step), SB_DB_INT(now), confirm ? "t" : "f"};
    int64_t changed = 0;
    if (sb_db_exec_affected(
            conn,
            "UPDATE mfa_factors SET last_used_step = $2::bigint,"
            "       last_used_at = to_timestamp($3::bigint),"
            "       confirmed_at = CASE WHEN $4::boolean"
            "                      THEN coalesce(confirmed_at, to_timestamp($3::bigint))"
            "                      ELSE confirmed_at END"
            " WHERE id = $1::uuid AND last_used_step < $2::bigint",
            4, params, &changed, err) != 0)
        return -1;
    return changed == 1 ? 0 : 1;
}

int sb_mfa_store_list(sb_db_conn *conn, const char *user_id, sb_row_set *out, sb_error *err)
{
    memset(out, 0, sizeof *out);
    if (!sb_users_store_uuid_ok(user_id))
        return 0;
    const char *params[] = {user_id};
    PGresult *res;
    if (sb_db_exec(conn,
                   "SELECT id::text, kind, label, " SB_ROWS_TS("created_at") ", "
                   SB_ROWS_TS("confirmed_at") ", " SB_ROWS_TS("last_used_at")
                   " FROM mfa_factors WHERE user_id = $1::uuid"
                   " ORDER BY created_at DESC, id DESC",
                   1, params, &res, err) != 0)
        return -1;
    out->res = res;
    out->n = (size_t)PQntuples(res);
    return 0;
}

int sb_mfa_store_delete(sb_db_conn *conn, const char *user_id, const char *id, sb_error *err)
{
    if (!sb_users_store_uuid_ok(user_id) || !sb_users_store_uuid_ok(id))
        return 1;
    const char *params[] = {user_id, id};
    int64_t gone = 0;
    if (sb_db_exec_affected(conn,
                            "DELETE FROM mfa_factors WHERE user_id = $1::uuid AND id = $2::uuid", 2,
                            params, &gone, err) != 0)
        return -1;
    return gone == 1 ? 0 : 1;
}

int sb_mfa_store_step_up_state(sb_db_conn *conn, const unsigned char *token_hash,
                               const char *user_id, int64_t *last_mfa_at, bool *has_factor,
                               sb_error *err)
{
    *last_mfa_at = 0;
    *has_factor = false;
    if (!sb_users_store_uuid_ok(user_id))
        return 1;
    char hex[2 * SB_TOKEN_HASH_BYTES + 1];
    sodium_bin2hex(hex, sizeof hex, token_hash, SB_TOKEN_HASH_BYTES);
    const char *params[] = {hex, user_id};
    PGresult *res;
    if (sb_db_exec(conn,
                   "SELECT coalesce(extract(epoch FROM s.last_mfa_at)::bigint, 0),"
                   "       EXISTS (SELECT 1 FROM mfa_factors f WHERE f.user_id = s.user_id"
                   "                 AND f.confirmed_at IS NOT NULL)"
                   "  FROM sessions s"
                   " WHERE s.token_hash = decode($1, 'hex') AND s.user_id = $2::uuid"
                   "   AND s.revoked_at IS NULL",
                   2, params, &res, err) != 0)
        return -1;
    int found = PQntuples(res) == 1;
    if (found) {
        *last_mfa_at = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
        *has_factor = strcmp(PQgetvalue(res, 0, 1), "t") == 0;
    }
    PQclear(res);
    return found ? 0 : 1;
}
