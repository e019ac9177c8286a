/*
 * tests/unit/test_domain_permissions.c — the permission catalog and the
 * system roles (host/src/domain/permissions.c): table shape, the 18
 * permissions of the earlier product, lookups, custom-role validation with
 * its messages, and catalog drift (every system-role permission exists, the
 * documented role table is what the code grants).
 */
#include <criterion/criterion.h>
#include <string.h>

#include "domain/domain_error.h"
#include "domain/permissions.h"

static const char *const original_18[] = {
    "role.edit",          "user_role.edit",       "team.edit",
    "workflow.edit",      "policy.edit",          "policy.author",
    "agent.mint",         "agent.revoke",         "agent.list",
    "secret.request",     "secret.approve",       "secret.reveal.direct",
    "secret.value.provide", "secret.security.approve", "secret.list",
    "audit.read",         "integration.edit",     "integration.bind",
};

static const char *const added[] = {"project.edit", "environment.edit", "user.manage",
                                    "notification.edit"};

Test(permissions, catalog_rows_are_indexed_by_id_and_well_formed)
{
    size_t n = 0;
    const sb_permission_info *cat = sb_permission_catalog(&n);
    cr_assert_eq(n, SB_PERM_COUNT);
    cr_assert_leq(n, 64u);
    for (size_t i = 0; i < n; i++) {
        cr_assert_eq((size_t)cat[i].id, i, "row %zu has id %d", i, (int)cat[i].id);
        cr_assert_not_null(cat[i].key);
        cr_assert_gt(strlen(cat[i].key), 3u);
        for (const char *p = cat[i].key; *p; p++)
            cr_assert((*p >= 'a' && *p <= 'z') || *p == '.' || *p == '_', "key %s: bad char %c",
                      cat[i].key, *p);
        cr_assert_not_null(strchr(cat[i].key, '.'), "key %s has no group dot", cat[i].key);
        cr_assert(cat[i].group && cat[i].group[0], "key %s has no group", cat[i].key);
        cr_assert(cat[i].description && strlen(cat[i].description) > 10, "key %s: description",
                  cat[i].key);
        cr_assert_neq(cat[i].checked_at, 0u, "key %s: checked_at", cat[i].key);
        cr_assert_eq(cat[i].checked_at & ~7u, 0u);
        cr_assert_eq(sb_permission_info_of((sb_permission)i), &cat[i]);
        cr_assert_str_eq(sb_permission_key((sb_permission)i), cat[i].key);
        for (size_t j = 0; j < i; j++)
            cr_assert_str_neq(cat[i].key, cat[j].key, "key %s appears twice", cat[i].key);
    }
    cr_assert_null(sb_permission_info_of(SB_PERM_COUNT));
    cr_assert_null(sb_permission_info_of((sb_permission)-1));
    cr_assert_str_eq(sb_permission_key(SB_PERM_COUNT), "?");
}

Test(permissions, has_the_18_of_the_earlier_product_as_the_first_rows_and_the_additions)
{
    const sb_permission_info *cat = sb_permission_catalog(NULL);
    for (size_t i = 0; i < 18; i++) {
        cr_assert_str_eq(cat[i].key, original_18[i], "row %zu", i);
        sb_permission p;
        cr_assert_eq(sb_permission_lookup(original_18[i], &p), 0, "%s missing", original_18[i]);
        cr_assert_eq((size_t)p, i);
    }
    for (size_t i = 0; i < sizeof added / sizeof added[0]; i++)
        cr_assert_eq(sb_permission_lookup(added[i], NULL), 0, "%s missing", added[i]);
    cr_assert_eq(SB_PERM_COUNT, 18 + sizeof added / sizeof added[0]);
}

