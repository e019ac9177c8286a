/*
 * test_api_catalog.c — the secret catalog and secret bindings through the
 * real control plane:
 *   - sb_catalog_store_upsert_batch (the only writer): insert, refresh,
 *     mark missing;
 *   - GET /secrets: ANDed label filters (values containing ':'), literal
 *     ref prefixes, status, connection, cursor pages without duplicates;
 *   - scope: a user with secret.list on project A sees only A's secrets,
 *     404 on B's (detail and project filter);
 *   - secret bindings: validation of allowed_keys/allowed_ops, environment
 *     and connection availability, integration.bind, audit events.
 */
#include "store/catalog_store.h"
#include "tenancy_test_util.h"

TestSuite(catalog, .init = tenancy_setup, .fini = tenancy_teardown, .timeout = 180);

static char team[40], proj_a[40], proj_b[40], env_a[40], env_b[40], conn_a[40], conn_b[40];

static void make_conn(const char *name, const char *project, char *out)
{
    sb_api_response r;
    long st = callf(admin, "POST", "/api/v1/provider-connections", &r,
                    "{\"name\":\"%s\",\"type\":\"kubernetes\",\"scope\":{\"context\":\"c\"}}", name);
    cr_assert_eq(st, 201, "%s", r.body);
    id_of(&r, out);
    cr_assert_eq(callf(admin, "POST", path3("/api/v1/provider-connections/", out, "/bindings"),
                       NULL, "{\"project_id\":\"%s\"}", project),
                 201);
}

static void upsert(const char *conn_id, const char *items, bool mark_missing)
{
    sb_db_conn *conn;
    sb_error err = {0};
    int64_t n = 0;
    cr_assert_eq(sb_db_acquire(sb_api_harness_db(h), -1, &conn, &err), 0);
    cr_assert_eq(sb_catalog_store_upsert_batch(conn, conn_id, items, mark_missing, &n, &err), 0,
                 "%s", err.message);
    sb_db_release(sb_api_harness_db(h), conn);
}

static void world(void)
{
    make_team(admin, "Cat Team", NULL, team);
    make_project(admin, "cat-a", team, proj_a);
    make_project(admin, "cat-b", team, proj_b);
    make_env(admin, proj_a, "dev", "non_prod", env_a);
    make_env(admin, proj_b, "dev", "non_prod", env_b);
    make_conn("k8s-a", proj_a, conn_a);
    make_conn("k8s-b", proj_b, conn_b);
    upsert(conn_a,
           "[{\"secret_ref\":\"app/db\",\"labels\":{\"team\":\"pay\",\"url\":\"https://x:8443\"},"
           "\"version\":\"3\",\"updated_at\":\"2024-01-02T03:04:05Z\"},"
           "{\"secret_ref\":\"app/api\",\"labels\":{\"team\":\"pay\",\"tier\":\"gold\"}},"
           "{\"secret_ref\":\"ab/cache\",\"labels\":{\"team\":\"ops\"}},"
           "{\"secret_ref\":\"a_x/one\"}]",
           false);
    upsert(conn_b, "[{\"secret_ref\":\"app/b-only\",\"labels\":{\"team\":\"pay\"}}]", false);
}

/* The secret_refs of a list as "ref,ref," (sorted by id, as listed). */
static long refs(const char *cookie, const char *query, char *out, size_t cap)
{
    sb_api_response r;
    char path[512];
    snprintf(path, sizeof path, "/api/v1/secrets%s", query);
    long st = callf(cookie, "GET", path, &r, NULL);
    size_t i, len = 0;
    json_t *item;
    out[0] = '\0';
    json_array_foreach(json_object_get(r.json, "items"), i, item) len += (size_t)snprintf(
        out + len, cap - len, "%s,", json_string_value(json_object_get(item, "secret_ref")));
    sb_api_response_free(&r);
    return st;
}

static int count_of(const char *s)
{
    int n = 0;
    for (; *s; s++)
        n += *s == ',';
    return n;
}

