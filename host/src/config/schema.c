/* config/schema.c — see schema.h. */
#include "util/cidr.h"
#include "config/schema.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/reference.h"
#include "crypto/secure_mem.h"
#include "util/duration.h"
#include "util/redact.h"

/* Key paths for messages ("providers[0].config.address"); silently cut
 * when very deep, which only shortens a message. */
__attribute__((format(printf, 3, 4))) static void path_fmt(char *out, size_t cap, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(out, cap, fmt, ap);
    va_end(ap);
}

static int is_null(const sb_ynode *n)
{
    return n == NULL || (n->kind == SB_YNODE_SCALAR && !n->quoted &&
                         (n->text[0] == '\0' || strcmp(n->text, "~") == 0 ||
                          strcmp(n->text, "null") == 0));
}

static const char *type_phrase(int type)
{
    switch (type) {
    case SB_CFG_INT: return "an integer";
    case SB_CFG_BOOL: return "true or false";
    case SB_CFG_DURATION: return "a duration such as 30s, 15m or 8h";
    case SB_CFG_ENUM: return "one of the allowed words";
    case SB_CFG_STRING_LIST: return "a list of strings";
    case SB_CFG_STRING_MAP: return "a mapping of strings to strings";
    case SB_SPEC_SECTION: return "a mapping";
    case SB_SPEC_SECTION_LIST: return "a list of mappings";
    default: return "a string";
    }
}

/* Levenshtein distance, bounded to short words. */
static size_t edit_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la > 63 || lb > 63)
        return 99;
    size_t prev[64], cur[64];
    for (size_t j = 0; j <= lb; j++)
        prev[j] = j;
    for (size_t i = 1; i <= la; i++) {
        cur[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t sub = prev[j - 1] + (a[i - 1] != b[j - 1]);
            size_t del = prev[j] + 1, ins = cur[j - 1] + 1;
            cur[j] = sub < del ? (sub < ins ? sub : ins) : (del < ins ? del : ins);
        }
        memcpy(prev, cur, (lb + 1) * sizeof prev[0]);
    }
    return prev[lb];
}

const char *sb_schema_suggest(const char *word, const char *const *candidates, size_t n)
{
    const char *best = NULL;
    size_t best_d = 3; /* at most two edits away */
    for (size_t i = 0; i < n; i++) {
        size_t dist = edit_distance(word, candidates[i]);
        if (dist < best_d)
            best = candidates[i], best_d = dist;
    }
    return best;
}

/* Expands references in a scalar; the result is heap memory unless the
 * rule is secret. */
static int scalar_text(const sb_value_rule *r, const char *key, const sb_ynode *node,
                       const char *text, sb_diags *d, char **out)
{
    char *expanded;
    size_t len;
    int used_ref;
    sb_error err;
    int line = node ? node->line : 0, col = node ? node->col : 0;
    if (sb_cfg_expand(text, &expanded, &len, &used_ref, &err) != 0) {
        sb_diags_error(d, line, col, "%s: %s", key, err.message);
        return -1;
    }
    if (r->flags & SB_CFG_SECRET) {
        if (node && !used_ref && len > 0)
            sb_diags_warning(d, line, col,
                             "%s: secret written inline; prefer ${env:NAME} or ${file:/path}", key);
        sb_redact_register_secret(expanded, len);
        *out = expanded;
        return 0;
    }
    *out = strdup(expanded);
    sb_secure_release(expanded);
    if (*out == NULL) {
        sb_diags_error(d, line, col, "%s: out of memory", key);
        return -1;
    }
    return 0;
}

static void release_text(const sb_value_rule *r, char *s)
{
    if (s == NULL)
        return;
    if (r->flags & SB_CFG_SECRET) {
        sb_redact_unregister_secret(s);
        sb_secure_release(s);
    } else {
        free(s);
    }
}

