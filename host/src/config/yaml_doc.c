/* config/yaml_doc.c — see yaml_doc.h. */
#include "config/yaml_doc.h"

#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#define YAML_FILE_MAX (4u * 1024 * 1024)
#define YAML_DEPTH_MAX 64

static sb_ynode *node_new(sb_ynode_kind kind, const yaml_mark_t *mark)
{
    sb_ynode *n = calloc(1, sizeof *n);
    if (n) {
        n->kind = kind;
        n->line = (int)mark->line + 1;
        n->col = (int)mark->column + 1;
    }
    return n;
}

void sb_yaml_free(sb_ynode *node)
{
    if (node == NULL)
        return;
    if (node->text) {
        sodium_memzero(node->text, node->text_len);
        free(node->text);
    }
    for (size_t i = 0; i < node->n; i++) {
        if (node->keys)
            sb_yaml_free(node->keys[i]);
        sb_yaml_free(node->values[i]);
    }
    free(node->keys);
    free(node->values);
    free(node);
}

static int push_child(sb_ynode *parent, sb_ynode *key, sb_ynode *value)
{
    sb_ynode **nv = realloc(parent->values, (parent->n + 1) * sizeof *nv);
    if (nv == NULL)
        return -1;
    parent->values = nv;
    if (parent->kind == SB_YNODE_MAP) {
        sb_ynode **nk = realloc(parent->keys, (parent->n + 1) * sizeof *nk);
        if (nk == NULL)
            return -1;
        parent->keys = nk;
        parent->keys[parent->n] = key;
    }
    parent->values[parent->n++] = value;
    return 0;
}

typedef struct parse_state {
    yaml_parser_t parser;
    sb_diags *d;
    int failed;
} parse_state;

static int next_event(parse_state *s, yaml_event_t *ev)
{
    if (yaml_parser_parse(&s->parser, ev))
        return 0;
    const yaml_mark_t *m = &s->parser.problem_mark;
    sb_diags_error(s->d, (int)m->line + 1, (int)m->column + 1, "YAML syntax error: %s%s%s",
                   s->parser.problem ? s->parser.problem : "malformed document",
                   s->parser.context ? " " : "", s->parser.context ? s->parser.context : "");
    s->failed = 1;
    return -1;
}

static sb_ynode *parse_node(parse_state *s, yaml_event_t *ev, int depth);

static sb_ynode *parse_collection(parse_state *s, sb_ynode *col, yaml_event_type_t end, int depth)
{
    for (;;) {
        yaml_event_t ev;
        if (next_event(s, &ev) != 0)
            return sb_yaml_free(col), NULL;
        if (ev.type == end) {
            yaml_event_delete(&ev);
            return col;
        }
        sb_ynode *key = NULL;
        if (col->kind == SB_YNODE_MAP) {
            key = parse_node(s, &ev, depth + 1);
            yaml_event_delete(&ev);
            if (key == NULL)
                return sb_yaml_free(col), NULL;
            if (key->kind != SB_YNODE_SCALAR) {
                sb_diags_error(s->d, key->line, key->col, "mapping keys must be plain strings");
                s->failed = 1;
            } else {
                for (size_t i = 0; i < col->n; i++)
                    if (col->keys[i]->kind == SB_YNODE_SCALAR && strcmp(col->keys[i]->text, key->text) == 0) {
                        sb_diags_error(s->d, key->line, key->col,
                                       "duplicate key '%s' (first defined at line %d)",
                                       key->text, col->keys[i]->line);
                        s->failed = 1;
                        break;
                    }
            }
            if (next_event(s, &ev) != 0)
                return sb_yaml_free(key), sb_yaml_free(col), NULL;
        }
        sb_ynode *value = parse_node(s, &ev, depth + 1);
        yaml_event_delete(&ev);
        if (value == NULL || push_child(col, key, value) != 0) {
            sb_yaml_free(key);
            sb_yaml_free(value);
            return sb_yaml_free(col), NULL;
        }
    }
}

static int check_tag(parse_state *s, const yaml_char_t *tag, const yaml_mark_t *m)
{
    if (tag == NULL)
        return 0;
    sb_diags_error(s->d, (int)m->line + 1, (int)m->column + 1,
                   "YAML tags such as '%s' are not supported; remove the tag", (const char *)tag);
    s->failed = 1;
    return -1;
}

