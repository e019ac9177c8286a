/* agent/identity.c — see identity.h. */
#include "agent/identity.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "crypto/secure_mem.h"
#include "plugin/secure_json.h"

#define MAX_FILE_BYTES 8192

/* The directory part of path, in out. */
static void dir_of(const char *path, char *out, size_t cap)
{
    char copy[4096];
    snprintf(copy, sizeof copy, "%s", path);
    snprintf(out, cap, "%s", dirname(copy));
}

int sb_agent_identity_check_dir(const char *path, sb_error *err)
{
    char dir[4096];
    dir_of(path, dir, sizeof dir);
    struct stat st;
    if (stat(dir, &st) != 0) {
        if (errno != ENOENT)
            return sb_error_set(err, 1, "identity directory %s: %s", dir, strerror(errno));
        if (mkdir(dir, 0700) != 0)
            return sb_error_set(err, 1,
                                "cannot create the identity directory %s: %s; create it with "
                                "'install -d -m 0700 %s' as the agent's user",
                                dir, strerror(errno), dir);
        if (stat(dir, &st) != 0)
            return sb_error_set(err, 1, "identity directory %s: %s", dir, strerror(errno));
    }
    if (!S_ISDIR(st.st_mode))
        return sb_error_set(err, 1, "identity directory %s is not a directory; point "
                                    "control_plane.identity_file into a directory of its own", dir);
    if (st.st_uid != geteuid())
        return sb_error_set(err, 1,
                            "identity directory %s is owned by uid %u, not by this agent's uid %u; "
                            "fix with 'chown %u %s'",
                            dir, (unsigned)st.st_uid, (unsigned)geteuid(), (unsigned)geteuid(), dir);
    if (st.st_mode & 077)
        return sb_error_set(err, 1,
                            "identity directory %s has mode %04o; it must be 0700 (no access for "
                            "group or others) because it holds the agent's credential and private "
                            "key; fix with 'chmod 700 %s'",
                            dir, (unsigned)(st.st_mode & 07777), dir);
    return 0;
}

static int check_file(const char *path, int fd, sb_error *err)
{
    struct stat st;
    if (fstat(fd, &st) != 0)
        return sb_error_set(err, 1, "identity file %s: %s", path, strerror(errno));
    if (!S_ISREG(st.st_mode))
        return sb_error_set(err, 1, "identity file %s is not a regular file", path);
    if (st.st_uid != geteuid())
        return sb_error_set(err, 1, "identity file %s is owned by uid %u, not by this agent's uid %u; "
                                    "fix with 'chown %u %s'",
                            path, (unsigned)st.st_uid, (unsigned)geteuid(), (unsigned)geteuid(), path);
    if (st.st_mode & 077)
        return sb_error_set(err, 1,
                            "identity file %s has mode %04o; it must be 0600 (readable by this "
                            "user only) because it holds the agent's credential and private key; "
                            "fix with 'chmod 600 %s'",
                            path, (unsigned)(st.st_mode & 07777), path);
    if (st.st_size <= 0 || st.st_size > MAX_FILE_BYTES)
        return sb_error_set(err, 1, "identity file %s has %lld bytes; expected a small JSON object "
                                    "written by the agent (delete it to enroll again)",
                            path, (long long)st.st_size);
    return 0;
}

/* A string member copied into out (plain, non-secret fields). */
static int plain_field(const sb_json_node *root, const char *key, char *out, size_t cap)
{
    size_t len;
    const char *s = sb_json_string(sb_json_get(root, key), &len);
    if (s == NULL || len == 0 || len >= cap || strlen(s) != len)
        return -1;
    memcpy(out, s, len + 1);
    return 0;
}

static int key_field(const sb_json_node *root, const char *key, unsigned char *out)
{
    size_t len, bin = 0;
    const char *s = sb_json_string(sb_json_get(root, key), &len);
    if (s == NULL || sodium_base642bin(out, SB_AGENT_KEY_BYTES, s, len, NULL, &bin, NULL,
                                       sodium_base64_VARIANT_ORIGINAL) != 0 ||
        bin != SB_AGENT_KEY_BYTES)
        return -1;
    return 0;
}

static int parse(const char *path, const unsigned char *text, size_t len, sb_agent_identity *id,
                 sb_error *err)
{
    sb_json *doc = NULL;
    sb_error perr = {0};
    if (sb_json_parse(text, len, &doc, &perr) != 0)
        return sb_error_set(err, 1, "identity file %s is not valid JSON (%s); delete it to enroll "
                                    "again with a new token",
                            path, perr.message);
    const sb_json_node *root = sb_json_root(doc);
    size_t clen = 0;
    const char *cred = sb_json_string(sb_json_get(root, "credential"), &clen);
    const char *bad = NULL;
    if (plain_field(root, "agent_id", id->agent_id, sizeof id->agent_id) != 0)
        bad = "agent_id";
    else if (plain_field(root, "connection", id->connection, sizeof id->connection) != 0)
        bad = "connection";
    else if (cred == NULL || clen == 0 || strlen(cred) != clen)
        bad = "credential";
    else if (key_field(root, "public_key", id->public_key) != 0)
        bad = "public_key";
    else if ((id->secret_key = sb_secure_alloc(SB_AGENT_KEY_BYTES)) == NULL ||
             key_field(root, "private_key", id->secret_key) != 0)
        bad = "private_key";
    else if ((id->credential = sb_secure_strdup(cred, clen)) == NULL)
        bad = "credential";
    sb_json_free(doc);
    if (bad)
        return sb_error_set(err, 1, "identity file %s: field \"%s\" is missing or malformed; delete "
                                    "the file to enroll again with a new token",
                            path, bad);
    unsigned char derived[SB_AGENT_KEY_BYTES];
    crypto_scalarmult_base(derived, id->secret_key);
    int same = sodium_memcmp(derived, id->public_key, sizeof derived) == 0;
    sodium_memzero(derived, sizeof derived);
    if (!same)
        return sb_error_set(err, 1, "identity file %s: the private key does not match the public "
                                    "key; delete the file to enroll again with a new token",
                            path);
    return 0;
}

