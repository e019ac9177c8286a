/*
 * sbridge/plugin.h — Secrets Bridge plugin ABI, version 1.
 *
 * This header is the whole contract between the `sbridge` host and a plugin
 * (`.so`). It is self-contained C99: it includes only standard headers, and a
 * vendor builds against it out of tree with
 *
 *     cc $(pkg-config --cflags sbridge-plugin) -fPIC -shared \
 *        -fvisibility=hidden -o myplugin.so myplugin.c
 *
 * and installs the result into `$(pkg-config --variable=plugindir sbridge-plugin)`.
 *
 * COMPATIBILITY RULES (the promise this header makes)
 *
 *   1. A plugin exports exactly one symbol: the function `sbridge_plugin_v1`
 *      (see SB_PLUGIN_DEFINE). It returns a pointer to a `const sb_plugin`
 *      that lives as long as the library is loaded. It is a function, not a
 *      data symbol, because dlsym is only guaranteed to work on functions; the
 *      `v1` lets a future ABI 2 entry point live beside it.
 *   2. The descriptor starts with a frozen header: magic, ABI major, the ABI
 *      minor of the header the plugin was built with, struct_size, and the
 *      minimum ABI minor the plugin requires. These fields never move and
 *      never change type.
 *   3. The host accepts a plugin when `abi_major == host major` and
 *      `requires_minor <= host minor`, and when every struct the plugin hands
 *      over is at least as large as that struct was in ABI 1.0. `abi_minor`
 *      ("built with") is informational: a plugin rebuilt with a 1.1 header
 *      that uses nothing new still loads on a 1.0 host. A plugin that needs
 *      something added in 1.N says so by defining SB_PLUGIN_REQUIRES_MINOR
 *      before including this header:
 *
 *          #define SB_PLUGIN_REQUIRES_MINOR 1
 *          #include <sbridge/plugin.h>
 *
 *      (default 0). The host refuses anything else and says exactly why,
 *      naming both versions.
 *   4. Every struct that crosses the boundary starts with `uint32_t struct_size`
 *      and only ever grows at its end. A reader uses a field only when
 *      `struct_size` covers it (SB_HAS_FIELD). Fields are never reordered,
 *      retyped or removed. The same holds for the host API table a plugin
 *      receives: a plugin that requires an older minor than the header it was
 *      built with checks SB_HAS_FIELD(host, sb_host_api, fn) before calling a
 *      host function added after the minor it requires.
 *   5. Every function slot of ABI 1.0 in a declared capability's vtable, and
 *      init, instance_new and instance_free, must be non-NULL; the loader
 *      refuses a plugin otherwise (fini may be NULL). There are no
 *      "deprecated, leave NULL" slots: an operation the store cannot do
 *      returns SB_E_UNSUPPORTED. (A NULL slot is indistinguishable from a
 *      forgotten one, and a host that had to test every pointer before every
 *      call would crash the first time it forgot.) Slots added after 1.0 are
 *      read only when struct_size covers them, and may then be NULL when
 *      their comment says so.
 *   6. Every field whose values are named constants has a fixed-width integer
 *      type (sb_status, sb_config_type, ... are int32_t typedefs, never C
 *      enums), so a compiler's enum sizing can never change the layout.
 *   7. Arrays of structs that may grow (config fields) carry their element
 *      size, so the host walks them with the plugin's stride.
 *   8. No library type (json_t, CURL, ...) crosses the boundary: plain C types
 *      and host functions only. There are no fixed-size output buffers: text
 *      a plugin hands back (versions, cursors, key ids, GitOps state and
 *      detail, result messages) goes into host-owned, growable sb_text
 *      objects.
 *
 * WHAT EACH MINOR ADDS (a plugin that uses one unconditionally requires
 * that minor; see rule 3)
 *
 *   1.1  sb_gitops_ops.list_applications: the applications a GitOps
 *        endpoint can see (read only; may be NULL)
 *   1.1  sb_host_api: http_batch, http_batch_result, http_batch_free
 *        (independent HTTP requests performed concurrently)
 *
 * OWNERSHIP RULES
 *
 *   - The allocator's owner frees. Whatever the host allocates (secure
 *     buffers, bundles, parsed JSON, HTTP responses) is released with the
 *     matching host function; whatever the plugin allocates (instances) is
 *     released by the plugin (instance_free).
 *   - Pointers passed *into* a plugin function are borrowed for the duration
 *     of that call only, unless the comment says otherwise.
 *   - On any error, ownership of every argument stays with the caller, and
 *     out-parameters are left NULL/empty.
 *   - sb_text outputs (sb_version_info.version, list's next_cursor, kms
 *     key_id, gitops state and detail) are created and freed by the caller
 *     (the host, when the host calls the plugin); the plugin only sets them
 *     with text_set/text_append/text_printf.
 *   - Pointers a host function returns are borrowed, never freed by the
 *     plugin, and valid for as long as stated beside each function below;
 *     in short: config_* results until instance_free of that config;
 *     http_header until http_response_free; json_* results until json_free
 *     of that document; bundle_entry until that bundle changes or is freed;
 *     secure_data until the next append/clear/free of that buffer; text_str
 *     until the next change or free of that text; sb_result.message until
 *     the next fail or result_release on that result.
 *   - Secret material (secret values, tokens, passwords, private keys) crosses
 *     the ABI only inside host-allocated secure buffers (sb_secure_buf) or
 *     bundles (sb_bundle). They are mlock'd, guard-paged and zeroed on free.
 *     A plugin must not copy a value into ordinary heap or stack memory that
 *     outlives the call, and must never put one in a log line or a message.
 *
 * ERRORS
 *
 *   Every operation returns an sb_status and, on failure, fills the caller's
 *   sb_result through host->fail(). Statuses below 100 are permanent (retrying
 *   the same call will fail the same way); statuses from 100 are retryable,
 *   with an optional retry_after_ms hint. Messages are short, say what failed
 *   and never contain a value or a credential.
 *
 *   The message text is host-owned storage behind `sb_result.message`: it is
 *   "" after SB_RESULT_INIT, set by fail()/vfail() (which allocate it on
 *   first use and reuse it after), and released by result_release(), after
 *   which the result is "" again and reusable. Whoever declares an sb_result
 *   releases it: the host for the results it passes into plugin calls, the
 *   plugin for results it declares itself (e.g. a scratch result for a host
 *   call whose error it ignores): `host->result_release(&scratch)`. A
 *   plugin never writes `message` itself.
 *
 * THREADS
 *
 *   init, fini, instance_new and instance_free are never concurrent with
 *   anything: the host calls them from one thread, one after another
 *   (the registry starts every instance in turn before any operation runs,
 *   and frees them in reverse order after the last operation returned).
 *   With SB_THREAD_SERIAL the host never calls two operations on the same
 *   instance at once (it holds a per-instance lock; different instances may
 *   run concurrently); with SB_THREAD_CONCURRENT any operation may be called
 *   from several threads at once. Host API functions are thread-safe (an
 *   individual sb_text, sb_secure_buf, bundle or result is not: it belongs to
 *   one call). A metadata `emit` callback is called by the plugin on the
 *   thread that called describe/list, synchronously, before that call
 *   returns; a plugin never calls emit from another thread or after the
 *   operation returned.
 *
 * LIFECYCLE
 *
 *   dlopen(RTLD_NOW|RTLD_LOCAL) -> sbridge_plugin_v1() -> [config validated
 *   against the descriptor's schema] -> init(host) once per process ->
 *   instance_new(config) per configured instance -> operations ->
 *   instance_free -> fini. Unloading is not supported: restart to upgrade.
 *   fini runs only after a successful init: when init fails, the host
 *   calls nothing else of the plugin (not fini), so init releases whatever
 *   it acquired before failing. instance_free runs only for instances whose
 *   instance_new succeeded; a failed instance_new leaves *instance NULL and
 *   frees what it allocated. A failed init or instance_new stops the host's
 *   start-up; the instances already started are freed, and fini runs for
 *   every plugin whose init succeeded.
 */
