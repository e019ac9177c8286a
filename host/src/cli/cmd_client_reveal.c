/*
 * cli/cmd_client_reveal.c — `sbridge reveal`: a read request's results,
 * each revealed once.
 *
 * Contract: lists the request's results (GET /api/v1/requests/{id}/wraps,
 * no values), then reveals each live one — or only --key K — with POST
 * …/wraps/{wrap_id}/reveal, which the server answers once. Values are
 * written as "key=value" lines: to --out PATH (created new, mode 0600,
 * never over an existing file), or to stdout when stdout is not a terminal
 * (a pipe or a redirect), or to the terminal only with --show. The safe
 * default: on a terminal without --out or --show nothing is revealed (a
 * value in the scrollback outlives the session), and the command says how
 * to choose. Where the values go is settled before the first reveal, so a
 * refused destination never consumes a result. A value that is binary
 * (the API's encoding base64) or spans lines is written base64 and a note
 * on stderr says so. Values are only in secure memory and written with
 * write(2) (no stdio buffer copy); stderr never carries one.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "cli/cli.h"
#include "cli/client_args.h"
#include "crypto/secure_mem.h"

#define MAX_RESULTS 256

typedef struct reveal_args {
    const char *id, *key, *out;
    int show;
} reveal_args;

static int parse(int argc, char **argv, reveal_args *a)
{
    memset(a, 0, sizeof *a);
    for (int i = 1; i < argc; i++) {
        int m;
        if ((m = sb_client_opt("reveal", argc, argv, &i, "--key", &a->key)) ||
            (m = sb_client_opt("reveal", argc, argv, &i, "--out", &a->out))) {
            if (m < 0)
                return 2;
        } else if (strcmp(argv[i], "--show") == 0) {
            a->show = 1;
        } else if (argv[i][0] == '-') {
            return sb_cli_unknown_argument("reveal", argv[i]);
        } else if (a->id) {
            return sb_cli_usage_error("reveal", "takes one REQUEST_ID (got %s and %s)", a->id, argv[i]);
        } else {
            a->id = argv[i];
        }
    }
    if (a->id == NULL)
        return sb_cli_usage_error("reveal", "REQUEST_ID is required ('sbridge requests list "
                                            "--state executed' shows yours)");
    if (!sb_client_uuid_ok(a->id))
        return sb_cli_usage_error("reveal", "'%s' is not a request id (a UUID)", a->id);
    if (a->out && a->show)
        return sb_cli_usage_error("reveal", "--out and --show exclude each other");
    if (a->out && a->out[0] == '\0')
        return sb_cli_usage_error("reveal", "--out needs a file path");
    return 0;
}

static int write_all(int fd, const void *p, size_t n)
{
    const unsigned char *b = p;
    while (n > 0) {
        ssize_t w = write(fd, b, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        b += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Writes "key=value\n" of one reveal answer. 0, or -1 on a write error. */
static int write_value(int fd, const sb_json_node *root)
{
    size_t klen = 0, vlen = 0;
    const char *key = sb_json_string(sb_json_get(root, "key"), &klen);
    const char *value = sb_json_string(sb_json_get(root, "value"), &vlen);
    size_t enc_len = 0;
    const char *enc = sb_json_string(sb_json_get(root, "encoding"), &enc_len);
    if (key == NULL || value == NULL)
        return -1;
    int binary = enc && strcmp(enc, "base64") == 0;
    int multiline = !binary && (memchr(value, '\n', vlen) || memchr(value, '\r', vlen) ||
                                strlen(value) != vlen);
    char *encoded = NULL;
    if (multiline) {
        size_t cap = sodium_base64_ENCODED_LEN(vlen, sodium_base64_VARIANT_ORIGINAL);
        encoded = sb_secure_alloc(cap);
        if (encoded == NULL)
            return -1;
        sodium_bin2base64(encoded, cap, (const unsigned char *)value, vlen, sodium_base64_VARIANT_ORIGINAL);
        value = encoded;
        vlen = strlen(encoded);
    }
    int rc = write_all(fd, key, klen) || write_all(fd, "=", 1) || write_all(fd, value, vlen) ||
                     write_all(fd, "\n", 1)
                 ? -1
                 : 0;
    sb_secure_release(encoded);
    if (rc == 0 && (binary || multiline))
        fprintf(stderr, "sbridge reveal: %s is %s; written base64 (decode with 'base64 -d')\n", key,
                binary ? "binary" : "more than one line");
    return rc;
}

typedef struct result {
    char id[40], key[130], state[16], consumed_at[40], expires_at[40];
} result;

/* The request's results (no values). n, or -1 after a report. */
static int list_results(sb_client *c, const char *id, result *out, int cap)
{
    char path[128];
    snprintf(path, sizeof path, "/api/v1/requests/%s/wraps", id);
    sb_client_response r;
    if (sb_client_call(c, "GET", path, NULL, 0, 0, &r) != 200) {
        sb_client_report(c, "listing the request's results", &r);
        sb_client_response_free(&r);
        return -1;
    }
    const sb_json_node *items = sb_json_get(sb_client_root(&r), "items");
    int n = 0;
    for (size_t i = 0; i < sb_json_count(items) && n < cap; i++, n++) {
        const sb_json_node *w = sb_json_member(items, i, NULL);
        snprintf(out[n].id, sizeof out[n].id, "%s", sb_client_str(w, "id"));
        snprintf(out[n].key, sizeof out[n].key, "%s", sb_client_str(w, "key"));
        snprintf(out[n].state, sizeof out[n].state, "%s", sb_client_str(w, "state"));
        snprintf(out[n].consumed_at, sizeof out[n].consumed_at, "%s", sb_client_str(w, "consumed_at"));
        snprintf(out[n].expires_at, sizeof out[n].expires_at, "%s", sb_client_str(w, "expires_at"));
    }
    sb_client_response_free(&r);
    return n;
}

