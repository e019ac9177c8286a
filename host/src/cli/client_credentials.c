/*
 * cli/client_credentials.c — the stored API token (see
 * client_credentials.h).
 *
 * Permissions are checked on the open descriptor (fstat after
 * open(O_NOFOLLOW)), so the file judged is the file read. The directory is
 * checked too: a 0600 file in a directory others may write could be
 * swapped under us.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/client_credentials.h"
#include "crypto/secure_mem.h"

#define FILE_NAME "credentials"
#define FILE_MAX (64 * 1024)

int sb_client_config_dir(char *out, size_t cap, sb_error *err)
{
    const char *d = getenv("SBRIDGE_CONFIG_DIR"), *x = getenv("XDG_CONFIG_HOME"), *home = getenv("HOME");
    int n;
    if (d && d[0])
        n = snprintf(out, cap, "%s", d);
    else if (x && x[0] == '/')
        n = snprintf(out, cap, "%s/sbridge", x);
    else {
        if (home == NULL || home[0] == '\0') {
            const struct passwd *pw = getpwuid(geteuid());
            home = pw ? pw->pw_dir : NULL;
        }
        if (home == NULL || home[0] == '\0')
            return sb_error_set(err, 1, "no home directory to keep credentials in: set "
                                        "SBRIDGE_CONFIG_DIR to a directory only you can read");
        n = snprintf(out, cap, "%s/.config/sbridge", home);
    }
    if (n < 0 || (size_t)n >= cap)
        return sb_error_set(err, 1, "the configuration directory path is too long");
    return 0;
}

/* Owner and mode of an fstat/lstat result: 0, or -1 with the fix in err. */
static int private_enough(const struct stat *st, const char *path, int dir, sb_error *err)
{
    if (S_ISLNK(st->st_mode))
        return sb_error_set(err, 1, "%s is a symbolic link; the credentials %s must be a real %s "
                                    "(remove the link and run 'sbridge login' again)",
                            path, dir ? "directory" : "file", dir ? "directory" : "file");
    if (dir ? !S_ISDIR(st->st_mode) : !S_ISREG(st->st_mode))
        return sb_error_set(err, 1, "%s is not a %s", path, dir ? "directory" : "regular file");
    if (st->st_uid != geteuid())
        return sb_error_set(err, 1, "%s belongs to uid %u, not to you (uid %u); use a %s of your "
                                    "own (SBRIDGE_CONFIG_DIR)",
                            path, (unsigned)st->st_uid, (unsigned)geteuid(), dir ? "directory" : "file");
    if (st->st_mode & 077)
        return sb_error_set(err, 1, "%s has mode %04o: other users could %s your API token; fix "
                                    "it with 'chmod %s %s' (and check who may have read it)",
                            path, (unsigned)(st->st_mode & 07777), dir ? "reach" : "read",
                            dir ? "700" : "600", path);
    return 0;
}

/* 0 ok, 1 missing, -1 refused. */
static int check_dir(const char *dir, sb_error *err)
{
    struct stat st;
    if (lstat(dir, &st) != 0) {
        if (errno == ENOENT)
            return 1;
        return sb_error_set(err, 1, "cannot inspect %s: %s", dir, strerror(errno));
    }
    return private_enough(&st, dir, 1, err);
}

/* mkdir -p, the directories it creates 0700. */
static int make_dirs(const char *dir, sb_error *err)
{
    char p[SB_CLIENT_PATH_MAX];
    snprintf(p, sizeof p, "%s", dir);
    for (char *s = p + 1;; s++) {
        if (*s == '/' || *s == '\0') {
            char keep = *s;
            *s = '\0';
            if (mkdir(p, 0700) != 0 && errno != EEXIST)
                return sb_error_set(err, 1, "cannot create %s: %s", p, strerror(errno));
            *s = keep;
            if (keep == '\0')
                break;
        }
    }
    return 0;
}

