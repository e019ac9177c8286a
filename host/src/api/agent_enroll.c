/*
 * api/agent_enroll.c — agent self-enrollment and heartbeats (SPEC §9,
 * docs/agent-protocol.md).
 *
 * Contract:
 *   - POST /api/v1/agents/enroll is PUBLIC at the gate and authenticated by
 *     the enrollment token alone (Authorization: Bearer sbe_…), never by a
 *     session. The body names the connection the agent serves (its YAML's
 *     instance name, or the id), the agent's name and version and its
 *     X25519 public key (standard base64 of 32 bytes, not a small-order
 *     point). The token row is locked, checked (unknown, revoked, consumed,
 *     expired, other connection, connection not active) and consumed in the
 *     transaction that inserts the agent, so a token enrolls one agent.
 *     The agent secret (sba_…) is returned once; only its keyed hash is
 *     stored. Every refusal is audited (agent.enroll, denied) with its
 *     reason; success writes agent.enroll in the transaction.
 *   - POST /api/v1/agents/{id}/heartbeat (agent gate: its own id only)
 *     stores version, capabilities and health and moves enrolled -> active
 *     (audited as agent.activate; routine beats are not audited).
 */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api/agent_api.h"
#include "crypto/secure_mem.h"
#include "crypto/token.h"
#include "store/agent_store.h"

#define HEARTBEAT_S 30
#define HEALTH_MAX 4096
#define CAPABILITIES_MAX 64

int sb_agent_api_body(sb_server_request *req, const char *const *allowed, json_t **out)
{
    sb_error err;
    if (sb_http_json_body(req, out, &err) != 0)
        return -1;
    if (!json_is_object(*out))
        return sb_http_respond_error(req, 400, "invalid_json", "the body must be a JSON object"), -1;
    const char *k;
    json_t *v;
    json_object_foreach(*out, k, v)
    {
        int ok = 0;
        for (size_t i = 0; allowed[i] && !ok; i++)
            ok = strcmp(k, allowed[i]) == 0;
        if (!ok)
            return sb_http_respond_error(req, 400, "invalid_field",
                                         "unknown field \"%.64s\"; see docs/agent-protocol.md", k),
                   -1;
    }
    return 0;
}

int sb_agent_api_respond_text(sb_server_request *req, int status, char *json_text)
{
    json_t *j = json_text ? json_loads(json_text, 0, NULL) : NULL;
    free(json_text);
    if (j == NULL)
        return sb_http_respond_error(req, 500, "internal", "a stored row could not be read");
    return sb_http_respond_json(req, status, j);
}

/* A string field: NULL when absent; -1 after answering when mistyped. */
static int string_field(sb_server_request *req, json_t *body, const char *name, size_t max,
                        int required, const char **out)
{
    json_t *v = json_object_get(body, name);
    *out = NULL;
    if (v == NULL && !required)
        return 0;
    if (!json_is_string(v) || json_string_length(v) == 0 || json_string_length(v) > max)
        return sb_http_respond_error(req, 400, "invalid_field",
                                     "field \"%s\" must be a string of 1 to %zu characters", name,
                                     max),
               -1;
    *out = json_string_value(v);
    return 0;
}

/* 32 bytes of standard base64 that are a usable X25519 public key. */
static int parse_public_key(const char *b64, unsigned char pk[32])
{
    size_t len = 0;
    if (b64 == NULL || sodium_base642bin(pk, 32, b64, strlen(b64), NULL, &len, NULL,
                                         sodium_base64_VARIANT_ORIGINAL) != 0 ||
        len != 32)
        return -1;
    unsigned char sk[32], shared[32];
    randombytes_buf(sk, sizeof sk);
    int rc = crypto_scalarmult(shared, sk, pk); /* -1 for small-order points */
    sodium_memzero(sk, sizeof sk);
    sodium_memzero(shared, sizeof shared);
    return rc == 0 ? 0 : -1;
}

typedef struct enroll_ctx {
    sb_server_request *req;
    sb_enroll_new e;
    sb_enroll_result result;
    char agent_id[40], connection_id[40], token_id[40];
} enroll_ctx;

static int enroll_txn(sb_db_conn *conn, void *p, sb_error *err)
{
    enroll_ctx *c = p;
    if (sb_agent_store_enroll(conn, &c->e, &c->result, c->agent_id, c->connection_id, c->token_id,
                              err) != 0)
        return -1;
    if (c->result != SB_ENROLL_OK)
        return 0;
    char resource[64];
    snprintf(resource, sizeof resource, "agent:%s", c->agent_id);
    json_t *d = json_pack("{s:s, s:s, s:s, s:s}", "connection_id", c->connection_id, "name",
                          c->e.name, "version", c->e.version ? c->e.version : "",
                          "enrollment_token_id", c->token_id);
    sb_api_audit_event ev = {"agent.enroll", resource, "success", NULL, d};
    int rc = sb_api_audit(conn, c->req, &ev, err);
    json_decref(d);
    return rc;
}

