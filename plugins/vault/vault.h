/*
 * plugins/vault/vault.h — shared declarations of the HashiCorp Vault plugin.
 *
 * The plugin is split by concern:
 *   vault_plugin.c   descriptor, config schema, init/fini, instance lifecycle
 *   vault_http.c     URL/path building, one request through host->http,
 *                    the authenticated call with one re-login on 403,
 *                    independent requests together (host->http_batch on
 *                    an ABI 1.1 host, one by one on 1.0),
 *                    Vault status -> sb_status mapping, small text helpers
 *   vault_auth.c     token / AppRole / Kubernetes login, lookup-self,
 *                    renew-self, token lifetime tracking
 *   vault_kv.c       PROVIDER: KV v2 read, write (CAS), describe, list
 *   vault_transit.c  KMS: Transit key_id, wrap (encrypt), unwrap (decrypt)
 *
 * Rules every file follows (the plugin ABI's, see <sbridge/plugin.h>):
 *   - Only <sbridge/plugin.h> and standard C headers. All HTTP goes through
 *     host->http, all JSON through host->json_* (parsed into secure memory).
 *   - Secret values and tokens live only in host secure buffers, bundles or
 *     parsed JSON documents. Ordinary heap holds only metadata (paths,
 *     mount names, label keys/values copied for sorting, URLs).
 *   - No global mutable state except `vault_host`, set by init. The host
 *     serialises calls per instance (SB_THREAD_SERIAL), so the per-instance
 *     token state needs no lock.
 *   - Messages never contain a value or a credential; Vault's own error
 *     strings are sanitised and truncated before they are quoted.
 */
#ifndef SB_PLUGINS_VAULT_H
#define SB_PLUGINS_VAULT_H

#include <sbridge/plugin.h>
#include <stddef.h>
#include <stdint.h>

/* The host API table given to init(); NULL before init / after fini. */
extern const sb_host_api *vault_host;

#define VAULT_PLUGIN_NAME "vault"
#define VAULT_PLUGIN_VERSION "0.1.0"

#define VAULT_DEFAULT_TIMEOUT_MS 10000u
#define VAULT_MAX_PATH 1024            /* longest secret path we accept */
#define VAULT_ERROR_TEXT_MAX 120       /* longest quoted Vault error text */
#define VAULT_JWT_MAX_BYTES (64 * 1024) /* service-account token file cap */
#define VAULT_LIST_DEFAULT_PAGE 500u   /* leaves examined per list call */
#define VAULT_LIST_MAX_PAGE 5000u
#define VAULT_LIST_MAX_DEPTH 128       /* folder nesting the walk follows */

typedef enum vault_auth_method {
    VAULT_AUTH_TOKEN = 1,
    VAULT_AUTH_APPROLE = 2,
    VAULT_AUTH_KUBERNETES = 3
} vault_auth_method;

/* The current Vault client token and what we know of its lifetime. */
typedef struct vault_token_state {
    sb_secure_buf *token; /* secure; length 0 when we hold no token */
    int have;             /* token holds a usable (as far as we know) token */
    int renewable;        /* renew-self may extend it */
    int64_t ttl_ms;       /* lifetime at obtained_ms; 0: never expires */
    int64_t obtained_ms;  /* host->monotonic_ms() when ttl_ms was learnt */
} vault_token_state;

/* One configured instance. Strings are heap copies of non-secret config
 * (metadata); secrets point at host-owned secure config values, valid until
 * instance_free. */
typedef struct vault_instance {
    char *name;          /* operator's instance name, for messages */
    char *address;       /* scheme://host[:port][/path], no trailing '/' */
    char *vault_namespace; /* NULL: none */
    vault_auth_method auth;
    char *approle_mount; /* auth mount paths, no surrounding '/' */
    char *role_id;
    char *kubernetes_mount;
    char *kubernetes_role;
    char *token_path;
    char *kv_mount;      /* no surrounding '/' */
    char *prefix;        /* "" or "a/b/" (always ends in '/' when set) */
    char *transit_mount; /* no surrounding '/' */
    char *transit_key;
    char *ca_file;       /* NULL: system CAs */
    char *tls_server_name; /* NULL: the address's host */
    const char *static_token; /* auth=token: config secret */
    const char *secret_id;    /* auth=approle: config secret */
    uint32_t timeout_ms;
    uint32_t http_flags; /* SB_HTTP_ALLOW_HTTP when configured */
    vault_token_state tok;
} vault_instance;

