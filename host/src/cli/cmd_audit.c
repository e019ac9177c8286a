/*
 * cli/cmd_audit.c — `sbridge audit verify [--config FILE] [--state-dir DIR]
 * [--stale-after SECONDS|off]`.
 *
 * Contract: loads the server's configuration (--config, else
 * $SBRIDGE_CONFIG; --state-dir alone: the defaults with state_dir DIR, so
 * the state directory of `sbridge dev` can be checked; --state-dir with
 * --config replaces the file's state_dir), derives the audit key exactly as the server does
 * (sb_app_derive_keys: keys.master_key, else <state_dir>/master.key —
 * which must already exist: a fresh key could only report every event as
 * modified), connects to database.url or to the embedded PostgreSQL of
 * state_dir (the running server's socket, or a private start of the
 * cluster when no server runs), seals nothing and writes nothing, walks
 * the whole chain and prints one line:
 *   audit chain ok: N events (M unsealed, newest sealed at T)
 * plus the chain head (position and hash, to record elsewhere), or the
 * first break, e.g.
 *   audit chain broken at event id 42 (chain position 17): stored hash
 *   does not match its contents — the row was modified after sealing
 * Exit status: 0 intact, 1 broken or unverifiable (the reason printed),
 * 2 usage error. Unsealed events older than --stale-after (default 60 s)
 * count as a failure: they are not protected yet (is a sealer running?).
 */
#include <errno.h>
#include <inttypes.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "api/app_keys.h"
#include "cli/cli.h"
#include "config/settings.h"
#include "crypto/secure_mem.h"
#include "store/audit_store.h"
#include "store/embedded_pg.h"
#include "store/migrate.h"



typedef struct audit_args {
    const char *config, *state_dir;
    int64_t stale_after_ms;
} audit_args;

static int parse_args(int argc, char **argv, audit_args *a)
{
    const char *config_env = getenv("SBRIDGE_CONFIG");
    a->config = NULL;
    a->state_dir = NULL;
    a->stale_after_ms = SB_AUDIT_STALE_DEFAULT_MS;
    if (argc < 2)
        return sb_cli_usage_error("audit", "missing subcommand (verify)");
    if (strcmp(argv[1], "verify") != 0)
        return sb_cli_unknown_argument("audit", argv[1]);
    for (int i = 2; i < argc; i++) {
        if (strcmp(argv[i], "--config") == 0 && i + 1 < argc) {
            a->config = argv[++i];
        } else if (strcmp(argv[i], "--state-dir") == 0 && i + 1 < argc && argv[i + 1][0]) {
            a->state_dir = argv[++i];
        } else if (strcmp(argv[i], "--stale-after") == 0 && i + 1 < argc) {
            const char *v = argv[++i];
            char *end;
            errno = 0;
            long long secs = strtoll(v, &end, 10);
            if (strcmp(v, "off") == 0)
                a->stale_after_ms = -1;
            else if (errno || end == v || *end || secs < 0 || secs > 100LL * 365 * 86400)
                return sb_cli_usage_error("audit", "--stale-after takes whole seconds or 'off' (got %s)", v);
            else
                a->stale_after_ms = secs * 1000;
        } else {
            return sb_cli_unknown_argument("audit", argv[i]);
        }
    }
    /* An explicit --state-dir names its own database: $SBRIDGE_CONFIG
     * (perhaps a production server's) is not silently mixed in. */
    if (a->config == NULL && a->state_dir == NULL)
        a->config = config_env;
    if ((a->config == NULL || a->config[0] == '\0') && a->state_dir == NULL)
        return sb_cli_usage_error("audit", "no configuration: pass --config FILE, --state-dir DIR (e.g. the "
                                           "state directory sbridge dev prints) or set SBRIDGE_CONFIG");
    return 0;
}

static int load_settings(const char *file, const char *state_dir, sb_settings *s)
{
    static const char defaults[] = "role: server\n";
    sb_diags d;
    sb_diags_init(&d, file ? file : "<defaults>");
    size_t errors = file ? sb_settings_load(file, "server", s, &d)
                         : sb_settings_load_text(defaults, sizeof defaults - 1, "server", s, &d);
    sb_diags_print(&d, stderr);
    sb_diags_free(&d);
    if (errors) {
        fprintf(stderr, "sbridge audit: %s has %zu error%s (listed above)\n", file, errors,
                errors == 1 ? "" : "s");
        sb_settings_free(s);
        return -1;
    }
    if (state_dir) {
        if (s->database.url) {
            fprintf(stderr, "sbridge audit: --state-dir names an embedded PostgreSQL, but %s sets "
                            "database.url; drop one of the two\n", file);
            sb_settings_free(s);
            return -1;
        }
        char *copy = strdup(state_dir);
        if (copy == NULL) {
            sb_settings_free(s);
            return -1;
        }
        free(s->state_dir);
        s->state_dir = copy;
    }
    sb_settings_apply_log_level(s);
    return 0;
}

static void print_report(const sb_audit_verify_report *r)
{
    printf("%s\n", r->message);
    if (r->head_seq > 0) {
        char hex[2 * SB_AUDIT_HASH_BYTES + 1];
        sodium_bin2hex(hex, sizeof hex, r->head_hash, sizeof r->head_hash);
        printf("%s: position %" PRId64 ", hash %s\n",
               r->ok ? "chain head" : "last intact link", r->head_seq, hex);
    }
}

static int verify(const sb_settings *s, const audit_args *a)
{
    sb_error err = {0};
    unsigned char *key = NULL;
    sb_embedded_pg *pg = NULL;
    sb_db *db = NULL;
    int rc = 1;
    if (sb_cli_audit_key(s, &key, &err) != 0 || sb_cli_open_database(s, 0, &pg, &db, &err) != 0)
        goto out;
    size_t n;
    const sb_migration *list = sb_migrations_builtin(&n);
    sb_migrate_report mr;
    if (sb_migrate_status(db, list, n, &mr, &err) != 0)
        goto out;
    if (mr.from_version == 0) {
        sb_error_set(&err, 1, "the database has no schema yet (nothing was ever audited there); "
                     "is database.url right?");
        goto out;
    }
    sb_audit_verify_options opts = {a->stale_after_ms, 0};
    sb_audit_verify_report report;
    if (sb_audit_verify_with(db, key, &opts, &report, &err) != 0)
        goto out;
    print_report(&report);
    rc = report.ok ? 0 : 1;
    err.message[0] = '\0';
out:
    if (rc != 0 && err.message[0])
        fprintf(stderr, "sbridge audit verify: %s\n", err.message);
    sb_db_close(db);
    if (pg)
        sb_embedded_pg_stop(pg);
    sb_secure_release(key);
    return rc;
}

int sb_cmd_audit(int argc, char **argv)
{
    audit_args a;
    int rc = parse_args(argc, argv, &a);
    if (rc != 0)
        return rc;
    sb_settings s;
    if (load_settings(a.config && a.config[0] ? a.config : NULL, a.state_dir, &s) != 0)
        return 1;
    rc = verify(&s, &a);
    sb_settings_free(&s);
    return rc;
}
