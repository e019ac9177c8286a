/*
 * tests/plugins/argocd/test_argocd_gitops.c — the argocd GITOPS capability
 * through the real loader and host API against the Argo CD emulator, whose
 * clock the tests move instead of sleeping. The test plays the worker: it
 * takes a baseline when the "patch" executes, records the change time, then
 * scripts what the cluster does and observes.
 *
 * Evidence: a rollout after the change goes none -> rolling -> applied; an
 * app that was already Healthy+Synced and never rolls out stays none
 * however long it is watched (never applied); a rollout that began before
 * the change is not evidence; a stalled rollout stays rolling; a degraded
 * rollout and a failed sync operation are failed. Errors: a wrong, missing
 * (empty) or expired token, an unknown app with and without project, an app
 * of another project, throttling with Retry-After, 5xx, invalid arguments
 * and a foreign baseline. Every test checks that only GETs reached the
 * emulator, that the token is in no message, and that no secure memory
 * leaked across the ABI.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "abi_outputs.h"
#include "argocd_test_support.h"

static long live_before;
static void setup(void)
{
    ag_emulator_start();
    live_before = sb_harness_live_secure_allocations();
}
static void teardown(void) { es_emulator_stop(); }

TestSuite(argocd_gitops, .init = setup, .fini = teardown, .timeout = 120);

static void close_checked(sb_harness *h)
{
    ag_assert_only_gets();
    sb_harness_close(h);
    cr_assert_eq(sb_harness_live_secure_allocations(), live_before, "secure memory leaked");
}

/* The worker's step at patch execution: a baseline and the change time. */
static char *baseline_ok(sb_harness *h, const char *app, int64_t *changed_ms)
{
    SB_TEST_RESULT res = SB_RESULT_INIT;
    char *state = NULL;
    cr_assert_eq(ag_baseline(h, app, &state, &res), SB_OK, "baseline: %s", res.message);
    cr_assert_not_null(strstr(state, "\"pod_template_hash\":"), "%s", state);
    *changed_ms = ag_now_ms();
    return state;
}

Test(argocd_gitops, rollout_after_the_change_goes_rolling_then_applied)
{
    ag_control("apps", "{\"name\":\"shop\",\"deployments\":[{\"name\":\"web\",\"replicas\":2}]}");
    sb_harness *h = ag_open(NULL);
    int64_t changed;
    char *base = baseline_ok(h, "shop", &changed);
    cr_assert_eq(ag_observe_ok(h, "shop", base, changed, NULL), SB_GITOPS_NO_EVIDENCE);

    ag_control("rollout", "{\"app\":\"shop\",\"start_in\":5,\"pods_after\":1,\"ready_after\":4}");
    ag_advance(5); /* the new ReplicaSet exists, no pods yet */
    char *detail = NULL;
    cr_assert_eq(ag_observe_ok(h, "shop", base, changed, &detail), SB_GITOPS_ROLLING, "%s", detail);
    cr_assert_not_null(strstr(detail, "Rev:2"), "%s", detail);
    free(detail);
    ag_advance(1); /* new pods starting, old ones still there */
    cr_assert_eq(ag_observe_ok(h, "shop", base, changed, &detail), SB_GITOPS_ROLLING, "%s", detail);
    cr_assert_not_null(strstr(detail, "0/2 new pods ready, 2 old pods left"), "%s", detail);
    free(detail);
    ag_advance(3); /* healthy */
    cr_assert_eq(ag_observe_ok(h, "shop", base, changed, &detail), SB_GITOPS_APPLIED, "%s", detail);
    cr_assert_not_null(strstr(detail, "rolled out ReplicaSet web-"), "%s", detail);
    cr_assert_not_null(strstr(detail, "2/2 pods ready"), "%s", detail);
    free(detail);
    free(base);
    close_checked(h);
}

