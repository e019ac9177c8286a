/*
 * plugins/shared/secure_b64.h — base64 straight into and out of the host's
 * secure buffers, so a payload never passes through ordinary heap on its way
 * to or from a provider's JSON (GCP payload.data, AWS SecretBinary, Azure
 * certificates). Encoding uses the standard alphabet with padding; decoding
 * accepts the standard and the URL-safe alphabets, padding optional, and
 * refuses anything else (-1). Scratch bytes are zeroed.
 */
#ifndef SB_PLUGINS_SHARED_SECURE_B64_H
#define SB_PLUGINS_SHARED_SECURE_B64_H

#include <sbridge/plugin.h>
#include <stddef.h>

/* 0, or -1 when the buffer could not grow. */
int sbp_b64_encode_secure(const sb_host_api *host, sb_secure_buf *out, const unsigned char *in,
                          size_t len);
/* 0, or -1 on invalid input or when the buffer could not grow. */
int sbp_b64_decode_secure(const sb_host_api *host, sb_secure_buf *out, const char *in,
                          size_t len);

#endif
