/*
 * cli/cli.h — the sbridge subcommands.
 *
 * Contract: each command is a row in one table (name, one-line summary,
 * usage text, handler; main.c). The table drives the help, the dispatch on
 * argv[1] and the "did you mean" suggestions; a row without a handler is a
 * planned command that help lists apart and that refuses to run. Every
 * command answers --help/-h (and `sbridge help CMD`) with its usage and
 * exit status 0. Handlers return the process exit status: 0 success,
 * 1 failure (the reason printed), 2 usage error. No handler calls exit().
 */
#ifndef SB_CLI_H
#define SB_CLI_H

#include <signal.h>
#include <stddef.h>
#include <stdio.h>

#include "config/settings.h"
#include "plugin/registry.h"
#include "store/db.h"
#include "store/embedded_pg.h"

typedef int (*sb_command_fn)(int argc, char **argv);

typedef struct sb_command {
    const char *name;
    const char *summary;
    const char *usage;
    sb_command_fn run; /* NULL: planned, not in this build */
} sb_command;

const sb_command *sb_commands(unsigned *n);
/* The row named name, or NULL. */
const sb_command *sb_command_find(const char *name);
/* The whole program; entry.c's main() calls it. */
int sb_main(int argc, char **argv);

/* Prints "sbridge <cmd>: <message>" and the hint to use --help; returns 2. */
int sb_cli_usage_error(const char *command, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Loads FILE and the plugins it lists, prints every diagnostic to out and
 * returns the error count; on 0 the caller owns *s and *r (cmd_config.c). */
size_t sb_config_check_file(const char *file, const char *expected_role, const char *plugin_dir,
                            sb_settings *s, sb_registry *r, FILE *out);
/* Blocks SIGTERM, SIGINT and SIGHUP in the calling thread (and the threads
 * it starts later), for sigwait in main (cmd_server.c). */
void sb_cli_block_signals(sigset_t *set);

/* The control plane's database for offline commands (cli_database.c):
 * database.url, else the embedded cluster in state_dir (a running server's,
 * or one started here and left in *pg for the caller to stop; created only
 * when create_if_missing). */
int sb_cli_open_database(const sb_settings *s, int create_if_missing, sb_embedded_pg **pg, sb_db **db,
                         sb_error *err);

/* The server's audit chain key (cli_audit_key.c), derived from
 * keys.master_key or state_dir/master.key; refuses to invent a master key
 * (a key nobody else has would seal a chain nobody can verify). The caller
 * frees *key with sb_secure_release. Used by `audit verify` and `sbridge
 * worker` (its seal_audit task). */
int sb_cli_audit_key(const sb_settings *s, unsigned char **key, sb_error *err);

/* suggest.c: optimal-string-alignment distance; the candidate close enough
 * to word to be its typo (or the one it is a prefix of), else NULL. */
size_t sb_cli_edit_distance(const char *a, const char *b);
const char *sb_cli_nearest(const char *word, const char *const *candidates, size_t n);
/* The option (arg starts with '-') or subcommand of command's usage text
 * nearest to arg, copied to out; NULL when none is close. */
const char *sb_cli_suggest_argument(const char *command, const char *arg, char *out, size_t cap);
/* "sbridge CMD: unknown option ARG. Did you mean …?" on stderr; returns 2. */
int sb_cli_unknown_argument(const char *command, const char *arg);

/* True when any argument is --help or -h. */
int sb_cli_wants_help(int argc, char **argv);

int sb_cmd_version(int argc, char **argv);
int sb_cmd_config(int argc, char **argv);
int sb_cmd_plugin(int argc, char **argv);
int sb_cmd_dev(int argc, char **argv);
int sb_cmd_server(int argc, char **argv);
int sb_cmd_migrate(int argc, char **argv);
int sb_cmd_worker(int argc, char **argv);
int sb_cmd_audit(int argc, char **argv);
int sb_cmd_admin(int argc, char **argv);
int sb_cmd_agent(int argc, char **argv);
extern const char sb_cmd_admin_usage[];
/* The API client (cmd_client_*.c): an API token, requests, votes, reveals. */
int sb_cmd_login(int argc, char **argv);
int sb_cmd_logout(int argc, char **argv);
int sb_cmd_request(int argc, char **argv);
int sb_cmd_requests(int argc, char **argv);
int sb_cmd_approve(int argc, char **argv);
int sb_cmd_reject(int argc, char **argv);
int sb_cmd_reveal(int argc, char **argv);
int sb_cmd_bindings(int argc, char **argv);
int sb_cmd_discover(int argc, char **argv);

#endif
