/*
 * domain/permissions.h — the permission catalog and the system roles.
 *
 * Contract: the catalog is one static table {key, group, description,
 * checked_at}; sb_permission values index it, so a permission set is a 64-bit
 * mask and every RBAC test can enumerate the catalog. Keys are flat strings
 * matched exactly (no wildcards, no implication: policy.edit does not imply
 * policy.author, integration.edit does not imply integration.bind). Custom
 * role lists are validated here: an unknown or repeated key is an error that
 * names it (the earlier product stored free strings, which silently granted
 * nothing and hid typos).
 *
 * The catalog: the 18 permissions of the earlier product (first 18 rows,
 * keys unchanged so seeded data and clients keep working) plus project.edit,
 * environment.edit, user.manage and notification.edit for routes the earlier
 * product left unguarded. Requested names that map onto existing keys:
 * "secret.fill" is secret.value.provide; "agent.manage" is the trio
 * agent.mint / agent.revoke / agent.list.
 *
 * checked_at says which targets a route checks the permission against:
 * PLATFORM (only a global grant can satisfy it: the resource is global),
 * TEAM (a team and its subtree), PROJECT (a project; team grants reach the
 * projects owned by the team's subtree). A role granted at team or project
 * scope carries its PLATFORM-only permissions to no effect.
 *
 * System roles (is_system, undeletable). Mapping, and why it differs from the
 * earlier product:
 *
 *   admin                      every permission in the catalog (the earlier
 *                              admin lacked policy.author, integration.bind,
 *                              the reveal/fill/security permissions; that made
 *                              "admin" not the top role). Separation of duties
 *                              (requester != filler != approvers) is enforced
 *                              by the workflow, not by withholding permissions.
 *   approver                   secret.list, secret.approve, audit.read
 *   developer                  secret.list, secret.request, secret.reveal.direct
 *                              (the earlier developer also had audit.read: that
 *                              is a platform-wide read of who did what, more
 *                              than a requester needs — dropped)
 *   value_provider             secret.value.provide (fills/refuses cross-team
 *                              requests addressed to the grant's teams)
 *   security_approver          secret.security.approve
 *                              (both see the requests they act on through
 *                              those permissions, not through secret.list)
 *   provider_connection_binder integration.bind
 *   policy_author              policy.author
 */
#ifndef SB_DOMAIN_PERMISSIONS_H
#define SB_DOMAIN_PERMISSIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/error.h"

/* Order = catalog table order. Append only: ids may be persisted in caches. */
typedef enum sb_permission {
    SB_PERM_ROLE_EDIT,
    SB_PERM_USER_ROLE_EDIT,
    SB_PERM_TEAM_EDIT,
    SB_PERM_WORKFLOW_EDIT,
    SB_PERM_POLICY_EDIT,
    SB_PERM_POLICY_AUTHOR,
    SB_PERM_AGENT_MINT,
    SB_PERM_AGENT_REVOKE,
    SB_PERM_AGENT_LIST,
    SB_PERM_SECRET_REQUEST,
    SB_PERM_SECRET_APPROVE,
    SB_PERM_SECRET_REVEAL_DIRECT,
    SB_PERM_SECRET_VALUE_PROVIDE,
    SB_PERM_SECRET_SECURITY_APPROVE,
    SB_PERM_SECRET_LIST,
    SB_PERM_AUDIT_READ,
    SB_PERM_INTEGRATION_EDIT,
    SB_PERM_INTEGRATION_BIND,
    /* added in Secrets Bridge (C) */
    SB_PERM_PROJECT_EDIT,
    SB_PERM_ENVIRONMENT_EDIT,
    SB_PERM_USER_MANAGE,
    SB_PERM_NOTIFICATION_EDIT,
    SB_PERM_COUNT
} sb_permission;

/* Targets a permission is checked against (bit mask). */
enum {
    SB_PERM_AT_PLATFORM = 1u << 0,
    SB_PERM_AT_TEAM = 1u << 1,
    SB_PERM_AT_PROJECT = 1u << 2,
};

typedef struct sb_permission_info {
    sb_permission id;
    const char *key;         /* "secret.approve" */
    const char *group;       /* "secrets", "tenancy", "access", "policy", ... */
    const char *description; /* one line for GET /permissions and the docs */
    unsigned checked_at;     /* SB_PERM_AT_* bits */
} sb_permission_info;

/* A set of permissions: bit i = sb_permission i. */
typedef uint64_t sb_permission_set;

#define SB_PERMISSION_BIT(p) ((sb_permission_set)1 << (p))
#define SB_PERMISSION_SET_ALL ((SB_PERMISSION_BIT(SB_PERM_COUNT)) - 1)

/* The whole catalog (SB_PERM_COUNT rows, indexed by sb_permission). */
const sb_permission_info *sb_permission_catalog(size_t *count);
/* Row of p, or NULL when p is out of range. */
const sb_permission_info *sb_permission_info_of(sb_permission p);
/* Key of p ("?" when out of range). */
const char *sb_permission_key(sb_permission p);
/* Exact-match lookup: 0 and *out on success, -1 when key is not in the catalog. */
int sb_permission_lookup(const char *key, sb_permission *out);

static inline bool sb_permission_set_has(sb_permission_set s, sb_permission p)
{
    return (unsigned)p < SB_PERM_COUNT && (s & SB_PERMISSION_BIT(p)) != 0;
}
size_t sb_permission_set_count(sb_permission_set s);

/*
 * Validates a role's permission list (custom roles, role edits) and returns
 * it as a set. Errors: SB_DOMAIN_E_UNKNOWN_PERMISSION naming the key and its
 * position, SB_DOMAIN_E_DUPLICATE for a key listed twice, SB_DOMAIN_E_INVALID
 * for a NULL or empty entry. An empty list is valid (a role with no rights).
 */
int sb_permission_set_from_keys(const char *const *keys, size_t n, sb_permission_set *out,
                                sb_error *err);
/* Writes the keys of s in catalog order into out (up to cap); returns how
 * many s holds (so a short cap can be detected). */
size_t sb_permission_set_keys(sb_permission_set s, const char **out, size_t cap);

typedef struct sb_system_role {
    const char *name;
    const char *description;
    sb_permission_set permissions;
} sb_system_role;

const sb_system_role *sb_system_roles(size_t *count);
/* The system role called name, or NULL. */
const sb_system_role *sb_system_role_find(const char *name);

#endif
