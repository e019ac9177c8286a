/*
 * api/policy_routes.c — sb_api_policy_routes: policy rules (SPEC §8
 * "Policy engine"; docs/workflows-policies.md).
 *
 * Contract:
 *   - Body: name, description, anchor {type: platform|team|project, id},
 *     priority, workflow_id, selector {project_id, environment_id,
 *     environment_kind, provider_type, secret_ref_prefix, operation} (each
 *     optional, null = any), access {direct_reveal_allowed, mfa_required,
 *     reveal_ttl_s}, enabled. PUT is partial at the top level; a selector
 *     or access object given replaces the whole object (missing members are
 *     unset / defaults). Strict bodies (400), values 422 naming the field.
 *   - Every rule written is checked whole by domain/policy
 *     (sb_policy_check_authorable) plus: the workflow exists (422); the
 *     selector's project exists and can be reached from the anchor (422),
 *     its environment belongs to the selector's or the anchor's project
 *     (or the anchor team's subtree) and agrees with environment_kind (422).
 *     A disabled workflow is accepted (the engine skips the rule).
 *   - Authors. A platform author (policy.edit from a global grant) writes
 *     anything. A scoped author (policy.author at the anchor: a team
 *     subtree or a project) writes team/project rules in scope, pinned to
 *     environment_kind non_prod, with priority below the live reserved
 *     priority (read in the same transaction), on a workflow that is
 *     scoped_policy_authorable, with access fields at their defaults
 *     (false/false/60). An update or delete is checked against the rule as
 *     it is AND as it would be, so a scoped author can neither edit a rule
 *     outside their scope or in the reserved band nor move one there.
 *     Refusals are 403 (audited as access.denied); an anchor or rule the
 *     caller cannot see is 404 (audited too, through sb_handler_op_run).
 *   - One audit event per change, in its transaction: policy.rule.create,
 *     policy.rule.update, policy.rule.delete (resource "policy_rule:<id>"),
 *     whose details carry the whole rule after the change ("rule"; before
 *     the deletion for delete) — the rule's history is read from them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/policy_api.h"
#include "domain/domain_error.h"
#include "domain/policy.h"
#include "store/workflow_store.h"


/* ---- rendering and visibility ------------------------------------------------ */

json_t *sb_policy_api_rule_json(const sb_row_set *rows, size_t i)
{
    sb_policy_rule_row r;
    sb_policy_store_at(rows, i, &r);
    return json_pack(
        "{s:s, s:s, s:s, s:{s:s, s:s?}, s:i, s:s, s:{s:s?, s:s?, s:s?, s:s?, s:s?, s:s?},"
        " s:{s:b, s:b, s:i}, s:b, s:I, s:s?, s:s, s:s}",
        "id", r.id, "name", r.name, "description", r.description, "anchor", "type", r.anchor_type,
        "id", r.anchor_id, "priority", r.priority, "workflow_id", r.workflow_id, "selector",
        "project_id", r.sel_project_id, "environment_id", r.sel_environment_id,
        "environment_kind", r.sel_environment_kind, "provider_type", r.sel_provider_type,
        "secret_ref_prefix", r.sel_secret_ref_prefix, "operation", r.sel_operation, "access",
        "direct_reveal_allowed", r.direct_reveal_allowed, "mfa_required", r.mfa_required,
        "reveal_ttl_s", r.reveal_ttl_s, "enabled", r.enabled, "created_order",
        (json_int_t)r.created_order, "created_by", r.created_by, "created_at", r.created_at,
        "updated_at", r.updated_at);
}

bool sb_policy_api_platform_author(const sb_identity *who)
{
    return sb_rbac_allows_global(who->rbac, SB_PERM_POLICY_EDIT);
}

/* policy.author at the anchor (team subtree / project). */
static bool author_in_scope(const sb_identity *who, const char *type, const char *id)
{
    if (id == NULL)
        return false;
    if (strcmp(type, "team") == 0)
        return sb_rbac_allows_team(who->rbac, SB_PERM_POLICY_AUTHOR, id);
    return strcmp(type, "project") == 0 &&
           sb_rbac_allows_project(who->rbac, SB_PERM_POLICY_AUTHOR, id);
}

