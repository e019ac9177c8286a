/* plugin/descriptor.c — see descriptor.h. */
#include "plugin/descriptor.h"

#include <stdio.h>
#include <string.h>

static const struct {
    uint64_t bit;
    const char *name;
} capability_names[] = {
    {SB_CAP_PROVIDER, "provider"},
    {SB_CAP_KMS, "kms"},
    {SB_CAP_GITOPS, "gitops"},
    {SB_CAP_NOTIFIER, "notifier"},
};

static const struct {
    uint64_t bit;
    const char *name;
} feature_names[] = {
    {SB_PROV_READ, "read"},         {SB_PROV_WRITE, "write"},       {SB_PROV_CAS, "compare-and-set"},
    {SB_PROV_LIST, "list"},         {SB_PROV_LABELS, "labels"},     {SB_PROV_VERSIONS, "versions"},
    {SB_PROV_DESCRIBE, "describe"},
};

uint64_t sb_capability_from_name(const char *name)
{
    for (size_t i = 0; i < sizeof capability_names / sizeof capability_names[0]; i++)
        if (strcmp(capability_names[i].name, name) == 0)
            return capability_names[i].bit;
    return 0;
}

const char *sb_capability_name(uint64_t cap)
{
    for (size_t i = 0; i < sizeof capability_names / sizeof capability_names[0]; i++)
        if (capability_names[i].bit == cap)
            return capability_names[i].name;
    return "unknown";
}

static void format_bits(uint64_t bits, const void *table, size_t n, char *out, size_t cap)
{
    const struct {
        uint64_t bit;
        const char *name;
    } *t = table;
    size_t len = 0;
    out[0] = '\0';
    for (size_t i = 0; i < n; i++)
        if (bits & t[i].bit)
            len += (size_t)snprintf(out + len, len < cap ? cap - len : 0, "%s%s", len ? "," : "",
                                    t[i].name);
}

void sb_capabilities_format(uint64_t caps, char *out, size_t cap)
{
    format_bits(caps, capability_names, sizeof capability_names / sizeof capability_names[0], out, cap);
}

void sb_provider_features_format(uint64_t features, char *out, size_t cap)
{
    format_bits(features, feature_names, sizeof feature_names / sizeof feature_names[0], out, cap);
}

void sb_descriptor_field(const sb_plugin *d, size_t i, sb_config_field *out)
{
    memset(out, 0, sizeof *out);
    size_t stride = d->config_field_size;
    size_t n = stride < sizeof *out ? stride : sizeof *out;
    memcpy(out, (const char *)d->config_fields + i * stride, n);
}

static int valid_name(const char *s)
{
    if (s == NULL || !((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9')))
        return 0;
    size_t n = 0;
    for (; *s; s++, n++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '_' || *s == '-'))
            return 0;
    return n <= 64;
}

static int valid_semver(const char *s)
{
    int parts = 0;
    if (s == NULL)
        return 0;
    for (;;) {
        if (*s < '0' || *s > '9')
            return 0;
        if (*s == '0' && s[1] >= '0' && s[1] <= '9')
            return 0; /* no leading zeros */
        while (*s >= '0' && *s <= '9')
            s++;
        parts++;
        if (parts == 3)
            break;
        if (*s++ != '.')
            return 0;
    }
    if (*s == '\0')
        return 1;
    if (*s != '-' && *s != '+')
        return 0;
    for (s++; *s; s++)
        if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
              *s == '.' || *s == '-' || *s == '+'))
            return 0;
    return 1;
}

/* Checks one capability's vtable: present, large enough, every slot set. */
static int check_vtable(const char *cap, const void *ops, size_t min_size, sb_error *err)
{
    if (ops == NULL)
        return sb_error_set(err, SB_DESC_E_CAPABILITY,
                            "declares the %s capability but its %s vtable is NULL", cap, cap);
    uint32_t size = *(const uint32_t *)ops;
    if (size < min_size)
        return sb_error_set(err, SB_DESC_E_SIZE,
                            "%s vtable struct_size %u is smaller than ABI 1.0's %zu bytes; "
                            "rebuild the plugin against sbridge/plugin.h",
                            cap, size, min_size);
    /* Every function slot of ABI 1.0 (after struct_size+reserved) must be set. */
    const void *const *slots = (const void *const *)((const char *)ops + 8);
    for (size_t i = 0; i < (min_size - 8) / sizeof(void *); i++)
        if (slots[i] == NULL)
            return sb_error_set(err, SB_DESC_E_CAPABILITY, "%s vtable entry %zu is NULL", cap, i);
    return 0;
}

