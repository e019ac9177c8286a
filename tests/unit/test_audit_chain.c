/* test_audit_chain.c — the audit chain link: deterministic, sensitive to
 * every field, the key and the previous link; unambiguous encoding. */
#include <criterion/criterion.h>
#include <string.h>

#include "crypto/audit_chain.h"
#include "crypto/secure_mem.h"

static void setup(void) { cr_assert_eq(sb_crypto_init(), 0); }
TestSuite(audit_chain, .init = setup);

static const unsigned char key[SB_AUDIT_KEY_BYTES] = {1, 2, 3};
static const unsigned char zero[SB_AUDIT_HASH_BYTES] = {0};

static sb_audit_fields base(void)
{
    sb_audit_fields e = {7, 3, "2026-11-28 13:00:00.123456+00", "user:u1", "team.create", "team:t1",
                         "success", "info", "corr-1", "req-1", "127.0.0.1", "{\"name\": \"x\"}"};
    return e;
}

static void link_of(const sb_audit_fields *e, const unsigned char *k, const unsigned char *prev,
                    unsigned char out[SB_AUDIT_HASH_BYTES])
{
    sb_audit_chain_link(k, prev, e, out);
}

Test(audit_chain, deterministic)
{
    unsigned char a[32], b[32];
    sb_audit_fields e = base();
    link_of(&e, key, zero, a);
    link_of(&e, key, zero, b);
    cr_assert(sb_audit_chain_equal(a, b));
}

Test(audit_chain, every_field_the_key_and_the_previous_link_matter)
{
    unsigned char ref[32], h[32];
    sb_audit_fields e = base();
    link_of(&e, key, zero, ref);
    const char **fields[] = {&e.occurred_at, &e.actor, &e.action, &e.resource, &e.outcome, &e.severity,
                             &e.correlation_id, &e.request_id, &e.remote_ip, &e.details};
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
        sb_audit_fields m = base();
        const char **f = (const char **)((char *)&m + ((char *)fields[i] - (char *)&e));
        *f = "tampered";
        link_of(&m, key, zero, h);
        cr_assert_not(sb_audit_chain_equal(ref, h), "field %zu is not covered", i);
    }
    sb_audit_fields m = base();
    m.id = 8;
    link_of(&m, key, zero, h);
    cr_assert_not(sb_audit_chain_equal(ref, h), "id is covered");
    m = base();
    m.chain_seq = 4;
    link_of(&m, key, zero, h);
    cr_assert_not(sb_audit_chain_equal(ref, h), "chain position is covered");
    unsigned char other_key[32] = {9};
    link_of(&e, other_key, zero, h);
    cr_assert_not(sb_audit_chain_equal(ref, h), "the key is covered");
    unsigned char prev[32] = {1};
    link_of(&e, key, prev, h);
    cr_assert_not(sb_audit_chain_equal(ref, h), "the previous link is covered");
}

Test(audit_chain, encoding_is_unambiguous)
{
    unsigned char a[32], b[32];
    sb_audit_fields x = base(), y = base();
    x.actor = "ab", x.action = "c";
    y.actor = "a", y.action = "bc";
    link_of(&x, key, zero, a);
    link_of(&y, key, zero, b);
    cr_assert_not(sb_audit_chain_equal(a, b), "moving a boundary changes the link");
    x = base(), y = base();
    x.request_id = NULL;
    y.request_id = "";
    link_of(&x, key, zero, a);
    link_of(&y, key, zero, b);
    cr_assert_not(sb_audit_chain_equal(a, b), "absent and empty differ");
}
