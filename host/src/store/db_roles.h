/*
 * store/db_roles.h — the two database roles of a deployment, and what each
 * may do (finding 8 of issue 9: an application connected as a superuser or
 * as the tables' owner can `SET session_replication_role = replica` or
 * `ALTER TABLE audit_events DISABLE TRIGGER`, and so rewrite audit rows).
 *
 *   - the OWNER role runs migrations and owns every table;
 *   - the APPLICATION role is what the server's pool connects as: data
 *     rights only (no superuser, no CREATEROLE, owns nothing).
 *
 * Contract:
 *   - sb_db_roles_grant runs on an owner connection, in one transaction:
 *     for every table and view of the owner's current schema it revokes
 *     everything from the application role and grants exactly what the
 *     rule table in db_roles.c says for that table (default: SELECT,
 *     INSERT, UPDATE, DELETE; the audit tables less — never DELETE, UPDATE
 *     or TRUNCATE of their content); USAGE, SELECT on every sequence;
 *     EXECUTE on every function; USAGE on the schema when it lacks it.
 *     migrate.h calls it after every migration run, under the migration
 *     lock, so tables created by later migrations are covered with no
 *     edit here, and a right granted by hand beyond the rules is taken
 *     back at the next start. It refuses an application role that is the
 *     owner itself or does not exist.
 *   - sb_db_roles_check tells whether the connection's own role could
 *     defeat the append-only triggers: 0 when it cannot, 1 with the reason
 *     in `why` when it can (superuser or member of one, CREATEROLE, owner
 *     of a table or of the schema, or granted SET on
 *     session_replication_role), -1 on a database error.
 *   - sb_db_roles_table_privileges is the rule for one table name.
 */
#ifndef SB_STORE_DB_ROLES_H
#define SB_STORE_DB_ROLES_H

#include <stddef.h>

#include "store/db.h"
#include "util/error.h"

enum sb_db_roles_error_code {
    SB_DB_ROLES_E_SAME_ROLE = 2601, /* the application role is the owner itself */
    SB_DB_ROLES_E_NO_ROLE,          /* the application role does not exist */
    SB_DB_ROLES_E_PRIVILEGED,       /* the application role could disable the triggers (database.h) */
};

#define SB_DB_ROLE_NAME_MAX 64

/* The privilege list GRANTed on `table` ("SELECT, INSERT"), from the rule
 * table; never NULL. */
const char *sb_db_roles_table_privileges(const char *table);

/* The connection's current_user. */
int sb_db_roles_current(sb_db_conn *conn, char out[SB_DB_ROLE_NAME_MAX], sb_error *err);

int sb_db_roles_grant(sb_db_conn *owner, const char *app_role, sb_error *err);

int sb_db_roles_check(sb_db_conn *conn, char *why, size_t cap, sb_error *err);

#endif
