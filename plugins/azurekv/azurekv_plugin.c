/*
 * plugins/azurekv/azurekv_plugin.c — the Azure Key Vault plugin's
 * descriptor, config schema and instance lifecycle.
 *
 * Contract:
 *   - Exports only `sbridge_plugin_v1`. Capability: PROVIDER (read,
 *     versions, compare-and-set write, describe, list with tags as labels).
 *     SB_THREAD_SERIAL: the per-instance challenge and token caches need no
 *     lock.
 *   - instance_new checks what the schema cannot: the vault URL and the
 *     authority host are https URLs without user information, query or path
 *     (the vault is pinned here and never taken from a job), ids are plain
 *     text, the fields the chosen auth method needs are there, the tag fence
 *     has non-empty keys. It makes no network call: the challenge and the
 *     token are fetched on first use. The client secret stays in the host's
 *     secure config storage, referenced.
 */
#include "azurekv.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const sb_host_api *akv_host = NULL;

#define F(type_, key_, flags_, default_, help_, when_)                                             \
    {.struct_size = (uint32_t)sizeof(sb_config_field), .type = (type_), .key = (key_),            \
     .flags = (flags_), .default_value = (default_), .help = (help_), .min = 1, .max = 0,         \
     .when = (when_)}

static const sb_config_field akv_config_fields[] = {
    F(SB_CFG_STRING, "vault_url", SB_CFG_REQUIRED | SB_CFG_URL, NULL,
      "The vault, https only, e.g. https://myvault.vault.azure.net (never taken from a job).",
      NULL),
    {.struct_size = (uint32_t)sizeof(sb_config_field), .type = SB_CFG_ENUM, .key = "auth",
     .flags = SB_CFG_REQUIRED, .min = 1, .max = 0,
     .enum_values = "managed_identity|client_secret|client_certificate|workload_identity",
     .help = "How the plugin gets Entra ID tokens: the machine's managed identity (IMDS), an "
             "app's client secret or certificate, or AKS workload identity (federated token "
             "file)."},
    F(SB_CFG_STRING, "tenant_id", 0, NULL,
      "Entra ID tenant; unset: the tenant the vault names in its 401 challenge. When set, a "
      "vault of another tenant is refused.",
      NULL),
    F(SB_CFG_STRING, "client_id", 0, NULL,
      "Application (client) id; required except for managed_identity, where it selects a "
      "user-assigned identity.",
      NULL),
    F(SB_CFG_STRING, "client_secret", SB_CFG_SECRET | SB_CFG_REQUIRED, NULL,
      "Client secret (auth: client_secret); reference it as ${file:...} or ${env:...}.",
      "auth=client_secret"),
    F(SB_CFG_STRING, "certificate_file", SB_CFG_PATH | SB_CFG_REQUIRED, NULL,
      "PEM certificate registered on the app (auth: client_certificate).",
      "auth=client_certificate"),
    F(SB_CFG_STRING, "private_key_file", SB_CFG_PATH | SB_CFG_REQUIRED, NULL,
      "PEM RSA private key of that certificate, read at each token request (auth: "
      "client_certificate).",
      "auth=client_certificate"),
    F(SB_CFG_STRING, "federated_token_file", SB_CFG_PATH | SB_CFG_REQUIRED, NULL,
      "Federated (projected service-account) token file, read afresh at each token request "
      "(auth: workload_identity), e.g. /var/run/secrets/azure/tokens/azure-identity-token.",
      "auth=workload_identity"),
    F(SB_CFG_STRING, "authority_host", SB_CFG_URL, "https://login.microsoftonline.com",
      "Entra ID authority host (https); sovereign clouds use their own.", NULL),
    F(SB_CFG_STRING, "imds_endpoint", SB_CFG_URL, "http://169.254.169.254",
      "Instance metadata service for managed_identity.", "auth=managed_identity"),
    {.struct_size = (uint32_t)sizeof(sb_config_field), .type = SB_CFG_ENUM,
     .key = "api_version", .default_value = "7.5", .min = 1, .max = 0,
     .enum_values = "7.4|7.5|7.6", .help = "Key Vault data-plane api-version."},
    F(SB_CFG_STRING_MAP, "tag_fence", 0, NULL,
      "Tags every secret this instance may see or touch must carry (key: value), checked on "
      "the client side for list, read, write and describe; creates carry them.",
      NULL),
    F(SB_CFG_STRING, "ca_file", SB_CFG_PATH, NULL,
      "PEM bundle of the CAs to trust for the vault and the authority; unset: system CAs.",
      NULL),
    {.struct_size = (uint32_t)sizeof(sb_config_field), .type = SB_CFG_BOOL,
     .key = "verify_challenge_resource", .default_value = "true", .min = 1, .max = 0,
     .help = "Require the vault's host to end with the challenge's resource host (as the "
             "Azure SDKs do); turn off only for a local emulator."},
    {.struct_size = (uint32_t)sizeof(sb_config_field), .type = SB_CFG_DURATION,
     .key = "request_timeout", .default_value = "10s", .min = 1000, .max = 300000,
     .help = "Timeout of one HTTP request (1s to 5m); the call's deadline still applies."},
};

