/*
 * crypto/password.h — password hashing for local users (argon2id, libsodium).
 *
 * Contract: hashes are libsodium's encoded argon2id strings
 * ("$argon2id$v=19$m=...,t=...,p=1$salt$hash"), which carry their own salt
 * and cost, so a hash made under older parameters still verifies and
 * sb_password_needs_rehash says when to upgrade it after a successful login.
 *
 * Passwords are taken as (bytes, length) and must lie in secure memory
 * (crypto/secure_mem.h): every function refuses a password outside a
 * registered secure region, and none copies it (libsodium's argon2 works on
 * the caller's buffer and zeroes its own work memory). Length 1..1024 bytes
 * (empty passwords are refused when hashing and never match when verifying).
 *
 * Timing: sb_password_verify costs one argon2id evaluation at the stored
 * hash's parameters whatever the outcome. For a user that does not exist,
 * sb_password_verify_dummy costs the same as a real verify at the current
 * parameters (a hash of a random password made once per parameter set and
 * cached), so a login cannot tell "no such user" from "wrong password" by
 * time. Disabled and locked users should also go through a dummy verify.
 *
 * Thread-safe after sb_crypto_init().
 */
#ifndef SB_CRYPTO_PASSWORD_H
#define SB_CRYPTO_PASSWORD_H

#include <stdbool.h>
#include <stddef.h>

#include "util/error.h"

#define SB_PASSWORD_HASH_MAX 128 /* crypto_pwhash_STRBYTES */
#define SB_PASSWORD_MAX_LEN 1024

enum sb_password_error_code {
    SB_PASSWORD_E_INVALID = 2001,    /* bad parameters, empty or oversize password */
    SB_PASSWORD_E_INSECURE_MEMORY,   /* the password is not in secure memory */
    SB_PASSWORD_E_HASH_FORMAT,       /* a stored hash that is not an argon2id string */
    SB_PASSWORD_E_RESOURCES,         /* argon2 could not get its memory */
};

/* Cost parameters; config-settable (server.yaml auth.password). */
typedef struct sb_password_params {
    unsigned long long opslimit; /* argon2id passes */
    size_t memlimit;             /* bytes */
} sb_password_params;

/* libsodium's "interactive" limits (2 passes, 64 MiB). */
sb_password_params sb_password_params_default(void);
/* 0 when params are within libsodium's argon2id bounds; -1 naming the field. */
int sb_password_params_check(const sb_password_params *params, sb_error *err);

/* Hashes password into out (NUL-terminated, <= SB_PASSWORD_HASH_MAX bytes). */
int sb_password_hash(const sb_password_params *params, const char *password, size_t len,
                     char out[SB_PASSWORD_HASH_MAX], sb_error *err);
/* 1 when password matches hash, 0 when it does not (including a malformed
 * hash, which is also reported in err with SB_PASSWORD_E_HASH_FORMAT), -1 when
 * the password is refused (not in secure memory, oversize). */
int sb_password_verify(const char *hash, const char *password, size_t len, sb_error *err);
/* 1 when hash was made with other parameters than params, 0 when current, -1
 * when hash is not an argon2id string. */
int sb_password_needs_rehash(const char *hash, const sb_password_params *params);
/* Costs what sb_password_verify costs against a hash made with params; always
 * "no match". Returns 0, or -1 when params are invalid or the password is
 * refused (the caller answers 401 either way). */
int sb_password_verify_dummy(const sb_password_params *params, const char *password, size_t len);

#endif
