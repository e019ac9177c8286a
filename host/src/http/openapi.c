/* http/openapi.c — see openapi.h. */
#include "http/openapi.h"

#include <ctype.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "http/server.h"
#include "http/textbuf.h"

static const char *const doc_methods[] = {"get",     "put",  "post",  "delete",
                                          "options", "head", "patch", "trace"};
#define N_DOC_METHODS (sizeof doc_methods / sizeof doc_methods[0])

static void lower(const char *in, char *out, size_t cap)
{
    size_t i = 0;
    for (; in[i] && i + 1 < cap; i++)
        out[i] = (char)tolower((unsigned char)in[i]);
    out[i] = '\0';
}

static int routed(const sb_route *routes, size_t n, const char *path, const char *method)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(routes[i].pattern, path) == 0 && strcasecmp(routes[i].method, method) == 0)
            return 1;
    return 0;
}

static void copy_out(sb_textbuf *b, char *problems, size_t cap)
{
    if (cap == 0)
        return;
    snprintf(problems, cap, "%s", b->data ? b->data : "");
}

int sb_openapi_check(const sb_router *router, const char *openapi_json, size_t len,
                     char *problems, size_t cap)
{
    sb_textbuf b = {0};
    json_error_t jerr;
    json_t *doc = json_loadb(openapi_json, len, 0, &jerr);
    json_t *paths = doc ? json_object_get(doc, "paths") : NULL;
    if (!json_is_object(paths)) {
        if (doc == NULL)
            sb_textbuf_printf(&b, "the OpenAPI document is not valid JSON (line %d, column %d): %s\n",
                              jerr.line, jerr.column, jerr.text);
        else
            sb_textbuf_puts(&b, "the OpenAPI document has no \"paths\" object\n");
        copy_out(&b, problems, cap);
        sb_textbuf_free(&b);
        json_decref(doc);
        return -1;
    }
    int count = 0;
    size_t n_routes, n_builtins;
    const sb_route *routes = sb_router_routes(router, &n_routes);
    const sb_route *builtins = sb_http_builtin_routes(&n_builtins);
    for (size_t i = 0; i < n_routes; i++) {
        char method[16];
        lower(routes[i].method, method, sizeof method);
        json_t *op = json_object_get(json_object_get(paths, routes[i].pattern), method);
        if (!json_is_object(op)) {
            sb_textbuf_printf(&b, "route %s %s (%s) is not in the document\n", routes[i].method,
                              routes[i].pattern, routes[i].operation_id);
            count++;
            continue;
        }
        const char *doc_id = json_string_value(json_object_get(op, "operationId"));
        if (doc_id != NULL && strcmp(doc_id, routes[i].operation_id) != 0) {
            sb_textbuf_printf(&b, "route %s %s has operationId %s but the document says %s\n",
                              routes[i].method, routes[i].pattern, routes[i].operation_id, doc_id);
            count++;
        }
    }
    const char *path;
    json_t *item;
    json_object_foreach(paths, path, item) {
        for (size_t m = 0; m < N_DOC_METHODS; m++) {
            if (json_object_get(item, doc_methods[m]) == NULL)
                continue;
            if (routed(routes, n_routes, path, doc_methods[m]) ||
                routed(builtins, n_builtins, path, doc_methods[m]))
                continue;
            char upper[16];
            size_t k = 0;
            for (; doc_methods[m][k] && k + 1 < sizeof upper; k++)
                upper[k] = (char)toupper((unsigned char)doc_methods[m][k]);
            upper[k] = '\0';
            sb_textbuf_printf(&b, "the document lists %s %s but no route serves it\n", upper, path);
            count++;
        }
    }
    copy_out(&b, problems, cap);
    sb_textbuf_free(&b);
    json_decref(doc);
    return count;
}