static sb_status akv_init(const sb_host_api *host, sb_result *res)
{
    if (host == NULL)
        return SB_E_INVALID;
    if (host->abi_major != SB_PLUGIN_ABI_MAJOR ||
        !SB_HAS_FIELD(host, sb_host_api, call_remaining_ms)) {
        if (res && host->fail)
            return host->fail(res, SB_E_UNSUPPORTED, 0,
                              "azurekv plugin needs host API %d.0 or later, got %u.%u",
                              SB_PLUGIN_ABI_MAJOR, (unsigned)host->abi_major,
                              (unsigned)host->abi_minor);
        return SB_E_UNSUPPORTED;
    }
    akv_host = host;
    return SB_OK;
}

static void akv_fini(void) { akv_host = NULL; }

static void akv_instance_free(void *instance)
{
    akv_instance *ai = instance;
    if (ai == NULL)
        return;
    akv_host->secure_free(ai->token);
    for (size_t i = 0; i < ai->n_fence; i++) {
        free((char *)ai->fence[i].key);
        free((char *)ai->fence[i].value);
    }
    free(ai->fence);
    char *strings[] = {ai->name,          ai->vault_url,        ai->vault_host,
                       ai->api_version,   ai->authority_host,   ai->imds_endpoint,
                       ai->tenant_id,     ai->client_id,        ai->certificate_file,
                       ai->private_key_file, ai->federated_token_file, ai->ca_file};
    for (size_t i = 0; i < sizeof strings / sizeof strings[0]; i++)
        free(strings[i]);
    free(ai);
}

static sb_status config_error(akv_instance *ai, sb_result *res, const char *key, const char *why)
{
    akv_instance_free(ai);
    return akv_host->fail(res, SB_E_CONFIG, 0, "azurekv config: %s: %s", key, why);
}

/* Copies a base URL (scheme://host[:port], no path/query/userinfo) without
 * a trailing '/'; returns NULL or why it is unusable. */
static const char *base_url(const char *v, int https_only, char **dst, char **host_out)
{
    int https = strncmp(v, "https://", 8) == 0;
    if (!https && (https_only || strncmp(v, "http://", 7) != 0))
        return https_only ? "must be an https:// URL (Key Vault and Entra ID are https only)"
                          : "must be an http:// or https:// URL";
    const char *host = strstr(v, "://") + 3;
    size_t hn = strcspn(host, "/?#");
    if (hn == 0 || memchr(host, '@', hn) != NULL)
        return "must name a host and no user information";
    if (strpbrk(host, "?#\"\\ ") != NULL || host[hn + strspn(host + hn, "/")] != '\0')
        return "must not have a path, query or fragment";
    if ((*dst = strndup(v, (size_t)(host - v) + hn)) == NULL)
        return "out of memory";
    if (host_out) {
        size_t n = host[0] == '[' ? strcspn(host, "]") + 1 : strcspn(host, ":/");
        if ((*host_out = strndup(host, n)) == NULL)
            return "out of memory";
        for (char *p = *host_out; *p; p++)
            *p = (char)(*p >= 'A' && *p <= 'Z' ? *p + 32 : *p);
    }
    return NULL;
}

/* Ids are sent in form bodies and assertion claims: plain printable text. */
static int plain_id(const char *s)
{
    if (s == NULL || s[0] == '\0' || strlen(s) > 200)
        return 0;
    for (const char *p = s; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '-' || *p == '.' || *p == '_'))
            return 0;
    return 1;
}

static int dup_opt(const sb_config *cfg, const char *key, char **dst)
{
    const char *v = akv_host->config_string(cfg, key);
    if (v == NULL || v[0] == '\0')
        return 0;
    return (*dst = sbp_strdup(v)) == NULL ? -1 : 0;
}

static sb_status copy_fence(akv_instance *ai, const sb_config *cfg, sb_result *res)
{
    const sb_kv *fence = NULL;
    size_t nf = akv_host->config_entries(cfg, "tag_fence", &fence);
    if (nf == 0)
        return SB_OK;
    if ((ai->fence = calloc(nf, sizeof *ai->fence)) == NULL)
        return config_error(ai, res, "tag_fence", "out of memory");
    for (size_t i = 0; i < nf; i++, ai->n_fence++) {
        if (fence[i].key == NULL || fence[i].key[0] == '\0')
            return config_error(ai, res, "tag_fence", "tag names must not be empty");
        ai->fence[i].key = sbp_strdup(fence[i].key);
        ai->fence[i].value = sbp_strdup(fence[i].value ? fence[i].value : "");
        if (ai->fence[i].key == NULL || ai->fence[i].value == NULL) {
            ai->n_fence++;
            return config_error(ai, res, "tag_fence", "out of memory");
        }
    }
    return SB_OK;
}