bool sb_policy_api_rule_visible(const sb_identity *who, const char *type, const char *id)
{
    return strcmp(type, "platform") == 0 || sb_policy_api_platform_author(who) ||
           author_in_scope(who, type, id);
}

/* ---- the checks in the transaction ---------------------------------------------- */

static const char *or_null(const char *s) { return s && s[0] ? s : NULL; }

/* fields = (current row or the defaults) overlaid with the patch. */
static void merge(const sb_policy_rule_row *cur, const sb_policy_rule_patch *p,
                  sb_policy_rule_fields *f)
{
    memset(f, 0, sizeof *f);
    if (cur) {
        *f = (sb_policy_rule_fields){cur->name,
                                     cur->description,
                                     cur->anchor_type,
                                     cur->anchor_id,
                                     cur->workflow_id,
                                     cur->priority,
                                     cur->sel_project_id,
                                     cur->sel_environment_id,
                                     cur->sel_environment_kind,
                                     cur->sel_provider_type,
                                     cur->sel_secret_ref_prefix,
                                     cur->sel_operation,
                                     cur->direct_reveal_allowed,
                                     cur->mfa_required,
                                     cur->reveal_ttl_s,
                                     cur->enabled};
    } else {
        f->description = "";
        f->priority = 100;
        f->reveal_ttl_s = SB_POLICY_REVEAL_TTL_DEFAULT;
        f->enabled = true;
    }
    if (p->name)
        f->name = p->name;
    if (p->description)
        f->description = p->description;
    if (p->has_anchor) {
        f->anchor_type = p->anchor_type;
        f->anchor_id = or_null(p->anchor_id);
    }
    if (p->workflow_id[0])
        f->workflow_id = p->workflow_id;
    if (p->has_priority)
        f->priority = p->priority;
    if (p->has_selector) {
        f->sel_project_id = or_null(p->sel_project);
        f->sel_environment_id = or_null(p->sel_env);
        f->sel_environment_kind = p->sel_kind;
        f->sel_provider_type = p->sel_provider;
        f->sel_secret_ref_prefix = p->sel_prefix;
        f->sel_operation = p->sel_operation;
    }
    if (p->has_access) {
        f->direct_reveal_allowed = p->direct_reveal;
        f->mfa_required = p->mfa;
        f->reveal_ttl_s = p->reveal_ttl_s;
    }
    if (p->has_enabled)
        f->enabled = p->enabled;
}

static void rule_of_fields(const sb_policy_rule_fields *f, const char *id, sb_policy_rule *r)
{
    sb_policy_rule_row row = {0};
    row.id = id;
    row.anchor_type = f->anchor_type;
    row.anchor_id = f->anchor_id;
    row.priority = f->priority;
    row.workflow_id = f->workflow_id;
    row.sel_project_id = f->sel_project_id;
    row.sel_environment_id = f->sel_environment_id;
    row.sel_environment_kind = f->sel_environment_kind;
    row.sel_provider_type = f->sel_provider_type;
    row.sel_secret_ref_prefix = f->sel_secret_ref_prefix;
    row.sel_operation = f->sel_operation;
    row.direct_reveal_allowed = f->direct_reveal_allowed;
    row.mfa_required = f->mfa_required;
    row.reveal_ttl_s = f->reveal_ttl_s;
    sb_policy_store_rule_of(&row, r);
}

/* The whole authorship check of one version of a rule (f) by o->who. */
static int check_author(const sb_handler_op *o, const sb_policy_rule_fields *f, const char *id,
                        int reserved, sb_error *err)
{
    const sb_identity *who = o->who;
    bool platform = sb_policy_api_platform_author(who);
    if (!platform && strcmp(f->anchor_type, "platform") != 0) {
        bool seen = strcmp(f->anchor_type, "team") == 0
                        ? sb_handler_team_visible(who, f->anchor_id)
                        : sb_handler_project_visible(who, f->anchor_id);
        if (!seen)
            return sb_error_set(err, SB_HANDLER_E_HIDDEN, "no %s with id %s", f->anchor_type,
                                f->anchor_id);
    }
    sb_policy_rule rule;
    rule_of_fields(f, id, &rule);
    sb_policy_author author = {platform, author_in_scope(who, f->anchor_type, f->anchor_id),
                               reserved};
    if (sb_policy_check_authorable(&rule, &author, err) != 0)
        return -1;
    if (!platform && (f->direct_reveal_allowed || f->mfa_required ||
                      f->reveal_ttl_s != SB_POLICY_REVEAL_TTL_DEFAULT))
        return sb_error_set(err, SB_DOMAIN_E_DENIED,
                            "policy rule %s: scoped policy authors cannot set the access fields "
                            "(direct_reveal_allowed false, mfa_required false, reveal_ttl_s %d); "
                            "that needs policy.edit from a global grant",
                            id, SB_POLICY_REVEAL_TTL_DEFAULT);
    return 0;
}