static const char *str_member(const sb_json_node *o, const char *key)
{
    size_t len = 0;
    const char *s = sb_json_string(sb_json_get(o, key), &len);
    return s && strlen(s) == len ? s : NULL;
}

static int from_environment(sb_client_credentials *c, sb_error *err)
{
    const char *url = getenv("SBRIDGE_URL"), *token = getenv("SBRIDGE_TOKEN");
    int has_url = url && url[0], has_token = token && token[0];
    if (!has_url && !has_token)
        return 1;
    if (!has_url || !has_token)
        return sb_error_set(err, 1, "%s is set but %s is not: set both (or neither, to use the "
                                    "credentials of 'sbridge login')",
                            has_url ? "SBRIDGE_URL" : "SBRIDGE_TOKEN",
                            has_url ? "SBRIDGE_TOKEN" : "SBRIDGE_URL");
    sb_client tmp = {0};
    if (sb_client_set_url(&tmp, url, err) != 0)
        return -1;
    snprintf(c->url, sizeof c->url, "%s", tmp.url);
    c->token = sb_secure_strdup(token, strlen(token));
    c->from_environment = 1;
    return c->token ? 0 : sb_error_set(err, 1, "out of secure memory");
}

int sb_client_credentials_load(sb_client_credentials *c, sb_error *err)
{
    memset(c, 0, sizeof *c);
    char dir[SB_CLIENT_PATH_MAX - 32];
    if (sb_client_config_dir(dir, sizeof dir, err) != 0)
        return -1;
    snprintf(c->path, sizeof c->path, "%s/" FILE_NAME, dir);
    int rc = from_environment(c, err);
    if (rc <= 0)
        return rc;
    rc = check_dir(dir, err);
    if (rc != 0)
        return rc < 0 ? -1
                      : (sb_error_set(err, 1, "not logged in (no %s): run 'sbridge login --url URL', "
                                              "or set SBRIDGE_URL and SBRIDGE_TOKEN",
                                      c->path),
                         1);
    int fd = open(c->path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT) {
            sb_error_set(err, 1, "not logged in (no %s): run 'sbridge login --url URL', or set "
                                 "SBRIDGE_URL and SBRIDGE_TOKEN",
                         c->path);
            return 1;
        }
        if (errno == ELOOP) {
            struct stat lst;
            if (lstat(c->path, &lst) == 0)
                return private_enough(&lst, c->path, 0, err);
        }
        return sb_error_set(err, 1, "cannot open %s: %s", c->path, strerror(errno));
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || private_enough(&st, c->path, 0, err) != 0 || st.st_size > FILE_MAX) {
        if (err->message[0] == '\0')
            sb_error_set(err, 1, "%s is unreadable or larger than %d bytes", c->path, FILE_MAX);
        close(fd);
        return -1;
    }
    unsigned char *text = sb_secure_alloc((size_t)st.st_size + 1);
    ssize_t got = text ? read(fd, text, (size_t)st.st_size) : -1;
    close(fd);
    sb_json *doc = NULL;
    sb_error perr = {0};
    if (got != st.st_size || sb_json_parse(text, (size_t)got, &doc, &perr) != 0) {
        sb_secure_release(text);
        return sb_error_set(err, 1, "%s is not a credentials file (%s); delete it and run "
                                    "'sbridge login' again",
                            c->path, perr.message[0] ? perr.message : "short read");
    }
    sb_secure_release(text);
    const sb_json_node *root = sb_json_root(doc);
    const char *url = str_member(root, "url"), *token = str_member(root, "token"),
               *id = str_member(root, "token_id");
    sb_client tmp = {0};
    sb_error uerr = {0};
    if (url == NULL || token == NULL || token[0] == '\0' || sb_client_set_url(&tmp, url, &uerr) != 0) {
        sb_json_free(doc);
        return sb_error_set(err, 1, "%s lacks a valid url or token; run 'sbridge login' again",
                            c->path);
    }
    snprintf(c->url, sizeof c->url, "%s", tmp.url);
    snprintf(c->token_id, sizeof c->token_id, "%s", id ? id : "");
    c->token = sb_secure_strdup(token, strlen(token));
    sb_json_free(doc);
    return c->token ? 0 : sb_error_set(err, 1, "out of secure memory");
}

