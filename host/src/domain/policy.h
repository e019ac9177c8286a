/*
 * domain/policy.h — the policy engine: which workflow and access flags apply
 * to a secret request, and which rules a scoped author may write.
 *
 * Contract: pure functions over plain inputs the store loads (the rules, the
 * workflows' {id, enabled}, the team tree) — no I/O, no clock. The decision
 * borrows id strings from the inputs; keep them alive while using it.
 *
 * Resolution (sb_policy_resolve). A rule is a candidate when
 *   1. its anchor covers the context:
 *        PLATFORM        always;
 *        TEAM(T)         the context has a project and the project's team is
 *                        T or a descendant of T (rules cascade down the
 *                        subtree; a sibling team's rules never match);
 *        PROJECT(P)      the context's project is P;
 *   2. every selector it sets matches the context: secret_ref_prefix is a
 *      prefix of the secret ref; project, environment, environment kind,
 *      provider type and operation are compared exactly. A selector whose
 *      context field is unknown (NULL/""/UNSET) does not match — unset
 *      selectors are wildcards, unknown context is not;
 *   3. its workflow is enabled (a disabled or unknown workflow skips the
 *      rule; the decision reports SB_POLICY_REASON_WORKFLOW_SKIPPED).
 * The winner is the candidate with the highest priority, then the most
 * specific anchor (project > team > platform), then the nearest team anchor
 * (fewest levels above the project's team), then the oldest (smallest
 * created_order), then the smallest id (so the order is total). With no
 * candidate the default workflow applies with no access: direct reveal
 * refused, MFA required, the default reveal TTL.
 *
 * Prod invariant (SPEC I9): direct reveal is never allowed on a prod
 * environment. The API refuses a direct reveal when
 * sb_policy_direct_reveal_refused(ctx) before any policy lookup, and the
 * engine forces direct_reveal_allowed false whatever the rule says, setting
 * invariant_applied (and invariant_violated when the winning rule asked for
 * direct reveal — the API audits policy.invariant.violated then). Failing
 * closed, an environment whose kind is unknown counts as prod here: direct
 * reveal needs a known non_prod environment.
 *
 * Authoring (sb_policy_rule_check, sb_policy_check_authorable). Every rule
 * written is validated (anchor/id shape, priority, TTL, enum values, string
 * lengths, provider types). A platform author (global policy.edit) may then
 * write anything; a scoped author (policy.author) only TEAM/PROJECT-anchored
 * rules inside their scope (the caller's RBAC answer, passed as a flag),
 * pinned to environment_kind non_prod, with priority below the live reserved
 * band (priority < reserved_priority).
 */
#ifndef SB_DOMAIN_POLICY_H
#define SB_DOMAIN_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "domain/team_tree.h"
#include "util/error.h"

#define SB_POLICY_PRIORITY_MIN (-10000)
#define SB_POLICY_PRIORITY_MAX 10000
/* Platform setting default: scoped authors write priorities below this. */
#define SB_POLICY_RESERVED_PRIORITY_DEFAULT 9000
#define SB_POLICY_REVEAL_TTL_MIN 10
#define SB_POLICY_REVEAL_TTL_MAX 300
#define SB_POLICY_REVEAL_TTL_DEFAULT 60
#define SB_POLICY_ID_MAX 128        /* rule, workflow, team, project, environment ids */
#define SB_POLICY_SELECTOR_MAX 512  /* secret_ref_prefix */
#define SB_POLICY_PROVIDER_MAX 32

typedef enum sb_policy_anchor_kind {
    SB_POLICY_ANCHOR_PLATFORM = 0,
    SB_POLICY_ANCHOR_TEAM = 1,
    SB_POLICY_ANCHOR_PROJECT = 2,
} sb_policy_anchor_kind;

typedef struct sb_policy_anchor {
    sb_policy_anchor_kind kind;
    const char *id; /* NULL for PLATFORM; the team or project id otherwise */
} sb_policy_anchor;

/* 0 = unset: a wildcard in a selector, unknown in a context. */
typedef enum sb_policy_env_kind {
    SB_POLICY_ENV_UNSET = 0,
    SB_POLICY_ENV_NON_PROD = 1,
    SB_POLICY_ENV_PROD = 2,
} sb_policy_env_kind;

typedef enum sb_policy_operation {
    SB_POLICY_OP_UNSET = 0,
    SB_POLICY_OP_READ = 1,
    SB_POLICY_OP_PATCH = 2,
    SB_POLICY_OP_REVEAL = 3,
} sb_policy_operation;

/* Every field optional: NULL or "" / UNSET is a wildcard. */
typedef struct sb_policy_selector {
    const char *project_id;
    const char *environment_id;
    sb_policy_env_kind environment_kind;
    const char *provider_type; /* vault | aws-sm | gcp-sm | azure-kv | kubernetes */
    const char *secret_ref_prefix;
    sb_policy_operation operation;
} sb_policy_selector;

typedef struct sb_policy_access {
    bool direct_reveal_allowed;
    bool mfa_required;
    int reveal_ttl_s; /* SB_POLICY_REVEAL_TTL_MIN .. _MAX */
} sb_policy_access;

