/*
 * api/policy_api.h — what the policy route files share
 * (api/policy_routes.c: the rules; api/policy_input.c: their bodies;
 * api/policy_settings.c: their history and the policy.reserved_priority
 * platform setting).
 *
 * Read visibility of a rule (decided here, documented in
 * docs/workflows-policies.md): a platform-anchored rule is visible to every
 * signed-in user (it governs everyone); a team- or project-anchored rule to
 * platform authors (policy.edit from a global grant) and to holders of
 * policy.author whose scope covers the anchor (a team grant on the team or
 * an ancestor; for a project also a project grant on it). Everything else
 * is answered like a missing rule (404).
 */
#ifndef SB_API_POLICY_API_H
#define SB_API_POLICY_API_H

#include "api/handler_kit.h"
#include "store/policy_store.h"

/* The body as parsed: what was given, with values checked for shape. */
typedef struct sb_policy_rule_patch {
    json_t *given; /* top-level field names */
    const char *name, *description, *anchor_type;
    char anchor_id[37], workflow_id[37], sel_project[37], sel_env[37];
    bool has_anchor, has_priority, has_selector, has_access, has_enabled;
    int priority;
    const char *sel_kind, *sel_provider, *sel_prefix, *sel_operation;
    bool direct_reveal, mfa, enabled;
    int reveal_ttl_s;
} sb_policy_rule_patch;
/* The body of a rule write (o->body, already checked against the field
 * table) into p (api/policy_input.c). -1 after answering 400/422. */
int sb_policy_api_read_patch(sb_handler_op *o, sb_policy_rule_patch *p);

bool sb_policy_api_platform_author(const sb_identity *who);
/* anchor_id NULL for platform. */
bool sb_policy_api_rule_visible(const sb_identity *who, const char *anchor_type,
                                const char *anchor_id);
/* The rule as the API shows it (also the audit details of its changes). */
json_t *sb_policy_api_rule_json(const sb_row_set *rows, size_t i);

/* GET /policy-rules/{id}/history and the platform-setting routes. */
int sb_policy_api_history(sb_server_request *req, void *ctx);
int sb_policy_settings_routes(sb_router *r, sb_app *app, sb_error *err);

#endif
