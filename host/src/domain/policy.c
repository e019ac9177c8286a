/* domain/policy.c — see policy.h. */
#include "domain/policy.h"

#include <string.h>

#include "domain/domain_error.h"

/* Wire names, indexed by the enums (tables over code). */
static const char *const operation_names[] = {NULL, "read", "patch", "reveal"};
static const char *const env_kind_names[] = {NULL, "non_prod", "prod"};
static const char *const anchor_names[] = {"platform", "team", "project"};
static const char *const provider_types[] = {"vault", "aws-sm", "gcp-sm", "azure-kv",
                                             "kubernetes"};
#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static bool set(const char *s)
{
    return s != NULL && s[0] != '\0';
}

static bool eq(const char *a, const char *b)
{
    return set(a) && set(b) && strcmp(a, b) == 0;
}

const char *sb_policy_operation_name(sb_policy_operation op)
{
    return (unsigned)op < COUNT(operation_names) ? operation_names[op] : NULL;
}

const char *sb_policy_env_kind_name(sb_policy_env_kind kind)
{
    return (unsigned)kind < COUNT(env_kind_names) ? env_kind_names[kind] : NULL;
}

const char *sb_policy_anchor_kind_name(sb_policy_anchor_kind kind)
{
    return (unsigned)kind < COUNT(anchor_names) ? anchor_names[kind] : NULL;
}

int sb_policy_operation_parse(const char *s, sb_policy_operation *out, sb_error *err)
{
    for (size_t i = 1; i < COUNT(operation_names); i++)
        if (s != NULL && strcmp(s, operation_names[i]) == 0) {
            *out = (sb_policy_operation)i;
            return 0;
        }
    return sb_error_set(err, SB_DOMAIN_E_INVALID,
                        "policy operation must be read, patch or reveal, got \"%.32s\"",
                        s ? s : "");
}

int sb_policy_env_kind_parse(const char *s, sb_policy_env_kind *out, sb_error *err)
{
    for (size_t i = 1; i < COUNT(env_kind_names); i++)
        if (s != NULL && strcmp(s, env_kind_names[i]) == 0) {
            *out = (sb_policy_env_kind)i;
            return 0;
        }
    return sb_error_set(err, SB_DOMAIN_E_INVALID,
                        "environment kind must be non_prod or prod, got \"%.32s\"", s ? s : "");
}

bool sb_policy_provider_type_known(const char *s)
{
    for (size_t i = 0; s != NULL && i < COUNT(provider_types); i++)
        if (strcmp(s, provider_types[i]) == 0)
            return true;
    return false;
}

/* ---- validation ---------------------------------------------------------- */

static int check_len(const char *what, const char *s, size_t max, sb_error *err)
{
    if (s != NULL && strnlen(s, max + 1) > max)
        return sb_error_set(err, SB_DOMAIN_E_INVALID, "policy rule: %s is longer than %zu bytes",
                            what, max);
    return 0;
}

/* Shape only: what resolution itself needs to be meaningful. */
static int check_structure(const sb_policy_rule *r, sb_error *err)
{
    if (r == NULL)
        return sb_error_set(err, SB_DOMAIN_E_INVALID, "policy rule: none given");
    if (!set(r->id))
        return sb_error_set(err, SB_DOMAIN_E_INVALID, "policy rule: id is empty");
    const char *anchor = sb_policy_anchor_kind_name(r->anchor.kind);
    if (anchor == NULL)
        return sb_error_set(err, SB_DOMAIN_E_INVALID, "policy rule %.*s: unknown anchor kind %d",
                            SB_POLICY_ID_MAX, r->id, (int)r->anchor.kind);
    if (r->anchor.kind == SB_POLICY_ANCHOR_PLATFORM && set(r->anchor.id))
        return sb_error_set(err, SB_DOMAIN_E_INVALID,
                            "policy rule %.*s: a platform-anchored rule takes no anchor id",
                            SB_POLICY_ID_MAX, r->id);
    if (r->anchor.kind != SB_POLICY_ANCHOR_PLATFORM && !set(r->anchor.id))
        return sb_error_set(err, SB_DOMAIN_E_INVALID,
                            "policy rule %.*s: a %s-anchored rule needs the %s id",
                            SB_POLICY_ID_MAX, r->id, anchor, anchor);
    return 0;
}

