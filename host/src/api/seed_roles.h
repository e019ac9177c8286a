/*
 * api/seed_roles.h — upsert the system roles (admin, approver, developer,
 * value_provider, security_approver, provider_connection_binder,
 * policy_author) from the compiled-in catalog. Idempotent.
 */
#ifndef SB_API_SEED_ROLES_H
#define SB_API_SEED_ROLES_H

#include "store/db.h"

int sb_api_seed_roles(sb_db *db, sb_error *err);

#endif
