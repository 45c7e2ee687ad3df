/* router.h: dispatch of one request over a route table (fcgi/route.h):
 * lookup by path and method, then the pipeline in front of the handler. */
#ifndef TROIKA_ROUTER_H
#define TROIKA_ROUTER_H

#include <stddef.h>

#include "fcgi/route.h"

struct app;
struct req;
struct sink;

enum rt_result { RT_FOUND, RT_NOT_FOUND, RT_BAD_METHOD, RT_OPTIONS };

/* Looks up path and method in t. On RT_BAD_METHOD and RT_OPTIONS (an
 * OPTIONS request for a known path: *out is the path's first row), allow
 * (cap bytes) receives the path's methods as an Allow header value
 * ("GET, HEAD", "GET, HEAD, DELETE"). */
enum rt_result rt_match(const struct rt_table *t, const char *path, const char *method, const struct route **out,
                        char *allow, size_t cap);

/* 1 when path matches the route pattern pat (literal segments, `{name}`
 * for one non-empty segment). */
int rt_path_match(const char *pat, const char *path);

/* The value of `{name}` in path, matched against route->path, copied into
 * out (cap bytes). 0, or -1 when the route has no such segment, the path
 * does not match, or the value does not fit. */
int rt_param(const struct route *route, const char *path, const char *name, char *out, size_t cap);

/* An OPTIONS request for a known path (RT_OPTIONS): a CORS preflight
 * (fcgi/cors.c) or, without Origin, 204 with Allow. Returns the status. */
int rt_options(struct app *app, struct req *r, struct sink *s, const struct route *route, const char *allow);

/* Runs one request end to end on an initialised request and sink: route
 * lookup, pre-stream checks, body, handler, finish. Returns the HTTP
 * status sent. */
int rt_dispatch(struct app *app, struct req *r, struct sink *s, const struct route *route);

#endif