int sb_policy_rule_check(const sb_policy_rule *r, sb_error *err)
{
    if (check_structure(r, err) != 0)
        return -1;
    const sb_policy_selector *s = &r->selector;
    if (check_len("id", r->id, SB_POLICY_ID_MAX, err) != 0 ||
        check_len("anchor id", r->anchor.id, SB_POLICY_ID_MAX, err) != 0 ||
        check_len("workflow id", r->workflow_id, SB_POLICY_ID_MAX, err) != 0 ||
        check_len("selector project_id", s->project_id, SB_POLICY_ID_MAX, err) != 0 ||
        check_len("selector environment_id", s->environment_id, SB_POLICY_ID_MAX, err) != 0 ||
        check_len("selector secret_ref_prefix", s->secret_ref_prefix, SB_POLICY_SELECTOR_MAX,
                  err) != 0)
        return -1;
    if (!set(r->workflow_id))
        return sb_error_set(err, SB_DOMAIN_E_INVALID, "policy rule %s: workflow id is empty",
                            r->id);
    if (r->priority < SB_POLICY_PRIORITY_MIN || r->priority > SB_POLICY_PRIORITY_MAX)
        return sb_error_set(err, SB_DOMAIN_E_INVALID,
                            "policy rule %s: priority must be between %d and %d, got %d", r->id,
                            SB_POLICY_PRIORITY_MIN, SB_POLICY_PRIORITY_MAX, r->priority);
    if (sb_policy_env_kind_name(s->environment_kind) == NULL &&
        s->environment_kind != SB_POLICY_ENV_UNSET)
        return sb_error_set(err, SB_DOMAIN_E_INVALID,
                            "policy rule %s: selector environment_kind must be non_prod or prod "
                            "(got %d)",
                            r->id, (int)s->environment_kind);
    if (sb_policy_operation_name(s->operation) == NULL && s->operation != SB_POLICY_OP_UNSET)
        return sb_error_set(err, SB_DOMAIN_E_INVALID,
                            "policy rule %s: selector operation must be read, patch or reveal "
                            "(got %d)",
                            r->id, (int)s->operation);
    if (set(s->provider_type) && !sb_policy_provider_type_known(s->provider_type))
        return sb_error_set(err, SB_DOMAIN_E_INVALID,
                            "policy rule %s: selector provider_type \"%.*s\" is not one of vault, "
                            "aws-sm, gcp-sm, azure-kv, kubernetes",
                            r->id, SB_POLICY_PROVIDER_MAX, s->provider_type);
    if (r->anchor.kind == SB_POLICY_ANCHOR_PROJECT && set(s->project_id) &&
        strcmp(s->project_id, r->anchor.id) != 0)
        return sb_error_set(err, SB_DOMAIN_E_INVALID,
                            "policy rule %s: anchored on project %s but its selector pins project "
                            "%s, so it could never match",
                            r->id, r->anchor.id, s->project_id);
    if (r->access.reveal_ttl_s < SB_POLICY_REVEAL_TTL_MIN ||
        r->access.reveal_ttl_s > SB_POLICY_REVEAL_TTL_MAX)
        return sb_error_set(err, SB_DOMAIN_E_INVALID,
                            "policy rule %s: reveal_ttl_s must be between %d and %d seconds, got %d",
                            r->id, SB_POLICY_REVEAL_TTL_MIN, SB_POLICY_REVEAL_TTL_MAX,
                            r->access.reveal_ttl_s);
    return 0;
}

int sb_policy_check_authorable(const sb_policy_rule *r, const sb_policy_author *a, sb_error *err)
{
    if (a == NULL)
        return sb_error_set(err, SB_DOMAIN_E_INVALID, "policy author: none given");
    if (sb_policy_rule_check(r, err) != 0)
        return -1;
    if (a->is_platform_author)
        return 0;
    if (r->anchor.kind == SB_POLICY_ANCHOR_PLATFORM)
        return sb_error_set(err, SB_DOMAIN_E_DENIED,
                            "policy rule %s: scoped policy authors may not write platform-anchored "
                            "rules (needs global policy.edit)",
                            r->id);
    if (!a->anchor_in_scope)
        return sb_error_set(err, SB_DOMAIN_E_DENIED,
                            "policy rule %s: %s %s is outside your policy.author scope", r->id,
                            sb_policy_anchor_kind_name(r->anchor.kind), r->anchor.id);
    if (r->priority >= a->reserved_priority)
        return sb_error_set(err, SB_DOMAIN_E_DENIED,
                            "policy rule %s: priority %d is in the reserved band; scoped authors "
                            "must use a priority below %d",
                            r->id, r->priority, a->reserved_priority);
    if (r->selector.environment_kind != SB_POLICY_ENV_NON_PROD)
        return sb_error_set(err, SB_DOMAIN_E_DENIED,
                            "policy rule %s: scoped authors may only write non-prod rules; the "
                            "selector must pin environment_kind non_prod (it is %s)",
                            r->id,
                            r->selector.environment_kind == SB_POLICY_ENV_PROD ? "prod" : "unset");
    return 0;
}

