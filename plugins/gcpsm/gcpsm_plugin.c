/*
 * plugins/gcpsm/gcpsm_plugin.c — the GCP Secret Manager plugin's descriptor,
 * config schema and instance lifecycle.
 *
 * Contract:
 *   - Exports only `sbridge_plugin_v1`. Capability: PROVIDER (read, versions,
 *     compare-and-set write, describe, list with labels). SB_THREAD_SERIAL:
 *     the per-instance token cache needs no lock.
 *   - instance_new checks what the schema cannot (project id shape, URL
 *     shapes, plain http only to loopback unless allow_insecure_http, the
 *     fields a credentials mode needs, the label fence against Google's label
 *     rules) and makes no network call: tokens are fetched on first use. The
 *     project and every endpoint come from the config only (a job carries a
 *     secret id, never a project or an address).
 */
#include "gcpsm.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const sb_host_api *gcpsm_host = NULL;

#define F(type_, key_, flags_, default_, help_, when_)                                             \
    {.struct_size = (uint32_t)sizeof(sb_config_field), .type = (type_), .key = (key_),            \
     .flags = (flags_), .default_value = (default_), .help = (help_), .min = 1, .max = 0,         \
     .when = (when_)}

static const sb_config_field gcpsm_config_fields[] = {
    F(SB_CFG_STRING, "project", SB_CFG_REQUIRED, NULL,
      "Project id or number that holds the secrets (never taken from a job).", NULL),
    F(SB_CFG_STRING, "endpoint", SB_CFG_URL, GCPSM_DEFAULT_ENDPOINT,
      "Secret Manager endpoint (a regional one such as "
      "https://secretmanager.europe-west1.rep.googleapis.com is not supported yet).",
      NULL),
    {.struct_size = (uint32_t)sizeof(sb_config_field), .type = SB_CFG_ENUM, .key = "credentials",
     .default_value = "metadata", .min = 1, .max = 0,
     .enum_values = "metadata|service_account|external_account",
     .help = "Where access tokens come from: the GCE/GKE/Cloud Run metadata server (no key to "
             "leak), a service-account key file (RS256 JWT exchanged at its token_uri) or a "
             "workload identity federation file (a subject token exchanged at STS)."},
    F(SB_CFG_STRING, "service_account_key_file", SB_CFG_PATH | SB_CFG_REQUIRED, NULL,
      "JSON key file of the service account (read for each new token, never logged).",
      "credentials=service_account"),
    F(SB_CFG_STRING, "external_account_file", SB_CFG_PATH | SB_CFG_REQUIRED, NULL,
      "Workload identity federation credentials file (type external_account, with a "
      "credential_source.file subject token).",
      "credentials=external_account"),
    F(SB_CFG_STRING, "token_uri", SB_CFG_URL, NULL,
      "OAuth2 token endpoint; unset: the key file's token_uri.", "credentials=service_account"),
    F(SB_CFG_STRING, "metadata_endpoint", SB_CFG_URL, "http://169.254.169.254",
      "Metadata server address (GCE_METADATA_HOST equivalent; plain http by design).",
      "credentials=metadata"),
    F(SB_CFG_STRING_MAP, "label_fence", 0, NULL,
      "Labels every secret this instance may see or touch must carry (key: value), checked on "
      "the client side for list, read, write and describe; new secrets get them.",
      NULL),
    F(SB_CFG_STRING, "ca_file", SB_CFG_PATH, NULL, "PEM bundle of extra CAs; unset: system CAs.",
      NULL),
    {.struct_size = (uint32_t)sizeof(sb_config_field), .type = SB_CFG_DURATION,
     .key = "request_timeout", .default_value = "10s", .min = 1000, .max = 300000,
     .help = "Timeout of one HTTP request to Google (1s to 5m)."},
    {.struct_size = (uint32_t)sizeof(sb_config_field), .type = SB_CFG_BOOL,
     .key = "allow_insecure_http", .default_value = "false", .min = 1, .max = 0,
     .help = "Allow plain http:// endpoints on non-loopback hosts (trusted networks only)."},
};

static sb_status gcpsm_init(const sb_host_api *host, sb_result *res)
{
    if (host == NULL)
        return SB_E_INVALID;
    if (host->abi_major != SB_PLUGIN_ABI_MAJOR ||
        !SB_HAS_FIELD(host, sb_host_api, call_remaining_ms)) {
        if (res && host->fail)
            return host->fail(res, SB_E_UNSUPPORTED, 0,
                              "gcpsm plugin needs host API %d.0 or later, got %u.%u",
                              SB_PLUGIN_ABI_MAJOR, (unsigned)host->abi_major,
                              (unsigned)host->abi_minor);
        return SB_E_UNSUPPORTED;
    }
    gcpsm_host = host;
    return SB_OK;
}