/* ---- vault_http.c: text helpers (ordinary heap; metadata only) -------- */

/* A growable NUL-terminated string; `failed` latches on allocation failure
 * so a chain of appends needs one check at the end. */
typedef struct vault_str {
    char *p;
    size_t len, cap;
    int failed;
} vault_str;

void vault_str_add(vault_str *s, const char *text);
void vault_str_addn(vault_str *s, const char *text, size_t n);
/* Appends a Vault path, percent-encoding every byte outside
 * [A-Za-z0-9-._~/]. */
void vault_str_add_path(vault_str *s, const char *path);
void vault_str_free(vault_str *s);
char *vault_strdup(const char *s); /* NULL for NULL or no memory */

/* A secret path relative to the configured prefix: non-empty, at most
 * VAULT_MAX_PATH bytes, no leading or trailing '/', no empty, "." or ".."
 * segment, no control bytes. Returns NULL when valid, else why not. */
const char *vault_check_path(const char *path);
/* Same rules for a list prefix, which may be "" and may end in '/'. */
const char *vault_check_prefix(const char *prefix);

/* RFC 3339 ("2018-03-22T02:24:06.945319214Z") -> unix ms; 0 for "" or an
 * unparseable text. */
int64_t vault_parse_time_ms(const char *text);

/* Parses a positive decimal integer that fits in int64; -1 otherwise. */
int vault_parse_version(const char *text, int64_t *out);

/* Copies Vault's first error string from a parsed error body into out as
 * printable ASCII, whitespace collapsed, the go-multierror preamble
 * ("1 error occurred: * ") removed, truncated to VAULT_ERROR_TEXT_MAX. out
 * is "" when there is none. Vault error strings carry no values; the copy
 * leaves secure memory only so that the host's redaction (which blanks any
 * %s argument in secure memory) lets it through. */
void vault_error_text(const sb_json *doc, char *out, size_t cap);

/* ---- vault_http.c: requests ------------------------------------------- */

typedef struct vault_request {
    const char *method;       /* "GET", "POST", "LIST" */
    const char *path;         /* after "/v1/", already percent-encoded */
    const char *query;        /* NULL or "version=3" */
    const sb_secure_buf *body; /* NULL: no body */
    int body_secret;          /* SB_HTTP_BODY_SECRET */
    int idempotent;           /* SB_HTTP_RETRY */
    int anonymous;            /* no X-Vault-Token (logins) */
    const char *metric_op;    /* e.g. "kv_read" */
} vault_request;

/* Sends one request with the current token (unless anonymous), the
 * namespace header and X-Vault-Request. SB_OK with resp filled for any HTTP
 * status (the caller frees resp with host->http_response_free); a transport
 * failure returns the host's status with resp untouched. Checks the call's
 * deadline first (SB_E_TIMEOUT / SB_E_CANCELLED). */
sb_status vault_http_send(vault_instance *vi, const sb_call *call, const vault_request *rq,
                          sb_http_response *resp, sb_result *res);

/* An authenticated request: makes sure a token is held (login, lookup or
 * renewal as due), sends, and on 403 lets the auth method react once
 * (re-login and retry for AppRole/Kubernetes; lookup-self for token auth,
 * which turns a dead token into SB_E_AUTH_EXPIRED). SB_OK with resp filled
 * for any final HTTP status (a 403 that survived is left for
 * vault_fail_http to report as SB_E_DENIED). */
sb_status vault_call(vault_instance *vi, const sb_call *call, const vault_request *rq,
                     sb_http_response *resp, sb_result *res);

/* What vault_call_each hands its callback for request i: `outcome` has
 * status SB_OK and `resp` the answer (any HTTP status), or the request's
 * failure (status, retry hint, message; resp NULL). Both are borrowed for
 * the callback only. Returning anything but SB_OK stops vault_call_each. */
typedef sb_status (*vault_response_fn)(void *ctx, size_t i, const sb_result *outcome,
                                       const sb_http_response *resp, sb_result *res);

/* Independent authenticated requests, each outcome handed to fn in request
 * order; returns the first status other than SB_OK that fn returned (or a
 * failure of its own), else SB_OK. On a host with http_batch (ABI 1.1,
 * checked with SB_HAS_FIELD; the plugin still requires only 1.0) they are
 * sent concurrently, SB_HTTP_BATCH_MAX at most per batch, after one
 * vault_auth_ensure; an answer 403 is sent again through vault_call so the
 * auth method reacts exactly as for one request. On a 1.0 host each goes
 * through vault_call only after the previous callback returned. */
