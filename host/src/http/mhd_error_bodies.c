/*
 * http/mhd_error_bodies.c — the answers libmicrohttpd sends by itself, in
 * the project's JSON error shape (SPEC §7; issue 9 item 9).
 *
 * libmicrohttpd answers a request it cannot parse (a header line without a
 * colon, a bad Content-Length, broken chunked framing, an HTTP version it
 * does not speak, a header too big for the connection's memory) before any
 * callback runs, with a fixed HTML body and no hook to replace it. It makes
 * that body with MHD_create_response_from_buffer, which nothing else in
 * this code base calls. The library is linked statically and the linker
 * routes that one function here (-Wl,--wrap, http/CMakeLists.txt): a body
 * that is one of libmicrohttpd's own HTML pages becomes
 * {"error":{"code","message","request_id"}} with Content-Type
 * application/json, X-Request-Id and Cache-Control: no-store; any other
 * buffer passes through untouched. The status stays libmicrohttpd's. An
 * HTML page this table does not know (a newer library) still becomes JSON,
 * as a generic "malformed_request". Each refusal is logged with its
 * request id, so the body and the log can be matched.
 * test_http_malformed sends each case over a raw socket.
 */
#include <microhttpd.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/log.h"

#define MHD_PAGE_PREFIX "<html><head><title>"

/* What libmicrohttpd's pages say (their <title> and a distinguishing
 * phrase of the body), and what we say instead. First match wins. */
static const struct {
    const char *title, *phrase, *code, *message;
} pages[] = {
    {"Request too big", NULL, "headers_too_large",
     "the request line and headers do not fit in this server's memory for a connection; send "
     "fewer or smaller headers"},
    {"Request malformed", "Content-Length", "invalid_content_length",
     "the Content-Length header is not a number of bytes"},
    {"Request malformed", "chunked", "malformed_chunked_body",
     "the chunked transfer encoding of the body is malformed"},
    {"Request malformed", NULL, "malformed_request",
     "the request is not valid HTTP/1.1 (a header line without a colon, or a malformed request "
     "line)"},
    {"Request content too large", "chunk size", "body_too_large",
     "a chunk of the body is larger than this server accepts"},
    {"Request content too large", NULL, "body_too_large",
     "the Content-Length header is larger than this server accepts"},
    {"Requested HTTP version is not supported", NULL, "http_version_not_supported",
     "only HTTP/1.0 and HTTP/1.1 are supported"},
    {"&quot;Host:&quot; header required", NULL, "missing_host_header",
     "an HTTP/1.1 request must carry a Host header"},
    {"Internal server error", NULL, "internal_error", "internal error"},
};

struct MHD_Response *__real_MHD_create_response_from_buffer(size_t size, void *buffer,
                                                            enum MHD_ResponseMemoryMode mode);
struct MHD_Response *__wrap_MHD_create_response_from_buffer(size_t size, void *buffer,
                                                            enum MHD_ResponseMemoryMode mode);

static int is_mhd_page(const char *body, size_t size)
{
    size_t prefix = sizeof MHD_PAGE_PREFIX - 1;
    return body != NULL && size > prefix && memcmp(body, MHD_PAGE_PREFIX, prefix) == 0 &&
           memchr(body, '\0', size) == NULL;
}

/* Does phrase occur in the size bytes of body? */
static int mentions(const char *body, size_t size, const char *phrase)
{
    size_t n = strlen(phrase);
    for (size_t i = 0; n <= size && i <= size - n; i++)
        if (memcmp(body + i, phrase, n) == 0)
            return 1;
    return 0;
}

static size_t page_of(const char *body, size_t size)
{
    size_t prefix = sizeof MHD_PAGE_PREFIX - 1, n = sizeof pages / sizeof pages[0];
    for (size_t i = 0; i < n; i++) {
        size_t t = strlen(pages[i].title);
        if (size >= prefix + t && memcmp(body + prefix, pages[i].title, t) == 0 &&
            (pages[i].phrase == NULL || mentions(body, size, pages[i].phrase)))
            return i;
    }
    return 3; /* a page this table does not know: malformed_request */
}

struct MHD_Response *__wrap_MHD_create_response_from_buffer(size_t size, void *buffer,
                                                            enum MHD_ResponseMemoryMode mode)
{
    if (!is_mhd_page(buffer, size))
        return __real_MHD_create_response_from_buffer(size, buffer, mode);
    size_t i = page_of(buffer, size);
    unsigned char raw[16];
    char request_id[33];
    randombytes_buf(raw, sizeof raw);
    sodium_bin2hex(request_id, sizeof request_id, raw, sizeof raw);
    size_t cap = strlen(pages[i].code) + strlen(pages[i].message) + sizeof request_id + 64;
    char *json = malloc(cap);
    if (json == NULL)
        return __real_MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
    int len = snprintf(json, cap, "{\"error\":{\"code\":\"%s\",\"message\":\"%s\",\"request_id\":\"%s\"}}",
                       pages[i].code, pages[i].message, request_id);
    struct MHD_Response *r =
        __real_MHD_create_response_from_buffer((size_t)len, json, MHD_RESPMEM_MUST_FREE);
    if (r == NULL) {
        free(json);
        return NULL;
    }
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
    MHD_add_response_header(r, "X-Request-Id", request_id);
    MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    sb_log_ctx ctx = {.request_id = request_id};
    sb_log(SB_LEVEL_INFO, "http", &ctx, "libmicrohttpd refused a request it could not parse: %s",
           pages[i].code);
    return r;
}
