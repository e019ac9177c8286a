/* plugins/shared/secure_b64.c — see secure_b64.h. */
#include "secure_b64.h"

#include <string.h>

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int sbp_b64_encode_secure(const sb_host_api *host, sb_secure_buf *out, const unsigned char *in,
                          size_t len)
{
    char quad[4];
    int rc = 0;
    for (size_t i = 0; i < len && rc == 0; i += 3) {
        unsigned v = (unsigned)in[i] << 16;
        if (i + 1 < len)
            v |= (unsigned)in[i + 1] << 8;
        if (i + 2 < len)
            v |= in[i + 2];
        quad[0] = b64[(v >> 18) & 63];
        quad[1] = b64[(v >> 12) & 63];
        quad[2] = i + 1 < len ? b64[(v >> 6) & 63] : '=';
        quad[3] = i + 2 < len ? b64[v & 63] : '=';
        rc = host->secure_append(out, quad, 4);
    }
    memset(quad, 0, sizeof quad);
    return rc;
}

static int b64_value(char c)
{
    if (c == '-')
        return 62;
    if (c == '_')
        return 63;
    const char *p = c ? strchr(b64, c) : NULL;
    return p ? (int)(p - b64) : -1;
}

int sbp_b64_decode_secure(const sb_host_api *host, sb_secure_buf *out, const char *in,
                          size_t len)
{
    unsigned char tri[3];
    unsigned v = 0;
    int bits = 0, rc = 0;
    size_t n = 0, pad = 0, digits = 0;
    for (size_t i = 0; i < len && rc == 0; i++) {
        if (in[i] == '=') {
            pad++;
            continue;
        }
        int d = b64_value(in[i]);
        if (d < 0 || pad) {
            rc = -1;
            break;
        }
        digits++;
        v = (v << 6) | (unsigned)d;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            tri[n++] = (unsigned char)(v >> bits);
            v &= (1u << bits) - 1;
            if (n == 3) {
                rc = host->secure_append(out, tri, 3);
                n = 0;
            }
        }
    }
    if (rc == 0 && n > 0)
        rc = host->secure_append(out, tri, n);
    if (rc == 0 && (pad > 2 || digits % 4 == 1 || (pad && (digits + pad) % 4 != 0)))
        rc = -1;
    memset(tri, 0, sizeof tri);
    return rc;
}
