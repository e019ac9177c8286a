/* store/policy_store.c — see policy_store.h. */
#include "store/policy_store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "domain/domain_error.h"
#include "store/tenancy_store.h"

#define TS SB_ROWS_TS

/* clang-format off */
#define RULE_COLS "r.id::text, r.name, r.description, r.anchor_type, " \
    "coalesce(r.team_id, r.project_id)::text, r.priority, r.workflow_id::text, " \
    "r.sel_project_id::text, r.sel_environment_id::text, r.sel_environment_kind, " \
    "r.sel_provider_type, r.sel_secret_ref_prefix, r.sel_operation, r.direct_reveal_allowed, " \
    "r.mfa_required, r.reveal_ttl_s, r.enabled, r.created_order, r.created_by::text, " \
    TS("r.created_at") ", " TS("r.updated_at")
/* The parameters $2..$17 of a write, in sb_policy_rule_fields order. */
#define ANCHOR_TEAM "CASE WHEN $4 = 'team' THEN $5::uuid END"
#define ANCHOR_PROJECT "CASE WHEN $4 = 'project' THEN $5::uuid END"
/* clang-format on */

static bool flag(const sb_row_set *rows, size_t i, int col)
{
    return PQgetvalue(rows->res, (int)i, col)[0] == 't';
}

void sb_policy_store_at(const sb_row_set *rows, size_t i, sb_policy_rule_row *out)
{
    int r = (int)i;
    out->id = PQgetvalue(rows->res, r, 0);
    out->name = PQgetvalue(rows->res, r, 1);
    out->description = PQgetvalue(rows->res, r, 2);
    out->anchor_type = PQgetvalue(rows->res, r, 3);
    out->anchor_id = sb_rows_text_or_null(rows, i, 4);
    out->priority = atoi(PQgetvalue(rows->res, r, 5));
    out->workflow_id = PQgetvalue(rows->res, r, 6);
    out->sel_project_id = sb_rows_text_or_null(rows, i, 7);
    out->sel_environment_id = sb_rows_text_or_null(rows, i, 8);
    out->sel_environment_kind = sb_rows_text_or_null(rows, i, 9);
    out->sel_provider_type = sb_rows_text_or_null(rows, i, 10);
    out->sel_secret_ref_prefix = sb_rows_text_or_null(rows, i, 11);
    out->sel_operation = sb_rows_text_or_null(rows, i, 12);
    out->direct_reveal_allowed = flag(rows, i, 13);
    out->mfa_required = flag(rows, i, 14);
    out->reveal_ttl_s = atoi(PQgetvalue(rows->res, r, 15));
    out->enabled = flag(rows, i, 16);
    out->created_order = strtoll(PQgetvalue(rows->res, r, 17), NULL, 10);
    out->created_by = sb_rows_text_or_null(rows, i, 18);
    out->created_at = PQgetvalue(rows->res, r, 19);
    out->updated_at = PQgetvalue(rows->res, r, 20);
}

static sb_policy_anchor_kind anchor_kind(const char *type)
{
    if (type && strcmp(type, "team") == 0)
        return SB_POLICY_ANCHOR_TEAM;
    if (type && strcmp(type, "project") == 0)
        return SB_POLICY_ANCHOR_PROJECT;
    return SB_POLICY_ANCHOR_PLATFORM;
}

void sb_policy_store_rule_of(const sb_policy_rule_row *row, sb_policy_rule *out)
{
    memset(out, 0, sizeof *out);
    out->id = row->id;
    out->anchor.kind = anchor_kind(row->anchor_type);
    out->anchor.id = row->anchor_id;
    out->priority = row->priority;
    out->created_order = row->created_order;
    out->workflow_id = row->workflow_id;
    out->selector.project_id = row->sel_project_id;
    out->selector.environment_id = row->sel_environment_id;
    if (row->sel_environment_kind)
        sb_policy_env_kind_parse(row->sel_environment_kind, &out->selector.environment_kind, NULL);
    out->selector.provider_type = row->sel_provider_type;
    out->selector.secret_ref_prefix = row->sel_secret_ref_prefix;
    if (row->sel_operation)
        sb_policy_operation_parse(row->sel_operation, &out->selector.operation, NULL);
    out->access.direct_reveal_allowed = row->direct_reveal_allowed;
    out->access.mfa_required = row->mfa_required;
    out->access.reveal_ttl_s = row->reveal_ttl_s;
}

