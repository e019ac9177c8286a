/* fuzz_text_parsers.c — the small hand-written parsers: durations,
 * ${env:}/${file:} references, UTF-8 validation and JSON escaping. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config/reference.h"
#include "crypto/secure_mem.h"
#include "util/duration.h"
#include "util/json_escape.h"
#include "util/utf8.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int ready;
    if (!ready) {
        sb_crypto_init();
        ready = 1;
    }
    char *text = malloc(size + 1);
    if (text == NULL)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    int64_t ms;
    if (sb_duration_parse(text, &ms) == 0) {
        char back[64];
        sb_duration_format(ms, back, sizeof back);
        int64_t again;
        if (sb_duration_parse(back, &again) != 0 || again != ms)
            abort(); /* formatting must round-trip */
    }
    /* Only ${env:} can resolve without touching the file system freely. */
    if (strstr(text, "${file:") == NULL) {
        char *out = NULL;
        size_t len;
        int used;
        sb_error err;
        if (sb_cfg_expand(text, &out, &len, &used, &err) == 0)
            sb_secure_release(out);
    }
    (void)sb_utf8_valid(data, size);
    char buf[256];
    size_t blen = 0;
    sb_json_escape_append(buf, sizeof buf, &blen, text);
    free(text);
    return 0;
}
