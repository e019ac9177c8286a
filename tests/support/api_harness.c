/* tests/support/api_harness.c — see api_harness.h. */
#include "api_harness.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api/api.h"
#include "api/app_keys.h"
#include "api/seed_roles.h"
#include "crypto/local_kms.h"
#include "crypto/password.h"
#include "crypto/secure_mem.h"
#include "http/server.h"
#include "pg_harness.h"
#include "server/control_plane.h"
#include "store/database.h"
#include "store/migrate.h"

#define TEST_MASTER_KEY "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"

struct sb_api_harness {
    sb_pg_harness *private_pg; /* when no shared cluster exists */
    char conninfo[1024]; /* the owner's */
    sb_settings settings;
    sb_database *database; /* opened as `sbridge server` opens it */
    sb_db *db;             /* its pool: the server's role */
    sb_db *owner_db;       /* the owner's, for sb_api_harness_sql and attackers */
    sb_app app;
    sb_router *router;
    sb_http_server *server;
    char base_url[64];
};

static int serve(sb_api_harness *h, const char *listen, sb_error *err);

int sb_api_harness_start_peer(sb_api_harness *first, sb_api_harness **out)
{
    sb_api_harness *h = calloc(1, sizeof *h);
    sb_error err = {0};
    snprintf(h->conninfo, sizeof h->conninfo, "%s", first->conninfo);
    h->settings.gitops_observation = first->settings.gitops_observation;
    if (sb_db_open(h->conninfo, 8, 10000, &h->db, &err) != 0 || serve(h, "127.0.0.1:0", &err) != 0) {
        fprintf(stderr, "api harness peer: %s\n", err.message);
        sb_api_harness_stop(h);
        *out = NULL;
        return -1;
    }
    *out = h;
    return 0;
}

/* The app, the router and the HTTP server on h->db, listening on listen. */
static int serve(sb_api_harness *h, const char *listen, sb_error *err)
{
    h->settings.keys.master_key = (char *)TEST_MASTER_KEY;
    h->settings.session.cookie_secure = 1;
    if (sb_app_init(&h->app, &h->settings, h->db, 0, NULL, err) != 0)
        return -1;
    /* reads need a KMS: the built-in local one, keyed for the tests */
    static const unsigned char kms_master[32] = "test-only local KMS master key!";
    h->app.kms = h->app.kms_owned = sb_local_kms_open(kms_master);
    if (h->app.kms == NULL)
        return sb_error_set(err, 1, "cannot open the local KMS");
    h->router = sb_router_new();
    if (sb_control_plane_routes(h->router, &h->app, err) != 0)
        return -1;
    sb_http_config cfg = {.listen = listen, .threads = 4, .body_limit = 1 << 20,
                          .enable_metrics = 1, .gate = sb_api_gate, .gate_ctx = &h->app};
    if (sb_http_server_start(&cfg, h->router, &h->server, err) != 0)
        return -1;
    snprintf(h->base_url, sizeof h->base_url, "http://127.0.0.1:%u", sb_http_server_port(h->server));
    return 0;
}

int sb_api_harness_restart_http(sb_api_harness *h)
{
    char listen[32];
    snprintf(listen, sizeof listen, "127.0.0.1:%u", sb_http_server_port(h->server));
    /* everything a server process owns goes, as in a real restart */
    sb_http_server_stop(h->server, 500);
    h->server = NULL;
    sb_app_close(&h->app); /* before the router: requests it still holds name their routes */
    sb_router_free(h->router);
    h->router = NULL;
    sb_error err = {0};
    if (serve(h, listen, &err) != 0) {
        fprintf(stderr, "api harness restart: %s\n", err.message);
        return -1;
    }
    return 0;
}

int sb_api_harness_start(sb_api_harness **out)
{
    static int once;
    if (!once) {
        sb_crypto_init();
        curl_global_init(CURL_GLOBAL_DEFAULT);
        once = 1;
    }
    sb_api_harness *h = calloc(1, sizeof *h);
    sb_error err = {0};
    /* every route exists, the GitOps ones too (off by default in a server) */
    h->settings.gitops_observation.enabled = 1;
    h->settings.gitops_observation.timeout_ms = 30 * 60 * 1000;
    if (sb_pg_harness_shared_conninfo() != NULL) {
        if (sb_pg_harness_fresh_database(h->conninfo, sizeof h->conninfo) != 0)
            goto fail_quiet;
    } else {
        if (sb_pg_harness_start(&h->private_pg) != 0)
            goto fail_quiet;
        snprintf(h->conninfo, sizeof h->conninfo, "%s", sb_pg_harness_conninfo(h->private_pg));
    }
    char app_conninfo[1100];
    if (sb_pg_harness_as_app(h->conninfo, app_conninfo, sizeof app_conninfo) != 0)
        goto fail_quiet;
    sb_database_options o = {.url = app_conninfo, .migration_url = h->conninfo, .pool_size = 8,
                             .connect_timeout_ms = 10000, .migrate = 1, .check_role = 1};
    if (sb_database_open(&o, &h->database, NULL, &err) != 0)
        goto fail;
    h->db = sb_database_pool(h->database);
    if (sb_db_open(h->conninfo, 2, 10000, &h->owner_db, &err) != 0 || sb_api_seed_roles(h->db, &err) != 0)
        goto fail;
    if (serve(h, "127.0.0.1:0", &err) != 0)
        goto fail;
    *out = h;
    return 0;
fail:
    fprintf(stderr, "api harness: %s\n", err.message);
fail_quiet:
    sb_api_harness_stop(h);
    *out = NULL;
    return -1;
}

