/*
 * api/policy_input.c — the body of a policy-rule write, parsed and checked
 * for shape (see policy_api.h, sb_policy_api_read_patch): the nested anchor,
 * selector and access objects with only their known members, UUIDs,
 * enumerations and ranges. What the values mean (scope, the reserved band,
 * references) is checked in the transaction by policy_routes.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/policy_api.h"
#include "domain/policy.h"

static int bad_member(sb_server_request *req, const char *obj, const char *key, const char *want)
{
    return sb_http_respond_error(req, 400, "invalid_field", "field \"%s.%s\" must be %s", obj, key,
                                 want),
           -1;
}

/* Members of a nested object: only known keys, each of its type. */
static int check_members(sb_server_request *req, const char *obj_name, json_t *obj,
                         const char *const *keys, const sb_field_type *types, size_t n,
                         const char *accepted)
{
    const char *key;
    json_t *v;
    json_object_foreach(obj, key, v)
    {
        size_t i = 0;
        while (i < n && strcmp(keys[i], key) != 0)
            i++;
        if (i == n)
            return sb_http_respond_error(req, 400, "unknown_field",
                                         "unknown field \"%s.%.64s\"; %s accepts: %s", obj_name,
                                         key, obj_name, accepted),
                   -1;
        if (types[i] == SB_FIELD_STRING_OR_NULL && !json_is_string(v) && !json_is_null(v))
            return bad_member(req, obj_name, key, "a string or null");
        if (types[i] == SB_FIELD_BOOLEAN && !json_is_boolean(v))
            return bad_member(req, obj_name, key, "true or false");
        if (types[i] == SB_FIELD_INTEGER && !json_is_integer(v))
            return bad_member(req, obj_name, key, "an integer");
    }
    return 0;
}

/* A UUID member (null/absent: out ""); 422 when it is not one. */
static int uuid_member(sb_server_request *req, json_t *obj, const char *key, const char *label,
                       char out[37])
{
    const char *s = json_string_value(json_object_get(obj, key));
    out[0] = '\0';
    if (s && !sb_rows_uuid(s, out))
        return sb_handler_invalid(req, "%s must be a UUID", label);
    return 0;
}

static int read_anchor(sb_server_request *req, json_t *a, sb_policy_rule_patch *p)
{
    static const char *const keys[] = {"type", "id"};
    static const sb_field_type types[] = {SB_FIELD_STRING_OR_NULL, SB_FIELD_STRING_OR_NULL};
    if (check_members(req, "anchor", a, keys, types, 2, "type, id") != 0)
        return -1;
    p->has_anchor = true;
    p->anchor_type = json_string_value(json_object_get(a, "type"));
    if (p->anchor_type == NULL)
        return sb_http_respond_error(req, 400, "missing_field", "field \"anchor.type\" is required"),
               -1;
    bool platform = strcmp(p->anchor_type, "platform") == 0;
    if (!platform && strcmp(p->anchor_type, "team") != 0 && strcmp(p->anchor_type, "project") != 0)
        return sb_handler_invalid(req, "anchor.type must be platform, team or project");
    if (uuid_member(req, a, "id", "anchor.id", p->anchor_id) != 0)
        return -1;
    if (platform && p->anchor_id[0])
        return sb_handler_invalid(req, "anchor.id must be absent or null for a platform "
                                           "anchor");
    if (!platform && !p->anchor_id[0])
        return sb_handler_invalid(req, "anchor.id is required for a %s anchor (the %s's id)",
                                      p->anchor_type, p->anchor_type);
    return 0;
}

/* A selector string member: absent/null = any; "" is refused. */
static int selector_text(sb_server_request *req, json_t *s, const char *key, const char **out)
{
    *out = json_string_value(json_object_get(s, key));
    if (*out && !(*out)[0])
        return sb_handler_invalid(req, "selector.%s must not be empty; omit it or give null "
                                           "to match any",
                                      key);
    return 0;
}

