/*
 * cli/cmd_dev.c — `sbridge dev`: the whole product on one machine, in one
 * terminal (docs/dev.md).
 *
 * Validates the dev config (the embedded one by default), loads and starts
 * every plugin and instance, lists what each provider instance holds
 * (metadata and labels only — never a value), runs a KMS wrap/unwrap round
 * trip, then runs the control plane (API, web UI, worker tasks) in dev mode
 * on a private embedded PostgreSQL and, with demo.seed, the demo world
 * beside it (cli/dev_demo.h: the Vault emulator with demo secrets, the demo
 * tenancy, one enrolled agent) until Ctrl-C (--no-demo: the seed logins
 * only, an empty tenancy). --once stops after the plugin checks.
 *
 * The listen address is --listen, else $SBRIDGE_DEV_LISTEN, else the
 * config's http.listen. It is tried before anything is created: a port in
 * use fails at once, naming the port and how to pick another, with no
 * state directory left behind. The state directory is --state-dir, else
 * the config's state_dir, else ~/.local/state/sbridge/dev
 * ($XDG_STATE_HOME/sbridge/dev; /var/lib/sbridge/dev for root, whose home
 * PostgreSQL's user cannot enter): a second run reuses it (same logins,
 * catalog, requests); --reset removes it first (refused while a dev runs
 * on it, or when it does not look like a dev state directory). A directory
 * this run created is removed again when the control plane fails to
 * start. The seeded logins are printed on stdout (the terminal) at the
 * first run, never on stderr, where the JSON log goes.
 *
 * As `sbridge server` does, the control plane gets the started plugins (so
 * the config's notifiers: are delivered) and, with
 * gitops_observation.enabled, the GitOps plugin, which must then be loaded.
 */
#include <errno.h>
#include <limits.h>
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
#include "cli/dev_demo.h"
#include "config/settings.h"
#include "crypto/secure_mem.h"
#include "plugin/gitops_client.h"
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

/* What `sbridge dev` was told besides the settings. */
typedef struct dev_args {
    const char *state_dir;  /* --state-dir, or NULL */
    const char *plugin_dir; /* --plugin-dir, or NULL */
    const char *emulator;   /* the demo's Vault emulator script, or NULL: no demo */
    int reset;
    sb_registry *plugins;                /* the started plugins (notifier instances) */
    const sb_plugin_slot *gitops_plugin; /* gitops_observation.plugin when enabled */
} dev_args;

/* mkdir -p for the default state directory's parents (0700). */
static int make_parents(const char *dir)
{
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s", dir);
    for (char *p = path + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(path, 0700) != 0 && errno != EEXIST)
            return -1;
        *p = '/';
    }
    return 0;
}

/* The state directory when neither --state-dir nor state_dir names one. */
static const char *default_state_dir(char *buf, size_t cap)
{
    const char *xdg = getenv("XDG_STATE_HOME"), *home = getenv("HOME");
    if (geteuid() == 0)
        snprintf(buf, cap, "/var/lib/sbridge/dev");
    else if (xdg && xdg[0] == '/')
        snprintf(buf, cap, "%s/sbridge/dev", xdg);
    else if (home && home[0] == '/')
        snprintf(buf, cap, "%s/.local/state/sbridge/dev", home);
    else
        return NULL;
    return buf;
}

