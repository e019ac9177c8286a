/*
 * domain/team_tree.h — the team hierarchy as an immutable index.
 *
 * Contract: sb_team_tree_build takes the teams as {team_id, parent_id} rows
 * (parent NULL or "" for a root; any order) and builds, in O(n), a forest
 * with each team's parent, depth, subtree height and pre-order interval, so
 * that "is X inside Y's subtree" is O(1) and "ancestors of X" is O(depth).
 * It refuses what a tree cannot be: an empty or duplicate id, a parent that
 * is not in the input, a team that is its own parent, and cycles (naming a
 * team on the cycle). The tree copies the id strings; the input may be freed
 * after build. A built tree is read-only and may be shared between threads
 * (e.g. cached across requests until a team changes).
 *
 * The proposals a team route must check before writing:
 *   - sb_team_tree_check_create: the parent exists and the new team stays
 *     within SB_TEAM_TREE_MAX_DEPTH levels;
 *   - sb_team_tree_check_reparent: both exist, the move does not make a
 *     cycle (self-parent, or a new parent inside the team's own subtree),
 *     and the moved subtree stays within the depth limit.
 * Depth is counted in levels: a root team is at depth 1.
 */
#ifndef SB_DOMAIN_TEAM_TREE_H
#define SB_DOMAIN_TEAM_TREE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/error.h"

#define SB_TEAM_TREE_MAX_DEPTH 16

typedef struct sb_team_edge {
    const char *team_id;
    const char *parent_id; /* NULL or "" for a root team */
} sb_team_edge;

typedef struct sb_team_tree sb_team_tree;

int sb_team_tree_build(const sb_team_edge *edges, size_t n, sb_team_tree **out, sb_error *err);
void sb_team_tree_free(sb_team_tree *tree);

size_t sb_team_tree_count(const sb_team_tree *tree);
/* True when team_id is a team of the tree. */
bool sb_team_tree_contains(const sb_team_tree *tree, const char *team_id);
/* Depth in levels (root = 1); 0 for an unknown team. */
size_t sb_team_tree_depth(const sb_team_tree *tree, const char *team_id);
/*
 * The ancestors of team_id, nearest first (its parent, grandparent, ... the
 * root), preceded by team_id itself when include_self. Writes up to cap ids
 * (pointers into the tree) and returns how many there are; 0 for an unknown
 * team.
 */
size_t sb_team_tree_ancestors(const sb_team_tree *tree, const char *team_id, bool include_self,
                              const char **out, size_t cap);
/* True when team_id is subtree_root_id or one of its descendants. */
bool sb_team_tree_in_subtree(const sb_team_tree *tree, const char *subtree_root_id,
                             const char *team_id);
/*
 * True when making new_parent_id the parent of team_id would create a cycle:
 * the same team, or a new parent inside team_id's subtree. A NULL parent
 * (make it a root) never cycles; unknown ids cannot cycle (the check_ calls
 * report them).
 */
bool sb_team_tree_would_cycle(const sb_team_tree *tree, const char *team_id,
                              const char *new_parent_id);
/* 0 when team_id may be moved under new_parent_id (NULL = make it a root);
 * else -1 with SB_DOMAIN_E_NOT_FOUND, _CYCLE or _TOO_DEEP. */
int sb_team_tree_check_reparent(const sb_team_tree *tree, const char *team_id,
                                const char *new_parent_id, sb_error *err);
/* 0 when a new team may be created under parent_id (NULL = a new root). */
int sb_team_tree_check_create(const sb_team_tree *tree, const char *parent_id, sb_error *err);

/*
 * Node-level access for the other domain modules (scope.c). Nodes are dense
 * indexes 0..count-1 in input order; pre-order positions are 0..count-1 in
 * depth-first order; node x is in node g's subtree iff
 * preorder(g) <= preorder(x) < preorder_end(g).
 */
long sb_team_tree_node(const sb_team_tree *tree, const char *team_id); /* -1 unknown */
const char *sb_team_tree_node_id(const sb_team_tree *tree, size_t node);
long sb_team_tree_node_parent(const sb_team_tree *tree, size_t node); /* -1 for a root */
uint32_t sb_team_tree_node_preorder(const sb_team_tree *tree, size_t node);
uint32_t sb_team_tree_node_preorder_end(const sb_team_tree *tree, size_t node);
size_t sb_team_tree_node_at_preorder(const sb_team_tree *tree, uint32_t position);

#endif
