/*
 * tests/unit/test_bundle.c — secret bundles (host/src/plugin/bundle.c):
 * ordered puts and replaces, value checks, SINGLE shape rules, JSON round
 * trips that keep order, kinds and nested text, merge for GET-merge-PUT,
 * base64 for BINARY, and that every value lives in secure memory.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "crypto/secure_mem.h"
#include "plugin/bundle.h"
#include "plugin/secure_json.h"
#include "util/redact.h"

static void suite_init(void)
{
    cr_assert_eq(sb_crypto_init(), 0);
}

TestSuite(bundle, .init = suite_init);

static const unsigned char *u(const char *s)
{
    return (const unsigned char *)s;
}

static int put_str(sb_bundle *b, const char *key, sb_value_kind kind, const char *value)
{
    return sb_bundle_put(b, key, kind, u(value), strlen(value));
}

static void assert_entry(const sb_bundle *b, size_t i, const char *key, sb_value_kind kind,
                         const char *value, size_t len)
{
    const char *k = NULL;
    sb_value_kind kd = 0;
    const unsigned char *v = NULL;
    size_t l = 0;
    cr_assert_eq(sb_bundle_entry(b, i, &k, &kd, &v, &l), 0, "entry %zu", i);
    cr_assert_str_eq(k, key, "entry %zu", i);
    cr_assert_eq(kd, kind, "entry %zu (%s)", i, key);
    cr_assert_eq(l, len, "entry %zu (%s)", i, key);
    cr_assert_eq(memcmp(v, value, len), 0, "entry %zu (%s)", i, key);
    cr_assert_eq(v[len], '\0', "values are NUL-terminated");
    cr_assert(sb_redact_in_region(v), "value of %s outside secure memory", key);
}

static sb_bundle *bundle_of_json(const char *text)
{
    sb_json *doc = NULL;
    sb_error err = {0};
    cr_assert_eq(sb_json_parse(u(text), strlen(text), &doc, &err), 0, "%s", err.message);
    sb_bundle *b = NULL;
    cr_assert_eq(sb_bundle_from_json(sb_json_root(doc), &b, &err), 0, "%s", err.message);
    sb_json_free(doc);
    return b;
}

/* Writes b as JSON and checks the exact output. */
static void assert_json(const sb_bundle *b, const char *want)
{
    sb_secure_buf *out = sb_secure_new(0);
    sb_error err = {0};
    cr_assert_eq(sb_bundle_append_json(b, out, &err), 0, "%s", err.message);
    size_t len;
    const unsigned char *data = sb_secure_data(out, &len);
    cr_assert_eq(len, strlen(want), "got %s", (const char *)data);
    cr_assert_str_eq((const char *)data, want);
    sb_secure_free(out);
}

Test(bundle, put_replace_find_remove_keep_order)
{
    sb_bundle *b = sb_bundle_new(SB_SHAPE_MAP);
    cr_assert_eq(sb_bundle_shape_of(b), SB_SHAPE_MAP);
    cr_assert_eq(put_str(b, "user", SB_VALUE_STRING, "admin"), 0);
    cr_assert_eq(put_str(b, "port", SB_VALUE_JSON, "5432"), 0);
    cr_assert_eq(sb_bundle_put(b, "empty", SB_VALUE_STRING, NULL, 0), 0);
    cr_assert_eq(sb_bundle_put(b, "blob", SB_VALUE_BINARY, u("\0\xff"), 2), 0);
    cr_assert_eq(sb_bundle_count(b), 4);
    cr_assert_eq(put_str(b, "user", SB_VALUE_STRING, "root-longer-value"), 0);
    cr_assert_eq(sb_bundle_count(b), 4, "replace does not append");
    assert_entry(b, 0, "user", SB_VALUE_STRING, "root-longer-value", 17);
    assert_entry(b, 1, "port", SB_VALUE_JSON, "5432", 4);
    assert_entry(b, 2, "empty", SB_VALUE_STRING, "", 0);
    assert_entry(b, 3, "blob", SB_VALUE_BINARY, "\0\xff", 2);
    cr_assert_eq(sb_bundle_find(b, "port"), 1);
    cr_assert_eq(sb_bundle_find(b, "nope"), -1);
    cr_assert_eq(sb_bundle_remove(b, "port"), 0);
    cr_assert_eq(sb_bundle_remove(b, "port"), -1);
    cr_assert_eq(sb_bundle_count(b), 3);
    assert_entry(b, 1, "empty", SB_VALUE_STRING, "", 0);
    cr_assert_eq(sb_bundle_find(b, "blob"), 2);
    cr_assert_eq(sb_bundle_entry(b, 3, NULL, NULL, NULL, NULL), -1);
    cr_assert_eq(sb_bundle_entry(b, 0, NULL, NULL, NULL, NULL), 0, "out-pointers optional");
    sb_bundle_free(b);
    sb_bundle_free(NULL);
    cr_assert_eq(sb_bundle_count(NULL), 0);
    cr_assert_null(sb_bundle_new((sb_bundle_shape)7));
}

