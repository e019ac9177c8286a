/*
 * tests/plugins/azurekv/test_azurekv_challenge.c — the 401 challenge parser
 * (plugins/azurekv/azurekv_challenge.c) on its own: the header Key Vault
 * sends, authorization_uri and scope variants, the resource check against the
 * vault host, and malformed or hostile headers refused with a reason.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "azurekv.h"

#define TENANT "72f988bf-86f1-41af-91ab-2d7cd011db47"

static int parse(const char *header, const char *vault_host, akv_challenge *c, const char **why)
{
    *why = NULL;
    return akv_challenge_parse(header, vault_host, c, why);
}

Test(azurekv_challenge, key_vault_header)
{
    akv_challenge c;
    const char *why;
    cr_assert_eq(parse("Bearer authorization=\"https://login.windows.net/" TENANT "\", "
                       "resource=\"https://vault.azure.net\"",
                       "myvault.vault.azure.net", &c, &why),
                 0, "%s", why);
    cr_assert_str_eq(c.tenant, TENANT);
    cr_assert_str_eq(c.resource, "https://vault.azure.net");
    cr_assert_str_eq(c.scope, "https://vault.azure.net/.default");
}

Test(azurekv_challenge, authorization_uri_and_scope)
{
    akv_challenge c;
    const char *why;
    cr_assert_eq(parse("Bearer authorization_uri=\"https://login.microsoftonline.com/contoso.com/\","
                       " scope=\"https://vault.azure.net/.default\"",
                       "x.vault.azure.net", &c, &why),
                 0, "%s", why);
    cr_assert_str_eq(c.tenant, "contoso.com");
    cr_assert_str_eq(c.scope, "https://vault.azure.net/.default");
    cr_assert_str_eq(c.resource, "https://vault.azure.net");
    /* resource with a trailing slash, bare values */
    cr_assert_eq(parse("Bearer resource=https://vault.azure.net/, authorization=https://l.example/t1",
                       NULL, &c, &why),
                 0, "%s", why);
    cr_assert_str_eq(c.scope, "https://vault.azure.net/.default");
    cr_assert_str_eq(c.tenant, "t1");
}

Test(azurekv_challenge, resource_must_match_the_vault_host)
{
    akv_challenge c;
    const char *why;
    const char *h = "Bearer authorization=\"https://login.windows.net/" TENANT "\", "
                    "resource=\"https://vault.azure.net\"";
    cr_assert_eq(parse(h, "evil.example.com", &c, &why), -1);
    cr_assert(strstr(why, "does not match") != NULL);
    cr_assert_eq(parse(h, "vault.azure.net", &c, &why), -1, "the host itself is not a vault");
    cr_assert_eq(parse(h, "myvaultvault.azure.net", &c, &why), -1);
    cr_assert_eq(parse(h, "127.0.0.1", &c, &why), -1);
    cr_assert_eq(parse(h, NULL, &c, &why), 0, "verification off");
}

Test(azurekv_challenge, malformed_headers_are_refused)
{
    akv_challenge c;
    const char *why;
    const char *bad[] = {
        NULL,
        "",
        "Basic realm=\"x\"",
        "Bearer",
        "Bearerauthorization=\"https://l/t\", resource=\"https://vault.azure.net\"",
        "Bearer resource=\"https://vault.azure.net\"",
        "Bearer authorization=\"http://login.windows.net/t\", resource=\"https://vault.azure.net\"",
        "Bearer authorization=\"https://login.windows.net/\", resource=\"https://vault.azure.net\"",
        "Bearer authorization=\"https://login.windows.net/t%2F..\", resource=\"https://vault.azure.net\"",
        "Bearer authorization=\"https://login.windows.net/t\"",
        "Bearer authorization=\"https://login.windows.net/t\", resource=\"http://vault.azure.net\"",
        "Bearer authorization=\"https://login.windows.net/t\", resource=\"httPs://vault.azure.net\"",
        "Bearer authorization=\"https://login.windows.net/t\", scope=\"https://vault.azure.net\"",
        "Bearer authorization=\"https://login.windows.net/t\", resource=\"https://u@vault.azure.net\"",
        "Bearer authorization=\"https://login.windows.net/t, resource=\"https://vault.azure.net\"",
        "Bearer xauthorization=\"https://login.windows.net/t\", resource=\"https://vault.azure.net\"",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        cr_assert_eq(parse(bad[i], NULL, &c, &why), -1, "accepted: %s", bad[i] ? bad[i] : "NULL");
        cr_assert_not_null(why);
    }
    char longer[1200];
    memset(longer, 'a', sizeof longer - 1);
    longer[sizeof longer - 1] = '\0';
    memcpy(longer, "Bearer authorization=\"https://", 30);
    cr_assert_eq(parse(longer, NULL, &c, &why), -1);
}
