/*
 * cli/client_args.c — option parsing and the session of the client
 * commands (see client_args.h).
 */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/client_args.h"

int sb_client_opt(const char *command, int argc, char **argv, int *i, const char *name,
                  const char **value)
{
    const char *a = argv[*i];
    size_t n = strlen(name);
    if (strncmp(a, name, n) != 0)
        return 0;
    if (a[n] == '=') {
        *value = a + n + 1;
        return 1;
    }
    if (a[n] != '\0')
        return 0;
    if (*i + 1 >= argc) {
        sb_cli_usage_error(command, "%s needs a value", name);
        return -1;
    }
    *value = argv[++*i];
    return 1;
}

int sb_client_refuse_secret_arg(const char *command, const char *arg, const char *instead)
{
    static const char *const words[] = {"--value", "--values", "--password", "--token", "--secret", "-p"};
    for (size_t k = 0; k < sizeof words / sizeof words[0]; k++) {
        size_t n = strlen(words[k]);
        if (strncmp(arg, words[k], n) == 0 && (arg[n] == '\0' || arg[n] == '='))
            return sb_cli_usage_error(command,
                                      "%s: secrets are never taken from the command line (ps, "
                                      "shell history and CI logs show every argument); %s",
                                      words[k], instead);
    }
    return 0;
}

int sb_client_session_open(const char *command, sb_client *c, sb_client_credentials *cred)
{
    sb_error err = {0};
    memset(c, 0, sizeof *c);
    c->command = command;
    int rc = sb_client_credentials_load(cred, &err);
    if (rc != 0) {
        fprintf(stderr, "sbridge %s: %s\n", command, err.message);
        return 1;
    }
    snprintf(c->url, sizeof c->url, "%s", cred->url);
    c->token = cred->token;
    return 0;
}
