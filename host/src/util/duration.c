/* util/duration.c — see duration.h. */
#include "util/duration.h"

#include <stdio.h>
#include <string.h>

static const struct {
    const char *unit;
    int64_t ms;
} units[] = {
    {"ms", 1}, {"s", 1000}, {"m", 60000}, {"h", 3600000}, {"d", 86400000},
};

int sb_duration_parse(const char *text, int64_t *ms)
{
    if (text == NULL || *text == '\0')
        return -1;
    int64_t total = 0;
    const char *p = text;
    while (*p) {
        if (*p < '0' || *p > '9')
            return -1;
        int64_t n = 0;
        while (*p >= '0' && *p <= '9') {
            if (n > (INT64_MAX - 9) / 10)
                return -1;
            n = n * 10 + (*p++ - '0');
        }
        size_t best = 0, which = 0;
        for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
            size_t l = strlen(units[i].unit);
            if (strncmp(p, units[i].unit, l) == 0 && l > best)
                best = l, which = i;
        }
        if (best == 0)
            return -1;
        p += best;
        if (n > (INT64_MAX - total) / units[which].ms)
            return -1;
        total += n * units[which].ms;
    }
    *ms = total;
    return 0;
}

void sb_duration_format(int64_t ms, char *out, size_t cap)
{
    if (ms % 86400000 == 0 && ms != 0)
        snprintf(out, cap, "%lldd", (long long)(ms / 86400000));
    else if (ms % 3600000 == 0 && ms != 0)
        snprintf(out, cap, "%lldh", (long long)(ms / 3600000));
    else if (ms % 60000 == 0 && ms != 0)
        snprintf(out, cap, "%lldm", (long long)(ms / 60000));
    else if (ms % 1000 == 0)
        snprintf(out, cap, "%llds", (long long)(ms / 1000));
    else
        snprintf(out, cap, "%lldms", (long long)ms);
}
