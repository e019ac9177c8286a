/*
 * http/textbuf.h — a growable text buffer for building responses and
 * reports inside http/.
 *
 * Contract: append functions grow the buffer as needed and keep it
 * NUL-terminated; after the first allocation failure the buffer is marked
 * failed, further appends do nothing, and sb_textbuf_take() returns NULL.
 * Text written here is never a secret (callers format redacted text only).
 */
#ifndef SB_HTTP_TEXTBUF_H
#define SB_HTTP_TEXTBUF_H

#include <stddef.h>

typedef struct sb_textbuf {
    char *data;
    size_t len, cap;
    int failed;
} sb_textbuf;

void sb_textbuf_append(sb_textbuf *b, const char *s, size_t n);
void sb_textbuf_puts(sb_textbuf *b, const char *s);
void sb_textbuf_printf(sb_textbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Hands the buffer to the caller (malloc'd, NUL-terminated; "" when empty)
 * and resets b; NULL after an allocation failure. */
char *sb_textbuf_take(sb_textbuf *b, size_t *len);
void sb_textbuf_free(sb_textbuf *b);

#endif