Test(catalog, search_filters_and_upsert)
{
    world();
    char out[2048];
    cr_assert_eq(refs(admin, "", out, sizeof out), 200);
    cr_assert_eq(count_of(out), 5, "%s", out);
    refs(admin, "?label=team:pay", out, sizeof out);
    cr_assert_eq(count_of(out), 3, "%s", out);
    refs(admin, "?label=team:pay&label=tier:gold", out, sizeof out);
    cr_assert_str_eq(out, "app/api,");
    refs(admin, "?label=url:https://x:8443", out, sizeof out);
    cr_assert_str_eq(out, "app/db,", "values may contain ':'");
    refs(admin, "?label=url:https", out, sizeof out);
    cr_assert_str_eq(out, "");
    refs(admin, "?label=team:pay&label=team:ops", out, sizeof out);
    cr_assert_str_eq(out, "", "two values of one key never both match");
    sb_api_response r;
    expect_error(callf(admin, "GET", "/api/v1/secrets?label=nocolon", &r, NULL), &r, 400,
                 "invalid_field");
    expect_error(callf(admin, "GET", "/api/v1/secrets?status=gone", &r, NULL), &r, 400,
                 "invalid_field");
    expect_error(callf(admin, "GET", "/api/v1/secrets?colour=red", &r, NULL), &r, 400,
                 "invalid_field");
    char q[128];
    snprintf(q, sizeof q, "?ref_prefix=app/&connection_id=%s", conn_a);
    refs(admin, q, out, sizeof out);
    cr_assert_eq(count_of(out), 2, "%s", out);
    refs(admin, "?ref_prefix=a_", out, sizeof out);
    cr_assert_str_eq(out, "a_x/one,", "the prefix is literal ('_' is no wildcard)");

    /* a full scan without app/api: it becomes missing; labels are replaced verbatim */
    upsert(conn_a,
           "[{\"secret_ref\":\"app/db\",\"labels\":{\"team\":\"core\"},\"version\":\"4\"},"
           "{\"secret_ref\":\"ab/cache\"},{\"secret_ref\":\"a_x/one\"}]",
           true);
    refs(admin, "?status=missing", out, sizeof out);
    cr_assert_str_eq(out, "app/api,");
    refs(admin, "?label=team:core", out, sizeof out);
    cr_assert_str_eq(out, "app/db,");
    cr_assert_eq(sql_int("SELECT count(*) FROM catalog_secrets WHERE secret_ref = 'app/db' AND "
                         "version = '4' AND status = 'present'"),
                 1);
    upsert(conn_a, "[{\"secret_ref\":\"app/api\"}]", false);
    refs(admin, "?status=missing", out, sizeof out);
    cr_assert_str_eq(out, "", "seen again: present");
}

Test(catalog, cursor_pages_have_no_duplicates)
{
    world();
    char items[4096] = "[";
    for (int i = 0; i < 12; i++)
        snprintf(items + strlen(items), sizeof items - strlen(items), "%s{\"secret_ref\":\"p/%02d\"}",
                 i ? "," : "", i);
    strcat(items, "]");
    upsert(conn_a, items, false);
    char seen[4096] = "", path[512] = "/api/v1/secrets?ref_prefix=p/&limit=5";
    int total = 0, pages = 0;
    for (;;) {
        sb_api_response r;
        cr_assert_eq(callf(admin, "GET", path, &r, NULL), 200, "%s", r.body);
        size_t i;
        json_t *item;
        json_array_foreach(json_object_get(r.json, "items"), i, item)
        {
            const char *ref = json_string_value(json_object_get(item, "secret_ref"));
            cr_assert(strstr(seen, ref) == NULL, "duplicate %s", ref);
            strcat(seen, ref), strcat(seen, ";");
            total++;
        }
        pages++;
        const char *next = json_string_value(json_object_get(r.json, "next_cursor"));
        if (next == NULL) {
            sb_api_response_free(&r);
            break;
        }
        snprintf(path, sizeof path, "/api/v1/secrets?ref_prefix=p/&limit=5&cursor=%s", next);
        sb_api_response_free(&r);
    }
    cr_assert_eq(total, 12);
    cr_assert_eq(pages, 3);
}

Test(catalog, scope_isolation)
{
    world();
    char uid[40], dev[256], out[2048];
    make_user("dev-a", "developer", "project", proj_a, uid, dev);
    refs(dev, "", out, sizeof out);
    cr_assert_eq(count_of(out), 4, "only project A's connection rows: %s", out);
    cr_assert(strstr(out, "b-only") == NULL);
    char b_row[64], a_row[64];
    sb_api_harness_sql(h, "SELECT id::text FROM catalog_secrets WHERE secret_ref = 'app/b-only'",
                       b_row, sizeof b_row);
    sb_api_harness_sql(h, "SELECT id::text FROM catalog_secrets WHERE secret_ref = 'app/db'", a_row,
                       sizeof a_row);
    sb_api_response r;
    expect_error(callf(dev, "GET", path3("/api/v1/secrets/", b_row, ""), &r, NULL), &r, 404,
                 "not_found");
    cr_assert_eq(get(dev, path3("/api/v1/secrets/", a_row, "")), 200);
    cr_assert_eq(get(admin, path3("/api/v1/secrets/", b_row, "")), 200);
    expect_error(callf(dev, "GET", path3("/api/v1/secrets?project_id=", proj_b, ""), &r, NULL), &r,
                 404, "not_found");
    refs(dev, path3("?project_id=", proj_a, ""), out, sizeof out);
    cr_assert_eq(count_of(out), 4);
    /* a secret binding makes a row visible in that project too */
    cr_assert_eq(callf(admin, "POST", path3("/api/v1/provider-connections/", conn_b, "/bindings"),
                       NULL, "{\"project_id\":\"%s\",\"environment_id\":\"%s\"}", proj_a, env_a),
                 201);
    refs(dev, "", out, sizeof out);
    cr_assert(strstr(out, "b-only") != NULL, "%s", out);
    /* no grant at all: the gate refuses */
    char nid[40], none[256];
    make_user("nobody", NULL, NULL, NULL, nid, none);
    expect_error(callf(none, "GET", "/api/v1/secrets", &r, NULL), &r, 403, "forbidden");
}

