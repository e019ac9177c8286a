/*
 * config/reference.h — ${env:NAME} and ${file:/path} references in config
 * strings.
 *
 * Contract: sb_cfg_expand replaces every reference in `text` and returns
 * the result in secure memory (release with sb_secure_release), because a
 * reference usually points at a secret. `$${` writes a literal `${`.
 * A file reference must be absolute; its content is read whole (at most
 * 64 KiB) and one trailing newline is dropped. Errors say which reference
 * failed and why, never what it resolved to.
 */
#ifndef SB_CONFIG_REFERENCE_H
#define SB_CONFIG_REFERENCE_H

#include <stddef.h>

#include "util/error.h"

#define SB_REFERENCE_FILE_MAX (64u * 1024)

int sb_cfg_expand(const char *text, char **out, size_t *out_len, int *used_reference,
                  sb_error *err);

#endif
