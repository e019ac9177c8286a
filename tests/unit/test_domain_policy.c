/*
 * tests/unit/test_domain_policy.c — the policy engine (host/src/domain/policy.c):
 * a table of resolutions (priority, specificity, team ancestry and cascade,
 * sibling isolation, project isolation, every selector incl. prefix
 * non-matches, disabled/unknown workflows, default fallback with no access,
 * created_order and id tie-breaks, the prod invariant), a table of
 * authorable-rule checks (reserved band, scope, non-prod pin, platform
 * anchor), rule validation with exact messages, and resolve's errors.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "domain/domain_error.h"
#include "domain/policy.h"
#include "domain/team_tree.h"

/* The table rows override RULE()'s default access/anchor with designated
 * initializers on purpose. */
#if defined(__clang__)
#pragma clang diagnostic ignored "-Winitializer-overrides"
#else
#pragma GCC diagnostic ignored "-Woverride-init"
#endif

/*
 *   root ─┬─ eng ─┬─ payments ── payments-eu
 *         │       └─ search
 *         └─ ops
 * projects: proj-pay (payments), proj-eu (payments-eu), proj-search (search),
 *           proj-ops (ops), proj-orphan (team "ghost", not in the tree).
 */
static const sb_team_edge org[] = {
    {"root", NULL},        {"eng", "root"}, {"payments", "eng"},
    {"payments-eu", "payments"}, {"search", "eng"}, {"ops", "root"},
};

static const sb_policy_workflow workflows[] = {
    {"wf-default", true}, {"wf-std", true}, {"wf-fast", true},
    {"wf-strict", true},  {"wf-off", false},
};
#define N(a) (sizeof(a) / sizeof((a)[0]))

#define PLATFORM {SB_POLICY_ANCHOR_PLATFORM, NULL}
#define TEAM(t) {SB_POLICY_ANCHOR_TEAM, t}
#define PLATFORM_WITH_ID(x) {SB_POLICY_ANCHOR_PLATFORM, x}
#define PROJECT(p) {SB_POLICY_ANCHOR_PROJECT, p}
#define NOACCESS {false, true, 60}
#define RULE(id_, anchor_, prio, order, wf, ...)                                                   \
    {.id = id_, .anchor = anchor_, .priority = prio, .created_order = order, .workflow_id = wf,    \
     .access = NOACCESS, __VA_ARGS__}

/* ---- rule sets ----------------------------------------------------------- */

static const sb_policy_rule rs_empty[1];

/* One rule per anchor level, same priority: specificity decides. */
static const sb_policy_rule rs_levels[] = {
    RULE("p-all", PLATFORM, 0, 1, "wf-std"),
    RULE("t-eng", TEAM("eng"), 0, 2, "wf-strict"),
    RULE("pj-pay", PROJECT("proj-pay"), 0, 3, "wf-fast"),
};

/* Priority beats specificity. */
static const sb_policy_rule rs_priority[] = {
    RULE("pj-low", PROJECT("proj-pay"), 10, 1, "wf-fast"),
    RULE("p-high", PLATFORM, 100, 2, "wf-std"),
    RULE("t-mid", TEAM("payments"), 50, 3, "wf-strict"),
};

/* Same priority and anchor: created_order, then id. */
static const sb_policy_rule rs_age[] = {
    RULE("p-young", PLATFORM, 5, 30, "wf-std"),
    RULE("p-old", PLATFORM, 5, 10, "wf-fast"),
    RULE("p-low", PLATFORM, 1, 1, "wf-strict"),
};
static const sb_policy_rule rs_id_tie[] = {
    RULE("p-b", PLATFORM, 5, 10, "wf-std"),
    RULE("p-a", PLATFORM, 5, 10, "wf-fast"),
};

/* Team rules at every level: the nearest ancestor wins. */
static const sb_policy_rule rs_ancestry[] = {
    RULE("t-root", TEAM("root"), 0, 1, "wf-std"),
    RULE("t-eng", TEAM("eng"), 0, 2, "wf-strict"),
    RULE("t-pay", TEAM("payments"), 0, 3, "wf-fast"),
    RULE("t-search", TEAM("search"), 0, 4, "wf-default"),
};
/* A far ancestor with higher priority beats a near one. */
static const sb_policy_rule rs_ancestry_prio[] = {
    RULE("t-pay", TEAM("payments"), 0, 1, "wf-fast"),
    RULE("t-root", TEAM("root"), 5, 2, "wf-std"),
};
/* Only a sibling team's rule. */
static const sb_policy_rule rs_sibling[] = {
    RULE("t-search", TEAM("search"), 100, 1, "wf-fast", .access = {true, false, 200}),
};