static int write_all(int fd, const unsigned char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

int sb_client_credentials_store(const char *url, const char *token, const char *token_id,
                                char *path_out, size_t cap, sb_error *err)
{
    char dir[SB_CLIENT_PATH_MAX - 32], path[SB_CLIENT_PATH_MAX], tmp[SB_CLIENT_PATH_MAX];
    if (sb_client_config_dir(dir, sizeof dir, err) != 0)
        return -1;
    int rc = check_dir(dir, err);
    if (rc == 1 && (make_dirs(dir, err) != 0 || (rc = check_dir(dir, err)) != 0))
        return -1;
    if (rc != 0)
        return -1;
    snprintf(path, sizeof path, "%s/" FILE_NAME, dir);
    snprintf(tmp, sizeof tmp, "%s/." FILE_NAME ".XXXXXX", dir);
    sb_secure_buf *b = sb_secure_new(512);
    int ok = b && sb_secure_append(b, "{\"url\":", 7) == 0 &&
             sb_secure_append_json_string(b, url, strlen(url)) == 0 &&
             sb_secure_append(b, ",\"token_id\":", 12) == 0 &&
             sb_secure_append_json_string(b, token_id, strlen(token_id)) == 0 &&
             sb_secure_append(b, ",\"token\":", 9) == 0 &&
             sb_secure_append_json_string(b, token, strlen(token)) == 0 &&
             sb_secure_append(b, "}\n", 2) == 0;
    if (!ok) {
        sb_secure_free(b);
        return sb_error_set(err, 1, "out of secure memory");
    }
    mode_t old = umask(077);
    int fd = mkstemp(tmp); /* 0600 */
    umask(old);
    if (fd < 0) {
        sb_secure_free(b);
        return sb_error_set(err, 1, "cannot create a file in %s: %s", dir, strerror(errno));
    }
    size_t len = 0;
    const unsigned char *data = sb_secure_data(b, &len);
    int failed = fchmod(fd, 0600) != 0 || write_all(fd, data, len) != 0 || fsync(fd) != 0;
    int saved = errno;
    sb_secure_free(b);
    if (close(fd) != 0 && !failed)
        failed = 1, saved = errno;
    if (failed || rename(tmp, path) != 0) {
        if (!failed)
            saved = errno;
        unlink(tmp);
        return sb_error_set(err, 1, "cannot write %s: %s", path, strerror(saved));
    }
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        (void)fsync(dfd);
        close(dfd);
    }
    if (path_out)
        snprintf(path_out, cap, "%s", path);
    return 0;
}

int sb_client_credentials_check_dir(sb_error *err)
{
    char dir[SB_CLIENT_PATH_MAX - 32];
    if (sb_client_config_dir(dir, sizeof dir, err) != 0)
        return -1;
    return check_dir(dir, err) < 0 ? -1 : 0;
}

int sb_client_credentials_remove(char *path_out, size_t cap, sb_error *err)
{
    char dir[SB_CLIENT_PATH_MAX - 32], path[SB_CLIENT_PATH_MAX];
    if (sb_client_config_dir(dir, sizeof dir, err) != 0)
        return -1;
    snprintf(path, sizeof path, "%s/" FILE_NAME, dir);
    if (path_out)
        snprintf(path_out, cap, "%s", path);
    if (unlink(path) == 0)
        return 0;
    if (errno == ENOENT)
        return 1;
    return sb_error_set(err, 1, "cannot delete %s: %s", path, strerror(errno));
}

void sb_client_credentials_clear(sb_client_credentials *c)
{
    sb_secure_release(c->token);
    c->token = NULL;
}
