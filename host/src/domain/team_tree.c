/* domain/team_tree.c — see team_tree.h. */
#include "domain/team_tree.h"

#include <stdlib.h>
#include <string.h>

#include "domain/domain_error.h"
#include "domain/id_index.h"

struct sb_team_tree {
    size_t n;
    char *arena;       /* the copied ids, NUL-separated */
    const char **ids;  /* node -> id (into arena) */
    int32_t *parent;   /* node -> parent node, -1 for a root */
    uint32_t *depth;   /* levels, root = 1 */
    uint32_t *height;  /* levels of the subtree rooted here, leaf = 1 */
    uint32_t *pre;     /* node -> pre-order position */
    uint32_t *pre_end; /* node -> one past the last position of its subtree */
    uint32_t *order;   /* pre-order position -> node */
    sb_id_index index;
};

static bool is_root_parent(const char *parent_id)
{
    return parent_id == NULL || parent_id[0] == '\0';
}

void sb_team_tree_free(sb_team_tree *t)
{
    if (t == NULL)
        return;
    sb_id_index_free(&t->index);
    free(t->arena);
    free(t->ids);
    free(t->parent);
    free(t->depth);
    free(t->height);
    free(t->pre);
    free(t->pre_end);
    free(t->order);
    free(t);
}

static int copy_ids(sb_team_tree *t, const sb_team_edge *edges, sb_error *err)
{
    size_t total = 0;
    for (size_t i = 0; i < t->n; i++) {
        if (edges[i].team_id == NULL || edges[i].team_id[0] == '\0')
            return sb_error_set(err, SB_DOMAIN_E_INVALID, "teams[%zu]: empty team id", i);
        total += strlen(edges[i].team_id) + 1;
    }
    t->arena = malloc(total ? total : 1);
    if (t->arena == NULL)
        return sb_error_set(err, SB_DOMAIN_E_NO_MEMORY, "team tree: out of memory");
    char *p = t->arena;
    for (size_t i = 0; i < t->n; i++) {
        size_t len = strlen(edges[i].team_id) + 1;
        memcpy(p, edges[i].team_id, len);
        t->ids[i] = p;
        p += len;
    }
    return 0;
}

static int link_parents(sb_team_tree *t, const sb_team_edge *edges, sb_error *err)
{
    for (size_t i = 0; i < t->n; i++) {
        if (is_root_parent(edges[i].parent_id)) {
            t->parent[i] = -1;
            continue;
        }
        long p = sb_id_index_find(&t->index, edges[i].parent_id);
        if (p < 0)
            return sb_error_set(err, SB_DOMAIN_E_NOT_FOUND,
                                "team %.64s: its parent team %.64s is not a known team",
                                t->ids[i], edges[i].parent_id);
        if ((size_t)p == i)
            return sb_error_set(err, SB_DOMAIN_E_CYCLE, "team %.64s is its own parent",
                                t->ids[i]);
        t->parent[i] = (int32_t)p;
    }
    return 0;
}

/* Iterative depth-first walk from every root: pre-order positions, depth,
 * height. Returns the number of nodes reached (n unless there is a cycle). */
static size_t walk(sb_team_tree *t, const uint32_t *child_start, const uint32_t *children,
                   uint32_t *stack, uint32_t *next_child)
{
    uint32_t position = 0;
    for (size_t r = 0; r < t->n; r++) {
        if (t->parent[r] != -1)
            continue;
        size_t top = 0;
        stack[top++] = (uint32_t)r;
        t->depth[r] = 1;
        t->pre[r] = position;
        t->order[position++] = (uint32_t)r;
        next_child[r] = child_start[r];
        t->height[r] = 1;
        while (top > 0) {
            uint32_t x = stack[top - 1];
            if (next_child[x] < child_start[x + 1]) {
                uint32_t c = children[next_child[x]++];
                t->depth[c] = t->depth[x] + 1;
                t->pre[c] = position;
                t->order[position++] = c;
                t->height[c] = 1;
                next_child[c] = child_start[c];
                stack[top++] = c;
                continue;
            }
            top--;
            t->pre_end[x] = position;
            if (t->parent[x] >= 0 && t->height[t->parent[x]] < t->height[x] + 1)
                t->height[t->parent[x]] = t->height[x] + 1;
        }
    }
    return position;
}

/* A node on a cycle: follow parents from an unreached node for n steps. */
static size_t node_on_cycle(const sb_team_tree *t, const uint8_t *reached)
{
    size_t x = 0;
    while (reached[x])
        x++;
    for (size_t i = 0; i < t->n; i++)
        x = (size_t)t->parent[x];
    return x;
}