static const sb_policy_rule rs_selectors[] = {
    RULE("p-all", PLATFORM, 0, 1, "wf-default"),
    RULE("s-prefix", PLATFORM, 10, 2, "wf-fast", .selector.secret_ref_prefix = "kv/payments/",
         .access = {true, false, 120}),
    RULE("s-reveal-vault", PLATFORM, 20, 3, "wf-strict", .selector.operation = SB_POLICY_OP_REVEAL,
         .selector.provider_type = "vault", .access = {false, true, 30}),
    RULE("s-prod", PLATFORM, 30, 4, "wf-strict", .selector.environment_kind = SB_POLICY_ENV_PROD,
         .access = {false, true, 15}),
    RULE("s-env", PLATFORM, 40, 5, "wf-std", .selector.environment_id = "env-staging",
         .access = {false, false, 45}),
    RULE("s-patch", PLATFORM, 5, 6, "wf-std", .selector.operation = SB_POLICY_OP_PATCH,
         .access = {false, false, 50}),
    RULE("s-proj-sel", PLATFORM, 8, 7, "wf-strict", .selector.project_id = "proj-search",
         .access = {false, false, 70}),
};

/* Higher-priority rules whose workflow is disabled or unknown are skipped. */
static const sb_policy_rule rs_disabled[] = {
    RULE("d-off", PLATFORM, 100, 1, "wf-off", .access = {true, false, 300}),
    RULE("d-ghost", PLATFORM, 90, 2, "wf-nonexistent"),
    RULE("d-on", PLATFORM, 1, 3, "wf-std", .access = {true, false, 90}),
};
static const sb_policy_rule rs_only_disabled[] = {
    RULE("d-off", PROJECT("proj-pay"), 100, 1, "wf-off", .access = {true, false, 300}),
};

/* A project rule that asks for direct reveal. */
static const sb_policy_rule rs_allow[] = {
    RULE("p-all", PLATFORM, 0, 1, "wf-std"),
    RULE("pj-allow", PROJECT("proj-pay"), 0, 2, "wf-fast", .access = {true, false, 90}),
    RULE("t-eu-allow", TEAM("payments-eu"), 0, 3, "wf-fast", .access = {true, true, 200}),
};

/* ---- resolution table ---------------------------------------------------- */

#define CTX(proj, team, env, kind, prov, ref, op)                                                  \
    {.project_id = proj, .team_id = team, .environment_id = env, .environment_kind = kind,         \
     .provider_type = prov, .secret_ref = ref, .operation = op}
#define NP SB_POLICY_ENV_NON_PROD
#define PROD SB_POLICY_ENV_PROD
#define UNK SB_POLICY_ENV_UNSET
#define RD SB_POLICY_OP_READ
#define PA SB_POLICY_OP_PATCH
#define RV SB_POLICY_OP_REVEAL
#define PAY(kind, op) CTX("proj-pay", "payments", "env-dev", kind, "aws-sm", "kv/x", op)
#define SEL(env, kind, prov, ref, op) CTX("proj-ops", "ops", env, kind, prov, ref, op)

typedef struct resolve_case {
    const char *name;
    const sb_policy_rule *rules;
    size_t n;
    sb_policy_context ctx;
    const char *rule;     /* NULL: default fallback */
    const char *workflow;
    bool direct;
    bool mfa;
    int ttl;
    bool invariant;  /* invariant_applied */
    bool violated;   /* invariant_violated */
    sb_policy_won_by won_by;
} resolve_case;

#define RS(a) a, N(a)
#define WON(x) SB_POLICY_WON_##x