int sb_agent_identity_load(const char *path, sb_agent_identity *id, sb_error *err)
{
    memset(id, 0, sizeof *id);
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT)
            return 1;
        if (errno == ELOOP)
            return sb_error_set(err, 1, "identity file %s is a symbolic link; the agent keeps its "
                                        "identity only in a regular file",
                                path);
        return sb_error_set(err, 1, "cannot open the identity file %s: %s", path, strerror(errno));
    }
    if (check_file(path, fd, err) != 0) {
        close(fd);
        return -1;
    }
    unsigned char *buf = sb_secure_alloc(MAX_FILE_BYTES + 1);
    ssize_t n = buf ? read(fd, buf, MAX_FILE_BYTES) : -1;
    int saved = errno;
    close(fd);
    int rc;
    if (n <= 0)
        rc = sb_error_set(err, 1, "cannot read the identity file %s: %s", path,
                          n == 0 ? "empty file" : strerror(saved));
    else
        rc = parse(path, buf, (size_t)n, id, err);
    sb_secure_release(buf);
    if (rc != 0)
        sb_agent_identity_free(id);
    return rc;
}

/* The file's JSON text, in secure memory. */
static sb_secure_buf *render(const char *control_plane, const sb_agent_identity *id)
{
    sb_secure_buf *b = sb_secure_new(1024);
    char pk[64];
    char *sk = sb_secure_alloc(64);
    if (b == NULL || sk == NULL) {
        sb_secure_free(b);
        sb_secure_release(sk);
        return NULL;
    }
    sodium_bin2base64(pk, sizeof pk, id->public_key, SB_AGENT_KEY_BYTES, sodium_base64_VARIANT_ORIGINAL);
    sodium_bin2base64(sk, 64, id->secret_key, SB_AGENT_KEY_BYTES, sodium_base64_VARIANT_ORIGINAL);
    int rc = sb_secure_append(b, "{\"version\":1,\"agent_id\":", 24);
    rc |= sb_secure_append_json_string(b, id->agent_id, strlen(id->agent_id));
    rc |= sb_secure_append(b, ",\"connection\":", 14);
    rc |= sb_secure_append_json_string(b, id->connection, strlen(id->connection));
    rc |= sb_secure_append(b, ",\"control_plane\":", 17);
    rc |= sb_secure_append_json_string(b, control_plane, strlen(control_plane));
    rc |= sb_secure_append(b, ",\"credential\":", 14);
    rc |= sb_secure_append_json_string(b, id->credential, strlen(id->credential));
    rc |= sb_secure_append(b, ",\"public_key\":", 14);
    rc |= sb_secure_append_json_string(b, pk, strlen(pk));
    rc |= sb_secure_append(b, ",\"private_key\":", 15);
    rc |= sb_secure_append_json_string(b, sk, strlen(sk));
    rc |= sb_secure_append(b, "}\n", 2);
    sb_secure_release(sk);
    if (rc != 0) {
        sb_secure_free(b);
        return NULL;
    }
    return b;
}

static int write_all(int fd, const unsigned char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w, n -= (size_t)w;
    }
    return 0;
}

int sb_agent_identity_save(const char *path, const char *control_plane, const sb_agent_identity *id,
                           sb_error *err)
{
    char dir[4096], tmp[4200];
    dir_of(path, dir, sizeof dir);
    snprintf(tmp, sizeof tmp, "%s.tmp.XXXXXX", path);
    sb_secure_buf *text = render(control_plane, id);
    if (text == NULL)
        return sb_error_set(err, 1, "out of secure memory while writing %s", path);
    int fd = mkstemp(tmp); /* mode 0600 */
    if (fd < 0) {
        sb_secure_free(text);
        return sb_error_set(err, 1, "cannot create a temporary file next to %s: %s", path,
                            strerror(errno));
    }
    size_t len;
    const unsigned char *data = sb_secure_data(text, &len);
    const char *step = NULL;
    if (fchmod(fd, 0600) != 0)
        step = "chmod";
    else if (write_all(fd, data, len) != 0)
        step = "write";
    else if (fsync(fd) != 0)
        step = "fsync";
    int saved = errno;
    sb_secure_free(text);
    if (close(fd) != 0 && step == NULL)
        step = "close", saved = errno;
    if (step == NULL && rename(tmp, path) != 0)
        step = "rename", saved = errno;
    if (step) {
        unlink(tmp);
        return sb_error_set(err, 1, "cannot write the identity file %s (%s: %s)", path, step,
                            strerror(saved));
    }
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        fsync(dfd);
        close(dfd);
    }
    return 0;
}

int sb_agent_identity_new_keys(sb_agent_identity *id, sb_error *err)
{
    id->secret_key = sb_secure_alloc(SB_AGENT_KEY_BYTES);
    if (id->secret_key == NULL)
        return sb_error_set(err, 1, "out of secure memory for the agent's key pair");
    crypto_box_keypair(id->public_key, id->secret_key);
    return 0;
}

void sb_agent_identity_free(sb_agent_identity *id)
{
    if (id == NULL)
        return;
    sb_secure_release(id->credential);
    sb_secure_release(id->secret_key);
    id->credential = NULL;
    id->secret_key = NULL;
}