typedef struct sb_policy_rule {
    const char *id;
    sb_policy_anchor anchor;
    int priority;          /* higher wins */
    int64_t created_order; /* smaller = older; the last tie-break before id */
    const char *workflow_id;
    sb_policy_selector selector;
    sb_policy_access access;
} sb_policy_rule;

typedef struct sb_policy_workflow {
    const char *id;
    bool enabled;
} sb_policy_workflow;

/* What the store loads for a resolution. default_workflow_id must name an
 * enabled workflow of the list (else resolution fails: a server error). */
typedef struct sb_policy_set {
    const sb_policy_rule *rules;
    size_t n_rules;
    const sb_policy_workflow *workflows;
    size_t n_workflows;
    const char *default_workflow_id;
} sb_policy_set;

/* The request being decided. Unknown fields: NULL / "" / UNSET. */
typedef struct sb_policy_context {
    const char *project_id; /* no project: only platform rules apply */
    const char *team_id;    /* the project's owning team */
    const char *environment_id;
    sb_policy_env_kind environment_kind;
    const char *provider_type;
    const char *secret_ref;
    sb_policy_operation operation;
} sb_policy_context;

/* Bits of sb_policy_decision.reasons. */
enum {
    SB_POLICY_REASON_RULE_MATCHED = 1u << 0,     /* a rule won */
    SB_POLICY_REASON_DEFAULT_FALLBACK = 1u << 1, /* no candidate: default workflow, no access */
    SB_POLICY_REASON_WORKFLOW_SKIPPED = 1u << 2, /* a matching rule's workflow was disabled/unknown */
    SB_POLICY_REASON_PROD_INVARIANT = 1u << 3,   /* direct reveal forced off (I9) */
};

/* Which ordering key separated the winner from its closest competitor. */
typedef enum sb_policy_won_by {
    SB_POLICY_WON_NONE = 0,        /* default fallback */
    SB_POLICY_WON_ONLY_CANDIDATE,
    SB_POLICY_WON_PRIORITY,
    SB_POLICY_WON_SPECIFICITY,
    SB_POLICY_WON_ANCESTRY,
    SB_POLICY_WON_AGE,
    SB_POLICY_WON_ID,
} sb_policy_won_by;

typedef struct sb_policy_decision {
    const char *workflow_id; /* into the policy set */
    const char *rule_id;     /* the winning rule, NULL for the default fallback */
    bool direct_reveal_allowed;
    bool mfa_required;
    int reveal_ttl_s;
    bool invariant_applied;  /* the environment is prod (or of unknown kind) */
    bool invariant_violated; /* ... and the winning rule asked for direct reveal */
    unsigned reasons;        /* SB_POLICY_REASON_* bits */
    sb_policy_won_by won_by;
    size_t candidates; /* rules that matched with an enabled workflow */
    size_t skipped;    /* rules that matched but whose workflow was disabled/unknown */
} sb_policy_decision;

/*
 * Resolves ctx against set. 0 and *out filled; -1 with SB_DOMAIN_E_INVALID
 * for a NULL argument or a structurally broken rule (empty id, unknown anchor
 * kind, TEAM/PROJECT anchor without id), SB_DOMAIN_E_NOT_FOUND when the
 * default workflow is missing, SB_DOMAIN_E_INVALID when it is disabled.
 * tree may be NULL (then no team rule applies). A stored reveal TTL outside
 * 10..300 is clamped (0 means the default). O(rules * (workflows + depth)).
 */
int sb_policy_resolve(const sb_policy_set *set, const sb_team_tree *tree,
                      const sb_policy_context *ctx, sb_policy_decision *out, sb_error *err);

/* True when a direct reveal must be refused before any policy lookup: the
 * environment is prod, or its kind is unknown (NULL ctx included). */
bool sb_policy_direct_reveal_refused(const sb_policy_context *ctx);

/* 0 when rule is well formed; else -1 with SB_DOMAIN_E_INVALID naming the
 * field. A PROJECT-anchored rule whose selector pins another project is
 * refused (it could never match). */
int sb_policy_rule_check(const sb_policy_rule *rule, sb_error *err);

typedef struct sb_policy_author {
    bool is_platform_author; /* holds policy.edit globally: unrestricted */
    bool anchor_in_scope;    /* holds policy.author at the rule's anchor (team subtree / project) */
    int reserved_priority;   /* live platform setting (SB_POLICY_RESERVED_PRIORITY_DEFAULT) */
} sb_policy_author;

/* sb_policy_rule_check, then the scoped-author confinement: -1 with
 * SB_DOMAIN_E_DENIED naming the violated constraint. */
int sb_policy_check_authorable(const sb_policy_rule *rule, const sb_policy_author *author,
                               sb_error *err);

/* Wire names ("read", "non_prod", "team", ...) both ways; parse returns -1
 * (SB_DOMAIN_E_INVALID) for an unknown name, name returns NULL out of range. */
int sb_policy_operation_parse(const char *s, sb_policy_operation *out, sb_error *err);
const char *sb_policy_operation_name(sb_policy_operation op);
int sb_policy_env_kind_parse(const char *s, sb_policy_env_kind *out, sb_error *err);
const char *sb_policy_env_kind_name(sb_policy_env_kind kind);
const char *sb_policy_anchor_kind_name(sb_policy_anchor_kind kind);
bool sb_policy_provider_type_known(const char *s);

#endif