static const resolve_case resolve_cases[] = {
    /* specificity: project > team > platform */
    {"project rule beats team and platform", RS(rs_levels), PAY(NP, RD),
     "pj-pay", "wf-fast", false, true, 60, false, false, WON(SPECIFICITY)},
    {"team rule cascades to a descendant team's project", RS(rs_levels),
     CTX("proj-search", "search", "e", NP, "vault", "kv/x", RD),
     "t-eng", "wf-strict", false, true, 60, false, false, WON(SPECIFICITY)},
    {"project A's rule never resolves for project B", RS(rs_levels),
     CTX("proj-eu", "payments-eu", "e", NP, "vault", "kv/x", RD),
     "t-eng", "wf-strict", false, true, 60, false, false, WON(SPECIFICITY)},
    {"team rule does not reach a sibling subtree", RS(rs_levels),
     CTX("proj-ops", "ops", "e", NP, "vault", "kv/x", RD),
     "p-all", "wf-std", false, true, 60, false, false, WON(ONLY_CANDIDATE)},
    {"no project: platform rules only", RS(rs_levels),
     CTX(NULL, "payments", "e", NP, "vault", "kv/x", RD),
     "p-all", "wf-std", false, true, 60, false, false, WON(ONLY_CANDIDATE)},
    {"project unknown to the tree: no team rules", RS(rs_levels),
     CTX("proj-orphan", "ghost", "e", NP, "vault", "kv/x", RD),
     "p-all", "wf-std", false, true, 60, false, false, WON(ONLY_CANDIDATE)},
    /* priority first */
    {"platform priority 100 beats project priority 10", RS(rs_priority), PAY(NP, RD),
     "p-high", "wf-std", false, true, 60, false, false, WON(PRIORITY)},
    {"priority outside the project still wins", RS(rs_priority),
     CTX("proj-ops", "ops", "e", NP, "vault", "kv/x", RD),
     "p-high", "wf-std", false, true, 60, false, false, WON(ONLY_CANDIDATE)},
    /* ties: created_order, then id */
    {"priority tie: the older rule wins", RS(rs_age), PAY(NP, RD),
     "p-old", "wf-fast", false, true, 60, false, false, WON(AGE)},
    {"priority and age tie: the smaller id wins", RS(rs_id_tie), PAY(NP, RD),
     "p-a", "wf-fast", false, true, 60, false, false, WON(ID)},
    /* team ancestry */
    {"nearest ancestor wins (parent over grandparent)", RS(rs_ancestry),
     CTX("proj-eu", "payments-eu", "e", NP, "vault", "kv/x", RD),
     "t-pay", "wf-fast", false, true, 60, false, false, WON(ANCESTRY)},
    {"the project's own team is nearest", RS(rs_ancestry), PAY(NP, RD),
     "t-pay", "wf-fast", false, true, 60, false, false, WON(ANCESTRY)},
    {"sibling team rule ignored; own team wins", RS(rs_ancestry),
     CTX("proj-search", "search", "e", NP, "vault", "kv/x", RD),
     "t-search", "wf-default", false, true, 60, false, false, WON(ANCESTRY)},
    {"root rule cascades to the whole tree", RS(rs_ancestry),
     CTX("proj-ops", "ops", "e", NP, "vault", "kv/x", RD),
     "t-root", "wf-std", false, true, 60, false, false, WON(ONLY_CANDIDATE)},
    {"far ancestor with higher priority beats nearness", RS(rs_ancestry_prio),
     CTX("proj-eu", "payments-eu", "e", NP, "vault", "kv/x", RD),
     "t-root", "wf-std", false, true, 60, false, false, WON(PRIORITY)},
    {"only a sibling's rule: default fallback", RS(rs_sibling), PAY(NP, RV),
     NULL, "wf-default", false, true, 60, false, false, WON(NONE)},
    {"sibling's rule applies in its own subtree", RS(rs_sibling),
     CTX("proj-search", "search", "e", NP, "vault", "kv/x", RV),
     "t-search", "wf-fast", true, false, 200, false, false, WON(ONLY_CANDIDATE)},
    /* prefix selector */
    {"prefix matches", RS(rs_selectors), SEL("e", NP, "aws-sm", "kv/payments/db", RD),
     "s-prefix", "wf-fast", true, false, 120, false, false, WON(PRIORITY)},
    {"prefix equal to the ref matches", RS(rs_selectors), SEL("e", NP, "aws-sm", "kv/payments/", RD),
     "s-prefix", "wf-fast", true, false, 120, false, false, WON(PRIORITY)},
    {"prefix non-match (differs after common part)", RS(rs_selectors),
     SEL("e", NP, "aws-sm", "kv/paymentsX/db", RD),
     "p-all", "wf-default", false, true, 60, false, false, WON(ONLY_CANDIDATE)},
    {"prefix non-match (ref shorter than prefix)", RS(rs_selectors),
     SEL("e", NP, "aws-sm", "kv/pay", RD),
     "p-all", "wf-default", false, true, 60, false, false, WON(ONLY_CANDIDATE)},
    {"prefix is not a substring match", RS(rs_selectors),
     SEL("e", NP, "aws-sm", "old/kv/payments/db", RD),
     "p-all", "wf-default", false, true, 60, false, false, WON(ONLY_CANDIDATE)},
    {"prefix selector needs a ref in the context", RS(rs_selectors),
     SEL("e", NP, "aws-sm", NULL, RD),
     "p-all", "wf-default", false, true, 60, false, false, WON(ONLY_CANDIDATE)},
    /* operation and provider selectors */
    {"operation+provider selector matches", RS(rs_selectors),
     SEL("e", NP, "vault", "kv/payments/db", RV),
     "s-reveal-vault", "wf-strict", false, true, 30, false, false, WON(PRIORITY)},
    {"provider mismatch skips the rule", RS(rs_selectors),
     SEL("e", NP, "aws-sm", "kv/payments/db", RV),
     "s-prefix", "wf-fast", true, false, 120, false, false, WON(PRIORITY)},
    {"operation mismatch skips the rule", RS(rs_selectors),
     SEL("e", NP, "vault", "kv/payments/db", RD),
     "s-prefix", "wf-fast", true, false, 120, false, false, WON(PRIORITY)},
    {"operation patch selector", RS(rs_selectors), SEL("e", NP, "vault", "other", PA),
     "s-patch", "wf-std", false, false, 50, false, false, WON(PRIORITY)},
    {"operation selector needs an operation in the context", RS(rs_selectors),
     SEL("e", NP, "vault", "other", SB_POLICY_OP_UNSET),
     "p-all", "wf-default", false, true, 60, false, false, WON(ONLY_CANDIDATE)},
    {"project selector on a platform rule", RS(rs_selectors),
     CTX("proj-search", "search", "e", NP, "vault", "other", RD),
     "s-proj-sel", "wf-strict", false, false, 70, false, false, WON(PRIORITY)},
    /* environment selectors */
    {"environment kind prod selector", RS(rs_selectors), SEL("e", PROD, "aws-sm", "other", RD),
     "s-prod", "wf-strict", false, true, 15, true, false, WON(PRIORITY)},
    {"prod selector does not match non_prod", RS(rs_selectors),
     SEL("e", NP, "aws-sm", "other", RD),
     "p-all", "wf-default", false, true, 60, false, false, WON(ONLY_CANDIDATE)},
    {"prod selector does not match an unknown kind", RS(rs_selectors),
     SEL("e", UNK, "aws-sm", "other", RD),
     "p-all", "wf-default", false, true, 60, true, false, WON(ONLY_CANDIDATE)},
    {"environment id selector", RS(rs_selectors), SEL("env-staging", NP, "aws-sm", "other", RD),
     "s-env", "wf-std", false, false, 45, false, false, WON(PRIORITY)},
    {"environment id selector on another env", RS(rs_selectors),
     SEL("env-prodish", NP, "aws-sm", "other", RD),
     "p-all", "wf-default", false, true, 60, false, false, WON(ONLY_CANDIDATE)},
    /* disabled workflows */
    {"disabled and unknown workflows skipped", RS(rs_disabled), PAY(NP, RV),
     "d-on", "wf-std", true, false, 90, false, false, WON(ONLY_CANDIDATE)},
    {"only a disabled rule: default fallback", RS(rs_only_disabled), PAY(NP, RV),
     NULL, "wf-default", false, true, 60, false, false, WON(NONE)},
    /* default fallback */
    {"no rules: default, no access", rs_empty, 0, PAY(NP, RV),
     NULL, "wf-default", false, true, 60, false, false, WON(NONE)},
    /* prod invariant */
    {"rule allows direct reveal on non_prod", RS(rs_allow), PAY(NP, RV),
     "pj-allow", "wf-fast", true, false, 90, false, false, WON(SPECIFICITY)},
    {"prod: direct reveal forced off, invariant flagged", RS(rs_allow), PAY(PROD, RV),
     "pj-allow", "wf-fast", false, false, 90, true, true, WON(SPECIFICITY)},
    {"unknown env kind: direct reveal off (fail closed)", RS(rs_allow), PAY(UNK, RV),
     "pj-allow", "wf-fast", false, false, 90, true, true, WON(SPECIFICITY)},
    {"prod via team rule: forced off", RS(rs_allow),
     CTX("proj-eu", "payments-eu", "e", PROD, "vault", "kv/x", RV),
     "t-eu-allow", "wf-fast", false, true, 200, true, true, WON(SPECIFICITY)},
    {"prod default fallback: applied, not violated", rs_empty, 0, PAY(PROD, RV),
     NULL, "wf-default", false, true, 60, true, false, WON(NONE)},
};

