/* api/oidc_return.c — where a finished sign-in may send the browser
 * (oidc_internal.h). The earlier product redirected to any return_to
 * (SPEC §20): an open redirect that turns a sign-in link into a phishing
 * hop. Only a path on this origin passes. */
#include <string.h>

#include "api/oidc_internal.h"
#include "store/oidc_store.h"

int sb_oidc_return_to_ok(const char *s)
{
    if (s == NULL || s[0] != '/' || s[1] == '/' || s[1] == '\\')
        return 0;
    size_t n = strlen(s);
    if (n > SB_OIDC_RETURN_TO_MAX)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (s[i] <= 0x20 || s[i] >= 0x7f || s[i] == '\\')
            return 0;
    return 1;
}
