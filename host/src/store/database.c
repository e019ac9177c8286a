/* store/database.c — opening the configured database. See database.h. */
#include "store/database.h"

#include <stdlib.h>
#include <string.h>

#include "store/db_roles.h"
#include "util/log.h"

struct sb_database {
    sb_embedded_pg *embedded;
    sb_db *pool;
    char app_role[SB_DB_ROLE_NAME_MAX];
};

sb_db *sb_database_pool(const sb_database *d) { return d->pool; }
sb_embedded_pg *sb_database_embedded(const sb_database *d) { return d->embedded; }
const char *sb_database_app_role(const sb_database *d) { return d->app_role; }

void sb_database_close(sb_database *d)
{
    if (d == NULL)
        return;
    sb_db_close(d->pool);
    if (d->embedded && sb_embedded_pg_stop(d->embedded) != 0)
        sb_warn("store", "the embedded PostgreSQL did not stop cleanly; it recovers on next start");
    free(d);
}

/* Migrations as the owner on a connection of their own, granting the
 * pool's role its rights. */
static int migrate_as_owner(sb_database *d, const char *owner_conninfo, int64_t timeout_ms,
                            sb_migrate_report *report, sb_error *err)
{
    size_t n;
    const sb_migration *list = sb_migrations_builtin(&n);
    sb_db *owner;
    if (sb_db_open(owner_conninfo, 1, timeout_ms, &owner, err) != 0)
        return -1;
    /* One role for both is refused before anything is migrated. */
    sb_db_conn *c;
    char owner_role[SB_DB_ROLE_NAME_MAX];
    int rc = sb_db_acquire(owner, -1, &c, err);
    if (rc == 0) {
        rc = sb_db_roles_current(c, owner_role, err);
        sb_db_release(owner, c);
    }
    if (rc == 0 && strcmp(owner_role, d->app_role) == 0)
        rc = sb_error_set(err, SB_DB_ROLES_E_SAME_ROLE,
                          "database.url and database.migration_url both connect as role \"%s\": "
                          "the server would own the tables and could switch the audit trail's "
                          "triggers off; point database.url at a separate role with data rights "
                          "only (docs/database.md), or remove database.migration_url",
                          owner_role);
    if (rc == 0)
        rc = sb_migrate_apply_granting(owner, list, n, d->app_role, report, err);
    sb_db_close(owner);
    return rc;
}

static int bring_schema_up_to_date(sb_database *d, const char *owner_conninfo, int64_t timeout_ms,
                                   int migrate, sb_migrate_report *report, sb_error *err)
{
    size_t n;
    const sb_migration *list = sb_migrations_builtin(&n);
    if (migrate && owner_conninfo)
        return migrate_as_owner(d, owner_conninfo, timeout_ms, report, err);
    if (migrate)
        return sb_migrate_apply(d->pool, list, n, report, err);
    if (sb_migrate_status(d->pool, list, n, report, err) != 0)
        return -1;
    if (report->pending > 0)
        return sb_error_set(err, SB_MIGRATE_E_PENDING,
                            "the database schema is at version %d but this sbridge needs version "
                            "%d (%zu migration(s) pending); run `sbridge migrate` first",
                            report->from_version, n ? list[n - 1].version : 0, report->pending);
    return 0;
}

/* Refuses (or, when allowed, loudly accepts) a pool role that could
 * switch the audit trail's append-only triggers off. */
static int check_pool_role(sb_database *d, int allow, int *warned, sb_error *err)
{
    sb_db_conn *c;
    if (sb_db_acquire(d->pool, -1, &c, err) != 0)
        return -1;
    char why[160];
    int found = sb_db_roles_check(c, why, sizeof why, err);
    sb_db_release(d->pool, c);
    if (found <= 0)
        return found;
    if (allow) {
        if ((*warned)++)
            return 0;
        sb_warn("store",
                "INSECURE: the server's database role \"%s\" %s, so anyone who controls the "
                "server's connections can switch the audit trail's append-only triggers off; "
                "database.allow_privileged_role is for development only",
                d->app_role, why);
        return 0;
    }
    return sb_error_set(err, SB_DB_ROLES_E_PRIVILEGED,
                        "refusing to serve: the server's database role \"%s\" (database.url) %s, so "
                        "it could switch the audit trail's append-only triggers off (SET "
                        "session_replication_role, ALTER TABLE ... DISABLE TRIGGER); connect "
                        "database.url as a role with data rights only and set "
                        "database.migration_url to the tables' owner, which grants it those rights "
                        "(docs/database.md), or, for development only, set "
                        "database.allow_privileged_role: true",
                        d->app_role, why);
}

int sb_database_open(const sb_database_options *opts, sb_database **out, sb_migrate_report *report,
                     sb_error *err)
{
    *out = NULL;
    sb_migrate_report local;
    if (report == NULL)
        report = &local;
    int embedded = opts->url == NULL || opts->url[0] == '\0';
    if (embedded && opts->migration_url && opts->migration_url[0])
        return sb_error_set(err, SB_DB_E_INVALID,
                            "database.migration_url is set but database.url is not: set both (the "
                            "owner's and the server's connection to the same database), or neither "
                            "for the embedded PostgreSQL");
    sb_database *d = calloc(1, sizeof *d);
    if (d == NULL)
        return sb_error_set(err, SB_DB_E_NO_MEMORY, "out of memory");
    const char *conninfo = opts->url, *owner_conninfo = opts->migration_url;
    if (owner_conninfo && owner_conninfo[0] == '\0')
        owner_conninfo = NULL;
    if (embedded) {
        if (sb_embedded_pg_start(opts->state_dir, &d->embedded, err) != 0) {
            free(d);
            return -1;
        }
        conninfo = sb_embedded_pg_app_conninfo(d->embedded);
        owner_conninfo = sb_embedded_pg_conninfo(d->embedded);
    }
    sb_db_conn *c = NULL;
    int warned = 0;
    int rc = sb_db_open(conninfo, opts->pool_size, opts->connect_timeout_ms, &d->pool, err);
    if (rc == 0 && (rc = sb_db_acquire(d->pool, -1, &c, err)) == 0) {
        rc = sb_db_roles_current(c, d->app_role, err);
        sb_db_release(d->pool, c);
    }
    if (rc == 0 && opts->check_role)
        rc = check_pool_role(d, opts->allow_privileged_role, &warned, err);
    if (rc == 0)
        rc = bring_schema_up_to_date(d, owner_conninfo, opts->connect_timeout_ms, opts->migrate,
                                     report, err);
    if (rc == 0 && opts->check_role && owner_conninfo == NULL && report->applied > 0)
        rc = check_pool_role(d, opts->allow_privileged_role, &warned, err); /* it may own what it created */
    if (rc != 0) {
        sb_database_close(d);
        return -1;
    }
    *out = d;
    return 0;
}
