/*
 * tests/unit/test_secure_json.c — the strict JSON parser in secure memory
 * (host/src/plugin/secure_json.c): every type, pointers, integers, unicode,
 * every rejection class (with the exact message and no echo of the input),
 * that every returned pointer lives in a registered secure region, and O(1)
 * member access on a large array.
 */
#include <criterion/criterion.h>
#include <string.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/secure_mem.h"
#include "plugin/secure_json.h"
#include "util/redact.h"

/* A distinctive value planted in bad inputs: no error may repeat it. */
#define CANARY "CANARYzq81x"

/* Node texts are spans (not NUL-terminated): compare by length. */
static void assert_text(const sb_json_node *n, const char *want)
{
    size_t len;
    const char *t = sb_json_text(n, &len);
    cr_assert_not_null(t);
    cr_assert_eq(len, strlen(want), "text length %zu, want %zu", len, strlen(want));
    cr_assert(memcmp(t, want, len) == 0, "text differs from %s", want);
}

static void suite_init(void)
{
    cr_assert_eq(sb_crypto_init(), 0);
}

TestSuite(secure_json, .init = suite_init);

static sb_json *parse_len(const char *text, size_t len)
{
    sb_json *doc = NULL;
    sb_error err = {0};
    int rc = sb_json_parse((const unsigned char *)text, len, &doc, &err);
    cr_assert_eq(rc, 0, "parse failed: %s", err.message);
    cr_assert_not_null(doc);
    return doc;
}

static sb_json *parse(const char *text)
{
    return parse_len(text, strlen(text));
}

/* Parses bytes that must be refused; checks code, message and no echo. */
static void reject_len(const char *text, size_t len, int code, const char *message)
{
    sb_json *doc = (sb_json *)0x1;
    sb_error err = {0};
    int rc = sb_json_parse((const unsigned char *)text, len, &doc, &err);
    cr_assert_eq(rc, -1, "accepted invalid JSON (expected: %s)", message);
    cr_assert_null(doc, "*out must be NULL on failure");
    cr_assert_eq(err.code, code, "code %d for: %s", err.code, err.message);
    cr_assert_str_eq(err.message, message);
    cr_assert_null(strstr(err.message, CANARY), "message echoes input: %s", err.message);
    /* The validation-only entry point agrees on the grammar (it builds
     * nothing, so only the parsed-size limit is not its concern). */
    if (code == SB_JSON_E_SYNTAX) {
        sb_error verr = {0};
        cr_assert_eq(sb_json_validate((const unsigned char *)text, len, &verr), -1);
        cr_assert_str_eq(verr.message, message);
    }
}

static void reject(const char *text, const char *message)
{
    reject_len(text, strlen(text), SB_JSON_E_SYNTAX, message);
}

static const char *str_of(const sb_json_node *n)
{
    const char *s = sb_json_string(n, NULL);
    cr_assert_not_null(s);
    return s;
}

