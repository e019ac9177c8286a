/*
 * agent/enroll.c — first boot: enroll with a one-time token and keep the
 * identity (SPEC §9, docs/agent.md "Enrollment").
 *
 * Contract: sb_agent_identity_ensure checks the identity directory (0700)
 * before anything else, so a token is never spent when the identity could
 * not be kept safely. An existing identity file is loaded (0600) and must
 * belong to the configured connection. Without one, the token comes from
 * control_plane.enrollment_token (write it as ${env:…} or ${file:…}) or
 * else the SBRIDGE_ENROLLMENT_TOKEN environment variable (removed from the
 * environment once read); a fresh X25519 key pair is generated and its
 * public half registered by POST /api/v1/agents/enroll. Transient failures
 * (no answer, 5xx, 429) are retried with backoff until the agent stops; a
 * refusal (4xx) ends the start with the control plane's code and message.
 * When the identity cannot be written after a successful enrollment, the
 * error says loudly that the token is now consumed. The token, the
 * credential and the private key are never logged.
 */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>

#include "agent/agent_internal.h"
#include "crypto/secure_mem.h"
#include "util/log.h"

#define ENROLL_TIMEOUT_MS 15000

static char *token_copy(const sb_settings *s)
{
    const char *t = s->control_plane.enrollment_token;
    if (t && *t)
        return sb_secure_strdup(t, strlen(t));
    const char *env = getenv("SBRIDGE_ENROLLMENT_TOKEN");
    if (env == NULL || *env == '\0')
        return NULL;
    char *copy = sb_secure_strdup(env, strlen(env));
    unsetenv("SBRIDGE_ENROLLMENT_TOKEN"); /* not inherited by anything this process starts */
    return copy;
}

static char *request_body(sb_agent *a)
{
    char pk[64];
    sodium_bin2base64(pk, sizeof pk, a->identity.public_key, SB_AGENT_KEY_BYTES,
                      sodium_base64_VARIANT_ORIGINAL);
    json_t *j = json_pack("{s:s, s:s, s:s, s:s}", "connection", a->connection, "name", a->name,
                          "version", SB_VERSION_STRING, "public_key", pk);
    char *text = json_dumps(j, JSON_COMPACT);
    json_decref(j);
    return text;
}

/* Fills agent_id and credential from a 201. */
static int take_reply(sb_agent *a, const sb_agent_reply *r, sb_error *err)
{
    const sb_json_node *root = sb_json_root(r->json);
    size_t id_len = 0, cred_len = 0;
    const char *id = sb_json_string(sb_json_get(root, "agent_id"), &id_len);
    const char *cred = sb_json_string(sb_json_get(root, "credential"), &cred_len);
    if (id == NULL || id_len == 0 || id_len >= sizeof a->identity.agent_id || cred == NULL ||
        cred_len == 0)
        return sb_error_set(err, 1, "the control plane accepted the enrollment but its answer has "
                                    "no agent_id/credential; is %s a Secrets Bridge control plane of "
                                    "this version?",
                            a->base_url);
    memcpy(a->identity.agent_id, id, id_len + 1);
    a->identity.credential = sb_secure_strdup(cred, cred_len);
    return a->identity.credential ? 0 : sb_error_set(err, 1, "out of secure memory");
}

static int enroll(sb_agent *a, const char *token, sb_error *err)
{
    char *body = request_body(a);
    if (body == NULL)
        return sb_error_set(err, 1, "out of memory");
    int rc = -1;
    for (int attempt = 1;; attempt++) {
        if (atomic_load(&a->stopping)) {
            sb_error_set(err, SB_AGENT_E_STOPPED, "stopped before the enrollment succeeded");
            break;
        }
        sb_agent_reply r;
        int reached = sb_agent_cp_call(a, NULL, "POST", "/api/v1/agents/enroll", token, body,
                                       strlen(body), ENROLL_TIMEOUT_MS, &r);
        if (reached == 0 && r.status == 201) {
            rc = take_reply(a, &r, err);
            sb_agent_reply_free(&r);
            break;
        }
        if (reached != 0 && r.unusable) {
            sb_error_set(err, 1,
                         "cannot enroll at %s: %s; fix control_plane.url (https://, or http:// to "
                         "a loopback address only) or control_plane.ca_file",
                         a->base_url, r.message);
            break;
        }
        if (reached == 0 && r.status >= 400 && r.status < 500 && r.status != 429) {
            sb_error_set(err, 1,
                         "the control plane refused the enrollment: %ld %s: %s. Ask an "
                         "administrator for a new enrollment token for connection %s and start "
                         "again",
                         r.status, r.error_code[0] ? r.error_code : "error", r.message, a->connection);
            sb_agent_reply_free(&r);
            break;
        }
        int64_t wait = sb_agent_backoff_ms(attempt);
        if (reached == 0 && r.retry_after_ms > wait)
            wait = r.retry_after_ms;
        char why[320];
        if (reached == 0)
            snprintf(why, sizeof why, "HTTP %ld %s", r.status, r.error_code);
        else
            snprintf(why, sizeof why, "%s", r.message);
        sb_warn("agent", "enrollment at %s did not go through (%s); retrying in %lld ms",
                a->base_url, why, (long long)wait);
        sb_agent_reply_free(&r);
        sb_agent_sleep(a, wait);
    }
    free(body);
    return rc;
}

int sb_agent_identity_ensure(sb_agent *a, sb_error *err)
{
    const char *path = a->settings->control_plane.identity_file;
    if (sb_agent_identity_check_dir(path, err) != 0)
        return -1;
    int loaded = sb_agent_identity_load(path, &a->identity, err);
    if (loaded < 0)
        return -1;
    if (loaded == 0) {
        if (strcmp(a->identity.connection, a->connection) != 0)
            return sb_error_set(err, 1,
                                "identity file %s belongs to connection \"%s\" but this agent is "
                                "configured for \"%s\"; use another identity_file, or delete this "
                                "one and enroll with a token for \"%s\"",
                                path, a->identity.connection, a->connection, a->connection);
        sb_info("agent", "identity %s loaded: agent %s of connection %s", path,
                a->identity.agent_id, a->connection);
        atomic_store(&a->enrolled, 1);
        return 0;
    }
    char *token = token_copy(a->settings);
    if (token == NULL)
        return sb_error_set(err, 1,
                            "no identity file at %s and no enrollment token: set "
                            "control_plane.enrollment_token (as ${env:NAME} or ${file:/path}) or "
                            "SBRIDGE_ENROLLMENT_TOKEN to a token an administrator minted for "
                            "connection \"%s\" (sbridge docs: agent.md)",
                            path, a->connection);
    snprintf(a->identity.connection, sizeof a->identity.connection, "%s", a->connection);
    int rc = sb_agent_identity_new_keys(&a->identity, err);
    if (rc == 0)
        rc = enroll(a, token, err);
    sb_secure_release(token);
    if (rc != 0)
        return -1;
    sb_error werr = {0};
    if (sb_agent_identity_save(path, a->base_url, &a->identity, &werr) != 0)
        return sb_error_set(err, 1,
                            "ENROLLED AS AGENT %s BUT THE IDENTITY WAS NOT SAVED: %s. The "
                            "enrollment token is now consumed and cannot be used again: fix the "
                            "problem, ask an administrator to revoke agent %s and mint a new "
                            "token, then start again",
                            a->identity.agent_id, werr.message, a->identity.agent_id);
    sb_info("agent", "enrolled as agent %s of connection %s; identity written to %s (mode 0600)",
            a->identity.agent_id, a->connection, path);
    atomic_store(&a->enrolled, 1);
    return 0;
}
