/*
 * plugins/vault/vault_transit.c — KMS capability through Vault's Transit
 * secrets engine.
 *
 * Contract:
 *   - key_id: "vault-transit:{transit_mount}/{transit_key}" (no I/O).
 *   - wrap: `POST {transit_mount}/encrypt/{transit_key}` with
 *     `{"plaintext":"<base64>"}` built in a secure buffer. The answer's
 *     `data.ciphertext` ("vault:vN:…") is appended to the host's buffer as
 *     is, and the key id is reported with the key version taken from that
 *     prefix: "vault-transit:transit/sbridge:vN".
 *   - unwrap: the key id must name this instance's mount and key (with or
 *     without ":vN"; when given, N must match the ciphertext's prefix), else
 *     SB_E_INVALID before any I/O. `POST …/decrypt/{key}`; `data.plaintext`
 *     is base64-decoded into a secure scratch buffer and appended to the
 *     host's buffer only when complete, so a failure leaves it unchanged.
 *   - Base64 runs through a small stack window that is wiped before
 *     returning; no plaintext byte reaches ordinary heap.
 *   - Errors: Vault's 400 (bad ciphertext, unknown key) -> SB_E_INVALID;
 *     other statuses as for every request (vault_fail_http).
 */
#include "vault.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define KEY_ID_SCHEME "vault-transit:"

static const char b64_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static void wipe(void *p, size_t n)
{
    volatile unsigned char *v = p;
    while (n--)
        *v++ = 0;
}

/* Appends base64(data[0..len)) to out. 0 ok, -1 no memory. */
static int b64_encode_append(const unsigned char *data, size_t len, sb_secure_buf *out)
{
    const sb_host_api *h = vault_host;
    char window[64]; /* 16 groups of 4 */
    size_t w = 0;
    int bad = 0;
    for (size_t i = 0; i < len && !bad; i += 3) {
        uint32_t v = (uint32_t)data[i] << 16;
        size_t n = len - i < 3 ? len - i : 3;
        if (n > 1)
            v |= (uint32_t)data[i + 1] << 8;
        if (n > 2)
            v |= data[i + 2];
        window[w++] = b64_alphabet[(v >> 18) & 63];
        window[w++] = b64_alphabet[(v >> 12) & 63];
        window[w++] = n > 1 ? b64_alphabet[(v >> 6) & 63] : '=';
        window[w++] = n > 2 ? b64_alphabet[v & 63] : '=';
        v = 0;
        if (w == sizeof window) {
            bad = h->secure_append(out, window, w) != 0;
            w = 0;
        }
    }
    if (!bad && w)
        bad = h->secure_append(out, window, w) != 0;
    wipe(window, sizeof window);
    return bad ? -1 : 0;
}

static int b64_value(unsigned char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    return -1;
}

/* Decodes padded standard base64 text[0..len) into out. 0 ok; -1 not
 * base64; -2 no memory. */
static int b64_decode_append(const char *text, size_t len, sb_secure_buf *out)
{
    const sb_host_api *h = vault_host;
    if (len % 4 != 0)
        return -1;
    unsigned char window[48];
    size_t w = 0;
    int rc = 0;
    for (size_t i = 0; i < len && rc == 0; i += 4) {
        int a = b64_value((unsigned char)text[i]), b = b64_value((unsigned char)text[i + 1]);
        int last = i + 4 == len;
        int pad2 = last && text[i + 2] == '=' && text[i + 3] == '=';
        int pad1 = last && !pad2 && text[i + 3] == '=';
        int c = pad2 ? 0 : b64_value((unsigned char)text[i + 2]);
        int d = pad2 || pad1 ? 0 : b64_value((unsigned char)text[i + 3]);
        if (a < 0 || b < 0 || c < 0 || d < 0) {
            rc = -1;
            break;
        }
        uint32_t v = ((uint32_t)a << 18) | ((uint32_t)b << 12) | ((uint32_t)c << 6) | (uint32_t)d;
        window[w++] = (unsigned char)(v >> 16);
        if (!pad2)
            window[w++] = (unsigned char)(v >> 8);
        if (!pad2 && !pad1)
            window[w++] = (unsigned char)v;
        v = 0;
        if (w + 3 > sizeof window) {
            rc = h->secure_append(out, window, w) != 0 ? -2 : 0;
            w = 0;
        }
    }
    if (rc == 0 && w)
        rc = h->secure_append(out, window, w) != 0 ? -2 : 0;
    wipe(window, sizeof window);
    return rc;
}