Test(secure_json, every_type_at_the_root_and_as_members)
{
    static const struct {
        const char *text;
        sb_json_type type;
    } roots[] = {
        {"null", SB_JSON_NULL},     {"true", SB_JSON_TRUE},   {"false", SB_JSON_FALSE},
        {"-12.5e+3", SB_JSON_NUMBER}, {"\"s\"", SB_JSON_STRING}, {"[]", SB_JSON_ARRAY},
        {"{}", SB_JSON_OBJECT},     {" \t\r\n 7 \n", SB_JSON_NUMBER},
    };
    for (size_t i = 0; i < sizeof roots / sizeof roots[0]; i++) {
        sb_json *doc = parse(roots[i].text);
        cr_assert_eq(sb_json_type_of(sb_json_root(doc)), roots[i].type, "%s", roots[i].text);
        cr_assert_eq(sb_json_count(sb_json_root(doc)), 0);
        sb_json_free(doc);
    }
    sb_json *doc =
        parse("{\"n\":null,\"t\":true,\"f\":false,\"num\":0.5,\"s\":\"x\",\"a\":[1],\"o\":{}}");
    const sb_json_node *root = sb_json_root(doc);
    cr_assert_eq(sb_json_count(root), 7);
    static const char *keys[] = {"n", "t", "f", "num", "s", "a", "o"};
    static const sb_json_type types[] = {SB_JSON_NULL,   SB_JSON_TRUE,  SB_JSON_FALSE,
                                         SB_JSON_NUMBER, SB_JSON_STRING, SB_JSON_ARRAY,
                                         SB_JSON_OBJECT};
    for (size_t i = 0; i < 7; i++) {
        const char *key = NULL;
        const sb_json_node *m = sb_json_member(root, i, &key);
        cr_assert_str_eq(key, keys[i]);
        cr_assert_eq(sb_json_type_of(m), types[i]);
        cr_assert_eq(sb_json_get(root, keys[i]), m);
    }
    cr_assert_null(sb_json_member(root, 7, NULL));
    cr_assert_null(sb_json_get(root, "absent"));
    cr_assert_eq(sb_json_type_of(sb_json_get(root, "absent")), SB_JSON_MISSING);
    cr_assert_eq(sb_json_type_of(NULL), SB_JSON_MISSING);
    cr_assert_null(sb_json_string(sb_json_get(root, "num"), NULL));
    assert_text(sb_json_get(root, "num"), "0.5");
    sb_json_free(doc);
}

Test(secure_json, nesting_and_array_members_have_no_key)
{
    sb_json *doc = parse("{\"a\":{\"b\":[1,{\"c\":\"d\"},[[]]]}}");
    const sb_json_node *b = sb_json_get(sb_json_get(sb_json_root(doc), "a"), "b");
    cr_assert_eq(sb_json_type_of(b), SB_JSON_ARRAY);
    cr_assert_eq(sb_json_count(b), 3);
    const char *key = "sentinel";
    const sb_json_node *second = sb_json_member(b, 1, &key);
    cr_assert_null(key, "array members have no key");
    cr_assert_str_eq(str_of(sb_json_get(second, "c")), "d");
    cr_assert_eq(sb_json_count(sb_json_member(sb_json_member(b, 2, NULL), 0, NULL)), 0);
    cr_assert_null(sb_json_get(b, "c"), "get on an array");
    sb_json_free(doc);
}

Test(secure_json, pointers)
{
    sb_json *doc = parse("{\"data\":{\"data\":{\"password\":\"p\"},\"metadata\":{\"version\":3}},"
                         "\"a/b\":1,\"m~n\":2,\"~1\":3,\"\":4,\"arr\":[10,11,12,13,14,15,16,17,"
                         "18,19,20]}");
    const sb_json_node *root = sb_json_root(doc);
    int64_t v = 0;
    cr_assert_eq(sb_json_pointer(root, ""), root);
    cr_assert_str_eq(str_of(sb_json_pointer(root, "/data/data/password")), "p");
    cr_assert_eq(sb_json_int(sb_json_pointer(root, "/data/metadata/version"), &v), 0);
    cr_assert_eq(v, 3);
    cr_assert_eq(sb_json_int(sb_json_pointer(root, "/a~1b"), &v), 0);
    cr_assert_eq(v, 1);
    cr_assert_eq(sb_json_int(sb_json_pointer(root, "/m~0n"), &v), 0);
    cr_assert_eq(v, 2);
    cr_assert_eq(sb_json_int(sb_json_pointer(root, "/~01"), &v), 0, "~01 is the key ~1");
    cr_assert_eq(v, 3);
    cr_assert_eq(sb_json_int(sb_json_pointer(root, "/"), &v), 0, "/ is the empty key");
    cr_assert_eq(v, 4);
    cr_assert_eq(sb_json_int(sb_json_pointer(root, "/arr/0"), &v), 0);
    cr_assert_eq(v, 10);
    cr_assert_eq(sb_json_int(sb_json_pointer(root, "/arr/10"), &v), 0);
    cr_assert_eq(v, 20);
    const sb_json_node *sub = sb_json_pointer(root, "/data");
    cr_assert_str_eq(str_of(sb_json_pointer(sub, "/data/password")), "p");
    /* absent or malformed */
    static const char *missing[] = {
        "/nope", "/data/nope", "/data/data/password/x", "/arr/11", "/arr/01", "/arr/-",
        "/arr/x", "/arr/", "/arr/-1", "/arr/99999999999999999999999999", "data", "/a~2b",
        "/m~", "/a/b", "/arr/0/0",
    };
    for (size_t i = 0; i < sizeof missing / sizeof missing[0]; i++)
        cr_assert_null(sb_json_pointer(root, missing[i]), "%s", missing[i]);
    cr_assert_null(sb_json_pointer(NULL, ""));
    cr_assert_null(sb_json_pointer(root, NULL));
    sb_json_free(doc);
}

