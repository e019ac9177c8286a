/* test_abi_compat.c — the ABI compatibility matrix: which plugin loads on
 * which host, and that a plugin built with a newer header than the minor it
 * requires runs on the older host without touching what that host lacks.
 *
 *   plugin                                    1.0 host           1.1-shaped host
 *   built 1.0, requires 0 (abi_ok)            loads              loads, runs
 *   built 1.1, requires 0 (abi_v1_1_req_0)    loads, falls back  loads, uses 1.1
 *   built 1.1, requires 1 (abi_v1_1_req_1)    refused, says why  loads, uses 1.1
 *   built 1.7, requires 0 (abi_built_newer)   loads              loads
 *
 * and, for ABI 1.1's first real addition, sb_gitops_ops.list_applications,
 * through the control plane's GitOps client on this (1.1) host:
 *   gitops_v1_0 (built for 1.0: vtable ends after observe; a poison slot
 *     past it aborts)       loads; listing refused, naming the plugin and
 *                           its ABI; the slot past struct_size never read
 *   gitops_null_list (1.1, slot NULL)   loads; listing refused likewise
 *   gitops_requires_1_1 (requires 1.1)  refused by a 1.0 host; loads and
 *                           lists here (project filter, bounded listing)
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/secure_mem.h"
#include "plugin/descriptor.h"
#include "plugin/gitops_client.h"
#include "plugin/host_api.h"
#include "plugin/loader.h"
#include "plugin/text.h"

static const sb_loader_abi host_1_0 = {1, 0}, host_1_1 = {1, 1};

/* A host API table as a 1.1 host would hand it over: the 1.0 table
 * followed by the function the "1.1" fixture header appends. With
 * struct_size of 1.0 it is a 1.0 table, and calling past it is caught. */
typedef struct {
    sb_host_api v1_0;
    int (*fixture_v1_1_twice)(int x);
} host_table_1_1;

static int newer_calls;
static int twice(int x)
{
    newer_calls++;
    return 2 * x;
}

static host_table_1_1 table(int minor)
{
    host_table_1_1 t;
    t.v1_0 = *sb_host_api_table();
    t.v1_0.abi_minor = (uint16_t)minor;
    t.v1_0.struct_size = minor >= 1 ? (uint32_t)sizeof t : (uint32_t)sizeof(sb_host_api);
    t.fixture_v1_1_twice = twice;
    return t;
}

static int load(const char *file, const sb_loader_abi *abi, sb_loaded_plugin *p, sb_error *err)
{
    return sb_plugin_load_file(SB_TEST_PLUGIN_DIR, file, NULL, abi, p, err);
}

/* init with `host`, then read: the fixture's message says which path ran. */
static void run_read(const sb_plugin *d, const sb_host_api *host, char *msg, size_t cap)
{
    sb_result res = SB_RESULT_INIT;
    cr_assert_eq(d->init(host, &res), SB_OK, "init: %s", res.message);
    void *inst = NULL;
    cr_assert_eq(d->instance_new(NULL, &inst, &res), SB_OK);
    sb_call_ctx ctx;
    sb_call_begin(&ctx, d->name, "compat", NULL, 1000);
    sb_secret_ref ref = {sizeof ref, 0, "x", NULL};
    sb_bundle *out = NULL;
    sb_text *version = sb_text_new();
    sb_version_info v = {sizeof v, 0, version, 0};
    d->provider->read(inst, &ctx.call, &ref, &out, &v, &res);
    snprintf(msg, cap, "%s", res.message);
    d->instance_free(inst);
    sb_text_free(version);
    sb_result_release(&res);
}

static void setup(void) { cr_assert_eq(sb_crypto_init(), 0); }
TestSuite(abi_compat, .init = setup);

Test(abi_compat, a_1_0_plugin_loads_on_1_0_and_on_a_1_1_shaped_host)
{
    sb_loaded_plugin p;
    sb_error err;
    cr_assert_eq(load("abi_ok.so", &host_1_0, &p, &err), 0, "%s", err.message);
    cr_assert_eq(p.desc->abi_minor, 0, "abi_ok is built as with the 1.0 header");
    cr_assert_eq(p.desc->requires_minor, 0);
    sb_plugin_unload(&p);
    cr_assert_eq(load("abi_ok.so", &host_1_1, &p, &err), 0, "%s", err.message);
    host_table_1_1 t = table(1);
    sb_result res = SB_RESULT_INIT;
    cr_assert_eq(p.desc->init(&t.v1_0, &res), SB_OK, "a 1.0 plugin initialises with a 1.1 host table");
    sb_plugin_unload(&p);
}