/* ---- resolution ---------------------------------------------------------- */

bool sb_policy_direct_reveal_refused(const sb_policy_context *ctx)
{
    return ctx == NULL || ctx->environment_kind != SB_POLICY_ENV_NON_PROD;
}

/* The workflow's enabled flag; false for an unknown id. */
static bool workflow_enabled(const sb_policy_set *set_, const char *id, bool *known)
{
    for (size_t i = 0; i < set_->n_workflows; i++)
        if (eq(set_->workflows[i].id, id)) {
            if (known != NULL)
                *known = true;
            return set_->workflows[i].enabled;
        }
    if (known != NULL)
        *known = false;
    return false;
}

/* Does the anchor cover ctx? *distance = levels from the project's team up to
 * a TEAM anchor (0 otherwise). */
static bool anchor_covers(const sb_policy_anchor *a, const sb_team_tree *tree,
                          const sb_policy_context *ctx, size_t *distance)
{
    *distance = 0;
    switch (a->kind) {
    case SB_POLICY_ANCHOR_PLATFORM:
        return true;
    case SB_POLICY_ANCHOR_PROJECT:
        return eq(a->id, ctx->project_id);
    case SB_POLICY_ANCHOR_TEAM:
        if (tree == NULL || !set(ctx->project_id) || !set(ctx->team_id) ||
            !sb_team_tree_in_subtree(tree, a->id, ctx->team_id))
            return false;
        *distance = sb_team_tree_depth(tree, ctx->team_id) - sb_team_tree_depth(tree, a->id);
        return true;
    }
    return false;
}

static bool selector_matches(const sb_policy_selector *s, const sb_policy_context *ctx)
{
    if (set(s->project_id) && !eq(s->project_id, ctx->project_id))
        return false;
    if (set(s->environment_id) && !eq(s->environment_id, ctx->environment_id))
        return false;
    if (s->environment_kind != SB_POLICY_ENV_UNSET && s->environment_kind != ctx->environment_kind)
        return false;
    if (set(s->provider_type) && !eq(s->provider_type, ctx->provider_type))
        return false;
    if (s->operation != SB_POLICY_OP_UNSET && s->operation != ctx->operation)
        return false;
    if (set(s->secret_ref_prefix) &&
        (!set(ctx->secret_ref) ||
         strncmp(ctx->secret_ref, s->secret_ref_prefix, strlen(s->secret_ref_prefix)) != 0))
        return false;
    return true;
}

typedef struct candidate {
    const sb_policy_rule *rule;
    size_t distance;
} candidate;

/* < 0 when a outranks b; the magnitude is the sb_policy_won_by key that
 * decided it (0 only for the same rule). */
static int outranks(const candidate *a, const candidate *b)
{
    const sb_policy_rule *x = a->rule, *y = b->rule;
    if (x->priority != y->priority)
        return x->priority > y->priority ? -SB_POLICY_WON_PRIORITY : SB_POLICY_WON_PRIORITY;
    if (x->anchor.kind != y->anchor.kind)
        return x->anchor.kind > y->anchor.kind ? -SB_POLICY_WON_SPECIFICITY
                                               : SB_POLICY_WON_SPECIFICITY;
    if (a->distance != b->distance)
        return a->distance < b->distance ? -SB_POLICY_WON_ANCESTRY : SB_POLICY_WON_ANCESTRY;
    if (x->created_order != y->created_order)
        return x->created_order < y->created_order ? -SB_POLICY_WON_AGE : SB_POLICY_WON_AGE;
    int c = strcmp(x->id, y->id);
    return c < 0 ? -SB_POLICY_WON_ID : c > 0 ? SB_POLICY_WON_ID : 0;
}

