/* config/diag.c — see diag.h. */
#include "config/diag.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "util/redact.h"

void sb_diags_init(sb_diags *d, const char *file)
{
    memset(d, 0, sizeof *d);
    d->file = strdup(file ? file : "<config>");
}

void sb_diags_free(sb_diags *d)
{
    for (size_t i = 0; i < d->n; i++)
        free(d->items[i].message);
    free(d->items);
    free(d->file);
    memset(d, 0, sizeof *d);
}

void sb_diags_add(sb_diags *d, sb_diag_severity sev, int line, int col, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    sb_redact_vformat(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (d->n == d->cap) {
        size_t ncap = d->cap ? d->cap * 2 : 16;
        sb_diag *n = realloc(d->items, ncap * sizeof *n);
        if (n == NULL)
            return;
        d->items = n;
        d->cap = ncap;
    }
    char *copy = strdup(msg);
    if (copy == NULL)
        return;
    d->items[d->n++] = (sb_diag){sev, line, col, copy};
    if (sev == SB_DIAG_ERROR)
        d->n_errors++;
}

static int by_position(const void *a, const void *b)
{
    const sb_diag *x = a, *y = b;
    if (x->line != y->line)
        return x->line < y->line ? -1 : 1;
    if (x->col != y->col)
        return x->col < y->col ? -1 : 1;
    return 0;
}

void sb_diags_format(const sb_diags *d, size_t i, char *out, size_t cap)
{
    const sb_diag *g = &d->items[i];
    snprintf(out, cap, "%s:%d:%d: %s%s", d->file, g->line, g->col,
             g->severity == SB_DIAG_WARNING ? "warning: " : "", g->message);
}

void sb_diags_print(sb_diags *d, FILE *out)
{
    /* A stable sort keeps messages at one position in the order found. */
    for (size_t i = 1; i < d->n; i++)
        for (size_t j = i; j > 0 && by_position(&d->items[j - 1], &d->items[j]) > 0; j--) {
            sb_diag t = d->items[j];
            d->items[j] = d->items[j - 1];
            d->items[j - 1] = t;
        }
    char line[1400];
    for (size_t i = 0; i < d->n; i++) {
        sb_diags_format(d, i, line, sizeof line);
        fprintf(out, "%s\n", line);
    }
}