static sb_team_tree *tree;

static void setup(void)
{
    sb_error err = {0};
    cr_assert_eq(sb_team_tree_build(org, N(org), &tree, &err), 0, "%s", err.message);
}

static void teardown(void)
{
    sb_team_tree_free(tree);
    tree = NULL;
}

static sb_policy_set make_set(const sb_policy_rule *rules, size_t n)
{
    sb_policy_set s = {rules, n, workflows, N(workflows), "wf-default"};
    return s;
}

static const char *or_null(const char *s)
{
    return s ? s : "(default)";
}

Test(policy, resolution_table, .init = setup, .fini = teardown)
{
    cr_assert_geq(N(resolve_cases), 30);
    for (size_t i = 0; i < N(resolve_cases); i++) {
        const resolve_case *c = &resolve_cases[i];
        sb_policy_set s = make_set(c->rules, c->n);
        sb_policy_decision d;
        memset(&d, 0xA5, sizeof d);
        sb_error err = {0};
        cr_assert_eq(sb_policy_resolve(&s, tree, &c->ctx, &d, &err), 0, "[%s] %s", c->name,
                     err.message);
        if (c->rule == NULL)
            cr_assert_null(d.rule_id, "[%s] expected default, got rule %s", c->name, d.rule_id);
        else
            cr_assert(d.rule_id != NULL && strcmp(d.rule_id, c->rule) == 0,
                      "[%s] rule: expected %s, got %s", c->name, c->rule, or_null(d.rule_id));
        cr_assert_str_eq(d.workflow_id, c->workflow, "[%s] workflow", c->name);
        cr_assert_eq(d.direct_reveal_allowed, c->direct, "[%s] direct_reveal_allowed", c->name);
        cr_assert_eq(d.mfa_required, c->mfa, "[%s] mfa_required", c->name);
        cr_assert_eq(d.reveal_ttl_s, c->ttl, "[%s] reveal_ttl_s", c->name);
        cr_assert_eq(d.invariant_applied, c->invariant, "[%s] invariant_applied", c->name);
        cr_assert_eq(d.invariant_violated, c->violated, "[%s] invariant_violated", c->name);
        cr_assert_eq(d.won_by, c->won_by, "[%s] won_by %d", c->name, (int)d.won_by);
        cr_assert_eq((d.reasons & SB_POLICY_REASON_DEFAULT_FALLBACK) != 0, c->rule == NULL,
                     "[%s] fallback reason", c->name);
        cr_assert_eq((d.reasons & SB_POLICY_REASON_RULE_MATCHED) != 0, c->rule != NULL,
                     "[%s] matched reason", c->name);
        cr_assert_eq((d.reasons & SB_POLICY_REASON_PROD_INVARIANT) != 0, c->invariant,
                     "[%s] invariant reason", c->name);
        /* The API's pre-lookup refusal agrees with the engine. */
        cr_assert_eq(sb_policy_direct_reveal_refused(&c->ctx), c->invariant, "[%s] refused",
                     c->name);
    }
}

