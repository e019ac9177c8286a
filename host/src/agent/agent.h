/*
 * agent/agent.h — the outbound agent role (`sbridge agent`, `sbridge-agent`;
 * SPEC §2, §9, docs/agent.md).
 *
 * Contract: sb_agent_command parses the command line (--config FILE,
 * --plugin-dir DIR, --help) and runs the agent until it is told to stop or
 * cannot go on; it returns the process exit status (below) and never calls
 * exit(). The agent loads only the plugins its YAML lists, enrolls once with
 * a one-time token (identity file 0600 in a 0700 directory), heartbeats,
 * runs `concurrency` workers that long-poll for jobs, renew leases while
 * they work and complete every job with an outcome, and serves /healthz,
 * /readyz and /metrics on its loopback health address. It speaks to the
 * control plane over HTTP(S) only: it links no database driver and serves
 * no API.
 */
#ifndef SB_AGENT_AGENT_H
#define SB_AGENT_AGENT_H

/* Exit statuses (documented in docs/agent.md). */
enum {
    SB_AGENT_EXIT_OK = 0,          /* drained after SIGTERM/SIGINT */
    SB_AGENT_EXIT_FAILURE = 1,     /* config, identity, enrollment or start-up failure */
    SB_AGENT_EXIT_USAGE = 2,       /* bad command line */
    SB_AGENT_EXIT_REFUSED = 3,     /* the control plane revoked or no longer knows this agent */
    SB_AGENT_EXIT_DRAIN_TIMEOUT = 4 /* jobs still running when shutdown_grace ran out */
};

/* prog: how the command is named in messages ("sbridge agent", "sbridge-agent").
 * argv[0] is the command itself. */
int sb_agent_command(const char *prog, int argc, char **argv);

/* The usage text shared by both entry points. */
extern const char sb_agent_usage[];

#endif