/* ---- rules -------------------------------------------------------------------- */

typedef struct params {
    char priority[SB_DB_INT_TEXT_MAX], ttl[SB_DB_INT_TEXT_MAX];
    const char *p[18];
} params;

static void fill_params(params *x, const char *first, const sb_policy_rule_fields *f,
                        const char *last)
{
    sb_db_int_param(x->priority, f->priority);
    sb_db_int_param(x->ttl, f->reveal_ttl_s);
    const char *p[18] = {first,
                         f->name,
                         f->description ? f->description : "",
                         f->anchor_type,
                         f->anchor_id,
                         x->priority,
                         f->workflow_id,
                         f->sel_project_id,
                         f->sel_environment_id,
                         f->sel_environment_kind,
                         f->sel_provider_type,
                         f->sel_secret_ref_prefix,
                         f->sel_operation,
                         f->direct_reveal_allowed ? "t" : "f",
                         f->mfa_required ? "t" : "f",
                         x->ttl,
                         f->enabled ? "t" : "f",
                         last};
    memcpy(x->p, p, sizeof p);
}

static int write_one(sb_db_conn *conn, const char *sql, const params *x, sb_row_set *out,
                     sb_error *err)
{
    int rc = sb_rows_query_one(conn, sql, 18, x->p, out, err);
    if (rc < 0) {
        const sb_db_error_info *e = sb_db_last_error(conn);
        if (e && strcmp(e->sqlstate, "23503") == 0)
            sb_error_set(err, SB_TENANCY_E_UNKNOWN_REF,
                         "the rule refers to a team, project or workflow that does not exist");
    }
    return rc;
}

int sb_policy_store_create(sb_db_conn *conn, const sb_policy_rule_fields *f,
                           const char *created_by, sb_row_set *out, sb_error *err)
{
    params x;
    fill_params(&x, NULL, f, created_by);
    return write_one(
        conn,
        "WITH r AS (INSERT INTO policy_rules (name, description, anchor_type, team_id,"
        " project_id, priority, workflow_id, sel_project_id, sel_environment_id,"
        " sel_environment_kind, sel_provider_type, sel_secret_ref_prefix, sel_operation,"
        " direct_reveal_allowed, mfa_required, reveal_ttl_s, enabled, created_by)"
        " VALUES ($2, $3, $4, " ANCHOR_TEAM ", " ANCHOR_PROJECT ", $6::integer, $7::uuid,"
        " $8::uuid, $9::uuid, $10, $11, $12, $13, $14::boolean, $15::boolean, $16::integer,"
        " $17::boolean, $18::uuid) RETURNING *, $1::text AS unused) SELECT " RULE_COLS " FROM r",
        &x, out, err);
}

int sb_policy_store_get(sb_db_conn *conn, const char *id, bool for_update, sb_row_set *out,
                        sb_error *err)
{
    const char *p[] = {id};
    return sb_rows_query_one(
        conn,
        for_update ? "SELECT " RULE_COLS " FROM policy_rules r WHERE r.id = $1::uuid FOR UPDATE"
                   : "SELECT " RULE_COLS " FROM policy_rules r WHERE r.id = $1::uuid",
        1, p, out, err);
}

