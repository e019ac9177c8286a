/*
 * plugins/azurekv/azurekv.h — shared declarations of the Azure Key Vault
 * plugin.
 *
 * The plugin is split by concern:
 *   azurekv_plugin.c    descriptor, config schema, init/fini, instance lifecycle
 *   azurekv_text.c      small helpers: formatted heap text (metadata only),
 *                       URL encoding into secure memory, name/version checks
 *                       (plus plugins/shared/plugin_text for metadata strings
 *                       and message cleaning)
 *   azurekv_challenge.c parsing the 401 challenge (WWW-Authenticate) — pure
 *   azurekv_token.c     Entra ID tokens: cache, refresh, the four credential
 *                       kinds (client secret, certificate assertion, managed
 *                       identity through IMDS, workload identity)
 *   azurekv_http.c      one authenticated Key Vault call: challenge first,
 *                       bearer token, one retry on 401, KeyVaultError mapping
 *   azurekv_secrets.c   PROVIDER read, write (read-check-write-recheck CAS),
 *                       describe (from the versions list)
 *   azurekv_list.c      PROVIDER list (nextLink paging pinned to the vault
 *                       host, tag fence AND selector on the client side)
 *
 * Rules every file follows (the plugin ABI's, see <sbridge/plugin.h>):
 *   - Only <sbridge/plugin.h>, standard C, OpenSSL (through
 *     plugins/shared/jwt_rs256) headers. All HTTP goes through host->http,
 *     all parsing of answers through host->json_*.
 *   - Secret values, access tokens, client secrets, assertions and keys live
 *     only in host secure buffers, bundles or parsed documents; ordinary heap
 *     holds metadata only (names, tags, URLs, tenant and client ids).
 *   - SB_THREAD_SERIAL: the host never runs two operations on one instance
 *     at once, so the per-instance challenge and token caches need no lock.
 *   - https only: the vault URL and the authority host must be https; only
 *     the IMDS endpoint (link-local http by design) is plain http.
 */
#ifndef SB_PLUGINS_AZUREKV_H
#define SB_PLUGINS_AZUREKV_H

#include <sbridge/plugin.h>
#include <stddef.h>
#include <stdint.h>

#include "../shared/plugin_text.h" /* plugins/shared: sbp_strdup, sbp_clean_copy, sbp_str */

extern const sb_host_api *akv_host;

#define AKV_PLUGIN_NAME "azurekv"
#define AKV_PLUGIN_VERSION "0.1.0"
#define AKV_ERROR_TEXT_MAX 200
#define AKV_REFRESH_BEFORE_MS (5 * 60 * 1000) /* renew tokens this long before expiry */
#define AKV_KEEP_OLD_TOKEN_MS 10000            /* a failed renewal keeps a token this fresh */
#define AKV_MAX_FILE_BYTES (64 * 1024)        /* token, key and certificate files */
#define AKV_LIST_PAGE 25u                      /* Key Vault's maxresults cap */

/* ---- heap text (metadata only) ------------------------------------------ */

/* printf into a new heap string; NULL when out of memory. */
char *akv_format(const char *fmt, ...) SB_PRINTF_LIKE(1, 2);
/* Appends `len` bytes percent-encoded (RFC 3986 unreserved kept) to a
 * secure buffer; 0 or -1. */
int akv_append_urlencoded(sb_secure_buf *out, const char *s, size_t len);
/* Appends "&name=" + urlencoded value (no '&' when the buffer is empty). */
int akv_append_form(sb_secure_buf *out, const char *name, const char *value, size_t len);
/* A secret name Key Vault accepts (^[0-9a-zA-Z-]{1,127}$): NULL, or why not. */
const char *akv_check_name(const char *name);
/* A version id (1-64 characters of [0-9a-zA-Z]): NULL, or why not. */
const char *akv_check_version(const char *version);
/* The last path segment of a Key Vault id URL (heap); NULL when absent. */
char *akv_id_last_segment(const char *id);

/* ---- the 401 challenge (azurekv_challenge.c, pure) ----------------------- */

typedef struct akv_challenge {
    char tenant[128];   /* last segment of authorization/authorization_uri */
    char resource[256]; /* https://vault.azure.net */
    char scope[300];    /* resource + "/.default", or the challenge's scope */
} akv_challenge;

/* Parses `WWW-Authenticate: Bearer authorization="https://login…/{tenant}",
 * resource="…"` (also authorization_uri= and scope=). When
 * `vault_host` is given (verification on), the vault host must end with
 * "." + the resource's host. Returns 0, or -1 with *why set. */
int akv_challenge_parse(const char *header, const char *vault_host, akv_challenge *out,
                        const char **why);

/* ---- the instance --------------------------------------------------------- */

typedef enum akv_auth_mode {
    AKV_AUTH_CLIENT_SECRET = 1,
    AKV_AUTH_CLIENT_CERTIFICATE = 2,
    AKV_AUTH_MANAGED_IDENTITY = 3,
    AKV_AUTH_WORKLOAD_IDENTITY = 4
} akv_auth_mode;

