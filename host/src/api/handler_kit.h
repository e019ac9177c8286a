/*
 * api/handler_kit.h — the API's shared toolkit, used by every route
 * module: strict JSON bodies and query strings, keyset pages, tenant
 * visibility, the list runner (query -> store list -> page JSON with
 * next_cursor) and the "one write = one transaction + one audit event" runner.
 *
 * Contract:
 *   - Input. Bodies are JSON objects checked against a field table: an
 *     unknown field is 400 unknown_field (naming it and the accepted ones),
 *     a wrong type 400 invalid_field, a missing required field 400
 *     missing_field; value problems are 422 invalid_value saying what is
 *     allowed. Unknown or repeated query parameters are 400 invalid_field
 *     (a typo never silently widens a list). Ids are UUIDs, normalised to
 *     lower case; a path id that is not one is 404.
 *   - Functions that take the request and return int answer it themselves
 *     when they return -1 (the handler just returns).
 *   - Visibility: a team, project or environment is visible to a caller who
 *     holds, at that target, any permission the catalog checks at team or
 *     project level (sb_handler_tenant_mask). Platform-only
 *     permissions (audit.read, role.edit, user.manage...) make no tenant
 *     visible. Out-of-scope targets are answered exactly like missing ones.
 *   - Writes: a handler parses into an sb_handler_op and calls
 *     sb_handler_op_run with a function that does the checks on freshly
 *     locked rows, the change and its audit event, all in one transaction
 *     (retried on serialisation failures, so it must have no other effect).
 *     Any error rolls everything back. Denials (DOMAIN_E_DENIED -> 403, and
 *     SB_HANDLER_E_HIDDEN -> 404 for a write out of scope) are recorded
 *     as access.denied events on their own connection.
 */
#ifndef SB_API_HANDLER_KIT_H
#define SB_API_HANDLER_KIT_H

#include <jansson.h>
#include <stdbool.h>

#include "api/api.h"
#include "store/tenancy_store.h"

enum {
    SB_HANDLER_E_ARCHIVED = 2490, /* 409 archived: create under an archived parent */
    SB_HANDLER_E_HIDDEN,          /* 404 not_found: a write on a row the caller cannot see */
};

#define SB_CHARS_LOWER "abcdefghijklmnopqrstuvwxyz"
#define SB_CHARS_UPPER "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
#define SB_CHARS_DIGIT "0123456789"

/* ---- input ------------------------------------------------------------------ */

typedef enum sb_field_type {
    SB_FIELD_STRING,
    SB_FIELD_STRING_OR_NULL,
    SB_FIELD_INTEGER,
    SB_FIELD_STRING_ARRAY,
    SB_FIELD_BOOLEAN,
    SB_FIELD_OBJECT, /* checked member by member by the module */
    SB_FIELD_ARRAY,  /* any array: the module checks its items */
} sb_field_type;

typedef struct sb_field_spec {
    const char *name;
    sb_field_type type;
    int required;
} sb_field_spec;

/* The request body (borrowed from the request) checked against spec. */
int sb_handler_read_body(sb_server_request *req, const sb_field_spec *spec, size_t n,
                             json_t **out);
