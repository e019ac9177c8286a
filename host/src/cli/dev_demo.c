/* cli/dev_demo.c — see dev_demo.h. */
#include "cli/dev_demo.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli/client_api.h"
#include "cli/dev_demo_world.h"
#include "crypto/secure_mem.h"
#include "crypto/token.h"

#define DEMO_CONNECTION "demo-vault"
#define READY_TIMEOUT_MS 60000

typedef struct demo_run {
    const sb_dev_demo_options *o;
    sb_dev_demo *d;
    char dir[PATH_MAX - 64]; /* <state>/demo */
    sb_client api;
    char *token; /* the setup token (secure memory) */
    char token_id[40];
    char conn_id[40];
    char project_id[8][40];
    char env_id[8][2][40];
    int bound;
} demo_run;

static void path_in(const demo_run *r, const char *name, char *out, size_t cap)
{
    snprintf(out, cap, "%s/%s", r->dir, name);
}

static void say(const demo_run *r, const char *what, const char *detail)
{
    fprintf(r->o->progress, "%s%s%s%s\n", what, detail ? " (" : "", detail ? detail : "",
            detail ? ")..." : "...");
    fflush(r->o->progress);
}

/* ---- the remembered setup (<state>/demo/setup.json) ---------------------- */

static int load_setup(demo_run *r)
{
    char path[PATH_MAX];
    path_in(r, "setup.json", path, sizeof path);
    json_t *doc = json_load_file(path, 0, NULL);
    if (doc == NULL)
        return 0;
    const char *conn = json_string_value(json_object_get(doc, "connection_id"));
    json_t *projects = json_object_get(doc, "projects");
    int ok = conn != NULL && json_array_size(projects) == sb_demo_n_projects;
    for (size_t p = 0; ok && p < sb_demo_n_projects; p++) {
        json_t *item = json_array_get(projects, p);
        const char *id = json_string_value(json_object_get(item, "id"));
        json_t *envs = json_object_get(item, "environments");
        ok = id != NULL && json_array_size(envs) == sb_demo_n_envs;
        if (ok)
            snprintf(r->project_id[p], 40, "%s", id);
        for (size_t e = 0; ok && e < sb_demo_n_envs; e++) {
            const char *env = json_string_value(json_array_get(envs, e));
            ok = env != NULL;
            if (ok)
                snprintf(r->env_id[p][e], 40, "%s", env);
        }
    }
    if (ok) {
        snprintf(r->conn_id, sizeof r->conn_id, "%s", conn);
        r->bound = json_is_true(json_object_get(doc, "bound"));
    }
    json_decref(doc);
    return ok;
}

static int save_setup(demo_run *r, sb_error *err)
{
    json_t *projects = json_array();
    for (size_t p = 0; p < sb_demo_n_projects; p++) {
        json_t *envs = json_array();
        for (size_t e = 0; e < sb_demo_n_envs; e++)
            json_array_append_new(envs, json_string(r->env_id[p][e]));
        json_array_append_new(projects, json_pack("{s:s, s:s, s:o}", "name",
                                                  sb_demo_projects[p].name, "id", r->project_id[p],
                                                  "environments", envs));
    }
    json_t *doc = json_pack("{s:s, s:o, s:b}", "connection_id", r->conn_id, "projects", projects,
                            "bound", r->bound);
    char path[PATH_MAX], tmp[PATH_MAX];
    path_in(r, "setup.json", path, sizeof path);
    path_in(r, "setup.json.tmp", tmp, sizeof tmp);
    int rc = doc && json_dump_file(doc, tmp, JSON_INDENT(2)) == 0 && rename(tmp, path) == 0 ? 0 : -1;
    json_decref(doc);
    return rc == 0 ? 0 : sb_error_set(err, 1, "cannot write %s: %s", path, strerror(errno));
}

/* ---- the API, as the seeded admin ---------------------------------------- */

