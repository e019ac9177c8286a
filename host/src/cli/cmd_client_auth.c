/*
 * cli/cmd_client_auth.c — `sbridge login` and `sbridge logout`: the CLI
 * client's API token.
 *
 * Contract: login signs in with a password (a prompt without echo on the
 * terminal, or one line of stdin with --password-stdin; never argv), uses
 * the short-lived JWT of that sign-in to create a personal API token named
 * cli@<hostname> (expiring after --token-days, default 30), ends the
 * sign-in's session at once, and stores {url, token, token_id} through
 * client_credentials.h. The password, the JWT and the token stay in secure
 * memory and are zeroed. logout revokes the stored token on the server
 * (DELETE /api/v1/users/me/tokens/{id}) and deletes the file; a failed
 * revocation is reported, and the file is deleted anyway.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/client_args.h"
#include "cli/client_input.h"

#define PASSWORD_MAX 1024

typedef struct login_args {
    const char *url, *username, *days;
    int password_stdin;
} login_args;

static int parse_login(int argc, char **argv, login_args *a)
{
    memset(a, 0, sizeof *a);
    for (int i = 1; i < argc; i++) {
        int m;
        if ((m = sb_client_opt("login", argc, argv, &i, "--url", &a->url)) ||
            (m = sb_client_opt("login", argc, argv, &i, "--username", &a->username)) ||
            (m = sb_client_opt("login", argc, argv, &i, "--token-days", &a->days))) {
            if (m < 0)
                return 2;
        } else if (strcmp(argv[i], "--password-stdin") == 0) {
            a->password_stdin = 1;
        } else if (sb_client_refuse_secret_arg("login", argv[i],
                                               "answer the prompt, or pipe the password with "
                                               "--password-stdin") != 0) {
            return 2;
        } else {
            return sb_cli_unknown_argument("login", argv[i]);
        }
    }
    if (a->url == NULL) {
        const char *env = getenv("SBRIDGE_URL");
        a->url = env && env[0] ? env : NULL;
    }
    if (a->url == NULL)
        return sb_cli_usage_error("login", "--url is required (the control plane's address, e.g. "
                                           "https://sbridge.example.com)");
    if (a->days) {
        char *end;
        long d = strtol(a->days, &end, 10);
        if (*end || d < 1 || d > 365)
            return sb_cli_usage_error("login", "--token-days must be a whole number of days from 1 "
                                               "to 365 (got '%s')",
                                      a->days);
    }
    if (a->username == NULL && !sb_client_can_prompt())
        return sb_cli_usage_error("login", "--username is required when there is no terminal to "
                                           "ask on");
    return 0;
}

/* The username, asked on the terminal (with echo) when not given. */
static int username_of(const login_args *a, char *out, size_t cap)
{
    if (a->username) {
        snprintf(out, cap, "%s", a->username);
        return 0;
    }
    fprintf(stderr, "Username: ");
    fflush(stderr);
    if (fgets(out, (int)cap, stdin) == NULL)
        return -1;
    out[strcspn(out, "\r\n")] = '\0';
    return out[0] ? 0 : -1;
}

static sb_secure_buf *login_body(const char *username, const sb_secure_buf *password)
{
    sb_secure_buf *b = sb_secure_new(256);
    if (b && sb_secure_append(b, "{\"username\":", 12) == 0 &&
        sb_secure_append_json_string(b, username, strlen(username)) == 0 &&
        sb_secure_append(b, ",\"password\":", 12) == 0 &&
        sb_secure_append_json_string(b, (const char *)password->data, password->len) == 0 &&
        sb_secure_append(b, "}", 1) == 0)
        return b;
    sb_secure_free(b);
    return NULL;
}

/* POST /auth/login: the JWT, in secure memory, or NULL after a report. */
static char *sign_in(sb_client *c, const char *username, const sb_secure_buf *password)
{
    sb_secure_buf *body = login_body(username, password);
    if (body == NULL) {
        fprintf(stderr, "sbridge login: out of secure memory\n");
        return NULL;
    }
    sb_client_response r;
    long st = sb_client_call(c, "POST", "/api/v1/auth/login", body->data, body->len, 1, &r);
    sb_secure_free(body);
    const char *jwt = sb_client_str(sb_client_root(&r), "token");
    char *out = NULL;
    if (st == 200 && jwt[0])
        out = sb_secure_strdup(jwt, strlen(jwt));
    else
        sb_client_report(c, "signing in", &r);
    sb_client_response_free(&r);
    return out;
}