#ifndef SBRIDGE_PLUGIN_H
#define SBRIDGE_PLUGIN_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------- */
/* Versioning                                                                */
/* ------------------------------------------------------------------------- */

#define SB_PLUGIN_MAGIC 0x53425031u /* "SBP1" */
#define SB_PLUGIN_ABI_MAJOR 1
#define SB_PLUGIN_ABI_MINOR 1 /* the minor this header describes */
#define SB_PLUGIN_ENTRY_SYMBOL "sbridge_plugin_v1"

/* What each minor adds: see WHAT EACH MINOR ADDS at the top. A plugin that
 * uses one of them either requires that minor (SB_PLUGIN_REQUIRES_MINOR)
 * or checks SB_HAS_FIELD first. */

/* The oldest ABI minor this plugin can run on (stamped into the
 * descriptor's requires_minor by SB_PLUGIN_DEFINE). Define it before
 * including this header when the plugin uses something added after 1.0
 * without checking SB_HAS_FIELD first. */
#ifndef SB_PLUGIN_REQUIRES_MINOR
#define SB_PLUGIN_REQUIRES_MINOR 0
#endif

/* True when a struct of the given (reader-side) type, whose writer declared
 * `struct_size` bytes, contains `field`. */
#define SB_HAS_FIELD(ptr, type, field)                                         \
    ((ptr) != NULL &&                                                          \
     (ptr)->struct_size >= offsetof(type, field) + sizeof(((type *)0)->field))

#if defined(__GNUC__) || defined(__clang__)
#define SB_PLUGIN_EXPORT __attribute__((visibility("default")))
#define SB_PRINTF_LIKE(fmt, first) __attribute__((format(printf, fmt, first)))
#define SB_VPRINTF_LIKE(fmt) __attribute__((format(printf, fmt, 0)))
#else
#define SB_PLUGIN_EXPORT
#define SB_PRINTF_LIKE(fmt, first)
#define SB_VPRINTF_LIKE(fmt)
#endif

/* ------------------------------------------------------------------------- */
/* Status and result                                                         */
/* ------------------------------------------------------------------------- */

typedef int32_t sb_status;
enum {
    SB_OK = 0,
    /* permanent: the same call will fail the same way */
    SB_E_INVALID = 1,     /* bad argument or request (caller's fault) */
    SB_E_NOT_FOUND = 2,   /* the secret/version/key does not exist */
    SB_E_DENIED = 3,      /* the provider refused our credentials' access */
    SB_E_CONFLICT = 4,    /* compare-and-set failed: re-read and merge */
    SB_E_UNSUPPORTED = 5, /* the plugin/provider cannot do this */
    SB_E_CONFIG = 6,      /* the instance configuration is unusable */
    SB_E_TOO_LARGE = 7,   /* a body or value exceeds a limit */
    SB_E_GONE = 8,        /* the version exists but is deleted/destroyed */
    SB_E_PROTOCOL = 9,    /* the provider answered something unparseable */
    SB_E_INTERNAL = 10,   /* a bug or resource failure inside the plugin */
    /* retryable: the job layer re-queues with backoff */
    SB_E_UNAVAILABLE = 100,  /* provider down, 5xx, connection refused */
    SB_E_THROTTLED = 101,    /* 429 / rate limited; see retry_after_ms */
    SB_E_TIMEOUT = 102,      /* the call's deadline passed */
    SB_E_AUTH_EXPIRED = 103, /* credentials expired and could not renew */
    SB_E_CANCELLED = 104     /* the host cancelled the call (shutdown) */
};

