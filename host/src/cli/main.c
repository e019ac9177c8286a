/*
 * cli/main.c — the sbridge entry point: global set-up and subcommand
 * dispatch.
 *
 * The command table below is the one description of the CLI: `sbridge
 * --help` lists its rows (those without a handler under "not yet available
 * in this build"), `sbridge help CMD` and `sbridge CMD --help` print a
 * row's usage, dispatch runs a row's handler, and the "did you mean"
 * suggestions (suggest.c) draw on its names and usage texts.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/agent.h"
#include "cli/cli.h"
#include "crypto/secure_mem.h"
#include "plugin/loader.h"
#include "plugin/http_client.h"
#include "util/log.h"

static int cmd_help(int argc, char **argv);

/* run == NULL: a planned command this build does not have yet. */
static const sb_command commands[] = {
    {"server", "run the control plane: HTTP API, UI, worker loops",
     "usage: sbridge server [--config FILE] [--no-worker]\n"
     "\n"
     "Starts the control plane described by FILE (role: server; default $SBRIDGE_CONFIG): the\n"
     "database (database.url, or a private embedded PostgreSQL in state_dir), migrations, the API\n"
     "on http.listen with /healthz, /readyz and /metrics, and the worker's tasks, audit sealing\n"
     "among them (--no-worker, or worker.enabled: false, leaves them to `sbridge worker`\n"
     "processes: run one). SIGTERM/SIGINT drain for shutdown_grace; SIGHUP re-reads log.level.\n",
     sb_cmd_server},
    {"worker", "run the worker loops only (sweepers, scheduler)",
     "usage: sbridge worker [--config FILE]\n"
     "\n"
     "Runs the worker's tasks (audit sealing with the server's master key, request and fill-window\n"
     "expiry, job lease recovery, reveal session and wrap expiry, stale agents, scheduled\n"
     "discovery, catalog rows gone missing, notifications) on the server configuration FILE's\n"
     "database.url, each at its worker.* interval. Many may run: each task runs once per\n"
     "interval across all of them. It applies no migration and serves no API.\n"
     "SIGTERM/SIGINT finish the task in progress.\n",
     sb_cmd_worker},
    {"agent", "run an outbound agent that executes approved jobs with local credentials",
     sb_agent_usage, sb_cmd_agent},
    {"controller", "run the Kubernetes SecretsSync reconciler",
     "usage: sbridge controller [--config FILE]\n", NULL},
    {"dev", "everything on one machine for a first look, on the embedded defaults",
     "usage: sbridge dev [--config FILE] [--plugin-dir DIR] [--listen ADDR:PORT] [--state-dir DIR]\n"
     "                   [--reset] [--no-demo] [--once]\n"
     "\n"
     "Validates the dev configuration (default: the embedded config/dev.yaml), loads and starts\n"
     "every listed plugin and provider instance, shows what each provider holds, then runs the\n"
     "control plane (API, web UI, worker) on a private embedded PostgreSQL until Ctrl-C, and the\n"
     "demo beside it: a Vault emulator with demo secrets, a demo tenancy and one enrolled agent\n"
     "(demo.seed; docs/dev.md; --no-demo: only the seeded logins, nothing else). The seeded\n"
     "logins are printed on stdout at the first run.\n"
     "--once stops after the plugin checks.\n"
     "--listen (or SBRIDGE_DEV_LISTEN) replaces http.listen (default 127.0.0.1:8080; port 0 picks a\n"
     "free one); a port in use fails before anything is created. The database, keys and demo live\n"
     "in --state-dir DIR (default: the config's state_dir, else ~/.local/state/sbridge/dev;\n"
     "/var/lib/sbridge/dev for root) and are reused by the next run; --reset removes them first.\n"
     "'sbridge audit verify --state-dir DIR' checks the audit chain.\n",
     sb_cmd_dev},
    {"migrate", "apply database schema migrations",
     "usage: sbridge migrate [--config FILE]\n"
     "\n"
     "Applies the migrations compiled into this binary, under an advisory lock (safe to run from\n"
     "several machines at once); refuses a database whose schema is newer than this binary.\n",
     sb_cmd_migrate},
    {"admin", "manage users and grants from the command line (bootstrap, scripts, break-glass)",
     sb_cmd_admin_usage, sb_cmd_admin},
    {"config", "validate a configuration file",
     "usage: sbridge config check [--plugin-dir DIR] FILE\n"
     "       sbridge config schema server|agent|dev\n"
     "\n"
     "Checks FILE against the schema of its role (role: server|agent|dev) and, for every plugin\n"
     "it lists, loads the plugin and checks the plugin's own settings against the plugin's schema.\n"
     "Prints every problem as FILE:LINE:COLUMN: message; exits 1 when there is any error.\n"
     "--plugin-dir (or SBRIDGE_PLUGIN_DIR) replaces plugins.directory.\n"
     "'schema' prints every key of a role as a markdown table (the docs' configuration reference).\n",
     sb_cmd_config},
    {"plugin", "show a plugin's descriptor or run the conformance checks",
     "usage: sbridge plugin inspect [--json] FILE.so\n"
     "       sbridge plugin check FILE.so\n"
     "\n"
     "inspect  identity, ABI, SHA-256, capabilities and config schema (secret keys marked)\n"
     "check    the conformance kit for plugin authors: descriptor, schema, and every operation\n"
     "         called with invalid and valid arguments against a fake host (no network);\n"
     "         exits 1 and lists the failures when any check fails\n",
     sb_cmd_plugin},
    {"bundle", "sign or verify a plugin bundle manifest (Ed25519)",
     "usage: sbridge bundle sign|verify ...\n", NULL},
    {"audit", "verify the audit hash chain",
     "usage: sbridge audit verify [--config FILE] [--state-dir DIR] [--stale-after SECONDS|off]\n"
     "\n"
     "Recomputes the keyed hash chain over every sealed audit event and names the first event\n"
     "that was modified, deleted, inserted or reordered; events left unsealed longer than\n"
     "--stale-after (default 60 s) also fail. Exit 0 intact, 1 broken or unverifiable.\n"
     "--state-dir checks the embedded PostgreSQL and master.key of DIR (e.g. the state directory\n"
     "'sbridge dev' prints), running or not; with --config it replaces the file's state_dir.\n",
     sb_cmd_audit},
    {"login", "sign in to a control plane and store an API token for the client commands",
     "usage: sbridge login --url URL [--username NAME] [--password-stdin] [--token-days N]\n"
     "\n"
     "Signs in with your password (asked on the terminal without echo, or one line of standard\n"
     "input with --password-stdin; never an argument), creates a personal API token named\n"
     "cli@<hostname> that expires after N days (default 30, at most 365), ends the sign-in's\n"
     "session, and stores {url, token} in $SBRIDGE_CONFIG_DIR, else $XDG_CONFIG_HOME/sbridge,\n"
     "else ~/.config/sbridge: file 'credentials', mode 0600, in a 0700 directory (wider\n"
     "permissions are refused). SBRIDGE_URL + SBRIDGE_TOKEN replace the file (CI).\n",
     sb_cmd_login},
    {"logout", "revoke the stored API token and delete it",
     "usage: sbridge logout\n"
     "\n"
     "Revokes the token that 'sbridge login' stored (DELETE /api/v1/users/me/tokens/{id}) and\n"
     "deletes the credentials file. Exit 1 when the revocation failed (the file is deleted anyway).\n",
     sb_cmd_logout},
    {"request", "submit a read or patch request (patch values are sealed on this machine)",
     "usage: sbridge request read --binding ID [--key KEY]... --justification TEXT\n"
     "       sbridge request patch --binding ID --key KEY [--key KEY]... --justification TEXT\n"
     "                             [--value-file KEY=PATH]... [--project ID]\n"
     "\n"
     "read   asks for KEYs of the secret binding ID (all its allowed keys without --key).\n"
     "patch  reads each KEY's value from --value-file KEY=PATH (the file's bytes exactly; '-' is\n"
     "       standard input; PATH alone when there is one key) or from a prompt without echo,\n"
     "       seals it with crypto_box_seal to every live agent of the binding's connection and\n"
     "       sends only the sealed boxes: the control plane never sees the value. --project\n"
     "       names the binding's project (else your projects are searched). Values are never\n"
     "       taken as arguments (--value is refused: ps and shell history would show them).\n"
     "Prints '<request id> <state>' on stdout.\n",
     sb_cmd_request},
    {"requests", "list your requests, or those waiting for your vote",
     "usage: sbridge requests list [--state STATE] [--kind KIND] [--queue]\n"
     "\n"
     "Your own requests, newest first (--state pending|approved|executed|failed|rejected|...,\n"
     "--kind read|patch|...), or with --queue those you may approve or reject now, oldest first.\n",
     sb_cmd_requests},
    {"approve", "approve a request", "usage: sbridge approve REQUEST_ID [--comment TEXT]\n",
     sb_cmd_approve},
    {"reject", "reject a request (any reject ends it)",
     "usage: sbridge reject REQUEST_ID --reason TEXT\n", sb_cmd_reject},
    {"reveal", "reveal an executed read request's results, each once",
     "usage: sbridge reveal REQUEST_ID [--key KEY] [--out PATH | --show]\n"
     "\n"
     "Reveals every result of the read request (or only KEY), once: the server never answers\n"
     "the same result twice. Writes 'key=value' lines to --out PATH (created new, mode 0600), or\n"
     "to standard output when it is a pipe or a file. On a terminal it reveals nothing unless\n"
     "--show is given (a value in the scrollback outlives the session). Binary or multi-line\n"
     "values are written base64 (a note on stderr says which).\n",
     sb_cmd_reveal},
    {"bindings", "list the secret bindings you can request (ids for 'sbridge request')",
     "usage: sbridge bindings [--project ID]\n"
     "\n"
     "Lists the secret bindings of the projects you can see (or of project ID): the binding id\n"
     "'sbridge request' takes, its project, environment, secret, allowed keys and operations.\n",
     sb_cmd_bindings},
    {"discover", "discover a provider connection's secrets into the catalog now",
     "usage: sbridge discover CONNECTION [--wait SECONDS]\n"
     "\n"
     "Queues a discovery job for the provider connection CONNECTION (its name or id; needs the\n"
     "integration.edit permission); an agent of the connection lists the provider's secrets\n"
     "(metadata and labels only) into the catalog. --wait waits up to SECONDS for it to finish\n"
     "and prints the outcome and how many secrets were seen (exit 1 unless it succeeded).\n",
     sb_cmd_discover},
    {"version", "print the version and the plugin ABI", "usage: sbridge version\n", sb_cmd_version},
    {"help", "list the commands, or show one command's usage",
     "usage: sbridge help [COMMAND]\n"
     "\n"
     "Without COMMAND, lists every command; 'sbridge help COMMAND' is 'sbridge COMMAND --help'.\n",
     cmd_help},
};
#define N_COMMANDS (sizeof commands / sizeof commands[0])

