/* http/metrics.c — see metrics.h. */
#include "http/metrics.h"

#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http/textbuf.h"
#include "util/log.h"
#include "util/utf8.h"

const double sb_metrics_latency_buckets[] = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                             0.1,   0.25,   0.5,   1,    2.5,   5,   10};
const size_t sb_metrics_latency_buckets_len =
    sizeof sb_metrics_latency_buckets / sizeof sb_metrics_latency_buckets[0];

struct sb_metric_series {
    sb_metric *family;
    char **values;              /* family->n_labels copies */
    _Atomic uint64_t value;     /* counter/gauge: bits of a double */
    _Atomic uint64_t sum;       /* histogram: bits of a double */
    _Atomic uint64_t counts[];  /* histogram: per bucket (not cumulative), last = +Inf */
};

struct sb_metric {
    sb_metric_type type;
    char *name, *help;
    size_t n_labels;
    char *labels[SB_METRICS_MAX_LABELS];
    size_t n_buckets;
    double buckets[SB_METRICS_MAX_BUCKETS];
    pthread_rwlock_t lock;      /* guards the series array and index below */
    sb_metric_series **series;  /* in creation order (render order) */
    size_t n_series, cap_series;
    uint32_t *slots;            /* open-addressing index: series position + 1; 0 = empty */
    size_t n_slots;
    atomic_int full_logged;
};

static struct {
    pthread_mutex_t mu;
    sb_metric **families;
    size_t n, cap;
} registry = {PTHREAD_MUTEX_INITIALIZER, NULL, 0, 0};

/* ---- values ---------------------------------------------------------- */

static double bits_to_double(uint64_t bits)
{
    double d;
    memcpy(&d, &bits, sizeof d);
    return d;
}

static uint64_t double_to_bits(double d)
{
    uint64_t bits;
    memcpy(&bits, &d, sizeof bits);
    return bits;
}

static void atomic_add_double(_Atomic uint64_t *cell, double delta)
{
    uint64_t old = atomic_load_explicit(cell, memory_order_relaxed);
    while (!atomic_compare_exchange_weak_explicit(cell, &old,
                                                  double_to_bits(bits_to_double(old) + delta),
                                                  memory_order_relaxed, memory_order_relaxed))
        ;
}

/* ---- registration ---------------------------------------------------- */

static int valid_name(const char *s, int metric)
{
    if (s == NULL || *s == '\0')
        return 0;
    for (const char *p = s; *p; p++) {
        char c = *p;
        int alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
                    (metric && c == ':');
        if (!alpha && !(p != s && c >= '0' && c <= '9'))
            return 0;
    }
    return metric || strncmp(s, "__", 2) != 0;
}

static int same_shape(const sb_metric *m, sb_metric_type type, const char *const *labels,
                      size_t n_labels, const double *buckets, size_t n_buckets)
{
    if (m->type != type || m->n_labels != n_labels)
        return 0;
    for (size_t i = 0; i < n_labels; i++)
        if (strcmp(m->labels[i], labels[i]) != 0)
            return 0;
    if (type != SB_METRIC_HISTOGRAM)
        return 1;
    if (m->n_buckets != n_buckets)
        return 0;
    for (size_t i = 0; i < n_buckets; i++)
        if (m->buckets[i] != buckets[i])
            return 0;
    return 1;
}

static const char *check_definition(sb_metric_type type, const char *name,
                                    const char *const *labels, size_t n_labels,
                                    const double *buckets, size_t n_buckets)
{
    if (!valid_name(name, 1))
        return "the metric name must match [a-zA-Z_:][a-zA-Z0-9_:]*";
    if (n_labels > SB_METRICS_MAX_LABELS)
        return "too many label names (at most 8)";
    for (size_t i = 0; i < n_labels; i++) {
        if (!valid_name(labels[i], 0))
            return "a label name must match [a-zA-Z_][a-zA-Z0-9_]* and not start with __";
        if (type == SB_METRIC_HISTOGRAM && strcmp(labels[i], "le") == 0)
            return "a histogram may not use the label name \"le\"";
        for (size_t j = 0; j < i; j++)
            if (strcmp(labels[i], labels[j]) == 0)
                return "a label name is listed twice";
    }
    if (type == SB_METRIC_HISTOGRAM) {
        if (buckets == NULL || n_buckets == 0 || n_buckets > SB_METRICS_MAX_BUCKETS)
            return "a histogram needs 1 to 32 bucket bounds";
        for (size_t i = 0; i < n_buckets; i++)
            if (!isfinite(buckets[i]) || (i > 0 && buckets[i] <= buckets[i - 1]))
                return "histogram bucket bounds must be finite and strictly increasing";
    }
    return NULL;
}

