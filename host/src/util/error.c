/* util/error.c — see error.h. */
#include "util/error.h"

#include <stdarg.h>

#include "util/redact.h"

int sb_error_set(sb_error *err, int code, const char *fmt, ...)
{
    if (err == NULL)
        return -1;
    va_list ap;
    va_start(ap, fmt);
    err->code = code;
    sb_redact_vformat(err->message, sizeof err->message, fmt, ap);
    va_end(ap);
    return -1;
}