const sb_command *sb_commands(unsigned *n)
{
    *n = N_COMMANDS;
    return commands;
}

const sb_command *sb_command_find(const char *name)
{
    for (size_t i = 0; i < N_COMMANDS; i++)
        if (strcmp(commands[i].name, name) == 0)
            return &commands[i];
    return NULL;
}

int sb_cli_wants_help(int argc, char **argv)
{
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
            return 1;
    return 0;
}

int sb_cli_usage_error(const char *command, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "sbridge %s: ", command);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\nRun 'sbridge %s --help' for usage.\n", command);
    return 2;
}

static void print_help(FILE *out)
{
    fprintf(out, "Secrets Bridge %s — a secrets control plane\n\nusage: sbridge COMMAND [options]\n\n"
                 "commands:\n",
            SB_VERSION_STRING);
    for (size_t i = 0; i < N_COMMANDS; i++)
        if (commands[i].run)
            fprintf(out, "  %-11s %s\n", commands[i].name, commands[i].summary);
    fprintf(out, "\nnot yet available in this build (planned):\n");
    for (size_t i = 0; i < N_COMMANDS; i++)
        if (commands[i].run == NULL)
            fprintf(out, "  %-11s %s\n", commands[i].name, commands[i].summary);
    fprintf(out, "\nRun 'sbridge help COMMAND' (or 'sbridge COMMAND --help') for a command's options.\n"
                 "Environment: SBRIDGE_CONFIG (config file), SBRIDGE_LOG_LEVEL (debug|info|warn|error),\n"
                 "SBRIDGE_DEV_LISTEN (sbridge dev's listen address),\n"
                 "SBRIDGE_URL + SBRIDGE_TOKEN (the client commands' API; replace 'sbridge login'),\n"
                 "SBRIDGE_CONFIG_DIR (where 'sbridge login' keeps its credentials),\n"
                 "SBRIDGE_PLUGIN_DIR (plugin directory override; default %s).\n",
            sb_plugin_default_directory());
}

