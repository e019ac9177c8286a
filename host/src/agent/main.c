/*
 * agent/main.c — main() of the `sbridge-agent` executable: the agent role
 * alone, linked without the database driver and the API server (SPEC §3;
 * tests/integration/agent_links.sh checks its dynamic dependencies).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/agent.h"
#include "crypto/secure_mem.h"
#include "plugin/http_client.h"
#include "util/log.h"

int main(int argc, char **argv)
{
    if (sb_crypto_init() != 0 || sb_http_global_init() != 0) {
        fprintf(stderr, "sbridge-agent: cannot initialise libsodium/libcurl\n");
        return SB_AGENT_EXIT_FAILURE;
    }
    const char *level = getenv("SBRIDGE_LOG_LEVEL");
    if (level && *level) {
        int l = sb_log_parse_level(level);
        if (l < 0) {
            fprintf(stderr, "sbridge-agent: SBRIDGE_LOG_LEVEL=%s is not one of debug, info, warn, error\n",
                    level);
            return SB_AGENT_EXIT_USAGE;
        }
        sb_log_set_level((sb_level)l);
    }
    if (argc > 1 && strcmp(argv[1], "--version") == 0) {
        printf("sbridge-agent %s\n", SB_VERSION_STRING);
        return SB_AGENT_EXIT_OK;
    }
    return sb_agent_command("sbridge-agent", argc, argv);
}
