/*
 * plugins/awssm/awssm_creds.c — the credential chain and its cache.
 *
 * Contract:
 *   - `credentials: chain` (default) tries, in order, the static keys of the
 *     instance config, the environment (AWS_ACCESS_KEY_ID, ...), the shared
 *     credentials/config files for the profile, web identity (a role ARN and
 *     token file from the config or AWS_ROLE_ARN / AWS_WEB_IDENTITY_TOKEN_FILE
 *     -> STS AssumeRoleWithWebIdentity), the container credentials endpoint
 *     (AWS_CONTAINER_CREDENTIALS_*) and IMDSv2; the first source that has
 *     credentials wins, a source that has none is skipped, a source that has
 *     some but fails stops the chain with its status. The other modes use
 *     exactly one source.
 *   - With `role_arn` the chain's credentials only sign an STS AssumeRole;
 *     requests are signed with the role's credentials.
 *   - Credentials are cached per instance and resolved again
 *     AWSSM_REFRESH_BEFORE_MS before they expire; when that refresh fails
 *     and the old ones are still valid, they are used and the failure logged.
 *   - Everything lives in secure buffers allocated at instance_new.
 */
#include "awssm.h"

#include <string.h>

int awssm_creds_init(awssm_creds *c)
{
    const sb_host_api *h = awssm_host;
    memset(c, 0, sizeof *c);
    c->access_key_id = h->secure_new(32);
    c->secret_key = h->secure_new(64);
    c->session_token = h->secure_new(1024);
    return c->access_key_id && c->secret_key && c->session_token ? 0 : -1;
}

void awssm_creds_clear(awssm_creds *c)
{
    const sb_host_api *h = awssm_host;
    if (c->access_key_id)
        h->secure_clear(c->access_key_id);
    if (c->secret_key)
        h->secure_clear(c->secret_key);
    if (c->session_token)
        h->secure_clear(c->session_token);
    c->expires_unix_ms = 0;
    c->source = NULL;
}

void awssm_creds_free(awssm_creds *c)
{
    const sb_host_api *h = awssm_host;
    if (h == NULL)
        return;
    h->secure_free(c->access_key_id);
    h->secure_free(c->secret_key);
    h->secure_free(c->session_token);
    memset(c, 0, sizeof *c);
}

static int have(const awssm_creds *c)
{
    size_t a = 0, s = 0;
    awssm_host->secure_data(c->access_key_id, &a);
    awssm_host->secure_data(c->secret_key, &s);
    return a > 0 && s > 0;
}

static int fresh(const awssm_creds *c)
{
    if (!have(c))
        return 0;
    return c->expires_unix_ms == 0 ||
           awssm_host->now_unix_ms() + AWSSM_REFRESH_BEFORE_MS < c->expires_unix_ms;
}

static int still_valid(const awssm_creds *c)
{
    return have(c) && (c->expires_unix_ms == 0 || awssm_host->now_unix_ms() < c->expires_unix_ms);
}

void awssm_creds_forget(awssm_instance *ai)
{
    awssm_creds_clear(&ai->base);
    awssm_creds_clear(&ai->role);
}

/* Runs one source; SB_E_NOT_FOUND (nothing there) leaves res untouched. */
static sb_status run_source(awssm_instance *ai, const sb_call *call, awssm_cred_mode which,
                            awssm_creds *c, sb_result *res)
{
    switch (which) {
    case AWSSM_CREDS_STATIC:
        return awssm_src_static(ai, c, res);
    case AWSSM_CREDS_ENV:
        return awssm_src_env(c, res);
    case AWSSM_CREDS_PROFILE:
        return awssm_src_profile(ai, call, c, res);
    case AWSSM_CREDS_WEB_IDENTITY:
        return awssm_src_web_identity(ai, call, c, res);
    case AWSSM_CREDS_CONTAINER:
        return awssm_src_container(ai, call, c, res);
    case AWSSM_CREDS_IMDS:
        return awssm_src_imds(ai, call, c, res);
    default:
        return SB_E_NOT_FOUND;
    }
}

