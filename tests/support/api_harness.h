/*
 * tests/support/api_harness.h — the real control plane on loopback for API
 * tests: a private PostgreSQL (pg_harness, one cluster per test binary, a
 * fresh database per harness), migrations, system roles, an sb_app, every
 * API route behind the real gate, served by the real HTTP server on
 * 127.0.0.1:<ephemeral>, and a libcurl client.
 *
 * Call sb_pg_harness_shared_start/stop from the criterion suite hooks (or
 * let sb_api_harness_start start a private cluster when none is shared).
 */
#ifndef SB_TESTS_API_HARNESS_H
#define SB_TESTS_API_HARNESS_H

#include <jansson.h>
#include <stddef.h>

#include "api/app.h"
#include "http/router.h"
#include "store/db.h"

typedef struct sb_api_harness sb_api_harness;

int sb_api_harness_start(sb_api_harness **out);
void sb_api_harness_stop(sb_api_harness *h);
/* A second control plane on h's database (another replica: its own pool,
 * app and HTTP server; no migration, no new database). Stop it with
 * sb_api_harness_stop before h. */
int sb_api_harness_start_peer(sb_api_harness *h, sb_api_harness **out);

/* A control-plane restart as its HTTP clients see it: the server, its
 * router and its app (with the long-poll hub) stop — parked long-polls are
 * answered, connections close — and fresh ones serve the same database on
 * the same port. Sessions survive (they live in the database). 0 on success. */
int sb_api_harness_restart_http(sb_api_harness *h);

sb_app *sb_api_harness_app(sb_api_harness *h);
/* The settings the app reads (gitops_observation is enabled, with a 30 min
 * timeout, unless a test changes it — then sb_api_harness_restart_http
 * re-registers the routes). */
sb_settings *sb_api_harness_settings(sb_api_harness *h);
/* The server's pool: it connects as the server's role (data rights only). */
sb_db *sb_api_harness_db(sb_api_harness *h);
/* A pool as the superuser that owns the tables: for tests that play an
 * attacker with database access (disabling triggers, DDL). */
sb_db *sb_api_harness_owner_db(sb_api_harness *h);
const sb_router *sb_api_harness_router(sb_api_harness *h);
/* The owner's connection string. */
const char *sb_api_harness_conninfo(sb_api_harness *h);
/* "http://127.0.0.1:<port>" of the harness's server. */
const char *sb_api_harness_base_url(sb_api_harness *h);

/* A local user with a password, created directly in the database (not
 * through the API). role_name NULL: no grant; scope_kind "global", "team"
 * or "project" with scope_id for the last two. Fills user_id (>= 40). */
int sb_api_harness_user(sb_api_harness *h, const char *username, const char *password,
                        const char *role_name, const char *scope_kind, const char *scope_id,
                        char *user_id);
/* Adds a grant to an existing user. */
int sb_api_harness_grant(sb_api_harness *h, const char *user_id, const char *role_name,
                         const char *scope_kind, const char *scope_id);
/* Logs in through POST /api/v1/auth/login; fills the session cookie value
 * and the JWT (either may be NULL). 0 on 200. */
int sb_api_harness_login(sb_api_harness *h, const char *username, const char *password,
                         char *cookie, size_t cookie_cap, char *jwt, size_t jwt_cap);

typedef struct sb_api_response {
    long status;
    char *body;    /* NUL-terminated */
    char *headers; /* raw response headers */
    json_t *json;  /* parsed body, NULL when not JSON */
} sb_api_response;

/* One request. body: JSON text or NULL; cookie: the sb_session value or
 * NULL; bearer: a JWT / API token or NULL. Returns the status (0 when the
 * request could not be made). */
long sb_api_call(sb_api_harness *h, const char *method, const char *path, const char *body,
                 const char *cookie, const char *bearer, sb_api_response *out);
/* Same with extra raw header lines ("Name: value"), NULL-terminated. */
long sb_api_call_with(sb_api_harness *h, const char *method, const char *path, const char *body,
                      const char *cookie, const char *bearer, const char *const *headers,
                      sb_api_response *out);
void sb_api_response_free(sb_api_response *r);
/* A response header's value (case-insensitive) copied into out; 0 found. */
int sb_api_response_header(const sb_api_response *r, const char *name, char *out, size_t cap);

/* Runs SQL on the harness database, as the owner, and copies the first cell of the first
 * row (NULL cell -> ""); returns the number of rows, -1 on error. */
long sb_api_harness_sql(sb_api_harness *h, const char *sql, char *first_cell, size_t cap);

#endif
