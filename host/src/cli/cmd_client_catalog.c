/*
 * cli/cmd_client_catalog.c — the client commands that find what to ask
 * for: `sbridge bindings` (the secret bindings a request can name, with
 * their project, environment, keys and operations) and `sbridge discover`
 * (an administrator's discover-now on a provider connection, optionally
 * waited for until the catalog is filled).
 *
 * Both speak only the public API with the stored API token
 * (client_args.h); they print metadata, never a value.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"
#include "cli/client_api.h"
#include "cli/client_args.h"

#define PAGES_MAX 50
#define ENVS_MAX 64

typedef struct env_name {
    char id[40];
    char name[130];
} env_name;

/* The project's environments (id -> name); their count, -1 failed (reported). */
static int project_envs(sb_client *c, const char *project, env_name *out, int cap)
{
    char path[256];
    snprintf(path, sizeof path, "/api/v1/projects/%s/environments?limit=100", project);
    sb_client_response r;
    if (sb_client_call(c, "GET", path, NULL, 0, 0, &r) != 200) {
        sb_client_report(c, "listing the project's environments", &r);
        sb_client_response_free(&r);
        return -1;
    }
    const sb_json_node *items = sb_json_get(sb_client_root(&r), "items");
    int n = 0;
    for (size_t i = 0; i < sb_json_count(items) && n < cap; i++, n++) {
        const sb_json_node *e = sb_json_member(items, i, NULL);
        snprintf(out[n].id, sizeof out[n].id, "%s", sb_client_str(e, "id"));
        snprintf(out[n].name, sizeof out[n].name, "%s", sb_client_str(e, "name"));
    }
    sb_client_response_free(&r);
    return n;
}

/* "a,b,c" from a JSON array of strings. */
static void joined(const sb_json_node *array, char *out, size_t cap)
{
    size_t used = 0;
    out[0] = '\0';
    for (size_t i = 0; i < sb_json_count(array) && used < cap; i++)
        used += (size_t)snprintf(out + used, cap - used, "%s%s", i ? "," : "",
                                 sb_json_string(sb_json_member(array, i, NULL), NULL)
                                     ? sb_json_string(sb_json_member(array, i, NULL), NULL)
                                     : "");
}

typedef struct binding_rows {
    const char *project_name;
    const env_name *envs;
    int n_envs;
    int *shown;
} binding_rows;

static int print_binding(const sb_json_node *b, void *ctx)
{
    binding_rows *p = ctx;
    const char *env = sb_client_str(b, "environment_id");
    for (int e = 0; e < p->n_envs; e++)
        if (strcmp(p->envs[e].id, env) == 0)
            env = p->envs[e].name;
    char keys[512], ops[128];
    joined(sb_json_get(b, "allowed_keys"), keys, sizeof keys);
    joined(sb_json_get(b, "allowed_ops"), ops, sizeof ops);
    if ((*p->shown)++ == 0)
        printf("%-36s  %-16s  %-10s  %-40s  %-24s  %s\n", "BINDING", "PROJECT", "ENV", "SECRET",
               "KEYS", "OPS");
    printf("%-36s  %-16s  %-10s  %-40s  %-24s  %s\n", sb_client_str(b, "id"), p->project_name, env,
           sb_client_str(b, "secret_ref"), keys, ops);
    return 0;
}

/* Prints the bindings of one project; 0 or 1 (failed, reported). */
static int list_project(sb_client *c, const char *project, const char *project_name, int *shown)
{
    env_name envs[ENVS_MAX];
    int n_envs = project_envs(c, project, envs, ENVS_MAX);
    if (n_envs < 0)
        return 1;
    char path[256];
    snprintf(path, sizeof path, "/api/v1/projects/%s/secret-bindings?limit=100", project);
    binding_rows rows = {project_name, envs, n_envs, shown};
    int rc = sb_client_each_item(c, path, "listing the project's secret bindings", PAGES_MAX, 1,
                                 print_binding, &rows);
    return rc == SB_CLIENT_HIDDEN ? 0 : rc; /* a project we see whose bindings we may not */
}

int sb_cmd_bindings(int argc, char **argv)
{
    const char *only = NULL;
    for (int i = 1; i < argc; i++) {
        int m = sb_client_opt("bindings", argc, argv, &i, "--project", &only);
        if (m < 0)
            return 2;
        if (m == 0)
            return sb_cli_unknown_argument("bindings", argv[i]);
    }
    if (only && !sb_client_uuid_ok(only))
        return sb_cli_usage_error("bindings", "--project takes a project id (a UUID), got '%s'", only);
    sb_client c;
    sb_client_credentials cred;
    if (sb_client_session_open("bindings", &c, &cred) != 0)
        return 1;
    sb_client_response me;
    int rc = 0, shown = 0;
    if (sb_client_call(&c, "GET", "/api/v1/users/me", NULL, 0, 0, &me) != 200) {
        rc = sb_client_report(&c, "reading your projects", &me);
    } else {
        const sb_json_node *projects = sb_json_get(sb_client_root(&me), "projects");
        for (size_t i = 0; i < sb_json_count(projects) && rc == 0; i++) {
            const sb_json_node *p = sb_json_member(projects, i, NULL);
            if (only == NULL || strcmp(only, sb_client_str(p, "id")) == 0)
                rc = list_project(&c, sb_client_str(p, "id"), sb_client_str(p, "name"), &shown);
        }
        if (rc == 0 && shown == 0)
            fprintf(stderr, "sbridge bindings: no secret bindings in %s; an administrator binds "
                            "catalog secrets to a project's environments\n",
                    only ? "that project (or you cannot see it)" : "the projects you can see");
    }
    sb_client_response_free(&me);
    sb_client_credentials_clear(&cred);
    return rc;
}