static void free_family(sb_metric *m)
{
    if (m == NULL)
        return;
    for (size_t i = 0; i < m->n_series; i++) {
        for (size_t j = 0; j < m->n_labels; j++)
            free(m->series[i]->values[j]);
        free(m->series[i]->values);
        free(m->series[i]);
    }
    for (size_t i = 0; i < m->n_labels; i++)
        free(m->labels[i]);
    free(m->series);
    free(m->slots);
    free(m->name);
    free(m->help);
    pthread_rwlock_destroy(&m->lock);
    free(m);
}

static sb_metric *new_family(sb_metric_type type, const char *name, const char *help,
                             const char *const *labels, size_t n_labels, const double *buckets,
                             size_t n_buckets)
{
    sb_metric *m = calloc(1, sizeof *m);
    if (m == NULL)
        return NULL;
    pthread_rwlock_init(&m->lock, NULL);
    m->type = type;
    m->name = strdup(name);
    m->help = strdup(help ? help : "");
    int ok = m->name && m->help;
    for (size_t i = 0; i < n_labels; i++) {
        m->labels[i] = strdup(labels[i]);
        ok = ok && m->labels[i];
    }
    m->n_labels = n_labels;
    if (type == SB_METRIC_HISTOGRAM) {
        memcpy(m->buckets, buckets, n_buckets * sizeof *buckets);
        m->n_buckets = n_buckets;
    }
    if (!ok) {
        free_family(m);
        return NULL;
    }
    return m;
}

sb_metric *sb_metrics_register(sb_metric_type type, const char *name, const char *help,
                               const char *const *label_names, size_t n_labels,
                               const double *buckets, size_t n_buckets)
{
    const char *why = check_definition(type, name, label_names, n_labels, buckets, n_buckets);
    if (why != NULL) {
        sb_err("metrics", "metric %s not registered: %s", name ? name : "(null)", why);
        return NULL;
    }
    pthread_mutex_lock(&registry.mu);
    sb_metric *found = NULL;
    for (size_t i = 0; i < registry.n; i++)
        if (strcmp(registry.families[i]->name, name) == 0)
            found = registry.families[i];
    if (found != NULL) {
        int same = same_shape(found, type, label_names, n_labels, buckets, n_buckets);
        pthread_mutex_unlock(&registry.mu);
        if (!same)
            sb_err("metrics", "metric %s not registered: already registered with another type, "
                              "label names or buckets", name);
        return same ? found : NULL;
    }
    sb_metric *m = NULL;
    if (registry.n == registry.cap) {
        size_t cap = registry.cap ? registry.cap * 2 : 32;
        sb_metric **grown = realloc(registry.families, cap * sizeof *grown);
        if (grown != NULL) {
            registry.families = grown;
            registry.cap = cap;
        }
    }
    if (registry.n < registry.cap)
        m = new_family(type, name, help, label_names, n_labels, buckets, n_buckets);
    if (m != NULL)
        registry.families[registry.n++] = m;
    pthread_mutex_unlock(&registry.mu);
    if (m == NULL)
        sb_err("metrics", "metric %s not registered: out of memory", name);
    else if (n_labels == 0)
        (void)sb_metric_series_get(m, NULL); /* an unlabelled family always shows its sample */
    return m;
}