#define SB_STATUS_IS_RETRYABLE(s) ((int)(s) >= 100)

/* A host-owned, growable, NUL-terminated text that is never secret (see
 * text_* in the host API). Used for every text a plugin hands back. */
typedef struct sb_text sb_text;

/* Filled on failure by host->fail(); never holds a value or credential.
 * See ERRORS above for who owns and releases the message. */
typedef struct sb_result {
    uint32_t struct_size;
    sb_status status;
    uint32_t retry_after_ms; /* 0: no hint, the host decides */
    uint32_t reserved;
    /* NUL-terminated, never NULL: "" until a failure is recorded. Valid
     * until the next fail/vfail or result_release on this result. */
    const char *message;
    sb_text *storage; /* host-owned; do not touch */
} sb_result;

#define SB_RESULT_INIT {sizeof(sb_result), SB_OK, 0, 0, "", NULL}

/* ------------------------------------------------------------------------- */
/* Opaque host-owned objects                                                 */
/* ------------------------------------------------------------------------- */

/* A growable byte buffer in locked, guard-paged memory, zeroed on free. */
typedef struct sb_secure_buf sb_secure_buf;
/* A secret bundle: ordered key -> value map whose values are secure. */
typedef struct sb_bundle sb_bundle;
/* A parsed JSON document held in secure memory (see json_* below). */
typedef struct sb_json sb_json;
typedef struct sb_json_node sb_json_node;
/* A validated plugin-instance configuration (see config_* below). */
typedef struct sb_config sb_config;

/* The context of one operation. Host-owned; borrowed by the plugin for the
 * duration of the call. */
typedef struct sb_call {
    uint32_t struct_size;
    uint32_t reserved;
    int64_t deadline_unix_ms;   /* give up by then (host->call_expired) */
    const char *correlation_id; /* for log lines; may be NULL */
    void *host_private;         /* do not touch */
} sb_call;

/* A label / tag / custom-metadata pair, or a header, or an event field.
 * Frozen: this struct never grows (arrays of it use sizeof(sb_kv)). */
typedef struct sb_kv {
    const char *key;
    const char *value;
} sb_kv;

/* ------------------------------------------------------------------------- */
/* Config schema (data, not code)                                            */
/* ------------------------------------------------------------------------- */

typedef int32_t sb_config_type;
enum {
    SB_CFG_STRING = 1,
    SB_CFG_INT = 2,         /* 64-bit signed; min/max inclusive */
    SB_CFG_BOOL = 3,
    SB_CFG_DURATION = 4,    /* "30s", "15m", "8h", "1500ms"; min/max in ms */
    SB_CFG_ENUM = 5,        /* one of enum_values ("a|b|c") */
    SB_CFG_STRING_LIST = 6, /* YAML sequence of strings */
    SB_CFG_STRING_MAP = 7   /* YAML mapping of string -> string */
};

#define SB_CFG_REQUIRED 0x1u /* must be present (when `when` holds) */
#define SB_CFG_SECRET 0x2u   /* redacted everywhere; kept in secure memory */
#define SB_CFG_PATH 0x4u     /* an absolute filesystem path */
#define SB_CFG_URL 0x8u      /* an http:// or https:// URL */

typedef struct sb_config_field {
    uint32_t struct_size;
    sb_config_type type;
    const char *key;           /* lower_snake_case */
    uint32_t flags;            /* SB_CFG_* */
    uint32_t reserved;
    const char *default_value; /* as written in YAML; NULL: no default */
    const char *help;          /* one sentence for `plugin inspect`/docs */
    int64_t min, max;          /* INT and DURATION(ms); min > max: unbounded */
    const char *enum_values;   /* ENUM: "token|approle|kubernetes" */
    /* Conditional field: "other_key=value". The field may only be set when
     * the condition holds, and SB_CFG_REQUIRED applies only then. NULL:
     * always applies. */
    const char *when;
} sb_config_field;

/* ------------------------------------------------------------------------- */
/* HTTP through the host                                                     */
/* ------------------------------------------------------------------------- */

#define SB_HTTP_RETRY 0x1u       /* host may retry 429/503/connect errors
                                    within the deadline (idempotent calls) */
#define SB_HTTP_BODY_SECRET 0x2u /* the request body holds a secret */
#define SB_HTTP_ALLOW_HTTP 0x4u  /* plain http allowed (dev/emulators);
                                    otherwise the host insists on https */

typedef struct sb_http_request {
    uint32_t struct_size;
    uint32_t flags;             /* SB_HTTP_* */
    const char *method;         /* "GET", "POST", "LIST", ... */
    const char *url;            /* absolute http(s) URL */
    const sb_kv *headers;       /* values are never logged */
    size_t n_headers;
    const unsigned char *body;  /* may point into secure memory */
    size_t body_len;
    uint32_t timeout_ms;        /* 0: host default; capped by the deadline */
    uint32_t max_response_bytes; /* 0: host default (32 MiB) */
    const char *ca_file;        /* extra CA bundle (PEM); NULL: system */
    const char *metric_op;      /* short op label for metrics, e.g. "kv_read" */
    /* The name to verify on the server's certificate and send as SNI and
     * Host, when it differs from the URL's host (the connection still goes
     * to the URL's host). NULL: the URL's host. */
    const char *tls_server_name;
} sb_http_request;

