/* test_domain_jobs.c — the job state table (every state x event), backoff
 * bounds and the steering-key rule (domain/job_rules.h). */
#include <criterion/criterion.h>

#include "domain/domain_error.h"
#include "domain/job_rules.h"

Test(domain_jobs, the_state_table_is_total_and_terminal_states_take_nothing)
{
    /* expected[from][event][exhausted]: the state, or -1 for refused */
    static const int expected[SB_JOB_STATE_COUNT][SB_JOB_EVENT_COUNT][2] = {
        [SB_JOB_QUEUED] = {{SB_JOB_LEASED, SB_JOB_LEASED}, {-1, -1}, {-1, -1}, {-1, -1}, {-1, -1},
                           {-1, -1}, {SB_JOB_FAILED, SB_JOB_FAILED}},
        [SB_JOB_LEASED] = {{-1, -1}, {SB_JOB_LEASED, SB_JOB_LEASED},
                           {SB_JOB_SUCCEEDED, SB_JOB_SUCCEEDED}, {SB_JOB_QUEUED, SB_JOB_FAILED},
                           {SB_JOB_FAILED, SB_JOB_FAILED}, {SB_JOB_QUEUED, SB_JOB_FAILED}, {-1, -1}},
        [SB_JOB_SUCCEEDED] = {{-1, -1}, {-1, -1}, {-1, -1}, {-1, -1}, {-1, -1}, {-1, -1}, {-1, -1}},
        [SB_JOB_FAILED] = {{-1, -1}, {-1, -1}, {-1, -1}, {-1, -1}, {-1, -1}, {-1, -1}, {-1, -1}},
    };
    for (int s = 0; s < SB_JOB_STATE_COUNT; s++)
        for (int e = 0; e < SB_JOB_EVENT_COUNT; e++)
            for (int x = 0; x < 2; x++) {
                sb_job_state to = SB_JOB_STATE_COUNT;
                sb_error err = {0};
                int rc = sb_job_transition((sb_job_state)s, (sb_job_event)e, x, &to, &err);
                if (expected[s][e][x] < 0) {
                    cr_assert_eq(rc, -1, "%s x %s", sb_job_state_name(s), sb_job_event_name(e));
                    cr_assert_eq(err.code, SB_DOMAIN_E_ILLEGAL_TRANSITION);
                } else {
                    cr_assert_eq(rc, 0, "%s x %s: %s", sb_job_state_name(s), sb_job_event_name(e),
                                 err.message);
                    cr_assert_eq((int)to, expected[s][e][x], "%s x %s (exhausted %d)",
                                 sb_job_state_name(s), sb_job_event_name(e), x);
                }
            }
}

Test(domain_jobs, backoff_doubles_is_capped_and_jitter_stays_within_half_to_full)
{
    cr_assert_eq(sb_job_backoff_ms(1, 0), 1000);
    cr_assert_eq(sb_job_backoff_ms(1, 1000), 2000);
    cr_assert_eq(sb_job_backoff_ms(3, 0), 4000);
    for (int n = 1; n < 40; n++)
        for (uint32_t j = 0; j < 100000; j += 7919) {
            int64_t d = sb_job_backoff_ms(n, j * 2654435761u);
            cr_assert_leq(d, SB_JOB_BACKOFF_CAP_MS);
            cr_assert_geq(d, n >= 9 ? SB_JOB_BACKOFF_CAP_MS / 2 : 1000);
        }
}

Test(domain_jobs, steering_keys_are_recognised_and_references_are_not)
{
    const char *steer[] = {"address", "URL", "vault_addr_url", "endpoint", "Region", "role",
                           "roleArn", "namespace", "token", "token_path", "mount", "kv-mount",
                           "auth", "credentials", "target_provider_config", "service_endpoint"};
    for (size_t i = 0; i < sizeof steer / sizeof steer[0]; i++)
        cr_assert(sb_job_key_steers(steer[i]), "%s steers", steer[i]);
    const char *fine[] = {"request_id", "secret_ref", "keys", "operation", "selector", "prefix",
                          "labels"};
    for (size_t i = 0; i < sizeof fine / sizeof fine[0]; i++)
        cr_assert(!sb_job_key_steers(fine[i]), "%s does not steer", fine[i]);
    cr_assert(sb_job_type_known("read") && sb_job_type_known("patch") &&
              sb_job_type_known("discover"));
    cr_assert(!sb_job_type_known("sync") && !sb_job_type_known("verify") && !sb_job_type_known(NULL));
}
