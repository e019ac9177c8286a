/* http/server.c — starting and stopping the server (see server.h): the
 * listening socket, TLS material, libmicrohttpd options, readiness checks
 * and the graceful stop. The per-request work is in pipeline.c. */
#include "http/internal.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "crypto/secure_mem.h"
#include "util/log.h"

#define DEFAULT_THREADS 2
#define DEFAULT_CONNECTION_LIMIT 1024
#define DEFAULT_PER_IP_CONNECTION_LIMIT 128
#define DEFAULT_HEADER_TIMEOUT_MS 10000
#define DEFAULT_MAX_HEADER_BYTES 8192
#define CONNECTION_MEMORY_HEADROOM 4096
#define DEFAULT_CONNECTION_TIMEOUT_S 60
#define DEFAULT_REQUEST_TIMEOUT_MS 30000
#define DEFAULT_BODY_LIMIT (1024 * 1024)
#define TLS_FILE_MAX (1024 * 1024)
#define FORCED_DRAIN_MS 1000

__attribute__((format(printf, 2, 0))) static void mhd_log(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    char msg[512];
    vsnprintf(msg, sizeof msg, fmt, ap);
    size_t n = strlen(msg);
    while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
        msg[--n] = '\0';
    sb_log(SB_LEVEL_WARN, SB_HTTP_COMPONENT, NULL, "libmicrohttpd: %s", msg);
}

/* ---- listening socket ------------------------------------------------ */

/* Splits "host:port", "[v6]:port" or ":port". */
static int split_listen(const char *listen_addr, char *host, size_t host_cap, char *port,
                        size_t port_cap)
{
    const char *colon;
    if (listen_addr[0] == '[') {
        const char *close = strchr(listen_addr, ']');
        if (close == NULL || close[1] != ':')
            return -1;
        snprintf(host, host_cap, "%.*s", (int)(close - listen_addr - 1), listen_addr + 1);
        colon = close + 1;
    } else {
        colon = strrchr(listen_addr, ':');
        if (colon == NULL)
            return -1;
        snprintf(host, host_cap, "%.*s", (int)(colon - listen_addr), listen_addr);
    }
    const char *p = colon + 1;
    if (*p == '\0' || strlen(p) >= port_cap || strspn(p, "0123456789") != strlen(p) ||
        strtoul(p, NULL, 10) > 65535)
        return -1;
    snprintf(port, port_cap, "%s", p);
    return 0;
}

static int open_listener(const char *listen_addr, int *family, unsigned *bound_port,
                         sb_error *err)
{
    char host[256], port[8];
    if (listen_addr == NULL ||
        split_listen(listen_addr, host, sizeof host, port, sizeof port) != 0)
        return sb_error_set(err, 1, "listen address '%s' is not host:port, [ipv6]:port or :port "
                                    "with a port from 0 to 65535",
                            listen_addr ? listen_addr : "(none)");
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_PASSIVE | AI_NUMERICSERV};
    struct addrinfo *res = NULL;
    int gai = getaddrinfo(host[0] ? host : NULL, port, &hints, &res);
    if (gai != 0)
        return sb_error_set(err, 1, "cannot resolve listen address '%s': %s", listen_addr,
                            gai_strerror(gai));
    int fd = -1, saved = 0;
    for (struct addrinfo *ai = res; ai != NULL && fd < 0; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
        if (fd < 0) {
            saved = errno;
            continue;
        }
        int one = 1;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 || listen(fd, 1024) != 0) {
            saved = errno;
            close(fd);
            fd = -1;
            continue;
        }
        *family = ai->ai_family;
    }
    freeaddrinfo(res);
    if (fd < 0)
        return sb_error_set(err, 1, "cannot listen on %s: %s", listen_addr, strerror(saved));
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    getsockname(fd, (struct sockaddr *)&ss, &len);
    *bound_port = ss.ss_family == AF_INET6 ? ntohs(((struct sockaddr_in6 *)&ss)->sin6_port)
                                           : ntohs(((struct sockaddr_in *)&ss)->sin_port);
    return fd;
}

