/*
 * tests/plugins/awssm/awssm_test_support.h — what the awssm plugin tests share
 * beyond tests/support/emulator_support.h: the AWS emulator, the plugin
 * opened with every endpoint pointing at it, seeding secrets, and calls of
 * the provider operations with a result the test inspects.
 */
#ifndef SB_TESTS_AWSSM_SUPPORT_H
#define SB_TESTS_AWSSM_SUPPORT_H

#include <sbridge/plugin.h>

#include "emulator_support.h"

#define AW_AKID "AKIDEXAMPLE"
#define AW_SECRET "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
#define AW_STATIC "credentials: static\naccess_key_id: " AW_AKID "\nsecret_access_key: " AW_SECRET "\n"

/* Starts the AWS emulator (extra flags may be NULL). */
void aw_emulator_start(const char *const *extra_args);

/* Opens the plugin with region us-east-1 and endpoint, kms_endpoint,
 * sts_endpoint and imds_endpoint at the emulator, then `yaml_rest`. */
sb_harness *aw_open(const char *yaml_rest);

/* Creates a secret through the control API; `json_value_member` is e.g.
 * "\"string\":\"x\"" or "\"binary_b64\":\"AAE=\""; tags_json e.g.
 * "{\"team\":\"a\"}" or NULL. Returns the VersionId (heap). */
char *aw_seed(const char *name, const char *json_value_member, const char *tags_json);

/* Provider calls with the test's own result (released by the caller). */
sb_status aw_read(sb_harness *h, const char *path, const char *version, sb_bundle **out,
                  sb_version_info *v, sb_result *res);
sb_status aw_write(sb_harness *h, const char *path, const sb_bundle *b, const char *expected,
                   sb_version_info *v, sb_result *res);

/* The emulator's request log (JSON text, heap). */
char *aw_requests(void);

#endif
