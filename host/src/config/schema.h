/*
 * config/schema.h — validating a YAML tree against a schema and filling
 * typed C structs.
 *
 * Contract: a schema is a table of sb_spec rows (key, type, offset into the
 * target struct, flags, default, range, enum values, help). sb_schema_apply
 * checks a mapping node against it and reports, each at its line and
 * column: unknown keys (with the nearest known key as a hint), wrong types,
 * out-of-range numbers, bad durations/enums/URLs/paths, missing required
 * keys, and failed ${env:}/${file:} references. It never stops at the first
 * error and never silently defaults a bad value. Secret fields are stored in
 * secure memory, registered for log redaction, never echoed in a message, and
 * a warning is given when they are written inline instead of by reference.
 *
 * The same scalar rules serve plugin schemas (sb_config_field), through
 * sb_value_convert, so host and plugin configs behave identically.
 *
 * Storage by type: STRING/ENUM char* (NULL when unset); INT/DURATION int64_t
 * (ms for durations); BOOL int; STRING_LIST sb_strlist; STRING_MAP
 * sb_strmap; SECTION an embedded struct; SECTION_LIST sb_section_list of
 * element_size structs; NODE `const sb_ynode *` (kept for later validation,
 * e.g. a plugin's own config). Every section struct begins with sb_cfg_pos.
 */
#ifndef SB_CONFIG_SCHEMA_H
#define SB_CONFIG_SCHEMA_H

#include <sbridge/plugin.h>
#include <stddef.h>
#include <stdint.h>

#include "config/diag.h"
#include "config/yaml_doc.h"

/* Host-only kinds beyond sb_config_type. */
#define SB_SPEC_SECTION 100
#define SB_SPEC_SECTION_LIST 101
#define SB_SPEC_NODE 102

/* Host-only flags beyond SB_CFG_*. */
#define SB_SPEC_LISTEN 0x100u /* host:port */
#define SB_SPEC_HEX64 0x200u  /* 64 hex digits (a SHA-256) */
#define SB_SPEC_CIDR 0x400u   /* an IP address or network (util/cidr.h); also list items */

typedef struct sb_cfg_pos {
    int line, col;
    int present;
} sb_cfg_pos;

typedef struct sb_strlist {
    char **items;
    size_t n;
} sb_strlist;

typedef struct sb_strmap {
    sb_kv *items; /* key/value strings owned by the map */
    size_t n;
} sb_strmap;

typedef struct sb_section_list {
    void *items;
    size_t n;
} sb_section_list;

typedef struct sb_spec sb_spec;
struct sb_spec {
    const char *key;
    int type; /* sb_config_type or SB_SPEC_* */
    size_t offset;
    uint32_t flags; /* SB_CFG_* | SB_SPEC_* */
    const char *default_value;
    int64_t min, max; /* min > max: unbounded */
    const char *enum_values;
    const char *help;
    const sb_spec *fields; /* SECTION / SECTION_LIST */
    size_t n_fields;
    size_t element_size; /* SECTION_LIST */
};

#define SB_SPEC_END {0}

/* The scalar rules shared with plugin schemas. */
typedef struct sb_value_rule {
    int type; /* sb_config_type */
    uint32_t flags;
    int64_t min, max;
    const char *enum_values;
} sb_value_rule;

typedef struct sb_value {
    char *s;         /* STRING/ENUM; secure memory when SB_CFG_SECRET */
    int64_t i;       /* INT/DURATION(ms)/BOOL */
    sb_strlist list; /* STRING_LIST */
    sb_strmap map;   /* STRING_MAP */
} sb_value;

/* Converts node (or, when node is NULL, the default text) by rule. Returns
 * 0 and fills out; -1 after adding a diagnostic at the node. */
int sb_value_convert(const sb_value_rule *rule, const char *key, const sb_ynode *node,
                     const char *default_text, sb_diags *d, sb_value *out);
void sb_value_free(const sb_value_rule *rule, sb_value *v);

/* Validates `map` against `fields` and fills `target`. Returns the number of
 * errors added (0: success). `map` may be NULL (absent section). */
size_t sb_schema_apply(const sb_spec *fields, size_t n_fields, const sb_ynode *map,
                       void *target, sb_diags *d);
void sb_schema_free(const sb_spec *fields, size_t n_fields, void *target);

/* The closest candidate to `word` among the `|`-separated or spec keys, for
 * "did you mean" hints; NULL when nothing is close. */
const char *sb_schema_suggest(const char *word, const char *const *candidates, size_t n);

#endif