Test(secure_json, integers_and_weak_integer_strings)
{
    sb_json *doc = parse("[0,-0,42,-7,9223372036854775807,-9223372036854775808,\"3\",\"-12\","
                         "\"0\"]");
    static const int64_t want[] = {0, 0, 42, -7, INT64_MAX, INT64_MIN, 3, -12, 0};
    const sb_json_node *root = sb_json_root(doc);
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        int64_t v = 99;
        cr_assert_eq(sb_json_int(sb_json_member(root, i, NULL), &v), 0, "member %zu", i);
        cr_assert_eq(v, want[i], "member %zu", i);
    }
    sb_json_free(doc);
    doc = parse("[1.5,1e3,1E3,1.0,9223372036854775808,-9223372036854775809,"
                "99999999999999999999,\"x\",\"\",\"1.5\",\" 3\",\"3 \",\"03\",\"+3\",\"-\","
                "\"9223372036854775808\",\"1\\u00002\",true,null,{},[]]");
    root = sb_json_root(doc);
    for (size_t i = 0; i < sb_json_count(root); i++) {
        int64_t v = 99;
        cr_assert_eq(sb_json_int(sb_json_member(root, i, NULL), &v), -1, "member %zu", i);
        cr_assert_eq(v, 99, "untouched on failure");
    }
    int64_t v;
    cr_assert_eq(sb_json_int(NULL, &v), -1);
    sb_json_free(doc);
}

Test(secure_json, escapes_and_unicode)
{
    sb_json *doc = parse("[\"\\u00e9\",\"\\u20AC\",\"\\ud83d\\ude00\",\"a\\u0000b\","
                         "\"\\\"\\\\\\/\\b\\f\\n\\r\\t\",\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\","
                         "\"\\u0041\\uFFFF\\uD800\\uDC00\\uDBFF\\uDFFF\"]");
    const sb_json_node *root = sb_json_root(doc);
    size_t len;
    cr_assert_str_eq(str_of(sb_json_member(root, 0, NULL)), "\xc3\xa9");
    cr_assert_str_eq(str_of(sb_json_member(root, 1, NULL)), "\xe2\x82\xac");
    cr_assert_str_eq(str_of(sb_json_member(root, 2, NULL)), "\xf0\x9f\x98\x80");
    const char *nul = sb_json_string(sb_json_member(root, 3, NULL), &len);
    cr_assert_eq(len, 3);
    cr_assert_eq(memcmp(nul, "a\0b", 4), 0, "embedded NUL kept, NUL-terminated");
    cr_assert_str_eq(str_of(sb_json_member(root, 4, NULL)), "\"\\/\b\f\n\r\t");
    cr_assert_str_eq(str_of(sb_json_member(root, 5, NULL)), "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80");
    cr_assert_str_eq(str_of(sb_json_member(root, 6, NULL)),
                     "A\xef\xbf\xbf\xf0\x90\x80\x80\xf4\x8f\xbf\xbf");
    /* text keeps the source form */
    assert_text(sb_json_member(root, 3, &(const char *){NULL}), "\"a\\u0000b\"");
    sb_json_free(doc);
}

