/*
 * crypto/audit_chain.h — the keyed hash chain over audit events (I5).
 *
 * Contract: an event's link is
 *     hash = HMAC-SHA256(key, "sbridge.audit.v1" || prev_hash || encode(event))
 * where prev_hash is the previous link (32 zero bytes for the first) and
 * encode() writes every field as a 4-byte big-endian length followed by its
 * bytes, in a fixed order (absent fields have length 0xFFFFFFFF), so no two
 * different events encode alike. The key never reaches the database, so
 * someone able to rewrite rows cannot recompute a valid chain. Comparisons
 * are constant time.
 */
#ifndef SB_CRYPTO_AUDIT_CHAIN_H
#define SB_CRYPTO_AUDIT_CHAIN_H

#include <stddef.h>
#include <stdint.h>

#define SB_AUDIT_HASH_BYTES 32
#define SB_AUDIT_KEY_BYTES 32

typedef struct sb_audit_fields {
    int64_t id;
    int64_t chain_seq;
    const char *occurred_at; /* as stored, canonical text (UTC, microseconds) */
    const char *actor, *action, *resource, *outcome, *severity;
    const char *correlation_id, *request_id, *remote_ip;
    const char *details; /* jsonb canonical text */
} sb_audit_fields;

void sb_audit_chain_link(const unsigned char key[SB_AUDIT_KEY_BYTES],
                         const unsigned char prev[SB_AUDIT_HASH_BYTES], const sb_audit_fields *event,
                         unsigned char out[SB_AUDIT_HASH_BYTES]);
/* Constant-time: 1 when equal. */
int sb_audit_chain_equal(const unsigned char a[SB_AUDIT_HASH_BYTES],
                         const unsigned char b[SB_AUDIT_HASH_BYTES]);

#endif
