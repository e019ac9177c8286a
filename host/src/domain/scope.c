/* domain/scope.c — see scope.h. */
#include "domain/scope.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "domain/domain_error.h"
#include "domain/id_index.h"
#include "util/redact.h"

struct sb_tenancy {
    sb_team_tree *teams;
    size_t n_projects;
    char *arena;              /* copied project ids */
    const char **project_ids; /* project -> id */
    int32_t *project_team;    /* project -> owning team node, -1 for none */
    sb_id_index index;
};

/* A permission set attached to a team node or a project index. */
typedef struct keyed_set {
    uint32_t key;
    sb_permission_set perms;
} keyed_set;

struct sb_rbac_ctx {
    const sb_tenancy *t;
    sb_permission_set global;
    keyed_set *teams; /* sorted by node, one entry per node */
    size_t n_teams;
    keyed_set *projects; /* sorted by project, one entry per project */
    size_t n_projects;
    size_t ignored;
};

/* ---- tenancy ---------------------------------------------------------- */

void sb_tenancy_free(sb_tenancy *t)
{
    if (t == NULL)
        return;
    sb_team_tree_free(t->teams);
    sb_id_index_free(&t->index);
    free(t->arena);
    free(t->project_ids);
    free(t->project_team);
    free(t);
}

static int copy_projects(sb_tenancy *t, const sb_project_owner *projects, sb_error *err)
{
    size_t total = 1;
    for (size_t i = 0; i < t->n_projects; i++) {
        if (projects[i].project_id == NULL || projects[i].project_id[0] == '\0')
            return sb_error_set(err, SB_DOMAIN_E_INVALID, "projects[%zu]: empty project id", i);
        total += strlen(projects[i].project_id) + 1;
    }
    t->arena = malloc(total);
    if (t->arena == NULL)
        return sb_error_set(err, SB_DOMAIN_E_NO_MEMORY, "tenancy: out of memory");
    char *p = t->arena;
    for (size_t i = 0; i < t->n_projects; i++) {
        size_t len = strlen(projects[i].project_id) + 1;
        memcpy(p, projects[i].project_id, len);
        t->project_ids[i] = p;
        p += len;
        const char *team = projects[i].team_id;
        if (team == NULL || team[0] == '\0') {
            t->project_team[i] = -1;
            continue;
        }
        long node = sb_team_tree_node(t->teams, team);
        if (node < 0)
            return sb_error_set(err, SB_DOMAIN_E_NOT_FOUND,
                                "project %.64s: its owning team %.64s is not a known team",
                                t->project_ids[i], team);
        t->project_team[i] = (int32_t)node;
    }
    return 0;
}

int sb_tenancy_build(const sb_team_edge *teams, size_t n_teams, const sb_project_owner *projects,
                     size_t n_projects, sb_tenancy **out, sb_error *err)
{
    if (out != NULL)
        *out = NULL;
    if (out == NULL || (projects == NULL && n_projects > 0))
        return sb_error_set(err, SB_DOMAIN_E_INVALID, "tenancy: no projects given");
    if (n_projects >= INT32_MAX / 4)
        return sb_error_set(err, SB_DOMAIN_E_INVALID, "tenancy: %zu projects is too many",
                            n_projects);
    sb_tenancy *t = calloc(1, sizeof *t);
    if (t == NULL)
        return sb_error_set(err, SB_DOMAIN_E_NO_MEMORY, "tenancy: out of memory");
    if (sb_team_tree_build(teams, n_teams, &t->teams, err) != 0) {
        free(t);
        return -1;
    }
    t->n_projects = n_projects;
    size_t m = n_projects ? n_projects : 1;
    t->project_ids = calloc(m, sizeof *t->project_ids);
    t->project_team = malloc(m * sizeof *t->project_team);
    if (t->project_ids == NULL || t->project_team == NULL) {
        sb_tenancy_free(t);
        return sb_error_set(err, SB_DOMAIN_E_NO_MEMORY, "tenancy: out of memory");
    }
    if (copy_projects(t, projects, err) != 0) {
        sb_tenancy_free(t);
        return -1;
    }
    size_t dup = 0;
    int ix = sb_id_index_build(&t->index, t->project_ids, n_projects, &dup);
    if (ix != 0) {
        int rc = ix > 0 ? sb_error_set(err, SB_DOMAIN_E_DUPLICATE,
                                       "projects[%zu]: project %.64s is listed twice", dup,
                                       t->project_ids[dup])
                        : sb_error_set(err, SB_DOMAIN_E_NO_MEMORY, "tenancy: out of memory");
        sb_tenancy_free(t);
        return rc;
    }
    *out = t;
    return 0;
}

