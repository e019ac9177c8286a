/*
 * api/agent_auth.c — the gate of SB_AUTH_AGENT routes (see agent_api.h):
 * `Authorization: Bearer <agent uuid>.<sba_ secret>`, looked up by id,
 * compared as keyed hashes in constant time, revocation honoured at once.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api/agent_api.h"
#include "crypto/token.h"
#include "store/agent_store.h"
#include "store/rows.h"
#include "util/log.h"

const sb_agent_identity *sb_api_agent(const sb_server_request *req)
{
    const sb_identity *id = sb_api_identity(req);
    return id && id->method == SB_IDENTITY_AGENT ? (const sb_agent_identity *)id : NULL;
}

static int unauthenticated(sb_server_request *req)
{
    sb_http_set_header(req, "WWW-Authenticate", "Bearer realm=\"sbridge-agent\"");
    sb_http_respond_error(req, 401, "unauthenticated",
                          "agent credentials are required: Authorization: Bearer "
                          "<agent id>.<agent secret> as returned by POST /api/v1/agents/enroll");
    return 1;
}

/* Splits "Bearer <uuid>.<secret>"; 0 with id (37) and secret pointer. */
static int parse_credential(const char *h, char id[37], const char **secret)
{
    if (h == NULL || strncasecmp(h, "Bearer ", 7) != 0)
        return -1;
    const char *v = h + 7, *dot = strchr(v, '.');
    if (dot == NULL || dot - v != 36)
        return -1;
    char raw[37];
    memcpy(raw, v, 36);
    raw[36] = '\0';
    if (!sb_rows_uuid(raw, id))
        return -1;
    *secret = dot + 1;
    return 0;
}

int sb_api_agent_gate(sb_app *app, const sb_route *route, sb_server_request *req)
{
    (void)route;
    char id[37];
    const char *secret;
    if (parse_credential(sb_http_header(req, "Authorization"), id, &secret) != 0)
        return unauthenticated(req);
    sb_error err = {0};
    size_t len = strlen(secret);
    if (sb_token_check_format(secret, len, SB_TOKEN_PREFIX_AGENT, &err) != 0)
        return unauthenticated(req);
    unsigned char presented[SB_TOKEN_HASH_BYTES];
    if (sb_token_hash(secret, len, app->token_pepper, SB_KEY_BYTES, presented, &err) != 0)
        return unauthenticated(req);
    sb_db_conn *conn;
    if (sb_db_acquire(app->db, 5000, &conn, &err) != 0) {
        sb_api_respond_store_error(req, &err);
        return 1;
    }
    sb_agent_auth_row row;
    int rc = sb_agent_store_auth(conn, id, &row, &err);
    sb_db_release(app->db, conn);
    if (rc < 0) {
        sb_err("gate", "agent lookup failed: %s", err.message);
        sb_api_respond_store_error(req, &err);
        return 1;
    }
    if (rc == 1 || !sb_token_equal(presented, row.secret_hash, SB_TOKEN_HASH_BYTES))
        return unauthenticated(req);
    if (strcmp(row.status, "revoked") == 0) {
        sb_http_respond_error(req, 403, "agent_revoked",
                              "agent %s has been revoked; enroll a new agent with a fresh "
                              "enrollment token",
                              id);
        return 1;
    }
    const char *path_id = sb_http_param(req, "id");
    char want[37];
    if (path_id && (!sb_rows_uuid(path_id, want) || strcmp(want, id) != 0)) {
        sb_http_respond_error(req, 403, "agent_mismatch",
                              "an agent may act only on its own id; the path names another agent");
        return 1;
    }
    sb_agent_identity *a = calloc(1, sizeof *a);
    if (a == NULL) {
        sb_http_respond_error(req, 503, "unavailable", "out of memory");
        return 1;
    }
    a->base.method = SB_IDENTITY_AGENT;
    snprintf(a->base.username, sizeof a->base.username, "%s", id);
    snprintf(a->agent_id, sizeof a->agent_id, "%s", id);
    snprintf(a->connection_id, sizeof a->connection_id, "%s", row.connection_id);
    snprintf(a->name, sizeof a->name, "%s", row.name);
    sb_http_set_identity(req, a, free);
    return 0;
}