int sb_cmd_login(int argc, char **argv)
{
    login_args a;
    int rc = parse_login(argc, argv, &a);
    if (rc != 0)
        return rc;
    sb_client c = {.command = "login"};
    sb_error err = {0};
    if (sb_client_set_url(&c, a.url, &err) != 0)
        return sb_cli_usage_error("login", "%s", err.message);
    if (sb_client_credentials_check_dir(&err) != 0) { /* before a token exists */
        fprintf(stderr, "sbridge login: cannot store credentials: %s\n", err.message);
        return 1;
    }
    char username[256];
    if (username_of(&a, username, sizeof username) != 0)
        return sb_cli_usage_error("login", "no username given");
    sb_secure_buf *password = NULL;
    if (a.password_stdin)
        rc = sb_client_read_secret_line(STDIN_FILENO, PASSWORD_MAX, &password, &err);
    else if (sb_client_can_prompt())
        rc = sb_client_prompt_secret("Password: ", 0, PASSWORD_MAX, &password, &err);
    else
        rc = sb_error_set(&err, 1, "no terminal to ask for the password on; pipe it with "
                                   "--password-stdin");
    if (rc != 0) {
        fprintf(stderr, "sbridge login: cannot read the password: %s\n", err.message);
        return 1;
    }
    char *jwt = sign_in(&c, username, password);
    sb_secure_free(password);
    if (jwt == NULL)
        return 1;

    /* A personal API token, created with the sign-in's JWT. */
    char host[128] = "unknown-host", body[256];
    gethostname(host, sizeof host - 1);
    host[sizeof host - 1] = '\0';
    snprintf(body, sizeof body, "{\"name\":\"cli@%.100s\",\"expires_in_days\":%s}", host,
             a.days ? a.days : "30");
    for (char *p = body + 13; *p && *p != '"'; p++) /* keep the name valid JSON */
        if ((unsigned char)*p < 0x20 || *p == '\\')
            *p = '_';
    c.token = jwt;
    sb_client_response r;
    long st = sb_client_call(&c, "POST", "/api/v1/users/me/tokens", (const unsigned char *)body,
                             strlen(body), 0, &r);
    const sb_json_node *root = sb_client_root(&r);
    const char *token = sb_client_str(root, "token");
    char path[SB_CLIENT_PATH_MAX] = "";
    if (st != 201 || token[0] == '\0') {
        rc = sb_client_report(&c, "creating an API token", &r);
    } else if (sb_client_credentials_store(c.url, token, sb_client_str(root, "id"), path, sizeof path,
                                           &err) != 0) {
        fprintf(stderr, "sbridge login: the token was created but cannot be stored: %s\n  revoke "
                        "it (id %s) once this is fixed: it is not written anywhere\n",
                err.message, sb_client_str(root, "id"));
        rc = 1;
    } else {
        printf("Logged in to %s as %s.\nAPI token '%s' (id %s) expires %s; stored in %s\n", c.url,
               username, sb_client_str(root, "name"), sb_client_str(root, "id"),
               sb_client_str(root, "expires_at"), path);
        const char *env = getenv("SBRIDGE_TOKEN");
        if (env && env[0])
            fprintf(stderr, "sbridge login: note: SBRIDGE_URL and SBRIDGE_TOKEN are set and take "
                            "precedence over the stored token\n");
    }
    sb_client_response_free(&r);
    /* The sign-in's session is not needed any more: end it. */
    sb_client_response out;
    sb_client_call(&c, "POST", "/api/v1/auth/logout", NULL, 0, 0, &out);
    sb_client_response_free(&out);
    sb_secure_release(jwt);
    return rc;
}

int sb_cmd_logout(int argc, char **argv)
{
    for (int i = 1; i < argc; i++)
        return sb_cli_unknown_argument("logout", argv[i]);
    sb_client_credentials cred;
    sb_error err = {0};
    int rc = sb_client_credentials_load(&cred, &err);
    if (rc == 1) {
        printf("Not logged in (no %s); nothing to do.\n", cred.path);
        return 0;
    }
    if (rc == 0 && cred.from_environment) {
        sb_client_credentials_clear(&cred);
        fprintf(stderr, "sbridge logout: the credentials come from SBRIDGE_URL and SBRIDGE_TOKEN; "
                        "unset them (and revoke that token with DELETE "
                        "/api/v1/users/me/tokens/{id} if it is no longer needed)\n");
        return 1;
    }
    int revoked = 0;
    if (rc == 0 && cred.token_id[0] && sb_client_uuid_ok(cred.token_id)) {
        sb_client c = {.command = "logout", .token = cred.token};
        snprintf(c.url, sizeof c.url, "%s", cred.url);
        char path[128];
        snprintf(path, sizeof path, "/api/v1/users/me/tokens/%s", cred.token_id);
        sb_client_response r;
        long st = sb_client_call(&c, "DELETE", path, NULL, 0, 0, &r);
        if (st >= 200 && st < 300)
            revoked = 1;
        else if (st == 401 || st == 404)
            revoked = 1, printf("The stored token no longer works (expired or revoked already).\n");
        else
            sb_client_report(&c, "revoking the API token", &r);
        sb_client_response_free(&r);
    } else if (rc != 0) {
        fprintf(stderr, "sbridge logout: %s\n  deleting it anyway; the token in it (if any) stays "
                        "valid until it expires\n",
                err.message);
    }
    sb_client_credentials_clear(&cred);
    char path[SB_CLIENT_PATH_MAX];
    rc = sb_client_credentials_remove(path, sizeof path, &err);
    if (rc < 0) {
        fprintf(stderr, "sbridge logout: %s\n", err.message);
        return 1;
    }
    printf("Logged out: %s deleted%s.\n", path,
           revoked ? " and the API token revoked" : "; the token was NOT revoked (see above)");
    return revoked ? 0 : 1;
}
