/* ops.h: what ties the shared mapping to the request path: attaching it
 * (master, prefork workers, and processes mod_fcgid spawned), the client
 * address, the rate-limit hook rt_dispatch calls on limited routes, and
 * the metrics and scoreboard updates around each request. */
#ifndef TROIKA_OPS_H
#define TROIKA_OPS_H

#include <stddef.h>
#include <stdint.h>

struct app;
struct req;
struct route;
struct sink;

/* Parses the address lists of app->cfg into app, and maps (or re-maps,
 * when the layout changed) app->cfg.shm_path with the regions of the rate
 * limiter, the metrics (a row per route of app->routes) and the
 * scoreboard. 0, or -1 with err. */
int op_attach(struct app *app, char *err, size_t errlen);

/* Sets r->client_ip: REMOTE_ADDR, or the proxy header's client when
 * REMOTE_ADDR is a trusted proxy. */
void op_client_ip(struct app *app, struct req *r);

/* 1 when the route is counted by the rate limiter: every RT_STREAM route
 * and every route flagged RT_LIMITED. */
int op_limited(const struct route *route);

/* The rate-limit check for a limited route, before anything is sent: adds
 * X-RateLimit-Limit/Remaining/Reset to the response, and on refusal
 * answers 429 (Retry-After, SPEC 2.2 body). Returns 0 when admitted,
 * else the status sent (429). */
int op_rate_limit(struct app *app, struct req *r, struct sink *s, const struct route *route);

/* How many limited requests one client may run at once:
 * max_requests_per_client, or half the workers (at least 1) when 0. */
struct cfg;
int op_client_cap(const struct cfg *cfg);

/* Scoreboard and metrics around one request. */
void op_request_begin(struct app *app, const struct req *r, const struct route *route);
/* Counts a request answered without a worker (the master's 503 BUSY). */
void op_request_refused(struct app *app, const struct route *route, int status);
void op_request_end(struct app *app, const struct req *r, const struct sink *s, const struct route *route,
                    int status);

#endif
