/* api/errors.c — the one registry of error codes and their HTTP answers:
 * every store, domain, tenancy, handler and KMS error a handler can meet
 * maps here to one status and one snake_case code, so every handler reports
 * the same failure the same way. 5xx answers are logged; their bodies say
 * only what a caller may know. */
#include "api/api.h"
#include "api/handler_kit.h"
#include "api/step_up.h"
#include "crypto/kms.h"
#include "domain/domain_error.h"
#include "store/rbac_store.h"
#include "store/tenancy_store.h"
#include "util/log.h"

typedef struct error_answer {
    int code;         /* sb_error.code */
    int status;       /* HTTP */
    const char *name; /* the JSON error code */
    const char *generic; /* non-NULL: logged, and this is sent instead of the message */
} error_answer;

static const error_answer answers[] = {
    {SB_DB_E_CONFLICT, 409, "conflict", NULL},
    {SB_DB_E_FK, 409, "reference_error", NULL},
    {SB_DB_E_CHECK, 422, "invalid_value", NULL},
    {SB_DB_E_REFUSED, 409, "refused", NULL},
    {SB_DOMAIN_E_NOT_FOUND, 404, "not_found", NULL},
    {SB_DOMAIN_E_DENIED, 403, "forbidden", NULL},
    {SB_DOMAIN_E_INVALID, 422, "invalid_value", NULL},
    {SB_DOMAIN_E_UNKNOWN_PERMISSION, 422, "invalid_value", NULL},
    {SB_DOMAIN_E_DUPLICATE, 422, "invalid_value", NULL},
    {SB_DOMAIN_E_TOO_DEEP, 409, "team_too_deep", NULL},
    {SB_DOMAIN_E_ILLEGAL_TRANSITION, 409, "illegal_transition", NULL},
    {SB_DOMAIN_E_CYCLE, 409, "team_cycle", NULL},
    {SB_TENANCY_E_CYCLE, 409, "team_cycle", NULL},
    {SB_TENANCY_E_NOT_EMPTY, 409, "team_not_empty", NULL},
    {SB_TENANCY_E_NAME_TAKEN, 409, "name_taken", NULL},
    {SB_TENANCY_E_IMMUTABLE, 422, "immutable_field", NULL},
    {SB_TENANCY_E_EXISTS, 409, "already_exists", NULL},
    {SB_TENANCY_E_SYSTEM_ROLE, 409, "system_role", NULL},
    {SB_TENANCY_E_ROLE_IN_USE, 409, "role_in_use", NULL},
    {SB_TENANCY_E_UNKNOWN_REF, 422, "invalid_value", NULL},
    {SB_RBAC_E_LAST_ADMIN, 409, "last_admin", NULL},
    {SB_HANDLER_E_ARCHIVED, 409, "archived", NULL},
    {SB_HANDLER_E_HIDDEN, 404, "not_found", NULL},
    {SB_DB_E_UNAVAILABLE, 503, "unavailable", "the database is unavailable; retry shortly"},
    {SB_DB_E_TIMEOUT, 503, "unavailable", "the database did not answer in time; retry shortly"},
    {SB_STEP_UP_E_REQUIRED, 401, "step_up_required", NULL},
    {SB_STEP_UP_E_ENROLL, 412, "mfa_enrollment_required", NULL},
    {SB_STEP_UP_E_SESSION, 403, "step_up_needs_session", NULL},
    {SB_KMS_E_UNAVAILABLE, 503, "kms_unavailable", NULL},
    {SB_KMS_E_REFUSED, 503, "kms_refused",
     "the key management service refused the operation; the server log says why"},
};

static const error_answer internal = {0, 500, "internal",
                                      "the server failed this request; its log says why (quote "
                                      "the request id)"};

static const error_answer *answer_for(int code)
{
    for (size_t i = 0; i < sizeof answers / sizeof answers[0]; i++)
        if (answers[i].code == code)
            return &answers[i];
    return &internal;
}

int sb_api_error_answer(int code, int *status, const char **name)
{
    const error_answer *a = answer_for(code);
    *status = a->status;
    *name = a->name;
    return a != &internal;
}

size_t sb_api_error_codes(const int **codes)
{
    static int list[sizeof answers / sizeof answers[0]];
    for (size_t i = 0; i < sizeof answers / sizeof answers[0]; i++)
        list[i] = answers[i].code;
    *codes = list;
    return sizeof answers / sizeof answers[0];
}

int sb_api_respond_store_error(sb_server_request *req, const sb_error *err)
{
    const error_answer *a = answer_for(err->code);
    if (a->generic == NULL)
        return sb_http_respond_error(req, a->status, a->name, "%s", err->message);
    sb_err("api", "%s: %s", a->name, err->message);
    return sb_http_respond_error(req, a->status, a->name, "%s", a->generic);
}