/* --reset: removes dir when it is a dev state directory no dev runs on. */
static int reset_state_dir(const char *dir)
{
    struct stat st;
    char path[PATH_MAX + 32];
    if (lstat(dir, &st) != 0)
        return errno == ENOENT ? 0 : (perror("sbridge dev --reset"), -1);
    snprintf(path, sizeof path, "%s/pgdata/PG_VERSION", dir);
    if (!S_ISDIR(st.st_mode) || stat(path, &st) != 0) {
        fprintf(stderr, "sbridge dev --reset: %s does not look like a dev state directory (no "
                        "pgdata/PG_VERSION); remove it yourself if you mean it\n", dir);
        return -1;
    }
    snprintf(path, sizeof path, "%s/pgdata/postmaster.pid", dir);
    FILE *f = fopen(path, "r");
    long pid = 0;
    if (f && fscanf(f, "%ld", &pid) == 1 && pid > 0 && (kill((pid_t)pid, 0) == 0 || errno == EPERM)) {
        fclose(f);
        fprintf(stderr, "sbridge dev --reset: a dev is running on %s (its PostgreSQL is process "
                        "%ld); stop it first (Ctrl-C in its terminal)\n", dir, pid);
        return -1;
    }
    if (f)
        fclose(f);
    remove_tree(dir);
    printf("Removed the dev state in %s; starting fresh.\n", dir);
    return 0;
}

/* What a newcomer can do next, printed once everything runs. */
static void print_ready(const char *url, const sb_dev_demo *demo, int first_run)
{
    printf("\nSecrets Bridge is running: %s\n", url);
    printf("  web UI:  %s/            API: %s/api/v1/openapi.json\n", url, url);
    if (demo && demo->vault_port)
        printf("  demo:    connection demo-vault (a Vault emulator on 127.0.0.1:%d) served by one "
               "agent;\n           teams payments and platform, projects checkout-api, ledger and "
               "billing-worker,\n           each with prod (one approval) and staging (direct "
               "reveal allowed)\n",
               demo->vault_port);
    if (first_run)
        printf("  logins:  admin, approver and developer, with the passwords printed above (shown "
               "only now)\n");
    else
        printf("  logins:  admin, approver and developer, as printed at the first run (forgotten? "
               "`sbridge dev --reset`)\n");
    printf("  try it:  sbridge login --url %s --username developer\n"
           "           sbridge bindings                  (what you can ask for)\n"
           "           sbridge request read --binding ID --justification TEXT\n"
           "           (then as approver: sbridge approve REQUEST_ID; as developer: sbridge "
           "reveal REQUEST_ID)\n"
           "Press Ctrl-C to stop.\n",
           url);
}

