/*
 * plugins/awssm/awssm.h — shared declarations of the AWS Secrets Manager
 * plugin.
 *
 * The plugin is split by concern:
 *   awssm_plugin.c    descriptor, config schema, init/fini, instance lifecycle
 *   awssm_sigv4.c     Signature Version 4 (pure; see awssm_sigv4.h)
 *   awssm_http.c      one signed AWS call (JSON 1.1 or STS query) through
 *                     host->http, `__type` error parsing and mapping to ABI
 *                     statuses, base64 and text helpers
 *   awssm_creds.c     the credential chain, caching and refresh
 *   awssm_creds_src.c credential sources: static, environment, shared
 *                     files, web identity (STS), AssumeRole
 *   awssm_creds_http.c credential sources over HTTP: IMDSv2, container endpoint
 *   awssm_secrets.c   PROVIDER read, write (stage-move compare-and-set), describe
 *   awssm_list.c      PROVIDER list (NextToken paging, the tag fence)
 *   awssm_kms.c       KMS capability (AWS KMS Encrypt / Decrypt)
 *
 * Rules every file follows (the plugin ABI's, see <sbridge/plugin.h>):
 *   - Only <sbridge/plugin.h>, standard C and OpenSSL libcrypto headers. All
 *     HTTP goes through host->http, all parsing of answers through host->json_*.
 *   - Secret values and credentials (secret key, session token, web identity
 *     token) live only in host secure buffers, bundles or parsed documents;
 *     ordinary heap holds metadata only (names, tags, ARNs, URLs).
 *   - SB_THREAD_SERIAL: the host never runs two operations on one instance at
 *     once, so the per-instance credential cache needs no lock.
 *   - Messages never contain a value or a credential; AWS's own error
 *     messages are copied out as printable ASCII and truncated.
 */
#ifndef SB_PLUGINS_AWSSM_H
#define SB_PLUGINS_AWSSM_H

#include <sbridge/plugin.h>
#include <stddef.h>
#include <stdint.h>

extern const sb_host_api *awssm_host;

#define AWSSM_PLUGIN_NAME "awssm"
#define AWSSM_PLUGIN_VERSION "0.1.0"
#define AWSSM_DEFAULT_TIMEOUT_MS 10000u
#define AWSSM_ERROR_TEXT_MAX 160
#define AWSSM_REFRESH_BEFORE_MS (5 * 60 * 1000) /* refresh temporary credentials this early */
#define AWSSM_MAX_FILE_BYTES (256 * 1024)        /* shared files, token files */

/* ---- text helpers (ordinary heap; metadata only) --------------------- */

typedef struct awssm_str {
    char *p;
    size_t len, cap;
    int failed;
} awssm_str;

void awssm_str_add(awssm_str *s, const char *text);
void awssm_str_addn(awssm_str *s, const char *text, size_t n);
/* Appends text as a JSON string (quotes, escapes). Metadata only. */
void awssm_str_add_json(awssm_str *s, const char *text);
void awssm_str_free(awssm_str *s);
char *awssm_strdup(const char *s);

/* ---- credentials -------------------------------------------------------- */

typedef enum awssm_cred_mode {
    AWSSM_CREDS_CHAIN = 1, /* static config, env, files, web identity, container, IMDSv2 */
    AWSSM_CREDS_STATIC = 2,
    AWSSM_CREDS_ENV = 3,
    AWSSM_CREDS_PROFILE = 4,
    AWSSM_CREDS_WEB_IDENTITY = 5,
    AWSSM_CREDS_IMDS = 6,
    AWSSM_CREDS_CONTAINER = 7
} awssm_cred_mode;

/* One set of credentials, all in secure memory. */
typedef struct awssm_creds {
    sb_secure_buf *access_key_id;
    sb_secure_buf *secret_key;
    sb_secure_buf *session_token; /* length 0: long-term credentials */
    int64_t expires_unix_ms;      /* 0: does not expire */
    const char *source;           /* static text naming where they came from */
} awssm_creds;

