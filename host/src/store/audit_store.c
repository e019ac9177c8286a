/* store/audit_store.c — appending, sealing, verifying and listing audit
 * events. See audit_store.h for the contract and 0004_audit.sql for the
 * table and its append-only trigger. */
#include "store/audit_store.h"

#include <inttypes.h>
#include <jansson.h>
#include <stdarg.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/utf8.h"

/* The chain covers these texts exactly as PostgreSQL gives them back;
 * sealing and verifying read them with this one column list. Columns 0..10. */
#define CANONICAL_COLUMNS                                                                      \
    "id, to_char(occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'), actor, " \
    "action, resource, outcome, severity, correlation_id, request_id, remote_ip, details::text"
#define CANONICAL_N 11
#define SEALED_AT_TEXT "to_char(sealed_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')"

/* The sealers' mutual exclusion (transaction-level advisory lock). */
#define SEALER_LOCK_NAME "sbridge.audit.sealer"
#define SEAL_BATCH_MAX 10000
#define HEX_HASH (SB_AUDIT_HASH_BYTES * 2)

/* ---- shared helpers -------------------------------------------------------- */

static const char *cell_or_null(const PGresult *res, int row, int col)
{
    return PQgetisnull(res, row, col) ? NULL : PQgetvalue(res, row, col);
}

/* The chained fields of a row read with CANONICAL_COLUMNS. */
static void fields_from_row(const PGresult *res, int row, int64_t chain_seq, sb_audit_fields *f)
{
    f->id = sb_db_cell_i64(res, row, 0);
    f->chain_seq = chain_seq;
    f->occurred_at = cell_or_null(res, row, 1);
    f->actor = cell_or_null(res, row, 2);
    f->action = cell_or_null(res, row, 3);
    f->resource = cell_or_null(res, row, 4);
    f->outcome = cell_or_null(res, row, 5);
    f->severity = cell_or_null(res, row, 6);
    f->correlation_id = cell_or_null(res, row, 7);
    f->request_id = cell_or_null(res, row, 8);
    f->remote_ip = cell_or_null(res, row, 9);
    f->details = cell_or_null(res, row, 10);
}

/* Decodes a 64-digit hex cell; 0 when it is NULL or not a hash. */
static int hash_from_cell(const PGresult *res, int row, int col, unsigned char out[SB_AUDIT_HASH_BYTES])
{
    if (PQgetisnull(res, row, col) || PQgetlength(res, row, col) != HEX_HASH)
        return 0;
    size_t n = 0;
    return sodium_hex2bin(out, SB_AUDIT_HASH_BYTES, PQgetvalue(res, row, col), HEX_HASH, NULL, &n,
                          NULL) == 0 &&
           n == SB_AUDIT_HASH_BYTES;
}

/* ---- validation ------------------------------------------------------------ */

int sb_audit_action_valid(const char *a)
{
    size_t n = a ? strlen(a) : 0;
    if (n < 2 || n > 100 || !(a[0] >= 'a' && a[0] <= 'z'))
        return 0;
    for (size_t i = 1; i < n; i++)
        if (!((a[i] >= 'a' && a[i] <= 'z') || (a[i] >= '0' && a[i] <= '9') || a[i] == '_' ||
              a[i] == '.'))
            return 0;
    return 1;
}

static int one_of(const char *s, const char *const *set, size_t n)
{
    for (size_t i = 0; s && i < n; i++)
        if (strcmp(s, set[i]) == 0)
            return 1;
    return 0;
}

int sb_audit_outcome_valid(const char *outcome)
{
    static const char *const outcomes[] = {"success", "failure", "denied"};
    return one_of(outcome, outcomes, 3);
}

