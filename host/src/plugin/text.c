/* plugin/text.c — see text.h. */
#include "plugin/text.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/redact.h"

/* Longest result message the host keeps; longer ones end in "...". */
#define RESULT_MESSAGE_CAP 4096

struct sb_text {
    char *data; /* NULL while empty */
    size_t len, cap;
};

sb_text *sb_text_new(void) { return calloc(1, sizeof(sb_text)); }

void sb_text_free(sb_text *t)
{
    if (t == NULL)
        return;
    free(t->data);
    free(t);
}

/* Makes room for `len` bytes plus the terminator. */
static int reserve(sb_text *t, size_t len)
{
    if (len >= SB_TEXT_MAX)
        return -1;
    if (len < t->cap)
        return 0;
    size_t cap = t->cap ? t->cap : 64;
    while (cap <= len)
        cap *= 2;
    char *p = realloc(t->data, cap);
    if (p == NULL)
        return -1;
    t->data = p;
    t->cap = cap;
    return 0;
}

int sb_text_append(sb_text *t, const char *s, size_t len)
{
    if (t == NULL || (s == NULL && len > 0))
        return -1;
    if (reserve(t, t->len + len) != 0)
        return -1;
    if (len)
        memcpy(t->data + t->len, s, len);
    t->len += len;
    t->data[t->len] = '\0';
    return 0;
}

int sb_text_set(sb_text *t, const char *s)
{
    if (t == NULL)
        return -1;
    size_t len = s ? strlen(s) : 0;
    if (reserve(t, len) != 0)
        return -1;
    if (len)
        memmove(t->data, s, len);
    t->len = len;
    t->data[len] = '\0';
    return 0;
}

int sb_text_vprintf(sb_text *t, const char *fmt, va_list ap)
{
    if (t == NULL || fmt == NULL)
        return -1;
    va_list copy;
    va_copy(copy, ap);
    int n = vsnprintf(NULL, 0, fmt, copy);
    va_end(copy);
    if (n < 0 || reserve(t, (size_t)n) != 0)
        return -1;
    vsnprintf(t->data, t->cap, fmt, ap);
    t->len = (size_t)n;
    return 0;
}

int sb_text_printf(sb_text *t, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = sb_text_vprintf(t, fmt, ap);
    va_end(ap);
    return rc;
}

const char *sb_text_str(const sb_text *t, size_t *len)
{
    if (len)
        *len = t ? t->len : 0;
    return t && t->data ? t->data : "";
}

char *sb_text_take(sb_text *t)
{
    char *s = strdup(sb_text_str(t, NULL));
    if (s && t)
        sb_text_set(t, "");
    return s;
}

void sb_result_set_message(sb_result *res, const char *fmt, va_list ap)
{
    if (res->storage == NULL && (res->storage = sb_text_new()) == NULL) {
        res->message = "(out of memory formatting the message)";
        return;
    }
    char buf[RESULT_MESSAGE_CAP];
    sb_redact_vformat(buf, sizeof buf, fmt, ap);
    if (sb_text_set(res->storage, buf) != 0)
        sb_text_set(res->storage, "(out of memory formatting the message)");
    res->message = sb_text_str(res->storage, NULL);
}

void sb_result_release(sb_result *res)
{
    if (res == NULL || res->struct_size < sizeof(sb_result))
        return;
    sb_text_free(res->storage);
    res->storage = NULL;
    res->message = "";
}