static int check_enum(const char *allowed, const char *v)
{
    size_t vl = strlen(v);
    for (const char *p = allowed; p && *p;) {
        const char *bar = strchr(p, '|');
        size_t l = bar ? (size_t)(bar - p) : strlen(p);
        if (l == vl && strncmp(p, v, l) == 0)
            return 1;
        p = bar ? bar + 1 : NULL;
    }
    return 0;
}

static int check_listen(const char *v)
{
    const char *colon = strrchr(v, ':');
    if (colon == NULL || colon == v)
        return 0;
    if (v[0] == '[' && colon[-1] != ']')
        return 0;
    char *end;
    errno = 0;
    long port = strtol(colon + 1, &end, 10);
    return errno == 0 && *end == '\0' && colon[1] != '\0' && port >= 0 && port <= 65535;
}

static int check_url(const char *v)
{
    const char *rest = NULL;
    if (strncmp(v, "https://", 8) == 0)
        rest = v + 8;
    else if (strncmp(v, "http://", 7) == 0)
        rest = v + 7;
    return rest && *rest && *rest != '/' && !strpbrk(v, " \t\r\n");
}

static int check_hex64(const char *v)
{
    if (strlen(v) != 64)
        return 0;
    for (const char *p = v; *p; p++)
        if (!strchr("0123456789abcdefABCDEF", *p))
            return 0;
    return 1;
}

/* Checks the string-shaped flags; adds a diagnostic and returns -1 on failure. */
static int check_string_flags(const sb_value_rule *r, const char *key, const sb_ynode *node,
                              const char *v, sb_diags *d)
{
    int line = node ? node->line : 0, col = node ? node->col : 0;
    int secret = (r->flags & SB_CFG_SECRET) != 0;
    if (r->type == SB_CFG_ENUM && !check_enum(r->enum_values, v)) {
        if (secret)
            sb_diags_error(d, line, col, "%s: must be one of %s", key, r->enum_values);
        else
            sb_diags_error(d, line, col, "%s: '%s' is not one of %s", key, v, r->enum_values);
        return -1;
    }
    if ((r->flags & SB_CFG_PATH) && v[0] != '/') {
        sb_diags_error(d, line, col, "%s: '%s' must be an absolute path (starting with /)", key,
                       secret ? "<secret>" : v);
        return -1;
    }
    if ((r->flags & SB_CFG_URL) && !check_url(v)) {
        sb_diags_error(d, line, col, "%s: '%s' is not an http:// or https:// URL with a host", key,
                       secret ? "<secret>" : v);
        return -1;
    }
    if ((r->flags & SB_SPEC_LISTEN) && !check_listen(v)) {
        sb_diags_error(d, line, col, "%s: '%s' is not a listen address of the form host:port", key, v);
        return -1;
    }
    const char *why = NULL;
    sb_cidr net;
    if ((r->flags & SB_SPEC_CIDR) && sb_cidr_parse(v, &net, &why) != 0) {
        sb_diags_error(d, line, col, "%s: '%s': %s", key, v, why);
        return -1;
    }
    if ((r->flags & SB_SPEC_HEX64) && !check_hex64(v)) {
        sb_diags_error(d, line, col, "%s: expected 64 hexadecimal digits (a SHA-256), found %zu characters",
                       key, strlen(v));
        return -1;
    }
    return 0;
}

