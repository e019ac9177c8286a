/*
 * plugins/gcpsm/gcpsm_auth_external.c — workload identity federation: an
 * `external_account` credentials file (as `gcloud iam workload-identity-pools
 * create-cred-config` writes it) turns a subject token issued elsewhere (a
 * Kubernetes service-account token, a GitHub/GitLab OIDC token...) into a
 * Google access token.
 *
 * Contract:
 *   - The file (read into secure memory for each new token) must have
 *     "type":"external_account", audience, subject_token_type, token_url and
 *     credential_source.file (the subject token file, read afresh each time;
 *     credential_source.format {"type":"json","subject_token_field_name":F}
 *     takes the token from member F, else the whole file is the token,
 *     surrounding whitespace trimmed). URL-, executable- and AWS-sourced
 *     subject tokens are refused with SB_E_CONFIG naming the reason.
 *   - STS: POST token_url, form-encoded RFC 8693 token exchange (grant_type
 *     token-exchange, audience, scope cloud-platform, requested_token_type
 *     access_token, subject_token_type, subject_token). The subject token
 *     is percent-encoded straight into the secure body.
 *   - With service_account_impersonation_url: POST it with the STS token as
 *     bearer and {"scope":["…cloud-platform"],"lifetime":"3600s"}; the answer
 *     {"accessToken","expireTime"} is the token used.
 *   - token_url and the impersonation URL must be https (or http to loopback,
 *     or anywhere with allow_insecure_http). Refusals map as the token
 *     endpoint's do (gcpsm_token_failure): invalid_grant -> SB_E_DENIED.
 */
#include "gcpsm.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TOKEN_EXCHANGE_FORM                                                                        \
    "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Atoken-exchange"                        \
    "&requested_token_type=urn%3Aietf%3Aparams%3Aoauth%3Atoken-type%3Aaccess_token"               \
    "&scope=https%3A%2F%2Fwww.googleapis.com%2Fauth%2Fcloud-platform"

typedef struct external_file {
    char *audience, *subject_token_type, *token_url, *impersonation_url, *source_file;
    char *json_field; /* credential_source.format json: the member holding the token */
} external_file;

static void external_free(external_file *x)
{
    free(x->audience);
    free(x->subject_token_type);
    free(x->token_url);
    free(x->impersonation_url);
    free(x->source_file);
    free(x->json_field);
    memset(x, 0, sizeof *x);
}

static char *member(const sb_json_node *root, const char *pointer)
{
    size_t n = 0;
    const char *s = gcpsm_host->json_string(gcpsm_host->json_pointer(root, pointer), &n);
    return s && n && strlen(s) == n ? sbp_strdup(s) : NULL;
}

/* Reads and checks the external_account file; NULL or why it is unusable. */
static const char *read_external(gcpsm_instance *gi, external_file *x, sb_status *st,
                                 sb_result *res)
{
    const sb_host_api *h = gcpsm_host;
    sb_secure_buf *file = NULL;
    if ((*st = h->read_file_secure(gi->key_file, GCPSM_MAX_KEY_FILE, &file, res)) != SB_OK)
        return "";
    size_t len = 0;
    const unsigned char *text = h->secure_data(file, &len);
    sb_json *doc = NULL;
    sb_result inner = SB_RESULT_INIT;
    sb_status pst = h->json_parse(text, len, &doc, &inner);
    h->result_release(&inner);
    h->secure_free(file);
    if (pst != SB_OK)
        return "is not JSON";
    const sb_json_node *root = h->json_root(doc);
    char *type = member(root, "/type"), *format = member(root, "/credential_source/format/type");
    const char *why = NULL;
    x->audience = member(root, "/audience");
    x->subject_token_type = member(root, "/subject_token_type");
    x->token_url = member(root, "/token_url");
    x->impersonation_url = member(root, "/service_account_impersonation_url");
    x->source_file = member(root, "/credential_source/file");
    x->json_field = member(root, "/credential_source/format/subject_token_field_name");
    if (type == NULL || strcmp(type, "external_account") != 0)
        why = "is not an external_account credentials file";
    else if (x->audience == NULL || x->subject_token_type == NULL || x->token_url == NULL)
        why = "lacks audience, subject_token_type or token_url";
    else if (x->source_file == NULL)
        why = "has no credential_source.file (URL-, executable- and AWS-sourced subject tokens "
              "are not supported)";
    else if (x->source_file[0] != '/')
        why = "credential_source.file must be an absolute path";
    else if (format && strcmp(format, "text") != 0 &&
             (strcmp(format, "json") != 0 || x->json_field == NULL))
        why = "credential_source.format must be text, or json with subject_token_field_name";
    else if ((why = gcpsm_check_url(x->token_url, gi->insecure_ok, 0)) == NULL &&
             x->impersonation_url)
        why = gcpsm_check_url(x->impersonation_url, gi->insecure_ok, 0);
    if (format == NULL || strcmp(format, "json") != 0) {
        free(x->json_field);
        x->json_field = NULL;
    }
    free(type);
    free(format);
    h->json_free(doc);
    return why;
}