static int check_text(const char *name, const char *v, int required, size_t max, sb_error *err)
{
    if (v == NULL) {
        if (required)
            return sb_error_set(err, SB_AUDIT_E_INVALID, "audit event without %s: every event names "
                                "its %s", name, name);
        return 0;
    }
    size_t n = strlen(v);
    if (n == 0 && required)
        return sb_error_set(err, SB_AUDIT_E_INVALID, "audit event with an empty %s", name);
    if (n > max)
        return sb_error_set(err, SB_AUDIT_E_INVALID, "audit event %s is %zu bytes; at most %zu are "
                            "stored", name, n, max);
    if (!sb_utf8_valid((const unsigned char *)v, n))
        return sb_error_set(err, SB_AUDIT_E_INVALID, "audit event %s is not valid UTF-8", name);
    return 0;
}

static int validate(const sb_audit_record *r, sb_error *err)
{
    static const char *const severities[] = {"info", "warning", "critical"};
    if (r == NULL)
        return sb_error_set(err, SB_AUDIT_E_INVALID, "no audit record to append");
    if (!sb_audit_action_valid(r->action))
        return sb_error_set(err, SB_AUDIT_E_INVALID, "audit action \"%.100s\" is not of the form "
                            "area.verb (^[a-z][a-z0-9_.]{1,99}$)", r->action ? r->action : "(null)");
    if (!sb_audit_outcome_valid(r->outcome))
        return sb_error_set(err, SB_AUDIT_E_INVALID, "audit outcome \"%.40s\" is not one of success, "
                            "failure, denied", r->outcome ? r->outcome : "(null)");
    if (r->severity && !one_of(r->severity, severities, 3))
        return sb_error_set(err, SB_AUDIT_E_INVALID, "audit severity \"%.40s\" is not one of info, "
                            "warning, critical", r->severity);
    if (check_text("actor", r->actor, 1, SB_AUDIT_TEXT_MAX, err) != 0 ||
        check_text("resource", r->resource, 1, SB_AUDIT_TEXT_MAX, err) != 0 ||
        check_text("correlation id", r->correlation_id, 1, SB_AUDIT_CORRELATION_MAX, err) != 0 ||
        check_text("request id", r->request_id, 0, SB_AUDIT_TEXT_MAX, err) != 0 ||
        check_text("remote ip", r->remote_ip, 0, SB_AUDIT_TEXT_MAX, err) != 0 ||
        check_text("details", r->details, 0, SB_AUDIT_DETAILS_MAX, err) != 0)
        return -1;
    if (r->details) {
        const char *p = r->details;
        while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
            p++;
        if (*p != '{')
            return sb_error_set(err, SB_AUDIT_E_INVALID, "audit details must be a JSON object");
    }
    return 0;
}

/* ---- append ---------------------------------------------------------------- */

/* The INSERT of one event; with_id: it returns the new id. The table's
 * trigger queues the event for the sealer. */
#define AUDIT_INSERT                                                                        \
    "INSERT INTO audit_events (actor, action, resource, outcome, severity, correlation_id, " \
    "request_id, remote_ip, details) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::jsonb)"
#define AUDIT_PARAMS 9

static void params_of(const sb_audit_record *r, const char *p[AUDIT_PARAMS])
{
    const char *v[AUDIT_PARAMS] = {r->actor,          r->action,     r->resource,
                                   r->outcome,        r->severity ? r->severity : "info",
                                   r->correlation_id, r->request_id, r->remote_ip,
                                   r->details ? r->details : "{}"};
    memcpy(p, v, sizeof v);
}

int sb_audit_append_id(sb_db_conn *conn, const sb_audit_record *r, int64_t *id, sb_error *err)
{
    if (id)
        *id = 0;
    if (validate(r, err) != 0)
        return -1;
    const char *params[AUDIT_PARAMS];
    params_of(r, params);
    PGresult *res;
    if (sb_db_exec(conn, AUDIT_INSERT " RETURNING id", AUDIT_PARAMS, params, &res, err) != 0)
        return -1;
    if (id && PQntuples(res) == 1)
        *id = sb_db_cell_i64(res, 0, 0);
    PQclear(res);
    return 0;
}

/* The same columns from a JSON array of rows: the events of a transaction,
 * deferred one after the other, go as one statement. */
