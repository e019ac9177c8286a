/* util/json_escape.c — see json_escape.h. */
#include "util/json_escape.h"

#include <stdio.h>
#include <string.h>

#include "util/utf8.h"

static int put(char *buf, size_t cap, size_t *len, const char *s, size_t n)
{
    if (*len + n + 2 > cap) /* keep room for the closing quote and NUL */
        return -1;
    memcpy(buf + *len, s, n);
    *len += n;
    buf[*len] = '\0';
    return 0;
}

int sb_json_escape_append(char *buf, size_t cap, size_t *len, const char *src)
{
    if (cap < *len + 3)
        return -1;
    buf[(*len)++] = '"';
    const unsigned char *s = (const unsigned char *)src;
    size_t n = strlen(src);
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0;) {
        unsigned char c = s[i];
        char esc[8];
        if (c == '"' || c == '\\') {
            esc[0] = '\\', esc[1] = (char)c;
            rc = put(buf, cap, len, esc, 2);
            i++;
        } else if (c < 0x20) {
            const char *named = c == '\n' ? "\\n" : c == '\r' ? "\\r" : c == '\t' ? "\\t" : NULL;
            if (named)
                rc = put(buf, cap, len, named, 2);
            else {
                snprintf(esc, sizeof esc, "\\u%04x", c);
                rc = put(buf, cap, len, esc, 6);
            }
            i++;
        } else if (c < 0x80) {
            rc = put(buf, cap, len, (const char *)&s[i], 1);
            i++;
        } else {
            size_t l = sb_utf8_sequence_length(s + i, n - i);
            if (l == 0) {
                rc = put(buf, cap, len, "\xEF\xBF\xBD", 3); /* U+FFFD */
                i++;
            } else {
                rc = put(buf, cap, len, (const char *)&s[i], l);
                i += l;
            }
        }
    }
    buf[(*len)++] = '"';
    buf[*len] = '\0';
    return rc;
}
