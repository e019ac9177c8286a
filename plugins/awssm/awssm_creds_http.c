/*
 * plugins/awssm/awssm_creds_http.c — credentials served over HTTP: the EC2
 * instance metadata service (IMDSv2) and the ECS/EKS container credentials
 * endpoint.
 *
 * Contract:
 *   IMDSv2     PUT {imds_endpoint}/latest/api/token (TTL 21600), GET
 *              .../iam/security-credentials/ for the role name, GET the role's
 *              document. In the chain, no instance profile (404) means "nothing
 *              here"; an unreachable IMDS is reported by the chain as retryable.
 *              AWS_EC2_METADATA_DISABLED=true skips it in the chain.
 *   container  AWS_CONTAINER_CREDENTIALS_FULL_URI, or
 *              http://169.254.170.2 + AWS_CONTAINER_CREDENTIALS_RELATIVE_URI,
 *              with the Authorization header from
 *              AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE (read afresh) or
 *              AWS_CONTAINER_AUTHORIZATION_TOKEN. A full URI must be https, or
 *              http to loopback or to the ECS/EKS link-local agents
 *              (169.254.170.2, 169.254.170.23).
 * Both answer the JSON document {AccessKeyId, SecretAccessKey, Token,
 * Expiration}, parsed in secure memory and appended straight into the
 * target buffers (json_credentials).
 */
#include "awssm.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int put(sb_secure_buf *b, const char *s, size_t n)
{
    return awssm_host->secure_append(b, s, n);
}

/* Fills c from a credentials document answer (HTTP 200). */
static sb_status json_credentials(sb_http_response *resp, const char *what, awssm_creds *c,
                                  sb_result *res)
{
    const sb_host_api *h = awssm_host;
    sb_json *doc = NULL;
    size_t len = 0;
    const unsigned char *body = resp->body ? h->secure_data(resp->body, &len) : NULL;
    sb_result ignored = SB_RESULT_INIT;
    if (resp->status != 200 || body == NULL || len == 0 ||
        h->json_parse(body, len, &doc, &ignored) != SB_OK) {
        h->result_release(&ignored);
        return h->fail(res, resp->status == 401 || resp->status == 403 ? SB_E_DENIED
                                                                       : SB_E_UNAVAILABLE,
                       0, "%s: the credentials document was not usable (HTTP %ld)", what,
                       resp->status);
    }
    h->result_release(&ignored);
    const sb_json_node *root = h->json_root(doc);
    size_t an = 0, sn = 0, tn = 0, en = 0;
    const char *a = h->json_string(h->json_pointer(root, "/AccessKeyId"), &an);
    const char *s = h->json_string(h->json_pointer(root, "/SecretAccessKey"), &sn);
    const char *t = h->json_string(h->json_pointer(root, "/Token"), &tn);
    const char *e = h->json_string(h->json_pointer(root, "/Expiration"), &en);
    int bad = a == NULL || s == NULL || put(c->access_key_id, a, an) ||
              put(c->secret_key, s, sn) || (t && put(c->session_token, t, tn));
    c->expires_unix_ms = e ? awssm_iso8601_ms(e, en) : 0;
    h->json_free(doc);
    if (bad)
        return h->fail(res, SB_E_PROTOCOL, 0, "%s: the credentials document is incomplete", what);
    return SB_OK;
}

/* ---- IMDSv2 ---------------------------------------------------------------------- */

static sb_status imds_get(awssm_instance *ai, const sb_call *call, const char *path,
                          const char *token, sb_http_response *resp, sb_result *res)
{
    awssm_str url = {0};
    awssm_str_add(&url, ai->imds_endpoint);
    awssm_str_add(&url, path);
    sb_kv headers[] = {{"X-aws-ec2-metadata-token", token}};
    sb_status st = url.failed ? awssm_host->fail(res, SB_E_INTERNAL, 0, "imds: out of memory")
                              : awssm_send(ai, call, "GET", url.p, headers, 1, NULL,
                                           SB_HTTP_ALLOW_HTTP, "imds_get", resp, res);
    awssm_str_free(&url);
    return st;
}

