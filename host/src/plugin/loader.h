/*
 * plugin/loader.h — loading one plugin file, safely.
 *
 * Contract: sb_plugin_load_file loads FILE from DIRECTORY only if:
 * the directory exists, is a directory and is not group/world-writable;
 * FILE names an entry in it that exists, is (or is a symlink that stays
 * inside the directory to) a regular file that is not group/world-writable;
 * its SHA-256 matches `expected_sha256` when one is given; the library
 * loads with RTLD_NOW|RTLD_LOCAL; it exports sbridge_plugin_v1; and the
 * descriptor passes sb_descriptor_check against the host ABI. The bytes
 * hashed are the bytes loaded: the file is opened once and dlopen'ed
 * through /proc/self/fd, so it cannot be swapped in between (that
 * descriptor stays open for the life of the process, like the library:
 * a refused library is never dlclose'd either, as its code may already have
 * run constructors that registered callbacks). Every refusal
 * fills err with a precise, operator-facing message. Unloading is not
 * supported: sb_plugin_unload only releases the bookkeeping (dlclose is
 * skipped so stray plugin threads can never run unmapped code).
 */
#ifndef SB_PLUGIN_LOADER_H
#define SB_PLUGIN_LOADER_H

#include <sbridge/plugin.h>
#include <stdint.h>

#include "util/error.h"

enum {
    SB_LOAD_E_DIRECTORY = 20,
    SB_LOAD_E_MISSING,
    SB_LOAD_E_NOT_REGULAR,
    SB_LOAD_E_SYMLINK_ESCAPE,
    SB_LOAD_E_WRITABLE,
    SB_LOAD_E_HASH,
    SB_LOAD_E_DLOPEN,
    SB_LOAD_E_ENTRY,
    SB_LOAD_E_DESCRIPTOR,
};

typedef struct sb_loaded_plugin {
    char *path;             /* resolved path of the file */
    char sha256[65];        /* lowercase hex */
    void *handle;
    const sb_plugin *desc;
} sb_loaded_plugin;

typedef struct sb_loader_abi {
    uint16_t major, minor; /* the ABI the host accepts; tests vary minor */
} sb_loader_abi;

/* abi may be NULL: the host's own ABI. directory NULL: FILE is a path
 * loaded without directory rules (only for `plugin inspect|check`). */
int sb_plugin_load_file(const char *directory, const char *file, const char *expected_sha256,
                        const sb_loader_abi *abi, sb_loaded_plugin *out, sb_error *err);
void sb_plugin_unload(sb_loaded_plugin *p);

/* The plugin directory of this sbridge's own install, found relative to
 * the running executable (<prefix>/bin/sbridge → <prefix>/<libdir>/
 * sbridge/plugins, as pkg-config's plugindir says); a build tree's sbridge
 * uses the build's plugin output directory (install_dir.c). */
const char *sb_plugin_default_directory(void);

#endif
