/*
 * example_plugin.c — a complete Secrets Bridge plugin, built out of tree
 * with nothing but <sbridge/plugin.h> and `pkg-config sbridge-plugin`.
 *
 * It implements every capability of ABI v1 against in-memory state, so
 * vendors can read one file to see the whole contract, and so the host's
 * conformance kit exercises every capability:
 *   PROVIDER  an in-memory secret store (versions, compare-and-set, labels,
 *             list with selector) seeded with demo secrets when
 *             `seed_demo: true`;
 *   KMS       a demonstration wrap: XOR with a per-instance random pad and a
 *             checksum. It is NOT encryption; never use it for real keys;
 *   GITOPS    reports a configured evidence value;
 *   NOTIFIER  counts deliveries and logs the event title (never a value).
 * Values live only in host secure buffers/bundles. Every operation checks
 * its arguments and answers invalid ones with SB_E_INVALID.
 */
#include <sbridge/plugin.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_SECRETS 64
#define MAX_LABELS 4
#define PAD_LEN 64

static const sb_host_api *host;

typedef struct secret {
    char path[128];
    unsigned version;
    sb_bundle *values; /* host-owned secure bundle */
    sb_kv labels[MAX_LABELS];
    size_t n_labels;
} secret;

typedef struct instance {
    secret secrets[MAX_SECRETS];
    size_t n;
    unsigned char pad[PAD_LEN];
    char evidence[16];
    unsigned deliveries;
} instance;

static const sb_config_field config_fields[] = {
    {.struct_size = sizeof(sb_config_field), .key = "seed_demo", .type = SB_CFG_BOOL,
     .default_value = "false", .help = "Start with a few demo secrets.", .min = 1, .max = 0},
    {.struct_size = sizeof(sb_config_field), .key = "team_label", .type = SB_CFG_STRING,
     .default_value = "payments", .help = "Value of the team label on demo secrets.", .min = 1, .max = 0},
    {.struct_size = sizeof(sb_config_field), .key = "gitops_evidence", .type = SB_CFG_ENUM,
     .default_value = "none", .enum_values = "none|rolling|applied|failed",
     .help = "What observe() reports (demonstration).", .min = 1, .max = 0},
    {.struct_size = sizeof(sb_config_field), .key = "webhook_token", .type = SB_CFG_STRING,
     .flags = SB_CFG_SECRET, .help = "A secret setting, to show redaction.", .min = 1, .max = 0},
};

#define INVALID_IF(cond, res, what)                                                                \
    do {                                                                                           \
        if (cond)                                                                                  \
            return host ? host->fail(res, SB_E_INVALID, 0, "example: %s", what) : SB_E_INVALID;    \
    } while (0)

/* ---- lifecycle ---------------------------------------------------------- */

static sb_status example_init(const sb_host_api *h, sb_result *res)
{
    if (h == NULL || h->struct_size < sizeof(sb_host_api) || h->abi_major != SB_PLUGIN_ABI_MAJOR)
        return SB_E_UNSUPPORTED;
    host = h;
    (void)res;
    return SB_OK;
}

static void example_fini(void) { host = NULL; }

static secret *find_secret(instance *in, const char *path)
{
    for (size_t i = 0; i < in->n; i++)
        if (strcmp(in->secrets[i].path, path) == 0)
            return &in->secrets[i];
    return NULL;
}

static char *copy_text(const char *s) /* strdup is POSIX, not C99 */
{
    size_t n = strlen(s) + 1;
    char *p = malloc(n);
    if (p)
        memcpy(p, s, n);
    return p;
}

static void put_label(secret *s, const char *k, const char *v)
{
    if (s->n_labels < MAX_LABELS) {
        s->labels[s->n_labels].key = copy_text(k);
        s->labels[s->n_labels].value = copy_text(v);
        s->n_labels++;
    }
}

static secret *add_secret(instance *in, const char *path)
{
    if (in->n == MAX_SECRETS)
        return NULL;
    secret *s = &in->secrets[in->n++];
    memset(s, 0, sizeof *s);
    snprintf(s->path, sizeof s->path, "%s", path);
    return s;
}

static void seed(instance *in, const char *team)
{
    static const struct {
        const char *path, *key, *value, *env;
    } demo[] = {
        {"payments/db", "password", "demo-db-password", "prod"},
        {"payments/api", "token", "demo-api-token", "staging"},
        {"checkout/stripe", "secret_key", "demo-stripe-key", "prod"},
    };
    for (size_t i = 0; i < sizeof demo / sizeof demo[0]; i++) {
        secret *s = add_secret(in, demo[i].path);
        if (s == NULL)
            return;
        s->values = host->bundle_new(SB_SHAPE_MAP);
        host->bundle_put(s->values, "username", SB_VALUE_STRING, (const unsigned char *)"app", 3);
        host->bundle_put(s->values, demo[i].key, SB_VALUE_STRING, (const unsigned char *)demo[i].value,
                         strlen(demo[i].value));
        s->version = 1;
        put_label(s, "team", i == 2 ? "checkout" : team);
        put_label(s, "env", demo[i].env);
    }
}