Test(abi_compat, a_plugin_built_with_1_1_that_requires_1_0_runs_on_a_1_0_host)
{
    sb_loaded_plugin p;
    sb_error err;
    cr_assert_eq(load("abi_v1_1_requires_0.so", &host_1_0, &p, &err), 0,
                 "a plugin rebuilt with the 1.1 header that uses nothing new must load on 1.0: %s",
                 err.message);
    cr_assert_eq(p.desc->abi_minor, 1, "SB_PLUGIN_DEFINE stamps the header's minor as built-with");
    cr_assert_eq(p.desc->requires_minor, 0, "SB_PLUGIN_REQUIRES_MINOR defaults to 0");
    cr_assert_gt(p.desc->struct_size, sizeof(sb_plugin), "its descriptor has the 1.1 field appended");

    /* On the 1.0 table it checks SB_HAS_FIELD and falls back... */
    host_table_1_1 t = table(0);
    newer_calls = 0;
    char msg[256];
    run_read(p.desc, &t.v1_0, msg, sizeof msg);
    cr_assert_eq(newer_calls, 0, "the plugin called a host function past the 1.0 table's struct_size");
    cr_assert_str_eq(msg, "newer host function: not available");
    /* ...and on a 1.1 table it uses the newer function. */
    t = table(1);
    run_read(p.desc, &t.v1_0, msg, sizeof msg);
    cr_assert_eq(newer_calls, 1);
    cr_assert_str_eq(msg, "newer host function: 42");
    sb_plugin_unload(&p);
}

Test(abi_compat, a_plugin_that_requires_1_1_is_refused_by_a_1_0_host_with_the_reason)
{
    sb_loaded_plugin p;
    sb_error err;
    cr_assert_neq(load("abi_v1_1_requires_1.so", &host_1_0, &p, &err), 0, "a 1.0 host loaded a plugin that requires 1.1");
    cr_assert_not_null(strstr(err.message, "requires plugin ABI 1.1 or newer (built with 1.1), but this "
                                           "sbridge speaks ABI 1.0"),
                       "%s", err.message);
    cr_assert_not_null(strstr(err.message, "upgrade sbridge to a release with ABI 1.1"), "%s", err.message);
    cr_assert_not_null(strstr(err.message, "SB_PLUGIN_REQUIRES_MINOR"), "%s", err.message);

    cr_assert_eq(load("abi_v1_1_requires_1.so", &host_1_1, &p, &err), 0, "%s", err.message);
    cr_assert_eq(p.desc->requires_minor, 1);
    host_table_1_1 t = table(1);
    newer_calls = 0;
    char msg[256];
    run_read(p.desc, &t.v1_0, msg, sizeof msg);
    cr_assert_eq(newer_calls, 1);
    cr_assert_str_eq(msg, "newer host function: 42");
    sb_plugin_unload(&p);
}

Test(abi_compat, the_built_with_minor_alone_never_refuses)
{
    sb_loaded_plugin p;
    sb_error err;
    cr_assert_eq(load("abi_built_newer.so", &host_1_0, &p, &err), 0, "%s", err.message);
    cr_assert_eq(p.desc->abi_minor, 7);
    sb_plugin_unload(&p);
}

Test(abi_compat, requiring_more_than_the_header_provides_is_refused)
{
    sb_plugin d = {.magic = SB_PLUGIN_MAGIC, .abi_major = 1, .abi_minor = 0, .struct_size = sizeof d,
                   .requires_minor = 2};
    sb_error err;
    cr_assert_neq(sb_descriptor_check(&d, 1, 5, &err), 0);
    cr_assert_not_null(strstr(err.message, "requires plugin ABI 1.2 but was built with the ABI 1.0 header"),
                       "%s", err.message);
}

/* ---- list_applications (ABI 1.1) through the GitOps client ---------------------- */

static sb_plugin_slot gitops_slot(const char *file, const sb_loader_abi *abi)
{
    sb_plugin_slot s = {0};
    sb_error err;
    cr_assert_eq(load(file, abi, &s.loaded, &err), 0, "%s: %s", file, err.message);
    sb_result res = SB_RESULT_INIT;
    cr_assert_eq(s.loaded.desc->init(sb_host_api_table(), &res), SB_OK, "%s", res.message);
    s.initialized = 1;
    return s;
}

