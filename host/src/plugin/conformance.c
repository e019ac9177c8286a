/* plugin/conformance.c — see conformance.h. */
#include "plugin/conformance.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "config/yaml_doc.h"
#include "crypto/secure_mem.h"
#include "plugin/bundle.h"
#include "plugin/descriptor.h"
#include "plugin/host_api.h"
#include "plugin/instance_config.h"
#include "plugin/loader.h"
#include "plugin/synthetic_config.h"

#define CHECK_TIMEOUT_S 20
/* Exit codes of a check's child; anything else means the plugin crashed. */
#define CHILD_PASSED 0
#define CHILD_FAILED 97

typedef struct kit {
    const sb_plugin *d;
    FILE *out;
    int failed, passed;
    sb_host_api fake_host;
    sb_config *cfg;
} kit;

static sb_status fake_http(const sb_call *call, const sb_http_request *req, sb_http_response *resp,
                           sb_result *res)
{
    (void)call;
    if (resp) {
        resp->body = NULL;
        resp->host_private = NULL;
        resp->status = 0;
    }
    return sb_host_api_table()->fail(res, SB_E_UNAVAILABLE, 0,
                                     "conformance host: no network (%s %s)",
                                     req && req->method ? req->method : "?",
                                     req && req->url ? req->url : "?");
}

static int known_status(sb_status s)
{
    return (s >= SB_E_INVALID && s <= SB_E_INTERNAL) || (s >= SB_E_UNAVAILABLE && s <= SB_E_CANCELLED) ||
           s == SB_OK;
}

/* ---- one isolated check ---------------------------------------------------- */

typedef int (*check_fn)(kit *k, void *inst, const sb_call *call, char *why, size_t cap);

static void report(kit *k, int ok, const char *name, const char *why)
{
    if (ok) {
        k->passed++;
        fprintf(k->out, "ok    %s\n", name);
    } else {
        k->failed++;
        fprintf(k->out, "FAIL  %s: %s\n", name, why);
    }
}

/* Runs fn in a child that initialises the plugin and an instance first. */
static void run_isolated(kit *k, const char *name, check_fn fn)
{
    int fds[2];
    if (pipe(fds) != 0) {
        report(k, 0, name, "pipe() failed");
        return;
    }
    fflush(k->out);
    pid_t pid = fork();
    if (pid == 0) {
        close(fds[0]);
        alarm(CHECK_TIMEOUT_S);
        char why[512] = "";
        int ok = 1;
        sb_result res = SB_RESULT_INIT;
        void *inst = NULL;
        long live_before = sb_secure_live_allocations();
        if (k->d->init(&k->fake_host, &res) != SB_OK) {
            snprintf(why, sizeof why, "init failed: %s", res.message);
            ok = 0;
        } else if (k->d->instance_new(k->cfg, &inst, &res) != SB_OK) {
            snprintf(why, sizeof why, "instance_new failed: %s", res.message);
            ok = 0;
        } else {
            sb_call_ctx ctx;
            sb_call_begin(&ctx, k->d->name, "conformance", "conformance-check", 5000);
            ok = fn(k, inst, &ctx.call, why, sizeof why);
            k->d->instance_free(inst);
            if (k->d->fini)
                k->d->fini();
            long live_after = sb_secure_live_allocations();
            if (ok && live_after != live_before) {
                snprintf(why, sizeof why,
                         "%ld secure allocation(s) still live after instance_free and fini (leaked "
                         "buffers, bundles or JSON documents)",
                         live_after - live_before);
                ok = 0;
            }
        }
        if (write(fds[1], why, strlen(why)) < 0)
            _exit(CHILD_FAILED);
        _exit(ok ? CHILD_PASSED : CHILD_FAILED);
    }
    close(fds[1]);
    char why[512] = "";
    ssize_t n = pid > 0 ? read(fds[0], why, sizeof why - 1) : -1;
    why[n > 0 ? n : 0] = '\0';
    close(fds[0]);
    int status = 0;
    if (pid < 0 || waitpid(pid, &status, 0) < 0) {
        report(k, 0, name, "fork failed");
        return;
    }
    if (WIFSIGNALED(status)) {
        int sig = WTERMSIG(status);
        snprintf(why, sizeof why, "%s (signal %d)",
                 sig == SIGALRM ? "hung: no answer within the time limit" : "crashed", sig);
        report(k, 0, name, why);
        return;
    }
    int code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    if (code != CHILD_PASSED && code != CHILD_FAILED) {
        /* exit() or a sanitizer's abort inside the plugin */
        snprintf(why, sizeof why, "crashed: the process exited with status %d during the check", code);
        report(k, 0, name, why);
        return;
    }
    report(k, code == CHILD_PASSED, name, why);
}

