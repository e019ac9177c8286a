/*
 * plugins/azurekv/azurekv_challenge.c — the Key Vault 401 challenge.
 *
 * Contract: parses the `WWW-Authenticate` header Key Vault sends with every
 * 401, e.g.
 *   Bearer authorization="https://login.microsoftonline.com/{tenant}",
 *          resource="https://vault.azure.net"
 * (also `authorization_uri=` for the authority and `scope=` for the scope),
 * the way the Azure SDKs' challenge policies do: the tenant is the last
 * path segment of the authority, the scope is the challenge's scope or the
 * resource + "/.default". Like the SDKs' verifyChallengeResource, the vault's
 * host must end with "." + the resource's host (a vault must not send us to
 * get a token for another service), unless the caller turns that off.
 *
 * Only the tenant and the scope are taken from the challenge. The host that
 * issues tokens always comes from the instance's config (authority_host): a
 * challenge never decides where credentials are sent. Pure C, no host calls
 * (unit-testable).
 */
#include "azurekv.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

/* Copies the value of parameter `name` (quoted or bare) into out. */
static int param(const char *header, const char *name, char *out, size_t cap)
{
    size_t nl = strlen(name);
    const char *p = header;
    while ((p = strcasestr(p, name)) != NULL) {
        int starts = p == header || p[-1] == ' ' || p[-1] == ',' || p[-1] == '\t';
        const char *q = p + nl;
        while (*q == ' ')
            q++;
        if (!starts || *q != '=') {
            p += nl;
            continue;
        }
        q++;
        while (*q == ' ')
            q++;
        size_t n;
        if (*q == '"') {
            q++;
            const char *end = strchr(q, '"');
            if (end == NULL)
                return -1;
            n = (size_t)(end - q);
        } else {
            n = strcspn(q, ", \t");
        }
        if (n == 0 || n >= cap)
            return -1;
        memcpy(out, q, n);
        out[n] = '\0';
        return 0;
    }
    return -1;
}

/* "https://host[:port]/…" -> host (lower case) in out; 0 or -1. The scheme
 * must be written in lower case: the resource becomes the scope sent to
 * Entra ID verbatim. */
static int https_host(const char *url, char *out, size_t cap)
{
    if (strncmp(url, "https://", 8) != 0)
        return -1;
    const char *h = url + 8;
    size_t n = strcspn(h, ":/?#");
    if (n == 0 || n >= cap || memchr(h, '@', strcspn(h, "/?#")) != NULL)
        return -1;
    for (size_t i = 0; i < n; i++) {
        char c = h[i];
        out[i] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
    }
    out[n] = '\0';
    return 0;
}

static int valid_tenant(const char *t)
{
    size_t n = strlen(t);
    if (n == 0 || n > 100)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!((t[i] >= 'a' && t[i] <= 'z') || (t[i] >= 'A' && t[i] <= 'Z') ||
              (t[i] >= '0' && t[i] <= '9') || t[i] == '-' || t[i] == '.'))
            return 0;
    return 1;
}

static int ends_with_dot(const char *host, const char *suffix)
{
    size_t h = strlen(host), s = strlen(suffix);
    return h > s + 1 && host[h - s - 1] == '.' && strcasecmp(host + h - s, suffix) == 0;
}

int akv_challenge_parse(const char *header, const char *vault_host, akv_challenge *out,
                        const char **why)
{
    char authority[512], host[256];
    memset(out, 0, sizeof *out);
    if (header == NULL || strncasecmp(header, "Bearer", 6) != 0 ||
        (header[6] != ' ' && header[6] != '\t')) {
        *why = "the 401 has no Bearer challenge (WWW-Authenticate)";
        return -1;
    }
    if (param(header, "authorization", authority, sizeof authority) != 0 &&
        param(header, "authorization_uri", authority, sizeof authority) != 0) {
        *why = "the challenge names no authorization (authority) URL";
        return -1;
    }
    if (https_host(authority, host, sizeof host) != 0) {
        *why = "the challenge's authority is not an https URL";
        return -1;
    }
    size_t an = strcspn(authority, "?#");
    while (an > 0 && authority[an - 1] == '/')
        an--;
    authority[an] = '\0';
    const char *slash = strrchr(authority + 8, '/');
    if (slash == NULL || !valid_tenant(slash + 1)) {
        *why = "the challenge's authority URL does not end with a tenant id";
        return -1;
    }
    snprintf(out->tenant, sizeof out->tenant, "%s", slash + 1);

    char scope[300];
    if (param(header, "scope", scope, sizeof scope) == 0) {
        size_t sn = strlen(scope);
        if (sn <= 9 || strcmp(scope + sn - 9, "/.default") != 0) {
            *why = "the challenge's scope does not end with /.default";
            return -1;
        }
        snprintf(out->scope, sizeof out->scope, "%s", scope);
        snprintf(out->resource, sizeof out->resource, "%.*s", (int)(sn - 9), scope);
    } else if (param(header, "resource", out->resource, sizeof out->resource) == 0) {
        size_t rn = strlen(out->resource);
        while (rn > 0 && out->resource[rn - 1] == '/')
            out->resource[--rn] = '\0';
        snprintf(out->scope, sizeof out->scope, "%s/.default", out->resource);
    } else {
        *why = "the challenge names neither resource nor scope";
        return -1;
    }
    if (https_host(out->resource, host, sizeof host) != 0) {
        *why = "the challenge's resource is not an https URL";
        return -1;
    }
    if (vault_host && !ends_with_dot(vault_host, host)) {
        *why = "the challenge's resource does not match the vault's host (set "
               "verify_challenge_resource: false only for a local emulator)";
        return -1;
    }
    return 0;
}
