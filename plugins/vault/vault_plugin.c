/*
 * plugins/vault/vault_plugin.c — the Vault plugin's descriptor, config
 * schema and instance lifecycle.
 *
 * Contract:
 *   - Exports only `sbridge_plugin_v1` (SB_PLUGIN_DEFINE; the build uses
 *     -fvisibility=hidden). Capabilities: PROVIDER (KV v2: read, versions,
 *     CAS write, describe, recursive list with custom_metadata labels) and
 *     KMS (Transit). SB_THREAD_SERIAL: the host never runs two operations on
 *     one instance at once, so an instance's token state needs no lock.
 *   - init keeps the host API table (the only global); fini forgets it.
 *   - instance_new turns the host-validated config into a vault_instance:
 *     copies the non-secret strings, normalises mounts and prefix, checks
 *     what the schema cannot express (URL shape, plain http consent,
 *     the fields the chosen auth method needs) and makes no network call —
 *     login happens on first use. Secrets (token, secret_id) stay in the
 *     host's secure config storage and are referenced, not copied.
 */
#include "vault.h"

#include <stdlib.h>
#include <string.h>

const sb_host_api *vault_host = NULL;

#define F(type_, key_, flags_, default_, help_, when_)                                             \
    {.struct_size = (uint32_t)sizeof(sb_config_field), .type = (type_), .key = (key_),            \
     .flags = (flags_), .default_value = (default_), .help = (help_), .min = 1, .max = 0,         \
     .when = (when_)}

static const sb_config_field vault_config_fields[] = {
    F(SB_CFG_STRING, "address", SB_CFG_REQUIRED | SB_CFG_URL, NULL,
      "Vault server address without /v1, e.g. https://vault.example.com:8200.", NULL),
    F(SB_CFG_STRING, "namespace", 0, NULL,
      "Vault Enterprise namespace sent as X-Vault-Namespace (e.g. team-a/); unset: root.", NULL),
    {.struct_size = (uint32_t)sizeof(sb_config_field), .type = SB_CFG_ENUM, .key = "auth",
     .default_value = "token", .min = 1, .max = 0, .enum_values = "token|approle|kubernetes",
     .help = "How the plugin logs in to Vault: a static token, AppRole, or the Kubernetes "
             "service-account token."},
    F(SB_CFG_STRING, "token", SB_CFG_SECRET | SB_CFG_REQUIRED, NULL,
      "Vault token (auth: token); reference it as ${file:...} or ${env:...}.", "auth=token"),
    F(SB_CFG_STRING, "role_id", SB_CFG_REQUIRED, NULL, "AppRole role_id (auth: approle).",
      "auth=approle"),
    F(SB_CFG_STRING, "secret_id", SB_CFG_SECRET | SB_CFG_REQUIRED, NULL,
      "AppRole secret_id (auth: approle); reference it as ${file:...} or ${env:...}.",
      "auth=approle"),
    F(SB_CFG_STRING, "approle_mount", 0, "approle",
      "Mount path of the AppRole auth method (auth: approle).", "auth=approle"),
    F(SB_CFG_STRING, "role", SB_CFG_REQUIRED, NULL,
      "Vault Kubernetes auth role to log in as (auth: kubernetes).", "auth=kubernetes"),
    F(SB_CFG_STRING, "token_path", SB_CFG_PATH,
      "/var/run/secrets/kubernetes.io/serviceaccount/token",
      "Service-account token file, read afresh at every login (auth: kubernetes).",
      "auth=kubernetes"),
    F(SB_CFG_STRING, "kubernetes_mount", 0, "kubernetes",
      "Mount path of the Kubernetes auth method (auth: kubernetes).", "auth=kubernetes"),
    F(SB_CFG_STRING, "kv_mount", 0, "secret", "Mount path of the KV version 2 secrets engine.",
      NULL),
    F(SB_CFG_STRING, "prefix", 0, NULL,
      "Path inside kv_mount this instance is confined to (e.g. team-a/); unset: the whole "
      "mount.",
      NULL),
    F(SB_CFG_STRING, "transit_mount", 0, "transit",
      "Mount path of the Transit secrets engine used for the KMS capability.", NULL),
    F(SB_CFG_STRING, "transit_key", 0, "sbridge",
      "Name of the Transit key used to wrap and unwrap.", NULL),
    F(SB_CFG_STRING, "ca_file", SB_CFG_PATH, NULL,
      "PEM bundle of extra CAs that sign Vault's certificate; unset: system CAs.", NULL),
    F(SB_CFG_STRING, "tls_server_name", 0, NULL,
      "Name to verify on Vault's certificate (and send as SNI/Host) when it differs from the "
      "address's host; the connection still goes to the address.",
      NULL),
    {.struct_size = (uint32_t)sizeof(sb_config_field), .type = SB_CFG_DURATION,
     .key = "request_timeout", .default_value = "10s", .min = 1000, .max = 300000,
     .help = "Timeout of one HTTP request to Vault (1s to 5m); the call's deadline still "
             "applies."},
    {.struct_size = (uint32_t)sizeof(sb_config_field), .type = SB_CFG_BOOL,
     .key = "allow_insecure_http", .default_value = "false", .min = 1, .max = 0,
     .help = "Allow a plain http:// address on a non-loopback host (trusted networks only); "
             "plain http to loopback (127.0.0.0/8, ::1, localhost) is always allowed."},
};

