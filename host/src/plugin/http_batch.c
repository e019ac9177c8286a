/* plugin/http_batch.c — see http_batch.h. */
#include "plugin/http_batch.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "plugin/host_api.h"
#include "plugin/http_client.h"
#include "plugin/http_transfer.h"
#include "plugin/text.h"

#define IDLE_POLL_MS 50 /* longest sleep while only retries wait */

typedef struct batch_item {
    const sb_http_request *req;
    sb_result result;
    sb_http_response resp;
    uint32_t attempts;
    int64_t not_before_ms; /* monotonic: when a retry may start */
    int running, done;
} batch_item;

struct sb_http_batch {
    size_t n;
    batch_item items[];
};

static atomic_uint parallelism = SB_HTTP_BATCH_DEFAULT_PARALLELISM;

void sb_http_batch_set_parallelism(unsigned n)
{
    atomic_store(&parallelism, n < 1 ? 1 : n > SB_HTTP_BATCH_MAX_PARALLELISM ? SB_HTTP_BATCH_MAX_PARALLELISM : n);
}

unsigned sb_http_batch_parallelism(void) { return atomic_load(&parallelism); }

/* ---- per-thread handles --------------------------------------------------- */

typedef struct thread_handles {
    CURLM *multi;
    CURL *easy[SB_HTTP_BATCH_MAX_PARALLELISM];
} thread_handles;

static __thread thread_handles *handles;
static pthread_key_t handles_key;
static pthread_once_t handles_key_once = PTHREAD_ONCE_INIT;

static void handles_free(void *p)
{
    thread_handles *h = p;
    for (size_t i = 0; i < SB_HTTP_BATCH_MAX_PARALLELISM; i++)
        if (h->easy[i])
            curl_easy_cleanup(h->easy[i]);
    curl_multi_cleanup(h->multi);
    free(h);
}

static void handles_key_create(void) { pthread_key_create(&handles_key, handles_free); }

static thread_handles *thread_multi(unsigned width)
{
    if (handles == NULL) {
        thread_handles *h = calloc(1, sizeof *h);
        if (h == NULL || (h->multi = curl_multi_init()) == NULL) {
            free(h);
            return NULL;
        }
        /* keep every connection between batches (the default shrinks the
         * cache as handles leave the multi, closing connections) */
        curl_multi_setopt(h->multi, CURLMOPT_MAXCONNECTS, (long)SB_HTTP_BATCH_MAX_PARALLELISM);
        pthread_once(&handles_key_once, handles_key_create);
        pthread_setspecific(handles_key, h);
        handles = h;
    }
    for (unsigned i = 0; i < width; i++)
        if (handles->easy[i] == NULL && (handles->easy[i] = curl_easy_init()) == NULL)
            return NULL;
    return handles;
}

/* ---- the batch -------------------------------------------------------------- */

typedef struct slot {
    batch_item *item; /* NULL: free */
    sb_http_transfer *transfer;
} slot;

/* An attempt ended with st: keep the outcome, or schedule a retry. */
static void attempt_ended(const sb_call *call, batch_item *it, sb_status st)
{
    it->running = 0;
    it->resp.attempts = it->attempts;
    int64_t wait = sb_http_retry_delay_ms(call, it->req, it->attempts, st, &it->resp);
    if (wait < 0) {
        if (st == SB_OK)
            sb_result_release(&it->result); /* an earlier attempt's failure no longer applies */
        it->result.status = st;
        it->done = 1;
        return;
    }
    sb_http_response_release(&it->resp);
    it->not_before_ms = sb_clock_monotonic_ms() + wait;
}

/* The first item (in request order) that may start now; *next_ms is the
 * earliest retry time of those that must wait. */
static batch_item *next_ready(sb_http_batch *b, int64_t now, int64_t *next_ms)
{
    for (size_t i = 0; i < b->n; i++) {
        batch_item *it = &b->items[i];
        if (it->done || it->running)
            continue;
        if (it->not_before_ms <= now)
            return it;
        if (*next_ms == 0 || it->not_before_ms < *next_ms)
            *next_ms = it->not_before_ms;
    }
    return NULL;
}

/* Starts ready items on free slots, in request order. */
static void fill_slots(const sb_call *call, sb_http_batch *b, thread_handles *th, slot *slots, unsigned width,
                       int64_t *next_ms)
{
    for (unsigned s = 0; s < width; s++) {
        while (slots[s].item == NULL) {
            batch_item *it = next_ready(b, sb_clock_monotonic_ms(), next_ms);
            if (it == NULL)
                return;
            it->attempts++;
            sb_status st = sb_call_pace(call, &it->result); /* the instance's rate limit or pause */
            if (st == SB_OK)
                st = sb_http_transfer_start(th->easy[s], call, it->req, &slots[s].transfer, &it->result);
            if (st == SB_OK && curl_multi_add_handle(th->multi, th->easy[s]) != CURLM_OK)
                st = sb_http_transfer_finish(slots[s].transfer, CURLE_OUT_OF_MEMORY, &it->resp, &it->result);
            else if (st == SB_OK) {
                slots[s].item = it;
                it->running = 1;
                continue;
            }
            attempt_ended(call, it, st);
        }
    }
}