static int clamp_ttl(int ttl)
{
    if (ttl == 0)
        return SB_POLICY_REVEAL_TTL_DEFAULT;
    if (ttl < SB_POLICY_REVEAL_TTL_MIN)
        return SB_POLICY_REVEAL_TTL_MIN;
    return ttl > SB_POLICY_REVEAL_TTL_MAX ? SB_POLICY_REVEAL_TTL_MAX : ttl;
}

int sb_policy_resolve(const sb_policy_set *pset, const sb_team_tree *tree,
                      const sb_policy_context *ctx, sb_policy_decision *out, sb_error *err)
{
    if (pset == NULL || ctx == NULL || out == NULL || (pset->n_rules > 0 && pset->rules == NULL) ||
        (pset->n_workflows > 0 && pset->workflows == NULL))
        return sb_error_set(err, SB_DOMAIN_E_INVALID, "policy resolve: missing argument");
    bool known = false;
    bool default_enabled = workflow_enabled(pset, pset->default_workflow_id, &known);
    if (!known)
        return sb_error_set(err, SB_DOMAIN_E_NOT_FOUND,
                            "policy resolve: the default workflow \"%.*s\" does not exist",
                            SB_POLICY_ID_MAX,
                            pset->default_workflow_id ? pset->default_workflow_id : "");
    if (!default_enabled)
        return sb_error_set(err, SB_DOMAIN_E_INVALID,
                            "policy resolve: the default workflow %.*s is disabled",
                            SB_POLICY_ID_MAX, pset->default_workflow_id);

    sb_policy_decision d = {0};
    candidate best = {NULL, 0};
    for (size_t i = 0; i < pset->n_rules; i++) {
        const sb_policy_rule *r = &pset->rules[i];
        if (check_structure(r, err) != 0)
            return -1;
        candidate c = {r, 0};
        if (!anchor_covers(&r->anchor, tree, ctx, &c.distance) ||
            !selector_matches(&r->selector, ctx))
            continue;
        if (!workflow_enabled(pset, r->workflow_id, NULL)) {
            d.skipped++;
            continue;
        }
        d.candidates++;
        if (best.rule == NULL || outranks(&c, &best) < 0)
            best = c;
    }
    if (d.skipped > 0)
        d.reasons |= SB_POLICY_REASON_WORKFLOW_SKIPPED;

    if (best.rule == NULL) {
        d.workflow_id = pset->default_workflow_id;
        d.mfa_required = true;
        d.reveal_ttl_s = SB_POLICY_REVEAL_TTL_DEFAULT;
        d.reasons |= SB_POLICY_REASON_DEFAULT_FALLBACK;
        d.won_by = SB_POLICY_WON_NONE;
    } else {
        d.workflow_id = best.rule->workflow_id;
        d.rule_id = best.rule->id;
        d.direct_reveal_allowed = best.rule->access.direct_reveal_allowed;
        d.mfa_required = best.rule->access.mfa_required;
        d.reveal_ttl_s = clamp_ttl(best.rule->access.reveal_ttl_s);
        d.reasons |= SB_POLICY_REASON_RULE_MATCHED;
        /* The key that beat the closest competitor: the largest deciding key
         * over all other candidates (second pass; candidates are few). */
        d.won_by = SB_POLICY_WON_ONLY_CANDIDATE;
        for (size_t i = 0; i < pset->n_rules; i++) {
            const sb_policy_rule *r = &pset->rules[i];
            candidate c = {r, 0};
            if (r == best.rule || !anchor_covers(&r->anchor, tree, ctx, &c.distance) ||
                !selector_matches(&r->selector, ctx) ||
                !workflow_enabled(pset, r->workflow_id, NULL))
                continue;
            int key = -outranks(&best, &c);
            if (key > (int)d.won_by)
                d.won_by = (sb_policy_won_by)key;
        }
    }

    /* I9: direct reveal only on a known non-prod environment. */
    if (sb_policy_direct_reveal_refused(ctx)) {
        d.invariant_applied = true;
        d.invariant_violated = d.direct_reveal_allowed;
        d.direct_reveal_allowed = false;
        d.reasons |= SB_POLICY_REASON_PROD_INVARIANT;
    }
    *out = d;
    return 0;
}
