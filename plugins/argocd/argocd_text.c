/*
 * plugins/argocd/argocd_text.c — small text helpers the other files share.
 *
 * Contract: a growable heap string for URLs, baselines and details
 * (metadata only, never a value), JSON string escaping, RFC 3339 parsing and
 * formatting in UTC (Kubernetes' metav1.Time is second precision; fractional
 * seconds and numeric offsets are accepted on input), and a printable-ASCII
 * copy for quoting provider text in messages.
 */
#include "argocd.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void str_addn(argocd_str *s, const char *text, size_t n)
{
    if (s->failed)
        return;
    if (s->len + n + 1 > s->cap) {
        size_t cap = s->cap ? s->cap : 128;
        while (cap < s->len + n + 1)
            cap *= 2;
        char *p = realloc(s->p, cap);
        if (p == NULL) {
            s->failed = 1;
            return;
        }
        s->p = p;
        s->cap = cap;
    }
    if (n)
        memcpy(s->p + s->len, text, n);
    s->len += n;
    s->p[s->len] = '\0';
}

void argocd_str_add(argocd_str *s, const char *text)
{
    str_addn(s, text ? text : "", text ? strlen(text) : 0);
}

void argocd_str_addf(argocd_str *s, const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof buf) {
        s->failed = 1; /* callers format short, bounded pieces only */
        return;
    }
    str_addn(s, buf, (size_t)n);
}

void argocd_str_add_json(argocd_str *s, const char *text)
{
    str_addn(s, "\"", 1);
    for (const unsigned char *p = (const unsigned char *)(text ? text : ""); *p; p++) {
        if (*p == '"' || *p == '\\') {
            char esc[2] = {'\\', (char)*p};
            str_addn(s, esc, 2);
        } else if (*p < 0x20) {
            char esc[8];
            snprintf(esc, sizeof esc, "\\u%04x", *p);
            str_addn(s, esc, 6);
        } else {
            str_addn(s, (const char *)p, 1);
        }
    }
    str_addn(s, "\"", 1);
}

void argocd_str_free(argocd_str *s)
{
    free(s->p);
    memset(s, 0, sizeof *s);
}

char *argocd_strdup(const char *s)
{
    if (s == NULL)
        return NULL;
    size_t n = strlen(s) + 1;
    char *copy = malloc(n);
    if (copy)
        memcpy(copy, s, n);
    return copy;
}

static int read_digits(const char **p, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++, (*p)++) {
        if (**p < '0' || **p > '9')
            return -1;
        v = v * 10 + (**p - '0');
    }
    *out = v;
    return 0;
}

static int expect(const char **p, char c)
{
    if (**p != c)
        return -1;
    (*p)++;
    return 0;
}

int64_t argocd_parse_time_ms(const char *text)
{
    if (text == NULL || text[0] == '\0')
        return 0;
    const char *p = text;
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    int y, mo, d, h, mi, s;
    if (read_digits(&p, 4, &y) || expect(&p, '-') || read_digits(&p, 2, &mo) ||
        expect(&p, '-') || read_digits(&p, 2, &d))
        return 0;
    if (*p != 'T' && *p != 't')
        return 0;
    p++;
    if (read_digits(&p, 2, &h) || expect(&p, ':') || read_digits(&p, 2, &mi) ||
        expect(&p, ':') || read_digits(&p, 2, &s))
        return 0;
    if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60)
        return 0;
    int64_t ms = 0;
    if (*p == '.') {
        p++;
        int64_t scale = 100;
        if (*p < '0' || *p > '9')
            return 0;
        for (; *p >= '0' && *p <= '9'; p++, scale /= 10)
            ms += (*p - '0') * scale;
    }
    int64_t offset_s = 0;
    if (*p == 'Z' || *p == 'z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        int sign = *p == '-' ? -1 : 1, oh, om;
        p++;
        if (read_digits(&p, 2, &oh) || expect(&p, ':') || read_digits(&p, 2, &om))
            return 0;
        offset_s = sign * (int64_t)(oh * 3600 + om * 60);
    } else {
        return 0;
    }
    if (*p != '\0')
        return 0;
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = s;
    time_t t = timegm(&tm);
    if (t == (time_t)-1)
        return 0;
    return ((int64_t)t - offset_s) * 1000 + ms;
}

void argocd_format_time(int64_t unix_ms, char *out, size_t cap)
{
    time_t t = (time_t)(unix_ms / 1000);
    struct tm tm;
    if (cap == 0)
        return;
    if (unix_ms <= 0 || gmtime_r(&t, &tm) == NULL ||
        strftime(out, cap, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
        snprintf(out, cap, "(unknown)");
}

void argocd_printable_copy(const char *in, size_t len, char *out, size_t cap)
{
    size_t o = 0;
    int space = 0;
    if (cap == 0)
        return;
    for (size_t i = 0; in && i < len && o + 1 < cap; i++) {
        unsigned char c = (unsigned char)in[i];
        if (c <= 0x20 || c >= 0x7f) {
            space = o > 0;
            continue;
        }
        if (space && o + 2 < cap)
            out[o++] = ' ';
        space = 0;
        out[o++] = (char)c;
    }
    out[o] = '\0';
}
