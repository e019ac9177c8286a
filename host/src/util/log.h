/*
 * util/log.h — structured JSON logging.
 *
 * Contract: one JSON object per line on the configured stream:
 *   {"ts":"2026-11-28T13:45:00.123Z","level":"info","component":"loader",
 *    "msg":"...","request_id":"...","correlation_id":"...", <fields>}
 * The message is formatted by sb_redact_vformat, and every structured field
 * value passes through sb_redact_scrub and the secure-region check, so
 * neither the message nor the fields can carry a registered secret. JSON
 * escaping happens after redaction. Lines are written with one write so
 * concurrent threads never interleave. Thread-safe.
 */
#ifndef SB_UTIL_LOG_H
#define SB_UTIL_LOG_H

#include <stddef.h>
#include <stdarg.h>
#include <stdio.h>

typedef enum sb_level {
    SB_LEVEL_DEBUG = 10,
    SB_LEVEL_INFO = 20,
    SB_LEVEL_WARN = 30,
    SB_LEVEL_ERROR = 40
} sb_level;

typedef struct sb_log_field {
    const char *key;
    const char *value;
} sb_log_field;

/* Request-scoped ids; any may be NULL. */
typedef struct sb_log_ctx {
    const char *request_id;
    const char *correlation_id;
    const sb_log_field *fields;
    size_t n_fields;
} sb_log_ctx;

void sb_log_set_level(sb_level level);
sb_level sb_log_get_level(void);
/* "debug|info|warn|error" -> level; -1 when unknown. */
int sb_log_parse_level(const char *name);
const char *sb_log_level_name(sb_level level);
/* Redirects output (default stderr); the stream is not closed. */
void sb_log_set_stream(FILE *stream);

void sb_logv(sb_level level, const char *component, const sb_log_ctx *ctx,
             const char *fmt, va_list ap) __attribute__((format(printf, 4, 0)));
void sb_log(sb_level level, const char *component, const sb_log_ctx *ctx,
            const char *fmt, ...) __attribute__((format(printf, 4, 5)));

#define sb_debug(component, ...) sb_log(SB_LEVEL_DEBUG, component, NULL, __VA_ARGS__)
#define sb_info(component, ...) sb_log(SB_LEVEL_INFO, component, NULL, __VA_ARGS__)
#define sb_warn(component, ...) sb_log(SB_LEVEL_WARN, component, NULL, __VA_ARGS__)
#define sb_err(component, ...) sb_log(SB_LEVEL_ERROR, component, NULL, __VA_ARGS__)

#endif
