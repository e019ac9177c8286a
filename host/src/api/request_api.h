/*
 * api/request_api.h — what the request modules share (api/request_*.c).
 *
 *   (the state writer, the expiry sweep and job outcomes are
 *   service/request_writer.h's, shared with the worker)
 *   request_submit.c      POST /requests, POST /requests/cross-team.
 *   request_decide.c      approve / reject / verify / cancel / fill / refuse.
 *   request_routes.c      the route table and the reads (lists, detail).
 *   request_input.c       bodies: key names, sealed values, plaintext refusal.
 *   request_voter.c       who may vote on a request (votes and the queue).
 */
#ifndef SB_API_REQUEST_API_H
#define SB_API_REQUEST_API_H

#include <jansson.h>

#include "api/handler_kit.h"
#include "domain/approval_rule.h"
#include "domain/request_machine.h"
#include "service/request_writer.h"
#include "store/request_store.h"

/* ---- input (request_input.c); functions taking req answer it on -1 ----- */

bool sb_request_key_name_ok(const char *k); /* [A-Za-z0-9_.-]{1,128} */
bool sb_request_in_array(json_t *a, const char *s);

typedef struct sb_sealed_input {
    sb_sealed_value *values; /* strings borrowed from owner */
    size_t n;
    json_t *keys;  /* distinct key names, in order */
    json_t *owner;
} sb_sealed_input;

/* sealed_values: 1..400 items {key, recipient, box}; recipient a base64
 * X25519 public key, box base64 longer than crypto_box_SEALBYTES; no
 * (key, recipient) twice; every key sealed for every recipient. */
int sb_request_read_sealed(sb_server_request *req, json_t *list, sb_sealed_input *out);
void sb_sealed_input_free(sb_sealed_input *in);
/* The body checked against spec after taking "sealed_values" out of it
 * (*sealed: a new reference or NULL); a body with a plaintext-looking field
 * ("values", "key_values", "value", "data") is 400 plaintext_refused. */
int sb_request_read_body(sb_server_request *req, const sb_field_spec *spec, size_t n, json_t **body,
                         json_t **sealed);

/* ---- voters (request_voter.c) ------------------------------------------ */

/* The workflow snapshot's approval groups (borrowing from doc). */
typedef struct sb_request_groups {
    sb_approval_group groups[SB_APPROVAL_MAX_GROUPS];
    json_t *json[SB_APPROVAL_MAX_GROUPS];
    size_t n;
    json_t *doc; /* the parsed snapshot (owned) */
} sb_request_groups;

int sb_request_groups_load(const sb_request_row *r, sb_request_groups *g, sb_error *err);
void sb_request_groups_free(sb_request_groups *g);
/* May who vote on r? 0 with *bits (bit i: member of group i), -1 with
 * SB_DOMAIN_E_DENIED saying why (no approve permission on the project, not
 * one of the approver roles), or a store error. Whether the vote counts
 * (groups, self-approval, separation of duties) is domain/approval_rule's. */
int sb_request_voter(sb_db_conn *conn, const sb_identity *who, const sb_request_row *r,
                     const sb_request_groups *g, uint32_t *bits, sb_error *err);

/* Rendering. */
json_t *sb_request_json(const sb_row_set *rows, size_t i);

/* Who may see a request: its requester, a holder of secret.approve,
 * secret.security.approve or secret.list on its project, or (cross-team) of
 * secret.value.provide on the target team. */
bool sb_request_visible(const sb_identity *who, const sb_request_row *r);
/* The request `id` into rows when it exists and `who` may see it: 0; 1
 * missing or hidden (rows left empty); -1 error. */
int sb_request_get_visible(sb_db_conn *conn, const sb_identity *who, const char *id,
                           sb_row_set *rows, sb_error *err);

/* Route modules. */
int sb_request_submit_routes(sb_router *r, sb_app *app, sb_error *err);
int sb_request_decide_routes(sb_router *r, sb_app *app, sb_error *err);

#endif
