/*
 * plugins/awssm/awssm_plugin.c — the AWS Secrets Manager plugin's descriptor,
 * config schema and instance lifecycle.
 *
 * Contract:
 *   - Exports only `sbridge_plugin_v1`. Capabilities: PROVIDER (read,
 *     versions, compare-and-set write, describe, list with tags as labels)
 *     and KMS (AWS KMS). SB_THREAD_SERIAL: per-instance credential caches
 *     need no lock.
 *   - instance_new checks what the schema cannot (URL shapes, plain http only
 *     to loopback unless allow_insecure_http, the fields a credentials mode
 *     needs, the tag fence) and makes no network call: credentials are
 *     resolved on first use. Region and endpoints come from the config only;
 *     endpoints default to the public AWS ones for the region. Secret config
 *     values stay in the host's secure config storage, referenced.
 */
#include "awssm.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const sb_host_api *awssm_host = NULL;

#define F(type_, key_, flags_, default_, help_, when_)                                             \
    {.struct_size = (uint32_t)sizeof(sb_config_field), .type = (type_), .key = (key_),            \
     .flags = (flags_), .default_value = (default_), .help = (help_), .min = 1, .max = 0,         \
     .when = (when_)}

static const sb_config_field awssm_config_fields[] = {
    F(SB_CFG_STRING, "region", SB_CFG_REQUIRED, NULL,
      "AWS region of the secrets and the KMS key, e.g. eu-west-1 (never taken from a job).", NULL),
    F(SB_CFG_STRING, "endpoint", SB_CFG_URL, NULL,
      "Secrets Manager endpoint; unset: https://secretsmanager.<region>.amazonaws.com.", NULL),
    F(SB_CFG_STRING, "kms_endpoint", SB_CFG_URL, NULL,
      "KMS endpoint; unset: https://kms.<region>.amazonaws.com.", NULL),
    F(SB_CFG_STRING, "sts_endpoint", SB_CFG_URL, NULL,
      "STS endpoint for web identity and role_arn; unset: https://sts.<region>.amazonaws.com.",
      NULL),
    F(SB_CFG_STRING, "imds_endpoint", SB_CFG_URL, "http://169.254.169.254",
      "EC2 instance metadata service (IMDSv2) address.", NULL),
    {.struct_size = (uint32_t)sizeof(sb_config_field), .type = SB_CFG_ENUM, .key = "credentials",
     .default_value = "chain", .min = 1, .max = 0,
     .enum_values = "chain|static|env|profile|web_identity|container|imds",
     .help = "Where credentials come from: the SDK-style chain (static keys, environment, shared "
             "files, web identity, container endpoint, IMDSv2) or exactly one source."},
    F(SB_CFG_STRING, "access_key_id", SB_CFG_SECRET, NULL,
      "Static access key id (credentials: static or chain); reference it as ${env:...}.", NULL),
    F(SB_CFG_STRING, "secret_access_key", SB_CFG_SECRET, NULL,
      "Static secret access key; reference it as ${file:...} or ${env:...}.", NULL),
    F(SB_CFG_STRING, "session_token", SB_CFG_SECRET, NULL,
      "Session token that goes with temporary static keys.", NULL),
    F(SB_CFG_STRING, "profile", 0, NULL,
      "Profile of the shared files; unset: AWS_PROFILE or default.", NULL),
    F(SB_CFG_STRING, "shared_credentials_file", SB_CFG_PATH, NULL,
      "Shared credentials file; unset: AWS_SHARED_CREDENTIALS_FILE or ~/.aws/credentials.", NULL),
    F(SB_CFG_STRING, "config_file", SB_CFG_PATH, NULL,
      "Shared config file; unset: AWS_CONFIG_FILE or ~/.aws/config.", NULL),
    F(SB_CFG_STRING, "web_identity_role_arn", 0, NULL,
      "Role to assume with a web identity token; unset: AWS_ROLE_ARN.", NULL),
    F(SB_CFG_STRING, "web_identity_token_file", SB_CFG_PATH, NULL,
      "Web identity (OIDC) token file, read afresh each time; unset: "
      "AWS_WEB_IDENTITY_TOKEN_FILE.",
      NULL),
    F(SB_CFG_STRING, "role_arn", 0, NULL,
      "Optional role to assume (STS AssumeRole) with the credentials found.", NULL),
    F(SB_CFG_STRING, "role_session_name", 0, "sbridge",
      "Session name for AssumeRole / AssumeRoleWithWebIdentity.", NULL),
    F(SB_CFG_STRING, "external_id", 0, NULL, "ExternalId sent with AssumeRole.", NULL),
    F(SB_CFG_STRING, "kms_key_arn", 0, NULL,
      "ARN of the KMS key used by the KMS capability; unset: no KMS.", NULL),
    F(SB_CFG_STRING_MAP, "tag_fence", 0, NULL,
      "Tags every secret this instance may see or touch must carry (key: value), checked on "
      "the client side for list, read, write and describe.",
      NULL),
    F(SB_CFG_STRING, "ca_file", SB_CFG_PATH, NULL, "PEM bundle of extra CAs; unset: system CAs.",
      NULL),
    {.struct_size = (uint32_t)sizeof(sb_config_field), .type = SB_CFG_DURATION,
     .key = "request_timeout", .default_value = "10s", .min = 1000, .max = 300000,
     .help = "Timeout of one HTTP request to AWS (1s to 5m)."},
    {.struct_size = (uint32_t)sizeof(sb_config_field), .type = SB_CFG_BOOL,
     .key = "allow_insecure_http", .default_value = "false", .min = 1, .max = 0,
     .help = "Allow plain http:// endpoints on non-loopback hosts (trusted networks only)."},
};