/* ---- TLS material ---------------------------------------------------- */

static char *read_pem(const char *path, int secure, sb_error *err)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        sb_error_set(err, 1, "cannot read TLS file %s: %s", path, strerror(errno));
        return NULL;
    }
    char *buf = secure ? sb_secure_alloc(TLS_FILE_MAX + 1) : calloc(1, TLS_FILE_MAX + 1);
    size_t n = buf ? fread(buf, 1, TLS_FILE_MAX + 1, f) : 0;
    fclose(f);
    if (buf == NULL || n == 0 || n > TLS_FILE_MAX) {
        if (secure)
            sb_secure_release(buf);
        else
            free(buf);
        sb_error_set(err, 1, "TLS file %s is empty, unreadable or larger than 1 MiB", path);
        return NULL;
    }
    buf[n] = '\0';
    return buf;
}

static int load_tls(sb_http_server *s, sb_error *err)
{
    const sb_http_config *c = &s->cfg;
    if (c->tls_cert_path == NULL && c->tls_key_path == NULL)
        return 0;
    if (c->tls_cert_path == NULL || c->tls_key_path == NULL)
        return sb_error_set(err, 1, "TLS needs both a certificate and a key file (got only the %s)",
                            c->tls_cert_path ? "certificate" : "key");
    if (MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES)
        return sb_error_set(err, 1, "this libmicrohttpd was built without TLS; terminate TLS in "
                                    "front of the server or install a TLS-enabled build");
    s->tls_cert = read_pem(c->tls_cert_path, 0, err);
    if (s->tls_cert == NULL)
        return -1;
    s->tls_key = read_pem(c->tls_key_path, 1, err);
    return s->tls_key ? 0 : -1;
}

/* ---- start ------------------------------------------------------------ */

static void free_server(sb_http_server *s)
{
    free(s->trusted);
    free(s->tls_cert);
    sb_secure_release(s->tls_key);
    for (size_t i = 0; i < s->n_readiness; i++)
        free(s->readiness_names[i]);
    pthread_cond_destroy(&s->idle);
    pthread_mutex_destroy(&s->mu);
    free(s);
}

static int builtin_conflict(const sb_router *router, sb_error *err)
{
    size_t n_routes, n_builtins;
    const sb_route *routes = sb_router_routes(router, &n_routes);
    const sb_route *builtins = sb_http_builtin_routes(&n_builtins);
    for (size_t i = 0; i < n_routes; i++)
        for (size_t j = 0; j < n_builtins; j++)
            if (strcmp(routes[i].pattern, builtins[j].pattern) == 0)
                return sb_error_set(err, 1, "route %s %s collides with the server's built-in %s",
                                    routes[i].method, routes[i].pattern, builtins[j].pattern);
    return 0;
}

static int add_readiness_locked(sb_http_server *s, const sb_http_readiness *check, sb_error *err)
{
    if (check == NULL || check->name == NULL || check->name[0] == '\0' || check->check == NULL)
        return sb_error_set(err, 1, "a readiness check needs a name and a function");
    if (s->n_readiness == SB_HTTP_MAX_READINESS)
        return sb_error_set(err, 1, "at most %d readiness checks", SB_HTTP_MAX_READINESS);
    for (size_t i = 0; i < s->n_readiness; i++)
        if (strcmp(s->readiness[i].name, check->name) == 0)
            return sb_error_set(err, 1, "readiness check '%s' is already registered", check->name);
    char *name = strdup(check->name);
    if (name == NULL)
        return sb_error_set(err, 1, "out of memory");
    s->readiness_names[s->n_readiness] = name;
    s->readiness[s->n_readiness] = *check;
    s->readiness[s->n_readiness++].name = name;
    return 0;
}

