/* store/db_listen.c — a dedicated LISTEN connection woken by poll() on
 * its socket. See db.h for the contract (notably SB_DB_LISTEN_RECONNECTED:
 * notifications are not queued across a lost connection). */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/secure_mem.h"
#include "store/db_internal.h"
#include "util/log.h"

#define MAX_CHANNELS 32

struct sb_db_listener {
    PGconn *pg;
    char *conninfo; /* secure memory */
    char describe[SB_DB_DESCRIBE_MAX];
    int64_t connect_timeout_ms;
    char channels[MAX_CHANNELS][SB_DB_CHANNEL_MAX + 1];
    size_t n_channels;
    int lost; /* the connection broke; report RECONNECTED once it is back */
    int lost_reported; /* warned and on_lost called for this loss */
    void (*on_lost)(void *ctx);
    void *on_lost_ctx;
};

void sb_db_listen_on_lost(sb_db_listener *l, void (*fn)(void *ctx), void *ctx)
{
    l->on_lost = fn;
    l->on_lost_ctx = ctx;
}

/* LISTEN cannot take parameters; the names were validated to [a-z0-9_]
 * and are quoted as identifiers all the same. */
static int listen_all(sb_db_listener *l, sb_error *err)
{
    for (size_t i = 0; i < l->n_channels; i++) {
        char *ident = PQescapeIdentifier(l->pg, l->channels[i], strlen(l->channels[i]));
        if (ident == NULL)
            return sb_error_set(err, SB_DB_E_NO_MEMORY, "out of memory quoting a channel name");
        char sql[SB_DB_CHANNEL_MAX * 2 + 16];
        snprintf(sql, sizeof sql, "LISTEN %s", ident);
        PQfreemem(ident);
        PGresult *res = PQexec(l->pg, sql);
        if (res == NULL || PQresultStatus(res) != PGRES_COMMAND_OK) {
            sb_db_result_error(NULL, l->pg, res, sql, l->describe, err);
            PQclear(res);
            return -1;
        }
        PQclear(res);
    }
    return 0;
}

int sb_db_listen_open(const char *conninfo, const char *const *channels, size_t n_channels,
                      int64_t connect_timeout_ms, sb_db_listener **out, sb_error *err)
{
    *out = NULL;
    if (n_channels == 0 || n_channels > MAX_CHANNELS || channels == NULL)
        return sb_error_set(err, SB_DB_E_INVALID, "a listener needs 1 to %d channels (got %zu)",
                            MAX_CHANNELS, n_channels);
    for (size_t i = 0; i < n_channels; i++)
        if (!sb_db_valid_channel(channels[i]))
            return sb_error_set(err, SB_DB_E_INVALID,
                                "notification channel '%.80s' is not valid: use 1 to %d "
                                "characters from a-z, 0-9 and _",
                                channels[i] ? channels[i] : "(null)", SB_DB_CHANNEL_MAX);
    if (sb_db_check_conninfo(conninfo, err) != 0)
        return -1;
    if (sb_crypto_init() != 0)
        return sb_error_set(err, SB_DB_E_NO_MEMORY, "libsodium could not be initialised");
    sb_db_listener *l = calloc(1, sizeof *l);
    if (l == NULL || (l->conninfo = sb_secure_strdup(conninfo, strlen(conninfo))) == NULL) {
        free(l);
        return sb_error_set(err, SB_DB_E_NO_MEMORY, "out of memory opening a listener");
    }
    sb_db_describe_conninfo(conninfo, l->describe, sizeof l->describe);
    l->connect_timeout_ms = connect_timeout_ms > 0 ? connect_timeout_ms : 10000;
    for (size_t i = 0; i < n_channels; i++)
        snprintf(l->channels[i], sizeof l->channels[i], "%s", channels[i]);
    l->n_channels = n_channels;
    l->pg = sb_db_connect(l->conninfo, l->connect_timeout_ms, l->describe, err);
    if (l->pg == NULL || listen_all(l, err) != 0) {
        sb_db_listen_close(l);
        return -1;
    }
    *out = l;
    return 0;
}

void sb_db_listen_close(sb_db_listener *l)
{
    if (l == NULL)
        return;
    if (l->pg)
        PQfinish(l->pg);
    sb_secure_release(l->conninfo);
    free(l);
}

int sb_db_listen_socket(const sb_db_listener *l)
{
    return l->pg && PQstatus(l->pg) == CONNECTION_OK ? PQsocket(l->pg) : -1;
}

static int take_notification(sb_db_listener *l, char *channel_out, size_t channel_cap,
                             char *payload_out, size_t payload_cap)
{
    PGnotify *n = PQnotifies(l->pg);
    if (n == NULL)
        return 0;
    if (channel_out && channel_cap)
        snprintf(channel_out, channel_cap, "%s", n->relname);
    if (payload_out && payload_cap)
        snprintf(payload_out, payload_cap, "%s", n->extra ? n->extra : "");
    PQfreemem(n);
    return 1;
}

static int reconnect(sb_db_listener *l, sb_error *err)
{
    if (sb_db_reset(l->pg, l->connect_timeout_ms, l->describe, err) != 0)
        return -1;
    if (listen_all(l, err) != 0)
        return -1;
    sb_info("store", "listener reconnected to PostgreSQL (%s)", l->describe);
    l->lost = 0;
    l->lost_reported = 0;
    return SB_DB_LISTEN_RECONNECTED;
}

int sb_db_listen_wait(sb_db_listener *l, int64_t timeout_ms, char *channel_out, size_t channel_cap,
                      char *payload_out, size_t payload_cap, sb_error *err)
{
    if (payload_out && payload_cap)
        payload_out[0] = '\0';
    if (channel_out && channel_cap)
        channel_out[0] = '\0';
    int64_t deadline = sb_db_now_ms() + (timeout_ms > 0 ? timeout_ms : 0);
    for (;;) {
        if (l->lost || PQstatus(l->pg) != CONNECTION_OK) {
            if (!l->lost_reported) {
                l->lost_reported = 1;
                sb_warn("store", "listener lost its connection to PostgreSQL (%s); reconnecting",
                        l->describe);
                if (l->on_lost)
                    l->on_lost(l->on_lost_ctx);
            }
            l->lost = 1;
            return reconnect(l, err);
        }
        if (take_notification(l, channel_out, channel_cap, payload_out, payload_cap))
            return SB_DB_LISTEN_NOTIFIED;
        int64_t left = deadline - sb_db_now_ms();
        if (left < 0)
            return SB_DB_LISTEN_TIMEOUT;
        struct pollfd p = {.fd = PQsocket(l->pg), .events = POLLIN};
        int r = poll(&p, 1, left > 60000 ? 60000 : (int)left);
        if (r < 0 && errno != EINTR) {
            l->lost = 1;
            continue;
        }
        if (r > 0 && !PQconsumeInput(l->pg))
            l->lost = 1;
        if (r == 0 && left == 0)
            return SB_DB_LISTEN_TIMEOUT;
    }
}
