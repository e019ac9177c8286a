/*
 * test_api_oidc.c — single sign-on end to end: the real control plane
 * (PostgreSQL, HTTP on loopback, api/oidc_*.c) against the OpenID provider
 * emulator (tests/emulators/oidc, a separate python process). The test
 * plays the browser: it follows the redirects by hand, carrying the
 * sb_oidc binding cookie from /oidc/login to /oidc/callback.
 *
 * Asserted: a first sign-in creates a JIT user (source oidc, no grants,
 * linked by issuer+sub) with a working session and an auth.login audit
 * event (method oidc); a second reuses the user; a provider account named
 * like a local user never becomes it; replayed, unknown and foreign states
 * fail; every ID token fault the emulator can script (wrong nonce, aud,
 * iss, several audiences without azp, expired, issued in the future, bad
 * signature, alg none, HS256 with the client secret, an unknown kid) is
 * refused, audited with its reason and opens no session; a key rotation is
 * followed by fetching the JWKS exactly once more; open-redirect return_to
 * values land on "/"; the provider's ?error= is audited; email domains are
 * enforced; without oidc: the routes answer 404 and providers says so.
 */
#include <criterion/criterion.h>
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api/app_keys.h"
#include "cli/cli.h"
#include "plugin/registry.h"
#include "api/oidc_provider.h"
#include "api_harness.h"
#include "emulator_support.h"
#include "pg_harness.h"

ReportHook(PRE_ALL)(struct criterion_test_set *s)
{
    (void)s;
    sb_pg_harness_shared_start();
}
ReportHook(POST_ALL)(struct criterion_global_stats *s)
{
    (void)s;
    sb_pg_harness_shared_stop();
}

static sb_api_harness *h;
static es_proc idp;
static char issuer[64];

static void configure_oidc(void)
{
    sb_settings *s = sb_api_harness_settings(h);
    memset(&s->oidc, 0, sizeof s->oidc);
    s->oidc.pos.present = 1;
    s->oidc.issuer = issuer;
    s->oidc.client_id = (char *)"sbridge";
    s->oidc.client_secret = (char *)"emulator-client-secret";
    s->oidc.redirect_uri = (char *)"http://127.0.0.1:1/api/v1/auth/oidc/callback";
    s->oidc.scopes = (char *)"openid email profile";
    s->oidc.button_label = (char *)"Sign in with Example ID";
    s->oidc.clock_skew_ms = 60000;
    cr_assert_eq(sb_api_harness_restart_http(h), 0, "the server did not restart with oidc");
}

static void setup(void)
{
    const char *args[] = {"--client-id", "sbridge", "--redirect-uri",
                          "http://127.0.0.1:1/api/v1/auth/oidc/callback", NULL};
    es_proc_start(&idp, "tests/emulators/oidc/oidc_emulator.py", args);
    snprintf(issuer, sizeof issuer, "http://127.0.0.1:%d", idp.port);
    cr_assert_eq(sb_api_harness_start(&h), 0, "the API harness did not start");
    configure_oidc();
}
static void teardown(void)
{
    sb_settings *s = sb_api_harness_settings(h);
    memset(&s->oidc, 0, sizeof s->oidc); /* borrowed strings: nothing to free */
    sb_api_harness_stop(h);
    es_proc_stop(&idp);
}
TestSuite(oidc, .init = setup, .fini = teardown, .timeout = 240);

/* ---- the browser, by hand ------------------------------------------------------- */

static void idp_admin(const char *name, const char *json)
{
    char url[256];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/_emulator/%s", idp.port, name);
    struct curl_slist *hd = curl_slist_append(NULL, "X-Emulator-Admin: 1");
    hd = curl_slist_append(hd, "Content-Type: application/json");
    char *body = NULL;
    long code = es_http("POST", url, hd, json ? json : "{}", &body);
    curl_slist_free_all(hd);
    cr_assert_eq(code, 200, "emulator %s: %ld %s", name, code, body ? body : "");
    free(body);
}

static long idp_stat(const char *name)
{
    char url[256], *body = NULL;
    snprintf(url, sizeof url, "http://127.0.0.1:%d/_emulator/stats", idp.port);
    struct curl_slist *hd = curl_slist_append(NULL, "X-Emulator-Admin: 1");
    es_http("GET", url, hd, NULL, &body);
    curl_slist_free_all(hd);
    json_t *doc = json_loads(body ? body : "", 0, NULL);
    long n = (long)json_integer_value(json_object_get(doc, name));
    json_decref(doc);
    free(body);
    return n;
}