/* ---- the instance ------------------------------------------------------- */

typedef struct awssm_instance {
    char *name;
    char *region;
    char *sm_endpoint;  /* scheme://host[:port], no trailing '/' */
    char *kms_endpoint;
    char *sts_endpoint;
    char *imds_endpoint;
    char *ca_file;
    char *kms_key_arn;  /* NULL: KMS capability not configured */
    sb_kv *fence;       /* heap copies of the tag_fence pairs */
    size_t n_fence;
    awssm_cred_mode mode;
    /* static credentials: host-owned secure config values (may be NULL) */
    const char *cfg_access_key_id;
    const char *cfg_secret_key;
    const char *cfg_session_token;
    char *profile;             /* NULL: AWS_PROFILE or "default" */
    char *credentials_file;    /* NULL: AWS_SHARED_CREDENTIALS_FILE or ~/.aws/credentials */
    char *config_file;         /* NULL: AWS_CONFIG_FILE or ~/.aws/config */
    char *web_identity_role_arn;   /* NULL: AWS_ROLE_ARN */
    char *web_identity_token_file; /* NULL: AWS_WEB_IDENTITY_TOKEN_FILE */
    char *role_arn;            /* optional AssumeRole on top of the base credentials */
    char *role_session_name;
    char *external_id;
    uint32_t timeout_ms;
    uint32_t http_flags;
    awssm_creds base;   /* cached base credentials (chain result) */
    awssm_creds role;   /* cached AssumeRole credentials (role_arn set) */
} awssm_instance;

/* ---- awssm_creds.c ------------------------------------------------------ */

int awssm_creds_init(awssm_creds *c);
void awssm_creds_clear(awssm_creds *c); /* zero, keep the buffers */
void awssm_creds_free(awssm_creds *c);
/* The credentials to sign with: the cache when fresh, else resolved again
 * (AssumeRole on top when role_arn is set). *out points into the instance. */
sb_status awssm_creds_get(awssm_instance *ai, const sb_call *call, const awssm_creds **out,
                          sb_result *res);
/* Forgets cached credentials (after ExpiredToken) so the next get resolves. */
void awssm_creds_forget(awssm_instance *ai);

/* ---- awssm_creds_src.c: sources, each fills *c or says why not --------- */

/* SB_OK and filled; SB_E_NOT_FOUND when the source has nothing (the chain
 * moves on, res untouched); any other status is a real failure. */
sb_status awssm_src_static(awssm_instance *ai, awssm_creds *c, sb_result *res);
sb_status awssm_src_env(awssm_creds *c, sb_result *res);
sb_status awssm_src_profile(awssm_instance *ai, const sb_call *call, awssm_creds *c,
                            sb_result *res);
sb_status awssm_src_web_identity(awssm_instance *ai, const sb_call *call, awssm_creds *c,
                                 sb_result *res);
/* awssm_creds_http.c */
sb_status awssm_src_imds(awssm_instance *ai, const sb_call *call, awssm_creds *c,
                         sb_result *res);
sb_status awssm_src_container(awssm_instance *ai, const sb_call *call, awssm_creds *c,
                              sb_result *res);
/* STS AssumeRole signed with `with`; fills *c. */
sb_status awssm_src_assume_role(awssm_instance *ai, const sb_call *call, const awssm_creds *with,
                                awssm_creds *c, sb_result *res);

/* ---- awssm_http.c --------------------------------------------------------- */

typedef struct awssm_service {
    const char *endpoint;     /* instance's endpoint for it */
    const char *signing_name; /* "secretsmanager", "kms", "sts" */
    const char *target_prefix; /* "secretsmanager" or "TrentService"; NULL: STS query */
} awssm_service;

awssm_service awssm_sm(const awssm_instance *ai);
awssm_service awssm_kms_service(const awssm_instance *ai);

