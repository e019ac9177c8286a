/*
 * api/job_waiters.c — the long-poll hub (agent_api.h): parked claim
 * requests and the one thread that answers them; its LISTEN connection
 * also drives the auth cache (api/auth_cache.h), so a process keeps one
 * listener for both.
 *
 * Contract:
 *   - The listener LISTENs on SB_JOB_CHANNEL and SB_AUTH_CHANNEL. The auth
 *     cache is usable only while it is connected: the hub marks it
 *     listening once LISTEN is active, not listening (emptied) the moment
 *     the connection is found lost, listening again after the reconnect;
 *     each notification on SB_AUTH_CHANNEL empties it.
 *   - One hub per sb_app, started on the first parked claim: a dedicated
 *     LISTEN connection on SB_JOB_CHANNEL, an eventfd for new waiters and
 *     for stopping, and one thread polling both. No thread per waiter: a
 *     waiter is a parked HTTP request (sb_http_suspend) in the hub's list.
 *   - A new waiter is checked once by the hub as soon as it is listed (so a
 *     job committed between the handler's first claim and the park is not
 *     missed: LISTEN was already active). A notification naming connection
 *     C makes the hub claim for C's waiters in arrival order until one finds
 *     nothing. A lost listener connection (RECONNECTED) re-checks everyone.
 *     Each waiter is also re-checked every RECHECK_MS (retries whose backoff
 *     ended, notifications lost). At its deadline a waiter gets 204.
 *   - The hub answers and resumes every waiter exactly once. When the HTTP
 *     server begins to stop it calls wake(): the hub then answers every
 *     waiter 204 at once (the agent simply claims again elsewhere).
 *   - Claims run on the hub thread through sb_job_claim (one short
 *     transaction each), audited with the parked request as context.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "api/agent_api.h"
#include "api/auth_cache.h"
#include "store/auth_generation_store.h"
#include "store/job_store.h"
#include "util/log.h"

#define RECHECK_MS 5000
#define POLL_MAX_MS 1000

typedef struct waiter {
    sb_server_request *req;
    sb_agent_identity agent; /* a copy: the hub outlives nothing of the request's */
    int64_t deadline_ms, next_check_ms;
    int due;
    struct waiter *next;
} waiter;

struct sb_job_hub {
    sb_app *app;
    sb_db_listener *listener;
    int efd;
    pthread_t thread;
    pthread_mutex_t mu;
    waiter *incoming; /* under mu; the hub thread moves them to `list` */
    waiter *list;     /* the hub thread's alone */
    atomic_int stopping, draining;
};

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void signal_hub(struct sb_job_hub *hub)
{
    uint64_t one = 1;
    ssize_t w = write(hub->efd, &one, sizeof one);
    (void)w;
}

static void on_wake(sb_server_request *req, void *ctx)
{
    (void)req;
    struct sb_job_hub *hub = ctx;
    atomic_store(&hub->draining, 1);
    signal_hub(hub);
}

/* Answers and resumes w; 1 when it was answered (remove it), 0 to keep. */
static int serve(struct sb_job_hub *hub, waiter *w, int64_t now, int *found_none)
{
    if (atomic_load(&hub->draining)) {
        sb_http_respond_empty(w->req, 204);
        return 1;
    }
    if ((w->due || now >= w->next_check_ms) && sb_http_client_gone(w->req)) {
        /* the agent died while parked (kill -9): claiming for it would lease
         * the job to nobody until the lease expired */
        sb_http_respond_empty(w->req, 204);
        return 1;
    }
    if (w->due || now >= w->next_check_ms) {
        json_t *job = NULL;
        sb_error err = {0};
        int rc = sb_job_claim(hub->app, w->req, &w->agent, &job, &err);
        w->due = 0;
        w->next_check_ms = now + RECHECK_MS;
        if (rc == 0) {
            sb_http_respond_json(w->req, 200, job);
            return 1;
        }
        if (rc < 0) {
            sb_api_respond_store_error(w->req, &err);
            return 1;
        }
        *found_none = 1;
    }
    if (now >= w->deadline_ms) {
        sb_http_respond_empty(w->req, 204);
        return 1;
    }
    return 0;
}

static void mark_due(struct sb_job_hub *hub, const char *connection_id)
{
    for (waiter *w = hub->list; w; w = w->next)
        if (connection_id == NULL || strcmp(w->agent.connection_id, connection_id) == 0)
            w->due = 1;
}

static void drain_notifications(struct sb_job_hub *hub)
{
    for (int i = 0; i < 1000; i++) {
        char channel[64], payload[128];
        sb_error err = {0};
        int rc = sb_db_listen_wait(hub->listener, 0, channel, sizeof channel, payload,
                                   sizeof payload, &err);
        if (rc == SB_DB_LISTEN_NOTIFIED && strcmp(channel, SB_AUTH_CHANNEL) == 0)
            sb_auth_cache_invalidate(hub->app->auth_cache);
        else if (rc == SB_DB_LISTEN_NOTIFIED)
            mark_due(hub, payload);
        else if (rc == SB_DB_LISTEN_RECONNECTED) {
            sb_auth_cache_set_listening(hub->app->auth_cache, 1);
            mark_due(hub, NULL);
        } else {
            if (rc < 0)
                sb_warn("jobs", "job listener: %s (retrying)", err.message);
            return;
        }
    }
}