static void print_usage(const sb_command *c)
{
    printf("%s%s\n%s", c->summary, c->run ? "" : " (not yet available in this build)", c->usage);
}

/* "sbridge: 'x' is not a command. Did you mean y?" on stderr; returns 2. */
static int unknown_command(const char *word)
{
    const char *names[N_COMMANDS];
    for (size_t i = 0; i < N_COMMANDS; i++)
        names[i] = commands[i].name;
    const char *best = sb_cli_nearest(word, names, N_COMMANDS);
    fprintf(stderr, "sbridge: '%s' is not a command.", word);
    if (best)
        fprintf(stderr, " Did you mean '%s'?", best);
    fprintf(stderr, "\nRun 'sbridge --help' for the list.\n");
    return 2;
}

static int cmd_help(int argc, char **argv)
{
    if (argc < 2) {
        print_help(stdout);
        return 0;
    }
    if (argc > 2)
        return sb_cli_usage_error("help", "takes one COMMAND (got %d words)", argc - 1);
    const sb_command *c = sb_command_find(argv[1]);
    if (c == NULL)
        return unknown_command(argv[1]);
    print_usage(c);
    return 0;
}

/* A planned command: say so, and what this build does have. */
static int not_yet(const sb_command *c)
{
    fprintf(stderr, "sbridge %s: not available in this build yet; planned: %s.\nThis build has:", c->name,
            c->summary);
    const char *sep = " ";
    for (size_t i = 0; i < N_COMMANDS; i++)
        if (commands[i].run)
            fprintf(stderr, "%s%s", sep, commands[i].name), sep = ", ";
    fprintf(stderr, ".\nRun 'sbridge --help' for what each does.\n");
    return 2;
}

