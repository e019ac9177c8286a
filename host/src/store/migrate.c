/* store/migrate.c — applying the compiled-in migrations. See migrate.h. */
#include "store/migrate.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/db_internal.h"
#include "store/db_roles.h"
#include "util/log.h"

typedef struct applied_row {
    int version;
    char name[64];
    char checksum[65];
} applied_row;

typedef struct applied_set {
    applied_row *rows; /* sorted by version */
    size_t n;
} applied_set;

void sb_migrate_checksum(const char *sql, char out[65])
{
    unsigned char h[crypto_hash_sha256_BYTES];
    int ready = sodium_init(); /* hashing needs no randomness: it only picks the fastest code */
    (void)ready;
    crypto_hash_sha256(h, (const unsigned char *)sql, strlen(sql));
    sodium_bin2hex(out, 65, h, sizeof h);
}

static int validate_list(const sb_migration *list, size_t n, sb_error *err)
{
    if (n > 0 && list == NULL)
        return sb_error_set(err, SB_MIGRATE_E_LIST, "a migration list of %zu entries is NULL", n);
    for (size_t i = 0; i < n; i++) {
        const sb_migration *m = &list[i];
        if (m->version <= 0 || m->name == NULL || m->name[0] == '\0' || m->sql == NULL)
            return sb_error_set(err, SB_MIGRATE_E_LIST,
                                "migration entry %zu is malformed (version %d, name %s): each "
                                "needs a positive version, a name and SQL",
                                i, m->version, m->name ? m->name : "(null)");
        if (i > 0 && m->version <= list[i - 1].version)
            return sb_error_set(err, SB_MIGRATE_E_LIST,
                                "migration %04d_%s comes after %04d_%s: versions must be unique "
                                "and increasing; renumber the file",
                                m->version, m->name, list[i - 1].version, list[i - 1].name);
    }
    return 0;
}

static const sb_migration *find_known(const sb_migration *list, size_t n, int version)
{
    for (size_t i = 0; i < n; i++)
        if (list[i].version == version)
            return &list[i];
    return NULL;
}

static int is_applied(const applied_set *a, int version)
{
    for (size_t i = 0; i < a->n; i++)
        if (a->rows[i].version == version)
            return 1;
    return 0;
}

static int load_applied(sb_db_conn *c, applied_set *out, sb_error *err)
{
    out->rows = NULL;
    out->n = 0;
    PGresult *res;
    if (sb_db_exec(c, "SELECT to_regclass('schema_migrations') IS NOT NULL", 0, NULL, &res, err) != 0)
        return -1;
    int exists = strcmp(PQgetvalue(res, 0, 0), "t") == 0;
    PQclear(res);
    if (!exists)
        return 0;
    if (sb_db_exec(c, "SELECT version, name, checksum FROM schema_migrations ORDER BY version", 0,
                   NULL, &res, err) != 0) {
        if (strcmp(sb_db_last_error(c)->sqlstate, "42501") == 0)
            sb_error_set(err, SB_MIGRATE_E_FAILED,
                         "this role may not read schema_migrations: the server's role gets its "
                         "rights when migrations run as the tables' owner with database.url set to "
                         "the server's role and database.migration_url to the owner's "
                         "(docs/database.md)");
        return -1;
    }
    int rows = PQntuples(res);
    out->rows = calloc(rows > 0 ? (size_t)rows : 1, sizeof *out->rows);
    if (out->rows == NULL) {
        PQclear(res);
        return sb_error_set(err, SB_DB_E_NO_MEMORY, "out of memory reading schema_migrations");
    }
    for (int i = 0; i < rows; i++) {
        out->rows[i].version = atoi(PQgetvalue(res, i, 0));
        snprintf(out->rows[i].name, sizeof out->rows[i].name, "%s", PQgetvalue(res, i, 1));
        snprintf(out->rows[i].checksum, sizeof out->rows[i].checksum, "%s", PQgetvalue(res, i, 2));
    }
    out->n = (size_t)rows;
    PQclear(res);
    return 0;
}

