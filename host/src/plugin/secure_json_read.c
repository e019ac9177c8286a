/*
 * plugin/secure_json_read.c — read accessors over a parsed secure JSON
 * document (root, members, keys, RFC 6901 pointers, strings, integers,
 * source text). See secure_json.h for the contract; the parser that builds
 * the nodes is secure_json.c.
 */
#include <stdint.h>
#include <string.h>

#include "plugin/secure_json.h"
#include "plugin/secure_json_node.h"

const sb_json_node *sb_json_root(const sb_json *doc)
{
    return doc ? doc->root : NULL;
}

sb_json_type sb_json_type_of(const sb_json_node *node)
{
    return node ? node->type : SB_JSON_MISSING;
}

static int is_container(const sb_json_node *node)
{
    return node != NULL && (node->type == SB_JSON_ARRAY || node->type == SB_JSON_OBJECT);
}

size_t sb_json_count(const sb_json_node *node)
{
    return is_container(node) ? node->u.container.count : 0;
}

const sb_json_node *sb_json_member(const sb_json_node *node, size_t i, const char **key)
{
    if (key != NULL)
        *key = NULL;
    if (!is_container(node) || i >= node->u.container.count)
        return NULL;
    const sb_json_node *m = &node->u.container.members[i];
    if (key != NULL)
        *key = m->key;
    return m;
}

const char *sb_json_key(const sb_json_node *member, size_t *len)
{
    if (len != NULL)
        *len = member && member->key ? member->key_len : 0;
    return member ? member->key : NULL;
}

const sb_json_node *sb_json_get(const sb_json_node *object, const char *key)
{
    if (object == NULL || object->type != SB_JSON_OBJECT || key == NULL)
        return NULL;
    size_t key_len = strlen(key);
    for (size_t i = 0; i < object->u.container.count; i++) {
        const sb_json_node *m = &object->u.container.members[i];
        if (m->key_len == key_len && memcmp(m->key, key, key_len) == 0)
            return m;
    }
    return NULL;
}

/* Does the pointer token tok[0..n) (with ~0 and ~1 escapes) equal key? */
static int token_equals(const char *tok, size_t n, const char *key, size_t key_len)
{
    size_t j = 0;
    for (size_t i = 0; i < n; j++) {
        char c = tok[i];
        if (c == '~') {
            c = tok[i + 1] == '0' ? '~' : '/';
            i += 2;
        } else {
            i++;
        }
        if (j >= key_len || key[j] != c)
            return 0;
    }
    return j == key_len;
}

static const sb_json_node *pointer_step(const sb_json_node *cur, const char *tok, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (tok[i] == '~' && (i + 1 >= n || (tok[i + 1] != '0' && tok[i + 1] != '1')))
            return NULL; /* malformed escape */
    if (cur->type == SB_JSON_OBJECT) {
        for (size_t i = 0; i < cur->u.container.count; i++) {
            const sb_json_node *m = &cur->u.container.members[i];
            if (token_equals(tok, n, m->key, m->key_len))
                return m;
        }
        return NULL;
    }
    if (cur->type != SB_JSON_ARRAY || n == 0 || (n > 1 && tok[0] == '0'))
        return NULL;
    size_t index = 0;
    for (size_t i = 0; i < n; i++) {
        if (tok[i] < '0' || tok[i] > '9')
            return NULL; /* includes "-", the index past the end */
        size_t d = (size_t)(tok[i] - '0');
        if (index > (SIZE_MAX - d) / 10)
            return NULL;
        index = index * 10 + d;
    }
    return sb_json_member(cur, index, NULL);
}

const sb_json_node *sb_json_pointer(const sb_json_node *from, const char *pointer)
{
    if (from == NULL || pointer == NULL || (pointer[0] != '\0' && pointer[0] != '/'))
        return NULL;
    const sb_json_node *cur = from;
    const char *s = pointer;
    while (cur != NULL && *s == '/') {
        s++;
        size_t n = strcspn(s, "/");
        cur = pointer_step(cur, s, n);
        s += n;
    }
    return cur;
}

const char *sb_json_string(const sb_json_node *node, size_t *len)
{
    if (node == NULL || node->type != SB_JSON_STRING) {
        if (len != NULL)
            *len = 0;
        return NULL;
    }
    if (len != NULL)
        *len = node->u.string.len;
    return node->u.string.bytes;
}

/* s[0..n) in JSON's integer grammar, -?(0|[1-9][0-9]*), within int64. */
static int parse_int64(const char *s, size_t n, int64_t *out)
{
    size_t i = 0;
    int negative = n > 0 && s[0] == '-';
    if (negative)
        i++;
    if (i >= n || (s[i] == '0' && n - i > 1))
        return -1;
    uint64_t limit = negative ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
    uint64_t v = 0;
    for (; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        uint64_t d = (uint64_t)(s[i] - '0');
        if (v > (limit - d) / 10)
            return -1;
        v = v * 10 + d;
    }
    if (negative)
        *out = v == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)v;
    else
        *out = (int64_t)v;
    return 0;
}

int sb_json_int(const sb_json_node *node, int64_t *out)
{
    if (node == NULL || out == NULL)
        return -1;
    if (node->type == SB_JSON_NUMBER && node->integral)
        return parse_int64(node->text, node->text_len, out);
    if (node->type == SB_JSON_STRING)
        return parse_int64(node->u.string.bytes, node->u.string.len, out);
    return -1;
}

const char *sb_json_text(const sb_json_node *node, size_t *len)
{
    if (len != NULL)
        *len = node ? node->text_len : 0;
    return node ? node->text : NULL;
}
