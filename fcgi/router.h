/* router.h: the route table and dispatch of one request.
 *
 * Every route is listed once with its methods and flags; a streaming route
 * and its normal twin are two rows sharing one handler, which picks its
 * behaviour from the sink it is given. */
#ifndef TROIKA_ROUTER_H
#define TROIKA_ROUTER_H

#include <stddef.h>

struct ctx;
struct app;
struct req;
struct sink;

typedef int (*rt_handler)(struct ctx *c);

enum {
    RT_GET = 1,
    RT_POST = 2,
};

enum {
    RT_STREAM = 1,        /* SSE route (subject to STREAMING_ENABLED) */
    RT_LIMITED = 2,       /* counted by the streaming rate limiter */
    RT_BODY_JSON = 4,     /* body read by the router: application/json, max_json_body */
    RT_BODY_OWN = 8,      /* the handler reads the body itself (multipart) */
};

struct route {
    const char *path;
    unsigned methods;
    unsigned flags;
    rt_handler fn;
    const char *name;     /* for logs and metrics: "product-search" */
};

enum rt_result { RT_FOUND, RT_NOT_FOUND, RT_BAD_METHOD };

/* Looks up path and method. On RT_BAD_METHOD, allow (cap bytes) receives
 * the Allow header value ("GET, HEAD"). */
enum rt_result rt_match(const char *path, const char *method, const struct route **out,
                        char *allow, size_t cap);

/* The whole table (for tests and docs). */
const struct route *rt_table(size_t *n);

/* Runs one request end to end on an initialised request and sink: route
 * lookup, pre-stream checks, body, handler, finish. Returns the HTTP
 * status sent. */
int rt_dispatch(struct app *app, struct req *r, struct sink *s, const struct route *route);

#endif
