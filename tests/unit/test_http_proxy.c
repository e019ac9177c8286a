/* test_http_proxy.c — the client address behind reverse proxies over real
 * HTTP on loopback: X-Forwarded-For is believed only from a trusted peer,
 * read right to left up to the first untrusted hop; a malformed hop stops
 * the walk; from an untrusted peer the header is ignored (no spoofing);
 * a bad trusted_proxies entry refuses to start. */
#include <criterion/criterion.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "http/server.h"
#include "test_http_support.h"

TestSuite(http_proxy);

static void ip_with(const char *xff, char *out, size_t cap)
{
    char header[512];
    snprintf(header, sizeof header, "X-Forwarded-For: %s", xff);
    const char *const headers[] = {header, NULL};
    http_call call = {.headers = xff ? headers : NULL};
    http_reply r;
    http_request(test_port, "/api/v1/client-ip", &call, &r);
    cr_assert_eq(r.status, 200, "%s", r.body);
    json_t *j = body_json(&r);
    snprintf(out, cap, "%s", field(j, "ip"));
    json_decref(j);
    http_reply_free(&r);
}

Test(http_proxy, forwarded_for_is_read_from_trusted_peers_only, .init = start_behind_proxy,
     .fini = stop_server)
{
    char ip[64];
    ip_with(NULL, ip, sizeof ip);
    cr_assert_str_eq(ip, "127.0.0.1", "no header: the peer");
    ip_with("203.0.113.7", ip, sizeof ip);
    cr_assert_str_eq(ip, "203.0.113.7");
    /* a client-supplied prefix is skipped: the nearest untrusted hop wins */
    ip_with("6.6.6.6, 203.0.113.7, 10.1.2.3", ip, sizeof ip);
    cr_assert_str_eq(ip, "203.0.113.7", "through two proxies");
    ip_with("2001:db8::1", ip, sizeof ip);
    cr_assert_str_eq(ip, "2001:db8::1");
    /* a malformed hop: attributed to the last trusted address, never made up */
    ip_with("203.0.113.7, not-an-ip", ip, sizeof ip);
    cr_assert_str_eq(ip, "127.0.0.1");
    ip_with("10.9.9.9, 10.8.8.8", ip, sizeof ip);
    cr_assert_str_eq(ip, "10.9.9.9", "every hop trusted: the farthest one");
}

Test(http_proxy, forwarded_for_from_an_untrusted_peer_is_ignored, .init = start_default,
     .fini = stop_server)
{
    char ip[64];
    ip_with("203.0.113.7", ip, sizeof ip);
    cr_assert_str_eq(ip, "127.0.0.1", "a spoofed header changes nothing");
}

Test(http_proxy, a_malformed_trusted_proxy_refuses_to_start)
{
    http_global_init();
    sb_router *router = sb_router_new();
    static const char *const bad[] = {"10.0.0.1/8"};
    sb_http_config cfg = {.listen = "127.0.0.1:0", .trusted_proxies = bad, .n_trusted_proxies = 1};
    sb_http_server *s = NULL;
    sb_error err = {0};
    cr_assert_eq(sb_http_server_start(&cfg, router, &s, &err), -1);
    cr_assert_null(s);
    cr_assert(strstr(err.message, "trusted_proxies[0]") && strstr(err.message, "host bits"), "%s",
              err.message);
    sb_router_free(router);
}
