/*
 * server/control_plane.h — the control plane of one process: database,
 * migrations, system roles, bootstrap users, the API behind the auth gate,
 * and the worker's tasks (the audit sealer among them).
 *
 * Contract: sb_control_plane_start brings everything up in order and
 * returns only when the API answers (or fails, undoing what it started):
 *   1. the database: settings.database.url, or else a private embedded
 *      PostgreSQL in the state directory (Unix socket only);
 *   2. migrations (under the migration advisory lock; a newer schema is
 *      refused);
 *   3. system roles from the compiled-in catalog; the bootstrap admin;
 *      in dev mode, seed users;
 *   4. the HTTP server on http.listen with every API route, /healthz,
 *      /readyz (database reachable) and /metrics;
 *   5. the worker's tasks (worker/worker_tasks.h), seal_audit among them:
 *      with worker.enabled false (`--no-worker`) this process does not
 *      seal the audit chain, and a `sbridge worker` must run.
 * sb_control_plane_stop drains the HTTP server for up to grace_ms, then
 * stops the worker, closes the database and stops the embedded PostgreSQL.
 */
#ifndef SB_SERVER_CONTROL_PLANE_H
#define SB_SERVER_CONTROL_PLANE_H

#include <stdio.h>

#include "config/settings.h"
#include "util/error.h"

typedef struct sb_control_plane sb_control_plane;

typedef struct sb_control_plane_options {
    int dev_mode;          /* seed users, cookies without Secure */
    const char *state_dir; /* overrides settings.state_dir (dev: a temp dir) */
    int run_background;        /* the background loops in this process: the worker's tasks,
                                  the audit sealer among them (worker/worker_tasks.h; none
                                  when worker.enabled is false) */
    FILE *seed_out;            /* dev: where the seeded logins are printed (NULL: stdout) */
    struct sb_registry *plugins; /* the started plugins (notifier instances for the worker's
                                    dispatch_notifications), outliving the control plane; NULL:
                                    none (then no notifiers: may be configured) */
    struct sb_instance *kms;   /* a started KMS plugin instance (settings kms:), outliving the
                                  control plane; NULL: dev mode uses the built-in local KMS,
                                  a server has none and refuses to approve reads */
    const struct sb_plugin_slot *gitops_plugin; /* the started GitOps plugin
                                  (gitops_observation.plugin) when GitOps observation is on;
                                  outlives the control plane */
} sb_control_plane_options;

int sb_control_plane_start(const sb_settings *s, const sb_control_plane_options *opts,
                           sb_control_plane **out, sb_error *err);
/* "http://127.0.0.1:8080" — the bound address. */
const char *sb_control_plane_url(const sb_control_plane *cp);
void sb_control_plane_stop(sb_control_plane *cp, int64_t grace_ms);

/* Dev mode: a short-lived API token of `username` for `sbridge dev`'s demo
 * setup (api/dev_setup_token.h says the rules). 0, or -1 with err. */
int sb_control_plane_dev_setup_token(sb_control_plane *cp, const char *username, int64_t ttl_s,
                                     char *out, size_t cap, char id_out[40], sb_error *err);

/* Every route the control plane serves (the API + its OpenAPI document);
 * tests build their server from the same list. */
struct sb_router;
struct sb_app;
int sb_control_plane_routes(struct sb_router *r, struct sb_app *app, sb_error *err);

/* Only the database steps (1 and 2), for `sbridge migrate`. */
int sb_control_plane_migrate(const sb_settings *s, const char *state_dir, sb_error *err);

#endif
