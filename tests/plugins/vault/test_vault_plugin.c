/*
 * tests/plugins/vault/test_vault_plugin.c — the Vault plugin's PROVIDER
 * (KV v2) through the real loader and host API against the Vault emulator:
 * descriptor and schema, read (latest, by version, missing, deleted,
 * destroyed), CAS write, GET-merge-PUT against a concurrent writer,
 * describe, the recursive list of thousands of secrets with labels, a
 * selector, paging and the configured prefix, namespaces and headers, and
 * argument validation. Every test also checks that no secure memory leaks
 * across the ABI.
 */
#include "abi_outputs.h"
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vault_test_support.h"

static void setup(void) { vt_emulator_start(NULL); }
static void teardown(void) { es_emulator_stop(); }

TestSuite(vault_kv, .init = setup, .fini = teardown, .timeout = 180);

#define ROOT "auth: token\ntoken: root\n"

static sb_status do_read(sb_harness *h, const char *path, const char *version, sb_bundle **out,
                         sb_version_info *v, sb_result *res)
{
    sb_secret_ref ref = {sizeof ref, 0, path, version};
    v->struct_size = sizeof *v;
    return es_provider(h)->read(sb_harness_instance(h), sb_harness_call(h, 10000), &ref, out, v,
                                res);
}

static sb_status do_write(sb_harness *h, const char *path, const sb_bundle *b,
                          const char *expected, sb_version_info *v, sb_result *res)
{
    sb_secret_ref ref = {sizeof ref, 0, path, NULL};
    v->struct_size = sizeof *v;
    return es_provider(h)->write(sb_harness_instance(h), sb_harness_call(h, 10000), &ref, b,
                                 expected, v, res);
}

static sb_status do_list(sb_harness *h, const char *prefix, const sb_kv *sel, size_t n_sel,
                         const char *cursor, uint32_t page, es_sink *sink,
                         sb_text *next, sb_result *res)
{
    sb_list_query q = {sizeof q, page, prefix, sel, n_sel, cursor};
    return es_provider(h)->list(sb_harness_instance(h), sb_harness_call(h, 120000), &q,
                                es_sink_collect, sink, next, res);
}

/* Lists everything under prefix, following cursors; returns the page count. */
static size_t list_all(sb_harness *h, const char *prefix, const sb_kv *sel, size_t n_sel,
                       uint32_t page, es_sink *sink)
{
    sb_text *cursor = sb_test_text(), *next = sb_test_text();
    size_t pages = 0;
    do {
        SB_TEST_RESULT res = SB_RESULT_INIT;
        const char *from = SB_TEST_STR(cursor);
        sb_status st = do_list(h, prefix, sel, n_sel, from[0] ? from : NULL, page, sink, next, &res);
        cr_assert_eq(st, SB_OK, "list page %zu: %d %s", pages, st, res.message);
        pages++;
        cr_assert_lt(pages, 1000, "list does not terminate");
        sb_text_set(cursor, SB_TEST_STR(next));
    } while (SB_TEST_STR(cursor)[0]);
    return pages;
}

/* ---- descriptor and schema ------------------------------------------------- */

Test(vault_kv, descriptor_declares_provider_and_kms)
{
    sb_harness *h = vt_open(ROOT);
    const sb_plugin *d = sb_harness_descriptor(h);
    cr_assert_str_eq(d->name, "vault");
    cr_assert_eq(d->capabilities, SB_CAP_PROVIDER | SB_CAP_KMS);
    uint64_t want = SB_PROV_READ | SB_PROV_WRITE | SB_PROV_CAS | SB_PROV_LIST | SB_PROV_LABELS |
                    SB_PROV_VERSIONS | SB_PROV_DESCRIBE;
    cr_assert_eq(d->provider_features, want);
    cr_assert_eq(d->thread_model, SB_THREAD_SERIAL);
    int secrets = 0;
    for (size_t i = 0; i < d->n_config_fields; i++) {
        const sb_config_field *f = &d->config_fields[i];
        cr_assert(f->help && f->help[0], "%s has no help", f->key);
        if (f->flags & SB_CFG_SECRET) {
            secrets++;
            cr_assert_null(f->default_value, "secret %s has a default", f->key);
        }
    }
    cr_assert_eq(secrets, 2, "token and secret_id are the secret fields");
    sb_harness_close(h);
}

Test(vault_kv, config_errors_are_reported_before_any_request)
{
    char err[2048];
    /* auth defaults to token: the token is required. */
    cr_assert_null(vt_try_open("", err, sizeof err));
    cr_assert(strstr(err, "token"), "%s", err);
    cr_assert_null(vt_try_open("auth: approle\nrole_id: r\n", err, sizeof err));
    cr_assert(strstr(err, "secret_id"), "%s", err);
    cr_assert_null(vt_try_open("auth: kubernetes\n", err, sizeof err));
    cr_assert(strstr(err, "role"), "%s", err);
    cr_assert_null(vt_try_open("token: hvs.TOPSECRET\nrole_id: x\n", err, sizeof err));
    cr_assert(strstr(err, "only applies when auth=approle"), "%s", err);
    cr_assert_null(vt_try_open("token: hvs.TOPSECRET\nrequest_timeout: 10m\n", err, sizeof err));
    cr_assert_null(vt_try_open("token: hvs.TOPSECRET\nkv_mount: a/../b\n", err, sizeof err));
    cr_assert(strstr(err, "kv_mount"), "%s", err);
    cr_assert(strstr(err, "TOPSECRET") == NULL, "an error echoes the token: %s", err);
    cr_assert_null(vt_try_open("token: hvs.TOPSECRET\ntls_server_name: \"bad name\"\n", err,
                               sizeof err));
    cr_assert(strstr(err, "tls_server_name: must be a DNS name"), "%s", err);
    /* Plain http to a non-loopback host needs explicit consent. */
    cr_assert_null(sb_harness_open(SB_TEST_PLUGIN_PATH,
                                   "address: http://vault.example.com:8200\n" ROOT, err,
                                   sizeof err));
    cr_assert(strstr(err, "allow_insecure_http"), "%s", err);
    sb_harness *h = sb_harness_open(SB_TEST_PLUGIN_PATH,
                                    "address: http://vault.example.com:8200\n" ROOT
                                    "allow_insecure_http: true\n",
                                    err, sizeof err);
    cr_assert_not_null(h, "%s", err);
    sb_harness_close(h);
    /* instance_new makes no request: login is lazy. */
    h = vt_open(ROOT);
    cr_assert_eq(vt_count_requests(h, NULL, NULL), 0);
    sb_harness_close(h);
}

