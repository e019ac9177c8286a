/* plugin/instance_config.c — see instance_config.h. */
#include "plugin/instance_config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/schema.h"
#include "plugin/descriptor.h"

typedef struct config_entry {
    sb_config_field field; /* copied with the plugin's stride */
    int set;
    int failed; /* its value was refused: conditions on it are unknown */
    sb_value value;
    sb_kv *list_view; /* STRING_LIST as sb_kv for config_entries */
} config_entry;

struct sb_config {
    char *instance_name;
    config_entry *entries;
    size_t n;
};

static sb_value_rule rule_of(const sb_config_field *f)
{
    sb_value_rule r = {(int)f->type, f->flags, f->min, f->max, f->enum_values};
    return r;
}

static int snake_case(const char *k)
{
    if (k == NULL || !(*k >= 'a' && *k <= 'z'))
        return 0;
    for (; *k; k++)
        if (!((*k >= 'a' && *k <= 'z') || (*k >= '0' && *k <= '9') || *k == '_'))
            return 0;
    return 1;
}

#define PROBLEM(...)                                                                               \
    do {                                                                                           \
        count++;                                                                                   \
        if (problems && len < cap)                                                                 \
            len += (size_t)snprintf(problems + len, cap - len, __VA_ARGS__);                       \
    } while (0)

size_t sb_plugin_schema_check(const sb_plugin *d, char *problems, size_t cap)
{
    size_t count = 0, len = 0;
    if (problems && cap)
        problems[0] = '\0';
    for (size_t i = 0; i < d->n_config_fields; i++) {
        sb_config_field f;
        sb_descriptor_field(d, i, &f);
        if (!snake_case(f.key)) {
            PROBLEM("config field %zu: key must be lower_snake_case\n", i);
            continue;
        }
        for (size_t j = 0; j < i; j++) {
            sb_config_field g;
            sb_descriptor_field(d, j, &g);
            if (g.key && strcmp(g.key, f.key) == 0)
                PROBLEM("config field '%s': declared twice\n", f.key);
        }
        if (f.type < SB_CFG_STRING || f.type > SB_CFG_STRING_MAP)
            PROBLEM("config field '%s': unknown type %d\n", f.key, (int)f.type);
        if (f.flags & ~(SB_CFG_REQUIRED | SB_CFG_SECRET | SB_CFG_PATH | SB_CFG_URL))
            PROBLEM("config field '%s': unknown flag bits\n", f.key);
        if (f.help == NULL || f.help[0] == '\0')
            PROBLEM("config field '%s': help text is missing\n", f.key);
        if (f.type == SB_CFG_ENUM && (f.enum_values == NULL || f.enum_values[0] == '\0'))
            PROBLEM("config field '%s': an ENUM needs enum_values\n", f.key);
        if ((f.flags & SB_CFG_SECRET) && f.default_value)
            PROBLEM("config field '%s': a secret field may not have a default\n", f.key);
        if ((f.flags & SB_CFG_REQUIRED) && f.default_value)
            PROBLEM("config field '%s': required and defaulted at once\n", f.key);
        if (f.default_value && f.type >= SB_CFG_STRING && f.type <= SB_CFG_ENUM) {
            sb_diags dg;
            sb_diags_init(&dg, "default");
            sb_value v;
            sb_value_rule r = rule_of(&f);
            if (sb_value_convert(&r, f.key, NULL, f.default_value, &dg, &v) == 0)
                sb_value_free(&r, &v);
            else
                PROBLEM("config field '%s': default '%s' is not valid for its type\n", f.key,
                        f.default_value);
            sb_diags_free(&dg);
        }
        if (f.when) {
            const char *eq = strchr(f.when, '=');
            int found = 0;
            for (size_t j = 0; eq && j < d->n_config_fields && !found; j++) {
                sb_config_field g;
                sb_descriptor_field(d, j, &g);
                found = g.key && strlen(g.key) == (size_t)(eq - f.when) &&
                        strncmp(g.key, f.when, (size_t)(eq - f.when)) == 0 && j != i;
            }
            if (!found)
                PROBLEM("config field '%s': condition '%s' must be other_key=value naming a declared "
                        "key\n",
                        f.key, f.when);
        }
    }
    return count;
}

