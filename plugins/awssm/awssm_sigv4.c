/*
 * plugins/awssm/awssm_sigv4.c — AWS Signature Version 4, see awssm_sigv4.h
 * for the contract (what is canonicalised how, where secrets live).
 */
#include "awssm_sigv4.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_HEADERS 64
#define MAX_SECRET 256

static const char hexdigits[] = "0123456789abcdef";

static void to_hex(const unsigned char *in, size_t n, char *out)
{
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = hexdigits[in[i] >> 4];
        out[2 * i + 1] = hexdigits[in[i] & 15];
    }
    out[2 * n] = '\0';
}

int awssm_sha256_hex(const void *data, size_t len, char out[65])
{
    unsigned char md[32];
    unsigned int mdlen = 0;
    if (EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL) != 1 || mdlen != 32)
        return -1;
    to_hex(md, 32, out);
    return 0;
}

void awssm_sigv4_amz_date(int64_t unix_ms, char out[17])
{
    time_t t = (time_t)(unix_ms / 1000);
    struct tm tm;
    if (gmtime_r(&t, &tm) == NULL || strftime(out, 17, "%Y%m%dT%H%M%SZ", &tm) != 16)
        memcpy(out, "19700101T000000Z", 17);
}

/* ---- a growable metadata string (paths, query, header names) ------------ */

typedef struct sbuf {
    char *p;
    size_t len, cap;
    int failed;
} sbuf;

static void sb_addn(sbuf *s, const char *t, size_t n)
{
    if (s->failed)
        return;
    if (s->len + n + 1 > s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 128;
        while (cap < s->len + n + 1)
            cap *= 2;
        char *p = realloc(s->p, cap);
        if (p == NULL) {
            s->failed = 1;
            return;
        }
        s->p = p;
        s->cap = cap;
    }
    memcpy(s->p + s->len, t, n);
    s->len += n;
    s->p[s->len] = '\0';
}

static void sb_add(sbuf *s, const char *t) { sb_addn(s, t, strlen(t)); }

static int unreserved(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
           c == '-' || c == '.' || c == '_' || c == '~';
}

static void sb_add_encoded(sbuf *s, const char *t, size_t n)
{
    static const char upper[] = "0123456789ABCDEF";
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)t[i];
        if (unreserved(c)) {
            sb_addn(s, (const char *)&t[i], 1);
        } else {
            char e[3] = {'%', upper[c >> 4], upper[c & 15]};
            sb_addn(s, e, 3);
        }
    }
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Percent-decodes t[0..n) then appends it re-encoded. */
static void sb_add_reencoded(sbuf *s, const char *t, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char c = t[i];
        if (c == '%' && i + 2 < n && hexval(t[i + 1]) >= 0 && hexval(t[i + 2]) >= 0) {
            c = (char)(hexval(t[i + 1]) * 16 + hexval(t[i + 2]));
            i += 2;
        }
        sb_add_encoded(s, &c, 1);
    }
}

/* ---- canonical URI ------------------------------------------------------ */

static void canonical_uri(const char *path, sbuf *out)
{
    if (path == NULL || *path == '\0')
        path = "/";
    size_t n = strlen(path);
    int trailing = n > 1 && path[n - 1] == '/';
    /* segment start offsets into `path` kept as a stack of (ptr,len) */
    const char *seg[256];
    size_t len[256], depth = 0;
    const char *p = path;
    while (*p) {
        while (*p == '/')
            p++;
        if (*p == '\0')
            break;
        const char *e = strchr(p, '/');
        size_t l = e ? (size_t)(e - p) : strlen(p);
        if (l == 1 && p[0] == '.') {
            /* pointless */
        } else if (l == 2 && p[0] == '.' && p[1] == '.') {
            if (depth > 0)
                depth--;
        } else if (depth < 256) {
            seg[depth] = p;
            len[depth++] = l;
        } else {
            out->failed = 1;
            return;
        }
        p += l;
    }
    for (size_t i = 0; i < depth; i++) {
        sb_add(out, "/");
        sb_add_encoded(out, seg[i], len[i]);
    }
    if (depth == 0 || trailing)
        sb_add(out, "/");
}

