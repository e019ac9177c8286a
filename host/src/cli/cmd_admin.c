/*
 * cli/cmd_admin.c — `sbridge admin user …`: local users for bootstrap,
 * recovery and scripts, straight against the database (no server needed).
 *
 *   sbridge admin user create USERNAME [--display-name NAME] [--role ROLE] [--password-stdin]
 *   sbridge admin user set-password USERNAME [--password-stdin]
 *   sbridge admin user disable USERNAME
 *   sbridge admin user enable USERNAME
 *   sbridge admin user grant USERNAME ROLE [--team TEAM_ID | --project PROJECT_ID]
 *   (every form takes --config FILE; default $SBRIDGE_CONFIG)
 *
 * Contract: loads the server's configuration, connects to database.url or
 * to the embedded PostgreSQL of state_dir (the running server's socket, or
 * a private start of the cluster when no server runs), applies pending
 * migrations (under the migration lock) and seeds the system roles (both
 * idempotent, as the server does at start), then acts in one transaction that
 * also writes the audit event (actor "system:cli"). Passwords are never
 * taken from the command line (ps and shell history would show them): one
 * line from standard input with --password-stdin, else a prompt without
 * echo on the terminal (asked twice). They are read byte by byte into
 * secure memory (no stdio buffer keeps a copy), must be 12..1024 bytes,
 * and only their argon2id hash is stored. set-password and disable revoke
 * the user's live sessions; enable also clears a login lockout.
 * Exit status: 0 done, 1 failed (the reason printed), 2 usage error.
 */
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "api/seed_roles.h"
#include "cli/cli.h"
#include "config/settings.h"
#include "crypto/password.h"
#include "crypto/secure_mem.h"
#include "store/audit_store.h"
#include "store/embedded_pg.h"
#include "store/migrate.h"
#include "store/sessions_store.h"
#include "store/users_store.h"

#define PASSWORD_MIN 12

const char sb_cmd_admin_usage[] =
    "usage: sbridge admin user create USERNAME [--display-name NAME] [--role ROLE] "
    "[--password-stdin]\n"
    "       sbridge admin user set-password USERNAME [--password-stdin]\n"
    "       sbridge admin user disable|enable USERNAME\n"
    "       sbridge admin user grant USERNAME ROLE [--team TEAM_ID | --project PROJECT_ID]\n"
    "       (each also takes --config FILE; default $SBRIDGE_CONFIG)\n"
    "\n"
    "Manages local users directly in the database of the server configuration (database.url, or\n"
    "the embedded PostgreSQL in state_dir), whether or not a server is running. Passwords are "
    "read\n"
    "from the terminal without echo, or as one line of standard input with --password-stdin —\n"
    "never from arguments. set-password and disable end the user's sessions; enable also lifts a\n"
    "login lockout. --role on create grants a role globally; grant scopes it to a team subtree or "
    "a\n"
    "project. Every change is audited with actor system:cli.\n";

typedef struct admin_args {
    const char *config, *action, *username, *role, *display_name, *team, *project;
    int password_stdin;
} admin_args;

