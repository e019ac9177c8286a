/*
 * tests/plugins/argocd/argocd_test_support.h — what the argocd plugin tests
 * share beyond tests/support/emulator_support.h: the Argo CD emulator, the
 * plugin opened against it, scripting apps and timelines through the
 * control API, baseline/observe calls with a result the test inspects, and
 * the check that the emulator never saw anything but GET.
 */
#ifndef SB_TESTS_ARGOCD_SUPPORT_H
#define SB_TESTS_ARGOCD_SUPPORT_H

#include <sbridge/plugin.h>
#include <stdint.h>

#include "emulator_support.h"

#define AG_TOKEN "argocd-test-token-6f1c2d9e"

/* Starts the emulator accepting AG_TOKEN. */
void ag_emulator_start(void);

/* Opens the plugin with base_url at the emulator and token AG_TOKEN (through
 * ${env:...}), then `yaml_rest` (may be NULL). */
sb_harness *ag_open(const char *yaml_rest);

/* Wall-clock unix ms (the test plays the worker that records the change). */
int64_t ag_now_ms(void);

/* Control API: POST /_emulator/<name> with a printf-formatted JSON body;
 * fails the test unless 200. */
void ag_control(const char *name, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Moves the emulator's clock forward. */
void ag_advance(double seconds);

/* baseline / observe with a result the caller releases; *state and
 * *detail are heap copies (caller frees; may be NULL args). */
sb_status ag_baseline(sb_harness *h, const char *app, char **state, sb_result *res);
sb_status ag_observe(sb_harness *h, const char *app, const char *baseline, int64_t changed_ms,
                     sb_gitops_evidence *evidence, char **detail, sb_result *res);
/* observe that must succeed; returns the evidence, *detail (heap) when asked. */
sb_gitops_evidence ag_observe_ok(sb_harness *h, const char *app, const char *baseline,
                                 int64_t changed_ms, char **detail);

/* The emulator's request log (JSON text, heap). */
char *ag_requests(void);
/* Fails the test when any request the emulator saw was not a GET. */
void ag_assert_only_gets(void);

#endif
