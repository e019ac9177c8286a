/*
 * util/json_escape.h — appending JSON string literals to a char buffer.
 *
 * Contract: sb_json_escape_append writes `"..."` with RFC 8259 escaping of
 * `src` into buf at *len (capacity cap, always NUL-terminated). Invalid
 * UTF-8 bytes become U+FFFD so the output is always valid JSON. Truncates
 * (and closes the quote) when the buffer is full; returns -1 then, else 0.
 */
#ifndef SB_UTIL_JSON_ESCAPE_H
#define SB_UTIL_JSON_ESCAPE_H

#include <stddef.h>

int sb_json_escape_append(char *buf, size_t cap, size_t *len, const char *src);

#endif