static sb_metric *register_va(sb_metric_type type, const char *name, const char *help,
                              const double *buckets, size_t n_buckets, va_list ap)
{
    const char *labels[SB_METRICS_MAX_LABELS + 1];
    size_t n = 0;
    const char *l;
    while ((l = va_arg(ap, const char *)) != NULL) {
        if (n > SB_METRICS_MAX_LABELS)
            break;
        labels[n++] = l;
    }
    return sb_metrics_register(type, name, help, labels, n, buckets, n_buckets);
}

sb_metric *sb_metrics_counter(const char *name, const char *help, ...)
{
    va_list ap;
    va_start(ap, help);
    sb_metric *m = register_va(SB_METRIC_COUNTER, name, help, NULL, 0, ap);
    va_end(ap);
    return m;
}

sb_metric *sb_metrics_gauge(const char *name, const char *help, ...)
{
    va_list ap;
    va_start(ap, help);
    sb_metric *m = register_va(SB_METRIC_GAUGE, name, help, NULL, 0, ap);
    va_end(ap);
    return m;
}

sb_metric *sb_metrics_histogram(const char *name, const char *help, const double *buckets,
                                size_t n_buckets, ...)
{
    va_list ap;
    va_start(ap, n_buckets);
    sb_metric *m = register_va(SB_METRIC_HISTOGRAM, name, help, buckets, n_buckets, ap);
    va_end(ap);
    return m;
}

/* ---- series lookup --------------------------------------------------- */

static uint64_t hash_values(const char *const *values, size_t n)
{
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < n; i++) {
        for (const unsigned char *p = (const unsigned char *)(values[i] ? values[i] : ""); *p; p++)
            h = (h ^ *p) * 1099511628211ULL;
        h = (h ^ 0xff) * 1099511628211ULL;
    }
    return h;
}

static int series_matches(const sb_metric_series *s, const char *const *values, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(s->values[i], values[i] ? values[i] : "") != 0)
            return 0;
    return 1;
}

/* Looks up under whichever lock the caller holds. */
static sb_metric_series *find_series(const sb_metric *m, const char *const *values, uint64_t h)
{
    if (m->n_slots == 0)
        return NULL;
    for (size_t i = h & (m->n_slots - 1);; i = (i + 1) & (m->n_slots - 1)) {
        uint32_t slot = m->slots[i];
        if (slot == 0)
            return NULL;
        if (series_matches(m->series[slot - 1], values, m->n_labels))
            return m->series[slot - 1];
    }
}

static int valid_values(const char *const *values, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (values[i] != NULL && !sb_utf8_valid((const unsigned char *)values[i], strlen(values[i])))
            return 0;
    return 1;
}

static int index_series(sb_metric *m)
{
    /* keep the load factor at or below one half */
    if ((m->n_series + 1) * 2 > m->n_slots) {
        size_t n_slots = m->n_slots ? m->n_slots * 2 : 16;
        uint32_t *slots = calloc(n_slots, sizeof *slots);
        if (slots == NULL)
            return -1;
        for (size_t k = 0; k < m->n_series; k++) {
            uint64_t h = hash_values((const char *const *)m->series[k]->values, m->n_labels);
            size_t i = h & (n_slots - 1);
            while (slots[i] != 0)
                i = (i + 1) & (n_slots - 1);
            slots[i] = (uint32_t)k + 1;
        }
        free(m->slots);
        m->slots = slots;
        m->n_slots = n_slots;
    }
    return 0;
}

