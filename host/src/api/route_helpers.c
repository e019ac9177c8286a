/* api/route_helpers.c — the helpers agent_api.h declares for route modules
 * whose store answers JSON text (agent_routes.c, gitops_routes.c). */
#include "api/agent_api.h"
#include "store/rows.h"

int sb_api_allowed_globally(sb_server_request *req, sb_permission perm, const char *key)
{
    const sb_identity *id = sb_api_identity(req);
    if (id && id->rbac && sb_rbac_allows_global(id->rbac, perm))
        return 1;
    sb_http_respond_error(req, 403, "forbidden", "this needs %s from a global grant", key);
    return 0;
}

int sb_api_path_uuid(sb_server_request *req, const char *what, char out[37])
{
    if (sb_rows_uuid(sb_http_param(req, "id"), out))
        return 0;
    sb_http_respond_error(req, 404, "not_found", "no such %s", what);
    return -1;
}

int sb_api_respond_read(sb_app *app, sb_server_request *req, const char *id, const char *what,
                        int (*read)(sb_db_conn *, const char *, char **, sb_error *))
{
    sb_db_conn *conn;
    sb_error err = {0};
    char *json = NULL;
    if (sb_db_acquire(app->db, 5000, &conn, &err) != 0)
        return sb_api_respond_store_error(req, &err);
    int rc = read(conn, id, &json, &err);
    sb_db_release(app->db, conn);
    if (rc < 0)
        return sb_api_respond_store_error(req, &err);
    if (rc == 1)
        return sb_http_respond_error(req, 404, "not_found", "no such %s", what);
    return sb_agent_api_respond_text(req, 200, json);
}
