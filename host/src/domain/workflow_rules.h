/*
 * domain/workflow_rules.h — what an approval workflow may say about itself
 * (SPEC §8 "Workflows"): the value checks behind POST/PUT /api/v1/workflows.
 *
 * Contract (pure: no I/O, no allocation). The API checks JSON types first
 * (400) and hands plain values here; every refusal is -1 with
 * SB_DOMAIN_E_INVALID (422) and a message naming the field and what is
 * allowed. The ranges are those of the workflows table's CHECKs (migration
 * 0013), so a value accepted here is never refused by the database.
 *
 * Approval groups are combined with AND (domain/approval_rule.h): a request
 * is approved when every group has `required` distinct approvers, each
 * approver filling at most one slot. A group is
 *   {"name": "security", "required": 1,
 *    "permission": "secret.approve" | "secret.security.approve",
 *    "role_ids": [uuid...], "owning_team_member": false}
 * name 1..64 characters, unique within the workflow; required 1..20;
 * permission defaults to "secret.approve"; role_ids (default []) are UUIDs,
 * at most SB_WORKFLOW_MAX_ROLE_IDS, no duplicates (that they name existing
 * roles is the store's check); owning_team_member (default false) restricts
 * the group to members of the project's owning team. At most
 * SB_WORKFLOW_MAX_GROUPS groups, and the sum of required at most
 * SB_APPROVAL_MAX_SLOTS.
 */
#ifndef SB_DOMAIN_WORKFLOW_RULES_H
#define SB_DOMAIN_WORKFLOW_RULES_H

#include <stdbool.h>
#include <stddef.h>

#include "util/error.h"

#define SB_WORKFLOW_MAX_GROUPS 8
#define SB_WORKFLOW_GROUP_NAME_MAX 64 /* characters */
#define SB_WORKFLOW_GROUP_REQUIRED_MAX 20
#define SB_WORKFLOW_MAX_ROLE_IDS 32
#define SB_WORKFLOW_MAX_CHANNELS 16
#define SB_WORKFLOW_CHANNEL_MAX 64 /* characters */
#define SB_WORKFLOW_PERMISSION_DEFAULT "secret.approve"

typedef struct sb_workflow_group {
    const char *name;
    long long required;
    const char *permission;      /* NULL: SB_WORKFLOW_PERMISSION_DEFAULT */
    const char *const *role_ids; /* may be NULL when n_role_ids is 0 */
    size_t n_role_ids;
    bool owning_team_member;
} sb_workflow_group;

/* 0 when the groups are well formed (see the contract). */
int sb_workflow_check_groups(const sb_workflow_group *groups, size_t n, sb_error *err);

/* True for a name matching ^[a-z0-9][a-z0-9-]{0,62}$. */
bool sb_workflow_name_ok(const char *name);

/* The allowed range of an integer field (min_approvers, request_ttl_s,
 * fill_ttl_s, wrap_ttl_created_s, wrap_ttl_approved_s, wrap_ttl_claimed_s);
 * -1 for a name that is not one of them. */
int sb_workflow_number_range(const char *field, long long *min, long long *max);
/* 0 when value is within field's range; else -1 naming field and range. */
int sb_workflow_check_number(const char *field, long long value, sb_error *err);

/* Role ids (field names the list in messages, e.g. "approver_role_ids"):
 * UUID text, at most SB_WORKFLOW_MAX_ROLE_IDS, no duplicates. */
int sb_workflow_check_role_ids(const char *field, const char *const *ids, size_t n,
                               sb_error *err);

/* Notification channel names: 1..64 characters each, no control
 * characters, at most SB_WORKFLOW_MAX_CHANNELS, no duplicates. */
int sb_workflow_check_channels(const char *const *channels, size_t n, sb_error *err);

/* True for "secret.approve" and "secret.security.approve". */
bool sb_workflow_group_permission_ok(const char *permission);

#endif