/* ---- read ------------------------------------------------------------------- */

Test(vault_kv, read_latest_and_by_version)
{
    es_admin_ok("POST", "kv/secret/app/db",
                "{\"data\":{\"username\":\"admin\",\"password\":\"v1-pw\",\"port\":5432,"
                "\"opts\":{\"ssl\":true}}}");
    es_admin_ok("POST", "kv/secret/app/db",
                "{\"data\":{\"username\":\"admin\",\"password\":\"v2-pw\",\"port\":5432,"
                "\"opts\":{\"ssl\":true}}}");
    es_admin_ok("POST", "kv/secret/app/db", "{\"data\":{\"username\":\"admin\",\"password\":"
                                            "\"v3-pw\"}}");
    sb_harness *h = vt_open(ROOT);
    long base = sb_harness_live_secure_allocations();
    const sb_host_api *host = es_host(h);

    sb_version_info v = SB_TEST_VERSION_INFO;
    sb_bundle *b = es_read_ok(h, "app/db", NULL, &v);
    cr_assert_str_eq(SB_TEST_STR(v.version), "3");
    cr_assert_gt(v.created_unix_ms, 1600000000000LL);
    cr_assert_eq(v.flags, 0);
    cr_assert_eq(host->bundle_count(b), 2);
    char *pw = es_bundle_get(h, b, "password", NULL);
    cr_assert_str_eq(pw, "v3-pw");
    free(pw);
    host->bundle_free(b);

    b = es_read_ok(h, "app/db", "2", &v);
    cr_assert_str_eq(SB_TEST_STR(v.version), "2");
    sb_value_kind kind;
    pw = es_bundle_get(h, b, "password", &kind);
    cr_assert_str_eq(pw, "v2-pw");
    cr_assert_eq(kind, SB_VALUE_STRING);
    free(pw);
    char *port = es_bundle_get(h, b, "port", &kind);
    cr_assert_str_eq(port, "5432");
    cr_assert_eq(kind, SB_VALUE_JSON, "non-string values are kept as JSON");
    free(port);
    char *opts = es_bundle_get(h, b, "opts", &kind);
    cr_assert_str_eq(opts, "{\"ssl\":true}");
    free(opts);
    host->bundle_free(b);
    cr_assert_eq(vt_count_requests(h, "GET", "/v1/secret/data/app/db"), 2);
    cr_assert_eq(sb_harness_live_secure_allocations(), base, "secure memory leaked");
    sb_harness_close(h);
}

Test(vault_kv, read_missing_path_and_version_is_not_found)
{
    es_admin_ok("POST", "kv/secret/app/db", "{\"data\":{\"k\":\"v\"}}");
    sb_harness *h = vt_open(ROOT);
    long base = sb_harness_live_secure_allocations();
    sb_bundle *out = (sb_bundle *)0x1;
    sb_version_info v = SB_TEST_VERSION_INFO;
    SB_TEST_RESULT res = SB_RESULT_INIT;
    cr_assert_eq(do_read(h, "app/nope", NULL, &out, &v, &res), SB_E_NOT_FOUND, "%s", res.message);
    cr_assert_null(out);
    cr_assert_str_eq(SB_TEST_STR(v.version), "");
    sb_result_release(&res);
    cr_assert_eq(do_read(h, "app/db", "7", &out, &v, &res), SB_E_NOT_FOUND, "%s", res.message);
    cr_assert(strstr(res.message, "version 7"), "%s", res.message);
    cr_assert_eq(sb_harness_live_secure_allocations(), base);
    sb_harness_close(h);
}

