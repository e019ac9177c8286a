/*
 * notify_test_plugin.c — a NOTIFIER plugin for the outbox tests, built as a
 * real .so and loaded by the real registry: each delivered event becomes
 * one JSON line appended to the file named by `file` (kind, severity,
 * title, summary, link, dedupe key and every field), so a test reads what
 * a channel would have sent.
 *
 * It can be told to fail: the first `fail_times` deliveries of an instance
 * fail with `fail_with` (throttled: SB_E_THROTTLED with `retry_after`;
 * unavailable: SB_E_UNAVAILABLE; invalid: SB_E_INVALID, permanent) and
 * append a line {"failed": <status>, "dedupe_key": ...} instead. With
 * `crash_if_file` set, a delivery that finds that file removes it and
 * kills its own process with SIGKILL, mid-delivery (the crash test).
 */
#include <fcntl.h>
#include <sbridge/plugin.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const sb_host_api *host;

typedef struct instance {
    char file[512], crash_if_file[512], slow_if_file[512];
    int64_t fail_times, failed, retry_after_ms;
    sb_status fail_with;
} instance;

static const sb_config_field config_fields[] = {
    {.struct_size = sizeof(sb_config_field), .key = "file", .type = SB_CFG_STRING,
     .flags = SB_CFG_REQUIRED, .help = "File each delivered event is appended to.", .min = 1,
     .max = 0},
    {.struct_size = sizeof(sb_config_field), .key = "fail_times", .type = SB_CFG_INT,
     .default_value = "0", .help = "Deliveries that fail before they succeed.", .min = 0,
     .max = 1000000},
    {.struct_size = sizeof(sb_config_field), .key = "fail_with", .type = SB_CFG_ENUM,
     .default_value = "unavailable", .enum_values = "throttled|unavailable|invalid",
     .help = "How those deliveries fail.", .min = 1, .max = 0},
    {.struct_size = sizeof(sb_config_field), .key = "retry_after", .type = SB_CFG_DURATION,
     .default_value = "0s", .help = "The Retry-After a throttled failure reports.", .min = 0,
     .max = 3600000},
    {.struct_size = sizeof(sb_config_field), .key = "crash_if_file", .type = SB_CFG_STRING,
     .help = "When this file exists, a delivery removes it and SIGKILLs its process.", .min = 1,
     .max = 0},
    {.struct_size = sizeof(sb_config_field), .key = "slow_if_file", .type = SB_CFG_STRING,
     .help = "While this file exists, each delivery takes 400 ms (a slow webhook).", .min = 1,
     .max = 0},
};

static sb_status test_init(const sb_host_api *h, sb_result *res)
{
    (void)res;
    host = h;
    return SB_OK;
}

static sb_status test_instance_new(const sb_config *cfg, void **out, sb_result *res)
{
    instance *in = calloc(1, sizeof *in);
    if (in == NULL)
        return host->fail(res, SB_E_INTERNAL, 0, "notify_test: out of memory");
    snprintf(in->file, sizeof in->file, "%s", host->config_string(cfg, "file"));
    in->fail_times = host->config_int(cfg, "fail_times");
    in->retry_after_ms = host->config_int(cfg, "retry_after");
    const char *crash = host->config_string(cfg, "crash_if_file");
    snprintf(in->crash_if_file, sizeof in->crash_if_file, "%s", crash ? crash : "");
    const char *slow = host->config_string(cfg, "slow_if_file");
    snprintf(in->slow_if_file, sizeof in->slow_if_file, "%s", slow ? slow : "");
    const char *with = host->config_string(cfg, "fail_with");
    in->fail_with = strcmp(with, "throttled") == 0 ? SB_E_THROTTLED
                    : strcmp(with, "invalid") == 0 ? SB_E_INVALID
                                                   : SB_E_UNAVAILABLE;
    *out = in;
    return SB_OK;
}

static void test_instance_free(void *p) { free(p); }

