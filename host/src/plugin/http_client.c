/* plugin/http_client.c — see http_client.h. */
#include "plugin/http_client.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "crypto/secure_mem.h"
#include "plugin/host_api.h"
#include "plugin/http_transfer.h"
#include "util/redact.h"

#define DEFAULT_TIMEOUT_MS 30000u
#define DEFAULT_MAX_RESPONSE (32u * 1024 * 1024)
#define MAX_ATTEMPTS 3
#define MAX_HEADERS 64

typedef struct response_headers {
    char *names[MAX_HEADERS];
    char *values[MAX_HEADERS];
    size_t n;
} response_headers;

/* One attempt in flight: what libcurl's callbacks fill and what must live
 * until the transfer ends (header lists, the renamed URL). */
struct sb_http_transfer {
    CURL *curl;
    const sb_http_request *req;
    sb_secure_buf *body;
    size_t max;
    int too_large;
    uint32_t timeout_ms;
    response_headers *headers;
    struct curl_slist *request_headers, *connect_to;
    char *renamed_url;
};
typedef struct sb_http_transfer transfer;

static __thread CURL *thread_handle;
/* The handle is freed when its thread ends (the key's destructor), so
 * short-lived threads — an agent's lease renewers, its workers — leak none. */
static pthread_key_t handle_key;
static pthread_once_t handle_key_once = PTHREAD_ONCE_INIT;

static void handle_free(void *handle) { curl_easy_cleanup(handle); }
static void handle_key_create(void) { pthread_key_create(&handle_key, handle_free); }

static CURL *thread_curl(void)
{
    if (thread_handle == NULL && (thread_handle = curl_easy_init()) != NULL) {
        pthread_once(&handle_key_once, handle_key_create);
        pthread_setspecific(handle_key, thread_handle);
    }
    return thread_handle;
}

/* ---- response bodies -------------------------------------------------------
 * A body goes to secure memory unless the host knows it holds no value: a
 * LIST request made while the host runs a provider's list (the call is
 * marked; sb_call_lists_names_only). Both conditions are the host's own
 * knowledge or the request's method, never the plugin's label: a token
 * fetched (GET, POST) in the middle of a list still lands in secure memory.
 * Such a names-only body lives in ordinary heap memory, and each thread
 * keeps one released names-only buffer (up to SPARE_MAX bytes) for its next
 * one, so a recursive listing's thousands of requests reuse one buffer.
 * Secure bodies reuse regions through the secure pool (crypto/secure_mem.c). */
#define BODY_HINT 4096
#define SPARE_MAX (4u * 1024 * 1024)

static __thread sb_secure_buf *thread_spare;
static pthread_key_t spare_key;
static pthread_once_t spare_key_once = PTHREAD_ONCE_INIT;

static void spare_free(void *buf) { sb_secure_free(buf); }
static void spare_key_create(void) { pthread_key_create(&spare_key, spare_free); }

static int body_holds_no_value(const sb_call *call, const sb_http_request *req)
{
    return strcmp(req->method, "LIST") == 0 && sb_call_lists_names_only(call);
}

static sb_secure_buf *body_new(int names_only)
{
    if (!names_only)
        return sb_secure_new(BODY_HINT);
    sb_secure_buf *b = thread_spare;
    if (b == NULL)
        return sb_plain_new(BODY_HINT);
    thread_spare = NULL;
    pthread_setspecific(spare_key, NULL);
    b->len = 0;
    b->data[0] = '\0';
    return b;
}

static void body_release(sb_secure_buf *b)
{
    if (b != NULL && b->plain && thread_spare == NULL && b->cap <= SPARE_MAX) {
        pthread_once(&spare_key_once, spare_key_create);
        thread_spare = b;
        pthread_setspecific(spare_key, b);
        return;
    }
    sb_secure_free(b);
}

/* Aborts a transfer in progress once its call is cancelled (a draining
 * agent's parked long-poll, a plugin call the host gave up on). */
static int on_progress(void *user, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                       curl_off_t ulnow)
{
    (void)dltotal, (void)dlnow, (void)ultotal, (void)ulnow;
    return sb_call_was_cancelled(user) ? 1 : 0;
}

int sb_http_global_init(void) { return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : -1; }

static size_t on_body(char *data, size_t size, size_t n, void *user)
{
    transfer *t = user;
    size_t len = size * n;
    if (t->body->len + len > t->max) {
        t->too_large = 1;
        return 0; /* aborts the transfer */
    }
    return sb_secure_append(t->body, data, len) == 0 ? len : 0;
}

