/*
 * cli/client_args.h — option parsing shared by the client commands (login,
 * request, requests, approve, reject, reveal) and the session they open.
 *
 * Contract: an option with a value is accepted as "--name VALUE" or
 * "--name=VALUE". sb_client_refuse_secret_arg recognises the arguments
 * that would put a secret on the command line (--value, --password,
 * --token, --secret, with or without "=…") and answers them with a usage
 * error that says why (ps, shell history and CI logs show argv) and what
 * to use instead; it never echoes the would-be secret.
 */
#ifndef SB_CLI_CLIENT_ARGS_H
#define SB_CLI_CLIENT_ARGS_H

#include "cli/client_api.h"
#include "cli/client_credentials.h"

/* 1 when argv[*i] is option name (its value into *value, *i advanced);
 * 0 when it is not; -1 when the value is missing (usage error printed). */
int sb_client_opt(const char *command, int argc, char **argv, int *i, const char *name,
                  const char **value);

/* 2 (usage error printed) when arg would carry a secret; 0 otherwise.
 * instead: what to use instead, for the message. */
int sb_client_refuse_secret_arg(const char *command, const char *arg, const char *instead);

/* Loads the stored (or environment) credentials into cred and points c at
 * them. 0, or 1 after printing what is wrong and how to log in. */
int sb_client_session_open(const char *command, sb_client *c, sb_client_credentials *cred);

#endif