Test(secure_json, node_text_is_the_exact_source)
{
    const char *src = " { \"a\" : [ 1 , 2.50 , \"x\\ny\" ] ,\n\"b\":{ } } ";
    sb_json *doc = parse(src);
    const sb_json_node *root = sb_json_root(doc);
    size_t len;
    assert_text(root, "{ \"a\" : [ 1 , 2.50 , \"x\\ny\" ] ,\n\"b\":{ } }");
    assert_text(sb_json_get(root, "a"), "[ 1 , 2.50 , \"x\\ny\" ]");
    assert_text(sb_json_pointer(root, "/a/1"), "2.50");
    assert_text(sb_json_pointer(root, "/a/2"), "\"x\\ny\"");
    assert_text(sb_json_get(root, "b"), "{ }");
    cr_assert_null(sb_json_text(NULL, &len));
    cr_assert_eq(len, 0);
    sb_json_free(doc);
}

Test(secure_json, duplicate_keys_are_kept_and_get_returns_the_first)
{
    sb_json *doc = parse("{\"k\":\"first\",\"k\":\"second\"}");
    const sb_json_node *root = sb_json_root(doc);
    cr_assert_eq(sb_json_count(root), 2);
    cr_assert_str_eq(str_of(sb_json_get(root, "k")), "first");
    cr_assert_str_eq(str_of(sb_json_pointer(root, "/k")), "first");
    cr_assert_str_eq(str_of(sb_json_member(root, 1, NULL)), "second");
    sb_json_free(doc);
}

Test(secure_json, keys_with_nul_are_told_apart)
{
    sb_json *doc = parse("{\"a\\u0000b\":1,\"a\":2}");
    const sb_json_node *root = sb_json_root(doc);
    int64_t v;
    cr_assert_eq(sb_json_int(sb_json_get(root, "a"), &v), 0);
    cr_assert_eq(v, 2, "\"a\" must not match the key a\\0b");
    size_t len;
    cr_assert_not_null(sb_json_key(sb_json_member(root, 0, NULL), &len));
    cr_assert_eq(len, 3);
    cr_assert_null(sb_json_key(root, &len), "the root is no member");
    cr_assert_eq(len, 0);
    sb_json_free(doc);
}

static void assert_secure_tree(const sb_json_node *n, size_t *visited)
{
    (*visited)++;
    cr_assert(sb_redact_in_region(n), "node outside secure memory");
    size_t len;
    const char *text = sb_json_text(n, &len);
    cr_assert(sb_redact_in_region(text) && sb_redact_in_region(text + len));
    const char *s = sb_json_string(n, &len);
    if (s != NULL)
        cr_assert(sb_redact_in_region(s) && sb_redact_in_region(s + len));
    for (size_t i = 0; i < sb_json_count(n); i++) {
        const char *key = NULL;
        const sb_json_node *m = sb_json_member(n, i, &key);
        if (sb_json_type_of(n) == SB_JSON_OBJECT)
            cr_assert(sb_redact_in_region(key), "key outside secure memory");
        assert_secure_tree(m, visited);
    }
}

