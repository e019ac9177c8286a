/* cli/dev_demo_world.c — see dev_demo_world.h. */
#include "cli/dev_demo_world.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

const char *const sb_demo_teams[] = {"payments", "platform"};
const size_t sb_demo_n_teams = sizeof sb_demo_teams / sizeof sb_demo_teams[0];

const sb_demo_project sb_demo_projects[] = {
    {"payments", "checkout-api"},
    {"payments", "ledger"},
    {"platform", "billing-worker"},
};
const size_t sb_demo_n_projects = sizeof sb_demo_projects / sizeof sb_demo_projects[0];

const char *const sb_demo_envs[] = {"prod", "staging"};
const size_t sb_demo_n_envs = sizeof sb_demo_envs / sizeof sb_demo_envs[0];

const sb_demo_secret sb_demo_secrets[] = {
    {"checkout-api", "database", {"username", "password", NULL}},
    {"checkout-api", "stripe", {"api_key", "webhook_secret", NULL}},
    {"ledger", "database", {"username", "password", NULL}},
    {"billing-worker", "queue", {"url", "password", NULL}},
};
const size_t sb_demo_n_secrets = sizeof sb_demo_secrets / sizeof sb_demo_secrets[0];

static size_t project_index(const char *name, size_t len)
{
    for (size_t i = 0; i < sb_demo_n_projects; i++)
        if (strlen(sb_demo_projects[i].name) == len && memcmp(sb_demo_projects[i].name, name, len) == 0)
            return i;
    return (size_t)-1;
}

const char *sb_demo_team_of(const char *project)
{
    size_t i = project_index(project, strlen(project));
    return i == (size_t)-1 ? NULL : sb_demo_projects[i].team;
}

const sb_demo_secret *sb_demo_secret_of(const char *ref, size_t *project, size_t *env)
{
    const char *p = strchr(ref, '/'), *e = p ? strchr(p + 1, '/') : NULL,
               *n = e ? strchr(e + 1, '/') : NULL;
    if (n == NULL || strchr(n + 1, '/'))
        return NULL;
    size_t pi = project_index(p + 1, (size_t)(e - p - 1)), ei = (size_t)-1;
    if (pi == (size_t)-1 || strncmp(ref, sb_demo_projects[pi].team, (size_t)(p - ref)) != 0 ||
        strlen(sb_demo_projects[pi].team) != (size_t)(p - ref))
        return NULL;
    for (size_t i = 0; i < sb_demo_n_envs; i++)
        if (strlen(sb_demo_envs[i]) == (size_t)(n - e - 1) && memcmp(sb_demo_envs[i], e + 1, (size_t)(n - e - 1)) == 0)
            ei = i;
    if (ei == (size_t)-1)
        return NULL;
    for (size_t i = 0; i < sb_demo_n_secrets; i++)
        if (strcmp(sb_demo_secrets[i].project, sb_demo_projects[pi].name) == 0 &&
            strcmp(sb_demo_secrets[i].name, n + 1) == 0) {
            *project = pi;
            *env = ei;
            return &sb_demo_secrets[i];
        }
    return NULL;
}

/* A random demo value: prefix + 24 random bytes in base64url. */
static json_t *random_value(const char *prefix)
{
    unsigned char raw[24];
    char text[64], out[96];
    randombytes_buf(raw, sizeof raw);
    sodium_bin2base64(text, sizeof text, raw, sizeof raw, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    sodium_memzero(raw, sizeof raw);
    snprintf(out, sizeof out, "%s%s", prefix, text);
    json_t *v = json_string(out);
    sodium_memzero(text, sizeof text);
    sodium_memzero(out, sizeof out);
    return v;
}

static json_t *demo_value(const char *project, const char *env, const char *key)
{
    char text[96];
    if (strcmp(key, "username") == 0) {
        snprintf(text, sizeof text, "%s_%s", project, env);
        for (char *c = text; *c; c++)
            if (*c == '-')
                *c = '_';
        return json_string(text);
    }
    if (strcmp(key, "url") == 0) {
        snprintf(text, sizeof text, "amqp://%s.%s.demo.invalid:5672/", project, env);
        return json_string(text);
    }
    return random_value(strcmp(key, "api_key") == 0 ? "sk_demo_" : "demo-");
}

static json_t *secret_entry(const sb_demo_project *p, const char *env, const sb_demo_secret *s)
{
    json_t *data = json_object();
    for (size_t k = 0; s->keys[k]; k++)
        json_object_set_new(data, s->keys[k], demo_value(p->name, env, s->keys[k]));
    char owner[64];
    snprintf(owner, sizeof owner, "%s-oncall", p->team);
    return json_pack("{s:o, s:{s:s, s:s, s:s, s:s}}", "data", data, "custom_metadata", "team",
                     p->team, "project", p->name, "environment", env, "owner", owner);
}

int sb_demo_write_private(const char *path, const char *text, sb_error *err)
{
    unlink(path);
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
    size_t len = strlen(text);
    int ok = fd >= 0 && write(fd, text, len) == (ssize_t)len;
    int saved = errno;
    if (fd >= 0 && close(fd) != 0)
        ok = 0;
    return ok ? 0 : sb_error_set(err, 1, "cannot write %s: %s", path, strerror(saved));
}

int sb_demo_write_vault_seed(const char *path, const char *agent_token, sb_error *err)
{
    json_t *kv = json_object();
    for (size_t i = 0; i < sb_demo_n_secrets; i++) {
        const sb_demo_secret *s = &sb_demo_secrets[i];
        const sb_demo_project *p = &sb_demo_projects[project_index(s->project, strlen(s->project))];
        for (size_t e = 0; e < sb_demo_n_envs; e++) {
            char ref[256];
            snprintf(ref, sizeof ref, "%s/%s/%s/%s", p->team, p->name, sb_demo_envs[e], s->name);
            json_object_set_new(kv, ref, secret_entry(p, sb_demo_envs[e], s));
        }
    }
    json_t *doc = json_pack("{s:[{s:s, s:[s], s:s}], s:{s:o}}", "tokens", "token", agent_token,
                            "policies", "root", "display_name", "sbridge-dev-demo-agent", "kv",
                            "secret", kv);
    char *text = doc ? json_dumps(doc, JSON_INDENT(2) | JSON_SORT_KEYS) : NULL;
    json_decref(doc);
    if (text == NULL)
        return sb_error_set(err, 1, "cannot build the demo Vault seed: out of memory");
    int rc = sb_demo_write_private(path, text, err);
    sodium_memzero(text, strlen(text));
    free(text);
    return rc;
}
