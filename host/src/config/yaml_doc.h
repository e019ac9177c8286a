/*
 * config/yaml_doc.h — a YAML file as a tree of positioned nodes.
 *
 * Contract: sb_yaml_load reads one YAML document (libyaml) into scalars,
 * mappings and sequences, each with its 1-based line and column, so every
 * later check can point at the exact place. It refuses, with a diagnostic:
 * syntax errors, several documents, aliases/anchors, custom tags, duplicate
 * keys and non-scalar keys. Scalar text is zeroed when the tree is freed
 * (a config may hold inline secrets).
 */
#ifndef SB_CONFIG_YAML_DOC_H
#define SB_CONFIG_YAML_DOC_H

#include <stddef.h>

#include "config/diag.h"

typedef enum sb_ynode_kind { SB_YNODE_SCALAR, SB_YNODE_MAP, SB_YNODE_SEQ } sb_ynode_kind;

typedef struct sb_ynode sb_ynode;
struct sb_ynode {
    sb_ynode_kind kind;
    int line, col;
    /* scalar */
    char *text;
    size_t text_len;
    int quoted; /* written with quotes or as a block: always a string */
    /* map: keys[i] (scalars) -> values[i]; seq: values[i] */
    sb_ynode **keys;
    sb_ynode **values;
    size_t n;
};

/* NULL (with diagnostics) when the file cannot be read or parsed. An empty
 * file yields an empty mapping. */
sb_ynode *sb_yaml_load_file(const char *path, sb_diags *d);
sb_ynode *sb_yaml_load_buffer(const char *text, size_t len, sb_diags *d);
void sb_yaml_free(sb_ynode *node);

/* The value under `key` in a mapping; NULL when absent or not a mapping. */
const sb_ynode *sb_yaml_get(const sb_ynode *map, const char *key);
/* A short name of the node's type for messages: "a string", "a mapping"... */
const char *sb_yaml_kind_name(const sb_ynode *node);

#endif
