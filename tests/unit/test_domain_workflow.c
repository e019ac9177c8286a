/*
 * tests/unit/test_domain_workflow.c — the workflow value checks
 * (host/src/domain/workflow_rules.c): group shape (names, required counts,
 * permissions, role ids, limits), scalar ranges with the exact bounds of
 * migration 0013, role-id lists and notification channels. Every refusal
 * is SB_DOMAIN_E_INVALID and its message names the field.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "domain/approval_rule.h"
#include "domain/domain_error.h"
#include "domain/workflow_rules.h"

#define R1 "11111111-1111-4111-8111-111111111111"
#define R2 "22222222-2222-4222-8222-222222222222"

static void refused(int rc, const sb_error *err, const char *needle)
{
    cr_assert_eq(rc, -1, "refused (wanted a message with %s)", needle);
    cr_assert_eq(err->code, SB_DOMAIN_E_INVALID, "%s", err->message);
    cr_assert(strstr(err->message, needle) != NULL, "\"%s\" names %s", err->message, needle);
}

Test(workflow_rules, the_owning_team_and_security_example_is_valid)
{
    const char *roles[] = {R1};
    sb_workflow_group g[] = {
        {"owning-team", 1, NULL, NULL, 0, true},
        {"security", 1, "secret.security.approve", roles, 1, false},
    };
    sb_error err = {0};
    cr_assert_eq(sb_workflow_check_groups(g, 2, &err), 0, "%s", err.message);
    cr_assert_eq(sb_workflow_check_groups(NULL, 0, &err), 0, "no groups is fine");
}

Test(workflow_rules, group_values_are_checked_with_messages_naming_the_field)
{
    const char *dup[] = {R1, R2, R1}, *bad[] = {"not-a-uuid"};
    char long_name[80];
    memset(long_name, 'x', 65);
    long_name[65] = '\0';
    static const struct {
        sb_workflow_group g;
        const char *needle;
    } cases[] = {
        {{"", 1, NULL, NULL, 0, false}, "groups[0].name must be 1..64"},
        {{NULL, 1, NULL, NULL, 0, false}, "groups[0].name"},
        {{"a\nb", 1, NULL, NULL, 0, false}, "groups[0].name"},
        {{"g", 0, NULL, NULL, 0, false}, "groups[0].required must be between 1 and 20, got 0"},
        {{"g", 21, NULL, NULL, 0, false}, "got 21"},
        {{"g", -5, NULL, NULL, 0, false}, "groups[0].required"},
        {{"g", 1, "secret.read", NULL, 0, false}, "groups[0].permission must be"},
        {{"g", 1, "", NULL, 0, false}, "groups[0].permission"},
    };
    sb_error err = {0};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        refused(sb_workflow_check_groups(&cases[i].g, 1, &err), &err, cases[i].needle);
    sb_workflow_group g = {long_name, 1, NULL, NULL, 0, false};
    refused(sb_workflow_check_groups(&g, 1, &err), &err, "groups[0].name");
    long_name[64] = '\0'; /* 64 characters: the maximum */
    cr_assert_eq(sb_workflow_check_groups(&g, 1, &err), 0, "%s", err.message);
    sb_workflow_group d = {"g", 1, NULL, dup, 3, false};
    refused(sb_workflow_check_groups(&d, 1, &err), &err, "groups[0].role_ids[2] repeats");
    sb_workflow_group b = {"g", 1, NULL, bad, 1, false};
    refused(sb_workflow_check_groups(&b, 1, &err), &err, "groups[0].role_ids[0] must be a role id");
    /* the second group is named in messages too */
    sb_workflow_group two[] = {{"a", 1, NULL, NULL, 0, false}, {"b", 30, NULL, NULL, 0, false}};
    refused(sb_workflow_check_groups(two, 2, &err), &err, "groups[1].required");
}

Test(workflow_rules, group_names_are_unique_and_counts_are_bounded)
{
    sb_workflow_group same[] = {{"team", 1, NULL, NULL, 0, true}, {"team", 1, NULL, NULL, 0, false}};
    sb_error err = {0};
    refused(sb_workflow_check_groups(same, 2, &err), &err, "groups[1].name \"team\" is already used");

    sb_workflow_group many[SB_WORKFLOW_MAX_GROUPS + 1];
    char names[SB_WORKFLOW_MAX_GROUPS + 1][8];
    for (size_t i = 0; i <= SB_WORKFLOW_MAX_GROUPS; i++) {
        snprintf(names[i], sizeof names[i], "g%zu", i);
        many[i] = (sb_workflow_group){names[i], 1, NULL, NULL, 0, false};
    }
    cr_assert_eq(sb_workflow_check_groups(many, SB_WORKFLOW_MAX_GROUPS, &err), 0, "%s",
                 err.message);
    refused(sb_workflow_check_groups(many, SB_WORKFLOW_MAX_GROUPS + 1, &err), &err,
            "at most 8 groups, got 9");

    /* 8 groups of 8 = 64 slots (the engine's maximum) passes; one more fails */
    for (size_t i = 0; i < SB_WORKFLOW_MAX_GROUPS; i++)
        many[i].required = SB_APPROVAL_MAX_SLOTS / SB_WORKFLOW_MAX_GROUPS;
    cr_assert_eq(sb_workflow_check_groups(many, SB_WORKFLOW_MAX_GROUPS, &err), 0, "%s",
                 err.message);
    many[0].required++;
    refused(sb_workflow_check_groups(many, SB_WORKFLOW_MAX_GROUPS, &err), &err,
            "add up to 65; at most 64");
}

