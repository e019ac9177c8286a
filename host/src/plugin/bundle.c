/*
 * plugin/bundle.c — see bundle.h for the contract.
 *
 * Entries are a plain array searched linearly: bundles hold a handful of
 * keys (a Vault KV secret, a JSON SecretString), and keeping insertion order
 * matters more than lookup speed. Every value has a secure region of its
 * own so replacing one value zeroes exactly that value's bytes.
 */
#include "plugin/bundle.h"

#include <limits.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "plugin/secure_json.h"
#include "util/utf8.h"

typedef struct bundle_entry {
    char *key;            /* ordinary heap: key names are metadata */
    sb_value_kind kind;
    unsigned char *value; /* secure region of len + 1 bytes, NUL after len */
    size_t len;
} bundle_entry;

struct sb_bundle {
    sb_bundle_shape shape;
    bundle_entry *entries;
    size_t count, cap;
};

sb_bundle *sb_bundle_new(sb_bundle_shape shape)
{
    if (shape != SB_SHAPE_MAP && shape != SB_SHAPE_SINGLE)
        return NULL;
    sb_bundle *b = calloc(1, sizeof *b);
    if (b != NULL)
        b->shape = shape;
    return b;
}

static void release_entry(bundle_entry *e)
{
    free(e->key);
    sb_secure_release(e->value);
    e->key = NULL;
    e->value = NULL;
}

static void release_entries(bundle_entry *entries, size_t count)
{
    for (size_t i = 0; i < count; i++)
        release_entry(&entries[i]);
    free(entries);
}

void sb_bundle_free(sb_bundle *b)
{
    if (b == NULL)
        return;
    release_entries(b->entries, b->count);
    free(b);
}

sb_bundle_shape sb_bundle_shape_of(const sb_bundle *b)
{
    return b ? b->shape : (sb_bundle_shape)0;
}

size_t sb_bundle_count(const sb_bundle *b)
{
    return b ? b->count : 0;
}

int sb_bundle_find(const sb_bundle *b, const char *key)
{
    if (b == NULL || key == NULL)
        return -1;
    for (size_t i = 0; i < b->count; i++)
        if (strcmp(b->entries[i].key, key) == 0)
            return (int)i;
    return -1;
}

int sb_bundle_entry(const sb_bundle *b, size_t i, const char **key, sb_value_kind *kind,
                    const unsigned char **value, size_t *len)
{
    if (b == NULL || i >= b->count)
        return -1;
    const bundle_entry *e = &b->entries[i];
    if (key != NULL)
        *key = e->key;
    if (kind != NULL)
        *kind = e->kind;
    if (value != NULL)
        *value = e->value;
    if (len != NULL)
        *len = e->len;
    return 0;
}

/* A NUL-terminated copy of value[0..len) in a fresh secure region. */
static unsigned char *copy_value(const unsigned char *value, size_t len)
{
    if (len == SIZE_MAX)
        return NULL;
    unsigned char *copy = sb_secure_alloc(len + 1);
    if (copy != NULL && len > 0)
        memcpy(copy, value, len);
    return copy;
}

/* Appends an entry owning `value`; copies the key. */
static int append_entry(sb_bundle *b, const char *key, sb_value_kind kind,
                        unsigned char *value, size_t len)
{
    if (b->count >= INT_MAX) /* sb_bundle_find answers an int */
        return -1;
    if (b->count == b->cap) {
        size_t ncap = b->cap ? b->cap * 2 : 8;
        bundle_entry *n = realloc(b->entries, ncap * sizeof *n);
        if (n == NULL)
            return -1;
        b->entries = n;
        b->cap = ncap;
    }
    char *key_copy = strdup(key);
    if (key_copy == NULL)
        return -1;
    bundle_entry *e = &b->entries[b->count++];
    e->key = key_copy;
    e->kind = kind;
    e->value = value;
    e->len = len;
    return 0;
}

static int key_allowed(const sb_bundle *b, const char *key)
{
    if (b->shape == SB_SHAPE_SINGLE && strcmp(key, SB_BUNDLE_SINGLE_KEY) != 0)
        return 0;
    return sb_utf8_valid((const unsigned char *)key, strlen(key));
}

/* Values must keep sb_bundle_append_json's output valid JSON. */
static int value_valid(sb_value_kind kind, const unsigned char *value, size_t len)
{
    switch (kind) {
    case SB_VALUE_STRING: return sb_utf8_valid(value, len);
    case SB_VALUE_BINARY: return 1;
    case SB_VALUE_JSON: return sb_json_validate(value, len, NULL) == 0;
    }
    return 0;
}

