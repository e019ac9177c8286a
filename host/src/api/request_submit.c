/*
 * api/request_submit.c — POST /requests (read, patch, direct_reveal) and
 * POST /requests/cross-team.
 *
 * Contract (one transaction per submit; identity from the session only):
 *   - The target is a secret binding (binding_id): its project, environment,
 *     catalog secret and connection. A binding in a project the caller
 *     cannot see is 404; without secret.request on the project 403 (and for
 *     direct_reveal also secret.reveal.direct). The binding must allow the
 *     operation (read, patch, reveal; cross_team patches the destination),
 *     every key must be in its allowlist (403 naming the key); an empty key
 *     list on a read means every allowed key. Archived projects, disabled
 *     connections and secrets missing from the provider are 409.
 *   - Patch values arrive sealed only (I2): sealed_values is a list of
 *     {key, recipient, box}: box the base64 crypto_box_seal ciphertext of the
 *     value for recipient, an agent's X25519 public key (base64); every key
 *     sealed for the same recipients. A body carrying "values" or
 *     "key_values" is refused with 400 plaintext_refused, and no value is
 *     ever echoed.
 *   - Direct reveal on a prod environment is refused before any policy
 *     lookup and before the submit transaction (I9), audited as
 *     request.direct_reveal.refused_prod (checked again inside).
 *   - The policy is resolved (store/policy_store + domain/policy) and
 *     snapshotted on the request with the workflow; a rule that asked for
 *     direct reveal on prod is audited as policy.invariant.violated.
 *     Justification is required when the workflow says so (the default).
 *   - Cross-team: the requester's binding is the destination; target_team_id
 *     is the team asked for the values (not the project's own team); keys
 *     are required.
 *   - The new state and its actions come from domain/request_machine via
 *     request_transition.c; one request.submit audit event.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/request_api.h"
#include "domain/domain_error.h"
#include "domain/policy.h"
#include "store/policy_store.h"

#define MAX_KEYS 100

typedef struct submit_input {
    sb_request_kind kind;
    const char *justification;
    json_t *keys; /* requested key names (array, owned) */
    sb_sealed_input sealed;
    char target_team[37];
} submit_input;

static void input_free(submit_input *in)
{
    json_decref(in->keys);
    sb_sealed_input_free(&in->sealed);
}

/* "keys": distinct valid names; on a patch it must equal the sealed keys. */
static int read_keys(sb_server_request *req, json_t *body, submit_input *in)
{
    json_t *k = json_object_get(body, "keys"), *v;
    size_t i;
    if (k == NULL)
        return 0;
    if (json_array_size(k) > MAX_KEYS)
        return sb_handler_invalid(req, "keys may list at most %d names", MAX_KEYS);
    json_array_foreach(k, i, v)
    {
        if (!sb_request_key_name_ok(json_string_value(v)))
            return sb_handler_invalid(req, "keys[%zu] must be 1-128 characters of letters, "
                                               "digits, '_', '.' or '-'", i);
        for (size_t j = 0; j < i; j++)
            if (json_equal(json_array_get(k, j), v))
                return sb_handler_invalid(req, "keys[%zu] repeats a key", i);
    }
    if (in->keys) { /* patch: the sealed keys decide; "keys" must agree */
        bool same = json_array_size(k) == json_array_size(in->keys);
        json_array_foreach(k, i, v) same = same && sb_request_in_array(in->keys, json_string_value(v));
        if (!same)
            return sb_handler_invalid(req, "keys must name exactly the keys of sealed_values "
                                               "(or be left out)");
        return 0;
    }
    in->keys = json_incref(k);
    return 0;
}

/* ---- the transaction ---------------------------------------------------------- */

static const char *operation_of(sb_request_kind k)
{
    switch (k) {
    case SB_REQ_KIND_READ: return "read";
    case SB_REQ_KIND_DIRECT_REVEAL: return "reveal";
    default: return "patch";
    }
}

static int need(const sb_handler_op *o, sb_permission perm, const char *project, const char *doing,
                sb_error *err)
{
    return sb_handler_op_need_project(o, perm, project, doing, err);
}

