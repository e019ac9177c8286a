/* plugin/status.c — see status.h. */
#include "plugin/status.h"

#include <stdio.h>

static const struct {
    sb_status status;
    const char *name;
} names[] = {
    {SB_OK, "SB_OK"},
    {SB_E_INVALID, "SB_E_INVALID"},
    {SB_E_NOT_FOUND, "SB_E_NOT_FOUND"},
    {SB_E_DENIED, "SB_E_DENIED"},
    {SB_E_CONFLICT, "SB_E_CONFLICT"},
    {SB_E_UNSUPPORTED, "SB_E_UNSUPPORTED"},
    {SB_E_CONFIG, "SB_E_CONFIG"},
    {SB_E_TOO_LARGE, "SB_E_TOO_LARGE"},
    {SB_E_GONE, "SB_E_GONE"},
    {SB_E_PROTOCOL, "SB_E_PROTOCOL"},
    {SB_E_INTERNAL, "SB_E_INTERNAL"},
    {SB_E_UNAVAILABLE, "SB_E_UNAVAILABLE"},
    {SB_E_THROTTLED, "SB_E_THROTTLED"},
    {SB_E_TIMEOUT, "SB_E_TIMEOUT"},
    {SB_E_AUTH_EXPIRED, "SB_E_AUTH_EXPIRED"},
    {SB_E_CANCELLED, "SB_E_CANCELLED"},
};

const char *sb_plugin_status_name(sb_status status)
{
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (names[i].status == status)
            return names[i].name;
    return "unknown status";
}

int sb_plugin_status_known(sb_status status)
{
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (names[i].status == status)
            return 1;
    return 0;
}

const char *sb_plugin_status_describe(sb_status status, char *out, size_t cap)
{
    snprintf(out, cap, "%d (%s)", (int)status, sb_plugin_status_name(status));
    return out;
}
