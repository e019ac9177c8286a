/*
 * api/agent_routes.c — sb_api_agent_routes: enrollment tokens, agent
 * enrollment, the admin view of agents and revocation, heartbeats.
 *
 * Contract:
 *   - Minting and revoking enrollment tokens needs a global agent.mint;
 *     listing and reading agents a global agent.list; revoking an agent a
 *     global agent.revoke (403 forbidden otherwise). A token is minted for
 *     one active provider connection, lives ttl_seconds (60..86400,
 *     default 900), is shown once in the 201 response and stored as a
 *     keyed hash.
 *   - Revoking an agent takes effect on its next request (the gate reads
 *     the row every time: no cache). Responses never carry a credential
 *     hash. One audit event per change, in its transaction:
 *     agent.enrollment_token.create / .revoke (resource
 *     "connection:<id>" / "enrollment_token:<id>"), agent.revoke.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/agent_api.h"
#include "crypto/secure_mem.h"
#include "crypto/token.h"
#include "store/agent_store.h"
#include "store/rows.h"

#define TOKEN_TTL_DEFAULT 900

typedef struct mint_ctx {
    sb_server_request *req;
    const char *connection_id, *user_id, *hint;
    const unsigned char *hash;
    int ttl;
    char *json;
} mint_ctx;

static int mint_txn(sb_db_conn *conn, void *p, sb_error *err)
{
    mint_ctx *m = p;
    free(m->json);
    m->json = NULL;
    int rc = sb_agent_store_token_create(conn, m->connection_id, m->hash, m->hint, m->user_id,
                                         m->ttl, &m->json, err);
    if (rc != 0)
        return rc;
    char resource[64];
    snprintf(resource, sizeof resource, "connection:%s", m->connection_id);
    json_t *d = json_pack("{s:i, s:s}", "ttl_seconds", m->ttl, "display_hint", m->hint);
    sb_api_audit_event ev = {"agent.enrollment_token.create", resource, "success", NULL, d};
    rc = sb_api_audit(conn, m->req, &ev, err);
    json_decref(d);
    return rc;
}

static int h_mint(sb_server_request *req, void *ctx)
{
    sb_app *app = ctx;
    char cid[37];
    if (!sb_api_allowed_globally(req, SB_PERM_AGENT_MINT, "agent.mint") ||
        sb_api_path_uuid(req, "provider connection", cid) != 0)
        return -1;
    static const char *const allowed[] = {"ttl_seconds", NULL};
    json_t *body;
    if (sb_agent_api_body(req, allowed, &body) != 0)
        return -1;
    json_t *t = json_object_get(body, "ttl_seconds");
    json_int_t ttl = t ? (json_is_integer(t) ? json_integer_value(t) : -1) : TOKEN_TTL_DEFAULT;
    if (ttl < 60 || ttl > 86400)
        return sb_http_respond_error(req, 400, "invalid_field",
                                     "ttl_seconds must be an integer from 60 to 86400");
    char *token = sb_secure_alloc(SB_TOKEN_MAX);
    unsigned char hash[SB_TOKEN_HASH_BYTES];
    sb_error err = {0};
    if (token == NULL || sb_token_new(SB_TOKEN_PREFIX_ENROLLMENT, token, SB_TOKEN_MAX, &err) != 0 ||
        sb_token_hash(token, strlen(token), app->token_pepper, SB_KEY_BYTES, hash, &err) != 0) {
        sb_secure_release(token);
        return sb_http_respond_error(req, 500, "internal", "cannot make a token");
    }
    char hint[16];
    snprintf(hint, sizeof hint, "%.8s…", token);
    mint_ctx m = {req, cid, sb_api_identity(req)->user_id, hint, hash, (int)ttl, NULL};
    int rc = sb_db_transaction(app->db, mint_txn, &m, &err);
    if (rc != 0) {
        sb_secure_release(token);
        free(m.json);
        if (rc < 0)
            return sb_api_respond_store_error(req, &err);
        return rc == 1 ? sb_http_respond_error(req, 404, "not_found", "no such provider connection")
                       : sb_http_respond_error(req, 409, "connection_unavailable",
                                               "the provider connection is disabled; enable it "
                                               "before enrolling agents for it");
    }
    json_t *out = json_loads(m.json, 0, NULL);
    free(m.json);
    if (out)
        json_object_set_new(out, "token", json_string(token));
    sb_secure_release(token);
    return out ? sb_http_respond_json(req, 201, out)
               : sb_http_respond_error(req, 500, "internal", "cannot read the token row");
}

typedef struct change_ctx {
    sb_server_request *req;
    const char *id, *user_id;
    int token; /* 1: revoke a token; 0: revoke an agent */
    char *json;
} change_ctx;