#define EXPECT(cond, ...)                                                                          \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            snprintf(why, cap, __VA_ARGS__);                                                       \
            return 0;                                                                              \
        }                                                                                          \
    } while (0)

/* A refused call: non-OK, known status, and a message when res is given. */
static int refused(sb_status st, const sb_result *res, char *why, size_t cap, const char *what)
{
    EXPECT(st != SB_OK, "%s: returned SB_OK for invalid arguments", what);
    EXPECT(known_status(st), "%s: returned unknown status %d", what, (int)st);
    if (res) {
        EXPECT(memchr(res->message, '\0', sizeof res->message) != NULL,
               "%s: message not NUL-terminated", what);
        EXPECT(res->message[0] != '\0', "%s: no message explains the refusal", what);
        EXPECT(res->status == st, "%s: res->status (%d) differs from the returned status (%d)", what,
               (int)res->status, (int)st);
    }
    return 1;
}

/* Evaluates one call with a fresh result and checks it was refused. */
#define REFUSE(what, expr)                                                                         \
    do {                                                                                           \
        sb_result res = SB_RESULT_INIT;                                                            \
        sb_status st_ = (expr);                                                                    \
        if (!refused(st_, &res, why, cap, what))                                                   \
            return 0;                                                                              \
    } while (0)
#define REFUSE_NO_RESULT(what, expr)                                                               \
    do {                                                                                           \
        sb_status st_ = (expr);                                                                    \
        if (!refused(st_, NULL, why, cap, what))                                                   \
            return 0;                                                                              \
    } while (0)

static int sink_count(void *sink, const sb_metadata *m)
{
    (void)m;
    ++*(int *)sink;
    return 0;
}

/* ---- provider --------------------------------------------------------------- */

static int provider_invalid(kit *k, void *inst, const sb_call *call, char *why, size_t cap)
{
    const sb_provider_ops *p = k->d->provider;
    sb_secret_ref ref = {sizeof ref, 0, "conformance/secret", NULL};
    sb_secret_ref no_path = {sizeof no_path, 0, NULL, NULL};
    sb_version_info ver = {sizeof ver, 0, {0}, 0};
    sb_bundle *out = NULL;
    char cursor[SB_CURSOR_MAX];
    int n = 0;
    sb_list_query q = {sizeof q, 0, "", NULL, 0, NULL};
    sb_bundle *vals = sb_bundle_new(SB_SHAPE_MAP);
    sb_bundle_put(vals, "k", SB_VALUE_STRING, (const unsigned char *)"v", 1);
    int ok = 0;
    do {
        REFUSE("read(inst=NULL)", p->read(NULL, call, &ref, &out, &ver, &res));
        REFUSE("read(call=NULL)", p->read(inst, NULL, &ref, &out, &ver, &res));
        REFUSE("read(ref=NULL)", p->read(inst, call, NULL, &out, &ver, &res));
        REFUSE("read(ref.path=NULL)", p->read(inst, call, &no_path, &out, &ver, &res));
        REFUSE("read(out=NULL)", p->read(inst, call, &ref, NULL, &ver, &res));
        REFUSE_NO_RESULT("read(res=NULL)", p->read(NULL, call, &ref, &out, &ver, NULL));
        REFUSE("write(inst=NULL)", p->write(NULL, call, &ref, vals, "1", &ver, &res));
        REFUSE("write(ref=NULL)", p->write(inst, call, NULL, vals, "1", &ver, &res));
        REFUSE("write(values=NULL)", p->write(inst, call, &ref, NULL, "1", &ver, &res));
        REFUSE("write(ref.path=NULL)", p->write(inst, call, &no_path, vals, "1", &ver, &res));
        REFUSE("describe(inst=NULL)", p->describe(NULL, call, &ref, sink_count, &n, &res));
        REFUSE("describe(ref=NULL)", p->describe(inst, call, NULL, sink_count, &n, &res));
        REFUSE("describe(emit=NULL)", p->describe(inst, call, &ref, NULL, &n, &res));
        REFUSE("list(inst=NULL)", p->list(NULL, call, &q, sink_count, &n, cursor, &res));
        REFUSE("list(query=NULL)", p->list(inst, call, NULL, sink_count, &n, cursor, &res));
        REFUSE("list(emit=NULL)", p->list(inst, call, &q, NULL, &n, cursor, &res));
        REFUSE("list(next_cursor=NULL)", p->list(inst, call, &q, sink_count, &n, NULL, &res));
        ok = 1;
    } while (0);
    sb_bundle_free(vals);
    if (!ok)
        return 0;
    EXPECT(out == NULL, "read left *out set after a refusal");
    return 1;
}