sb_status awssm_src_imds(awssm_instance *ai, const sb_call *call, awssm_creds *c,
                         sb_result *res)
{
    const sb_host_api *h = awssm_host;
    const char *disabled = getenv("AWS_EC2_METADATA_DISABLED");
    if (disabled && strcmp(disabled, "true") == 0 && ai->mode == AWSSM_CREDS_CHAIN)
        return SB_E_NOT_FOUND;
    awssm_str url = {0};
    awssm_str_add(&url, ai->imds_endpoint);
    awssm_str_add(&url, "/latest/api/token");
    sb_kv ttl[] = {{"X-aws-ec2-metadata-token-ttl-seconds", "21600"}};
    sb_http_response resp;
    sb_status st = url.failed ? h->fail(res, SB_E_INTERNAL, 0, "imds: out of memory")
                              : awssm_send(ai, call, "PUT", url.p, ttl, 1, NULL,
                                           SB_HTTP_ALLOW_HTTP, "imds_token", &resp, res);
    awssm_str_free(&url);
    if (st != SB_OK)
        return st;
    if (resp.status != 200) {
        long code = resp.status;
        h->http_response_free(&resp);
        if (ai->mode == AWSSM_CREDS_CHAIN && code == 404)
            return SB_E_NOT_FOUND;
        return h->fail(res, SB_E_UNAVAILABLE, 0, "imds: the token request answered HTTP %ld",
                       code);
    }
    /* the session token stays in the response's secure body */
    sb_http_response tokresp = resp;
    size_t token_len = 0;
    const char *token = tokresp.body ? (const char *)h->secure_data(tokresp.body, &token_len) : "";
    char role[256] = "";
    st = imds_get(ai, call, "/latest/meta-data/iam/security-credentials/", token, &resp, res);
    if (st == SB_OK) {
        size_t n = 0;
        const char *r = resp.body ? (const char *)h->secure_data(resp.body, &n) : "";
        size_t m = strcspn(r, "\r\n");
        if (resp.status == 200 && m > 0 && m < sizeof role && strcspn(r, "/") >= m)
            memcpy(role, r, m), role[m] = '\0';
        long code = resp.status;
        h->http_response_free(&resp);
        if (role[0] == '\0')
            st = code == 404 && ai->mode == AWSSM_CREDS_CHAIN
                     ? SB_E_NOT_FOUND
                     : h->fail(res, SB_E_CONFIG, 0,
                               "imds: no instance profile role (HTTP %ld)", code);
    }
    if (st == SB_OK) {
        char path[400];
        snprintf(path, sizeof path, "/latest/meta-data/iam/security-credentials/%s", role);
        st = imds_get(ai, call, path, token, &resp, res);
    }
    h->http_response_free(&tokresp);
    if (st != SB_OK)
        return st;
    st = json_credentials(&resp, "imds", c, res);
    h->http_response_free(&resp);
    if (st == SB_OK)
        c->source = "IMDSv2";
    return st;
}

/* ---- container credentials endpoint ------------------------------------------------- */

static int container_uri_allowed(const char *uri)
{
    if (strncmp(uri, "https://", 8) == 0)
        return 1;
    if (strncmp(uri, "http://", 7) != 0)
        return 0;
    const char *host = uri + 7;
    size_t n = strcspn(host, ":/");
    return strncmp(host, "127.", 4) == 0 || (n == 9 && strncmp(host, "localhost", 9) == 0) ||
           (n == 12 && strncmp(host, "169.254.170.2", 12) == 0) ||
           (n == 13 && strncmp(host, "169.254.170.23", 13) == 0) || strncmp(host, "[::1]", 5) == 0;
}

sb_status awssm_src_container(awssm_instance *ai, const sb_call *call, awssm_creds *c,
                              sb_result *res)
{
    const sb_host_api *h = awssm_host;
    const char *full = getenv("AWS_CONTAINER_CREDENTIALS_FULL_URI");
    const char *rel = getenv("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI");
    awssm_str url = {0};
    if (rel && rel[0] == '/') {
        awssm_str_add(&url, "http://169.254.170.2");
        awssm_str_add(&url, rel);
    } else if (full && full[0]) {
        if (!container_uri_allowed(full))
            return h->fail(res, SB_E_CONFIG, 0,
                           "credentials: AWS_CONTAINER_CREDENTIALS_FULL_URI must be https, or "
                           "http to loopback or the ECS/EKS credential agent");
        awssm_str_add(&url, full);
    } else {
        return SB_E_NOT_FOUND;
    }
    if (url.failed)
        return h->fail(res, SB_E_INTERNAL, 0, "container credentials: out of memory");
    sb_secure_buf *auth = NULL;
    const char *tok_file = getenv("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE");
    const char *tok_env = getenv("AWS_CONTAINER_AUTHORIZATION_TOKEN");
    sb_status st = SB_OK;
    if (tok_file && tok_file[0]) {
        st = h->read_file_secure(tok_file, AWSSM_MAX_FILE_BYTES, &auth, res);
    } else if (tok_env && tok_env[0]) {
        auth = h->secure_new(strlen(tok_env) + 1);
        if (auth == NULL || put(auth, tok_env, strlen(tok_env)))
            st = h->fail(res, SB_E_INTERNAL, 0, "container credentials: out of secure memory");
    }
    sb_kv headers[1];
    size_t nh = 0;
    sb_secure_buf *value = NULL;
    if (st == SB_OK && auth) {
        /* a token file usually ends with a newline; inside the token none may be */
        size_t al = 0;
        const char *a = (const char *)h->secure_data(auth, &al);
        while (al && (a[al - 1] == '\n' || a[al - 1] == '\r'))
            al--;
        if (memchr(a, '\n', al) || memchr(a, '\r', al))
            st = h->fail(res, SB_E_CONFIG, 0,
                         "container credentials: the authorization token holds a line break");
        else if ((value = h->secure_new(al + 1)) == NULL || put(value, a, al))
            st = h->fail(res, SB_E_INTERNAL, 0, "container credentials: out of secure memory");
        else
            headers[nh++] = (sb_kv){"Authorization", (const char *)h->secure_data(value, &al)};
    }
    sb_http_response resp;
    if (st == SB_OK)
        st = awssm_send(ai, call, "GET", url.p, headers, nh, NULL, SB_HTTP_ALLOW_HTTP,
                        "container_credentials", &resp, res);
    awssm_str_free(&url);
    if (st == SB_OK) {
        st = json_credentials(&resp, "container credentials", c, res);
        h->http_response_free(&resp);
    }
    h->secure_free(auth);
    h->secure_free(value);
    if (st == SB_OK)
        c->source = "container credentials endpoint";
    return st;
}