Test(bundle, put_refuses_bad_arguments_and_unsafe_values)
{
    sb_bundle *b = sb_bundle_new(SB_SHAPE_MAP);
    cr_assert_eq(put_str(NULL, "k", SB_VALUE_STRING, "v"), -1);
    cr_assert_eq(put_str(b, NULL, SB_VALUE_STRING, "v"), -1);
    cr_assert_eq(sb_bundle_put(b, "k", SB_VALUE_STRING, NULL, 3), -1);
    cr_assert_eq(put_str(b, "k", (sb_value_kind)99, "v"), -1);
    cr_assert_eq(put_str(b, "k", SB_VALUE_STRING, "bad \xff utf-8"), -1);
    cr_assert_eq(put_str(b, "k\xff", SB_VALUE_STRING, "v"), -1, "keys must be UTF-8");
    cr_assert_eq(put_str(b, "k", SB_VALUE_JSON, "1,\"admin\":true"), -1, "no member smuggling");
    cr_assert_eq(put_str(b, "k", SB_VALUE_JSON, "{\"a\":"), -1);
    cr_assert_eq(put_str(b, "k", SB_VALUE_JSON, ""), -1);
    cr_assert_eq(sb_bundle_count(b), 0, "nothing stored by a refused put");
    cr_assert_eq(put_str(b, "k", SB_VALUE_BINARY, "bad \xff is fine as binary"), 0);
    cr_assert_eq(put_str(b, "k", SB_VALUE_JSON, "{\"a\":[1,null]}"), 0);
    cr_assert_eq(put_str(b, "k", SB_VALUE_STRING, "bad \xff"), -1);
    assert_entry(b, 0, "k", SB_VALUE_JSON, "{\"a\":[1,null]}", 14);
    sb_bundle_free(b);
}

Test(bundle, single_shape_rules)
{
    sb_bundle *b = sb_bundle_new(SB_SHAPE_SINGLE);
    cr_assert_eq(sb_bundle_shape_of(b), SB_SHAPE_SINGLE);
    cr_assert_eq(put_str(b, "other", SB_VALUE_STRING, "x"), -1);
    cr_assert_eq(put_str(b, "value", SB_VALUE_STRING, "x"), 0);
    cr_assert_eq(put_str(b, "value", SB_VALUE_BINARY, "yz"), 0);
    cr_assert_eq(sb_bundle_count(b), 1);
    assert_entry(b, 0, "value", SB_VALUE_BINARY, "yz", 2);

    sb_secure_buf *out = sb_secure_new(0);
    sb_error err = {0};
    cr_assert_eq(sb_bundle_append_json(b, out, &err), -1);
    cr_assert_eq(err.code, SB_BUNDLE_E_SHAPE);
    cr_assert_str_eq(err.message, "a single-value bundle has no JSON object form; write its "
                                  "\"value\" entry as it is instead");
    cr_assert_eq(sb_secure_data(out, NULL)[0], '\0');
    sb_secure_free(out);

    sb_bundle *patch = sb_bundle_new(SB_SHAPE_MAP);
    cr_assert_eq(put_str(patch, "value", SB_VALUE_STRING, "new"), 0);
    cr_assert_eq(sb_bundle_merge(b, patch, &err), 0, "%s", err.message);
    assert_entry(b, 0, "value", SB_VALUE_STRING, "new", 3);
    cr_assert_eq(put_str(patch, "extra", SB_VALUE_STRING, "e"), 0);
    cr_assert_eq(sb_bundle_merge(b, patch, &err), -1);
    cr_assert_eq(err.code, SB_BUNDLE_E_SHAPE);
    cr_assert_str_eq(err.message, "the secret holds a single value, so a change can only set "
                                  "the key \"value\"; entry 1 of the change sets another key");
    cr_assert_eq(sb_bundle_count(b), 1, "a refused merge changes nothing");
    sb_bundle_free(patch);
    sb_bundle_free(b);
}

