/* test_http_static_files.c — the web UI's files as the server serves them
 * (http/static_files.c as the server's fallback), over real HTTP on loopback:
 * the strict CSP and nosniff on every answer, long-cache hashed assets,
 * no-cache index.html, the single-page-app fallback for UI paths only (never
 * /api/, never a POST), traversal refused (dot segments, encoded dots and
 * slashes, symlinks out of the root), and a clear 503 before the UI is built. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "http/server.h"
#include "http/static_files.h"
#include "test_http_support.h"

static char root[64];      /* the temporary tree: root/site is the UI, root/secret.txt is not */
static char site_dir[96];
static sb_router *router;
static sb_static_site *site;
static sb_http_server *server;
static unsigned port;

static int h_ping(sb_server_request *req, void *ctx)
{
    (void)ctx;
    return sb_http_respond_json(req, 200, json_pack("{s:s}", "pong", "yes"));
}

static void write_file(const char *dir, const char *name, const char *text)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f, "%s", path);
    fputs(text, f);
    fclose(f);
}

static void start_with(const char *dir)
{
    sb_error err = {0};
    cr_assert_eq(sb_static_site_open(dir, &site, &err), 0, "%s", err.message);
    router = sb_router_new();
    sb_route ping = {"GET", "/api/v1/ping", SB_AUTH_PUBLIC, NULL, h_ping, NULL, "ping", NULL};
    cr_assert_eq(sb_router_add(router, &ping, &err), 0);
    sb_http_config cfg = {.listen = "127.0.0.1:0", .threads = 2,
                          .fallback = sb_static_site_serve, .fallback_ctx = site};
    cr_assert_eq(sb_http_server_start(&cfg, router, &server, &err), 0, "%s", err.message);
    port = sb_http_server_port(server);
}

static void make_tree(int built)
{
    snprintf(root, sizeof root, "/tmp/sb-static-XXXXXX");
    cr_assert_not_null(mkdtemp(root));
    snprintf(site_dir, sizeof site_dir, "%s/site", root);
    cr_assert_eq(mkdir(site_dir, 0755), 0);
    write_file(root, "secret.txt", "TOP-SECRET-OUTSIDE");
    if (!built)
        return;
    char assets[160], link[160], target[160];
    snprintf(assets, sizeof assets, "%s/assets", site_dir);
    cr_assert_eq(mkdir(assets, 0755), 0);
    write_file(site_dir, "index.html", "<!doctype html><title>UI-INDEX</title>");
    write_file(site_dir, "favicon.svg", "<svg xmlns='http://www.w3.org/2000/svg'/>");
    write_file(assets, "index-AbC123.js", "console.log('bundle')");
    write_file(assets, "index-Def456.css", "body{}");
    snprintf(link, sizeof link, "%s/leak.txt", site_dir);
    snprintf(target, sizeof target, "%s/secret.txt", root);
    cr_assert_eq(symlink(target, link), 0);
    snprintf(link, sizeof link, "%s/outside", site_dir);
    cr_assert_eq(symlink(root, link), 0);
}

static void start_built(void) { http_global_init(); make_tree(1); start_with(site_dir); }
static void start_unbuilt(void) { http_global_init(); make_tree(0); start_with(site_dir); }

static void stop_all(void)
{
    sb_http_server_stop(server, 1000);
    sb_router_free(router);
    sb_static_site_close(site);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
    cr_assert_eq(system(cmd), 0);
}

TestSuite(http_static_files, .fini = stop_all);

static const char *header(const http_reply *r, const char *name)
{
    static char buf[512];
    return http_reply_header(r, name, buf, sizeof buf);
}

/* The headers every UI answer carries. */
static void expect_security_headers(const http_reply *r)
{
    const char *csp = header(r, "Content-Security-Policy");
    cr_assert_not_null(csp, "no CSP on %ld %s", r->status, r->body);
    cr_assert_str_eq(csp, SB_STATIC_CSP);
    cr_assert_not_null(strstr(csp, "default-src 'self'"));
    cr_assert_not_null(strstr(csp, "frame-ancestors 'none'"));
    cr_assert_null(strstr(csp, "unsafe-inline"));
    cr_assert_null(strstr(csp, "'unsafe-eval'"));
    cr_assert_str_eq(header(r, "X-Content-Type-Options"), "nosniff");
    cr_assert_str_eq(header(r, "X-Frame-Options"), "DENY");
}

static void get(const char *path, http_reply *r) { http_get(port, path, r); }

Test(http_static_files, index_and_spa_fallback_are_no_cache, .init = start_built)
{
    const char *paths[] = {"/", "/requests", "/requests/0f3a-42", "/admin/teams/%C3%A9quipe"};
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
        http_reply r;
        get(paths[i], &r);
        cr_assert_eq(r.status, 200, "%s: %ld %s", paths[i], r.status, r.body);
        cr_assert_not_null(strstr(r.body, "UI-INDEX"), "%s did not get index.html", paths[i]);
        cr_assert_str_eq(header(&r, "Content-Type"), "text/html; charset=utf-8");
        cr_assert_str_eq(header(&r, "Cache-Control"), "no-cache");
        expect_security_headers(&r);
        http_reply_free(&r);
    }
}