static int index_tree(sb_team_tree *t, sb_error *err)
{
    size_t n = t->n;
    uint32_t *child_start = calloc(n + 2, sizeof *child_start);
    uint32_t *children = malloc((n ? n : 1) * sizeof *children);
    uint32_t *stack = malloc((n ? n : 1) * sizeof *stack);
    uint32_t *next_child = malloc((n ? n : 1) * sizeof *next_child);
    int rc = 0;
    if (child_start == NULL || children == NULL || stack == NULL || next_child == NULL) {
        rc = sb_error_set(err, SB_DOMAIN_E_NO_MEMORY, "team tree: out of memory");
        goto out;
    }
    /* Children in CSR form, in input order. */
    for (size_t i = 0; i < n; i++)
        if (t->parent[i] >= 0)
            child_start[t->parent[i] + 2]++;
    for (size_t i = 2; i < n + 2; i++)
        child_start[i] += child_start[i - 1];
    for (size_t i = 0; i < n; i++)
        if (t->parent[i] >= 0)
            children[child_start[t->parent[i] + 1]++] = (uint32_t)i;
    /* child_start[x] .. child_start[x + 1] now delimit x's children. */
    if (walk(t, child_start, children, stack, next_child) != n) {
        uint8_t *reached = calloc(n, 1);
        if (reached == NULL) {
            rc = sb_error_set(err, SB_DOMAIN_E_NO_MEMORY, "team tree: out of memory");
            goto out;
        }
        for (size_t r = 0; r < n; r++)
            if (t->parent[r] == -1)
                for (uint32_t p = t->pre[r]; p < t->pre_end[r]; p++)
                    reached[t->order[p]] = 1;
        size_t x = node_on_cycle(t, reached);
        free(reached);
        rc = sb_error_set(err, SB_DOMAIN_E_CYCLE,
                          "the teams form a cycle through team %.64s (its parent chain never "
                          "reaches a root team)",
                          t->ids[x]);
    }
out:
    free(child_start);
    free(children);
    free(stack);
    free(next_child);
    return rc;
}

int sb_team_tree_build(const sb_team_edge *edges, size_t n, sb_team_tree **out, sb_error *err)
{
    if (out != NULL)
        *out = NULL;
    if (out == NULL || (edges == NULL && n > 0))
        return sb_error_set(err, SB_DOMAIN_E_INVALID, "team tree: no teams given");
    if (n >= INT32_MAX / 4)
        return sb_error_set(err, SB_DOMAIN_E_INVALID, "team tree: %zu teams is too many", n);
    sb_team_tree *t = calloc(1, sizeof *t);
    if (t == NULL)
        return sb_error_set(err, SB_DOMAIN_E_NO_MEMORY, "team tree: out of memory");
    t->n = n;
    size_t m = n ? n : 1;
    t->ids = calloc(m, sizeof *t->ids);
    t->parent = malloc(m * sizeof *t->parent);
    t->depth = malloc(m * sizeof *t->depth);
    t->height = malloc(m * sizeof *t->height);
    t->pre = malloc(m * sizeof *t->pre);
    t->pre_end = malloc(m * sizeof *t->pre_end);
    t->order = malloc(m * sizeof *t->order);
    if (t->ids == NULL || t->parent == NULL || t->depth == NULL || t->height == NULL ||
        t->pre == NULL || t->pre_end == NULL || t->order == NULL) {
        sb_team_tree_free(t);
        return sb_error_set(err, SB_DOMAIN_E_NO_MEMORY, "team tree: out of memory");
    }
    if (copy_ids(t, edges, err) != 0) {
        sb_team_tree_free(t);
        return -1;
    }
    size_t dup = 0;
    int ix = sb_id_index_build(&t->index, t->ids, n, &dup);
    if (ix != 0) {
        int rc = ix > 0 ? sb_error_set(err, SB_DOMAIN_E_DUPLICATE,
                                       "teams[%zu]: team %.64s is listed twice", dup, t->ids[dup])
                        : sb_error_set(err, SB_DOMAIN_E_NO_MEMORY, "team tree: out of memory");
        sb_team_tree_free(t);
        return rc;
    }
    if (link_parents(t, edges, err) != 0 || index_tree(t, err) != 0) {
        sb_team_tree_free(t);
        return -1;
    }
    *out = t;
    return 0;
}

size_t sb_team_tree_count(const sb_team_tree *t) { return t ? t->n : 0; }

long sb_team_tree_node(const sb_team_tree *t, const char *team_id)
{
    return t ? sb_id_index_find(&t->index, team_id) : -1;
}

const char *sb_team_tree_node_id(const sb_team_tree *t, size_t node)
{
    return node < t->n ? t->ids[node] : NULL;
}

