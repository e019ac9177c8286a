/*
 * api/read_api.h — read results: the agent's sealed results, the
 * single-use reveal and reveal sessions (SPEC §10, I1, I2, I8); the
 * per-request read key is service/read_key.h's.
 *
 * Contract:
 *   - sb_read_results_store runs in the completing transaction of a read
 *     job: results must name exactly the request's keys (each once), every
 *     box must be base64 of at least crypto_box_SEALBYTES bytes; anything
 *     else is SB_DOMAIN_E_INVALID and nothing is stored. Wraps live for the
 *     workflow's wrap_ttl_approved_s.
 */
#ifndef SB_API_READ_API_H
#define SB_API_READ_API_H

#include <jansson.h>

#include "api/handler_kit.h"
#include "crypto/kms.h"
#include "service/read_key.h"
#include "store/request_store.h"

int sb_read_results_store(sb_db_conn *conn, const sb_request_row *r, const char *agent_id,
                          const json_t *results, sb_error *err);

int sb_api_reveal_routes(sb_router *r, sb_app *app, sb_error *err);

#endif