static sb_status awssm_init(const sb_host_api *host, sb_result *res)
{
    if (host == NULL)
        return SB_E_INVALID;
    if (host->abi_major != SB_PLUGIN_ABI_MAJOR ||
        !SB_HAS_FIELD(host, sb_host_api, call_remaining_ms)) {
        if (res && host->fail)
            return host->fail(res, SB_E_UNSUPPORTED, 0,
                              "awssm plugin needs host API %d.0 or later, got %u.%u",
                              SB_PLUGIN_ABI_MAJOR, (unsigned)host->abi_major,
                              (unsigned)host->abi_minor);
        return SB_E_UNSUPPORTED;
    }
    awssm_host = host;
    return SB_OK;
}

static void awssm_fini(void) { awssm_host = NULL; }

static void awssm_instance_free(void *instance)
{
    awssm_instance *ai = instance;
    if (ai == NULL)
        return;
    awssm_creds_free(&ai->base);
    awssm_creds_free(&ai->role);
    for (size_t i = 0; i < ai->n_fence; i++) {
        free((char *)ai->fence[i].key);
        free((char *)ai->fence[i].value);
    }
    free(ai->fence);
    char *strings[] = {ai->name,         ai->region,           ai->sm_endpoint,
                       ai->kms_endpoint, ai->sts_endpoint,     ai->imds_endpoint,
                       ai->ca_file,      ai->kms_key_arn,      ai->profile,
                       ai->credentials_file, ai->config_file,  ai->web_identity_role_arn,
                       ai->web_identity_token_file, ai->role_arn, ai->role_session_name,
                       ai->external_id};
    for (size_t i = 0; i < sizeof strings / sizeof strings[0]; i++)
        free(strings[i]);
    free(ai);
}

static sb_status config_error(awssm_instance *ai, sb_result *res, const char *key,
                              const char *why)
{
    awssm_instance_free(ai);
    return awssm_host->fail(res, SB_E_CONFIG, 0, "awssm config: %s: %s", key, why);
}

static int is_loopback(const char *hostpart)
{
    size_t n = strcspn(hostpart, ":/");
    if (hostpart[0] == '[')
        return strncmp(hostpart, "[::1]", 5) == 0;
    return strncmp(hostpart, "127.", 4) == 0 || (n == 9 && strncmp(hostpart, "localhost", 9) == 0);
}

/* Copies an endpoint (or the regional default) into *dst without a trailing
 * '/'; returns NULL or why it is unusable. */
