/*
 * api/dev_setup_token.h — the short-lived API token `sbridge dev` uses to
 * set up its demo world through the public API (cli/dev_demo.c), so the
 * demo tenancy is made by the same validated, audited routes a person
 * uses and nothing is written behind the API's back.
 *
 * Contract: only in dev mode (app->dev_mode; otherwise -1, nothing
 * written). Mints a personal API token of the existing user `username`
 * (unscoped: the user's own grants), named "sbridge dev demo setup",
 * expiring after ttl_s (1..3600) seconds, and audits api_token.create
 * (actor system, details.reason "dev demo setup") in the same transaction.
 * The token is written to out (secure memory of cap >= SB_TOKEN_MAX
 * bytes) and its id to id_out; only its keyed hash is stored. The caller
 * revokes it (DELETE /users/me/tokens/{id}) when done; it expires anyway.
 * Returns 0, or -1 with err (unknown user, not dev mode, database).
 */
#ifndef SB_API_DEV_SETUP_TOKEN_H
#define SB_API_DEV_SETUP_TOKEN_H

#include <stddef.h>
#include <stdint.h>

#include "api/app.h"

int sb_api_dev_setup_token(sb_app *app, const char *username, int64_t ttl_s, char *out, size_t cap,
                           char id_out[40], sb_error *err);

#endif