static sb_ynode *parse_node(parse_state *s, yaml_event_t *ev, int depth)
{
    const yaml_mark_t *m = &ev->start_mark;
    if (depth > YAML_DEPTH_MAX) {
        sb_diags_error(s->d, (int)m->line + 1, (int)m->column + 1,
                       "nesting deeper than %d levels", YAML_DEPTH_MAX);
        s->failed = 1;
        return NULL;
    }
    switch (ev->type) {
    case YAML_SCALAR_EVENT: {
        if (ev->data.scalar.anchor)
            goto anchor;
        if (!ev->data.scalar.plain_implicit && !ev->data.scalar.quoted_implicit &&
            check_tag(s, ev->data.scalar.tag, m) != 0)
            return NULL;
        sb_ynode *n = node_new(SB_YNODE_SCALAR, m);
        if (n == NULL)
            return NULL;
        n->text_len = ev->data.scalar.length;
        n->text = malloc(n->text_len + 1);
        if (n->text == NULL)
            return free(n), NULL;
        memcpy(n->text, ev->data.scalar.value, n->text_len);
        n->text[n->text_len] = '\0';
        n->quoted = ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE;
        return n;
    }
    case YAML_MAPPING_START_EVENT:
        if (ev->data.mapping_start.anchor)
            goto anchor;
        if (!ev->data.mapping_start.implicit && check_tag(s, ev->data.mapping_start.tag, m) != 0)
            return NULL;
        return parse_collection(s, node_new(SB_YNODE_MAP, m), YAML_MAPPING_END_EVENT, depth);
    case YAML_SEQUENCE_START_EVENT:
        if (ev->data.sequence_start.anchor)
            goto anchor;
        if (!ev->data.sequence_start.implicit && check_tag(s, ev->data.sequence_start.tag, m) != 0)
            return NULL;
        return parse_collection(s, node_new(SB_YNODE_SEQ, m), YAML_SEQUENCE_END_EVENT, depth);
    case YAML_ALIAS_EVENT:
        sb_diags_error(s->d, (int)m->line + 1, (int)m->column + 1,
                       "YAML aliases (*name) are not supported; repeat the value instead");
        s->failed = 1;
        return NULL;
    default:
        sb_diags_error(s->d, (int)m->line + 1, (int)m->column + 1, "unexpected YAML structure");
        s->failed = 1;
        return NULL;
    }
anchor:
    sb_diags_error(s->d, (int)m->line + 1, (int)m->column + 1,
                   "YAML anchors (&name) are not supported; repeat the value instead");
    s->failed = 1;
    return NULL;
}

sb_ynode *sb_yaml_load_buffer(const char *text, size_t len, sb_diags *d)
{
    parse_state s = {.d = d};
    if (!yaml_parser_initialize(&s.parser))
        return NULL;
    yaml_parser_set_input_string(&s.parser, (const unsigned char *)text, len);
    sb_ynode *root = NULL;
    yaml_event_t ev;
    int docs = 0;
    while (next_event(&s, &ev) == 0) {
        yaml_event_type_t t = ev.type;
        if (t == YAML_STREAM_END_EVENT) {
            yaml_event_delete(&ev);
            break;
        }
        if (t == YAML_DOCUMENT_START_EVENT && ++docs > 1) {
            sb_diags_error(d, (int)ev.start_mark.line + 1, (int)ev.start_mark.column + 1,
                           "only one YAML document per file is allowed (found '---')");
            yaml_event_delete(&ev);
            s.failed = 1;
            break;
        }
        if (t == YAML_SCALAR_EVENT || t == YAML_MAPPING_START_EVENT || t == YAML_SEQUENCE_START_EVENT ||
            t == YAML_ALIAS_EVENT) {
            root = parse_node(&s, &ev, 0);
            if (root == NULL)
                s.failed = 1;
        }
        yaml_event_delete(&ev);
        if (s.failed)
            break;
    }
    yaml_parser_delete(&s.parser);
    if (s.failed) {
        sb_yaml_free(root);
        return NULL;
    }
    if (root == NULL) { /* empty file */
        yaml_mark_t m = {0, 0, 0};
        root = node_new(SB_YNODE_MAP, &m);
    }
    return root;
}

sb_ynode *sb_yaml_load_file(const char *path, sb_diags *d)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        sb_diags_error(d, 0, 0, "cannot open the file: %s", strerror(errno));
        return NULL;
    }
    char *buf = malloc(YAML_FILE_MAX + 1);
    size_t len = buf ? fread(buf, 1, YAML_FILE_MAX + 1, f) : 0;
    int read_error = ferror(f);
    fclose(f);
    if (buf == NULL || read_error) {
        sb_diags_error(d, 0, 0, "cannot read the file");
        free(buf);
        return NULL;
    }
    if (len > YAML_FILE_MAX) {
        sb_diags_error(d, 0, 0, "the file is larger than %u bytes", YAML_FILE_MAX);
        sodium_memzero(buf, YAML_FILE_MAX + 1);
        free(buf);
        return NULL;
    }
    sb_ynode *root = sb_yaml_load_buffer(buf, len, d);
    sodium_memzero(buf, len);
    free(buf);
    return root;
}

const sb_ynode *sb_yaml_get(const sb_ynode *map, const char *key)
{
    if (map == NULL || map->kind != SB_YNODE_MAP)
        return NULL;
    for (size_t i = 0; i < map->n; i++)
        if (map->keys[i]->kind == SB_YNODE_SCALAR && strcmp(map->keys[i]->text, key) == 0)
            return map->values[i];
    return NULL;
}

const char *sb_yaml_kind_name(const sb_ynode *node)
{
    if (node == NULL)
        return "nothing";
    switch (node->kind) {
    case SB_YNODE_MAP:
        return "a mapping";
    case SB_YNODE_SEQ:
        return "a list";
    default:
        return node->quoted ? "a quoted string" : "a scalar";
    }
}
