/* test_http_metrics.c — the Prometheus registry: exact exposition text,
 * escaping, idempotent and conflicting registration, invalid names, and
 * exact totals under concurrent updates. */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http/metrics.h"

/* The rendered block of one family (from its # HELP line to the next). */
static char *family_text(const char *name)
{
    char *all = sb_metrics_render(NULL);
    cr_assert_not_null(all);
    char head[256];
    snprintf(head, sizeof head, "# HELP %s ", name);
    char *start = strstr(all, head);
    cr_assert_not_null(start, "no family %s in:\n%s", name, all);
    char *end = strstr(start + 1, "# HELP ");
    char *out = strndup(start, end ? (size_t)(end - start) : strlen(start));
    free(all);
    return out;
}

Test(http_metrics, counter_text_format)
{
    sb_metric *c = sb_metrics_counter("t_jobs_total", "Jobs by state.", "state", "kind",
                                      (const char *)NULL);
    cr_assert_not_null(c);
    sb_metric_add(c, SB_LABELS("queued", "read"), 1);
    sb_metric_add(c, SB_LABELS("queued", "read"), 2);
    sb_metric_add(c, SB_LABELS("failed", "patch"), 0.5);
    sb_metric_add(c, SB_LABELS("failed", "patch"), -3); /* counters never go down */
    char *text = family_text("t_jobs_total");
    cr_assert_str_eq(text, "# HELP t_jobs_total Jobs by state.\n"
                           "# TYPE t_jobs_total counter\n"
                           "t_jobs_total{state=\"queued\",kind=\"read\"} 3\n"
                           "t_jobs_total{state=\"failed\",kind=\"patch\"} 0.5\n");
    free(text);
    cr_assert_eq(sb_metric_value(c, SB_LABELS("queued", "read")), 3);
    cr_assert_eq(sb_metric_value(c, SB_LABELS("nope", "read")), 0);
}

Test(http_metrics, unlabelled_gauge_shows_zero_then_value)
{
    sb_metric *g = sb_metrics_gauge("t_agents_online", "Agents online.", (const char *)NULL);
    char *text = family_text("t_agents_online");
    cr_assert_str_eq(text, "# HELP t_agents_online Agents online.\n"
                           "# TYPE t_agents_online gauge\n"
                           "t_agents_online 0\n");
    free(text);
    sb_metric_set(g, NULL, 7);
    sb_metric_add(g, NULL, -2.5);
    text = family_text("t_agents_online");
    cr_assert(strstr(text, "\nt_agents_online 4.5\n") != NULL, "%s", text);
    free(text);
}

Test(http_metrics, histogram_buckets_are_cumulative)
{
    const double b[] = {0.25, 1, 10};
    sb_metric *h = sb_metrics_histogram("t_claim_seconds", "Claim latency.", b, 3, "agent",
                                        (const char *)NULL);
    cr_assert_not_null(h);
    sb_metric_observe(h, SB_LABELS("a1"), 0.125);
    sb_metric_observe(h, SB_LABELS("a1"), 0.25); /* upper bounds are inclusive */
    sb_metric_observe(h, SB_LABELS("a1"), 5);
    sb_metric_observe(h, SB_LABELS("a1"), 100);
    char *text = family_text("t_claim_seconds");
    cr_assert_str_eq(text, "# HELP t_claim_seconds Claim latency.\n"
                           "# TYPE t_claim_seconds histogram\n"
                           "t_claim_seconds_bucket{agent=\"a1\",le=\"0.25\"} 2\n"
                           "t_claim_seconds_bucket{agent=\"a1\",le=\"1\"} 2\n"
                           "t_claim_seconds_bucket{agent=\"a1\",le=\"10\"} 3\n"
                           "t_claim_seconds_bucket{agent=\"a1\",le=\"+Inf\"} 4\n"
                           "t_claim_seconds_sum{agent=\"a1\"} 105.375\n"
                           "t_claim_seconds_count{agent=\"a1\"} 4\n");
    free(text);
    cr_assert_eq(sb_metric_value(h, SB_LABELS("a1")), 4);
}