/* Appends text percent-encoded (unreserved kept) to a secure buffer. */
static int append_form_value(sb_secure_buf *out, const unsigned char *text, size_t len)
{
    static const char hex[] = "0123456789ABCDEF";
    char chunk[96];
    size_t used = 0;
    int rc = 0;
    for (size_t i = 0; i < len && rc == 0; i++) {
        unsigned char c = text[i];
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
            c == '-' || c == '.' || c == '_' || c == '~') {
            chunk[used++] = (char)c;
        } else {
            chunk[used++] = '%';
            chunk[used++] = hex[c >> 4];
            chunk[used++] = hex[c & 15];
        }
        if (used + 3 > sizeof chunk) {
            rc = gcpsm_host->secure_append(out, chunk, used);
            used = 0;
        }
    }
    if (rc == 0 && used)
        rc = gcpsm_host->secure_append(out, chunk, used);
    memset(chunk, 0, sizeof chunk);
    return rc;
}

/* Appends `&subject_token=<token>` read from the credential source. */
static sb_status append_subject_token(const external_file *x, sb_secure_buf *body,
                                      sb_result *res)
{
    const sb_host_api *h = gcpsm_host;
    sb_secure_buf *file = NULL;
    sb_status st = h->read_file_secure(x->source_file, GCPSM_MAX_KEY_FILE, &file, res);
    if (st != SB_OK)
        return st;
    size_t len = 0;
    const unsigned char *tok = h->secure_data(file, &len);
    sb_json *doc = NULL;
    if (x->json_field) {
        sb_result inner = SB_RESULT_INIT;
        char ptr[300];
        snprintf(ptr, sizeof ptr, "/%s", x->json_field);
        tok = NULL;
        if (h->json_parse(h->secure_data(file, NULL), len, &doc, &inner) == SB_OK)
            tok = (const unsigned char *)h->json_string(h->json_pointer(h->json_root(doc), ptr),
                                                        &len);
        h->result_release(&inner);
    }
    while (tok && len && (tok[len - 1] == '\n' || tok[len - 1] == '\r' || tok[len - 1] == ' '))
        len--;
    while (tok && len && (tok[0] == ' ' || tok[0] == '\n')) {
        tok++;
        len--;
    }
    if (tok == NULL || len == 0)
        st = h->fail(res, SB_E_CONFIG, 0, "credential_source.file %s holds no subject token%s",
                     x->source_file, x->json_field ? " in the named JSON member" : "");
    else if (h->secure_append(body, "&subject_token=", 15) != 0 ||
             append_form_value(body, tok, len) != 0)
        st = h->fail(res, SB_E_INTERNAL, 0, "sts: out of secure memory");
    h->json_free(doc);
    h->secure_free(file);
    return st;
}

