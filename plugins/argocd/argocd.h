/*
 * plugins/argocd/argocd.h — shared declarations of the Argo CD GitOps plugin.
 *
 * The plugin is split by concern:
 *   argocd_plugin.c    descriptor, config schema, init/fini, instance lifecycle
 *   argocd_http.c      the one door to the network: GET only (anything else is
 *                      refused before host->http), URLs, Argo CD's grpc-gateway
 *                      errors -> sb_status
 *   argocd_snapshot.c  GET the Application and its resource tree and reduce them
 *                      to a snapshot: sync/health/operation, Deployments with
 *                      their ReplicaSets (revision, pod-template-hash, created)
 *                      and those ReplicaSets' pods (created, ready)
 *   argocd_baseline.c  a snapshot <-> the opaque baseline text the host stores
 *   argocd_evidence.c  pure: baseline + snapshot + change time -> evidence and
 *                      a human explanation (no I/O, no clock)
 *   argocd_gitops.c    the GITOPS vtable (baseline, observe)
 *   argocd_apps.c      list_applications (ABI 1.1): GET the application list
 *                      and emit each one's name, project, destination and
 *                      sync/health
 *   argocd_text.c      small text helpers (growable strings, RFC 3339 times,
 *                      JSON string escaping, printable copies)
 *
 * Rules every file follows (the plugin ABI's, see <sbridge/plugin.h>):
 *   - Only <sbridge/plugin.h> and standard C headers. All HTTP goes through
 *     argocd_http_get (and so host->http), all JSON through host->json_*.
 *   - The bearer token lives only in host secure memory (the config secret
 *     and the instance's Authorization header buffer). Snapshots, baselines
 *     and details hold names, hashes, revisions and times — never a value.
 *     Argo CD's free-text messages (operation and health messages) are never
 *     copied into a detail; error messages are copied as short printable
 *     ASCII only.
 *   - An instance is immutable after instance_new, so the plugin declares
 *     SB_THREAD_CONCURRENT; the only global is `argocd_host`, set by init.
 */
#ifndef SB_PLUGINS_ARGOCD_H
#define SB_PLUGINS_ARGOCD_H

#include <sbridge/plugin.h>
#include <stddef.h>
#include <stdint.h>

/* The host API table given to init(); NULL before init / after fini. */
extern const sb_host_api *argocd_host;

#define ARGOCD_PLUGIN_NAME "argocd"
#define ARGOCD_PLUGIN_VERSION "0.1.0"

#define ARGOCD_DEFAULT_TIMEOUT_MS 15000u
#define ARGOCD_MAX_APP_NAME 253      /* a Kubernetes DNS subdomain */
#define ARGOCD_NAME_CAP 254          /* names of Kubernetes objects + NUL */
#define ARGOCD_SHORT_CAP 64          /* statuses, hashes, namespaces */
#define ARGOCD_REVISION_CAP 128      /* git SHA, Helm chart version */
#define ARGOCD_TIME_CAP 40           /* "2026-01-02T03:04:05Z" */
#define ARGOCD_MAX_DEPLOYMENTS 256   /* Deployments one application may hold */
#define ARGOCD_ERROR_TEXT_MAX 120    /* longest quoted Argo CD error text */
#define ARGOCD_BASELINE_VERSION 1

/* One configured Argo CD endpoint. Strings are heap copies of non-secret
 * config; the Authorization header lives in secure memory. */
typedef struct argocd_instance {
    char *name;            /* operator's instance name, for messages */
    char *base_url;        /* scheme://host[:port][/path], no trailing '/' */
    char *project;         /* NULL: none (missing apps then answer 403) */
    char *ca_file;         /* NULL: system CAs */
    char *tls_server_name; /* NULL: the URL's host */
    uint32_t timeout_ms;
    sb_secure_buf *authorization; /* "Bearer <token>" */
} argocd_instance;

/* ---- argocd_text.c ------------------------------------------------------ */