Test(argocd_gitops, healthy_synced_app_that_never_rolls_out_is_never_applied)
{
    ag_control("apps", "{\"name\":\"quiet\"}");
    sb_harness *h = ag_open(NULL);
    int64_t changed;
    char *base = baseline_ok(h, "quiet", &changed);
    char *detail = NULL;
    for (int i = 0; i < 4; i++) { /* watched for hours: still Healthy, Synced, and no evidence */
        cr_assert_eq(ag_observe_ok(h, "quiet", base, changed, &detail), SB_GITOPS_NO_EVIDENCE,
                     "%s", detail);
        cr_assert_not_null(strstr(detail, "application Healthy, Synced"), "%s", detail);
        cr_assert_not_null(strstr(detail, "not evidence"), "%s", detail);
        free(detail);
        ag_advance(3600);
    }
    /* a baseline taken "now" of the same app is just as healthy: still nothing */
    int64_t later;
    char *again = baseline_ok(h, "quiet", &later);
    cr_assert_eq(ag_observe_ok(h, "quiet", again, later, NULL), SB_GITOPS_NO_EVIDENCE);
    free(again);
    free(base);
    close_checked(h);
}

Test(argocd_gitops, rollout_that_began_before_the_change_is_not_evidence)
{
    ag_control("apps", "{\"name\":\"early\"}");
    sb_harness *h = ag_open(NULL);
    SB_TEST_RESULT res = SB_RESULT_INIT;
    char *base = NULL;
    cr_assert_eq(ag_baseline(h, "early", &base, &res), SB_OK, "%s", res.message);
    /* a rollout for some other reason, then the patch executes 60 s later */
    ag_control("rollout", "{\"app\":\"early\",\"start_in\":1,\"ready_after\":2}");
    ag_advance(10);
    int64_t changed = ag_now_ms() + 60000;
    char *detail = NULL;
    cr_assert_eq(ag_observe_ok(h, "early", base, changed, &detail), SB_GITOPS_NO_EVIDENCE, "%s",
                 detail);
    cr_assert_not_null(strstr(detail, "no rollout since the change"), "%s", detail);
    free(detail);
    free(base);
    close_checked(h);
}

Test(argocd_gitops, stalled_rollout_stays_rolling)
{
    ag_control("apps", "{\"name\":\"stuck\"}");
    sb_harness *h = ag_open(NULL);
    int64_t changed;
    char *base = baseline_ok(h, "stuck", &changed);
    ag_control("rollout", "{\"app\":\"stuck\",\"start_in\":2,\"outcome\":\"stall\"}");
    ag_advance(2);
    cr_assert_eq(ag_observe_ok(h, "stuck", base, changed, NULL), SB_GITOPS_ROLLING);
    ag_advance(7200);
    cr_assert_eq(ag_observe_ok(h, "stuck", base, changed, NULL), SB_GITOPS_ROLLING);
    free(base);
    close_checked(h);
}

Test(argocd_gitops, degraded_rollout_is_failed)
{
    ag_control("apps", "{\"name\":\"bad\"}");
    sb_harness *h = ag_open(NULL);
    int64_t changed;
    char *base = baseline_ok(h, "bad", &changed);
    ag_control("rollout", "{\"app\":\"bad\",\"start_in\":2,\"outcome\":\"degrade\",\"ready_after\":30}");
    ag_advance(3);
    cr_assert_eq(ag_observe_ok(h, "bad", base, changed, NULL), SB_GITOPS_ROLLING);
    ag_advance(30);
    char *detail = NULL;
    cr_assert_eq(ag_observe_ok(h, "bad", base, changed, &detail), SB_GITOPS_FAILED, "%s", detail);
    cr_assert_not_null(strstr(detail, "Degraded"), "%s", detail);
    cr_assert_null(strstr(detail, "progress deadline"), "Argo CD's free text leaked: %s", detail);
    free(detail);
    free(base);
    close_checked(h);
}