static sb_http_server *new_server(const sb_http_config *cfg, const sb_router *router)
{
    sb_http_server *s = calloc(1, sizeof *s);
    if (s == NULL)
        return NULL;
    s->cfg = *cfg;
    s->cfg.readiness = NULL;
    s->cfg.n_readiness = 0;
    s->cfg.threads = cfg->threads ? cfg->threads : DEFAULT_THREADS;
    s->cfg.connection_limit = cfg->connection_limit ? cfg->connection_limit
                                                    : DEFAULT_CONNECTION_LIMIT;
    s->cfg.connection_timeout_s = cfg->connection_timeout_s ? cfg->connection_timeout_s
                                                            : DEFAULT_CONNECTION_TIMEOUT_S;
    s->cfg.request_timeout_ms = cfg->request_timeout_ms ? cfg->request_timeout_ms
                                                        : DEFAULT_REQUEST_TIMEOUT_MS;
    s->cfg.body_limit = cfg->body_limit ? cfg->body_limit : DEFAULT_BODY_LIMIT;
    s->cfg.header_timeout_ms = cfg->header_timeout_ms ? cfg->header_timeout_ms
                                                      : DEFAULT_HEADER_TIMEOUT_MS;
    s->cfg.max_header_bytes = cfg->max_header_bytes ? cfg->max_header_bytes
                                                    : DEFAULT_MAX_HEADER_BYTES;
    if (cfg->per_ip_connection_limit)
        s->cfg.per_ip_connection_limit = cfg->per_ip_connection_limit;
    else /* behind a proxy every client shares its address: no per-address limit */
        s->cfg.per_ip_connection_limit = cfg->n_trusted_proxies ? 0 : DEFAULT_PER_IP_CONNECTION_LIMIT;
    s->router = router;
    s->listen_fd = -1;
    pthread_mutex_init(&s->mu, NULL);
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&s->idle, &attr);
    pthread_condattr_destroy(&attr);
    return s;
}

