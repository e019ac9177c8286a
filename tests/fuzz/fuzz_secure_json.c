/*
 * tests/fuzz/fuzz_secure_json.c — libFuzzer target for the secure JSON
 * parser and the bundle conversions built on it.
 *
 * For every input: parse; on success walk the whole tree through every
 * accessor (type, count, member, key, get, pointer, string, int, text) and
 * check the invariants the parser promises (texts NUL-terminated and
 * re-parseable, every pointer inside the secure region, get finds a member
 * with that key); an object root also makes a bundle whose JSON form must
 * parse back to a bundle with the same entries. Validation must agree with
 * parsing. Run:
 *
 *   clang -fsanitize=fuzzer,address,undefined -std=c11 -D_GNU_SOURCE \
 *     -Ihost/src -Iplugin-api/include <sources> tests/fuzz/fuzz_secure_json.c \
 *     -lsodium -o fuzz_json && ./fuzz_json tests/fuzz/corpus/secure_json
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/secure_mem.h"
#include "plugin/bundle.h"
#include "plugin/secure_json.h"
#include "util/redact.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int ok)
{
    if (!ok)
        abort();
}

/* Pointer tokens escape '~' and '/'; builds "/<escaped key>" in buf. */
static int pointer_for_key(const char *key, size_t key_len, char *buf, size_t cap)
{
    size_t n = 0;
    buf[n++] = '/';
    for (size_t i = 0; i < key_len; i++) {
        if (n + 3 >= cap || key[i] == '\0')
            return -1;
        if (key[i] == '~' || key[i] == '/') {
            buf[n++] = '~';
            buf[n++] = key[i] == '~' ? '0' : '1';
        } else {
            buf[n++] = key[i];
        }
    }
    buf[n] = '\0';
    return 0;
}

static void walk(const sb_json_node *n, unsigned depth)
{
    check(depth <= SB_JSON_MAX_DEPTH + 1);
    check(sb_redact_in_region(n));
    sb_json_type type = sb_json_type_of(n);
    check(type >= SB_JSON_NULL && type <= SB_JSON_OBJECT);

    size_t text_len;
    const char *text = sb_json_text(n, &text_len);
    check(text != NULL && sb_redact_in_region(text) && sb_redact_in_region(text + text_len));
    check(sb_json_validate((const unsigned char *)text, text_len, NULL) == 0);

    size_t len;
    const char *s = sb_json_string(n, &len);
    check((s != NULL) == (type == SB_JSON_STRING));
    if (s != NULL)
        check(s[len] == '\0' && sb_redact_in_region(s));
    int64_t v;
    int rc = sb_json_int(n, &v);
    check(rc == 0 || rc == -1);
    if (rc == 0)
        check(type == SB_JSON_NUMBER || type == SB_JSON_STRING);

    size_t count = sb_json_count(n);
    check(count == 0 || type == SB_JSON_ARRAY || type == SB_JSON_OBJECT);
    check(sb_json_member(n, count, NULL) == NULL);
    for (size_t i = 0; i < count; i++) {
        const char *key = NULL;
        const sb_json_node *m = sb_json_member(n, i, &key);
        check(m != NULL);
        if (type == SB_JSON_OBJECT) {
            size_t key_len;
            check(sb_json_key(m, &key_len) == key && key != NULL);
            check(key[key_len] == '\0' && sb_redact_in_region(key));
            if (strlen(key) == key_len) {
                const sb_json_node *first = sb_json_get(n, key);
                check(first != NULL);
                const char *first_key = sb_json_key(first, NULL);
                check(strcmp(first_key, key) == 0);
                char ptr[256];
                if (pointer_for_key(key, key_len, ptr, sizeof ptr) == 0)
                    check(sb_json_pointer(n, ptr) == first);
            }
        } else {
            check(key == NULL);
            char ptr[32];
            snprintf(ptr, sizeof ptr, "/%zu", i);
            check(sb_json_pointer(n, ptr) == m);
        }
        walk(m, depth + 1);
    }
    check(sb_json_pointer(n, "") == n);
}

static void round_trip_bundle(const sb_json_node *root)
{
    sb_bundle *b = NULL;
    if (sb_bundle_from_json(root, &b, NULL) != 0)
        return; /* a key holding \u0000 */
    sb_secure_buf *out = sb_secure_new(0);
    check(out != NULL);
    check(sb_bundle_append_json(b, out, NULL) == 0);
    size_t len;
    const unsigned char *json = sb_secure_data(out, &len);
    sb_json *doc = NULL;
    check(sb_json_parse(json, len, &doc, NULL) == 0);
    sb_bundle *again = NULL;
    check(sb_bundle_from_json(sb_json_root(doc), &again, NULL) == 0);
    check(sb_bundle_count(again) == sb_bundle_count(b));
    for (size_t i = 0; i < sb_bundle_count(b); i++) {
        const char *k1, *k2;
        sb_value_kind t1, t2;
        const unsigned char *v1, *v2;
        size_t l1, l2;
        check(sb_bundle_entry(b, i, &k1, &t1, &v1, &l1) == 0);
        check(sb_bundle_entry(again, i, &k2, &t2, &v2, &l2) == 0);
        check(strcmp(k1, k2) == 0 && t1 == t2 && l1 == l2 && memcmp(v1, v2, l1) == 0);
    }
    sb_bundle *copy = sb_bundle_clone(b);
    check(copy != NULL && sb_bundle_merge(copy, again, NULL) == 0);
    check(sb_bundle_count(copy) == sb_bundle_count(b));
    sb_bundle_free(copy);
    sb_bundle_free(again);
    sb_json_free(doc);
    sb_secure_free(out);
    sb_bundle_free(b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int initialised;
    if (!initialised) {
        check(sb_crypto_init() == 0);
        initialised = 1;
    }
    sb_json *doc = NULL;
    sb_error err = {0};
    int rc = sb_json_parse(data, size, &doc, &err);
    check(sb_json_validate(data, size, NULL) == rc);
    if (rc != 0) {
        check(doc == NULL && err.message[0] != '\0');
        return 0;
    }
    const sb_json_node *root = sb_json_root(doc);
    walk(root, 0);
    if (sb_json_type_of(root) == SB_JSON_OBJECT)
        round_trip_bundle(root);
    sb_json_free(doc);
    return 0;
}