#define AUDIT_INSERT_ROWS                                                                   \
    "INSERT INTO audit_events (actor, action, resource, outcome, severity, correlation_id, " \
    "request_id, remote_ip, details) SELECT r->>'actor', r->>'action', r->>'resource', "     \
    "r->>'outcome', r->>'severity', r->>'correlation_id', r->>'request_id', r->>'remote_ip', " \
    "r->'details' FROM jsonb_array_elements($1::jsonb) AS e(r)"

/* The record as a one-row array for AUDIT_INSERT_ROWS; NULL when its
 * details are not JSON (or out of memory). */
static char *row_array(const sb_audit_record *r)
{
    const char *p[AUDIT_PARAMS];
    params_of(r, p);
    json_t *details = json_loads(p[8], JSON_DECODE_ANY, NULL);
    if (details == NULL)
        return NULL;
    json_t *row = json_pack("[{s:s, s:s, s:s, s:s, s:s, s:s, s:s?, s:s?, s:o}]", "actor", p[0],
                            "action", p[1], "resource", p[2], "outcome", p[3], "severity", p[4],
                            "correlation_id", p[5], "request_id", p[6], "remote_ip", p[7],
                            "details", details);
    char *text = row ? json_dumps(row, JSON_COMPACT) : NULL;
    json_decref(row);
    return text;
}

int sb_audit_append(sb_db_conn *conn, const sb_audit_record *r, sb_error *err)
{
    if (validate(r, err) != 0)
        return -1;
    char *rows = row_array(r);
    if (rows == NULL)
        return sb_error_set(err, SB_AUDIT_E_INVALID,
                            "audit details for %s are not valid JSON (or out of memory)", r->action);
    /* inside a transaction it goes with the commit, joined with the others */
    int rc = sb_db_exec_deferred_rows(conn, AUDIT_INSERT_ROWS, rows, err);
    free(rows);
    return rc;
}

/* ---- sealing --------------------------------------------------------------- */

typedef struct seal_ctx {
    const unsigned char *key;
    size_t batch;
} seal_ctx;

/* A growing text buffer for the array literals of the sealing UPDATE. */
typedef struct text_list {
    char *buf;
    size_t len, cap;
} text_list;

static int list_add(text_list *t, const char *item)
{
    size_t n = strlen(item);
    if (t->len + n + 3 > t->cap) {
        size_t cap = (t->cap ? t->cap * 2 : 4096) + n;
        char *b = realloc(t->buf, cap);
        if (b == NULL)
            return -1;
        t->buf = b, t->cap = cap;
    }
    char sep = t->len == 0 ? '{' : ',';
    t->buf[t->len++] = sep;
    memcpy(t->buf + t->len, item, n);
    t->len += n;
    t->buf[t->len] = '\0';
    return 0;
}

/* Only called on a non-empty list (list_add left room for the brace). */
static int list_close(text_list *t)
{
    if (t->len == 0)
        return -1;
    t->buf[t->len++] = '}';
    t->buf[t->len] = '\0';
    return 0;
}

/* The last link: its position and hash (0 and zeros for an empty chain). */
static int read_head(sb_db_conn *c, int64_t *seq, unsigned char hash[SB_AUDIT_HASH_BYTES],
                     sb_error *err)
{
    PGresult *res;
    if (sb_db_exec(c,
                   "SELECT event_id, chain_seq, encode(hash, 'hex') FROM audit_chain "
                   "ORDER BY chain_seq DESC LIMIT 1",
                   0, NULL, &res, err) != 0)
        return -1;
    int rc = 0;
    *seq = 0;
    memset(hash, 0, SB_AUDIT_HASH_BYTES);
    if (PQntuples(res) == 1) {
        *seq = sb_db_cell_i64(res, 0, 1);
        if (!hash_from_cell(res, 0, 2, hash))
            rc = sb_error_set(err, SB_AUDIT_E_CHAIN, "the audit chain head (event id %" PRId64
                              ", chain position %" PRId64 ") has no valid hash; sealing stopped "
                              "— run `sbridge audit verify`", sb_db_cell_i64(res, 0, 0), *seq);
    }
    PQclear(res);
    return rc;
}

