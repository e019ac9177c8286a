/*
 * api/bootstrap_admin.h — the first users of a fresh control plane.
 *
 * Contract (run at every server start, after migrations and
 * sb_api_seed_roles; idempotent and safe with several replicas starting
 * at once):
 *   - Bootstrap admin: when settings.bootstrap_admin has a username and a
 *     password and no user of that name exists (any case), the user is
 *     created (source 'bootstrap', argon2id hash of the password) with a
 *     global grant of the system role `admin`, and `user.bootstrap` is
 *     audited (actor "system") in the same transaction. An existing user
 *     is never touched: changing the password in the config later does
 *     not change it (use `sbridge admin user set-password`).
 *   - Dev seed: in dev mode (app->dev_mode) when there are no users at all
 *     (after the step above), the users admin, approver and developer are
 *     created with global grants of the roles of the same names and
 *     random passwords (24 random bytes, base64url: 32 characters). The
 *     passwords are written ONCE to `out` (sbridge dev: stdout, the terminal), never
 *     to the JSON log, the database or the audit trail; only their hashes
 *     are kept. A replica that loses the race to seed prints nothing.
 * Returns 0 (created, or nothing to do) or -1 with err filled.
 */
#ifndef SB_API_BOOTSTRAP_ADMIN_H
#define SB_API_BOOTSTRAP_ADMIN_H

#include <stdio.h>

#include "api/app.h"

/* Both steps; seed passwords go to stderr. */
int sb_api_bootstrap_users(sb_app *app, sb_error *err);

/* The steps one by one (tests pass their own stream). */
int sb_api_bootstrap_admin(sb_app *app, sb_error *err);
int sb_api_bootstrap_dev_seed(sb_app *app, FILE *out, sb_error *err);

#endif