static const char *endpoint(const sb_config *cfg, const char *key, const char *service,
                            const char *region, int insecure_ok, int imds, char **dst)
{
    const char *v = awssm_host->config_string(cfg, key);
    awssm_str s = {0};
    if (v == NULL) {
        awssm_str_add(&s, "https://");
        awssm_str_add(&s, service);
        awssm_str_add(&s, ".");
        awssm_str_add(&s, region);
        awssm_str_add(&s, ".amazonaws.com");
    } else {
        int plain = strncmp(v, "http://", 7) == 0;
        if (!plain && strncmp(v, "https://", 8) != 0)
            return "must start with https:// (or http://)";
        if (strpbrk(v, "?#") != NULL)
            return "must not contain a query or fragment";
        if (plain && !imds && !insecure_ok && !is_loopback(v + 7))
            return "plain http:// to a non-loopback host needs allow_insecure_http: true";
        const char *slash = strchr(strstr(v, "://") + 3, '/');
        if (slash && slash[strspn(slash, "/")] != '\0')
            return "must not have a path (AWS's JSON protocol posts to /)";
        awssm_str_add(&s, v);
        while (s.len > 0 && s.p[s.len - 1] == '/')
            s.p[--s.len] = '\0';
    }
    if (s.failed)
        return "out of memory";
    *dst = s.p;
    return NULL;
}

