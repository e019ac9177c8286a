/*
 * api/app_keys.h — building an sb_app: key derivation and the shared,
 * reference-counted tenancy snapshot.
 *
 * Contract: sb_app_derive_keys turns the master key (64 hex digits from
 * keys.master_key, else <state_dir>/master.key, created 0600 on first use)
 * into one subkey per purpose with libsodium's KDF (contexts "sbtoken_",
 * "sbjwt___", "sbaudit_"); the subkeys live in secure memory. The CLI
 * (`sbridge audit verify`, `sbridge admin`) derives the same keys.
 *
 * sb_app_tenancy_acquire returns the snapshot for `version`, reloading it
 * through conn when the cached one is older; the caller releases it. A
 * snapshot is freed when the cache and every request are done with it.
 */
#ifndef SB_API_APP_KEYS_H
#define SB_API_APP_KEYS_H

#include "api/app.h"

int sb_app_derive_keys(const char *master_text, const char *state_dir, unsigned char **token_pepper,
                       unsigned char **jwt_secret, unsigned char **audit_key, sb_error *err);

typedef struct sb_tenancy_ref sb_tenancy_ref;
int sb_app_tenancy_acquire(sb_app *app, sb_db_conn *conn, int64_t version, sb_tenancy_ref **out,
                           sb_error *err);
const sb_tenancy *sb_tenancy_ref_get(const sb_tenancy_ref *ref);
void sb_app_tenancy_release(sb_tenancy_ref *ref);

/* Fills an sb_app for settings and an open database (keys, session
 * policy, tenancy cache); state_dir (may differ from settings.state_dir,
 * e.g. dev's temporary one) holds master.key when settings have no
 * keys.master_key. sb_app_close releases what it built. */
int sb_app_init(sb_app *app, const sb_settings *settings, sb_db *db, int dev_mode, const char *state_dir,
                sb_error *err);
void sb_app_close(sb_app *app);

#endif