/* Rule order in the input never changes the winner. */
Test(policy, input_order_irrelevant, .init = setup, .fini = teardown)
{
    sb_policy_rule rev[N(rs_ancestry)];
    for (size_t i = 0; i < N(rs_ancestry); i++)
        rev[i] = rs_ancestry[N(rs_ancestry) - 1 - i];
    sb_policy_context ctx = CTX("proj-eu", "payments-eu", "e", NP, "vault", "kv/x", RD);
    sb_policy_set s = make_set(rev, N(rev));
    sb_policy_decision d;
    sb_error err = {0};
    cr_assert_eq(sb_policy_resolve(&s, tree, &ctx, &d, &err), 0, "%s", err.message);
    cr_assert_str_eq(d.rule_id, "t-pay");

    sb_policy_rule rev_age[] = {rs_age[2], rs_age[1], rs_age[0]};
    s = make_set(rev_age, N(rev_age));
    cr_assert_eq(sb_policy_resolve(&s, tree, &ctx, &d, &err), 0, "%s", err.message);
    cr_assert_str_eq(d.rule_id, "p-old");
    sb_policy_rule rev_id[] = {rs_id_tie[1], rs_id_tie[0]};
    s = make_set(rev_id, N(rev_id));
    cr_assert_eq(sb_policy_resolve(&s, tree, &ctx, &d, &err), 0, "%s", err.message);
    cr_assert_str_eq(d.rule_id, "p-a");
}

Test(policy, skipped_rules_are_counted, .init = setup, .fini = teardown)
{
    sb_policy_context ctx = PAY(NP, RD);
    sb_policy_set s = make_set(rs_disabled, N(rs_disabled));
    sb_policy_decision d;
    sb_error err = {0};
    cr_assert_eq(sb_policy_resolve(&s, tree, &ctx, &d, &err), 0, "%s", err.message);
    cr_assert_eq(d.skipped, 2);
    cr_assert_eq(d.candidates, 1);
    cr_assert(d.reasons & SB_POLICY_REASON_WORKFLOW_SKIPPED);

    s = make_set(rs_levels, N(rs_levels));
    cr_assert_eq(sb_policy_resolve(&s, tree, &ctx, &d, &err), 0, "%s", err.message);
    cr_assert_eq(d.skipped, 0);
    cr_assert_eq(d.candidates, 3);
    cr_assert_not(d.reasons & SB_POLICY_REASON_WORKFLOW_SKIPPED);
}