int sb_policy_store_update(sb_db_conn *conn, const char *id, const sb_policy_rule_fields *f,
                           sb_row_set *out, sb_error *err)
{
    params x;
    fill_params(&x, id, f, NULL);
    return write_one(
        conn,
        "WITH r AS (UPDATE policy_rules SET name = $2, description = $3, anchor_type = $4,"
        " team_id = " ANCHOR_TEAM ", project_id = " ANCHOR_PROJECT ", priority = $6::integer,"
        " workflow_id = $7::uuid, sel_project_id = $8::uuid, sel_environment_id = $9::uuid,"
        " sel_environment_kind = $10, sel_provider_type = $11, sel_secret_ref_prefix = $12,"
        " sel_operation = $13, direct_reveal_allowed = $14::boolean,"
        " mfa_required = $15::boolean, reveal_ttl_s = $16::integer, enabled = $17::boolean"
        " WHERE id = $1::uuid AND $18::text IS NULL RETURNING *) SELECT " RULE_COLS " FROM r",
        &x, out, err);
}

int sb_policy_store_delete(sb_db_conn *conn, const char *id, sb_row_set *out, sb_error *err)
{
    const char *p[] = {id};
    return sb_rows_query_one(conn,
                                      "WITH r AS (DELETE FROM policy_rules WHERE id = $1::uuid"
                                      " RETURNING *) SELECT " RULE_COLS " FROM r",
                                      1, p, out, err);
}

int sb_policy_store_list(sb_db_conn *conn, const sb_policy_list_filter *f,
                         const sb_list_page *page, sb_row_set *out, sb_error *err)
{
    char *teams = NULL, *projects = NULL;
    if (!f->platform_all) {
        teams = sb_rows_id_array(f->teams.all ? NULL : f->teams.ids,
                                          f->teams.all ? 0 : f->teams.n, err);
        projects = sb_rows_id_array(f->projects.all ? NULL : f->projects.ids,
                                             f->projects.all ? 0 : f->projects.n, err);
        if (teams == NULL || projects == NULL) {
            free(teams);
            free(projects);
            return -1;
        }
    }
    const char *p[] = {page->after && page->after[0] ? page->after : NULL,
                       f->platform_all ? "t" : "f",
                       f->teams.all ? "t" : "f",
                       teams,
                       f->projects.all ? "t" : "f",
                       projects,
                       f->anchor_type,
                       f->team_id,
                       f->project_id,
                       f->workflow_id};
    int rc = sb_rows_query_page(
        conn,
        "SELECT " RULE_COLS " FROM policy_rules r"
        " WHERE ($1::uuid IS NULL OR r.id > $1::uuid)"
        "   AND ($2::boolean OR r.anchor_type = 'platform'"
        "        OR (r.team_id IS NOT NULL AND ($3::boolean OR r.team_id = ANY($4::uuid[])))"
        "        OR (r.project_id IS NOT NULL"
        "            AND ($5::boolean OR r.project_id = ANY($6::uuid[]))))"
        "   AND ($7::text IS NULL OR r.anchor_type = $7::text)"
        "   AND ($8::uuid IS NULL OR r.team_id = $8::uuid)"
        "   AND ($9::uuid IS NULL OR r.project_id = $9::uuid)"
        "   AND ($10::uuid IS NULL OR r.workflow_id = $10::uuid)"
        " ORDER BY r.id LIMIT $11::bigint",
        10, p, page->limit, out, err);
    free(teams);
    free(projects);
    return rc;
}

int sb_policy_store_history(sb_db_conn *conn, const char *rule_id, const sb_list_page *page,
                            sb_row_set *out, sb_error *err)
{
    char resource[64];
    snprintf(resource, sizeof resource, "policy_rule:%s", rule_id);
    const char *p[] = {resource, page->after && page->after[0] ? page->after : NULL};
    return sb_rows_query_page(
        conn,
        "SELECT id::text, " TS("occurred_at") ", actor, action, details::text FROM audit_events"
        " WHERE resource = $1 AND outcome = 'success'"
        "   AND action IN ('policy.rule.create', 'policy.rule.update', 'policy.rule.delete')"
        "   AND ($2::bigint IS NULL OR id < $2::bigint)"
        " ORDER BY id DESC LIMIT $3::bigint",
        2, p, page->limit, out, err);
}

/* ---- the loader ----------------------------------------------------------------- */

