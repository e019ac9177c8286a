/*
 * http/internal.h — structures and helpers shared by the files of http/
 * (private: nothing outside http/ includes it).
 *
 * Ownership of a request: libmicrohttpd holds one reference from the moment
 * the request line is parsed (uri_log callback) until it reports the request
 * completed; a parked request holds a second one for its owner until
 * sb_http_resume. Whoever drops the last reference frees it. req->mu guards
 * the response fields and the parking state (the owner of a parked request
 * may answer from any thread); lock order is server->mu before req->mu.
 */
#ifndef SB_HTTP_INTERNAL_H
#define SB_HTTP_INTERNAL_H

#include <jansson.h>
#include <microhttpd.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "util/cidr.h"
#include "http/metrics.h"
#include "http/request.h"
#include "http/router.h"
#include "http/server.h"

#define SB_HTTP_COMPONENT "http"
#define SB_HTTP_MAX_READINESS 16

typedef struct sb_http_kv {
    char *name;
    char *value;
} sb_http_kv;

/* Where the access handler is in the life of a request. */
enum sb_http_phase {
    SB_PHASE_HEADERS = 0, /* first call: route, limits, gate */
    SB_PHASE_DECIDED,     /* answered on the first call; sent on the next (keeps keep-alive) */
    SB_PHASE_BODY,        /* receiving (or discarding) the body */
    SB_PHASE_PARKED,      /* handler parked it; next call follows sb_http_resume */
    SB_PHASE_QUEUED       /* response handed to libmicrohttpd */
};

enum sb_http_park {
    SB_PARK_NONE = 0,
    SB_PARK_WANTED,  /* handler called sb_http_suspend, still running */
    SB_PARK_PARKED,  /* connection suspended */
    SB_PARK_RESUMED, /* owner resumed (possibly before the handler returned) */
    SB_PARK_FORCED   /* server answered it at shutdown; the owner's answer is ignored */
};

/* A response body; released (zeroed first) by libmicrohttpd's free callback. */
typedef struct sb_http_payload {
    size_t len;
    unsigned char data[];
} sb_http_payload;

struct sb_server_request {
    sb_http_server *server;
    struct MHD_Connection *conn;
    uint64_t start_ns;
    int phase;
    char method[16];       /* "OTHER" for anything longer or unknown-shaped */
    char *target;          /* raw request target; path ends at target + path_len */
    size_t path_len;
    char request_id[SB_HTTP_REQUEST_ID_MAX + 1];
    char remote_ip[64];
    const sb_route *route;
    const char *route_label; /* pattern, built-in path or "unmatched" */
    int builtin;             /* index + 1 of a built-in endpoint */
    sb_route_match match;
    sb_http_kv *query;
    size_t n_query;
    char *query_storage;
    unsigned char *body;
    size_t body_len, body_cap, body_seen;
    int body_too_large;
    json_t *json;
    void *identity;
    void (*identity_free)(void *);

    pthread_mutex_t mu;
    int status;             /* 0 = unanswered */
    sb_http_payload *response; /* NULL = empty body */
    sb_http_kv *headers;
    size_t n_headers, cap_headers;
    size_t bytes_out;
    int park;
    sb_http_wake_fn wake;
    void *wake_ctx;
    int woken;
    int refs;
    sb_server_request *park_prev, *park_next;
    int in_park_list;
};

/* header_deadline.c: the per-connection header deadline and its watchdog. */
typedef struct sb_http_conn_watch sb_http_conn_watch;
typedef struct sb_http_watchdog {
    pthread_mutex_t mu; /* guards the list and every entry's deadline */
    pthread_cond_t wake;
    pthread_t thread;
    int running, stop;
    uint64_t header_ns, idle_ns;
    sb_http_conn_watch *head;
} sb_http_watchdog;

struct sb_http_server {
    struct MHD_Daemon *daemon;
    const sb_router *router;
    sb_http_config cfg;
    int listen_fd;
    unsigned port;
    char *tls_cert, *tls_key; /* key lives in secure memory */
    atomic_int stopping;
    pthread_mutex_t mu;
    pthread_cond_t idle;
    size_t in_flight;
    sb_server_request *parked; /* list of parked requests */
    sb_http_readiness readiness[SB_HTTP_MAX_READINESS];
    char *readiness_names[SB_HTTP_MAX_READINESS];
    size_t n_readiness;
    int woke_parked; /* stop has woken the parked requests (under mu) */
    int forced;      /* stop has answered the parked requests 503 (under mu) */
    sb_cidr *trusted; /* cfg.trusted_proxies, parsed */
    size_t n_trusted;
    sb_http_watchdog watchdog;
};

/* request.c */
sb_server_request *sb_server_request_new(sb_http_server *server, struct MHD_Connection *conn,
                                     const char *target);
/* Drops one reference (under req->mu); frees on the last. */
void sb_server_request_release(sb_server_request *req);
/* Parses the query string; -1 on bad encoding. */
int sb_server_request_parse_query(sb_server_request *req);
/* Once the headers are in: the client address behind trusted proxies
 * (X-Forwarded-For; see sb_http_config.trusted_proxies). */
void sb_server_request_resolve_client(sb_server_request *req);
/* Picks the request id from X-Request-Id or generates one. */
void sb_server_request_assign_id(sb_server_request *req);
int sb_server_request_id_valid(const char *id);
/* Appends a body chunk (or counts it when over the limit). */
void sb_server_request_take_body(sb_server_request *req, const char *data, size_t len);

/* response.c */
/* Builds the libmicrohttpd response (with the standard headers) and queues it. */
enum MHD_Result sb_http_response_queue(sb_server_request *req);
/* Answers 503 a request parked at shutdown (under req->mu). */
void sb_http_response_force(sb_server_request *req);

/* builtin.c */
/* Serves /healthz, /readyz, /metrics if target is one; 1 when it answered. */
int sb_http_builtin_serve(sb_http_server *server, sb_server_request *req, const char *path);

/* pipeline.c: the libmicrohttpd callbacks */
void *sb_http_on_uri(void *cls, const char *uri, struct MHD_Connection *conn);
enum MHD_Result sb_http_on_access(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version,
                                  const char *upload, size_t *upload_size, void **con_cls);
void sb_http_on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                          enum MHD_RequestTerminationCode toe);
void sb_http_pipeline_init_metrics(void);

uint64_t sb_http_now_ns(void);

/* header_deadline.c (see there for the states) */
int sb_http_watchdog_start(sb_http_watchdog *dog, unsigned header_timeout_ms,
                           unsigned idle_timeout_s);
/* After MHD_stop_daemon. */
void sb_http_watchdog_stop(sb_http_watchdog *dog);
void sb_http_on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
                           enum MHD_ConnectionNotificationCode toe);
void sb_http_deadline_request_line(struct MHD_Connection *conn);
void sb_http_deadline_headers_done(struct MHD_Connection *conn);
void sb_http_deadline_request_done(struct MHD_Connection *conn);

#endif
