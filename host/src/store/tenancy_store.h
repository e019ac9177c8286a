/*
 * store/tenancy_store.h — teams (a tree), team members, projects and
 * environments: the SQL behind the tenancy routes.
 *
 * Contract:
 *   - Every function runs one or two parameterised statements on the
 *     caller's connection, normally inside the caller's transaction (the
 *     API writes its audit event in the same one). Nothing here decides
 *     who may do what: that is domain/scope.h, called by the API.
 *   - Reads and writes return rows in an sb_row_set (store/rows.h) viewed
 *     through typed accessors (sb_tenancy_store_team_at, ...). The strings
 *     of a view point into the set and live until it is freed. Timestamps
 *     are RFC 3339 UTC text.
 *   - Lookups by id and conditional writes return 0 when a row was found
 *     (and changed), 1 when there is no such row, -1 on error.
 *   - Errors the API answers specifically carry SB_TENANCY_E_* codes (a
 *     database refusal translated: the cycle trigger's hint, a name unique
 *     index, a RESTRICT foreign key); every other failure keeps its
 *     SB_DB_E_* code.
 *   - Lists are keyset-paginated by id (sb_list_page), filtered by an
 *     sb_id_filter, and ids passed in must be UUID text (sb_rows_uuid): see
 *     store/rows.h.
 */
#ifndef SB_STORE_TENANCY_STORE_H
#define SB_STORE_TENANCY_STORE_H

#include <stdbool.h>
#include <stddef.h>

#include "store/db.h"
#include "store/rows.h"
#include "util/error.h"

/* Store-level refusals the API maps to specific answers. */
enum sb_tenancy_store_code {
    SB_TENANCY_E_CYCLE = 2401, /* reparent refused by the cycle trigger -> 409 team_cycle */
    SB_TENANCY_E_NOT_EMPTY,    /* team still has children or projects -> 409 team_not_empty */
    SB_TENANCY_E_NAME_TAKEN,   /* a unique name already used -> 409 name_taken */
    SB_TENANCY_E_IMMUTABLE,    /* environment kind/name/project -> 422 immutable_field */
    SB_TENANCY_E_ROLE_IN_USE,  /* role still granted -> 409 role_in_use */
    SB_TENANCY_E_SYSTEM_ROLE,  /* system roles are read-only -> 409 system_role */
    SB_TENANCY_E_EXISTS,       /* membership or grant already present -> 409 */
    SB_TENANCY_E_UNKNOWN_REF,  /* a referenced user/team/role does not exist -> 422 */
};

/* Serialises tree changes (team create/move/delete) for this transaction:
 * the cycle trigger then always sees the other writers' committed moves. */
int sb_tenancy_store_lock_tree(sb_db_conn *conn, sb_error *err);

/* ---- teams ---------------------------------------------------------------- */

typedef struct sb_team_row {
    const char *id, *name, *description;
    const char *parent_id; /* NULL for a root team */
    const char *status;    /* "active" | "archived" */
    const char *created_at, *updated_at;
} sb_team_row;

void sb_tenancy_store_team_at(const sb_row_set *rows, size_t i, sb_team_row *out);

int sb_tenancy_store_team_create(sb_db_conn *conn, const char *name, const char *description,
                                 const char *parent_id, sb_row_set *out, sb_error *err);
/* for_update: lock the row for the rest of the transaction. */
int sb_tenancy_store_team_get(sb_db_conn *conn, const char *id, bool for_update, sb_row_set *out,
                              sb_error *err);
typedef struct sb_team_filter {
    sb_id_filter visible;
    const char *status;    /* NULL = any */
    const char *parent_id; /* NULL = any */
} sb_team_filter;
int sb_tenancy_store_team_list(sb_db_conn *conn, const sb_team_filter *f, const sb_list_page *page,
                               sb_row_set *out, sb_error *err);
/* NULL leaves a field unchanged. */
int sb_tenancy_store_team_update(sb_db_conn *conn, const char *id, const char *name,
                                 const char *description, sb_row_set *out, sb_error *err);
/* parent_id NULL makes it a root. SB_TENANCY_E_CYCLE when the database
 * refuses the move. */
