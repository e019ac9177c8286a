/*
 * agent/cp_client.c — the agent's HTTP calls to the control plane, through
 * the host's libcurl client (plugin/http_client.h: TLS >= 1.2 with
 * verification, plain http only to loopback, no redirects, bodies in secure
 * memory, cancellable). The credential travels only in the Authorization
 * header, built in secure memory; no header, body or value is logged.
 */
#include <stdio.h>
#include <string.h>

#include "agent/agent.h"
#include "agent/agent_internal.h"
#include "crypto/secure_mem.h"
#include "plugin/http_client.h"
#include "plugin/text.h"
#include "util/log.h"

#define MAX_REPLY_BYTES (8u * 1024 * 1024)

/* The one place that reads the ABI's result message (its type is the ABI's). */
static void copy_result(sb_result *res, char *out, size_t cap)
{
    snprintf(out, cap, "%s", res->message && res->message[0] ? res->message : "no answer");
    sb_result_release(res);
}

static void read_error(sb_agent_reply *r)
{
    const sb_json_node *e = sb_json_get(sb_json_root(r->json), "error");
    size_t len;
    const char *code = sb_json_string(sb_json_get(e, "code"), &len);
    const char *msg = sb_json_string(sb_json_get(e, "message"), &len);
    if (code)
        snprintf(r->error_code, sizeof r->error_code, "%s", code);
    if (msg)
        snprintf(r->message, sizeof r->message, "%s", msg);
}

int sb_agent_cp_call(sb_agent *a, sb_call_ctx *call, const char *method, const char *path,
                     const char *bearer, const void *body, size_t body_len, int64_t timeout_ms,
                     sb_agent_reply *out)
{
    memset(out, 0, sizeof *out);
    char url[1400];
    snprintf(url, sizeof url, "%s%s", a->base_url, path);
    sb_call_ctx local;
    if (call == NULL) {
        call = &local;
        sb_call_begin(call, "agent", "control_plane", NULL, timeout_ms);
    }
    char *auth = NULL;
    sb_kv headers[3] = {{"Content-Type", "application/json"}, {"Accept", "application/json"}};
    size_t n_headers = 2;
    if (bearer) {
        size_t cap = strlen(bearer) + 8;
        auth = sb_secure_alloc(cap);
        if (auth == NULL) {
            snprintf(out->message, sizeof out->message, "out of secure memory");
            return -1;
        }
        snprintf(auth, cap, "Bearer %s", bearer);
        headers[n_headers++] = (sb_kv){"Authorization", auth};
    }
    sb_http_request req = {.struct_size = sizeof req,
                           .flags = SB_HTTP_BODY_SECRET,
                           .method = method,
                           .url = url,
                           .headers = headers,
                           .n_headers = n_headers,
                           .body = body,
                           .body_len = body_len,
                           .timeout_ms = (uint32_t)timeout_ms,
                           .max_response_bytes = MAX_REPLY_BYTES,
                           .ca_file = a->settings->control_plane.ca_file,
                           .metric_op = "control_plane"};
    sb_http_response resp = {.struct_size = sizeof resp};
    sb_result res = SB_RESULT_INIT;
    sb_status st = sb_http_perform(&call->call, &req, &resp, &res);
    sb_secure_release(auth);
    if (st != SB_OK) {
        copy_result(&res, out->message, sizeof out->message);
        out->unusable = st == SB_E_INVALID || st == SB_E_CONFIG;
        sb_agent_contact(a, 0);
        return -1;
    }
    out->status = resp.status;
    out->retry_after_ms = resp.retry_after_ms;
    size_t len = 0;
    const unsigned char *data = resp.body ? sb_secure_data(resp.body, &len) : NULL;
    if (data && len > 0) {
        sb_error perr = {0};
        if (sb_json_parse(data, len, &out->json, &perr) != 0)
            out->json = NULL;
    }
    sb_http_response_release(&resp);
    if (out->status >= 400)
        read_error(out);
    /* a 5xx is the control plane (or its proxy) in trouble: not a contact */
    sb_agent_contact(a, out->status < 500);
    return 0;
}

void sb_agent_reply_free(sb_agent_reply *r)
{
    if (r == NULL)
        return;
    sb_json_free(r->json);
    r->json = NULL;
}

int sb_agent_reply_refused(const sb_agent_reply *r)
{
    return r->status == 401 ||
           (r->status == 403 && (strcmp(r->error_code, "agent_revoked") == 0 ||
                                 strcmp(r->error_code, "agent_mismatch") == 0));
}

void sb_agent_refused(sb_agent *a, const char *during, const sb_agent_reply *r)
{
    int expected = 0;
    if (atomic_compare_exchange_strong(&a->exit_code, &expected, SB_AGENT_EXIT_REFUSED)) {
        if (strcmp(r->error_code, "agent_revoked") == 0)
            sb_err("agent",
                   "the control plane revoked agent %s (%s answered 403 agent_revoked): stopping. "
                   "An administrator revoked it; to serve connection %s again, delete %s and start "
                   "with a new enrollment token",
                   a->identity.agent_id, during, a->connection,
                   a->settings->control_plane.identity_file);
        else
            sb_err("agent",
                   "the control plane refused agent %s's credential (%s answered %ld %s): "
                   "stopping. The identity file %s does not match an agent this control plane "
                   "knows (another control plane, or a reset database); delete it and start with "
                   "a new enrollment token",
                   a->identity.agent_id, during, r->status, r->error_code,
                   a->settings->control_plane.identity_file);
    }
    sb_agent_stop(a);
}

void sb_agent_unusable(sb_agent *a, const sb_agent_reply *r)
{
    int expected = 0;
    if (atomic_compare_exchange_strong(&a->exit_code, &expected, SB_AGENT_EXIT_FAILURE))
        sb_err("agent",
               "control_plane.url %s cannot be used (%s); fix control_plane.url (https://, or "
               "http:// to a loopback address only) or control_plane.ca_file and start again",
               a->base_url, r->message);
    sb_agent_stop(a);
}