Test(policy, no_tree_means_no_team_rules)
{
    sb_policy_context ctx = PAY(NP, RD);
    sb_policy_set s = make_set(rs_ancestry, N(rs_ancestry));
    sb_policy_decision d;
    sb_error err = {0};
    cr_assert_eq(sb_policy_resolve(&s, NULL, &ctx, &d, &err), 0, "%s", err.message);
    cr_assert_null(d.rule_id);
    cr_assert_str_eq(d.workflow_id, "wf-default");
}

Test(policy, stored_ttl_is_clamped, .init = setup, .fini = teardown)
{
    static const struct {
        int stored, expect;
    } ttl[] = {{0, 60}, {5, 10}, {10, 10}, {300, 300}, {301, 300}, {-4, 10}};
    for (size_t i = 0; i < N(ttl); i++) {
        sb_policy_rule r = RULE("p", PLATFORM, 0, 1, "wf-std", .access = {false, true, ttl[i].stored});
        sb_policy_context ctx = PAY(NP, RD);
        sb_policy_set s = make_set(&r, 1);
        sb_policy_decision d;
        sb_error err = {0};
        cr_assert_eq(sb_policy_resolve(&s, tree, &ctx, &d, &err), 0, "%s", err.message);
        cr_assert_eq(d.reveal_ttl_s, ttl[i].expect, "stored %d", ttl[i].stored);
    }
}

Test(policy, resolve_errors, .init = setup, .fini = teardown)
{
    sb_policy_context ctx = PAY(NP, RD);
    sb_policy_decision d;
    sb_error err = {0};
    sb_policy_set s = make_set(rs_levels, N(rs_levels));

    s.default_workflow_id = "wf-missing";
    cr_assert_eq(sb_policy_resolve(&s, tree, &ctx, &d, &err), -1);
    cr_assert_eq(err.code, SB_DOMAIN_E_NOT_FOUND);
    cr_assert_str_eq(err.message, "policy resolve: the default workflow \"wf-missing\" does not exist");

    s.default_workflow_id = "wf-off";
    cr_assert_eq(sb_policy_resolve(&s, tree, &ctx, &d, &err), -1);
    cr_assert_eq(err.code, SB_DOMAIN_E_INVALID);
    cr_assert_str_eq(err.message, "policy resolve: the default workflow wf-off is disabled");

    s.default_workflow_id = "wf-default";
    cr_assert_eq(sb_policy_resolve(NULL, tree, &ctx, &d, &err), -1);
    cr_assert_eq(sb_policy_resolve(&s, tree, NULL, &d, &err), -1);
    cr_assert_eq(sb_policy_resolve(&s, tree, &ctx, NULL, &err), -1);
    cr_assert_eq(err.code, SB_DOMAIN_E_INVALID);

    sb_policy_rule broken[] = {RULE("t", TEAM(NULL), 0, 1, "wf-std")};
    s = make_set(broken, 1);
    cr_assert_eq(sb_policy_resolve(&s, tree, &ctx, &d, &err), -1);
    cr_assert_str_eq(err.message, "policy rule t: a team-anchored rule needs the team id");
    cr_assert_eq(sb_policy_direct_reveal_refused(NULL), true);
}

/* ---- authoring ----------------------------------------------------------- */

typedef struct author_case {
    const char *name;
    sb_policy_rule rule;
    sb_policy_author author;
    int code; /* 0 = accepted */
    const char *message;
} author_case;

#define SCOPED {false, true, SB_POLICY_RESERVED_PRIORITY_DEFAULT}
#define SCOPED_OUT {false, false, SB_POLICY_RESERVED_PRIORITY_DEFAULT}
#define ADMIN {true, false, SB_POLICY_RESERVED_PRIORITY_DEFAULT}
#define NPSEL .selector.environment_kind = SB_POLICY_ENV_NON_PROD