Test(vault_kv, read_deleted_and_destroyed_versions_are_gone_with_flags)
{
    es_admin_ok("POST", "kv/secret/app/db", "{\"data\":{\"k\":\"one\"}}");
    es_admin_ok("POST", "kv/secret/app/db", "{\"data\":{\"k\":\"two\"}}");
    es_admin_ok("POST", "kv/secret/app/db", "{\"data\":{\"k\":\"three\"}}");
    cr_assert_eq(vt_vault("POST", "secret/delete/app/db", "root", NULL, "{\"versions\":[1]}",
                          NULL, NULL),
                 204);
    cr_assert_eq(vt_vault("POST", "secret/destroy/app/db", "root", NULL, "{\"versions\":[2]}",
                          NULL, NULL),
                 204);
    sb_harness *h = vt_open(ROOT);
    long base = sb_harness_live_secure_allocations();
    sb_bundle *out = NULL;
    sb_version_info v = SB_TEST_VERSION_INFO;
    SB_TEST_RESULT res = SB_RESULT_INIT;
    cr_assert_eq(do_read(h, "app/db", "1", &out, &v, &res), SB_E_GONE, "%s", res.message);
    cr_assert_null(out);
    cr_assert_eq(v.flags, SB_VERSION_DELETED);
    cr_assert_str_eq(SB_TEST_STR(v.version), "1");
    cr_assert(strstr(res.message, "deleted"), "%s", res.message);
    sb_result_release(&res);
    cr_assert_eq(do_read(h, "app/db", "2", &out, &v, &res), SB_E_GONE, "%s", res.message);
    cr_assert(v.flags & SB_VERSION_DESTROYED);
    cr_assert(strstr(res.message, "destroyed"), "%s", res.message);
    /* Latest soft-deleted: reading "latest" is gone too. */
    cr_assert_eq(vt_vault("DELETE", "secret/data/app/db", "root", NULL, NULL, NULL, NULL), 204);
    sb_result_release(&res);
    cr_assert_eq(do_read(h, "app/db", NULL, &out, &v, &res), SB_E_GONE, "%s", res.message);
    cr_assert_eq(v.flags, SB_VERSION_DELETED);
    cr_assert_str_eq(SB_TEST_STR(v.version), "3");
    cr_assert_eq(sb_harness_live_secure_allocations(), base);
    sb_harness_close(h);
}

/* ---- write -------------------------------------------------------------------- */

Test(vault_kv, write_create_then_update_with_cas)
{
    sb_harness *h = vt_open(ROOT);
    const sb_host_api *host = es_host(h);
    long base = sb_harness_live_secure_allocations();
    sb_bundle *b = es_bundle(h, "user", "svc", "password", "first-secret", NULL);
    sb_version_info v = SB_TEST_VERSION_INFO;
    SB_TEST_RESULT res = SB_RESULT_INIT;
    cr_assert_eq(do_write(h, "new/one", b, SB_CAS_CREATE, &v, &res), SB_OK, "%s", res.message);
    cr_assert_str_eq(SB_TEST_STR(v.version), "1");
    cr_assert_gt(v.created_unix_ms, 0);
    /* Create again: the secret exists now. */
    sb_result_release(&res);
    cr_assert_eq(do_write(h, "new/one", b, SB_CAS_CREATE, &v, &res), SB_E_CONFLICT, "%s",
                 res.message);
    cr_assert_str_eq(SB_TEST_STR(v.version), "");
    cr_assert(strstr(res.message, "first-secret") == NULL);
    sb_result_release(&res);
    cr_assert_eq(do_write(h, "new/one", b, "1", &v, &res), SB_OK, "%s", res.message);
    cr_assert_str_eq(SB_TEST_STR(v.version), "2");
    /* A stale token. */
    sb_result_release(&res);
    cr_assert_eq(do_write(h, "new/one", b, "1", &v, &res), SB_E_CONFLICT, "%s", res.message);
    host->bundle_free(b);

    /* The wire body is exactly {"options":{"cas":N},"data":{...}}. */
    char *log = vt_requests();
    cr_assert(strstr(log, "\"body\": {\"options\": {\"cas\": 0}, \"data\": {\"user\": \"svc\", "
                          "\"password\": \"first-secret\"}}"),
              "%s", log);
    cr_assert(strstr(log, "\"options\": {\"cas\": 1}"), "%s", log);
    free(log);
    cr_assert_eq(sb_harness_live_secure_allocations(), base);
    sb_harness_close(h);
}

Test(vault_kv, write_requires_a_cas_token)
{
    sb_harness *h = vt_open(ROOT);
    long base = sb_harness_live_secure_allocations();
    sb_bundle *b = es_bundle(h, "k", "v", NULL);
    sb_version_info v = SB_TEST_VERSION_INFO;
    SB_TEST_RESULT res = SB_RESULT_INIT;
    cr_assert_eq(do_write(h, "x", b, NULL, &v, &res), SB_E_INVALID);
    cr_assert(strstr(res.message, "compare-and-set token required"), "%s", res.message);
    sb_result_release(&res);
    cr_assert_eq(do_write(h, "x", b, "abc", &v, &res), SB_E_INVALID);
    sb_result_release(&res);
    cr_assert_eq(do_write(h, "x", b, "-1", &v, &res), SB_E_INVALID);
    cr_assert_eq(vt_count_requests(h, "POST", "/v1/secret/data/"), 0,
                 "an invalid write must not reach Vault");
    es_host(h)->bundle_free(b);
    cr_assert_eq(sb_harness_live_secure_allocations(), base);
    sb_harness_close(h);
}

Test(vault_kv, single_value_bundle_is_written_as_value_key)
{
    sb_harness *h = vt_open(ROOT);
    const sb_host_api *host = es_host(h);
    sb_bundle *b = host->bundle_new(SB_SHAPE_SINGLE);
    cr_assert_eq(host->bundle_put(b, "value", SB_VALUE_STRING, (const unsigned char *)"raw", 3), 0);
    sb_version_info v = SB_TEST_VERSION_INFO;
    SB_TEST_RESULT res = SB_RESULT_INIT;
    cr_assert_eq(do_write(h, "single", b, SB_CAS_CREATE, &v, &res), SB_OK, "%s", res.message);
    host->bundle_free(b);
    sb_bundle *r = es_read_ok(h, "single", NULL, NULL);
    char *val = es_bundle_get(h, r, "value", NULL);
    cr_assert_str_eq(val, "raw");
    free(val);
    host->bundle_free(r);
    sb_harness_close(h);
}

