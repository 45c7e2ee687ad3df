/* request.h: one FastCGI request as the handlers see it.
 *
 * Everything here lives in the request arena and is valid until the
 * request ends. The body is read on demand with the route's limit enforced
 * while reading (a too-large body is refused before it is read). */
#ifndef TROIKA_REQUEST_H
#define TROIKA_REQUEST_H

#include <stddef.h>
#include <stdint.h>

#include "common/base/arena.h"

struct cfg;
struct FCGX_Request;

struct kv {
    const char *key;
    const char *value;
};

struct req {
    arena_t *ar;
    struct FCGX_Request *fx;       /* NULL in unit tests */
    const struct cfg *cfg;
    char **env;                    /* FastCGI parameters, "NAME=value" */
    const char *method;            /* "GET", "POST", ... */
    const char *path;              /* REQUEST_URI minus query and base_path */
    const char *query;             /* raw query string ("" when none) */
    struct kv *params;             /* decoded query parameters */
    size_t nparams;
    const char *content_type;      /* "" when none */
    long long content_length;      /* -1 when not given */
    const char *remote_addr;
    const char *client_ip;         /* REMOTE_ADDR, or the trusted proxy header */
    char id[65];                   /* request id */
    const char *origin;            /* the Origin header (a browser's page), NULL when none */
    int cors;                      /* how that origin was admitted: CORS_* (fcgi/cors.h) */
    const char *body;              /* after req_read_body */
    size_t body_len;
    int64_t t0_ms;                 /* monotonic start */
};

enum {
    REQ_OK = 0,
    REQ_ETOOBIG = -1,   /* over the limit: 413 */
    REQ_EIO = -2,       /* the client went away while sending */
    REQ_EBAD = -3,      /* malformed (e.g. Content-Length) */
    REQ_ETIMEOUT = -4,  /* the body did not arrive in time: 408 */
};

/* Parses params from the FastCGI environment (`env`, NULL-terminated
 * "NAME=value" strings). Returns REQ_OK or REQ_ETOOBIG when the query
 * string is over max_query_string. */
int req_init(struct req *r, arena_t *ar, const struct cfg *cfg, char **env);

/* A FastCGI parameter (CGI variable) or NULL. */
const char *req_env(const struct req *r, const char *name);
/* The first decoded query parameter `name`, or NULL. */
const char *req_param(const struct req *r, const char *name);

/* Reads the whole body into r->body, at most `max` bytes, within
 * body_timeout_ms; REQ_* codes (REQ_ETIMEOUT: 408). */
int req_read_body(struct req *r, size_t max);

/* Reads up to `room` bytes of the body into buf, never waiting past
 * deadline_ms (monotonic; 0: no deadline): the count (> 0), 0 at the end of
 * the body, REQ_ETIMEOUT or REQ_EIO. A reader that loops over it calls
 * req_read_done after, which clears the connection's receive timeout. */
int req_read(struct req *r, char *buf, size_t room, int64_t deadline_ms);
void req_read_done(struct req *r);

/* FCGX_Finish_r with its lingering close bounded to linger_ms. libfcgi
 * shuts the connection down and reads until the peer closes it, two
 * seconds at a time for as long as bytes keep coming, so a client still
 * dripping a body the worker stopped reading (a 408, a 413) would hold
 * the worker for as long as it drips. Here the response is finished, the
 * peer is read for at most linger_ms (what it sends is dropped; that
 * spares a TCP peer a reset that could cost it the answer), and libfcgi
 * only closes. */
void req_finish(struct FCGX_Request *fx, int linger_ms);

/* Decodes an application/x-www-form-urlencoded string into pairs. A '%'
 * not followed by two hex digits, or one that would decode to NUL, is kept
 * as it is. Borrowed results, valid until the arena is reset. */
int req_parse_query(arena_t *ar, const char *qs, struct kv **out, size_t *n);
/* Percent-decodes s[0..n); plus_space: '+' means ' '. */
char *req_url_decode(arena_t *ar, const char *s, size_t n, int plus_space);

#endif