static const sb_gitops_target fixture_target = {"argo-fixture", "https://argocd.internal", NULL,
                                                NULL, NULL, "fixture-token"};

static void expect_cannot_list(const char *file, const char *says)
{
    sb_plugin_slot s = gitops_slot(file, &host_1_1);
    sb_error err = {0};
    cr_assert_eq(sb_gitops_client_can_list(&s, &err), 0, "%s", file);
    cr_assert_eq(err.code, SB_E_UNSUPPORTED);
    cr_assert_not_null(strstr(err.message, says), "%s", err.message);
    cr_assert_not_null(strstr(err.message, "upgrade it"), "%s", err.message);
    json_t *items = NULL;
    int truncated = 0;
    memset(&err, 0, sizeof err);
    cr_assert_eq(sb_gitops_client_list(&s, &fixture_target, NULL, 10, &items, &truncated, &err), -1);
    cr_assert_null(items);
    cr_assert_not_null(strstr(err.message, says), "%s", err.message);
    sb_plugin_unload(&s.loaded);
}

Test(abi_compat, a_gitops_plugin_built_for_1_0_loads_on_1_1_and_is_told_to_upgrade_to_list)
{
    expect_cannot_list("gitops_v1_0.so",
                       "this GitOps plugin (gitops-v1-0 0.3.0, built for ABI 1.0) cannot list "
                       "applications");
    /* ...and it still observes: its 1.0 slots are untouched by 1.1 */
    sb_plugin_slot s = gitops_slot("gitops_v1_0.so", &host_1_1);
    char *state = NULL;
    sb_error err = {0};
    cr_assert_eq(sb_gitops_client_baseline(&s, &fixture_target, "web", &state, &err), 0, "%s",
                 err.message);
    cr_assert_str_eq(state, "{}");
    free(state);
    sb_plugin_unload(&s.loaded);
}

Test(abi_compat, a_1_1_gitops_plugin_with_a_null_list_slot_loads_and_is_told_to_upgrade)
{
    expect_cannot_list("gitops_null_list.so",
                       "this GitOps plugin (gitops-null-list 0.3.0, built for ABI 1.1) does not "
                       "implement application listing");
}

Test(abi_compat, a_gitops_plugin_that_requires_1_1_lists_on_1_1_and_a_1_0_host_refuses_it)
{
    sb_loaded_plugin p;
    sb_error err = {0};
    cr_assert_neq(load("gitops_requires_1_1.so", &host_1_0, &p, &err), 0);
    cr_assert_not_null(strstr(err.message, "requires plugin ABI 1.1"), "%s", err.message);

    sb_plugin_slot s = gitops_slot("gitops_requires_1_1.so", &host_1_1);
    cr_assert_eq(s.loaded.desc->requires_minor, 1);
    cr_assert_eq(sb_gitops_client_can_list(&s, &err), 1);
    json_t *items = NULL;
    int truncated = -1;
    cr_assert_eq(sb_gitops_client_list(&s, &fixture_target, NULL, 10, &items, &truncated, &err), 0,
                 "%s", err.message);
    cr_assert_eq(json_array_size(items), 3);
    cr_assert_eq(truncated, 0);
    json_t *beta = json_array_get(items, 1);
    cr_assert_str_eq(json_string_value(json_object_get(beta, "name")), "beta");
    cr_assert_str_eq(json_string_value(json_object_get(beta, "project")), "team-b");
    cr_assert_str_eq(json_string_value(json_object_get(beta, "sync_status")), "OutOfSync");
    cr_assert_str_eq(json_string_value(json_object_get(beta, "destination")), "in-cluster");
    json_decref(items);

    cr_assert_eq(sb_gitops_client_list(&s, &fixture_target, "team-a", 10, &items, &truncated, &err),
                 0, "%s", err.message);
    cr_assert_eq(json_array_size(items), 2, "the project filter reached the plugin");
    json_decref(items);

    cr_assert_eq(sb_gitops_client_list(&s, &fixture_target, NULL, 2, &items, &truncated, &err), 0,
                 "a bounded listing stopped by the host is not a failure: %s", err.message);
    cr_assert_eq(json_array_size(items), 2);
    cr_assert_eq(truncated, 1);
    json_decref(items);
    sb_plugin_unload(&s.loaded);
}