static int revoke_txn(sb_db_conn *conn, void *p, sb_error *err)
{
    change_ctx *c = p;
    free(c->json);
    c->json = NULL;
    int rc = c->token ? sb_agent_store_token_revoke(conn, c->id, &c->json, err)
                      : sb_agent_store_revoke(conn, c->id, c->user_id, &c->json, err);
    if (rc != 0)
        return rc;
    char resource[80];
    snprintf(resource, sizeof resource, "%s:%s", c->token ? "enrollment_token" : "agent", c->id);
    sb_api_audit_event ev = {c->token ? "agent.enrollment_token.revoke" : "agent.revoke", resource,
                             "success", c->token ? NULL : "warning", NULL};
    return sb_api_audit(conn, c->req, &ev, err);
}

static int revoke(sb_server_request *req, sb_app *app, int token)
{
    char id[37];
    if (!(token ? sb_api_allowed_globally(req, SB_PERM_AGENT_MINT, "agent.mint")
                : sb_api_allowed_globally(req, SB_PERM_AGENT_REVOKE, "agent.revoke")) ||
        sb_api_path_uuid(req, token ? "enrollment token" : "agent", id) != 0)
        return -1;
    change_ctx c = {req, id, sb_api_identity(req)->user_id, token, NULL};
    sb_error err = {0};
    int rc = sb_db_transaction(app->db, revoke_txn, &c, &err);
    if (rc < 0)
        return sb_api_respond_store_error(req, &err);
    if (rc == 1)
        return sb_http_respond_error(req, 404, "not_found", "no such %s",
                                     token ? "enrollment token" : "agent");
    if (rc == 2)
        return token ? sb_http_respond_error(req, 409, "token_closed",
                                             "the enrollment token was already used or revoked")
                     : sb_http_respond_error(req, 409, "already_revoked",
                                             "the agent is revoked already");
    return sb_agent_api_respond_text(req, 200, c.json);
}

static int h_token_revoke(sb_server_request *req, void *ctx) { return revoke(req, ctx, 1); }
static int h_agent_revoke(sb_server_request *req, void *ctx) { return revoke(req, ctx, 0); }

static int h_agent_get(sb_server_request *req, void *ctx)
{
    char id[37];
    if (!sb_api_allowed_globally(req, SB_PERM_AGENT_LIST, "agent.list") || sb_api_path_uuid(req, "agent", id) != 0)
        return -1;
    return sb_api_respond_read(ctx, req, id, "agent", sb_agent_store_get);
}

