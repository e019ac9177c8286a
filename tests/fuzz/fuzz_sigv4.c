/* fuzz_sigv4.c — the awssm plugin's SigV4 canonicalisation (path
 * normalisation and encoding, query splitting/decoding/sorting, header
 * folding and merging) on hostile input. The input's lines are: method,
 * path, query, then "name:value" headers. Signing must never crash, and
 * must be deterministic: the same request signs to the same canonical
 * request and Authorization twice. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "awssm_sigv4.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct capture {
    char text[16384];
    size_t len;
} capture;

static void on_trace(void *ctx, int what, const char *text, size_t len)
{
    capture *c = ctx;
    (void)what;
    if (c->len + len < sizeof c->text) {
        memcpy(c->text + c->len, text, len);
        c->len += len;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 8192)
        return 0;
    char *text = malloc(size + 1);
    if (text == NULL)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    char *lines[40];
    size_t n = 0;
    for (char *p = text; p && n < 40;) {
        lines[n++] = p;
        char *nl = strchr(p, '\n');
        if (nl)
            *nl = '\0';
        p = nl ? nl + 1 : NULL;
    }
    awssm_sigv4_header headers[36];
    size_t nh = 0;
    for (size_t i = 3; i < n && nh < 36; i++) {
        char *colon = strchr(lines[i], ':');
        if (colon == NULL)
            continue;
        *colon = '\0';
        headers[nh++] = (awssm_sigv4_header){lines[i], colon + 1};
    }
    awssm_sigv4_request rq = {.method = n > 0 ? lines[0] : "GET", .path = n > 1 ? lines[1] : "/",
                              .query = n > 2 ? lines[2] : NULL, .headers = headers,
                              .n_headers = nh, .body = data, .body_len = size,
                              .amz_date = "20150830T123600Z", .region = "us-east-1",
                              .service = "service", .access_key_id = "AKIDEXAMPLE",
                              .secret_key = (const unsigned char *)"secret",
                              .secret_key_len = 6, .session_token = nh % 2 ? "tok" : NULL};
    char a[AWSSM_SIGV4_AUTH_MAX], b[AWSSM_SIGV4_AUTH_MAX];
    static capture c1, c2;
    c1.len = c2.len = 0;
    const char *why = NULL;
    int r1 = awssm_sigv4_sign(&rq, a, sizeof a, on_trace, &c1, &why);
    int r2 = awssm_sigv4_sign(&rq, b, sizeof b, on_trace, &c2, &why);
    if (r1 != r2 || (r1 == 0 && (strcmp(a, b) != 0 || c1.len != c2.len ||
                                 memcmp(c1.text, c2.text, c1.len) != 0)))
        abort();
    free(text);
    return 0;
}