/* The anchor row exists and is active (checked when the anchor is new). */
static int check_anchor_row(sb_db_conn *conn, const sb_policy_rule_fields *f, sb_error *err)
{
    if (strcmp(f->anchor_type, "platform") == 0)
        return 0;
    bool team = strcmp(f->anchor_type, "team") == 0;
    sb_row_set rows;
    int rc = team ? sb_tenancy_store_team_get(conn, f->anchor_id, true, &rows, err)
                  : sb_tenancy_store_project_get(conn, f->anchor_id, true, &rows, err);
    if (rc < 0)
        return -1;
    if (rc == 1)
        return sb_error_set(err, SB_TENANCY_E_UNKNOWN_REF, "anchor.id: no %s with id %s",
                            f->anchor_type, f->anchor_id);
    sb_team_row t;
    sb_project_row pr;
    const char *status;
    if (team) {
        sb_tenancy_store_team_at(&rows, 0, &t);
        status = t.status;
    } else {
        sb_tenancy_store_project_at(&rows, 0, &pr);
        status = pr.status;
    }
    bool archived = strcmp(status, "archived") == 0;
    sb_row_set_free(&rows);
    if (archived)
        return sb_error_set(err, SB_HANDLER_E_ARCHIVED, "%s %s is archived; unarchive it first",
                            f->anchor_type, f->anchor_id);
    return 0;
}

/* Is project in the anchor's reach (the anchor project, or the anchor
 * team's subtree)? Platform: everywhere. */
static bool in_reach(const sb_identity *who, const sb_policy_rule_fields *f, const char *project)
{
    if (strcmp(f->anchor_type, "platform") == 0)
        return sb_tenancy_has_project(who->tenancy, project);
    if (strcmp(f->anchor_type, "project") == 0)
        return strcmp(f->anchor_id, project) == 0;
    const char *team = sb_tenancy_project_team(who->tenancy, project);
    return team && sb_team_tree_in_subtree(sb_tenancy_teams(who->tenancy), f->anchor_id, team);
}

static int check_refs(sb_db_conn *conn, const sb_handler_op *o, const sb_policy_rule_fields *f,
                      sb_error *err)
{
    sb_row_set rows;
    int rc = sb_workflow_store_get(conn, f->workflow_id, false, &rows, err);
    if (rc < 0)
        return -1;
    if (rc == 1)
        return sb_error_set(err, SB_TENANCY_E_UNKNOWN_REF, "workflow_id: no workflow with id %s",
                            f->workflow_id);
    sb_workflow_row w;
    sb_workflow_store_at(&rows, 0, &w);
    bool authorable = w.scoped_policy_authorable;
    sb_row_set_free(&rows);
    if (!sb_policy_api_platform_author(o->who) && !authorable)
        return sb_error_set(err, SB_DOMAIN_E_DENIED,
                            "workflow_id: workflow %s is not open to scoped policy authors "
                            "(scoped_policy_authorable is false); choose one that is",
                            f->workflow_id);
    if (f->sel_project_id && !in_reach(o->who, f, f->sel_project_id))
        return sb_error_set(err, SB_TENANCY_E_UNKNOWN_REF,
                            "selector.project_id: no project with id %s within the rule's anchor",
                            f->sel_project_id);
    if (f->sel_environment_id == NULL)
        return 0;
    rc = sb_tenancy_store_environment_get(conn, f->sel_environment_id, false, &rows, err);
    if (rc < 0)
        return -1;
    sb_environment_row e;
    bool ok = rc == 0, kind_ok = true;
    if (ok) {
        sb_tenancy_store_environment_at(&rows, 0, &e);
        ok = f->sel_project_id ? strcmp(e.project_id, f->sel_project_id) == 0
                               : in_reach(o->who, f, e.project_id);
        kind_ok = !f->sel_environment_kind || strcmp(f->sel_environment_kind, e.kind) == 0;
        sb_row_set_free(&rows);
    }
    if (!ok)
        return sb_error_set(err, SB_TENANCY_E_UNKNOWN_REF,
                            "selector.environment_id: no environment with id %s in %s",
                            f->sel_environment_id,
                            f->sel_project_id ? "the selector's project" : "the rule's anchor");
    if (!kind_ok)
        return sb_error_set(err, SB_DOMAIN_E_INVALID,
                            "selector.environment_id names an environment whose kind is not "
                            "selector.environment_kind %s, so the rule could never match",
                            f->sel_environment_kind);
    return 0;
}