static config_entry *find(const sb_config *cfg, const char *key)
{
    for (size_t i = 0; cfg && key && i < cfg->n; i++)
        if (strcmp(cfg->entries[i].field.key, key) == 0)
            return &cfg->entries[i];
    return NULL;
}

/* The current textual value of a field for `when` conditions. */
static const char *value_text(const config_entry *e, char *buf, size_t cap)
{
    if (e == NULL)
        return NULL;
    if (e->field.type == SB_CFG_BOOL) {
        snprintf(buf, cap, "%s", e->value.i ? "true" : "false");
        return buf;
    }
    if (e->field.type == SB_CFG_INT || e->field.type == SB_CFG_DURATION) {
        snprintf(buf, cap, "%lld", (long long)e->value.i);
        return buf;
    }
    return e->value.s;
}

/* 1 holds, 0 does not, -1 unknown (the key it tests was itself refused). */
static int condition_holds(const sb_config *cfg, const char *when)
{
    const char *eq = strchr(when, '=');
    char key[128], buf[64];
    if (eq == NULL || (size_t)(eq - when) >= sizeof key)
        return 0;
    memcpy(key, when, (size_t)(eq - when));
    key[eq - when] = '\0';
    const config_entry *e = find(cfg, key);
    if (e && e->failed)
        return -1;
    const char *v = value_text(e, buf, sizeof buf);
    return v && strcmp(v, eq + 1) == 0;
}

size_t sb_instance_config_build(const sb_plugin *d, const char *instance_name, const sb_ynode *node,
                                const char *path, sb_diags *diags, sb_config **out)
{
    *out = NULL;
    size_t before = diags->n_errors;
    if (node && !(node->kind == SB_YNODE_SCALAR && node->text[0] == '\0' && !node->quoted) &&
        node->kind != SB_YNODE_MAP) {
        sb_diags_error(diags, node->line, node->col, "%s: expected a mapping, found %s", path,
                       sb_yaml_kind_name(node));
        return 1;
    }
    if (node && node->kind != SB_YNODE_MAP)
        node = NULL;
    sb_config *cfg = calloc(1, sizeof *cfg);
    cfg->instance_name = strdup(instance_name ? instance_name : "");
    cfg->entries = calloc(d->n_config_fields ? d->n_config_fields : 1, sizeof *cfg->entries);
    cfg->n = d->n_config_fields;
    for (size_t i = 0; i < cfg->n; i++)
        sb_descriptor_field(d, i, &cfg->entries[i].field);

    for (size_t i = 0; node && i < node->n; i++) {
        const char *k = node->keys[i]->text;
        if (find(cfg, k))
            continue;
        const char *names[128];
        size_t nn = 0;
        for (size_t j = 0; j < cfg->n && nn < 128; j++)
            names[nn++] = cfg->entries[j].field.key;
        const char *hint = sb_schema_suggest(k, names, nn);
        if (hint)
            sb_diags_error(diags, node->keys[i]->line, node->keys[i]->col,
                           "%s.%s: unknown key for plugin %s; did you mean '%s'?", path, k, d->name, hint);
        else
            sb_diags_error(diags, node->keys[i]->line, node->keys[i]->col,
                           "%s.%s: unknown key for plugin %s (see `sbridge plugin inspect`)", path, k,
                           d->name);
    }
    /* Unconditional fields first: conditions refer to them. */
    for (int pass = 0; pass < 2; pass++) {
        for (size_t i = 0; i < cfg->n; i++) {
            config_entry *e = &cfg->entries[i];
            if ((e->field.when != NULL) != (pass == 1))
                continue;
            const sb_ynode *v = sb_yaml_get(node, e->field.key);
            if (v && v->kind == SB_YNODE_SCALAR && !v->quoted &&
                (v->text[0] == '\0' || strcmp(v->text, "null") == 0 || strcmp(v->text, "~") == 0))
                v = NULL;
            char full[256];
            snprintf(full, sizeof full, "%s.%s", path, e->field.key);
            int applies = e->field.when == NULL ? 1 : condition_holds(cfg, e->field.when);
            if (applies < 0)
                continue; /* one error (on the tested key) is enough */
            int line = node ? node->line : 0, col = node ? node->col : 0;
            if (!applies) {
                if (v)
                    sb_diags_error(diags, v->line, v->col, "%s: only applies when %s", full,
                                   e->field.when);
                continue;
            }
            if (v == NULL && (e->field.flags & SB_CFG_REQUIRED)) {
                if (e->field.when)
                    sb_diags_error(diags, line, col, "%s: required when %s (%s)", full, e->field.when,
                                   e->field.help ? e->field.help : "");
                else
                    sb_diags_error(diags, line, col, "%s: required key is missing (%s)", full,
                                   e->field.help ? e->field.help : "");
                continue;
            }
            sb_value_rule r = rule_of(&e->field);
            if (sb_value_convert(&r, full, v, e->field.default_value, diags, &e->value) != 0) {
                e->failed = 1;
                continue;
            }
            e->set = v != NULL || e->field.default_value != NULL;
            if (e->field.type == SB_CFG_STRING_LIST && e->value.list.n) {
                e->list_view = calloc(e->value.list.n, sizeof *e->list_view);
                for (size_t k = 0; e->list_view && k < e->value.list.n; k++)
                    e->list_view[k].key = e->value.list.items[k];
            }
        }
    }
    if (diags->n_errors > before) {
        sb_instance_config_free(cfg);
        return diags->n_errors - before;
    }
    *out = cfg;
    return 0;
}