typedef struct sb_http_response {
    uint32_t struct_size;
    uint32_t reserved;
    long status;                /* HTTP status code */
    uint32_t retry_after_ms;    /* parsed Retry-After (seconds or date); 0 */
    uint32_t attempts;          /* how many attempts the host made */
    sb_secure_buf *body;        /* host-owned: release with http_response_free */
    void *host_private;         /* headers; read with http_header() */
} sb_http_response;

/* ABI 1.1: the host-owned outcome of host->http_batch (see sb_host_api). */
typedef struct sb_http_batch sb_http_batch;
#define SB_HTTP_BATCH_MAX 256 /* the most requests one http_batch takes */

/* ------------------------------------------------------------------------- */
/* JSON held in secure memory                                                */
/* ------------------------------------------------------------------------- */

typedef int32_t sb_json_type;
enum {
    SB_JSON_MISSING = 0, /* NULL node: key absent, index out of range */
    SB_JSON_NULL = 1,
    SB_JSON_FALSE = 2,
    SB_JSON_TRUE = 3,
    SB_JSON_NUMBER = 4,
    SB_JSON_STRING = 5,
    SB_JSON_ARRAY = 6,
    SB_JSON_OBJECT = 7
};

/* ------------------------------------------------------------------------- */
/* Bundles                                                                   */
/* ------------------------------------------------------------------------- */

typedef int32_t sb_bundle_shape;
enum {
    SB_SHAPE_MAP = 1,   /* JSON object of key -> value (Vault KV, JSON SecretString) */
    SB_SHAPE_SINGLE = 2 /* one raw value, presented as key "value" */
};

typedef int32_t sb_value_kind;
enum {
    SB_VALUE_STRING = 1, /* UTF-8 text */
    SB_VALUE_BINARY = 2, /* raw bytes (AWS SecretBinary, GCP payload) */
    SB_VALUE_JSON = 3    /* a non-string JSON value kept verbatim (number,
                            object, array, bool, null) so it round-trips */
};

/* ------------------------------------------------------------------------- */
/* Logging                                                                   */
/* ------------------------------------------------------------------------- */

typedef int32_t sb_log_level;
enum { SB_LOG_DEBUG = 10, SB_LOG_INFO = 20, SB_LOG_WARN = 30, SB_LOG_ERROR = 40 };

/* ------------------------------------------------------------------------- */
/* The host API table                                                        */
/* ------------------------------------------------------------------------- */

/*
 * Passed to init(); valid until fini() returns. Append-only: a plugin built
 * with a newer header than the minor it requires checks SB_HAS_FIELD(host,
 * sb_host_api, fn) before calling a function added after the minor it
 * requires. Every function of ABI 1.0 is non-NULL.
 */