Test(catalog, secret_bindings_validation_scope_and_audit)
{
    world();
    char row_a[64], row_b[64], bind[40];
    sb_api_harness_sql(h, "SELECT id::text FROM catalog_secrets WHERE secret_ref = 'app/db'", row_a,
                       sizeof row_a);
    sb_api_harness_sql(h, "SELECT id::text FROM catalog_secrets WHERE secret_ref = 'app/b-only'",
                       row_b, sizeof row_b);
    const char *base = path3("/api/v1/projects/", proj_a, "/secret-bindings");
    sb_api_response r;
#define BODY "{\"catalog_secret_id\":\"%s\",\"environment_id\":\"%s\",\"allowed_keys\":%s,\"allowed_ops\":%s}"
    expect_error(callf(admin, "POST", base, &r, BODY, row_a, env_a, "[]", "[\"read\"]"), &r, 422,
                 "invalid_value");
    expect_error(callf(admin, "POST", base, &r, BODY, row_a, env_a, "[\"A\",\"A\"]", "[\"read\"]"),
                 &r, 422, "invalid_value");
    expect_error(callf(admin, "POST", base, &r, BODY, row_a, env_a, "[\"bad key\"]", "[\"read\"]"),
                 &r, 422, "invalid_value");
    expect_error(callf(admin, "POST", base, &r, BODY, row_a, env_a, "[\"A\"]", "[]"), &r, 422,
                 "invalid_value");
    expect_error(callf(admin, "POST", base, &r, BODY, row_a, env_a, "[\"A\"]", "[\"write\"]"), &r,
                 422, "invalid_value");
    expect_error(callf(admin, "POST", base, &r, BODY, row_a, env_b, "[\"A\"]", "[\"read\"]"), &r,
                 422, "invalid_value");
    expect_error(callf(admin, "POST", base, &r, BODY, row_b, env_a, "[\"A\"]", "[\"read\"]"), &r,
                 422, "invalid_value"); /* k8s-b is not bound to project A */
    cr_assert_eq(sql_int("SELECT count(*) FROM secret_bindings"), 0);
    cr_assert_eq(callf(admin, "POST", base, &r, BODY, row_a, env_a, "[\"DB_URL\",\"DB_PASS\"]",
                       "[\"read\",\"reveal\"]"),
                 201, "%s", r.body);
    cr_assert_eq(json_array_size(json_object_get(r.json, "allowed_keys")), 2);
    id_of(&r, bind);
    expect_error(callf(admin, "POST", base, &r, BODY, row_a, env_a, "[\"A\"]", "[\"read\"]"), &r,
                 409, "already_exists");
    char one[200];
    snprintf(one, sizeof one, "%s/%s", base, bind);
    cr_assert_eq(callf(admin, "PUT", one, &r, "{\"allowed_ops\":[\"patch\"]}"), 200, "%s", r.body);
    cr_assert_str_eq(json_string_value(json_array_get(json_object_get(r.json, "allowed_ops"), 0)),
                     "patch");
    sb_api_response_free(&r);
    expect_error(callf(admin, "PUT", one, &r, "{}"), &r, 400, "missing_field");

    /* scope: a binder on project A only; a developer on A cannot bind */
    char uid[40], binder[256], did[40], dev[256];
    make_user("binder", "provider_connection_binder", "project", proj_a, uid, binder);
    make_user("dev-a", "developer", "project", proj_a, did, dev);
    char list[1024];
    list_ids(dev, base, list, sizeof list);
    cr_assert(listed(list, bind));
    expect_error(callf(dev, "POST", base, &r, BODY, row_a, env_a, "[\"X\"]", "[\"read\"]"), &r,
                 403, "forbidden");
    const char *base_b = path3("/api/v1/projects/", proj_b, "/secret-bindings");
    expect_error(callf(binder, "POST", base_b, &r, BODY, row_b, env_b, "[\"X\"]", "[\"read\"]"),
                 &r, 404, "not_found");
    cr_assert_eq(get(dev, base_b), 404);
    cr_assert_eq(callf(binder, "PUT", one, NULL, "{\"allowed_keys\":[\"ONLY\"]}"), 200);
    cr_assert_eq(callf(binder, "DELETE", one, NULL, NULL), 204);
    expect_error(callf(binder, "DELETE", one, &r, NULL), &r, 404, "not_found");

    const char *actions[] = {"secret_binding.create", "secret_binding.update",
                             "secret_binding.delete"};
    long long want[] = {1, 2, 1};
    for (size_t i = 0; i < 3; i++)
        cr_assert_eq(audit_rows(actions[i], "secret_binding", bind), want[i], "%s", actions[i]);
}
