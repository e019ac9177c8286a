/*
 * plugin/bundle.h — the secret bundle of the plugin ABI (sb_bundle).
 *
 * Contract: a bundle is an ordered list of entries {key, kind, value}. Keys
 * are metadata (names, not secrets) and live in ordinary heap; every value
 * lives in its own sb_secure_alloc region of len+1 bytes, NUL-terminated,
 * zeroed when the entry is replaced, removed or the bundle freed. Order is
 * insertion order; replacing a key keeps its position.
 *
 * Shapes: SB_SHAPE_MAP holds any number of keys (a provider's JSON object);
 * SB_SHAPE_SINGLE holds at most one entry, under the key "value" (a raw
 * secret presented as one value).
 *
 * Values are checked on the way in so that sb_bundle_append_json always
 * writes valid JSON: keys and STRING values must be UTF-8, JSON values must
 * be one valid JSON value (which also stops a value such as `1,"x":2` from
 * smuggling members into the output). BINARY values may be any bytes and
 * are written as standard base64 strings.
 *
 * Pointers returned by sb_bundle_entry stay valid until the bundle changes.
 * Functions that fail leave their bundle and out-parameters unchanged.
 */
#ifndef SB_PLUGIN_BUNDLE_H
#define SB_PLUGIN_BUNDLE_H

#include <stddef.h>

#include <sbridge/plugin.h>

#include "crypto/secure_mem.h"
#include "util/error.h"

/* sb_error codes */
#define SB_BUNDLE_E_NOT_OBJECT 1 /* from_json: the node is not an object */
#define SB_BUNDLE_E_SHAPE 2      /* the operation does not fit the shape */
#define SB_BUNDLE_E_INVALID 3    /* bad arguments or an unusable key */
#define SB_BUNDLE_E_NO_MEMORY 4

#define SB_BUNDLE_SINGLE_KEY "value"

sb_bundle *sb_bundle_new(sb_bundle_shape shape); /* NULL: bad shape or no memory */
void sb_bundle_free(sb_bundle *b);               /* zeroes values; NULL ok */
sb_bundle_shape sb_bundle_shape_of(const sb_bundle *b);

/* Copies key and value[0..len) (value may be NULL when len is 0). Replaces
 * the value and kind of an existing key in place, else appends. 0 ok; -1
 * on NULL bundle or key, an unknown kind, a key or STRING value that is not
 * UTF-8, a JSON value that is not valid JSON, a key other than "value" in a
 * SINGLE bundle, or no memory. */
int sb_bundle_put(sb_bundle *b, const char *key, sb_value_kind kind,
                  const unsigned char *value, size_t len);

size_t sb_bundle_count(const sb_bundle *b); /* 0 for NULL */

/* The i-th entry; any out-pointer may be NULL. 0 ok, -1 out of range. */
int sb_bundle_entry(const sb_bundle *b, size_t i, const char **key, sb_value_kind *kind,
                    const unsigned char **value, size_t *len);

int sb_bundle_find(const sb_bundle *b, const char *key); /* index or -1 */
int sb_bundle_remove(sb_bundle *b, const char *key);     /* 0, or -1 if absent */

/* An object node becomes a new MAP bundle in member order: string members
 * as STRING (their unescaped bytes), all others as JSON (their exact source
 * text). A repeated key keeps its first position and its last value, as Go's
 * and Python's decoders read it. Not an object: SB_BUNDLE_E_NOT_OBJECT. */
int sb_bundle_from_json(const sb_json_node *object, sb_bundle **out, sb_error *err);

/* Appends a MAP bundle to out as one JSON object {"k":v,...} in entry
 * order: STRING as an escaped string, JSON verbatim, BINARY as a base64
 * (standard alphabet, padded) string. A SINGLE bundle is refused
 * (SB_BUNDLE_E_SHAPE): its value has no JSON form of its own. On failure
 * out is unchanged. */
int sb_bundle_append_json(const sb_bundle *b, sb_secure_buf *out, sb_error *err);

/* For the agent's GET-merge-PUT: copies every entry of `patch` (key, kind
 * and value) into `base`, replacing in place or appending, and keeps base's
 * other entries with their order and kinds. Base keeps its shape, so a
 * SINGLE base accepts only the key "value". All or nothing: on failure base
 * is unchanged. */
int sb_bundle_merge(sb_bundle *base, const sb_bundle *patch, sb_error *err);

sb_bundle *sb_bundle_clone(const sb_bundle *b); /* deep copy; NULL on failure */

#endif