Test(bundle, from_json_kinds_and_exact_text)
{
    sb_bundle *b = bundle_of_json(
        "{\"user\":\"admin\",\"port\":5432,\"ratio\":1.50,\"nested\": {\"a\" : [1, {\"b\":null}]},"
        "\"on\":true,\"off\":false,\"none\":null,\"list\":[],\"pw\":\"p\\\"w\\u00e9\\u0000!\"}");
    cr_assert_eq(sb_bundle_shape_of(b), SB_SHAPE_MAP);
    cr_assert_eq(sb_bundle_count(b), 9);
    assert_entry(b, 0, "user", SB_VALUE_STRING, "admin", 5);
    assert_entry(b, 1, "port", SB_VALUE_JSON, "5432", 4);
    assert_entry(b, 2, "ratio", SB_VALUE_JSON, "1.50", 4);
    assert_entry(b, 3, "nested", SB_VALUE_JSON, "{\"a\" : [1, {\"b\":null}]}", 23);
    assert_entry(b, 4, "on", SB_VALUE_JSON, "true", 4);
    assert_entry(b, 5, "off", SB_VALUE_JSON, "false", 5);
    assert_entry(b, 6, "none", SB_VALUE_JSON, "null", 4);
    assert_entry(b, 7, "list", SB_VALUE_JSON, "[]", 2);
    assert_entry(b, 8, "pw", SB_VALUE_STRING, "p\"w\xc3\xa9\0!", 7);
    sb_bundle_free(b);
}

Test(bundle, json_round_trip_keeps_order_kinds_and_nested_text)
{
    const char *src = "{\"zeta\":\"1\",\"alpha\":{\"k\" : [1,2.0e1,\"s\"]},\"mid\":\"tab\\tq\\\"\","
                      "\"n\":-0,\"u\":\"\xe2\x82\xac\"}";
    sb_bundle *b = bundle_of_json(src);
    const char *want = "{\"zeta\":\"1\",\"alpha\":{\"k\" : [1,2.0e1,\"s\"]},"
                       "\"mid\":\"tab\\tq\\\"\",\"n\":-0,\"u\":\"\xe2\x82\xac\"}";
    assert_json(b, want);
    /* and once more through the parser: identical bundle, identical text */
    sb_bundle *again = bundle_of_json(want);
    cr_assert_eq(sb_bundle_count(again), sb_bundle_count(b));
    for (size_t i = 0; i < sb_bundle_count(b); i++) {
        const char *k;
        sb_value_kind kind;
        const unsigned char *v;
        size_t len;
        sb_bundle_entry(b, i, &k, &kind, &v, &len);
        assert_entry(again, i, k, kind, (const char *)v, len);
    }
    assert_json(again, want);
    sb_bundle_free(again);
    sb_bundle_free(b);
}

