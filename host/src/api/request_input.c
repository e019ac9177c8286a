/*
 * api/request_input.c — request bodies shared by submit and fill: key
 * names, sealed values and the plaintext refusal (see request_api.h).
 *
 * Contract: functions taking the request answer it when they return -1.
 * No message ever contains a value or a box: only field names, indexes,
 * key names and sizes.
 */
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "api/request_api.h"

#define MAX_SEALED 400
#define MAX_BOX_BYTES (1024 * 1024 + crypto_box_SEALBYTES)

bool sb_request_key_name_ok(const char *k)
{
    return k && sb_handler_name_ok(k, 128, SB_CHARS_LOWER SB_CHARS_UPPER SB_CHARS_DIGIT "_.-",
                                       SB_CHARS_LOWER SB_CHARS_UPPER SB_CHARS_DIGIT "_.-");
}

bool sb_request_in_array(json_t *a, const char *s)
{
    size_t i;
    json_t *v;
    if (s == NULL)
        return false;
    json_array_foreach(a, i, v) if (json_is_string(v) && strcmp(json_string_value(v), s) == 0)
        return true;
    return false;
}

/* The decoded length of base64 text b (standard alphabet, padded) when it
 * is at most max bytes, else 0. */
static size_t b64_len(const char *b, size_t max)
{
    size_t n = strlen(b);
    if (n == 0 || n > (max / 3 + 2) * 4)
        return 0;
    unsigned char *bin = malloc(n);
    size_t len = 0;
    int rc = bin ? sodium_base642bin(bin, n, b, n, NULL, &len, NULL,
                                     sodium_base64_VARIANT_ORIGINAL)
                 : -1;
    free(bin);
    return rc == 0 && len <= max ? len : 0;
}

static int bad_item(sb_server_request *req, size_t i, const char *what)
{
    return sb_handler_invalid(req, "sealed_values[%zu]%s", i, what);
}

int sb_request_read_sealed(sb_server_request *req, json_t *list, sb_sealed_input *out)
{
    size_t n = json_array_size(list), i;
    memset(out, 0, sizeof *out);
    if (!json_is_array(list) || n == 0 || n > MAX_SEALED)
        return sb_handler_invalid(req, "sealed_values must list 1 to %d sealed boxes",
                                      MAX_SEALED);
    out->values = calloc(n, sizeof *out->values);
    if (out->values == NULL)
        return sb_http_respond_error(req, 503, "unavailable", "out of memory"), -1;
    out->owner = json_incref(list);
    out->keys = json_array();
    json_t *recipients = json_array(), *item;
    int rc = 0;
    json_array_foreach(list, i, item)
    {
        const char *k = json_string_value(json_object_get(item, "key"));
        const char *r = json_string_value(json_object_get(item, "recipient"));
        const char *b = json_string_value(json_object_get(item, "box"));
        if (!json_is_object(item) || json_object_size(item) != 3 || !k || !r || !b)
            rc = bad_item(req, i, " must be an object with exactly \"key\", \"recipient\" and "
                                  "\"box\" strings");
        else if (!sb_request_key_name_ok(k))
            rc = bad_item(req, i, ".key must be 1-128 characters of letters, digits, '_', '.' "
                                  "or '-'");
        else if (strlen(r) > 64 ||
                 b64_len(r, crypto_box_PUBLICKEYBYTES) != crypto_box_PUBLICKEYBYTES)
            rc = bad_item(req, i, ".recipient must be a base64 X25519 public key (32 bytes)");
        else if (b64_len(b, MAX_BOX_BYTES) <= crypto_box_SEALBYTES)
            rc = bad_item(req, i, ".box must be the base64 output of crypto_box_seal (more than "
                                  "48 bytes, at most 1 MiB of value); plaintext values are "
                                  "refused");
        for (size_t j = 0; j < i && rc == 0; j++)
            if (strcmp(out->values[j].key, k) == 0 && strcmp(out->values[j].recipient, r) == 0)
                rc = bad_item(req, i, " repeats a key for the same recipient");
        if (rc)
            break;
        out->values[i] = (sb_sealed_value){k, r, b};
        if (!sb_request_in_array(out->keys, k))
            json_array_append_new(out->keys, json_string(k));
        if (!sb_request_in_array(recipients, r))
            json_array_append_new(recipients, json_string(r));
    }
    out->n = i;
    if (rc == 0 && json_array_size(out->keys) * json_array_size(recipients) != n)
        rc = sb_handler_invalid(req, "sealed_values must seal every key for every recipient "
                                         "(%zu keys, %zu recipients, %zu boxes)",
                                    json_array_size(out->keys), json_array_size(recipients), n);
    json_decref(recipients);
    return rc;
}

void sb_sealed_input_free(sb_sealed_input *in)
{
    free(in->values);
    json_decref(in->owner);
    json_decref(in->keys);
    memset(in, 0, sizeof *in);
}

int sb_request_read_body(sb_server_request *req, const sb_field_spec *spec, size_t n, json_t **body,
                         json_t **sealed)
{
    sb_error err;
    json_t *raw;
    *sealed = NULL;
    if (sb_http_json_body(req, &raw, &err) != 0)
        return -1;
    static const char *const plain[] = {"values", "key_values", "value", "data"};
    for (size_t i = 0; json_is_object(raw) && i < sizeof plain / sizeof plain[0]; i++)
        if (json_object_get(raw, plain[i]))
            return sb_http_respond_error(
                       req, 400, "plaintext_refused",
                       "field \"%s\" would carry plaintext values, which the control plane "
                       "refuses (I2): seal each value on the client with crypto_box_seal to the "
                       "agents' X25519 public keys and send them as sealed_values",
                       plain[i]),
                   -1;
    json_t *s = json_is_object(raw) ? json_object_get(raw, "sealed_values") : NULL;
    if (s) {
        *sealed = json_incref(s);
        json_object_del(raw, "sealed_values");
    }
    if (sb_handler_read_body(req, spec, n, body) != 0) {
        json_decref(*sealed);
        *sealed = NULL;
        return -1;
    }
    return 0;
}