static int parse(int argc, char **argv, admin_args *a)
{
    memset(a, 0, sizeof *a);
    a->config = getenv("SBRIDGE_CONFIG");
    if (argc < 2)
        return sb_cli_usage_error("admin", "expected 'user' (got nothing)");
    if (strcmp(argv[1], "user") != 0)
        return sb_cli_unknown_argument("admin", argv[1]);
    const char *positional[3] = {NULL, NULL, NULL};
    int np = 0;
    for (int i = 2; i < argc; i++) {
        const char *o = argv[i];
        const char **slot = strcmp(o, "--config") == 0         ? &a->config
                            : strcmp(o, "--display-name") == 0 ? &a->display_name
                            : strcmp(o, "--role") == 0         ? &a->role
                            : strcmp(o, "--team") == 0         ? &a->team
                            : strcmp(o, "--project") == 0      ? &a->project
                                                               : NULL;
        if (slot) {
            if (i + 1 >= argc)
                return sb_cli_usage_error("admin", "%s needs a value", o);
            *slot = argv[++i];
        } else if (strcmp(o, "--password-stdin") == 0) {
            a->password_stdin = 1;
        } else if (strncmp(o, "--password", 10) == 0) {
            return sb_cli_usage_error(
                "admin",
                "%s: passwords are never taken from arguments (ps and shell history show "
                "them); use --password-stdin or answer the prompt",
                o);
        } else if (o[0] == '-' && o[1] != '\0') {
            return sb_cli_unknown_argument("admin", o);
        } else if (np < 3) {
            positional[np++] = o;
        } else {
            return sb_cli_usage_error("admin", "unexpected argument %s", o);
        }
    }
    a->action = positional[0];
    a->username = positional[1];
    static const char *const actions[] = {"create", "set-password", "disable", "enable", "grant"};
    size_t k = 0;
    while (a->action && k < 5 && strcmp(a->action, actions[k]) != 0)
        k++;
    if (a->action == NULL || k == 5)
        return sb_cli_usage_error(
            "admin", "expected create, set-password, disable, enable or grant (got %s)",
            a->action ? a->action : "nothing");
    if (a->username == NULL)
        return sb_cli_usage_error("admin", "%s needs a USERNAME", a->action);
    int grant = strcmp(a->action, "grant") == 0;
    if (grant) {
        a->role = positional[2];
        if (a->role == NULL)
            return sb_cli_usage_error("admin", "%s needs USERNAME ROLE", a->action);
        if (a->team && a->project)
            return sb_cli_usage_error("admin", "%s: give --team or --project, not both", a->action);
    } else if (positional[2] || a->team || a->project) {
        return sb_cli_usage_error("admin", "%s takes one USERNAME (scoped roles: use 'grant')",
                                  a->action);
    }
    if ((a->role && !grant && strcmp(a->action, "create") != 0) ||
        (a->display_name && strcmp(a->action, "create") != 0))
        return sb_cli_usage_error("admin", "%s: --role and --display-name go with 'create'",
                                  a->action);
    if (a->password_stdin && strcmp(a->action, "create") != 0 &&
        strcmp(a->action, "set-password") != 0)
        return sb_cli_usage_error("admin", "%s takes no password", a->action);
    if (a->config == NULL || a->config[0] == '\0')
        return sb_cli_usage_error("admin", "%s",
                                  "no configuration: pass --config FILE or set SBRIDGE_CONFIG");
    return 0;
}

/* ---- passwords ----------------------------------------------------------------- */

/* Reads one line from fd into secure memory, byte by byte. NULL on EOF
 * before anything, or an overlong line. */
static char *read_line(int fd, size_t *len)
{
    char *buf = sb_secure_alloc(SB_PASSWORD_MAX_LEN + 2);
    size_t n = 0;
    char c;
    ssize_t r;
    while (buf && (r = read(fd, &c, 1)) == 1 && c != '\n') {
        if (n > SB_PASSWORD_MAX_LEN) {
            sb_secure_release(buf);
            return NULL;
        }
        buf[n++] = c;
    }
    if (buf && n > 0 && buf[n - 1] == '\r')
        buf[--n] = '\0';
    *len = n;
    return buf;
}

static char *prompt(int tty, const char *question, size_t *len)
{
    struct termios old, quiet;
    if (write(tty, question, strlen(question)) < 0 || tcgetattr(tty, &old) != 0)
        return NULL;
    quiet = old;
    quiet.c_lflag &= ~(tcflag_t)ECHO;
    quiet.c_lflag |= ECHONL;
    tcsetattr(tty, TCSAFLUSH, &quiet);
    char *pw = read_line(tty, len);
    tcsetattr(tty, TCSAFLUSH, &old);
    return pw;
}

