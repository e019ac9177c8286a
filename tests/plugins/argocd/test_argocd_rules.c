/*
 * tests/plugins/argocd/test_argocd_rules.c — the argocd plugin's sources
 * compiled into the test (not through the loader), for what the ABI cannot
 * reach:
 *   - read_only: argocd_http_get, the plugin's one door to the network,
 *     refuses every method but GET itself, before any I/O (the emulator's
 *     log stays empty), and no other file of the plugin calls host->http;
 *   - evidence: argocd_evidence_decide on hand-made snapshots — the
 *     one-second boundary of "after the change", a rollback to an old
 *     template, a Deployment that appeared after the baseline, pods older
 *     than the change, an unhealthy application, an old failed operation
 *     and an application that was already Degraded;
 *   - baseline: encode/decode round trip and a decoder that refuses what
 *     encode would never write.
 */
#include <criterion/criterion.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "abi_outputs.h"
#include "argocd.h"
#include "argocd_test_support.h"

/* The plugin's global, here set to the harness's real host table. */
const sb_host_api *argocd_host = NULL;

/* ---- read-only door -------------------------------------------------------------- */

static void start(void) { ag_emulator_start(); }
static void stop(void) { es_emulator_stop(); }
TestSuite(read_only, .init = start, .fini = stop, .timeout = 60);

