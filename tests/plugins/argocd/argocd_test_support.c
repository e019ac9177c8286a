/* tests/plugins/argocd/argocd_test_support.c — see argocd_test_support.h. */
#include "argocd_test_support.h"

#include <criterion/criterion.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "abi_outputs.h"

#ifndef SB_TEST_PLUGIN_PATH
#error "SB_TEST_PLUGIN_PATH must be defined by the build"
#endif

void ag_emulator_start(void)
{
    static const char *const args[] = {"--token", AG_TOKEN, "--seed", "17", NULL};
    es_emulator_start("tests/emulators/argocd/argocd_emulator.py", args);
}

sb_harness *ag_open(const char *yaml_rest)
{
    char yaml[2048], err[2048];
    setenv("SB_TEST_ARGOCD_TOKEN", AG_TOKEN, 1);
    snprintf(yaml, sizeof yaml,
             "base_url: http://127.0.0.1:%d\ntoken: ${env:SB_TEST_ARGOCD_TOKEN}\n%s", es_port(),
             yaml_rest ? yaml_rest : "");
    sb_harness *h = sb_harness_open(SB_TEST_PLUGIN_PATH, yaml, err, sizeof err);
    cr_assert_not_null(h, "the harness refused the plugin/config: %s", err);
    return h;
}

int64_t ag_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void ag_control(const char *name, const char *fmt, ...)
{
    char body[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(body, sizeof body, fmt, ap);
    va_end(ap);
    es_admin_ok("POST", name, body);
}

void ag_advance(double seconds)
{
    ag_control("clock", "{\"advance\":%.3f}", seconds);
}

sb_status ag_baseline(sb_harness *h, const char *app, char **state, sb_result *res)
{
    sb_text *text = sb_test_text();
    sb_status st = sb_harness_descriptor(h)->gitops->baseline(
        sb_harness_instance(h), sb_harness_call(h, 10000), app, text, res);
    if (state)
        *state = strdup(SB_TEST_STR(text));
    return st;
}

sb_status ag_observe(sb_harness *h, const char *app, const char *baseline, int64_t changed_ms,
                     sb_gitops_evidence *evidence, char **detail, sb_result *res)
{
    sb_gitops_observation obs = {sizeof obs, -1, sb_test_text()};
    sb_status st = sb_harness_descriptor(h)->gitops->observe(
        sb_harness_instance(h), sb_harness_call(h, 10000), app, baseline, changed_ms, &obs, res);
    if (evidence)
        *evidence = obs.evidence;
    if (detail)
        *detail = strdup(SB_TEST_STR(obs.detail));
    return st;
}

sb_gitops_evidence ag_observe_ok(sb_harness *h, const char *app, const char *baseline,
                                 int64_t changed_ms, char **detail)
{
    SB_TEST_RESULT res = SB_RESULT_INIT;
    sb_gitops_evidence ev = -1;
    char *d = NULL;
    sb_status st = ag_observe(h, app, baseline, changed_ms, &ev, &d, &res);
    cr_assert_eq(st, SB_OK, "observe %s: status %d: %s", app, st, res.message);
    cr_assert(ev >= SB_GITOPS_NO_EVIDENCE && ev <= SB_GITOPS_FAILED, "evidence %d", ev);
    cr_assert_not_null(strstr(d, "change at"), "detail: %s", d);
    if (detail)
        *detail = d;
    else
        free(d);
    return ev;
}

char *ag_requests(void)
{
    char *body = NULL;
    cr_assert_eq(es_admin("GET", "requests", NULL, &body), 200);
    return body;
}

void ag_assert_only_gets(void)
{
    char *log = ag_requests();
    cr_assert_eq(es_count(log, "\"refused\": true"), 0, "a non-GET reached the emulator: %s", log);
    cr_assert_eq(es_count(log, "\"method\": \"GET\""), es_count(log, "\"method\": "), "%s", log);
    cr_assert_eq(es_count(log, AG_TOKEN), 0, "the token reached the request log");
    free(log);
}