/* ---- writes ------------------------------------------------------------------- */

static int write_checks(sb_db_conn *conn, sb_handler_op *o, const sb_policy_rule_fields *f,
                        const char *id, bool anchor_new, sb_error *err)
{
    int reserved;
    if (sb_policy_store_reserved_priority(conn, &reserved, err) != 0 ||
        check_author(o, f, id, reserved, err) != 0 ||
        (anchor_new && check_anchor_row(conn, f, err) != 0) || check_refs(conn, o, f, err) != 0)
        return -1;
    return 0;
}

static int create_txn(sb_db_conn *conn, sb_handler_op *o, sb_error *err)
{
    sb_policy_rule_patch *p = o->extra;
    sb_policy_rule_fields f;
    merge(NULL, p, &f);
    if (write_checks(conn, o, &f, "(new)", true, err) != 0 ||
        sb_policy_store_create(conn, &f, o->who->user_id, &o->rows, err) != 0)
        return -1;
    sb_policy_rule_row r;
    sb_policy_store_at(&o->rows, 0, &r);
    return sb_handler_op_audit(conn, o, "policy.rule.create", "policy_rule", r.id,
                               json_pack("{s:o}", "rule", sb_policy_api_rule_json(&o->rows, 0)),
                               err);
}

/* The rule as it is: visible (else 404) and, for a scoped author, theirs
 * to change (else 403). Locked; *cur owned by the caller. */
static int lock_current(sb_db_conn *conn, sb_handler_op *o, sb_row_set *cur,
                        sb_policy_rule_row *row, sb_error *err)
{
    if (sb_handler_op_lock_row(conn, sb_policy_store_get, o->id, "policy rule", cur, err) != 0)
        return -1;
    sb_policy_store_at(cur, 0, row);
    int reserved, rc = 0;
    if (!sb_policy_api_rule_visible(o->who, row->anchor_type, row->anchor_id))
        rc = sb_handler_op_hidden(err, "policy rule");
    else if (!sb_policy_api_platform_author(o->who)) {
        sb_policy_rule_fields f;
        merge(row, &(sb_policy_rule_patch){0}, &f);
        rc = sb_policy_store_reserved_priority(conn, &reserved, err) != 0
                 ? -1
                 : check_author(o, &f, row->id, reserved, err);
    }
    if (rc != 0)
        sb_row_set_free(cur);
    return rc;
}

static int update_txn(sb_db_conn *conn, sb_handler_op *o, sb_error *err)
{
    sb_policy_rule_patch *p = o->extra;
    sb_row_set cur;
    sb_policy_rule_row row;
    if (lock_current(conn, o, &cur, &row, err) != 0)
        return -1;
    sb_policy_rule_fields f;
    merge(&row, p, &f);
    bool anchor_new = p->has_anchor && (strcmp(f.anchor_type, row.anchor_type) != 0 ||
                                        (f.anchor_id && row.anchor_id &&
                                         strcmp(f.anchor_id, row.anchor_id) != 0));
    int rc = write_checks(conn, o, &f, row.id, anchor_new, err) != 0 ||
                     sb_policy_store_update(conn, o->id, &f, &o->rows, err) != 0
                 ? -1
                 : 0;
    sb_row_set_free(&cur);
    if (rc != 0)
        return -1;
    return sb_handler_op_audit(conn, o, "policy.rule.update", "policy_rule", o->id,
                               json_pack("{s:O, s:o}", "fields", p->given, "rule",
                                         sb_policy_api_rule_json(&o->rows, 0)),
                               err);
}