/* Why there is nothing to reveal: the request's state. */
static void explain_no_results(sb_client *c, const char *id)
{
    char path[128];
    snprintf(path, sizeof path, "/api/v1/requests/%s", id);
    sb_client_response r;
    long st = sb_client_call(c, "GET", path, NULL, 0, 0, &r);
    const char *state = st == 200 ? sb_client_str(sb_client_root(&r), "state") : "";
    const char *kind = st == 200 ? sb_client_str(sb_client_root(&r), "kind") : "";
    if (strcmp(kind, "patch") == 0 || strcmp(kind, "cross_team") == 0)
        fprintf(stderr, "sbridge reveal: request %s is a %s request: it has no results to "
                        "reveal\n",
                id, kind);
    else if (state[0])
        fprintf(stderr, "sbridge reveal: request %s is %s and has no results%s\n", id, state,
                strcmp(state, "pending") == 0    ? ": it waits for approval ('sbridge approve')"
                : strcmp(state, "approved") == 0 ? " yet: an agent has not executed it; try again "
                                                   "shortly"
                                                 : "");
    else
        fprintf(stderr, "sbridge reveal: request %s has no results to reveal\n", id);
    sb_client_response_free(&r);
}

/* Reveals one result into fd. 0 revealed, 1 not (reported). */
static int reveal_one(sb_client *c, const char *req_id, const result *w, int fd)
{
    if (strcmp(w->state, "consumed") == 0) {
        fprintf(stderr, "sbridge reveal: %s was revealed already (at %s); a result is revealed "
                        "once: submit a new read request to see it again\n",
                w->key, w->consumed_at);
        return 1;
    }
    if (strcmp(w->state, "expired") == 0) {
        fprintf(stderr, "sbridge reveal: %s expired (at %s) before it was revealed; submit a new "
                        "read request\n",
                w->key, w->expires_at);
        return 1;
    }
    char path[160];
    snprintf(path, sizeof path, "/api/v1/requests/%s/wraps/%s/reveal", req_id, w->id);
    sb_client_response r;
    long st = sb_client_call(c, "POST", path, (const unsigned char *)"{}", 2, 0, &r);
    int rc = 0;
    if (st == 200) {
        if (write_value(fd, sb_client_root(&r)) != 0) {
            fprintf(stderr, "sbridge reveal: %s was revealed but could not be written (%s); it "
                            "cannot be revealed again: submit a new read request\n",
                    w->key, strerror(errno));
            rc = 1;
        }
    } else if (st == 410 && strcmp(sb_client_error_code(&r), "wrap_consumed") == 0) {
        fprintf(stderr, "sbridge reveal: %s was revealed already; a result is revealed once: "
                        "submit a new read request to see it again\n",
                w->key);
        rc = 1;
    } else {
        char doing[200];
        snprintf(doing, sizeof doing, "revealing %s", w->key);
        rc = sb_client_report(c, doing, &r);
    }
    sb_client_response_free(&r);
    return rc;
}

int sb_cmd_reveal(int argc, char **argv)
{
    reveal_args a;
    int rc = parse(argc, argv, &a);
    if (rc != 0)
        return rc;
    if (a.out == NULL && !a.show && isatty(STDOUT_FILENO)) {
        fprintf(stderr, "sbridge reveal: not revealing onto a terminal: a value there stays in the "
                        "scrollback. Choose where it goes: --out FILE (created 0600), a pipe or "
                        "redirect (sbridge reveal %s > FILE), or --show to print it here. Nothing "
                        "was revealed.\n",
                a.id);
        return 2;
    }
    sb_client c;
    sb_client_credentials cred;
    if (sb_client_session_open("reveal", &c, &cred) != 0)
        return 1;
    static result results[MAX_RESULTS];
    int n = list_results(&c, a.id, results, MAX_RESULTS), selected = 0;
    for (int i = 0; i < n; i++)
        selected += a.key == NULL || strcmp(results[i].key, a.key) == 0;
    if (n == 0)
        explain_no_results(&c, a.id);
    else if (n > 0 && selected == 0) {
        fprintf(stderr, "sbridge reveal: request %s has no result for key '%s'; its keys:", a.id, a.key);
        for (int i = 0; i < n; i++)
            fprintf(stderr, " %s", results[i].key);
        fprintf(stderr, "\n");
    }
    if (n <= 0 || selected == 0) {
        sb_client_credentials_clear(&cred);
        return 1;
    }
    int fd = STDOUT_FILENO;
    if (a.out) {
        fd = open(a.out, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd < 0) {
            fprintf(stderr, "sbridge reveal: cannot create %s: %s%s. Nothing was revealed.\n", a.out,
                    strerror(errno), errno == EEXIST ? " (it is never overwritten: remove it or "
                                                       "choose another path)"
                                                     : "");
            sb_client_credentials_clear(&cred);
            return 1;
        }
    }
    int revealed = 0, failed = 0;
    for (int i = 0; i < n; i++) {
        if (a.key && strcmp(results[i].key, a.key) != 0)
            continue;
        if (reveal_one(&c, a.id, &results[i], fd) == 0)
            revealed++;
        else
            failed++;
    }
    if (a.out) {
        if (fsync(fd) != 0 || close(fd) != 0)
            failed++, fprintf(stderr, "sbridge reveal: writing %s failed: %s\n", a.out, strerror(errno));
        if (revealed == 0)
            unlink(a.out);
        else
            fprintf(stderr, "sbridge reveal: wrote %d value(s) to %s (mode 0600); delete it when "
                            "done\n",
                    revealed, a.out);
    }
    sb_client_credentials_clear(&cred);
    return failed ? 1 : 0;
}
