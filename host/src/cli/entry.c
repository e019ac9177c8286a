/* cli/entry.c — main(), kept apart so tests can link every command. */
#include "cli/cli.h"

int main(int argc, char **argv) { return sb_main(argc, argv); }
