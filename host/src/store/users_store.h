/*
 * store/users_store.h — local users: lookup, creation, passwords, status,
 * login lockout, and the role grants the bootstrap and the admin CLI make.
 *
 * Contract:
 *   - Usernames are unique case-insensitively (lower(username)); lookups
 *     go by lower($1), so "Alice" and "alice" are one account.
 *   - Passwords are stored only as argon2id strings (crypto/password.h);
 *     these functions take the finished hash and refuse anything else, so
 *     a plain password can never reach a row by mistake. Hashing is the
 *     caller's job, done before any transaction is opened (it is slow on
 *     purpose).
 *   - Times are Unix seconds passed in by the caller (the app's clock), so
 *     tests can move time; the database clock is not used for decisions.
 *   - Lockout follows domain/session_policy.h exactly: record_failure locks
 *     the row (SELECT … FOR UPDATE), computes the next state with
 *     sb_lockout_on_failure and writes it with UPDATE … RETURNING, all in
 *     one transaction (the caller's, or its own when called outside one),
 *     so N parallel wrong passwords count exactly N. record_success resets
 *     the counters only if the user is active and not locked at `now`, in
 *     one conditional UPDATE: a lock that lands between the password check
 *     and the success wins.
 *   - Returns: 0 done / found, 1 not found (or refused, as documented per
 *     function), -1 error (err filled; SB_DB_E_* codes).
 */
#ifndef SB_STORE_USERS_STORE_H
#define SB_STORE_USERS_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "crypto/password.h"
#include "domain/session_policy.h"
#include "store/db.h"

#define SB_USERNAME_MAX 128     /* the users.username CHECK */
#define SB_DISPLAY_NAME_MAX 200 /* characters (the column CHECK) */

typedef struct sb_user_record {
    char id[40];
    char username[SB_USERNAME_MAX + 2];
    char display_name[4 * SB_DISPLAY_NAME_MAX + 1]; /* UTF-8 */
    char source[16];                                /* local | oidc | bootstrap */
    int disabled;
    int has_password;
    char password_hash[SB_PASSWORD_HASH_MAX]; /* "" when has_password is 0 */
    int failed_logins;
    int64_t locked_until; /* 0: not locked */
    int64_t created_at;
} sb_user_record;

typedef struct sb_user_new {
    const char *username;      /* [A-Za-z0-9][A-Za-z0-9._@+-]{0,127} */
    const char *display_name;  /* NULL: the username */
    const char *password_hash; /* argon2id string; NULL: no password (OIDC) */
    const char *source;        /* "local" (default when NULL) or "bootstrap" */
    int64_t now;
} sb_user_new;

/* 0 and *out, 1 when no user has that name (any case). */
int sb_users_store_find_by_username(sb_db_conn *conn, const char *username, sb_user_record *out,
                                    sb_error *err);
/* 0 and *out, 1 when id is not a user (or not a UUID). */
int sb_users_store_find_by_id(sb_db_conn *conn, const char *id, sb_user_record *out, sb_error *err);
/* How many users exist. */
int sb_users_store_count(sb_db_conn *conn, int64_t *out, sb_error *err);

/* Creates the user; fills *out. SB_DB_E_CONFLICT when the name is taken,
 * SB_DB_E_CHECK when it is malformed. */
int sb_users_store_create(sb_db_conn *conn, const sb_user_new *u, sb_user_record *out,
                          sb_error *err);
/* Replaces the password hash and clears the lockout. 1: no such user. */
int sb_users_store_set_password(sb_db_conn *conn, const char *user_id, const char *password_hash,
                                sb_error *err);
/* Sets status active/disabled. 1: no such user. *changed (may be NULL) is
 * 1 when the status actually changed. */
int sb_users_store_set_disabled(sb_db_conn *conn, const char *user_id, int disabled, int *changed,
                                sb_error *err);

/* One wrong password at now. *out is the state after it; *locked_now is 1
 * when this failure started a lock, *was_locked 1 when the account was
 * already locked (the failure neither counted nor extended it). 1: no
 * such user. */
int sb_users_store_record_failure(sb_db_conn *conn, const char *user_id,
                                  const sb_lockout_policy *policy, int64_t now,
                                  sb_lockout_state *out, int *locked_now, int *was_locked,
                                  sb_error *err);
/* A correct password at now: resets the counters. 1 when refused (the
 * user is disabled or locked at now, or gone). */
int sb_users_store_record_success(sb_db_conn *conn, const char *user_id, int64_t now,
                                  sb_error *err);

/* Grants role_name to the user at a scope (scope_kind "global", "team" or
 * "project" with scope_id for the last two). *created (may be NULL) is 0
 * when the same grant already existed. granted_by: a user id or NULL.
 * 1: no role of that name. SB_DB_E_FK: unknown user, team or project. */
int sb_users_store_grant_role(sb_db_conn *conn, const char *user_id, const char *role_name,
                              const char *scope_kind, const char *scope_id, const char *granted_by,
                              int *created, sb_error *err);

/* The teams a user is a member of (membership grants nothing: this is for
 * display), by name. *out is malloc'd (free it). */
typedef struct sb_user_team {
    char id[40];
    char name[4 * 100 + 1];
    char parent_id[40]; /* "" for a root team */
} sb_user_team;
int sb_users_store_teams(sb_db_conn *conn, const char *user_id, sb_user_team **out, size_t *n,
                         sb_error *err);

/* 1 when s has the shape of a UUID (8-4-4-4-12 hex digits); ids from the
 * outside are checked before they reach a ::uuid cast. */
int sb_users_store_uuid_ok(const char *s);

#endif