sb_status vault_call_each(vault_instance *vi, const sb_call *call, const vault_request *rqs,
                          size_t n, vault_response_fn fn, void *ctx, sb_result *res);
/* 1 when the host's table has http_batch (ABI 1.1). */
int vault_host_has_batch(void);

/* Parses a response body into *doc (secure). SB_E_PROTOCOL when it is not
 * JSON. `what` names the operation for the message. */
sb_status vault_parse_body(const sb_http_response *resp, sb_json **doc, const char *what,
                           sb_result *res);

/* Maps a non-2xx response to a status and message in res:
 *   400 CAS mismatch -> CONFLICT; other 400 -> INVALID (Vault's text);
 *   403 -> DENIED; 404 -> NOT_FOUND; 405 -> UNSUPPORTED; 413 -> TOO_LARGE;
 *   429 -> THROTTLED; 412/500/502/503/504 and other 5xx -> UNAVAILABLE
 *   (with Retry-After when given); anything else -> PROTOCOL. */
sb_status vault_fail_http(const sb_http_response *resp, const char *what, sb_result *res);

/* SB_E_TIMEOUT or SB_E_CANCELLED when the call is over, else SB_OK. */
sb_status vault_check_call(const sb_call *call, const char *what, sb_result *res);

/* ---- vault_auth.c ------------------------------------------------------ */

/* Makes sure vi->tok holds a token that is not due for renewal: first use
 * logs in (AppRole/Kubernetes) or adopts the configured token and looks it
 * up (token auth); past 2/3 of the TTL renews a renewable token, or logs in
 * again when the method can. Token auth whose token is expired and cannot be
 * renewed -> SB_E_AUTH_EXPIRED. */
sb_status vault_auth_ensure(vault_instance *vi, const sb_call *call, sb_result *res);

/* Called once after a request answered 403. Sets *retry when a fresh token
 * was obtained (AppRole/Kubernetes re-login). Token auth: looks the token
 * up; a dead token -> SB_E_AUTH_EXPIRED, a live one -> SB_OK, *retry 0 (the
 * denial is the policy's). */
sb_status vault_auth_after_denied(vault_instance *vi, const sb_call *call, int *retry,
                                  sb_result *res);

/* Forgets the current token (zeroing it). */
void vault_auth_forget(vault_instance *vi);

/* ---- vault_kv.c: KV v2 helpers shared with vault_list.c --------------- */

/* `{kv_mount}/{section}/{prefix}{rel}`, percent-encoded; heap, NULL on no
 * memory. `rel` must have passed vault_check_path/prefix. */
char *vault_kv_path(const vault_instance *vi, const char *section, const char *rel);

/* `GET {kv_mount}/metadata/{prefix}{rel}` -> *doc (caller frees with
 * host->json_free). Non-200 answers are mapped (404 -> SB_E_NOT_FOUND). */
sb_status vault_kv_get_metadata(vault_instance *vi, const sb_call *call, const char *rel,
                                sb_json **doc, sb_result *res);

/* The request of vault_kv_get_metadata for an encoded path (vault_kv_path). */
vault_request vault_kv_metadata_request(const char *path);
/* vault_kv_get_metadata's handling of Vault's answer for `rel`. */
sb_status vault_kv_metadata_from_answer(const char *rel, const sb_http_response *resp, sb_json **doc,
                                       sb_result *res);

/* An sb_metadata that points into a metadata document: labels are the
 * custom_metadata pairs verbatim (pointers into the document), `path` is
 * `rel`. Valid while doc and rel live; free with vault_kv_metadata_view_free. */
typedef struct vault_metadata_view {
    sb_metadata meta;
    sb_kv *labels; /* heap array of pointers into the document */
    char version[24];
} vault_metadata_view;

sb_status vault_kv_metadata_view(const sb_json *doc, const char *rel, vault_metadata_view *view,
                                 sb_result *res);
void vault_kv_metadata_view_free(vault_metadata_view *view);

/* ---- vault_kv.c / vault_transit.c: the vtables ------------------------ */

extern const sb_provider_ops vault_provider_ops;
extern const sb_kms_ops vault_kms_ops;

/* ---- small shared checks ---------------------------------------------- */

/* Validates the arguments every operation shares; fills res (when non-NULL)
 * and returns SB_E_INVALID on failure. */
sb_status vault_check_common(void *inst, const sb_call *call, sb_result *res, const char *op);

#endif
