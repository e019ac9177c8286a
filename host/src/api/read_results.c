/* api/read_results.c — storing an agent's read results (see read_api.h). */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/read_api.h"
#include "api/request_api.h"
#include "crypto/secure_mem.h"
#include "domain/domain_error.h"
#include "store/wrap_store.h"

#define RESULTS_MAX 256
#define BOX_B64_MAX 1398200 /* base64 of the largest box the table takes */

/* 0 when list is exactly the request's keys, each named once. */
static int check_keys(const sb_request_row *r, const json_t *results, sb_error *err)
{
    json_t *want = json_loads(r->keys ? r->keys : "[]", 0, NULL);
    size_t i, j, n = json_array_size(results);
    json_t *item;
    int rc = 0;
    if (want == NULL)
        return sb_error_set(err, SB_DOMAIN_E_NO_MEMORY, "out of memory");
    if (json_array_size(want) > 0 && json_array_size(want) != n)
        rc = sb_error_set(err, SB_DOMAIN_E_INVALID,
                          "results must hold exactly the %zu requested keys, one result each; "
                          "got %zu (a missing key fails the job, it is never a partial success)",
                          json_array_size(want), n);
    json_array_foreach((json_t *)results, i, item)
    {
        const char *k = json_string_value(json_object_get(item, "key"));
        for (j = 0; rc == 0 && j < i; j++)
            if (strcmp(k, json_string_value(json_object_get(json_array_get(results, j), "key"))) == 0)
                rc = sb_error_set(err, SB_DOMAIN_E_INVALID, "results[%zu]: key '%.100s' twice", i, k);
        int found = json_array_size(want) == 0;
        for (j = 0; !found && j < json_array_size(want); j++)
            found = strcmp(k, json_string_value(json_array_get(want, j))) == 0;
        if (rc == 0 && !found)
            rc = sb_error_set(err, SB_DOMAIN_E_INVALID,
                              "results[%zu]: key '%.100s' was not requested", i, k);
    }
    json_decref(want);
    return rc;
}

/* Shape of one result: {key, kind?, box}. */
static int check_item(size_t i, const json_t *item, sb_error *err)
{
    static const char *const fields[] = {"key", "kind", "box"};
    const char *f;
    json_t *v;
    if (!json_is_object(item))
        return sb_error_set(err, SB_DOMAIN_E_INVALID, "results[%zu] must be an object", i);
    json_object_foreach((json_t *)item, f, v)
    {
        int known = 0;
        for (size_t k = 0; k < 3; k++)
            known |= strcmp(f, fields[k]) == 0;
        if (!known)
            return sb_error_set(err, SB_DOMAIN_E_INVALID,
                                "results[%zu]: unknown field '%.60s' (key, kind, box)", i, f);
    }
    const char *key = json_string_value(json_object_get(item, "key"));
    const char *kind = json_string_value(json_object_get(item, "kind"));
    const char *box = json_string_value(json_object_get(item, "box"));
    if (key == NULL || *key == '\0' || strlen(key) > 256)
        return sb_error_set(err, SB_DOMAIN_E_INVALID, "results[%zu].key must be 1-256 characters", i);
    if (json_object_get(item, "kind") &&
        (kind == NULL || (strcmp(kind, "string") && strcmp(kind, "binary") && strcmp(kind, "json"))))
        return sb_error_set(err, SB_DOMAIN_E_INVALID,
                            "results[%zu].kind must be string, binary or json", i);
    if (box == NULL || strlen(box) > BOX_B64_MAX)
        return sb_error_set(err, SB_DOMAIN_E_INVALID,
                            "results[%zu].box must be the base64 of a crypto_box_seal box", i);
    /* decoded length without keeping the bytes: standard base64, padded */
    size_t n = strlen(box);
    size_t bin_len = n / 4 * 3 - (n >= 1 && box[n - 1] == '=') - (n >= 2 && box[n - 2] == '=');
    if (n % 4 != 0 || bin_len < crypto_box_SEALBYTES ||
        strspn(box, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=") != n)
        return sb_error_set(err, SB_DOMAIN_E_INVALID,
                            "results[%zu].box must be standard base64 of a crypto_box_seal box "
                            "(at least %d bytes) sealed to the job's read_public_key",
                            i, crypto_box_SEALBYTES);
    return 0;
}

int sb_read_results_store(sb_db_conn *conn, const sb_request_row *r, const char *agent_id,
                          const json_t *results, sb_error *err)
{
    if (!json_is_array(results) || json_array_size(results) == 0 ||
        json_array_size(results) > RESULTS_MAX)
        return sb_error_set(err, SB_DOMAIN_E_INVALID,
                            "a succeeded read job needs results: a list of 1 to %d "
                            "{key, kind, box} sealed to the job's read_public_key",
                            RESULTS_MAX);
    size_t i;
    json_t *item;
    json_array_foreach((json_t *)results, i, item) if (check_item(i, item, err) != 0) return -1;
    if (check_keys(r, results, err) != 0)
        return -1;
    int ttl = sb_request_workflow_int(r, "wrap_ttl_approved_s", 3600);
    json_array_foreach((json_t *)results, i, item)
    {
        const char *kind = json_string_value(json_object_get(item, "kind"));
        if (sb_wrap_store_insert(conn, r->id, json_string_value(json_object_get(item, "key")),
                                 kind ? kind : "string",
                                 json_string_value(json_object_get(item, "box")), agent_id, ttl,
                                 err) != 0)
            return -1;
    }
    return 0;
}

/* Decodes standard base64 into a new buffer of *len bytes (malloc). */