void sb_api_harness_stop(sb_api_harness *h)
{
    if (h == NULL)
        return;
    sb_http_server_stop(h->server, 2000);
    if (h->app.settings)
        sb_app_close(&h->app); /* before the router: requests it still holds name their routes */
    sb_router_free(h->router);
    if (h->database)
        sb_database_close(h->database); /* closes its pool, h->db */
    else
        sb_db_close(h->db); /* a peer's own pool */
    sb_db_close(h->owner_db);
    sb_pg_harness_stop(h->private_pg);
    free(h);
}

sb_settings *sb_api_harness_settings(sb_api_harness *h) { return &h->settings; }

sb_app *sb_api_harness_app(sb_api_harness *h) { return &h->app; }
sb_db *sb_api_harness_db(sb_api_harness *h) { return h->db; }
sb_db *sb_api_harness_owner_db(sb_api_harness *h) { return h->owner_db; }
const sb_router *sb_api_harness_router(sb_api_harness *h) { return h->router; }
const char *sb_api_harness_conninfo(sb_api_harness *h) { return h->conninfo; }
const char *sb_api_harness_base_url(sb_api_harness *h) { return h->base_url; }

long sb_api_harness_sql(sb_api_harness *h, const char *sql, char *first_cell, size_t cap)
{
    sb_db_conn *conn;
    sb_error err;
    if (sb_db_acquire(h->owner_db, 5000, &conn, &err) != 0)
        return -1;
    PGresult *res;
    long rows = -1;
    if (sb_db_exec(conn, sql, 0, NULL, &res, &err) == 0) {
        rows = PQntuples(res);
        if (first_cell && cap)
            snprintf(first_cell, cap, "%s", rows > 0 && PQnfields(res) > 0 ? PQgetvalue(res, 0, 0) : "");
        PQclear(res);
    } else {
        fprintf(stderr, "api harness sql: %s\n", err.message);
    }
    sb_db_release(h->owner_db, conn);
    return rows;
}

static long exec_params(sb_api_harness *h, const char *sql, int n, const char *const *params, char *first,
                        size_t cap)
{
    sb_db_conn *conn;
    sb_error err;
    if (sb_db_acquire(h->owner_db, 5000, &conn, &err) != 0)
        return -1;
    PGresult *res;
    long rows = -1;
    if (sb_db_exec(conn, sql, n, params, &res, &err) == 0) {
        rows = PQntuples(res);
        if (first && cap)
            snprintf(first, cap, "%s", rows > 0 ? PQgetvalue(res, 0, 0) : "");
        PQclear(res);
    } else {
        fprintf(stderr, "api harness: %s\n", err.message);
    }
    sb_db_release(h->owner_db, conn);
    return rows;
}

int sb_api_harness_grant(sb_api_harness *h, const char *user_id, const char *role_name,
                         const char *scope_kind, const char *scope_id)
{
    const char *kind = scope_kind ? scope_kind : "global";
    const char *team = strcmp(kind, "team") == 0 ? scope_id : NULL;
    const char *project = strcmp(kind, "project") == 0 ? scope_id : NULL;
    const char *params[] = {user_id, role_name, kind, team, project};
    char id[64];
    return exec_params(h,
                       "INSERT INTO grants (user_id, role_id, scope_type, team_id, project_id)"
                       " SELECT $1::uuid, id, $3, $4::uuid, $5::uuid FROM roles WHERE name = $2"
                       " RETURNING id",
                       5, params, id, sizeof id) == 1
               ? 0
               : -1;
}

