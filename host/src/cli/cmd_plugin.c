/* cli/cmd_plugin.c — `sbridge plugin inspect|check`. */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "plugin/conformance.h"
#include "plugin/inspect.h"
#include "plugin/loader.h"

int sb_cmd_plugin(int argc, char **argv)
{
    if (argc < 2)
        return sb_cli_usage_error("plugin", "expected 'inspect' or 'check'");
    if (strcmp(argv[1], "inspect") != 0 && strcmp(argv[1], "check") != 0)
        return sb_cli_unknown_argument("plugin", argv[1]);
    int json = 0;
    const char *file = NULL;
    for (int i = 2; i < argc; i++) {
        if (strcmp(argv[i], "--json") == 0 && strcmp(argv[1], "inspect") == 0)
            json = 1;
        else if (argv[i][0] == '-')
            return sb_cli_unknown_argument("plugin", argv[i]);
        else if (file == NULL)
            file = argv[i];
        else
            return sb_cli_usage_error("plugin", "only one FILE may be given");
    }
    if (file == NULL)
        return sb_cli_usage_error("plugin", "FILE.so is required");
    if (strcmp(argv[1], "check") == 0)
        return sb_conformance_run(file, stdout) == 0 ? 0 : 1;
    sb_loaded_plugin p;
    sb_error err;
    if (sb_plugin_load_file(NULL, file, NULL, NULL, &p, &err) != 0) {
        fprintf(stderr, "sbridge plugin inspect: %s\n", err.message);
        return 1;
    }
    if (json)
        sb_inspect_json(&p, stdout);
    else
        sb_inspect_text(&p, stdout);
    sb_plugin_unload(&p);
    return 0;
}
