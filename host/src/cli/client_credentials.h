/*
 * cli/client_credentials.h — where the CLI client keeps its API token.
 *
 * Contract: the credentials are {url, token, token_id} in the file
 * `credentials` (JSON) of the first of $SBRIDGE_CONFIG_DIR,
 * $XDG_CONFIG_HOME/sbridge, ~/.config/sbridge. The directory is 0700 and
 * the file 0600, both owned by the user: a file or directory that others
 * could read or write, or that is a symbolic link, is refused (never
 * "fixed" silently) with a message giving the chmod that fixes it. Writes
 * are atomic (a temporary file in the directory, fsync, rename, fsync of
 * the directory), so a crash leaves the old file or the new one.
 * SBRIDGE_URL and SBRIDGE_TOKEN together replace the file (CI); one without
 * the other is an error. The token is held only in secure memory.
 */
#ifndef SB_CLI_CLIENT_CREDENTIALS_H
#define SB_CLI_CLIENT_CREDENTIALS_H

#include <stddef.h>

#include "cli/client_api.h"
#include "util/error.h"

#define SB_CLIENT_PATH_MAX 4096

typedef struct sb_client_credentials {
    char url[SB_CLIENT_URL_MAX];
    char token_id[64];            /* "" when unknown (environment) */
    char *token;                  /* secure memory; NUL-terminated */
    int from_environment;         /* SBRIDGE_URL + SBRIDGE_TOKEN */
    char path[SB_CLIENT_PATH_MAX]; /* the file (also when absent) */
} sb_client_credentials;

/* The configuration directory (not created). 0, or -1 with err. */
int sb_client_config_dir(char *out, size_t cap, sb_error *err);

/* Loads the credentials. 0 loaded; 1 none stored (path filled, err says
 * to log in); -1 refused or unreadable (err says why and what to do). */
int sb_client_credentials_load(sb_client_credentials *c, sb_error *err);

/* Writes {url, token, token_id} atomically, creating the directory (0700)
 * when missing. path_out (may be NULL) receives the file. 0 or -1. */
int sb_client_credentials_store(const char *url, const char *token, const char *token_id,
                                char *path_out, size_t cap, sb_error *err);

/* Whether the credentials could be stored: the directory is missing
 * (it will be created) or private enough. 0, or -1 with err (the fix). */
int sb_client_credentials_check_dir(sb_error *err);

/* Deletes the file. 0 deleted, 1 there was none, -1 with err. */
int sb_client_credentials_remove(char *path_out, size_t cap, sb_error *err);

/* Zeroes and releases the token. */
void sb_client_credentials_clear(sb_client_credentials *c);

#endif
