/*
 * abi_fixture.c — one minimal provider plugin, compiled several times with
 * FIXTURE_* definitions into deliberately compatible and incompatible
 * variants for the loader's ABI tests:
 *   FIXTURE_MAJOR=n / FIXTURE_MINOR=n  claim another ABI version (minor:
 *                      the "built with" minor, informational)
 *   FIXTURE_REQUIRES=n requires ABI minor n (SB_PLUGIN_REQUIRES_MINOR)
 *   FIXTURE_SHORT      a descriptor struct_size smaller than ABI 1.0's
 *   FIXTURE_BAD_MAGIC  wrong magic number
 *   FIXTURE_NO_ENTRY   exports no sbridge_plugin_v1
 *   FIXTURE_NULL_SLOT  a declared capability with a NULL vtable entry
 *   FIXTURE_CRASHY     operations that crash on NULL arguments (the
 *                      conformance kit must report, not die)
 *   FIXTURE_LAZY_WRITE declares write and compare-and-set, but its write
 *                      returns SB_OK and stores nothing (the conformance
 *                      kit must catch it)
 */
#include <sbridge/plugin.h>
#include <stddef.h>
#include <string.h>

/* Variants leave some of these unused on purpose. */
#pragma GCC diagnostic ignored "-Wunused-function"
#pragma GCC diagnostic ignored "-Wunused-variable"
#pragma GCC diagnostic ignored "-Wunused-const-variable"
#pragma GCC diagnostic ignored "-Wunused-parameter"

#include "fixture_lifecycle.h"

#ifndef FIXTURE_NAME
#define FIXTURE_NAME "abi-fixture"
#endif

static const sb_host_api *host;

static sb_status f_init(const sb_host_api *h, sb_result *res)
{
    (void)res;
    host = h;
    return SB_OK;
}


#ifdef FIXTURE_CRASHY
#define GUARD(cond, res) (void)(res)
#else
#define GUARD(cond, res)                                                                           \
    do {                                                                                           \
        if (cond)                                                                                  \
            return host->fail(res, SB_E_INVALID, 0, "fixture: invalid arguments");                 \
    } while (0)
#endif

static sb_status f_read(void *inst, const sb_call *call, const sb_secret_ref *ref, sb_bundle **out,
                        sb_version_info *v, sb_result *res)
{
    GUARD(inst == NULL || call == NULL || ref == NULL || ref->path == NULL || out == NULL, res);
    (void)v;
    *out = NULL;
    return host->fail(res, SB_E_NOT_FOUND, 0, "fixture: %s not found", ref->path);
}

static sb_status f_write(void *inst, const sb_call *call, const sb_secret_ref *ref, const sb_bundle *b,
                         const char *expected, sb_version_info *v, sb_result *res)
{
    GUARD(inst == NULL || call == NULL || ref == NULL || ref->path == NULL || b == NULL, res);
    (void)expected, (void)v;
#ifdef FIXTURE_LAZY_WRITE
    return SB_OK; /* the bug under test: claims success, stores nothing */
#else
    return host->fail(res, SB_E_UNSUPPORTED, 0, "fixture: read-only");
#endif
}

static sb_status f_describe(void *inst, const sb_call *call, const sb_secret_ref *ref,
                            sb_metadata_sink emit, void *sink, sb_result *res)
{
    GUARD(inst == NULL || call == NULL || ref == NULL || ref->path == NULL || emit == NULL, res);
    (void)sink;
    return host->fail(res, SB_E_NOT_FOUND, 0, "fixture: %s not found", ref->path);
}

static sb_status f_list(void *inst, const sb_call *call, const sb_list_query *q, sb_metadata_sink emit,
                        void *sink, sb_text *cursor, sb_result *res)
{
    GUARD(inst == NULL || call == NULL || q == NULL || emit == NULL || cursor == NULL, res);
    (void)sink, (void)cursor; /* one page: the cursor stays empty */
#ifdef FIXTURE_CRASHY
    return (sb_status)strlen(q->prefix); /* crashes on NULL */
#else
    return SB_OK;
#endif
}

static const sb_provider_ops ops = {
    .struct_size = sizeof(sb_provider_ops),
    .read = f_read,
#ifndef FIXTURE_NULL_SLOT
    .write = f_write,
#endif
    .describe = f_describe,
    .list = f_list,
};

#ifndef FIXTURE_NO_ENTRY
SB_PLUGIN_EXPORT const sb_plugin *sbridge_plugin_v1(void);
SB_PLUGIN_EXPORT const sb_plugin *sbridge_plugin_v1(void)
{
    static sb_plugin d = {
        .magic = SB_PLUGIN_MAGIC,
        .abi_major = SB_PLUGIN_ABI_MAJOR,
        .abi_minor = SB_PLUGIN_ABI_MINOR,
        .struct_size = sizeof(sb_plugin),
        .name = FIXTURE_NAME,
        .version = "0.1.0",
        .vendor = "Secrets Bridge tests",
        .license = "Apache-2.0",
        .description = "ABI test fixture",
        .capabilities = SB_CAP_PROVIDER,
#ifdef FIXTURE_LAZY_WRITE
        .provider_features = SB_PROV_READ | SB_PROV_WRITE | SB_PROV_CAS | SB_PROV_LIST,
#else
        .provider_features = SB_PROV_READ | SB_PROV_LIST,
#endif
        .thread_model = SB_THREAD_SERIAL,
        .config_field_size = sizeof(sb_config_field),
        .init = f_init,
        .instance_new = f_new,
        .instance_free = f_free,
        .provider = &ops,
    };
#ifdef FIXTURE_MAJOR
    d.abi_major = FIXTURE_MAJOR;
#endif
#ifdef FIXTURE_MINOR
    d.abi_minor = FIXTURE_MINOR;
#endif
#ifdef FIXTURE_REQUIRES
    d.requires_minor = FIXTURE_REQUIRES;
#endif
#ifdef FIXTURE_SHORT
    d.struct_size = (uint32_t)offsetof(sb_plugin, provider);
#endif
#ifdef FIXTURE_BAD_MAGIC
    d.magic = 0xdeadbeef;
#endif
    return &d;
}
#else
SB_PLUGIN_EXPORT int not_a_plugin(void);
SB_PLUGIN_EXPORT int not_a_plugin(void) { return 42; }
#endif