Test(http_static_files, hashed_assets_are_immutable, .init = start_built)
{
    http_reply r;
    get("/assets/index-AbC123.js", &r);
    cr_assert_eq(r.status, 200);
    cr_assert_str_eq(r.body, "console.log('bundle')");
    cr_assert_str_eq(header(&r, "Content-Type"), "text/javascript; charset=utf-8");
    cr_assert_str_eq(header(&r, "Cache-Control"), "public, max-age=31536000, immutable");
    expect_security_headers(&r);
    http_reply_free(&r);

    get("/assets/index-Def456.css", &r);
    cr_assert_eq(r.status, 200);
    cr_assert_str_eq(header(&r, "Content-Type"), "text/css; charset=utf-8");
    http_reply_free(&r);

    /* a missing asset is a 404, never index.html served as script */
    get("/assets/index-Gone99.js", &r);
    expect_error(&r, 404, "not_found");
    http_reply_free(&r);

    get("/favicon.svg", &r);
    cr_assert_eq(r.status, 200);
    cr_assert_str_eq(header(&r, "Content-Type"), "image/svg+xml");
    cr_assert_str_eq(header(&r, "Cache-Control"), "no-cache");
    http_reply_free(&r);

    get("/missing.png", &r);
    expect_error(&r, 404, "not_found");
    http_reply_free(&r);
}

Test(http_static_files, api_paths_and_other_methods_keep_json_errors, .init = start_built)
{
    http_reply r;
    get("/api/v1/ping", &r);
    cr_assert_eq(r.status, 200);
    cr_assert_not_null(strstr(r.body, "pong"));
    http_reply_free(&r);

    const char *api_misses[] = {"/api/v1/nope", "/api", "/api/", "/api/v1/ping/extra"};
    for (size_t i = 0; i < sizeof api_misses / sizeof api_misses[0]; i++) {
        get(api_misses[i], &r);
        expect_error(&r, 404, "not_found");
        cr_assert_null(strstr(r.body, "UI-INDEX"));
        http_reply_free(&r);
    }

    http_call post = {.method = "POST", .body = "{}", .body_len = 2};
    http_request(port, "/requests/42", &post, &r);
    expect_error(&r, 404, "not_found");
    http_reply_free(&r);

    http_call head = {.method = "HEAD"};
    http_request(port, "/requests/42", &head, &r);
    cr_assert_eq(r.status, 200);
    cr_assert_str_eq(header(&r, "Cache-Control"), "no-cache");
    http_reply_free(&r);
}

Test(http_static_files, traversal_is_refused, .init = start_built)
{
    const char *refused[] = {"/../secret.txt",          "/assets/../../secret.txt",
                             "/%2e%2e/secret.txt",      "/assets/%2E%2E/%2e%2e/secret.txt",
                             "/assets/..%2f..%2fsecret.txt", "/assets/%2fetc%2fpasswd",
                             "/.hidden",                "/assets//index-AbC123.js",
                             "/a%5c..%5csecret.txt"};
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        http_reply r;
        get(refused[i], &r);
        cr_assert_eq(r.status, 400, "%s: %ld %s", refused[i], r.status, r.body);
        cr_assert_null(strstr(r.body, "TOP-SECRET"), "%s leaked the file", refused[i]);
        expect_security_headers(&r);
        http_reply_free(&r);
    }
    /* malformed encoding: the router's own 400, before the UI is asked */
    http_reply bad;
    get("/bad%zz", &bad);
    expect_error(&bad, 400, "invalid_path");
    http_reply_free(&bad);
    /* symlinks out of the root are not followed */
    const char *links[] = {"/leak.txt", "/outside/secret.txt", "/assets/../leak.txt"};
    for (size_t i = 0; i < sizeof links / sizeof links[0]; i++) {
        http_reply r;
        get(links[i], &r);
        cr_assert(r.status == 404 || r.status == 400, "%s: %ld", links[i], r.status);
        cr_assert_null(strstr(r.body, "TOP-SECRET"), "%s leaked the file", links[i]);
        http_reply_free(&r);
    }
}

Test(http_static_files, unbuilt_ui_says_how_to_build_it, .init = start_unbuilt)
{
    const char *paths[] = {"/", "/requests/1", "/assets/index-AbC123.js"};
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
        http_reply r;
        get(paths[i], &r);
        expect_error(&r, 503, "ui_not_built");
        cr_assert_not_null(strstr(r.body, "npm run build"), "%s", r.body);
        cr_assert_not_null(strstr(r.body, "http.ui_dir"), "%s", r.body);
        expect_security_headers(&r);
        http_reply_free(&r);
    }
    http_reply r;
    get("/api/v1/ping", &r);
    cr_assert_eq(r.status, 200);
    http_reply_free(&r);
}

Test(http_static_files, a_configured_directory_must_exist)
{
    sb_static_site *s = NULL;
    sb_error err = {0};
    cr_assert_neq(sb_static_site_open("/nonexistent/sbridge-ui", &s, &err), 0);
    cr_assert_not_null(strstr(err.message, "http.ui_dir"));
    cr_assert_null(s);
    cr_assert_eq(sb_static_site_open(NULL, &s, &err), 0);
    sb_static_site_close(s);
    /* nothing was started: the suite's fini must not stop a server */
    server = NULL;
    router = NULL;
    site = NULL;
    snprintf(root, sizeof root, "/tmp/sb-static-none");
}
