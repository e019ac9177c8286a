/* test_secure_mem.c — crypto/secure_mem.h: regions are zero when handed
 * out, registered for redaction, and zero after release — also when the
 * region is kept in the pool and handed out again (gcc builds pool;
 * sanitizer builds unmap instead, so the pool's checks are skipped there:
 * sb_secure_pooling). */
#include <criterion/criterion.h>
#include <stdint.h>
#include <string.h>

#include "crypto/secure_mem.h"
#include "util/redact.h"

static void init(void) { cr_assert_eq(sb_crypto_init(), 0); }
TestSuite(secure_mem, .init = init);

static int all_zero(const unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i])
            return 0;
    return 1;
}

Test(secure_mem, a_region_is_zero_registered_and_counted)
{
    long before = sb_secure_live_allocations();
    unsigned char *p = sb_secure_alloc(100);
    cr_assert_not_null(p);
    cr_assert(all_zero(p, 100));
    cr_assert(sb_redact_in_region(p) && sb_redact_in_region(p + 99));
    if (sb_secure_pooling())
        cr_assert_eq((uintptr_t)p % 16, 0, "pooled sizes are 16-byte aligned");
    cr_assert_eq(sb_secure_live_allocations(), before + 1);
    sb_secure_release(p);
    cr_assert_eq(sb_secure_live_allocations(), before);
}

Test(secure_mem, a_reused_region_comes_back_zeroed)
{
    unsigned char *p = sb_secure_alloc(200);
    memset(p, 0xA5, 200);
    sb_secure_release(p);
    if (!sb_secure_pooling())
        cr_skip_test("sanitizer builds do not pool");
    unsigned char *q = sb_secure_alloc(180); /* the same size class */
    cr_assert_eq(q, p, "the released region of this class was not reused");
    cr_assert(all_zero(q, 256), "a reused region still held the old bytes");
    cr_assert(sb_redact_in_region(q + 255), "the reused region is no longer redacted");
    sb_secure_release(q);
}

Test(secure_mem, large_regions_are_not_pooled_and_buffers_still_grow)
{
    unsigned char *big = sb_secure_alloc(1 << 20);
    cr_assert_not_null(big);
    cr_assert(all_zero(big, 1 << 20));
    sb_secure_release(big);
    sb_secure_buf *b = sb_secure_new(8);
    for (int i = 0; i < 1000; i++)
        cr_assert_eq(sb_secure_append(b, "0123456789", 10), 0);
    size_t len;
    const unsigned char *d = sb_secure_data(b, &len);
    cr_assert_eq(len, 10000);
    cr_assert_eq(memcmp(d + 9990, "0123456789", 10), 0);
    sb_secure_free(b);
}
