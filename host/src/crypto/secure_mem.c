/* crypto/secure_mem.c — see secure_mem.h. */
#include "crypto/secure_mem.h"

#include <pthread.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/redact.h"

static atomic_long live_allocations;

long sb_secure_live_allocations(void) { return atomic_load(&live_allocations); }

int sb_crypto_init(void) { return sodium_init() < 0 ? -1 : 0; }

/* ---- the pool of released regions ------------------------------------------
 * sodium_malloc/sodium_free cost about eight system calls each (mmap, guard
 * page mprotects, mlock, and back). A released region of a pooled size
 * class is zeroed and kept for the next allocation of that class instead:
 * its guard pages, its mlock and its place in the redaction registry stay;
 * its bytes are zero, as after sodium_free. Requests round up to a power of
 * two (64 B to 256 KiB); larger ones are never pooled. At most POOL_PER_CLASS
 * regions per class and POOL_MAX_BYTES in all are kept (mlock budgets are
 * small). Sanitizer builds do not pool: there a use after release must hit
 * an unmapped page. */
#if defined(__SANITIZE_ADDRESS__)
#define SB_SECURE_POOL 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SB_SECURE_POOL 0
#endif
#endif
#ifndef SB_SECURE_POOL
#define SB_SECURE_POOL 1
#endif

#define POOL_MIN_SHIFT 6
#define POOL_MAX_SHIFT 18
#define POOL_CLASSES (POOL_MAX_SHIFT - POOL_MIN_SHIFT + 1)
#define POOL_PER_CLASS 16
#define POOL_MAX_BYTES (2u << 20)

static struct {
    pthread_mutex_t mu;
    void *free[POOL_CLASSES][POOL_PER_CLASS];
    size_t n[POOL_CLASSES];
    size_t bytes;
} pool = {.mu = PTHREAD_MUTEX_INITIALIZER};

/* The class of a request (its region is 1 << (class + POOL_MIN_SHIFT)), or -1. */
static int size_class(size_t n)
{
    if (!SB_SECURE_POOL || n > ((size_t)1 << POOL_MAX_SHIFT))
        return -1;
    int c = 0;
    while (((size_t)1 << (c + POOL_MIN_SHIFT)) < n)
        c++;
    return c;
}

static size_t class_bytes(int c) { return (size_t)1 << (c + POOL_MIN_SHIFT); }

int sb_secure_pooling(void) { return SB_SECURE_POOL; }

static void *pool_take(int c)
{
    void *p = NULL;
    pthread_mutex_lock(&pool.mu);
    if (pool.n[c] > 0) {
        p = pool.free[c][--pool.n[c]];
        pool.bytes -= class_bytes(c);
    }
    pthread_mutex_unlock(&pool.mu);
    return p;
}

/* 1 when the (already zeroed) region was kept. */
static int pool_keep(void *p, int c)
{
    int kept = 0;
    pthread_mutex_lock(&pool.mu);
    if (pool.n[c] < POOL_PER_CLASS && pool.bytes + class_bytes(c) <= POOL_MAX_BYTES) {
        pool.free[c][pool.n[c]++] = p;
        pool.bytes += class_bytes(c);
        kept = 1;
    }
    pthread_mutex_unlock(&pool.mu);
    return kept;
}

/* Each region starts with a header holding its usable size (sodium does not
 * tell it back); callers get the bytes after it, 16-byte aligned. */
#define HEADER 16

void *sb_secure_alloc(size_t n)
{
    if (n == 0)
        n = 1;
    int c = size_class(n);
    size_t size = c >= 0 ? class_bytes(c) : n;
    unsigned char *user = c >= 0 ? pool_take(c) : NULL; /* zero and registered */
    if (user == NULL) {
        if (size > SIZE_MAX - HEADER)
            return NULL;
        unsigned char *region = sodium_malloc(HEADER + size);
        if (region == NULL)
            return NULL;
        memset(region, 0, HEADER + size); /* sodium_malloc fills with 0xdb */
        memcpy(region, &size, sizeof size);
        user = region + HEADER;
        sb_redact_register_region(user, size);
    }
    atomic_fetch_add(&live_allocations, 1);
    return user;
}

void sb_secure_release(void *p)
{
    if (p == NULL)
        return;
    unsigned char *region = (unsigned char *)p - HEADER;
    size_t size;
    memcpy(&size, region, sizeof size);
    atomic_fetch_sub(&live_allocations, 1);
    int c = size_class(size);
    if (c >= 0 && class_bytes(c) == size) {
        sodium_memzero(p, size);
        if (pool_keep(p, c))
            return;
    }
    sb_redact_unregister_region(p);
    sodium_free(region); /* zeroes before unmapping */
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

sb_secure_buf *sb_plain_new(size_t capacity_hint)
{
    sb_secure_buf *b = calloc(1, sizeof *b);
    if (b == NULL)
        return NULL;
    b->cap = capacity_hint ? capacity_hint : 64;
    b->plain = 1;
    if ((b->data = calloc(1, b->cap + 1)) == NULL) {
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
    if (b->plain) {
        unsigned char *grown = realloc(b->data, ncap + 1);
        if (grown == NULL)
            return -1;
        b->data = grown;
        b->cap = ncap;
        return 0;
    }
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
    if (b->plain)
        free(b->data);
    else
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