/* s as a JSON string (quotes included) appended to buf. */
static void put(char *buf, size_t cap, const char *s)
{
    size_t n = strlen(buf);
    if (n + 1 < cap)
        buf[n++] = '"';
    for (; s && *s && n + 8 < cap; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            n += (size_t)snprintf(buf + n, cap - n, "\\%c", c);
        else if (c < 0x20)
            n += (size_t)snprintf(buf + n, cap - n, "\\u%04x", c);
        else
            buf[n++] = (char)c;
    }
    if (n + 1 < cap)
        buf[n++] = '"';
    buf[n] = '\0';
}

static void pair(char *buf, size_t cap, const char *key, const char *value, int comma)
{
    if (comma)
        strncat(buf, ",", cap - strlen(buf) - 1);
    put(buf, cap, key);
    strncat(buf, ":", cap - strlen(buf) - 1);
    if (value)
        put(buf, cap, value);
    else
        strncat(buf, "null", cap - strlen(buf) - 1);
}

static int append(const instance *in, const char *line)
{
    int fd = open(in->file, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (fd < 0)
        return -1;
    ssize_t w = write(fd, line, strlen(line));
    close(fd);
    return w == (ssize_t)strlen(line) ? 0 : -1;
}

static sb_status test_deliver(void *p, const sb_call *call, const sb_notify_event *ev,
                              sb_result *res)
{
    (void)call;
    instance *in = p;
    char line[16384] = "{";
    if (in->crash_if_file[0] && unlink(in->crash_if_file) == 0)
        raise(SIGKILL);
    if (in->slow_if_file[0] && access(in->slow_if_file, F_OK) == 0)
        nanosleep(&(struct timespec){0, 400 * 1000000L}, NULL);
    if (in->failed < in->fail_times) {
        in->failed++;
        char status[16];
        snprintf(status, sizeof status, "%d", (int)in->fail_with);
        pair(line, sizeof line, "failed", status, 0);
        pair(line, sizeof line, "dedupe_key", ev->dedupe_key, 1);
        strncat(line, "}\n", sizeof line - strlen(line) - 1);
        append(in, line);
        return host->fail(res, in->fail_with,
                          in->fail_with == SB_E_THROTTLED ? (uint32_t)in->retry_after_ms : 0,
                          "notify_test: told to fail (%lld of %lld)", (long long)in->failed,
                          (long long)in->fail_times);
    }
    pair(line, sizeof line, "kind", ev->kind, 0);
    pair(line, sizeof line, "severity", ev->severity, 1);
    pair(line, sizeof line, "title", ev->title, 1);
    pair(line, sizeof line, "summary", ev->summary, 1);
    pair(line, sizeof line, "link", ev->link, 1);
    pair(line, sizeof line, "dedupe_key", ev->dedupe_key, 1);
    strncat(line, ",\"fields\":{", sizeof line - strlen(line) - 1);
    for (size_t i = 0; i < ev->n_fields; i++)
        pair(line, sizeof line, ev->fields[i].key, ev->fields[i].value, i > 0);
    strncat(line, "}}\n", sizeof line - strlen(line) - 1);
    if (append(in, line) != 0)
        return host->fail(res, SB_E_UNAVAILABLE, 0, "notify_test: cannot append to its file");
    return SB_OK;
}

static const sb_notifier_ops notifier_ops = {
    .struct_size = sizeof(sb_notifier_ops),
    .deliver = test_deliver,
};

SB_PLUGIN_DEFINE(.name = "notify_test", .version = "1.0.0", .vendor = "Secrets Bridge tests",
                 .license = "Apache-2.0",
                 .description = "Test notifier: appends events to a file, fails on demand",
                 .capabilities = SB_CAP_NOTIFIER, .thread_model = SB_THREAD_SERIAL,
                 SB_PLUGIN_CONFIG(config_fields), .init = test_init,
                 .instance_new = test_instance_new, .instance_free = test_instance_free,
                 .notifier = &notifier_ops)