static int provider_valid(kit *k, void *inst, const sb_call *call, char *why, size_t cap)
{
    const sb_provider_ops *p = k->d->provider;
    sb_secret_ref ref = {sizeof ref, 0, "conformance/secret", NULL};
    sb_version_info ver = {sizeof ver, 0, {0}, 0};
    sb_result res = SB_RESULT_INIT;
    sb_bundle *vals = sb_bundle_new(SB_SHAPE_MAP);
    sb_bundle_put(vals, "username", SB_VALUE_STRING, (const unsigned char *)"conformance", 11);
    sb_status st = p->write(inst, call, &ref, vals, SB_CAS_CREATE, &ver, &res);
    sb_bundle_free(vals);
    EXPECT(known_status(st), "write returned unknown status %d", (int)st);
    sb_bundle *out = NULL;
    st = p->read(inst, call, &ref, &out, &ver, &res);
    EXPECT(known_status(st), "read returned unknown status %d", (int)st);
    EXPECT(st == SB_OK || out == NULL, "read failed but left a bundle in *out");
    EXPECT(st != SB_OK || out != NULL, "read returned SB_OK without a bundle");
    sb_bundle_free(out);
    int n = 0;
    st = p->describe(inst, call, &ref, sink_count, &n, &res);
    EXPECT(known_status(st), "describe returned unknown status %d", (int)st);
    char cursor[SB_CURSOR_MAX] = "";
    sb_list_query q = {sizeof q, 10, "", NULL, 0, NULL};
    st = p->list(inst, call, &q, sink_count, &n, cursor, &res);
    EXPECT(known_status(st), "list returned unknown status %d", (int)st);
    EXPECT(memchr(cursor, '\0', sizeof cursor) != NULL, "list left next_cursor unterminated");
    return 1; /* leaks are checked after instance_free and fini (run_isolated) */
}

/* ---- kms ---------------------------------------------------------------------- */

