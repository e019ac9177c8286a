/*
 * plugins/argocd/argocd_plugin.c — the Argo CD plugin's descriptor, config
 * schema and instance lifecycle.
 *
 * Contract:
 *   - Exports only `sbridge_plugin_v1`. Capability: GITOPS (read-only
 *     observation; the plugin sends GET only, see argocd_http.c).
 *     SB_THREAD_CONCURRENT: an instance never changes after instance_new.
 *   - init keeps the host API table (the only global); fini forgets it.
 *   - instance_new checks what the schema cannot express (URL shape: https,
 *     or plain http to a loopback host; no /api suffix, query or fragment;
 *     project and tls_server_name as DNS names; the token as printable ASCII
 *     without spaces, so it can never split a header) and builds the
 *     "Bearer <token>" header in host secure memory. It makes no network
 *     call. The token never appears in a message.
 */
#include "argocd.h"

#include <stdlib.h>
#include <string.h>

const sb_host_api *argocd_host = NULL;

static const sb_config_field argocd_config_fields[] = {
    {.struct_size = (uint32_t)sizeof(sb_config_field), .type = SB_CFG_STRING, .key = "base_url",
     .flags = SB_CFG_REQUIRED | SB_CFG_URL, .min = 1, .max = 0,
     .help = "Argo CD server URL without /api, e.g. https://argocd.example.com; plain http:// "
             "only to a loopback host."},
    {.struct_size = (uint32_t)sizeof(sb_config_field), .type = SB_CFG_STRING, .key = "token",
     .flags = SB_CFG_REQUIRED | SB_CFG_SECRET, .min = 1, .max = 0,
     .help = "Bearer token of an Argo CD account or project role that may get applications; "
             "reference it as ${file:...} or ${env:...}."},
    {.struct_size = (uint32_t)sizeof(sb_config_field), .type = SB_CFG_STRING, .key = "project",
     .min = 1, .max = 0,
     .help = "Argo CD project of the observed applications, sent as ?project= so a missing "
             "application answers not found instead of permission denied; unset: any project."},
    {.struct_size = (uint32_t)sizeof(sb_config_field), .type = SB_CFG_STRING, .key = "ca_file",
     .flags = SB_CFG_PATH, .min = 1, .max = 0,
     .help = "PEM bundle of extra CAs that sign the Argo CD server's certificate; unset: system "
             "CAs."},
    {.struct_size = (uint32_t)sizeof(sb_config_field), .type = SB_CFG_STRING,
     .key = "tls_server_name", .min = 1, .max = 0,
     .help = "Name to verify on the server's certificate (and send as SNI/Host) when it differs "
             "from the URL's host; the connection still goes to the URL."},
    {.struct_size = (uint32_t)sizeof(sb_config_field), .type = SB_CFG_DURATION,
     .key = "request_timeout", .default_value = "15s", .min = 1000, .max = 300000,
     .help = "Timeout of one HTTP request to Argo CD (1s to 5m); the call's deadline still "
             "applies."},
};

static sb_status argocd_init(const sb_host_api *host, sb_result *res)
{
    if (host == NULL)
        return SB_E_INVALID;
    if (host->abi_major != SB_PLUGIN_ABI_MAJOR ||
        !SB_HAS_FIELD(host, sb_host_api, call_remaining_ms)) {
        if (res && host->fail)
            return host->fail(res, SB_E_UNSUPPORTED, 0,
                              "argocd plugin needs host API %d.0 or later, got %u.%u",
                              SB_PLUGIN_ABI_MAJOR, (unsigned)host->abi_major,
                              (unsigned)host->abi_minor);
        return SB_E_UNSUPPORTED;
    }
    argocd_host = host;
    return SB_OK;
}

static void argocd_fini(void)
{
    argocd_host = NULL;
}

static void argocd_instance_free(void *instance)
{
    argocd_instance *ai = instance;
    if (ai == NULL)
        return;
    if (argocd_host)
        argocd_host->secure_free(ai->authorization);
    free(ai->name);
    free(ai->base_url);
    free(ai->project);
    free(ai->ca_file);
    free(ai->tls_server_name);
    free(ai);
}

static int is_loopback_host(const char *host)
{
    if (host[0] == '[')
        return strncmp(host, "[::1]", 5) == 0;
    size_t n = strcspn(host, ":/");
    return strncmp(host, "127.", 4) == 0 || (n == 9 && strncmp(host, "localhost", 9) == 0);
}

/* A DNS-name-like config value: [a-z0-9.-] (and A-Z when `upper`). */
static int dns_like(const char *s, int upper)
{
    if (s == NULL || s[0] == '\0' || strlen(s) > 253)
        return 0;
    for (const char *p = s; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-' || *p == '.' ||
              (upper && *p >= 'A' && *p <= 'Z')))
            return 0;
    return 1;
}

