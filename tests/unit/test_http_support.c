/* test_http_support.c — see test_http_support.h. */
#include "test_http_support.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "util/log.h"

long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void http_global_init(void) { curl_global_init(CURL_GLOBAL_DEFAULT); }

typedef struct grow {
    char *data;
    size_t len;
} grow;

static size_t on_data(char *p, size_t size, size_t n, void *ud)
{
    grow *g = ud;
    char *next = realloc(g->data, g->len + size * n + 1);
    if (next == NULL)
        return 0;
    memcpy(next + g->len, p, size * n);
    g->len += size * n;
    next[g->len] = '\0';
    g->data = next;
    return size * n;
}

void *http_handle_new(void) { return curl_easy_init(); }
void http_handle_free(void *handle) { curl_easy_cleanup(handle); }

void http_request(unsigned port, const char *path, const http_call *call, http_reply *out)
{
    static const http_call plain = {0};
    call = call ? call : &plain;
    memset(out, 0, sizeof *out);
    CURL *c = call->handle ? call->handle : curl_easy_init();
    curl_easy_reset(c);
    char url[4096];
    snprintf(url, sizeof url, "%s://127.0.0.1:%u%s", call->tls ? "https" : "http", port, path);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_PATH_AS_IS, 1L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, call->timeout_ms ? call->timeout_ms : 10000L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    if (getenv("SB_HTTP_TEST_VERBOSE") != NULL)
        curl_easy_setopt(c, CURLOPT_VERBOSE, 1L);
    const char *method = call->method ? call->method : "GET";
    if (strcmp(method, "HEAD") == 0)
        curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
    else if (strcmp(method, "GET") != 0)
        curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    struct curl_slist *hdrs = curl_slist_append(NULL, "Expect:");
    for (size_t i = 0; call->headers && call->headers[i]; i++)
        hdrs = curl_slist_append(hdrs, call->headers[i]);
    if (call->chunked)
        hdrs = curl_slist_append(hdrs, "Transfer-Encoding: chunked");
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
    if (call->body != NULL) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, call->body);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)call->body_len);
        if (strcmp(method, "GET") == 0)
            curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, "POST");
    }
    if (call->tls) {
        curl_easy_setopt(c, CURLOPT_CAINFO, call->ca_file);
        curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
    }
    grow body = {0}, head = {0};
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &body);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_data);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, &head);
    out->curl_code = (int)curl_easy_perform(c);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &out->status);
    out->body = body.data ? body.data : strdup("");
    out->body_len = body.len;
    out->headers = head.data ? head.data : strdup("");
    curl_slist_free_all(hdrs);
    if (call->handle == NULL)
        curl_easy_cleanup(c);
}

void http_get(unsigned port, const char *path, http_reply *out) { http_request(port, path, NULL, out); }

void http_reply_free(http_reply *r)
{
    free(r->body);
    free(r->headers);
    memset(r, 0, sizeof *r);
}

const char *http_reply_header(const http_reply *r, const char *name, char *buf, size_t cap)
{
    size_t n = strlen(name);
    for (const char *line = r->headers; line && *line;) {
        const char *end = strstr(line, "\r\n");
        size_t len = end ? (size_t)(end - line) : strlen(line);
        if (len > n && line[n] == ':' && strncasecmp(line, name, n) == 0) {
            const char *v = line + n + 1;
            while (*v == ' ')
                v++;
            snprintf(buf, cap, "%.*s", (int)(len - (size_t)(v - line)), v);
            return buf;
        }
        line = end ? end + 2 : NULL;
    }
    return NULL;
}

/* ---- log capture ----------------------------------------------------- */

static FILE *captured;

void log_capture_start(void)
{
    captured = tmpfile();
    sb_log_set_stream(captured);
}

static char *read_all(FILE *f)
{
    fflush(f);
    long end = ftell(f);
    char *text = malloc((size_t)end + 1);
    if (text == NULL)
        return NULL;
    size_t n = (size_t)pread(fileno(f), text, (size_t)end, 0);
    text[n] = '\0';
    return text;
}

char *log_capture_wait(const char *needle, long timeout_ms)
{
    long long deadline = now_ms() + timeout_ms;
    for (;;) {
        flockfile(captured);
        char *text = read_all(captured);
        funlockfile(captured);
        if (text != NULL && strstr(text, needle) != NULL)
            return text;
        free(text);
        if (now_ms() > deadline)
            return NULL;
        usleep(5000);
    }
}

void log_capture_stop(void)
{
    sb_log_set_stream(NULL);
    if (captured != NULL)
        fclose(captured);
    captured = NULL;
}
