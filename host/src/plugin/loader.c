/* plugin/loader.c — see loader.h. */
#include "plugin/loader.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "plugin/descriptor.h"

static int writable_by_others(mode_t m) { return (m & (S_IWGRP | S_IWOTH)) != 0; }

static int hash_fd(int fd, char out[65])
{
    crypto_hash_sha256_state st;
    crypto_hash_sha256_init(&st);
    unsigned char buf[65536];
    ssize_t r;
    if (lseek(fd, 0, SEEK_SET) != 0)
        return -1;
    while ((r = read(fd, buf, sizeof buf)) != 0) {
        if (r < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        crypto_hash_sha256_update(&st, buf, (unsigned long long)r);
    }
    unsigned char digest[crypto_hash_sha256_BYTES];
    crypto_hash_sha256_final(&st, digest);
    sodium_bin2hex(out, 65, digest, sizeof digest);
    return 0;
}

/* Resolves dir/file and applies the directory rules; fills `real`. */
static int resolve_in_directory(const char *directory, const char *file, char *real, sb_error *err)
{
    char dir_real[PATH_MAX];
    struct stat st;
    if (realpath(directory, dir_real) == NULL)
        return sb_error_set(err, SB_LOAD_E_DIRECTORY, "plugin directory %s: %s", directory,
                            strerror(errno));
    if (stat(dir_real, &st) != 0 || !S_ISDIR(st.st_mode))
        return sb_error_set(err, SB_LOAD_E_DIRECTORY, "plugin directory %s is not a directory",
                            directory);
    if (writable_by_others(st.st_mode))
        return sb_error_set(err, SB_LOAD_E_WRITABLE,
                            "plugin directory %s is group- or world-writable (mode %04o); "
                            "run: chmod go-w %s",
                            directory, (unsigned)(st.st_mode & 07777), dir_real);
    if (file[0] == '\0' || strchr(file, '/') != NULL || strcmp(file, ".") == 0 ||
        strcmp(file, "..") == 0)
        return sb_error_set(err, SB_LOAD_E_MISSING,
                            "plugin file '%s' must be a plain file name inside %s", file, directory);
    char joined[PATH_MAX];
    if ((size_t)snprintf(joined, sizeof joined, "%s/%s", dir_real, file) >= sizeof joined)
        return sb_error_set(err, SB_LOAD_E_MISSING, "plugin path is too long");
    if (lstat(joined, &st) != 0)
        return sb_error_set(err, SB_LOAD_E_MISSING, "plugin file %s does not exist (%s)", joined,
                            strerror(errno));
    if (S_ISLNK(st.st_mode)) {
        if (realpath(joined, real) == NULL)
            return sb_error_set(err, SB_LOAD_E_MISSING, "plugin file %s is a dangling symlink", joined);
        size_t dl = strlen(dir_real);
        if (strncmp(real, dir_real, dl) != 0 || real[dl] != '/' || strchr(real + dl + 1, '/'))
            return sb_error_set(err, SB_LOAD_E_SYMLINK_ESCAPE,
                                "plugin file %s is a symlink to %s, outside the plugin directory %s; "
                                "copy the plugin into the directory instead",
                                joined, real, dir_real);
    } else {
        snprintf(real, PATH_MAX, "%s", joined);
    }
    return 0;
}

int sb_plugin_load_file(const char *directory, const char *file, const char *expected_sha256,
                        const sb_loader_abi *abi, sb_loaded_plugin *out, sb_error *err)
{
    memset(out, 0, sizeof *out);
    char real[PATH_MAX];
    if (directory) {
        if (resolve_in_directory(directory, file, real, err) != 0)
            return -1;
    } else if (realpath(file, real) == NULL) {
        return sb_error_set(err, SB_LOAD_E_MISSING, "plugin file %s: %s", file, strerror(errno));
    }
    int fd = open(real, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return sb_error_set(err, SB_LOAD_E_MISSING, "cannot open plugin file %s: %s", real,
                            strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return sb_error_set(err, SB_LOAD_E_NOT_REGULAR, "plugin file %s is not a regular file", real);
    }
    if (directory && writable_by_others(st.st_mode)) {
        close(fd);
        return sb_error_set(err, SB_LOAD_E_WRITABLE,
                            "plugin file %s is group- or world-writable (mode %04o); run: chmod go-w %s",
                            real, (unsigned)(st.st_mode & 07777), real);
    }
    if (hash_fd(fd, out->sha256) != 0) {
        close(fd);
        return sb_error_set(err, SB_LOAD_E_HASH, "cannot read plugin file %s: %s", real, strerror(errno));
    }
    if (expected_sha256 && strcasecmp(expected_sha256, out->sha256) != 0) {
        close(fd);
        return sb_error_set(err, SB_LOAD_E_HASH,
                            "plugin file %s has SHA-256 %s, but the config pins %s; "
                            "refusing to load a file that is not the one you approved",
                            real, out->sha256, expected_sha256);
    }
    /* dlopen the very file we hashed. The descriptor stays open for the
     * life of the process: the loader remembers libraries by path, so a
     * reused "/proc/self/fd/N" would hand back an earlier plugin (unloading
     * is not supported, so nothing is lost by keeping it). */
    char via_fd[64];
    snprintf(via_fd, sizeof via_fd, "/proc/self/fd/%d", fd);
    void *h = dlopen(via_fd, RTLD_NOW | RTLD_LOCAL);
    if (h == NULL) {
        close(fd);
        const char *why = dlerror();
        return sb_error_set(err, SB_LOAD_E_DLOPEN,
                            "cannot load plugin %s: %s (check its dependencies with ldd)", real,
                            why ? why : "unknown error");
    }
    dlerror();
    void *sym = dlsym(h, SB_PLUGIN_ENTRY_SYMBOL);
    if (sym == NULL) {
        return sb_error_set(err, SB_LOAD_E_ENTRY,
                            "plugin %s does not export %s(): it is not a Secrets Bridge plugin "
                            "(build it with SB_PLUGIN_DEFINE)",
                            real, SB_PLUGIN_ENTRY_SYMBOL);
    }
    sb_plugin_entry_fn entry;
    memcpy(&entry, &sym, sizeof entry);
    const sb_plugin *desc = entry();
    sb_loader_abi host = {SB_PLUGIN_ABI_MAJOR, SB_PLUGIN_ABI_MINOR};
    if (abi)
        host = *abi;
    sb_error derr;
    if (sb_descriptor_check(desc, host.major, host.minor, &derr) != 0) {
        return sb_error_set(err, SB_LOAD_E_DESCRIPTOR, "plugin %s refused: %s", real, derr.message);
    }
    out->path = strdup(real);
    out->handle = h;
    out->desc = desc;
    return 0;
}

void sb_plugin_unload(sb_loaded_plugin *p)
{
    free(p->path);
    memset(p, 0, sizeof *p);
}
