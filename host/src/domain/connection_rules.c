/* domain/connection_rules.c — see connection_rules.h. Plain character
 * scanning (no regex library): every rule is a small, testable function. */
#include "domain/connection_rules.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define MAX_KEYS 4
#define VALUE_MAX 1024

typedef struct type_rule {
    const char *type;
    const char *required[MAX_KEYS];
    const char *optional[MAX_KEYS];
} type_rule;

static const type_rule rules[] = {
    {"vault", {"address", "mount"}, {"namespace", "kv_prefix"}},
    {"aws-sm", {"region"}, {"role_arn", "endpoint"}},
    {"gcp-sm", {"project_id"}, {"endpoint"}},
    {"azure-kv", {"vault_name"}, {"tenant_id"}},
    {"kubernetes", {"context"}, {"namespace"}},
};

static const type_rule *rule_of(const char *type)
{
    for (size_t i = 0; type && i < sizeof rules / sizeof rules[0]; i++)
        if (strcmp(rules[i].type, type) == 0)
            return &rules[i];
    return NULL;
}

bool sb_connection_type_known(const char *type) { return rule_of(type) != NULL; }

bool sb_connection_name_ok(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    if (n == 0 || n > 120 || !(islower((unsigned char)s[0]) || isdigit((unsigned char)s[0])))
        return false;
    for (size_t i = 1; i < n; i++)
        if (!(islower((unsigned char)s[i]) || isdigit((unsigned char)s[i]) || s[i] == '-'))
            return false;
    return true;
}

/* ---- credential-shaped keys ---------------------------------------------------- */

static bool contains_ci(const char *hay, const char *needle)
{
    size_t n = strlen(needle);
    for (; *hay; hay++)
        if (strncasecmp(hay, needle, n) == 0)
            return true;
    return false;
}

bool sb_connection_key_credential_shaped(const char *key)
{
    static const char *const words[] = {"token", "secret", "passw", "passphrase", "key",
                                        "credential", "private", "auth", "cert", "bearer",
                                        "session", "cookie", "pwd"};
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
        if (contains_ci(key, words[i]))
            return true;
    return false;
}

/* ---- secret-shaped values ------------------------------------------------------ */

static bool upper_alnum(char c) { return isupper((unsigned char)c) || isdigit((unsigned char)c); }
static bool b64url(char c) { return isalnum((unsigned char)c) || c == '-' || c == '_'; }
static bool b64any(char c) { return b64url(c) || c == '+' || c == '/' || c == '='; }

/* AKIA/ASIA + 16 [A-Z0-9] anywhere. */
static bool aws_key_id(const char *s)
{
    for (const char *p = s; *p; p++) {
        if (strncmp(p, "AKIA", 4) != 0 && strncmp(p, "ASIA", 4) != 0)
            continue;
        size_t k = 0;
        while (k < 16 && upper_alnum(p[4 + k]))
            k++;
        if (k == 16)
            return true;
    }
    return false;
}

/* prefix followed by at least min base64url characters, anywhere. */
static bool prefixed_token(const char *s, const char *prefix, size_t min)
{
    size_t n = strlen(prefix);
    for (const char *p = s; (p = strstr(p, prefix)) != NULL; p++) {
        size_t k = 0;
        while (b64url(p[n + k]))
            k++;
        if (k >= min)
            return true;
    }
    return false;
}

/* A legacy Vault service token: the whole value is s.<24+ alnum>. */
static bool legacy_vault_token(const char *s)
{
    if (strncmp(s, "s.", 2) != 0)
        return false;
    size_t k = 0;
    while (isalnum((unsigned char)s[2 + k]))
        k++;
    return k >= 24 && s[2 + k] == '\0';
}