struct sb_policy_loaded {
    sb_row_set rules_rows;
    json_t *workflow_doc; /* [[id, enabled, is_default], ...] */
    sb_policy_rule *rules;
    sb_policy_workflow *workflows;
    sb_policy_set set;
};

const sb_policy_set *sb_policy_loaded_set(const sb_policy_loaded *l) { return &l->set; }

void sb_policy_loaded_free(sb_policy_loaded *l)
{
    if (l == NULL)
        return;
    sb_row_set_free(&l->rules_rows);
    json_decref(l->workflow_doc);
    free(l->rules);
    free(l->workflows);
    free(l);
}

/* The project's enabled rules (its own, its owning team's ancestry's, the
 * platform's) and every workflow, in one statement: the rule columns, then
 * the workflows as JSON on every row. A LEFT JOIN keeps one row (rule
 * columns NULL) when no rule applies. */
static int query_rules_and_workflows(sb_db_conn *conn, const char *project_id,
                                     sb_policy_loaded *l, sb_error *err)
{
    const char *p[] = {project_id && project_id[0] ? project_id : NULL};
    /* The owning team's ancestry: UNION (not UNION ALL) and a depth bound
     * keep it finite even if a cycle ever slipped past the tree trigger. */
    if (sb_db_exec(conn,
                   "WITH RECURSIVE chain (id, parent_id, depth) AS ("
                   "  SELECT t.id, t.parent_id, 0 FROM teams t"
                   "    JOIN projects p ON p.team_id = t.id WHERE p.id = $1::uuid"
                   "  UNION"
                   "  SELECT t.id, t.parent_id, c.depth + 1 FROM teams t"
                   "    JOIN chain c ON t.id = c.parent_id WHERE c.depth < 64),"
                   " wf AS (SELECT coalesce(json_agg(json_build_array(w.id::text, w.enabled,"
                   "   w.is_default) ORDER BY w.id), '[]')::text AS list FROM workflows w)"
                   " SELECT " RULE_COLS ", wf.list FROM wf LEFT JOIN policy_rules r ON r.enabled"
                   "   AND (r.anchor_type = 'platform'"
                   "        OR ($1::uuid IS NOT NULL AND r.project_id = $1::uuid)"
                   "        OR r.team_id IN (SELECT id FROM chain))"
                   " ORDER BY r.priority DESC, r.created_order",
                   1, p, &l->rules_rows.res, err) != 0)
        return -1;
    int rows = PQntuples(l->rules_rows.res), list_col = PQnfields(l->rules_rows.res) - 1;
    l->rules_rows.n = rows > 0 && !PQgetisnull(l->rules_rows.res, 0, 0) ? (size_t)rows : 0;
    l->workflow_doc = rows > 0 ? json_loads(PQgetvalue(l->rules_rows.res, 0, list_col), 0, NULL) : NULL;
    if (!json_is_array(l->workflow_doc))
        return sb_error_set(err, SB_DOMAIN_E_NO_MEMORY, "cannot read the workflows");
    return 0;
}

static int load_rules(sb_policy_loaded *l, sb_error *err)
{
    l->rules = calloc(l->rules_rows.n + 1, sizeof *l->rules);
    if (l->rules == NULL)
        return sb_error_set(err, SB_DOMAIN_E_NO_MEMORY, "out of memory loading policy rules");
    for (size_t i = 0; i < l->rules_rows.n; i++) {
        sb_policy_rule_row row;
        sb_policy_store_at(&l->rules_rows, i, &row);
        sb_policy_store_rule_of(&row, &l->rules[i]);
    }
    return 0;
}