static size_t collect_headers(char *data, size_t size, size_t n, void *user)
{
    char *buf = user;
    size_t have = strlen(buf), len = size * n;
    if (have + len < 8192) {
        memcpy(buf + have, data, len);
        buf[have + len] = '\0';
    }
    return len;
}
static size_t discard(char *d, size_t s, size_t n, void *u) { (void)d, (void)u; return s * n; }

/* GET url without following; the Location header into loc. Returns the status. */
static long get_location(const char *url, char *loc, size_t cap)
{
    char *headers = calloc(1, 8192);
    CURL *c = curl_easy_init();
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, collect_headers);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, headers);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 10L);
    long status = 0;
    if (curl_easy_perform(c) == CURLE_OK)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_cleanup(c);
    loc[0] = '\0';
    const char *p = strcasestr(headers, "\nLocation: ");
    if (p)
        snprintf(loc, cap, "%.*s", (int)strcspn(p + 11, "\r\n"), p + 11);
    free(headers);
    return status;
}

/* The value of a Set-Cookie for name in raw headers ("" when absent). */
static void set_cookie(const char *headers, const char *name, char *out, size_t cap)
{
    char needle[64];
    snprintf(needle, sizeof needle, "Set-Cookie: %s=", name);
    const char *p = headers ? strcasestr(headers, needle) : NULL;
    out[0] = '\0';
    if (p)
        snprintf(out, cap, "%.*s", (int)strcspn(p + strlen(needle), ";\r\n"), p + strlen(needle));
}

typedef struct flow {
    char binding[128];       /* sb_oidc cookie from /oidc/login */
    char callback_query[4096]; /* what the provider sent back */
    char location[4096];     /* where the callback sent the browser */
    char session[128];       /* sb_session, "" when none */
} flow;

/* /oidc/login → the provider's /authorize → the callback URL's query. */
static void begin(const char *return_to_encoded, flow *f)
{
    memset(f, 0, sizeof *f);
    char path[512];
    snprintf(path, sizeof path, "/api/v1/auth/oidc/login%s%s", return_to_encoded ? "?return_to=" : "",
             return_to_encoded ? return_to_encoded : "");
    sb_api_response r;
    cr_assert_eq(sb_api_call(h, "GET", path, NULL, NULL, NULL, &r), 302, "login: %ld %s", r.status, r.body);
    char authorize[4096];
    cr_assert_eq(sb_api_response_header(&r, "Location", authorize, sizeof authorize), 0);
    set_cookie(r.headers, "sb_oidc", f->binding, sizeof f->binding);
    cr_assert(strstr(r.headers, "SameSite=Lax") && strstr(r.headers, "HttpOnly"),
              "the binding cookie is HttpOnly and SameSite=Lax: %s", r.headers);
    sb_api_response_free(&r);
    cr_assert(f->binding[0], "login set no sb_oidc cookie");
    cr_assert(strncmp(authorize, issuer, strlen(issuer)) == 0, "not sent to the issuer: %s", authorize);
    cr_assert(strstr(authorize, "code_challenge_method=S256") && strstr(authorize, "nonce=") &&
              strstr(authorize, "state="), "authorize URL lacks PKCE/state/nonce: %s", authorize);
    cr_assert(strstr(authorize, f->binding) == NULL, "the verifier must not travel to the provider");
    char back[4096];
    cr_assert_eq(get_location(authorize, back, sizeof back), 302, "authorize did not redirect");
    const char *q = strchr(back, '?');
    cr_assert(q, "no query in %s", back);
    snprintf(f->callback_query, sizeof f->callback_query, "%s", q + 1);
}

/* The callback with the given query and binding cookie (NULL: none). */
static long finish(flow *f, const char *query, const char *binding)
{
    char path[4200], cookie[200];
    snprintf(path, sizeof path, "/api/v1/auth/oidc/callback?%s", query);
    const char *hdrs[] = {cookie, NULL};
    snprintf(cookie, sizeof cookie, "Cookie: sb_oidc=%s", binding ? binding : "");
    sb_api_response r;
    long st = sb_api_call_with(h, "GET", path, NULL, NULL, NULL, binding ? hdrs : NULL, &r);
    f->location[0] = '\0';
    sb_api_response_header(&r, "Location", f->location, sizeof f->location);
    set_cookie(r.headers, "sb_session", f->session, sizeof f->session);
    sb_api_response_free(&r);
    return st;
}