/* Stores a copy; `value` may not alias an entry of b that this replaces. */
static int put_checked(sb_bundle *b, const char *key, sb_value_kind kind,
                       const unsigned char *value, size_t len)
{
    unsigned char *copy = copy_value(value, len);
    if (copy == NULL)
        return -1;
    int i = sb_bundle_find(b, key);
    if (i >= 0) {
        bundle_entry *e = &b->entries[i];
        sb_secure_release(e->value);
        e->value = copy;
        e->kind = kind;
        e->len = len;
        return 0;
    }
    if (append_entry(b, key, kind, copy, len) != 0) {
        sb_secure_release(copy);
        return -1;
    }
    return 0;
}

int sb_bundle_put(sb_bundle *b, const char *key, sb_value_kind kind,
                  const unsigned char *value, size_t len)
{
    if (b == NULL || key == NULL || (value == NULL && len > 0))
        return -1;
    if (!key_allowed(b, key) || !value_valid(kind, value, len))
        return -1;
    return put_checked(b, key, kind, value, len);
}

int sb_bundle_remove(sb_bundle *b, const char *key)
{
    int i = sb_bundle_find(b, key);
    if (i < 0)
        return -1;
    release_entry(&b->entries[i]);
    memmove(&b->entries[i], &b->entries[i + 1],
            (b->count - (size_t)i - 1) * sizeof *b->entries);
    b->count--;
    return 0;
}

sb_bundle *sb_bundle_clone(const sb_bundle *b)
{
    if (b == NULL)
        return NULL;
    sb_bundle *c = sb_bundle_new(b->shape);
    if (c == NULL)
        return NULL;
    for (size_t i = 0; i < b->count; i++) {
        const bundle_entry *e = &b->entries[i];
        unsigned char *copy = copy_value(e->value, e->len);
        if (copy == NULL || append_entry(c, e->key, e->kind, copy, e->len) != 0) {
            sb_secure_release(copy);
            sb_bundle_free(c);
            return NULL;
        }
    }
    return c;
}

static const char *json_type_name(sb_json_type t)
{
    switch (t) {
    case SB_JSON_MISSING: return "nothing (the value is absent)";
    case SB_JSON_NULL: return "null";
    case SB_JSON_FALSE:
    case SB_JSON_TRUE: return "a boolean";
    case SB_JSON_NUMBER: return "a number";
    case SB_JSON_STRING: return "a string";
    case SB_JSON_ARRAY: return "an array";
    case SB_JSON_OBJECT: return "an object";
    }
    return "an unknown JSON type";
}

int sb_bundle_from_json(const sb_json_node *object, sb_bundle **out, sb_error *err)
{
    if (out == NULL)
        return sb_error_set(err, SB_BUNDLE_E_INVALID, "bundle from JSON: no output pointer given");
    *out = NULL;
    sb_json_type type = sb_json_type_of(object);
    if (type != SB_JSON_OBJECT)
        return sb_error_set(err, SB_BUNDLE_E_NOT_OBJECT,
                            "expected a JSON object of key/value pairs for the secret, "
                            "found %s",
                            json_type_name(type));
    sb_bundle *b = sb_bundle_new(SB_SHAPE_MAP);
    if (b == NULL)
        return sb_error_set(err, SB_BUNDLE_E_NO_MEMORY, "out of memory creating a bundle");
    size_t n = sb_json_count(object);
    for (size_t i = 0; i < n; i++) {
        const sb_json_node *m = sb_json_member(object, i, NULL);
        size_t key_len;
        const char *key = sb_json_key(m, &key_len);
        if (strlen(key) != key_len) {
            sb_bundle_free(b);
            return sb_error_set(err, SB_BUNDLE_E_INVALID,
                                "member %zu of the secret's JSON object has a key holding "
                                "\\u0000, which a bundle key cannot hold; rename the key",
                                i);
        }
        size_t len;
        const char *bytes = sb_json_string(m, &len);
        sb_value_kind kind = SB_VALUE_STRING;
        if (bytes == NULL) {
            bytes = sb_json_text(m, &len);
            kind = SB_VALUE_JSON;
        }
        /* Parsed strings are UTF-8 and node texts valid JSON: no re-check. */
        if (put_checked(b, key, kind, (const unsigned char *)bytes, len) != 0) {
            sb_bundle_free(b);
            return sb_error_set(err, SB_BUNDLE_E_NO_MEMORY,
                                "out of memory building a bundle of %zu entries", n);
        }
    }
    *out = b;
    return 0;
}