typedef struct sb_host_api {
    uint32_t struct_size;
    uint16_t abi_major, abi_minor;
    const char *host_version; /* e.g. "0.1.0" */

    /* --- errors and logging -------------------------------------------- */
    /* Record a failure in `res` and return `status`. The message is
     * formatted and redacted by the host: strings that live in secure
     * memory or are configured secrets are replaced by [REDACTED]. Note
     * that everything json_* returns lives in secure memory, so a provider's
     * error text must be copied out (and checked to hold no value) before
     * it can appear in a message. */
    sb_status (*fail)(sb_result *res, sb_status status, uint32_t retry_after_ms,
                      const char *fmt, ...) SB_PRINTF_LIKE(4, 5);
    sb_status (*vfail)(sb_result *res, sb_status status, uint32_t retry_after_ms,
                       const char *fmt, va_list ap) SB_VPRINTF_LIKE(4);
    /* Releases the message storage of a result the plugin declared itself
     * (see ERRORS); the result is then "" and reusable. NULL ok. */
    void (*result_release)(sb_result *res);
    /* Structured JSON log line attributed to the plugin, same redaction.
     * `call` may be NULL; when given, its correlation id is attached. */
    void (*log)(sb_log_level level, const sb_call *call, const char *fmt, ...)
        SB_PRINTF_LIKE(3, 4);
    void (*vlog)(sb_log_level level, const sb_call *call, const char *fmt, va_list ap)
        SB_VPRINTF_LIKE(3);

    /* --- text (host-owned, growable, never secret) ---------------------- */
    /* For the text a plugin hands back (versions, cursors, key ids, GitOps
     * state). Not redacted and not in secure memory: never put a value in
     * one. The setters return 0, or -1 when memory is exhausted or the text
     * would exceed 1 MiB (the text is then unchanged). */
    sb_text *(*text_new)(void);                       /* NULL: no memory */
    void (*text_free)(sb_text *t);                    /* NULL ok */
    int (*text_set)(sb_text *t, const char *s); /* replaces; NULL -> "" */
    int (*text_append)(sb_text *t, const char *s, size_t len);
    /* Replace the contents with the formatted text (like text_set). */
    int (*text_printf)(sb_text *t, const char *fmt, ...) SB_PRINTF_LIKE(2, 3);
    int (*text_vprintf)(sb_text *t, const char *fmt, va_list ap) SB_VPRINTF_LIKE(2);
    /* Contents, NUL-terminated, never NULL ("" for a NULL text); *len may
     * be NULL. Valid until the next change or free of `t`. */
    const char *(*text_str)(const sb_text *t, size_t *len);

    /* --- secure memory -------------------------------------------------- */
    /* NULL on allocation failure. capacity_hint may be 0. The creator
     * frees (secure_free). */
    sb_secure_buf *(*secure_new)(size_t capacity_hint);
    /* 0 on success, -1 when memory is exhausted (buffer unchanged). */
    int (*secure_append)(sb_secure_buf *buf, const void *data, size_t len);
    /* Appends `len` bytes as a quoted, escaped JSON string. */
    int (*secure_append_json_string)(sb_secure_buf *buf, const char *s, size_t len);
    /* Contents; always NUL-terminated after `*len` bytes. Valid until the
     * next append, clear or free of `buf`. */
    const unsigned char *(*secure_data)(const sb_secure_buf *buf, size_t *len);
    void (*secure_clear)(sb_secure_buf *buf); /* zero; length becomes 0 */
    void (*secure_free)(sb_secure_buf *buf);  /* zero and release; NULL ok */

    /* --- JSON (parsed into one secure arena) --------------------------- */
    /* Every node, key and string below points into the document: valid
     * until json_free(doc), which zeroes the arena. */
    sb_status (*json_parse)(const unsigned char *text, size_t len, sb_json **out,
                            sb_result *res);
    void (*json_free)(sb_json *doc); /* NULL ok */
    const sb_json_node *(*json_root)(const sb_json *doc);
    /* RFC 6901 pointer, e.g. "/data/metadata/version"; NULL when absent. */
    const sb_json_node *(*json_pointer)(const sb_json_node *from, const char *pointer);
    sb_json_type (*json_type)(const sb_json_node *node); /* NULL -> MISSING */
    size_t (*json_count)(const sb_json_node *node); /* array/object members */
    /* i-th member of an array or object; for objects *key receives the key. */
    const sb_json_node *(*json_member)(const sb_json_node *node, size_t i,
                                       const char **key);
    /* Strings: NUL-terminated, in secure memory; NULL unless STRING. */
    const char *(*json_string)(const sb_json_node *node, size_t *len);
    /* Integers (also integral strings such as "3"): 0 ok, -1 otherwise. */
    int (*json_int)(const sb_json_node *node, int64_t *out);
    /* Exact source text of any node (e.g. a nested object): *len bytes of
     * the document's secure copy of the input, NOT NUL-terminated. */
    const char *(*json_text)(const sb_json_node *node, size_t *len);

    /* --- bundles --------------------------------------------------------- */
    sb_bundle *(*bundle_new)(sb_bundle_shape shape); /* NULL: no memory */
    void (*bundle_free)(sb_bundle *b);                /* NULL ok */
    sb_bundle_shape (*bundle_shape)(const sb_bundle *b);
    /* Copies key and value; replaces an existing key. 0 ok, -1 no memory. */
    int (*bundle_put)(sb_bundle *b, const char *key, sb_value_kind kind,
                      const unsigned char *value, size_t len);
    size_t (*bundle_count)(const sb_bundle *b);
    /* i-th entry; key and value point into the bundle's secure memory and
     * stay valid until the bundle changes (put) or is freed. */
    int (*bundle_entry)(const sb_bundle *b, size_t i, const char **key,
                        sb_value_kind *kind, const unsigned char **value,
                        size_t *len);
    /* An object node becomes a MAP bundle (strings as STRING, anything else
     * as JSON text). Not an object: SB_E_PROTOCOL. */
    sb_status (*bundle_from_json)(const sb_json_node *object, sb_bundle **out,
                                  sb_result *res);
    /* Appends a MAP bundle as a JSON object (BINARY values are base64). */
    sb_status (*bundle_append_json)(const sb_bundle *b, sb_secure_buf *out,
                                    sb_result *res);

    /* --- instance configuration (already validated) ------------------- */
    /* Every pointer returned here is owned by the host's config and valid
     * until instance_free of the instance created with it returns (the
     * config outlives the instance). */
    /* Values of non-secret fields; defaults applied; NULL when unset. */
    const char *(*config_string)(const sb_config *cfg, const char *key);
    int64_t (*config_int)(const sb_config *cfg, const char *key); /* DURATION: ms */
    int (*config_bool)(const sb_config *cfg, const char *key);
    /* STRING_LIST / STRING_MAP (list: keys only, values NULL). *entries
     * (an array of the returned count) is host-owned, as above. */
    size_t (*config_entries)(const sb_config *cfg, const char *key,
                             const sb_kv **entries);
    /* SB_CFG_SECRET fields: NUL-terminated, in secure memory; NULL when
     * unset. Valid until instance_free. */
    const char *(*config_secret)(const sb_config *cfg, const char *key);
    /* The instance name given by the operator (for messages). */
    const char *(*config_instance_name)(const sb_config *cfg);

    /* --- HTTP ------------------------------------------------------------ */
    /* Transport failures return a retryable status (UNAVAILABLE, TIMEOUT)
     * or a permanent one (INVALID URL, TOO_LARGE). Any HTTP status, 4xx and
     * 5xx included, is SB_OK with resp->status set: mapping statuses is the
     * plugin's job. TLS >= 1.2, verification always on, no redirects. */
    sb_status (*http)(const sb_call *call, const sb_http_request *req,
                      sb_http_response *resp, sb_result *res);
    /* A response header (case-insensitive); NULL when absent. Valid until
     * http_response_free(resp). */
    const char *(*http_header)(const sb_http_response *resp, const char *name);
    void (*http_response_free)(sb_http_response *resp);

    /* --- files, time, randomness, cancellation -------------------------- */
    /* Reads a whole file (e.g. a pinned service-account token path) into a
     * new secure buffer (*out, the plugin's to secure_free); at most
     * max_bytes. */
    sb_status (*read_file_secure)(const char *path, size_t max_bytes,
                                  sb_secure_buf **out, sb_result *res);
    int64_t (*now_unix_ms)(void);
    int64_t (*monotonic_ms)(void);
    void (*random_bytes)(void *out, size_t len);
    /* Non-zero once the call is cancelled or past its deadline. */
    int (*call_expired)(const sb_call *call);
    /* Milliseconds left before the deadline (0 when passed). */
    int64_t (*call_remaining_ms)(const sb_call *call);

    /* --- ABI 1.1: concurrent HTTP ----------------------------------------
     * Check SB_HAS_FIELD(host, sb_host_api, http_batch) unless the plugin
     * requires minor 1. */
    /* Performs n (1..SB_HTTP_BATCH_MAX) independent requests concurrently,
     * at most as many at once as the host allows (its choice, e.g. 8), each
     * under exactly the rules, retries and secure-memory handling of http()
     * above, all within `call`'s deadline. The requests and everything they
     * point to are borrowed until it returns. SB_OK: *out holds one outcome
     * per request, in request order, whether each succeeded or not (one
     * failing request never fails the others); release it with
     * http_batch_free. Any other status (bad arguments, no memory): *out
     * is NULL and nothing was sent. Callable from the thread of any plugin
     * operation; it returns after every request finished. */
    sb_status (*http_batch)(const sb_call *call, const sb_http_request *const *requests,
                            size_t n, sb_http_batch **out, sb_result *res);
    /* The outcome of requests[i]: a result whose status is SB_OK or what
     * http() would have returned for it (with its message), and, on SB_OK,
     * *resp the response (read it as http()'s, headers with http_header;
     * never pass it to http_response_free). NULL for an i out of range
     * (*resp NULL). Both stay valid until http_batch_free(batch). */
    const sb_result *(*http_batch_result)(const sb_http_batch *batch, size_t i,
                                          const sb_http_response **resp);
    /* Releases every response (secure bodies zeroed) and message. NULL ok. */
    void (*http_batch_free)(sb_http_batch *batch);

    /* append-only from here */
} sb_host_api;