/* ---- canonical query ---------------------------------------------------- */

typedef struct qpair {
    char *key, *value;
} qpair;

static int qpair_cmp(const void *a, const void *b)
{
    const qpair *x = a, *y = b;
    int c = strcmp(x->key, y->key);
    return c ? c : strcmp(x->value, y->value);
}

static void canonical_query(const char *query, sbuf *out)
{
    if (query == NULL || *query == '\0')
        return;
    size_t cap = 1;
    for (const char *p = query; *p; p++)
        cap += *p == '&';
    qpair *pairs = calloc(cap, sizeof *pairs);
    if (pairs == NULL) {
        out->failed = 1;
        return;
    }
    size_t n = 0;
    const char *p = query;
    while (*p && !out->failed) {
        const char *amp = strchr(p, '&');
        size_t l = amp ? (size_t)(amp - p) : strlen(p);
        if (l > 0) {
            const char *eq = memchr(p, '=', l);
            size_t kl = eq ? (size_t)(eq - p) : l;
            sbuf k = {0}, v = {0};
            sb_add_reencoded(&k, p, kl);
            sb_add(&k, "");
            if (eq)
                sb_add_reencoded(&v, eq + 1, l - kl - 1);
            sb_add(&v, "");
            pairs[n].key = k.p;
            pairs[n].value = v.p;
            n++;
            if (k.failed || v.failed)
                out->failed = 1;
        }
        p += l + (amp ? 1 : 0);
        if (!amp)
            break;
    }
    if (!out->failed) {
        qsort(pairs, n, sizeof *pairs, qpair_cmp);
        for (size_t i = 0; i < n; i++) {
            if (i)
                sb_add(out, "&");
            sb_add(out, pairs[i].key);
            sb_add(out, "=");
            sb_add(out, pairs[i].value);
        }
    }
    for (size_t i = 0; i < n; i++) {
        free(pairs[i].key);
        free(pairs[i].value);
    }
    free(pairs);
}

/* ---- streaming the canonical request into SHA-256 ----------------------- */

typedef struct stream {
    EVP_MD_CTX *md;
    awssm_sigv4_trace_fn trace;
    void *trace_ctx;
    int what;
    int failed;
} stream;

static void put(stream *s, const char *t, size_t n)
{
    if (n == 0 || s->failed)
        return;
    if (s->md && EVP_DigestUpdate(s->md, t, n) != 1)
        s->failed = 1;
    if (s->trace)
        s->trace(s->trace_ctx, s->what, t, n);
}

static void puts_(stream *s, const char *t) { put(s, t, strlen(t)); }

