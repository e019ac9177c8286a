/*
 * util/duration.h — parsing "1500ms", "30s", "15m", "8h", "2d" and
 * combinations such as "1h30m" into milliseconds.
 *
 * Contract: returns 0 and sets *ms on success; -1 on anything else (empty,
 * unknown unit, missing unit, overflow, negative). Formatting is the inverse
 * for display.
 */
#ifndef SB_UTIL_DURATION_H
#define SB_UTIL_DURATION_H

#include <stddef.h>
#include <stdint.h>

int sb_duration_parse(const char *text, int64_t *ms);
void sb_duration_format(int64_t ms, char *out, size_t cap);

#endif