static size_t on_header(char *data, size_t size, size_t n, void *user)
{
    transfer *t = user;
    size_t len = size * n;
    const char *colon = memchr(data, ':', len);
    if (colon == NULL) {
        if (len >= 5 && strncmp(data, "HTTP/", 5) == 0) { /* a new response: drop earlier ones */
            for (size_t i = 0; i < t->headers->n; i++) {
                free(t->headers->names[i]);
                free(t->headers->values[i]);
            }
            t->headers->n = 0;
        }
        return len;
    }
    if (t->headers->n >= MAX_HEADERS)
        return len;
    const char *v = colon + 1, *end = data + len;
    while (v < end && (*v == ' ' || *v == '\t'))
        v++;
    while (end > v && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' '))
        end--;
    t->headers->names[t->headers->n] = strndup(data, (size_t)(colon - data));
    t->headers->values[t->headers->n] = strndup(v, (size_t)(end - v));
    t->headers->n++;
    return len;
}

/* 1 when host, as libcurl's URL parser gives it, names this machine:
 * 127.0.0.0/8, ::1 (any spelling) or exactly "localhost". A name that only
 * starts like one (127.example.invalid, localhost.example) is not. */
static int is_loopback_host(const char *host)
{
    if (strcasecmp(host, "localhost") == 0)
        return 1;
    struct in_addr v4;
    if (inet_pton(AF_INET, host, &v4) == 1)
        return (ntohl(v4.s_addr) >> 24) == 127;
    size_t n = strlen(host);
    char inner[INET6_ADDRSTRLEN + 1];
    struct in6_addr v6;
    if (n < 3 || host[0] != '[' || host[n - 1] != ']' || n - 2 >= sizeof inner)
        return 0;
    memcpy(inner, host + 1, n - 2);
    inner[n - 2] = '\0';
    return inet_pton(AF_INET6, inner, &v6) == 1 && IN6_IS_ADDR_LOOPBACK(&v6);
}

/* The URL policy, decided on libcurl's own parse of the URL (the parser the
 * transfer uses, so no string trick can make the two disagree): an absolute
 * http or https URL (any letter case), no user information (user@host hides
 * the real host from a prefix check, and credentials in a URL would end up
 * in error messages), plain http only to a loopback host unless the plugin
 * asked for SB_HTTP_ALLOW_HTTP. */
static sb_status check_url(const sb_http_request *req, sb_result *res)
{
    const sb_host_api *host = sb_host_api_table();
    CURLU *u = curl_url();
    if (u == NULL)
        return host->fail(res, SB_E_INTERNAL, 0, "http: out of memory");
    char *scheme = NULL, *name = NULL, *part = NULL;
    sb_status st = SB_OK;
    CURLUcode rc = curl_url_set(u, CURLUPART_URL, req->url, 0);
    if (rc != CURLUE_OK) {
        st = host->fail(res, SB_E_INVALID, 0, "http: not an absolute http(s) URL: %s", curl_url_strerror(rc));
        goto done;
    }
    if (curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
        (strcmp(scheme, "https") != 0 && strcmp(scheme, "http") != 0)) {
        st = host->fail(res, SB_E_INVALID, 0, "http: only http and https URLs are allowed");
        goto done;
    }
    static const CURLUPart userinfo[] = {CURLUPART_USER, CURLUPART_PASSWORD, CURLUPART_OPTIONS};
    for (size_t i = 0; i < sizeof userinfo / sizeof userinfo[0]; i++) {
        if (curl_url_get(u, userinfo[i], &part, 0) == CURLUE_OK) {
            st = host->fail(res, SB_E_INVALID, 0,
                            "http: URLs with user information (user@host) are refused; send "
                            "credentials in a header");
            goto done;
        }
    }
    if (curl_url_get(u, CURLUPART_HOST, &name, 0) != CURLUE_OK) {
        st = host->fail(res, SB_E_INVALID, 0, "http: the URL has no host");
        goto done;
    }
    if (strcmp(scheme, "http") == 0 && !(req->flags & SB_HTTP_ALLOW_HTTP) && !is_loopback_host(name))
        st = host->fail(res, SB_E_CONFIG, 0,
                        "http: plain http to %s refused; use https (or allow it explicitly in the "
                        "plugin's config for a trusted network)",
                        req->url);
done:
    curl_free(scheme);
    curl_free(name);
    curl_free(part);
    curl_url_cleanup(u);
    return st;
}