/* Visibility, permissions, availability, operation and keys. */
static int check_target(sb_handler_op *o, submit_input *in, const sb_request_target *t,
                        sb_error *err)
{
    if (!sb_handler_project_visible(o->who, t->project_id))
        return sb_handler_op_hidden(err, "secret binding");
    if (need(o, SB_PERM_SECRET_REQUEST, t->project_id, "requesting a secret", err) != 0)
        return -1;
    if (in->kind == SB_REQ_KIND_DIRECT_REVEAL &&
        need(o, SB_PERM_SECRET_REVEAL_DIRECT, t->project_id, "revealing a secret directly", err) != 0)
        return -1;
    if (strcmp(t->project_status, "active") != 0)
        return sb_error_set(err, SB_DB_E_REFUSED, "project %s is archived; unarchive it first",
                            t->project_id);
    if (strcmp(t->connection_status, "active") != 0)
        return sb_error_set(err, SB_DB_E_REFUSED,
                            "provider connection %s is disabled; enable it first",
                            t->connection_id);
    if (strcmp(t->catalog_status, "present") != 0 && in->kind != SB_REQ_KIND_PATCH &&
        in->kind != SB_REQ_KIND_CROSS_TEAM)
        return sb_error_set(err, SB_DB_E_REFUSED,
                            "secret %s is missing from its provider (last discovery); nothing "
                            "to read",
                            t->secret_ref);
    json_t *ops = json_loads(t->allowed_ops, 0, NULL), *allowed = json_loads(t->allowed_keys, 0, NULL);
    const char *op = operation_of(in->kind);
    int rc = 0;
    if (!sb_request_in_array(ops, op))
        rc = sb_error_set(err, SB_DOMAIN_E_DENIED,
                          "the secret binding does not allow the %s operation (allowed: %s)", op,
                          t->allowed_ops);
    if (rc == 0 && json_array_size(in->keys) == 0) {
        if (in->kind == SB_REQ_KIND_CROSS_TEAM)
            rc = sb_error_set(err, SB_DOMAIN_E_INVALID, "keys must name the keys to provide");
        else {
            json_decref(in->keys);
            in->keys = json_incref(allowed); /* a read of every allowed key */
        }
    }
    size_t i;
    json_t *k;
    json_array_foreach(in->keys, i, k) if (rc == 0 && !sb_request_in_array(allowed, json_string_value(k)))
        rc = sb_error_set(err, SB_DOMAIN_E_DENIED,
                          "key %s is not in the secret binding's allowed keys %s",
                          json_string_value(k), t->allowed_keys);
    json_decref(ops);
    json_decref(allowed);
    return rc;
}

static json_t *decision_json(const sb_policy_decision *d)
{
    static const char *const won[] = {"default", "only_candidate", "priority", "specificity",
                                      "ancestry", "age", "id"};
    json_t *reasons = json_array();
    static const char *const rn[] = {"rule_matched", "default_fallback", "workflow_skipped",
                                     "prod_invariant"};
    for (unsigned b = 0; b < 4; b++)
        if (d->reasons & (1u << b))
            json_array_append_new(reasons, json_string(rn[b]));
    return json_pack("{s:s?, s:s, s:b, s:b, s:i, s:b, s:b, s:s, s:o}", "rule_id", d->rule_id,
                     "workflow_id", d->workflow_id, "direct_reveal_allowed",
                     d->direct_reveal_allowed, "mfa_required", d->mfa_required, "reveal_ttl_s",
                     d->reveal_ttl_s, "invariant_applied", d->invariant_applied,
                     "invariant_violated", d->invariant_violated, "won_by",
                     won[d->won_by <= SB_POLICY_WON_ID ? d->won_by : 0], "reasons", reasons);
}

