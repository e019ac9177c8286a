/*
 * cli/cmd_client_request.c — `sbridge request read|patch`: submit a request
 * on a secret binding.
 *
 * Contract: read submits {kind: read, binding_id, keys?, justification}.
 * patch never sends a value: it finds the binding's provider connection
 * through the API (the binding in one of your projects — GET
 * /api/v1/users/me, then /projects/{id}/secret-bindings — its catalog
 * secret's connection_id from GET /api/v1/secrets/{id}), fetches the
 * public keys of that connection's live agents (GET
 * /provider-connections/{id}/agent-keys), reads each value from its
 * --value-file (or a no-echo prompt per key) into secure memory, seals it
 * with crypto_box_seal to EVERY agent key (crypto/sealed_box.h), zeroes it, and
 * submits only the boxes. Values on the command line are refused with the
 * reason. Output on stdout: "<request id> <state>"; hints on stderr.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli/cli.h"
#include "cli/client_args.h"
#include "cli/client_input.h"
#include "crypto/sealed_box.h"

#define MAX_KEYS 32
#define PAGE_LIMIT_MAX 20 /* pages of bindings read per project before giving up */

typedef struct request_args {
    const char *kind, *binding, *justification, *project;
    const char *keys[MAX_KEYS];
    const char *files[MAX_KEYS]; /* "K=PATH" or "PATH" as given */
    int n_keys, n_files;
} request_args;

static const char INSTEAD[] = "give --value-file KEY=PATH (one file per key; '-' reads standard "
                              "input) or answer the prompt without echo";

static int key_name_ok(const char *k)
{
    size_t n = strlen(k);
    if (n == 0 || n > 128)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)k[i]) && k[i] != '_' && k[i] != '.' && k[i] != '-')
            return 0;
    return 1;
}

static int parse(int argc, char **argv, request_args *a)
{
    memset(a, 0, sizeof *a);
    if (argc < 2)
        return sb_cli_usage_error("request", "expected 'read' or 'patch' (got nothing)");
    if (strcmp(argv[1], "read") != 0 && strcmp(argv[1], "patch") != 0)
        return sb_cli_unknown_argument("request", argv[1]);
    a->kind = argv[1];
    int patch = strcmp(a->kind, "patch") == 0;
    for (int i = 2; i < argc; i++) {
        const char *v = NULL;
        int m;
        if ((m = sb_client_opt("request", argc, argv, &i, "--binding", &a->binding)) ||
            (m = sb_client_opt("request", argc, argv, &i, "--justification", &a->justification)) ||
            (m = sb_client_opt("request", argc, argv, &i, "--project", &a->project))) {
            if (m < 0)
                return 2;
        } else if ((m = sb_client_opt("request", argc, argv, &i, "--key", &v)) != 0) {
            if (m < 0)
                return 2;
            if (strchr(v, '='))
                return sb_cli_usage_error("request", "--key takes a key name only; secrets are "
                                                     "never taken from the command line (ps, "
                                                     "shell history and CI logs show every "
                                                     "argument); %s",
                                          INSTEAD);
            if (!key_name_ok(v))
                return sb_cli_usage_error("request", "--key '%s' must be 1-128 letters, digits, "
                                                     "'_', '.' or '-'",
                                          v);
            if (a->n_keys == MAX_KEYS)
                return sb_cli_usage_error("request", "at most %d --key options", MAX_KEYS);
            for (int k = 0; k < a->n_keys; k++)
                if (strcmp(a->keys[k], v) == 0)
                    return sb_cli_usage_error("request", "--key %s is given twice", v);
            a->keys[a->n_keys++] = v;
        } else if ((m = sb_client_opt("request", argc, argv, &i, "--value-file", &v)) != 0) {
            if (m < 0)
                return 2;
            if (!patch)
                return sb_cli_usage_error("request", "--value-file goes with 'request patch'");
            if (a->n_files == MAX_KEYS)
                return sb_cli_usage_error("request", "at most %d --value-file options", MAX_KEYS);
            a->files[a->n_files++] = v;
        } else if (sb_client_refuse_secret_arg("request", argv[i], INSTEAD) != 0) {
            return 2;
        } else {
            return sb_cli_unknown_argument("request", argv[i]);
        }
    }
    if (a->binding == NULL)
        return sb_cli_usage_error("request", "--binding ID is required (the secret binding to "
                                             "%s; your project's bindings are listed by GET "
                                             "/api/v1/projects/{id}/secret-bindings)",
                                  a->kind);
    if (!sb_client_uuid_ok(a->binding))
        return sb_cli_usage_error("request", "--binding '%s' is not a binding id (a UUID)", a->binding);
    if (a->project && !sb_client_uuid_ok(a->project))
        return sb_cli_usage_error("request", "--project '%s' is not a project id (a UUID)", a->project);
    if (a->justification == NULL || a->justification[0] == '\0')
        return sb_cli_usage_error("request", "--justification TEXT is required: approvers decide "
                                             "on it (a ticket or incident reference, e.g. "
                                             "\"INC-4711: rotate the DB password\")");
    if (patch && a->n_keys == 0)
        return sb_cli_usage_error("request", "patch needs --key KEY for each key to change");
    return 0;
}