/* GET–merge–PUT of one key while another writer changes a different key. */
Test(vault_kv, get_merge_put_survives_a_concurrent_writer)
{
    es_admin_ok("POST", "kv/secret/app/db",
                "{\"data\":{\"username\":\"admin\",\"password\":\"old-pw\",\"port\":\"5432\"},"
                "\"custom_metadata\":{\"owner\":\"team-a\",\"env\":\"prod\"}}");
    sb_harness *h = vt_open(ROOT);
    const sb_host_api *host = es_host(h);
    long base = sb_harness_live_secure_allocations();

    /* Our read. */
    sb_version_info v = SB_TEST_VERSION_INFO;
    sb_bundle *mine = es_read_ok(h, "app/db", NULL, &v);
    cr_assert_str_eq(SB_TEST_STR(v.version), "1");
    char read_version[64];
    snprintf(read_version, sizeof read_version, "%s", SB_TEST_STR(v.version));

    /* Another writer does its own GET-merge-PUT of "port" in between. */
    cr_assert_eq(vt_vault("POST", "secret/data/app/db", "root", NULL,
                          "{\"options\":{\"cas\":1},\"data\":{\"username\":\"admin\","
                          "\"password\":\"old-pw\",\"port\":\"6432\"}}",
                          NULL, NULL),
                 200);

    /* Our merge of "password" and CAS write: conflict. */
    const char *new_pw = "n3w-Pa55-w0rd";
    cr_assert_eq(host->bundle_put(mine, "password", SB_VALUE_STRING,
                                  (const unsigned char *)new_pw, strlen(new_pw)),
                 0);
    SB_TEST_RESULT res = SB_RESULT_INIT;
    sb_version_info nv = SB_TEST_VERSION_INFO;
    cr_assert_eq(do_write(h, "app/db", mine, read_version, &nv, &res), SB_E_CONFLICT, "%s",
                 res.message);
    cr_assert(strstr(res.message, new_pw) == NULL, "the message leaks the value");
    cr_assert(strstr(res.message, "compare-and-set"), "%s", res.message);
    host->bundle_free(mine);

    /* Retry: re-read, merge again, write with the new version. */
    mine = es_read_ok(h, "app/db", NULL, &v);
    cr_assert_str_eq(SB_TEST_STR(v.version), "2");
    cr_assert_eq(host->bundle_put(mine, "password", SB_VALUE_STRING,
                                  (const unsigned char *)new_pw, strlen(new_pw)),
                 0);
    sb_result_release(&res);
    cr_assert_eq(do_write(h, "app/db", mine, SB_TEST_STR(v.version), &nv, &res), SB_OK, "%s", res.message);
    cr_assert_str_eq(SB_TEST_STR(nv.version), "3");
    host->bundle_free(mine);

    /* Both changes survive; key order and other keys are kept. */
    sb_bundle *final = es_read_ok(h, "app/db", NULL, &v);
    char *pw = es_bundle_get(h, final, "password", NULL);
    char *port = es_bundle_get(h, final, "port", NULL);
    char *user = es_bundle_get(h, final, "username", NULL);
    cr_assert_str_eq(pw, new_pw);
    cr_assert_str_eq(port, "6432");
    cr_assert_str_eq(user, "admin");
    free(pw);
    free(port);
    free(user);
    host->bundle_free(final);

    /* custom_metadata untouched, and never written by the plugin. */
    cr_assert_eq(vt_count_requests(h, NULL, "/v1/secret/metadata/"), 0);
    char *meta = NULL;
    cr_assert_eq(vt_vault("GET", "secret/metadata/app/db", "root", NULL, NULL, NULL, &meta), 200);
    cr_assert(strstr(meta, "\"custom_metadata\":{\"env\":\"prod\",\"owner\":\"team-a\"}"), "%s",
              meta);
    free(meta);
    cr_assert_eq(sb_harness_live_secure_allocations(), base);
    sb_harness_close(h);
}

/* ---- describe ----------------------------------------------------------------- */

Test(vault_kv, describe_returns_custom_metadata_verbatim)
{
    es_admin_ok("POST", "kv/secret/app/db",
                "{\"data\":{\"k\":\"v\"},\"custom_metadata\":{\"Owner\":\"Team A\","
                "\"cost-center\":\"42\",\"unicode\":\"caf\\u00e9\"}}");
    es_admin_ok("POST", "kv/secret/app/db", "{\"data\":{\"k\":\"v2\"}}");
    sb_harness *h = vt_open(ROOT);
    long base = sb_harness_live_secure_allocations();
    es_sink sink = {0};
    sb_secret_ref ref = {sizeof ref, 0, "app/db", NULL};
    SB_TEST_RESULT res = SB_RESULT_INIT;
    cr_assert_eq(es_provider(h)->describe(sb_harness_instance(h), sb_harness_call(h, 5000), &ref,
                                          es_sink_collect, &sink, &res),
                 SB_OK, "%s", res.message);
    cr_assert_eq(sink.n, 1);
    cr_assert_str_eq(sink.items[0].path, "app/db");
    cr_assert_str_eq(sink.items[0].version, "2");
    cr_assert_str_eq(sink.items[0].labels, "Owner=Team A;cost-center=42;unicode=caf\xc3\xa9;");
    cr_assert_gt(sink.items[0].created, 0);
    cr_assert_geq(sink.items[0].updated, sink.items[0].created);
    cr_assert_eq(sink.items[0].flags, 0);
    es_sink_free(&sink);

    /* Current version soft-deleted: flagged. */
    cr_assert_eq(vt_vault("DELETE", "secret/data/app/db", "root", NULL, NULL, NULL, NULL), 204);
    sb_result_release(&res);
    cr_assert_eq(es_provider(h)->describe(sb_harness_instance(h), sb_harness_call(h, 5000), &ref,
                                          es_sink_collect, &sink, &res),
                 SB_OK, "%s", res.message);
    cr_assert_eq(sink.items[0].flags, SB_VERSION_DELETED);
    es_sink_free(&sink);

    ref.path = "app/none";
    sb_result_release(&res);
    cr_assert_eq(es_provider(h)->describe(sb_harness_instance(h), sb_harness_call(h, 5000), &ref,
                                          es_sink_collect, &sink, &res),
                 SB_E_NOT_FOUND);
    cr_assert_eq(sink.n, 0);
    cr_assert_eq(sb_harness_live_secure_allocations(), base);
    sb_harness_close(h);
}