static sb_status resolve_base(awssm_instance *ai, const sb_call *call, awssm_creds *c,
                               sb_result *res)
{
    const sb_host_api *h = awssm_host;
    static const awssm_cred_mode chain[] = {AWSSM_CREDS_STATIC, AWSSM_CREDS_ENV,
                                            AWSSM_CREDS_PROFILE, AWSSM_CREDS_WEB_IDENTITY,
                                            AWSSM_CREDS_CONTAINER, AWSSM_CREDS_IMDS};
    if (ai->mode != AWSSM_CREDS_CHAIN) {
        awssm_creds_clear(c);
        sb_status st = run_source(ai, call, ai->mode, c, res);
        if (st == SB_E_NOT_FOUND)
            return h->fail(res, SB_E_CONFIG, 0,
                           "credentials: the configured source has no credentials (see "
                           "docs/plugins/awssm.md)");
        if (st != SB_OK)
            awssm_creds_clear(c);
        return st;
    }
    for (size_t i = 0; i < sizeof chain / sizeof chain[0]; i++) {
        awssm_creds_clear(c);
        sb_result scratch = SB_RESULT_INIT;
        sb_status st = run_source(ai, call, chain[i], c, &scratch);
        if (st != SB_OK && st != SB_E_NOT_FOUND) {
            awssm_creds_clear(c);
            /* the last link (IMDS) unreachable: maybe transient on EC2 */
            if (chain[i] == AWSSM_CREDS_IMDS && SB_STATUS_IS_RETRYABLE(st))
                h->fail(res, st, scratch.retry_after_ms,
                        "credentials: none in the instance config, environment, shared files, "
                        "web identity or container settings, and IMDSv2 could not be reached "
                        "(%s)",
                        scratch.message);
            else
                h->fail(res, st, scratch.retry_after_ms, "%s", scratch.message);
        }
        h->result_release(&scratch);
        if (st != SB_E_NOT_FOUND)
            return st;
    }
    awssm_creds_clear(c);
    return h->fail(res, SB_E_CONFIG, 0,
                   "credentials: none found (instance config, environment, shared files, web "
                   "identity, container endpoint, IMDSv2)");
}

/* Re-resolves `c` (the base set, or with `role` the AssumeRole set on top
 * of a fresh base) when it is not fresh; keeps still-valid old credentials
 * when the refresh fails. */
static sb_status refresh(awssm_instance *ai, const sb_call *call, awssm_creds *c, int role,
                         sb_result *res)
{
    const sb_host_api *h = awssm_host;
    if (fresh(c))
        return SB_OK;
    int keep = still_valid(c);
    sb_result scratch = SB_RESULT_INIT;
    sb_result *target = keep ? &scratch : res;
    sb_status st = role ? refresh(ai, call, &ai->base, 0, target) : SB_OK;
    if (st == SB_OK) {
        /* resolve into a scratch set so that a failure keeps the old one */
        awssm_creds tmp;
        if (awssm_creds_init(&tmp) != 0) {
            awssm_creds_free(&tmp);
            st = h->fail(target, SB_E_INTERNAL, 0, "credentials: out of secure memory");
        } else {
            st = role ? awssm_src_assume_role(ai, call, &ai->base, &tmp, target)
                      : resolve_base(ai, call, &tmp, target);
            if (st == SB_OK) {
                awssm_creds_free(c);
                *c = tmp;
            } else {
                awssm_creds_free(&tmp);
            }
        }
    }
    if (st != SB_OK && keep) {
        h->log(SB_LOG_WARN, call,
               "awssm: refreshing credentials failed (%s); using the current ones until they "
               "expire",
               scratch.message);
        st = SB_OK;
    }
    h->result_release(&scratch);
    return st;
}

sb_status awssm_creds_get(awssm_instance *ai, const sb_call *call, const awssm_creds **out,
                          sb_result *res)
{
    sb_status st = refresh(ai, call, ai->role_arn ? &ai->role : &ai->base, ai->role_arn != NULL,
                           res);
    *out = st == SB_OK ? (ai->role_arn ? &ai->role : &ai->base) : NULL;
    return st;
}
