/*
 * store/migrate.h — schema migrations compiled into the binary.
 *
 * Contract: every host/src/store/migrations/NNNN_name.sql is compiled in
 * (sb_migrations_builtin, generated at build time, sorted by version).
 * sb_migrate_apply brings a database up to date:
 *   - it takes a session-level advisory lock (SB_MIGRATE_LOCK_KEY) on a
 *     dedicated connection for the whole run, so concurrent appliers (two
 *     servers starting at once) apply each migration exactly once: the
 *     second waits, then finds nothing to do;
 *   - it creates schema_migrations(version, name, checksum, applied_at) if
 *     missing;
 *   - it refuses, changing nothing, when the database holds a version this
 *     binary does not know ("database schema is at version N, newer than
 *     this sbridge (knows up to M): upgrade sbridge"), when an applied
 *     migration's SQL changed since (SHA-256 checksum mismatch), or when a
 *     pending migration is older than the newest applied one;
 *   - it applies each pending migration in its own transaction: the
 *     migration's SQL and its schema_migrations row commit together or not
 *     at all. A migration file must not contain transaction control
 *     (BEGIN/COMMIT) and cannot use statements that refuse to run in a
 *     transaction (CREATE INDEX CONCURRENTLY).
 * sb_migrate_apply_granting does the same and then, still under the lock,
 * gives app_role (the server's own role) exactly its rights on every table,
 * sequence and function of the schema (store/db_roles.h) — also when no
 * migration was pending, so tables of later migrations are covered and a
 * right added by hand beyond the rules is taken back.
 * sb_migrate_status makes the same checks read-only (for `sbridge migrate
 * --status` and /readyz) and reports how many migrations are pending.
 */
#ifndef SB_STORE_MIGRATE_H
#define SB_STORE_MIGRATE_H

#include <stddef.h>
#include <stdint.h>

#include "store/db.h"
#include "util/error.h"

enum sb_migrate_error_code {
    SB_MIGRATE_E_LIST = 2101, /* the migration list itself is malformed */
    SB_MIGRATE_E_NEWER,       /* the database has versions this binary does not know */
    SB_MIGRATE_E_CHANGED,     /* an applied migration's SQL differs from the binary's */
    SB_MIGRATE_E_OUT_OF_ORDER, /* a pending migration is older than the newest applied one */
    SB_MIGRATE_E_FAILED,      /* a migration's SQL failed (it was rolled back) */
    SB_MIGRATE_E_PENDING,     /* migrations are pending where only a check was asked (database.h) */
};

/* "SBMIGRAT" as a big-endian 64-bit number: the advisory lock key. */
#define SB_MIGRATE_LOCK_KEY INT64_C(0x53424D4947524154)

typedef struct sb_migration {
    int version;      /* > 0, strictly increasing in a list */
    const char *name; /* from the file name, without the number: "foundation" */
    const char *sql;
} sb_migration;

typedef struct sb_migrate_report {
    int from_version; /* newest applied before the run (0: empty database) */
    int to_version;   /* newest applied after the run */
    size_t applied;   /* migrations applied by this run */
    size_t pending;   /* migrations still to apply (status only; 0 after apply) */
    size_t verified;  /* already-applied migrations whose checksum was checked */
} sb_migrate_report;

/* The migrations compiled into this binary, sorted by version. */
const sb_migration *sb_migrations_builtin(size_t *n);

/* report may be NULL. */
int sb_migrate_apply(sb_db *db, const sb_migration *list, size_t n, sb_migrate_report *report,
                     sb_error *err);
/* db connects as the owner; app_role NULL grants nothing (sb_migrate_apply). */
int sb_migrate_apply_granting(sb_db *db, const sb_migration *list, size_t n, const char *app_role,
                              sb_migrate_report *report, sb_error *err);
int sb_migrate_status(sb_db *db, const sb_migration *list, size_t n, sb_migrate_report *report,
                      sb_error *err);

/* The checksum recorded for a migration: lowercase hex SHA-256 of its SQL
 * (out must hold 65 bytes). */
void sb_migrate_checksum(const char *sql, char out[65]);

#endif
