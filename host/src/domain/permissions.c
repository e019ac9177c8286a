/* domain/permissions.c — see permissions.h. */
#include "domain/permissions.h"

#include <string.h>

#include "domain/domain_error.h"

_Static_assert(SB_PERM_COUNT <= 64, "a permission set is a 64-bit mask");

#define AT_P SB_PERM_AT_PLATFORM
#define AT_T SB_PERM_AT_TEAM
#define AT_J SB_PERM_AT_PROJECT

/* Indexed by sb_permission; a test checks row i has id i. */
static const sb_permission_info catalog[SB_PERM_COUNT] = {
    {SB_PERM_ROLE_EDIT, "role.edit", "access",
     "Create, edit and delete custom roles", AT_P},
    {SB_PERM_USER_ROLE_EDIT, "user_role.edit", "access",
     "Grant and revoke roles, within the grant's own scope", AT_P | AT_T | AT_J},
    {SB_PERM_TEAM_EDIT, "team.edit", "tenancy",
     "Create, rename, move and archive teams and manage their members", AT_T},
    {SB_PERM_WORKFLOW_EDIT, "workflow.edit", "policy",
     "Create, edit and delete approval workflows", AT_P},
    {SB_PERM_POLICY_EDIT, "policy.edit", "policy",
     "Edit policy rules at any anchor, their access flags and platform settings", AT_P},
    {SB_PERM_POLICY_AUTHOR, "policy.author", "policy",
     "Author team and project policy rules below the reserved priority band", AT_T | AT_J},
    {SB_PERM_AGENT_MINT, "agent.mint", "agents",
     "Mint and revoke agent enrollment tokens", AT_P},
    {SB_PERM_AGENT_REVOKE, "agent.revoke", "agents", "Revoke agents", AT_P},
    {SB_PERM_AGENT_LIST, "agent.list", "agents", "List agents and their status", AT_P},
    {SB_PERM_SECRET_REQUEST, "secret.request", "secrets",
     "Submit read, patch and cross-team requests for a project's secrets", AT_J},
    {SB_PERM_SECRET_APPROVE, "secret.approve", "secrets",
     "Approve or reject requests on a project's secrets", AT_J},
    {SB_PERM_SECRET_REVEAL_DIRECT, "secret.reveal.direct", "secrets",
     "Reveal without approval where policy allows it (never on prod)", AT_J},
    {SB_PERM_SECRET_VALUE_PROVIDE, "secret.value.provide", "secrets",
     "Fill or refuse cross-team requests addressed to the team", AT_T | AT_J},
    {SB_PERM_SECRET_SECURITY_APPROVE, "secret.security.approve", "secrets",
     "Cast the security vote on requests whose workflow needs one", AT_J},
    {SB_PERM_SECRET_LIST, "secret.list", "secrets",
     "See a project's environments, bound secrets and catalog entries", AT_J},
    {SB_PERM_AUDIT_READ, "audit.read", "audit", "Read the audit trail", AT_P},
    {SB_PERM_INTEGRATION_EDIT, "integration.edit", "integrations",
     "Manage provider connections, bindings, ArgoCD endpoints and GitOps mappings", AT_P},
    {SB_PERM_INTEGRATION_BIND, "integration.bind", "integrations",
     "Bind self-service provider connections to a project's non-prod environments", AT_J},
    {SB_PERM_PROJECT_EDIT, "project.edit", "tenancy",
     "Create and archive projects under a team and bind catalog secrets to them", AT_T | AT_J},
    {SB_PERM_ENVIRONMENT_EDIT, "environment.edit", "tenancy",
     "Create, edit and delete a project's environments", AT_J},
    {SB_PERM_USER_MANAGE, "user.manage", "access",
     "Create and disable local users and reset their passwords", AT_P},
    {SB_PERM_NOTIFICATION_EDIT, "notification.edit", "integrations",
     "Manage notification channels", AT_P},
};

#define BIT SB_PERMISSION_BIT