/* ---- list --------------------------------------------------------------------- */

#define TEAMS 10
#define APPS 25
#define PER_APP 10

/* Seeds TEAMS*APPS*PER_APP leaves t<T>/app<A>/s<S> plus one t<T>/top each,
 * labelled team=t<T>, env=prod|dev (by S parity), through kv-bulk. */
static size_t seed_tree(void)
{
    size_t cap = 1 << 20, len = 0, n = 0;
    char *json = malloc(cap);
    len += (size_t)snprintf(json + len, cap - len, "{\"mount\":\"secret\",\"items\":[");
    for (int t = 0; t < TEAMS; t++) {
        for (int a = -1; a < APPS; a++) {
            for (int s = 0; s < (a < 0 ? 1 : PER_APP); s++) {
                if (cap - len < 512)
                    json = realloc(json, cap *= 2);
                char path[64];
                if (a < 0)
                    snprintf(path, sizeof path, "t%d/top", t);
                else
                    snprintf(path, sizeof path, "t%d/app%d/s%d", t, a, s);
                len += (size_t)snprintf(json + len, cap - len,
                                        "%s{\"path\":\"%s\",\"data\":{\"v\":\"x\"},"
                                        "\"custom_metadata\":{\"team\":\"t%d\",\"env\":\"%s\"}}",
                                        n ? "," : "", path, t, s % 2 ? "dev" : "prod");
                n++;
            }
        }
    }
    len += (size_t)snprintf(json + len, cap - len, "]}");
    es_admin_ok("POST", "kv-bulk", json);
    free(json);
    return n;
}

Test(vault_kv, recursive_list_of_thousands_with_labels_selector_and_paging, .timeout = 300)
{
    size_t total = seed_tree();
    cr_assert_eq(total, TEAMS * (APPS * PER_APP + 1));
    es_admin_ok("POST", "kv/secret/zz-unlabelled", "{\"data\":{\"v\":\"x\"}}");
    total++;
    sb_harness *h = vt_open(ROOT);
    long base = sb_harness_live_secure_allocations();

    es_sink all = {0};
    size_t pages = list_all(h, "", NULL, 0, 0, &all);
    cr_assert_eq(all.n, total, "listed %zu of %zu", all.n, total);
    cr_assert_geq(pages, total / 500, "default page is 500 leaves: %zu pages", pages);
    for (size_t i = 1; i < all.n; i++)
        cr_assert_lt(strcmp(all.items[i - 1].path, all.items[i].path), 0,
                     "not strictly ordered (duplicate or skipped): %s then %s",
                     all.items[i - 1].path, all.items[i].path);
    const es_item *it = es_sink_find(&all, "t3/app7/s4");
    cr_assert_not_null(it);
    cr_assert_str_eq(it->labels, "env=prod;team=t3;");
    cr_assert_str_eq(it->version, "1");
    it = es_sink_find(&all, "t9/top");
    cr_assert_not_null(it);
    it = es_sink_find(&all, "zz-unlabelled");
    cr_assert_not_null(it);
    cr_assert_str_eq(it->labels, "");
    es_sink_free(&all);

    /* A label selector (ANDed pairs) over the whole tree. */
    sb_kv sel[] = {{"team", "t3"}, {"env", "dev"}};
    es_sink dev = {0};
    list_all(h, "", sel, 2, 1000, &dev);
    cr_assert_eq(dev.n, APPS * PER_APP / 2, "selector matched %zu", dev.n);
    for (size_t i = 0; i < dev.n; i++)
        cr_assert(strncmp(dev.items[i].path, "t3/", 3) == 0 &&
                      strstr(dev.items[i].labels, "env=dev;"),
                  "%s %s", dev.items[i].path, dev.items[i].labels);
    es_sink_free(&dev);

    /* A query prefix: a folder, then a string prefix inside a folder. */
    es_sink t5 = {0};
    list_all(h, "t5/", NULL, 0, 0, &t5);
    cr_assert_eq(t5.n, APPS * PER_APP + 1);
    es_sink_free(&t5);
    es_sink app1 = {0};
    list_all(h, "t5/app1", NULL, 0, 7, &app1); /* app1, app10..app19 */
    cr_assert_eq(app1.n, 11 * PER_APP);
    es_sink_free(&app1);
    cr_assert_eq(sb_harness_live_secure_allocations(), base, "secure memory leaked");
    sb_harness_close(h);
}