static int delete_txn(sb_db_conn *conn, sb_handler_op *o, sb_error *err)
{
    sb_row_set cur, gone;
    sb_policy_rule_row row;
    if (lock_current(conn, o, &cur, &row, err) != 0)
        return -1;
    sb_row_set_free(&cur);
    int rc = sb_policy_store_delete(conn, o->id, &gone, err);
    if (rc != 0)
        return rc == 1 ? sb_error_set(err, SB_DOMAIN_E_NOT_FOUND, "no policy rule with that id")
                       : -1;
    json_t *d = json_pack("{s:o}", "rule", sb_policy_api_rule_json(&gone, 0));
    sb_row_set_free(&gone);
    return sb_handler_op_audit(conn, o, "policy.rule.delete", "policy_rule", o->id, d, err);
}

#define RULE_SPEC(req)                                                                             \
    {{"name", SB_FIELD_STRING, req},         {"description", SB_FIELD_STRING, 0},                  \
     {"anchor", SB_FIELD_OBJECT, req},       {"priority", SB_FIELD_INTEGER, 0},                    \
     {"workflow_id", SB_FIELD_STRING, req},  {"selector", SB_FIELD_OBJECT, 0},                     \
     {"access", SB_FIELD_OBJECT, 0},         {"enabled", SB_FIELD_BOOLEAN, 0}}
static const sb_field_spec create_spec[] = RULE_SPEC(1);
static const sb_field_spec update_spec[] = RULE_SPEC(0);
#define N_SPEC (sizeof create_spec / sizeof create_spec[0])

static int rule_write(sb_server_request *req, void *ctx, bool create)
{
    sb_handler_op o;
    sb_policy_rule_patch p = {0};
    sb_handler_op_init(&o, req, ctx);
    if (!create && sb_handler_path_id(req, "id", o.id) != 0)
        return sb_handler_not_found(req, "policy rule");
    int rc = 0;
    if (sb_handler_read_body(req, create ? create_spec : update_spec, N_SPEC, &o.body) == 0 &&
        sb_policy_api_read_patch(&o, &p) == 0) {
        if (json_array_size(p.given) == 0) {
            sb_handler_op_nothing_given(&o, "name, description, anchor, priority, workflow_id, "
                                            "selector, access, enabled");
        } else {
            o.extra = &p;
            o.render = sb_policy_api_rule_json;
            o.ok_status = create ? 201 : 200;
            rc = sb_handler_op_run(&o, create ? create_txn : update_txn);
        }
    }
    json_decref(p.given);
    return rc;
}

static int rule_create(sb_server_request *req, void *ctx) { return rule_write(req, ctx, true); }
static int rule_update(sb_server_request *req, void *ctx) { return rule_write(req, ctx, false); }

static int rule_delete(sb_server_request *req, void *ctx)
{
    sb_handler_op o;
    sb_handler_op_init(&o, req, ctx);
    if (sb_handler_path_id(req, "id", o.id) != 0)
        return sb_handler_not_found(req, "policy rule");
    return sb_handler_op_run(&o, delete_txn);
}

/* ---- reads -------------------------------------------------------------------- */

static int rule_get(sb_server_request *req, void *ctx)
{
    sb_handler_op o;
    sb_handler_op_init(&o, req, ctx);
    sb_db_conn *conn;
    if (sb_handler_path_id(req, "id", o.id) != 0)
        return sb_handler_not_found(req, "policy rule");
    if (sb_handler_op_acquire(&o, &conn) != 0)
        return 0;
    sb_error err = {0};
    int rc = sb_policy_store_get(conn, o.id, false, &o.rows, &err);
    sb_db_release(o.app->db, conn);
    if (rc < 0)
        return sb_api_respond_store_error(req, &err);
    sb_policy_rule_row r;
    if (rc == 0)
        sb_policy_store_at(&o.rows, 0, &r);
    if (rc == 1 || !sb_policy_api_rule_visible(o.who, r.anchor_type, r.anchor_id)) {
        sb_row_set_free(&o.rows);
        return sb_handler_not_found(req, "policy rule");
    }
    json_t *out = sb_policy_api_rule_json(&o.rows, 0);
    sb_row_set_free(&o.rows);
    return sb_http_respond_json(req, 200, out);
}