static int resolve(sb_db_conn *conn, sb_handler_op *o, const submit_input *in,
                   const sb_request_target *t, sb_policy_decision *d, json_t **snapshot,
                   sb_policy_loaded **loaded, sb_error *err)
{
    sb_policy_env_kind ek = SB_POLICY_ENV_UNSET;
    sb_policy_operation op = SB_POLICY_OP_UNSET;
    sb_policy_env_kind_parse(t->environment_kind, &ek, NULL);
    sb_policy_operation_parse(operation_of(in->kind), &op, NULL);
    sb_policy_context ctx = {t->project_id, t->team_id,       t->environment_id, ek,
                             t->provider_type, t->secret_ref, op};
    if (sb_policy_store_load(conn, t->project_id, loaded, err) != 0 ||
        sb_policy_resolve(sb_policy_loaded_set(*loaded), sb_tenancy_teams(o->who->tenancy), &ctx,
                          d, err) != 0)
        return -1;
    *snapshot = decision_json(d);
    if (d->invariant_violated) {
        char resource[64];
        snprintf(resource, sizeof resource, "policy_rule:%s", d->rule_id);
        json_t *det = json_pack("{s:s, s:s, s:s}", "rule", "I9", "environment_id",
                                t->environment_id, "operation", operation_of(in->kind));
        sb_api_audit_event ev = {"policy.invariant.violated", resource, "denied", "warning", det};
        int rc = sb_api_audit(conn, o->req, &ev, err);
        json_decref(det);
        if (rc != 0)
            return -1;
    }
    return 0;
}

static int justification_ok(const submit_input *in, const char *workflow_json, sb_error *err)
{
    json_t *w = json_loads(workflow_json, 0, NULL);
    bool required = !json_is_false(json_object_get(w, "require_justification"));
    json_decref(w);
    const char *j = in->justification ? in->justification : "";
    while (*j == ' ' || *j == '\t' || *j == '\n')
        j++;
    if (required && *j == '\0')
        return sb_error_set(err, SB_DOMAIN_E_INVALID,
                            "justification is required by the workflow: say why you need it");
    return 0;
}

#define PROD_REFUSAL                                                                               \
    "direct reveal is never allowed on a prod environment (I9); submit a read request for "        \
    "approval instead"

/* I9 before any policy lookup, outside the submit transaction so its audit
 * event stands on its own: a direct reveal on a binding the caller can see
 * whose environment is prod (kind and binding environment never change) is
 * refused and audited as request.direct_reveal.refused_prod. 1 when
 * answered with the refusal, 0 to go on, -1 after answering an error. */
static int refused_on_prod(sb_handler_op *o)
{
    sb_db_conn *conn;
    sb_row_set rows = {0};
    sb_error err = {0};
    if (sb_handler_op_acquire(o, &conn) != 0)
        return -1;
    int rc = sb_request_store_target(conn, o->ref, &rows, &err);
    sb_db_release(o->app->db, conn);
    if (rc < 0)
        return sb_api_respond_store_error(o->req, &err), -1;
    if (rc == 1)
        return 0; /* the transaction answers 404 */
    sb_request_target t;
    sb_request_store_target_at(&rows, &t);
    bool refuse = sb_handler_project_visible(o->who, t.project_id) &&
                  strcmp(t.environment_kind, "non_prod") != 0;
    if (refuse) {
        char resource[64];
        snprintf(resource, sizeof resource, "secret_binding:%s", t.binding_id);
        json_t *d = json_pack("{s:s, s:s, s:s}", "rule", "I9", "environment_id",
                              t.environment_id, "project_id", t.project_id);
        sb_api_audit_event ev = {"request.direct_reveal.refused_prod", resource, "denied",
                                 "warning", d};
        sb_api_audit_now(o->app, o->req, &ev);
        json_decref(d);
        sb_http_respond_error(o->req, 403, "forbidden", PROD_REFUSAL);
    }
    sb_row_set_free(&rows);
    return refuse ? 1 : 0;
}