static int valid_region(const char *r)
{
    if (r == NULL || r[0] == '\0' || strlen(r) > 32)
        return 0;
    for (const char *p = r; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-'))
            return 0;
    return 1;
}

static int dup_opt(const sb_config *cfg, const char *key, char **dst)
{
    const char *v = awssm_host->config_string(cfg, key);
    if (v == NULL || v[0] == '\0')
        return 0;
    return (*dst = awssm_strdup(v)) == NULL ? -1 : 0;
}

static sb_status awssm_instance_new(const sb_config *cfg, void **instance, sb_result *res)
{
    if (res == NULL)
        return SB_E_INVALID;
    if (instance)
        *instance = NULL;
    if (awssm_host == NULL)
        return SB_E_INTERNAL;
    const sb_host_api *h = awssm_host;
    if (cfg == NULL || instance == NULL)
        return h->fail(res, SB_E_INVALID, 0, "instance_new: config and instance must not be NULL");
    awssm_instance *ai = calloc(1, sizeof *ai);
    if (ai == NULL)
        return h->fail(res, SB_E_INTERNAL, 0, "instance_new: out of memory");
    ai->name = awssm_strdup(h->config_instance_name(cfg));
    const char *region = h->config_string(cfg, "region");
    if (!valid_region(region))
        return config_error(ai, res, "region", "must be an AWS region name such as eu-west-1");
    if ((ai->region = awssm_strdup(region)) == NULL)
        return config_error(ai, res, "region", "out of memory");
    int insecure = h->config_bool(cfg, "allow_insecure_http");
    if (insecure)
        ai->http_flags |= SB_HTTP_ALLOW_HTTP;
    const char *why;
    if ((why = endpoint(cfg, "endpoint", "secretsmanager", region, insecure, 0, &ai->sm_endpoint)))
        return config_error(ai, res, "endpoint", why);
    if ((why = endpoint(cfg, "kms_endpoint", "kms", region, insecure, 0, &ai->kms_endpoint)))
        return config_error(ai, res, "kms_endpoint", why);
    if ((why = endpoint(cfg, "sts_endpoint", "sts", region, insecure, 0, &ai->sts_endpoint)))
        return config_error(ai, res, "sts_endpoint", why);
    if ((why = endpoint(cfg, "imds_endpoint", "imds", region, insecure, 1, &ai->imds_endpoint)))
        return config_error(ai, res, "imds_endpoint", why);

    const char *mode = h->config_string(cfg, "credentials");
    static const struct {
        const char *name;
        awssm_cred_mode mode;
    } modes[] = {{"chain", AWSSM_CREDS_CHAIN},     {"static", AWSSM_CREDS_STATIC},
                 {"env", AWSSM_CREDS_ENV},         {"profile", AWSSM_CREDS_PROFILE},
                 {"web_identity", AWSSM_CREDS_WEB_IDENTITY}, {"imds", AWSSM_CREDS_IMDS},
                 {"container", AWSSM_CREDS_CONTAINER}};
    ai->mode = AWSSM_CREDS_CHAIN;
    for (size_t i = 0; mode && i < sizeof modes / sizeof modes[0]; i++)
        if (strcmp(mode, modes[i].name) == 0)
            ai->mode = modes[i].mode;
    ai->cfg_access_key_id = h->config_secret(cfg, "access_key_id");
    ai->cfg_secret_key = h->config_secret(cfg, "secret_access_key");
    ai->cfg_session_token = h->config_secret(cfg, "session_token");
    if (ai->mode == AWSSM_CREDS_STATIC && (ai->cfg_access_key_id == NULL || ai->cfg_secret_key == NULL))
        return config_error(ai, res, "access_key_id",
                            "credentials: static needs access_key_id and secret_access_key");
    if ((ai->cfg_access_key_id == NULL) != (ai->cfg_secret_key == NULL))
        return config_error(ai, res, "access_key_id",
                            "set access_key_id and secret_access_key together");
    if (dup_opt(cfg, "profile", &ai->profile) || dup_opt(cfg, "shared_credentials_file", &ai->credentials_file) ||
        dup_opt(cfg, "config_file", &ai->config_file) ||
        dup_opt(cfg, "web_identity_role_arn", &ai->web_identity_role_arn) ||
        dup_opt(cfg, "web_identity_token_file", &ai->web_identity_token_file) ||
        dup_opt(cfg, "role_arn", &ai->role_arn) || dup_opt(cfg, "role_session_name", &ai->role_session_name) ||
        dup_opt(cfg, "external_id", &ai->external_id) || dup_opt(cfg, "kms_key_arn", &ai->kms_key_arn) ||
        dup_opt(cfg, "ca_file", &ai->ca_file))
        return config_error(ai, res, "config", "out of memory");
    if (ai->role_arn && strncmp(ai->role_arn, "arn:", 4) != 0)
        return config_error(ai, res, "role_arn", "must be an IAM role ARN (arn:aws:iam::...)");
    if (ai->kms_key_arn && strncmp(ai->kms_key_arn, "arn:", 4) != 0)
        return config_error(ai, res, "kms_key_arn", "must be a KMS key ARN (arn:aws:kms:...)");

    const sb_kv *fence = NULL;
    size_t nf = h->config_entries(cfg, "tag_fence", &fence);
    if (nf) {
        if ((ai->fence = calloc(nf, sizeof *ai->fence)) == NULL)
            return config_error(ai, res, "tag_fence", "out of memory");
        for (size_t i = 0; i < nf; i++, ai->n_fence++) {
            if (fence[i].key == NULL || fence[i].key[0] == '\0')
                return config_error(ai, res, "tag_fence", "tag keys must not be empty");
            ai->fence[i].key = awssm_strdup(fence[i].key);
            ai->fence[i].value = awssm_strdup(fence[i].value ? fence[i].value : "");
            if (ai->fence[i].key == NULL || ai->fence[i].value == NULL) {
                ai->n_fence++;
                return config_error(ai, res, "tag_fence", "out of memory");
            }
        }
    }
    int64_t timeout = h->config_int(cfg, "request_timeout");
    ai->timeout_ms = timeout > 0 && timeout <= 300000 ? (uint32_t)timeout : AWSSM_DEFAULT_TIMEOUT_MS;
    if (awssm_creds_init(&ai->base) != 0 || awssm_creds_init(&ai->role) != 0)
        return config_error(ai, res, "credentials", "out of secure memory");
    *instance = ai;
    return SB_OK;
}

SB_PLUGIN_DEFINE(.name = AWSSM_PLUGIN_NAME, .version = AWSSM_PLUGIN_VERSION,
                 .vendor = "Secrets Bridge", .license = "Apache-2.0",
                 .description = "AWS Secrets Manager (SigV4; GetSecretValue, compare-and-set "
                                "PutSecretValue through staging labels, ListSecrets with a "
                                "client-side tag fence, DescribeSecret) and AWS KMS.",
                 .capabilities = SB_CAP_PROVIDER | SB_CAP_KMS,
                 .provider_features = SB_PROV_READ | SB_PROV_WRITE | SB_PROV_CAS |
                                      SB_PROV_LIST | SB_PROV_LABELS | SB_PROV_VERSIONS |
                                      SB_PROV_DESCRIBE,
                 .thread_model = SB_THREAD_SERIAL, SB_PLUGIN_CONFIG(awssm_config_fields),
                 .init = awssm_init, .fini = awssm_fini, .instance_new = awssm_instance_new,
                 .instance_free = awssm_instance_free, .provider = &awssm_provider_ops,
                 .kms = &awssm_kms_ops)
