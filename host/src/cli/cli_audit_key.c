/* cli/cli_audit_key.c — see sb_cli_audit_key in cli.h. */
#include <stdio.h>
#include <sys/stat.h>

#include "api/app_keys.h"
#include "cli/cli.h"
#include "crypto/secure_mem.h"

int sb_cli_audit_key(const sb_settings *s, unsigned char **key, sb_error *err)
{
    *key = NULL;
    if (s->keys.master_key == NULL || s->keys.master_key[0] == '\0') {
        char path[4096];
        struct stat st;
        snprintf(path, sizeof path, "%s/master.key", s->state_dir ? s->state_dir : "");
        if (s->state_dir == NULL || stat(path, &st) != 0)
            return sb_error_set(err, 1, "no master key: keys.master_key is not set and %s does not "
                                "exist; the audit chain can only be sealed and checked with the key "
                                "the server uses", s->state_dir ? path : "state_dir/master.key");
    }
    unsigned char *pepper = NULL, *jwt = NULL;
    int rc = sb_app_derive_keys(s->keys.master_key, s->state_dir, &pepper, &jwt, key, err);
    sb_secure_release(pepper);
    sb_secure_release(jwt);
    if (rc != 0) {
        sb_secure_release(*key);
        *key = NULL;
    }
    return rc;
}