const sb_team_tree *sb_tenancy_teams(const sb_tenancy *t) { return t->teams; }
size_t sb_tenancy_project_count(const sb_tenancy *t) { return t->n_projects; }

bool sb_tenancy_has_project(const sb_tenancy *t, const char *project_id)
{
    return sb_id_index_find(&t->index, project_id) >= 0;
}

const char *sb_tenancy_project_team(const sb_tenancy *t, const char *project_id)
{
    long p = sb_id_index_find(&t->index, project_id);
    if (p < 0 || t->project_team[p] < 0)
        return NULL;
    return sb_team_tree_node_id(t->teams, (size_t)t->project_team[p]);
}

/* ---- per-user context ------------------------------------------------- */

static int compare_keyed(const void *a, const void *b)
{
    uint32_t x = ((const keyed_set *)a)->key, y = ((const keyed_set *)b)->key;
    return (x > y) - (x < y);
}

/* Sorts and merges entries with the same key; returns the new count. */
static size_t sort_merge(keyed_set *v, size_t n)
{
    if (n == 0)
        return 0;
    qsort(v, n, sizeof *v, compare_keyed);
    size_t w = 0;
    for (size_t r = 1; r < n; r++) {
        if (v[r].key == v[w].key)
            v[w].perms |= v[r].perms;
        else
            v[++w] = v[r];
    }
    return w + 1;
}

static sb_permission_set find_keyed(const keyed_set *v, size_t n, uint32_t key)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (v[mid].key == key)
            return v[mid].perms;
        if (v[mid].key < key)
            lo = mid + 1;
        else
            hi = mid;
    }
    return 0;
}

static int check_scope_shape(const sb_scope *s, const char *what, size_t i, sb_error *err)
{
    bool has_id = s->id != NULL && s->id[0] != '\0';
    switch (s->kind) {
    case SB_SCOPE_GLOBAL:
        if (has_id)
            return sb_error_set(err, SB_DOMAIN_E_INVALID,
                                "%s[%zu]: a global scope carries no id (got %.64s)", what, i,
                                s->id);
        return 0;
    case SB_SCOPE_TEAM:
    case SB_SCOPE_PROJECT:
        if (!has_id)
            return sb_error_set(err, SB_DOMAIN_E_INVALID, "%s[%zu]: a %s scope needs an id", what,
                                i, s->kind == SB_SCOPE_TEAM ? "team" : "project");
        return 0;
    }
    return sb_error_set(err, SB_DOMAIN_E_INVALID, "%s[%zu]: unknown scope kind %d", what, i,
                        (int)s->kind);
}

void sb_rbac_ctx_free(sb_rbac_ctx *ctx)
{
    if (ctx == NULL)
        return;
    free(ctx->teams);
    free(ctx->projects);
    free(ctx);
}

