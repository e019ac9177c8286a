/*
 * agent/identity.h — the agent's enrolled identity and the file that keeps
 * it across restarts.
 *
 * Contract:
 *   - The identity is {agent_id, connection, credential, X25519 key pair}.
 *     The credential ("<agent id>.<sba_ secret>") and the private key live
 *     only in sodium_malloc memory (crypto/secure_mem.h), zeroed on free.
 *   - The file is JSON {"version":1, "agent_id", "connection",
 *     "control_plane", "credential", "public_key", "private_key"} (keys as
 *     standard base64). It must be a regular file (not a symlink) owned by
 *     this user with mode 0600 or narrower, in a directory owned by this user
 *     with mode 0700 or narrower; anything wider is refused with the path,
 *     the mode found and the chmod that fixes it. A missing directory is
 *     created 0700 (its parent must exist).
 *   - sb_agent_identity_save writes a temporary file (0600) in the same
 *     directory, fsyncs it, renames it over the path and fsyncs the
 *     directory: a crash leaves the old file or the new one, never half.
 *   - Errors name the path and say how to fix it; they never contain the
 *     credential or the key.
 */
#ifndef SB_AGENT_IDENTITY_H
#define SB_AGENT_IDENTITY_H

#include <stddef.h>

#include "util/error.h"

#define SB_AGENT_ID_MAX 64
#define SB_AGENT_KEY_BYTES 32

typedef struct sb_agent_identity {
    char agent_id[SB_AGENT_ID_MAX];
    char connection[128];
    char *credential;           /* secure memory */
    unsigned char *secret_key;  /* secure memory, 32 bytes */
    unsigned char public_key[SB_AGENT_KEY_BYTES];
} sb_agent_identity;

/* Checks the directory holding path (creates it 0700 when missing). */
int sb_agent_identity_check_dir(const char *path, sb_error *err);
/* 0 loaded, 1 no file (first boot), -1 error (wrong mode, unreadable, corrupt). */
int sb_agent_identity_load(const char *path, sb_agent_identity *id, sb_error *err);
int sb_agent_identity_save(const char *path, const char *control_plane, const sb_agent_identity *id,
                           sb_error *err);
/* A fresh key pair into id (allocating its secure key). */
int sb_agent_identity_new_keys(sb_agent_identity *id, sb_error *err);
void sb_agent_identity_free(sb_agent_identity *id);

#endif
