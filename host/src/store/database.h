/*
 * store/database.h — "the database" as a role opens it: an external
 * PostgreSQL (database.url) or, when no URL is configured, the embedded one
 * in state_dir (embedded_pg.h); a connection pool over it (db.h); and the
 * schema brought up to date or checked (migrate.h).
 *
 * Contract: sb_database_open starts the embedded server first if needed,
 * opens the pool, then either applies the built-in migrations (migrate=1:
 * `sbridge migrate`, `sbridge server`, `sbridge dev`) or only checks them
 * (migrate=0), refusing a schema that is newer than this binary, that
 * changed, or that still has pending migrations ("run `sbridge migrate`").
 * On failure nothing is left running. sb_database_close closes the pool
 * and stops the embedded server. Messages name the server with
 * sb_db_describe_conninfo (never a password).
 *
 * Two roles (store/db_roles.h): the pool connects as the server's own
 * role — the embedded cluster's "sbridge_app", or database.url's — and
 * the migrations run as the owner — the embedded superuser, or
 * database.migration_url's — on a connection of their own, granting the
 * pool's role its rights under the migration lock. Without a
 * migration_url (one role for both, the old way) they run on the pool.
 * With check_role (the server, dev), the pool's role is checked before
 * and after migrating: one that could switch the audit triggers off
 * (superuser, owner...) is refused (SB_DB_ROLES_E_PRIVILEGED) with how
 * to fix it, unless allow_privileged_role (development only), which logs
 * a warning at every start instead.
 */
#ifndef SB_STORE_DATABASE_H
#define SB_STORE_DATABASE_H

#include <stdint.h>

#include "store/db.h"
#include "store/embedded_pg.h"
#include "store/migrate.h"
#include "util/error.h"

typedef struct sb_database sb_database;

typedef struct sb_database_options {
    const char *url;            /* NULL or "": embedded PostgreSQL in state_dir */
    const char *migration_url;  /* NULL: migrations run as url's role; needs url */
    const char *state_dir;      /* needed only for the embedded server */
    int pool_size;              /* database.pool_size */
    int64_t connect_timeout_ms; /* database.connect_timeout */
    int migrate;                /* 1: apply pending migrations; 0: refuse if any */
    int check_role;             /* 1: refuse a pool role that could disable the triggers */
    int allow_privileged_role;  /* with check_role: only warn (database.allow_privileged_role) */
} sb_database_options;

/* report may be NULL; it tells what migrate did (or found, when 0). */
int sb_database_open(const sb_database_options *opts, sb_database **out, sb_migrate_report *report,
                     sb_error *err);
sb_db *sb_database_pool(const sb_database *d);
/* The role the pool connects as. */
const char *sb_database_app_role(const sb_database *d);
/* The embedded server, or NULL when an external one is used. */
sb_embedded_pg *sb_database_embedded(const sb_database *d);
/* NULL is a no-op. */
void sb_database_close(sb_database *d);

#endif
