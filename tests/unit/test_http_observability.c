/* test_http_observability.c — /metrics over real HTTP (exposition syntax,
 * the request counter and latency histogram by route) and the access log
 * (route pattern, never the raw path, query string or headers). */
#include <criterion/criterion.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http/server.h"
#include "test_http_support.h"

TestSuite(http_observability, .fini = stop_server);

/* ---- metrics and the access log --------------------------------------- */

/* A line "<name>{labels} <number>" or "<name> <number>"; comments start with '#'. */
static int exposition_line_ok(const char *line, size_t len)
{
    if (len == 0 || line[0] == '#')
        return 1;
    size_t i = 0;
    while (i < len && line[i] != '{' && line[i] != ' ')
        i++;
    if (i == 0)
        return 0;
    if (i < len && line[i] == '{') {
        const char *close = memchr(line + i, '}', len - i);
        if (close == NULL)
            return 0;
        i = (size_t)(close - line) + 1;
    }
    if (i >= len || line[i] != ' ')
        return 0;
    char num[64];
    snprintf(num, sizeof num, "%.*s", (int)(len - i - 1), line + i + 1);
    char *end;
    strtod(num, &end);
    return *end == '\0' || strcmp(num, "+Inf") == 0 || strcmp(num, "NaN") == 0;
}

Test(http_observability, metrics_count_requests_by_route, .init = start_default)
{
    http_reply r;
    http_get(test_port, "/api/v1/requests/inbox", &r);
    http_reply_free(&r);
    const char *want = "sb_http_requests_total{route=\"/api/v1/requests/inbox\",method=\"GET\",status=\"200\"} 1\n";
    long long deadline = now_ms() + 2000;
    int found = 0;
    while (!found && now_ms() < deadline) {
        http_get(test_port, "/metrics", &r);
        cr_assert_eq(r.status, 200);
        found = strstr(r.body, want) != NULL;
        if (!found)
            http_reply_free(&r);
    }
    cr_assert(found, "no counted request in:\n%s", r.body);
    char ct[128];
    cr_assert_str_eq(http_reply_header(&r, "Content-Type", ct, sizeof ct),
                     "text/plain; version=0.0.4; charset=utf-8");
    cr_assert(strstr(r.body, "# TYPE sb_http_requests_total counter\n") != NULL);
    cr_assert(strstr(r.body, "# TYPE sb_server_request_duration_seconds histogram\n") != NULL);
    cr_assert(strstr(r.body, "sb_server_request_duration_seconds_bucket{route=\"/api/v1/requests/inbox\","
                             "method=\"GET\",le=\"+Inf\"} 1\n") != NULL, "%s", r.body);
    for (const char *line = r.body; *line;) {
        const char *nl = strchr(line, '\n');
        cr_assert_not_null(nl, "the exposition must end with a newline");
        cr_assert(exposition_line_ok(line, (size_t)(nl - line)), "bad line: %.*s", (int)(nl - line), line);
        line = nl + 1;
    }
    /* unmatched paths share one label value, whatever the path */
    http_reply_free(&r);
}

Test(http_observability, metrics_can_be_disabled, .init = start_no_metrics)
{
    http_reply r;
    http_get(test_port, "/metrics", &r);
    expect_error(&r, 404, "not_found");
    http_reply_free(&r);
}

Test(http_observability, access_log_names_the_route_not_the_path, .init = start_default)
{
    log_capture_start();
    const char *const hdrs[] = {"X-Request-Id: access-log-1", "Authorization: Bearer TOPSECRETHEADER", NULL};
    http_call call = {.headers = hdrs};
    http_reply r;
    http_request(test_port, "/api/v1/requests/r-99?token=QUERYSECRET123", &call, &r);
    cr_assert_eq(r.status, 200);
    http_reply_free(&r);
    char *log = log_capture_wait("\"request_id\":\"access-log-1\"", 2000);
    log_capture_stop();
    cr_assert_not_null(log, "no access log line");
    const char *line = strstr(log, "\"request_id\":\"access-log-1\"");
    while (line > log && line[-1] != '\n')
        line--;
    const char *end = strchr(line, '\n');
    char *one = strndup(line, (size_t)(end - line));
    cr_assert(strstr(one, "\"route\":\"/api/v1/requests/{id}\"") != NULL, "%s", one);
    cr_assert(strstr(one, "\"method\":\"GET\"") != NULL, "%s", one);
    cr_assert(strstr(one, "\"status\":\"200\"") != NULL, "%s", one);
    cr_assert(strstr(one, "\"duration_ms\":\"") != NULL, "%s", one);
    cr_assert(strstr(one, "\"bytes\":\"") != NULL, "%s", one);
    cr_assert(strstr(one, "\"remote_ip\":\"127.0.0.1\"") != NULL, "%s", one);
    cr_assert_null(strstr(log, "QUERYSECRET123"), "the query string reached the log");
    cr_assert_null(strstr(log, "TOPSECRETHEADER"), "a header reached the log");
    cr_assert_null(strstr(one, "r-99"), "the raw path reached the log");
    free(one);
    free(log);
}

