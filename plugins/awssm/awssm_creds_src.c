/*
 * plugins/awssm/awssm_creds_src.c — where credentials come from.
 *
 * Contract: each source fills an awssm_creds (secure buffers) or returns
 * SB_E_NOT_FOUND with `res` untouched when it has nothing to offer:
 *   static        access_key_id / secret_access_key / session_token of the
 *                 instance config (SB_CFG_SECRET fields)
 *   env           AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN
 *   profile       the profile (config `profile`, AWS_PROFILE, "default") in
 *                 the shared credentials file ([name]) and then the config
 *                 file ([profile name] / [default]): aws_access_key_id,
 *                 aws_secret_access_key, aws_session_token. Files are read
 *                 into secure memory and parsed there.
 *   web identity  role (config or AWS_ROLE_ARN) + token file (config or
 *                 AWS_WEB_IDENTITY_TOKEN_FILE, read afresh each time) ->
 *                 unsigned STS AssumeRoleWithWebIdentity
 *   (IMDSv2 and the container endpoint: awssm_creds_http.c)
 *   assume role   STS AssumeRole signed with the base credentials
 * STS answers (XML) and IMDS documents (JSON) are parsed in secure memory and
 * the fields appended straight into the target buffers.
 */
#include "awssm.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int put(sb_secure_buf *b, const char *s, size_t n)
{
    return awssm_host->secure_append(b, s, n);
}

sb_status awssm_src_static(awssm_instance *ai, awssm_creds *c, sb_result *res)
{
    const sb_host_api *h = awssm_host;
    int a = ai->cfg_access_key_id && ai->cfg_access_key_id[0];
    int s = ai->cfg_secret_key && ai->cfg_secret_key[0];
    if (!a && !s)
        return SB_E_NOT_FOUND;
    if (!a || !s)
        return h->fail(res, SB_E_CONFIG, 0,
                       "credentials: set both access_key_id and secret_access_key");
    if (put(c->access_key_id, ai->cfg_access_key_id, strlen(ai->cfg_access_key_id)) ||
        put(c->secret_key, ai->cfg_secret_key, strlen(ai->cfg_secret_key)) ||
        (ai->cfg_session_token &&
         put(c->session_token, ai->cfg_session_token, strlen(ai->cfg_session_token))))
        return h->fail(res, SB_E_INTERNAL, 0, "credentials: out of secure memory");
    c->source = "instance config";
    return SB_OK;
}

sb_status awssm_src_env(awssm_creds *c, sb_result *res)
{
    const sb_host_api *h = awssm_host;
    const char *a = getenv("AWS_ACCESS_KEY_ID"), *s = getenv("AWS_SECRET_ACCESS_KEY");
    const char *t = getenv("AWS_SESSION_TOKEN");
    if ((a == NULL || !a[0]) && (s == NULL || !s[0]))
        return SB_E_NOT_FOUND;
    if (a == NULL || !a[0] || s == NULL || !s[0])
        return h->fail(res, SB_E_CONFIG, 0,
                       "credentials: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY must both be set");
    if (put(c->access_key_id, a, strlen(a)) || put(c->secret_key, s, strlen(s)) ||
        (t && t[0] && put(c->session_token, t, strlen(t))))
        return h->fail(res, SB_E_INTERNAL, 0, "credentials: out of secure memory");
    c->source = "environment";
    return SB_OK;
}

/* ---- shared files ------------------------------------------------------------ */

static char *default_file(const char *configured, const char *env, const char *leaf)
{
    if (configured)
        return awssm_strdup(configured);
    const char *e = getenv(env);
    if (e && e[0])
        return awssm_strdup(e);
    const char *home = getenv("HOME");
    if (home == NULL || home[0] != '/')
        return NULL;
    awssm_str s = {0};
    awssm_str_add(&s, home);
    awssm_str_add(&s, "/.aws/");
    awssm_str_add(&s, leaf);
    if (s.failed) {
        awssm_str_free(&s);
        return NULL;
    }
    return s.p;
}

static void trim(const char **p, size_t *n)
{
    while (*n && (**p == ' ' || **p == '\t'))
        (*p)++, (*n)--;
    while (*n && ((*p)[*n - 1] == ' ' || (*p)[*n - 1] == '\t' || (*p)[*n - 1] == '\r'))
        (*n)--;
}

/* Scans an INI text (secure) for `section`; appends the three keys to c.
 * Returns 1 when the section was found with both keys, 0 otherwise. */