Test(secure_json, everything_returned_lives_in_secure_memory)
{
    sb_json *doc = parse("{\"request_id\":\"r\",\"data\":{\"data\":{\"password\":\"" CANARY
                         "\",\"n\":[1,true,null,{\"x\":\"\\u00e9\"}]},\"metadata\":{}}}");
    cr_assert(sb_redact_in_region(doc));
    size_t visited = 0;
    assert_secure_tree(sb_json_root(doc), &visited);
    cr_assert_eq(visited, 12);
    /* a %s of a secure string is redacted by every message formatter */
    char msg[128];
    sb_redact_format(msg, sizeof msg, "value=%s",
                     sb_json_string(sb_json_pointer(sb_json_root(doc), "/data/data/password"),
                                    NULL));
    cr_assert_str_eq(msg, "value=" SB_REDACTED);
    const sb_json_node *root = sb_json_root(doc);
    sb_json_free(doc);
    /* released: unmapped (and unregistered), or kept zeroed in the secure
     * pool (crypto/secure_mem.c), still registered as secure memory */
    if (sb_redact_in_region(root)) {
        const unsigned char *b = (const unsigned char *)root;
        for (size_t i = 0; i < 8; i++) /* the node starts the region's payload */
            cr_assert_eq(b[i], 0, "a released region kept its bytes");
    }
}

Test(secure_json, five_thousand_members_with_constant_time_access)
{
    size_t cap = 5000 * 6 + 4, len = 0;
    char *text = malloc(cap);
    cr_assert_not_null(text);
    text[len++] = '[';
    for (int i = 0; i < 5000; i++)
        len += (size_t)snprintf(text + len, cap - len, "%s%d", i ? "," : "", i);
    text[len++] = ']';
    sb_json *doc = parse_len(text, len);
    free(text);
    const sb_json_node *root = sb_json_root(doc);
    cr_assert_eq(sb_json_count(root), 5000);
    /* Members are one contiguous array: member(i) is base + i * stride. */
    uintptr_t base = (uintptr_t)sb_json_member(root, 0, NULL);
    uintptr_t stride = (uintptr_t)sb_json_member(root, 1, NULL) - base;
    cr_assert_gt(stride, 0);
    for (size_t i = 0; i < 5000; i++) {
        const sb_json_node *m = sb_json_member(root, i, NULL);
        cr_assert_eq((uintptr_t)m, base + i * stride, "member %zu not at its O(1) slot", i);
        int64_t v;
        cr_assert_eq(sb_json_int(m, &v), 0);
        cr_assert_eq(v, (int64_t)i);
    }
    cr_assert_null(sb_json_member(root, 5000, NULL));
    sb_json_free(doc);
}

Test(secure_json, depth_limit)
{
    char buf[2 * 129 + 1];
    for (int depth = 128; depth <= 129; depth++) {
        memset(buf, '[', (size_t)depth);
        memset(buf + depth, ']', (size_t)depth);
        if (depth == 128) {
            sb_json *doc = parse_len(buf, 256);
            sb_json_free(doc);
        } else {
            reject_len(buf, 258, SB_JSON_E_SYNTAX,
                       "invalid JSON at byte 128: nesting deeper than 128 arrays and objects");
        }
    }
}

Test(secure_json, size_limit_and_bad_arguments)
{
    size_t len = SB_JSON_MAX_INPUT + 1;
    char *big = malloc(len);
    cr_assert_not_null(big);
    memset(big, ' ', len);
    reject_len(big, len, SB_JSON_E_TOO_LARGE,
               "JSON document of 67108865 bytes exceeds the limit of 64 MiB");
    free(big);
    sb_error err = {0};
    sb_json *doc = NULL;
    cr_assert_eq(sb_json_parse(NULL, 3, &doc, &err), -1);
    cr_assert_eq(err.code, SB_JSON_E_INVALID);
    cr_assert_eq(sb_json_parse((const unsigned char *)"1", 1, NULL, &err), -1);
    cr_assert_eq(sb_json_parse((const unsigned char *)"[", 1, &doc, NULL), -1, "err may be NULL");
    cr_assert_null(doc);
    sb_json_free(NULL);
    cr_assert_null(sb_json_root(NULL));
    cr_assert_eq(sb_json_count(NULL), 0);
    cr_assert_null(sb_json_member(NULL, 0, NULL));
    cr_assert_null(sb_json_get(NULL, "a"));
}