/* One signed call: signs with `creds` (awssm_creds_get when NULL), sends
 * `body` (secure; idempotent calls may be retried by the host), and on
 * success (HTTP 200) parses the JSON answer into *doc. Any AWS error is
 * mapped (awssm_fail_response) — an ExpiredToken first forgets the
 * credentials and retries once. `op` is the operation ("GetSecretValue"). */
sb_status awssm_call(awssm_instance *ai, const sb_call *call, const awssm_service *svc,
                     const char *op, const sb_secure_buf *body, int body_secret, int idempotent,
                     sb_json **doc, sb_result *res);

/* Sends one request as given (unsigned: IMDS, STS web identity) with the
 * instance's flags plus `extra_flags` (SB_HTTP_*); the caller frees resp. */
sb_status awssm_send(awssm_instance *ai, const sb_call *call, const char *method, const char *url,
                     const sb_kv *headers, size_t n_headers, const sb_secure_buf *body,
                     uint32_t extra_flags, const char *metric_op, sb_http_response *resp,
                     sb_result *res);

/* Signs and sends an STS query-protocol request (`body` form-encoded). */
sb_status awssm_sts_send(awssm_instance *ai, const sb_call *call, const awssm_creds *with,
                         const sb_secure_buf *body, const char *metric_op,
                         sb_http_response *resp, sb_result *res);

/* Maps an AWS error answer (JSON `__type` or STS XML `<Code>`) to a status
 * and message. The type is normalised as botocore does (everything up to
 * '#' and after ':' removed). *type_out (optional, cap bytes) receives it. */
sb_status awssm_fail_response(const sb_http_response *resp, const char *what, char *type_out,
                              size_t type_cap, sb_result *res);

/* SB_E_TIMEOUT / SB_E_CANCELLED when the call is over, else SB_OK. */
sb_status awssm_check_call(const sb_call *call, const char *what, sb_result *res);

/* A secure copy of a metadata request body; NULL on failure. */
sb_secure_buf *awssm_secure_from(const awssm_str *s);

/* Base64 (standard alphabet) straight into / out of secure memory. */
int awssm_b64_encode_secure(sb_secure_buf *out, const unsigned char *in, size_t len);
int awssm_b64_decode_secure(sb_secure_buf *out, const char *in, size_t len);

/* A JSON number node of epoch seconds (e.g. 1523477145.713) -> unix ms; 0 when absent. */
int64_t awssm_json_epoch_ms(const sb_json_node *node);
/* ISO 8601 UTC "2026-01-01T00:00:00Z" -> unix ms; 0 when unparseable. */
int64_t awssm_iso8601_ms(const char *text, size_t len);
/* Copies a JSON string node into a heap string (metadata only!); NULL when absent. */
char *awssm_json_strdup(const sb_json_node *node);

/* A secret name or ARN that AWS could accept: 1-2048 printable ASCII bytes. */
const char *awssm_check_secret_id(const char *path);

/* ---- vtables ------------------------------------------------------------- */

extern const sb_provider_ops awssm_provider_ops;
extern const sb_kms_ops awssm_kms_ops;

/* awssm_list.c */
sb_status awssm_list(void *inst, const sb_call *call, const sb_list_query *query,
                     sb_metadata_sink emit, void *sink, sb_text *next_cursor, sb_result *res);

sb_status awssm_check_common(void *inst, const sb_call *call, sb_result *res, const char *op);
/* Non-zero when the Tags array (DescribeSecret / ListSecrets entry) holds
 * every pair of `want` exactly. */
int awssm_tags_match(const sb_json_node *tags, const sb_kv *want, size_t n_want);
/* Emits the DescribeSecret / ListSecrets entry `entry` as sb_metadata. */
int awssm_emit_entry(const sb_json_node *entry, const char *versions_key, sb_metadata_sink emit,
                     void *sink, int *stopped, sb_result *res);

#endif
