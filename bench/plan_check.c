/* bench/plan_check.c — see plan_check.h. */
#include "plan_check.h"

#include <libpq-fe.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "bench_world.h"

/* Tables that grow with use (catalog, requests, jobs, audit…): never a Seq
 * Scan of these on a hot path. Tenancy tables (teams, projects, users,
 * roles) grow with the organisation, not with traffic. */
static const char *const unbounded[] = {
    "catalog_secrets", "secret_bindings", "requests",  "request_votes", "request_sealed_values",
    "job_intents",     "jobs",            "request_read_keys", "secret_wraps", "reveal_sessions",
    "audit_events",    "sessions",        "notification_outbox", "gitops_observations",
    "rate_limit_windows", NULL};

static const char *const settings[] = {"session_preload_libraries", "auto_explain.log_min_duration",
                                       "auto_explain.log_analyze", "auto_explain.log_buffers",
                                       "auto_explain.log_nested_statements", "enable_seqscan", "jit",
                                       NULL};

#define MARK "bench-plan-marker:"

struct bench_plans {
    PGconn *owner;
    double min_rows; /* a Seq Scan of a table smaller than this is the planner's right choice */
    char *db; /* quoted identifier */
    char log[300];
    long offset; /* the log's size at begin */
};

static int exec_ok(PGconn *c, const char *sql)
{
    PGresult *r = PQexec(c, sql);
    int ok = PQresultStatus(r) == PGRES_COMMAND_OK || PQresultStatus(r) == PGRES_TUPLES_OK;
    if (!ok)
        fprintf(stderr, "plan check: %s: %s", sql, PQerrorMessage(c));
    PQclear(r);
    return ok ? 0 : -1;
}

static int alter_db(bench_plans *p, const char *setting, const char *value)
{
    char sql[512];
    if (value)
        snprintf(sql, sizeof sql, "ALTER DATABASE %s SET %s = '%s'", p->db, setting, value);
    else
        snprintf(sql, sizeof sql, "ALTER DATABASE %s RESET %s", p->db, setting);
    return exec_ok(p->owner, sql);
}

bench_plans *bench_plans_begin(sb_api_harness *h, int seqscan_off)
{
    bench_plans *p = calloc(1, sizeof *p);
    struct stat st;
    p->owner = PQconnectdb(sb_api_harness_conninfo(h));
    if (PQstatus(p->owner) != CONNECTION_OK || bench_world_pg_log(h, p->log, sizeof p->log) != 0 ||
        stat(p->log, &st) != 0) {
        fprintf(stderr, "plan check: no owner connection or no log (%s)\n", p->log);
        PQfinish(p->owner);
        free(p);
        return NULL;
    }
    p->offset = (long)st.st_size;
    p->min_rows = seqscan_off ? 0 : 1000;
    const char *db = PQdb(p->owner);
    p->db = PQescapeIdentifier(p->owner, db, strlen(db));
    /* the last two with seqscan_off only: enable_seqscan's penalty cost would
     * push every plan over jit_above_cost (seconds of JIT per statement) */
    const char *values[] = {"auto_explain", "0", "on", "on", "on", "off", "off"};
    int rc = exec_ok(p->owner, "LOAD 'auto_explain'");
    for (size_t i = 0; rc == 0 && settings[i]; i++)
        if (seqscan_off || (strcmp(settings[i], "enable_seqscan") != 0 && strcmp(settings[i], "jit") != 0))
            rc = alter_db(p, settings[i], values[i]);
    PQfinish(p->owner); /* the markers' connection must load auto_explain too */
    p->owner = PQconnectdb(sb_api_harness_conninfo(h));
    if (rc != 0 || PQstatus(p->owner) != CONNECTION_OK) {
        PQfreemem(p->db);
        PQfinish(p->owner);
        free(p);
        return NULL;
    }
    return p;
}

void bench_plans_mark(bench_plans *p, const char *name)
{
    char sql[256];
    snprintf(sql, sizeof sql, "SELECT '" MARK "%s'", name);
    exec_ok(p->owner, sql);
}

typedef struct plan {
    char *path;  /* the hot path (marker name) */
    char *query; /* "Query Text: …" */
    char *text;  /* the whole plan */
} plan;

typedef struct plans {
    plan *v;
    size_t n, cap;
} plans;

/* Keeps the last plan of each (path, query). */
static void keep(plans *ps, const char *path, char *text)
{
    const char *q = strstr(text, "Query Text: ");
    size_t qlen = q ? strcspn(q, "\n") : 0;
    for (size_t i = 0; i < ps->n; i++)
        if (strcmp(ps->v[i].path, path) == 0 && q && strlen(ps->v[i].query) == qlen &&
            strncmp(ps->v[i].query, q, qlen) == 0) {
            free(ps->v[i].text);
            ps->v[i].text = text;
            return;
        }
    if (ps->n == ps->cap) {
        ps->cap = ps->cap ? 2 * ps->cap : 64;
        ps->v = realloc(ps->v, ps->cap * sizeof *ps->v);
    }
    ps->v[ps->n++] = (plan){strdup(path), q ? strndup(q, qlen) : strdup(""), text};
}