static int convert_number(const sb_value_rule *r, const char *key, const sb_ynode *node,
                          const char *text, int quoted, sb_diags *d, int64_t *out)
{
    int line = node ? node->line : 0, col = node ? node->col : 0;
    char shown[96];
    snprintf(shown, sizeof shown, "%s%s%s", quoted ? "\"" : "'", text, quoted ? "\"" : "'");
    if (r->type == SB_CFG_BOOL) {
        if (!quoted && strcmp(text, "true") == 0)
            return *out = 1, 0;
        if (!quoted && strcmp(text, "false") == 0)
            return *out = 0, 0;
        sb_diags_error(d, line, col, "%s: expected true or false, found %s", key, shown);
        return -1;
    }
    if (r->type == SB_CFG_INT) {
        char *end;
        errno = 0;
        long long v = strtoll(text, &end, 10);
        if (quoted || errno != 0 || end == text || *end != '\0') {
            sb_diags_error(d, line, col, "%s: expected an integer, found %s", key, shown);
            return -1;
        }
        if (r->min <= r->max && (v < r->min || v > r->max)) {
            sb_diags_error(d, line, col, "%s: %lld is out of range (%lld to %lld)", key, v,
                           (long long)r->min, (long long)r->max);
            return -1;
        }
        return *out = v, 0;
    }
    /* duration */
    int64_t ms;
    if (sb_duration_parse(text, &ms) != 0) {
        sb_diags_error(d, line, col, "%s: expected a duration such as 30s, 15m or 8h, found %s", key,
                       shown);
        return -1;
    }
    if (r->min <= r->max && (ms < r->min || ms > r->max)) {
        char lo[32], hi[32];
        sb_duration_format(r->min, lo, sizeof lo);
        sb_duration_format(r->max, hi, sizeof hi);
        sb_diags_error(d, line, col, "%s: %s is out of range (%s to %s)", key, text, lo, hi);
        return -1;
    }
    return *out = ms, 0;
}

int sb_value_convert(const sb_value_rule *r, const char *key, const sb_ynode *node,
                     const char *default_text, sb_diags *d, sb_value *out)
{
    memset(out, 0, sizeof *out);
    const char *text = node ? node->text : default_text;
    int line = node ? node->line : 0, col = node ? node->col : 0;
    if (r->type == SB_CFG_STRING_LIST || r->type == SB_CFG_STRING_MAP) {
        if (node == NULL)
            return 0; /* list/map defaults are empty */
        int want_map = r->type == SB_CFG_STRING_MAP;
        if (node->kind != (want_map ? SB_YNODE_MAP : SB_YNODE_SEQ)) {
            sb_diags_error(d, line, col, "%s: expected %s, found %s", key, type_phrase(r->type),
                           sb_yaml_kind_name(node));
            return -1;
        }
        sb_value_rule item = {SB_CFG_STRING, r->flags & (SB_CFG_SECRET | SB_SPEC_CIDR), 1, 0,
                              NULL};
        int failed = 0;
        if (want_map)
            out->map.items = calloc(node->n ? node->n : 1, sizeof *out->map.items);
        else
            out->list.items = calloc(node->n ? node->n : 1, sizeof *out->list.items);
        for (size_t i = 0; i < node->n; i++) {
            const sb_ynode *v = node->values[i];
            char sub[160];
            if (want_map)
                path_fmt(sub, sizeof sub, "%s.%s", key, node->keys[i]->text);
            else
                path_fmt(sub, sizeof sub, "%s[%zu]", key, i);
            if (v->kind != SB_YNODE_SCALAR || is_null(v)) {
                sb_diags_error(d, v->line, v->col, "%s: expected a string, found %s", sub,
                               is_null(v) ? "nothing" : sb_yaml_kind_name(v));
                failed = 1;
                continue;
            }
            char *s;
            if (scalar_text(&item, sub, v, v->text, d, &s) != 0) {
                failed = 1;
                continue;
            }
            if (check_string_flags(&item, sub, v, s, d) != 0) {
                release_text(&item, s);
                failed = 1;
                continue;
            }
            if (want_map) {
                out->map.items[out->map.n].key = strdup(node->keys[i]->text);
                out->map.items[out->map.n++].value = s;
            } else {
                out->list.items[out->list.n++] = s;
            }
        }
        if (failed) {
            sb_value_free(r, out);
            return -1;
        }
        return 0;
    }
    if (node != NULL && node->kind != SB_YNODE_SCALAR) {
        sb_diags_error(d, line, col, "%s: expected %s, found %s", key, type_phrase(r->type),
                       sb_yaml_kind_name(node));
        return -1;
    }
    if (text == NULL)
        return 0;
    if (r->type == SB_CFG_INT || r->type == SB_CFG_BOOL || r->type == SB_CFG_DURATION)
        return convert_number(r, key, node, text, node ? node->quoted : 0, d, &out->i);
    char *s;
    if (scalar_text(r, key, node, text, d, &s) != 0)
        return -1;
    if (check_string_flags(r, key, node, s, d) != 0) {
        release_text(r, s);
        return -1;
    }
    out->s = s;
    return 0;
}

