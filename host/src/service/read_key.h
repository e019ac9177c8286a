/*
 * service/read_key.h — the per-request read key (SPEC §10, I1, I2, I8).
 *
 * Contract:
 *   - sb_read_key_make runs in the approving transaction of a read (or
 *     the submit of a direct reveal): a fresh X25519 key pair whose private
 *     half is wrapped by the app's KMS and zeroed in memory. The job's
 *     statement stores it (sb_job_create_for_request); the public half
 *     (standard base64) goes into the job payload. Without a KMS it fails
 *     with SB_KMS_E_UNAVAILABLE (503): nothing is approved that could never
 *     be revealed.
 *   - sb_read_result_open unwraps the request's private key through the KMS
 *     and opens one box into secure memory (*value, sb_secure_release it).
 *     Callers consume the wrap first (store/wrap_store.h), so a failure
 *     here loses the result rather than letting it be opened twice.
 */
#ifndef SB_SERVICE_READ_KEY_H
#define SB_SERVICE_READ_KEY_H

#include <stddef.h>

#include "crypto/kms.h"
#include "store/db.h"

#define SB_READ_KEY_B64_MAX 48

typedef struct sb_read_key {
    char public_b64[SB_READ_KEY_B64_MAX];
    char *wrapped_b64; /* the wrapped private key, standard base64 */
    char *kms_key_id;
} sb_read_key;

int sb_read_key_make(const sb_kms *kms, sb_read_key *out, sb_error *err);
void sb_read_key_free(sb_read_key *k);
int sb_read_result_open(sb_db_conn *conn, const sb_kms *kms, const char *request_id,
                        const char *box_b64, unsigned char **value, size_t *len, sb_error *err);

#endif