static long call(demo_run *r, const char *method, const char *path, json_t *body,
                 sb_client_response *resp)
{
    char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
    json_decref(body);
    long st = sb_client_call(&r->api, method, path, (const unsigned char *)text,
                             text ? strlen(text) : 0, 0, resp);
    free(text);
    return st;
}

static int failed(demo_run *r, const char *doing, sb_client_response *resp, sb_error *err)
{
    sb_client_report(&r->api, doing, resp);
    sb_client_response_free(resp);
    return sb_error_set(err, 1, "the demo setup failed while %s (see above); `sbridge dev --reset` "
                                "starts again from nothing", doing);
}

/* POST path body, expecting 201; the new object's id into id (NULL: none). */
static int create(demo_run *r, const char *doing, const char *path, json_t *body, char id[40],
                  sb_error *err)
{
    sb_client_response resp;
    if (call(r, "POST", path, body, &resp) != 201)
        return failed(r, doing, &resp, err);
    if (id)
        snprintf(id, 40, "%s", sb_client_str(sb_client_root(&resp), "id"));
    sb_client_response_free(&resp);
    return 0;
}

/* The id of the default workflow (the system's "standard": one approver). */
static int default_workflow(demo_run *r, char id[40], sb_error *err)
{
    sb_client_response resp;
    if (call(r, "GET", "/api/v1/workflows?limit=100", NULL, &resp) != 200)
        return failed(r, "reading the workflows", &resp, err);
    const sb_json_node *items = sb_json_get(sb_client_root(&resp), "items");
    id[0] = '\0';
    for (size_t i = 0; i < sb_json_count(items); i++) {
        const sb_json_node *w = sb_json_member(items, i, NULL);
        if (sb_json_type_of(sb_json_get(w, "is_default")) == SB_JSON_TRUE)
            snprintf(id, 40, "%s", sb_client_str(w, "id"));
    }
    sb_client_response_free(&resp);
    return id[0] ? 0 : sb_error_set(err, 1, "the demo setup found no default workflow");
}

static int setup_tenancy(demo_run *r, sb_error *err)
{
    char team_id[4][40], path[256];
    for (size_t t = 0; t < sb_demo_n_teams; t++)
        if (create(r, "creating a demo team", "/api/v1/teams",
                   json_pack("{s:s}", "name", sb_demo_teams[t]), team_id[t], err) != 0)
            return -1;
    for (size_t p = 0; p < sb_demo_n_projects; p++) {
        size_t t = 0;
        while (strcmp(sb_demo_teams[t], sb_demo_projects[p].team) != 0)
            t++;
        if (create(r, "creating a demo project", "/api/v1/projects",
                   json_pack("{s:s, s:s}", "name", sb_demo_projects[p].name, "team_id", team_id[t]),
                   r->project_id[p], err) != 0)
            return -1;
        for (size_t e = 0; e < sb_demo_n_envs; e++)
            if (create(r, "creating a demo environment", "/api/v1/environments",
                       json_pack("{s:s, s:s, s:s}", "project_id", r->project_id[p], "name",
                                 sb_demo_envs[e], "kind", e == 0 ? "prod" : "non_prod"),
                       r->env_id[p][e], err) != 0)
                return -1;
    }
    char workflow[40];
    if (default_workflow(r, workflow, err) != 0 ||
        create(r, "creating the demo policy rule", "/api/v1/policy-rules",
               json_pack("{s:s, s:{s:s}, s:s, s:{s:s}, s:{s:b}}", "name",
                         "demo: direct reveal on non-prod", "anchor", "type", "platform",
                         "workflow_id", workflow, "selector", "environment_kind", "non_prod",
                         "access", "direct_reveal_allowed", 1),
               NULL, err) != 0)
        return -1;
    char address[64];
    snprintf(address, sizeof address, "http://127.0.0.1:%d", r->d->vault_port);
    if (create(r, "creating the demo provider connection", "/api/v1/provider-connections",
               json_pack("{s:s, s:s, s:{s:s, s:s}}", "name", DEMO_CONNECTION, "type", "vault",
                         "scope", "address", address, "mount", "secret"),
               r->conn_id, err) != 0)
        return -1;
    for (size_t p = 0; p < sb_demo_n_projects; p++) {
        snprintf(path, sizeof path, "/api/v1/provider-connections/%s/bindings", r->conn_id);
        if (create(r, "binding the demo connection to a project", path,
                   json_pack("{s:s}", "project_id", r->project_id[p]), NULL, err) != 0)
            return -1;
    }
    return save_setup(r, err);
}

