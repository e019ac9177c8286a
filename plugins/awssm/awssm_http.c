/*
 * plugins/awssm/awssm_http.c — one signed AWS request through the host.
 *
 * Contract: JSON 1.1 calls are `POST {endpoint}/` with Content-Type
 * application/x-amz-json-1.1, X-Amz-Target `{prefix}.{Op}`, X-Amz-Date, Host
 * and (temporary credentials) X-Amz-Security-Token, all of them signed
 * (content-type;host;x-amz-date;x-amz-security-token;x-amz-target, as botocore
 * signs). STS calls are form-encoded `POST {sts_endpoint}/`, signed for `sts`.
 * Credential values are handed to the signer and to header values straight
 * from their secure buffers. Error answers are mapped here (awssm_fail_response)
 * with botocore's parsing rules: `__type` with any `ns#` prefix and `:suffix`
 * removed, `message` or `Message`, x-amzn-ErrorType as a fallback, STS XML
 * `<Code>`. Also the small helpers the other files share (strings, base64 in
 * secure memory, AWS times).
 */
#include "awssm.h"
#include "awssm_sigv4.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- strings (metadata only) --------------------------------------------- */

void awssm_str_addn(awssm_str *s, const char *text, size_t n)
{
    if (s->failed)
        return;
    if (s->len + n + 1 > s->cap) {
        size_t cap = s->cap ? s->cap : 64;
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
    if (n)
        memcpy(s->p + s->len, text, n);
    s->len += n;
    s->p[s->len] = '\0';
}

void awssm_str_add(awssm_str *s, const char *text)
{
    awssm_str_addn(s, text ? text : "", text ? strlen(text) : 0);
}

void awssm_str_add_json(awssm_str *s, const char *text)
{
    awssm_str_add(s, "\"");
    for (const unsigned char *p = (const unsigned char *)(text ? text : ""); *p; p++) {
        char esc[8];
        if (*p == '"' || *p == '\\') {
            esc[0] = '\\';
            esc[1] = (char)*p;
            awssm_str_addn(s, esc, 2);
        } else if (*p < 0x20) {
            snprintf(esc, sizeof esc, "\\u%04x", *p);
            awssm_str_add(s, esc);
        } else {
            awssm_str_addn(s, (const char *)p, 1);
        }
    }
    awssm_str_add(s, "\"");
}

void awssm_str_free(awssm_str *s)
{
    free(s->p);
    memset(s, 0, sizeof *s);
}

char *awssm_strdup(const char *s)
{
    if (s == NULL)
        return NULL;
    size_t n = strlen(s) + 1;
    char *p = malloc(n);
    if (p)
        memcpy(p, s, n);
    return p;
}

const char *awssm_check_secret_id(const char *path)
{
    if (path == NULL || path[0] == '\0')
        return "the secret name is empty";
    size_t n = strlen(path);
    if (n > 2048)
        return "the secret name is longer than 2048 bytes";
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)path[i] < 0x21 || (unsigned char)path[i] > 0x7e)
            return "the secret name holds a space, control or non-ASCII byte";
    return NULL;
}

/* ---- base64 in secure memory ------------------------------------------------ */

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int awssm_b64_encode_secure(sb_secure_buf *out, const unsigned char *in, size_t len)
{
    const sb_host_api *h = awssm_host;
    char quad[4];
    int rc = 0;
    for (size_t i = 0; i < len && rc == 0; i += 3) {
        unsigned v = (unsigned)in[i] << 16;
        if (i + 1 < len)
            v |= (unsigned)in[i + 1] << 8;
        if (i + 2 < len)
            v |= in[i + 2];
        quad[0] = b64[(v >> 18) & 63];
        quad[1] = b64[(v >> 12) & 63];
        quad[2] = i + 1 < len ? b64[(v >> 6) & 63] : '=';
        quad[3] = i + 2 < len ? b64[v & 63] : '=';
        rc = h->secure_append(out, quad, 4);
    }
    memset(quad, 0, sizeof quad);
    return rc;
}

