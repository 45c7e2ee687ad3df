/* cors.h: Cross-Origin Resource Sharing (the Fetch standard's CORS
 * protocol) for browser pages on other origins than the API.
 *
 * Who is allowed: an origin listed in cors_allowed_origins (every
 * chatbot; "*" admits any origin, answered with `*`, which browsers
 * refuse for credentialed requests: Troika never asks for credentials),
 * or one a chatbot lists in the database (troika-admin origin add). Such
 * an origin may call the routes that name no chatbot (product search,
 * Aza), and the routes of its own chatbot: a handler that learns the
 * chatbot (a body field, a file's owner) calls cors_chatbot, which takes
 * the permission back for another chatbot's request. Answers to an
 * allowed origin carry Access-Control-Allow-Origin and
 * Access-Control-Expose-Headers (X-Request-Id, X-RateLimit-*,
 * Retry-After); every routed answer carries Vary: Origin.
 *
 * A preflight (OPTIONS with Origin and Access-Control-Request-Method) is
 * answered 204 with the path's methods, the request headers the API
 * reads, and Access-Control-Max-Age (cors_max_age), or 403 FORBIDDEN
 * naming what was refused. OPTIONS without Origin is 204 with Allow. */
#ifndef TROIKA_CORS_H
#define TROIKA_CORS_H

struct app;
struct req;
struct route;
struct sink;

/* How a request's origin was admitted (req.cors). */
enum { CORS_NONE = 0, CORS_CONFIG = 1, CORS_CHATBOT = 2 };

/* The request headers a preflight may ask for, as sent in
 * Access-Control-Allow-Headers. */
#define CORS_ALLOW_HEADERS "Authorization, Content-Type, X-API-Key, X-Request-Id, Last-Event-ID, Cache-Control, Accept"
/* The response headers a page may read besides the safelisted ones. */
#define CORS_EXPOSE_HEADERS "X-Request-Id, X-RateLimit-Limit, X-RateLimit-Remaining, X-RateLimit-Reset, Retry-After"

/* Before a routed request's handler: Vary: Origin, and the origin's
 * permission (config, or some chatbot's) on the sink. */
void cors_request(struct app *app, struct req *r, struct sink *s, const struct route *route);

/* A handler that learned the request's chatbot: an origin admitted only
 * by some chatbot's list keeps its permission when it is this chatbot's. */
void cors_chatbot(struct app *app, struct req *r, struct sink *s, const char *chatbot);

/* An OPTIONS request for a known path whose methods are `allow`; answers
 * and returns the status (204 or 403). */
int cors_preflight(struct app *app, struct req *r, struct sink *s, const struct route *route, const char *allow);

#endif