/* ------------------------------------------------------------------------- */
/* Capabilities                                                              */
/* ------------------------------------------------------------------------- */

#define SB_CAP_PROVIDER (1ull << 0)
#define SB_CAP_KMS (1ull << 1)
#define SB_CAP_GITOPS (1ull << 2)
#define SB_CAP_NOTIFIER (1ull << 3)

/* Provider sub-capabilities (sb_plugin.provider_features). */
#define SB_PROV_READ (1ull << 0)
#define SB_PROV_WRITE (1ull << 1)
#define SB_PROV_CAS (1ull << 2)      /* write honours expected_version */
#define SB_PROV_LIST (1ull << 3)
#define SB_PROV_LABELS (1ull << 4)   /* native labels/tags in metadata */
#define SB_PROV_VERSIONS (1ull << 5) /* read of a given version */
#define SB_PROV_DESCRIBE (1ull << 6)

typedef int32_t sb_thread_model;
enum {
    SB_THREAD_SERIAL = 1,    /* host serialises calls per instance */
    SB_THREAD_CONCURRENT = 2 /* any call from any thread at any time */
};

/* ------------------------------------------------------------------------- */
/* PROVIDER                                                                  */
/* ------------------------------------------------------------------------- */

typedef struct sb_secret_ref {
    uint32_t struct_size;
    uint32_t reserved;
    const char *path;    /* provider-native name, e.g. "app/db" */
    const char *version; /* NULL: current */
} sb_secret_ref;

#define SB_VERSION_DELETED 0x1u   /* soft-deleted (may be undeleted) */
#define SB_VERSION_DESTROYED 0x2u /* data removed for good */

/* Filled by read/write; plain data, never a value. */
typedef struct sb_version_info {
    uint32_t struct_size;
    uint32_t flags;          /* SB_VERSION_* (with SB_E_GONE) */
    sb_text *version;        /* created by the caller, set by the plugin:
                                the CAS token for a later write */
    int64_t created_unix_ms; /* 0: unknown */
} sb_version_info;

/* Metadata of one secret: safe to log, store and show. Pointers are owned
 * by the plugin and valid only during the emit callback, which the plugin
 * calls on the calling thread, synchronously (see THREADS). */
typedef struct sb_metadata {
    uint32_t struct_size;
    uint32_t flags;               /* SB_VERSION_* of the current version */
    const char *path;
    const char *version;          /* current version; NULL: unknown */
    int64_t created_unix_ms;      /* 0: unknown */
    int64_t updated_unix_ms;
    const sb_kv *labels;          /* native labels/tags, verbatim */
    size_t n_labels;
} sb_metadata;

/* Emit callback: return 0 to continue, non-zero to stop (a list then
 * returns SB_E_CANCELLED; describe, which emits once, just returns). The
 * host copies what it keeps. */
typedef int (*sb_metadata_sink)(void *sink, const sb_metadata *meta);

typedef struct sb_list_query {
    uint32_t struct_size;
    uint32_t page_size;       /* a hint; 0: plugin default */
    const char *prefix;       /* path prefix ("" or NULL: everything) */
    const sb_kv *selector;    /* labels that must all match (ANDed) */
    size_t n_selector;
    const char *cursor;       /* from a previous call; NULL: start */
} sb_list_query;

