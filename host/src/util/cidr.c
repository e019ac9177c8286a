/* util/cidr.c — see cidr.h. */
#include "util/cidr.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* An address as text into 16 bytes; IPv4-mapped IPv6 becomes IPv4. */
static int parse_addr(const char *text, int *family, unsigned char out[16])
{
    memset(out, 0, 16);
    if (inet_pton(AF_INET, text, out) == 1)
        return *family = AF_INET, 0;
    if (inet_pton(AF_INET6, text, out) != 1)
        return -1;
    static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (memcmp(out, mapped, 12) == 0) {
        memmove(out, out + 12, 4);
        memset(out + 4, 0, 12);
        return *family = AF_INET, 0;
    }
    return *family = AF_INET6, 0;
}

static bool prefix_equal(const unsigned char *a, const unsigned char *b, unsigned bits)
{
    size_t whole = bits / 8;
    if (memcmp(a, b, whole) != 0)
        return false;
    unsigned rest = bits % 8;
    if (rest == 0)
        return true;
    unsigned char mask = (unsigned char)(0xffu << (8 - rest));
    return (a[whole] & mask) == (b[whole] & mask);
}

int sb_cidr_parse(const char *text, sb_cidr *out, const char **why)
{
    static const char *unused;
    if (why == NULL)
        why = &unused;
    memset(out, 0, sizeof *out);
    char addr[64];
    const char *slash = text ? strchr(text, '/') : NULL;
    size_t len = text ? (slash ? (size_t)(slash - text) : strlen(text)) : 0;
    if (len == 0 || len >= sizeof addr)
        return *why = "expected an IP address or a network such as 10.0.0.0/8", -1;
    memcpy(addr, text, len);
    addr[len] = '\0';
    if (parse_addr(addr, &out->family, out->addr) != 0)
        return *why = "not an IPv4 or IPv6 address", -1;
    unsigned width = out->family == AF_INET ? 32 : 128;
    out->prefix = width;
    if (slash) {
        char *end;
        unsigned long p = strtoul(slash + 1, &end, 10);
        if (slash[1] == '\0' || *end != '\0' || slash[1] == '-' || slash[1] == '+' || p > width)
            return *why = "the prefix length after / must be 0..32 (IPv4) or 0..128 (IPv6)", -1;
        out->prefix = (unsigned)p;
    }
    unsigned char host[16];
    memcpy(host, out->addr, 16);
    /* bits beyond the prefix must be zero */
    for (unsigned b = out->prefix; b < width; b++)
        host[b / 8] &= (unsigned char)~(0x80u >> (b % 8));
    if (memcmp(host, out->addr, 16) != 0)
        return *why = "host bits are set beyond the prefix (did you mean the network address?)",
               -1;
    return 0;
}

bool sb_cidr_contains(const sb_cidr *c, const char *ip)
{
    int family;
    unsigned char a[16];
    if (c == NULL || ip == NULL || parse_addr(ip, &family, a) != 0 || family != c->family)
        return false;
    return prefix_equal(a, c->addr, c->prefix);
}

bool sb_cidr_any(const sb_cidr *list, size_t n, const char *ip)
{
    for (size_t i = 0; i < n; i++)
        if (sb_cidr_contains(&list[i], ip))
            return true;
    return false;
}