static const author_case author_cases[] = {
    {"scoped team rule below band, non_prod", RULE("r", TEAM("eng"), 8999, 1, "wf-std", NPSEL),
     SCOPED, 0, NULL},
    {"scoped project rule, non_prod", RULE("r", PROJECT("proj-pay"), -5, 1, "wf-std", NPSEL), SCOPED,
     0, NULL},
    {"scoped at the reserved priority", RULE("r", TEAM("eng"), 9000, 1, "wf-std", NPSEL), SCOPED,
     SB_DOMAIN_E_DENIED,
     "policy rule r: priority 9000 is in the reserved band; scoped authors must use a priority "
     "below 9000"},
    {"scoped above a lowered live band", RULE("r", TEAM("eng"), 100, 1, "wf-std", NPSEL),
     {false, true, 50}, SB_DOMAIN_E_DENIED,
     "policy rule r: priority 100 is in the reserved band; scoped authors must use a priority "
     "below 50"},
    {"scoped platform rule", RULE("r", PLATFORM, 0, 1, "wf-std", NPSEL), SCOPED, SB_DOMAIN_E_DENIED,
     "policy rule r: scoped policy authors may not write platform-anchored rules (needs global "
     "policy.edit)"},
    {"scoped outside scope", RULE("r", TEAM("ops"), 0, 1, "wf-std", NPSEL), SCOPED_OUT,
     SB_DOMAIN_E_DENIED, "policy rule r: team ops is outside your policy.author scope"},
    {"scoped project outside scope", RULE("r", PROJECT("proj-ops"), 0, 1, "wf-std", NPSEL),
     SCOPED_OUT, SB_DOMAIN_E_DENIED,
     "policy rule r: project proj-ops is outside your policy.author scope"},
    {"scoped with env kind unset (could match prod)", RULE("r", TEAM("eng"), 0, 1, "wf-std"), SCOPED,
     SB_DOMAIN_E_DENIED,
     "policy rule r: scoped authors may only write non-prod rules; the selector must pin "
     "environment_kind non_prod (it is unset)"},
    {"scoped with env kind prod", RULE("r", TEAM("eng"), 0, 1, "wf-std",
                                       .selector.environment_kind = SB_POLICY_ENV_PROD),
     SCOPED, SB_DOMAIN_E_DENIED,
     "policy rule r: scoped authors may only write non-prod rules; the selector must pin "
     "environment_kind non_prod (it is prod)"},
    {"scoped env id only (still unpinned kind)",
     RULE("r", PROJECT("proj-pay"), 0, 1, "wf-std", .selector.environment_id = "env-dev"), SCOPED,
     SB_DOMAIN_E_DENIED,
     "policy rule r: scoped authors may only write non-prod rules; the selector must pin "
     "environment_kind non_prod (it is unset)"},
    {"platform author: reserved band, prod, platform anchor",
     RULE("r", PLATFORM, 9500, 1, "wf-std", .selector.environment_kind = SB_POLICY_ENV_PROD), ADMIN,
     0, NULL},
    {"platform author still validated", RULE("r", PLATFORM, 20000, 1, "wf-std"), ADMIN,
     SB_DOMAIN_E_INVALID, "policy rule r: priority must be between -10000 and 10000, got 20000"},
    {"scoped author: validation before confinement",
     RULE("r", TEAM("eng"), 0, 1, "wf-std", NPSEL, .access = {false, true, 5}), SCOPED,
     SB_DOMAIN_E_INVALID, "policy rule r: reveal_ttl_s must be between 10 and 300 seconds, got 5"},
};

Test(policy, authorable_table)
{
    for (size_t i = 0; i < N(author_cases); i++) {
        const author_case *c = &author_cases[i];
        sb_error err = {0};
        int rc = sb_policy_check_authorable(&c->rule, &c->author, &err);
        if (c->code == 0) {
            cr_assert_eq(rc, 0, "[%s] refused: %s", c->name, err.message);
        } else {
            cr_assert_eq(rc, -1, "[%s] accepted", c->name);
            cr_assert_eq(err.code, c->code, "[%s] code %d: %s", c->name, err.code, err.message);
            cr_assert_str_eq(err.message, c->message, "[%s]", c->name);
        }
    }
    sb_error err = {0};
    cr_assert_eq(sb_policy_check_authorable(&author_cases[0].rule, NULL, &err), -1);
    cr_assert_eq(err.code, SB_DOMAIN_E_INVALID);
}

/* ---- validation ---------------------------------------------------------- */

typedef struct check_case {
    sb_policy_rule rule;
    const char *message; /* NULL = valid */
} check_case;

static char long_id[SB_POLICY_ID_MAX + 2];
static char long_prefix[SB_POLICY_SELECTOR_MAX + 2];

