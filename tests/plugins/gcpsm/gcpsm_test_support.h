/*
 * tests/plugins/gcpsm/gcpsm_test_support.h — what the gcpsm plugin tests
 * share beyond tests/support/emulator_support.h: the GCP emulator, a
 * service-account key file the emulator generated (its public key
 * registered there), the plugin opened against the emulator, seeding
 * secrets, and provider calls with a result the test inspects.
 */
#ifndef SB_TESTS_GCPSM_SUPPORT_H
#define SB_TESTS_GCPSM_SUPPORT_H

#include <sbridge/plugin.h>

#include "emulator_support.h"

#define GC_EMAIL "sbridge@test-project.iam.gserviceaccount.com"

/* Starts the GCP emulator (extra flags may be NULL). */
void gc_emulator_start(const char *const *extra_args);

/* Asks the emulator for a new key of `email` (replacing the public key it
 * verifies with) and writes the key file; returns its path (heap). */
char *gc_key_file(const char *email);

/* Opens the plugin with project test-project and the endpoint at the
 * emulator, then `yaml_rest` (credentials...). */
sb_harness *gc_open(const char *yaml_rest);
/* gc_open with credentials: service_account and a fresh key file. */
sb_harness *gc_open_sa(const char *yaml_extra);

/* Seeds a secret: labels_json e.g. "{\"team\":\"a\"}" (NULL: none),
 * versions_json e.g. "[{\"data\":\"one\"}]". */
void gc_seed(const char *id, const char *labels_json, const char *versions_json);

sb_status gc_read(sb_harness *h, const char *path, const char *version, sb_bundle **out,
                  sb_version_info *v, sb_result *res);
sb_status gc_write(sb_harness *h, const char *path, const sb_bundle *b, const char *expected,
                   sb_version_info *v, sb_result *res);

/* The emulator's request log / stats (JSON text, heap). */
char *gc_requests(void);
char *gc_stats(void);
/* The raw payload of versions/<v> as the emulator serves it (heap, test only). */
char *gc_payload(const char *id, const char *version);

#endif