Test(workflow_rules, numeric_fields_have_the_migration_ranges)
{
    static const struct {
        const char *field;
        long long min, max;
    } ranges[] = {{"min_approvers", 0, 20},           {"request_ttl_s", 60, 7776000},
                  {"fill_ttl_s", 60, 2592000},        {"wrap_ttl_created_s", 60, 2592000},
                  {"wrap_ttl_approved_s", 60, 2592000}, {"wrap_ttl_claimed_s", 10, 86400}};
    sb_error err = {0};
    for (size_t i = 0; i < sizeof ranges / sizeof ranges[0]; i++) {
        long long lo, hi;
        cr_assert_eq(sb_workflow_number_range(ranges[i].field, &lo, &hi), 0);
        cr_assert_eq(lo, ranges[i].min, "%s", ranges[i].field);
        cr_assert_eq(hi, ranges[i].max, "%s", ranges[i].field);
        cr_assert_eq(sb_workflow_check_number(ranges[i].field, lo, &err), 0);
        cr_assert_eq(sb_workflow_check_number(ranges[i].field, hi, &err), 0);
        char want[128];
        snprintf(want, sizeof want, "%s must be between %lld and %lld, got %lld",
                 ranges[i].field, lo, hi, lo - 1);
        refused(sb_workflow_check_number(ranges[i].field, lo - 1, &err), &err, want);
        refused(sb_workflow_check_number(ranges[i].field, hi + 1, &err), &err, ranges[i].field);
    }
    long long lo, hi;
    cr_assert_eq(sb_workflow_number_range("priority", &lo, &hi), -1);
    refused(sb_workflow_check_number("priority", 1, &err), &err, "priority");
}

Test(workflow_rules, names_role_lists_and_channels)
{
    cr_assert(sb_workflow_name_ok("standard"));
    cr_assert(sb_workflow_name_ok("two-approvers-9"));
    cr_assert(!sb_workflow_name_ok(""));
    cr_assert(!sb_workflow_name_ok("-lead"));
    cr_assert(!sb_workflow_name_ok("Upper"));
    cr_assert(!sb_workflow_name_ok("with space"));
    cr_assert(!sb_workflow_name_ok(NULL));
    char n64[65];
    memset(n64, 'a', 64);
    n64[64] = '\0';
    cr_assert(!sb_workflow_name_ok(n64));
    n64[63] = '\0';
    cr_assert(sb_workflow_name_ok(n64));

    sb_error err = {0};
    const char *ids[] = {R1, "22222222-2222-4222-8222-22222222222G"};
    cr_assert_eq(sb_workflow_check_role_ids("approver_role_ids", ids, 1, &err), 0);
    refused(sb_workflow_check_role_ids("approver_role_ids", ids, 2, &err), &err,
            "approver_role_ids[1] must be a role id");
    const char *upper[] = {R1, "11111111-1111-4111-8111-111111111111"};
    refused(sb_workflow_check_role_ids("approver_role_ids", upper, 2, &err), &err, "repeats");
    const char *many[SB_WORKFLOW_MAX_ROLE_IDS + 1];
    for (size_t i = 0; i <= SB_WORKFLOW_MAX_ROLE_IDS; i++)
        many[i] = R1;
    refused(sb_workflow_check_role_ids("approver_role_ids", many, SB_WORKFLOW_MAX_ROLE_IDS + 1,
                                       &err),
            &err, "at most 32 roles");

    const char *ch[] = {"slack:#security", "email:sec@example.com", ""};
    cr_assert_eq(sb_workflow_check_channels(ch, 2, &err), 0, "%s", err.message);
    refused(sb_workflow_check_channels(ch, 3, &err), &err, "notification_channels[2] must be 1..64");
    const char *rep[] = {"a", "a"};
    refused(sb_workflow_check_channels(rep, 2, &err), &err, "notification_channels[1] repeats");
    const char *lots[SB_WORKFLOW_MAX_CHANNELS + 1];
    for (size_t i = 0; i <= SB_WORKFLOW_MAX_CHANNELS; i++)
        lots[i] = "x";
    refused(sb_workflow_check_channels(lots, SB_WORKFLOW_MAX_CHANNELS + 1, &err), &err,
            "at most 16 channels");
    cr_assert(sb_workflow_group_permission_ok("secret.approve"));
    cr_assert(sb_workflow_group_permission_ok("secret.security.approve"));
    cr_assert(!sb_workflow_group_permission_ok("secret.approve "));
    cr_assert(!sb_workflow_group_permission_ok(NULL));
}
