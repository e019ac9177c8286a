/* http/router.c — see router.h. */
#include "http/router.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/utf8.h"

static const char *const known_methods[] = {"GET", "POST", "PUT", "PATCH", "DELETE"};
#define N_METHODS (sizeof known_methods / sizeof known_methods[0])

/* A pattern split into segments: literal text, or a parameter name. */
typedef struct shape {
    size_t n;
    char *text[SB_ROUTER_MAX_SEGMENTS];
    unsigned char is_param[SB_ROUTER_MAX_SEGMENTS];
} shape;

struct sb_router {
    sb_route *routes; /* public view, strings owned */
    shape *shapes;    /* parallel to routes */
    size_t n, cap;
};

sb_router *sb_router_new(void) { return calloc(1, sizeof(sb_router)); }

static void free_shape(shape *s)
{
    for (size_t i = 0; i < s->n; i++)
        free(s->text[i]);
    s->n = 0;
}

static void free_route_strings(sb_route *r)
{
    free((char *)r->method);
    free((char *)r->pattern);
    free((char *)r->permission);
    free((char *)r->operation_id);
    free((char *)r->summary);
}

void sb_router_free(sb_router *router)
{
    if (router == NULL)
        return;
    for (size_t i = 0; i < router->n; i++) {
        free_route_strings(&router->routes[i]);
        free_shape(&router->shapes[i]);
    }
    free(router->routes);
    free(router->shapes);
    free(router);
}

const sb_route *sb_router_routes(const sb_router *router, size_t *n)
{
    *n = router ? router->n : 0;
    return router ? router->routes : NULL;
}

static int method_index(const char *method)
{
    for (size_t i = 0; i < N_METHODS; i++)
        if (strcmp(method, known_methods[i]) == 0)
            return (int)i;
    return -1;
}

static int literal_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '.' || c == '_' || c == '~' || c == '-';
}