/* ---- discover ------------------------------------------------------------------ */

typedef struct connection_search {
    const char *which;
    char *id;
} connection_search;

static int match_connection(const sb_json_node *k, void *ctx)
{
    connection_search *s = ctx;
    if (strcmp(sb_client_str(k, "name"), s->which) != 0 && strcmp(sb_client_str(k, "id"), s->which) != 0)
        return 0;
    snprintf(s->id, 40, "%s", sb_client_str(k, "id"));
    return 2;
}

/* The connection named (or with the id) `which`: its id into id; 0, or 1
 * (reported). */
static int find_connection(sb_client *c, const char *which, char id[40])
{
    connection_search s = {which, id};
    int rc = sb_client_each_item(c, "/api/v1/provider-connections?limit=100",
                                 "listing the provider connections", PAGES_MAX, 0,
                                 match_connection, &s);
    if (rc == 2)
        return 0;
    if (rc == 0)
        fprintf(stderr, "sbridge discover: no provider connection named %s that you can see; "
                        "GET /api/v1/provider-connections lists them\n", which);
    return 1;
}

/* The connection's discovery.last_run_at ("" when never) into out. */
static int last_run(sb_client *c, const char *id, char *out, size_t cap, char *outcome,
                    size_t ocap, long long *count)
{
    char path[128];
    snprintf(path, sizeof path, "/api/v1/provider-connections/%s", id);
    sb_client_response r;
    if (sb_client_call(c, "GET", path, NULL, 0, 0, &r) != 200) {
        int rc = sb_client_report(c, "reading the connection", &r);
        sb_client_response_free(&r);
        return rc;
    }
    const sb_json_node *d = sb_json_get(sb_client_root(&r), "discovery");
    int64_t n = 0;
    sb_json_int(sb_json_get(d, "count"), &n);
    *count = (long long)n;
    snprintf(out, cap, "%s", sb_client_str(d, "last_run_at"));
    snprintf(outcome, ocap, "%s", sb_client_str(d, "outcome"));
    sb_client_response_free(&r);
    return 0;
}

int sb_cmd_discover(int argc, char **argv)
{
    const char *which = NULL, *wait_text = NULL;
    for (int i = 1; i < argc; i++) {
        int m = sb_client_opt("discover", argc, argv, &i, "--wait", &wait_text);
        if (m < 0)
            return 2;
        if (m > 0)
            continue;
        if (argv[i][0] == '-' || which)
            return sb_cli_unknown_argument("discover", argv[i]);
        which = argv[i];
    }
    if (which == NULL)
        return sb_cli_usage_error("discover", "name the provider connection (its name or id)");
    long wait_s = 0;
    if (wait_text) {
        char *end;
        wait_s = strtol(wait_text, &end, 10);
        if (*end || wait_s < 1 || wait_s > 3600)
            return sb_cli_usage_error("discover", "--wait takes seconds from 1 to 3600, got '%s'",
                                      wait_text);
    }
    sb_client c;
    sb_client_credentials cred;
    if (sb_client_session_open("discover", &c, &cred) != 0)
        return 1;
    char id[40], before[64] = "", now[64] = "", outcome[32] = "";
    long long count = 0;
    int rc = find_connection(&c, which, id);
    if (rc == 0 && wait_s)
        rc = last_run(&c, id, before, sizeof before, outcome, sizeof outcome, &count);
    if (rc == 0) {
        char path[128];
        snprintf(path, sizeof path, "/api/v1/provider-connections/%s/discover-jobs", id);
        sb_client_response r;
        if (sb_client_call(&c, "POST", path, (const unsigned char *)"{}", 2, 0, &r) != 201)
            rc = sb_client_report(&c, "starting the discovery", &r);
        else
            printf("discovery job %s queued for %s\n", sb_client_str(sb_client_root(&r), "id"),
                   which);
        sb_client_response_free(&r);
    }
    for (long waited = 0; rc == 0 && wait_s && waited < wait_s * 4; waited++) {
        struct timespec ts = {0, 250000000L};
        nanosleep(&ts, NULL);
        rc = last_run(&c, id, now, sizeof now, outcome, sizeof outcome, &count);
        if (rc == 0 && now[0] && strcmp(now, before) != 0) {
            printf("discovery %s: %lld secret%s seen\n", outcome, count, count == 1 ? "" : "s");
            rc = strcmp(outcome, "succeeded") == 0 ? 0 : 1;
            wait_s = 0;
        }
    }
    if (rc == 0 && wait_s) {
        fprintf(stderr, "sbridge discover: no discovery finished within %s s; is an agent of %s "
                        "running? (sbridge agent; docs/agent.md)\n", wait_text, which);
        rc = 1;
    }
    sb_client_credentials_clear(&cred);
    return rc;
}
