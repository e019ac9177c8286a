/*
 * tests/unit/test_domain_team_tree.c — the team hierarchy index
 * (host/src/domain/team_tree.c): depths, ancestors, subtree membership,
 * every refusal at build (duplicates, unknown parent, self-parent, cycles),
 * cycle detection for proposed moves (self-parent, 2-cycle, long chain, own
 * descendant), the depth limit, input-order independence, and linear cost
 * on big and deep trees.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "domain/domain_error.h"
#include "domain/team_tree.h"

/*
 *   R ─┬─ A ─┬─ A1 ── A1x ── A1xx
 *      │     └─ A2
 *      └─ B
 *   S (a second root)
 * listed children-first to prove input order does not matter.
 */
static const sb_team_edge org[] = {
    {"A1xx", "A1x"}, {"A1x", "A1"}, {"A1", "A"}, {"A2", "A"}, {"A", "R"},
    {"B", "R"},      {"R", NULL},   {"S", ""},
};
#define ORG_N (sizeof org / sizeof org[0])

static sb_team_tree *build_ok(const sb_team_edge *e, size_t n)
{
    sb_team_tree *t = NULL;
    sb_error err = {0};
    cr_assert_eq(sb_team_tree_build(e, n, &t, &err), 0, "build: %s", err.message);
    cr_assert_not_null(t);
    return t;
}

static void build_fails(const sb_team_edge *e, size_t n, int code, const char *message)
{
    sb_team_tree *t = (sb_team_tree *)0x1;
    sb_error err = {0};
    cr_assert_eq(sb_team_tree_build(e, n, &t, &err), -1, "accepted: %s", message);
    cr_assert_null(t);
    cr_assert_eq(err.code, code, "code %d for %s", err.code, err.message);
    cr_assert_str_eq(err.message, message);
}

Test(team_tree, depth_ancestors_and_subtrees)
{
    sb_team_tree *t = build_ok(org, ORG_N);
    cr_assert_eq(sb_team_tree_count(t), ORG_N);
    static const struct {
        const char *id;
        size_t depth;
    } depths[] = {{"R", 1}, {"S", 1}, {"A", 2}, {"B", 2}, {"A1", 3}, {"A2", 3},
                  {"A1x", 4}, {"A1xx", 5}, {"nope", 0}, {"", 0}};
    for (size_t i = 0; i < sizeof depths / sizeof depths[0]; i++)
        cr_assert_eq(sb_team_tree_depth(t, depths[i].id), depths[i].depth, "%s", depths[i].id);
    cr_assert_eq(sb_team_tree_depth(t, NULL), 0u);

    const char *anc[8];
    cr_assert_eq(sb_team_tree_ancestors(t, "A1x", false, anc, 8), 3u);
    cr_assert_str_eq(anc[0], "A1");
    cr_assert_str_eq(anc[1], "A");
    cr_assert_str_eq(anc[2], "R");
    cr_assert_eq(sb_team_tree_ancestors(t, "A1x", true, anc, 8), 4u);
    cr_assert_str_eq(anc[0], "A1x");
    cr_assert_str_eq(anc[3], "R");
    cr_assert_eq(sb_team_tree_ancestors(t, "R", false, anc, 8), 0u);
    cr_assert_eq(sb_team_tree_ancestors(t, "nope", true, anc, 8), 0u);
    /* A short buffer gets the nearest ones and the full count. */
    cr_assert_eq(sb_team_tree_ancestors(t, "A1xx", true, anc, 2), 5u);
    cr_assert_str_eq(anc[0], "A1xx");
    cr_assert_str_eq(anc[1], "A1x");

    static const struct {
        const char *root, *team;
        bool in;
    } sub[] = {
        {"R", "R", true},     {"R", "A1xx", true}, {"A", "A1", true},  {"A", "A2", true},
        {"A1", "A1xx", true}, {"A1", "A2", false}, {"A1", "A", false}, {"A1x", "A1", false},
        {"B", "A", false},    {"R", "S", false},   {"S", "S", true},   {"nope", "A", false},
        {"A", "nope", false},
    };
    for (size_t i = 0; i < sizeof sub / sizeof sub[0]; i++)
        cr_assert_eq(sb_team_tree_in_subtree(t, sub[i].root, sub[i].team), sub[i].in,
                     "%s in subtree of %s", sub[i].team, sub[i].root);
    cr_assert(sb_team_tree_contains(t, "A1x"));
    cr_assert(!sb_team_tree_contains(t, "a1x"), "ids are compared exactly");
    sb_team_tree_free(t);
}