static int param_name_valid(const char *s, size_t n)
{
    if (n == 0 || (s[0] >= '0' && s[0] <= '9'))
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
              (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
            return 0;
    return 1;
}

/* Splits a pattern; returns NULL or the reason it is refused. */
static const char *parse_pattern(const char *pattern, shape *out)
{
    memset(out, 0, sizeof *out);
    if (pattern == NULL || pattern[0] != '/')
        return "the pattern must start with '/'";
    if (strcmp(pattern, "/") == 0)
        return NULL;
    size_t n_params = 0;
    const char *p = pattern + 1;
    for (;;) {
        const char *end = strchr(p, '/');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (len == 0)
            return "the pattern has an empty segment (a doubled or trailing '/')";
        if (out->n == SB_ROUTER_MAX_SEGMENTS)
            return "the pattern has more than 16 segments";
        int param = p[0] == '{';
        if (param) {
            if (len < 3 || p[len - 1] != '}' || !param_name_valid(p + 1, len - 2))
                return "a parameter must be a whole segment '{name}' with name [A-Za-z_][A-Za-z0-9_]*";
            if (++n_params > SB_ROUTER_MAX_PARAMS)
                return "the pattern has more than 8 parameters";
        } else {
            for (size_t i = 0; i < len; i++)
                if (!literal_char(p[i]))
                    return "a literal segment may only contain [A-Za-z0-9._~-]";
        }
        out->text[out->n] = param ? strndup(p + 1, len - 2) : strndup(p, len);
        out->is_param[out->n] = (unsigned char)param;
        if (out->text[out->n++] == NULL)
            return "out of memory";
        for (size_t i = 0; param && i + 1 < out->n; i++)
            if (out->is_param[i] && strcmp(out->text[i], out->text[out->n - 1]) == 0)
                return "a parameter name appears twice in the pattern";
        if (end == NULL)
            return NULL;
        p = end + 1;
    }
}

/* Same hierarchy: same length, literals equal, parameters in the same places. */
static int same_hierarchy(const shape *a, const shape *b)
{
    if (a->n != b->n)
        return 0;
    for (size_t i = 0; i < a->n; i++) {
        if (a->is_param[i] != b->is_param[i])
            return 0;
        if (!a->is_param[i] && strcmp(a->text[i], b->text[i]) != 0)
            return 0;
    }
    return 1;
}

static char *dup_or_null(const char *s, int *ok)
{
    if (s == NULL)
        return NULL;
    char *d = strdup(s);
    if (d == NULL)
        *ok = 0;
    return d;
}

static const char *check_route(const sb_router *router, const sb_route *r, const shape *s)
{
    if (r->method == NULL || method_index(r->method) < 0)
        return "the method must be one of GET, POST, PUT, PATCH, DELETE";
    if (r->handler == NULL)
        return "the route has no handler";
    if (r->auth != SB_AUTH_PUBLIC && r->auth != SB_AUTH_SESSION && r->auth != SB_AUTH_AGENT)
        return "the auth kind must be SB_AUTH_PUBLIC, SB_AUTH_SESSION or SB_AUTH_AGENT";
    if (r->auth == SB_AUTH_PUBLIC && r->permission != NULL)
        return "a PUBLIC route cannot demand a permission";
    if (r->permission != NULL && r->permission[0] == '\0')
        return "the permission is empty (use NULL for 'any authenticated caller')";
    if (r->operation_id == NULL || r->operation_id[0] == '\0')
        return "the route has no operation id";
    for (size_t i = 0; i < router->n; i++) {
        const sb_route *o = &router->routes[i];
        if (strcmp(o->operation_id, r->operation_id) == 0)
            return "the operation id is already used by another route";
        if (!same_hierarchy(&router->shapes[i], s))
            continue;
        if (strcmp(o->pattern, r->pattern) != 0)
            return "the same path is already registered with other parameter names";
        if (strcmp(o->method, r->method) == 0)
            return "this method and path are already registered";
    }
    return NULL;
}

int sb_router_add(sb_router *router, const sb_route *route, sb_error *err)
{
    if (router == NULL || route == NULL)
        return sb_error_set(err, 1, "no router or route given");
    shape s;
    const char *why = parse_pattern(route->pattern, &s);
    if (why == NULL)
        why = check_route(router, route, &s);
    if (why != NULL) {
        free_shape(&s);
        return sb_error_set(err, 1, "route %s %s (%s): %s", route->method ? route->method : "?",
                            route->pattern ? route->pattern : "?",
                            route->operation_id ? route->operation_id : "no operation id", why);
    }
    if (router->n == router->cap) {
        size_t cap = router->cap ? router->cap * 2 : 32;
        sb_route *routes = realloc(router->routes, cap * sizeof *routes);
        if (routes != NULL)
            router->routes = routes;
        shape *shapes = routes ? realloc(router->shapes, cap * sizeof *shapes) : NULL;
        if (shapes == NULL) {
            free_shape(&s);
            return sb_error_set(err, 1, "out of memory adding route %s", route->pattern);
        }
        router->shapes = shapes;
        router->cap = cap;
    }
    int ok = 1;
    sb_route copy = *route;
    copy.method = dup_or_null(route->method, &ok);
    copy.pattern = dup_or_null(route->pattern, &ok);
    copy.permission = dup_or_null(route->permission, &ok);
    copy.operation_id = dup_or_null(route->operation_id, &ok);
    copy.summary = dup_or_null(route->summary, &ok);
    if (!ok) {
        free_route_strings(&copy);
        free_shape(&s);
        return sb_error_set(err, 1, "out of memory adding route %s", route->pattern);
    }
    router->routes[router->n] = copy;
    router->shapes[router->n] = s;
    router->n++;
    return 0;
}

int sb_router_add_all(sb_router *router, const sb_route *routes, size_t n, sb_error *err)
{
    for (size_t i = 0; i < n; i++)
        if (sb_router_add(router, &routes[i], err) != 0)
            return -1;
    return 0;
}

/* ---- matching -------------------------------------------------------- */

static int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

long sb_http_percent_decode(const char *src, size_t len, char *dst, int plus_is_space)
{
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        char c = src[i];
        if (c == '%') {
            if (i + 2 >= len)
                return -1;
            int hi = hex_value(src[i + 1]), lo = hex_value(src[i + 2]);
            if (hi < 0 || lo < 0)
                return -1;
            c = (char)(hi * 16 + lo);
            i += 2;
        } else if (c == '+' && plus_is_space) {
            c = ' ';
        }
        if (c == '\0')
            return -1;
        dst[o++] = c;
    }
    dst[o] = '\0';
    return sb_utf8_valid((const unsigned char *)dst, o) ? (long)o : -1;
}