static int seal_txn(sb_db_conn *c, void *vctx, sb_error *err)
{
    seal_ctx *s = vctx;
    int locked = 0;
    /* Bounds every statement of a pass, so a stopping sealer never waits
     * on a hung database for long. */
    if (sb_db_exec(c, "SELECT set_config('statement_timeout', '5000', true)", 0, NULL, NULL, err) != 0)
        return -1;
    if (sb_db_advisory_try_lock_xact(c, sb_db_advisory_key(SEALER_LOCK_NAME), &locked, err) != 0)
        return -1;
    if (!locked)
        return 0; /* another sealer is at work */
    int64_t seq;
    unsigned char prev[SB_AUDIT_HASH_BYTES];
    if (read_head(c, &seq, prev, err) != 0)
        return -1;
    char limit[24];
    snprintf(limit, sizeof limit, "%zu", s->batch);
    const char *const lp[] = {limit};
    PGresult *rows;
    if (sb_db_exec(c,
                   "SELECT " CANONICAL_COLUMNS " FROM audit_events WHERE id IN "
                   "(SELECT event_id FROM audit_unsealed ORDER BY event_id LIMIT $1::bigint) "
                   "ORDER BY id",
                   1, lp, &rows, err) != 0)
        return -1;
    int n = PQntuples(rows);
    text_list ids = {0}, seqs = {0}, prevs = {0}, hashes = {0};
    int rc = 0;
    for (int i = 0; i < n && rc == 0; i++) {
        sb_audit_fields f;
        fields_from_row(rows, i, ++seq, &f);
        unsigned char h[SB_AUDIT_HASH_BYTES];
        sb_audit_chain_link(s->key, prev, &f, h);
        char id_text[24], seq_text[24], prev_hex[HEX_HASH + 1], hash_hex[HEX_HASH + 1];
        snprintf(id_text, sizeof id_text, "%" PRId64, f.id);
        snprintf(seq_text, sizeof seq_text, "%" PRId64, seq);
        sodium_bin2hex(prev_hex, sizeof prev_hex, prev, sizeof prev);
        sodium_bin2hex(hash_hex, sizeof hash_hex, h, sizeof h);
        if (list_add(&ids, id_text) || list_add(&seqs, seq_text) || list_add(&prevs, prev_hex) ||
            list_add(&hashes, hash_hex))
            rc = sb_error_set(err, SB_DB_E_NO_MEMORY, "out of memory sealing %d audit events", n);
        memcpy(prev, h, sizeof prev);
    }
    PQclear(rows);
    if (rc == 0 && n > 0) {
        if (list_close(&ids) || list_close(&seqs) || list_close(&prevs) || list_close(&hashes)) {
            rc = sb_error_set(err, SB_DB_E_NO_MEMORY, "out of memory sealing %d audit events", n);
        } else {
            const char *const up[] = {ids.buf, seqs.buf, prevs.buf, hashes.buf};
            PGresult *res;
            /* Out of the queue and into the chain, in one statement: a
             * link is written only for an event still queued. */
            rc = sb_db_exec(c,
                            "WITH taken AS (DELETE FROM audit_unsealed "
                            "WHERE event_id = ANY($1::bigint[]) RETURNING event_id) "
                            "INSERT INTO audit_chain (chain_seq, event_id, prev_hash, hash) "
                            "SELECT v.seq, v.id, decode(v.prev, 'hex'), decode(v.h, 'hex') "
                            "FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::text[]) "
                            "AS v(id, seq, prev, h) JOIN taken ON taken.event_id = v.id",
                            4, up, &res, err);
            if (rc == 0) {
                int64_t done = sb_db_affected(res);
                PQclear(res);
                if (done != n)
                    rc = sb_error_set(err, SB_DB_E_RETRY, "sealed %" PRId64 " of %d audit events "
                                      "(another sealer without the lock?); rolled back", done, n);
            }
        }
    }
    free(ids.buf), free(seqs.buf), free(prevs.buf), free(hashes.buf);
    return rc == 0 ? n : -1;
}

