/*
 * config/diag.h — diagnostics collected while reading a config file.
 *
 * Contract: validation never stops at the first problem; every error and
 * warning is appended here with the file, line and column it refers to
 * (1-based; 0 when it concerns the whole file) and printed as
 * `file:line:col: message` (warnings as `file:line:col: warning: message`).
 * Messages never contain the value of a secret field.
 */
#ifndef SB_CONFIG_DIAG_H
#define SB_CONFIG_DIAG_H

#include <stddef.h>
#include <stdio.h>

typedef enum sb_diag_severity { SB_DIAG_ERROR, SB_DIAG_WARNING } sb_diag_severity;

typedef struct sb_diag {
    sb_diag_severity severity;
    int line, col;
    char *message;
} sb_diag;

typedef struct sb_diags {
    char *file;
    sb_diag *items;
    size_t n, cap;
    size_t n_errors;
} sb_diags;

void sb_diags_init(sb_diags *d, const char *file);
void sb_diags_free(sb_diags *d);
void sb_diags_add(sb_diags *d, sb_diag_severity sev, int line, int col, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
#define sb_diags_error(d, line, col, ...) sb_diags_add(d, SB_DIAG_ERROR, line, col, __VA_ARGS__)
#define sb_diags_warning(d, line, col, ...) sb_diags_add(d, SB_DIAG_WARNING, line, col, __VA_ARGS__)
/* Sorts by position and prints every diagnostic. */
void sb_diags_print(sb_diags *d, FILE *out);
/* The i-th diagnostic formatted as it is printed (for tests). */
void sb_diags_format(const sb_diags *d, size_t i, char *out, size_t cap);

#endif