/* The refusals of migrate.h, and the counts of the report. */
static int check_applied(const sb_migration *list, size_t n, const applied_set *a,
                         sb_migrate_report *r, sb_error *err)
{
    int known_max = n ? list[n - 1].version : 0;
    int applied_max = a->n ? a->rows[a->n - 1].version : 0;
    r->from_version = r->to_version = applied_max;
    if (applied_max > known_max)
        return sb_error_set(err, SB_MIGRATE_E_NEWER,
                            "database schema is at version %d, newer than this sbridge (knows up "
                            "to %d): upgrade sbridge",
                            applied_max, known_max);
    for (size_t i = 0; i < a->n; i++) {
        const applied_row *row = &a->rows[i];
        const sb_migration *m = find_known(list, n, row->version);
        if (m == NULL)
            return sb_error_set(err, SB_MIGRATE_E_CHANGED,
                                "the database has migration %04d_%s applied, which this sbridge "
                                "does not have (was the file removed or renumbered?); restore it "
                                "under its original number",
                                row->version, row->name);
        char sum[65];
        sb_migrate_checksum(m->sql, sum);
        if (strcmp(sum, row->checksum) != 0)
            return sb_error_set(err, SB_MIGRATE_E_CHANGED,
                                "migration %04d_%s was changed after it was applied to this "
                                "database (recorded SHA-256 %.12s..., this sbridge has %.12s...); "
                                "applied migrations must not change: restore the original file "
                                "and put the change in a new migration",
                                m->version, m->name, row->checksum, sum);
        r->verified++;
    }
    for (size_t i = 0; i < n; i++) {
        if (is_applied(a, list[i].version))
            continue;
        if (list[i].version < applied_max)
            return sb_error_set(err, SB_MIGRATE_E_OUT_OF_ORDER,
                                "migration %04d_%s is not applied but the newer %04d is: a new "
                                "migration must be numbered above every applied one; renumber "
                                "%04d_%s above %04d",
                                list[i].version, list[i].name, applied_max, list[i].version,
                                list[i].name, applied_max);
        r->pending++;
    }
    return 0;
}

/* 1-based line of a 1-based character position (PostgreSQL counts
 * characters, not bytes; the SQL is UTF-8). */
static int line_of_position(const char *sql, long pos)
{
    int line = 1;
    long chars = 0;
    for (const unsigned char *p = (const unsigned char *)sql; *p && chars < pos - 1; p++) {
        if ((*p & 0xC0) != 0x80)
            chars++;
        if (*p == '\n')
            line++;
    }
    return line;
}

static int apply_one(sb_db_conn *c, const sb_migration *m, sb_error *err)
{
    if (sb_db_begin(c, err) != 0)
        return -1;
    PGconn *pg = sb_db_pgconn(c);
    PGresult *res = PQexec(pg, m->sql);
    ExecStatusType st = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK && st != PGRES_EMPTY_QUERY) {
        const char *pos = res ? PQresultErrorField(res, PG_DIAG_STATEMENT_POSITION) : NULL;
        const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
        const char *msg = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
        char where[32] = "";
        if (pos)
            snprintf(where, sizeof where, " at line %d", line_of_position(m->sql, atol(pos)));
        if (state && strcmp(state, "42501") == 0)
            sb_error_set(err, SB_MIGRATE_E_FAILED,
                         "migration %04d_%s failed%s and was rolled back: %s (SQLSTATE %s); "
                         "migrations must run as the role that owns the schema: set "
                         "database.migration_url to the owner's connection (docs/database.md)",
                         m->version, m->name, where, msg ? msg : PQerrorMessage(pg), state);
        else
            sb_error_set(err, SB_MIGRATE_E_FAILED,
                         "migration %04d_%s failed%s and was rolled back: %s (SQLSTATE %s); fix "
                         "host/src/store/migrations/%04d_%s.sql and rebuild",
                         m->version, m->name, where, msg ? msg : PQerrorMessage(pg),
                         state ? state : "none", m->version, m->name);
        PQclear(res);
        sb_db_rollback(c);
        return -1;
    }
    PQclear(res);
    if (PQtransactionStatus(pg) != PQTRANS_INTRANS) {
        sb_db_rollback(c);
        return sb_error_set(err, SB_MIGRATE_E_FAILED,
                            "migration %04d_%s ended the migration's transaction itself (it "
                            "contains COMMIT or ROLLBACK); remove transaction control from the "
                            "file: each migration already runs in its own transaction",
                            m->version, m->name);
    }
    char version[16], sum[65];
    snprintf(version, sizeof version, "%d", m->version);
    sb_migrate_checksum(m->sql, sum);
    const char *const params[] = {version, m->name, sum};
    if (sb_db_exec(c, "INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)",
                   3, params, NULL, err) != 0) {
        sb_db_rollback(c);
        return -1;
    }
    return sb_db_commit(c, err);
}