static void assert_same_items(const es_sink *a, const es_sink *b, const char *what)
{
    cr_assert_eq(a->n, b->n, "%s: %zu vs %zu items", what, a->n, b->n);
    for (size_t i = 0; i < a->n; i++) {
        cr_assert_str_eq(a->items[i].path, b->items[i].path, "%s: item %zu", what, i);
        cr_assert_str_eq(a->items[i].labels, b->items[i].labels, "%s: %s", what, a->items[i].path);
        cr_assert_str_eq(a->items[i].version, b->items[i].version, "%s: %s", what, a->items[i].path);
    }
}

/* Every listing the comparison below makes, on one host. */
#define N_LISTINGS 4
static void list_everything(int host_minor, es_sink *out, size_t *pages)
{
    static const uint32_t page_sizes[] = {0, 7, 130};
    /* One host at a time: both harnesses would share the plugin's globals. */
    sb_harness *h = vt_open_on_host_minor(ROOT, host_minor);
    cr_assert_eq(sb_harness_descriptor(h)->requires_minor, 0, "the plugin still runs on 1.0 hosts");
    long base = sb_harness_live_secure_allocations();
    for (size_t p = 0; p < 3; p++)
        pages[p] = list_all(h, "", NULL, 0, page_sizes[p], &out[p]);
    sb_kv sel[] = {{"env", "dev"}};
    pages[3] = list_all(h, "t4/app1", sel, 1, 9, &out[3]); /* a string prefix with a selector */
    cr_assert_eq(sb_harness_live_secure_allocations(), base, "secure memory leaked");
    sb_harness_close(h);
}

/* The plugin requires ABI 1.0: on a 1.1 host it lists and describes with
 * host->http_batch, on a 1.0 host (a table without it) one request at a
 * time, and both walks emit exactly the same items on the same pages. */
Test(vault_kv, list_uses_http_batch_on_a_1_1_host_and_is_the_same_on_a_1_0_host, .timeout = 300)
{
    size_t total = seed_tree();
    es_sink one_by_one[N_LISTINGS] = {0}, batched[N_LISTINGS] = {0};
    size_t pages0[N_LISTINGS], pages1[N_LISTINGS];
    long before = sb_harness_http_batches();
    list_everything(0, one_by_one, pages0);
    cr_assert_eq(sb_harness_http_batches(), before, "a 1.0 host's plugin called past its table");
    list_everything(SB_PLUGIN_ABI_MINOR, batched, pages1);
    cr_assert_gt(sb_harness_http_batches(), before, "on a 1.1 host the walk uses http_batch");
    cr_assert_eq(batched[0].n, total);
    cr_assert_gt(batched[3].n, 0);
    for (size_t i = 0; i < N_LISTINGS; i++) {
        cr_assert_eq(pages0[i], pages1[i], "listing %zu: %zu vs %zu pages", i, pages0[i], pages1[i]);
        assert_same_items(&one_by_one[i], &batched[i], "listing");
        es_sink_free(&one_by_one[i]);
        es_sink_free(&batched[i]);
    }
}

Test(vault_kv, list_is_confined_to_the_configured_prefix)
{
    es_admin_ok("POST", "kv/secret/team-a/db", "{\"data\":{\"k\":\"a\"},\"custom_metadata\":"
                                              "{\"team\":\"a\"}}");
    es_admin_ok("POST", "kv/secret/team-a/app/api", "{\"data\":{\"k\":\"a2\"}}");
    es_admin_ok("POST", "kv/secret/team-b/db", "{\"data\":{\"k\":\"b\"}}");
    es_admin_ok("POST", "kv/secret/team-ab/db", "{\"data\":{\"k\":\"ab\"}}");
    sb_harness *h = vt_open(ROOT "prefix: /team-a/\n");
    long base = sb_harness_live_secure_allocations();
    es_sink s = {0};
    list_all(h, NULL, NULL, 0, 0, &s);
    cr_assert_eq(s.n, 2);
    cr_assert_str_eq(s.items[0].path, "app/api");
    cr_assert_str_eq(s.items[1].path, "db");
    cr_assert_str_eq(s.items[1].labels, "team=a;");
    es_sink_free(&s);

    /* Paths are relative to the prefix both ways. */
    sb_bundle *b = es_read_ok(h, "db", NULL, NULL);
    char *k = es_bundle_get(h, b, "k", NULL);
    cr_assert_str_eq(k, "a");
    free(k);
    es_host(h)->bundle_free(b);
    cr_assert_eq(vt_count_requests(h, "GET", "/v1/secret/data/team-a/db"), 1);

    /* Nothing can step outside it. */
    const char *escapes[] = {"../team-b/db", "app/../../team-b/db", "./db", "/team-b/db",
                             "a//b", "db/", "", "x\ny"};
    for (size_t i = 0; i < sizeof escapes / sizeof escapes[0]; i++) {
        sb_bundle *out = NULL;
        sb_version_info v = SB_TEST_VERSION_INFO;
        SB_TEST_RESULT res = SB_RESULT_INIT;
        cr_assert_eq(do_read(h, escapes[i], NULL, &out, &v, &res), SB_E_INVALID, "path %s",
                     escapes[i]);
        cr_assert_null(out);
    }
    sb_text *next = sb_test_text();
    SB_TEST_RESULT res = SB_RESULT_INIT;
    cr_assert_eq(do_list(h, "../", NULL, 0, NULL, 0, &s, next, &res), SB_E_INVALID);
    sb_result_release(&res);
    cr_assert_eq(do_list(h, "", NULL, 0, "after:../team-b/db", 0, &s, next, &res), SB_E_INVALID);
    sb_result_release(&res);
    cr_assert_eq(do_list(h, "app/", NULL, 0, "after:db", 0, &s, next, &res), SB_E_INVALID,
                 "a cursor outside the query prefix");
    cr_assert_eq(s.n, 0);
    cr_assert_eq(vt_count_requests(h, NULL, "team-b"), 0);
    cr_assert_eq(sb_harness_live_secure_allocations(), base);
    sb_harness_close(h);
}

