/*
 * util/redact.c — secure-region and secret-string registry, and the
 * redacting printf. See redact.h for the contract.
 */
#include "util/redact.h"

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct region {
    uintptr_t start, end;
} region;

typedef struct secret_ref {
    const char *s;
    size_t len;
} secret_ref;

static pthread_rwlock_t registry_lock = PTHREAD_RWLOCK_INITIALIZER;
static region *regions;
static size_t n_regions, cap_regions;
static secret_ref *secrets;
static size_t n_secrets, cap_secrets;

/* Regions are kept sorted by start so lookups are a binary search. */
static size_t region_lower_bound(uintptr_t addr)
{
    size_t lo = 0, hi = n_regions;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (regions[mid].start < addr)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

void sb_redact_register_region(const void *start, size_t len)
{
    if (start == NULL || len == 0)
        return;
    pthread_rwlock_wrlock(&registry_lock);
    if (n_regions == cap_regions) {
        size_t ncap = cap_regions ? cap_regions * 2 : 64;
        region *n = realloc(regions, ncap * sizeof *n);
        if (n == NULL) {
            /* Cannot track it: fail closed by aborting is worse than a
             * missed redaction of a region whose string also gets scrubbed;
             * keep going. */
            pthread_rwlock_unlock(&registry_lock);
            return;
        }
        regions = n;
        cap_regions = ncap;
    }
    uintptr_t a = (uintptr_t)start;
    size_t i = region_lower_bound(a);
    memmove(&regions[i + 1], &regions[i], (n_regions - i) * sizeof *regions);
    regions[i].start = a;
    regions[i].end = a + len;
    n_regions++;
    pthread_rwlock_unlock(&registry_lock);
}

void sb_redact_unregister_region(const void *start)
{
    uintptr_t a = (uintptr_t)start;
    pthread_rwlock_wrlock(&registry_lock);
    size_t i = region_lower_bound(a);
    if (i < n_regions && regions[i].start == a) {
        memmove(&regions[i], &regions[i + 1], (n_regions - i - 1) * sizeof *regions);
        n_regions--;
    }
    pthread_rwlock_unlock(&registry_lock);
}

int sb_redact_in_region(const void *p)
{
    uintptr_t a = (uintptr_t)p;
    int found = 0;
    pthread_rwlock_rdlock(&registry_lock);
    size_t i = region_lower_bound(a + 1); /* first region starting after a */
    if (i > 0 && regions[i - 1].start <= a && a < regions[i - 1].end)
        found = 1;
    pthread_rwlock_unlock(&registry_lock);
    return found;
}

int sb_redact_register_secret(const char *s, size_t len)
{
    if (s == NULL || len < 4)
        return -1;
    pthread_rwlock_wrlock(&registry_lock);
    if (n_secrets == cap_secrets) {
        size_t ncap = cap_secrets ? cap_secrets * 2 : 16;
        secret_ref *n = realloc(secrets, ncap * sizeof *n);
        if (n == NULL) {
            pthread_rwlock_unlock(&registry_lock);
            return -1;
        }
        secrets = n;
        cap_secrets = ncap;
    }
    secrets[n_secrets].s = s;
    secrets[n_secrets].len = len;
    n_secrets++;
    pthread_rwlock_unlock(&registry_lock);
    return 0;
}

void sb_redact_unregister_secret(const char *s)
{
    pthread_rwlock_wrlock(&registry_lock);
    for (size_t i = 0; i < n_secrets; i++) {
        if (secrets[i].s == s) {
            secrets[i] = secrets[--n_secrets];
            break;
        }
    }
    pthread_rwlock_unlock(&registry_lock);
}

/* Rewrites buf replacing every occurrence of needle by the mark. */
static void scrub_one(char *buf, size_t cap, const char *needle, size_t nlen)
{
    static const char mark[] = SB_REDACTED;
    if (memmem(buf, strlen(buf), needle, nlen) == NULL)
        return;
    char *tmp = malloc(cap);
    if (tmp == NULL) { /* cannot rewrite: drop the whole text, fail closed */
        snprintf(buf, cap, "%s", mark);
        return;
    }
    size_t w = 0;
    for (const char *r = buf; *r && w + 1 < cap;) {
        if (strncmp(r, needle, nlen) == 0) {
            for (size_t i = 0; mark[i] && w + 1 < cap; i++)
                tmp[w++] = mark[i];
            r += nlen;
        } else {
            tmp[w++] = *r++;
        }
    }
    tmp[w] = '\0';
    memcpy(buf, tmp, w + 1);
    free(tmp);
}

/* A text cut short may end with the beginning of a secret: cut that too. */
static void scrub_tail_prefix(char *buf, size_t cap, const char *needle, size_t nlen)
{
    size_t len = strlen(buf);
    for (size_t k = nlen - 1; k >= 4; k--) {
        if (k <= len && memcmp(buf + len - k, needle, k) == 0) {
            buf[len - k] = '\0';
            if (len - k + sizeof SB_REDACTED <= cap)
                memcpy(buf + len - k, SB_REDACTED, sizeof SB_REDACTED);
            return;
        }
    }
}

void sb_redact_scrub(char *buf, size_t cap)
{
    if (buf == NULL || cap == 0)
        return;
    pthread_rwlock_rdlock(&registry_lock);
    for (size_t k = 0; k < n_secrets; k++)
        scrub_one(buf, cap, secrets[k].s, secrets[k].len);
    pthread_rwlock_unlock(&registry_lock);
}

static void scrub_truncated(char *buf, size_t cap)
{
    pthread_rwlock_rdlock(&registry_lock);
    for (size_t k = 0; k < n_secrets; k++)
        scrub_tail_prefix(buf, cap, secrets[k].s, secrets[k].len);
    pthread_rwlock_unlock(&registry_lock);
}

/* ---- the formatter -------------------------------------------------------- */

typedef struct outbuf {
    char *p;
    size_t cap, len;
    int truncated;
} outbuf;

static void out_put(outbuf *o, const char *s, size_t n)
{
    if (o->cap == 0)
        return;
    size_t room = o->cap - 1 - o->len;
    if (n > room) {
        n = room;
        o->truncated = 1;
    }
    memcpy(o->p + o->len, s, n);
    o->len += n;
    o->p[o->len] = '\0';
}

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
/* Formats one conversion whose spec (without length modifier) is in `spec`. */
static void put_conversion(outbuf *o, const char *spec, char conv, const char *len,
                           int width, int prec, int has_width_star,
                           int has_prec_star, va_list *ap)
{
    char tmp[128];
    char full[32];
    int n = 0;
    snprintf(full, sizeof full, "%s%s%c", spec, len, conv);
#define EMIT(T)                                                                \
    do {                                                                       \
        T v = va_arg(*ap, T);                                                  \
        if (has_width_star && has_prec_star)                                   \
            n = snprintf(tmp, sizeof tmp, full, width, prec, v);               \
        else if (has_width_star)                                               \
            n = snprintf(tmp, sizeof tmp, full, width, v);                     \
        else if (has_prec_star)                                                \
            n = snprintf(tmp, sizeof tmp, full, prec, v);                      \
        else                                                                   \
            n = snprintf(tmp, sizeof tmp, full, v);                            \
    } while (0)
    switch (conv) {
    case 'd': case 'i':
        if (!strcmp(len, "ll")) EMIT(long long);
        else if (!strcmp(len, "l")) EMIT(long);
        else if (!strcmp(len, "z")) EMIT(ssize_t);
        else if (!strcmp(len, "j")) EMIT(intmax_t);
        else if (!strcmp(len, "t")) EMIT(ptrdiff_t);
        else EMIT(int);
        break;
    case 'u': case 'x': case 'X': case 'o':
        if (!strcmp(len, "ll")) EMIT(unsigned long long);
        else if (!strcmp(len, "l")) EMIT(unsigned long);
        else if (!strcmp(len, "z")) EMIT(size_t);
        else if (!strcmp(len, "j")) EMIT(uintmax_t);
        else if (!strcmp(len, "t")) EMIT(ptrdiff_t);
        else EMIT(unsigned int);
        break;
    case 'c':
        EMIT(int);
        break;
    case 'p':
        EMIT(void *);
        break;
    case 'e': case 'E': case 'f': case 'F': case 'g': case 'G': case 'a': case 'A':
        if (!strcmp(len, "L")) EMIT(long double);
        else EMIT(double);
        break;
    default:
        return;
    }
#undef EMIT
    if (n > 0)
        out_put(o, tmp, (size_t)n < sizeof tmp ? (size_t)n : sizeof tmp - 1);
}
#pragma GCC diagnostic pop

static void put_string(outbuf *o, const char *s, int width, int prec, int left)
{
    if (s == NULL)
        s = "(null)";
    else if (sb_redact_in_region(s))
        s = SB_REDACTED, prec = -1;
    size_t n = prec >= 0 ? strnlen(s, (size_t)prec) : strlen(s);
    size_t pad = width > 0 && (size_t)width > n ? (size_t)width - n : 0;
    if (!left)
        for (size_t i = 0; i < pad; i++)
            out_put(o, " ", 1);
    out_put(o, s, n);
    if (left)
        for (size_t i = 0; i < pad; i++)
            out_put(o, " ", 1);
}

#define SCRATCH_MAX 16384

size_t sb_redact_vformat(char *out, size_t cap, const char *fmt, va_list ap_in)
{
    /* Format into a scratch larger than most messages, scrub, then copy:
     * a secret is scrubbed whole before any truncation can split it. */
    char scratch[SCRATCH_MAX];
    outbuf o = {scratch, sizeof scratch, 0, 0};
    va_list ap;
    va_copy(ap, ap_in);
    scratch[0] = '\0';
    for (const char *f = fmt; *f;) {
        if (*f != '%') {
            const char *next = strchr(f, '%');
            size_t n = next ? (size_t)(next - f) : strlen(f);
            out_put(&o, f, n);
            f += n;
            continue;
        }
        const char *start = f++;
        if (*f == '%') {
            out_put(&o, "%", 1);
            f++;
            continue;
        }
        char spec[24];
        size_t sl = 0;
        spec[sl++] = '%';
        int left = 0, width = -1, prec = -1, wstar = 0, pstar = 0;
        while (*f && strchr("-+ #0'", *f)) {
            if (*f == '-')
                left = 1;
            if (sl < 8)
                spec[sl++] = *f;
            f++;
        }
        if (*f == '*') {
            wstar = 1;
            width = va_arg(ap, int);
            if (width < 0)
                left = 1, width = -width;
            spec[sl++] = '*';
            f++;
        } else {
            int w = 0, any = 0;
            while (*f >= '0' && *f <= '9') {
                if (w < 100000)
                    w = w * 10 + (*f - '0');
                if (sl < 16)
                    spec[sl++] = *f;
                f++, any = 1;
            }
            if (any)
                width = w;
        }
        if (*f == '.') {
            spec[sl++] = '.';
            f++;
            if (*f == '*') {
                pstar = 1;
                prec = va_arg(ap, int);
                spec[sl++] = '*';
                f++;
            } else {
                int p = 0;
                while (*f >= '0' && *f <= '9') {
                    if (p < 100000)
                        p = p * 10 + (*f - '0');
                    if (sl < 22)
                        spec[sl++] = *f;
                    f++;
                }
                prec = p;
            }
        }
        spec[sl] = '\0';
        char len[3] = {0};
        if ((f[0] == 'h' && f[1] == 'h') || (f[0] == 'l' && f[1] == 'l')) {
            len[0] = f[0], len[1] = f[1];
            f += 2;
        } else if (*f && strchr("hlzjtL", *f)) {
            len[0] = *f++;
        }
        char conv = *f;
        if (conv == '\0') { /* dangling '%': print it literally */
            out_put(&o, start, strlen(start));
            break;
        }
        f++;
        if (conv == 's') {
            put_string(&o, va_arg(ap, const char *), width, prec, left);
        } else if (conv == 'n') {
            (void)va_arg(ap, void *); /* never write through a format */
        } else if (strchr("diuxXocpeEfFgGaA", conv)) {
            /* hh/h arguments arrive promoted to int; printf narrows them. */
            put_conversion(&o, spec, conv, len, width, prec, wstar, pstar, &ap);
        } else {
            out_put(&o, start, (size_t)(f - start)); /* unknown: literal */
        }
    }
    va_end(ap);
    sb_redact_scrub(scratch, sizeof scratch);
    if (cap == 0)
        return 0;
    size_t n = strlen(scratch);
    if (n >= cap) {
        n = cap - 1;
        o.truncated = 1;
    }
    memcpy(out, scratch, n);
    out[n] = '\0';
    if (o.truncated) {
        scrub_truncated(out, cap); /* the cut may have left a secret's start */
        size_t l = strlen(out);
        if (l + 4 > cap && cap >= 4)
            l = cap - 4;
        if (cap >= 4)
            memcpy(out + l, "...", 4);
    }
    return strlen(out);
}

size_t sb_redact_format(char *out, size_t cap, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    size_t n = sb_redact_vformat(out, cap, fmt, ap);
    va_end(ap);
    return n;
}
