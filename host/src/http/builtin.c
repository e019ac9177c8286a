/* http/builtin.c — the endpoints every server answers by itself:
 * /healthz (alive), /readyz (readiness checks; not ready once stopping) and
 * /metrics (the Prometheus registry, when enabled). All PUBLIC, GET/HEAD. */
#include "http/internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/redact.h"
#include "util/utf8.h"

static int serve_healthz(sb_server_request *req, void *ctx)
{
    (void)ctx;
    return sb_http_respond_json(req, 200, json_pack("{s:s}", "status", "ok"));
}

/* A check's reason, scrubbed and made valid UTF-8 for JSON. */
static json_t *reason(const char *why)
{
    char clean[256];
    sb_redact_format(clean, sizeof clean, "%s", why[0] ? why : "not ready");
    size_t n = strlen(clean);
    for (size_t i = 0; i < n;) {
        size_t len = sb_utf8_sequence_length((const unsigned char *)clean + i, n - i);
        if (len == 0)
            clean[i++] = '?';
        else
            i += len;
    }
    return json_string(clean);
}

static int serve_readyz(sb_server_request *req, void *ctx)
{
    sb_http_server *server = ctx;
    json_t *failures = json_object();
    if (atomic_load(&server->stopping)) {
        json_object_set_new(failures, "shutdown", json_string("the server is shutting down"));
    } else {
        sb_http_readiness checks[SB_HTTP_MAX_READINESS];
        pthread_mutex_lock(&server->mu);
        size_t n = server->n_readiness;
        memcpy(checks, server->readiness, n * sizeof checks[0]);
        pthread_mutex_unlock(&server->mu);
        /* checks may be slow (a database round trip): run them unlocked */
        for (size_t i = 0; i < n; i++) {
            char why[256] = "";
            if (checks[i].check(checks[i].ctx, why, sizeof why) == 0)
                continue;
            why[sizeof why - 1] = '\0';
            json_object_set_new(failures, checks[i].name, reason(why));
        }
    }
    if (json_object_size(failures) == 0) {
        json_decref(failures);
        return sb_http_respond_json(req, 200, json_pack("{s:s}", "status", "ready"));
    }
    return sb_http_respond_json(req, 503,
                                json_pack("{s:s,s:o}", "status", "not_ready", "failures", failures));
}

static int serve_metrics(sb_server_request *req, void *ctx)
{
    (void)ctx;
    size_t len = 0;
    char *text = sb_metrics_render(&len);
    if (text == NULL)
        return sb_http_respond_error(req, 500, "internal_error", "cannot render the metrics");
    int rc = sb_http_respond_raw(req, 200, SB_METRICS_CONTENT_TYPE, text, len);
    free(text);
    return rc;
}

static const sb_route builtins[] = {
    {"GET", "/healthz", SB_AUTH_PUBLIC, NULL, serve_healthz, NULL, "getHealthz",
     "Liveness: the process serves HTTP"},
    {"GET", "/readyz", SB_AUTH_PUBLIC, NULL, serve_readyz, NULL, "getReadyz",
     "Readiness: every readiness check passes and the server is not stopping"},
    {"GET", "/metrics", SB_AUTH_PUBLIC, NULL, serve_metrics, NULL, "getMetrics",
     "Prometheus metrics in text exposition format 0.0.4"},
};
#define N_BUILTINS (sizeof builtins / sizeof builtins[0])
#define METRICS_INDEX 2

const sb_route *sb_http_builtin_routes(size_t *n)
{
    *n = N_BUILTINS;
    return builtins;
}

int sb_http_builtin_serve(sb_http_server *server, sb_server_request *req, const char *path)
{
    for (size_t i = 0; i < N_BUILTINS; i++) {
        if (strcmp(path, builtins[i].pattern) != 0)
            continue;
        if (i == METRICS_INDEX && !server->cfg.enable_metrics)
            return 0;
        req->route_label = builtins[i].pattern;
        req->builtin = (int)i + 1;
        if (strcmp(req->method, "GET") != 0 && strcmp(req->method, "HEAD") != 0) {
            sb_http_set_header(req, "Allow", "GET, HEAD");
            sb_http_respond_error(req, 405, "method_not_allowed",
                                  "this resource does not support %s (allowed: GET, HEAD)",
                                  req->method);
            return 1;
        }
        builtins[i].handler(req, server);
        return 1;
    }
    return 0;
}