/* eyJ<b64url>.<b64url>.<b64url> anywhere (a JWT / JWS compact form). */
static bool jwt(const char *s)
{
    for (const char *p = s; (p = strstr(p, "eyJ")) != NULL; p++) {
        const char *q = p;
        int parts = 0;
        for (;;) {
            size_t k = 0;
            while (b64url(q[k]))
                k++;
            if (k == 0)
                break;
            parts++;
            q += k;
            if (*q != '.' || parts == 3)
                break;
            q++;
        }
        if (parts == 3)
            return true;
    }
    return false;
}

/* A run of > 40 base64 characters with upper, lower, digits and many
 * distinct symbols: random key material rather than a name or a path. */
static bool high_entropy_run(const char *s)
{
    size_t i = 0, n = strlen(s);
    while (i < n) {
        size_t start = i;
        while (i < n && b64any(s[i]))
            i++;
        if (i - start > 40) {
            bool up = false, low = false, dig = false, seen[128] = {false};
            size_t distinct = 0;
            for (size_t k = start; k < i; k++) {
                unsigned char c = (unsigned char)s[k];
                up |= isupper(c) != 0;
                low |= islower(c) != 0;
                dig |= isdigit(c) != 0;
                if (c < 128 && !seen[c]) {
                    seen[c] = true;
                    distinct++;
                }
            }
            if (up && low && dig && distinct >= 20)
                return true;
        }
        if (i == start)
            i++;
    }
    return false;
}

bool sb_connection_value_secret_shaped(const char *s)
{
    return aws_key_id(s) || prefixed_token(s, "hvs.", 16) || prefixed_token(s, "hvb.", 16) ||
           prefixed_token(s, "hvr.", 16) || legacy_vault_token(s) || jwt(s) ||
           prefixed_token(s, "ya29.", 8) || strstr(s, "-----BEGIN") != NULL || high_entropy_run(s);
}

/* ---- URLs and ARNs --------------------------------------------------------------- */

/* NULL when url is acceptable, else the rule it breaks. */
static const char *url_problem(const char *url)
{
    const char *rest;
    if (strncmp(url, "https://", 8) == 0)
        rest = url + 8;
    else if (strncmp(url, "http://", 7) == 0)
        rest = url + 7;
    else
        return "must be an http:// or https:// URL";
    size_t auth_len = strcspn(rest, "/?#");
    if (auth_len == 0)
        return "must name a host";
    if (memchr(rest, '@', auth_len) != NULL)
        return "must not carry user information (user:password@); credentials belong on the agent";
    for (size_t i = 0; i < auth_len; i++)
        if (isspace((unsigned char)rest[i]))
            return "must not contain spaces";
    const char *q = strchr(rest, '?');
    while (q != NULL) {
        q++;
        char name[128];
        size_t k = strcspn(q, "=&#");
        snprintf(name, sizeof name, "%.*s", (int)(k < sizeof name - 1 ? k : sizeof name - 1), q);
        if (sb_connection_key_credential_shaped(name))
            return "must not carry credential-shaped query parameters (token, auth, secret...)";
        q = strchr(q, '&');
    }
    return NULL;
}

static bool role_arn_ok(const char *s)
{
    if (strncmp(s, "arn:aws", 7) != 0)
        return false;
    s += 7;
    while (islower((unsigned char)*s) || *s == '-')
        s++;
    if (strncmp(s, ":iam::", 6) != 0)
        return false;
    s += 6;
    for (int i = 0; i < 12; i++, s++)
        if (!isdigit((unsigned char)*s))
            return false;
    if (strncmp(s, ":role/", 6) != 0)
        return false;
    s += 6;
    size_t n = 0;
    for (; s[n]; n++)
        if (!(isalnum((unsigned char)s[n]) || strchr("+=,.@/_-", s[n])))
            return false;
    return n >= 1 && n <= 512;
}

/* ---- the scope ---------------------------------------------------------------- */

static bool listed(const char *const *list, const char *key)
{
    for (size_t i = 0; i < MAX_KEYS && list[i]; i++)
        if (strcmp(list[i], key) == 0)
            return true;
    return false;
}

/* How a key is named in messages: itself, or its position when it is not
 * a plain identifier or looks like a secret. */
