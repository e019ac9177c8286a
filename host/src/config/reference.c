/* config/reference.c — see reference.h. */
#include "config/reference.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "crypto/secure_mem.h"

static int valid_env_name(const char *s, size_t n)
{
    if (n == 0 || (s[0] >= '0' && s[0] <= '9'))
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'))
            return 0;
    }
    return 1;
}

static int append_file(sb_secure_buf *out, const char *path, sb_error *err)
{
    if (path[0] != '/')
        return sb_error_set(err, 1, "${file:%s}: the path must be absolute", path);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return sb_error_set(err, 1, "${file:%s}: cannot read the file: %s", path, strerror(errno));
    sb_secure_buf *tmp = sb_secure_new(256);
    unsigned char chunk[4096];
    ssize_t r;
    int rc = tmp ? 0 : -1;
    while (rc == 0 && (r = read(fd, chunk, sizeof chunk)) != 0) {
        if (r < 0) {
            if (errno == EINTR)
                continue;
            rc = sb_error_set(err, 1, "${file:%s}: cannot read the file: %s", path, strerror(errno));
        } else if (tmp->len + (size_t)r > SB_REFERENCE_FILE_MAX) {
            rc = sb_error_set(err, 1, "${file:%s}: the file is larger than %u bytes", path,
                              SB_REFERENCE_FILE_MAX);
        } else {
            rc = sb_secure_append(tmp, chunk, (size_t)r);
        }
    }
    close(fd);
    explicit_bzero(chunk, sizeof chunk);
    if (rc == 0) {
        size_t n = tmp->len;
        if (n > 0 && tmp->data[n - 1] == '\n')
            n--;
        if (n > 0 && tmp->data[n - 1] == '\r')
            n--;
        if (memchr(tmp->data, '\0', n) != NULL)
            rc = sb_error_set(err, 1, "${file:%s}: the file contains a NUL byte", path);
        else
            rc = sb_secure_append(out, tmp->data, n);
    }
    sb_secure_free(tmp);
    return rc;
}

int sb_cfg_expand(const char *text, char **out, size_t *out_len, int *used_reference,
                  sb_error *err)
{
    *out = NULL;
    *used_reference = 0;
    sb_secure_buf *buf = sb_secure_new(strlen(text) + 16);
    if (buf == NULL)
        return sb_error_set(err, 1, "out of memory");
    int rc = 0;
    for (const char *p = text; *p && rc == 0;) {
        if (p[0] == '$' && p[1] == '$' && p[2] == '{') {
            rc = sb_secure_append(buf, "${", 2);
            p += 3;
            continue;
        }
        if (!(p[0] == '$' && p[1] == '{')) {
            rc = sb_secure_append(buf, p, 1);
            p++;
            continue;
        }
        const char *close = strchr(p, '}');
        if (close == NULL) {
            rc = sb_error_set(err, 1, "unterminated reference: '${' without a closing '}'");
            break;
        }
        const char *body = p + 2;
        size_t blen = (size_t)(close - body);
        *used_reference = 1;
        if (blen > 4 && strncmp(body, "env:", 4) == 0) {
            char name[256];
            if (blen - 4 >= sizeof name || !valid_env_name(body + 4, blen - 4)) {
                rc = sb_error_set(err, 1, "${%.*s}: not a valid environment variable name",
                                  (int)blen, body);
                break;
            }
            memcpy(name, body + 4, blen - 4);
            name[blen - 4] = '\0';
            const char *v = getenv(name);
            if (v == NULL)
                rc = sb_error_set(err, 1, "environment variable %s is not set (referenced as ${env:%s})",
                                  name, name);
            else
                rc = sb_secure_append(buf, v, strlen(v));
        } else if (blen > 5 && strncmp(body, "file:", 5) == 0) {
            char path[4096];
            if (blen - 5 >= sizeof path) {
                rc = sb_error_set(err, 1, "${file:...}: the path is too long");
                break;
            }
            memcpy(path, body + 5, blen - 5);
            path[blen - 5] = '\0';
            rc = append_file(buf, path, err);
        } else {
            /* Name only the scheme: the rest may be a mistyped secret. */
            const char *colon = memchr(body, ':', blen);
            int shown = colon ? (int)(colon - body) : 0;
            rc = sb_error_set(err, 1,
                              "unknown reference kind '%.*s': use ${env:NAME} or ${file:/path}",
                              shown > 16 ? 16 : shown, body);
        }
        p = close + 1;
    }
    if (rc != 0) {
        sb_secure_free(buf);
        return -1;
    }
    *out = sb_secure_strdup((const char *)buf->data, buf->len);
    if (out_len)
        *out_len = buf->len;
    sb_secure_free(buf);
    return *out ? 0 : sb_error_set(err, 1, "out of memory");
}