static int kms_invalid(kit *k, void *inst, const sb_call *call, char *why, size_t cap)
{
    const sb_kms_ops *m = k->d->kms;
    char key_id[SB_KEY_ID_MAX];
    const unsigned char *x = (const unsigned char *)"x";
    sb_secure_buf *pt = sb_secure_new(32), *ct = sb_secure_new(64);
    sb_secure_append(pt, "0123456789abcdef0123456789abcdef", 32);
    int ok = 0;
    do {
        REFUSE("key_id(inst=NULL)", m->key_id(NULL, call, key_id, &res));
        REFUSE("key_id(out=NULL)", m->key_id(inst, call, NULL, &res));
        REFUSE("wrap(inst=NULL)", m->wrap(NULL, call, pt, ct, key_id, &res));
        REFUSE("wrap(plaintext=NULL)", m->wrap(inst, call, NULL, ct, key_id, &res));
        REFUSE("wrap(ciphertext=NULL)", m->wrap(inst, call, pt, NULL, key_id, &res));
        REFUSE("unwrap(inst=NULL)", m->unwrap(NULL, call, x, 1, "k", pt, &res));
        REFUSE("unwrap(ciphertext=NULL)", m->unwrap(inst, call, NULL, 1, "k", pt, &res));
        REFUSE("unwrap(key_id=NULL)", m->unwrap(inst, call, x, 1, NULL, pt, &res));
        REFUSE("unwrap(plaintext=NULL)", m->unwrap(inst, call, x, 1, "k", NULL, &res));
        ok = 1;
    } while (0);
    sb_secure_free(pt);
    sb_secure_free(ct);
    return ok;
}

static int kms_valid(kit *k, void *inst, const sb_call *call, char *why, size_t cap)
{
    const sb_kms_ops *m = k->d->kms;
    long before = sb_secure_live_allocations();
    sb_result res = SB_RESULT_INIT;
    char key_id[SB_KEY_ID_MAX] = "";
    sb_secure_buf *pt = sb_secure_new(32), *ct = sb_secure_new(64), *back = sb_secure_new(32);
    sb_secure_append(pt, "0123456789abcdef0123456789abcdef", 32);
    sb_status st = m->wrap(inst, call, pt, ct, key_id, &res);
    EXPECT(known_status(st), "wrap returned unknown status %d", (int)st);
    if (st == SB_OK) {
        EXPECT(ct->len > 0 && key_id[0] != '\0', "wrap succeeded without ciphertext or key id");
        EXPECT(ct->len != pt->len || memcmp(ct->data, pt->data, pt->len) != 0,
               "wrap returned the plaintext unchanged");
        st = m->unwrap(inst, call, ct->data, ct->len, key_id, back, &res);
        EXPECT(st == SB_OK, "unwrap of a fresh wrap failed: %s", res.message);
        EXPECT(back->len == pt->len && memcmp(back->data, pt->data, pt->len) == 0,
               "unwrap did not return the original plaintext");
    }
    sb_secure_free(pt);
    sb_secure_free(ct);
    sb_secure_free(back);
    long after = sb_secure_live_allocations();
    EXPECT(after == before, "%ld secure allocation(s) leaked by kms operations", after - before);
    return 1;
}

/* ---- gitops and notifier ------------------------------------------------------- */

static int gitops_checks(kit *k, void *inst, const sb_call *call, char *why, size_t cap)
{
    const sb_gitops_ops *g = k->d->gitops;
    char state[SB_GITOPS_STATE_MAX];
    sb_gitops_observation obs = {sizeof obs, SB_GITOPS_NO_EVIDENCE, {0}};
    REFUSE("baseline(inst=NULL)", g->baseline(NULL, call, "app", state, &res));
    REFUSE("baseline(app=NULL)", g->baseline(inst, call, NULL, state, &res));
    REFUSE("baseline(state=NULL)", g->baseline(inst, call, "app", NULL, &res));
    REFUSE("observe(app=NULL)", g->observe(inst, call, NULL, "", 0, &obs, &res));
    REFUSE("observe(out=NULL)", g->observe(inst, call, "app", "", 0, NULL, &res));
    sb_result res = SB_RESULT_INIT;
    sb_status st = g->baseline(inst, call, "conformance-app", state, &res);
    EXPECT(known_status(st), "baseline returned unknown status %d", (int)st);
    if (st == SB_OK) {
        EXPECT(memchr(state, '\0', sizeof state) != NULL, "baseline state is not NUL-terminated");
        st = g->observe(inst, call, "conformance-app", state, 0, &obs, &res);
        EXPECT(known_status(st), "observe returned unknown status %d", (int)st);
        EXPECT(st != SB_OK || (obs.evidence >= SB_GITOPS_NO_EVIDENCE && obs.evidence <= SB_GITOPS_FAILED),
               "observe returned an unknown evidence value %d", (int)obs.evidence);
    }
    return 1;
}

