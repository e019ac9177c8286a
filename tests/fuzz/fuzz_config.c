/* fuzz_config.c — any bytes as a config file: the YAML reader and the
 * schema engine must answer with diagnostics, never crash or leak. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "config/settings.h"
#include "crypto/secure_mem.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int ready;
    if (!ready) {
        sb_crypto_init();
        ready = 1;
    }
    sb_diags d;
    sb_diags_init(&d, "fuzz.yaml");
    sb_settings s;
    sb_settings_load_text((const char *)data, size, NULL, &s, &d);
    sb_settings_free(&s);
    sb_diags_free(&d);
    return 0;
}
