/*
 * plugins/azurekv/azurekv_text.c — small text helpers of the Azure Key Vault
 * plugin.
 *
 * Contract: heap strings hold metadata only (URLs, names, tags, ids); the
 * shared metadata helpers (strdup, message cleaning, query encoding) are
 * plugins/shared/plugin_text. Form values that may be secret (client
 * secrets, assertions) are percent-encoded here straight into host secure
 * buffers. Name and version
 * checks follow Key Vault's rules so a bad reference fails before any
 * network call.
 */
#include "azurekv.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

char *akv_format(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *out = NULL;
    int n = vasprintf(&out, fmt, ap);
    va_end(ap);
    return n < 0 ? NULL : out;
}

static int unreserved(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '-' || c == '.' || c == '_' || c == '~';
}

int akv_append_urlencoded(sb_secure_buf *out, const char *s, size_t len)
{
    static const char hex[] = "0123456789ABCDEF";
    const sb_host_api *h = akv_host;
    size_t run = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (unreserved(c)) {
            run++;
            continue;
        }
        char esc[3] = {'%', hex[c >> 4], hex[c & 15]};
        if ((run && h->secure_append(out, s + i - run, run)) || h->secure_append(out, esc, 3))
            return -1;
        run = 0;
    }
    return run ? h->secure_append(out, s + len - run, run) : 0;
}

int akv_append_form(sb_secure_buf *out, const char *name, const char *value, size_t len)
{
    const sb_host_api *h = akv_host;
    size_t have = 0;
    h->secure_data(out, &have);
    if ((have && h->secure_append(out, "&", 1)) || h->secure_append(out, name, strlen(name)) ||
        h->secure_append(out, "=", 1))
        return -1;
    return akv_append_urlencoded(out, value, len);
}

const char *akv_check_name(const char *name)
{
    if (name == NULL || name[0] == '\0')
        return "the secret name is empty";
    size_t n = strlen(name);
    if (n > 127)
        return "Key Vault secret names are at most 127 characters";
    for (size_t i = 0; i < n; i++) {
        char c = name[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-'))
            return "Key Vault secret names hold only letters, digits and '-'";
    }
    return NULL;
}

const char *akv_check_version(const char *version)
{
    size_t n = strlen(version);
    if (n == 0 || n > 64)
        return "a Key Vault version id is 1 to 64 characters (normally 32 hex digits)";
    for (size_t i = 0; i < n; i++) {
        char c = version[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')))
            return "a Key Vault version id holds only letters and digits";
    }
    return NULL;
}

char *akv_id_last_segment(const char *id)
{
    if (id == NULL)
        return NULL;
    size_t n = strcspn(id, "?#");
    while (n > 0 && id[n - 1] == '/')
        n--;
    size_t start = n;
    while (start > 0 && id[start - 1] != '/')
        start--;
    return n > start ? strndup(id + start, n - start) : NULL;
}
