/* cli/cmd_agent.c — `sbridge agent`: the agent role (agent/agent.h), the
 * same code the separate `sbridge-agent` executable runs. */
#include "agent/agent.h"
#include "cli/cli.h"

int sb_cmd_agent(int argc, char **argv) { return sb_agent_command("sbridge agent", argc, argv); }