int sb_http_server_start(const sb_http_config *cfg, const sb_router *router,
                         sb_http_server **out, sb_error *err)
{
    *out = NULL;
    if (cfg == NULL || router == NULL)
        return sb_error_set(err, 1, "the HTTP server needs a configuration and a router");
    if (sb_crypto_init() != 0)
        return sb_error_set(err, 1, "libsodium failed to initialise");
    if (builtin_conflict(router, err) != 0)
        return -1;
    sb_http_pipeline_init_metrics();
    sb_http_server *s = new_server(cfg, router);
    if (s == NULL)
        return sb_error_set(err, 1, "out of memory");
    s->cfg.trusted_proxies = NULL;
    s->cfg.n_trusted_proxies = 0;
    if (cfg->n_trusted_proxies &&
        (s->trusted = calloc(cfg->n_trusted_proxies, sizeof *s->trusted)) == NULL) {
        free_server(s);
        return sb_error_set(err, 1, "out of memory");
    }
    for (size_t i = 0; i < cfg->n_trusted_proxies; i++) {
        const char *why = NULL;
        if (sb_cidr_parse(cfg->trusted_proxies[i], &s->trusted[i], &why) != 0) {
            sb_error_set(err, 1, "http.trusted_proxies[%zu]: '%s': %s", i,
                         cfg->trusted_proxies[i], why);
            free_server(s);
            return -1;
        }
        s->n_trusted++;
    }
    for (size_t i = 0; i < cfg->n_readiness; i++)
        if (add_readiness_locked(s, &cfg->readiness[i], err) != 0) {
            free_server(s);
            return -1;
        }
    if (sb_http_watchdog_start(&s->watchdog, s->cfg.header_timeout_ms,
                               s->cfg.connection_timeout_s) != 0) {
        sb_http_watchdog_stop(&s->watchdog);
        free_server(s);
        return sb_error_set(err, 1, "cannot start the header-deadline thread");
    }
    int family = AF_INET;
    if (load_tls(s, err) != 0 ||
        (s->listen_fd = open_listener(cfg->listen, &family, &s->port, err)) < 0) {
        sb_http_watchdog_stop(&s->watchdog);
        free_server(s);
        return -1;
    }
    unsigned flags = MHD_USE_EPOLL_INTERNAL_THREAD | MHD_USE_SUSPEND_RESUME | MHD_USE_ERROR_LOG;
    if (s->tls_cert != NULL)
        flags |= MHD_USE_TLS;
    if (family == AF_INET6)
        flags |= MHD_USE_IPv6;
    struct MHD_OptionItem opts[20];
    size_t n = 0;
    /* the logger first, so every message of the start-up goes through it */
    opts[n++] = (struct MHD_OptionItem){MHD_OPTION_EXTERNAL_LOGGER, (intptr_t)mhd_log, NULL};
    opts[n++] = (struct MHD_OptionItem){MHD_OPTION_LISTEN_SOCKET, s->listen_fd, NULL};
    if (s->cfg.threads > 1)
        opts[n++] = (struct MHD_OptionItem){MHD_OPTION_THREAD_POOL_SIZE, s->cfg.threads, NULL};
    opts[n++] = (struct MHD_OptionItem){MHD_OPTION_CONNECTION_LIMIT, s->cfg.connection_limit, NULL};
    if (s->cfg.per_ip_connection_limit)
        opts[n++] = (struct MHD_OptionItem){MHD_OPTION_PER_IP_CONNECTION_LIMIT,
                                            s->cfg.per_ip_connection_limit, NULL};
    opts[n++] = (struct MHD_OptionItem){MHD_OPTION_CONNECTION_MEMORY_LIMIT,
                                        (intptr_t)(2 * s->cfg.max_header_bytes +
                                                   CONNECTION_MEMORY_HEADROOM),
                                        NULL};
    opts[n++] = (struct MHD_OptionItem){MHD_OPTION_CONNECTION_TIMEOUT,
                                        s->cfg.connection_timeout_s, NULL};
    opts[n++] = (struct MHD_OptionItem){MHD_OPTION_NOTIFY_CONNECTION,
                                        (intptr_t)sb_http_on_connection, s};
    opts[n++] = (struct MHD_OptionItem){MHD_OPTION_URI_LOG_CALLBACK,
                                        (intptr_t)sb_http_on_uri, s};
    opts[n++] = (struct MHD_OptionItem){MHD_OPTION_NOTIFY_COMPLETED,
                                        (intptr_t)sb_http_on_completed, s};
    if (s->tls_cert != NULL) {
        opts[n++] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_CERT, 0, s->tls_cert};
        opts[n++] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_KEY, 0, s->tls_key};
    }
    opts[n++] = (struct MHD_OptionItem){MHD_OPTION_END, 0, NULL};
    s->daemon = MHD_start_daemon(flags, 0, NULL, NULL, sb_http_on_access, s, MHD_OPTION_ARRAY,
                                 opts, MHD_OPTION_END);
    if (s->daemon == NULL) {
        close(s->listen_fd);
        sb_http_watchdog_stop(&s->watchdog);
        free_server(s);
        return sb_error_set(err, 1, "libmicrohttpd refused to start on %s%s", cfg->listen,
                            cfg->tls_cert_path ? " (check the TLS certificate and key)" : "");
    }
    sb_log_field fields[] = {{"listen", cfg->listen}, {"tls", s->tls_cert ? "on" : "off"}};
    sb_log_ctx ctx = {.fields = fields, .n_fields = 2};
    sb_log(SB_LEVEL_INFO, SB_HTTP_COMPONENT, &ctx, "serving HTTP on port %u with %u threads",
           s->port, s->cfg.threads);
    *out = s;
    return 0;
}