static sb_status example_instance_new(const sb_config *cfg, void **out, sb_result *res)
{
    INVALID_IF(host == NULL, res, "init was not called");
    INVALID_IF(cfg == NULL || out == NULL, res, "config and out are required");
    *out = NULL;
    instance *in = calloc(1, sizeof *in);
    if (in == NULL)
        return host->fail(res, SB_E_INTERNAL, 0, "example: out of memory");
    host->random_bytes(in->pad, sizeof in->pad);
    const char *ev = host->config_string(cfg, "gitops_evidence");
    snprintf(in->evidence, sizeof in->evidence, "%s", ev ? ev : "none");
    if (host->config_bool(cfg, "seed_demo")) {
        const char *team = host->config_string(cfg, "team_label");
        seed(in, team ? team : "payments");
    }
    *out = in;
    return SB_OK;
}

static void example_instance_free(void *p)
{
    instance *in = p;
    if (in == NULL)
        return;
    for (size_t i = 0; i < in->n; i++) {
        if (host)
            host->bundle_free(in->secrets[i].values);
        for (size_t k = 0; k < in->secrets[i].n_labels; k++) {
            free((char *)in->secrets[i].labels[k].key);
            free((char *)in->secrets[i].labels[k].value);
        }
    }
    free(in);
}

/* ---- provider ------------------------------------------------------------- */

static sb_bundle *copy_bundle(const sb_bundle *from)
{
    sb_bundle *b = host->bundle_new(host->bundle_shape(from));
    for (size_t i = 0; b && i < host->bundle_count(from); i++) {
        const char *k;
        sb_value_kind kind;
        const unsigned char *v;
        size_t n;
        host->bundle_entry(from, i, &k, &kind, &v, &n);
        if (host->bundle_put(b, k, kind, v, n) != 0) {
            host->bundle_free(b);
            return NULL;
        }
    }
    return b;
}

static sb_status example_read(void *inst, const sb_call *call, const sb_secret_ref *ref, sb_bundle **out,
                              sb_version_info *version, sb_result *res)
{
    INVALID_IF(inst == NULL || call == NULL || ref == NULL || ref->path == NULL || out == NULL, res,
               "read needs an instance, a call, a reference with a path and an out pointer");
    *out = NULL;
    secret *s = find_secret(inst, ref->path);
    if (s == NULL)
        return host->fail(res, SB_E_NOT_FOUND, 0, "example: secret %s does not exist", ref->path);
    if (ref->version && (unsigned)atoi(ref->version) != s->version)
        return host->fail(res, SB_E_NOT_FOUND, 0, "example: only the current version is kept");
    *out = copy_bundle(s->values);
    if (*out == NULL)
        return host->fail(res, SB_E_INTERNAL, 0, "example: out of memory");
    if (version) {
        if (host->text_printf(version->version, "%u", s->version) != 0) {
            host->bundle_free(*out);
            *out = NULL;
            return host->fail(res, SB_E_INTERNAL, 0, "example: out of memory");
        }
        version->flags = 0;
        version->created_unix_ms = 0;
    }
    return SB_OK;
}

static sb_status example_write(void *inst, const sb_call *call, const sb_secret_ref *ref,
                               const sb_bundle *values, const char *expected_version,
                               sb_version_info *new_version, sb_result *res)
{
    INVALID_IF(inst == NULL || call == NULL || ref == NULL || ref->path == NULL || values == NULL, res,
               "write needs an instance, a call, a reference with a path and values");
    INVALID_IF(expected_version == NULL, res, "write needs a compare-and-set token");
    instance *in = inst;
    secret *s = find_secret(in, ref->path);
    if (strcmp(expected_version, SB_CAS_CREATE) == 0) {
        if (s)
            return host->fail(res, SB_E_CONFLICT, 0, "example: %s already exists", ref->path);
        if ((s = add_secret(in, ref->path)) == NULL)
            return host->fail(res, SB_E_TOO_LARGE, 0, "example: store is full");
    } else if (s == NULL) {
        return host->fail(res, SB_E_NOT_FOUND, 0, "example: %s does not exist", ref->path);
    } else if ((unsigned)atoi(expected_version) != s->version) {
        return host->fail(res, SB_E_CONFLICT, 0, "example: %s changed (now version %u)", ref->path,
                          s->version);
    }
    sb_bundle *copy = copy_bundle(values);
    if (copy == NULL)
        return host->fail(res, SB_E_INTERNAL, 0, "example: out of memory");
    host->bundle_free(s->values);
    s->values = copy;
    s->version++;
    if (new_version) /* the write is done: a version we cannot report is not a failure */
        host->text_printf(new_version->version, "%u", s->version);
    return SB_OK;
}