static int run_locked(sb_db_conn *c, const sb_migration *list, size_t n, sb_migrate_report *r,
                      sb_error *err)
{
    /* The CREATE only when missing: a role without CREATE on the schema
     * (the server's own) then finds an up-to-date schema with nothing to do. */
    PGresult *res;
    if (sb_db_exec(c, "SELECT to_regclass('schema_migrations') IS NULL", 0, NULL, &res, err) != 0)
        return -1;
    int missing = strcmp(PQgetvalue(res, 0, 0), "t") == 0;
    PQclear(res);
    if (missing &&
        sb_db_exec(c,
                   "CREATE TABLE IF NOT EXISTS schema_migrations ("
                   " version integer PRIMARY KEY,"
                   " name text NOT NULL,"
                   " checksum text NOT NULL,"
                   " applied_at timestamptz NOT NULL DEFAULT now())",
                   0, NULL, NULL, err) != 0) {
        if (strcmp(sb_db_last_error(c)->sqlstate, "42501") == 0)
            sb_error_set(err, SB_MIGRATE_E_FAILED,
                         "cannot create schema_migrations: the role running migrations may not "
                         "create tables here; migrations must run as the role that owns the "
                         "schema: set database.migration_url to the owner's connection "
                         "(docs/database.md)");
        return -1;
    }
    applied_set a;
    if (load_applied(c, &a, err) != 0)
        return -1;
    int rc = check_applied(list, n, &a, r, err);
    for (size_t i = 0; rc == 0 && i < n; i++) {
        if (is_applied(&a, list[i].version))
            continue;
        int64_t t0 = sb_db_now_ms();
        rc = apply_one(c, &list[i], err);
        if (rc != 0)
            break;
        r->applied++;
        r->pending--;
        r->to_version = list[i].version;
        sb_info("store", "applied migration %04d_%s in %lld ms", list[i].version, list[i].name,
                (long long)(sb_db_now_ms() - t0));
    }
    free(a.rows);
    return rc;
}

int sb_migrate_apply(sb_db *db, const sb_migration *list, size_t n, sb_migrate_report *report,
                     sb_error *err)
{
    return sb_migrate_apply_granting(db, list, n, NULL, report, err);
}

int sb_migrate_apply_granting(sb_db *db, const sb_migration *list, size_t n, const char *app_role,
                              sb_migrate_report *report, sb_error *err)
{
    sb_migrate_report local;
    sb_migrate_report *r = report ? report : &local;
    memset(r, 0, sizeof *r);
    if (validate_list(list, n, err) != 0)
        return -1;
    sb_db_conn *c;
    if (sb_db_acquire(db, -1, &c, err) != 0)
        return -1;
    int locked = 0;
    int rc = sb_db_advisory_try_lock(c, SB_MIGRATE_LOCK_KEY, &locked, err);
    if (rc == 0 && !locked) {
        sb_info("store", "another process is applying migrations; waiting for it to finish");
        rc = sb_db_advisory_lock(c, SB_MIGRATE_LOCK_KEY, err);
    }
    if (rc == 0) {
        rc = run_locked(c, list, n, r, err);
        if (rc == 0 && app_role)
            rc = sb_db_roles_grant(c, app_role, err);
        sb_error unlock_err;
        if (sb_db_advisory_unlock(c, SB_MIGRATE_LOCK_KEY, &unlock_err) != 0)
            sb_warn("store", "releasing the migration lock: %s", unlock_err.message);
    }
    sb_db_release(db, c);
    if (rc == 0 && r->applied)
        sb_info("store", "database schema migrated from version %d to %d", r->from_version,
                r->to_version);
    return rc;
}

int sb_migrate_status(sb_db *db, const sb_migration *list, size_t n, sb_migrate_report *report,
                      sb_error *err)
{
    sb_migrate_report local;
    sb_migrate_report *r = report ? report : &local;
    memset(r, 0, sizeof *r);
    if (validate_list(list, n, err) != 0)
        return -1;
    sb_db_conn *c;
    if (sb_db_acquire(db, -1, &c, err) != 0)
        return -1;
    applied_set a;
    int rc = load_applied(c, &a, err);
    sb_db_release(db, c);
    if (rc != 0)
        return -1;
    rc = check_applied(list, n, &a, r, err);
    free(a.rows);
    return rc;
}