/* A growable NUL-terminated string in ordinary heap (metadata only);
 * `failed` latches on allocation failure so a chain of appends needs one
 * check at the end. */
typedef struct argocd_str {
    char *p;
    size_t len, cap;
    int failed;
} argocd_str;

void argocd_str_add(argocd_str *s, const char *text);
void argocd_str_addf(argocd_str *s, const char *fmt, ...) SB_PRINTF_LIKE(2, 3);
/* Appends `text` as a quoted JSON string. */
void argocd_str_add_json(argocd_str *s, const char *text);
void argocd_str_free(argocd_str *s);
char *argocd_strdup(const char *s); /* NULL for NULL or no memory */

/* "2026-01-02T03:04:05Z" (optionally with fractional seconds or a numeric
 * offset) -> unix ms; 0 for NULL, "" or anything unparseable. */
int64_t argocd_parse_time_ms(const char *text);
/* unix ms -> "2026-01-02T03:04:05Z" (seconds precision). */
void argocd_format_time(int64_t unix_ms, char *out, size_t cap);
/* Copies `len` bytes of `in` into out as printable ASCII (runs of control
 * bytes and spaces become one space), truncated to cap-1 bytes. */
void argocd_printable_copy(const char *in, size_t len, char *out, size_t cap);

/* ---- argocd_http.c ------------------------------------------------------ */

/* NULL when `name` is a valid Argo CD application name (a Kubernetes DNS
 * subdomain: 1-253 of [a-z0-9.-], starting and ending alphanumeric), else
 * why not. */
const char *argocd_check_app_name(const char *name);

/* The single way this plugin reaches the network. `method` must be "GET":
 * anything else is refused with SB_E_UNSUPPORTED before any I/O (the plugin
 * is read-only whatever its caller asks). Sends
 * `{base_url}/api/v1/applications/{app}{suffix}[?project=...]` with the
 * bearer token. SB_OK with resp filled for any HTTP status (the caller frees
 * resp with host->http_response_free); a transport failure returns the
 * host's status with resp untouched. Checks the call's deadline first. */
sb_status argocd_http_get(const argocd_instance *ai, const sb_call *call, const char *method,
                          const char *app, const char *suffix, const char *metric_op,
                          sb_http_response *resp, sb_result *res);

/* GET `{base_url}/api/v1/applications[?projects={project}]` (project NULL:
 * every application the token can see), with the same rules as
 * argocd_http_get. */
sb_status argocd_http_list(const argocd_instance *ai, const sb_call *call, const char *method,
                           const char *project, sb_http_response *resp, sb_result *res);

/* Maps a non-2xx answer (grpc-gateway JSON) to a status and message:
 *   401 -> AUTH_EXPIRED when Argo says the token is expired, else DENIED;
 *   403 -> DENIED; 404 -> NOT_FOUND; 400 -> INVALID; 429 -> THROTTLED and
 *   5xx -> UNAVAILABLE (both with Retry-After); anything else -> PROTOCOL.
 * The message quotes Argo CD's `message` as short printable ASCII. */
sb_status argocd_fail_http(const sb_http_response *resp, const char *what, const char *app,
                           sb_result *res);

/* A 200 answer parsed into *doc (a JSON object; the caller json_frees it),
 * anything else mapped by argocd_fail_http. Frees resp in every case. */
sb_status argocd_json_answer(sb_http_response *resp, const char *what, const char *app,
                             sb_json **doc, sb_result *res);

/* SB_E_TIMEOUT or SB_E_CANCELLED when the call is over, else SB_OK. */
sb_status argocd_check_call(const sb_call *call, const char *what, sb_result *res);

/* ---- argocd_snapshot.c -------------------------------------------------- */

typedef struct argocd_replicaset {
    char name[ARGOCD_NAME_CAP];
    char hash[ARGOCD_SHORT_CAP]; /* pod-template-hash: the name after "<deployment>-" */
    int64_t revision;            /* from info "Revision" = "Rev:N"; 0 unknown */
    int64_t created_ms;
    size_t pods, pods_ready, pods_degraded;
    int64_t oldest_pod_ms, newest_pod_ms; /* 0 without pods */
} argocd_replicaset;