/* ---- helper processes ---------------------------------------------------- */

static void random_token(char *out, size_t cap)
{
    unsigned char raw[24];
    randombytes_buf(raw, sizeof raw);
    sodium_bin2base64(out, cap, raw, sizeof raw, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    sodium_memzero(raw, sizeof raw);
}

static int start_vault(demo_run *r, sb_error *err)
{
    char seed[PATH_MAX], agent_token[PATH_MAX], port_file[PATH_MAX], log[PATH_MAX];
    path_in(r, "vault-seed.json", seed, sizeof seed);
    path_in(r, "vault-agent-token", agent_token, sizeof agent_token);
    path_in(r, "vault.port", port_file, sizeof port_file);
    path_in(r, "vault-emulator.log", log, sizeof log);
    struct stat st;
    if (stat(seed, &st) != 0 || stat(agent_token, &st) != 0) {
        char token[64];
        random_token(token, sizeof token);
        int rc = sb_demo_write_private(agent_token, token, err) == 0 &&
                         sb_demo_write_vault_seed(seed, token, err) == 0
                     ? 0
                     : -1;
        sodium_memzero(token, sizeof token);
        if (rc != 0)
            return -1;
    }
    unlink(port_file);
    char root[80] = "--root-token=";
    /* never used: the agent has its own token; one argument, as a token may begin with '-' */
    random_token(root + strlen(root), sizeof root - strlen(root));
    char *argv[] = {"python3", (char *)r->o->emulator, "--port", "0", "--port-file", port_file,
                    "--seed", seed, root, NULL};
    say(r, "Starting the demo Vault emulator", r->o->emulator);
    if (sb_dev_child_spawn(&r->d->vault, "demo Vault emulator", argv, NULL, log, err) != 0 ||
        sb_dev_child_wait_file(&r->d->vault, port_file, READY_TIMEOUT_MS, err) != 0)
        return -1;
    FILE *f = fopen(port_file, "r");
    int port = 0;
    if (f == NULL || fscanf(f, "%d", &port) != 1 || port <= 0 || port > 65535) {
        if (f)
            fclose(f);
        return sb_error_set(err, 1, "the demo Vault emulator wrote no port to %s", port_file);
    }
    fclose(f);
    r->d->vault_port = port;
    return 0;
}

static int write_agent_config(demo_run *r, const char *path, sb_error *err)
{
    char identity_dir[PATH_MAX], token_file[PATH_MAX], plugins[PATH_MAX], *text = NULL;
    if (realpath(r->o->plugin_dir, plugins) == NULL) /* the agent's config takes absolute paths */
        return sb_error_set(err, 1, "the plugin directory %s: %s", r->o->plugin_dir,
                            strerror(errno));
    path_in(r, "agent", identity_dir, sizeof identity_dir);
    path_in(r, "vault-agent-token", token_file, sizeof token_file);
    if (mkdir(identity_dir, 0700) != 0 && errno != EEXIST)
        return sb_error_set(err, 1, "cannot create %s: %s", identity_dir, strerror(errno));
    if (asprintf(&text,
             "# Written by `sbridge dev` at every start: the demo agent.\n"
             "role: agent\n"
             "log:\n  level: info\n"
             "control_plane:\n"
             "  url: %s\n"
             "  identity_file: %s/identity.json\n"
             "  connection: " DEMO_CONNECTION "\n"
             "  name: sbridge-dev-demo-agent\n"
             "  heartbeat_interval: 5s\n"
             "health:\n  listen: 127.0.0.1:0\n"
             "plugins:\n  directory: %s\n  load:\n    - name: vault\n      file: vault.so\n"
             "providers:\n"
             "  - name: " DEMO_CONNECTION "\n"
             "    plugin: vault\n"
             "    config:\n"
             "      address: http://127.0.0.1:%d\n"
             "      allow_insecure_http: true\n"
             "      auth: token\n"
             "      token: ${file:%s}\n"
             "      kv_mount: secret\n"
             "concurrency: 2\n"
             "shutdown_grace: 5s\n",
             sb_control_plane_url(r->o->cp), identity_dir, plugins, r->d->vault_port,
             token_file) < 0)
        return sb_error_set(err, 1, "out of memory");
    int rc = sb_demo_write_private(path, text, err);
    free(text);
    return rc;
}

static int start_agent(demo_run *r, sb_error *err)
{
    char config[PATH_MAX], identity[PATH_MAX], log[PATH_MAX], self[PATH_MAX];
    path_in(r, "agent.yaml", config, sizeof config);
    path_in(r, "agent/identity.json", identity, sizeof identity);
    path_in(r, "agent.log", log, sizeof log);
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0)
        return sb_error_set(err, 1, "cannot find this sbridge executable: %s", strerror(errno));
    self[n] = '\0';
    if (write_agent_config(r, config, err) != 0)
        return -1;
    struct stat st;
    char env_token[SB_TOKEN_MAX + 64] = "";
    if (stat(identity, &st) != 0) { /* first start: enroll */
        sb_client_response resp;
        char path[256];
        snprintf(path, sizeof path, "/api/v1/provider-connections/%s/agent-enrollment-tokens",
                 r->conn_id);
        if (call(r, "POST", path, json_pack("{s:i}", "ttl_seconds", 600), &resp) != 201)
            return failed(r, "minting the demo agent's enrollment token", &resp, err);
        snprintf(env_token, sizeof env_token, "SBRIDGE_ENROLLMENT_TOKEN=%s",
                 sb_client_str(sb_client_root(&resp), "token"));
        sb_client_response_free(&resp);
    }
    char *argv[] = {self, "agent", "--config", config, NULL};
    char *env[] = {env_token, NULL};
    say(r, "Starting the demo agent, log", log);
    int rc = sb_dev_child_spawn(&r->d->agent, "demo agent", argv, env_token[0] ? env : NULL, log,
                                err);
    sodium_memzero(env_token, sizeof env_token);
    if (rc != 0)
        return -1;
    return sb_dev_child_wait_file(&r->d->agent, identity, READY_TIMEOUT_MS, err);
}