static int h_agent_list(sb_server_request *req, void *ctx)
{
    sb_app *app = ctx;
    if (!sb_api_allowed_globally(req, SB_PERM_AGENT_LIST, "agent.list"))
        return -1;
    sb_api_page page;
    if (sb_api_page_parse(req, &page) != 0)
        return -1;
    const char *conn_q = sb_http_query(req, "connection_id"), *status = sb_http_query(req, "status");
    char cid[37];
    if (conn_q && !sb_rows_uuid(conn_q, cid))
        return sb_http_respond_error(req, 400, "invalid_query", "connection_id must be a uuid");
    if (status && strcmp(status, "enrolled") != 0 && strcmp(status, "active") != 0 &&
        strcmp(status, "stale") != 0 && strcmp(status, "revoked") != 0)
        return sb_http_respond_error(req, 400, "invalid_query",
                                     "status must be enrolled, active, stale or revoked");
    char after[37] = "";
    if (page.after[0] && !sb_rows_uuid(page.after, after))
        return sb_http_respond_error(req, 400, "invalid_cursor", "the cursor is not valid");
    sb_db_conn *conn;
    sb_error err = {0};
    char *json = NULL;
    if (sb_db_acquire(app->db, 5000, &conn, &err) != 0)
        return sb_api_respond_store_error(req, &err);
    int rc = sb_agent_store_list(conn, conn_q ? cid : NULL, status, after, page.limit + 1, &json,
                                 &err);
    sb_db_release(app->db, conn);
    if (rc != 0)
        return sb_api_respond_store_error(req, &err);
    json_t *items = json_loads(json, 0, NULL);
    free(json);
    if (!json_is_array(items))
        return json_decref(items), sb_http_respond_error(req, 500, "internal", "cannot list");
    json_t *out = json_object();
    if (json_array_size(items) > (size_t)page.limit) {
        json_array_remove(items, (size_t)page.limit);
        char cursor[160];
        const char *last = json_string_value(
            json_object_get(json_array_get(items, (size_t)page.limit - 1), "id"));
        sb_api_cursor_encode(last ? last : "", cursor, sizeof cursor);
        json_object_set_new(out, "next_cursor", json_string(cursor));
    }
    json_object_set_new(out, "items", items);
    return sb_http_respond_json(req, 200, out);
}

/* The keys patch values are sealed to. Public keys are not secrets: any
 * signed-in user who may submit a request needs them, so no permission
 * beyond a session is asked. */
static int h_agent_keys(sb_server_request *req, void *ctx)
{
    char cid[37];
    if (sb_api_path_uuid(req, "provider connection", cid) != 0)
        return -1;
    return sb_api_respond_read(ctx, req, cid, "provider connection", sb_agent_store_recipients);
}

int sb_api_agent_routes(sb_router *r, sb_app *app, sb_error *err)
{
    const sb_route routes[] = {
        {"POST", "/api/v1/provider-connections/{id}/agent-enrollment-tokens", SB_AUTH_SESSION,
         "agent.mint", h_mint, app, "mintAgentEnrollmentToken",
         "Mint a one-time enrollment token for an agent of this connection"},
        {"POST", "/api/v1/agent-enrollment-tokens/{id}/revoke", SB_AUTH_SESSION, "agent.mint",
         h_token_revoke, app, "revokeAgentEnrollmentToken", "Revoke an unused enrollment token"},
        {"POST", "/api/v1/agents/enroll", SB_AUTH_PUBLIC, NULL, sb_api_agent_enroll, app,
         "enrollAgent", "Enroll an agent with an enrollment token (returns its secret once)"},
        {"GET", "/api/v1/agents", SB_AUTH_SESSION, "agent.list", h_agent_list, app, "listAgents",
         "List agents"},
        {"GET", "/api/v1/agents/{id}", SB_AUTH_SESSION, "agent.list", h_agent_get, app, "getAgent",
         "An agent's status, version, capabilities and health"},
        {"POST", "/api/v1/agents/{id}/revoke", SB_AUTH_SESSION, "agent.revoke", h_agent_revoke, app,
         "revokeAgent", "Revoke an agent (refused at once)"},
        {"GET", "/api/v1/provider-connections/{id}/agent-keys", SB_AUTH_SESSION, NULL, h_agent_keys,
         app, "listAgentKeys",
         "Public keys of the connection's live agents (seal patch values to each of them)"},
        {"POST", "/api/v1/agents/{id}/heartbeat", SB_AUTH_AGENT, NULL, sb_api_agent_heartbeat, app,
         "agentHeartbeat", "Agent liveness, version, capabilities and health"},
    };
    return sb_router_add_all(r, routes, sizeof routes / sizeof routes[0], err);
}
