/* route.h: what a route is. The table itself is the handlers'
 * (handlers/routes.c, h_routes); fcgi/main.c hands it to the process in
 * struct app, and the router (rt_match, rt_dispatch), the rate-limit hook
 * and the metrics (fcgi/ops.c) read it there. Every route is listed once
 * with its methods and flags; a streaming route and its normal twin are two
 * rows sharing one handler, which picks its behaviour from the sink. */
#ifndef TROIKA_ROUTE_H
#define TROIKA_ROUTE_H

#include <stddef.h>

struct ctx;

typedef int (*rt_handler)(struct ctx *c);

enum {
    RT_GET = 1,           /* GET and HEAD */
    RT_POST = 2,
    RT_DELETE = 4,
};

enum {
    RT_STREAM = 1,        /* SSE route (subject to STREAMING_ENABLED) */
    RT_LIMITED = 2,       /* counted by the streaming rate limiter */
    RT_BODY_JSON = 4,     /* body read by the router: application/json, max_json_body */
    RT_BODY_OWN = 8,      /* the handler reads the body itself (multipart) */
};

/* path: literal segments, and `{name}` segments that match any one
 * non-empty segment ("/api/context/files/{id}"); the handler reads the
 * value with rt_param. The first row whose path and method match wins. */
struct route {
    const char *path;
    unsigned methods;
    unsigned flags;
    rt_handler fn;
    const char *name;     /* for logs and metrics: "product-search" */
};

/* A route table: row[0..n), static, read-only. */
struct rt_table {
    const struct route *row;
    size_t n;
};

#endif