static void sso(const char *return_to_encoded, flow *f)
{
    begin(return_to_encoded, f);
    cr_assert_eq(finish(f, f->callback_query, f->binding), 302);
}

static long sql(const char *q, char *out, size_t cap) { return sb_api_harness_sql(h, q, out, cap); }

static void me(const char *session, char *username, size_t cap, char *id, size_t id_cap)
{
    sb_api_response r;
    cr_assert_eq(sb_api_call(h, "GET", "/api/v1/users/me", NULL, session, NULL, &r), 200, "%s", r.body);
    json_t *u = json_object_get(r.json, "user");
    if (u == NULL)
        u = r.json;
    snprintf(username, cap, "%s", json_string_value(json_object_get(u, "username")));
    snprintf(id, id_cap, "%s", json_string_value(json_object_get(u, "id")));
    sb_api_response_free(&r);
}

/* The latest oidc auth.login failure's reason. */
static void last_failure_reason(char *out, size_t cap)
{
    cr_assert_eq(sql("SELECT details->>'reason' FROM audit_events WHERE action = 'auth.login' AND "
                     "outcome = 'failure' AND details->>'method' = 'oidc' ORDER BY id DESC LIMIT 1",
                     out, cap),
                 1, "no oidc failure audited");
}

/* ---- tests ---------------------------------------------------------------------- */

Test(oidc, providers_say_sso_is_configured)
{
    sb_api_response r;
    cr_assert_eq(sb_api_call(h, "GET", "/api/v1/auth/providers", NULL, NULL, NULL, &r), 200);
    json_t *sso = json_object_get(r.json, "sso");
    cr_assert_str_eq(json_string_value(json_object_get(sso, "label")), "Sign in with Example ID");
    cr_assert_str_eq(json_string_value(json_object_get(sso, "login_url")), "/api/v1/auth/oidc/login");
    sb_api_response_free(&r);
}

Test(oidc, first_login_creates_a_jit_user_with_a_working_session)
{
    flow f;
    sso("%2Frequests%3Fmine%3D1", &f);
    cr_assert_str_eq(f.location, "/requests?mine=1");
    cr_assert(f.session[0], "no session cookie");
    char name[130], id[40], cell[256];
    me(f.session, name, sizeof name, id, sizeof id);
    cr_assert_str_eq(name, "ada");
    char q[512];
    snprintf(q, sizeof q, "SELECT source FROM users WHERE id = '%s'", id);
    cr_assert_eq(sql(q, cell, sizeof cell), 1);
    cr_assert_str_eq(cell, "oidc");
    snprintf(q, sizeof q, "SELECT issuer || '|' || subject FROM oidc_identities WHERE user_id = '%s'", id);
    cr_assert_eq(sql(q, cell, sizeof cell), 1);
    char want[128];
    snprintf(want, sizeof want, "%s|user-0001", issuer);
    cr_assert_str_eq(cell, want);
    snprintf(q, sizeof q, "SELECT count(*) FROM grants WHERE user_id = '%s'", id);
    sql(q, cell, sizeof cell);
    cr_assert_str_eq(cell, "0", "a JIT user gets no grants");
    snprintf(q, sizeof q, "SELECT count(*) FROM audit_events WHERE action = 'auth.login' AND "
                          "outcome = 'success' AND details->>'method' = 'oidc' AND resource = 'user:%s'", id);
    sql(q, cell, sizeof cell);
    cr_assert_str_eq(cell, "1");
    snprintf(q, sizeof q, "SELECT count(*) FROM audit_events WHERE action = 'user.create' AND resource = 'user:%s'", id);
    sql(q, cell, sizeof cell);
    cr_assert_str_eq(cell, "1");
    /* and the state row is gone (single use) */
    sql("SELECT count(*) FROM oidc_login_states", cell, sizeof cell);
    cr_assert_str_eq(cell, "0");
}

Test(oidc, second_login_reuses_the_user)
{
    flow a, b;
    sso(NULL, &a);
    cr_assert_str_eq(a.location, "/");
    idp_admin("next-login", "{\"claims\":{\"preferred_username\":\"ada.renamed\",\"name\":\"A. L.\"}}");
    sso(NULL, &b);
    char n1[130], id1[40], n2[130], id2[40], cell[64];
    me(a.session, n1, sizeof n1, id1, sizeof id1);
    me(b.session, n2, sizeof n2, id2, sizeof id2);
    cr_assert_str_eq(id1, id2, "the same (issuer, sub) is the same user");
    cr_assert_str_neq(a.session, b.session);
    sql("SELECT count(*) FROM users WHERE source = 'oidc'", cell, sizeof cell);
    cr_assert_str_eq(cell, "1");
}

