/* cli/cmd_basic.c — `sbridge version` and the roles that later issues
 * bring (they say so instead of pretending to run). */
#include <sbridge/plugin.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

int sb_cmd_version(int argc, char **argv)
{
    (void)argc, (void)argv;
    printf("sbridge %s (plugin ABI %d.%d)\n", SB_VERSION_STRING, SB_PLUGIN_ABI_MAJOR, SB_PLUGIN_ABI_MINOR);
    return 0;
}

int sb_cmd_not_yet(int argc, char **argv)
{
    (void)argc;
    fprintf(stderr,
            "sbridge %s: not available in this build yet. This release ships the plugin host:\n"
            "'sbridge config check', 'sbridge plugin inspect|check' and 'sbridge dev'.\n",
            argv[0]);
    return 2;
}
