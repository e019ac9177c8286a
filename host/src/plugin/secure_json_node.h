/*
 * plugin/secure_json_node.h — the node layout shared by the secure JSON
 * parser (secure_json.c) and its read accessors (secure_json_read.c).
 * Private to those two files.
 */
#ifndef SB_PLUGIN_SECURE_JSON_NODE_H
#define SB_PLUGIN_SECURE_JSON_NODE_H

#include <stddef.h>

#include "plugin/secure_json.h"

struct sb_json_node {
    sb_json_type type;
    int integral; /* NUMBER: no fraction and no exponent */
    union {
        struct {
            sb_json_node *members;
            size_t count;
        } container;
        struct {
            const char *bytes;
            size_t len;
        } string;
    } u;
    const char *key; /* members of an object; NULL otherwise */
    size_t key_len;
    const char *text; /* exact source text: a span of the input copy */
    size_t text_len;
};

struct sb_json {
    size_t region_size;
    sb_json_node *root;
};

#endif