/* ---- lifecycle ----------------------------------------------------------- */

static sb_status vault_init(const sb_host_api *host, sb_result *res)
{
    if (host == NULL)
        return SB_E_INVALID;
    if (host->abi_major != SB_PLUGIN_ABI_MAJOR ||
        !SB_HAS_FIELD(host, sb_host_api, call_remaining_ms)) {
        if (res && host->fail)
            return host->fail(res, SB_E_UNSUPPORTED, 0,
                              "vault plugin needs host API %d.0 or later, got %u.%u",
                              SB_PLUGIN_ABI_MAJOR, (unsigned)host->abi_major,
                              (unsigned)host->abi_minor);
        return SB_E_UNSUPPORTED;
    }
    vault_host = host;
    return SB_OK;
}

static void vault_fini(void)
{
    vault_host = NULL;
}

static void vault_instance_free(void *instance)
{
    vault_instance *vi = instance;
    if (vi == NULL)
        return;
    if (vault_host && vi->tok.token)
        vault_host->secure_free(vi->tok.token);
    char *strings[] = {vi->name,          vi->address,         vi->vault_namespace,
                       vi->approle_mount, vi->role_id,         vi->kubernetes_mount,
                       vi->kubernetes_role, vi->token_path,    vi->kv_mount,
                       vi->prefix,        vi->transit_mount,   vi->transit_key,
                       vi->ca_file,       vi->tls_server_name};
    for (size_t i = 0; i < sizeof strings / sizeof strings[0]; i++)
        free(strings[i]);
    free(vi);
}

/* A mount path without surrounding '/'; NULL (with *why) when unusable. */
static char *mount_path(const char *text, const char *fallback, const char **why)
{
    const char *s = text && text[0] ? text : fallback;
    while (*s == '/')
        s++;
    char *copy = vault_strdup(s);
    if (copy == NULL) {
        *why = "out of memory";
        return NULL;
    }
    size_t n = strlen(copy);
    while (n > 0 && copy[n - 1] == '/')
        copy[--n] = '\0';
    if ((*why = vault_check_path(copy)) != NULL) {
        free(copy);
        return NULL;
    }
    return copy;
}

/* "a/b", "/a/b/" -> "a/b/"; unset or "" -> "". */
static char *normalise_prefix(const char *text, const char **why)
{
    const char *s = text ? text : "";
    while (*s == '/')
        s++;
    vault_str out = {0};
    vault_str_add(&out, s);
    while (out.len > 0 && out.p[out.len - 1] == '/')
        out.p[--out.len] = '\0';
    if (out.len > 0) {
        if ((*why = vault_check_path(out.p)) != NULL) {
            vault_str_free(&out);
            return NULL;
        }
        vault_str_add(&out, "/");
    } else {
        vault_str_add(&out, "");
    }
    if (out.failed) {
        *why = "out of memory";
        vault_str_free(&out);
        return NULL;
    }
    return out.p;
}