/* Maps each --value-file to its key (paths[k] for keys[k]; NULL: prompt).
 * 0, or 2 after a usage error. */
static int map_files(const request_args *a, const char *paths[MAX_KEYS])
{
    for (int k = 0; k < MAX_KEYS; k++)
        paths[k] = NULL;
    for (int f = 0; f < a->n_files; f++) {
        int hit = -1;
        const char *path = NULL;
        for (int k = 0; k < a->n_keys && hit < 0; k++) {
            size_t n = strlen(a->keys[k]);
            if (strncmp(a->files[f], a->keys[k], n) == 0 && a->files[f][n] == '=')
                hit = k, path = a->files[f] + n + 1;
        }
        if (hit < 0 && a->n_keys == 1)
            hit = 0, path = a->files[f];
        if (hit < 0)
            return sb_cli_usage_error("request", "--value-file %s names none of the --key keys: "
                                                 "write --value-file KEY=PATH",
                                      a->files[f]);
        if (paths[hit])
            return sb_cli_usage_error("request", "two --value-file options for key %s",
                                      a->keys[hit]);
        if (path[0] == '\0')
            return sb_cli_usage_error("request", "--value-file for key %s has an empty path",
                                      a->keys[hit]);
        paths[hit] = path;
    }
    return 0;
}

/* ---- the binding's connection ------------------------------------------------ */

typedef struct target {
    char connection_id[40], secret_ref[512];
} target;

static int str_in_array(const sb_json_node *array, const char *s)
{
    for (size_t i = 0; i < sb_json_count(array); i++) {
        size_t len = 0;
        const char *v = sb_json_string(sb_json_member(array, i, NULL), &len);
        if (v && strcmp(v, s) == 0)
            return 1;
    }
    return 0;
}

/* Checks the binding allows patching every key, and reads its catalog
 * secret's connection. 0, or 1 after a report. */
static int binding_target(sb_client *c, const request_args *a, const sb_json_node *b, target *t)
{
    const sb_json_node *ops = sb_json_get(b, "allowed_ops"), *keys = sb_json_get(b, "allowed_keys");
    if (!str_in_array(ops, "patch")) {
        fprintf(stderr, "sbridge request: binding %s does not allow patching (its operations: "
                        "see GET /api/v1/projects/%s/secret-bindings); ask an integrator to add "
                        "'patch'\n",
                a->binding, sb_client_str(b, "project_id"));
        return 1;
    }
    for (int k = 0; k < a->n_keys; k++)
        if (!str_in_array(keys, a->keys[k])) {
            fprintf(stderr, "sbridge request: binding %s does not allow key '%s'; its allowed "
                            "keys:",
                    a->binding, a->keys[k]);
            for (size_t i = 0; i < sb_json_count(keys); i++)
                fprintf(stderr, " %s", sb_client_str(sb_json_member(keys, i, NULL), ""));
            fprintf(stderr, "\n");
            return 1;
        }
    char path[128];
    snprintf(path, sizeof path, "/api/v1/secrets/%.36s", sb_client_str(b, "catalog_secret_id"));
    sb_client_response r;
    long st = sb_client_call(c, "GET", path, NULL, 0, 0, &r);
    const char *conn = sb_client_str(sb_client_root(&r), "connection_id");
    int rc = 0;
    if (st != 200 || !sb_client_uuid_ok(conn))
        rc = sb_client_report(c, "reading the binding's catalog secret", &r);
    else {
        snprintf(t->connection_id, sizeof t->connection_id, "%s", conn);
        snprintf(t->secret_ref, sizeof t->secret_ref, "%s", sb_client_str(sb_client_root(&r), "secret_ref"));
    }
    sb_client_response_free(&r);
    return rc;
}

