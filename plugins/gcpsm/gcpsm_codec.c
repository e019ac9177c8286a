/*
 * plugins/gcpsm/gcpsm_codec.c — small pure helpers: CRC32C (Castagnoli, as
 * Secret Manager's dataCrc32c) and the resource-name rules (secret ids 1-255
 * of [A-Za-z0-9_-], versions, the last segment of a resource name).
 */
#include "gcpsm.h"

#include <string.h>

/* ---- CRC32C ------------------------------------------------------------------- */

/* Bitwise (no table, so no shared state between threads); payloads are at
 * most 64 KiB. */
uint32_t gcpsm_crc32c(const unsigned char *data, size_t len)
{
    uint32_t c = 0xFFFFFFFFu;
    for (size_t i = 0; i < len; i++) {
        c ^= data[i];
        for (int k = 0; k < 8; k++)
            c = c & 1 ? (c >> 1) ^ 0x82F63B78u : c >> 1;
    }
    return c ^ 0xFFFFFFFFu;
}

/* ---- names ------------------------------------------------------------------ */

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
