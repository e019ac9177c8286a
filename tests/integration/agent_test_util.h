/*
 * agent_test_util.h — what the agent-protocol tests share (on top of
 * request_test_util.h): minting enrollment tokens, enrolling agents with
 * fresh X25519 keys, calling agent routes with the agent credential, and
 * an approved read request whose job lands on the Vault connection.
 */
#ifndef SB_TESTS_AGENT_TEST_UTIL_H
#define SB_TESTS_AGENT_TEST_UTIL_H

#include <pthread.h>
#include <time.h>

#include "api/agent_api.h"
#include "service/job_writer.h"
#include "request_test_util.h"

typedef struct test_agent {
    char id[40];
    char cred[160];
} test_agent;

static inline int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static inline void fresh_key(char *b64, size_t cap)
{
    unsigned char pk[32], sk[32];
    crypto_box_keypair(pk, sk);
    sodium_bin2base64(b64, cap, pk, sizeof pk, sodium_base64_VARIANT_ORIGINAL);
}

/* A token for connection; its value into token, its id into id (may be NULL). */
static inline void mint(const char *connection, char *token, size_t cap, char *id)
{
    sb_api_response r;
    long st = callf(admin, "POST",
                    path3("/api/v1/provider-connections/", connection, "/agent-enrollment-tokens"),
                    &r, "{}");
    cr_assert_eq(st, 201, "mint: %s", r.body);
    snprintf(token, cap, "%s", json_string_value(json_object_get(r.json, "token")));
    if (id)
        id_of(&r, id);
    else
        sb_api_response_free(&r);
}

/* POST /agents/enroll with the token in Authorization; the status. */
static inline long enroll_raw(const char *token, const char *connection, const char *name,
                              const char *key, sb_api_response *out)
{
    char body[512];
    snprintf(body, sizeof body,
             "{\"connection\":\"%s\",\"name\":\"%s\",\"version\":\"1.0.0\",\"public_key\":\"%s\"}",
             connection, name, key);
    return sb_api_call(h, "POST", "/api/v1/agents/enroll", body, NULL, token, out);
}

static inline void enroll(const char *connection_id, const char *connection_name,
                          const char *name, test_agent *a)
{
    char token[128], key[64];
    mint(connection_id, token, sizeof token, NULL);
    fresh_key(key, sizeof key);
    sb_api_response r;
    long st = enroll_raw(token, connection_name, name, key, &r);
    cr_assert_eq(st, 201, "enroll: %s", r.body);
    snprintf(a->id, sizeof a->id, "%s", json_string_value(json_object_get(r.json, "agent_id")));
    snprintf(a->cred, sizeof a->cred, "%s",
             json_string_value(json_object_get(r.json, "credential")));
    sb_api_response_free(&r);
}

/* An agent route: /api/v1/agents/<id><suffix>. */
static inline long agent_call_on(sb_api_harness *hh, const test_agent *a, const char *suffix,
                                 const char *body, sb_api_response *out)
{
    char path[256];
    snprintf(path, sizeof path, "/api/v1/agents/%s%s", a->id, suffix);
    sb_api_response r;
    long st = sb_api_call(hh, "POST", path, body, NULL, a->cred, &r);
    if (out)
        *out = r;
    else
        sb_api_response_free(&r);
    return st;
}
static inline long agent_call(const test_agent *a, const char *suffix, const char *body,
                              sb_api_response *out)
{
    return agent_call_on(h, a, suffix, body, out);
}

/* ,"results":[…] for a read job: each requested key's value ("value of
 * <key>") sealed to the job's read_public_key, as an agent does; "" for
 * any other job. */
static inline void read_results_for(const char *job, char *out, size_t cap)
{
    char q[256], pk64[64] = "", keys[1024] = "";
    out[0] = '\0';
    snprintf(q, sizeof q, "SELECT coalesce(payload->>'read_public_key', '') FROM jobs WHERE id = '%s'",
             job);
    sb_api_harness_sql(h, q, pk64, sizeof pk64);
    if (pk64[0] == '\0')
        return;
    snprintf(q, sizeof q, "SELECT payload->'keys' FROM jobs WHERE id = '%s'", job);
    cr_assert_eq(sb_api_harness_sql(h, q, keys, sizeof keys), 1);
    unsigned char pk[crypto_box_PUBLICKEYBYTES];
    size_t pk_len = 0;
    cr_assert_eq(sodium_base642bin(pk, sizeof pk, pk64, strlen(pk64), NULL, &pk_len, NULL,
                                   sodium_base64_VARIANT_ORIGINAL), 0);
    json_t *list = json_loads(keys, 0, NULL), *k;
    size_t i, n = (size_t)snprintf(out, cap, ",\"results\":[");
    json_array_foreach(list, i, k)
    {
        char value[300], box64[512];
        unsigned char box[300 + crypto_box_SEALBYTES];
        snprintf(value, sizeof value, "value of %s", json_string_value(k));
        crypto_box_seal(box, (const unsigned char *)value, strlen(value), pk);
        sodium_bin2base64(box64, sizeof box64, box, strlen(value) + crypto_box_SEALBYTES,
                          sodium_base64_VARIANT_ORIGINAL);
        n += (size_t)snprintf(out + n, cap - n, "%s{\"key\":\"%s\",\"box\":\"%s\"}", i ? "," : "",
                              json_string_value(k), box64);
    }
    json_decref(list);
    snprintf(out + n, cap - n, "]");
}

static inline long complete(const test_agent *a, const char *job, const char *outcome,
                            sb_api_response *out)
{
    char suffix[128], body[8192], results[8000] = "";
    snprintf(suffix, sizeof suffix, "/jobs/%s/complete", job);
    if (strcmp(outcome, "succeeded") == 0)
        read_results_for(job, results, sizeof results);
    snprintf(body, sizeof body, "{\"outcome\":\"%s\",\"error\":\"provider said 503\"%s}",
             outcome, results);
    return agent_call(a, suffix, body, out);
}

/* A read request by dev, approved by ap1: its job is queued on conn_id. */
static inline void approved_read(char *request_id)
{
    submit_read(request_id);
    sb_api_response r;
    cr_assert_eq(act(ap[0], request_id, "approve", "{}", &r), 200, "%s", r.body);
    sb_api_response_free(&r);
}

static inline void job_of(const char *request_id, char *job_id)
{
    char q[160];
    snprintf(q, sizeof q, "SELECT id FROM jobs WHERE request_id = '%s'", request_id);
    cr_assert_eq(sb_api_harness_sql(h, q, job_id, 40), 1);
}

static inline const char *jstr(const sb_api_response *r, const char *k)
{
    const char *s = json_string_value(json_object_get(r->json, k));
    return s ? s : "";
}

#endif