static int load_workflows(sb_policy_loaded *l, sb_error *err)
{
    size_t n = json_array_size(l->workflow_doc);
    l->workflows = calloc(n + 1, sizeof *l->workflows);
    if (l->workflows == NULL)
        return sb_error_set(err, SB_DOMAIN_E_NO_MEMORY, "out of memory loading workflows");
    for (size_t i = 0; i < n; i++) {
        json_t *w = json_array_get(l->workflow_doc, i);
        l->workflows[i].id = json_string_value(json_array_get(w, 0));
        l->workflows[i].enabled = json_is_true(json_array_get(w, 1));
        if (json_is_true(json_array_get(w, 2)))
            l->set.default_workflow_id = l->workflows[i].id;
    }
    l->set.n_workflows = n;
    if (l->set.default_workflow_id == NULL)
        return sb_error_set(err, SB_DOMAIN_E_NOT_FOUND,
                            "no default workflow exists; make one the default "
                            "(PUT /api/v1/workflows/{id}/default)");
    return 0;
}

int sb_policy_store_load(sb_db_conn *conn, const char *project_id, sb_policy_loaded **out,
                         sb_error *err)
{
    *out = NULL;
    sb_policy_loaded *l = calloc(1, sizeof *l);
    if (l == NULL)
        return sb_error_set(err, SB_DOMAIN_E_NO_MEMORY, "out of memory loading policy rules");
    if (query_rules_and_workflows(conn, project_id, l, err) != 0 || load_rules(l, err) != 0 ||
        load_workflows(l, err) != 0) {
        sb_policy_loaded_free(l);
        return -1;
    }
    l->set.rules = l->rules;
    l->set.n_rules = l->rules_rows.n;
    l->set.workflows = l->workflows;
    *out = l;
    return 0;
}

/* ---- the platform setting ------------------------------------------------------- */

/* The setting's value is a JSON number; anything else reads as the default. */
#define RESERVED_VALUE                                                                             \
    "CASE WHEN jsonb_typeof(value) = 'number' THEN (value::text)::numeric::integer END"

int sb_policy_store_reserved_priority(sb_db_conn *conn, int *out, sb_error *err)
{
    const char *p[] = {SB_POLICY_SETTING_RESERVED};
    sb_row_set rows;
    *out = SB_POLICY_RESERVED_PRIORITY_DEFAULT;
    int rc = sb_rows_query_one(
        conn, "SELECT " RESERVED_VALUE " FROM platform_settings WHERE key = $1", 1, p, &rows, err);
    if (rc < 0)
        return -1;
    if (rc == 0) {
        if (!PQgetisnull(rows.res, 0, 0))
            *out = atoi(PQgetvalue(rows.res, 0, 0));
        sb_row_set_free(&rows);
    }
    return 0;
}

int sb_policy_store_reserved_row(sb_db_conn *conn, sb_row_set *out, sb_error *err)
{
    const char *p[] = {SB_POLICY_SETTING_RESERVED, SB_DB_INT(SB_POLICY_RESERVED_PRIORITY_DEFAULT)};
    return sb_rows_query_one(
        conn,
        "SELECT $1::text, coalesce((SELECT " RESERVED_VALUE " FROM platform_settings"
        " WHERE key = $1), $2::integer)::text,"
        " (SELECT " TS("updated_at") " FROM platform_settings WHERE key = $1)",
        2, p, out, err);
}

int sb_policy_store_set_reserved_priority(sb_db_conn *conn, int value, int *previous,
                                          sb_row_set *out, sb_error *err)
{
    const char *key[] = {SB_POLICY_SETTING_RESERVED};
    /* Lock the row (when present) so the previous value is the one replaced. */
    if (sb_db_exec(conn, "SELECT 1 FROM platform_settings WHERE key = $1 FOR UPDATE", 1, key,
                   NULL, err) != 0 ||
        sb_policy_store_reserved_priority(conn, previous, err) != 0)
        return -1;
    const char *p[] = {SB_POLICY_SETTING_RESERVED, SB_DB_INT(value)};
    if (sb_db_exec(conn,
                   "INSERT INTO platform_settings (key, value) VALUES ($1, to_jsonb($2::integer))"
                   " ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, updated_at = now()",
                   2, p, NULL, err) != 0)
        return -1;
    return sb_policy_store_reserved_row(conn, out, err);
}
