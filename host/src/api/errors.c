/* api/errors.c — one mapping from store and domain errors to HTTP answers,
 * so every handler reports the same failure the same way. */
#include "api/api.h"
#include "crypto/kms.h"
#include "domain/domain_error.h"
#include "util/log.h"

int sb_api_respond_store_error(sb_server_request *req, const sb_error *err)
{
    switch (err->code) {
    case SB_DB_E_CONFLICT:
        return sb_http_respond_error(req, 409, "conflict", "%s", err->message);
    case SB_DB_E_FK:
        return sb_http_respond_error(req, 409, "reference_error", "%s", err->message);
    case SB_DB_E_CHECK:
        return sb_http_respond_error(req, 422, "invalid_value", "%s", err->message);
    case SB_DB_E_REFUSED:
        return sb_http_respond_error(req, 409, "refused", "%s", err->message);
    case SB_DB_E_UNAVAILABLE:
    case SB_DB_E_TIMEOUT:
        sb_err("api", "database unavailable: %s", err->message);
        return sb_http_respond_error(req, 503, "unavailable", "%s", err->message);
    case SB_KMS_E_UNAVAILABLE:
        return sb_http_respond_error(req, 503, "kms_unavailable", "%s", err->message);
    case SB_KMS_E_REFUSED:
        sb_err("api", "the KMS refused: %s", err->message);
        return sb_http_respond_error(req, 503, "kms_refused",
                                     "the key management service refused the operation; the "
                                     "server log says why");
    case SB_DOMAIN_E_NOT_FOUND:
        return sb_http_respond_error(req, 404, "not_found", "%s", err->message);
    case SB_DOMAIN_E_DENIED:
        return sb_http_respond_error(req, 403, "forbidden", "%s", err->message);
    case SB_DOMAIN_E_INVALID:
    case SB_DOMAIN_E_UNKNOWN_PERMISSION:
    case SB_DOMAIN_E_DUPLICATE:
    case SB_DOMAIN_E_TOO_DEEP:
        return sb_http_respond_error(req, 422, "invalid_value", "%s", err->message);
    case SB_DOMAIN_E_ILLEGAL_TRANSITION:
        return sb_http_respond_error(req, 409, "illegal_transition", "%s", err->message);
    case SB_DOMAIN_E_CYCLE:
        return sb_http_respond_error(req, 409, "team_cycle", "%s", err->message);
    default:
        sb_err("api", "request failed: %s", err->message);
        return sb_http_respond_error(req, 500, "internal", "%s", err->message);
    }
}