Test(permissions, lookup_is_exact)
{
    sb_permission p = SB_PERM_COUNT;
    cr_assert_eq(sb_permission_lookup("secret.approve", &p), 0);
    cr_assert_eq(p, SB_PERM_SECRET_APPROVE);
    const char *bad[] = {"Secret.Approve", "secret.approve ", " secret.approve", "secret",
                         "secret.*", "*", "", "secret.approve.x", "secret.fill", "agent.manage"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        cr_assert_eq(sb_permission_lookup(bad[i], &p), -1, "'%s' accepted", bad[i]);
    cr_assert_eq(sb_permission_lookup(NULL, &p), -1);
}

Test(permissions, set_helpers)
{
    cr_assert_eq(sb_permission_set_count(SB_PERMISSION_SET_ALL), (size_t)SB_PERM_COUNT);
    cr_assert_eq(sb_permission_set_count(0), 0u);
    cr_assert_eq(sb_permission_set_count(~(sb_permission_set)0), (size_t)SB_PERM_COUNT);
    cr_assert(!sb_permission_set_has(SB_PERMISSION_SET_ALL, SB_PERM_COUNT));
    for (size_t i = 0; i < SB_PERM_COUNT; i++) {
        sb_permission_set s = SB_PERMISSION_BIT(i);
        const char *keys[SB_PERM_COUNT];
        cr_assert_eq(sb_permission_set_keys(s, keys, SB_PERM_COUNT), 1u);
        cr_assert_str_eq(keys[0], sb_permission_key((sb_permission)i));
        sb_permission_set back = 0;
        cr_assert_eq(sb_permission_set_from_keys(keys, 1, &back, NULL), 0);
        cr_assert_eq(back, s);
    }
    const char *keys[SB_PERM_COUNT];
    size_t n = sb_permission_set_keys(SB_PERMISSION_SET_ALL, keys, SB_PERM_COUNT);
    cr_assert_eq(n, (size_t)SB_PERM_COUNT);
    sb_permission_set all = 0;
    cr_assert_eq(sb_permission_set_from_keys(keys, n, &all, NULL), 0);
    cr_assert_eq(all, SB_PERMISSION_SET_ALL);
    /* A short buffer still reports the full count. */
    cr_assert_eq(sb_permission_set_keys(SB_PERMISSION_SET_ALL, keys, 2), (size_t)SB_PERM_COUNT);
}

/* Custom role validation: each refusal with its code and message. */
static const struct {
    const char *keys[4];
    size_t n;
    int code;
    const char *message;
} bad_lists[] = {
    {{"secret.list", "secret.lst"}, 2, SB_DOMAIN_E_UNKNOWN_PERMISSION,
     "permissions[1]: unknown permission 'secret.lst'; use a key from GET /api/v1/permissions"},
    {{"secret.fill"}, 1, SB_DOMAIN_E_UNKNOWN_PERMISSION,
     "permissions[0]: unknown permission 'secret.fill'; use a key from GET /api/v1/permissions"},
    {{"audit.read", "team.edit", "audit.read"}, 3, SB_DOMAIN_E_DUPLICATE,
     "permissions[2]: 'audit.read' is listed twice; list each permission once"},
    {{"audit.read", ""}, 2, SB_DOMAIN_E_INVALID,
     "permissions[1]: empty permission key; use a key from GET /api/v1/permissions"},
    {{NULL}, 1, SB_DOMAIN_E_INVALID,
     "permissions[0]: empty permission key; use a key from GET /api/v1/permissions"},
    {{"*"}, 1, SB_DOMAIN_E_UNKNOWN_PERMISSION,
     "permissions[0]: unknown permission '*'; use a key from GET /api/v1/permissions"},
};

Test(permissions, custom_role_lists_are_validated_with_clear_errors)
{
    for (size_t i = 0; i < sizeof bad_lists / sizeof bad_lists[0]; i++) {
        sb_error err = {0};
        sb_permission_set s = 12345;
        cr_assert_eq(sb_permission_set_from_keys(bad_lists[i].keys, bad_lists[i].n, &s, &err), -1,
                     "case %zu accepted", i);
        cr_assert_eq(err.code, bad_lists[i].code, "case %zu: code %d", i, err.code);
        cr_assert_str_eq(err.message, bad_lists[i].message, "case %zu", i);
        cr_assert_eq(s, 12345u, "case %zu: output written on error", i);
    }
    sb_permission_set s = 1;
    cr_assert_eq(sb_permission_set_from_keys(NULL, 0, &s, NULL), 0, "empty list is a valid role");
    cr_assert_eq(s, 0u);
    /* A very long unknown key is cut in the message, not echoed whole. */
    char long_key[600];
    memset(long_key, 'x', sizeof long_key - 1);
    long_key[sizeof long_key - 1] = '\0';
    const char *keys[] = {long_key};
    sb_error err = {0};
    cr_assert_eq(sb_permission_set_from_keys(keys, 1, &s, &err), -1);
    cr_assert_lt(strlen(err.message), 200u);
}

/* The documented role table (permissions.h); drift in either fails here. */
static const struct {
    const char *role;
    const char *perms[SB_PERM_COUNT + 1];
} role_table[] = {
    {"admin", {"*"}},
    {"approver", {"secret.list", "secret.approve", "audit.read"}},
    {"developer", {"secret.list", "secret.request", "secret.reveal.direct"}},
    {"value_provider", {"secret.value.provide"}},
    {"security_approver", {"secret.security.approve"}},
    {"provider_connection_binder", {"integration.bind"}},
    {"policy_author", {"policy.author"}},
};

Test(permissions, system_roles_match_the_documented_table)
{
    size_t n = 0;
    const sb_system_role *roles = sb_system_roles(&n);
    cr_assert_eq(n, sizeof role_table / sizeof role_table[0]);
    for (size_t i = 0; i < n; i++) {
        cr_assert_str_eq(roles[i].name, role_table[i].role);
        cr_assert_eq(sb_system_role_find(role_table[i].role), &roles[i]);
        sb_permission_set want = 0;
        if (strcmp(role_table[i].perms[0], "*") == 0) {
            want = SB_PERMISSION_SET_ALL;
        } else {
            size_t k = 0;
            while (role_table[i].perms[k] != NULL)
                k++;
            sb_error err = {0};
            cr_assert_eq(sb_permission_set_from_keys(role_table[i].perms, k, &want, &err), 0,
                         "%s: %s", role_table[i].role, err.message);
        }
        cr_assert_eq(roles[i].permissions, want, "role %s: permissions differ from the table",
                     roles[i].name);
        cr_assert(roles[i].description && roles[i].description[0]);
    }
    cr_assert_null(sb_system_role_find("root"));
    cr_assert_null(sb_system_role_find(NULL));
    cr_assert_null(sb_system_role_find("Admin"));
}

Test(permissions, catalog_drift_every_role_permission_exists)
{
    size_t n = 0;
    const sb_system_role *roles = sb_system_roles(&n);
    sb_permission_set used = 0;
    for (size_t i = 0; i < n; i++) {
        cr_assert_neq(roles[i].permissions, 0u, "role %s grants nothing", roles[i].name);
        cr_assert_eq(roles[i].permissions & ~SB_PERMISSION_SET_ALL, 0u,
                     "role %s has bits outside the catalog", roles[i].name);
        const char *keys[SB_PERM_COUNT];
        size_t k = sb_permission_set_keys(roles[i].permissions, keys, SB_PERM_COUNT);
        for (size_t j = 0; j < k; j++)
            cr_assert_eq(sb_permission_lookup(keys[j], NULL), 0, "role %s: %s not in catalog",
                         roles[i].name, keys[j]);
        used |= roles[i].permissions;
    }
    cr_assert_eq(used, SB_PERMISSION_SET_ALL, "some permission is in no system role");
    /* Separation of duties for non-admin roles: a requester is not an approver. */
    const sb_system_role *dev = sb_system_role_find("developer");
    cr_assert(!sb_permission_set_has(dev->permissions, SB_PERM_SECRET_APPROVE));
    const sb_system_role *appr = sb_system_role_find("approver");
    cr_assert(!sb_permission_set_has(appr->permissions, SB_PERM_SECRET_REQUEST));
}
