/* test_cidr.c — util/cidr: strict parsing and membership for IPv4, IPv6
 * and IPv4-mapped addresses. */
#include <arpa/inet.h>
#include <criterion/criterion.h>

#include "util/cidr.h"

Test(cidr, parses_addresses_and_networks_strictly)
{
    sb_cidr c;
    const char *why;
    cr_assert_eq(sb_cidr_parse("10.0.0.0/8", &c, &why), 0);
    cr_assert_eq(c.family, AF_INET);
    cr_assert_eq(c.prefix, 8);
    cr_assert_eq(sb_cidr_parse("192.0.2.1", &c, &why), 0);
    cr_assert_eq(c.prefix, 32, "a bare address is a /32");
    cr_assert_eq(sb_cidr_parse("2001:db8::/32", &c, &why), 0);
    cr_assert_eq(c.family, AF_INET6);
    cr_assert_eq(sb_cidr_parse("::1", &c, &why), 0);
    cr_assert_eq(c.prefix, 128);
    cr_assert_eq(sb_cidr_parse("0.0.0.0/0", &c, &why), 0);
    const char *bad[] = {"", "10.0.0.0/33", "10.0.0.0/", "10.0.0.0/-1", "10.0.0.0/8x",
                         "10.1.2.3/8", "300.1.1.1", "example.com", "2001:db8::1/32",
                         "10.0.0.0/+8", NULL};
    for (int i = 0; bad[i]; i++)
        cr_assert_eq(sb_cidr_parse(bad[i], &c, &why), -1, "'%s' accepted", bad[i]);
    cr_assert_eq(sb_cidr_parse(NULL, &c, &why), -1);
    cr_assert_eq(sb_cidr_parse("10.1.2.3/8", &c, &why), -1);
    cr_assert(strstr(why, "host bits") != NULL, "%s", why);
}

Test(cidr, membership)
{
    sb_cidr c[3];
    cr_assert_eq(sb_cidr_parse("10.0.0.0/8", &c[0], NULL), 0);
    cr_assert_eq(sb_cidr_parse("2001:db8::/32", &c[1], NULL), 0);
    cr_assert_eq(sb_cidr_parse("192.168.1.128/25", &c[2], NULL), 0);
    cr_assert(sb_cidr_contains(&c[0], "10.255.0.1"));
    cr_assert(!sb_cidr_contains(&c[0], "11.0.0.1"));
    cr_assert(sb_cidr_contains(&c[0], "::ffff:10.1.2.3"), "IPv4-mapped matches IPv4");
    cr_assert(sb_cidr_contains(&c[1], "2001:db8:ffff::1"));
    cr_assert(!sb_cidr_contains(&c[1], "2001:db9::1"));
    cr_assert(!sb_cidr_contains(&c[1], "10.0.0.1"), "families never mix");
    cr_assert(sb_cidr_contains(&c[2], "192.168.1.200"));
    cr_assert(!sb_cidr_contains(&c[2], "192.168.1.127"), "a prefix not on a byte boundary");
    cr_assert(!sb_cidr_contains(&c[0], "garbage"));
    cr_assert(sb_cidr_any(c, 3, "192.168.1.255"));
    cr_assert(!sb_cidr_any(c, 3, "8.8.8.8"));
    cr_assert(!sb_cidr_any(c, 0, "10.0.0.1"));
}