/* ---- discovery and bindings ---------------------------------------------- */

static void pause_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* Waits until the catalog holds every demo secret; *items the page. */
static int wait_catalog(demo_run *r, sb_client_response *page, sb_error *err)
{
    char path[256];
    snprintf(path, sizeof path, "/api/v1/secrets?connection_id=%s&limit=100", r->conn_id);
    size_t want = sb_demo_n_secrets * sb_demo_n_envs;
    for (int waited = 0;; waited += 250) {
        if (call(r, "GET", path, NULL, page) != 200)
            return failed(r, "reading the catalog", page, err);
        const sb_json_node *items = sb_json_get(sb_client_root(page), "items");
        if (sb_json_count(items) >= want)
            return 0;
        sb_client_response_free(page);
        if (waited >= READY_TIMEOUT_MS || !sb_dev_child_running(&r->d->agent))
            return sb_error_set(err, 1, "the demo secrets did not reach the catalog; the agent's "
                                        "log is %s", r->d->agent.log_path);
        pause_ms(250);
    }
}

static int bind_secret(demo_run *r, const sb_json_node *item, sb_error *err)
{
    size_t p, e;
    const char *ref = sb_client_str(item, "secret_ref");
    const sb_demo_secret *s = sb_demo_secret_of(ref, &p, &e);
    if (s == NULL)
        return 0; /* not one of the demo's: leave it unbound */
    json_t *keys = json_array();
    for (size_t k = 0; s->keys[k]; k++)
        json_array_append_new(keys, json_string(s->keys[k]));
    json_t *ops = e == 0 ? json_pack("[s, s]", "read", "patch")
                         : json_pack("[s, s, s]", "read", "patch", "reveal");
    char path[256];
    snprintf(path, sizeof path, "/api/v1/projects/%s/secret-bindings", r->project_id[p]);
    return create(r, "binding a demo secret to its environment", path,
                  json_pack("{s:s, s:s, s:o, s:o}", "catalog_secret_id", sb_client_str(item, "id"),
                            "environment_id", r->env_id[p][e], "allowed_keys", keys,
                            "allowed_ops", ops),
                  NULL, err);
}

