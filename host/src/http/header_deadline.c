/* http/header_deadline.c — the time a client gets to send a complete request
 * header (the slowloris defence; see the contract in server.h).
 *
 * Why this exists: libmicrohttpd's connection timeout is an inactivity
 * timeout, reset by every byte, so a client trickling one header byte every
 * few seconds holds a connection (and its memory pool) for ever, and about a
 * thousand of them fill the connection limit. libmicrohttpd 0.9 has no limit
 * on the time to receive a header, and no call that closes a connection from
 * outside its own callbacks. So every connection carries a deadline here:
 *
 *   accepted (MHD_OPTION_NOTIFY_CONNECTION)  now + header_timeout
 *   request line seen (URI callback)         min(deadline, now + header_timeout)
 *   header complete (first access call)      none: from here the request is
 *                                            its handler's (a long-poll may
 *                                            stay parked for minutes)
 *   request completed (keep-alive)           now + max(header_timeout, idle
 *                                            timeout) for the next request
 *
 * A watchdog thread wakes a few times per header_timeout and shuts down
 * (shutdown(2), both directions) the socket of every connection past its
 * deadline. libmicrohttpd then sees end of stream on its next poll and closes
 * and frees the connection in its own thread, as for a client that left;
 * nothing is written (a client that cannot send a header in time gets no
 * answer, only the close). The socket is shut down only under `mu`, and
 * libmicrohttpd reports MHD_CONNECTION_NOTIFY_CLOSED (which unlinks the entry
 * under `mu`) before it closes the descriptor, so the watchdog never touches
 * a descriptor number that has been reused by another connection.
 */
#include "http/internal.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>

#include "util/log.h"

struct sb_http_conn_watch {
    sb_http_watchdog *dog;
    sb_http_conn_watch *prev, *next;
    int fd;
    uint64_t deadline_ns; /* 0: none */
};

static sb_metric *header_timeouts;

static void register_metrics(void)
{
    header_timeouts = sb_metrics_counter(
        "sb_http_header_timeouts_total",
        "Connections closed because a complete request header did not arrive within "
        "http.header_timeout.",
        (const char *)NULL);
}

static struct timespec abs_after_ns(uint64_t ns)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    ts.tv_sec += (time_t)(ns / 1000000000u);
    ts.tv_nsec += (long)(ns % 1000000000u);
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    return ts;
}

/* One pass: shuts down what is past its deadline. Under dog->mu. */
static size_t cut_late(sb_http_watchdog *dog, uint64_t now)
{
    size_t n = 0;
    for (sb_http_conn_watch *w = dog->head; w != NULL; w = w->next) {
        if (w->deadline_ns == 0 || w->deadline_ns > now)
            continue;
        w->deadline_ns = 0; /* once: libmicrohttpd closes it on its next poll */
        shutdown(w->fd, SHUT_RDWR);
        n++;
    }
    return n;
}

static void *watch(void *arg)
{
    sb_http_watchdog *dog = arg;
    /* a few passes per header timeout: a late connection lives at most
     * header_timeout + period */
    uint64_t period = dog->header_ns / 4;
    if (period > 250000000u)
        period = 250000000u;
    if (period < 10000000u)
        period = 10000000u;
    pthread_mutex_lock(&dog->mu);
    while (!dog->stop) {
        struct timespec until = abs_after_ns(period);
        pthread_cond_timedwait(&dog->wake, &dog->mu, &until);
        size_t cut = dog->stop ? 0 : cut_late(dog, sb_http_now_ns());
        if (cut == 0)
            continue;
        pthread_mutex_unlock(&dog->mu);
        sb_metric_add(header_timeouts, NULL, (double)cut);
        sb_log(SB_LEVEL_WARN, SB_HTTP_COMPONENT, NULL,
               "closed %zu connection(s) that sent no complete request header within %llu ms "
               "(http.header_timeout)",
               cut, (unsigned long long)(dog->header_ns / 1000000u));
        pthread_mutex_lock(&dog->mu);
    }
    pthread_mutex_unlock(&dog->mu);
    return NULL;
}

