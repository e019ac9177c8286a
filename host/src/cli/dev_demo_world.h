/*
 * cli/dev_demo_world.h — what `sbridge dev`'s demo holds: two teams, three
 * projects with a prod and a non-prod (staging) environment each, and the
 * Vault secrets of each (KV v2 under secret/<team>/<project>/<env>/<name>,
 * with custom_metadata naming team, project, environment and owner).
 *
 * sb_demo_write_vault_seed writes the Vault emulator's --seed document
 * (tests/emulators/vault/README.md) to path, 0600, created anew: every
 * secret with fresh random demo values (never a real credential), and the
 * token the demo agent authenticates with (policy root on the emulator).
 * The values exist only in that file and the emulator's memory; the file
 * is read again at each start, so a later `sbridge dev` serves the same
 * values (changes made through patches last until the emulator stops).
 */
#ifndef SB_CLI_DEV_DEMO_WORLD_H
#define SB_CLI_DEV_DEMO_WORLD_H

#include <stddef.h>

#include "util/error.h"

typedef struct sb_demo_project {
    const char *team;
    const char *name;
} sb_demo_project;

typedef struct sb_demo_secret {
    const char *project; /* sb_demo_project.name */
    const char *name;
    const char *keys[3]; /* NULL-terminated */
} sb_demo_secret;

extern const sb_demo_project sb_demo_projects[];
extern const size_t sb_demo_n_projects;
extern const char *const sb_demo_teams[];
extern const size_t sb_demo_n_teams;
extern const char *const sb_demo_envs[]; /* "prod", "staging" */
extern const size_t sb_demo_n_envs;
extern const sb_demo_secret sb_demo_secrets[]; /* each exists in every environment */
extern const size_t sb_demo_n_secrets;

/* The team of a project (NULL when unknown). */
const char *sb_demo_team_of(const char *project);
/* Parses "<team>/<project>/<env>/<name>": the secret (NULL when the ref is
 * not one of the demo's) and its project and environment indexes. */
const sb_demo_secret *sb_demo_secret_of(const char *ref, size_t *project, size_t *env);

/* path replaced by a new 0600 file holding text (never through a symlink). */
int sb_demo_write_private(const char *path, const char *text, sb_error *err);
int sb_demo_write_vault_seed(const char *path, const char *agent_token, sb_error *err);

#endif