int sb_rbac_ctx_build(const sb_tenancy *t, const sb_grant *grants, size_t n, sb_rbac_ctx **out,
                      sb_error *err)
{
    if (out != NULL)
        *out = NULL;
    if (t == NULL || out == NULL || (grants == NULL && n > 0))
        return sb_error_set(err, SB_DOMAIN_E_INVALID, "rbac: no tenancy or grants given");
    for (size_t i = 0; i < n; i++)
        if (check_scope_shape(&grants[i].scope, "grants", i, err) != 0)
            return -1;
    sb_rbac_ctx *c = calloc(1, sizeof *c);
    if (c == NULL)
        return sb_error_set(err, SB_DOMAIN_E_NO_MEMORY, "rbac: out of memory");
    c->t = t;
    c->teams = malloc((n ? n : 1) * sizeof *c->teams);
    c->projects = malloc((n ? n : 1) * sizeof *c->projects);
    if (c->teams == NULL || c->projects == NULL) {
        sb_rbac_ctx_free(c);
        return sb_error_set(err, SB_DOMAIN_E_NO_MEMORY, "rbac: out of memory");
    }
    for (size_t i = 0; i < n; i++) {
        sb_permission_set perms = grants[i].permissions & SB_PERMISSION_SET_ALL;
        const sb_scope *s = &grants[i].scope;
        long key = -1;
        if (s->kind == SB_SCOPE_GLOBAL) {
            c->global |= perms;
            continue;
        }
        if (s->kind == SB_SCOPE_TEAM)
            key = sb_team_tree_node(t->teams, s->id);
        else
            key = sb_id_index_find(&t->index, s->id);
        if (key < 0) {
            c->ignored++;
            continue;
        }
        keyed_set e = {(uint32_t)key, perms};
        if (s->kind == SB_SCOPE_TEAM)
            c->teams[c->n_teams++] = e;
        else
            c->projects[c->n_projects++] = e;
    }
    c->n_teams = sort_merge(c->teams, c->n_teams);
    c->n_projects = sort_merge(c->projects, c->n_projects);
    *out = c;
    return 0;
}

size_t sb_rbac_ctx_ignored_grants(const sb_rbac_ctx *ctx) { return ctx->ignored; }

/* Team grants on node or any ancestor: O(depth * log grants). */
static sb_permission_set team_node_permissions(const sb_rbac_ctx *c, long node)
{
    sb_permission_set s = 0;
    if (c->n_teams == 0)
        return 0;
    for (long a = node; a >= 0; a = sb_team_tree_node_parent(c->t->teams, (size_t)a))
        s |= find_keyed(c->teams, c->n_teams, (uint32_t)a);
    return s;
}

sb_permission_set sb_rbac_permissions_global(const sb_rbac_ctx *ctx) { return ctx->global; }

sb_permission_set sb_rbac_permissions_team(const sb_rbac_ctx *ctx, const char *team_id)
{
    long node = sb_team_tree_node(ctx->t->teams, team_id);
    return ctx->global | (node >= 0 ? team_node_permissions(ctx, node) : 0);
}

sb_permission_set sb_rbac_permissions_project(const sb_rbac_ctx *ctx, const char *project_id)
{
    long p = sb_id_index_find(&ctx->t->index, project_id);
    if (p < 0)
        return ctx->global;
    sb_permission_set s = ctx->global | find_keyed(ctx->projects, ctx->n_projects, (uint32_t)p);
    if (ctx->t->project_team[p] >= 0)
        s |= team_node_permissions(ctx, ctx->t->project_team[p]);
    return s;
}

bool sb_rbac_allows_global(const sb_rbac_ctx *ctx, sb_permission perm)
{
    return ctx != NULL && sb_permission_set_has(ctx->global, perm);
}

bool sb_rbac_allows_team(const sb_rbac_ctx *ctx, sb_permission perm, const char *team_id)
{
    return ctx != NULL && sb_permission_set_has(sb_rbac_permissions_team(ctx, team_id), perm);
}

bool sb_rbac_allows_project(const sb_rbac_ctx *ctx, sb_permission perm, const char *project_id)
{
    return ctx != NULL &&
           sb_permission_set_has(sb_rbac_permissions_project(ctx, project_id), perm);
}

bool sb_rbac_allows_scope(const sb_rbac_ctx *ctx, sb_permission perm, const sb_scope *scope)
{
    if (ctx == NULL || scope == NULL || check_scope_shape(scope, "scope", 0, NULL) != 0)
        return false;
    switch (scope->kind) {
    case SB_SCOPE_GLOBAL:
        return sb_rbac_allows_global(ctx, perm);
    case SB_SCOPE_TEAM:
        return sb_rbac_allows_team(ctx, perm, scope->id);
    case SB_SCOPE_PROJECT:
        return sb_rbac_allows_project(ctx, perm, scope->id);
    }
    return false;
}

/* ---- lists ------------------------------------------------------------ */

void sb_id_list_free(sb_id_list *list)
{
    if (list == NULL)
        return;
    free(list->ids);
    memset(list, 0, sizeof *list);
}

typedef struct interval {
    uint32_t start, end; /* pre-order positions [start, end) */
} interval;

