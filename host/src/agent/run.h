/*
 * agent/run.h — what the command line hands the agent's lifecycle (run.c):
 * validated settings, a loaded plugin registry, and the values resolved
 * from them (command.c).
 */
#ifndef SB_AGENT_RUN_H
#define SB_AGENT_RUN_H

#include "config/settings.h"
#include "plugin/registry.h"

typedef struct sb_agent_setup {
    const sb_settings *settings;
    sb_registry *registry;     /* started */
    const char *config_file;   /* for SIGHUP */
    const char *base_url;      /* control_plane.url without a trailing '/' */
    const char *connection;    /* the provider connection this agent serves */
    const char *name;          /* this agent's name */
} sb_agent_setup;

/* Runs until stopped; the exit status of agent.h. */
int sb_agent_run(const sb_agent_setup *setup);

#endif
