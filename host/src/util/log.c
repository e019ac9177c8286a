/* util/log.c — see log.h. */
#include "util/log.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "util/json_escape.h"
#include "util/redact.h"

#define LOG_LINE_MAX 8192
#define LOG_MESSAGE_MAX 4096

static _Atomic int current_level = SB_LEVEL_INFO;
static FILE *_Atomic log_stream;

static const struct {
    const char *name;
    sb_level level;
} level_names[] = {
    {"debug", SB_LEVEL_DEBUG},
    {"info", SB_LEVEL_INFO},
    {"warn", SB_LEVEL_WARN},
    {"error", SB_LEVEL_ERROR},
};

void sb_log_set_level(sb_level level) { atomic_store(&current_level, (int)level); }
sb_level sb_log_get_level(void) { return (sb_level)atomic_load(&current_level); }
void sb_log_set_stream(FILE *stream) { atomic_store(&log_stream, stream); }

int sb_log_parse_level(const char *name)
{
    for (size_t i = 0; name && i < sizeof level_names / sizeof level_names[0]; i++)
        if (strcasecmp(name, level_names[i].name) == 0)
            return (int)level_names[i].level;
    return -1;
}

const char *sb_log_level_name(sb_level level)
{
    for (size_t i = 0; i < sizeof level_names / sizeof level_names[0]; i++)
        if (level_names[i].level == level)
            return level_names[i].name;
    return "info";
}

/* Appends ,"key":"value" after redacting the value. */
static void append_field(char *line, size_t cap, size_t *len, const char *key,
                         const char *value)
{
    char clean[LOG_MESSAGE_MAX];
    if (value == NULL)
        return;
    if (sb_redact_in_region(value))
        value = SB_REDACTED;
    snprintf(clean, sizeof clean, "%s", value);
    sb_redact_scrub(clean, sizeof clean);
    if (*len + 2 >= cap)
        return;
    line[(*len)++] = ',';
    line[*len] = '\0';
    sb_json_escape_append(line, cap, len, key);
    if (*len + 2 >= cap)
        return;
    line[(*len)++] = ':';
    line[*len] = '\0';
    sb_json_escape_append(line, cap, len, clean);
}

void sb_logv(sb_level level, const char *component, const sb_log_ctx *ctx,
             const char *fmt, va_list ap)
{
    if ((int)level < atomic_load(&current_level))
        return;
    char msg[LOG_MESSAGE_MAX];
    sb_redact_vformat(msg, sizeof msg, fmt, ap);

    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    char line[LOG_LINE_MAX];
    size_t len = (size_t)snprintf(line, sizeof line,
                                  "{\"ts\":\"%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ\",\"level\":\"%s\"",
                                  tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                                  tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000L,
                                  sb_log_level_name(level));
    append_field(line, sizeof line, &len, "component", component ? component : "sbridge");
    append_field(line, sizeof line, &len, "msg", msg);
    if (ctx != NULL) {
        append_field(line, sizeof line, &len, "request_id", ctx->request_id);
        append_field(line, sizeof line, &len, "correlation_id", ctx->correlation_id);
        for (size_t i = 0; i < ctx->n_fields; i++)
            append_field(line, sizeof line, &len, ctx->fields[i].key, ctx->fields[i].value);
    }
    if (len + 3 > sizeof line)
        len = sizeof line - 3;
    line[len++] = '}';
    line[len++] = '\n';
    line[len] = '\0';

    FILE *out = atomic_load(&log_stream);
    if (out == NULL)
        out = stderr;
    flockfile(out);
    fwrite(line, 1, len, out);
    fflush(out);
    funlockfile(out);
}

void sb_log(sb_level level, const char *component, const sb_log_ctx *ctx,
            const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    sb_logv(level, component, ctx, fmt, ap);
    va_end(ap);
}
