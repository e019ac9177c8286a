/* store/database.c — opening the configured database. See database.h. */
#include "store/database.h"

#include <stdlib.h>

#include "util/log.h"

struct sb_database {
    sb_embedded_pg *embedded;
    sb_db *pool;
};

sb_db *sb_database_pool(const sb_database *d) { return d->pool; }
sb_embedded_pg *sb_database_embedded(const sb_database *d) { return d->embedded; }

void sb_database_close(sb_database *d)
{
    if (d == NULL)
        return;
    sb_db_close(d->pool);
    if (d->embedded && sb_embedded_pg_stop(d->embedded) != 0)
        sb_warn("store", "the embedded PostgreSQL did not stop cleanly; it recovers on next start");
    free(d);
}

static int bring_schema_up_to_date(sb_database *d, int migrate, sb_migrate_report *report,
                                   sb_error *err)
{
    size_t n;
    const sb_migration *list = sb_migrations_builtin(&n);
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

int sb_database_open(const sb_database_options *opts, sb_database **out, sb_migrate_report *report,
                     sb_error *err)
{
    *out = NULL;
    sb_migrate_report local;
    if (report == NULL)
        report = &local;
    sb_database *d = calloc(1, sizeof *d);
    if (d == NULL)
        return sb_error_set(err, SB_DB_E_NO_MEMORY, "out of memory");
    const char *conninfo = opts->url;
    if (conninfo == NULL || conninfo[0] == '\0') {
        if (sb_embedded_pg_start(opts->state_dir, &d->embedded, err) != 0) {
            free(d);
            return -1;
        }
        conninfo = sb_embedded_pg_conninfo(d->embedded);
    }
    if (sb_db_open(conninfo, opts->pool_size, opts->connect_timeout_ms, &d->pool, err) != 0 ||
        bring_schema_up_to_date(d, opts->migrate, report, err) != 0) {
        sb_database_close(d);
        return -1;
    }
    *out = d;
    return 0;
}