static void gcpsm_fini(void) { gcpsm_host = NULL; }

static void gcpsm_instance_free(void *instance)
{
    gcpsm_instance *gi = instance;
    if (gi == NULL)
        return;
    gcpsm_host->secure_free(gi->bearer);
    for (size_t i = 0; i < gi->n_fence; i++) {
        free((char *)gi->fence[i].key);
        free((char *)gi->fence[i].value);
    }
    free(gi->fence);
    char *strings[] = {gi->name,      gi->project,           gi->endpoint, gi->key_file,
                       gi->token_uri, gi->metadata_endpoint, gi->ca_file};
    for (size_t i = 0; i < sizeof strings / sizeof strings[0]; i++)
        free(strings[i]);
    free(gi);
}

static sb_status config_error(gcpsm_instance *gi, sb_result *res, const char *key,
                              const char *why)
{
    gcpsm_instance_free(gi);
    return gcpsm_host->fail(res, SB_E_CONFIG, 0, "gcpsm config: %s: %s", key, why);
}

/* Copies an endpoint into *dst without trailing '/'; NULL or why unusable. */
static const char *endpoint(const sb_config *cfg, const char *key, int insecure_ok, int plain_ok,
                            char **dst)
{
    const char *v = gcpsm_host->config_string(cfg, key);
    if (v == NULL)
        return NULL;
    const char *why = gcpsm_check_url(v, insecure_ok, plain_ok);
    if (why)
        return why;
    const char *slash = strchr(strstr(v, "://") + 3, '/');
    if (slash && slash[strspn(slash, "/")] != '\0')
        return "must not have a path (the API paths start at /v1/)";
    if ((*dst = sbp_strdup(v)) == NULL)
        return "out of memory";
    size_t n = strlen(*dst);
    while (n > 0 && (*dst)[n - 1] == '/')
        (*dst)[--n] = '\0';
    return NULL;
}

/* Project ids: 6-30 of [a-z0-9-] starting with a letter; numbers: digits. */
static int valid_project(const char *p)
{
    size_t n = p ? strlen(p) : 0;
    if (n == 0 || n > 30)
        return 0;
    int digits = 1;
    for (size_t i = 0; i < n; i++) {
        if (!((p[i] >= 'a' && p[i] <= 'z') || (p[i] >= '0' && p[i] <= '9') || p[i] == '-'))
            return 0;
        digits &= p[i] >= '0' && p[i] <= '9';
    }
    return digits || (n >= 6 && p[0] >= 'a' && p[0] <= 'z' && p[n - 1] != '-');
}

/* Google's label rules, ASCII part: keys [a-z][a-z0-9_-]{0,62}, values [a-z0-9_-]{0,63}. */
static int valid_label(const char *s, int key)
{
    size_t n = s ? strlen(s) : 0;
    if (n > 63 || (key && (n == 0 || !(s[0] >= 'a' && s[0] <= 'z'))))
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_' ||
              s[i] == '-' || (unsigned char)s[i] >= 0x80))
            return 0;
    return 1;
}