/*
 * write(expected_version):
 *   NULL              unconditional write (only without SB_PROV_CAS)
 *   SB_CAS_CREATE     create; SB_E_CONFLICT if the secret exists
 *   "<token>"         the version a read returned; SB_E_CONFLICT if the
 *                     secret changed since (compare-and-set)
 * The plugin writes the bundle in the secret's native shape and type and
 * leaves labels/tags/metadata it does not own untouched.
 *
 * list: emits every matching secret, paging through the provider itself.
 * It may stop early and return SB_OK after setting next_cursor (an empty
 * text created by the caller); the host then calls again with
 * query->cursor set to it. next_cursor left empty: done.
 */
#define SB_CAS_CREATE ""

typedef struct sb_provider_ops {
    uint32_t struct_size;
    uint32_t reserved;
    sb_status (*read)(void *inst, const sb_call *call, const sb_secret_ref *ref,
                      sb_bundle **out, sb_version_info *version, sb_result *res);
    sb_status (*write)(void *inst, const sb_call *call, const sb_secret_ref *ref,
                       const sb_bundle *values, const char *expected_version,
                       sb_version_info *new_version, sb_result *res);
    sb_status (*describe)(void *inst, const sb_call *call, const sb_secret_ref *ref,
                          sb_metadata_sink emit, void *sink, sb_result *res);
    sb_status (*list)(void *inst, const sb_call *call, const sb_list_query *query,
                      sb_metadata_sink emit, void *sink, sb_text *next_cursor,
                      sb_result *res);
    /* append-only from here */
} sb_provider_ops;

/* ------------------------------------------------------------------------- */
/* KMS                                                                       */
/* ------------------------------------------------------------------------- */

typedef struct sb_kms_ops {
    uint32_t struct_size;
    uint32_t reserved;
    /* Sets `key_id` (created by the caller) to the key id new wraps will
     * use, e.g. "vault-transit:transit/sbridge". */
    sb_status (*key_id)(void *inst, const sb_call *call, sb_text *key_id, sb_result *res);
    /* Encrypts `plaintext` (secure) and appends the ciphertext to
     * `ciphertext` (host-created); sets `key_id` (created by the caller) to
     * the key id (with version) used. */
    sb_status (*wrap)(void *inst, const sb_call *call, const sb_secure_buf *plaintext,
                      sb_secure_buf *ciphertext, sb_text *key_id, sb_result *res);
    /* Decrypts a ciphertext produced by wrap with `key_id`; appends the
     * plaintext to `plaintext` (host-created, secure). */
    sb_status (*unwrap)(void *inst, const sb_call *call, const unsigned char *ciphertext,
                        size_t ciphertext_len, const char *key_id,
                        sb_secure_buf *plaintext, sb_result *res);
    /* append-only from here */
} sb_kms_ops;

/* ------------------------------------------------------------------------- */
/* GITOPS (read-only observation)                                            */
/* ------------------------------------------------------------------------- */

typedef int32_t sb_gitops_evidence;
enum {
    SB_GITOPS_NO_EVIDENCE = 0, /* nothing yet that proves pickup */
    SB_GITOPS_ROLLING = 1,     /* a rollout started after the change */
    SB_GITOPS_APPLIED = 2,     /* new rollout started after the change and healthy */
    SB_GITOPS_FAILED = 3       /* the rollout degraded or failed */
};

typedef struct sb_gitops_observation {
    uint32_t struct_size;
    sb_gitops_evidence evidence;
    /* Created by the caller, set by the plugin: a human explanation of the
     * evidence (never a value). */
    sb_text *detail;
} sb_gitops_observation;

/* One application as list_applications reports it (ABI 1.1): plain
 * metadata, never a value. Pointers are owned by the plugin and valid only
 * during the emit callback; NULL means unknown (name is never NULL). */
typedef struct sb_gitops_app {
    uint32_t struct_size;
    uint32_t reserved;
    const char *name;             /* the application's name */
    const char *project;          /* e.g. Argo CD's spec.project */
    const char *dest_namespace;   /* the namespace it deploys into */
    const char *dest_server;      /* the cluster it deploys to (URL or name) */
    const char *sync_status;      /* e.g. "Synced", "OutOfSync" */
    const char *health_status;    /* e.g. "Healthy", "Degraded" */
} sb_gitops_app;

/* Emit callback of list_applications: 0 to continue, non-zero to stop.
 * The host copies what it keeps. */
typedef int (*sb_gitops_app_sink)(void *sink, const sb_gitops_app *app);

typedef struct sb_gitops_app_query {
    uint32_t struct_size;
    uint32_t reserved;
    const char *project; /* only this project's applications; NULL or "": all */
} sb_gitops_app_query;

typedef struct sb_gitops_ops {
    uint32_t struct_size;
    uint32_t reserved;
    /* Records what the application looks like now (sync revision, operation
     * finish time, workload generation...) as an opaque, plugin-defined,
     * text the plugin sets into `state` (created by the caller) and the
     * host stores verbatim. */
    sb_status (*baseline)(void *inst, const sb_call *call, const char *application,
                          sb_text *state, sb_result *res);
    /* Compares the application now with `baseline` taken at
     * `changed_unix_ms`. "Healthy and Synced" alone is never evidence. */
    sb_status (*observe)(void *inst, const sb_call *call, const char *application,
                         const char *baseline, int64_t changed_unix_ms,
                         sb_gitops_observation *out, sb_result *res);

    /* Added in ABI 1.1; the host reads it only when struct_size covers it
     * (SB_HAS_FIELD), and it MAY be NULL: a plugin that cannot list says
     * so by leaving it NULL, and the host tells the operator to upgrade
     * the plugin. Emits, through `emit` on the calling thread, every
     * application the instance's credentials can see (filtered by
     * query->project when set), paging through the GitOps server itself;
     * a non-zero return from emit stops the listing and the call returns
     * SB_E_CANCELLED. Read only: it never changes an application. */
    sb_status (*list_applications)(void *inst, const sb_call *call,
                                   const sb_gitops_app_query *query,
                                   sb_gitops_app_sink emit, void *sink, sb_result *res);
    /* append-only from here */
} sb_gitops_ops;