static uint32_t parse_retry_after(const char *v)
{
    if (v == NULL || *v == '\0')
        return 0;
    char *end;
    long secs = strtol(v, &end, 10);
    if (*end == '\0' && secs >= 0)
        return secs > 3600 ? 3600000u : (uint32_t)secs * 1000u;
    time_t when = curl_getdate(v, NULL);
    time_t now = time(NULL);
    if (when > now)
        return when - now > 3600 ? 3600000u : (uint32_t)(when - now) * 1000u;
    return 0;
}

const char *sb_http_response_header(const sb_http_response *resp, const char *name)
{
    const response_headers *h = resp ? resp->host_private : NULL;
    for (size_t i = 0; h && name && i < h->n; i++)
        if (strcasecmp(h->names[i], name) == 0)
            return h->values[i];
    return NULL;
}

static void headers_free(response_headers *h)
{
    for (size_t i = 0; h && i < h->n; i++) {
        free(h->names[i]);
        free(h->values[i]);
    }
    free(h);
}

void sb_http_response_release(sb_http_response *resp)
{
    if (resp == NULL)
        return;
    body_release(resp->body);
    headers_free(resp->host_private);
    resp->body = NULL;
    resp->host_private = NULL;
}

static int valid_host_name(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 253)
        return 0;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') || *s == '-' ||
              *s == '.'))
            return 0;
    return 1;
}

/* url "scheme://host[:port]/rest" -> "scheme://name[:port]/rest" plus the
 * CONNECT_TO entry "name:port:host:port". IPv6 literals are supported. */
static int rename_host(const char *url, const char *name, char **out_url, struct curl_slist **connect_to)
{
    const char *hs = strstr(url, "://");
    if (hs == NULL || !valid_host_name(name))
        return -1;
    hs += 3;
    const char *he = hs;
    if (*hs == '[') {
        he = strchr(hs, ']');
        if (he == NULL)
            return -1;
        he++;
    } else {
        he += strcspn(hs, ":/?#");
    }
    const char *port = "443";
    char port_buf[8];
    const char *rest = he;
    if (*he == ':') {
        size_t pl = strspn(he + 1, "0123456789");
        if (pl == 0 || pl >= sizeof port_buf)
            return -1;
        memcpy(port_buf, he + 1, pl);
        port_buf[pl] = '\0';
        port = port_buf;
    } else if (strncasecmp(url, "http://", 7) == 0) {
        port = "80";
    }
    size_t scheme_len = (size_t)(hs - url);
    size_t cap = strlen(url) + strlen(name) + 1;
    *out_url = malloc(cap);
    if (*out_url == NULL)
        return -1;
    snprintf(*out_url, cap, "%.*s%s%s", (int)scheme_len, url, name, rest);
    char entry[600];
    snprintf(entry, sizeof entry, "%s:%s:%.*s:%s", name, port, (int)(he - hs), hs, port);
    *connect_to = curl_slist_append(NULL, entry);
    return *connect_to ? 0 : -1;
}

static int retryable_status(long s) { return s == 429 || s == 502 || s == 503 || s == 504; }

static void transfer_free(transfer *t)
{
    body_release(t->body);
    headers_free(t->headers);
    curl_slist_free_all(t->request_headers);
    curl_slist_free_all(t->connect_to);
    free(t->renamed_url);
    free(t);
}