Test(oidc, a_provider_account_never_takes_over_a_local_one)
{
    char local_id[40];
    cr_assert_eq(sb_api_harness_user(h, "root", "a long enough password", "admin", "global", NULL, local_id), 0);
    idp_admin("next-login", "{\"claims\":{\"sub\":\"attacker\",\"preferred_username\":\"root\"}}");
    flow f;
    sso(NULL, &f);
    char name[130], id[40];
    me(f.session, name, sizeof name, id, sizeof id);
    cr_assert_str_neq(id, local_id);
    cr_assert_str_eq(name, "root-2");
}

Test(oidc, a_state_is_single_use_and_bound_to_the_browser)
{
    flow f;
    begin(NULL, &f);
    char reason[64];
    /* without the binding cookie (another browser, a login-CSRF link) */
    cr_assert_eq(finish(&f, f.callback_query, NULL), 302);
    cr_assert_str_eq(f.location, "/login?sso_error=invalid_state");
    cr_assert_str_eq(f.session, "");
    last_failure_reason(reason, sizeof reason);
    cr_assert_str_eq(reason, "browser_mismatch");
    /* the state was consumed by that attempt: replaying it fails too */
    cr_assert_eq(finish(&f, f.callback_query, f.binding), 302);
    cr_assert_str_eq(f.location, "/login?sso_error=invalid_state");
    last_failure_reason(reason, sizeof reason);
    cr_assert_str_eq(reason, "unknown_or_used_state");
    /* a good sign-in, then its callback replayed */
    flow g;
    sso(NULL, &g);
    cr_assert(g.session[0]);
    cr_assert_eq(finish(&g, g.callback_query, g.binding), 302);
    cr_assert_str_eq(g.location, "/login?sso_error=invalid_state");
    cr_assert_str_eq(g.session, "");
    /* a made-up state */
    flow x;
    begin(NULL, &x);
    char forged[4200];
    snprintf(forged, sizeof forged, "code=abc&state=forged-state-value");
    cr_assert_eq(finish(&x, forged, x.binding), 302);
    cr_assert_str_eq(x.location, "/login?sso_error=invalid_state");
    cr_assert_eq(finish(&x, "code=abc", x.binding), 302);
    last_failure_reason(reason, sizeof reason);
    cr_assert_str_eq(reason, "missing_state");
}

static void expect_token_refused(const char *fault, const char *reason_want)
{
    char json[128], reason[64];
    snprintf(json, sizeof json, "{\"fault\":\"%s\"}", fault);
    idp_admin("next-login", json);
    flow f;
    sso(NULL, &f);
    cr_assert_str_eq(f.location, "/login?sso_error=invalid_id_token", "%s: %s", fault, f.location);
    cr_assert_str_eq(f.session, "", "%s opened a session", fault);
    last_failure_reason(reason, sizeof reason);
    cr_assert_str_eq(reason, reason_want, "%s", fault);
}

Test(oidc, every_id_token_fault_is_refused_and_audited)
{
    expect_token_refused("wrong_nonce", "nonce_mismatch");
    expect_token_refused("wrong_aud", "wrong_audience");
    expect_token_refused("multi_aud_no_azp", "wrong_audience");
    expect_token_refused("wrong_iss", "wrong_issuer");
    expect_token_refused("expired", "expired");
    expect_token_refused("future_iat", "not_yet_valid");
    expect_token_refused("bad_signature", "bad_signature");
    expect_token_refused("alg_none", "algorithm_refused");
    expect_token_refused("hs256", "algorithm_refused");
    long before = idp_stat("jwks");
    expect_token_refused("unknown_kid", "unknown_key");
    cr_assert_eq(idp_stat("jwks"), before + 1, "an unknown kid fetches the JWKS once more, once");
    char cell[64];
    sql("SELECT count(*) FROM users WHERE source = 'oidc'", cell, sizeof cell);
    cr_assert_str_eq(cell, "0", "no refused sign-in created a user");
    sql("SELECT count(*) FROM sessions", cell, sizeof cell);
    cr_assert_str_eq(cell, "0", "no refused sign-in opened a session");
}

