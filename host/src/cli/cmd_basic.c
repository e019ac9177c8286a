/* cli/cmd_basic.c — `sbridge version`. */
#include <sbridge/plugin.h>
#include <stdio.h>

#include "cli/cli.h"

int sb_cmd_version(int argc, char **argv)
{
    (void)argc, (void)argv;
    printf("sbridge %s (plugin ABI %d.%d)\n", SB_VERSION_STRING, SB_PLUGIN_ABI_MAJOR, SB_PLUGIN_ABI_MINOR);
    return 0;
}
