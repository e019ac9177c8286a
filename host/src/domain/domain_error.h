/*
 * domain/domain_error.h — the error codes the domain core puts in sb_error.
 *
 * Contract: every fallible domain function returns -1 after filling the
 * caller's sb_error with one of these codes and a message naming what was
 * wrong (the offending permission key, team id, ...). The API layer maps
 * codes to HTTP statuses: INVALID/UNKNOWN_PERMISSION/DUPLICATE -> 422,
 * NOT_FOUND -> 404, CYCLE/TOO_DEEP -> 409, DENIED -> 403 (or 404 when the
 * target must stay invisible), NO_MEMORY -> 500.
 */
#ifndef SB_DOMAIN_DOMAIN_ERROR_H
#define SB_DOMAIN_DOMAIN_ERROR_H

enum sb_domain_error_code {
    SB_DOMAIN_E_INVALID = 1001,        /* malformed input (NULL id, bad scope kind...) */
    SB_DOMAIN_E_UNKNOWN_PERMISSION,    /* a permission key that is not in the catalog */
    SB_DOMAIN_E_DUPLICATE,             /* an id or key listed twice */
    SB_DOMAIN_E_NOT_FOUND,             /* a team or project id that is not known */
    SB_DOMAIN_E_CYCLE,                 /* a team tree that is (or would become) cyclic */
    SB_DOMAIN_E_TOO_DEEP,              /* a team tree deeper than SB_TEAM_TREE_MAX_DEPTH */
    SB_DOMAIN_E_DENIED,                /* the acting user may not do this */
    SB_DOMAIN_E_NO_MEMORY,
    /* a (kind, state, event) the request state machine has no row for:
     * the API answers 409 with the current state */
    SB_DOMAIN_E_ILLEGAL_TRANSITION = 1100,
};

#endif