static sb_status config_error(argocd_instance *ai, sb_result *res, const char *key,
                              const char *why)
{
    argocd_instance_free(ai);
    return argocd_host->fail(res, SB_E_CONFIG, 0, "argocd config: %s: %s", key, why);
}

static const char *check_base_url(const char *url)
{
    int plain = strncmp(url, "http://", 7) == 0;
    if (!plain && strncmp(url, "https://", 8) != 0)
        return "must start with https:// (e.g. https://argocd.example.com)";
    if (plain && !is_loopback_host(url + 7))
        return "plain http:// is allowed only to a loopback host; use https://";
    if (strpbrk(url, "?# \t\r\n") != NULL)
        return "must not contain a query, a fragment or white space";
    return NULL;
}

static sb_status argocd_instance_new(const sb_config *cfg, void **instance, sb_result *res)
{
    if (res == NULL)
        return SB_E_INVALID;
    if (instance)
        *instance = NULL;
    if (argocd_host == NULL)
        return SB_E_INTERNAL;
    const sb_host_api *h = argocd_host;
    if (cfg == NULL || instance == NULL)
        return h->fail(res, SB_E_INVALID, 0, "instance_new: config and instance must not be NULL");
    argocd_instance *ai = calloc(1, sizeof *ai);
    if (ai == NULL)
        return h->fail(res, SB_E_INTERNAL, 0, "instance_new: out of memory");
    ai->name = argocd_strdup(h->config_instance_name(cfg));

    const char *url = h->config_string(cfg, "base_url");
    const char *why = url ? check_base_url(url) : "required (e.g. https://argocd.example.com)";
    if (why != NULL)
        return config_error(ai, res, "base_url", why);
    if ((ai->base_url = argocd_strdup(url)) == NULL)
        return config_error(ai, res, "base_url", "out of memory");
    for (size_t n = strlen(ai->base_url); n > 0 && ai->base_url[n - 1] == '/'; n--)
        ai->base_url[n - 1] = '\0';
    size_t n = strlen(ai->base_url);
    if (n >= 4 && strcmp(ai->base_url + n - 4, "/api") == 0)
        return config_error(ai, res, "base_url", "give the server URL without /api");

    const char *project = h->config_string(cfg, "project");
    if (project && !dns_like(project, 0))
        return config_error(ai, res, "project", "must be an Argo CD project name (a-z, 0-9, '-', '.')");
    if (project && (ai->project = argocd_strdup(project)) == NULL)
        return config_error(ai, res, "project", "out of memory");
    const char *sni = h->config_string(cfg, "tls_server_name");
    if (sni && !dns_like(sni, 1))
        return config_error(ai, res, "tls_server_name", "must be a DNS name such as argocd.internal");
    if (sni && (ai->tls_server_name = argocd_strdup(sni)) == NULL)
        return config_error(ai, res, "tls_server_name", "out of memory");
    const char *ca = h->config_string(cfg, "ca_file");
    if (ca && (ai->ca_file = argocd_strdup(ca)) == NULL)
        return config_error(ai, res, "ca_file", "out of memory");
    int64_t timeout = h->config_int(cfg, "request_timeout");
    ai->timeout_ms = timeout > 0 && timeout <= 300000 ? (uint32_t)timeout : ARGOCD_DEFAULT_TIMEOUT_MS;

    const char *token = h->config_secret(cfg, "token");
    if (token == NULL || token[0] == '\0')
        return config_error(ai, res, "token", "required (an Argo CD API token)");
    for (const char *p = token; *p; p++)
        if ((unsigned char)*p < 0x21 || (unsigned char)*p > 0x7e)
            return config_error(ai, res, "token",
                                "must be printable ASCII without spaces or line breaks (is the "
                                "token file's content exactly the token?)");
    ai->authorization = h->secure_new(strlen(token) + 8);
    if (ai->authorization == NULL || h->secure_append(ai->authorization, "Bearer ", 7) != 0 ||
        h->secure_append(ai->authorization, token, strlen(token)) != 0)
        return config_error(ai, res, "token", "out of secure memory");
    *instance = ai;
    return SB_OK;
}

SB_PLUGIN_DEFINE(.name = ARGOCD_PLUGIN_NAME, .version = ARGOCD_PLUGIN_VERSION,
                 .vendor = "Secrets Bridge", .license = "Apache-2.0",
                 .description = "Argo CD: read-only GitOps observation (GET only). Reports that a "
                                "change was applied only when a Deployment rolled out after it "
                                "and became healthy; Healthy and Synced alone is not evidence.",
                 .capabilities = SB_CAP_GITOPS, .thread_model = SB_THREAD_CONCURRENT,
                 SB_PLUGIN_CONFIG(argocd_config_fields), .init = argocd_init,
                 .fini = argocd_fini, .instance_new = argocd_instance_new,
                 .instance_free = argocd_instance_free, .gitops = &argocd_gitops_ops)
