/*
 * plugin/install_dir.c — where this sbridge's own plugins are installed.
 *
 * Contract: sb_plugin_default_directory() is the directory plugins load
 * from when neither --plugin-dir, SBRIDGE_PLUGIN_DIR nor plugins.directory
 * names one. It is found relative to the running executable
 * (/proc/self/exe), the way the install rules lay the prefix out:
 * <prefix>/<bindir>/sbridge and <prefix>/<libdir>/sbridge/plugins, the
 * value of `pkg-config --variable=plugindir sbridge-plugin` for that
 * prefix — so `cmake --install --prefix DIR`, a moved prefix or a package
 * all find their own plugins, not the build machine's. The sbridge of a
 * build tree (the executable CMake wrote into the build directory) uses
 * that build's plugin output directory instead, as CMake's build RPATH
 * does for libraries. Only when /proc/self/exe cannot be read is the
 * install directory compiled in used. The value is computed once and is
 * never freed.
 */
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "plugin/loader.h"

#ifndef SB_PLUGIN_DIR
#define SB_PLUGIN_DIR "/usr/local/lib/sbridge/plugins"
#endif
#ifndef SB_PLUGIN_DIR_FROM_BINDIR
#define SB_PLUGIN_DIR_FROM_BINDIR "../lib/sbridge/plugins"
#endif

static char default_dir[PATH_MAX];
static pthread_once_t once = PTHREAD_ONCE_INIT;

/* dir/rel with rel's leading "../" applied to dir lexically. */
static void join(const char *dir, const char *rel, char *out, size_t cap)
{
    char base[PATH_MAX];
    snprintf(base, sizeof base, "%s", dir);
    while (strncmp(rel, "../", 3) == 0) {
        char *slash = strrchr(base, '/');
        if (slash == NULL || slash == base)
            break;
        *slash = '\0';
        rel += 3;
    }
    size_t len = strlen(base);
    if (len + 1 + strlen(rel) >= cap) { /* cannot happen below PATH_MAX; keep the compiled-in one */
        snprintf(out, cap, "%s", SB_PLUGIN_DIR);
        return;
    }
    memcpy(out, base, len);
    out[len] = '/';
    memcpy(out + len + 1, rel, strlen(rel) + 1);
}

static void resolve(void)
{
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    char *slash = n > 0 ? memchr(exe, '/', (size_t)n) : NULL;
    if (slash == NULL) {
        snprintf(default_dir, sizeof default_dir, "%s", SB_PLUGIN_DIR);
        return;
    }
    exe[n] = '\0';
    *strrchr(exe, '/') = '\0'; /* the executable's directory */
#if defined(SB_BUILD_BINARY_DIR) && defined(SB_BUILD_PLUGIN_DIR)
    char here[PATH_MAX], build[PATH_MAX];
    if (realpath(exe[0] ? exe : "/", here) && realpath(SB_BUILD_BINARY_DIR, build) && strcmp(here, build) == 0) {
        snprintf(default_dir, sizeof default_dir, "%s", SB_BUILD_PLUGIN_DIR);
        return;
    }
#endif
    join(exe, SB_PLUGIN_DIR_FROM_BINDIR, default_dir, sizeof default_dir);
}

const char *sb_plugin_default_directory(void)
{
    pthread_once(&once, resolve);
    return default_dir;
}
