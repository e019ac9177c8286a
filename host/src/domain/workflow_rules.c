/* domain/workflow_rules.c — see workflow_rules.h. */
#include "domain/workflow_rules.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "domain/approval_rule.h"
#include "domain/domain_error.h"

typedef struct number_rule {
    const char *field;
    long long min, max;
} number_rule;

/* The CHECKs of migration 0013, one line each. */
static const number_rule numbers[] = {
    {"min_approvers", 0, 20},
    {"request_ttl_s", 60, 7776000},
    {"fill_ttl_s", 60, 2592000},
    {"wrap_ttl_created_s", 60, 2592000},
    {"wrap_ttl_approved_s", 60, 2592000},
    {"wrap_ttl_claimed_s", 10, 86400},
};

/* UTF-8 code points (the API hands valid UTF-8). */
static size_t chars(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        n += ((unsigned char)*s & 0xC0) != 0x80;
    return n;
}

static bool has_control(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            return true;
    return false;
}

static bool uuid_ok(const char *s)
{
    if (s == NULL || strlen(s) != 36)
        return false;
    for (size_t i = 0; i < 36; i++) {
        bool dash = i == 8 || i == 13 || i == 18 || i == 23;
        if (dash ? s[i] != '-' : strchr("0123456789abcdefABCDEF", s[i]) == NULL)
            return false;
    }
    return true;
}

bool sb_workflow_name_ok(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    if (n == 0 || n > 63 || strchr("abcdefghijklmnopqrstuvwxyz0123456789", s[0]) == NULL)
        return false;
    for (size_t i = 1; i < n; i++)
        if (strchr("abcdefghijklmnopqrstuvwxyz0123456789-", s[i]) == NULL)
            return false;
    return true;
}

int sb_workflow_number_range(const char *field, long long *min, long long *max)
{
    for (size_t i = 0; field && i < sizeof numbers / sizeof numbers[0]; i++)
        if (strcmp(numbers[i].field, field) == 0) {
            *min = numbers[i].min;
            *max = numbers[i].max;
            return 0;
        }
    return -1;
}

int sb_workflow_check_number(const char *field, long long value, sb_error *err)
{
    long long min, max;
    if (sb_workflow_number_range(field, &min, &max) != 0)
        return sb_error_set(err, SB_DOMAIN_E_INVALID, "%s is not a numeric workflow field",
                            field ? field : "(null)");
    if (value < min || value > max)
        return sb_error_set(err, SB_DOMAIN_E_INVALID, "%s must be between %lld and %lld, got %lld",
                            field, min, max, value);
    return 0;
}

bool sb_workflow_group_permission_ok(const char *p)
{
    return p && (strcmp(p, "secret.approve") == 0 || strcmp(p, "secret.security.approve") == 0);
}

int sb_workflow_check_role_ids(const char *field, const char *const *ids, size_t n, sb_error *err)
{
    if (n > SB_WORKFLOW_MAX_ROLE_IDS)
        return sb_error_set(err, SB_DOMAIN_E_INVALID, "%s may list at most %d roles, got %zu",
                            field, SB_WORKFLOW_MAX_ROLE_IDS, n);
    for (size_t i = 0; i < n; i++) {
        if (!uuid_ok(ids[i]))
            return sb_error_set(err, SB_DOMAIN_E_INVALID, "%s[%zu] must be a role id (a UUID)",
                                field, i);
        for (size_t k = 0; k < i; k++)
            if (strcasecmp(ids[k], ids[i]) == 0)
                return sb_error_set(err, SB_DOMAIN_E_INVALID,
                                    "%s[%zu] repeats role %s; list each role once", field, i,
                                    ids[i]);
    }
    return 0;
}

int sb_workflow_check_channels(const char *const *ch, size_t n, sb_error *err)
{
    if (n > SB_WORKFLOW_MAX_CHANNELS)
        return sb_error_set(err, SB_DOMAIN_E_INVALID,
                            "notification_channels may list at most %d channels, got %zu",
                            SB_WORKFLOW_MAX_CHANNELS, n);
    for (size_t i = 0; i < n; i++) {
        size_t len = ch[i] ? chars(ch[i]) : 0;
        if (len == 0 || len > SB_WORKFLOW_CHANNEL_MAX || has_control(ch[i]))
            return sb_error_set(err, SB_DOMAIN_E_INVALID,
                                "notification_channels[%zu] must be 1..%d printable characters",
                                i, SB_WORKFLOW_CHANNEL_MAX);
        for (size_t k = 0; k < i; k++)
            if (strcmp(ch[k], ch[i]) == 0)
                return sb_error_set(err, SB_DOMAIN_E_INVALID,
                                    "notification_channels[%zu] repeats \"%s\"", i, ch[i]);
    }
    return 0;
}

static int check_group(const sb_workflow_group *g, size_t i, sb_error *err)
{
    size_t len = g->name ? chars(g->name) : 0;
    if (len == 0 || len > SB_WORKFLOW_GROUP_NAME_MAX || has_control(g->name))
        return sb_error_set(err, SB_DOMAIN_E_INVALID,
                            "groups[%zu].name must be 1..%d printable characters", i,
                            SB_WORKFLOW_GROUP_NAME_MAX);
    if (g->required < 1 || g->required > SB_WORKFLOW_GROUP_REQUIRED_MAX)
        return sb_error_set(err, SB_DOMAIN_E_INVALID,
                            "groups[%zu].required must be between 1 and %d, got %lld", i,
                            SB_WORKFLOW_GROUP_REQUIRED_MAX, g->required);
    if (g->permission && !sb_workflow_group_permission_ok(g->permission))
        return sb_error_set(err, SB_DOMAIN_E_INVALID,
                            "groups[%zu].permission must be \"secret.approve\" or "
                            "\"secret.security.approve\"",
                            i);
    char field[48];
    snprintf(field, sizeof field, "groups[%zu].role_ids", i);
    return sb_workflow_check_role_ids(field, g->role_ids, g->n_role_ids, err);
}

int sb_workflow_check_groups(const sb_workflow_group *groups, size_t n, sb_error *err)
{
    if (n > 0 && groups == NULL)
        return sb_error_set(err, SB_DOMAIN_E_INVALID, "groups: none given");
    if (n > SB_WORKFLOW_MAX_GROUPS)
        return sb_error_set(err, SB_DOMAIN_E_INVALID, "groups may hold at most %d groups, got %zu",
                            SB_WORKFLOW_MAX_GROUPS, n);
    long long slots = 0;
    for (size_t i = 0; i < n; i++) {
        if (check_group(&groups[i], i, err) != 0)
            return -1;
        for (size_t k = 0; k < i; k++)
            if (strcmp(groups[k].name, groups[i].name) == 0)
                return sb_error_set(err, SB_DOMAIN_E_INVALID,
                                    "groups[%zu].name \"%s\" is already used by groups[%zu]; "
                                    "group names are unique within a workflow",
                                    i, groups[i].name, k);
        slots += groups[i].required;
    }
    if (slots > SB_APPROVAL_MAX_SLOTS)
        return sb_error_set(err, SB_DOMAIN_E_INVALID,
                            "groups: the required counts add up to %lld; at most %d approvals "
                            "can be required in total",
                            slots, SB_APPROVAL_MAX_SLOTS);
    return 0;
}