Test(bundle, append_json_appends_and_escapes)
{
    sb_bundle *b = sb_bundle_new(SB_SHAPE_MAP);
    cr_assert_eq(sb_bundle_put(b, "ctl", SB_VALUE_STRING, u("a\0b\x01\n"), 5), 0);
    cr_assert_eq(put_str(b, "q\"k", SB_VALUE_STRING, "v"), 0);
    sb_secure_buf *out = sb_secure_new(0);
    cr_assert_eq(sb_secure_append(out, "prefix:", 7), 0);
    cr_assert_eq(sb_bundle_append_json(b, out, NULL), 0);
    cr_assert_str_eq((const char *)sb_secure_data(out, NULL),
                     "prefix:{\"ctl\":\"a\\u0000b\\u0001\\n\",\"q\\\"k\":\"v\"}");
    sb_secure_free(out);
    sb_bundle *empty = sb_bundle_new(SB_SHAPE_MAP);
    assert_json(empty, "{}");
    sb_bundle_free(empty);
    sb_error err = {0};
    cr_assert_eq(sb_bundle_append_json(b, NULL, &err), -1);
    cr_assert_eq(err.code, SB_BUNDLE_E_INVALID);
    sb_bundle_free(b);
}

Test(bundle, binary_values_are_standard_base64)
{
    sb_bundle *b = sb_bundle_new(SB_SHAPE_MAP);
    cr_assert_eq(sb_bundle_put(b, "raw", SB_VALUE_BINARY, u("\x00\xff\x10"), 3), 0);
    cr_assert_eq(put_str(b, "hello", SB_VALUE_BINARY, "hello"), 0);
    cr_assert_eq(sb_bundle_put(b, "none", SB_VALUE_BINARY, NULL, 0), 0);
    cr_assert_eq(sb_bundle_put(b, "slash", SB_VALUE_BINARY, u("\xfb\xff\xbf"), 3), 0);
    assert_json(b, "{\"raw\":\"AP8Q\",\"hello\":\"aGVsbG8=\",\"none\":\"\",\"slash\":\"+/+/\"}");
    sb_bundle_free(b);
}

Test(bundle, merge_keeps_untouched_keys_and_kinds)
{
    sb_bundle *base = bundle_of_json("{\"a\":\"keep\",\"b\":5,\"c\":{\"x\":1},\"d\":\"old\"}");
    cr_assert_eq(sb_bundle_put(base, "bin", SB_VALUE_BINARY, u("\x01\x02"), 2), 0);
    sb_bundle *patch = sb_bundle_new(SB_SHAPE_MAP);
    cr_assert_eq(put_str(patch, "d", SB_VALUE_STRING, "new"), 0);
    cr_assert_eq(put_str(patch, "b", SB_VALUE_JSON, "6"), 0);
    cr_assert_eq(put_str(patch, "e", SB_VALUE_STRING, "added"), 0);
    sb_error err = {0};
    cr_assert_eq(sb_bundle_merge(base, patch, &err), 0, "%s", err.message);
    cr_assert_eq(sb_bundle_count(base), 6);
    assert_entry(base, 0, "a", SB_VALUE_STRING, "keep", 4);
    assert_entry(base, 1, "b", SB_VALUE_JSON, "6", 1);
    assert_entry(base, 2, "c", SB_VALUE_JSON, "{\"x\":1}", 7);
    assert_entry(base, 3, "d", SB_VALUE_STRING, "new", 3);
    assert_entry(base, 4, "bin", SB_VALUE_BINARY, "\x01\x02", 2);
    assert_entry(base, 5, "e", SB_VALUE_STRING, "added", 5);
    cr_assert_eq(sb_bundle_count(patch), 3, "patch untouched");
    assert_json(base, "{\"a\":\"keep\",\"b\":6,\"c\":{\"x\":1},\"d\":\"new\",\"bin\":\"AQI=\","
                      "\"e\":\"added\"}");
    /* the patch's kind wins for a key it sets */
    sb_bundle *kinds = sb_bundle_new(SB_SHAPE_MAP);
    cr_assert_eq(put_str(kinds, "b", SB_VALUE_STRING, "7"), 0);
    cr_assert_eq(sb_bundle_merge(base, kinds, NULL), 0);
    assert_entry(base, 1, "b", SB_VALUE_STRING, "7", 1);
    cr_assert_eq(sb_bundle_merge(NULL, kinds, &err), -1);
    cr_assert_eq(err.code, SB_BUNDLE_E_INVALID);
    sb_bundle_free(kinds);
    sb_bundle_free(patch);
    sb_bundle_free(base);
}

