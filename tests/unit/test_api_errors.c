/* test_api_errors.c — the one error registry (api/errors.c): every code is
 * registered once, the codes handlers meet answer with their documented
 * status, and anything unregistered is a generic 500. */
#include <criterion/criterion.h>

#include "api/api.h"
#include "api/handler_kit.h"
#include "crypto/kms.h"
#include "domain/domain_error.h"
#include "store/rbac_store.h"
#include "store/tenancy_store.h"

static void expect(int code, int status, const char *name)
{
    int st;
    const char *n;
    cr_assert_eq(sb_api_error_answer(code, &st, &n), 1, "code %d is not registered", code);
    cr_assert_eq(st, status, "code %d", code);
    cr_assert_str_eq(n, name, "code %d", code);
}

Test(api_errors, every_code_is_registered_once)
{
    const int *codes;
    size_t n = sb_api_error_codes(&codes);
    cr_assert_gt(n, 20);
    for (size_t i = 0; i < n; i++)
        for (size_t j = i + 1; j < n; j++)
            cr_assert_neq(codes[i], codes[j], "code %d is registered twice", codes[i]);
}

Test(api_errors, codes_answer_with_their_documented_status)
{
    expect(SB_DOMAIN_E_TOO_DEEP, 409, "team_too_deep"); /* two maps once disagreed (422) */
    expect(SB_TENANCY_E_CYCLE, 409, "team_cycle");
    expect(SB_RBAC_E_LAST_ADMIN, 409, "last_admin");
    expect(SB_HANDLER_E_HIDDEN, 404, "not_found");
    expect(SB_DOMAIN_E_ILLEGAL_TRANSITION, 409, "illegal_transition");
    expect(SB_DB_E_UNAVAILABLE, 503, "unavailable");
    expect(SB_KMS_E_UNAVAILABLE, 503, "kms_unavailable");
    expect(SB_KMS_E_REFUSED, 503, "kms_refused");
    int st;
    const char *n;
    cr_assert_eq(sb_api_error_answer(987654, &st, &n), 0);
    cr_assert_eq(st, 500);
    cr_assert_str_eq(n, "internal");
}
