/*
 * cli/cmd_dev.c — `sbridge dev`: a first look on one machine.
 *
 * Validates the dev config (the embedded one by default), loads and starts
 * every plugin and instance, lists what each provider holds (metadata and
 * labels only — never a value), runs a KMS wrap/unwrap round trip, then
 * runs the control plane in dev mode on a private embedded PostgreSQL until
 * Ctrl-C (--once stops after the plugin checks). The worker and agent join
 * it as their issues land.
 *
 * The listen address is --listen, else $SBRIDGE_DEV_LISTEN, else the
 * config's http.listen. It is tried before anything is created: a port in
 * use fails at once, naming the port and how to pick another, with no
 * state directory left behind. The state directory is --state-dir, else
 * the config's state_dir (both kept after exit), else a fresh temporary
 * one under $TMPDIR or /tmp (removed at exit); a directory this run created is removed again
 * when the control plane fails to start. The seeded logins are printed on
 * stdout (the terminal), never on stderr, where the JSON log goes.
 */
#include <errno.h>
#include <ftw.h>
#include <netdb.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"
#include "config/settings.h"
#include "crypto/secure_mem.h"
#include "plugin/host_api.h"
#include "plugin/kms_client.h"
#include "plugin/registry.h"
#include "plugin/text.h"
#include "server/control_plane.h"
#include "util/log.h"

extern const char sb_embedded_dev_yaml[];
extern const unsigned long sb_embedded_dev_yaml_len;

/* "host:port", "[v6]:port" or ":port" into host and port; -1 when not. */
static int split_listen(const char *addr, char *host, size_t host_cap, char *port, size_t port_cap)
{
    const char *colon;
    if (addr[0] == '[') {
        const char *close = strchr(addr, ']');
        if (close == NULL || close[1] != ':')
            return -1;
        snprintf(host, host_cap, "%.*s", (int)(close - addr - 1), addr + 1);
        colon = close + 1;
    } else {
        colon = strrchr(addr, ':');
        if (colon == NULL)
            return -1;
        snprintf(host, host_cap, "%.*s", (int)(colon - addr), addr);
    }
    const char *p = colon + 1;
    if (*p == '\0' || strlen(p) >= port_cap || strspn(p, "0123456789") != strlen(p) || strtoul(p, NULL, 10) > 65535)
        return -1;
    snprintf(port, port_cap, "%s", p);
    return 0;
}

/* Binds addr the way the HTTP server will (SO_REUSEADDR) and lets go at
 * once: 0 when it could listen there, else -1 with the reason printed. */
static int probe_listen(const char *addr)
{
    char host[256], port[8];
    split_listen(addr, host, sizeof host, port, sizeof port); /* checked when parsed */
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_PASSIVE | AI_NUMERICSERV};
    struct addrinfo *res = NULL;
    int gai = getaddrinfo(host[0] ? host : NULL, port, &hints, &res);
    if (gai != 0) {
        fprintf(stderr, "sbridge dev: cannot use the listen address %s: %s\n"
                        "Choose another with --listen ADDR:PORT (or SBRIDGE_DEV_LISTEN), e.g. --listen 127.0.0.1:8081.\n",
                addr, gai_strerror(gai));
        return -1;
    }
    int saved = 0, ok = 0;
    for (struct addrinfo *ai = res; ai != NULL && !ok; ai = ai->ai_next) {
        int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
        if (fd < 0) {
            saved = errno;
            continue;
        }
        int one = 1;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && listen(fd, 1) == 0)
            ok = 1;
        else
            saved = errno;
        close(fd);
    }
    freeaddrinfo(res);
    if (ok)
        return 0;
    if (saved == EADDRINUSE)
        fprintf(stderr,
                "sbridge dev: port %s is already in use on %s (another sbridge dev or server?); nothing was "
                "started.\nChoose another port with --listen %s:PORT (or SBRIDGE_DEV_LISTEN=%s:PORT; port 0 "
                "picks a free one), or stop what holds it (ss -ltnp 'sport = :%s' shows it).\n",
                port, host[0] ? host : "every address", host[0] ? host : "127.0.0.1", host[0] ? host : "127.0.0.1",
                port);
    else
        fprintf(stderr, "sbridge dev: cannot listen on %s: %s; nothing was started.\n"
                        "Choose another address with --listen ADDR:PORT (or SBRIDGE_DEV_LISTEN), e.g. --listen "
                        "127.0.0.1:8081.\n",
                addr, strerror(saved));
    return -1;
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    return remove(path);
}

/* rm -rf dir, without a shell. */
static void remove_tree(const char *dir)
{
    if (nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS) != 0 && errno != ENOENT)
        fprintf(stderr, "sbridge dev: could not remove %s: %s\n", dir, strerror(errno));
}