/* The new password, hashed into hash. 0, or 1 after printing why not. */
static int new_password_hash(const admin_args *a, char hash[SB_PASSWORD_HASH_MAX])
{
    size_t len = 0, len2 = 0;
    char *pw = NULL, *again = NULL;
    if (a->password_stdin) {
        pw = read_line(STDIN_FILENO, &len);
    } else {
        int tty = open("/dev/tty", O_RDWR | O_CLOEXEC | O_NOCTTY);
        if (tty < 0 || !isatty(STDIN_FILENO)) {
            if (tty >= 0)
                close(tty);
            fprintf(stderr, "sbridge admin: no terminal to ask for the password on; pipe it with "
                            "--password-stdin\n");
            return 1;
        }
        pw = prompt(tty, "New password: ", &len);
        again = pw ? prompt(tty, "Repeat it: ", &len2) : NULL;
        close(tty);
        if (pw && (again == NULL || len != len2 || sodium_memcmp(pw, again, len) != 0)) {
            fprintf(stderr, "sbridge admin: the two passwords differ; nothing was changed\n");
            sb_secure_release(pw);
            sb_secure_release(again);
            return 1;
        }
        sb_secure_release(again);
    }
    if (pw == NULL || len < PASSWORD_MIN) {
        fprintf(stderr,
                "sbridge admin: a password must be %d to %d bytes long; nothing was changed\n",
                PASSWORD_MIN, SB_PASSWORD_MAX_LEN);
        sb_secure_release(pw);
        return 1;
    }
    sb_password_params params = sb_password_params_default();
    sb_error err = {0};
    int rc = sb_password_hash(&params, pw, len, hash, &err);
    sb_secure_release(pw);
    if (rc != 0)
        fprintf(stderr, "sbridge admin: cannot hash the password: %s\n", err.message);
    return rc == 0 ? 0 : 1;
}


/* One audit event, actor system:cli, in the caller's transaction. */
static int audit(sb_db_conn *conn, const char *action, const char *user_id, json_t *details,
                 sb_error *err)
{
    unsigned char raw[16];
    char correlation[33], resource[64];
    randombytes_buf(raw, sizeof raw);
    sodium_bin2hex(correlation, sizeof correlation, raw, sizeof raw);
    snprintf(resource, sizeof resource, "user:%s", user_id);
    char *text = json_dumps(details, JSON_COMPACT);
    json_decref(details);
    sb_audit_record r = {"system:cli", action, resource, "success", NULL,
                         correlation,  NULL,   NULL,     text};
    int rc = text ? sb_audit_append(conn, &r, err) : sb_error_set(err, 1, "out of memory");
    free(text);
    return rc;
}

typedef struct admin_txn {
    const admin_args *a;
    const char *hash;
    int64_t now;
    sb_user_record user;
    char message[512]; /* what to print on success */
} admin_txn;

static int act(sb_db_conn *conn, void *ctx, sb_error *err)
{
    admin_txn *t = ctx;
    const admin_args *a = t->a;
    const char *action = a->action;
    if (strcmp(action, "create") == 0) {
        sb_user_new nu = {a->username, a->display_name, t->hash, "local", t->now};
        if (sb_users_store_create(conn, &nu, &t->user, err) != 0)
            return -1;
        if (a->role) {
            int rc = sb_users_store_grant_role(conn, t->user.id, a->role, "global", NULL, NULL,
                                               NULL, err);
            if (rc != 0)
                return rc < 0 ? -1 : sb_error_set(err, 1, "there is no role named %s", a->role);
        }
        snprintf(t->message, sizeof t->message, "created user %s (%s)%s%s", t->user.username,
                 t->user.id, a->role ? " with global role " : "", a->role ? a->role : "");
        return audit(conn, "user.create", t->user.id,
                     json_pack("{s:s, s:s?}", "username", t->user.username, "role", a->role), err);
    }
    int rc = sb_users_store_find_by_username(conn, a->username, &t->user, err);
    if (rc != 0)
        return rc < 0 ? -1 : sb_error_set(err, 1, "there is no user named %s", a->username);
    const char *id = t->user.id;
    int64_t revoked = 0;
    if (strcmp(action, "set-password") == 0) {
        if (sb_users_store_set_password(conn, id, t->hash, err) != 0 ||
            sb_sessions_store_revoke_all(conn, id, t->now, &revoked, err) != 0)
            return -1;
        snprintf(t->message, sizeof t->message, "password of %s replaced; %lld session(s) ended",
                 t->user.username, (long long)revoked);
        return audit(conn, "user.password.reset", id,
                     json_pack("{s:I}", "sessions_revoked", (json_int_t)revoked), err);
    }
    if (strcmp(action, "disable") == 0 || strcmp(action, "enable") == 0) {
        int disable = action[0] == 'd', changed = 0;
        if (sb_users_store_set_disabled(conn, id, disable, &changed, err) != 0 ||
            (disable && sb_sessions_store_revoke_all(conn, id, t->now, &revoked, err) != 0))
            return -1;
        snprintf(t->message, sizeof t->message, "%s %s%s", t->user.username,
                 changed ? (disable ? "disabled" : "enabled")
                         : (disable ? "was already disabled" : "was already enabled"),
                 disable && revoked ? "; sessions ended" : "");
        return audit(
            conn, disable ? "user.disable" : "user.enable", id,
            json_pack("{s:b, s:I}", "changed", changed, "sessions_revoked", (json_int_t)revoked),
            err);
    }
    /* grant */
    const char *kind = a->team ? "team" : a->project ? "project" : "global";
    const char *scope = a->team ? a->team : a->project;
    if (scope && !sb_users_store_uuid_ok(scope))
        return sb_error_set(err, 1, "--%s takes a %s id (a UUID), not '%s'", kind, kind, scope);
    int created = 0;
    rc = sb_users_store_grant_role(conn, id, a->role, kind, scope, NULL, &created, err);
    if (rc != 0)
        return rc < 0 ? -1 : sb_error_set(err, 1, "there is no role named %s", a->role);
    snprintf(t->message, sizeof t->message, "%s %s role %s at %s scope%s%s", t->user.username,
             created ? "now holds" : "already held", a->role, kind, scope ? " " : "",
             scope ? scope : "");
    return audit(conn, "grant.create", id,
                 json_pack("{s:s, s:s, s:s?, s:b}", "role", a->role, "scope_type", kind, "scope_id",
                           scope, "created", created),
                 err);
}