int sb_tenancy_store_team_move(sb_db_conn *conn, const char *id, const char *parent_id,
                               sb_row_set *out, sb_error *err);
int sb_tenancy_store_team_set_status(sb_db_conn *conn, const char *id, const char *status,
                                     sb_row_set *out, sb_error *err);
/* SB_TENANCY_E_NOT_EMPTY naming the children/projects still under it. */
int sb_tenancy_store_team_delete(sb_db_conn *conn, const char *id, sb_error *err);

/* ---- members -------------------------------------------------------------- */

typedef struct sb_member_row {
    const char *user_id, *username, *display_name, *added_at;
} sb_member_row;

void sb_tenancy_store_member_at(const sb_row_set *rows, size_t i, sb_member_row *out);
/* SB_TENANCY_E_EXISTS when already a member, _UNKNOWN_REF for no such user. */
int sb_tenancy_store_member_add(sb_db_conn *conn, const char *team_id, const char *user_id,
                                sb_row_set *out, sb_error *err);
int sb_tenancy_store_member_remove(sb_db_conn *conn, const char *team_id, const char *user_id,
                                   sb_error *err);
int sb_tenancy_store_member_list(sb_db_conn *conn, const char *team_id, const sb_list_page *page,
                                 sb_row_set *out, sb_error *err);

/* ---- projects ------------------------------------------------------------- */

typedef struct sb_project_row {
    const char *id, *name, *description, *team_id, *status, *created_at, *updated_at;
} sb_project_row;

void sb_tenancy_store_project_at(const sb_row_set *rows, size_t i, sb_project_row *out);

int sb_tenancy_store_project_create(sb_db_conn *conn, const char *name, const char *description,
                                    const char *team_id, sb_row_set *out, sb_error *err);
int sb_tenancy_store_project_get(sb_db_conn *conn, const char *id, bool for_update, sb_row_set *out,
                                 sb_error *err);
typedef struct sb_project_filter {
    sb_id_filter visible;
    const char *status;  /* NULL = any */
    const char *team_id; /* NULL = any */
} sb_project_filter;
int sb_tenancy_store_project_list(sb_db_conn *conn, const sb_project_filter *f,
                                  const sb_list_page *page, sb_row_set *out, sb_error *err);
/* NULL leaves a field unchanged; team_id != NULL moves the project. */
int sb_tenancy_store_project_update(sb_db_conn *conn, const char *id, const char *description,
                                    const char *team_id, sb_row_set *out, sb_error *err);
int sb_tenancy_store_project_set_status(sb_db_conn *conn, const char *id, const char *status,
                                        sb_row_set *out, sb_error *err);

/* ---- environments --------------------------------------------------------- */

typedef struct sb_environment_row {
    const char *id, *project_id, *name, *kind;
    int risk_level;
    const char *description, *created_at, *updated_at;
} sb_environment_row;

void sb_tenancy_store_environment_at(const sb_row_set *rows, size_t i, sb_environment_row *out);

int sb_tenancy_store_environment_create(sb_db_conn *conn, const char *project_id, const char *name,
                                        const char *kind, int risk_level, const char *description,
                                        sb_row_set *out, sb_error *err);
int sb_tenancy_store_environment_get(sb_db_conn *conn, const char *id, bool for_update,
                                     sb_row_set *out, sb_error *err);
int sb_tenancy_store_environment_list(sb_db_conn *conn, const char *project_id,
                                      const sb_list_page *page, sb_row_set *out, sb_error *err);
/* Only the mutable fields: description (NULL = unchanged) and risk_level
 * (< 0 = unchanged). The database refuses kind/name changes anyway
 * (SB_TENANCY_E_IMMUTABLE). */
int sb_tenancy_store_environment_update(sb_db_conn *conn, const char *id, const char *description,
                                        int risk_level, sb_row_set *out, sb_error *err);

/* ---- shared helper (also used by rbac_store.c) -------------------------- */

/* Translates the last failure on conn into an SB_TENANCY_E_* code where one
 * applies (unique name, cycle hint, immutable hint, RESTRICT FK). what names
 * the thing for the message ("team", "project"...). */
void sb_tenancy_store_translate(sb_db_conn *conn, const char *what, sb_error *err);

#endif
