/*
 * plugins/gcpsm/gcpsm_codec.c — small pure helpers: heap text for metadata
 * (JSON strings, query encoding, cleaned provider messages), base64 into and
 * out of secure memory (payloads never touch ordinary heap), CRC32C
 * (Castagnoli, as Secret Manager's dataCrc32c), RFC 3339 times and the
 * resource-id rules (secret ids 1-255 of [A-Za-z0-9_-]).
 */
#include "gcpsm.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- heap text (metadata only) -------------------------------------------- */

void gcpsm_str_addn(gcpsm_str *s, const char *text, size_t n)
{
    if (s->failed)
        return;
    if (s->len + n + 1 > s->cap) {
        size_t cap = s->cap ? s->cap : 64;
        while (cap < s->len + n + 1)
            cap *= 2;
        char *p = realloc(s->p, cap);
        if (p == NULL) {
            s->failed = 1;
            return;
        }
        s->p = p;
        s->cap = cap;
    }
    if (n)
        memcpy(s->p + s->len, text, n);
    s->len += n;
    s->p[s->len] = '\0';
}

void gcpsm_str_add(gcpsm_str *s, const char *text)
{
    gcpsm_str_addn(s, text ? text : "", text ? strlen(text) : 0);
}

void gcpsm_str_addf(gcpsm_str *s, const char *fmt, ...)
{
    char buf[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof buf)
        s->failed = 1;
    else
        gcpsm_str_addn(s, buf, (size_t)n);
}

void gcpsm_str_add_json(gcpsm_str *s, const char *text)
{
    gcpsm_str_add(s, "\"");
    for (const unsigned char *p = (const unsigned char *)(text ? text : ""); *p; p++) {
        char esc[8];
        if (*p == '"' || *p == '\\') {
            esc[0] = '\\';
            esc[1] = (char)*p;
            gcpsm_str_addn(s, esc, 2);
        } else if (*p < 0x20) {
            snprintf(esc, sizeof esc, "\\u%04x", *p);
            gcpsm_str_add(s, esc);
        } else {
            gcpsm_str_addn(s, (const char *)p, 1);
        }
    }
    gcpsm_str_add(s, "\"");
}

void gcpsm_str_add_query(gcpsm_str *s, const char *text)
{
    static const char hex[] = "0123456789ABCDEF";
    for (const unsigned char *p = (const unsigned char *)(text ? text : ""); *p; p++) {
        if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
            strchr("-._~", *p)) {
            gcpsm_str_addn(s, (const char *)p, 1);
        } else {
            char enc[3] = {'%', hex[*p >> 4], hex[*p & 15]};
            gcpsm_str_addn(s, enc, 3);
        }
    }
}

void gcpsm_str_free(gcpsm_str *s)
{
    free(s->p);
    memset(s, 0, sizeof *s);
}

char *gcpsm_strdup(const char *s)
{
    if (s == NULL)
        return NULL;
    size_t n = strlen(s) + 1;
    char *p = malloc(n);
    if (p)
        memcpy(p, s, n);
    return p;
}

void gcpsm_clean_copy(const char *in, size_t len, char *out, size_t cap)
{
    size_t o = 0;
    int space = 0;
    if (cap == 0)
        return;
    for (size_t i = 0; in && i < len && o + 1 < cap; i++) {
        unsigned char c = (unsigned char)in[i];
        if (c <= 0x20 || c >= 0x7f) {
            space = o > 0;
            continue;
        }
        if (space && o + 2 < cap)
            out[o++] = ' ';
        space = 0;
        out[o++] = (char)c;
    }
    out[o] = '\0';
}

/* ---- CRC32C ------------------------------------------------------------------- */

uint32_t gcpsm_crc32c(const unsigned char *data, size_t len)
{
    static uint32_t table[256];
    static int ready; /* benign race: every thread computes the same table */
    if (!ready) {
        for (uint32_t n = 0; n < 256; n++) {
            uint32_t c = n;
            for (int k = 0; k < 8; k++)
                c = c & 1 ? (c >> 1) ^ 0x82F63B78u : c >> 1;
            table[n] = c;
        }
        ready = 1;
    }
    uint32_t c = 0xFFFFFFFFu;
    for (size_t i = 0; i < len; i++)
        c = table[(c ^ data[i]) & 0xFF] ^ (c >> 8);
    return c ^ 0xFFFFFFFFu;
}

/* ---- base64 in secure memory ---------------------------------------------------- */

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int gcpsm_b64_encode_secure(sb_secure_buf *out, const unsigned char *in, size_t len)
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
        rc = gcpsm_host->secure_append(out, quad, 4);
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

int gcpsm_b64_decode_secure(sb_secure_buf *out, const char *in, size_t len)
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
                rc = gcpsm_host->secure_append(out, tri, 3);
                n = 0;
            }
        }
    }
    if (rc == 0 && n > 0)
        rc = gcpsm_host->secure_append(out, tri, n);
    if (rc == 0 && (pad > 2 || digits % 4 == 1 || (pad && (digits + pad) % 4 != 0)))
        rc = -1;
    memset(tri, 0, sizeof tri);
    return rc;
}

/* ---- times and names ------------------------------------------------------------------ */

static int64_t days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

int64_t gcpsm_rfc3339_ms(const char *t)
{
    int y, mo, d, hh, mi, ss, used = 0;
    if (t == NULL || sscanf(t, "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &hh, &mi, &ss, &used) != 6 ||
        mo < 1 || mo > 12 || d < 1 || d > 31 || hh > 23 || mi > 59 || ss > 60)
        return 0;
    const char *p = t + used;
    int64_t ms = 0;
    if (*p == '.') {
        int digits = 0;
        for (p++; *p >= '0' && *p <= '9'; p++, digits++)
            if (digits < 3)
                ms = ms * 10 + (*p - '0');
        for (; digits > 0 && digits < 3; digits++)
            ms *= 10;
    }
    if (strcmp(p, "Z") != 0)
        return 0;
    return (days_from_civil(y, mo, d) * 86400 + hh * 3600 + mi * 60 + ss) * 1000 + ms;
}

const char *gcpsm_last_segment(const char *name)
{
    const char *slash = name ? strrchr(name, '/') : NULL;
    return slash ? slash + 1 : name;
}

static int id_chars(const char *s, size_t max)
{
    size_t n = s ? strlen(s) : 0;
    if (n == 0 || n > max)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
              (s[i] >= '0' && s[i] <= '9') || s[i] == '_' || s[i] == '-'))
            return 0;
    return 1;
}

const char *gcpsm_check_secret_id(const char *id)
{
    if (id == NULL || id[0] == '\0')
        return "the secret id is empty";
    if (!id_chars(id, 255))
        return "a secret id is 1-255 characters of [A-Za-z0-9_-] (the plain id, not a "
               "projects/.../secrets/... name: the project is pinned in the config)";
    return NULL;
}

const char *gcpsm_check_version(const char *v)
{
    if (!id_chars(v, 63))
        return "a version is \"latest\", a version number or an alias of [A-Za-z0-9_-]";
    return NULL;
}