static int compare_interval(const void *a, const void *b)
{
    uint32_t x = ((const interval *)a)->start, y = ((const interval *)b)->start;
    return (x > y) - (x < y);
}

/*
 * The pre-order intervals of the subtrees where a team grant holds perm,
 * sorted and with nested ones dropped (subtrees nest or are disjoint).
 */
static size_t granted_intervals(const sb_rbac_ctx *c, sb_permission perm, interval *out)
{
    size_t n = 0;
    for (size_t i = 0; i < c->n_teams; i++) {
        if (!sb_permission_set_has(c->teams[i].perms, perm))
            continue;
        out[n].start = sb_team_tree_node_preorder(c->t->teams, c->teams[i].key);
        out[n].end = sb_team_tree_node_preorder_end(c->t->teams, c->teams[i].key);
        n++;
    }
    if (n == 0)
        return 0;
    qsort(out, n, sizeof *out, compare_interval);
    size_t w = 0;
    for (size_t r = 1; r < n; r++)
        if (out[r].start >= out[w].end)
            out[++w] = out[r];
    return w + 1;
}

static bool in_intervals(const interval *v, size_t n, uint32_t pos)
{
    size_t lo = 0, hi = n; /* find the last interval with start <= pos */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (v[mid].start <= pos)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo > 0 && pos < v[lo - 1].end;
}

static int list_alloc(sb_id_list *out, size_t cap, sb_error *err)
{
    memset(out, 0, sizeof *out);
    out->ids = malloc((cap ? cap : 1) * sizeof *out->ids);
    if (out->ids == NULL)
        return sb_error_set(err, SB_DOMAIN_E_NO_MEMORY, "rbac: out of memory");
    return 0;
}

int sb_rbac_visible_projects(const sb_rbac_ctx *ctx, sb_permission perm, sb_id_list *out,
                             sb_error *err)
{
    if (ctx == NULL || out == NULL)
        return sb_error_set(err, SB_DOMAIN_E_INVALID, "rbac: no context or output given");
    const sb_tenancy *t = ctx->t;
    if (list_alloc(out, t->n_projects, err) != 0)
        return -1;
    if (sb_permission_set_has(ctx->global, perm)) {
        memcpy(out->ids, t->project_ids, t->n_projects * sizeof *out->ids);
        out->count = t->n_projects;
        out->all = true;
        return 0;
    }
    interval *iv = malloc((ctx->n_teams ? ctx->n_teams : 1) * sizeof *iv);
    if (iv == NULL) {
        sb_id_list_free(out);
        return sb_error_set(err, SB_DOMAIN_E_NO_MEMORY, "rbac: out of memory");
    }
    size_t n_iv = granted_intervals(ctx, perm, iv);
    for (size_t p = 0; p < t->n_projects; p++) {
        bool ok = sb_permission_set_has(find_keyed(ctx->projects, ctx->n_projects, (uint32_t)p),
                                        perm);
        if (!ok && n_iv > 0 && t->project_team[p] >= 0)
            ok = in_intervals(iv, n_iv,
                              sb_team_tree_node_preorder(t->teams, (size_t)t->project_team[p]));
        if (ok)
            out->ids[out->count++] = t->project_ids[p];
    }
    free(iv);
    return 0;
}

int sb_rbac_visible_teams(const sb_rbac_ctx *ctx, sb_permission perm, sb_id_list *out,
                          sb_error *err)
{
    if (ctx == NULL || out == NULL)
        return sb_error_set(err, SB_DOMAIN_E_INVALID, "rbac: no context or output given");
    const sb_team_tree *tree = ctx->t->teams;
    size_t n = sb_team_tree_count(tree);
    bool all = sb_permission_set_has(ctx->global, perm);
    interval *iv = malloc((ctx->n_teams ? ctx->n_teams : 1) * sizeof *iv);
    if (iv == NULL)
        return sb_error_set(err, SB_DOMAIN_E_NO_MEMORY, "rbac: out of memory");
    size_t n_iv = 0;
    if (all) {
        iv[0].start = 0;
        iv[0].end = (uint32_t)n;
        n_iv = 1;
    } else {
        n_iv = granted_intervals(ctx, perm, iv);
    }
    size_t total = 0;
    for (size_t i = 0; i < n_iv; i++)
        total += iv[i].end - iv[i].start;
    if (list_alloc(out, total, err) != 0) {
        free(iv);
        return -1;
    }
    for (size_t i = 0; i < n_iv; i++)
        for (uint32_t pos = iv[i].start; pos < iv[i].end; pos++)
            out->ids[out->count++] =
                sb_team_tree_node_id(tree, sb_team_tree_node_at_preorder(tree, pos));
    out->all = all;
    free(iv);
    return 0;
}