Test(http_metrics, label_values_and_help_are_escaped)
{
    sb_metric *c = sb_metrics_counter("t_escape_total", "Line one\nback\\slash", "v",
                                      (const char *)NULL);
    sb_metric_add(c, SB_LABELS("a\"b\\c\nd"), 1);
    char *text = family_text("t_escape_total");
    cr_assert_str_eq(text, "# HELP t_escape_total Line one\\nback\\\\slash\n"
                           "# TYPE t_escape_total counter\n"
                           "t_escape_total{v=\"a\\\"b\\\\c\\nd\"} 1\n");
    free(text);
    /* invalid UTF-8 label values are dropped, not rendered */
    sb_metric_add(c, SB_LABELS("\xff"), 1);
    text = family_text("t_escape_total");
    cr_assert_null(strstr(text, "\xff"));
    free(text);
}

Test(http_metrics, registration_is_idempotent_and_conflicts_are_refused)
{
    sb_metric *a = sb_metrics_counter("t_idem_total", "x", "l", (const char *)NULL);
    sb_metric *b = sb_metrics_counter("t_idem_total", "x", "l", (const char *)NULL);
    cr_assert_not_null(a);
    cr_assert_eq(a, b);
    cr_assert_null(sb_metrics_gauge("t_idem_total", "x", "l", (const char *)NULL));
    cr_assert_null(sb_metrics_counter("t_idem_total", "x", "other", (const char *)NULL));
    cr_assert_null(sb_metrics_counter("9starts_with_digit", "x", (const char *)NULL));
    cr_assert_null(sb_metrics_counter("has-dash", "x", (const char *)NULL));
    cr_assert_null(sb_metrics_counter("t_ok_total", "x", "__reserved", (const char *)NULL));
    cr_assert_null(sb_metrics_counter("t_ok_total", "x", "a", "a", (const char *)NULL));
    const double b1[] = {1, 1};
    cr_assert_null(sb_metrics_histogram("t_h", "x", b1, 2, (const char *)NULL));
    const double b2[] = {1, 2};
    cr_assert_null(sb_metrics_histogram("t_h", "x", b2, 2, "le", (const char *)NULL));
    /* a NULL family is a harmless no-op */
    sb_metric_add(NULL, SB_LABELS("x"), 1);
    sb_metric_observe(NULL, NULL, 1);
}

static sb_metric *shared;

static void *hammer(void *arg)
{
    char label[8];
    snprintf(label, sizeof label, "r%d", (int)(long)arg % 3);
    sb_metric_series *s = sb_metric_series_get(shared, SB_LABELS("hot"));
    for (int i = 0; i < 20000; i++) {
        sb_metric_series_add(s, 1);
        sb_metric_add(shared, SB_LABELS(label), 1);
    }
    return NULL;
}

Test(http_metrics, concurrent_updates_are_exact)
{
    shared = sb_metrics_counter("t_concurrent_total", "x", "route", (const char *)NULL);
    pthread_t t[8];
    for (long i = 0; i < 8; i++)
        pthread_create(&t[i], NULL, hammer, (void *)i);
    for (int i = 0; i < 8; i++)
        pthread_join(t[i], NULL);
    cr_assert_eq(sb_metric_value(shared, SB_LABELS("hot")), 8 * 20000);
    double spread = sb_metric_value(shared, SB_LABELS("r0")) +
                    sb_metric_value(shared, SB_LABELS("r1")) +
                    sb_metric_value(shared, SB_LABELS("r2"));
    cr_assert_eq(spread, 8 * 20000);
}

Test(http_metrics, a_family_is_capped)
{
    sb_metric *c = sb_metrics_counter("t_capped_total", "x", "id", (const char *)NULL);
    char v[32];
    for (int i = 0; i < SB_METRICS_MAX_SERIES + 10; i++) {
        snprintf(v, sizeof v, "%d", i);
        sb_metric_add(c, SB_LABELS(v), 1);
    }
    snprintf(v, sizeof v, "%d", SB_METRICS_MAX_SERIES - 1);
    cr_assert_eq(sb_metric_value(c, SB_LABELS(v)), 1);
    snprintf(v, sizeof v, "%d", SB_METRICS_MAX_SERIES);
    cr_assert_eq(sb_metric_value(c, SB_LABELS(v)), 0);
}
