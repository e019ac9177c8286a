/*
 * util/error.h — the error value every fallible host function fills.
 *
 * Contract: functions return 0 (or a positive count) on success and a
 * negative value on failure, after filling the caller's sb_error with a
 * stable code and a message that says what was wrong and how to fix it.
 * Messages never contain secret values (callers format them through the
 * redacting formatter).
 */
#ifndef SB_UTIL_ERROR_H
#define SB_UTIL_ERROR_H

#include <stddef.h>

#define SB_ERROR_MESSAGE_MAX 512

typedef struct sb_error {
    int code;
    char message[SB_ERROR_MESSAGE_MAX];
} sb_error;

/* Fills err (if not NULL) and returns -1 so callers can `return sb_error_set(...)`. */
int sb_error_set(sb_error *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