static int b64_value(char c)
{
    const char *p = c ? strchr(b64, c) : NULL;
    return p ? (int)(p - b64) : -1;
}

int awssm_b64_decode_secure(sb_secure_buf *out, const char *in, size_t len)
{
    const sb_host_api *h = awssm_host;
    unsigned char tri[3];
    unsigned v = 0;
    int bits = 0, rc = 0, pad = 0;
    size_t n = 0;
    for (size_t i = 0; i < len && rc == 0; i++) {
        if (in[i] == '=') {
            pad++;
            continue;
        }
        int d = b64_value(in[i]);
        if (d < 0 || pad) {
            rc = -1;
            break;
        }
        v = (v << 6) | (unsigned)d;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            tri[n++] = (unsigned char)(v >> bits);
            v &= (1u << bits) - 1;
            if (n == 3) {
                rc = h->secure_append(out, tri, 3);
                n = 0;
            }
        }
    }
    if (rc == 0 && n > 0)
        rc = h->secure_append(out, tri, n);
    if (rc == 0 && (pad > 2 || ((len - (size_t)pad) * 6) % 8 >= 6))
        rc = -1;
    memset(tri, 0, sizeof tri);
    v = 0;
    return rc;
}

/* ---- times -------------------------------------------------------------------- */

int64_t awssm_json_epoch_ms(const sb_json_node *node)
{
    const sb_host_api *h = awssm_host;
    if (h->json_type(node) != SB_JSON_NUMBER)
        return 0;
    size_t len = 0;
    const char *t = h->json_text(node, &len);
    char buf[40];
    if (t == NULL || len == 0 || len >= sizeof buf)
        return 0;
    memcpy(buf, t, len);
    buf[len] = '\0';
    double s = strtod(buf, NULL);
    return s > 0 ? (int64_t)(s * 1000.0 + 0.5) : 0;
}

static int64_t days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

int64_t awssm_iso8601_ms(const char *t, size_t len)
{
    int y, mo, d, hh, mi, ss;
    char buf[40];
    if (t == NULL || len < 20 || len >= sizeof buf)
        return 0;
    memcpy(buf, t, len);
    buf[len] = '\0';
    if (sscanf(buf, "%4d-%2d-%2dT%2d:%2d:%2d", &y, &mo, &d, &hh, &mi, &ss) != 6 ||
        buf[len - 1] != 'Z' || mo < 1 || mo > 12 || d < 1 || d > 31)
        return 0;
    return (days_from_civil(y, mo, d) * 86400 + hh * 3600 + mi * 60 + ss) * 1000;
}

char *awssm_json_strdup(const sb_json_node *node)
{
    size_t len = 0;
    const char *s = awssm_host->json_string(node, &len);
    if (s == NULL)
        return NULL;
    char *p = malloc(len + 1);
    if (p) {
        memcpy(p, s, len);
        p[len] = '\0';
    }
    return p;
}

/* ---- sending -------------------------------------------------------------------- */

sb_status awssm_check_call(const sb_call *call, const char *what, sb_result *res)
{
    const sb_host_api *h = awssm_host;
    if (!h->call_expired(call))
        return SB_OK;
    if (h->call_remaining_ms(call) <= 0)
        return h->fail(res, SB_E_TIMEOUT, 0, "%s: the call's deadline passed", what);
    return h->fail(res, SB_E_CANCELLED, 0, "%s: the call was cancelled", what);
}