void sb_value_free(const sb_value_rule *r, sb_value *v)
{
    sb_value_rule item = {SB_CFG_STRING, r->flags & SB_CFG_SECRET, 1, 0, NULL};
    release_text(r, v->s);
    for (size_t i = 0; i < v->list.n; i++)
        release_text(&item, v->list.items[i]);
    free(v->list.items);
    for (size_t i = 0; i < v->map.n; i++) {
        free((char *)v->map.items[i].key);
        release_text(&item, (char *)v->map.items[i].value);
    }
    free(v->map.items);
    memset(v, 0, sizeof *v);
}

/* ---- sections ------------------------------------------------------------ */

static size_t apply_at(const sb_spec *fields, size_t n_fields, const sb_ynode *map, void *target,
                       sb_diags *d, const char *path);

static void join(char *out, size_t cap, const char *path, const char *key)
{
    if (path && *path)
        path_fmt(out, cap, "%s.%s", path, key);
    else
        path_fmt(out, cap, "%s", key);
}

static size_t apply_field(const sb_spec *f, const sb_ynode *node, void *target, sb_diags *d,
                          const char *key)
{
    char *slot = (char *)target + f->offset;
    if (f->type == SB_SPEC_NODE) {
        *(const sb_ynode **)slot = node;
        return 0;
    }
    if (f->type == SB_SPEC_SECTION) {
        if (node && node->kind != SB_YNODE_MAP) {
            sb_diags_error(d, node->line, node->col, "%s: expected a mapping, found %s", key,
                           sb_yaml_kind_name(node));
            return 1;
        }
        return apply_at(f->fields, f->n_fields, node, slot, d, key);
    }
    if (f->type == SB_SPEC_SECTION_LIST) {
        sb_section_list *list = (sb_section_list *)slot;
        if (node == NULL)
            return 0;
        if (node->kind != SB_YNODE_SEQ) {
            sb_diags_error(d, node->line, node->col, "%s: expected a list of mappings, found %s",
                           key, sb_yaml_kind_name(node));
            return 1;
        }
        list->items = calloc(node->n ? node->n : 1, f->element_size);
        if (list->items == NULL)
            return 1;
        list->n = node->n;
        size_t errors = 0;
        for (size_t i = 0; i < node->n; i++) {
            char sub[160];
            path_fmt(sub, sizeof sub, "%s[%zu]", key, i);
            const sb_ynode *item = node->values[i];
            if (item->kind != SB_YNODE_MAP) {
                sb_diags_error(d, item->line, item->col, "%s: expected a mapping, found %s", sub,
                               sb_yaml_kind_name(item));
                errors++;
                continue;
            }
            errors += apply_at(f->fields, f->n_fields, item, (char *)list->items + i * f->element_size,
                               d, sub);
        }
        return errors;
    }
    sb_value_rule rule = {f->type, f->flags, f->min, f->max, f->enum_values};
    sb_value v;
    if (sb_value_convert(&rule, key, node, f->default_value, d, &v) != 0)
        return 1;
    switch (f->type) {
    case SB_CFG_INT:
    case SB_CFG_DURATION:
        *(int64_t *)slot = v.i;
        break;
    case SB_CFG_BOOL:
        *(int *)slot = (int)v.i;
        break;
    case SB_CFG_STRING_LIST:
        *(sb_strlist *)slot = v.list;
        break;
    case SB_CFG_STRING_MAP:
        *(sb_strmap *)slot = v.map;
        break;
    default:
        *(char **)slot = v.s;
        break;
    }
    return 0;
}