typedef struct argocd_deployment {
    char namespace_[ARGOCD_SHORT_CAP];
    char name[ARGOCD_NAME_CAP];
    char health[ARGOCD_SHORT_CAP];
    argocd_replicaset *replicasets; /* heap */
    size_t n_replicasets;
} argocd_deployment;

/* What an application looks like at one moment; plain metadata. */
typedef struct argocd_snapshot {
    char sync_status[ARGOCD_SHORT_CAP];
    char sync_revision[ARGOCD_REVISION_CAP];
    char health[ARGOCD_SHORT_CAP];
    char operation_phase[ARGOCD_SHORT_CAP];
    char operation_started[ARGOCD_TIME_CAP];
    char operation_finished[ARGOCD_TIME_CAP];
    argocd_deployment *deployments; /* heap */
    size_t n_deployments;
} argocd_snapshot;

/* GETs the application and its resource tree into *snap (zeroed first;
 * release with argocd_snapshot_free, also after a failure). */
sb_status argocd_snapshot_take(const argocd_instance *ai, const sb_call *call, const char *app,
                               argocd_snapshot *snap, sb_result *res);
void argocd_snapshot_free(argocd_snapshot *snap);
/* The ReplicaSet with the highest revision (latest created on a tie); NULL
 * when the Deployment has none. */
const argocd_replicaset *argocd_newest_replicaset(const argocd_deployment *d);

/* ---- argocd_baseline.c -------------------------------------------------- */

/* What the baseline keeps of each Deployment. */
typedef struct argocd_baseline_workload {
    char namespace_[ARGOCD_SHORT_CAP];
    char name[ARGOCD_NAME_CAP];
    char replicaset[ARGOCD_NAME_CAP];
    char hash[ARGOCD_SHORT_CAP];
    int64_t revision;
    int64_t newest_pod_ms;
} argocd_baseline_workload;

typedef struct argocd_baseline {
    int64_t taken_ms;
    char sync_revision[ARGOCD_REVISION_CAP];
    char health[ARGOCD_SHORT_CAP];
    char operation_phase[ARGOCD_SHORT_CAP];
    char operation_started[ARGOCD_TIME_CAP];
    char operation_finished[ARGOCD_TIME_CAP];
    argocd_baseline_workload *workloads; /* heap */
    size_t n_workloads;
} argocd_baseline;

/* Writes the baseline of `snap` taken at `taken_ms` as JSON text into
 * `state`. */
sb_status argocd_baseline_encode(const argocd_snapshot *snap, int64_t taken_ms, sb_text *state,
                                 sb_result *res);
/* Parses a baseline text made by argocd_baseline_encode into *out (zeroed
 * first; release with argocd_baseline_free, also after a failure).
 * SB_E_INVALID when it is not one. */
sb_status argocd_baseline_decode(const char *text, argocd_baseline *out, sb_result *res);
void argocd_baseline_free(argocd_baseline *b);

/* ---- argocd_evidence.c -------------------------------------------------- */

/* Decides what `now` proves about the change made at `changed_ms`, given
 * the baseline taken when it executed, and writes a one-line explanation
 * into `detail` (heap, caller frees; NULL on no memory). See the rules at
 * the top of argocd_evidence.c. Pure: no I/O, no clock. */
sb_gitops_evidence argocd_evidence_decide(const argocd_baseline *base, const argocd_snapshot *now,
                                          int64_t changed_ms, char **detail);

/* ---- argocd_gitops.c ---------------------------------------------------- */

extern const sb_gitops_ops argocd_gitops_ops;

/* ---- argocd_apps.c ------------------------------------------------------ */

/* The list_applications slot (see <sbridge/plugin.h>). */
sb_status argocd_list_applications(void *inst, const sb_call *call,
                                   const sb_gitops_app_query *query, sb_gitops_app_sink emit,
                                   void *sink, sb_result *res);

#endif
