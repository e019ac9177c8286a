/* crypto/secure_mem.c — see secure_mem.h. */
#include "crypto/secure_mem.h"

#include <sodium.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/redact.h"

static atomic_long live_allocations;

long sb_secure_live_allocations(void) { return atomic_load(&live_allocations); }

int sb_crypto_init(void) { return sodium_init() < 0 ? -1 : 0; }

void *sb_secure_alloc(size_t n)
{
    if (n == 0)
        n = 1;
    void *p = sodium_malloc(n);
    if (p == NULL)
        return NULL;
    memset(p, 0, n); /* sodium_malloc fills with 0xdb; callers expect zero */
    sb_redact_register_region(p, n);
    atomic_fetch_add(&live_allocations, 1);
    return p;
}

void sb_secure_release(void *p)
{
    if (p == NULL)
        return;
    sb_redact_unregister_region(p);
    sodium_free(p); /* zeroes before unmapping */
    atomic_fetch_sub(&live_allocations, 1);
}

sb_secure_buf *sb_secure_new(size_t capacity_hint)
{
    sb_secure_buf *b = calloc(1, sizeof *b);
    if (b == NULL)
        return NULL;
    b->cap = capacity_hint ? capacity_hint : 64;
    b->data = sb_secure_alloc(b->cap + 1);
    if (b->data == NULL) {
        free(b);
        return NULL;
    }
    return b;
}

static int reserve(sb_secure_buf *b, size_t extra)
{
    if (extra > SIZE_MAX / 2 - b->len)
        return -1;
    if (b->len + extra <= b->cap)
        return 0;
    size_t ncap = b->cap * 2;
    if (ncap < b->len + extra)
        ncap = b->len + extra;
    unsigned char *n = sb_secure_alloc(ncap + 1);
    if (n == NULL)
        return -1;
    memcpy(n, b->data, b->len);
    sb_secure_release(b->data);
    b->data = n;
    b->cap = ncap;
    return 0;
}

int sb_secure_append(sb_secure_buf *b, const void *data, size_t len)
{
    if (b == NULL || (data == NULL && len > 0))
        return -1;
    if (len == 0)
        return 0;
    if (reserve(b, len) != 0)
        return -1;
    memcpy(b->data + b->len, data, len);
    b->len += len;
    b->data[b->len] = '\0';
    return 0;
}

int sb_secure_append_json_string(sb_secure_buf *b, const char *s, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    if (b == NULL || (s == NULL && len > 0))
        return -1;
    /* Worst case every byte becomes \u00XX. */
    if (len > SIZE_MAX / 8 || reserve(b, len * 6 + 2) != 0)
        return -1;
    unsigned char *o = b->data + b->len;
    *o++ = '"';
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\') {
            *o++ = '\\';
            *o++ = c;
        } else if (c == '\n') {
            *o++ = '\\', *o++ = 'n';
        } else if (c == '\r') {
            *o++ = '\\', *o++ = 'r';
        } else if (c == '\t') {
            *o++ = '\\', *o++ = 't';
        } else if (c < 0x20) {
            *o++ = '\\', *o++ = 'u', *o++ = '0', *o++ = '0';
            *o++ = (unsigned char)hex[c >> 4];
            *o++ = (unsigned char)hex[c & 15];
        } else {
            *o++ = c;
        }
    }
    *o++ = '"';
    b->len = (size_t)(o - b->data);
    b->data[b->len] = '\0';
    return 0;
}

const unsigned char *sb_secure_data(const sb_secure_buf *b, size_t *len)
{
    if (b == NULL) {
        if (len)
            *len = 0;
        return NULL;
    }
    if (len)
        *len = b->len;
    return b->data;
}

void sb_secure_clear(sb_secure_buf *b)
{
    if (b == NULL)
        return;
    sodium_memzero(b->data, b->cap + 1);
    b->len = 0;
}

void sb_secure_free(sb_secure_buf *b)
{
    if (b == NULL)
        return;
    sb_secure_release(b->data);
    free(b);
}

char *sb_secure_strdup(const char *s, size_t len)
{
    char *p = sb_secure_alloc(len + 1);
    if (p != NULL && len > 0)
        memcpy(p, s, len);
    return p;
}