static size_t apply_at(const sb_spec *fields, size_t n_fields, const sb_ynode *map, void *target,
                       sb_diags *d, const char *path)
{
    size_t errors = 0;
    sb_cfg_pos *pos = target;
    if (map) {
        pos->line = map->line, pos->col = map->col, pos->present = 1;
        for (size_t i = 0; i < map->n; i++) {
            const char *k = map->keys[i]->text;
            int known = 0;
            for (size_t j = 0; j < n_fields && !known; j++)
                known = strcmp(fields[j].key, k) == 0;
            if (known)
                continue;
            const char *names[64];
            size_t nn = 0;
            for (size_t j = 0; j < n_fields && nn < 64; j++)
                names[nn++] = fields[j].key;
            const char *hint = sb_schema_suggest(k, names, nn);
            char full[200];
            join(full, sizeof full, path, k);
            if (hint)
                sb_diags_error(d, map->keys[i]->line, map->keys[i]->col,
                               "%s: unknown key; did you mean '%s'?", full, hint);
            else
                sb_diags_error(d, map->keys[i]->line, map->keys[i]->col, "%s: unknown key", full);
            errors++;
        }
    }
    for (size_t j = 0; j < n_fields; j++) {
        const sb_spec *f = &fields[j];
        const sb_ynode *node = sb_yaml_get(map, f->key);
        char full[200];
        join(full, sizeof full, path, f->key);
        if (is_null(node) && f->type != SB_SPEC_NODE)
            node = NULL;
        /* An absent optional section has no required keys: only defaults. */
        if (node == NULL && (f->flags & SB_CFG_REQUIRED) && (map != NULL || path[0] == '\0')) {
            int line = map ? map->line : 0, col = map ? map->col : 0;
            sb_diags_error(d, line, col, "%s: required key is missing (%s)", full,
                           f->help ? f->help : type_phrase(f->type));
            errors++;
            continue;
        }
        errors += apply_field(f, node, target, d, full);
    }
    return errors;
}

size_t sb_schema_apply(const sb_spec *fields, size_t n_fields, const sb_ynode *map, void *target,
                       sb_diags *d)
{
    if (map && map->kind != SB_YNODE_MAP) {
        sb_diags_error(d, map->line, map->col, "expected a mapping at the top level, found %s",
                       sb_yaml_kind_name(map));
        return 1;
    }
    return apply_at(fields, n_fields, map, target, d, "");
}

void sb_schema_free(const sb_spec *fields, size_t n_fields, void *target)
{
    for (size_t j = 0; j < n_fields; j++) {
        const sb_spec *f = &fields[j];
        char *slot = (char *)target + f->offset;
        if (f->type == SB_SPEC_SECTION) {
            sb_schema_free(f->fields, f->n_fields, slot);
        } else if (f->type == SB_SPEC_SECTION_LIST) {
            sb_section_list *list = (sb_section_list *)slot;
            for (size_t i = 0; i < list->n; i++)
                sb_schema_free(f->fields, f->n_fields, (char *)list->items + i * f->element_size);
            free(list->items);
        } else if (f->type != SB_SPEC_NODE) {
            sb_value_rule rule = {f->type, f->flags, f->min, f->max, f->enum_values};
            sb_value v = {0};
            if (f->type == SB_CFG_STRING || f->type == SB_CFG_ENUM)
                v.s = *(char **)slot;
            else if (f->type == SB_CFG_STRING_LIST)
                v.list = *(sb_strlist *)slot;
            else if (f->type == SB_CFG_STRING_MAP)
                v.map = *(sb_strmap *)slot;
            sb_value_free(&rule, &v);
        }
    }
}
