/*
 * plugin/secure_json.h — a strict JSON parser whose output lives in secure
 * memory.
 *
 * Contract: sb_json_parse accepts exactly RFC 8259 JSON (one value, optional
 * surrounding whitespace, strings of valid UTF-8 with no raw control
 * characters, \u escapes whose surrogates pair up, numbers without leading
 * zeros), at most SB_JSON_MAX_INPUT bytes and SB_JSON_MAX_DEPTH nested
 * containers. Everything it produces — the node tree, every unescaped string
 * and key, and one copy of the input that node texts point into — lives in
 * ONE region from sb_secure_alloc(): provider responses hold secret values
 * and none of their bytes may land in ordinary heap. sb_json_free zeroes and
 * releases that region; every pointer the accessors return dies with it.
 *
 * Parsing takes two passes over the input: the first validates and counts
 * (values, string bytes, and each container's member count), so
 * the region is allocated once at its exact size; the second fills it. A
 * container's members are one contiguous node array, so member(i) is O(1).
 * Object keys may repeat; they are all kept in order and lookups return the
 * first match.
 *
 * Memory: the input size plus its unescaped strings plus one node per value
 * (linear in the input, whatever the nesting). Documents that would still
 * need more than SB_JSON_MAX_ARENA bytes are refused with SB_JSON_E_TOO_LARGE
 * rather than locking gigabytes of memory.
 *
 * Errors never quote the input (it may be a secret): they give the byte
 * offset and say what was expected and what kind of byte was found there.
 * On failure *out is NULL and nothing is left allocated.
 *
 * The accessors accept NULL nodes (an absent key, an index out of range) and
 * answer MISSING / 0 / NULL, so lookups chain without checks. A parsed
 * document is immutable and may be read from several threads at once.
 */
#ifndef SB_PLUGIN_SECURE_JSON_H
#define SB_PLUGIN_SECURE_JSON_H

#include <stddef.h>
#include <stdint.h>

#include <sbridge/plugin.h>

#include "util/error.h"

/* sb_error codes */
#define SB_JSON_E_SYNTAX 1    /* not valid JSON (or nested too deeply) */
#define SB_JSON_E_TOO_LARGE 2 /* input or parsed size over the limits below */
#define SB_JSON_E_NO_MEMORY 3 /* the secure region could not be allocated */
#define SB_JSON_E_INVALID 4   /* bad arguments (NULL pointers) */

#define SB_JSON_MAX_DEPTH 128
#define SB_JSON_MAX_INPUT ((size_t)64 * 1024 * 1024)
#define SB_JSON_MAX_ARENA ((size_t)1024 * 1024 * 1024)

/* Parses text[0..len) into a new document owned by the caller
 * (sb_json_free). 0 on success; -1 with err filled and *out NULL. */
int sb_json_parse(const unsigned char *text, size_t len, sb_json **out, sb_error *err);

/* Checks that text[0..len) is one valid JSON value under the same rules,
 * without building anything (no secure memory, no copies of the input).
 * 0 when valid; -1 with err filled. */
int sb_json_validate(const unsigned char *text, size_t len, sb_error *err);

void sb_json_free(sb_json *doc); /* zeroes and releases; NULL ok */

const sb_json_node *sb_json_root(const sb_json *doc);

/* The first member of `object` whose key equals `key`; NULL when absent or
 * when `object` is not an object. */
const sb_json_node *sb_json_get(const sb_json_node *object, const char *key);

/* RFC 6901: "" is `from` itself; "/a/0/b~1c~0d" walks object keys (with ~1
 * for '/' and ~0 for '~') and array indexes (decimal, no leading zeros).
 * NULL when any step is absent or the pointer is malformed. */
const sb_json_node *sb_json_pointer(const sb_json_node *from, const char *pointer);

sb_json_type sb_json_type_of(const sb_json_node *node); /* NULL -> MISSING */

/* Members of an array or object; 0 for anything else. */
size_t sb_json_count(const sb_json_node *node);

/* The i-th member of an array or object (NULL when out of range). For
 * object members *key receives the (NUL-terminated) key, else NULL. */
const sb_json_node *sb_json_member(const sb_json_node *node, size_t i, const char **key);

/* The key of an object member (as returned by sb_json_member or
 * sb_json_get) with its length, which tells a key holding \u0000 apart
 * from a shorter one; NULL (and *len 0) for anything else. */
const char *sb_json_key(const sb_json_node *member, size_t *len);

/* A STRING's unescaped bytes, NUL-terminated; it may hold embedded NULs
 * (from \u0000), *len tells. NULL (and *len 0) for anything else. */
const char *sb_json_string(const sb_json_node *node, size_t *len);

/* An integral NUMBER (no fraction or exponent) within int64, or a STRING
 * holding a decimal integer in JSON's grammar such as "3" or "-12" (Vault's
 * weakly typed fields). 0 and *out set; -1 otherwise. */
int sb_json_int(const sb_json_node *node, int64_t *out);

/* The node's exact source text (a string keeps its quotes and escapes): a
 * span of the region's input copy, *len bytes, NOT NUL-terminated.
 * NULL (and *len 0) for NULL. */
const char *sb_json_text(const sb_json_node *node, size_t *len);

#endif