Test(argocd_gitops, failed_sync_operation_is_failed)
{
    ag_control("apps", "{\"name\":\"opfail\"}");
    sb_harness *h = ag_open(NULL);
    int64_t changed;
    char *base = baseline_ok(h, "opfail", &changed);
    ag_control("fail-operation", "{\"app\":\"opfail\",\"start_in\":1,\"ready_after\":2}");
    ag_advance(1);
    cr_assert_eq(ag_observe_ok(h, "opfail", base, changed, NULL), SB_GITOPS_NO_EVIDENCE);
    ag_advance(2);
    char *detail = NULL;
    cr_assert_eq(ag_observe_ok(h, "opfail", base, changed, &detail), SB_GITOPS_FAILED, "%s",
                 detail);
    cr_assert_not_null(strstr(detail, "sync operation"), "%s", detail);
    cr_assert_not_null(strstr(detail, "ended Failed"), "%s", detail);
    free(detail);
    free(base);
    close_checked(h);
}

Test(argocd_gitops, one_of_two_deployments_rolling_keeps_the_app_rolling)
{
    ag_control("apps", "{\"name\":\"pair\",\"deployments\":[{\"name\":\"api\"},{\"name\":\"worker\"}]}");
    sb_harness *h = ag_open(NULL);
    int64_t changed;
    char *base = baseline_ok(h, "pair", &changed);
    ag_control("rollout", "{\"app\":\"pair\",\"deployment\":\"api\",\"start_in\":1,\"ready_after\":2}");
    ag_control("rollout", "{\"app\":\"pair\",\"deployment\":\"worker\",\"start_in\":1,\"ready_after\":20}");
    ag_advance(4);
    char *detail = NULL;
    cr_assert_eq(ag_observe_ok(h, "pair", base, changed, &detail), SB_GITOPS_ROLLING, "%s", detail);
    cr_assert_not_null(strstr(detail, "1 applied, 1 rolling"), "%s", detail);
    free(detail);
    ag_advance(20);
    cr_assert_eq(ag_observe_ok(h, "pair", base, changed, &detail), SB_GITOPS_APPLIED, "%s", detail);
    free(detail);
    free(base);
    close_checked(h);
}

/* ---- errors ------------------------------------------------------------------------ */

static void expect_baseline_error(sb_harness *h, const char *app, sb_status want,
                                  const char *in_message)
{
    SB_TEST_RESULT res = SB_RESULT_INIT;
    char *state = NULL;
    sb_status st = ag_baseline(h, app, &state, &res);
    cr_assert_eq(st, want, "baseline %s: status %d (want %d): %s", app, st, want, res.message);
    cr_assert_not_null(strstr(res.message, in_message), "%s", res.message);
    cr_assert_null(strstr(res.message, AG_TOKEN), "the token leaked into: %s", res.message);
    free(state);
}

Test(argocd_gitops, wrong_and_expired_tokens)
{
    ag_control("apps", "{\"name\":\"shop\"}");
    setenv("SB_TEST_ARGOCD_WRONG", "not-the-token", 1);
    sb_harness *h = ag_open(NULL);
    sb_harness_close(h);
    char err[1024];
    char yaml[512];
    snprintf(yaml, sizeof yaml, "base_url: http://127.0.0.1:%d\ntoken: ${env:SB_TEST_ARGOCD_WRONG}\n",
             es_port());
    h = sb_harness_open(SB_TEST_PLUGIN_PATH, yaml, err, sizeof err);
    cr_assert_not_null(h, "%s", err);
    expect_baseline_error(h, "shop", SB_E_DENIED, "401 the token was not accepted");
    sb_harness_close(h);

    ag_control("tokens", "{\"token\":\"%s\",\"expired\":true}", AG_TOKEN);
    h = ag_open(NULL);
    expect_baseline_error(h, "shop", SB_E_AUTH_EXPIRED, "token has expired");
    char *log = ag_requests();
    cr_assert_eq(es_count(log, "\"status\": 401"), 2, "%s", log);
    free(log);
    close_checked(h);
}

Test(argocd_gitops, unknown_app_is_denied_without_project_and_not_found_with_it)
{
    ag_control("apps", "{\"name\":\"shop\",\"project\":\"team-a\"}");
    sb_harness *h = ag_open(NULL);
    expect_baseline_error(h, "nope", SB_E_DENIED, "403 permission denied");
    sb_harness_close(h);
    h = ag_open("project: team-a\n");
    expect_baseline_error(h, "nope", SB_E_NOT_FOUND, "404");
    SB_TEST_RESULT res = SB_RESULT_INIT;
    cr_assert_eq(ag_baseline(h, "shop", NULL, &res), SB_OK, "%s", res.message);
    sb_harness_close(h);
    h = ag_open("project: team-b\n");
    expect_baseline_error(h, "shop", SB_E_DENIED, "403");
    close_checked(h);
}