typedef struct rule_query {
    sb_policy_list_filter f;
    char team[37], project[37], workflow[37];
} rule_query;

static int rule_filters(sb_handler_op *o, void *filter)
{
    rule_query *q = filter;
    sb_policy_list_filter *f = &q->f;
    if (sb_handler_query_uuid(o->req, "team_id", q->team, &f->team_id) != 0 ||
        sb_handler_query_uuid(o->req, "project_id", q->project, &f->project_id) != 0 ||
        sb_handler_query_uuid(o->req, "workflow_id", q->workflow, &f->workflow_id) != 0)
        return -1;
    f->anchor_type = sb_http_query(o->req, "anchor_type");
    if (f->anchor_type && strcmp(f->anchor_type, "platform") != 0 &&
        strcmp(f->anchor_type, "team") != 0 && strcmp(f->anchor_type, "project") != 0)
        return sb_http_respond_error(o->req, 400, "invalid_field",
                                     "query parameter anchor_type must be platform, team or "
                                     "project"),
               -1;
    sb_error err = {0};
    sb_permission_set author = SB_PERMISSION_BIT(SB_PERM_POLICY_AUTHOR);
    f->platform_all = sb_policy_api_platform_author(o->who);
    if (!f->platform_all &&
        (sb_handler_visible_filter(o->who, true, author, &f->teams, &err) != 0 ||
         sb_handler_visible_filter(o->who, false, author, &f->projects, &err) != 0))
        return sb_api_respond_store_error(o->req, &err), -1;
    return 0;
}

static int rule_rows(sb_db_conn *conn, sb_handler_op *o, void *filter, const sb_list_page *page,
                     sb_row_set *out, sb_error *err)
{
    (void)o;
    return sb_policy_store_list(conn, &((rule_query *)filter)->f, page, out, err);
}

static void rule_release(void *filter)
{
    rule_query *q = filter;
    free((void *)q->f.teams.ids);
    free((void *)q->f.projects.ids);
}

static int rule_list(sb_server_request *req, void *ctx)
{
    static const char *const known[] = {"limit",   "cursor",     "anchor_type",
                                        "team_id", "project_id", "workflow_id"};
    static const sb_handler_list spec = {.query = known, .n_query = 6, .filters = rule_filters,
                                         .list = rule_rows, .release = rule_release,
                                         .render = sb_policy_api_rule_json};
    sb_handler_op o;
    rule_query q = {0};
    sb_handler_op_init(&o, req, ctx);
    return sb_handler_list_run(&o, &spec, &q);
}

/* ---- the route table ---------------------------------------------------------- */

int sb_api_policy_routes(sb_router *r, sb_app *app, sb_error *err)
{
#define P "/api/v1/policy-rules"
    /* No route permission: policy.edit (global) or policy.author (scoped)
     * both qualify; the handlers decide at the rule's anchor. */
    const sb_route routes[] = {
        {"GET", P, SB_AUTH_SESSION, NULL, rule_list, app, "listPolicyRules",
         "List the policy rules you can see (filters anchor_type, team_id, project_id, "
         "workflow_id; cursor pagination)"},
        {"POST", P, SB_AUTH_SESSION, NULL, rule_create, app, "createPolicyRule",
         "Create a policy rule (platform authors anywhere; scoped authors in scope, below the "
         "reserved band)"},
        {"GET", P "/{id}", SB_AUTH_SESSION, NULL, rule_get, app, "getPolicyRule",
         "Get a policy rule"},
        {"PUT", P "/{id}", SB_AUTH_SESSION, NULL, rule_update, app, "updatePolicyRule",
         "Change a policy rule (partial; checked as it is and as it would be)"},
        {"DELETE", P "/{id}", SB_AUTH_SESSION, NULL, rule_delete, app, "deletePolicyRule",
         "Delete a policy rule"},
        {"GET", P "/{id}/history", SB_AUTH_SESSION, NULL, sb_policy_api_history, app,
         "getPolicyRuleHistory",
         "A policy rule's changes from the audit log, newest first (survives deletion)"},
    };
#undef P
    if (sb_router_add_all(r, routes, sizeof routes / sizeof routes[0], err) != 0)
        return -1;
    return sb_policy_settings_routes(r, app, err);
}