static int ini_profile(const char *text, size_t len, const char *section, awssm_creds *c)
{
    int in = 0, got = 0;
    const char *p = text, *end = text + len;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
        const char *line = p;
        p = nl ? nl + 1 : end;
        trim(&line, &n);
        if (n == 0 || line[0] == '#' || line[0] == ';')
            continue;
        if (line[0] == '[') {
            const char *name = line + 1;
            size_t m = n > 1 && line[n - 1] == ']' ? n - 2 : 0;
            trim(&name, &m);
            in = m == strlen(section) && memcmp(name, section, m) == 0;
            if (got == 3)
                break;
            continue;
        }
        if (!in)
            continue;
        const char *eq = memchr(line, '=', n);
        if (eq == NULL)
            continue;
        const char *k = line, *v = eq + 1;
        size_t kn = (size_t)(eq - line), vn = n - kn - 1;
        trim(&k, &kn);
        trim(&v, &vn);
        sb_secure_buf *dst = NULL;
        if (kn == 17 && memcmp(k, "aws_access_key_id", 17) == 0)
            dst = c->access_key_id, got |= 1;
        else if (kn == 21 && memcmp(k, "aws_secret_access_key", 21) == 0)
            dst = c->secret_key, got |= 2;
        else if (kn == 17 && memcmp(k, "aws_session_token", 17) == 0)
            dst = c->session_token;
        if (dst) {
            awssm_host->secure_clear(dst);
            if (put(dst, v, vn) != 0)
                return 0;
        }
    }
    return got == 3;
}

static int profile_in_file(const char *path, const char *section, awssm_creds *c)
{
    const sb_host_api *h = awssm_host;
    if (path == NULL)
        return 0;
    sb_secure_buf *buf = NULL;
    sb_result ignored = SB_RESULT_INIT;
    int found = 0;
    if (h->read_file_secure(path, AWSSM_MAX_FILE_BYTES, &buf, &ignored) == SB_OK) {
        size_t len = 0;
        const char *text = (const char *)h->secure_data(buf, &len);
        found = ini_profile(text, len, section, c);
    }
    h->secure_free(buf);
    h->result_release(&ignored);
    if (!found)
        awssm_creds_clear(c);
    return found;
}

sb_status awssm_src_profile(awssm_instance *ai, const sb_call *call, awssm_creds *c,
                            sb_result *res)
{
    (void)call;
    const sb_host_api *h = awssm_host;
    const char *env_profile = getenv("AWS_PROFILE");
    const char *profile = ai->profile ? ai->profile
                                      : (env_profile && env_profile[0] ? env_profile : "default");
    char *cred_file = default_file(ai->credentials_file, "AWS_SHARED_CREDENTIALS_FILE",
                                   "credentials");
    char *conf_file = default_file(ai->config_file, "AWS_CONFIG_FILE", "config");
    char section[300];
    int found = profile_in_file(cred_file, profile, c);
    if (!found) {
        snprintf(section, sizeof section, "%s%s", strcmp(profile, "default") ? "profile " : "",
                 profile);
        found = profile_in_file(conf_file, section, c);
    }
    free(cred_file);
    free(conf_file);
    if (!found)
        return SB_E_NOT_FOUND;
    c->source = "shared credentials file";
    (void)h;
    (void)res;
    return SB_OK;
}

/* ---- STS ----------------------------------------------------------------------- */

static int form_add(sb_secure_buf *b, const char *key, const char *value, size_t len)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t have = 0;
    awssm_host->secure_data(b, &have);
    if ((have && put(b, "&", 1)) || put(b, key, strlen(key)) || put(b, "=", 1))
        return -1;
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)value[i];
        char e[3] = {'%', hex[ch >> 4], hex[ch & 15]};
        int plain = (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
                    (ch >= '0' && ch <= '9') || ch == '-' || ch == '_' || ch == '.' || ch == '~';
        if (plain ? put(b, (const char *)&value[i], 1) : put(b, e, 3))
            return -1;
    }
    return 0;
}

/* Appends the text of <tag>...</tag> in the secure XML body to dst. */
static int xml_take(const char *body, size_t len, const char *tag, sb_secure_buf *dst)
{
    char open[48], close[48];
    snprintf(open, sizeof open, "<%s>", tag);
    snprintf(close, sizeof close, "</%s>", tag);
    const char *a = memmem(body, len, open, strlen(open));
    if (a == NULL)
        return -1;
    a += strlen(open);
    const char *b = memmem(a, len - (size_t)(a - body), close, strlen(close));
    if (b == NULL || b == a)
        return -1;
    return put(dst, a, (size_t)(b - a));
}

