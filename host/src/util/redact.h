/*
 * util/redact.h — the one place where text meant for humans is formatted.
 *
 * Contract: every log line, error message and plugin result message is
 * produced by sb_redact_vformat. It is printf-compatible for the
 * conversions the code base uses (d i u x X o c s p % with flags, width,
 * precision, `*`, and the hh h l ll z j t length modifiers; floating point
 * e f g a) and it cannot be bypassed by the caller:
 *
 *   - a %s argument that points into a registered secure region (every
 *     sb_secure_buf, JSON arena, bundle and config secret lives in one) is
 *     written as [REDACTED];
 *   - after formatting, every occurrence of a registered secret string
 *     (configured secrets: tokens, passwords) is replaced by [REDACTED],
 *     which also catches copies that left secure memory.
 *
 * Registration is thread-safe. The registry holds address ranges and
 * pointers to secret strings that themselves live in secure memory; it
 * never copies a secret.
 */
#ifndef SB_UTIL_REDACT_H
#define SB_UTIL_REDACT_H

#include <stdarg.h>
#include <stddef.h>

#define SB_REDACTED "[REDACTED]"

/* Secure regions: [start, start+len). */
void sb_redact_register_region(const void *start, size_t len);
void sb_redact_unregister_region(const void *start);
int sb_redact_in_region(const void *p);

/* Secret strings (len >= 4; shorter ones are too common to scrub safely and
 * are refused with -1). The bytes must stay valid until unregistered. */
int sb_redact_register_secret(const char *s, size_t len);
void sb_redact_unregister_secret(const char *s);

/* Formats into out (always NUL-terminated, truncated with "..." when cap is
 * too small). Returns the length written. */
size_t sb_redact_vformat(char *out, size_t cap, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));
size_t sb_redact_format(char *out, size_t cap, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Replaces registered secret strings in buf in place (buf is NUL-terminated
 * with capacity cap). Exposed for structured fields. */
void sb_redact_scrub(char *buf, size_t cap);

#endif