Test(secure_json, documents_too_big_once_parsed_are_refused_before_allocating)
{
    /* 20 million values in 40 MB: under the input limit, but their nodes
     * alone would need more than SB_JSON_MAX_ARENA of locked memory. */
    size_t values = 20000000, len = 2 * values + 1;
    char *text = malloc(len);
    cr_assert_not_null(text);
    text[0] = '[';
    for (size_t i = 0; i < values; i++) {
        text[1 + 2 * i] = '0';
        text[2 + 2 * i] = ',';
    }
    text[len - 1] = ']';
    reject_len(text, len, SB_JSON_E_TOO_LARGE,
               "JSON document of 40000001 bytes would need more than 1024 MiB of secure "
               "memory once parsed (too many values); reduce its size");
    free(text);
}

Test(secure_json, rejects_empty_and_trailing_garbage)
{
    reject_len(NULL, 0, SB_JSON_E_SYNTAX,
               "invalid JSON at byte 0: expected a value, found end of input");
    reject("", "invalid JSON at byte 0: expected a value, found end of input");
    reject(" \n\t", "invalid JSON at byte 3: expected a value, found end of input");
    reject("{\"k\":\"v\"} " CANARY,
           "invalid JSON at byte 10: expected end of input after the top-level value, "
           "found a letter");
    reject("1 2", "invalid JSON at byte 2: expected end of input after the top-level value, "
                  "found a digit");
    reject("{}}", "invalid JSON at byte 2: expected end of input after the top-level value, "
                  "found '}'");
    reject_len("{}\0", 3, SB_JSON_E_SYNTAX,
               "invalid JSON at byte 2: expected end of input after the top-level value, "
               "found a control character");
}

Test(secure_json, rejects_bad_numbers)
{
    reject("[01]", "invalid JSON at byte 1: a number has a leading zero");
    reject("-00", "invalid JSON at byte 1: a number has a leading zero");
    reject("[-]", "invalid JSON at byte 2: expected a digit, found ']'");
    reject("[1.]", "invalid JSON at byte 3: expected a digit after the decimal point, found ']'");
    reject("1e", "invalid JSON at byte 2: expected a digit in the exponent, found end of input");
    reject("1e+x", "invalid JSON at byte 3: expected a digit in the exponent, found a letter");
    reject(".5", "invalid JSON at byte 0: expected a value, found a punctuation character");
    reject("+1", "invalid JSON at byte 0: expected a value, found a punctuation character");
    reject("NaN", "invalid JSON at byte 0: expected a value, found a letter");
    reject("-Infinity", "invalid JSON at byte 1: expected a digit, found a letter");
    reject("0x10", "invalid JSON at byte 1: expected end of input after the top-level value, "
                   "found a letter");
}

Test(secure_json, rejects_bad_literals_and_structure)
{
    reject("tru", "invalid JSON at byte 3: expected the literal true, found end of input");
    reject("[nul]", "invalid JSON at byte 4: expected the literal null, found ']'");
    reject("fals3", "invalid JSON at byte 4: expected the literal false, found a digit");
    reject("[1,]", "invalid JSON at byte 3: expected a value, found ']'");
    reject("[1 2]", "invalid JSON at byte 3: expected ',' or ']', found a digit");
    reject("[1", "invalid JSON at byte 2: expected ',' or ']', found end of input");
    reject("{\"a\":1,}", "invalid JSON at byte 7: expected a key (a string in double quotes), "
                         "found '}'");
    reject("{" CANARY ":1}", "invalid JSON at byte 1: expected a key (a string in double "
                             "quotes), found a letter");
    reject("{\"a\" 1}", "invalid JSON at byte 5: expected ':' after a key, found a digit");
    reject("{\"a\":1 \"b\":2}", "invalid JSON at byte 7: expected ',' or '}', found '\"'");
    reject("{\"a\":}", "invalid JSON at byte 5: expected a value, found '}'");
    reject("[\xc3\xa9]", "invalid JSON at byte 1: expected a value, found a non-ASCII byte");
    reject("'" CANARY "'", "invalid JSON at byte 0: expected a value, found a punctuation "
                           "character");
}