Test(argocd_gitops, throttling_and_server_errors_are_retryable)
{
    ag_control("apps", "{\"name\":\"shop\"}");
    sb_harness *h = ag_open(NULL);
    /* the host retries 429 up to three times; all three are throttled */
    ag_control("faults", "{\"target\":\"application\",\"status\":429,\"message\":\"slow down\","
                         "\"retry_after\":1,\"count\":3}");
    SB_TEST_RESULT res = SB_RESULT_INIT;
    sb_status st = ag_baseline(h, "shop", NULL, &res);
    cr_assert_eq(st, SB_E_THROTTLED, "%d: %s", st, res.message);
    cr_assert(SB_STATUS_IS_RETRYABLE(st));
    cr_assert_eq(res.retry_after_ms, 1000);
    ag_control("faults", "{\"target\":\"resource-tree\",\"status\":500,\"message\":\"boom\"}");
    sb_result_release(&res);
    res = (sb_result)SB_RESULT_INIT;
    st = ag_baseline(h, "shop", NULL, &res);
    cr_assert_eq(st, SB_E_UNAVAILABLE, "%d: %s", st, res.message);
    cr_assert_not_null(strstr(res.message, "resource-tree"), "%s", res.message);
    cr_assert_eq(ag_baseline(h, "shop", NULL, &res), SB_OK, "%s", res.message);
    close_checked(h);
}

Test(argocd_gitops, invalid_arguments_send_nothing)
{
    ag_control("apps", "{\"name\":\"shop\"}");
    sb_harness *h = ag_open(NULL);
    SB_TEST_RESULT res = SB_RESULT_INIT;
    const char *bad_names[] = {"", "Shop", "shop/../x", "-shop", "shop?x=1", "a b"};
    for (size_t i = 0; i < sizeof bad_names / sizeof bad_names[0]; i++) {
        cr_assert_eq(ag_baseline(h, bad_names[i], NULL, &res), SB_E_INVALID, "'%s'", bad_names[i]);
        sb_result_release(&res);
    }
    sb_gitops_evidence ev = -1;
    cr_assert_eq(ag_observe(h, "shop", "{\"v\":99}", ag_now_ms(), &ev, NULL, &res), SB_E_INVALID);
    cr_assert_not_null(strstr(res.message, "baseline"), "%s", res.message);
    cr_assert_eq(ag_observe(h, "shop", "not json", ag_now_ms(), &ev, NULL, &res), SB_E_INVALID);
    int64_t changed;
    char *base = baseline_ok(h, "shop", &changed);
    cr_assert_eq(ag_observe(h, "shop", base, 0, &ev, NULL, &res), SB_E_INVALID);
    free(base);
    char *log = ag_requests();
    cr_assert_eq(es_count(log, "\"method\": "), 2, "only the one baseline was sent: %s", log);
    free(log);
    close_checked(h);
}

Test(argocd_gitops, config_is_checked_before_any_call)
{
    char err[2048];
    const char *bad[] = {
        "base_url: ftp://argocd.example.com\ntoken: t\n",
        "base_url: http://argocd.example.com\ntoken: t\n",
        "base_url: https://argocd.example.com/api\ntoken: t\n",
        "base_url: https://argocd.example.com\ntoken: \"two words\"\n",
        "base_url: https://argocd.example.com\ntoken: t\nproject: \"Team A\"\n",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err[0] = '\0';
        sb_harness *h = sb_harness_open(SB_TEST_PLUGIN_PATH, bad[i], err, sizeof err);
        cr_assert_null(h, "accepted: %s", bad[i]);
        cr_assert_null(strstr(err, "two words"), "the token leaked into: %s", err);
    }
    char *log = ag_requests();
    cr_assert_eq(es_count(log, "\"method\": "), 0, "%s", log);
    free(log);
}