/* Runs the control plane in dev mode until SIGINT/SIGTERM. */
static int run_control_plane(const sb_settings *s, const char *state_dir_arg, sb_instance *kms)
{
    if (probe_listen(s->http.listen) != 0)
        return 1;
    char temp[4096] = "";
    const char *state_dir = state_dir_arg ? state_dir_arg : s->state_dir;
    struct stat st;
    int created = 0;
    if (state_dir == NULL) {
        const char *tmpdir = getenv("TMPDIR");
        snprintf(temp, sizeof temp, "%s/sbridge-dev-XXXXXX", tmpdir && *tmpdir ? tmpdir : "/tmp");
        if (mkdtemp(temp) == NULL) {
            perror("sbridge dev: cannot create a state directory");
            return 1;
        }
        state_dir = temp;
        created = 1;
    } else {
        created = stat(state_dir, &st) != 0 && errno == ENOENT;
    }
    sigset_t set;
    sb_cli_block_signals(&set);
    sb_control_plane_options opts = {
        .dev_mode = 1, .state_dir = state_dir, .run_background = 1, .seed_out = stdout, .kms = kms};
    sb_control_plane *cp;
    sb_error err;
    if (sb_control_plane_start(s, &opts, &cp, &err) != 0) {
        fprintf(stderr, "sbridge dev: %s\n", err.message);
        if (created)
            remove_tree(state_dir);
        return 1;
    }
    printf("\nControl plane: %s  (state in %s%s)\n"
           "  health:  %s/healthz   API: %s/api/v1/openapi.json\n"
           "  audit:   sbridge audit verify --state-dir %s\n"
           "Press Ctrl-C to stop.\n",
           sb_control_plane_url(cp), state_dir, temp[0] ? ", removed at exit" : "", sb_control_plane_url(cp),
           sb_control_plane_url(cp), state_dir);
    fflush(stdout);
    int sig = 0;
    do
        sigwait(&set, &sig);
    while (sig == SIGHUP);
    sb_control_plane_stop(cp, s->shutdown_grace_ms);
    if (temp[0])
        remove_tree(temp);
    return 0;
}

static int print_secret(void *sink, const sb_metadata *m)
{
    int *count = sink;
    printf("    %-28s version %-4s", m->path, m->version ? m->version : "-");
    for (size_t i = 0; i < m->n_labels; i++)
        printf(" %s=%s", m->labels[i].key, m->labels[i].value);
    printf("\n");
    ++*count;
    return 0;
}

static void show_provider(sb_instance *inst)
{
    const sb_plugin *d = inst->plugin->loaded.desc;
    sb_call_ctx ctx;
    sb_call_begin(&ctx, d->name, inst->name, "dev", 10000);
    sb_text *cursor = sb_text_new();
    char *next = NULL;
    /* The instance's fence is the selector: a list never leaves it. */
    sb_list_query q = {sizeof q, 100, "", inst->fence->items, inst->fence->n, NULL};
    sb_result res = SB_RESULT_INIT;
    int count = 0, pages = 0;
    sb_status st = SB_OK;
    printf("  provider %s (plugin %s %s):\n", inst->name, d->name, d->version);
    do { /* follow next_cursor, a bounded number of pages */
        free(next);
        next = NULL;
        sb_text_set(cursor, "");
        st = d->provider->list(inst->handle, &ctx.call, &q, print_secret, &count, cursor, &res);
        if (st == SB_OK && sb_text_cstr(cursor)[0])
            q.cursor = next = strdup(sb_text_cstr(cursor));
    } while (st == SB_OK && next && ++pages < 100);
    if (st != SB_OK)
        printf("    list failed: %s\n", res.message);
    else
        printf("    %d secret%s\n", count, count == 1 ? "" : "s");
    free(next);
    sb_text_free(cursor);
    sb_result_release(&res);
}

/* A wrap/unwrap round trip of a fresh random 32-byte key through the
 * control plane's KMS layer (kms_client), as the server will use it. */
static void show_kms(sb_instance *inst)
{
    const sb_plugin *d = inst->plugin->loaded.desc;
    sb_secure_buf *key = sb_secure_new(32), *back = NULL;
    unsigned char *ct = NULL;
    size_t ct_len = 0;
    char *key_id = NULL;
    sb_error err = {0, "out of secure memory"};
    static const unsigned char zeros[32];
    int ok = key && sb_secure_append(key, zeros, sizeof zeros) == 0;
    if (ok) {
        sb_host_api_table()->random_bytes(key->data, key->len);
        ok = sb_kms_client_wrap(inst, key->data, key->len, &ct, &ct_len, &key_id, &err) == 0 &&
             sb_kms_client_unwrap(inst, ct, ct_len, key_id, &back, &err) == 0;
    }
    if (ok && (back->len != key->len || memcmp(back->data, key->data, key->len) != 0)) {
        snprintf(err.message, sizeof err.message, "unwrap returned different bytes than were wrapped");
        ok = 0;
    }
    if (ok)
        printf("  kms %s (plugin %s): wrap/unwrap round trip ok, key %s\n", inst->name, d->name, key_id);
    else
        printf("  kms %s (plugin %s): round trip FAILED: %s\n", inst->name, d->name, err.message);
    sb_secure_free(key);
    sb_secure_free(back);
    free(ct);
    free(key_id);
}