typedef struct binding_search {
    sb_client *c;
    const request_args *a;
    target *t;
    int rc;
} binding_search;

#define BINDING_FOUND 3

static int match_binding(const sb_json_node *b, void *ctx)
{
    binding_search *s = ctx;
    if (strcmp(sb_client_str(b, "id"), s->a->binding) != 0)
        return 0;
    s->rc = binding_target(s->c, s->a, b, s->t);
    return BINDING_FOUND;
}

/* Looks for the binding in project's bindings: 0 found (t filled), 1 failed
 * (reported), 2 not there. */
static int find_in_project(sb_client *c, const request_args *a, const char *project, target *t)
{
    char path[256];
    snprintf(path, sizeof path, "/api/v1/projects/%s/secret-bindings?limit=100", project);
    binding_search s = {c, a, t, 0};
    int rc = sb_client_each_item(c, path, "listing the project's secret bindings", PAGE_LIMIT_MAX,
                                 a->project == NULL, match_binding, &s);
    if (rc == BINDING_FOUND)
        return s.rc;
    return rc == 1 ? 1 : 2; /* not in its pages, or a project whose bindings we may not read */
}

static int resolve_binding(sb_client *c, const request_args *a, target *t)
{
    if (a->project) {
        int rc = find_in_project(c, a, a->project, t);
        if (rc == 2)
            fprintf(stderr, "sbridge request: no secret binding %s in project %s; check the id "
                            "(GET /api/v1/projects/%s/secret-bindings lists them)\n",
                    a->binding, a->project, a->project);
        return rc ? 1 : 0;
    }
    sb_client_response me;
    if (sb_client_call(c, "GET", "/api/v1/users/me", NULL, 0, 0, &me) != 200) {
        int rc = sb_client_report(c, "reading your projects", &me);
        sb_client_response_free(&me);
        return rc;
    }
    const sb_json_node *projects = sb_json_get(sb_client_root(&me), "projects");
    size_t n = sb_json_count(projects);
    int rc = 2;
    for (size_t i = 0; i < n && rc == 2; i++)
        rc = find_in_project(c, a, sb_client_str(sb_json_member(projects, i, NULL), "id"), t);
    if (rc == 2)
        fprintf(stderr, "sbridge request: unknown binding %s: no secret binding with that id in "
                        "the %zu project(s) you can see%s; check the id (GET "
                        "/api/v1/projects/{id}/secret-bindings lists a project's bindings) or "
                        "pass --project ID\n",
                a->binding, n,
                sb_json_type_of(sb_json_get(sb_client_root(&me), "projects_truncated")) == SB_JSON_TRUE
                    ? " (the list was truncated)"
                    : "");
    sb_client_response_free(&me);
    return rc ? 1 : 0;
}

/* ---- sealing ------------------------------------------------------------------ */

/* The agent keys of the connection, as a JSON array of strings (owned). */
static json_t *agent_keys(sb_client *c, const target *t)
{
    char path[128];
    snprintf(path, sizeof path, "/api/v1/provider-connections/%s/agent-keys", t->connection_id);
    sb_client_response r;
    if (sb_client_call(c, "GET", path, NULL, 0, 0, &r) != 200) {
        sb_client_report(c, "fetching the agents' public keys", &r);
        sb_client_response_free(&r);
        return NULL;
    }
    json_t *keys = json_array();
    const sb_json_node *items = sb_json_get(sb_client_root(&r), "items");
    for (size_t i = 0; i < sb_json_count(items); i++) {
        const char *k = sb_client_str(sb_json_member(items, i, NULL), "public_key");
        if (k[0])
            json_array_append_new(keys, json_string(k));
    }
    sb_client_response_free(&r);
    if (json_array_size(keys) == 0) {
        fprintf(stderr, "sbridge request: no live agent serves provider connection %s (%s), so "
                        "there is nobody to seal the values to: start or enroll an agent of that "
                        "connection first ('sbridge agent'), then try again\n",
                t->connection_id, t->secret_ref);
        json_decref(keys);
        return NULL;
    }
    return keys;
}

/* Reads key k's value, seals it to every key in recipients, appends the
 * boxes to sealed. 0, or 1 after printing why. */
