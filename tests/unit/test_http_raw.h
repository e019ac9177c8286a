/* test_http_raw.h — raw TCP for the HTTP server tests that need what curl
 * will not send: malformed requests, headers trickled a byte at a time,
 * connections from a chosen loopback address. */
#ifndef SB_TEST_HTTP_RAW_H
#define SB_TEST_HTTP_RAW_H

#include <stddef.h>

/* A connected blocking socket to 127.0.0.1:port, bound first to from_ip
 * (e.g. "127.0.0.2") unless NULL; -1 on failure. */
int raw_connect(unsigned port, const char *from_ip);
/* Sends all of data (MSG_NOSIGNAL); 0, or -1 once the peer is gone. */
int raw_send(int fd, const void *data, size_t len);
int raw_send_str(int fd, const char *s);
/* Reads until the peer closes or timeout_ms passes; returns what arrived
 * (NUL-terminated, caller frees) and sets *closed. */
char *raw_read_all(int fd, long timeout_ms, int *closed);
/* 1 when the peer closed (or reset) the connection within timeout_ms. */
int raw_wait_closed(int fd, long timeout_ms);

typedef struct raw_reply {
    int status;              /* 0: no status line */
    char content_type[128];  /* "" when absent */
    char request_id[128];    /* X-Request-Id, "" when absent */
    const char *body;        /* points into the raw text */
} raw_reply;
/* Splits a raw HTTP/1.x response; 0, or -1 when it is not one. */
int raw_parse(const char *raw, raw_reply *out);

#endif