/* "vault:v12:..." -> 12; -1 when the prefix is malformed. */
static int64_t ciphertext_version(const char *text, size_t len)
{
    if (len < 9 || strncmp(text, "vault:v", 7) != 0)
        return -1;
    int64_t v = 0;
    size_t i = 7;
    for (; i < len && text[i] >= '0' && text[i] <= '9' && i < 7 + 18; i++)
        v = v * 10 + (text[i] - '0');
    if (i == 7 || i >= len || text[i] != ':' || v <= 0)
        return -1;
    return v;
}

static char *transit_path(const vault_instance *vi, const char *verb)
{
    vault_str s = {0};
    vault_str_add_path(&s, vi->transit_mount);
    vault_str_add(&s, "/");
    vault_str_add(&s, verb);
    vault_str_add(&s, "/");
    vault_str_add_path(&s, vi->transit_key);
    if (s.failed) {
        vault_str_free(&s);
        return NULL;
    }
    return s.p;
}

/* POST to transit and parse the 200 answer into *doc. */
static sb_status transit_post(vault_instance *vi, const sb_call *call, const char *verb,
                              const sb_secure_buf *body, sb_json **doc, sb_result *res)
{
    const sb_host_api *h = vault_host;
    char what[32];
    snprintf(what, sizeof what, "transit %s", verb);
    char *path = transit_path(vi, verb);
    if (path == NULL)
        return h->fail(res, SB_E_INTERNAL, 0, "%s: out of memory", what);
    vault_request rq = {.method = "POST", .path = path, .body = body, .body_secret = 1,
                        .metric_op = strcmp(verb, "encrypt") == 0 ? "transit_encrypt"
                                                                  : "transit_decrypt"};
    sb_http_response resp;
    sb_status st = vault_call(vi, call, &rq, &resp, res);
    free(path);
    if (st != SB_OK)
        return st;
    if (resp.status != 200) {
        st = vault_fail_http(&resp, what, res);
        h->http_response_free(&resp);
        return st;
    }
    st = vault_parse_body(&resp, doc, what, res);
    h->http_response_free(&resp);
    return st;
}

static sb_status transit_key_id(void *inst, const sb_call *call, sb_text *key_id,
                                sb_result *res)
{
    sb_status st = vault_check_common(inst, call, res, "key_id");
    if (st != SB_OK) {
        if (key_id)
            vault_host->text_set(key_id, "");
        return st;
    }
    if (key_id == NULL)
        return vault_host->fail(res, SB_E_INVALID, 0, "key_id: the key_id out-parameter is NULL");
    const vault_instance *vi = inst;
    if (vault_host->text_printf(key_id, KEY_ID_SCHEME "%s/%s", vi->transit_mount, vi->transit_key) != 0)
        return vault_host->fail(res, SB_E_INTERNAL, 0, "key_id: out of memory");
    return SB_OK;
}

static sb_status transit_wrap(void *inst, const sb_call *call, const sb_secure_buf *plaintext,
                              sb_secure_buf *ciphertext, sb_text *key_id,
                              sb_result *res)
{
    sb_status st = vault_check_common(inst, call, res, "wrap");
    if (key_id)
        vault_host->text_set(key_id, "");
    if (st != SB_OK)
        return st;
    const sb_host_api *h = vault_host;
    if (plaintext == NULL || ciphertext == NULL || key_id == NULL)
        return h->fail(res, SB_E_INVALID, 0,
                       "wrap: plaintext, ciphertext and key_id must not be NULL");
    vault_instance *vi = inst;
    size_t plen = 0;
    const unsigned char *p = h->secure_data(plaintext, &plen);
    sb_secure_buf *body = h->secure_new(plen * 4 / 3 + 32);
    if (body == NULL)
        return h->fail(res, SB_E_INTERNAL, 0, "wrap: out of secure memory");
    if (h->secure_append(body, "{\"plaintext\":\"", 14) != 0 ||
        b64_encode_append(p, plen, body) != 0 || h->secure_append(body, "\"}", 2) != 0) {
        h->secure_free(body);
        return h->fail(res, SB_E_INTERNAL, 0, "wrap: out of secure memory");
    }
    sb_json *doc = NULL;
    st = transit_post(vi, call, "encrypt", body, &doc, res);
    h->secure_free(body);
    if (st != SB_OK)
        return st;
    size_t clen = 0;
    const char *ct =
        h->json_string(h->json_pointer(h->json_root(doc), "/data/ciphertext"), &clen);
    int64_t version = ct ? ciphertext_version(ct, clen) : -1;
    if (version < 0) {
        h->json_free(doc);
        return h->fail(res, SB_E_PROTOCOL, 0,
                       "wrap: Vault's answer has no data.ciphertext of the form vault:vN:...");
    }
    if (h->secure_append(ciphertext, ct, clen) != 0) {
        h->json_free(doc);
        return h->fail(res, SB_E_INTERNAL, 0, "wrap: out of secure memory");
    }
    h->json_free(doc);
    if (h->text_printf(key_id, KEY_ID_SCHEME "%s/%s:v%lld", vi->transit_mount, vi->transit_key,
                       (long long)version) != 0)
        return h->fail(res, SB_E_INTERNAL, 0, "wrap: out of memory");
    return SB_OK;
}