typedef struct akv_instance {
    char *name;
    char *vault_url;      /* https://host[:port], no trailing '/' */
    char *vault_host;     /* host without port, lower case (challenge check) */
    char *api_version;    /* "7.5" */
    char *authority_host; /* https://login.microsoftonline.com, no trailing '/' */
    char *imds_endpoint;  /* http://169.254.169.254, no trailing '/' */
    char *tenant_id;      /* configured; NULL: the challenge's */
    char *client_id;
    const char *client_secret; /* host-owned secure config value */
    char *certificate_file;
    char *private_key_file;
    char *federated_token_file;
    char *ca_file;
    sb_kv *fence; /* heap copies of the tag_fence pairs */
    size_t n_fence;
    int verify_challenge_resource;
    uint32_t timeout_ms;
    akv_auth_mode mode;
    /* caches */
    int have_challenge;
    akv_challenge challenge;
    sb_secure_buf *token; /* access token; length 0: none */
    int64_t token_refresh_ms; /* renew from then (unix ms) */
    int64_t token_expires_ms;
} akv_instance;

/* ---- azurekv_token.c ------------------------------------------------------ */

/* The access token for the vault (cached, or fetched for the instance's
 * challenge). *token points into the instance's secure buffer. */
sb_status akv_token_get(akv_instance *ai, const sb_call *call, const char **token,
                        sb_result *res);
void akv_token_forget(akv_instance *ai);

/* ---- azurekv_http.c --------------------------------------------------------- */

/* Sends one request as given (no Key Vault auth) with the instance's CA and
 * timeout; the caller frees resp. */
sb_status akv_send(akv_instance *ai, const sb_call *call, const char *method, const char *url,
                   const sb_kv *headers, size_t n_headers, const sb_secure_buf *body,
                   uint32_t flags, const char *metric_op, sb_http_response *resp,
                   sb_result *res);

/* One Key Vault call: the challenge first when none is cached (the request
 * without Authorization and without body), then the request with a bearer
 * token; a 401 forgets the token (and takes a new challenge) and retries
 * once. 2xx answers are parsed into *doc (a JSON object); anything else is
 * mapped (akv_fail_keyvault). `body` (secure) may be NULL. */
sb_status akv_vault_call(akv_instance *ai, const sb_call *call, const char *method,
                         const char *url, const sb_secure_buf *body, const char *op,
                         sb_json **doc, sb_result *res);

/* The body of an answer parsed as a JSON object (secure), or NULL when it
 * is empty or not one. The caller frees it with json_free. */
sb_json *akv_parse_response(const sb_http_response *resp);

/* Maps a KeyVaultError answer to a status and message:
 *   404 SecretNotFound / NotFound               -> NOT_FOUND
 *   403 Forbidden (ForbiddenByRbac, AccessDenied,
 *       SecretDisabled…), 401 Unauthorized      -> DENIED
 *   409 Conflict (deleted but recoverable)      -> GONE; other 409 -> CONFLICT
 *   429 Throttled (Retry-After or not)          -> THROTTLED
 *   400 BadParameter about the api-version      -> CONFIG; other 400 -> INVALID
 *   5xx                                         -> UNAVAILABLE
 *   anything else                               -> PROTOCOL */
sb_status akv_fail_keyvault(const sb_http_response *resp, const char *what, sb_result *res);

/* SB_E_TIMEOUT / SB_E_CANCELLED when the call is over, else SB_OK. */
sb_status akv_check_call(const sb_call *call, const char *what, sb_result *res);

/* "{vault_url}{path}?api-version=…[&extra]" (heap); NULL: no memory. */
char *akv_vault_url(const akv_instance *ai, const char *path, const char *extra_query);

/* ---- pages (azurekv_list.c) ------------------------------------------------ */

/* Non-zero when `link` is a page of the configured vault: it starts with
 * exactly `{vault_url}/secrets` followed by '?' or '/'. */
int akv_next_link_ok(const akv_instance *ai, const char *link);
/* GETs one list page into *doc (its /value is an array) and sets *next to
 * its nextLink (heap; NULL on the last page). A nextLink that leaves the
 * vault is SB_E_PROTOCOL. */
sb_status akv_get_page(akv_instance *ai, const sb_call *call, const char *url, const char *op,
                       sb_json **doc, char **next, sb_result *res);

/* ---- tags ------------------------------------------------------------------ */

/* Non-zero when the tags object holds every pair of `want` exactly. */
int akv_tags_match(const sb_json_node *tags, const sb_kv *want, size_t n_want);
/* Emits metadata for a SecretItem / SecretBundle node: path `name`, tags as
 * labels. Returns the sink's answer (non-zero: stop). */
int akv_emit(const sb_json_node *item, const char *name, const char *version, int64_t created_ms,
             int64_t updated_ms, sb_metadata_sink emit, void *sink, int *nomem);
/* attributes/<key> (Unix seconds) in ms; 0 when absent. */
int64_t akv_attr_ms(const sb_json_node *item, const char *key);

/* ---- vtables ----------------------------------------------------------------- */

sb_status akv_check_common(void *inst, const sb_call *call, sb_result *res, const char *op);
sb_status akv_list(void *inst, const sb_call *call, const sb_list_query *query,
                   sb_metadata_sink emit, void *sink, sb_text *next_cursor, sb_result *res);
extern const sb_provider_ops akv_provider_ops;

#endif