sb_status awssm_send(awssm_instance *ai, const sb_call *call, const char *method, const char *url,
                     const sb_kv *headers, size_t n_headers, const sb_secure_buf *body,
                     uint32_t extra_flags, const char *metric_op, sb_http_response *resp,
                     sb_result *res)
{
    const sb_host_api *h = awssm_host;
    sb_status st = awssm_check_call(call, metric_op, res);
    if (st != SB_OK)
        return st;
    sb_http_request req;
    memset(&req, 0, sizeof req);
    req.struct_size = (uint32_t)sizeof req;
    req.flags = ai->http_flags | extra_flags;
    req.method = method;
    req.url = url;
    req.headers = headers;
    req.n_headers = n_headers;
    if (body) {
        size_t blen = 0;
        req.body = h->secure_data(body, &blen);
        req.body_len = blen;
    }
    req.timeout_ms = ai->timeout_ms;
    req.ca_file = ai->ca_file;
    req.metric_op = metric_op;
    memset(resp, 0, sizeof *resp);
    resp->struct_size = (uint32_t)sizeof *resp;
    return h->http(call, &req, resp, res);
}

/* "https://host:port/..." -> "host:port" (heap). */
static char *authority(const char *endpoint)
{
    const char *p = strstr(endpoint, "://");
    p = p ? p + 3 : endpoint;
    size_t n = strcspn(p, "/?#");
    char *out = malloc(n + 1);
    if (out) {
        memcpy(out, p, n);
        out[n] = '\0';
    }
    return out;
}

static sb_status sign_and_send(awssm_instance *ai, const sb_call *call, const awssm_creds *cr,
                               const char *endpoint, const char *service, const char *ctype,
                               const char *target, const sb_secure_buf *body, int body_secret,
                               const char *metric_op, sb_http_response *resp, sb_result *res)
{
    const sb_host_api *h = awssm_host;
    char amz_date[17], auth[AWSSM_SIGV4_AUTH_MAX];
    awssm_sigv4_amz_date(h->now_unix_ms(), amz_date);
    char *host = authority(endpoint);
    awssm_str url = {0};
    awssm_str_add(&url, endpoint);
    awssm_str_add(&url, "/");
    if (host == NULL || url.failed) {
        free(host);
        awssm_str_free(&url);
        return h->fail(res, SB_E_INTERNAL, 0, "%s: out of memory", metric_op);
    }
    size_t tlen = 0, klen = 0, blen = 0, alen = 0;
    const char *token = (const char *)h->secure_data(cr->session_token, &tlen);
    const char *akid = (const char *)h->secure_data(cr->access_key_id, &alen);
    const unsigned char *secret = h->secure_data(cr->secret_key, &klen);
    const unsigned char *bdata = body ? h->secure_data(body, &blen) : (const unsigned char *)"";
    awssm_sigv4_header sh[4];
    size_t ns = 0;
    sh[ns++] = (awssm_sigv4_header){"content-type", ctype};
    sh[ns++] = (awssm_sigv4_header){"host", host};
    sh[ns++] = (awssm_sigv4_header){"x-amz-date", amz_date};
    if (target)
        sh[ns++] = (awssm_sigv4_header){"x-amz-target", target};
    awssm_sigv4_request rq = {.method = "POST", .path = "/", .headers = sh, .n_headers = ns,
                              .body = bdata, .body_len = blen, .amz_date = amz_date,
                              .region = ai->region, .service = service, .access_key_id = akid,
                              .secret_key = secret, .secret_key_len = klen,
                              .session_token = tlen ? token : NULL};
    const char *why = NULL;
    if (awssm_sigv4_sign(&rq, auth, sizeof auth, NULL, NULL, &why) != 0) {
        free(host);
        awssm_str_free(&url);
        return h->fail(res, SB_E_CONFIG, 0, "%s: cannot sign the request: %s", metric_op, why);
    }
    sb_kv headers[7];
    size_t nh = 0;
    headers[nh++] = (sb_kv){"Content-Type", ctype};
    headers[nh++] = (sb_kv){"Host", host};
    headers[nh++] = (sb_kv){"X-Amz-Date", amz_date};
    if (target)
        headers[nh++] = (sb_kv){"X-Amz-Target", target};
    if (tlen)
        headers[nh++] = (sb_kv){"X-Amz-Security-Token", token};
    headers[nh++] = (sb_kv){"Authorization", auth};
    sb_status st = awssm_send(ai, call, "POST", url.p, headers, nh, body,
                              body_secret ? SB_HTTP_BODY_SECRET : 0, metric_op, resp, res);
    free(host);
    awssm_str_free(&url);
    return st;
}