static int refuse(sb_app *app, sb_server_request *req, int status, const char *code,
                  const char *message)
{
    json_t *d = json_pack("{s:s}", "reason", code);
    sb_api_audit_event ev = {"agent.enroll", "agent", "denied", "warning", d};
    sb_api_audit_now(app, req, &ev);
    json_decref(d);
    return sb_http_respond_error(req, status, code, "%s", message);
}

int sb_api_agent_enroll(sb_server_request *req, void *ctx)
{
    sb_app *app = ctx;
    const char *auth = sb_http_header(req, "Authorization");
    const char *token = auth && strncasecmp(auth, "Bearer ", 7) == 0 ? auth + 7 : NULL;
    sb_error err = {0};
    if (token == NULL ||
        sb_token_check_format(token, strlen(token), SB_TOKEN_PREFIX_ENROLLMENT, &err) != 0)
        return refuse(app, req, 401, "enrollment_token_invalid",
                      "an enrollment token is required: Authorization: Bearer sbe_… as minted by "
                      "an administrator for the provider connection");
    static const char *const allowed[] = {"connection", "name", "version", "public_key", NULL};
    json_t *body;
    const char *connection, *name, *version, *key;
    if (sb_agent_api_body(req, allowed, &body) != 0 ||
        string_field(req, body, "connection", 120, 1, &connection) != 0 ||
        string_field(req, body, "name", 100, 1, &name) != 0 ||
        string_field(req, body, "version", 64, 0, &version) != 0 ||
        string_field(req, body, "public_key", 64, 1, &key) != 0)
        return -1;
    unsigned char pk[32], token_hash[SB_TOKEN_HASH_BYTES], secret_hash[SB_TOKEN_HASH_BYTES];
    if (parse_public_key(key, pk) != 0)
        return refuse(app, req, 422, "invalid_public_key",
                      "public_key must be the standard base64 of a 32-byte X25519 public key");
    char *secret = sb_secure_alloc(SB_TOKEN_MAX);
    if (secret == NULL || sb_token_new(SB_TOKEN_PREFIX_AGENT, secret, SB_TOKEN_MAX, &err) != 0 ||
        sb_token_hash(secret, strlen(secret), app->token_pepper, SB_KEY_BYTES, secret_hash, &err) !=
            0 ||
        sb_token_hash(token, strlen(token), app->token_pepper, SB_KEY_BYTES, token_hash, &err) != 0) {
        sb_secure_release(secret);
        return sb_http_respond_error(req, 500, "internal", "cannot make an agent secret");
    }
    enroll_ctx c = {.req = req,
                    .e = {token_hash, secret_hash, connection, name, version, pk}};
    if (sb_db_transaction(app->db, enroll_txn, &c, &err) < 0) {
        sb_secure_release(secret);
        if (err.code == SB_DB_E_CHECK)
            return sb_http_respond_error(req, 422, "invalid_value",
                                         "name must be 1 to 100 of A-Z a-z 0-9 . _ - starting "
                                         "with a letter or digit");
        return sb_api_respond_store_error(req, &err);
    }
    static const struct {
        int status;
        const char *code, *message;
    } refusals[] = {
        [SB_ENROLL_TOKEN_UNKNOWN] = {401, "enrollment_token_invalid",
                                     "the enrollment token is not known; ask for a new one"},
        [SB_ENROLL_TOKEN_EXPIRED] = {401, "enrollment_token_expired",
                                     "the enrollment token has expired; ask for a new one"},
        [SB_ENROLL_TOKEN_USED] = {409, "enrollment_token_used",
                                  "the enrollment token was used already; tokens enroll one agent"},
        [SB_ENROLL_TOKEN_REVOKED] = {403, "enrollment_token_revoked",
                                     "the enrollment token was revoked by an administrator"},
        [SB_ENROLL_CONNECTION_MISMATCH] = {409, "enrollment_connection_mismatch",
                                           "the enrollment token was minted for another provider "
                                           "connection than the one this agent serves"},
        [SB_ENROLL_CONNECTION_UNAVAILABLE] = {409, "connection_unavailable",
                                              "the provider connection is disabled"},
    };
    if (c.result != SB_ENROLL_OK) {
        sb_secure_release(secret);
        return refuse(app, req, refusals[c.result].status, refusals[c.result].code,
                      refusals[c.result].message);
    }
    char credential[40 + SB_TOKEN_MAX];
    snprintf(credential, sizeof credential, "%s.%s", c.agent_id, secret);
    json_t *out = json_pack("{s:s, s:s, s:s, s:s, s:i, s:i, s:i}", "agent_id", c.agent_id,
                            "connection_id", c.connection_id, "agent_secret", secret,
                            "credential", credential, "heartbeat_interval_seconds", HEARTBEAT_S,
                            "lease_seconds", 30, "claim_wait_max_seconds", 25);
    sodium_memzero(credential, sizeof credential);
    sb_secure_release(secret);
    return sb_http_respond_json(req, 201, out);
}