/* Runs the control plane in dev mode (and the demo) until SIGINT/SIGTERM. */
static int run_control_plane(const sb_settings *s, const dev_args *a, sb_instance *kms)
{
    if (probe_listen(s->http.listen) != 0)
        return 1;
    char def[PATH_MAX];
    const char *state_dir = a->state_dir ? a->state_dir : s->state_dir;
    if (state_dir == NULL && (state_dir = default_state_dir(def, sizeof def)) == NULL) {
        fprintf(stderr, "sbridge dev: HOME is not set, so there is no default state directory; "
                        "pass --state-dir DIR\n");
        return 1;
    }
    if (a->reset && reset_state_dir(state_dir) != 0)
        return 1;
    if (state_dir == def && make_parents(state_dir) != 0) {
        fprintf(stderr, "sbridge dev: cannot create the parents of %s: %s\n", state_dir,
                strerror(errno));
        return 1;
    }
    struct stat st;
    int created = stat(state_dir, &st) != 0 && errno == ENOENT;
    char pg_version[PATH_MAX + 32];
    snprintf(pg_version, sizeof pg_version, "%s/pgdata/PG_VERSION", state_dir);
    int fresh = stat(pg_version, &st) != 0; /* no database yet: the logins get printed */
    sigset_t set;
    sb_cli_block_signals(&set);
    sb_control_plane_options opts = {
        .dev_mode = 1, .state_dir = state_dir, .run_background = 1, .seed_out = stdout, .kms = kms,
        .plugins = a->plugins, .gitops_plugin = a->gitops_plugin};
    sb_control_plane *cp;
    sb_error err;
    if (sb_control_plane_start(s, &opts, &cp, &err) != 0) {
        fprintf(stderr, "sbridge dev: %s\n", err.message);
        if (created)
            remove_tree(state_dir);
        return 1;
    }
    printf("\nControl plane: %s  (state in %s)\n"
           "  health:  %s/healthz   audit: sbridge audit verify --state-dir %s\n",
           sb_control_plane_url(cp), state_dir, sb_control_plane_url(cp), state_dir);
    fflush(stdout);
    sb_dev_demo demo = {0};
    if (a->emulator) {
        sb_dev_demo_options o = {state_dir, sb_registry_directory(s, a->plugin_dir), a->emulator,
                                 cp, stdout};
        if (sb_dev_demo_start(&o, &demo, &err) != 0) {
            fprintf(stderr, "sbridge dev: %s\n", err.message);
            sb_control_plane_stop(cp, s->shutdown_grace_ms);
            return 1;
        }
    }
    print_ready(sb_control_plane_url(cp), a->emulator ? &demo : NULL, fresh);
    fflush(stdout);
    int sig = 0;
    do
        sigwait(&set, &sig);
    while (sig == SIGHUP);
    printf("\nStopping...\n");
    fflush(stdout);
    sb_dev_demo_stop(&demo);
    sb_control_plane_stop(cp, s->shutdown_grace_ms);
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

/* The demo's Vault emulator script, or NULL (said why) when the demo
 * cannot run: demo.seed off, no emulator, or no vault plugin. */
static const char *demo_emulator(const sb_settings *s, const char *plugin_dir)
{
    if (!s->demo.seed)
        return NULL;
    const char *emulator = s->demo.vault_emulator;
#ifdef SB_SOURCE_VAULT_EMULATOR
    if (emulator == NULL)
        emulator = SB_SOURCE_VAULT_EMULATOR;
#endif
    struct stat st;
    if (emulator == NULL || stat(emulator, &st) != 0) {
        printf("  demo: no Vault emulator%s%s, so no demo secrets or agent (demo.vault_emulator "
               "names one; a source tree has tests/emulators/vault/vault_emulator.py)\n",
               emulator ? " at " : "", emulator ? emulator : "");
        return NULL;
    }
    char vault_so[PATH_MAX];
    snprintf(vault_so, sizeof vault_so, "%s/vault.so", sb_registry_directory(s, plugin_dir));
    if (stat(vault_so, &st) != 0) {
        printf("  demo: no %s (the agent's Vault plugin), so no demo secrets or agent; build "
               "with the vault plugin (SB_PLUGINS)\n", vault_so);
        return NULL;
    }
    return emulator;
}

int sb_cmd_dev(int argc, char **argv)
{
    const char *file = NULL, *plugin_dir = NULL, *state_dir = NULL;
    const char *listen = getenv("SBRIDGE_DEV_LISTEN"), *listen_from = "SBRIDGE_DEV_LISTEN";
    int once = 0, reset = 0, no_demo = 0;
    for (int i = 1; i < argc; i++) {
        const char **value = strcmp(argv[i], "--config") == 0       ? &file
                             : strcmp(argv[i], "--plugin-dir") == 0 ? &plugin_dir
                             : strcmp(argv[i], "--state-dir") == 0  ? &state_dir
                             : strcmp(argv[i], "--listen") == 0     ? &listen
                                                                    : NULL;
        if (strcmp(argv[i], "--once") == 0)
            once = 1;
        else if (strcmp(argv[i], "--reset") == 0)
            reset = 1;
        else if (strcmp(argv[i], "--no-demo") == 0)
            no_demo = 1;
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
        dev_args a = {state_dir, plugin_dir, no_demo ? NULL : demo_emulator(&s, plugin_dir), reset,
                      &r, NULL};
        if (s.gitops_observation.enabled &&
            (a.gitops_plugin = sb_gitops_client_plugin(&r, s.gitops_observation.plugin, &err)) ==
                NULL) {
            fprintf(stderr, "sbridge dev: gitops_observation.enabled: %s\n", err.message);
            rc = 1;
        } else if (!once)
            rc = run_control_plane(&s, &a,
                                   s.kms.name ? sb_registry_instance(&r, "kms", s.kms.name) : NULL);
    }
    sb_registry_free(&r);
    sb_settings_free(&s);
    return rc;
}