int sb_audit_seal(sb_db *db, const unsigned char key[SB_AUDIT_KEY_BYTES], size_t batch,
                  size_t *sealed, sb_error *err)
{
    if (sealed)
        *sealed = 0;
    if (db == NULL || key == NULL || batch == 0 || batch > SEAL_BATCH_MAX)
        return sb_error_set(err, SB_AUDIT_E_INVALID, "sealing needs a database, the audit key and "
                            "a batch of 1..%d events (got %zu)", SEAL_BATCH_MAX, batch);
    seal_ctx s = {key, batch};
    int n = sb_db_transaction(db, seal_txn, &s, err);
    if (n < 0)
        return -1;
    if (sealed)
        *sealed = (size_t)n;
    return 0;
}

int sb_audit_counts(sb_db_conn *conn, int64_t *chain_length, int64_t *unsealed, sb_error *err)
{
    PGresult *res;
    if (sb_db_exec(conn,
                   "SELECT (SELECT coalesce(max(chain_seq), 0) FROM audit_chain), "
                   "(SELECT count(*) FROM audit_unsealed)",
                   0, NULL, &res, err) != 0)
        return -1;
    *chain_length = sb_db_cell_i64(res, 0, 0);
    *unsealed = sb_db_cell_i64(res, 0, 1);
    PQclear(res);
    return 0;
}

/* ---- verification ---------------------------------------------------------- */

const char *sb_audit_break_name(sb_audit_break_kind kind)
{
    switch (kind) {
    case SB_AUDIT_INTACT: return "ok";
    case SB_AUDIT_BREAK_START: return "start";
    case SB_AUDIT_BREAK_GAP: return "gap";
    case SB_AUDIT_BREAK_LINK: return "link";
    case SB_AUDIT_BREAK_MODIFIED: return "modified";
    case SB_AUDIT_BREAK_MALFORMED: return "malformed";
    case SB_AUDIT_BREAK_STALE: return "stale";
    case SB_AUDIT_BREAK_MISSING: return "missing";
    case SB_AUDIT_BREAK_UNTRACKED: return "untracked";
    }
    return "unknown";
}

typedef struct verify_ctx {
    const unsigned char *key;
    sb_audit_verify_options opts;
    sb_audit_verify_report *out;
} verify_ctx;

static void report_break(sb_audit_verify_report *r, sb_audit_break_kind kind, int64_t id, int64_t seq,
                         const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static void report_break(sb_audit_verify_report *r, sb_audit_break_kind kind, int64_t id, int64_t seq,
                         const char *fmt, ...)
{
    r->ok = 0;
    r->kind = kind;
    r->event_id = id;
    r->chain_seq = seq;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->message, sizeof r->message, fmt, ap);
    va_end(ap);
}

