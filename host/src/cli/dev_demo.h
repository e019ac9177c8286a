/*
 * cli/dev_demo.h — the demo world `sbridge dev` runs beside its control
 * plane, so a newcomer goes from `scripts/dev` to a revealed value with no
 * manual step (docs/dev.md).
 *
 * Contract: sb_dev_demo_start, called once the control plane answers,
 *   1. starts the Vault emulator (python3 `emulator`) on a free loopback
 *      port, seeded from <state>/demo/vault-seed.json (written with fresh
 *      random demo values on the first run, reused after);
 *   2. on the first run, sets up the demo tenancy through the public API
 *      as the seeded admin (a short-lived setup token, revoked at the end):
 *      teams, projects with prod and staging environments, a policy rule
 *      allowing direct reveal on non-prod environments (the default
 *      workflow needs one approver), the provider connection `demo-vault`
 *      bound to every project;
 *   3. starts one agent (`sbridge agent`, its own process) serving that
 *      connection with the Vault plugin, enrolled with a one-time token on
 *      the first run (identity kept in <state>/demo/agent/);
 *   4. on the first run, discovers the emulator's secrets into the catalog
 *      and binds each to its project's environment (prod: read and patch;
 *      staging: read, patch and direct reveal).
 * What is done is remembered in <state>/demo/setup.json, so a later run
 * only starts the emulator and the agent. Progress goes to `progress`;
 * helper logs to <state>/demo/<name>.log. On failure everything this call
 * started is stopped and err says what failed and where its log is.
 * sb_dev_demo_stop stops the agent (drain), then the emulator.
 */
#ifndef SB_CLI_DEV_DEMO_H
#define SB_CLI_DEV_DEMO_H

#include <stdio.h>

#include "cli/dev_child.h"
#include "server/control_plane.h"

typedef struct sb_dev_demo_options {
    const char *state_dir;
    const char *plugin_dir; /* where the agent loads vault.so from */
    const char *emulator;   /* tests/emulators/vault/vault_emulator.py */
    sb_control_plane *cp;
    FILE *progress;
} sb_dev_demo_options;

typedef struct sb_dev_demo {
    sb_dev_child vault;
    sb_dev_child agent;
    int vault_port;
} sb_dev_demo;

int sb_dev_demo_start(const sb_dev_demo_options *o, sb_dev_demo *d, sb_error *err);
void sb_dev_demo_stop(sb_dev_demo *d);

#endif
