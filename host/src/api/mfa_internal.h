/*
 * api/mfa_internal.h — what the MFA route files share (mfa_routes.c:
 * enrollment, list, removal and the route table; mfa_verify.c: checking a
 * code for confirmation and step-up). Not a public interface of the API.
 *
 * A code is checked (sb_mfa_check_code) inside the caller's transaction:
 *   1. the per-user failure limit (SB_MFA_FAILURE_LIMIT failed codes per
 *      SB_MFA_FAILURE_WINDOW_S fixed window, counted in PostgreSQL so every
 *      replica shares it): over it, 429 rate_limited with Retry-After, and
 *      no code is even looked at;
 *   2. each candidate factor's secret is unwrapped by the KMS into secure
 *      memory, matched (crypto/totp.h: ±1 step, constant time) and zeroed;
 *   3. a match moves the factor's last accepted step forward in one
 *      conditional UPDATE (store/mfa_store.h); a step at or below it is a
 *      replay and fails like a wrong code (its own code, code_replayed);
 *   4. a failure counts towards the limit and is audited
 *      (auth.mfa.verify / auth.mfa.confirm, outcome failure, reason);
 *      the transaction commits either way, so failures always count.
 */
#ifndef SB_API_MFA_INTERNAL_H
#define SB_API_MFA_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "api/api.h"
#include "store/mfa_store.h"

#define SB_MFA_FAILURE_LIMIT 5
#define SB_MFA_FAILURE_WINDOW_S 300
#define SB_MFA_CODE_MAX 16

/* The outcome of a checked code: status 0 when accepted, else the HTTP
 * answer to give (the caller answers after the commit). */
typedef struct sb_mfa_outcome {
    int status;
    const char *code, *message;
    int64_t retry_after;
    char factor_id[37]; /* the factor that accepted the code */
} sb_mfa_outcome;

typedef struct sb_mfa_attempt {
    sb_app *app;
    sb_server_request *req;
    const sb_identity *who;
    const char *code;   /* what the user typed */
    const char *action; /* the audit action: "auth.mfa.verify" | "auth.mfa.confirm" */
    int64_t now;
    bool confirm; /* the candidate is one pending factor (confirmation) */
} sb_mfa_attempt;

/* Checks a->code against factors[0..n) (locked by the caller). 0 with *out
 * filled (accepted or refused), -1 with err on a store or KMS failure. */
int sb_mfa_check_code(sb_db_conn *conn, const sb_mfa_attempt *a, const sb_mfa_factor *factors,
                      size_t n, sb_mfa_outcome *out, sb_error *err);
/* 0 for a session; -1 after answering 403 step_up_needs_session (what: why
 * a session is needed) to an API token. */
int sb_mfa_need_session(sb_server_request *req, const char *what);
/* Answers an outcome that refused (Retry-After on 429). */
int sb_mfa_respond_refusal(sb_server_request *req, const sb_mfa_outcome *out);
/* "user:<id>" */
void sb_mfa_resource(const sb_identity *who, char *out, size_t cap);

/* Handlers of mfa_verify.c (ctx = the sb_app). */
int sb_mfa_verify(sb_server_request *req, void *ctx);
int sb_mfa_confirm(sb_server_request *req, void *ctx);

#endif
