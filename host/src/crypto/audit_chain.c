/* crypto/audit_chain.c — see audit_chain.h. */
#include "crypto/audit_chain.h"

#include <sodium.h>
#include <string.h>

static void put_u32(crypto_auth_hmacsha256_state *st, uint32_t v)
{
    unsigned char b[4] = {(unsigned char)(v >> 24), (unsigned char)(v >> 16), (unsigned char)(v >> 8),
                          (unsigned char)v};
    crypto_auth_hmacsha256_update(st, b, sizeof b);
}

static void put_field(crypto_auth_hmacsha256_state *st, const char *s)
{
    if (s == NULL) {
        put_u32(st, 0xFFFFFFFFu);
        return;
    }
    size_t n = strlen(s);
    put_u32(st, (uint32_t)n);
    crypto_auth_hmacsha256_update(st, (const unsigned char *)s, n);
}

static void put_i64(crypto_auth_hmacsha256_state *st, int64_t v)
{
    uint64_t u = (uint64_t)v;
    put_u32(st, 8);
    put_u32(st, (uint32_t)(u >> 32));
    put_u32(st, (uint32_t)u);
}

void sb_audit_chain_link(const unsigned char key[SB_AUDIT_KEY_BYTES],
                         const unsigned char prev[SB_AUDIT_HASH_BYTES], const sb_audit_fields *e,
                         unsigned char out[SB_AUDIT_HASH_BYTES])
{
    static const char domain[] = "sbridge.audit.v1";
    crypto_auth_hmacsha256_state st;
    crypto_auth_hmacsha256_init(&st, key, SB_AUDIT_KEY_BYTES);
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)domain, sizeof domain - 1);
    crypto_auth_hmacsha256_update(&st, prev, SB_AUDIT_HASH_BYTES);
    put_i64(&st, e->id);
    put_i64(&st, e->chain_seq);
    put_field(&st, e->occurred_at);
    put_field(&st, e->actor);
    put_field(&st, e->action);
    put_field(&st, e->resource);
    put_field(&st, e->outcome);
    put_field(&st, e->severity);
    put_field(&st, e->correlation_id);
    put_field(&st, e->request_id);
    put_field(&st, e->remote_ip);
    put_field(&st, e->details);
    crypto_auth_hmacsha256_final(&st, out);
    sodium_memzero(&st, sizeof st);
}

int sb_audit_chain_equal(const unsigned char a[SB_AUDIT_HASH_BYTES], const unsigned char b[SB_AUDIT_HASH_BYTES])
{
    return sodium_memcmp(a, b, SB_AUDIT_HASH_BYTES) == 0;
}
