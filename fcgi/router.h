/* router.h: dispatch of one request over a route table (fcgi/route.h):
 * lookup by path and method, then the pipeline in front of the handler. */
#ifndef TROIKA_ROUTER_H
#define TROIKA_ROUTER_H

#include <stddef.h>

#include "fcgi/route.h"

struct app;
struct req;
struct sink;

enum rt_result { RT_FOUND, RT_NOT_FOUND, RT_BAD_METHOD };

/* Looks up path and method in t. On RT_BAD_METHOD, allow (cap bytes)
 * receives the Allow header value ("GET, HEAD"). */
enum rt_result rt_match(const struct rt_table *t, const char *path, const char *method, const struct route **out,
                        char *allow, size_t cap);

/* Runs one request end to end on an initialised request and sink: route
 * lookup, pre-stream checks, body, handler, finish. Returns the HTTP
 * status sent. */
int rt_dispatch(struct app *app, struct req *r, struct sink *s, const struct route *route);

#endif
