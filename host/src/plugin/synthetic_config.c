/* plugin/synthetic_config.c — see synthetic_config.h. */
#include "plugin/synthetic_config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plugin/descriptor.h"
#include "util/duration.h"

/* The value a field would have: the chosen text, or its default. */
static const char *chosen(const sb_plugin *d, char **values, const char *key)
{
    for (size_t i = 0; i < d->n_config_fields; i++) {
        sb_config_field f;
        sb_descriptor_field(d, i, &f);
        if (f.key && strcmp(f.key, key) == 0)
            return values[i] ? values[i] : f.default_value;
    }
    return NULL;
}

static int holds(const sb_plugin *d, char **values, const char *when)
{
    if (when == NULL)
        return 1;
    const char *eq = strchr(when, '=');
    if (eq == NULL)
        return 0;
    char key[128];
    snprintf(key, sizeof key, "%.*s", (int)(eq - when), when);
    const char *v = chosen(d, values, key);
    return v && strcmp(v, eq + 1) == 0;
}

static char *value_for(const sb_config_field *f)
{
    char buf[160];
    switch (f->type) {
    case SB_CFG_INT:
        snprintf(buf, sizeof buf, "%lld", (long long)(f->min <= f->max ? f->min : 1));
        break;
    case SB_CFG_BOOL:
        snprintf(buf, sizeof buf, "false");
        break;
    case SB_CFG_DURATION:
        if (f->min <= f->max && f->min > 0)
            sb_duration_format(f->min, buf, sizeof buf);
        else
            snprintf(buf, sizeof buf, "1s");
        break;
    case SB_CFG_ENUM: {
        const char *bar = f->enum_values ? strchr(f->enum_values, '|') : NULL;
        snprintf(buf, sizeof buf, "%.*s", bar ? (int)(bar - f->enum_values) : 100,
                 f->enum_values ? f->enum_values : "");
        break;
    }
    case SB_CFG_STRING_LIST:
        snprintf(buf, sizeof buf, "[conformance]");
        break;
    case SB_CFG_STRING_MAP:
        snprintf(buf, sizeof buf, "{conformance: \"yes\"}");
        break;
    default:
        if (f->flags & SB_CFG_URL)
            snprintf(buf, sizeof buf, "https://127.0.0.1:9");
        else if (f->flags & SB_CFG_PATH)
            snprintf(buf, sizeof buf, "/nonexistent/sbridge-conformance/%s", f->key);
        else if (f->flags & SB_CFG_SECRET)
            snprintf(buf, sizeof buf, "conformance-secret-%s", f->key);
        else
            snprintf(buf, sizeof buf, "conformance");
    }
    return strdup(buf);
}

sb_ynode *sb_synthetic_config(const sb_plugin *d)
{
    size_t n = d->n_config_fields;
    char **values = calloc(n ? n : 1, sizeof *values);
    if (values == NULL)
        return NULL;
    /* Enums without a default first (conditions usually test them), then
     * everything required whose condition holds. */
    for (size_t i = 0; i < n; i++) {
        sb_config_field f;
        sb_descriptor_field(d, i, &f);
        if (f.type == SB_CFG_ENUM && f.default_value == NULL && f.when == NULL)
            values[i] = value_for(&f);
    }
    for (size_t i = 0; i < n; i++) {
        sb_config_field f;
        sb_descriptor_field(d, i, &f);
        if (values[i] == NULL && (f.flags & SB_CFG_REQUIRED) && holds(d, values, f.when))
            values[i] = value_for(&f);
    }
    size_t cap = 256 + n * 256, len = 0;
    char *yaml = malloc(cap);
    yaml[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        sb_config_field f;
        sb_descriptor_field(d, i, &f);
        if (values[i] && len < cap)
            len += (size_t)snprintf(yaml + len, cap - len, "%s: %s\n", f.key, values[i]);
        free(values[i]);
    }
    free(values);
    sb_diags diags;
    sb_diags_init(&diags, "synthesised");
    sb_ynode *tree = sb_yaml_load_buffer(yaml, len, &diags);
    sb_diags_free(&diags);
    free(yaml);
    return tree;
}
