/*
 * crypto/secure_mem.h — memory for secret bytes.
 *
 * Contract: every byte of a secret value, token or key that the host holds
 * lives in memory from this module: libsodium's guarded allocations (guard
 * pages, mlock where the system allows it), registered with the redaction
 * registry so no log line or message can print it, and zeroed before it is
 * released. sb_crypto_init() must run once before any allocation. A
 * released region of up to 256 KiB may be kept, zeroed, in a small pool for
 * the next allocation of its size class (secure_mem.c): it stays guarded,
 * locked and registered as secure memory meanwhile.
 *
 * sb_secure_buf is the growable buffer of the plugin ABI (the same type the
 * header declares opaque); growth copies into a fresh region and zeroes the
 * old one, so no stale copy survives.
 *
 * sb_plain_new makes a buffer of the same type in ordinary heap memory, for
 * bytes the host knows carry no secret (a provider's LIST answer: names
 * only; plugin/http_client.c): no guard pages, mlock or registration, and it
 * grows in place. Every other function treats both kinds alike;
 * sb_secure_free frees either.
 */
#ifndef SB_CRYPTO_SECURE_MEM_H
#define SB_CRYPTO_SECURE_MEM_H

#include <stddef.h>

int sb_crypto_init(void);

/* Raw secure region of n bytes (zero-filled); NULL on failure. */
void *sb_secure_alloc(size_t n);
void sb_secure_release(void *p); /* zeroes; NULL ok */
/* Live secure allocations (for leak checks across the plugin ABI). */
long sb_secure_live_allocations(void);
/* 1 when released regions are pooled (not in sanitizer builds). */
int sb_secure_pooling(void);

typedef struct sb_secure_buf sb_secure_buf;
struct sb_secure_buf {
    unsigned char *data; /* secure region of cap+1 bytes, NUL after len */
    size_t len, cap;
    int plain; /* 1: ordinary heap memory (sb_plain_new) */
};

sb_secure_buf *sb_secure_new(size_t capacity_hint);
sb_secure_buf *sb_plain_new(size_t capacity_hint);
int sb_secure_append(sb_secure_buf *buf, const void *data, size_t len);
int sb_secure_append_json_string(sb_secure_buf *buf, const char *s, size_t len);
const unsigned char *sb_secure_data(const sb_secure_buf *buf, size_t *len);
void sb_secure_clear(sb_secure_buf *buf);
void sb_secure_free(sb_secure_buf *buf);
/* A NUL-terminated copy of s in secure memory; release with sb_secure_release. */
char *sb_secure_strdup(const char *s, size_t len);

#endif
