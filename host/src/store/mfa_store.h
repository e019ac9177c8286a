/*
 * store/mfa_store.h — users' MFA factors (TOTP, SPEC §8; migration 0024).
 *
 * Contract:
 *   - A factor's shared secret reaches this layer only KMS-wrapped
 *     (ciphertext + the key id that wrapped it, crypto/kms.h); the
 *     plaintext never touches SQL.
 *   - A factor is pending until confirmed; a pending factor older than
 *     SB_MFA_PENDING_TTL_S can no longer be confirmed, and creating a new
 *     one deletes the user's expired pending ones. A user holds at most
 *     SB_MFA_MAX_FACTORS factors; labels are unique per user (any case):
 *     a duplicate is SB_DB_E_CONFLICT.
 *   - Replay: last_used_step is the highest TOTP step ever accepted for
 *     the factor. sb_mfa_store_accept_step moves it forward in ONE
 *     conditional UPDATE (… WHERE last_used_step < step), so a step at or
 *     below it — including two concurrent uses of the same code — is
 *     refused (1) and nothing changes.
 *   - Reads for a decision lock the rows (FOR UPDATE); every function runs
 *     inside the caller's transaction.
 *   - Returns: 0 done / found, 1 not found / refused (as documented), -1
 *     error with err filled (SB_DB_E_* codes). Ids must be UUID text
 *     (anything else is "not found").
 */
#ifndef SB_STORE_MFA_STORE_H
#define SB_STORE_MFA_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crypto/token.h"
#include "store/db.h"
#include "store/rows.h"

#define SB_MFA_PENDING_TTL_S 600
#define SB_MFA_MAX_FACTORS 10

typedef struct sb_mfa_factor {
    char id[37];
    bool confirmed;
    int64_t last_used_step;
    unsigned char *ciphertext; /* malloc; sb_mfa_factor_clear */
    size_t ciphertext_len;
    char key_id[513];
} sb_mfa_factor;

void sb_mfa_factor_clear(sb_mfa_factor *f);

typedef struct sb_mfa_new {
    const char *user_id;
    const char *label;
    const unsigned char *ciphertext;
    size_t ciphertext_len;
    const char *key_id;
    int64_t now;
} sb_mfa_new;

/* Inserts a pending TOTP factor; its id goes to id_out. 1: the user
 * already holds SB_MFA_MAX_FACTORS factors. */
int sb_mfa_store_create(sb_db_conn *conn, const sb_mfa_new *n, char id_out[37], sb_error *err);
/* The user's factor `id`, locked. With pending_only, only a pending factor
 * still within SB_MFA_PENDING_TTL_S of now. 1: none. */
int sb_mfa_store_lock(sb_db_conn *conn, const char *user_id, const char *id, bool pending_only,
                      int64_t now, sb_mfa_factor *out, sb_error *err);
/* The user's confirmed factors, locked (*out malloc'd; free with
 * sb_mfa_factors_free). */
int sb_mfa_store_lock_confirmed(sb_db_conn *conn, const char *user_id, sb_mfa_factor **out,
                                size_t *n, sb_error *err);
void sb_mfa_factors_free(sb_mfa_factor *f, size_t n);
/* Accepts TOTP step `step` for the factor (and confirms it when confirm):
 * 0, or 1 when step <= its last accepted step (a replay). */
int sb_mfa_store_accept_step(sb_db_conn *conn, const char *id, int64_t step, int64_t now,
                             bool confirm, sb_error *err);
/* The user's factors, newest first. Columns: 0 id, 1 kind, 2 label,
 * 3 created_at, 4 confirmed_at (NULL: pending), 5 last_used_at. */
int sb_mfa_store_list(sb_db_conn *conn, const char *user_id, sb_row_set *out, sb_error *err);
/* Deletes the user's factor `id`. 1: none. */
int sb_mfa_store_delete(sb_db_conn *conn, const char *user_id, const char *id, sb_error *err);
/* What a step-up decision needs, from the database in the caller's
 * transaction: the live session's last_mfa_at (0: never) and whether its
 * user has a confirmed factor. 1: no such live session of user_id. */
int sb_mfa_store_step_up_state(sb_db_conn *conn, const unsigned char *token_hash,
                               const char *user_id, int64_t *last_mfa_at, bool *has_factor,
                               sb_error *err);

#endif