Test(secure_json, rejects_bad_strings)
{
    reject("\"" CANARY, "invalid JSON at byte 12: expected the closing '\"' of a string, "
                        "found end of input");
    reject("[\"" CANARY "\x01\"]", "invalid JSON at byte 13: a control character in a string "
                                   "(escape it, e.g. as \\n or \\u00XX)");
    reject("\"a\nb\"", "invalid JSON at byte 2: a control character in a string "
                       "(escape it, e.g. as \\n or \\u00XX)");
    reject("\"" CANARY "\\x\"", "invalid JSON at byte 13: expected an escape (one of \\\" \\\\ "
                                "\\/ \\b \\f \\n \\r \\t \\uXXXX), found a letter");
    reject("\"\\", "invalid JSON at byte 2: expected an escape character after '\\', found end "
                   "of input");
    reject("\"\\u12G4\"", "invalid JSON at byte 5: expected four hex digits after \\u, found a "
                          "letter");
    reject("\"\\u12\"", "invalid JSON at byte 5: expected four hex digits after \\u, found '\"'");
}

Test(secure_json, rejects_invalid_utf8)
{
    static const char *bad[] = {
        "\"" CANARY "\xff\"",             /* never valid */
        "\"" CANARY "\xc0\xaf\"",         /* overlong '/' */
        "\"" CANARY "\xe0\x80\xaf\"",     /* overlong 3-byte */
        "\"" CANARY "\xed\xa0\x80\"",     /* encoded surrogate */
        "\"" CANARY "\xf4\x90\x80\x80\"", /* above U+10FFFF */
        "\"" CANARY "\xe2\x82\"",         /* truncated */
        "\"" CANARY "\x80\"",             /* lone continuation */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        reject(bad[i], "invalid JSON at byte 12: invalid UTF-8 in a string");
    reject("{\"k\xfe\":1}", "invalid JSON at byte 3: invalid UTF-8 in a string");
}

Test(secure_json, rejects_bad_surrogates)
{
    reject("\"" CANARY "\\ud800\"",
           "invalid JSON at byte 12: a \\u escape holds a lone high surrogate (\\uD800-\\uDBFF "
           "must be followed by a \\uDC00-\\uDFFF escape)");
    reject("\"\\uDBFFx\"", "invalid JSON at byte 1: a \\u escape holds a lone high surrogate "
                           "(\\uD800-\\uDBFF must be followed by a \\uDC00-\\uDFFF escape)");
    reject("\"\\udc00\\ud800\"", "invalid JSON at byte 1: a \\u escape holds a lone low "
                                 "surrogate (\\uDC00-\\uDFFF must follow a high surrogate)");
    reject("\"\\ud800\\u0041\"", "invalid JSON at byte 7: a high surrogate escape is followed "
                                 "by an escape that is not a low surrogate (\\uDC00-\\uDFFF)");
    reject("\"\\ud800\\ud800\"", "invalid JSON at byte 7: a high surrogate escape is followed "
                                 "by an escape that is not a low surrogate (\\uDC00-\\uDFFF)");
    reject("\"\\ud800\\n\"", "invalid JSON at byte 1: a \\u escape holds a lone high surrogate "
                             "(\\uD800-\\uDBFF must be followed by a \\uDC00-\\uDFFF escape)");
}

Test(secure_json, validate_builds_nothing)
{
    cr_assert_eq(sb_json_validate((const unsigned char *)"{\"a\":[1,2]}", 11, NULL), 0);
    cr_assert_eq(sb_json_validate((const unsigned char *)"1,2", 3, NULL), -1);
    cr_assert_eq(sb_json_validate((const unsigned char *)"", 0, NULL), -1);
}