void sb_instance_config_free(sb_config *cfg)
{
    if (cfg == NULL)
        return;
    for (size_t i = 0; i < cfg->n; i++) {
        sb_value_rule r = rule_of(&cfg->entries[i].field);
        sb_value_free(&r, &cfg->entries[i].value);
        free(cfg->entries[i].list_view);
    }
    free(cfg->entries);
    free(cfg->instance_name);
    free(cfg);
}

const char *sb_instance_config_string(const sb_config *cfg, const char *key)
{
    const config_entry *e = find(cfg, key);
    if (e == NULL || (e->field.flags & SB_CFG_SECRET))
        return NULL; /* secrets only through config_secret */
    return e->value.s;
}

int64_t sb_instance_config_int(const sb_config *cfg, const char *key)
{
    const config_entry *e = find(cfg, key);
    return e ? e->value.i : 0;
}

int sb_instance_config_bool(const sb_config *cfg, const char *key)
{
    const config_entry *e = find(cfg, key);
    return e && e->field.type == SB_CFG_BOOL ? (int)e->value.i : 0;
}

size_t sb_instance_config_entries(const sb_config *cfg, const char *key, const sb_kv **entries)
{
    const config_entry *e = find(cfg, key);
    *entries = NULL;
    if (e == NULL)
        return 0;
    if (e->field.type == SB_CFG_STRING_MAP) {
        *entries = e->value.map.items;
        return e->value.map.n;
    }
    if (e->field.type == SB_CFG_STRING_LIST) {
        *entries = e->list_view;
        return e->list_view ? e->value.list.n : 0;
    }
    return 0;
}

const char *sb_instance_config_secret(const sb_config *cfg, const char *key)
{
    const config_entry *e = find(cfg, key);
    return e && (e->field.flags & SB_CFG_SECRET) ? e->value.s : NULL;
}

const char *sb_instance_config_name(const sb_config *cfg) { return cfg ? cfg->instance_name : NULL; }