/* Checks that key_id names this instance's key; *version gets its ":vN"
 * (0 when absent). */
static int key_id_matches(const vault_instance *vi, const char *key_id, int64_t *version)
{
    size_t scheme = strlen(KEY_ID_SCHEME), mlen = strlen(vi->transit_mount),
           klen = strlen(vi->transit_key);
    *version = 0;
    if (strncmp(key_id, KEY_ID_SCHEME, scheme) != 0)
        return 0;
    const char *p = key_id + scheme;
    if (strncmp(p, vi->transit_mount, mlen) != 0 || p[mlen] != '/' ||
        strncmp(p + mlen + 1, vi->transit_key, klen) != 0)
        return 0;
    p += mlen + 1 + klen;
    if (*p == '\0')
        return 1;
    return p[0] == ':' && p[1] == 'v' && vault_parse_version(p + 2, version) == 0;
}

static sb_status transit_unwrap(void *inst, const sb_call *call, const unsigned char *ciphertext,
                                size_t ciphertext_len, const char *key_id,
                                sb_secure_buf *plaintext, sb_result *res)
{
    sb_status st = vault_check_common(inst, call, res, "unwrap");
    if (st != SB_OK)
        return st;
    const sb_host_api *h = vault_host;
    if (ciphertext == NULL || ciphertext_len == 0 || key_id == NULL || plaintext == NULL)
        return h->fail(res, SB_E_INVALID, 0,
                       "unwrap: ciphertext, key_id and plaintext must not be NULL or empty");
    vault_instance *vi = inst;
    int64_t want = 0;
    if (!key_id_matches(vi, key_id, &want))
        return h->fail(res, SB_E_INVALID, 0,
                       "unwrap: key id '%.100s' does not name this instance's Transit key "
                       KEY_ID_SCHEME "%s/%s",
                       key_id, vi->transit_mount, vi->transit_key);
    for (size_t i = 0; i < ciphertext_len; i++)
        if (ciphertext[i] < 0x21 || ciphertext[i] > 0x7e)
            return h->fail(res, SB_E_INVALID, 0,
                           "unwrap: the ciphertext is not a Vault Transit ciphertext");
    int64_t have = ciphertext_version((const char *)ciphertext, ciphertext_len);
    if (have < 0)
        return h->fail(res, SB_E_INVALID, 0,
                       "unwrap: the ciphertext does not start with vault:vN:");
    if (want && want != have)
        return h->fail(res, SB_E_INVALID, 0,
                       "unwrap: the key id says key version %lld but the ciphertext was made "
                       "with version %lld",
                       (long long)want, (long long)have);

    sb_secure_buf *body = h->secure_new(ciphertext_len + 32);
    if (body == NULL || h->secure_append(body, "{\"ciphertext\":", 14) != 0 ||
        h->secure_append_json_string(body, (const char *)ciphertext, ciphertext_len) != 0 ||
        h->secure_append(body, "}", 1) != 0) {
        h->secure_free(body);
        return h->fail(res, SB_E_INTERNAL, 0, "unwrap: out of secure memory");
    }
    sb_json *doc = NULL;
    st = transit_post(vi, call, "decrypt", body, &doc, res);
    h->secure_free(body);
    if (st != SB_OK)
        return st;
    size_t len = 0;
    const char *b64 = h->json_string(h->json_pointer(h->json_root(doc), "/data/plaintext"), &len);
    if (b64 == NULL) {
        h->json_free(doc);
        return h->fail(res, SB_E_PROTOCOL, 0, "unwrap: Vault's answer has no data.plaintext");
    }
    sb_secure_buf *scratch = h->secure_new(len);
    int rc = scratch ? b64_decode_append(b64, len, scratch) : -2;
    h->json_free(doc);
    if (rc == 0) {
        size_t n = 0;
        const unsigned char *bytes = h->secure_data(scratch, &n);
        if (n > 0 && h->secure_append(plaintext, bytes, n) != 0)
            rc = -2;
    }
    h->secure_free(scratch);
    if (rc == -1)
        return h->fail(res, SB_E_PROTOCOL, 0, "unwrap: Vault's data.plaintext is not base64");
    if (rc != 0)
        return h->fail(res, SB_E_INTERNAL, 0, "unwrap: out of secure memory");
    return SB_OK;
}

const sb_kms_ops vault_kms_ops = {
    .struct_size = (uint32_t)sizeof(sb_kms_ops),
    .key_id = transit_key_id,
    .wrap = transit_wrap,
    .unwrap = transit_unwrap,
};