static int seal_key(const char *key, const char *path, json_t *recipients, json_t *sealed)
{
    sb_secure_buf *value = NULL;
    sb_error err = {0};
    char question[200];
    int rc;
    if (path)
        rc = sb_client_read_secret_file(path, SB_CLIENT_VALUE_MAX, &value, &err);
    else if (sb_client_can_prompt()) {
        snprintf(question, sizeof question, "Value for %s (input hidden): ", key);
        rc = sb_client_prompt_secret(question, 1, SB_CLIENT_VALUE_MAX, &value, &err);
    } else
        rc = sb_error_set(&err, 1, "there is no terminal to prompt on: %s", INSTEAD);
    if (rc == 0 && value->len == 0)
        rc = sb_error_set(&err, 1, "the value is empty (a patch sets a value; nothing to send)");
    if (rc != 0) {
        fprintf(stderr, "sbridge request: no value for key %s: %s\n", key, err.message);
        sb_secure_free(value);
        return 1;
    }
    size_t i;
    json_t *r;
    json_array_foreach(recipients, i, r)
    {
        char *box = NULL;
        if (sb_sealed_box_seal(json_string_value(r), value->data, value->len, &box, &err) != 0) {
            fprintf(stderr, "sbridge request: cannot seal key %s: %s\n", key, err.message);
            sb_secure_free(value);
            return 1;
        }
        json_array_append_new(sealed, json_pack("{s:s, s:s, s:s}", "key", key, "recipient",
                                                json_string_value(r), "box", box));
        free(box);
    }
    sb_secure_free(value); /* zeroed */
    return 0;
}

/* ---- the command -------------------------------------------------------------- */

static int submit(sb_client *c, json_t *body, const char *kind)
{
    char *text = json_dumps(body, JSON_COMPACT);
    json_decref(body);
    if (text == NULL) {
        fprintf(stderr, "sbridge request: out of memory\n");
        return 1;
    }
    sb_client_response r;
    long st = sb_client_call(c, "POST", "/api/v1/requests", (const unsigned char *)text, strlen(text), 0, &r);
    free(text);
    int rc = 0;
    if (st != 201) {
        rc = sb_client_report(c, "submitting the request", &r);
    } else {
        const sb_json_node *root = sb_client_root(&r);
        const char *id = sb_client_str(root, "id"), *state = sb_client_str(root, "state");
        printf("%s %s\n", id, state);
        fflush(stdout);
        if (strcmp(state, "pending") == 0)
            fprintf(stderr, "sbridge request: %s request %s is pending approval: an approver runs "
                            "'sbridge approve %s'\n",
                    kind, id, id);
        if (strcmp(state, "pending") == 0 && strcmp(kind, "read") == 0)
            fprintf(stderr, "  once it is executed: sbridge reveal %s\n", id);
    }
    sb_client_response_free(&r);
    return rc;
}

int sb_cmd_request(int argc, char **argv)
{
    request_args a;
    const char *paths[MAX_KEYS];
    int rc = parse(argc, argv, &a);
    if (rc == 0 && strcmp(a.kind, "patch") == 0)
        rc = map_files(&a, paths);
    if (rc != 0)
        return rc;
    sb_client c;
    sb_client_credentials cred;
    if (sb_client_session_open("request", &c, &cred) != 0)
        return 1;
    json_t *body = json_pack("{s:s, s:s, s:s}", "kind", a.kind, "binding_id", a.binding,
                             "justification", a.justification);
    if (a.n_keys > 0 && strcmp(a.kind, "read") == 0) {
        json_t *keys = json_array();
        for (int k = 0; k < a.n_keys; k++)
            json_array_append_new(keys, json_string(a.keys[k]));
        json_object_set_new(body, "keys", keys);
    }
    if (strcmp(a.kind, "patch") == 0) {
        target t;
        json_t *recipients = NULL, *sealed = json_array();
        rc = resolve_binding(&c, &a, &t);
        if (rc == 0 && (recipients = agent_keys(&c, &t)) == NULL)
            rc = 1;
        for (int k = 0; k < a.n_keys && rc == 0; k++)
            rc = seal_key(a.keys[k], paths[k], recipients, sealed);
        json_decref(recipients);
        json_object_set_new(body, "sealed_values", sealed);
        if (rc != 0) {
            json_decref(body);
            sb_client_credentials_clear(&cred);
            return rc;
        }
    }
    rc = submit(&c, body, a.kind);
    sb_client_credentials_clear(&cred);
    return rc;
}
