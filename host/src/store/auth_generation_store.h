/*
 * store/auth_generation_store.h — the auth generation (migration 0023): a
 * counter the database's triggers move, in the writing transaction,
 * whenever a session, an API token, a user's status, a grant, a role or
 * the tenancy changes, and the channel its NOTIFY goes to.
 *
 * Contract: the session and token lookups return the generation read in
 * their own snapshot (sb_grant_set.auth_generation); a cached lookup is
 * still current exactly when sb_auth_generation_read returns the same
 * number (any committed change since moved it).
 */
#ifndef SB_STORE_AUTH_GENERATION_STORE_H
#define SB_STORE_AUTH_GENERATION_STORE_H

#include <stdint.h>

#include "store/db.h"

#define SB_AUTH_CHANNEL "sb_auth"

/* 0 with the current generation, -1 on error. */
int sb_auth_generation_read(sb_db_conn *conn, int64_t *generation, sb_error *err);

#endif
