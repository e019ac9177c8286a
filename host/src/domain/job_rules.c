/* domain/job_rules.c — see job_rules.h. */
#include "domain/job_rules.h"

#include <ctype.h>
#include <string.h>

#include "domain/domain_error.h"

static const char *const state_names[SB_JOB_STATE_COUNT] = {"queued", "leased", "succeeded",
                                                           "failed"};
static const char *const event_names[SB_JOB_EVENT_COUNT] = {
    "claim", "renew", "succeeded", "failed_retryable", "failed_permanent", "lease_expired",
    "unknown_type"};

#define NONE SB_JOB_STATE_COUNT /* not a transition */
#define RETRY (SB_JOB_STATE_COUNT + 1) /* queued, or failed when exhausted */

/* state x event -> state (NONE: refused; RETRY: depends on the attempts). */
static const unsigned table[SB_JOB_STATE_COUNT][SB_JOB_EVENT_COUNT] = {
    /*             claim          renew      succeeded         retryable permanent     expired unknown */
    [SB_JOB_QUEUED] = {SB_JOB_LEASED, NONE, NONE, NONE, NONE, NONE, SB_JOB_FAILED},
    [SB_JOB_LEASED] = {NONE, SB_JOB_LEASED, SB_JOB_SUCCEEDED, RETRY, SB_JOB_FAILED, RETRY, NONE},
    [SB_JOB_SUCCEEDED] = {NONE, NONE, NONE, NONE, NONE, NONE, NONE},
    [SB_JOB_FAILED] = {NONE, NONE, NONE, NONE, NONE, NONE, NONE},
};

const char *sb_job_state_name(sb_job_state s)
{
    return (unsigned)s < SB_JOB_STATE_COUNT ? state_names[s] : "unknown";
}

const char *sb_job_event_name(sb_job_event e)
{
    return (unsigned)e < SB_JOB_EVENT_COUNT ? event_names[e] : "unknown";
}

int sb_job_state_parse(const char *name, sb_job_state *out)
{
    for (unsigned i = 0; name && i < SB_JOB_STATE_COUNT; i++)
        if (strcmp(name, state_names[i]) == 0) {
            *out = (sb_job_state)i;
            return 0;
        }
    return -1;
}

int sb_job_transition(sb_job_state from, sb_job_event ev, bool exhausted, sb_job_state *to,
                      sb_error *err)
{
    if ((unsigned)from >= SB_JOB_STATE_COUNT || (unsigned)ev >= SB_JOB_EVENT_COUNT)
        return sb_error_set(err, SB_DOMAIN_E_INVALID, "no such job state or event");
    unsigned next = table[from][ev];
    if (next == NONE)
        return sb_error_set(err, SB_DOMAIN_E_ILLEGAL_TRANSITION, "a %s job does not take %s",
                            state_names[from], event_names[ev]);
    *to = next == RETRY ? (exhausted ? SB_JOB_FAILED : SB_JOB_QUEUED) : (sb_job_state)next;
    return 0;
}

int64_t sb_job_backoff_ms(int attempts, uint32_t jitter)
{
    int64_t d = SB_JOB_BACKOFF_BASE_MS;
    for (int i = 1; i < attempts && d < SB_JOB_BACKOFF_CAP_MS; i++)
        d *= 2;
    if (d > SB_JOB_BACKOFF_CAP_MS)
        d = SB_JOB_BACKOFF_CAP_MS;
    int64_t half = d / 2;
    return half + (int64_t)(jitter % (uint32_t)(half + 1));
}

bool sb_job_type_known(const char *type)
{
    return type && (strcmp(type, "read") == 0 || strcmp(type, "patch") == 0 ||
                    strcmp(type, "discover") == 0);
}

/* lower case, without '_' and '-' */
static void fold(const char *in, char *out, size_t cap)
{
    size_t n = 0;
    for (; *in && n + 1 < cap; in++)
        if (*in != '_' && *in != '-')
            out[n++] = (char)tolower((unsigned char)*in);
    out[n] = '\0';
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);
    return a > b && strcmp(s + a - b, suffix) == 0;
}

bool sb_job_key_steers(const char *key)
{
    static const char *const exact[] = {
        "address", "url", "endpoint", "host", "region", "role", "rolearn", "namespace", "token",
        "tokenpath", "mount", "kvmount", "kvprefix", "auth", "credentials", "providerconfig",
        "config", "targetproviderconfig", "targetprovidertype"};
    if (key == NULL)
        return false;
    char f[128];
    fold(key, f, sizeof f);
    for (size_t i = 0; i < sizeof exact / sizeof exact[0]; i++)
        if (strcmp(f, exact[i]) == 0)
            return true;
    return ends_with(f, "url") || ends_with(f, "endpoint") || ends_with(f, "token") ||
           ends_with(f, "address");
}