static sb_status akv_instance_new(const sb_config *cfg, void **instance, sb_result *res)
{
    if (res == NULL)
        return SB_E_INVALID;
    if (instance)
        *instance = NULL;
    if (akv_host == NULL)
        return SB_E_INTERNAL;
    const sb_host_api *h = akv_host;
    if (cfg == NULL || instance == NULL)
        return h->fail(res, SB_E_INVALID, 0, "instance_new: config and instance must not be NULL");
    akv_instance *ai = calloc(1, sizeof *ai);
    if (ai == NULL)
        return h->fail(res, SB_E_INTERNAL, 0, "instance_new: out of memory");
    ai->name = sbp_strdup(h->config_instance_name(cfg));
    const char *why, *vault = h->config_string(cfg, "vault_url");
    if ((why = base_url(vault ? vault : "", 1, &ai->vault_url, &ai->vault_host)))
        return config_error(ai, res, "vault_url", why);
    const char *authority = h->config_string(cfg, "authority_host");
    if ((why = base_url(authority ? authority : "https://login.microsoftonline.com", 1,
                        &ai->authority_host, NULL)))
        return config_error(ai, res, "authority_host", why);
    const char *imds = h->config_string(cfg, "imds_endpoint");
    if ((why = base_url(imds ? imds : "http://169.254.169.254", 0, &ai->imds_endpoint, NULL)))
        return config_error(ai, res, "imds_endpoint", why);
    static const struct {
        const char *name;
        akv_auth_mode mode;
    } modes[] = {{"client_secret", AKV_AUTH_CLIENT_SECRET},
                 {"client_certificate", AKV_AUTH_CLIENT_CERTIFICATE},
                 {"managed_identity", AKV_AUTH_MANAGED_IDENTITY},
                 {"workload_identity", AKV_AUTH_WORKLOAD_IDENTITY}};
    const char *mode = h->config_string(cfg, "auth");
    for (size_t i = 0; mode && i < sizeof modes / sizeof modes[0]; i++)
        if (strcmp(mode, modes[i].name) == 0)
            ai->mode = modes[i].mode;
    if (ai->mode == 0)
        return config_error(ai, res, "auth", "unknown auth method");
    if (dup_opt(cfg, "tenant_id", &ai->tenant_id) || dup_opt(cfg, "client_id", &ai->client_id) ||
        dup_opt(cfg, "certificate_file", &ai->certificate_file) ||
        dup_opt(cfg, "private_key_file", &ai->private_key_file) ||
        dup_opt(cfg, "federated_token_file", &ai->federated_token_file) ||
        dup_opt(cfg, "ca_file", &ai->ca_file) || dup_opt(cfg, "api_version", &ai->api_version))
        return config_error(ai, res, "config", "out of memory");
    if (ai->tenant_id && !plain_id(ai->tenant_id))
        return config_error(ai, res, "tenant_id", "must be a tenant id or domain name");
    if (ai->client_id && !plain_id(ai->client_id))
        return config_error(ai, res, "client_id", "must be an application (client) id");
    if (ai->client_id == NULL && ai->mode != AKV_AUTH_MANAGED_IDENTITY)
        return config_error(ai, res, "client_id", "required for this auth method");
    ai->client_secret = h->config_secret(cfg, "client_secret");
    if (ai->mode == AKV_AUTH_CLIENT_SECRET && (ai->client_secret == NULL || !ai->client_secret[0]))
        return config_error(ai, res, "client_secret", "required for auth: client_secret");
    if (ai->api_version == NULL && (ai->api_version = sbp_strdup("7.5")) == NULL)
        return config_error(ai, res, "api_version", "out of memory");
    if (copy_fence(ai, cfg, res) != SB_OK)
        return SB_E_CONFIG;
    ai->verify_challenge_resource = h->config_bool(cfg, "verify_challenge_resource");
    int64_t timeout = h->config_int(cfg, "request_timeout");
    ai->timeout_ms = timeout >= 1000 && timeout <= 300000 ? (uint32_t)timeout : 10000u;
    if ((ai->token = h->secure_new(2048)) == NULL)
        return config_error(ai, res, "token", "out of secure memory");
    *instance = ai;
    return SB_OK;
}

SB_PLUGIN_DEFINE(.name = AKV_PLUGIN_NAME, .version = AKV_PLUGIN_VERSION,
                 .vendor = "Secrets Bridge", .license = "Apache-2.0",
                 .description = "Azure Key Vault secrets (get, versions, set with a "
                                "read-check-write-recheck compare-and-set, list with nextLink "
                                "and a client-side tag fence) with Entra ID client secret, "
                                "certificate, managed identity and workload identity auth.",
                 .capabilities = SB_CAP_PROVIDER,
                 .provider_features = SB_PROV_READ | SB_PROV_WRITE | SB_PROV_CAS |
                                      SB_PROV_LIST | SB_PROV_LABELS | SB_PROV_VERSIONS |
                                      SB_PROV_DESCRIBE,
                 .thread_model = SB_THREAD_SERIAL, SB_PLUGIN_CONFIG(akv_config_fields),
                 .init = akv_init, .fini = akv_fini, .instance_new = akv_instance_new,
                 .instance_free = akv_instance_free, .provider = &akv_provider_ops)