/* A string member of body, or NULL. */
const char *sb_handler_string(json_t *body, const char *name);
/* 422 invalid_value. Returns -1. */
int sb_handler_invalid(sb_server_request *req, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* UTF-8 code points in s. */
size_t sb_handler_chars(const char *s);
/* 422 unless d is NULL or at most 500 characters. */
int sb_handler_check_description(sb_server_request *req, const char *d);
/* 1 when s is 1..max bytes, s[0] from first_set and the rest from rest_set. */
int sb_handler_name_ok(const char *s, size_t max, const char *first_set, const char *rest_set);
int sb_handler_check_query(sb_server_request *req, const char *const *known, size_t n);
/* A UUID query filter into out (*value NULL when absent). */
int sb_handler_query_uuid(sb_server_request *req, const char *name, char out[37],
                              const char **value);
/* ?status=active|archived (*value NULL when absent). */
int sb_handler_query_status(sb_server_request *req, const char **value);
/* limit + cursor (a UUID inside) into out; page holds the cursor text. */
int sb_handler_parse_page(sb_server_request *req, sb_api_page *page, sb_list_page *out);
/* A path parameter as a UUID; -1 (not answered) when it is not one. */
int sb_handler_path_id(sb_server_request *req, const char *name, char out[37]);

/* ---- output ----------------------------------------------------------------- */

int sb_handler_not_found(sb_server_request *req, const char *what);
/* Maps SB_TENANCY_E_*, SB_HANDLER_E_*, SB_RBAC_E_* and domain refusals
 * to their answers; anything else goes to sb_api_respond_store_error. */
int sb_handler_respond_failure(sb_server_request *req, const sb_error *err);

typedef json_t *(*sb_row_render)(const sb_row_set *rows, size_t i);
/* {"items": [...], "next_cursor": ...} (the cursor encodes column 0 of the
 * last row, its id); frees rows. */
int sb_handler_respond_page(sb_server_request *req, sb_row_set *rows, sb_row_render render);
/* The same showing only the rows keep() accepts; the cursor still follows
 * the last row read, so no row is skipped or repeated across pages. */
int sb_handler_respond_page_kept(sb_server_request *req, sb_row_set *rows, sb_row_render render,
                                     bool (*keep)(const sb_row_set *rows, size_t i, void *ctx),
                                     void *ctx);

/* ---- visibility ------------------------------------------------------------- */

sb_permission_set sb_handler_tenant_mask(void);
bool sb_handler_team_visible(const sb_identity *who, const char *team_id);
bool sb_handler_project_visible(const sb_identity *who, const char *project_id);
/* The teams (or projects) where the caller holds any permission of mask,
 * deduplicated; ids point into the caller's tenancy; free f->ids. */
int sb_handler_visible_filter(const sb_identity *who, bool teams, sb_permission_set mask,
                                  sb_id_filter *f, sb_error *err);

/* ---- writes ----------------------------------------------------------------- */

typedef struct sb_handler_op {
    sb_app *app;
    sb_server_request *req;
    const sb_identity *who;
    char id[37], id2[37], ref[37]; /* path id, second path id, body reference */
    bool has_ref;                  /* the body names ref (possibly as null) */
    json_t *body;                  /* borrowed from the request */
    const char *name, *description, *status, *kind;
    int risk_level; /* -1: not given */
    sb_id_filter visible; /* lists: what the caller may see (sb_handler_list) */
    void *extra;    /* module-specific input */
    sb_row_set rows;
    sb_row_render render;
    int ok_status;
    bool tenancy_changed;
} sb_handler_op;

typedef int (*sb_handler_op_fn)(sb_db_conn *conn, sb_handler_op *o, sb_error *err);

void sb_handler_op_init(sb_handler_op *o, sb_server_request *req, void *app);
/* Runs fn in a transaction and answers: o->rows rendered with ok_status,
 * 204 when fn left no row, or the refusal. Refreshes the tenancy cache
 * when fn set tenancy_changed. */
int sb_handler_op_run(sb_handler_op *o, sb_handler_op_fn fn);
/* One audit event (resource "<kind>:<id>"); steals details. */
int sb_handler_op_audit(sb_db_conn *conn, sb_handler_op *o, const char *action, const char *kind,
                        const char *id, json_t *details, sb_error *err);
/* perm on team (NULL: from a global grant), or -1 DENIED naming both. */
int sb_handler_op_need_team(const sb_handler_op *o, sb_permission perm, const char *team,
                            const char *doing, sb_error *err);
int sb_handler_op_need_project(const sb_handler_op *o, sb_permission perm, const char *project,
                               const char *doing, sb_error *err);
int sb_handler_op_hidden(sb_error *err, const char *what);

typedef int (*sb_row_get)(sb_db_conn *conn, const char *id, bool for_update, sb_row_set *out,
                          sb_error *err);
/* get(id) FOR UPDATE; a missing row is SB_DOMAIN_E_NOT_FOUND (404). */
int sb_handler_op_lock_row(sb_db_conn *conn, sb_row_get get, const char *id, const char *what,
                           sb_row_set *rows, sb_error *err);
/* A team named in the body: visible, existing and active, locked. */
int sb_handler_op_lock_ref_team(sb_db_conn *conn, const sb_handler_op *o, const char *id,
                                const char *field_name, sb_error *err);
/* Body member name as a UUID into out (*has: present, possibly null). */
int sb_handler_op_body_ref(sb_handler_op *o, const char *name, char out[37], bool *has);
/* A pooled connection, or -1 after answering 503. */
int sb_handler_op_acquire(sb_handler_op *o, sb_db_conn **conn);
/* GET one row by o->id; 404 when missing. */
int sb_handler_op_respond_one(sb_handler_op *o, sb_row_get get, sb_row_render render,
                              const char *what);
/* {"status": "active"|"archived"} into o->status. */
int sb_handler_op_status_field(sb_handler_op *o);
int sb_handler_op_nothing_given(sb_handler_op *o, const char *fields);
/* ["name", "description", "risk_level"] as given in o. */
json_t *sb_handler_op_changed_fields(const sb_handler_op *o);

/* ---- reads: the list runner (api/handler_list.c) ------------------------------ */

/* One GET of a list: the query parameters checked against `query` (unknown
 * or repeated: 400; NULL: the handler checked them itself), limit and
 * cursor parsed, then filters() reads the module's filters into `filter`,
 * a pooled connection runs list(), and the page is answered as
 * {"items": [...], "next_cursor": ...}. list() returns 0, 1 (the parent
 * named by the path is missing or hidden: 404 "no <noun> with that id"),
 * or -1 (the store error answered). release() frees what filters() kept
 * in filter, on every path. */
typedef enum sb_handler_cursor {
    SB_HANDLER_CURSOR_UUID = 0, /* keyset by UUID id (every tenancy-shaped list) */
    SB_HANDLER_CURSOR_DIGITS,   /* keyset by a bigint id (audit event ids) */
} sb_handler_cursor;

typedef struct sb_handler_list {
    const char *const *query; /* accepted parameters, limit and cursor included */
    size_t n_query;
    sb_handler_cursor cursor;
    /* Rows the caller may see, built into o->visible after filters() and
     * freed by the runner: the teams (or projects) where the caller holds
     * any of visible_mask (0: sb_handler_tenant_mask()). */
    enum { SB_HANDLER_SEE_ANY = 0, SB_HANDLER_SEE_TEAMS, SB_HANDLER_SEE_PROJECTS } visible;
    sb_permission_set visible_mask;
    /* -1 after answering (a bad filter, or a short-cut answer); NULL: none. */
    int (*filters)(sb_handler_op *o, void *filter);
    int (*list)(sb_db_conn *conn, sb_handler_op *o, void *filter, const sb_list_page *page,
                sb_row_set *out, sb_error *err);
    void (*release)(void *filter); /* NULL: nothing to free */
    sb_row_render render;
    const char *noun; /* for list() == 1 */
} sb_handler_list;

/* o initialised by the handler (and any path id in o->id checked). */
int sb_handler_list_run(sb_handler_op *o, const sb_handler_list *spec, void *filter);

/* GET of the children of a parent named by path parameter "id" (a team's
 * members, a project's environments): 404 unless the caller can see the
 * parent and it exists; limit/cursor paging; one page rendered. */
typedef struct sb_handler_children {
    const char *noun; /* "team", "project": for the 404 message */
    bool (*visible)(const sb_identity *who, const char *parent_id);
    sb_row_get get_parent;
    int (*list)(sb_db_conn *conn, const char *parent_id, const sb_list_page *page, sb_row_set *out,
                sb_error *err);
    sb_row_render render;
} sb_handler_children;
int sb_handler_list_children(sb_server_request *req, void *ctx, const sb_handler_children *spec);

#endif