Test(oidc, a_key_rotation_is_followed_once)
{
    flow a, b;
    sso(NULL, &a);
    cr_assert(a.session[0]);
    long before = idp_stat("jwks");
    idp_admin("rotate-keys", NULL);
    sso(NULL, &b);
    cr_assert(b.session[0], "the rotated key was not picked up: %s", b.location);
    cr_assert_eq(idp_stat("jwks"), before + 1);
    flow c;
    sso(NULL, &c); /* the new key is cached now */
    cr_assert(c.session[0]);
    cr_assert_eq(idp_stat("jwks"), before + 1);
}

Test(oidc, open_redirects_land_on_the_root)
{
    const char *attempts[] = {"%2F%2Fevil.example", "https%3A%2F%2Fevil.example", "%2F%5Cevil.example",
                              "javascript%3Aalert(1)", "%2F%09%2Fevil.example", "evil.example"};
    for (size_t i = 0; i < sizeof attempts / sizeof attempts[0]; i++) {
        flow f;
        sso(attempts[i], &f);
        cr_assert(f.session[0], "%s: no session", attempts[i]);
        cr_assert_str_eq(f.location, "/", "%s went to %s", attempts[i], f.location);
    }
}

Test(oidc, the_providers_error_is_audited)
{
    idp_admin("next-login", "{\"error\":\"access_denied\"}");
    flow f;
    sso(NULL, &f);
    cr_assert_str_eq(f.location, "/login?sso_error=idp_error");
    char cell[64];
    cr_assert_eq(sql("SELECT details->>'idp_error' FROM audit_events WHERE action = 'auth.login' "
                     "AND details->>'reason' = 'idp_error' ORDER BY id DESC LIMIT 1", cell, sizeof cell), 1);
    cr_assert_str_eq(cell, "access_denied");
}

Test(oidc, email_domains_are_enforced)
{
    sb_settings *s = sb_api_harness_settings(h);
    char *domains[] = {(char *)"example.org"};
    s->oidc.allowed_email_domains.items = domains;
    s->oidc.allowed_email_domains.n = 1;
    flow f;
    sso(NULL, &f);
    cr_assert_str_eq(f.location, "/login?sso_error=email_domain_not_allowed");
    idp_admin("next-login", "{\"claims\":{\"email\":\"ada@EXAMPLE.org\"}}");
    sso(NULL, &f);
    cr_assert(f.session[0], "a verified email in the domain signs in: %s", f.location);
    idp_admin("next-login", "{\"claims\":{\"email\":\"ada@example.org\",\"email_verified\":false}}");
    sso(NULL, &f);
    cr_assert_str_eq(f.location, "/login?sso_error=email_domain_not_allowed", "unverified email");
    s->oidc.allowed_email_domains.items = NULL;
    s->oidc.allowed_email_domains.n = 0;
}

Test(oidc, a_disabled_jit_user_cannot_sign_in)
{
    flow f;
    sso(NULL, &f);
    char name[130], id[40], q[256], cell[16];
    me(f.session, name, sizeof name, id, sizeof id);
    snprintf(q, sizeof q, "UPDATE users SET status = 'disabled' WHERE id = '%s' RETURNING 1", id);
    cr_assert_eq(sql(q, cell, sizeof cell), 1);
    sso(NULL, &f);
    cr_assert_str_eq(f.location, "/login?sso_error=account_disabled");
    cr_assert_str_eq(f.session, "");
}

Test(oidc, without_oidc_the_routes_say_so)
{
    sb_settings *s = sb_api_harness_settings(h);
    s->oidc.pos.present = 0;
    cr_assert_eq(sb_api_harness_restart_http(h), 0);
    sb_api_response r;
    cr_assert_eq(sb_api_call(h, "GET", "/api/v1/auth/providers", NULL, NULL, NULL, &r), 200);
    cr_assert(json_is_null(json_object_get(r.json, "sso")));
    sb_api_response_free(&r);
    cr_assert_eq(sb_api_call(h, "GET", "/api/v1/auth/oidc/login", NULL, NULL, NULL, &r), 404);
    cr_assert_str_eq(json_string_value(json_object_get(json_object_get(r.json, "error"), "code")),
                     "sso_not_configured");
    sb_api_response_free(&r);
}