static int submit_txn(sb_db_conn *conn, sb_handler_op *o, sb_error *err)
{
    sb_actor actor;
    submit_input *in = o->extra;
    sb_row_set target = {0}, row = {0};
    sb_policy_loaded *loaded = NULL;
    json_t *snapshot = NULL;
    int rc = sb_request_store_target(conn, o->ref, &target, err);
    if (rc != 0) {
        sb_row_set_free(&target);
        return rc < 0 ? -1 : sb_handler_op_hidden(err, "secret binding");
    }
    sb_request_target t;
    sb_request_store_target_at(&target, &t);
    sb_request_ctx mctx = {.env_is_prod = strcmp(t.environment_kind, "non_prod") != 0};
    sb_policy_decision d;
    sb_request_state state;
    uint32_t actions;
    rc = check_target(o, in, &t, err);
    if (rc == 0 && in->kind == SB_REQ_KIND_CROSS_TEAM && strcmp(in->target_team, t.team_id) == 0)
        rc = sb_error_set(err, SB_DOMAIN_E_INVALID,
                          "target_team_id is the project's own team; use a patch request");
    if (rc == 0 && in->kind == SB_REQ_KIND_DIRECT_REVEAL && mctx.env_is_prod)
        rc = sb_error_set(err, SB_DOMAIN_E_DENIED, PROD_REFUSAL); /* also checked before */
    if (rc == 0)
        rc = resolve(conn, o, in, &t, &d, &snapshot, &loaded, err);
    if (rc == 0) {
        mctx.direct_reveal_allowed = d.direct_reveal_allowed;
        rc = sb_request_submit_state(in->kind, &mctx, &state, &actions, err);
        if (rc != 0 && err->code == SB_DOMAIN_E_DENIED)
            sb_error_set(err, SB_DOMAIN_E_DENIED,
                         "no policy allows direct reveal of this secret here; submit a read "
                         "request for approval instead");
    }
    char *keys = rc == 0 ? json_dumps(in->keys, JSON_COMPACT) : NULL;
    char *policy = rc == 0 ? json_dumps(snapshot, JSON_COMPACT) : NULL;
    if (rc == 0) {
        sb_request_new n = {sb_request_kind_name(in->kind), sb_request_state_name(state),
                            o->who->user_id, in->justification ? in->justification : "",
                            t.project_id, t.environment_id, t.binding_id, t.catalog_secret_id,
                            t.connection_id, t.provider_type, t.secret_ref, keys,
                            operation_of(in->kind),
                            in->kind == SB_REQ_KIND_CROSS_TEAM ? in->target_team : NULL,
                            d.workflow_id, policy};
        rc = sb_request_store_insert(conn, &n, &row, err);
        if (rc == 1) /* the workflow went away between the policy load and the insert */
            rc = sb_error_set(err, SB_DB_E_CONFLICT,
                              "the workflow chosen by policy was just deleted; submit again");
    }
    if (rc == 0) {
        sb_request_row r;
        sb_request_store_at(&row, 0, &r);
        rc = justification_ok(in, r.workflow, err);
        sb_request_step step = {.event = SB_REQ_EV_SUBMIT, .sealed = in->sealed.values,
                                .n_sealed = in->sealed.n, .kms = o->app->kms};
        if (rc == 0)
            rc = sb_request_after_submit(conn, sb_api_request_actor(o->req, &actor), &row,
                                         actions, &step, err);
        if (rc == 0 && (actions & SB_REQ_ACT_RECORD_JOB_INTENT)) /* show job_recorded */
            rc = sb_request_store_get(conn, r.id, false, &o->rows, err) == 0 ? 0 : -1;
        else if (rc == 0) {
            o->rows = row; /* the inserted row is the answer */
            row = (sb_row_set){0};
        }
    }
    free(keys);
    free(policy);
    json_decref(snapshot);
    sb_policy_loaded_free(loaded);
    sb_row_set_free(&row);
    sb_row_set_free(&target);
    return rc;
}

/* ---- handlers ----------------------------------------------------------------- */

static int run(sb_handler_op *o, submit_input *in)
{
    o->extra = in;
    o->render = sb_request_json;
    o->ok_status = 201;
    int rc = sb_handler_op_run(o, submit_txn);
    input_free(in);
    return rc;
}

/* What both submits read besides their own fields: justification, keys,
 * the binding. -1 after answering. */
static int common_input(sb_handler_op *o, submit_input *in)
{
    bool has;
    in->justification = sb_handler_string(o->body, "justification");
    if (in->justification && sb_handler_chars(in->justification) > 2000)
        return sb_handler_invalid(o->req, "justification may be at most 2000 characters");
    if (read_keys(o->req, o->body, in) != 0)
        return -1;
    return sb_handler_op_body_ref(o, "binding_id", o->ref, &has);
}

