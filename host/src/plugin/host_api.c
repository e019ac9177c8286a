/* plugin/host_api.c — see host_api.h. Thin adapters from the ABI's names
 * to the host services; each validates its arguments. */
#include "plugin/host_api.h"

#include <fcntl.h>
#include <errno.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "crypto/secure_mem.h"
#include "plugin/bundle.h"
#include "plugin/http_batch.h"
#include "plugin/http_client.h"
#include "plugin/instance_config.h"
#include "plugin/secure_json.h"
#include "plugin/text.h"
#include "util/log.h"
#include "util/redact.h"

int64_t sb_clock_now_unix_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t sb_clock_monotonic_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void sb_call_begin(sb_call_ctx *ctx, const char *plugin, const char *instance,
                   const char *correlation_id, int64_t timeout_ms)
{
    memset(ctx, 0, sizeof *ctx);
    ctx->call.struct_size = sizeof ctx->call;
    ctx->call.deadline_unix_ms = sb_clock_now_unix_ms() + timeout_ms;
    ctx->call.correlation_id = correlation_id;
    ctx->call.host_private = ctx;
    ctx->plugin = plugin;
    ctx->instance = instance;
    atomic_store(&ctx->cancelled, 0);
}

void sb_call_cancel(sb_call_ctx *ctx) { atomic_store(&ctx->cancelled, 1); }

static const sb_call_ctx *ctx_of(const sb_call *call)
{
    return call && call->struct_size >= sizeof(sb_call) ? call->host_private : NULL;
}

int sb_call_lists_names_only(const sb_call *call)
{
    const sb_call_ctx *ctx = ctx_of(call);
    return ctx != NULL && ctx->lists_names_only;
}

int sb_call_was_cancelled(const sb_call *call)
{
    const sb_call_ctx *ctx = ctx_of(call);
    return ctx != NULL && atomic_load(&ctx->cancelled);
}

static int call_expired(const sb_call *call)
{
    if (call == NULL)
        return 1;
    const sb_call_ctx *ctx = ctx_of(call);
    if (ctx && atomic_load(&ctx->cancelled))
        return 1;
    return sb_clock_now_unix_ms() >= call->deadline_unix_ms;
}

static int64_t call_remaining_ms(const sb_call *call)
{
    if (call == NULL || call_expired(call))
        return 0;
    return call->deadline_unix_ms - sb_clock_now_unix_ms();
}

