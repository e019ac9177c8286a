/*
 * util/cidr.h — IP addresses and networks (IPv4 and IPv6) as text: parse
 * "10.0.0.0/8", "2001:db8::/32" or a bare address (a /32 or /128), and ask
 * whether an address belongs to a network. Used for http.trusted_proxies:
 * which peers may tell us the client's address in X-Forwarded-For.
 *
 * Contract: pure, no allocation. Parsing is strict: inet_pton syntax, a
 * prefix length within the family's width, no host bits set beyond the
 * prefix (a typo like 10.1.2.3/8 is refused, not silently widened). An
 * IPv4-mapped IPv6 address (::ffff:a.b.c.d) matches IPv4 networks.
 */
#ifndef SB_UTIL_CIDR_H
#define SB_UTIL_CIDR_H

#include <stdbool.h>
#include <stddef.h>

typedef struct sb_cidr {
    int family;              /* AF_INET or AF_INET6 */
    unsigned char addr[16];  /* network bytes (4 used for IPv4) */
    unsigned prefix;         /* 0..32 or 0..128 */
} sb_cidr;

/* 0, or -1 with why (a static phrase) when text is not a network. */
int sb_cidr_parse(const char *text, sb_cidr *out, const char **why);
/* True when ip (an address as text) is inside c; false for a malformed ip. */
bool sb_cidr_contains(const sb_cidr *c, const char *ip);
/* True when ip matches one of n networks. */
bool sb_cidr_any(const sb_cidr *list, size_t n, const char *ip);

#endif