Test(vault_kv, list_stop_request_empty_folder_and_cursor_resume)
{
    for (int i = 0; i < 12; i++) {
        char name[64];
        snprintf(name, sizeof name, "kv/secret/f/s%02d", i);
        es_admin_ok("POST", name, "{\"data\":{\"k\":\"v\"}}");
    }
    sb_harness *h = vt_open(ROOT);
    long base = sb_harness_live_secure_allocations();
    sb_text *next = sb_test_text();

    /* The receiver asks to stop: CANCELLED, no cursor. */
    es_sink s = {.stop_after = 3};
    SB_TEST_RESULT res = SB_RESULT_INIT;
    cr_assert_eq(do_list(h, "f/", NULL, 0, NULL, 0, &s, next, &res), SB_E_CANCELLED);
    cr_assert_eq(s.n, 3);
    cr_assert_str_eq(SB_TEST_STR(next), "");
    es_sink_free(&s);

    /* An empty or absent folder is an empty list (Vault answers 404). */
    sb_result_release(&res);
    cr_assert_eq(do_list(h, "nothing/here/", NULL, 0, NULL, 0, &s, next, &res), SB_OK, "%s",
                 res.message);
    cr_assert_eq(s.n, 0);
    cr_assert_str_eq(SB_TEST_STR(next), "");

    /* Pages of 5: 5 + 5 + 2, cursors resume exactly after the last one. */
    sb_result_release(&res);
    cr_assert_eq(do_list(h, "f/", NULL, 0, NULL, 5, &s, next, &res), SB_OK);
    cr_assert_eq(s.n, 5);
    cr_assert_str_eq(SB_TEST_STR(next), "after:f/s04");
    char cursor[64];
    snprintf(cursor, sizeof cursor, "%s", SB_TEST_STR(next));
    cr_assert_eq(do_list(h, "f/", NULL, 0, cursor, 5, &s, next, &res), SB_OK);
    cr_assert_eq(s.n, 10);
    cr_assert_str_eq(s.items[5].path, "f/s05");
    snprintf(cursor, sizeof cursor, "%s", SB_TEST_STR(next));
    cr_assert_eq(do_list(h, "f/", NULL, 0, cursor, 5, &s, next, &res), SB_OK);
    cr_assert_eq(s.n, 12);
    cr_assert_str_eq(SB_TEST_STR(next), "", "the last page has no cursor");
    es_sink_free(&s);
    cr_assert_eq(sb_harness_live_secure_allocations(), base);
    sb_harness_close(h);
}

/* ---- namespaces and headers -------------------------------------------------- */

Test(vault_kv, namespace_header_and_request_header_are_sent)
{
    es_admin_ok("POST", "namespaces", "{\"path\":\"team-a\"}");
    es_admin_ok("POST", "kv/secret/app/db", "{\"namespace\":\"team-a\",\"data\":{\"k\":\"ns\"}}");
    es_admin_ok("POST", "kv/secret/app/db", "{\"data\":{\"k\":\"root-ns\"}}");
    sb_harness *h = vt_open(ROOT "namespace: team-a\n");
    sb_bundle *b = es_read_ok(h, "app/db", NULL, NULL);
    char *k = es_bundle_get(h, b, "k", NULL);
    cr_assert_str_eq(k, "ns", "the read went to the namespace");
    free(k);
    es_host(h)->bundle_free(b);

    char *log = vt_requests();
    size_t n = es_count(log, "\"method\": ");
    cr_assert_geq(n, 2, "lookup-self and the read: %s", log);
    cr_assert_eq(es_count(log, "\"X-Vault-Request\""), n, "every request carries X-Vault-Request");
    cr_assert_eq(es_count(log, "\"namespace\": \"team-a\""), n, "every request carries the ns");
    cr_assert_eq(es_count(log, "\"has_token\": true"), n);
    cr_assert(strstr(log, "\"path\": \"/v1/auth/token/lookup-self\""), "%s", log);
    free(log);
    sb_harness_close(h);
}

Test(vault_kv, works_against_an_emulator_that_requires_the_request_header)
{
    es_emulator_stop();
    const char *args[] = {"--require-request-header", NULL};
    vt_emulator_start(args);
    es_admin_ok("POST", "kv/secret/app/db", "{\"data\":{\"k\":\"v\"}}");
    /* A client without the header is refused (the emulator is strict)... */
    char *out = NULL;
    cr_assert_eq(vt_vault("GET", "secret/data/app/db", "root", NULL, NULL,
                          "X-Vault-Request:", &out),
                 412);
    free(out);
    /* ...and the plugin is not. */
    sb_harness *h = vt_open(ROOT);
    sb_bundle *b = es_read_ok(h, "app/db", NULL, NULL);
    es_host(h)->bundle_free(b);
    sb_harness_close(h);
}

/* ---- arguments ------------------------------------------------------------------ */

static int never(void *sink, const sb_metadata *m)
{
    (void)sink;
    (void)m;
    return 0;
}