static sb_status exchange(gcpsm_instance *gi, const sb_call *call, const external_file *x,
                          sb_result *res)
{
    const sb_host_api *h = gcpsm_host;
    sbp_str form = {0};
    sbp_str_add(&form, TOKEN_EXCHANGE_FORM "&audience=");
    sbp_str_add_query(&form, x->audience);
    sbp_str_add(&form, "&subject_token_type=");
    sbp_str_add_query(&form, x->subject_token_type);
    sb_secure_buf *body = form.failed ? NULL : h->secure_new(form.len + 2048);
    sb_status st = body && h->secure_append(body, form.p, form.len) == 0
                       ? SB_OK
                       : h->fail(res, SB_E_INTERNAL, 0, "sts: out of memory");
    sbp_str_free(&form);
    if (st == SB_OK)
        st = append_subject_token(x, body, res);
    sb_http_response resp;
    if (st == SB_OK) {
        sb_kv headers[1] = {{"Content-Type", "application/x-www-form-urlencoded"}};
        st = gcpsm_send(gi, call, "POST", x->token_url, headers, 1, body, SB_HTTP_BODY_SECRET,
                        "sts_token", &resp, res);
        if (st == SB_OK) {
            st = resp.status == 200 ? gcpsm_token_keep(gi, &resp, "sts token", res)
                                    : gcpsm_token_failure(&resp, "sts token exchange", res);
            h->http_response_free(&resp);
        }
    }
    h->secure_free(body);
    return st;
}

static sb_status impersonate(gcpsm_instance *gi, const sb_call *call, const external_file *x,
                             sb_result *res)
{
    const sb_host_api *h = gcpsm_host;
    static const char req[] = "{\"scope\":[\"" GCPSM_SCOPE "\"],\"lifetime\":\"3600s\"}";
    sb_secure_buf *body = h->secure_new(sizeof req);
    if (body == NULL || h->secure_append(body, req, sizeof req - 1) != 0) {
        h->secure_free(body);
        return h->fail(res, SB_E_INTERNAL, 0, "impersonation: out of secure memory");
    }
    sb_kv headers[2] = {{"Authorization", (const char *)h->secure_data(gi->bearer, NULL)},
                        {"Content-Type", "application/json"}};
    sb_http_response resp;
    sb_status st = gcpsm_send(gi, call, "POST", x->impersonation_url, headers, 2, body, 0,
                              "impersonation_token", &resp, res);
    h->secure_free(body);
    if (st != SB_OK)
        return st;
    sb_json *doc = NULL;
    if (resp.status != 200) {
        st = resp.status == 401 || resp.status == 403 || resp.status == 404
                 ? gcpsm_fail_status(&resp, "service account impersonation", NULL, 0, res)
                 : gcpsm_token_failure(&resp, "service account impersonation", res);
    } else if ((st = gcpsm_parse_object(&resp, "impersonation", &doc, res)) == SB_OK) {
        const sb_json_node *root = h->json_root(doc);
        size_t tlen = 0;
        const char *tok = h->json_string(h->json_pointer(root, "/accessToken"), &tlen);
        int64_t until = sbp_rfc3339_ms(h->json_string(h->json_pointer(root, "/expireTime"), NULL));
        st = gcpsm_token_store(gi, tok, tlen, until - h->now_unix_ms(), "impersonation", res);
    }
    h->json_free(doc);
    h->http_response_free(&resp);
    return st;
}

sb_status gcpsm_fetch_external(gcpsm_instance *gi, const sb_call *call, sb_result *res)
{
    external_file x = {0};
    sb_status st = SB_OK;
    const char *why = read_external(gi, &x, &st, res);
    if (st != SB_OK) {
        external_free(&x);
        return st;
    }
    if (why) {
        external_free(&x);
        return gcpsm_host->fail(res, SB_E_CONFIG, 0, "external_account_file %s: %s",
                                gi->key_file, why);
    }
    st = exchange(gi, call, &x, res);
    if (st == SB_OK && x.impersonation_url) {
        st = impersonate(gi, call, &x, res);
        if (st != SB_OK)
            gcpsm_token_forget(gi); /* never keep the bare STS token for API calls */
    }
    external_free(&x);
    return st;
}