static sb_metric_series *create_series(sb_metric *m, const char *const *values, uint64_t h)
{
    if (m->n_series >= SB_METRICS_MAX_SERIES) {
        if (atomic_exchange(&m->full_logged, 1) == 0)
            sb_warn("metrics", "metric %s has %d series; new label combinations are dropped",
                    m->name, SB_METRICS_MAX_SERIES);
        return NULL;
    }
    if (index_series(m) != 0)
        return NULL;
    if (m->n_series == m->cap_series) {
        size_t cap = m->cap_series ? m->cap_series * 2 : 8;
        sb_metric_series **grown = realloc(m->series, cap * sizeof *grown);
        if (grown == NULL)
            return NULL;
        m->series = grown;
        m->cap_series = cap;
    }
    size_t n_counts = m->type == SB_METRIC_HISTOGRAM ? m->n_buckets + 1 : 0;
    sb_metric_series *s = calloc(1, sizeof *s + n_counts * sizeof s->counts[0]);
    char **copies = calloc(m->n_labels ? m->n_labels : 1, sizeof *copies);
    int ok = s && copies;
    for (size_t i = 0; ok && i < m->n_labels; i++)
        ok = (copies[i] = strdup(values[i] ? values[i] : "")) != NULL;
    if (!ok) {
        for (size_t i = 0; copies && i < m->n_labels; i++)
            free(copies[i]);
        free(copies);
        free(s);
        return NULL;
    }
    s->family = m;
    s->values = copies;
    size_t i = h & (m->n_slots - 1);
    while (m->slots[i] != 0)
        i = (i + 1) & (m->n_slots - 1);
    m->series[m->n_series++] = s;
    m->slots[i] = (uint32_t)m->n_series;
    return s;
}

sb_metric_series *sb_metric_series_get(sb_metric *m, const char *const *values)
{
    if (m == NULL || (m->n_labels > 0 && values == NULL) || !valid_values(values, m->n_labels))
        return NULL;
    uint64_t h = hash_values(values, m->n_labels);
    pthread_rwlock_rdlock(&m->lock);
    sb_metric_series *s = find_series(m, values, h);
    pthread_rwlock_unlock(&m->lock);
    if (s != NULL)
        return s;
    pthread_rwlock_wrlock(&m->lock);
    s = find_series(m, values, h);
    if (s == NULL)
        s = create_series(m, values, h);
    pthread_rwlock_unlock(&m->lock);
    return s;
}

/* ---- updates --------------------------------------------------------- */

void sb_metric_series_add(sb_metric_series *s, double delta)
{
    if (s == NULL || s->family->type == SB_METRIC_HISTOGRAM)
        return;
    if (s->family->type == SB_METRIC_COUNTER && !(delta >= 0))
        return;
    atomic_add_double(&s->value, delta);
}

void sb_metric_series_set(sb_metric_series *s, double value)
{
    if (s == NULL || s->family->type != SB_METRIC_GAUGE)
        return;
    atomic_store_explicit(&s->value, double_to_bits(value), memory_order_relaxed);
}

void sb_metric_series_observe(sb_metric_series *s, double value)
{
    if (s == NULL || s->family->type != SB_METRIC_HISTOGRAM || isnan(value))
        return;
    const sb_metric *m = s->family;
    size_t b = 0;
    while (b < m->n_buckets && value > m->buckets[b])
        b++;
    atomic_fetch_add_explicit(&s->counts[b], 1, memory_order_relaxed);
    atomic_add_double(&s->sum, value);
}

void sb_metric_add(sb_metric *m, const char *const *values, double delta)
{
    sb_metric_series_add(sb_metric_series_get(m, values), delta);
}

void sb_metric_set(sb_metric *m, const char *const *values, double value)
{
    sb_metric_series_set(sb_metric_series_get(m, values), value);
}

void sb_metric_observe(sb_metric *m, const char *const *values, double value)
{
    sb_metric_series_observe(sb_metric_series_get(m, values), value);
}

double sb_metric_value(sb_metric *m, const char *const *values)
{
    if (m == NULL || (m->n_labels > 0 && values == NULL))
        return 0;
    uint64_t h = hash_values(values, m->n_labels);
    pthread_rwlock_rdlock(&m->lock);
    const sb_metric_series *s = find_series(m, values, h);
    double v = 0;
    if (s != NULL && m->type != SB_METRIC_HISTOGRAM)
        v = bits_to_double(atomic_load_explicit(&s->value, memory_order_relaxed));
    else if (s != NULL)
        for (size_t b = 0; b <= m->n_buckets; b++)
            v += (double)atomic_load_explicit(&s->counts[b], memory_order_relaxed);
    pthread_rwlock_unlock(&m->lock);
    return v;
}

