/*
 * api/discovery_upload.c — the items of a discovery chunk an agent uploads
 * (POST /agents/{id}/jobs/{job_id}/discovery), checked and turned into the
 * catalog store's batch shape (store/catalog_store.h).
 *
 * Contract: items is a list of 1..SB_DISCOVERY_CHUNK_MAX objects with only
 * path (1-1024 characters), version (string or null, <= 256), labels (an
 * object of at most 64 string values: native labels kept verbatim) and
 * created_at_ms / updated_at_ms (milliseconds since the epoch, or null).
 * Any other field — a value above all — refuses the whole chunk with a
 * message naming the item and field; nothing is written.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "api/agent_api.h"
#include "domain/domain_error.h"

#define LABELS_MAX 64

static int bad(sb_error *err, size_t i, const char *what)
{
    return sb_error_set(err, SB_DOMAIN_E_INVALID, "items[%zu]: %s", i, what);
}

/* RFC 3339 (UTC, milliseconds) of ms since the epoch, or JSON null. */
static json_t *timestamp(const json_t *ms)
{
    if (!json_is_integer(ms))
        return json_null();
    json_int_t v = json_integer_value(ms);
    time_t s = (time_t)(v / 1000);
    struct tm tm;
    char out[40];
    if (gmtime_r(&s, &tm) == NULL)
        return json_null();
    size_t n = strftime(out, sizeof out, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out + n, sizeof out - n, ".%03dZ", (int)(v % 1000));
    return json_string(out);
}

static int check_labels(size_t i, const json_t *labels, sb_error *err)
{
    const char *k;
    json_t *v;
    if (labels == NULL || json_is_null(labels))
        return 0;
    if (!json_is_object(labels) || json_object_size(labels) > LABELS_MAX)
        return bad(err, i, "labels must be an object of at most 64 string values");
    json_object_foreach((json_t *)labels, k, v)
    {
        if (!json_is_string(v) || strlen(k) > 256 || json_string_length(v) > 1024)
            return bad(err, i, "labels must map names (<= 256 characters) to strings "
                               "(<= 1024 characters)");
    }
    return 0;
}

static int check_ms(size_t i, const json_t *ms, const char *name, sb_error *err)
{
    if (ms == NULL || json_is_null(ms) || (json_is_integer(ms) && json_integer_value(ms) >= 0 &&
                                           json_integer_value(ms) < 253402300800000LL))
        return 0;
    char what[120];
    snprintf(what, sizeof what, "%s must be milliseconds since the epoch, or null", name);
    return bad(err, i, what);
}

int sb_discovery_items_convert(const json_t *items, json_t **out, sb_error *err)
{
    static const char *const fields[] = {"path", "version", "labels", "created_at_ms",
                                         "updated_at_ms"};
    *out = NULL;
    if (!json_is_array(items) || json_array_size(items) == 0 ||
        json_array_size(items) > SB_DISCOVERY_CHUNK_MAX)
        return sb_error_set(err, SB_DOMAIN_E_INVALID,
                            "items must be a list of 1 to %d secrets (upload larger scans in "
                            "chunks)",
                            SB_DISCOVERY_CHUNK_MAX);
    json_t *batch = json_array();
    size_t i;
    const json_t *item;
    json_array_foreach((json_t *)items, i, item)
    {
        const char *f;
        json_t *v;
        int rc = json_is_object(item) ? 0 : bad(err, i, "must be an object");
        if (rc == 0)
            json_object_foreach((json_t *)item, f, v)
            {
                int known = 0;
                for (size_t k = 0; k < sizeof fields / sizeof fields[0]; k++)
                    known |= strcmp(f, fields[k]) == 0;
                if (!known && rc == 0) {
                    char what[256];
                    snprintf(what, sizeof what,
                             "unknown field '%.60s' (path, version, labels, created_at_ms, "
                             "updated_at_ms; discovery never carries a value)",
                             f);
                    rc = bad(err, i, what);
                }
            }
        const json_t *path = json_object_get(item, "path"), *version = json_object_get(item, "version");
        if (rc == 0 && (!json_is_string(path) || json_string_length(path) == 0 ||
                        json_string_length(path) > 1024))
            rc = bad(err, i, "path must be 1-1024 characters");
        if (rc == 0 && version && !json_is_null(version) &&
            (!json_is_string(version) || json_string_length(version) > 256))
            rc = bad(err, i, "version must be a string of at most 256 characters, or null");
        if (rc == 0)
            rc = check_labels(i, json_object_get(item, "labels"), err);
        if (rc == 0)
            rc = check_ms(i, json_object_get(item, "created_at_ms"), "created_at_ms", err);
        if (rc == 0)
            rc = check_ms(i, json_object_get(item, "updated_at_ms"), "updated_at_ms", err);
        if (rc != 0) {
            json_decref(batch);
            return -1;
        }
        const json_t *labels = json_object_get(item, "labels");
        json_array_append_new(
            batch, json_pack("{s:O, s:o, s:O, s:o, s:o}", "secret_ref", path, "labels",
                             json_is_object(labels) ? json_incref((json_t *)labels) : json_object(),
                             "version", version ? version : json_null(),
                             "created_at", timestamp(json_object_get(item, "created_at_ms")),
                             "updated_at", timestamp(json_object_get(item, "updated_at_ms"))));
    }
    *out = batch;
    return 0;
}