long sb_team_tree_node_parent(const sb_team_tree *t, size_t node)
{
    return node < t->n ? t->parent[node] : -1;
}

uint32_t sb_team_tree_node_preorder(const sb_team_tree *t, size_t node) { return t->pre[node]; }

uint32_t sb_team_tree_node_preorder_end(const sb_team_tree *t, size_t node)
{
    return t->pre_end[node];
}

size_t sb_team_tree_node_at_preorder(const sb_team_tree *t, uint32_t position)
{
    return t->order[position];
}

bool sb_team_tree_contains(const sb_team_tree *t, const char *team_id)
{
    return sb_team_tree_node(t, team_id) >= 0;
}

size_t sb_team_tree_depth(const sb_team_tree *t, const char *team_id)
{
    long x = sb_team_tree_node(t, team_id);
    return x < 0 ? 0 : t->depth[x];
}

size_t sb_team_tree_ancestors(const sb_team_tree *t, const char *team_id, bool include_self,
                              const char **out, size_t cap)
{
    long x = sb_team_tree_node(t, team_id);
    if (x < 0)
        return 0;
    size_t n = 0;
    for (long a = include_self ? x : t->parent[x]; a >= 0; a = t->parent[a]) {
        if (out != NULL && n < cap)
            out[n] = t->ids[a];
        n++;
    }
    return n;
}

static bool node_in_subtree(const sb_team_tree *t, size_t root, size_t x)
{
    return t->pre[root] <= t->pre[x] && t->pre[x] < t->pre_end[root];
}

bool sb_team_tree_in_subtree(const sb_team_tree *t, const char *subtree_root_id,
                             const char *team_id)
{
    long r = sb_team_tree_node(t, subtree_root_id), x = sb_team_tree_node(t, team_id);
    return r >= 0 && x >= 0 && node_in_subtree(t, (size_t)r, (size_t)x);
}

bool sb_team_tree_would_cycle(const sb_team_tree *t, const char *team_id,
                              const char *new_parent_id)
{
    if (team_id == NULL || is_root_parent(new_parent_id))
        return false;
    if (strcmp(team_id, new_parent_id) == 0)
        return true;
    return sb_team_tree_in_subtree(t, team_id, new_parent_id);
}

int sb_team_tree_check_reparent(const sb_team_tree *t, const char *team_id,
                                const char *new_parent_id, sb_error *err)
{
    long x = sb_team_tree_node(t, team_id);
    if (x < 0)
        return sb_error_set(err, SB_DOMAIN_E_NOT_FOUND, "team %.64s does not exist",
                            team_id ? team_id : "(none)");
    size_t new_depth = 1;
    if (!is_root_parent(new_parent_id)) {
        if (strcmp(team_id, new_parent_id) == 0)
            return sb_error_set(err, SB_DOMAIN_E_CYCLE,
                                "team %.64s cannot be its own parent; choose another team",
                                team_id);
        long p = sb_team_tree_node(t, new_parent_id);
        if (p < 0)
            return sb_error_set(err, SB_DOMAIN_E_NOT_FOUND, "parent team %.64s does not exist",
                                new_parent_id);
        if (node_in_subtree(t, (size_t)x, (size_t)p))
            return sb_error_set(err, SB_DOMAIN_E_CYCLE,
                                "team %.64s is inside the subtree of team %.64s; moving %.64s "
                                "under it would make a cycle",
                                new_parent_id, team_id, team_id);
        new_depth = t->depth[p] + 1;
    }
    size_t deepest = new_depth + t->height[x] - 1;
    if (deepest > SB_TEAM_TREE_MAX_DEPTH)
        return sb_error_set(err, SB_DOMAIN_E_TOO_DEEP,
                            "moving team %.64s there would make the team tree %zu levels deep; "
                            "at most %d are allowed",
                            team_id, deepest, SB_TEAM_TREE_MAX_DEPTH);
    return 0;
}

int sb_team_tree_check_create(const sb_team_tree *t, const char *parent_id, sb_error *err)
{
    if (is_root_parent(parent_id))
        return 0;
    long p = sb_team_tree_node(t, parent_id);
    if (p < 0)
        return sb_error_set(err, SB_DOMAIN_E_NOT_FOUND, "parent team %.64s does not exist",
                            parent_id);
    if (t->depth[p] + 1 > SB_TEAM_TREE_MAX_DEPTH)
        return sb_error_set(err, SB_DOMAIN_E_TOO_DEEP,
                            "a team under %.64s would be at level %u; at most %d levels are "
                            "allowed",
                            parent_id, (unsigned)(t->depth[p] + 1), SB_TEAM_TREE_MAX_DEPTH);
    return 0;
}
