/* test_http_support.h — a libcurl client and a log capture for the HTTP
 * server tests (test_http_*.c). */
#ifndef SB_TEST_HTTP_SUPPORT_H
#define SB_TEST_HTTP_SUPPORT_H

#include <stddef.h>

typedef struct http_reply {
    long status;
    int curl_code;    /* CURLE_OK unless the transfer failed */
    char *body;       /* NUL-terminated */
    size_t body_len;
    char *headers;    /* raw header block, NUL-terminated */
} http_reply;

typedef struct http_call {
    const char *method;         /* default GET */
    const char *const *headers; /* NULL-terminated "Name: value" list */
    const char *body;
    size_t body_len;
    int chunked;                /* send the body with Transfer-Encoding: chunked */
    int tls;                    /* https:// with ca_file */
    const char *ca_file;
    void *handle;               /* a CURL * to reuse (keep-alive); NULL = fresh */
    long timeout_ms;            /* default 10000 */
} http_call;

void http_global_init(void);
/* Performs one request to 127.0.0.1:port path; fills out (free with http_reply_free). */
void http_request(unsigned port, const char *path, const http_call *call, http_reply *out);
void http_get(unsigned port, const char *path, http_reply *out);
void http_reply_free(http_reply *r);
/* The value of a response header (case-insensitive) copied into buf; NULL when absent. */
const char *http_reply_header(const http_reply *r, const char *name, char *buf, size_t cap);
/* A curl easy handle for keep-alive reuse; free with http_handle_free. */
void *http_handle_new(void);
void http_handle_free(void *handle);

/* Log capture into a temporary file. */
void log_capture_start(void);
/* Polls (up to timeout_ms) until the captured log contains needle; returns a
 * malloc'd copy of the whole log (caller frees) or NULL on timeout. */
char *log_capture_wait(const char *needle, long timeout_ms);
void log_capture_stop(void);

/* Milliseconds on the monotonic clock. */
long long now_ms(void);

/* ---- the test server (test_http_fixture.c) ---------------------------- */

#include <jansson.h>
#include <stdatomic.h>

#include "http/server.h"

extern sb_router *test_router;
extern sb_http_server *test_server;
extern unsigned test_port;
extern atomic_int handler_calls; /* upload/echo handler invocations */

/* Starts the fixture's routes on 127.0.0.1:0 with 4 threads. */
void start_server(sb_http_gate gate, int metrics, size_t body_limit, unsigned request_timeout_ms);
void start_default(void);       /* no gate, metrics on, 1024-byte body limit */
void start_gated(void);         /* the fixture's test gate */
void start_no_metrics(void);
void start_short_timeout(void); /* 300 ms to receive a request */
/* Trusts 127.0.0.1 and 10.0.0.0/8 as proxies (X-Forwarded-For). */
void start_behind_proxy(void);
extern const char *const *test_trusted_proxies; /* for start_server */
extern size_t test_n_trusted_proxies;
void stop_server(void);
json_t *body_json(const http_reply *r);
/* Asserts status and the exact {"error":{code,message,request_id}} shape,
 * with request_id equal to the X-Request-Id header. */
void expect_error(const http_reply *r, long status, const char *code);
const char *field(json_t *j, const char *key);

#endif