Test(team_tree, the_tree_copies_its_ids)
{
    char ids[3][8] = {"root", "kid", "grand"};
    sb_team_edge e[] = {{ids[0], NULL}, {ids[1], ids[0]}, {ids[2], ids[1]}};
    sb_team_tree *t = build_ok(e, 3);
    memset(ids, 'z', sizeof ids);
    cr_assert_eq(sb_team_tree_depth(t, "grand"), 3u);
    cr_assert(sb_team_tree_in_subtree(t, "root", "grand"));
    sb_team_tree_free(t);
}

Test(team_tree, empty_tree)
{
    sb_team_tree *t = build_ok(NULL, 0);
    cr_assert_eq(sb_team_tree_count(t), 0u);
    cr_assert(!sb_team_tree_contains(t, "x"));
    cr_assert_eq(sb_team_tree_check_create(t, NULL, NULL), 0);
    sb_team_tree_free(t);
}

Test(team_tree, build_refuses_what_is_not_a_tree)
{
    const sb_team_edge dup[] = {{"R", NULL}, {"A", "R"}, {"A", "R"}};
    build_fails(dup, 3, SB_DOMAIN_E_DUPLICATE, "teams[2]: team A is listed twice");
    const sb_team_edge orphan[] = {{"R", NULL}, {"A", "ghost"}};
    build_fails(orphan, 2, SB_DOMAIN_E_NOT_FOUND,
                "team A: its parent team ghost is not a known team");
    const sb_team_edge self[] = {{"R", NULL}, {"A", "A"}};
    build_fails(self, 2, SB_DOMAIN_E_CYCLE, "team A is its own parent");
    const sb_team_edge two[] = {{"R", NULL}, {"A", "B"}, {"B", "A"}};
    sb_team_tree *t = NULL;
    sb_error err = {0};
    cr_assert_eq(sb_team_tree_build(two, 3, &t, &err), -1);
    cr_assert_eq(err.code, SB_DOMAIN_E_CYCLE);
    cr_assert(strcmp(err.message, "the teams form a cycle through team A (its parent chain never "
                                  "reaches a root team)") == 0 ||
                  strcmp(err.message, "the teams form a cycle through team B (its parent chain "
                                      "never reaches a root team)") == 0,
              "%s", err.message);
    /* A cycle hanging off a valid tree: X -> Y -> Z -> X, plus W under X. */
    const sb_team_edge hang[] = {{"R", NULL}, {"W", "X"}, {"X", "Z"}, {"Y", "X"}, {"Z", "Y"}};
    cr_assert_eq(sb_team_tree_build(hang, 5, &t, &err), -1);
    cr_assert_eq(err.code, SB_DOMAIN_E_CYCLE);
    cr_assert(strstr(err.message, "team X") || strstr(err.message, "team Y") ||
                  strstr(err.message, "team Z"),
              "names a team on the cycle, not W: %s", err.message);
    const sb_team_edge empty[] = {{"R", NULL}, {"", "R"}};
    build_fails(empty, 2, SB_DOMAIN_E_INVALID, "teams[1]: empty team id");
    const sb_team_edge null_id[] = {{NULL, NULL}};
    build_fails(null_id, 1, SB_DOMAIN_E_INVALID, "teams[0]: empty team id");
    build_fails(NULL, 3, SB_DOMAIN_E_INVALID, "team tree: no teams given");
}

/* Proposed moves: would_cycle and check_reparent, one table. */
static const struct {
    const char *team, *new_parent;
    bool cycles;
    int code; /* 0 = allowed */
    const char *message;
} moves[] = {
    {"A", "A", true, SB_DOMAIN_E_CYCLE, "team A cannot be its own parent; choose another team"},
    /* 2-cycle: A under its own child A1 */
    {"A", "A1", true, SB_DOMAIN_E_CYCLE,
     "team A1 is inside the subtree of team A; moving A under it would make a cycle"},
    /* own deep descendant, and the root under its deepest leaf */
    {"A", "A1xx", true, SB_DOMAIN_E_CYCLE,
     "team A1xx is inside the subtree of team A; moving A under it would make a cycle"},
    {"R", "A1xx", true, SB_DOMAIN_E_CYCLE,
     "team A1xx is inside the subtree of team R; moving R under it would make a cycle"},
    {"A1", "A2", false, 0, NULL},    /* to a sibling */
    {"A1", "B", false, 0, NULL},     /* to a cousin branch */
    {"A1", "S", false, 0, NULL},     /* to another root */
    {"A1", NULL, false, 0, NULL},    /* make it a root */
    {"A1", "", false, 0, NULL},      /* same */
    {"A1x", "A", false, 0, NULL},    /* up the tree */
    {"R", "S", false, 0, NULL},      /* a whole tree under another root */
    {"A1", "A", false, 0, NULL},     /* the current parent: a no-op */
    {"A1", "ghost", false, SB_DOMAIN_E_NOT_FOUND, "parent team ghost does not exist"},
    {"ghost", "A", false, SB_DOMAIN_E_NOT_FOUND, "team ghost does not exist"},
};

