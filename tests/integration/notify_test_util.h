/*
 * notify_test_util.h — what the notification tests share
 * (test_notify_outbox, test_e2e_slack_notify): a temporary directory with
 * a server configuration written by the test, its notifiers: started
 * through the real registry, this process's outbox routing, and the
 * dispatcher of the worker's dispatch_notifications task; undone (and the
 * directory removed) by notify_world_stop.
 *
 * Header-only (static inline) on the globals of tenancy_test_util.h.
 */
#ifndef SB_TESTS_NOTIFY_TEST_UTIL_H
#define SB_TESTS_NOTIFY_TEST_UTIL_H

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "config/settings.h"
#include "http/metrics.h"
#include "plugin/registry.h"
#include "store/outbox_store.h"
#include "tenancy_test_util.h"
#include "worker/notify_dispatch.h"

static char dir[256];
static sb_settings settings;
static sb_registry plugins;
static sb_notify_dispatcher *dispatcher;

/* Starts the tenancy world, makes `dir` (mkdtemp of prefix), writes
 * <dir>/server.yaml (role server, public URL https://sb.example.test/, then
 * what write_rest writes: plugins, notifiers, ...), loads and starts it. */
static inline void notify_world_start(const char *prefix, void (*write_rest)(FILE *f))
{
    tenancy_setup();
    snprintf(dir, sizeof dir, "%sXXXXXX", prefix);
    cr_assert_not_null(mkdtemp(dir));
    char path[300];
    snprintf(path, sizeof path, "%s/server.yaml", dir);
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    fprintf(f, "role: server\nhttp:\n  public_url: https://sb.example.test/\n");
    write_rest(f);
    fclose(f);
    sb_diags d;
    sb_diags_init(&d, path);
    size_t errors = sb_settings_load(path, "server", &settings, &d);
    if (errors == 0)
        errors = sb_registry_load(&plugins, &settings, NULL, &d);
    sb_diags_print(&d, stderr);
    sb_diags_free(&d);
    cr_assert_eq(errors, 0, "the test configuration is refused (see stderr)");
    sb_error err = {0};
    cr_assert_eq(sb_registry_start(&plugins, &err), 0, "%s", err.message);
    sb_outbox_routing_from_settings(&settings);
    cr_assert_eq(sb_notify_dispatcher_open(&settings, &plugins, &dispatcher, &err), 0, "%s",
                 err.message);
}

/* The value of a per-channel notification counter in this process
 * (sb_notifications_{delivered,retried,dead}_total). */
static inline double notify_counter(const char *name, const char *channel)
{
    return sb_metric_value(sb_metrics_counter(name, "", "channel", NULL), SB_LABELS(channel));
}

static inline int notify_remove_entry(const char *p, const struct stat *st, int flag,
                                      struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    return remove(p);
}

static inline void notify_world_stop(void)
{
    sb_notify_dispatcher_free(dispatcher);
    sb_registry_free(&plugins);
    sb_settings_free(&settings);
    sb_outbox_routing_set(NULL, 0, NULL);
    nftw(dir, notify_remove_entry, 8, FTW_DEPTH | FTW_PHYS);
    tenancy_teardown();
}

#endif
