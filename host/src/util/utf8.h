/*
 * util/utf8.h — UTF-8 validation.
 *
 * Contract: sb_utf8_sequence_length returns the length (1–4) of the valid,
 * shortest-form UTF-8 sequence at s (no surrogates, <= U+10FFFF), or 0 when
 * the bytes there are not one. sb_utf8_valid checks a whole buffer.
 */
#ifndef SB_UTIL_UTF8_H
#define SB_UTIL_UTF8_H

#include <stddef.h>

size_t sb_utf8_sequence_length(const unsigned char *s, size_t avail);
int sb_utf8_valid(const unsigned char *s, size_t len);

#endif