int sb_api_harness_user(sb_api_harness *h, const char *username, const char *password,
                        const char *role_name, const char *scope_kind, const char *scope_id,
                        char *user_id)
{
    char *pw = sb_secure_strdup(password, strlen(password));
    char hash[SB_PASSWORD_HASH_MAX];
    sb_error err;
    sb_password_params params = sb_password_params_default();
    int rc = sb_password_hash(&params, pw, strlen(pw), hash, &err);
    sb_secure_release(pw);
    if (rc != 0) {
        fprintf(stderr, "api harness: %s\n", err.message);
        return -1;
    }
    const char *p[] = {username, hash};
    if (exec_params(h,
                    "INSERT INTO users (username, display_name, password_hash) VALUES ($1, $1, $2)"
                    " RETURNING id::text",
                    2, p, user_id, 40) != 1)
        return -1;
    return role_name ? sb_api_harness_grant(h, user_id, role_name, scope_kind, scope_id) : 0;
}

/* ---- the client ------------------------------------------------------------------ */

typedef struct growbuf {
    char *p;
    size_t len;
} growbuf;

static size_t collect(char *data, size_t size, size_t n, void *user)
{
    growbuf *b = user;
    size_t len = size * n;
    char *np = realloc(b->p, b->len + len + 1);
    if (np == NULL)
        return 0;
    memcpy(np + b->len, data, len);
    b->p = np;
    b->len += len;
    b->p[b->len] = '\0';
    return len;
}

long sb_api_call_with(sb_api_harness *h, const char *method, const char *path, const char *body,
                      const char *cookie, const char *bearer, const char *const *headers,
                      sb_api_response *out)
{
    memset(out, 0, sizeof *out);
    CURL *c = curl_easy_init();
    char url[2048], line[4096];
    snprintf(url, sizeof url, "%s%s", h->base_url, path);
    struct curl_slist *list = NULL;
    if (body)
        list = curl_slist_append(list, "Content-Type: application/json");
    if (cookie) {
        snprintf(line, sizeof line, "Cookie: sb_session=%s", cookie);
        list = curl_slist_append(list, line);
    }
    if (bearer) {
        snprintf(line, sizeof line, "Authorization: Bearer %s", bearer);
        list = curl_slist_append(list, line);
    }
    for (size_t i = 0; headers && headers[i]; i++)
        list = curl_slist_append(list, headers[i]);
    list = curl_slist_append(list, "Expect:");
    growbuf b = {calloc(1, 1), 0}, hd = {calloc(1, 1), 0};
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    if (body) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
    }
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, list);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, collect);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, &hd);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 30L);
    if (curl_easy_perform(c) == CURLE_OK)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &out->status);
    curl_slist_free_all(list);
    curl_easy_cleanup(c);
    out->body = b.p;
    out->headers = hd.p;
    out->json = json_loads(out->body, JSON_DECODE_ANY, NULL);
    return out->status;
}

long sb_api_call(sb_api_harness *h, const char *method, const char *path, const char *body,
                 const char *cookie, const char *bearer, sb_api_response *out)
{
    return sb_api_call_with(h, method, path, body, cookie, bearer, NULL, out);
}

void sb_api_response_free(sb_api_response *r)
{
    free(r->body);
    free(r->headers);
    json_decref(r->json);
    memset(r, 0, sizeof *r);
}

int sb_api_response_header(const sb_api_response *r, const char *name, char *out, size_t cap)
{
    size_t nl = strlen(name);
    for (const char *p = r->headers; p && *p;) {
        const char *eol = strstr(p, "\r\n");
        size_t len = eol ? (size_t)(eol - p) : strlen(p);
        if (len > nl && p[nl] == ':' && strncasecmp(p, name, nl) == 0) {
            const char *v = p + nl + 1;
            while (*v == ' ')
                v++;
            snprintf(out, cap, "%.*s", (int)(len - (size_t)(v - p)), v);
            return 0;
        }
        p = eol ? eol + 2 : p + len;
    }
    return -1;
}

int sb_api_harness_login(sb_api_harness *h, const char *username, const char *password, char *cookie,
                         size_t cookie_cap, char *jwt, size_t jwt_cap)
{
    json_t *body = json_pack("{s:s, s:s}", "username", username, "password", password);
    char *text = json_dumps(body, JSON_COMPACT);
    json_decref(body);
    sb_api_response r;
    long status = sb_api_call(h, "POST", "/api/v1/auth/login", text, NULL, NULL, &r);
    free(text);
    int rc = status == 200 ? 0 : -1;
    if (rc == 0 && cookie) {
        cookie[0] = '\0';
        const char *p = strcasestr(r.headers, "Set-Cookie: sb_session=");
        if (p) {
            p += strlen("Set-Cookie: sb_session=");
            snprintf(cookie, cookie_cap, "%.*s", (int)strcspn(p, ";\r\n"), p);
        }
    }
    if (rc == 0 && jwt) {
        const char *t = json_string_value(json_object_get(r.json, "token"));
        snprintf(jwt, jwt_cap, "%s", t ? t : "");
    }
    sb_api_response_free(&r);
    return rc;
}