int sb_http_watchdog_start(sb_http_watchdog *dog, unsigned header_timeout_ms,
                           unsigned idle_timeout_s)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, register_metrics);
    dog->header_ns = (uint64_t)header_timeout_ms * 1000000u;
    dog->idle_ns = (uint64_t)idle_timeout_s * 1000000000u;
    if (dog->idle_ns < dog->header_ns)
        dog->idle_ns = dog->header_ns;
    pthread_mutex_init(&dog->mu, NULL);
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&dog->wake, &attr);
    pthread_condattr_destroy(&attr);
    dog->running = pthread_create(&dog->thread, NULL, watch, dog) == 0;
    return dog->running ? 0 : -1;
}

void sb_http_watchdog_stop(sb_http_watchdog *dog)
{
    if (dog->running) {
        pthread_mutex_lock(&dog->mu);
        dog->stop = 1;
        pthread_cond_signal(&dog->wake);
        pthread_mutex_unlock(&dog->mu);
        pthread_join(dog->thread, NULL);
        dog->running = 0;
    }
    /* libmicrohttpd has reported every connection closed by now */
    pthread_cond_destroy(&dog->wake);
    pthread_mutex_destroy(&dog->mu);
}

void sb_http_on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
                           enum MHD_ConnectionNotificationCode toe)
{
    sb_http_server *server = cls;
    sb_http_watchdog *dog = &server->watchdog;
    if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
        const union MHD_ConnectionInfo *fd = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
        sb_http_conn_watch *w = fd ? calloc(1, sizeof *w) : NULL;
        *socket_context = w;
        if (w == NULL)
            return; /* unwatched: the inactivity timeout still applies */
        w->dog = dog;
        w->fd = fd->connect_fd;
        pthread_mutex_lock(&dog->mu);
        w->deadline_ns = sb_http_now_ns() + dog->header_ns;
        w->next = dog->head;
        if (dog->head != NULL)
            dog->head->prev = w;
        dog->head = w;
        pthread_mutex_unlock(&dog->mu);
        return;
    }
    sb_http_conn_watch *w = *socket_context;
    if (w == NULL)
        return;
    pthread_mutex_lock(&dog->mu);
    if (w->prev != NULL)
        w->prev->next = w->next;
    else
        dog->head = w->next;
    if (w->next != NULL)
        w->next->prev = w->prev;
    pthread_mutex_unlock(&dog->mu);
    free(w);
    *socket_context = NULL;
}

static sb_http_conn_watch *watch_of(struct MHD_Connection *conn)
{
    const union MHD_ConnectionInfo *i = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    return i ? i->socket_context : NULL;
}

void sb_http_deadline_request_line(struct MHD_Connection *conn)
{
    sb_http_conn_watch *w = watch_of(conn);
    if (w == NULL)
        return;
    pthread_mutex_lock(&w->dog->mu);
    uint64_t by = sb_http_now_ns() + w->dog->header_ns;
    if (w->deadline_ns == 0 || w->deadline_ns > by)
        w->deadline_ns = by;
    pthread_mutex_unlock(&w->dog->mu);
}

void sb_http_deadline_headers_done(struct MHD_Connection *conn)
{
    sb_http_conn_watch *w = watch_of(conn);
    if (w == NULL)
        return;
    pthread_mutex_lock(&w->dog->mu);
    w->deadline_ns = 0;
    pthread_mutex_unlock(&w->dog->mu);
}

void sb_http_deadline_request_done(struct MHD_Connection *conn)
{
    sb_http_conn_watch *w = watch_of(conn);
    if (w == NULL)
        return;
    pthread_mutex_lock(&w->dog->mu);
    w->deadline_ns = sb_http_now_ns() + w->dog->idle_ns;
    pthread_mutex_unlock(&w->dog->mu);
}