Test(team_tree, proposed_moves_cycles_and_unknowns)
{
    sb_team_tree *t = build_ok(org, ORG_N);
    for (size_t i = 0; i < sizeof moves / sizeof moves[0]; i++) {
        cr_assert_eq(sb_team_tree_would_cycle(t, moves[i].team, moves[i].new_parent),
                     moves[i].cycles, "would_cycle(%s, %s)", moves[i].team,
                     moves[i].new_parent ? moves[i].new_parent : "NULL");
        sb_error err = {0};
        int rc = sb_team_tree_check_reparent(t, moves[i].team, moves[i].new_parent, &err);
        if (moves[i].code == 0) {
            cr_assert_eq(rc, 0, "move %zu refused: %s", i, err.message);
        } else {
            cr_assert_eq(rc, -1, "move %zu allowed", i);
            cr_assert_eq(err.code, moves[i].code, "move %zu: code %d", i, err.code);
            cr_assert_str_eq(err.message, moves[i].message);
        }
    }
    cr_assert(!sb_team_tree_would_cycle(t, NULL, "A"));
    cr_assert(sb_team_tree_would_cycle(t, "new-team", "new-team"), "self even when unknown");
    sb_team_tree_free(t);
}

Test(team_tree, long_chain_cycle_and_depth_limit)
{
    /* A chain exactly SB_TEAM_TREE_MAX_DEPTH deep: t0 <- t1 <- ... <- t15. */
    enum { N = SB_TEAM_TREE_MAX_DEPTH };
    char ids[N][8];
    sb_team_edge e[N];
    for (int i = 0; i < N; i++) {
        snprintf(ids[i], sizeof ids[i], "t%d", i);
        e[i].team_id = ids[i];
        e[i].parent_id = i ? ids[i - 1] : NULL;
    }
    sb_team_tree *t = build_ok(e, N);
    cr_assert_eq(sb_team_tree_depth(t, ids[N - 1]), (size_t)N);
    for (int i = 1; i < N; i++)
        cr_assert(sb_team_tree_would_cycle(t, "t0", ids[i]), "t0 under t%d", i);
    cr_assert(!sb_team_tree_would_cycle(t, ids[N - 1], "t0"));

    sb_error err = {0};
    cr_assert_eq(sb_team_tree_check_create(t, ids[N - 2], &err), 0, "%s", err.message);
    cr_assert_eq(sb_team_tree_check_create(t, ids[N - 1], &err), -1);
    cr_assert_eq(err.code, SB_DOMAIN_E_TOO_DEEP);
    cr_assert_str_eq(err.message, "a team under t15 would be at level 17; at most 16 levels are "
                                  "allowed");
    cr_assert_eq(sb_team_tree_check_create(t, "ghost", &err), -1);
    cr_assert_eq(err.code, SB_DOMAIN_E_NOT_FOUND);

    /* Moving the 3-level subtree t13..t15 (height 3): under t12 is where it is
     * (deepest 16, fine); under t13's sibling... the chain has none, so use a
     * second branch: a root X; moving t13 under X gives depth 2..4. */
    cr_assert_eq(sb_team_tree_check_reparent(t, "t13", "t12", &err), 0, "%s", err.message);
    cr_assert_eq(sb_team_tree_check_reparent(t, "t13", NULL, &err), 0, "%s", err.message);
    sb_team_tree_free(t);

    /* Two branches: a chain of 14 and a subtree of height 3. Under level 13 the
     * subtree's deepest team lands on 16 (ok); under level 14 on 17 (refused). */
    const char *chain[14] = {"c0", "c1", "c2", "c3", "c4", "c5", "c6",
                             "c7", "c8", "c9", "c10", "c11", "c12", "c13"};
    sb_team_edge e2[17];
    for (int i = 0; i < 14; i++)
        e2[i] = (sb_team_edge){chain[i], i ? chain[i - 1] : NULL};
    e2[14] = (sb_team_edge){"m", NULL};
    e2[15] = (sb_team_edge){"m1", "m"};
    e2[16] = (sb_team_edge){"m2", "m1"};
    t = build_ok(e2, 17);
    cr_assert_eq(sb_team_tree_check_reparent(t, "m", "c12", &err), 0, "%s", err.message);
    cr_assert_eq(sb_team_tree_check_reparent(t, "m", "c13", &err), -1);
    cr_assert_eq(err.code, SB_DOMAIN_E_TOO_DEEP);
    cr_assert_str_eq(err.message, "moving team m there would make the team tree 17 levels deep; "
                                  "at most 16 are allowed");
    sb_team_tree_free(t);
}