static const sb_system_role system_roles[] = {
    {"admin", "Everything, everywhere the grant reaches", SB_PERMISSION_SET_ALL},
    {"approver", "Reviews and decides requests",
     BIT(SB_PERM_SECRET_LIST) | BIT(SB_PERM_SECRET_APPROVE) | BIT(SB_PERM_AUDIT_READ)},
    {"developer", "Requests access to secrets and reveals where policy allows",
     BIT(SB_PERM_SECRET_LIST) | BIT(SB_PERM_SECRET_REQUEST) | BIT(SB_PERM_SECRET_REVEAL_DIRECT)},
    {"value_provider", "Supplies values for cross-team requests",
     BIT(SB_PERM_SECRET_VALUE_PROVIDE)},
    {"security_approver", "Casts the security vote", BIT(SB_PERM_SECRET_SECURITY_APPROVE)},
    {"provider_connection_binder", "Binds self-service provider connections",
     BIT(SB_PERM_INTEGRATION_BIND)},
    {"policy_author", "Authors scoped policy rules", BIT(SB_PERM_POLICY_AUTHOR)},
};

const sb_permission_info *sb_permission_catalog(size_t *count)
{
    if (count != NULL)
        *count = SB_PERM_COUNT;
    return catalog;
}

const sb_permission_info *sb_permission_info_of(sb_permission p)
{
    return (unsigned)p < SB_PERM_COUNT ? &catalog[p] : NULL;
}

const char *sb_permission_key(sb_permission p)
{
    return (unsigned)p < SB_PERM_COUNT ? catalog[p].key : "?";
}

int sb_permission_lookup(const char *key, sb_permission *out)
{
    if (key == NULL)
        return -1;
    for (size_t i = 0; i < SB_PERM_COUNT; i++) {
        if (strcmp(catalog[i].key, key) == 0) {
            if (out != NULL)
                *out = catalog[i].id;
            return 0;
        }
    }
    return -1;
}

size_t sb_permission_set_count(sb_permission_set s)
{
    s &= SB_PERMISSION_SET_ALL;
    size_t n = 0;
    for (; s != 0; s &= s - 1)
        n++;
    return n;
}

int sb_permission_set_from_keys(const char *const *keys, size_t n, sb_permission_set *out,
                                sb_error *err)
{
    if (out == NULL || (keys == NULL && n > 0))
        return sb_error_set(err, SB_DOMAIN_E_INVALID, "permission list: no list given");
    sb_permission_set set = 0;
    for (size_t i = 0; i < n; i++) {
        if (keys[i] == NULL || keys[i][0] == '\0')
            return sb_error_set(err, SB_DOMAIN_E_INVALID,
                                "permissions[%zu]: empty permission key; "
                                "use a key from GET /api/v1/permissions",
                                i);
        sb_permission p;
        if (sb_permission_lookup(keys[i], &p) != 0)
            return sb_error_set(err, SB_DOMAIN_E_UNKNOWN_PERMISSION,
                                "permissions[%zu]: unknown permission '%.80s'; "
                                "use a key from GET /api/v1/permissions",
                                i, keys[i]);
        if (set & SB_PERMISSION_BIT(p))
            return sb_error_set(err, SB_DOMAIN_E_DUPLICATE,
                                "permissions[%zu]: '%s' is listed twice; list each permission once",
                                i, catalog[p].key);
        set |= SB_PERMISSION_BIT(p);
    }
    *out = set;
    return 0;
}

size_t sb_permission_set_keys(sb_permission_set s, const char **out, size_t cap)
{
    size_t n = 0;
    for (size_t i = 0; i < SB_PERM_COUNT; i++) {
        if (!(s & SB_PERMISSION_BIT(i)))
            continue;
        if (out != NULL && n < cap)
            out[n] = catalog[i].key;
        n++;
    }
    return n;
}

const sb_system_role *sb_system_roles(size_t *count)
{
    if (count != NULL)
        *count = sizeof system_roles / sizeof system_roles[0];
    return system_roles;
}

const sb_system_role *sb_system_role_find(const char *name)
{
    if (name == NULL)
        return NULL;
    for (size_t i = 0; i < sizeof system_roles / sizeof system_roles[0]; i++)
        if (strcmp(system_roles[i].name, name) == 0)
            return &system_roles[i];
    return NULL;
}
