/*
 * tests/plugins/shared/test_plugin_text.c — plugins/shared/plugin_text: the
 * string builder (JSON escaping, query encoding, failure is sticky), message
 * cleaning, strict UTF-8 and RFC 3339 times (fractions, refusals).
 */
#include "plugin_text.h"

#include <criterion/criterion.h>
#include <string.h>

Test(plugin_text, builder_escapes_and_encodes)
{
    sbp_str s = {0};
    sbp_str_add(&s, "{\"k\":");
    sbp_str_add_json(&s, "a\"b\\c\n\x01");
    sbp_str_addf(&s, ",\"n\":%d}", 42);
    cr_assert_str_eq(s.p, "{\"k\":\"a\\\"b\\\\c\\u000a\\u0001\",\"n\":42}");
    sbp_str_free(&s);
    sbp_str_add_query(&s, "labels.env=\"prod\" AND name:a~b_c");
    cr_assert_str_eq(s.p, "labels.env%3D%22prod%22%20AND%20name%3Aa~b_c");
    s.failed = 1; /* a failed builder ignores every later append */
    sbp_str_add(&s, "more");
    cr_assert_eq(strstr(s.p, "more"), NULL);
    sbp_str_free(&s);
    cr_assert_null(s.p);
}

Test(plugin_text, clean_copy_keeps_printable_ascii)
{
    char out[32], small[8];
    const char in[] = "  not\tfound:\x01 caf\xc3\xa9 and more text";
    sbp_clean_copy(in, strlen(in), out, sizeof out);
    cr_assert_str_eq(out, "not found: caf and more text");
    sbp_clean_copy(in, strlen(in), small, sizeof small);
    cr_assert_str_eq(small, "not fou");
}

Test(plugin_text, utf8_is_strict)
{
    cr_assert(sbp_valid_utf8((const unsigned char *)"caf\xc3\xa9", 5));
    cr_assert(sbp_valid_utf8((const unsigned char *)"\xf0\x9f\x98\x80", 4));
    cr_assert_not(sbp_valid_utf8((const unsigned char *)"\xc3", 1));
    cr_assert_not(sbp_valid_utf8((const unsigned char *)"\xff\x00", 2));
    cr_assert_not(sbp_valid_utf8((const unsigned char *)"\xe2\x28\xa1", 3));
}

Test(plugin_text, rfc3339)
{
    cr_assert_eq(sbp_rfc3339_ms("1970-01-01T00:00:00Z"), 0);
    cr_assert_eq(sbp_rfc3339_ms("2026-12-06T15:22:30Z"), 1796570550000LL);
    cr_assert_eq(sbp_rfc3339_ms("2026-12-06T15:22:30.5Z"), 1796570550500LL);
    cr_assert_eq(sbp_rfc3339_ms("2026-12-06T15:22:30.123456789Z"), 1796570550123LL);
    cr_assert_eq(sbp_rfc3339_ms("2026-12-06T15:22:30+01:00"), 0, "UTC only");
    cr_assert_eq(sbp_rfc3339_ms("2026-13-06T15:22:30Z"), 0);
    cr_assert_eq(sbp_rfc3339_ms("2026-12-06T15:22:30.Z"), 0);
    cr_assert_eq(sbp_rfc3339_ms(NULL), 0);
}