static void key_label(const char *key, size_t i, char *out, size_t cap)
{
    size_t n = strlen(key);
    bool plain = n >= 1 && n <= 64 && !sb_connection_value_secret_shaped(key);
    for (size_t k = 0; plain && k < n; k++)
        plain = isalnum((unsigned char)key[k]) || strchr("_.-", key[k]);
    if (plain)
        snprintf(out, cap, "scope.%s", key);
    else
        snprintf(out, cap, "scope key #%zu", i + 1);
}

static void allowed_text(const type_rule *r, char *out, size_t cap)
{
    out[0] = '\0';
    for (size_t i = 0; i < MAX_KEYS && r->required[i]; i++)
        snprintf(out + strlen(out), cap - strlen(out), "%s%s (required)", out[0] ? ", " : "",
                 r->required[i]);
    for (size_t i = 0; i < MAX_KEYS && r->optional[i]; i++)
        snprintf(out + strlen(out), cap - strlen(out), "%s%s", out[0] ? ", " : "", r->optional[i]);
}

static int check_value(const char *key, const char *value, const char *label, sb_error *err)
{
    if (value == NULL || value[0] == '\0' || strlen(value) > VALUE_MAX)
        return sb_error_set(err, SB_CONN_E_INVALID,
                            "%s: must be a non-empty string of at most %d bytes", label, VALUE_MAX);
    if (sb_connection_value_secret_shaped(value))
        return sb_error_set(err, SB_CONN_E_CREDENTIAL,
                            "%s: secret-shaped values are refused (it looks like an access key, "
                            "token, JWT, private key or random key material): the control plane "
                            "never holds provider credentials (I4); configure them on the agent",
                            label);
    const char *problem = NULL;
    if (strcmp(key, "address") == 0 || strcmp(key, "endpoint") == 0)
        problem = url_problem(value);
    else if (strcmp(key, "role_arn") == 0 && !role_arn_ok(value))
        problem = "must look like arn:aws:iam::<12-digit account>:role/<name>";
    if (problem)
        return sb_error_set(err, SB_CONN_E_INVALID, "%s: %s", label, problem);
    return 0;
}

int sb_connection_check_scope(const char *type, const char *const *keys, const char *const *values,
                              size_t n, sb_error *err)
{
    const type_rule *r = rule_of(type);
    if (r == NULL)
        return sb_error_set(err, SB_CONN_E_INVALID,
                            "type: must be one of vault, aws-sm, gcp-sm, azure-kv, kubernetes");
    char allowed[256], label[96];
    allowed_text(r, allowed, sizeof allowed);
    for (size_t i = 0; i < n; i++) {
        key_label(keys[i], i, label, sizeof label);
        bool known = listed(r->required, keys[i]) || listed(r->optional, keys[i]);
        if (!known && (sb_connection_key_credential_shaped(keys[i]) ||
                       sb_connection_value_secret_shaped(keys[i])))
            return sb_error_set(err, SB_CONN_E_CREDENTIAL,
                                "%s: credential-shaped keys are refused: the control plane never "
                                "holds provider credentials (I4); configure them on the agent",
                                label);
        if (!known)
            return sb_error_set(err, SB_CONN_E_INVALID,
                                "%s: not a scope key of %s connections (allowed: %s)", label,
                                r->type, allowed);
    }
    for (size_t i = 0; i < n; i++) {
        key_label(keys[i], i, label, sizeof label);
        if (check_value(keys[i], values[i], label, err) != 0)
            return -1;
    }
    for (size_t k = 0; k < MAX_KEYS && r->required[k]; k++) {
        bool found = false;
        for (size_t i = 0; i < n && !found; i++)
            found = strcmp(keys[i], r->required[k]) == 0;
        if (!found)
            return sb_error_set(err, SB_CONN_E_INVALID,
                                "scope.%s: required for %s connections (allowed: %s)",
                                r->required[k], r->type, allowed);
    }
    return 0;
}