Test(oidc, sign_in_starts_are_rate_limited_per_address)
{
    sb_api_response r;
    for (int i = 0; i < 30; i++) {
        cr_assert_eq(sb_api_call(h, "GET", "/api/v1/auth/oidc/login", NULL, NULL, NULL, &r), 302, "attempt %d", i);
        sb_api_response_free(&r);
    }
    cr_assert_eq(sb_api_call(h, "GET", "/api/v1/auth/oidc/login", NULL, NULL, NULL, &r), 429);
    char retry[16];
    cr_assert_eq(sb_api_response_header(&r, "Retry-After", retry, sizeof retry), 0);
    sb_api_response_free(&r);
    char cell[16];
    sql("SELECT count(*) FROM audit_events WHERE action = 'auth.login.rate_limited' AND resource = 'auth:oidc_login'",
        cell, sizeof cell);
    cr_assert_str_eq(cell, "1");
}

static void expect_refused_setting(void (*change)(sb_oidc_settings *), const char *message_part)
{
    sb_oidc_settings s = sb_api_harness_settings(h)->oidc;
    change(&s);
    sb_oidc_provider *p = NULL;
    sb_error err = {0};
    cr_assert_eq(sb_oidc_provider_open(&s, &p, &err), -1, "accepted: %s", message_part);
    cr_assert_null(p);
    cr_assert(strstr(err.message, message_part), "'%s' does not say '%s'", err.message, message_part);
}
static void http_issuer(sb_oidc_settings *s) { s->issuer = (char *)"http://id.example.com"; }
static void other_callback(sb_oidc_settings *s) { s->redirect_uri = (char *)"https://sb.example.com/cb"; }
static void no_openid(sb_oidc_settings *s) { s->scopes = (char *)"email profile"; }
static void bad_claim(sb_oidc_settings *s) { s->username_claim = (char *)"user name"; }
static void empty_secret(sb_oidc_settings *s) { s->client_secret = (char *)""; }
static char *at_domain[] = {(char *)"ada@example.com"};
static void bad_domain(sb_oidc_settings *s) { s->allowed_email_domains = (sb_strlist){at_domain, 1}; }

Test(oidc, bad_settings_are_refused_at_start_with_the_key_named)
{
    expect_refused_setting(http_issuer, "oidc.issuer: http://id.example.com must be an https:// URL");
    expect_refused_setting(other_callback, "oidc.redirect_uri: must be the URL users reach sbridge at");
    expect_refused_setting(no_openid, "oidc.scopes:");
    expect_refused_setting(bad_claim, "oidc.username_claim: 'user name' is not a claim name");
    expect_refused_setting(empty_secret, "oidc.client_secret: is empty");
    expect_refused_setting(bad_domain, "oidc.allowed_email_domains: 'ada@example.com' is not a domain name");
    /* and the control plane does not start with one of them (sb_app_init) */
    sb_settings copy = *sb_api_harness_settings(h);
    copy.oidc.scopes = (char *)"profile";
    sb_app *other = calloc(1, sizeof *other);
    sb_error err = {0};
    cr_assert_neq(sb_app_init(other, &copy, sb_api_harness_db(h), 0, NULL, &err), 0,
                  "an app started with scopes lacking openid");
    cr_assert(strstr(err.message, "oidc.scopes:"), "%s", err.message);
    sb_app_close(other);
    free(other);
}

Test(oidc, config_check_says_what_the_server_would_refuse)
{
    char path[] = "/tmp/sb-oidc-config-XXXXXX";
    int fd = mkstemp(path);
    cr_assert_geq(fd, 0);
    const char *text = "role: server\n"
                       "oidc:\n"
                       "  issuer: https://id.example.com\n"
                       "  client_id: sbridge\n"
                       "  client_secret: ${env:SB_TEST_OIDC_SECRET}\n"
                       "  redirect_uri: https://sb.example.com/api/v1/auth/oidc/callback\n"
                       "  scopes: email profile\n";
    cr_assert_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    setenv("SB_TEST_OIDC_SECRET", "from-the-environment", 1);
    char *out = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&out, &len);
    sb_settings s;
    sb_registry r;
    size_t errors = sb_config_check_file(path, NULL, NULL, &s, &r, f);
    fclose(f);
    unlink(path);
    cr_assert_eq(errors, 1, "%s", out);
    cr_assert(strstr(out, ":3:3: oidc.scopes: must be scope names separated by spaces and include openid"),
              "%s", out);
    cr_assert(strstr(out, "from-the-environment") == NULL, "the secret is never printed");
    free(out);
}