/* Splits and decodes path into segs; returns the count, -1 for too many
 * segments (cannot match any route), -2 for a bad encoding. */
static int split_path(const char *path, char *storage, const char **segs)
{
    if (strcmp(path, "/") == 0)
        return 0;
    int n = 0;
    const char *p = path + 1;
    for (;;) {
        const char *end = strchr(p, '/');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (n == SB_ROUTER_MAX_SEGMENTS)
            return -1;
        long dec = sb_http_percent_decode(p, len, storage, 0);
        if (dec < 0)
            return -2;
        segs[n++] = storage;
        storage += dec + 1;
        if (end == NULL)
            return n;
        p = end + 1;
    }
}

static int shape_matches(const shape *s, const char *const *segs, size_t n)
{
    if (s->n != n)
        return 0;
    for (size_t i = 0; i < n; i++) {
        if (s->is_param[i] ? segs[i][0] == '\0' : strcmp(s->text[i], segs[i]) != 0)
            return 0;
    }
    return 1;
}

/* 1 when a is more specific than b: a literal where b has a parameter at
 * the first position where they differ. */
static int more_specific(const shape *a, const shape *b)
{
    for (size_t i = 0; i < a->n; i++)
        if (a->is_param[i] != b->is_param[i])
            return !a->is_param[i];
    return 0;
}

sb_route_result sb_router_match(const sb_router *router, const char *method, const char *path,
                                sb_route_match *m)
{
    memset(m, 0, sizeof *m);
    if (path == NULL || path[0] != '/') {
        m->problem = "the request target must be an absolute path";
        return SB_ROUTE_BAD_PATH;
    }
    m->storage = malloc(strlen(path) + SB_ROUTER_MAX_SEGMENTS + 1);
    if (m->storage == NULL) {
        m->problem = "out of memory";
        return SB_ROUTE_BAD_PATH;
    }
    const char *segs[SB_ROUTER_MAX_SEGMENTS];
    int n = split_path(path, m->storage, segs);
    if (n == -2) {
        m->problem = "the path has malformed percent-encoding, an encoded NUL or invalid UTF-8";
        return SB_ROUTE_BAD_PATH;
    }
    if (n < 0 || router == NULL)
        return SB_ROUTE_NOT_FOUND;
    const shape *best = NULL;
    for (size_t i = 0; i < router->n; i++) {
        const shape *s = &router->shapes[i];
        if (!shape_matches(s, segs, (size_t)n))
            continue;
        if (best == NULL || more_specific(s, best)) {
            best = s;
            m->resource = &router->routes[i];
        }
    }
    if (best == NULL)
        return SB_ROUTE_NOT_FOUND;
    int want = strcmp(method, "HEAD") == 0 ? method_index("GET") : method_index(method);
    unsigned allowed = 0;
    for (size_t i = 0; i < router->n; i++) {
        if (!same_hierarchy(&router->shapes[i], best))
            continue;
        int mi = method_index(router->routes[i].method);
        allowed |= 1u << mi;
        if (mi == want)
            m->route = &router->routes[i];
    }
    if (m->route == NULL) {
        size_t len = 0;
        for (size_t i = 0; i < N_METHODS; i++) {
            if (!(allowed & (1u << i)))
                continue;
            len += (size_t)snprintf(m->allow + len, sizeof m->allow - len, "%s%s",
                                    len ? ", " : "", known_methods[i]);
            if (i == 0)
                len += (size_t)snprintf(m->allow + len, sizeof m->allow - len, ", HEAD");
        }
        return SB_ROUTE_METHOD_NOT_ALLOWED;
    }
    for (size_t i = 0; i < best->n; i++) {
        if (!best->is_param[i])
            continue;
        m->param_names[m->n_params] = best->text[i];
        m->param_values[m->n_params++] = segs[i];
    }
    return SB_ROUTE_FOUND;
}

void sb_route_match_clear(sb_route_match *m)
{
    free(m->storage);
    memset(m, 0, sizeof *m);
}