Test(policy, rule_check)
{
    memset(long_id, 'x', sizeof long_id - 1);
    memset(long_prefix, 'k', sizeof long_prefix - 1);
    const check_case cases[] = {
        {RULE("ok", PLATFORM, 0, 1, "wf"), NULL},
        {RULE("ok", PROJECT("p1"), -10000, 1, "wf", .selector.project_id = "p1",
              .selector.provider_type = "kubernetes", .access = {true, false, 300}),
         NULL},
        {RULE("", PLATFORM, 0, 1, "wf"), "policy rule: id is empty"},
        {RULE("r", PLATFORM, 0, 1, ""), "policy rule r: workflow id is empty"},
        {RULE("r", TEAM("t"), 0, 1, "wf", .anchor.kind = (sb_policy_anchor_kind)7),
         "policy rule r: unknown anchor kind 7"},
        {RULE("r", PLATFORM_WITH_ID("x"), 0, 1, "wf"),
         "policy rule r: a platform-anchored rule takes no anchor id"},
        {RULE("r", PROJECT(""), 0, 1, "wf"),
         "policy rule r: a project-anchored rule needs the project id"},
        {RULE("r", PLATFORM, -10001, 1, "wf"),
         "policy rule r: priority must be between -10000 and 10000, got -10001"},
        {RULE("r", PLATFORM, 0, 1, "wf", .access = {false, true, 301}),
         "policy rule r: reveal_ttl_s must be between 10 and 300 seconds, got 301"},
        {RULE("r", PLATFORM, 0, 1, "wf", .selector.operation = (sb_policy_operation)9),
         "policy rule r: selector operation must be read, patch or reveal (got 9)"},
        {RULE("r", PLATFORM, 0, 1, "wf", .selector.environment_kind = (sb_policy_env_kind)3),
         "policy rule r: selector environment_kind must be non_prod or prod (got 3)"},
        {RULE("r", PLATFORM, 0, 1, "wf", .selector.provider_type = "hashicorp"),
         "policy rule r: selector provider_type \"hashicorp\" is not one of vault, aws-sm, "
         "gcp-sm, azure-kv, kubernetes"},
        {RULE("r", PROJECT("p1"), 0, 1, "wf", .selector.project_id = "p2"),
         "policy rule r: anchored on project p1 but its selector pins project p2, so it could "
         "never match"},
        {RULE(long_id, PLATFORM, 0, 1, "wf"), "policy rule: id is longer than 128 bytes"},
        {RULE("r", PLATFORM, 0, 1, "wf", .selector.secret_ref_prefix = long_prefix),
         "policy rule: selector secret_ref_prefix is longer than 512 bytes"},
        {RULE("r", PLATFORM, 0, 1, "wf", .selector.environment_id = long_id),
         "policy rule: selector environment_id is longer than 128 bytes"},
    };
    for (size_t i = 0; i < N(cases); i++) {
        sb_error err = {0};
        int rc = sb_policy_rule_check(&cases[i].rule, &err);
        if (cases[i].message == NULL) {
            cr_assert_eq(rc, 0, "case %zu refused: %s", i, err.message);
        } else {
            cr_assert_eq(rc, -1, "case %zu accepted (%s)", i, cases[i].message);
            cr_assert_eq(err.code, SB_DOMAIN_E_INVALID, "case %zu", i);
            cr_assert_str_eq(err.message, cases[i].message, "case %zu", i);
        }
    }
    sb_error err = {0};
    cr_assert_eq(sb_policy_rule_check(NULL, &err), -1);
    cr_assert_str_eq(err.message, "policy rule: none given");
}

Test(policy, wire_names)
{
    static const char *const ops[] = {"read", "patch", "reveal"};
    for (size_t i = 0; i < N(ops); i++) {
        sb_policy_operation op = SB_POLICY_OP_UNSET;
        cr_assert_eq(sb_policy_operation_parse(ops[i], &op, NULL), 0);
        cr_assert_eq((size_t)op, i + 1);
        cr_assert_str_eq(sb_policy_operation_name(op), ops[i]);
    }
    sb_policy_operation op;
    sb_error err = {0};
    cr_assert_eq(sb_policy_operation_parse("update", &op, &err), -1);
    cr_assert_str_eq(err.message, "policy operation must be read, patch or reveal, got \"update\"");
    cr_assert_eq(sb_policy_operation_parse(NULL, &op, &err), -1);
    cr_assert_null(sb_policy_operation_name(SB_POLICY_OP_UNSET));
    cr_assert_null(sb_policy_operation_name((sb_policy_operation)4));

    sb_policy_env_kind k = SB_POLICY_ENV_UNSET;
    cr_assert_eq(sb_policy_env_kind_parse("prod", &k, NULL), 0);
    cr_assert_eq(k, SB_POLICY_ENV_PROD);
    cr_assert_eq(sb_policy_env_kind_parse("non_prod", &k, NULL), 0);
    cr_assert_eq(k, SB_POLICY_ENV_NON_PROD);
    cr_assert_eq(sb_policy_env_kind_parse("production", &k, &err), -1);
    cr_assert_str_eq(err.message, "environment kind must be non_prod or prod, got \"production\"");
    cr_assert_str_eq(sb_policy_env_kind_name(SB_POLICY_ENV_NON_PROD), "non_prod");
    cr_assert_str_eq(sb_policy_anchor_kind_name(SB_POLICY_ANCHOR_TEAM), "team");
    cr_assert_null(sb_policy_anchor_kind_name((sb_policy_anchor_kind)3));
    cr_assert(sb_policy_provider_type_known("azure-kv"));
    cr_assert_not(sb_policy_provider_type_known("Vault"));
    cr_assert_not(sb_policy_provider_type_known(NULL));
}
