/* store/db_roles.c — grants to the application role, and the check that it
 * cannot switch the audit triggers off. See db_roles.h. */
#include "store/db_roles.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/db_internal.h"

/* What the application role may do to a table: the first matching rule
 * wins ("name*" matches by prefix); a table no rule names gets
 * DEFAULT_PRIVILEGES. TRUNCATE, REFERENCES and TRIGGER are never granted.
 * Add a rule here when a migration adds a table that must not be freely
 * written; an audit table nobody wrote a rule for is append-only. */
typedef struct table_rule {
    const char *table;
    const char *privileges;
} table_rule;

#define DEFAULT_PRIVILEGES "SELECT, INSERT, UPDATE, DELETE"

static const table_rule rules[] = {
    /* read by /readyz and the schema check; written only by migrations */
    {"schema_migrations", "SELECT"},
    /* append-only (0016_audit_chain.sql): sealing never touches an event;
     * it deletes queue rows and inserts links */
    {"audit_events", "SELECT, INSERT"},
    {"audit_chain", "SELECT, INSERT"},
    {"audit_unsealed", "SELECT, INSERT, DELETE"},
    {"audit_*", "SELECT, INSERT"},
};

static int rule_matches(const char *pattern, const char *table)
{
    size_t n = strlen(pattern);
    if (n > 0 && pattern[n - 1] == '*')
        return strncmp(pattern, table, n - 1) == 0;
    return strcmp(pattern, table) == 0;
}

const char *sb_db_roles_table_privileges(const char *table)
{
    for (size_t i = 0; i < sizeof rules / sizeof rules[0]; i++)
        if (rule_matches(rules[i].table, table))
            return rules[i].privileges;
    return DEFAULT_PRIVILEGES;
}

int sb_db_roles_current(sb_db_conn *conn, char out[SB_DB_ROLE_NAME_MAX], sb_error *err)
{
    PGresult *res;
    if (sb_db_exec(conn, "SELECT current_user::text", 0, NULL, &res, err) != 0)
        return -1;
    snprintf(out, SB_DB_ROLE_NAME_MAX, "%s", PQgetvalue(res, 0, 0));
    PQclear(res);
    return 0;
}

/* ---- the grant script ---------------------------------------------------- */

typedef struct script {
    char *buf;
    size_t len, cap;
    int failed;
} script;

static void add(script *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void add(script *s, const char *fmt, ...)
{
    if (s->failed)
        return;
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(s->buf ? s->buf + s->len : NULL, s->buf ? s->cap - s->len : 0, fmt, ap);
        va_end(ap);
        if (n < 0) {
            s->failed = 1;
            return;
        }
        if (s->buf && s->len + (size_t)n < s->cap) {
            s->len += (size_t)n;
            return;
        }
        size_t cap = (s->cap ? s->cap * 2 : 4096) + (size_t)n;
        char *grown = realloc(s->buf, cap);
        if (grown == NULL) {
            s->failed = 1;
            return;
        }
        s->buf = grown;
        s->cap = cap;
    }
}

/* An identifier quoted for SQL text (GRANT takes no parameters). */
static char *quoted(sb_db_conn *c, const char *name)
{
    return PQescapeIdentifier(sb_db_pgconn(c), name, strlen(name));
}

/* The owner, its schema, and whether app_role exists and can use it. */
static int inspect_owner(sb_db_conn *c, const char *app_role, char *schema, size_t cap,
                         int *has_usage, sb_error *err)
{
    const char *const p[] = {app_role};
    PGresult *res;
    if (sb_db_exec(c,
                   "SELECT current_user::text, current_schema()::text, "
                   " EXISTS (SELECT 1 FROM pg_roles WHERE rolname = $1), "
                   " CASE WHEN EXISTS (SELECT 1 FROM pg_roles WHERE rolname = $1) "
                   "  AND current_schema() IS NOT NULL "
                   "  THEN has_schema_privilege($1, current_schema(), 'USAGE') END",
                   1, p, &res, err) != 0)
        return -1;
    char owner[SB_DB_ROLE_NAME_MAX];
    snprintf(owner, sizeof owner, "%s", PQgetvalue(res, 0, 0));
    snprintf(schema, cap, "%s", PQgetvalue(res, 0, 1));
    int exists = strcmp(PQgetvalue(res, 0, 2), "t") == 0, no_schema = PQgetisnull(res, 0, 1);
    *has_usage = strcmp(PQgetvalue(res, 0, 3), "t") == 0;
    PQclear(res);
    if (strcmp(owner, app_role) == 0)
        return sb_error_set(err, SB_DB_ROLES_E_SAME_ROLE,
                            "the migrations and the server both connect as role \"%s\": the server "
                            "would own the tables and could switch the audit trail's triggers off; "
                            "point database.url at a separate role with data rights only "
                            "(docs/database.md), or remove database.migration_url",
                            app_role);
    if (!exists)
        return sb_error_set(err, SB_DB_ROLES_E_NO_ROLE,
                            "the server's database role \"%s\" does not exist; create it (CREATE "
                            "ROLE %s LOGIN PASSWORD '...'; see docs/database.md)",
                            app_role, app_role);
    if (no_schema)
        return sb_error_set(err, SB_DB_E_QUERY,
                            "role \"%s\" has no current schema (its search_path names no existing "
                            "schema); set one, e.g. ALTER ROLE %s SET search_path = public",
                            owner, owner);
    return 0;
}