int sb_main(int argc, char **argv)
{
    if (sb_crypto_init() != 0) {
        fprintf(stderr, "sbridge: cannot initialise libsodium\n");
        return 1;
    }
    if (sb_http_global_init() != 0) {
        fprintf(stderr, "sbridge: cannot initialise libcurl\n");
        return 1;
    }
    const char *level = getenv("SBRIDGE_LOG_LEVEL");
    if (level && *level) {
        int l = sb_log_parse_level(level);
        if (l < 0) {
            fprintf(stderr, "sbridge: SBRIDGE_LOG_LEVEL=%s is not one of debug, info, warn, error\n", level);
            return 2;
        }
        sb_log_set_level((sb_level)l);
    }
    if (argc < 2) {
        print_help(stderr);
        return 2;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)
        return cmd_help(1, argv + 1);
    if (strcmp(argv[1], "--version") == 0)
        return sb_cmd_version(argc - 1, argv + 1);
    if (argv[1][0] == '-') {
        static const char *const options[] = {"--help", "-h", "--version"};
        const char *best = sb_cli_nearest(argv[1], options, 3);
        fprintf(stderr, "sbridge: unknown option %s.", argv[1]);
        if (best)
            fprintf(stderr, " Did you mean %s?", best);
        fprintf(stderr, "\nusage: sbridge COMMAND [options]; run 'sbridge --help' for the commands.\n");
        return 2;
    }
    const sb_command *c = sb_command_find(argv[1]);
    if (c == NULL)
        return unknown_command(argv[1]);
    if (sb_cli_wants_help(argc - 1, argv + 1)) {
        print_usage(c);
        return 0;
    }
    if (c->run == NULL)
        return not_yet(c);
    return c->run(argc - 1, argv + 1);
}
