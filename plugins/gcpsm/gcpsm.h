/*
 * plugins/gcpsm/gcpsm.h — shared declarations of the GCP Secret Manager
 * plugin.
 *
 * The plugin is split by concern:
 *   gcpsm_plugin.c   descriptor, config schema, init/fini, instance lifecycle
 *   gcpsm_auth.c     OAuth2 access tokens: service-account key file -> RS256
 *                    JWT (plugins/shared/jwt_rs256) -> token endpoint, or the
 *                    metadata server; cached and refreshed before expiry
 *   gcpsm_auth_external.c  workload identity federation: an external_account
 *                    file's subject token -> STS -> (impersonation)
 *   gcpsm_http.c     one authenticated REST call through host->http, and the
 *                    mapping of google.rpc.Status errors to ABI statuses
 *   gcpsm_codec.c    CRC32C and the resource-name rules (text and base64
 *                    helpers: plugins/shared/plugin_text, secure_b64)
 *   gcpsm_secrets.c  PROVIDER read (:access), write (check the newest enabled
 *                    version, then :addVersion), describe
 *   gcpsm_list.c     PROVIDER list (filter + pageToken paging, label fence)
 *
 * Rules every file follows (the plugin ABI's, see <sbridge/plugin.h>):
 *   - Only <sbridge/plugin.h>, standard C, OpenSSL (through
 *     plugins/shared/jwt_rs256) and own headers. All HTTP goes through
 *     host->http, all parsing of answers through host->json_*.
 *   - Secret values, the service-account key and access tokens live only in
 *     host secure buffers, bundles or parsed documents; ordinary heap holds
 *     metadata only (names, labels, URLs, version numbers).
 *   - SB_THREAD_SERIAL: the host never runs two operations on one instance
 *     at once, so the per-instance token cache needs no lock.
 *   - Messages never contain a value or a credential; Google's error
 *     messages (which name resources, never payloads) are copied out as
 *     printable ASCII and truncated.
 */
#ifndef SB_PLUGINS_GCPSM_H
#define SB_PLUGINS_GCPSM_H

#include <sbridge/plugin.h>
#include <stddef.h>
#include <stdint.h>

#include "../shared/plugin_text.h"
#include "../shared/secure_b64.h"

extern const sb_host_api *gcpsm_host;

#define GCPSM_PLUGIN_NAME "gcpsm"
#define GCPSM_PLUGIN_VERSION "0.1.0"
#define GCPSM_DEFAULT_ENDPOINT "https://secretmanager.googleapis.com"
#define GCPSM_SCOPE "https://www.googleapis.com/auth/cloud-platform"
#define GCPSM_DEFAULT_TIMEOUT_MS 10000u
#define GCPSM_ERROR_TEXT_MAX 200
#define GCPSM_REFRESH_BEFORE_MS (5 * 60 * 1000) /* refresh tokens this early */
#define GCPSM_ASSERTION_LIFETIME_S 3600
#define GCPSM_MAX_KEY_FILE (64 * 1024)
#define GCPSM_MAX_PAYLOAD 65536
#define GCPSM_THROTTLE_BACKOFF_MS 2000u /* the service config's initial backoff */

/* Metadata text (sbp_str, sbp_clean_copy, sbp_rfc3339_ms, ...) and base64
 * into secure memory come from plugins/shared. */
/* ---- codecs (gcpsm_codec.c) -------------------------------------------- */

uint32_t gcpsm_crc32c(const unsigned char *data, size_t len);
/* The last '/'-segment of a resource name ("projects/1/secrets/s/versions/3" -> "3"). */
const char *gcpsm_last_segment(const char *name);
/* NULL when `id` is a usable secret id (1-255 of [A-Za-z0-9_-]), else why not. */
const char *gcpsm_check_secret_id(const char *id);
/* NULL when `v` is a usable version ("latest", a number or an alias), else why not. */
const char *gcpsm_check_version(const char *v);

/* ---- the instance ------------------------------------------------------- */

typedef enum gcpsm_cred_mode {
    GCPSM_CREDS_SERVICE_ACCOUNT = 1,
    GCPSM_CREDS_METADATA = 2,
    GCPSM_CREDS_EXTERNAL = 3 /* workload identity federation */
} gcpsm_cred_mode;

typedef struct gcpsm_instance {
    char *name;
    char *project;           /* pinned project id or number */
    char *endpoint;          /* scheme://host[:port], no trailing '/' */
    char *key_file;          /* service_account / external_account: the JSON file */
    char *token_uri;         /* override of the key file's token_uri; NULL: the file's */
    char *metadata_endpoint; /* metadata server base, no trailing '/' */
    char *ca_file;
    sb_kv *fence; /* heap copies of the label_fence pairs */
    size_t n_fence;
    gcpsm_cred_mode mode;
    int insecure_ok; /* allow_insecure_http */
    uint32_t timeout_ms;
    uint32_t http_flags;
    /* token cache: the whole "Bearer <token>" header value, secure */
    sb_secure_buf *bearer;
    int64_t bearer_expires_ms; /* 0: none cached */
    int64_t bearer_refresh_ms; /* fetch a new one from then on */
} gcpsm_instance;