/* Checks one sealed row against the walk so far; 1 when it breaks. */
static int check_row(verify_ctx *v, const PGresult *res, int i, unsigned char prev[SB_AUDIT_HASH_BYTES])
{
    sb_audit_verify_report *r = v->out;
    int64_t id = sb_db_cell_i64(res, i, CANONICAL_N + 4), seq = sb_db_cell_i64(res, i, CANONICAL_N);
    int64_t expected = r->head_seq + 1;
    if (seq != expected && expected == 1) {
        r->expected_seq = 1;
        report_break(r, SB_AUDIT_BREAK_START, id, seq,
                     "audit chain broken at event id %" PRId64 " (chain position %" PRId64 "): the "
                     "chain must start at position 1 — %s", id, seq,
                     seq > 1 ? "the first events were deleted" : "the event was inserted before "
                     "the start of the chain");
        return 1;
    }
    if (seq != expected) {
        r->expected_seq = expected;
        char missing[64];
        if (seq - expected == 1)
            snprintf(missing, sizeof missing, "position %" PRId64 " is", expected);
        else
            snprintf(missing, sizeof missing, "positions %" PRId64 "..%" PRId64 " are", expected, seq - 1);
        report_break(r, SB_AUDIT_BREAK_GAP, id, seq,
                     "audit chain broken at event id %" PRId64 " (chain position %" PRId64 "): "
                     "chain %s missing — events were deleted", id, seq, missing);
        return 1;
    }
    if (PQgetisnull(res, i, 0)) {
        report_break(r, SB_AUDIT_BREAK_MISSING, id, seq,
                     "audit chain broken at event id %" PRId64 " (chain position %" PRId64 "): the "
                     "chain links an event that no longer exists — the event was deleted", id, seq);
        return 1;
    }
    unsigned char stored_prev[SB_AUDIT_HASH_BYTES], stored[SB_AUDIT_HASH_BYTES];
    if (!hash_from_cell(res, i, CANONICAL_N + 1, stored_prev) ||
        !hash_from_cell(res, i, CANONICAL_N + 2, stored) || PQgetisnull(res, i, CANONICAL_N + 3)) {
        report_break(r, SB_AUDIT_BREAK_MALFORMED, id, seq,
                     "audit chain broken at event id %" PRId64 " (chain position %" PRId64 "): the "
                     "chain link has no valid prev_hash, hash or sealed_at — the link was altered",
                     id, seq);
        return 1;
    }
    if (!sb_audit_chain_equal(stored_prev, prev)) {
        report_break(r, SB_AUDIT_BREAK_LINK, id, seq,
                     "audit chain broken at event id %" PRId64 " (chain position %" PRId64 "): its "
                     "prev_hash is not the hash of the event at position %" PRId64 " — an event was "
                     "inserted, or events were reordered", id, seq, seq - 1);
        return 1;
    }
    sb_audit_fields f;
    fields_from_row(res, i, seq, &f);
    unsigned char computed[SB_AUDIT_HASH_BYTES];
    sb_audit_chain_link(v->key, prev, &f, computed);
    if (!sb_audit_chain_equal(computed, stored)) {
        report_break(r, SB_AUDIT_BREAK_MODIFIED, id, seq,
                     "audit chain broken at event id %" PRId64 " (chain position %" PRId64 "): "
                     "stored hash does not match its contents — the row was modified after sealing "
                     "(or forged without the audit key)", id, seq);
        return 1;
    }
    memcpy(prev, stored, SB_AUDIT_HASH_BYTES);
    r->head_seq = seq;
    memcpy(r->head_hash, stored, SB_AUDIT_HASH_BYTES);
    r->sealed++;
    snprintf(r->newest_sealed_at, sizeof r->newest_sealed_at, "%s", PQgetvalue(res, i, CANONICAL_N + 3));
    return 0;
}

static int walk_chain(sb_db_conn *c, verify_ctx *v, sb_error *err)
{
    unsigned char prev[SB_AUDIT_HASH_BYTES] = {0};
    char after[24] = "-9223372036854775808", limit[24];
    snprintf(limit, sizeof limit, "%zu", v->opts.page_size);
    for (;;) {
        const char *const params[] = {after, limit};
        PGresult *res;
        if (sb_db_exec(c,
                       "SELECT " CANONICAL_COLUMNS ", chain_seq, encode(prev_hash, 'hex'), "
                       "encode(hash, 'hex'), " SEALED_AT_TEXT ", event_id FROM audit_chain "
                       "LEFT JOIN audit_events ON id = event_id "
                       "WHERE chain_seq > $1::bigint ORDER BY chain_seq LIMIT $2::bigint",
                       2, params, &res, err) != 0)
            return -1;
        int n = PQntuples(res), broken = 0;
        for (int i = 0; i < n && !broken; i++)
            broken = check_row(v, res, i, prev);
        if (n > 0)
            snprintf(after, sizeof after, "%s", PQgetvalue(res, n - 1, CANONICAL_N));
        PQclear(res);
        if (broken || (size_t)n < v->opts.page_size)
            return 0;
    }
}

/* Every event is either in the chain or queued for it: one that is in
 * neither can never be sealed (its queue row was removed), and a queue row
 * whose event is gone names a deleted event. */