Test(read_only, every_method_but_get_is_refused_before_any_request)
{
    ag_control("apps", "{\"name\":\"shop\"}");
    sb_harness *h = ag_open(NULL);
    argocd_host = sb_harness_host(h);
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%d", es_port());
    argocd_instance ai = {.base_url = url, .timeout_ms = 5000,
                          .authorization = argocd_host->secure_new(64)};
    const char *bearer = "Bearer " AG_TOKEN;
    cr_assert_eq(argocd_host->secure_append(ai.authorization, bearer, strlen(bearer)), 0);
    const char *methods[] = {"POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "get", "", NULL};
    for (size_t i = 0; i < sizeof methods / sizeof methods[0]; i++) {
        SB_TEST_RESULT res = SB_RESULT_INIT;
        sb_http_response resp;
        sb_status st = argocd_http_get(&ai, sb_harness_call(h, 5000), methods[i], "shop",
                                       "/sync", "sync", &resp, &res);
        cr_assert_eq(st, SB_E_UNSUPPORTED, "%s: status %d", methods[i] ? methods[i] : "NULL", st);
        cr_assert_not_null(strstr(res.message, "read-only"), "%s", res.message);
    }
    char *log = ag_requests();
    cr_assert_eq(es_count(log, "\"method\": "), 0, "a refused method reached the server: %s", log);
    free(log);

    SB_TEST_RESULT res = SB_RESULT_INIT;
    sb_http_response resp;
    cr_assert_eq(argocd_http_get(&ai, sb_harness_call(h, 5000), "GET", "shop", "", "application",
                                 &resp, &res),
                 SB_OK, "%s", res.message);
    cr_assert_eq(resp.status, 200);
    argocd_host->http_response_free(&resp);
    ag_assert_only_gets();
    argocd_host->secure_free(ai.authorization);
    sb_harness_close(h);
    argocd_host = NULL;
}

Test(read_only, no_other_file_of_the_plugin_calls_the_host_http_client)
{
    glob_t g;
    cr_assert_eq(glob(SB_SOURCE_DIR "/plugins/argocd/*.c", 0, NULL, &g), 0);
    size_t calls = 0;
    for (size_t i = 0; i < g.gl_pathc; i++) {
        FILE *f = fopen(g.gl_pathv[i], "r");
        cr_assert_not_null(f, "%s", g.gl_pathv[i]);
        char line[1024];
        while (fgets(line, sizeof line, f)) {
            if (strstr(line, "->http(") == NULL)
                continue;
            calls++;
            cr_assert_not_null(strstr(g.gl_pathv[i], "/argocd_http.c"),
                               "%s calls host->http outside the GET-only door", g.gl_pathv[i]);
        }
        fclose(f);
    }
    globfree(&g);
    cr_assert_eq(calls, 1, "exactly one host->http call, in argocd_http_get");
}

/* ---- evidence rules ------------------------------------------------------------- */

TestSuite(evidence, .timeout = 30);

#define T0 1780000000000LL /* a whole second */
#define CHANGE (T0 + 700)  /* the change, 0.7 s into that second */

static argocd_replicaset rs_make(const char *name, const char *hash, int64_t rev,
                                 int64_t created, size_t pods, size_t ready, int64_t oldest_pod)
{
    argocd_replicaset rs;
    memset(&rs, 0, sizeof rs);
    snprintf(rs.name, sizeof rs.name, "%s", name);
    snprintf(rs.hash, sizeof rs.hash, "%s", hash);
    rs.revision = rev;
    rs.created_ms = created;
    rs.pods = pods;
    rs.pods_ready = ready;
    rs.oldest_pod_ms = rs.newest_pod_ms = oldest_pod;
    return rs;
}

typedef struct fixture {
    argocd_snapshot snap;
    argocd_deployment dep;
    argocd_replicaset rs[3];
    argocd_baseline base;
    argocd_baseline_workload bw;
} fixture;

/* Baseline: web at web-old (Rev:1), app Healthy/Synced, operation done. Now:
 * the same, plus whatever ReplicaSets the test adds after rs[0]. */
static void fixture_init(fixture *f, const char *health)
{
    memset(f, 0, sizeof *f);
    snprintf(f->dep.namespace_, sizeof f->dep.namespace_, "default");
    snprintf(f->dep.name, sizeof f->dep.name, "web");
    snprintf(f->dep.health, sizeof f->dep.health, "%s", health);
    f->rs[0] = rs_make("web-old", "old", 1, T0 - 86400000, 2, 2, T0 - 86000000);
    f->dep.replicasets = f->rs;
    f->dep.n_replicasets = 1;
    f->snap.deployments = &f->dep;
    f->snap.n_deployments = 1;
    snprintf(f->snap.health, sizeof f->snap.health, "Healthy");
    snprintf(f->snap.sync_status, sizeof f->snap.sync_status, "Synced");
    snprintf(f->snap.operation_phase, sizeof f->snap.operation_phase, "Succeeded");
    snprintf(f->snap.operation_finished, sizeof f->snap.operation_finished, "2026-05-28T00:00:00Z");
    snprintf(f->bw.namespace_, sizeof f->bw.namespace_, "default");
    snprintf(f->bw.name, sizeof f->bw.name, "web");
    snprintf(f->bw.replicaset, sizeof f->bw.replicaset, "web-old");
    snprintf(f->bw.hash, sizeof f->bw.hash, "old");
    f->bw.revision = 1;
    f->base.workloads = &f->bw;
    f->base.n_workloads = 1;
    snprintf(f->base.health, sizeof f->base.health, "Healthy");
    snprintf(f->base.operation_phase, sizeof f->base.operation_phase, "Succeeded");
    snprintf(f->base.operation_finished, sizeof f->base.operation_finished, "2026-05-28T00:00:00Z");
}

static void add_rs(fixture *f, argocd_replicaset rs)
{
    f->rs[f->dep.n_replicasets++] = rs;
    f->rs[0].pods = f->rs[0].pods_ready = 0; /* the old pods are gone */
}

static sb_gitops_evidence decide(const fixture *f, char **detail)
{
    char *d = NULL;
    sb_gitops_evidence ev = argocd_evidence_decide(&f->base, &f->snap, CHANGE, &d);
    cr_assert_not_null(d);
    if (detail)
        *detail = d;
    else
        free(d);
    return ev;
}

Test(evidence, a_new_replicaset_stamped_in_the_change_second_counts_the_second_before_does_not)
{
    fixture f;
    fixture_init(&f, "Healthy");
    add_rs(&f, rs_make("web-new", "new", 2, T0, 2, 2, T0));
    cr_assert_eq(decide(&f, NULL), SB_GITOPS_APPLIED);
    f.rs[1].created_ms = f.rs[1].oldest_pod_ms = T0 - 1000;
    char *detail = NULL;
    cr_assert_eq(decide(&f, &detail), SB_GITOPS_NO_EVIDENCE, "%s", detail);
    cr_assert_not_null(strstr(detail, "not evidence"), "%s", detail);
    free(detail);
}

Test(evidence, the_baselines_own_template_or_an_old_one_rolled_back_is_not_evidence)
{
    fixture f;
    fixture_init(&f, "Healthy");
    /* same pod-template-hash as the baseline, however new it claims to be */
    add_rs(&f, rs_make("web-old2", "old", 2, T0 + 5000, 2, 2, T0 + 6000));
    cr_assert_eq(decide(&f, NULL), SB_GITOPS_NO_EVIDENCE);
    /* a rollback: an old ReplicaSet made newest again (new revision, old creation time) */
    f.rs[1] = rs_make("web-older", "older", 3, T0 - 900000000, 2, 2, T0 + 6000);
    cr_assert_eq(decide(&f, NULL), SB_GITOPS_NO_EVIDENCE);
}

Test(evidence, pods_older_than_the_change_or_left_over_keep_it_rolling)
{
    fixture f;
    fixture_init(&f, "Healthy");
    add_rs(&f, rs_make("web-new", "new", 2, T0 + 2000, 2, 2, T0 - 5000));
    cr_assert_eq(decide(&f, NULL), SB_GITOPS_ROLLING);
    f.rs[1].oldest_pod_ms = T0 + 3000;
    f.rs[0].pods = 1; /* an old pod still terminating */
    cr_assert_eq(decide(&f, NULL), SB_GITOPS_ROLLING);
    f.rs[0].pods = 0;
    f.rs[1].pods_ready = 1; /* one new pod not ready */
    cr_assert_eq(decide(&f, NULL), SB_GITOPS_ROLLING);
    f.rs[1].pods_ready = 2;
    snprintf(f.snap.health, sizeof f.snap.health, "Progressing"); /* another part of the app */
    char *detail = NULL;
    cr_assert_eq(decide(&f, &detail), SB_GITOPS_ROLLING);
    cr_assert_not_null(strstr(detail, "but the application is Progressing"), "%s", detail);
    free(detail);
    snprintf(f.snap.health, sizeof f.snap.health, "Healthy");
    cr_assert_eq(decide(&f, NULL), SB_GITOPS_APPLIED);
    f.bw.newest_pod_ms = T0 + 4000; /* a new pod older than one the baseline already saw */
    cr_assert_eq(decide(&f, NULL), SB_GITOPS_ROLLING);
}

Test(evidence, a_deployment_absent_from_the_baseline_needs_only_the_time)
{
    fixture f;
    fixture_init(&f, "Healthy");
    f.base.n_workloads = 0;
    f.rs[0] = rs_make("web-x", "x", 1, T0 + 1000, 1, 1, T0 + 2000);
    cr_assert_eq(decide(&f, NULL), SB_GITOPS_APPLIED);
    f.snap.n_deployments = 0;
    char *detail = NULL;
    cr_assert_eq(decide(&f, &detail), SB_GITOPS_NO_EVIDENCE);
    cr_assert_not_null(strstr(detail, "no Deployment"), "%s", detail);
    free(detail);
}

Test(evidence, failures_count_only_when_they_are_new)
{
    fixture f;
    fixture_init(&f, "Healthy");
    /* an operation that had already failed before the change */
    snprintf(f.base.operation_phase, sizeof f.base.operation_phase, "Failed");
    snprintf(f.snap.operation_phase, sizeof f.snap.operation_phase, "Failed");
    cr_assert_eq(decide(&f, NULL), SB_GITOPS_NO_EVIDENCE);
    /* a new one that failed */
    snprintf(f.snap.operation_finished, sizeof f.snap.operation_finished, "2026-05-28T01:00:00Z");
    cr_assert_eq(decide(&f, NULL), SB_GITOPS_FAILED);
    snprintf(f.snap.operation_phase, sizeof f.snap.operation_phase, "Error");
    cr_assert_eq(decide(&f, NULL), SB_GITOPS_FAILED);
    /* an application that was Degraded before and still is: not this change's failure */
    fixture_init(&f, "Healthy");
    snprintf(f.base.health, sizeof f.base.health, "Degraded");
    snprintf(f.snap.health, sizeof f.snap.health, "Degraded");
    cr_assert_eq(decide(&f, NULL), SB_GITOPS_NO_EVIDENCE);
    snprintf(f.base.health, sizeof f.base.health, "Healthy");
    cr_assert_eq(decide(&f, NULL), SB_GITOPS_FAILED);
    /* a Deployment whose post-change rollout is Degraded */
    fixture_init(&f, "Degraded");
    add_rs(&f, rs_make("web-new", "new", 2, T0 + 1000, 2, 0, T0 + 2000));
    cr_assert_eq(decide(&f, NULL), SB_GITOPS_FAILED);
}

/* ---- baseline text --------------------------------------------------------------- */

TestSuite(baseline, .init = start, .fini = stop, .timeout = 60);

Test(baseline, round_trip_and_refusals)
{
    sb_harness *h = ag_open(NULL);
    argocd_host = sb_harness_host(h);
    fixture f;
    fixture_init(&f, "Healthy");
    snprintf(f.dep.name, sizeof f.dep.name, "we\"b");
    snprintf(f.snap.sync_revision, sizeof f.snap.sync_revision, "abc123");
    sb_text *text = sb_test_text();
    SB_TEST_RESULT res = SB_RESULT_INIT;
    cr_assert_eq(argocd_baseline_encode(&f.snap, 1234, text, &res), SB_OK);
    argocd_baseline b;
    cr_assert_eq(argocd_baseline_decode(SB_TEST_STR(text), &b, &res), SB_OK, "%s: %s",
                 SB_TEST_STR(text), res.message);
    cr_assert_eq(b.taken_ms, 1234);
    cr_assert_str_eq(b.sync_revision, "abc123");
    cr_assert_eq(b.n_workloads, 1);
    cr_assert_str_eq(b.workloads[0].name, "we\"b");
    cr_assert_str_eq(b.workloads[0].hash, "old");
    cr_assert_eq(b.workloads[0].revision, 1);
    argocd_baseline_free(&b);
    const char *bad[] = {"", "[]", "{\"v\":2}", "{\"v\":1,\"taken_at_ms\":1}",
                         "{\"v\":1,\"taken_at_ms\":-5,\"sync_revision\":\"\",\"health\":\"\","
                         "\"operation\":{\"phase\":\"\",\"started_at\":\"\",\"finished_at\":\"\"},"
                         "\"workloads\":[]}"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        sb_result_release(&res);
        cr_assert_eq(argocd_baseline_decode(bad[i], &b, &res), SB_E_INVALID, "%s", bad[i]);
        argocd_baseline_free(&b);
    }
    sb_harness_close(h);
    argocd_host = NULL;
}
