/*
 * http/metrics.h — a small, thread-safe Prometheus registry.
 *
 * Contract: one process-wide registry of metric families (counter, gauge,
 * histogram with fixed buckets), each with 0–SB_METRICS_MAX_LABELS label
 * names, rendered by sb_metrics_render() in the Prometheus text exposition
 * format 0.0.4 (`# HELP`, `# TYPE`, escaped label values, `_bucket{le=...}`,
 * `_sum`, `_count`). Any subsystem registers its own families here; the HTTP
 * server serves the result at /metrics.
 *
 * Registration is idempotent: registering a name again with the same type,
 * label names (and buckets) returns the existing family; a conflicting
 * registration or an invalid name returns NULL and logs why. Every update
 * function accepts a NULL family or series and does nothing, so a failed
 * registration never crashes a hot path.
 *
 * Cost: a series (one combination of label values) is found through a hash
 * index under a read lock, created once under the write lock, and never
 * removed, so a series pointer from sb_metric_series_get() stays valid for the
 * life of the process; updating it is a lock-free atomic. Callers on hot
 * paths may cache series pointers. A family holds at most
 * SB_METRICS_MAX_SERIES series; further label combinations are dropped (and
 * logged once) — label values must come from small, bounded sets (route
 * patterns, never raw paths; status codes; enum names), never from user input.
 *
 * Label values are copied and must be valid UTF-8 (updates with invalid
 * values are dropped).
 */
#ifndef SB_HTTP_METRICS_H
#define SB_HTTP_METRICS_H

#include <stddef.h>

#define SB_METRICS_MAX_LABELS 8
#define SB_METRICS_MAX_BUCKETS 32
#define SB_METRICS_MAX_SERIES 4096

typedef enum sb_metric_type {
    SB_METRIC_COUNTER,
    SB_METRIC_GAUGE,
    SB_METRIC_HISTOGRAM
} sb_metric_type;

typedef struct sb_metric sb_metric;               /* a family */
typedef struct sb_metric_series sb_metric_series; /* one label-value combination */

/* Label names follow as a NULL-terminated list of const char *. */
sb_metric *sb_metrics_counter(const char *name, const char *help, ...);
sb_metric *sb_metrics_gauge(const char *name, const char *help, ...);
/* buckets: strictly increasing finite upper bounds (+Inf is implicit). */
sb_metric *sb_metrics_histogram(const char *name, const char *help, const double *buckets,
                                size_t n_buckets, ...);
/* The same with arrays (for callers that build label lists). */
sb_metric *sb_metrics_register(sb_metric_type type, const char *name, const char *help,
                               const char *const *label_names, size_t n_labels,
                               const double *buckets, size_t n_buckets);

/* Default buckets for latencies in seconds: 1 ms … 10 s. */
extern const double sb_metrics_latency_buckets[];
extern const size_t sb_metrics_latency_buckets_len;

/* Label values: an array of exactly as many strings as the family has label
 * names (NULL when it has none). SB_LABELS("GET", "200") builds one inline. */
#define SB_LABELS(...) ((const char *const[]){__VA_ARGS__})

/* The series for these label values, created on first use; NULL when the
 * family is NULL or full. */
sb_metric_series *sb_metric_series_get(sb_metric *family, const char *const *label_values);

/* Counter: delta >= 0 (negative deltas are ignored). Gauge: any delta. */
void sb_metric_series_add(sb_metric_series *s, double delta);
void sb_metric_series_set(sb_metric_series *s, double value); /* gauges */
void sb_metric_series_observe(sb_metric_series *s, double value); /* histograms */

/* One-shot forms: look up (or create) the series, then update it. */
void sb_metric_add(sb_metric *family, const char *const *label_values, double delta);
void sb_metric_set(sb_metric *family, const char *const *label_values, double value);
void sb_metric_observe(sb_metric *family, const char *const *label_values, double value);

/* Current value of a counter/gauge series, or the observation count of a
 * histogram series; 0 when the series does not exist yet (for tests). */
double sb_metric_value(sb_metric *family, const char *const *label_values);

/* The whole registry in text format 0.0.4; malloc'd, NUL-terminated, the
 * caller frees. NULL on allocation failure. */
char *sb_metrics_render(size_t *len);

#define SB_METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

#endif