static int submit(sb_server_request *req, void *ctx)
{
    static const sb_field_spec spec[] = {{"kind", SB_FIELD_STRING, 1},
                                         {"binding_id", SB_FIELD_STRING, 1},
                                         {"keys", SB_FIELD_STRING_ARRAY, 0},
                                         {"justification", SB_FIELD_STRING, 0}};
    sb_handler_op o;
    submit_input in = {0};
    json_t *sealed;
    sb_error err = {0};
    sb_handler_op_init(&o, req, ctx);
    if (sb_request_read_body(req, spec, 4, &o.body, &sealed) != 0)
        return 0;
    const char *kind = sb_handler_string(o.body, "kind");
    int rc = 0;
    if (sb_request_kind_parse(kind, &in.kind, &err) != 0 || in.kind == SB_REQ_KIND_CROSS_TEAM)
        rc = sb_handler_invalid(req, "kind must be \"read\", \"patch\" or \"direct_reveal\" "
                                         "(cross-team requests: POST /api/v1/requests/cross-team)");
    else if (in.kind == SB_REQ_KIND_PATCH && sealed == NULL) {
        sb_http_respond_error(req, 400, "missing_field",
                              "a patch needs sealed_values: each value sealed on the client to "
                              "the agents' public keys");
        rc = -1;
    } else if (in.kind != SB_REQ_KIND_PATCH && sealed != NULL)
        rc = sb_handler_invalid(req, "only a patch request carries sealed_values");
    if (rc == 0 && sealed && (rc = sb_request_read_sealed(req, sealed, &in.sealed)) == 0)
        in.keys = json_incref(in.sealed.keys);
    json_decref(sealed);
    if (rc == 0)
        rc = common_input(&o, &in);
    if (rc == 0 && in.kind == SB_REQ_KIND_DIRECT_REVEAL)
        rc = refused_on_prod(&o);
    if (rc != 0) {
        input_free(&in);
        return 0;
    }
    return run(&o, &in);
}

static int submit_cross_team(sb_server_request *req, void *ctx)
{
    static const sb_field_spec spec[] = {{"binding_id", SB_FIELD_STRING, 1},
                                         {"target_team_id", SB_FIELD_STRING, 1},
                                         {"keys", SB_FIELD_STRING_ARRAY, 1},
                                         {"justification", SB_FIELD_STRING, 0}};
    sb_handler_op o;
    submit_input in = {.kind = SB_REQ_KIND_CROSS_TEAM};
    json_t *sealed;
    bool has;
    sb_handler_op_init(&o, req, ctx);
    if (sb_request_read_body(req, spec, 4, &o.body, &sealed) != 0)
        return 0;
    int rc = 0;
    if (sealed)
        rc = sb_handler_invalid(req, "a cross-team request carries no values: the target "
                                         "team provides them with POST /requests/{id}/fill");
    json_decref(sealed);
    if (rc == 0)
        rc = common_input(&o, &in);
    if (rc == 0 && json_array_size(in.keys) == 0)
        rc = sb_handler_invalid(req, "keys must name the keys to provide");
    if (rc == 0)
        rc = sb_handler_op_body_ref(&o, "target_team_id", in.target_team, &has);
    if (rc == 0 && !sb_team_tree_contains(sb_tenancy_teams(o.who->tenancy), in.target_team))
        rc = sb_handler_invalid(req, "target_team_id names no team");
    if (rc != 0) {
        input_free(&in);
        return 0;
    }
    return run(&o, &in);
}

int sb_request_submit_routes(sb_router *r, sb_app *app, sb_error *err)
{
    const sb_route routes[] = {
        {"POST", "/api/v1/requests", SB_AUTH_SESSION, "secret.request", submit, app,
         "submitRequest",
         "Submit a read, patch (sealed values only) or direct_reveal request on a secret binding"},
        {"POST", "/api/v1/requests/cross-team", SB_AUTH_SESSION, "secret.request",
         submit_cross_team, app, "submitCrossTeamRequest",
         "Ask another team to provide values for keys of a secret bound to your project"},
    };
    return sb_router_add_all(r, routes, sizeof routes / sizeof routes[0], err);
}