int sb_descriptor_check(const sb_plugin *d, uint16_t host_major, uint16_t host_minor, sb_error *err)
{
    if (d == NULL)
        return sb_error_set(err, SB_DESC_E_MAGIC, "the entry point returned NULL instead of a descriptor");
    if (d->magic != SB_PLUGIN_MAGIC)
        return sb_error_set(err, SB_DESC_E_MAGIC,
                            "bad magic 0x%08x (expected 0x%08x): not a Secrets Bridge plugin "
                            "descriptor",
                            d->magic, SB_PLUGIN_MAGIC);
    if (d->abi_major != host_major)
        return sb_error_set(err, SB_DESC_E_MAJOR,
                            "built for plugin ABI %u.%u, but this sbridge speaks ABI %u.%u; "
                            "a different major version is never compatible: rebuild the plugin "
                            "against ABI %u",
                            d->abi_major, d->abi_minor, host_major, host_minor, host_major);
    if (d->requires_minor > d->abi_minor)
        return sb_error_set(err, SB_DESC_E_MINOR,
                            "requires plugin ABI %u.%u but was built with the ABI %u.%u header, "
                            "which cannot provide it; rebuild it against a %u.%u (or newer) "
                            "sbridge/plugin.h",
                            d->abi_major, d->requires_minor, d->abi_major, d->abi_minor,
                            d->abi_major, d->requires_minor);
    if (d->requires_minor > host_minor)
        return sb_error_set(err, SB_DESC_E_MINOR,
                            "requires plugin ABI %u.%u or newer (built with %u.%u), but this sbridge "
                            "speaks ABI %u.%u; upgrade sbridge to a release with ABI %u.%u, or rebuild "
                            "the plugin with a lower SB_PLUGIN_REQUIRES_MINOR (it must then check "
                            "SB_HAS_FIELD before using anything added after %u.%u)",
                            d->abi_major, d->requires_minor, d->abi_major, d->abi_minor, host_major,
                            host_minor, host_major, d->requires_minor, host_major, host_minor);
    if (d->struct_size < SB_PLUGIN_V1_0_SIZE)
        return sb_error_set(err, SB_DESC_E_SIZE,
                            "descriptor struct_size %u is smaller than ABI 1.0's %zu bytes; "
                            "the plugin was not built with SB_PLUGIN_DEFINE from sbridge/plugin.h",
                            d->struct_size, (size_t)SB_PLUGIN_V1_0_SIZE);
    if (!valid_name(d->name))
        return sb_error_set(err, SB_DESC_E_IDENTITY,
                            "name must be 1-64 characters of [a-z0-9_-] starting with a letter or digit");
    if (!valid_semver(d->version))
        return sb_error_set(err, SB_DESC_E_IDENTITY,
                            "plugin %s: version must be a semantic version such as 1.2.0", d->name);
    if (d->vendor == NULL || d->license == NULL || d->description == NULL)
        return sb_error_set(err, SB_DESC_E_IDENTITY,
                            "plugin %s: vendor, license and description are required", d->name);
    if (d->thread_model != SB_THREAD_SERIAL && d->thread_model != SB_THREAD_CONCURRENT)
        return sb_error_set(err, SB_DESC_E_IDENTITY,
                            "plugin %s: thread_model must be SB_THREAD_SERIAL or SB_THREAD_CONCURRENT",
                            d->name);
    uint64_t known = SB_CAP_PROVIDER | SB_CAP_KMS | SB_CAP_GITOPS | SB_CAP_NOTIFIER;
    if (d->capabilities == 0 || (d->capabilities & ~known))
        return sb_error_set(err, SB_DESC_E_CAPABILITY,
                            "plugin %s: capabilities 0x%llx must be a non-empty set of SB_CAP_* bits",
                            d->name, (unsigned long long)d->capabilities);
    if (d->init == NULL || d->instance_new == NULL || d->instance_free == NULL)
        return sb_error_set(err, SB_DESC_E_CAPABILITY,
                            "plugin %s: init, instance_new and instance_free are required", d->name);
    if (d->n_config_fields > 0 &&
        (d->config_fields == NULL || d->config_field_size < SB_CONFIG_FIELD_V1_0_SIZE))
        return sb_error_set(err, SB_DESC_E_SIZE,
                            "plugin %s: config_field_size %u is smaller than ABI 1.0's %zu bytes",
                            d->name, d->config_field_size, (size_t)SB_CONFIG_FIELD_V1_0_SIZE);
    struct {
        uint64_t cap;
        const void *ops;
        size_t min;
    } vt[] = {
        {SB_CAP_PROVIDER, d->provider, SB_PROVIDER_OPS_V1_0_SIZE},
        {SB_CAP_KMS, d->kms, SB_KMS_OPS_V1_0_SIZE},
        {SB_CAP_GITOPS, d->gitops, SB_GITOPS_OPS_V1_0_SIZE},
        {SB_CAP_NOTIFIER, d->notifier, SB_NOTIFIER_OPS_V1_0_SIZE},
    };
    for (size_t i = 0; i < sizeof vt / sizeof vt[0]; i++) {
        const char *cap = sb_capability_name(vt[i].cap);
        if (d->capabilities & vt[i].cap) {
            if (check_vtable(cap, vt[i].ops, vt[i].min, err) != 0)
                return -1;
        } else if (vt[i].ops != NULL) {
            return sb_error_set(err, SB_DESC_E_CAPABILITY,
                                "plugin %s: has a %s vtable but does not declare the %s capability",
                                d->name, cap, cap);
        }
    }
    uint64_t fknown = SB_PROV_READ | SB_PROV_WRITE | SB_PROV_CAS | SB_PROV_LIST | SB_PROV_LABELS |
                      SB_PROV_VERSIONS | SB_PROV_DESCRIBE;
    if (d->provider_features & ~fknown)
        return sb_error_set(err, SB_DESC_E_CAPABILITY, "plugin %s: unknown provider feature bits",
                            d->name);
    if (!(d->capabilities & SB_CAP_PROVIDER) && d->provider_features)
        return sb_error_set(err, SB_DESC_E_CAPABILITY,
                            "plugin %s: provider_features set without the provider capability", d->name);
    if ((d->provider_features & SB_PROV_CAS) && !(d->provider_features & SB_PROV_WRITE))
        return sb_error_set(err, SB_DESC_E_CAPABILITY,
                            "plugin %s: compare-and-set declared without write", d->name);
    return 0;
}
