/*
 * plugins/shared/plugin_text.h — small text helpers every provider plugin
 * needs, for METADATA only (names, URLs, labels, JSON request skeletons,
 * provider error messages): never put a secret value in one of these heap
 * strings. Plain C; no host, no ABI.
 *
 *   sbp_str          a growable heap string whose appends never fail
 *                    silently: on allocation failure `failed` is set and
 *                    every later append is ignored (check it once at the end)
 *   sbp_clean_copy   a provider's message copied out as printable ASCII
 *                    (whitespace squeezed, truncated) for an error text
 *   sbp_valid_utf8   strict UTF-8 check of a byte string
 *   sbp_rfc3339_ms   "2026-01-01T00:00:00[.fff...]Z" -> unix milliseconds
 */
#ifndef SB_PLUGINS_SHARED_PLUGIN_TEXT_H
#define SB_PLUGINS_SHARED_PLUGIN_TEXT_H

#include <stddef.h>
#include <stdint.h>

typedef struct sbp_str {
    char *p; /* NUL-terminated once anything was appended; NULL before */
    size_t len, cap;
    int failed;
} sbp_str;

void sbp_str_addn(sbp_str *s, const char *text, size_t n);
void sbp_str_add(sbp_str *s, const char *text); /* NULL appends nothing */
/* printf-style; the formatted piece must fit 255 bytes (else `failed`). */
void sbp_str_addf(sbp_str *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Appends text as a quoted, escaped JSON string. */
void sbp_str_add_json(sbp_str *s, const char *text);
/* Appends text percent-encoded for a URL query value (RFC 3986 unreserved kept). */
void sbp_str_add_query(sbp_str *s, const char *text);
void sbp_str_free(sbp_str *s); /* frees and zeroes the struct */

char *sbp_strdup(const char *s); /* NULL in, or no memory: NULL */
void sbp_clean_copy(const char *in, size_t len, char *out, size_t cap);
int sbp_valid_utf8(const unsigned char *s, size_t n);
int64_t sbp_rfc3339_ms(const char *text); /* 0 when unparseable; UTC ('Z') only */

#endif