/* Parses an AssumeRole* answer into c. */
static sb_status sts_credentials(sb_http_response *resp, const char *what, awssm_creds *c,
                                 sb_result *res)
{
    const sb_host_api *h = awssm_host;
    if (resp->status != 200)
        return awssm_fail_response(resp, what, NULL, 0, res);
    size_t len = 0;
    const char *body = resp->body ? (const char *)h->secure_data(resp->body, &len) : "";
    sb_secure_buf *exp = h->secure_new(32);
    int bad = exp == NULL || xml_take(body, len, "AccessKeyId", c->access_key_id) ||
              xml_take(body, len, "SecretAccessKey", c->secret_key) ||
              xml_take(body, len, "SessionToken", c->session_token) ||
              xml_take(body, len, "Expiration", exp);
    if (!bad) {
        size_t el = 0;
        const char *e = (const char *)h->secure_data(exp, &el);
        c->expires_unix_ms = awssm_iso8601_ms(e, el);
        bad = c->expires_unix_ms == 0;
    }
    h->secure_free(exp);
    if (bad)
        return h->fail(res, SB_E_PROTOCOL, 0,
                       "%s: STS answered without complete credentials", what);
    return SB_OK;
}

static const char *env_or(const char *configured, const char *env)
{
    if (configured)
        return configured;
    const char *e = getenv(env);
    return e && e[0] ? e : NULL;
}

sb_status awssm_src_web_identity(awssm_instance *ai, const sb_call *call, awssm_creds *c,
                                 sb_result *res)
{
    const sb_host_api *h = awssm_host;
    const char *role = env_or(ai->web_identity_role_arn, "AWS_ROLE_ARN");
    const char *file = env_or(ai->web_identity_token_file, "AWS_WEB_IDENTITY_TOKEN_FILE");
    if (role == NULL || file == NULL)
        return SB_E_NOT_FOUND;
    sb_secure_buf *tok = NULL;
    sb_status st = h->read_file_secure(file, AWSSM_MAX_FILE_BYTES, &tok, res);
    if (st != SB_OK)
        return st;
    size_t tl = 0;
    const char *t = (const char *)h->secure_data(tok, &tl);
    while (tl && (t[tl - 1] == '\n' || t[tl - 1] == '\r' || t[tl - 1] == ' '))
        tl--;
    sb_secure_buf *body = h->secure_new(tl + 512);
    const char *session = ai->role_session_name ? ai->role_session_name : "sbridge";
    if (body == NULL || form_add(body, "Action", "AssumeRoleWithWebIdentity", 25) ||
        form_add(body, "Version", "2011-06-15", 10) || form_add(body, "RoleArn", role, strlen(role)) ||
        form_add(body, "RoleSessionName", session, strlen(session)) ||
        form_add(body, "WebIdentityToken", t, tl)) {
        h->secure_free(tok);
        h->secure_free(body);
        return h->fail(res, SB_E_INTERNAL, 0, "web identity: out of secure memory");
    }
    h->secure_free(tok);
    awssm_str url = {0};
    awssm_str_add(&url, ai->sts_endpoint);
    awssm_str_add(&url, "/");
    sb_kv headers[] = {{"Content-Type", "application/x-www-form-urlencoded; charset=utf-8"}};
    sb_http_response resp;
    st = url.failed ? h->fail(res, SB_E_INTERNAL, 0, "web identity: out of memory")
                    : awssm_send(ai, call, "POST", url.p, headers, 1, body, SB_HTTP_BODY_SECRET,
                                 "sts_web_identity", &resp, res);
    awssm_str_free(&url);
    h->secure_free(body);
    if (st != SB_OK)
        return st;
    st = sts_credentials(&resp, "sts AssumeRoleWithWebIdentity", c, res);
    h->http_response_free(&resp);
    if (st == SB_OK)
        c->source = "web identity";
    return st;
}

sb_status awssm_src_assume_role(awssm_instance *ai, const sb_call *call, const awssm_creds *with,
                                awssm_creds *c, sb_result *res)
{
    const sb_host_api *h = awssm_host;
    const char *session = ai->role_session_name ? ai->role_session_name : "sbridge";
    sb_secure_buf *body = h->secure_new(512);
    if (body == NULL || form_add(body, "Action", "AssumeRole", 10) ||
        form_add(body, "Version", "2011-06-15", 10) ||
        form_add(body, "RoleArn", ai->role_arn, strlen(ai->role_arn)) ||
        form_add(body, "RoleSessionName", session, strlen(session)) ||
        (ai->external_id &&
         form_add(body, "ExternalId", ai->external_id, strlen(ai->external_id)))) {
        h->secure_free(body);
        return h->fail(res, SB_E_INTERNAL, 0, "assume role: out of secure memory");
    }
    sb_http_response resp;
    sb_status st = awssm_sts_send(ai, call, with, body, "sts_assume_role", &resp, res);
    h->secure_free(body);
    if (st != SB_OK)
        return st;
    st = sts_credentials(&resp, "sts AssumeRole", c, res);
    h->http_response_free(&resp);
    if (st == SB_OK)
        c->source = "assumed role";
    return st;
}
