/* tests/support/emulator_support.c — see emulator_support.h. */
#include "abi_outputs.h"
#include "emulator_support.h"

#include <criterion/criterion.h>
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef SB_SOURCE_DIR
#error "SB_SOURCE_DIR must be defined by the build"
#endif

static es_proc main_emu = {.pid = -1};

void es_proc_start(es_proc *e, const char *script_rel, const char *const *extra_args)
{
    char why[300];
    if (es_proc_spawn(e, SB_SOURCE_DIR, script_rel, extra_args, why, sizeof why) != 0)
        cr_assert_fail("%s", why);
}

void es_emulator_start(const char *script_rel, const char *const *extra_args)
{
    es_proc_start(&main_emu, script_rel, extra_args);
}

void es_emulator_stop(void) { es_proc_stop(&main_emu); }

int es_port(void) { return main_emu.port; }

/* ---- libcurl -------------------------------------------------------------- */

typedef struct body_buf {
    char *p;
    size_t len;
} body_buf;

static size_t on_data(char *data, size_t size, size_t n, void *userp)
{
    body_buf *b = userp;
    size_t add = size * n;
    char *p = realloc(b->p, b->len + add + 1);
    if (p == NULL)
        return 0;
    memcpy(p + b->len, data, add);
    b->p = p;
    b->len += add;
    b->p[b->len] = '\0';
    return add;
}

long es_http(const char *method, const char *url, struct curl_slist *headers,
                      const char *json, char **out)
{
    CURL *c = curl_easy_init();
    cr_assert_not_null(c);
    body_buf b = {calloc(1, 1), 0};
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    if (json) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, json);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(json));
    }
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 120L);
    CURLcode rc = curl_easy_perform(c);
    long status = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_cleanup(c);
    cr_assert_eq(rc, CURLE_OK, "%s %s: %s", method, url, curl_easy_strerror(rc));
    if (out)
        *out = b.p;
    else
        free(b.p);
    return status;
}

long es_admin(const char *method, const char *name, const char *json, char **out)
{
    char url[512];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/_emulator/%s", main_emu.port, name);
    struct curl_slist *h = curl_slist_append(NULL, "X-Emulator-Admin: 1");
    long status = es_http(method, url, h, json, out);
    curl_slist_free_all(h);
    return status;
}

void es_admin_ok(const char *method, const char *name, const char *json)
{
    char *body = NULL;
    long status = es_admin(method, name, json, &body);
    cr_assert_eq(status, 200, "%s /_emulator/%s -> %ld: %s", method, name, status, body);
    free(body);
}

const sb_host_api *es_host(sb_harness *h) { return sb_harness_host(h); }
const sb_provider_ops *es_provider(sb_harness *h) { return sb_harness_descriptor(h)->provider; }
const sb_kms_ops *es_kms(sb_harness *h) { return sb_harness_descriptor(h)->kms; }

char *es_bundle_get(sb_harness *h, const sb_bundle *b, const char *key, sb_value_kind *kind)
{
    const sb_host_api *host = es_host(h);
    for (size_t i = 0; i < host->bundle_count(b); i++) {
        const char *k = NULL;
        const unsigned char *v = NULL;
        size_t len = 0;
        sb_value_kind kd;
        cr_assert_eq(host->bundle_entry(b, i, &k, &kd, &v, &len), 0);
        if (strcmp(k, key) == 0) {
            if (kind)
                *kind = kd;
            char *copy = malloc(len + 1);
            memcpy(copy, v, len);
            copy[len] = '\0';
            return copy;
        }
    }
    return NULL;
}

sb_bundle *es_bundle(sb_harness *h, ...)
{
    const sb_host_api *host = es_host(h);
    sb_bundle *b = host->bundle_new(SB_SHAPE_MAP);
    cr_assert_not_null(b);
    va_list ap;
    va_start(ap, h);
    for (const char *k = va_arg(ap, const char *); k; k = va_arg(ap, const char *)) {
        const char *v = va_arg(ap, const char *);
        cr_assert_eq(host->bundle_put(b, k, SB_VALUE_STRING, (const unsigned char *)v, strlen(v)),
                     0);
    }
    va_end(ap);
    return b;
}

sb_bundle *es_read_ok(sb_harness *h, const char *path, const char *version, sb_version_info *v)
{
    sb_secret_ref ref = {sizeof ref, 0, path, version};
    SB_TEST_RESULT res = SB_RESULT_INIT;
    sb_bundle *out = NULL;
    sb_version_info local = SB_TEST_VERSION_INFO;
    sb_version_info *vi = v ? v : &local;
    vi->struct_size = sizeof *vi;
    sb_status st = es_provider(h)->read(sb_harness_instance(h), sb_harness_call(h, 10000), &ref,
                                        &out, vi, &res);
    cr_assert_eq(st, SB_OK, "read %s: status %d: %s", path, st, res.message);
    cr_assert_not_null(out);
    return out;
}

/* ---- sinks -------------------------------------------------------------------- */

int es_sink_collect(void *sink, const sb_metadata *m)
{
    es_sink *s = sink;
    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 64;
        s->items = realloc(s->items, s->cap * sizeof *s->items);
        cr_assert_not_null(s->items);
    }
    es_item *it = &s->items[s->n++];
    memset(it, 0, sizeof *it);
    it->path = strdup(m->path);
    it->version = m->version ? strdup(m->version) : NULL;
    it->flags = m->flags;
    it->created = m->created_unix_ms;
    it->updated = m->updated_unix_ms;
    size_t cap = 1;
    for (size_t i = 0; i < m->n_labels; i++)
        cap += strlen(m->labels[i].key) + strlen(m->labels[i].value) + 2;
    it->labels = calloc(1, cap);
    for (size_t i = 0; i < m->n_labels; i++) {
        strcat(it->labels, m->labels[i].key);
        strcat(it->labels, "=");
        strcat(it->labels, m->labels[i].value);
        strcat(it->labels, ";");
    }
    return s->stop_after && s->n >= s->stop_after;
}

void es_sink_free(es_sink *s)
{
    for (size_t i = 0; i < s->n; i++) {
        free(s->items[i].path);
        free(s->items[i].version);
        free(s->items[i].labels);
    }
    free(s->items);
    memset(s, 0, sizeof *s);
}

const es_item *es_sink_find(const es_sink *s, const char *path)
{
    for (size_t i = 0; i < s->n; i++)
        if (strcmp(s->items[i].path, path) == 0)
            return &s->items[i];
    return NULL;
}

size_t es_count(const char *hay, const char *needle)
{
    size_t n = 0, len = strlen(needle);
    for (const char *p = hay; len && (p = strstr(p, needle)) != NULL; p += len)
        n++;
    return n;
}

char *es_temp_file(const char *name, const char *text)
{
    char *path = NULL;
    cr_assert(asprintf(&path, "%s/%s", main_emu.dir, name) > 0);
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    fputs(text, f);
    fclose(f);
    return path;
}
