/* util/utf8.c — see utf8.h. */
#include "util/utf8.h"

size_t sb_utf8_sequence_length(const unsigned char *s, size_t avail)
{
    if (avail == 0)
        return 0;
    unsigned char c = s[0];
    if (c < 0x80)
        return 1;
    size_t need;
    unsigned int cp;
    if (c >= 0xC2 && c <= 0xDF)
        need = 2, cp = c & 0x1Fu;
    else if (c >= 0xE0 && c <= 0xEF)
        need = 3, cp = c & 0x0Fu;
    else if (c >= 0xF0 && c <= 0xF4)
        need = 4, cp = c & 0x07u;
    else
        return 0;
    if (avail < need)
        return 0;
    for (size_t i = 1; i < need; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3Fu);
    }
    if ((need == 3 && cp < 0x800) || (need == 4 && (cp < 0x10000 || cp > 0x10FFFF)))
        return 0; /* overlong or out of range */
    if (cp >= 0xD800 && cp <= 0xDFFF)
        return 0; /* surrogates are not characters */
    return need;
}

int sb_utf8_valid(const unsigned char *s, size_t len)
{
    for (size_t i = 0; i < len;) {
        size_t l = sb_utf8_sequence_length(s + i, len - i);
        if (l == 0)
            return 0;
        i += l;
    }
    return 1;
}
