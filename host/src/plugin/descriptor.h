/*
 * plugin/descriptor.h — checking a plugin descriptor against ABI v1.
 *
 * Contract: pure functions over a descriptor (no I/O), so every refusal is
 * unit-testable. sb_descriptor_check applies the compatibility rule
 * (major == host major, the plugin's required minimum minor <= host
 * minor; the minor it was built with is informational and may be newer
 * than the host's), the minimum struct sizes of
 * ABI 1.0 for the descriptor and each vtable, identity rules (name,
 * semver), capability/vtable consistency and thread model; it fills err
 * with the first violation, phrased for the operator. sb_descriptor_field
 * copies the i-th config field using the plugin's stride, zero-filling
 * fields the plugin was built without.
 */
#ifndef SB_PLUGIN_DESCRIPTOR_H
#define SB_PLUGIN_DESCRIPTOR_H

#include <sbridge/plugin.h>
#include <stdint.h>

#include "util/error.h"

/* Sizes of the ABI 1.0 structs: a plugin may never declare less. */
#define SB_PLUGIN_V1_0_SIZE (offsetof(sb_plugin, reserved) + sizeof(((sb_plugin *)0)->reserved))
#define SB_PROVIDER_OPS_V1_0_SIZE (offsetof(sb_provider_ops, list) + sizeof(void *))
#define SB_KMS_OPS_V1_0_SIZE (offsetof(sb_kms_ops, unwrap) + sizeof(void *))
#define SB_GITOPS_OPS_V1_0_SIZE (offsetof(sb_gitops_ops, observe) + sizeof(void *))
#define SB_NOTIFIER_OPS_V1_0_SIZE (offsetof(sb_notifier_ops, deliver) + sizeof(void *))
#define SB_CONFIG_FIELD_V1_0_SIZE (offsetof(sb_config_field, when) + sizeof(void *))

enum {
    SB_DESC_E_MAGIC = 1,
    SB_DESC_E_MAJOR,
    SB_DESC_E_MINOR,
    SB_DESC_E_SIZE,
    SB_DESC_E_IDENTITY,
    SB_DESC_E_CAPABILITY,
    SB_DESC_E_SCHEMA,
};

int sb_descriptor_check(const sb_plugin *d, uint16_t host_major, uint16_t host_minor, sb_error *err);
void sb_descriptor_field(const sb_plugin *d, size_t i, sb_config_field *out);
/* "provider" -> SB_CAP_PROVIDER ...; 0 when unknown. */
uint64_t sb_capability_from_name(const char *name);
const char *sb_capability_name(uint64_t cap);
/* Comma-separated names of the bits in caps (into out). */
void sb_capabilities_format(uint64_t caps, char *out, size_t cap);
void sb_provider_features_format(uint64_t features, char *out, size_t cap);

#endif