static double seconds_since(const struct timespec *t0)
{
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    return (double)(t1.tv_sec - t0->tv_sec) + (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
}

/* Linear construction on a 100,000-deep chain (no recursion to overflow) and
 * on a 200,000-team random tree listed in shuffled order. A quadratic
 * algorithm would take minutes here. */
Test(team_tree, big_and_deep_trees_build_in_linear_time, .timeout = 60)
{
    enum { DEEP = 100000, WIDE = 200000 };
    char (*ids)[12] = malloc(sizeof(*ids) * WIDE);
    sb_team_edge *e = malloc(sizeof *e * WIDE);
    cr_assert(ids && e);
    for (int i = 0; i < WIDE; i++)
        snprintf(ids[i], sizeof ids[i], "t%d", i);

    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (int i = 0; i < DEEP; i++)
        e[i] = (sb_team_edge){ids[i], i ? ids[i - 1] : NULL};
    sb_team_tree *t = build_ok(e, DEEP);
    cr_assert_eq(sb_team_tree_depth(t, ids[DEEP - 1]), (size_t)DEEP);
    cr_assert(sb_team_tree_would_cycle(t, ids[0], ids[DEEP - 1]));
    cr_assert(sb_team_tree_in_subtree(t, ids[5], ids[DEEP - 1]));
    sb_team_tree_free(t);

    /* Random tree: parent of i is some j < i; then shuffle the rows. */
    srand(7);
    for (int i = 0; i < WIDE; i++)
        e[i] = (sb_team_edge){ids[i], i ? ids[rand() % i] : NULL};
    for (int i = WIDE - 1; i > 0; i--) {
        int j = rand() % (i + 1);
        sb_team_edge tmp = e[i];
        e[i] = e[j];
        e[j] = tmp;
    }
    t = build_ok(e, WIDE);
    size_t hits = 0;
    for (int i = 0; i < WIDE; i++) {
        hits += sb_team_tree_in_subtree(t, ids[i / 2], ids[i]);
        cr_assert(!sb_team_tree_would_cycle(t, ids[i], ids[0]) || i == 0);
    }
    cr_assert_gt(hits, 0u);
    sb_team_tree_free(t);
    double s = seconds_since(&t0);
    cr_assert_lt(s, 10.0, "took %.2f s", s);
    free(ids);
    free(e);
}

/* Cross-check against a naive parent walk on random trees. */
Test(team_tree, agrees_with_a_naive_walk)
{
    enum { N = 1500 };
    static char ids[N][8];
    static int parent[N];
    sb_team_edge e[N];
    srand(11);
    for (int i = 0; i < N; i++) {
        snprintf(ids[i], sizeof ids[i], "n%d", i);
        parent[i] = (i == 0 || rand() % 10 == 0) ? -1 : rand() % i; /* a forest */
        e[i] = (sb_team_edge){ids[i], parent[i] >= 0 ? ids[parent[i]] : NULL};
    }
    sb_team_tree *t = build_ok(e, N);
    for (int k = 0; k < 20000; k++) {
        int a = rand() % N, x = rand() % N;
        if (k % 3 == 0) { /* bias towards related pairs */
            a = x;
            for (int s = rand() % 4; s > 0 && parent[a] >= 0; s--)
                a = parent[a];
        }
        bool naive = false;
        size_t depth = 0;
        for (int y = x; y >= 0; y = parent[y]) {
            naive |= y == a;
            depth++;
        }
        cr_assert_eq(sb_team_tree_in_subtree(t, ids[a], ids[x]), naive, "%s under %s", ids[x],
                     ids[a]);
        /* moving a under x cycles exactly when x is inside a's subtree */
        cr_assert_eq(sb_team_tree_would_cycle(t, ids[a], ids[x]), naive, "move %s under %s",
                     ids[a], ids[x]);
        cr_assert_eq(sb_team_tree_depth(t, ids[x]), depth);
    }
    sb_team_tree_free(t);
}
