/*
 * plugin/text.h — sb_text, the host-owned growable text of the plugin ABI,
 * and the host side of sb_result's message storage.
 *
 * Contract: an sb_text is a NUL-terminated string on the ordinary heap
 * (never secret: cursors, versions, key ids, GitOps state, messages) that
 * grows as needed up to SB_TEXT_MAX bytes; a setter that would exceed it or
 * runs out of memory returns -1 and leaves the text unchanged.
 * set and printf replace the contents, append appends. sb_text_str never
 * returns NULL ("" for a NULL text). Not thread-safe per
 * object; each text belongs to one call.
 *
 * sb_result_set_message formats (with the host's redaction) into the
 * result's storage, allocating it on first use; sb_result_release frees it
 * and resets the result to "" (idempotent, NULL ok). Whoever declares an
 * sb_result releases it.
 */
#ifndef SB_PLUGIN_TEXT_H
#define SB_PLUGIN_TEXT_H

#include <sbridge/plugin.h>
#include <stdarg.h>
#include <stddef.h>

#define SB_TEXT_MAX (1024u * 1024u)

sb_text *sb_text_new(void);
void sb_text_free(sb_text *t);
int sb_text_set(sb_text *t, const char *s);
int sb_text_append(sb_text *t, const char *s, size_t len);
int sb_text_printf(sb_text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int sb_text_vprintf(sb_text *t, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));
const char *sb_text_str(const sb_text *t, size_t *len);
/* Convenience for host code: the text as a string (never NULL). */
#define sb_text_cstr(t) sb_text_str((t), NULL)
/* Moves the contents out as a malloc'd string (NULL: no memory); the text
 * becomes empty. */
char *sb_text_take(sb_text *t);

/* Records status/retry and the redacted, formatted message in res. */
void sb_result_set_message(sb_result *res, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));
void sb_result_release(sb_result *res);

#endif