/* ---- exposition ------------------------------------------------------ */

/* Shortest of %.15g / %.17g that reads back exactly; Prometheus spellings
 * for the non-finite values. */
static void format_number(char *out, size_t cap, double v)
{
    if (isnan(v)) {
        snprintf(out, cap, "NaN");
    } else if (isinf(v)) {
        snprintf(out, cap, v > 0 ? "+Inf" : "-Inf");
    } else {
        snprintf(out, cap, "%.15g", v);
        if (strtod(out, NULL) != v)
            snprintf(out, cap, "%.17g", v);
    }
}

static void append_escaped(sb_textbuf *b, const char *s, int quote)
{
    for (; *s; s++) {
        if (*s == '\\')
            sb_textbuf_puts(b, "\\\\");
        else if (*s == '\n')
            sb_textbuf_puts(b, "\\n");
        else if (quote && *s == '"')
            sb_textbuf_puts(b, "\\\"");
        else
            sb_textbuf_append(b, s, 1);
    }
}

/* {a="x",b="y"[,le="…"]} or nothing when there are no labels at all. */
static void append_labels(sb_textbuf *b, const sb_metric *m, const sb_metric_series *s,
                          const char *le)
{
    if (m->n_labels == 0 && le == NULL)
        return;
    sb_textbuf_puts(b, "{");
    for (size_t i = 0; i < m->n_labels; i++) {
        sb_textbuf_printf(b, "%s%s=\"", i ? "," : "", m->labels[i]);
        append_escaped(b, s->values[i], 1);
        sb_textbuf_puts(b, "\"");
    }
    if (le != NULL)
        sb_textbuf_printf(b, "%sle=\"%s\"", m->n_labels ? "," : "", le);
    sb_textbuf_puts(b, "}");
}

static void render_series(sb_textbuf *b, const sb_metric *m, const sb_metric_series *s)
{
    char num[64], le[64];
    if (m->type != SB_METRIC_HISTOGRAM) {
        sb_textbuf_puts(b, m->name);
        append_labels(b, m, s, NULL);
        format_number(num, sizeof num, bits_to_double(atomic_load(&s->value)));
        sb_textbuf_printf(b, " %s\n", num);
        return;
    }
    uint64_t cumulative = 0;
    for (size_t i = 0; i <= m->n_buckets; i++) {
        cumulative += atomic_load_explicit(&s->counts[i], memory_order_relaxed);
        if (i < m->n_buckets)
            format_number(le, sizeof le, m->buckets[i]);
        else
            snprintf(le, sizeof le, "+Inf");
        sb_textbuf_printf(b, "%s_bucket", m->name);
        append_labels(b, m, s, le);
        sb_textbuf_printf(b, " %llu\n", (unsigned long long)cumulative);
    }
    format_number(num, sizeof num, bits_to_double(atomic_load(&s->sum)));
    sb_textbuf_printf(b, "%s_sum", m->name);
    append_labels(b, m, s, NULL);
    sb_textbuf_printf(b, " %s\n%s_count", num, m->name);
    append_labels(b, m, s, NULL);
    sb_textbuf_printf(b, " %llu\n", (unsigned long long)cumulative);
}

char *sb_metrics_render(size_t *len)
{
    static const char *type_names[] = {"counter", "gauge", "histogram"};
    sb_textbuf b = {0};
    pthread_mutex_lock(&registry.mu);
    for (size_t f = 0; f < registry.n; f++) {
        sb_metric *m = registry.families[f];
        sb_textbuf_printf(&b, "# HELP %s ", m->name);
        append_escaped(&b, m->help, 0);
        sb_textbuf_printf(&b, "\n# TYPE %s %s\n", m->name, type_names[m->type]);
        pthread_rwlock_rdlock(&m->lock);
        for (size_t i = 0; i < m->n_series; i++)
            render_series(&b, m, m->series[i]);
        pthread_rwlock_unlock(&m->lock);
    }
    pthread_mutex_unlock(&registry.mu);
    return sb_textbuf_take(&b, len);
}