/* NULL when `url` is an acceptable endpoint (https, or http to loopback, or
 * http anywhere when insecure_ok / plain_ok), else why not. */
const char *gcpsm_check_url(const char *url, int insecure_ok, int plain_ok);

/* ---- gcpsm_auth.c -------------------------------------------------------- */

/* The "Bearer <token>" header value (points into the instance's secure
 * cache; valid until the next token call), fetched when none is fresh. */
sb_status gcpsm_token_get(gcpsm_instance *gi, const sb_call *call, const char **bearer,
                          sb_result *res);
/* Forgets the cached token (after a 401) so the next get fetches one. */
void gcpsm_token_forget(gcpsm_instance *gi);
/* Caches `tok` (tlen bytes, secure) valid for life_ms as the bearer. */
sb_status gcpsm_token_store(gcpsm_instance *gi, const char *tok, size_t tlen, int64_t life_ms,
                            const char *what, sb_result *res);
/* Caches the {"access_token","expires_in","token_type"} of an HTTP 200 answer. */
sb_status gcpsm_token_keep(gcpsm_instance *gi, const sb_http_response *resp, const char *what,
                           sb_result *res);
/* Maps a token endpoint's refusal ({"error","error_description"}, 429, 5xx). */
sb_status gcpsm_token_failure(const sb_http_response *resp, const char *what, sb_result *res);
/* gcpsm_auth_external.c: workload identity federation (external_account file). */
sb_status gcpsm_fetch_external(gcpsm_instance *gi, const sb_call *call, sb_result *res);

/* ---- gcpsm_http.c ---------------------------------------------------------- */

/* Sends one request as given (no token) with the instance's flags plus
 * `extra_flags`; the caller frees resp. */
sb_status gcpsm_send(gcpsm_instance *gi, const sb_call *call, const char *method,
                     const char *url, const sb_kv *headers, size_t n_headers,
                     const sb_secure_buf *body, uint32_t extra_flags, const char *metric_op,
                     sb_http_response *resp, sb_result *res);

/* One API call: `rel` is the path and query after "/v1/projects/{project}/"
 * (e.g. "secrets/db/versions/latest:access"). Sends the bearer token (a 401
 * forgets it and retries once with a fresh one), `body` as JSON when given.
 * HTTP 200 -> *doc (a JSON object). Any error is mapped by
 * gcpsm_fail_status; *rpc_status (optional, cap bytes) receives the
 * google.rpc.Status code name ("NOT_FOUND") of an error answer. */
sb_status gcpsm_call(gcpsm_instance *gi, const sb_call *call, const char *method,
                     const char *rel, const sb_secure_buf *body, int body_secret,
                     const char *metric_op, sb_json **doc, char *rpc_status, size_t cap,
                     sb_result *res);

/* Maps a google.rpc.Status error answer to a status and message:
 *   NOT_FOUND                               -> NOT_FOUND
 *   PERMISSION_DENIED, UNAUTHENTICATED      -> DENIED
 *   FAILED_PRECONDITION "... is in DISABLED|DESTROYED state." -> GONE
 *   FAILED_PRECONDITION (other), ABORTED, ALREADY_EXISTS -> CONFLICT
 *   RESOURCE_EXHAUSTED, HTTP 429            -> THROTTLED (Retry-After, else 2 s)
 *   UNAVAILABLE, INTERNAL, DEADLINE_EXCEEDED, any 5xx -> UNAVAILABLE
 *   INVALID_ARGUMENT, OUT_OF_RANGE          -> INVALID
 *   UNIMPLEMENTED                           -> UNSUPPORTED
 *   anything else                           -> PROTOCOL */
sb_status gcpsm_fail_status(const sb_http_response *resp, const char *what, char *status_out,
                            size_t cap, sb_result *res);

/* SB_E_TIMEOUT / SB_E_CANCELLED when the call is over, else SB_OK. */
sb_status gcpsm_check_call(const sb_call *call, const char *what, sb_result *res);

/* Parses an HTTP 200 body into a JSON object document. */
sb_status gcpsm_parse_object(const sb_http_response *resp, const char *what, sb_json **doc,
                             sb_result *res);

/* ---- provider ----------------------------------------------------------------- */

extern const sb_provider_ops gcpsm_provider_ops;

sb_status gcpsm_check_common(void *inst, const sb_call *call, sb_result *res, const char *op);
/* Non-zero when the labels object holds every pair of `want` (a NULL value
 * only requires the key). */
int gcpsm_labels_match(const sb_json_node *labels, const sb_kv *want, size_t n_want);
/* Emits a Secret resource as sb_metadata (path = secret id, labels verbatim);
 * `version` / `flags` describe its current version (NULL / 0: unknown). */
int gcpsm_emit_secret(const sb_json_node *secret, const char *version, int64_t version_ms,
                      uint32_t flags, sb_metadata_sink emit, void *sink, int *stopped,
                      sb_result *res);
sb_status gcpsm_list(void *inst, const sb_call *call, const sb_list_query *query,
                     sb_metadata_sink emit, void *sink, sb_text *next_cursor, sb_result *res);

#endif