static int notifier_checks(kit *k, void *inst, const sb_call *call, char *why, size_t cap)
{
    const sb_notifier_ops *nt = k->d->notifier;
    sb_notify_event ev = {sizeof ev, 0, "request.created", "info", "Conformance", "A test event",
                          NULL, 0, NULL, "conformance-1", NULL};
    sb_notify_event empty = {sizeof empty, 0, NULL, NULL, NULL, NULL, NULL, 0, NULL, NULL, NULL};
    REFUSE("deliver(inst=NULL)", nt->deliver(NULL, call, &ev, &res));
    REFUSE("deliver(event=NULL)", nt->deliver(inst, call, NULL, &res));
    REFUSE("deliver(event without kind)", nt->deliver(inst, call, &empty, &res));
    sb_result res = SB_RESULT_INIT;
    sb_status st = nt->deliver(inst, call, &ev, &res);
    EXPECT(known_status(st), "deliver returned unknown status %d", (int)st);
    return 1;
}

static int lifecycle_only(kit *k, void *inst, const sb_call *call, char *why, size_t cap)
{
    (void)k, (void)inst, (void)call, (void)why, (void)cap;
    return 1;
}

/* ---- the kit ------------------------------------------------------------------- */

int sb_conformance_run(const char *file, FILE *out)
{
    sb_loaded_plugin lp;
    sb_error err;
    if (sb_plugin_load_file(NULL, file, NULL, NULL, &lp, &err) != 0) {
        fprintf(out, "FAIL  load: %s\n", err.message);
        fprintf(out, "\n0 passed, 1 failed\n");
        return -1;
    }
    kit k = {.d = lp.desc, .out = out};
    k.fake_host = *sb_host_api_table();
    k.fake_host.http = fake_http;
    fprintf(out, "checking plugin %s %s (ABI %u.%u) from %s\n", k.d->name, k.d->version,
            k.d->abi_major, k.d->abi_minor, lp.path);
    report(&k, 1, "descriptor: ABI v1 header, identity, capabilities and vtables", NULL);

    char problems[2048];
    size_t np = sb_plugin_schema_check(k.d, problems, sizeof problems);
    report(&k, np == 0, "config schema is well formed", problems);

    sb_diags d;
    sb_diags_init(&d, "synthesised config");
    sb_ynode *tree = sb_synthetic_config(k.d);
    if (tree == NULL || sb_instance_config_build(k.d, "conformance", tree, "config", &d, &k.cfg) != 0) {
        char first[600] = "could not synthesise a valid config";
        if (d.n)
            sb_diags_format(&d, 0, first, sizeof first);
        report(&k, 0, "a config synthesised from the schema validates", first);
    } else {
        report(&k, 1, "a config synthesised from the schema validates", NULL);
        run_isolated(&k, "init, instance_new, instance_free, fini", lifecycle_only);
        if (k.d->capabilities & SB_CAP_PROVIDER) {
            run_isolated(&k, "provider: invalid arguments are refused cleanly", provider_invalid);
            run_isolated(&k, "provider: valid calls return known statuses, nothing leaked", provider_valid);
        }
        if (k.d->capabilities & SB_CAP_KMS) {
            run_isolated(&k, "kms: invalid arguments are refused cleanly", kms_invalid);
            run_isolated(&k, "kms: wrap/unwrap round trip, no leaks", kms_valid);
        }
        if (k.d->capabilities & SB_CAP_GITOPS)
            run_isolated(&k, "gitops: baseline/observe", gitops_checks);
        if (k.d->capabilities & SB_CAP_NOTIFIER)
            run_isolated(&k, "notifier: deliver", notifier_checks);
    }
    sb_instance_config_free(k.cfg);
    sb_yaml_free(tree);
    sb_diags_free(&d);
    fprintf(out, "\n%d passed, %d failed\n", k.passed, k.failed);
    sb_plugin_unload(&lp);
    return k.failed;
}