Test(bundle, clone_is_deep)
{
    sb_bundle *b = bundle_of_json("{\"a\":\"x\",\"b\":[1]}");
    sb_bundle *c = sb_bundle_clone(b);
    cr_assert_not_null(c);
    cr_assert_eq(sb_bundle_shape_of(c), SB_SHAPE_MAP);
    const unsigned char *vb, *vc;
    sb_bundle_entry(b, 0, NULL, NULL, &vb, NULL);
    sb_bundle_entry(c, 0, NULL, NULL, &vc, NULL);
    cr_assert_neq(vb, vc, "values are copied, not shared");
    cr_assert_eq(put_str(c, "a", SB_VALUE_STRING, "changed"), 0);
    assert_entry(b, 0, "a", SB_VALUE_STRING, "x", 1);
    assert_entry(c, 1, "b", SB_VALUE_JSON, "[1]", 3);
    sb_bundle_free(b);
    assert_entry(c, 0, "a", SB_VALUE_STRING, "changed", 7);
    sb_bundle_free(c);
    cr_assert_null(sb_bundle_clone(NULL));
}

Test(bundle, duplicate_keys_keep_first_position_last_value)
{
    sb_bundle *b = bundle_of_json("{\"k\":\"first\",\"x\":1,\"k\":\"last\"}");
    cr_assert_eq(sb_bundle_count(b), 2);
    assert_entry(b, 0, "k", SB_VALUE_STRING, "last", 4);
    assert_entry(b, 1, "x", SB_VALUE_JSON, "1", 1);
    sb_bundle_free(b);
}

Test(bundle, from_json_refuses_non_objects_and_nul_keys)
{
    static const struct {
        const char *text;
        const char *found;
    } cases[] = {
        {"[1]", "an array"}, {"\"s\"", "a string"}, {"3", "a number"},
        {"null", "null"},    {"true", "a boolean"},
    };
    sb_error err = {0};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        sb_json *doc = NULL;
        cr_assert_eq(sb_json_parse(u(cases[i].text), strlen(cases[i].text), &doc, NULL), 0);
        sb_bundle *b = (sb_bundle *)0x1;
        cr_assert_eq(sb_bundle_from_json(sb_json_root(doc), &b, &err), -1);
        cr_assert_null(b);
        cr_assert_eq(err.code, SB_BUNDLE_E_NOT_OBJECT);
        char want[200];
        snprintf(want, sizeof want,
                 "expected a JSON object of key/value pairs for the secret, found %s",
                 cases[i].found);
        cr_assert_str_eq(err.message, want);
        sb_json_free(doc);
    }
    sb_bundle *b = NULL;
    cr_assert_eq(sb_bundle_from_json(NULL, &b, &err), -1);
    cr_assert_str_eq(err.message, "expected a JSON object of key/value pairs for the secret, "
                                  "found nothing (the value is absent)");
    sb_json *doc = NULL;
    const char *text = "{\"ok\":1,\"a\\u0000b\":\"v\"}";
    cr_assert_eq(sb_json_parse(u(text), strlen(text), &doc, NULL), 0);
    cr_assert_eq(sb_bundle_from_json(sb_json_root(doc), &b, &err), -1);
    cr_assert_null(b);
    cr_assert_eq(err.code, SB_BUNDLE_E_INVALID);
    cr_assert_str_eq(err.message, "member 1 of the secret's JSON object has a key holding "
                                  "\\u0000, which a bundle key cannot hold; rename the key");
    sb_json_free(doc);
}
