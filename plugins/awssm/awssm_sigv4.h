/*
 * plugins/awssm/awssm_sigv4.h — AWS Signature Version 4 (header-based).
 *
 * Contract:
 *   - Pure computation over OpenSSL libcrypto (SHA-256, HMAC-SHA256): no host
 *     API, no I/O, no allocation that outlives the call, so the official test
 *     suite (tests/plugins/awssm/test_awssm_sigv4.c) drives exactly the code
 *     the plugin runs.
 *   - Secrets: the secret access key is read where it lies (the caller keeps
 *     it in secure memory); the derived signing keys live on the stack and
 *     are cleansed before return. The canonical request is never built as
 *     one string: it is streamed into SHA-256 (header values, including a
 *     session token, are normalised on the fly), so no credential lands in
 *     ordinary heap. An optional trace callback receives the canonical
 *     request and string to sign piece by piece (tests only: it sees the
 *     session token).
 *   - Canonicalisation (non-S3 rules): the path is normalised ("." and ".."
 *     resolved, repeated '/' squashed, trailing '/' kept) and each segment
 *     percent-encoded; the query string is split on '&', each key and value
 *     percent-decoded then re-encoded (RFC 3986 unreserved kept, uppercase
 *     hex), sorted by key then value; header names are lowercased and sorted,
 *     values trimmed with inner whitespace runs (folded lines included)
 *     collapsed to one space, repeated headers joined with ',' in order.
 *   - Every header given is signed (the caller chooses the set; a verifier
 *     takes it from SignedHeaders). A session token is added as
 *     x-amz-security-token and signed (botocore's "header before" form); the
 *     caller also sends it as that header.
 */
#ifndef SB_PLUGINS_AWSSM_SIGV4_H
#define SB_PLUGINS_AWSSM_SIGV4_H

#include <stddef.h>
#include <stdint.h>

typedef struct awssm_sigv4_header {
    const char *name;  /* any case */
    const char *value; /* raw; normalised while signing */
} awssm_sigv4_header;

typedef struct awssm_sigv4_request {
    const char *method;  /* "POST" */
    const char *path;    /* decoded request path, e.g. "/" or "/a b"; NULL: "/" */
    const char *query;   /* raw query without '?', may hold %XX; NULL: none */
    const awssm_sigv4_header *headers; /* every header to sign: host, x-amz-date, ... */
    size_t n_headers;
    const unsigned char *body;
    size_t body_len;
    const char *amz_date; /* "YYYYMMDDTHHMMSSZ" (16 characters) */
    const char *region;
    const char *service;
    const char *access_key_id;
    const unsigned char *secret_key; /* not NUL-terminated necessarily */
    size_t secret_key_len;
    const char *session_token; /* NULL: long-term credentials */
} awssm_sigv4_request;

#define AWSSM_SIGV4_TRACE_CANONICAL 1
#define AWSSM_SIGV4_TRACE_STRING_TO_SIGN 2
typedef void (*awssm_sigv4_trace_fn)(void *ctx, int what, const char *text, size_t len);

/* Longest Authorization value we produce is bounded by the inputs; 1 KiB
 * covers 64-byte key ids, long region/service names and ~40 headers. */
#define AWSSM_SIGV4_AUTH_MAX 2048

/* Computes the Authorization header value into `out` (NUL-terminated).
 * Returns 0, or -1 with *why set (a static text) on invalid input, a
 * too-small `out`, no memory or a libcrypto failure. `trace` may be NULL. */
int awssm_sigv4_sign(const awssm_sigv4_request *rq, char *out, size_t cap,
                     awssm_sigv4_trace_fn trace, void *trace_ctx, const char **why);

/* Formats unix milliseconds as an X-Amz-Date ("20150830T123600Z"); out must
 * hold 17 bytes. */
void awssm_sigv4_amz_date(int64_t unix_ms, char out[17]);

/* Lowercase hex SHA-256 of data into out (65 bytes). 0 ok, -1 on failure. */
int awssm_sha256_hex(const void *data, size_t len, char out[65]);

#endif
