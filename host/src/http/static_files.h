/*
 * http/static_files.h — the web UI's built files (ui/dist), served by the
 * server for every GET/HEAD that no route or built-in endpoint answers and
 * whose path is outside /api/ (sb_http_config.fallback).
 *
 * Contract:
 *   - /assets/NAME: a file of the build (content-hashed names) with
 *     Cache-Control: public, max-age=31536000, immutable; a missing one is a
 *     JSON 404 (never index.html: a stale page must not get HTML as script).
 *   - Any other path naming an existing regular file (favicon.svg, …) is
 *     served with Cache-Control: no-cache; a missing path whose last segment
 *     has a dot is a JSON 404.
 *   - Every other path is the single-page app: index.html, no-cache.
 *   - Every answer carries the strict Content-Security-Policy
 *     (SB_STATIC_CSP: default-src 'self', frame-ancestors 'none', scripts only
 *     from the origin, plus 'wasm-unsafe-eval' for libsodium's WebAssembly —
 *     no 'unsafe-inline', no 'unsafe-eval'), X-Frame-Options: DENY,
 *     Referrer-Policy: no-referrer and (from the server) nosniff.
 *   - Path traversal is refused (400 invalid_path): a decoded segment that is
 *     empty, ".", "..", starts with a dot, or holds a backslash; the file is
 *     opened below the root only (openat + O_NOFOLLOW on every component, so
 *     no symlink leads out).
 *   - With no build in the directory (no index.html) every UI path answers
 *     503 ui_not_built, a JSON error that says how to build it — never a crash.
 * Files are read per request (a rebuild shows without a restart); a file over
 * SB_STATIC_MAX_FILE bytes is refused (500). Only GET and HEAD reach here.
 */
#ifndef SB_HTTP_STATIC_FILES_H
#define SB_HTTP_STATIC_FILES_H

#include "http/request.h"
#include "util/error.h"

#define SB_STATIC_MAX_FILE (16u << 20)
#define SB_STATIC_CSP                                                                          \
    "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; "           \
    "img-src 'self' data:; font-src 'self'; connect-src 'self'; object-src 'none'; "         \
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

typedef struct sb_static_site sb_static_site;

/* Opens the directory (it need not hold a build yet, but must exist when
 * given). dir NULL or "": a site that always answers ui_not_built. */
int sb_static_site_open(const char *dir, sb_static_site **out, sb_error *err);
void sb_static_site_close(sb_static_site *site);

/* An sb_http_handler: ctx is the sb_static_site. */
int sb_static_site_serve(sb_server_request *req, void *ctx);

#endif
