/*
 * plugin/status.h — names of the plugin ABI's statuses, for messages.
 *
 * Contract: sb_plugin_status_name returns the constant's name
 * ("SB_E_CONFLICT") for every status of ABI 1.0, and "unknown status" for
 * anything else; sb_plugin_status_describe formats "N (NAME)" into out.
 * Pure functions.
 */
#ifndef SB_PLUGIN_STATUS_H
#define SB_PLUGIN_STATUS_H

#include <sbridge/plugin.h>
#include <stddef.h>

const char *sb_plugin_status_name(sb_status status);
/* True for the statuses ABI 1.0 defines (SB_OK included). */
int sb_plugin_status_known(sb_status status);
const char *sb_plugin_status_describe(sb_status status, char *out, size_t cap);

#endif