static int load_settings(const char *file, sb_settings *s)
{
    sb_diags d;
    sb_diags_init(&d, file);
    size_t errors = sb_settings_load(file, NULL, s, &d);
    sb_diags_print(&d, stderr);
    sb_diags_free(&d);
    if (errors == 0 && s->role == SB_ROLE_AGENT) {
        fprintf(stderr, "sbridge admin: %s is an agent configuration; pass the server's\n", file);
        sb_settings_free(s);
        return -1;
    }
    if (errors) {
        fprintf(stderr, "sbridge admin: %s has %zu error%s (listed above)\n", file, errors,
                errors == 1 ? "" : "s");
        sb_settings_free(s);
        return -1;
    }
    sb_settings_apply_log_level(s);
    return 0;
}

int sb_cmd_admin(int argc, char **argv)
{
    admin_args a;
    int rc = parse(argc, argv, &a);
    if (rc != 0)
        return rc;
    sb_settings s;
    if (load_settings(a.config, &s) != 0)
        return 1;
    char hash[SB_PASSWORD_HASH_MAX] = "";
    int needs_password = strcmp(a.action, "create") == 0 || strcmp(a.action, "set-password") == 0;
    if (needs_password && new_password_hash(&a, hash) != 0) {
        sb_settings_free(&s);
        return 1;
    }
    sb_error err = {0};
    sb_embedded_pg *pg = NULL;
    sb_db *db = NULL;
    size_t n;
    const sb_migration *list = sb_migrations_builtin(&n);
    admin_txn t = {.a = &a, .hash = needs_password ? hash : NULL, .now = (int64_t)time(NULL)};
    rc = sb_cli_open_database(&s, 1, &pg, &db, &err) != 0 || sb_migrate_apply(db, list, n, NULL, &err) != 0 ||
                 sb_api_seed_roles(db, &err) != 0 || sb_db_transaction(db, act, &t, &err) < 0
             ? 1
             : 0;
    if (rc == 0) {
        printf("%s\n", t.message);
    } else if (err.code == SB_DB_E_CONFLICT) {
        fprintf(stderr, "sbridge admin: a user named %s already exists\n", a.username);
    } else if (err.code == SB_DB_E_CHECK) {
        fprintf(stderr,
                "sbridge admin: '%s' is not a valid username (1 to 128 letters, digits and ._@+-, "
                "starting with a letter or digit), or the display name is over 200 characters\n",
                a.username);
    } else {
        fprintf(stderr, "sbridge admin: %s\n", err.message);
    }
    sodium_memzero(hash, sizeof hash);
    sb_db_close(db);
    if (pg)
        sb_embedded_pg_stop(pg);
    sb_settings_free(&s);
    return rc;
}