sb_status sb_http_transfer_start(CURL *c, const sb_call *call, const sb_http_request *req, transfer **out,
                                 sb_result *res)
{
    const sb_host_api *host = sb_host_api_table();
    *out = NULL;
    if (c == NULL)
        return host->fail(res, SB_E_INTERNAL, 0, "cannot create an HTTP client");
    curl_easy_reset(c);

    if (sb_call_was_cancelled(call))
        return host->fail(res, SB_E_CANCELLED, 0, "call cancelled before %s %s", req->method, req->url);
    int64_t remaining = host->call_remaining_ms(call);
    if (remaining <= 0)
        return host->fail(res, SB_E_TIMEOUT, 0, "deadline passed before %s %s", req->method, req->url);
    uint32_t timeout = req->timeout_ms ? req->timeout_ms : DEFAULT_TIMEOUT_MS;
    if ((int64_t)timeout > remaining)
        timeout = (uint32_t)remaining;

    transfer *t = calloc(1, sizeof *t);
    if (t == NULL)
        return host->fail(res, SB_E_INTERNAL, 0, "out of memory");
    t->curl = c;
    t->req = req;
    t->timeout_ms = timeout;
    t->max = req->max_response_bytes ? req->max_response_bytes : DEFAULT_MAX_RESPONSE;
    t->headers = calloc(1, sizeof *t->headers);
    t->body = body_new(body_holds_no_value(call, req));
    if (t->body == NULL || t->headers == NULL) {
        transfer_free(t);
        return host->fail(res, SB_E_INTERNAL, 0, "out of memory");
    }
    for (size_t i = 0; i < req->n_headers; i++) {
        if (req->headers[i].key == NULL || req->headers[i].value == NULL)
            continue;
        size_t l = strlen(req->headers[i].key) + strlen(req->headers[i].value) + 3;
        char *line = sb_secure_alloc(l); /* may hold a token */
        snprintf(line, l, "%s: %s", req->headers[i].key, req->headers[i].value);
        t->request_headers = curl_slist_append(t->request_headers, line);
        sb_secure_release(line);
    }
    t->request_headers = curl_slist_append(t->request_headers, "Expect:");

    /* tls_server_name: ask for that name (URL, SNI, certificate check, Host)
     * while connecting to the URL's real host and port. */
    const char *server_name = SB_HAS_FIELD(req, sb_http_request, tls_server_name) ? req->tls_server_name : NULL;
    if (server_name && server_name[0]) {
        if (rename_host(req->url, server_name, &t->renamed_url, &t->connect_to) != 0) {
            transfer_free(t);
            return host->fail(res, SB_E_INVALID, 0, "http: cannot use tls_server_name '%s' with %s", server_name,
                              req->url);
        }
        curl_easy_setopt(c, CURLOPT_CONNECT_TO, t->connect_to);
    }
    curl_easy_setopt(c, CURLOPT_URL, t->renamed_url ? t->renamed_url : req->url);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_DISALLOW_USERNAME_IN_URL, 1L); /* check_url refused them already */
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
    if (req->ca_file)
        curl_easy_setopt(c, CURLOPT_CAINFO, req->ca_file);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)timeout);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, (long)(timeout < 10000 ? timeout : 10000));
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, t->request_headers);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, t);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, t);
    curl_easy_setopt(c, CURLOPT_USERAGENT, "sbridge/" SB_VERSION_STRING);
    curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
    curl_easy_setopt(c, CURLOPT_XFERINFODATA, (void *)call);
    if (strcmp(req->method, "GET") == 0) {
        curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
    } else if (strcmp(req->method, "HEAD") == 0) {
        curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
    } else {
        curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, req->method);
        if (req->body || strcmp(req->method, "POST") == 0 || strcmp(req->method, "PUT") == 0 ||
            strcmp(req->method, "PATCH") == 0) {
            curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body_len);
            curl_easy_setopt(c, CURLOPT_POSTFIELDS, req->body ? (const char *)req->body : "");
        }
    }
    *out = t;
    return SB_OK;
}

sb_status sb_http_transfer_finish(transfer *t, CURLcode rc, sb_http_response *resp, sb_result *res)
{
    const sb_host_api *host = sb_host_api_table();
    const sb_http_request *req = t->req;
    curl_easy_setopt(t->curl, CURLOPT_HTTPHEADER, NULL);
    curl_easy_setopt(t->curl, CURLOPT_CONNECT_TO, NULL);
    sb_status st = SB_OK;
    if (rc != CURLE_OK) {
        if (t->too_large)
            st = host->fail(res, SB_E_TOO_LARGE, 0, "%s %s: response larger than %zu bytes", req->method,
                            req->url, t->max);
        else if (rc == CURLE_ABORTED_BY_CALLBACK)
            st = host->fail(res, SB_E_CANCELLED, 0, "%s %s: cancelled", req->method, req->url);
        else if (rc == CURLE_OPERATION_TIMEDOUT)
            st = host->fail(res, SB_E_TIMEOUT, 0, "%s %s: timed out after %u ms", req->method, req->url,
                            t->timeout_ms);
        else if (rc == CURLE_PEER_FAILED_VERIFICATION || rc == CURLE_SSL_CACERT_BADFILE ||
                 rc == CURLE_SSL_CERTPROBLEM)
            st = host->fail(res, SB_E_CONFIG, 0, "%s %s: TLS verification failed: %s", req->method,
                            req->url, curl_easy_strerror(rc));
        else if (rc == CURLE_URL_MALFORMAT || rc == CURLE_UNSUPPORTED_PROTOCOL)
            st = host->fail(res, SB_E_INVALID, 0, "%s: %s", req->url, curl_easy_strerror(rc));
        else
            st = host->fail(res, SB_E_UNAVAILABLE, 0, "%s %s: %s", req->method, req->url,
                            curl_easy_strerror(rc));
        transfer_free(t);
        return st;
    }
    long code = 0;
    curl_easy_getinfo(t->curl, CURLINFO_RESPONSE_CODE, &code);
    resp->status = code;
    resp->body = t->body;
    resp->host_private = t->headers;
    resp->retry_after_ms = parse_retry_after(sb_http_response_header(resp, "Retry-After"));
    t->body = NULL;
    t->headers = NULL;
    transfer_free(t);
    return SB_OK;
}