static int append_base64_string(sb_secure_buf *buf, const unsigned char *value, size_t len)
{
    if (len > (SIZE_MAX - 8) / 4 * 3)
        return -1;
    size_t cap = sodium_base64_ENCODED_LEN(len, sodium_base64_VARIANT_ORIGINAL);
    char *b64 = sb_secure_alloc(cap);
    if (b64 == NULL)
        return -1;
    sodium_bin2base64(b64, cap, value, len, sodium_base64_VARIANT_ORIGINAL);
    int rc = sb_secure_append_json_string(buf, b64, strlen(b64));
    sb_secure_release(b64);
    return rc;
}

static int append_entry_json(sb_secure_buf *buf, const bundle_entry *e)
{
    if (sb_secure_append_json_string(buf, e->key, strlen(e->key)) != 0 ||
        sb_secure_append(buf, ":", 1) != 0)
        return -1;
    switch (e->kind) {
    case SB_VALUE_STRING:
        return sb_secure_append_json_string(buf, (const char *)e->value, e->len);
    case SB_VALUE_JSON: return sb_secure_append(buf, e->value, e->len);
    case SB_VALUE_BINARY: return append_base64_string(buf, e->value, e->len);
    }
    return -1;
}

int sb_bundle_append_json(const sb_bundle *b, sb_secure_buf *out, sb_error *err)
{
    if (b == NULL || out == NULL)
        return sb_error_set(err, SB_BUNDLE_E_INVALID,
                            "bundle to JSON: no bundle or output buffer given");
    if (b->shape != SB_SHAPE_MAP)
        return sb_error_set(err, SB_BUNDLE_E_SHAPE,
                            "a single-value bundle has no JSON object form; write its "
                            "\"value\" entry as it is instead");
    /* Build aside, then append in one step, so a failure leaves out as it was. */
    sb_secure_buf *tmp = sb_secure_new(0);
    int rc = tmp ? sb_secure_append(tmp, "{", 1) : -1;
    for (size_t i = 0; rc == 0 && i < b->count; i++) {
        if (i > 0)
            rc = sb_secure_append(tmp, ",", 1);
        if (rc == 0)
            rc = append_entry_json(tmp, &b->entries[i]);
    }
    if (rc == 0)
        rc = sb_secure_append(tmp, "}", 1);
    if (rc == 0) {
        size_t len;
        const unsigned char *data = sb_secure_data(tmp, &len);
        rc = sb_secure_append(out, data, len);
    }
    sb_secure_free(tmp);
    if (rc != 0)
        return sb_error_set(err, SB_BUNDLE_E_NO_MEMORY,
                            "out of secure memory writing a bundle of %zu entries as JSON",
                            b->count);
    return 0;
}

int sb_bundle_merge(sb_bundle *base, const sb_bundle *patch, sb_error *err)
{
    if (base == NULL || patch == NULL)
        return sb_error_set(err, SB_BUNDLE_E_INVALID, "bundle merge: no base or patch given");
    for (size_t i = 0; i < patch->count; i++)
        if (!key_allowed(base, patch->entries[i].key))
            return sb_error_set(err, SB_BUNDLE_E_SHAPE,
                                "the secret holds a single value, so a change can only set "
                                "the key \"" SB_BUNDLE_SINGLE_KEY "\"; entry %zu of the "
                                "change sets another key",
                                i);
    /* Merge into a copy and swap it in: all or nothing. */
    sb_bundle *work = sb_bundle_clone(base);
    if (work == NULL)
        return sb_error_set(err, SB_BUNDLE_E_NO_MEMORY, "out of memory merging bundles");
    for (size_t i = 0; i < patch->count; i++) {
        const bundle_entry *e = &patch->entries[i];
        if (put_checked(work, e->key, e->kind, e->value, e->len) != 0) {
            sb_bundle_free(work);
            return sb_error_set(err, SB_BUNDLE_E_NO_MEMORY, "out of memory merging bundles");
        }
    }
    bundle_entry *old = base->entries;
    size_t old_count = base->count;
    base->entries = work->entries;
    base->count = work->count;
    base->cap = work->cap;
    free(work);
    release_entries(old, old_count);
    return 0;
}