static int build_script(sb_db_conn *c, const char *app_role, const char *schema_name, int has_usage,
                        script *s, sb_error *err)
{
    PGresult *res;
    if (sb_db_exec(c,
                   "SELECT c.relname::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                   "WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p', 'v', 'm', 'f') "
                   "ORDER BY c.relname",
                   0, NULL, &res, err) != 0)
        return -1;
    char *role = quoted(c, app_role), *schema = quoted(c, schema_name);
    if (role && schema) {
        if (!has_usage)
            add(s, "GRANT USAGE ON SCHEMA %s TO %s;\n", schema, role);
        for (int i = 0; i < PQntuples(res); i++) {
            const char *name = PQgetvalue(res, i, 0);
            char *table = quoted(c, name);
            if (table == NULL) {
                s->failed = 1;
                break;
            }
            add(s, "REVOKE ALL ON TABLE %s.%s FROM %s;\n", schema, table, role);
            add(s, "GRANT %s ON TABLE %s.%s TO %s;\n", sb_db_roles_table_privileges(name), schema,
                table, role);
            PQfreemem(table);
        }
        add(s, "REVOKE ALL ON ALL SEQUENCES IN SCHEMA %s FROM %s;\n", schema, role);
        add(s, "GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA %s TO %s;\n", schema, role);
        add(s, "GRANT EXECUTE ON ALL ROUTINES IN SCHEMA %s TO %s;\n", schema, role);
    } else {
        s->failed = 1;
    }
    PQfreemem(role);
    PQfreemem(schema);
    PQclear(res);
    if (s->failed)
        return sb_error_set(err, SB_DB_E_NO_MEMORY, "out of memory writing the grants of role %s",
                            app_role);
    return 0;
}

int sb_db_roles_grant(sb_db_conn *owner, const char *app_role, sb_error *err)
{
    if (app_role == NULL || app_role[0] == '\0')
        return sb_error_set(err, SB_DB_E_INVALID, "no application role to grant to");
    if (sb_db_begin(owner, err) != 0)
        return -1;
    char schema[SB_DB_ROLE_NAME_MAX];
    int has_usage = 0;
    script s = {0};
    int rc = inspect_owner(owner, app_role, schema, sizeof schema, &has_usage, err);
    if (rc == 0)
        rc = build_script(owner, app_role, schema, has_usage, &s, err);
    if (rc == 0)
        rc = sb_db_exec_script(owner, s.buf, err);
    free(s.buf);
    if (rc != 0) {
        sb_db_rollback(owner);
        return -1;
    }
    return sb_db_commit(owner, err);
}

/* ---- the check ----------------------------------------------------------- */

int sb_db_roles_check(sb_db_conn *conn, char *why, size_t cap, sb_error *err)
{
    PGresult *res;
    if (sb_db_exec(conn,
                   "SELECT r.rolsuper, r.rolcreaterole, "
                   " (SELECT s.rolname::text FROM pg_roles s WHERE s.rolsuper AND s.oid <> r.oid "
                   "   AND pg_has_role(r.oid, s.oid, 'MEMBER') ORDER BY 1 LIMIT 1), "
                   " (SELECT c.relname::text FROM pg_class c WHERE c.relnamespace = n.oid "
                   "   AND c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S') "
                   "   AND pg_has_role(r.oid, c.relowner, 'MEMBER') ORDER BY 1 LIMIT 1), "
                   " pg_has_role(r.oid, n.nspowner, 'MEMBER'), n.nspname::text "
                   "FROM pg_roles r, pg_namespace n "
                   "WHERE r.rolname = current_user AND n.nspname = current_schema()",
                   0, NULL, &res, err) != 0)
        return -1;
    if (PQntuples(res) != 1) {
        PQclear(res);
        return sb_error_set(err, SB_DB_E_QUERY,
                            "the server's database role has no current schema (its search_path "
                            "names no existing schema); set the same search_path as the "
                            "migrations' role");
    }
    int found = 1;
    if (strcmp(PQgetvalue(res, 0, 0), "t") == 0)
        snprintf(why, cap, "is a superuser");
    else if (!PQgetisnull(res, 0, 2))
        snprintf(why, cap, "is a member of the superuser role \"%s\"", PQgetvalue(res, 0, 2));
    else if (strcmp(PQgetvalue(res, 0, 1), "t") == 0)
        snprintf(why, cap, "has CREATEROLE (it could make itself a member of the tables' owner)");
    else if (!PQgetisnull(res, 0, 3))
        snprintf(why, cap, "owns table \"%s\" (or is a member of its owner)", PQgetvalue(res, 0, 3));
    else if (strcmp(PQgetvalue(res, 0, 4), "t") == 0)
        snprintf(why, cap, "owns schema \"%s\" (or the database), so it could drop the tables",
                 PQgetvalue(res, 0, 5));
    else
        found = 0;
    PQclear(res);
    if (found || PQserverVersion(sb_db_pgconn(conn)) < 150000)
        return found;
    /* PostgreSQL 15 can grant SET on a superuser-only setting. */
    if (sb_db_exec(conn, "SELECT has_parameter_privilege('session_replication_role', 'SET')", 0,
                   NULL, &res, err) != 0)
        return -1;
    found = strcmp(PQgetvalue(res, 0, 0), "t") == 0;
    PQclear(res);
    if (found)
        snprintf(why, cap, "was granted SET on session_replication_role");
    return found;
}