static int check_accounted(sb_db_conn *c, verify_ctx *v, sb_error *err)
{
    sb_audit_verify_report *r = v->out;
    PGresult *res;
    if (sb_db_exec(c,
                   "SELECT (SELECT min(id) FROM audit_events e WHERE NOT EXISTS "
                   "(SELECT 1 FROM audit_chain WHERE event_id = e.id) AND NOT EXISTS "
                   "(SELECT 1 FROM audit_unsealed WHERE event_id = e.id)), "
                   "(SELECT min(event_id) FROM audit_unsealed u WHERE NOT EXISTS "
                   "(SELECT 1 FROM audit_events WHERE id = u.event_id))",
                   0, NULL, &res, err) != 0)
        return -1;
    int untracked = !PQgetisnull(res, 0, 0), gone = !PQgetisnull(res, 0, 1);
    int64_t untracked_id = sb_db_cell_i64(res, 0, 0), gone_id = sb_db_cell_i64(res, 0, 1);
    PQclear(res);
    if (untracked)
        report_break(r, SB_AUDIT_BREAK_UNTRACKED, untracked_id, 0,
                     "audit event id %" PRId64 " is neither in the chain nor queued for sealing — "
                     "its queue entry was removed, so it would never be protected", untracked_id);
    else if (gone)
        report_break(r, SB_AUDIT_BREAK_MISSING, gone_id, 0,
                     "audit event id %" PRId64 " is queued for sealing but no longer exists — the "
                     "event was deleted before it was sealed", gone_id);
    return 0;
}

static int check_unsealed(sb_db_conn *c, verify_ctx *v, sb_error *err)
{
    sb_audit_verify_report *r = v->out;
    char ms[24];
    snprintf(ms, sizeof ms, "%" PRId64, v->opts.stale_after_ms < 0 ? INT64_C(0) : v->opts.stale_after_ms);
    const char *const params[] = {ms};
    PGresult *res;
    if (sb_db_exec(c,
                   "SELECT count(*), count(*) FILTER (WHERE occurred_at <= now() - $1::bigint * "
                   "interval '1 millisecond'), min(id), to_char(min(occurred_at) AT TIME ZONE 'UTC', "
                   "'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"') FROM audit_unsealed "
                   "JOIN audit_events ON id = event_id",
                   1, params, &res, err) != 0)
        return -1;
    r->unsealed = sb_db_cell_i64(res, 0, 0);
    int64_t stale = sb_db_cell_i64(res, 0, 1), oldest = sb_db_cell_i64(res, 0, 2);
    snprintf(r->oldest_unsealed_at, sizeof r->oldest_unsealed_at, "%s",
             PQgetisnull(res, 0, 3) ? "" : PQgetvalue(res, 0, 3));
    PQclear(res);
    if (r->ok && v->opts.stale_after_ms >= 0 && stale > 0) {
        r->stale_count = stale;
        report_break(r, SB_AUDIT_BREAK_STALE, oldest, 0,
                     "%" PRId64 " audit event%s unsealed for more than %" PRId64 " ms (oldest: event "
                     "id %" PRId64 ", recorded at %s) — no sealer is running (start `sbridge server` "
                     "or `sbridge worker`); until sealed, these events are not protected by the chain",
                     stale, stale == 1 ? " is" : "s are", v->opts.stale_after_ms, oldest,
                     r->oldest_unsealed_at);
    }
    return 0;
}

static int verify_txn(sb_db_conn *c, void *vctx, sb_error *err)
{
    verify_ctx *v = vctx;
    sb_audit_verify_report *r = v->out;
    memset(r, 0, sizeof *r);
    r->ok = 1;
    if (sb_db_exec(c, "SET TRANSACTION READ ONLY", 0, NULL, NULL, err) != 0 || walk_chain(c, v, err) != 0 ||
        (r->ok && check_accounted(c, v, err) != 0) || check_unsealed(c, v, err) != 0)
        return -1;
    if (r->ok)
        snprintf(r->message, sizeof r->message, "audit chain ok: %" PRId64 " events (%" PRId64
                 " unsealed, newest sealed at %s)", r->sealed + r->unsealed, r->unsealed,
                 r->newest_sealed_at[0] ? r->newest_sealed_at : "never");
    return 0;
}