int sb_cmd_dev(int argc, char **argv)
{
    const char *file = NULL, *plugin_dir = NULL, *state_dir = NULL;
    const char *listen = getenv("SBRIDGE_DEV_LISTEN"), *listen_from = "SBRIDGE_DEV_LISTEN";
    int once = 0;
    for (int i = 1; i < argc; i++) {
        const char **value = strcmp(argv[i], "--config") == 0       ? &file
                             : strcmp(argv[i], "--plugin-dir") == 0 ? &plugin_dir
                             : strcmp(argv[i], "--state-dir") == 0  ? &state_dir
                             : strcmp(argv[i], "--listen") == 0     ? &listen
                                                                    : NULL;
        if (strcmp(argv[i], "--once") == 0)
            once = 1;
        else if (value && i + 1 < argc) {
            *value = argv[++i];
            if (value == &listen)
                listen_from = "--listen";
        } else if (value)
            return sb_cli_usage_error("dev", "%s needs a value", argv[i]);
        else
            return sb_cli_unknown_argument("dev", argv[i]);
    }
    char host[256], port[8];
    if (listen && *listen && split_listen(listen, host, sizeof host, port, sizeof port) != 0)
        return sb_cli_usage_error("dev", "%s takes ADDR:PORT, e.g. 127.0.0.1:8081 ([::1]:PORT for IPv6, port 0 "
                                  "for any free one); got '%s'",
                                  listen_from, listen);
    if (state_dir && *state_dir == '\0')
        return sb_cli_usage_error("dev", "--state-dir needs a directory");
    sb_settings s;
    sb_registry r;
    size_t errors;
    if (file) {
        errors = sb_config_check_file(file, "dev", plugin_dir, &s, &r, stderr);
    } else {
        sb_diags d;
        sb_diags_init(&d, "<embedded dev.yaml>");
        sb_settings_load_text(sb_embedded_dev_yaml, sb_embedded_dev_yaml_len, "dev", &s, &d);
        if (d.n_errors == 0) {
            sb_settings_apply_log_level(&s);
            sb_registry_load(&r, &s, plugin_dir, &d);
        }
        sb_diags_print(&d, stderr);
        errors = d.n_errors;
        sb_diags_free(&d);
        if (errors) {
            sb_registry_free(&r);
            sb_settings_free(&s);
        }
    }
    if (errors) {
        fprintf(stderr, "sbridge dev: the configuration has %zu error%s (listed above)\n", errors,
                errors == 1 ? "" : "s");
        return 1;
    }
    if (listen && *listen) {
        char *copy = strdup(listen);
        if (copy == NULL) {
            sb_registry_free(&r);
            sb_settings_free(&s);
            return 1;
        }
        free(s.http.listen);
        s.http.listen = copy;
    }
    sb_error err;
    int rc = 0;
    if (sb_registry_start(&r, &err) != 0) {
        fprintf(stderr, "sbridge dev: %s\n", err.message);
        rc = 1;
    } else {
        printf("Secrets Bridge %s — dev mode\n\n%zu plugin%s loaded:\n", SB_VERSION_STRING, r.n_plugins,
               r.n_plugins == 1 ? "" : "s");
        for (size_t i = 0; i < r.n_plugins; i++)
            printf("  %-14s %-8s sha256 %.16s…  %s\n", r.plugins[i].loaded.desc->name,
                   r.plugins[i].loaded.desc->version, r.plugins[i].loaded.sha256,
                   r.plugins[i].loaded.desc->description);
        printf("\n");
        for (size_t i = 0; i < r.n_instances; i++) {
            if (r.instances[i].capability == SB_CAP_PROVIDER)
                show_provider(&r.instances[i]);
            else if (r.instances[i].capability == SB_CAP_KMS)
                show_kms(&r.instances[i]);
        }
        if (s.kms.name == NULL)
            printf("  kms: the built-in local KMS (development only), keyed from the state "
                   "directory's master key\n");
        fflush(stdout);
        if (!once)
            rc = run_control_plane(&s, state_dir,
                                   s.kms.name ? sb_registry_instance(&r, "kms", s.kms.name) : NULL);
    }
    sb_registry_free(&r);
    sb_settings_free(&s);
    return rc;
}