static int read_selector(sb_server_request *req, json_t *s, sb_policy_rule_patch *p)
{
    static const char *const keys[] = {"project_id",    "environment_id",    "environment_kind",
                                       "provider_type", "secret_ref_prefix", "operation"};
    static const sb_field_type types[] = {SB_FIELD_STRING_OR_NULL, SB_FIELD_STRING_OR_NULL,
                                          SB_FIELD_STRING_OR_NULL, SB_FIELD_STRING_OR_NULL,
                                          SB_FIELD_STRING_OR_NULL, SB_FIELD_STRING_OR_NULL};
    if (check_members(req, "selector", s, keys, types, 6,
                      "project_id, environment_id, environment_kind, provider_type, "
                      "secret_ref_prefix, operation") != 0)
        return -1;
    p->has_selector = true;
    sb_error err = {0};
    sb_policy_env_kind kind;
    sb_policy_operation op;
    if (uuid_member(req, s, "project_id", "selector.project_id", p->sel_project) != 0 ||
        uuid_member(req, s, "environment_id", "selector.environment_id", p->sel_env) != 0 ||
        selector_text(req, s, "environment_kind", &p->sel_kind) != 0 ||
        selector_text(req, s, "provider_type", &p->sel_provider) != 0 ||
        selector_text(req, s, "secret_ref_prefix", &p->sel_prefix) != 0 ||
        selector_text(req, s, "operation", &p->sel_operation) != 0)
        return -1;
    if (p->sel_kind && sb_policy_env_kind_parse(p->sel_kind, &kind, &err) != 0)
        return sb_handler_invalid(req, "selector.environment_kind: %s", err.message);
    if (p->sel_operation && sb_policy_operation_parse(p->sel_operation, &op, &err) != 0)
        return sb_handler_invalid(req, "selector.operation: %s", err.message);
    return 0;
}

static int read_access(sb_server_request *req, json_t *a, sb_policy_rule_patch *p)
{
    static const char *const keys[] = {"direct_reveal_allowed", "mfa_required", "reveal_ttl_s"};
    static const sb_field_type types[] = {SB_FIELD_BOOLEAN, SB_FIELD_BOOLEAN, SB_FIELD_INTEGER};
    if (check_members(req, "access", a, keys, types, 3,
                      "direct_reveal_allowed, mfa_required, reveal_ttl_s") != 0)
        return -1;
    p->has_access = true;
    p->direct_reveal = json_is_true(json_object_get(a, "direct_reveal_allowed"));
    p->mfa = json_is_true(json_object_get(a, "mfa_required"));
    json_t *ttl = json_object_get(a, "reveal_ttl_s");
    long long v = ttl ? json_integer_value(ttl) : SB_POLICY_REVEAL_TTL_DEFAULT;
    if (v < SB_POLICY_REVEAL_TTL_MIN || v > SB_POLICY_REVEAL_TTL_MAX)
        return sb_handler_invalid(req, "access.reveal_ttl_s must be between %d and %d seconds",
                                      SB_POLICY_REVEAL_TTL_MIN, SB_POLICY_REVEAL_TTL_MAX);
    p->reveal_ttl_s = (int)v;
    return 0;
}

int sb_policy_api_read_patch(sb_handler_op *o, sb_policy_rule_patch *p)
{
    json_t *b = o->body, *v;
    const char *key;
    p->given = json_array();
    json_object_foreach(b, key, v) json_array_append_new(p->given, json_string(key));
    p->name = sb_handler_string(b, "name");
    p->description = sb_handler_string(b, "description");
    if (p->name && (!p->name[0] || sb_handler_chars(p->name) > 120))
        return sb_handler_invalid(o->req, "name must be 1..120 characters");
    if (sb_handler_check_description(o->req, p->description) != 0)
        return -1;
    if ((v = json_object_get(b, "priority")) != NULL) {
        long long pr = json_integer_value(v);
        if (pr < SB_POLICY_PRIORITY_MIN || pr > SB_POLICY_PRIORITY_MAX)
            return sb_handler_invalid(o->req, "priority must be between %d and %d",
                                          SB_POLICY_PRIORITY_MIN, SB_POLICY_PRIORITY_MAX);
        p->has_priority = true;
        p->priority = (int)pr;
    }
    if ((v = json_object_get(b, "enabled")) != NULL) {
        p->has_enabled = true;
        p->enabled = json_is_true(v);
    }
    if (uuid_member(o->req, b, "workflow_id", "workflow_id", p->workflow_id) != 0)
        return -1;
    if ((v = json_object_get(b, "anchor")) != NULL && read_anchor(o->req, v, p) != 0)
        return -1;
    if ((v = json_object_get(b, "selector")) != NULL && read_selector(o->req, v, p) != 0)
        return -1;
    if ((v = json_object_get(b, "access")) != NULL && read_access(o->req, v, p) != 0)
        return -1;
    return 0;
}