static unsigned running_count(const slot *slots, unsigned width)
{
    unsigned running = 0;
    for (unsigned s = 0; s < width; s++)
        running += slots[s].item != NULL;
    return running;
}

/* Ends the attempts whose transfers finished. */
static void collect(const sb_call *call, thread_handles *th, slot *slots, unsigned width)
{
    CURLMsg *msg;
    int queued;
    while ((msg = curl_multi_info_read(th->multi, &queued)) != NULL) {
        if (msg->msg != CURLMSG_DONE)
            continue;
        for (unsigned s = 0; s < width; s++) {
            if (slots[s].item == NULL || th->easy[s] != msg->easy_handle)
                continue;
            CURLcode rc = msg->data.result; /* read before the handle leaves the multi */
            curl_multi_remove_handle(th->multi, th->easy[s]);
            batch_item *it = slots[s].item;
            slots[s].item = NULL;
            attempt_ended(call, it, sb_http_transfer_finish(slots[s].transfer, rc, &it->resp, &it->result));
            break;
        }
    }
}

static void run(const sb_call *call, sb_http_batch *b, thread_handles *th, unsigned width)
{
    slot slots[SB_HTTP_BATCH_MAX_PARALLELISM];
    memset(slots, 0, sizeof slots);
    for (;;) {
        int64_t next_ms = 0;
        fill_slots(call, b, th, slots, width, &next_ms);
        unsigned running = running_count(slots, width);
        if (running == 0 && next_ms == 0)
            return; /* every request has its outcome */
        if (running > 0) {
            int still = 0;
            curl_multi_perform(th->multi, &still);
            collect(call, th, slots, width);
            if (running_count(slots, width) < running)
                continue; /* slots freed: start the next requests first */
        }
        int64_t wait = IDLE_POLL_MS;
        if (next_ms) {
            int64_t until = next_ms - sb_clock_monotonic_ms();
            wait = until < 0 ? 0 : until < wait ? until : wait;
        }
        curl_multi_poll(th->multi, NULL, 0, (int)wait, NULL);
    }
}

sb_status sb_http_batch_perform(const sb_call *call, const sb_http_request *const *requests, size_t n,
                                sb_http_batch **out, sb_result *res)
{
    const sb_host_api *host = sb_host_api_table();
    if (out == NULL)
        return host->fail(res, SB_E_INVALID, 0, "http_batch: out is NULL");
    *out = NULL;
    if (call == NULL || requests == NULL)
        return host->fail(res, SB_E_INVALID, 0, "http_batch: call and requests are required");
    if (n == 0 || n > SB_HTTP_BATCH_MAX)
        return host->fail(res, SB_E_INVALID, 0, "http_batch: %zu requests; send 1 to %d per batch", n,
                          SB_HTTP_BATCH_MAX);
    for (size_t i = 0; i < n; i++)
        if (requests[i] == NULL)
            return host->fail(res, SB_E_INVALID, 0, "http_batch: request %zu is NULL", i);
    unsigned width = sb_http_batch_parallelism();
    if (width > n)
        width = (unsigned)n;
    thread_handles *th = thread_multi(width);
    sb_http_batch *b = calloc(1, sizeof *b + n * sizeof b->items[0]);
    if (th == NULL || b == NULL) {
        free(b);
        return host->fail(res, SB_E_INTERNAL, 0, "http_batch: out of memory");
    }
    b->n = n;
    for (size_t i = 0; i < n; i++) {
        batch_item *it = &b->items[i];
        it->req = requests[i];
        it->result = (sb_result)SB_RESULT_INIT;
        it->resp.struct_size = sizeof it->resp;
        sb_status st = sb_http_check_request(call, it->req, &it->resp, &it->result);
        if (st != SB_OK) { /* refused before sending: this request's outcome only */
            it->result.status = st;
            it->done = 1;
        }
    }
    run(call, b, th, width);
    *out = b;
    return SB_OK;
}

const sb_result *sb_http_batch_result(const sb_http_batch *batch, size_t i, const sb_http_response **resp)
{
    if (resp)
        *resp = NULL;
    if (batch == NULL || i >= batch->n)
        return NULL;
    const batch_item *it = &batch->items[i];
    if (resp && it->result.status == SB_OK)
        *resp = &it->resp;
    return &it->result;
}

void sb_http_batch_free(sb_http_batch *batch)
{
    if (batch == NULL)
        return;
    for (size_t i = 0; i < batch->n; i++) {
        sb_http_response_release(&batch->items[i].resp);
        sb_result_release(&batch->items[i].result);
    }
    free(batch);
}