/* Records the failure; a NULL format still leaves a message. */
static void set_message(sb_result *res, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void set_message(sb_result *res, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    sb_result_set_message(res, fmt, ap);
    va_end(ap);
}

__attribute__((format(printf, 4, 0))) static sb_status host_vfail(sb_result *res, sb_status status,
                                                                  uint32_t retry_after_ms, const char *fmt,
                                                                  va_list ap)
{
    if (res == NULL || res->struct_size < sizeof(sb_result))
        return status;
    res->status = status;
    res->retry_after_ms = retry_after_ms;
    if (fmt == NULL)
        set_message(res, "(no message)");
    else
        sb_result_set_message(res, fmt, ap);
    return status;
}

__attribute__((format(printf, 4, 5))) static sb_status host_fail(sb_result *res, sb_status status,
                                                                 uint32_t retry_after_ms, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    sb_status st = host_vfail(res, status, retry_after_ms, fmt, ap);
    va_end(ap);
    return st;
}

__attribute__((format(printf, 3, 0))) static void host_vlog(sb_log_level level, const sb_call *call,
                                                            const char *fmt, va_list ap)
{
    if (fmt == NULL)
        return;
    const sb_call_ctx *ctx = ctx_of(call);
    char component[96];
    snprintf(component, sizeof component, "plugin:%s", ctx && ctx->plugin ? ctx->plugin : "?");
    sb_log_field fields[1];
    size_t nf = 0;
    if (ctx && ctx->instance)
        fields[nf++] = (sb_log_field){"instance", ctx->instance};
    sb_log_ctx lc = {NULL, call ? call->correlation_id : NULL, fields, nf};
    sb_logv((sb_level)level, component, &lc, fmt, ap);
}

__attribute__((format(printf, 3, 4))) static void host_log(sb_log_level level, const sb_call *call,
                                                           const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    host_vlog(level, call, fmt, ap);
    va_end(ap);
}

static sb_status host_json_parse(const unsigned char *text, size_t len, sb_json **out, sb_result *res)
{
    sb_error err;
    if (out == NULL)
        return host_fail(res, SB_E_INVALID, 0, "json_parse: out is NULL");
    *out = NULL;
    if (text == NULL)
        return host_fail(res, SB_E_INVALID, 0, "json_parse: text is NULL");
    if (sb_json_parse(text, len, out, &err) != 0) {
        sb_status st = err.code == SB_JSON_E_TOO_LARGE ? SB_E_TOO_LARGE
                       : err.code == SB_JSON_E_NO_MEMORY ? SB_E_INTERNAL
                                                         : SB_E_PROTOCOL;
        return host_fail(res, st, 0, "%s", err.message);
    }
    return SB_OK;
}

static sb_status host_bundle_from_json(const sb_json_node *object, sb_bundle **out, sb_result *res)
{
    sb_error err;
    if (out == NULL)
        return host_fail(res, SB_E_INVALID, 0, "bundle_from_json: out is NULL");
    if (sb_bundle_from_json(object, out, &err) != 0)
        return host_fail(res, SB_E_PROTOCOL, 0, "%s", err.message);
    return SB_OK;
}

static sb_status host_bundle_append_json(const sb_bundle *b, sb_secure_buf *out, sb_result *res)
{
    sb_error err;
    if (sb_bundle_append_json(b, out, &err) != 0)
        return host_fail(res, SB_E_INVALID, 0, "%s", err.message);
    return SB_OK;
}

static sb_status host_read_file_secure(const char *path, size_t max_bytes, sb_secure_buf **out,
                                       sb_result *res)
{
    if (out == NULL || path == NULL)
        return host_fail(res, SB_E_INVALID, 0, "read_file_secure: path and out are required");
    *out = NULL;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return host_fail(res, errno == ENOENT ? SB_E_CONFIG : SB_E_UNAVAILABLE, 0, "cannot read %s: %s",
                         path, strerror(errno));
    sb_secure_buf *b = sb_secure_new(1024);
    unsigned char chunk[4096];
    ssize_t r;
    sb_status st = b ? SB_OK : host_fail(res, SB_E_INTERNAL, 0, "out of memory");
    while (st == SB_OK && (r = read(fd, chunk, sizeof chunk)) != 0) {
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            st = host_fail(res, SB_E_UNAVAILABLE, 0, "cannot read %s: %s", path, strerror(errno));
        else if (b->len + (size_t)r > max_bytes)
            st = host_fail(res, SB_E_TOO_LARGE, 0, "%s is larger than %zu bytes", path, max_bytes);
        else if (sb_secure_append(b, chunk, (size_t)r) != 0)
            st = host_fail(res, SB_E_INTERNAL, 0, "out of memory");
    }
    close(fd);
    sodium_memzero(chunk, sizeof chunk);
    if (st != SB_OK) {
        sb_secure_free(b);
        return st;
    }
    *out = b;
    return SB_OK;
}

static void host_random_bytes(void *out, size_t len)
{
    if (out)
        randombytes_buf(out, len);
}

static sb_json_type host_json_type(const sb_json_node *n) { return sb_json_type_of(n); }

static const sb_host_api table = {
    .struct_size = sizeof(sb_host_api),
    .abi_major = SB_PLUGIN_ABI_MAJOR,
    .abi_minor = SB_PLUGIN_ABI_MINOR,
    .host_version = SB_VERSION_STRING,
    .fail = host_fail,
    .vfail = host_vfail,
    .result_release = sb_result_release,
    .log = host_log,
    .vlog = host_vlog,
    .text_new = sb_text_new,
    .text_free = sb_text_free,
    .text_set = sb_text_set,
    .text_append = sb_text_append,
    .text_printf = sb_text_printf,
    .text_vprintf = sb_text_vprintf,
    .text_str = sb_text_str,
    .secure_new = sb_secure_new,
    .secure_append = sb_secure_append,
    .secure_append_json_string = sb_secure_append_json_string,
    .secure_data = sb_secure_data,
    .secure_clear = sb_secure_clear,
    .secure_free = sb_secure_free,
    .json_parse = host_json_parse,
    .json_free = sb_json_free,
    .json_root = sb_json_root,
    .json_pointer = sb_json_pointer,
    .json_type = host_json_type,
    .json_count = sb_json_count,
    .json_member = sb_json_member,
    .json_string = sb_json_string,
    .json_int = sb_json_int,
    .json_text = sb_json_text,
    .bundle_new = sb_bundle_new,
    .bundle_free = sb_bundle_free,
    .bundle_shape = sb_bundle_shape_of,
    .bundle_put = sb_bundle_put,
    .bundle_count = sb_bundle_count,
    .bundle_entry = sb_bundle_entry,
    .bundle_from_json = host_bundle_from_json,
    .bundle_append_json = host_bundle_append_json,
    .config_string = sb_instance_config_string,
    .config_int = sb_instance_config_int,
    .config_bool = sb_instance_config_bool,
    .config_entries = sb_instance_config_entries,
    .config_secret = sb_instance_config_secret,
    .config_instance_name = sb_instance_config_name,
    .http = sb_http_perform,
    .http_header = sb_http_response_header,
    .http_response_free = sb_http_response_release,
    .read_file_secure = host_read_file_secure,
    .now_unix_ms = sb_clock_now_unix_ms,
    .monotonic_ms = sb_clock_monotonic_ms,
    .random_bytes = host_random_bytes,
    .call_expired = call_expired,
    .call_remaining_ms = call_remaining_ms,
    .http_batch = sb_http_batch_perform,
    .http_batch_result = sb_http_batch_result,
    .http_batch_free = sb_http_batch_free,
};

const sb_host_api *sb_host_api_table(void) { return &table; }

/* ---- pacing ----------------------------------------------------------------- */

#define PACE_SLICE_MS 250 /* re-check cancellation at least this often */

sb_status sb_call_pace(const sb_call *call, sb_result *res)
{
    sb_call_ctx *ctx = (sb_call_ctx *)ctx_of(call);
    if (ctx == NULL || ctx->gate == NULL)
        return SB_OK;
    for (;;) {
        int64_t wait = sb_rate_gate_take(ctx->gate, sb_clock_monotonic_ms());
        if (wait == 0)
            return SB_OK;
        if (atomic_load(&ctx->cancelled))
            return host_fail(res, SB_E_CANCELLED, 0,
                             "cancelled while waiting for provider instance %s's rate limit",
                             ctx->instance ? ctx->instance : "?");
        int64_t left = call->deadline_unix_ms - sb_clock_now_unix_ms();
        if (left <= wait)
            return host_fail(res, SB_E_TIMEOUT, 0,
                             "provider instance %s is rate limited, or paused by the provider, "
                             "for longer than the call has left (%lld ms)",
                             ctx->instance ? ctx->instance : "?", (long long)(left > 0 ? left : 0));
        int64_t slice = wait < PACE_SLICE_MS ? wait : PACE_SLICE_MS;
        struct timespec ts = {slice / 1000, (slice % 1000) * 1000000L};
        nanosleep(&ts, NULL);
        ctx->paced_ms += slice;
    }
}
