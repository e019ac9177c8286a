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
#include "plugin/status.h"
#include "plugin/synthetic_config.h"
#include "plugin/text.h"

#define CHECK_TIMEOUT_S 20
/* Exit codes of a check's child; anything else means the plugin crashed. */
#define CHILD_PASSED 0
#define CHILD_FAILED 97

typedef struct kit {
    const sb_plugin *d;
    FILE *out;
    int failed, passed, skipped;
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

static int known_status(sb_status s) { return sb_plugin_status_known(s); }

/* ---- one isolated check ---------------------------------------------------- */

typedef int (*check_fn)(kit *k, void *inst, const sb_call *call, char *why, size_t cap);

/* A check whose child wrote a reason starting with this marker did not
 * apply (e.g. the store is unreachable from the fake host). */
#define SKIP_MARK "skip: "

static void report(kit *k, int ok, const char *name, const char *why)
{
    if (ok && why && strncmp(why, SKIP_MARK, strlen(SKIP_MARK)) == 0) {
        k->skipped++;
        fprintf(k->out, "skip  %s: %s\n", name, why + strlen(SKIP_MARK));
    } else if (ok) {
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
        sb_status st;
        char sd[48];
        if ((st = k->d->init(&k->fake_host, &res)) != SB_OK) {
            snprintf(why, sizeof why, "init: expected SB_OK, got %s: %s",
                     sb_plugin_status_describe(st, sd, sizeof sd), res.message);
            ok = 0;
        } else if ((st = k->d->instance_new(k->cfg, &inst, &res)) != SB_OK) {
            snprintf(why, sizeof why, "instance_new: expected SB_OK, got %s: %s",
                     sb_plugin_status_describe(st, sd, sizeof sd), res.message);
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
        sb_result_release(&res);
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

/* "N (NAME)" of a status, for the expected/got phrasing of every failure. */
#define DESCRIBE(st) sb_plugin_status_describe((st), (char[48]){0}, 48)

/* Fails the check unless `st` is the expected status. */
#define EXPECT_STATUS(what, want, st, res)                                                         \
    EXPECT((st) == (want), "%s: expected %s, got %s: %s", what, DESCRIBE(want), DESCRIBE(st),     \
           (res).message)

/* A refused call: non-OK, known status, and a message when res is given. */
static int refused(sb_status st, const sb_result *res, char *why, size_t cap, const char *what)
{
    EXPECT(st != SB_OK, "%s: expected a refusal (SB_E_INVALID or another error status), got %s", what,
           DESCRIBE(st));
    EXPECT(known_status(st), "%s: expected a refusal with one of the ABI's statuses, got %s", what,
           DESCRIBE(st));
    if (res) {
        EXPECT(res->message != NULL && res->message[0] != '\0',
               "%s: returned %s but no message explains the refusal (call host->fail)", what,
               DESCRIBE(st));
        EXPECT(res->status == st, "%s: expected res->status to match the returned %s, got %s", what,
               DESCRIBE(st), DESCRIBE(res->status));
    }
    return 1;
}

/* Evaluates one call with a fresh result and checks it was refused. */
#define REFUSE(what, expr)                                                                         \
    do {                                                                                           \
        sb_result res = SB_RESULT_INIT;                                                            \
        sb_status st_ = (expr);                                                                    \
        int ok_ = refused(st_, &res, why, cap, what);                                              \
        sb_result_release(&res);                                                                   \
        if (!ok_)                                                                                  \
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
    /* Secret names without a '/': every store accepts them (GCP secret ids are
     * [A-Za-z0-9_-], so "a/b" is refused there before any request). */
    sb_secret_ref ref = {sizeof ref, 0, "conformance-secret", NULL};
    sb_secret_ref no_path = {sizeof no_path, 0, NULL, NULL};
    sb_text *cursor = sb_text_new(), *version = sb_text_new();
    sb_version_info ver = {sizeof ver, 0, version, 0};
    sb_bundle *out = NULL;
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
    sb_text_free(cursor);
    sb_text_free(version);
    if (!ok)
        return 0;
    EXPECT(out == NULL, "read left *out set after a refusal");
    return 1;
}

static int provider_valid(kit *k, void *inst, const sb_call *call, char *why, size_t cap)
{
    const sb_provider_ops *p = k->d->provider;
    sb_secret_ref ref = {sizeof ref, 0, "conformance-secret", NULL};
    sb_text *version = sb_text_new(), *cursor = sb_text_new();
    sb_version_info ver = {sizeof ver, 0, version, 0};
    sb_result res = SB_RESULT_INIT;
    sb_bundle *vals = sb_bundle_new(SB_SHAPE_MAP);
    sb_bundle_put(vals, "username", SB_VALUE_STRING, (const unsigned char *)"conformance", 11);
    sb_status st = p->write(inst, call, &ref, vals, SB_CAS_CREATE, &ver, &res);
    sb_bundle_free(vals);
    EXPECT(known_status(st), "write: expected one of the ABI's statuses, got %s", DESCRIBE(st));
    sb_bundle *out = NULL;
    st = p->read(inst, call, &ref, &out, &ver, &res);
    EXPECT(known_status(st), "read: expected one of the ABI's statuses, got %s", DESCRIBE(st));
    EXPECT(st == SB_OK || out == NULL, "read failed but left a bundle in *out");
    EXPECT(st != SB_OK || out != NULL, "read returned SB_OK without a bundle");
    sb_bundle_free(out);
    int n = 0;
    st = p->describe(inst, call, &ref, sink_count, &n, &res);
    EXPECT(known_status(st), "describe: expected one of the ABI's statuses, got %s", DESCRIBE(st));
    sb_list_query q = {sizeof q, 10, "", NULL, 0, NULL};
    st = p->list(inst, call, &q, sink_count, &n, cursor, &res);
    EXPECT(known_status(st), "list: expected one of the ABI's statuses, got %s", DESCRIBE(st));
    sb_text_free(version);
    sb_text_free(cursor);
    sb_result_release(&res);
    return 1; /* leaks are checked after instance_free and fini (run_isolated) */
}

/* Same entries (key, kind, bytes) in the same order. */
static int bundles_equal(const sb_bundle *a, const sb_bundle *b)
{
    size_t n = sb_bundle_count(a);
    if (b == NULL || n != sb_bundle_count(b))
        return 0;
    for (size_t i = 0; i < n; i++) {
        const char *ka, *kb;
        sb_value_kind ta, tb;
        const unsigned char *va, *vb;
        size_t la, lb;
        if (sb_bundle_entry(a, i, &ka, &ta, &va, &la) != 0 || sb_bundle_entry(b, i, &kb, &tb, &vb, &lb) != 0)
            return 0;
        if (strcmp(ka, kb) != 0 || ta != tb || la != lb || memcmp(va, vb, la) != 0)
            return 0;
    }
    return 1;
}

static sb_bundle *one_value(const char *v)
{
    sb_bundle *b = sb_bundle_new(SB_SHAPE_MAP);
    sb_bundle_put(b, "username", SB_VALUE_STRING, (const unsigned char *)v, strlen(v));
    return b;
}

/* Reads ref back and compares with `want`; the version read goes to ver. */
static int reads_back(const sb_provider_ops *p, void *inst, const sb_call *call, const sb_secret_ref *ref,
                      const sb_bundle *want, sb_version_info *ver, const char *after, char *why, size_t cap)
{
    sb_result res = SB_RESULT_INIT;
    sb_bundle *out = NULL;
    sb_status st = p->read(inst, call, ref, &out, ver, &res);
    char what[96];
    snprintf(what, sizeof what, "read after %s", after);
    int ok = st == SB_OK;
    if (!ok)
        snprintf(why, cap, "%s: expected %s, got %s: %s (the write did not store the secret)", what,
                 DESCRIBE(SB_OK), DESCRIBE(st), res.message);
    else if (!(ok = bundles_equal(want, out)))
        snprintf(why, cap, "%s: expected the values just written, got different values (the write "
                 "returned SB_OK without storing them)", what);
    sb_bundle_free(out);
    sb_result_release(&res);
    return ok;
}

/* WRITE: what was written reads back. CAS: a write with a stale version is
 * refused with SB_E_CONFLICT and changes nothing. */
static int provider_writes(kit *k, void *inst, const sb_call *call, char *why, size_t cap)
{
    const sb_provider_ops *p = k->d->provider;
    int cas = (k->d->provider_features & SB_PROV_CAS) != 0;
    sb_secret_ref ref = {sizeof ref, 0, "conformance-written", NULL};
    sb_text *t1 = sb_text_new(), *t2 = sb_text_new();
    sb_version_info v1 = {sizeof v1, 0, t1, 0}, v2 = {sizeof v2, 0, t2, 0};
    sb_result res = SB_RESULT_INIT;
    sb_bundle *first = one_value("conformance-first"), *second = one_value("conformance-second");
    int ok = 0;
    sb_status st = p->write(inst, call, &ref, first, cas ? SB_CAS_CREATE : NULL, &v1, &res);
    if (st != SB_OK && SB_STATUS_IS_RETRYABLE(st)) {
        snprintf(why, cap, SKIP_MARK "the first write answered %s (%s), so nothing could be read back",
                 DESCRIBE(st), res.message);
        ok = 1;
    } else if (st != SB_OK) {
        snprintf(why, cap, "write of a new secret%s: expected %s, got %s: %s",
                 cas ? " (expected_version SB_CAS_CREATE)" : "", DESCRIBE(SB_OK), DESCRIBE(st),
                 res.message);
    } else if (reads_back(p, inst, call, &ref, first, &v1, "a successful write", why, cap)) {
        ok = 1;
        if (cas) {
            /* v1 is now the version the read saw: a write with it succeeds... */
            char *stale = strdup(sb_text_cstr(t1));
            ok = 0;
            st = p->write(inst, call, &ref, second, stale, &v2, &res);
            if (st != SB_OK)
                snprintf(why, cap, "compare-and-set write with the current version: expected %s, got %s: %s",
                         DESCRIBE(SB_OK), DESCRIBE(st), res.message);
            else if (reads_back(p, inst, call, &ref, second, &v2, "a compare-and-set write", why, cap)) {
                /* ...and the same, now stale, version must conflict. */
                st = p->write(inst, call, &ref, first, stale, &v1, &res);
                if (st != SB_E_CONFLICT)
                    snprintf(why, cap,
                             "compare-and-set write with a stale version: expected %s, got %s%s%s",
                             DESCRIBE(SB_E_CONFLICT), DESCRIBE(st), st == SB_OK ? "" : ": ",
                             st == SB_OK ? " (the plugin declares compare-and-set but ignores "
                                           "expected_version)"
                                         : res.message);
                else
                    ok = reads_back(p, inst, call, &ref, second, &v2, "a refused stale write", why, cap);
            }
            free(stale);
        }
    }
    sb_bundle_free(first);
    sb_bundle_free(second);
    sb_text_free(t1);
    sb_text_free(t2);
    sb_result_release(&res);
    return ok;
}

/* ---- kms ---------------------------------------------------------------------- */

static int kms_invalid(kit *k, void *inst, const sb_call *call, char *why, size_t cap)
{
    const sb_kms_ops *m = k->d->kms;
    sb_text *key_id = sb_text_new();
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
    sb_text_free(key_id);
    return ok;
}

static int kms_valid(kit *k, void *inst, const sb_call *call, char *why, size_t cap)
{
    const sb_kms_ops *m = k->d->kms;
    long before = sb_secure_live_allocations();
    sb_result res = SB_RESULT_INIT;
    sb_text *key_id = sb_text_new();
    sb_secure_buf *pt = sb_secure_new(32), *ct = sb_secure_new(64), *back = sb_secure_new(32);
    sb_secure_append(pt, "0123456789abcdef0123456789abcdef", 32);
    sb_status st = m->wrap(inst, call, pt, ct, key_id, &res);
    EXPECT(known_status(st), "wrap: expected one of the ABI's statuses, got %s", DESCRIBE(st));
    if (st == SB_OK) {
        EXPECT(ct->len > 0 && sb_text_cstr(key_id)[0] != '\0', "wrap succeeded without ciphertext or key id");
        EXPECT(ct->len != pt->len || memcmp(ct->data, pt->data, pt->len) != 0,
               "wrap returned the plaintext unchanged");
        st = m->unwrap(inst, call, ct->data, ct->len, sb_text_cstr(key_id), back, &res);
        EXPECT_STATUS("unwrap of a fresh wrap", SB_OK, st, res);
        EXPECT(back->len == pt->len && memcmp(back->data, pt->data, pt->len) == 0,
               "unwrap did not return the original plaintext");
    }
    sb_secure_free(pt);
    sb_secure_free(ct);
    sb_secure_free(back);
    sb_text_free(key_id);
    sb_result_release(&res);
    long after = sb_secure_live_allocations();
    EXPECT(after == before, "%ld secure allocation(s) leaked by kms operations", after - before);
    return 1;
}

/* ---- gitops and notifier ------------------------------------------------------- */

static int gitops_checks(kit *k, void *inst, const sb_call *call, char *why, size_t cap)
{
    const sb_gitops_ops *g = k->d->gitops;
    sb_text *state = sb_text_new(), *detail = sb_text_new();
    sb_gitops_observation obs = {sizeof obs, SB_GITOPS_NO_EVIDENCE, detail};
    REFUSE("baseline(inst=NULL)", g->baseline(NULL, call, "app", state, &res));
    REFUSE("baseline(app=NULL)", g->baseline(inst, call, NULL, state, &res));
    REFUSE("baseline(state=NULL)", g->baseline(inst, call, "app", NULL, &res));
    REFUSE("observe(app=NULL)", g->observe(inst, call, NULL, "", 0, &obs, &res));
    REFUSE("observe(out=NULL)", g->observe(inst, call, "app", "", 0, NULL, &res));
    sb_result res = SB_RESULT_INIT;
    sb_status st = g->baseline(inst, call, "conformance-app", state, &res);
    EXPECT(known_status(st), "baseline: expected one of the ABI's statuses, got %s", DESCRIBE(st));
    if (st == SB_OK) {
        st = g->observe(inst, call, "conformance-app", sb_text_cstr(state), 0, &obs, &res);
        EXPECT(known_status(st), "observe: expected one of the ABI's statuses, got %s", DESCRIBE(st));
        EXPECT(st != SB_OK || (obs.evidence >= SB_GITOPS_NO_EVIDENCE && obs.evidence <= SB_GITOPS_FAILED),
               "observe returned an unknown evidence value %d", (int)obs.evidence);
    }
    sb_text_free(state);
    sb_text_free(detail);
    sb_result_release(&res);
    return 1;
}

typedef struct app_count {
    int seen, nameless, stop_after;
} app_count;

static int count_app(void *p, const sb_gitops_app *a)
{
    app_count *c = p;
    c->seen++;
    if (a == NULL || a->name == NULL || !SB_HAS_FIELD(a, sb_gitops_app, health_status))
        c->nameless++;
    return c->stop_after > 0 && c->seen >= c->stop_after;
}

/* list_applications (ABI 1.1), run only when the plugin provides it. */
static int gitops_list_checks(kit *k, void *inst, const sb_call *call, char *why, size_t cap)
{
    const sb_gitops_ops *g = k->d->gitops;
    sb_gitops_app_query q = {sizeof q, 0, NULL};
    app_count all = {0, 0, 0}, one = {0, 0, 1};
    REFUSE("list_applications(inst=NULL)", g->list_applications(NULL, call, &q, count_app, &all, &res));
    REFUSE("list_applications(emit=NULL)", g->list_applications(inst, call, &q, NULL, &all, &res));
    sb_result res = SB_RESULT_INIT;
    sb_status st = g->list_applications(inst, call, &q, count_app, &all, &res);
    sb_result_release(&res);
    EXPECT(known_status(st), "list_applications: expected one of the ABI's statuses, got %s", DESCRIBE(st));
    EXPECT(all.nameless == 0, "list_applications emitted %d application(s) without a name", all.nameless);
    if (st == SB_OK && all.seen > 0) {
        st = g->list_applications(inst, call, &q, count_app, &one, &res);
        sb_result_release(&res);
        EXPECT(st == SB_E_CANCELLED && one.seen == 1,
               "list_applications: an emit that asks to stop must end the listing with "
               "SB_E_CANCELLED after that application, got %s after %d",
               DESCRIBE(st), one.seen);
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
    sb_result_release(&res);
    EXPECT(known_status(st), "deliver: expected one of the ABI's statuses, got %s", DESCRIBE(st));
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
    fprintf(out, "checking plugin %s %s (requires ABI %u.%u, built with %u.%u) from %s\n", k.d->name,
            k.d->version, k.d->abi_major, k.d->requires_minor, k.d->abi_major, k.d->abi_minor, lp.path);
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
            if (k.d->provider_features & SB_PROV_WRITE)
                run_isolated(&k,
                             (k.d->provider_features & SB_PROV_CAS)
                                 ? "provider: writes read back; a stale compare-and-set write conflicts"
                                 : "provider: writes read back",
                             provider_writes);
        }
        if (k.d->capabilities & SB_CAP_KMS) {
            run_isolated(&k, "kms: invalid arguments are refused cleanly", kms_invalid);
            run_isolated(&k, "kms: wrap/unwrap round trip, no leaks", kms_valid);
        }
        if (k.d->capabilities & SB_CAP_GITOPS) {
            run_isolated(&k, "gitops: baseline/observe", gitops_checks);
            if (SB_HAS_FIELD(k.d->gitops, sb_gitops_ops, list_applications) &&
                k.d->gitops->list_applications != NULL)
                run_isolated(&k, "gitops: list_applications (ABI 1.1)", gitops_list_checks);
            else
                report(&k, 1, "gitops: list_applications (ABI 1.1)",
                       SKIP_MARK "not provided (built for ABI 1.0, or the slot is NULL): the "
                                 "host cannot list this plugin's applications");
        }
        if (k.d->capabilities & SB_CAP_NOTIFIER)
            run_isolated(&k, "notifier: deliver", notifier_checks);
    }
    sb_instance_config_free(k.cfg);
    sb_yaml_free(tree);
    sb_diags_free(&d);
    if (k.skipped)
        fprintf(out, "\n%d passed, %d failed, %d skipped\n", k.passed, k.failed, k.skipped);
    else
        fprintf(out, "\n%d passed, %d failed\n", k.passed, k.failed);
    sb_plugin_unload(&lp);
    return k.failed;
}
