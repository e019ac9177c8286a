/* fuzz_azurekv_challenge.c — the azurekv plugin's 401 challenge parser
 * (WWW-Authenticate: Bearer authorization=…, resource=… / scope=…) on
 * hostile input. The input's first line is the vault host to verify
 * against (empty: no verification), the rest the header. Parsing must
 * never crash or read past the input, must be deterministic, and whatever
 * it accepts must be usable: a plain tenant, an https resource and a scope
 * ending in "/.default", all NUL-terminated within their buffers. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "azurekv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    if (text == NULL)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    char *nl = strchr(text, '\n');
    const char *host = NULL, *header = text;
    if (nl) {
        *nl = '\0';
        host = text[0] ? text : NULL;
        header = nl + 1;
    }
    akv_challenge a, b;
    const char *why_a = NULL, *why_b = NULL;
    int ra = akv_challenge_parse(header, host, &a, &why_a);
    int rb = akv_challenge_parse(header, host, &b, &why_b);
    if (ra != rb || (ra != 0 && ra != -1))
        abort();
    if (ra == -1 && (why_a == NULL || why_a != why_b))
        abort();
    if (ra == 0) {
        size_t sl = strnlen(a.scope, sizeof a.scope);
        if (memcmp(&a, &b, sizeof a) != 0 || a.tenant[0] == '\0' ||
            strnlen(a.tenant, sizeof a.tenant) == sizeof a.tenant ||
            strncmp(a.resource, "https://", 8) != 0 || sl == sizeof a.scope || sl < 9 ||
            strcmp(a.scope + sl - 9, "/.default") != 0 || strpbrk(a.tenant, "/?#\"") != NULL)
            abort();
    }
    free(text);
    return 0;
}