static sb_status gcpsm_instance_new(const sb_config *cfg, void **instance, sb_result *res)
{
    if (res == NULL)
        return SB_E_INVALID;
    if (instance)
        *instance = NULL;
    if (gcpsm_host == NULL)
        return SB_E_INTERNAL;
    const sb_host_api *h = gcpsm_host;
    if (cfg == NULL || instance == NULL)
        return h->fail(res, SB_E_INVALID, 0, "instance_new: config and instance must not be NULL");
    gcpsm_instance *gi = calloc(1, sizeof *gi);
    if (gi == NULL)
        return h->fail(res, SB_E_INTERNAL, 0, "instance_new: out of memory");
    gi->name = sbp_strdup(h->config_instance_name(cfg));
    const char *project = h->config_string(cfg, "project");
    if (!valid_project(project))
        return config_error(gi, res, "project",
                            "must be a project id (6-30 of a-z, 0-9 and '-', starting with a "
                            "letter) or a project number");
    gi->project = sbp_strdup(project);
    gi->insecure_ok = h->config_bool(cfg, "allow_insecure_http");
    if (gi->insecure_ok)
        gi->http_flags |= SB_HTTP_ALLOW_HTTP;
    const char *why;
    if ((why = endpoint(cfg, "endpoint", gi->insecure_ok, 0, &gi->endpoint)))
        return config_error(gi, res, "endpoint", why);
    if (gi->endpoint == NULL && (gi->endpoint = sbp_strdup(GCPSM_DEFAULT_ENDPOINT)) == NULL)
        return config_error(gi, res, "endpoint", "out of memory");
    if (gi->endpoint && strncmp(gi->endpoint, "http://", 7) == 0)
        gi->http_flags |= SB_HTTP_ALLOW_HTTP; /* loopback emulators; checked above */
    const char *mode = h->config_string(cfg, "credentials");
    gi->mode = mode && strcmp(mode, "metadata") == 0           ? GCPSM_CREDS_METADATA
               : mode && strcmp(mode, "external_account") == 0 ? GCPSM_CREDS_EXTERNAL
                                                               : GCPSM_CREDS_SERVICE_ACCOUNT;
    if (gi->mode == GCPSM_CREDS_EXTERNAL) {
        const char *xf = h->config_string(cfg, "external_account_file");
        if (xf == NULL || xf[0] != '/')
            return config_error(gi, res, "external_account_file",
                                "credentials: external_account needs the absolute path of a "
                                "workload identity federation credentials file");
        gi->key_file = sbp_strdup(xf);
    } else if (gi->mode == GCPSM_CREDS_SERVICE_ACCOUNT) {
        const char *kf = h->config_string(cfg, "service_account_key_file");
        if (kf == NULL || kf[0] != '/')
            return config_error(gi, res, "service_account_key_file",
                                "credentials: service_account needs the absolute path of a "
                                "JSON key file");
        gi->key_file = sbp_strdup(kf);
        const char *uri = h->config_string(cfg, "token_uri");
        if (uri && (why = gcpsm_check_url(uri, gi->insecure_ok, 0)))
            return config_error(gi, res, "token_uri", why);
        if (uri && (gi->token_uri = sbp_strdup(uri)) == NULL)
            return config_error(gi, res, "token_uri", "out of memory");
    } else {
        if ((why = endpoint(cfg, "metadata_endpoint", 0, 1, &gi->metadata_endpoint)))
            return config_error(gi, res, "metadata_endpoint", why);
        if (gi->metadata_endpoint == NULL &&
            (gi->metadata_endpoint = sbp_strdup("http://169.254.169.254")) == NULL)
            return config_error(gi, res, "metadata_endpoint", "out of memory");
    }
    const char *ca = h->config_string(cfg, "ca_file");
    if (ca && (gi->ca_file = sbp_strdup(ca)) == NULL)
        return config_error(gi, res, "ca_file", "out of memory");
    const sb_kv *fence = NULL;
    size_t nf = h->config_entries(cfg, "label_fence", &fence);
    if (nf) {
        if ((gi->fence = calloc(nf, sizeof *gi->fence)) == NULL)
            return config_error(gi, res, "label_fence", "out of memory");
        for (size_t i = 0; i < nf; i++, gi->n_fence++) {
            const char *v = fence[i].value ? fence[i].value : "";
            if (!valid_label(fence[i].key, 1) || !valid_label(v, 0))
                return config_error(gi, res, "label_fence",
                                    "label keys are 1-63 of lowercase letters, digits, '_' and "
                                    "'-' starting with a letter; values 0-63 of the same");
            gi->fence[i].key = sbp_strdup(fence[i].key);
            gi->fence[i].value = sbp_strdup(v);
            if (gi->fence[i].key == NULL || gi->fence[i].value == NULL) {
                gi->n_fence++;
                return config_error(gi, res, "label_fence", "out of memory");
            }
        }
    }
    int64_t timeout = h->config_int(cfg, "request_timeout");
    gi->timeout_ms = timeout > 0 && timeout <= 300000 ? (uint32_t)timeout : GCPSM_DEFAULT_TIMEOUT_MS;
    if (gi->name == NULL || gi->project == NULL ||
        (gi->mode != GCPSM_CREDS_METADATA && gi->key_file == NULL))
        return config_error(gi, res, "config", "out of memory");
    if ((gi->bearer = h->secure_new(2048)) == NULL)
        return config_error(gi, res, "credentials", "out of secure memory");
    *instance = gi;
    return SB_OK;
}

SB_PLUGIN_DEFINE(.name = GCPSM_PLUGIN_NAME, .version = GCPSM_PLUGIN_VERSION,
                 .vendor = "Secrets Bridge", .license = "Apache-2.0",
                 .description = "GCP Secret Manager (OAuth2 with a service-account RS256 JWT or "
                                "the metadata server; :access with CRC32C checks, "
                                "compare-and-set :addVersion against the newest enabled "
                                "version, list with filter and pageToken and a client-side "
                                "label fence).",
                 .capabilities = SB_CAP_PROVIDER,
                 .provider_features = SB_PROV_READ | SB_PROV_WRITE | SB_PROV_CAS |
                                      SB_PROV_LIST | SB_PROV_LABELS | SB_PROV_VERSIONS |
                                      SB_PROV_DESCRIBE,
                 .thread_model = SB_THREAD_SERIAL, SB_PLUGIN_CONFIG(gcpsm_config_fields),
                 .init = gcpsm_init, .fini = gcpsm_fini, .instance_new = gcpsm_instance_new,
                 .instance_free = gcpsm_instance_free, .provider = &gcpsm_provider_ops)