static int emit_secret(const secret *s, sb_metadata_sink emit, void *sink)
{
    char v[16];
    snprintf(v, sizeof v, "%u", s->version);
    sb_metadata m = {sizeof m, 0, s->path, v, 0, 0, s->labels, s->n_labels};
    return emit(sink, &m);
}

static sb_status example_describe(void *inst, const sb_call *call, const sb_secret_ref *ref,
                                  sb_metadata_sink emit, void *sink, sb_result *res)
{
    INVALID_IF(inst == NULL || call == NULL || ref == NULL || ref->path == NULL || emit == NULL, res,
               "describe needs an instance, a call, a reference and an emit callback");
    secret *s = find_secret(inst, ref->path);
    if (s == NULL)
        return host->fail(res, SB_E_NOT_FOUND, 0, "example: secret %s does not exist", ref->path);
    emit_secret(s, emit, sink);
    return SB_OK;
}

static int labels_match(const secret *s, const sb_list_query *q)
{
    for (size_t i = 0; i < q->n_selector; i++) {
        int found = 0;
        for (size_t k = 0; k < s->n_labels && !found; k++)
            found = strcmp(s->labels[k].key, q->selector[i].key) == 0 &&
                    strcmp(s->labels[k].value, q->selector[i].value) == 0;
        if (!found)
            return 0;
    }
    return 1;
}

static sb_status example_list(void *inst, const sb_call *call, const sb_list_query *q,
                              sb_metadata_sink emit, void *sink, sb_text *next_cursor, sb_result *res)
{
    INVALID_IF(inst == NULL || call == NULL || q == NULL || emit == NULL || next_cursor == NULL, res,
               "list needs an instance, a call, a query, an emit callback and a cursor text");
    instance *in = inst; /* one page holds everything: next_cursor stays empty */
    size_t plen = q->prefix ? strlen(q->prefix) : 0;
    for (size_t i = 0; i < in->n; i++) {
        if (host->call_expired(call))
            return host->fail(res, SB_E_CANCELLED, 0, "example: list cancelled");
        const secret *s = &in->secrets[i];
        if (plen && strncmp(s->path, q->prefix, plen) != 0)
            continue;
        if (!labels_match(s, q))
            continue;
        if (emit_secret(s, emit, sink) != 0)
            return host->fail(res, SB_E_CANCELLED, 0, "example: list stopped by the host");
    }
    return SB_OK;
}

static const sb_provider_ops provider_ops = {
    .struct_size = sizeof(sb_provider_ops),
    .read = example_read,
    .write = example_write,
    .describe = example_describe,
    .list = example_list,
};

/* ---- kms (demonstration only: not encryption) ------------------------------ */

static sb_status example_key_id(void *inst, const sb_call *call, sb_text *key_id, sb_result *res)
{
    INVALID_IF(inst == NULL || call == NULL || key_id == NULL, res, "key_id needs an instance and a text");
    if (host->text_set(key_id, "example:pad-v1") != 0)
        return host->fail(res, SB_E_INTERNAL, 0, "example: out of memory");
    return SB_OK;
}

static sb_status example_wrap(void *inst, const sb_call *call, const sb_secure_buf *plaintext,
                              sb_secure_buf *ciphertext, sb_text *key_id, sb_result *res)
{
    INVALID_IF(inst == NULL || call == NULL || plaintext == NULL || ciphertext == NULL || key_id == NULL,
               res, "wrap needs an instance, plaintext, a ciphertext buffer and a key id text");
    instance *in = inst;
    size_t n;
    const unsigned char *p = host->secure_data(plaintext, &n);
    unsigned char sum = 0xA5;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)(p[i] ^ in->pad[i % PAD_LEN]);
        sum = (unsigned char)(sum + p[i]);
        if (host->secure_append(ciphertext, &c, 1) != 0)
            return host->fail(res, SB_E_INTERNAL, 0, "example: out of memory");
    }
    if (host->secure_append(ciphertext, &sum, 1) != 0)
        return host->fail(res, SB_E_INTERNAL, 0, "example: out of memory");
    return example_key_id(inst, call, key_id, res);
}

