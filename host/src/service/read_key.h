/*
 * service/read_key.h — the per-request read key (SPEC §10, I1, I2, I8).
 *
 * Contract:
 *   - sb_read_key_create runs in the approving transaction of a read (or
 *     the submit of a direct reveal): a fresh X25519 key pair whose private
 *     half is wrapped by the app's KMS before it is stored and zeroed in
 *     memory; the public half (standard base64) goes into the job payload.
 *     Without a KMS it fails with SB_KMS_E_UNAVAILABLE (503): nothing is
 *     approved that could never be revealed.
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

int sb_read_key_create(sb_db_conn *conn, const sb_kms *kms, const char *request_id,
                       char public_b64[SB_READ_KEY_B64_MAX], sb_error *err);
int sb_read_result_open(sb_db_conn *conn, const sb_kms *kms, const char *request_id,
                        const char *box_b64, unsigned char **value, size_t *len, sb_error *err);

#endif
