/* crypto/password.c — see password.h. */
#include "crypto/password.h"

#include <pthread.h>
#include <sodium.h>
#include <string.h>

#include "util/redact.h"

_Static_assert(SB_PASSWORD_HASH_MAX == crypto_pwhash_argon2id_STRBYTES,
               "SB_PASSWORD_HASH_MAX must match libsodium's encoded hash size");

static const char argon2id_prefix[] = "$argon2id$";

sb_password_params sb_password_params_default(void)
{
    sb_password_params p = {crypto_pwhash_argon2id_OPSLIMIT_INTERACTIVE,
                            crypto_pwhash_argon2id_MEMLIMIT_INTERACTIVE};
    return p;
}

int sb_password_params_check(const sb_password_params *p, sb_error *err)
{
    if (p == NULL)
        return sb_error_set(err, SB_PASSWORD_E_INVALID, "password hashing: no parameters given");
    if (p->opslimit < crypto_pwhash_argon2id_OPSLIMIT_MIN ||
        p->opslimit > crypto_pwhash_argon2id_OPSLIMIT_MAX)
        return sb_error_set(err, SB_PASSWORD_E_INVALID,
                            "password hashing: ops limit must be between %llu and %llu, got %llu",
                            (unsigned long long)crypto_pwhash_argon2id_OPSLIMIT_MIN,
                            (unsigned long long)crypto_pwhash_argon2id_OPSLIMIT_MAX, p->opslimit);
    if (p->memlimit < crypto_pwhash_argon2id_MEMLIMIT_MIN ||
        p->memlimit > crypto_pwhash_argon2id_MEMLIMIT_MAX)
        return sb_error_set(err, SB_PASSWORD_E_INVALID,
                            "password hashing: memory limit must be between %zu and %zu bytes, "
                            "got %zu",
                            (size_t)crypto_pwhash_argon2id_MEMLIMIT_MIN,
                            (size_t)crypto_pwhash_argon2id_MEMLIMIT_MAX, p->memlimit);
    return 0;
}

/* Refuses passwords outside secure memory and oversize ones. */
static int check_password(const char *password, size_t len, sb_error *err)
{
    if (len > SB_PASSWORD_MAX_LEN)
        return sb_error_set(err, SB_PASSWORD_E_INVALID,
                            "the password is longer than %d bytes", SB_PASSWORD_MAX_LEN);
    if (len == 0)
        return 0;
    if (password == NULL || !sb_redact_in_region(password) ||
        !sb_redact_in_region(password + len - 1))
        return sb_error_set(err, SB_PASSWORD_E_INSECURE_MEMORY,
                            "internal error: a password outside secure memory was passed to the "
                            "password hasher");
    return 0;
}

int sb_password_hash(const sb_password_params *params, const char *password, size_t len,
                     char out[SB_PASSWORD_HASH_MAX], sb_error *err)
{
    if (out == NULL)
        return sb_error_set(err, SB_PASSWORD_E_INVALID, "password hashing: no output buffer");
    out[0] = '\0';
    if (sb_password_params_check(params, err) != 0 || check_password(password, len, err) != 0)
        return -1;
    if (len == 0)
        return sb_error_set(err, SB_PASSWORD_E_INVALID, "the password is empty");
    if (crypto_pwhash_argon2id_str(out, password, len, params->opslimit, params->memlimit) != 0)
        return sb_error_set(err, SB_PASSWORD_E_RESOURCES,
                            "password hashing: argon2id could not allocate %zu bytes",
                            params->memlimit);
    return 0;
}

static bool is_argon2id_hash(const char *hash)
{
    return hash != NULL && strncmp(hash, argon2id_prefix, sizeof argon2id_prefix - 1) == 0 &&
           strnlen(hash, SB_PASSWORD_HASH_MAX) < SB_PASSWORD_HASH_MAX &&
           crypto_pwhash_argon2id_str_needs_rehash(hash, crypto_pwhash_argon2id_OPSLIMIT_MIN,
                                                   crypto_pwhash_argon2id_MEMLIMIT_MIN) >= 0;
}

int sb_password_verify(const char *hash, const char *password, size_t len, sb_error *err)
{
    if (check_password(password, len, err) != 0)
        return -1;
    const char *pw = len > 0 ? password : "";
    if (!is_argon2id_hash(hash)) {
        /* Keep the cost of a real verify; report the broken row. */
        sb_password_params d = sb_password_params_default();
        (void)sb_password_verify_dummy(&d, password, len);
        sb_error_set(err, SB_PASSWORD_E_HASH_FORMAT,
                     "the stored password hash is not an argon2id hash; reset the password");
        return 0;
    }
    int rc = crypto_pwhash_argon2id_str_verify(hash, pw, len);
    return rc == 0 && len > 0 ? 1 : 0;
}

int sb_password_needs_rehash(const char *hash, const sb_password_params *params)
{
    if (!is_argon2id_hash(hash) || sb_password_params_check(params, NULL) != 0)
        return -1;
    int rc = crypto_pwhash_argon2id_str_needs_rehash(hash, params->opslimit, params->memlimit);
    return rc < 0 ? -1 : rc;
}

/* The dummy hash for one parameter set, made on first use. */
static pthread_mutex_t dummy_lock = PTHREAD_MUTEX_INITIALIZER;
static char dummy_hash[SB_PASSWORD_HASH_MAX];
static sb_password_params dummy_params;

static int dummy_hash_for(const sb_password_params *params, char out[SB_PASSWORD_HASH_MAX])
{
    int rc = 0;
    pthread_mutex_lock(&dummy_lock);
    if (dummy_hash[0] == '\0' || dummy_params.opslimit != params->opslimit ||
        dummy_params.memlimit != params->memlimit) {
        unsigned char random_password[32];
        randombytes_buf(random_password, sizeof random_password);
        rc = crypto_pwhash_argon2id_str(dummy_hash, (const char *)random_password,
                                        sizeof random_password, params->opslimit,
                                        params->memlimit);
        sodium_memzero(random_password, sizeof random_password);
        if (rc == 0)
            dummy_params = *params;
        else
            dummy_hash[0] = '\0';
    }
    if (rc == 0)
        memcpy(out, dummy_hash, SB_PASSWORD_HASH_MAX);
    pthread_mutex_unlock(&dummy_lock);
    return rc == 0 ? 0 : -1;
}

int sb_password_verify_dummy(const sb_password_params *params, const char *password, size_t len)
{
    if (sb_password_params_check(params, NULL) != 0 || check_password(password, len, NULL) != 0)
        return -1;
    char hash[SB_PASSWORD_HASH_MAX];
    if (dummy_hash_for(params, hash) != 0)
        return -1;
    /* The outcome is irrelevant (the password is random and unknown); the
     * volatile keeps the compiler from treating the call as dead. */
    volatile int outcome = crypto_pwhash_argon2id_str_verify(hash, len > 0 ? password : "", len);
    (void)outcome;
    return 0;
}
