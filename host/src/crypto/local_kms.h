/*
 * crypto/local_kms.h — the built-in "local" KMS backend: XChaCha20-Poly1305
 * (libsodium secretbox) under a key derived from a 32-byte master key.
 *
 * Contract: for development only — the control plane refuses it outside
 * dev mode (the key sits beside the database it protects). The key id is
 * "local:" + the first 8 bytes of BLAKE2b(key) in hex, so a ciphertext made
 * under another master key is refused by id before any decryption is tried.
 * Ciphertext = 24-byte nonce || secretbox output. The derived key lives in
 * secure memory; the master key is not kept.
 */
#ifndef SB_CRYPTO_LOCAL_KMS_H
#define SB_CRYPTO_LOCAL_KMS_H

#include "crypto/kms.h"

/* A new local KMS keyed from master (32 bytes); NULL on allocation failure. */
sb_kms *sb_local_kms_open(const unsigned char master[32]);

#endif