static int is_ws(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

/* A header value trimmed, whitespace runs collapsed, streamed in runs so the
 * value is never copied. *started tracks output across joined values. */
static void put_value(stream *s, const char *v)
{
    int pending = 0, any = 0;
    const char *p = v ? v : "";
    while (*p) {
        if (is_ws(*p)) {
            pending = any;
            p++;
            continue;
        }
        const char *run = p;
        while (*p && !is_ws(*p))
            p++;
        if (pending)
            put(s, " ", 1);
        put(s, run, (size_t)(p - run));
        pending = 0;
        any = 1;
    }
}

typedef struct hdr {
    const char *name;
    const char *value;
} hdr;

static int name_cmp(const char *a, const char *b)
{
    for (;; a++, b++) {
        int x = (unsigned char)*a, y = (unsigned char)*b;
        if (x >= 'A' && x <= 'Z')
            x += 32;
        if (y >= 'A' && y <= 'Z')
            y += 32;
        if (x != y || x == 0)
            return x - y;
    }
}

static int valid_name(const char *n)
{
    if (n == NULL || *n == '\0')
        return 0;
    for (; *n; n++)
        if ((unsigned char)*n <= 0x20 || (unsigned char)*n >= 0x7f || *n == ':')
            return 0;
    return 1;
}

static void add_lower(sbuf *s, const char *n)
{
    for (; *n; n++) {
        char c = (*n >= 'A' && *n <= 'Z') ? (char)(*n + 32) : *n;
        sb_addn(s, &c, 1);
    }
}

/* ---- signing ------------------------------------------------------------ */

static int hmac(const unsigned char *key, size_t klen, const void *data, size_t dlen,
                unsigned char out[32])
{
    unsigned int outlen = 0;
    return HMAC(EVP_sha256(), key, (int)klen, data, dlen, out, &outlen) != NULL && outlen == 32
               ? 0
               : -1;
}

static int fail(const char **why, const char *text)
{
    if (why)
        *why = text;
    return -1;
}

static int check_date(const char *d)
{
    if (d == NULL || strlen(d) != 16 || d[8] != 'T' || d[15] != 'Z')
        return 0;
    for (int i = 0; i < 15; i++)
        if (i != 8 && (d[i] < '0' || d[i] > '9'))
            return 0;
    return 1;
}

static int plain_token(const char *t)
{
    if (t == NULL || *t == '\0')
        return 0;
    for (; *t; t++)
        if ((unsigned char)*t <= 0x20 || (unsigned char)*t >= 0x7f || *t == '/')
            return 0;
    return 1;
}

int awssm_sigv4_sign(const awssm_sigv4_request *rq, char *out, size_t cap,
                     awssm_sigv4_trace_fn trace, void *trace_ctx, const char **why)
{
    if (rq == NULL || out == NULL || cap == 0)
        return fail(why, "missing request or output");
    out[0] = '\0';
    if (rq->method == NULL || rq->method[0] == '\0')
        return fail(why, "missing method");
    if (!check_date(rq->amz_date))
        return fail(why, "X-Amz-Date must look like 20150830T123600Z");
    if (!plain_token(rq->region) || !plain_token(rq->service) ||
        !plain_token(rq->access_key_id))
        return fail(why, "region, service and access key id must be non-empty printable text");
    if (rq->secret_key == NULL || rq->secret_key_len == 0 || rq->secret_key_len > MAX_SECRET)
        return fail(why, "the secret access key is empty or too long");
    if (rq->n_headers + 1 > MAX_HEADERS)
        return fail(why, "too many headers to sign");

    hdr h[MAX_HEADERS];
    size_t nh = 0;
    for (size_t i = 0; i < rq->n_headers; i++) {
        if (!valid_name(rq->headers[i].name))
            return fail(why, "a header name is empty or not a token");
        h[nh++] = (hdr){rq->headers[i].name, rq->headers[i].value};
    }
    if (rq->session_token)
        h[nh++] = (hdr){"x-amz-security-token", rq->session_token};
    /* stable insertion sort: repeated headers keep their order */
    for (size_t i = 1; i < nh; i++) {
        hdr x = h[i];
        size_t j = i;
        while (j > 0 && name_cmp(h[j - 1].name, x.name) > 0) {
            h[j] = h[j - 1];
            j--;
        }
        h[j] = x;
    }

    sbuf uri = {0}, query = {0}, signed_headers = {0};
    canonical_uri(rq->path, &uri);
    sb_add(&query, "");
    sb_add(&signed_headers, ""); /* "" rather than NULL when nothing is signed */
    canonical_query(rq->query, &query);
    for (size_t i = 0; i < nh; i++) {
        if (i > 0 && name_cmp(h[i - 1].name, h[i].name) == 0)
            continue;
        if (signed_headers.len)
            sb_add(&signed_headers, ";");
        add_lower(&signed_headers, h[i].name);
    }
    char body_hash[65];
    int rc = -1;
    const char *err = "out of memory";
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    if (uri.failed || query.failed || signed_headers.failed || md == NULL)
        goto done;
    if (awssm_sha256_hex(rq->body ? (const void *)rq->body : "", rq->body ? rq->body_len : 0,
                         body_hash) != 0 ||
        EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1) {
        err = "SHA-256 failed";
        goto done;
    }

    stream s = {md, trace, trace_ctx, AWSSM_SIGV4_TRACE_CANONICAL, 0};
    puts_(&s, rq->method);
    puts_(&s, "\n");
    puts_(&s, uri.p);
    puts_(&s, "\n");
    puts_(&s, query.p);
    puts_(&s, "\n");
    for (size_t i = 0; i < nh; i++) {
        int same = i > 0 && name_cmp(h[i - 1].name, h[i].name) == 0;
        if (same) {
            puts_(&s, ",");
        } else {
            if (i > 0)
                puts_(&s, "\n");
            sbuf lower = {0};
            add_lower(&lower, h[i].name);
            if (lower.failed) {
                free(lower.p);
                goto done;
            }
            puts_(&s, lower.p);
            puts_(&s, ":");
            free(lower.p);
        }
        put_value(&s, h[i].value);
    }
    puts_(&s, "\n\n");
    puts_(&s, signed_headers.p);
    puts_(&s, "\n");
    puts_(&s, body_hash);
    unsigned char creq_md[32];
    unsigned int mdlen = 0;
    if (s.failed || EVP_DigestFinal_ex(md, creq_md, &mdlen) != 1 || mdlen != 32) {
        err = "SHA-256 failed";
        goto done;
    }
    char creq_hex[65];
    to_hex(creq_md, 32, creq_hex);

    char scope[256];
    int sl = snprintf(scope, sizeof scope, "%.8s/%s/%s/aws4_request", rq->amz_date, rq->region,
                      rq->service);
    if (sl < 0 || (size_t)sl >= sizeof scope) {
        err = "region or service name too long";
        goto done;
    }
    char sts[512];
    int stl = snprintf(sts, sizeof sts, "AWS4-HMAC-SHA256\n%s\n%s\n%s", rq->amz_date, scope,
                       creq_hex);
    if (stl < 0 || (size_t)stl >= sizeof sts) {
        err = "string to sign too long";
        goto done;
    }
    if (trace)
        trace(trace_ctx, AWSSM_SIGV4_TRACE_STRING_TO_SIGN, sts, (size_t)stl);

    unsigned char ksecret[4 + MAX_SECRET], k1[32], k2[32], k3[32], k4[32], sig[32];
    memcpy(ksecret, "AWS4", 4);
    memcpy(ksecret + 4, rq->secret_key, rq->secret_key_len);
    int hm = hmac(ksecret, 4 + rq->secret_key_len, rq->amz_date, 8, k1) ||
             hmac(k1, 32, rq->region, strlen(rq->region), k2) ||
             hmac(k2, 32, rq->service, strlen(rq->service), k3) ||
             hmac(k3, 32, "aws4_request", 12, k4) || hmac(k4, 32, sts, (size_t)stl, sig);
    OPENSSL_cleanse(ksecret, sizeof ksecret);
    OPENSSL_cleanse(k1, sizeof k1);
    OPENSSL_cleanse(k2, sizeof k2);
    OPENSSL_cleanse(k3, sizeof k3);
    OPENSSL_cleanse(k4, sizeof k4);
    if (hm) {
        err = "HMAC-SHA256 failed";
        goto done;
    }
    char sig_hex[65];
    to_hex(sig, 32, sig_hex);
    int ol = snprintf(out, cap,
                      "AWS4-HMAC-SHA256 Credential=%s/%s, SignedHeaders=%s, Signature=%s",
                      rq->access_key_id, scope, signed_headers.p, sig_hex);
    if (ol < 0 || (size_t)ol >= cap) {
        out[0] = '\0';
        err = "the Authorization header does not fit";
        goto done;
    }
    rc = 0;
    err = NULL;
done:
    EVP_MD_CTX_free(md);
    free(uri.p);
    free(query.p);
    free(signed_headers.p);
    if (rc != 0 && why)
        *why = err;
    return rc;
}