/* capabilities: [{name, version}] (at most 64). */
static int check_capabilities(sb_server_request *req, json_t *caps)
{
    size_t i;
    json_t *c;
    if (!json_is_array(caps) || json_array_size(caps) > CAPABILITIES_MAX)
        return sb_http_respond_error(req, 400, "invalid_field",
                                     "capabilities must be an array of at most %d "
                                     "{\"name\", \"version\"} objects",
                                     CAPABILITIES_MAX),
               -1;
    json_array_foreach(caps, i, c)
    {
        json_t *n = json_object_get(c, "name"), *v = json_object_get(c, "version");
        if (!json_is_object(c) || json_object_size(c) != 2 || !json_is_string(n) ||
            !json_is_string(v) || json_string_length(n) == 0 || json_string_length(n) > 100 ||
            json_string_length(v) > 64)
            return sb_http_respond_error(req, 400, "invalid_field",
                                         "capabilities[%zu] must be {\"name\": 1..100 characters, "
                                         "\"version\": up to 64}",
                                         i),
                   -1;
    }
    return 0;
}

typedef struct beat_ctx {
    sb_server_request *req;
    const char *agent_id, *version;
    char *caps, *health;
    int activated;
    char *json;
} beat_ctx;

static int beat_txn(sb_db_conn *conn, void *p, sb_error *err)
{
    beat_ctx *b = p;
    free(b->json);
    b->json = NULL;
    int rc = sb_agent_store_heartbeat(conn, b->agent_id, b->version, b->caps, b->health,
                                      &b->activated, &b->json, err);
    if (rc != 0 || !b->activated)
        return rc;
    char resource[64];
    snprintf(resource, sizeof resource, "agent:%s", b->agent_id);
    sb_api_audit_event ev = {"agent.activate", resource, "success", NULL, NULL};
    return sb_api_audit(conn, b->req, &ev, err);
}

int sb_api_agent_heartbeat(sb_server_request *req, void *ctx)
{
    sb_app *app = ctx;
    const sb_agent_identity *a = sb_api_agent(req);
    static const char *const allowed[] = {"version", "capabilities", "health", NULL};
    json_t *body;
    const char *version;
    if (sb_agent_api_body(req, allowed, &body) != 0 ||
        string_field(req, body, "version", 64, 0, &version) != 0)
        return -1;
    json_t *caps = json_object_get(body, "capabilities"), *health = json_object_get(body, "health");
    if (caps && check_capabilities(req, caps) != 0)
        return -1;
    beat_ctx b = {.req = req, .agent_id = a->agent_id, .version = version};
    if (health) {
        b.health = json_dumps(health, JSON_COMPACT);
        if (!json_is_object(health) || b.health == NULL || strlen(b.health) > HEALTH_MAX) {
            free(b.health);
            return sb_http_respond_error(req, 400, "invalid_field",
                                         "health must be an object of at most %d bytes",
                                         HEALTH_MAX);
        }
    }
    b.caps = caps ? json_dumps(caps, JSON_COMPACT) : NULL;
    sb_error err = {0};
    int rc = sb_db_transaction(app->db, beat_txn, &b, &err);
    free(b.caps);
    free(b.health);
    if (rc < 0)
        return sb_api_respond_store_error(req, &err);
    if (rc == 1) /* revoked between the gate and here */
        return sb_http_respond_error(req, 403, "agent_revoked", "this agent has been revoked");
    json_t *agent = json_loads(b.json, 0, NULL);
    free(b.json);
    return sb_http_respond_json(req, 200,
                                json_pack("{s:s, s:i, s:o}", "status", "ok",
                                          "next_heartbeat_seconds", HEARTBEAT_S, "agent",
                                          agent ? agent : json_object()));
}