sb_status awssm_sts_send(awssm_instance *ai, const sb_call *call, const awssm_creds *with,
                         const sb_secure_buf *body, const char *metric_op,
                         sb_http_response *resp, sb_result *res)
{
    return sign_and_send(ai, call, with, ai->sts_endpoint, "sts",
                         "application/x-www-form-urlencoded; charset=utf-8", NULL, body, 0,
                         metric_op, resp, res);
}

awssm_service awssm_sm(const awssm_instance *ai)
{
    return (awssm_service){ai->sm_endpoint, "secretsmanager", "secretsmanager"};
}

awssm_service awssm_kms_service(const awssm_instance *ai)
{
    return (awssm_service){ai->kms_endpoint, "kms", "TrentService"};
}

sb_status awssm_call(awssm_instance *ai, const sb_call *call, const awssm_service *svc,
                     const char *op, const sb_secure_buf *body, int body_secret, int idempotent,
                     sb_json **doc, sb_result *res)
{
    const sb_host_api *h = awssm_host;
    char target[96];
    snprintf(target, sizeof target, "%s.%s", svc->target_prefix, op);
    *doc = NULL;
    /* No SB_HTTP_RETRY even for idempotent calls: AWS throttles with HTTP 400 +
     * ThrottlingException, which the host's retry does not recognise, so
     * throttling goes back to the job layer as SB_E_THROTTLED (with backoff). */
    (void)idempotent;
    for (int attempt = 0; attempt < 2; attempt++) {
        const awssm_creds *cr = NULL;
        sb_status st = awssm_creds_get(ai, call, &cr, res);
        if (st != SB_OK)
            return st;
        sb_http_response resp;
        st = sign_and_send(ai, call, cr, svc->endpoint, svc->signing_name,
                           "application/x-amz-json-1.1", target, body, body_secret, op, &resp,
                           res);
        if (st != SB_OK)
            return st;
        if (resp.status == 200) {
            size_t len = 0;
            const unsigned char *text = resp.body ? h->secure_data(resp.body, &len) : NULL;
            sb_result inner = SB_RESULT_INIT;
            st = text && len ? h->json_parse(text, len, doc, &inner) : SB_E_PROTOCOL;
            h->result_release(&inner);
            h->http_response_free(&resp);
            if (st != SB_OK || h->json_type(h->json_root(*doc)) != SB_JSON_OBJECT) {
                h->json_free(*doc);
                *doc = NULL;
                return h->fail(res, SB_E_PROTOCOL, 0,
                               "%s: AWS answered HTTP 200 with a body that is not a JSON object",
                               op);
            }
            return SB_OK;
        }
        char type[64] = "";
        sb_result scratch = SB_RESULT_INIT;
        awssm_fail_response(&resp, op, type, sizeof type, &scratch);
        h->result_release(&scratch);
        if (attempt == 0 && (strcmp(type, "ExpiredTokenException") == 0 ||
                             strcmp(type, "ExpiredToken") == 0 ||
                             strcmp(type, "RequestExpired") == 0)) {
            h->http_response_free(&resp);
            awssm_creds_forget(ai); /* resolve afresh and try once more */
            continue;
        }
        st = awssm_fail_response(&resp, op, NULL, 0, res);
        h->http_response_free(&resp);
        return st;
    }
    return h->fail(res, SB_E_AUTH_EXPIRED, 0,
                   "%s: the AWS credentials expired and fresh ones were refused too", op);
}

sb_secure_buf *awssm_secure_from(const awssm_str *s)
{
    if (s->failed)
        return NULL;
    sb_secure_buf *b = awssm_host->secure_new(s->len + 1);
    if (b && awssm_host->secure_append(b, s->p ? s->p : "", s->len) != 0) {
        awssm_host->secure_free(b);
        b = NULL;
    }
    return b;
}