int sb_audit_verify_with(sb_db *db, const unsigned char key[SB_AUDIT_KEY_BYTES],
                         const sb_audit_verify_options *opts, sb_audit_verify_report *out,
                         sb_error *err)
{
    if (db == NULL || key == NULL || out == NULL)
        return sb_error_set(err, SB_AUDIT_E_INVALID, "verifying needs a database, the audit key and "
                            "a report");
    verify_ctx v = {key, {SB_AUDIT_STALE_DEFAULT_MS, 1000}, out};
    if (opts) {
        v.opts.stale_after_ms = opts->stale_after_ms;
        if (opts->page_size)
            v.opts.page_size = opts->page_size;
    }
    return sb_db_transaction_isolated(db, SB_DB_REPEATABLE_READ, verify_txn, &v, err) < 0 ? -1 : 0;
}

int sb_audit_verify(sb_db *db, const unsigned char key[SB_AUDIT_KEY_BYTES],
                    sb_audit_verify_report *out, sb_error *err)
{
    return sb_audit_verify_with(db, key, NULL, out, err);
}

/* ---- listing --------------------------------------------------------------- */

int sb_audit_list(sb_db_conn *conn, const sb_audit_filter *filter, int64_t limit, int64_t after_id,
                  sb_audit_event_fn fn, void *ctx, size_t *count, sb_error *err)
{
    if (count)
        *count = 0;
    if (fn == NULL || limit < 1 || limit > 1001)
        return sb_error_set(err, SB_AUDIT_E_INVALID, "listing audit events needs a callback and a "
                            "limit of 1..1001 (got %" PRId64 ")", limit);
    sb_audit_filter none = {0};
    const sb_audit_filter *f = filter ? filter : &none;
    char after[24], lim[24];
    snprintf(after, sizeof after, "%" PRId64, after_id);
    snprintf(lim, sizeof lim, "%" PRId64, limit);
    const char *const params[] = {f->actor,  f->action, f->resource,          f->correlation_id,
                                  f->outcome, f->since, f->until, after_id > 0 ? after : NULL,
                                  lim};
    /* Unnamed statements are planned with their parameter values, so each
     * "$n IS NULL OR" folds away and the matching index is used. */
    PGresult *res;
    if (sb_db_exec(conn,
                   "SELECT " CANONICAL_COLUMNS ", chain_seq, " SEALED_AT_TEXT " FROM audit_events "
                   "LEFT JOIN audit_chain ON event_id = id "
                   "WHERE ($1::text IS NULL OR actor = $1::text) "
                   "AND ($2::text IS NULL OR action = $2::text) "
                   "AND ($3::text IS NULL OR resource = $3::text) "
                   "AND ($4::text IS NULL OR correlation_id = $4::text) "
                   "AND ($5::text IS NULL OR outcome = $5::text) "
                   "AND ($6::timestamptz IS NULL OR occurred_at >= $6::timestamptz) "
                   "AND ($7::timestamptz IS NULL OR occurred_at < $7::timestamptz) "
                   "AND ($8::bigint IS NULL OR id < $8::bigint) "
                   "ORDER BY id DESC LIMIT $9::bigint",
                   9, params, &res, err) != 0)
        return -1;
    int n = PQntuples(res), rc = 0;
    for (int i = 0; i < n && rc == 0; i++) {
        sb_audit_fields fl;
        fields_from_row(res, i, 0, &fl);
        sb_audit_event e = {fl.id, fl.occurred_at, fl.actor, fl.action, fl.resource, fl.outcome,
                            fl.severity, fl.correlation_id, fl.request_id, fl.remote_ip, fl.details,
                            !PQgetisnull(res, i, CANONICAL_N), sb_db_cell_i64(res, i, CANONICAL_N),
                            cell_or_null(res, i, CANONICAL_N + 1)};
        rc = fn(ctx, &e);
        if (count && rc == 0)
            ++*count;
    }
    PQclear(res);
    return rc;
}