static sb_status example_unwrap(void *inst, const sb_call *call, const unsigned char *ct, size_t ct_len,
                                const char *key_id, sb_secure_buf *plaintext, sb_result *res)
{
    INVALID_IF(inst == NULL || call == NULL || ct == NULL || key_id == NULL || plaintext == NULL, res,
               "unwrap needs an instance, ciphertext, a key id and a plaintext buffer");
    INVALID_IF(strcmp(key_id, "example:pad-v1") != 0, res, "unknown key id");
    INVALID_IF(ct_len == 0, res, "empty ciphertext");
    instance *in = inst;
    unsigned char sum = 0xA5;
    for (size_t i = 0; i + 1 < ct_len; i++) {
        unsigned char c = (unsigned char)(ct[i] ^ in->pad[i % PAD_LEN]);
        sum = (unsigned char)(sum + c);
        if (host->secure_append(plaintext, &c, 1) != 0)
            return host->fail(res, SB_E_INTERNAL, 0, "example: out of memory");
    }
    if (sum != ct[ct_len - 1]) {
        host->secure_clear(plaintext);
        return host->fail(res, SB_E_INVALID, 0, "example: ciphertext does not verify");
    }
    return SB_OK;
}

static const sb_kms_ops kms_ops = {
    .struct_size = sizeof(sb_kms_ops),
    .key_id = example_key_id,
    .wrap = example_wrap,
    .unwrap = example_unwrap,
};

/* ---- gitops ----------------------------------------------------------------- */

static sb_status example_baseline(void *inst, const sb_call *call, const char *app,
                                  sb_text *state, sb_result *res)
{
    INVALID_IF(inst == NULL || call == NULL || app == NULL || state == NULL, res,
               "baseline needs an instance, an application and a state text");
    if (host->text_printf(state, "{\"app\":\"%.64s\",\"at\":%lld}", app,
                          (long long)host->now_unix_ms()) != 0)
        return host->fail(res, SB_E_INTERNAL, 0, "example: out of memory");
    return SB_OK;
}

static sb_status example_observe(void *inst, const sb_call *call, const char *app, const char *baseline,
                                 int64_t changed_unix_ms, sb_gitops_observation *out, sb_result *res)
{
    INVALID_IF(inst == NULL || call == NULL || app == NULL || baseline == NULL || out == NULL, res,
               "observe needs an instance, an application, a baseline and an out struct");
    (void)changed_unix_ms;
    instance *in = inst;
    static const struct {
        const char *name;
        sb_gitops_evidence ev;
    } map[] = {{"none", SB_GITOPS_NO_EVIDENCE},
               {"rolling", SB_GITOPS_ROLLING},
               {"applied", SB_GITOPS_APPLIED},
               {"failed", SB_GITOPS_FAILED}};
    out->evidence = SB_GITOPS_NO_EVIDENCE;
    for (size_t i = 0; i < 4; i++)
        if (strcmp(in->evidence, map[i].name) == 0)
            out->evidence = map[i].ev;
    host->text_printf(out->detail, "example: configured evidence '%s'", in->evidence);
    return SB_OK;
}

static const sb_gitops_ops gitops_ops = {
    .struct_size = sizeof(sb_gitops_ops),
    .baseline = example_baseline,
    .observe = example_observe,
};

/* ---- notifier ----------------------------------------------------------------- */

static sb_status example_deliver(void *inst, const sb_call *call, const sb_notify_event *ev, sb_result *res)
{
    INVALID_IF(inst == NULL || call == NULL || ev == NULL || ev->kind == NULL || ev->title == NULL, res,
               "deliver needs an instance and an event with a kind and a title");
    instance *in = inst;
    in->deliveries++;
    host->log(SB_LOG_INFO, call, "example notifier: %s: %s", ev->kind, ev->title);
    return SB_OK;
}

static const sb_notifier_ops notifier_ops = {
    .struct_size = sizeof(sb_notifier_ops),
    .deliver = example_deliver,
};

SB_PLUGIN_DEFINE(.name = "example", .version = "1.0.0", .vendor = "Secrets Bridge",
                 .license = "Apache-2.0",
                 .description = "Example plugin: in-memory provider, demo KMS, GitOps and notifier",
                 .capabilities = SB_CAP_PROVIDER | SB_CAP_KMS | SB_CAP_GITOPS | SB_CAP_NOTIFIER,
                 .provider_features = SB_PROV_READ | SB_PROV_WRITE | SB_PROV_CAS | SB_PROV_LIST |
                                      SB_PROV_LABELS | SB_PROV_DESCRIBE,
                 .thread_model = SB_THREAD_SERIAL, SB_PLUGIN_CONFIG(config_fields),
                 .init = example_init, .fini = example_fini, .instance_new = example_instance_new,
                 .instance_free = example_instance_free, .provider = &provider_ops, .kms = &kms_ops,
                 .gitops = &gitops_ops, .notifier = &notifier_ops)