/* Rows of table (pg_class.reltuples, as of the last ANALYZE); -1 unknown. */
static double table_rows(PGconn *c, const char *table)
{
    const char *p[] = {table};
    PGresult *r = PQexecParams(c, "SELECT reltuples FROM pg_class WHERE relname = $1", 1, NULL, p,
                               NULL, NULL, 0);
    double n = PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1 ? atof(PQgetvalue(r, 0, 0)) : -1;
    PQclear(r);
    return n;
}

/* Each "Seq Scan on <unbounded table>" of at least min_rows rows in text,
 * reported once per (hot path, statement, table); their number. */
static int seq_scans(const bench_plans *bp, const char *path, const char *text, char **seen,
                     FILE *out)
{
    int n = 0;
    const char *q = strstr(text, "Query Text: ");
    int qlen = q ? (int)strcspn(q, "\n") : 0;
    for (const char *s = strstr(text, "Seq Scan on "); s; s = strstr(s + 1, "Seq Scan on ")) {
        const char *t = s + strlen("Seq Scan on ");
        size_t len = strcspn(t, " \n");
        for (size_t i = 0; unbounded[i]; i++) {
            if (strlen(unbounded[i]) != len || strncmp(t, unbounded[i], len) != 0)
                continue;
            double rows = table_rows(bp->owner, unbounded[i]);
            if (rows >= 0 && rows < bp->min_rows)
                continue;
            char key[600];
            snprintf(key, sizeof key, "%s|%s|%.*s\n", path, unbounded[i], qlen > 400 ? 400 : qlen, q ? q : "");
            if (*seen && strstr(*seen, key))
                continue;
            size_t have = *seen ? strlen(*seen) : 0;
            *seen = realloc(*seen, have + strlen(key) + 1);
            strcpy(*seen + have, key);
            fprintf(out, "- **Seq Scan on %s** (%.0f rows) on hot path *%s*: %.*s\n", unbounded[i],
                    rows, path, qlen > 300 ? 300 : qlen, q ? q : "");
            n++;
        }
    }
    return n;
}

/* Reads the plans logged since begin; -1 when the log cannot be read. */
static int read_plans(const bench_plans *p, plans *ps, FILE *out, int *violations)
{
    FILE *f = fopen(p->log, "r");
    if (f == NULL || fseek(f, p->offset, SEEK_SET) != 0) {
        if (f)
            fclose(f);
        return -1;
    }
    char path[128] = "", *line = NULL, *text = NULL;
    size_t cap = 0, len = 0, tcap = 0;
    ssize_t got;
    int in_plan = 0;
    char *seen = NULL;
    while ((got = getline(&line, &cap, f)) >= 0 || in_plan) {
        int cont = got >= 0 && line[0] == '\t';
        if (in_plan && !cont) { /* a plan ended */
            const char *m = strstr(text, MARK);
            if (m && strstr(text, "Query Text: SELECT '" MARK)) {
                snprintf(path, sizeof path, "%.*s", (int)strcspn(m + strlen(MARK), "'"),
                         m + strlen(MARK));
                free(text);
            } else if (path[0]) {
                *violations += seq_scans(p, path, text, &seen, out);
                keep(ps, path, text);
            } else {
                free(text);
            }
            text = NULL;
            in_plan = 0;
        }
        if (got < 0)
            break;
        if (cont && in_plan) {
            if (len + (size_t)got + 1 > tcap) {
                tcap = 2 * (len + (size_t)got + 1);
                text = realloc(text, tcap);
            }
            memcpy(text + len, line + 1, (size_t)got); /* without the tab */
            len += (size_t)got - 1;
            text[len] = '\0';
        } else if (strstr(line, "LOG:  duration: ") && strstr(line, " plan:")) {
            in_plan = 1;
            tcap = 4096;
            text = malloc(tcap);
            len = 0;
            text[0] = '\0';
        }
    }
    free(line);
    free(seen);
    fclose(f);
    return 0;
}

int bench_plans_end(bench_plans *p, FILE *out)
{
    bench_plans_mark(p, ""); /* what follows belongs to no hot path */
    for (size_t i = 0; settings[i]; i++)
        alter_db(p, settings[i], NULL);
    bench_sleep_until(bench_now_s() + 0.3); /* the log is written by other processes */
    plans ps = {0};
    int violations = 0;
    fprintf(out, "\n### Seq Scans of unbounded tables on hot paths (tables of >= %.0f rows)\n\n",
            p->min_rows);
    int rc = read_plans(p, &ps, out, &violations);
    if (rc == 0 && violations == 0)
        fprintf(out, "None.\n");
    if (rc == 0)
        fprintf(out, "\n### Plans (EXPLAIN ANALYZE, BUFFERS; auto_explain, the last execution of "
                     "each statement)\n");
    const char *last = "";
    for (size_t i = 0; i < ps.n; i++) {
        if (strcmp(ps.v[i].path, last) != 0)
            fprintf(out, "\n#### %s\n", ps.v[i].path);
        last = ps.v[i].path;
        fprintf(out, "\n```text\n%s```\n", ps.v[i].text);
    }
    for (size_t i = 0; i < ps.n; i++)
        free(ps.v[i].path), free(ps.v[i].query), free(ps.v[i].text);
    free(ps.v);
    PQfreemem(p->db);
    PQfinish(p->owner);
    free(p);
    return rc < 0 ? -1 : violations;
}