/* ------------------------------------------------------------------------- */
/* NOTIFIER                                                                  */
/* ------------------------------------------------------------------------- */

typedef struct sb_notify_event {
    uint32_t struct_size;
    uint32_t reserved;
    const char *kind;       /* "request.created", "job.failed", ... */
    const char *severity;   /* "info" | "warning" | "critical" */
    const char *title;      /* one line */
    const char *summary;    /* who / what / why; never a value */
    const sb_kv *fields;    /* extra facts shown as a table */
    size_t n_fields;
    const char *link;       /* deep link to the UI; may be NULL */
    const char *dedupe_key; /* the same key means the same event */
    const char *channel;    /* destination within the instance; NULL: default */
} sb_notify_event;

typedef struct sb_notifier_ops {
    uint32_t struct_size;
    uint32_t reserved;
    sb_status (*deliver)(void *inst, const sb_call *call, const sb_notify_event *event,
                         sb_result *res);
    /* append-only from here */
} sb_notifier_ops;

/* ------------------------------------------------------------------------- */
/* The descriptor                                                            */
/* ------------------------------------------------------------------------- */

typedef struct sb_plugin {
    /* frozen header: never moves, never changes */
    uint32_t magic; /* SB_PLUGIN_MAGIC */
    uint16_t abi_major;
    uint16_t abi_minor;      /* "built with": the header's minor (informational) */
    uint32_t struct_size;    /* sizeof(sb_plugin) as the plugin was built */
    uint16_t requires_minor; /* the oldest host minor it runs on (<= abi_minor) */
    uint16_t header_reserved;

    /* identity */
    const char *name;    /* [a-z0-9][a-z0-9_-]*, unique per host */
    const char *version; /* semantic version, e.g. "1.2.0" */
    const char *vendor;
    const char *license; /* SPDX identifier */
    const char *description;

    /* capabilities */
    uint64_t capabilities;      /* SB_CAP_* */
    uint64_t provider_features; /* SB_PROV_* (with SB_CAP_PROVIDER) */
    sb_thread_model thread_model;
    uint32_t config_field_size; /* sizeof(sb_config_field) as built */
    const sb_config_field *config_fields;
    size_t n_config_fields;

    /* lifecycle (see LIFECYCLE and THREADS above) */
    sb_status (*init)(const sb_host_api *host, sb_result *res);
    void (*fini)(void); /* may be NULL; never called after a failed init */
    sb_status (*instance_new)(const sb_config *config, void **instance, sb_result *res);
    void (*instance_free)(void *instance);

    /* vtables, one per declared capability; NULL otherwise */
    const sb_provider_ops *provider;
    const sb_kms_ops *kms;
    const sb_gitops_ops *gitops;
    const sb_notifier_ops *notifier;

    void *reserved[8]; /* room to grow without moving anything */
    /* append-only from here */
} sb_plugin;

typedef const sb_plugin *(*sb_plugin_entry_fn)(void);

/*
 * SB_PLUGIN_DEFINE(.name = "x", .version = "1.0.0", ...) defines the entry
 * point and fills the frozen header (magic, major, the header's minor as
 * "built with", struct_size, and SB_PLUGIN_REQUIRES_MINOR as the required
 * minimum), so vendors never type a magic number:
 *
 *   SB_PLUGIN_DEFINE(
 *       .name = "example", .version = "1.0.0", .vendor = "Acme",
 *       .license = "Apache-2.0", .description = "...",
 *       .capabilities = SB_CAP_PROVIDER, .provider_features = SB_PROV_READ,
 *       .thread_model = SB_THREAD_SERIAL,
 *       SB_PLUGIN_CONFIG(my_fields),
 *       .init = my_init, .fini = my_fini,
 *       .instance_new = my_new, .instance_free = my_free,
 *       .provider = &my_provider_ops)
 */
#define SB_PLUGIN_DEFINE(...)                                                  \
    SB_PLUGIN_EXPORT const sb_plugin *sbridge_plugin_v1(void);                 \
    SB_PLUGIN_EXPORT const sb_plugin *sbridge_plugin_v1(void)                  \
    {                                                                          \
        static const sb_plugin descriptor = {                                  \
            .magic = SB_PLUGIN_MAGIC,                                          \
            .abi_major = SB_PLUGIN_ABI_MAJOR,                                  \
            .abi_minor = SB_PLUGIN_ABI_MINOR,                                  \
            .struct_size = (uint32_t)sizeof(sb_plugin),                        \
            .requires_minor = SB_PLUGIN_REQUIRES_MINOR,                        \
            __VA_ARGS__};                                                      \
        return &descriptor;                                                    \
    }

#define SB_PLUGIN_CONFIG(fields)                                               \
    .config_field_size = (uint32_t)sizeof(sb_config_field),                    \
    .config_fields = (fields),                                                 \
    .n_config_fields = sizeof(fields) / sizeof((fields)[0])

#ifdef __cplusplus
}
#endif

#endif /* SBRIDGE_PLUGIN_H */