/* One attempt on this thread's handle. */
static sb_status attempt(const sb_call *call, const sb_http_request *req, sb_http_response *resp,
                         sb_result *res)
{
    CURL *c = thread_curl();
    transfer *t = NULL;
    sb_status st = sb_http_transfer_start(c, call, req, &t, res);
    if (st != SB_OK)
        return st;
    return sb_http_transfer_finish(t, curl_easy_perform(c), resp, res);
}

sb_status sb_http_check_request(const sb_call *call, const sb_http_request *req, sb_http_response *resp,
                                sb_result *res)
{
    const sb_host_api *host = sb_host_api_table();
    if (req == NULL || resp == NULL || call == NULL)
        return host->fail(res, SB_E_INVALID, 0, "http: call, request and response are required");
    if (req->struct_size < offsetof(sb_http_request, metric_op) + sizeof(void *) ||
        resp->struct_size < offsetof(sb_http_response, host_private) + sizeof(void *))
        return host->fail(res, SB_E_INVALID, 0, "http: request/response struct_size too small");
    if (req->method == NULL || req->url == NULL || req->method[0] == '\0')
        return host->fail(res, SB_E_INVALID, 0, "http: method and url are required");
    sb_status url_ok = check_url(req, res);
    if (url_ok != SB_OK)
        return url_ok;
    resp->body = NULL;
    resp->host_private = NULL;
    resp->status = 0;
    resp->retry_after_ms = 0;
    resp->attempts = 0;
    return SB_OK;
}

int64_t sb_http_retry_delay_ms(const sb_call *call, const sb_http_request *req, uint32_t attempts, sb_status st,
                               const sb_http_response *resp)
{
    int again = (req->flags & SB_HTTP_RETRY) && attempts < MAX_ATTEMPTS &&
                ((st == SB_OK && retryable_status(resp->status)) || st == SB_E_UNAVAILABLE);
    if (!again)
        return -1;
    uint32_t base = 100u << (attempts - 1);
    uint32_t wait = base / 2 + (uint32_t)randombytes_uniform(base);
    if (st == SB_OK && resp->retry_after_ms > wait)
        wait = resp->retry_after_ms;
    if ((int64_t)wait >= sb_host_api_table()->call_remaining_ms(call))
        return -1; /* no time left to wait: give the caller what we have */
    return wait;
}

sb_status sb_http_perform(const sb_call *call, const sb_http_request *req, sb_http_response *resp,
                          sb_result *res)
{
    const sb_host_api *host = sb_host_api_table();
    sb_status st = sb_http_check_request(call, req, resp, res);
    if (st != SB_OK)
        return st;
    uint32_t attempts = 0;
    for (;;) {
        attempts++;
        st = sb_call_pace(call, res); /* the instance's rate limit or pause */
        if (st != SB_OK)
            return st;
        st = attempt(call, req, resp, res);
        resp->attempts = attempts;
        int64_t wait = sb_http_retry_delay_ms(call, req, attempts, st, resp);
        if (wait < 0)
            return st;
        sb_http_response_release(resp);
        struct timespec ts = {wait / 1000, (long)(wait % 1000) * 1000000L};
        nanosleep(&ts, NULL);
        if (host->call_expired(call))
            return host->fail(res, SB_E_CANCELLED, 0, "http: call cancelled while retrying");
    }
}
