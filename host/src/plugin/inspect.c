/* plugin/inspect.c — see inspect.h. */
#include "plugin/inspect.h"

#include <jansson.h>
#include <string.h>

#include "plugin/descriptor.h"
#include "util/duration.h"

static const char *type_name(sb_config_type t)
{
    switch (t) {
    case SB_CFG_STRING: return "string";
    case SB_CFG_INT: return "int";
    case SB_CFG_BOOL: return "bool";
    case SB_CFG_DURATION: return "duration";
    case SB_CFG_ENUM: return "enum";
    case SB_CFG_STRING_LIST: return "string list";
    case SB_CFG_STRING_MAP: return "string map";
    }
    return "unknown";
}

static void range_text(const sb_config_field *f, char *out, size_t cap)
{
    out[0] = '\0';
    if (f->min > f->max || (f->type != SB_CFG_INT && f->type != SB_CFG_DURATION))
        return;
    if (f->type == SB_CFG_INT) {
        snprintf(out, cap, "%lld..%lld", (long long)f->min, (long long)f->max);
    } else {
        char lo[32], hi[32];
        sb_duration_format(f->min, lo, sizeof lo);
        sb_duration_format(f->max, hi, sizeof hi);
        snprintf(out, cap, "%s..%s", lo, hi);
    }
}

static const char *thread_model(const sb_plugin *d)
{
    return d->thread_model == SB_THREAD_CONCURRENT ? "concurrent" : "serial per instance";
}

void sb_inspect_text(const sb_loaded_plugin *p, FILE *out)
{
    const sb_plugin *d = p->desc;
    char caps[128], feats[256];
    sb_capabilities_format(d->capabilities, caps, sizeof caps);
    sb_provider_features_format(d->provider_features, feats, sizeof feats);
    fprintf(out, "%s %s\n", d->name, d->version);
    fprintf(out, "  %s\n", d->description);
    fprintf(out, "  vendor:        %s\n", d->vendor);
    fprintf(out, "  license:       %s\n", d->license);
    fprintf(out, "  file:          %s\n", p->path);
    fprintf(out, "  sha256:        %s\n", p->sha256);
    fprintf(out, "  plugin ABI:    requires %u.%u, built with %u.%u (host %u.%u)\n", d->abi_major,
            d->requires_minor, d->abi_major, d->abi_minor, SB_PLUGIN_ABI_MAJOR, SB_PLUGIN_ABI_MINOR);
    fprintf(out, "  capabilities:  %s\n", caps);
    if (d->capabilities & SB_CAP_PROVIDER)
        fprintf(out, "  provider ops:  %s\n", feats[0] ? feats : "(none)");
    fprintf(out, "  threads:       %s\n", thread_model(d));
    fprintf(out, "\nconfig keys:\n");
    if (d->n_config_fields == 0)
        fprintf(out, "  (none)\n");
    for (size_t i = 0; i < d->n_config_fields; i++) {
        sb_config_field f;
        sb_descriptor_field(d, i, &f);
        char range[96];
        range_text(&f, range, sizeof range);
        fprintf(out, "  %-22s %s%s%s%s", f.key ? f.key : "?", type_name(f.type),
                (f.flags & SB_CFG_REQUIRED) ? ", required" : "", (f.flags & SB_CFG_SECRET) ? ", SECRET" : "",
                (f.flags & SB_CFG_URL) ? ", url" : (f.flags & SB_CFG_PATH) ? ", path" : "");
        if (f.when)
            fprintf(out, ", when %s", f.when);
        if (f.default_value)
            fprintf(out, ", default %s", f.default_value);
        if (range[0])
            fprintf(out, ", range %s", range);
        if (f.type == SB_CFG_ENUM && f.enum_values)
            fprintf(out, ", one of %s", f.enum_values);
        fprintf(out, "\n  %-22s %s\n", "", f.help ? f.help : "");
    }
}

void sb_inspect_json(const sb_loaded_plugin *p, FILE *out)
{
    const sb_plugin *d = p->desc;
    json_t *caps = json_array(), *feats = json_array(), *fields = json_array();
    static const uint64_t cap_bits[] = {SB_CAP_PROVIDER, SB_CAP_KMS, SB_CAP_GITOPS, SB_CAP_NOTIFIER};
    for (size_t i = 0; i < 4; i++)
        if (d->capabilities & cap_bits[i])
            json_array_append_new(caps, json_string(sb_capability_name(cap_bits[i])));
    char fbuf[256];
    sb_provider_features_format(d->provider_features, fbuf, sizeof fbuf);
    for (char *tok = strtok(fbuf, ","); tok; tok = strtok(NULL, ","))
        json_array_append_new(feats, json_string(tok));
    for (size_t i = 0; i < d->n_config_fields; i++) {
        sb_config_field f;
        sb_descriptor_field(d, i, &f);
        json_t *o = json_pack("{s:s?, s:s, s:b, s:b, s:s?}", "key", f.key, "type", type_name(f.type),
                              "required", (f.flags & SB_CFG_REQUIRED) != 0, "secret",
                              (f.flags & SB_CFG_SECRET) != 0, "help", f.help);
        if (f.default_value)
            json_object_set_new(o, "default", json_string(f.default_value));
        if (f.when)
            json_object_set_new(o, "when", json_string(f.when));
        if (f.type == SB_CFG_ENUM && f.enum_values)
            json_object_set_new(o, "enum", json_string(f.enum_values));
        if (f.flags & SB_CFG_URL)
            json_object_set_new(o, "format", json_string("url"));
        if (f.flags & SB_CFG_PATH)
            json_object_set_new(o, "format", json_string("path"));
        if (f.min <= f.max && (f.type == SB_CFG_INT || f.type == SB_CFG_DURATION)) {
            json_object_set_new(o, "min", json_integer(f.min));
            json_object_set_new(o, "max", json_integer(f.max));
        }
        json_array_append_new(fields, o);
    }
    char abi[32], requires[32];
    snprintf(abi, sizeof abi, "%u.%u", d->abi_major, d->abi_minor);
    snprintf(requires, sizeof requires, "%u.%u", d->abi_major, d->requires_minor);
    json_t *root = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:o, s:o, s:s, s:o}", "name",
                             d->name, "version", d->version, "vendor", d->vendor, "license", d->license,
                             "description", d->description, "file", p->path, "sha256", p->sha256,
                             "abi", abi, "abi_requires", requires, "capabilities", caps, "provider_features", feats,
                             "thread_model", d->thread_model == SB_THREAD_CONCURRENT ? "concurrent" : "serial",
                             "config", fields);
    json_dumpf(root, out, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    fputc('\n', out);
    json_decref(root);
}
