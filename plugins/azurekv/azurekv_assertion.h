/*
 * plugins/azurekv/azurekv_assertion.h — the certificate client assertion
 * (auth: client_certificate).
 */
#ifndef SB_PLUGINS_AZUREKV_ASSERTION_H
#define SB_PLUGINS_AZUREKV_ASSERTION_H

#include "azurekv.h"

/* Appends an RS256 client assertion for `token_url` to `form` (secure):
 * header {"alg":"RS256","typ":"JWT","x5t":<base64url SHA-1 of the
 * certificate's DER>}, claims {"aud":token_url,"iss":client_id,
 * "sub":client_id,"jti":<random>,"nbf","iat","exp":+10 min}, signed with
 * private_key_file by plugins/shared/jwt_rs256 straight into `form`. */
sb_status akv_assertion_append(akv_instance *ai, const char *token_url, sb_secure_buf *form,
                               sb_result *res);

#endif