static int discover_and_bind(demo_run *r, sb_error *err)
{
    char path[256];
    snprintf(path, sizeof path, "/api/v1/provider-connections/%s/discover-jobs", r->conn_id);
    say(r, "Discovering the demo secrets into the catalog", NULL);
    if (create(r, "starting the demo discovery", path, json_object(), NULL, err) != 0)
        return -1;
    sb_client_response page;
    if (wait_catalog(r, &page, err) != 0)
        return -1;
    const sb_json_node *items = sb_json_get(sb_client_root(&page), "items");
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < sb_json_count(items); i++)
        rc = bind_secret(r, sb_json_member(items, i, NULL), err);
    sb_client_response_free(&page);
    if (rc != 0)
        return -1;
    r->bound = 1;
    return save_setup(r, err);
}

/* ---- the whole ----------------------------------------------------------- */

static int run_steps(demo_run *r, sb_error *err)
{
    int known = load_setup(r);
    if (start_vault(r, err) != 0)
        return -1;
    r->token = sb_secure_alloc(SB_TOKEN_MAX);
    if (r->token == NULL)
        return sb_error_set(err, 1, "out of secure memory");
    if (sb_control_plane_dev_setup_token(r->o->cp, "admin", 600, r->token, SB_TOKEN_MAX,
                                         r->token_id, err) != 0)
        return -1;
    r->api.token = r->token;
    if (!known) {
        say(r, "Setting up the demo tenancy", "teams, projects, environments, a connection");
        if (setup_tenancy(r, err) != 0)
            return -1;
    }
    if (start_agent(r, err) != 0)
        return -1;
    return r->bound ? 0 : discover_and_bind(r, err);
}

int sb_dev_demo_start(const sb_dev_demo_options *o, sb_dev_demo *d, sb_error *err)
{
    memset(d, 0, sizeof *d);
    demo_run r = {.o = o, .d = d, .api = {.command = "dev"}};
    snprintf(r.dir, sizeof r.dir, "%s/demo", o->state_dir);
    if (mkdir(r.dir, 0700) != 0 && errno != EEXIST)
        return sb_error_set(err, 1, "cannot create %s: %s", r.dir, strerror(errno));
    if (sb_client_set_url(&r.api, sb_control_plane_url(o->cp), err) != 0)
        return -1;
    int rc = run_steps(&r, err);
    if (r.token_id[0]) { /* the setup token ends with the setup */
        sb_client_response resp;
        char path[128];
        snprintf(path, sizeof path, "/api/v1/users/me/tokens/%s", r.token_id);
        if (call(&r, "DELETE", path, NULL, &resp) != 204 && rc == 0)
            sb_client_report(&r.api, "revoking the demo setup token", &resp);
        sb_client_response_free(&resp);
    }
    sb_secure_release(r.token);
    if (rc != 0)
        sb_dev_demo_stop(d);
    return rc;
}

void sb_dev_demo_stop(sb_dev_demo *d)
{
    sb_dev_child_stop(&d->agent, 8000);
    sb_dev_child_stop(&d->vault, 3000);
}