unsigned sb_http_server_port(const sb_http_server *server) { return server ? server->port : 0; }

int sb_http_server_add_readiness(sb_http_server *server, const sb_http_readiness *check,
                                 sb_error *err)
{
    pthread_mutex_lock(&server->mu);
    int rc = add_readiness_locked(server, check, err);
    pthread_mutex_unlock(&server->mu);
    return rc;
}

int sb_http_server_is_stopping(const sb_http_server *server)
{
    return atomic_load(&server->stopping) != 0;
}

size_t sb_http_server_in_flight(sb_http_server *server)
{
    pthread_mutex_lock(&server->mu);
    size_t n = server->in_flight;
    pthread_mutex_unlock(&server->mu);
    return n;
}

/* ---- stop ------------------------------------------------------------- */

static struct timespec deadline_after(unsigned ms)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    ts.tv_sec += ms / 1000;
    ts.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    return ts;
}

/* Under server->mu; returns with it held. 0 when nothing is in flight. */
static size_t wait_idle(sb_http_server *s, const struct timespec *deadline)
{
    while (s->in_flight > 0)
        if (pthread_cond_timedwait(&s->idle, &s->mu, deadline) == ETIMEDOUT)
            break;
    return s->in_flight;
}

/* Calls every parked request's wake function once, with no lock held (each
 * request is pinned by a temporary reference meanwhile). */
static void wake_parked(sb_http_server *s)
{
    pthread_mutex_lock(&s->mu);
    size_t n = 0;
    for (sb_server_request *r = s->parked; r != NULL; r = r->park_next)
        n++;
    sb_server_request **list = n ? calloc(n, sizeof *list) : NULL;
    size_t k = 0;
    for (sb_server_request *r = s->parked; r != NULL && list != NULL; r = r->park_next) {
        pthread_mutex_lock(&r->mu);
        if (!r->woken && r->wake != NULL) {
            r->woken = 1;
            r->refs++;
            list[k++] = r;
        }
        pthread_mutex_unlock(&r->mu);
    }
    s->woke_parked = 1;
    pthread_mutex_unlock(&s->mu);
    for (size_t i = 0; i < k; i++) {
        list[i]->wake(list[i], list[i]->wake_ctx);
        sb_server_request_release(list[i]);
    }
    free(list);
}

int sb_http_server_stop(sb_http_server *s, unsigned grace_ms)
{
    if (s == NULL)
        return 0;
    atomic_store(&s->stopping, 1);
    MHD_socket fd = MHD_quiesce_daemon(s->daemon);
    if (fd != MHD_INVALID_SOCKET)
        close(fd);
    sb_log(SB_LEVEL_INFO, SB_HTTP_COMPONENT, NULL,
           "stopping: no new connections; %zu request(s) in flight, grace %u ms",
           sb_http_server_in_flight(s), grace_ms);
    struct timespec deadline = deadline_after(grace_ms);
    wake_parked(s);
    pthread_mutex_lock(&s->mu);
    size_t left = wait_idle(s, &deadline);
    int cut = left > 0;
    if (cut) {
        /* past the grace: answer what is still parked, then give the
         * answers a moment to leave */
        s->forced = 1;
        for (sb_server_request *r = s->parked; r != NULL; r = r->park_next)
            sb_http_response_force(r);
        struct timespec drain = deadline_after(FORCED_DRAIN_MS);
        left = wait_idle(s, &drain);
    }
    pthread_mutex_unlock(&s->mu);
    if (cut)
        sb_log(SB_LEVEL_WARN, SB_HTTP_COMPONENT, NULL,
               "grace period over: %zu request(s) cut off", left);
    MHD_stop_daemon(s->daemon); /* waits for handlers still running */
    sb_http_watchdog_stop(&s->watchdog);
    sb_log(SB_LEVEL_INFO, SB_HTTP_COMPONENT, NULL, "stopped");
    free_server(s);
    return cut;
}