/* One pass over the list; returns the time to sleep. */
static int64_t serve_all(struct sb_job_hub *hub)
{
    int64_t now = now_ms(), sleep_ms = POLL_MAX_MS;
    waiter **pp = &hub->list;
    char none_for[8][40];
    size_t n_none = 0;
    while (*pp) {
        waiter *w = *pp;
        /* after one waiter of a connection found nothing, the others would too */
        for (size_t i = 0; i < n_none && w->due; i++)
            if (strcmp(none_for[i], w->agent.connection_id) == 0)
                w->due = 0, w->next_check_ms = now + RECHECK_MS;
        int none = 0;
        if (serve(hub, w, now, &none)) {
            *pp = w->next;
            sb_http_resume(w->req);
            free(w);
            continue;
        }
        if (none && n_none < 8)
            snprintf(none_for[n_none++], sizeof none_for[0], "%s", w->agent.connection_id);
        int64_t next = (w->deadline_ms < w->next_check_ms ? w->deadline_ms : w->next_check_ms) - now;
        if (next < sleep_ms)
            sleep_ms = next < 0 ? 0 : next;
        pp = &w->next;
    }
    return sleep_ms;
}

static void *hub_main(void *p)
{
    struct sb_job_hub *hub = p;
    int64_t sleep_ms = POLL_MAX_MS;
    while (!atomic_load(&hub->stopping)) {
        struct pollfd fds[2] = {{.fd = hub->efd, .events = POLLIN},
                                {.fd = sb_db_listen_socket(hub->listener), .events = POLLIN}};
        int r = poll(fds, fds[1].fd >= 0 ? 2 : 1, (int)sleep_ms);
        if (r < 0 && errno != EINTR)
            sb_warn("jobs", "job hub poll failed: %s", strerror(errno));
        if (fds[0].revents & POLLIN) {
            uint64_t v;
            ssize_t rd = read(hub->efd, &v, sizeof v);
            (void)rd;
        }
        pthread_mutex_lock(&hub->mu);
        while (hub->incoming) { /* new waiters: checked once at once */
            waiter *w = hub->incoming;
            hub->incoming = w->next;
            w->due = 1;
            w->next = hub->list;
            hub->list = w;
        }
        pthread_mutex_unlock(&hub->mu);
        drain_notifications(hub);
        sleep_ms = serve_all(hub);
    }
    return NULL;
}

static void on_listener_lost(void *ctx)
{
    struct sb_job_hub *hub = ctx;
    sb_auth_cache_set_listening(hub->app->auth_cache, 0); /* fail closed */
}

static struct sb_job_hub *hub_start(sb_app *app, sb_error *err)
{
    struct sb_job_hub *hub = calloc(1, sizeof *hub);
    if (hub == NULL) {
        sb_error_set(err, 1, "out of memory");
        return NULL;
    }
    hub->app = app;
    /* sb_jobs last: its LISTEN is the connection's last query (tests look for it) */
    const char *channels[] = {SB_AUTH_CHANNEL, SB_JOB_CHANNEL};
    hub->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    pthread_mutex_init(&hub->mu, NULL);
    int ok = hub->efd >= 0 && sb_db_listen_open_pool(app->db, channels, 2, &hub->listener, err) == 0;
    if (ok) { /* before the thread runs: a loss it finds is then never overwritten */
        sb_db_listen_on_lost(hub->listener, on_listener_lost, hub);
        sb_auth_cache_set_listening(app->auth_cache, 1);
    }
    if (!ok || pthread_create(&hub->thread, NULL, hub_main, hub) != 0) {
        sb_auth_cache_set_listening(app->auth_cache, 0);
        if (hub->efd < 0 || hub->listener)
            sb_error_set(err, 1, "cannot start the job hub");
        sb_db_listen_close(hub->listener);
        if (hub->efd >= 0)
            close(hub->efd);
        pthread_mutex_destroy(&hub->mu);
        free(hub);
        return NULL;
    }
    return hub;
}

int sb_job_hub_ensure(sb_app *app, sb_error *err)
{
    pthread_mutex_lock(&app->job_hub_lock);
    if (app->job_hub == NULL)
        app->job_hub = hub_start(app, err);
    int rc = app->job_hub ? 0 : -1;
    pthread_mutex_unlock(&app->job_hub_lock);
    return rc;
}

int sb_job_hub_park(sb_app *app, sb_server_request *req, const sb_agent_identity *agent,
                    int64_t wait_ms, sb_error *err)
{
    if (sb_job_hub_ensure(app, err) != 0)
        return -1;
    struct sb_job_hub *hub = app->job_hub;
    waiter *w = calloc(1, sizeof *w);
    if (w == NULL)
        return sb_error_set(err, 1, "out of memory");
    w->req = req;
    w->agent = *agent;
    w->deadline_ms = now_ms() + wait_ms;
    w->next_check_ms = w->deadline_ms;
    if (sb_http_suspend(req, on_wake, hub) != 0) {
        free(w);
        return sb_error_set(err, 1, "the request cannot be parked");
    }
    pthread_mutex_lock(&hub->mu);
    w->next = hub->incoming;
    hub->incoming = w;
    pthread_mutex_unlock(&hub->mu);
    signal_hub(hub);
    return 0;
}

void sb_job_hub_stop(sb_app *app)
{
    struct sb_job_hub *hub = app->job_hub;
    if (hub == NULL)
        return;
    sb_auth_cache_set_listening(app->auth_cache, 0);
    atomic_store(&hub->stopping, 1);
    signal_hub(hub);
    pthread_join(hub->thread, NULL);
    waiter *lists[2] = {hub->list, hub->incoming};
    for (int i = 0; i < 2; i++)
        while (lists[i]) {
            waiter *w = lists[i];
            lists[i] = w->next;
            sb_http_respond_error(w->req, 503, "shutting_down", "the server is shutting down");
            sb_http_resume(w->req);
            free(w);
        }
    sb_db_listen_close(hub->listener);
    close(hub->efd);
    pthread_mutex_destroy(&hub->mu);
    free(hub);
    app->job_hub = NULL;
}