/* The host allows plain http to these without SB_HTTP_ALLOW_HTTP. */
static int is_loopback(const char *host)
{
    size_t n = strcspn(host, ":/");
    if (host[0] == '[')
        return strncmp(host, "[::1]", 5) == 0;
    return strncmp(host, "127.", 4) == 0 || (n == 9 && strncmp(host, "localhost", 9) == 0);
}

static sb_status config_error(vault_instance *vi, sb_result *res, const char *key,
                              const char *why)
{
    vault_instance_free(vi);
    return vault_host->fail(res, SB_E_CONFIG, 0, "vault config: %s: %s", key, why);
}

static sb_status vault_instance_new(const sb_config *cfg, void **instance, sb_result *res)
{
    if (res == NULL)
        return SB_E_INVALID;
    if (instance)
        *instance = NULL;
    if (vault_host == NULL)
        return SB_E_INTERNAL;
    const sb_host_api *h = vault_host;
    if (cfg == NULL || instance == NULL)
        return h->fail(res, SB_E_INVALID, 0, "instance_new: config and instance must not be NULL");

    vault_instance *vi = calloc(1, sizeof *vi);
    if (vi == NULL)
        return h->fail(res, SB_E_INTERNAL, 0, "instance_new: out of memory");
    const char *why = NULL;
    vi->name = vault_strdup(h->config_instance_name(cfg));

    const char *address = h->config_string(cfg, "address");
    if (address == NULL)
        return config_error(vi, res, "address", "required (e.g. https://vault.example.com:8200)");
    int plain = strncmp(address, "http://", 7) == 0;
    if (!plain && strncmp(address, "https://", 8) != 0)
        return config_error(vi, res, "address", "must start with https:// (or http://)");
    if (strpbrk(address, "?#") != NULL)
        return config_error(vi, res, "address", "must not contain a query or fragment");
    vi->address = vault_strdup(address);
    if (vi->address == NULL)
        return config_error(vi, res, "address", "out of memory");
    for (size_t n = strlen(vi->address); n > 0 && vi->address[n - 1] == '/'; n--)
        vi->address[n - 1] = '\0';
    if (strlen(vi->address) > 6 && strcmp(vi->address + strlen(vi->address) - 3, "/v1") == 0)
        return config_error(vi, res, "address", "give the server address without /v1");
    if (h->config_bool(cfg, "allow_insecure_http"))
        vi->http_flags |= SB_HTTP_ALLOW_HTTP;
    else if (plain && !is_loopback(vi->address + 7))
        return config_error(vi, res, "address",
                            "plain http:// to a non-loopback host needs allow_insecure_http: "
                            "true; use https://");

    const char *ns = h->config_string(cfg, "namespace");
    for (const char *p = ns; p && *p; p++)
        if ((unsigned char)*p < 0x21 || (unsigned char)*p > 0x7e)
            return config_error(vi, res, "namespace",
                                "must be printable ASCII without spaces (e.g. team-a/)");
    if (ns && ns[0] && (vi->vault_namespace = vault_strdup(ns)) == NULL)
        return config_error(vi, res, "namespace", "out of memory");
    const char *sni = h->config_string(cfg, "tls_server_name");
    for (const char *p = sni; p && *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '-' || *p == '.'))
            return config_error(vi, res, "tls_server_name",
                                "must be a DNS name such as vault.internal");
    if (sni && sni[0] && (vi->tls_server_name = vault_strdup(sni)) == NULL)
        return config_error(vi, res, "tls_server_name", "out of memory");
    const char *ca = h->config_string(cfg, "ca_file");
    if (ca && (vi->ca_file = vault_strdup(ca)) == NULL)
        return config_error(vi, res, "ca_file", "out of memory");

    if ((vi->kv_mount = mount_path(h->config_string(cfg, "kv_mount"), "secret", &why)) == NULL)
        return config_error(vi, res, "kv_mount", why);
    if ((vi->prefix = normalise_prefix(h->config_string(cfg, "prefix"), &why)) == NULL)
        return config_error(vi, res, "prefix", why);
    if ((vi->transit_mount =
             mount_path(h->config_string(cfg, "transit_mount"), "transit", &why)) == NULL)
        return config_error(vi, res, "transit_mount", why);
    if ((vi->transit_key = mount_path(h->config_string(cfg, "transit_key"), "sbridge", &why)) ==
        NULL)
        return config_error(vi, res, "transit_key", why);
    if (strchr(vi->transit_key, '/') != NULL)
        return config_error(vi, res, "transit_key", "a Transit key name cannot contain '/'");
    if (strlen(vi->transit_mount) + strlen(vi->transit_key) > 200)
        return config_error(vi, res, "transit_mount", "mount and key names are too long");

    int64_t timeout = h->config_int(cfg, "request_timeout");
    vi->timeout_ms = timeout > 0 && timeout <= 300000 ? (uint32_t)timeout : VAULT_DEFAULT_TIMEOUT_MS;

    const char *auth = h->config_string(cfg, "auth");
    if (auth == NULL || strcmp(auth, "token") == 0) {
        vi->auth = VAULT_AUTH_TOKEN;
        vi->static_token = h->config_secret(cfg, "token");
        if (vi->static_token == NULL || vi->static_token[0] == '\0')
            return config_error(vi, res, "token", "required when auth is token");
    } else if (strcmp(auth, "approle") == 0) {
        vi->auth = VAULT_AUTH_APPROLE;
        const char *role_id = h->config_string(cfg, "role_id");
        vi->secret_id = h->config_secret(cfg, "secret_id");
        if (role_id == NULL || role_id[0] == '\0')
            return config_error(vi, res, "role_id", "required when auth is approle");
        if (vi->secret_id == NULL || vi->secret_id[0] == '\0')
            return config_error(vi, res, "secret_id", "required when auth is approle");
        if ((vi->role_id = vault_strdup(role_id)) == NULL)
            return config_error(vi, res, "role_id", "out of memory");
        if ((vi->approle_mount =
                 mount_path(h->config_string(cfg, "approle_mount"), "approle", &why)) == NULL)
            return config_error(vi, res, "approle_mount", why);
    } else if (strcmp(auth, "kubernetes") == 0) {
        vi->auth = VAULT_AUTH_KUBERNETES;
        const char *role = h->config_string(cfg, "role");
        if (role == NULL || role[0] == '\0')
            return config_error(vi, res, "role", "required when auth is kubernetes");
        const char *path = h->config_string(cfg, "token_path");
        if (path == NULL)
            path = "/var/run/secrets/kubernetes.io/serviceaccount/token";
        if (path[0] != '/')
            return config_error(vi, res, "token_path", "must be an absolute path");
        if ((vi->kubernetes_role = vault_strdup(role)) == NULL ||
            (vi->token_path = vault_strdup(path)) == NULL)
            return config_error(vi, res, "role", "out of memory");
        if ((vi->kubernetes_mount =
                 mount_path(h->config_string(cfg, "kubernetes_mount"), "kubernetes", &why)) ==
            NULL)
            return config_error(vi, res, "kubernetes_mount", why);
    } else {
        return config_error(vi, res, "auth", "must be one of token, approle, kubernetes");
    }

    vi->tok.token = h->secure_new(128);
    if (vi->tok.token == NULL)
        return config_error(vi, res, "token", "out of secure memory");
    *instance = vi;
    return SB_OK;
}

SB_PLUGIN_DEFINE(.name = VAULT_PLUGIN_NAME, .version = VAULT_PLUGIN_VERSION,
                 .vendor = "Secrets Bridge", .license = "Apache-2.0",
                 .description = "HashiCorp Vault: KV version 2 secrets (read, versions, "
                                "compare-and-set write, metadata, recursive list with "
                                "custom_metadata labels) and Transit as KMS.",
                 .capabilities = SB_CAP_PROVIDER | SB_CAP_KMS,
                 .provider_features = SB_PROV_READ | SB_PROV_WRITE | SB_PROV_CAS |
                                      SB_PROV_LIST | SB_PROV_LABELS | SB_PROV_VERSIONS |
                                      SB_PROV_DESCRIBE,
                 .thread_model = SB_THREAD_SERIAL, SB_PLUGIN_CONFIG(vault_config_fields),
                 .init = vault_init, .fini = vault_fini, .instance_new = vault_instance_new,
                 .instance_free = vault_instance_free, .provider = &vault_provider_ops,
                 .kms = &vault_kms_ops)
