/* test_log.c — the redacting formatter and JSON logging: secure memory and
 * configured secrets can never reach a log line or an error message. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "crypto/secure_mem.h"
#include "util/error.h"
#include "util/json_escape.h"
#include "util/log.h"
#include "util/redact.h"

static void setup(void) { cr_assert_eq(sb_crypto_init(), 0); }
TestSuite(log, .init = setup);

/* Captures one log line written by fn. */
static char *capture(void (*fn)(void *), void *arg)
{
    static char buf[16384];
    FILE *f = fmemopen(buf, sizeof buf, "w");
    sb_log_set_stream(f);
    fn(arg);
    fclose(f);
    sb_log_set_stream(NULL);
    return buf;
}

Test(log, printf_compatible_conversions)
{
    char out[256];
    sb_redact_format(out, sizeof out, "%d|%5s|%-4s|%.2s|%x|%zu|%lld|%%|%c|%*d|%.*s", -7, "ab", "c", "xyz",
                     255u, (size_t)42, -9000000000LL, 'q', 4, 3, 2, "hello");
    cr_assert_str_eq(out, "-7|   ab|c   |xy|ff|42|-9000000000|%|q|   3|he");
}

Test(log, secure_memory_is_redacted_in_messages)
{
    sb_secure_buf *b = sb_secure_new(32);
    sb_secure_append(b, "hunter2-value", 13);
    char out[256];
    sb_redact_format(out, sizeof out, "value is %s, len %zu", (const char *)b->data, b->len);
    cr_assert_str_eq(out, "value is [REDACTED], len 13");
    /* a pointer into the middle of the region is redacted too */
    sb_redact_format(out, sizeof out, "tail %s", (const char *)b->data + 7);
    cr_assert_str_eq(out, "tail [REDACTED]");
    sb_secure_free(b);
}

Test(log, registered_secret_copies_are_scrubbed)
{
    char *secret = sb_secure_strdup("s3cr3t-token-abc", 16);
    cr_assert_eq(sb_redact_register_secret(secret, 16), 0);
    char copy[64];
    strcpy(copy, "s3cr3t-token-abc"); /* a copy outside secure memory */
    char out[256];
    sb_redact_format(out, sizeof out, "token=%s; again %s!", copy, copy);
    cr_assert_str_eq(out, "token=[REDACTED]; again [REDACTED]!");
    sb_redact_unregister_secret(secret);
    sb_secure_release(secret);
}

Test(log, truncation_never_leaves_a_secret_prefix)
{
    char *secret = sb_secure_strdup("ABCDEFGHIJKLMNOP", 16);
    sb_redact_register_secret(secret, 16);
    char copy[] = "ABCDEFGHIJKLMNOP";
    char out[24];
    sb_redact_format(out, sizeof out, "0123456789: %s", copy);
    cr_assert_null(strstr(out, "ABCD"), "got '%s'", out);
    sb_redact_unregister_secret(secret);
    sb_secure_release(secret);
}

Test(log, short_secrets_are_refused_for_scrubbing)
{
    cr_assert_eq(sb_redact_register_secret("abc", 3), -1);
}

Test(log, error_messages_are_redacted)
{
    sb_secure_buf *b = sb_secure_new(16);
    sb_secure_append(b, "password123", 11);
    sb_error err;
    cr_assert_eq(sb_error_set(&err, 7, "login failed for %s", (const char *)b->data), -1);
    cr_assert_eq(err.code, 7);
    cr_assert_str_eq(err.message, "login failed for [REDACTED]");
    sb_secure_free(b);
}

static void write_line(void *arg)
{
    const char *value = arg;
    sb_log_field fields[] = {{"user", "alice"}, {"leak", value}};
    sb_log_ctx ctx = {"req-1", "corr-9", fields, 2};
    sb_log(SB_LEVEL_WARN, "test", &ctx, "quote \" and newline\n and value %s", value);
}

Test(log, json_lines_are_valid_and_redacted)
{
    sb_secure_buf *b = sb_secure_new(16);
    sb_secure_append(b, "topsecret-xyz", 13);
    char *line = capture(write_line, b->data);
    cr_assert_null(strstr(line, "topsecret"), "secret leaked: %s", line);
    cr_assert_not_null(strstr(line, "\"level\":\"warn\""));
    cr_assert_not_null(strstr(line, "\"component\":\"test\""));
    cr_assert_not_null(strstr(line, "\"request_id\":\"req-1\""));
    cr_assert_not_null(strstr(line, "\"correlation_id\":\"corr-9\""));
    cr_assert_not_null(strstr(line, "\"user\":\"alice\""));
    cr_assert_not_null(strstr(line, "\"leak\":\"[REDACTED]\""));
    cr_assert_not_null(strstr(line, "quote \\\" and newline\\n"));
    cr_assert_eq(line[strlen(line) - 1], '\n');
    cr_assert_eq(strchr(line, '\n'), line + strlen(line) - 1, "one line per event");
    sb_secure_free(b);
}

static void write_debug(void *arg)
{
    (void)arg;
    sb_log(SB_LEVEL_DEBUG, "test", NULL, "invisible");
}

Test(log, level_filters)
{
    sb_log_set_level(SB_LEVEL_INFO);
    char *line = capture(write_debug, NULL);
    cr_assert_str_eq(line, "");
    cr_assert_eq(sb_log_parse_level("warn"), SB_LEVEL_WARN);
    cr_assert_eq(sb_log_parse_level("loud"), -1);
}

Test(log, invalid_utf8_is_replaced_so_lines_stay_json)
{
    char out[128];
    size_t len = 0;
    cr_assert_eq(sb_json_escape_append(out, sizeof out, &len, "a\xff" "b\x01"), 0);
    cr_assert_str_eq(out, "\"a\xEF\xBF\xBD" "b\\u0001\"");
}