Test(vault_kv, invalid_arguments_are_refused_without_io)
{
    sb_harness *h = vt_open(ROOT);
    const sb_provider_ops *p = es_provider(h);
    void *inst = sb_harness_instance(h);
    const sb_call *call = sb_harness_call(h, 5000);
    long base = sb_harness_live_secure_allocations();
    sb_secret_ref ref = {sizeof ref, 0, "a/b", NULL};
    sb_secret_ref short_ref = {4, 0, "a/b", NULL};
    sb_bundle *out = NULL;
    sb_version_info v = SB_TEST_VERSION_INFO;
    sb_version_info small = {8, 0, NULL, 0};
    sb_bundle *vals = es_bundle(h, "k", "v", NULL);
    SB_TEST_RESULT res = SB_RESULT_INIT;

    cr_assert_eq(p->read(NULL, call, &ref, &out, &v, &res), SB_E_INVALID);
    cr_assert_eq(p->read(inst, NULL, &ref, &out, &v, &res), SB_E_INVALID);
    cr_assert_eq(p->read(inst, call, NULL, &out, &v, &res), SB_E_INVALID);
    cr_assert_eq(p->read(inst, call, &short_ref, &out, &v, &res), SB_E_INVALID);
    cr_assert_eq(p->read(inst, call, &ref, NULL, &v, &res), SB_E_INVALID);
    cr_assert_eq(p->read(inst, call, &ref, &out, NULL, &res), SB_E_INVALID);
    cr_assert_eq(p->read(inst, call, &ref, &out, &small, &res), SB_E_INVALID);
    cr_assert_eq(p->read(inst, call, &ref, &out, &v, NULL), SB_E_INVALID);
    sb_secret_ref bad_version = {sizeof ref, 0, "a/b", "0"};
    cr_assert_eq(p->read(inst, call, &bad_version, &out, &v, &res), SB_E_INVALID);
    bad_version.version = "2x";
    cr_assert_eq(p->read(inst, call, &bad_version, &out, &v, &res), SB_E_INVALID);
    cr_assert_null(out);
    cr_assert_eq(p->write(inst, call, &ref, NULL, "1", &v, &res), SB_E_INVALID);
    cr_assert_eq(p->write(inst, call, &ref, vals, "1", NULL, &res), SB_E_INVALID);
    cr_assert_eq(p->describe(inst, call, &ref, NULL, NULL, &res), SB_E_INVALID);
    sb_text *next = sb_test_text();
    sb_text_set(next, "junk");
    sb_list_query q = {sizeof q, 0, "", NULL, 1, NULL};
    cr_assert_eq(p->list(inst, call, &q, never, NULL, next, &res), SB_E_INVALID);
    cr_assert_str_eq(SB_TEST_STR(next), "");
    sb_kv nokey = {NULL, "v"};
    q.selector = &nokey;
    cr_assert_eq(p->list(inst, call, &q, never, NULL, next, &res), SB_E_INVALID);
    q.selector = NULL;
    q.n_selector = 0;
    q.cursor = "garbage";
    cr_assert_eq(p->list(inst, call, &q, never, NULL, next, &res), SB_E_INVALID);
    cr_assert_eq(p->list(inst, call, &q, never, NULL, NULL, &res), SB_E_INVALID);
    cr_assert_eq(vt_count_requests(h, NULL, NULL), 0, "nothing reached Vault");
    es_host(h)->bundle_free(vals);
    cr_assert_eq(sb_harness_live_secure_allocations(), base);
    sb_harness_close(h);
}

Test(vault_kv, paths_with_spaces_and_unicode_round_trip)
{
    sb_harness *h = vt_open(ROOT);
    const sb_host_api *host = es_host(h);
    const char *path = "team a/\xd0\xba\xd0\xbb\xd1\x8e\xd1\x87 #1?x=y";
    sb_bundle *b = es_bundle(h, "k", "v", NULL);
    sb_version_info v = SB_TEST_VERSION_INFO;
    SB_TEST_RESULT res = SB_RESULT_INIT;
    cr_assert_eq(do_write(h, path, b, SB_CAS_CREATE, &v, &res), SB_OK, "%s", res.message);
    host->bundle_free(b);
    b = es_read_ok(h, path, NULL, NULL);
    host->bundle_free(b);
    es_sink s = {0};
    list_all(h, "team a/", NULL, 0, 0, &s);
    cr_assert_eq(s.n, 1);
    cr_assert_str_eq(s.items[0].path, path);
    es_sink_free(&s);
    /* The query string is data, not a query: it was percent-encoded. */
    cr_assert_eq(vt_count_requests(h, "POST", "/v1/secret/data/team a/"), 1);
    char *log = vt_requests();
    cr_assert(strstr(log, "\"query\": \"x=y\"") == NULL, "%s", log);
    free(log);
    sb_harness_close(h);
}

Test(vault_kv, tls_server_name_is_sent_while_connecting_to_the_address)
{
    es_admin_ok("POST", "kv/secret/app/sni", "{\"data\":{\"k\":\"v\"}}");
    sb_harness *h = vt_open(ROOT "tls_server_name: vault.internal\n");
    sb_version_info v = SB_TEST_VERSION_INFO;
    sb_bundle *b = es_read_ok(h, "app/sni", NULL, &v);
    es_host(h)->bundle_free(b);
    char *log = vt_requests();
    cr_assert_not_null(strstr(log, "vault.internal"), "the Host header names tls_server_name: %s", log);
    free(log);
    sb_harness_close(h);
}
