/* http/static_files.c — see static_files.h. */
#include "http/static_files.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "http/router.h"

struct sb_static_site {
    char *dir; /* NULL: no build configured */
};

int sb_static_site_open(const char *dir, sb_static_site **out, sb_error *err)
{
    *out = NULL;
    sb_static_site *site = calloc(1, sizeof *site);
    if (site == NULL)
        return sb_error_set(err, 1, "out of memory");
    if (dir != NULL && dir[0] != '\0') {
        struct stat st;
        if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
            free(site);
            return sb_error_set(err, 1, "http.ui_dir %s is not a directory", dir);
        }
        site->dir = strdup(dir);
        if (site->dir == NULL) {
            free(site);
            return sb_error_set(err, 1, "out of memory");
        }
    }
    *out = site;
    return 0;
}

void sb_static_site_close(sb_static_site *site)
{
    if (site == NULL)
        return;
    free(site->dir);
    free(site);
}

static const char *content_type_of(const char *name)
{
    static const struct {
        const char *ext, *type;
    } types[] = {
        {".html", "text/html; charset=utf-8"},    {".js", "text/javascript; charset=utf-8"},
        {".mjs", "text/javascript; charset=utf-8"}, {".css", "text/css; charset=utf-8"},
        {".svg", "image/svg+xml"},                {".png", "image/png"},
        {".ico", "image/x-icon"},                 {".json", "application/json"},
        {".webmanifest", "application/manifest+json"}, {".woff2", "font/woff2"},
        {".wasm", "application/wasm"},            {".txt", "text/plain; charset=utf-8"},
        {".map", "application/json"},
    };
    const char *dot = strrchr(name, '.');
    if (dot != NULL)
        for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
            if (strcmp(dot, types[i].ext) == 0)
                return types[i].type;
    return "application/octet-stream";
}

/* The decoded segments of path, each checked; -1 (with *why) when refused.
 * segs point into storage (NUL-separated). */
static int split_path(const char *path, char *storage, const char **segs, size_t cap, size_t *n,
                      const char **why)
{
    *n = 0;
    const char *p = path + 1; /* after the leading '/' */
    if (*p == '\0')
        return 0;
    char *w = storage;
    for (;;) {
        size_t len = strcspn(p, "/");
        if (*n == cap) {
            *why = "the path has too many segments";
            return -1;
        }
        long dl = sb_http_percent_decode(p, len, w, 0);
        if (dl < 0) {
            *why = "malformed percent-encoding, an encoded NUL or invalid UTF-8";
            return -1;
        }
        if (dl == 0 || w[0] == '.' || strchr(w, '/') != NULL || strchr(w, '\\') != NULL) {
            *why = "the path has an empty, dot or slash-bearing segment";
            return -1;
        }
        segs[(*n)++] = w;
        w += dl + 1;
        p += len;
        if (*p == '\0')
            return 0;
        p++; /* a trailing '/' leaves an empty segment: refused above on the next turn */
    }
}

/* Opens segs below dir without following any symlink; fd or -1. */
static int open_below(const char *dir, const char *const *segs, size_t n)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    for (size_t i = 0; fd >= 0 && i < n; i++) {
        int flags = O_RDONLY | O_NOFOLLOW | O_CLOEXEC | (i + 1 < n ? O_DIRECTORY : 0);
        int next = openat(fd, segs[i], flags);
        close(fd);
        fd = next;
    }
    return fd;
}

/* Reads a regular file (fd is closed); 0, or -1 when it is not one or too big. */
static int read_file(int fd, unsigned char **data, size_t *len)
{
    struct stat st;
    *data = NULL;
    *len = 0;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || (size_t)st.st_size > SB_STATIC_MAX_FILE) {
        close(fd);
        return -1;
    }
    unsigned char *buf = malloc((size_t)st.st_size + 1);
    size_t got = 0;
    while (buf != NULL && got < (size_t)st.st_size) {
        ssize_t r = read(fd, buf + got, (size_t)st.st_size - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        got += (size_t)r;
    }
    close(fd);
    if (buf == NULL || got != (size_t)st.st_size) {
        free(buf);
        return -1;
    }
    *data = buf;
    *len = got;
    return 0;
}

static void security_headers(sb_server_request *req, const char *cache)
{
    sb_http_set_header(req, "Content-Security-Policy", SB_STATIC_CSP);
    sb_http_set_header(req, "X-Frame-Options", "DENY");
    sb_http_set_header(req, "Referrer-Policy", "no-referrer");
    sb_http_set_header(req, "Cache-Control", cache);
}

static int send_file(sb_server_request *req, int fd, const char *name, const char *cache)
{
    unsigned char *data;
    size_t len;
    if (read_file(fd, &data, &len) != 0)
        return sb_http_respond_error(req, 404, "not_found", "no file at this path");
    security_headers(req, cache);
    int rc = sb_http_respond_raw(req, 200, content_type_of(name), data, len);
    free(data);
    return rc;
}

static int not_built(sb_server_request *req)
{
    /* the error shape, built here: sb_http_respond_error hides the message
     * of any 5xx, and this one is the whole point */
    return sb_http_respond_json(
        req, 503,
        json_pack("{s:{s:s,s:s,s:s}}", "error", "code", "ui_not_built", "message",
                  "the web UI is not built: run `npm ci && npm run build` in ui/, or point "
                  "http.ui_dir at a built ui/dist directory; the API under /api/v1 works "
                  "without it",
                  "request_id", sb_server_request_id(req)));
}

int sb_static_site_serve(sb_server_request *req, void *ctx)
{
    const sb_static_site *site = ctx;
    const char *path = sb_http_path(req);
    size_t path_len = strcspn(path, "?");
    char *copy = strndup(path, path_len);
    char *storage = malloc(path_len + 2);
    const char *segs[SB_ROUTER_MAX_SEGMENTS];
    size_t n = 0;
    const char *why = NULL;
    int rc;
    security_headers(req, "no-store"); /* on every answer, errors too; a file overrides the cache */
    if (copy == NULL || storage == NULL) {
        rc = sb_http_respond_error(req, 500, "internal", "out of memory");
        goto out;
    }
    if (split_path(copy, storage, segs, SB_ROUTER_MAX_SEGMENTS, &n, &why) != 0) {
        rc = sb_http_respond_error(req, 400, "invalid_path", "%s", why);
        goto out;
    }
    const char *index[] = {"index.html"};
    int index_fd = site->dir ? open_below(site->dir, index, 1) : -1;
    if (index_fd < 0) {
        rc = not_built(req);
        goto out;
    }
    if (n >= 2 && strcmp(segs[0], "assets") == 0) {
        close(index_fd);
        rc = send_file(req, open_below(site->dir, segs, n), segs[n - 1],
                       "public, max-age=31536000, immutable");
        goto out;
    }
    int fd = n > 0 ? open_below(site->dir, segs, n) : -1;
    if (fd >= 0) {
        struct stat st;
        if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
            close(index_fd);
            rc = send_file(req, fd, segs[n - 1], "no-cache");
            goto out;
        }
        close(fd);
    }
    if (n > 0 && strchr(segs[n - 1], '.') != NULL) {
        close(index_fd);
        rc = sb_http_respond_error(req, 404, "not_found", "no file at this path");
        goto out;
    }
    rc = send_file(req, index_fd, "index.html", "no-cache");
out:
    free(copy);
    free(storage);
    return rc;
}