/* ---- delegation ------------------------------------------------------- */

/* "globally", "at team <id>", "at project <id>" for messages. */
static const char *scope_words(const sb_scope *s, char *buf, size_t cap)
{
    if (s->kind == SB_SCOPE_GLOBAL)
        return "globally";
    sb_redact_format(buf, cap, "at %s %.64s", s->kind == SB_SCOPE_TEAM ? "team" : "project",
                     s->id);
    return buf;
}

/* The granter's permissions at scope, or -1 with the error filled. */
static int permissions_at(const sb_rbac_ctx *c, const sb_scope *scope, sb_permission_set *out,
                          sb_error *err)
{
    *out = 0; /* nothing held until the scope is known */
    if (c == NULL || scope == NULL)
        return sb_error_set(err, SB_DOMAIN_E_INVALID, "rbac: no context or scope given");
    if (check_scope_shape(scope, "scope", 0, err) != 0)
        return -1;
    switch (scope->kind) {
    case SB_SCOPE_GLOBAL:
        *out = c->global;
        return 0;
    case SB_SCOPE_TEAM:
        if (!sb_team_tree_contains(c->t->teams, scope->id))
            return sb_error_set(err, SB_DOMAIN_E_NOT_FOUND, "team %.64s does not exist",
                                scope->id);
        *out = sb_rbac_permissions_team(c, scope->id);
        return 0;
    case SB_SCOPE_PROJECT:
        if (!sb_tenancy_has_project(c->t, scope->id))
            return sb_error_set(err, SB_DOMAIN_E_NOT_FOUND, "project %.64s does not exist",
                                scope->id);
        *out = sb_rbac_permissions_project(c, scope->id);
        return 0;
    }
    return -1; /* unreachable: check_scope_shape refused it */
}

int sb_rbac_can_revoke(const sb_rbac_ctx *granter, const sb_scope *scope, sb_error *err)
{
    sb_permission_set held;
    if (permissions_at(granter, scope, &held, err) != 0)
        return -1;
    char where[96];
    if (!sb_permission_set_has(held, SB_PERM_USER_ROLE_EDIT))
        return sb_error_set(err, SB_DOMAIN_E_DENIED,
                            "managing grants %s needs user_role.edit there",
                            scope_words(scope, where, sizeof where));
    return 0;
}

int sb_rbac_can_grant(const sb_rbac_ctx *granter, sb_permission_set role, const sb_scope *scope,
                      sb_error *err)
{
    if ((role & ~SB_PERMISSION_SET_ALL) != 0)
        return sb_error_set(err, SB_DOMAIN_E_INVALID,
                            "the role carries permission bits outside the catalog");
    if (sb_rbac_can_revoke(granter, scope, err) != 0)
        return -1;
    sb_permission_set held;
    (void)permissions_at(granter, scope, &held, err);
    sb_permission_set missing = role & ~held;
    if (missing == 0)
        return 0;
    char names[320];
    size_t len = 0;
    names[0] = '\0';
    for (size_t i = 0; i < SB_PERM_COUNT; i++) {
        if (!(missing & SB_PERMISSION_BIT(i)))
            continue;
        const char *key = sb_permission_key((sb_permission)i);
        size_t k = strlen(key);
        if (len + k + 3 >= sizeof names)
            break;
        if (len > 0) {
            memcpy(names + len, ", ", 2);
            len += 2;
        }
        memcpy(names + len, key, k + 1);
        len += k;
    }
    char where[96];
    return sb_error_set(err, SB_DOMAIN_E_DENIED,
                        "you cannot grant a role %s that carries permissions you do not hold "
                        "there: %s",
                        scope_words(scope, where, sizeof where), names);
}
