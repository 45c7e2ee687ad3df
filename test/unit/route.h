/* route.h: runs a real route end to end in a unit test: the request built
 * from CGI variables and a body (capture.h's libfcgi input), rt_match and
 * rt_dispatch as the worker does, the response captured and parsed by the
 * strict client parser (cap_parse). The app is the caller's to fill (a
 * fake store, config keys); per-worker objects opened on the way
 * (embedder, tokenizer) are closed by rfx_close. */
#ifndef TROIKA_TEST_ROUTE_H
#define TROIKA_TEST_ROUTE_H

#include <signal.h>
#include <stddef.h>

#include "common/base/arena.h"
#include "fcgi/app.h"
#include "fcgi/request.h"
#include "fcgi/sink.h"
#include "fcgi/sse.h"
#include "test/unit/capture.h"

struct rfx {
    arena_t *ar;
    struct app app;
    struct cap cap;
    struct sse_io io;
    struct sink s;
    struct req r;
    struct cap_in in;
    struct cap_parse p;
    int parsed;                 /* p holds a parse (freed by rfx_reset / rfx_close) */
    volatile sig_atomic_t abort;
};

/* Defaults in app.cfg (cfg_defaults), nothing run yet. */
void rfx_open(struct rfx *f);

/* One request: `method` `uri` (path and query), extra CGI variables
 * ("NAME=value", NULL-terminated; may be NULL) and a body (may be NULL).
 * Returns rt_dispatch's status (or the 404/405 of rt_match); a response
 * that is not well-formed fails the calling test. */
int rfx_run(struct rfx *f, const char *method, const char *uri, char **extra_env, const char *body, size_t blen);

/* Ready for another rfx_run with the same app (the output and request go). */
void rfx_reset(struct rfx *f);

/* Frees everything, and closes what the handlers opened on the app. */
void rfx_close(struct rfx *f);

/* The events' names, space-separated, into out (pings left out). */
const char *rfx_names(const struct rfx *f, char *out, size_t cap);

#endif
